//! Reading a paged list (builds, versions) back to a point in time, whatever its order.
//!
//! Neither list documents its order (docs/cloudflare-api.md §3.4, §8-5), and the first page is
//! only "the newest" if the order happens to be newest-first. So the first page's own
//! `created_on` values tell the order: newest-first is read forward until a page reaches past
//! the window's start; oldest-first is read from the last page backwards until it does; a page
//! that tells nothing (one entry, equal times) is read forward to the end. Either way the result
//! is sorted newest first by `created_on` here, and the number of pages is capped, so a Worker
//! with years of builds costs a bounded number of requests.

use std::future::Future;

use jiff::Timestamp;

use crate::cloudflare::client::ResultInfo;
use crate::cloudflare::{ApiError, Page};

/// Page size asked for: a size both lists accept (builds max 200, versions max 100).
pub(crate) const PER_PAGE: u32 = 25;
/// At most this many pages per listing (500 entries).
const MAX_PAGES: u32 = 20;

/// Every entry created at or after `start` (and every entry without a readable `created_on`,
/// which cannot be ruled out), newest first.
pub(crate) async fn since<T, F, Fut>(
    fetch: F,
    start: Timestamp,
    created: impl Fn(&T) -> Option<Timestamp>,
) -> Result<Vec<T>, ApiError>
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = Result<Page<Vec<T>>, ApiError>>,
{
    let first = fetch(1).await?;
    let mut total = total_pages(first.result_info.as_ref());
    let order = order_of(&first.result, &created);
    let reaches_back = |items: &[T]| items.iter().any(|i| created(i).is_some_and(|c| c < start));
    let mut pages_read = 1;
    let mut done = first.result.is_empty() || (order == Order::NewestFirst && reaches_back(&first.result));
    let mut all = first.result;
    match order {
        Order::OldestFirst if total.is_some() && !done => {
            let mut p = total.unwrap_or(1);
            let mut grew_to = p;
            while p > 1 && pages_read < MAX_PAGES {
                let page = fetch(p).await?;
                pages_read += 1;
                grew_to = grew_to.max(total_pages(page.result_info.as_ref()).unwrap_or(grew_to));
                let stop = reaches_back(&page.result);
                all.extend(page.result);
                if stop {
                    break;
                }
                p -= 1;
            }
            // Entries created while we read backwards land on new last pages.
            let mut q = total.unwrap_or(1) + 1;
            while q <= grew_to && pages_read < MAX_PAGES {
                all.extend(fetch(q).await?.result);
                pages_read += 1;
                q += 1;
            }
            done = true;
        }
        _ => {}
    }
    let mut p = 2;
    while !done && pages_read < MAX_PAGES && total.is_none_or(|t| p <= t) {
        let page = fetch(p).await?;
        pages_read += 1;
        total = total_pages(page.result_info.as_ref()).or(total);
        done = page.result.is_empty() || (order == Order::NewestFirst && reaches_back(&page.result));
        all.extend(page.result);
        p += 1;
    }
    all.retain(|i| created(i).is_none_or(|c| c >= start));
    all.sort_by_key(|i| std::cmp::Reverse(created(i)));
    Ok(all)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    NewestFirst,
    OldestFirst,
    Unknown,
}

fn order_of<T>(items: &[T], created: impl Fn(&T) -> Option<Timestamp>) -> Order {
    let (Some(a), Some(b)) = (items.first().and_then(&created), items.last().and_then(&created)) else {
        return Order::Unknown;
    };
    match a.cmp(&b) {
        std::cmp::Ordering::Greater => Order::NewestFirst,
        std::cmp::Ordering::Less => Order::OldestFirst,
        std::cmp::Ordering::Equal => Order::Unknown,
    }
}

/// `total_pages` where the envelope has it (Builds), else from `total_count` (the Workers
/// envelope has no `total_pages`: §1.2).
fn total_pages(info: Option<&ResultInfo>) -> Option<u32> {
    let info = info?;
    let pages = info.total_pages.or_else(|| {
        let per = info.per_page.filter(|p| *p > 0)?;
        Some(info.total_count?.div_ceil(per))
    })?;
    u32::try_from(pages).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Entries are their creation second; `fetch` serves `items` in pages of 3 in the given
    /// order and records which pages were asked for.
    async fn run(items: &[i64], start: i64, workers_envelope: bool) -> (Vec<i64>, Vec<u32>) {
        let asked = Mutex::new(Vec::new());
        let fetch = |p: u32| {
            asked.lock().unwrap().push(p);
            let chunk: Vec<i64> = items.iter().copied().skip((p as usize - 1) * 3).take(3).collect();
            let total = items.len() as u64;
            let info = ResultInfo {
                page: Some(u64::from(p)),
                per_page: Some(3),
                count: Some(chunk.len() as u64),
                total_count: Some(total),
                total_pages: (!workers_envelope).then(|| total.div_ceil(3)),
            };
            async move { Ok(Page { result: chunk, result_info: Some(info) }) }
        };
        let got =
            since(fetch, Timestamp::from_second(start).unwrap(), |s| Timestamp::from_second(*s).ok()).await.unwrap();
        let asked = asked.into_inner().unwrap();
        (got, asked)
    }

    #[tokio::test]
    async fn newest_first_stops_at_the_first_page_that_reaches_past_the_start() {
        let items: Vec<i64> = (1..=12).rev().collect();
        let (got, asked) = run(&items, 8, false).await;
        assert_eq!(got, [12, 11, 10, 9, 8]);
        assert_eq!(asked, [1, 2]);
    }

    #[tokio::test]
    async fn oldest_first_is_read_from_the_last_page_back() {
        let items: Vec<i64> = (1..=12).collect();
        let (got, asked) = run(&items, 8, false).await;
        assert_eq!(got, [12, 11, 10, 9, 8]);
        assert_eq!(asked, [1, 4, 3]);
        let (got, asked) = run(&items, 8, true).await;
        assert_eq!(got, [12, 11, 10, 9, 8], "total_pages derived from total_count");
        assert_eq!(asked, [1, 4, 3]);
    }

    #[tokio::test]
    async fn an_order_the_first_page_cannot_tell_is_read_to_the_end() {
        let (got, asked) = run(&[5, 5, 5, 9, 1, 7], 0, true).await;
        assert_eq!(got, [9, 7, 5, 5, 5, 1]);
        assert_eq!(asked, [1, 2]);
        let (got, _) = run(&[], 0, false).await;
        assert!(got.is_empty());
    }
}

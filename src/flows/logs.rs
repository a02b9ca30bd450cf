//! Following a build's log by cursor without losing or repeating a line.
//!
//! Whether the API returns a fresh cursor on the last page, and whether a cursor can be
//! re-read while the build still runs, is not documented. [`LogCursor`] works either way:
//! it remembers the cursor it last read from and how many lines past it it has printed, so a
//! re-read of the same cursor skips what was already shown.

use std::collections::VecDeque;

use crate::cloudflare::builds::LogPage;

#[derive(Debug, Default)]
pub struct LogCursor {
    cursor: Option<String>,
    seen_since_cursor: usize,
}

impl LogCursor {
    /// The cursor to request next.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Takes a page read from [`LogCursor::cursor`] and returns the lines not seen before.
    pub fn take(&mut self, page: &LogPage) -> Vec<String> {
        let lines = page.lines();
        let fresh: Vec<String> = lines.into_iter().skip(self.seen_since_cursor).map(|l| l.message).collect();
        match page.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(next) if Some(next) != self.cursor.as_deref() => {
                self.cursor = Some(next.to_owned());
                self.seen_since_cursor = 0;
            }
            _ => self.seen_since_cursor += fresh.len(),
        }
        fresh
    }
}

/// Reads up to `max_pages` pages, while the API says more are ready now, handing new lines to
/// `sink`. Generic over the fetch so the paging logic is tested against a model server.
pub(crate) async fn read_pages<E, Fut>(
    mut fetch: impl FnMut(Option<String>) -> Fut,
    cursor: &mut LogCursor,
    max_pages: usize,
    mut sink: impl FnMut(Vec<String>),
) -> Result<(), E>
where
    Fut: std::future::Future<Output = Result<LogPage, E>>,
{
    for _ in 0..max_pages {
        let page = fetch(cursor.cursor().map(str::to_owned)).await?;
        let before = cursor.cursor().map(str::to_owned);
        let fresh = cursor.take(&page);
        // `truncated` with neither new lines nor a new cursor would loop forever.
        let moved = !fresh.is_empty() || before.as_deref() != cursor.cursor();
        sink(fresh);
        if !page.truncated || !moved {
            break;
        }
    }
    Ok(())
}

/// The last lines printed, for the job summary of a failed build.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    const KEEP: usize = 200;

    pub(crate) fn push(&mut self, line: &str) {
        if self.lines.len() == Self::KEEP {
            self.lines.pop_front();
        }
        self.lines.push_back(line.to_owned());
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(cursor: Option<&str>, lines: &[&str], truncated: bool) -> LogPage {
        LogPage {
            cursor: cursor.map(String::from),
            lines: lines.iter().map(|l| vec![json!(1), json!(l)]).collect(),
            truncated,
        }
    }

    #[test]
    fn fresh_cursor_per_page() {
        let mut c = LogCursor::default();
        assert_eq!(c.take(&page(Some("c1"), &["a", "b"], true)), ["a", "b"]);
        assert_eq!(c.cursor(), Some("c1"));
        assert_eq!(c.take(&page(Some("c2"), &["c"], false)), ["c"]);
        assert_eq!(c.take(&page(Some("c2"), &[], false)), Vec::<String>::new());
    }

    #[test]
    fn no_cursor_on_last_page_rereads_without_repeats() {
        let mut c = LogCursor::default();
        assert_eq!(c.take(&page(Some("c1"), &["a", "b"], true)), ["a", "b"]);
        // Last page: no cursor. The next read uses c1 again and gets c, d again plus e.
        assert_eq!(c.take(&page(None, &["c", "d"], false)), ["c", "d"]);
        assert_eq!(c.cursor(), Some("c1"));
        assert_eq!(c.take(&page(None, &["c", "d", "e"], false)), ["e"]);
        // Then the server hands out a cursor again: it points after what it returned.
        assert_eq!(c.take(&page(Some("c3"), &["c", "d", "e", "f"], false)), ["f"]);
        assert_eq!(c.take(&page(Some("c4"), &["g"], false)), ["g"]);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let mut t = Tail::default();
        for i in 0..250 {
            t.push(&i.to_string());
        }
        let l = t.lines();
        assert_eq!(l.len(), 200);
        assert_eq!(l[0], "50");
        assert_eq!(l[199], "249");
    }
}

/// Property: whatever the page sizes, release schedule, cursor behaviour and lost responses,
/// the lines handed out are exactly the server's lines, in order, once each.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// A model of the logs endpoint: `released` lines are readable; a cursor is an offset.
    struct Server {
        lines: Vec<String>,
        released: usize,
        page: usize,
        /// Per response: include a cursor on the last page? (The API does not say.)
        cursor_on_last: Vec<bool>,
        /// Per request: is the response lost (the client sees an error and retries later)?
        lost: Vec<bool>,
        n: usize,
    }

    impl Server {
        fn get(&mut self, cursor: Option<String>) -> Result<LogPage, &'static str> {
            let i = self.n;
            self.n += 1;
            let start: usize = cursor.map_or(0, |c| c.trim_start_matches('o').parse().unwrap());
            let end = (start + self.page).min(self.released);
            let truncated = end < self.released;
            let with_cursor = truncated || self.cursor_on_last[i % self.cursor_on_last.len()];
            let page = LogPage {
                cursor: with_cursor.then(|| format!("o{end}")),
                lines: self.lines[start..end]
                    .iter()
                    .enumerate()
                    .map(|(k, l)| vec![json!(1_700_000_000 + start + k), json!(l)])
                    .collect(),
                truncated,
            };
            if self.lost[i % self.lost.len()] { Err("connection reset") } else { Ok(page) }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
        #[test]
        fn every_line_once_in_order(
            total in 0usize..120,
            page in 1usize..17,
            releases in proptest::collection::vec(0usize..40, 1..12),
            cursor_on_last in proptest::collection::vec(any::<bool>(), 1..6),
            lost in proptest::collection::vec(proptest::bool::weighted(0.2), 1..7),
            live_pages in 1usize..4,
        ) {
            let lines: Vec<String> = (0..total).map(|i| format!("line {i}")).collect();
            // Never lose every response, or the drain below could not finish.
            let mut lost = lost;
            lost.push(false);
            let mut server = Server { lines: lines.clone(), released: 0, page, cursor_on_last, lost, n: 0 };
            let server = std::cell::RefCell::new(&mut server);
            let mut cursor = LogCursor::default();
            let mut printed: Vec<String> = Vec::new();
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                // Live polls while lines are being released.
                for r in &releases {
                    let released = (server.borrow().released + r).min(total);
                    server.borrow_mut().released = released;
                    let _ = read_pages(|c| std::future::ready(server.borrow_mut().get(c)), &mut cursor, live_pages, |f| printed.extend(f)).await;
                }
                // The build stopped: everything is released; drain, retrying lost responses.
                server.borrow_mut().released = total;
                // Each attempt stops at its first lost response; with one line a page and up
                // to six of seven responses lost, a line can take seven attempts.
                for _ in 0..(8 * (total + 1) + 50) {
                    let n_before = printed.len();
                    let ok = read_pages(|c| std::future::ready(server.borrow_mut().get(c)), &mut cursor, usize::MAX, |f| printed.extend(f)).await.is_ok();
                    if ok && printed.len() == n_before && printed.len() == total {
                        break;
                    }
                }
            });
            prop_assert_eq!(printed, lines);
        }
    }
}

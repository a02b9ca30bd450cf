//! One retry policy for every HTTP client of the tool (Cloudflare's and GitHub's), so that they
//! cannot drift apart on what a server's `Retry-After` means or on when to give up.
//!
//! It knows no API. A client says which of its errors are worth another attempt (through
//! [`Transient`], on top of the statuses every HTTP server means the same way), what wait the
//! server asked for, and how many attempts its own callers can afford ([`Backoff`]). API-specific
//! rate-limit signals (Cloudflare's `Ratelimit` budget, GitHub's `x-ratelimit-reset`) stay with
//! their client, which folds them into the error's wait or watches them through the `on_retry`
//! hook of [`Policy::run`].

use std::future::Future;
use std::time::{Duration, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

use crate::pace::Pace;

/// The statuses that mean "not now" rather than "no" (RFC 9110 section 15: request timeout, too many
/// requests, and the server's own failures), so a request that may be repeated is worth sending
/// again after them. A client adds what its API signals otherwise (an error code in a 200, a
/// rate limit dressed as 403).
pub(crate) fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// What the policy needs to know of a client's error.
pub(crate) trait Transient {
    /// Worth another attempt of a request that may be repeated: a transport failure, a
    /// [`transient_status`], or what the API adds.
    fn is_transient(&self) -> bool;
    /// The wait the server asked for; it replaces the planned one.
    fn retry_after(&self) -> Option<Duration>;
}

/// Jittered exponential backoff: `first`, doubling up to `cap`, at most `retries` times after the
/// first attempt. Each client picks these for how long its callers can afford to wait: the
/// schedule's shape is the policy, its length is the caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub first: Duration,
    pub cap: Duration,
    pub retries: usize,
}

/// A [`Backoff`] run at a [`Pace`] and bounded by a deadline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub backoff: Backoff,
    pub pace: Pace,
    /// No wait is planned past this instant: the attempt after it could not be used anyway.
    pub deadline: Option<Instant>,
}

impl Policy {
    /// `attempt` until it succeeds, fails for good, or the schedule or the deadline runs out;
    /// `on_retry` is told of each wait before it starts.
    pub(crate) async fn run<T, E, F, Fut>(&self, attempt: F, on_retry: impl Fn(&E, Duration)) -> Result<T, E>
    where
        E: Transient,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let schedule = ExponentialBuilder::default()
            .with_min_delay(self.pace.of(self.backoff.first))
            .with_max_delay(self.pace.of(self.backoff.cap))
            .with_max_times(self.backoff.retries)
            .with_jitter();
        attempt
            .retry(schedule)
            .sleep(tokio::time::sleep)
            .when(E::is_transient)
            .adjust(|err, planned| {
                let wait = self.wait(err, planned, Instant::now())?;
                on_retry(err, wait);
                Some(wait)
            })
            .await
    }

    /// The wait before the next attempt, or `None` to give up: the schedule is spent, or the
    /// wait would end at or past the deadline.
    fn wait<E: Transient>(&self, err: &E, planned: Option<Duration>, now: Instant) -> Option<Duration> {
        // A server that keeps answering with `Retry-After` still gets no more attempts than
        // the schedule allows.
        let planned = planned?;
        // The server's clock: honoured as given, never scaled by the pace.
        let wait = err.retry_after().unwrap_or(planned);
        match self.deadline {
            Some(deadline) if now + wait >= deadline => None,
            _ => Some(wait),
        }
    }
}

/// The `Retry-After` of an answer, if it has a usable one (see [`parse_retry_after`]).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, now))
}

/// `Retry-After` as RFC 9110 section 10.2.3 allows it: delay-seconds, or an HTTP date (a proxy or
/// load balancer in between may send one whatever the API documents). A date already past
/// means "now". Capped at a day, as anything longer is a broken header rather than advice;
/// a client whose callers cannot wait that long caps it lower.
pub(crate) fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    const CAP: Duration = Duration::from_secs(86_400);
    let v = v.trim();
    // Fractions are not in the grammar, but refusing `0.5` would turn a server's explicit
    // advice into our own guess.
    if let Ok(s) = v.parse::<f64>() {
        return (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s.min(CAP.as_secs_f64())));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO).min(CAP))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn transient_statuses() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(transient_status(s), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 409, 422] {
            assert!(!transient_status(s), "{s}");
        }
    }

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0.5 ", now), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("1e9", now), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn retry_after_http_date() {
        // 2015-10-21T07:28:00Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        // In the past: retry now, not never.
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Some(Duration::ZERO));
        // The obsolete forms RFC 9110 still asks recipients to accept.
        assert_eq!(parse_retry_after("Wednesday, 21-Oct-15 07:28:10 GMT", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("Wed Oct 21 07:28:05 2015", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_retry_after("Fri, 23 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn retry_after_from_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:09 GMT".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(9)));
        h.insert(RETRY_AFTER, "12".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(12)));
    }

    #[derive(Debug)]
    struct Failure {
        transient: bool,
        retry_after: Option<Duration>,
    }

    impl Transient for Failure {
        fn is_transient(&self) -> bool {
            self.transient
        }
        fn retry_after(&self) -> Option<Duration> {
            self.retry_after
        }
    }

    const QUICK: Backoff = Backoff { first: Duration::from_millis(1), cap: Duration::from_millis(4), retries: 3 };

    fn policy(deadline: Option<Instant>) -> Policy {
        Policy { backoff: QUICK, pace: Pace::default(), deadline }
    }

    #[test]
    fn the_servers_wait_replaces_the_planned_one_within_the_deadline() {
        let now = Instant::now();
        let asked = Failure { transient: true, retry_after: Some(Duration::from_secs(7)) };
        let plain = Failure { transient: true, retry_after: None };
        let p = policy(None);
        assert_eq!(p.wait(&asked, Some(Duration::from_millis(2)), now), Some(Duration::from_secs(7)));
        assert_eq!(p.wait(&plain, Some(Duration::from_millis(2)), now), Some(Duration::from_millis(2)));
        assert_eq!(p.wait(&asked, None, now), None, "the schedule is spent, whatever the server says");
        let p = policy(Some(now + Duration::from_secs(7)));
        assert_eq!(p.wait(&asked, Some(Duration::from_millis(2)), now), None, "ends at the deadline");
        assert_eq!(p.wait(&plain, Some(Duration::from_millis(2)), now), Some(Duration::from_millis(2)));
    }

    #[tokio::test]
    async fn transient_failures_are_retried_as_often_as_the_schedule_allows() {
        let calls = Cell::new(0);
        let waits = Cell::new(0);
        let result: Result<(), Failure> = policy(None)
            .run(
                || async {
                    calls.set(calls.get() + 1);
                    Err(Failure { transient: true, retry_after: None })
                },
                |_, _| waits.set(waits.get() + 1),
            )
            .await;
        assert!(result.is_err());
        assert_eq!((calls.get(), waits.get()), (4, 3), "one attempt and three retries");

        calls.set(0);
        let result: Result<(), Failure> = policy(None)
            .run(
                || async {
                    calls.set(calls.get() + 1);
                    Err(Failure { transient: false, retry_after: None })
                },
                |_, _| {},
            )
            .await;
        assert!(result.is_err());
        assert_eq!(calls.get(), 1, "a final failure is not sent again");

        calls.set(0);
        let result = policy(None)
            .run(
                || async {
                    calls.set(calls.get() + 1);
                    if calls.get() < 3 { Err(Failure { transient: true, retry_after: None }) } else { Ok(calls.get()) }
                },
                |_, _| {},
            )
            .await;
        assert_eq!(result.unwrap(), 3);
    }
}

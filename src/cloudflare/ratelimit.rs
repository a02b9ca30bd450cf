//! Cloudflare's rate limit as its headers describe it, so the client slows down *before* the
//! budget is spent rather than after.
//!
//! The limit is 1200 requests per 5 minutes per user, shared by every job using the token, and
//! exceeding it blocks every call for 5 minutes (429, code 971): one job's overrun stops all of
//! them, so the only acceptable number of lockouts is zero. Every answer carries
//! `Ratelimit: "default";r=<remaining>;t=<seconds to reset>` and
//! `Ratelimit-Policy: "…";q=<quota>;w=<window seconds>` (docs/cloudflare-api.md §1.6). `r` is the
//! budget left for *all* jobs, so the drop in `r` between two of our answers measures how fast
//! everyone together is spending it: a job that scales its own cadence by the shortfall slows
//! down in proportion with every other job doing the same, without knowing how many there are.

use std::time::Duration;

use tokio::time::Instant;

/// What one answer's headers said.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Reading {
    pub remaining: u64,
    pub reset: Duration,
    pub quota: Option<u64>,
}

/// Parses `Ratelimit` (and, if present, `Ratelimit-Policy`). Each is an RFC 9651 list of items
/// (docs/cloudflare-api.md Correction 12): every item of `Ratelimit` is read and the tightest,
/// the one with the least left, wins (on a tie, the one that resets later). Its quota is the
/// policy item of the same name; the documented examples name the two headers' items differently
/// (§1.6), so a policy of one item is taken whatever its name.
pub(crate) fn parse(ratelimit: &str, policy: Option<&str>) -> Option<Reading> {
    let (name, remaining, reset) = items(ratelimit)
        .into_iter()
        .filter_map(|(name, p)| Some((name, param(&p, "r")?, param(&p, "t")?)))
        .min_by_key(|(_, r, t)| (*r, std::cmp::Reverse(*t)))?;
    let quota = policy.and_then(|p| {
        let items = items(p);
        let named = items.iter().find(|(n, _)| name.is_some() && *n == name).and_then(|(_, p)| param(p, "q"));
        named.or_else(|| match items.as_slice() {
            [(_, only)] => param(only, "q"),
            _ => None,
        })
    });
    Some(Reading { remaining, reset: Duration::from_secs(reset), quota })
}

/// The items of a structured-field list, each with its name (a string or token) and
/// parameters; none when the header is not a valid list.
fn items(header: &str) -> Vec<(Option<String>, sfv::Parameters)> {
    let Ok(list) = sfv::Parser::new(header).parse::<sfv::List>() else {
        return Vec::new();
    };
    list.into_iter()
        .filter_map(|entry| match entry {
            sfv::ListEntry::Item(item) => {
                let name = match &item.bare_item {
                    sfv::BareItem::String(s) => Some(s.as_str().to_owned()),
                    sfv::BareItem::Token(t) => Some(t.as_str().to_owned()),
                    _ => None,
                };
                Some((name, item.params))
            }
            sfv::ListEntry::InnerList(_) => None,
        })
        .collect()
}

/// A non-negative integer parameter.
fn param(params: &sfv::Parameters, key: &str) -> Option<u64> {
    let key = sfv::KeyRef::from_str(key).ok()?;
    params.get(key)?.as_integer().and_then(|i| u64::try_from(i64::from(i)).ok())
}

/// Share of the remaining budget we plan to use before the reset; the rest is slack for
/// requests already in flight and estimates that lag.
const TARGET: f64 = 0.7;
/// At or below this share of the quota left, nothing is sent until the window resets…
const RESERVE: f64 = 0.05;
/// …nor when what is left would last everyone less than this at the rate they spend it: the
/// other jobs' requests already in flight land before our next reading can tell us.
const HORIZON_SECS: f64 = 1.0;
/// Never slow the cadence by more than this (a job must still notice its build finish).
const MAX_PRESSURE: f64 = 60.0;

#[derive(Debug, Default)]
pub(crate) struct Budget {
    last: Option<(Instant, Reading)>,
    /// Requests per second spent by everyone on this token, smoothed.
    rate: Option<f64>,
    locked_until: Option<Instant>,
}

impl Budget {
    pub(crate) fn observe(&mut self, now: Instant, r: Reading) {
        if let Some((at, prev)) = self.last {
            let dt = now.saturating_duration_since(at).as_secs_f64();
            // A higher `remaining` means a new window: the old rate says nothing about it.
            if r.remaining > prev.remaining {
                self.rate = None;
            } else if dt >= 0.05 {
                let sample = (prev.remaining - r.remaining) as f64 / dt;
                self.rate = Some(self.rate.map_or(sample, |old| 0.5 * old + 0.5 * sample));
            }
        }
        self.last = Some((now, r));
    }

    pub(crate) fn lock_until(&mut self, until: Instant) {
        self.locked_until = Some(self.locked_until.map_or(until, |u| u.max(until)));
    }

    /// How many times slower than its own cadence a poller should go so that, if every job
    /// does the same, the budget lasts until the window resets. 1 when there is no reading.
    pub(crate) fn pressure(&self, now: Instant) -> f64 {
        let (Some((at, r)), Some(rate)) = (self.last, self.rate) else {
            return 1.0;
        };
        let reset = r.reset.saturating_sub(now.saturating_duration_since(at)).as_secs_f64();
        if reset <= 0.0 {
            return 1.0;
        }
        let projected = rate * reset;
        let allowed = (r.remaining as f64 * TARGET).max(1.0);
        (projected / allowed).clamp(1.0, MAX_PRESSURE)
    }

    pub(crate) fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|u| u > now)
    }

    /// When the next request may go: after a lockout, or after the reset when what is left is
    /// the reserve. `None`: now.
    pub(crate) fn hold_until(&self, now: Instant) -> Option<Instant> {
        if let Some(u) = self.locked_until.filter(|u| *u > now) {
            return Some(u);
        }
        let (at, r) = self.last?;
        let quota = r.quota.unwrap_or(1200) as f64;
        let in_flight = self.rate.unwrap_or(0.0) * HORIZON_SECS;
        if (r.remaining as f64) > (quota * RESERVE).max(in_flight).max(1.0) {
            return None;
        }
        Some(at + r.reset).filter(|u| *u > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(remaining: u64, reset: u64) -> Reading {
        Reading { remaining, reset: Duration::from_secs(reset), quota: Some(1200) }
    }

    #[test]
    fn parses_the_contract_examples() {
        assert_eq!(
            parse("\"default\";r=50;t=30", Some("\"burst\";q=100;w=60")),
            Some(Reading { remaining: 50, reset: Duration::from_secs(30), quota: Some(100) })
        );
        assert_eq!(parse("\"default\";r=7; t=1", None).map(|r| r.remaining), Some(7));
        assert_eq!(parse("default;r=7;t=1", None).map(|r| r.remaining), Some(7), "a token name");
        assert_eq!(parse("\"default\";t=30", None), None, "no remaining, no reading");
        assert_eq!(parse("garbage", None), None);
        assert_eq!(parse("\"default\";r=-1;t=3", None), None);
    }

    /// Correction 12: lists of items; the tightest wins, with its own policy's quota.
    #[test]
    fn reads_every_item_and_keeps_the_tightest() {
        assert_eq!(
            parse(
                "\"hour\";r=9000;t=3000, \"default\";r=50;t=30, \"burst\";r=50;t=10",
                Some("\"hour\";q=10000;w=3600, \"default\";q=1200;w=300, \"burst\";q=100;w=60")
            ),
            Some(Reading { remaining: 50, reset: Duration::from_secs(30), quota: Some(1200) }),
            "least left; on a tie the later reset"
        );
        assert_eq!(
            parse("\"a\";r=5;t=1, \"b\";r=9;t=1", Some("\"x\";q=10;w=1, \"y\";q=20;w=1")).map(|r| r.quota),
            Some(None),
            "no policy item of the name among several: no quota"
        );
        assert_eq!(
            parse("\"a\";t=1, \"b\";r=9;t=2", None).map(|r| r.remaining),
            Some(9),
            "an item without r is skipped"
        );
        assert_eq!(parse("\"a\";r=1;t=1,", None), None, "not a valid list");
    }

    #[test]
    fn pressure_grows_when_everyone_together_would_spend_the_budget_before_the_reset() {
        let t0 = Instant::now();
        let mut b = Budget::default();
        assert!((b.pressure(t0) - 1.0).abs() < f64::EPSILON);
        b.observe(t0, reading(1100, 200));
        b.observe(t0 + Duration::from_secs(1), reading(1000, 199));
        // 100 req/s for 199 s is 19 900 against 0.7 × 1000 = 700: 28.4 times slower.
        assert!((b.pressure(t0 + Duration::from_secs(1)) - 19_900.0 / 700.0).abs() < 1e-6);
        b.observe(t0 + Duration::from_secs(2), reading(100, 198));
        assert!((b.pressure(t0 + Duration::from_secs(2)) - MAX_PRESSURE).abs() < 1e-9, "capped");
        let mut calm = Budget::default();
        calm.observe(t0, reading(1100, 200));
        calm.observe(t0 + Duration::from_secs(10), reading(1099, 190));
        assert!((calm.pressure(t0 + Duration::from_secs(10)) - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn a_new_window_forgets_the_old_rate() {
        let t0 = Instant::now();
        let mut b = Budget::default();
        b.observe(t0, reading(500, 2));
        b.observe(t0 + Duration::from_secs(1), reading(100, 1));
        b.observe(t0 + Duration::from_secs(2), reading(1199, 300));
        assert!((b.pressure(t0 + Duration::from_secs(2)) - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn holds_at_the_reserve_and_through_a_lockout() {
        let t0 = Instant::now();
        let mut b = Budget::default();
        b.observe(t0, reading(61, 10));
        assert_eq!(b.hold_until(t0), None);
        b.observe(t0, reading(60, 10));
        assert_eq!(b.hold_until(t0), Some(t0 + Duration::from_secs(10)));
        assert_eq!(b.hold_until(t0 + Duration::from_secs(11)), None);
        b.lock_until(t0 + Duration::from_secs(300));
        assert_eq!(b.hold_until(t0 + Duration::from_secs(11)), Some(t0 + Duration::from_secs(300)));
    }
}

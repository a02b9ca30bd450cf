//! The value rules every input is held to, each in one place: a Worker name means the same
//! thing to `build` as to `deploy`.
//!
//! Each rule answers "is this acceptable" (and the normalised value); the caller names the
//! input and the fix, and never echoes the value.

use std::time::Duration;

use crate::cloudflare::{ScriptTag, WorkerName};

/// The toolkit's `getBooleanInput` rule (YAML 1.2 core schema): exactly these six spellings.
pub(crate) fn boolean(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `90s`, `30m`, `1h30m`, `500ms`, or a bare number of seconds; between 1 ms and 24 h.
pub(crate) fn duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let total = if let Ok(secs) = s.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let mut total = Duration::ZERO;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let n: u32 = rest[..digits].parse().ok()?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = match &rest[..unit_len] {
                "ms" => Duration::from_millis(1),
                "s" => Duration::from_secs(1),
                "m" => Duration::from_secs(60),
                "h" => Duration::from_secs(3600),
                _ => return None,
            };
            total = total.checked_add(unit.checked_mul(n)?)?;
            rest = &rest[unit_len..];
        }
        total
    };
    Some(total).filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400))
}

/// A Worker name as Cloudflare allows it; the id types own the rule.
pub(crate) fn worker_name(s: &str) -> bool {
    WorkerName::is_valid(s)
}

/// A script tag (Builds' `external_script_id`): 32 hexadecimal characters.
pub(crate) fn tag(s: &str) -> bool {
    ScriptTag::is_valid(s)
}

/// The canonical hyphenated UUID form.
pub fn uuid(s: &str) -> bool {
    crate::cloudflare::ids::is_uuid(s)
}

/// A commit hash, full or abbreviated: 7 to 64 hexadecimal characters (SHA-1 or SHA-256).
pub(crate) fn commit(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A branch name: what Git accepts is wide, so only what can never be one is refused.
pub(crate) fn branch(s: &str) -> bool {
    s.len() <= 255 && !s.chars().any(char::is_control)
}

/// A Cloudflare account id: 32 hexadecimal characters.
pub(crate) fn account_id(s: &str) -> bool {
    tag(s)
}

/// A calendar date written `YYYY-MM-DD` that exists (`2026-02-31` does not).
pub(crate) fn date(s: &str) -> bool {
    s.len() == 10 && jiff::civil::Date::strptime("%Y-%m-%d", s).is_ok()
}

/// A compatibility date after today everywhere on Earth: the runtime refuses a date in the
/// future (docs/cloudflare-api.md Correction 16), but which clock it compares with is a guess
/// (docs/api-assumptions.md). So the date is measured against the earliest time zone (UTC+14):
/// today's local date in Auckland or Kiritimati, early in their morning, is refused by no check
/// here that Cloudflare might accept, and the simulator (UTC) stays the strict one.
pub(crate) fn date_in_future(s: &str) -> bool {
    date_after_everywhere(s, jiff::Timestamp::now())
}

fn date_after_everywhere(s: &str, now: jiff::Timestamp) -> bool {
    let earliest = jiff::tz::Offset::constant(14);
    let today_somewhere = earliest.to_datetime(now).date();
    jiff::civil::Date::strptime("%Y-%m-%d", s).is_ok_and(|d| d > today_somewhere)
}

/// A percentage as the deployments API takes it: above 0, at most 100, two decimals at most.
pub(crate) fn percentage(s: &str) -> Option<f64> {
    let s = s.trim().trim_end_matches('%');
    let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
    let p: f64 = s.parse().ok()?;
    (p.is_finite() && p > 0.0 && p <= 100.0 && decimals <= 2 && !s.starts_with('+')).then_some(p)
}

/// Where a token may be sent: https anywhere; plain http only to this machine (127.0.0.0/8,
/// `::1`, `localhost`), where the simulator runs. A token sent over plain http elsewhere is
/// readable on the way. Every API base URL (Cloudflare's, GitHub's) is held to this one rule.
pub(crate) fn https_or_loopback(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => crate::pace::is_loopback(url),
        _ => false,
    }
}

/// Why an API base URL is refused, if it is: [`https_or_loopback`], and a path.
pub(crate) fn api_url(url: &str) -> Result<reqwest::Url, &'static str> {
    let parsed =
        reqwest::Url::parse(url).map_err(|_| "is not a URL; the default is https://api.cloudflare.com/client/v4")?;
    if !https_or_loopback(&parsed) {
        return Err(if parsed.scheme() == "http" {
            "must use https (plain http is accepted only for 127.0.0.1, ::1 or localhost)"
        } else {
            "must be an https URL"
        });
    }
    // The common paste is the host alone; every route would then answer 404 "No route".
    if parsed.path().trim_end_matches('/').is_empty() {
        return Err(
            "has no path: Cloudflare's API base ends in `/client/v4` (https://api.cloudflare.com/client/v4; the simulator prints its own)",
        );
    }
    Ok(parsed)
}

/// The closest of `known` to a misspelt `given`, when one is close enough to be a typo.
pub(crate) fn closest<'a>(given: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (given.chars().count() / 3).clamp(1, 3);
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(given, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_date_is_in_the_future_only_once_it_is_tomorrow_everywhere() {
        // 2026-12-05 11:00 UTC is 2026-12-06 01:00 at UTC+14.
        let now: jiff::Timestamp = "2026-12-05T11:00:00Z".parse().unwrap();
        assert!(!super::date_after_everywhere("2026-12-05", now));
        assert!(!super::date_after_everywhere("2026-12-06", now), "today in Kiritimati");
        assert!(super::date_after_everywhere("2026-12-07", now));
        // 09:00 UTC is 23:00 at UTC+14, still the 5th there.
        let early: jiff::Timestamp = "2026-12-05T09:00:00Z".parse().unwrap();
        assert!(super::date_after_everywhere("2026-12-06", early));
    }
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(duration("250ms"), Some(Duration::from_millis(250)));
        for bad in ["", "0", "0s", "m", "5x", "1.5h", "25h", "-1s", "99999999999999999999s", "90000"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_must_exist() {
        for good in ["2026-11-01", "2024-02-29", "2026-12-31"] {
            assert!(date(good), "{good}");
        }
        for bad in [
            "2026-02-31",
            "2025-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "20261101",
            "2026-11-01T00:00:00Z",
            "yesterday",
            "",
        ] {
            assert!(!date(bad), "{bad}");
        }
    }

    #[test]
    fn names_tags_ids() {
        assert!(worker_name("my-worker") && worker_name("_x") && worker_name("a1"));
        for bad in ["", "My-Worker", "-x", "a b", "a.b", &"a".repeat(64)] {
            assert!(!worker_name(bad), "{bad}");
        }
        assert!(tag("0123456789abcdefABCDEF0123456789"));
        assert!(!tag("0123456789abcdef"));
        assert!(uuid("0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10"));
        assert!(!uuid("0f8b3f2e6f1c4a599d652f2c1c7f3a10"));
        assert!(!uuid("0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a1g"));
        assert!(commit("abc1234") && !commit("abc123") && !commit("xyz1234"));
    }

    #[test]
    fn percentages() {
        assert_eq!(percentage("10"), Some(10.0));
        assert_eq!(percentage("10%"), Some(10.0));
        assert_eq!(percentage("0.01"), Some(0.01));
        for bad in ["0", "101", "-5", "x", "NaN", "inf", "1.001", "+5"] {
            assert_eq!(percentage(bad), None, "{bad}");
        }
    }

    #[test]
    fn https_anywhere_plain_http_only_to_this_machine() {
        let ok = |u: &str| https_or_loopback(&reqwest::Url::parse(u).unwrap());
        for yes in [
            "https://api.github.com",
            "https://10.0.0.1/x",
            "http://127.0.0.1:8787/client/v4",
            "http://127.255.0.9/",
            "http://[::1]:1/x",
            "http://localhost/x",
            "http://LocalHost:3000/",
        ] {
            assert!(ok(yes), "{yes}");
        }
        for no in [
            "http://api.github.com",
            "http://10.0.0.1/x",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost.example.com/",
            "http://0.0.0.0/",
            "ftp://127.0.0.1/x",
            "ws://localhost/x",
            "file:///etc/passwd",
        ] {
            assert!(!ok(no), "{no}");
        }
    }

    #[test]
    fn api_urls() {
        assert!(api_url("https://api.cloudflare.com/client/v4").is_ok());
        for ok in ["http://127.0.0.1:8787/client/v4", "http://[::1]:1/x", "http://LOCALHOST/x", "http://127.8.0.1/v4"] {
            assert!(api_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://example.com/client/v4", "ftp://127.0.0.1/x", "nonsense", "http://10.0.0.1/x"] {
            assert!(api_url(bad).is_err(), "{bad}");
        }
        for no_path in ["https://api.cloudflare.com", "https://api.cloudflare.com/", "http://127.0.0.1:8787"] {
            assert!(api_url(no_path).unwrap_err().contains("/client/v4"), "{no_path}");
        }
    }

    #[test]
    fn suggestions_for_typos_only() {
        let known = ["worker", "branch", "commit", "timeout"];
        assert_eq!(closest("wroker", known), Some("worker"));
        assert_eq!(closest("brnch", known), Some("branch"));
        assert_eq!(closest("timout", known), Some("timeout"));
        assert_eq!(closest("zzzzzzzz", known), None);
    }
}

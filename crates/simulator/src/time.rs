//! Dates as the simulated API writes and checks them, through `jiff` rather than the client's
//! hand-written calendar, so a calendar bug in one cannot hide behind the same bug in the other.

use std::time::SystemTime;

use jiff::Timestamp;
use jiff::civil::Date;

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: microseconds and `Z`, as the Builds API writes timestamps
/// (docs/cloudflare-api.md §3); the benchmarks parse this exact shape.
pub fn rfc3339(t: SystemTime) -> String {
    // Before 1970 or past 9999 cannot come from a clock the simulator runs on.
    let ts = Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH);
    format!("{ts:.6}")
}

pub fn now() -> String {
    rfc3339(SystemTime::now())
}

/// An HTTP date (RFC 9110 section 5.6.7, `Sun, 06 Nov 1994 08:49:37 GMT`) `secs` seconds after `t`,
/// counted from the next whole second: the format has no fractions, and rounding down would
/// make the wait a client reads from it shorter than `secs`.
pub fn http_date_after(t: SystemTime, secs: u64) -> String {
    let ts = Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH);
    let whole = ts
        .as_second()
        .saturating_add(i64::from(ts.subsec_nanosecond() > 0))
        .saturating_add(i64::try_from(secs).unwrap_or(i64::MAX));
    let at = Timestamp::from_second(whole).unwrap_or(ts);
    jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&at).unwrap_or_default()
}

/// A `compatibility_date`: exactly `YYYY-MM-DD`, and a day that exists (2026-02-31 does not).
/// The shape is checked by hand first because jiff's parser also takes ISO forms
/// (`20260201`, `+002026-02-01`) that the API's `YYYY-MM-DD` does not name.
pub fn valid_compatibility_date(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (s[0..4].parse::<i16>(), s[5..7].parse::<i8>(), s[8..10].parse::<i8>()) else {
        return false;
    };
    Date::new(y, m, d).is_ok()
}

/// A valid date after today in UTC (see [`valid_compatibility_date`] for the shape).
pub fn compatibility_date_in_future(s: &str) -> bool {
    let today = jiff::tz::Offset::UTC.to_datetime(Timestamp::now()).date();
    valid_compatibility_date(s) && s.parse::<Date>().is_ok_and(|d| d > today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats_with_microseconds_and_z() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_nanos(951_782_400_123_456_789)), "2000-02-29T00:00:00.123456Z");
    }

    #[test]
    fn http_dates_round_up_to_whole_seconds() {
        // 2015-10-21T07:28:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(http_date_after(t, 30), "Wed, 21 Oct 2015 07:28:30 GMT");
        assert_eq!(http_date_after(t + Duration::from_millis(1), 30), "Wed, 21 Oct 2015 07:28:31 GMT");
    }

    #[test]
    fn compatibility_dates() {
        for ok in ["2026-11-01", "2024-02-29", "2000-02-29"] {
            assert!(valid_compatibility_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-31",
            "2025-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "20261101",
            "soon",
            "+02026-11-01",
            "2026-11-01T00:00:00Z",
            "2026/11/01",
            "",
        ] {
            assert!(!valid_compatibility_date(bad), "{bad}");
        }
    }
}

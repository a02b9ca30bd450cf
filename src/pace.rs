//! How fast the tool's clocks run: polling intervals, backoff and Retry-After waits.
//!
//! Production uses real seconds. Tests and the demo run builds that last seconds, not minutes,
//! so they set `WORKERS_CI_TIME_SCALE` (e.g. `0.05`) and every *wait* the client chooses is
//! scaled, and so are request timeouts (floored at half a second). Deadlines (`timeout`) and
//! the server's `Retry-After` are never scaled: they are the user's and Cloudflare's clocks.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pace {
    scale: f64,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { scale: 1.0 }
    }
}

impl Pace {
    pub(crate) const ENV: &'static str = "WORKERS_CI_TIME_SCALE";

    pub(crate) fn new(scale: f64) -> Self {
        Pace { scale: if scale.is_finite() && scale > 0.0 { scale.min(1.0) } else { 1.0 } }
    }

    /// Reads the scale from the environment; anything unparsable means real time.
    pub(crate) fn from_env() -> Self {
        std::env::var(Self::ENV).ok().and_then(|v| v.trim().parse().ok()).map_or_else(Pace::default, Pace::new)
    }

    /// The scale from the environment, honoured only against an API on this machine (the
    /// simulator). A variable left set in a CI environment must not make the tool poll the
    /// real API faster than its rate limit allows.
    pub(crate) fn from_env_for(api_url: &str) -> Self {
        Self::from_env().only_for_loopback(api_url)
    }

    /// This pace if `api_url` is on this machine, real time otherwise (or if it is no URL).
    pub(crate) fn only_for_loopback(self, api_url: &str) -> Self {
        match reqwest::Url::parse(api_url) {
            Ok(url) if is_loopback(&url) => self,
            _ => Pace::default(),
        }
    }

    /// The real duration for a nominal one.
    pub(crate) fn of(self, nominal: Duration) -> Duration {
        nominal.mul_f64(self.scale)
    }

    #[cfg(test)]
    pub(crate) fn scale(self) -> f64 {
        self.scale
    }
}

/// 127.0.0.0/8, `::1` or `localhost`: where the simulator runs.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Spreads `d` by ±`frac` so that forty jobs started by one push do not poll in lockstep.
/// Needs no cryptographic quality: fastrand's per-thread generator is seeded once.
pub(crate) fn jitter(d: Duration, frac: f64) -> Duration {
    d.mul_f64(1.0 + frac * (2.0 * fastrand::f64() - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_is_clamped_to_at_most_real_time() {
        assert_eq!(Pace::new(5.0).of(Duration::from_secs(2)), Duration::from_secs(2));
        assert_eq!(Pace::new(0.5).of(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(Pace::new(f64::NAN).scale(), 1.0);
        assert_eq!(Pace::new(-1.0).scale(), 1.0);
    }

    #[test]
    fn scale_applies_only_to_loopback_api_urls() {
        let fast = Pace::new(0.05);
        for local in ["http://127.0.0.1:8787/client/v4", "http://127.3.4.5/", "http://[::1]:1/", "http://LocalHost/x"] {
            assert_eq!(fast.only_for_loopback(local), fast, "{local}");
        }
        for remote in [
            "https://api.cloudflare.com/client/v4",
            "https://localhost.example.com/",
            "https://10.0.0.1/",
            "https://[::2]/",
            "not a url",
        ] {
            assert_eq!(fast.only_for_loopback(remote), Pace::default(), "{remote}");
        }
    }

    #[test]
    fn jitter_stays_in_band() {
        for _ in 0..200 {
            let j = jitter(Duration::from_secs(1), 0.2);
            assert!(j >= Duration::from_millis(800) && j <= Duration::from_millis(1200), "{j:?}");
        }
    }
}

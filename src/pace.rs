//! How fast the tool's clocks run: polling intervals, backoff and Retry-After waits.
//!
//! Production uses real seconds. Tests and the demo run builds that last seconds, not minutes,
//! so they set `WORKERS_CI_TIME_SCALE` (e.g. `0.05`) and every *wait* the client chooses is
//! scaled, and so are request timeouts (floored at half a second). Deadlines (`timeout`) and
//! the server's `Retry-After` are never scaled: they are the user's and Cloudflare's clocks.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    scale: f64,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { scale: 1.0 }
    }
}

impl Pace {
    pub const ENV: &'static str = "WORKERS_CI_TIME_SCALE";

    pub fn new(scale: f64) -> Self {
        Pace { scale: if scale.is_finite() && scale > 0.0 { scale.min(1.0) } else { 1.0 } }
    }

    /// Reads the scale from the environment, honoured only against an API on this machine (the
    /// simulator): a variable left over in a CI environment must not make a real run poll
    /// Cloudflare twenty times too fast. Anything unparsable means real time.
    pub fn from_env_for(api_url: &reqwest::Url) -> Self {
        Pace::scaled_for(api_url, std::env::var(Self::ENV).ok().as_deref())
    }

    fn scaled_for(api_url: &reqwest::Url, scale: Option<&str>) -> Self {
        if !crate::inputs::rules::is_loopback(api_url) {
            return Pace::default();
        }
        scale.and_then(|v| v.trim().parse().ok()).map_or_else(Pace::default, Pace::new)
    }

    /// The real duration for a nominal one.
    pub fn of(self, nominal: Duration) -> Duration {
        nominal.mul_f64(self.scale)
    }

    pub fn scale(self) -> f64 {
        self.scale
    }
}

/// Spreads `d` by ±`frac` so that forty jobs started by one push do not poll in lockstep.
pub fn jitter(d: Duration, frac: f64) -> Duration {
    let r = fastrand_unit();
    d.mul_f64(1.0 + frac * (2.0 * r - 1.0))
}

fn fastrand_unit() -> f64 {
    let mut b = [0u8; 8];
    // Jitter needs no cryptographic quality, but the OS source is already a dependency and
    // cheap at this rate (a few calls a minute).
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
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
    fn the_time_scale_applies_only_to_the_simulator_on_this_machine() {
        let with = |u: &str| Pace::scaled_for(&reqwest::Url::parse(u).unwrap(), Some("0.05")).scale();
        assert_eq!(with("http://127.0.0.1:8787/client/v4"), 0.05);
        assert_eq!(with("http://localhost:1/x"), 0.05);
        assert_eq!(with("https://api.cloudflare.com/client/v4"), 1.0);
        assert_eq!(with("https://127.0.0.1.nip.io/client/v4"), 1.0);
    }

    #[test]
    fn jitter_stays_in_band() {
        for _ in 0..200 {
            let j = jitter(Duration::from_millis(1000), 0.2);
            assert!(j >= Duration::from_millis(800) && j <= Duration::from_millis(1200), "{j:?}");
        }
    }
}

//! `stages` and the smoke test and error gate that go with it: a rollout that checks itself
//! (`deploy`, and `version` with `deploy: true`). Every rule is checked here, before a request.

use std::time::Duration;

use winnow::ascii::{digit1, multispace0, space0};
use winnow::combinator::{opt, preceded, separated, terminated};
use winnow::prelude::*;
use winnow::token::{one_of, take_while};

use super::{InputError, Inputs, Key, rules};

/// A later stage written without a soak time soaks this long (the last one, at 100 %, none).
pub(crate) const DEFAULT_SOAK: Duration = Duration::from_secs(300);

/// "A few minutes" (docs/cloudflare-api.md §K.3) read as 3: INFERRED, docs/api-assumptions.md
/// (the live probe `analytics-lag` measures it).
pub(crate) const DEFAULT_ANALYTICS_LAG: Duration = Duration::from_secs(180);

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stage {
    /// The new version's share, 0 to 100.
    pub percent: f64,
    /// How long the share is held before its error rate is read; `None`: not checked.
    pub soak: Option<Duration>,
}

#[derive(Clone, Debug)]
pub(crate) struct Smoke {
    pub urls: Vec<reqwest::Url>,
    pub method: reqwest::Method,
    pub status: u16,
    /// May hold `{version_id}`.
    pub body: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Gate {
    /// A fraction, 0 to 1.
    pub max_error_rate: f64,
    pub min_requests: u64,
    pub pass_without_signal: bool,
    /// How long after a soak window's end its counts may still grow (§K.3, "the last few
    /// minutes lag"); the window is judged only once its end is this old.
    pub analytics_lag: Duration,
}

#[derive(Clone, Debug)]
pub(crate) struct RolloutArgs {
    /// Increasing, the last at 100. The first is the smoke stage when it is 0.
    pub stages: Vec<Stage>,
    pub smoke: Option<Smoke>,
    /// `None`: `max_error_rate: off`.
    pub gate: Option<Gate>,
}

impl RolloutArgs {
    /// `None` without `stages`; the smoke and gate inputs then must not be set.
    pub(crate) fn from_inputs(i: &Inputs) -> Result<Option<RolloutArgs>, InputError> {
        let Some(text) = i.get(Key::Stages) else {
            for k in [
                Key::SmokeUrl,
                Key::SmokeBody,
                Key::SmokeMethod,
                Key::SmokeStatus,
                Key::MaxErrorRate,
                Key::MinRequests,
                Key::IfNoSignal,
                Key::AnalyticsLag,
            ] {
                if i.given(k) {
                    return Err(InputError::new(
                        k,
                        "applies only to a staged rollout; set `stages` too (e.g. `0,10,50,100`)",
                    ));
                }
            }
            return Ok(None);
        };
        let mut stages = parse_stages(text)?;
        let smoke = smoke(i)?;
        // The smoke test needs the version in the deployment at no share: the stage at 0 % is
        // added when the list does not start there.
        if smoke.is_some() && stages[0].percent > 0.0 {
            stages.insert(0, Stage { percent: 0.0, soak: None });
        }
        let gate = match i.get(Key::MaxErrorRate).unwrap_or("1").trim() {
            "off" => None,
            rate => {
                let pct = rate.strip_suffix('%').unwrap_or(rate).trim();
                let max = pct
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && (0.0..=100.0).contains(p) && !pct.starts_with('+'))
                    .ok_or_else(|| {
                        InputError::new(
                            Key::MaxErrorRate,
                            "must be a percentage from 0 to 100 (e.g. `1` or `0.5%`), or `off`",
                        )
                    })?;
                let min_requests = match i.get(Key::MinRequests) {
                    None => 100,
                    Some(n) => n
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| InputError::new(Key::MinRequests, "must be a whole number (e.g. `100`)"))?,
                };
                let pass_without_signal = match i.get(Key::IfNoSignal).map(str::trim) {
                    None | Some("fail") => false,
                    Some("pass") => true,
                    Some(_) => return Err(InputError::new(Key::IfNoSignal, "must be `pass` or `fail`")),
                };
                let analytics_lag = match i.get(Key::AnalyticsLag).map(str::trim) {
                    None => DEFAULT_ANALYTICS_LAG,
                    Some("0" | "0s") => Duration::ZERO,
                    Some(t) => rules::duration(t).ok_or_else(|| {
                        InputError::new(
                            Key::AnalyticsLag,
                            "must be a duration (e.g. `3m`, `90s`) or `0`, at most `24h`",
                        )
                    })?,
                };
                Some(Gate { max_error_rate: max / 100.0, min_requests, pass_without_signal, analytics_lag })
            }
        };
        Ok(Some(RolloutArgs { stages, smoke, gate }))
    }

    /// The least time the stages wait: their soaks, and `analytics_lag` after each gated one.
    pub(crate) fn waits(&self) -> (Duration, Duration) {
        let soaks: Duration = self.stages.iter().filter_map(|s| s.soak).sum();
        let gated = self.stages.iter().filter(|s| s.soak.is_some()).count();
        let lag = self.gate.map_or(Duration::ZERO, |g| g.analytics_lag);
        (soaks, lag * u32::try_from(gated).unwrap_or(u32::MAX))
    }

    /// Whether any stage reads analytics (a soak with a gate).
    pub(crate) fn reads_analytics(&self) -> bool {
        self.gate.is_some() && self.stages.iter().any(|s| s.soak.is_some())
    }
}

fn smoke(i: &Inputs) -> Result<Option<Smoke>, InputError> {
    let Some(text) = i.get(Key::SmokeUrl) else {
        for k in [Key::SmokeBody, Key::SmokeMethod, Key::SmokeStatus] {
            if i.get(k).is_some() {
                return Err(InputError::new(k, "needs `smoke_url`: the URL(s) to test the new version at"));
            }
        }
        return Ok(None);
    };
    let mut urls = Vec::new();
    for item in text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let url = reqwest::Url::parse(item)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && rules::https_or_loopback(u))
            .ok_or_else(|| {
                InputError::new(Key::SmokeUrl, "must list absolute https URLs (plain http only on this machine)")
            })?;
        urls.push(url);
    }
    if urls.is_empty() {
        return Err(InputError::new(Key::SmokeUrl, "must list at least one URL"));
    }
    let method = match i.get(Key::SmokeMethod).map(|m| m.trim().to_ascii_uppercase()).as_deref() {
        None | Some("GET") => reqwest::Method::GET,
        Some("HEAD") => reqwest::Method::HEAD,
        Some("OPTIONS") => reqwest::Method::OPTIONS,
        Some(_) => {
            return Err(InputError::new(
                Key::SmokeMethod,
                "must be GET, HEAD or OPTIONS (a smoke test must not write)",
            ));
        }
    };
    let status =
        match i.get(Key::SmokeStatus) {
            None => 200,
            Some(s) => s.trim().parse::<u16>().ok().filter(|s| (100..=599).contains(s)).ok_or_else(|| {
                InputError::new(Key::SmokeStatus, "must be an HTTP status from 100 to 599 (e.g. `200`)")
            })?,
        };
    Ok(Some(Smoke { urls, method, status, body: i.get(Key::SmokeBody).map(str::to_owned) }))
}

/// One stage as written: its share's text and its soak time's text.
fn stage<'s>(input: &mut &'s str) -> ModalResult<(&'s str, Option<&'s str>)> {
    let number = (digit1, opt(('.', digit1))).take();
    let soak = preceded((space0, ':', space0), take_while(1.., |c: char| c.is_ascii_alphanumeric()));
    (preceded(multispace0, number), space0, opt('%'), opt(soak), space0).map(|(n, _, _, s, _)| (n, s)).parse_next(input)
}

/// `stage ((',' | newline) stage)*`, whitespace around items allowed.
fn stage_list<'s>(input: &mut &'s str) -> ModalResult<Vec<(&'s str, Option<&'s str>)>> {
    terminated(separated(1.., stage, one_of([',', '\n'])), multispace0).parse_next(input)
}

pub(crate) fn parse_stages(text: &str) -> Result<Vec<Stage>, InputError> {
    let bad = |problem: &str| InputError::new(Key::Stages, problem);
    let items = stage_list.parse(text.trim_start().trim_end_matches([' ', '\t', '\r'])).map_err(|_| {
        bad("must be shares separated by commas, each a percentage with an optional soak time: e.g. `0,10,50,100` or `10%:5m, 50%:10m, 100%`")
    })?;
    let last = items.len() - 1;
    let mut stages: Vec<Stage> = Vec::with_capacity(items.len());
    for (k, (pct, soak)) in items.into_iter().enumerate() {
        let decimals = pct.split_once('.').map_or(0, |(_, d)| d.len());
        let percent: f64 = pct.parse().map_err(|_| bad("has a share that is not a number"))?;
        if !(0.0..=100.0).contains(&percent) || decimals > 2 {
            return Err(bad("has a share outside 0 to 100 (at most two decimals)"));
        }
        if stages.last().is_some_and(|p| percent <= p.percent) {
            return Err(bad("must increase from one stage to the next"));
        }
        let soak = match soak {
            Some(_) if percent == 0.0 => {
                return Err(bad("soaks a 0 % stage, which takes no traffic to measure; give 0 no time"));
            }
            Some(s) => Some(
                rules::duration(s)
                    .ok_or_else(|| bad("has a soak time that is not a duration (e.g. `90s`, `5m`, `1h`)"))?,
            ),
            None if percent == 0.0 || k == last => None,
            None => Some(DEFAULT_SOAK),
        };
        stages.push(Stage { percent, soak });
    }
    if stages.last().is_none_or(|s| (s.percent - 100.0).abs() > f64::EPSILON) {
        return Err(bad("must end at 100 (the new version takes all traffic when the rollout succeeds)"));
    }
    if stages.len() < 2 && stages[0].soak.is_none() {
        return Err(bad("has only `100`: that is a plain deploy; use `versions` without `stages`"));
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(percent: f64, soak: Option<u64>) -> Stage {
        Stage { percent, soak: soak.map(Duration::from_secs) }
    }

    #[test]
    fn both_forms_parse() {
        assert_eq!(
            parse_stages("0,10,50,100").unwrap(),
            vec![s(0.0, None), s(10.0, Some(300)), s(50.0, Some(300)), s(100.0, None)]
        );
        assert_eq!(
            parse_stages("10%:5m, 50%:10m, 100%").unwrap(),
            vec![s(10.0, Some(300)), s(50.0, Some(600)), s(100.0, None)]
        );
        assert_eq!(
            parse_stages("0\n 12.5 % : 90s\n100:1m\n").unwrap(),
            vec![s(0.0, None), s(12.5, Some(90)), s(100.0, Some(60))]
        );
    }

    #[test]
    fn bad_lists_name_the_input() {
        for bad in [
            "",
            "10,50",
            "50,10,100",
            "0:5m,100",
            "10:5x,100",
            "10:,100",
            "abc",
            "10,,100",
            "10;100",
            "101,100",
            "-5,100",
            "1.234,100",
            "100",
            "10 20,100",
            "10%%,100",
            "nan,100",
            "1e1,100",
        ] {
            let e = parse_stages(bad).unwrap_err();
            assert_eq!(e.input(), "stages", "{bad:?}");
        }
    }
}

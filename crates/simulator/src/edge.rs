//! The simulated edge: each Worker answers at `http://127.0.0.1:<port>/__worker/<name>/…`
//! from its live deployment, and the analytics GraphQL endpoint counts what it served.
//!
//! Routing follows the deployment's shares, deterministically: the k-th request of a Worker
//! falls at `frac(k·φ)` (a low-discrepancy sequence) on the shares laid end to end, so a test
//! knows that 10 % means one request in ten, without randomness. `Cloudflare-Workers-Version-
//! Overrides` (docs/cloudflare-api.md §K.1) is an RFC 8941 Dictionary naming a version per
//! Worker; it is honoured only for a version in the current deployment (at any share, 0 %
//! included), and only `override_delay_ms` after that deployment was made; otherwise, or when
//! the header is not a valid Dictionary, it is silently ignored.
//!
//! Analytics (§K.3): `POST /client/v4/graphql` with the `workersInvocationsAdaptive` query
//! answers per-version sums for the window: the requests served plus `synthetic_rps` spread over
//! the shares the deployments gave in that window, each version's `error_rate` of them thrown
//! (from `errors_after_ms` after it first took a share). Only what is `analytics_lag_ms` old is
//! visible ("the last few minutes lag", §K.3): a window read sooner comes back short, as it
//! would from Cloudflare. The simulator does not parse GraphQL: it reads the `variables` and checks the query names
//! the dataset (INFERRED, docs/api-assumptions.md).

use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::VersionProfile;
use crate::state::{State, Worker};

/// Where Workers are served, under the simulator's address.
pub const PREFIX: &str = "/__worker/";

/// The golden ratio's fractional part: `frac(k·φ)` spreads requests evenly over the shares.
const PHI: f64 = 0.618_033_988_749_894_9;

/// One request the edge served.
#[derive(Clone, Debug, Serialize)]
pub struct Served {
    pub worker: String,
    pub version_id: String,
    pub path: String,
    pub status: u16,
    /// The invocation threw (an error in analytics).
    pub thrown: bool,
    /// The override header chose the version (else the shares did).
    pub by_override: bool,
    #[serde(skip)]
    pub at: SystemTime,
}

fn profile<'a>(state: &'a State, worker: &str, number: u64) -> Option<&'a VersionProfile> {
    state.config.version_profiles.iter().find(|p| p.worker == worker && p.number == number)
}

fn number_of(w: &Worker, version_id: &str) -> u64 {
    w.versions.iter().find(|v| v["id"] == version_id).and_then(|v| v["number"].as_u64()).unwrap_or(0)
}

fn parse_time(s: &str) -> Option<SystemTime> {
    let ts = s.parse::<jiff::Timestamp>().ok()?;
    let nanos = u64::try_from(ts.as_nanosecond()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos))
}

/// The live deployment's `(version id, percentage)` pairs.
fn shares(d: &Value) -> Vec<(String, f64)> {
    d["versions"]
        .as_array()
        .map(|vs| {
            vs.iter().filter_map(|v| Some((v["version_id"].as_str()?.to_owned(), v["percentage"].as_f64()?))).collect()
        })
        .unwrap_or_default()
}

/// The version an override header names for `worker`, if the header is a valid Dictionary.
fn override_for(header: Option<&str>, worker: &str) -> Option<String> {
    let dict: sfv::Dictionary = sfv::Parser::new(header?).parse().ok()?;
    let key = sfv::KeyRef::from_str(worker).ok()?;
    match dict.get(key)? {
        sfv::ListEntry::Item(item) => match &item.bare_item {
            sfv::BareItem::String(s) => Some(s.as_str().to_owned()),
            _ => None,
        },
        sfv::ListEntry::InnerList(_) => None,
    }
}

/// Answers a request for a Worker: `(status, headers, body)`. `rest` follows [`PREFIX`].
pub fn serve(state: &mut State, rest: &str, overrides: Option<&str>) -> (u16, Vec<(&'static str, String)>, String) {
    let (name, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(n, p)| (n, format!("/{p}")));
    let Some(w) = state.workers.iter().position(|w| w.name == name) else {
        // INFERRED: what an unrouted workers.dev host answers.
        return (404, Vec::new(), "There is nothing here yet".into());
    };
    let Some(live) = state.workers[w].deployments.last().cloned() else {
        return (404, Vec::new(), "There is nothing here yet".into());
    };
    let split = shares(&live);
    let k = state.served.iter().filter(|s| s.worker == name).count() as f64;
    let propagated = parse_time(live["created_on"].as_str().unwrap_or_default())
        .is_some_and(|t| t + Duration::from_millis(state.config.override_delay_ms) <= SystemTime::now());
    let forced = override_for(overrides, name).filter(|v| propagated && split.iter().any(|(id, _)| id == v));
    let by_override = forced.is_some();
    let version_id = forced.unwrap_or_else(|| {
        let point = ((k + 1.0) * PHI).fract() * 100.0;
        let mut acc = 0.0;
        split
            .iter()
            .find(|(_, p)| {
                acc += p;
                point < acc
            })
            .or(split.iter().rev().find(|(_, p)| *p > 0.0))
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    });
    let number = number_of(&state.workers[w], &version_id);
    let p = profile(state, name, number).cloned().unwrap_or_default();
    let nth = state.served.iter().filter(|s| s.worker == name && s.version_id == version_id).count() as f64;
    let failing = p.errors_after_ms == 0
        || errors_from(&state.workers[w], &version_id, p.errors_after_ms).is_some_and(|t| t <= SystemTime::now());
    let thrown = failing && p.error_rate > 0.0 && ((nth + 1.0) * PHI).fract() < p.error_rate;
    let (status, body) = if thrown {
        (500, "Error 1101: Worker threw exception".to_owned())
    } else {
        (p.status, p.body.clone().unwrap_or_else(|| format!("version {number} ({version_id})")))
    };
    state.served.push(Served {
        worker: name.to_owned(),
        version_id: version_id.clone(),
        path,
        status,
        thrown,
        by_override,
        at: SystemTime::now(),
    });
    (status, vec![("content-type", "text/plain".into())], body)
}

/// `POST /client/v4/graphql` (§K.3): HTTP 200 always; GraphQL errors in `errors[]`.
pub fn graphql(state: &State, body: &[u8]) -> Value {
    let fail = |message: &str, code: &str| json!({ "data": null, "errors": [{ "message": message, "path": ["viewer"], "extensions": { "code": code } }] });
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return fail("failed to parse request body", "bad_request");
    };
    let query = req["query"].as_str().unwrap_or_default();
    if !query.contains("workersInvocationsAdaptive") {
        return fail("the simulator answers only the workersInvocationsAdaptive query", "bad_request");
    }
    let vars = &req["variables"];
    let var = |k: &str| vars[k].as_str();
    let (Some(account), Some(script), Some(from), Some(to)) = (var("account"), var("script"), var("from"), var("to"))
    else {
        return fail("variables account, script, from and to are required", "bad_request");
    };
    // INFERRED: the message and code Cloudflare gives a token without Account Analytics Read.
    if account != state.config.account_id || !state.config.analytics_read {
        return fail("not authorized for that account", "authz");
    }
    let (Some(from), Some(to)) = (parse_time(from), parse_time(to)) else {
        return fail("from and to must be RFC 3339 times", "bad_request");
    };
    // What happened in the last `analytics_lag_ms` is not visible yet (§K.3).
    let visible = SystemTime::now()
        .checked_sub(Duration::from_millis(state.config.analytics_lag_ms))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let to = to.min(visible);
    let rows = match state.workers.iter().find(|w| w.name == script) {
        Some(w) => counts(state, w, var("version"), from, to),
        None => Vec::new(),
    };
    json!({ "data": { "viewer": { "accounts": [{ "workersInvocationsAdaptive": rows }] } }, "errors": null })
}

/// One row per version and status, as the query's `dimensions { scriptVersion status }` groups.
fn counts(state: &State, w: &Worker, version: Option<&str>, from: SystemTime, to: SystemTime) -> Vec<Value> {
    let mut ids: Vec<String> = w.versions.iter().filter_map(|v| v["id"].as_str().map(str::to_owned)).collect();
    if let Some(v) = version {
        ids.retain(|id| id == v);
    }
    let mut rows = Vec::new();
    for id in ids {
        let served =
            state.served.iter().filter(|s| s.worker == w.name && s.version_id == id && s.at >= from && s.at <= to);
        let (mut ok, mut thrown) = (0u64, 0u64);
        for s in served {
            if s.thrown { thrown += 1 } else { ok += 1 }
        }
        let p = profile(state, &w.name, number_of(w, &id)).cloned().unwrap_or_default();
        let synthetic = state.config.synthetic_rps * share_seconds(w, &id, from, to);
        let failing = if p.errors_after_ms == 0 {
            synthetic
        } else {
            errors_from(w, &id, p.errors_after_ms)
                .map_or(0.0, |start| state.config.synthetic_rps * share_seconds(w, &id, from.max(start), to.max(start)))
        };
        let synthetic_errors = (failing * p.error_rate).round();
        ok += (synthetic - synthetic_errors).round() as u64;
        thrown += synthetic_errors as u64;
        if ok > 0 {
            rows.push(json!({ "sum": { "requests": ok, "errors": 0 }, "dimensions": { "scriptVersion": id, "status": "success" } }));
        }
        if thrown > 0 {
            rows.push(json!({ "sum": { "requests": thrown, "errors": thrown }, "dimensions": { "scriptVersion": id, "status": "scriptThrewException" } }));
        }
    }
    rows
}

/// When a version with `errors_after_ms` starts to throw: that long after the first
/// deployment that gave it a share of traffic (`None` before it had one).
fn errors_from(w: &Worker, id: &str, after_ms: u64) -> Option<SystemTime> {
    let first = w.deployments.iter().find(|d| shares(d).iter().any(|(v, p)| v == id && *p > 0.0))?;
    Some(parse_time(first["created_on"].as_str().unwrap_or_default())? + Duration::from_millis(after_ms))
}

/// Seconds of the window times the version's share in each deployment live during it.
fn share_seconds(w: &Worker, id: &str, from: SystemTime, to: SystemTime) -> f64 {
    let mut total = 0.0;
    for (i, d) in w.deployments.iter().enumerate() {
        let Some(start) = parse_time(d["created_on"].as_str().unwrap_or_default()) else { continue };
        let end = w
            .deployments
            .get(i + 1)
            .and_then(|n| parse_time(n["created_on"].as_str().unwrap_or_default()))
            .unwrap_or(to);
        let (a, b) = (start.max(from), end.min(to));
        let Ok(span) = b.duration_since(a) else { continue };
        let pct = shares(d).iter().find(|(v, _)| v == id).map_or(0.0, |(_, p)| *p);
        total += span.as_secs_f64() * pct / 100.0;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_header_is_a_dictionary() {
        assert_eq!(override_for(Some(r#"my-worker="abc""#), "my-worker").as_deref(), Some("abc"));
        assert_eq!(override_for(Some(r#"other="x", my-worker="abc""#), "my-worker").as_deref(), Some("abc"));
        assert_eq!(override_for(Some("my-worker=abc"), "my-worker"), None, "a token, not a string");
        assert_eq!(override_for(Some(r#"my-worker="abc"#), "my-worker"), None, "not a valid Dictionary");
        assert_eq!(override_for(None, "my-worker"), None);
    }
}

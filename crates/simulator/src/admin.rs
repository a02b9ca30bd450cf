//! The `/__sim/*` admin endpoints: what a test or a demo script uses to steer the simulator
//! from outside the process (faults, pushes, build profile) and to read what happened. They
//! need no token and are never recorded, so they cannot disturb what they observe.
//! `HELP` in `help.rs` documents them; keep the two in step.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::BuildProfile;
use crate::faults::Fault;
use crate::http::{Shared, respond};

/// `POST /__sim/push`: a build the Git integration starts for a push.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Push {
    worker: String,
    branch: String,
    commit: String,
    #[serde(default)]
    after_ms: u64,
}

pub fn reply(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let bad = |e: serde_json::Error| respond(400, &json!({ "error": e.to_string() }), None);
    let done = || respond(200, &json!({ "ok": true }), None);
    match (method, path) {
        ("GET", "requests") => {
            let r = shared.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            respond(200, &serde_json::to_value(r).unwrap_or_default(), None)
        }
        ("POST", "faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(f) => {
                shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(f);
                done()
            }
            Err(e) => bad(e),
        },
        ("POST", "push") => match serde_json::from_slice::<Push>(body) {
            Ok(p) => match shared.state().push(&p.worker, &p.branch, &p.commit, Duration::from_millis(p.after_ms)) {
                Some(uuid) => respond(200, &json!({ "build_uuid": uuid }), None),
                None => respond(404, &json!({ "error": "no such worker, or no trigger builds that branch" }), None),
            },
            Err(e) => bad(e),
        },
        ("PUT", "build_profile") => match serde_json::from_slice::<BuildProfile>(body) {
            Ok(p) => {
                shared.state().config.build = p;
                done()
            }
            Err(e) => bad(e),
        },
        ("GET", "builds") => {
            let st = shared.state();
            let now = Instant::now();
            respond(200, &Value::Array(st.builds.iter().map(|b| b.json(now)).collect()), None)
        }
        _ => respond(404, &json!({ "error": "unknown admin endpoint (see `workers-ci simulate --help`)" }), None),
    }
}

//! The script-scoped Workers API both clients use: the scripts list (how `build` finds a
//! Worker's tag, §2), deployments (§5) and the account's workers.dev subdomain (§6).

use serde_json::{Value, json};

use super::Request;
use crate::config::NoDeployments;
use crate::envelope::{self, Reply};
use crate::state::{State, deployment_json};
use crate::version;
use crate::version::MESSAGE_LIMIT;
use crate::{random, time};

pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let reply = match (req.method, req.segs.as_slice()) {
        ("GET", ["workers", "scripts"]) => {
            let list: Vec<Value> = state
                .workers
                .iter()
                .map(|w| {
                    let routes = super::script_routes(state, &w.name);
                    let mut item = json!({
                        "id": w.name, "tag": w.tag, "tags": w.settings["tags"], "etag": random::hex(16),
                        "created_on": time::rfc3339(w.created), "modified_on": time::rfc3339(w.created),
                        "handlers": ["fetch"], "has_assets": false, "has_modules": true, "logpush": w.settings["logpush"],
                        "usage_model": "standard", "compatibility_date": "2026-11-01", "compatibility_flags": [],
                        "last_deployed_from": "wrangler",
                        "tail_consumers": w.settings["tail_consumers"],
                        // §T.2: the script's routes, `null` when it has none.
                        "routes": if routes.is_empty() { Value::Null } else { Value::Array(routes) },
                    });
                    // The applied Durable Object migration (SPEC: the list's `migration_tag`, a
                    // string; wrangler 4.86 reads it here, docs/cloudflare-api.md §T.7), and
                    // observability (an object): each only when there is one.
                    if let Some(t) = &w.migration_tag {
                        item["migration_tag"] = json!(t);
                    }
                    if w.settings["observability"].is_object() {
                        item["observability"] = w.settings["observability"].clone();
                    }
                    item
                })
                .collect();
            envelope::reply(Value::Array(list))
        }
        ("GET", ["workers", "scripts", name, "deployments"]) => match state.workers.iter().find(|w| w.name == *name) {
            // Undocumented for a Worker with nothing uploaded (§5): as configured.
            Some(w)
                if w.versions.is_empty()
                    && state.config.deployments_before_first_version == NoDeployments::NotFound =>
            {
                envelope::not_found("This Worker has no deployments")
            }
            Some(w) => envelope::reply(json!({ "deployments": w.deployments.iter().rev().collect::<Vec<_>>() })),
            None => envelope::not_found("Worker not found"),
        },
        ("POST", ["workers", "scripts", name, "deployments"]) => {
            let Some(i) = state.workers.iter().position(|w| w.name == *name) else {
                return Some(envelope::not_found("Worker not found"));
            };
            match serde_json::from_slice(req.body) {
                Ok(body) => create_deployment(state, i, &body, req.query_is("force", "true")),
                Err(_) => envelope::bad_request("Request body is not valid JSON"),
            }
        }
        ("GET", ["workers", "subdomain"]) => match &state.config.subdomain {
            Some(s) => envelope::reply(json!({ "subdomain": s })),
            None => envelope::not_found("This account does not have a workers.dev subdomain"),
        },
        _ => return None,
    };
    Some(reply)
}

/// One or two of the Worker's versions, percentages adding up to 100 (§5).
fn create_deployment(state: &mut State, i: usize, req: &Value, force: bool) -> Reply {
    if req.get("strategy").and_then(Value::as_str) != Some("percentage") {
        return envelope::bad_request("strategy must be \"percentage\"");
    }
    let Some(versions) = req.get("versions").and_then(Value::as_array) else {
        return envelope::bad_request("versions is required");
    };
    if versions.is_empty() || versions.len() > 2 {
        return envelope::bad_request("a deployment has one or two versions");
    }
    let w = &state.workers[i];
    let mut total = 0.0;
    for v in versions {
        let (Some(id), Some(p)) =
            (v.get("version_id").and_then(Value::as_str), v.get("percentage").and_then(Value::as_f64))
        else {
            return envelope::bad_request("each version needs version_id and percentage");
        };
        // The spec's minimum is 0.01; the docs and wrangler take 0 (§K.1): as configured.
        let zero_ok = state.config.zero_percent_deployments && p == 0.0;
        if !zero_ok && !(0.01..=100.0).contains(&p) {
            return envelope::bad_request("percentage must be between 0.01 and 100");
        }
        if !w.versions.iter().any(|x| x["id"] == id) {
            return envelope::bad_request(&format!("version {id} does not belong to this Worker"));
        }
        total += p;
    }
    if (total - 100.0).abs() > 1e-9 {
        return envelope::bad_request("percentages must add up to 100");
    }
    // "Multi-version deploys … where the selected versions disagree on declarative `exports`
    // are rejected" with 100405 (docs/cloudflare-api.md §H.10). INFERRED: status 400, and a
    // version without `exports` declares none.
    let exports_of = |id: &Value| {
        let v = w.versions.iter().find(|x| x["id"] == *id);
        crate::version::durable_object_exports(v.and_then(|v| v.get("exports")))
    };
    if let [a, b] = versions.as_slice()
        && exports_of(&a["version_id"]) != exports_of(&b["version_id"])
    {
        return envelope::fail(
            400,
            100_405,
            "All versions in a percentage-split deployment must declare identical Durable Object exports: deploy the version that changes them at 100% first",
        );
    }
    if !force && let Some(reply) = secrets_changed(&state.workers[i], versions) {
        return reply;
    }
    let message = req.pointer("/annotations/workers~1message").and_then(Value::as_str);
    if message.is_some_and(|m| m.len() > MESSAGE_LIMIT) {
        return envelope::bad_request("workers/message must be at most 1000 bytes");
    }
    let d = deployment_json(versions, "api", "deployment", message);
    state.workers[i].deployments.push(d.clone());
    envelope::reply(d)
}

/// Rolling back to a version older than the live one whose secrets differ from it is blocked
/// unless `force` (§5: "blocked by something such rolling back to an older version when a
/// secret has changed"). Code 10220 and the message's "The following secrets have changed:"
/// list are what wrangler's rollback parses (`versions/rollback`); the status is INFERRED.
/// A deployment that includes a version at least as new as the live one is not a rollback.
fn secrets_changed(w: &crate::state::Worker, split: &[Value]) -> Option<Reply> {
    let number = |id: &Value| w.versions.iter().find(|v| v["id"] == *id);
    let live = w.deployments.last()?;
    let live_newest = live["versions"]
        .as_array()?
        .iter()
        .filter_map(|v| number(&v["version_id"]))
        .max_by_key(|v| v["number"].as_u64())?;
    let target = split.iter().filter_map(|v| number(&v["version_id"])).max_by_key(|v| v["number"].as_u64())?;
    if target["number"].as_u64() >= live_newest["number"].as_u64() {
        return None;
    }
    let (old, now) = (version::secrets_of(target), version::secrets_of(live_newest));
    let mut changed: Vec<&str> = now
        .iter()
        .filter(|s| !old.contains(s))
        .chain(old.iter().filter(|s| !now.contains(s)))
        .map(|(n, _)| n.as_str())
        .collect();
    changed.sort_unstable();
    changed.dedup();
    if changed.is_empty() {
        return None;
    }
    let message = format!(
        "Cannot deploy an older version: secrets changed since it was deployed. The following secrets have changed: {}",
        changed.join(", ")
    );
    Some(envelope::fail(400, 10220, &message))
}

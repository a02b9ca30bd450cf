//! The beta Workers API (docs/cloudflare-api.md §4.1, §4.2): Workers by id or name, and their
//! versions uploaded as JSON with base64 modules.

use base64::Engine as _;
use serde_json::{Value, json};

use super::Request;
use crate::config::ListOrder;
use crate::envelope::{self, Reply};
use crate::names::valid_worker_name;
use crate::state::{State, Worker, deployment_json};
use crate::version::{self, Draft, Module, Unresolved};

pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let reply = match (req.method, req.segs.as_slice()) {
        ("GET", ["workers", "workers"]) => {
            let list: Vec<Value> = state.workers.iter().map(|w| state.worker_json(w)).collect();
            let n = list.len();
            (200, envelope::ok_page(list, json!({ "page": 1, "per_page": 100, "count": n, "total_count": n })))
        }
        ("POST", ["workers", "workers"]) => create_worker(state, req.body),
        ("GET", ["workers", "workers", id]) => match state.worker_index(id) {
            Some(i) => envelope::reply(state.worker_json(&state.workers[i])),
            None => worker_missing(),
        },
        ("POST", ["workers", "workers", id, "versions"]) => match state.worker_index(id) {
            Some(i) => create_version(state, i, req.body, req.query_is("deploy", "true")),
            None => worker_missing(),
        },
        ("GET", ["workers", "workers", id, "versions"]) => match state.worker_index(id) {
            Some(i) => list_versions(state, i, req),
            None => worker_missing(),
        },
        ("GET", ["workers", "workers", id, "versions", version]) => match state.worker_index(id) {
            Some(i) => get_version(state, i, version, req),
            None => worker_missing(),
        },
        _ => return None,
    };
    Some(reply)
}

fn worker_missing() -> Reply {
    envelope::not_found("Worker not found")
}

fn create_worker(state: &mut State, body: &[u8]) -> Reply {
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(name) = req.get("name").and_then(Value::as_str) else {
        return envelope::fail(400, 10003, "Missing required field: name");
    };
    if !valid_worker_name(name) {
        return envelope::fail(400, 10016, "Worker name is invalid");
    }
    if state.workers.iter().any(|w| w.name == name) {
        return envelope::fail(409, 10040, "A Worker with this name already exists");
    }
    // Without `subdomain` the API's default is undocumented (docs/cloudflare-api.md Correction 1,
    // §G-1); the simulator takes Terraform's (both off), so a client that wants workers.dev must
    // say so, as wrangler always does. `previews_enabled` absent follows `enabled` (§C.7).
    let sub = req.get("subdomain");
    if sub.is_some_and(|s| !s.is_object()) {
        return envelope::bad_request("subdomain must be an object");
    }
    let flag = |k: &str| sub.and_then(|s| s.get(k));
    if [flag("enabled"), flag("previews_enabled")].iter().flatten().any(|v| !v.is_boolean()) {
        return envelope::bad_request("subdomain.enabled and subdomain.previews_enabled must be booleans");
    }
    let enabled = flag("enabled").and_then(Value::as_bool).unwrap_or(false);
    let previews = flag("previews_enabled").and_then(Value::as_bool).unwrap_or(enabled);
    if (enabled || previews) && state.config.subdomain.is_none() {
        return envelope::fail(400, 10063, "Please register a workers.dev subdomain first");
    }
    // Names over 54 characters cannot have preview URLs (docs/cloudflare-api.md §1.5, §4.1:
    // 400/100315; the message is INFERRED).
    if previews && name.len() > 54 {
        return envelope::fail(400, 100_315, "Worker names longer than 54 characters cannot have preview URLs enabled");
    }
    let w = Worker::new(name, enabled, previews);
    let v = state.worker_json(&w);
    state.workers.push(w);
    envelope::reply(v)
}

/// The beta wire format into a [`Draft`]: the checks only JSON needs (field types, base64);
/// the rest is [`version::validate`], shared with the classic upload.
fn parse(body: &[u8]) -> Result<Draft, Reply> {
    let Ok(Value::Object(mut fields)) = serde_json::from_slice(body) else {
        return Err(envelope::bad_request("Request body must be a JSON object"));
    };
    let raw = fields.remove("modules").and_then(|m| m.as_array().cloned()).unwrap_or_default();
    let mut modules = Vec::with_capacity(raw.len());
    for (k, m) in raw.iter().enumerate() {
        let field = |f: &str| m.get(f).and_then(Value::as_str);
        let (Some(name), Some(content_type), Some(b64)) =
            (field("name"), field("content_type"), field("content_base64"))
        else {
            let missing = ["name", "content_type", "content_base64"].into_iter().find(|f| field(f).is_none());
            return Err(envelope::bad_request(&format!("modules[{k}].{} is required", missing.unwrap_or("name"))));
        };
        let Ok(content) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return Err(envelope::bad_request(&format!("modules[{k}].content_base64 is not valid base64")));
        };
        modules.push(Module { name: name.to_owned(), content_type: content_type.to_owned(), content });
    }
    let main_module = match fields.remove("main_module") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(envelope::bad_request("main_module must be a string")),
    };
    Ok(Draft { main_module, modules, fields, source: "api" })
}

fn create_version(state: &mut State, i: usize, body: &[u8], deploy: bool) -> Reply {
    // Without `deploy`, migrations are refused with 100123 (§C.2) by `create`; with it, 10211.
    let applied = state.workers[i].exports.clone();
    let refuse =
        |d: version::Draft| if deploy { version::refuse_migrations(&d, applied.as_ref()).map(|()| d) } else { Ok(d) };
    let stored =
        match parse(body).and_then(refuse).and_then(|d| version::create(state, i, d, Unresolved::Refuse, deploy)) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
    if deploy {
        let d =
            deployment_json(&[json!({ "version_id": stored["id"], "percentage": 100.0 })], "api", "deployment", None);
        state.workers[i].deployments.push(d);
    }
    envelope::reply(version::beta_view(&stored, false))
}

/// §4.2: `page` (default 1), `per_page` (default 10, max 100); `workers_result_info` has no
/// `total_pages` (§1.2), so a client must page by `total_count` or until a page is empty.
/// INFERRED: values out of range are refused (10021) rather than clamped, as the stricter reading.
fn list_versions(state: &State, i: usize, req: &Request) -> Reply {
    let per_page = req.number("per_page").unwrap_or(10);
    let page = req.number("page").unwrap_or(1);
    if page == 0 || per_page == 0 || per_page > 100 {
        return envelope::bad_request("page must be at least 1 and per_page between 1 and 100");
    }
    let stored = state.workers[i].versions.iter();
    // Ordering is undocumented; SimConfig::list_order picks it (stored oldest first).
    let all: Vec<Value> = match state.config.list_order {
        ListOrder::NewestFirst => stored.rev().map(|v| version::beta_view(v, false)).collect(),
        ListOrder::OldestFirst => stored.map(|v| version::beta_view(v, false)).collect(),
    };
    let n = all.len();
    let items: Vec<Value> = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    let info = json!({ "page": page, "per_page": per_page, "count": items.len(), "total_count": n });
    (200, envelope::ok_page(items, info))
}

/// `version_id`: a UUID, a prefix of at least 8 characters, or `latest` (§4.2).
fn get_version(state: &State, i: usize, version: &str, req: &Request) -> Reply {
    let versions = &state.workers[i].versions;
    let found = if version == "latest" {
        versions.last()
    } else if version.len() >= 8 {
        versions.iter().find(|v| v["id"].as_str().is_some_and(|vid| vid.starts_with(version)))
    } else {
        None
    };
    match found {
        Some(v) => envelope::reply(version::beta_view(v, req.query_is("include", "modules"))),
        None => envelope::not_found("Version not found"),
    }
}

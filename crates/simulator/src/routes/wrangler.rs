//! The classic Workers endpoints that `wrangler versions upload` and `wrangler deploy` call, so
//! wrangler (and wrangler-based workflows) can run against the simulator offline, and the
//! benchmarks can compare it with workers-ci on equal terms.
//!
//! Versions uploaded here (multipart, docs/cloudflare-api.md §4.3) are stored in the same
//! `Worker::versions` as the beta API's, so `workers-ci deploy` can deploy a version wrangler
//! uploaded and the other way round. Deployments reuse the routes in `scripts` (§5), which has
//! the account subdomain route too (§6). Answer shapes follow what wrangler reads (its
//! `src/versions/api.ts`, `versions/upload`, `deploy/deploy.ts`, `triggers/deploy.ts`);
//! where the API documents nothing the choice is marked `INFERRED`.

use serde_json::{Map, Value, json};

use super::Request;
use crate::envelope::{self, Reply};
use crate::names::valid_worker_name;
use crate::state::{State, Worker, deployment_json};
use crate::version::{self, Draft, Module, Unresolved};
use crate::{multipart, time};

/// Answers the request when it is one of the classic endpoints.
pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let (method, body) = (req.method, req.body);
    let reply = match (method, req.segs.as_slice()) {
        ("GET", ["workers", "services", name]) => match find(state, name) {
            Some(i) => envelope::reply(service_json(&state.workers[i])),
            None => not_found(),
        },
        ("PUT", ["workers", "scripts", name]) => {
            // As on the versions endpoint: `bindings_inherit=strict` refuses what cannot be
            // resolved (§C.1), otherwise it is dropped.
            let mode = if req.query_is("bindings_inherit", "strict") { Unresolved::Refuse } else { Unresolved::Drop };
            upload_script(state, name, body, mode)
        }
        ("GET", ["workers", "scripts", name, "settings"]) => match find(state, name) {
            Some(i) => envelope::reply(settings_json(&state.workers[i])),
            None => not_found(),
        },
        ("POST", ["workers", "scripts", name, "versions"]) => match find(state, name) {
            // Correction 10: migrations only through the non-versioned upload below (10211).
            Some(i) => match parse_upload(state, i, body)
                .and_then(|d| version::refuse_migrations(&d, state.workers[i].exports.as_ref()).map(|()| d))
                .and_then(|d| {
                    // "Without this, unresolvable inherit bindings are silently dropped" (§C.1).
                    let mode =
                        if req.query_is("bindings_inherit", "strict") { Unresolved::Refuse } else { Unresolved::Drop };
                    version::create(state, i, d, mode, false)
                }) {
                Ok(stored) => envelope::reply(classic_version(&state.workers[i], &stored)),
                Err(reply) => reply,
            },
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "versions"]) => match find(state, name) {
            Some(i) => {
                let w = &state.workers[i];
                let items: Vec<Value> = w.versions.iter().rev().map(|v| classic_version(w, v)).collect();
                envelope::reply(json!({ "items": items }))
            }
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "versions", id]) => match find(state, name) {
            Some(i) => {
                let w = &state.workers[i];
                match w.versions.iter().find(|v| v["id"] == *id) {
                    Some(v) => envelope::reply(classic_version(w, v)),
                    None => envelope::not_found("Version not found"),
                }
            }
            None => not_found(),
        },
        // The per-script workers.dev toggle, the same flags as the beta `Worker.subdomain`
        // (docs/cloudflare-api.md §C.7): both fields always in the answer.
        ("GET", ["workers", "scripts", name, "subdomain"]) => match find(state, name) {
            Some(i) => subdomain_json(&state.workers[i]),
            None => not_found(),
        },
        ("POST", ["workers", "scripts", name, "subdomain"]) => match find(state, name) {
            Some(i) => set_subdomain(state, i, body, req.api_date),
            None => not_found(),
        },
        // "Disable all workers.dev subdomains for a Worker script" (§C.7).
        ("DELETE", ["workers", "scripts", name, "subdomain"]) => match find(state, name) {
            Some(i) => {
                let w = &mut state.workers[i];
                w.workers_dev = false;
                w.previews_enabled = false;
                subdomain_json(w)
            }
            None => not_found(),
        },
        _ => return None,
    };
    Some(reply)
}

/// The dated behaviour of the subdomain endpoint wrangler asks for (docs/cloudflare-api.md §C.7).
const SUBDOMAIN_API_DATE: &str = "2025-08-01";

/// The per-script workers.dev toggle (docs/cloudflare-api.md §C.7). wrangler always sends
/// `Cloudflare-Workers-Script-Api-Date: 2025-08-01` with it; what the endpoint does without the
/// header is undocumented (§G-31), so the simulator refuses the write without it, INFERRED.
fn set_subdomain(state: &mut State, i: usize, body: &[u8], api_date: Option<&str>) -> Reply {
    if api_date != Some(SUBDOMAIN_API_DATE) {
        return envelope::bad_request(&format!(
            "send Cloudflare-Workers-Script-Api-Date: {SUBDOMAIN_API_DATE} (the behaviour this simulator models)"
        ));
    }
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(enabled) = req.get("enabled").and_then(Value::as_bool) else {
        return envelope::bad_request("enabled is required");
    };
    let previews = match req.get("previews_enabled") {
        // "Undefined lets the API compute the default", which follows `enabled` (§C.7).
        None | Some(Value::Null) => enabled,
        Some(Value::Bool(b)) => *b,
        Some(_) => return envelope::bad_request("previews_enabled must be a boolean"),
    };
    if (enabled || previews) && state.config.subdomain.is_none() {
        return envelope::fail(400, 10063, "Please register a workers.dev subdomain first");
    }
    let w = &mut state.workers[i];
    w.workers_dev = enabled;
    w.previews_enabled = previews;
    subdomain_json(w)
}

fn subdomain_json(w: &Worker) -> Reply {
    envelope::reply(json!({ "enabled": w.workers_dev, "previews_enabled": w.previews_enabled }))
}

fn find(state: &State, name: &str) -> Option<usize> {
    state.workers.iter().position(|w| w.name == name)
}

/// What wrangler expects for a missing Worker (it checks the code, 10007).
fn not_found() -> Reply {
    envelope::not_found("This Worker does not exist on your account.")
}

/// The client that made the latest deployment's (else the latest) version, as the classic API's
/// `last_deployed_from`. INFERRED: a seeded Worker with neither counts as wrangler's.
fn last_deployed_from(w: &Worker) -> &'static str {
    let deployed = w.deployments.last().and_then(|d| d.pointer("/versions/0/version_id")).and_then(Value::as_str);
    let v = match deployed {
        Some(id) => w.versions.iter().find(|v| v["id"] == id),
        None => w.versions.last(),
    };
    match v.and_then(|v| v["source"].as_str()) {
        Some("api") => "api",
        Some("dash") => "dash",
        _ => "wrangler",
    }
}

fn script_json(w: &Worker) -> Value {
    let latest = w.versions.last();
    let mut script = json!({
        "id": w.name,
        "tag": w.tag,
        "tags": w.settings["tags"].as_array().cloned().unwrap_or_default(),
        "etag": etag(w),
        "handlers": ["fetch"],
        "named_handlers": [],
        "created_on": time::rfc3339(w.created),
        "modified_on": latest.map_or_else(|| json!(time::rfc3339(w.created)), |v| v["created_on"].clone()),
        "usage_model": "standard",
        "compatibility_date": latest.and_then(|v| v.get("compatibility_date")).cloned().unwrap_or(json!("2026-11-01")),
        "compatibility_flags": latest.and_then(|v| v.get("compatibility_flags")).cloned().unwrap_or(json!([])),
        "has_modules": latest.is_none_or(|v| v.get("main_module").is_some()),
        "has_assets": latest.is_some_and(|v| v.get("assets").is_some()),
        "logpush": w.settings["logpush"],
        "observability": w.settings["observability"],
        "tail_consumers": w.settings["tail_consumers"],
        "last_deployed_from": last_deployed_from(w),
        // Present once a migration was applied (docs/cloudflare-api.md §C.2: wrangler reads it
        // here).
        "migration_tag": w.migration_tag,
    });
    // The script object's `exports` (docs/cloudflare-api.md §H.10): the Durable Object exports
    // the Worker has applied. INFERRED: absent before any.
    if let Some(e) = &w.exports {
        script["exports"] = e.clone();
    }
    script
}

/// INFERRED: an etag that changes with every version.
fn etag(w: &Worker) -> String {
    let seed = w.versions.last().and_then(|v| v["id"].as_str()).unwrap_or(&w.tag);
    seed.replace('-', "").chars().rev().collect()
}

/// `GET /workers/services/{name}`: the Worker as a service with one (production) environment.
fn service_json(w: &Worker) -> Value {
    let created = time::rfc3339(w.created);
    let script = script_json(w);
    let env = json!({
        "environment": "production",
        "created_on": created,
        "modified_on": script["modified_on"],
        "script": script,
    });
    json!({
        "id": w.name,
        "default_environment": env,
        "created_on": created,
        "modified_on": env["modified_on"],
        "usage_model": "standard",
        "environments": [env],
    })
}

fn settings_json(w: &Worker) -> Value {
    let latest = w.versions.last();
    let field = |k: &str, default: Value| latest.and_then(|v| v.get(k)).cloned().unwrap_or(default);
    json!({
        "bindings": bindings_view(&field("bindings", json!([]))),
        "compatibility_date": field("compatibility_date", json!("2026-11-01")),
        "compatibility_flags": field("compatibility_flags", json!([])),
        "placement": field("placement", json!({})),
        "limits": field("limits", json!({})),
        "usage_model": "standard",
        "logpush": w.settings["logpush"],
        "tags": w.settings["tags"],
        "tail_consumers": w.settings["tail_consumers"],
        "observability": w.settings["observability"],
    })
}

/// Bindings as the API shows them: secret values never.
fn bindings_view(bindings: &Value) -> Value {
    let mut b = bindings.clone();
    version::redact_secrets(&mut b);
    b
}

/// A classic version object: the beta-shaped stored version seen through the classic lens.
fn classic_version(w: &Worker, v: &Value) -> Value {
    let source = v["source"].as_str().unwrap_or("api");
    json!({
        "id": v["id"],
        "number": v["number"],
        "metadata": {
            "author_email": v["author_email"],
            "author_id": "e9c3a3fc1d9c4de9b0d0a0b7f2f7f2c1",
            "created_on": v["created_on"],
            "modified_on": v["created_on"],
            "source": source,
            "has_preview": !v["urls"].as_array().is_none_or(Vec::is_empty),
            "hasPreview": !v["urls"].as_array().is_none_or(Vec::is_empty),
        },
        "annotations": v["annotations"],
        "resources": {
            "script": {
                "etag": v["id"].as_str().unwrap_or_default().replace('-', ""),
                "handlers": ["fetch"],
                "named_handlers": [],
                "last_deployed_from": last_deployed_from(w),
            },
            "script_runtime": {
                "compatibility_date": v.get("compatibility_date").cloned().unwrap_or(Value::Null),
                "compatibility_flags": v.get("compatibility_flags").cloned().unwrap_or(json!([])),
                "usage_model": "standard",
                "limits": v.get("limits").cloned().unwrap_or(json!({})),
            },
            "bindings": bindings_view(&v.get("bindings").cloned().unwrap_or(json!([]))),
        },
        "startup_time_ms": v["startup_time_ms"],
    })
}

/// The classic wire format (a `metadata` part and module parts) into a [`Draft`], resolving
/// `inherit` bindings and `keep_bindings` against Worker `i`'s latest version.
fn parse_upload(state: &State, i: usize, body: &[u8]) -> Result<Draft, Reply> {
    let Some(parts) = multipart::parse(body) else {
        return Err(envelope::fail(400, 10001, "Expected a multipart/form-data body"));
    };
    let (meta, parts): (Vec<_>, Vec<_>) = parts.into_iter().partition(|p| p.name == "metadata");
    let Some(meta) = meta.first() else {
        return Err(envelope::bad_request("Expected a metadata part"));
    };
    let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(&meta.data) else {
        return Err(envelope::bad_request("The metadata part is not a JSON object"));
    };
    let main = metadata.get("main_module").or_else(|| metadata.get("body_part")).and_then(Value::as_str);
    // An assets-only upload has no code (docs/cloudflare-api.md §A.8: metadata `{assets, ...}`
    // only).
    if main.is_none() && metadata.get("assets").is_none() {
        return Err(envelope::bad_request("metadata must name main_module (or body_part)"));
    }
    let modules = parts
        .into_iter()
        .map(|p| {
            let ct = p.content_type.as_deref().unwrap_or("application/octet-stream");
            let content_type = ct.split(';').next().unwrap_or_default().trim().to_owned();
            Module { name: p.name, content_type, content: p.data }
        })
        .collect();
    let mut fields = Map::new();
    for k in [
        "compatibility_date",
        "compatibility_flags",
        "limits",
        "placement",
        "annotations",
        "migrations",
        "exports",
        "assets",
    ] {
        if let Some(v) = metadata.get(k) {
            fields.insert(k.into(), v.clone());
        }
    }
    if let Some(b) = metadata.get("bindings") {
        fields.insert("bindings".into(), b.clone());
    }
    let draft = Draft { main_module: main.map(str::to_owned), modules, fields, source: "wrangler" };
    // Resolve after validating, so a malformed bindings list is refused rather than patched.
    version::validate(&draft)?;
    Ok(resolve_bindings(state, i, draft, &metadata))
}

/// The types named in `keep_bindings` carry over from the latest version (docs/cloudflare-api.md
/// §C.6); `inherit` bindings are resolved by [`version::create`], as for the beta upload.
fn resolve_bindings(state: &State, i: usize, mut draft: Draft, metadata: &Map<String, Value>) -> Draft {
    let w = &state.workers[i];
    let mut bindings: Vec<Value> = draft.fields.get("bindings").and_then(Value::as_array).cloned().unwrap_or_default();
    let previous: Vec<Value> = w.versions.last().and_then(|v| v["bindings"].as_array()).cloned().unwrap_or_default();
    let keep: Vec<&str> = metadata
        .get("keep_bindings")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for p in &previous {
        if p["type"].as_str().is_some_and(|t| keep.contains(&t)) && !bindings.iter().any(|b| b["name"] == p["name"]) {
            bindings.push(p.clone());
        }
    }
    draft.fields.insert("bindings".into(), Value::Array(bindings));
    draft
}

/// `PUT /workers/scripts/{name}`: upload and deploy at once, creating the Worker if needed
/// (what `wrangler deploy` does for a Worker that does not exist yet).
fn upload_script(state: &mut State, name: &str, body: &[u8], unresolved: Unresolved) -> Reply {
    if !valid_worker_name(name) {
        return envelope::fail(400, 10016, "Worker name is invalid");
    }
    // The Worker is created first so the upload resolves against it, and removed again when
    // the upload is refused: a refused upload creates nothing.
    let (i, created) = if let Some(i) = find(state, name) {
        (i, false)
    } else {
        // INFERRED: workers.dev off until asked for, as on the beta create
        // (docs/cloudflare-api.md Correction 1); wrangler turns it on with `POST .../subdomain`
        // right after.
        state.workers.push(Worker::new(name, false, false));
        (state.workers.len() - 1, true)
    };
    // The settings that are not versioned travel in the classic upload's metadata
    // (docs/cloudflare-api.md §T.6), checked as the settings PATCH checks them.
    let settings = match script_settings_of(body) {
        Ok(s) => s,
        Err(reply) => {
            if created {
                state.workers.pop();
            }
            return reply;
        }
    };
    let stored = match parse_upload(state, i, body).and_then(|d| version::create(state, i, d, unresolved, true)) {
        Ok(v) => v,
        Err(reply) => {
            if created {
                state.workers.pop();
            }
            return reply;
        }
    };
    let w = &mut state.workers[i];
    if let Err(reply) = crate::routes::patch_settings(&mut w.settings, &settings) {
        return reply;
    }
    let versions = [json!({ "version_id": stored["id"], "percentage": 100.0 })];
    w.deployments.push(deployment_json(&versions, "wrangler", "upload", None));
    let mut script = script_json(w);
    script["deployment_id"] = stored["id"].clone();
    script["startup_time_ms"] = stored["startup_time_ms"].clone();
    script["pipeline_hash"] = Value::Null;
    envelope::reply(script)
}

/// The non-versioned settings a classic upload's metadata names (`logpush`, `observability`,
/// `tail_consumers`, `tags`), checked before anything is stored.
fn script_settings_of(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    let meta = multipart::parse(body)
        .and_then(|parts| parts.into_iter().find(|p| p.name == "metadata"))
        .and_then(|p| serde_json::from_slice::<Value>(&p.data).ok());
    let mut out = Map::new();
    if let Some(Value::Object(m)) = meta {
        for k in ["logpush", "observability", "tail_consumers", "tags"] {
            if let Some(v) = m.get(k) {
                out.insert(k.to_owned(), v.clone());
            }
        }
    }
    let mut probe = crate::routes::default_settings();
    crate::routes::patch_settings(&mut probe, &out)?;
    Ok(out)
}

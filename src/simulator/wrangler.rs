//! The classic Workers endpoints that `wrangler versions upload` and `wrangler deploy` call, so
//! wrangler (and wrangler-based workflows) can run against the simulator offline, and the
//! benchmarks can compare it with workers-ci on equal terms.
//!
//! Versions uploaded here (multipart, `cloudflare-api.md` §4.3) are stored in the same
//! `Worker::versions` as the beta API's, so `workers-ci deploy` can deploy a version wrangler
//! uploaded and the other way round. Deployments reuse the beta routes in `state` (§5); the
//! account subdomain route is there too (§6). Answer shapes follow what wrangler reads (its
//! `src/versions/api.ts`, `versions/upload`, `deploy/deploy.ts`, `triggers/deploy.ts`);
//! where the API documents nothing the choice is marked `INFERRED`.

use std::time::SystemTime;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::state::{CONTENT_TYPES, Reply, State, Worker, workers_error, workers_ok};
use crate::random;
use crate::rfc3339;

/// Answers the request when it is one of the classic endpoints; `None` leaves it to `state`.
/// `path` is relative to `/accounts/{id}`.
pub(super) fn handle(state: &mut State, method: &str, path: &str, body: &[u8]) -> Option<Reply> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let reply = match (method, segs.as_slice()) {
        ("GET", ["workers", "services", name]) => match find(state, name) {
            Some(i) => (200, workers_ok(service_json(&state.workers[i]))),
            None => not_found(),
        },
        ("PUT", ["workers", "scripts", name]) => upload_script(state, name, body),
        ("GET", ["workers", "scripts", name, "settings"]) => match find(state, name) {
            Some(i) => (200, workers_ok(settings_json(&state.workers[i]))),
            None => not_found(),
        },
        ("GET" | "PATCH", ["workers", "scripts", name, "script-settings"]) => match find(state, name) {
            // INFERRED: the non-versioned settings are not stored; the answer echoes the
            // request over the defaults, which is all wrangler reads.
            Some(_) => {
                let mut s = json!({ "logpush": false, "tail_consumers": null, "observability": { "enabled": false }, "tags": [] });
                if method == "PATCH"
                    && let Ok(Value::Object(patch)) = serde_json::from_slice::<Value>(body)
                {
                    for (k, v) in patch {
                        s[k] = v;
                    }
                }
                (200, workers_ok(s))
            }
            None => not_found(),
        },
        ("POST", ["workers", "scripts", name, "versions"]) => match find(state, name) {
            Some(i) => match parse_upload(body) {
                Ok(upload) => {
                    let stored = store_version(state, i, upload);
                    (200, workers_ok(classic_version(&state.workers[i], &stored)))
                }
                Err(reply) => reply,
            },
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "versions"]) => match find(state, name) {
            Some(i) => {
                let w = &state.workers[i];
                let items: Vec<Value> = w.versions.iter().rev().map(|v| classic_version(w, v)).collect();
                (200, workers_ok(json!({ "items": items })))
            }
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "versions", id]) => match find(state, name) {
            Some(i) => {
                let w = &state.workers[i];
                match w.versions.iter().find(|v| v["id"] == *id) {
                    Some(v) => (200, workers_ok(classic_version(w, v))),
                    None => (404, workers_error(10007, "Version not found")),
                }
            }
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "subdomain"]) => match find(state, name) {
            // INFERRED: the per-Worker toggle is not stored; every Worker serves on workers.dev
            // (with previews) when the account has a subdomain, as the beta `Worker.subdomain`
            // in `state` says.
            Some(_) => {
                let on = state.config.subdomain.is_some();
                (200, workers_ok(json!({ "enabled": on, "previews_enabled": on })))
            }
            None => not_found(),
        },
        ("POST", ["workers", "scripts", name, "subdomain"]) => match find(state, name) {
            Some(_) if state.config.subdomain.is_none() => {
                (400, workers_error(10063, "Please register a workers.dev subdomain first"))
            }
            Some(_) => {
                let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let Some(enabled) = req.get("enabled").and_then(Value::as_bool) else {
                    return Some((400, workers_error(10021, "enabled is required")));
                };
                let previews = req.get("previews_enabled").and_then(Value::as_bool).unwrap_or(enabled);
                (200, workers_ok(json!({ "enabled": enabled, "previews_enabled": previews })))
            }
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "routes"]) => match find(state, name) {
            Some(_) => (200, workers_ok(json!([]))),
            None => not_found(),
        },
        ("GET", ["workers", "scripts", name, "schedules"]) | ("PUT", ["workers", "scripts", name, "schedules"]) => {
            match find(state, name) {
                Some(_) => {
                    let schedules = serde_json::from_slice::<Value>(body).ok().filter(Value::is_array);
                    (200, workers_ok(json!({ "schedules": schedules.unwrap_or_else(|| json!([])) })))
                }
                None => not_found(),
            }
        }
        _ => return None,
    };
    Some(reply)
}

fn find(state: &State, name: &str) -> Option<usize> {
    state.workers.iter().position(|w| w.name == name)
}

/// What wrangler expects for a missing Worker (it checks the code, 10007).
fn not_found() -> Reply {
    (404, workers_error(10007, "This Worker does not exist on your account."))
}

fn bad_request(message: &str) -> Reply {
    (400, workers_error(10021, message))
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
    json!({
        "id": w.name,
        "tag": w.tag,
        "tags": [],
        "etag": etag(w),
        "handlers": ["fetch"],
        "named_handlers": [],
        "created_on": rfc3339::format(w.created),
        "modified_on": latest.map_or_else(|| json!(rfc3339::format(w.created)), |v| v["created_on"].clone()),
        "usage_model": "standard",
        "compatibility_date": latest.and_then(|v| v.get("compatibility_date")).cloned().unwrap_or(json!("2026-11-01")),
        "compatibility_flags": latest.and_then(|v| v.get("compatibility_flags")).cloned().unwrap_or(json!([])),
        "has_modules": true,
        "has_assets": false,
        "logpush": false,
        "last_deployed_from": last_deployed_from(w),
    })
}

/// INFERRED: an etag that changes with every version.
fn etag(w: &Worker) -> String {
    let seed = w.versions.last().and_then(|v| v["id"].as_str()).unwrap_or(&w.tag);
    seed.replace('-', "").chars().rev().collect()
}

/// `GET /workers/services/{name}`: the Worker as a service with one (production) environment.
fn service_json(w: &Worker) -> Value {
    let created = rfc3339::format(w.created);
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
        "logpush": false,
        "tags": [],
        "tail_consumers": null,
        "observability": { "enabled": false },
    })
}

/// Bindings as the API shows them: secret values never.
fn bindings_view(bindings: &Value) -> Value {
    let mut b = bindings.clone();
    if let Some(list) = b.as_array_mut() {
        for x in list {
            if x["type"] == "secret_text"
                && let Some(o) = x.as_object_mut()
            {
                o.remove("text");
            }
        }
    }
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

/// One part of a `multipart/form-data` body.
struct Part {
    name: String,
    content_type: Option<String>,
    data: Vec<u8>,
}

/// A parsed classic upload: the `metadata` part and the module parts.
struct Upload {
    metadata: Map<String, Value>,
    parts: Vec<Part>,
}

/// Splits a `multipart/form-data` body. The boundary is read from the body's first line (the
/// body must start with the delimiter; RFC 2046 allows a preamble, which no client sends here).
fn multipart(body: &[u8]) -> Option<Vec<Part>> {
    let first_end = find_bytes(body, b"\r\n", 0)?;
    let boundary = body[..first_end].strip_prefix(b"--")?;
    if boundary.is_empty() || boundary.len() > 200 {
        return None;
    }
    let delimiter = [b"\r\n--".as_slice(), boundary].concat();
    let mut parts = Vec::new();
    let mut pos = first_end + 2;
    loop {
        let head_end = find_bytes(body, b"\r\n\r\n", pos)?;
        let headers = std::str::from_utf8(&body[pos..head_end]).ok()?;
        let data_start = head_end + 4;
        let data_end = find_bytes(body, &delimiter, data_start)?;
        let mut name = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let (k, v) = line.split_once(':')?;
            match k.trim().to_ascii_lowercase().as_str() {
                "content-disposition" => name = param(v, "name"),
                "content-type" => content_type = Some(v.trim().to_owned()),
                _ => {}
            }
        }
        parts.push(Part { name: name?, content_type, data: body[data_start..data_end].to_vec() });
        let after = data_end + delimiter.len();
        match body.get(after..after + 2) {
            Some(b"--") => return Some(parts),
            Some(b"\r\n") => pos = after + 2,
            _ => return None,
        }
    }
}

/// A quoted (or bare) parameter of a header value, e.g. `name` in `form-data; name="x"`.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find_bytes(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let next = hay[i..=hay.len() - needle.len()].iter().position(|b| *b == first)? + i;
        if hay[next..].starts_with(needle) {
            return Some(next);
        }
        i = next + 1;
    }
    None
}

fn parse_upload(body: &[u8]) -> Result<Upload, Reply> {
    let Some(parts) = multipart(body) else {
        return Err((400, workers_error(10001, "Expected a multipart/form-data body")));
    };
    let (meta, parts): (Vec<Part>, Vec<Part>) = parts.into_iter().partition(|p| p.name == "metadata");
    let Some(meta) = meta.first() else {
        return Err((400, workers_error(10021, "Expected a metadata part")));
    };
    let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(&meta.data) else {
        return Err(bad_request("The metadata part is not a JSON object"));
    };
    let main = metadata.get("main_module").or_else(|| metadata.get("body_part")).and_then(Value::as_str);
    let Some(main) = main else {
        return Err(bad_request("metadata must name main_module (or body_part)"));
    };
    if !parts.iter().any(|p| p.name == main) {
        return Err(bad_request(&format!("No such module \"{main}\"")));
    }
    for p in &parts {
        let ct = p.content_type.as_deref().unwrap_or("application/octet-stream");
        let ct = ct.split(';').next().unwrap_or_default().trim();
        if !CONTENT_TYPES.contains(&ct) {
            return Err((400, workers_error(10001, &format!("Unsupported content type `{ct}` for part {}", p.name))));
        }
    }
    if let Some(date) = metadata.get("compatibility_date") {
        let ok =
            date.as_str().is_some_and(|d| d.len() == 10 && rfc3339::parse_millis(&format!("{d}T00:00:00Z")).is_some());
        if !ok {
            return Err(bad_request("compatibility_date must be YYYY-MM-DD"));
        }
    }
    Ok(Upload { metadata, parts })
}

/// Stores a classic upload as a beta-shaped version (modules base64-encoded) and returns it.
fn store_version(state: &mut State, i: usize, upload: Upload) -> Value {
    let Upload { metadata, parts } = upload;
    let main = metadata.get("main_module").or_else(|| metadata.get("body_part")).cloned().unwrap_or(Value::Null);
    let modules: Vec<Value> = parts
        .iter()
        .map(|p| {
            let ct = p.content_type.as_deref().unwrap_or("application/octet-stream");
            json!({
                "name": p.name,
                "content_type": ct.split(';').next().unwrap_or_default().trim(),
                "content_base64": base64::engine::general_purpose::STANDARD.encode(&p.data),
            })
        })
        .collect();
    let w = &mut state.workers[i];
    let mut bindings: Vec<Value> = metadata.get("bindings").and_then(Value::as_array).cloned().unwrap_or_default();
    // `inherit` bindings and the types named in `keep_bindings` carry over from the latest
    // version. INFERRED: `bindings_inherit=strict` (an error for an `inherit` binding with nothing
    // to inherit) is not enforced; the binding is kept as given.
    let previous: Vec<Value> = w.versions.last().and_then(|v| v["bindings"].as_array()).cloned().unwrap_or_default();
    let keep: Vec<&str> = metadata
        .get("keep_bindings")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for b in &mut bindings {
        if b["type"] == "inherit"
            && let Some(old) = previous.iter().find(|p| p["name"] == b["name"])
        {
            *b = old.clone();
        }
    }
    for p in &previous {
        if p["type"].as_str().is_some_and(|t| keep.contains(&t)) && !bindings.iter().any(|b| b["name"] == p["name"]) {
            bindings.push(p.clone());
        }
    }
    let mut annotations = metadata.get("annotations").and_then(Value::as_object).cloned().unwrap_or_default();
    annotations.retain(|_, v| !v.is_null());
    // INFERRED, as for the beta API in `state`.
    annotations.insert("workers/triggered_by".into(), "upload".into());
    let id = random::uuid_v4();
    let urls: Vec<String> =
        state.config.subdomain.iter().map(|s| format!("https://{}-{}.{s}.workers.dev", &id[..8], w.name)).collect();
    let mut stored = json!({
        "id": id,
        "number": w.versions.len() + 1,
        "created_on": rfc3339::format(SystemTime::now()),
        "main_module": main,
        "modules": modules,
        "bindings": bindings,
        "annotations": annotations,
        "urls": urls,
        "source": "wrangler",
        "author_email": "dev@example.com",
        "startup_time_ms": 7,
    });
    for k in ["compatibility_date", "compatibility_flags", "limits", "placement"] {
        if let Some(v) = metadata.get(k) {
            stored[k] = v.clone();
        }
    }
    w.versions.push(stored.clone());
    stored
}

/// `PUT /workers/scripts/{name}`: upload and deploy at once, creating the Worker if needed
/// (what `wrangler deploy` does for a Worker that does not exist yet).
fn upload_script(state: &mut State, name: &str, body: &[u8]) -> Reply {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid {
        return (400, workers_error(10016, "Worker name is invalid"));
    }
    let upload = match parse_upload(body) {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let i = match find(state, name) {
        Some(i) => i,
        None => {
            state.workers.push(Worker::new(name));
            state.workers.len() - 1
        }
    };
    let stored = store_version(state, i, upload);
    let w = &mut state.workers[i];
    let deployment = json!({
        "id": random::uuid_v4(),
        "created_on": rfc3339::format(SystemTime::now()),
        "source": "wrangler",
        "strategy": "percentage",
        "versions": [{ "version_id": stored["id"], "percentage": 100.0 }],
        "annotations": { "workers/triggered_by": "upload" },
        "author_email": "dev@example.com",
    });
    w.deployments.push(deployment);
    let mut script = script_json(w);
    script["deployment_id"] = stored["id"].clone();
    script["startup_time_ms"] = stored["startup_time_ms"].clone();
    script["pipeline_hash"] = Value::Null;
    (200, workers_ok(script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_round_trip() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"main_module\":\"index.js\"}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nexport default {}\r\n--XyZ--\r\n";
        let parts = multipart(body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].name, "index.js");
        assert_eq!(parts[1].content_type.as_deref(), Some("application/javascript+module"));
        assert_eq!(parts[1].data, b"export default {}");
        assert!(multipart(b"no multipart here").is_none());
        assert!(multipart(b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated").is_none());
    }

    #[test]
    fn find_bytes_finds_late_and_overlapping_needles() {
        assert_eq!(find_bytes(b"aaab", b"ab", 0), Some(2));
        assert_eq!(find_bytes(b"abc", b"abcd", 0), None);
        assert_eq!(find_bytes(b"xx\r\n--b", b"\r\n--b", 1), Some(2));
    }
}

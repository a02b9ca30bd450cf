//! Workers Builds (docs/cloudflare-api.md §3): triggers, starting a build, listing and reading
//! builds, logs by cursor, cancelling. Errors use the Builds codes (12000 not found, 12002
//! invalid request).

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use super::Request;
use crate::config::ListOrder;
use crate::envelope::{self, Reply};
use crate::state::{Build, State};
use crate::{random, time};

pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let reply = match (req.method, req.segs.as_slice()) {
        ("GET", ["builds", "workers", tag, "triggers"]) => match state.worker_by_tag(tag) {
            // INFERRED: a Worker without triggers (no Builds configuration) answers 404 like an
            // unknown tag (§3.2 documents neither; docs/api-assumptions.md row 24).
            Some(w) if !w.triggers.is_empty() => envelope::reply(Value::Array(w.triggers.clone())),
            _ => envelope::builds_not_found(),
        },
        ("POST", ["builds", "triggers", trigger_uuid, "builds"]) => start(state, trigger_uuid, req.body),
        ("GET", ["builds", "workers", tag, "builds"]) => list(state, tag, req),
        ("GET", ["builds", "builds", "latest"]) => latest(state, req),
        ("GET", ["builds", "builds"]) => by_versions(state, req),
        ("GET", ["builds", "builds", uuid]) => match find(state, uuid, req) {
            Some(b) => envelope::reply(b.json(req.now)),
            None => envelope::builds_not_found(),
        },
        ("GET", ["builds", "builds", uuid, "logs"]) => logs(state, uuid, req),
        ("PUT", ["builds", "builds", uuid, "cancel"]) => {
            match state.builds.iter_mut().find(|b| b.uuid == *uuid && b.visible(req.now)) {
                Some(b) => match b.cancel(req.now) {
                    Ok(v) => envelope::reply(v),
                    Err(reply) => reply,
                },
                None => envelope::builds_not_found(),
            }
        }
        _ => return None,
    };
    Some(reply)
}

/// A build the client may see: created, and past its start (a pushed build appears later).
fn find<'s>(state: &'s State, uuid: &str, req: &Request) -> Option<&'s Build> {
    state.builds.iter().find(|b| b.uuid == uuid && b.visible(req.now))
}

fn start(state: &mut State, trigger_uuid: &str, body: &[u8]) -> Reply {
    let Some((tag, trigger)) = state.workers.iter().find_map(|w| {
        w.triggers.iter().find(|t| t["trigger_uuid"] == trigger_uuid).map(|t| (w.tag.clone(), t.clone()))
    }) else {
        return envelope::builds_not_found();
    };
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let branch = req.get("branch").and_then(Value::as_str).filter(|s| !s.is_empty());
    let commit = req.get("commit_hash").and_then(Value::as_str).filter(|s| !s.is_empty());
    if !req.is_object() || (branch.is_none() && commit.is_none()) {
        return envelope::builds_invalid("Invalid request body");
    }
    let branch = branch.unwrap_or("main").to_owned();
    let commit = commit.map_or_else(|| random::hex(20), str::to_owned);
    let uuid = state.new_build(&tag, &trigger, branch, commit, "api", Duration::ZERO);
    envelope::reply(json!({ "build_uuid": uuid, "created_on": time::now() }))
}

/// §3.4: `page` (min 1), `per_page` (min 1, max 200), `result_info` = `builds_PaginationInfo`
/// (all five fields). A page past the end is empty, as the SDK's pager expects (§1.2).
fn list(state: &State, tag: &str, req: &Request) -> Reply {
    if state.worker_by_tag(tag).is_none() {
        return envelope::builds_not_found();
    }
    let page = req.number("page").unwrap_or(1);
    // INFERRED default page size: none is documented (§8-5); [MCP] sends 10.
    let per_page = req.number("per_page").unwrap_or(10);
    if page == 0 {
        return envelope::builds_invalid("page must be at least 1");
    }
    if per_page == 0 || per_page > 200 {
        return envelope::builds_invalid("per_page must be between 1 and 200");
    }
    let mut list: Vec<&Build> = state.builds.iter().filter(|b| b.tag == tag && b.visible(req.now)).collect();
    // Ordering is undocumented (§3.4); SimConfig::list_order picks it.
    match state.config.list_order {
        ListOrder::NewestFirst => list.sort_by_key(|b| std::cmp::Reverse(b.start)),
        ListOrder::OldestFirst => list.sort_by_key(|b| b.start),
    }
    let total = list.len();
    let items: Vec<Value> = list.iter().skip((page - 1) * per_page).take(per_page).map(|b| b.json(req.now)).collect();
    let info = json!({ "count": items.len(), "page": page, "per_page": per_page, "total_count": total, "total_pages": total.div_ceil(per_page) });
    (200, envelope::ok_page(items, info))
}

/// The most builds one batched read may name: "Comma-separated list of system-generated worker
/// script tags (max 20)" (docs/cloudflare-api.md §3.6, §E.4).
const LATEST_MAX: usize = 20;

/// §3.6 `getLatestBuildsByScripts`: each named Worker's newest build, keyed by its tag
/// (INFERRED, §G-17: "key presumably the tag"). A tag with no build, or no Worker, is left out
/// of the map, as the sibling `version_ids` read leaves out what it cannot map (§E.4, INFERRED).
/// More than 20 tags is refused (the limit is documented, the error is not: §G-17, INFERRED
/// 400/12002), and so is a missing or empty parameter (it is `required`). `preview_url` is
/// left out: the newer spec has it on Get-by-UUID only (§E.5).
fn latest(state: &State, req: &Request) -> Reply {
    let Some(raw) = req.query.get("external_script_ids").filter(|s| !s.is_empty()) else {
        return envelope::builds_invalid("external_script_ids is required");
    };
    let tags: Vec<&str> = raw.split(',').collect();
    if tags.iter().any(|t| t.is_empty()) {
        return envelope::builds_invalid("external_script_ids must not contain empty ids");
    }
    if tags.len() > LATEST_MAX {
        return envelope::builds_invalid("external_script_ids accepts at most 20 ids");
    }
    let mut builds = serde_json::Map::new();
    for tag in tags {
        let newest = state.builds.iter().filter(|b| b.tag == tag && b.visible(req.now)).max_by_key(|b| b.start);
        if let Some(b) = newest {
            let mut v = b.json(req.now);
            if let Some(o) = v.as_object_mut() {
                o.remove("preview_url");
            }
            builds.insert(tag.to_owned(), v);
        }
    }
    envelope::reply(json!({ "builds": builds }))
}

/// §3.6/§E.4: `version_ids` required, comma-separated, at most 20 (INFERRED: more, or none, is
/// 12002); the result maps each version a build produced to that build; a version not built by
/// Workers Builds is absent (INFERRED, §E.4).
fn by_versions(state: &State, req: &Request) -> Reply {
    let Some(ids) = req.query.get("version_ids").filter(|v| !v.is_empty()) else {
        return envelope::builds_invalid("version_ids is required");
    };
    let ids: Vec<&str> = ids.split(',').collect();
    if ids.len() > 20 {
        return envelope::builds_invalid("at most 20 version_ids");
    }
    let builds: serde_json::Map<String, Value> = state
        .builds
        .iter()
        .filter_map(|b| {
            let v = b.version_id.as_deref().filter(|v| ids.contains(v))?;
            let mut j = b.json(req.now);
            // Correction 3: `preview_url` only on Get-by-UUID.
            if let Some(o) = j.as_object_mut() {
                o.remove("preview_url");
            }
            Some((v.to_owned(), j))
        })
        .collect();
    envelope::reply(json!({ "builds": builds }))
}

/// Released lines from the cursor on, at most `log_page_size` of them (§3.7).
fn logs(state: &State, uuid: &str, req: &Request) -> Reply {
    let page_size = state.config.log_page_size.max(1);
    let ms = state.config.log_timestamps_ms;
    let with_last_cursor = state.config.cursor_on_last_page;
    let Some(b) = find(state, uuid, req) else {
        return envelope::builds_not_found();
    };
    let start = match req.query.get("cursor") {
        None => 0,
        Some(c) => match decode_cursor(c) {
            Some(o) => o,
            None => return envelope::builds_invalid("Invalid cursor"),
        },
    };
    let released = b.released(req.now);
    let start = start.min(released);
    let end = (start + page_size).min(released);
    let total = b.lines.len();
    let lines: Vec<Value> = (start..end)
        .map(|k| {
            let at = b.start_wall + b.release_at(k, total).min(b.stop().0);
            let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let ts = if ms { json!(secs.as_millis() as u64) } else { json!(secs.as_secs()) };
            json!([ts, b.lines[k]])
        })
        .collect();
    let truncated = end < released;
    let mut result = json!({ "lines": lines, "truncated": truncated });
    if truncated || with_last_cursor {
        result["cursor"] = json!(encode_cursor(end));
    }
    envelope::reply(result)
}

/// INFERRED: the cursor is opaque (§3.7); base64 JSON keeps clients from parsing it.
fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"o\":{offset}}}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("o")?.as_u64().map(|o| o as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor(&base64::engine::general_purpose::STANDARD.encode("{}")), None);
    }
}

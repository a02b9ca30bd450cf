//! Workers Builds configuration (docs/cloudflare-api.md §3.2, §3.9, §3.10; §E.1–§E.3):
//! triggers created, updated and deleted, build-time variables (secret values write-only),
//! cache purges, repository connections (upsert) and build tokens. Errors use the Builds codes
//! (docs/cloudflare-api.md §E: 400 12002, 404 12000).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Request;
use crate::envelope::{self, Reply};
use crate::state::{BUILD_TOKEN_NAME, BUILD_TOKEN_UUID, EnvVar, State};
use crate::{random, time};

pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let reply = match (req.method, req.segs.as_slice()) {
        ("GET", ["builds", "tokens"]) => tokens(req),
        ("PUT", ["builds", "repos", "connections"]) => upsert_connection(state, req.body),
        ("DELETE", ["builds", "repos", "connections", uuid]) => {
            let before = state.connections.len();
            state.connections.retain(|c| c["repo_connection_uuid"] != *uuid);
            if state.connections.len() == before { envelope::builds_not_found() } else { envelope::reply(Value::Null) }
        }
        ("POST", ["builds", "triggers"]) => create_trigger(state, req.body),
        ("PATCH", ["builds", "triggers", uuid]) => update_trigger(state, uuid, req.body),
        ("DELETE", ["builds", "triggers", uuid]) => delete_trigger(state, uuid, req),
        ("POST", ["builds", "triggers", uuid, "purge_build_cache"]) => match trigger_mut(state, uuid) {
            Some(_) => envelope::reply(Value::Null),
            None => envelope::builds_not_found(),
        },
        ("GET", ["builds", "triggers", uuid, "environment_variables"]) => match trigger_mut(state, uuid) {
            Some(_) => envelope::reply(vars_json(state, uuid)),
            None => envelope::builds_not_found(),
        },
        ("PATCH", ["builds", "triggers", uuid, "environment_variables"]) => patch_vars(state, uuid, req.body),
        ("DELETE", ["builds", "triggers", uuid, "environment_variables", key]) => {
            if trigger_mut(state, uuid).is_none() {
                return Some(envelope::builds_not_found());
            }
            // INFERRED: deleting a key that does not exist is a 404 like any other missing
            // resource (§3.9 declares 404 without saying for which).
            match state.env_vars.get_mut(*uuid).and_then(|m| m.remove(*key)) {
                Some(_) => envelope::reply(Value::Null),
                None => envelope::builds_not_found(),
            }
        }
        _ => return None,
    };
    Some(reply)
}

/// §3.10: one page of build tokens with `result_info`.
fn tokens(req: &Request) -> Reply {
    let page = req.number("page").unwrap_or(1).max(1);
    let items: Vec<Value> = if page == 1 {
        vec![json!({ "build_token_name": BUILD_TOKEN_NAME, "build_token_uuid": BUILD_TOKEN_UUID,
                     "cloudflare_token_id": "0f3c9a1e2b4d6f8a0c2e4a6b8d0f2a4c", "owner_type": "user" })]
    } else {
        Vec::new()
    };
    let per_page = req.number("per_page").unwrap_or(20);
    let info = json!({ "count": items.len(), "page": page, "per_page": per_page, "total_count": 1, "total_pages": 1 });
    (200, envelope::ok_page(items, info))
}

fn body_object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => Some(o),
        _ => None,
    }
}

fn is_str(o: &Map<String, Value>, k: &str) -> bool {
    o.get(k).is_some_and(Value::is_string)
}

fn is_str_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
}

/// §3.10/§E.3: every field required; `provider_type` one of the `SCMProviderType` values (§3.1).
/// The upsert key is INFERRED (§E.3): provider, account id and repo id.
fn upsert_connection(state: &mut State, body: &[u8]) -> Reply {
    let Some(o) = body_object(body) else { return envelope::builds_invalid("Invalid request body") };
    let fields = ["repo_id", "repo_name", "provider_type", "provider_account_id", "provider_account_name"];
    if !fields.iter().all(|f| is_str(&o, f))
        || !["github", "gitlab", "gitlab_internal", "origin"].contains(&o["provider_type"].as_str().unwrap_or(""))
    {
        return envelope::builds_invalid("Invalid request body");
    }
    let key = |c: &Value| (c["provider_type"].clone(), c["provider_account_id"].clone(), c["repo_id"].clone());
    let wanted = (o["provider_type"].clone(), o["provider_account_id"].clone(), o["repo_id"].clone());
    let now = time::now();
    let conn = if let Some(c) = state.connections.iter_mut().find(|c| key(c) == wanted) {
        c["repo_name"] = o["repo_name"].clone();
        c["provider_account_name"] = o["provider_account_name"].clone();
        c["modified_on"] = json!(now);
        c.clone()
    } else {
        let mut c = json!({ "repo_connection_uuid": random::uuid_v4(), "created_on": now, "modified_on": now, "deleted_on": null });
        for f in fields {
            c[f] = o[f].clone();
        }
        state.connections.push(c.clone());
        c
    };
    // A trigger embeds its connection (§3.1 TriggerResponse.repo_connection): keep them in step.
    for w in &mut state.workers {
        for t in &mut w.triggers {
            if t["repo_connection"]["repo_connection_uuid"] == conn["repo_connection_uuid"] {
                t["repo_connection"] = conn.clone();
            }
        }
    }
    envelope::reply(conn)
}

const LISTS: [&str; 4] = ["branch_includes", "branch_excludes", "path_includes", "path_excludes"];
const STRINGS: [&str; 4] = ["trigger_name", "build_command", "deploy_command", "root_directory"];

/// §3.2/§E.1 `CreateTriggerRequest`: everything required but `build_caching_enabled`; a missing
/// `build_token_uuid` is the documented `[12002] Invalid request body` (§3.2, docs issue #30064).
fn create_trigger(state: &mut State, body: &[u8]) -> Reply {
    let Some(o) = body_object(body) else { return envelope::builds_invalid("Invalid request body") };
    let valid = STRINGS.iter().all(|f| is_str(&o, f))
        && LISTS.iter().all(|f| o.get(*f).is_some_and(is_str_list))
        && ["external_script_id", "build_token_uuid", "repo_connection_uuid"].iter().all(|f| is_str(&o, f))
        && o.get("build_caching_enabled").is_none_or(Value::is_boolean);
    if !valid {
        return envelope::builds_invalid("Invalid request body");
    }
    // INFERRED: an unknown Worker tag, build token or connection is refused as an invalid body
    // (no 404 is declared for createTrigger, §E.1).
    let Some(w) = state.workers.iter().position(|w| w.tag == o["external_script_id"]) else {
        return envelope::builds_invalid("Invalid request body: unknown external_script_id");
    };
    if o["build_token_uuid"] != BUILD_TOKEN_UUID {
        return envelope::builds_invalid("Invalid request body: unknown build_token_uuid");
    }
    let Some(conn) = state.connections.iter().find(|c| c["repo_connection_uuid"] == o["repo_connection_uuid"]).cloned()
    else {
        return envelope::builds_invalid("Invalid request body: unknown repo_connection_uuid");
    };
    // §3: a Worker has at most two triggers. That the API enforces it, and with this status,
    // code and message, is INFERRED (docs/api-assumptions.md row 66).
    if state.workers[w].triggers.len() >= 2 {
        return envelope::builds_invalid("Invalid request body: a Worker has at most two triggers");
    }
    let now = time::now();
    let mut t = json!({
        "trigger_uuid": random::uuid_v4(),
        "external_script_id": o["external_script_id"],
        "build_caching_enabled": o.get("build_caching_enabled").cloned().unwrap_or(json!(false)),
        "build_token_name": BUILD_TOKEN_NAME,
        "build_token_uuid": BUILD_TOKEN_UUID,
        "created_on": now,
        "modified_on": now,
        "deleted_on": null,
        "repo_connection": conn,
    });
    for f in STRINGS.iter().chain(LISTS.iter()) {
        t[*f] = o[*f].clone();
    }
    state.workers[w].triggers.push(t.clone());
    envelope::reply(t)
}

fn trigger_mut<'s>(state: &'s mut State, uuid: &str) -> Option<&'s mut Value> {
    state.workers.iter_mut().flat_map(|w| w.triggers.iter_mut()).find(|t| t["trigger_uuid"] == uuid)
}

/// §3.2/§E.1 `UpdateTriggerRequest`: every field optional, each of its type; unknown fields are
/// refused (INFERRED: the simulator is not more lenient than a strict schema).
fn update_trigger(state: &mut State, uuid: &str, body: &[u8]) -> Reply {
    let Some(o) = body_object(body) else { return envelope::builds_invalid("Invalid request body") };
    let known =
        |k: &str| STRINGS.contains(&k) || LISTS.contains(&k) || k == "build_caching_enabled" || k == "build_token_uuid";
    let valid = o.iter().all(|(k, v)| {
        known(k)
            && if LISTS.contains(&k.as_str()) {
                is_str_list(v)
            } else if k == "build_caching_enabled" {
                v.is_boolean()
            } else {
                v.is_string()
            }
    });
    if !valid || o.get("build_token_uuid").is_some_and(|t| t != BUILD_TOKEN_UUID) {
        return envelope::builds_invalid("Invalid request body");
    }
    let Some(t) = trigger_mut(state, uuid) else { return envelope::builds_not_found() };
    for (k, v) in o {
        t[k.as_str()] = v;
    }
    t["modified_on"] = json!(time::now());
    envelope::reply(t.clone())
}

/// §E.1: "Delete a trigger and cancel its unfinished builds"; INFERRED: it then leaves the list.
fn delete_trigger(state: &mut State, uuid: &str, req: &Request) -> Reply {
    let Some(w) = state.workers.iter_mut().find(|w| w.triggers.iter().any(|t| t["trigger_uuid"] == uuid)) else {
        return envelope::builds_not_found();
    };
    w.triggers.retain(|t| t["trigger_uuid"] != uuid);
    for b in state.builds.iter_mut().filter(|b| b.trigger["trigger_uuid"] == uuid) {
        if b.status(req.now).0 != "stopped" {
            let _ = b.cancel(req.now);
        }
    }
    state.env_vars.remove(uuid);
    envelope::reply(Value::Null)
}

/// §3.9 GET: secrets come back with `value: null`.
fn vars_json(state: &State, uuid: &str) -> Value {
    let map: Map<String, Value> = state
        .env_vars
        .get(uuid)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let value = if v.is_secret { Value::Null } else { json!(v.value) };
                    (k.clone(), json!({ "value": value, "is_secret": v.is_secret, "created_on": v.created_on }))
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Object(map)
}

/// docs/cloudflare-api.md Correction 14 and §E.2: the map form, each entry with both `is_secret`
/// (bool) and `value` (a string of at most 5000 characters); names start with a letter or `_` and
/// hold only letters, digits and `_`. The guide's list form is not accepted (§E.2: a docs error).
/// Upsert: keys not sent are kept. INFERRED: the 64-variable limit (§E.2) counts per trigger.
fn patch_vars(state: &mut State, uuid: &str, body: &[u8]) -> Reply {
    let Some(o) = body_object(body) else { return envelope::builds_invalid("Invalid request body") };
    let valid_name = |k: &str| {
        let mut c = k.chars();
        c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut parsed = BTreeMap::new();
    for (k, v) in &o {
        let entry = v.as_object();
        let is_secret = entry.and_then(|e| e.get("is_secret")).and_then(Value::as_bool);
        let value = entry.and_then(|e| e.get("value")).and_then(Value::as_str);
        let extra = entry.is_some_and(|e| e.keys().any(|k| k != "is_secret" && k != "value"));
        match (is_secret, value) {
            (Some(s), Some(v)) if valid_name(k) && v.chars().count() <= 5000 && !extra => {
                parsed.insert(k.clone(), (v.to_owned(), s));
            }
            _ => return envelope::builds_invalid("Invalid request body"),
        }
    }
    if trigger_mut(state, uuid).is_none() {
        return envelope::builds_not_found();
    }
    let vars = state.env_vars.entry(uuid.to_owned()).or_default();
    let after = vars.keys().chain(parsed.keys()).collect::<std::collections::BTreeSet<_>>().len();
    if after > 64 {
        return envelope::builds_invalid("Too many environment variables (at most 64)");
    }
    let now = time::now();
    for (k, (value, is_secret)) in parsed {
        let created_on = vars.get(&k).map_or_else(|| now.clone(), |v| v.created_on.clone());
        vars.insert(k, EnvVar { value, is_secret, created_on });
    }
    envelope::reply(vars_json(state, uuid))
}

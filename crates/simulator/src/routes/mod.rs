//! Answers to API requests, one module per API area, tried in order. Each returns `None` for
//! a request that is not its own, so adding an area cannot change another area's answers.

pub mod assets;
mod builds;
mod builds_config;
pub mod d1;
mod previews;
mod scripts;
mod triggers;
mod workers;
mod wrangler;

pub(crate) use previews::preview_json;
pub use triggers::TriggerStore;
pub(crate) use triggers::{default_settings, patch_settings, script_routes};

use std::collections::HashMap;
use std::time::Instant;

use crate::envelope::{self, Reply};
use crate::state::State;

/// A request as the routes see it: relative to `/accounts/{id}`, query decoded.
pub struct Request<'a> {
    pub method: &'a str,
    pub segs: Vec<&'a str>,
    pub query: HashMap<String, String>,
    pub body: &'a [u8],
    /// One clock reading per request, so a build cannot change phase halfway through an answer.
    pub now: Instant,
    /// The bearer token, for the one endpoint that authorises by its own token (the assets
    /// upload, docs/cloudflare-api.md §A.3); everywhere else `http` has checked the API token
    /// already.
    pub bearer: Option<&'a str>,
    /// `Cloudflare-Workers-Script-Api-Date`, which selects a dated behaviour of the script
    /// endpoints (docs/cloudflare-api.md §C.7).
    pub api_date: Option<&'a str>,
    /// The request's `Content-Type`, for the per-file assets upload, whose body is the file
    /// itself (docs/cloudflare-api.md §A.4).
    pub content_type: Option<&'a str>,
}

impl Request<'_> {
    /// A query parameter parsed as a number; absent or unparsable both give `None`, as the
    /// simulator then uses the documented default.
    fn number(&self, key: &str) -> Option<usize> {
        self.query.get(key).and_then(|p| p.parse().ok())
    }

    fn query_is(&self, key: &str, value: &str) -> bool {
        self.query.get(key).is_some_and(|v| v == value)
    }
}

/// Answers an API request. `path` is relative to `/accounts/{id}`; `query` is the raw query.
#[cfg(test)]
pub fn handle(state: &mut State, method: &str, path: &str, query: &str, body: &[u8]) -> Reply {
    handle_with(state, method, path, query, body, None, Headers::default())
}

/// [`handle`] with the request's bearer token.
#[cfg(test)]
pub fn handle_as(state: &mut State, method: &str, path: &str, query: &str, body: &[u8], bearer: Option<&str>) -> Reply {
    handle_with(state, method, path, query, body, bearer, Headers::default())
}

/// The request headers some routes read, beyond the token.
#[derive(Clone, Copy, Debug, Default)]
pub struct Headers<'a> {
    pub api_date: Option<&'a str>,
    pub content_type: Option<&'a str>,
}

/// [`handle_as`] with the headers some routes read: `Cloudflare-Workers-Script-Api-Date` and
/// `Content-Type`.
pub fn handle_with(
    state: &mut State,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    bearer: Option<&str>,
    headers: Headers<'_>,
) -> Reply {
    // Later duplicates win, as the simulator always did; `+` and `%XX` are decoded.
    let query = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let segs = path.trim_matches('/').split('/').collect();
    let Headers { api_date, content_type } = headers;
    let req = Request { method, segs, query, body, now: Instant::now(), bearer, api_date, content_type };
    state.settle_builds(req.now);
    assets::route(state, &req)
        .or_else(|| triggers::route(state, &req))
        .or_else(|| wrangler::route(state, &req))
        .or_else(|| builds::route(state, &req))
        .or_else(|| builds_config::route(state, &req))
        .or_else(|| previews::route(state, &req))
        .or_else(|| workers::route(state, &req))
        .or_else(|| scripts::route(state, &req))
        .or_else(|| d1::route(state, &req))
        .unwrap_or_else(envelope::no_route)
}

/// Answers a request under `/zones` (`path` from `/zones` on): the zones lookup and zone routes
/// (docs/cloudflare-api.md §T.1, §T.2).
pub fn handle_zones(state: &mut State, method: &str, path: &str, query: &str, body: &[u8]) -> Reply {
    let query = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let segs = path.trim_matches('/').split('/').collect();
    let req =
        Request { method, segs, query, body, now: Instant::now(), bearer: None, api_date: None, content_type: None };
    triggers::zone_route(state, &req).unwrap_or_else(envelope::no_route)
}

/// The documented rules (docs/cloudflare-api.md) for versions, Workers and deployments, answered
/// in-process.
#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::handle;
    use crate::config::{NoDeployments, SimConfig, WorkerSeed};
    use crate::state::State;

    fn state() -> State {
        State::new(SimConfig::default())
    }

    fn call(st: &mut State, method: &str, path: &str, query: &str, body: &Value) -> (u16, Value) {
        handle(st, method, path, query, body.to_string().as_bytes())
    }

    fn code(reply: &(u16, Value)) -> Option<i64> {
        reply.1["errors"][0]["code"].as_i64()
    }

    fn upload(bindings: &Value) -> Value {
        json!({ "main_module": "index.js", "bindings": bindings,
                "modules": [{ "name": "index.js", "content_type": "application/javascript+module", "content_base64": "eA==" }] })
    }

    /// The classic non-versioned upload (`PUT /workers/scripts/{name}`) of `upload`'s JSON form:
    /// its `modules` as parts, the rest as the metadata part.
    fn put_script(st: &mut State, name: &str, version: &Value) -> (u16, Value) {
        let mut meta = version.clone();
        meta.as_object_mut().unwrap().remove("modules");
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{meta}\r\n--b\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nx\r\n--b--\r\n"
        );
        handle(st, "PUT", &format!("/workers/scripts/{name}"), "bindings_inherit=strict", body.as_bytes())
    }

    fn stored_bindings(st: &State) -> Vec<Value> {
        st.worker_versions("my-worker").last().unwrap()["bindings"].as_array().cloned().unwrap_or_default()
    }

    #[test]
    fn a_new_version_keeps_only_what_it_sends_or_inherits() {
        let mut st = state();
        let first = upload(&json!([
            { "type": "secret_text", "name": "A", "text": "one" },
            { "type": "secret_text", "name": "B", "text": "two" },
            { "type": "kv_namespace", "name": "KV", "namespace_id": "abc" },
        ]));
        assert_eq!(call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &first).0, 200);
        let v1 = st.worker_versions("my-worker")[0]["id"].as_str().unwrap().to_owned();
        // Nothing sent: nothing kept.
        assert_eq!(call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &upload(&json!([]))).0, 200);
        assert!(stored_bindings(&st).is_empty());
        // From the latest (now empty): refused on the beta endpoint, one error per binding.
        let r = call(
            &mut st,
            "POST",
            "/workers/workers/my-worker/versions",
            "",
            &upload(&json!([{ "type": "inherit", "name": "A" }])),
        );
        assert_eq!((r.0, code(&r)), (400, Some(10057)));
        // From a named version, renamed, secret value included.
        let body = upload(&json!([
            { "type": "inherit", "name": "RENAMED", "old_name": "A", "version_id": v1 },
            { "type": "inherit", "name": "KV", "version_id": v1 },
        ]));
        assert_eq!(call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &body).0, 200);
        let b = stored_bindings(&st);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0]["name"].as_str(), b[0]["text"].as_str()), (Some("RENAMED"), Some("one")));
        assert_eq!(b[1]["namespace_id"], "abc");
        // The answer never shows the value.
        let r = call(&mut st, "GET", "/workers/workers/my-worker/versions/latest", "", &Value::Null);
        assert!(r.1["result"]["bindings"][0].get("text").is_none());
    }

    #[test]
    fn the_classic_upload_drops_an_unresolved_inherit_unless_strict() {
        let mut st = state();
        let meta = json!({ "main_module": "index.js", "bindings": [{ "type": "inherit", "name": "GONE" }] });
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n--b\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nx\r\n--b--\r\n"
        );
        let r = handle(&mut st, "POST", "/workers/scripts/my-worker/versions", "", body.as_bytes());
        assert_eq!(r.0, 200, "{}", r.1);
        assert!(stored_bindings(&st).is_empty());
        let r =
            handle(&mut st, "POST", "/workers/scripts/my-worker/versions", "bindings_inherit=strict", body.as_bytes());
        assert_eq!(code(&r), Some(10057));
    }

    #[test]
    fn unknown_binding_types_are_refused() {
        let mut st = state();
        let r = call(
            &mut st,
            "POST",
            "/workers/workers/my-worker/versions",
            "",
            &upload(&json!([{ "type": "kv", "name": "X" }])),
        );
        assert_eq!((r.0, code(&r)), (400, Some(10021)));
        assert!(st.worker_versions("my-worker").is_empty());
    }

    #[test]
    fn a_worker_created_without_subdomain_is_off_workers_dev_and_its_versions_have_no_urls() {
        let mut st = state();
        let r = call(&mut st, "POST", "/workers/workers", "", &json!({ "name": "quiet" }));
        assert_eq!(r.1["result"]["subdomain"]["enabled"], false);
        assert_eq!(r.1["result"]["subdomain"]["previews_enabled"], false);
        assert_eq!(
            r.1["result"]["subdomain"]["url"], "https://quiet.example-account.workers.dev",
            "url regardless of enabled"
        );
        let r = call(&mut st, "POST", "/workers/workers/quiet/versions", "", &upload(&json!([])));
        assert_eq!(r.1["result"]["urls"], json!([]));
        let r =
            call(&mut st, "POST", "/workers/workers", "", &json!({ "name": "loud", "subdomain": { "enabled": true } }));
        assert_eq!(r.1["result"]["subdomain"]["previews_enabled"], true, "follows enabled");
        let r = call(&mut st, "POST", "/workers/workers/loud/versions", "", &upload(&json!([])));
        assert_eq!(r.1["result"]["urls"].as_array().map(Vec::len), Some(1));
        // The per-script toggle changes the same flags, with wrangler's date header only.
        let flags = json!({ "enabled": true, "previews_enabled": false }).to_string();
        let post = |st: &mut State, date| {
            super::handle_with(
                st,
                "POST",
                "/workers/scripts/quiet/subdomain",
                "",
                flags.as_bytes(),
                None,
                super::Headers { api_date: date, content_type: None },
            )
        };
        assert_eq!(post(&mut st, None).0, 400, "no date header");
        assert_eq!(post(&mut st, Some("2024-01-01")).0, 400, "another date");
        let r = post(&mut st, Some("2025-08-01"));
        assert_eq!(r.1["result"], json!({ "enabled": true, "previews_enabled": false }));
        let r = call(&mut st, "GET", "/workers/workers/quiet", "", &Value::Null);
        assert_eq!(r.1["result"]["subdomain"]["enabled"], true);
    }

    #[test]
    fn deployments_before_the_first_version_answer_as_configured() {
        let mut st = state();
        let r = call(&mut st, "GET", "/workers/scripts/my-worker/deployments", "", &Value::Null);
        assert_eq!((r.0, code(&r)), (404, Some(10007)));
        st.config.deployments_before_first_version = NoDeployments::EmptyList;
        let r = call(&mut st, "GET", "/workers/scripts/my-worker/deployments", "", &Value::Null);
        assert_eq!(r.1["result"]["deployments"], json!([]));
    }

    #[test]
    fn a_durable_object_binding_needs_its_migration() {
        let mut st = State::new(SimConfig { workers: vec![WorkerSeed::default()], ..SimConfig::default() });
        let b = json!([{ "type": "durable_object_namespace", "name": "ROOM", "class_name": "Room" }]);
        let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &upload(&b));
        assert_eq!((r.0, code(&r)), (403, Some(10123)));
        let mut with_migration = upload(&b);
        with_migration["migrations"] = json!({ "new_tag": "v1", "new_sqlite_classes": ["Room"] });
        let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &with_migration);
        assert_eq!((r.0, code(&r)), (403, Some(100_123)), "migrations need a deployment");
        let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "deploy=true", &with_migration);
        assert_eq!((r.0, code(&r)), (400, Some(10_211)), "and only the non-versioned upload applies them");
        let r = put_script(&mut st, "my-worker", &with_migration);
        assert_eq!(r.0, 200, "{}", r.1);
        let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &upload(&b));
        assert_eq!(r.0, 200, "applied now");
        let other =
            json!([{ "type": "durable_object_namespace", "name": "X", "class_name": "Y", "script_name": "elsewhere" }]);
        assert_eq!(call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &upload(&other)).0, 200);
    }

    #[test]
    fn durable_object_exports_apply_only_through_the_classic_upload() {
        let mut st = State::new(SimConfig { workers: vec![WorkerSeed::default()], ..SimConfig::default() });
        let b = json!([{ "type": "durable_object_namespace", "name": "ROOM", "class_name": "Room" }]);
        let mut v = upload(&b);
        v["exports"] = json!({ "Room": { "type": "durable-object", "storage": "sqlite" } });
        let classic_versions = |st: &mut State, v: &Value| {
            let mut meta = v.clone();
            meta.as_object_mut().unwrap().remove("modules");
            let body = format!(
                "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{meta}\r\n--b\r\nContent-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nx\r\n--b--\r\n"
            );
            handle(st, "POST", "/workers/scripts/my-worker/versions", "", body.as_bytes())
        };
        // Not provisioned yet: a binding to it is 100406, without one the change itself is 10211.
        let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &v);
        assert_eq!((r.0, code(&r)), (403, Some(100_406)), "{}", r.1);
        let mut unbound = upload(&json!([]));
        unbound["exports"] = v["exports"].clone();
        let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &unbound);
        assert_eq!((r.0, code(&r)), (400, Some(10_211)), "{}", r.1);
        let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "deploy=true", &unbound);
        assert_eq!((r.0, code(&r)), (400, Some(10_211)), "{}", r.1);
        assert_eq!(code(&classic_versions(&mut st, &unbound)), Some(10_211));
        assert!(st.worker_versions("my-worker").is_empty(), "nothing stored");
        // The classic upload provisions the class; the script shows the exports.
        let r = put_script(&mut st, "my-worker", &v);
        assert_eq!(r.0, 200, "{}", r.1);
        assert_eq!(r.1["result"]["exports"], v["exports"]);
        let r = call(&mut st, "GET", "/workers/services/my-worker", "", &Value::Null);
        assert_eq!(r.1["result"]["default_environment"]["script"]["exports"], v["exports"]);
        assert_eq!(put_script(&mut st, "my-worker", &v).0, 200, "the same exports again");
        // Unchanged exports are no lifecycle change; a changed set is.
        let first = classic_versions(&mut st, &v);
        assert_eq!(first.0, 200, "{}", first.1);
        let mut renamed = v.clone();
        renamed["exports"]["Old"] = json!({ "type": "durable-object", "state": "deleted" });
        assert_eq!(code(&classic_versions(&mut st, &renamed)), Some(10_211));
        // A split across versions with different exports is 100405.
        let bare = call(&mut st, "POST", "/workers/workers/my-worker/versions", "", &upload(&json!([])));
        let ids = [first.1["result"]["id"].clone(), bare.1["result"]["id"].clone()];
        let split = json!({ "strategy": "percentage", "versions": [
            { "version_id": ids[0], "percentage": 50.0 }, { "version_id": ids[1], "percentage": 50.0 }] });
        let r = call(&mut st, "POST", "/workers/scripts/my-worker/deployments", "", &split);
        assert_eq!((r.0, code(&r)), (400, Some(100_405)), "{}", r.1);
        // The schema: unknown types and keys, containers, both lifecycles at once.
        for (exports, expected) in [
            (json!({ "Run": { "type": "workflow", "name": "run" } }), 10_021),
            (json!({ "Room": { "type": "durable-object", "storage": "sqlite", "renamed_to": "X" } }), 10_021),
            (json!({ "Room": { "type": "durable-object", "state": "renamed" } }), 10_021),
            (json!({ "Room": { "type": "durable-object", "storage": "sqlite", "container": "c" } }), 100_402),
        ] {
            let mut bad = upload(&json!([]));
            bad["exports"] = exports;
            assert_eq!(code(&put_script(&mut st, "my-worker", &bad)), Some(expected), "{bad}");
        }
        let mut both = v.clone();
        both["migrations"] = json!({ "old_tag": null, "new_tag": "v1", "steps": [] });
        assert_eq!(code(&put_script(&mut st, "my-worker", &both)), Some(10_021));
    }

    #[test]
    fn migrations_are_checked_against_the_applied_tag_and_move_it() {
        let mut st = State::new(SimConfig { workers: vec![WorkerSeed::default()], ..SimConfig::default() });
        let tag = |st: &mut State| {
            call(st, "GET", "/workers/services/my-worker", "", &json!(null)).1["result"]["default_environment"]["script"]["migration_tag"].clone()
        };
        assert_eq!(tag(&mut st), json!(null));
        let mut v = upload(&json!([]));
        v["migrations"] = json!({ "old_tag": "v0", "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["A"] }] });
        let r = put_script(&mut st, "my-worker", &v);
        assert_eq!((r.0, code(&r)), (400, Some(10021)), "no tag applied yet: old_tag must be absent");
        v["migrations"] = json!({ "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["A"] }] });
        assert_eq!(put_script(&mut st, "my-worker", &v).0, 200);
        assert_eq!(tag(&mut st), json!("v1"));
        v["migrations"] = json!({ "new_tag": "v2", "steps": [{ "new_sqlite_classes": ["B"] }] });
        let r = put_script(&mut st, "my-worker", &v);
        assert_eq!(r.0, 400, "the Worker has v1: an upload without old_tag is refused");
        v["migrations"] = json!({ "old_tag": "v1", "new_tag": "v2", "steps": [{ "new_sqlite_classes": ["B"] }] });
        assert_eq!(put_script(&mut st, "my-worker", &v).0, 200);
        assert_eq!(tag(&mut st), json!("v2"));
    }

    #[test]
    fn rolling_back_past_a_secret_change_needs_force() {
        let mut st = state();
        let mut ids = Vec::new();
        for value in ["sv-first-1", "sv-second-2"] {
            let b = json!([{ "type": "secret_text", "name": "S", "text": value }, { "type": "plain_text", "name": "P", "text": "p" }]);
            let r = call(&mut st, "POST", "/workers/workers/my-worker/versions", "deploy=true", &upload(&b));
            ids.push(r.1["result"]["id"].clone());
        }
        let back = json!({ "strategy": "percentage", "versions": [{ "version_id": ids[0], "percentage": 100 }] });
        let r = call(&mut st, "POST", "/workers/scripts/my-worker/deployments", "", &back);
        assert_eq!(code(&r), Some(10220));
        assert!(r.1["errors"][0]["message"].as_str().unwrap().ends_with("The following secrets have changed: S"));
        assert!(!r.1.to_string().contains("sv-"), "values never in errors");
        // A split with the live version is not a rollback.
        let split = json!({ "strategy": "percentage", "versions": [{ "version_id": ids[1], "percentage": 90 }, { "version_id": ids[0], "percentage": 10 }] });
        assert_eq!(call(&mut st, "POST", "/workers/scripts/my-worker/deployments", "", &split).0, 200);
        assert_eq!(call(&mut st, "POST", "/workers/scripts/my-worker/deployments", "force=true", &back).0, 200);
    }

    /// §3.6: newest build per tag, unknown tags and tags without builds left out, the 20 limit
    /// enforced, each Worker's builds following its own profile.
    #[test]
    fn latest_builds_are_batched_by_tag_with_at_most_twenty() {
        use crate::config::BuildProfile;
        let seeds: Vec<WorkerSeed> = (0..22)
            .map(|i| WorkerSeed {
                name: format!("w{i}"),
                tag: Some(format!("{i:032x}")),
                build: (i == 1).then(|| BuildProfile { outcome: "fail".into(), ..BuildProfile::default() }),
                ..WorkerSeed::default()
            })
            .collect();
        let mut st = State::new(SimConfig { workers: seeds, ..SimConfig::default() });
        let zero = std::time::Duration::ZERO;
        let old = st.push("w0", "main", "a", zero).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let new = st.push("w0", "main", "b", zero).unwrap();
        st.push("w1", "main", "a", zero).unwrap();
        let tags = |n: usize| (0..n).map(|i| format!("{i:032x}")).collect::<Vec<_>>().join(",");
        let q = format!("external_script_ids={},{}", tags(3), "f".repeat(32));
        let r = call(&mut st, "GET", "/builds/builds/latest", &q, &Value::Null);
        assert_eq!(r.0, 200);
        let builds = r.1["result"]["builds"].as_object().unwrap();
        assert_eq!(builds.len(), 2, "w2 has no build and the fourth tag no Worker: {builds:?}");
        assert_eq!(builds[&format!("{:032x}", 0)]["build_uuid"], new.as_str());
        assert_ne!(new, old);
        assert!(builds[&format!("{:032x}", 1)]["created_on"].is_string());
        assert_eq!(st.builds.iter().find(|b| b.tag == format!("{:032x}", 1)).unwrap().profile.outcome, "fail");
        assert_eq!(st.builds.iter().find(|b| b.uuid == new).unwrap().profile.outcome, "success");
        let r =
            call(&mut st, "GET", "/builds/builds/latest", &format!("external_script_ids={}", tags(20)), &Value::Null);
        assert_eq!(r.0, 200);
        let r =
            call(&mut st, "GET", "/builds/builds/latest", &format!("external_script_ids={}", tags(21)), &Value::Null);
        assert_eq!((r.0, code(&r)), (400, Some(12002)));
        for q in ["", "external_script_ids=", "external_script_ids=a,,b"] {
            let r = call(&mut st, "GET", "/builds/builds/latest", q, &Value::Null);
            assert_eq!((r.0, code(&r)), (400, Some(12002)), "{q}");
        }
    }
}

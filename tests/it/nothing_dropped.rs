//! Nothing a Worker's latest version has is dropped silently by an upload (issue 20, point 4):
//! versioned settings the inputs do not restate are carried over, what cannot be carried stops
//! the step before any write, and every binding kind a wrangler configuration can declare is
//! sent.

use crate::common::*;
use serde_json::{Value, json};

const JS: &str = "export default { fetch() { return new Response('hi') } }\n";

/// A Worker whose latest version, uploaded straight through the API, has placement, limits,
/// cache options and a dispatch-namespace binding.
fn seed_worker_with_settings(sim: &Simulator, name: &str) {
    let (status, created) = call(
        sim,
        "POST",
        "/workers/workers",
        Some(&json!({ "name": name, "subdomain": { "enabled": true, "previews_enabled": false } })),
    );
    assert_eq!(status, 200, "{created}");
    let id = created["result"]["id"].as_str().unwrap().to_owned();
    let body = json!({
        "main_module": "index.js",
        "modules": [{ "name": "index.js", "content_type": "application/javascript+module",
                      "content_base64": "ZXhwb3J0IGRlZmF1bHQge30=" }],
        "compatibility_date": "2026-11-01",
        "bindings": [{ "type": "dispatch_namespace", "name": "DISPATCHER", "namespace": "customers" }],
        "placement": { "mode": "smart" },
        "limits": { "cpu_ms": 50 },
        "cache_options": { "enabled": true },
    });
    let (status, v) = call(sim, "POST", &format!("/workers/workers/{id}/versions"), Some(&body));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn an_inputs_only_upload_keeps_placement_limits_cache_and_a_dispatch_namespace_binding() {
    let sim = sim();
    seed_worker_with_settings(&sim, "settled");
    let run = with_module(version_invocation(&sim, "settled")).run();
    run.assert_code(0);
    let versions = sim.versions("settled");
    assert_eq!(versions.len(), 2);
    let new = &versions[1];
    assert_eq!(new["placement"], json!({ "mode": "smart" }), "{new}");
    assert_eq!(new["limits"], json!({ "cpu_ms": 50 }), "{new}");
    assert_eq!(new["cache_options"], json!({ "enabled": true }), "{new}");
    let bindings = new["bindings"].as_array().unwrap();
    assert!(
        bindings.iter().any(|b| b["type"] == "dispatch_namespace" && b["namespace"] == "customers"),
        "{bindings:?}"
    );
    assert!(
        run.stdout.contains("Kept from version 1 (not restated by the inputs): placement, limits, cache_options"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_upload_without_assets_over_a_worker_serving_assets_stops_before_any_write() {
    let sim = sim();
    let inv = with_module(version_invocation(&sim, "site").input("create_worker", "true"));
    let root = inv.dir.path().join("public");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<h1>hi</h1>\n").unwrap();
    inv.input("assets", root.to_str().unwrap()).run().assert_code(0);
    let before = sim.requests().len();
    let run = with_module(version_invocation(&sim, "site")).run();
    run.assert_code(2);
    let writes: Vec<_> =
        sim.requests()[before..].iter().filter(|r| r.method != "GET").map(|r| r.path.clone()).collect();
    assert!(writes.is_empty(), "nothing written: {writes:?}");
    assert_eq!(sim.versions("site").len(), 1);
    let text = run.everything();
    assert!(text.contains("static assets"), "{text}");
    assert!(text.contains("drop_assets"), "names the input that accepts the loss: {text}");
    // Accepting the loss uploads a version without assets.
    let run = with_module(version_invocation(&sim, "site")).input("drop_assets", "true").run();
    run.assert_code(0);
    let versions = sim.versions("site");
    assert_eq!(versions.len(), 2);
    assert!(versions[1].get("assets").is_none(), "{}", versions[1]);
}

fn project(sim: &Simulator, config: &str) -> Invocation {
    let inv = version_invocation(sim, "unused").without("worker").without("compatibility_date");
    let root = inv.dir.path();
    std::fs::create_dir_all(root.join("dist")).unwrap();
    std::fs::write(root.join("dist/index.js"), JS).unwrap();
    std::fs::write(root.join("wrangler.jsonc"), config).unwrap();
    let dir = root.to_path_buf();
    inv.cwd(&dir).input("create_worker", "true")
}

fn binding<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["bindings"].as_array().unwrap().iter().find(|b| b["name"] == name).unwrap_or_else(|| panic!("{name}: {v}"))
}

#[test]
fn a_configuration_with_ratelimits_and_workflows_sends_both_and_every_mapped_kind() {
    let sim = sim();
    let config = r#"{
      "name": "kinds", "main": "dist/index.js", "compatibility_date": "2026-11-01",
      "ratelimits": [{ "name": "LIMITER", "namespace_id": "1001", "simple": { "limit": 100, "period": 60 } }],
      "workflows": [{ "binding": "FLOW", "name": "orders", "class_name": "OrderFlow", "script_name": "other" }],
      "dispatch_namespaces": [{ "binding": "DISPATCHER", "namespace": "customers",
                                "outbound": { "service": "out", "parameters": ["customer"] } }],
      "mtls_certificates": [{ "binding": "CERT", "certificate_id": "c1" }],
      "secrets_store_secrets": [{ "binding": "API_KEY", "store_id": "s1", "secret_name": "api" }],
      "pipelines": [{ "binding": "PIPE", "pipeline": "p1" }],
      "images": { "binding": "IMAGES" },
      "media": { "binding": "MEDIA" },
      "analytics_engine_datasets": [{ "binding": "EVENTS" }],
      "cache": { "enabled": true },
      "keep_vars": true,
    }"#;
    let run = project(&sim, config).run();
    run.assert_code(0);
    let v = &sim.versions("kinds")[0];
    assert_eq!(
        binding(v, "LIMITER"),
        &json!({ "type": "ratelimit", "name": "LIMITER", "namespace_id": "1001", "simple": { "limit": 100, "period": 60 } })
    );
    assert_eq!(
        binding(v, "FLOW"),
        &json!({ "type": "workflow", "name": "FLOW", "workflow_name": "orders", "class_name": "OrderFlow", "script_name": "other" })
    );
    assert_eq!(
        binding(v, "DISPATCHER"),
        &json!({ "type": "dispatch_namespace", "name": "DISPATCHER", "namespace": "customers",
                 "outbound": { "worker": { "service": "out" }, "params": [{ "name": "customer" }] } })
    );
    assert_eq!(binding(v, "CERT")["certificate_id"], "c1");
    assert_eq!(binding(v, "API_KEY")["secret_name"], "api");
    assert_eq!(binding(v, "PIPE")["pipeline"], "p1");
    assert_eq!(binding(v, "IMAGES")["type"], "images");
    assert_eq!(binding(v, "MEDIA")["type"], "media");
    // wrangler names the dataset after the binding when the file leaves it out.
    assert_eq!(binding(v, "EVENTS")["dataset"], "EVENTS");
    assert_eq!(v["cache_options"], json!({ "enabled": true }));
    assert!(!run.stdout.contains("does not map yet"), "{}", run.stdout);
}

#[test]
fn keep_vars_keeps_the_dashboard_vars_the_file_does_not_declare() {
    let sim = sim();
    let config = r#"{ "name": "vars-kept", "main": "dist/index.js", "compatibility_date": "2026-11-01",
                      "vars": { "MODE": "prod" }, "keep_vars": true }"#;
    project(&sim, config).run().assert_code(0);
    // A var set elsewhere (the dashboard, another job): a version that adds it.
    let dashboard =
        with_module(version_invocation(&sim, "vars-kept")).input("vars", "MODE=prod\nFROM_DASHBOARD=1").run();
    dashboard.assert_code(0);
    let run = project(&sim, config).run();
    run.assert_code(0);
    let versions = sim.versions("vars-kept");
    let v = versions.last().unwrap();
    assert_eq!(binding(v, "FROM_DASHBOARD")["text"], "1", "{v}");
    assert_eq!(binding(v, "MODE")["text"], "prod");
    // Without keep_vars it is removed (and the log says so).
    let config = config.replace(", \"keep_vars\": true", "");
    let run = project(&sim, &config).run();
    run.assert_code(0);
    let v = sim.versions("vars-kept").last().unwrap().clone();
    assert!(v["bindings"].as_array().unwrap().iter().all(|b| b["name"] != "FROM_DASHBOARD"), "{v}");
    assert!(run.stdout.contains("FROM_DASHBOARD (plain_text): removed"), "{}", run.stdout);
}

#[test]
fn a_binding_kind_the_version_api_lacks_stops_before_any_request() {
    let sim = sim();
    let config = r#"{ "name": "loaders", "main": "dist/index.js", "compatibility_date": "2026-11-01",
                      "worker_loaders": [{ "binding": "LOADER" }] }"#;
    let run = project(&sim, config).run();
    run.assert_code(2);
    assert!(sim.requests().is_empty(), "no request");
    assert!(run.everything().contains("worker_loaders"), "{}", run.everything());
}

//! Declarative `exports` (docs/cloudflare-api.md §H.10), end to end: a Build Output's and a
//! wrangler configuration's Durable Object exports go through the classic upload, which deploys
//! at 100 % at once; anything else is refused before any request, and nothing is dropped.

use crate::common::*;
use serde_json::{Value, json};
use std::path::Path;
use workers_ci_simulator::Simulator;

const JS: &str = "export class Room {}\nexport default { fetch() { return new Response('hi') } }\n";

/// `worker.config.json` of a v1 tree for Worker `rooms`, with `exports` as given (JSON text).
fn worker_config(exports: &str) -> String {
    format!(
        r#"{{
  "name": "rooms",
  "compatibilityDate": "2026-11-01",
  "env": {{ "ROOM": {{ "type": "durable-object", "worker": "rooms", "exportName": "Room" }} }},
  "exports": {exports},
  "manifest": {{ "type": "complete", "mainModule": "index.js", "modules": {{ "index.js": {{ "type": "esm" }} }} }}
}}
"#
    )
}

const ROOM: &str = r#"{ "Room": { "type": "durable-object", "storage": "sqlite" } }"#;

/// A v1 Build Output under `root/.cloudflare/output` with `config` as its Worker's file.
fn tree(root: &Path, config: &str) {
    let w = root.join(".cloudflare/output/v1/workers/default");
    std::fs::create_dir_all(w.join("bundle")).unwrap();
    std::fs::write(root.join(".cloudflare/output/v1/config.json"), r#"{"buildContext": {"isPreview": false}}"#)
        .unwrap();
    std::fs::write(w.join("worker.config.json"), config).unwrap();
    std::fs::write(w.join("bundle/index.js"), JS).unwrap();
}

/// `command` run in a project holding a Build Output whose Worker file is `config`.
fn build_output(sim: &Simulator, command: &str, config: &str) -> Invocation {
    let inv = Invocation::new(sim).without("branch").without("commit").without("worker").input("command", command);
    let root = inv.dir.path().join("project");
    tree(&root, config);
    inv.cwd(&root)
}

/// The classic uploads (`PUT /workers/scripts/{worker}`) sent, their metadata parts.
fn classic_metadata(sim: &Simulator, worker: &str) -> Vec<Value> {
    classic_uploads(sim, worker).iter().map(|r| metadata_part(&r.body)).collect()
}

fn script(sim: &Simulator, worker: &str) -> Value {
    let (status, body) = call(sim, "GET", &format!("/workers/services/{worker}"), None);
    assert_eq!(status, 200, "{body}");
    body["result"]["default_environment"]["script"].clone()
}

#[test]
fn a_build_output_with_a_durable_object_export_deploys_through_one_classic_upload() {
    let sim = sim();
    let run = build_output(&sim, "deploy", &worker_config(ROOM)).input("create_worker", "true").run();
    run.assert_code(0);
    let uploads = classic_metadata(&sim, "rooms");
    assert_eq!(uploads.len(), 1, "{:?}", sim.requests());
    assert_eq!(uploads[0]["exports"], json!({"Room": {"type": "durable-object", "storage": "sqlite"}}));
    assert_eq!(requests_matching(&sim, "POST", "/versions"), 0, "no version upload");
    assert_eq!(requests_matching(&sim, "POST", "/deployments"), 0, "the upload deploys by itself");
    assert!(run.stdout.contains("the new version at 100 %, with its Durable Object exports applied"), "{}", run.stdout);
    // Read back: the export on the Worker, the binding to its own class on the version.
    assert_eq!(script(&sim, "rooms")["exports"], json!({"Room": {"type": "durable-object", "storage": "sqlite"}}));
    let versions = sim.versions("rooms");
    assert_eq!(versions.len(), 1);
    assert_eq!(
        versions[0]["bindings"],
        json!([{"name": "ROOM", "type": "durable_object_namespace", "class_name": "Room"}])
    );
    assert_eq!(sim.deployments("rooms").len(), 1);
    assert_eq!(run.output("version_id"), versions[0]["id"].as_str());
    // The same exports again: the same way, accepted.
    let again = build_output(&sim, "deploy", &worker_config(ROOM)).run();
    again.assert_code(0);
    assert_eq!(classic_metadata(&sim, "rooms").len(), 2);
    assert_eq!(sim.versions("rooms").len(), 2);
    assert_eq!(requests_matching(&sim, "POST", "/versions"), 0);
}

/// Exports a run cannot apply (no deploy at 100 % at once) stop the step before any write,
/// naming the input; once the Worker runs with them, the same exports travel unchanged with a
/// version upload, a gradual deploy or a staged rollout (a version upload that does not change
/// them is no lifecycle change, docs/cloudflare-api.md §H.10).
#[test]
fn exports_a_run_cannot_apply_stop_it_and_unchanged_ones_travel_with_any_upload() {
    let sim = sim();
    // GraphQL analytics queries are reads sent by POST (the rollout's permission check).
    let writes =
        |sim: &Simulator| sim.requests().iter().filter(|r| r.method != "GET" && !r.path.ends_with("/graphql")).count();
    // A new Worker: nothing runs these exports yet.
    let run = build_output(&sim, "version", &worker_config(ROOM)).input("create_worker", "true").run();
    run.assert_code(2);
    let all = run.everything();
    assert!(
        all.contains("(INPUT_DEPLOY, --deploy): .cloudflare/output/v1/workers/default/worker.config.json:5: exports: these Durable Object exports are new: the Worker does not exist yet"),
        "{all}"
    );
    assert_eq!(writes(&sim), 0, "{:?}", sim.requests());
    // Deployed at once, then the same exports with a plain upload, a gradual deploy and stages.
    build_output(&sim, "version", &worker_config(ROOM))
        .input("create_worker", "true")
        .input("deploy", "true")
        .run()
        .assert_code(0);
    let classic = classic_metadata(&sim, "rooms").len();
    for inputs in [
        &[][..],
        &[("deploy", "50")][..],
        &[
            ("deploy", "true"),
            ("stages", "10,100"),
            ("analytics_lag", "0s"),
            ("if_no_signal", "pass"),
            ("timeout", "1h"),
        ][..],
    ] {
        let mut inv = build_output(&sim, "version", &worker_config(ROOM));
        for (k, v) in inputs {
            inv = inv.input(k, v);
        }
        let run = inv.run();
        run.assert_code(0);
        assert!(
            run.stdout.contains("the same as the Worker's, so the version carries them unchanged"),
            "{inputs:?}: {}",
            run.stdout
        );
        let body: Value = serde_json::from_str(
            &sim.requests().into_iter().rfind(|r| r.method == "POST" && r.path.ends_with("/versions")).unwrap().body,
        )
        .unwrap();
        assert_eq!(body["exports"], json!({ "Room": { "type": "durable-object", "storage": "sqlite" } }), "{inputs:?}");
    }
    assert_eq!(classic_metadata(&sim, "rooms").len(), classic, "no other classic upload");
    // Changed exports: stopped before any write, naming `deploy`, or `stages` with them.
    let more = r#"{ "Room": { "type": "durable-object", "storage": "sqlite" }, "Lobby": { "type": "durable-object", "storage": "sqlite" } }"#;
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[],
            "(INPUT_DEPLOY, --deploy): .cloudflare/output/v1/workers/default/worker.config.json:5: exports: these Durable Object exports differ from the ones the Worker runs with",
        ),
        (&[("deploy", "50")], "a version upload that changes them is refused (10211"),
        (
            &[("deploy", "true"), ("stages", "10%,100%")],
            "(INPUT_STAGES, --stages): .cloudflare/output/v1/workers/default/worker.config.json:5: exports: these Durable Object exports differ",
        ),
    ];
    for (inputs, expected) in cases {
        let before = writes(&sim);
        let mut inv = build_output(&sim, "version", &worker_config(more));
        for (k, v) in inputs {
            inv = inv.input(k, v);
        }
        let run = inv.run();
        run.assert_code(2);
        assert!(run.everything().contains(expected), "{inputs:?}: {}", run.everything());
        assert_eq!(writes(&sim), before, "{inputs:?}: nothing written");
    }
}

#[test]
fn unknown_export_types_and_keys_name_the_file_line_and_key() {
    let cases = [
        (
            r#"{ "Room": { "type": "durable-objekt", "storage": "sqlite" } }"#,
            "worker.config.json:5: exports.Room.type: `durable-objekt` is not an export type (`durable-object` or `worker`); did you mean `durable-object`?",
        ),
        (
            "{ \"Room\": { \"type\": \"durable-object\",\n \"storage\": \"sqlite\", \"renamed_to\": \"X\" } }",
            "worker.config.json:6: exports.Room.renamed_to: is not a key of a live `durable-object` export",
        ),
        (
            r#"{ "Run": { "type": "workflow", "name": "run" } }"#,
            "worker.config.json:5: exports.Run.type: Workflow exports: workers-ci does not deploy them yet",
        ),
        (
            r#"{ "Room": { "type": "durable-object", "storage": "sqlite", "container": "box" } }"#,
            "worker.config.json:5: exports.Room.container: attaches a Container",
        ),
    ];
    for (exports, expected) in cases {
        let sim = sim();
        let run = build_output(&sim, "deploy", &worker_config(exports)).run();
        run.assert_code(2);
        assert!(run.everything().contains(expected), "{}", run.everything());
        assert!(sim.requests().is_empty());
    }
}

/// A `version` run in a project holding `wrangler.jsonc` (text) and `dist/index.js`.
fn wrangler_project(sim: &Simulator, config: &str) -> Invocation {
    let inv = version_invocation(sim, "unused").without("worker").without("compatibility_date");
    let root = inv.dir.path();
    std::fs::create_dir_all(root.join("dist")).unwrap();
    std::fs::write(root.join("dist/index.js"), JS).unwrap();
    std::fs::write(root.join("wrangler.jsonc"), config).unwrap();
    inv
}

const WRANGLER: &str = r#"{
  "name": "rooms",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "durable_objects": { "bindings": [{ "name": "ROOM", "class_name": "Room" }] },
  "exports": { "Room": { "type": "durable-object", "storage": "sqlite" } }
}
"#;

#[test]
fn a_wrangler_configuration_with_exports_deploys_the_same_way() {
    let sim = sim();
    let run = wrangler_project(&sim, WRANGLER).input("deploy", "true").input("create_worker", "true").run();
    run.assert_code(0);
    assert!(!run.stdout.contains("not supported"), "no longer ignored: {}", run.stdout);
    let uploads = classic_metadata(&sim, "rooms");
    assert_eq!(uploads.len(), 1, "{:?}", sim.requests());
    assert_eq!(uploads[0]["exports"], json!({"Room": {"type": "durable-object", "storage": "sqlite"}}));
    assert_eq!(requests_matching(&sim, "POST", "/versions"), 0);
    assert_eq!(script(&sim, "rooms")["exports"], json!({"Room": {"type": "durable-object", "storage": "sqlite"}}));
    // Without a deploy, on a Worker that does not run them: refused by name with nothing written.
    let fresh = crate::common::sim();
    let run = wrangler_project(&fresh, WRANGLER).input("create_worker", "true").run();
    run.assert_code(2);
    assert!(
        run.everything().contains(
            "(INPUT_DEPLOY, --deploy): wrangler.jsonc:6: exports: these Durable Object exports are new: the Worker does not exist yet"
        ),
        "{}",
        run.everything()
    );
    assert!(fresh.requests().iter().all(|r| r.method == "GET"), "{:?}", fresh.requests());
    // A misspelt key: the file, its line and the key.
    let fresh = crate::common::sim();
    let run = wrangler_project(&fresh, &WRANGLER.replace("\"storage\"", "\"storrage\"")).input("deploy", "true").run();
    run.assert_code(2);
    assert!(run.everything().contains("wrangler.jsonc:6: exports.Room.storrage: is not a key"), "{}", run.everything());
    assert!(fresh.requests().is_empty());
}

#[test]
fn a_dry_run_plans_the_classic_upload_for_exports() {
    let sim = sim();
    let run = build_output(&sim, "deploy", &worker_config(ROOM)).input("dry_run", "true").without("api_token").run();
    run.assert_code(0);
    assert!(run.stdout.contains("PUT") && run.stdout.contains("with the Durable Object exports of"), "{}", run.stdout);
    // An upload without that deploy reads the live exports first, and sends a version.
    let run = build_output(&sim, "version", &worker_config(ROOM)).input("dry_run", "true").without("api_token").run();
    run.assert_code(0);
    assert!(
        run.stdout.contains("read the Worker's Durable Object exports: the step goes on only if they equal those of"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("/workers/services/rooms ") && run.stdout.contains("/workers/rooms/versions "),
        "{}",
        run.stdout
    );
    assert!(sim.requests().is_empty());
}

#[test]
fn a_preview_build_sends_its_exports_with_the_preview_deployment() {
    let sim = sim();
    let inv = Invocation::new(&sim)
        .without("branch")
        .without("commit")
        .without("worker")
        .input("command", "preview")
        .input("preview_name", "feature-x")
        .input("create_worker", "true");
    let root = inv.dir.path().join("project");
    tree(&root, &worker_config(ROOM));
    std::fs::write(root.join(".cloudflare/output/v1/config.json"), r#"{"buildContext": {"isPreview": true}}"#).unwrap();
    let run = inv.cwd(&root).run();
    run.assert_code(0);
    let deployment = &sim.previews("rooms")[0]["deployments"][0];
    assert_eq!(deployment["exports"], json!({"Room": {"type": "durable-object", "storage": "sqlite"}}), "{deployment}");
    assert_eq!(
        deployment["bindings"],
        json!([{"name": "ROOM", "type": "durable_object_namespace", "class_name": "Room"}]),
        "the Preview's own namespace, provisioned by its exports"
    );
}

#[test]
fn worker_entrypoint_exports_alone_travel_in_a_version_upload() {
    let sim = sim();
    let config = worker_config(r#"{ "Api": { "type": "worker", "cache": { "enabled": true } } }"#)
        .replace(r#""env": { "ROOM": { "type": "durable-object", "worker": "rooms", "exportName": "Room" } },"#, "");
    let run = build_output(&sim, "version", &config).input("create_worker", "true").run();
    run.assert_code(0);
    assert!(classic_metadata(&sim, "rooms").is_empty(), "no lifecycle, no classic upload");
    let bodies: Vec<Value> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/versions"))
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["exports"], json!({"Api": {"type": "worker", "cache": {"enabled": true}}}));
    assert_eq!(sim.versions("rooms")[0]["exports"], bodies[0]["exports"], "stored with the version");
    assert!(sim.deployments("rooms").is_empty(), "uploaded only");
}

/// A class keeps its storage: Cloudflare's reconciliation refuses the change (100402) and says
/// per class why, which the log shows (docs/cloudflare-api.md §H.10); nothing is deployed.
#[test]
fn a_reconciliation_failure_names_each_class_and_why() {
    let sim = sim();
    let deploy = |exports: &str| {
        build_output(&sim, "version", &worker_config(exports))
            .input("create_worker", "true")
            .input("deploy", "true")
            .run()
    };
    deploy(ROOM).assert_code(0);
    let deployments = sim.deployments("rooms").len();
    let run = deploy(r#"{ "Room": { "type": "durable-object", "storage": "legacy-kv" } }"#);
    assert_eq!(run.code, 5, "Cloudflare refused the upload: {}", run.everything());
    let all = run.everything();
    assert!(all.contains("exports reconciliation failed"), "{all}");
    assert!(
        all.contains("Room: storage_type_mismatch: class Room was provisioned with sqlite storage; the upload declares legacy-kv (a class keeps its storage"),
        "{all}"
    );
    assert_eq!(sim.deployments("rooms").len(), deployments, "nothing deployed");
}

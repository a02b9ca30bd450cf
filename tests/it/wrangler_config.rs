//! `version` from a wrangler configuration, end to end: the real binary against the simulator,
//! the file found in (or named from) the working directory.

use crate::common::*;
use serde_json::{Value, json};

const JS: &str = "export default { fetch() { return new Response('hi') } }\n";

/// The same Worker in both formats (keys in different orders on purpose).
const JSONC: &str = r#"{
  // The Worker
  "name": "cfg-worker",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "compatibility_flags": ["nodejs_compat"],
  "workers_dev": false,
  "preview_urls": true,
  "vars": { "GREETING": "hi", "LIMITS": { "max": 3, "names": ["a"] }, "RATIO": 0.5, "ON": true },
  "kv_namespaces": [{ "binding": "KV", "id": "0f2ac74b498b48028cb68387c421e279", "preview_id": "p" }],
  "r2_buckets": [{ "binding": "BUCKET", "bucket_name": "b1", "jurisdiction": "eu" }],
  "d1_databases": [{ "binding": "DB", "database_name": "d", "database_id": "e6ea9bd3-4c5c-4dfb-8e2e-1a4fd7c8c2e1" }],
  "services": [{ "binding": "AUTH", "service": "auth-worker", "entrypoint": "Auth", "props": { "x": 1 } }],
  "durable_objects": { "bindings": [{ "name": "ROOM", "class_name": "Room" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Room"] }],
  "queues": { "producers": [{ "binding": "JOBS", "queue": "jobs" }] },
  "analytics_engine_datasets": [{ "binding": "AE", "dataset": "events" }],
  "ai": { "binding": "AI" },
  "vectorize": [{ "binding": "VEC", "index_name": "idx" }],
  "hyperdrive": [{ "binding": "HD", "id": "7d4e2f0c8a1b4c3d9e5f6a7b8c9d0e1f" }],
  "browser": { "binding": "BROWSER" },
  "send_email": [{ "name": "MAIL", "destination_address": "ops@example.com" }],
  "version_metadata": { "binding": "META" },
  "placement": { "mode": "smart" },
  "limits": { "cpu_ms": 50, "subrequests": 100 },
  "observability": { "enabled": true },
  "routes": ["example.com/*"],
  "frobnicate": 1,
}
"#;

const TOML: &str = r#"# The Worker
compatibility_date = "2026-11-01"
name = "cfg-worker"
main = "dist/index.js"
compatibility_flags = ["nodejs_compat"]
preview_urls = true
workers_dev = false
routes = ["example.com/*"]
frobnicate = 1

[vars]
RATIO = 0.5
ON = true
GREETING = "hi"
LIMITS = { names = ["a"], max = 3 }

[[kv_namespaces]]
binding = "KV"
id = "0f2ac74b498b48028cb68387c421e279"
preview_id = "p"

[[r2_buckets]]
binding = "BUCKET"
bucket_name = "b1"
jurisdiction = "eu"

[[d1_databases]]
binding = "DB"
database_name = "d"
database_id = "e6ea9bd3-4c5c-4dfb-8e2e-1a4fd7c8c2e1"

[[services]]
binding = "AUTH"
service = "auth-worker"
entrypoint = "Auth"
props = { x = 1 }

[durable_objects]
bindings = [{ name = "ROOM", class_name = "Room" }]

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Room"]

[queues]
producers = [{ binding = "JOBS", queue = "jobs" }]

[[analytics_engine_datasets]]
binding = "AE"
dataset = "events"

[ai]
binding = "AI"

[[vectorize]]
binding = "VEC"
index_name = "idx"

[[hyperdrive]]
binding = "HD"
id = "7d4e2f0c8a1b4c3d9e5f6a7b8c9d0e1f"

[browser]
binding = "BROWSER"

[[send_email]]
name = "MAIL"
destination_address = "ops@example.com"

[version_metadata]
binding = "META"

[placement]
mode = "smart"

[limits]
subrequests = 100
cpu_ms = 50

[observability]
enabled = true
"#;

/// A `version` run in a project directory holding `files` and `dist/index.js`, with neither
/// `worker` nor `compatibility_date` given: both come from the file.
fn project(sim: &Simulator, files: &[(&str, &str)]) -> Invocation {
    let inv = version_invocation(sim, "unused").without("worker").without("compatibility_date");
    let root = inv.dir.path();
    std::fs::create_dir_all(root.join("dist")).unwrap();
    std::fs::write(root.join("dist/index.js"), JS).unwrap();
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
    inv
}

/// The body of every version upload the simulator received, as sent; of a classic upload
/// (migrations, docs/cloudflare-api.md Correction 10), its metadata part.
fn version_bodies(sim: &Simulator) -> Vec<String> {
    sim.requests()
        .into_iter()
        .filter_map(|r| match r.method.as_str() {
            "POST" if r.path.ends_with("/versions") => Some(r.body),
            "PUT" if r.path.split_once("/workers/scripts/").is_some_and(|(_, name)| !name.contains('/')) => {
                Some(metadata_part(&r.body).to_string())
            }
            _ => None,
        })
        .collect()
}

/// The bodies of the beta versions endpoint's uploads alone.
fn beta_bodies(sim: &Simulator) -> Vec<String> {
    sim.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/versions")).map(|r| r.body).collect()
}

fn only_body(sim: &Simulator) -> Value {
    let bodies = version_bodies(sim);
    assert_eq!(bodies.len(), 1, "one upload");
    serde_json::from_str(&bodies[0]).unwrap()
}

fn warnings(run: &Run) -> String {
    run.stdout.lines().filter(|l| l.starts_with("::warning")).collect::<Vec<_>>().join("\n")
}

#[test]
fn jsonc_and_toml_give_byte_identical_version_bodies_with_every_key_mapped() {
    let mut bodies = Vec::new();
    for (file, text) in [("wrangler.jsonc", JSONC), ("wrangler.toml", TOML)] {
        let sim = sim();
        let run = project(&sim, &[(file, text)]).input("create_worker", "true").input("deploy", "true").run();
        run.assert_code(0);
        let w = warnings(&run);
        for needle in ["frobnicate (line", "not supported by workers-ci", "services[0].props"] {
            assert!(w.contains(needle), "{file}: {needle}\n{w}");
        }
        // Routes and observability are the Worker's, not the version's: the deploy applies them
        // beside the upload (tests/it/deploy_config.rs), and says nothing is left out.
        assert!(!w.contains("routes (line") && !w.contains("observability (line"), "{file}: {w}");
        let settings = call(&sim, "GET", "/workers/scripts/cfg-worker/script-settings", None).1;
        assert_eq!(settings["result"]["observability"], json!({ "enabled": true }), "{file}");
        let routes = call(&sim, "GET", "/workers/scripts/cfg-worker/routes", None).1;
        assert_eq!(routes["result"][0]["pattern"], "example.com/*", "{file}");
        // The classic upload created the Worker; its flags are set right after, as wrangler does.
        assert!(!sim.requests().iter().any(|r| r.method == "POST" && r.path.ends_with("/workers/workers")));
        let flags: Value = serde_json::from_str(
            &sim.requests()
                .iter()
                .find(|r| r.method == "POST" && r.path.ends_with("/cfg-worker/subdomain"))
                .unwrap()
                .body,
        )
        .unwrap();
        assert_eq!(flags, json!({ "enabled": false, "previews_enabled": true }), "workers_dev, preview_urls");
        assert_eq!(sim.deployments("cfg-worker").len(), 1, "migrations deploy with the upload");
        let classic = classic_uploads(&sim, "cfg-worker");
        assert_eq!(classic.len(), 1, "migrations go through the classic upload");
        assert_eq!(classic[0].body.matches("; filename=").count(), 1, "one module part");
        bodies.push(version_bodies(&sim).remove(0));
    }
    assert_eq!(bodies[0], bodies[1], "byte-identical bodies");
    let v: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(v["main_module"], "index.js");
    assert_eq!(v["compatibility_date"], "2026-11-01");
    assert_eq!(v["compatibility_flags"], json!(["nodejs_compat"]));
    assert_eq!(v["placement"], json!({ "mode": "smart" }));
    assert_eq!(v["limits"], json!({ "cpu_ms": 50, "subrequests": 100 }));
    assert_eq!(v["migrations"], json!({ "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["Room"] }] }));
    assert!(v.get("observability").is_none() && v.get("routes").is_none());
    assert_eq!(
        v["bindings"],
        json!([
            { "type": "plain_text", "name": "GREETING", "text": "hi" },
            { "type": "json", "name": "LIMITS", "json": { "max": 3, "names": ["a"] } },
            { "type": "json", "name": "ON", "json": true },
            { "type": "json", "name": "RATIO", "json": 0.5 },
            { "type": "kv_namespace", "name": "KV", "namespace_id": "0f2ac74b498b48028cb68387c421e279" },
            { "type": "durable_object_namespace", "name": "ROOM", "class_name": "Room" },
            { "type": "queue", "name": "JOBS", "queue_name": "jobs" },
            { "type": "r2_bucket", "name": "BUCKET", "bucket_name": "b1", "jurisdiction": "eu" },
            { "type": "d1", "name": "DB", "database_id": "e6ea9bd3-4c5c-4dfb-8e2e-1a4fd7c8c2e1" },
            { "type": "service", "name": "AUTH", "service": "auth-worker", "entrypoint": "Auth" },
            { "type": "analytics_engine", "name": "AE", "dataset": "events" },
            { "type": "vectorize", "name": "VEC", "index_name": "idx" },
            { "type": "hyperdrive", "name": "HD", "id": "7d4e2f0c8a1b4c3d9e5f6a7b8c9d0e1f" },
            { "type": "send_email", "name": "MAIL", "destination_address": "ops@example.com" },
            { "type": "ai", "name": "AI" },
            { "type": "browser", "name": "BROWSER" },
            { "type": "version_metadata", "name": "META" },
        ]),
        "vars sorted by name, then each kind in a fixed order, each in file order"
    );
}

/// Issue 20, point 3: a Worker created from a configuration gets wrangler's defaults: off
/// workers.dev when it has routes, on otherwise; preview URLs follow workers.dev unless
/// `preview_urls` says otherwise (docs/cloudflare-api.md §C.7).
#[test]
fn a_created_worker_takes_wranglers_subdomain_defaults() {
    for (extra, want) in [
        (r#""routes": ["example.com/*"],"#, json!({ "enabled": false, "previews_enabled": false })),
        (r#""route": "example.com/*","#, json!({ "enabled": false, "previews_enabled": false })),
        (r#""workers_dev": false,"#, json!({ "enabled": false, "previews_enabled": false })),
        (
            r#""routes": ["example.com/*"], "preview_urls": true,"#,
            json!({ "enabled": false, "previews_enabled": true }),
        ),
        (r#""routes": [],"#, json!({ "enabled": true, "previews_enabled": true })),
        ("", json!({ "enabled": true, "previews_enabled": true })),
    ] {
        let sim = sim();
        let config = format!(
            r#"{{ "name": "new-worker", "main": "dist/index.js", "compatibility_date": "2026-11-01", {extra} "vars": {{}} }}"#
        );
        let run = project(&sim, &[("wrangler.jsonc", &config)]).input("create_worker", "true").run();
        run.assert_code(0);
        let create = sim.requests().into_iter().find(|r| r.method == "POST" && r.path.ends_with("/workers/workers"));
        let body: Value = serde_json::from_str(&create.expect("created").body).unwrap();
        assert_eq!(body["subdomain"], want, "{extra}");
        let on_off = |b: &Value| if b.as_bool() == Some(true) { "on" } else { "off" };
        let said =
            format!("workers.dev {}, preview URLs {}", on_off(&want["enabled"]), on_off(&want["previews_enabled"]));
        assert!(run.stdout.contains(&said), "{extra}: {}", run.stdout);
    }
}

#[test]
fn an_environment_inherits_some_keys_not_bindings_and_names_its_worker() {
    let sim = sim();
    let file = r#"{
  "name": "app",
  "main": "dist/index.js",
  "compatibility_date": "2026-10-01",
  "vars": { "MODE": "prod" },
  "kv_namespaces": [{ "binding": "KV", "id": "prod-ns" }],
  "env": {
    "staging": {
      "kv_namespaces": [{ "binding": "KV", "id": "staging-ns" }]
    }
  }
}"#;
    let run =
        project(&sim, &[("wrangler.json", file)]).input("environment", "staging").input("create_worker", "true").run();
    run.assert_code(0);
    assert!(run.stdout.contains("environment `staging`"));
    assert!(warnings(&run).contains("`vars` exists at the top level, but not on `env.staging`"), "{}", warnings(&run));
    let v = only_body(&sim);
    assert_eq!(v["compatibility_date"], "2026-10-01", "inherited");
    assert_eq!(v["bindings"], json!([{ "type": "kv_namespace", "name": "KV", "namespace_id": "staging-ns" }]));
    assert_eq!(sim.versions("app-staging").len(), 1, "the environment's Worker is <name>-<env>");

    let run = project(&sim, &[("wrangler.json", file)]).input("environment", "qa").run();
    run.assert_code(2);
    assert!(
        run.everything().contains("no environment `qa`; the environments defined are: staging"),
        "{}",
        run.everything()
    );
}

#[test]
fn the_latest_versions_secrets_are_inherited_and_explicit_inputs_win() {
    let sim = sim();
    let secret = "s3cr3t-value-never-printed";
    let first = project(&sim, &[]).input("worker", "cfg-worker").input("compatibility_date", "2026-11-01");
    let dir = first.dir.path().join("dist").to_str().unwrap().to_owned();
    first
        .input("create_worker", "true")
        .input("dir", &dir)
        .input("secrets", &format!("API_KEY={secret}"))
        .run()
        .assert_code(0);

    let file = "name = \"cfg-worker\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n[vars]\nGREETING = \"from-file\"\nOTHER = \"kept\"\n";
    let run = project(&sim, &[("wrangler.toml", file)])
        .input("vars", "GREETING=from-input")
        .input("compatibility_date", "2026-11-15")
        .input("compatibility_flags", "nodejs_compat")
        .run();
    run.assert_code(0).assert_no_secret(secret);
    let stored = sim.versions("cfg-worker");
    let latest = stored.last().unwrap();
    assert_eq!(latest["compatibility_date"], "2026-11-15");
    assert_eq!(latest["compatibility_flags"], json!(["nodejs_compat"]));
    let by_name = |n: &str| latest["bindings"].as_array().unwrap().iter().find(|b| b["name"] == n).cloned().unwrap();
    assert_eq!(by_name("GREETING")["text"], "from-input");
    assert_eq!(by_name("OTHER")["text"], "kept");
    assert_eq!(by_name("API_KEY"), json!({ "type": "secret_text", "name": "API_KEY", "text": secret }), "inherited");
    let sent: Value = serde_json::from_str(version_bodies(&sim).last().unwrap()).unwrap();
    assert!(sent["bindings"].as_array().unwrap().contains(&json!({ "type": "inherit", "name": "API_KEY" })));
}

#[test]
fn a_syntax_error_names_file_and_line_exits_2_and_sends_nothing() {
    let sim = sim();
    let secret = "hunter2-pasted-secret";
    let file = format!(
        "{{\n  \"name\": \"w\",\n  \"vars\": {{ \"TOKEN\": \"{secret}\" }}\n  \"main\": \"dist/index.js\"\n}}\n"
    );
    let run = project(&sim, &[("wrangler.jsonc", &file)]).run();
    run.assert_code(2).assert_no_secret(secret);
    // The comma is missing at the end of line 3.
    assert!(run.everything().contains(": wrangler.jsonc:3: not valid JSON: Expected comma"), "{}", run.everything());
    assert!(sim.requests().is_empty(), "no request");
}

#[test]
fn a_bad_value_names_file_line_and_key_exits_2_and_sends_nothing() {
    let sim = sim();
    let file = "name = \"w\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n\n[[kv_namespaces]]\nbinding = \"KV\"\nid = \"a\"\n\n[[kv_namespaces]]\nbinding = \"CACHE\"\nid = 12\n";
    let run = project(&sim, &[("wrangler.toml", file)]).run();
    run.assert_code(2);
    assert!(
        run.everything().contains("wrangler.toml:11: kv_namespaces[1].id: must be a string"),
        "{}",
        run.everything()
    );
    assert!(run.everything().contains("input `config`"));
    assert!(sim.requests().is_empty());
}

#[test]
fn a_typescript_main_is_refused_with_how_to_bundle() {
    let sim = sim();
    let file = "name = \"w\"\nmain = \"src/index.ts\"\ncompatibility_date = \"2026-11-01\"\n";
    let run = project(&sim, &[("wrangler.toml", file)]).run();
    run.assert_code(2);
    let all = run.everything();
    assert!(all.contains("wrangler.toml:2: main: names a source file (.ts)"), "{all}");
    assert!(all.contains("wrangler deploy --dry-run --outdir dist"), "{all}");
    assert!(sim.requests().is_empty());
}

#[test]
fn a_bound_class_without_a_migration_is_refused_before_any_request() {
    let sim = sim();
    let file = "name = \"w\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n[durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }]\n";
    let run = project(&sim, &[("wrangler.toml", file)]).plain().run();
    run.assert_code(2);
    let all = run.everything();
    assert!(all.contains("wrangler.toml:5: durable_objects.bindings[0].class_name"), "{all}");
    assert!(all.contains("[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]"), "{all}");
    assert!(sim.requests().is_empty());
}

#[test]
fn migrations_need_deploy_and_are_sent_once() {
    let sim = sim();
    let v1 = "name = \"do-worker\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n[durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }]\n[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]\n";
    // Unapplied steps without `deploy`: refused before any write.
    let run = project(&sim, &[("wrangler.toml", v1)]).input("create_worker", "true").run();
    run.assert_code(2);
    assert!(run.everything().contains("input `deploy`"), "{}", run.everything());
    assert!(
        run.everything()
            .contains("1 Durable Object migration step(s) this Worker has not applied (none applied, up to `v1`)"),
        "{}",
        run.everything()
    );
    assert!(sim.requests().iter().all(|r| r.method == "GET"), "reads only: {:?}", sim.requests());

    project(&sim, &[("wrangler.toml", v1)]).input("create_worker", "true").input("deploy", "true").run().assert_code(0);
    let first: Value = serde_json::from_str(version_bodies(&sim).last().unwrap()).unwrap();
    assert_eq!(first["migrations"], json!({ "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["Room"] }] }));

    // Applied: the next upload sends none, and needs no deploy.
    project(&sim, &[("wrangler.toml", v1)]).run().assert_code(0);
    let second: Value = serde_json::from_str(version_bodies(&sim).last().unwrap()).unwrap();
    assert!(second.get("migrations").is_none(), "{second}");

    // A new step: only it, from the applied tag.
    let v2 = format!("{v1}[[migrations]]\ntag = \"v2\"\nnew_classes = [\"Counter\"]\n");
    project(&sim, &[("wrangler.toml", &v2)]).input("deploy", "true").run().assert_code(0);
    let third: Value = serde_json::from_str(version_bodies(&sim).last().unwrap()).unwrap();
    assert_eq!(
        third["migrations"],
        json!({ "old_tag": "v1", "new_tag": "v2", "steps": [{ "new_classes": ["Counter"] }] })
    );
}

#[test]
fn a_found_configuration_is_ignored_when_dir_is_given_and_it_sets_no_main() {
    let sim = sim();
    let inv = project(&sim, &[("wrangler.toml", "name = \"elsewhere\"\n[vars]\nA = \"1\"\n")])
        .input("worker", "my-worker")
        .input("compatibility_date", "2026-11-01");
    let dir = inv.dir.path().join("dist").to_str().unwrap().to_owned();
    let run = inv.input("dir", &dir).run();
    run.assert_code(0);
    assert!(!run.stdout.contains("Using the wrangler configuration"));
    assert_eq!(only_body(&sim)["bindings"], json!([]), "nothing from the file");
}

/// Writes files (in subdirectories too) under the project's root.
fn write_tree(root: &std::path::Path, files: &[(&str, &[u8])]) {
    for (name, bytes) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// The manifest keys a stored version's assets hold.
fn manifest_keys(v: &Value) -> Vec<String> {
    v["assets"]["manifest"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn asset_uploads(sim: &Simulator) -> Vec<String> {
    sim.requests().into_iter().filter(|r| r.path.ends_with("/workers/assets/upload")).map(|r| r.body).collect()
}

#[test]
fn an_assets_block_uploads_the_site_and_the_version_carries_its_config_and_binding() {
    let sim = sim();
    let file = r#"{
  "name": "site-app",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  // The built site, served before the Worker runs.
  "assets": {
    "directory": "./public",
    "binding": "ASSETS",
    "html_handling": "drop-trailing-slash",
    "not_found_handling": "single-page-application",
  },
}"#;
    let inv = project(&sim, &[("wrangler.jsonc", file)]).input("create_worker", "true");
    write_tree(
        inv.dir.path(),
        &[
            ("public/index.html", b"<h1>Hello</h1>\n"),
            ("public/app.js", b"console.log(1)\n"),
            ("public/_headers", b"/*\n  X-A: b\n"),
        ],
    );
    let run = inv.run();
    run.assert_code(0);
    assert!(run.stdout.contains("Assets: 2 files in"), "{}", run.stdout);
    let bodies = asset_uploads(&sim);
    assert_eq!(bodies.len(), 1, "one bucket");
    assert_eq!(bodies[0].matches("Content-Disposition").count(), 2);
    let sent = only_body(&sim);
    assert_eq!(sent["main_module"], "index.js");
    assert_eq!(
        sent["assets"]["config"],
        json!({ "html_handling": "drop-trailing-slash", "not_found_handling": "single-page-application" })
    );
    assert!(sent["assets"]["jwt"].is_string(), "the completion token: {sent}");
    assert!(sent["modules"].as_array().unwrap().iter().any(|m| m["name"] == "_headers"), "{sent}");
    let stored = &sim.versions("site-app")[0];
    assert_eq!(manifest_keys(stored), ["/app.js", "/index.html"]);
    assert_eq!(stored["assets"]["manifest"]["/index.html"]["hash"], "569c49c876d9d1d37936e494e70a80e8");
    assert_eq!(stored["assets"]["config"]["not_found_handling"], "single-page-application");
    let bindings = stored["bindings"].as_array().unwrap();
    assert!(bindings.iter().any(|b| b["type"] == "assets" && b["name"] == "ASSETS"), "{bindings:?}");
}

#[test]
fn an_assets_only_worker_from_a_config_without_main() {
    let sim = sim();
    let file = "name = \"docs-site\"\ncompatibility_date = \"2026-11-01\"\n\n[assets]\ndirectory = \"site\"\nnot_found_handling = \"404-page\"\n";
    let inv = project(&sim, &[("wrangler.toml", file)]).input("create_worker", "true");
    write_tree(inv.dir.path(), &[("site/index.html", b"<p>docs</p>"), ("site/404.html", b"<p>gone</p>")]);
    let run = inv.run();
    run.assert_code(0);
    assert!(run.stdout.contains("assets only, no code"), "{}", run.stdout);
    let sent = only_body(&sim);
    assert!(sent.get("main_module").is_none(), "no code: {sent}");
    assert!(sent["modules"].as_array().is_none_or(Vec::is_empty), "no modules: {sent}");
    assert_eq!(sent["assets"]["config"], json!({ "not_found_handling": "404-page" }));
    let stored = &sim.versions("docs-site")[0];
    assert_eq!(manifest_keys(stored), ["/404.html", "/index.html"]);
    assert!(!stored["bindings"].as_array().unwrap().iter().any(|b| b["type"] == "assets"), "no binding asked for");
}

#[test]
fn a_worker_with_assets_kv_and_a_durable_object_with_its_migration_from_one_file() {
    let sim = sim();
    let file = r#"{
  "name": "full-app",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "kv_namespaces": [{ "binding": "CACHE", "id": "0f2ac74b498b48028cb68387c421e279" }],
  "durable_objects": { "bindings": [{ "name": "ROOM", "class_name": "Room" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Room"] }],
  "assets": { "directory": "public", "binding": "ASSETS", "run_worker_first": ["/api/*"] }
}"#;
    let inv = project(&sim, &[("wrangler.json", file)]).input("create_worker", "true").input("deploy", "true");
    write_tree(inv.dir.path(), &[("public/index.html", b"<h1>Hello</h1>\n"), ("public/style.css", b"h1{}")]);
    let run = inv.run();
    run.assert_code(0);
    let sent = only_body(&sim);
    assert_eq!(sent["migrations"], json!({ "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["Room"] }] }));
    assert_eq!(sent["assets"]["config"], json!({ "run_worker_first": ["/api/*"] }));
    let stored = &sim.versions("full-app")[0];
    let mut kinds: Vec<(String, String)> = stored["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["type"].as_str().unwrap().to_owned(), b["name"].as_str().unwrap().to_owned()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [("assets", "ASSETS"), ("durable_object_namespace", "ROOM"), ("kv_namespace", "CACHE")]
            .map(|(t, n)| (t.to_owned(), n.to_owned()))
    );
    assert_eq!(manifest_keys(stored), ["/index.html", "/style.css"]);
    let deployments = sim.deployments("full-app");
    assert_eq!(deployments.len(), 1, "deployed: {deployments:?}");
    let version_id = stored["id"].as_str().unwrap();
    assert_eq!(deployments[0]["versions"][0]["version_id"], version_id);
    assert_eq!(deployments[0]["versions"][0]["percentage"], 100.0);
}

#[test]
fn assetsignore_is_honoured_and_the_assets_input_replaces_only_the_directory() {
    let sim = sim();
    let file = "name = \"ign\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n\n[assets]\ndirectory = \"public\"\nbinding = \"STATIC\"\nhtml_handling = \"none\"\n";
    let first = project(&sim, &[("wrangler.toml", file)]).input("create_worker", "true");
    let root = first.dir.path().to_owned();
    write_tree(
        &root,
        &[
            ("public/index.html", b"<p>home</p>"),
            ("public/notes.draft", b"private"),
            ("public/drafts/a.html", b"<p>wip</p>"),
            ("public/.assetsignore", b"*.draft\ndrafts/\n"),
            ("other/home.html", b"<p>other</p>"),
            ("other/x.draft", b"no ignore file here"),
        ],
    );
    let run = first.run();
    run.assert_code(0);
    assert!(run.stdout.contains("2 left out by .assetsignore"), "{}", run.stdout);
    assert_eq!(manifest_keys(&sim.versions("ign")[0]), ["/index.html"]);

    let other = root.join("other").to_str().unwrap().to_owned();
    let run = project(&sim, &[("wrangler.toml", file)]).input("assets", &other).run();
    run.assert_code(0);
    let v = &sim.versions("ign")[1];
    assert_eq!(manifest_keys(v), ["/home.html", "/x.draft"], "the input's directory, with no .assetsignore");
    assert_eq!(v["assets"]["config"], json!({ "html_handling": "none" }), "the file's serving settings");
    assert!(v["bindings"].as_array().unwrap().iter().any(|b| b["type"] == "assets" && b["name"] == "STATIC"));
}

/// Issue 25: a tiny Worker with `main = "index.js"` beside its configuration. wrangler uploads
/// what `main` needs; the configuration, lockfiles, docs, sources and `node_modules` are no
/// modules, so they are skipped and named instead of refused.
#[test]
fn a_main_at_the_project_root_uploads_its_modules_and_skips_the_rest() {
    let sim = sim();
    let inv = version_invocation(&sim, "unused").without("worker").without("compatibility_date");
    let file = "{\n  \"name\": \"tiny\",\n  \"main\": \"index.js\",\n  \"compatibility_date\": \"2026-11-01\"\n}\n";
    write_tree(
        inv.dir.path(),
        &[
            ("wrangler.jsonc", file.as_bytes()),
            ("index.js", JS.as_bytes()),
            ("lib/words.txt", b"hello"),
            ("package.json", b"{}"),
            ("package-lock.json", b"{}"),
            ("README.md", b"# tiny"),
            ("src/index.ts", b"export default {}"),
            ("node_modules/dep/index.js", b"module.exports = 1"),
            (".git/HEAD", b"ref: refs/heads/main"),
            (".wrangler/tmp/bundle.js", b"x"),
        ],
    );
    let run = inv.input("create_worker", "true").run();
    run.assert_code(0);
    let sent = only_body(&sim);
    let names: Vec<&str> = sent["modules"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["index.js", "lib/words.txt"], "{sent}");
    assert_eq!(sent["main_module"], "index.js");
    for skipped in [
        "wrangler.jsonc",
        "package.json",
        "package-lock.json",
        "README.md",
        "src/index.ts",
        "node_modules/",
        ".git/",
        ".wrangler/",
    ] {
        assert!(run.stdout.contains(&format!("Skipped {skipped}")), "{skipped}: {}", run.stdout);
    }
    assert!(!run.stdout.contains("node_modules/dep"), "a skipped folder is named once: {}", run.stdout);
}

#[test]
fn a_main_at_the_project_root_beside_its_assets_uploads_them_once_as_assets() {
    let sim = sim();
    let inv = version_invocation(&sim, "unused").without("worker").without("compatibility_date");
    let file = "{\n  \"name\": \"tiny\",\n  \"main\": \"index.js\",\n  \"compatibility_date\": \"2026-11-01\",\n  \"assets\": { \"directory\": \"./public\" }\n}\n";
    write_tree(
        inv.dir.path(),
        &[("wrangler.jsonc", file.as_bytes()), ("index.js", JS.as_bytes()), ("public/index.html", b"<h1>tiny</h1>")],
    );
    let run = inv.input("create_worker", "true").run();
    run.assert_code(0);
    let sent = only_body(&sim);
    let names: Vec<&str> = sent["modules"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["index.js"], "the pages are assets, not text modules: {sent}");
    assert!(run.stdout.contains("Skipped public/: the assets directory, uploaded as assets."), "{}", run.stdout);
    assert!(run.stdout.contains("Assets: 1 file in ./public (13 bytes)"), "{}", run.stdout);
    assert!(run.stdout.contains("Assets: 1 file, 1 uploaded, 0 unchanged"), "{}", run.stdout);
}

#[test]
fn a_name_from_the_file_that_names_no_worker_is_blamed_on_the_file() {
    let sim = sim();
    let file =
        "{\n  \"name\": \"my-wroker\",\n  \"main\": \"dist/index.js\",\n  \"compatibility_date\": \"2026-11-01\"\n}\n";
    let run = project(&sim, &[("wrangler.jsonc", file)]).plain().run();
    run.assert_code(5);
    assert_eq!(
        run.stderr.lines().last().unwrap(),
        "workers-ci: error: wrangler.jsonc:2: name: no Worker with that name exists in this account (did you mean \
         `my-worker`?). Its Workers: my-worker. Otherwise fix `name` in wrangler.jsonc (or set `--worker`), or check \
         `--account-id`; or set `--create-worker true` to create it."
    );
}

#[test]
fn a_misspelt_compatibility_date_names_the_key_and_the_fix() {
    let sim = sim();
    let file =
        "{\n  \"name\": \"typo\",\n  \"main\": \"dist/index.js\",\n  \"compatability_date\": \"2026-11-01\"\n}\n";
    let run = project(&sim, &[("wrangler.jsonc", file)]).run();
    run.assert_code(2);
    let all = run.everything();
    assert!(all.contains("wrangler.jsonc:4: compatability_date: "), "{all}");
    assert!(all.contains("did you mean `compatibility_date`?"), "{all}");
    assert!(sim.requests().is_empty());
}

#[test]
fn a_misspelt_binding_key_gets_a_did_you_mean_and_keep_bindings_all_keeps_the_live_kv() {
    let sim = sim();
    let kv = r#"[{"type":"kv_namespace","name":"CACHE","namespace_id":"0f2ac74b498b48028cb68387c421e279"}]"#;
    with_module(version_invocation(&sim, "kv-app"))
        .input("create_worker", "true")
        .input("bindings", kv)
        .run()
        .assert_code(0);
    let file = "{\n  \"name\": \"kv-app\",\n  \"main\": \"dist/index.js\",\n  \"compatibility_date\": \"2026-11-01\",\n  \"vars\": { \"MODE\": \"x\" },\n  \"kv_namespace\": [{ \"binding\": \"CACHE\", \"id\": \"0f2ac74b498b48028cb68387c421e279\" }]\n}\n";
    let run = project(&sim, &[("wrangler.jsonc", file)]).input("keep_bindings", "all").run();
    run.assert_code(0);
    let w = warnings(&run);
    assert!(w.contains("kv_namespace (line 6): "), "{w}");
    assert!(w.contains("did you mean `kv_namespaces`?"), "{w}");
    let latest = sim.versions("kv-app").into_iter().max_by_key(|v| v["number"].as_u64()).unwrap();
    let bindings = latest["bindings"].as_array().unwrap();
    assert!(bindings.iter().any(|b| b["name"] == "CACHE" && b["type"] == "kv_namespace"), "{bindings:?}");
}

#[test]
fn a_missing_assets_directory_from_the_file_is_blamed_on_the_file() {
    let sim = sim();
    let file = "name = \"blame\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n\n[assets]\ndirectory = \"site\"\n";
    let run = project(&sim, &[("wrangler.toml", file)]).input("create_worker", "true").run();
    run.assert_code(2);
    let all = run.everything();
    assert!(all.contains("wrangler.toml:6: assets.directory: "), "{all}");
    assert!(!all.contains("input `assets`"), "{all}");
    assert!(sim.requests().is_empty());
}

#[test]
fn an_oversized_asset_from_the_files_directory_is_blamed_on_the_file() {
    let sim = sim();
    let file = "name = \"blame\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n\n[assets]\ndirectory = \"site\"\n";
    let inv = project(&sim, &[("wrangler.toml", file)]).input("create_worker", "true");
    write_tree(inv.dir.path(), &[("site/index.html", b"<p>hi</p>")]);
    std::fs::File::create(inv.dir.path().join("site/big.mp4")).unwrap().set_len(30 * 1024 * 1024).unwrap();
    let run = inv.run();
    run.assert_code(2);
    let all = run.everything();
    assert!(all.contains("wrangler.toml:6: assets.directory: holds `big.mp4`"), "{all}");
    assert!(!all.contains("input `assets`"), "{all}");
    assert!(sim.requests().is_empty());
}

/// Durable Object migrations go the way wrangler sends them in production: the classic
/// non-versioned upload (`PUT /workers/scripts/{name}`, multipart, `migrations` in its metadata),
/// which deploys the version at 100 %; never the beta versions endpoint, which the simulator
/// refuses them on (10211) until a live probe shows it applies them (issue 20, point 5).
#[test]
fn a_new_durable_object_class_is_migrated_through_the_classic_upload() {
    let sim = sim();
    let v1 = "name = \"do-worker\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n[vars]\nMODE = \"a\"\n[durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }]\n[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]\n";
    let run = project(&sim, &[("wrangler.toml", v1)]).input("create_worker", "true").input("deploy", "true").run();
    run.assert_code(0);
    let puts = classic_uploads(&sim, "do-worker");
    assert_eq!(puts.len(), 1, "{:#?}", sim.requests());
    assert!(puts[0].query.contains("bindings_inherit=strict"), "{}", puts[0].query);
    let meta = metadata_part(&puts[0].body);
    assert_eq!(meta["migrations"], json!({ "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["Room"] }] }));
    assert_eq!(meta["main_module"], "index.js");
    assert!(meta["bindings"].as_array().unwrap().iter().any(|b| b["type"] == "durable_object_namespace"), "{meta}");
    assert!(puts[0].body.contains("filename=\"index.js\""), "the module travels as its own part");
    assert!(beta_bodies(&sim).is_empty(), "no beta version upload: {:?}", beta_bodies(&sim));
    let (_, service) = call(&sim, "GET", "/workers/services/do-worker", None);
    assert_eq!(service["result"]["default_environment"]["script"]["migration_tag"], "v1", "{service}");
    let versions = sim.versions("do-worker");
    assert_eq!(versions.len(), 1);
    let id = versions[0]["id"].as_str().unwrap();
    assert_eq!(run.output("version_id"), Some(id));
    let deployments = sim.deployments("do-worker");
    assert_eq!(deployments.len(), 1, "{deployments:#?}");
    assert_eq!(deployments[0]["versions"], json!([{ "version_id": id, "percentage": 100.0 }]));
    assert_eq!(run.output("deployment_id"), deployments[0]["id"].as_str());

    // A new class: only its step, from the applied tag, the classic way again.
    let v2 = format!("{v1}[[migrations]]\ntag = \"v2\"\nnew_classes = [\"Counter\"]\n");
    project(&sim, &[("wrangler.toml", &v2)]).input("deploy", "true").run().assert_code(0);
    let puts = classic_uploads(&sim, "do-worker");
    assert_eq!(puts.len(), 2);
    assert_eq!(
        metadata_part(&puts[1].body)["migrations"],
        json!({ "old_tag": "v1", "new_tag": "v2", "steps": [{ "new_classes": ["Counter"] }] })
    );
    // Everything applied: the versions endpoint again, without migrations and without deploy.
    project(&sim, &[("wrangler.toml", &v2)]).run().assert_code(0);
    assert_eq!(classic_uploads(&sim, "do-worker").len(), 2);
    let beta: Value = serde_json::from_str(beta_bodies(&sim).last().unwrap()).unwrap();
    assert!(beta.get("migrations").is_none(), "{beta}");
}

/// The simulator refuses migrations on the versions endpoints (docs/cloudflare-api.md
/// Correction 10: 10211 on the classic one; the beta `deploy=true` is unverified, so refused
/// too: never more lenient than Cloudflare).
#[test]
fn the_versions_endpoints_refuse_migrations() {
    let sim = sim();
    let (_, made) = call(&sim, "POST", "/workers/workers", Some(&json!({ "name": "mig" })));
    let id = made["result"]["id"].as_str().unwrap().to_owned();
    let body = json!({
        "compatibility_date": "2026-11-01",
        "main_module": "index.js",
        "modules": [{ "name": "index.js", "content_type": "application/javascript+module",
                      "content_base64": "ZXhwb3J0IGNsYXNzIFJvb20ge30KZXhwb3J0IGRlZmF1bHQge30K" }],
        "migrations": { "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["Room"] }] },
    });
    let (status, answer) = call(&sim, "POST", &format!("/workers/workers/{id}/versions?deploy=true"), Some(&body));
    assert_eq!((status, answer["errors"][0]["code"].as_i64()), (400, Some(10211)), "{answer}");
    assert!(sim.versions("mig").is_empty());
}

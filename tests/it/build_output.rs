//! Build Output (`.cloudflare/output/v0|v1`, docs/cloudflare-api.md §H) as the source of a
//! version, end to end against the simulator, and `dry_run` without credentials (§H.9).

use crate::common::*;
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use workers_ci_simulator::{RouteSeed, SimConfig, Simulator, WorkerSeed, ZoneSeed};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/build-output")
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A project holding the fixture `name` (its `.cloudflare/output`), run from there.
fn project(inv: Invocation, name: &str) -> Invocation {
    let root = inv.dir.path().join("project");
    copy(&fixtures().join(name), &root);
    inv.cwd(&root)
}

/// A `command` invocation with no Worker named and no code inputs: the Build Output says all.
fn invocation(sim: &Simulator, command: &str) -> Invocation {
    Invocation::new(sim).without("branch").without("commit").without("worker").input("command", command)
}

/// The module `name` of a stored version: its content type and bytes.
fn module(v: &Value, name: &str) -> (String, Vec<u8>) {
    let m =
        v["modules"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("{name}: {v}"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(m["content_base64"].as_str().unwrap()).unwrap();
    (m["content_type"].as_str().unwrap().to_owned(), bytes)
}

fn module_names(v: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        v["modules"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

fn file(fixture: &str, rel: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(fixture).join(".cloudflare/output").join(rel)).unwrap()
}

fn sorted_bindings(v: &Value) -> Vec<Value> {
    let mut b = v["bindings"].as_array().cloned().unwrap_or_default();
    b.sort_by_key(|b| b["name"].as_str().unwrap_or_default().to_owned());
    b
}

fn manifest_keys(v: &Value) -> Vec<String> {
    v["assets"]["manifest"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn a_v0_tree_deploys_with_what_its_files_say() {
    let sim = sim();
    // `deploy` finds `.cloudflare/output` by itself: no `versions`, no configuration.
    let inv = project(invocation(&sim, "deploy").input("create_worker", "true"), "v0-site");
    let run = inv.run();
    run.assert_code(0);
    assert!(
        run.stdout.contains("Using the Build Output .cloudflare/output/v0 (v0, mode `production`): Worker my-site"),
        "{}",
        run.stdout
    );
    let versions = sim.versions("my-site");
    assert_eq!(versions.len(), 1);
    let v = &versions[0];
    let d = "v0-site";
    let w = "v0/workers/default";
    assert_eq!(v["main_module"], "index.js");
    // A first deploy goes through the classic upload, which carries `_headers` in the assets'
    // config rather than as a module (docs/cloudflare-api.md §A.8).
    assert_eq!(module_names(v), ["chunks/util.js", "index.js", "index.js.map"]);
    assert_eq!(
        module(v, "index.js"),
        ("application/javascript+module".into(), file(d, &format!("{w}/bundle/index.js")))
    );
    assert_eq!(
        module(v, "chunks/util.js"),
        ("application/javascript+module".into(), file(d, &format!("{w}/bundle/chunks/util.js")))
    );
    assert_eq!(
        module(v, "index.js.map"),
        ("application/source-map".into(), file(d, &format!("{w}/bundle/index.js.map")))
    );
    assert_eq!(v["compatibility_date"], "2026-11-01");
    assert_eq!(v["compatibility_flags"], json!(["nodejs_compat"]));
    assert_eq!(
        sorted_bindings(v),
        [
            json!({"name": "API_ORIGIN", "type": "plain_text", "text": "https://api.example.com"}),
            json!({"name": "ASSETS", "type": "assets"}),
            json!({"name": "CACHE", "type": "kv_namespace", "namespace_id": "0f2ac74b498b48028cb68387c421e279"}),
            json!({"name": "FEATURES", "type": "json", "json": {"search": true}}),
        ]
    );
    // `.assetsignore` leaves the map out; `_headers` goes with the version.
    assert_eq!(manifest_keys(v), ["/index.html"]);
    let headers = String::from_utf8(file(d, &format!("{w}/assets/_headers"))).unwrap();
    assert_eq!(
        v["assets"]["config"],
        json!({"not_found_handling": "single-page-application", "run_worker_first": ["/api/*"], "_headers": headers})
    );
    // One request made the Worker and deployed the version: no empty Worker before it.
    let writes: Vec<String> =
        sim.requests().iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect();
    assert!(writes.iter().all(|w| !w.ends_with("/workers/workers")), "{writes:?}");
    // Deployed at 100 %, and the Worker on workers.dev without preview URLs.
    let deployments = sim.deployments("my-site");
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0]["versions"][0]["version_id"], v["id"]);
    assert_eq!(deployments[0]["versions"][0]["percentage"], 100.0);
    assert_eq!(run.output("version_id"), v["id"].as_str());
    assert_eq!(run.output("dry_run"), None);
    let (_, worker) = call(&sim, "GET", "/workers/workers/my-site", None);
    let sub = &worker["result"]["subdomain"];
    assert_eq!((&sub["enabled"], &sub["previews_enabled"]), (&json!(true), &json!(false)), "{worker}");
}

#[test]
fn a_v1_tree_with_two_workers_deploys_one_worker_per_step() {
    let sim = sim();
    // Two Workers and none picked: refused, naming both, with nothing sent.
    let run = project(invocation(&sim, "version").input("deploy", "true"), "v1-two").run();
    run.assert_code(2);
    assert!(run.everything().contains("holds 2 Workers (`shop-web` (default), `shop-api`)"), "{}", run.everything());
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    for name in ["shop-api", "shop-web"] {
        let run = project(
            invocation(&sim, "version").input("deploy", "true").input("create_worker", "true").input("worker", name),
            "v1-two",
        )
        .run();
        run.assert_code(0);
    }
    let d = "v1-two";
    let api = &sim.versions("shop-api")[0];
    // A partial manifest: the listed JSON module, plus the `.mjs` and `.map` of the bundle.
    assert_eq!(api["main_module"], "index.mjs");
    assert_eq!(module_names(api), ["index.mjs", "index.mjs.map", "schema.json"]);
    assert_eq!(
        module(api, "schema.json"),
        ("text/plain".into(), file(d, "v1/workers/shop-api/bundle/schema.json")),
        "a `json` module goes up as text, as wrangler sends it"
    );
    assert_eq!(module(api, "index.mjs").0, "application/javascript+module");
    assert_eq!(api["compatibility_flags"], json!(["nodejs_compat"]));
    assert_eq!(api["placement"], json!({"mode": "smart"}));
    assert_eq!(
        sorted_bindings(api),
        [
            json!({"name": "QUEUE", "type": "queue", "queue_name": "orders"}),
            json!({"name": "VERSION", "type": "version_metadata"}),
        ]
    );
    let web = &sim.versions("shop-web")[0];
    assert_eq!(web["main_module"], "server/index.js");
    assert_eq!(module_names(web), ["server/add.wasm", "server/index.js", "server/words.txt"]);
    assert_eq!(
        module(web, "server/add.wasm"),
        ("application/wasm".into(), file(d, "v1/workers/default/bundle/server/add.wasm"))
    );
    assert_eq!(module(web, "server/words.txt").0, "text/plain");
    assert_eq!(web["limits"], json!({"cpu_ms": 100}));
    assert_eq!(
        sorted_bindings(web),
        [
            json!({"name": "API", "type": "service", "service": "shop-api", "entrypoint": "Api"}),
            json!({"name": "ASSETS", "type": "assets"}),
            json!({"name": "DB", "type": "d1", "database_id": "6f1b0c5e-2c9d-4d6a-9f0e-2d8f3c1a7b55"}),
        ]
    );
    assert_eq!(manifest_keys(web), ["/404.html", "/img/logo.svg", "/index.html"]);
    assert_eq!(
        web["assets"]["config"],
        json!({"html_handling": "drop-trailing-slash", "not_found_handling": "404-page"})
    );
    for w in ["shop-api", "shop-web"] {
        assert_eq!(sim.deployments(w).len(), 1, "{w} deployed");
    }
}

/// A fixture, the command given it, more inputs, and what the error must say.
type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)], &'static str);

/// Each broken tree stops the step with exit 2 and the named problem, before any request.
#[test]
fn broken_trees_and_misdirected_builds_exit_2_with_no_request() {
    let cases: [Case; 6] = [
        (
            "unknown-key",
            "deploy",
            &[],
            ".cloudflare/output/v1/workers/default/worker.config.json:4: compatibilityFlag: is not a key of the Build Output schema (did you mean `compatibilityFlags`?",
        ),
        (
            "v9",
            "deploy",
            &[],
            "`.cloudflare/output` holds Build Output version v9, which this workers-ci does not understand (it reads v0 and v1)",
        ),
        (
            "preview",
            "deploy",
            &[],
            "`.cloudflare/output/v1` was built for a Preview (`buildContext.isPreview: true` in its config.json)",
        ),
        ("v0-site", "preview", &[("preview_name", "feature")], "`.cloudflare/output/v0` was not built for a Preview"),
        (
            "triggers",
            "version",
            &[],
            "is not set, but .cloudflare/output/v0/workers/default/worker.config.json declares `triggers[2]` (line 14: an `email` trigger, which workers-ci does not apply yet), which the deploy cannot apply yet",
        ),
        (
            "v0-site",
            "version",
            &[("build_output", ".cloudflare/output"), ("config", "wrangler.jsonc")],
            "and `config` are both given",
        ),
    ];
    for (fixture, command, inputs, want) in cases {
        let sim = sim();
        let mut inv = invocation(&sim, command);
        for (k, v) in inputs {
            inv = inv.input(k, v);
        }
        let run = project(inv, fixture).run();
        run.assert_code(2);
        assert!(run.everything().contains(want), "{fixture} with {command}: {}", run.everything());
        assert!(sim.requests().is_empty(), "{fixture}: no request, got {:?}", sim.requests());
    }
}

#[test]
fn skip_triggers_uploads_and_says_what_was_left_alone() {
    let sim = sim();
    let run =
        project(invocation(&sim, "version").input("create_worker", "true").input("skip_triggers", "true"), "triggers")
            .run();
    run.assert_code(0);
    assert!(
        run.stdout.contains("not applied by this step (`skip_triggers: true`): triggers (1 route, 1 cron schedule), observability (a script setting), triggers[2] (an `email` trigger, which workers-ci does not apply yet)"),
        "{}",
        run.stdout
    );
    assert_eq!(sim.versions("cron-app").len(), 1);
}

/// The plan of a dry run, compared whole; no token, no account, no request.
#[test]
fn a_dry_run_needs_no_credentials_and_sends_nothing() {
    let sim = sim();
    let inv = project(invocation(&sim, "deploy").input("dry_run", "true"), "v0-site")
        .without("api_token")
        .without("account_id");
    let run = inv.run();
    run.assert_code(0);
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    assert_eq!(run.output("dry_run"), Some("true"));
    let plan: Value = serde_json::from_str(run.output("plan").unwrap()).unwrap();
    let rows: Vec<String> = plan
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} | {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["what"].as_str().unwrap()
            )
        })
        .collect();
    let log: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Dry run for"))
        .take_while(|l| l.starts_with("Dry run for") || l.starts_with("  "))
        .collect();
    assert_snapshot(
        "build-output-dry-run.txt",
        &format!("{}\n\n{}\n", log.join("\n"), rows.join("\n")),
        "build_output",
    );
}

#[test]
fn a_dry_run_of_a_broken_tree_exits_2() {
    let sim = sim();
    let run = project(invocation(&sim, "version").input("dry_run", "true"), "unknown-key")
        .without("api_token")
        .without("account_id")
        .run();
    run.assert_code(2);
    assert!(run.everything().contains("compatibilityFlag: is not a key"), "{}", run.everything());
    assert!(sim.requests().is_empty());
}

#[test]
fn a_preview_build_deploys_to_its_preview_and_dry_runs() {
    let sim = sim();
    let dry =
        project(invocation(&sim, "preview").input("preview_name", "feature-x").input("dry_run", "true"), "preview")
            .without("api_token")
            .without("account_id")
            .run();
    dry.assert_code(0);
    assert!(sim.requests().is_empty());
    assert!(
        dry.stdout.contains("POST /accounts/{account_id}/workers/workers/my-app/previews/feature-x/deployments"),
        "{}",
        dry.stdout
    );
    let run = project(
        invocation(&sim, "preview").input("preview_name", "feature-x").input("create_worker", "true"),
        "preview",
    )
    .run();
    run.assert_code(0);
    let previews = sim.previews("my-app");
    let deployment = &previews[0]["deployments"][0];
    assert_eq!(
        deployment["bindings"],
        json!([{"name": "API_ORIGIN", "type": "plain_text", "text": "https://staging.example.com"}]),
        "{deployment}"
    );
    assert_eq!(deployment["main_module"], "index.js");
}

/// README's "Build with your framework" workflow, as written: each job's workers-ci step run
/// with its `with:` as the action passes them (the framework's build stands in as the v0
/// fixture). The deploy job deploys; the pull request's job, with no secret at all, plans and
/// sends nothing.
#[test]
fn the_readme_build_output_workflow_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let heading = "### Build with your framework, deploy the Build Output";
    let start = readme.find(heading).expect("README has the section");
    let body = &readme[start..];
    let open = body.find("```yaml\n").unwrap() + "```yaml\n".len();
    let yaml = &body[open..open + body[open..].find("```").unwrap()];
    let doc = &yaml_rust2::YamlLoader::load_from_str(yaml).unwrap()[0];
    let sim = sim();
    // The Worker exists already: the workflow does not create it.
    let (status, _) = call(
        &sim,
        "POST",
        "/workers/workers",
        Some(&json!({"name": "my-site", "subdomain": {"enabled": true, "previews_enabled": false}})),
    );
    assert_eq!(status, 200);
    let step = |job: &str| -> Vec<(String, String)> {
        let steps = doc["jobs"][job]["steps"].as_vec().unwrap();
        let ours = steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("workers-ci/"))).unwrap();
        ours["with"]
            .as_hash()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    yaml_rust2::Yaml::Boolean(b) => b.to_string(),
                    other => other.as_str().unwrap().to_owned(),
                };
                (k.as_str().unwrap().to_owned(), v)
            })
            .collect()
    };
    let run_job = |job: &str| {
        let mut inv = invocation(&sim, "").without("command").without("api_token").without("account_id");
        for (k, v) in step(job) {
            let v = match v.as_str() {
                "${{ secrets.CLOUDFLARE_API_TOKEN }}" => TOKEN.to_owned(),
                "${{ vars.CLOUDFLARE_ACCOUNT_ID }}" => sim.account_id(),
                other => {
                    assert!(!other.contains("${{"), "{job}: an expression the test does not know: {other}");
                    other.to_owned()
                }
            };
            inv = inv.input(&k, &v);
        }
        project(inv, "v0-site").run()
    };
    let check = run_job("check");
    check.assert_code(0);
    assert_eq!(check.output("dry_run"), Some("true"));
    assert_eq!(sim.requests().len(), 1, "only the test's own create: {:?}", sim.requests());
    let deploy = run_job("deploy");
    deploy.assert_code(0);
    let deployments = sim.deployments("my-site");
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0]["versions"][0]["version_id"].as_str(), deploy.output("version_id"));
}

/// The plan's rows, `METHOD path`, from the `plan` output.
fn planned(run: &Run) -> Vec<String> {
    plan_fields(run, &["method", "path"]).iter().map(|f| f.join(" ")).collect()
}

/// A dry run holds the assets to the limits a real run enforces (25 MiB a file, §A.6): exit 2,
/// nothing sent.
#[test]
fn a_dry_run_holds_assets_to_their_limits() {
    let sim = sim();
    let inv = project(invocation(&sim, "deploy").input("dry_run", "true"), "v0-site").without("api_token");
    let big = inv.cwd.clone().unwrap().join(".cloudflare/output/v0/workers/default/assets/video.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(25 * 1024 * 1024 + 1).unwrap();
    let run = inv.run();
    run.assert_code(2);
    assert!(run.everything().contains("video.bin"), "{}", run.everything());
    assert!(sim.requests().is_empty());
}

/// A dry run of a wrangler configuration with Durable Object migrations: the plan reads the
/// applied tag and sends the classic upload; a broken migration list exits 2. Neither sends a
/// request or needs a token.
#[test]
fn a_dry_run_of_a_wrangler_configuration_plans_its_migrations() {
    let sim = sim();
    let inv = invocation(&sim, "version")
        .input("dry_run", "true")
        .input("deploy", "true")
        .without("api_token")
        .without("account_id");
    let dir = inv.dir.path().join("project");
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(
        dir.join("dist/index.js"),
        "export class Room {}\nexport default { fetch() { return new Response('ok') } }\n",
    )
    .unwrap();
    let config = |tags: [&str; 2]| {
        format!(
            "{{\n  \"name\": \"rooms\",\n  \"main\": \"dist/index.js\",\n  \"compatibility_date\": \"2026-11-01\",\n  \"durable_objects\": {{ \"bindings\": [{{ \"name\": \"ROOM\", \"class_name\": \"Room\" }}] }},\n  \"migrations\": [{{ \"tag\": \"{}\", \"new_sqlite_classes\": [\"Room\"] }}, {{ \"tag\": \"{}\", \"deleted_classes\": [] }}]\n}}\n",
            tags[0], tags[1]
        )
    };
    std::fs::write(dir.join("wrangler.jsonc"), config(["v1", "v2"])).unwrap();
    let inv = inv.cwd(&dir);
    let run = inv.run();
    run.assert_code(0);
    assert_eq!(
        planned(&run),
        [
            "GET /accounts/{account_id}/workers/workers/rooms/versions/latest",
            "GET /accounts/{account_id}/workers/services/rooms",
            "PUT /accounts/{account_id}/workers/scripts/rooms",
        ]
    );
    assert!(run.stdout.contains("of the 2 migration step(s) up to `v2`, those not applied are sent"), "{}", run.stdout);
    std::fs::write(dir.join("wrangler.jsonc"), config(["v1", "v1"])).unwrap();
    let broken = inv.run();
    broken.assert_code(2);
    assert!(broken.everything().contains("wrangler.jsonc:6: migrations[1].tag"), "{}", broken.everything());
    assert!(sim.requests().is_empty());
}

/// `deploy` of versions already uploaded, dry: the deployments read and the deployment planned.
#[test]
fn a_dry_run_of_a_deployment_plans_it() {
    let sim = sim();
    let id = "7c4b0cc3-4f5e-4e2a-9d61-2b1f3c9f2a11";
    let run = invocation(&sim, "deploy")
        .input("worker", "my-worker")
        .input("versions", id)
        .input("dry_run", "true")
        .without("api_token")
        .run();
    run.assert_code(0);
    let account = sim.account_id();
    assert_eq!(
        planned(&run),
        [
            format!("GET /accounts/{account}/workers/scripts/my-worker/deployments"),
            format!("POST /accounts/{account}/workers/scripts/my-worker/deployments"),
        ]
    );
    assert!(sim.requests().is_empty());
}

/// A `secret` binding is kept from the Worker: one the Worker does not have stops the step
/// before any write (exit 2, the secret named); given with `secrets`, it is sent.
#[test]
fn a_secret_the_worker_lacks_is_refused_before_any_write() {
    let sim = sim();
    let with_secret = |inv: Invocation| {
        let inv = project(inv, "v0-site");
        let file = inv.cwd.clone().unwrap().join(".cloudflare/output/v0/workers/default/worker.config.json");
        let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        config["env"]["API_KEY"] = json!({"type": "secret"});
        std::fs::write(&file, serde_json::to_string_pretty(&config).unwrap()).unwrap();
        inv
    };
    let run = with_secret(invocation(&sim, "deploy").input("create_worker", "true")).run();
    run.assert_code(2);
    assert!(
        run.everything().contains("`env` declares the secret `API_KEY` that Worker my-site does not have yet"),
        "{}",
        run.everything()
    );
    assert!(sim.requests().iter().all(|r| r.method == "GET"), "reads only: {:?}", sim.requests());
    let secret = "sk_live_do-not-print-7f1";
    let run = with_secret(
        invocation(&sim, "deploy").input("create_worker", "true").input("secrets", &format!("API_KEY={secret}")),
    )
    .run();
    run.assert_code(0).assert_no_secret(secret);
    let v = &sim.versions("my-site")[0];
    let key = sorted_bindings(v).into_iter().find(|b| b["name"] == "API_KEY").unwrap();
    assert_eq!(key["type"], "secret_text");
}

/// `migrate: true` with `dry_run`: the D1 migrations are planned before the upload (schema
/// first), from the files alone; nothing sent, no token.
#[test]
fn a_dry_run_plans_the_d1_migrations_before_the_upload() {
    let sim = sim();
    let inv = invocation(&sim, "version")
        .input("dry_run", "true")
        .input("deploy", "true")
        .input("migrate", "true")
        .without("api_token")
        .without("account_id");
    let dir = inv.dir.path().join("project");
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    std::fs::write(dir.join("dist/index.js"), "export default { fetch() { return new Response('ok') } }\n").unwrap();
    std::fs::write(dir.join("migrations/0001_users.sql"), "CREATE TABLE users(id INTEGER PRIMARY KEY);\n").unwrap();
    std::fs::write(dir.join("migrations/0002_orders.sql"), "CREATE TABLE orders(id INTEGER PRIMARY KEY);\n").unwrap();
    std::fs::write(
        dir.join("wrangler.toml"),
        "name = \"shop\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"shop\"\ndatabase_id = \"5b0e4a53-5a1f-4c8e-9d38-7f0f1e2b6c11\"\n",
    )
    .unwrap();
    let run = inv.cwd(&dir).run();
    run.assert_code(0);
    assert!(sim.requests().is_empty());
    assert_eq!(
        planned(&run),
        [
            "GET /accounts/{account_id}/workers/workers/shop/versions/latest",
            "POST /accounts/{account_id}/d1/database/5b0e4a53-5a1f-4c8e-9d38-7f0f1e2b6c11/query",
            "POST /accounts/{account_id}/workers/workers/shop/versions",
            "POST /accounts/{account_id}/workers/scripts/shop/deployments",
        ]
    );
    assert!(run.stdout.contains("D1 DB (shop): create `d1_migrations` if absent and read the applied migrations, then one request per pending file of the 2 migration files in ./migrations"), "{}", run.stdout);
}

/// An account with the zone `example.com`, the queues `jobs` and `jobs-dlq`, and `workers`.
fn trigger_account(workers: Vec<WorkerSeed>, zone_routes: Vec<RouteSeed>) -> Simulator {
    let config = SimConfig {
        workers,
        zones: vec![ZoneSeed { name: "example.com".into(), id: None, routes: zone_routes }],
        queues: vec!["jobs".into(), "jobs-dlq".into()],
        rate_limit: None,
        ..SimConfig::default()
    };
    Simulator::start_background(config).expect("simulator starts")
}

fn api(sim: &Simulator, path: &str) -> Value {
    call(sim, "GET", path, None).1["result"].clone()
}

fn route_patterns(sim: &Simulator, worker: &str) -> Vec<String> {
    let mut p: Vec<String> = api(sim, &format!("/workers/scripts/{worker}/routes"))
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["pattern"].as_str().unwrap().to_owned())
        .collect();
    p.sort();
    p
}

fn plan_rows(run: &Run) -> Vec<String> {
    plan_fields(run, &["resource", "name", "action"]).iter().map(|f| f.join(" ")).collect()
}

/// `cf deploy --prebuilt`'s triggers and settings (§H.3, §H.6) go through the deploy's apply
/// step: planned, written after the deployment, read back through the API as exactly what the
/// tree says; a re-run writes none of them.
#[test]
fn a_v1_tree_applies_its_triggers_and_settings_and_a_rerun_writes_none() {
    let sim = trigger_account(Vec::new(), Vec::new());
    let run = || {
        project(invocation(&sim, "version").input("deploy", "true").input("create_worker", "true"), "triggers-v1").run()
    };
    let first = run();
    first.assert_code(0);
    assert_eq!(
        plan_rows(&first),
        [
            "route example.com/api/* create",
            "route www.example.com/* create",
            "cron */30 * * * * create",
            "setting observability update",
            "queue_consumer jobs create",
        ]
    );
    assert_eq!(route_patterns(&sim, "jobs-app"), ["example.com/api/*", "www.example.com/*"]);
    let crons: Vec<Value> = api(&sim, "/workers/scripts/jobs-app/schedules")["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cron"].clone())
        .collect();
    assert_eq!(crons, [json!("*/30 * * * *")]);
    assert_eq!(
        api(&sim, "/workers/scripts/jobs-app/script-settings")["observability"],
        json!({ "enabled": true, "head_sampling_rate": 1 })
    );
    let queue = api(&sim, "/queues?name=jobs");
    let consumers = queue[0]["consumers"].as_array().unwrap();
    assert_eq!(consumers.len(), 1, "{queue}");
    let c = &consumers[0];
    assert_eq!((&c["script_name"], &c["dead_letter_queue"]), (&json!("jobs-app"), &json!("jobs-dlq")));
    assert_eq!(c["settings"], json!({ "batch_size": 10, "max_wait_time_ms": 5000 }));
    assert!(api(&sim, "/workers/domains").as_array().unwrap().is_empty(), "no custom domain asked, none made");

    let before = sim.requests().len();
    let second = run();
    second.assert_code(0);
    assert!(plan_rows(&second).iter().all(|r| r.ends_with(" unchanged")), "{:?}", plan_rows(&second));
    assert_eq!(second.output("changes"), Some("0"));
    assert_eq!(trigger_writes(&sim, before), Vec::<String>::new());
}

/// A route another Worker holds stops the step before any write (the Worker is not even
/// created); `takeover: true` gives it to this Worker.
#[test]
fn a_route_another_worker_holds_stops_before_any_write_unless_takeover() {
    let other = WorkerSeed { name: "other".into(), triggers: false, preview_trigger: false, ..WorkerSeed::default() };
    let sim = trigger_account(
        vec![other],
        vec![RouteSeed { pattern: "example.com/api/*".into(), script: Some("other".into()) }],
    );
    let inv = || project(invocation(&sim, "deploy").input("create_worker", "true"), "triggers-v1");
    let before = sim.requests().len();
    let run = inv().run();
    run.assert_code(2);
    let err = run.everything();
    assert!(err.contains("route `example.com/api/*` is held by Worker `other`"), "{err}");
    assert!(err.contains("takeover: true"), "{err}");
    let sent: Vec<String> = sim.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(sent.is_empty(), "no write at all: {sent:?}");

    let run = inv().input("takeover", "true").run();
    run.assert_code(0);
    assert!(plan_rows(&run).contains(&"route example.com/api/* take_over".to_owned()), "{:?}", plan_rows(&run));
    assert_eq!(route_patterns(&sim, "jobs-app"), ["example.com/api/*", "www.example.com/*"]);
    assert!(route_patterns(&sim, "other").is_empty());
}

/// A Preview takes no triggers (`cf previews deploy` refuses them before any call, §H.7): a
/// preview build that declares some is refused by name, nothing sent, nothing applied.
#[test]
fn a_preview_build_with_triggers_applies_none_of_them() {
    let sim = trigger_account(Vec::new(), Vec::new());
    let inv = project(
        invocation(&sim, "preview").input("preview_name", "feature-x").input("create_worker", "true"),
        "preview",
    );
    let config = inv.dir.path().join("project/.cloudflare/output/v1/workers/default/worker.config.json");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "\"env\"",
        "\"triggers\": [{ \"type\": \"scheduled\", \"schedule\": \"*/30 * * * *\" }],\n  \"env\"",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let run = inv.run();
    run.assert_code(2);
    assert!(
        run.everything().contains("worker.config.json:4: triggers: a Preview takes no triggers or custom domains"),
        "{}",
        run.everything()
    );
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
}

/// A Build Output's triggers and settings go through the deploy's apply step, so its dry run
/// plans them too: the reads before the upload, the writes after the deployment. No request.
#[test]
fn a_dry_run_of_a_build_output_plans_its_triggers() {
    let sim = sim();
    let run = project(invocation(&sim, "deploy").input("dry_run", "true"), "triggers-v1")
        .without("api_token")
        .without("account_id")
        .run();
    run.assert_code(0);
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    let a = "/accounts/{account_id}";
    let z = "&account.id={account_id}";
    assert_eq!(
        planned(&run),
        [
            format!("GET {a}/workers/scripts"),
            format!("GET {a}/workers/scripts/jobs-app/schedules"),
            format!("GET {a}/workers/scripts/jobs-app/script-settings"),
            format!("GET {a}/queues?page=1&per_page=100"),
            format!("GET /zones?name=example.com{z}"),
            "GET /zones/{zone_id}/workers/routes".to_owned(),
            format!("GET /zones?name=www.example.com{z}"),
            format!("GET {a}/workers/workers/jobs-app/versions/latest"),
            format!("POST {a}/workers/workers/jobs-app/versions"),
            format!("POST {a}/workers/scripts/jobs-app/deployments"),
            format!("PUT {a}/workers/scripts/jobs-app/routes"),
            format!("PUT {a}/workers/scripts/jobs-app/schedules"),
            format!("POST {a}/queues/{{queue_id}}/consumers"),
            format!("PATCH {a}/workers/scripts/jobs-app/script-settings"),
        ]
    );
}

/// Cloudflare's script settings require `observability.enabled` (docs/cloudflare-api.md §T.6):
/// refused at the settings write it would be refused after the deployment, so the tree is refused
/// before any request.
#[test]
fn observability_without_enabled_is_refused_before_any_request() {
    let sim = trigger_account(Vec::new(), Vec::new());
    let inv =
        project(invocation(&sim, "version").input("deploy", "true").input("create_worker", "true"), "triggers-v1");
    let file = inv.dir.path().join("project/.cloudflare/output/v1/workers/default/worker.config.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace(
        r#""observability": { "enabled": true, "headSamplingRate": 1 }"#,
        r#""observability": { "logs": { "enabled": true } }"#,
    );
    assert_ne!(text, edited, "the fixture's observability line moved");
    std::fs::write(&file, edited).unwrap();
    let run = inv.run();
    run.assert_code(2);
    assert!(
        run.everything().contains(
            ".cloudflare/output/v1/workers/default/worker.config.json:10: observability: has no `enabled`: Cloudflare's script settings require it"
        ),
        "{}",
        run.everything()
    );
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

/// A project whose v1 Build Output holds one Worker: `config` as its worker.config.json and an
/// empty `bundle/index.js`.
pub(crate) fn v1_project(inv: Invocation, config: &str) -> Invocation {
    let root = inv.dir.path().join("project");
    let out = root.join(".cloudflare/output/v1");
    std::fs::create_dir_all(out.join("workers/default/bundle")).unwrap();
    std::fs::write(out.join("config.json"), r#"{"buildContext":{"isPreview":false}}"#).unwrap();
    std::fs::write(out.join("workers/default/worker.config.json"), config).unwrap();
    std::fs::write(out.join("workers/default/bundle/index.js"), "export default {}").unwrap();
    inv.cwd(&root)
}

/// The kinds `cf deploy` converts to a wrangler configuration list (§H.3) go up as the binding
/// that list sends (§D.2), and the version reads back with exactly those bindings.
/// A v1 Worker `kinds-app` binding every kind `cf deploy` converts to a wrangler list.
pub(crate) const CONVERTED_KINDS: &str = r#"{"name":"kinds-app","compatibilityDate":"2026-11-01","env":{
  "EVENTS":{"type":"k2","id":"0123456789abcdef0123456789abcdef"},
  "MAIL":{"type":"send-email","destinationAddress":"ops@example.com","allowedSenderAddresses":["app@example.com"],"dev":{"remote":true}},
  "TENANTS":{"type":"dispatch-namespace","namespace":"tenants","outbound":{"worker":"egress","parameters":["customer"]}},
  "DB_SERVICE":{"type":"vpc-service","id":"0199a0b2-4c6d-7e8f-9a0b-1c2d3e4f5a6b"},
  "TUNNEL":{"type":"vpc-network","tunnelId":"5d2b1c3e-7f4a-4b6c-9d8e-0f1a2b3c4d5e"},
  "FLAGS":{"type":"flagship","id":"app-7"},
  "DOCS":{"type":"ai-search","name":"docs"},
  "SEARCH":{"type":"ai-search-namespace","namespace":"default"},
  "BUILDS":{"type":"artifacts","namespace":"builds"}},
  "manifest":{"type":"complete","mainModule":"index.js","modules":{"index.js":{"type":"esm"}}}}"#;

#[test]
fn a_v1_tree_with_the_converted_binding_kinds_deploys_them() {
    let sim = sim();
    let run =
        v1_project(invocation(&sim, "version").input("deploy", "true").input("create_worker", "true"), CONVERTED_KINDS)
            .run();
    run.assert_code(0);
    assert_eq!(
        sorted_bindings(&sim.versions("kinds-app")[0]),
        [
            json!({"name": "BUILDS", "type": "artifacts", "namespace": "builds"}),
            json!({"name": "DB_SERVICE", "type": "vpc_service", "service_id": "0199a0b2-4c6d-7e8f-9a0b-1c2d3e4f5a6b"}),
            json!({"name": "DOCS", "type": "ai_search", "instance_name": "docs"}),
            json!({"name": "EVENTS", "type": "k2", "stream": "0123456789abcdef0123456789abcdef"}),
            json!({"name": "FLAGS", "type": "flagship", "app_id": "app-7"}),
            json!({"name": "MAIL", "type": "send_email", "destination_address": "ops@example.com", "allowed_sender_addresses": ["app@example.com"]}),
            json!({"name": "SEARCH", "type": "ai_search_namespace", "namespace": "default"}),
            json!({"name": "TENANTS", "type": "dispatch_namespace", "namespace": "tenants",
                   "outbound": {"worker": {"service": "egress"}, "params": [{"name": "customer"}]}}),
            json!({"name": "TUNNEL", "type": "vpc_network", "tunnel_id": "5d2b1c3e-7f4a-4b6c-9d8e-0f1a2b3c4d5e"}),
        ]
    );
}

/// A kind whose upload binding the Version API does not list is refused by name, with the
/// reason, before any request; so is an unknown key of a mapped kind.
#[test]
fn a_kind_the_version_api_lacks_is_refused_by_name_with_no_request() {
    let config = |env: &str| {
        format!(
            "{{\"name\":\"kinds-app\",\"compatibilityDate\":\"2026-11-01\",\n\"env\":{{\n{env}}},\n\"manifest\":{{\"type\":\"complete\",\"mainModule\":\"index.js\",\"modules\":{{\"index.js\":{{\"type\":\"esm\"}}}}}}}}"
        )
    };
    let file = ".cloudflare/output/v1/workers/default/worker.config.json";
    for (env, want) in [
        (
            r#""LOADER":{"type":"worker-loader"}"#,
            format!(
                "{file}:3: env.LOADER.type: `worker-loader` bindings: `cf deploy` uploads it as `worker_loader`, a kind the Version API does not list"
            ),
        ),
        (
            r#""INGEST":{"type":"pipeline","streamId":"0123456789abcdef0123456789abcdef"}"#,
            format!("{file}:3: env.INGEST.type: `pipeline` bindings: `cf deploy` uploads it as `pipelines {{stream}}`"),
        ),
        (
            "\"SVC\":{\"type\":\"vpc-service\",\n\"serviceId\":\"x\"}",
            format!("{file}:4: env.SVC.serviceId: is not a key of the Build Output schema"),
        ),
    ] {
        let sim = sim();
        let run = v1_project(invocation(&sim, "deploy").input("create_worker", "true"), &config(env)).run();
        run.assert_code(2);
        assert!(run.everything().contains(&want), "{want}\n{}", run.everything());
        assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    }
}

/// Custom domains with `production`/`previews` flags and streaming tail consumers have no
/// field in the calls the deploy makes (§T.9 questions 8 and 9): refused by name, with why,
/// before any request.
#[test]
fn domain_flags_and_streaming_tail_consumers_are_refused_with_the_reason() {
    let file = ".cloudflare/output/v1/workers/default/worker.config.json";
    for (extra, want) in [
        (
            r#""domains":[{"hostname":"app.example.com","production":true,"previews":true}]"#,
            format!(
                "{file} declares `domains` (line 2: 1 custom domain, with `production`/`previews` flags, which workers-ci cannot apply yet: the custom-domain attach it uses takes no such flags (docs/cloudflare-api.md §T.9))"
            ),
        ),
        (
            r#""experimental":{"streamingTailConsumers":[{"worker":"tail"}]}"#,
            format!(
                "{file} declares `experimental.streamingTailConsumers` (line 2: streaming tail consumers, which workers-ci cannot apply yet: only wrangler's classic upload carries them (docs/cloudflare-api.md §T.9))"
            ),
        ),
    ] {
        let sim = sim();
        let config = format!(
            "{{\"name\":\"flags-app\",\"compatibilityDate\":\"2026-11-01\",\n{extra},\n\"manifest\":{{\"type\":\"complete\",\"mainModule\":\"index.js\",\"modules\":{{\"index.js\":{{\"type\":\"esm\"}}}}}}}}"
        );
        let run = v1_project(invocation(&sim, "deploy").input("create_worker", "true"), &config).run();
        run.assert_code(2);
        assert!(run.everything().contains(&want), "{want}\n{}", run.everything());
        assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    }
}

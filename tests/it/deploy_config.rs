//! `version` with `deploy: true` applies what the wrangler configuration says beyond the version
//! (routes, custom domains, cron triggers, queue consumers, settings): planned before any write,
//! only what differs written, conflicts refused before anything is written.

use crate::common::*;
use serde_json::{Value, json};
use workers_ci_simulator::Simulator;
use workers_ci_simulator::{DomainSeed, RouteSeed, SimConfig, WorkerSeed, ZoneSeed};

const JS: &str = "export default { fetch() { return new Response('hi') }, scheduled() {}, queue() {} }\n";

const FULL: &str = r#"{
  "name": "app",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "routes": [
    { "pattern": "example.com/api/*", "zone_name": "example.com" },
    "www.example.com/*",
    { "pattern": "app.example.com", "custom_domain": true }
  ],
  "triggers": { "crons": ["*/5 * * * *", "0 3 * * *"] },
  "queues": { "consumers": [{ "queue": "jobs", "max_batch_size": 10, "dead_letter_queue": "jobs-dlq" }] },
  "observability": { "enabled": true }
}"#;

fn account(workers: Vec<WorkerSeed>, zone_routes: Vec<RouteSeed>, domains: Vec<DomainSeed>, dns: &[&str]) -> Simulator {
    let config = SimConfig {
        workers,
        zones: vec![ZoneSeed { name: "example.com".into(), id: None, routes: zone_routes }],
        custom_domains: domains,
        dns_records: dns.iter().map(|d| (*d).to_owned()).collect(),
        queues: vec!["jobs".into(), "jobs-dlq".into(), "other-jobs".into()],
        rate_limit: None,
        ..SimConfig::default()
    };
    Simulator::start_background(config).expect("simulator starts")
}

fn other_worker() -> WorkerSeed {
    WorkerSeed { name: "other".into(), triggers: false, preview_trigger: false, ..WorkerSeed::default() }
}

/// A `version` run with `deploy: true` in a project holding `config` as `wrangler.jsonc`.
fn deploy(sim: &Simulator, config: &str) -> Invocation {
    let inv = version_invocation(sim, "unused").without("worker").without("compatibility_date");
    let root = inv.dir.path();
    std::fs::create_dir_all(root.join("dist")).unwrap();
    std::fs::write(root.join("dist/index.js"), JS).unwrap();
    std::fs::write(root.join("wrangler.jsonc"), config).unwrap();
    let root = root.to_owned();
    inv.cwd(&root).input("create_worker", "true").input("deploy", "true")
}

fn writes(sim: &Simulator) -> Vec<String> {
    sim.requests().into_iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect()
}

fn plan(run: &Run) -> Vec<(String, String, String)> {
    plan_fields(run, &["resource", "name", "action"])
        .into_iter()
        .map(|f| {
            let [resource, name, action]: [String; 3] = f.try_into().unwrap();
            (resource, name, action)
        })
        .collect()
}

fn get(sim: &Simulator, path: &str) -> Value {
    call(sim, "GET", path, None).1["result"].clone()
}

fn patterns(v: &Value) -> Vec<String> {
    let mut p: Vec<String> = v.as_array().unwrap().iter().map(|r| r["pattern"].as_str().unwrap().to_owned()).collect();
    p.sort();
    p
}

fn our_domains(sim: &Simulator) -> Vec<String> {
    let mut d: Vec<String> = get(sim, "/workers/domains?service=app")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["hostname"].as_str().unwrap().to_owned())
        .collect();
    d.sort();
    d
}

fn consumer_of(sim: &Simulator, queue: &str) -> Option<Value> {
    let q = get(sim, &format!("/queues?name={queue}"));
    q[0]["consumers"].as_array().and_then(|c| c.first().cloned())
}

#[test]
fn a_deploy_applies_the_configuration_and_a_rerun_writes_nothing() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let first = deploy(&sim, FULL).run();
    first.assert_code(0);
    assert_eq!(
        plan(&first).iter().map(|(r, n, a)| format!("{r} {n} {a}")).collect::<Vec<_>>(),
        [
            "route example.com/api/* create",
            "route www.example.com/* create",
            "custom_domain app.example.com create",
            "cron */5 * * * * create",
            "cron 0 3 * * * create",
            "setting observability update",
            "queue_consumer jobs create",
        ]
    );
    assert_eq!(first.output("changes"), Some("7"));
    assert!(first.stdout.contains("RESOURCE") && first.stdout.contains("custom_domain"), "the plan's table in the log");
    let summary = &first.summary;
    assert!(summary.contains("| route | example.com/api/* | create |"), "{summary}");
    assert_eq!(patterns(&get(&sim, "/workers/scripts/app/routes")), ["example.com/api/*", "www.example.com/*"]);
    assert_eq!(our_domains(&sim), ["app.example.com"]);
    let crons: Vec<Value> = get(&sim, "/workers/scripts/app/schedules")["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cron"].clone())
        .collect();
    assert_eq!(crons, [json!("*/5 * * * *"), json!("0 3 * * *")]);
    assert_eq!(get(&sim, "/workers/scripts/app/script-settings")["observability"], json!({ "enabled": true }));
    let c = consumer_of(&sim, "jobs").expect("a consumer");
    assert_eq!((c["script_name"].clone(), c["dead_letter_queue"].clone()), (json!("app"), json!("jobs-dlq")));
    assert_eq!(c["settings"], json!({ "batch_size": 10 }));
    // One write per kind (the routes whole, one domain, the crons whole, one consumer, one
    // settings PATCH), made after the deploy.
    assert_eq!(trigger_writes(&sim, 0).len(), 5, "{:?}", trigger_writes(&sim, 0));
    let all = writes(&sim);
    // A first deploy: the classic upload creates the Worker and deploys it (as wrangler does).
    let deployed = all.iter().position(|w| w.starts_with("PUT") && w.ends_with("/workers/scripts/app")).unwrap();
    assert!(all.iter().position(|w| w.contains("/routes")).unwrap() > deployed, "{all:?}");

    let before = sim.requests().len();
    let second = deploy(&sim, FULL).run();
    second.assert_code(0);
    assert!(plan(&second).iter().all(|(_, _, a)| a == "unchanged"), "{:?}", plan(&second));
    assert_eq!(second.output("changes"), Some("0"));
    assert!(second.stdout.contains("nothing to change"));
    let again: Vec<String> = sim.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        again.iter().all(|w| w.ends_with("/versions") || w.ends_with("/deployments")),
        "only the version and its deployment: {again:?}"
    );
}

#[test]
fn what_another_worker_holds_stops_the_deploy_before_any_write_unless_takeover() {
    let sim = account(
        vec![other_worker()],
        vec![RouteSeed { pattern: "example.com/api/*".into(), script: Some("other".into()) }],
        vec![DomainSeed { hostname: "app.example.com".into(), service: "other".into() }],
        &[],
    );
    let queue = get(&sim, "/queues?name=jobs")[0]["queue_id"].as_str().unwrap().to_owned();
    let (s, _) = call(
        &sim,
        "POST",
        &format!("/queues/{queue}/consumers"),
        Some(&json!({ "type": "worker", "script_name": "other" })),
    );
    assert_eq!(s, 200);
    let before = sim.requests().len();
    let run = deploy(&sim, FULL).run();
    run.assert_code(2);
    let err = run.everything();
    for needle in [
        "route `example.com/api/*` is held by Worker `other`",
        "custom domain `app.example.com` is held by Worker `other`",
        "queue `jobs` is consumed by Worker `other`",
        "Nothing was written",
        "takeover: true",
    ] {
        assert!(err.contains(needle), "{needle}\n{err}");
    }
    let conflicts: Vec<String> =
        plan(&run).into_iter().filter(|(_, _, a)| a == "conflict").map(|(_, n, _)| n).collect();
    assert_eq!(conflicts, ["example.com/api/*", "app.example.com", "jobs"]);
    let sent: Vec<String> = sim.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(sent.is_empty(), "no write at all, not even the Worker: {sent:?}");

    let run = deploy(&sim, FULL).input("takeover", "true").run();
    run.assert_code(0);
    let taken: Vec<String> = plan(&run).into_iter().filter(|(_, _, a)| a == "take_over").map(|(_, n, _)| n).collect();
    assert_eq!(taken, ["example.com/api/*", "app.example.com", "jobs"]);
    assert_eq!(patterns(&get(&sim, "/workers/scripts/app/routes")), ["example.com/api/*", "www.example.com/*"]);
    assert!(get(&sim, "/workers/scripts/other/routes").as_array().unwrap().is_empty());
    assert_eq!(our_domains(&sim), ["app.example.com"]);
    assert_eq!(consumer_of(&sim, "jobs").unwrap()["script_name"], "app");
}

#[test]
fn what_the_configuration_no_longer_lists_is_removed_only_with_prune() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    deploy(&sim, FULL).run().assert_code(0);
    let fewer = FULL
        .replace(
            r#"    "www.example.com/*",
"#,
            "",
        )
        .replace(
            r#",
    { "pattern": "app.example.com", "custom_domain": true }"#,
            "",
        )
        .replace(r#""jobs", "max_batch_size""#, r#""other-jobs", "max_batch_size""#)
        .replace(r#""0 3 * * *""#, r#""0 4 * * *""#);
    let kept = deploy(&sim, &fewer).run();
    kept.assert_code(0);
    let rows = plan(&kept);
    for row in [
        ("route", "www.example.com/*", "left_alone"),
        ("custom_domain", "app.example.com", "left_alone"),
        ("queue_consumer", "jobs", "left_alone"),
        ("queue_consumer", "other-jobs", "create"),
        // The crons are the whole list, as wrangler takes them.
        ("cron", "0 3 * * *", "delete"),
        ("cron", "0 4 * * *", "create"),
    ] {
        assert!(rows.contains(&(row.0.into(), row.1.into(), row.2.into())), "{row:?} in {rows:?}");
    }
    assert_eq!(patterns(&get(&sim, "/workers/scripts/app/routes")), ["example.com/api/*", "www.example.com/*"]);
    assert_eq!(our_domains(&sim), ["app.example.com"]);
    assert!(consumer_of(&sim, "jobs").is_some());

    let pruned = deploy(&sim, &fewer).input("prune", "true").run();
    pruned.assert_code(0);
    let deleted: Vec<String> = plan(&pruned).into_iter().filter(|(_, _, a)| a == "delete").map(|(_, n, _)| n).collect();
    assert_eq!(deleted, ["www.example.com/*", "app.example.com", "jobs"]);
    assert_eq!(patterns(&get(&sim, "/workers/scripts/app/routes")), ["example.com/api/*"]);
    assert!(our_domains(&sim).is_empty());
    assert!(consumer_of(&sim, "jobs").is_none());
    assert_eq!(consumer_of(&sim, "other-jobs").unwrap()["script_name"], "app");
}

#[test]
fn a_key_the_configuration_omits_leaves_the_live_setting_alone() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    deploy(&sim, FULL).run().assert_code(0);
    let (s, _) = call(&sim, "PATCH", "/workers/scripts/app/script-settings", Some(&json!({ "logpush": true })));
    assert_eq!(s, 200);
    // No `observability`, `logpush`, `triggers` or `routes` now: wrangler would turn
    // observability off; here nothing of them is read or written.
    let bare = r#"{ "name": "app", "main": "dist/index.js", "compatibility_date": "2026-11-01" }"#;
    let before = sim.requests().len();
    let run = deploy(&sim, bare).run();
    let after = sim.requests().len();
    run.assert_code(0);
    assert_eq!(run.output("plan"), None, "nothing to plan");
    let settings = get(&sim, "/workers/scripts/app/script-settings");
    assert_eq!(
        (settings["observability"].clone(), settings["logpush"].clone()),
        (json!({ "enabled": true }), json!(true))
    );
    assert_eq!(get(&sim, "/workers/scripts/app/schedules")["schedules"].as_array().unwrap().len(), 2);
    assert_eq!(patterns(&get(&sim, "/workers/scripts/app/routes")).len(), 2);
    let touched: Vec<String> = sim.requests()[before..after]
        .iter()
        .filter(|r| {
            ["/routes", "/domains", "/schedules", "/queues", "/script-settings", "/zones"]
                .iter()
                .any(|p| r.path.contains(p))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
}

#[test]
fn an_upload_without_deploy_applies_nothing_and_says_so() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let run = deploy(&sim, FULL).input("deploy", "false").input("create_worker", "true").run();
    // Migrations aside, `FULL` has none: the upload goes through.
    run.assert_code(0);
    assert!(run.stdout.contains("applied by a deploy at 100 %"), "{}", run.stdout);
    assert!(trigger_writes(&sim, 0).is_empty());
    assert!(sim.requests().iter().all(|r| !r.path.contains("/schedules") && !r.path.contains("/queues")));
}

#[test]
fn a_dns_record_on_a_custom_domain_is_named_with_the_fix() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &["app.example.com"]);
    let run = deploy(&sim, FULL).run();
    run.assert_code(2);
    let err = run.everything();
    assert!(err.contains("hostname `app.example.com` already has a DNS record"), "{err}");
    assert!(err.contains("takeover: true"), "{err}");
    assert!(err.contains("not all of the configuration was applied"), "{err}");
    // The other kinds were applied meanwhile, as wrangler does.
    assert_eq!(patterns(&get(&sim, "/workers/scripts/app/routes")).len(), 2);
    let run = deploy(&sim, FULL).input("takeover", "true").run();
    run.assert_code(0);
    assert_eq!(our_domains(&sim), ["app.example.com"]);
}

#[test]
fn a_queue_that_does_not_exist_stops_before_any_write() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let run = deploy(&sim, &FULL.replace(r#""queue": "jobs""#, r#""queue": "nope""#)).run();
    run.assert_code(2);
    assert!(run.everything().contains("queues.consumers[0]`: queue `nope` does not exist"), "{}", run.everything());
    assert!(writes(&sim).is_empty(), "{:?}", writes(&sim));
}

/// Cloudflare's script settings require `enabled` and a sampling rate from 0 to 1; refused at
/// the settings write they would be refused after the deployment, so the file is refused first.
#[test]
fn an_observability_block_the_settings_would_refuse_stops_before_any_request() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let logs_only =
        FULL.replace(r#""observability": { "enabled": true }"#, r#""observability": { "logs": { "enabled": true } }"#);
    let run = deploy(&sim, &logs_only).run();
    run.assert_code(2);
    let err = run.everything();
    assert!(
        err.contains("wrangler.jsonc:12: observability: has no `enabled`: Cloudflare's script settings require it"),
        "{err}"
    );
    assert!(err.contains("set `enabled` to `true`"), "{err}");
    let rate = FULL.replace(r#""enabled": true }"#, r#""enabled": true, "logs": { "head_sampling_rate": 2 } }"#);
    let run = deploy(&sim, &rate).run();
    run.assert_code(2);
    assert!(
        run.everything()
            .contains("wrangler.jsonc:12: observability.logs.head_sampling_rate: must be a number from 0 to 1"),
        "{}",
        run.everything()
    );
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[test]
fn deploy_given_a_configuration_applies_it_beside_the_deployment() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let upload = deploy(&sim, FULL).input("deploy", "false").run();
    upload.assert_code(0);
    let version = upload.output("version_id").unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wrangler.jsonc"), FULL).unwrap();
    let run_deploy = |config: Option<&str>| {
        let mut inv =
            Invocation::new(&sim).without("branch").without("commit").input("command", "deploy").input("worker", "app");
        inv = inv.input("versions", &version).cwd(dir.path());
        if let Some(c) = config {
            inv = inv.input("config", c);
        }
        inv.run()
    };
    // A configuration lying in the working directory is not read unless named.
    let plain = run_deploy(None);
    plain.assert_code(0);
    assert_eq!(plain.output("plan"), None);
    assert!(trigger_writes(&sim, 0).is_empty());
    let applied = run_deploy(Some("wrangler.jsonc"));
    applied.assert_code(0);
    assert_eq!(applied.output("changes"), Some("7"));
    assert_eq!(patterns(&get(&sim, "/workers/scripts/app/routes")), ["example.com/api/*", "www.example.com/*"]);
    assert_eq!(our_domains(&sim), ["app.example.com"]);
    let again = run_deploy(Some("wrangler.jsonc"));
    again.assert_code(0);
    assert_eq!(again.output("changes"), Some("0"));
}

#[test]
fn an_environment_gets_wranglers_environment_tags_and_keeps_the_others() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let config = r#"{ "name": "app", "main": "dist/index.js", "compatibility_date": "2026-11-01",
                     "env": { "staging": { "observability": { "enabled": false } } } }"#;
    let first = deploy(&sim, config).input("environment", "staging").run();
    first.assert_code(0);
    let tags = |sim: &Simulator| get(sim, "/workers/scripts/app-staging/script-settings")["tags"].clone();
    assert_eq!(tags(&sim), json!(["cf:service=app", "cf:environment=staging"]));
    let (s, _) = call(
        &sim,
        "PATCH",
        "/workers/scripts/app-staging/script-settings",
        Some(&json!({ "tags": ["team=web", "cf:service=app", "cf:environment=staging"] })),
    );
    assert_eq!(s, 200);
    let again = deploy(&sim, config).input("environment", "staging").run();
    again.assert_code(0);
    assert_eq!(again.output("changes"), Some("0"), "{:?}", plan(&again));
    assert_eq!(tags(&sim), json!(["team=web", "cf:service=app", "cf:environment=staging"]));
    // Without environments in the file, no tags are written.
    let bare = deploy(&sim, r#"{ "name": "app", "main": "dist/index.js", "compatibility_date": "2026-11-01" }"#).run();
    bare.assert_code(0);
    assert_eq!(get(&sim, "/workers/scripts/app/script-settings")["tags"], json!([]));
}

#[test]
fn workflows_are_created_once_and_taken_from_another_worker_only_with_takeover() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let config = |name: &str| {
        format!(
            r#"{{ "name": "{name}", "main": "dist/index.js", "compatibility_date": "2026-11-01",
                 "workflows": [{{ "binding": "FLOW", "name": "orders", "class_name": "OrderFlow" }},
                               {{ "binding": "THEIRS", "name": "billing", "class_name": "Billing", "script_name": "elsewhere" }}] }}"#
        )
    };
    let first = deploy(&sim, &config("app")).run();
    first.assert_code(0);
    assert_eq!(
        plan(&first),
        [("workflow".to_owned(), "orders".to_owned(), "create".to_owned())],
        "another Worker's Workflow is only bound"
    );
    let w = get(&sim, "/workflows/orders");
    assert_eq!((w["script_name"].clone(), w["class_name"].clone()), (json!("app"), json!("OrderFlow")));
    let again = deploy(&sim, &config("app")).run();
    again.assert_code(0);
    assert_eq!(again.output("changes"), Some("0"));
    let puts = sim.requests().iter().filter(|r| r.method == "PUT" && r.path.contains("/workflows/")).count();
    assert_eq!(puts, 1, "written once, by the first deploy");

    let before = sim.requests().len();
    let taken = deploy(&sim, &config("app2")).run();
    taken.assert_code(2);
    assert!(taken.everything().contains("Workflow `orders` is run by Worker `app`"), "{}", taken.everything());
    assert!(sim.requests()[before..].iter().all(|r| r.method == "GET"), "nothing written");
    deploy(&sim, &config("app2")).input("takeover", "true").run().assert_code(0);
    assert_eq!(get(&sim, "/workflows/orders")["script_name"], "app2");
}

#[test]
fn a_conflict_stops_the_step_before_the_d1_migrations_too() {
    let config = SimConfig {
        workers: vec![other_worker()],
        zones: vec![ZoneSeed {
            name: "example.com".into(),
            id: None,
            routes: vec![RouteSeed { pattern: "example.com/api/*".into(), script: Some("other".into()) }],
        }],
        d1_databases: vec![workers_ci_simulator::D1Seed { name: "shop".into(), uuid: None }],
        rate_limit: None,
        ..SimConfig::default()
    };
    let sim = Simulator::start_background(config).unwrap();
    let uuid = sim.d1_uuid("shop").unwrap();
    let text = format!(
        r#"{{ "name": "app", "main": "dist/index.js", "compatibility_date": "2026-11-01",
             "routes": ["example.com/api/*"],
             "d1_databases": [{{ "binding": "DB", "database_name": "shop", "database_id": "{uuid}" }}] }}"#
    );
    let inv = deploy(&sim, &text).input("migrate", "true");
    let root = inv.dir.path().to_owned();
    std::fs::create_dir_all(root.join("migrations")).unwrap();
    std::fs::write(root.join("migrations/0001_a.sql"), "CREATE TABLE a(id INTEGER);\n").unwrap();
    let run = inv.run();
    run.assert_code(2);
    assert!(run.everything().contains("route `example.com/api/*` is held by Worker `other`"), "{}", run.everything());
    assert!(writes(&sim).is_empty(), "no migration, no upload: {:?}", writes(&sim));
}

/// The plan's rows, `METHOD path — what`, from the `plan` output of a dry run.
fn planned_calls(run: &Run) -> Vec<String> {
    plan_fields(run, &["method", "path", "what"]).iter().map(|f| format!("{} {} — {}", f[0], f[1], f[2])).collect()
}

/// A dry run without credentials lists the apply step's calls too (issue 21: it used to stop
/// at the upload and its deployment): the reads first, the writes after the deployment, each
/// with the configuration's values and the condition that decides it. Nothing is sent.
#[test]
fn a_dry_run_plans_the_triggers_and_settings_without_credentials() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let run = deploy(&sim, FULL).input("dry_run", "true").without("api_token").without("account_id").run();
    run.assert_code(0);
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    let plan = planned_calls(&run);
    assert_eq!(
        plan,
        [
            r"GET /accounts/{account_id}/workers/scripts — list the Workers: the routes this Worker has (the routes PUT replaces them whole)",
            r"GET /accounts/{account_id}/workers/domains — list the account's custom domains: who holds each hostname",
            r"GET /accounts/{account_id}/workers/scripts/app/schedules — read the Worker's cron triggers",
            r"GET /accounts/{account_id}/workers/scripts/app/script-settings — read the Worker's settings",
            r"GET /accounts/{account_id}/queues?page=1&per_page=100 — list the account's queues and their consumers (every page)",
            r"GET /zones?name=example.com&account.id={account_id} — find the zone `example.com` (route `example.com/api/*`, only if the Worker does not have it yet; the first zone found ends the search)",
            r"GET /zones/{zone_id}/workers/routes — list the zone's Worker routes (once per zone of a route the Worker does not have yet): who holds example.com/api/*, www.example.com/*",
            r"GET /zones?name=www.example.com&account.id={account_id} — find the zone `www.example.com` (route `www.example.com/*`, only if the Worker does not have it yet; the first zone found ends the search)",
            r"GET /zones?name=app.example.com&account.id={account_id} — find the zone `app.example.com` (custom domain `app.example.com`, only if the Worker does not have it yet; the first zone found ends the search)",
            r"GET /accounts/{account_id}/workers/workers/app/versions/latest — read the latest version: the bindings it has that this upload does not declare are inherited or reported (keep_bindings)",
            r"PUT /accounts/{account_id}/workers/scripts/app — new Worker (its latest version not found): create it and deploy at 100 % in one request, the classic upload wrangler's first deploy sends: 1 module, main module index.js; no bindings; compatibility date 2026-11-01; 289 bytes",
            r"GET /accounts/{account_id}/workers/workers/app/versions/latest — new Worker: read the version it made",
            r"GET /accounts/{account_id}/workers/workers/app — new Worker: read it (its id and workers.dev flags)",
            r"POST /accounts/{account_id}/workers/scripts/app/subdomain — new Worker: set workers.dev off, preview URLs off, only if it does not show them already",
            r"GET /accounts/{account_id}/workers/scripts/app/deployments — new Worker: read the deployment it made",
            r"POST /accounts/{account_id}/workers/workers/app/versions — existing Worker: upload the version: 1 module, main module index.js; no bindings; compatibility date 2026-11-01; 289 bytes",
            r"POST /accounts/{account_id}/workers/scripts/app/deployments — existing Worker: deploy the new version at 100 %",
            r"PUT /accounts/{account_id}/workers/scripts/app/routes — set the Worker's routes to example.com/api/*, www.example.com/*, only if they differ (the routes it has that the configuration does not list are kept; prune: true removes them)",
            r"PUT /accounts/{account_id}/workers/domains — attach custom domain `app.example.com` to this Worker, only if it does not hold it (one another Worker holds stops the step before any write, unless takeover: true)",
            r"PUT /accounts/{account_id}/workers/scripts/app/schedules — set the cron triggers, only if the live crons differ from [*/5 * * * *, 0 3 * * *]",
            r#"POST /accounts/{account_id}/queues/{queue_id}/consumers — add this Worker as the consumer of queue `jobs` with {"batch_size":10}, dead-letter queue `jobs-dlq`, only if it is not yet (if it is with other settings: PUT queues/{queue_id}/consumers/{consumer_id} instead)"#,
            r#"PATCH /accounts/{account_id}/workers/scripts/app/script-settings — set, of observability {"enabled":true}, only those that differ"#,
        ]
    );
    assert!(run.stdout.contains("A real run would send, in order:"), "{}", run.stdout);
}

/// The dry run's calls are the calls a real run sends: a first deploy (everything differs)
/// against the simulator, its request log beside the plan of the same configuration (methods
/// and paths, the ids only the account knows as the plan's placeholders; the reads sent
/// together compared as a set). So the plan and the deploy cannot drift apart.
#[test]
fn a_dry_run_plans_the_calls_a_real_first_deploy_sends() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let dry = deploy(&sim, FULL).input("dry_run", "true").without("api_token").run();
    dry.assert_code(0);
    assert!(sim.requests().is_empty());
    deploy(&sim, FULL).run().assert_code(0);
    let log = sim.requests();
    let zone =
        call_root(&sim, "GET", "/zones?name=example.com", None).1["result"][0]["id"].as_str().unwrap().to_owned();
    let queue = get(&sim, "/queues?name=jobs")[0]["queue_id"].as_str().unwrap().to_owned();
    let sent: Vec<String> = log
        .iter()
        .map(|r| {
            let path =
                r.path.trim_start_matches("/client/v4").replace(&zone, "{zone_id}").replace(&queue, "{queue_id}");
            let q = if r.query.is_empty() { String::new() } else { format!("?{}", r.query) };
            format!("{} {path}{q}", r.method)
        })
        .collect();
    // A first deploy takes the plan's new-Worker branch. The new Worker's flags are not written
    // here: the configuration has routes (workers.dev off), and the simulator's new Worker shows
    // them off already (docs/api-assumptions.md, the classic upload's defaults).
    let mut planned: Vec<String> = planned_calls(&dry)
        .iter()
        .filter(|c| !c.contains(" — existing Worker: ") && !c.contains("/subdomain — new Worker: "))
        .map(|c| c.split(" — ").next().unwrap().to_owned())
        .collect();
    // The upload's query is a detail the plan does not spell.
    let mut sent: Vec<String> = sent
        .into_iter()
        .map(|c| {
            c.replace("/versions?deploy=false", "/versions").replace("?excludeScript=true&bindings_inherit=strict", "")
        })
        .collect();
    assert_eq!(sent.len(), planned.len(), "{sent:#?}\n{planned:#?}");
    // The first reads are sent together: their order is the network's.
    sent[..5].sort();
    planned[..5].sort();
    assert_eq!(sent, planned);
}

/// `deploy` given a configuration, dry: the deployments read, the apply step's reads, the
/// deployment, then its writes; `prune` and `takeover` add the removals and the takeovers they
/// allow. Nothing sent, no token.
#[test]
fn a_dry_run_of_deploy_given_a_configuration_plans_prune_and_takeover() {
    let sim = account(Vec::new(), Vec::new(), Vec::new(), &[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wrangler.jsonc"), FULL).unwrap();
    let run = Invocation::new(&sim)
        .without("branch")
        .without("commit")
        .without("api_token")
        .without("account_id")
        .input("command", "deploy")
        .input("worker", "app")
        .input("versions", "7c4b0cc3-4f5e-4e2a-9d61-2b1f3c9f2a11")
        .input("config", "wrangler.jsonc")
        .input("prune", "true")
        .input("takeover", "true")
        .input("dry_run", "true")
        .cwd(dir.path())
        .run();
    run.assert_code(0);
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
    let calls: Vec<String> = planned_calls(&run).iter().map(|c| c.split(" — ").next().unwrap().to_owned()).collect();
    let a = "/accounts/{account_id}";
    let z = "&account.id={account_id}";
    assert_eq!(
        calls,
        [
            format!("GET {a}/workers/scripts/app/deployments"),
            format!("GET {a}/workers/scripts"),
            format!("GET {a}/workers/domains"),
            format!("GET {a}/workers/scripts/app/schedules"),
            format!("GET {a}/workers/scripts/app/script-settings"),
            format!("GET {a}/queues?page=1&per_page=100"),
            format!("GET /zones?name=example.com{z}"),
            "GET /zones/{zone_id}/workers/routes".to_owned(),
            format!("GET /zones?name=www.example.com{z}"),
            format!("GET /zones?name=app.example.com{z}"),
            format!("POST {a}/workers/scripts/app/deployments"),
            "PUT /zones/{zone_id}/workers/routes/{route_id}".to_owned(),
            format!("PUT {a}/workers/scripts/app/routes"),
            format!("PUT {a}/workers/domains"),
            format!("DELETE {a}/workers/domains/{{domain_id}}"),
            format!("PUT {a}/workers/scripts/app/schedules"),
            format!("DELETE {a}/queues/{{queue_id}}/consumers/{{consumer_id}}"),
            format!("POST {a}/queues/{{queue_id}}/consumers"),
            format!("DELETE {a}/queues/{{queue_id}}/consumers/{{consumer_id}}"),
            format!("PATCH {a}/workers/scripts/app/script-settings"),
        ]
    );
    let plan = planned_calls(&run).join("\n");
    assert!(plan.contains("prune: the routes it has that the configuration does not list are removed"), "{plan}");
    assert!(plan.contains("takeover: over another Worker's, and over a DNS record on the hostname"), "{plan}");
}

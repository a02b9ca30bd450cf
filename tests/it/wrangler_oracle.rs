//! wrangler as the oracle: the real `wrangler deploy` (npm, pinned) against one fresh simulator,
//! `workers-ci version` with `deploy: true` against another, for the same project (KV and D1
//! bindings, a Durable Object with its migration, two routes, a custom domain, two crons, a
//! queue consumer, observability on). The Worker each leaves, read back through the API, is the
//! same, except where README ("From wrangler to workers-ci") documents a deliberate
//! difference. A second deploy by each changes nothing, and workers-ci's writes nothing but the
//! version and its deployment.
//!
//! wrangler comes from the shared harness (`tests/it/common/wrangler.rs`): npm, pinned, installed
//! once; without node and npm the test fails saying so.

use std::path::Path;

use serde_json::{Value, json};
use workers_ci_simulator::{SimConfig, Simulator};

use crate::common::wrangler::{self, wrangler};
use crate::common::*;

/// The project wrangler and workers-ci both deploy; `bench/bench.py` (benchmark 9) deploys the
/// same files, so the figures there are for the project this test compares.
const PROJECT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oracle-project");

fn account() -> Simulator {
    let config =
        SimConfig { workers: Vec::new(), queues: vec!["jobs-dlq".into()], rate_limit: None, ..SimConfig::default() };
    Simulator::start_background(config).expect("simulator starts")
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // A copy: both tools write state (`.wrangler/`) beside the configuration.
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    for file in ["wrangler.jsonc", "src/index.js"] {
        std::fs::copy(format!("{PROJECT}/{file}"), dir.path().join(file)).unwrap();
    }
    dir
}

fn run_wrangler(sim: &Simulator, dir: &Path) {
    wrangler_cmd(sim, dir, &["deploy"]);
}

/// `wrangler <args>` in `dir` against `sim` (the shared harness); it must succeed.
fn wrangler_cmd(sim: &Simulator, dir: &Path, args: &[&str]) {
    let out = wrangler::run(&wrangler(), sim, dir, args);
    assert!(
        out.status.success(),
        "wrangler {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_workers_ci(sim: &Simulator, dir: &Path) -> Run {
    let inv = version_invocation(sim, "unused").without("worker").without("compatibility_date");
    let run = inv.cwd(dir).input("deploy", "true").input("create_worker", "true").run();
    run.assert_code(0);
    run
}

fn get(sim: &Simulator, path: &str) -> Value {
    let (status, body) = call(sim, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    body["result"].clone()
}

/// The Worker as the API shows it, ids and times left out.
fn state(sim: &Simulator) -> Value {
    let mut bindings: Vec<Value> = get(sim, "/workers/scripts/oracle/settings")["bindings"].as_array().unwrap().clone();
    bindings.sort_by_key(|b| b["name"].as_str().unwrap_or_default().to_owned());
    // wrangler's classic upload names a D1 database by the legacy `id`, the beta API by
    // `database_id` (docs/cloudflare-api.md §D.2): the same binding, stored as each sent it.
    for b in &mut bindings {
        if b["type"] == "d1"
            && let Some(id) = b.as_object_mut().and_then(|o| o.remove("id"))
        {
            b["database_id"] = id;
        }
    }
    let mut routes: Vec<Value> =
        get(sim, "/workers/scripts/oracle/routes").as_array().unwrap().iter().map(|r| r["pattern"].clone()).collect();
    routes.sort_by_key(Value::to_string);
    let domains: Vec<Value> = get(sim, "/workers/domains?service=oracle")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| json!({ "hostname": d["hostname"], "zone_name": d["zone_name"] }))
        .collect();
    let crons: Vec<Value> = get(sim, "/workers/scripts/oracle/schedules")["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cron"].clone())
        .collect();
    let queue = &get(sim, "/queues?name=jobs")[0];
    let consumers: Vec<Value> = queue["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!({ "script": c["script_name"], "settings": c["settings"], "dead_letter_queue": c["dead_letter_queue"] }))
        .collect();
    let settings = get(sim, "/workers/scripts/oracle/script-settings");
    let service = get(sim, "/workers/services/oracle");
    json!({
        "bindings": bindings,
        "routes": routes,
        "custom_domains": domains,
        "crons": crons,
        "queue_consumers": consumers,
        "settings": settings,
        "migration_tag": service["default_environment"]["script"]["migration_tag"],
        "workers_dev": get(sim, "/workers/scripts/oracle/subdomain"),
    })
}

/// The reads [`state`] makes, which the counts leave out.
const STATE_READS: usize = 8;

fn sim_len(sim: &Simulator) -> usize {
    sim.requests().len()
}

/// Writes after `from`, as `METHOD path` (the account prefix dropped).
fn writes_since(sim: &Simulator, from: usize) -> Vec<String> {
    let prefix = format!("/client/v4/accounts/{}", sim.account_id());
    sim.requests()[from..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path.trim_start_matches(&prefix)))
        .collect()
}

#[test]
fn workers_ci_leaves_the_worker_wrangler_deploy_leaves() {
    let (theirs, ours) = (account(), account());
    let (wdir, odir) = (project(), project());
    // The queue the consumer needs, made as a user would make it (the dead-letter queue is
    // seeded by the simulator's config).
    wrangler_cmd(&theirs, wdir.path(), &["queues", "create", "jobs"]);
    wrangler_cmd(&ours, odir.path(), &["queues", "create", "jobs"]);
    let (tfrom, ofrom0) = (theirs.requests().len(), ours.requests().len());

    run_wrangler(&theirs, wdir.path());
    let first = run_workers_ci(&ours, odir.path());
    let counts = |sim: &Simulator, from: usize| (sim.requests().len() - from, writes_since(sim, from).len());
    let (wfirst, ofirst) = (counts(&theirs, tfrom), counts(&ours, ofrom0));
    let (w1, o1) = (state(&theirs), state(&ours));
    assert_eq!(w1, o1, "the same Worker after a first deploy\nwrangler: {w1:#}\nworkers-ci: {o1:#}");
    // What was checked is really there.
    assert_eq!(o1["routes"], json!(["example.com/api/*", "www.example.com/*"]));
    assert_eq!(o1["custom_domains"], json!([{ "hostname": "app.example.com", "zone_name": "example.com" }]));
    assert_eq!(o1["crons"], json!(["*/5 * * * *", "0 3 * * *"]));
    assert_eq!(
        o1["queue_consumers"],
        json!([{ "script": "oracle", "settings": { "batch_size": 10, "max_wait_time_ms": 5000 }, "dead_letter_queue": "jobs-dlq" }])
    );
    assert_eq!(o1["settings"]["observability"]["enabled"], true);
    assert_eq!(o1["migration_tag"], "v1");
    assert_eq!(o1["bindings"].as_array().unwrap().len(), 3, "KV, D1, the Durable Object");
    assert_eq!(first.output("changes"), Some("7"));

    // A second deploy by each: the same Worker still.
    let (wfrom, ofrom) = (theirs.requests().len(), ours.requests().len());
    run_wrangler(&theirs, wdir.path());
    let second = run_workers_ci(&ours, odir.path());
    let (w2, o2) = (state(&theirs), state(&ours));
    assert_eq!(w2, w1, "wrangler's second deploy changes nothing");
    assert_eq!(o2, o1, "workers-ci's second deploy changes nothing");
    assert_eq!(second.output("changes"), Some("0"));
    // workers-ci writes the new version and its deployment, nothing else; wrangler writes
    // every trigger again (and the settings).
    let ours_written = writes_since(&ours, ofrom);
    assert_eq!(ours_written.len(), 2, "{ours_written:?}");
    assert!(ours_written[0].ends_with("/workers/workers/oracle/versions"), "{ours_written:?}");
    assert!(ours_written[1].ends_with("/workers/scripts/oracle/deployments"), "{ours_written:?}");
    let theirs_written = writes_since(&theirs, wfrom);
    eprintln!(
        "requests (all, writes): first deploy wrangler {wfirst:?}, workers-ci {ofirst:?}; re-run wrangler {:?}, workers-ci {:?}",
        (sim_len(&theirs) - wfrom - STATE_READS, theirs_written.len()),
        (sim_len(&ours) - ofrom - STATE_READS, ours_written.len())
    );
    for kind in ["/routes", "/domains/records", "/schedules", "/consumers/", "/script-settings", "/subdomain"] {
        assert!(theirs_written.iter().any(|w| w.contains(kind)), "wrangler rewrites {kind}: {theirs_written:?}");
    }
}

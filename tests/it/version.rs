//! `version` and `deploy` end to end against the simulator's Workers API.

use crate::common::*;
use base64::Engine as _;

fn dist(inv: &Invocation, files: &[(&str, &[u8])]) -> String {
    let dir = inv.dir.path().join("dist");
    for (name, bytes) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir.to_str().unwrap().to_owned()
}

fn version_inv(sim: &Simulator, worker: &str) -> Invocation {
    version_invocation(sim, worker)
}

const JS: &[u8] = b"export default { fetch() { return new Response('hi') } }\n";

#[test]
fn new_worker_is_created_then_versioned_with_exact_module_bytes() {
    let sim = sim();
    let inv = version_inv(&sim, "fresh-worker").input("create_worker", "true");
    let wasm: Vec<u8> = (0..=255u8).cycle().take(70_001).collect();
    let dir = dist(
        &inv,
        &[("index.js", JS), ("lib/add.wasm", &wasm), ("index.js.map", b"{}"), ("_headers", b"/*\n  X: y\n")],
    );
    let run = inv.input("dir", &dir).input("compatibility_flags", "nodejs_compat, streams_enable_constructors").run();
    run.assert_code(0).assert_no_secret(TOKEN);
    assert_eq!(requests_matching(&sim, "POST", "/workers/workers"), 2, "create worker, then version");
    let versions = sim.versions("fresh-worker");
    assert_eq!(versions.len(), 1);
    let v = &versions[0];
    assert_eq!(run.output("version_id"), v["id"].as_str());
    assert_eq!(run.output("version_number"), Some("1"));
    assert_eq!(v["main_module"], "index.js");
    assert_eq!(v["compatibility_flags"], serde_json::json!(["nodejs_compat", "streams_enable_constructors"]));
    let module = |name: &str| v["modules"].as_array().unwrap().iter().find(|m| m["name"] == name).cloned().unwrap();
    let decode = |m: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD.decode(m["content_base64"].as_str().unwrap()).unwrap()
    };
    assert_eq!(decode(&module("lib/add.wasm")), wasm);
    assert_eq!(decode(&module("index.js")), JS);
    assert_eq!(module("index.js")["content_type"], "application/javascript+module");
    assert_eq!(module("lib/add.wasm")["content_type"], "application/wasm");
    assert_eq!(module("index.js.map")["content_type"], "application/source-map");
    assert_eq!(module("_headers")["content_type"], "text/plain");
    assert!(run.output("worker_id").is_some());
    assert!(run.output("workers_dev_url").is_some_and(|u| u.contains("fresh-worker")), "{:?}", run.outputs);
    assert!(sim.deployments("fresh-worker").is_empty(), "deploy defaults to false");
}

#[test]
fn existing_worker_gets_a_second_version_and_create_worker_false_refuses_missing() {
    let sim = sim();
    for expected in ["1", "2"] {
        let inv = version_inv(&sim, "my-worker");
        let dir = dist(&inv, &[("index.js", JS)]);
        let run = inv.input("dir", &dir).input("create_worker", "false").run();
        run.assert_code(0);
        assert_eq!(run.output("version_number"), Some(expected));
    }
    let inv = version_inv(&sim, "missing-worker");
    let dir = dist(&inv, &[("index.js", JS)]);
    let run = inv.input("dir", &dir).input("create_worker", "false").run();
    run.assert_code(5);
    assert!(run.stdout.contains("create_worker"), "{}", run.stdout);
    assert_eq!(requests_matching(&sim, "POST", "/workers/workers/missing-worker"), 0);
}

#[test]
fn bindings_vars_and_secrets_are_sent_and_secrets_never_printed() {
    let sim = sim();
    let inv = version_inv(&sim, "my-worker");
    let dir = dist(&inv, &[("index.js", JS)]);
    let secret = "sk_live_VERY-SECRET-42";
    let run = inv
        .input("dir", &dir)
        .input(
            "bindings",
            r#"[{"type":"kv_namespace","name":"CACHE","namespace_id":"0f2ac74b498b48028cb68387c421e279"}]"#,
        )
        .input("vars", "ENVIRONMENT=production\nGREETING=a=b")
        .input("secrets", &format!("STRIPE_KEY={secret}"))
        .input("message", "release 1")
        .input("tag", "v1")
        .env("RUNNER_DEBUG", "1")
        .run();
    run.assert_code(0).assert_no_secret(TOKEN);
    let masks: Vec<String> =
        run.view().commands.iter().filter(|c| c.name == "add-mask").map(|c| c.data.clone()).collect();
    assert!(masks.contains(&secret.to_owned()), "secret masked: {masks:?}");
    let everything_but_masks: String =
        run.everything().lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
    assert!(!everything_but_masks.contains(secret), "{everything_but_masks}");
    let v = &sim.versions("my-worker")[0];
    let b = v["bindings"].as_array().unwrap();
    let by_name = |n: &str| b.iter().find(|x| x["name"] == n).cloned().unwrap();
    assert_eq!(by_name("CACHE")["type"], "kv_namespace");
    assert_eq!(by_name("ENVIRONMENT")["text"], "production");
    assert_eq!(by_name("GREETING")["text"], "a=b");
    assert_eq!(by_name("STRIPE_KEY")["type"], "secret_text");
    assert_eq!(v["annotations"]["workers/message"], "release 1");
    assert_eq!(v["annotations"]["workers/tag"], "v1");
    assert!(run.summary.contains("`STRIPE_KEY` (secret_text)"), "{}", run.summary);
}

#[test]
fn deploy_true_sends_all_traffic_and_a_percentage_splits_with_the_live_version() {
    let sim = sim();
    let first = version_inv(&sim, "my-worker");
    let dir = dist(&first, &[("index.js", JS)]);
    let run1 = first.input("dir", &dir).input("deploy", "true").run();
    run1.assert_code(0);
    let v1 = run1.output("version_id").unwrap().to_owned();
    let d = sim.deployments("my-worker");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["versions"], serde_json::json!([{"version_id": v1, "percentage": 100.0}]));
    assert_eq!(run1.output("deployment_id"), d[0]["id"].as_str());

    let second = version_inv(&sim, "my-worker");
    let dir = dist(&second, &[("index.js", b"export default {}\n")]);
    let run2 = second.input("dir", &dir).input("deploy", "10").run();
    run2.assert_code(0);
    let v2 = run2.output("version_id").unwrap().to_owned();
    let live = &sim.deployments("my-worker")[0];
    let mut split: Vec<(String, f64)> = live["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version_id"].as_str().unwrap().to_owned(), v["percentage"].as_f64().unwrap()))
        .collect();
    split.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(split, vec![(v2.clone(), 10.0), (v1.clone(), 90.0)]);

    // Promote, then roll back to the previous deployment's main version.
    let promote = Invocation::new(&sim)
        .without("branch")
        .without("commit")
        .input("command", "deploy")
        .input("versions", &v2)
        .run();
    promote.assert_code(0);
    assert_eq!(sim.deployments("my-worker")[0]["versions"][0]["percentage"], 100.0);
    let rollback = Invocation::new(&sim)
        .without("branch")
        .without("commit")
        .input("command", "deploy")
        .input("rollback", "true")
        .run();
    rollback.assert_code(0);
    // The previous deployment was the 10/90 split, whose main version is v1.
    let live = &sim.deployments("my-worker")[0];
    assert_eq!(live["versions"], serde_json::json!([{"version_id": v1, "percentage": 100.0}]));
    assert_eq!(rollback.output("version_id"), Some(v1.as_str()));
}

#[test]
fn gradual_deploy_without_a_live_version_uploads_nothing() {
    let sim = sim();
    let inv = version_inv(&sim, "brand-new").input("create_worker", "true");
    let dir = dist(&inv, &[("index.js", JS)]);
    let run = inv.input("dir", &dir).input("deploy", "10").run();
    run.assert_code(5);
    assert!(run.stdout.contains("deploy: true"), "{}", run.stdout);
    assert!(sim.versions("brand-new").is_empty(), "nothing half-done");
}

#[test]
fn ambiguous_version_and_deployment_creates_leave_exactly_one_of_each() {
    let sim = sim();
    sim.add_fault(fault("POST", "/versions", 1, FaultAction::DropAfter));
    sim.add_fault(fault("POST", "/deployments", 1, FaultAction::DropAfter));
    let inv = version_inv(&sim, "my-worker");
    let dir = dist(&inv, &[("index.js", JS)]);
    let run = inv.input("dir", &dir).input("deploy", "true").input("message", "once").run();
    run.assert_code(0);
    assert_eq!(sim.versions("my-worker").len(), 1);
    assert_eq!(sim.deployments("my-worker").len(), 1);
    assert_eq!(run.output("version_id"), sim.versions("my-worker")[0]["id"].as_str());
}

#[test]
fn bad_version_and_deploy_inputs_exit_2_without_requests() {
    let sim = sim();
    let v = "11111111-1111-4111-8111-111111111111";
    let w = "22222222-2222-4222-8222-222222222222";
    /// (command, inputs, the input the message must name)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        ("version", vec![("compatibility_date", "11/01/2026".into())], "compatibility_date"),
        ("version", vec![("bindings", "[{\"type\":\"kv_namespace\"}]".into())], "bindings"),
        ("version", vec![("bindings", "not json".into())], "bindings"),
        ("version", vec![("deploy", "0".into())], "deploy"),
        ("version", vec![("deploy", "101".into())], "deploy"),
        ("version", vec![("dir", "/definitely/not/here".into())], "dir"),
        ("version", vec![("main_module", "missing.js".into())], "main_module"),
        ("version", vec![("secrets", "not a pair".into())], "secrets"),
        ("version", vec![("tag", "x".repeat(101))], "tag"),
        ("deploy", vec![("versions", format!("{v}@60,{w}@30"))], "versions"),
        ("deploy", vec![("versions", format!("{v}@50,{w}@25,{v}@25"))], "versions"),
        ("deploy", vec![("versions", "abc@100".into())], "versions"),
        ("deploy", vec![], "versions"),
    ];
    for (command, inputs, named) in cases {
        let mut inv = version_inv(&sim, "my-worker").input("command", command);
        if command == "version" && !inputs.iter().any(|(n, _)| *n == "dir") {
            let dir = dist(&inv, &[("index.js", JS)]);
            inv = inv.input("dir", &dir);
        }
        for (n, val) in &inputs {
            inv = inv.input(n, val);
        }
        let run = inv.run();
        run.assert_code(2);
        assert!(run.stdout.contains(&format!("`{named}`")), "{command} {inputs:?}: {}", run.stdout);
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[test]
fn a_rejected_script_shows_the_api_message_inert() {
    let sim = sim();
    sim.add_fault(fault(
        "POST",
        "/versions",
        1,
        FaultAction::Status {
            status: 400,
            code: 10021,
            message: "Uncaught SyntaxError: Unexpected token\n::set-output name=version_id::evil".into(),
            retry_after: None,
        },
    ));
    let inv = version_inv(&sim, "my-worker");
    let dir = dist(&inv, &[("index.js", JS)]);
    let run = inv.input("dir", &dir).run();
    run.assert_code(5);
    assert!(run.stdout.contains("Uncaught SyntaxError"), "{}", run.stdout);
    assert_eq!(run.output("version_id"), None);
}

/// Memory for a large upload is a benchmark target (bench/), not asserted here; this proves a
/// 10 MiB module arrives byte for byte and reports the peak RSS the binary measured.
#[test]
fn ten_mib_module_round_trips_and_reports_peak_rss() {
    let sim = sim();
    let inv = version_inv(&sim, "big-worker").input("create_worker", "true");
    let mut big = Vec::with_capacity(10 << 20);
    let mut x: u32 = 0x9e37_79b9;
    while big.len() < 10 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        big.extend_from_slice(&x.to_le_bytes());
    }
    let dir = dist(&inv, &[("index.js", JS), ("blob.bin", &big)]);
    let run = inv.input("dir", &dir).plain().run();
    run.assert_code(0);
    let v = &sim.versions("big-worker")[0];
    let blob = v["modules"].as_array().unwrap().iter().find(|m| m["name"] == "blob.bin").unwrap();
    let decoded = base64::engine::general_purpose::STANDARD.decode(blob["content_base64"].as_str().unwrap()).unwrap();
    assert!(decoded == big, "10 MiB module round-trips exactly");
    let usage = run.stdout.lines().find(|l| l.contains("peak RSS")).unwrap_or("(peak RSS not reported on this OS)");
    eprintln!("10 MiB upload (debug build): {usage}");
}

/// Issue 25: `assets` without `dir` beside a `dist/index.js`, for a Worker whose versions have
/// code. Sending no modules would make a static-only version (live, with `deploy`): refused
/// before any write, with the two ways out; `assets_only` says it is meant.
#[test]
fn assets_without_code_over_a_worker_with_code_are_refused_before_any_write() {
    let sim = sim();
    with_module(version_inv(&sim, "shop-api")).input("create_worker", "true").run().assert_code(0);
    let inv = version_inv(&sim, "shop-api").input("deploy", "true");
    dist(&inv, &[("index.js", JS)]);
    let site = inv.dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "<p>shop</p>").unwrap();
    let site = site.to_str().unwrap().to_owned();
    let before = sim.requests().len();
    // Kept alive: it owns the site the second run uploads.
    let inv = inv.input("assets", &site);
    let run = inv.run();
    run.assert_code(2);
    let all = run.everything();
    assert!(all.contains("input `assets_only`") || all.contains("`dir`"), "{all}");
    assert!(all.contains("has code"), "{all}");
    assert!(all.contains("assets_only"), "{all}");
    let writes: Vec<String> = sim.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "no write: {writes:?}");
    assert_eq!(sim.versions("shop-api").len(), 1);
    // Said on purpose: the code is replaced by the assets.
    let run = version_inv(&sim, "shop-api").input("assets", &site).input("assets_only", "true").run();
    run.assert_code(0);
    assert!(run.stdout.contains("assets only, no code"), "{}", run.stdout);
    let versions = sim.versions("shop-api");
    assert_eq!(versions.len(), 2);
    assert!(versions.iter().any(|v| v.get("main_module").is_none()), "{versions:?}");
}

#[test]
fn assets_only_contradicting_code_inputs_is_refused() {
    let sim = sim();
    let inv = with_module(version_inv(&sim, "w")).input("assets_only", "true");
    let site = inv.dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "x").unwrap();
    let site = site.to_str().unwrap().to_owned();
    let run = inv.input("assets", &site).run();
    run.assert_code(2);
    assert!(run.everything().contains("input `assets_only`"), "{}", run.everything());
    let run = version_inv(&sim, "w").input("assets_only", "true").run();
    run.assert_code(2);
    assert!(run.everything().contains("input `assets_only`"), "{}", run.everything());
    assert!(sim.requests().is_empty());
}

/// A first deploy is one request that creates the Worker and deploys it, the classic upload
/// `wrangler deploy` sends for a new Worker (docs/cloudflare-api.md §T.7): an upload Cloudflare
/// refuses leaves no empty Worker behind, and a lost answer is reconciled, never sent twice.
#[test]
fn a_first_deploy_creates_and_deploys_in_one_request_and_leaves_nothing_when_refused() {
    let sim = sim();
    let first = || {
        with_module(version_invocation(&sim, "fresh"))
            .input("create_worker", "true")
            .input("deploy", "true")
            .input("message", "first")
    };
    let refused = FaultAction::Status { status: 400, code: 10021, message: "injected".into(), retry_after: None };
    sim.add_fault(fault("PUT", "/workers/scripts/fresh", 1, refused));
    let run = first().run();
    assert_ne!(run.code, 0, "{}", run.everything());
    assert_eq!(call(&sim, "GET", "/workers/workers/fresh", None).0, 404, "no empty Worker left behind");
    assert_eq!(requests_matching(&sim, "POST", "/workers/workers"), 0, "no separate create");

    // The answer is lost after Cloudflare made the Worker and deployed it: found, not re-sent.
    sim.add_fault(fault("PUT", "/workers/scripts/fresh", 1, FaultAction::DropAfter));
    let run = first().run();
    run.assert_code(0);
    assert_eq!(requests_matching(&sim, "PUT", "/workers/scripts/fresh"), 2, "the refused one and the lost one");
    let versions = sim.versions("fresh");
    assert_eq!(versions.len(), 1, "one version");
    let deployments = sim.deployments("fresh");
    assert_eq!(deployments.len(), 1, "one deployment");
    assert_eq!(run.output("version_id"), versions[0]["id"].as_str());
    assert_eq!(run.output("deployment_id"), deployments[0]["id"].as_str());
    assert!(run.output("worker_id").is_some_and(|id| !id.is_empty()), "{:?}", run.outputs);
    // The flags wrangler gives a Worker without routes: workers.dev and preview URLs on.
    let (_, w) = call(&sim, "GET", "/workers/workers/fresh", None);
    let sub = &w["result"]["subdomain"];
    assert_eq!((&sub["enabled"], &sub["previews_enabled"]), (&true.into(), &true.into()), "{w}");
    assert_eq!(run.output("workers_dev_url").map(|u| u.contains("fresh.")), Some(true), "{:?}", run.outputs);
    // The version was made before the flags turned preview URLs on: no URL for it (row 100).
    assert_eq!(run.output("version_url"), None, "{:?}", run.outputs);
}

/// The classic upload's answer lost before Cloudflare made anything: the Worker does not exist,
/// so the reconciling read finds nothing and the upload is sent once more.
#[test]
fn a_first_deploy_lost_before_it_arrived_is_sent_once_more() {
    let sim = sim();
    sim.add_fault(fault("PUT", "/workers/scripts/fresh", 1, FaultAction::Drop));
    let run =
        with_module(version_invocation(&sim, "fresh")).input("create_worker", "true").input("deploy", "true").run();
    run.assert_code(0);
    assert_eq!(requests_matching(&sim, "PUT", "/workers/scripts/fresh"), 2);
    assert_eq!(sim.versions("fresh").len(), 1);
    assert_eq!(sim.deployments("fresh").len(), 1);
}

/// On an account without a workers.dev subdomain Cloudflare refuses a Worker's workers.dev flags
/// (10063); a first deploy writes them after the upload, so the account is read first and the
/// step stops before any write, saying how to go on (docs/cloudflare-api.md §6).
#[test]
fn a_first_deploy_onto_workers_dev_needs_the_accounts_subdomain_before_any_write() {
    let sim = Simulator::start_background(SimConfig { subdomain: None, ..SimConfig::default() }).unwrap();
    let first =
        || with_module(version_invocation(&sim, "fresh")).input("create_worker", "true").input("deploy", "true");
    let run = first().run();
    run.assert_code(2);
    let all = run.everything();
    assert!(all.contains("input `workers_dev`"), "{all}");
    assert!(all.contains("this account has no workers.dev subdomain, so Cloudflare would refuse it (10063)"), "{all}");
    assert!(all.contains("`workers_dev: false` and `preview_urls: false`"), "{all}");
    assert!(sim.requests().iter().all(|r| r.method == "GET"), "nothing written: {:?}", sim.requests());
    // A dry run plans that read.
    let dry = first().input("dry_run", "true").without("api_token").run();
    dry.assert_code(0);
    assert!(
        dry.stdout.contains("/workers/subdomain ") && dry.stdout.contains("read the account's workers.dev subdomain"),
        "{}",
        dry.stdout
    );
    // Off workers.dev, the same first deploy goes through.
    first().input("workers_dev", "false").input("preview_urls", "false").run().assert_code(0);
    assert_eq!(sim.deployments("fresh").len(), 1);
}

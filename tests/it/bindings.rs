//! What a new version keeps, which Worker it goes to, and which URLs are reported, against a
//! simulator that drops every binding not sent (docs/cloudflare-api.md Correction 2) and creates
//! Workers off workers.dev unless asked (Correction 1).

use crate::common::*;
use serde_json::{Value, json};
use workers_ci_simulator::NoDeployments;

const KV: &str = r#"[{"type":"kv_namespace","name":"CACHE","namespace_id":"0f2ac74b498b48028cb68387c421e279"}]"#;

fn binding<'a>(version: &'a Value, name: &str) -> Option<&'a Value> {
    version["bindings"].as_array()?.iter().find(|b| b["name"] == name)
}

fn names(version: &Value) -> Vec<String> {
    let mut n: Vec<String> = version["bindings"]
        .as_array()
        .map(|a| a.iter().filter_map(|b| b["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    n.sort();
    n
}

/// `my-worker` live with two secrets and a KV namespace, as a dashboard or an earlier deploy
/// left it.
fn seeded(sim: &Simulator) {
    with_module(version_invocation(sim, "my-worker"))
        .input("bindings", KV)
        .input("secrets", "API_KEY=sk-first-value\nDB_PASSWORD=pw-first-value")
        .input("deploy", "true")
        .run()
        .assert_code(0);
}

fn warnings(run: &Run) -> Vec<String> {
    run.view().commands.iter().filter(|c| c.name == "warning").map(|c| c.data.clone()).collect()
}

#[test]
fn new_code_from_dir_only_keeps_every_binding_and_secret_through_a_full_deploy() {
    let sim = sim();
    seeded(&sim);
    let run = with_module(version_invocation(&sim, "my-worker")).input("deploy", "true").run();
    run.assert_code(0);
    let versions = sim.versions("my-worker");
    let live = versions.last().unwrap();
    assert_eq!(names(live), ["API_KEY", "CACHE", "DB_PASSWORD"]);
    assert_eq!(binding(live, "API_KEY").unwrap()["text"], "sk-first-value", "the value, not just the name");
    assert_eq!(binding(live, "DB_PASSWORD").unwrap()["text"], "pw-first-value");
    assert_eq!(binding(live, "CACHE").unwrap()["namespace_id"], "0f2ac74b498b48028cb68387c421e279");
    let deployed = &sim.deployments("my-worker")[0]["versions"][0]["version_id"];
    assert_eq!(deployed, &live["id"], "the version with everything is the one live");
    assert!(run.stdout.contains("API_KEY (secret_text): kept (inherited)"), "{}", run.stdout);
    assert!(run.summary.contains("`CACHE` (kv_namespace)"), "{}", run.summary);
    assert!(warnings(&run).is_empty(), "{:?}", warnings(&run));
    // Values never shown, though the simulator holds them.
    assert!(!run.everything().contains("first-value"));
}

#[test]
fn declared_bindings_keep_the_secrets_and_report_the_dropped_kv() {
    let sim = sim();
    seeded(&sim);
    let r2 = r#"[{"type":"r2_bucket","name":"FILES","bucket_name":"files"}]"#;
    let run = with_module(version_invocation(&sim, "my-worker")).input("bindings", r2).run();
    run.assert_code(0);
    let v = sim.versions("my-worker").last().cloned().unwrap();
    assert_eq!(names(&v), ["API_KEY", "DB_PASSWORD", "FILES"]);
    assert_eq!(binding(&v, "API_KEY").unwrap()["text"], "sk-first-value");
    assert!(run.stdout.contains("CACHE (kv_namespace): removed"), "{}", run.stdout);
    assert!(run.stdout.contains("FILES (r2_bucket): added"), "{}", run.stdout);
    assert!(run.summary.contains("Bindings removed") && run.summary.contains("`CACHE` (kv_namespace)"));
    assert!(run.summary.contains("Bindings kept") && run.summary.contains("`API_KEY` (secret_text)"));
    assert!(warnings(&run).is_empty(), "a removed KV is reported, not warned about: {:?}", warnings(&run));
}

#[test]
fn keep_bindings_none_all_and_secrets() {
    let sim = sim();
    seeded(&sim);
    let vars = "MODE=production";
    let run_with = |keep: &str| {
        let run =
            with_module(version_invocation(&sim, "my-worker")).input("vars", vars).input("keep_bindings", keep).run();
        run.assert_code(0);
        // Each run starts from the seeded set again: put it back as the latest version.
        let latest = sim.versions("my-worker").last().cloned().unwrap();
        seeded(&sim);
        (run, latest)
    };
    let (run, v) = run_with("none");
    assert_eq!(names(&v), ["MODE"]);
    let w = warnings(&run);
    assert_eq!(w.len(), 2, "one warning per removed secret: {w:?}");
    assert!(w.iter().any(|w| w.contains("API_KEY")) && !w.iter().any(|w| w.contains("CACHE")), "{w:?}");
    let (_, v) = run_with("all");
    assert_eq!(names(&v), ["API_KEY", "CACHE", "DB_PASSWORD", "MODE"]);
    let (_, v) = run_with("secrets");
    assert_eq!(names(&v), ["API_KEY", "DB_PASSWORD", "MODE"]);
    // `secrets` with nothing declared keeps only the secrets, where `auto` would keep all.
    let run = with_module(version_invocation(&sim, "my-worker")).input("keep_bindings", "secrets").run();
    run.assert_code(0);
    assert_eq!(names(sim.versions("my-worker").last().unwrap()), ["API_KEY", "DB_PASSWORD"]);
    let bad = with_module(version_invocation(&sim, "my-worker")).input("keep_bindings", "some").run();
    bad.assert_code(2);
    assert!(bad.stdout.contains("`keep_bindings`"), "{}", bad.stdout);
}

#[test]
fn a_typo_in_worker_creates_nothing_and_suggests_the_name() {
    let sim = sim();
    let before = sim.requests().len();
    let run = with_module(version_invocation(&sim, "my-wroker")).input("deploy", "true").run();
    run.assert_code(5);
    assert!(run.stdout.contains("did you mean `my-worker`?"), "{}", run.stdout);
    assert!(run.stdout.contains("create_worker: true"), "{}", run.stdout);
    let writes = sim.requests()[before..].iter().filter(|r| r.method != "GET").count();
    assert_eq!(writes, 0, "nothing created, uploaded or deployed");
    assert!(sim.versions("my-wroker").is_empty() && sim.versions("my-worker").is_empty());
    // `deploy` names the same.
    let run = Invocation::new(&sim)
        .without("branch")
        .without("commit")
        .input("command", "deploy")
        .input("worker", "my-wroker")
        .input("rollback", "true")
        .run();
    run.assert_code(5);
    assert!(run.stdout.contains("did you mean `my-worker`?"), "{}", run.stdout);
}

#[test]
fn an_unknown_binding_type_is_an_input_error_before_any_request() {
    let sim = sim();
    let typo = r#"[{"type":"kv_namespaces","name":"CACHE","namespace_id":"0f2ac74b498b48028cb68387c421e279"}]"#;
    let run = with_module(version_invocation(&sim, "my-worker")).input("bindings", typo).run();
    run.assert_code(2);
    assert!(run.stdout.contains("`bindings`") && run.stdout.contains("did you mean `kv_namespace`?"), "{}", run.stdout);
    assert!(sim.requests().is_empty(), "no request sent");
    // The escape hatch passes it on, and the strict simulator refuses it as Cloudflare would.
    let run = with_module(version_invocation(&sim, "my-worker"))
        .input("bindings", typo)
        .input("allow_unknown_bindings", "true")
        .run();
    run.assert_code(5);
    assert!(run.stdout.contains("unknown binding type"), "{}", run.stdout);
}

#[test]
fn excluded_and_default_excluded_files_are_skipped_and_named() {
    let sim = sim();
    let build = tempfile::tempdir().unwrap();
    let dist = build.path().join("dist");
    for (name, text) in [
        ("index.js", "export default {}"),
        ("README.md", "# written by wrangler --outdir"),
        ("index.d.ts", "export {}"),
        ("docs/notes.md", "notes"),
        ("requirements.txt", "fastapi"),
    ] {
        let p = dist.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let dir = dist.to_str().unwrap().to_owned();
    // `docs/notes.md` has no module type: refused until excluded.
    let run = version_invocation(&sim, "my-worker").input("dir", &dir).run();
    run.assert_code(2);
    assert!(run.stdout.contains("docs/notes.md") && run.stdout.contains("`exclude`"), "{}", run.stdout);
    let run = version_invocation(&sim, "my-worker").input("dir", &dir).input("exclude", "docs/**").run();
    run.assert_code(0);
    for skipped in ["README.md", "index.d.ts", "docs/notes.md"] {
        assert!(run.stdout.contains(&format!("Skipped {skipped}:")), "{skipped}: {}", run.stdout);
    }
    let v = sim.versions("my-worker").last().cloned().unwrap();
    let modules: Vec<(&str, &str)> = v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["content_type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        modules,
        [("index.js", "application/javascript+module"), ("requirements.txt", "text/x-python-requirement")]
    );
}

#[test]
fn workers_dev_and_preview_urls_are_set_on_create_and_written_only_by_a_deploy() {
    let sim = sim();
    let run = with_module(version_invocation(&sim, "quiet-worker"))
        .input("create_worker", "true")
        .input("workers_dev", "false")
        .input("preview_urls", "false")
        .run();
    run.assert_code(0);
    let create =
        sim.requests().into_iter().find(|r| r.method == "POST" && r.path.ends_with("/workers/workers")).unwrap();
    let body: Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(body["subdomain"], json!({ "enabled": false, "previews_enabled": false }));
    assert_eq!(run.output("workers_dev_url"), None, "{:?}", run.outputs);
    assert_eq!(run.output("version_url"), None, "{:?}", run.outputs);
    // Defaults on create without routes are wrangler's: both on, and both URLs are real.
    let run = with_module(version_invocation(&sim, "loud-worker")).input("create_worker", "true").run();
    run.assert_code(0);
    assert_eq!(run.output("workers_dev_url"), Some("https://loud-worker.example-account.workers.dev"));
    assert!(run.output("version_url").is_some_and(|u| u.ends_with("-loud-worker.example-account.workers.dev")));
    // Issue 20, point 2: an upload that does not deploy never changes live routing; the
    // difference is a notice that says how to change it.
    let run = with_module(version_invocation(&sim, "quiet-worker")).input("workers_dev", "true").run();
    run.assert_code(0);
    assert_eq!(requests_matching(&sim, "POST", "/subdomain"), 0, "no subdomain write: {}", run.stdout);
    assert_eq!(run.output("workers_dev_url"), None, "still off");
    let notices: Vec<_> = run.view().commands.into_iter().filter(|c| c.name == "notice").collect();
    assert!(
        notices.iter().any(|n| n.data.contains(
            "Worker quiet-worker: `workers_dev` asks for workers.dev on, live it is off. This is live routing, not changed by an upload"
        )),
        "{}",
        run.stdout
    );
    // Deployed at 100 % (as `wrangler deploy` does): one write, with wrangler's date header,
    // then none when nothing differs.
    for expected_writes in [1, 1] {
        let run = with_module(version_invocation(&sim, "quiet-worker"))
            .input("workers_dev", "true")
            .input("deploy", "true")
            .run();
        run.assert_code(0);
        assert_eq!(run.output("workers_dev_url"), Some("https://quiet-worker.example-account.workers.dev"));
        assert_eq!(run.output("version_url"), None, "previews still off");
        assert_eq!(requests_matching(&sim, "POST", "/workers/scripts/quiet-worker/subdomain"), expected_writes);
    }
    let sent = sim.requests().into_iter().find(|r| r.path.ends_with("/quiet-worker/subdomain")).unwrap();
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body, json!({ "enabled": true, "previews_enabled": false }), "previews left as they were");
    assert_eq!(sent.status, 200, "the simulator takes the write only with wrangler's date header");
}

#[test]
fn no_url_outputs_when_the_api_gives_none() {
    let config = SimConfig {
        workers: vec![WorkerSeed { workers_dev: false, previews_enabled: false, ..WorkerSeed::default() }],
        ..SimConfig::default()
    };
    let sim = Simulator::start_background(config).unwrap();
    let run = with_module(version_invocation(&sim, "my-worker")).input("deploy", "true").run();
    run.assert_code(0);
    assert!(run.output("version_id").is_some());
    assert_eq!(run.output("workers_dev_url"), None, "{:?}", run.outputs);
    assert_eq!(run.output("version_url"), None, "{:?}", run.outputs);
    assert!(!run.summary.contains("workers.dev"), "{}", run.summary);
}

#[test]
fn the_first_deploy_of_a_new_worker_copes_with_either_empty_deployments_answer() {
    for answer in [NoDeployments::NotFound, NoDeployments::EmptyList] {
        let sim =
            Simulator::start_background(SimConfig { deployments_before_first_version: answer, ..SimConfig::default() })
                .unwrap();
        let run = with_module(version_invocation(&sim, "my-worker")).input("deploy", "true").run();
        run.assert_code(0);
        assert_eq!(sim.deployments("my-worker").len(), 1, "{answer:?}");
    }
}

fn deploy(sim: &Simulator) -> Invocation {
    Invocation::new(sim).without("branch").without("commit").input("command", "deploy").input("worker", "my-worker")
}

fn version(sim: &Simulator, deploy: &str) -> String {
    let run = with_module(version_invocation(sim, "my-worker")).input("deploy", deploy).run();
    run.assert_code(0);
    run.output("version_id").unwrap().to_owned()
}

/// README and `action.yml`: `deploy`'s `version_id` is the version given the most traffic,
/// whichever order `versions` lists them in (issue 25, point 6).
#[test]
fn deploy_names_the_version_with_the_most_traffic() {
    let sim = sim();
    let v1 = version(&sim, "true");
    let v2 = version(&sim, "false");
    let run = deploy(&sim).input("versions", &format!("{v2}@20,{v1}@80")).run();
    run.assert_code(0);
    assert_eq!(run.output("version_id"), Some(v1.as_str()));
    let run = deploy(&sim).input("versions", &format!("{v2}@50,{v1}@50")).run();
    run.assert_code(0);
    assert_eq!(run.output("version_id"), Some(v2.as_str()), "a tie names the first listed");
}

#[test]
fn rollback_goes_to_the_newest_earlier_deployment_at_100_percent() {
    let sim = sim();
    let _v1 = version(&sim, "true");
    let v2 = version(&sim, "true");
    let _v3 = version(&sim, "10");
    // Live: v3 at 10 %, v2 at 90 %. The newest earlier deployment at 100 % is v2's.
    let run = deploy(&sim).input("rollback", "true").run();
    run.assert_code(0);
    assert_eq!(run.output("version_id"), Some(v2.as_str()));
    let live = &sim.deployments("my-worker")[0];
    assert_eq!(live["versions"], json!([{ "version_id": v2, "percentage": 100.0 }]));
}

#[test]
fn a_rollback_past_a_secret_change_has_its_own_message_and_force_overrides() {
    let sim = sim();
    let secret = |value: &str| {
        let run = with_module(version_invocation(&sim, "my-worker"))
            .input("secrets", &format!("TOKEN={value}"))
            .input("deploy", "true")
            .run();
        run.assert_code(0);
        run.output("version_id").unwrap().to_owned()
    };
    let v1 = secret("tok-one-1111");
    secret("tok-two-2222");
    let run = deploy(&sim).input("versions", &v1).run();
    run.assert_code(5);
    assert!(run.stdout.contains("10220") && run.stdout.contains("`force: true`"), "{}", run.stdout);
    assert!(run.stdout.contains("TOKEN"), "the changed secret is named: {}", run.stdout);
    assert!(!run.everything().contains("tok-"), "values never");
    let run = deploy(&sim).input("versions", &v1).input("force", "true").run();
    run.assert_code(0);
    // Any other refusal says nothing of `force`.
    sim.add_fault(fault(
        "POST",
        "/deployments",
        1,
        FaultAction::Status { status: 400, code: 10021, message: "injected".into(), retry_after: None },
    ));
    let run = deploy(&sim).input("versions", &v1).run();
    run.assert_code(5);
    assert!(!run.stdout.contains("force"), "{}", run.stdout);
}

/// Issue 25: outside GitHub, Cloudflare's 10220 message (the changed secrets' names) is a
/// diagnostic on stderr; stdout keeps only the outputs, for scripts that read them.
#[test]
fn outside_github_the_secret_change_message_goes_to_stderr() {
    let sim = sim();
    let secret = |value: &str| {
        let run = with_module(version_invocation(&sim, "my-worker"))
            .input("secrets", &format!("TOKEN={value}"))
            .input("deploy", "true")
            .run();
        run.assert_code(0);
        run.output("version_id").unwrap().to_owned()
    };
    let v1 = secret("tok-one-1111");
    secret("tok-two-2222");
    let run = deploy(&sim).input("versions", &v1).plain().run();
    run.assert_code(5);
    assert!(run.stderr.contains("TOKEN") && run.stderr.contains("10220"), "{}", run.stderr);
    let not_outputs: Vec<&str> = run.stdout.lines().filter(|l| !(l.starts_with("  ") && l.contains(": "))).collect();
    assert!(not_outputs.is_empty(), "stdout holds only `name: value` outputs: {not_outputs:?}");
}

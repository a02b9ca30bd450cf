//! `preview`: the real binary against the simulator's Worker Previews (additions §B).

mod common;

use common::*;
use serde_json::Value;

/// A `preview` invocation for `my-worker` with one module, on pull-request branch `branch`.
fn preview(sim: &Simulator, branch: &str) -> Invocation {
    let inv = Invocation::new(sim)
        .without("branch")
        .input("command", "preview")
        .input("compatibility_date", "2026-11-01")
        .env("GITHUB_HEAD_REF", branch);
    with_module(inv)
}

fn previews(sim: &Simulator) -> Vec<Value> {
    sim.previews("my-worker")
}

fn deployments(p: &Value) -> &Vec<Value> {
    p["deployments"].as_array().expect("deployments")
}

#[test]
fn first_run_creates_the_preview_and_one_deployment_and_writes_outputs() {
    let sim = sim();
    let run = preview(&sim, "feature/login").run();
    run.assert_code(0);
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1);
    let p = &ps[0];
    assert_eq!(p["name"], "feature/login");
    assert_eq!(deployments(p).len(), 1);
    let d = &deployments(p)[0];
    assert_eq!(d["annotations"]["workers/commit_sha"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(d["compatibility_date"], "2026-11-01");
    // Every output is Cloudflare's answer.
    assert_eq!(run.output("preview_id"), p["id"].as_str());
    assert_eq!(run.output("preview_name"), Some("feature/login"));
    assert_eq!(run.output("preview_slug"), p["slug"].as_str());
    assert_eq!(run.output("preview_url"), p["urls"][0].as_str());
    assert!(run.output("preview_url").is_some());
    assert_eq!(run.output("deployment_id"), d["id"].as_str());
    assert_eq!(run.output("deployment_url"), d["urls"][0].as_str());
    assert!(run.output("worker_id").is_some());
    assert_eq!(run.output("version_id"), None, "a Preview deployment has no version id (§B.5)");
    assert!(run.summary.contains("Preview URL"), "{}", run.summary);
    assert!(run.stdout.contains("created"), "{}", run.stdout);
}

#[test]
fn a_second_run_for_the_branch_updates_the_same_preview() {
    let sim = sim();
    let first = preview(&sim, "feature/login").run();
    first.assert_code(0);
    let second = preview(&sim, "feature/login").input("message", "second push").run();
    second.assert_code(0);
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1, "one Preview per branch");
    assert_eq!(deployments(&ps[0]).len(), 2);
    assert_eq!(first.output("preview_id"), second.output("preview_id"));
    assert_eq!(first.output("preview_url"), second.output("preview_url"), "the stable URL");
    assert_ne!(first.output("deployment_url"), second.output("deployment_url"));
    assert_eq!(requests_matching(&sim, "POST", "/previews") - requests_matching(&sim, "POST", "/deployments"), 1);
    // Listing agrees with the simulator's own state.
    let path = format!("/workers/workers/my-worker/previews/{}/deployments", second.output("preview_id").unwrap());
    let (status, listed) = call(&sim, "GET", &path, None);
    assert_eq!((status, &listed["result_info"]["total_count"]), (200, &serde_json::json!(2)), "{listed}");
}

#[test]
fn a_lost_answer_to_either_create_makes_no_duplicate() {
    let sim = sim();
    let mut f = fault("POST", "/previews", 1, FaultAction::DropAfter);
    f.path_excludes = Some("/deployments".into());
    sim.add_fault(f);
    sim.add_fault(fault("POST", "/deployments", 1, FaultAction::DropAfter));
    let run = preview(&sim, "feature/login").run();
    run.assert_code(0);
    assert_eq!(sim.requests().iter().filter(|r| r.fault.is_some()).count(), 2, "both answers were lost");
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1, "{}", run.stdout);
    assert_eq!(deployments(&ps[0]).len(), 1, "{}", run.stdout);
    assert_eq!(requests_matching(&sim, "POST", "/deployments"), 1, "reconciled, not sent again");
    assert_eq!(run.output("deployment_id"), deployments(&ps[0])[0]["id"].as_str());
}

#[test]
fn delete_removes_the_preview_and_deleting_again_succeeds() {
    let sim = sim();
    preview(&sim, "feature/login").run().assert_code(0);
    let delete = || {
        Invocation::new(&sim)
            .without("branch")
            .input("command", "preview")
            .input("preview_action", "delete")
            .env("GITHUB_HEAD_REF", "feature/login")
            .run()
    };
    let run = delete();
    run.assert_code(0);
    assert!(previews(&sim).is_empty());
    assert!(run.stdout.contains("Deleted Preview feature/login"), "{}", run.stdout);
    let again = delete();
    again.assert_code(0);
    assert!(again.stdout.contains("already gone"), "{}", again.stdout);
}

#[test]
fn awkward_branch_names_become_valid_preview_names() {
    let long = format!("feature/{}", "x".repeat(72));
    assert_eq!(long.len(), 80);
    for (branch, want) in [
        ("Feature/Login_Page", "Feature/Login_Page"),
        ("dependabot/npm_and_yarn/@types/node-22", "dependabot/npm_and_yarn/-types/node-22"),
        (long.as_str(), long.as_str()),
        ("fix/ünïcode-β", "fix/-n-code"),
        ("-wip-", "wip"),
    ] {
        let sim = sim();
        let run = preview(&sim, branch).run();
        run.assert_code(0);
        assert_eq!(run.output("preview_name"), Some(want), "{branch}");
        assert_eq!(previews(&sim)[0]["name"], want);
        let changed = branch != want;
        assert_eq!(run.stdout.contains("became `-`"), changed, "{branch}: the log says so\n{}", run.stdout);
        assert_eq!(run.output("preview_slug"), previews(&sim)[0]["slug"].as_str(), "the slug is Cloudflare's");
    }
}

#[test]
fn an_explicit_invalid_name_is_refused_before_any_request() {
    let sim = sim();
    for bad in ["feature/", "ünï", "a b", &"x".repeat(257)] {
        let run = preview(&sim, "main").input("preview_name", bad).run();
        run.assert_code(2);
        assert!(run.stdout.contains("input `preview_name`"), "{}", run.stdout);
    }
    assert!(sim.requests().is_empty(), "no request sent");
    let run = preview(&sim, "main").input("preview_action", "destroy").run();
    run.assert_code(2);
    assert!(run.stdout.contains("input `preview_action`"), "{}", run.stdout);
}

#[test]
fn secrets_of_the_latest_preview_deployment_are_inherited_and_never_printed() {
    let sim = sim();
    let first = preview(&sim, "feature/login").input("secrets", "API_KEY=sekrit-value-1").input("vars", "MODE=a").run();
    first.assert_code(0);
    // A second push that sets only a var: the secret is carried by `inherit`.
    let second = preview(&sim, "feature/login").input("vars", "MODE=b").run();
    second.assert_code(0);
    second.assert_no_secret("sekrit-value-1");
    let ps = previews(&sim);
    let latest = deployments(&ps[0]).last().unwrap();
    let key = latest["bindings"].as_array().unwrap().iter().find(|b| b["name"] == "API_KEY").expect("inherited");
    assert_eq!((key["type"].as_str(), key["text"].as_str()), (Some("secret_text"), Some("sekrit-value-1")));
    assert!(second.stdout.contains("API_KEY (secret_text): kept (inherited)"), "{}", second.stdout);
    // What was sent: `inherit` in the `env` form, no value.
    let sent = sim.requests().into_iter().rfind(|r| r.method == "POST" && r.path.ends_with("/deployments")).unwrap();
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["env"]["API_KEY"], serde_json::json!({ "type": "inherit" }));
    assert_eq!(body["env"]["MODE"]["text"], "b");
    // Another branch's Preview does not inherit this one's secrets.
    let other = preview(&sim, "feature/other").input("vars", "MODE=c").run();
    other.assert_code(0);
    let other_p = previews(&sim).into_iter().find(|p| p["name"] == "feature/other").unwrap();
    assert!(!other_p.to_string().contains("API_KEY"));
}

#[test]
fn no_urls_when_previews_are_disabled_and_a_warning_says_so() {
    let sim = Simulator::start_background(SimConfig {
        workers: vec![WorkerSeed { previews_enabled: false, ..WorkerSeed::default() }],
        build: fast_profile(),
        ..SimConfig::default()
    })
    .unwrap();
    let run = preview(&sim, "feature/login").run();
    run.assert_code(0);
    assert_eq!(run.output("preview_url"), None);
    assert_eq!(run.output("deployment_url"), None);
    assert!(run.output("preview_slug").is_some());
    let warnings: Vec<_> = run.view().commands.into_iter().filter(|c| c.name == "warning").collect();
    assert!(warnings.iter().any(|w| w.data.contains("no URLs")), "{}", run.stdout);
}

#[test]
fn a_missing_worker_is_created_only_when_asked() {
    let sim = sim();
    let run = preview(&sim, "feature/login").input("worker", "new-worker").run();
    run.assert_code(5);
    assert!(sim.previews("new-worker").is_empty());
    let run = preview(&sim, "feature/login").input("worker", "new-worker").input("create_worker", "true").run();
    run.assert_code(0);
    assert_eq!(sim.previews("new-worker").len(), 1);
    assert!(run.output("preview_url").is_some(), "created with preview URLs on, as wrangler does");
}

/// The wrangler configuration feeds `preview` as it feeds `version`; Durable Object migrations
/// start from the Preview's own latest deployment (additions §B.10), not the Worker's tag.
#[test]
fn a_wrangler_configuration_and_its_migrations_reach_the_preview() {
    let sim = sim();
    let config = r#"{
  // the Worker and its Durable Object
  "name": "my-worker",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "durable_objects": { "bindings": [{ "name": "ROOM", "class_name": "Room" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Room"] }]
}"#;
    let inv = || {
        let inv = Invocation::new(&sim)
            .without("branch")
            .without("worker")
            .input("command", "preview")
            .env("GITHUB_HEAD_REF", "feature/do");
        let root = inv.dir.path();
        std::fs::create_dir_all(root.join("dist")).unwrap();
        std::fs::write(root.join("dist/index.js"), "export class Room {}\nexport default {}\n").unwrap();
        std::fs::write(root.join("wrangler.jsonc"), config).unwrap();
        inv
    };
    inv().run().assert_code(0);
    let second = inv().run();
    second.assert_code(0);
    let p = &previews(&sim)[0];
    let [first, last] = deployments(p).as_slice() else { panic!("two deployments: {p}") };
    assert_eq!(first["migration_tag"], "v1");
    assert_eq!(last["migration_tag"], "v1", "nothing pending the second time");
    assert!(last["bindings"].as_array().unwrap().iter().any(|b| b["name"] == "ROOM" && b["class_name"] == "Room"));
    let sent: Vec<Value> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/deployments"))
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(sent[0]["migrations"]["new_tag"], "v1");
    assert!(sent[1].get("migrations").is_none(), "{}", sent[1]);
    assert!(sim.versions("my-worker").is_empty(), "a Preview deployment is not a version");
}

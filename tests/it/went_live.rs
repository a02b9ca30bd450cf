//! "Did it go live": after a successful build, `build` and `wait` read the Worker's active
//! deployment and the builds behind its versions, and say whether this build's version serves.

use std::time::Duration;

use crate::common::*;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn builds_json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.output("builds").expect("builds written")).unwrap()
}

fn by_versions(sim: &Simulator) -> usize {
    sim.requests().iter().filter(|r| r.method == "GET" && r.query.contains("version_ids=")).count()
}

#[test]
fn a_production_build_that_deploys_is_deployed_with_its_version() {
    let sim = sim();
    let run = Invocation::new(&sim).input("logs", "false").run();
    run.assert_code(0);
    let active = sim.deployments("my-worker").into_iter().next().expect("the build deployed");
    let version = active["versions"][0]["version_id"].as_str().unwrap();
    assert_eq!(run.output("deployed"), Some("true"));
    assert_eq!(run.output("deployed_version_id"), Some(version));
    assert_eq!(run.output("deployment_id"), active["id"].as_str());
    assert_eq!(run.output("traffic_percent"), Some("100"));
    assert!(
        run.summary.contains(&format!("| Deployed | yes: version {version} serves 100 % of traffic |")),
        "{}",
        run.summary
    );
    let entry = &builds_json(&run)[0];
    assert_eq!(entry["deployed"], "true");
    assert_eq!(entry["deployed_version_id"], version);
    assert_eq!(entry["traffic_percent"], 100.0);
    // Two reads after the build: the deployments, then the builds behind their versions.
    assert_eq!(requests_matching(&sim, "GET", "/deployments"), 1);
    assert_eq!(by_versions(&sim), 1);
}

#[test]
fn wait_reports_the_pushed_production_build_deployed() {
    let sim = sim();
    sim.push("my-worker", "main", A, Duration::ZERO);
    let run = Invocation::new(&sim).arg("wait").input("commit", A).input("logs", "false").run();
    run.assert_code(0);
    let active = sim.deployments("my-worker").into_iter().next().expect("the build deployed");
    assert_eq!(run.output("deployed"), Some("true"));
    assert_eq!(run.output("deployed_version_id"), active["versions"][0]["version_id"].as_str());
    assert_eq!(builds_json(&run)[0]["deployed"], "true");
}

#[test]
fn an_upload_only_trigger_is_not_deployed_and_require_deployed_fails() {
    let sim = sim();
    let run = Invocation::new(&sim).input("branch", "feature/login").input("logs", "false").run();
    run.assert_code(0);
    assert_eq!(run.output("deployed"), Some("false"));
    assert_eq!(run.output("deployed_version_id"), Some(""));
    assert_eq!(run.output("traffic_percent"), Some("0"));
    assert!(run.summary.contains("| Deployed | no:"), "{}", run.summary);
    assert_eq!(builds_json(&run)[0]["deployed"], "false");

    let run = Invocation::new(&sim)
        .input("branch", "feature/login")
        .input("logs", "false")
        .input("require_deployed", "true")
        .run();
    run.assert_code(11);
    assert_eq!(run.output("build_outcome"), Some("success"));
    assert_eq!(run.output("deployed"), Some("false"));
    let error = run.view().commands.into_iter().find(|c| c.name == "error").expect("an error annotation");
    for part in ["went live", "Deploy non-production branches", "npx wrangler versions upload", "require_deployed"] {
        assert!(error.data.contains(part), "{part}: {}", error.data);
    }
}

#[test]
fn a_failed_build_reads_nothing_more() {
    let sim = sim_with(BuildProfile { outcome: "fail".into(), ..fast_profile() });
    let run = Invocation::new(&sim).input("logs", "false").input("require_deployed", "true").run();
    run.assert_code(1);
    assert_eq!(run.output("deployed"), None);
    assert_eq!(requests_matching(&sim, "GET", "/deployments"), 0);
    assert_eq!(by_versions(&sim), 0);
}

/// Two Workers with tags, as a monorepo's: both have the production (`wrangler deploy`) and the
/// other branches' (`wrangler versions upload`) trigger.
fn two_workers() -> Simulator {
    let seed = |name: &str, tag: &str| WorkerSeed { name: name.into(), tag: Some(tag.into()), ..WorkerSeed::default() };
    Simulator::start_background(SimConfig {
        workers: vec![seed("w0", &"0".repeat(32)), seed("w1", &"1".repeat(32))],
        build: fast_profile(),
        ..SimConfig::default()
    })
    .unwrap()
}

fn entry<'a>(builds: &'a serde_json::Value, worker: &str) -> &'a serde_json::Value {
    builds.as_array().unwrap().iter().find(|b| b["worker"] == worker).unwrap_or_else(|| panic!("{worker}: {builds}"))
}

/// Several Workers (issue 22): one build deploys, the other's trigger only uploads. Each Worker
/// says whether it went live, `deployed` sums them up as `partial`, the reads are one
/// deployments list per Worker and one batched builds-by-version read; `require_deployed` fails
/// with exit 11 naming the Worker that did not go live, its trigger and its deploy command.
#[test]
fn several_workers_one_deploys_one_only_uploads() {
    let sim = two_workers();
    sim.push("w0", "main", A, Duration::ZERO);
    sim.push("w1", "feature/login", A, Duration::ZERO);
    let inv = Invocation::new(&sim)
        .input("command", "wait")
        .input("commit", A)
        .input("worker", "w0,w1")
        .input("logs", "false");
    let run = inv.run();
    run.assert_code(0);
    let active = sim.deployments("w0").into_iter().next().expect("w0's build deployed");
    let version = active["versions"][0]["version_id"].as_str().unwrap();
    let builds = builds_json(&run);
    let (w0, w1) = (entry(&builds, "w0"), entry(&builds, "w1"));
    assert_eq!(
        (&w0["deployed"], &w0["deployed_version_id"], &w0["deployment_id"], &w0["traffic_percent"]),
        (&serde_json::json!("true"), &serde_json::json!(version), &active["id"], &serde_json::json!(100.0)),
        "{w0}"
    );
    assert!(sim.deployments("w1").is_empty());
    assert_eq!(
        (&w1["deployed"], &w1["deployed_version_id"], &w1["deployment_id"], &w1["traffic_percent"]),
        (&serde_json::json!("false"), &serde_json::Value::Null, &serde_json::Value::Null, &serde_json::json!(0.0)),
        "{w1}"
    );
    assert_eq!(run.output("deployed"), Some("partial"));
    let row = |w: &str| run.summary.lines().find(|l| l.starts_with(&format!("| {w} |"))).unwrap_or_default().to_owned();
    assert!(row("w0").ends_with(&format!("| yes: {} (100 %) |", &version[..8])), "{}", run.summary);
    assert!(row("w1").ends_with("| no |"), "{}", run.summary);
    assert_eq!(requests_matching(&sim, "GET", "/deployments"), 2);
    assert_eq!(by_versions(&sim), 1, "one batched read for both Workers' versions");

    let run = inv.input("require_deployed", "true").run();
    run.assert_code(11);
    assert_eq!(run.output("deployed"), Some("partial"));
    let error = run.view().commands.into_iter().find(|c| c.name == "error").expect("an error annotation");
    for part in ["Worker w1", "Deploy non-production branches", "npx wrangler versions upload", "require_deployed"] {
        assert!(error.data.contains(part), "{part}: {}", error.data);
    }
    assert!(!error.data.contains("Worker w0"), "{}", error.data);
}

/// Every Worker's build went live: `deployed: true`; none did: `false`.
#[test]
fn several_workers_all_or_none_live() {
    let sim = two_workers();
    for (branch, want) in [("main", "true"), ("feature/x", "false")] {
        let commit = if branch == "main" { A } else { "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" };
        sim.push("w0", branch, commit, Duration::ZERO);
        sim.push("w1", branch, commit, Duration::ZERO);
        let run = Invocation::new(&sim)
            .input("command", "wait")
            .input("commit", commit)
            .input("worker", "w0,w1")
            .input("logs", "false")
            .run();
        run.assert_code(0);
        assert_eq!(run.output("deployed"), Some(want), "{branch}");
    }
}

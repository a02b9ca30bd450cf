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

#[test]
fn require_deployed_with_several_workers_is_bad_input_before_any_request() {
    let sim = sim();
    let run = Invocation::new(&sim).input("worker", "my-worker,other-worker").input("require_deployed", "true").run();
    run.assert_code(2);
    assert!(run.stdout.contains("require_deployed"), "{}", run.stdout);
    assert!(sim.requests().is_empty());
}

//! Transient faults are survived with the same result; creates are never duplicated.

use crate::common::*;

fn status(status: u16, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status {
        status,
        code: if status == 429 { 10429 } else { 10002 },
        message: "injected".into(),
        retry_after,
    }
}

/// Outputs that do not depend on which build was created (`builds` holds its uuid too).
fn stable(run: &Run) -> Vec<(String, String)> {
    // Each build makes its own version and deployment, so their ids differ between runs too.
    let fresh: Vec<(String, String)> = ["build_uuid", "deployment_id", "deployed_version_id"]
        .into_iter()
        .filter_map(|n| run.output(n).filter(|v| !v.is_empty()).map(|v| (v.to_owned(), format!("<{n}>"))))
        .collect();
    run.outputs
        .iter()
        .filter(|(n, _)| n != "build_uuid")
        .map(|(n, v)| (n.clone(), fresh.iter().fold(v.clone(), |v, (id, mark)| v.replace(id, mark))))
        .collect()
}

#[test]
fn rate_limits_and_server_errors_do_not_change_the_result() {
    let sim = sim();
    let clean = Invocation::new(&sim).run();
    clean.assert_code(0);

    sim.add_fault(fault("GET", "/workers/scripts", 1, status(429, Some(1))));
    sim.add_fault(fault("GET", "/triggers", 2, status(502, None)));
    sim.add_fault(fault("GET", "/builds/builds/", 2, status(503, None)));
    sim.add_fault(fault("GET", "/logs", 1, status(429, None)));
    sim.add_fault(fault("GET", "/logs", 1, FaultAction::Malformed));
    let run = Invocation::new(&sim).run();
    run.assert_code(0).assert_no_secret(TOKEN);
    assert_eq!(stable(&run), stable(&clean));
    assert_ne!(run.output("build_uuid"), clean.output("build_uuid"));
    let uuid = run.output("build_uuid").unwrap();
    assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid));
    assert!(sim.requests().iter().any(|r| r.status == 429), "faults were hit");
}

#[test]
fn retry_after_is_honoured() {
    let sim = sim();
    sim.add_fault(fault("GET", "/workers/scripts", 1, status(429, Some(2))));
    Invocation::new(&sim).input("logs", "false").run().assert_code(0);
    let reqs: Vec<_> = sim.requests().into_iter().filter(|r| r.path.ends_with("/workers/scripts")).collect();
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].at_ms - reqs[0].at_ms;
    assert!(gap >= 1950, "Retry-After: 2 means ≥ 2 s between attempts (never scaled), got {gap}ms");
}

#[test]
fn retry_after_longer_than_the_timeout_fails_clearly() {
    let sim = sim();
    sim.add_fault(fault("GET", "/workers/scripts", 1, status(429, Some(600))));
    let run = Invocation::new(&sim).input("timeout", "30s").env("WORKERS_CI_TIME_SCALE", "1").run();
    run.assert_code(5);
    assert!(run.stdout.contains("Retry-After"), "{}", run.stdout);
    assert!(run.elapsed.as_secs() < 5);
}

#[test]
fn ambiguous_create_is_reconciled_to_exactly_one_build() {
    let sim = sim();
    sim.add_fault(fault("POST", "/builds", 1, FaultAction::DropAfter));
    let run = Invocation::new(&sim).run();
    run.assert_code(0);
    assert_eq!(sim.builds().len(), 1, "no duplicate build");
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 1, "the POST was not sent again");
    assert_eq!(run.output("build_uuid"), sim.builds()[0]["build_uuid"].as_str());
}

#[test]
fn create_that_failed_before_creating_is_sent_once_more() {
    let sim = sim();
    sim.add_fault(fault("POST", "/builds", 1, FaultAction::Drop));
    let run = Invocation::new(&sim).input("logs", "false").run();
    run.assert_code(0);
    assert_eq!(sim.builds().len(), 1);
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 2);
}

#[test]
fn create_failing_twice_gives_up_without_a_third_post() {
    let sim = sim();
    sim.add_fault(fault("POST", "/builds", 5, status(500, None)));
    let run = Invocation::new(&sim).run();
    run.assert_code(5);
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 2);
    assert!(sim.builds().is_empty());
}

#[test]
fn unknown_status_value_is_followed_not_fatal() {
    let sim = sim();
    sim.add_fault(fault("GET", "/builds/builds/", 2, FaultAction::UnknownEnum));
    let run = Invocation::new(&sim).run();
    run.assert_code(0);
    assert_eq!(run.output("build_outcome"), Some("success"));
}

/// A build that is over almost at once: a 404 on its first log read (a log store catching up)
/// must not cost a line, whichever command follows it.
#[test]
fn a_404_on_the_only_log_read_does_not_lose_the_log() {
    let sim = sim_with(BuildProfile { queued_ms: 1, initializing_ms: 1, running_ms: 1, ..BuildProfile::default() });
    sim.add_fault(fault("GET", "/logs", 1, status(404, None)));
    let run = Invocation::new(&sim).run();
    run.assert_code(0);
    let uuid = run.output("build_uuid").unwrap().to_owned();
    let logs: Vec<u16> = sim.requests().iter().filter(|r| r.path.ends_with("/logs")).map(|r| r.status).collect();
    assert_eq!(logs.first(), Some(&404), "the fault was hit on the first log read: {logs:?}");
    assert_eq!(run.view().untrusted_lines(), sim.build_log(&uuid), "every line, once (build)");

    // `wait` for a build that has already stopped.
    let built = Invocation::new(&sim).input("logs", "false").run();
    built.assert_code(0);
    let uuid = built.output("build_uuid").unwrap().to_owned();
    sim.add_fault(fault("GET", "/logs", 1, status(404, None)));
    let run = Invocation::new(&sim).input("command", "wait").input("build_uuid", &uuid).run();
    run.assert_code(0);
    assert_eq!(run.view().untrusted_lines(), sim.build_log(&uuid), "every line, once (wait)");
}

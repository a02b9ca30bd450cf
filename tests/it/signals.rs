//! Cancellation at every phase: SIGINT and SIGTERM. The remote build is cancelled once when it
//! exists and still runs, outputs are written, and the process exits 130 within 5 s. And the
//! runner's SIGINT-then-SIGTERM where it matters: while the cancel request hangs, the second
//! signal means "exit now".
//!
//! No test sleeps for readiness: each waits for what marks its phase (a line the binary prints,
//! or a request the simulator answered), with a deadline that fails the test.

use std::time::{Duration, Instant};

use crate::common::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Resolving,
    Queued,
    Running,
    Draining,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Int,
    Term,
}

fn sim_for(phase: Phase) -> Simulator {
    let profile = match phase {
        Phase::Resolving | Phase::Running => {
            BuildProfile { queued_ms: 100, initializing_ms: 100, running_ms: 60_000, ..BuildProfile::default() }
        }
        Phase::Queued => BuildProfile { queued_ms: 60_000, ..BuildProfile::default() },
        Phase::Draining => BuildProfile {
            queued_ms: 50,
            initializing_ms: 50,
            running_ms: 100,
            log_lines: Some((0..5000).map(|i| format!("line {i}")).collect()),
            ..BuildProfile::default()
        },
    };
    let config = SimConfig { build: profile, log_page_size: 1, ..SimConfig::default() };
    let sim = Simulator::start_background(config).unwrap();
    if phase == Phase::Resolving {
        // The Worker is found (that answer is what the test waits for), its triggers hang.
        sim.add_fault(fault("GET", "/triggers", 1, FaultAction::Delay { ms: 5000 }));
    }
    sim
}

/// Returns once the binary is in `phase`, or fails the test.
fn reach(sim: &Simulator, child: &mut Watched, phase: Phase) {
    let limit = Duration::from_secs(15);
    match phase {
        // A delayed request is recorded only when answered: the one before it marks the phase.
        Phase::Resolving => assert!(
            eventually(limit, || requests_matching(sim, "GET", "/workers/scripts") == 1),
            "the Worker lookup was never answered"
        ),
        Phase::Queued => {
            child.wait_for_line(": queued", limit);
        }
        Phase::Running => {
            child.wait_for_line(": running", limit);
        }
        Phase::Draining => {
            child.wait_for_line(": stopped", limit);
            assert!(
                eventually(limit, || requests_matching(sim, "GET", "/logs") > 5),
                "the log was never read: nothing to drain"
            );
        }
    }
    assert!(!child.exited(), "the binary exited before it could be signalled in {phase:?}");
}

fn cell(phase: Phase, mode: Mode) {
    let sim = sim_for(phase);
    let inv = Invocation::new(&sim);
    let mut child = inv.watch();
    reach(&sim, &mut child, phase);
    if phase == Phase::Draining {
        assert_eq!(sim.builds()[0]["status"], "stopped");
    }
    let signalled = Instant::now();
    child.signal(if mode == Mode::Term { "TERM" } else { "INT" });
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    let took = signalled.elapsed();
    let run = inv.collect(code, stdout, stderr, took);
    run.assert_code(130);
    assert!(took < Duration::from_secs(5), "{phase:?}/{mode:?}: exit took {took:?}");
    let cancels = requests_matching(&sim, "PUT", "/cancel");
    let expected = usize::from(matches!(phase, Phase::Queued | Phase::Running));
    assert_eq!(cancels, expected, "{phase:?}/{mode:?}: cancel requests");
    match phase {
        Phase::Resolving => assert!(run.output("build_uuid").is_none()),
        Phase::Queued | Phase::Running => {
            assert_eq!(run.output("build_outcome"), Some("cancelled"));
            assert_eq!(sim.builds()[0]["build_outcome"], "cancelled");
        }
        Phase::Draining => {
            assert_eq!(run.output("build_status"), Some("stopped"));
            assert_eq!(run.output("build_outcome"), Some("success"), "a finished build is reported as it finished");
        }
    }
}

/// The runner's SIGINT, then its SIGTERM while the cancel request still hangs (the simulator
/// holds it 10 s): the second signal means "exit now", without waiting for the cancel. Only the
/// phases with a build to cancel have a cancel to cut short; elsewhere the first signal already
/// ends the run (the cells above).
fn slow_cancel_cell(phase: Phase) {
    let sim = sim_for(phase);
    sim.add_fault(fault("PUT", "/cancel", 1, FaultAction::Delay { ms: 10_000 }));
    // Real time: the cancel request's own 3 s timeout is scaled with every other wait, and at the
    // default test scale it would give up before the second signal is sent.
    let inv = Invocation::new(&sim).env("WORKERS_CI_TIME_SCALE", "1");
    let mut child = inv.watch();
    reach(&sim, &mut child, phase);
    child.signal("INT");
    child.wait_for_line("cancelling build", Duration::from_secs(5));
    let second = Instant::now();
    child.signal("TERM");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    let took = second.elapsed();
    let run = inv.collect(code, stdout, stderr, took);
    run.assert_code(130);
    // Well inside the cancel's 3 s timeout: a binary that waited the cancel out fails here too.
    assert!(took < Duration::from_secs(2), "{phase:?}: exited {took:?} after the second signal");
    assert!(run.stdout.contains("second signal"), "{}", run.stdout);
    assert!(!run.stdout.contains("cancelled."), "the cancel cannot have completed: {}", run.stdout);
    let build = &sim.builds()[0];
    assert_eq!(run.output("build_uuid"), build["build_uuid"].as_str(), "outputs are written");
    let status = if phase == Phase::Queued { "queued" } else { "running" };
    assert_eq!(run.output("build_status"), Some(status), "the last status seen");
    let outcome = run.output("build_outcome");
    assert!(outcome.is_some_and(|o| o != "cancelled"), "an unconfirmed cancel is not reported as done: {outcome:?}");
}

macro_rules! cells {
    ($($name:ident: $phase:expr, $mode:expr;)*) => {
        $(
            #[test]
            fn $name() {
                cell($phase, $mode);
            }
        )*
    };
}

cells! {
    resolving_sigint: Phase::Resolving, Mode::Int;
    resolving_sigterm: Phase::Resolving, Mode::Term;
    queued_sigint: Phase::Queued, Mode::Int;
    queued_sigterm: Phase::Queued, Mode::Term;
    running_sigint: Phase::Running, Mode::Int;
    running_sigterm: Phase::Running, Mode::Term;
    draining_sigint: Phase::Draining, Mode::Int;
    draining_sigterm: Phase::Draining, Mode::Term;
}

#[test]
fn queued_slow_cancel_then_sigterm() {
    slow_cancel_cell(Phase::Queued);
}

#[test]
fn running_slow_cancel_then_sigterm() {
    slow_cancel_cell(Phase::Running);
}

/// `version` has nothing remote to cancel, but a cancelled job must still end promptly with its
/// outputs written, not hang until the runner kills it.
#[test]
fn sigint_during_a_slow_upload_exits_promptly() {
    let sim = crate::common::sim();
    sim.add_fault(fault("POST", "/versions", 1, FaultAction::Delay { ms: 20_000 }));
    let inv = with_module(version_invocation(&sim, "my-worker").env("WORKERS_CI_TIME_SCALE", "1"));
    let mut child = inv.watch();
    child.wait_for_line("Uploading a version", Duration::from_secs(10));
    let run = interrupted(&inv, child);
    run.assert_code(130);
    assert!(run.elapsed < Duration::from_secs(2), "{:?}", run.elapsed);
    assert!(run.output("worker_id").is_some(), "outputs set before the signal are written");
}

#[test]
fn version_timeout_is_enforced() {
    let sim = crate::common::sim();
    sim.add_fault(fault("POST", "/versions", 1, FaultAction::Delay { ms: 20_000 }));
    let inv =
        with_module(version_invocation(&sim, "my-worker").input("timeout", "2s").env("WORKERS_CI_TIME_SCALE", "1"));
    let run = inv.run();
    run.assert_code(6);
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
}

/// SIGINT while the start request is in flight (the simulator holds it 4 s and then creates the
/// build): the binary waits for the answer within the runner's 7.5 s grace and cancels the
/// build it made, instead of leaving it running unseen.
#[test]
fn sigint_during_a_slow_start_cancels_the_build_it_made() {
    let sim = crate::common::sim();
    sim.add_fault(fault("POST", "/builds/triggers/", 1, FaultAction::Delay { ms: 4000 }));
    // Real time: at the test scale the POST's own timeout would end it first.
    let inv = Invocation::new(&sim).env("WORKERS_CI_TIME_SCALE", "1");
    let mut child = inv.watch();
    child.wait_for_line("Starting a build", Duration::from_secs(10));
    // The POST has arrived and is held by the delay: in flight.
    assert!(eventually(Duration::from_secs(10), || sim.arrived("POST", "/builds/triggers/") >= 1));
    assert!(sim.builds().is_empty(), "the start request must still be in flight when signalled");
    let run = interrupted(&inv, child);
    run.assert_code(130);
    assert!(run.elapsed < Duration::from_millis(7500), "inside the runner's grace: {:?}", run.elapsed);
    let builds = sim.builds();
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(builds[0]["build_outcome"], "cancelled", "the build the request made is cancelled");
    assert_eq!(run.output("build_uuid"), builds[0]["build_uuid"].as_str(), "outputs are written");
    assert_eq!(run.output("build_outcome"), Some("cancelled"));
}

/// When the start request outlasts the grace, nobody can know whether it will create a build:
/// the warning names what to check.
#[test]
fn sigint_during_a_start_that_outlasts_the_grace_warns_what_to_check() {
    let sim = crate::common::sim();
    sim.add_fault(fault("POST", "/builds/triggers/", 1, FaultAction::Delay { ms: 20_000 }));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let inv = Invocation::new(&sim).input("commit", commit).env("WORKERS_CI_TIME_SCALE", "1");
    let mut child = inv.watch();
    child.wait_for_line("Starting a build", Duration::from_secs(10));
    // The POST has arrived and is held by the delay: in flight.
    assert!(eventually(Duration::from_secs(10), || sim.arrived("POST", "/builds/triggers/") >= 1));
    let run = interrupted(&inv, child);
    run.assert_code(130);
    assert!(run.elapsed < Duration::from_millis(7500), "inside the runner's grace: {:?}", run.elapsed);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("::warning")
            && l.contains("my-worker")
            && l.contains("branch main")
            && l.contains(commit)),
        "{}",
        run.stdout
    );
}

/// Sends SIGINT and collects the run, its `elapsed` counted from the signal.
fn interrupted(inv: &Invocation, mut child: Watched) -> Run {
    let signalled = Instant::now();
    child.signal("INT");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    inv.collect(code, stdout, stderr, signalled.elapsed())
}

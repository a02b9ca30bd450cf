//! Cancellation at every phase: SIGINT, SIGTERM, and the runner's SIGINT-then-SIGTERM. The
//! remote build is cancelled once when it exists and still runs, outputs are written, and the
//! process exits 130 within 5 s.

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use common::*;

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
    /// What the runner does: SIGINT, then SIGTERM 7.5 s later if the process is still there.
    IntThenTerm,
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
        sim.add_fault(fault("GET", "/workers/scripts", 1, FaultAction::Delay { ms: 5000 }));
    }
    sim
}

fn reached(sim: &Simulator, phase: Phase) -> bool {
    let status = sim.builds().first().map(|b| b["status"].as_str().unwrap_or_default().to_owned());
    match phase {
        Phase::Resolving => true,
        Phase::Queued => status.as_deref() == Some("queued"),
        Phase::Running => status.as_deref() == Some("running"),
        Phase::Draining => status.as_deref() == Some("stopped") && requests_matching(sim, "GET", "/logs") > 5,
    }
}

fn pid_alive(child: &Child) -> bool {
    std::path::Path::new(&format!("/proc/{}", child.id())).exists()
}

fn cell(phase: Phase, mode: Mode) {
    let sim = sim_for(phase);
    let inv = Invocation::new(&sim);
    let child = inv.spawn();
    std::thread::sleep(Duration::from_millis(300));
    assert!(eventually(Duration::from_secs(15), || reached(&sim, phase)), "phase {phase:?} never reached");
    let signalled = Instant::now();
    send_signal(&child, if mode == Mode::Term { "TERM" } else { "INT" });
    let pid = child.id();
    let follow_up = (mode == Mode::IntThenTerm).then(|| {
        let alive = pid_alive(&child);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(7500));
            if alive && std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            }
        })
    });
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    drop(follow_up);
    let run = inv.collect(out.status.code(), out.stdout, out.stderr, took);
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
    resolving_sigint_then_sigterm: Phase::Resolving, Mode::IntThenTerm;
    queued_sigint: Phase::Queued, Mode::Int;
    queued_sigterm: Phase::Queued, Mode::Term;
    queued_sigint_then_sigterm: Phase::Queued, Mode::IntThenTerm;
    running_sigint: Phase::Running, Mode::Int;
    running_sigterm: Phase::Running, Mode::Term;
    running_sigint_then_sigterm: Phase::Running, Mode::IntThenTerm;
    draining_sigint: Phase::Draining, Mode::Int;
    draining_sigterm: Phase::Draining, Mode::Term;
    draining_sigint_then_sigterm: Phase::Draining, Mode::IntThenTerm;
}

/// A cancel request that hangs: the second signal means "exit now", without waiting for it.
#[test]
fn second_signal_exits_without_waiting_for_a_slow_cancel() {
    let sim = sim_for(Phase::Running);
    sim.add_fault(fault("PUT", "/cancel", 1, FaultAction::Delay { ms: 10_000 }));
    let inv = Invocation::new(&sim).env("WORKERS_CI_TIME_SCALE", "1");
    let child = inv.spawn();
    assert!(eventually(Duration::from_secs(15), || reached(&sim, Phase::Running)));
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(500));
    let second = Instant::now();
    send_signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    let run = inv.collect(out.status.code(), out.stdout, out.stderr, second.elapsed());
    run.assert_code(130);
    assert!(run.elapsed < Duration::from_secs(1), "exited {:?} after the second signal", run.elapsed);
    assert!(run.stdout.contains("second signal"), "{}", run.stdout);
}

/// `version` has nothing remote to cancel, but a cancelled job must still end promptly with its
/// outputs written, not hang until the runner kills it.
#[test]
fn sigint_during_a_slow_upload_exits_promptly() {
    let sim = common::sim();
    sim.add_fault(fault("POST", "/versions", 1, FaultAction::Delay { ms: 20_000 }));
    let inv = with_module(version_invocation(&sim, "my-worker").env("WORKERS_CI_TIME_SCALE", "1"));
    let child = inv.spawn();
    assert!(
        eventually(Duration::from_secs(10), || requests_matching(&sim, "GET", "/versions") == 1),
        "reached the upload"
    );
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    send_signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let run = inv.collect(out.status.code(), out.stdout, out.stderr, signalled.elapsed());
    run.assert_code(130);
    assert!(run.elapsed < Duration::from_secs(2), "{:?}", run.elapsed);
    assert!(run.output("worker_id").is_some(), "outputs set before the signal are written");
}

#[test]
fn version_timeout_is_enforced() {
    let sim = common::sim();
    sim.add_fault(fault("POST", "/versions", 1, FaultAction::Delay { ms: 20_000 }));
    let inv =
        with_module(version_invocation(&sim, "my-worker").input("timeout", "2s").env("WORKERS_CI_TIME_SCALE", "1"));
    let run = inv.run();
    run.assert_code(6);
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
}

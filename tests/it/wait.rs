//! `wait`: follow the build Cloudflare's Git integration started, never start one.

use std::time::{Duration, Instant};

use crate::common::*;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

#[test]
fn attaches_to_the_pushed_build_without_posting() {
    let sim = sim();
    let pushed = sim.push("my-worker", "main", A, Duration::ZERO);
    let run = Invocation::new(&sim).input("command", "wait").input("commit", A).run();
    run.assert_code(0).assert_no_secret(TOKEN);
    assert_eq!(run.output("build_uuid"), Some(pushed.as_str()));
    assert_eq!(run.output("build_outcome"), Some("success"));
    assert_eq!(requests_matching(&sim, "POST", ""), 0, "wait never starts a build");
    assert_eq!(run.view().untrusted_lines(), sim.build_log(&pushed));
}

#[test]
fn waits_for_a_build_that_appears_later() {
    let sim = sim();
    let pushed = sim.push("my-worker", "main", A, Duration::from_millis(800));
    let run = Invocation::new(&sim).arg("wait").input("commit", A).run();
    run.assert_code(0);
    assert_eq!(run.output("build_uuid"), Some(pushed.as_str()));
}

#[test]
fn quick_successive_pushes_each_get_their_own_build() {
    let sim = sim();
    let first = sim.push("my-worker", "main", A, Duration::ZERO);
    let second = sim.push("my-worker", "main", B, Duration::from_millis(50));
    // Both builds listed before either wait starts. The simulator lists the second one 50 ms after
    // `push` returned; not a guess, its own schedule (nothing in its API shows the moment).
    let second_listed = Instant::now() + Duration::from_millis(50);
    std::thread::sleep(second_listed.saturating_duration_since(Instant::now()));
    let run_a = Invocation::new(&sim).arg("wait").input("commit", A).input("logs", "false").run();
    let run_b = Invocation::new(&sim).arg("wait").input("commit", B).input("logs", "false").run();
    run_a.assert_code(0);
    run_b.assert_code(0);
    assert_eq!(run_a.output("build_uuid"), Some(first.as_str()));
    assert_eq!(run_b.output("build_uuid"), Some(second.as_str()));
}

#[test]
fn no_build_fails_with_reasons_or_passes_when_asked() {
    let sim = sim();
    let run = Invocation::new(&sim).arg("wait").input("commit", A).input("appear_timeout", "3s").run();
    run.assert_code(7);
    assert!(run.stdout.contains("watch paths"), "{}", run.stdout);
    assert!(run.stdout.contains("within 3s (`appear_timeout`)"), "the window is named: {}", run.stdout);
    assert!(run.stdout.contains("`if_no_build: pass`"), "action syntax on GitHub: {}", run.stdout);
    assert_eq!(run.output("build_status"), Some("not_found"));
    let run = Invocation::new(&sim)
        .arg("wait")
        .input("commit", A)
        .input("appear_timeout", "1s")
        .input("if_no_build", "pass")
        .run();
    run.assert_code(0);
    assert!(run.view().commands.iter().any(|c| c.name == "notice"), "{}", run.stdout);
}

#[test]
fn failed_pushed_build_fails_the_step() {
    let sim = sim_with(BuildProfile { outcome: "fail".into(), ..fast_profile() });
    sim.push("my-worker", "main", A, Duration::ZERO);
    Invocation::new(&sim).arg("wait").input("commit", A).run().assert_code(1);
}

#[test]
fn pull_request_events_use_the_head_sha_not_the_merge_commit() {
    let sim = sim();
    let pushed = sim.push("my-worker", "feature", A, Duration::ZERO);
    let inv = Invocation::new(&sim).without("commit").without("branch");
    let event = inv.dir.path().join("event.json");
    std::fs::write(&event, format!(r#"{{"pull_request":{{"head":{{"sha":"{A}","ref":"feature"}}}}}}"#)).unwrap();
    let run = inv
        .arg("wait")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event.to_str().unwrap())
        .env("GITHUB_SHA", B)
        .env("GITHUB_HEAD_REF", "feature")
        .env("GITHUB_REF_NAME", "12/merge")
        .run();
    run.assert_code(0);
    assert_eq!(run.output("build_uuid"), Some(pushed.as_str()));
    assert_eq!(run.output("commit"), Some(A));
    assert_eq!(run.output("branch"), Some("feature"));
}

/// Thirty builds listed oldest first over two pages: the commit's build is on the second, and
/// a client that takes page 1 for "the newest" never sees it.
#[test]
fn finds_its_commit_on_the_second_page_of_an_oldest_first_list() {
    let sim = Simulator::start_background(SimConfig {
        build: fast_profile(),
        list_order: ListOrder::OldestFirst,
        ..SimConfig::default()
    })
    .unwrap();
    for i in 0..29u64 {
        sim.push("my-worker", "main", &format!("{:040x}", 0xbeef_0000 + i), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
    }
    let ours = sim.push("my-worker", "main", A, Duration::ZERO);
    let run = Invocation::new(&sim).input("command", "wait").input("commit", A).input("logs", "false").run();
    run.assert_code(0);
    assert_eq!(run.output("build_uuid"), Some(ours.as_str()));
}

/// A short hash matches as a prefix of the build's full commit.
#[test]
fn a_short_commit_matches_as_a_prefix() {
    let sim = sim();
    let pushed = sim.push("my-worker", "main", A, Duration::ZERO);
    sim.push("my-worker", "main", B, Duration::ZERO);
    let run = Invocation::new(&sim).input("command", "wait").input("commit", &A[..7]).input("logs", "false").run();
    run.assert_code(0);
    assert_eq!(run.output("build_uuid"), Some(pushed.as_str()));
}

#[test]
fn appear_timeout_is_the_users_clock_and_hints_use_cli_syntax_outside_github() {
    let sim = sim();
    let run = Invocation::new(&sim).plain().arg("wait").input("commit", A).input("appear_timeout", "2s").run();
    run.assert_code(7);
    assert!(run.elapsed >= Duration::from_secs(2), "not scaled by the test clock: {:?}", run.elapsed);
    assert!(run.stderr.contains("`--if-no-build pass`"), "{}", run.stderr);
    assert!(run.stderr.contains("`--appear-timeout`") && run.stderr.contains("`workers-ci build`"), "{}", run.stderr);
    let run = Invocation::new(&sim).arg("wait").input("commit", A).input("appear_timeout", "soon").run();
    run.assert_code(2);
}

/// `wait` follows a build the Git integration started: a cancelled job leaves it running
/// unless `cancel_on_abort: true` says otherwise; `build` cancels its own by default.
#[test]
fn wait_leaves_the_build_running_on_cancel_unless_asked() {
    for (cancel, expect_cancelled) in [(None, false), (Some("true"), true)] {
        let sim = sim_with(BuildProfile { running_ms: 60_000, ..fast_profile() });
        let uuid = sim.push("my-worker", "main", A, Duration::ZERO);
        let mut inv = Invocation::new(&sim).arg("wait").input("commit", A);
        if let Some(c) = cancel {
            inv = inv.input("cancel_on_abort", c);
        }
        let mut child = inv.watch();
        child.wait_for_line(": running", Duration::from_secs(20));
        child.signal("INT");
        let (code, _, _) = child.wait(Duration::from_secs(20));
        assert_eq!(code, Some(130));
        let build = sim.builds().into_iter().find(|b| b["build_uuid"] == uuid.as_str()).unwrap();
        let cancelled = build["build_outcome"] == "cancelled";
        assert_eq!(cancelled, expect_cancelled, "cancel_on_abort {cancel:?}: {build}");
    }
}

#[test]
fn wait_by_build_uuid_shows_branch_and_commit_in_the_summary() {
    let sim = sim();
    let uuid = sim.push("my-worker", "feature/x", A, Duration::ZERO);
    let run = Invocation::new(&sim).arg("wait").without("commit").without("branch").input("build_uuid", &uuid).run();
    run.assert_code(0);
    assert!(run.summary.contains("| Branch | feature/x |"), "{}", run.summary);
    assert!(run.summary.contains(&format!("| Commit | {A} |")), "{}", run.summary);
}

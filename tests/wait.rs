//! `wait`: follow the build Cloudflare's Git integration started, never start one.

mod common;

use std::time::{Duration, Instant};

use common::*;

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
    let run = Invocation::new(&sim).arg("wait").input("commit", A).run();
    run.assert_code(7);
    assert!(run.stdout.contains("watch paths"), "{}", run.stdout);
    assert_eq!(run.output("build_status"), Some("not_found"));
    let run = Invocation::new(&sim).arg("wait").input("commit", A).input("if_no_build", "pass").run();
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

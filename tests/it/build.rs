//! `build` end to end: the real binary against the in-process simulator.

use std::time::{Duration, Instant};

use crate::common::*;

fn the_build(sim: &Simulator) -> serde_json::Value {
    let builds = sim.builds();
    assert_eq!(builds.len(), 1, "exactly one build exists: {builds:#?}");
    builds.into_iter().next().unwrap()
}

#[test]
fn success_streams_every_log_line_once_in_order_and_writes_outputs() {
    let sim = sim();
    let inv = Invocation::new(&sim);
    let run = inv.run();
    run.assert_code(0).assert_no_secret(TOKEN);
    let build = the_build(&sim);
    let uuid = build["build_uuid"].as_str().unwrap();
    assert_eq!(run.output("build_uuid"), Some(uuid));
    assert_eq!(run.output("build_status"), Some("stopped"));
    assert_eq!(run.output("build_outcome"), Some("success"));
    assert_eq!(run.output("branch"), Some("main"));
    assert_eq!(run.output("commit"), Some("0123456789abcdef0123456789abcdef01234567"));
    assert_eq!(run.output("trigger_uuid"), build["trigger"]["trigger_uuid"].as_str());
    assert_eq!(run.output("worker_tag").map(str::len), Some(32));
    assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid), "log lines exactly once, in order");
    assert!(!sim.build_log(uuid).is_empty());
    assert!(run.summary.contains("| Outcome | success |"), "{}", run.summary);
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 1);
    assert_eq!(requests_matching(&sim, "PUT", "/cancel"), 0);
}

#[test]
fn the_posted_build_carries_branch_and_commit() {
    let sim = sim();
    Invocation::new(&sim).input("logs", "false").run().assert_code(0);
    let post = sim.requests().into_iter().find(|r| r.method == "POST").unwrap();
    let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(body["branch"], "main");
    assert_eq!(body["commit_hash"], "0123456789abcdef0123456789abcdef01234567");
}

#[test]
fn main_and_feature_branches_pick_their_triggers() {
    let sim = sim();
    let prod = Invocation::new(&sim).input("logs", "false").run();
    prod.assert_code(0);
    let feature = Invocation::new(&sim).input("branch", "feature/login").input("logs", "false").run();
    feature.assert_code(0);
    let triggers: Vec<String> =
        sim.builds().iter().map(|b| b["trigger"]["trigger_name"].as_str().unwrap().to_owned()).collect();
    assert!(triggers.iter().any(|t| t == "Deploy default branch"), "{triggers:?}");
    assert!(triggers.iter().any(|t| t == "Deploy non-production branches"), "{triggers:?}");
    assert_ne!(prod.output("trigger_uuid"), feature.output("trigger_uuid"));
    let posts: Vec<String> = sim.requests().into_iter().filter(|r| r.method == "POST").map(|r| r.path).collect();
    assert!(posts[0].contains(prod.output("trigger_uuid").unwrap()));
    assert!(posts[1].contains(feature.output("trigger_uuid").unwrap()));
}

#[test]
fn explicit_trigger_by_name() {
    let sim = sim();
    let run = Invocation::new(&sim).input("trigger", "Deploy non-production branches").input("logs", "false").run();
    run.assert_code(0);
    assert_eq!(sim.builds()[0]["trigger"]["trigger_name"], "Deploy non-production branches");
}

#[test]
fn failed_build_exits_1_with_annotation_and_log_tail_in_summary() {
    let sim = sim_with(BuildProfile { outcome: "fail".into(), ..fast_profile() });
    let run = Invocation::new(&sim).run();
    run.assert_code(1);
    assert_eq!(run.output("build_outcome"), Some("fail"));
    let view = run.view();
    assert!(
        view.commands.iter().any(|c| c.name == "error" && c.properties.contains("Cloudflare build failed")),
        "{}",
        run.stdout
    );
    let uuid = run.output("build_uuid").unwrap();
    let last = sim.build_log(uuid).last().cloned().unwrap();
    assert!(run.summary.contains(&last), "summary ends with the log's last line\n{}", run.summary);
}

#[test]
fn cancelled_terminated_and_skipped_outcomes() {
    for (outcome, code) in [("cancelled", 3), ("terminated", 4), ("skipped", 0)] {
        let sim = sim_with(BuildProfile { outcome: outcome.into(), ..fast_profile() });
        let run = Invocation::new(&sim).run();
        run.assert_code(code);
        assert_eq!(run.output("build_outcome"), Some(outcome));
        if outcome == "skipped" {
            assert!(
                run.view().commands.iter().any(|c| c.name == "notice" && c.data.contains("skipped")),
                "{}",
                run.stdout
            );
        }
    }
}

#[test]
fn timeout_cancels_the_remote_build() {
    let sim = sim_with(BuildProfile { running_ms: 60_000, ..fast_profile() });
    let run = Invocation::new(&sim).input("timeout", "2s").run();
    run.assert_code(6);
    assert_eq!(requests_matching(&sim, "PUT", "/cancel"), 1);
    let build = the_build(&sim);
    assert_eq!(build["build_outcome"], "cancelled");
    assert_eq!(run.output("build_outcome"), Some("cancelled"));
    assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
}

#[test]
fn timeout_without_cancel_on_abort_leaves_the_build_running() {
    let sim = sim_with(BuildProfile { running_ms: 60_000, ..fast_profile() });
    let run = Invocation::new(&sim).input("timeout", "2s").input("cancel_on_abort", "false").run();
    run.assert_code(6);
    assert_eq!(requests_matching(&sim, "PUT", "/cancel"), 0);
    assert_eq!(the_build(&sim)["status"], "running");
}

#[test]
fn sigint_mid_build_cancels_once_writes_outputs_and_exits_fast() {
    let sim = sim_with(BuildProfile { running_ms: 60_000, ..fast_profile() });
    let inv = Invocation::new(&sim);
    let mut child = inv.watch();
    // The binary has seen the build running (not only the simulator).
    child.wait_for_line(": running", Duration::from_secs(10));
    let signalled = Instant::now();
    child.signal("INT");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    let took = signalled.elapsed();
    let run = inv.collect(code, stdout, stderr, took);
    run.assert_code(130);
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
    assert_eq!(requests_matching(&sim, "PUT", "/cancel"), 1);
    assert_eq!(run.output("build_outcome"), Some("cancelled"));
    assert_eq!(run.output("build_uuid"), the_build(&sim)["build_uuid"].as_str());
}

#[test]
fn wait_false_returns_at_once_and_wait_follows_later() {
    let sim = sim();
    let started = Invocation::new(&sim).input("wait", "false").run();
    started.assert_code(0);
    let uuid = started.output("build_uuid").unwrap().to_owned();
    assert_eq!(started.output("build_status"), Some("queued"));
    assert_eq!(requests_matching(&sim, "GET", &format!("/builds/builds/{uuid}")), 0, "did not poll");
    let followed = Invocation::new(&sim).input("command", "wait").input("build_uuid", &uuid).run();
    followed.assert_code(0);
    assert_eq!(followed.output("build_outcome"), Some("success"));
    assert_eq!(followed.output("build_uuid"), Some(uuid.as_str()));
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 1);
}

#[test]
fn hostile_log_lines_are_shown_but_inert() {
    let sim = sim_with(BuildProfile { hostile: true, ..fast_profile() });
    let run = Invocation::new(&sim).run();
    run.assert_code(0);
    let uuid = run.output("build_uuid").unwrap();
    let log = sim.build_log(uuid);
    assert!(
        log.iter().any(|l| l.contains("::set-output")) && log.iter().any(|l| l.contains("##[")),
        "the profile is hostile"
    );
    assert_eq!(run.view().untrusted_lines(), log);
    assert_eq!(run.output("build_outcome"), Some("success"));
    assert!(run.outputs.iter().all(|(n, _)| n != "x"));
}

#[test]
fn plain_mode_prints_outputs_and_writes_output_files() {
    let sim = sim();
    for file in ["out.json", "out.env"] {
        let mut inv = Invocation::new(&sim).plain().input("logs", "false");
        let path = inv.dir.path().join(file);
        inv = inv.input("output_file", path.to_str().unwrap());
        let run = inv.run();
        run.assert_code(0).assert_no_secret(TOKEN);
        assert!(run.stdout.contains("build_outcome: success"), "{}", run.stdout);
        assert!(!run.stdout.contains("::"), "no workflow commands outside GitHub:\n{}", run.stdout);
        let text = std::fs::read_to_string(&path).unwrap();
        if file.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["build_outcome"], "success");
        } else {
            assert!(text.contains("BUILD_OUTCOME=success\n"), "{text}");
        }
    }
}

/// Outside GitHub there is no step summary: `summary_file` is where a Buildkite annotation or a
/// GitLab artifact gets the same Markdown, a failed build's included.
#[test]
fn summary_file_holds_the_step_summary_outside_github() {
    let sim = sim();
    let mut inv = Invocation::new(&sim).plain().input("logs", "false");
    let path = inv.dir.path().join("summary.md");
    inv = inv.input("summary_file", path.to_str().unwrap());
    let run = inv.run();
    run.assert_code(0);
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.starts_with("### workers-ci build\n"), "{md}");
    assert!(md.contains("success"), "{md}");
    assert!(!md.contains(TOKEN));

    let failing = sim_with(BuildProfile { outcome: "fail".into(), ..fast_profile() });
    let mut inv = Invocation::new(&failing).plain().input("logs", "false");
    let path = inv.dir.path().join("summary.md");
    inv = inv.input("summary_file", path.to_str().unwrap());
    let run = inv.run();
    assert_ne!(run.code, 0);
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.contains("fail"), "a failed build's summary says so:\n{md}");

    let inv = Invocation::new(&sim).plain().input("summary_file", "/nonexistent-dir/summary.md");
    let run = inv.run();
    run.assert_code(2);
    assert!(run.stderr.contains("summary_file"), "{}", run.stderr);
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 1, "a bad summary_file sends nothing");
}

#[test]
fn flags_work_without_any_input_variables() {
    let sim = sim();
    let out = std::process::Command::new(bin())
        .env_clear()
        .env("WORKERS_CI_TIME_SCALE", TIME_SCALE)
        .env("CLOUDFLARE_API_TOKEN", TOKEN)
        .args([
            "build",
            "--account-id",
            &sim.account_id(),
            "--api-url",
            &sim.base_url(),
            "--worker",
            "my-worker",
            "--branch=main",
            "--logs",
            "false",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sim.builds().len(), 1);
}

/// A simulator that lists builds oldest first, with `n` builds pushed before the test's own:
/// the first page then holds only the oldest, which is where a client reading page 1 looks.
fn sim_with_history_oldest_first(n: u32) -> Simulator {
    let sim = Simulator::start_background(SimConfig {
        build: fast_profile(),
        list_order: ListOrder::OldestFirst,
        ..SimConfig::default()
    })
    .unwrap();
    for i in 0..n {
        sim.push("my-worker", "main", &format!("{:040x}", 0xdead_0000_u64 + u64::from(i)), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
    }
    sim
}

#[test]
fn reconciliation_finds_its_build_on_the_second_page() {
    let sim = sim_with_history_oldest_first(30);
    // The POST creates the build and the answer is lost: the client must look before resending.
    sim.add_fault(fault("POST", "/builds/triggers/", 1, FaultAction::DropAfter));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let run = Invocation::new(&sim).input("commit", commit).input("logs", "false").run();
    run.assert_code(0);
    let ours: Vec<_> =
        sim.builds().into_iter().filter(|b| b["build_trigger_metadata"]["commit_hash"] == commit).collect();
    assert_eq!(ours.len(), 1, "reconciled, not sent twice: {ours:#?}");
    assert_eq!(run.output("build_uuid"), ours[0]["build_uuid"].as_str());
    assert_eq!(requests_matching(&sim, "POST", "/builds/triggers/"), 1);
    let pages: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/builds"))
        .map(|r| r.query)
        .collect();
    assert!(pages.iter().any(|q| q.contains("page=2")), "the second page was read: {pages:?}");
}

/// A git repository in a temporary directory with one commit; returns it and the full hash.
fn repo_with_a_commit() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "x"]);
    let full = git(&["rev-parse", "HEAD"]).trim().to_owned();
    (dir, full)
}

#[test]
fn a_short_commit_is_resolved_by_the_repository_in_the_working_directory() {
    let (repo, full) = repo_with_a_commit();
    let sim = sim();
    let run = Invocation::new(&sim).input("commit", &full[..7]).input("logs", "false").cwd(repo.path()).run();
    run.assert_code(0);
    assert_eq!(run.output("commit"), Some(full.as_str()));
    let posts: Vec<_> = sim.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].body.contains(&format!("\"commit_hash\":\"{full}\"")), "{}", posts[0].body);
}

#[test]
fn a_short_commit_outside_a_repository_is_refused_before_any_request() {
    let sim = sim();
    let short = "0123abc";
    let run = Invocation::new(&sim).input("commit", short).run();
    run.assert_code(2);
    assert!(run.stdout.contains("`commit`") || run.stderr.contains("`commit`"), "{}{}", run.stdout, run.stderr);
    assert!(run.everything().contains("full 40-character hash"), "{}", run.everything());
    assert!(!run.everything().contains(short), "the value is never echoed");
    assert!(sim.requests().is_empty(), "no request is sent for bad input");
}

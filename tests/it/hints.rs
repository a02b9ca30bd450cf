//! What a new user trips over: each message says what to change, in the syntax of where they
//! are, and each summary says what a reader of the run page wants to know.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

#[test]
fn an_api_url_without_its_path_is_caught_before_any_request() {
    let sim = sim();
    let host_only = sim.base_url().trim_end_matches("/client/v4").to_owned();
    let run = Invocation::new(&sim).input("api_url", &host_only).run();
    run.assert_code(2);
    assert!(run.stdout.contains("`api_url`") && run.stdout.contains("/client/v4"), "{}", run.stdout);
    assert!(sim.requests().is_empty());
}

#[test]
fn a_wrong_api_path_gets_the_expected_suffix_named() {
    let sim = sim();
    let wrong = format!("{}/v4", sim.base_url().trim_end_matches("/client/v4"));
    let run = Invocation::new(&sim).input("api_url", &wrong).run();
    run.assert_code(5);
    assert!(run.stdout.contains("7003") && run.stdout.contains("ends in `/client/v4`"), "{}", run.stdout);
}

#[test]
fn a_bearer_prefix_is_explained_without_echoing_the_token() {
    let sim = sim();
    let run = Invocation::new(&sim).input("api_token", &format!("Bearer {TOKEN}")).run();
    run.assert_code(2);
    assert!(run.stdout.contains("`Bearer `") && run.stdout.contains("`api_token`"), "{}", run.stdout);
    assert!(sim.requests().is_empty());
}

#[test]
fn permissions_advice_fits_the_command_and_the_syntax() {
    let sim = sim();
    sim.add_fault(fault("GET", "/workers/scripts", 1, status(403, 10000, "Authentication error")));
    let run = Invocation::new(&sim).run();
    run.assert_code(5);
    assert!(run.stdout.contains("Workers Builds Configuration: Edit and Workers Scripts: Read"), "{}", run.stdout);
    assert!(run.stdout.contains("check `api_token` and `account_id`"), "action syntax: {}", run.stdout);

    let sim = sim_with(fast_profile());
    sim.add_fault(fault("GET", "/workers/workers/", 1, status(403, 10000, "Authentication error")));
    let run = with_module(version_invocation(&sim, "my-worker")).plain().run();
    run.assert_code(5);
    assert!(run.stderr.contains("Workers Scripts: Edit"), "{}", run.stderr);
    assert!(run.stderr.contains("check `--api-token` and `--account-id`"), "CLI syntax: {}", run.stderr);
}

#[test]
fn wait_false_hints_how_to_follow_in_each_syntax() {
    let sim = sim();
    let run = Invocation::new(&sim).input("wait", "false").run();
    run.assert_code(0);
    let uuid = run.output("build_uuid").unwrap().to_owned();
    assert!(run.stdout.contains(&format!("`command: wait` and `build_uuid: {uuid}`")), "{}", run.stdout);
    assert!(run.summary.contains("| Status | started, not followed"), "{}", run.summary);
    let run = Invocation::new(&sim).plain().arg("build").arg("--wait").arg("false").run();
    run.assert_code(0);
    assert!(run.stderr.contains("`workers-ci wait` and `--build-uuid "), "{}", run.stderr);
}

#[test]
fn annotation_titles_name_the_outcome() {
    for (outcome, title) in [("cancelled", "Cloudflare build cancelled"), ("terminated", "Cloudflare build terminated")]
    {
        let sim = sim_with(BuildProfile { outcome: outcome.into(), ..fast_profile() });
        let run = Invocation::new(&sim).run();
        let titles: Vec<String> =
            run.view().commands.iter().filter(|c| c.name == "error").map(|c| c.properties.clone()).collect();
        assert_eq!(titles, [format!("title={title}")], "{}", run.stdout);
    }
}

#[test]
fn summaries_say_what_a_reader_wants() {
    let sim = sim();
    // The commit is this run's (GITHUB_SHA): linked to its page.
    let run = Invocation::new(&sim)
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/site")
        .run();
    run.assert_code(0);
    assert!(
        run.summary.contains(
            "| Commit | [0123456789abcdef0123456789abcdef01234567](https://github.com/acme/site/commit/0123456789abcdef0123456789abcdef01234567) |"
        ),
        "{}",
        run.summary
    );

    // version: its number and duration; with a gradual deploy, numbers next to ids. On an
    // account of its own: the build above deployed a version (#1) of its own.
    let sim = crate::common::sim();
    let first = with_module(version_invocation(&sim, "my-worker")).input("deploy", "true").run();
    first.assert_code(0);
    assert!(first.stdout.contains("(1 module,"), "singular: {}", first.stdout);
    let second = with_module(version_invocation(&sim, "my-worker")).input("deploy", "10").run();
    second.assert_code(0);
    assert!(second.summary.contains("| Version number | 2 |"), "{}", second.summary);
    assert!(second.summary.contains("| Duration | "), "{}", second.summary);
    let v2 = second.output("version_id").unwrap();
    let v1 = first.output("version_id").unwrap();
    assert!(second.summary.contains(&format!("{v2} (#2) at 10%, {v1} (#1) at 90%")), "{}", second.summary);

    // deploy: names the Worker.
    let run = Invocation::new(&sim)
        .without("branch")
        .without("commit")
        .input("command", "deploy")
        .input("versions", v1)
        .run();
    run.assert_code(0);
    assert!(run.summary.contains("| Worker | my-worker |"), "{}", run.summary);
    assert!(run.summary.contains(&format!("{v1} (#1) at 100%")), "{}", run.summary);
}

/// The demo's printed commands run as printed, against the simulator it started (`--keep`).
#[test]
fn the_demos_commands_run_as_printed() {
    let mut demo = Command::new(bin())
        .env_clear()
        .args(["demo", "--keep"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(demo.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut exports, mut commands, mut seen) = (Vec::new(), Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_else(|_| {
            let _ = demo.kill();
            panic!("the demo did not reach --keep:\n{}", seen.join("\n"))
        });
        seen.push(line.clone());
        if let Some(e) = line.trim().strip_prefix("export ") {
            exports.push(e.to_owned());
        }
        if let Some(c) = line.strip_prefix("$ workers-ci ") {
            commands.push(c.to_owned());
        }
        if line.contains("keeps serving") {
            break;
        }
    }
    assert_eq!(exports.len(), 3, "{seen:?}");
    assert_eq!(commands.len(), 3, "a build and two versions: {seen:?}");
    for c in &commands {
        let script =
            format!("{} \"$WORKERS_CI\" {c}", exports.iter().map(|e| format!("export {e};")).collect::<String>());
        let out = Command::new("sh")
            .env_clear()
            .env("WORKERS_CI", bin())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(["-c", &script])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{c}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let _ = Command::new("kill").args(["-INT", &demo.id().to_string()]).status();
    let status = demo.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

fn status(status: u16, code: i64, message: &str) -> FaultAction {
    FaultAction::Status { status, code, message: message.into(), retry_after: None }
}

/// Issue 25, point 9: a misspelt Worker gets the closest name suggested by `build`, `wait` and
/// `setup` as by `version`, and `setup` is told to fix its file, not a `--worker` it refuses.
#[test]
fn a_misspelt_worker_gets_the_closest_name_suggested_by_every_command() {
    let sim = sim();
    let build = Invocation::new(&sim).input("worker", "my-wroker").plain().run();
    assert!(build.stderr.contains("(did you mean `my-worker`?)"), "build: {}", build.stderr);
    assert!(build.stderr.contains("check `--worker` and `--account-id`"), "build: {}", build.stderr);

    let wait = Invocation::new(&sim).input("command", "wait").input("worker", "my-wroker").plain().run();
    assert!(wait.stderr.contains("(did you mean `my-worker`?)"), "wait: {}", wait.stderr);

    let many = Invocation::new(&sim).input("worker", "my-worker,my-wroker").plain().run();
    assert!(many.stderr.contains("`my-wroker` (did you mean `my-worker`?)"), "many: {}", many.stderr);

    let inv = Invocation::new(&sim).without("worker").without("branch").without("commit").input("command", "setup");
    std::fs::write(
        inv.dir.path().join("workers-builds.toml"),
        "worker = \"my-wroker\"\n\n[[triggers]]\nname = \"P\"\nbranch_includes = [\"main\"]\ndeploy_command = \"d\"\n",
    )
    .unwrap();
    let setup = inv.plain().run();
    assert!(setup.stderr.contains("workers-builds.toml:1: key `worker`:"), "setup: {}", setup.stderr);
    assert!(setup.stderr.contains("(did you mean `my-worker`?)"), "setup: {}", setup.stderr);
    assert!(!setup.stderr.contains("--worker"), "setup has no `--worker`: {}", setup.stderr);
    for run in [&build, &wait, &many, &setup] {
        run.assert_code(5);
    }
}

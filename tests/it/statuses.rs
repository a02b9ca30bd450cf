//! One GitHub commit status per Worker (`commit_statuses: true`, issue 22): `pending` as the step
//! starts following a Worker, then a terminal state whatever ends the step, on the commit built
//! (docs/github-actions.md §6.1), against the simulator's GitHub API.

use std::time::Duration;

use crate::common::*;
use serde_json::Value;
use workers_ci_simulator::{Access, GITHUB_TOKEN, TokenPermissions};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const GROUP_SHA: &str = "9999999999999999999999999999999999999999";
const RUN_URL: &str = "https://github.com/acme/site/actions/runs/42";
const SKIP_REASON: &str = "no watched path changed (watch paths: include src/**; exclude docs/**)";

/// What a workflow gets with `permissions: statuses: write` next to the report's.
fn with_statuses() -> TokenPermissions {
    TokenPermissions {
        issues: Access::None,
        pull_requests: Access::Write,
        deployments: Access::Write,
        statuses: Access::Write,
    }
}

/// `n` Workers `w0`…, each with its own profile; `w5`'s triggers watch `src/**` but not `docs/**`.
fn sim(n: usize, profile: impl Fn(usize) -> BuildProfile) -> Simulator {
    let workers = (0..n)
        .map(|i| WorkerSeed {
            name: format!("w{i}"),
            tag: Some(format!("{i:032x}")),
            build: Some(profile(i)),
            watch_paths: (i == 5).then(|| (vec!["src/**".to_owned()], vec!["docs/**".to_owned()])),
            ..WorkerSeed::default()
        })
        .collect();
    let s = Simulator::start_background(SimConfig {
        workers,
        build: fast_profile(),
        github: Some(GitHubConfig::default()),
        ..SimConfig::default()
    })
    .expect("simulator starts");
    s.set_github_token(GITHUB_TOKEN, with_statuses());
    s
}

fn names(n: usize) -> String {
    (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>().join(",")
}

/// `inv` on a `push` of `sha`, reporting to the simulator's GitHub with commit statuses on.
fn on_push(inv: Invocation, sim: &Simulator, sha: &str) -> Invocation {
    inv.input("commit", sha)
        .input("github_token", GITHUB_TOKEN)
        .input("commit_statuses", "true")
        .env("GITHUB_API_URL", &sim.github_url())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "42")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_SHA", sha)
}

/// Each status of `sha` as `context state: description`, oldest first, grouped by context in
/// the order the contexts first appear; every one must link the run.
fn statuses(sim: &Simulator, sha: &str) -> Vec<String> {
    let all = sim.github_statuses(sha);
    for s in &all {
        assert_eq!(s["target_url"], RUN_URL, "{s}");
    }
    let mut contexts: Vec<String> = Vec::new();
    for s in &all {
        let c = s["context"].as_str().unwrap().to_owned();
        if !contexts.contains(&c) {
            contexts.push(c);
        }
    }
    contexts.sort();
    contexts
        .iter()
        .flat_map(|c| {
            all.iter().filter(move |s| s["context"] == c.as_str()).map(|s| {
                format!(
                    "{} {}: {}",
                    s["context"].as_str().unwrap(),
                    s["state"].as_str().unwrap(),
                    s["description"].as_str().unwrap()
                )
            })
        })
        .collect()
}

/// Twelve Workers through `wait` with a list: one failed, one skipped by its watch paths, one
/// never built, nine built. Every listed Worker gets `pending` and then its verdict, the one
/// never built included, so no required check is left waiting.
#[test]
fn twelve_workers_each_get_pending_then_their_verdict() {
    let sim = sim(12, |i| {
        let base = BuildProfile { running_ms: 400 + 150 * i as u64, ..fast_profile() };
        match i {
            3 => BuildProfile { outcome: "fail".into(), ..base },
            5 => BuildProfile { outcome: "skipped".into(), ..base },
            _ => base,
        }
    });
    for i in (0..12).filter(|i| *i != 7) {
        sim.push(&format!("w{i}"), "main", A, Duration::from_millis(40 * i as u64));
    }
    let inv = Invocation::new(&sim)
        .input("command", "wait")
        .input("worker", &names(12))
        .input("appear_timeout", "3s")
        .input("if_no_build", "pass");
    let run = on_push(inv, &sim, A).run();
    run.assert_code(1).assert_no_secret(GITHUB_TOKEN);
    let pending = "pending: waiting for Cloudflare's build of aaaaaaa";
    // Each build lasts 0.5 s queued and initializing plus 0.4 s + 0.15 s × i running.
    let mut want = Vec::new();
    let mut ctx: Vec<usize> = (0..12).collect();
    ctx.sort_by_key(|i| format!("w{i}"));
    for i in ctx {
        want.push(format!("workers-ci/w{i} {pending}"));
        let secs = (900 + 150 * i) / 1000;
        want.push(match i {
            3 => format!("workers-ci/w3 failure: build failed after {secs}s"),
            5 => format!("workers-ci/w5 success: build skipped: {SKIP_REASON}"),
            7 => "workers-ci/w7 success: not built: no build of aaaaaaa appeared within 3s".to_owned(),
            _ => format!("workers-ci/w{i} success: build succeeded in {secs}s"),
        });
    }
    assert_eq!(statuses(&sim, A), want);
    assert!(!run.stdout.contains("::warning::GitHub"), "{}", run.stdout);
    // The skipped build's reason in the log and in the summary's table too.
    assert!(run.stdout.contains(&format!("[w5] build {} was skipped by Cloudflare: {SKIP_REASON}.", sim.builds().iter().find(|b| b["trigger"]["external_script_id"] == format!("{:032x}", 5)).unwrap()["build_uuid"].as_str().unwrap())), "{}", run.stdout);
    assert!(run.summary.contains(&format!("| w5 | skipped: {SKIP_REASON} |")), "{}", run.summary);
}

/// One Worker's `build`: `pending` goes out while the build runs, then the outcome with its
/// duration, on the commit built, and nothing else.
#[test]
fn one_worker_pending_while_it_builds_then_success() {
    let sim = sim(1, |_| BuildProfile { running_ms: 1500, ..fast_profile() });
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let run = on_push(Invocation::new(&sim).input("worker", "w0"), &sim, commit).run();
    run.assert_code(0);
    assert_eq!(
        statuses(&sim, commit),
        ["workers-ci/w0 pending: building 0123456 on Cloudflare", "workers-ci/w0 success: build succeeded in 2s"]
    );
    // The pending status went out before the build was seen to stop (its last poll).
    let reqs = sim.requests();
    let posts: Vec<usize> = reqs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "POST" && r.path.contains("/statuses/"))
        .map(|(i, _)| i)
        .collect();
    let last_poll = reqs
        .iter()
        .rposition(|r| r.method == "GET" && r.path.contains("/builds/builds/"))
        .expect("the build was polled");
    assert_eq!(posts.len(), 2, "one pending, one terminal");
    assert!(posts[0] < last_poll && posts[1] > last_poll, "{posts:?} around poll {last_poll}");
}

/// A skipped build says why in the log, the summary and the status; `if_skipped: fail` makes it
/// the step's failure (exit 1) and the status `failure`.
#[test]
fn a_skipped_build_says_why_and_if_skipped_decides_its_exit() {
    let sim = sim(6, |i| BuildProfile { outcome: if i == 5 { "skipped" } else { "success" }.into(), ..fast_profile() });
    let uuid = sim.push("w5", "main", A, Duration::ZERO);
    let inv = || Invocation::new(&sim).input("command", "wait").input("worker", "w5");
    let run = on_push(inv(), &sim, A).run();
    run.assert_code(0);
    let notice = run.view().commands.into_iter().find(|c| c.name == "notice").expect("a notice");
    assert_eq!(notice.data, format!("Build {uuid} of Worker w5 was skipped by Cloudflare: {SKIP_REASON}."));
    assert!(run.summary.contains(&format!("| Skipped because | {SKIP_REASON} |")), "{}", run.summary);
    assert_eq!(statuses(&sim, A).last().unwrap(), &format!("workers-ci/w5 success: build skipped: {SKIP_REASON}"));

    let run = on_push(inv().input("if_skipped", "fail"), &sim, A).run();
    run.assert_code(1);
    let error = run.view().commands.into_iter().find(|c| c.name == "error").expect("an error");
    assert!(
        error.data.contains(&format!("Worker w5: {SKIP_REASON}")) && error.data.contains("`if_skipped: pass`"),
        "{error:?}"
    );
    assert_eq!(statuses(&sim, A).last().unwrap(), &format!("workers-ci/w5 failure: build skipped: {SKIP_REASON}"));

    // Without watch paths nothing is guessed.
    let sim = sim_plain_skipped();
    sim.push("my-worker", "main", A, Duration::ZERO);
    let run = on_push(Invocation::new(&sim).input("command", "wait"), &sim, A).run();
    run.assert_code(0);
    assert_eq!(
        statuses(&sim, A).last().unwrap(),
        "workers-ci/my-worker success: build skipped: Cloudflare gave no reason (the trigger watches every path)"
    );
}

fn sim_plain_skipped() -> Simulator {
    let s = Simulator::start_background(SimConfig {
        build: BuildProfile { outcome: "skipped".into(), ..fast_profile() },
        github: Some(GitHubConfig::default()),
        ..SimConfig::default()
    })
    .unwrap();
    s.set_github_token(GITHUB_TOKEN, with_statuses());
    s
}

/// On `merge_group` the statuses go on the group's commit (the payload's `head_sha`), and no
/// pull-request comment is written: there is no pull request.
#[test]
fn merge_group_statuses_go_on_the_group_commit() {
    let sim = sim(2, |_| fast_profile());
    let branch = "gh-readonly-queue/main/pr-7-1111111111111111111111111111111111111111";
    for w in ["w0", "w1"] {
        sim.push(w, branch, GROUP_SHA, Duration::ZERO);
    }
    let inv = Invocation::new(&sim).input("command", "wait").input("worker", "w0,w1");
    let event = inv.dir.path().join("event.json");
    let payload = serde_json::json!({"merge_group": {"head_sha": GROUP_SHA, "head_ref": format!("refs/heads/{branch}"),
        "base_sha": "1111111111111111111111111111111111111111", "base_ref": "refs/heads/main"}});
    std::fs::write(&event, payload.to_string()).unwrap();
    let run = on_push(inv.without("branch"), &sim, GROUP_SHA)
        .without("commit")
        .env("GITHUB_EVENT_NAME", "merge_group")
        .env("GITHUB_EVENT_PATH", event.to_str().unwrap())
        .env("GITHUB_REF_NAME", branch)
        .env("GITHUB_HEAD_REF", "")
        .run();
    run.assert_code(0);
    let want: Vec<String> = ["w0", "w1"]
        .iter()
        .flat_map(|w| {
            [
                format!("workers-ci/{w} pending: waiting for Cloudflare's build of 9999999"),
                format!("workers-ci/{w} success: build succeeded in 1s"),
            ]
        })
        .collect();
    assert_eq!(statuses(&sim, GROUP_SHA), want);
    assert!(sim.github_comments(7).is_empty(), "no pull-request comment");
    assert!(sim.github_deployments().is_empty());
}

/// A token without `statuses: write` (every workflow written before this input): a warning
/// that names the permission, the Cloudflare result kept, and no post after the first refusal;
/// with `github_required`, exit 9.
#[test]
fn a_refused_status_is_a_warning_or_with_github_required_exit_9() {
    let sim = sim(3, |_| fast_profile());
    sim.set_github_token(GITHUB_TOKEN, TokenPermissions { statuses: Access::Read, ..with_statuses() });
    for i in 0..3 {
        sim.push(&format!("w{i}"), "main", A, Duration::ZERO);
    }
    let inv = || Invocation::new(&sim).input("command", "wait").input("worker", &names(3));
    let run = on_push(inv(), &sim, A).run();
    run.assert_code(0);
    let warnings: Vec<String> =
        run.view().commands.into_iter().filter(|c| c.name == "warning").map(|c| c.data).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "GitHub: could not post the commit status of Worker(s) w0 on aaaaaaa: POST /repos/acme/site/statuses/"
        ) && warnings[0].contains("HTTP 403")
            && warnings[0].contains("the others were not tried")
            && warnings[0].contains("has `statuses: write`"),
        "{warnings:?}"
    );
    assert_eq!(requests_matching(&sim, "POST", "/statuses/"), 1, "no post after a refusal");

    let run = on_push(inv().input("github_required", "true"), &sim, A).run();
    run.assert_code(9);
    assert!(run.stdout.contains("could not post the commit status"), "{}", run.stdout);
    assert!(sim.github_statuses(A).is_empty());
}

/// A transient failure is retried (the same status twice changes nothing a reader sees).
#[test]
fn a_status_post_that_meets_a_server_error_is_retried() {
    let sim = sim(1, |_| fast_profile());
    sim.add_fault(fault(
        "POST",
        "/statuses/",
        1,
        FaultAction::Status { status: 502, code: 0, message: "Bad Gateway".into(), retry_after: None },
    ));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let run = on_push(Invocation::new(&sim).input("worker", "w0"), &sim, commit).run();
    run.assert_code(0);
    assert_eq!(statuses(&sim, commit).len(), 2, "{:?}", statuses(&sim, commit));
    assert!(!run.stdout.contains("::warning::GitHub"), "{}", run.stdout);
}

/// `timeout` stops the step mid-build: every Worker's `pending` is replaced by `error`, none is
/// left waiting.
#[test]
fn a_timeout_leaves_no_pending_status() {
    let sim = sim(3, |_| BuildProfile { running_ms: 600_000, ..fast_profile() });
    for i in 0..3 {
        sim.push(&format!("w{i}"), "main", A, Duration::ZERO);
    }
    let inv = Invocation::new(&sim).input("command", "wait").input("worker", &names(3)).input("timeout", "3s");
    let run = on_push(inv, &sim, A).run();
    run.assert_code(6);
    let want: Vec<String> = (0..3)
        .flat_map(|i| {
            [
                format!("workers-ci/w{i} pending: waiting for Cloudflare's build of aaaaaaa"),
                format!("workers-ci/w{i} error: stopped: `timeout` (3s) elapsed before the build ended"),
            ]
        })
        .collect();
    assert_eq!(statuses(&sim, A), want);
}

/// A build that failed before the `timeout` decides the exit (1), and the Workers still
/// building when it elapsed still end as `error`, not as that failure.
#[test]
fn a_timeout_after_a_failure_still_ends_the_others() {
    let sim = sim(3, |i| match i {
        0 => BuildProfile { outcome: "fail".into(), ..fast_profile() },
        _ => BuildProfile { running_ms: 600_000, ..fast_profile() },
    });
    for i in 0..3 {
        sim.push(&format!("w{i}"), "main", A, Duration::ZERO);
    }
    let inv = Invocation::new(&sim).input("command", "wait").input("worker", &names(3)).input("timeout", "3s");
    let run = on_push(inv, &sim, A).run();
    run.assert_code(1);
    let last: Vec<String> = statuses(&sim, A).into_iter().filter(|s| !s.contains(" pending: ")).collect();
    assert_eq!(
        last,
        [
            "workers-ci/w0 failure: build failed after 1s",
            "workers-ci/w1 error: stopped: `timeout` (3s) elapsed before the build ended",
            "workers-ci/w2 error: stopped: `timeout` (3s) elapsed before the build ended",
        ]
    );
}

/// A cancelled job (SIGINT): the statuses end as `error` within the runner's grace period.
#[test]
fn a_signal_leaves_no_pending_status() {
    let sim = sim(1, |_| BuildProfile { running_ms: 600_000, ..fast_profile() });
    sim.push("w0", "main", A, Duration::ZERO);
    let inv = on_push(Invocation::new(&sim).input("command", "wait").input("worker", "w0"), &sim, A);
    let mut child = inv.watch();
    child.wait_for_line(": running", Duration::from_secs(10));
    child.signal("INT");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(10));
    let run = inv.collect(code, stdout, stderr, Duration::ZERO);
    run.assert_code(130);
    assert_eq!(
        statuses(&sim, A),
        [
            "workers-ci/w0 pending: waiting for Cloudflare's build of aaaaaaa",
            "workers-ci/w0 error: stopped: the job was cancelled before the build ended"
        ]
    );
}

/// The context is the user's to name, and checked before any request; statuses need a token.
#[test]
fn contexts_and_tokens_are_checked_before_any_request() {
    let sim = sim(2, |_| fast_profile());
    sim.push("w0", "main", A, Duration::ZERO);
    let run = on_push(Invocation::new(&sim).input("command", "wait").input("worker", "w0"), &sim, A)
        .input("status_context", "deploy/{worker} (cloudflare)")
        .run();
    run.assert_code(0);
    assert_eq!(statuses(&sim, A)[1], "deploy/w0 (cloudflare) success: build succeeded in 1s");

    for (inv, input) in [
        (
            on_push(Invocation::new(&sim).input("worker", "w0,w1"), &sim, A).input("status_context", "deploy"),
            "status_context",
        ),
        (on_push(Invocation::new(&sim).input("worker", "w0"), &sim, A).without("github_token"), "commit_statuses"),
        (on_push(Invocation::new(&sim).input("worker", "w0"), &sim, A).input("wait", "false"), "commit_statuses"),
        (Invocation::new(&sim).input("worker", "w0").input("status_context", "x/{worker}"), "status_context"),
    ] {
        let before = sim.requests().len();
        let run = inv.run();
        run.assert_code(2);
        assert!(run.stdout.contains(&format!("`{input}`")), "{input}: {}", run.stdout);
        assert_eq!(sim.requests().len(), before, "no request: {input}");
    }
}

/// Issue 22's closing figure: what statuses add, per Worker.
#[test]
fn statuses_cost_two_requests_per_worker() {
    let sim = sim(4, |_| fast_profile());
    for i in 0..4 {
        sim.push(&format!("w{i}"), "main", A, Duration::ZERO);
    }
    let run = on_push(Invocation::new(&sim).input("command", "wait").input("worker", &names(4)), &sim, A).run();
    run.assert_code(0);
    let github: Vec<Value> = sim.github_statuses(A);
    assert_eq!(github.len(), 8);
    assert_eq!(requests_matching(&sim, "POST", "/statuses/"), 8, "one pending and one terminal per Worker");
}

/// The pull-request comment says why a build was skipped, as the status does.
#[test]
fn the_pull_request_comment_says_why_a_build_was_skipped() {
    let sim = sim(6, |i| BuildProfile { outcome: if i == 5 { "skipped" } else { "success" }.into(), ..fast_profile() });
    sim.push("w5", "feature/x", A, Duration::ZERO);
    let inv = Invocation::new(&sim).input("command", "wait").input("worker", "w5").input("commit", A);
    let run = on_pull_request(inv.input("github_token", GITHUB_TOKEN), &sim, A).run();
    run.assert_code(0);
    let comments = our_comments(&sim);
    assert_eq!(comments.len(), 1, "{comments:?}");
    // Escaped as every comment text is (inert Markdown).
    assert!(
        comments[0].1.contains(r"build skipped\: no watched path changed \(watch paths\: include src\/\*\*"),
        "{}",
        comments[0].1
    );
}

/// `if_skipped: fail` on the many-Workers path: the skipped Worker fails the step (exit 1) and
/// its status; the built one keeps its `success`.
#[test]
fn if_skipped_fail_with_several_workers() {
    let sim = sim(6, |i| BuildProfile { outcome: if i == 5 { "skipped" } else { "success" }.into(), ..fast_profile() });
    for w in ["w0", "w5"] {
        sim.push(w, "main", A, Duration::ZERO);
    }
    let inv = Invocation::new(&sim).input("command", "wait").input("worker", "w0,w5").input("if_skipped", "fail");
    let run = on_push(inv, &sim, A).run();
    run.assert_code(1);
    assert_eq!(
        statuses(&sim, A),
        [
            "workers-ci/w0 pending: waiting for Cloudflare's build of aaaaaaa".to_owned(),
            "workers-ci/w0 success: build succeeded in 1s".to_owned(),
            "workers-ci/w5 pending: waiting for Cloudflare's build of aaaaaaa".to_owned(),
            format!("workers-ci/w5 failure: build skipped: {SKIP_REASON}"),
        ]
    );
    let error = run.view().commands.into_iter().find(|c| c.name == "error").expect("an error");
    assert!(error.data.starts_with(&format!("Cloudflare skipped the build (Worker w5: {SKIP_REASON})")), "{error:?}");
}

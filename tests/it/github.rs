//! The GitHub side: one living pull-request comment per Worker and one GitHub Deployment per
//! commit, against the simulator's GitHub REST API (served under `/api/v3`, as on GHES).

use crate::common::*;
use serde_json::Value;
use workers_ci_simulator::{Access, GITHUB_TOKEN, TokenPermissions};

const SHA1: &str = "1111111111111111111111111111111111111111";
const SHA2: &str = "2222222222222222222222222222222222222222";

fn github_sim(profile: BuildProfile) -> Simulator {
    Simulator::start_background(SimConfig {
        build: profile,
        github: Some(GitHubConfig::default()),
        ..SimConfig::default()
    })
    .expect("simulator starts")
}

/// A `build` on a `pull_request` event for PR 7 whose head is `sha`, reporting to GitHub.
fn on_pr(sim: &Simulator, sha: &str) -> Invocation {
    let inv = Invocation::new(sim).input("branch", "feature/login").input("commit", sha);
    on_pull_request(inv.input("github_token", GITHUB_TOKEN), sim, sha)
}

/// Issue 20, point 6: a build of the production branch (its trigger deploys with `wrangler
/// deploy`) is reported as a production deployment, not as a preview.
#[test]
fn a_production_build_is_reported_as_production() {
    let sim = github_sim(fast_profile());
    let run = Invocation::new(&sim)
        .input("commit", SHA1)
        .input("github_token", GITHUB_TOKEN)
        .env("GITHUB_API_URL", &sim.github_url())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "42")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_SHA", SHA1)
        .run();
    run.assert_code(0);
    assert!(warnings(&run).is_empty(), "{}", run.stdout);
    let d = deployments(&sim, SHA1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        (&d[0]["environment"], &d[0]["production_environment"], &d[0]["transient_environment"]),
        (&Value::from("production"), &Value::from(true), &Value::from(false)),
        "{d:?}"
    );
    // The other branches' trigger uploads versions: a preview.
    on_pr(&sim, SHA2).run().assert_code(0);
    assert_eq!(deployments(&sim, SHA2)[0]["environment"], "preview/my-worker");
}

fn deployments(sim: &Simulator, sha: &str) -> Vec<Value> {
    sim.github_deployments().into_iter().filter(|d| d["sha"] == sha).collect()
}

fn warnings(run: &Run) -> Vec<String> {
    run.stdout.lines().filter(|l| l.starts_with("::warning")).map(str::to_owned).collect()
}

#[test]
fn first_push_comments_and_deploys_then_the_next_edits_the_same_comment() {
    let sim = github_sim(fast_profile());
    let run = on_pr(&sim, SHA1).run();
    run.assert_code(0).assert_no_secret(GITHUB_TOKEN);
    assert!(warnings(&run).is_empty(), "{}", run.stdout);
    let first = our_comments(&sim);
    assert_eq!(first.len(), 1, "{first:?}");
    let body = &first[0].1;
    assert!(body.starts_with("<!-- workers-ci:worker=my%2Dworker;kind=build -->\n"), "{body}");
    assert!(body.contains("build succeeded") && body.contains("111111111111"), "{body}");
    assert!(body.contains("<https://github.com/acme/site/actions/runs/42>"), "{body}");
    let d = deployments(&sim, SHA1);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["environment"], "preview/my-worker");
    assert_eq!(d[0]["transient_environment"], true);
    assert_eq!(d[0]["statuses"][0]["state"], "success");
    assert_eq!(d[0]["statuses"][0]["log_url"], "https://github.com/acme/site/actions/runs/42");

    // The next push: the same comment, edited; a deployment for the new head commit.
    on_pr(&sim, SHA2).run().assert_code(0);
    let second = our_comments(&sim);
    assert_eq!(second.len(), 1, "one living comment: {second:?}");
    assert_eq!(second[0].0, first[0].0, "edited in place");
    assert!(second[0].1.contains("222222222222"), "{}", second[0].1);
    assert_eq!(deployments(&sim, SHA2).len(), 1);

    // Re-running the same commit: still one comment and one deployment per commit.
    on_pr(&sim, SHA2).run().assert_code(0);
    assert_eq!(our_comments(&sim).len(), 1);
    assert_eq!(deployments(&sim, SHA1).len(), 1);
    let d2 = deployments(&sim, SHA2);
    assert_eq!(d2.len(), 1, "no duplicate on a re-run: {d2:?}");
    assert_eq!(d2[0]["statuses"].as_array().unwrap().len(), 2, "a status per run");
    // Every GitHub request went to the GHES-style base, /api/v3.
    let gh: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/repos/") || r.path.contains("/repositories/"))
        .collect();
    assert!(!gh.is_empty() && gh.iter().all(|r| r.path.starts_with("/api/v3/")), "{gh:?}");
}

#[test]
fn our_comment_is_found_past_the_first_page() {
    let sim = github_sim(fast_profile());
    on_pr(&sim, SHA1).run().assert_code(0);
    let mine = our_comments(&sim)[0].0;
    for i in 0..40 {
        sim.seed_github_comment(
            7,
            &format!("review comment {i}\n<!-- workers-ci:worker=my%2Dworker;kind=build --> quoted"),
        );
    }
    // 41 comments: with GitHub's default of 30 a page, ours would be on page 1 anyway, so push it
    // out: delete nothing, but make the list long enough that a client reading one page of 30
    // from the end would miss it. The client asks for 100 a page and follows Link: check both.
    for i in 0..80 {
        sim.seed_github_comment(7, &format!("more {i}"));
    }
    on_pr(&sim, SHA2).run().assert_code(0);
    let all = our_comments(&sim);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].0, mine);
    assert!(all[0].1.contains("222222222222"));
    let lists: Vec<_> =
        sim.requests().into_iter().filter(|r| r.method == "GET" && r.path.ends_with("/issues/7/comments")).collect();
    assert!(
        lists.iter().any(|r| r.path.starts_with("/api/v3/repositories/") && r.query.contains("page=2")),
        "followed Link: {lists:?}"
    );
}

#[test]
fn a_comment_on_page_two_is_found_when_ours_came_after_forty_others() {
    let sim = github_sim(fast_profile());
    for i in 0..140 {
        sim.seed_github_comment(7, &format!("chatter {i}"));
    }
    on_pr(&sim, SHA1).run().assert_code(0);
    on_pr(&sim, SHA2).run().assert_code(0);
    assert_eq!(our_comments(&sim).len(), 1, "our comment is number 141, on the second page of 100");
}

#[test]
fn github_403_and_500_are_warnings_and_fatal_only_when_required() {
    for (status, message) in [(403, "Resource not accessible by integration"), (500, "Server Error")] {
        let sim = github_sim(fast_profile());
        sim.add_fault(fault(
            "POST",
            "/api/v3/",
            10,
            FaultAction::Status { status, code: 0, message: message.into(), retry_after: None },
        ));
        let run = on_pr(&sim, SHA1).run();
        run.assert_code(0).assert_no_secret(GITHUB_TOKEN);
        let w = warnings(&run);
        assert!(
            w.iter()
                .any(|l| l.contains("GitHub: could not write the pull-request comment")
                    && l.contains(&status.to_string())),
            "{w:?}"
        );
        assert_eq!(run.output("build_outcome"), Some("success"));
        // No blind re-send: each create was tried once (a 500 is re-looked-up, not re-sent).
        let posts = sim.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/comments")).count();
        assert_eq!(posts, 1, "status {status}");

        let sim = github_sim(fast_profile());
        sim.add_fault(fault(
            "POST",
            "/api/v3/",
            10,
            FaultAction::Status { status, code: 0, message: message.into(), retry_after: None },
        ));
        let run = on_pr(&sim, SHA1).input("github_required", "true").run();
        run.assert_code(9).assert_no_secret(GITHUB_TOKEN);
        // The advice fits the failure: permissions for a 403, a later run for GitHub's own error.
        let advice = if status == 403 { "`github_token` has `pull-requests: write`" } else { "a server error" };
        assert!(run.stdout.contains("::error") && run.stdout.contains(advice), "{}", run.stdout);
    }
}

#[test]
fn a_token_without_the_permission_is_a_warning_naming_it() {
    let sim = github_sim(fast_profile());
    sim.set_github_token(GITHUB_TOKEN, TokenPermissions { deployments: Access::Write, ..TokenPermissions::default() });
    let run = on_pr(&sim, SHA1).run();
    run.assert_code(0);
    let w = warnings(&run).join("\n");
    assert!(w.contains("Resource not accessible by integration") && w.contains("pull-requests: write"), "{w}");
    assert_eq!(deployments(&sim, SHA1).len(), 1, "the deployment is still made");
    // An unknown token: 401 Bad credentials, a warning, the step green.
    let run = on_pr(&sim, SHA2).input("github_token", "ghp_unknownTokenValue123").run();
    run.assert_code(0).assert_no_secret("ghp_unknownTokenValue123");
    assert!(warnings(&run).join("\n").contains("Bad credentials"));
}

#[test]
fn a_failed_build_shows_its_log_tail_inert() {
    let profile = BuildProfile {
        outcome: "fail".into(),
        log_lines: Some(vec![
            "npm run build".into(),
            "```".into(),
            "<!-- workers-ci:worker=other -->".into(),
            "</details><img src=x onerror=alert(1)>".into(),
            "Error: boom".into(),
        ]),
        ..fast_profile()
    };
    let sim = github_sim(profile);
    let run = on_pr(&sim, SHA1).run();
    run.assert_code(1);
    let body = our_comments(&sim).pop().expect("a comment").1;
    assert!(
        body.contains("build failed (outcome `fail`)") || body.contains("build failed \\(outcome \\`fail\\`\\)"),
        "{body}"
    );
    assert!(body.contains("````text\n"), "a fence longer than the log's backticks: {body}");
    assert!(body.contains("Error: boom"));
    assert_eq!(body.matches("<!--").count(), 1, "only our marker: {body}");
    let d = deployments(&sim, SHA1);
    assert_eq!(d[0]["statuses"][0]["state"], "failure");
}

#[test]
fn a_push_gets_a_deployment_but_no_comment() {
    let sim = github_sim(fast_profile());
    let run = Invocation::new(&sim)
        .input("commit", SHA1)
        .input("github_token", GITHUB_TOKEN)
        .env("GITHUB_API_URL", &sim.github_url())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_SHA", SHA1)
        .run();
    run.assert_code(0);
    assert!(sim.github_comments(7).is_empty());
    assert_eq!(deployments(&sim, SHA1).len(), 1);
}

#[test]
fn version_deployed_at_100_percent_is_a_production_deployment() {
    let sim = github_sim(fast_profile());
    let inv = with_module(version_invocation(&sim, "my-worker"))
        .input("deploy", "true")
        .input("secrets", "API_KEY=sk_live_do_not_leak")
        .input("github_token", GITHUB_TOKEN)
        .env("GITHUB_API_URL", &sim.github_url())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_SHA", SHA1);
    inv.run().assert_code(0);
    let d = deployments(&sim, SHA1);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["environment"], "production");
    assert_eq!(d[0]["production_environment"], true);
    assert_eq!(d[0]["transient_environment"], false);
}

#[test]
fn bad_github_settings_are_input_errors_before_any_request() {
    let sim = github_sim(fast_profile());
    let run = on_pr(&sim, SHA1).env("GITHUB_API_URL", "http://github.example.com/api/v3").run();
    run.assert_code(2);
    // Named as the input (its fallback is the runner's GITHUB_API_URL).
    assert!(run.stdout.contains("github_api_url"), "{}", run.stdout);
    let run = on_pr(&sim, SHA1).without("github_token").input("github_required", "true").run();
    run.assert_code(2);
    assert!(sim.requests().is_empty(), "no request sent");
}

#[test]
fn github_honours_a_retry_after_written_as_an_http_date() {
    let sim = github_sim(fast_profile());
    // A proxy's 503 with the date form of Retry-After on the first comment listing: the client
    // must wait until that date, as its Cloudflare side does, not its own (scaled) backoff.
    sim.add_fault(fault(
        "GET",
        "/issues/7/comments",
        1,
        FaultAction::StatusRetryDate { status: 503, code: 0, message: "Service Unavailable".into(), retry_in: 2 },
    ));
    let run = on_pr(&sim, SHA1).run();
    run.assert_code(0).assert_no_secret(GITHUB_TOKEN);
    assert!(warnings(&run).is_empty(), "{}", run.stdout);
    assert_eq!(our_comments(&sim).len(), 1);
    let lists: Vec<_> =
        sim.requests().into_iter().filter(|r| r.method == "GET" && r.path.ends_with("/issues/7/comments")).collect();
    assert!(lists.len() >= 2 && lists[0].status == 503, "{lists:?}");
    let gap = lists[1].at_ms - lists[0].at_ms;
    assert!(gap >= 1950, "Retry-After: <now + 2 s> means ≥ 2 s between attempts (never scaled), got {gap}ms");
}

/// Issue 25, point 9: the advice fits how GitHub failed. Only a 403 is about the job's
/// `permissions:`; a network failure, a refused token, a 404 and a 422 each get their own.
#[test]
fn github_advice_fits_the_failure() {
    const PERMISSIONS: &str = "pull-requests: write";
    let sim = github_sim(fast_profile());
    // Nothing listens on port 1: the connection is refused, as when the network is down.
    let run = on_pr(&sim, SHA1).env("GITHUB_API_URL", "http://127.0.0.1:1/api/v3").run();
    run.assert_code(0);
    let w = warnings(&run).join("\n");
    assert!(w.contains("GitHub did not answer (network failure or timeout"), "{w}");
    assert!(w.contains("`github_api_url`") && !w.contains(PERMISSIONS), "{w}");

    let run = on_pr(&sim, SHA1).input("github_token", "ghp_unknownTokenValue123").run();
    let w = warnings(&run).join("\n");
    assert!(w.contains("Bad credentials") && w.contains("refused the token itself (401)"), "{w}");
    assert!(!w.contains(PERMISSIONS), "{w}");

    let sim = github_sim(fast_profile());
    sim.add_fault(fault(
        "GET",
        "/api/v3/",
        10,
        FaultAction::Status { status: 404, code: 0, message: "Not Found".into(), retry_after: None },
    ));
    let w = warnings(&on_pr(&sim, SHA1).run()).join("\n");
    assert!(w.contains("HTTP 404") && w.contains("`GITHUB_REPOSITORY`") && !w.contains(PERMISSIONS), "{w}");

    let sim = github_sim(fast_profile());
    sim.add_fault(fault(
        "POST",
        "/deployments",
        1,
        FaultAction::Status { status: 422, code: 0, message: "No ref found for: 1111111".into(), retry_after: None },
    ));
    let run = on_pr(&sim, SHA1).input("github_required", "true").run();
    run.assert_code(9);
    assert!(run.stdout.contains("refused the request") && !run.stdout.contains(PERMISSIONS), "{}", run.stdout);

    // A 403 still names the permissions.
    let sim = github_sim(fast_profile());
    sim.set_github_token(GITHUB_TOKEN, TokenPermissions { deployments: Access::Write, ..TokenPermissions::default() });
    let w = warnings(&on_pr(&sim, SHA1).run()).join("\n");
    assert!(w.contains("HTTP 403") && w.contains(PERMISSIONS), "{w}");
}

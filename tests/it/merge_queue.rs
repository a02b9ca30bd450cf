//! Merge queues: a `merge_group` event checks the queue's group commit on its temporary
//! `gh-readonly-queue/…` branch (docs/github-actions.md §4.1).

use crate::common::*;
use serde_json::Value;
use workers_ci_simulator::GITHUB_TOKEN;

const GROUP_SHA: &str = "9999999999999999999999999999999999999999";
const QUEUE_BRANCH: &str = "gh-readonly-queue/main/pr-7-1111111111111111111111111111111111111111";

/// `inv` on a `merge_group` event as the runner sets it up: the payload's `merge_group` (no
/// pull request), `GITHUB_SHA` and `GITHUB_REF_NAME` the group's, `GITHUB_HEAD_REF` empty.
fn on_merge_group(inv: Invocation, sim: &Simulator) -> Invocation {
    let event = inv.dir.path().join("event.json");
    let payload = serde_json::json!({
        "action": "checks_requested",
        "merge_group": {
            "head_sha": GROUP_SHA,
            "head_ref": format!("refs/heads/{QUEUE_BRANCH}"),
            "base_sha": "1111111111111111111111111111111111111111",
            "base_ref": "refs/heads/main",
        }
    });
    std::fs::write(&event, payload.to_string()).unwrap();
    let event = event.to_str().unwrap().to_owned();
    inv.without("branch")
        .without("commit")
        .input("github_token", GITHUB_TOKEN)
        .env("GITHUB_API_URL", &sim.github_url())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "42")
        .env("GITHUB_EVENT_NAME", "merge_group")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_SHA", GROUP_SHA)
        .env("GITHUB_REF", &format!("refs/heads/{QUEUE_BRANCH}"))
        .env("GITHUB_REF_NAME", QUEUE_BRANCH)
        .env("GITHUB_HEAD_REF", "")
}

fn github_sim() -> Simulator {
    Simulator::start_background(SimConfig {
        build: fast_profile(),
        github: Some(GitHubConfig::default()),
        ..SimConfig::default()
    })
    .expect("simulator starts")
}

/// `build` on `merge_group` builds the group's commit on the queue's branch (the other
/// branches' trigger: never production), and reports no comment and no GitHub Deployment.
#[test]
fn build_on_merge_group_builds_the_group_commit_and_reports_nothing_to_a_pull_request() {
    let sim = github_sim();
    let run = on_merge_group(Invocation::new(&sim), &sim).run();
    run.assert_code(0).assert_no_secret(GITHUB_TOKEN);
    let builds = sim.builds();
    assert_eq!(builds.len(), 1, "{builds:?}");
    let meta = &builds[0]["build_trigger_metadata"];
    assert_eq!((&meta["branch"], &meta["commit_hash"]), (&Value::from(QUEUE_BRANCH), &Value::from(GROUP_SHA)));
    assert_eq!(meta["deploy_command"], "npx wrangler versions upload", "never the production trigger");
    assert_eq!(run.output("commit"), Some(GROUP_SHA));
    assert!(sim.github_comments(7).is_empty(), "no pull-request comment");
    assert!(sim.github_deployments().is_empty(), "no GitHub Deployment: {:?}", sim.github_deployments());
    assert!(run.stdout.contains("merge_group event: no GitHub Deployment"), "{}", run.stdout);
}

/// `wait` on `merge_group` follows Workers Builds' build of the group's commit.
#[test]
fn wait_on_merge_group_follows_the_group_commit() {
    let sim = github_sim();
    let uuid = sim.push("my-worker", QUEUE_BRANCH, GROUP_SHA, std::time::Duration::ZERO);
    let run = on_merge_group(Invocation::new(&sim).input("command", "wait"), &sim).run();
    run.assert_code(0);
    assert_eq!(run.output("build_uuid"), Some(uuid.as_str()));
    assert!(sim.github_deployments().is_empty(), "{:?}", sim.github_deployments());
}

/// `preview` on `merge_group` does nothing and says so: no Preview for a temporary branch, and
/// a job shared with `pull_request` still passes.
#[test]
fn preview_on_merge_group_does_nothing_and_says_so() {
    let sim = github_sim();
    let inv = with_module(Invocation::new(&sim).input("command", "preview").input("compatibility_date", "2026-11-01"));
    let run = on_merge_group(inv, &sim).run();
    run.assert_code(0);
    assert!(sim.previews("my-worker").is_empty(), "{:?}", sim.previews("my-worker"));
    assert!(sim.requests().is_empty(), "no request at all: {:?}", sim.requests().len());
    let notice = run.view().commands.into_iter().find(|c| c.name == "notice").expect("a notice");
    assert!(notice.data.contains("merge_group event") && notice.data.contains("no Preview"), "{notice:?}");
}

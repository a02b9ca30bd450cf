//! What a person reads, compared whole: each command's plain-mode transcript (stdout and
//! stderr, outside GitHub Actions), the job summary of a build and a version, and a Preview's
//! pull-request comment, against `tests/snapshots/transcripts/<name>.txt`. Ids and times the
//! simulator or the clock decide are replaced by placeholders first ([`filter`]); everything else
//! is compared as written. After a deliberate change: `UPDATE_SNAPSHOTS=1 cargo test --test it
//! transcripts::`, and review the diff.

use crate::common::*;
use regex::Regex;

/// Placeholders for what changes from run to run. Build status lines before `stopped` are
/// dropped: which of queued/initializing/running a poll sees depends on the machine's load.
fn filter(text: &str) -> String {
    let rules = [
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
        (r"\b[0-9a-f]{32}\b", "[HEX32]"),
        (r"https://[0-9a-f]{8}-", "https://[VERSION8]-"),
        (r"(?m)^Build \[UUID\]: (queued|initializing|running)\n", ""),
        (r"\| Duration \| [^|]* \|", "| Duration | [DURATION] |"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "[TIME] UTC"),
    ];
    let mut out = text.to_owned();
    for (pattern, with) in rules {
        out = Regex::new(pattern).unwrap().replace_all(&out, with).into_owned();
    }
    out
}

fn assert_transcript(name: &str, run: &Run) {
    let text = format!("exit {}\n--- stdout\n{}--- stderr\n{}", run.code, run.stdout, run.stderr);
    assert_transcript_file(name, &filter(&text));
}

/// `tests/snapshots/transcripts/<name>.txt`.
fn assert_transcript_file(name: &str, text: &str) {
    assert_snapshot(&format!("transcripts/{name}.txt"), text, "transcripts");
}

/// A person's terminal: no GitHub, no debug lines.
fn plain(inv: Invocation) -> Invocation {
    let mut inv = inv.plain();
    inv.env.remove("RUNNER_DEBUG");
    inv
}

#[test]
fn build_followed_to_success() {
    let sim = sim();
    assert_transcript("build", &plain(Invocation::new(&sim)).run());
}

#[test]
fn build_started_and_not_followed() {
    let sim = sim();
    assert_transcript("build-no-wait", &plain(Invocation::new(&sim).input("wait", "false")).run());
}

#[test]
fn wait_for_the_build_of_a_commit() {
    let sim = sim();
    sim.push("my-worker", "main", "0123456789abcdef0123456789abcdef01234567", std::time::Duration::ZERO);
    assert_transcript("wait", &plain(Invocation::new(&sim).input("command", "wait")).run());
}

#[test]
fn version_uploaded_and_deployed() {
    let sim = sim();
    let run = plain(with_module(version_invocation(&sim, "my-worker")).input("deploy", "true")).run();
    assert_transcript("version", &run);
}

#[test]
fn deploy_two_versions() {
    let sim = sim();
    let first = with_module(version_invocation(&sim, "my-worker")).input("deploy", "true").run();
    let second = with_module(version_invocation(&sim, "my-worker")).run();
    let (a, b) = (first.output("version_id").unwrap(), second.output("version_id").unwrap());
    let inv = Invocation::new(&sim).without("branch").without("commit").input("command", "deploy");
    let run = plain(inv.input("versions", &format!("{a}@90,{b}@10"))).run();
    assert_transcript("deploy", &run);
}

#[test]
fn setup_dry_run() {
    let sim = sim();
    let inv = Invocation::new(&sim).without("worker").without("branch").without("commit").input("command", "setup");
    std::fs::write(
        inv.dir.path().join("workers-builds.toml"),
        "worker = \"my-worker\"\n[[triggers]]\nname = \"Deploy default branch\"\nbranch_includes = [\"main\"]\n\
         build_command = \"npm run build\"\ndeploy_command = \"npx wrangler deploy\"\n[triggers.vars]\nNODE_ENV = \"production\"\n",
    )
    .unwrap();
    assert_transcript("setup-dry-run", &plain(inv.input("dry_run", "true")).run());
}

#[test]
fn env_sets_and_unsets() {
    let sim = sim();
    let inv = Invocation::new(&sim).without("commit").input("command", "env").input("trigger", "Deploy default branch");
    let run = plain(
        inv.input("set", "NODE_ENV=production").input("set_secret", "NPM_TOKEN=npm-secret-value").input("unset", "OLD"),
    )
    .run();
    assert_transcript("env", &run);
}

#[test]
fn purge_cache() {
    let sim = sim();
    assert_transcript(
        "purge-cache",
        &plain(Invocation::new(&sim).without("commit").input("command", "purge-cache")).run(),
    );
}

#[test]
fn redeploy_the_active_version() {
    let sim = sim();
    Invocation::new(&sim).run().assert_code(0);
    let inv = Invocation::new(&sim).without("branch").without("commit").input("command", "redeploy");
    assert_transcript("redeploy", &plain(inv).run());
}

#[test]
fn preview_deployed() {
    let sim = sim();
    let inv = with_module(
        Invocation::new(&sim)
            .without("branch")
            .input("command", "preview")
            .input("compatibility_date", "2026-11-01")
            .env("GITHUB_HEAD_REF", "feature/login"),
    );
    assert_transcript("preview", &plain(inv).run());
}

#[test]
fn job_summaries() {
    let sim = sim();
    let run = Invocation::new(&sim).run();
    assert_transcript_file("build-summary", &filter(&run.summary));
    let run = with_module(version_invocation(&sim, "my-worker")).input("deploy", "true").run();
    assert_transcript_file("version-summary", &filter(&run.summary));
}

/// The living pull-request comment a Preview deployment leaves, whole.
#[test]
fn preview_pull_request_comment() {
    let sim = Simulator::start_background(SimConfig {
        build: fast_profile(),
        github: Some(GitHubConfig::default()),
        ..SimConfig::default()
    })
    .expect("simulator starts");
    let sha = "1111111111111111111111111111111111111111";
    let inv = with_module(
        Invocation::new(&sim)
            .without("branch")
            .input("command", "preview")
            .input("compatibility_date", "2026-11-01")
            .input("commit", sha)
            .input("github_token", workers_ci_simulator::GITHUB_TOKEN)
            .env("GITHUB_HEAD_REF", "feature/login"),
    );
    on_pull_request(inv, &sim, sha).run().assert_code(0);
    let comments = our_comments(&sim);
    assert_eq!(comments.len(), 1);
    assert_transcript_file("preview-comment", &filter(&comments[0].1));
}

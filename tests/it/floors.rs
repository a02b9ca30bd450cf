//! Each command's requests at their floor (issue 26): the simulator answers every request
//! [`DELAY_MS`] late, so requests sent together overlap in its log and requests that waited for
//! an answer do not. A test compares the command's rounds of requests, each round sorted (the
//! order within one is the scheduler's), with the floor: a new read, or one no longer sent
//! beside another, fails here.

use std::sync::LazyLock;

use crate::common::*;

/// Long enough that requests sent together are seen together on a loaded machine, and short
/// enough that a run of four rounds stays well under a second.
const DELAY_MS: u64 = 100;

fn slow(config: SimConfig) -> Simulator {
    Simulator::start_background(SimConfig { answer_delay_ms: DELAY_MS, build: fast_profile(), ..config })
        .expect("simulator starts")
}

/// Ids (32-hex tags and ids, UUIDs) in a path, as `{id}`: the rounds read the same every run.
static ID: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"\b([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b").unwrap()
});

/// The Cloudflare requests since `since` as rounds: a request that arrived before every request
/// of the current round had its answer belongs to it; one that arrived later starts the next.
fn rounds(sim: &Simulator, since: usize) -> Vec<Vec<String>> {
    let prefix = format!("/client/v4/accounts/{}", sim.account_id());
    let mut reqs: Vec<_> =
        sim.requests()[since..].iter().filter(|r| r.path.starts_with("/client/v4")).cloned().collect();
    reqs.sort_by_key(|r| r.at_ms);
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut first_answer = 0;
    for r in reqs {
        let line = format!("{} {}", r.method, ID.replace_all(r.path.strip_prefix(&prefix).unwrap_or(&r.path), "{id}"));
        match out.last_mut() {
            Some(round) if r.at_ms < first_answer => {
                round.push(line);
                first_answer = first_answer.min(r.answered_ms);
            }
            _ => {
                out.push(vec![line]);
                first_answer = r.answered_ms;
            }
        }
    }
    for round in &mut out {
        round.sort();
    }
    out
}

/// `rounds` written as the tests state them: one string per round, requests joined by ` + `.
fn shown(rounds: &[Vec<String>]) -> Vec<String> {
    rounds.iter().map(|r| r.join(" + ")).collect()
}

fn version(sim: &Simulator, worker: &str) -> Invocation {
    with_module(version_invocation(sim, worker))
}

fn deploy(sim: &Simulator, versions: &str) -> Invocation {
    Invocation::new(sim).without("branch").without("commit").input("command", "deploy").input("versions", versions)
}

/// Runs `inv` (which must succeed) and returns its rounds and the run.
fn measured(sim: &Simulator, inv: &Invocation) -> (Vec<String>, Run) {
    let since = sim.requests().len();
    let run = inv.run();
    run.assert_code(0);
    (shown(&rounds(sim, since)), run)
}

#[test]
fn version_of_a_new_worker_looks_up_creates_and_uploads() {
    let sim = slow(SimConfig::default());
    let (got, run) = measured(&sim, &version(&sim, "fresh").input("create_worker", "true"));
    // The latest version's 404 is the look-up; the create's answer is the Worker; a Worker made
    // by this run has no versions to read or list.
    assert_eq!(
        got,
        ["GET /workers/workers/fresh/versions/latest", "POST /workers/workers", "POST /workers/workers/fresh/versions"]
    );
    assert!(run.output("worker_id").is_some() && run.output("workers_dev_url").is_some(), "{:?}", run.outputs);
}

#[test]
fn version_of_an_existing_worker_is_two_rounds() {
    let sim = slow(SimConfig::default());
    // The seeded Worker has no version yet: its latest version's 404 is confirmed by the list,
    // read beside the Worker (which says it exists).
    let (got, _) = measured(&sim, &version(&sim, "my-worker"));
    assert_eq!(
        got,
        [
            "GET /workers/workers/my-worker/versions/latest",
            "GET /workers/workers/my-worker + GET /workers/workers/my-worker/versions",
            "POST /workers/workers/my-worker/versions",
        ]
    );
    // With a version: the latest one (bindings to inherit, code not to drop) before the upload,
    // the Worker itself (id, workers.dev URL) beside it.
    let (got, run) = measured(&sim, &version(&sim, "my-worker"));
    assert_eq!(
        got,
        [
            "GET /workers/workers/my-worker/versions/latest",
            "GET /workers/workers/my-worker + POST /workers/workers/my-worker/versions",
        ]
    );
    assert!(run.output("worker_id").is_some() && run.output("workers_dev_url").is_some(), "{:?}", run.outputs);
}

#[test]
fn version_with_deploy_reads_no_deployment_for_a_full_deploy() {
    let sim = slow(SimConfig::default());
    measured(&sim, &version(&sim, "my-worker"));
    let (got, run) = measured(&sim, &version(&sim, "my-worker").input("deploy", "true"));
    assert_eq!(
        got,
        [
            "GET /workers/workers/my-worker/versions/latest",
            "GET /workers/workers/my-worker + POST /workers/workers/my-worker/versions",
            "POST /workers/scripts/my-worker/deployments",
        ]
    );
    assert!(run.output("deployment_id").is_some());
    // A gradual rollout reads the live deployment first, beside the latest version, and refuses
    // before any write when it cannot split.
    let (got, _) = measured(&sim, &version(&sim, "my-worker").input("deploy", "10"));
    assert_eq!(
        got,
        [
            "GET /workers/scripts/my-worker/deployments + GET /workers/workers/my-worker/versions/latest",
            "GET /workers/workers/my-worker + POST /workers/workers/my-worker/versions",
            "POST /workers/scripts/my-worker/deployments",
        ]
    );
}

#[test]
fn version_that_names_workers_dev_reads_the_worker_first_and_only_a_deploy_writes_it() {
    let sim = slow(SimConfig::default());
    measured(&sim, &version(&sim, "my-worker"));
    // An upload compares the flag with the live one (a notice), never writes it.
    let (got, _) = measured(&sim, &version(&sim, "my-worker").input("workers_dev", "false"));
    assert_eq!(
        got,
        [
            "GET /workers/workers/my-worker + GET /workers/workers/my-worker/versions/latest",
            "POST /workers/workers/my-worker/versions"
        ]
    );
    // A deploy at 100 % writes it before the upload, as `wrangler deploy` does.
    let (got, _) = measured(&sim, &version(&sim, "my-worker").input("workers_dev", "false").input("deploy", "true"));
    assert_eq!(
        got,
        [
            "GET /workers/workers/my-worker + GET /workers/workers/my-worker/versions/latest",
            "POST /workers/scripts/my-worker/subdomain",
            "POST /workers/workers/my-worker/versions",
            "POST /workers/scripts/my-worker/deployments",
        ]
    );
}

#[test]
fn deploy_sends_its_three_reads_together() {
    let sim = slow(SimConfig::default());
    let v =
        measured(&sim, &version(&sim, "my-worker").input("deploy", "true")).1.output("version_id").unwrap().to_owned();
    let v2 = measured(&sim, &version(&sim, "my-worker")).1.output("version_id").unwrap().to_owned();
    let reads = "GET /workers/scripts/my-worker/deployments + GET /workers/workers/my-worker + GET /workers/workers/my-worker/versions";
    for versions in [v2.clone(), format!("{v2}@30, {v}@70")] {
        let (got, _) = measured(&sim, &deploy(&sim, &versions));
        assert_eq!(got, [reads, "POST /workers/scripts/my-worker/deployments"], "{versions}");
    }
    let (got, _) = measured(&sim, &deploy(&sim, "").without("versions").input("rollback", "true"));
    assert_eq!(got, [reads, "POST /workers/scripts/my-worker/deployments"]);
}

#[test]
fn preview_reads_the_worker_and_the_preview_together() {
    let sim = slow(SimConfig::default());
    let preview = || {
        with_module(
            Invocation::new(&sim)
                .without("branch")
                .input("command", "preview")
                .input("compatibility_date", "2026-11-01")
                .env("GITHUB_HEAD_REF", "feature/x"),
        )
    };
    let looked_up = "GET /workers/workers/my-worker + GET /workers/workers/my-worker/previews/feature%2Fx";
    // New: a Preview made by this run has no deployments to inherit from or list.
    let (got, _) = measured(&sim, &preview());
    assert_eq!(
        got,
        [
            looked_up,
            "POST /workers/workers/{id}/previews",
            "POST /workers/workers/{id}/previews/{id}/deployments",
            "GET /workers/workers/{id}/previews/{id}",
        ]
    );
    let (got, _) = measured(&sim, &preview());
    assert_eq!(
        got,
        [
            looked_up,
            "GET /workers/workers/{id}/previews/{id}/deployments + GET /workers/workers/{id}/previews/{id}/deployments/latest",
            "POST /workers/workers/{id}/previews/{id}/deployments",
            "GET /workers/workers/{id}/previews/{id}",
        ]
    );
}

#[test]
fn rounds_group_requests_sent_together() {
    // The grouping itself, on a run whose shape is known: two reads at once, then one.
    let sim = slow(SimConfig::default());
    let since = sim.requests().len();
    std::thread::scope(|s| {
        s.spawn(|| call(&sim, "GET", "/workers/workers/my-worker", None));
        s.spawn(|| call(&sim, "GET", "/workers/scripts", None));
    });
    call(&sim, "GET", "/workers/workers", None);
    assert_eq!(
        shown(&rounds(&sim, since)),
        ["GET /workers/scripts + GET /workers/workers/my-worker", "GET /workers/workers"]
    );
}

/// The rounds up to and including the first that starts with `until`, and whether every later
/// request only follows the build (status and log reads of one build).
fn until_following(got: &[String], until: &str) -> (Vec<String>, bool) {
    let n = got.iter().position(|r| r.starts_with(until)).map_or(got.len(), |i| i + 1);
    let follows = got[n..]
        .iter()
        .flat_map(|r| r.split(" + "))
        .all(|r| r == "GET /builds/builds/{id}" || r == "GET /builds/builds/{id}/logs");
    (got[..n].to_vec(), follows)
}

/// After a successful build, two reads say whether it went live: the active deployment, then
/// the builds behind its versions (`GET /builds/builds?version_ids=`).
const WENT_LIVE: [&str; 2] = ["GET /workers/scripts/my-worker/deployments", "GET /builds/builds"];

#[test]
fn build_reads_the_triggers_and_the_builds_together() {
    let sim = slow(SimConfig::default());
    let (mut got, _) = measured(&sim, &Invocation::new(&sim));
    let live = got.split_off(got.len() - 2);
    assert_eq!(live, WENT_LIVE, "the last reads say whether the build went live");
    let (start, follows) = until_following(&got, "POST");
    assert_eq!(
        start,
        [
            "GET /workers/scripts",
            "GET /builds/workers/{id}/builds + GET /builds/workers/{id}/triggers",
            "POST /builds/triggers/{id}/builds",
        ]
    );
    assert!(follows, "{got:#?}");
}

#[test]
fn wait_finds_the_build_in_two_reads() {
    let sim = slow(SimConfig::default());
    sim.set_build_profile(BuildProfile { queued_ms: 0, initializing_ms: 0, running_ms: 0, ..BuildProfile::default() });
    let commit = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    sim.push("my-worker", "main", commit, std::time::Duration::ZERO);
    let (got, _) = measured(&sim, &Invocation::new(&sim).input("command", "wait").input("commit", commit));
    // The builds list shows the build finished: it is not read again, only its log; then whether
    // it went live (the active deployment, the builds behind its versions).
    assert_eq!(
        got,
        [
            "GET /workers/scripts",
            "GET /builds/workers/{id}/builds",
            "GET /builds/builds/{id}/logs",
            WENT_LIVE[0],
            WENT_LIVE[1],
        ]
    );
}

#[test]
fn redeploy_reads_each_thing_once() {
    let sim = slow(SimConfig::default());
    measured(&sim, &Invocation::new(&sim));
    let inv = Invocation::new(&sim).without("branch").without("commit").input("command", "redeploy");
    let (got, _) = measured(&sim, &inv);
    let (start, follows) = until_following(&got, "POST");
    // The build of the live version names the Worker's tag: no list of the account's Workers,
    // and the triggers are read once.
    assert_eq!(
        start,
        [
            "GET /workers/scripts/my-worker/deployments",
            "GET /builds/builds",
            "GET /builds/workers/{id}/builds + GET /builds/workers/{id}/triggers",
            "POST /builds/triggers/{id}/builds",
        ]
    );
    assert!(follows, "{got:#?}");
}

#[test]
fn setup_with_nothing_to_change_reads_the_variables_together() {
    let sim = slow(SimConfig::default());
    let file = r#"worker = "my-worker"

[[triggers]]
name = "Deploy default branch"
branch_includes = ["main"]
build_command = "npm run build"
deploy_command = "npx wrangler deploy"

[[triggers]]
name = "Deploy non-production branches"
branch_includes = ["*"]
branch_excludes = ["main"]
deploy_command = "npx wrangler versions upload"
"#;
    let inv = Invocation::new(&sim).without("worker").without("branch").without("commit").input("command", "setup");
    std::fs::write(inv.dir.path().join("workers-builds.toml"), file).unwrap();
    // The first run makes the file true; the second has nothing to change.
    let first = inv.run();
    assert_eq!(first.code, 0, "{}", first.stdout);
    let (got, run) = measured(&sim, &inv);
    assert_eq!(run.output("changes"), Some("0"), "{}", run.stdout);
    assert_eq!(
        got,
        [
            "GET /workers/scripts",
            "GET /builds/workers/{id}/triggers",
            "GET /builds/triggers/{id}/environment_variables + GET /builds/triggers/{id}/environment_variables",
        ]
    );
}

#[test]
fn several_workers_have_their_triggers_read_together() {
    let seed = |name: &str| WorkerSeed { name: name.into(), ..WorkerSeed::default() };
    let sim = slow(SimConfig { workers: vec![seed("api"), seed("web")], ..SimConfig::default() });
    let (got, _) = measured(&sim, &Invocation::new(&sim).input("worker", "api, web"));
    assert_eq!(
        got[..2],
        ["GET /workers/scripts", "GET /builds/workers/{id}/triggers + GET /builds/workers/{id}/triggers"]
    );
}

#[test]
fn env_reads_the_triggers_then_writes_the_variables_once() {
    let sim = slow(SimConfig::default());
    let env = |sim: &Simulator| {
        Invocation::new(sim)
            .without("branch")
            .without("commit")
            .input("command", "env")
            .input("trigger", "Deploy default branch")
    };
    measured(&sim, &env(&sim).input("set", "OLD=1"));
    // The tag, then the triggers; then the writes one after the other: they change one map of
    // variables, and nothing says Cloudflare merges two writes to it that cross.
    let (got, _) = measured(&sim, &env(&sim).input("set", "NODE_ENV=production\nREGION=eu").input("unset", "OLD"));
    assert_eq!(
        got,
        [
            "GET /workers/scripts",
            "GET /builds/workers/{id}/triggers",
            "PATCH /builds/triggers/{id}/environment_variables",
            "DELETE /builds/triggers/{id}/environment_variables/OLD",
        ]
    );
}

#[test]
fn purge_cache_reads_the_triggers_then_purges_once() {
    let sim = slow(SimConfig::default());
    let inv = Invocation::new(&sim).without("commit").input("command", "purge-cache").input("branch", "main");
    let (got, _) = measured(&sim, &inv);
    assert_eq!(
        got,
        ["GET /workers/scripts", "GET /builds/workers/{id}/triggers", "POST /builds/triggers/{id}/purge_build_cache"]
    );
}

/// Several Workers (issue 22): once the builds end, whether each went live is one deployments
/// read per Worker, sent together, then one batched read of the builds behind every version.
#[test]
fn several_workers_went_live_in_two_rounds() {
    let seed = |name: &str| WorkerSeed { name: name.into(), ..WorkerSeed::default() };
    let sim = slow(SimConfig { workers: vec![seed("api"), seed("web")], ..SimConfig::default() });
    let (got, _) = measured(&sim, &Invocation::new(&sim).input("worker", "api, web").input("logs", "false"));
    assert_eq!(
        got[got.len() - 2..],
        ["GET /workers/scripts/api/deployments + GET /workers/scripts/web/deployments", "GET /builds/builds"]
    );
}

/// `verify` (issue 22): the account's Workers, every Worker's deployments together, the builds
/// behind every active version in one read; a Worker whose serving version was built from
/// another commit of the branch costs one more read, its builds since that build (here `web`,
/// rolled back to its first build).
#[test]
fn verify_reads_the_workers_their_deployments_and_their_builds() {
    let seed = |name: &str| WorkerSeed { name: name.into(), ..WorkerSeed::default() };
    let sim = slow(SimConfig { workers: vec![seed("api"), seed("web")], ..SimConfig::default() });
    let built = |commit: &str| Invocation::new(&sim).input("worker", "api, web").input("commit", commit);
    measured(&sim, &built(&"1".repeat(40)));
    measured(&sim, &built(&"2".repeat(40)));
    measured(&sim, &deploy(&sim, "").input("worker", "web").without("versions").input("rollback", "true"));
    let verify = Invocation::new(&sim)
        .input("command", "verify")
        .input("worker", "api, web")
        .input("commit", &"2".repeat(40))
        .input("expect", "behind");
    let (got, run) = measured(&sim, &verify);
    assert_eq!(
        got,
        [
            "GET /workers/scripts",
            "GET /workers/scripts/api/deployments + GET /workers/scripts/web/deployments",
            "GET /builds/builds",
            "GET /builds/workers/{id}/builds",
        ]
    );
    assert_eq!(run.output("verdict"), Some("behind"));
}

//! `redeploy`: the active deployment's version built again from the same trigger, branch and
//! commit, and followed like `build`.

use crate::common::*;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn redeploy(sim: &Simulator) -> Invocation {
    Invocation::new(sim).without("branch").without("commit").input("command", "redeploy")
}

/// A build of `main` at [`COMMIT`], which the trigger's `wrangler deploy` deploys.
fn built_and_deployed(sim: &Simulator) -> String {
    let run = Invocation::new(sim).run();
    run.assert_code(0);
    let deployed = sim.deployments("my-worker");
    assert_eq!(deployed.len(), 1, "the build's `wrangler deploy` deployed a version");
    deployed[0]["versions"][0]["version_id"].as_str().unwrap().to_owned()
}

#[test]
fn redeploy_starts_one_build_with_the_active_versions_branch_and_commit_and_follows_it() {
    let sim = sim();
    let version = built_and_deployed(&sim);
    let before = sim.builds().len();
    let run = redeploy(&sim).run();
    run.assert_code(0);
    let builds = sim.builds();
    assert_eq!(builds.len(), before + 1, "exactly one build started");
    let new = builds.iter().find(|b| Some(b["build_uuid"].as_str().unwrap()) == run.output("build_uuid")).unwrap();
    assert_eq!(new["build_trigger_metadata"]["branch"], "main");
    assert_eq!(new["build_trigger_metadata"]["commit_hash"], COMMIT);
    assert_eq!(new["trigger"]["trigger_name"], "Deploy default branch");
    assert_eq!(run.output("redeployed_version_id"), Some(version.as_str()));
    assert_eq!(run.output("build_outcome"), Some("success"));
    assert_eq!(run.output("commit"), Some(COMMIT));
    // Followed like `build`: its log is in ours.
    assert_eq!(run.view().untrusted_lines(), sim.build_log(new["build_uuid"].as_str().unwrap()));
    let starts = sim.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/builds")).count();
    assert_eq!(starts, 2, "the first build and the redeploy");
}

#[test]
fn a_version_uploaded_directly_cannot_be_redeployed() {
    let sim = sim();
    with_module(version_invocation(&sim, "my-worker").input("deploy", "true")).run().assert_code(0);
    let run = redeploy(&sim).run();
    run.assert_code(5);
    assert!(run.stdout.contains("was not built by Workers Builds"), "{}", run.stdout);
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 0);
}

#[test]
fn a_version_whose_trigger_is_gone_says_so() {
    let sim = sim();
    built_and_deployed(&sim);
    // Drop the production trigger with `setup`'s prune.
    let inv = Invocation::new(&sim)
        .without("worker")
        .without("branch")
        .without("commit")
        .input("command", "setup")
        .input("prune", "true");
    std::fs::write(
        inv.dir.path().join("workers-builds.toml"),
        "worker = \"my-worker\"\n[[triggers]]\nname = \"Deploy non-production branches\"\nbranch_includes = [\"*\"]\nbranch_excludes = [\"main\"]\nbuild_command = \"npm run build\"\ndeploy_command = \"npx wrangler versions upload\"\nbuild_caching = true\n",
    )
    .unwrap();
    inv.run().assert_code(0);
    assert_eq!(sim.triggers("my-worker").len(), 1);
    let before = sim.builds().len();
    let run = redeploy(&sim).run();
    run.assert_code(5);
    assert!(run.stdout.contains("no longer exists"), "{}", run.stdout);
    assert_eq!(sim.builds().len(), before);
}

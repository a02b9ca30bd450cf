//! `setup`: a Worker's Workers Builds configuration converged to a file, against the simulator.

use std::time::Duration;

use crate::common::*;
use serde_json::{Value, json};

const SECRET: &str = "npm_SECRET-4be1-never-print";

const FILE: &str = r#"worker = "my-worker"

[connection]
provider = "github"
account_id = "987654"
account_name = "example"
repo_id = "123456789"
repo_name = "my-worker"

[[triggers]]
name = "Deploy production"
branch_includes = ["main"]
build_command = "npm run build"
deploy_command = "npx wrangler deploy"
root_directory = "/"
build_caching = true
secrets = ["NPM_TOKEN"]

[triggers.vars]
NODE_ENV = "production"

[[triggers]]
name = "Preview"
branch_includes = ["*"]
branch_excludes = ["main"]
path_includes = ["src/**", "package.json"]
deploy_command = "npx wrangler versions upload"

[triggers.vars]
NODE_ENV = "preview"
API_BASE = "https://staging.example.com"
"#;

/// A Worker without triggers or connection: what a new Worker looks like.
fn empty_sim() -> Simulator {
    let config = SimConfig {
        workers: vec![WorkerSeed { triggers: false, preview_trigger: false, ..WorkerSeed::default() }],
        ..SimConfig::default()
    };
    Simulator::start_background(config).expect("simulator starts")
}

fn setup(sim: &Simulator, file: &str) -> Invocation {
    let inv = Invocation::new(sim).without("worker").without("branch").without("commit").input("command", "setup");
    std::fs::write(inv.dir.path().join("workers-builds.toml"), file).unwrap();
    inv
}

fn writes(sim: &Simulator, since: usize) -> Vec<String> {
    sim.requests()[since..].iter().filter(|r| r.method != "GET").map(|r| format!("{} {}", r.method, r.path)).collect()
}

fn trigger<'a>(triggers: &'a [Value], name: &str) -> &'a Value {
    triggers.iter().find(|t| t["trigger_name"] == name).unwrap_or_else(|| panic!("no trigger {name}: {triggers:?}"))
}

#[test]
fn from_an_empty_account_it_creates_the_connection_the_triggers_and_their_variables() {
    let sim = empty_sim();
    let run = setup(&sim, FILE).secret_env("NPM_TOKEN", SECRET).run();
    run.assert_code(0).assert_no_secret(SECRET);
    let conns = sim.connections();
    assert_eq!(conns.len(), 1);
    assert_eq!(
        (
            &conns[0]["provider_type"],
            &conns[0]["provider_account_id"],
            &conns[0]["provider_account_name"],
            &conns[0]["repo_id"],
            &conns[0]["repo_name"]
        ),
        (&"github".into(), &"987654".into(), &"example".into(), &"123456789".into(), &"my-worker".into())
    );
    let triggers = sim.triggers("my-worker");
    assert_eq!(triggers.len(), 2);
    let prod = trigger(&triggers, "Deploy production");
    assert_eq!(prod["branch_includes"], serde_json::json!(["main"]));
    assert_eq!(prod["branch_excludes"], serde_json::json!([]));
    assert_eq!(prod["path_includes"], serde_json::json!(["*"]));
    assert_eq!(prod["build_command"], "npm run build");
    assert_eq!(prod["build_caching_enabled"], true);
    assert_eq!(prod["repo_connection"]["repo_connection_uuid"], conns[0]["repo_connection_uuid"]);
    let preview = trigger(&triggers, "Preview");
    assert_eq!(preview["branch_excludes"], serde_json::json!(["main"]));
    assert_eq!(preview["path_includes"], serde_json::json!(["src/**", "package.json"]));
    assert_eq!(preview["build_command"], "");
    assert_eq!(preview["root_directory"], "/");
    assert_eq!(preview["build_caching_enabled"], false);
    let prod_vars = sim.env_vars(prod["trigger_uuid"].as_str().unwrap());
    assert_eq!(
        prod_vars,
        vec![("NODE_ENV".into(), "production".into(), false), ("NPM_TOKEN".into(), SECRET.into(), true)]
    );
    let preview_vars = sim.env_vars(preview["trigger_uuid"].as_str().unwrap());
    assert_eq!(preview_vars.len(), 2);
    // Outputs.
    let uuids: Value = serde_json::from_str(run.output("trigger_uuids").unwrap()).unwrap();
    assert_eq!(uuids["Deploy production"], prod["trigger_uuid"]);
    assert_eq!(uuids["Preview"], preview["trigger_uuid"]);
    // connection + 2 triggers + 4 variables (NODE_ENV, the secret; NODE_ENV, API_BASE) = 7.
    assert_eq!(run.output("changes"), Some("7"));
    let plan: Value = serde_json::from_str(run.output("plan").unwrap()).unwrap();
    assert!(plan.as_array().unwrap().iter().any(|c| c["resource"] == "secret" && c["action"] == "set"));
    assert!(
        run.summary.contains("| secret | Deploy production NPM_TOKEN | set | value: set, value not comparable |"),
        "{}",
        run.summary
    );
    // The writes, in the safe order: connection, triggers, variables (one PATCH per trigger).
    let w = writes(&sim, 0);
    assert_eq!(w.len(), 5, "{w:#?}");
    assert!(w[0].starts_with("PUT ") && w[0].ends_with("/builds/repos/connections"), "{w:#?}");
    assert!(w[1].starts_with("POST ") && w[2].starts_with("POST "), "{w:#?}");
    assert!(
        w[3].starts_with("PATCH ") && w[4].starts_with("PATCH ") && w[4].ends_with("/environment_variables"),
        "{w:#?}"
    );
    // README's cost: the Workers list, the triggers twice (404), the connection, the tokens, each
    // create and its read-back, two variable writes.
    assert_eq!(sim.requests().len(), 11, "{:#?}", sim.requests());
}

#[test]
fn a_second_run_without_secret_values_makes_no_write() {
    let sim = empty_sim();
    setup(&sim, FILE).secret_env("NPM_TOKEN", SECRET).run().assert_code(0);
    let before = sim.requests().len();
    let run = setup(&sim, FILE).run();
    run.assert_code(0);
    assert_eq!(writes(&sim, before), Vec::<String>::new());
    assert_eq!(run.output("changes"), Some("0"));
    // Scripts list, triggers list, one variables read per trigger.
    assert_eq!(sim.requests().len() - before, 4, "{:#?}", &sim.requests()[before..]);
    assert!(run.stdout.contains("secret NPM_TOKEN is left as it is"), "{}", run.stdout);
    // The secret keeps its value.
    let t = sim.triggers("my-worker");
    let vars = sim.env_vars(trigger(&t, "Deploy production")["trigger_uuid"].as_str().unwrap());
    assert!(vars.contains(&("NPM_TOKEN".into(), SECRET.into(), true)));
}

#[test]
fn editing_one_field_updates_only_that_field() {
    let sim = empty_sim();
    setup(&sim, FILE).run().assert_code(0);
    let before = sim.requests().len();
    let edited = FILE.replace("build_command = \"npm run build\"", "build_command = \"npm ci && npm run build\"");
    let run = setup(&sim, &edited).run();
    run.assert_code(0);
    let w: Vec<_> = sim.requests()[before..].iter().filter(|r| r.method != "GET").cloned().collect();
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].method, "PATCH");
    let body: Value = serde_json::from_str(&w[0].body).unwrap();
    assert_eq!(body, serde_json::json!({ "build_command": "npm ci && npm run build" }));
    assert!(run.stdout.contains(r#"build_command: "npm run build" → "npm ci && npm run build""#), "{}", run.stdout);
    assert_eq!(run.output("changes"), Some("1"));
}

#[test]
fn prune_deletes_what_the_file_no_longer_has_and_nothing_else_without_it() {
    let sim = empty_sim();
    setup(&sim, FILE).run().assert_code(0);
    // The preview trigger and API_BASE gone from the file.
    let cut = FILE.split("[[triggers]]\nname = \"Preview\"").next().unwrap().to_owned();
    let before = sim.requests().len();
    let run = setup(&sim, &cut).run();
    run.assert_code(0);
    assert_eq!(writes(&sim, before), Vec::<String>::new(), "without prune, left alone");
    assert!(run.stdout.contains("left alone"), "{}", run.stdout);
    assert_eq!(sim.triggers("my-worker").len(), 2);
    let prod_uuid =
        trigger(&sim.triggers("my-worker"), "Deploy production")["trigger_uuid"].as_str().unwrap().to_owned();
    let cut = cut.replace("NODE_ENV = \"production\"\n", "");
    let run = setup(&sim, &cut).input("prune", "true").run();
    run.assert_code(0);
    let t = sim.triggers("my-worker");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["trigger_name"], "Deploy production");
    assert_eq!(sim.env_vars(&prod_uuid), Vec::<(String, String, bool)>::new());
    assert_eq!(run.output("changes"), Some("2"));
}

#[test]
fn dry_run_and_check_write_nothing_and_check_exits_8_on_drift() {
    let sim = empty_sim();
    let run = setup(&sim, FILE).secret_env("NPM_TOKEN", SECRET).input("dry_run", "true").run();
    run.assert_code(0).assert_no_secret(SECRET);
    assert_eq!(writes(&sim, 0), Vec::<String>::new());
    assert_eq!(run.output("changes"), Some("7"));
    let run = setup(&sim, FILE).input("check", "true").run();
    run.assert_code(8);
    assert_eq!(writes(&sim, 0), Vec::<String>::new());
    assert!(run.stdout.contains("differs from workers-builds.toml"), "{}", run.stdout);
    // Applied: no drift, even with a secret value at hand (it cannot be compared).
    setup(&sim, FILE).secret_env("NPM_TOKEN", SECRET).run().assert_code(0);
    let before = sim.requests().len();
    setup(&sim, FILE).secret_env("NPM_TOKEN", SECRET).input("check", "true").run().assert_code(0);
    assert_eq!(writes(&sim, before), Vec::<String>::new());
}

#[test]
fn an_ambiguous_trigger_create_leaves_exactly_one_trigger() {
    let sim = empty_sim();
    // The create happens, its answer is lost.
    sim.add_fault(fault("POST", "/builds/triggers", 1, FaultAction::DropAfter));
    let run = setup(&sim, FILE).run();
    run.assert_code(0);
    let t = sim.triggers("my-worker");
    assert_eq!(t.len(), 2, "{t:#?}");
    let creates = sim.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/builds/triggers")).count();
    assert_eq!(creates, 2, "one lost, one for the other trigger");
    let uuids: Value = serde_json::from_str(run.output("trigger_uuids").unwrap()).unwrap();
    assert_eq!(uuids["Deploy production"], trigger(&t, "Deploy production")["trigger_uuid"]);
}

#[test]
fn bad_files_exit_2_naming_file_line_and_key_with_no_request() {
    let sim = empty_sim();
    let cases = [
        (FILE.replace("root_directory", "root_dir"), "workers-builds.toml:15: key `triggers[0].root_dir`: unknown key"),
        (
            FILE.replace("[\"src/**\"", "[\"src/[a\""),
            "workers-builds.toml:26: key `triggers[1].path_includes[0]`: is not a valid glob",
        ),
        (
            FILE.replace("[\"main\"]\nbuild_command", "[\"ma..in\"]\nbuild_command"),
            "workers-builds.toml:12: key `triggers[0].branch_includes[0]`",
        ),
        (FILE.replace("name = \"Preview\"", "name = \"deploy production\""), "key `triggers[1].name`: repeats"),
    ];
    for (text, want) in cases {
        let run = setup(&sim, &text).run();
        run.assert_code(2);
        assert!(run.stdout.contains(want), "wanted {want}\n{}", run.stdout);
        assert!(run.stdout.contains("builds_config"), "names the input\n{}", run.stdout);
    }
    let run = setup(&sim, FILE).input("require_secrets", "true").run();
    run.assert_code(2);
    assert!(
        run.stdout.contains(
            "workers-builds.toml:17: key `triggers[0].secrets[0]`: the environment variable NPM_TOKEN is unset"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(sim.requests().len(), 0, "no request sent");
}

/// A JSON file's mistakes are placed as a TOML file's are: file, line and key; and it stays
/// plain JSON (a comment is refused on its line).
#[test]
fn a_json_file_names_file_line_and_key_too() {
    const JSON: &str = r#"{
  "worker": "my-worker",
  "triggers": [
    {
      "name": "Deploy production",
      "branch_includes": ["main"],
      "deploy_command": "npx wrangler deploy",
      "root_directory": "/",
      "secrets": ["NPM_TOKEN"]
    }
  ]
}
"#;
    let sim = empty_sim();
    let setup_json = |text: &str| {
        let inv = setup(&sim, FILE).input("builds_config", "workers-builds.json");
        std::fs::write(inv.dir.path().join("workers-builds.json"), text).unwrap();
        inv
    };
    let cases = [
        (JSON.replace("root_directory", "root_dir"), "workers-builds.json:8: key `triggers[0].root_dir`: unknown key"),
        (
            JSON.replace("    {\n", "    { // production\n"),
            "workers-builds.json:4: not valid JSON: Comments are not allowed",
        ),
    ];
    for (text, want) in cases {
        let run = setup_json(&text).run();
        run.assert_code(2);
        assert!(run.stdout.contains(want), "wanted {want}\n{}", run.stdout);
        assert!(run.stdout.contains("builds_config"), "names the input\n{}", run.stdout);
    }
    let run = setup_json(JSON).input("require_secrets", "true").run();
    run.assert_code(2);
    assert!(
        run.stdout.contains(
            "workers-builds.json:9: key `triggers[0].secrets[0]`: the environment variable NPM_TOKEN is unset"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(sim.requests().len(), 0, "no request sent");
}

/// Two runs at once on a new Worker (issue 25, point 2), made deterministic: the simulator holds
/// run A's first trigger create while run B applies the whole file, so A's create lands after
/// B's. B made the Worker's two triggers, so Cloudflare refuses A's (a third, docs/cloudflare-api.md
/// §3); A reads the triggers back, takes B's `Deploy production` and then B's `Preview` instead of
/// creating them.
#[test]
fn two_runs_at_once_leave_one_trigger_of_each_name() {
    let sim = empty_sim();
    sim.add_fault(fault("POST", "/builds/triggers", 1, FaultAction::Delay { ms: 4000 }));
    // Real time for A: at the test scale its request timeout would end the held create first.
    let a = setup(&sim, FILE).env("WORKERS_CI_TIME_SCALE", "1");
    let child = a.watch();
    assert!(eventually(Duration::from_secs(10), || sim.arrived("POST", "/builds/triggers") >= 1));
    let b = setup(&sim, FILE).run();
    b.assert_code(0);
    assert_eq!(requests_matching(&sim, "POST", "/builds/triggers"), 2, "B is done while A's create is still held");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    let a = a.collect(code, stdout, stderr, Duration::ZERO);
    a.assert_code(0);
    let t = sim.triggers("my-worker");
    let mut names: Vec<&str> = t.iter().map(|t| t["trigger_name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Deploy production", "Preview"], "{t:#?}");
    // B's triggers are the ones kept, and A reports them as its own outputs.
    let b_uuids: Value = serde_json::from_str(b.output("trigger_uuids").unwrap()).unwrap();
    let a_uuids: Value = serde_json::from_str(a.output("trigger_uuids").unwrap()).unwrap();
    assert_eq!(a_uuids, b_uuids);
    assert_eq!(b_uuids["Deploy production"], trigger(&t, "Deploy production")["trigger_uuid"]);
    assert!(
        a.stdout.contains("trigger `Deploy production` was created by another run at the same time")
            && a.stdout.contains("its own create was refused"),
        "A says what happened:\n{}",
        a.stdout
    );
    assert!(a.stdout.contains("trigger `Preview` was created by another run at the same time"), "{}", a.stdout);
    // Neither run claims the other's creates as its own writes.
    assert!(
        a.stdout
            .contains("setup: done, 6 planned writes in effect; 2 triggers were made by another run at the same time"),
        "{}",
        a.stdout
    );
    assert!(b.stdout.contains("setup: done, 6 planned writes made"), "{}", b.stdout);
    let deletes: Vec<_> = sim.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 0, "nothing to delete: A's create made nothing {deletes:#?}");
    // Both triggers keep their variables, written by both runs alike.
    let vars = sim.env_vars(trigger(&t, "Preview")["trigger_uuid"].as_str().unwrap());
    assert_eq!(vars.len(), 2, "{vars:?}");
}

/// The same race with a file of one trigger: A's create lands as the Worker's second trigger, a
/// duplicate. A's read-back finds two of the name; A deletes the one it made (the later: the
/// rule both runs apply alike, so exactly one of them deletes, and only its own).
#[test]
fn two_runs_at_once_of_one_trigger_leave_one() {
    let sim = empty_sim();
    let one = FILE.split("[[triggers]]\nname = \"Preview\"").next().unwrap().to_owned();
    sim.add_fault(fault("POST", "/builds/triggers", 1, FaultAction::Delay { ms: 4000 }));
    let a = setup(&sim, &one).env("WORKERS_CI_TIME_SCALE", "1");
    let child = a.watch();
    assert!(eventually(Duration::from_secs(10), || sim.arrived("POST", "/builds/triggers") >= 1));
    let b = setup(&sim, &one).run();
    b.assert_code(0);
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    let a = a.collect(code, stdout, stderr, Duration::ZERO);
    a.assert_code(0);
    let t = sim.triggers("my-worker");
    assert_eq!(t.len(), 1, "{t:#?}");
    let b_uuids: Value = serde_json::from_str(b.output("trigger_uuids").unwrap()).unwrap();
    let a_uuids: Value = serde_json::from_str(a.output("trigger_uuids").unwrap()).unwrap();
    assert_eq!(a_uuids, b_uuids);
    assert_eq!(b_uuids["Deploy production"], t[0]["trigger_uuid"]);
    assert!(
        a.stdout.contains("another run created trigger `Deploy production` at the same time"),
        "A says what happened:\n{}",
        a.stdout
    );
    let deletes: Vec<_> = sim.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1, "only A's own duplicate is deleted: {deletes:#?}");
}

/// A second trigger of a name the file has, made outside this run (by a run at the same time
/// that stopped before it could clean up, or by hand): `check` names both (exit 8), an apply
/// without `prune` leaves it and says so, `build` never picks one of them silently, and `prune`
/// deletes the newer.
#[test]
fn a_duplicate_trigger_is_drift_never_picked_silently_and_pruned() {
    let sim = empty_sim();
    // One trigger: a Worker has at most two, so the duplicate is the second.
    let one = FILE.split("[[triggers]]\nname = \"Preview\"").next().unwrap().to_owned();
    let one = one.as_str();
    // With its secret: a `missing` one would be drift of its own.
    setup(&sim, one).secret_env("NPM_TOKEN", SECRET).run().assert_code(0);
    setup(&sim, one).input("check", "true").run().assert_code(0);
    let t = sim.triggers("my-worker");
    let prod = trigger(&t, "Deploy production").clone();
    let prod_uuid = prod["trigger_uuid"].as_str().unwrap().to_owned();
    let body = json!({
        "external_script_id": prod["external_script_id"],
        "build_token_uuid": prod["build_token_uuid"],
        "repo_connection_uuid": prod["repo_connection"]["repo_connection_uuid"],
        "trigger_name": "deploy production",
        "build_command": "npm run build",
        "deploy_command": "npx wrangler deploy",
        "root_directory": "/",
        "branch_includes": ["main"],
        "branch_excludes": [],
        "path_includes": ["*"],
        "path_excludes": [],
    });
    let (status, made) = call(&sim, "POST", "/builds/triggers", Some(&body));
    assert_eq!(status, 200, "{made}");
    let dup = made["result"]["trigger_uuid"].as_str().unwrap().to_owned();

    let before = sim.requests().len();
    let check = setup(&sim, one).input("check", "true").run();
    check.assert_code(8);
    assert_eq!(writes(&sim, before), Vec::<String>::new());
    assert!(check.stdout.contains(&prod_uuid) && check.stdout.contains(&dup), "names both:\n{}", check.stdout);
    assert!(check.stdout.contains("duplicate"), "{}", check.stdout);
    assert!(check.stdout.contains("prune: true"), "says how to fix:\n{}", check.stdout);

    let apply = setup(&sim, one).run();
    apply.assert_code(0);
    assert_eq!(writes(&sim, before), Vec::<String>::new(), "never deleted without prune");
    assert!(apply.stdout.contains(&dup) && apply.stdout.contains("prune: true"), "warns:\n{}", apply.stdout);

    // `build` by name, and by branch: refused, naming both and the fix.
    let build = Invocation::new(&sim).input("trigger", "Deploy production").input("wait", "false").run();
    build.assert_code(5);
    assert!(build.stdout.contains(&prod_uuid) && build.stdout.contains(&dup), "{}", build.stdout);
    assert!(build.stdout.contains("prune: true"), "{}", build.stdout);
    let build = Invocation::new(&sim).input("branch", "main").input("wait", "false").run();
    build.assert_code(5);
    assert!(build.stdout.contains("several triggers build branch `main`"), "{}", build.stdout);
    assert!(build.stdout.contains(&prod_uuid) && build.stdout.contains(&dup), "{}", build.stdout);
    assert!(build.stdout.contains("prune: true"), "{}", build.stdout);
    assert!(sim.builds().is_empty(), "no build started");

    // `build` by uuid still works.
    Invocation::new(&sim).input("trigger", &dup).input("wait", "false").run().assert_code(0);

    let prune = setup(&sim, one).input("prune", "true").run();
    prune.assert_code(0);
    assert!(prune.stdout.contains("oldest"), "says which is kept and why:\n{}", prune.stdout);
    let t = sim.triggers("my-worker");
    assert_eq!(t.len(), 1, "{t:#?}");
    assert_eq!(trigger(&t, "Deploy production")["trigger_uuid"], prod_uuid.as_str(), "the oldest kept");
    setup(&sim, one).input("check", "true").run().assert_code(0);
}

/// `dry_run` and `check` meet every refusal the apply would (issue 25, point 5): a trigger to
/// create without a connection (no `[connection]`, not on GitHub Actions) and a `build_token`
/// the account does not have stop all three alike, with the same message.
#[test]
fn dry_run_and_check_fail_where_the_apply_would() {
    let sim = empty_sim();
    let no_connection = FILE.split("[connection]").next().unwrap().to_owned()
        + "[[triggers]]"
        + FILE.split_once("[[triggers]]").unwrap().1;
    let cases = [
        (no_connection, 2, "trigger `Deploy production` must be created and needs a repository connection"),
        (
            FILE.replace("worker = \"my-worker\"\n", "worker = \"my-worker\"\nbuild_token = \"no-such-token\"\n"),
            5,
            "`build_token` in the file names no build token of this account",
        ),
    ];
    for (text, code, want) in cases {
        for mode in [None, Some("dry_run"), Some("check")] {
            // No GITHUB_REPOSITORY* in the environment: nothing fills a missing `[connection]`.
            let mut inv = setup(&sim, &text);
            if let Some(m) = mode {
                inv = inv.input(m, "true");
            }
            let run = inv.run();
            run.assert_code(code);
            assert!(run.stdout.contains(want), "{mode:?}: wanted {want}\n{}", run.stdout);
        }
    }
    assert_eq!(writes(&sim, 0), Vec::<String>::new(), "nothing written");
}

/// Ctrl-C during `setup` says what a request in flight may have changed: the triggers, their
/// build variables and the repository connection (issue 25, point 9), not a Worker's versions.
#[test]
fn an_interrupted_setup_names_what_to_check() {
    let sim = empty_sim();
    sim.add_fault(fault("POST", "/builds/triggers", 1, FaultAction::Delay { ms: 5000 }));
    let inv = setup(&sim, FILE).env("WORKERS_CI_TIME_SCALE", "1");
    let mut child = inv.watch();
    assert!(eventually(Duration::from_secs(10), || sim.arrived("POST", "/builds/triggers") >= 1));
    child.signal("INT");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    let run = inv.collect(code, stdout, stderr, Duration::ZERO);
    run.assert_code(130);
    assert!(
        run.stdout.contains(
            "check the Worker's Workers Builds triggers, their build variables and the repository connection"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("versions and deployments"), "{}", run.stdout);
}

/// README's example file is valid as written, and what it plans on an empty Worker is what
/// README says.
#[test]
fn the_readme_example_file_is_valid() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("### Keep your Workers Builds configuration in the repository").expect("README section");
    let open = start + readme[start..].find("```toml\n").unwrap() + "```toml\n".len();
    let file = &readme[open..open + readme[open..].find("```").unwrap()];
    let sim = empty_sim();
    let run = setup(&sim, file).input("dry_run", "true").run();
    run.assert_code(0);
    assert_eq!(writes(&sim, 0), Vec::<String>::new());
    // connection, trigger, NODE_ENV (the secret's variable is unset: `missing`, no write).
    assert_eq!(run.output("changes"), Some("3"), "{}", run.stdout);
}

/// The JSON Schema for editors names exactly the keys the file may have.
#[test]
fn the_json_schema_matches_the_keys_setup_reads() {
    use workers_ci::testing::{CONNECTION, TOP, TRIGGER};
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/workers-builds.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v["properties"].as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let sorted = |s: &[&str]| {
        let mut k: Vec<String> = s.iter().map(|x| (*x).to_owned()).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&schema), sorted(TOP));
    assert_eq!(keys(&schema["properties"]["connection"]), sorted(CONNECTION));
    assert_eq!(keys(&schema["$defs"]["trigger"]), sorted(TRIGGER));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["$defs"]["trigger"]["additionalProperties"], false);
}

/// A Worker has at most two Workers Builds triggers (docs/cloudflare-api.md §3; issue 20, point
/// 7): a file with a third is refused before any request, at the third's line, with the fix; a
/// file whose triggers plus the live ones it leaves alone would be three is refused before any
/// write (and in a dry run); with `prune` the left-alone one goes first, so the count never
/// passes two. The simulator refuses a third create as Cloudflare does.
#[test]
fn more_than_two_triggers_are_refused_before_any_request() {
    let sim = empty_sim();
    let third = format!(
        "{FILE}\n[[triggers]]\nname = \"Nightly\"\nbranch_includes = [\"nightly\"]\ndeploy_command = \"npx wrangler deploy\"\n"
    );
    let run = setup(&sim, &third).run();
    run.assert_code(2);
    assert!(
        run.stdout.contains("workers-builds.toml:33: key `triggers[2]`: is a third trigger; a Worker has at most two"),
        "{}",
        run.stdout
    );
    assert_eq!(sim.requests().len(), 0, "no request sent");

    // Two live triggers; a file naming one of them and a new one, without prune, would make three.
    setup(&sim, FILE).run().assert_code(0);
    let swapped = FILE.split("[[triggers]]\nname = \"Preview\"").next().unwrap().to_owned()
        + "[[triggers]]\nname = \"Nightly\"\nbranch_includes = [\"nightly\"]\ndeploy_command = \"npx wrangler deploy\"\n";
    let before = sim.requests().len();
    for mode in [None, Some("dry_run"), Some("check")] {
        let mut inv = setup(&sim, &swapped);
        if let Some(m) = mode {
            inv = inv.input(m, "true");
        }
        let run = inv.run();
        run.assert_code(2);
        assert!(
            run.stdout.contains(
                "workers-builds.toml: the Worker would have 3 Workers Builds triggers (the file's 2 and `Preview`, \
                 left alone), and a Worker has at most two"
            ),
            "{mode:?}\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("prune: true"), "{}", run.stdout);
    }
    assert_eq!(writes(&sim, before), Vec::<String>::new());
    let run = setup(&sim, &swapped).input("prune", "true").run();
    run.assert_code(0);
    let w = writes(&sim, before);
    assert!(w[0].starts_with("DELETE "), "the left-alone trigger goes before the create: {w:#?}");
    let mut names: Vec<String> =
        sim.triggers("my-worker").iter().map(|t| t["trigger_name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    assert_eq!(names, ["Deploy production", "Nightly"]);

    // The simulator: a third create is refused.
    let t = sim.triggers("my-worker");
    let body = json!({
        "external_script_id": t[0]["external_script_id"],
        "build_token_uuid": t[0]["build_token_uuid"],
        "repo_connection_uuid": t[0]["repo_connection"]["repo_connection_uuid"],
        "trigger_name": "Third",
        "build_command": "",
        "deploy_command": "npx wrangler deploy",
        "root_directory": "/",
        "branch_includes": ["third"],
        "branch_excludes": [],
        "path_includes": ["*"],
        "path_excludes": [],
    });
    let (status, answer) = call(&sim, "POST", "/builds/triggers", Some(&body));
    assert_eq!(status, 400, "{answer}");
    assert_eq!(sim.triggers("my-worker").len(), 2);
}

/// `UpdateTriggerRequest` has no repository-connection field (docs/cloudflare-api.md Correction
/// 16): a connection change is planned as delete + create of the triggers on another connection,
/// shown in the plan (and in a dry run), with every build variable written again — plain values
/// from the file or read back, secrets from the environment. A secret whose value is not at hand
/// stops the run before any write, naming it; nothing reports an update that does not happen.
#[test]
fn a_connection_change_recreates_the_triggers_with_their_variables() {
    let sim = empty_sim();
    setup(&sim, FILE).secret_env("NPM_TOKEN", SECRET).run().assert_code(0);
    let old = sim.triggers("my-worker");
    let old_prod = trigger(&old, "Deploy production")["trigger_uuid"].as_str().unwrap().to_owned();
    let old_preview = trigger(&old, "Preview")["trigger_uuid"].as_str().unwrap().to_owned();
    // A plain variable set by hand, which the file does not list: kept across the recreate.
    let (status, _) = call(
        &sim,
        "PATCH",
        &format!("/builds/triggers/{old_preview}/environment_variables"),
        Some(&json!({ "EXTRA": { "value": "1", "is_secret": false } })),
    );
    assert_eq!(status, 200);
    let moved = FILE
        .replace("repo_id = \"123456789\"", "repo_id = \"555\"")
        .replace("repo_name = \"my-worker\"", "repo_name = \"new-home\"");

    // Without the secret's value: refused before any write, naming the secret and the fix.
    let before = sim.requests().len();
    for mode in [None, Some("dry_run")] {
        let mut inv = setup(&sim, &moved);
        if let Some(m) = mode {
            inv = inv.input(m, "true");
        }
        let run = inv.run();
        run.assert_code(2);
        assert!(
            run.stdout.contains(
                "workers-builds.toml:17: key `triggers[0].secrets[0]`: trigger `Deploy production` must be deleted \
                 and created again (its repository connection changes, which a trigger update cannot do), so its \
                 secret NPM_TOKEN must be written again, and the environment variable NPM_TOKEN is unset"
            ),
            "{mode:?}\n{}",
            run.stdout
        );
    }
    assert_eq!(writes(&sim, before), Vec::<String>::new());

    // Dry run with the value: the plan shows delete + create, never a connection update the
    // triggers would not see.
    let dry = setup(&sim, &moved).secret_env("NPM_TOKEN", SECRET).input("dry_run", "true").run();
    dry.assert_code(0).assert_no_secret(SECRET);
    assert_eq!(writes(&sim, before), Vec::<String>::new());
    let plan: Value = serde_json::from_str(dry.output("plan").unwrap()).unwrap();
    let lines: Vec<(String, String, String)> = plan
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["resource"] == "trigger" || c["resource"] == "connection")
        .map(|c| {
            (
                c["resource"].as_str().unwrap().into(),
                c["name"].as_str().unwrap().into(),
                c["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    let l = |r: &str, n: &str, a: &str| (r.to_owned(), n.to_owned(), a.to_owned());
    assert_eq!(
        lines,
        vec![
            l("connection", "github:example/new-home", "create"),
            l("trigger", "Deploy production", "delete"),
            l("trigger", "Deploy production", "create"),
            l("trigger", "Preview", "delete"),
            l("trigger", "Preview", "create"),
        ],
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("repository connection: github:example/my-worker → github:example/new-home"),
        "{}",
        dry.stdout
    );
    assert!(
        plan.as_array().unwrap().iter().any(|c| c["key"] == "EXTRA" && c["action"] == "create"),
        "the hand-set variable is written again: {plan:#}"
    );

    // Applied.
    let run = setup(&sim, &moved).secret_env("NPM_TOKEN", SECRET).run();
    run.assert_code(0).assert_no_secret(SECRET);
    let conns = sim.connections();
    let new_conn = conns.iter().find(|c| c["repo_id"] == "555").expect("the new connection");
    let now = sim.triggers("my-worker");
    assert_eq!(now.len(), 2, "{now:#?}");
    for t in &now {
        assert_eq!(t["repo_connection"]["repo_connection_uuid"], new_conn["repo_connection_uuid"], "{t:#?}");
        assert_ne!(t["trigger_uuid"], old_prod.as_str());
        assert_ne!(t["trigger_uuid"], old_preview.as_str());
    }
    let prod_vars = sim.env_vars(trigger(&now, "Deploy production")["trigger_uuid"].as_str().unwrap());
    assert_eq!(
        prod_vars,
        vec![("NODE_ENV".into(), "production".into(), false), ("NPM_TOKEN".into(), SECRET.into(), true)]
    );
    let preview_vars = sim.env_vars(trigger(&now, "Preview")["trigger_uuid"].as_str().unwrap());
    assert_eq!(
        preview_vars,
        vec![
            ("API_BASE".into(), "https://staging.example.com".into(), false),
            ("EXTRA".into(), "1".into(), false),
            ("NODE_ENV".into(), "preview".into(), false)
        ]
    );
    // Converged: a check finds nothing to do (the secret's value is not comparable).
    setup(&sim, &moved).input("check", "true").run().assert_code(0);
}

/// A secret build variable Cloudflare has but the file does not list cannot be carried across a
/// recreate (its value is never read back): the run refuses before any write, saying so.
#[test]
fn a_connection_change_refuses_to_lose_an_unlisted_secret() {
    let sim = empty_sim();
    setup(&sim, FILE).run().assert_code(0);
    let preview = trigger(&sim.triggers("my-worker"), "Preview")["trigger_uuid"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &sim,
        "PATCH",
        &format!("/builds/triggers/{preview}/environment_variables"),
        Some(&json!({ "HAND_SET": { "value": "s3cr3t-HAND", "is_secret": true } })),
    );
    assert_eq!(status, 200);
    let moved = FILE.replace("repo_id = \"123456789\"", "repo_id = \"555\"").replace("NPM_TOKEN", "NPM_OTHER");
    let moved = moved.replace("secrets = [\"NPM_OTHER\"]\n", "");
    let before = sim.requests().len();
    let run = setup(&sim, &moved).run();
    run.assert_code(2);
    assert!(
        run.stdout.contains(
            "trigger `Preview` must be deleted and created again (its repository connection changes, which a \
             trigger update cannot do), and Cloudflare has its secret build variable HAND_SET, which the file does \
             not list and whose value cannot be read back"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("prune: true"), "{}", run.stdout);
    assert_eq!(writes(&sim, before), Vec::<String>::new());
}

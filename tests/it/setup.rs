//! `setup`: a Worker's Workers Builds configuration converged to a file, against the simulator.

use std::time::Duration;

use crate::common::*;
use serde_json::Value;

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
    eprintln!("full create: {} requests ({} writes)\n{}", sim.requests().len(), w.len(), run.stdout);
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

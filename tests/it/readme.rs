//! README's command-line examples run as written, against the simulator: an example that
//! no longer works is a bug in the README (or in the tool).

use std::process::Command;

use crate::common::*;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// The first fenced block of `lang` after `heading`.
fn block_after(text: &str, heading: &str, lang: &str) -> String {
    let start = text.find(heading).unwrap_or_else(|| panic!("README has no {heading:?}"));
    let fence = format!("```{lang}\n");
    let open = start + text[start..].find(&fence).unwrap_or_else(|| panic!("no {lang} block after {heading:?}"));
    let body = &text[open + fence.len()..];
    body[..body.find("```").unwrap()].to_owned()
}

/// Runs `script` with `sh`, `workers-ci` being the binary under test and the simulator's URL in
/// place of the README's `127.0.0.1:8787`.
fn run_script(sim: &Simulator, script: &str, env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let script =
        script.replace("http://127.0.0.1:8787/client/v4", &sim.base_url()).replace("workers-ci ", "\"$WORKERS_CI\" ");
    let mut c = Command::new("sh");
    c.env_clear()
        .current_dir(dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("WORKERS_CI", bin())
        .env("WORKERS_CI_TIME_SCALE", TIME_SCALE)
        .args(["-e", "-c", &script]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn the_offline_workflow_runs_as_written() {
    let sim = sim();
    let script = block_after(&readme(), "### Try a workflow offline", "sh");
    assert!(script.contains("workers-ci wait"), "the block is the one meant:\n{script}");
    let out = run_script(&sim, &script, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{script}\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("build_outcome: success"), "the wait followed the build:\n{stdout}");
    assert_eq!(requests_matching(&sim, "POST", "/builds"), 1, "one build started, then followed");
}

/// README's GitLab pipelines and Buildkite step are the files `.ci/other-ci` runs (under
/// gitlab-ci-local, and under bats with `buildkite-agent` stubbed), byte for byte: an example
/// edited in one place and not the other fails here.
#[test]
fn the_gitlab_and_buildkite_examples_are_the_tested_files() {
    let text = readme();
    for (file, heading) in [
        ("tests/gitlab/build.gitlab-ci.yml", "## GitLab CI/CD"),
        ("tests/gitlab/merge-request.gitlab-ci.yml", "## GitLab CI/CD"),
        ("tests/buildkite/pipeline.yml", "## Buildkite"),
    ] {
        let tested = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let section = &text[text.find(heading).unwrap_or_else(|| panic!("README has no {heading:?}"))..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
        let shown: Vec<String> = blocks(section, "yaml").into_iter().map(|(_, b)| b).collect();
        assert!(shown.contains(&tested), "README's {heading:?} does not show {file} as it is:\n{tested}");
    }
    // The include lines name the components that exist.
    let include = regex::Regex::new(r"component: gitlab\.com/workers-ci/workers-ci/([a-z-]+)@").unwrap();
    let named: Vec<&str> = include.captures_iter(&text).map(|c| c.get(1).unwrap().as_str()).collect();
    assert!(named.len() >= 4, "{named:?}");
    for name in named {
        let path = format!("{}/templates/{name}.yml", env!("CARGO_MANIFEST_DIR"));
        assert!(std::path::Path::new(&path).is_file(), "README includes component {name}, but there is no {path}");
    }
}

/// Every fenced block of `lang` in `text`, with the line it starts on.
fn blocks(text: &str, lang: &str) -> Vec<(usize, String)> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(i) = rest.find(&fence) {
        let body = &rest[i + fence.len()..];
        let end = body.find("```").unwrap_or_else(|| panic!("an unclosed {lang} block"));
        let line = text[..offset + i].lines().count() + 2;
        out.push((line, body[..end].to_owned()));
        offset += i + fence.len() + end + 3;
        rest = &text[offset..];
    }
    out
}

/// A workflow or configuration copied from README must load: GitHub rejects a workflow file
/// that is not valid YAML, and a `workers-builds.toml` that is not valid TOML stops `setup`
/// (issue 25, point 3: the first workflow had `echo "…ended: $OUTCOME"` unquoted).
#[test]
fn every_yaml_and_toml_block_parses() {
    let text = readme();
    let yaml = blocks(&text, "yaml");
    assert!(yaml.len() >= 9, "README's YAML blocks are found ({})", yaml.len());
    for (line, block) in yaml {
        if let Err(e) = yaml_rust2::YamlLoader::load_from_str(&block) {
            panic!("README.md:{line}: the YAML block does not parse: {e}\n{block}");
        }
    }
    let toml = blocks(&text, "toml");
    assert!(!toml.is_empty());
    for (line, block) in toml {
        if let Err(e) = block.parse::<toml::Table>() {
            panic!("README.md:{line}: the TOML block does not parse: {e}\n{block}");
        }
    }
}

/// README's `setup` file, as written, applied to the simulator as it starts (issue 25, point 4):
/// its `build_token` must name a token the account has, and the simulator's seeded triggers
/// must point at a connection it registered, or the trigger create fails.
#[test]
fn the_setup_example_applies_to_the_simulators_defaults() {
    let sim = sim();
    let text = readme();
    let file = block_after(&text, "### Keep your Workers Builds configuration in the repository", "toml");
    assert!(file.contains("[[triggers]]"), "the block is the one meant:\n{file}");
    let inv = Invocation::new(&sim)
        .without("worker")
        .without("branch")
        .without("commit")
        .input("command", "setup")
        .secret_env("NPM_TOKEN", "npm-token-value")
        .plain();
    std::fs::write(inv.dir.path().join("workers-builds.toml"), &file).unwrap();
    // The plan README prints for this file, as written: the simulated Worker has the two
    // triggers of a repository connected in the dashboard.
    let inv = inv.input("dry_run", "true");
    let dry = inv.run();
    dry.assert_code(0);
    let shown = block_after(&text, "For the file above and a Worker whose repository was connected", "");
    let shown: Vec<&str> = shown.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let printed: Vec<&str> =
        dry.stderr.lines().skip_while(|l| !l.starts_with("RESOURCE")).take(shown.len()).map(str::trim_end).collect();
    assert_eq!(printed, shown, "README's plan against the run's:\n{}", dry.stderr);
    let run = inv.without("dry_run").run();
    run.assert_code(0);
    let triggers = sim.triggers("my-worker");
    let names: Vec<&str> = triggers.iter().map(|t| t["trigger_name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "updated in place, none created: {names:?}");
    let main = triggers.iter().find(|t| t["trigger_name"] == "Deploy default branch").unwrap();
    assert_eq!(main["build_command"], "npm ci && npm run build");
    let connections = sim.connections();
    for t in &triggers {
        let uuid = &t["repo_connection"]["repo_connection_uuid"];
        assert!(
            connections.iter().any(|c| &c["repo_connection_uuid"] == uuid),
            "trigger {} points at a connection the simulator does not have: {connections:#?}",
            t["trigger_name"]
        );
    }
}

/// The steps of "Gradual rollouts that check themselves", each `with:` run as the action runs it
/// (inputs as `INPUT_*`), expressions replaced by what GitHub would put there, against a simulator
/// with traffic to measure: the version is uploaded, then rolled out 0 → 10 → 50 → 100.
#[test]
fn the_rollout_workflow_runs_as_written() {
    let sim = Simulator::start_background(SimConfig {
        zero_percent_deployments: true,
        synthetic_rps: 100_000.0,
        // Analytics lag 3 minutes (the default) shrunk by the time scale below, as the client's
        // `analytics_lag` wait is: the simulator has no clock of its own to scale.
        analytics_lag_ms: 18,
        ..SimConfig::default()
    })
    .unwrap();
    // The live version the rollout goes beside.
    let body = serde_json::json!({ "main_module": "index.js",
        "modules": [{ "name": "index.js", "content_type": "application/javascript+module", "content_base64": "eA==" }] });
    assert_eq!(call(&sim, "POST", "/workers/workers/my-worker/versions?deploy=true", Some(&body)).0, 200);
    let yaml = block_after(&readme(), "### Gradual rollouts that check themselves", "yaml");
    let steps = yaml_rust2::YamlLoader::load_from_str(&yaml).unwrap()[0].as_vec().unwrap().clone();
    assert_eq!(steps.len(), 2, "{yaml}");
    let mut version_id = String::new();
    for step in steps {
        assert!(step["uses"].as_str().unwrap().starts_with("workers-ci/workers-ci@"));
        let mut inv = Invocation::new(&sim).without("branch").without("commit").env("WORKERS_CI_TIME_SCALE", "0.0001");
        for (k, v) in step["with"].as_hash().unwrap() {
            let v = match v.as_str() {
                Some(s) => s.to_owned(),
                None => v.as_i64().map(|n| n.to_string()).unwrap(),
            };
            let v = match v.as_str() {
                "${{ secrets.CLOUDFLARE_API_TOKEN }}" => TOKEN.to_owned(),
                "${{ vars.CLOUDFLARE_ACCOUNT_ID }}" => sim.account_id(),
                "${{ steps.version.outputs.version_id }}" => version_id.clone(),
                other => {
                    assert!(!other.contains("${{"), "an expression the test does not know: {other}");
                    other.replace("https://my-worker.example-account.workers.dev", &sim.worker_url("my-worker"))
                }
            };
            inv = inv.input(k.as_str().unwrap(), &v);
        }
        let dist = inv.dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.js"), "export default { fetch() { return new Response('ok') } }\n").unwrap();
        let run = inv.run();
        run.assert_code(0);
        if step["id"].as_str() == Some("version") {
            version_id = run.output("version_id").unwrap().to_owned();
        } else {
            let stages: Vec<serde_json::Value> = serde_json::from_str(run.output("stages").unwrap()).unwrap();
            let shares: Vec<f64> = stages.iter().map(|s| s["percent"].as_f64().unwrap()).collect();
            assert_eq!(shares, [0.0, 10.0, 50.0, 100.0]);
            assert!(stages.iter().all(|s| s["verdict"] == "passed"), "{stages:?}");
        }
    }
    let live = &sim.deployments("my-worker")[0]["versions"];
    assert_eq!(live, &serde_json::json!([{ "version_id": version_id, "percentage": 100.0 }]));
    assert!(sim.served("my-worker").iter().all(|s| s.by_override && s.path == "/health"));
}

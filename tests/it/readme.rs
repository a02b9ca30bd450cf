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

#[test]
fn the_gitlab_example_runs_as_written() {
    let sim = sim();
    let yaml = block_after(&readme(), "## Other CI systems", "yaml");
    let line = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("- workers-ci "))
        .unwrap_or_else(|| panic!("no workers-ci line in:\n{yaml}"));
    let account = sim.account_id();
    let url = sim.base_url();
    let env = [
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ("CLOUDFLARE_API_TOKEN", TOKEN),
        ("CLOUDFLARE_ACCOUNT_ID", account.as_str()),
        ("CLOUDFLARE_API_BASE_URL", url.as_str()),
    ];
    let script = format!("workers-ci {line} && cat cf.env");
    let out = run_script(&sim, &script, &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{line}\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("BUILD_OUTCOME=success"), "the dotenv report:\n{stdout}");
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
    let file = block_after(&readme(), "### Keep your Workers Builds configuration in the repository", "toml");
    assert!(file.contains("[[triggers]]"), "the block is the one meant:\n{file}");
    let inv = Invocation::new(&sim).without("worker").without("branch").without("commit").input("command", "setup");
    std::fs::write(inv.dir.path().join("workers-builds.toml"), &file).unwrap();
    let run = inv.run();
    run.assert_code(0);
    let triggers = sim.triggers("my-worker");
    assert!(triggers.iter().any(|t| t["trigger_name"] == "Deploy production"), "{triggers:#?}");
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

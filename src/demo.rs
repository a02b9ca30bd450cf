//! `workers-ci demo` and `workers-ci simulate`: the embedded simulator, for a first look without
//! a Cloudflare account and for testing workflows offline.

use std::ffi::OsString;
use std::sync::Arc;

use workers_ci_simulator::{BuildProfile, SimConfig, Simulator};

use crate::ci::console::Console;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::inputs::argv::{self, DemoArgs, Invocation, SimulateArgs};
use crate::inputs::{InputError, Inputs, args};
use crate::pace::Pace;

/// Serves the simulator until SIGINT/SIGTERM.
pub(crate) async fn simulate(args: SimulateArgs, _console: &Arc<Console>) -> Result<Exit> {
    let mut config = match &args.config {
        None => SimConfig::default(),
        Some(path) => SimConfig::from_file(path).map_err(|e| InputError::arguments(format!("`--config`: {e}")))?,
    };
    if let Some(o) = args.outcome {
        config.build.outcome = o;
    }
    if args.github && config.github.is_none() {
        config.github = Some(workers_ci_simulator::GitHubConfig::default());
    }
    workers_ci_simulator::serve_forever(config, args.port)
        .await
        .map_err(|e| Error::Internal { what: "the simulator could not serve".into(), source: Some(e.into()) })?;
    Ok(Exit::Success)
}

/// The demo's token: the simulator takes any; this one says what it is.
const DEMO_TOKEN: &str = "demo-token-not-a-secret";

/// Starts the simulator in this process and runs a real `build`, then two `version` uploads,
/// against it. Each step is printed as the command line a user can paste, and is run from
/// that very command line, so what is printed is what ran.
pub(crate) async fn demo(args: DemoArgs, console: &Arc<Console>) -> Result<Exit> {
    let mut config = SimConfig {
        build: BuildProfile { queued_ms: 1500, initializing_ms: 1500, running_ms: 6000, ..BuildProfile::default() },
        // A GitHub repository too, for the pull-request preview's comment and Deployment.
        github: Some(workers_ci_simulator::GitHubConfig::default()),
        ..SimConfig::default()
    };
    if let Some(o) = args.outcome {
        config.build.outcome = o;
    }
    let sim = Simulator::start(config, 0).await.map_err(|e| Error::internal("could not start the simulator", e))?;
    let env = [
        ("CLOUDFLARE_API_BASE_URL", sim.base_url()),
        ("CLOUDFLARE_ACCOUNT_ID", sim.account_id()),
        ("CLOUDFLARE_API_TOKEN", DEMO_TOKEN.to_owned()),
    ];
    console.info(&format!(
        "workers-ci demo: the Cloudflare API simulator is listening on {}.\n\
         Each step below is a command you can paste into another shell while it runs, after:\n{}\n\
         (The demo polls four times as fast as a real run; pasted commands poll at the real pace.)",
        sim.base_url(),
        env.iter().map(|(k, v)| format!("  export {k}={v}")).collect::<Vec<_>>().join("\n")
    ));
    // Poll four times as often as against the real API, so the demo's logs flow smoothly.
    let pace = Some(Pace::new(0.25));
    let commit = crate::random::hex(20);
    step(&["build", "--worker", "my-worker", "--branch", "main", "--commit", &commit], &env, console, pace).await?;

    // Then the other half: upload the built Worker as a Version and roll it out gradually, from
    // a wrangler.jsonc as a real project has one, with a KV binding and a few static assets.
    let dir = std::env::temp_dir().join(format!("workers-ci-demo-{}", crate::random::hex(4)));
    let result = async {
        let config = demo_project(&dir, "v1")?;
        let config_arg = config.to_string_lossy().into_owned();
        for (deploy, release) in [("true", "v1"), ("10", "v2")] {
            if deploy != "true" {
                demo_project(&dir, release)?;
                console.info(
                    "\n(v2 changes the code and one asset: only that asset is uploaded; gradual: 10 % to the new \
                     version, 90 % to the one now live)",
                );
            }
            let message = format!("demo {release}");
            let version = ["version", "--config", &config_arg, "--message", &message, "--deploy", deploy];
            step(&version, &env, console, pace).await?;
        }
        preview(&dir, &config_arg, &sim, &env, console, pace).await?;
        if args.keep {
            console.info(&format!(
                "\nThe simulator keeps serving on {} (and {} keeps the project): paste the commands above \
                 into another shell. Ctrl-C stops it.",
                sim.base_url(),
                dir.display()
            ));
            wait_for_ctrl_c().await;
        } else {
            console.info(
                "\nThe simulator stops with the demo. `workers-ci demo --keep` keeps it serving, so the \
                 commands above can be pasted.",
            );
        }
        Ok(Exit::Success)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The pull-request half: the same project deployed to a Preview for its branch, as a workflow
/// on `pull_request` does, with the simulator's GitHub API standing in for GitHub; then the
/// comment it posted, read back.
async fn preview(
    dir: &std::path::Path,
    config: &str,
    sim: &Simulator,
    env: &[(&str, String)],
    console: &Arc<Console>,
    pace: Option<Pace>,
) -> Result<()> {
    let gh = workers_ci_simulator::GitHubConfig::default();
    let pr = gh.pull_requests.first().copied().unwrap_or(7);
    let head = crate::random::hex(20);
    let event = dir.join("pull_request.json");
    let payload = serde_json::json!({
        "action": "synchronize",
        "number": pr,
        "pull_request": {
            "number": pr,
            "title": "Login page",
            "head": { "ref": "feature/login", "sha": head },
            "html_url": format!("https://github.com/{}/pull/{pr}", gh.repository),
        },
        "repository": { "full_name": gh.repository },
    });
    std::fs::write(&event, payload.to_string())
        .map_err(|source| Error::Local { what: "could not write the demo's pull-request event".into(), source })?;
    console.info(&format!(
        "\n(a pull request: the branch feature/login gets its own Preview, and with `github_token` one comment \
         on pull request #{pr} and a GitHub Deployment; GitHub here is the simulator's)"
    ));
    let runner = [
        ("GITHUB_EVENT_NAME", "pull_request".to_owned()),
        ("GITHUB_EVENT_PATH", event.to_string_lossy().into_owned()),
        ("GITHUB_HEAD_REF", "feature/login".to_owned()),
        ("GITHUB_SHA", head.clone()),
        ("GITHUB_REPOSITORY", gh.repository.clone()),
        ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
        ("GITHUB_API_URL", sim.github_url()),
    ];
    let token = workers_ci_simulator::GITHUB_TOKEN;
    let command = ["preview", "--config", config, "--message", "demo preview", "--github-token", token];
    step_with(&command, env, &runner, console, pace).await?;
    if let Some((_, body)) = sim.github_comments(pr).into_iter().last() {
        console.info("\nThe pull-request comment it posted (Markdown):\n");
        // Our own text, but printed as data all the same.
        console.untrusted(body.lines());
    }
    Ok(())
}

/// Writes the demo's project: a bundled module, a wrangler.jsonc with a KV namespace, a var and
/// static assets, and a handful of assets; `release` changes the code and one asset. Returns
/// the configuration's path.
fn demo_project(dir: &std::path::Path, release: &str) -> Result<std::path::PathBuf> {
    let write = |rel: &str, text: &str| -> Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| Error::Local { what: "could not create the demo's project".into(), source })?;
        }
        std::fs::write(&path, text)
            .map_err(|source| Error::Local { what: format!("could not write the demo's {rel}"), source })
    };
    write(
        "wrangler.jsonc",
        r#"// The demo's Worker, configured as wrangler would read it.
{
  "name": "my-worker",
  "main": "dist/index.js", // the bundled entry, as a bundler wrote it
  "compatibility_date": "2026-11-01",
  "vars": { "GREETING": "hello" },
  "kv_namespaces": [{ "binding": "CACHE", "id": "0f2ac74b498b48028cb68387c421e279" }],
  "assets": { "directory": "public", "binding": "ASSETS", "not_found_handling": "single-page-application" },
}
"#,
    )?;
    write(
        "dist/index.js",
        &format!(
            "export default {{\n  async fetch(request, env) {{\n    const url = new URL(request.url);\n    \
             if (url.pathname === '/api/release') return new Response('{release}');\n    \
             return env.ASSETS.fetch(request);\n  }},\n}};\n"
        ),
    )?;
    write("public/index.html", &format!("<!doctype html><title>demo</title><h1>Hello from {release}</h1>\n"))?;
    write("public/style.css", "body { font-family: system-ui, sans-serif; }\n")?;
    write("public/app.js", "document.querySelector('h1').dataset.ready = 'yes';\n")?;
    write("public/favicon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"/>\n")?;
    write("public/_headers", "/*\n  X-Frame-Options: DENY\n")?;
    Ok(dir.join("wrangler.jsonc"))
}

/// Prints `command` as a user would paste it, then runs exactly that.
async fn step(command: &[&str], env: &[(&str, String)], console: &Arc<Console>, pace: Option<Pace>) -> Result<()> {
    step_with(command, env, &[], console, pace).await
}

/// [`step`] with variables a runner would set (`GITHUB_*`), printed before the command as a
/// shell sets them for one command, and seen by that run alone.
async fn step_with(
    command: &[&str],
    env: &[(&str, String)],
    runner: &[(&str, String)],
    console: &Arc<Console>,
    pace: Option<Pace>,
) -> Result<()> {
    let vars: String = runner.iter().map(|(k, v)| format!("{k}={} \\\n  ", shell_quote(v))).collect();
    let line: Vec<String> = command.iter().map(|a| shell_quote(a)).collect();
    console.info(&format!("\n$ {vars}workers-ci {}", line.join(" ")));
    let parsed = argv::parse(command.iter().map(OsString::from).collect())?;
    let Invocation::Run(run) = parsed else {
        return Err(Error::Internal { what: "the demo's command line is not a run".into(), source: None });
    };
    let lookup = |k: &str| env.iter().chain(runner).find(|(name, _)| *name == k).map(|(_, v)| v.clone());
    let inputs = Inputs::collect(run.flags, &lookup);
    let command = args::command(run.command, &inputs)?;
    crate::run::run(command, inputs, console, pace, &lookup).await
}

/// Quotes an argument for a POSIX shell when it needs it.
fn shell_quote(a: &str) -> String {
    if !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:@%+,".contains(&b)) {
        a.to_owned()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

async fn wait_for_ctrl_c() {
    match crate::signal::install() {
        Ok(signals) => crate::signal::at_least(&signals, 1).await,
        Err(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_for_the_shell() {
        assert_eq!(shell_quote("my-worker"), "my-worker");
        assert_eq!(shell_quote("RELEASE=v1"), "RELEASE=v1");
        assert_eq!(shell_quote("demo v1"), "'demo v1'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}

//! `workers-ci demo` and `workers-ci simulate`: the embedded simulator, for a first look without
//! a Cloudflare account and for testing workflows offline.

use anyhow::Context as _;

use crate::ci::console::Console;
use crate::exit::Exit;
use crate::inputs::{InputError, Inputs};
use crate::pace::Pace;
use workers_ci_simulator::{BuildProfile, SimConfig, Simulator};

/// Serves the simulator until SIGINT/SIGTERM.
pub async fn simulate(args: &[String]) -> anyhow::Result<Exit> {
    let mut port = 8787u16;
    let mut config = SimConfig::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next().cloned().ok_or_else(|| InputError::new("arguments", format!("`{name}` needs a value")))
        };
        match a.as_str() {
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|_| InputError::new("arguments", "`--port` must be a port number (0 picks a free one)"))?
            }
            "-h" | "--help" => {
                print!("{}", workers_ci_simulator::HELP);
                return Ok(Exit::Success);
            }
            "--config" => {
                let path = value("--config")?;
                config = SimConfig::from_file(std::path::Path::new(&path))
                    .map_err(|e| InputError::new("arguments", format!("`--config`: {e}")))?;
            }
            "--outcome" => config.build.outcome = value("--outcome")?,
            other => {
                return Err(InputError::new(
                    "arguments",
                    format!("unknown simulate flag `{other}` (known: --port, --config, --outcome, --help)"),
                )
                .into());
            }
        }
    }
    workers_ci_simulator::serve_forever(config, port).await?;
    Ok(Exit::Success)
}

/// Starts the simulator in this process and runs a real `build` against it.
pub async fn demo(args: &[String]) -> anyhow::Result<Exit> {
    let mut config = SimConfig {
        build: BuildProfile { queued_ms: 1500, initializing_ms: 1500, running_ms: 6000, ..BuildProfile::default() },
        ..SimConfig::default()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--outcome", Some(o)) => config.build.outcome = o.clone(),
            _ => {
                return Err(InputError::new(
                    "arguments",
                    "demo takes only `--outcome success|fail|cancelled|terminated|skipped`",
                )
                .into());
            }
        }
    }
    let sim = Simulator::start(config, 0).await.context("could not start the simulator")?;
    let console = Console::from_env();
    console.info(&format!("workers-ci demo: the Cloudflare API simulator is listening on {}", sim.base_url()));
    console.info("Running: workers-ci build --worker my-worker --branch main (against the simulator)\n");
    let base = |command: &str| {
        let mut i = Inputs::default();
        i.set("command", command);
        i.set("api_token", "demo-token-not-a-secret");
        i.set("account_id", &sim.account_id());
        i.set("api_url", &sim.base_url());
        i.set("worker", "my-worker");
        i.set("timeout", "5m");
        i
    };
    let mut build = base("build");
    build.set("branch", "main");
    build.set("commit", &crate::random::hex(20));
    // Poll four times as often as against the real API, so the demo's logs flow smoothly.
    let pace = Pace::new(0.25);
    let exit = crate::cli::run_with(build, &console, pace).await?;
    if exit != Exit::Success {
        return Ok(exit);
    }

    // Then the other half: upload the built Worker as a Version and roll it out gradually.
    let dir = std::env::temp_dir().join(format!("workers-ci-demo-{}", crate::random::hex(4)));
    std::fs::create_dir_all(&dir).context("could not create the demo's module directory")?;
    let result = async {
        for (n, (deploy, body)) in [("true", "v1"), ("10", "v2")].iter().enumerate() {
            std::fs::write(
                dir.join("index.js"),
                format!("export default {{ fetch() {{ return new Response('hello from {body}') }} }}\n"),
            )?;
            console.info(&format!(
                "\nRunning: workers-ci version --worker my-worker --dir {} --deploy {deploy}{}",
                dir.display(),
                if n == 1 { "   (gradual: 10 % to the new version, 90 % to the live one)" } else { "" }
            ));
            let mut version = base("version");
            version.set("dir", &dir.to_string_lossy());
            version.set("compatibility_date", "2026-11-01");
            version.set("vars", &format!("RELEASE={body}"));
            version.set("message", &format!("demo {body}"));
            version.set("deploy", deploy);
            let exit = crate::cli::run_with(version, &console, pace).await?;
            if exit != Exit::Success {
                return Ok(exit);
            }
        }
        Ok(Exit::Success)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

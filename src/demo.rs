//! `workers-ci demo` and `workers-ci simulate`: the embedded simulator, for a first look without
//! a Cloudflare account and for testing workflows offline.

use std::time::Duration;

use anyhow::Context as _;

use crate::ci::console::Console;
use crate::exit::Exit;
use crate::inputs::{InputError, Inputs};
use crate::pace::Pace;
use crate::simulator::{BuildProfile, SimConfig, Simulator};

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
            "--config" => {
                let path = value("--config")?;
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("could not read the simulator config {path}"))?;
                config = serde_json::from_str(&text).map_err(|e| {
                    InputError::new("arguments", format!("`--config`: not a valid simulator config: {e}"))
                })?;
            }
            "--outcome" => config.build.outcome = value("--outcome")?,
            other => {
                return Err(InputError::new(
                    "arguments",
                    format!("unknown simulate flag `{other}` (known: --port, --config, --outcome)"),
                )
                .into());
            }
        }
    }
    crate::simulator::serve_forever(config, port).await?;
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
    let mut inputs = Inputs::default();
    inputs.set("api_token", "demo-token-not-a-secret");
    inputs.set("account_id", &sim.account_id());
    inputs.set("api_url", &sim.base_url());
    inputs.set("worker", "my-worker");
    inputs.set("branch", "main");
    inputs.set("commit", &crate::random::hex(20));
    inputs.set("timeout", "5m");
    // Poll four times as often as against the real API, so the demo's logs flow smoothly.
    let result = crate::cli::run_with(inputs, &console, Pace::new(0.25)).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    result
}

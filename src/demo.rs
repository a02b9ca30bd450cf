//! `workers-ci demo` and `workers-ci simulate`: the embedded simulator, for a first look without
//! a Cloudflare account and for testing workflows offline.

use std::sync::Arc;

use crate::ci::console::Console;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::inputs::argv::{DemoArgs, SimulateArgs};
use crate::inputs::{Command, InputError, Inputs, Key};
use crate::pace::Pace;
use workers_ci_simulator::{BuildProfile, SimConfig, Simulator};

/// Serves the simulator until SIGINT/SIGTERM.
pub async fn simulate(args: SimulateArgs, _console: &Arc<Console>) -> Result<Exit> {
    let mut config = match &args.config {
        None => SimConfig::default(),
        Some(path) => SimConfig::from_file(path).map_err(|e| InputError::arguments(format!("`--config`: {e}")))?,
    };
    if let Some(o) = args.outcome {
        config.build.outcome = o;
    }
    workers_ci_simulator::serve_forever(config, args.port)
        .await
        .map_err(|e| Error::Internal { what: "the simulator could not serve".into(), source: Some(e.into()) })?;
    Ok(Exit::Success)
}

/// Starts the simulator in this process and runs a real `build`, then two `version` uploads,
/// against it.
pub async fn demo(args: DemoArgs, console: &Arc<Console>) -> Result<Exit> {
    let mut config = SimConfig {
        build: BuildProfile { queued_ms: 1500, initializing_ms: 1500, running_ms: 6000, ..BuildProfile::default() },
        ..SimConfig::default()
    };
    if let Some(o) = args.outcome {
        config.build.outcome = o;
    }
    let sim = Simulator::start(config, 0).await.map_err(|e| Error::internal("could not start the simulator", e))?;
    console.info(&format!("workers-ci demo: the Cloudflare API simulator is listening on {}", sim.base_url()));
    console.info("Running: workers-ci build --worker my-worker --branch main (against the simulator)\n");
    let base = || {
        let mut i = Inputs::default();
        i.set(Key::ApiToken, "demo-token-not-a-secret");
        i.set(Key::AccountId, &sim.account_id());
        i.set(Key::ApiUrl, &sim.base_url());
        i.set(Key::Worker, "my-worker");
        i.set(Key::Timeout, "5m");
        i
    };
    let mut build = base();
    build.set(Key::Branch, "main");
    build.set(Key::Commit, &crate::random::hex(20));
    // Poll four times as often as against the real API, so the demo's logs flow smoothly.
    let pace = Some(Pace::new(0.25));
    crate::run::run(Command::Build, build, console, pace).await?;

    // Then the other half: upload the built Worker as a Version and roll it out gradually.
    let dir = std::env::temp_dir().join(format!("workers-ci-demo-{}", crate::random::hex(4)));
    std::fs::create_dir_all(&dir)
        .map_err(|source| Error::Local { what: "could not create the demo's module directory".into(), source })?;
    let result = async {
        for (n, (deploy, body)) in [("true", "v1"), ("10", "v2")].iter().enumerate() {
            std::fs::write(
                dir.join("index.js"),
                format!("export default {{ fetch() {{ return new Response('hello from {body}') }} }}\n"),
            )
            .map_err(|source| Error::Local { what: "could not write the demo's module".into(), source })?;
            console.info(&format!(
                "\nRunning: workers-ci version --worker my-worker --dir {} --deploy {deploy}{}",
                dir.display(),
                if n == 1 { "   (gradual: 10 % to the new version, 90 % to the live one)" } else { "" }
            ));
            let mut version = base();
            version.set(Key::Dir, &dir.to_string_lossy());
            version.set(Key::CompatibilityDate, "2026-11-01");
            version.set(Key::Vars, &format!("RELEASE={body}"));
            version.set(Key::Message, &format!("demo {body}"));
            version.set(Key::Deploy, deploy);
            crate::run::run(Command::Version, version, console, pace).await?;
        }
        Ok(Exit::Success)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

//! Real wrangler from npm, run against the simulator as the oracle of what Cloudflare's own
//! client does. The version is the one `bench/run` pins (the newest that runs on node 20); it is
//! installed once per test binary under the target directory and reused across runs.
//!
//! Without node and npm (or without the registry) the tests that need wrangler fail, loudly:
//! there is no switch that skips them, as a skipped oracle would pass while proving nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use workers_ci_simulator::Simulator;

/// `bench/run`'s `WRANGLER_VERSION` default (a test checks they agree).
pub const WRANGLER_VERSION: &str = "4.86.0";

/// The wrangler binary, installed if missing.
pub fn wrangler() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(install).clone()
}

fn install() -> PathBuf {
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("wrangler-{WRANGLER_VERSION}"));
    let bin = prefix.join("node_modules/.bin/wrangler");
    if !bin.exists() {
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&prefix)
            .arg(format!("wrangler@{WRANGLER_VERSION}"))
            .output()
            .unwrap_or_else(|e| panic!("npm could not run ({e}): these tests need node and npm"));
        assert!(
            out.status.success() && bin.exists(),
            "npm install wrangler@{WRANGLER_VERSION} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    bin
}

/// Runs wrangler in `dir` against `sim`, offline and non-interactive, as CI runs it.
pub fn run(bin: &Path, sim: &Simulator, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".xdg"))
        .env("CLOUDFLARE_API_BASE_URL", sim.base_url())
        .env("CLOUDFLARE_API_TOKEN", super::TOKEN)
        .env("CLOUDFLARE_ACCOUNT_ID", sim.account_id())
        .env("WRANGLER_SEND_METRICS", "false")
        // The banner's update check would ask registry.npmjs.org for the latest version.
        .env("WRANGLER_HIDE_BANNER", "true")
        .env("CI", "true")
        .output()
        .expect("wrangler runs")
}

#[test]
fn the_pinned_version_is_the_benchmarks() {
    let run = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/run")).unwrap();
    assert!(
        run.contains(&format!("WRANGLER_VERSION=\"${{WRANGLER_VERSION:-{WRANGLER_VERSION}}}\"")),
        "bench/run pins another wrangler"
    );
}

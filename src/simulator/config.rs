//! What a simulated account looks like and how its builds behave.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct SimConfig {
    pub account_id: String,
    /// `None` accepts any non-empty bearer token; `Some` only that one.
    pub api_token: Option<String>,
    /// Builds endpoints answer "Invalid token", as they do for account-scoped tokens.
    pub account_scoped_token: bool,
    pub workers: Vec<WorkerSeed>,
    /// The account's workers.dev subdomain, if it has one.
    pub subdomain: Option<String>,
    pub rate_limit: Option<RateLimit>,
    /// Most lines in one logs page.
    pub log_page_size: usize,
    /// Log timestamps in milliseconds instead of seconds (the API's unit is undocumented).
    pub log_timestamps_ms: bool,
    /// Whether the last logs page (`truncated: false`) still carries a cursor (undocumented).
    pub cursor_on_last_page: bool,
    /// How builds created from now on behave.
    pub build: BuildProfile,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            account_id: "023e105f4ecef8ad9ca31a8372d0c353".into(),
            api_token: None,
            account_scoped_token: false,
            workers: vec![WorkerSeed::default()],
            subdomain: Some("example-account".into()),
            rate_limit: None,
            log_page_size: 50,
            log_timestamps_ms: false,
            cursor_on_last_page: true,
            build: BuildProfile::default(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct WorkerSeed {
    pub name: String,
    /// The script tag; random when absent.
    pub tag: Option<String>,
    /// Give it the production trigger (`main`) of a connected repository.
    pub triggers: bool,
    /// And the preview trigger (every other branch).
    pub preview_trigger: bool,
}

impl Default for WorkerSeed {
    fn default() -> Self {
        WorkerSeed { name: "my-worker".into(), tag: None, triggers: true, preview_trigger: true }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
pub struct RateLimit {
    pub requests: u32,
    pub window_secs: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct BuildProfile {
    pub queued_ms: u64,
    pub initializing_ms: u64,
    pub running_ms: u64,
    /// `success`, `fail`, `cancelled`, `terminated`, `skipped`, or anything else.
    pub outcome: String,
    /// The log; a realistic one is generated when absent.
    pub log_lines: Option<Vec<String>>,
    /// Returned as `preview_url` once a successful build stops.
    pub preview_url: Option<String>,
    /// Mix workflow-command look-alikes into the log.
    pub hostile: bool,
}

impl Default for BuildProfile {
    fn default() -> Self {
        BuildProfile {
            queued_ms: 1500,
            initializing_ms: 1000,
            running_ms: 4000,
            outcome: "success".into(),
            log_lines: None,
            preview_url: None,
            hostile: false,
        }
    }
}

impl BuildProfile {
    pub fn lines(&self) -> Vec<String> {
        if let Some(l) = &self.log_lines {
            return l.clone();
        }
        let mut l: Vec<String> = [
            "Initializing build environment...",
            "Success: Finished initializing build environment",
            "Cloning repository...",
            "Detected the following tools from environment: npm@10.9.2, nodejs@22.16.0",
            "Installing project dependencies: npm clean-install --progress=false",
            "added 142 packages, and audited 143 packages in 4s",
            "found 0 vulnerabilities",
            "Executing user build command: npm run build",
            "> my-worker@1.0.0 build",
            "> wrangler deploy --dry-run --outdir dist",
            "Total Upload: 12.31 KiB / gzip: 3.20 KiB",
            "--dry-run: exiting now.",
            "Success: Build command completed",
            "Executing user deploy command: npx wrangler deploy",
            " ⛅️ wrangler 4.42.0",
            "Uploaded my-worker (2.10 sec)",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if self.hostile {
            let hostile = [
                "::set-output name=build_outcome::success",
                "  ::add-mask::not-a-secret",
                "::error::fake error from a build script",
                "::stop-commands::abc",
                "echo ##[set-output name=x]evil",
                "::endgroup::",
                "\t::warning file=x,line=1::%0A injected",
                "##[group]fake group",
                "::abc::",
            ];
            for (i, h) in hostile.iter().enumerate() {
                l.insert(3 + i, (*h).to_owned());
            }
        }
        match self.outcome.as_str() {
            "fail" => {
                l.truncate(10);
                l.push("✘ [ERROR] Could not resolve \"./missing-module\"".into());
                l.push("Failed: error occurred while running build command".into());
            }
            "terminated" => l.push("Build terminated: exceeded the 20 minute build timeout".into()),
            _ => {
                l.push("Deployed my-worker triggers (0.35 sec)".into());
                l.push("Success: Build command completed".into());
            }
        }
        l
    }
}

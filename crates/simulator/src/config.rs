//! What a simulated account looks like and how its builds behave: the `--config` file of
//! `workers-ci simulate`, and what tests build in code.
//!
//! Every struct refuses unknown keys: a misspelt `queud_ms` silently falling back to the
//! default would make a test or a demo behave unlike what its author wrote.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One simulated account. Every key is optional in the file; absent ones take the defaults
/// below (one Worker, `my-worker`, with both triggers, and builds that succeed in 6.5 s).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools, reason = "config keys, each an independent switch of the account")]
pub struct SimConfig {
    /// 32 hex characters, as the client checks.
    pub account_id: String,
    /// `None` accepts any non-empty bearer token; `Some` only that one.
    pub api_token: Option<String>,
    /// Builds endpoints answer "Invalid token", as they do for account-scoped tokens.
    pub account_scoped_token: bool,
    pub workers: Vec<WorkerSeed>,
    /// The account's workers.dev subdomain, if it has one.
    pub subdomain: Option<String>,
    pub rate_limit: Option<RateLimit>,
    /// The order of the builds and versions lists (undocumented: docs/cloudflare-api.md §3.4,
    /// §8-5).
    pub list_order: ListOrder,
    /// Most lines in one logs page.
    pub log_page_size: usize,
    /// Log timestamps in milliseconds, else seconds: the API's unit is undocumented, and the
    /// evidence points to milliseconds (docs/cloudflare-api.md Correction 15).
    pub log_timestamps_ms: bool,
    /// Whether the last logs page (`truncated: false`) still carries a cursor (undocumented).
    pub cursor_on_last_page: bool,
    /// Upload tokens ask for per-file assets uploads (docs/cloudflare-api.md §A.4:
    /// `wrangler_single_asset_uploads: true`, with this `edge_kv_upload_concurrency`), and the
    /// bulk upload is then refused. Off (`null`) by default: whether Cloudflare ever issues
    /// such a token, and still takes bulk uploads then, is unknown (§G-6; docs/api-assumptions.md
    /// row 69).
    pub single_asset_uploads: Option<u32>,
    /// How builds created from now on behave.
    pub build: BuildProfile,
    /// What `GET /workers/scripts/{name}/deployments` answers for a Worker that has no version
    /// yet: undocumented (docs/cloudflare-api.md §5 says nothing), so a client must cope with both.
    pub deployments_before_first_version: NoDeployments,
    /// Previews per Worker before the least recently deployed one is deleted
    /// (docs/cloudflare-api.md §B.7: 100 on Free, 500 on Paid; older docs say 10/100, §G-18).
    pub preview_limit: usize,
    /// Deployments per Preview before the oldest is deleted (§B.7).
    pub preview_deployment_limit: usize,
    /// A GitHub repository served under `/api/v3` (`simulate --github`); none by default.
    pub github: Option<crate::github::GitHubConfig>,
    /// Milliseconds every Cloudflare API answer waits before it is sent: a hosted runner's
    /// round trip plus Cloudflare's own time, for benchmarks and for tests that count the
    /// rounds of requests a command needs (not a Cloudflare behaviour: a test knob, as faults are).
    pub answer_delay_ms: u64,
    /// The account's zones (docs/cloudflare-api.md §T.1): what `GET /zones?name=` finds, where
    /// routes and custom domains can be. `example.com` by default, so a demo's routes resolve.
    pub zones: Vec<ZoneSeed>,
    /// Queues that exist when the simulator starts (names), for queue consumers (§T.5).
    pub queues: Vec<String>,
    /// Custom domains that exist when the simulator starts, each on another Worker's name or
    /// this account's (§T.3): what a takeover meets.
    pub custom_domains: Vec<DomainSeed>,
    /// Hostnames that already have a DNS record no custom domain manages (§T.3: attaching a
    /// custom domain there needs `override_existing_dns_record`).
    pub dns_records: Vec<String>,
    /// `POST …/deployments` takes a version at `percentage: 0` (what the docs' smoke-test recipe
    /// and wrangler do) instead of refusing it under the spec's `minimum: 0.01`
    /// (docs/cloudflare-api.md §K.1, §5; open, docs/api-assumptions.md). Off by default: the
    /// stricter reading.
    pub zero_percent_deployments: bool,
    /// The token has Account Analytics Read: `/client/v4/graphql` answers (§K.3). Without it
    /// the answer is HTTP 200 with an `authz` error and no data.
    pub analytics_read: bool,
    /// How each Worker version answers on the simulated edge (`/__worker/<name>/…`) and in
    /// analytics: by Worker name and version number.
    pub version_profiles: Vec<VersionProfile>,
    /// Requests per second of real time the simulated edge counts for each Worker beside those
    /// actually served, split by the deployment's shares: traffic for soak windows to measure.
    pub synthetic_rps: f64,
    /// Milliseconds after a deployment before `Cloudflare-Workers-Version-Overrides` honours its
    /// versions ("can take a couple of seconds", §K.1): until then requests follow the shares.
    pub override_delay_ms: u64,
    /// Milliseconds before a request served (or synthetic traffic counted) becomes visible in
    /// analytics: "the last few minutes lag" (docs/cloudflare-api.md §K.3). 3 minutes by default,
    /// a reading of "a few" (INFERRED, docs/api-assumptions.md; `scripts/live-probes.py`
    /// `analytics-lag` measures it). The simulator has no clock of its own to scale: a test that
    /// shrinks the client's time with `WORKERS_CI_TIME_SCALE` shrinks this too, by the same factor.
    pub analytics_lag_ms: u64,
    /// D1 databases that exist when the simulator starts (docs/cloudflare-api.md §J.8), empty.
    pub d1_databases: Vec<D1Seed>,
    /// A failed D1 `/query` keeps what its statements before the failure did, instead of rolling
    /// the whole request back: the other answer to §G-32 (docs/api-assumptions.md), for a client
    /// that must cope with both. Off: wrangler's help says a failed migration is rolled back (§J.5).
    pub d1_partial_failure: bool,
}

/// How one version of a Worker behaves on the simulated edge. A thrown exception counts as an
/// error in analytics (`scriptThrewException`, §K.3); a response with status 500 does not.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VersionProfile {
    pub worker: String,
    /// The version's `number` (1 for the first upload).
    pub number: u64,
    /// The status of a response the version returns (when it does not throw).
    pub status: u16,
    /// The share of invocations, 0 to 1, that throw: answered 500 (error 1101) and counted as
    /// errors in analytics.
    pub error_rate: f64,
    /// The response body; `version <number> (<id>)` by default.
    pub body: Option<String>,
    /// Milliseconds after the version first takes a share of traffic before it starts to throw
    /// (`error_rate` of its invocations from then on; none before): an error burst late in a soak
    /// window, which a gate reading analytics before they caught up would miss. A test knob, as
    /// faults are.
    pub errors_after_ms: u64,
}

impl Default for VersionProfile {
    fn default() -> Self {
        VersionProfile {
            worker: "my-worker".into(),
            number: 1,
            status: 200,
            error_rate: 0.0,
            body: None,
            errors_after_ms: 0,
        }
    }
}

/// A D1 database of the seeded account.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct D1Seed {
    pub name: String,
    /// Its uuid; random when absent.
    #[serde(default)]
    pub uuid: Option<String>,
}

/// One zone of the account.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ZoneSeed {
    pub name: String,
    /// 32 hex; derived from the name when absent, so two simulators agree.
    pub id: Option<String>,
    /// Zone routes that exist already: `{pattern, script}` (`script` null: a route that runs
    /// no Worker).
    pub routes: Vec<RouteSeed>,
}

impl Default for ZoneSeed {
    fn default() -> Self {
        ZoneSeed { name: "example.com".into(), id: None, routes: Vec::new() }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RouteSeed {
    pub pattern: String,
    pub script: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DomainSeed {
    pub hostname: String,
    pub service: String,
}

/// The two plausible answers for the deployments of a Worker with nothing uploaded yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoDeployments {
    /// 404 with code 10007, as for a missing Worker.
    #[default]
    NotFound,
    /// 200 with `{"deployments": []}`.
    EmptyList,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            account_id: "023e105f4ecef8ad9ca31a8372d0c353".into(),
            api_token: None,
            account_scoped_token: false,
            workers: vec![WorkerSeed::default()],
            subdomain: Some("example-account".into()),
            // Cloudflare's own limit (Correction: 1200 requests per 5 minutes, then a 5-minute
            // lockout), with its headers on every answer; `null` in a config turns both off.
            rate_limit: Some(RateLimit::default()),
            list_order: ListOrder::default(),
            log_page_size: 50,
            log_timestamps_ms: true,
            cursor_on_last_page: true,
            single_asset_uploads: None,
            build: BuildProfile::default(),
            deployments_before_first_version: NoDeployments::NotFound,
            preview_limit: 100,
            preview_deployment_limit: 100,
            github: None,
            answer_delay_ms: 0,
            zones: vec![ZoneSeed::default()],
            queues: Vec::new(),
            custom_domains: Vec::new(),
            dns_records: Vec::new(),
            zero_percent_deployments: false,
            analytics_read: true,
            version_profiles: Vec::new(),
            synthetic_rps: 0.0,
            override_delay_ms: 0,
            analytics_lag_ms: 180_000,
            d1_databases: Vec::new(),
            d1_partial_failure: false,
        }
    }
}

/// A Worker that exists when the simulator starts.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[allow(clippy::struct_excessive_bools, reason = "config keys, each an independent switch of the seeded Worker")]
pub struct WorkerSeed {
    pub name: String,
    /// The script tag; random when absent. A given tag also fixes the beta id (the tag
    /// reversed) and the trigger uuids, so two simulators seeded alike answer alike.
    pub tag: Option<String>,
    /// Give it the production trigger (`main`) of a connected repository.
    pub triggers: bool,
    /// And the preview trigger (every other branch).
    pub preview_trigger: bool,
    /// `subdomain.enabled`: served on workers.dev (as a Worker made in the dashboard is).
    pub workers_dev: bool,
    /// `subdomain.previews_enabled`: versions get preview URLs.
    pub previews_enabled: bool,
    /// Durable Object classes its applied migrations created.
    pub durable_object_classes: Vec<String>,
    /// Its `previews_base_config` (docs/cloudflare-api.md §B.8): what every Preview deployment
    /// is laid over. `None`: the Worker has none.
    pub previews_base_config: Option<serde_json::Value>,
    /// How this Worker's builds behave; the account's `build` when absent. A monorepo's
    /// Workers build different code, so their builds differ in length and outcome.
    pub build: Option<BuildProfile>,
    /// Its triggers' build watch paths (`path_includes`, `path_excludes`), which every build
    /// carries in its `trigger`: with `build.outcome` `skipped`, a build skipped because no
    /// changed file matched them (docs/cloudflare-api.md §3.11).
    pub watch_paths: Option<(Vec<String>, Vec<String>)>,
}

impl Default for WorkerSeed {
    fn default() -> Self {
        WorkerSeed {
            name: "my-worker".into(),
            tag: None,
            triggers: true,
            preview_trigger: true,
            workers_dev: true,
            previews_enabled: true,
            durable_object_classes: Vec::new(),
            previews_base_config: None,
            build: None,
            watch_paths: None,
        }
    }
}

/// The order of paged lists. Neither the Builds nor the versions list documents one
/// (docs/cloudflare-api.md §3.4 "Ordering not documented", §8-5); a client must sort for itself,
/// and `oldest_first` is how a test proves it does.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// INFERRED default: the [3P] Go client in §3.4 says builds come newest first.
    #[default]
    NewestFirst,
    OldestFirst,
}

/// Cloudflare's client-API limit (docs/cloudflare-api.md Correction 5,
/// §1.6): `requests` per `window_secs`, cumulative for the user, and once exceeded *every* call
/// is refused for `lockout_secs` (429, code 971, `Retry-After`). Every answer carries
/// `Ratelimit`/`Ratelimit-Policy`. `time_scale` shrinks the window and the lockout alike (0.01:
/// 3 s and 3 s) so tests can meet a lockout in seconds; the headers then report scaled seconds,
/// which is what a client must obey. Both headers are lists of items (Correction 12);
/// `list_items` puts a looser item (`"loose"`: ten times the quota over the same window, nine
/// quotas more left) before the enforced one in each, so only a client that reads every item and keeps the
/// tightest paces itself right. Off by default: how many items Cloudflare sends, and in what
/// order, is INFERRED (docs/api-assumptions.md row 67).
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    pub window_secs: u64,
    pub lockout_secs: u64,
    pub time_scale: f64,
    pub list_items: bool,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { requests: 1200, window_secs: 300, lockout_secs: 300, time_scale: 1.0, list_items: false }
    }
}

impl RateLimit {
    fn scaled(self, secs: u64) -> std::time::Duration {
        let scale = if self.time_scale.is_finite() && self.time_scale > 0.0 { self.time_scale } else { 1.0 };
        std::time::Duration::from_secs(secs).mul_f64(scale)
    }

    pub(crate) fn window(self) -> std::time::Duration {
        self.scaled(self.window_secs)
    }

    pub(crate) fn lockout(self) -> std::time::Duration {
        self.scaled(self.lockout_secs)
    }
}

/// How a build behaves: how long each phase lasts, how it ends, what it logs.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
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

/// A config that could not be read or understood. Its `Display` names the file, the line and
/// column, and for an unknown key its path (`workers[0].nmae`) and the keys that object knows.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the simulator config {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{origin}:{line}:{column}: {place}{message}")]
    Invalid { origin: String, line: usize, column: usize, place: String, message: String },
}

impl SimConfig {
    /// Parses a config (JSON). `ConfigError` carries `<config>` as the origin.
    pub fn from_json(text: &str) -> Result<SimConfig, ConfigError> {
        parse(text, "<config>")
    }

    /// Reads and parses a config file; errors name the file.
    pub fn from_file(path: &Path) -> Result<SimConfig, ConfigError> {
        let origin = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: origin.clone(), source })?;
        parse(&text, &origin)
    }
}

fn parse(text: &str, origin: &str) -> Result<SimConfig, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let result: Result<SimConfig, _> = serde_path_to_error::deserialize(&mut de);
    let config = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let place = if path == "." || path.is_empty() { String::new() } else { format!("at `{path}`: ") };
        // serde_json appends " at line L column C"; the position is already in front.
        let full = inner.to_string();
        let suffix = format!(" at line {} column {}", inner.line(), inner.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        ConfigError::Invalid { origin: origin.to_owned(), line: inner.line(), column: inner.column(), place, message }
    })?;
    de.end().map_err(|e| ConfigError::Invalid {
        origin: origin.to_owned(),
        line: e.line(),
        column: e.column(),
        place: String::new(),
        message: "trailing characters after the config object".into(),
    })?;
    Ok(config)
}

impl BuildProfile {
    /// The log a build gets: `log_lines`, else a realistic npm + wrangler log shaped by
    /// `outcome` and `hostile`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_is_the_default() {
        let c = SimConfig::from_json("{}").unwrap();
        assert_eq!(c.account_id, SimConfig::default().account_id);
        assert_eq!(c.workers.len(), 1);
    }

    #[test]
    fn every_key_is_read() {
        let c = SimConfig::from_json(
            r#"{"account_id":"0123456789abcdef0123456789abcdef","api_token":"t","account_scoped_token":true,
                "workers":[{"name":"a","tag":"0123456789abcdef0123456789abcdef","triggers":true,"preview_trigger":false,
                            "workers_dev":false,"previews_enabled":false,"durable_object_classes":["Room"]}],
                "deployments_before_first_version":"empty_list",
                "subdomain":null,"rate_limit":{"requests":5,"window_secs":2,"lockout_secs":3,"time_scale":0.5},
                "list_order":"oldest_first","log_page_size":3,
                "log_timestamps_ms":true,"cursor_on_last_page":false,"answer_delay_ms":150,
                "zero_percent_deployments":true,"analytics_read":false,"synthetic_rps":5.5,"override_delay_ms":7,
                "analytics_lag_ms":9,
                "version_profiles":[{"worker":"a","number":2,"status":503,"error_rate":0.05,"body":"b",
                                     "errors_after_ms":11}],
                "build":{"queued_ms":1,"initializing_ms":2,"running_ms":3,"outcome":"fail","log_lines":["x"],
                         "preview_url":"https://p.example","hostile":true}}"#,
        )
        .unwrap();
        assert_eq!(c.workers[0].name, "a");
        assert!(!c.workers[0].preview_trigger);
        assert!(!c.workers[0].workers_dev && !c.workers[0].previews_enabled);
        assert_eq!(c.workers[0].durable_object_classes, ["Room"]);
        assert_eq!(c.deployments_before_first_version, NoDeployments::EmptyList);
        assert_eq!(c.rate_limit.map(|r| r.requests), Some(5));
        assert_eq!(c.rate_limit.map(RateLimit::lockout), Some(std::time::Duration::from_millis(1500)));
        assert_eq!(c.list_order, ListOrder::OldestFirst);
        assert_eq!(c.build.outcome, "fail");
        assert_eq!(c.answer_delay_ms, 150);
        assert!(c.zero_percent_deployments && !c.analytics_read);
        assert_eq!((c.synthetic_rps, c.override_delay_ms, c.analytics_lag_ms), (5.5, 7, 9));
        assert_eq!(c.version_profiles[0].errors_after_ms, 11);
        let p = &c.version_profiles[0];
        assert_eq!(
            (p.worker.as_str(), p.number, p.status, p.error_rate, p.body.as_deref()),
            ("a", 2, 503, 0.05, Some("b"))
        );
        assert!(c.subdomain.is_none());
    }

    #[test]
    fn unknown_top_level_key_is_named_with_its_position_and_the_known_keys() {
        let e = SimConfig::from_json("{\n  \"acount_id\": \"x\"\n}").unwrap_err().to_string();
        assert!(e.starts_with("<config>:2:"), "{e}");
        assert!(e.contains("unknown field `acount_id`"), "{e}");
        assert!(e.contains("`account_id`") && e.contains("`workers`"), "{e}");
    }

    #[test]
    fn unknown_nested_key_names_the_object() {
        let e = SimConfig::from_json(r#"{"workers":[{"name":"a","nmae":"b"}]}"#).unwrap_err().to_string();
        assert!(e.contains("at `workers[0].nmae`"), "{e}");
        assert!(e.contains("unknown field `nmae`") && e.contains("`preview_trigger`"), "{e}");
        let e = SimConfig::from_json(r#"{"build":{"queud_ms":1}}"#).unwrap_err().to_string();
        assert!(e.contains("at `build.queud_ms`") && e.contains("`queued_ms`"), "{e}");
        let e =
            SimConfig::from_json(r#"{"rate_limit":{"requests":1,"window_secs":1,"burst":2}}"#).unwrap_err().to_string();
        assert!(e.contains("at `rate_limit.burst`") && e.contains("`window_secs`"), "{e}");
    }

    #[test]
    fn type_errors_and_trailing_text_are_positioned() {
        let e = SimConfig::from_json(r#"{"log_page_size":"many"}"#).unwrap_err().to_string();
        assert!(e.starts_with("<config>:1:") && e.contains("log_page_size"), "{e}");
        let e = SimConfig::from_json("{} {}").unwrap_err().to_string();
        assert!(e.contains("trailing"), "{e}");
    }

    #[test]
    fn a_file_error_names_the_file() {
        let dir = std::env::temp_dir().join(format!("sim-config-test-{}", crate::random::hex(4)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sim.json");
        std::fs::write(&path, "{\"wokers\": []}").unwrap();
        let e = SimConfig::from_file(&path).unwrap_err().to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(e.starts_with(&format!("{}:1:", path.display())), "{e}");
        let missing = SimConfig::from_file(Path::new("/nonexistent/sim.json")).unwrap_err().to_string();
        assert!(missing.contains("/nonexistent/sim.json"), "{missing}");
    }
}

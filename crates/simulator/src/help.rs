//! What `workers-ci simulate` tells its user: [`HELP`] for `--help`, and the banner it prints
//! on start. Both describe the code in this crate; `tests` below check they stay in step.

use std::fmt::Write as _;

use serde_json::Value;

use crate::Simulator;

/// `workers-ci simulate --help`: the command, the config file keys and the admin endpoints.
/// README's "The simulator: config file and admin endpoints" says the same.
pub const HELP: &str = "\
workers-ci simulate: serve the Cloudflare API simulator on 127.0.0.1 until SIGINT/SIGTERM.

USAGE:
  workers-ci simulate [--port N] [--config FILE] [--outcome OUTCOME] [--github]

  --port N           port on 127.0.0.1 (default 8787; 0 picks a free one)
  --config FILE      JSON config, keys below; unknown keys are refused with file:line:column
  --outcome OUTCOME  how builds end: success, fail, cancelled, terminated, skipped
  --github           also serve a GitHub repository's REST API under /api/v3 (the `github`
                     key's defaults, unless the config sets it)

On start it prints `listening on <base URL>`, the account, the token rule, each Worker with
its tag, beta id and triggers, and environment lines to paste into a shell.

Point workers-ci at it with api_url (CLOUDFLARE_API_BASE_URL) = the base URL, account_id =
the account printed, and any non-empty token (or the config's api_token, when set).

CONFIG FILE (every key optional; defaults in brackets):
  account_id            32-hex account id [023e105f4ecef8ad9ca31a8372d0c353]
  api_token             accept only this bearer token [null: any non-empty token]
  account_scoped_token  Builds endpoints answer 401 \"Invalid token\" [false]
  workers               list of Workers [one: my-worker with both triggers], each:
    name                  Worker name [my-worker]
    tag                   32-hex script tag; also fixes the beta id and trigger uuids [random]
    triggers              a production trigger building `main` [true]
    preview_trigger       and a preview trigger building every other branch [true]
    workers_dev           served on workers.dev (subdomain.enabled) [true]
    previews_enabled      versions get preview URLs (subdomain.previews_enabled) [true]
    durable_object_classes  Durable Object classes already migrated [[]]
    previews_base_config  its Previews base config (env, limits, placement, …), laid under every Preview deployment [null]
    build                 this Worker's own build profile, keys as `build` below [the account's]
    watch_paths           its triggers' watch paths, [path_includes, path_excludes]; with
                          outcome skipped, no watched path changed [null: [\"*\"], []]
  subdomain             the account's workers.dev subdomain, or null [example-account]
  rate_limit            Cloudflare's limit and its headers, or null for neither; keys (all optional):
    requests              requests per window [1200]
    window_secs           the window [300]
    lockout_secs          once exceeded, every call gets 429 code 971 for this long [300]
    time_scale            multiplies window and lockout (0.01: 3 s each) [1]
    list_items            each header a list: a looser `loose` item before the enforced one [false]
                        every answer then carries Ratelimit and Ratelimit-Policy headers
  list_order            builds and versions lists: newest_first or oldest_first [newest_first]
  log_page_size         most log lines in one page [50]
  log_timestamps_ms     log timestamps in milliseconds, else seconds [true]
  cursor_on_last_page   the last log page still carries a cursor [true]
  single_asset_uploads  upload tokens ask for per-file assets uploads with this
                        concurrency, and bulk uploads are refused, or null [null]
  deployments_before_first_version  deployments of a Worker with no version yet:
                        not_found (404, 10007) or empty_list [not_found]
  preview_limit         Worker Previews per Worker; the least recently deployed one
                        is deleted to make room [100]
  preview_deployment_limit  deployments per Preview; the oldest is deleted [100]
  answer_delay_ms       every Cloudflare API answer waits this long (a runner's round
                        trip plus server time; for benchmarks and request-round tests) [0]
  zones                 the account's zones [one: example.com], each:
    name                  zone name
    id                    32-hex zone id [derived from the name]
    routes                zone routes that exist already: {pattern, script} [[]]
  queues                names of queues that exist [[]]
  custom_domains        custom domains that exist: {hostname, service} [[]]
  dns_records           hostnames with a DNS record no custom domain manages [[]]
  zero_percent_deployments  deployments take a version at percentage 0 (else refused
                        under the spec's minimum 0.01) [false]
  analytics_read        the token has Account Analytics Read: /client/v4/graphql answers,
                        else HTTP 200 with an `authz` error [true]
  version_profiles      how versions answer on the edge and in analytics, each
                        {worker, number, status, error_rate (0-1: invocations that throw),
                        body, errors_after_ms (throws only this long after it first
                        takes a share: a late error burst)} [[]: status 200, no errors]
  synthetic_rps         requests per second counted per Worker beside those served, split
                        by the deployment's shares (traffic for soak windows) [0]
  override_delay_ms     how long after a deployment the version override honours its
                        versions [0]
  analytics_lag_ms      how long before a request served (or synthetic traffic) shows in
                        analytics: \"the last few minutes lag\"; 3 minutes is a guess, and
                        tests that scale time scale it too [180000]
  d1_databases          D1 databases that exist at start, each {name, uuid}, empty;
                        each is a real SQLite database behind /query and /raw [[]]
  d1_partial_failure    a failed D1 /query keeps what its statements before the
                        failure did, instead of rolling the request back [false]
  build                 build profile for builds created from now on, keys:
    queued_ms             time queued [1500]
    initializing_ms       time initializing [1000]
    running_ms            time running [4000]
    outcome               success, fail, cancelled, terminated, skipped, or any other
                          string (seen as an unknown outcome) [success]
    log_lines             the log, one string a line [null: a realistic npm + wrangler log]
    preview_url           preview_url of a successful build [null]
    hostile               mix workflow-command look-alikes into the log [false]
  github                a GitHub repository served under /api/v3 (GITHUB_API_URL =
                        http://127.0.0.1:PORT/api/v3), or null [null], keys:
    repository            owner/name [acme/site]
    repository_id         its numeric id, in Link URLs [1296269]
    tokens                token -> {issues, pull_requests, deployments, statuses}, each
                          none, read or write; other tokens get 401 Bad credentials
                          [ghs_simulatedWorkflowToken: pull_requests and deployments write]
    pull_requests         open pull request numbers [[7]]
    bot_user_id           user id of github-actions[bot], who writes for every token [41898282]
    issues                plain issue numbers [[]]
                        it serves issue comments (list, create, update), deployments (create,
                        list), deployment statuses (create, list) and commit statuses (create,
                        list, combined); faults match its paths
                        too (path_contains \"/api/v3/\") and answer GitHub's error body

WORKERS ON THE EDGE (no token, never recorded):
  http://127.0.0.1:PORT/__worker/<name>/<path>  the Worker's live deployment answers,
                             routed by its shares (deterministically: 10 % is one request
                             in ten); `Cloudflare-Workers-Version-Overrides: <name>=\"<id>\"`
                             picks a version in the deployment (0 % included)
  POST /client/v4/graphql    (with a token) the workersInvocationsAdaptive query: per
                             version, requests and errors served plus synthetic_rps,
                             those older than analytics_lag_ms only

ADMIN ENDPOINTS (under http://127.0.0.1:PORT/__sim/, no token, never recorded):
  GET  /__sim/requests       every API request served: method, path, query, body, status
                             (0 = dropped), at_ms, answered_ms, fault
  GET  /__sim/builds         every build, as GET /builds/builds/{uuid} shows it now
  POST /__sim/push           {\"worker\": name or tag, \"branch\", \"commit\", \"after_ms\": 0}:
                             a build the Git integration starts for a push, visible after
                             after_ms, by the trigger whose branch filters match;
                             answers {\"build_uuid\"}, or 404 when no trigger builds it
  PUT  /__sim/build_profile  a `build` object as in the config (missing keys take defaults)
  POST /__sim/faults         a fault for the API requests it matches:
    method                   HTTP method [any]
    path_contains            a path substring, from /client/v4 [any]
    path_excludes            paths containing this do not match [none]
    skip                     let this many matching requests through first [0]
    times                    then hit this many [1]
    action                   {\"kind\": ..., fields}, one of:
      status                 {status, code, message, retry_after?}: an error envelope
      status_retry_date      {status, code, message, retry_in}: the same, with Retry-After
                             the HTTP date retry_in seconds ahead
      drop                   close the connection before handling (nothing happened)
      drop_after             handle (a create does create), then close without answering
      delay                  {ms}: answer normally after a pause
      malformed              HTTP 200 with truncated JSON
      unknown_enum           answer normally, with enum values no client knows
      success_false          {code}: HTTP 200 with success: false and this code
      corrupt                handle as if the body's first letter or digit after the
                             first blank line had changed (a tampered upload)
  Unknown keys in these bodies are refused with 400.
";

impl Simulator {
    /// What `simulate` prints on start: where it listens, the account, the token rule, every
    /// Worker with its triggers, and an environment block to paste. A configured `api_token`
    /// is a secret even in a fixture, so only the rule is printed, never the value.
    pub fn banner(&self) -> String {
        let st = self.shared.state();
        let c = &st.config;
        let base = self.base_url();
        let mut b = String::new();
        let _ = writeln!(b, "listening on {base}");
        let _ = writeln!(b, "account id: {}", c.account_id);
        let token = match &c.api_token {
            None => "any non-empty bearer token",
            Some(_) => "only the api_token set in the config (not shown)",
        };
        let _ = writeln!(b, "token: {token}");
        if c.account_scoped_token {
            let _ = writeln!(b, "  (account_scoped_token: Builds endpoints answer 401 \"Invalid token\")");
        }
        if let Some(r) = c.rate_limit {
            let _ = writeln!(
                b,
                "rate limit: {} requests per {:.1} s, then every call refused for {:.1} s",
                r.requests,
                r.window().as_secs_f64(),
                r.lockout().as_secs_f64()
            );
        }
        let _ = writeln!(b, "workers.dev subdomain: {}", c.subdomain.as_deref().unwrap_or("(none)"));
        let _ = writeln!(b, "workers:");
        for w in &st.workers {
            let _ = writeln!(b, "  {}  tag {}  beta id {}", w.name, w.tag, w.id);
            if w.triggers.is_empty() {
                let _ = writeln!(b, "    no triggers (no repository connected)");
            }
            for t in &w.triggers {
                let list = |k: &str| {
                    let items: Vec<&str> =
                        t[k].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                    if items.is_empty() { "-".to_owned() } else { items.join(",") }
                };
                let _ = writeln!(
                    b,
                    "    trigger \"{}\" {}  branches: {}  except: {}",
                    t["trigger_name"].as_str().unwrap_or_default(),
                    t["trigger_uuid"].as_str().unwrap_or_default(),
                    list("branch_includes"),
                    list("branch_excludes"),
                );
            }
        }
        if !st.d1.is_empty() {
            let _ = writeln!(b, "D1 databases:");
            for d in &st.d1 {
                let _ = writeln!(b, "  {}  uuid {}", d.name, d.uuid);
            }
        }
        let token_value =
            if c.api_token.is_some() { "'<the api_token from the config>'" } else { "any-non-empty-token" };
        let _ = writeln!(b, "\nenvironment for workers-ci:");
        let _ = writeln!(b, "export CLOUDFLARE_API_BASE_URL={base}");
        let _ = writeln!(b, "export CLOUDFLARE_ACCOUNT_ID={}", c.account_id);
        let _ = writeln!(b, "export CLOUDFLARE_API_TOKEN={token_value}");
        if let Some(g) = &c.github {
            let _ = writeln!(b, "\nGitHub repository {} served (GitHub Enterprise form):", g.repository);
            let _ = writeln!(b, "export GITHUB_API_URL={}", self.github_url());
            let _ = writeln!(b, "export GITHUB_REPOSITORY={}", g.repository);
            let _ = writeln!(b, "tokens: {}", g.tokens.len());
        }
        let _ = writeln!(
            b,
            "\nadmin endpoints: {}/__sim/ (see `workers-ci simulate --help`)",
            base.trim_end_matches("/client/v4")
        );
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuildProfile, Fault, SimConfig, WorkerSeed};

    /// Every key the config and admin structs know is in HELP, so the help cannot silently
    /// fall behind a new key.
    const FAULT_KINDS: [&str; 9] = [
        "status",
        "status_retry_date",
        "drop",
        "drop_after",
        "delay",
        "malformed",
        "unknown_enum",
        "success_false",
        "corrupt",
    ];

    fn all_keys() -> Vec<String> {
        let config =
            serde_json::to_value(SimConfig { rate_limit: Some(crate::RateLimit::default()), ..SimConfig::default() })
                .unwrap();
        let mut keys: Vec<String> = config.as_object().unwrap().keys().cloned().collect();
        keys.extend(serde_json::to_value(WorkerSeed::default()).unwrap().as_object().unwrap().keys().cloned());
        keys.extend(serde_json::to_value(BuildProfile::default()).unwrap().as_object().unwrap().keys().cloned());
        keys.extend(serde_json::to_value(crate::RateLimit::default()).unwrap().as_object().unwrap().keys().cloned());
        keys.extend(serde_json::to_value(crate::GitHubConfig::default()).unwrap().as_object().unwrap().keys().cloned());
        keys.extend(
            serde_json::to_value(crate::TokenPermissions::default()).unwrap().as_object().unwrap().keys().cloned(),
        );
        keys.extend(["after_ms"].map(String::from));
        let fault: Fault = serde_json::from_str(r#"{"action":{"kind":"drop"}}"#).unwrap();
        keys.extend(serde_json::to_value(fault).unwrap().as_object().unwrap().keys().cloned());
        keys
    }

    #[test]
    fn help_and_readme_name_every_key() {
        for k in all_keys() {
            assert!(HELP.contains(&k), "HELP does not mention `{k}`");
        }
        for kind in FAULT_KINDS {
            assert!(HELP.contains(&format!("      {kind} ")), "HELP does not list fault kind `{kind}`");
        }
        for e in ["/__sim/requests", "/__sim/builds", "/__sim/push", "/__sim/build_profile", "/__sim/faults"] {
            assert!(HELP.contains(e), "{e}");
        }
        // README's section says the same, in tables.
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        let start = readme.find("## The simulator: config file and admin endpoints").expect("README section");
        let section = &readme[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
        for k in all_keys() {
            assert!(section.contains(&format!("`{k}`")) || section.contains(&format!(".{k}`")), "README: `{k}`");
        }
        for e in HELP.split_whitespace().filter(|w| w.starts_with("/__sim/") && w.len() > "/__sim/".len()) {
            assert!(section.contains(e), "README: {e}");
        }
        for kind in FAULT_KINDS {
            assert!(section.contains(&format!("| `{kind}` |")), "README: fault kind `{kind}`");
        }
    }
}

//! One command against the API, from collected inputs to written outputs: what the command
//! line and the demo share.
//!
//! Every input is validated before the first request; whatever happens after it, the outputs
//! and summary gathered so far are handed to the pipeline.

use std::sync::{Arc, Mutex};

use crate::ci::console::Console;
use crate::ci::runner;
use crate::cloudflare::{Client, ClientConfig, ClientInitError};
use crate::commands::{self, Command};
use crate::error::{Error, Result};
use crate::flows::{self, Ctx, Report};
use crate::inputs::args::{Common, GitHubArgs};
use crate::inputs::{InputError, Inputs, Key};
use crate::pace::Pace;

/// Runs `command`. `pace` overrides the clock scale (the demo's); otherwise it is read from
/// the environment, for the simulator only. `env` is where the runner's variables are read
/// (`GITHUB_*`: the event, the commit, the repository): the process environment, except in the
/// demo, whose pull-request step must not depend on (or leak into) the real one.
pub(crate) async fn run(
    command: Command,
    inputs: Inputs,
    console: &Arc<Console>,
    pace: Option<Pace>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    // Masked before anything else is printed, in case the token did not come from a secret.
    for key in [Key::ApiToken, Key::GithubToken] {
        if let Some(t) = inputs.get(key) {
            console.mask(t);
        }
    }
    let dry_run = commands::dry_run_without_credentials(command, &inputs)?;
    let common = Common::from_inputs(&inputs, !dry_run)?;
    let github_args = if command.facts().reports_to_github { GitHubArgs::from_inputs(&inputs, env)? } else { None };
    let prepared = commands::prepare(command, &inputs, env)?;
    let mut redact: Vec<String> = vec![common.token.clone()];
    for secret in prepared.secrets {
        console.mask(&secret);
        redact.push(secret);
    }
    // Inputs are valid: from here on, requests may be sent.
    let pace = pace.unwrap_or_else(|| Pace::from_env_for(common.api_url.as_str()));
    let signals = crate::signal::install().map_err(|e| Error::internal("could not install the signal handlers", e))?;
    let deadline = tokio::time::Instant::now() + common.timeout;
    let client = Client::new(ClientConfig {
        base_url: common.api_url.as_str().trim_end_matches('/').to_owned(),
        account_id: common.account_id.clone(),
        token: common.token,
        pace,
        deadline: Some(deadline),
    })
    .map_err(client_init_error)?
    .on_lockout({
        let console = console.clone();
        move |wait| {
            console.notice(&format!(
                "Cloudflare's rate limit is exhausted (1200 requests per 5 minutes, shared by every job on this \
                 token) and it blocks every call for {}s; waiting it out within `timeout`",
                wait.as_secs_f64().ceil()
            ));
        }
    });
    let github = match github_args {
        Some(g) => github_target(console, g, pace, deadline, redact, env)?,
        None => None,
    };
    let ctx = Ctx {
        command,
        github,
        client,
        console: console.clone(),
        pace,
        deadline,
        timeout: common.timeout,
        signals,
        report: Mutex::new(Report::default()),
    };
    ctx.summary(|s| *s = crate::ci::summary::Summary::new(&format!("workers-ci {}", command.name())));
    let started = std::time::Instant::now();
    let result = (prepared.flow)(&ctx).await;
    // The facts are the contract `--help` and README print: a code outside them is a bug,
    // caught by every test (they run a debug build).
    debug_assert!(
        result.as_ref().err().is_none_or(|e| command.exits().contains(&e.exit())),
        "`{}` ended with exit {}, which its facts do not list",
        command.name(),
        result.as_ref().err().map_or(0, |e| e.exit().code())
    );
    ctx.console.debug(&usage(&ctx, started));
    let mut report = ctx.report.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(e) = &result {
        report.summary.code("Error", e.report().lines().map(str::to_owned).collect());
    }
    let mut failures = runner::write_results(
        console,
        &report.outputs,
        &report.summary,
        common.output_file.as_ref(),
        common.summary_file.as_deref(),
    );
    match (result, failures.pop()) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(f)) => {
            for other in failures {
                console.warning(&format!("could not write {}: {}", other.what, other.source));
            }
            Err(Error::Local { what: format!("could not write {}", f.what), source: f.source })
        }
        (Err(e), failed) => {
            for f in failed.into_iter().chain(failures) {
                console.warning(&format!("could not write {}: {}", f.what, f.source));
            }
            Err(e)
        }
    }
}

/// Where this run reports on GitHub. Outside GitHub Actions (no `GITHUB_REPOSITORY`) there is
/// nowhere to report: a warning, as `github_required` already refused that case.
fn github_target(
    console: &Console,
    g: GitHubArgs,
    pace: Pace,
    deadline: tokio::time::Instant,
    mut redact: Vec<String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<flows::github_report::Target>> {
    let Some(repository) = g.repository else {
        console.warning("`github_token` is set but GITHUB_REPOSITORY is not (not on GitHub Actions?): no pull-request comment or GitHub Deployment");
        return Ok(None);
    };
    redact.push(g.token.clone());
    let client = crate::github_api::GitHub::new(crate::github_api::Config {
        pace: pace.only_for_loopback(g.api_url.as_str()),
        base_url: g.api_url,
        repository,
        token: g.token,
        deadline: Some(deadline),
    })
    .map_err(|e| match e {
        crate::github_api::InitError::TokenNotHeaderSafe => Error::from(InputError::new(
            Key::GithubToken,
            "contains characters that cannot be sent in an HTTP header (a stray newline or quote?)",
        )),
        crate::github_api::InitError::Http(e) => Error::internal("could not set up the HTTP client for GitHub", e),
    })?;
    let (run_url, repo_url) = runner::run_urls(env);
    Ok(Some(flows::github_report::Target {
        client,
        pr: runner::pr_number(env),
        sha: runner::Context::from_env(env).commit,
        run_url,
        repo_url,
        merge_group: runner::is_merge_group(env),
        required: g.required,
        redact,
    }))
}

/// A token that cannot go in a header is the user's to fix; a TLS stack that cannot start is
/// this machine's (its certificate store, say), and must not send the user to their token.
fn client_init_error(e: ClientInitError) -> Error {
    match e {
        ClientInitError::TokenNotHeaderSafe => InputError::new(
            Key::ApiToken,
            "contains characters that cannot be sent in an HTTP header (a stray newline or quote?)",
        )
        .into(),
        ClientInitError::Http(e) => {
            Error::internal("could not set up the HTTP client (TLS and the certificate verifier)", e)
        }
    }
}

/// Fills `branch` and `commit` from the GitHub context when they are not given.
pub(crate) fn apply_github_context(inputs: &mut Inputs, context: runner::Context) {
    if inputs.get(Key::Branch).is_none()
        && let Some(b) = context.branch
    {
        inputs.set(Key::Branch, &b);
    }
    if inputs.get(Key::Commit).is_none()
        && let Some(c) = context.commit
    {
        inputs.set(Key::Commit, &c);
    }
}

/// What the run cost: shown with debug logging, and read by the benchmarks.
fn usage(ctx: &Ctx, started: std::time::Instant) -> String {
    let peak = peak_rss_kib().map_or_else(String::new, |k| format!(", peak RSS {:.1} MiB", k as f64 / 1024.0));
    format!(
        "usage: {} in {:.1}s{peak}",
        crate::ci::plural(ctx.client.requests_sent() as usize, "API request", "API requests"),
        started.elapsed().as_secs_f64()
    )
}

/// The process's peak resident set (Linux `VmHWM`); `None` elsewhere.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    #[test]
    fn a_tls_setup_failure_is_not_blamed_on_the_token() {
        // Any reqwest builder error stands in for the TLS stack's, which cannot be made to fail
        // on purpose here.
        let Err(tls) = reqwest::Client::builder().build().and_then(|c| c.get("not a url").build()) else {
            panic!("a relative URL is refused");
        };
        let e = client_init_error(ClientInitError::Http(tls));
        assert_eq!(e.exit(), Exit::Internal);
        let text = e.report();
        assert!(text.contains("TLS") && !text.contains("api_token"), "{text}");
        let e = client_init_error(ClientInitError::TokenNotHeaderSafe);
        assert_eq!(e.exit(), Exit::BadInput);
        assert!(e.report().contains("`api_token`"));
    }
}

//! The steps commands share, below the commands (`crate::commands`): together with the
//! commands' own flows, the only place that sequences API calls. Each takes validated
//! arguments, talks to Cloudflare through the typed client, and speaks to the CI through the
//! console and the report. No module here knows which command called it.

pub(crate) mod apply;
pub(crate) mod assets;
pub(crate) mod builds;
pub(crate) mod changes;
pub(crate) mod create;
pub(crate) mod d1;
pub(crate) mod deployments;
pub(crate) mod dry_run;
pub(crate) mod follow;
pub(crate) mod github_report;
pub(crate) mod live;
pub(crate) mod logs;
pub(crate) mod many;
pub(crate) mod migrations;
pub(crate) mod pages;
pub(crate) mod plan;
pub(crate) mod rollout;
pub(crate) mod statuses;
pub(crate) mod trigger;
pub(crate) mod upload;

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::ci::console::Console;
use crate::ci::outputs::Outputs;
use crate::ci::summary::Summary;
use crate::cloudflare::{ApiError, Client};
use crate::commands::{Command, Output};
pub(crate) use crate::error::Stop;
use crate::error::{Error, Result};
use crate::inputs::{Key, hint};
use crate::pace::Pace;
use crate::signal::{self, Signals};

/// What the step hands back to the pipeline, written once at exit whatever happened.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub outputs: Outputs,
    pub summary: Summary,
    /// The last log lines of a failed build, for the pull-request comment.
    pub log_tail: Vec<String>,
    /// Workers whose finished build deployed to production, to report as `production`.
    pub production: Vec<String>,
    /// How each build the flow saw stop ended, by Worker (never a build a stop cancelled): what
    /// the commit statuses say.
    pub ended: std::collections::HashMap<String, Ended>,
}

/// A build's end as the flow saw it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ended {
    pub outcome: String,
    /// From `created_on` to `stopped_on`.
    pub duration: Option<Duration>,
    /// A skipped build's reason ([`follow::skip_reason`]).
    pub skip_reason: Option<String>,
}

impl Ended {
    pub(crate) fn of(b: &crate::cloudflare::builds::Build) -> Ended {
        let skipped = b.outcome() == Some(crate::cloudflare::builds::Outcome::Skipped);
        Ended {
            outcome: b.build_outcome.clone().unwrap_or_default(),
            duration: match (b.created_at(), b.stopped_at()) {
                (Some(a), Some(z)) if z >= a => Duration::try_from(z.duration_since(a)).ok(),
                _ => None,
            },
            skip_reason: skipped.then(|| follow::skip_reason(b)),
        }
    }
}

impl Ctx {
    /// Records how `worker`'s build ended, for the commit statuses.
    pub(crate) fn ended(&self, worker: &str, b: &crate::cloudflare::builds::Build) {
        self.report
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .ended
            .insert(worker.to_owned(), Ended::of(b));
    }
}

pub(crate) struct Ctx {
    /// The command running: what it may write is in its facts.
    pub command: Command,
    pub client: Client,
    pub console: Arc<Console>,
    pub pace: Pace,
    pub deadline: Instant,
    pub timeout: Duration,
    pub signals: Signals,
    pub report: Mutex<Report>,
    /// Where to report on GitHub (`github_token` given), else `None`.
    pub github: Option<github_report::Target>,
}

impl Ctx {
    /// Sets an output. Only the outputs the command's facts list may be written: the help and
    /// README say which outputs a command sets, and every test (a debug build) checks it.
    pub(crate) fn output(&self, output: Output, value: &str) {
        debug_assert!(
            self.command.writes(output),
            "`{}` wrote output `{}`, which its facts do not list",
            self.command.name(),
            output.name()
        );
        self.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner).outputs.set(output.name(), value);
    }

    pub(crate) fn summary(&self, f: impl FnOnce(&mut Summary)) {
        f(&mut self.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner).summary);
    }

    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Sleeps, unless the deadline comes first (the guard then takes over).
    pub(crate) async fn sleep(&self, d: Duration) {
        tokio::time::sleep_until((Instant::now() + d).min(self.deadline)).await;
    }
}

/// How long a create in flight may still take after a cancellation signal. The runner sends
/// SIGTERM 7.5 s after SIGINT (docs/github-actions.md §2.6); this leaves time after it for one
/// listing to reconcile ([`RECONCILE_ON_STOP`]) and the cancel request.
pub(crate) const CREATE_GRACE: Duration = Duration::from_millis(4500);
/// The bound on that one listing.
pub(crate) const RECONCILE_ON_STOP: Duration = Duration::from_millis(1500);

/// Runs `work` until it finishes, a cancellation signal arrives, or the deadline passes.
///
/// When stopped while `critical()` holds (a create request in flight), the work is given
/// [`CREATE_GRACE`] to learn what it created, so the cleanup can cancel it instead of leaving an
/// orphan running.
pub(crate) async fn guarded<T>(
    ctx: &Ctx,
    critical: impl Fn() -> bool,
    work: impl Future<Output = T>,
) -> std::result::Result<T, Stop> {
    let mut work = pin!(work);
    let stop = tokio::select! {
        out = &mut work => return Ok(out),
        () = signal::at_least(&ctx.signals, 1) => Stop::Interrupted,
        () = tokio::time::sleep_until(ctx.deadline) => Stop::TimedOut,
    };
    if critical() {
        let grace = async {
            while critical() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            _ = &mut work => {}
            () = grace => {}
            () = tokio::time::sleep(CREATE_GRACE) => {}
            () = signal::at_least(&ctx.signals, 2) => {}
        }
    }
    Err(stop)
}

/// Before looking for what a failed create made: a create that timed out may still be running
/// on the server, so it gets the time of one more request first. Without this pause the
/// look finds nothing, the create is sent again, and both complete.
pub(crate) async fn settle_before_reconcile(ctx: &Ctx, err: &ApiError) {
    if matches!(err, ApiError::Transport { kind: crate::cloudflare::error::TransportKind::Timeout, .. }) {
        ctx.sleep(crate::cloudflare::client::request_timeout(ctx.pace)).await;
    }
}

/// Runs a flow that has nothing remote to cancel (`version`, `deploy`) until it finishes, a
/// signal arrives or `timeout` passes; then it stops at once with what it has: the outputs set so
/// far are still written, and the message says a write in flight may have completed, and where
/// to look: `check` is what the command writes (`setup`'s triggers, not a Worker's versions).
pub(crate) async fn interruptible(ctx: &Ctx, check: &str, work: impl Future<Output = Result<()>>) -> Result<()> {
    let after = format!("stopped (a request in flight may still have taken effect: check {check})");
    until_stopped(ctx, &after, work).await
}

/// Runs `work` until it finishes, a signal arrives or `timeout` passes; a stop is the summary's
/// "Stopped" row and an error saying why, then `after` (what the stop means for this command).
pub(crate) async fn until_stopped(ctx: &Ctx, after: &str, work: impl Future<Output = Result<()>>) -> Result<()> {
    match guarded(ctx, || false, work).await {
        Ok(r) => r,
        Err(stop) => {
            let reason = match stop {
                Stop::Interrupted => "the job was cancelled".to_owned(),
                Stop::TimedOut => format!("`timeout` ({}s) elapsed", ctx.timeout.as_secs()),
            };
            ctx.summary(|s| s.row("Stopped", &reason));
            Err(Error::Stopped { stop, message: format!("{reason}; {after}") })
        }
    }
}

/// [`interruptible`] for work that returns a value (the reads before a rollout).
pub(crate) async fn interruptible_value<T>(ctx: &Ctx, check: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
    let mut out = None;
    interruptible(ctx, check, async {
        out = Some(work.await?);
        Ok(())
    })
    .await?;
    out.ok_or_else(|| Error::Internal { what: "the work ended without a value".into(), source: None })
}

/// How far before our create request a reconciliation looks: what this run made is newer than
/// the moment it decided to create, give or take the skew between our clock and Cloudflare's.
pub(crate) const RECONCILE_LOOKBACK: Duration = Duration::from_secs(600);

/// `now` minus `d`, as the API's timestamps count.
pub(crate) fn ago(d: Duration) -> jiff::Timestamp {
    let span = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::ZERO);
    jiff::Timestamp::now().checked_sub(span).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// `builds` for one Worker, from the single-build outputs, so a workflow reading `builds`
/// works whether it names one Worker or several.
pub(crate) fn one_build_output(ctx: &Ctx, worker: &str) {
    let mut report = ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let o = &report.outputs;
    let get = |k: Output| o.get(k.name()).filter(|v| !v.is_empty()).map(str::to_owned);
    let mut entry = serde_json::json!({
        "worker": worker,
        "tag": get(Output::WorkerTag),
        "status": get(Output::BuildStatus),
        "outcome": get(Output::BuildOutcome),
        "trigger_uuid": get(Output::TriggerUuid),
    });
    if let Some(u) = get(Output::BuildUuid) {
        entry["build_uuid"] = serde_json::json!(u);
    }
    if let Some(p) = get(Output::PreviewUrl) {
        entry["preview_url"] = serde_json::json!(p);
    }
    // Written only after a successful build was checked for going live (`flows::live`).
    if let Some(d) = get(Output::Deployed) {
        entry["deployed"] = serde_json::json!(d);
        entry["deployment_id"] = serde_json::json!(get(Output::DeploymentId));
        entry["deployed_version_id"] = serde_json::json!(get(Output::DeployedVersionId));
        let percent = get(Output::TrafficPercent).and_then(|p| p.parse::<f64>().ok());
        entry["traffic_percent"] = serde_json::json!(percent);
    }
    report.outputs.set(Output::Builds.name(), serde_json::Value::Array(vec![entry]).to_string());
}

/// Which family of commands an error came from, for the permissions advice that goes with it:
/// `build`/`wait` (Builds: their Worker lookup included) or `version`/`deploy` (Workers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Area {
    Builds,
    Workers,
    D1,
}

/// An API error, with what we were doing and the advice that fits it.
pub(crate) fn api_failure(err: ApiError, doing: &str, area: Area) -> Error {
    let fix = advice(&err, area);
    Error::api(doing, err, fix)
}

fn advice(err: &ApiError, area: Area) -> Option<String> {
    if area == Area::Builds && err.is_auth() && err.mentions("invalid token") {
        return Some(format!(
            "the Workers Builds API accepts only user-scoped API tokens (account-scoped tokens get \
             \"Invalid token\"). Create one under My Profile → API Tokens with the permissions \
             Workers Builds Configuration: Edit and Workers Scripts: Read, and pass it as {}.",
            hint::input(Key::ApiToken)
        ));
    }
    let (token, account) = (hint::input(Key::ApiToken), hint::input(Key::AccountId));
    if err.is_auth() {
        return Some(match area {
            Area::Builds => format!(
                "check {token} and {account}: `build` and `wait` need a token of a user of that account with \
                 Workers Builds Configuration: Edit and Workers Scripts: Read."
            ),
            Area::Workers => format!(
                "check {token} and {account}: `version` and `deploy` need a token with Workers Scripts: Edit on \
                 that account."
            ),
            Area::D1 => format!(
                "check {token} and {account}: D1 migrations need a token with D1: Edit on that account, and the \
                 configuration's `database_id` must be a database of that account."
            ),
        });
    }
    match err {
        ApiError::Transport { .. } => Some(format!(
            "check {} and that this machine can reach it (proxy variables HTTPS_PROXY/NO_PROXY are honoured).",
            hint::input(Key::ApiUrl)
        )),
        ApiError::Api { status: 404, .. } if err.has_code(7003) => Some(format!(
            "Cloudflare has no such route: check {}; Cloudflare's API base ends in `/client/v4` (https://api.cloudflare.com/client/v4).",
            hint::input(Key::ApiUrl)
        )),
        ApiError::Api { status: 429, .. } => Some(format!(
            "the API rate limit (1200 requests per 5 minutes per user) is shared by every job using this token; run fewer concurrent jobs or raise {}.",
            hint::input(Key::Timeout)
        )),
        _ => None,
    }
}

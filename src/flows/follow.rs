//! Following a build to its end: status polling, live logs, the verdict, and the cleanup when
//! the job is cancelled or times out. Shared by `build` and `wait`.

use std::sync::Mutex;
use std::time::Duration;

use crate::cloudflare::builds::{Build, Outcome, Status};
use crate::cloudflare::{ApiError, BuildUuid};
use crate::commands::Output;
use crate::error::{Error, Result, Unsuccessful};
use crate::pace::jitter;

use super::logs::{LogCursor, Tail, read_pages};
use super::{Area, Ctx, Stop, api_failure};

/// Poll cadence. While a build runs, status every 4.25 s (±10 %) keeps finish detection under
/// 5 s; the log is read every third tick (about 13 s), one page at a time, which keeps a
/// 3-minute build under 24 requests a minute all told, setup and drain included (the budget is 24 with logs, 12 without; Cloudflare allows
/// 1200 per 5 minutes per user across all jobs). A log that outruns one page per read catches
/// up in the drain after the stop. Queued builds can wait a long time behind others, so their
/// polling backs off.
const RUNNING_TICK: Duration = Duration::from_millis(4250);
const RUNNING_TICK_NO_LOGS: Duration = Duration::from_secs(5);
/// Status ticks per live log read.
const LOG_EVERY: u64 = 3;
const QUEUED_FIRST: Duration = Duration::from_secs(2);
const QUEUED_MAX: Duration = Duration::from_secs(15);
/// Consecutive polls that may fail (each after its own retries) before we give up.
const POLL_FAILURES_TOLERATED: u32 = 3;
const DRAIN_ATTEMPTS: u32 = 3;
/// When Cloudflare answers 429 (the limit is shared by every job of the user), polling slows
/// down by this factor at most, and speeds up again after this many clean polls.
const MAX_SLOWDOWN: u32 = 8;
const CLEAN_POLLS_TO_SPEED_UP: u32 = 5;
/// The cancel request runs inside the runner's 7.5 s grace period.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(3);

/// What the cleanup needs to know about a build whose flow was stopped from outside.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    inner: Mutex<Tracked>,
}

#[derive(Debug, Default)]
struct Tracked {
    creating: bool,
    pending: Option<PendingBuild>,
    build_uuid: Option<BuildUuid>,
    last: Option<Build>,
}

impl Tracker {
    fn with<R>(&self, f: impl FnOnce(&mut Tracked) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    pub(crate) fn set_creating(&self, on: bool) {
        self.with(|t| t.creating = on);
    }

    /// What a reconciliation needs if the start request is cut short.
    pub(crate) fn set_pending(&self, p: PendingBuild) {
        self.with(|t| t.pending = Some(p));
    }

    pub(crate) fn pending(&self) -> Option<PendingBuild> {
        self.with(|t| t.pending.clone())
    }

    pub(crate) fn build_uuid(&self) -> Option<BuildUuid> {
        self.with(|t| t.build_uuid.clone())
    }

    pub(crate) fn creating(&self) -> bool {
        self.with(|t| t.creating)
    }

    pub(crate) fn set_build(&self, uuid: &BuildUuid) {
        self.with(|t| t.build_uuid = Some(uuid.clone()));
    }

    fn observe(&self, b: &Build) {
        self.with(|t| t.last = Some(b.clone()));
    }
}

/// A start request in flight: the builds that existed before it and the window they were
/// listed over, so a stop can still find the build it made.
#[derive(Clone, Debug)]
pub(crate) struct PendingBuild {
    pub tag: crate::cloudflare::ScriptTag,
    pub trigger: crate::cloudflare::TriggerUuid,
    pub known: std::collections::HashSet<BuildUuid>,
    pub window: jiff::Timestamp,
}

pub(crate) struct FollowOpts {
    pub logs: bool,
    /// The build as the caller has just read it (`wait` finds it in the Worker's builds list,
    /// whose items are the object a build read answers, docs/cloudflare-api.md §3.4): taken as
    /// the first poll's answer instead of reading it again.
    pub seen: Option<Build>,
}

/// Polls until the build stops, streaming its log, and returns the final build.
pub(crate) async fn follow(
    ctx: &Ctx,
    tracker: &Tracker,
    uuid: &BuildUuid,
    opts: &FollowOpts,
    tail: &mut Tail,
) -> Result<Build> {
    let mut cursor = LogCursor::default();
    let mut queued_wait = QUEUED_FIRST;
    let mut last_status: Option<Status> = None;
    let mut tick: u64 = 0;
    let mut failures = 0;
    let mut log_warned = false;
    let started = tokio::time::Instant::now();
    let requests_before = ctx.client.requests_sent();
    let mut group = None;
    let mut slowdown = Backpressure::default();
    let mut seen = opts.seen.clone();

    let build = loop {
        let fetched = match seen.take() {
            Some(b) => Ok(b),
            None => ctx.client.get_build(uuid).await,
        };
        let build = match fetched {
            Ok(b) => {
                failures = 0;
                b
            }
            Err(e) if e.is_retryable() && failures + 1 < POLL_FAILURES_TOLERATED => {
                failures += 1;
                ctx.console.warning(&format!("polling build {uuid} failed, will keep trying: {e}"));
                ctx.sleep(ctx.pace.of(RUNNING_TICK)).await;
                continue;
            }
            Err(e) => return Err(api_failure(e, &format!("read the status of build {uuid}"), Area::Builds)),
        };
        tracker.observe(&build);
        let status = build.status();
        if last_status.as_ref() != Some(&status) {
            if let Status::Other(s) = &status {
                ctx.console.warning(&format!(
                    "build {uuid} reports status `{s}`, unknown to this version of workers-ci; still following it"
                ));
            }
            ctx.console.info(&format!("Build {uuid}: {}", build.status.as_deref().unwrap_or("(no status)")));
            last_status = Some(status.clone());
        }
        if build.is_stopped() {
            break build;
        }
        let wait = if status == Status::Queued {
            let w = queued_wait;
            queued_wait = QUEUED_MAX.min(queued_wait.mul_f64(1.5));
            jitter(w, 0.2)
        } else {
            if opts.logs && tick.is_multiple_of(LOG_EVERY) {
                if group.is_none() {
                    group = Some(ctx.console.group(&format!("Build log ({uuid})")));
                }
                if let Err(e) = read_logs(ctx, uuid, &mut cursor, tail, 1).await {
                    warn_logs_once(ctx, &mut log_warned, &e);
                }
            }
            tick += 1;
            jitter(if opts.logs { RUNNING_TICK } else { RUNNING_TICK_NO_LOGS }, 0.1)
        };
        // The headers' budget first (slow down before it runs out), the 429 count as a backstop.
        let factor = f64::from(slowdown.factor(ctx.client.rate_limited())) * ctx.client.pressure();
        ctx.sleep(ctx.pace.of(wait).mul_f64(factor)).await;
    };

    if opts.logs && build.outcome() != Some(Outcome::Skipped) {
        if group.is_none() {
            group = Some(ctx.console.group(&format!("Build log ({uuid})")));
        }
        // Drain: everything released up to the stop, across as many pages as it takes. Each
        // read already retries; a drain that still fails is tried again from its cursor, so
        // a bad minute at the end does not cost the lines that explain a failure. A 404 is
        // tried again too, as the many-Worker loop does: for a build just followed it says
        // more about the log store than about the log.
        for attempt in 1..=DRAIN_ATTEMPTS {
            match read_logs(ctx, uuid, &mut cursor, tail, usize::MAX).await {
                Ok(()) => break,
                Err(e) if attempt < DRAIN_ATTEMPTS && (e.is_retryable() || e.is_not_found()) => {
                    ctx.sleep(ctx.pace.of(RUNNING_TICK)).await;
                }
                Err(e) => {
                    warn_logs_once(ctx, &mut log_warned, &e);
                    break;
                }
            }
        }
    }
    drop(group);
    let elapsed = started.elapsed().as_secs_f64();
    let requests = ctx.client.requests_sent() - requests_before;
    ctx.console.debug(&format!("followed for {elapsed:.1}s with {requests} API requests"));
    Ok(build)
}

/// Slows polling down while the API rate-limits us: doubles per tick that met a 429, halves
/// after a run of clean ticks.
#[derive(Debug)]
pub(super) struct Backpressure {
    factor: u32,
    seen: u64,
    clean: u32,
}

impl Default for Backpressure {
    fn default() -> Self {
        Backpressure { factor: 1, seen: 0, clean: 0 }
    }
}

impl Backpressure {
    /// `rate_limited`: the client's running count of 429 answers.
    pub(super) fn factor(&mut self, rate_limited: u64) -> u32 {
        if rate_limited > self.seen {
            self.seen = rate_limited;
            self.factor = (self.factor * 2).min(MAX_SLOWDOWN);
            self.clean = 0;
        } else {
            self.clean += 1;
            if self.clean >= CLEAN_POLLS_TO_SPEED_UP && self.factor > 1 {
                self.factor /= 2;
                self.clean = 0;
            }
        }
        self.factor
    }
}

/// Reads log pages and prints the new lines as untrusted text.
async fn read_logs(
    ctx: &Ctx,
    uuid: &BuildUuid,
    cursor: &mut LogCursor,
    tail: &mut Tail,
    max_pages: usize,
) -> Result<(), ApiError> {
    let fetch = |c: Option<String>| async move { ctx.client.build_logs(uuid, c.as_deref()).await };
    read_pages(fetch, cursor, max_pages, |fresh| {
        for l in &fresh {
            tail.push(l);
        }
        ctx.console.untrusted(fresh.iter().map(String::as_str));
    })
    .await
}

fn warn_logs_once(ctx: &Ctx, warned: &mut bool, e: &ApiError) {
    if !*warned {
        ctx.console.warning(&format!("could not read the build log (the build itself is still followed): {e}"));
        *warned = true;
    }
}

/// Outputs, summary and verdict for a finished build: `Ok` when it succeeded or was skipped.
pub(crate) fn conclude(ctx: &Ctx, build: &Build, worker: &str, tail: &Tail) -> Result<()> {
    let outcome = build.outcome();
    let outcome_text = build.build_outcome.as_deref().unwrap_or("");
    ctx.output(Output::BuildStatus, build.status.as_deref().unwrap_or("stopped"));
    ctx.output(Output::BuildOutcome, outcome_text);
    if let Some(url) = &build.preview_url {
        ctx.output(Output::PreviewUrl, url);
    }
    let unsuccessful = match &outcome {
        Some(Outcome::Success | Outcome::Skipped) => None,
        Some(Outcome::Fail) => Some(Unsuccessful::Fail),
        Some(Outcome::Cancelled) => Some(Unsuccessful::Cancelled),
        Some(Outcome::Terminated) => Some(Unsuccessful::Terminated),
        Some(Outcome::Other(o)) => {
            ctx.console.warning(&format!(
                "build outcome `{o}` is unknown to this version of workers-ci; treating it as a failure"
            ));
            Some(Unsuccessful::Unknown(o.clone()))
        }
        None => Some(Unsuccessful::Unknown("(none)".into())),
    };
    let uuid = &build.build_uuid;
    let skipped = (outcome == Some(Outcome::Skipped)).then(|| skip_reason(build));
    ctx.ended(worker, build);
    match (&unsuccessful, &skipped) {
        (None, Some(why)) => {
            ctx.console.notice(&format!("Build {uuid} of Worker {worker} was skipped by Cloudflare: {why}."));
        }
        (None, _) => ctx.console.info(&format!("Build {uuid} of Worker {worker} succeeded.")),
        (Some(_), _) => {}
    }
    let duration = match (build.created_at(), build.stopped_at()) {
        (Some(a), Some(b)) if b >= a => Some(format!("{:.0}s", b.duration_since(a).as_secs_f64())),
        _ => None,
    };
    ctx.summary(|s| {
        s.row("Outcome", if outcome_text.is_empty() { "(none)" } else { outcome_text });
        if let Some(why) = &skipped {
            s.row("Skipped because", why);
        }
        if let Some(d) = &duration {
            s.row("Duration", d);
        }
        if let Some(url) = &build.preview_url {
            s.row("Preview URL", url);
        }
        if unsuccessful.is_some() {
            s.code("Last log lines", tail.lines());
        }
    });
    if unsuccessful.is_some() {
        ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner).log_tail = tail.lines();
    } else if build.deploys_to_production() {
        ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner).production.push(worker.to_owned());
    }
    match unsuccessful {
        None => Ok(()),
        Some(outcome) => Err(Error::Build { build_uuid: uuid.to_string(), worker: worker.to_owned(), outcome }),
    }
}

/// Why Cloudflare skipped a build. Its answer has no field for it (docs/cloudflare-api.md
/// §3.11): a trigger whose watch paths narrow what it builds is the documented cause, so that is
/// named, with the paths; otherwise nothing is guessed (docs/api-assumptions.md row 72).
pub(crate) fn skip_reason(b: &Build) -> String {
    let t = b.trigger.as_ref();
    let includes = t.and_then(|t| t.path_includes.clone()).unwrap_or_default();
    let excludes = t.and_then(|t| t.path_excludes.clone()).unwrap_or_default();
    let every = includes.is_empty() || includes.iter().all(|p| p == "*");
    if every && excludes.is_empty() {
        return "Cloudflare gave no reason (the trigger watches every path)".to_owned();
    }
    let list = |l: &[String]| if l.is_empty() { "none".to_owned() } else { l.join(", ") };
    format!("no watched path changed (watch paths: include {}; exclude {})", list(&includes), list(&excludes))
}

/// The job was cancelled or timed out mid-flow: cancel the remote build (if we know it and
/// may), record what we know, and say so.
pub(crate) async fn stopped(ctx: &Ctx, tracker: &Tracker, stop: Stop, cancel_on_abort: bool) -> Result<()> {
    let (uuid, last) = tracker.with(|t| (t.build_uuid.clone(), t.last.clone()));
    let reason = match stop {
        Stop::Interrupted => "the job was cancelled".to_owned(),
        Stop::TimedOut => format!("`timeout` ({}s) elapsed", ctx.timeout.as_secs()),
    };
    let already_stopped = last.as_ref().is_some_and(Build::is_stopped);
    let mut status = last.as_ref().and_then(|b| b.status.clone()).unwrap_or_default();
    let mut outcome = last.as_ref().and_then(|b| b.build_outcome.clone()).unwrap_or_default();
    match (&uuid, cancel_on_abort && !already_stopped) {
        (Some(uuid), true) => {
            ctx.console.info(&format!("{reason}: cancelling build {uuid}…"));
            let cancel = ctx.client.cancel_build(uuid, CANCEL_TIMEOUT);
            tokio::select! {
                r = cancel => match r {
                    Ok(c) => {
                        status = "stopped".into();
                        outcome = c.build_outcome.unwrap_or_else(|| "cancelled".into());
                        ctx.console.info(&format!("Build {uuid} cancelled."));
                    }
                    Err(e) => ctx.console.warning(&format!("could not cancel build {uuid}: {e}")),
                },
                () = crate::signal::at_least(&ctx.signals, 2) => ctx.console.warning("second signal: exiting without waiting for the cancel request"),
            }
        }
        (Some(uuid), false) if !already_stopped => {
            ctx.console.info(&format!("{reason}: build {uuid} keeps running (cancel_on_abort is false)."));
        }
        _ => {}
    }
    if uuid.is_some() {
        ctx.output(Output::BuildStatus, &status);
        ctx.output(Output::BuildOutcome, &outcome);
    }
    ctx.summary(|s| s.row("Stopped", &reason));
    Err(Error::Stopped { stop, message: format!("{reason}; stopped following the build") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backpressure_doubles_on_429_and_recovers() {
        let mut b = Backpressure::default();
        assert_eq!(b.factor(0), 1);
        assert_eq!(b.factor(1), 2);
        assert_eq!(b.factor(3), 4);
        assert_eq!(b.factor(9), 8);
        assert_eq!(b.factor(10), 8, "capped");
        let after: Vec<u32> = (0..10).map(|_| b.factor(10)).collect();
        assert_eq!(after, [8, 8, 8, 8, 4, 4, 4, 4, 4, 2]);
    }
}

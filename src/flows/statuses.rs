//! One GitHub commit status per Worker for `build` and `wait` (`commit_statuses: true`): the
//! thing a branch protection rule or ruleset can require, Worker by Worker
//! (docs/github-actions.md §6.1).
//!
//! `pending` goes out for every named Worker as the step starts following it; at the end every
//! Worker that got one, and every Worker the step followed, gets `success`, `failure` or `error`,
//! whatever ended the step: a build's outcome, no build at all (`wait`: "not built"), a failure
//! before the build ended, a `timeout` or a signal (bounded, best effort). A required check
//! must never be left waiting for a status that will not come.
//!
//! Posting failures are warnings, or the step's error (exit 9) with `github_required`, as for
//! the pull-request comment; a refused token (401, 403, 404) stops the posting at once, since
//! every other post would be refused the same way.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::commands::Output;
use crate::error::{Error, Result, Stop};
use crate::github_api::{GhError, NewCommitStatus};
use crate::inputs::{Key, hint};

use super::Ctx;
use super::builds::IfNoBuild;
use super::github_report::{self, Target};

/// `status_context` unless set.
pub(crate) const DEFAULT_CONTEXT: &str = "workers-ci/{worker}";
/// GitHub refuses a longer description (422), it does not cut it (docs/github-actions.md §6.1).
pub(crate) const DESCRIPTION_MAX: usize = 140;
/// No documented limit; kept to what GitHub surely takes (docs/api-assumptions.md G13).
pub(crate) const CONTEXT_MAX: usize = 255;
/// The longest Worker name (docs/cloudflare-api.md §4.1: over 63 characters is refused), for a
/// context checked before `*` says which Workers there are.
const WORKER_NAME_MAX: usize = 63;
/// After a signal: the runner sends SIGTERM 7.5 s after SIGINT (docs/github-actions.md §2.6) and
/// the build's cancel may have taken 3 s of it.
const ON_SIGNAL: Duration = Duration::from_secs(4);
/// After `timeout`: nothing kills the step yet, but it has overrun what the user allowed.
const ON_TIMEOUT: Duration = Duration::from_secs(15);
/// Statuses in flight at once when the step is stopping; otherwise one at a time, as GitHub
/// asks of a client ("make requests serially", its rate-limit guidance).
const STOPPING_CONCURRENCY: usize = 6;

/// `if_skipped`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IfSkipped {
    Pass,
    Fail,
}

/// The checked `commit_statuses` inputs.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// `status_context`, with `{worker}`.
    pub context: String,
    /// The full SHA the statuses go on: the commit built (on `merge_group`, the group's).
    pub commit: String,
    /// `wait` looks for a build; `build` starts one: the `pending` text says which.
    pub waiting: bool,
    /// `wait`'s `appear_timeout`, for a "not built" description.
    pub appear: Option<Duration>,
}

/// What decides each Worker's verdict at the end, statuses or not.
#[derive(Clone, Debug)]
pub(crate) struct Gate {
    pub statuses: Option<Options>,
    pub if_skipped: IfSkipped,
    pub if_no_build: IfNoBuild,
}

/// `status_context` rendered for `worker`.
pub(crate) fn context(template: &str, worker: &str) -> String {
    template.replace("{worker}", worker)
}

/// Whether `template` renders a context GitHub takes for each of `workers` (`None`: `*`, names
/// not known yet), and different ones for different Workers (contexts are compared without
/// case). `Err` says what to fix.
pub(crate) fn check_context(template: &str, workers: Option<&[String]>) -> std::result::Result<(), String> {
    let rest = template.replace("{worker}", "");
    if rest.contains('{') || rest.contains('}') {
        return Err("may hold only the placeholder `{worker}` (braces otherwise are not allowed)".into());
    }
    let several = workers.is_none_or(|w| w.len() > 1);
    if several && !template.contains("{worker}") {
        return Err("must contain `{worker}` when several Workers are followed: each needs its own context".into());
    }
    if template.chars().any(char::is_control) {
        return Err("must not contain control characters (line breaks, tabs)".into());
    }
    let longest = match workers {
        Some(w) => w.iter().map(|w| context(template, w).chars().count()).max().unwrap_or(0),
        None => context(template, &"x".repeat(WORKER_NAME_MAX)).chars().count(),
    };
    if longest > CONTEXT_MAX {
        return Err(format!("renders a context longer than {CONTEXT_MAX} characters"));
    }
    if workers.is_some_and(|w| w.iter().any(|w| context(template, w).trim().is_empty())) {
        return Err("renders an empty context".into());
    }
    if let Some(w) = workers {
        let mut seen: Vec<String> = Vec::new();
        for c in w.iter().map(|w| context(template, w).to_lowercase()) {
            if seen.contains(&c) {
                return Err("renders the same context for two Workers (GitHub compares contexts without case)".into());
            }
            seen.push(c);
        }
    }
    Ok(())
}

/// A description GitHub takes and a reader can trust: control characters and runs of spaces
/// become one space (the text may hold Cloudflare's or the user's words), secrets are `***`, and
/// anything past 140 characters is cut on a character boundary, ending in `…`.
pub(crate) fn description(text: &str, redact: &[String]) -> String {
    let mut t = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    for secret in redact.iter().filter(|s| s.len() >= 4) {
        t = t.replace(secret.as_str(), "***");
    }
    if t.chars().count() <= DESCRIPTION_MAX {
        return t;
    }
    let mut cut: String = t.chars().take(DESCRIPTION_MAX - 1).collect();
    cut.push('…');
    cut
}

/// `1m12s`, `45s`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

/// Runs `flow` (a `build` or `wait` of `named` Workers) with the statuses around it, then the
/// verdicts no flow gives alone (`if_skipped`), the pull-request report, and the terminal
/// statuses.
pub(crate) async fn around(
    ctx: &Ctx,
    gate: &Gate,
    named: &[String],
    flow: impl Future<Output = Result<()>>,
) -> Result<()> {
    let poster = match (&ctx.github, &gate.statuses) {
        (Some(t), Some(o)) => Some(Poster::new(ctx, t, o)),
        _ => None,
    };
    let pending = async {
        if let Some(p) = &poster {
            // A stop ends the pending posts too; what was sent still gets its terminal status.
            let _ = super::guarded(ctx, || false, p.pending(named)).await;
        }
    };
    let ((), result) = tokio::join!(pending, flow);
    let result = if_skipped(ctx, gate.if_skipped, result);
    let result = github_report::after_builds(ctx, result).await;
    let Some(p) = poster else { return result };
    let gh = Box::pin(p.finish(gate, &result)).await;
    github_report::combine(ctx, result, gh)
}

/// `if_skipped: fail`: a skipped build fails the step (exit 1, as a failed build: the code a
/// gate reads as "not built as asked"), unless something worse already did.
fn if_skipped(ctx: &Ctx, rule: IfSkipped, result: Result<()>) -> Result<()> {
    if rule == IfSkipped::Pass || result.is_err() {
        return result;
    }
    let report = ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut skipped: Vec<(&String, &super::Ended)> =
        report.ended.iter().filter(|(_, e)| e.outcome == "skipped").collect();
    if skipped.is_empty() {
        return Ok(());
    }
    skipped.sort_by_key(|(w, _)| *w);
    let which: Vec<String> = skipped
        .iter()
        .map(|(w, e)| format!("Worker {w}: {}", e.skip_reason.as_deref().unwrap_or("no reason given")))
        .collect();
    Err(Error::Skipped(format!(
        "Cloudflare skipped the build ({}), and {} makes a skipped build fail the step (set {} to let it pass)",
        which.join("; "),
        hint::set(Key::IfSkipped, "fail"),
        hint::set(Key::IfSkipped, "pass")
    )))
}

struct Poster<'a> {
    ctx: &'a Ctx,
    target: &'a Target,
    options: &'a Options,
    /// Workers whose `pending` was sent (answered or not): each gets a terminal status.
    sent: Mutex<Vec<String>>,
    failures: Mutex<Vec<(String, GhError)>>,
    /// A 401, 403 or 404: every other post would be refused alike.
    refused: AtomicBool,
}

impl<'a> Poster<'a> {
    fn new(ctx: &'a Ctx, target: &'a Target, options: &'a Options) -> Poster<'a> {
        Poster {
            ctx,
            target,
            options,
            sent: Mutex::new(Vec::new()),
            failures: Mutex::new(Vec::new()),
            refused: AtomicBool::new(false),
        }
    }

    fn short(&self) -> &str {
        self.options.commit.get(..7).unwrap_or(&self.options.commit)
    }

    async fn post(&self, worker: &str, state: &str, text: &str) {
        if self.refused.load(Ordering::SeqCst) {
            return;
        }
        let context = context(&self.options.context, worker);
        let desc = description(text, &self.target.redact);
        let status = NewCommitStatus {
            state,
            target_url: self.target.run_url.as_deref(),
            description: &desc,
            context: &context,
        };
        self.ctx.console.debug(&format!("commit status {context}: {state}: {desc}"));
        if let Err(e) = self.target.client.create_commit_status(&self.options.commit, &status).await {
            if matches!(e.status(), Some(401 | 403 | 404)) {
                self.refused.store(true, Ordering::SeqCst);
            }
            self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((worker.to_owned(), e));
        }
    }

    async fn pending(&self, named: &[String]) {
        let text = if self.options.waiting {
            format!("waiting for Cloudflare's build of {}", self.short())
        } else {
            format!("building {} on Cloudflare", self.short())
        };
        for w in named {
            self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(w.clone());
            self.post(w, "pending", &text).await;
        }
    }

    /// Every Worker the step followed or sent `pending` for, with its terminal state and words.
    fn verdicts(&self, gate: &Gate, result: &Result<()>) -> Vec<(String, &'static str, String)> {
        let report = self.ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let rows: Vec<serde_json::Value> =
            report.outputs.get(Output::Builds.name()).and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
        let mut workers: Vec<String> = rows.iter().filter_map(|r| r["worker"].as_str().map(str::to_owned)).collect();
        for w in self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            if !workers.contains(w) {
                workers.push(w.clone());
            }
        }
        let lone = workers.len() == 1;
        workers
            .into_iter()
            .map(|w| {
                let row = rows.iter().find(|r| r["worker"].as_str() == Some(w.as_str()));
                let (state, text) = match (report.ended.get(&w), row) {
                    (Some(end), _) => Self::ended(gate, end, lone, result),
                    (None, Some(r)) if r["status"] == "not_found" => {
                        let within = self.options.appear.map(|a| format!(" within {}", human(a))).unwrap_or_default();
                        let text = format!("not built: no build of {} appeared{within}", self.short());
                        (if gate.if_no_build == IfNoBuild::Pass { "success" } else { "failure" }, text)
                    }
                    (None, _) => ("error", unfinished(self.ctx, result)),
                };
                (w, state, text)
            })
            .collect()
    }

    fn ended(gate: &Gate, end: &super::Ended, lone: bool, result: &Result<()>) -> (&'static str, String) {
        let took = end.duration.map(human);
        let after = took.as_deref().map(|d| format!(" after {d}")).unwrap_or_default();
        match end.outcome.as_str() {
            "success" if lone && matches!(result, Err(Error::NotDeployed(_))) => {
                ("failure", format!("build succeeded{after}, but its version is not live (`require_deployed`)"))
            }
            "success" => {
                ("success", format!("build succeeded{}", took.map(|d| format!(" in {d}")).unwrap_or_default()))
            }
            "skipped" => (
                if gate.if_skipped == IfSkipped::Pass { "success" } else { "failure" },
                format!("build skipped: {}", end.skip_reason.as_deref().unwrap_or("no reason given")),
            ),
            "fail" => ("failure", format!("build failed{after}")),
            "cancelled" => ("failure", format!("build cancelled{after}")),
            "terminated" => ("failure", format!("build terminated{after}")),
            other => ("error", format!("build ended with outcome `{other}`, unknown to workers-ci")),
        }
    }

    /// The terminal statuses. A stopped step has seconds, not minutes: the posts then go out
    /// several at a time within a bound, and a second signal ends them.
    async fn finish(&self, gate: &Gate, result: &Result<()>) -> Result<()> {
        let verdicts = self.verdicts(gate, result);
        let posts = verdicts.iter().map(|(w, state, text)| self.post(w, state, text));
        match stop_of(self.ctx, result) {
            Some(stop) => {
                use futures_util::StreamExt;
                let budget = if stop == Stop::Interrupted { ON_SIGNAL } else { ON_TIMEOUT };
                let all = futures_util::stream::iter(posts).buffer_unordered(STOPPING_CONCURRENCY).collect::<Vec<()>>();
                tokio::select! {
                    _ = all => {}
                    () = tokio::time::sleep(budget) => self.ctx.console.warning(&format!(
                        "stopped posting commit statuses after {}s: a Worker's status may still be `pending`",
                        budget.as_secs()
                    )),
                    () = crate::signal::at_least(&self.ctx.signals, 2) => self.ctx.console.warning(
                        "second signal: stopped posting commit statuses; a Worker's status may still be `pending`"
                    ),
                }
            }
            None => {
                for p in posts {
                    p.await;
                }
            }
        }
        self.conclude()
    }

    /// One message for every status that could not be posted, grouped by what went wrong.
    fn conclude(&self) -> Result<()> {
        let failures = std::mem::take(&mut *self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let Some((_, first)) = failures.first() else { return Ok(()) };
        let workers: Vec<&str> = failures.iter().map(|(w, _)| w.as_str()).collect();
        let skipped = if self.refused.load(Ordering::SeqCst) { "; the others were not tried" } else { "" };
        let text = format!(
            "could not post the commit status of Worker(s) {} on {}: {first}{skipped}",
            workers.join(", "),
            self.short()
        );
        let fix = advice(first);
        if self.target.required {
            return Err(Error::GitHub(format!("{text}; {fix}")));
        }
        self.ctx.console.warning(&format!("GitHub: {text} (the Cloudflare step is unaffected; {fix})"));
        Ok(())
    }
}

/// What to do about a refused status; other failures are as for any GitHub write.
fn advice(e: &GhError) -> String {
    match e.status() {
        Some(403) if !matches!(e, GhError::Api { retry_after: Some(_), .. }) => format!(
            "check that {} has `statuses: write` (the job's `permissions:`); a pull request from a fork gets a \
             read-only token",
            hint::input(Key::GithubToken)
        ),
        Some(422) => "GitHub refused the status (its message says why: a commit it does not have, or 1000 statuses \
                      for this commit and context already)"
            .to_owned(),
        _ => github_report::advice(e),
    }
}

/// Whether the step was stopped: its result says so, unless another Worker's failed build
/// outranked the stop in the exit code (the many-Workers path), which the signal count and the
/// deadline still tell.
fn stop_of(ctx: &Ctx, result: &Result<()>) -> Option<Stop> {
    match result {
        Err(Error::Stopped { stop, .. }) => Some(*stop),
        _ if *ctx.signals.borrow() >= 1 => Some(Stop::Interrupted),
        Err(_) if ctx.remaining().is_zero() => Some(Stop::TimedOut),
        _ => None,
    }
}

/// Why a Worker has no outcome: how the step ended before its build did.
fn unfinished(ctx: &Ctx, result: &Result<()>) -> String {
    match (stop_of(ctx, result), result) {
        (Some(Stop::TimedOut), _) => {
            format!("stopped: `timeout` ({}s) elapsed before the build ended", ctx.timeout.as_secs())
        }
        (Some(Stop::Interrupted), _) => "stopped: the job was cancelled before the build ended".into(),
        (None, Err(e)) => format!("not finished: {}", e.to_string().lines().next().unwrap_or_default()),
        (None, Ok(())) => "not followed to its end".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_one_line_and_cut_on_a_character() {
        assert_eq!(description("build\n::error::x\tfailed  after 3s", &[]), "build ::error::x failed after 3s");
        let long = "é".repeat(200);
        let d = description(&long, &[]);
        assert_eq!(d.chars().count(), 140);
        assert!(d.ends_with("é…"), "{d}");
        assert_eq!(description(&"a".repeat(140), &[]), "a".repeat(140), "140 fit");
        assert_eq!(description("token sekrit1 here", &["sekrit1".into()]), "token *** here");
    }

    #[test]
    fn contexts_must_render_legal_and_distinct() {
        let w = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(check_context("workers-ci/{worker}", Some(&w(&["a", "b"]))).is_ok());
        assert!(check_context("deploy", Some(&w(&["a"]))).is_ok(), "one Worker needs no placeholder");
        assert!(check_context("deploy", Some(&w(&["a", "b"]))).is_err());
        assert!(check_context("deploy", None).is_err(), "`*`");
        assert!(check_context("ci/{name}", Some(&w(&["a"]))).is_err(), "unknown placeholder");
        assert!(check_context("ci/{worker}\n", Some(&w(&["a"]))).is_err());
        assert!(check_context(&format!("{}{{worker}}", "x".repeat(250)), None).is_err());
        assert!(
            check_context(
                "{worker}",
                Some(&w(&["ABCDEF0123456789ABCDEF0123456789", "abcdef0123456789abcdef0123456789"]))
            )
            .is_err()
        );
        assert!(check_context(" {worker} ", Some(&w(&[""]))).is_err());
    }
}

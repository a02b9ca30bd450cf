//! Many Workers in one step: `build` and `wait` with a list in `worker` (or `*` for `wait`).
//!
//! One loop follows every build. Status comes from the batched latest-builds read
//! (docs/cloudflare-api.md §3.6, 20 tags a call), so 20 Workers cost what one does; a build that is
//! no longer its Worker's latest (a newer push started) is read by uuid instead. Logs are read
//! by cursor, only for running builds, from a per-tick budget spent first where lines arrived
//! last time. Each build's log is *buffered* and printed as one group when the build stops:
//! live interleaving of several builds would be unreadable, and streaming one build at a time
//! would hold back the others' failures. The price is that a running build's lines show only at
//! its end; the status line says what runs meanwhile.
//!
//! The single-Worker path (`build.rs`, `wait.rs`) is kept as it was: it streams its one log
//! live and its outputs are the per-build ones. This loop is used from two Workers on.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::builds::{BuildArgs, IfNoBuild, WaitArgs, Workers, pick};
use crate::cloudflare::builds::{Build, LATEST_MAX, Outcome, Status};
use crate::cloudflare::{BuildUuid, ScriptTag, TriggerUuid, WorkerName};
use crate::commands::Output;
use crate::error::{Error, Result, Stop, Unsuccessful};
use crate::inputs::{Key, hint};
use crate::pace::jitter;

use super::builds::{known_builds, pick_trigger, recent_builds, reconcile_on_stop, start, triggers_failure};
use super::follow::{Backpressure, Tracker};
use super::live::{Found, Live};
use super::logs::{LogCursor, read_pages};
use super::{Area, Ctx, api_failure, guarded};

/// One tick for every build at once. A successful build of another branch than production costs
/// one more read by uuid when it stops (its `preview_url` is on Get-by-UUID only), so 20 such
/// 3-minute builds spend about 6.5 requests a minute on those; 4.75 s (±5 %, so never above 5 s)
/// keeps the whole step under 20 a minute with logs off (12.6 status reads) while still seeing a
/// stop within 5 s. A production build costs no such read (see [`finish_if_stopped`]).
const TICK: Duration = Duration::from_millis(4750);
const TICK_JITTER: f64 = 0.05;
/// While every build followed is still queued (behind others on the plan's concurrency, for
/// minutes at times), the tick grows by half each time up to this: 7.1, 10.7, 15, 15… s.
/// The first status other than `queued` brings it back to [`TICK`], so a running build's stop is
/// still seen within 5 s; a queued one's start (or cancel) within 15 s.
const QUEUED_MAX: Duration = Duration::from_secs(15);
/// Log reads per tick, shared by every running build.
const LOG_READS_PER_TICK: usize = 2;
/// Consecutive failed status rounds tolerated (each request already retried).
const POLL_FAILURES_TOLERATED: u32 = 3;
const CANCEL_TIMEOUT: Duration = Duration::from_secs(3);

/// Where a Worker's build is.
#[derive(Clone, Debug)]
enum Phase {
    /// `build`: not started yet (held back by `max_parallel`). `wait`: not appeared yet.
    Waiting,
    Following(BuildUuid),
    Done(Box<Build>),
    NoBuild,
}

struct Entry {
    name: String,
    tag: ScriptTag,
    /// The Worker's name when known (a Worker named by its tag has none until looked up): the
    /// deployments path takes it.
    script: Option<WorkerName>,
    /// Whether the successful build went live, once read (`None`: not read, or not a success).
    live: Option<WentLive>,
    phase: Phase,
    /// Started by this step (`build`): cancelled on a stop.
    ours: bool,
    trigger: Option<TriggerUuid>,
    last: Option<Build>,
    cursor: LogCursor,
    lines: Vec<String>,
    /// Whether the last log read brought lines: where the budget goes first.
    flowing: bool,
    last_read: u64,
}

impl Entry {
    fn new(name: String, tag: ScriptTag) -> Entry {
        Entry {
            script: if ScriptTag::parse(&name).is_ok() { None } else { WorkerName::parse(&name).ok() },
            live: None,
            name,
            tag,
            phase: Phase::Waiting,
            ours: false,
            trigger: None,
            last: None,
            cursor: LogCursor::default(),
            lines: Vec::new(),
            flowing: true,
            last_read: 0,
        }
    }

    fn uuid(&self) -> Option<&BuildUuid> {
        match &self.phase {
            Phase::Following(u) => Some(u),
            Phase::Done(b) => Some(&b.build_uuid),
            _ => None,
        }
    }

    fn status_word(&self) -> String {
        match &self.phase {
            Phase::Waiting => "waiting".into(),
            Phase::NoBuild => "no build".into(),
            Phase::Done(b) if b.outcome() == Some(Outcome::Skipped) => {
                format!("skipped: {}", super::follow::skip_reason(b))
            }
            Phase::Done(b) => b.build_outcome.clone().unwrap_or_else(|| "stopped".into()),
            Phase::Following(_) => {
                let b = self.last.as_ref();
                let s = b.and_then(|b| b.status.clone()).unwrap_or_else(|| "queued".into());
                match (s.as_str(), b.and_then(Build::created_at)) {
                    ("running", Some(at)) => format!("running {}", short(jiff::Timestamp::now().duration_since(at))),
                    _ => s,
                }
            }
        }
    }

    fn json(&self) -> Value {
        let b = match &self.phase {
            Phase::Done(b) => Some(&**b),
            _ => self.last.as_ref(),
        };
        let mut v = json!({
            "worker": self.name,
            "tag": self.tag.as_str(),
            "status": match &self.phase {
                Phase::NoBuild => "not_found".to_owned(),
                Phase::Waiting => "waiting".to_owned(),
                _ => b.and_then(|b| b.status.clone()).unwrap_or_else(|| "queued".into()),
            },
            "outcome": b.and_then(|b| b.build_outcome.clone()),
            "trigger_uuid": b.and_then(Build::trigger_uuid).or(self.trigger.as_ref()).map(TriggerUuid::as_str),
        });
        if let Some(u) = self.uuid() {
            v["build_uuid"] = json!(u.as_str());
        }
        if let Some(p) = b.and_then(|b| b.preview_url.as_deref()) {
            v["preview_url"] = json!(p);
        }
        // The same keys as one Worker's entry (`flows::one_build_output`).
        if let Some(WentLive::Found(f)) = &self.live {
            let (version, percent) = f.version.clone().unwrap_or_default();
            v["deployed"] = json!(f.verdict());
            v["deployment_id"] = json!(f.deployment_id);
            v["deployed_version_id"] = json!(f.version.as_ref().map(|_| version));
            v["traffic_percent"] = json!(percent);
        }
        v
    }

    /// The summary table's cell for whether the build went live.
    fn live_cell(&self) -> String {
        match &self.live {
            None => String::new(),
            Some(WentLive::Unread) => "unknown (read failed)".into(),
            Some(WentLive::Found(f)) => match (&f.version, f.verdict()) {
                (Some((v, p)), "true") => format!("yes: {} ({p} %)", short_id(v)),
                (Some((v, p)), _) => format!("partly: {} ({p} %)", short_id(v)),
                _ => "no".into(),
            },
        }
    }
}

/// What the read after a successful build found.
#[derive(Clone, Debug)]
enum WentLive {
    Found(Found),
    /// The read failed (a warning says why).
    Unread,
}

/// A version id's first 8 characters, as its preview URL names it (docs/cloudflare-api.md §6).
fn short_id(v: &str) -> &str {
    v.get(..8).unwrap_or(v)
}

/// `1m12s`, `45s`.
fn short(d: jiff::SignedDuration) -> String {
    let s = d.as_secs().max(0);
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

/// How bad a Worker's result is, for the step's exit: the documented order is fail >
/// terminated > cancelled > timeout > not deployed (`require_deployed`, 2) > no build (1) >
/// success/skipped.
fn severity(u: &Unsuccessful) -> u8 {
    match u {
        Unsuccessful::Fail | Unsuccessful::Unknown(_) => 5,
        Unsuccessful::Terminated => 4,
        Unsuccessful::Cancelled => 3,
    }
}

/// What the cleanup and the outputs see of the loop's state, refreshed after every change.
#[derive(Default)]
struct Shared {
    rows: Mutex<Vec<Value>>,
    /// The summary table's rows as of the last change, for a step that ends before
    /// [`conclude`] writes them (a stop, an error): the summary still shows every Worker.
    table: Mutex<Vec<Vec<String>>>,
    /// Whether the table is in the summary already (written once, however the step ends).
    table_written: std::sync::atomic::AtomicBool,
    /// Builds still running, with whether this step started them.
    running: Mutex<Vec<(BuildUuid, bool)>>,
    /// A start request in flight, for the reconciliation on a stop.
    starting: Tracker,
}

impl Shared {
    fn publish(&self, entries: &[Entry]) {
        *self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            entries.iter().map(Entry::json).collect();
        *self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = table_rows(entries);
        *self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = entries
            .iter()
            .filter_map(|e| match &e.phase {
                Phase::Following(u) if !e.last.as_ref().is_some_and(Build::is_stopped) => Some((u.clone(), e.ours)),
                _ => None,
            })
            .collect();
    }
}

/// The Workers named, with their tags: one listing of the account's Workers for every name
/// (a tag needs none).
async fn resolve(ctx: &Ctx, names: &[String], all: bool) -> Result<Vec<Entry>> {
    let need_list = names.iter().any(|n| ScriptTag::parse(n).is_err());
    let scripts = if need_list || all {
        ctx.client
            .list_scripts()
            .await
            .map_err(|e| api_failure(e, "list the account's Workers to find their tags", Area::Builds))?
    } else {
        Vec::new()
    };
    if all {
        // `*`: every Worker with a tag; one without cannot have builds.
        return Ok(scripts
            .into_iter()
            .filter_map(|s| s.tag.filter(|t| !t.as_str().is_empty()).map(|t| Entry::new(s.id.to_string(), t)))
            .collect());
    }
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for n in names {
        if let Ok(tag) = ScriptTag::parse(n) {
            let mut e = Entry::new(n.clone(), tag);
            // Listed for another name: the tag's name comes free.
            e.script = scripts.iter().find(|s| s.tag.as_ref().is_some_and(|t| t.as_str() == n)).map(|s| s.id.clone());
            out.push(e);
        } else {
            match scripts.iter().find(|s| s.id.as_str() == n).and_then(|s| s.tag.clone()) {
                Some(tag) => out.push(Entry::new(n.clone(), tag)),
                None => missing.push(n.as_str()),
            }
        }
    }
    if !missing.is_empty() {
        return Err(super::builds::unknown_workers(
            &missing,
            names.len() > 1,
            scripts.iter().map(|s| s.id.as_str()),
            super::builds::WorkerFrom::Input,
            None,
        ));
    }
    Ok(out)
}

enum Mode<'a> {
    Build(&'a BuildArgs),
    Wait(&'a WaitArgs),
}

pub(crate) async fn build(ctx: &Ctx, args: &BuildArgs) -> Result<()> {
    run(ctx, Mode::Build(args), args.cancel_on_abort).await
}

pub(crate) async fn wait(ctx: &Ctx, args: &WaitArgs) -> Result<()> {
    run(ctx, Mode::Wait(args), args.cancel_on_abort).await
}

async fn run(ctx: &Ctx, mode: Mode<'_>, cancel_on_abort: bool) -> Result<()> {
    let shared = Shared::default();
    let work = follow_all(ctx, &mode, &shared);
    let result = match guarded(ctx, || shared.starting.creating(), work).await {
        Ok(r) => r,
        Err(stop) => stopped(ctx, &mode, &shared, stop, cancel_on_abort).await,
    };
    // An error before the end (a failed read, a Worker that cannot be built) still leaves the
    // table of what each Worker's build was doing.
    write_table(ctx, &shared, None);
    let rows = shared.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    ctx.output(Output::Builds, &Value::Array(rows).to_string());
    result
}

impl Mode<'_> {
    fn live(&self) -> Live {
        match self {
            Mode::Build(a) => a.live,
            Mode::Wait(a) => a.live,
        }
    }

    /// The Workers named, and whether they are every Worker of the account (`*`).
    fn workers(&self) -> (&[String], bool) {
        match self {
            Mode::Build(a) => (&a.workers, false),
            Mode::Wait(a) => match &a.workers {
                Workers::All => (&[], true),
                Workers::Named(n) => (n, false),
            },
        }
    }
}

async fn follow_all(ctx: &Ctx, mode: &Mode<'_>, shared: &Shared) -> Result<()> {
    let (names, all) = mode.workers();
    let mut entries = resolve(ctx, names, all).await?;
    let (commit, logs) = match mode {
        Mode::Build(a) => (a.commit.clone(), a.logs),
        Mode::Wait(a) => (a.commit.clone(), a.logs),
    };
    if let Some(c) = &commit {
        ctx.output(Output::Commit, c);
    }
    let triggers = match mode {
        // Every trigger is chosen before the first build starts: a Worker that cannot be built
        // stops the step before it has anything to cancel.
        Mode::Build(a) => choose_triggers(ctx, a, &mut entries).await?,
        Mode::Wait(_) => HashMap::new(),
    };
    ctx.console.info(&format!(
        "Following the builds of {} Worker(s){}: {}",
        entries.len(),
        commit.as_deref().map_or_else(String::new, |c| format!(" for commit {c}")),
        if all { "every Worker of the account (`*`)".to_owned() } else { names.join(", ") }
    ));
    shared.publish(&entries);

    let appear_until = match mode {
        Mode::Wait(a) => tokio::time::Instant::now() + a.appear_timeout.min(ctx.remaining()),
        Mode::Build(_) => ctx.deadline,
    };
    let mut tick: u64 = 0;
    let mut failures = 0;
    let mut last_line = String::new();
    let mut slowdown = Backpressure::default();
    let mut tick_len = TICK;
    let requests_before = ctx.client.requests_sent();
    let started = tokio::time::Instant::now();

    loop {
        tick += 1;
        if let Mode::Build(a) = mode {
            // `build`: start what `max_parallel` allows, one request at a time (never twice: see
            // `create_once`), publishing each so a stop right after it still cancels it.
            start_allowed(ctx, a, shared, &mut entries, &triggers).await?;
            if !a.wait {
                ctx.console.info(&format!(
                    "Builds started; not waiting for them ({}). Follow them later with {} and the same `worker` list.",
                    hint::set(Key::Wait, "false"),
                    hint::command(crate::commands::Command::Wait)
                ));
                shared.publish(&entries);
                write_table(ctx, shared, None);
                return Ok(());
            }
        }

        // Status: one batched read per 20 Workers still of interest.
        let appear_open = tokio::time::Instant::now() < appear_until;
        let (latest, round_failed) = read_latest(ctx, mode, &entries, appear_open).await;
        match round_failed {
            Some(e) if e.is_retryable() && failures + 1 < POLL_FAILURES_TOLERATED => {
                failures += 1;
                ctx.console.warning(&format!("reading the latest builds failed, will keep trying: {e}"));
                ctx.sleep(ctx.pace.of(TICK)).await;
                continue;
            }
            Some(e) => return Err(api_failure(e, "read the latest builds of the Workers", Area::Builds)),
            None => failures = 0,
        }
        let mut changed = advance(ctx, mode, commit.as_deref(), &mut entries, &latest).await?;

        // Logs: the shared budget, to running builds where lines arrived last, then the longest unread.
        if logs {
            read_running_logs(ctx, &mut entries, tick).await;
        }

        // Builds that stopped: the full object once unless production (its `preview_url` is on
        // Get-by-UUID only, docs/cloudflare-api.md §E.5), the rest of the log, and the log as one group.
        for e in &mut entries {
            changed |= finish_if_stopped(ctx, logs, e).await;
        }

        // `wait`: Workers whose build did not appear in the window. A listed Worker gets one look
        // at its history (its build may have been replaced as latest by a newer push); `*`
        // simply stops looking.
        if !appear_open && let (Mode::Wait(_), Some(c)) = (mode, &commit) {
            changed |= settle_unappeared(ctx, all, c, &mut entries).await?;
        }
        if all {
            // With `*`, Workers that never built this commit are not part of the gate.
            entries.retain(|e| !matches!(e.phase, Phase::NoBuild));
        }
        shared.publish(&entries);

        if changed {
            let line =
                entries.iter().map(|e| format!("[{}] {}", e.name, e.status_word())).collect::<Vec<_>>().join(" · ");
            if line != last_line {
                ctx.console.info(&line);
                last_line = line;
            }
        }
        let open = entries.iter().any(|e| matches!(e.phase, Phase::Following(_) | Phase::Waiting));
        if !(open || all && tokio::time::Instant::now() < appear_until) {
            break;
        }
        let factor = f64::from(slowdown.factor(ctx.client.rate_limited())) * ctx.client.pressure();
        tick_len = next_tick(tick_len, all_queued(mode, &entries, tokio::time::Instant::now() < appear_until));
        ctx.sleep(ctx.pace.of(jitter(tick_len, TICK_JITTER)).mul_f64(factor)).await;
    }
    let requests = ctx.client.requests_sent() - requests_before;
    ctx.console.debug(&format!(
        "followed {} builds for {:.1}s with {requests} API requests",
        entries.len(),
        started.elapsed().as_secs_f64()
    ));
    // The loop published its last state before it broke off: a stop during the reads below
    // still shows it.
    went_live(ctx, mode.live(), &mut entries).await?;
    shared.publish(&entries);
    write_table(ctx, shared, None);
    conclude(ctx, mode, &entries)
}

/// After the builds end: whether each successful build went live, read for every Worker at once
/// (`flows::live::actives`: a deployments read per Worker, the builds behind every active
/// version in batched reads of 20), plus the account's Workers once when one was named by its
/// tag. A failed read is a warning, or the step's error with `require_deployed`. The `deployed`
/// output sums them up: `true` when every successful build's version serves all traffic,
/// `false` when none serves any, `partial` otherwise; a Worker whose read failed counts as
/// not live.
async fn went_live(ctx: &Ctx, live: Live, entries: &mut [Entry]) -> Result<()> {
    if live == Live::Skip {
        return Ok(());
    }
    let succeeded: Vec<usize> = (0..entries.len())
        .filter(|&i| matches!(&entries[i].phase, Phase::Done(b) if b.outcome() == Some(Outcome::Success)))
        .collect();
    if succeeded.is_empty() {
        return Ok(());
    }
    let failed = |ctx: &Ctx, e: &mut Entry, err: Error| -> Result<()> {
        if live == Live::Require {
            return Err(err);
        }
        ctx.console.warning(&format!(
            "[{}] the build succeeded, but whether it went live could not be read: {}",
            e.name,
            err.report()
        ));
        e.live = Some(WentLive::Unread);
        Ok(())
    };
    if succeeded.iter().any(|&i| entries[i].script.is_none()) {
        match ctx.client.list_scripts().await {
            Ok(scripts) => {
                for &i in &succeeded {
                    let e = &mut entries[i];
                    if e.script.is_none() {
                        e.script = scripts.iter().find(|s| s.tag.as_ref() == Some(&e.tag)).map(|s| s.id.clone());
                        if e.script.is_none() {
                            let why = format!("no Worker of the account has the tag {}", e.tag.as_str());
                            failed(ctx, e, Error::NotFound(why))?;
                        }
                    }
                }
            }
            Err(err) => {
                let err = api_failure(err, "list the account's Workers to find their names", Area::Builds);
                for &i in &succeeded {
                    if entries[i].script.is_none() {
                        failed(ctx, &mut entries[i], Error::Refused(err.report()))?;
                    }
                }
            }
        }
    }
    let targets: Vec<usize> = succeeded.iter().copied().filter(|&i| entries[i].script.is_some()).collect();
    let names: Vec<WorkerName> = targets.iter().filter_map(|&i| entries[i].script.clone()).collect();
    let results = super::live::actives(ctx, &names).await;
    for (&i, r) in targets.iter().zip(results) {
        let e = &mut entries[i];
        let Phase::Done(b) = &e.phase else { continue };
        match r {
            Ok(active) => {
                let f = super::live::found_in(active.as_ref(), b);
                match (&f.version, f.verdict()) {
                    (Some((v, p)), "true") => {
                        ctx.console.info(&format!("[{}] live: version {v} serves {p} % of traffic", e.name));
                    }
                    (Some((v, p)), _) => {
                        ctx.console.notice(&format!("[{}] partly live: version {v} serves {p} % of traffic", e.name));
                    }
                    _ => ctx.console.notice(&format!("[{}] {}", e.name, super::live::not_live(b, &e.name, &f))),
                }
                e.live = Some(WentLive::Found(f));
            }
            Err(err) => failed(ctx, e, err)?,
        }
    }
    let verdicts: Vec<&str> = succeeded
        .iter()
        .map(|&i| match &entries[i].live {
            Some(WentLive::Found(f)) => f.verdict(),
            _ => "false",
        })
        .collect();
    let all = |v: &str| verdicts.iter().all(|x| *x == v);
    ctx.output(
        Output::Deployed,
        if all("true") {
            "true"
        } else if all("false") {
            "false"
        } else {
            "partial"
        },
    );
    Ok(())
}

/// Whether every build of interest is still queued: each one followed was last seen `queued`
/// (or not yet read), and `wait` has no Worker whose build may still appear (appearing is
/// watched at the running pace).
fn all_queued(mode: &Mode<'_>, entries: &[Entry], appear_open: bool) -> bool {
    let mut any = false;
    for e in entries {
        match &e.phase {
            Phase::Following(_) => {
                any = true;
                if e.last.as_ref().is_some_and(|b| b.status() != Status::Queued) {
                    return false;
                }
            }
            Phase::Waiting if appear_open && matches!(mode, Mode::Wait(_)) => return false,
            _ => {}
        }
    }
    any
}

/// The next tick: longer while every build is queued ([`QUEUED_MAX`]), else [`TICK`].
fn next_tick(last: Duration, queued: bool) -> Duration {
    if queued { last.mul_f64(1.5).min(QUEUED_MAX) } else { TICK }
}

/// Each Worker's trigger for the branch, by the entry's index. The Workers' trigger lists are
/// read all at once: none depends on another.
async fn choose_triggers(ctx: &Ctx, a: &BuildArgs, entries: &mut [Entry]) -> Result<HashMap<usize, TriggerUuid>> {
    let mut triggers: HashMap<usize, TriggerUuid> = HashMap::new();
    let lists = futures_util::future::join_all(entries.iter().map(|e| ctx.client.list_triggers(&e.tag))).await;
    for ((i, e), ts) in entries.iter_mut().enumerate().zip(lists) {
        let ts = ts.map_err(|err| triggers_failure(err, &e.name))?;
        let t = pick_trigger(&ts, None, &a.branch).map_err(|err| named(&e.name, err))?;
        e.trigger = Some(t.trigger_uuid.clone());
        triggers.insert(i, t.trigger_uuid.clone());
    }
    Ok(triggers)
}

/// Starts the builds still waiting, as many as `max_parallel` leaves room for.
async fn start_allowed(
    ctx: &Ctx,
    a: &BuildArgs,
    shared: &Shared,
    entries: &mut [Entry],
    triggers: &HashMap<usize, TriggerUuid>,
) -> Result<()> {
    let max_parallel = a.max_parallel.unwrap_or(usize::MAX);
    let running = entries.iter().filter(|e| matches!(e.phase, Phase::Following(_))).count();
    let mut slots = max_parallel.saturating_sub(running);
    for i in 0..entries.len() {
        if slots == 0 {
            break;
        }
        if !matches!(entries[i].phase, Phase::Waiting) {
            continue;
        }
        let trigger = triggers[&i].clone();
        let one = BuildArgs {
            worker: entries[i].name.clone(),
            workers: vec![entries[i].name.clone()],
            max_parallel: None,
            branch: a.branch.clone(),
            commit: a.commit.clone(),
            trigger: None,
            logs: a.logs,
            cancel_on_abort: a.cancel_on_abort,
            wait: true,
            // Only used to start the build: the loop reads the deployments itself, once, at the end.
            live: super::live::Live::Skip,
        };
        let tag = entries[i].tag.clone();
        let known = known_builds(ctx, &tag).await.map_err(|e| named(&one.worker, e))?;
        let uuid =
            start(ctx, &shared.starting, &tag, &trigger, &one, known).await.map_err(|e| named(&one.worker, e))?;
        ctx.console.info(&format!("[{}] started build {uuid}", entries[i].name));
        entries[i].ours = true;
        entries[i].phase = Phase::Following(uuid);
        shared.publish(entries);
        slots -= 1;
    }
    Ok(())
}

/// The latest build of every Worker followed (or, for `wait` while builds may still appear,
/// waited for), by tag; with the last error if a read failed.
async fn read_latest(
    ctx: &Ctx,
    mode: &Mode<'_>,
    entries: &[Entry],
    appear_open: bool,
) -> (HashMap<String, Build>, Option<crate::cloudflare::ApiError>) {
    let polled: Vec<ScriptTag> = entries
        .iter()
        .filter(|e| {
            matches!(e.phase, Phase::Following(_))
                || (matches!(e.phase, Phase::Waiting) && appear_open && matches!(mode, Mode::Wait(_)))
        })
        .map(|e| e.tag.clone())
        .collect();
    let mut latest: HashMap<String, Build> = HashMap::new();
    let mut round_failed = None;
    for chunk in polled.chunks(LATEST_MAX) {
        match ctx.client.latest_builds(chunk).await {
            Ok(m) => latest.extend(m),
            Err(e) => round_failed = Some(e),
        }
    }
    (latest, round_failed)
}

/// Moves each entry on by the latest builds read: `wait` finds the commit's build, and a
/// followed build gets its status. `true` when a status changed.
async fn advance(
    ctx: &Ctx,
    mode: &Mode<'_>,
    commit: Option<&str>,
    entries: &mut [Entry],
    latest: &HashMap<String, Build>,
) -> Result<bool> {
    let mut changed = false;
    for e in entries {
        let newest = latest.get(e.tag.as_str());
        match e.phase.clone() {
            Phase::Waiting => {
                if let (Mode::Wait(_), Some(c)) = (mode, commit)
                    && let Some(b) = newest.and_then(|b| pick(std::slice::from_ref(b), c))
                {
                    ctx.console.info(&format!("[{}] found build {}", e.name, b.build_uuid));
                    e.phase = Phase::Following(b.build_uuid.clone());
                    e.last = Some(b);
                    changed = true;
                }
            }
            Phase::Following(uuid) => {
                let b =
                    match newest {
                        Some(b) if b.build_uuid == uuid => b.clone(),
                        // A newer build of this Worker replaced ours as its latest: read ours by uuid.
                        _ => ctx.client.get_build(&uuid).await.map_err(|err| {
                            api_failure(err, &format!("read the status of build {uuid}"), Area::Builds)
                        })?,
                    };
                if e.last.as_ref().and_then(|l| l.status.clone()) != b.status {
                    changed = true;
                }
                e.last = Some(b);
            }
            Phase::Done(_) | Phase::NoBuild => {}
        }
    }
    Ok(changed)
}

/// One tick's share of log reads for the running builds.
async fn read_running_logs(ctx: &Ctx, entries: &mut [Entry], tick: u64) {
    let mut order: Vec<usize> = (0..entries.len())
        .filter(|&i| {
            matches!(entries[i].phase, Phase::Following(_))
                && entries[i].last.as_ref().is_some_and(|b| b.status() == Status::Running)
        })
        .collect();
    order.sort_by_key(|&i| (!entries[i].flowing, entries[i].last_read));
    for &i in order.iter().take(LOG_READS_PER_TICK) {
        let e = &mut entries[i];
        let Some(uuid) = e.uuid().cloned() else { continue };
        let before = e.lines.len();
        let _ = read_log(ctx, &uuid, &mut e.cursor, &mut e.lines, 1).await;
        e.flowing = e.lines.len() > before;
        e.last_read = tick;
    }
}

/// Marks a followed build that stopped as done, printing its log; `true` when it had stopped.
async fn finish_if_stopped(ctx: &Ctx, logs: bool, e: &mut Entry) -> bool {
    let Phase::Following(uuid) = e.phase.clone() else { return false };
    if !e.last.as_ref().is_some_and(Build::is_stopped) {
        return false;
    }
    let mut b = e.last.clone().unwrap_or_default();
    // Only a successful build of another branch than production is read again, for its
    // `preview_url`: a production build (its trigger deploys with `wrangler deploy`) has none to
    // give (docs/cloudflare-api.md §E.5; docs/api-assumptions.md #70), and the batched answer
    // already settled everything else.
    if b.outcome() == Some(Outcome::Success)
        && !b.deploys_to_production()
        && let Ok(full) = ctx.client.get_build(&uuid).await
    {
        b = full;
    }
    if logs && b.outcome() != Some(Outcome::Skipped) {
        let mut drained = false;
        for _ in 0..3 {
            if read_log(ctx, &uuid, &mut e.cursor, &mut e.lines, usize::MAX).await.is_ok() {
                drained = true;
                break;
            }
        }
        if !drained {
            ctx.console.warning(&format!("[{}] could not read the rest of the log of build {uuid}", e.name));
        }
        let _g = ctx.console.group(&format!(
            "[{}] build log ({uuid}): {}",
            e.name,
            b.build_outcome.as_deref().unwrap_or("")
        ));
        ctx.console.untrusted(e.lines.iter().map(String::as_str));
    }
    if b.outcome() == Some(Outcome::Skipped) {
        ctx.console.notice(&format!(
            "[{}] build {uuid} was skipped by Cloudflare: {}.",
            e.name,
            super::follow::skip_reason(&b)
        ));
    }
    ctx.ended(&e.name, &b);
    if b.build_outcome.as_deref() == Some("success") && b.deploys_to_production() {
        ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner).production.push(e.name.clone());
    }
    e.phase = Phase::Done(Box::new(b));
    true
}

/// The Workers still waiting once the appear window has closed: a listed one gets its build of
/// `commit` from its history, or none; with `*`, none. `true` when a listed one was settled.
async fn settle_unappeared(ctx: &Ctx, all: bool, commit: &str, entries: &mut [Entry]) -> Result<bool> {
    let mut changed = false;
    for e in entries {
        if !matches!(e.phase, Phase::Waiting) {
            continue;
        }
        if all {
            e.phase = Phase::NoBuild;
            continue;
        }
        let since = super::ago(Duration::from_secs(24 * 3600));
        let builds = recent_builds(&ctx.client, &e.tag, since)
            .await
            .map_err(|err| api_failure(err, "list the Worker's builds", Area::Builds))?;
        match pick(&builds, commit) {
            Some(b) => {
                e.phase = Phase::Following(b.build_uuid.clone());
                e.last = Some(b);
            }
            None => e.phase = Phase::NoBuild,
        }
        changed = true;
    }
    Ok(changed)
}

fn named(worker: &str, e: Error) -> Error {
    match e {
        Error::NotFound(m) => Error::NotFound(format!("Worker {worker}: {m}")),
        Error::Refused(m) => Error::Refused(format!("Worker {worker}: {m}")),
        other => other,
    }
}

async fn read_log(
    ctx: &Ctx,
    uuid: &BuildUuid,
    cursor: &mut LogCursor,
    lines: &mut Vec<String>,
    max_pages: usize,
) -> Result<(), crate::cloudflare::ApiError> {
    let fetch = |c: Option<String>| async move { ctx.client.build_logs(uuid, c.as_deref()).await };
    read_pages(fetch, cursor, max_pages, |fresh| lines.extend(fresh)).await
}

/// The summary table, and the exit by the worst outcome.
fn conclude(ctx: &Ctx, mode: &Mode<'_>, entries: &[Entry]) -> Result<()> {
    let if_no_build = match mode {
        Mode::Wait(a) => a.if_no_build,
        Mode::Build(_) => IfNoBuild::Fail,
    };
    let mut worst: Option<(u8, Error)> = None;
    let mut consider = |sev: u8, err: Error| {
        if worst.as_ref().is_none_or(|(s, _)| sev > *s) {
            // The error it replaces is not the step's any more: it gets its own annotation.
            if let Some((_, shown)) = worst.replace((sev, err)) {
                ctx.console.error(shown.title(), &shown.report());
            }
        } else {
            ctx.console.error(err.title(), &err.report());
        }
    };
    let mut no_build = Vec::new();
    let mut not_live = Vec::new();
    for e in entries {
        if mode.live() == Live::Require
            && let (Phase::Done(b), Some(WentLive::Found(f))) = (&e.phase, &e.live)
            && f.verdict() == "false"
        {
            not_live.push(format!("\n  - {}", super::live::not_live(b, &e.name, f)));
        }
        match &e.phase {
            Phase::Done(b) => {
                let u = match b.outcome() {
                    Some(Outcome::Success | Outcome::Skipped) => None,
                    Some(Outcome::Fail) => Some(Unsuccessful::Fail),
                    Some(Outcome::Cancelled) => Some(Unsuccessful::Cancelled),
                    Some(Outcome::Terminated) => Some(Unsuccessful::Terminated),
                    Some(Outcome::Other(o)) => Some(Unsuccessful::Unknown(o)),
                    None => Some(Unsuccessful::Unknown("(none)".into())),
                };
                if let Some(u) = u {
                    // One annotation per failed build: the worst is the step's error, printed
                    // once at exit; the others are printed here.
                    consider(
                        severity(&u),
                        Error::Build { build_uuid: b.build_uuid.to_string(), worker: e.name.clone(), outcome: u },
                    );
                }
            }
            Phase::NoBuild => no_build.push(e.name.as_str()),
            _ => {}
        }
    }
    if !not_live.is_empty() {
        // Below a failed build, above a missing one (the documented order).
        consider(
            2,
            Error::NotDeployed(format!(
                "{} succeeded without going live (`require_deployed`):{}\nDeploy their versions, or leave {} unset.",
                crate::ci::plural(not_live.len(), "build", "builds"),
                not_live.concat(),
                hint::input(Key::RequireDeployed)
            )),
        );
    }
    if !no_build.is_empty() {
        let msg = format!(
            "no build of the commit appeared within {}s ({}) for: {}",
            match mode {
                Mode::Wait(a) => a.appear_timeout.as_secs(),
                Mode::Build(_) => 0,
            },
            hint::input(Key::AppearTimeout),
            no_build.join(", ")
        );
        match if_no_build {
            IfNoBuild::Pass => {
                ctx.console.notice(&format!("{msg}. Passing them, because of {}.", hint::set(Key::IfNoBuild, "pass")));
            }
            // Worse outcomes win the exit code; the missing builds are then named in a warning.
            IfNoBuild::Fail if worst.is_none() => {
                worst = Some((
                    1,
                    Error::NoBuild(format!(
                        "{msg}\n  (set {} to let this step succeed)",
                        hint::set(Key::IfNoBuild, "pass")
                    )),
                ));
            }
            IfNoBuild::Fail => {}
        }
    }
    match worst {
        None => Ok(()),
        Some((_, e)) => {
            if !no_build.is_empty() && !matches!(e, Error::NoBuild(_)) && if_no_build == IfNoBuild::Fail {
                ctx.console.warning(&format!("no build of the commit appeared for: {}", no_build.join(", ")));
            }
            Err(e)
        }
    }
}

fn table_rows(entries: &[Entry]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            let b = match &e.phase {
                Phase::Done(b) => Some(&**b),
                _ => e.last.as_ref(),
            };
            let duration = b
                .and_then(|b| Some((b.created_at()?, b.stopped_at()?)))
                .map(|(a, z)| short(z.duration_since(a)))
                .unwrap_or_default();
            vec![
                e.name.clone(),
                e.status_word(),
                duration,
                e.uuid().map(ToString::to_string).unwrap_or_default(),
                b.and_then(|b| b.preview_url.clone()).unwrap_or_default(),
                e.live_cell(),
            ]
        })
        .collect()
}

/// The per-Worker table into the summary, once however the step ends; `cancelled` are the
/// builds a stop has just cancelled, shown as such.
fn write_table(ctx: &Ctx, shared: &Shared, cancelled: Option<&HashSet<BuildUuid>>) {
    if shared.table_written.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let mut rows = shared.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    for r in &mut rows {
        if cancelled.is_some_and(|c| c.iter().any(|u| u.as_str() == r[3])) {
            "cancelled".clone_into(&mut r[1]);
        }
    }
    if !rows.is_empty() {
        ctx.summary(|s| s.table("Builds", &["Worker", "Outcome", "Duration", "Build", "Link", "Deployed"], &rows));
    }
}

/// Stopped by a signal or `timeout`: cancel every build still running that this step started
/// (and, for `wait` told `cancel_on_abort`, the ones it follows), then exit by the worst
/// outcome already known, or by the stop.
async fn stopped(ctx: &Ctx, mode: &Mode<'_>, shared: &Shared, stop: Stop, cancel_on_abort: bool) -> Result<()> {
    if let Mode::Build(a) = mode
        && shared.starting.creating()
    {
        reconcile_on_stop(ctx, &shared.starting, a).await;
        if let Some(u) = shared.starting.build_uuid() {
            let mut running = shared.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !running.iter().any(|(r, _)| *r == u) {
                running.push((u, true));
            }
        }
    }
    let reason = match stop {
        Stop::Interrupted => "the job was cancelled".to_owned(),
        Stop::TimedOut => format!("`timeout` ({}s) elapsed", ctx.timeout.as_secs()),
    };
    let running = shared.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let is_wait = matches!(mode, Mode::Wait(_));
    let mut cancelled: HashSet<BuildUuid> = HashSet::new();
    for (uuid, ours) in running {
        let may = cancel_on_abort && (ours || is_wait);
        if !may {
            ctx.console.info(&format!(
                "{reason}: build {uuid} keeps running (not started by this step, or cancel_on_abort is false)."
            ));
            continue;
        }
        ctx.console.info(&format!("{reason}: cancelling build {uuid}…"));
        tokio::select! {
            r = ctx.client.cancel_build(&uuid, CANCEL_TIMEOUT) => match r {
                Ok(_) => { cancelled.insert(uuid); }
                Err(e) => ctx.console.warning(&format!("could not cancel build {uuid}: {e}")),
            },
            () = crate::signal::at_least(&ctx.signals, 2) => {
                ctx.console.warning("second signal: exiting without waiting for the cancel requests");
                break;
            }
        }
    }
    {
        let mut rows = shared.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for r in rows.iter_mut() {
            if r["build_uuid"].as_str().is_some_and(|u| cancelled.iter().any(|c| c.as_str() == u)) {
                r["status"] = json!("stopped");
                r["outcome"] = json!("cancelled");
            }
        }
    }
    write_table(ctx, shared, Some(&cancelled));
    ctx.summary(|s| s.row("Stopped", &reason));
    // A build that had already failed outranks a timeout (the documented order); a signal is
    // always 130, as the runner expects of a cancelled job.
    if stop == Stop::TimedOut {
        let rows = shared.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let worst = rows
            .iter()
            .filter(|r| !r["build_uuid"].as_str().is_some_and(|u| cancelled.iter().any(|c| c.as_str() == u)))
            .filter_map(|r| {
                let u = match r["outcome"].as_str()? {
                    "fail" => Unsuccessful::Fail,
                    "terminated" => Unsuccessful::Terminated,
                    "cancelled" => Unsuccessful::Cancelled,
                    _ => return None,
                };
                Some((severity(&u), r["worker"].as_str()?.to_owned(), r["build_uuid"].as_str()?.to_owned(), u))
            })
            .max_by_key(|(s, ..)| *s);
        if let Some((_, worker, build_uuid, outcome)) = worst {
            return Err(Error::Build { build_uuid, worker, outcome });
        }
    }
    Err(Error::Stopped { stop, message: format!("{reason}; stopped following the builds") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_builds_are_polled_with_backoff() {
        let mut t = TICK;
        let mut seen = Vec::new();
        for _ in 0..5 {
            t = next_tick(t, true);
            seen.push(t.as_millis());
        }
        assert_eq!(seen, [7125, 10687, 15000, 15000, 15000]);
        assert_eq!(next_tick(QUEUED_MAX, false), TICK);
    }
}

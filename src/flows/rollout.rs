//! A rollout that checks itself (`stages`): the new version beside the live deployment at 0 %
//! (or Cloudflare's minimum), a smoke test through `Cloudflare-Workers-Version-Overrides`, then
//! each stage's share held for its soak and, once analytics have caught up with the soak
//! (`analytics_lag`, §K.3), its error rate read from them (docs/cloudflare-api.md §K). Any failed check, signal or `timeout` restores the deployment
//! that was live before, exactly, and reads it back: exit 13.
//!
//! Signals are handled here rather than by `flows::interruptible`: a rollout stopped halfway
//! would leave the new version on part of the traffic, which is the one outcome a cancelled
//! job must not have. The first signal rolls back; a second one (the runner's SIGTERM after
//! 7.5 s) stops at once, saying what is live.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cloudflare::analytics::Counts;
use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::{DeploymentId, VersionId, WorkerName};
use crate::commands::Output;
use crate::error::{Error, Result};
use crate::inputs::rollout::{Gate, RolloutArgs, Smoke};
use crate::inputs::{Key, hint};
use crate::signal;

use super::deployments::{create, describe_split, ids, list};
use super::{Area, Ctx, api_failure};

/// How long the smoke test keeps trying while the deployment propagates ("can take a couple of
/// seconds", §K.1): nominal, scaled by the pace in tests.
const SMOKE_PATIENCE: Duration = Duration::from_secs(30);
/// The first wait between smoke attempts; it doubles up to [`SMOKE_BACKOFF_CAP`].
const SMOKE_BACKOFF: Duration = Duration::from_secs(1);
const SMOKE_BACKOFF_CAP: Duration = Duration::from_secs(8);
/// One smoke request's limit.
const SMOKE_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The smallest share the deployments spec allows (`minimum: 0.01`, §5), used when 0 is refused.
const MINIMUM_SHARE: f64 = 0.01;

/// What a rollout starts from, read before any write.
pub(crate) struct Start {
    /// The live deployment's split, restored exactly on a rollback.
    pub previous: Vec<DeploymentVersion>,
    /// The version the new one goes beside: the previous split's main version.
    pub base: VersionId,
    pub known: HashSet<DeploymentId>,
}

/// Checks what a rollout needs before anything is written: a live deployment to go beside and
/// return to, that does not already serve `new` (for `deploy`), and, when the error gate reads
/// analytics, a token that may read them (one cheap query, refused with advice otherwise).
pub(crate) async fn preflight(
    ctx: &Ctx,
    worker: &WorkerName,
    new: Option<&VersionId>,
    args: &RolloutArgs,
    deployments: &[Deployment],
) -> Result<Start> {
    let Some(live) = deployments.first() else {
        return Err(Error::Refused(format!(
            "{}: a staged rollout goes beside the live deployment and returns to it on failure, but this Worker \
             has no deployment yet; deploy a first version without `stages`. Nothing was deployed.",
            hint::input(Key::Stages)
        )));
    };
    let previous = live.versions.clone();
    if let Some(n) = new
        && previous.iter().any(|v| &v.version_id == n)
    {
        return Err(Error::Refused(format!(
            "{}: version {n} is already in the live deployment ({}); a staged rollout starts from a deployment \
             without it. Nothing was deployed.",
            hint::input(Key::Stages),
            describe_split(&previous, &HashMap::new())
        )));
    }
    let base = previous
        .iter()
        .reduce(|a, b| if b.percentage > a.percentage { b } else { a })
        .map(|v| v.version_id.clone())
        .ok_or_else(|| Error::Refused("the live deployment lists no version".into()))?;
    if args.reads_analytics() {
        check_analytics(ctx, worker, &base).await?;
    }
    let (soaks, lags) = args.waits();
    if soaks + lags >= ctx.timeout {
        ctx.console.warning(&format!(
            "the stages wait at least {} ({} of soaks{}) and {} is {}: the rollout will stop at the timeout and roll \
             back. Raise `timeout` or shorten the soaks.",
            human(soaks + lags),
            human(soaks),
            if lags.is_zero() {
                String::new()
            } else {
                format!(" and {} for analytics to catch up after them, `analytics_lag`", human(lags))
            },
            hint::input(Key::Timeout),
            human(ctx.timeout)
        ));
    }
    if let [_, _] = previous.as_slice() {
        let other: Vec<DeploymentVersion> = previous.iter().filter(|v| v.version_id != base).cloned().collect();
        ctx.console.notice(&format!(
            "The live deployment splits traffic ({}): the new version goes in beside {base}, its main version, and \
             {} leaves the deployment (a deployment holds at most two versions). A rollback restores the split \
             exactly.",
            describe_split(&previous, &HashMap::new()),
            other.first().map_or_else(String::new, |v| v.version_id.to_string())
        ));
    }
    Ok(Start { previous, base, known: ids(deployments) })
}

/// One cheap analytics read (the last minute of the live version) before any deploy: a token
/// without Account Analytics Read is refused now, not at the first soak with traffic moved.
async fn check_analytics(ctx: &Ctx, worker: &WorkerName, version: &VersionId) -> Result<()> {
    let now = jiff::Timestamp::now();
    let (from, to) = window(now.checked_sub(jiff::SignedDuration::from_secs(60)).unwrap_or(now), now);
    match ctx.client.version_invocations(worker, version, &from, &to).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_auth() || e.mentions("authz") || e.mentions("not authorized") => Err(Error::Refused(format!(
            "the error gate reads analytics, and Cloudflare refused this token ({e}); give {} the permission \
             Account Analytics Read (Account → Account Analytics → Read), or set {} to roll out without an error \
             gate. Nothing was deployed.",
            hint::input(Key::ApiToken),
            hint::set(Key::MaxErrorRate, "off")
        ))),
        Err(e) => Err(api_failure(
            e,
            "read the Worker's analytics (the error gate's permission check); nothing was deployed",
            Area::Workers,
        )),
    }
}

/// One stage as reported in the `stages` output and the timeline.
#[derive(Clone, Debug, Serialize)]
struct StageRecord {
    percent: f64,
    started: Option<String>,
    ended: Option<String>,
    requests: Option<u64>,
    errors: Option<u64>,
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// Why the rollout stops: a check that failed, or the job stopped from outside.
enum Halt {
    Check(String),
    Signal,
    Timeout,
}

impl Halt {
    fn text(&self, ctx: &Ctx) -> String {
        match self {
            Halt::Check(why) => why.clone(),
            Halt::Signal => "the job was cancelled (SIGINT/SIGTERM)".into(),
            Halt::Timeout => format!("`timeout` ({}s) elapsed", ctx.timeout.as_secs()),
        }
    }
}

/// Runs the stages for `new` from `start`. Writes `stages`, `deployment_id` and the timeline.
#[allow(clippy::too_many_lines, reason = "the stages read as one scenario, top to bottom")]
pub(crate) async fn run(
    ctx: &Ctx,
    worker: &WorkerName,
    new: &VersionId,
    args: &RolloutArgs,
    start: Start,
    message: Option<&str>,
    numbers: HashMap<VersionId, u64>,
) -> Result<()> {
    let began = Instant::now();
    let mut records: Vec<StageRecord> = args
        .stages
        .iter()
        .map(|s| StageRecord {
            percent: s.percent,
            started: None,
            ended: None,
            requests: None,
            errors: None,
            verdict: "not_run",
            note: None,
        })
        .collect();
    let mut soaked = Duration::ZERO;
    let mut known = start.known.clone();
    let mut numbers = numbers;
    let mut outcome: Option<(usize, Halt)> = None;
    // A failure before any deployment of ours went live has nothing to roll back.
    let mut deployed = false;
    for (k, stage) in args.stages.iter().enumerate() {
        if let Some(halt) = stopped(ctx) {
            outcome = Some((k, halt));
            break;
        }
        let mut share = stage.percent;
        let split = |share: f64| {
            let mut s = vec![DeploymentVersion { version_id: new.clone(), percentage: share }];
            if share < 100.0 {
                s.push(DeploymentVersion { version_id: start.base.clone(), percentage: 100.0 - share });
            }
            s
        };
        let made = match create(ctx, worker, &split(share), message, false, &known, numbers.clone()).await {
            // The spec's minimum is 0.01 where the docs and wrangler send 0 (§K.1, open): a
            // refusal of 0 is answered with the minimum, said in the log.
            Err(Error::Api { source, .. }) if share == 0.0 && source.status() == Some(400) => {
                ctx.console.notice(&format!(
                    "Cloudflare refused a version at 0 % ({source}); the new version goes in at its minimum, \
                     {MINIMUM_SHARE} %, and takes that share of traffic during the smoke test."
                ));
                share = MINIMUM_SHARE;
                records[k].percent = share;
                create(ctx, worker, &split(share), message, false, &known, numbers.clone()).await
            }
            other => other,
        };
        let (d, n) = match made {
            Ok(x) => x,
            // Nothing of ours is live: the deployment before is untouched, and the error is the
            // API's (a redeploy of the same split would be a write that changes nothing).
            Err(e) if !deployed => return Err(e),
            Err(e) => {
                outcome = Some((k, Halt::Check(format!("could not deploy the stage: {}", e.report()))));
                break;
            }
        };
        deployed = true;
        numbers = n;
        known.insert(d.id.clone());
        let started = jiff::Timestamp::now();
        records[k].started = Some(started.to_string());
        ctx.console.info(&format!(
            "Stage {}/{}: deployment {} is live: {}",
            k + 1,
            args.stages.len(),
            d.id,
            describe_split(&split(share), &numbers)
        ));
        ctx.output(Output::DeploymentId, d.id.as_str());
        if share < 100.0
            && stage.percent == 0.0
            && let Some(smoke) = &args.smoke
            && let Err(halt) = smoke_test(ctx, worker, new, smoke).await
        {
            records[k].ended = Some(jiff::Timestamp::now().to_string());
            records[k].verdict = if matches!(halt, Halt::Check(_)) { "failed" } else { "interrupted" };
            outcome = Some((k, halt));
            break;
        }
        if let Some(soak) = stage.soak {
            let wait = ctx.pace.of(soak);
            ctx.console.info(&format!("Soaking {} at {share} % for {}.", new, human(soak)));
            let t0 = Instant::now();
            let halt = hold(ctx, wait).await;
            soaked += t0.elapsed();
            let ended = jiff::Timestamp::now();
            records[k].ended = Some(ended.to_string());
            if let Some(h) = halt {
                records[k].verdict = "interrupted";
                outcome = Some((k, h));
                break;
            }
            if let Some(gate) = args.gate {
                let (from, to) = window(started, ended);
                let label = format!("Stage {}/{} ({share} %)", k + 1, args.stages.len());
                let read = match read_window(ctx, worker, new, gate, (&from, &to), &label).await {
                    Read::Complete(c) => Ok(c),
                    Read::Failed(e) => Err(e),
                    Read::Halted(h, partial) => {
                        records[k].verdict = "interrupted";
                        if let Some(c) = partial {
                            records[k].requests = Some(c.requests);
                            records[k].errors = Some(c.errors);
                            records[k].note =
                                Some("partial counts: stopped while analytics were catching up".to_owned());
                        }
                        outcome = Some((k, h));
                        break;
                    }
                };
                match read {
                    Ok(c) => {
                        records[k].requests = Some(c.requests);
                        records[k].errors = Some(c.errors);
                        match judge(c, gate) {
                            Verdict::Passed(line) => {
                                records[k].verdict = "passed";
                                ctx.console.info(&format!("Stage {}/{} ({share} %): {line}", k + 1, args.stages.len()));
                            }
                            Verdict::NoSignal(line) if gate.pass_without_signal => {
                                records[k].verdict = "no_signal";
                                records[k].note = Some(line.clone());
                                ctx.console.notice(&format!(
                                    "Stage {}/{} ({share} %): {line}; going on (`if_no_signal: pass`).",
                                    k + 1,
                                    args.stages.len()
                                ));
                            }
                            Verdict::NoSignal(line) => {
                                records[k].verdict = "no_signal";
                                records[k].note = Some(line.clone());
                                outcome = Some((k, Halt::Check(format!("{line} (`if_no_signal: fail`)"))));
                                break;
                            }
                            Verdict::Failed(line) => {
                                records[k].verdict = "failed";
                                outcome = Some((k, Halt::Check(line)));
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        records[k].verdict = "failed";
                        outcome = Some((k, Halt::Check(format!("could not read the error rate from analytics: {e}"))));
                        break;
                    }
                }
            } else {
                records[k].verdict = "passed";
            }
        } else {
            records[k].ended = Some(jiff::Timestamp::now().to_string());
            records[k].verdict = "passed";
        }
    }
    let report = |ctx: &Ctx, records: &[StageRecord], tail: Option<(&str, String)>| {
        ctx.output(Output::Stages, &serde_json::to_string(records).unwrap_or_default());
        ctx.summary(|s| {
            let rows: Vec<Vec<String>> = records
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
                    let num = |v: Option<u64>| v.map_or_else(|| "–".into(), |n| n.to_string());
                    vec![
                        (k + 1).to_string(),
                        format!("{} %", r.percent),
                        opt(&r.started),
                        opt(&r.ended),
                        num(r.requests),
                        num(r.errors),
                        r.verdict.to_owned(),
                    ]
                })
                .collect();
            s.table("Rollout", &["stage", "share", "started", "ended", "requests", "errors", "verdict"], &rows);
            if let Some((k, v)) = &tail {
                s.row(k, v);
            }
        });
    };
    let overhead = began.elapsed().saturating_sub(soaked);
    ctx.console.debug(&format!("rollout: {:.0} ms beyond the soaks", overhead.as_secs_f64() * 1000.0));
    let Some((k, halt)) = outcome else {
        ctx.console.info(&format!("Rollout complete: {new} serves 100 %."));
        report(ctx, &records, Some(("Rollout", format!("complete: {new} at 100 %"))));
        return Ok(());
    };
    let why = halt.text(ctx);
    let at = format!("stage {}/{} ({} %)", k + 1, args.stages.len(), records[k].percent);
    ctx.console.warning(&format!("Rollout stopped at {at}: {why}. Restoring the previous deployment."));
    match restore(ctx, worker, &start, &known, numbers).await {
        Ok(d) => {
            report(ctx, &records, Some(("Rolled back", format!("at {at}: {why}; deployment {} restored", d.id))));
            Err(Error::RolledBack(format!(
                "rolled back at {at}: {why}. The previous deployment ({}) is live again as deployment {}, read back.",
                describe_split(&start.previous, &HashMap::new()),
                d.id
            )))
        }
        Err(e) => {
            report(ctx, &records, Some(("Rollback failed", format!("at {at}: {why}"))));
            Err(Error::Refused(format!(
                "the rollout stopped at {at} ({why}) and restoring the previous deployment failed: {}. Check the \
                 Worker's deployments; restore it with {} `{}`.",
                e.report(),
                hint::input(Key::Versions),
                start
                    .previous
                    .iter()
                    .map(|v| format!("{}@{}", v.version_id, v.percentage))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }
}

/// The previous split deployed again and read back. Sent with `force`: the versions served a
/// moment ago, so a secret change since (10220) must not keep the new version live. A second
/// signal abandons it.
async fn restore(
    ctx: &Ctx,
    worker: &WorkerName,
    start: &Start,
    known: &HashSet<DeploymentId>,
    numbers: HashMap<VersionId, u64>,
) -> Result<Deployment> {
    let work = async {
        let (d, numbers) =
            create(ctx, worker, &start.previous, Some("workers-ci: rollback"), true, known, numbers).await?;
        let live = list(ctx, worker).await?;
        let same = live.first().is_some_and(|l| {
            l.versions.len() == start.previous.len()
                && start.previous.iter().all(|p| {
                    l.versions
                        .iter()
                        .any(|v| v.version_id == p.version_id && (v.percentage - p.percentage).abs() < 1e-6)
                })
        });
        if !same {
            return Err(Error::Refused(format!(
                "the deployments read back show {} live, not the previous deployment",
                live.first().map_or_else(|| "nothing".into(), |l| describe_split(&l.versions, &numbers))
            )));
        }
        ctx.output(Output::DeploymentId, d.id.as_str());
        ctx.console.info(&format!(
            "Rolled back: deployment {} is live: {} (read back).",
            d.id,
            describe_split(&start.previous, &numbers)
        ));
        Ok(d)
    };
    tokio::select! {
        r = work => r,
        () = signal::at_least(&ctx.signals, 2) => Err(Error::Refused("a second cancellation signal stopped the rollback".into())),
    }
}

fn stopped(ctx: &Ctx) -> Option<Halt> {
    if *ctx.signals.borrow() > 0 {
        Some(Halt::Signal)
    } else if ctx.remaining().is_zero() {
        Some(Halt::Timeout)
    } else {
        None
    }
}

/// The first wait between reads of a soak window while analytics catch up; it doubles up to
/// [`LAG_BACKOFF_CAP`], and the last wait ends exactly `analytics_lag` after the soak. Nominal,
/// scaled by the pace in tests.
const LAG_BACKOFF: Duration = Duration::from_secs(30);
const LAG_BACKOFF_CAP: Duration = Duration::from_secs(60);

/// What reading a soak window came to.
enum Read {
    /// The counts once the window's end was `analytics_lag` old: what the gate judges.
    Complete(Counts),
    /// The last read failed (after the client's own retries).
    Failed(String),
    /// A signal or `timeout` came first; the counts seen so far, if any.
    Halted(Halt, Option<Counts>),
}

/// Reads `[from, to]` until the window is complete, the share held meanwhile. Analytics lag a
/// few minutes (§K.3): a read right after the soak undercounts, most of all the soak's last
/// minutes, so a short soak would fall under `min_requests` and an error burst at its end would
/// go unseen. Complete means the window's end is `analytics_lag` old, and nothing less: two
/// reads that agree do not prove it (a Worker with sparse traffic, or one whose errors came
/// last, reads the same twice while its last minutes are still missing). Reads in between only
/// show the user what is arriving and why the rollout waits; one that fails is not fatal.
async fn read_window(
    ctx: &Ctx,
    worker: &WorkerName,
    new: &VersionId,
    gate: Gate,
    (from, to): (&str, &str),
    label: &str,
) -> Read {
    let lag = gate.analytics_lag;
    if !lag.is_zero() {
        ctx.console.info(&format!(
            "{label}: analytics lag up to {} (`analytics_lag`), so the soak window {from} – {to} is read until its \
             end is that old; {new} keeps its share meanwhile.",
            human(lag)
        ));
    }
    let mut waited = Duration::ZERO;
    let mut step = LAG_BACKOFF;
    let mut seen: Option<Counts> = None;
    let mut n = 0;
    loop {
        n += 1;
        if waited < lag {
            let wait = step.min(lag.saturating_sub(waited));
            if let Some(h) = hold(ctx, ctx.pace.of(wait)).await {
                return Read::Halted(h, seen);
            }
            waited += wait;
            step = (step * 2).min(LAG_BACKOFF_CAP);
        }
        let complete = waited >= lag;
        let sent = tokio::select! {
            r = ctx.client.version_invocations(worker, new, from, to) => r,
            () = signal::at_least(&ctx.signals, 1) => return Read::Halted(Halt::Signal, seen),
        };
        let next = if complete {
            "complete".to_owned()
        } else {
            format!(
                "still catching up: {} of {} after the soak; reading again in {}",
                human(waited),
                human(lag),
                human(step.min(lag.saturating_sub(waited)))
            )
        };
        match sent {
            Ok(c) => {
                ctx.console.info(&format!(
                    "{label}: analytics read {n}: {} requests, {} errors in {from} – {to} ({next}).",
                    c.requests, c.errors
                ));
                if complete {
                    return Read::Complete(c);
                }
                seen = Some(c);
            }
            Err(e) if complete => return Read::Failed(e.to_string()),
            Err(e) => ctx.console.notice(&format!("{label}: analytics read {n} failed ({e}); {next}.")),
        }
    }
}

/// Waits `d`, unless a signal or the deadline comes first.
async fn hold(ctx: &Ctx, d: Duration) -> Option<Halt> {
    if let Some(h) = stopped(ctx) {
        return Some(h);
    }
    tokio::select! {
        () = tokio::time::sleep(d) => None,
        () = signal::at_least(&ctx.signals, 1) => Some(Halt::Signal),
        () = tokio::time::sleep_until(ctx.deadline) => Some(Halt::Timeout),
    }
}

enum Verdict {
    Passed(String),
    NoSignal(String),
    Failed(String),
}

fn judge(c: Counts, gate: Gate) -> Verdict {
    if c.requests < gate.min_requests || c.requests == 0 {
        return Verdict::NoSignal(format!(
            "signal too small: {} request(s) in the soak window, fewer than `min_requests` ({})",
            c.requests, gate.min_requests
        ));
    }
    let rate = c.errors as f64 / c.requests as f64;
    let line = format!(
        "{} errors in {} requests ({:.2} %, the gate is {:.2} %)",
        c.errors,
        c.requests,
        rate * 100.0,
        gate.max_error_rate * 100.0
    );
    if rate > gate.max_error_rate {
        Verdict::Failed(format!("error rate too high: {line}"))
    } else {
        Verdict::Passed(line)
    }
}

/// The analytics window around `[from, to]` in whole seconds (floor, ceiling): the form the
/// GraphQL `Time` filters are documented with (§K.3).
fn window(from: jiff::Timestamp, to: jiff::Timestamp) -> (String, String) {
    let floor = jiff::Timestamp::from_second(from.as_second()).unwrap_or(from);
    let up = to.as_second() + i64::from(to.subsec_nanosecond() > 0);
    let ceil = jiff::Timestamp::from_second(up).unwrap_or(to);
    (floor.to_string(), ceil.to_string())
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

/// The override header's value: an RFC 8941 Dictionary naming the version for this Worker.
pub(crate) fn override_header(worker: &WorkerName, version: &VersionId) -> Option<String> {
    let key = sfv::KeyRef::from_str(worker.as_str()).ok()?;
    let value = sfv::StringRef::from_str(version.as_str()).ok()?;
    let mut ser = sfv::DictSerializer::new();
    let _ = ser.bare_item(key, value);
    ser.finish()
}

/// The smoke test: every URL must answer as expected, with the override naming `new`; each
/// URL is tried until it does or [`SMOKE_PATIENCE`] passes (the deployment propagating).
async fn smoke_test(ctx: &Ctx, worker: &WorkerName, new: &VersionId, smoke: &Smoke) -> Result<(), Halt> {
    let header = override_header(worker, new)
        .ok_or_else(|| Halt::Check("the Worker's name cannot be a Version-Overrides key".into()))?;
    // Its own HTTP client: the API token must never reach the Worker.
    let http = reqwest::Client::builder()
        .timeout(SMOKE_REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Halt::Check(format!("could not set up the smoke test's HTTP client: {e}")))?;
    let want_body = smoke.body.as_ref().map(|b| b.replace("{version_id}", new.as_str()));
    for url in &smoke.urls {
        let deadline = Instant::now() + ctx.pace.of(SMOKE_PATIENCE);
        let mut wait = SMOKE_BACKOFF;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let t0 = Instant::now();
            let sent = http
                .request(smoke.method.clone(), url.clone())
                .header("Cloudflare-Workers-Version-Overrides", &header)
                .send()
                .await;
            let result = match sent {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.text().await.unwrap_or_default();
                    let ms = t0.elapsed().as_millis();
                    let problem = if status != smoke.status {
                        Some(format!("answered {status}, expected {}", smoke.status))
                    } else if want_body.as_ref().is_some_and(|b| !body.contains(b.as_str())) {
                        Some("its body lacks the expected `smoke_body` text".to_owned())
                    } else {
                        None
                    };
                    ctx.console.info(&format!(
                        "Smoke test {} attempt {attempt}: {} {} in {ms} ms{}",
                        url,
                        smoke.method,
                        status,
                        problem.as_deref().map_or_else(String::new, |p| format!(" ({p})"))
                    ));
                    problem
                }
                Err(e) => {
                    let ms = t0.elapsed().as_millis();
                    ctx.console.info(&format!(
                        "Smoke test {url} attempt {attempt}: {} failed in {ms} ms ({})",
                        smoke.method,
                        crate::cloudflare::client::describe(&e)
                    ));
                    Some(format!("the request failed: {}", crate::cloudflare::client::describe(&e)))
                }
            };
            let Some(problem) = result else { break };
            if Instant::now() + ctx.pace.of(wait) > deadline {
                return Err(Halt::Check(format!("smoke test failed: {url} {problem} (after {attempt} attempts)")));
            }
            if let Some(h) = hold(ctx, ctx.pace.of(wait)).await {
                return Err(h);
            }
            wait = (wait * 2).min(SMOKE_BACKOFF_CAP);
        }
    }
    ctx.console.info("Smoke test passed through the version override.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_override_header_is_a_dictionary_of_one_string() {
        let w = WorkerName::parse("my-worker").unwrap();
        let v = VersionId::parse("dc8dcd28-271b-4367-9840-6c244f84cb40").unwrap();
        assert_eq!(override_header(&w, &v).as_deref(), Some(r#"my-worker="dc8dcd28-271b-4367-9840-6c244f84cb40""#));
        let digit = WorkerName::parse("1st-worker").unwrap();
        assert_eq!(override_header(&digit, &v), None, "a Dictionary key starts with a lowercase letter or `*`");
    }

    #[test]
    fn the_gate_judges_rate_and_signal() {
        let gate =
            Gate { max_error_rate: 0.01, min_requests: 100, pass_without_signal: false, analytics_lag: Duration::ZERO };
        assert!(matches!(judge(Counts { requests: 1000, errors: 10 }, gate), Verdict::Passed(_)));
        assert!(matches!(judge(Counts { requests: 1000, errors: 11 }, gate), Verdict::Failed(_)));
        assert!(matches!(judge(Counts { requests: 99, errors: 0 }, gate), Verdict::NoSignal(_)));
        let zero = Gate { min_requests: 0, ..gate };
        assert!(matches!(judge(Counts { requests: 0, errors: 0 }, zero), Verdict::NoSignal(_)));
    }

    #[test]
    fn windows_are_whole_seconds_around_the_soak() {
        let from: jiff::Timestamp = "2026-12-05T12:00:01.250Z".parse().unwrap();
        let to: jiff::Timestamp = "2026-12-05T12:05:01.001Z".parse().unwrap();
        assert_eq!(window(from, to), ("2026-12-05T12:00:01Z".into(), "2026-12-05T12:05:02Z".into()));
    }
}

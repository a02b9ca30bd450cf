//! `wait`: follow the build Cloudflare's Git integration started for this commit (one Worker,
//! a list, or `*`), without starting one.

use std::time::Duration;

use super::{Command, Env, FOLLOWED_BUILD, Facts, Output, Prepared};
use crate::cloudflare::builds::Build;
use crate::cloudflare::{BuildUuid, ScriptTag};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::flows::builds::{
    IfNoBuild, WaitArgs, WorkerFrom, Workers, commit_cell, pick, recent_builds, resolve_tag, triggers_failure,
};
use crate::flows::follow::{self, FollowOpts, Tracker};
use crate::flows::logs::Tail;
use crate::flows::statuses::Gate;
use crate::flows::trigger::{self, Choice};
use crate::flows::{Area, Ctx, api_failure, guarded};
use crate::inputs::args::{branch, commit, workers_or_tags};
use crate::inputs::{InputError, Inputs, Key, hint};
use crate::pace::jitter;

pub(crate) const FACTS: Facts = Facts {
    name: "wait",
    about: "follow the build Cloudflare's Git integration started for a commit (or `build_uuid`)",
    exits: &[
        Exit::Success,
        Exit::BuildFailed,
        Exit::BadInput,
        Exit::BuildCancelled,
        Exit::BuildTerminated,
        Exit::Api,
        Exit::TimedOut,
        Exit::NoBuild,
        Exit::GitHub,
        Exit::Internal,
        Exit::NotDeployed,
        Exit::Interrupted,
    ],
    reports_to_github: true,
    outputs: FOLLOWED_BUILD,
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = WaitArgs::from_inputs(i)?;
    let gate = super::build::gate(i, args.commit.as_deref(), true, Some(args.appear_timeout), args.if_no_build)?;
    // The follow loop handles signals itself (cancelling only with `cancel_on_abort`).
    Ok(Prepared::new(Vec::new(), move |ctx| Box::pin(run(ctx, args, gate))))
}

/// How old a build of the commit may be and still be found: a workflow re-run the same day
/// follows the build its push started rather than waiting for one that never comes.
const LOOKBACK: Duration = Duration::from_secs(24 * 3600);
const LOOK_FIRST: Duration = Duration::from_secs(3);
const LOOK_MAX: Duration = Duration::from_secs(10);

async fn run(ctx: &Ctx, args: WaitArgs, gate: Gate) -> Result<()> {
    // `*` names no Worker until their builds appear: those get their status at the end.
    let named = match &args.workers {
        Workers::Named(n) => n.clone(),
        Workers::All => Vec::new(),
    };
    let flow = async {
        if let Some(worker) = args.workers.one() {
            let result = single(ctx, &args, worker).await;
            crate::flows::one_build_output(ctx, worker);
            result
        } else {
            crate::flows::many::wait(ctx, &args).await
        }
    };
    // Boxed: the flows' futures are large enough already.
    Box::pin(crate::flows::statuses::around(ctx, &gate, &named, flow)).await
}

async fn single(ctx: &Ctx, args: &WaitArgs, worker: &str) -> Result<()> {
    let tracker = Tracker::default();
    let work = async {
        let (tag, name) = resolve_tag(ctx, worker, WorkerFrom::Input).await?;
        ctx.output(Output::WorkerTag, tag.as_str());
        if let Some(b) = &args.branch {
            ctx.output(Output::Branch, b);
        }
        if let Some(c) = &args.commit {
            ctx.output(Output::Commit, c);
        }
        ctx.summary(|s| {
            s.row("Worker", &name);
            if let Some(c) = &args.commit {
                s.row("Commit", &commit_cell(c));
            }
        });
        let (uuid, seen) = if let Some(u) = &args.build_uuid {
            (u.clone(), None)
        } else {
            let commit = args.commit.as_deref().unwrap_or_default();
            ctx.console.info(&format!("Looking for the build of commit {commit} of Worker {name}…"));
            match find(ctx, &tag, commit, args.appear_timeout).await? {
                Some(b) => (b.build_uuid.clone(), Some(b)),
                None => return not_found(ctx, &tag, args, worker).await,
            }
        };
        tracker.set_build(&uuid);
        ctx.output(Output::BuildUuid, uuid.as_str());
        ctx.summary(|s| s.row("Build", uuid.as_str()));
        let mut tail = Tail::default();
        let build = follow::follow(ctx, &tracker, &uuid, &FollowOpts { logs: args.logs, seen }, &mut tail).await?;
        if let Some(t) = build.trigger_uuid() {
            ctx.output(Output::TriggerUuid, t.as_str());
        }
        if args.branch.is_none()
            && let Some(b) = build.branch()
        {
            ctx.output(Output::Branch, b);
            ctx.summary(|s| s.row("Branch", b));
        }
        if args.commit.is_none()
            && let Some(c) = build.commit()
        {
            ctx.output(Output::Commit, c);
            ctx.summary(|s| s.row("Commit", &commit_cell(c)));
        }
        follow::conclude(ctx, &build, &name, &tail)?;
        crate::flows::live::after(ctx, &build, &name, args.live).await
    };
    match guarded(ctx, || false, work).await {
        Ok(r) => r,
        Err(stop) => follow::stopped(ctx, &tracker, stop, args.cancel_on_abort).await,
    }
}

async fn find(ctx: &Ctx, tag: &ScriptTag, commit: &str, appear: Duration) -> Result<Option<Build>> {
    // The user's clock, like `timeout`: never scaled.
    let until = tokio::time::Instant::now() + appear.min(ctx.remaining());
    let mut wait = LOOK_FIRST;
    let mut since = crate::flows::ago(LOOKBACK);
    loop {
        let looked = crate::flows::ago(crate::flows::RECONCILE_LOOKBACK);
        let builds = recent_builds(&ctx.client, tag, since)
            .await
            .map_err(|e| api_failure(e, "list the Worker's builds", Area::Builds))?;
        if let Some(b) = pick(&builds, commit) {
            return Ok(Some(b));
        }
        // What the first look did not find can only be newer than it.
        since = looked;
        // The last look is at the end of the window, not one interval before it.
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let next = ctx.pace.of(jitter(wait, 0.2)).mul_f64(ctx.client.pressure()).min(left);
        ctx.sleep(next).await;
        wait = LOOK_MAX.min(wait.mul_f64(1.5));
    }
}

/// No build appeared: say why that can happen, naming what we can check.
async fn not_found(ctx: &Ctx, tag: &ScriptTag, args: &WaitArgs, worker: &str) -> Result<()> {
    let mut why = Vec::new();
    match ctx.client.list_triggers(tag).await {
        Ok(triggers) => match (&args.branch, triggers.is_empty()) {
            (_, true) => why.push("this Worker has no build triggers: its repository is not connected to Workers Builds".to_owned()),
            (Some(branch), false) => match trigger::choose(&triggers, branch) {
                Choice::None => why.push(format!("no trigger builds branch `{branch}`; the triggers are:\n{}", trigger::describe(&triggers))),
                Choice::One(t) => why.push(format!(
                    "trigger {} builds this branch only when a changed file matches its watch paths (include {:?}, exclude {:?}); the commit may have changed none",
                    t.name(),
                    t.path_includes,
                    t.path_excludes
                )),
                Choice::Ambiguous(_) => {}
            },
            (None, false) => {}
        },
        Err(e) => return Err(triggers_failure(e, worker)),
    }
    why.push(
        "the Git integration may not be connected to this repository, or the commit was never pushed to it".into(),
    );
    why.push(format!(
        "the build may take longer than {} to be recorded: raise {}, pass {}, or start one with {}",
        humane(args.appear_timeout),
        hint::input(Key::AppearTimeout),
        hint::input(Key::BuildUuid),
        hint::command(Command::Build)
    ));
    let reasons: String = why.iter().map(|w| format!("\n  - {w}")).collect();
    let msg = format!(
        "no build for commit {} appeared within {} ({}). Possible reasons:{reasons}",
        args.commit.as_deref().unwrap_or_default(),
        humane(args.appear_timeout),
        hint::input(Key::AppearTimeout)
    );
    ctx.output(Output::BuildStatus, "not_found");
    ctx.output(Output::BuildOutcome, "");
    ctx.summary(|s| s.row("Outcome", "no build found"));
    match args.if_no_build {
        IfNoBuild::Pass => {
            ctx.console.notice(&format!("{msg}\nPassing, because of {}.", hint::set(Key::IfNoBuild, "pass")));
            Ok(())
        }
        IfNoBuild::Fail => Err(Error::NoBuild(format!(
            "{msg}\n  (set {} to let this step succeed)",
            hint::set(Key::IfNoBuild, "pass")
        ))),
    }
}

/// `2m`, `90s`, `1h30m`: as the user writes `appear_timeout`.
fn humane(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m{sec}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

impl WaitArgs {
    fn from_inputs(i: &Inputs) -> Result<WaitArgs, InputError> {
        let build_uuid = i.get(Key::BuildUuid).map(BuildUuid::parse).transpose().map_err(|_| {
            InputError::new(Key::BuildUuid, "is not a UUID (like 0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10)")
        })?;
        let commit = commit(i)?;
        if build_uuid.is_none() && commit.is_none() {
            return Err(InputError::new(
                Key::Commit,
                format!(
                    "is required for `wait` unless {} is set; on GitHub it defaults to the commit of the event",
                    hint::input(Key::BuildUuid)
                ),
            ));
        }
        let workers = workers_or_tags(i)?;
        if workers.one().is_none() && build_uuid.is_some() {
            return Err(InputError::new(
                Key::BuildUuid,
                "follows one build, but `worker` names several Workers: leave it unset, or name one Worker",
            ));
        }
        Ok(WaitArgs {
            workers,
            branch: branch(i)?,
            commit,
            build_uuid,
            logs: i.bool(Key::Logs, true)?,
            // Not ours to cancel unless asked: the build was started by the Git integration,
            // and cancelling it on a CI cancel surprises people.
            cancel_on_abort: i.bool(Key::CancelOnAbort, false)?,
            appear_timeout: i.duration(Key::AppearTimeout, Duration::from_secs(120))?,
            live: super::build::live(i)?,
            if_no_build: match i.get(Key::IfNoBuild) {
                None | Some("fail") => IfNoBuild::Fail,
                Some("pass") => IfNoBuild::Pass,
                Some(_) => return Err(InputError::new(Key::IfNoBuild, "must be `fail` or `pass`")),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(uuid: &str, commit: &str, created: &str) -> Build {
        serde_json::from_value(serde_json::json!({
            "build_uuid": uuid, "created_on": created,
            "build_trigger_metadata": {"commit_hash": commit}
        }))
        .unwrap()
    }

    #[test]
    fn picks_exact_commit_never_a_neighbour() {
        let builds = [
            b("newer-other", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "2026-11-25T10:00:05Z"),
            b("ours", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2026-11-25T10:00:00Z"),
        ];
        assert_eq!(pick(&builds, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap().build_uuid, "ours");
        assert_eq!(pick(&builds, "AAAAAAA").unwrap().build_uuid, "ours");
        assert!(pick(&builds, "cccccccccccccccccccccccccccccccccccccccc").is_none());
    }

    #[test]
    fn rerun_of_the_same_commit_takes_the_newest() {
        let builds = [
            b("first", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2026-11-25T10:00:00Z"),
            b("rerun", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2026-11-25T11:00:00Z"),
        ];
        assert_eq!(pick(&builds, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap().build_uuid, "rerun");
    }
}

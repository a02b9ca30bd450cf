//! `build`: start a Workers Builds build for a branch and commit (one Worker or several),
//! follow it, and exit by its outcome.

use super::{Env, FOLLOWED_BUILD, Facts, Prepared};
use crate::error::Result;
use crate::exit::Exit;
use crate::flows::builds::{self, BuildArgs, IfNoBuild, Workers};
use crate::flows::live::Live;
use crate::flows::statuses::{self, Gate, IfSkipped};
use crate::flows::{Ctx, many};
use crate::inputs::args::{branch, commit, full_commit, workers_or_tags};
use crate::inputs::{InputError, Inputs, Key, hint};

pub(crate) const FACTS: Facts = Facts {
    name: "build",
    about: "start a Workers Builds build for a branch and commit, follow it, exit by its outcome",
    exits: &[
        Exit::Success,
        Exit::BuildFailed,
        Exit::BadInput,
        Exit::BuildCancelled,
        Exit::BuildTerminated,
        Exit::Api,
        Exit::TimedOut,
        Exit::GitHub,
        Exit::Internal,
        Exit::NotDeployed,
        Exit::Interrupted,
    ],
    reports_to_github: true,
    outputs: FOLLOWED_BUILD,
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = BuildArgs::from_inputs(i)?;
    let gate = gate(i, args.commit.as_deref(), false, None, IfNoBuild::Fail)?;
    if gate.statuses.is_some() && !args.wait {
        return Err(InputError::new(
            Key::CommitStatuses,
            format!(
                "needs the build followed to its end, and {} leaves it running: a status would stay `pending`. \
                 Post them from the step that follows the build ({} with the same `worker`), or unset one of them",
                hint::set(Key::Wait, "false"),
                hint::command(crate::commands::Command::Wait)
            ),
        ));
    }
    // The follow loop cancels its build on a signal itself: it is not `interruptible`.
    Ok(Prepared::new(Vec::new(), move |ctx| Box::pin(run(ctx, args, gate))))
}

async fn run(ctx: &Ctx, args: BuildArgs, gate: Gate) -> Result<()> {
    let flow =
        async { if args.workers.len() > 1 { many::build(ctx, &args).await } else { builds::one(ctx, &args).await } };
    // Boxed: the flows' futures are large enough already.
    Box::pin(statuses::around(ctx, &gate, &args.workers, flow)).await
}

/// `if_skipped`, and the commit statuses' inputs: on only when asked (an existing workflow's
/// token has no `statuses: write`), with a token, a full commit SHA and a context that renders
/// a legal, distinct context for every Worker.
pub(super) fn gate(
    i: &Inputs,
    commit: Option<&str>,
    waiting: bool,
    appear: Option<std::time::Duration>,
    if_no_build: IfNoBuild,
) -> Result<Gate, InputError> {
    let if_skipped = match i.get(Key::IfSkipped) {
        None | Some("pass") => IfSkipped::Pass,
        Some("fail") => IfSkipped::Fail,
        Some(_) => return Err(InputError::new(Key::IfSkipped, "must be `pass` or `fail`")),
    };
    let off = Gate { statuses: None, if_skipped, if_no_build };
    if !i.bool(Key::CommitStatuses, false)? {
        // The action passes the default along: only another value is a context set in vain.
        if i.get(Key::StatusContext).is_some_and(|c| c != statuses::DEFAULT_CONTEXT) {
            return Err(InputError::new(
                Key::StatusContext,
                format!(
                    "names the commit statuses' context, but they are off: set {}, or unset this",
                    hint::set(Key::CommitStatuses, "true")
                ),
            ));
        }
        return Ok(off);
    }
    if i.get(Key::GithubToken).is_none() {
        return Err(InputError::new(
            Key::CommitStatuses,
            format!(
                "needs {} (the workflow's `github.token`, with `statuses: write` in the job's `permissions:`)",
                hint::input(Key::GithubToken)
            ),
        ));
    }
    let commit = commit.filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit())).ok_or_else(|| {
        InputError::new(
            Key::Commit,
            "must be a full 40-hex commit SHA when `commit_statuses` is on: GitHub sets a status on a full SHA (on \
             GitHub it defaults to the event's commit)",
        )
    })?;
    let names = match workers_or_tags(i)? {
        Workers::Named(n) => Some(n),
        Workers::All => None,
    };
    let template = i.get(Key::StatusContext).unwrap_or(statuses::DEFAULT_CONTEXT);
    statuses::check_context(template, names.as_deref()).map_err(|m| InputError::new(Key::StatusContext, m))?;
    Ok(Gate {
        statuses: Some(statuses::Options {
            context: template.to_owned(),
            commit: commit.to_ascii_lowercase(),
            waiting,
            appear,
        }),
        ..off
    })
}

impl BuildArgs {
    fn from_inputs(i: &Inputs) -> Result<BuildArgs, InputError> {
        let workers = match workers_or_tags(i)? {
            Workers::Named(w) => w,
            Workers::All => {
                return Err(InputError::new(
                    Key::Worker,
                    "`*` (every Worker) is for `wait` only: `build` starts builds, so name the Workers to build",
                ));
            }
        };
        let trigger = i.get(Key::Trigger).map(str::to_owned);
        if workers.len() > 1 && trigger.is_some() {
            return Err(InputError::new(
                Key::Trigger,
                "names one Worker's trigger, but `worker` lists several: leave it unset so each Worker's trigger is chosen by `branch`",
            ));
        }
        let max_parallel = match i.get(Key::MaxParallel) {
            None => None,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => return Err(InputError::new(Key::MaxParallel, "must be a whole number of at least 1")),
            },
        };
        let wait = i.bool(Key::Wait, true)?;
        if max_parallel.is_some() && !wait {
            return Err(InputError::new(
                Key::MaxParallel,
                "holds builds back until others finish, which needs `wait: true`: unset one of them",
            ));
        }
        Ok(BuildArgs {
            worker: workers[0].clone(),
            workers,
            max_parallel,
            branch: branch(i)?.ok_or_else(|| {
                InputError::new(Key::Branch, format!("is required for `build`; set {}, or run on a push or pull_request event where GITHUB_REF_NAME/GITHUB_HEAD_REF say it", hint::input(Key::Branch)))
            })?,
            commit: commit(i)?.map(|c| full_commit(&c)).transpose()?,
            trigger,
            logs: i.bool(Key::Logs, true)?,
            cancel_on_abort: i.bool(Key::CancelOnAbort, true)?,
            wait,
            live: live(i)?,
        })
    }
}

/// Whether a successful build is checked for going live (every Worker's, one or several), and
/// whether one that did not fails the step.
pub(super) fn live(i: &Inputs) -> Result<Live, InputError> {
    Ok(if i.bool(Key::RequireDeployed, false)? { Live::Require } else { Live::Report })
}

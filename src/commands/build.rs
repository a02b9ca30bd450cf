//! `build`: start a Workers Builds build for a branch and commit (one Worker or several),
//! follow it, and exit by its outcome.

use super::{Env, FOLLOWED_BUILD, Facts, Prepared};
use crate::error::Result;
use crate::exit::Exit;
use crate::flows::builds::{self, BuildArgs, Workers};
use crate::flows::live::Live;
use crate::flows::{Ctx, github_report, many};
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
    // The follow loop cancels its build on a signal itself: it is not `interruptible`.
    Ok(Prepared::new(Vec::new(), move |ctx| Box::pin(run(ctx, args))))
}

async fn run(ctx: &Ctx, args: BuildArgs) -> Result<()> {
    let result = if args.workers.len() > 1 { many::build(ctx, &args).await } else { builds::one(ctx, &args).await };
    github_report::after_builds(ctx, result).await
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

//! `redeploy`: the guide's recipe. The active deployment's version, the build that produced it
//! (`GET /builds/builds?version_ids=`, §3.6), and a new build on that build's trigger with its
//! branch and commit, followed exactly as `build` follows one.

use super::{Command, Env, Facts, Output, Prepared};
use crate::cloudflare::{ScriptTag, VersionId, WorkerName};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::flows::builds::{self, BuildArgs, triggers_failure};
use crate::flows::live::Live;
use crate::flows::{Area, Ctx, api_failure};
use crate::inputs::args::worker_name;
use crate::inputs::{InputError, Inputs, Key, hint};

pub(crate) const FACTS: Facts = Facts {
    name: "redeploy",
    about: "build again the branch and commit of the active deployment's version, and follow it",
    exits: &[
        Exit::Success,
        Exit::BuildFailed,
        Exit::BadInput,
        Exit::BuildCancelled,
        Exit::BuildTerminated,
        Exit::Api,
        Exit::TimedOut,
        Exit::Internal,
        Exit::Interrupted,
    ],
    reports_to_github: false,
    outputs: &super::joined::<9, 1, 10>(super::FOLLOWED, [Output::RedeployedVersionId]),
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = RedeployArgs::from_inputs(i)?;
    // Its build is followed as `build` follows one, signals included.
    Ok(Prepared::new(Vec::new(), move |ctx| Box::pin(run(ctx, args))))
}

/// `redeploy`: the Worker by name (its deployments are listed by name), and how to follow.
#[derive(Debug)]
pub(crate) struct RedeployArgs {
    pub worker: WorkerName,
    pub logs: bool,
    pub cancel_on_abort: bool,
    pub wait: bool,
}

impl RedeployArgs {
    fn from_inputs(i: &Inputs) -> Result<RedeployArgs, InputError> {
        Ok(RedeployArgs {
            worker: worker_name(i)?,
            logs: i.bool(Key::Logs, true)?,
            cancel_on_abort: i.bool(Key::CancelOnAbort, true)?,
            wait: i.bool(Key::Wait, true)?,
        })
    }
}

async fn run(ctx: &Ctx, args: RedeployArgs) -> Result<()> {
    let worker = args.worker.as_str().to_owned();
    // The client reads a 404 as "no deployments" (nothing uploaded yet); either way there is
    // nothing to redeploy.
    let deployments = ctx
        .client
        .list_deployments(&args.worker)
        .await
        .map_err(|e| api_failure(e, "list the Worker's deployments", Area::Workers))?;
    let Some(active) = deployments.first() else {
        return Err(Error::Refused(format!(
            "Cloudflare lists no deployment for {worker} (nothing deployed yet, or no Worker of that name: check the \
             input {}): there is nothing to redeploy",
            hint::input(Key::Worker)
        )));
    };
    // The version serving most of the traffic (all of it, unless a gradual rollout is under way).
    let Some(version) = active
        .versions
        .iter()
        .max_by(|a, b| a.percentage.total_cmp(&b.percentage))
        .map(|v| v.version_id.clone())
        .filter(|v| !v.is_empty())
    else {
        return Err(Error::Refused(format!("the active deployment of {worker} names no version")));
    };
    ctx.output(Output::RedeployedVersionId, version.as_str());
    let builds = ctx
        .client
        .builds_by_versions(&[&version])
        .await
        .map_err(|e| api_failure(e, "find the build of the active version", Area::Builds))?;
    let Some(build) = builds.get(version.as_str()) else {
        return Err(not_built(&worker, &version));
    };
    let (Some(trigger), Some(branch), Some(commit)) = (build.trigger_uuid(), build.branch(), build.commit()) else {
        return Err(Error::Refused(format!(
            "the build {} of version {version} does not say its trigger, branch and commit, so it cannot be repeated",
            build.build_uuid
        )));
    };
    let tag: Option<ScriptTag> =
        build.trigger.as_ref().and_then(|t| t.external_script_id.clone()).filter(|t| !t.is_empty());
    // The build names the Worker's tag: its triggers (a trigger deleted since is said so
    // plainly, rather than "no trigger has that uuid") and its builds before ours (to tell ours
    // from them should the start's answer be lost) are read together, and not again by `build`.
    let resolved = match tag {
        Some(tag) => {
            let (triggers, known) = tokio::join!(ctx.client.list_triggers(&tag), builds::known_builds(ctx, &tag));
            let triggers = match triggers {
                Ok(t) => t,
                Err(e) if e.is_not_found() => Vec::new(),
                Err(e) => return Err(triggers_failure(e, &worker)),
            };
            if !triggers.iter().any(|t| t.trigger_uuid == *trigger && t.deleted_on.is_none()) {
                return Err(Error::Refused(format!(
                    "version {version} of {worker} was built by trigger {trigger}, which no longer exists; start a \
                     build on another trigger with {}",
                    hint::command(Command::Build)
                )));
            }
            Some(builds::Resolved { tag, name: worker.clone(), triggers, known: known? })
        }
        None => None,
    };
    ctx.console.info(&format!(
        "Redeploying version {version}: a new build of branch `{branch}` at {commit} on trigger {trigger}"
    ));
    ctx.summary(|s| s.row("Redeployed version", version.as_str()));
    let build_args = BuildArgs {
        workers: vec![worker.clone()],
        max_parallel: None,
        worker,
        branch: branch.to_owned(),
        commit: Some(commit.to_owned()),
        trigger: Some(trigger.as_str().to_owned()),
        logs: args.logs,
        cancel_on_abort: args.cancel_on_abort,
        wait: args.wait,
        live: Live::Skip,
    };
    // One Worker, and no GitHub report (`redeploy` has none): what `build` does for one Worker.
    builds::one_resolved(ctx, &build_args, resolved).await
}

fn not_built(worker: &str, version: &VersionId) -> Error {
    Error::Refused(format!(
        "the active version {version} of {worker} was not built by Workers Builds (it was uploaded directly, with \
         wrangler or {}): there is no build to repeat. Build it again with {} instead",
        hint::command(Command::Version),
        hint::command(Command::Build)
    ))
}

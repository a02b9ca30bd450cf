//! `purge-cache`: purge one trigger's build cache (dependencies and build artifacts).

use super::{Env, Facts, Output, Prepared};
use crate::error::Result;
use crate::exit::Exit;
use crate::flows::builds::named_trigger;
use crate::flows::{self, Area, Ctx, api_failure};
use crate::inputs::args::{branch, worker_or_tag};
use crate::inputs::{InputError, Inputs, Key, hint};

pub(crate) const FACTS: Facts = Facts {
    name: "purge-cache",
    about: "purge a trigger's build cache (dependencies and build artifacts)",
    exits: &[Exit::Success, Exit::BadInput, Exit::Api, Exit::TimedOut, Exit::Internal, Exit::Interrupted],
    reports_to_github: false,
    outputs: &[Output::TriggerUuid],
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = PurgeCacheArgs::from_inputs(i)?;
    Ok(Prepared::new(Vec::new(), move |ctx| {
        Box::pin(flows::interruptible(ctx, "whether the trigger's build cache was purged", run(ctx, args)))
    }))
}

/// `purge-cache`: the trigger by name or uuid, else the one that builds `branch`.
#[derive(Debug)]
pub(crate) struct PurgeCacheArgs {
    pub worker: String,
    pub trigger: Option<String>,
    pub branch: Option<String>,
}

impl PurgeCacheArgs {
    fn from_inputs(i: &Inputs) -> Result<PurgeCacheArgs, InputError> {
        let worker = worker_or_tag(i)?;
        let trigger = i.get(Key::Trigger).map(str::to_owned);
        let branch = branch(i)?;
        if trigger.is_none() && branch.is_none() {
            return Err(InputError::new(
                Key::Trigger,
                format!(
                    "name the trigger whose cache to purge, or set {} to pick the trigger that builds it",
                    hint::input(Key::Branch)
                ),
            ));
        }
        Ok(PurgeCacheArgs { worker, trigger, branch })
    }
}

/// `purge-cache`: purging twice leaves what purging once does, so the client retries it.
async fn run(ctx: &Ctx, args: PurgeCacheArgs) -> Result<()> {
    let (_, t) = named_trigger(ctx, &args.worker, args.trigger.as_deref(), args.branch.as_deref()).await?;
    ctx.client
        .purge_build_cache(&t.trigger_uuid)
        .await
        .map_err(|e| api_failure(e, &format!("purge the build cache of trigger `{}`", t.name()), Area::Builds))?;
    ctx.console.info(&format!("trigger `{}`: build cache purged", t.name()));
    ctx.output(Output::TriggerUuid, t.trigger_uuid.as_str());
    ctx.summary(|s| s.row("Build cache purged", t.name()));
    Ok(())
}

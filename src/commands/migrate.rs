//! `migrate`: apply the pending D1 migrations of the wrangler configuration's databases, as
//! `wrangler d1 migrations apply <DB> --remote` does, and continue a database wrangler migrated.

use super::{Env, Facts, Output, Prepared};
use crate::error::Result;
use crate::exit::Exit;
use crate::flows::{self, Ctx};
use crate::inputs::d1::{self, Migrations};
use crate::inputs::{InputError, Inputs, Key};

pub(crate) const FACTS: Facts = Facts {
    name: "migrate",
    about: "apply the pending D1 migrations of the wrangler configuration's databases",
    exits: &[
        Exit::Success,
        Exit::BadInput,
        Exit::Api,
        Exit::TimedOut,
        Exit::Internal,
        Exit::MigrationFailed,
        Exit::Interrupted,
    ],
    reports_to_github: false,
    outputs: &[Output::Plan, Output::Migrations, Output::DryRun],
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = from_inputs(i)?;
    if super::dry_run_without_credentials(super::Command::Migrate, i)? {
        // Every check above passed (the configuration, the databases, each file read in
        // order); without a token the applied set cannot be read, so each file is listed as
        // pending unless recorded, and nothing is sent.
        let account = super::plan_account(i);
        return Ok(Prepared::new(Vec::new(), move |ctx| {
            Box::pin(async move {
                flows::d1::plan_without_credentials(ctx, &args, &account);
                Ok(())
            })
        }));
    }
    Ok(Prepared::new(Vec::new(), move |ctx| {
        Box::pin(flows::interruptible(ctx, "the migrations table of the database being migrated", run(ctx, args)))
    }))
}

fn from_inputs(i: &Inputs) -> Result<Migrations, InputError> {
    let config = d1::load(i)?;
    d1::from_config(&config, i.get(Key::Database), i.bool(Key::DryRun, false)?)
}

async fn run(ctx: &Ctx, args: Migrations) -> Result<()> {
    flows::d1::migrate(ctx, &args).await
}

/// `migrate: true` on `version` and `deploy`: the same migrations, read from the same inputs,
/// before anything is uploaded or deployed.
pub(crate) fn with_deploy(i: &Inputs) -> Result<Option<Migrations>, InputError> {
    if !i.bool(Key::Migrate, false)? {
        return Ok(None);
    }
    let config = d1::load(i)?;
    d1::from_config(&config, None, false).map(Some)
}

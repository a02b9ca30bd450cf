//! `deploy`: send traffic to one or two Versions (or roll back), through a percentage
//! deployment. Also the deployment step that `version` with `deploy:` ends in.

use std::collections::{HashMap, HashSet};

use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::workers::Worker;
use crate::cloudflare::{ApiError, Client, DeploymentId, VersionId, WorkerId, WorkerName, WorkerRef};
use crate::error::{Error, Result};
use crate::inputs::args::{DeployArgs, Target};
use crate::inputs::{Key, hint};

use super::create::create_once;
use super::{Area, Ctx, api_failure};

pub async fn run(ctx: &Ctx, args: DeployArgs) -> Result<()> {
    let worker = existing_worker(ctx, &args.worker).await?;
    ctx.output("worker_id", worker.id.as_str());
    let deployments = list(ctx, &worker.name).await?;
    let split = match &args.target {
        Target::Split(s) => s.clone(),
        Target::Rollback => {
            // The newest earlier deployment whose main version differs from the live one:
            // re-deploying the same version twice must not make rollback a no-op.
            let live = deployments.first().and_then(primary);
            let previous =
                deployments.iter().skip(1).filter_map(primary).find(|v| Some(v) != live.as_ref()).ok_or_else(|| {
                    Error::NotFound("there is no earlier deployment of another version to roll back to".into())
                })?;
            ctx.console.info(&format!("Rolling back to version {previous} (the previous deployment's main version)."));
            vec![DeploymentVersion { version_id: previous, percentage: 100.0 }]
        }
    };
    ctx.summary(|s| s.row("Worker", worker.name.as_str()));
    deploy(ctx, &worker, &split, args.message.as_deref(), args.force, &ids(&deployments)).await?;
    if let Some(v) = split.first() {
        ctx.output("version_id", v.version_id.as_str());
    }
    workers_dev_url(ctx, &worker).await;
    Ok(())
}

pub async fn existing_worker(ctx: &Ctx, name: &WorkerName) -> Result<Worker> {
    match ctx.client.get_worker(WorkerRef::Name(name)).await {
        Ok(Some(w)) => Ok(w),
        Ok(None) => Err(Error::NotFound(format!(
            "input `worker`: no Worker with that name or id exists in this account (check {} and {})",
            hint::input(Key::Worker),
            hint::input(Key::AccountId)
        ))),
        Err(e) => Err(api_failure(e, "look up the Worker", Area::Workers)),
    }
}

pub async fn list(ctx: &Ctx, script: &WorkerName) -> Result<Vec<Deployment>> {
    ctx.client
        .list_deployments(script)
        .await
        .map_err(|e| api_failure(e, "list the Worker's deployments", Area::Workers))
}

/// The version a deployment sends most traffic to.
pub fn primary(d: &Deployment) -> Option<VersionId> {
    d.versions.iter().max_by(|a, b| a.percentage.total_cmp(&b.percentage)).map(|v| v.version_id.clone())
}

/// `<id> (#7) at 10%, <id> (#6) at 90%`: numbers where known, as people refer to versions.
pub fn describe_split(split: &[DeploymentVersion], numbers: &HashMap<VersionId, u64>) -> String {
    split
        .iter()
        .map(|v| match numbers.get(&v.version_id) {
            Some(n) => format!("{} (#{n}) at {}%", v.version_id, v.percentage),
            None => format!("{} at {}%", v.version_id, v.percentage),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The numbers of the Worker's recent versions, for people reading a split. Cosmetic: a
/// failure is a debug line, never a failed step, and one page is enough (a version missing from
/// it, in whichever order the API keeps, is shown by id alone).
pub async fn version_numbers(ctx: &Ctx, worker: &WorkerId) -> HashMap<VersionId, u64> {
    match ctx.client.list_versions(worker, 1, 50).await {
        Ok(versions) => versions.result.into_iter().filter_map(|v| Some((v.id, v.number?))).collect(),
        Err(e) => {
            ctx.console.debug(&format!("version numbers unavailable: {e}"));
            HashMap::new()
        }
    }
}

/// Creates the deployment, never twice: see [`create_once`]. `known` holds the ids of the
/// deployments that existed before, so an earlier deployment of the same split is not taken
/// for ours.
pub async fn deploy(
    ctx: &Ctx,
    worker: &Worker,
    split: &[DeploymentVersion],
    message: Option<&str>,
    force: bool,
    known: &HashSet<DeploymentId>,
) -> Result<Deployment> {
    let script = &worker.name;
    let send = || ctx.client.create_deployment(script, split, message, force);
    let find = || find_deployment(&ctx.client, script, split, known);
    let what = format!(
        "create the deployment (if Cloudflare blocked it, e.g. after a secret changed, {} overrides)",
        hint::set(Key::Force, "true")
    );
    let what = what.as_str();
    let d = create_once(ctx, what, Area::Workers, send, find).await?;
    ctx.output("deployment_id", d.id.as_str());
    let numbers = version_numbers(ctx, &worker.id).await;
    let traffic = describe_split(split, &numbers);
    ctx.console.info(&format!("Deployment {} is live: {traffic}", d.id));
    ctx.summary(|s| {
        s.row("Deployment", d.id.as_str());
        s.row("Traffic", &traffic);
    });
    Ok(d)
}

/// Ids of the deployments that exist now.
pub fn ids(deployments: &[Deployment]) -> HashSet<DeploymentId> {
    deployments.iter().map(|d| d.id.clone()).collect()
}

async fn find_deployment(
    client: &Client,
    script: &WorkerName,
    split: &[DeploymentVersion],
    known: &HashSet<DeploymentId>,
) -> Result<Option<Deployment>, ApiError> {
    let same = |d: &Deployment| {
        d.versions.len() == split.len()
            && split.iter().all(|s| {
                d.versions.iter().any(|v| v.version_id == s.version_id && (v.percentage - s.percentage).abs() < 1e-6)
            })
    };
    Ok(client.list_deployments(script).await?.into_iter().find(|d| !known.contains(&d.id) && same(d)))
}

/// `https://<worker>.<account subdomain>.workers.dev`, when the account has a subdomain.
pub async fn workers_dev_url(ctx: &Ctx, worker: &Worker) {
    let from_worker = worker.subdomain.as_ref().and_then(|s| s.url.clone()).filter(|u| !u.is_empty());
    let url = match from_worker {
        Some(u) => Some(u),
        None => match ctx.client.account_subdomain().await {
            Ok(Some(sub)) => Some(format!("https://{}.{sub}.workers.dev", worker.name)),
            Ok(None) => None,
            Err(e) => {
                ctx.console.warning(&format!("could not read the account's workers.dev subdomain: {e}"));
                None
            }
        },
    };
    if let Some(u) = url {
        ctx.output("workers_dev_url", &u);
        ctx.summary(|s| s.row("workers.dev URL", &u));
    }
}

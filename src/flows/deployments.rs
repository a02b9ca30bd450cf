//! Deployments and the Worker they belong to: what `deploy`, `version` (with `deploy`) and
//! `redeploy` share: find the Worker, list its deployments, create one exactly once.

use std::collections::{HashMap, HashSet};

use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::workers::Worker;
use crate::cloudflare::{ApiError, Client, DeploymentId, VersionId, WorkerName, WorkerRef};
use crate::commands::Output;
use crate::error::{Error, Result};
use crate::inputs::{Key, hint};

use super::builds::{WorkerFrom, unknown_workers};
use super::create::create_once;
use super::{Area, Ctx, api_failure};

/// "Cannot rollback with modified secret" (wrangler's `versions/rollback`).
const SECRETS_CHANGED: i64 = 10220;

pub(crate) async fn existing_worker(ctx: &Ctx, name: &WorkerName) -> Result<Worker> {
    match ctx.client.get_worker(WorkerRef::Name(name)).await {
        Ok(Some(w)) => Ok(w),
        Ok(None) => Err(missing_worker(ctx, name, WorkerFrom::Input, None).await),
        Err(e) => Err(api_failure(e, "look up the Worker", Area::Workers)),
    }
}

/// A Worker that does not exist, as an error that lists the account's Workers and suggests the
/// closest name (`builds::unknown_workers`, as every command says it): a typo must not pass for
/// a new Worker. The name is blamed where it was given (`from`); `also` is one more way out.
pub(crate) async fn missing_worker(ctx: &Ctx, name: &WorkerName, from: WorkerFrom<'_>, also: Option<&str>) -> Error {
    match ctx.client.list_workers(10).await {
        Ok(ws) => unknown_workers(&[name.as_str()], false, ws.iter().map(|w| w.name.as_str()), from, also),
        Err(e) => {
            ctx.console.warning(&format!("could not list the account's Workers to suggest one: {e}"));
            unknown_workers(&[name.as_str()], false, std::iter::empty(), from, also)
        }
    }
}

pub(crate) async fn list(ctx: &Ctx, script: &WorkerName) -> Result<Vec<Deployment>> {
    ctx.client
        .list_deployments(script)
        .await
        .map_err(|e| api_failure(e, "list the Worker's deployments", Area::Workers))
}

/// `<id> (#7) at 10%, <id> (#6) at 90%`: numbers where known, as people refer to versions.
pub(crate) fn describe_split(split: &[DeploymentVersion], numbers: &HashMap<VersionId, u64>) -> String {
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
pub(crate) async fn version_numbers(ctx: &Ctx, worker: WorkerRef<'_>) -> HashMap<VersionId, u64> {
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
/// for ours. `numbers` are the version numbers the caller already knows (for the log line);
/// only when one of the split's is missing are the versions listed for them, beside the create.
pub(crate) async fn deploy(
    ctx: &Ctx,
    script: &WorkerName,
    split: &[DeploymentVersion],
    message: Option<&str>,
    force: bool,
    known: &HashSet<DeploymentId>,
    numbers: HashMap<VersionId, u64>,
) -> Result<Deployment> {
    let (d, numbers) = create(ctx, script, split, message, force, known, numbers).await?;
    ctx.output(Output::DeploymentId, d.id.as_str());
    let traffic = describe_split(split, &numbers);
    ctx.console.info(&format!("Deployment {} is live: {traffic}", d.id));
    ctx.summary(|s| {
        s.row("Deployment", d.id.as_str());
        s.row("Traffic", &traffic);
    });
    Ok(d)
}

/// [`deploy`] without its report (a staged rollout reports its stages as a timeline): the
/// deployment, and the version numbers known for its log line.
pub(crate) async fn create(
    ctx: &Ctx,
    script: &WorkerName,
    split: &[DeploymentVersion],
    message: Option<&str>,
    force: bool,
    known: &HashSet<DeploymentId>,
    mut numbers: HashMap<VersionId, u64>,
) -> Result<(Deployment, HashMap<VersionId, u64>)> {
    let send = || ctx.client.create_deployment(script, split, message, force);
    let find = || find_deployment(&ctx.client, script, split, known);
    let missing = split.iter().any(|v| !numbers.contains_key(&v.version_id));
    let (created, more) = tokio::join!(create_once(ctx, "create the deployment", Area::Workers, send, find), async {
        if missing { version_numbers(ctx, WorkerRef::Name(script)).await } else { HashMap::new() }
    });
    numbers.extend(more);
    let d = match created {
        Ok(d) => d,
        Err(Error::Api { source, .. }) if source.has_code(SECRETS_CHANGED) => {
            // The message names the changed secrets (names only): shown, inert.
            if let ApiError::Api { errors, .. } = source.as_ref() {
                ctx.console
                    .untrusted_diagnostic(errors.iter().filter_map(|e| e.message.as_deref()).flat_map(str::lines));
            }
            return Err(Error::Refused(format!(
                "Cloudflare refused to deploy an older version because secrets changed since it was deployed \
                 (code 10220): it would run with today's secret values. Set {} to deploy it anyway.",
                hint::set(Key::Force, "true")
            )));
        }
        Err(e) => return Err(e),
    };
    Ok((d, numbers))
}

/// Ids of the deployments that exist now.
pub(crate) fn ids(deployments: &[Deployment]) -> HashSet<DeploymentId> {
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

/// The Worker's workers.dev URL, only when workers.dev is enabled for it: `subdomain.url` is
/// present whenever the account has a subdomain, serving or not (docs/cloudflare-api.md §C.7).
pub(crate) fn workers_dev_url(ctx: &Ctx, worker: &Worker) {
    let Some(sub) = &worker.subdomain else { return };
    let url = sub.url.as_deref().filter(|u| !u.is_empty());
    if let (Some(true), Some(u)) = (sub.enabled, url) {
        ctx.output(Output::WorkersDevUrl, u);
        ctx.summary(|s| s.row("workers.dev URL", u));
    }
}

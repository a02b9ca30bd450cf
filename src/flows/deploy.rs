//! `deploy`: send traffic to one or two Versions (or roll back), through a percentage
//! deployment. Also the deployment step that `version` with `deploy:` ends in.

use std::collections::HashSet;

use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::workers::Worker;
use crate::cloudflare::{ApiError, Client, DeploymentId, VersionId, WorkerName, WorkerRef};
use crate::exit::{Exit, Failure};
use crate::inputs::{InputError, Inputs};

use super::create::create_once;
use super::{Area, Ctx, api_failure};

#[derive(Debug)]
pub struct DeployArgs {
    /// A name, or a beta-API id (which has a name's shape); the API resolves either.
    pub worker: WorkerName,
    pub target: Target,
    pub message: Option<String>,
    pub force: bool,
}

#[derive(Debug, PartialEq)]
pub enum Target {
    Split(Vec<DeploymentVersion>),
    Rollback,
}

impl DeployArgs {
    pub fn from_inputs(i: &Inputs) -> Result<DeployArgs, InputError> {
        let rollback = i.bool("rollback", false)?;
        let target = match (i.get("versions"), rollback) {
            (Some(_), true) => {
                return Err(InputError::new(
                    "versions",
                    "cannot be combined with `rollback: true`; use one or the other",
                ));
            }
            (None, true) => Target::Rollback,
            (Some(v), false) => Target::Split(parse_versions(v)?),
            (None, false) => {
                return Err(InputError::new(
                    "versions",
                    "is required for `deploy` (e.g. `<version id>` or `<new id>@10, <old id>@90`), unless `rollback: true`",
                ));
            }
        };
        Ok(DeployArgs { worker: worker_name(i)?, target, message: message_input(i)?, force: i.bool("force", false)? })
    }
}

pub fn worker_name(i: &Inputs) -> Result<WorkerName, InputError> {
    let w = i.require("worker", "set it to the Worker's name")?;
    WorkerName::parse(w).map_err(|_| {
        InputError::new(
            "worker",
            "is not a Worker name or id (lowercase letters, digits, `-` and `_`, at most 63 characters)",
        )
    })
}

pub fn message_input(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get("message") {
        Some(m) if m.len() > 1000 => {
            Err(InputError::new("message", "is longer than 1000 bytes, the limit of the `workers/message` annotation"))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

/// A percentage as the deployments API takes it: above 0, at most 100, two decimals at most.
pub fn parse_percentage(s: &str) -> Option<f64> {
    let s = s.trim().trim_end_matches('%');
    let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
    let p: f64 = s.parse().ok()?;
    (p.is_finite() && p > 0.0 && p <= 100.0 && decimals <= 2 && !s.starts_with('+')).then_some(p)
}

/// `ID[@PERCENT]` items; one without a percentage takes what the other leaves.
pub fn parse_versions(text: &str) -> Result<Vec<DeploymentVersion>, InputError> {
    let items: Vec<&str> = text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if items.is_empty() || items.len() > 2 {
        return Err(InputError::new(
            "versions",
            "must list one or two versions (a deployment splits traffic between at most two)",
        ));
    }
    let mut parsed: Vec<(VersionId, Option<f64>)> = Vec::new();
    for item in &items {
        let (id, pct) = match item.split_once('@') {
            Some((id, p)) => (
                id.trim(),
                Some(parse_percentage(p).ok_or_else(|| {
                    InputError::new("versions", "has a percentage that is not a number above 0 and at most 100")
                })?),
            ),
            None => (item.trim(), None),
        };
        let id = VersionId::parse(id).map_err(|_| {
            InputError::new("versions", "has an item that is not a version id (a UUID, as in the `version_id` output)")
        })?;
        parsed.push((id, pct));
    }
    if parsed.len() == 2 && parsed[0].0 == parsed[1].0 {
        return Err(InputError::new("versions", "lists the same version twice"));
    }
    let given: f64 = parsed.iter().filter_map(|(_, p)| *p).sum();
    let missing = parsed.iter().filter(|(_, p)| p.is_none()).count();
    let out: Vec<DeploymentVersion> = match missing {
        0 => parsed
            .into_iter()
            .map(|(id, p)| DeploymentVersion { version_id: id, percentage: p.unwrap_or_default() })
            .collect(),
        1 if given < 100.0 || parsed.len() == 1 => parsed
            .into_iter()
            .map(|(id, p)| DeploymentVersion { version_id: id, percentage: p.unwrap_or(100.0 - given) })
            .collect(),
        _ => {
            return Err(InputError::new(
                "versions",
                "needs a percentage on each version when there are two, e.g. `<new>@10, <old>@90`",
            ));
        }
    };
    let total: f64 = out.iter().map(|v| v.percentage).sum();
    if (total - 100.0).abs() > 1e-9 {
        return Err(InputError::new("versions", "has percentages that do not add up to 100"));
    }
    Ok(out)
}

pub async fn run(ctx: &Ctx, args: DeployArgs) -> anyhow::Result<Exit> {
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
                    Failure::new(Exit::Api, "there is no earlier deployment of another version to roll back to")
                })?;
            ctx.console.info(&format!("Rolling back to version {previous} (the previous deployment's main version)."));
            vec![DeploymentVersion { version_id: previous, percentage: 100.0 }]
        }
    };
    let d = deploy(ctx, &worker.name, &split, args.message.as_deref(), args.force, &ids(&deployments)).await?;
    if let Some(v) = split.first() {
        ctx.output("version_id", v.version_id.as_str());
    }
    workers_dev_url(ctx, &worker).await;
    ctx.console.info(&format!("Deployment {} is live: {}", d.id, describe_split(&split)));
    Ok(Exit::Success)
}

pub async fn existing_worker(ctx: &Ctx, name: &WorkerName) -> anyhow::Result<Worker> {
    match ctx.client.get_worker(WorkerRef::Name(name)).await {
        Ok(Some(w)) => Ok(w),
        Ok(None) => Err(Failure::new(
            Exit::Api,
            "input `worker`: no Worker with that name or id exists in this account (check `worker` and `account_id`)",
        )
        .into()),
        Err(e) => Err(api_failure(&e, "look up the Worker", Area::Workers)),
    }
}

pub async fn list(ctx: &Ctx, script: &WorkerName) -> anyhow::Result<Vec<Deployment>> {
    ctx.client
        .list_deployments(script)
        .await
        .map_err(|e| api_failure(&e, "list the Worker's deployments", Area::Workers))
}

/// The version a deployment sends most traffic to.
pub fn primary(d: &Deployment) -> Option<VersionId> {
    d.versions.iter().max_by(|a, b| a.percentage.total_cmp(&b.percentage)).map(|v| v.version_id.clone())
}

pub fn describe_split(split: &[DeploymentVersion]) -> String {
    split.iter().map(|v| format!("{} at {}%", v.version_id, v.percentage)).collect::<Vec<_>>().join(", ")
}

/// Creates the deployment, never twice: see [`create_once`]. `known` holds the ids of the
/// deployments that existed before, so an earlier deployment of the same split is not taken
/// for ours.
pub async fn deploy(
    ctx: &Ctx,
    script: &WorkerName,
    split: &[DeploymentVersion],
    message: Option<&str>,
    force: bool,
    known: &HashSet<DeploymentId>,
) -> anyhow::Result<Deployment> {
    let send = || ctx.client.create_deployment(script, split, message, force);
    let find = || find_deployment(&ctx.client, script, split, known);
    let what = "create the deployment (if Cloudflare blocked it, e.g. after a secret changed, `force: true` overrides)";
    let d = create_once(ctx, what, Area::Workers, send, find).await?;
    ctx.output("deployment_id", d.id.as_str());
    ctx.summary(|s| {
        s.row("Deployment", d.id.as_str());
        s.row("Traffic", &describe_split(split));
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

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "11111111-1111-4111-8111-111111111111";
    const B: &str = "22222222-2222-4222-8222-222222222222";

    #[test]
    fn version_lists() {
        let one = parse_versions(A).unwrap();
        assert_eq!(one, vec![DeploymentVersion { version_id: VersionId::parse(A).unwrap(), percentage: 100.0 }]);
        let two = parse_versions(&format!("{A}@10,\n{B}@90")).unwrap();
        assert_eq!(two[1].percentage, 90.0);
        let implied = parse_versions(&format!("{A}@12.5, {B}")).unwrap();
        assert_eq!(implied[1].percentage, 87.5);
        for bad in [
            String::new(),
            format!("{A}@50"),
            format!("{A}@10,{B}@80"),
            format!("{A}@0,{B}@100"),
            format!("{A}@101"),
            format!("{A},{B}"),
            format!("{A}@50,{A}@50"),
            format!("{A}@50,{B}@25,{B}@25"),
            "not-a-uuid".into(),
            format!("{A}@1.234,{B}"),
        ] {
            let e = parse_versions(&bad).unwrap_err();
            assert_eq!(e.input, "versions", "{bad}");
        }
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percentage("10"), Some(10.0));
        assert_eq!(parse_percentage("10%"), Some(10.0));
        assert_eq!(parse_percentage("0.01"), Some(0.01));
        for bad in ["0", "101", "-5", "x", "NaN", "inf", "1.001"] {
            assert_eq!(parse_percentage(bad), None, "{bad}");
        }
    }
}

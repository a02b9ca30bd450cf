//! "Did it go live": a build can succeed and deploy nothing (its deploy command only uploads a
//! version, or another deployment came after it), so the build's outcome does not say whether
//! production runs what was built. The Worker's active deployment and the builds behind its
//! versions do (docs/cloudflare-api.md §3.6); the build's answer carries no version id (§3.5).

use std::collections::BTreeMap;

use crate::cloudflare::builds::{Build, Outcome, VERSION_IDS_MAX};
use crate::cloudflare::{ApiError, VersionId, WorkerName};
use crate::commands::Output;
use crate::error::{Error, Result};
use crate::inputs::{Key, hint};

use super::{Area, Ctx, api_failure};

/// What to do after a successful build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Live {
    /// Read nothing (`redeploy`, which reports the version it redeployed itself).
    Skip,
    /// Report the answer; a failed read is a warning, as the build itself succeeded.
    Report,
    /// `require_deployed`: a build whose version serves no traffic fails the step.
    Require,
}

/// Where the build's version stands in the active deployment.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Found {
    pub deployment_id: Option<String>,
    /// The build's version in the active deployment and the share of traffic it serves.
    pub version: Option<(String, f64)>,
}

impl Found {
    /// `true`, `false`, or `partial` when the version serves only part of the traffic.
    pub(crate) fn verdict(&self) -> &'static str {
        match self.version {
            None => "false",
            Some((_, p)) if p >= 100.0 => "true",
            Some(_) => "partial",
        }
    }
}

/// After a successful build: at most two reads (the deployments, then the builds behind the
/// active one's versions; none of the second when nothing is deployed), plus the Workers list
/// when the Worker was named by its tag, since the deployments path takes the name.
pub(crate) async fn after(ctx: &Ctx, build: &Build, worker: &str, live: Live) -> Result<()> {
    // Only a success made a version: a skipped build made none to look for.
    if live == Live::Skip || build.outcome() != Some(Outcome::Success) {
        return Ok(());
    }
    let found = match find(ctx, build, worker).await {
        Ok(f) => f,
        Err(e) if live == Live::Require => return Err(e),
        Err(e) => {
            ctx.console.warning(&format!(
                "Build {} succeeded, but whether it went live could not be read: {}",
                build.build_uuid,
                e.report()
            ));
            return Ok(());
        }
    };
    let verdict = found.verdict();
    ctx.output(Output::Deployed, verdict);
    ctx.output(Output::DeploymentId, found.deployment_id.as_deref().unwrap_or_default());
    let (version, percent) = found.version.clone().unwrap_or_default();
    ctx.output(Output::DeployedVersionId, &version);
    ctx.output(Output::TrafficPercent, &percent.to_string());
    let cell = match verdict {
        "true" => format!("yes: version {version} serves {percent} % of traffic"),
        "partial" => format!("partly: version {version} serves {percent} % of traffic"),
        _ => format!("no: the active deployment serves no version of this build ({})", ran(build)),
    };
    ctx.summary(|s| s.row("Deployed", &cell));
    match verdict {
        "false" => {
            let msg = not_live(build, worker, &found);
            if live == Live::Require {
                return Err(Error::NotDeployed(format!(
                    "{msg}. Deploy its version, or leave {} unset.",
                    hint::input(Key::RequireDeployed)
                )));
            }
            ctx.console.notice(&msg);
        }
        "partial" => ctx.console.notice(&format!(
            "Build {} of Worker {worker} went live on {percent} % of traffic (version {version}).",
            build.build_uuid
        )),
        _ => ctx.console.info(&format!("Build {} of Worker {worker} is live: version {version}.", build.build_uuid)),
    }
    Ok(())
}

/// Which trigger built it and with what deploy command: what a user checks when it did not go live.
fn ran(build: &Build) -> String {
    let trigger = build.trigger.as_ref().and_then(|t| t.trigger_name.as_deref()).unwrap_or("(unnamed)");
    let command = build.build_trigger_metadata.as_ref().and_then(|m| m.deploy_command.as_deref()).unwrap_or("");
    format!("trigger {trigger} ran the deploy command `{command}`")
}

/// Why a successful build is not live, naming its trigger and deploy command.
pub(crate) fn not_live(build: &Build, worker: &str, found: &Found) -> String {
    // A command that deploys did, and something deployed after it; one that only uploads never did.
    let how = if build.deploys_to_production() {
        "which deploys: a later deployment has replaced it"
    } else {
        "which uploads a version without deploying it (`wrangler deploy` would)"
    };
    format!(
        "Build {} of Worker {worker} succeeded, but nothing it built went live: {}; {}, {how}",
        build.build_uuid,
        found.deployment_id.as_deref().map_or_else(
            || "the Worker has no deployment".to_owned(),
            |d| format!("the active deployment {d} serves other versions")
        ),
        ran(build),
    )
}

async fn find(ctx: &Ctx, build: &Build, worker: &str) -> Result<Found> {
    let name = script_name(ctx, worker).await?;
    let active = actives(ctx, std::slice::from_ref(&name)).await.pop().unwrap_or(Ok(None))?;
    Ok(found_in(active.as_ref(), build))
}

/// Where `build`'s version stands in `active`: a version is this build's when the API maps it
/// back to this build's uuid.
pub(crate) fn found_in(active: Option<&Active>, build: &Build) -> Found {
    let Some(active) = active else {
        return Found { deployment_id: None, version: None };
    };
    let version = active
        .versions
        .iter()
        .find(|v| v.build.as_ref().is_some_and(|b| b.build_uuid == build.build_uuid))
        .map(|v| (v.version_id.as_str().to_owned(), v.percentage));
    Found { deployment_id: Some(active.deployment_id.clone()), version }
}

/// A Worker's active deployment (the newest, docs/cloudflare-api.md §5), each of its versions
/// with the build behind it.
#[derive(Clone, Debug)]
pub(crate) struct Active {
    pub deployment_id: String,
    pub versions: Vec<ActiveVersion>,
}

#[derive(Clone, Debug)]
pub(crate) struct ActiveVersion {
    pub version_id: VersionId,
    pub percentage: f64,
    /// `None`: Workers Builds did not build it (uploaded directly: §E.4).
    pub build: Option<Build>,
}

/// Deployments read at once: enough to keep 20 Workers to a few rounds without a burst that
/// the shared rate limit (1200 per 5 minutes per user) would feel.
const DEPLOYMENT_READS_IN_FLIGHT: usize = 4;

/// Each Worker's active deployment (`None`: it has none) with the builds behind its versions,
/// in `names`' order: one deployments read per Worker, then the versions of every Worker in
/// batched reads of at most [`VERSION_IDS_MAX`] (§3.6). A failed read fails only the Workers it
/// was for.
pub(crate) async fn actives(ctx: &Ctx, names: &[WorkerName]) -> Vec<Result<Option<Active>>> {
    use futures_util::StreamExt as _;
    let read = |e: ApiError, what: String| api_failure(e, &what, Area::Builds);
    let deployments: Vec<_> = futures_util::stream::iter(names.iter().map(|n| async move {
        ctx.client
            .list_deployments(n)
            .await
            .map(|d| d.into_iter().next())
            .map_err(|e| read(e, format!("list the deployments of Worker {n}")))
    }))
    .buffered(DEPLOYMENT_READS_IN_FLIGHT)
    .collect()
    .await;
    let mut ids: Vec<&VersionId> = Vec::new();
    for d in deployments.iter().flatten().flatten() {
        for v in &d.versions {
            if !ids.contains(&&v.version_id) {
                ids.push(&v.version_id);
            }
        }
    }
    let mut by_version: BTreeMap<String, Build> = BTreeMap::new();
    let mut unread: BTreeMap<String, String> = BTreeMap::new();
    for chunk in ids.chunks(VERSION_IDS_MAX) {
        match ctx.client.builds_by_versions(chunk).await {
            Ok(m) => by_version.extend(m),
            Err(e) => {
                let msg = read(e, "read the builds behind the active deployments' versions".into()).report();
                unread.extend(chunk.iter().map(|v| (v.as_str().to_owned(), msg.clone())));
            }
        }
    }
    deployments
        .into_iter()
        .map(|d| {
            let Some(d) = d? else { return Ok(None) };
            if let Some(msg) = d.versions.iter().find_map(|v| unread.get(v.version_id.as_str())) {
                return Err(Error::Refused(msg.clone()));
            }
            let versions = d
                .versions
                .iter()
                .map(|v| ActiveVersion {
                    version_id: v.version_id.clone(),
                    percentage: v.percentage,
                    build: by_version.get(v.version_id.as_str()).cloned(),
                })
                .collect();
            Ok(Some(Active { deployment_id: d.id.as_str().to_owned(), versions }))
        })
        .collect()
}

/// The deployments path takes the Worker's name; a Worker given by its tag is looked up.
async fn script_name(ctx: &Ctx, worker: &str) -> Result<WorkerName> {
    if let Ok(name) = WorkerName::parse(worker)
        && crate::cloudflare::ScriptTag::parse(worker).is_err()
    {
        return Ok(name);
    }
    let scripts = ctx
        .client
        .list_scripts()
        .await
        .map_err(|e| api_failure(e, "list the account's Workers to find the Worker's name", Area::Builds))?;
    scripts
        .iter()
        .find(|s| s.tag.as_ref().is_some_and(|t| t.as_str() == worker))
        .map(|s| s.id.clone())
        .ok_or_else(|| Error::NotFound(format!("no Worker of this account has the tag {worker}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_by_share_of_traffic() {
        let f = |v: Option<f64>| Found { deployment_id: None, version: v.map(|p| ("v".to_owned(), p)) }.verdict();
        assert_eq!(f(None), "false");
        assert_eq!(f(Some(100.0)), "true");
        assert_eq!(f(Some(10.0)), "partial");
    }
}

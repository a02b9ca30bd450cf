//! "Did it go live": a build can succeed and deploy nothing (its deploy command only uploads a
//! version, or another deployment came after it), so the build's outcome does not say whether
//! production runs what was built. The Worker's active deployment and the builds behind its
//! versions do (docs/cloudflare-api.md §3.6); the build's answer carries no version id (§3.5).

use crate::cloudflare::builds::{Build, Outcome};
use crate::cloudflare::{ApiError, WorkerName};
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
#[derive(Debug, PartialEq)]
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
                "Build {} succeeded, but whether it went live could not be read: {e}",
                build.build_uuid
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
    let trigger = build.trigger.as_ref().and_then(|t| t.trigger_name.as_deref()).unwrap_or("(unnamed)");
    let command = build.build_trigger_metadata.as_ref().and_then(|m| m.deploy_command.as_deref()).unwrap_or("");
    let why = format!("trigger {trigger} ran the deploy command `{command}`");
    let cell = match verdict {
        "true" => format!("yes: version {version} serves {percent} % of traffic"),
        "partial" => format!("partly: version {version} serves {percent} % of traffic"),
        _ => format!("no: the active deployment serves no version of this build ({why})"),
    };
    ctx.summary(|s| s.row("Deployed", &cell));
    match verdict {
        "false" => {
            // A command that deploys did, and something deployed after it; one that only uploads never did.
            let how = if build.deploys_to_production() {
                "which deploys: a later deployment has replaced it"
            } else {
                "which uploads a version without deploying it (`wrangler deploy` would)"
            };
            let msg = format!(
                "Build {} of Worker {worker} succeeded, but nothing it built went live: {}; {why}, {how}",
                build.build_uuid,
                found.deployment_id.as_deref().map_or_else(
                    || "the Worker has no deployment".to_owned(),
                    |d| format!("the active deployment {d} serves other versions")
                ),
            );
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

async fn find(ctx: &Ctx, build: &Build, worker: &str) -> Result<Found> {
    let read = |e: ApiError, what: &str| api_failure(e, what, Area::Builds);
    let name = script_name(ctx, worker).await?;
    let deployments = ctx.client.list_deployments(&name).await.map_err(|e| read(e, "list the Worker's deployments"))?;
    let Some(active) = deployments.into_iter().next() else {
        return Ok(Found { deployment_id: None, version: None });
    };
    let ids: Vec<_> = active.versions.iter().map(|v| &v.version_id).collect();
    let by_version = if ids.is_empty() {
        std::collections::BTreeMap::default()
    } else {
        ctx.client
            .builds_by_versions(&ids)
            .await
            .map_err(|e| read(e, "read the builds behind the active deployment's versions"))?
    };
    // A version is this build's when the API maps it back to this build's uuid.
    let version = active
        .versions
        .iter()
        .find(|v| by_version.get(v.version_id.as_str()).is_some_and(|b| b.build_uuid == build.build_uuid))
        .map(|v| (v.version_id.as_str().to_owned(), v.percentage));
    Ok(Found { deployment_id: Some(active.id.as_str().to_owned()), version })
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

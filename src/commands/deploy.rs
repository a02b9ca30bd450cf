//! `deploy`: send traffic to one or two Versions (or roll back), through a percentage
//! deployment.

use super::{Env, Facts, Output, Prepared};
use crate::cloudflare::VersionId;
use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::{WorkerName, WorkerRef};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::flows::deployments::{deploy, existing_worker, ids, list, version_numbers, workers_dev_url};
use crate::flows::{self, Ctx, rollout};
use crate::inputs::args::{message, worker_name};
use crate::inputs::rollout::RolloutArgs;
use crate::inputs::upload::Apply;
use crate::inputs::upload::{Target as UploadTarget, VersionArgs, build_output_root, from_build_output};
use crate::inputs::{InputError, Inputs, Key, hint, rules};

pub(crate) const FACTS: Facts = Facts {
    name: "deploy",
    about: "send traffic to one or two Versions, roll one out in checked stages, or roll back",
    exits: &[
        Exit::Success,
        Exit::BadInput,
        Exit::Api,
        Exit::TimedOut,
        Exit::Internal,
        Exit::RolledBack,
        Exit::MigrationFailed,
        Exit::Interrupted,
    ],
    reports_to_github: false,
    outputs: super::version::UPLOAD_OUTPUTS,
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let dry_run = i.bool(Key::DryRun, false)?;
    if let Some(args) = build_output_upload(i)? {
        let d1 = super::migrate::with_deploy(i)?;
        if dry_run {
            let account = super::plan_account(i);
            let secrets = args.secrets().to_vec();
            return Ok(Prepared::new(secrets, move |ctx| {
                Box::pin(async move {
                    flows::dry_run::upload(ctx, &args, &account, flows::dry_run::Upload::Version, d1.as_ref()).await
                })
            }));
        }
        return Ok(super::version::upload_and_deploy_flow(args, d1));
    }
    let args = DeployArgs::from_inputs(i)?;
    if dry_run {
        let account = super::plan_account(i);
        let mut split = match &args.target {
            Target::Split(s) => crate::flows::deployments::describe_split(s, &std::collections::HashMap::new()),
            Target::Rollback => "the version at 100 % in the newest earlier deployment (rollback)".to_owned(),
        };
        if let Some(r) = &args.rollout {
            split.push_str(&format!(", through the stages {}", flows::dry_run::stages(r)));
        }
        return Ok(Prepared::new(Vec::new(), move |ctx| {
            Box::pin(async move {
                flows::dry_run::deployment(
                    ctx,
                    &args.worker,
                    &account,
                    &split,
                    args.migrations.as_ref(),
                    args.apply.as_ref(),
                );
                Ok(())
            })
        }));
    }
    Ok(Prepared::new(Vec::new(), move |ctx| {
        if args.rollout.is_some() {
            // A rollout handles signals itself: stopped halfway, it rolls back (flows::rollout).
            Box::pin(staged(ctx, args))
        } else {
            // A configuration's triggers and settings are applied after the deployment: an
            // interruption can leave some of them unwritten.
            let what = if args.apply_named() {
                "the Worker's versions and deployments, and its routes, custom domains, cron triggers, queue consumers, Workflows and settings"
            } else {
                "the Worker's versions and deployments"
            };
            Box::pin(flows::interruptible(ctx, what, run(ctx, args)))
        }
    }))
}

/// A Build Output to upload and deploy at 100 % (docs/cloudflare-api.md §H.6: `cf deploy
/// --prebuilt`): `build_output` given, or `.cloudflare/output` found when neither `versions`
/// nor `rollback` says which versions to deploy. `None`: a deployment of versions already
/// uploaded.
fn build_output_upload(i: &Inputs) -> Result<Option<VersionArgs>, InputError> {
    let versions = i.get(Key::Versions).is_some() || i.bool(Key::Rollback, false)?;
    if versions {
        if i.get(Key::BuildOutput).is_some() {
            return Err(InputError::new(
                Key::BuildOutput,
                format!(
                    "uploads and deploys a new version, and {} (or `rollback`) deploys versions already uploaded: drop one of them",
                    hint::input(Key::Versions)
                ),
            ));
        }
        return Ok(None);
    }
    match build_output_root(i)? {
        Some(root) => Ok(Some(from_build_output(i, UploadTarget::Version, &root, Some(100.0))?)),
        None => Ok(None),
    }
}

#[derive(Debug)]
pub(crate) struct DeployArgs {
    /// A name, or a beta-API id (which has a name's shape); the API resolves either.
    pub worker: WorkerName,
    pub target: Target,
    pub message: Option<String>,
    pub force: bool,
    /// `stages`: the one version of `target` goes through them.
    pub rollout: Option<RolloutArgs>,
    /// `migrate: true`: the D1 migrations applied before the deployment.
    pub migrations: Option<crate::inputs::d1::Migrations>,
    /// `config` given: its routes, custom domains, crons, queue consumers and settings, applied
    /// with the deployment (docs/cloudflare-api.md §T).
    pub apply: Option<Apply>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Target {
    Split(Vec<DeploymentVersion>),
    Rollback,
}

impl DeployArgs {
    /// Whether the run applies a configuration's triggers and settings.
    fn apply_named(&self) -> bool {
        self.apply.is_some()
    }

    fn from_inputs(i: &Inputs) -> Result<DeployArgs, InputError> {
        let rollback = i.bool(Key::Rollback, false)?;
        let target = match (i.get(Key::Versions), rollback) {
            (Some(_), true) => {
                return Err(InputError::new(
                    Key::Versions,
                    "cannot be combined with `rollback: true`; use one or the other",
                ));
            }
            (None, true) => Target::Rollback,
            (Some(v), false) => Target::Split(parse_versions(v)?),
            (None, false) => {
                return Err(InputError::new(
                    Key::Versions,
                    format!(
                        "is required for `deploy` (e.g. `<version id>` or `<new id>@10, <old id>@90`), unless {} or {} names a Build Output to upload and deploy",
                        hint::set(Key::Rollback, "true"),
                        hint::input(Key::BuildOutput)
                    ),
                ));
            }
        };
        let rollout = RolloutArgs::from_inputs(i)?;
        let config = Apply::for_deploy(i)?;
        // The Worker: the `worker` input, else the configuration's `name`.
        let worker = match (&config, i.get(Key::Worker)) {
            (Some((_, Some(name))), None) => WorkerName::parse(name)
                .map_err(|_| InputError::new(Key::Config, "names a Worker (`name`) that is not a valid Worker name"))?,
            _ => worker_name(i)?,
        };
        let apply = config.map(|(a, _)| a).filter(|a| a.spec.any());
        // A staged rollout is `wrangler versions deploy`'s ground: triggers and settings are a
        // deploy at 100 %'s (as `wrangler deploy` applies them).
        if rollout.is_some() && apply.is_some() {
            return Err(InputError::new(
                Key::Config,
                "names routes, custom domains, crons, queue consumers or settings, which a staged rollout does not apply: deploy them with a deploy at 100 % (without `stages`), or leave `config` out",
            ));
        }
        if rollout.is_some() {
            match &target {
                Target::Split(s) if s.len() == 1 => {}
                Target::Split(_) => {
                    return Err(InputError::new(
                        Key::Versions,
                        "names the one new version for a staged rollout (no percentage): `stages` sets its shares",
                    ));
                }
                Target::Rollback => {
                    return Err(InputError::new(Key::Stages, "cannot be combined with `rollback: true`"));
                }
            }
            if i.get(Key::Versions).is_some_and(|v| v.contains('@')) {
                return Err(InputError::new(
                    Key::Versions,
                    "names the one new version for a staged rollout (no percentage): `stages` sets its shares",
                ));
            }
            if i.bool(Key::Force, false)? {
                return Err(InputError::new(Key::Force, "does not apply to a staged rollout"));
            }
            check_override_key(&worker)?;
        }
        Ok(DeployArgs {
            worker,
            target,
            message: message(i)?,
            force: i.bool(Key::Force, false)?,
            rollout,
            migrations: super::migrate::with_deploy(i)?,
            apply,
        })
    }
}

/// `ID[@PERCENT]` items; one without a percentage takes what the other leaves.
pub(crate) fn parse_versions(text: &str) -> Result<Vec<DeploymentVersion>, InputError> {
    let bad = |problem: &str| InputError::new(Key::Versions, problem);
    let items: Vec<&str> = text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if items.is_empty() || items.len() > 2 {
        return Err(bad("must list one or two versions (a deployment splits traffic between at most two)"));
    }
    let mut parsed: Vec<(VersionId, Option<f64>)> = Vec::new();
    for item in &items {
        let (id, pct) = match item.split_once('@') {
            Some((id, p)) => (
                id.trim(),
                Some(
                    rules::percentage(p)
                        .ok_or_else(|| bad("has a percentage that is not a number above 0 and at most 100"))?,
                ),
            ),
            None => (item.trim(), None),
        };
        let id = VersionId::parse(id)
            .map_err(|_| bad("has an item that is not a version id (a UUID, as in the `version_id` output)"))?;
        parsed.push((id, pct));
    }
    if parsed.len() == 2 && parsed[0].0 == parsed[1].0 {
        return Err(bad("lists the same version twice"));
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
        _ => return Err(bad("needs a percentage on each version when there are two, e.g. `<new>@10, <old>@90`")),
    };
    let total: f64 = out.iter().map(|v| v.percentage).sum();
    if (total - 100.0).abs() > 1e-9 {
        return Err(bad("has percentages that do not add up to 100"));
    }
    Ok(out)
}

async fn run(ctx: &Ctx, args: DeployArgs) -> Result<()> {
    // Three reads that depend on nothing but the name (the beta API takes the name where it
    // takes the id, docs/cloudflare-api.md §4), sent together: the Worker (its id and
    // workers.dev URL), its deployments (the rollback target, and the ids that tell our
    // deployment from earlier ones if its creation is ambiguous), and the version numbers the
    // log line shows (cosmetic, never a failure).
    let (worker, deployments, numbers) = tokio::join!(
        existing_worker(ctx, &args.worker),
        list(ctx, &args.worker),
        version_numbers(ctx, WorkerRef::Name(&args.worker)),
    );
    let (worker, deployments) = (worker?, deployments?);
    ctx.output(Output::WorkerId, worker.id.as_str());
    let split = match &args.target {
        Target::Split(s) => s.clone(),
        Target::Rollback => {
            let previous = rollback_target(&deployments).ok_or_else(|| {
                Error::NotFound(format!(
                    "there is no earlier deployment with a version at 100 % to roll back to; name one with {}",
                    hint::input(Key::Versions)
                ))
            })?;
            ctx.console.info(&format!(
                "Rolling back to version {previous} (the newest earlier deployment that served it at 100 %)."
            ));
            vec![DeploymentVersion { version_id: previous, percentage: 100.0 }]
        }
    };
    ctx.summary(|s| s.row("Worker", worker.name.as_str()));
    // The configuration's triggers and settings, read, compared and shown before any write
    // (the migrations' included): a conflict stops the step here.
    let plan = match &args.apply {
        Some(a) => {
            let p = Box::pin(flows::apply::plan(ctx, &worker.name, a)).await?;
            flows::apply::show(ctx, &p)?;
            Some(p)
        }
        None => None,
    };
    // The schema lands before the code: every read and check above passed, and a failed
    // migration stops the run before the deployment.
    if let Some(m) = &args.migrations {
        flows::d1::migrate(ctx, m).await?;
    }
    deploy(ctx, &worker.name, &split, args.message.as_deref(), args.force, &ids(&deployments), numbers).await?;
    if let Some(p) = plan {
        let changes = p.changes();
        Box::pin(flows::apply::apply(ctx, &worker.name, p)).await?;
        ctx.console.info(&format!(
            "The configuration's triggers and settings: {}.",
            if changes == 0 {
                "nothing to change".to_owned()
            } else {
                crate::ci::plural(changes, "change", "changes") + " made"
            }
        ));
    }
    if let Some(v) = most_traffic(&split) {
        ctx.output(Output::VersionId, v.version_id.as_str());
    }
    workers_dev_url(ctx, &worker);
    Ok(())
}

/// The smoke test names the Worker in `Cloudflare-Workers-Version-Overrides`, an RFC 8941
/// Dictionary whose keys start with a lowercase letter or `*` (docs/cloudflare-api.md §K.1).
pub(crate) fn check_override_key(worker: &WorkerName) -> Result<(), InputError> {
    if sfv::KeyRef::from_str(worker.as_str()).is_err() {
        return Err(InputError::new(
            Key::Worker,
            "cannot be named in the Cloudflare-Workers-Version-Overrides header a staged rollout smoke-tests with \
             (a key must start with a lowercase letter); give the Worker's name, not its id",
        ));
    }
    Ok(())
}

/// `deploy` with `stages`: the reads and checks first (stopped by a signal like any read), then
/// the rollout, which handles its own stops.
async fn staged(ctx: &Ctx, args: DeployArgs) -> Result<()> {
    let (Some(rollout), Target::Split(split)) = (&args.rollout, &args.target) else {
        return Err(Error::Refused("a staged rollout needs one version".into()));
    };
    let new = split[0].version_id.clone();
    let before = async {
        let (worker, deployments, numbers) = tokio::join!(
            existing_worker(ctx, &args.worker),
            list(ctx, &args.worker),
            version_numbers(ctx, WorkerRef::Name(&args.worker)),
        );
        let (worker, deployments) = (worker?, deployments?);
        ctx.output(Output::WorkerId, worker.id.as_str());
        let start = rollout::preflight(ctx, &worker.name, Some(&new), rollout, &deployments).await?;
        Ok::<_, Error>((worker, start, numbers))
    };
    let (worker, start, numbers) =
        Box::pin(flows::interruptible_value(ctx, "the Worker's deployments (nothing was deployed yet)", before))
            .await?;
    ctx.summary(|s| s.row("Worker", worker.name.as_str()));
    // The schema lands before the code, as without stages; a rollback later leaves it applied
    // (migrations move forward only, as wrangler's do).
    if let Some(m) = &args.migrations {
        flows::d1::migrate(ctx, m).await?;
    }
    ctx.output(Output::VersionId, new.as_str());
    rollout::run(ctx, &worker.name, &new, rollout, start, args.message.as_deref(), numbers).await?;
    workers_dev_url(ctx, &worker);
    Ok(())
}

/// The version `version_id` names, as README and `action.yml` promise: the one given the most
/// traffic, whatever order `versions` listed them in (the first listed on a tie).
fn most_traffic(split: &[DeploymentVersion]) -> Option<&DeploymentVersion> {
    split.iter().reduce(|best, v| if v.percentage > best.percentage { v } else { best })
}

/// wrangler's rule: the newest deployment before the live one that has a version at 100 %
/// ("we define a stable version as one deployed to 100%"), whatever that version is.
pub(crate) fn rollback_target(deployments: &[Deployment]) -> Option<VersionId> {
    let mut by_age: Vec<&Deployment> = deployments.iter().collect();
    // Newest first, by `created_on` when every deployment has one (RFC 3339 in UTC sorts as
    // text); otherwise the API's order, which is newest first (§5).
    if by_age.iter().all(|d| d.created_on.is_some()) {
        by_age.sort_by(|a, b| b.created_on.cmp(&a.created_on));
    }
    by_age
        .into_iter()
        .skip(1)
        .find_map(|d| d.versions.iter().find(|v| (v.percentage - 100.0).abs() < 1e-9).map(|v| v.version_id.clone()))
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
            assert_eq!(e.input(), "versions", "{bad}");
        }
    }
}

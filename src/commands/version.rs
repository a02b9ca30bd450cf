//! `version`: upload an immutable Version of a Worker (creating the Worker only when asked),
//! keeping what the latest version had that the inputs do not replace, and optionally deploy
//! it at 100 % or beside the version now live.

use std::collections::{HashMap, HashSet};

use crate::assets::Scan;
use crate::cloudflare::assets::AssetsJwt;
use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::workers::{Migrations, SubdomainFlags, Version, VersionAssets, VersionMeta, Worker};
use crate::cloudflare::{ApiError, Client, VersionId, WorkerName, WorkerRef};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::flows::assets::Uploaded;
use crate::flows::create::create_once;
use crate::flows::upload::{
    Flags, assets_config, describe_inputs, encode_body, ensure_worker, ensure_worker_made, scan_assets, show_refusal,
    with_assets_binding,
};
use crate::flows::{self, Area, Ctx, api_failure, deployments as deploy, migrations, plan};
use crate::inputs::d1::Migrations as D1Migrations;
use crate::inputs::upload::AssetsSpec;
use crate::inputs::upload::{VersionArgs, no_code_refusal};
use crate::inputs::{InputError, Inputs, Key, hint};

use super::{Command, Env, Facts, Output, Prepared};

/// What an upload and its deploy report: `version`'s outputs, and `deploy`'s, which deploys
/// given versions or uploads a Build Output through this same flow.
pub(super) const UPLOAD_OUTPUTS: &[Output] = &[
    Output::WorkerId,
    Output::VersionId,
    Output::VersionNumber,
    Output::VersionUrl,
    Output::DeploymentId,
    Output::Stages,
    Output::WorkersDevUrl,
    Output::Changes,
    Output::Plan,
    Output::Migrations,
    Output::DryRun,
];

pub(crate) const FACTS: Facts = Facts {
    name: "version",
    about: "upload a Version of a Worker from a directory of modules; optionally deploy it",
    exits: &[
        Exit::Success,
        Exit::BadInput,
        Exit::Api,
        Exit::TimedOut,
        Exit::GitHub,
        Exit::Internal,
        Exit::RolledBack,
        Exit::MigrationFailed,
        Exit::Interrupted,
    ],
    reports_to_github: true,
    outputs: UPLOAD_OUTPUTS,
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = VersionArgs::from_inputs(i)?;
    let d1 = super::migrate::with_deploy(i)?;
    if d1.is_some() && args.deploy.is_none() {
        return Err(InputError::new(
            Key::Migrate,
            format!(
                "applies migrations to the production database, so it runs only with {} (schema first, then the code that needs it); run `migrate` on its own to migrate without deploying",
                hint::set(Key::Deploy, "true")
            ),
        ));
    }
    let secrets = args.secrets().to_vec();
    if i.bool(Key::DryRun, false)? {
        let account = super::plan_account(i);
        return Ok(Prepared::new(secrets, move |ctx| {
            Box::pin(async move {
                flows::dry_run::upload(ctx, &args, &account, flows::dry_run::Upload::Version, d1.as_ref()).await
            })
        }));
    }
    Ok(Prepared::new(secrets, move |ctx| {
        if args.rollout.is_some() {
            // The upload stops at a signal like any; the rollout after it rolls back instead
            // (flows::rollout).
            Box::pin(run(ctx, args, d1))
        } else {
            // A configuration's triggers and settings are applied after the deployment: an
            // interruption can leave some of them unwritten.
            let what = if args.apply_named() {
                "the Worker's versions and deployments, and its routes, custom domains, cron triggers, queue consumers, Workflows and settings"
            } else {
                "the Worker's versions and deployments"
            };
            Box::pin(flows::interruptible(ctx, what, run(ctx, args, d1)))
        }
    }))
}

/// `deploy` given a Build Output: the version uploaded and deployed at 100 % (or through
/// `stages`), with `migrate`'s D1 migrations first, as `version` with `deploy: true` does,
/// without the GitHub report (`deploy` has none).
pub(super) fn upload_and_deploy_flow(args: VersionArgs, d1: Option<D1Migrations>) -> Prepared {
    let secrets = args.secrets().to_vec();
    Prepared::new(secrets, move |ctx| {
        if args.rollout.is_some() {
            Box::pin(async move { Box::pin(upload_and_deploy(ctx, args, d1.as_ref())).await })
        } else {
            Box::pin(flows::interruptible(ctx, "the Worker's versions and deployments", async move {
                Box::pin(upload_and_deploy(ctx, args, d1.as_ref())).await
            }))
        }
    })
}

async fn run(ctx: &Ctx, args: VersionArgs, d1: Option<D1Migrations>) -> Result<()> {
    let (worker, deploy) = (args.worker.as_str().to_owned(), args.deploy);
    let result = Box::pin(upload_and_deploy(ctx, args, d1.as_ref())).await;
    flows::github_report::after_version(ctx, &worker, deploy, result).await
}

async fn upload_and_deploy(ctx: &Ctx, mut args: VersionArgs, d1: Option<&D1Migrations>) -> Result<()> {
    let Some(rollout) = args.rollout.take() else {
        return upload_then_deploy(ctx, args, None, d1).await.map(|_| ());
    };
    let name = args.worker.clone();
    let message = args.message.clone();
    let check = "the Worker's versions (the upload may have completed; nothing was deployed)";
    let done =
        Box::pin(flows::interruptible_value(ctx, check, upload_then_deploy(ctx, args, Some(&rollout), d1))).await?;
    let Some(Staged { version, start, numbers, worker }) = done else {
        return Err(Error::Refused("the staged rollout had no version to roll out".into()));
    };
    flows::rollout::run(ctx, &name, &version, &rollout, start, message.as_deref(), numbers).await?;
    deploy::workers_dev_url(ctx, &worker);
    Ok(())
}

/// What a staged rollout goes on with after the upload.
struct Staged {
    version: VersionId,
    start: flows::rollout::Start,
    numbers: HashMap<VersionId, u64>,
    worker: Worker,
}

/// The upload, and its deploy unless `rollout` takes over: then the live deployment is read and
/// checked (and the analytics permission) before anything is written, and what the rollout
/// needs is handed back.
#[allow(clippy::too_many_lines, reason = "the upload read top to bottom, as before the rollout branch")]
async fn upload_then_deploy(
    ctx: &Ctx,
    args: VersionArgs,
    rollout: Option<&crate::inputs::rollout::RolloutArgs>,
    d1: Option<&D1Migrations>,
) -> Result<Option<Staged>> {
    let started = std::time::Instant::now();
    let start = match rollout {
        Some(r) => {
            let deployments = deploy::list(ctx, &args.worker).await?;
            Some(flows::rollout::preflight(ctx, &args.worker, None, r, &deployments).await?)
        }
        None => None,
    };
    describe_inputs(ctx, &args, true);
    // The assets are walked, checked and hashed before the first request: a file over the
    // limit stops the step with nothing sent.
    let scan = match &args.assets {
        Some(spec) => Some(scan_assets(ctx, spec).await?),
        None => None,
    };
    let name = &args.worker;
    let apply_plan = plan_apply(ctx, &args).await?;
    let Before { worker, latest, split_with, migrations, created_by_upload, exports_classic } =
        before_upload(ctx, &args, d1, start.is_some()).await?;
    let total: u64 = args.modules.iter().map(|m| m.size).sum();
    match &args.main_module {
        Some(main) => ctx.console.info(&format!(
            "Uploading a version of {name} ({}, {total} bytes, main module {main})",
            crate::ci::plural(args.modules.len(), "module", "modules"),
        )),
        None => ctx.console.info(&format!("Uploading a version of {name} (assets only, no code)")),
    }
    // The latest version's bindings decide what is inherited. Asked for as `latest`: a list's
    // order is not documented, and a list may leave the bindings out.
    let mut previous = latest.as_ref().and_then(|v| v.bindings.clone()).unwrap_or_default();
    // An assets binding cannot be inherited without assets to serve: reported as removed when
    // this upload has none (`drop_assets`).
    if args.assets.is_none() {
        previous.retain(|b| b["type"] != "assets");
    }
    // The assets binding goes with these assets, never inherited from an older version; it is
    // part of the planned set so the comparison with the latest version reports it truly.
    let wanted = with_assets_binding(&args.bindings.list, args.assets.as_ref());
    let plan = plan::bindings(&wanted, &previous, args.keep, args.keep_vars);
    let number = latest.as_ref().and_then(|v| v.number);
    plan::report(ctx, &plan, number);
    let limits = args
        .limits
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| Error::internal("could not encode the limits", e))?;
    let settings = plan::settings(
        [args.placement.clone(), limits, args.cache_options.clone()],
        latest.as_ref(),
        args.config_file.is_some(),
    );
    plan::report_settings(ctx, &settings, number);
    // Migrations apply only through the classic non-versioned upload, which deploys the version
    // at 100 % (docs/cloudflare-api.md Correction 10): the way wrangler applies them, until a
    // live probe shows the beta `deploy=true` does (docs/api-assumptions.md row 60).
    // Durable Object exports likewise (docs/cloudflare-api.md §H.10), unless they equal the live
    // ones (`exports_route`). A Worker the upload creates, too (§T.7).
    let lifecycle = Lifecycle {
        migrations: migrations.as_ref(),
        exports: exports_classic,
        creates_worker: created_by_upload.is_some(),
    };
    let deploy_on_upload = lifecycle.classic();
    if migrations.is_some() && start.is_some() {
        return Err(Error::Refused(format!(
            "{}: Durable Object migrations are applied only by the upload that deploys the version at 100 % at \
             once, which a staged rollout cannot stage; roll them out without `stages`. Nothing was uploaded.",
            hint::input(Key::Stages)
        )));
    }
    let known = known_versions(ctx, name, latest.as_ref()).await?;
    // Uploaded last, right before the version: the completion token lives an hour (§A.2).
    let uploaded = match &scan {
        // Boxed: three buckets in flight make a large future.
        Some(scan) => Some(Box::pin(flows::assets::upload(ctx, name, scan)).await?),
        None => None,
    };
    let assets = match (&scan, &uploaded, &args.assets) {
        (Some(scan), Some(up), Some(spec)) => Some(AssetsUpload { scan, jwt: &up.jwt, spec }),
        _ => None,
    };
    let sent = upload(ctx, &args, &plan.send, &settings, lifecycle, assets, &known);
    // A Worker not read yet is read beside the upload, for its id and workers.dev URL; one the
    // upload creates, after it.
    let read_now = worker.is_none();
    let (version, read) = if let Some(w) = worker {
        (sent.await, Ok(Some(w)))
    } else if let Some(flags) = created_by_upload {
        match sent.await {
            Ok(v) => match ctx.client.get_worker(WorkerRef::Name(name)).await {
                // Its flags, which that upload cannot carry. The version was made before them, so
                // it has no preview URL (the simulator's reading, docs/api-assumptions.md row 100).
                Ok(Some(mut w)) => {
                    flows::upload::set_new_worker_flags(ctx, &mut w, flags).await?;
                    (Ok(v), Ok(Some(w)))
                }
                other => (Ok(v), other),
            },
            Err(e) => (Err(e), Ok(None)),
        }
    } else {
        tokio::join!(sent, ctx.client.get_worker(WorkerRef::Name(name)))
    };
    let version = version?;
    plan::verify(ctx, &plan, &version);
    report(ctx, name, &version, &plan, &settings, uploaded.as_ref());
    let worker = match read {
        Ok(Some(w)) => w,
        Ok(None) => {
            return Err(Error::NotFound(
                "input `worker`: the Worker was not found after its version was uploaded".into(),
            ));
        }
        Err(e) => return Err(api_failure(e, "look up the Worker (the version was uploaded)", Area::Workers)),
    };
    if read_now {
        ctx.output(Output::WorkerId, worker.id.as_str());
    }
    if deploy_on_upload {
        let deployments = deploy::list(ctx, name).await?;
        let ours = deployments.iter().find(|d| d.versions.iter().any(|v| v.version_id == version.id));
        if let Some(d) = ours {
            ctx.output(Output::DeploymentId, d.id.as_str());
            let with = if migrations.is_some() {
                ", with its migrations applied"
            } else if exports_classic {
                ", with its Durable Object exports applied"
            } else {
                ""
            };
            ctx.console.info(&format!("Deployment {} is live: the new version at 100 %{with}.", d.id));
            ctx.summary(|s| s.row("Deployment", d.id.as_str()));
        }
    } else if let Some(start) = start {
        let numbers: HashMap<VersionId, u64> = [Some(&version), latest.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|v| Some((v.id.clone(), v.number?)))
            .collect();
        ctx.summary(|s| s.row("Duration of the upload", &format!("{:.1}s", started.elapsed().as_secs_f64())));
        return Ok(Some(Staged { version: version.id.clone(), start, numbers, worker }));
    } else if let Some(p) = args.deploy {
        let mut split = vec![DeploymentVersion { version_id: version.id.clone(), percentage: p }];
        if let Some(old) = split_with {
            split.push(DeploymentVersion { version_id: old, percentage: 100.0 - p });
        }
        // The new version did not exist before this run, so no earlier deployment holds it: there
        // are no earlier deployments to tell ours from, and none was read for a deploy at 100 %.
        let numbers: HashMap<VersionId, u64> = [Some(&version), latest.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|v| Some((v.id.clone(), v.number?)))
            .collect();
        deploy::deploy(ctx, name, &split, args.message.as_deref(), false, &HashSet::new(), numbers).await?;
    }
    if let Some(p) = apply_plan {
        apply(ctx, name, p).await?;
    }
    deploy::workers_dev_url(ctx, &worker);
    ctx.summary(|s| s.row("Duration", &format!("{:.1}s", started.elapsed().as_secs_f64())));
    Ok(None)
}

/// The configuration's routes, custom domains, crons, queue consumers and settings, for a
/// deploy at 100 %: read, compared and shown before anything is written, so a conflict stops
/// the step here. Any other run leaves them, as `wrangler versions upload` does, and says so.
async fn plan_apply(ctx: &Ctx, args: &VersionArgs) -> Result<Option<flows::apply::Plan>> {
    if !args.apply.spec.any() {
        return Ok(None);
    }
    if args.deploy.is_some_and(|p| p >= 100.0) {
        let p = Box::pin(flows::apply::plan(ctx, &args.worker, &args.apply)).await?;
        flows::apply::show(ctx, &p)?;
        return Ok(Some(p));
    }
    ctx.console.notice(&format!(
        "The configuration's routes, custom domains, cron triggers, queue consumers and Worker settings are applied by a deploy at 100 % ({}), as `wrangler deploy` applies them; this step leaves them as they are, as `wrangler versions upload` does",
        hint::set(Key::Deploy, "true")
    ));
    Ok(None)
}

/// The planned writes, after the deploy (as wrangler applies its triggers after the upload).
async fn apply(ctx: &Ctx, name: &WorkerName, plan: flows::apply::Plan) -> Result<()> {
    let changes = plan.changes();
    Box::pin(flows::apply::apply(ctx, name, plan)).await?;
    ctx.console.info(&if changes == 0 {
        "The configuration's triggers and settings: nothing to change.".to_owned()
    } else {
        format!("The configuration's triggers and settings: {} made.", crate::ci::plural(changes, "change", "changes"))
    });
    Ok(())
}

/// What is known before the upload, every check passed and the Worker made if need be.
struct Before {
    /// `None`: the Worker exists (it has a version) and is read beside the upload.
    worker: Option<Worker>,
    latest: Option<Version>,
    /// The version at 100 % a gradual rollout splits with.
    split_with: Option<VersionId>,
    migrations: Option<Migrations>,
    /// A Worker that does not exist yet, deployed at 100 % by this run: the classic upload
    /// creates and deploys it in one request, as `wrangler deploy` does (§T.7), so a refused
    /// upload leaves no empty Worker behind; these are the workers.dev flags to give it after.
    created_by_upload: Option<SubdomainFlags>,
    /// Whether the Durable Object exports go through the classic upload ([`exports_route`]).
    exports_classic: bool,
}

/// The reads and checks before the upload, and the only writes allowed before it: the Worker
/// created, or its workers.dev flags set.
async fn before_upload(ctx: &Ctx, args: &VersionArgs, d1: Option<&D1Migrations>, staged: bool) -> Result<Before> {
    let name = &args.worker;
    let lookup = |e: ApiError| api_failure(e, "look up the Worker", Area::Workers);
    let gradual = args.deploy.is_some_and(|p| p < 100.0);
    let set_flags = args.workers_dev.is_some() || args.preview_urls.is_some();
    // The first reads go together, each addressed by the Worker's name (the beta API takes the
    // name where it takes the id, docs/cloudflare-api.md §4), so no lookup comes first:
    // - the latest version, read before any write: it decides what is inherited, whether an
    //   upload without code would take a Worker's code away, and, when there is one, that the
    //   Worker exists;
    // - the Worker, only when its workers.dev flags are to be set before the upload (otherwise
    //   it is read beside the upload, for its id and URL);
    // - the live deployment, only for a gradual rollout: it needs a version at 100 % to split
    //   with, and a refusal must leave nothing half-done behind.
    let (latest, found, deployments) = tokio::join!(
        ctx.client.get_latest_version(WorkerRef::Name(name)),
        async { if set_flags { Some(ctx.client.get_worker(WorkerRef::Name(name)).await) } else { None } },
        async { if gradual { Some(deploy::list(ctx, name).await) } else { None } },
    );
    let split_with = match deployments {
        Some(d) => Some(live_version(&d?)?),
        None => None,
    };
    let mut worker = found.transpose().map_err(lookup)?.flatten();
    let (mut latest, exists) = match latest {
        // The flags cannot be set on a Worker that was not found: nothing is written.
        Ok(_) if set_flags && worker.is_none() => {
            return Err(Error::NotFound(
                "input `worker`: Cloudflare answered this Worker's latest version but not the Worker; nothing was \
                 uploaded, try again"
                    .into(),
            ));
        }
        Ok(v) => (Some(v), true),
        // No latest version: a Worker without versions, or no Worker. Where `create_worker`
        // allows it, the create answers which (409 when it exists); otherwise the Worker is
        // looked up, and the versions listed beside it (for a missing Worker that list's answer
        // is dropped).
        Err(e) if e.is_not_found() || e.has_code(10007) => {
            if worker.is_none() && !set_flags && !args.create_worker {
                let (found, none) =
                    tokio::join!(ctx.client.get_worker(WorkerRef::Name(name)), no_versions(ctx, name, e));
                worker = found.map_err(lookup)?;
                if worker.is_some() {
                    none?;
                }
            } else if worker.is_some() {
                no_versions(ctx, name, e).await?;
            }
            (None, worker.is_some())
        }
        Err(e) => return Err(api_failure(e, "read the latest version's bindings", Area::Workers)),
    };
    refuse_dropping_code(args, latest.as_ref())?;
    refuse_dropping_assets(args, latest.as_ref())?;
    refuse_missing_secrets(args, latest.as_ref())?;
    let migrations = pending_migrations(ctx, args, exists).await?;
    // Deployed at 100 % by the upload itself: the one upload that may change a lifecycle or create
    // the Worker (the classic one).
    let at_once = !staged && args.deploy.is_some_and(|p| p >= 100.0);
    let exports_classic = exports_route(ctx, args, exists, staged, at_once).await?;
    // A first deploy at 100 % goes through the classic upload: checked here, before any write.
    let first_deploy = worker.is_none() && !exists && at_once;
    let created_by_upload = if first_deploy {
        let flags = flows::upload::creatable(ctx, args).await?;
        flows::upload::refuse_flags_without_subdomain(ctx, args, flags).await?;
        Some(flags)
    } else {
        None
    };
    // The schema lands before the code: after every read and check, before the first write
    // (the Worker made, its flags set, the upload). A failed migration stops the run here.
    if let Some(m) = d1 {
        flows::d1::migrate(ctx, m).await?;
    }
    // Only a deploy at 100 % writes the flags, as `wrangler deploy` does (§C.7).
    let flags = if args.deploy.is_some_and(|p| p >= 100.0) { Flags::Write } else { Flags::Leave };
    let worker = match worker {
        Some(w) => Some(ensure_worker(ctx, args, Some(w), flags).await?),
        None if exists => None,
        None if let Some(f) = created_by_upload => {
            ctx.console.info(&format!(
                "Worker {} does not exist yet: the upload creates it and deploys it at 100 % (as `wrangler deploy` does), then workers.dev is set {} and preview URLs {}.",
                args.worker,
                flows::upload::on_off(f.enabled),
                flows::upload::on_off(f.previews_enabled)
            ));
            None
        }
        None => {
            let (w, made) = ensure_worker_made(ctx, args, None, flags).await?;
            // Created meanwhile by someone else: it may have versions since, code included.
            if !made {
                latest = latest_version(ctx, &w).await?;
                refuse_dropping_code(args, latest.as_ref())?;
                refuse_dropping_assets(args, latest.as_ref())?;
            }
            Some(w)
        }
    };
    if let Some(w) = &worker {
        ctx.output(Output::WorkerId, w.id.as_str());
    }
    Ok(Before { worker, latest, split_with, migrations, created_by_upload, exports_classic })
}

/// An upload without code over a Worker whose latest version has code would leave it serving
/// assets alone (and, deployed, take its code offline): refused unless `assets_only` says so.
/// A Worker without versions, or without code, may be assets-only. A version's `main_module` is
/// part of what the version read returns (docs/cloudflare-api.md §4.2), so no module is fetched.
fn refuse_dropping_code(args: &VersionArgs, latest: Option<&Version>) -> Result<()> {
    if args.main_module.is_some() || args.accepted.assets_only {
        return Ok(());
    }
    match latest.and_then(|v| v.main_module.as_deref()) {
        Some(main) => Err(Error::Input(no_code_refusal(&args.worker, latest.and_then(|v| v.number), main))),
        None => Ok(()),
    }
}

/// An upload without assets over a Worker whose latest version serves some would take them
/// offline when deployed, and the beta body cannot keep them without the files
/// (docs/cloudflare-api.md §C.6: `keep_assets` is classic-only): refused unless `drop_assets`
/// says so.
fn refuse_dropping_assets(args: &VersionArgs, latest: Option<&Version>) -> Result<()> {
    if args.assets.is_some() || args.accepted.drop_assets {
        return Ok(());
    }
    let Some(v) = latest else { return Ok(()) };
    let binding = v.bindings.iter().flatten().any(|b| b["type"] == "assets");
    if v.assets.as_ref().is_none_or(serde_json::Value::is_null) && !binding {
        return Ok(());
    }
    let version = v.number.map_or_else(|| "its latest version".to_owned(), |n| format!("its latest version, {n}"));
    Err(Error::Input(InputError::new(
        Key::Assets,
        format!(
            "is not set, but Worker {} serves static assets ({version}): the new version would have none, and Cloudflare cannot carry them over without the files. Set {} (or the configuration's `assets.directory`) to the assets' directory; or set {} if a version without them is meant",
            args.worker,
            hint::input(Key::Assets),
            hint::set(Key::DropAssets, "true")
        ),
    )))
}

/// A Build Output's `secret` bindings are kept from the Worker (sent as `inherit`), as wrangler
/// sends them with `bindings_inherit=strict` so that a missing one fails the upload (10057,
/// docs/cloudflare-api.md §H.3). Whether the beta API refuses or drops an `inherit` it cannot
/// resolve is open (§G-2), so a secret the latest version does not have is refused here, before
/// any write: the Worker would otherwise run without it.
fn refuse_missing_secrets(args: &VersionArgs, latest: Option<&Version>) -> Result<()> {
    let Some(source) = &args.build_output else { return Ok(()) };
    let has =
        |name: &str| latest.and_then(|v| v.bindings.as_ref()).is_some_and(|b| b.iter().any(|b| b["name"] == name));
    let missing: Vec<&str> = args
        .bindings
        .list
        .iter()
        .filter(|b| b["type"] == "inherit")
        .filter_map(|b| b["name"].as_str())
        .filter(|n| !has(n))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Input(InputError::new(
        Key::BuildOutput,
        format!(
            "{}: `env` declares the secret {} that Worker {} does not have yet (its latest version has no binding of that name), and the version would run without it: set it on the Worker first (`wrangler secret put`), or give its value with {}; nothing was written",
            source.file,
            missing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            args.worker,
            hint::input(Key::Secrets)
        ),
    )))
}

/// The Worker's latest version, `None` when it has none yet.
async fn latest_version(ctx: &Ctx, worker: &Worker) -> Result<Option<Version>> {
    match ctx.client.get_latest_version(WorkerRef::Id(&worker.id)).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() || e.has_code(10007) => no_versions(ctx, &worker.name, e).await.map(|()| None),
        Err(e) => Err(api_failure(e, "read the latest version's bindings", Area::Workers)),
    }
}

/// "No version yet" only when the list agrees: taking a stray 404 (`e`) from the latest
/// version's read for it would upload a version without the latest one's secrets.
async fn no_versions(ctx: &Ctx, worker: &WorkerName, e: ApiError) -> Result<()> {
    let any = ctx
        .client
        .list_versions(WorkerRef::Name(worker), 1, 1)
        .await
        .map_err(|e| api_failure(e, "list the Worker's versions", Area::Workers))?;
    if any.result.is_empty() {
        return Ok(());
    }
    Err(api_failure(
        e,
        "read the latest version's bindings (the Worker has versions, so nothing was uploaded)",
        Area::Workers,
    ))
}

/// What tells a version this run uploaded from the ones before, should the upload's answer be
/// lost: versions are numbered from 1 in the order they are made (docs/cloudflare-api.md §4.2;
/// that a later one always has a larger number is INFERRED, docs/api-assumptions.md), so the
/// latest version's number is enough, and a Worker without versions has none to exclude. Only
/// a latest version without a number has the versions listed before the upload.
async fn known_versions(ctx: &Ctx, worker: &WorkerName, latest: Option<&Version>) -> Result<Known> {
    let Some(latest) = latest else { return Ok(Known::Above(0)) };
    if let Some(n) = latest.number {
        return Ok(Known::Above(n));
    }
    let window = flows::ago(flows::RECONCILE_LOOKBACK);
    let ids = recent_versions(&ctx.client, worker, window)
        .await
        .map_err(|e| api_failure(e, "list the Worker's versions before uploading", Area::Workers))?
        .into_iter()
        .map(|v| v.id)
        .collect();
    Ok(Known::Ids(ids))
}

/// The versions that existed before the upload.
enum Known {
    /// Every version numbered up to this one.
    Above(u64),
    Ids(HashSet<VersionId>),
}

impl Known {
    fn is_new(&self, v: &Version) -> bool {
        match self {
            Known::Above(n) => v.number.is_some_and(|m| m > *n),
            Known::Ids(ids) => !ids.contains(&v.id),
        }
    }
}

/// The uploaded version's outputs, log line and job summary rows.
fn report(
    ctx: &Ctx,
    worker: &WorkerName,
    version: &Version,
    plan: &plan::Plan,
    settings: &plan::Settings,
    uploaded: Option<&Uploaded>,
) {
    ctx.output(Output::VersionId, version.id.as_str());
    if let Some(n) = version.number {
        ctx.output(Output::VersionNumber, &n.to_string());
    }
    // Only a URL Cloudflare returned: there is none unless the Worker has preview URLs.
    if let Some(url) = version.urls.first() {
        ctx.output(Output::VersionUrl, url);
    }
    ctx.console.info(&format!(
        "Version {} (number {}) uploaded.",
        version.id,
        version.number.map_or("?".into(), |n| n.to_string())
    ));
    ctx.summary(|s| {
        s.row("Worker", worker.as_str());
        s.row("Version", version.id.as_str());
        if let Some(n) = version.number {
            s.row("Version number", &n.to_string());
        }
        if let Some(u) = version.urls.first() {
            s.row("Version URL", u);
        }
        plan::summarise(s, plan);
        plan::summarise_settings(s, settings);
        if let Some(up) = uploaded {
            s.row("Assets", &up.summary_cell());
        }
    });
}

/// Which upload carries the file's Durable Object exports (docs/cloudflare-api.md §H.10): a
/// deploy at 100 % sends them on the classic upload, as wrangler does (`true`). Any other upload
/// (none, a percentage, `stages`) may carry them only unchanged, since a version upload that
/// changes a lifecycle is refused (10211): the Worker's live exports are read, and when they
/// differ the step stops here, before any write, saying how to apply them.
/// `staged`: a rollout through `stages` (taken out of `args` by then); `at_once`: the upload
/// itself deploys at 100 %.
async fn exports_route(ctx: &Ctx, args: &VersionArgs, exists: bool, staged: bool, at_once: bool) -> Result<bool> {
    let Some(spec) = args.exports.as_ref().filter(|e| e.has_durable_objects()) else { return Ok(false) };
    if at_once {
        return Ok(true);
    }
    let live = if exists {
        ctx.client
            .get_exports(&args.worker)
            .await
            .map_err(|e| api_failure(e, "read the Worker's Durable Object exports", Area::Workers))?
    } else {
        None
    };
    if live.as_ref().is_some_and(|l| crate::cloudflare::workers::same_exports(&spec.map, l)) {
        ctx.console.info(&format!(
            "Durable Object exports ({}): the same as the Worker's, so the version carries them unchanged.",
            spec.place()
        ));
        return Ok(false);
    }
    let now =
        if exists { "differ from the ones the Worker runs with" } else { "are new: the Worker does not exist yet" };
    let (key, how) = if staged {
        (
            Key::Stages,
            "a staged rollout cannot stage them: deploy them once without `stages`, then stage later versions",
        )
    } else {
        (Key::Deploy, "a version upload that changes them is refused (10211, as `wrangler versions upload` meets)")
    };
    Err(Error::Input(InputError::new(
        key,
        format!(
            "{}: these Durable Object exports {now}; Cloudflare applies them only through the non-versioned upload, which deploys at 100 % at once, and {how}. Set {} (without `stages`) to upload and deploy at once; nothing was written",
            spec.place(),
            hint::set(Key::Deploy, "true")
        ),
    )))
}

/// The configuration's migrations the Worker has not applied, in the form to send. Checked
/// before any write: Cloudflare applies migrations only through the non-versioned upload, which
/// deploys at 100 % (docs/cloudflare-api.md Correction 10; a version upload is refused with
/// 10211), so without that `deploy` nothing is uploaded.
async fn pending_migrations(ctx: &Ctx, args: &VersionArgs, exists: bool) -> Result<Option<Migrations>> {
    if args.migrations.is_empty() {
        return Ok(None);
    }
    let applied = if exists {
        ctx.client
            .get_migration_tag(&args.worker)
            .await
            .map_err(|e| api_failure(e, "read the Worker's applied Durable Object migration", Area::Workers))?
    } else {
        None
    };
    let (pending, warning) = migrations::pending(&args.migrations, applied.as_deref());
    if let Some(w) = warning {
        ctx.console.warning(&w);
    }
    let Some(m) = pending else {
        ctx.console.info("Durable Object migrations: all applied, none sent.");
        return Ok(None);
    };
    let from = m.old_tag.as_ref().map_or_else(|| "none applied".to_owned(), |t| format!("`{t}` applied"));
    let problem = match args.deploy {
        Some(p) if p >= 100.0 => None,
        Some(_) => Some(
            "a gradual rollout cannot apply them: Cloudflare applies migrations only through the non-versioned upload, which deploys the version at 100 %",
        ),
        None => Some(
            "Cloudflare refuses migrations on a version upload (10211, as `wrangler versions upload` meets): they are applied only through the non-versioned upload, which deploys at 100 %",
        ),
    };
    if let Some(why) = problem {
        return Err(Error::Input(InputError::new(
            Key::Deploy,
            format!(
                "the configuration has {} Durable Object migration step(s) this Worker has not applied ({from}, up to `{}`); {why}. Set {} to upload and deploy at once",
                m.steps.len(),
                m.new_tag,
                hint::set(Key::Deploy, "true")
            ),
        )));
    }
    ctx.console.info(&format!(
        "Durable Object migrations: {from}; sending {} step(s) up to `{}`, deployed with the upload.",
        m.steps.len(),
        m.new_tag
    ));
    Ok(Some(m))
}

/// The version serving 100 % now, to keep beside the new one.
fn live_version(deployments: &[Deployment]) -> Result<VersionId> {
    let Some(live) = deployments.first() else {
        return Err(Error::Refused(format!(
            "input `deploy`: a gradual rollout needs a version already at 100 %, but this Worker has no deployment yet; use {} first",
            hint::set(Key::Deploy, "true")
        )));
    };
    match live.versions.as_slice() {
        [only] => Ok(only.version_id.clone()),
        many => Err(Error::Refused(format!(
            "input `deploy`: the live deployment already splits traffic ({}); finish that rollout with {} first",
            deploy::describe_split(many, &std::collections::HashMap::new()),
            hint::command(Command::Deploy)
        ))),
    }
}

/// What makes an upload the classic one that deploys at 100 % at once: migrations to apply,
/// Durable Object exports to apply, or a Worker it creates.
#[derive(Clone, Copy)]
struct Lifecycle<'a> {
    migrations: Option<&'a Migrations>,
    /// Durable Object exports that change what the Worker runs with.
    exports: bool,
    creates_worker: bool,
}

impl Lifecycle<'_> {
    fn classic(&self) -> bool {
        self.migrations.is_some() || self.exports || self.creates_worker
    }
}

/// What the version carries of an assets upload.
struct AssetsUpload<'a> {
    scan: &'a Scan,
    jwt: &'a AssetsJwt,
    spec: &'a AssetsSpec,
}

/// Uploads the version, never twice: see [`create_once`]. `known` tells the versions that
/// existed before from a new one, so that only a new one can be taken for ours.
///
/// The body is encoded once, before anything is sent: a module that cannot be read (deleted
/// since the scan, say) is this machine's fault, reported as such and never retried as if
/// Cloudflare had failed. A second attempt, rare, reuses the same buffer.
async fn upload(
    ctx: &Ctx,
    args: &VersionArgs,
    bindings: &[serde_json::Value],
    settings: &plan::Settings,
    lifecycle: Lifecycle<'_>,
    assets: Option<AssetsUpload<'_>>,
    known: &Known,
) -> Result<Version> {
    let Lifecycle { migrations, creates_worker, .. } = lifecycle;
    let worker = &args.worker;
    let mut annotations = serde_json::Map::new();
    if let Some(m) = &args.message {
        annotations.insert("workers/message".into(), m.clone().into());
    }
    if let Some(t) = &args.tag {
        annotations.insert("workers/tag".into(), t.clone().into());
    }
    let meta = VersionMeta {
        main_module: args.main_module.as_deref(),
        compatibility_date: &args.compatibility_date,
        compatibility_flags: &args.compatibility_flags,
        bindings,
        annotations,
        placement: settings.placement.as_ref(),
        limits: settings.limits.as_ref(),
        cache_options: settings.cache_options.as_ref(),
        containers: settings.containers.as_ref(),
        migrations,
        exports: args.exports.as_ref().map(|e| &e.map),
        assets: assets.as_ref().map(|a| VersionAssets { jwt: a.jwt, config: assets_config(a.spec) }),
    };
    let window = flows::ago(flows::RECONCILE_LOOKBACK);
    let find = || find_version(&ctx.client, worker, args, known, window);
    // Migrations and Durable Object exports go only through the classic upload, which deploys
    // at 100 % (docs/cloudflare-api.md Correction 10, §H.10), as wrangler sends them; so does a
    // first deploy, which it creates the Worker with (§T.7).
    if lifecycle.classic() {
        let mut classic = meta;
        // The classic upload carries `_headers` and `_redirects` in the assets' config.
        if let Some(a) = &assets {
            let mut config = assets_config(a.spec);
            flows::upload::special_files_config(a.scan, &mut config)?;
            classic.assets = Some(VersionAssets { jwt: a.jwt, config });
        }
        // A Worker this upload creates may not exist yet when a lost answer is reconciled: then
        // nothing was uploaded.
        let find = || async {
            match find().await {
                Err(e) if creates_worker && (e.is_not_found() || e.has_code(10007)) => Ok(None),
                other => other,
            }
        };
        return upload_classic(ctx, worker, &classic, &args.modules, find).await;
    }
    let body = encode_body(&meta, &args.modules, assets.as_ref().map(|a| a.scan), "the version upload")?;
    let send = || async {
        let result = ctx.client.create_version(WorkerRef::Name(worker), body.clone()).await;
        show_refusal(ctx, &result);
        result
    };
    create_once(ctx, "upload the version", Area::Workers, send, find).await
}

/// The classic non-versioned upload (docs/cloudflare-api.md Correction 10), the one way
/// Durable Object migrations are applied, and the way a first deploy creates its Worker (§T.7):
/// the new version is deployed at 100 % at once. Its
/// answer is the script, not the version, so the version is read back as the Worker's latest
/// (checked against the answer's `deployment_id` when it has one).
async fn upload_classic<F, FF>(
    ctx: &Ctx,
    worker: &WorkerName,
    meta: &VersionMeta<'_>,
    modules: &[crate::inputs::bundle::ModuleFile],
    find: F,
) -> Result<Version>
where
    F: FnMut() -> FF,
    FF: std::future::Future<Output = Result<Option<Version>, ApiError>>,
{
    let (boundary, body) = flows::upload::encode_script_body(meta, modules, "the version upload")?;
    let send = || async {
        let result = ctx.client.put_script(worker, &boundary, body.clone()).await;
        show_refusal(ctx, &result);
        let uploaded = result?;
        let version = ctx.client.get_latest_version(WorkerRef::Name(worker)).await?;
        if !uploaded.made(&version.id) {
            ctx.console.warning(&format!(
                "the upload answered deployment {}, but the Worker's latest version is {}: reporting the latter",
                uploaded.deployment_id.as_deref().unwrap_or("?"),
                version.id
            ));
        }
        Ok(version)
    };
    create_once(ctx, "upload and deploy the version (the classic upload)", Area::Workers, send, find).await
}

/// Ours: a version that did not exist before, with our annotations.
async fn find_version(
    client: &Client,
    worker: &WorkerName,
    args: &VersionArgs,
    known: &Known,
    window: jiff::Timestamp,
) -> Result<Option<Version>, ApiError> {
    let versions = recent_versions(client, worker, window).await?;
    Ok(versions.into_iter().find(|v| {
        known.is_new(v)
            && v.annotation("workers/message") == args.message.as_deref()
            && v.annotation("workers/tag") == args.tag.as_deref()
    }))
}

/// The versions created since `start`, newest first, over as many pages as that takes.
async fn recent_versions(
    client: &Client,
    worker: &WorkerName,
    start: jiff::Timestamp,
) -> Result<Vec<Version>, ApiError> {
    let fetch = |p| client.list_versions(WorkerRef::Name(worker), p, flows::pages::PER_PAGE);
    flows::pages::since(fetch, start, Version::created_at).await
}

//! `version`: upload an immutable Version of a Worker (creating the Worker only when asked),
//! keeping what the latest version had that the inputs do not replace, and optionally deploy
//! it at 100 % or beside the version now live.

use std::collections::HashSet;

use crate::assets::{AssetsError, Scan};
use crate::cloudflare::assets::AssetsJwt;
use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::workers::{
    Migrations, ModuleSource, SubdomainFlags, Version, VersionAssets, VersionBodyError, VersionMeta, Worker,
    version_body,
};
use crate::cloudflare::{ApiError, Client, VersionId, WorkerId, WorkerRef};
use crate::error::{Error, Result};
use crate::inputs::args::{AssetsSpec, VersionArgs};
use crate::inputs::{Command, InputError, Key, hint};

use super::create::create_once;
use super::{Area, Ctx, api_failure};
use super::{deploy, migrations, plan};

pub async fn run(ctx: &Ctx, args: VersionArgs) -> Result<()> {
    let (worker, deploy) = (args.worker.as_str().to_owned(), args.deploy);
    let result = upload_and_deploy(ctx, args).await;
    super::github::after_version(ctx, &worker, deploy, result).await
}

async fn upload_and_deploy(ctx: &Ctx, args: VersionArgs) -> Result<()> {
    let started = std::time::Instant::now();
    if let Some((file, environment)) = &args.config_file {
        let env = environment.as_ref().map_or_else(String::new, |e| format!(", environment `{e}`"));
        ctx.console.info(&format!("Using the wrangler configuration {file}{env}."));
        for w in &args.config_warnings {
            ctx.console.warning(&format!("{file}: {w}"));
        }
    }
    for f in &args.skipped {
        ctx.console.info(&format!("Skipped {f}: matches {}, not a module.", hint::input(Key::Exclude)));
    }
    if !args.bindings.unchecked_kinds.is_empty() {
        ctx.console
            .info(&format!("Binding kinds passed through unchecked: {}", args.bindings.unchecked_kinds.join(", ")));
    }
    // The assets are walked, checked and hashed before the first request: a file over the
    // limit stops the step with nothing sent.
    let scan = match &args.assets {
        Some(spec) => Some(scan_assets(ctx, spec.directory.clone()).await?),
        None => None,
    };
    let lookup = |e: ApiError| api_failure(e, "look up the Worker", Area::Workers);
    let existing = ctx.client.get_worker(WorkerRef::Name(&args.worker)).await.map_err(lookup)?;
    let migrations = pending_migrations(ctx, &args, existing.as_ref()).await?;
    let worker = ensure_worker(ctx, &args, existing).await?;
    ctx.output("worker_id", worker.id.as_str());
    // Deploying: the live deployment is read before uploading. A gradual rollout needs a
    // version at 100 % to split with, and a refusal must leave nothing half-done behind; the
    // ids seen also tell a deployment of ours from earlier ones if its creation is ambiguous.
    let (split_with, known_deployments) = match args.deploy {
        Some(p) => {
            let deployments = deploy::list(ctx, &worker.name).await?;
            let old = if p < 100.0 { Some(live_version(&deployments)?) } else { None };
            (old, deploy::ids(&deployments))
        }
        None => (None, HashSet::new()),
    };
    let total: u64 = args.modules.iter().map(|m| m.size).sum();
    match &args.main_module {
        Some(main) => ctx.console.info(&format!(
            "Uploading a version of {} ({}, {total} bytes, main module {main})",
            worker.name,
            crate::ci::plural(args.modules.len(), "module", "modules"),
        )),
        None => ctx.console.info(&format!("Uploading a version of {} (assets only, no code)", worker.name)),
    }
    // The latest version's bindings decide what is inherited. Asked for as `latest`: a list's
    // order is not documented, and a list may leave the bindings out.
    let latest = match ctx.client.get_latest_version(&worker.id).await {
        Ok(v) => Some(v),
        // "No version yet" only when the list agrees: taking a stray 404 for it would upload a
        // version without the latest one's secrets.
        Err(e) if e.is_not_found() || e.has_code(10007) => {
            let any = ctx
                .client
                .list_versions(&worker.id, 1, 1)
                .await
                .map_err(|e| api_failure(e, "list the Worker's versions", Area::Workers))?;
            if !any.result.is_empty() {
                return Err(api_failure(
                    e,
                    "read the latest version's bindings (the Worker has versions, so nothing was uploaded)",
                    Area::Workers,
                ));
            }
            None
        }
        Err(e) => return Err(api_failure(e, "read the latest version's bindings", Area::Workers)),
    };
    let previous = latest.as_ref().and_then(|v| v.bindings.clone()).unwrap_or_default();
    // The assets binding goes with these assets, never inherited from an older version; it is
    // part of the planned set so the comparison with the latest version reports it truly.
    let wanted = with_assets_binding(&args.bindings.list, args.assets.as_ref());
    let plan = plan::bindings(&wanted, &previous, args.keep);
    plan::report(ctx, &plan, latest.as_ref().and_then(|v| v.number));
    // Migrations apply only with a version deployed by its own upload (docs/cloudflare-api.md
    // §C.2).
    let deploy_on_upload = migrations.is_some();
    // Uploaded last, right before the version: the completion token lives an hour (§A.2).
    let uploaded = match &scan {
        // Boxed: three buckets in flight make a large future.
        Some(scan) => Some(Box::pin(super::assets::upload(ctx, &worker.name, scan)).await?),
        None => None,
    };
    let assets = match (&scan, &uploaded, &args.assets) {
        (Some(scan), Some(up), Some(spec)) => Some(AssetsUpload { scan, jwt: &up.jwt, spec }),
        _ => None,
    };
    let version = upload(ctx, &worker, &args, &plan.send, migrations.as_ref(), assets).await?;
    plan::verify(ctx, &plan, &version);
    ctx.output("version_id", version.id.as_str());
    if let Some(n) = version.number {
        ctx.output("version_number", &n.to_string());
    }
    // Only a URL Cloudflare returned: there is none unless the Worker has preview URLs.
    if let Some(url) = version.urls.first() {
        ctx.output("version_url", url);
    }
    ctx.console.info(&format!(
        "Version {} (number {}) uploaded.",
        version.id,
        version.number.map_or("?".into(), |n| n.to_string())
    ));
    ctx.summary(|s| {
        s.row("Worker", worker.name.as_str());
        s.row("Version", version.id.as_str());
        if let Some(n) = version.number {
            s.row("Version number", &n.to_string());
        }
        if let Some(u) = version.urls.first() {
            s.row("Version URL", u);
        }
        plan::summarise(s, &plan);
        if let Some(up) = &uploaded {
            s.row(
                "Assets",
                &format!(
                    "{} files: {} uploaded, {} unchanged, {} bytes in {:.2}s",
                    up.files,
                    up.uploaded_files,
                    up.files - up.uploaded_files,
                    up.uploaded_bytes,
                    up.seconds
                ),
            );
        }
    });
    if deploy_on_upload {
        let deployments = deploy::list(ctx, &worker.name).await?;
        let ours = deployments.iter().find(|d| d.versions.iter().any(|v| v.version_id == version.id));
        if let Some(d) = ours {
            ctx.output("deployment_id", d.id.as_str());
            ctx.console
                .info(&format!("Deployment {} is live: the new version at 100 %, with its migrations applied.", d.id));
            ctx.summary(|s| s.row("Deployment", d.id.as_str()));
        }
    } else if let Some(p) = args.deploy {
        let mut split = vec![DeploymentVersion { version_id: version.id.clone(), percentage: p }];
        if let Some(old) = split_with {
            split.push(DeploymentVersion { version_id: old, percentage: 100.0 - p });
        }
        deploy::deploy(ctx, &worker, &split, args.message.as_deref(), false, &known_deployments).await?;
    }
    deploy::workers_dev_url(ctx, &worker);
    ctx.summary(|s| s.row("Duration", &format!("{:.1}s", started.elapsed().as_secs_f64())));
    Ok(())
}

/// The configuration's migrations the Worker has not applied, in the form to send. Checked
/// before any write: Cloudflare applies migrations only with a version deployed at once, at
/// 100 % (docs/cloudflare-api.md §C.2: 100123 otherwise), so without that `deploy` nothing is
/// uploaded.
async fn pending_migrations(ctx: &Ctx, args: &VersionArgs, existing: Option<&Worker>) -> Result<Option<Migrations>> {
    if args.migrations.is_empty() {
        return Ok(None);
    }
    let applied = match existing {
        Some(w) => ctx
            .client
            .get_migration_tag(&w.name)
            .await
            .map_err(|e| api_failure(e, "read the Worker's applied Durable Object migration", Area::Workers))?,
        None => None,
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
            "a gradual rollout cannot apply them: Cloudflare applies migrations only with a version deployed at 100 % by its own upload",
        ),
        None => Some(
            "Cloudflare applies migrations only with a version deployed by its own upload, so this upload would be refused",
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

/// The Worker `args` names (`existing`, as looked up), created when `create_worker` allows;
/// shared with `preview`.
pub(crate) async fn ensure_worker(ctx: &Ctx, args: &VersionArgs, existing: Option<Worker>) -> Result<Worker> {
    let lookup = |e: ApiError| api_failure(e, "look up the Worker", Area::Workers);
    if let Some(mut w) = existing {
        sync_subdomain(ctx, &mut w, args).await?;
        return Ok(w);
    }
    if !args.create_worker {
        let fix = format!("set {} to create it", hint::set(Key::CreateWorker, "true"));
        return Err(deploy::missing_worker(ctx, &args.worker, &fix).await);
    }
    // wrangler's defaults: on workers.dev, with preview URLs.
    let flags = SubdomainFlags {
        enabled: args.workers_dev.unwrap_or(true),
        previews_enabled: args.preview_urls.unwrap_or(true),
    };
    ctx.console.info(&format!(
        "Worker {} does not exist yet: creating it (workers.dev {}, preview URLs {}).",
        args.worker,
        on_off(flags.enabled),
        on_off(flags.previews_enabled)
    ));
    match ctx.client.create_worker(&args.worker, flags).await {
        Ok(w) => Ok(w),
        // Someone else (or our own lost first answer) created it meanwhile: use it, with the
        // flags asked for.
        Err(e) if e.status() == Some(409) || e.has_code(10040) || e.may_have_applied() => {
            match ctx.client.get_worker(WorkerRef::Name(&args.worker)).await.map_err(lookup)? {
                Some(mut w) => {
                    sync_subdomain(ctx, &mut w, args).await?;
                    Ok(w)
                }
                None => Err(api_failure(e, "create the Worker", Area::Workers)),
            }
        }
        Err(e) => Err(api_failure(e, "create the Worker", Area::Workers)),
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// `workers_dev` / `preview_urls` given for an existing Worker: its flags are set to them, and
/// only when they differ (an unneeded write is one more thing to fail).
async fn sync_subdomain(ctx: &Ctx, w: &mut Worker, args: &VersionArgs) -> Result<()> {
    if args.workers_dev.is_none() && args.preview_urls.is_none() {
        return Ok(());
    }
    let now = w.subdomain.clone().unwrap_or_default();
    let wanted = SubdomainFlags {
        enabled: args.workers_dev.or(now.enabled).unwrap_or(false),
        previews_enabled: args.preview_urls.or(now.previews_enabled).unwrap_or(false),
    };
    if now.enabled == Some(wanted.enabled) && now.previews_enabled == Some(wanted.previews_enabled) {
        return Ok(());
    }
    ctx.console.info(&format!(
        "Setting {}: workers.dev {}, preview URLs {}.",
        w.name,
        on_off(wanted.enabled),
        on_off(wanted.previews_enabled)
    ));
    let set = ctx
        .client
        .set_subdomain(&w.name, wanted)
        .await
        .map_err(|e| api_failure(e, "set the Worker's workers.dev flags", Area::Workers))?;
    let sub = w.subdomain.get_or_insert_with(Default::default);
    sub.enabled = Some(set.enabled);
    sub.previews_enabled = Some(set.previews_enabled);
    Ok(())
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

/// The bindings to plan: `bindings`, with the assets binding when the assets name one.
pub(crate) fn with_assets_binding(
    bindings: &[serde_json::Value],
    assets: Option<&AssetsSpec>,
) -> Vec<serde_json::Value> {
    let mut wanted = bindings.to_vec();
    if let Some(name) = assets.and_then(|a| a.binding.as_deref()) {
        wanted.retain(|b| b.get("name").and_then(serde_json::Value::as_str) != Some(name));
        wanted.push(serde_json::json!({ "type": "assets", "name": name }));
    }
    wanted
}

/// Walks and hashes the assets directory on a blocking thread (the hashing uses every core;
/// the runtime stays free to see a cancellation). Shared with `preview`.
pub(crate) async fn scan_assets(ctx: &Ctx, dir: std::path::PathBuf) -> Result<Scan> {
    let scan = tokio::task::spawn_blocking(move || crate::assets::scan(&dir))
        .await
        .map_err(|e| Error::internal("the asset scanner stopped", e))?
        .map_err(|e| match e {
            AssetsError::Read { path, source } => {
                Error::Local { what: format!("could not read asset {}", path.display()), source }
            }
            other => Error::Input(InputError::new(Key::Assets, other.to_string())),
        })?;
    for w in &scan.warnings {
        ctx.console.warning(w);
    }
    ctx.console.info(&format!(
        "Assets: {} in {} ({} bytes){}",
        crate::ci::plural(scan.assets.len(), "file", "files"),
        scan.root.display(),
        scan.total_bytes(),
        if scan.ignored > 0 { format!(", {} left out by .assetsignore", scan.ignored) } else { String::new() }
    ));
    Ok(scan)
}

/// What the version carries of an assets upload.
struct AssetsUpload<'a> {
    scan: &'a Scan,
    jwt: &'a AssetsJwt,
    spec: &'a AssetsSpec,
}

/// `assets.config` with only the fields set (docs/cloudflare-api.md §A.8).
pub(crate) fn assets_config(spec: &AssetsSpec) -> serde_json::Map<String, serde_json::Value> {
    let mut c = serde_json::Map::new();
    if let Some(v) = &spec.html_handling {
        c.insert("html_handling".into(), v.clone().into());
    }
    if let Some(v) = &spec.not_found_handling {
        c.insert("not_found_handling".into(), v.clone().into());
    }
    if let Some(v) = &spec.run_worker_first {
        c.insert("run_worker_first".into(), v.clone());
    }
    if let Some(v) = &spec.base_path {
        c.insert("base_path".into(), v.clone().into());
    }
    c
}

/// Uploads the version, never twice: see [`create_once`]. The versions that exist before are
/// noted so that only a new one can be taken for ours.
///
/// The body is encoded once, before anything is sent: a module that cannot be read (deleted
/// since the scan, say) is this machine's fault, reported as such and never retried as if
/// Cloudflare had failed. A second attempt, rare, reuses the same buffer.
async fn upload(
    ctx: &Ctx,
    worker: &Worker,
    args: &VersionArgs,
    bindings: &[serde_json::Value],
    migrations: Option<&Migrations>,
    assets: Option<AssetsUpload<'_>>,
) -> Result<Version> {
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
        placement: args.placement.as_ref(),
        limits: args.limits.as_ref(),
        migrations,
        assets: assets.as_ref().map(|a| VersionAssets { jwt: a.jwt, config: assets_config(a.spec) }),
    };
    let window = super::ago(super::RECONCILE_LOOKBACK);
    let known: HashSet<VersionId> = recent_versions(&ctx.client, &worker.id, window)
        .await
        .map_err(|e| api_failure(e, "list the Worker's versions before uploading", Area::Workers))?
        .into_iter()
        .map(|v| v.id)
        .collect();
    let body = encode_body(&meta, &args.modules, assets.as_ref().map(|a| a.scan), "the version upload")?;
    let send = || async {
        let result = ctx.client.create_version(&worker.id, body.clone(), migrations.is_some()).await;
        show_refusal(ctx, &result);
        result
    };
    let find = || find_version(&ctx.client, &worker.id, args, &known, window);
    create_once(ctx, "upload the version", Area::Workers, send, find).await
}

/// The body of a version or a Preview deployment (§B.5 takes the same one), encoded once
/// before anything is sent: a module that cannot be read (deleted since the scan, say) is
/// this machine's fault, reported as such and never retried as if Cloudflare had failed.
pub(super) fn encode_body(
    meta: &impl serde::Serialize,
    modules: &[crate::inputs::bundle::ModuleFile],
    assets: Option<&Scan>,
    what: &str,
) -> Result<bytes::Bytes> {
    let mut sources: Vec<ModuleSource> = modules
        .iter()
        .map(|m| ModuleSource { name: &m.name, content_type: m.content_type, path: &m.path, size: m.size })
        .collect();
    if let Some(scan) = assets {
        add_special_modules(&mut sources, scan);
    }
    Ok(bytes::Bytes::from(version_body(meta, &sources).map_err(|e| match e {
        VersionBodyError::ModuleRead { path, source } => {
            Error::Local { what: format!("could not read module file {}", path.display()), source }
        }
        encode @ VersionBodyError::Encode(_) => Error::internal(format!("could not encode {what}"), encode),
    })?))
}

/// A refused upload's validation errors (10021) carry the script's own error text: shown,
/// inert, before the failure is reported.
pub(super) fn show_refusal<T>(ctx: &Ctx, result: &Result<T, ApiError>) {
    if let Err(ApiError::Api { status: 400..=428 | 430..=499, errors, .. }) = result {
        let texts: Vec<&str> = errors.iter().filter_map(|e| e.message.as_deref()).collect();
        ctx.console.untrusted(texts.iter().flat_map(|t| t.lines()));
    }
}

/// `_headers` and `_redirects` travel as `text/plain` modules of those names (§A.8), with a
/// version or a Preview deployment alike (§B.5 takes the same `assets`).
fn add_special_modules<'a>(sources: &mut Vec<ModuleSource<'a>>, scan: &'a Scan) {
    for (name, path) in [("_headers", &scan.headers), ("_redirects", &scan.redirects)] {
        if let Some(p) = path {
            let size = std::fs::metadata(p).map_or(0, |m| m.len());
            sources.retain(|m| m.name != name);
            sources.push(ModuleSource { name, content_type: "text/plain", path: p, size });
        }
    }
}

/// Ours: a version that did not exist before, with our annotations.
async fn find_version(
    client: &Client,
    worker: &WorkerId,
    args: &VersionArgs,
    known: &HashSet<VersionId>,
    window: jiff::Timestamp,
) -> Result<Option<Version>, ApiError> {
    let versions = recent_versions(client, worker, window).await?;
    Ok(versions.into_iter().find(|v| {
        !known.contains(&v.id)
            && v.annotation("workers/message") == args.message.as_deref()
            && v.annotation("workers/tag") == args.tag.as_deref()
    }))
}

/// The versions created since `start`, newest first, over as many pages as that takes.
async fn recent_versions(client: &Client, worker: &WorkerId, start: jiff::Timestamp) -> Result<Vec<Version>, ApiError> {
    let fetch = |p| client.list_versions(worker, p, super::pages::PER_PAGE);
    super::pages::since(fetch, start, Version::created_at).await
}

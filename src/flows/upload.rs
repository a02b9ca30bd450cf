//! What `version` and `preview` share before and around an upload: the Worker made or checked,
//! the assets scanned, the multipart body encoded, a refusal shown.

use crate::assets::{AssetsError, Scan};
use crate::cloudflare::workers::{ModuleSource, SubdomainFlags, VersionBodyError, Worker, script_body, version_body};
use crate::cloudflare::{ApiError, WorkerRef};
use crate::error::{Error, Result};
use crate::inputs::bundle::Why;
use crate::inputs::upload::{AssetsSpec, VersionArgs};
use crate::inputs::{Key, hint};

use super::builds::WorkerFrom;
use super::{Area, Ctx, api_failure, deployments};

/// Whether this step may write an existing Worker's workers.dev / preview-URL flags. Only a
/// deploy at 100 % does, as `wrangler deploy` does; `wrangler versions upload` and `wrangler
/// preview` never write them (docs/cloudflare-api.md §C.7): an upload, and above all a Preview
/// whose configuration comes from a pull request's branch, must not change live routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flags {
    Write,
    Leave,
}

/// The Worker `args` names (`existing`, as looked up), created when `create_worker` allows;
/// shared with `preview`.
pub(crate) async fn ensure_worker(
    ctx: &Ctx,
    args: &VersionArgs,
    existing: Option<Worker>,
    flags: Flags,
) -> Result<Worker> {
    Ok(ensure_worker_made(ctx, args, existing, flags).await?.0)
}

/// [`ensure_worker`], and whether this run created it: a Worker made by this run has no
/// versions and no deployments yet, so nothing about them needs reading.
pub(crate) async fn ensure_worker_made(
    ctx: &Ctx,
    args: &VersionArgs,
    existing: Option<Worker>,
    flags: Flags,
) -> Result<(Worker, bool)> {
    let lookup = |e: ApiError| api_failure(e, "look up the Worker", Area::Workers);
    if let Some(mut w) = existing {
        sync_subdomain(ctx, &mut w, args, flags).await?;
        return Ok((w, false));
    }
    let flags_on_create = creatable(ctx, args).await?;
    ctx.console.info(&format!(
        "Worker {} does not exist yet: creating it (workers.dev {}, preview URLs {}).",
        args.worker,
        on_off(flags_on_create.enabled),
        on_off(flags_on_create.previews_enabled)
    ));
    match ctx.client.create_worker(&args.worker, flags_on_create).await {
        Ok(w) => Ok((w, true)),
        // Someone else (or our own lost first answer) created it meanwhile: use it, with the
        // flags asked for when this step may write them. Not counted as made here: another run
        // may have uploaded to it.
        Err(e) if e.status() == Some(409) || e.has_code(10040) || e.may_have_applied() => {
            match ctx.client.get_worker(WorkerRef::Name(&args.worker)).await.map_err(lookup)? {
                Some(mut w) => {
                    sync_subdomain(ctx, &mut w, args, flags).await?;
                    Ok((w, false))
                }
                None => Err(api_failure(e, "create the Worker", Area::Workers)),
            }
        }
        Err(e) => Err(api_failure(e, "create the Worker", Area::Workers)),
    }
}

/// Whether this run may create the Worker `args` names (`create_worker`, and a name Cloudflare
/// takes with the flags asked for), and with which workers.dev flags. Checked before any write,
/// whichever request then creates it: the beta create, or the classic upload of a first deploy.
pub(crate) async fn creatable(ctx: &Ctx, args: &VersionArgs) -> Result<SubdomainFlags> {
    if !args.create_worker {
        let create = format!("set {} to create it", hint::set(Key::CreateWorker, "true"));
        let from = args.worker_written.as_ref().map_or(WorkerFrom::Input, WorkerFrom::Wrangler);
        return Err(deployments::missing_worker(ctx, &args.worker, from, Some(&create)).await);
    }
    let flags = create_flags(args);
    // Cloudflare would refuse the create (100315): refused before it is sent.
    if flags.previews_enabled && args.worker.as_str().len() > crate::inputs::upload::PREVIEWS_NAME_LIMIT {
        return Err(Error::Input(crate::inputs::InputError::new(
            Key::PreviewUrls,
            format!(
                "is on for a new Worker, but Worker {} has a name of {} characters and Cloudflare allows preview URLs only for names of at most {} characters (error 100315): set {} or use a shorter name",
                args.worker,
                args.worker.as_str().len(),
                crate::inputs::upload::PREVIEWS_NAME_LIMIT,
                hint::set(Key::PreviewUrls, "false")
            ),
        )));
    }
    Ok(flags)
}

/// A Worker the classic upload creates gets its workers.dev flags only after it is deployed, and
/// Cloudflare refuses them (10063) on an account without a workers.dev subdomain: checked first,
/// as wrangler checks before a new Worker's upload (docs/cloudflare-api.md §6), so the step
/// stops before any write rather than with a live Worker whose flags were refused.
pub(crate) async fn refuse_flags_without_subdomain(ctx: &Ctx, args: &VersionArgs, flags: SubdomainFlags) -> Result<()> {
    if !flags.enabled && !flags.previews_enabled {
        return Ok(());
    }
    let sub = ctx
        .client
        .get_account_subdomain()
        .await
        .map_err(|e| api_failure(e, "read the account's workers.dev subdomain", Area::Workers))?;
    if sub.is_some() {
        return Ok(());
    }
    let (key, why) = match (args.workers_dev, args.preview_urls) {
        (Some(true), _) => (Key::WorkersDev, "is on".to_owned()),
        (_, Some(true)) => (Key::PreviewUrls, "is on".to_owned()),
        _ => (
            Key::WorkersDev,
            format!(
                "is not set, and a new Worker without routes goes on workers.dev (with preview URLs), as `wrangler deploy` puts it; Worker {} would be",
                args.worker
            ),
        ),
    };
    Err(Error::Input(crate::inputs::InputError::new(
        key,
        format!(
            "{why}, but this account has no workers.dev subdomain, so Cloudflare would refuse it (10063) after the Worker is deployed: register one (dashboard: Workers & Pages, your subdomain), or set {} and {}; nothing was written",
            hint::set(Key::WorkersDev, "false"),
            hint::set(Key::PreviewUrls, "false")
        ),
    )))
}

/// The flags of a Worker the classic upload has just created: that upload takes none, and the
/// API's default is undocumented (Correction 1), so they are written unless the Worker already
/// shows them, as wrangler writes them after every deploy (§C.7).
pub(crate) async fn set_new_worker_flags(ctx: &Ctx, w: &mut Worker, wanted: SubdomainFlags) -> Result<()> {
    let now = w.subdomain.clone().unwrap_or_default();
    if now.enabled == Some(wanted.enabled) && now.previews_enabled == Some(wanted.previews_enabled) {
        return Ok(());
    }
    let set = ctx
        .client
        .set_subdomain(&w.name, wanted)
        .await
        .map_err(|e| api_failure(e, "set the new Worker's workers.dev flags (it is deployed)", Area::Workers))?;
    let sub = w.subdomain.get_or_insert_with(Default::default);
    sub.enabled = Some(set.enabled);
    sub.previews_enabled = Some(set.previews_enabled);
    Ok(())
}

/// wrangler's defaults for a Worker it creates (docs/cloudflare-api.md §C.7): on workers.dev
/// unless the configuration has routes; preview URLs as workers.dev unless `preview_urls` says.
/// Always sent: the API's own default is undocumented (Correction 1).
pub(crate) fn create_flags(args: &VersionArgs) -> SubdomainFlags {
    let enabled = args.workers_dev.unwrap_or(!args.has_routes);
    SubdomainFlags { enabled, previews_enabled: args.preview_urls.unwrap_or(enabled) }
}

pub(crate) fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// `workers_dev` / `preview_urls` given for an existing Worker: with [`Flags::Write`] its flags
/// are set to them, only when they differ (an unneeded write is one more thing to fail);
/// otherwise a difference is a notice that says how to change them.
async fn sync_subdomain(ctx: &Ctx, w: &mut Worker, args: &VersionArgs, flags: Flags) -> Result<()> {
    if args.workers_dev.is_none() && args.preview_urls.is_none() {
        return Ok(());
    }
    let now = w.subdomain.clone().unwrap_or_default();
    // The write sets both flags: one the user did not name keeps its live value, and when that
    // value is unknown nothing is written rather than a guess that could turn it off.
    let (Some(enabled), Some(previews_enabled)) =
        (args.workers_dev.or(now.enabled), args.preview_urls.or(now.previews_enabled))
    else {
        ctx.console.warning(&format!(
            "Worker {}: Cloudflare's answer did not say both of its workers.dev flags, so they are left as they are",
            w.name
        ));
        return Ok(());
    };
    let wanted = SubdomainFlags { enabled, previews_enabled };
    if now.enabled == Some(wanted.enabled) && now.previews_enabled == Some(wanted.previews_enabled) {
        return Ok(());
    }
    if flags == Flags::Leave {
        let mut differ = Vec::new();
        if now.enabled != Some(wanted.enabled) {
            differ.push(format!(
                "`workers_dev` asks for workers.dev {}, live it is {}",
                on_off(wanted.enabled),
                now.enabled.map_or("unknown", on_off)
            ));
        }
        if now.previews_enabled != Some(wanted.previews_enabled) {
            differ.push(format!(
                "`preview_urls` asks for preview URLs {}, live they are {}",
                on_off(wanted.previews_enabled),
                now.previews_enabled.map_or("unknown", on_off)
            ));
        }
        ctx.console.notice(&format!(
            "Worker {}: {}. This is live routing, not changed by an upload (as `wrangler versions upload` and `wrangler preview` leave it): a deploy changes it ({} with {}, like `wrangler deploy`), or the dashboard",
            w.name,
            differ.join("; "),
            hint::command(crate::commands::Command::Version),
            hint::set(Key::Deploy, "true")
        ));
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
/// A problem with the folder is blamed where it was named (`AssetsSpec::blame`).
pub(crate) async fn scan_assets(ctx: &Ctx, spec: &AssetsSpec) -> Result<Scan> {
    let dir = spec.directory.clone();
    let scan = tokio::task::spawn_blocking(move || crate::assets::scan(&dir))
        .await
        .map_err(|e| Error::internal("the asset scanner stopped", e))?
        .map_err(|e| match e {
            AssetsError::Read { path, source } => {
                Error::Local { what: format!("could not read asset {}", path.display()), source }
            }
            other => Error::Input(spec.blame(other.to_string())),
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

/// The body of a version or a Preview deployment (§B.5 takes the same one), encoded once
/// before anything is sent: a module that cannot be read (deleted since the scan, say) is
/// this machine's fault, reported as such and never retried as if Cloudflare had failed.
pub(crate) fn encode_body(
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
        other => Error::internal(format!("could not encode {what}"), other),
    })?))
}

/// The classic upload's multipart body (docs/cloudflare-api.md Correction 10) and its boundary.
/// `_headers` and `_redirects` travel in `meta`'s `assets.config` there, as wrangler sends them,
/// never as modules.
pub(crate) fn encode_script_body(
    meta: &impl serde::Serialize,
    modules: &[crate::inputs::bundle::ModuleFile],
    what: &str,
) -> Result<(String, bytes::Bytes)> {
    let sources: Vec<ModuleSource> = modules
        .iter()
        .map(|m| ModuleSource { name: &m.name, content_type: m.content_type, path: &m.path, size: m.size })
        .collect();
    let mut tries = 0;
    loop {
        let boundary = format!("workers-ci-{}", crate::random::hex(16));
        match script_body(meta, &sources, &boundary) {
            Ok(body) => return Ok((boundary, bytes::Bytes::from(body))),
            Err(VersionBodyError::Boundary) if tries < 3 => tries += 1,
            Err(VersionBodyError::ModuleRead { path, source }) => {
                return Err(Error::Local { what: format!("could not read module file {}", path.display()), source });
            }
            Err(e) => return Err(Error::internal(format!("could not encode {what}"), e)),
        }
    }
}

/// `_headers` and `_redirects` of an assets scan, as the classic upload's `assets.config`
/// carries them (text).
pub(crate) fn special_files_config(scan: &Scan, config: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
    for (name, path) in [("_headers", &scan.headers), ("_redirects", &scan.redirects)] {
        if let Some(p) = path {
            let text = std::fs::read_to_string(p)
                .map_err(|source| Error::Local { what: format!("could not read {}", p.display()), source })?;
            config.insert(name.into(), text.into());
        }
    }
    Ok(())
}

/// A refused upload's validation errors (10021) carry the script's own error text: shown,
/// inert, before the failure is reported.
pub(crate) fn show_refusal<T>(ctx: &Ctx, result: &Result<T, ApiError>) {
    if let Err(ApiError::Api { status: 400..=428 | 430..=499, errors, .. }) = result {
        let texts: Vec<&str> = errors.iter().filter_map(|e| e.message.as_deref()).collect();
        ctx.console.untrusted_diagnostic(texts.iter().flat_map(|t| t.lines()));
        // An exports reconciliation failure says per class what went wrong (100402, §H.10).
        let details: Vec<String> = errors.iter().flat_map(crate::cloudflare::error::ApiMessage::details).collect();
        ctx.console.untrusted_diagnostic(details.iter().flat_map(|t| t.lines()));
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

/// What the inputs decided that the log should show before any request: the wrangler
/// configuration and its warnings, the files left out of the modules (`skipped`: `version`
/// names them, `preview` does not), and binding kinds passed through unchecked.
pub(crate) fn describe_inputs(ctx: &Ctx, args: &VersionArgs, skipped: bool) {
    if let Some((file, environment)) = &args.config_file {
        let env = environment.as_ref().map_or_else(String::new, |e| format!(", environment `{e}`"));
        ctx.console.info(&format!("Using the wrangler configuration {file}{env}."));
        for w in &args.config_warnings {
            ctx.console.warning(&format!("{file}: {w}"));
        }
    }
    if let Some(b) = &args.build_output {
        let mode = b.mode.as_ref().map_or_else(String::new, |m| format!(", mode `{m}`"));
        ctx.console.info(&format!(
            "Using the Build Output {} ({}{mode}): Worker {} from {}.",
            b.dir, b.version, args.worker, b.file
        ));
        for w in &args.config_warnings {
            ctx.console.warning(w);
        }
        if !b.skipped.is_empty() {
            ctx.console.warning(&format!(
                "{}: not applied by this step ({}): {}; they stay as they are on Cloudflare",
                b.file,
                hint::set(Key::SkipTriggers, "true"),
                b.skipped.join(", ")
            ));
        }
    }
    if skipped {
        for f in &args.skipped {
            let why = match f.why {
                Why::Excluded => format!("matches {}, not a module", hint::input(Key::Exclude)),
                Why::NotAModule => format!("not a module type ({})", crate::inputs::bundle::module_extensions()),
                Why::ToolFolder => "dependencies and tools, never modules".to_owned(),
                Why::Assets => "the assets directory, uploaded as assets".to_owned(),
            };
            ctx.console.info(&format!("Skipped {}: {why}.", f.name));
        }
    }
    if !args.bindings.unchecked_kinds.is_empty() {
        ctx.console
            .info(&format!("Binding kinds passed through unchecked: {}", args.bindings.unchecked_kinds.join(", ")));
    }
}

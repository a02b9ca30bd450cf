//! `dry_run: true` for the commands that upload or deploy (`version`, `deploy`, `preview`):
//! everything a real run checks before its first request (the inputs, the configuration or
//! Build Output, the bindings, every module read and the body encoded, the assets walked,
//! hashed and held to their limits), then the API calls a real run would make, printed — and
//! no request at all, so no token is needed (docs/cloudflare-api.md §H.9: `wrangler deploy
//! --dry-run` and `cf deploy --dry-run` do the same).
//!
//! What only the account can tell (whether the Worker exists, what its latest version holds,
//! which assets Cloudflare already has, the applied migration tag) is not known here: the plan
//! says which read decides it.

use serde_json::{Value, json};

use super::Ctx;
use super::upload::{assets_config, describe_inputs, encode_body, scan_assets, with_assets_binding};
use crate::cloudflare::WorkerName;
use crate::cloudflare::workers::VersionMeta;
use crate::commands::Output;
use crate::error::Result;
use crate::inputs::d1::Migrations as D1Migrations;
use crate::inputs::upload::{Apply, VersionArgs};

/// One API call of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub method: &'static str,
    /// Under the API base, `{account_id}` standing for an account not given.
    pub path: String,
    pub what: String,
}

/// What the upload is for.
pub(crate) enum Upload<'a> {
    /// A version, deployed at the percentage when one is given.
    Version,
    /// A deployment of the Preview of this name.
    Preview { name: &'a str },
}

pub(crate) fn call(method: &'static str, account: &str, rest: &str, what: impl Into<String>) -> Call {
    Call { method, path: format!("/accounts/{account}/{rest}"), what: what.into() }
}

/// The dry run of an upload: checked as a real run, planned, nothing sent.
pub(crate) async fn upload(
    ctx: &Ctx,
    args: &VersionArgs,
    account: &str,
    kind: Upload<'_>,
    d1: Option<&D1Migrations>,
) -> Result<()> {
    describe_inputs(ctx, args, true);
    let scan = match &args.assets {
        Some(spec) => Some(scan_assets(ctx, spec).await?),
        None => None,
    };
    // The body as a real run encodes it (every module read), with the declared bindings: which
    // of the latest version's are inherited is the account's to tell.
    let wanted = with_assets_binding(&args.bindings.list, args.assets.as_ref());
    let limits = args.limits.as_ref().map(|l| serde_json::to_value(l).unwrap_or(Value::Null));
    let meta = VersionMeta {
        main_module: args.main_module.as_deref(),
        compatibility_date: &args.compatibility_date,
        compatibility_flags: &args.compatibility_flags,
        bindings: &wanted,
        annotations: serde_json::Map::new(),
        placement: args.placement.as_ref(),
        limits: limits.as_ref(),
        cache_options: args.cache_options.as_ref(),
        containers: None,
        migrations: None,
        exports: args.exports.as_ref().map(|e| &e.map),
        assets: None,
    };
    let body = encode_body(&meta, &args.modules, scan.as_ref(), "the version upload")?;
    if let Some(spec) = &args.assets {
        let config = assets_config(spec);
        if !config.is_empty() {
            ctx.console.info(&format!("Assets served with {}", Value::Object(config)));
        }
    }
    // The configuration's triggers and settings, as a deploy at 100 % applies them: read and
    // compared before anything else, written after the deployment (commands::version).
    let (apply_reads, apply_writes) = if matches!(kind, Upload::Version) && args.apply.spec.any() {
        if args.deploy.is_some_and(|p| p >= 100.0) {
            super::apply::dry_run_calls(account, &args.worker, &args.apply)
        } else {
            ctx.console.notice(
                "The configuration's routes, custom domains, cron triggers, queue consumers and Worker settings are applied by a deploy at 100 %; this step would leave them as they are",
            );
            (Vec::new(), Vec::new())
        }
    } else {
        (Vec::new(), Vec::new())
    };
    let mut plan = apply_reads;
    plan.extend(before_upload(args, account, &kind));
    if let Some(m) = d1 {
        plan.extend(d1_calls(account, m));
    }
    plan.extend(uploads(args, account, &kind, scan.as_ref(), &wanted, body.len()));
    plan.extend(apply_writes);
    report(ctx, &args.worker, &plan);
    Ok(())
}

/// The reads, and the writes that come before the upload: the Worker, its flags, the Preview.
fn before_upload(args: &VersionArgs, account: &str, kind: &Upload<'_>) -> Vec<Call> {
    let w = args.worker.as_str();
    let mut plan: Vec<Call> = Vec::new();
    let is_preview = matches!(kind, Upload::Preview { .. });
    match kind {
        Upload::Version => {
            plan.push(call(
                "GET",
                account,
                &format!("workers/workers/{w}/versions/latest"),
                "read the latest version: the bindings it has that this upload does not declare are inherited or reported (keep_bindings)",
            ));
            if args.deploy.is_some_and(|p| p < 100.0) {
                plan.push(call(
                    "GET",
                    account,
                    &format!("workers/scripts/{w}/deployments"),
                    "read the live deployment: its version at 100 % keeps the rest of the traffic",
                ));
            }
        }
        Upload::Preview { name } => plan.push(call(
            "GET",
            account,
            &format!("workers/workers/{w}/previews/{name}"),
            format!("find the Preview `{name}`"),
        )),
    }
    if args.workers_dev.is_some() || args.preview_urls.is_some() || is_preview {
        plan.push(call(
            "GET",
            account,
            &format!("workers/workers/{w}"),
            "read the Worker (its id and workers.dev flags)",
        ));
    }
    if !args.migrations.is_empty() {
        plan.push(call(
            "GET",
            account,
            &format!("workers/services/{w}"),
            format!(
                "read the applied Durable Object migration tag: of the {} migration step(s) up to `{}`, those not applied are sent",
                args.migrations.len(),
                args.migrations.last().map_or("", |m| m.tag.as_str())
            ),
        ));
    }
    // Exports a run cannot apply (no deploy at 100 % at once) go on only when they are the
    // Worker's already (`version`'s `exports_route`).
    if let (Upload::Version, Some(e)) = (kind, args.exports.as_ref().filter(|e| e.has_durable_objects()))
        && !args.deploys_at_once()
    {
        plan.push(call(
            "GET",
            account,
            &format!("workers/services/{w}"),
            format!(
                "read the Worker's Durable Object exports: the step goes on only if they equal those of {} (a version upload cannot change them; otherwise it stops here, before any write)",
                e.place()
            ),
        ));
    }
    let flags = super::upload::create_flags(args);
    if first_deploy_by_upload(args, kind) && (flags.enabled || flags.previews_enabled) {
        plan.push(call(
            "GET",
            account,
            "workers/subdomain",
            "new Worker (its latest version not found): read the account's workers.dev subdomain, without which its flags would be refused after the upload (the step stops here instead)",
        ));
    }
    if args.create_worker && !first_deploy_by_upload(args, kind) {
        plan.push(call("POST", account, "workers/workers", format!("create Worker {w}, only if it does not exist")));
    }
    if !is_preview
        && args.deploy.is_some_and(|p| p >= 100.0)
        && (args.workers_dev.is_some() || args.preview_urls.is_some())
    {
        let on = |b: Option<bool>| b.map_or("unchanged", |b| if b { "on" } else { "off" });
        plan.push(call(
            "POST",
            account,
            &format!("workers/scripts/{w}/subdomain"),
            format!(
                "set workers.dev {}, preview URLs {}, only where they differ",
                on(args.workers_dev),
                on(args.preview_urls)
            ),
        ));
    }
    if let Upload::Preview { name } = kind {
        plan.push(call(
            "POST",
            account,
            &format!("workers/workers/{w}/previews"),
            format!("create the Preview `{name}`, only if it does not exist"),
        ));
    }
    plan
}

/// The assets and the upload itself, then the deployment.
fn uploads(
    args: &VersionArgs,
    account: &str,
    kind: &Upload<'_>,
    scan: Option<&crate::assets::Scan>,
    wanted: &[Value],
    body_len: usize,
) -> Vec<Call> {
    let w = args.worker.as_str();
    let mut plan: Vec<Call> = Vec::new();
    if let Some(scan) = scan {
        plan.push(call(
            "POST",
            account,
            &format!("workers/scripts/{w}/assets-upload-session"),
            format!(
                "send the manifest of {} ({} bytes, hashed): Cloudflare answers which it lacks",
                crate::ci::plural(scan.assets.len(), "asset", "assets"),
                scan.total_bytes()
            ),
        ));
        plan.push(call(
            "POST",
            account,
            "workers/assets/upload",
            "upload the assets Cloudflare lacks, in buckets (none when it has them all)",
        ));
    }
    let described: Vec<String> = wanted
        .iter()
        .map(|b| format!("{} ({})", b["name"].as_str().unwrap_or_default(), b["type"].as_str().unwrap_or_default()))
        .collect();
    let code = match &args.main_module {
        Some(main) => format!("{}, main module {main}", crate::ci::plural(args.modules.len(), "module", "modules")),
        None => "assets only, no code".to_owned(),
    };
    let bindings =
        if described.is_empty() { "no bindings".to_owned() } else { format!("bindings {}", described.join(", ")) };
    let content = format!("{code}; {bindings}; compatibility date {}; {} bytes", args.compatibility_date, body_len);
    match kind {
        Upload::Preview { name } => plan.push(call(
            "POST",
            account,
            &format!("workers/workers/{w}/previews/{name}/deployments"),
            format!("deploy to the Preview: {content}"),
        )),
        Upload::Version if !args.migrations.is_empty() && args.deploy.is_some_and(|p| p >= 100.0) => plan.push(call(
            "PUT",
            account,
            &format!("workers/scripts/{w}"),
            format!("upload and deploy at 100 % with the pending migrations (the classic upload): {content}"),
        )),
        // Durable Object exports deployed at once; other runs carry them unchanged (above).
        Upload::Version if args.exports_lifecycle() && args.deploys_at_once() => plan.push(call(
            "PUT",
            account,
            &format!("workers/scripts/{w}"),
            format!(
                "upload and deploy at 100 % with the Durable Object exports of {} (the classic upload): {content}",
                args.exports.as_ref().map_or_else(String::new, crate::inputs::upload::ExportsSpec::place)
            ),
        )),
        Upload::Version => {
            let existing = if first_deploy_by_upload(args, kind) {
                plan.extend(classic_first_deploy(args, account, &content));
                "existing Worker: "
            } else {
                ""
            };
            plan.push(call(
                "POST",
                account,
                &format!("workers/workers/{w}/versions"),
                format!("{existing}upload the version: {content}"),
            ));
            if let Some(r) = &args.rollout {
                plan.push(call(
                    "POST",
                    account,
                    &format!("workers/scripts/{w}/deployments"),
                    format!(
                        "roll the new version out through the stages {} (each a deployment; a failed check rolls back)",
                        stages(r)
                    ),
                ));
            } else if let Some(p) = args.deploy {
                plan.push(call(
                    "POST",
                    account,
                    &format!("workers/scripts/{w}/deployments"),
                    format!("{existing}deploy the new version at {p} %"),
                ));
            }
        }
    }
    plan
}

/// Whether a Worker that does not exist yet would be created by the classic upload that
/// deploys it (a deploy at 100 % without stages, `create_worker` on), as `version` does.
/// (With migrations the plan's classic upload already covers both cases.)
fn first_deploy_by_upload(args: &VersionArgs, kind: &Upload<'_>) -> bool {
    matches!(kind, Upload::Version) && args.create_worker && args.deploys_at_once()
}

/// A first deploy's calls: the classic upload creates the Worker and deploys it, then the new
/// version, Worker and deployment are read for the outputs, and the flags set.
fn classic_first_deploy(args: &VersionArgs, account: &str, content: &str) -> Vec<Call> {
    let w = args.worker.as_str();
    let flags = super::upload::create_flags(args);
    let on = super::upload::on_off;
    vec![
        call(
            "PUT",
            account,
            &format!("workers/scripts/{w}"),
            format!(
                "new Worker (its latest version not found): create it and deploy at 100 % in one request, the classic upload wrangler's first deploy sends: {content}"
            ),
        ),
        call("GET", account, &format!("workers/workers/{w}/versions/latest"), "new Worker: read the version it made"),
        call("GET", account, &format!("workers/workers/{w}"), "new Worker: read it (its id and workers.dev flags)"),
        call(
            "POST",
            account,
            &format!("workers/scripts/{w}/subdomain"),
            format!(
                "new Worker: set workers.dev {}, preview URLs {}, only if it does not show them already",
                on(flags.enabled),
                on(flags.previews_enabled)
            ),
        ),
        call("GET", account, &format!("workers/scripts/{w}/deployments"), "new Worker: read the deployment it made"),
    ]
}

/// `stages` as given: `0, 10@5m, 100`.
pub(crate) fn stages(r: &crate::inputs::rollout::RolloutArgs) -> String {
    r.stages
        .iter()
        .map(|s| match s.soak {
            Some(d) => format!("{}@{}s", s.percent, d.as_secs()),
            None => s.percent.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `migrate: true`: the D1 migrations, schema first (docs/cloudflare-api.md §J).
pub(crate) fn d1_calls(account: &str, m: &D1Migrations) -> Vec<Call> {
    m.databases
        .iter()
        .map(|db| {
            call(
                "POST",
                account,
                &format!("d1/database/{}/query", db.id.as_str()),
                format!(
                    "D1 {}: create `{}` if absent and read the applied migrations, then one request per pending file of the {} in {}",
                    db.label(),
                    db.table,
                    crate::ci::plural(db.files.len(), "migration file", "migration files"),
                    db.dir.display()
                ),
            )
        })
        .collect()
}

/// The dry run of a deployment of versions already uploaded (`deploy` with `versions`).
/// With a configuration (`config`), its triggers and settings: read and compared before the
/// migrations and the deployment, written after it (`commands::deploy`).
pub(crate) fn deployment(
    ctx: &Ctx,
    worker: &WorkerName,
    account: &str,
    split: &str,
    d1: Option<&D1Migrations>,
    apply: Option<&Apply>,
) {
    let w = worker.as_str();
    let (apply_reads, apply_writes) =
        apply.map(|a| super::apply::dry_run_calls(account, worker, a)).unwrap_or_default();
    let mut plan = vec![call(
        "GET",
        account,
        &format!("workers/scripts/{w}/deployments"),
        "read the deployments (what is live; the rollback target)",
    )];
    plan.extend(apply_reads);
    plan.extend(d1.map(|m| d1_calls(account, m)).unwrap_or_default());
    plan.push(call("POST", account, &format!("workers/scripts/{w}/deployments"), format!("deploy {split}")));
    plan.extend(apply_writes);
    report(ctx, worker, &plan);
}

/// The plan in the log, the job summary and the outputs (`plan`, `dry_run`).
pub(crate) fn report(ctx: &Ctx, worker: &WorkerName, plan: &[Call]) {
    report_as(ctx, "Worker", worker.as_str(), plan);
}

/// [`report`] for what `subject` (`Worker`, `D1`) names.
pub(crate) fn report_as(ctx: &Ctx, subject: &str, name: &str, plan: &[Call]) {
    let width = plan.iter().map(|c| c.method.len() + 1 + c.path.len()).max().unwrap_or(0);
    let mut lines = vec![format!(
        "Dry run for {name}: every check passed; no request was sent and no credentials were used. A real run would send, in order:"
    )];
    for (n, c) in plan.iter().enumerate() {
        let call = format!("{} {}", c.method, c.path);
        lines.push(format!("  {}. {call:<width$}  {}", n + 1, c.what));
    }
    for l in &lines {
        ctx.console.info(l);
    }
    let rows: Vec<Value> = plan.iter().map(|c| json!({ "method": c.method, "path": c.path, "what": c.what })).collect();
    ctx.output(Output::Plan, &Value::Array(rows).to_string());
    ctx.output(Output::DryRun, "true");
    ctx.summary(|s| {
        s.row(subject, name);
        s.row("Dry run", &format!("nothing sent; {}", crate::ci::plural(plan.len(), "call planned", "calls planned")));
        for (n, c) in plan.iter().enumerate() {
            s.row(&format!("{}. {} {}", n + 1, c.method, c.path), &c.what);
        }
    });
}

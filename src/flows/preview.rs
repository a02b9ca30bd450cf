//! `preview`: deploy the code `version` would upload to this branch's Worker Preview
//! (docs/cloudflare-api.md §B), creating the Preview the first time, or delete it.
//!
//! The flow ends in a [`PreviewOutcome`], a plain value the reporters (outputs and summary
//! here; a pull-request comment or a GitHub Deployment elsewhere) read without knowing how it
//! was obtained. The slug and the URLs in it are Cloudflare's answer, never computed here: the
//! slug rule and the URL hosts are not documented exactly (§G-10, §G-11).

use std::collections::HashSet;

use serde_json::Value;

use crate::assets::Scan;
use crate::cloudflare::assets::AssetsJwt;
use crate::cloudflare::previews::{Preview, PreviewDeployment, PreviewDeploymentMeta, env_form};
use crate::cloudflare::workers::{Migrations, VersionAssets, Worker};
use crate::cloudflare::{ApiError, Client, PreviewDeploymentId, PreviewId, WorkerId, WorkerName, WorkerRef};
use crate::error::{Error, Result};
use crate::inputs::args::{AssetsSpec, PreviewAction, PreviewArgs};
use crate::inputs::{Key, hint};

use super::create::create_once;
use super::{Area, Ctx, api_failure, github, plan};

/// What a deploy made, for whoever reports it.
#[derive(Clone, Debug)]
pub struct PreviewResult {
    pub worker: WorkerName,
    pub worker_id: WorkerId,
    pub preview_id: PreviewId,
    pub preview_name: String,
    pub preview_slug: String,
    /// The Preview's stable URL (it serves the latest deployment); `None` without previews
    /// enabled on the Worker.
    pub preview_url: Option<String>,
    pub deployment_id: PreviewDeploymentId,
    pub deployment_number: Option<u64>,
    /// This deployment's own, immutable URL.
    pub deployment_url: Option<String>,
    pub commit: Option<String>,
    /// Whether this run created the Preview.
    pub created: bool,
}

#[derive(Clone, Debug)]
pub enum PreviewOutcome {
    Deployed(PreviewResult),
    /// `existed: false`: there was nothing to delete (not an error: `pull_request: closed`
    /// may run twice, or after a manual delete).
    Deleted {
        worker: WorkerName,
        preview_name: String,
        existed: bool,
    },
}

pub async fn run(ctx: &Ctx, args: PreviewArgs) -> Result<()> {
    let result = match args.action {
        PreviewAction::Deploy => deploy(ctx, &args).await.map(PreviewOutcome::Deployed),
        PreviewAction::Delete => delete(ctx, &args).await,
    };
    if let Ok(outcome) = &result {
        report(ctx, outcome);
    }
    // Boxed: the flow's future is large enough already.
    Box::pin(after(ctx, &args, result)).await
}

/// The GitHub side (with `github_token`): a deploy, or its failure, is published for the
/// Preview's environment (`preview/<worker>`, never production); a delete marks that
/// environment's deployments inactive and edits the living comment, never writing a new one.
/// A run that was stopped, or refused its inputs, reports nothing: it has no result.
async fn after(ctx: &Ctx, args: &PreviewArgs, result: Result<PreviewOutcome>) -> Result<()> {
    if ctx.github.is_none() || matches!(result, Err(Error::Stopped { .. } | Error::Input(_))) {
        return result.map(|_| ());
    }
    let name = &args.name.name;
    let outcome = match &result {
        Ok(PreviewOutcome::Deployed(r)) => github::Outcome {
            worker: r.worker.as_str().to_owned(),
            ok: true,
            headline: format!(
                "Preview {} {} (deployment {})",
                r.preview_name,
                if r.created { "created" } else { "updated" },
                r.deployment_number.map_or_else(|| r.deployment_id.as_str().to_owned(), |n| n.to_string())
            ),
            preview_url: r.preview_url.clone(),
            deployment_url: r.deployment_url.clone(),
            commit: r.commit.clone(),
            ..github::Outcome::default()
        },
        Ok(PreviewOutcome::Deleted { worker, preview_name, existed }) => {
            let o = github::Outcome {
                worker: worker.as_str().to_owned(),
                ok: true,
                headline: if *existed {
                    format!("Preview {preview_name} deleted")
                } else {
                    format!("Preview {preview_name} deleted (it was already gone)")
                },
                commit: args.commit.clone(),
                ..github::Outcome::default()
            };
            return github::retire(ctx, &o).await;
        }
        // A failed delete leaves the Preview, its comment and its deployments as they are.
        Err(_) if args.action == PreviewAction::Delete => return result.map(|_| ()),
        Err(_) => github::Outcome {
            worker: args.version.worker.as_str().to_owned(),
            ok: false,
            headline: format!("Preview {name}: deployment failed"),
            commit: args.commit.clone(),
            ..github::Outcome::default()
        },
    };
    let gh = github::publish(ctx, std::slice::from_ref(&outcome)).await;
    github::combine(ctx, result.map(|_| ()), gh)
}

fn describe_name(ctx: &Ctx, args: &PreviewArgs) {
    let name = &args.name.name;
    match &args.name.derived {
        None => ctx.console.info(&format!("Preview {name} (from {})", hint::input(Key::PreviewName))),
        Some((from, None)) => ctx.console.info(&format!("Preview {name} (the branch, from {from})")),
        // The original is not printed: a branch name is chosen by whoever opened the pull
        // request, and the name made from it holds only characters that cannot form a command.
        Some((from, Some(_))) => ctx.console.info(&format!(
            "Preview {name}: the branch from {from} has characters Cloudflare does not allow in a Preview name \
             (or is longer than 256), so they became `-`; set {} to choose the name",
            hint::input(Key::PreviewName)
        )),
    }
}

pub async fn deploy(ctx: &Ctx, args: &PreviewArgs) -> Result<PreviewResult> {
    let v = &args.version;
    // A Preview deployment's `main_module` and `modules` are required (§B.5), so an assets-only
    // Worker has no Preview: refused before any request.
    let Some(main_module) = v.main_module.as_deref() else {
        return Err(Error::Refused(
            "a Preview deployment needs a main module (Cloudflare requires `main_module`), and none was found: \
             an assets-only Worker cannot have a Preview; set `main` in the configuration or `dir`"
                .to_owned(),
        ));
    };
    describe_name(ctx, args);
    // As `version` does: the assets are walked, checked and hashed before the first request.
    let scan = match &v.assets {
        Some(spec) => Some(super::version::scan_assets(ctx, spec.directory.clone()).await?),
        None => None,
    };
    if let Some((file, environment)) = &v.config_file {
        let env = environment.as_ref().map_or_else(String::new, |e| format!(", environment `{e}`"));
        ctx.console.info(&format!("Using the wrangler configuration {file}{env}."));
        for w in &v.config_warnings {
            ctx.console.warning(&format!("{file}: {w}"));
        }
    }
    if !v.bindings.unchecked_kinds.is_empty() {
        ctx.console.info(&format!("Binding kinds passed through unchecked: {}", v.bindings.unchecked_kinds.join(", ")));
    }
    let lookup = |e: ApiError| api_failure(e, "look up the Worker", Area::Workers);
    let existing = ctx.client.get_worker(WorkerRef::Name(&v.worker)).await.map_err(lookup)?;
    let worker = super::version::ensure_worker(ctx, v, existing).await?;
    ctx.output("worker_id", worker.id.as_str());
    let name = args.name.name.as_str();
    let (preview, created) = ensure_preview(ctx, &worker, name).await?;
    ctx.output("preview_id", preview.id.as_str());
    ctx.output("preview_name", &preview.name);
    ctx.output("preview_slug", &preview.slug);
    // The Preview's latest deployment decides what is inherited (wrangler: every secret of it
    // not otherwise set, §B.9 step 7; here `keep_bindings`, whose default does that).
    let latest = if created {
        None
    } else {
        ctx.client
            .latest_preview_deployment(&worker.id, &preview.id)
            .await
            .map_err(|e| api_failure(e, "read the Preview's latest deployment", Area::Workers))?
    };
    let previous = latest.as_ref().and_then(|d| d.bindings.clone()).unwrap_or_default();
    // The assets binding goes with these assets, planned with the others (as `version` does).
    let wanted = super::version::with_assets_binding(&v.bindings.list, v.assets.as_ref());
    let plan = plan::bindings(&wanted, &previous, v.keep);
    let from = latest
        .as_ref()
        .and_then(|d| d.number)
        .map_or_else(|| "the Preview's latest deployment".to_owned(), |n| format!("the Preview's deployment {n}"));
    plan::report_against(ctx, &plan, &from, "the new deployment");
    let total: u64 = v.modules.iter().map(|m| m.size).sum();
    ctx.console.info(&format!(
        "Deploying to Preview {} of {} ({}, {total} bytes, main module {})",
        preview.name,
        worker.name,
        crate::ci::plural(v.modules.len(), "module", "modules"),
        main_module
    ));
    // A Preview has Durable Object namespaces of its own, so its migrations start from its
    // latest deployment's tag, not the Worker's (§B.10); a deployment applies them at once.
    let (migrations, warning) =
        super::migrations::pending(&v.migrations, latest.as_ref().and_then(|d| d.migration_tag.as_deref()));
    if let Some(w) = warning {
        ctx.console.warning(&w);
    }
    if let Some(m) = &migrations {
        ctx.console.info(&format!(
            "Durable Object migrations of this Preview: sending {} step(s) up to `{}`.",
            m.steps.len(),
            m.new_tag
        ));
    }
    // Uploaded last, right before the deployment: the completion token lives an hour (§A.2).
    // The upload session is the Worker script's (§B.9 step 5), the same as for its versions.
    let uploaded = match &scan {
        Some(scan) => Some(Box::pin(super::assets::upload(ctx, &worker.name, scan)).await?),
        None => None,
    };
    let assets = match (&scan, &uploaded, &v.assets) {
        (Some(scan), Some(up), Some(spec)) => Some((scan, &up.jwt, spec)),
        _ => None,
    };
    let body = Body { bindings: &plan.send, migrations: migrations.as_ref(), assets };
    let deployment = upload(ctx, &worker, &preview, args, main_module, body).await?;
    if let Some(up) = &uploaded {
        ctx.summary(|s| {
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
        });
    }
    for e in plan.entries.iter().filter(|e| e.change == plan::Change::Kept) {
        if !deployment.bindings.as_ref().is_none_or(|got| got.iter().any(|b| b["name"] == e.name.as_str())) {
            ctx.console.warning(&format!(
                "Cloudflare's answer does not list the inherited binding {} ({}): it may not have been kept",
                e.name, e.kind
            ));
        }
    }
    // The Preview as it is now: its URLs are Cloudflare's to say.
    let preview = match ctx.client.get_preview(&worker.id, preview.id.as_str()).await {
        Ok(Some(p)) => p,
        _ => preview,
    };
    let result = PreviewResult {
        worker: worker.name.clone(),
        worker_id: worker.id.clone(),
        preview_id: preview.id.clone(),
        preview_name: preview.name.clone(),
        preview_slug: preview.slug.clone(),
        preview_url: preview.urls.first().cloned(),
        deployment_id: deployment.id.clone(),
        deployment_number: deployment.number,
        deployment_url: deployment.urls.first().cloned(),
        commit: args.commit.clone(),
        created,
    };
    if result.preview_url.is_none() && result.deployment_url.is_none() {
        let off = worker.subdomain.as_ref().and_then(|s| s.previews_enabled) == Some(false);
        ctx.console.warning(&format!(
            "This Preview deployment has no URLs{}: set {} to turn them on (or serve previews on a custom domain)",
            if off { " (preview URLs are off for this Worker)" } else { "" },
            hint::set(Key::PreviewUrls, "true")
        ));
    }
    ctx.summary(|s| plan::summarise(s, &plan));
    Ok(result)
}

/// The Preview of that name, created when there is none; `true` when this run created it.
/// An ambiguous create is settled by looking the name up, so a Preview is never made twice.
async fn ensure_preview(ctx: &Ctx, worker: &Worker, name: &str) -> Result<(Preview, bool)> {
    let lookup = |e: ApiError| api_failure(e, "look up the Preview", Area::Workers);
    if let Some(p) = ctx.client.get_preview(&worker.id, name).await.map_err(lookup)? {
        return Ok((p, false));
    }
    ctx.console.info(&format!("Preview {name} does not exist yet: creating it."));
    let send = || async {
        match ctx.client.create_preview(&worker.id, name).await {
            // Made meanwhile (another job for the same branch): that one is ours too.
            Err(e) if e.status() == Some(409) => match ctx.client.get_preview(&worker.id, name).await {
                Ok(Some(p)) => Ok(p),
                _ => Err(e),
            },
            other => other,
        }
    };
    let find = || ctx.client.get_preview(&worker.id, name);
    let p = create_once(ctx, "create the Preview", Area::Workers, send, find).await?;
    Ok((p, true))
}

/// What the deployment carries besides the code: planned bindings, pending migrations, and
/// the assets just uploaded (their scan, completion token and settings).
struct Body<'a> {
    bindings: &'a [Value],
    migrations: Option<&'a Migrations>,
    assets: Option<(&'a Scan, &'a AssetsJwt, &'a AssetsSpec)>,
}

/// Creates the deployment, never twice: see [`create_once`]. Deployments that exist before
/// are noted, so only a new one carrying our annotations can be taken for ours.
async fn upload(
    ctx: &Ctx,
    worker: &Worker,
    preview: &Preview,
    args: &PreviewArgs,
    main_module: &str,
    body: Body<'_>,
) -> Result<PreviewDeployment> {
    let Body { bindings, migrations, assets } = body;
    let v = &args.version;
    let mut annotations = serde_json::Map::new();
    if let Some(c) = &args.commit {
        annotations.insert("workers/commit_sha".into(), c.clone().into());
    }
    if let Some(m) = &v.message {
        annotations.insert("workers/message".into(), m.clone().into());
    }
    if let Some(t) = &v.tag {
        annotations.insert("workers/tag".into(), t.clone().into());
    }
    for (k, val) in &args.annotations {
        annotations.insert((*k).into(), val.clone().into());
    }
    // `assets` as in a version (§B.5 refers to §A.8): the completion token and the config.
    let assets_value = assets
        .map(|(_, jwt, spec)| serde_json::to_value(VersionAssets { jwt, config: super::version::assets_config(spec) }))
        .transpose()
        .map_err(|e| Error::internal("could not encode the Preview deployment's assets", e))?;
    let meta = PreviewDeploymentMeta {
        main_module,
        compatibility_date: &v.compatibility_date,
        compatibility_flags: &v.compatibility_flags,
        env: env_form(bindings),
        annotations: annotations.clone(),
        assets: assets_value.as_ref(),
        placement: v.placement.as_ref(),
        limits: v.limits.as_ref(),
        migrations,
    };
    let known: HashSet<PreviewDeploymentId> = all_deployments(&ctx.client, &worker.id, &preview.id)
        .await
        .map_err(|e| api_failure(e, "list the Preview's deployments before deploying", Area::Workers))?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let body =
        super::version::encode_body(&meta, &v.modules, assets.map(|(scan, _, _)| scan), "the Preview deployment")?;
    let send = || async {
        let result = ctx.client.create_preview_deployment(&worker.id, &preview.id, body.clone()).await;
        super::version::show_refusal(ctx, &result);
        result
    };
    let find = || async {
        let all = all_deployments(&ctx.client, &worker.id, &preview.id).await?;
        Ok(all.into_iter().find(|d| {
            !known.contains(&d.id)
                && annotations.iter().all(|(k, want)| match k.as_str() {
                    // Cloudflare truncates a long message (§B.5): compared by prefix.
                    "workers/message" => {
                        d.annotation(k).is_some_and(|got| want.as_str().is_some_and(|w| w.starts_with(got)))
                    }
                    _ => d.annotation(k) == want.as_str(),
                })
        }))
    };
    create_once(ctx, "create the Preview deployment", Area::Workers, send, find).await
}

/// Every deployment of the Preview (at most 100 are kept, §B.7), over as many pages as needed.
async fn all_deployments(
    client: &Client,
    worker: &WorkerId,
    preview: &PreviewId,
) -> Result<Vec<PreviewDeployment>, ApiError> {
    const PER_PAGE: u32 = 100;
    let mut all = Vec::new();
    for page in 1..=10 {
        let got = client.list_preview_deployments(worker, preview, page, PER_PAGE).await?;
        let n = got.result.len();
        all.extend(got.result);
        let total = got.result_info.and_then(|i| i.total_count).unwrap_or(0);
        if n < PER_PAGE as usize || (total > 0 && all.len() as u64 >= total) {
            break;
        }
    }
    Ok(all)
}

async fn delete(ctx: &Ctx, args: &PreviewArgs) -> Result<PreviewOutcome> {
    let name = args.name.name.clone();
    describe_name(ctx, args);
    let worker_name = args.version.worker.clone();
    let lookup = |e: ApiError| api_failure(e, "look up the Worker", Area::Workers);
    let Some(worker) = ctx.client.get_worker(WorkerRef::Name(&worker_name)).await.map_err(lookup)? else {
        // No Worker, so no Preview of it: what `delete` asks for is already so.
        ctx.console.notice(&format!("Worker {worker_name} does not exist, so neither does its Preview {name}."));
        return Ok(PreviewOutcome::Deleted { worker: worker_name, preview_name: name, existed: false });
    };
    ctx.output("worker_id", worker.id.as_str());
    let existed = ctx
        .client
        .delete_preview(&worker.id, &name)
        .await
        .map_err(|e| api_failure(e, "delete the Preview", Area::Workers))?;
    if existed {
        ctx.console.info(&format!("Deleted Preview {name} of {}.", worker.name));
    } else {
        ctx.console.notice(&format!("Preview {name} of {} was already gone: nothing to delete.", worker.name));
    }
    Ok(PreviewOutcome::Deleted { worker: worker.name, preview_name: name, existed })
}

/// Outputs and job summary rows.
fn report(ctx: &Ctx, outcome: &PreviewOutcome) {
    match outcome {
        PreviewOutcome::Deployed(r) => {
            ctx.output("preview_id", r.preview_id.as_str());
            ctx.output("preview_name", &r.preview_name);
            ctx.output("preview_slug", &r.preview_slug);
            ctx.output("deployment_id", r.deployment_id.as_str());
            if let Some(u) = &r.preview_url {
                ctx.output("preview_url", u);
            }
            if let Some(u) = &r.deployment_url {
                ctx.output("deployment_url", u);
            }
            ctx.console.info(&format!(
                "Preview {} {}: deployment {} (number {}){}",
                r.preview_name,
                if r.created { "created" } else { "updated" },
                r.deployment_id,
                r.deployment_number.map_or("?".into(), |n| n.to_string()),
                r.preview_url.as_ref().map_or_else(String::new, |u| format!(", serving {u}"))
            ));
            ctx.summary(|s| {
                s.row("Worker", r.worker.as_str());
                s.row("Preview", &format!("{} ({})", r.preview_name, if r.created { "created" } else { "updated" }));
                s.row("Preview id", r.preview_id.as_str());
                if let Some(u) = &r.preview_url {
                    s.row("Preview URL", u);
                }
                s.row("Deployment", r.deployment_id.as_str());
                if let Some(u) = &r.deployment_url {
                    s.row("Deployment URL", u);
                }
                if let Some(c) = &r.commit {
                    s.row("Commit", c);
                }
            });
        }
        PreviewOutcome::Deleted { worker, preview_name, existed } => {
            ctx.output("preview_name", preview_name);
            ctx.summary(|s| {
                s.row("Worker", worker.as_str());
                s.row("Preview", preview_name);
                s.row("Deleted", if *existed { "yes" } else { "no (already gone)" });
            });
        }
    }
}

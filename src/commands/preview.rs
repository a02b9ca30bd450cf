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
use std::collections::BTreeMap;

use super::{Env, Facts, Output, Prepared};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::flows::create::create_once;
use crate::flows::upload::{
    Flags, assets_config, describe_inputs, encode_body, ensure_worker, scan_assets, show_refusal, with_assets_binding,
};
use crate::flows::{self, Area, Ctx, api_failure, github_report, migrations, plan};
use crate::inputs::args::commit;
use crate::inputs::upload::{AssetsSpec, PreviewBindings, Target, VersionArgs};
use crate::inputs::{InputError, Inputs, Key, hint};

pub(crate) const FACTS: Facts = Facts {
    name: "preview",
    about: "deploy a directory of modules to this branch's Worker Preview (or delete the Preview)",
    exits: &[Exit::Success, Exit::BadInput, Exit::Api, Exit::TimedOut, Exit::GitHub, Exit::Internal, Exit::Interrupted],
    reports_to_github: true,
    outputs: &[
        Output::PreviewUrl,
        Output::WorkerId,
        Output::DeploymentId,
        Output::Plan,
        Output::PreviewId,
        Output::PreviewName,
        Output::PreviewSlug,
        Output::DeploymentUrl,
        Output::DryRun,
    ],
};

pub(super) fn prepare(i: &Inputs, env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = PreviewArgs::from_inputs(i, env)?;
    let secrets = args.version.secrets().to_vec();
    if crate::ci::runner::is_merge_group(env) {
        // A queue's group has no pull request and its branch is deleted once the queue moves
        // on: a Preview for it would only be left behind. Nothing to do is not a failure, so
        // one job can run on `pull_request` and `merge_group` (docs/github-actions.md §4.1).
        return Ok(Prepared::new(secrets, |ctx| {
            Box::pin(async move {
                ctx.console.notice(
                    "merge_group event: a merge queue's group gets no Preview (no pull request, and its branch is temporary); nothing to do",
                );
                Ok(())
            })
        }));
    }
    if i.bool(Key::DryRun, false)? {
        let account = super::plan_account(i);
        return Ok(Prepared::new(secrets, move |ctx| Box::pin(dry_run(ctx, args, account))));
    }
    Ok(Prepared::new(secrets, move |ctx| {
        Box::pin(flows::interruptible(ctx, "the Worker's Previews and their deployments", run(ctx, args)))
    }))
}

/// `dry_run: true`: the deploy (or delete) checked and planned, nothing sent.
async fn dry_run(ctx: &Ctx, args: PreviewArgs, account: String) -> Result<()> {
    let name = args.name.name.as_str();
    match args.action {
        PreviewAction::Deploy => {
            flows::dry_run::upload(ctx, &args.version, &account, flows::dry_run::Upload::Preview { name }, None).await
        }
        PreviewAction::Delete => {
            let w = args.version.worker.as_str();
            let calls = [
                flows::dry_run::call("GET", &account, &format!("workers/workers/{w}"), "read the Worker (its id)"),
                flows::dry_run::call(
                    "DELETE",
                    &account,
                    &format!("workers/workers/{w}/previews/{name}"),
                    format!("delete the Preview `{name}` (one already gone is not an error)"),
                ),
            ];
            flows::dry_run::report(ctx, &args.version.worker, &calls);
            Ok(())
        }
    }
}

/// What a deploy made, for whoever reports it.
#[derive(Clone, Debug)]
pub(crate) struct PreviewResult {
    pub worker: WorkerName,
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
pub(crate) enum PreviewOutcome {
    Deployed(PreviewResult),
    /// `existed: false`: there was nothing to delete (not an error: `pull_request: closed`
    /// may run twice, or after a manual delete).
    Deleted {
        worker: WorkerName,
        preview_name: String,
        existed: bool,
    },
}

async fn run(ctx: &Ctx, args: PreviewArgs) -> Result<()> {
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
        Ok(PreviewOutcome::Deployed(r)) => github_report::Outcome {
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
            kind: crate::ci::comment::Kind::Preview,
            preview: Some(r.preview_name.clone()),
            ..github_report::Outcome::default()
        },
        Ok(PreviewOutcome::Deleted { worker, preview_name, existed }) => {
            let o = github_report::Outcome {
                worker: worker.as_str().to_owned(),
                ok: true,
                headline: if *existed {
                    format!("Preview {preview_name} deleted")
                } else {
                    format!("Preview {preview_name} deleted (it was already gone)")
                },
                commit: args.commit.clone(),
                kind: crate::ci::comment::Kind::Preview,
                preview: Some(preview_name.clone()),
                ..github_report::Outcome::default()
            };
            return github_report::retire(ctx, &o).await;
        }
        // A failed delete leaves the Preview, its comment and its deployments as they are.
        Err(_) if args.action == PreviewAction::Delete => return result.map(|_| ()),
        Err(_) => github_report::Outcome {
            worker: args.version.worker.as_str().to_owned(),
            ok: false,
            headline: format!("Preview {name}: deployment failed"),
            commit: args.commit.clone(),
            kind: crate::ci::comment::Kind::Preview,
            preview: Some(name.clone()),
            ..github_report::Outcome::default()
        },
    };
    let gh = github_report::publish(ctx, std::slice::from_ref(&outcome)).await;
    github_report::combine(ctx, result.map(|_| ()), gh)
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

pub(crate) async fn deploy(ctx: &Ctx, args: &PreviewArgs) -> Result<PreviewResult> {
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
        Some(spec) => Some(scan_assets(ctx, spec).await?),
        None => None,
    };
    describe_inputs(ctx, v, false);
    let lookup = |e: ApiError| api_failure(e, "look up the Worker", Area::Workers);
    let name = args.name.name.as_str();
    // The Worker and its Preview of that name are read together: both paths take the Worker's
    // name (docs/cloudflare-api.md §4) and the Preview's name (§B.2). Without the Worker the
    // Preview's answer (10007) says nothing and is dropped.
    let (existing, found) = tokio::join!(
        ctx.client.get_worker(WorkerRef::Name(&v.worker)),
        ctx.client.get_preview(WorkerRef::Name(&v.worker), name),
    );
    let existing = existing.map_err(lookup)?;
    let found = match existing {
        Some(_) => found.map_err(|e| api_failure(e, "look up the Preview", Area::Workers))?,
        None => None,
    };
    let worker = ensure_worker(ctx, v, existing, Flags::Leave).await?;
    ctx.output(Output::WorkerId, worker.id.as_str());
    let (preview, created) = ensure_preview(ctx, &worker, name, found).await?;
    ctx.output(Output::PreviewId, preview.id.as_str());
    ctx.output(Output::PreviewName, &preview.name);
    ctx.output(Output::PreviewSlug, &preview.slug);
    // The Preview's latest deployment decides what is inherited (wrangler: every secret of it
    // not otherwise set, §B.9 step 7; here `keep_bindings`, whose default does that).
    // A Preview made by this run has no deployments: nothing to inherit, nothing to tell ours
    // from. Otherwise its latest deployment and the ids of all of them are read together.
    let (latest, known) = if created {
        (None, HashSet::new())
    } else {
        let (latest, all) = tokio::join!(
            ctx.client.latest_preview_deployment(&worker.id, &preview.id),
            all_deployments(&ctx.client, &worker.id, &preview.id),
        );
        let latest = latest.map_err(|e| api_failure(e, "read the Preview's latest deployment", Area::Workers))?;
        let all = all.map_err(|e| api_failure(e, "list the Preview's deployments before deploying", Area::Workers))?;
        (latest, all.into_iter().map(|d| d.id).collect())
    };
    let base = worker.base_config_bindings();
    describe_bindings(ctx, v.preview_bindings.as_ref(), &base);
    // What the base config gives is laid under the deployment by Cloudflare again (§B.8):
    // neither kept by `inherit` nor reported removed.
    let mut previous = latest.as_ref().and_then(|d| d.bindings.clone()).unwrap_or_default();
    previous.retain(|b| !base.iter().any(|(n, _)| b["name"] == n.as_str()));
    // The assets binding goes with these assets, planned with the others (as `version` does).
    let wanted = with_assets_binding(&v.bindings.list, v.assets.as_ref());
    let plan = plan::bindings(&wanted, &previous, v.keep, false);
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
    let migrations = pending_migrations(ctx, v, latest.as_ref());
    // Uploaded last, right before the deployment: the completion token lives an hour (§A.2).
    // The upload session is the Worker script's (§B.9 step 5), the same as for its versions.
    let uploaded = match &scan {
        Some(scan) => Some(Box::pin(flows::assets::upload(ctx, &worker.name, scan)).await?),
        None => None,
    };
    let assets = match (&scan, &uploaded, &v.assets) {
        (Some(scan), Some(up), Some(spec)) => Some((scan, &up.jwt, spec)),
        _ => None,
    };
    let body = Body { bindings: &plan.send, migrations: migrations.as_ref(), assets, known: &known };
    let deployment = upload(ctx, &worker, &preview, args, main_module, body).await?;
    if let Some(up) = &uploaded {
        ctx.summary(|s| {
            s.row("Assets", &up.summary_cell());
        });
    }
    warn_unkept(ctx, &plan, &deployment);
    let result = deployed(ctx, args, &worker, preview, &deployment, created).await;
    ctx.summary(|s| plan::summarise(s, &plan));
    Ok(result)
}

/// What the Preview is bound to (docs/cloudflare-api.md §B.11), in the log and the summary, and
/// one warning naming the production bindings it does not get: a Preview never gets
/// production's KV, D1, secrets or vars, only its `previews` block's, the inputs' and the
/// Worker's previews base config.
fn describe_bindings(ctx: &Ctx, pb: Option<&PreviewBindings>, base: &[(String, String)]) {
    let Some(pb) = pb else { return };
    let list = |v: &[(String, String)]| v.iter().map(|(n, k)| format!("`{n}` ({k})")).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if let Some(block) = &pb.block {
        parts.push(format!("{block}: {}", if pb.from_block.is_empty() { "none".into() } else { list(&pb.from_block) }));
    }
    if !pb.from_inputs.is_empty() {
        parts.push(format!("the inputs: {}", list(&pb.from_inputs)));
    }
    if !base.is_empty() {
        parts.push(format!("the Worker's previews base config: {}", list(base)));
    }
    let text = if parts.is_empty() { "nothing".to_owned() } else { parts.join("; ") };
    ctx.console.info(&format!("The Preview is bound to {text}."));
    ctx.summary(|s| s.row("Preview bindings", &text));
    let missing: Vec<(String, String)> =
        pb.production_only.iter().filter(|(n, _)| !base.iter().any(|(b, _)| b == n)).cloned().collect();
    if !missing.is_empty() {
        let block = pb.block.as_deref().map_or_else(|| "a `previews` block".to_owned(), |b| format!("`{b}`"));
        ctx.console.warning(&format!(
            "production bindings {} have no counterpart in {block} or the Worker's previews base config, so the Preview does not have them (a Preview never gets production's); declare the Preview's own under `previews` in the configuration",
            list(&missing)
        ));
    }
}

/// The configuration's migrations the Preview's latest deployment has not applied.
fn pending_migrations(ctx: &Ctx, v: &VersionArgs, latest: Option<&PreviewDeployment>) -> Option<Migrations> {
    let (migrations, warning) = migrations::pending(&v.migrations, latest.and_then(|d| d.migration_tag.as_deref()));
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
    migrations
}

/// Each inherited binding that Cloudflare's answer does not list, as a warning.
fn warn_unkept(ctx: &Ctx, plan: &plan::Plan, deployment: &PreviewDeployment) {
    for e in plan.entries.iter().filter(|e| e.change == plan::Change::Kept) {
        if !deployment.bindings.as_ref().is_none_or(|got| got.iter().any(|b| b["name"] == e.name.as_str())) {
            ctx.console.warning(&format!(
                "Cloudflare's answer does not list the inherited binding {} ({}): it may not have been kept",
                e.name, e.kind
            ));
        }
    }
}

/// What the deploy made, with a warning when it has no URL to show.
async fn deployed(
    ctx: &Ctx,
    args: &PreviewArgs,
    worker: &Worker,
    preview: Preview,
    deployment: &PreviewDeployment,
    created: bool,
) -> PreviewResult {
    // The Preview as it is now: its URLs are Cloudflare's to say.
    let preview = match ctx.client.get_preview((&worker.id).into(), preview.id.as_str()).await {
        Ok(Some(p)) => p,
        _ => preview,
    };
    let result = PreviewResult {
        worker: worker.name.clone(),
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
    if result.preview_url.is_none() && result.deployment_url.is_some() {
        // Previews are on, yet the Preview has no URL of its own: its workers.dev host would be
        // `<slug>-<worker>`, and a DNS label holds at most 63 characters (docs/cloudflare-api.md
        // §B.6). The deployment's URL still serves it.
        let room = 63usize.saturating_sub(worker.name.as_str().len() + 1);
        ctx.console.warning(&format!(
            "Preview {} has no URL of its own (only this deployment's): `<slug>-{}` is longer than the 63 characters \
             of a DNS label; set {} to a name of at most {room} characters for one",
            result.preview_name,
            worker.name,
            hint::input(Key::PreviewName)
        ));
    } else if result.preview_url.is_none() && result.deployment_url.is_none() {
        let off = worker.subdomain.as_ref().and_then(|s| s.previews_enabled) == Some(false);
        ctx.console.warning(&format!(
            "This Preview deployment has no URLs{}: set {} to turn them on (or serve previews on a custom domain)",
            if off { " (preview URLs are off for this Worker)" } else { "" },
            hint::set(Key::PreviewUrls, "true")
        ));
    }
    result
}

/// The Preview of that name (`found`, as looked up), created when there is none; `true` when
/// this run created it.
/// An ambiguous create is settled by looking the name up, so a Preview is never made twice.
async fn ensure_preview(ctx: &Ctx, worker: &Worker, name: &str, found: Option<Preview>) -> Result<(Preview, bool)> {
    if let Some(p) = found {
        return Ok((p, false));
    }
    ctx.console.info(&format!("Preview {name} does not exist yet: creating it."));
    let send = || async {
        match ctx.client.create_preview(&worker.id, name).await {
            // Made meanwhile (another job for the same branch): that one is ours too.
            Err(e) if e.status() == Some(409) => match ctx.client.get_preview((&worker.id).into(), name).await {
                Ok(Some(p)) => Ok(p),
                _ => Err(e),
            },
            other => other,
        }
    };
    let find = || ctx.client.get_preview((&worker.id).into(), name);
    let p = create_once(ctx, "create the Preview", Area::Workers, send, find).await?;
    Ok((p, true))
}

/// What the deployment carries besides the code: planned bindings, pending migrations, and
/// the assets just uploaded (their scan, completion token and settings).
struct Body<'a> {
    bindings: &'a [Value],
    migrations: Option<&'a Migrations>,
    assets: Option<(&'a Scan, &'a AssetsJwt, &'a AssetsSpec)>,
    /// The deployments that existed before.
    known: &'a HashSet<PreviewDeploymentId>,
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
    let Body { bindings, migrations, assets, known } = body;
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
        .map(|(_, jwt, spec)| serde_json::to_value(VersionAssets { jwt, config: assets_config(spec) }))
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
        exports: v.exports.as_ref().map(|e| &e.map),
    };
    let body = encode_body(&meta, &v.modules, assets.map(|(scan, _, _)| scan), "the Preview deployment")?;
    let send = || async {
        let result = ctx.client.create_preview_deployment(&worker.id, &preview.id, body.clone()).await;
        show_refusal(ctx, &result);
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
    ctx.output(Output::WorkerId, worker.id.as_str());
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
            ctx.output(Output::PreviewId, r.preview_id.as_str());
            ctx.output(Output::PreviewName, &r.preview_name);
            ctx.output(Output::PreviewSlug, &r.preview_slug);
            ctx.output(Output::DeploymentId, r.deployment_id.as_str());
            if let Some(u) = &r.preview_url {
                ctx.output(Output::PreviewUrl, u);
            }
            if let Some(u) = &r.deployment_url {
                ctx.output(Output::DeploymentUrl, u);
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
            ctx.output(Output::PreviewName, preview_name);
            ctx.summary(|s| {
                s.row("Worker", worker.as_str());
                s.row("Preview", preview_name);
                s.row("Deleted", if *existed { "yes" } else { "no (already gone)" });
            });
        }
    }
}

/// `preview`: what `version` uploads, pointed at a Preview instead of a Version.
#[derive(Debug)]
pub(crate) struct PreviewArgs {
    pub version: VersionArgs,
    pub name: PreviewName,
    pub action: PreviewAction,
    /// `workers/commit_sha` (`commit`, which defaults to the PR head or `GITHUB_SHA`).
    pub commit: Option<String>,
    /// Other `workers/*` annotations from the CI context (docs/cloudflare-api.md §B.5, §B.9 step
    /// 7).
    pub annotations: BTreeMap<&'static str, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PreviewAction {
    Deploy,
    Delete,
}

/// The Preview's name, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PreviewName {
    pub name: String,
    /// `Some((variable, original))` when derived from the branch, with the original when it had
    /// to be changed to fit the pattern.
    pub derived: Option<(&'static str, Option<String>)>,
}

/// The most a Preview name may have (docs/cloudflare-api.md §B.2).
const PREVIEW_NAME_LIMIT: usize = 256;

fn preview_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_/.+=".contains(c)
}

/// Cloudflare's pattern `^[a-zA-Z0-9]([a-zA-Z0-9\-_/.+=]*[a-zA-Z0-9])?$`, at most 256 (§B.2).
pub(crate) fn valid_preview_name(n: &str) -> bool {
    n.len() <= PREVIEW_NAME_LIMIT
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
        && n.chars().all(preview_name_char)
}

/// A branch made into a valid name: every other character becomes `-`, the ends are trimmed to
/// letters and digits, and the result cut to 256. `None` when nothing is left.
pub(crate) fn preview_name_from_branch(branch: &str) -> Option<String> {
    let mapped: String = branch.chars().map(|c| if preview_name_char(c) { c } else { '-' }).collect();
    let trim = |s: &str| s.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned();
    let mut name = trim(&mapped);
    if name.len() > PREVIEW_NAME_LIMIT {
        name = trim(&name[..PREVIEW_NAME_LIMIT]);
    }
    (!name.is_empty()).then_some(name)
}

/// Where wrangler finds the branch (docs/cloudflare-api.md §B.9 step 2), in its order.
const BRANCH_VARIABLES: [&str; 4] = ["WORKERS_CI_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"];

impl PreviewArgs {
    fn from_inputs(i: &Inputs, env: &dyn Fn(&str) -> Option<String>) -> Result<PreviewArgs, InputError> {
        let action = match i.get(Key::PreviewAction) {
            None | Some("deploy") => PreviewAction::Deploy,
            Some("delete") => PreviewAction::Delete,
            Some(_) => return Err(InputError::new(Key::PreviewAction, "must be `deploy` or `delete`")),
        };
        let name = match i.get(Key::PreviewName) {
            Some(n) if valid_preview_name(n) => PreviewName { name: n.to_owned(), derived: None },
            Some(_) => {
                return Err(InputError::new(
                    Key::PreviewName,
                    "is not a valid Preview name: use at most 256 letters, digits and `- _ / . + =`, starting and ending with a letter or digit (or leave it unset to derive one from the branch)",
                ));
            }
            None => derived_name(env)?,
        };
        // `delete` needs no code: the Worker and the name are all it reads.
        let version = if action == PreviewAction::Delete {
            VersionArgs::for_delete(i)?
        } else {
            let v = VersionArgs::from_inputs_for(i, Target::Preview)?;
            if v.deploy.is_some() {
                return Err(InputError::new(
                    Key::Deploy,
                    "is for `version`: a Preview deployment serves its Preview at once; unset it",
                ));
            }
            v
        };
        let mut annotations = BTreeMap::new();
        let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        if let (Some(server), Some(repo)) = (set(env("GITHUB_SERVER_URL")), set(env("GITHUB_REPOSITORY"))) {
            annotations.insert("workers/repository_url", format!("{}/{repo}", server.trim_end_matches('/')));
        }
        // `refs/pull/<n>/merge` on pull_request events.
        if let Some(n) = set(env("GITHUB_REF"))
            .and_then(|r| r.strip_prefix("refs/pull/").and_then(|r| r.split('/').next()).map(str::to_owned))
            .filter(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
        {
            if let Some(repo) = annotations.get("workers/repository_url").cloned() {
                annotations.insert("workers/pull_request_url", format!("{repo}/pull/{n}"));
            }
            annotations.insert("workers/pull_request_number", n);
        }
        annotations.retain(|_, v| v.len() <= 512);
        Ok(PreviewArgs { commit: commit(i)?, version, name, action, annotations })
    }
}

fn derived_name(env: &dyn Fn(&str) -> Option<String>) -> Result<PreviewName, InputError> {
    let found = BRANCH_VARIABLES
        .into_iter()
        .find_map(|v| env(v).filter(|b| !b.trim().is_empty()).map(|b| (v, b.trim().to_owned())))
        .or_else(|| git_branch().map(|b| ("git rev-parse --abbrev-ref HEAD", b)));
    let Some((from, branch)) = found else {
        return Err(InputError::new(
            Key::PreviewName,
            "is required here: no branch was found (WORKERS_CI_BRANCH, GITHUB_HEAD_REF, GITHUB_REF_NAME,              CI_COMMIT_REF_NAME and `git rev-parse --abbrev-ref HEAD` gave none); set it",
        ));
    };
    let Some(name) = preview_name_from_branch(&branch) else {
        return Err(InputError::new(
            Key::PreviewName,
            format!("is required here: the branch from {from} has no letter or digit to make a name of; set it"),
        ));
    };
    let changed = (name != branch).then_some(branch);
    Ok(PreviewName { name, derived: Some((from, changed)) })
}

/// The checked-out branch, as wrangler asks git; `None` outside a repository or on failure.
fn git_branch() -> Option<String> {
    use std::process::{Command, Stdio};
    let out = Command::new("git")
        .args(["rev-parse", "--abbrev-ref", "HEAD"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let b = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !b.is_empty()).then_some(b)
}

#[cfg(test)]
mod arg_tests {
    use super::*;

    #[test]
    fn branches_become_preview_names() {
        for (branch, want) in [
            ("main", Some("main")),
            ("feature/Login_Page", Some("feature/Login_Page")),
            ("fix/ünï", Some("fix/-n")),
            ("@scope/pkg@1.0", Some("scope/pkg-1.0")),
            ("---", None),
            ("ü", None),
        ] {
            assert_eq!(preview_name_from_branch(branch).as_deref(), want, "{branch}");
            if let Some(w) = want {
                assert!(valid_preview_name(w), "{w}");
            }
        }
        let long = format!("{}-{}", "a".repeat(255), "b".repeat(10));
        let name = preview_name_from_branch(&long).unwrap();
        assert_eq!(name, "a".repeat(255), "cut to 256, then trimmed to end on a letter");
        assert!(!valid_preview_name(&"a".repeat(257)) && !valid_preview_name("a/") && !valid_preview_name(""));
    }

    #[test]
    fn a_preview_name_is_derived_in_wranglers_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let got = derived_name(&env(&[("GITHUB_REF_NAME", "main"), ("GITHUB_HEAD_REF", "feature/x")])).unwrap();
        assert_eq!(got, PreviewName { name: "feature/x".into(), derived: Some(("GITHUB_HEAD_REF", None)) });
        let got = derived_name(&env(&[("WORKERS_CI_BRANCH", "Ünï/x"), ("GITHUB_HEAD_REF", "y")])).unwrap();
        assert_eq!(got.name, "n-/x");
        assert_eq!(got.derived, Some(("WORKERS_CI_BRANCH", Some("Ünï/x".to_owned()))));
    }
}

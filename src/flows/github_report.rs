//! The GitHub side of a run: one living comment per Worker and kind (build, version, Preview) on
//! the pull request, and a GitHub
//! Deployment with a status for the commit. A flow calls [`publish`] with a plain [`Outcome`]
//! once its Cloudflare work is done (and a Preview's delete calls [`retire`]).
//!
//! Every GitHub failure is a warning that leaves the Cloudflare result alone, unless
//! `github_required` makes it the step's error (exit 9). Creates are never sent twice blindly:
//! the comment is looked up by its marker and the deployment by commit and environment, before
//! and (when a create failed) after.

use crate::ci::comment::{self, Card, Kind};
use crate::commands::Output;
use crate::error::{Error, Result};
use crate::github_api::{GhError, GitHub, NewDeployment, NewStatus};
use crate::inputs::{Key, hint};

use super::Ctx;

/// Where this run reports on GitHub, from the runner's environment.
pub(crate) struct Target {
    pub client: GitHub,
    /// The pull request (`pull_request` events only): no comment without one.
    pub pr: Option<u64>,
    /// The PR head commit on `pull_request` events, else `GITHUB_SHA`.
    pub sha: Option<String>,
    pub run_url: Option<String>,
    pub repo_url: Option<String>,
    /// A merge queue's group (`merge_group`): its commit lives on a temporary branch, so no
    /// GitHub Deployment records it (docs/github-actions.md §4.1).
    pub merge_group: bool,
    pub required: bool,
    /// Values that must never reach a comment (tokens, `secrets`): replaced by `***`.
    pub redact: Vec<String>,
}

/// What a flow hands over: nothing about Cloudflare but names, URLs and words.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub worker: String,
    /// Which of the Worker's comments this run keeps.
    pub kind: Kind,
    pub ok: bool,
    /// "build succeeded", "version uploaded", …
    pub headline: String,
    /// A URL for this branch or version (a Preview's stable URL, a version's preview URL).
    pub preview_url: Option<String>,
    /// This deployment's URL (a Preview deployment's, or workers.dev for production).
    pub deployment_url: Option<String>,
    /// The commit built, when the flow knows it; the run's head commit otherwise.
    pub commit: Option<String>,
    /// `production` instead of `preview/<worker>` (a deploy at 100 %).
    pub production: bool,
    /// The Preview this outcome is about: its GitHub Deployments carry the name, so that
    /// deleting it retires only them.
    pub preview: Option<String>,
    /// The last log lines of a failed build (untrusted).
    pub log_tail: Vec<String>,
}

impl Outcome {
    pub(crate) fn environment(&self) -> String {
        if self.production { "production".to_owned() } else { format!("preview/{}", self.worker) }
    }
}

/// Reports `outcomes` (one per Worker). `Ok` unless a write failed and `github_required`.
pub(crate) async fn publish(ctx: &Ctx, outcomes: &[Outcome]) -> Result<()> {
    let Some(t) = &ctx.github else { return Ok(()) };
    let mut failures = Vec::new();
    for o in outcomes {
        match t.pr {
            Some(pr) => {
                if let Err(e) = upsert_comment(t, pr, o).await {
                    failures.push(Failure::new(
                        &format!("could not write the pull-request comment for Worker {}", o.worker),
                        &e,
                    ));
                }
            }
            None => ctx.console.debug("not a pull_request event: no pull-request comment"),
        }
        if t.merge_group {
            ctx.console.debug("merge_group event: no GitHub Deployment for the queue's temporary commit");
            continue;
        }
        if let Err(e) = deploy(t, o).await {
            failures.push(Failure::new(&format!("could not record the GitHub Deployment for Worker {}", o.worker), &e));
        }
    }
    conclude(ctx, t, failures)
}

/// The Preview is gone: its deployments are marked inactive and the living comment, when there
/// is one, says so. Only edited: a pull request that never had our comment does not get one
/// when it closes.
pub(crate) async fn retire(ctx: &Ctx, o: &Outcome) -> Result<()> {
    let Some(t) = &ctx.github else { return Ok(()) };
    let mut failures = Vec::new();
    if let Some(pr) = t.pr {
        let edit = async {
            let me = t.client.self_id().await?;
            match find_comment(t, pr, o, me).await? {
                Some(c) => {
                    let history = comment::history(c.body.as_deref().unwrap_or_default());
                    t.client.update_comment(c.id, &body(t, o, &history)).await.map(|_| ())
                }
                None => Ok(()),
            }
        };
        if let Err(e) = edit.await {
            failures
                .push(Failure::new(&format!("could not edit the pull-request comment for Worker {}", o.worker), &e));
        }
    }
    let env = o.environment();
    if let Err(e) = deactivate(t, &env, o.preview.as_deref()).await {
        failures.push(Failure::new(&format!("could not mark the GitHub Deployments of {env} inactive"), &e));
    }
    conclude(ctx, t, failures)
}

/// What a Deployment's `payload` says it is for: the Preview, and the pull request.
fn payload(t: &Target, o: &Outcome) -> serde_json::Value {
    serde_json::json!({ "workers_ci": { "preview": o.preview, "pull_request": t.pr } })
}

/// Marks inactive the deployments of `env` made for this Preview (by its `payload`), and only
/// them: the environment is shared by every pull request's Preview, and GitHub's own
/// `auto_inactive` would retire them all, so it is off and this is how one is retired.
async fn deactivate(t: &Target, env: &str, preview: Option<&str>) -> Result<(), GhError> {
    let Some(preview) = preview else { return Ok(()) };
    let mine = |d: &crate::github_api::Deployment| {
        d.payload.as_ref().and_then(|p| p.pointer("/workers_ci/preview")).and_then(serde_json::Value::as_str)
            == Some(preview)
    };
    for d in t.client.recent_deployments(env, 100).await?.into_iter().filter(mine) {
        let state = t.client.latest_status(d.id).await?.and_then(|s| s.state);
        if state.as_deref() != Some("inactive") {
            let s = NewStatus {
                state: "inactive",
                environment_url: None,
                log_url: t.run_url.as_deref(),
                description: "Preview deleted",
                auto_inactive: false,
            };
            t.client.create_status(d.id, &s).await?;
        }
    }
    Ok(())
}

/// One GitHub write that failed, with the advice that fits how it failed.
struct Failure {
    text: String,
    advice: String,
}

impl Failure {
    fn new(what: &str, e: &GhError) -> Failure {
        Failure { advice: advice(e), text: format!("{what}: {e}") }
    }
}

/// What to do about a failed GitHub request, from how it failed: permissions are the fix for a
/// 403 only; a network failure, a refused token, a missing repository or a refused body each
/// need something else.
pub(super) fn advice(e: &GhError) -> String {
    let token = hint::input(Key::GithubToken);
    let api = hint::input(Key::GithubApiUrl);
    match e {
        GhError::Transport { .. } => format!(
            "GitHub did not answer (network failure or timeout, after retries): check the runner's network and {api}; \
             the next run writes the report again"
        ),
        GhError::Malformed { .. } => {
            format!("the answer was not GitHub's REST API: check that {api} is the API's base URL (`https://HOST/api/v3` on GitHub Enterprise Server)")
        }
        GhError::Api { status: 401, .. } => {
            format!("GitHub refused the token itself (401): check that {token} is a valid token (the workflow's `github.token`), not expired or revoked")
        }
        GhError::Api { status: 403, retry_after: Some(_), .. } | GhError::Api { status: 429, .. } => {
            "GitHub's rate limit was reached and did not reset in time: the next run writes the report again".to_owned()
        }
        GhError::Api { status: 403, .. } => format!(
            "check that {token} has `pull-requests: write` and `deployments: write` (the job's `permissions:`; \
             a pull request from a fork gets a read-only token)"
        ),
        GhError::Api { status: 404, .. } => format!(
            "GitHub does not show this repository or pull request to the token (404): check `GITHUB_REPOSITORY`, and \
             that {token} is for this repository (a token without access sees 404, not 403)"
        ),
        GhError::Api { status: 409 | 422, .. } => {
            "GitHub refused the request's content (its message says why; for a Deployment, usually a commit GitHub does \
             not have, or a branch protection rule): nothing to change in the token"
                .to_owned()
        }
        GhError::Api { status, .. } if *status >= 500 => {
            "GitHub failed to answer (a server error, after retries): the next run writes the report again".to_owned()
        }
        GhError::Api { .. } => format!("check {token} and {api}"),
    }
}

fn conclude(ctx: &Ctx, t: &Target, failures: Vec<Failure>) -> Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    if t.required {
        let all: Vec<String> = failures.iter().map(|f| format!("{}; {}", f.text, f.advice)).collect();
        return Err(Error::GitHub(all.join("; ")));
    }
    for f in failures {
        ctx.console.warning(&format!("GitHub: {} (the Cloudflare step is unaffected; {})", f.text, f.advice));
    }
    Ok(())
}

/// Keeps the Cloudflare result when both failed: it is the step's real story.
pub(crate) fn combine(ctx: &Ctx, cloudflare: Result<()>, github: Result<()>) -> Result<()> {
    match (cloudflare, github) {
        (Err(e), Err(g)) => {
            ctx.console.warning(&g.report());
            Err(e)
        }
        (Err(e), Ok(())) => Err(e),
        (Ok(()), g) => g,
    }
}

/// `history`: the commits and URLs the comment showed before (see [`comment::history`]).
fn body(t: &Target, o: &Outcome, history: &[(String, String)]) -> String {
    let commit = o.commit.as_deref().or(t.sha.as_deref());
    let card = Card {
        worker: &o.worker,
        kind: o.kind,
        ok: o.ok,
        headline: &o.headline,
        preview_url: o.preview_url.as_deref(),
        deployment_url: o.deployment_url.as_deref(),
        commit,
        repo_url: t.repo_url.as_deref(),
        run_url: t.run_url.as_deref(),
        time: jiff::Timestamp::now(),
        log_tail: &o.log_tail,
        history,
    };
    let mut text = comment::render(&card);
    for secret in t.redact.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret.as_str(), "***");
    }
    text
}

/// The Worker's living comment of this kind; for a Preview, failing that, the one comment the
/// Worker had before comments had kinds, which it takes over ([`comment::is_legacy`]).
///
/// Only a comment by this token's own account (`me`) counts: anyone can paste the marker, and a
/// planted one is met first (comments list oldest first), so it would otherwise be edited with
/// this run's URLs, or hide ours (docs/github-actions.md §3.1).
async fn find_comment(
    t: &Target,
    pr: u64,
    o: &Outcome,
    me: u64,
) -> Result<Option<crate::github_api::Comment>, GhError> {
    let mut all = t.client.list_comments(pr).await?;
    all.retain(|c| c.user.as_ref().is_some_and(|u| u.id == me));
    let ours =
        |c: &&crate::github_api::Comment| c.body.as_deref().is_some_and(|b| comment::is_ours(b, &o.worker, o.kind));
    let legacy = |c: &&crate::github_api::Comment| {
        o.kind == Kind::Preview && c.body.as_deref().is_some_and(|b| comment::is_legacy(b, &o.worker))
    };
    Ok(all.iter().find(ours).or_else(|| all.iter().find(legacy)).cloned())
}

/// Edits our comment when it exists (on any page), creates it otherwise, and after a create
/// that failed without a clear refusal, looks again before giving up: never a second comment.
async fn upsert_comment(t: &Target, pr: u64, o: &Outcome) -> Result<(), GhError> {
    let me = t.client.self_id().await?;
    let find = || find_comment(t, pr, o, me);
    if let Some(c) = find().await? {
        let history = comment::history(c.body.as_deref().unwrap_or_default());
        t.client.update_comment(c.id, &body(t, o, &history)).await?;
        return Ok(());
    }
    let text = body(t, o, &[]);
    match t.client.create_comment(pr, &text).await {
        Ok(_) => Ok(()),
        Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => Err(e),
        Err(e) => match find().await {
            Ok(Some(_)) => Ok(()),
            _ => Err(e),
        },
    }
}

/// One deployment per commit and environment: reused when it exists, created once otherwise;
/// then its status for this run.
async fn deploy(t: &Target, o: &Outcome) -> Result<(), GhError> {
    let Some(sha) = t.sha.as_deref().or(o.commit.as_deref()) else {
        return Ok(());
    };
    let env = o.environment();
    let existing = t.client.list_deployments(sha, &env).await?.into_iter().next();
    let deployment = if let Some(d) = existing {
        d
    } else {
        let new = NewDeployment {
            git_ref: sha,
            environment: &env,
            description: "workers-ci",
            auto_merge: false,
            required_contexts: [],
            transient_environment: !o.production,
            production_environment: o.production,
            payload: payload(t, o),
        };
        match t.client.create_deployment(&new).await {
            Ok(d) => d,
            Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => return Err(e),
            // The answer was lost: the create may have happened. Look before giving up.
            Err(e) => t.client.list_deployments(sha, &env).await.ok().and_then(|l| l.into_iter().next()).ok_or(e)?,
        }
    };
    let url = o.deployment_url.as_deref().or(o.preview_url.as_deref());
    let status = NewStatus {
        state: if o.ok { "success" } else { "failure" },
        environment_url: url.filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        log_url: t.run_url.as_deref(),
        description: if o.ok { "Deployed by workers-ci" } else { "Failed (workers-ci)" },
        auto_inactive: false,
    };
    t.client.create_status(deployment.id, &status).await?;
    Ok(())
}

/// One outcome per Worker whose build ended, from the `builds` output `build`/`wait` write
/// (one Worker or many); the log tail goes with a lone failed build.
pub(crate) fn from_builds(ctx: &Ctx) -> Vec<Outcome> {
    let report = ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let builds: Vec<serde_json::Value> =
        report.outputs.get(Output::Builds.name()).and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
    let commit = report.outputs.get(Output::Commit.name()).filter(|c| !c.is_empty()).map(str::to_owned);
    let lone = builds.len() == 1;
    builds
        .iter()
        .filter_map(|b| {
            let outcome = b["outcome"].as_str().filter(|o| !o.is_empty())?;
            let ok = matches!(outcome, "success" | "skipped");
            let headline = match outcome {
                "success" => "build succeeded".to_owned(),
                "skipped" => match b["worker"].as_str().and_then(|w| report.ended.get(w)?.skip_reason.as_deref()) {
                    Some(why) => format!("build skipped: {why}"),
                    None => "build skipped".to_owned(),
                },
                other => format!("build failed (outcome `{other}`)"),
            };
            let worker = b["worker"].as_str()?.to_owned();
            // A build that deployed to production is reported there, never as a preview.
            let production = ok && report.production.contains(&worker);
            Some(Outcome {
                worker,
                kind: Kind::Build,
                ok,
                headline,
                preview_url: b["preview_url"].as_str().map(str::to_owned),
                deployment_url: None,
                commit: commit.clone(),
                production,
                preview: None,
                log_tail: if lone && !ok { report.log_tail.clone() } else { Vec::new() },
            })
        })
        .collect()
}

/// After `build`/`wait`: reports what ended, keeps the Cloudflare result first. A run that was
/// stopped (cancelled, timed out) reports nothing: it has seconds left, not a result.
pub(crate) async fn after_builds(ctx: &Ctx, result: Result<()>) -> Result<()> {
    if ctx.github.is_none() || matches!(result, Err(Error::Stopped { .. })) {
        return result;
    }
    let outcomes = from_builds(ctx);
    // Boxed: the flows' futures are large enough already.
    let gh = Box::pin(publish(ctx, &outcomes)).await;
    combine(ctx, result, gh)
}

/// After `version`: the uploaded version (and its deployment), or the failure.
pub(crate) async fn after_version(ctx: &Ctx, worker: &str, deploy: Option<f64>, result: Result<()>) -> Result<()> {
    if ctx.github.is_none() || matches!(result, Err(Error::Stopped { .. } | Error::Input(_))) {
        return result;
    }
    let get = |k: Output| {
        let r = ctx.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        r.outputs.get(k.name()).filter(|v| !v.is_empty()).map(str::to_owned)
    };
    let headline = match (&result, deploy) {
        (Err(Error::RolledBack(_)), _) => "version uploaded; its staged rollout failed and was rolled back".to_owned(),
        (Err(_), _) => "version upload failed".to_owned(),
        (Ok(()), None) => "version uploaded".to_owned(),
        (Ok(()), Some(p)) if p >= 100.0 => "version uploaded and deployed".to_owned(),
        (Ok(()), Some(p)) => format!("version uploaded and deployed to {p} % of traffic"),
    };
    let deployed = result.is_ok() && deploy.is_some();
    let outcome = Outcome {
        worker: worker.to_owned(),
        kind: Kind::Version,
        ok: result.is_ok(),
        headline,
        preview_url: get(Output::VersionUrl),
        deployment_url: if deployed { get(Output::WorkersDevUrl) } else { None },
        commit: None,
        production: result.is_ok() && deploy.is_some_and(|p| p >= 100.0),
        preview: None,
        log_tail: Vec::new(),
    };
    let gh = Box::pin(publish(ctx, std::slice::from_ref(&outcome))).await;
    combine(ctx, result, gh)
}

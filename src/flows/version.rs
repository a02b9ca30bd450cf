//! `version`: upload an immutable Version of a Worker (creating the Worker if needed), and
//! optionally deploy it at 100 % or beside the version now live.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::bindings::{self, Bindings};
use crate::bundle::{self, ModuleFile};
use crate::cloudflare::deployments::{Deployment, DeploymentVersion};
use crate::cloudflare::workers::{ModuleSource, Version, VersionBodyError, VersionMeta, Worker, version_body};
use crate::cloudflare::{ApiError, Client, VersionId, WorkerId, WorkerName, WorkerRef};
use crate::exit::{Exit, Failure};
use crate::inputs::{InputError, Inputs};

use super::create::create_once;
use super::deploy::{self, message_input, parse_percentage, worker_name};
use super::{Area, Ctx, api_failure};

#[derive(Debug)]
pub struct VersionArgs {
    pub worker: WorkerName,
    pub dir: PathBuf,
    pub modules: Vec<ModuleFile>,
    pub main_module: String,
    pub compatibility_date: String,
    pub compatibility_flags: Vec<String>,
    pub bindings: Bindings,
    pub message: Option<String>,
    pub tag: Option<String>,
    pub create_worker: bool,
    /// Percentage for the new version; `None` = upload only.
    pub deploy: Option<f64>,
}

impl VersionArgs {
    pub fn from_inputs(i: &Inputs) -> Result<VersionArgs, InputError> {
        let worker = worker_name(i)?;
        let date =
            i.require("compatibility_date", "set it to the date your Worker was written against, e.g. 2026-11-01")?;
        if !valid_date(date) {
            return Err(InputError::new("compatibility_date", "must be a date written YYYY-MM-DD"));
        }
        let flags: Vec<String> = i
            .get("compatibility_flags")
            .unwrap_or("")
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = flags.iter().find(|f| !f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
            let _ = bad;
            return Err(InputError::new(
                "compatibility_flags",
                "has a flag that is not a word of letters, digits and `_`",
            ));
        }
        let bindings = bindings::parse(i.get("bindings"), i.get("vars"), i.get("secrets"))?;
        let tag = match i.get("tag") {
            Some(t) if t.len() > 100 => {
                return Err(InputError::new(
                    "tag",
                    "is longer than 100 bytes, the limit of the `workers/tag` annotation",
                ));
            }
            other => other.map(str::to_owned),
        };
        let deploy = match i.get("deploy") {
            None | Some("false" | "False" | "FALSE") => None,
            Some("true" | "True" | "TRUE") => Some(100.0),
            Some(p) => Some(parse_percentage(p).ok_or_else(|| {
                InputError::new("deploy", "must be `false`, `true` or a percentage above 0 and at most 100")
            })?),
        };
        let dir = i.path("dir").unwrap_or_else(|| PathBuf::from("dist"));
        let modules = bundle::scan(&dir)?;
        let main_module = bundle::main_module(&modules, i.get("main_module"))?;
        Ok(VersionArgs {
            worker,
            dir,
            modules,
            main_module,
            compatibility_date: date.to_owned(),
            compatibility_flags: flags,
            bindings,
            message: message_input(i)?,
            tag,
            create_worker: i.bool("create_worker", true)?,
            deploy,
        })
    }

    /// Values to mask before anything prints.
    pub fn secrets(&self) -> &[String] {
        &self.bindings.secret_values
    }
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && crate::rfc3339::parse_millis(&format!("{s}T00:00:00Z")).is_some()
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
}

pub async fn run(ctx: &Ctx, args: VersionArgs) -> anyhow::Result<Exit> {
    if !args.bindings.unchecked_kinds.is_empty() {
        ctx.console
            .info(&format!("Binding kinds passed through unchecked: {}", args.bindings.unchecked_kinds.join(", ")));
    }
    let worker = ensure_worker(ctx, &args).await?;
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
    ctx.console.info(&format!(
        "Uploading a version of {} ({} modules, {} bytes, main module {})",
        worker.name,
        args.modules.len(),
        total,
        args.main_module
    ));
    let version = upload(ctx, &worker, &args).await?;
    ctx.output("version_id", version.id.as_str());
    if let Some(n) = version.number {
        ctx.output("version_number", &n.to_string());
    }
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
        let bindings: Vec<String> =
            args.bindings.described().into_iter().map(|(n, t)| format!("`{n}` ({t})")).collect();
        s.row("Bindings", &if bindings.is_empty() { "none".to_owned() } else { bindings.join(", ") });
    });
    if let Some(p) = args.deploy {
        let mut split = vec![DeploymentVersion { version_id: version.id.clone(), percentage: p }];
        if let Some(old) = split_with {
            split.push(DeploymentVersion { version_id: old, percentage: 100.0 - p });
        }
        let d = deploy::deploy(ctx, &worker.name, &split, args.message.as_deref(), false, &known_deployments).await?;
        ctx.console.info(&format!("Deployment {} is live: {}", d.id, deploy::describe_split(&split)));
    }
    deploy::workers_dev_url(ctx, &worker).await;
    Ok(Exit::Success)
}

async fn ensure_worker(ctx: &Ctx, args: &VersionArgs) -> anyhow::Result<Worker> {
    let lookup = |e: ApiError| api_failure(&e, "look up the Worker", Area::Workers);
    if let Some(w) = ctx.client.get_worker(WorkerRef::Name(&args.worker)).await.map_err(lookup)? {
        return Ok(w);
    }
    if !args.create_worker {
        return Err(Failure::new(Exit::Api, "input `worker`: the Worker does not exist and `create_worker` is false; create it, or set create_worker: true").into());
    }
    ctx.console.info(&format!("Worker {} does not exist yet: creating it.", args.worker));
    match ctx.client.create_worker(&args.worker).await {
        Ok(w) => Ok(w),
        // Someone else (or our own lost first answer) created it meanwhile: use it.
        Err(e) if e.status() == Some(409) || e.has_code(10040) || e.may_have_applied() => {
            match ctx.client.get_worker(WorkerRef::Name(&args.worker)).await.map_err(lookup)? {
                Some(w) => Ok(w),
                None => Err(api_failure(&e, "create the Worker", Area::Workers)),
            }
        }
        Err(e) => Err(api_failure(&e, "create the Worker", Area::Workers)),
    }
}

/// The version serving 100 % now, to keep beside the new one.
fn live_version(deployments: &[Deployment]) -> anyhow::Result<VersionId> {
    let Some(live) = deployments.first() else {
        return Err(Failure::new(Exit::Api, "input `deploy`: a gradual rollout needs a version already at 100 %, but this Worker has no deployment yet; use `deploy: true` first").into());
    };
    match live.versions.as_slice() {
        [only] => Ok(only.version_id.clone()),
        many => Err(Failure::new(
            Exit::Api,
            format!(
                "input `deploy`: the live deployment already splits traffic ({}); finish that rollout with `command: deploy` first",
                deploy::describe_split(many)
            ),
        )
        .into()),
    }
}

/// Uploads the version, never twice: see [`create_once`]. The versions that exist before are
/// noted so that only a new one can be taken for ours.
async fn upload(ctx: &Ctx, worker: &Worker, args: &VersionArgs) -> anyhow::Result<Version> {
    let mut annotations = serde_json::Map::new();
    if let Some(m) = &args.message {
        annotations.insert("workers/message".into(), m.clone().into());
    }
    if let Some(t) = &args.tag {
        annotations.insert("workers/tag".into(), t.clone().into());
    }
    let meta = VersionMeta {
        main_module: &args.main_module,
        compatibility_date: &args.compatibility_date,
        compatibility_flags: &args.compatibility_flags,
        bindings: &args.bindings.list,
        annotations,
    };
    let sources: Vec<ModuleSource> = args
        .modules
        .iter()
        .map(|m| ModuleSource { name: &m.name, content_type: m.content_type, path: &m.path, size: m.size })
        .collect();
    let known: HashSet<VersionId> = ctx
        .client
        .list_versions(&worker.id, 10)
        .await
        .map_err(|e| api_failure(&e, "list the Worker's versions before uploading", Area::Workers))?
        .into_iter()
        .map(|v| v.id)
        .collect();
    let send = || async {
        // Encoded per attempt (rarely more than one) rather than kept twice in memory.
        let body = version_body(&meta, &sources).map_err(|e| ApiError::Transport {
            method: "POST".into(),
            endpoint: format!("(reading `dir` {}: {})", args.dir.display(), body_error_text(&e)),
            kind: crate::cloudflare::error::TransportKind::Connect,
            detail: "the modules could not be read".into(),
        })?;
        let result = ctx.client.create_version(&worker.id, body, false).await;
        if let Err(ApiError::Api { status: 400..=428 | 430..=499, errors, .. }) = &result {
            // Validation errors (10021) carry the script's own error text: shown, inert.
            let texts: Vec<&str> = errors.iter().filter_map(|e| e.message.as_deref()).collect();
            ctx.console.untrusted(texts.iter().flat_map(|t| t.lines()));
        }
        result
    };
    let find = || find_version(&ctx.client, &worker.id, args, &known);
    create_once(ctx, "upload the version", Area::Workers, send, find).await
}

/// The error and its cause on one line, as the flow reports it today.
fn body_error_text(e: &VersionBodyError) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// Ours: a version that did not exist before, with our annotations.
async fn find_version(
    client: &Client,
    worker: &WorkerId,
    args: &VersionArgs,
    known: &HashSet<VersionId>,
) -> Result<Option<Version>, ApiError> {
    let versions = client.list_versions(worker, 10).await?;
    Ok(versions.into_iter().find(|v| {
        !known.contains(&v.id)
            && v.annotation("workers/message") == args.message.as_deref()
            && v.annotation("workers/tag") == args.tag.as_deref()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(valid_date("2026-11-01"));
        for bad in ["2026-13-01", "2026-1-01", "20261101", "2026-11-01T00:00:00Z", "yesterday"] {
            assert!(!valid_date(bad), "{bad}");
        }
    }
}

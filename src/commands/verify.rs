//! `verify`: is production serving this commit? For each Worker (a list, or `*`), the active
//! deployment's versions and the builds behind them (docs/cloudflare-api.md §3.6, §5) give a
//! verdict, and `expect` decides the exit. It only reads, needs no GitHub, and runs after a
//! merge, on a schedule, or from any CI.
//!
//! Verdicts, best first (the order `expect` reads):
//! - `deployed`: versions built from the commit serve all the traffic;
//! - `split`: they serve part of it (a gradual rollout);
//! - `behind`: the version serving the most traffic was built from another commit of the
//!   branch, by a build created *before* a build of this commit on the same Worker: Workers
//!   Builds builds a branch's pushes in push order, so an earlier build is of an older commit
//!   (docs/api-assumptions.md row 80);
//! - `other`: anything else: a version Workers Builds did not build (uploaded directly), one
//!   built from another branch, or from a commit of the branch with no build of this commit
//!   after it (a newer push, or this commit was never built);
//! - `none`: the Worker has no deployment.

use serde_json::{Value, json};

use super::{Env, Facts, Output, Prepared};
use crate::cloudflare::builds::Build;
use crate::cloudflare::{ScriptTag, WorkerName};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::flows::builds::{WorkerFrom, Workers, commit_cell, pick, recent_builds, unknown_workers};
use crate::flows::live::{Active, actives};
use crate::flows::{Area, Ctx, api_failure, until_stopped};
use crate::inputs::args::{branch, commit, workers_or_tags};
use crate::inputs::{InputError, Inputs, Key, hint};

pub(crate) const FACTS: Facts = Facts {
    name: "verify",
    about: "say whether production serves a commit, per Worker (deployed/split/behind/other/none)",
    exits: &[
        Exit::Success,
        Exit::BadInput,
        Exit::Api,
        Exit::TimedOut,
        Exit::Internal,
        Exit::NotVerified,
        Exit::Interrupted,
    ],
    reports_to_github: false,
    outputs: &[Output::Branch, Output::Commit, Output::Verdict, Output::Workers],
};

pub(super) fn prepare(i: &Inputs, _env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = VerifyArgs::from_inputs(i)?;
    Ok(Prepared::new(Vec::new(), move |ctx| Box::pin(run(ctx, args))))
}

/// How production stands with the commit, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    Deployed,
    Split,
    Behind,
    Other,
    None,
}

impl Verdict {
    const ALL: [Verdict; 5] = [Verdict::Deployed, Verdict::Split, Verdict::Behind, Verdict::Other, Verdict::None];

    fn name(self) -> &'static str {
        match self {
            Verdict::Deployed => "deployed",
            Verdict::Split => "split",
            Verdict::Behind => "behind",
            Verdict::Other => "other",
            Verdict::None => "none",
        }
    }

    fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.name() == s)
    }
}

#[derive(Debug)]
pub(crate) struct VerifyArgs {
    workers: Workers,
    commit: String,
    branch: Option<String>,
    /// The verdicts that pass.
    expect: Vec<Verdict>,
}

impl VerifyArgs {
    fn from_inputs(i: &Inputs) -> Result<VerifyArgs, InputError> {
        let workers = workers_or_tags(i)?;
        let commit = commit(i)?.ok_or_else(|| {
            InputError::new(
                Key::Commit,
                "is required for `verify`: the commit production should serve (on GitHub it defaults to the event's commit)",
            )
        })?;
        Ok(VerifyArgs { workers, commit, branch: branch(i)?, expect: expect(i.get(Key::Expect))? })
    }
}

/// `expect`: one verdict passes it and every better one; a list (comma- or newline-separated)
/// passes exactly those.
fn expect(raw: Option<&str>) -> Result<Vec<Verdict>, InputError> {
    let bad = || {
        InputError::new(
            Key::Expect,
            "must be one verdict (`deployed`, `split`, `behind`, `other` or `none`: it and every better one pass) \
             or a comma-separated set of them (exactly those pass)",
        )
    };
    let Some(raw) = raw else { return Ok(vec![Verdict::Deployed]) };
    let items: Vec<&str> = raw.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    let parsed: Vec<Verdict> =
        items.iter().map(|s| Verdict::parse(&s.to_ascii_lowercase())).collect::<Option<_>>().ok_or_else(bad)?;
    match parsed.as_slice() {
        [] => Err(bad()),
        [one] => Ok(Verdict::ALL.into_iter().filter(|v| v <= one).collect()),
        many => {
            let mut set = many.to_vec();
            set.sort();
            set.dedup();
            Ok(set)
        }
    }
}

/// One Worker's verdict and what it rests on.
struct Judged {
    worker: String,
    verdict: Verdict,
    deployment_id: Option<String>,
    /// The commit's version (`deployed`, `split`), else the one serving the most traffic.
    version: Option<(String, f64)>,
    /// The build behind that version.
    build: Option<Build>,
    detail: String,
}

impl Judged {
    fn json(&self) -> Value {
        let b = self.build.as_ref();
        json!({
            "worker": self.worker,
            "verdict": self.verdict.name(),
            "deployment_id": self.deployment_id,
            "version_id": self.version.as_ref().map(|(v, _)| v),
            "traffic_percent": self.version.as_ref().map_or(0.0, |(_, p)| *p),
            "build_uuid": b.map(|b| b.build_uuid.as_str()),
            "commit": b.and_then(Build::commit),
            "branch": b.and_then(Build::branch),
            "detail": self.detail,
        })
    }

    fn row(&self) -> Vec<String> {
        let b = self.build.as_ref();
        vec![
            self.worker.clone(),
            self.verdict.name().to_owned(),
            self.version.as_ref().map(|(v, _)| short(v).to_owned()).unwrap_or_default(),
            self.version.as_ref().map(|(_, p)| format!("{p} %")).unwrap_or_default(),
            match (b.and_then(Build::commit), b.and_then(Build::branch)) {
                (Some(c), Some(br)) => format!("{} on {br}", short(c)),
                (Some(c), None) => short(c).to_owned(),
                _ => String::new(),
            },
            self.detail.clone(),
        ]
    }
}

/// The first 8 characters of an id or a commit.
fn short(s: &str) -> &str {
    s.get(..8).unwrap_or(s)
}

async fn run(ctx: &Ctx, args: VerifyArgs) -> Result<()> {
    until_stopped(ctx, "stopped before every Worker was checked (verify only reads)", verify(ctx, &args)).await
}

async fn verify(ctx: &Ctx, args: &VerifyArgs) -> Result<()> {
    ctx.output(Output::Commit, &args.commit);
    if let Some(b) = &args.branch {
        ctx.output(Output::Branch, b);
    }
    let names = workers(ctx, &args.workers).await?;
    ctx.console.info(&format!(
        "Checking whether production serves commit {} on {}",
        args.commit,
        crate::ci::plural(names.len(), "Worker", "Workers")
    ));
    let scripts: Vec<WorkerName> = names.iter().map(|(_, n)| n.clone()).collect();
    let mut judged = Vec::new();
    for ((shown, _), active) in names.iter().zip(actives(ctx, &scripts).await) {
        judged.push(judge(ctx, shown, active?.as_ref(), args).await?);
    }
    let rows: Vec<Value> = judged.iter().map(Judged::json).collect();
    ctx.output(Output::Workers, &Value::Array(rows).to_string());
    let worst = judged.iter().map(|j| j.verdict).max();
    ctx.output(Output::Verdict, worst.map_or("", Verdict::name));
    ctx.summary(|s| {
        s.row("Commit", &commit_cell(&args.commit));
        s.table(
            "Production",
            &["Worker", "Verdict", "Version", "Traffic", "Built from", "Detail"],
            &judged.iter().map(Judged::row).collect::<Vec<_>>(),
        );
    });
    let mut failing = Vec::new();
    for j in &judged {
        ctx.console.info(&format!("[{}] {}: {}", j.worker, j.verdict.name(), j.detail));
        if !args.expect.contains(&j.verdict) {
            failing.push(format!("\n  - {}: {} ({})", j.worker, j.verdict.name(), j.detail));
        }
    }
    if judged.is_empty() {
        ctx.console.notice("the account has no Workers: nothing to verify");
    }
    if failing.is_empty() {
        return Ok(());
    }
    Err(Error::NotVerified(format!(
        "production does not serve commit {} as {} expects ({}) on {} of {}:{}",
        args.commit,
        hint::input(Key::Expect),
        args.expect.iter().map(|v| v.name()).collect::<Vec<_>>().join(", "),
        failing.len(),
        crate::ci::plural(judged.len(), "Worker", "Workers"),
        failing.concat()
    )))
}

/// The Workers to check, as named and by the name the deployments path takes: the account's
/// Workers are listed once (not paged: docs/cloudflare-api.md §2), for `*`, for a Worker named
/// by its tag, and to refuse a name that is no Worker's rather than call it `none`.
async fn workers(ctx: &Ctx, workers: &Workers) -> Result<Vec<(String, WorkerName)>> {
    let scripts =
        ctx.client.list_scripts().await.map_err(|e| api_failure(e, "list the account's Workers", Area::Builds))?;
    let named = match workers {
        Workers::All => return Ok(scripts.into_iter().map(|s| (s.id.to_string(), s.id)).collect()),
        Workers::Named(n) => n,
    };
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for n in named {
        let found = if ScriptTag::parse(n).is_ok() {
            scripts.iter().find(|s| s.tag.as_ref().is_some_and(|t| t.as_str() == n))
        } else {
            scripts.iter().find(|s| s.id.as_str() == n)
        };
        match found {
            Some(s) => out.push((n.clone(), s.id.clone())),
            None => missing.push(n.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(unknown_workers(
            &missing,
            named.len() > 1,
            scripts.iter().map(|s| s.id.as_str()),
            WorkerFrom::Input,
            None,
        ));
    }
    Ok(out)
}

/// One Worker's verdict from its active deployment; the Worker's builds are listed only to tell
/// `behind` from `other` (since the serving build was created, at most a page or two).
async fn judge(ctx: &Ctx, worker: &str, active: Option<&Active>, args: &VerifyArgs) -> Result<Judged> {
    let mut j = Judged {
        worker: worker.to_owned(),
        verdict: Verdict::None,
        deployment_id: None,
        version: None,
        build: None,
        detail: "the Worker has no deployment".into(),
    };
    let Some(active) = active else { return Ok(j) };
    j.deployment_id = Some(active.deployment_id.clone());
    let ours: Vec<_> = active
        .versions
        .iter()
        .filter(|v| v.build.as_ref().is_some_and(|b| pick(std::slice::from_ref(b), &args.commit).is_some()))
        .collect();
    let share: f64 = ours.iter().map(|v| v.percentage).sum();
    if let Some(first) = ours.first() {
        j.version = Some((first.version_id.as_str().to_owned(), share));
        j.build.clone_from(&first.build);
        j.verdict = if share >= 100.0 { Verdict::Deployed } else { Verdict::Split };
        j.detail = format!(
            "version {} of this commit serves {share} % of traffic (deployment {})",
            first.version_id, active.deployment_id
        );
        return Ok(j);
    }
    let Some(serving) = active.versions.iter().max_by(|a, b| a.percentage.total_cmp(&b.percentage)) else {
        j.detail = format!("the active deployment {} names no version", active.deployment_id);
        j.verdict = Verdict::Other;
        return Ok(j);
    };
    j.version = Some((serving.version_id.as_str().to_owned(), serving.percentage));
    j.build.clone_from(&serving.build);
    j.verdict = Verdict::Other;
    let Some(b) = &serving.build else {
        j.detail = format!("version {} was not built by Workers Builds (uploaded directly)", serving.version_id);
        return Ok(j);
    };
    let (their_commit, their_branch) = (b.commit().unwrap_or("(unknown)"), b.branch().unwrap_or("(unknown)"));
    if args.branch.as_deref().is_some_and(|br| Some(br) != b.branch()) {
        j.detail =
            format!("version {} was built from branch {their_branch} (commit {their_commit})", serving.version_id);
        return Ok(j);
    }
    // A build of this commit after the serving one, on the same branch, makes it `behind`.
    let newer = match (b.created_at(), b.trigger.as_ref().and_then(|t| t.external_script_id.as_ref())) {
        (Some(since), Some(tag)) => {
            let builds = recent_builds(&ctx.client, tag, since)
                .await
                .map_err(|e| api_failure(e, &format!("list the builds of Worker {worker}"), Area::Builds))?;
            pick(&builds, &args.commit)
                .filter(|o| o.created_at() > Some(since) && o.branch() == b.branch() && o.build_uuid != b.build_uuid)
        }
        _ => None,
    };
    match newer {
        Some(o) => {
            j.verdict = Verdict::Behind;
            j.detail = format!(
                "version {} was built from the older commit {their_commit} of {their_branch}; this commit's build is {} ({})",
                serving.version_id,
                o.build_uuid,
                o.build_outcome.as_deref().or(o.status.as_deref()).unwrap_or("unknown")
            );
        }
        None => {
            j.detail = format!(
                "version {} was built from commit {their_commit} of {their_branch}, and no build of this commit came after it",
                serving.version_id
            );
        }
    }
    Ok(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_is_a_threshold_or_a_set() {
        use Verdict::{Behind, Deployed, Other, Split};
        assert_eq!(expect(None).unwrap(), vec![Deployed]);
        assert_eq!(expect(Some("behind")).unwrap(), vec![Deployed, Split, Behind]);
        assert_eq!(expect(Some("deployed, other")).unwrap(), vec![Deployed, Other]);
        assert_eq!(expect(Some("None")).unwrap(), Verdict::ALL.to_vec());
        assert!(expect(Some("live")).is_err());
        assert!(expect(Some(" , ")).is_err());
    }
}

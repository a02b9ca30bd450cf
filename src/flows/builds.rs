//! Starting and following Workers Builds builds: what `build`, `wait` and `redeploy` share
//! (the Worker's tag, the trigger for a branch, a start that never runs twice, the builds of a
//! commit).

use std::collections::HashSet;
use std::time::Duration;

use crate::cloudflare::builds::Build;
use crate::cloudflare::builds::Trigger;
use crate::cloudflare::{ApiError, BuildUuid, Client, ScriptTag, TriggerUuid};
use crate::commands::{Command, Output};
use crate::error::{Error, Result};
use crate::inputs::{Key, hint, rules};

use super::create::{create_once, retry_delete};
use super::follow::{self, FollowOpts, Tracker};
use super::logs::Tail;
use super::trigger::{self, Choice};
use super::{Area, Ctx, api_failure, guarded};

/// A validated request to start builds (`build`, and `redeploy` for one Worker).
#[derive(Debug)]
pub(crate) struct BuildArgs {
    /// The first of `workers`: the one Worker of the single-build path.
    pub worker: String,
    pub workers: Vec<String>,
    /// `None`: start every build at once.
    pub max_parallel: Option<usize>,
    pub branch: String,
    pub commit: Option<String>,
    pub trigger: Option<String>,
    pub logs: bool,
    pub cancel_on_abort: bool,
    pub wait: bool,
    /// Whether to read, after a successful build, if it went live (one Worker).
    pub live: super::live::Live,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IfNoBuild {
    Fail,
    Pass,
}

/// The Workers `wait` follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Workers {
    /// `*`: every Worker of the account whose build of the commit appears.
    All,
    /// Names or 32-hex tags: at least one, each once.
    Named(Vec<String>),
}

impl Workers {
    /// The one Worker of a single-Worker step (followed without the many-Worker loop).
    pub(crate) fn one(&self) -> Option<&str> {
        match self {
            Workers::Named(n) if n.len() == 1 => Some(&n[0]),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct WaitArgs {
    pub workers: Workers,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub build_uuid: Option<BuildUuid>,
    pub logs: bool,
    pub cancel_on_abort: bool,
    pub if_no_build: IfNoBuild,
    pub appear_timeout: Duration,
    pub live: super::live::Live,
}

/// Starts one Worker's build and follows it (unless `wait` is off); writes its outputs,
/// `builds` included, whatever happens.
pub(crate) async fn one(ctx: &Ctx, args: &BuildArgs) -> Result<()> {
    one_resolved(ctx, args, None).await
}

/// What `build` reads before it starts one: the Worker's tag and name, its triggers, and the
/// builds that exist already. `redeploy` has read them itself.
pub(crate) struct Resolved {
    pub tag: ScriptTag,
    pub name: String,
    pub triggers: Vec<Trigger>,
    pub known: KnownBuilds,
}

/// [`one`], with what it would read first already read.
pub(crate) async fn one_resolved(ctx: &Ctx, args: &BuildArgs, resolved: Option<Resolved>) -> Result<()> {
    let result = single(ctx, args, resolved).await;
    super::one_build_output(ctx, &args.worker);
    result
}

async fn single(ctx: &Ctx, args: &BuildArgs, resolved: Option<Resolved>) -> Result<()> {
    let tracker = Tracker::default();
    let work = async {
        let Resolved { tag, name, triggers, known } = if let Some(r) = resolved {
            r
        } else {
            let (tag, name) = resolve_tag(ctx, &args.worker, WorkerFrom::Input).await?;
            // The trigger to start and the builds that exist before it (to tell ours from them
            // should the start's answer be lost) depend only on the tag: read together.
            let (triggers, known) = tokio::join!(ctx.client.list_triggers(&tag), known_builds(ctx, &tag));
            let triggers = triggers.map_err(|e| triggers_failure(e, &args.worker))?;
            Resolved { tag, name, triggers, known: known? }
        };
        ctx.output(Output::WorkerTag, tag.as_str());
        ctx.output(Output::Branch, &args.branch);
        if let Some(c) = &args.commit {
            ctx.output(Output::Commit, c);
        }
        let trigger = pick_trigger(&triggers, args.trigger.as_deref(), &args.branch)?;
        ctx.output(Output::TriggerUuid, trigger.trigger_uuid.as_str());
        ctx.summary(|s| {
            s.row("Worker", &name);
            s.row("Branch", &args.branch);
            s.row("Commit", &args.commit.as_deref().map_or_else(|| "(branch head)".to_owned(), commit_cell));
            s.row("Trigger", &format!("{} ({})", trigger.name(), trigger.trigger_uuid));
        });
        ctx.console.info(&format!(
            "Starting a build of Worker {name} for branch {} with trigger {}",
            args.branch,
            trigger.name()
        ));
        let uuid = start(ctx, &tracker, &tag, &trigger.trigger_uuid, args, known).await?;
        ctx.output(Output::BuildUuid, uuid.as_str());
        ctx.summary(|s| s.row("Build", uuid.as_str()));
        if !args.wait {
            ctx.output(Output::BuildStatus, "queued");
            ctx.output(Output::BuildOutcome, "");
            ctx.summary(|s| s.row("Status", &format!("started, not followed ({})", hint::set(Key::Wait, "false"))));
            ctx.console.info(&format!(
                "Build {uuid} started; not waiting for it ({}). Follow it later with {} and {}.",
                hint::set(Key::Wait, "false"),
                hint::command(Command::Wait),
                hint::set(Key::BuildUuid, uuid.as_str())
            ));
            return Ok(());
        }
        let mut tail = Tail::default();
        let build =
            follow::follow(ctx, &tracker, &uuid, &FollowOpts { logs: args.logs, seen: None }, &mut tail).await?;
        follow::conclude(ctx, &build, &name, &tail)?;
        super::live::after(ctx, &build, &name, args.live).await
    };
    match guarded(ctx, || tracker.creating(), work).await {
        Ok(r) => r,
        Err(stop) => {
            if tracker.creating() {
                reconcile_on_stop(ctx, &tracker, args).await;
            }
            follow::stopped(ctx, &tracker, stop, args.cancel_on_abort).await
        }
    }
}

/// Stopped while the start request was still unanswered: one bounded listing for the build it
/// may have made, so the cleanup can cancel it. When that cannot tell, a warning names what to
/// check by hand: a build nobody follows would otherwise run, and perhaps deploy, unseen.
pub(super) async fn reconcile_on_stop(ctx: &Ctx, tracker: &Tracker, args: &BuildArgs) {
    let found = match tracker.pending() {
        Some(p) => {
            let look = find_created(&ctx.client, &p.tag, &p.trigger, args, &p.known, p.window);
            match tokio::time::timeout(super::RECONCILE_ON_STOP, look).await {
                Ok(Ok(Some(b))) => Some(b.build_uuid),
                _ => None,
            }
        }
        None => None,
    };
    match found {
        Some(uuid) => {
            ctx.console.info(&format!("The start request was still in flight; it created build {uuid}."));
            ctx.output(Output::BuildUuid, uuid.as_str());
            tracker.set_build(&uuid);
        }
        None if tracker.build_uuid().is_none() => ctx.console.warning(&format!(
            "stopped while the request to start a build was in flight, and could not tell whether it started one: \
             check the builds of Worker {} for branch {} ({}) in the Cloudflare dashboard and cancel it if it runs",
            args.worker,
            args.branch,
            args.commit.as_deref().map_or_else(|| "branch head".to_owned(), |c| format!("commit {c}"))
        )),
        None => {}
    }
}

/// A commit for the summary, linked on GitHub when it is this run's.
pub(crate) fn commit_cell(sha: &str) -> String {
    crate::ci::runner::commit_markdown(sha, &|k| std::env::var(k).ok())
}

/// Where a Worker's name was given: the message that says it names no Worker points there.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WorkerFrom<'a> {
    /// The `worker` input (`--worker`, `INPUT_WORKER`).
    Input,
    /// The `worker` key of a `builds_config` file, at this line.
    File(&'a std::path::Path, usize),
    /// The `name` of a wrangler configuration (`version`, `preview`), where it was written.
    Wrangler(&'a crate::inputs::upload::Written),
}

/// A name becomes the tag Workers Builds keys everything by; a 32-hex value is taken as a tag.
pub(crate) async fn resolve_tag(ctx: &Ctx, worker: &str, from: WorkerFrom<'_>) -> Result<(ScriptTag, String)> {
    if let Ok(tag) = ScriptTag::parse(worker) {
        return Ok((tag, worker.to_owned()));
    }
    let scripts = ctx
        .client
        .list_scripts()
        .await
        .map_err(|e| api_failure(e, "list the account's Workers to find the Worker's tag", Area::Builds))?;
    if let Some(s) = scripts.iter().find(|s| s.id == worker) {
        match s.tag.as_ref().filter(|t| !t.is_empty()) {
            Some(tag) => Ok((tag.clone(), worker.to_owned())),
            None => Err(Error::NotFound(
                "the Workers list has no `tag` for this Worker; pass the 32-hex tag as `worker` instead".into(),
            )),
        }
    } else {
        Err(unknown_workers(&[worker], false, scripts.iter().map(|s| s.id.as_str()), from, None))
    }
}

/// Names that match no Worker of the account, as one error that suggests the closest name for
/// each (a typo must not read as "create it"), lists the account's Workers, and says what to
/// check where the names came from. The names are repeated only when `among_others`: a reader
/// who gave one name knows which it was.
/// `also` is one more way out, after the checks (`set --create-worker true to create it`).
pub(crate) fn unknown_workers<'a>(
    missing: &[&str],
    among_others: bool,
    known: impl Iterator<Item = &'a str>,
    from: WorkerFrom<'_>,
    also: Option<&str>,
) -> Error {
    let mut names: Vec<&str> = known.collect();
    names.sort_unstable();
    let suggest = |n: &str| match rules::closest(n, names.iter().copied()) {
        Some(c) => format!(" (did you mean `{c}`?)"),
        None => String::new(),
    };
    let what = match missing {
        [one] if !among_others => format!("no Worker with that name exists in this account{}", suggest(one)),
        many => format!(
            "no Worker of {} exists in this account: {}",
            if many.len() == 1 { "this name" } else { "these names" },
            many.iter().map(|n| format!("`{n}`{}", suggest(n))).collect::<Vec<_>>().join(", ")
        ),
    };
    let listed = match names.len() {
        0 => "The account has no Workers".to_owned(),
        n if n <= 20 => format!("Its Workers: {}", names.join(", ")),
        n => format!("Its Workers ({n}): {}, …", names[..20].join(", ")),
    };
    let (at, fix) = match from {
        WorkerFrom::Input => (
            "input `worker`".to_owned(),
            format!("check {} and {}", hint::input(Key::Worker), hint::input(Key::AccountId)),
        ),
        WorkerFrom::File(file, line) => (
            format!("{}:{line}: key `worker`", file.display()),
            format!("fix `worker` in {}, or check {}", file.display(), hint::input(Key::AccountId)),
        ),
        WorkerFrom::Wrangler(w) => (
            format!("{}:{}: {}", w.file, w.line, w.key),
            format!(
                "fix `{}` in {} (or set {}), or check {}",
                w.key,
                w.file,
                hint::input(Key::Worker),
                hint::input(Key::AccountId)
            ),
        ),
    };
    let fix = match also {
        Some(also) => format!("{fix}; or {also}"),
        None => fix,
    };
    Error::NotFound(format!("{at}: {what}. {listed}. Otherwise {fix}."))
}

pub(crate) fn triggers_failure(e: ApiError, worker: &str) -> Error {
    if e.is_not_found() && ScriptTag::is_valid(worker) {
        return Error::NotFound(format!(
            "Workers Builds knows no Worker with the tag given in `worker` ({e}). Builds identifies Workers by tag, \
                 not by name or any other id: pass the Worker's name and workers-ci looks the tag up, or copy the tag \
                 from `GET /accounts/<account>/workers/scripts`."
        ));
    }
    if e.is_not_found() {
        return Error::Refused(format!(
            "Workers Builds has no configuration for this Worker ({e}): connect its repository under the Worker's Settings → Builds first"
        ));
    }
    api_failure(e, "list the Worker's build triggers", Area::Builds)
}

pub(crate) fn pick_trigger<'a>(
    triggers: &'a [crate::cloudflare::builds::Trigger],
    wanted: Option<&str>,
    branch: &str,
) -> Result<&'a crate::cloudflare::builds::Trigger> {
    if let Some(w) = wanted {
        return match trigger::find(triggers, w) {
            trigger::Found::One(t) => Ok(t),
            trigger::Found::None => Err(Error::NotFound(format!(
                "input `trigger`: no trigger of this Worker has that uuid or name. Its triggers:\n{}",
                trigger::describe(triggers)
            ))),
            trigger::Found::Duplicates(same) => Err(Error::Refused(format!(
                "input `trigger`: {} triggers of this Worker have that name, and which one is meant cannot be told:\n{}\n{}",
                same.len(),
                trigger::describe(&same.into_iter().cloned().collect::<Vec<_>>()),
                fix_duplicates()
            ))),
        };
    }
    match trigger::choose(triggers, branch) {
        Choice::One(t) => Ok(t),
        Choice::None => Err(Error::NotFound(format!(
            "no trigger of this Worker builds branch `{branch}`. Set {} to one of them, or change its branch filters:\n{}",
            hint::input(Key::Trigger),
            trigger::describe(triggers)
        ))),
        Choice::Ambiguous(ts) => {
            let named: Vec<String> = trigger::duplicates(&ts)
                .iter()
                .map(|g| format!("{} triggers are named `{}`", g.len(), g[0].name()))
                .collect();
            let fix = if named.is_empty() {
                format!(
                    "Set {} to the name or uuid of the one to use, or change their branch filters so that one of them \
                     names `{branch}` and the others exclude it.",
                    hint::input(Key::Trigger)
                )
            } else {
                format!("{}. {}", named.join("; "), fix_duplicates())
            };
            Err(Error::Refused(format!(
                "several triggers build branch `{branch}`, and which one is meant cannot be told:\n{}\n{fix}",
                trigger::describe(&ts.into_iter().cloned().collect::<Vec<_>>())
            )))
        }
    }
}

/// What to do about two triggers of one name (what two `setup` runs at once can leave).
fn fix_duplicates() -> String {
    format!(
        "Two triggers of one name are duplicates, as two `setup` runs at once can leave: delete the newer with {} \
         and {} (it keeps the oldest, and deletes what else its file does not name), or under the Worker's Settings → Builds; until then set {} to the uuid \
         of the one to use.",
        hint::command(Command::Setup),
        hint::set(Key::Prune, "true"),
        hint::input(Key::Trigger)
    )
}

/// Starts the build, never twice: see [`create_once`]. The builds that exist before the POST
/// are noted, so a build of the same commit started earlier (a re-run) is never taken for ours.
/// The Worker's builds before this run starts one, and since when they were listed.
pub(crate) struct KnownBuilds {
    ids: HashSet<BuildUuid>,
    window: jiff::Timestamp,
}

/// Lists the builds that exist now, so that only a new one can be taken for ours.
pub(crate) async fn known_builds(ctx: &Ctx, tag: &ScriptTag) -> Result<KnownBuilds> {
    let window = super::ago(super::RECONCILE_LOOKBACK);
    let ids = recent_builds(&ctx.client, tag, window)
        .await
        .map_err(|e| api_failure(e, "list the Worker's builds before starting one", Area::Builds))?
        .into_iter()
        .map(|b| b.build_uuid)
        .collect();
    Ok(KnownBuilds { ids, window })
}

/// Starts the build, never twice: `known` was listed before, see [`known_builds`].
pub(super) async fn start(
    ctx: &Ctx,
    tracker: &Tracker,
    tag: &ScriptTag,
    trigger_uuid: &TriggerUuid,
    args: &BuildArgs,
    known: KnownBuilds,
) -> Result<BuildUuid> {
    tracker.set_creating(true);
    let result = async {
        let KnownBuilds { ids: known, window } = known;
        tracker.set_pending(follow::PendingBuild {
            tag: tag.clone(),
            trigger: trigger_uuid.clone(),
            known: known.clone(),
            window,
        });
        let send = || async {
            match ctx.client.create_build(trigger_uuid, Some(&args.branch), args.commit.as_deref()).await {
                Ok(c) if !c.build_uuid.is_empty() => Ok(c.build_uuid),
                Ok(_) => Err(ApiError::Malformed {
                    method: "POST".into(),
                    endpoint: format!("/builds/triggers/{trigger_uuid}/builds"),
                    status: 200,
                    detail: "no build_uuid in the answer".into(),
                }),
                Err(e) => Err(e),
            }
        };
        let find = || async {
            Ok(find_created(&ctx.client, tag, trigger_uuid, args, &known, window).await?.map(|b| b.build_uuid))
        };
        create_once(ctx, "start the build", Area::Builds, send, find).await
    }
    .await;
    if let Ok(uuid) = &result {
        tracker.set_build(uuid);
    }
    tracker.set_creating(false);
    result
}

/// A build of ours among the Worker's builds: new since we started, same trigger, same commit
/// (or branch when no commit was pinned), not started by a push.
async fn find_created(
    client: &Client,
    tag: &ScriptTag,
    trigger_uuid: &TriggerUuid,
    args: &BuildArgs,
    known: &HashSet<BuildUuid>,
    window: jiff::Timestamp,
) -> Result<Option<Build>, ApiError> {
    let builds = recent_builds(client, tag, window).await?;
    let mut ours: Vec<Build> = builds
        .into_iter()
        .filter(|b| !known.contains(&b.build_uuid))
        .filter(|b| b.trigger_uuid().is_none_or(|t| t == trigger_uuid))
        .filter(|b| match &args.commit {
            Some(c) => b.commit().is_some_and(|bc| bc.eq_ignore_ascii_case(c)),
            None => b.branch() == Some(args.branch.as_str()),
        })
        .filter(|b| !matches!(b.source(), Some("push" | "pull_request")))
        .collect();
    ours.sort_by_key(|b| std::cmp::Reverse(b.created_at()));
    Ok(ours.into_iter().next())
}

/// The Worker's builds created since `start`, newest first, over as many pages as that takes.
pub(crate) async fn recent_builds(
    client: &Client,
    tag: &ScriptTag,
    start: jiff::Timestamp,
) -> Result<Vec<Build>, ApiError> {
    let fetch = |p| client.list_builds(tag, p, super::pages::PER_PAGE);
    super::pages::since(fetch, start, Build::created_at).await
}

/// Matches exactly this commit (a short hash matches as a prefix), never "the latest build":
/// two pushes in quick succession each get their own build, and attaching to the neighbour's
/// would gate the merge on the wrong code. Among re-runs of the commit, the newest wins.
pub(crate) fn pick(builds: &[Build], commit: &str) -> Option<Build> {
    let commit = commit.to_ascii_lowercase();
    builds
        .iter()
        .filter(|b| {
            b.commit().is_some_and(|c| {
                let c = c.to_ascii_lowercase();
                c == commit
                    || (commit.len() < 40 && c.starts_with(&commit))
                    || (c.len() < 40 && c.len() >= 7 && commit.starts_with(&c))
            })
        })
        .max_by_key(|b| b.created_at())
        .cloned()
}

pub(crate) async fn delete_var(ctx: &Ctx, trigger: &TriggerUuid, key: &str, name: &str) -> Result<()> {
    let what = format!("delete build variable {key} of trigger `{name}`");
    retry_delete(
        ctx,
        &what,
        || ctx.client.delete_env_var(trigger, key),
        || async { Ok(ctx.client.env_vars(trigger).await?.contains_key(key)) },
    )
    .await
}

/// The trigger an input names (uuid or name), or the one that builds `branch`.
pub(crate) async fn named_trigger(
    ctx: &Ctx,
    worker: &str,
    wanted: Option<&str>,
    branch: Option<&str>,
) -> Result<(ScriptTag, Trigger)> {
    let (tag, worker) = resolve_tag(ctx, worker, WorkerFrom::Input).await?;
    let triggers = ctx.client.list_triggers(&tag).await.map_err(|e| triggers_failure(e, &worker))?;
    let t = pick_trigger(&triggers, wanted, branch.unwrap_or_default())?;
    Ok((tag, t.clone()))
}

//! `setup`: converge one Worker's Workers Builds configuration (repository connection,
//! triggers, build variables) to the `builds_config` file.
//!
//! Read everything first, decide a plan, show it, then write in an order where each write has
//! what it needs: the connection (a trigger create names it), the triggers, their variables.
//! Nothing outside the file is touched unless `prune`. Secret values cannot be read back, so a
//! secret whose value is in the environment is written every run and one whose value is not
//! is left alone: a rerun without secret values makes no write at all.

use std::collections::{BTreeMap, BTreeSet};

use super::{Env, Facts, Output, Prepared};
use crate::cloudflare::builds::Trigger;
use crate::cloudflare::builds_config::{
    ConnectionRequest, CreateTrigger, EnvVar, EnvVarValue, RepoConnection, UpdateTrigger,
};
use crate::cloudflare::{BuildTokenUuid, RepoConnectionUuid, ScriptTag, TriggerUuid};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::flows::builds::{WorkerFrom, delete_var, resolve_tag, triggers_failure};
use crate::flows::changes::{self, Action, Change};
use crate::flows::create::{create_once, retry_delete};
use crate::flows::trigger;
use crate::flows::{self, Area, Ctx, api_failure};
use std::path::PathBuf;

use crate::inputs::builds_config::{self, BuildsConfig, ConnectionSpec, TriggerSpec};
use crate::inputs::{InputError, Inputs, Key, hint};

/// What a trigger of the file meets in Cloudflare.
struct TriggerPlan<'a> {
    spec: &'a TriggerSpec,
    index: usize,
    existing: Option<Trigger>,
    update: UpdateTrigger,
    /// The PATCH body for its variables (plain values and secrets at hand).
    vars: BTreeMap<String, EnvVarValue>,
    /// Variables to delete (`prune`).
    unset: Vec<String>,
    /// The live trigger is on another repository connection than the file's: deleted and
    /// created again, since `UpdateTriggerRequest` has no connection field (docs/cloudflare-api.md
    /// Correction 16), with every variable in `vars`.
    recreate: bool,
    /// Why the recreate would lose something (a secret whose value is not at hand): refused
    /// before any write.
    blocked: Option<InputError>,
}

pub(crate) const FACTS: Facts = Facts {
    name: "setup",
    about: "make a Worker's Builds connection, triggers and build variables match `builds_config`",
    exits: &[Exit::Success, Exit::BadInput, Exit::Api, Exit::TimedOut, Exit::Drift, Exit::Internal, Exit::Interrupted],
    reports_to_github: false,
    outputs: &[Output::TriggerUuids, Output::Changes, Output::Plan],
};

pub(super) fn prepare(i: &Inputs, env: &Env<'_>) -> Result<Prepared, InputError> {
    let args = SetupArgs::from_inputs(i, env)?;
    let secrets = args.secrets().map(str::to_owned).collect();
    Ok(Prepared::new(secrets, move |ctx| {
        Box::pin(flows::interruptible(
            ctx,
            "the Worker's Workers Builds triggers, their build variables and the repository connection",
            run(ctx, args),
        ))
    }))
}

/// `setup`: the file, read and checked, with the connection and secret values filled in from
/// the environment.
#[derive(Debug)]
pub(crate) struct SetupArgs {
    pub config: BuildsConfig,
    /// The connection to upsert: from `[connection]`, its gaps filled from the runner's
    /// `GITHUB_REPOSITORY*`; `None` when the file has no `[connection]` and the runner does
    /// not say (the existing triggers' connection is then kept).
    pub connection: Option<ConnectionRequest>,
    /// Secret values by (trigger index, name), for the secrets whose variable is set.
    pub secret_values: BTreeMap<(usize, String), String>,
    pub dry_run: bool,
    pub check: bool,
    pub prune: bool,
}

impl SetupArgs {
    fn from_inputs(i: &Inputs, env: &dyn Fn(&str) -> Option<String>) -> Result<SetupArgs, InputError> {
        let path = i.path(Key::BuildsConfig).unwrap_or_else(|| PathBuf::from("workers-builds.toml"));
        let config = builds_config::load(&path)?;
        let file = path.display().to_string();
        let require = i.bool(Key::RequireSecrets, false)?;
        let mut secret_values = BTreeMap::new();
        for (t, trigger) in config.triggers.iter().enumerate() {
            for (name, line) in &trigger.secrets {
                match env(name).filter(|v| !v.is_empty()) {
                    Some(v) => {
                        secret_values.insert((t, name.clone()), v);
                    }
                    None if require => {
                        let at = line.map_or_else(|| file.clone(), |l| format!("{file}:{l}"));
                        let n = trigger.secrets.iter().position(|(s, _)| s == name).unwrap_or(0);
                        return Err(InputError::new(
                            Key::RequireSecrets,
                            format!(
                                "{at}: key `triggers[{t}].secrets[{n}]`: the environment variable {name} is unset or empty; \
                                 pass it to the step (`env: {name}: ${{{{ secrets.{name} }}}}`) or drop {}",
                                hint::set(Key::RequireSecrets, "true")
                            ),
                        ));
                    }
                    None => {}
                }
            }
        }
        let connection = match &config.connection {
            Some(c) => Some(connection_from(c, env, &file)?),
            None => {
                connection_from(&ConnectionSpec { provider: "github".into(), ..ConnectionSpec::default() }, env, &file)
                    .ok()
            }
        };
        Ok(SetupArgs {
            connection,
            secret_values,
            dry_run: i.bool(Key::DryRun, false)?,
            check: i.bool(Key::Check, false)?,
            prune: i.bool(Key::Prune, false)?,
            config,
        })
    }

    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        self.secret_values.values().map(String::as_str)
    }
}

/// `[connection]` with its gaps filled from the runner: `GITHUB_REPOSITORY` (`owner/name`),
/// `GITHUB_REPOSITORY_ID`, `GITHUB_REPOSITORY_OWNER`, `GITHUB_REPOSITORY_OWNER_ID` (GitHub only).
fn connection_from(
    c: &ConnectionSpec,
    env: &dyn Fn(&str) -> Option<String>,
    file: &str,
) -> Result<ConnectionRequest, InputError> {
    let github = c.provider == "github";
    let from_env = |k: &str| if github { env(k).filter(|v| !v.is_empty()) } else { None };
    let repo_from_env = from_env("GITHUB_REPOSITORY").and_then(|r| r.split_once('/').map(|(_, n)| n.to_owned()));
    let fields = [
        (
            "account_id",
            c.account_id.clone().or_else(|| from_env("GITHUB_REPOSITORY_OWNER_ID")),
            "GITHUB_REPOSITORY_OWNER_ID",
        ),
        (
            "account_name",
            c.account_name.clone().or_else(|| from_env("GITHUB_REPOSITORY_OWNER")),
            "GITHUB_REPOSITORY_OWNER",
        ),
        ("repo_id", c.repo_id.clone().or_else(|| from_env("GITHUB_REPOSITORY_ID")), "GITHUB_REPOSITORY_ID"),
        ("repo_name", c.repo_name.clone().or(repo_from_env), "GITHUB_REPOSITORY"),
    ];
    let mut got = Vec::new();
    for (key, value, var) in fields {
        let Some(v) = value else {
            let at = c.line.map_or_else(|| file.to_owned(), |l| format!("{file}:{l}"));
            let runner = if github { format!(" (on GitHub Actions it defaults to {var})") } else { String::new() };
            return Err(InputError::new(
                Key::BuildsConfig,
                format!("{at}: key `connection.{key}`: is missing{runner}: add it to `[connection]`"),
            ));
        };
        got.push(v);
    }
    let [account_id, account_name, repo_id, repo_name]: [String; 4] =
        got.try_into().unwrap_or_else(|_| unreachable!("four fields"));
    Ok(ConnectionRequest {
        provider_type: c.provider.clone(),
        provider_account_id: account_id,
        provider_account_name: account_name,
        repo_id,
        repo_name,
    })
}

async fn run(ctx: &Ctx, args: SetupArgs) -> Result<()> {
    let config = &args.config;
    let (tag, worker) = resolve_tag(ctx, &config.worker, WorkerFrom::File(&config.file, config.worker_line)).await?;
    let before = list_live(ctx, &tag, &worker).await?;
    let existing_connection =
        before.iter().find_map(|t| t.repo_connection.clone()).filter(|c| !c.repo_connection_uuid.is_empty());

    let mut plan: Vec<Change> = Vec::new();
    let connection_write = plan_connection(args.connection.as_ref(), existing_connection.as_ref(), &mut plan);
    let TriggersPlan { mut triggers, extra, duplicates } =
        plan_triggers(config, &before, args.connection.as_ref(), args.prune, &mut plan);
    // Variables: read for the triggers that exist, all at once; a new trigger has none.
    let reads = triggers.iter().map(|tp| async move {
        match &tp.existing {
            Some(t) => ctx.client.env_vars(&t.trigger_uuid).await.map_err(|e| {
                api_failure(e, &format!("read the build variables of trigger `{}`", tp.spec.name), Area::Builds)
            }),
            None => Ok(BTreeMap::new()),
        }
    });
    let current = futures_util::future::join_all(reads).await;
    for (tp, current) in triggers.iter_mut().zip(current) {
        plan.extend(diff_vars(ctx, tp, &current?, &args));
    }

    let changes = plan.iter().filter(|c| c.action.writes()).count();
    let drift = plan.iter().filter(|c| c.action.drifts()).count();
    changes::show(ctx, &plan);
    report_duplicates(ctx, &duplicates, args.prune);
    ctx.output(Output::Plan, &serde_json::to_string(&plan).unwrap_or_else(|_| "[]".into()));
    ctx.output(Output::Changes, &changes.to_string());
    ctx.summary(|s| {
        s.row("Worker", &worker);
        s.row("File", &config.file.display().to_string());
        s.row("Changes", &changes.to_string());
    });

    // Whatever would stop the apply before its first write stops a dry run and a check too.
    let left: Vec<String> = if args.prune {
        Vec::new()
    } else {
        extra
            .iter()
            .map(|t| format!("`{}`", t.name()))
            .chain(duplicates.iter().flat_map(|d| d.newer.iter().map(|_| format!("a duplicate `{}`", d.name))))
            .collect()
    };
    let ready = validate(
        ctx,
        config,
        &before,
        &mut triggers,
        &left,
        connection_write.is_some() || existing_connection.is_some(),
    )
    .await?;

    if args.dry_run || args.check {
        let duplicate = !args.prune && !duplicates.is_empty();
        return finish_dry_run(ctx, &args, &worker, &triggers, (changes, drift), duplicate);
    }

    // 1. The connection.
    let connection_uuid = match connection_write {
        Some(body) => {
            let c = ctx
                .client
                .upsert_connection(&body)
                .await
                .map_err(|e| api_failure(e, "create or update the repository connection", Area::Builds))?;
            Some(c.repo_connection_uuid)
        }
        None => existing_connection.as_ref().map(|c| c.repo_connection_uuid.clone()),
    };
    if let Some(uuid) = &connection_uuid {
        renamed_in_place(&triggers, uuid)?;
    }

    // 2. Triggers: deletions first (a Worker has at most two triggers, docs/cloudflare-api.md §3,
    // so a create must not come while a trigger `prune` removes still counts), then updates and
    // creates.
    if args.prune {
        for t in extra.iter().chain(duplicates.iter().flat_map(|d| d.newer.iter())) {
            delete_trigger(ctx, &tag, t).await?;
        }
    }
    let (uuids, shared) =
        apply_triggers(ctx, config, &tag, &before, &triggers, connection_uuid.as_ref(), &ready).await?;

    // 3. Variables.
    apply_vars(ctx, &triggers, &uuids).await?;
    let out: BTreeMap<&String, &str> = uuids.iter().map(|(k, v)| (k, v.as_str())).collect();
    ctx.output(Output::TriggerUuids, &serde_json::to_string(&out).unwrap_or_default());
    let made = crate::ci::plural(changes, "planned write", "planned writes");
    ctx.console.info(&if shared == 0 {
        format!("setup: done, {made} made")
    } else {
        // The count must not claim creates another run made (the warnings above name them).
        format!(
            "setup: done, {made} in effect; {} made by another run at the same time and used by this one",
            crate::ci::plural(shared, "trigger was", "triggers were")
        )
    });
    Ok(())
}

/// A trigger kept on its connection must be on the one the upsert answered: a rename that made
/// a new connection instead (the upsert key is INFERRED) would leave it building from the old
/// one while the plan said the connection was updated. Stops before any trigger is written.
fn renamed_in_place(triggers: &[TriggerPlan<'_>], uuid: &RepoConnectionUuid) -> Result<()> {
    let stale: Vec<&str> = triggers
        .iter()
        .filter(|tp| !tp.recreate)
        .filter_map(|tp| tp.existing.as_ref())
        .filter(|t| {
            t.repo_connection
                .as_ref()
                .is_some_and(|c| !c.repo_connection_uuid.is_empty() && c.repo_connection_uuid != *uuid)
        })
        .map(Trigger::name)
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "Cloudflare answered the repository connection's update with another connection ({uuid}) than the one \
         trigger(s) {} build from, so they would not see it (a trigger's connection cannot be updated); no trigger \
         was changed. Delete those triggers (in the dashboard, or `prune: true` with them out of the file) and run \
         setup again to create them on the new connection",
        stale.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )))
}

/// What the writes need beyond the plan, found (or refused) before the first write.
struct Ready {
    /// The build token a trigger create or a token update sends; `None` when none does.
    token: Option<BuildTokenUuid>,
}

/// The one validation the apply, a dry run and a check all pass through, so that a plan that
/// passes cannot fail to apply for a reason known in advance (issue 25: a dry run said "1 write
/// planned" where the apply then stopped for want of a connection). Fills in the token of the
/// trigger updates that change it.
///
/// `left` names the live triggers this run leaves in place beside the file's.
async fn validate(
    ctx: &Ctx,
    config: &BuildsConfig,
    before: &[Trigger],
    triggers: &mut [TriggerPlan<'_>],
    left: &[String],
    has_connection: bool,
) -> Result<Ready> {
    if let Some(e) = triggers.iter_mut().find_map(|tp| tp.blocked.take()) {
        return Err(Error::Input(e));
    }
    let total = triggers.len() + left.len();
    if total > builds_config::MAX_TRIGGERS && triggers.iter().any(|tp| tp.existing.is_none()) {
        return Err(Error::Input(InputError::new(
            Key::BuildsConfig,
            format!(
                "{}: the Worker would have {total} Workers Builds triggers (the file's {} and {}, left alone), and a \
                 Worker has at most two: set {} to delete the triggers the file does not name, or take a trigger \
                 out of the file",
                config.file.display(),
                triggers.len(),
                left.join(", "),
                hint::set(Key::Prune, "true")
            ),
        )));
    }
    if !has_connection && let Some(tp) = triggers.iter().find(|tp| tp.existing.is_none()) {
        return Err(no_connection(config, tp.spec));
    }
    let needs_token =
        triggers.iter().any(|tp| tp.existing.is_none() || tp.recreate || tp.update.build_token_uuid.is_some());
    let token = if needs_token { Some(build_token(ctx, config.build_token.as_deref(), before).await?) } else { None };
    for tp in triggers.iter_mut() {
        if tp.update.build_token_uuid.is_some() {
            tp.update.build_token_uuid.clone_from(&token);
        }
    }
    Ok(Ready { token })
}

fn no_connection(config: &BuildsConfig, spec: &TriggerSpec) -> Error {
    Error::Input(InputError::new(
        Key::BuildsConfig,
        format!(
            "{}: trigger `{}` must be created and needs a repository connection: add `[connection]` \
             (on GitHub Actions its fields default from GITHUB_REPOSITORY*)",
            config.file.display(),
            spec.name
        ),
    ))
}

/// Triggers that share a name with one of the file's: a warning naming them, and how they go.
fn report_duplicates(ctx: &Ctx, duplicates: &[Duplicates<'_>], prune: bool) {
    for d in duplicates {
        let newer = d.newer.iter().map(|t| describe_one(t)).collect::<Vec<_>>().join(", ");
        let kept = describe_one(d.kept);
        if prune {
            ctx.console.notice(&format!(
                "trigger `{}`: {} triggers have this name; keeping {kept}, the oldest (the one a `setup` run at the \
                 same time keeps too, and the one builds have used longest), and deleting {newer}",
                d.name,
                d.newer.len() + 1
            ));
        } else {
            ctx.console.warning(&format!(
                "trigger `{}`: {} triggers have this name, a duplicate (two `setup` runs at once can leave one): \
                 {kept} and {newer}. `build` refuses the name until one is gone; {} deletes the newer and keeps \
                 the oldest, which this run updates (it also deletes whatever else the file does not name: the \
                 plan shows it)",
                d.name,
                d.newer.len() + 1,
                hint::set(Key::Prune, "true")
            ));
        }
    }
}

fn describe_one(t: &Trigger) -> String {
    format!("{} (created {})", t.trigger_uuid, t.created_on.as_deref().unwrap_or("at an unknown time"))
}

/// The connection's line of the plan, and the connection to write (`None`: none to write).
/// Another repository (provider, account or repository id: the upsert key, INFERRED,
/// docs/api-assumptions.md row 25) is a new connection, `create`; the same one renamed, `update`.
fn plan_connection(
    want: Option<&ConnectionRequest>,
    have: Option<&RepoConnection>,
    plan: &mut Vec<Change>,
) -> Option<ConnectionRequest> {
    match (want, have) {
        (Some(want), Some(have)) if same_connection(want, have) => {
            plan.push(Change::new("connection", &repo_label(want), Action::Unchanged));
            None
        }
        (Some(want), have) => {
            let renamed = have.is_some_and(|h| same_repository(want, h));
            let mut c =
                Change::new("connection", &repo_label(want), if renamed { Action::Update } else { Action::Create });
            if let Some(h) = have {
                c = c.field("repository", Some(have_label(h)), Some(repo_label(want)));
            }
            plan.push(c);
            Some(want.clone())
        }
        (None, Some(have)) => {
            plan.push(Change::new("connection", &have_label(have), Action::Unchanged));
            None
        }
        (None, None) => None,
    }
}

/// The triggers' side of the plan.
struct TriggersPlan<'a> {
    triggers: Vec<TriggerPlan<'a>>,
    /// Live triggers the file does not name (deleted with `prune`).
    extra: Vec<&'a Trigger>,
    /// The file's names that more than one live trigger has.
    duplicates: Vec<Duplicates<'a>>,
}

/// Several live triggers of one of the file's names: the oldest is the one `setup` manages.
struct Duplicates<'a> {
    name: &'a str,
    kept: &'a Trigger,
    newer: Vec<&'a Trigger>,
}

/// The triggers' lines of the plan: the file's triggers, each with what it meets in
/// Cloudflare, then the live triggers the file does not name.
///
/// A live trigger on another repository than `connection`'s is deleted and created again: a
/// trigger update cannot change its connection (docs/cloudflare-api.md Correction 16), and the
/// connection's upsert makes a new connection it would never see. The same repository renamed
/// is the same connection, updated in place (INFERRED, docs/api-assumptions.md row 25; checked
/// after the upsert by [`renamed_in_place`]).
fn plan_triggers<'a>(
    config: &'a BuildsConfig,
    before: &'a [Trigger],
    connection: Option<&ConnectionRequest>,
    prune: bool,
    plan: &mut Vec<Change>,
) -> TriggersPlan<'a> {
    // Triggers: matched by name, case-insensitively (the file refuses two that differ by case).
    // Of several with the name, the oldest: the one every run keeps (`trigger::same_name`).
    let token_wanted = config.build_token.as_deref();
    let mut triggers: Vec<TriggerPlan<'_>> = Vec::new();
    let mut duplicates = Vec::new();
    for (index, spec) in config.triggers.iter().enumerate() {
        let same = trigger::same_name(before, &spec.name);
        let mut tp = TriggerPlan {
            spec,
            index,
            existing: same.first().map(|t| (*t).clone()),
            update: UpdateTrigger::default(),
            vars: BTreeMap::new(),
            unset: Vec::new(),
            recreate: false,
            blocked: None,
        };
        let moved = match (&tp.existing, connection) {
            (Some(t), Some(want)) => t
                .repo_connection
                .as_ref()
                .filter(|c| !c.repo_connection_uuid.is_empty() && !same_repository(want, c))
                .map(|c| (have_label(c), repo_label(want))),
            _ => None,
        };
        match &tp.existing {
            None => plan.push(Change::new("trigger", &spec.name, Action::Create)),
            Some(_) if let Some((from, to)) = moved => {
                tp.recreate = true;
                plan.push(Change::new("trigger", &spec.name, Action::Delete).field(
                    "repository connection",
                    Some(from),
                    Some(format!(
                        "{to} (a trigger's connection cannot be updated; its unfinished builds are cancelled)"
                    )),
                ));
                plan.push(Change::new("trigger", &spec.name, Action::Create));
            }
            Some(t) => {
                let changes = diff_trigger(spec, t, token_wanted, &mut tp.update);
                if changes.is_empty() {
                    plan.push(Change::new("trigger", &spec.name, Action::Unchanged));
                } else {
                    plan.extend(changes);
                }
            }
        }
        if let [kept, newer @ ..] = same.as_slice()
            && !newer.is_empty()
        {
            for t in newer {
                let action = if prune { Action::Delete } else { Action::Duplicate };
                plan.push(Change::new("trigger", t.name(), action).field(
                    "duplicate",
                    None,
                    Some(format!("{} (the oldest, {}, is kept)", t.trigger_uuid, kept.trigger_uuid)),
                ));
            }
            duplicates.push(Duplicates { name: &spec.name, kept, newer: newer.to_vec() });
        }
        triggers.push(tp);
    }
    let in_file: Vec<&str> = config.triggers.iter().map(|t| t.name.as_str()).collect();
    let extra: Vec<&Trigger> =
        before.iter().filter(|t| !in_file.iter().any(|n| n.eq_ignore_ascii_case(t.name()))).collect();
    for t in &extra {
        plan.push(Change::new("trigger", t.name(), if prune { Action::Delete } else { Action::LeftAlone }));
    }
    TriggersPlan { triggers, extra, duplicates }
}

/// `dry_run` or `check`: the outputs of the triggers that exist, and for `check` the drift as
/// the step's error.
fn finish_dry_run(
    ctx: &Ctx,
    args: &SetupArgs,
    worker: &str,
    triggers: &[TriggerPlan<'_>],
    (changes, drift): (usize, usize),
    duplicate: bool,
) -> Result<()> {
    let uuids: BTreeMap<&str, &str> = triggers
        .iter()
        .filter_map(|tp| tp.existing.as_ref().map(|t| (tp.spec.name.as_str(), t.trigger_uuid.as_str())))
        .collect();
    ctx.output(Output::TriggerUuids, &serde_json::to_string(&uuids).unwrap_or_default());
    let mode = if args.check { "check" } else { "dry run" };
    ctx.console
        .info(&format!("{mode}: nothing was changed ({} planned)", crate::ci::plural(changes, "write", "writes")));
    if args.check && drift > 0 {
        let duplicate = if duplicate {
            format!(" (a duplicate trigger goes only with {})", hint::set(Key::Prune, "true"))
        } else {
            String::new()
        };
        return Err(Error::Drift(format!(
            "the Workers Builds configuration of {worker} differs from {} in {}; apply it with `setup` without {}{duplicate}",
            args.config.file.display(),
            crate::ci::plural(drift, "place", "places"),
            hint::input(Key::Check)
        )));
    }
    Ok(())
}

/// Updates the triggers that differ and creates the missing ones; every trigger's uuid by name.
///
/// Two runs at once (no `concurrency:` group, or a run by hand) both see a name missing and
/// both create it. So each create is read back: of two triggers of the name, both runs keep the
/// older (`trigger::same_name`'s order, the same for both), and the run that made the newer
/// deletes its own. A run deletes only what it knows it made (the answer of its create, not a
/// trigger a lost answer's reconciliation found), so nothing of the user's goes without `prune`,
/// and the older survives whoever stops when. A name a later read-back shows already made by
/// another run is taken, not created again.
async fn apply_triggers(
    ctx: &Ctx,
    config: &BuildsConfig,
    tag: &ScriptTag,
    before: &[Trigger],
    triggers: &[TriggerPlan<'_>],
    connection_uuid: Option<&RepoConnectionUuid>,
    ready: &Ready,
) -> Result<(BTreeMap<String, TriggerUuid>, usize)> {
    let mut uuids: BTreeMap<String, TriggerUuid> = BTreeMap::new();
    // Triggers another run created, used instead of this run's own.
    let mut shared = 0;
    let known: BTreeSet<TriggerUuid> = before.iter().map(|t| t.trigger_uuid.clone()).collect();
    // The latest read-back: what other runs have made since `before`.
    let mut seen: Vec<Trigger> = Vec::new();
    for tp in triggers {
        if let (true, Some(t)) = (tp.recreate, &tp.existing) {
            delete_trigger(ctx, tag, t).await?;
        }
        let uuid = if let (false, Some(t)) = (tp.recreate, &tp.existing) {
            update_trigger(ctx, tp.spec, t, &tp.update).await?;
            t.trigger_uuid.clone()
        } else if let Some(other) =
            trigger::same_name(&seen, &tp.spec.name).into_iter().find(|t| !known.contains(&t.trigger_uuid))
        {
            ctx.console.warning(&format!(
                "trigger `{}` was created by another run at the same time: {}. This run uses it instead of creating a second",
                tp.spec.name,
                describe_one(other)
            ));
            shared += 1;
            adopt(ctx, config, tp.spec, other, ready).await?
        } else {
            let conn = connection_uuid.ok_or_else(|| no_connection(config, tp.spec))?;
            let token = ready.token.as_ref().ok_or_else(|| no_token(tp.spec))?;
            let (made, certain) = match create_trigger(ctx, tag, token, conn, tp.spec, &known).await {
                Ok(made) => made,
                Err(e) => {
                    // A run at the same time may have made the Worker's two triggers first, and
                    // Cloudflare refuses a third (docs/cloudflare-api.md §3): take that run's
                    // trigger of the name, as a read-back after a create would.
                    seen = list_live(ctx, tag, &config.worker).await?;
                    let Some(other) =
                        trigger::same_name(&seen, &tp.spec.name).into_iter().find(|t| !known.contains(&t.trigger_uuid))
                    else {
                        return Err(e);
                    };
                    ctx.console.warning(&format!(
                        "trigger `{}` was created by another run at the same time: {}. This run uses it (its own \
                         create was refused)",
                        tp.spec.name,
                        describe_one(other)
                    ));
                    shared += 1;
                    let uuid = adopt(ctx, config, tp.spec, other, ready).await?;
                    uuids.insert(tp.spec.name.clone(), uuid);
                    continue;
                }
            };
            seen = list_live(ctx, tag, &config.worker).await?;
            let uuid = settle_duplicates(ctx, config, tag, tp.spec, &made, certain, &seen, ready).await?;
            if uuid != made.trigger_uuid {
                shared += 1;
            }
            uuid
        };
        uuids.insert(tp.spec.name.clone(), uuid);
    }
    Ok((uuids, shared))
}

fn no_token(spec: &TriggerSpec) -> Error {
    Error::Internal {
        what: format!("trigger `{}` is to be created but no build token was resolved", spec.name),
        source: None,
    }
}

async fn update_trigger(ctx: &Ctx, spec: &TriggerSpec, t: &Trigger, update: &UpdateTrigger) -> Result<()> {
    if *update != UpdateTrigger::default() {
        ctx.client
            .update_trigger(&t.trigger_uuid, update)
            .await
            .map_err(|e| api_failure(e, &format!("update trigger `{}`", spec.name), Area::Builds))?;
    }
    Ok(())
}

/// Another run's trigger of this name, made to match the file as this run's would have been.
async fn adopt(
    ctx: &Ctx,
    config: &BuildsConfig,
    spec: &TriggerSpec,
    other: &Trigger,
    ready: &Ready,
) -> Result<TriggerUuid> {
    let mut update = UpdateTrigger::default();
    let _ = diff_trigger(spec, other, config.build_token.as_deref(), &mut update);
    if update.build_token_uuid.is_some() {
        update.build_token_uuid.clone_from(&ready.token);
    }
    update_trigger(ctx, spec, other, &update).await?;
    Ok(other.trigger_uuid.clone())
}

/// After this run's create of `spec`, the read-back `now`: one trigger of the name is the
/// normal case; more means another run created one at the same time (see [`apply_triggers`]).
#[allow(clippy::too_many_arguments)]
async fn settle_duplicates(
    ctx: &Ctx,
    config: &BuildsConfig,
    tag: &ScriptTag,
    spec: &TriggerSpec,
    made: &Trigger,
    certain: bool,
    now: &[Trigger],
    ready: &Ready,
) -> Result<TriggerUuid> {
    let same = trigger::same_name(now, &spec.name);
    if same.len() < 2 {
        return Ok(made.trigger_uuid.clone());
    }
    let oldest = same[0];
    let others = same
        .iter()
        .filter(|t| t.trigger_uuid != made.trigger_uuid)
        .map(|t| describe_one(t))
        .collect::<Vec<_>>()
        .join(", ");
    if oldest.trigger_uuid == made.trigger_uuid {
        ctx.console.warning(&format!(
            "another run created trigger `{}` at the same time: {others}. The one this run made, {}, is older and \
             stays; that run deletes its own when it reads back. Should it stop first, {} deletes the newer",
            spec.name,
            made.trigger_uuid,
            hint::set(Key::Prune, "true")
        ));
        return Ok(made.trigger_uuid.clone());
    }
    if !certain {
        ctx.console.warning(&format!(
            "another run created trigger `{}` at the same time: {others}. This run's create lost its answer, so \
             which one it made cannot be told and none is deleted; {} deletes the newer",
            spec.name,
            hint::set(Key::Prune, "true")
        ));
        return Ok(oldest.trigger_uuid.clone());
    }
    ctx.console.warning(&format!(
        "another run created trigger `{}` at the same time: {}. The one this run made, {}, is newer, so it is deleted \
         and that one is used",
        spec.name,
        describe_one(oldest),
        made.trigger_uuid
    ));
    delete_trigger(ctx, tag, made).await?;
    adopt(ctx, config, spec, oldest, ready).await
}

/// Writes each trigger's variables, then deletes the ones `prune` removes.
async fn apply_vars(ctx: &Ctx, triggers: &[TriggerPlan<'_>], uuids: &BTreeMap<String, TriggerUuid>) -> Result<()> {
    for tp in triggers {
        let uuid = &uuids[&tp.spec.name];
        if !tp.vars.is_empty() {
            ctx.client.set_env_vars(uuid, &tp.vars).await.map_err(|e| {
                api_failure(e, &format!("set the build variables of trigger `{}`", tp.spec.name), Area::Builds)
            })?;
        }
        for key in &tp.unset {
            delete_var(ctx, uuid, key, &tp.spec.name).await?;
        }
    }
    Ok(())
}

fn repo_label(c: &ConnectionRequest) -> String {
    format!("{}:{}/{}", c.provider_type, c.provider_account_name, c.repo_name)
}

fn have_label(c: &RepoConnection) -> String {
    format!(
        "{}:{}/{}",
        c.provider_type.as_deref().unwrap_or("?"),
        c.provider_account_name.as_deref().unwrap_or("?"),
        c.repo_name.as_deref().unwrap_or("?")
    )
}

/// The same repository under the (INFERRED) upsert key: provider, account id, repository id.
fn same_repository(want: &ConnectionRequest, have: &RepoConnection) -> bool {
    have.deleted_on.is_none()
        && have.provider_type.as_deref() == Some(want.provider_type.as_str())
        && have.provider_account_id.as_deref() == Some(want.provider_account_id.as_str())
        && have.repo_id.as_deref() == Some(want.repo_id.as_str())
}

fn same_connection(want: &ConnectionRequest, have: &RepoConnection) -> bool {
    have.deleted_on.is_none()
        && have.provider_type.as_deref() == Some(want.provider_type.as_str())
        && have.provider_account_id.as_deref() == Some(want.provider_account_id.as_str())
        && have.provider_account_name.as_deref() == Some(want.provider_account_name.as_str())
        && have.repo_id.as_deref() == Some(want.repo_id.as_str())
        && have.repo_name.as_deref() == Some(want.repo_name.as_str())
}

/// The Worker's live triggers. A Worker without Builds configuration may answer 404
/// (docs/cloudflare-api.md §3.2 documents no answer for it; docs/api-assumptions.md row 24),
/// which is "no triggers" for a Worker whose tag was just looked up; but taken wrongly it would
/// duplicate every trigger, so it counts only when a second read says the same.
async fn list_live(ctx: &Ctx, tag: &ScriptTag, worker: &str) -> Result<Vec<Trigger>> {
    let all = match ctx.client.list_triggers(tag).await {
        Ok(all) => all,
        Err(e) if e.is_not_found() => {
            ctx.sleep(ctx.pace.of(std::time::Duration::from_secs(1))).await;
            match ctx.client.list_triggers(tag).await {
                Ok(all) => all,
                Err(e) if e.is_not_found() => Vec::new(),
                Err(e) => return Err(triggers_failure(e, worker)),
            }
        }
        Err(e) => return Err(triggers_failure(e, worker)),
    };
    Ok(all.into_iter().filter(|t| t.deleted_on.is_none()).collect())
}

fn quoted(v: &str) -> String {
    format!("{v:?}")
}

fn list(v: &[String]) -> String {
    format!("{v:?}")
}

/// The fields of `have` that differ from `spec`, one change each, and the update that fixes them.
fn diff_trigger(spec: &TriggerSpec, have: &Trigger, token: Option<&str>, update: &mut UpdateTrigger) -> Vec<Change> {
    let mut out = Vec::new();
    let name = &spec.name;
    let mut text = |field: &str, want: &str, have: Option<&str>, slot: &mut Option<String>| {
        if have != Some(want) {
            out.push(Change::new("trigger", name, Action::Update).field(field, have.map(quoted), Some(quoted(want))));
            *slot = Some(want.to_owned());
        }
    };
    text("build_command", &spec.build_command, have.build_command.as_deref(), &mut update.build_command);
    text("deploy_command", &spec.deploy_command, have.deploy_command.as_deref(), &mut update.deploy_command);
    text("root_directory", &spec.root_directory, have.root_directory.as_deref(), &mut update.root_directory);
    let mut lists = |field: &str, want: &[String], have: &[String], slot: &mut Option<Vec<String>>| {
        if want != have {
            out.push(Change::new("trigger", name, Action::Update).field(field, Some(list(have)), Some(list(want))));
            *slot = Some(want.to_vec());
        }
    };
    lists("branch_includes", &spec.branch_includes, &have.branch_includes, &mut update.branch_includes);
    lists("branch_excludes", &spec.branch_excludes, &have.branch_excludes, &mut update.branch_excludes);
    lists("path_includes", &spec.path_includes, &have.path_includes, &mut update.path_includes);
    lists("path_excludes", &spec.path_excludes, &have.path_excludes, &mut update.path_excludes);
    if have.build_caching_enabled.unwrap_or(false) != spec.build_caching {
        out.push(Change::new("trigger", name, Action::Update).field(
            "build_caching",
            Some(have.build_caching_enabled.unwrap_or(false).to_string()),
            Some(spec.build_caching.to_string()),
        ));
        update.build_caching_enabled = Some(spec.build_caching);
    }
    if have.trigger_name.as_deref() != Some(spec.name.as_str()) {
        out.push(Change::new("trigger", name, Action::Update).field(
            "name",
            have.trigger_name.as_deref().map(quoted),
            Some(quoted(&spec.name)),
        ));
        update.trigger_name = Some(spec.name.clone());
    }
    if let Some(token) = token {
        let same = have.build_token_uuid.as_ref().is_some_and(|u| u.as_str().eq_ignore_ascii_case(token))
            || have.build_token_name.as_deref() == Some(token);
        if !same {
            out.push(Change::new("trigger", name, Action::Update).field(
                "build_token",
                have.build_token_name.clone().or_else(|| have.build_token_uuid.as_ref().map(ToString::to_string)),
                Some(token.to_owned()),
            ));
            // Resolved to a uuid by `validate`.
            update.build_token_uuid = Some(BuildTokenUuid::default());
        }
    }
    out
}

fn diff_vars(ctx: &Ctx, tp: &mut TriggerPlan<'_>, current: &BTreeMap<String, EnvVar>, args: &SetupArgs) -> Vec<Change> {
    if tp.recreate {
        return recreated_vars(tp, current, args);
    }
    let spec = tp.spec;
    let name = &spec.name;
    let mut out = Vec::new();
    for (k, want) in &spec.vars {
        let change = match current.get(k) {
            None => Some(Change::new("variable", name, Action::Create).key(k).field("value", None, Some(quoted(want)))),
            Some(have) if have.is_secret => Some(Change::new("variable", name, Action::Update).key(k).field(
                "value",
                Some("secret".into()),
                Some(quoted(want)),
            )),
            Some(have) if have.value.as_deref() != Some(want.as_str()) => {
                Some(Change::new("variable", name, Action::Update).key(k).field(
                    "value",
                    have.value.as_deref().map(quoted),
                    Some(quoted(want)),
                ))
            }
            Some(_) => None,
        };
        match change {
            Some(c) => {
                out.push(c);
                tp.vars.insert(k.clone(), EnvVarValue { is_secret: false, value: want.clone() });
            }
            None => out.push(Change::new("variable", name, Action::Unchanged).key(k)),
        }
    }
    for (k, _) in &spec.secrets {
        match (args.secret_values.get(&(tp.index, k.clone())), current.get(k)) {
            (Some(value), _) => {
                out.push(Change::new("secret", name, Action::Set).key(k).field(
                    "value",
                    None,
                    Some("set, value not comparable".into()),
                ));
                tp.vars.insert(k.clone(), EnvVarValue { is_secret: true, value: value.clone() });
            }
            (None, Some(have)) => {
                if !have.is_secret {
                    ctx.console.warning(&format!(
                        "trigger `{name}`: {k} is a plain-text variable in Cloudflare but a secret in the file; set the environment variable {k} to write it as a secret"
                    ));
                }
                out.push(Change::new("secret", name, Action::Unchanged).key(k).field(
                    "value",
                    None,
                    Some("not in the environment: left as it is".into()),
                ));
                ctx.console.notice(&format!(
                    "trigger `{name}`: secret {k} is left as it is (the environment variable {k} is unset)"
                ));
            }
            (None, None) => {
                out.push(Change::new("secret", name, Action::Missing).key(k).field(
                    "value",
                    None,
                    Some("not set in Cloudflare, and not in the environment".into()),
                ));
                ctx.console.warning(&format!(
                    "trigger `{name}`: secret {k} is not set in Cloudflare and the environment variable {k} is unset, so it stays unset"
                ));
            }
        }
    }
    let listed = |k: &str| spec.vars.contains_key(k) || spec.secrets.iter().any(|(s, _)| s == k);
    for k in current.keys().filter(|k| !listed(k)) {
        if args.prune {
            out.push(
                Change::new(if current[k].is_secret { "secret" } else { "variable" }, name, Action::Delete).key(k),
            );
            tp.unset.push(k.clone());
        } else {
            out.push(
                Change::new(if current[k].is_secret { "secret" } else { "variable" }, name, Action::LeftAlone).key(k),
            );
        }
    }
    out
}

/// The variables of a trigger deleted and created again: the new trigger starts with none, so
/// every one is written (the file's, and with `prune` off the plain ones only Cloudflare has,
/// their values read back). A secret's value is never read back (§3.9): one the new trigger
/// needs and the environment does not hold blocks the run before any write.
fn recreated_vars(tp: &mut TriggerPlan<'_>, current: &BTreeMap<String, EnvVar>, args: &SetupArgs) -> Vec<Change> {
    let spec = tp.spec;
    let name = &spec.name;
    let file = args.config.file.display().to_string();
    let why = format!(
        "trigger `{name}` must be deleted and created again (its repository connection changes, which a trigger \
         update cannot do)"
    );
    let mut out = Vec::new();
    for (k, want) in &spec.vars {
        out.push(Change::new("variable", name, Action::Create).key(k).field("value", None, Some(quoted(want))));
        tp.vars.insert(k.clone(), EnvVarValue { is_secret: false, value: want.clone() });
    }
    for (n, (k, line)) in spec.secrets.iter().enumerate() {
        match args.secret_values.get(&(tp.index, k.clone())) {
            Some(value) => {
                out.push(Change::new("secret", name, Action::Set).key(k).field(
                    "value",
                    None,
                    Some("set, value not comparable".into()),
                ));
                tp.vars.insert(k.clone(), EnvVarValue { is_secret: true, value: value.clone() });
            }
            // A secret Cloudflare does not have is not lost: `missing`, as without a recreate.
            None if !current.contains_key(k) => out.push(Change::new("secret", name, Action::Missing).key(k).field(
                "value",
                None,
                Some("not set in Cloudflare, and not in the environment".into()),
            )),
            None => {
                let at = line.map_or_else(|| file.clone(), |l| format!("{file}:{l}"));
                tp.blocked.get_or_insert_with(|| {
                    InputError::new(
                        Key::BuildsConfig,
                        format!(
                            "{at}: key `triggers[{}].secrets[{n}]`: {why}, so its secret {k} must be written again, and \
                             the environment variable {k} is unset: pass it to the step \
                             (`env: {k}: ${{{{ secrets.{k} }}}}`), or keep the trigger's connection",
                            tp.index
                        ),
                    )
                });
            }
        }
    }
    let listed = |k: &str| spec.vars.contains_key(k) || spec.secrets.iter().any(|(s, _)| s == k);
    for (k, have) in current.iter().filter(|(k, _)| !listed(k)) {
        let resource = if have.is_secret { "secret" } else { "variable" };
        if args.prune {
            out.push(Change::new(resource, name, Action::Delete).key(k));
        } else if let (false, Some(v)) = (have.is_secret, &have.value) {
            out.push(Change::new(resource, name, Action::Create).key(k).field("value", None, Some(quoted(v))));
            tp.vars.insert(k.clone(), EnvVarValue { is_secret: false, value: v.clone() });
        } else {
            tp.blocked.get_or_insert_with(|| {
                InputError::new(
                    Key::BuildsConfig,
                    format!(
                        "{file}: {why}, and Cloudflare has its secret build variable {k}, which the file does not \
                         list and whose value cannot be read back: add {k} to the trigger's `secrets` and pass its \
                         value to the step, or set {} to let it go",
                        hint::set(Key::Prune, "true")
                    ),
                )
            });
        }
    }
    out
}

/// The file's `build_token` (a name or uuid), else the one the existing triggers use, else the
/// account's only one.
async fn build_token(ctx: &Ctx, wanted: Option<&str>, existing: &[Trigger]) -> Result<BuildTokenUuid> {
    if let Some(w) = wanted {
        if let Some(u) = existing.iter().find_map(|t| {
            t.build_token_uuid
                .clone()
                .filter(|u| u.as_str().eq_ignore_ascii_case(w) || t.build_token_name.as_deref() == Some(w))
        }) {
            return Ok(u);
        }
    } else if let Some(u) = existing.iter().find_map(|t| t.build_token_uuid.clone().filter(|u| !u.is_empty())) {
        return Ok(u);
    }
    let tokens = ctx
        .client
        .list_build_tokens()
        .await
        .map_err(|e| api_failure(e, "list the account's build tokens", Area::Builds))?;
    let names = || tokens.iter().map(|t| t.build_token_name.clone().unwrap_or_default()).collect::<Vec<_>>().join(", ");
    match wanted {
        Some(w) => tokens
            .iter()
            .find(|t| t.build_token_uuid.as_str().eq_ignore_ascii_case(w) || t.build_token_name.as_deref() == Some(w))
            .map(|t| t.build_token_uuid.clone())
            .ok_or_else(|| Error::NotFound(format!("`build_token` in the file names no build token of this account; its build tokens: {}", names()))),
        None => match tokens.as_slice() {
            [one] => Ok(one.build_token_uuid.clone()),
            [] => Err(Error::Refused(
                "the account has no build token: connect a repository once in the dashboard (Workers → your Worker → Settings → Builds), which creates one".into(),
            )),
            _ => Err(Error::Refused(format!(
                "the account has several build tokens ({}): name one in the file with `build_token = \"…\"`",
                names()
            ))),
        },
    }
}

/// Sent once; an answer lost on the way is looked for among the triggers (one with the name
/// that was not there before this run) before anything is sent again. The flag says whether
/// the trigger is certainly this run's (the create's own answer), not one found that way,
/// which may be another run's.
async fn create_trigger(
    ctx: &Ctx,
    tag: &ScriptTag,
    token: &BuildTokenUuid,
    connection: &RepoConnectionUuid,
    spec: &TriggerSpec,
    known: &BTreeSet<TriggerUuid>,
) -> Result<(Trigger, bool)> {
    let found = std::cell::Cell::new(false);
    let body = CreateTrigger {
        external_script_id: tag,
        build_token_uuid: token,
        repo_connection_uuid: connection,
        trigger_name: &spec.name,
        build_command: &spec.build_command,
        deploy_command: &spec.deploy_command,
        root_directory: &spec.root_directory,
        branch_includes: &spec.branch_includes,
        branch_excludes: &spec.branch_excludes,
        path_includes: &spec.path_includes,
        path_excludes: &spec.path_excludes,
        build_caching_enabled: spec.build_caching,
    };
    create_once(
        ctx,
        &format!("create trigger `{}`", spec.name),
        Area::Builds,
        || ctx.client.create_trigger(&body),
        || async {
            let now = match ctx.client.list_triggers(tag).await {
                Err(e) if e.is_not_found() => Vec::new(),
                other => other?,
            };
            let hit = now.into_iter().find(|t| {
                t.deleted_on.is_none() && !known.contains(&t.trigger_uuid) && t.name().eq_ignore_ascii_case(&spec.name)
            });
            found.set(hit.is_some());
            Ok(hit)
        },
    )
    .await
    .map(|t| (t, !found.get()))
}

/// A delete sent twice fails the second time with 404; so it is sent once, and after an
/// answer that may have been lost, the list says whether it happened.
async fn delete_trigger(ctx: &Ctx, tag: &ScriptTag, t: &Trigger) -> Result<()> {
    let what = format!("delete trigger `{}`", t.name());
    retry_delete(
        ctx,
        &what,
        || ctx.client.delete_trigger(&t.trigger_uuid),
        || async {
            Ok(ctx
                .client
                .list_triggers(tag)
                .await?
                .iter()
                .any(|x| x.trigger_uuid == t.trigger_uuid && x.deleted_on.is_none()))
        },
    )
    .await
}

//! Each command's typed arguments, built from the inputs before any request is sent: once one
//! of these exists, every value in it has passed its rule.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::collections::BTreeMap;

use super::bindings::{self, Bindings, Keep};
use super::builds_config::{self, BuildsConfig, ConnectionSpec};
use super::bundle::{self, ModuleFile};
use super::{Command, InputError, Inputs, Key, hint, rules, wrangler};
use crate::ci::outputs::FileFormat;
use crate::cloudflare::builds_config::ConnectionRequest;
use crate::cloudflare::deployments::DeploymentVersion;
use crate::cloudflare::{BuildUuid, VersionId, WorkerName};

pub const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";

/// Inputs every command shares.
pub struct Common {
    pub token: String,
    pub account_id: String,
    pub api_url: reqwest::Url,
    pub timeout: Duration,
    pub output_file: Option<(PathBuf, FileFormat)>,
}

impl Common {
    pub fn from_inputs(i: &Inputs) -> Result<Common, InputError> {
        let token = i
            .require(Key::ApiToken, match hint::syntax() {
                hint::Syntax::Action => {
                    "pass a Cloudflare API token as `api_token: ${{ secrets.CLOUDFLARE_API_TOKEN }}` (a repository secret)"
                }
                hint::Syntax::Cli => {
                    "set the CLOUDFLARE_API_TOKEN environment variable (or `--api-token`, though a flag can be seen by other users of this machine)"
                }
            })?
            .to_owned();
        // Pasted from an `Authorization:` header: we add the scheme ourselves.
        if token.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) {
            return Err(InputError::new(
                Key::ApiToken,
                "starts with `Bearer `: pass the token alone, without the `Bearer ` prefix (workers-ci sends the header itself)",
            ));
        }
        let account_id = i.require(
            Key::AccountId,
            &format!("pass the account id as {} or CLOUDFLARE_ACCOUNT_ID", hint::input(Key::AccountId)),
        )?;
        if !rules::account_id(account_id) {
            return Err(InputError::new(
                Key::AccountId,
                "must be the 32-character hexadecimal account id (dashboard → Account home → Account ID)",
            ));
        }
        let api_url = rules::api_url(i.get(Key::ApiUrl).unwrap_or(DEFAULT_API_URL).trim_end_matches('/'))
            .map_err(|problem| InputError::new(Key::ApiUrl, problem))?;
        let output_file = match i.path(Key::OutputFile) {
            None => None,
            Some(p) => {
                let format = FileFormat::for_path(&p)
                    .ok_or_else(|| InputError::new(Key::OutputFile, "must end in `.env` (dotenv) or `.json`"))?;
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if !parent.is_dir() {
                    return Err(InputError::new(
                        Key::OutputFile,
                        "is in a directory that does not exist; create it first",
                    ));
                }
                Some((p, format))
            }
        };
        Ok(Common {
            token,
            account_id: account_id.to_ascii_lowercase(),
            api_url,
            timeout: i.duration(Key::Timeout, Duration::from_secs(30 * 60))?,
            output_file,
        })
    }
}

/// The command: the first argument, else the `command` input, else `build`.
pub fn command(positional: Option<Command>, i: &Inputs) -> Result<Command, InputError> {
    match (positional, i.get(Key::Command)) {
        (Some(c), _) => Ok(c),
        (None, None) => Ok(Command::Build),
        (None, Some(c)) => Command::parse(c).ok_or_else(|| {
            InputError::new(
                Key::Command,
                "must be `build`, `wait`, `version`, `deploy`, `setup`, `env`, `purge-cache`, `redeploy` or `preview`",
            )
        }),
    }
}

/// `worker` for the one-Worker commands of Builds (`env`, `purge-cache`, `redeploy`): a name,
/// or the 32-hex tag Builds keys Workers by.
fn worker_or_tag(i: &Inputs) -> Result<String, InputError> {
    let w = i.require(Key::Worker, "set it to the Worker's name (or its 32-hex tag)")?;
    if !rules::worker_name(w) && !rules::tag(w) {
        return Err(InputError::new(
            Key::Worker,
            "is not a Worker name (lowercase letters, digits, `-` and `_`, at most 63 characters) or a 32-hex tag",
        ));
    }
    Ok(w.to_ascii_lowercase())
}

/// `worker` for `build`/`wait` as a list: comma- or newline-separated names or tags, each
/// checked as one; a name given twice counts once. `*` (for `wait` only, `allow_all`) stands
/// for every Worker of the account and is returned as an empty list.
fn workers_or_tags(i: &Inputs, allow_all: bool) -> Result<Vec<String>, InputError> {
    let w = i.require(Key::Worker, "set it to the Worker's name (or its 32-hex tag), or a list of them")?;
    if w.trim() == "*" {
        if allow_all {
            return Ok(Vec::new());
        }
        return Err(InputError::new(
            Key::Worker,
            "`*` (every Worker) is for `wait` only: `build` starts builds, so name the Workers to build",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for item in w.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        if !rules::worker_name(item) && !rules::tag(item) {
            return Err(InputError::new(
                Key::Worker,
                "has an entry that is not a Worker name (lowercase letters, digits, `-` and `_`, at most 63 characters) or a 32-hex tag; separate entries with commas or newlines",
            ));
        }
        let item = item.to_ascii_lowercase();
        if !out.contains(&item) {
            out.push(item);
        }
    }
    if out.is_empty() {
        return Err(InputError::new(Key::Worker, "names no Worker; set it to a name or a comma-separated list"));
    }
    Ok(out)
}

/// `worker` for `version`/`deploy`: a name (or the Worker's id, which has the same shape).
fn worker_name(i: &Inputs) -> Result<WorkerName, InputError> {
    let w = i.require(Key::Worker, "set it to the Worker's name")?;
    WorkerName::parse(w).map_err(|_| {
        InputError::new(
            Key::Worker,
            "is not a Worker name or id (lowercase letters, digits, `-` and `_`, at most 63 characters)",
        )
    })
}

/// The wrangler configuration `version` reads: `config`, else the first of wrangler's names in
/// the working directory — then only when `dir` is not given or the file sets `main`, so a
/// workflow that names its build output keeps working beside a configuration it never used.
/// Returns it with the warnings about how it was found.
fn wrangler_config(i: &Inputs) -> Result<(Option<wrangler::Config>, Vec<String>), InputError> {
    let environment = i.get(Key::Environment);
    let mut warnings = Vec::new();
    let (path, found) = match i.path(Key::Config) {
        Some(p) => (p, false),
        None => match wrangler::discover(Path::new("")) {
            Some((first, others)) => {
                if !others.is_empty() {
                    let names: Vec<String> = others.iter().map(|p| p.display().to_string()).collect();
                    warnings.push(format!(
                        "several wrangler configurations here: using {} (wrangler's order: wrangler.json, wrangler.jsonc, wrangler.toml), not {}",
                        first.display(),
                        names.join(", ")
                    ));
                }
                (first, true)
            }
            None if environment.is_some() => {
                return Err(InputError::new(
                    Key::Environment,
                    format!(
                        "selects an environment of a wrangler configuration, but there is none in the working directory; set {}",
                        hint::input(Key::Config)
                    ),
                ));
            }
            None => return Ok((None, warnings)),
        },
    };
    let config = wrangler::load(&path, environment)?;
    if found && i.get(Key::Dir).is_some() && config.mapped.main.is_none() {
        return Ok((None, Vec::new()));
    }
    Ok((Some(config), warnings))
}

fn config_name(c: Option<&wrangler::Config>) -> String {
    c.map_or_else(String::new, |c| c.file.clone())
}

/// `main` must be what a bundler wrote: workers-ci uploads files as they are.
fn checked_main(c: &wrangler::Config, m: &wrangler::map::Main, dir_given: bool) -> Result<PathBuf, InputError> {
    let ext = m.path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let build = "workers-ci uploads bundler output as it is, it does not compile or bundle: build first (for example `npx wrangler deploy --dry-run --outdir dist`, or your bundler), then point `main` at the built file (e.g. `dist/index.js`) or set the `dir` input to the output folder";
    if matches!(ext.as_str(), "ts" | "tsx" | "jsx" | "mts" | "cts") {
        if dir_given {
            // The output folder is given: `main` (a source) only misleads; it is not used.
            return Ok(m.path.clone());
        }
        return Err(c.error(&wrangler::problem(
            m.line,
            &m.key,
            format!("names a source file (.{ext}), not a bundled module; {build}"),
        )));
    }
    if !m.path.is_file() && !dir_given {
        return Err(c.error(&wrangler::problem(
            m.line,
            &m.key,
            format!("names `{}`, which does not exist; {build}", m.path.display()),
        )));
    }
    Ok(m.path.clone())
}

fn branch(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get(Key::Branch) {
        Some(b) if !rules::branch(b) => Err(InputError::new(Key::Branch, "is not a valid branch name")),
        other => Ok(other.map(str::to_owned)),
    }
}

fn commit(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get(Key::Commit) {
        Some(c) if !rules::commit(c) => {
            Err(InputError::new(Key::Commit, "is not a commit hash (7 to 64 hexadecimal characters)"))
        }
        other => Ok(other.map(str::to_ascii_lowercase)),
    }
}

/// `build` pins the exact commit, and Workers Builds' `commit_hash` is documented only as a
/// full hash (`cloudflare-api.md` §3.3; whether a prefix works is an open question, §G): a short
/// one is resolved by the repository in the working directory, or refused before any request.
fn full_commit(c: &str) -> Result<String, InputError> {
    if c.len() == 40 || c.len() == 64 {
        return Ok(c.to_owned());
    }
    git_rev_parse(c).ok_or_else(|| {
        InputError::new(
            Key::Commit,
            "is a short commit hash that `build` cannot resolve: run in a checkout of the repository that has \
             the commit, or pass the full 40-character hash (e.g. `${{ github.sha }}`)",
        )
    })
}

/// How long `git rev-parse` may take before it is killed and the hash counts as unresolved.
const GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The full hash of the commit `short` names in the working directory's repository, if it is
/// one and names exactly one commit. `git` runs as a process (no shell), bounded by
/// [`GIT_TIMEOUT`]; `short` is hexadecimal, checked before, so it cannot be read as an option.
fn git_rev_parse(short: &str) -> Option<String> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{short}^{{commit}}")])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if started.elapsed() > GIT_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    let full = out.trim().to_ascii_lowercase();
    ((full.len() == 40 || full.len() == 64) && full.starts_with(short) && rules::commit(&full)).then_some(full)
}

fn message(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get(Key::Message) {
        Some(m) if m.len() > 1000 => Err(InputError::new(
            Key::Message,
            "is longer than 1000 bytes, the limit of the `workers/message` annotation",
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

/// `setup`: the file, read and checked, with the connection and secret values filled in from
/// the environment.
#[derive(Debug)]
pub struct SetupArgs {
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
    pub fn from_inputs(i: &Inputs, env: &dyn Fn(&str) -> Option<String>) -> Result<SetupArgs, InputError> {
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

    pub fn secrets(&self) -> impl Iterator<Item = &str> {
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

#[derive(Debug)]
pub struct BuildArgs {
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
}

impl BuildArgs {
    pub fn from_inputs(i: &Inputs) -> Result<BuildArgs, InputError> {
        let workers = workers_or_tags(i, false)?;
        let trigger = i.get(Key::Trigger).map(str::to_owned);
        if workers.len() > 1 && trigger.is_some() {
            return Err(InputError::new(
                Key::Trigger,
                "names one Worker's trigger, but `worker` lists several: leave it unset so each Worker's trigger is chosen by `branch`",
            ));
        }
        let max_parallel = match i.get(Key::MaxParallel) {
            None => None,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => return Err(InputError::new(Key::MaxParallel, "must be a whole number of at least 1")),
            },
        };
        let wait = i.bool(Key::Wait, true)?;
        if max_parallel.is_some() && !wait {
            return Err(InputError::new(
                Key::MaxParallel,
                "holds builds back until others finish, which needs `wait: true`: unset one of them",
            ));
        }
        Ok(BuildArgs {
            worker: workers[0].clone(),
            workers,
            max_parallel,
            branch: branch(i)?.ok_or_else(|| {
                InputError::new(Key::Branch, format!("is required for `build`; set {}, or run on a push or pull_request event where GITHUB_REF_NAME/GITHUB_HEAD_REF say it", hint::input(Key::Branch)))
            })?,
            commit: commit(i)?.map(|c| full_commit(&c)).transpose()?,
            trigger,
            logs: i.bool(Key::Logs, true)?,
            cancel_on_abort: i.bool(Key::CancelOnAbort, true)?,
            wait,
        })
    }
}

/// `env`: one trigger's build variables to write and to delete.
#[derive(Debug)]
pub struct EnvArgs {
    pub worker: String,
    pub trigger: String,
    pub set: BTreeMap<String, String>,
    pub set_secret: BTreeMap<String, String>,
    pub unset: Vec<String>,
}

impl EnvArgs {
    pub fn from_inputs(i: &Inputs) -> Result<EnvArgs, InputError> {
        let worker = worker_or_tag(i)?;
        let trigger =
            i.require(Key::Trigger, "name the trigger whose build variables to change (its name or uuid)")?.to_owned();
        let set = build_vars(i, Key::Set)?;
        let set_secret = build_vars(i, Key::SetSecret)?;
        let mut unset = Vec::new();
        for (n, line) in i.get(Key::Unset).unwrap_or("").lines().enumerate() {
            let k = line.trim();
            if k.is_empty() || k.starts_with('#') {
                continue;
            }
            if !builds_config::variable_name(k) {
                return Err(InputError::new(Key::Unset, format!("line {}: {}", n + 1, BUILD_VAR_NAME)));
            }
            unset.push(k.to_owned());
        }
        for k in set.keys().chain(set_secret.keys()).chain(&unset) {
            let times = usize::from(set.contains_key(k))
                + usize::from(set_secret.contains_key(k))
                + unset.iter().filter(|u| *u == k).count();
            if times > 1 {
                let key = if unset.contains(k) { Key::Unset } else { Key::SetSecret };
                return Err(InputError::new(
                    key,
                    format!(
                        "the variable {k} is named more than once across `set`, `set_secret` and `unset`: name each once"
                    ),
                ));
            }
        }
        if set.is_empty() && set_secret.is_empty() && unset.is_empty() {
            return Err(InputError::new(
                Key::Set,
                format!(
                    "`env` has nothing to do: give {}, {} or {}",
                    hint::input(Key::Set),
                    hint::input(Key::SetSecret),
                    hint::input(Key::Unset)
                ),
            ));
        }
        Ok(EnvArgs { worker, trigger, set, set_secret, unset })
    }

    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        self.set_secret.values().map(String::as_str)
    }
}

const BUILD_VAR_NAME: &str =
    "the key is not a valid build variable name (a letter or `_`, then letters, digits and `_`: Cloudflare's rule)";

/// `KEY=VALUE` lines for build variables (additions §E.2: names, and values of at most 5000
/// characters). Messages name the line, never its content.
fn build_vars(i: &Inputs, key: Key) -> Result<BTreeMap<String, String>, InputError> {
    let mut out = BTreeMap::new();
    for (n, raw) in i.get(key).unwrap_or("").lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (k, v) =
            line.split_once('=').ok_or_else(|| InputError::new(key, format!("line {} is not KEY=VALUE", n + 1)))?;
        let k = k.trim();
        if !builds_config::variable_name(k) {
            return Err(InputError::new(key, format!("line {}: {BUILD_VAR_NAME}", n + 1)));
        }
        if v.chars().count() > 5000 {
            return Err(InputError::new(
                key,
                format!("line {}: the value is longer than 5000 characters, Cloudflare's limit", n + 1),
            ));
        }
        if out.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(InputError::new(key, format!("line {}: the variable {k} is set twice", n + 1)));
        }
    }
    Ok(out)
}

/// `redeploy`: the Worker by name (its deployments are listed by name), and how to follow.
#[derive(Debug)]
pub struct RedeployArgs {
    pub worker: WorkerName,
    pub logs: bool,
    pub cancel_on_abort: bool,
    pub wait: bool,
}

impl RedeployArgs {
    pub fn from_inputs(i: &Inputs) -> Result<RedeployArgs, InputError> {
        Ok(RedeployArgs {
            worker: worker_name(i)?,
            logs: i.bool(Key::Logs, true)?,
            cancel_on_abort: i.bool(Key::CancelOnAbort, true)?,
            wait: i.bool(Key::Wait, true)?,
        })
    }
}

/// `purge-cache`: the trigger by name or uuid, else the one that builds `branch`.
#[derive(Debug)]
pub struct PurgeCacheArgs {
    pub worker: String,
    pub trigger: Option<String>,
    pub branch: Option<String>,
}

impl PurgeCacheArgs {
    pub fn from_inputs(i: &Inputs) -> Result<PurgeCacheArgs, InputError> {
        let worker = worker_or_tag(i)?;
        let trigger = i.get(Key::Trigger).map(str::to_owned);
        let branch = branch(i)?;
        if trigger.is_none() && branch.is_none() {
            return Err(InputError::new(
                Key::Trigger,
                format!(
                    "name the trigger whose cache to purge, or set {} to pick the trigger that builds it",
                    hint::input(Key::Branch)
                ),
            ));
        }
        Ok(PurgeCacheArgs { worker, trigger, branch })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfNoBuild {
    Fail,
    Pass,
}

#[derive(Debug)]
pub struct WaitArgs {
    /// The first of `workers` (empty for `*`): the one Worker of the single-build path.
    pub worker: String,
    /// Empty: every Worker of the account (`*`).
    pub workers: Vec<String>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub build_uuid: Option<BuildUuid>,
    pub logs: bool,
    pub cancel_on_abort: bool,
    pub if_no_build: IfNoBuild,
    pub appear_timeout: Duration,
}

impl WaitArgs {
    pub fn from_inputs(i: &Inputs) -> Result<WaitArgs, InputError> {
        let build_uuid = i.get(Key::BuildUuid).map(BuildUuid::parse).transpose().map_err(|_| {
            InputError::new(Key::BuildUuid, "is not a UUID (like 0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10)")
        })?;
        let commit = commit(i)?;
        if build_uuid.is_none() && commit.is_none() {
            return Err(InputError::new(
                Key::Commit,
                format!(
                    "is required for `wait` unless {} is set; on GitHub it defaults to the commit of the event",
                    hint::input(Key::BuildUuid)
                ),
            ));
        }
        let workers = workers_or_tags(i, true)?;
        if workers.len() != 1 && build_uuid.is_some() {
            return Err(InputError::new(
                Key::BuildUuid,
                "follows one build, but `worker` names several Workers: leave it unset, or name one Worker",
            ));
        }
        Ok(WaitArgs {
            worker: workers.first().cloned().unwrap_or_default(),
            workers,
            branch: branch(i)?,
            commit,
            build_uuid,
            logs: i.bool(Key::Logs, true)?,
            // Not ours to cancel unless asked: the build was started by the Git integration,
            // and cancelling it on a CI cancel surprises people.
            cancel_on_abort: i.bool(Key::CancelOnAbort, false)?,
            appear_timeout: i.duration(Key::AppearTimeout, Duration::from_secs(120))?,
            if_no_build: match i.get(Key::IfNoBuild) {
                None | Some("fail") => IfNoBuild::Fail,
                Some("pass") => IfNoBuild::Pass,
                Some(_) => return Err(InputError::new(Key::IfNoBuild, "must be `fail` or `pass`")),
            },
        })
    }
}

#[derive(Debug)]
pub struct VersionArgs {
    pub worker: WorkerName,
    pub dir: PathBuf,
    pub modules: Vec<ModuleFile>,
    /// `None`: an assets-only Worker, without code.
    pub main_module: Option<String>,
    pub compatibility_date: String,
    pub compatibility_flags: Vec<String>,
    pub bindings: Bindings,
    pub keep: Keep,
    /// Files under `dir` that `exclude` skipped, to name in the log.
    pub skipped: Vec<String>,
    pub message: Option<String>,
    pub tag: Option<String>,
    pub create_worker: bool,
    /// `workers_dev` and `preview_urls` as given (`None`: not given).
    pub workers_dev: Option<bool>,
    pub preview_urls: Option<bool>,
    /// Percentage for the new version; `None` = upload only.
    pub deploy: Option<f64>,
    /// Static assets to upload with the version: from input `assets` or the wrangler
    /// configuration's `assets` block.
    pub assets: Option<AssetsSpec>,
    /// Versioned settings from the wrangler configuration (additions §C.3, §C.4).
    pub placement: Option<serde_json::Value>,
    pub limits: Option<crate::cloudflare::workers::Limits>,
    /// The configuration's `migrations[]`, in order; which of them to send is decided against
    /// the Worker's applied tag.
    pub migrations: Vec<wrangler::Migration>,
    /// The wrangler configuration used (as given or found), and its environment.
    pub config_file: Option<(String, Option<String>)>,
    /// Keys of the configuration that were not applied, each said as a warning before any
    /// request.
    pub config_warnings: Vec<String>,
}

/// A Worker's static assets as configured: where they are and how Cloudflare serves them.
/// Unset fields are left out of the version, so Cloudflare applies its own defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetsSpec {
    pub directory: PathBuf,
    /// Name of the `assets` binding, when the Worker's code reads its assets.
    pub binding: Option<String>,
    pub html_handling: Option<String>,
    pub not_found_handling: Option<String>,
    /// `true`/`false` or a list of route patterns, as in wrangler's configuration.
    pub run_worker_first: Option<serde_json::Value>,
    pub base_path: Option<String>,
}

/// `assets` as a spec, taking the `assets` binding (if `bindings` declares one) out of the
/// list: it is sent with the assets, and only with them.
fn assets_spec(
    i: &Inputs,
    list: &mut Vec<serde_json::Value>,
    from_file: Option<AssetsSpec>,
) -> Result<Option<AssetsSpec>, InputError> {
    let mut named: Vec<String> = Vec::new();
    list.retain(|b| {
        let is_assets = b.get("type").and_then(serde_json::Value::as_str) == Some("assets");
        if is_assets {
            named.push(b.get("name").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned());
        }
        !is_assets
    });
    if named.len() > 1 {
        return Err(InputError::new(Key::Bindings, "declares more than one `assets` binding; a Worker has one"));
    }
    let Some(directory) = i.path(Key::Assets) else {
        // The configuration's `assets` block; a binding in `bindings` overrides its name.
        if let Some(mut spec) = from_file {
            if let Some(name) = named.pop() {
                spec.binding = Some(name);
            }
            return Ok(Some(spec));
        }
        if named.is_empty() {
            return Ok(None);
        }
        return Err(InputError::new(
            Key::Bindings,
            format!(
                "declares an `assets` binding, but no assets are uploaded; set {} to their directory",
                hint::input(Key::Assets)
            ),
        ));
    };
    if !directory.is_dir() {
        return Err(InputError::new(Key::Assets, "is not a directory; point it at your built site (e.g. `public`)"));
    }
    // `assets` replaces the file's directory and keeps how the file says they are served.
    let base = from_file.unwrap_or_default();
    let binding = named.pop().or(base.binding.clone());
    Ok(Some(AssetsSpec { directory, binding, ..base }))
}

impl VersionArgs {
    pub fn from_inputs(i: &Inputs) -> Result<VersionArgs, InputError> {
        let (config, mut config_warnings) = wrangler_config(i)?;
        let file = config.as_ref().map(|c| &c.mapped);
        let worker = match (i.get(Key::Worker), file.and_then(|f| f.name.as_ref())) {
            (None, Some((name, line, key))) => WorkerName::parse(name).map_err(|_| {
                InputError::new(
                    Key::Config,
                    format!("{}:{line}: {key}: is not a Worker name", config_name(config.as_ref())),
                )
            })?,
            _ => worker_name(i)?,
        };
        let date = match (i.get(Key::CompatibilityDate), file.and_then(|f| f.compatibility_date.as_ref())) {
            (None, Some((d, _, _))) => d.clone(),
            _ => i
                .require(
                    Key::CompatibilityDate,
                    "set it (or `compatibility_date` in the wrangler configuration) to the date your Worker was written against, e.g. 2026-11-01",
                )?
                .to_owned(),
        };
        if !rules::date(&date) {
            return Err(InputError::new(Key::CompatibilityDate, "must be a date that exists, written YYYY-MM-DD"));
        }
        let flags: Vec<String> =
            match (i.get(Key::CompatibilityFlags), file.and_then(|f| f.compatibility_flags.as_ref())) {
                (None, Some(f)) => f.clone(),
                (given, _) => given
                    .unwrap_or("")
                    .split([',', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            };
        if flags.iter().any(|f| !f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
            return Err(InputError::new(
                Key::CompatibilityFlags,
                "has a flag that is not a word of letters, digits and `_`",
            ));
        }
        let allow_unknown = i.bool(Key::AllowUnknownBindings, false)?;
        let mut bindings = bindings::parse(i.get(Key::Bindings), i.get(Key::Vars), i.get(Key::Secrets), allow_unknown)?;
        if let Some(f) = file {
            // The inputs win by binding name: the file's binding of that name is not sent.
            let given: Vec<String> = bindings.described().into_iter().map(|(n, _)| n).collect();
            let mut merged: Vec<serde_json::Value> =
                f.bindings.iter().filter(|b| !given.iter().any(|n| b["name"] == n.as_str())).cloned().collect();
            merged.append(&mut bindings.list);
            bindings.list = merged;
        }
        let assets = assets_spec(i, &mut bindings.list, file.and_then(|f| f.assets.clone()))?;
        let keep = match i.get(Key::KeepBindings) {
            None => Keep::Auto,
            Some(v) => Keep::parse(v)
                .ok_or_else(|| InputError::new(Key::KeepBindings, "must be `auto`, `secrets`, `all` or `none`"))?,
        };
        let optional_bool = |k: Key| -> Result<Option<bool>, InputError> {
            i.get(k)
                .map(|v| rules::boolean(v).ok_or_else(|| InputError::new(k, "must be `true` or `false`")))
                .transpose()
        };
        let (workers_dev, preview_urls) = (
            optional_bool(Key::WorkersDev)?.or(file.and_then(|f| f.workers_dev)),
            optional_bool(Key::PreviewUrls)?.or(file.and_then(|f| f.preview_urls)),
        );
        let tag = match i.get(Key::Tag) {
            Some(t) if t.len() > 100 => {
                return Err(InputError::new(
                    Key::Tag,
                    "is longer than 100 bytes, the limit of the `workers/tag` annotation",
                ));
            }
            other => other.map(str::to_owned),
        };
        let deploy = match i.get(Key::Deploy) {
            None => None,
            Some(v) => match rules::boolean(v) {
                Some(false) => None,
                Some(true) => Some(100.0),
                None => Some(rules::percentage(v).ok_or_else(|| {
                    InputError::new(Key::Deploy, "must be `false`, `true` or a percentage above 0 and at most 100")
                })?),
            },
        };
        let main = match (&config, file.and_then(|f| f.main.as_ref())) {
            (Some(c), Some(m)) => Some(checked_main(c, m, i.get(Key::Dir).is_some())?),
            _ => None,
        };
        let (dir, main_from_file) = match (i.path(Key::Dir), &main) {
            (Some(d), Some(m)) => {
                // `main` inside the given `dir` names the main module there; elsewhere it does
                // not apply.
                let rel = m.canonicalize().ok().zip(d.canonicalize().ok()).and_then(|(m, d)| {
                    let r = m.strip_prefix(d).ok()?;
                    Some(r.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
                });
                if rel.is_none() {
                    config_warnings.push(format!(
                        "main: `{}` is not inside the `dir` input's directory; the main module is found in `dir` instead",
                        m.display()
                    ));
                }
                (d, rel)
            }
            (Some(d), None) => (d, None),
            (None, Some(m)) => (
                m.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf(),
                m.file_name().map(|n| n.to_string_lossy().into_owned()),
            ),
            (None, None) => (PathBuf::from("dist"), None),
        };
        // Assets-only (no code): assets without `dir`, `main_module` or the file's `main`, as
        // wrangler's configuration without `main` (additions §A.8).
        let assets_only =
            assets.is_some() && i.get(Key::Dir).is_none() && i.get(Key::MainModule).is_none() && main.is_none();
        let (modules, skipped, main_module) = if assets_only {
            (Vec::new(), Vec::new(), None)
        } else {
            let exclude = bundle::exclude_set(i.get(Key::Exclude))?;
            let bundle::Scan { modules, skipped } = bundle::scan(&dir, &exclude)?;
            let main_module = bundle::main_module(&modules, i.get(Key::MainModule).or(main_from_file.as_deref()))?;
            (modules, skipped, Some(main_module))
        };
        let config_file = config.as_ref().map(|c| (c.file.clone(), i.get(Key::Environment).map(str::to_owned)));
        let (placement, limits, migrations) = match config {
            Some(c) => {
                config_warnings.extend(c.mapped.warnings);
                (c.mapped.placement, c.mapped.limits, c.mapped.migrations)
            }
            None => (None, None, Vec::new()),
        };
        Ok(VersionArgs {
            worker,
            dir,
            modules,
            main_module,
            compatibility_date: date,
            compatibility_flags: flags,
            bindings,
            keep,
            skipped,
            message: message(i)?,
            tag,
            create_worker: i.bool(Key::CreateWorker, false)?,
            workers_dev,
            preview_urls,
            deploy,
            assets,
            placement,
            limits,
            migrations,
            config_file,
            config_warnings,
        })
    }

    /// What `preview` with `preview_action: delete` reads: the Worker alone (no code).
    fn for_delete(i: &Inputs) -> Result<VersionArgs, InputError> {
        Ok(VersionArgs {
            worker: worker_name(i)?,
            dir: PathBuf::new(),
            modules: Vec::new(),
            main_module: None,
            compatibility_date: String::new(),
            compatibility_flags: Vec::new(),
            bindings: Bindings::default(),
            keep: Keep::Auto,
            skipped: Vec::new(),
            message: None,
            tag: None,
            create_worker: false,
            workers_dev: None,
            preview_urls: None,
            deploy: None,
            assets: None,
            placement: None,
            limits: None,
            migrations: Vec::new(),
            config_file: None,
            config_warnings: Vec::new(),
        })
    }

    /// Values to mask before anything prints.
    pub fn secrets(&self) -> &[String] {
        &self.bindings.secret_values
    }
}

/// `preview`: what `version` uploads, pointed at a Preview instead of a Version.
#[derive(Debug)]
pub struct PreviewArgs {
    pub version: VersionArgs,
    pub name: PreviewName,
    pub action: PreviewAction,
    /// `workers/commit_sha` (`commit`, which defaults to the PR head or `GITHUB_SHA`).
    pub commit: Option<String>,
    /// Other `workers/*` annotations from the CI context (additions §B.5, §B.9 step 7).
    pub annotations: BTreeMap<&'static str, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewAction {
    Deploy,
    Delete,
}

/// The Preview's name, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewName {
    pub name: String,
    /// `Some((variable, original))` when derived from the branch, with the original when it had
    /// to be changed to fit the pattern.
    pub derived: Option<(&'static str, Option<String>)>,
}

/// The most a Preview name may have (additions §B.2).
const PREVIEW_NAME_LIMIT: usize = 256;

fn preview_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_/.+=".contains(c)
}

/// Cloudflare's pattern `^[a-zA-Z0-9]([a-zA-Z0-9\-_/.+=]*[a-zA-Z0-9])?$`, at most 256 (§B.2).
pub fn valid_preview_name(n: &str) -> bool {
    n.len() <= PREVIEW_NAME_LIMIT
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
        && n.chars().all(preview_name_char)
}

/// A branch made into a valid name: every other character becomes `-`, the ends are trimmed to
/// letters and digits, and the result cut to 256. `None` when nothing is left.
pub fn preview_name_from_branch(branch: &str) -> Option<String> {
    let mapped: String = branch.chars().map(|c| if preview_name_char(c) { c } else { '-' }).collect();
    let trim = |s: &str| s.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_owned();
    let mut name = trim(&mapped);
    if name.len() > PREVIEW_NAME_LIMIT {
        name = trim(&name[..PREVIEW_NAME_LIMIT]);
    }
    (!name.is_empty()).then_some(name)
}

/// Where wrangler finds the branch (additions §B.9 step 2), in its order.
const BRANCH_VARIABLES: [&str; 4] = ["WORKERS_CI_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"];

impl PreviewArgs {
    pub fn from_inputs(i: &Inputs, env: &dyn Fn(&str) -> Option<String>) -> Result<PreviewArgs, InputError> {
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
            let v = VersionArgs::from_inputs(i)?;
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

#[derive(Debug)]
pub struct DeployArgs {
    /// A name, or a beta-API id (which has a name's shape); the API resolves either.
    pub worker: WorkerName,
    pub target: Target,
    pub message: Option<String>,
    pub force: bool,
}

#[derive(Debug, PartialEq)]
pub enum Target {
    Split(Vec<DeploymentVersion>),
    Rollback,
}

impl DeployArgs {
    pub fn from_inputs(i: &Inputs) -> Result<DeployArgs, InputError> {
        let rollback = i.bool(Key::Rollback, false)?;
        let target = match (i.get(Key::Versions), rollback) {
            (Some(_), true) => {
                return Err(InputError::new(
                    Key::Versions,
                    "cannot be combined with `rollback: true`; use one or the other",
                ));
            }
            (None, true) => Target::Rollback,
            (Some(v), false) => Target::Split(parse_versions(v)?),
            (None, false) => {
                return Err(InputError::new(
                    Key::Versions,
                    format!(
                        "is required for `deploy` (e.g. `<version id>` or `<new id>@10, <old id>@90`), unless {}",
                        hint::set(Key::Rollback, "true")
                    ),
                ));
            }
        };
        Ok(DeployArgs { worker: worker_name(i)?, target, message: message(i)?, force: i.bool(Key::Force, false)? })
    }
}

/// `ID[@PERCENT]` items; one without a percentage takes what the other leaves.
pub fn parse_versions(text: &str) -> Result<Vec<DeploymentVersion>, InputError> {
    let bad = |problem: &str| InputError::new(Key::Versions, problem);
    let items: Vec<&str> = text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if items.is_empty() || items.len() > 2 {
        return Err(bad("must list one or two versions (a deployment splits traffic between at most two)"));
    }
    let mut parsed: Vec<(VersionId, Option<f64>)> = Vec::new();
    for item in &items {
        let (id, pct) = match item.split_once('@') {
            Some((id, p)) => (
                id.trim(),
                Some(
                    rules::percentage(p)
                        .ok_or_else(|| bad("has a percentage that is not a number above 0 and at most 100"))?,
                ),
            ),
            None => (item.trim(), None),
        };
        let id = VersionId::parse(id)
            .map_err(|_| bad("has an item that is not a version id (a UUID, as in the `version_id` output)"))?;
        parsed.push((id, pct));
    }
    if parsed.len() == 2 && parsed[0].0 == parsed[1].0 {
        return Err(bad("lists the same version twice"));
    }
    let given: f64 = parsed.iter().filter_map(|(_, p)| *p).sum();
    let missing = parsed.iter().filter(|(_, p)| p.is_none()).count();
    let out: Vec<DeploymentVersion> = match missing {
        0 => parsed
            .into_iter()
            .map(|(id, p)| DeploymentVersion { version_id: id, percentage: p.unwrap_or_default() })
            .collect(),
        1 if given < 100.0 || parsed.len() == 1 => parsed
            .into_iter()
            .map(|(id, p)| DeploymentVersion { version_id: id, percentage: p.unwrap_or(100.0 - given) })
            .collect(),
        _ => return Err(bad("needs a percentage on each version when there are two, e.g. `<new>@10, <old>@90`")),
    };
    let total: f64 = out.iter().map(|v| v.percentage).sum();
    if (total - 100.0).abs() > 1e-9 {
        return Err(bad("has percentages that do not add up to 100"));
    }
    Ok(out)
}

/// `github_token` and where it goes: the API (`github_api_url`, by default the runner's
/// `GITHUB_API_URL`, GHES included) and the repository (`GITHUB_REPOSITORY`, from the runner).
pub struct GitHubArgs {
    pub token: String,
    pub required: bool,
    pub api_url: reqwest::Url,
    /// `None` outside GitHub Actions: reported as a warning (or an error with `github_required`).
    pub repository: Option<crate::github::Repository>,
}

impl GitHubArgs {
    /// `None` when no `github_token` is given: the GitHub side is off.
    pub fn from_inputs(i: &Inputs, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<GitHubArgs>, InputError> {
        let required = i.bool(Key::GithubRequired, false)?;
        let Some(token) = i.get(Key::GithubToken) else {
            if required {
                return Err(InputError::new(
                    Key::GithubToken,
                    "is required when `github_required` is true; pass `github_token: ${{ github.token }}`",
                ));
            }
            return Ok(None);
        };
        if token.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) || token.contains(char::is_whitespace) {
            return Err(InputError::new(
                Key::GithubToken,
                "must be the token alone (no `Bearer ` prefix, no spaces or line breaks)",
            ));
        }
        let raw = i.get(Key::GithubApiUrl).map(str::to_owned);
        let api_url =
            reqwest::Url::parse(raw.as_deref().unwrap_or("https://api.github.com").trim().trim_end_matches('/'))
                .ok()
                .filter(crate::inputs::rules::https_or_loopback)
                .filter(|u| u.query().is_none() && u.fragment().is_none())
                .ok_or_else(|| {
                    InputError::new(
                        Key::GithubApiUrl,
                        "must be an https URL (https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise \
                     Server; plain http only to 127.0.0.1 or localhost)",
                    )
                })?;
        let repository = match env("GITHUB_REPOSITORY").filter(|v| !v.trim().is_empty()) {
            Some(r) => Some(crate::github::Repository::parse(r.trim()).ok_or_else(|| {
                InputError::new(Key::GithubToken, "cannot be used: GITHUB_REPOSITORY is not `owner/name`")
            })?),
            None if required => {
                return Err(InputError::new(
                    Key::GithubToken,
                    "cannot be used outside GitHub Actions: GITHUB_REPOSITORY (`owner/name`) is not set",
                ));
            }
            None => None,
        };
        Ok(Some(GitHubArgs { token: token.to_owned(), required, api_url, repository }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "11111111-1111-4111-8111-111111111111";
    const B: &str = "22222222-2222-4222-8222-222222222222";

    #[test]
    fn version_lists() {
        let one = parse_versions(A).unwrap();
        assert_eq!(one, vec![DeploymentVersion { version_id: VersionId::parse(A).unwrap(), percentage: 100.0 }]);
        let two = parse_versions(&format!("{A}@10,\n{B}@90")).unwrap();
        assert_eq!(two[1].percentage, 90.0);
        let implied = parse_versions(&format!("{A}@12.5, {B}")).unwrap();
        assert_eq!(implied[1].percentage, 87.5);
        for bad in [
            String::new(),
            format!("{A}@50"),
            format!("{A}@10,{B}@80"),
            format!("{A}@0,{B}@100"),
            format!("{A}@101"),
            format!("{A},{B}"),
            format!("{A}@50,{A}@50"),
            format!("{A}@50,{B}@25,{B}@25"),
            "not-a-uuid".into(),
            format!("{A}@1.234,{B}"),
        ] {
            let e = parse_versions(&bad).unwrap_err();
            assert_eq!(e.input(), "versions", "{bad}");
        }
    }

    #[test]
    fn command_from_argument_input_or_default() {
        let mut i = Inputs::default();
        assert_eq!(command(None, &i), Ok(Command::Build));
        i.set(Key::Command, "wait");
        assert_eq!(command(None, &i), Ok(Command::Wait));
        assert_eq!(command(Some(Command::Deploy), &i), Ok(Command::Deploy));
        i.set(Key::Command, "deploy-everything");
        assert_eq!(command(None, &i).unwrap_err().input(), "command");
    }

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

    #[test]
    fn impossible_compatibility_dates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.js"), "export default {}").unwrap();
        let mut i = Inputs::default();
        i.set(Key::Worker, "w");
        i.set(Key::Dir, &dir.path().to_string_lossy());
        i.set(Key::CompatibilityDate, "2026-02-31");
        let e = VersionArgs::from_inputs(&i).unwrap_err();
        assert_eq!(e.input(), "compatibility_date");
        i.set(Key::CompatibilityDate, "2026-02-28");
        assert!(VersionArgs::from_inputs(&i).is_ok());
    }
}

//! Each command's typed arguments, built from the inputs before any request is sent: once one
//! of these exists, every value in it has passed its rule.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{InputError, Inputs, Key, hint, rules};
use crate::ci::outputs::FileFormat;
use crate::cloudflare::WorkerName;
use crate::commands::Command;
use crate::flows::builds::Workers;

pub(crate) const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";

/// Inputs every command shares.
pub(crate) struct Common {
    pub token: String,
    pub account_id: String,
    pub api_url: reqwest::Url,
    pub timeout: Duration,
    pub output_file: Option<(PathBuf, FileFormat)>,
    pub summary_file: Option<PathBuf>,
}

impl Common {
    /// `credentials`: whether the run needs them. A dry run of an upload (`dry_run: true`)
    /// sends no request, so it takes neither a token nor an account (a fork's pull request
    /// gets no secrets); either is still checked when given.
    pub(crate) fn from_inputs(i: &Inputs, credentials: bool) -> Result<Common, InputError> {
        let token = if credentials {
            i.require(Key::ApiToken, match hint::syntax() {
                hint::Syntax::Action => {
                    "pass a Cloudflare API token as `api_token: ${{ secrets.CLOUDFLARE_API_TOKEN }}` (a repository secret)"
                }
                hint::Syntax::Cli => {
                    "set the CLOUDFLARE_API_TOKEN environment variable (or `--api-token`, though a flag can be seen by other users of this machine)"
                }
            })?
            .to_owned()
        } else {
            i.get(Key::ApiToken).unwrap_or_default().to_owned()
        };
        // Pasted from an `Authorization:` header: we add the scheme ourselves.
        if token.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) {
            return Err(InputError::new(
                Key::ApiToken,
                "starts with `Bearer `: pass the token alone, without the `Bearer ` prefix (workers-ci sends the header itself)",
            ));
        }
        let account_id = match i.get(Key::AccountId) {
            None if !credentials => "",
            _ => i.require(
                Key::AccountId,
                &format!("pass the account id as {} or CLOUDFLARE_ACCOUNT_ID", hint::input(Key::AccountId)),
            )?,
        };
        if (credentials || !account_id.is_empty()) && !rules::account_id(account_id) {
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
        let summary_file = match i.path(Key::SummaryFile) {
            Some(p) if !p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).is_dir() => {
                return Err(InputError::new(
                    Key::SummaryFile,
                    "is in a directory that does not exist; create it first",
                ));
            }
            p => p,
        };
        Ok(Common {
            token,
            account_id: account_id.to_ascii_lowercase(),
            api_url,
            timeout: i.duration(Key::Timeout, Duration::from_secs(30 * 60))?,
            output_file,
            summary_file,
        })
    }
}

/// The command: the first argument, else the `command` input, else `build`.
pub(crate) fn command(positional: Option<Command>, i: &Inputs) -> Result<Command, InputError> {
    match (positional, i.get(Key::Command)) {
        (Some(c), _) => Ok(c),
        (None, None) => Ok(Command::Build),
        (None, Some(c)) => Command::parse(c).ok_or_else(|| {
            InputError::new(
                Key::Command,
                "must be `build`, `wait`, `version`, `deploy`, `setup`, `env`, `purge-cache`, `redeploy`, `preview` or `verify`",
            )
        }),
    }
}

/// `worker` for the one-Worker commands of Builds (`env`, `purge-cache`, `redeploy`): a name,
/// or the 32-hex tag Builds keys Workers by.
pub(crate) fn worker_or_tag(i: &Inputs) -> Result<String, InputError> {
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
/// checked as one; a name given twice counts once. `*` stands for every Worker of the account.
pub(crate) fn workers_or_tags(i: &Inputs) -> Result<Workers, InputError> {
    let w = i.require(Key::Worker, "set it to the Worker's name (or its 32-hex tag), or a list of them")?;
    if w.trim() == "*" {
        return Ok(Workers::All);
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
    Ok(Workers::Named(out))
}

/// `worker` for `version`/`deploy`: a name (or the Worker's id, which has the same shape).
pub(crate) fn worker_name(i: &Inputs) -> Result<WorkerName, InputError> {
    let w = i.require(Key::Worker, "set it to the Worker's name")?;
    WorkerName::parse(w).map_err(|_| {
        InputError::new(
            Key::Worker,
            "is not a Worker name or id (lowercase letters, digits, `-` and `_`, at most 63 characters)",
        )
    })
}

pub(crate) fn branch(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get(Key::Branch) {
        Some(b) if !rules::branch(b) => Err(InputError::new(Key::Branch, "is not a valid branch name")),
        other => Ok(other.map(str::to_owned)),
    }
}

pub(crate) fn commit(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get(Key::Commit) {
        Some(c) if !rules::commit(c) => {
            Err(InputError::new(Key::Commit, "is not a commit hash (7 to 64 hexadecimal characters)"))
        }
        other => Ok(other.map(str::to_ascii_lowercase)),
    }
}

/// `build` pins the exact commit, and Workers Builds' `commit_hash` is documented only as a
/// full hash (docs/cloudflare-api.md §3.3; whether a prefix works is an open question, §G-21): a
/// short one is resolved by the repository in the working directory, or refused before any request.
pub(crate) fn full_commit(c: &str) -> Result<String, InputError> {
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

pub(crate) fn message(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get(Key::Message) {
        Some(m) if m.len() > 1000 => Err(InputError::new(
            Key::Message,
            "is longer than 1000 bytes, the limit of the `workers/message` annotation",
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

/// `github_token` and where it goes: the API (`github_api_url`, by default the runner's
/// `GITHUB_API_URL`, GHES included) and the repository (`GITHUB_REPOSITORY`, from the runner).
pub(crate) struct GitHubArgs {
    pub token: String,
    pub required: bool,
    pub api_url: reqwest::Url,
    /// `None` outside GitHub Actions: reported as a warning (or an error with `github_required`).
    pub repository: Option<crate::github_api::Repository>,
}

impl GitHubArgs {
    /// `None` when no `github_token` is given: the GitHub side is off.
    pub(crate) fn from_inputs(
        i: &Inputs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<GitHubArgs>, InputError> {
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
            Some(r) => Some(crate::github_api::Repository::parse(r.trim()).ok_or_else(|| {
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
}

//! The GitHub Actions context: what the runner tells a step through its environment and event
//! payload, and where the step hands back its outputs and summary.

use std::path::{Path, PathBuf};

use super::console::Console;
use super::outputs::{FileFormat, Outputs};
use super::summary::Summary;

/// GitHub's notion of "this branch" and "this commit", for inputs left unset.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Context {
    pub branch: Option<String>,
    pub commit: Option<String>,
}

impl Context {
    /// On `pull_request` events `GITHUB_SHA` is a merge commit Cloudflare never saw, so the PR
    /// head is read from the event payload; `GITHUB_HEAD_REF` is the PR's branch. On
    /// `merge_group` events the payload's `merge_group.head_sha` and `head_ref` name the queue's
    /// commit and its temporary branch (`gh-readonly-queue/<base>/…`), the one Workers Builds
    /// sees pushed; never the base branch, whose production trigger would deploy an unmerged
    /// commit (docs/github-actions.md §4.1).
    pub(crate) fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Context {
        let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let event = match env("GITHUB_EVENT_NAME").as_deref() {
            Some("pull_request" | "pull_request_target" | "merge_group") => env("GITHUB_EVENT_PATH")
                .and_then(|p| std::fs::read(p).ok())
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok()),
            _ => None,
        };
        let text = |pointer: &str| event.as_ref()?.pointer(pointer)?.as_str().map(str::to_owned);
        let queue_branch =
            text("/merge_group/head_ref").map(|r| r.strip_prefix("refs/heads/").unwrap_or(&r).to_owned());
        let branch = set(queue_branch).or_else(|| set(env("GITHUB_HEAD_REF"))).or_else(|| set(env("GITHUB_REF_NAME")));
        let head = text("/pull_request/head/sha").or_else(|| text("/merge_group/head_sha"));
        let commit = set(head).or_else(|| set(env("GITHUB_SHA")));
        Context { branch, commit }
    }
}

/// Whether this run checks a merge queue's group (`merge_group` event): a commit that is not
/// on any pull request or branch anyone keeps, so it gets no comment, no Preview and no GitHub
/// Deployment (docs/github-actions.md §4.1).
pub(crate) fn is_merge_group(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("GITHUB_EVENT_NAME").as_deref() == Some("merge_group")
}

/// The pull request's number on `pull_request` events, from the event payload: where the
/// comment goes. `None` on every other event (a push has no pull request to comment on).
pub(crate) fn pr_number(env: &dyn Fn(&str) -> Option<String>) -> Option<u64> {
    if !matches!(env("GITHUB_EVENT_NAME").as_deref(), Some("pull_request" | "pull_request_target")) {
        return None;
    }
    let bytes = std::fs::read(env("GITHUB_EVENT_PATH")?).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.pointer("/pull_request/number").or_else(|| v.get("number"))?.as_u64()
}

/// This workflow run's page and the repository's, from the runner's variables.
pub(crate) fn run_urls(env: &dyn Fn(&str) -> Option<String>) -> (Option<String>, Option<String>) {
    let set = |k| env(k).filter(|v: &String| !v.trim().is_empty());
    match (set("GITHUB_SERVER_URL"), set("GITHUB_REPOSITORY")) {
        (Some(server), Some(repo)) => {
            let repo_url = format!("{}/{repo}", server.trim_end_matches('/'));
            let run = set("GITHUB_RUN_ID").map(|id| format!("{repo_url}/actions/runs/{id}"));
            (run, Some(repo_url))
        }
        _ => (None, None),
    }
}

/// The pull request's head commit from a webhook event payload (untrusted bytes).
pub fn pr_head_sha(event: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(event).ok()?;
    v.pointer("/pull_request/head/sha")?.as_str().map(str::to_owned)
}

/// A commit for the job summary: linked to its page on GitHub when it is this workflow run's
/// own commit (the repository and server are then known), plain otherwise: a commit of another
/// repository would link to a page that does not exist.
pub(crate) fn commit_markdown(sha: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let ours = Context::from_env(env).commit.is_some_and(|c| c.eq_ignore_ascii_case(sha));
    match (ours, env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY")) {
        (true, Some(server), Some(repo)) if !server.is_empty() && !repo.is_empty() => {
            format!("[{sha}]({}/{repo}/commit/{sha})", server.trim_end_matches('/'))
        }
        _ => sha.to_owned(),
    }
}

/// A file the step's results could not be written to.
#[derive(Debug)]
pub(crate) struct WriteFailure {
    pub what: String,
    pub source: std::io::Error,
}

/// Hands the step's results to the pipeline. On GitHub: the outputs file and the step summary
/// (a summary that cannot be written is a warning: the outputs matter more). Elsewhere: the
/// outputs listed on stdout. Both: `output_file` and `summary_file` when asked (the summary
/// file is how a CI system without a step summary, Buildkite's annotations for one, gets it).
pub(crate) fn write_results(
    console: &Console,
    outputs: &Outputs,
    summary: &Summary,
    output_file: Option<&(PathBuf, FileFormat)>,
    summary_file: Option<&Path>,
) -> Vec<WriteFailure> {
    let mut failed = Vec::new();
    if console.is_github() {
        if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty())
            && let Err(source) = outputs.append_github(Path::new(&path))
        {
            failed.push(WriteFailure { what: "the outputs file ($GITHUB_OUTPUT)".into(), source });
        }
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
            && !summary.is_empty()
            && let Err(e) = summary.append_to(Path::new(&path))
        {
            console.warning(&format!("could not write the job summary: {e}"));
        }
    } else if !outputs.is_empty() {
        console.product(outputs.render_plain().trim_end());
    }
    if let Some((path, format)) = output_file {
        match outputs.write_file(path, *format) {
            Ok(left_out) => {
                for l in left_out {
                    console.warning(&format!(
                        "output `{}` is not in {}: {}; write `output_file` as `.json` to get it",
                        l.name,
                        path.display(),
                        l.why
                    ));
                }
            }
            Err(source) => failed.push(WriteFailure { what: format!("`output_file` {}", path.display()), source }),
        }
    }
    if let Some(path) = summary_file
        && let Err(source) = summary.write_whole(path)
    {
        failed.push(WriteFailure { what: format!("`summary_file` {}", path.display()), source });
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_head_comes_from_the_event() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(&event, r#"{"pull_request":{"head":{"sha":"abcdef1"}}}"#).unwrap();
        let event = event.to_string_lossy().into_owned();
        let env = move |k: &str| match k {
            "GITHUB_EVENT_NAME" => Some("pull_request".to_owned()),
            "GITHUB_EVENT_PATH" => Some(event.clone()),
            "GITHUB_SHA" => Some("merge-commit".to_owned()),
            "GITHUB_HEAD_REF" => Some("feature/x".to_owned()),
            "GITHUB_REF_NAME" => Some("12/merge".to_owned()),
            _ => None,
        };
        let c = Context::from_env(&env);
        assert_eq!(c, Context { branch: Some("feature/x".into()), commit: Some("abcdef1".into()) });
    }

    #[test]
    fn merge_group_commit_and_branch_come_from_the_event() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        std::fs::write(
            &event,
            r#"{"merge_group":{"head_sha":"abc1","head_ref":"refs/heads/gh-readonly-queue/main/pr-7-abc1","base_ref":"refs/heads/main"}}"#,
        )
        .unwrap();
        let event = event.to_string_lossy().into_owned();
        let env = move |k: &str| match k {
            "GITHUB_EVENT_NAME" => Some("merge_group".to_owned()),
            "GITHUB_EVENT_PATH" => Some(event.clone()),
            "GITHUB_HEAD_REF" => Some(String::new()),
            _ => None,
        };
        let c = Context::from_env(&env);
        assert_eq!(c, Context { branch: Some("gh-readonly-queue/main/pr-7-abc1".into()), commit: Some("abc1".into()) });
        assert!(is_merge_group(&env));
        assert_eq!(pr_number(&env), None);
    }

    #[test]
    fn push_events_use_ref_and_sha() {
        let env = |k: &str| match k {
            "GITHUB_EVENT_NAME" => Some("push".to_owned()),
            "GITHUB_SHA" => Some("abc".to_owned()),
            "GITHUB_HEAD_REF" => Some(String::new()),
            "GITHUB_REF_NAME" => Some("main".to_owned()),
            _ => None,
        };
        assert_eq!(Context::from_env(&env), Context { branch: Some("main".into()), commit: Some("abc".into()) });
    }

    #[test]
    fn only_this_runs_commit_is_linked() {
        let env = |k: &str| match k {
            "GITHUB_SHA" => Some("abc123".to_owned()),
            "GITHUB_SERVER_URL" => Some("https://github.example.com/".to_owned()),
            "GITHUB_REPOSITORY" => Some("acme/site".to_owned()),
            _ => None,
        };
        assert_eq!(commit_markdown("abc123", &env), "[abc123](https://github.example.com/acme/site/commit/abc123)");
        assert_eq!(commit_markdown("def456", &env), "def456");
        assert_eq!(commit_markdown("abc123", &|_: &str| None), "abc123");
    }

    #[test]
    fn hostile_event_payloads_yield_nothing() {
        for bad in [&b"not json"[..], b"{}", br#"{"pull_request":{"head":{"sha":7}}}"#, b"\xff\xfe"] {
            assert_eq!(pr_head_sha(bad), None);
        }
    }
}

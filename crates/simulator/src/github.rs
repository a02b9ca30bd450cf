//! A small imitation of GitHub's REST API: the issue comments, deployments, deployment
//! statuses and commit statuses workers-ci writes to. Served under `/api/v3/` (GitHub Enterprise Server's prefix,
//! so a client that honours `GITHUB_API_URL` is what passes) when `SimConfig::github` is set.
//!
//! Sources (docs.github.com, API version 2022-11-28), cited per behaviour as [comments],
//! [deployments], [statuses], [pagination], [troubleshooting]:
//! - [comments] /en/rest/issues/comments
//! - [deployments] /en/rest/deployments/deployments
//! - [statuses] /en/rest/deployments/statuses
//! - [commit-statuses] /en/rest/commits/statuses, with the limits of docs/github-actions.md §6.1
//! - [pagination] /en/rest/using-the-rest-api/using-pagination-in-the-rest-api
//! - [troubleshooting] /en/rest/using-the-rest-api/troubleshooting-the-rest-api
//!
//! Choices no source settles are marked `INFERRED` and listed in `docs/api-assumptions.md`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Prefix of every GitHub route: GHES serves its REST API at `https://HOST/api/v3`.
pub const PREFIX: &str = "/api/v3";

/// What one token may do. GitHub's fine-grained permissions, the ones these endpoints check.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TokenPermissions {
    /// `none`, `read` or `write`.
    pub issues: Access,
    pub pull_requests: Access,
    pub deployments: Access,
    /// Commit statuses (`statuses: write` in a workflow's `permissions:`): none by default, as a
    /// workflow that asks only for `pull-requests` and `deployments` gets.
    pub statuses: Access,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    #[default]
    None,
    Read,
    Write,
}

/// The simulated repository and the tokens that may use it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitHubConfig {
    /// `owner/name`.
    pub repository: String,
    /// Numeric id, used by the `Link` URLs GitHub writes (`/repositories/{id}/…`).
    pub repository_id: u64,
    /// Token → permissions. Any other token is `401 Bad credentials`.
    pub tokens: HashMap<String, TokenPermissions>,
    /// Open pull requests (their numbers are issue numbers too).
    pub pull_requests: Vec<u64>,
    /// Plain issues.
    pub issues: Vec<u64>,
    /// The user id of `github-actions[bot]`, the author of everything a workflow's
    /// `GITHUB_TOKEN` writes: 41898282 on github.com, another id on each GitHub Enterprise
    /// Server (docs/github-actions.md §3.1).
    pub bot_user_id: u64,
}

/// The login every token of the simulated repository writes as (a workflow's `GITHUB_TOKEN`).
pub const BOT_LOGIN: &str = "github-actions[bot]";
/// Someone else on the pull request, who may paste anything into a comment.
pub const OTHER_LOGIN: &str = "octocat";
const OTHER_ID: u64 = 583_231;

/// The token every default config accepts, with what a workflow's `permissions:` block of
/// `pull-requests: write` and `deployments: write` grants.
pub const DEFAULT_TOKEN: &str = "ghs_simulatedWorkflowToken";

impl Default for GitHubConfig {
    fn default() -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(
            DEFAULT_TOKEN.to_owned(),
            TokenPermissions {
                issues: Access::None,
                pull_requests: Access::Write,
                deployments: Access::Write,
                statuses: Access::None,
            },
        );
        GitHubConfig {
            repository: "acme/site".into(),
            repository_id: 1_296_269,
            tokens,
            pull_requests: vec![7],
            issues: vec![],
            bot_user_id: 41_898_282,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Comment {
    pub id: u64,
    pub issue: u64,
    /// The author: `{login, id, type}`.
    pub user: Value,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub task: String,
    pub environment: String,
    pub description: Option<String>,
    pub transient_environment: bool,
    pub production_environment: bool,
    pub payload: Value,
    pub created_at: String,
    pub statuses: Vec<Value>,
}

/// A commit status, as `POST /repos/{o}/{r}/statuses/{sha}` created it.
#[derive(Clone, Debug, Serialize)]
pub struct CommitStatus {
    pub id: u64,
    /// Lower case, as GitHub answers it.
    pub sha: String,
    pub state: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
    /// As sent; compared without case.
    pub context: String,
    pub created_at: String,
}

/// [commit-statuses]: statuses per commit and context before GitHub refuses another.
pub const STATUSES_PER_CONTEXT: usize = 1000;

/// The repository's state.
#[derive(Clone, Debug)]
pub struct Repo {
    pub config: GitHubConfig,
    pub comments: Vec<Comment>,
    pub deployments: Vec<Deployment>,
    /// Oldest first.
    pub statuses: Vec<CommitStatus>,
    next_id: u64,
}

impl Repo {
    pub fn new(config: GitHubConfig) -> Repo {
        Repo { config, comments: Vec::new(), deployments: Vec::new(), statuses: Vec::new(), next_id: 1000 }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a comment as another user would (for tests: a busy pull request, or a planted
    /// marker).
    pub fn seed_comment(&mut self, issue: u64, body: &str) -> u64 {
        self.add_comment(issue, body, json!({"login": OTHER_LOGIN, "id": OTHER_ID, "type": "User"}))
    }

    /// Adds a comment as the workflow's token would: by `github-actions[bot]`.
    pub fn bot_comment(&mut self, issue: u64, body: &str) -> u64 {
        let user = self.bot_user();
        self.add_comment(issue, body, user)
    }

    fn bot_user(&self) -> Value {
        json!({"login": BOT_LOGIN, "id": self.config.bot_user_id, "type": "Bot"})
    }

    fn add_comment(&mut self, issue: u64, body: &str, user: Value) -> u64 {
        let id = self.id();
        let now = crate::time::now();
        self.comments.push(Comment {
            id,
            issue,
            user,
            body: body.to_owned(),
            created_at: now.clone(),
            updated_at: now,
        });
        id
    }

    fn comment_json(&self, c: &Comment, base: &str) -> Value {
        json!({
            "id": c.id,
            "node_id": format!("IC_sim{}", c.id),
            "url": format!("{base}/repos/{}/issues/comments/{}", self.config.repository, c.id),
            "html_url": format!("https://github.com/{}/pull/{}#issuecomment-{}", self.config.repository, c.issue, c.id),
            "issue_url": format!("{base}/repos/{}/issues/{}", self.config.repository, c.issue),
            "body": c.body,
            "user": c.user,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": "NONE",
        })
    }

    fn deployment_json(&self, d: &Deployment, base: &str) -> Value {
        json!({
            "id": d.id,
            "node_id": format!("DE_sim{}", d.id),
            "url": format!("{base}/repos/{}/deployments/{}", self.config.repository, d.id),
            "sha": d.sha,
            "ref": d.git_ref,
            "task": d.task,
            "payload": d.payload,
            "original_environment": d.environment,
            "environment": d.environment,
            "description": d.description,
            "creator": {"login": "github-actions[bot]", "type": "Bot"},
            "created_at": d.created_at,
            "updated_at": d.created_at,
            "statuses_url": format!("{base}/repos/{}/deployments/{}/statuses", self.config.repository, d.id),
            "transient_environment": d.transient_environment,
            "production_environment": d.production_environment,
        })
    }
}

/// One request, as the GitHub routes see it.
pub struct Req<'a> {
    pub method: &'a str,
    /// After [`PREFIX`].
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
    /// `Authorization` as sent.
    pub auth: Option<&'a str>,
    /// `scheme://host` + [`PREFIX`] as the client reached us, for the URLs in answers.
    pub base: String,
}

/// A GitHub answer: status, extra headers, JSON body.
pub type Answer = (u16, Vec<(&'static str, String)>, Value);

/// GitHub's error body [troubleshooting]: `message`, `documentation_url`, and `status` as a
/// string (seen on every current error answer; INFERRED that clients must not rely on it).
pub fn error(status: u16, message: &str, doc: &str) -> Value {
    json!({ "message": message, "documentation_url": doc, "status": status.to_string() })
}

fn fail(status: u16, message: &str, doc: &str) -> Answer {
    (status, Vec::new(), error(status, message, doc))
}

const DOC_COMMENTS: &str = "https://docs.github.com/rest/issues/comments";
const DOC_DEPLOYMENTS: &str = "https://docs.github.com/rest/deployments/deployments";
const DOC_STATUSES: &str = "https://docs.github.com/rest/deployments/statuses";
const DOC_COMMIT_STATUSES: &str = "https://docs.github.com/rest/commits/statuses";
const DOC_USERS: &str = "https://docs.github.com/rest/users/users";

fn not_found() -> Answer {
    fail(404, "Not Found", "https://docs.github.com/rest")
}

/// Answers a request under [`PREFIX`].
pub fn handle(repo: &mut Repo, req: &Req<'_>) -> Answer {
    let perms = match authenticate(repo, req) {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let segs: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    if let Some(answer) = users(repo, req.method, &segs) {
        return answer;
    }
    // `/repos/{owner}/{repo}/…` (names compared without case, as GitHub does) or the
    // `/repositories/{id}/…` form GitHub writes in `Link` headers [pagination].
    let rest: &[&str] = match segs.as_slice() {
        ["repos", owner, name, rest @ ..]
            if format!("{owner}/{name}").eq_ignore_ascii_case(&repo.config.repository) =>
        {
            rest
        }
        ["repositories", id, rest @ ..] if id.parse::<u64>().ok() == Some(repo.config.repository_id) => rest,
        _ => return not_found(),
    };
    let query: HashMap<String, String> = form_urlencoded::parse(req.query.as_bytes()).into_owned().collect();
    if let Some(answer) = commit_statuses(repo, &perms, req, rest, &query) {
        return answer;
    }
    let body = || serde_json::from_slice::<Value>(req.body);
    match (req.method, rest) {
        ("GET", ["issues", n, "comments"]) => {
            let Some(n) = issue(repo, n) else { return not_found() };
            if !can(&perms, n, repo, Access::Read) {
                return forbidden(DOC_COMMENTS);
            }
            let list: Vec<Value> = {
                let mut cs: Vec<&Comment> = repo.comments.iter().filter(|c| c.issue == n).collect();
                // [comments] "Issue comments are ordered by ascending ID."
                cs.sort_by_key(|c| c.id);
                cs.into_iter().map(|c| repo.comment_json(c, &req.base)).collect()
            };
            let path = format!("/repositories/{}/issues/{n}/comments", repo.config.repository_id);
            page(&list, &query, &req.base, &path)
        }
        ("POST", ["issues", n, "comments"]) => {
            let Some(n) = issue(repo, n) else { return not_found() };
            if !can(&perms, n, repo, Access::Write) {
                return forbidden(DOC_COMMENTS);
            }
            let text = match comment_text(req.body) {
                Ok(t) => t,
                Err(a) => return a,
            };
            let id = repo.bot_comment(n, &text);
            let c = repo.comments.iter().find(|c| c.id == id).cloned();
            c.map_or_else(not_found, |c| (201, Vec::new(), repo.comment_json(&c, &req.base)))
        }
        ("PATCH", ["issues", "comments", id]) => {
            let Some(i) = id.parse::<u64>().ok().and_then(|id| repo.comments.iter().position(|c| c.id == id)) else {
                return not_found();
            };
            let n = repo.comments[i].issue;
            if !can(&perms, n, repo, Access::Write) {
                return forbidden(DOC_COMMENTS);
            }
            let text = match comment_text(req.body) {
                Ok(t) => t,
                Err(a) => return a,
            };
            repo.comments[i].body = text;
            repo.comments[i].updated_at = crate::time::now();
            let c = repo.comments[i].clone();
            (200, Vec::new(), repo.comment_json(&c, &req.base))
        }
        ("GET", ["deployments"]) => {
            if perms.deployments < Access::Read {
                return forbidden(DOC_DEPLOYMENTS);
            }
            list_deployments(repo, &query, &req.base)
        }
        ("POST", ["deployments"]) => {
            if perms.deployments < Access::Write {
                return forbidden(DOC_DEPLOYMENTS);
            }
            create_deployment(repo, body().ok(), &req.base)
        }
        ("GET", ["deployments", id, "statuses"]) => {
            if perms.deployments < Access::Read {
                return forbidden(DOC_STATUSES);
            }
            let Some(d) = id.parse::<u64>().ok().and_then(|id| repo.deployments.iter().find(|d| d.id == id)) else {
                return not_found();
            };
            // INFERRED: newest first, as the deployments list.
            let list: Vec<Value> = d.statuses.iter().rev().cloned().collect();
            let path = format!("/repositories/{}/deployments/{}/statuses", repo.config.repository_id, d.id);
            page(&list, &query, &req.base, &path)
        }
        ("POST", ["deployments", id, "statuses"]) => {
            if perms.deployments < Access::Write {
                return forbidden(DOC_STATUSES);
            }
            let Some(id) = id.parse::<u64>().ok().filter(|id| repo.deployments.iter().any(|d| d.id == *id)) else {
                return not_found();
            };
            create_status(repo, id, body().ok(), &req.base)
        }
        _ => not_found(),
    }
}

/// [commit-statuses]: create, list, combined; `None` for any other route.
fn commit_statuses(
    repo: &mut Repo,
    perms: &TokenPermissions,
    req: &Req<'_>,
    rest: &[&str],
    query: &HashMap<String, String>,
) -> Option<Answer> {
    let body = || serde_json::from_slice::<Value>(req.body);
    Some(match (req.method, rest) {
        ("POST", ["statuses", sha]) => {
            if perms.statuses < Access::Write {
                return Some(forbidden(DOC_COMMIT_STATUSES));
            }
            create_commit_status(repo, sha, body().ok(), &req.base)
        }
        ("GET", ["commits", git_ref, "statuses"]) => {
            if perms.statuses < Access::Read {
                return Some(forbidden(DOC_COMMIT_STATUSES));
            }
            let sha = git_ref.to_ascii_lowercase();
            // Newest first [commit-statuses]: "in reverse chronological order".
            let list: Vec<Value> = repo
                .statuses
                .iter()
                .rev()
                .filter(|s| s.sha == sha)
                .map(|s| repo.commit_status_json(s, &req.base))
                .collect();
            let path = format!("/repositories/{}/commits/{sha}/statuses", repo.config.repository_id);
            page(&list, query, &req.base, &path)
        }
        ("GET", ["commits", git_ref, "status"]) => {
            if perms.statuses < Access::Read {
                return Some(forbidden(DOC_COMMIT_STATUSES));
            }
            (200, Vec::new(), combined_status(repo, &git_ref.to_ascii_lowercase(), &req.base))
        }
        _ => return None,
    })
}

/// [users]: an installation token (a workflow's `GITHUB_TOKEN`) is not a user, so `GET /user`
/// is refused; `GET /users/{login}` is public.
fn users(repo: &Repo, method: &str, segs: &[&str]) -> Option<Answer> {
    match (method, segs) {
        ("GET", ["user"]) => Some(fail(403, "Resource not accessible by integration", DOC_USERS)),
        ("GET", ["users", login]) => {
            let login = percent_encoding::percent_decode_str(login).decode_utf8_lossy();
            Some(match login.as_ref() {
                BOT_LOGIN => (200, Vec::new(), repo.bot_user()),
                OTHER_LOGIN => (200, Vec::new(), json!({"login": OTHER_LOGIN, "id": OTHER_ID, "type": "User"})),
                _ => not_found(),
            })
        }
        _ => None,
    }
}

/// Authentication first [troubleshooting]: an unknown token is 401 "Bad credentials" whatever
/// the path; no token at all on a private repository looks like it does not exist (404) for
/// reads, and "Requires authentication" (401) for writes.
fn authenticate(repo: &Repo, req: &Req<'_>) -> Result<TokenPermissions, Answer> {
    let token = req.auth.and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("token "))).map(str::trim);
    match token {
        Some(t) => match repo.config.tokens.get(t) {
            Some(p) => Ok(p.clone()),
            None => Err(fail(401, "Bad credentials", "https://docs.github.com/rest")),
        },
        None if req.method == "GET" => Err(not_found()),
        None => Err(fail(401, "Requires authentication", "https://docs.github.com/rest")),
    }
}

/// The deployments, filtered by the query's `sha`, `ref`, `task` and `environment`.
fn list_deployments(repo: &Repo, query: &HashMap<String, String>, base: &str) -> Answer {
    let want = |k: &str, v: &str| query.get(k).is_none_or(|q| q == v);
    // INFERRED: newest first (the documented example lists one; every real listing seen is by
    // descending id).
    let list: Vec<Value> = repo
        .deployments
        .iter()
        .rev()
        .filter(|d| {
            want("sha", &d.sha)
                && want("ref", &d.git_ref)
                && want("task", &d.task)
                && want("environment", &d.environment)
        })
        .map(|d| repo.deployment_json(d, base))
        .collect();
    let path = format!("/repositories/{}/deployments", repo.config.repository_id);
    page(&list, query, base, &path)
}

fn issue(repo: &Repo, n: &str) -> Option<u64> {
    let n: u64 = n.parse().ok()?;
    (repo.config.pull_requests.contains(&n) || repo.config.issues.contains(&n)).then_some(n)
}

/// [comments], fine-grained tokens: the comment endpoints accept "Issues" or "Pull requests"
/// permission; on an issue that is not a pull request only "Issues" counts (INFERRED: the
/// docs list the two as alternatives without saying which applies where).
fn can(p: &TokenPermissions, issue: u64, repo: &Repo, need: Access) -> bool {
    p.issues >= need || (repo.config.pull_requests.contains(&issue) && p.pull_requests >= need)
}

/// A token without the permission [troubleshooting]: 403 "Resource not accessible by
/// integration" (GitHub App installation tokens, which `GITHUB_TOKEN` is).
fn forbidden(doc: &str) -> Answer {
    fail(403, "Resource not accessible by integration", doc)
}

fn invalid(message: &str, doc: &str) -> Answer {
    fail(422, &format!("Invalid request.\n\n{message}"), doc)
}

/// A comment's `body`, as a create and an edit both require it.
fn comment_text(body: &[u8]) -> Result<String, Answer> {
    let text = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b.get("body").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| invalid("\"body\" wasn't supplied.", DOC_COMMENTS))?;
    too_long(&text).map_or(Ok(text), Err)
}

/// A comment body longer than GitHub takes: 65536 characters (INFERRED from the UI's limit and
/// the API's `body is too long (maximum is 65536 characters)` validation message).
fn too_long(text: &str) -> Option<Answer> {
    (text.chars().count() > 65_536).then(|| {
        let mut e = error(422, "Validation Failed", DOC_COMMENTS);
        e["errors"] = json!([{"resource": "IssueComment", "code": "custom", "field": "body",
            "message": "body is too long (maximum is 65536 characters)"}]);
        (422, Vec::new(), e)
    })
}

/// [pagination]: `per_page` defaults to 30 and is capped at 100, `page` starts at 1, and the
/// `Link` header carries absolute `first`/`prev`/`next`/`last` URLs (only those that apply).
fn page(all: &[Value], query: &HashMap<String, String>, base: &str, path: &str) -> Answer {
    let per_page = query.get("per_page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(30).clamp(1, 100);
    let page = query.get("page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1).max(1);
    let last = all.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = all.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    // The other filters ride along in the links, as GitHub's do.
    let mut others: Vec<(&String, &String)> =
        query.iter().filter(|(k, _)| k.as_str() != "page" && k.as_str() != "per_page").collect();
    others.sort();
    let url = |p: usize| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &others {
            q.append_pair(k, v);
        }
        q.append_pair("per_page", &per_page.to_string());
        q.append_pair("page", &p.to_string());
        format!("<{base}{path}?{}>", q.finish())
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    let headers = if links.is_empty() { Vec::new() } else { vec![("link", links.join(", "))] };
    (200, headers, Value::Array(items))
}

/// [deployments]: `ref` is required and must exist; `task` defaults to `deploy`, `environment`
/// to `production`, `auto_merge` to true (merge the default branch into the ref first: here,
/// INFERRED, the ref is always behind, so GitHub answers 202 and creates nothing), and
/// `required_contexts` to every context (here, INFERRED, the run's own check is still pending,
/// so GitHub answers 409). `transient_environment` defaults to false; `production_environment`
/// to true for `production`.
fn create_deployment(repo: &mut Repo, body: Option<Value>, base: &str) -> Answer {
    let Some(body) = body.filter(Value::is_object) else {
        return fail(400, "Problems parsing JSON", DOC_DEPLOYMENTS);
    };
    let Some(git_ref) = body.get("ref").and_then(Value::as_str).map(str::to_owned) else {
        return invalid("\"ref\" wasn't supplied.", DOC_DEPLOYMENTS);
    };
    // INFERRED: every full or abbreviated hexadecimal sha names a commit that exists; any
    // other ref is unknown (the simulated repository has no branches).
    let is_sha = (7..=40).contains(&git_ref.len()) && git_ref.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_sha {
        let mut e = error(422, &format!("No ref found for: {git_ref}"), DOC_DEPLOYMENTS);
        e.as_object_mut().map(|o| o.remove("status"));
        return (422, Vec::new(), e);
    }
    if body.get("auto_merge").and_then(Value::as_bool) != Some(false) {
        return (202, Vec::new(), json!({"message": "Auto-merged main into the ref on deployment."}));
    }
    if body.get("required_contexts").and_then(Value::as_array).is_none_or(|c| !c.is_empty()) {
        return fail(409, "Conflict: Commit status checks failed for the ref.", DOC_DEPLOYMENTS);
    }
    let str_field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let environment = str_field("environment").unwrap_or_else(|| "production".into());
    let production = body.get("production_environment").and_then(Value::as_bool).unwrap_or(environment == "production");
    let id = repo.id();
    let d = Deployment {
        id,
        sha: git_ref.to_lowercase(),
        git_ref,
        task: str_field("task").unwrap_or_else(|| "deploy".into()),
        environment,
        description: str_field("description"),
        transient_environment: body.get("transient_environment").and_then(Value::as_bool).unwrap_or(false),
        production_environment: production,
        payload: body.get("payload").cloned().unwrap_or_else(|| json!({})),
        created_at: crate::time::now(),
        statuses: Vec::new(),
    };
    let answer = repo.deployment_json(&d, base);
    repo.deployments.push(d);
    (201, Vec::new(), answer)
}

/// [statuses]: `state` is one of seven; `description` at most 140 characters;
/// `auto_inactive` (default true) gives every earlier non-transient, non-production
/// deployment of the same environment whose state was `success` an `inactive` status.
fn create_status(repo: &mut Repo, id: u64, body: Option<Value>, base: &str) -> Answer {
    const STATES: [&str; 7] = ["error", "failure", "inactive", "in_progress", "queued", "pending", "success"];
    let Some(body) = body.filter(Value::is_object) else {
        return fail(400, "Problems parsing JSON", DOC_STATUSES);
    };
    let Some(state) = body.get("state").and_then(Value::as_str).filter(|s| STATES.contains(s)).map(str::to_owned)
    else {
        return invalid("\"state\" wasn't supplied or is not one of the allowed values.", DOC_STATUSES);
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    if s("description").chars().count() > 140 {
        return invalid("description is too long (maximum is 140 characters)", DOC_STATUSES);
    }
    let auto_inactive = body.get("auto_inactive").and_then(Value::as_bool).unwrap_or(true);
    let status_id = repo.id();
    let now = crate::time::now();
    let repository = repo.config.repository.clone();
    let status = |sid: u64, state: &str, d: &Deployment, env_url: String, log_url: String, desc: String| {
        json!({
            "id": sid,
            "url": format!("{base}/repos/{repository}/deployments/{}/statuses/{sid}", d.id),
            "state": state,
            "description": desc,
            "environment": d.environment,
            "environment_url": env_url,
            "log_url": log_url,
            "target_url": log_url,
            "created_at": now,
            "updated_at": now,
            "deployment_url": format!("{base}/repos/{repository}/deployments/{}", d.id),
            "creator": {"login": "github-actions[bot]", "type": "Bot"},
        })
    };
    let Some(i) = repo.deployments.iter().position(|d| d.id == id) else { return not_found() };
    let value = status(status_id, &state, &repo.deployments[i], s("environment_url"), s("log_url"), s("description"));
    repo.deployments[i].statuses.push(value.clone());
    if state == "success" && auto_inactive {
        let env = repo.deployments[i].environment.clone();
        let earlier: Vec<usize> = (0..i)
            .filter(|&j| {
                let d = &repo.deployments[j];
                d.environment == env
                    && !d.transient_environment
                    && !d.production_environment
                    && d.statuses.last().and_then(|s| s["state"].as_str()) == Some("success")
            })
            .collect();
        for j in earlier {
            let sid = repo.id();
            let v = status(sid, "inactive", &repo.deployments[j], String::new(), String::new(), String::new());
            repo.deployments[j].statuses.push(v);
        }
    }
    (201, Vec::new(), value)
}

impl Repo {
    fn commit_status_json(&self, s: &CommitStatus, base: &str) -> Value {
        json!({
            "id": s.id,
            "node_id": format!("SC_sim{}", s.id),
            "url": format!("{base}/repos/{}/statuses/{}", self.config.repository, s.sha),
            "state": s.state,
            "description": s.description,
            "target_url": s.target_url,
            "context": s.context,
            "avatar_url": null,
            "created_at": s.created_at,
            "updated_at": s.created_at,
            "creator": {"login": BOT_LOGIN, "id": self.config.bot_user_id, "type": "Bot"},
        })
    }
}

/// [commit-statuses]: `state` is one of `error`, `failure`, `pending`, `success`; `context`
/// defaults to `default` and is compared without case (docs/github-actions.md §6.1);
/// `description` over 140 characters is refused with 422, not cut (docs/github-actions.md §6.1: seen in the wild); at
/// most [`STATUSES_PER_CONTEXT`] per commit and context, then 422. The commit must exist: here,
/// INFERRED (as for deployments, G5), any 40-hex sha does and nothing else does.
fn create_commit_status(repo: &mut Repo, sha: &str, body: Option<Value>, base: &str) -> Answer {
    const STATES: [&str; 4] = ["error", "failure", "pending", "success"];
    let Some(body) = body.filter(Value::is_object) else {
        return fail(400, "Problems parsing JSON", DOC_COMMIT_STATUSES);
    };
    if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return fail(422, &format!("No commit found for SHA: {sha}"), DOC_COMMIT_STATUSES);
    }
    let Some(state) = body.get("state").and_then(Value::as_str).filter(|s| STATES.contains(s)).map(str::to_owned)
    else {
        return invalid("\"state\" wasn't supplied or is not one of the allowed values.", DOC_COMMIT_STATUSES);
    };
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let description = text("description");
    if description.as_deref().is_some_and(|d| d.chars().count() > 140) {
        let mut e = error(422, "Validation Failed", DOC_COMMIT_STATUSES);
        e["errors"] = json!([{"resource": "Status", "code": "custom", "field": "description",
            "message": "description is too long (maximum is 140 characters)"}]);
        return (422, Vec::new(), e);
    }
    let context = text("context").unwrap_or_else(|| "default".into());
    let sha = sha.to_ascii_lowercase();
    let same = repo.statuses.iter().filter(|s| s.sha == sha && s.context.eq_ignore_ascii_case(&context)).count();
    if same >= STATUSES_PER_CONTEXT {
        let mut e = error(422, "Validation Failed", DOC_COMMIT_STATUSES);
        e["errors"] = json!([{"resource": "Status", "code": "custom",
            "message": "This SHA and context has reached the maximum number of statuses."}]);
        return (422, Vec::new(), e);
    }
    let id = repo.id();
    let s = CommitStatus {
        id,
        sha,
        state,
        target_url: text("target_url"),
        description,
        context,
        created_at: crate::time::now(),
    };
    let answer = repo.commit_status_json(&s, base);
    repo.statuses.push(s);
    (201, Vec::new(), answer)
}

/// [commit-statuses] combined status: the latest status of each context (contexts compared
/// without case); `failure` if any is `error` or `failure`, `pending` if there are none or any
/// is `pending`, else `success`.
fn combined_status(repo: &Repo, sha: &str, base: &str) -> Value {
    let mut latest: Vec<&CommitStatus> = Vec::new();
    for s in repo.statuses.iter().rev().filter(|s| s.sha == sha) {
        if !latest.iter().any(|l| l.context.eq_ignore_ascii_case(&s.context)) {
            latest.push(s);
        }
    }
    let any = |states: &[&str]| latest.iter().any(|s| states.contains(&s.state.as_str()));
    let state = if any(&["error", "failure"]) {
        "failure"
    } else if latest.is_empty() || any(&["pending"]) {
        "pending"
    } else {
        "success"
    };
    json!({
        "state": state,
        "sha": sha,
        "total_count": latest.len(),
        "statuses": latest.iter().map(|s| repo.commit_status_json(s, base)).collect::<Vec<_>>(),
        "commit_url": format!("{base}/repos/{}/commits/{sha}", repo.config.repository),
        "url": format!("{base}/repos/{}/commits/{sha}/status", repo.config.repository),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(method: &'a str, path: &'a str, query: &'a str, body: &'a [u8]) -> Req<'a> {
        Req {
            method,
            path,
            query,
            body,
            auth: Some("Bearer ghs_simulatedWorkflowToken"),
            base: "http://127.0.0.1:1/api/v3".into(),
        }
    }

    #[test]
    fn comments_page_by_thirty_with_links() {
        let mut r = Repo::new(GitHubConfig::default());
        for i in 0..40 {
            r.seed_comment(7, &format!("c{i}"));
        }
        let (s, h, v) = handle(&mut r, &req("GET", "/repos/acme/site/issues/7/comments", "", b""));
        assert_eq!(s, 200);
        assert_eq!(v.as_array().unwrap().len(), 30);
        let link = &h[0].1;
        assert!(link.contains("/repositories/1296269/issues/7/comments?per_page=30&page=2>; rel=\"next\""), "{link}");
        let (_, h, v) =
            handle(&mut r, &req("GET", "/repositories/1296269/issues/7/comments", "per_page=30&page=2", b""));
        assert_eq!(v.as_array().unwrap().len(), 10);
        assert!(!h[0].1.contains("rel=\"next\""));
        let (_, _, v) = handle(&mut r, &req("GET", "/repos/ACME/Site/issues/7/comments", "per_page=500", b""));
        assert_eq!(v.as_array().unwrap().len(), 40, "per_page is capped at 100, not refused");
    }

    #[test]
    fn tokens_and_permissions_are_checked() {
        let mut r = Repo::new(GitHubConfig::default());
        let mut q = req("POST", "/repos/acme/site/issues/7/comments", "", br#"{"body":"x"}"#);
        q.auth = Some("Bearer nope");
        assert_eq!(handle(&mut r, &q).0, 401);
        q.auth = None;
        assert_eq!(handle(&mut r, &q).0, 401);
        r.config.tokens.get_mut(DEFAULT_TOKEN).unwrap().pull_requests = Access::Read;
        let (s, _, v) = handle(&mut r, &req("POST", "/repos/acme/site/issues/7/comments", "", br#"{"body":"x"}"#));
        assert_eq!((s, v["message"].as_str()), (403, Some("Resource not accessible by integration")));
        assert_eq!(handle(&mut r, &req("GET", "/repos/acme/other/issues/7/comments", "", b"")).0, 404);
        assert_eq!(handle(&mut r, &req("GET", "/repos/acme/site/issues/8/comments", "", b"")).0, 404);
    }

    #[test]
    fn deployments_need_auto_merge_off_and_no_required_contexts() {
        let mut r = Repo::new(GitHubConfig::default());
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let post = |r: &mut Repo, b: Value| {
            handle(r, &req("POST", "/repos/acme/site/deployments", "", b.to_string().as_bytes())).0
        };
        assert_eq!(post(&mut r, json!({"ref": sha})), 202);
        assert_eq!(post(&mut r, json!({"ref": sha, "auto_merge": false})), 409);
        assert_eq!(post(&mut r, json!({"ref": "no-such-branch", "auto_merge": false, "required_contexts": []})), 422);
        assert_eq!(
            post(&mut r, json!({"ref": sha, "auto_merge": false, "required_contexts": [], "environment": "preview/w"})),
            201
        );
        assert!(
            r.deployments.len() == 1
                && r.deployments[0].environment == "preview/w"
                && !r.deployments[0].production_environment
        );
        let (_, _, v) = handle(
            &mut r,
            &req("GET", "/repos/acme/site/deployments", &format!("sha={sha}&environment=preview%2Fw"), b""),
        );
        assert_eq!(v.as_array().unwrap().len(), 1);
        let (_, _, v) = handle(&mut r, &req("GET", "/repos/acme/site/deployments", "environment=production", b""));
        assert_eq!(v.as_array().unwrap().len(), 0);
    }

    #[test]
    fn success_makes_earlier_successes_inactive() {
        let mut r = Repo::new(GitHubConfig::default());
        for sha in ["aaaaaaa", "bbbbbbb"] {
            let b = json!({"ref": sha, "auto_merge": false, "required_contexts": [], "environment": "staging"});
            let (_, _, d) = handle(&mut r, &req("POST", "/repos/acme/site/deployments", "", b.to_string().as_bytes()));
            let path = format!("/repos/acme/site/deployments/{}/statuses", d["id"]);
            assert_eq!(handle(&mut r, &req("POST", &path, "", br#"{"state":"success"}"#)).0, 201);
        }
        assert_eq!(r.deployments[0].statuses.last().unwrap()["state"], "inactive");
        assert_eq!(r.deployments[1].statuses.last().unwrap()["state"], "success");
        let path = format!("/repos/acme/site/deployments/{}/statuses", r.deployments[1].id);
        assert_eq!(handle(&mut r, &req("POST", &path, "", br#"{"state":"done"}"#)).0, 422);
    }

    #[test]
    fn commit_statuses_follow_githubs_rules() {
        let mut r = Repo::new(GitHubConfig::default());
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let path = format!("/repos/acme/site/statuses/{sha}");
        let post = |r: &mut Repo, b: Value| handle(r, &req("POST", &path, "", b.to_string().as_bytes()));
        assert_eq!(post(&mut r, json!({"state": "success"})).0, 403, "statuses: none by default");
        r.config.tokens.get_mut(DEFAULT_TOKEN).unwrap().statuses = Access::Write;
        assert_eq!(post(&mut r, json!({"state": "done", "context": "a"})).0, 422, "state is an enum");
        let long = "é".repeat(141);
        let (s, _, v) = post(&mut r, json!({"state": "pending", "context": "a", "description": long}));
        assert_eq!(s, 422, "141 characters are refused, not cut");
        assert_eq!(v["errors"][0]["message"], "description is too long (maximum is 140 characters)");
        assert_eq!(post(&mut r, json!({"state": "pending", "context": "a", "description": "é".repeat(140)})).0, 201);
        let short = handle(&mut r, &req("POST", "/repos/acme/site/statuses/0123456", "", br#"{"state":"success"}"#));
        assert_eq!(short.0, 422, "a full sha");
        assert_eq!(post(&mut r, json!({"state": "success", "context": "A"})).0, 201);
        let (_, _, c) = handle(&mut r, &req("GET", &format!("/repos/acme/site/commits/{sha}/status"), "", b""));
        assert_eq!((c["state"].as_str(), c["total_count"].as_u64()), (Some("success"), Some(1)), "{c}");
        assert_eq!(c["statuses"][0]["context"], "A", "one context whatever its case; the latest wins");
        for _ in 0..(STATUSES_PER_CONTEXT - 2) {
            assert_eq!(post(&mut r, json!({"state": "success", "context": "a"})).0, 201);
        }
        let (s, _, v) = post(&mut r, json!({"state": "success", "context": "A"}));
        assert_eq!(s, 422, "the 1001st status of a sha and context: {v}");
        assert_eq!(post(&mut r, json!({"state": "success", "context": "b"})).0, 201, "another context is free");
        let (_, _, l) = handle(&mut r, &req("GET", &format!("/repos/acme/site/commits/{sha}/statuses"), "", b""));
        assert_eq!((l.as_array().unwrap().len(), l[0]["context"].as_str()), (30, Some("b")), "newest first, paged");
    }
}

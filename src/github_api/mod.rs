//! A small typed client for GitHub's REST API: the issue comments, deployments and deployment
//! statuses the PR report writes. It knows nothing of Cloudflare or of what it is told to post.
//!
//! Reads and comment edits (idempotent) are retried by the shared [`crate::retry`] policy on
//! transport failures, transient statuses and rate limits, honouring `Retry-After` (seconds or an
//! HTTP date) and `x-ratelimit-reset`; creates are sent once, and the caller
//! reconciles before ever sending one again. Lists follow `Link: rel="next"` with
//! `per_page=100`, and only to the API's own origin: the token is never sent elsewhere.

use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::pace::Pace;
use crate::retry::{self, Backoff, Policy, Transient};

/// GitHub's REST API version this client speaks.
pub(crate) const API_VERSION: &str = "2022-11-28";
/// The most items GitHub returns in one page.
const PER_PAGE: &str = "100";
/// A GitHub outage must not hold the Cloudflare step for long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Fewer and longer waits than Cloudflare's reads: GitHub asks clients to back off for longer, and
/// a report that cannot be written soon is better given up than holding the step.
const BACKOFF: Backoff = Backoff { first: Duration::from_secs(1), cap: Duration::from_secs(30), retries: 3 };
/// A list longer than this is not ours to page through (10 000 comments on a PR).
const MAX_PAGES: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct CommentId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct DeploymentId(pub u64);

impl std::fmt::Display for CommentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// `owner/name`, checked to be two path-safe segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Repository {
    owner: String,
    name: String,
}

impl Repository {
    /// GitHub's rules for owner and repository names: letters, digits, `-`, `_` and `.`.
    pub(crate) fn parse(s: &str) -> Option<Repository> {
        let (owner, name) = s.split_once('/')?;
        let ok = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.len() <= 100
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        (ok(owner) && ok(name)).then(|| Repository { owner: owner.to_owned(), name: name.to_owned() })
    }
}

impl std::fmt::Display for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Comment {
    pub id: CommentId,
    #[serde(default)]
    pub body: Option<String>,
    /// The author; `null` for a deleted account.
    #[serde(default)]
    pub user: Option<User>,
}

/// A user or bot account, as `user` of a comment or `GET /users/{login}`.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct User {
    pub id: u64,
}

/// The account a workflow's `GITHUB_TOKEN` writes as (docs/github-actions.md §3.1).
const ACTIONS_BOT: &str = "github-actions[bot]";

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Deployment {
    pub id: DeploymentId,
    /// What the creator attached (workers-ci: `{"workers_ci": {"preview", "pull_request"}}`).
    #[serde(default)]
    pub payload: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeploymentStatus {
    #[serde(default)]
    pub state: Option<String>,
}

/// `POST /repos/{owner}/{repo}/deployments`.
#[derive(Debug, Serialize)]
pub(crate) struct NewDeployment<'a> {
    #[serde(rename = "ref")]
    pub git_ref: &'a str,
    pub environment: &'a str,
    pub description: &'a str,
    /// Off: by default GitHub merges the default branch into the ref before deploying.
    pub auto_merge: bool,
    /// Empty: by default GitHub refuses (409) while any status check of the commit, this very
    /// run's included, is not green.
    pub required_contexts: [&'a str; 0],
    pub transient_environment: bool,
    pub production_environment: bool,
    /// Which Preview and pull request the deployment is for, so that retiring one finds only
    /// its own.
    pub payload: serde_json::Value,
}

/// `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
#[derive(Debug, Serialize)]
pub(crate) struct NewStatus<'a> {
    pub state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_url: Option<&'a str>,
    pub description: &'a str,
    /// Off: by default a success marks every earlier deployment of the environment inactive,
    /// another pull request's included (docs/github-actions.md §3.2).
    pub auto_inactive: bool,
}

/// `POST /repos/{owner}/{repo}/statuses/{sha}` (docs/github-actions.md §6.1).
#[derive(Debug, Serialize)]
pub(crate) struct NewCommitStatus<'a> {
    /// `pending`, `success`, `failure` or `error`.
    pub state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<&'a str>,
    /// At most 140 characters: GitHub refuses a longer one (422), it does not cut it.
    pub description: &'a str,
    pub context: &'a str,
}

/// What went wrong with one GitHub request. Never holds the token; the message is GitHub's
/// (untrusted text: printed only through escaped workflow commands).
#[derive(Debug, thiserror::Error)]
pub(crate) enum GhError {
    #[error("{method} {endpoint}: HTTP {status}{}", message.as_deref().map(|m| format!(" {m}")).unwrap_or_default())]
    Api { method: String, endpoint: String, status: u16, message: Option<String>, retry_after: Option<Duration> },
    #[error("{method} {endpoint}: {detail}")]
    Transport { method: String, endpoint: String, detail: String },
    #[error("{method} {endpoint}: unexpected answer: {detail}")]
    Malformed { method: String, endpoint: String, detail: String },
}

impl GhError {
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            GhError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Transport failures, the transient statuses, and 403s that are rate limits (they carry
    /// `Retry-After` or an exhausted `x-ratelimit-remaining`, folded into `retry_after`).
    fn retryable(&self) -> bool {
        match self {
            GhError::Transport { .. } => true,
            GhError::Api { status, retry_after, .. } => {
                retry::transient_status(*status) || (*status == 403 && retry_after.is_some())
            }
            GhError::Malformed { .. } => false,
        }
    }
}

impl Transient for GhError {
    fn is_transient(&self) -> bool {
        self.retryable()
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            GhError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

pub(crate) struct Config {
    /// `GITHUB_API_URL`: `https://api.github.com`, or `https://HOST/api/v3` on GHES.
    pub base_url: Url,
    pub repository: Repository,
    pub token: String,
    pub pace: Pace,
    pub deadline: Option<Instant>,
}

pub(crate) struct GitHub {
    http: reqwest::Client,
    base: String,
    origin: String,
    repo: Repository,
    pace: Pace,
    deadline: Option<Instant>,
}

/// Why the client could not be built; never holds the token.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InitError {
    #[error("contains characters that cannot be sent in an HTTP header")]
    TokenNotHeaderSafe,
    #[error("could not set up the HTTP client")]
    Http(#[source] reqwest::Error),
}

impl GitHub {
    pub(crate) fn new(c: Config) -> Result<GitHub, InitError> {
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", c.token)).map_err(|_| InitError::TokenNotHeaderSafe)?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("x-github-api-version", HeaderValue::from_static(API_VERSION));
        headers.insert(USER_AGENT, HeaderValue::from_static(concat!("workers-ci/", env!("CARGO_PKG_VERSION"))));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(REQUEST_TIMEOUT)
            // A redirect to another host would carry the token there; GitHub answers 301 only
            // for renamed repositories, which is an error worth seeing.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(InitError::Http)?;
        Ok(GitHub {
            http,
            base: c.base_url.as_str().trim_end_matches('/').to_owned(),
            origin: c.base_url.origin().ascii_serialization(),
            repo: c.repository,
            pace: c.pace,
            deadline: c.deadline,
        })
    }

    fn repo_url(&self, rest: &str) -> String {
        format!("{}/repos/{}/{}/{rest}", self.base, self.repo.owner, self.repo.name)
    }

    /// Every comment of an issue or pull request, oldest first.
    pub(crate) async fn list_comments(&self, issue: u64) -> Result<Vec<Comment>, GhError> {
        self.list(&self.repo_url(&format!("issues/{issue}/comments")), &[]).await
    }

    /// The id of the account this token writes as: `GET /user` for a user's token; a
    /// workflow's `GITHUB_TOKEN` is not a user (403 there) and writes as `github-actions[bot]`,
    /// whose id differs between github.com and each GitHub Enterprise Server, so it is asked
    /// for by login.
    pub(crate) async fn self_id(&self) -> Result<u64, GhError> {
        let me = format!("{}/user", self.base);
        match self.retried(|| self.get_page::<User>(&me)).await {
            Ok((u, _)) => Ok(u.id),
            // The token itself, the network or the URL: asking for the bot would not help.
            Err(e @ (GhError::Api { status: 401, .. } | GhError::Transport { .. } | GhError::Malformed { .. })) => {
                Err(e)
            }
            Err(_) => {
                let bot = format!("{}/users/{}", self.base, ACTIONS_BOT.replace('[', "%5B").replace(']', "%5D"));
                Ok(self.retried(|| self.get_page::<User>(&bot)).await?.0.id)
            }
        }
    }

    /// Sent once: a failed create is reconciled by the caller, by listing.
    pub(crate) async fn create_comment(&self, issue: u64, body: &str) -> Result<Comment, GhError> {
        let url = self.repo_url(&format!("issues/{issue}/comments"));
        self.once(Method::POST, &url, &serde_json::json!({ "body": body })).await
    }

    /// Idempotent (the same body twice is the same comment), so retried.
    pub(crate) async fn update_comment(&self, id: CommentId, body: &str) -> Result<Comment, GhError> {
        let url = self.repo_url(&format!("issues/comments/{id}"));
        let body = serde_json::json!({ "body": body });
        self.retried(|| self.once(Method::PATCH, &url, &body)).await
    }

    /// Deployments of `sha` to `environment`, newest first.
    pub(crate) async fn list_deployments(&self, sha: &str, environment: &str) -> Result<Vec<Deployment>, GhError> {
        self.list(&self.repo_url("deployments"), &[("sha", sha), ("environment", environment)]).await
    }

    /// Deployments to `environment` of any commit, newest first, at most `limit`.
    pub(crate) async fn recent_deployments(&self, environment: &str, limit: usize) -> Result<Vec<Deployment>, GhError> {
        let mut all = self.list(&self.repo_url("deployments"), &[("environment", environment)]).await?;
        all.truncate(limit);
        Ok(all)
    }

    /// Sent once. GitHub answers 201 with the deployment, or 202 when it merged instead
    /// (`auto_merge`, which this client always turns off): the latter is an error here.
    pub(crate) async fn create_deployment(&self, d: &NewDeployment<'_>) -> Result<Deployment, GhError> {
        let url = self.repo_url("deployments");
        let (status, value): (StatusCode, serde_json::Value) = self.send(Method::POST, &url, Some(d)).await?;
        if status != StatusCode::CREATED {
            return Err(GhError::Malformed {
                method: "POST".into(),
                endpoint: self.endpoint(&url),
                detail: format!("HTTP {} without a deployment", status.as_u16()),
            });
        }
        serde_json::from_value(value).map_err(|e| GhError::Malformed {
            method: "POST".into(),
            endpoint: self.endpoint(&url),
            detail: e.to_string(),
        })
    }

    pub(crate) async fn create_status(&self, id: DeploymentId, s: &NewStatus<'_>) -> Result<DeploymentStatus, GhError> {
        self.once(Method::POST, &self.repo_url(&format!("deployments/{id}/statuses")), s).await
    }

    /// Retried: a commit status is identified by its context, whose latest status is the one
    /// that counts, so sending the same one twice changes nothing a reader sees (each still
    /// counts toward the 1000 per commit and context, docs/github-actions.md §6.1).
    pub(crate) async fn create_commit_status(&self, sha: &str, s: &NewCommitStatus<'_>) -> Result<(), GhError> {
        let url = self.repo_url(&format!("statuses/{sha}"));
        self.retried(|| self.once::<serde_json::Value>(Method::POST, &url, s)).await.map(|_| ())
    }

    /// The newest status of a deployment, if it has any.
    pub(crate) async fn latest_status(&self, id: DeploymentId) -> Result<Option<DeploymentStatus>, GhError> {
        let mut url =
            Url::parse(&self.repo_url(&format!("deployments/{id}/statuses"))).map_err(|e| GhError::Malformed {
                method: "GET".into(),
                endpoint: format!("deployments/{id}/statuses"),
                detail: e.to_string(),
            })?;
        url.query_pairs_mut().append_pair("per_page", "1");
        let (list, _): (Vec<DeploymentStatus>, _) = self.retried(|| self.get_page(url.as_str())).await?;
        Ok(list.into_iter().next())
    }

    /// Every page of a list, following `Link: rel="next"` within the API's own origin.
    async fn list<T: DeserializeOwned>(&self, url: &str, query: &[(&str, &str)]) -> Result<Vec<T>, GhError> {
        let mut first = Url::parse(url).map_err(|e| GhError::Malformed {
            method: "GET".into(),
            endpoint: self.endpoint(url),
            detail: e.to_string(),
        })?;
        {
            let mut q = first.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
            q.append_pair("per_page", PER_PAGE);
        }
        let mut all = Vec::new();
        let mut next = Some(first.to_string());
        let mut pages = 0;
        while let Some(url) = next.take() {
            let (items, link): (Vec<T>, Option<String>) = self.retried(|| self.get_page(&url)).await?;
            all.extend(items);
            pages += 1;
            next = link.filter(|_| pages < MAX_PAGES);
        }
        Ok(all)
    }

    async fn get_page<T: DeserializeOwned>(&self, url: &str) -> Result<(T, Option<String>), GhError> {
        let endpoint = self.endpoint(url);
        let resp = self.execute(self.http.get(url), "GET", &endpoint).await?;
        let next = resp.headers().get("link").and_then(|v| v.to_str().ok()).and_then(|l| next_link(l, resp.url()));
        // The next page must be on the API's own origin: the token goes with it.
        let next = match next {
            Some(n) if n.origin().ascii_serialization() == self.origin => Some(n.to_string()),
            Some(_) => {
                return Err(GhError::Malformed {
                    method: "GET".into(),
                    endpoint,
                    detail: "the next page's link points outside GITHUB_API_URL".into(),
                });
            }
            None => None,
        };
        let (_, value) = decode::<T>(resp, "GET", &endpoint).await?;
        Ok((value, next))
    }

    async fn once<T: DeserializeOwned>(&self, method: Method, url: &str, body: &impl Serialize) -> Result<T, GhError> {
        let (_, value) = self.send(method, url, Some(body)).await?;
        Ok(value)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<&impl Serialize>,
    ) -> Result<(StatusCode, T), GhError> {
        let endpoint = self.endpoint(url);
        let m = method.as_str().to_owned();
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = self.execute(req, &m, &endpoint).await?;
        decode(resp, &m, &endpoint).await
    }

    async fn execute(
        &self,
        req: reqwest::RequestBuilder,
        method: &str,
        endpoint: &str,
    ) -> Result<reqwest::Response, GhError> {
        let resp = req.send().await.map_err(|e| GhError::Transport {
            method: method.to_owned(),
            endpoint: endpoint.to_owned(),
            detail: if e.is_timeout() {
                "timed out".into()
            } else if e.is_connect() {
                "could not connect".into()
            } else {
                "the connection failed".into()
            },
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let retry_after = rate_limit_wait(resp.headers(), SystemTime::now());
        let message =
            resp.json::<serde_json::Value>().await.ok().and_then(|v| {
                v.get("message").and_then(|m| m.as_str()).map(|m| m.chars().take(300).collect::<String>())
            });
        // A secondary rate limit without headers: "wait for at least one minute" (GitHub's
        // rate-limit docs).
        let limited = (status == 403 || status == 429)
            && message.as_deref().is_some_and(|m| m.to_ascii_lowercase().contains("rate limit"));
        let retry_after = retry_after.or_else(|| limited.then_some(Duration::from_secs(60)));
        Err(GhError::Api { method: method.to_owned(), endpoint: endpoint.to_owned(), status, message, retry_after })
    }

    /// `url` without the API base and query, for messages.
    fn endpoint(&self, url: &str) -> String {
        let path = url.strip_prefix(&self.base).unwrap_or(url);
        path.split('?').next().unwrap_or(path).to_owned()
    }

    async fn retried<T, F, Fut>(&self, f: F) -> Result<T, GhError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, GhError>>,
    {
        Policy { backoff: BACKOFF, pace: self.pace, deadline: self.deadline }.run(f, |_, _| {}).await
    }
}

async fn decode<T: DeserializeOwned>(
    resp: reqwest::Response,
    method: &str,
    endpoint: &str,
) -> Result<(StatusCode, T), GhError> {
    let status = resp.status();
    let malformed =
        |detail: String| GhError::Malformed { method: method.to_owned(), endpoint: endpoint.to_owned(), detail };
    let bytes = resp.bytes().await.map_err(|_| GhError::Transport {
        method: method.to_owned(),
        endpoint: endpoint.to_owned(),
        detail: "the answer was cut off".into(),
    })?;
    let value = serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
    Ok((status, value))
}

/// The `rel="next"` target of a `Link` header, resolved against the page it came with. A header
/// that does not parse is no next page: the list ends there, as it would without one.
fn next_link(header: &str, page: &Url) -> Option<Url> {
    http_link::parse_link_header(header, page).ok()?.into_iter().find(|l| l.rel == "next").map(|l| l.target)
}

/// How long GitHub asks us to wait: `Retry-After` (seconds or an HTTP date), else, when the
/// quota is spent (`x-ratelimit-remaining: 0`), until `x-ratelimit-reset` (epoch seconds).
/// Capped at 15 minutes; the caller gives up when it does not fit the step's `timeout`.
fn rate_limit_wait(h: &HeaderMap, now: SystemTime) -> Option<Duration> {
    const CAP: Duration = Duration::from_secs(900);
    if let Some(wait) = retry::retry_after(h, now) {
        return Some(wait.min(CAP));
    }
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if header("x-ratelimit-remaining") == Some("0") {
        let reset = header("x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok())?;
        let now = now.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
        return Some(Duration::from_secs(reset.saturating_sub(now).max(1)).min(CAP));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::RETRY_AFTER;

    #[test]
    fn repositories_are_two_safe_segments() {
        assert_eq!(Repository::parse("acme/site").map(|r| r.to_string()), Some("acme/site".into()));
        for bad in ["acme", "acme/", "/site", "a/b/c", "acme/../x", "acme/..", "ac me/site", "acme/site?x"] {
            assert_eq!(Repository::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn rate_limit_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(&h, now), None);
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1030"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(30)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("999999"));
        assert_eq!(rate_limit_wait(&h, now), Some(Duration::from_secs(900)));
        // 1000 s after the epoch is 00:16:40 GMT on 1 January 1970.
        h.insert(RETRY_AFTER, HeaderValue::from_static("Thu, 01 Jan 1970 00:16:52 GMT"));
        assert_eq!(
            rate_limit_wait(&h, now),
            Some(Duration::from_secs(12)),
            "an HTTP date, as Cloudflare's client reads it"
        );
    }

    #[test]
    fn the_next_page_is_the_link_whose_rel_is_next() {
        let page = Url::parse("https://api.github.com/repos/acme/site/issues/7/comments?per_page=100").unwrap();
        let next = |h: &str| next_link(h, &page).map(|u| u.to_string());
        // GitHub's own shape: absolute URLs, quoted rels, `prev`/`first` around the `next`.
        let header = "<https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=1>; rel=\"prev\", \
                      <https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=3>; rel=\"next\", \
                      <https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=5>; rel=\"last\"";
        assert_eq!(
            next(header).as_deref(),
            Some("https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=3")
        );
        assert_eq!(next("<https://api.github.com/x?page=9>; rel=\"last\"").as_deref(), None, "the last page");
        // RFC 8288: rel is a space-separated list, case-insensitive, and may be unquoted.
        assert_eq!(next("<https://h/a?page=2>; rel=\"Next last\"").as_deref(), Some("https://h/a?page=2"));
        assert_eq!(next("<https://h/a?page=2>; rel=next").as_deref(), Some("https://h/a?page=2"));
        // A relative target is the page's own origin, as the RFC resolves it.
        assert_eq!(
            next("</repositories/1/issues/7/comments?page=2>; rel=\"next\"").as_deref(),
            Some("https://api.github.com/repositories/1/issues/7/comments?page=2")
        );
        for broken in ["", "garbage", "<https://h/a; rel=\"next\"", "https://h/a; rel=next"] {
            assert_eq!(next(broken), None, "{broken}");
        }
    }

    #[test]
    fn what_is_retried() {
        let api = |status, retry_after| GhError::Api {
            method: "GET".into(),
            endpoint: "/x".into(),
            status,
            message: None,
            retry_after,
        };
        assert!(api(502, None).retryable());
        assert!(api(429, None).retryable());
        assert!(api(403, Some(Duration::from_secs(1))).retryable(), "a secondary rate limit");
        assert!(!api(403, None).retryable(), "a missing permission is final");
        assert!(!api(404, None).retryable());
        assert!(!api(422, None).retryable());
    }
}

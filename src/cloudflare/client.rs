//! The HTTP client: authentication, the response envelope, and retries for idempotent reads.
//!
//! Reads (`get`) are retried by the shared [`crate::retry`] policy on transient failures,
//! honouring `Retry-After`. Writes (`send`) are sent exactly once: whether a failed create may be
//! sent again is decided by the caller, after it has looked at what exists.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::error::{ApiError, ApiMessage, TransportKind};
use super::ratelimit::{self, Budget};
use crate::pace::Pace;
use crate::retry::{self, Backoff, Policy, Transient};

pub(crate) struct ClientConfig {
    /// e.g. `https://api.cloudflare.com/client/v4`
    pub base_url: String,
    pub account_id: String,
    pub token: String,
    pub pace: Pace,
    /// Waits (backoff, Retry-After) are never planned past this instant.
    pub deadline: Option<Instant>,
}

/// The part of an envelope a caller may want besides `result`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResultInfo {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    pub count: Option<u64>,
    pub total_count: Option<u64>,
    pub total_pages: Option<u64>,
}

#[derive(Debug)]
pub struct Page<T> {
    pub result: T,
    pub result_info: Option<ResultInfo>,
}

/// Both envelope flavours: the Builds API's `messages` are strings, the Workers API's are
/// objects, so messages are kept as raw JSON and never relied upon.
#[derive(Deserialize)]
struct Envelope<T> {
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    #[serde(default = "Option::default")]
    result: Option<T>,
    #[serde(default)]
    result_info: Option<ResultInfo>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    errors: Vec<ApiMessage>,
}

/// Why a client could not be built. Never holds the token: these reach logs.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientInitError {
    /// The token has bytes a header cannot carry, which is the user's input to fix.
    #[error("contains characters that cannot be sent in an HTTP header (a stray newline?)")]
    TokenNotHeaderSafe,
    /// reqwest could not build its client (TLS backend or root certificates): not the token's
    /// fault, and not something an input can fix.
    #[error("could not set up the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// Everything but RFC 3986's unreserved characters is escaped, so a value can never reach
/// another path segment (`/`), the query (`?`) or be decoded twice (`%`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// An account-relative API path whose segments have been escaped. The request methods take
/// only this, so no id or name can reach a URL without going through [`path`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiPath(String, Scope);

/// Where a path starts: under `/accounts/{id}` (almost everything), or at the API's root (the
/// zone endpoints, docs/cloudflare-api.md §T.1, §T.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Account,
    Root,
}

impl ApiPath {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account-relative path (`/a/b/c`) from its segments, each escaped. A segment of only dots
/// would still be resolved by URL parsing; no Cloudflare id or valid name has that shape.
pub(crate) fn path(segments: &[&str]) -> ApiPath {
    ApiPath(segments.iter().map(|s| format!("/{}", utf8_percent_encode(s, SEGMENT))).collect(), Scope::Account)
}

/// A path at the API's root (`/zones/…`), escaped as [`path`] escapes.
pub(crate) fn root_path(segments: &[&str]) -> ApiPath {
    ApiPath(path(segments).0, Scope::Root)
}

type LockoutHook = Box<dyn Fn(Duration) + Send + Sync>;

pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    account: String,
    pace: Pace,
    deadline: Option<Instant>,
    sent: AtomicU64,
    rate_limited: AtomicU64,
    budget: std::sync::Mutex<Budget>,
    lockouts: AtomicU64,
    on_lockout: Option<LockoutHook>,
}

/// Per-request limit; a single API call that takes longer is treated as a transient failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Five retries from half a second, doubling up to 8 s: a read that keeps failing for longer is
/// an outage to report, not a blip to ride out.
const BACKOFF: Backoff = Backoff { first: Duration::from_millis(500), cap: Duration::from_secs(8), retries: 5 };

impl Transient for ApiError {
    fn is_transient(&self) -> bool {
        self.is_retryable()
    }

    fn retry_after(&self) -> Option<Duration> {
        ApiError::retry_after(self)
    }
}

/// The request timeout, scaled with the pace (so tests can meet a read timeout in a second)
/// but never below half a second.
pub(crate) fn request_timeout(pace: Pace) -> Duration {
    pace.of(REQUEST_TIMEOUT).max(Duration::from_millis(500))
}

impl Client {
    pub(crate) fn new(config: ClientConfig) -> Result<Client, ClientInitError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token))
            .map_err(|_| ClientInitError::TokenNotHeaderSafe)?;
        // Keeps the token out of reqwest's and our Debug output.
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("workers-ci/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(request_timeout(config.pace))
            .build()
            .map_err(ClientInitError::Http)?;
        Ok(Client {
            http,
            base: config.base_url.trim_end_matches('/').to_owned(),
            account: config.account_id,
            pace: config.pace,
            deadline: config.deadline,
            sent: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            budget: std::sync::Mutex::new(Budget::default()),
            lockouts: AtomicU64::new(0),
            on_lockout: None,
        })
    }

    /// Called once, at the first rate-limit lockout, with how long Cloudflare blocks us: the
    /// job then sits silent for minutes and the log must say why.
    pub(crate) fn on_lockout(mut self, hook: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.on_lockout = Some(Box::new(hook));
        self
    }

    /// How many times slower than planned a poller should go so that the token's shared budget
    /// lasts until its window resets (see [`super::ratelimit`]). 1 without `Ratelimit` headers.
    pub(crate) fn pressure(&self) -> f64 {
        self.budget().pressure(Instant::now())
    }

    fn budget(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.budget.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits while the headers say the budget is down to its reserve, or a lockout is on:
    /// a request sent then is wasted at best and, at worst, the one that locks every job out.
    /// A lockout that outlasts the deadline is an error at once, without sending.
    async fn hold(&self, method: &Method, path: &ApiPath) -> Result<(), ApiError> {
        let now = Instant::now();
        let (until, locked) = {
            let b = self.budget();
            (b.hold_until(now), b.locked(now))
        };
        let Some(until) = until else { return Ok(()) };
        if let Some(deadline) = self.deadline
            && until >= deadline
        {
            if locked {
                return Err(ApiError::RetryAfterTooLong {
                    method: method.as_str().to_owned(),
                    endpoint: path.as_str().to_owned(),
                    retry_after: until - now,
                    remaining: deadline.saturating_duration_since(now),
                });
            }
            tokio::time::sleep_until(deadline).await;
            return Ok(());
        }
        tokio::time::sleep_until(until).await;
        Ok(())
    }

    /// Requests sent so far, retries included: the figure the rate limit counts.
    pub(crate) fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// 429 answers met so far: the signal to slow down.
    pub(crate) fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// An idempotent read, retried on transient failures. `query` is a `#[derive(Serialize)]`
    /// struct, or `&()` for none.
    pub(crate) async fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &ApiPath,
        query: &Q,
    ) -> Result<Page<T>, ApiError> {
        self.retried(&Method::GET, path, || self.request(Method::GET, path, query, None)).await
    }

    /// `make`'s request, sent again on transient failures by the shared retry policy; for
    /// requests that may be repeated (reads, and writes that set state).
    async fn retried<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &ApiPath,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Page<T>, ApiError> {
        let policy = Policy { backoff: BACKOFF, pace: self.pace, deadline: self.deadline };
        let result = policy.run(|| self.execute::<T>(method, path, make()), |_, _| {}).await;
        result.map_err(|err| self.explain_rate_limit(err))
    }

    /// A write that sets state rather than creating something (sending it twice leaves the same
    /// state as once), so it is retried like a read.
    pub(crate) async fn set_json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        body: &B,
    ) -> Result<Page<T>, ApiError> {
        self.retried(&method, path, || self.request(method.clone(), path, &(), None).json(body)).await
    }

    /// [`Client::set_json`] with one extra request header (a dated API behaviour).
    pub(crate) async fn set_json_with<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        body: &B,
        header: (&'static str, &'static str),
    ) -> Result<Page<T>, ApiError> {
        self.retried(&method, path, || {
            self.request(method.clone(), path, &(), None).header(header.0, header.1).json(body)
        })
        .await
    }

    /// A write without a body that sets state (a cache purge), retried like a read.
    pub(crate) async fn set<T: DeserializeOwned>(&self, method: Method, path: &ApiPath) -> Result<Page<T>, ApiError> {
        self.retried(&method, path, || self.request(method.clone(), path, &(), None)).await
    }

    /// A single request without a body, never retried.
    pub(crate) async fn send<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Q,
        timeout: Option<Duration>,
    ) -> Result<Page<T>, ApiError> {
        self.execute(&method, path, self.request(method.clone(), path, query, timeout)).await
    }

    /// A single request with a JSON body, never retried.
    pub(crate) async fn send_json<T: DeserializeOwned, Q: Serialize + ?Sized, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Q,
        body: &B,
        timeout: Option<Duration>,
    ) -> Result<Page<T>, ApiError> {
        self.execute(&method, path, self.request(method.clone(), path, query, timeout).json(body)).await
    }

    /// A single request whose JSON body the caller has already encoded (a Version upload,
    /// too large to hold twice: a second attempt shares the same buffer), never retried.
    pub(crate) async fn send_encoded_json<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Q,
        body: bytes::Bytes,
        timeout: Option<Duration>,
    ) -> Result<Page<T>, ApiError> {
        self.send_encoded(method, path, query, "application/json", body, timeout).await
    }

    /// A body already encoded, of the given content type (a multipart upload), sent once.
    pub(crate) async fn send_encoded<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Q,
        content_type: &str,
        body: bytes::Bytes,
        timeout: Option<Duration>,
    ) -> Result<Page<T>, ApiError> {
        let req = self
            .request(method.clone(), path, query, timeout)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.execute(&method, path, req).await
    }

    /// A single request authorised by `bearer` instead of the API token (the assets upload
    /// takes only its session token, §A.3), with a body already encoded, never retried.
    pub(crate) async fn send_with_bearer<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Q,
        bearer: &str,
        content_type: &str,
        body: reqwest::Body,
    ) -> Result<Page<T>, ApiError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {bearer}")).map_err(|_| ApiError::Malformed {
            method: method.as_str().to_owned(),
            endpoint: path.as_str().to_owned(),
            status: 0,
            detail: "Cloudflare's upload token cannot be sent in a header".into(),
        })?;
        auth.set_sensitive(true);
        // A header set on the request replaces the client's default `Authorization`, so the
        // API token is not sent.
        let req = self
            .request(method.clone(), path, query, Some(Duration::from_secs(120)))
            .header(AUTHORIZATION, auth)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.execute(&method, path, req).await
    }

    /// The request for `path` under this account, with its query; the one place URLs are made.
    fn request<Q: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &ApiPath,
        query: &Q,
        timeout: Option<Duration>,
    ) -> RequestBuilder {
        let url = match path.1 {
            Scope::Account => {
                format!("{}{}{}", self.base, self::path(&["accounts", &self.account]).as_str(), path.as_str())
            }
            Scope::Root => format!("{}{}", self.base, path.as_str()),
        };
        let mut req = self.http.request(method, &url).query(query);
        if let Some(t) = timeout {
            req = req.timeout(self.pace.of(t).max(Duration::from_millis(500)));
        }
        req
    }

    /// Sends `req` once and decodes the answer. `method` and `path` name the request in errors.
    async fn execute<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &ApiPath,
        req: RequestBuilder,
    ) -> Result<Page<T>, ApiError> {
        let (status, retry_after, bytes) = self.exchange(method, path, req).await?;
        decode(method.as_str(), path.as_str(), status, retry_after, &bytes)
    }

    /// The account id requests are made for (the analytics query names it in its variables, the
    /// zones lookup in `account.id`, §T.1).
    pub(crate) fn account(&self) -> &str {
        &self.account
    }

    /// A GraphQL query to the account-wide analytics endpoint (`{base}/graphql`,
    /// docs/cloudflare-api.md §K.3), retried as a read. GraphQL reports failures in a top-level
    /// `errors` list with HTTP 200: they become [`ApiError::Api`] with that status, each
    /// message followed by its `extensions.code` (e.g. `authz`).
    pub(crate) async fn graphql<T: DeserializeOwned, B: Serialize + ?Sized>(&self, body: &B) -> Result<T, ApiError> {
        let path = root_path(&["graphql"]);
        let url = format!("{}/graphql", self.base);
        let attempt = || async {
            let req = self.http.post(&url).json(body);
            let (status, retry_after, bytes) = self.exchange(&Method::POST, &path, req).await?;
            decode_graphql::<T>(status, retry_after, &bytes)
        };
        let policy = Policy { backoff: BACKOFF, pace: self.pace, deadline: self.deadline };
        policy.run(attempt, |_, _| {}).await.map_err(|err| self.explain_rate_limit(err))
    }

    /// Sends `req` once: the rate-limit budget held and observed, the body read.
    async fn exchange(
        &self,
        method: &Method,
        path: &ApiPath,
        req: RequestBuilder,
    ) -> Result<(StatusCode, Option<Duration>, bytes::Bytes), ApiError> {
        self.hold(method, path).await?;
        let path = path.as_str();
        self.sent.fetch_add(1, Ordering::Relaxed);
        let m = method.as_str().to_owned();
        let transport = |e: reqwest::Error| ApiError::Transport {
            method: m.clone(),
            endpoint: path.to_owned(),
            kind: if e.is_connect() {
                TransportKind::Connect
            } else if e.is_timeout() {
                TransportKind::Timeout
            } else {
                TransportKind::Broken
            },
            detail: describe(&e),
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        let retry_after = retry::retry_after(resp.headers(), SystemTime::now());
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(reading) =
            header("ratelimit").and_then(|r| ratelimit::parse(&r, header("ratelimit-policy").as_deref()))
        {
            self.budget().observe(Instant::now(), reading);
        }
        // Key on the status, not the code (971 is observed, not documented: Correction 5).
        if status == StatusCode::TOO_MANY_REQUESTS
            && let Some(wait) = retry_after
        {
            self.budget().lock_until(Instant::now() + wait);
            if self.lockouts.fetch_add(1, Ordering::Relaxed) == 0
                && let Some(hook) = &self.on_lockout
            {
                hook(wait);
            }
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        Ok((status, retry_after, bytes))
    }

    /// A 429 whose Retry-After does not fit in the time left becomes an error that says so.
    fn explain_rate_limit(&self, err: ApiError) -> ApiError {
        if let (Some(ra), Some(deadline)) = (err.retry_after(), self.deadline) {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if ra >= remaining
                && let ApiError::Api { method, endpoint, .. } = err
            {
                return ApiError::RetryAfterTooLong { method, endpoint, retry_after: ra, remaining };
            }
        }
        err
    }
}

/// Decodes a response body as the client does; public for the fuzz targets, which feed it
/// arbitrary bytes (it must never panic).
pub fn decode_response<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<Page<T>, ApiError> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    decode("GET", "/fuzz", status, None, body)
}

/// A GraphQL answer: `data`, or the `errors` that replace it.
fn decode_graphql<T: DeserializeOwned>(
    status: StatusCode,
    retry_after: Option<Duration>,
    bytes: &[u8],
) -> Result<T, ApiError> {
    #[derive(Deserialize)]
    struct Answer<T> {
        data: Option<T>,
        #[serde(default)]
        errors: Option<Vec<GraphqlError>>,
    }
    #[derive(Deserialize)]
    struct GraphqlError {
        #[serde(default)]
        message: String,
        /// Not GraphQL's; an error in Cloudflare's envelope form keeps its code (10002 is transient).
        #[serde(default)]
        code: Option<i64>,
        #[serde(default)]
        extensions: Option<serde_json::Value>,
    }
    let (method, endpoint) = ("POST".to_owned(), "/graphql".to_owned());
    if !status.is_success() {
        let errors = serde_json::from_slice::<ErrorEnvelope>(bytes).map(|e| e.errors).unwrap_or_default();
        return Err(ApiError::Api { method, endpoint, status: status.as_u16(), errors, retry_after });
    }
    let answer: Answer<T> = serde_json::from_slice(bytes).map_err(|e| ApiError::Malformed {
        method: method.clone(),
        endpoint: endpoint.clone(),
        status: status.as_u16(),
        detail: e.to_string(),
    })?;
    let errors = answer.errors.unwrap_or_default();
    match answer.data {
        Some(data) if errors.is_empty() => Ok(data),
        _ => Err(ApiError::Api {
            method,
            endpoint,
            status: status.as_u16(),
            errors: errors
                .into_iter()
                .map(|e| {
                    let code = e.extensions.as_ref().and_then(|x| x["code"].as_str()).map(str::to_owned);
                    ApiMessage {
                        code: e.code,
                        message: Some(match code {
                            Some(c) => format!("{} ({c})", e.message),
                            None => e.message,
                        }),
                        meta: None,
                    }
                })
                .collect(),
            retry_after,
        }),
    }
}

fn decode<T: DeserializeOwned>(
    method: &str,
    path: &str,
    status: StatusCode,
    retry_after: Option<Duration>,
    bytes: &[u8],
) -> Result<Page<T>, ApiError> {
    let api_error = |errors| ApiError::Api {
        method: method.to_owned(),
        endpoint: path.to_owned(),
        status: status.as_u16(),
        errors,
        retry_after,
    };
    if !status.is_success() {
        let errors = serde_json::from_slice::<ErrorEnvelope>(bytes).map(|e| e.errors).unwrap_or_default();
        return Err(api_error(errors));
    }
    let envelope: Envelope<T> = serde_json::from_slice(bytes).map_err(|e| ApiError::Malformed {
        method: method.to_owned(),
        endpoint: path.to_owned(),
        status: status.as_u16(),
        detail: e.to_string(),
    })?;
    if envelope.success == Some(false) || (!envelope.errors.is_empty() && envelope.success != Some(true)) {
        return Err(api_error(envelope.errors));
    }
    match envelope.result {
        Some(result) => Ok(Page { result, result_info: envelope.result_info }),
        // `null` is a valid result only where `T` can be absent; deserialising `null` into
        // `T` tells which.
        None => serde_json::from_value::<T>(serde_json::Value::Null)
            .map(|result| Page { result, result_info: envelope.result_info })
            .map_err(|_| ApiError::Malformed {
                method: method.to_owned(),
                endpoint: path.to_owned(),
                status: status.as_u16(),
                detail: "`result` is missing".into(),
            }),
    }
}

/// The innermost cause, which says "connection reset" or "connection closed before message
/// completed" where reqwest's own text only says "error sending request". URLs hold the
/// account id and path, never the token.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() { "timed out".to_owned() } else { "request failed".to_owned() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Thing {
        id: String,
    }

    #[test]
    fn decodes_both_envelope_flavours() {
        let ok = br#"{"success":true,"errors":[],"messages":["a string"],"result":{"id":"x","extra":1}}"#;
        let p: Page<Thing> = decode("GET", "/p", StatusCode::OK, None, ok).unwrap();
        assert_eq!(p.result.id, "x");
        let ok = br#"{"success":true,"errors":[],"messages":[{"code":1,"message":"m"}],"result":{"id":"y"},"result_info":{"page":1}}"#;
        let p: Page<Thing> = decode("GET", "/p", StatusCode::OK, None, ok).unwrap();
        assert_eq!(p.result_info.unwrap().page, Some(1));
    }

    #[test]
    fn failure_envelopes_become_api_errors() {
        let body = br#"{"success":false,"errors":[{"code":12000,"message":"Not found"}],"messages":[],"result":null}"#;
        let e = decode::<Thing>("GET", "/p", StatusCode::NOT_FOUND, None, body).unwrap_err();
        assert_eq!(e.codes(), vec![12000]);
        assert!(e.is_not_found());
        let e = decode::<Thing>(
            "GET",
            "/p",
            StatusCode::OK,
            None,
            br#"{"success":false,"errors":[{"code":10002,"message":"x"}],"result":null}"#,
        )
        .unwrap_err();
        assert!(e.is_retryable());
        let e = decode::<Thing>("GET", "/p", StatusCode::BAD_GATEWAY, None, b"<html>bad gateway</html>").unwrap_err();
        assert_eq!(e.status(), Some(502));
        assert!(e.is_retryable());
    }

    #[test]
    fn truncated_json_is_malformed_and_retryable() {
        let e = decode::<Thing>("GET", "/p", StatusCode::OK, None, br#"{"success":tr"#).unwrap_err();
        assert!(matches!(e, ApiError::Malformed { .. }));
        assert!(e.is_retryable());
        let e = decode::<Thing>("GET", "/p", StatusCode::OK, None, br#"{"success":true,"result":null}"#).unwrap_err();
        assert!(matches!(e, ApiError::Malformed { .. }));
        let p =
            decode::<Option<Thing>>("GET", "/p", StatusCode::OK, None, br#"{"success":true,"result":null}"#).unwrap();
        assert!(p.result.is_none());
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(
            path(&["workers", "scripts", "my-worker_1.x~", "deployments"]).as_str(),
            "/workers/scripts/my-worker_1.x~/deployments"
        );
        assert_eq!(
            path(&["workers", "scripts", "a/b?c=d%e f#g"]).as_str(),
            "/workers/scripts/a%2Fb%3Fc%3Dd%25e%20f%23g"
        );
        assert_eq!(path(&["x", "é"]).as_str(), "/x/%C3%A9");
    }

    /// The query string reqwest would send for `q`: what the API sees, not what serde makes.
    pub(crate) fn query_of<Q: Serialize + ?Sized>(q: &Q) -> Option<String> {
        let req = reqwest::Client::new().get("http://127.0.0.1/p").query(q).build().unwrap();
        req.url().query().map(str::to_owned)
    }

    #[test]
    fn no_query_sends_no_question_mark() {
        assert_eq!(query_of(&()), None);
    }

    #[tokio::test]
    async fn escaped_paths_reach_the_server_as_one_segment() {
        let client = Client::new(ClientConfig {
            base_url: "http://127.0.0.1:9/client/v4/".into(),
            account_id: "0123456789abcdef0123456789abcdef".into(),
            token: "t".into(),
            pace: Pace::default(),
            deadline: None,
        })
        .unwrap();
        let req = client.request(Method::GET, &path(&["workers", "scripts", "a/b c"]), &(), None).build().unwrap();
        assert_eq!(
            req.url().as_str(),
            "http://127.0.0.1:9/client/v4/accounts/0123456789abcdef0123456789abcdef/workers/scripts/a%2Fb%20c"
        );
    }

    #[test]
    fn token_that_is_not_header_safe_is_an_input_problem() {
        let err = Client::new(ClientConfig {
            base_url: "https://api.cloudflare.com/client/v4".into(),
            account_id: "0123456789abcdef0123456789abcdef".into(),
            token: "secret\nvalue".into(),
            pace: Pace::default(),
            deadline: None,
        })
        .err()
        .unwrap();
        assert!(matches!(err, ClientInitError::TokenNotHeaderSafe));
        assert!(!format!("{err} {err:?}").contains("secret"));
    }
}

//! The simulator's HTTP side: authentication, rate limiting, faults and recording, in the order
//! the real edge applies them, before `routes` answers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::SimConfig;
use crate::envelope::{self, Reply, error};
use crate::faults::{self, Fault, FaultAction};
use crate::state::State;

/// One API request as the simulator saw it, so a test can assert what the client sent (and
/// how often) rather than only what it printed.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    /// Starting at `/client/v4`, without the query.
    pub path: String,
    pub query: String,
    pub body: String,
    /// 0 when the connection was dropped without an answer.
    pub status: u16,
    /// Milliseconds since the simulator started, when it arrived (its body read).
    pub at_ms: u64,
    /// Milliseconds since the simulator started, when its answer was ready (or the connection
    /// dropped): with `at_ms`, which requests were in flight together.
    pub answered_ms: u64,
    pub fault: Option<String>,
}

pub struct Shared {
    state: Mutex<State>,
    pub(crate) faults: Mutex<Vec<Fault>>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    /// `METHOD path` of every API request as it arrives: a request is recorded in `requests`
    /// only once answered, so a test waiting for one in flight (held by a `delay` fault) looks here.
    pub(crate) arrivals: Mutex<Vec<String>>,
    limiter: Mutex<Limiter>,
    started: Instant,
    /// The GitHub repository, when `SimConfig::github` asks for one.
    pub(crate) github: Option<Mutex<crate::github::Repo>>,
}

impl Shared {
    pub fn new(config: SimConfig) -> Shared {
        let github = config.github.clone().map(|c| Mutex::new(crate::github::Repo::new(c)));
        Shared {
            github,
            state: Mutex::new(State::new(config)),
            faults: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            arrivals: Mutex::new(Vec::new()),
            limiter: Mutex::new(Limiter::default()),
            started: Instant::now(),
        }
    }
}

impl Shared {
    /// The account, even after a panic in another request (the state is still usable).
    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the account and of the GitHub repository (see [`crate::Snapshot`]).
    pub(crate) fn snapshot(&self) -> (State, Option<crate::github::Repo>) {
        let github = self.github.as_ref().map(|m| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone());
        (self.state().clone(), github)
    }

    /// Puts `state` and `github` back, and forgets everything else a run leaves: the recorded
    /// requests and arrivals, the armed faults and the rate-limit window. A repository is put
    /// back only where this simulator serves one.
    pub(crate) fn restore(&self, state: &State, github: Option<&crate::github::Repo>) {
        let mut st = self.state();
        *st = state.clone();
        if let (Some(m), Some(repo)) = (&self.github, github) {
            *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = repo.clone();
        }
        self.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        self.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        *self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Limiter::default();
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        status: u16,
        at_ms: u64,
        fault: Option<&FaultAction>,
    ) {
        self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(RecordedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            body: String::from_utf8_lossy(body).into_owned(),
            status,
            at_ms,
            answered_ms: self.started.elapsed().as_millis() as u64,
            fault: fault.map(|f| format!("{f:?}")),
        });
    }
}

/// The service error that makes hyper close the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a simulated fault")
    }
}

impl std::error::Error for Dropped {}

pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(_) => continue,
            },
            _ = &mut stop => return,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

pub(crate) fn respond(status: u16, body: &Value, retry_after: Option<u64>) -> Response<Full<Bytes>> {
    let mut r = Response::builder().status(status).header("content-type", "application/json");
    if let Some(s) = retry_after {
        r = r.header("retry-after", s.to_string());
    }
    r.body(Full::new(Bytes::from(body.to_string()))).unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// `r` with `Retry-After` as the HTTP date `secs` seconds from now.
fn retry_at_date(mut r: Response<Full<Bytes>>, secs: u64) -> Response<Full<Bytes>> {
    if let Ok(v) = crate::time::http_date_after(std::time::SystemTime::now(), secs).parse() {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

fn raw(status: u16, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    // A Worker on the simulated edge: public, not an API request (never recorded as one).
    match edge(&shared, &req) {
        Some(answer) => Ok(answer),
        None => handle_api(shared, req).await,
    }
}

async fn handle_api(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let api_date =
        req.headers().get("cloudflare-workers-script-api-date").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let host = req.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1").to_owned();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    if let Some(admin) = path.strip_prefix("/__sim/") {
        return Ok(crate::admin::reply(&shared, &method, admin, &body));
    }
    shared.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(format!("{method} {path}"));
    let at_ms = shared.started.elapsed().as_millis() as u64;
    let record =
        |status: u16, fault: Option<&FaultAction>| shared.record(&method, &path, &query, &body, status, at_ms, fault);
    if shared.github.is_some() && path.starts_with(&format!("{}/", crate::github::PREFIX)) {
        return github(&shared, &method, &path, &query, &body, auth.as_deref(), &host, at_ms).await;
    }
    let is_builds = path.contains("/builds/");
    // The assets upload takes the session's own token and never the API token
    // (docs/cloudflare-api.md §A.3): the route checks it.
    let is_assets_upload = path.ends_with("/workers/assets/upload");

    // Authentication comes first, as at the real edge.
    let (token_ok, scoped) = {
        let st = shared.state();
        let expected = st.config.api_token.clone();
        let token = auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")).filter(|t| !t.is_empty());
        (token.is_some() && expected.as_deref().is_none_or(|e| Some(e) == token), st.config.account_scoped_token)
    };
    if !is_assets_upload && (!token_ok || (scoped && is_builds)) {
        let (status, body) = refusal(is_builds, auth.is_some());
        record(status, None);
        return Ok(respond(status, &body, None));
    }

    let budget = match rate_limit(&shared) {
        Ok(budget) => budget,
        Err(reply) => {
            record(429, None);
            return Ok(*reply);
        }
    };

    let fault =
        faults::take(&mut shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner), &method, &path);
    // From here on the request is as it arrived, changed on the way if the fault says so.
    let body = if fault == Some(FaultAction::Corrupt) { Bytes::from(faults::corrupt(&body)) } else { body };
    // The rest runs in a task of its own: like a real server, the simulator finishes a request
    // (a delayed create does create) even when the client has given up and gone.
    let delay = Duration::from_millis(shared.state().config.answer_delay_ms);
    let task = tokio::spawn(async move {
        let record = |status: u16, fault: Option<&FaultAction>| {
            shared.record(&method, &path, &query, &body, status, at_ms, fault);
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match &fault {
            Some(FaultAction::Drop) => {
                record(0, fault.as_ref());
                return Err(Dropped);
            }
            Some(FaultAction::Status { status, code, message, retry_after }) => {
                let body = error(*code, message);
                record(*status, fault.as_ref());
                return Ok(respond(*status, &body, *retry_after));
            }
            Some(FaultAction::StatusRetryDate { status, code, message, retry_in }) => {
                let body = error(*code, message);
                record(*status, fault.as_ref());
                return Ok(retry_at_date(respond(*status, &body, None), *retry_in));
            }
            Some(FaultAction::Malformed) => {
                record(200, fault.as_ref());
                return Ok(raw(200, "{\"success\":tr"));
            }
            Some(FaultAction::SuccessFalse { code }) => {
                let body = error(*code, "Internal error");
                record(200, fault.as_ref());
                return Ok(respond(200, &body, None));
            }
            Some(FaultAction::Delay { ms }) => tokio::time::sleep(Duration::from_millis(*ms)).await,
            Some(FaultAction::DropAfter | FaultAction::UnknownEnum | FaultAction::Corrupt) | None => {}
        }
        let bearer = auth.as_deref().and_then(|a| a.strip_prefix("Bearer "));
        let headers = crate::routes::Headers { api_date: api_date.as_deref(), content_type: content_type.as_deref() };
        let (status, mut reply_body) = route(&shared, &method, &path, &query, &body, bearer, headers);
        if fault == Some(FaultAction::UnknownEnum) {
            unknown_enum(&mut reply_body);
        }
        if fault == Some(FaultAction::DropAfter) {
            record(0, fault.as_ref());
            return Err(Dropped);
        }
        record(status, fault.as_ref());
        Ok(respond(status, &reply_body, None))
    });
    let mut answer = task.await.unwrap_or(Err(Dropped))?;
    if let Some(b) = budget {
        b.apply(&mut answer);
    }
    Ok(answer)
}

/// A Worker's answer on the simulated edge.
fn edge(shared: &Shared, req: &Request<Incoming>) -> Option<Response<Full<Bytes>>> {
    let rest = req.uri().path().strip_prefix(crate::edge::PREFIX)?;
    let overrides = req.headers().get("cloudflare-workers-version-overrides").and_then(|v| v.to_str().ok());
    let (status, headers, text) = crate::edge::serve(&mut shared.state(), rest, overrides);
    let mut r = Response::builder().status(status);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    Some(r.body(Full::new(Bytes::from(text))).unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// What a request without an accepted token gets, by API area.
fn refusal(is_builds: bool, has_auth: bool) -> (u16, Value) {
    match (is_builds, has_auth) {
        (true, false) => (401, error(12005, "Missing token from authorization header")),
        // An account-scoped token (documented), or a wrong one (INFERRED: the same code).
        (true, true) => (401, error(12006, "Invalid token")),
        // 10000 is a 403 with a `documentation_url` (docs/cloudflare-api.md Correction 4);
        // whether an invalid token on Workers gets it too, or a 401, is open (§G-3): the one
        // documented shape is used.
        (false, _) => {
            let mut body = error(10000, "Authentication error");
            body["errors"][0]["documentation_url"] =
                json!("https://developers.cloudflare.com/fundamentals/api/get-started/create-token/");
            (403, body)
        }
    }
}

/// A GitHub request: faults first (with GitHub's error body), then the routes. GitHub has no
/// Cloudflare rate limit or envelope, so neither applies.
#[allow(clippy::too_many_arguments)]
async fn github(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    auth: Option<&str>,
    host: &str,
    at_ms: u64,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let record =
        |status: u16, fault: Option<&FaultAction>| shared.record(method, path, query, body, status, at_ms, fault);
    let fault =
        faults::take(&mut shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner), method, path);
    match &fault {
        Some(FaultAction::Drop) => {
            record(0, fault.as_ref());
            return Err(Dropped);
        }
        Some(FaultAction::Status { status, message, retry_after, .. }) => {
            record(*status, fault.as_ref());
            let body = crate::github::error(*status, message, "https://docs.github.com/rest");
            return Ok(respond(*status, &body, *retry_after));
        }
        Some(FaultAction::StatusRetryDate { status, message, retry_in, .. }) => {
            record(*status, fault.as_ref());
            let body = crate::github::error(*status, message, "https://docs.github.com/rest");
            return Ok(retry_at_date(respond(*status, &body, None), *retry_in));
        }
        Some(FaultAction::Delay { ms }) => tokio::time::sleep(Duration::from_millis(*ms)).await,
        _ => {}
    }
    let Some(repo) = &shared.github else { return Err(Dropped) };
    let req = crate::github::Req {
        method,
        path: path.strip_prefix(crate::github::PREFIX).unwrap_or(path),
        query,
        body,
        auth,
        base: format!("http://{host}{}", crate::github::PREFIX),
    };
    let (status, headers, answer) =
        crate::github::handle(&mut repo.lock().unwrap_or_else(std::sync::PoisonError::into_inner), &req);
    if fault == Some(FaultAction::DropAfter) {
        record(0, fault.as_ref());
        return Err(Dropped);
    }
    record(status, fault.as_ref());
    let mut r = respond(status, &answer, None);
    for (name, value) in headers {
        if let Ok(v) = value.parse() {
            r.headers_mut().insert(name, v);
        }
    }
    Ok(r)
}

fn route(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    bearer: Option<&str>,
    headers: crate::routes::Headers<'_>,
) -> Reply {
    let mut st = shared.state();
    if let Some(zones) = path.strip_prefix("/client/v4").filter(|p| *p == "/zones" || p.starts_with("/zones/")) {
        return crate::routes::handle_zones(&mut st, method, zones, query, body);
    }
    // Analytics is account-wide GraphQL, outside `/accounts/{id}` (docs/cloudflare-api.md §K.3).
    if path == "/client/v4/graphql" {
        return if method == "POST" { (200, crate::edge::graphql(&st, body)) } else { envelope::no_route() };
    }
    let Some(rest) = path.strip_prefix("/client/v4/accounts/") else {
        return envelope::no_route();
    };
    let (account, rest) = rest.split_once('/').unwrap_or((rest, ""));
    if account != st.config.account_id {
        // INFERRED: the real API's code for an account the token cannot access.
        return envelope::fail(403, 9109, "Unauthorized to access requested resource");
    }
    crate::routes::handle_with(&mut st, method, &format!("/{rest}"), query, body, bearer, headers)
}

/// Replaces enum values with one no client knows, where the answer has them.
fn unknown_enum(body: &mut Value) {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, val) in o.iter_mut() {
                    if (k == "status" || k == "build_trigger_source") && val.is_string() {
                        *val = json!("paused_for_review");
                    } else {
                        walk(val);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(r) = body.get_mut("result") {
        walk(r);
    }
}

/// The account's rate-limit window (one budget: the limit is "cumulative across dashboard, key,
/// token", docs/cloudflare-api.md §1.6).
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    /// INFERRED: a fixed window that opens at the first request after the last one closed;
    /// Cloudflare documents "1200 requests per five minute period" without saying how the
    /// period is placed.
    window_start: Option<Instant>,
    used: u32,
    locked_until: Option<Instant>,
}

/// What the `Ratelimit` and `Ratelimit-Policy` headers of an answer say (§1.6, after the IETF
/// draft the 2025-09-03 changelog cites): remaining `r` and seconds to reset `t`; quota `q` per
/// window of `w` seconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    remaining: u32,
    reset: Duration,
    quota: u32,
    window: Duration,
    /// `RateLimit::list_items`: a looser item first in each header.
    list_items: bool,
}

impl Budget {
    fn apply<B>(self, r: &mut Response<B>) {
        let secs = |d: Duration| d.as_secs_f64().ceil().max(1.0) as u64;
        let h = r.headers_mut();
        // INFERRED: the policy name; Cloudflare's examples show "default" on one header and "burst"
        // on the other, and clients ignore it.
        // Correction 12: each header is a list of items; INFERRED: the looser item's name and
        // numbers, and that it may come first.
        let (mut limit, mut policy) = (String::new(), String::new());
        if self.list_items {
            let loose = u64::from(self.remaining) + 9 * u64::from(self.quota);
            limit = format!("\"loose\";r={loose};t={}, ", secs(self.reset));
            policy = format!("\"loose\";q={};w={}, ", u64::from(self.quota) * 10, secs(self.window));
        }
        if let Ok(v) = format!("{limit}\"default\";r={};t={}", self.remaining, secs(self.reset)).parse() {
            h.insert("ratelimit", v);
        }
        if let Ok(v) = format!("{policy}\"default\";q={};w={}", self.quota, secs(self.window)).parse() {
            h.insert("ratelimit-policy", v);
        }
    }
}

/// Counts the request against the budget. Beyond it, Cloudflare blocks *every* call for the
/// lockout period (Correction 5: "all API calls for the next five minutes will be blocked,
/// receiving a HTTP 429"): 429 with code 971 and `Retry-After` in whole seconds, rounded up.
/// INFERRED: a blocked request does not extend the lockout, and the window restarts after it.
fn rate_limit(shared: &Shared) -> Result<Option<Budget>, Box<Response<Full<Bytes>>>> {
    let Some(limit) = shared.state().config.rate_limit else {
        return Ok(None);
    };
    let now = Instant::now();
    let mut l = shared.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let blocked = |until: Instant| {
        let left = until.saturating_duration_since(now);
        let budget = Budget {
            remaining: 0,
            reset: left,
            quota: limit.requests,
            window: limit.window(),
            list_items: limit.list_items,
        };
        let mut r = respond(
            429,
            &error(971, "Please wait and consider throttling your request speed"),
            Some(left.as_secs_f64().ceil().max(1.0) as u64),
        );
        budget.apply(&mut r);
        Box::new(r)
    };
    if let Some(until) = l.locked_until {
        if now < until {
            return Err(blocked(until));
        }
        *l = Limiter::default();
    }
    let start = match l.window_start {
        Some(s) if now.duration_since(s) < limit.window() => s,
        _ => {
            l.used = 0;
            l.window_start = Some(now);
            now
        }
    };
    if l.used >= limit.requests {
        let until = now + limit.lockout();
        l.locked_until = Some(until);
        return Err(blocked(until));
    }
    l.used += 1;
    Ok(Some(Budget {
        remaining: limit.requests - l.used,
        reset: (start + limit.window()).saturating_duration_since(now),
        quota: limit.requests,
        window: limit.window(),
        list_items: limit.list_items,
    }))
}

//! An imitation of the parts of Cloudflare's API that workers-ci uses: stateful, with builds
//! that progress over time, logs released by cursor, Workers versions and deployments, and
//! knobs to inject the faults the real API has on a bad day.
//!
//! It follows `docs/cloudflare-api.md`: the Builds envelope's `messages` are strings and its 404s
//! carry code 12000; the Workers envelope's 404s carry 10007. Where the API is silent the
//! choice is marked `INFERRED`. It is never more lenient than Cloudflare: a client that
//! passes here may still fail there, but not the other way round.
//!
//! It is a crate of its own and shares no code with the client (dates, randomness, name
//! rules): an oracle that shares the client's helpers shares their bugs.
//!
//! Modules:
//! - `config`: [`SimConfig`] and the `--config` file;
//! - `http`: the server, authentication, rate limit, faults, recording;
//! - `admin`: the `/__sim/*` endpoints;
//! - `routes`: the answers, one module per API area (`builds`, `workers`, `scripts`, `wrangler`);
//! - `state`: Workers, triggers, builds and their clock; `version`: both upload APIs' versions;
//! - `envelope`, `multipart`, `names`, `time`, `random`: small shared pieces;
//! - `help`: [`HELP`] and the start-up banner.
#![forbid(unsafe_code)]

mod admin;
mod config;
mod edge;
mod envelope;
mod faults;
mod github;
mod help;
mod http;
mod multipart;
mod names;
mod random;
mod routes;
mod state;
mod time;
mod version;

/// The binding kinds the simulator's version validation takes, with their required fields: a
/// test ties workers-ci's own table to it.
pub use version::BINDING_KINDS;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use config::{
    BuildProfile, ConfigError, D1Seed, DomainSeed, ListOrder, NoDeployments, RateLimit, RouteSeed, SimConfig,
    VersionProfile, WorkerSeed, ZoneSeed,
};
pub use edge::Served;
pub use faults::{Fault, FaultAction};
pub use github::{Access, DEFAULT_TOKEN as GITHUB_TOKEN, GitHubConfig, TokenPermissions};
pub use help::HELP;
pub use http::RecordedRequest;

use http::Shared;

/// The whole simulated account (and GitHub repository) at one moment, from
/// [`Simulator::snapshot`]: what a test prepares once (a first build, a version uploaded) and
/// puts back with [`Simulator::restore`] before each case, instead of running the preparation
/// again. Builds keep their clock: one that had stopped is still stopped when put back, one that
/// was running has run on meanwhile.
#[derive(Clone)]
pub struct Snapshot {
    state: state::State,
    github: Option<github::Repo>,
}

/// A running simulator. Dropping it stops the server, so a test cannot leak one into the next.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Simulator {
    /// Serves on 127.0.0.1:`port` (0: any free port) on the current tokio runtime. Loopback
    /// only: the client accepts plain http only there, and nothing else should reach a server
    /// that takes any token. A busy port is an error that says so and how to pick another.
    pub async fn start(config: SimConfig, port: u16) -> std::io::Result<Simulator> {
        let listener = bind(port).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(http::serve(listener, shared.clone(), stopped));
        Ok(Simulator { addr, shared, stop: Some(stop), thread: None })
    }

    /// Serves from a thread of its own on any free port, for tests that run the binary
    /// synchronously (a runtime blocked on `Command::output` could not serve it).
    pub fn start_background(config: SimConfig) -> std::io::Result<Simulator> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match bind(0).await.and_then(|l| Ok((l.local_addr()?, l))) {
                    Ok(x) => x,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let (addr, listener) = listener;
                let shared = Arc::new(Shared::new(config));
                let (stop, stopped) = tokio::sync::oneshot::channel();
                let _ = tx.send(Ok((addr, shared.clone(), stop)));
                http::serve(listener, shared, stopped).await;
            });
        });
        let (addr, shared, stop) = rx.recv().map_err(std::io::Error::other)??;
        Ok(Simulator { addr, shared, stop: Some(stop), thread: Some(thread) })
    }

    /// What the client takes as `api_url`: the listening address with `/client/v4`, like
    /// Cloudflare's, so paths are compared exactly as they would be against the real API.
    pub fn base_url(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }

    /// What a client takes as `GITHUB_API_URL` when the config has a GitHub repository:
    /// GitHub Enterprise Server's form, `http(s)://HOST/api/v3`.
    pub fn github_url(&self) -> String {
        format!("http://{}{}", self.addr, github::PREFIX)
    }

    /// The comments of an issue or pull request, oldest first, as `(id, body)`.
    pub fn github_comments(&self, issue: u64) -> Vec<(u64, String)> {
        self.github(|r| r.comments.iter().filter(|c| c.issue == issue).map(|c| (c.id, c.body.clone())).collect())
    }

    /// Adds a comment by someone else, as on a busy pull request.
    pub fn seed_github_comment(&self, issue: u64, body: &str) -> u64 {
        self.github(|r| r.seed_comment(issue, body))
    }

    /// Adds a comment by the workflow's own token (`github-actions[bot]`), as an earlier run
    /// would have written it.
    pub fn seed_github_bot_comment(&self, issue: u64, body: &str) -> u64 {
        self.github(|r| r.bot_comment(issue, body))
    }

    /// Every deployment, oldest first, with its statuses (oldest first) under `statuses`.
    pub fn github_deployments(&self) -> Vec<serde_json::Value> {
        self.github(|r| r.deployments.iter().map(|d| serde_json::to_value(d).unwrap_or_default()).collect())
    }

    /// Every commit status of `sha`, oldest first, as the statuses list shows each.
    pub fn github_statuses(&self, sha: &str) -> Vec<serde_json::Value> {
        let sha = sha.to_ascii_lowercase();
        self.github(|r| {
            r.statuses.iter().filter(|s| s.sha == sha).map(|s| serde_json::to_value(s).unwrap_or_default()).collect()
        })
    }

    /// Changes what a token may do, mid-test.
    pub fn set_github_token(&self, token: &str, permissions: TokenPermissions) {
        self.github(|r| {
            r.config.tokens.insert(token.to_owned(), permissions);
        });
    }

    fn github<T: Default>(&self, f: impl FnOnce(&mut github::Repo) -> T) -> T {
        match &self.shared.github {
            Some(m) => f(&mut m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)),
            None => T::default(),
        }
    }

    /// The only account the simulator answers for; any other gets 403, as a token without
    /// access to it would.
    pub fn account_id(&self) -> String {
        self.shared.state().config.account_id.clone()
    }

    /// Every API request served, in arrival order (admin requests excluded), for tests that
    /// count requests or check what the client sent rather than what it printed.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// How many API requests of `method` whose path contains `path` have arrived, answered or
    /// not: what a test waits for to know a request is in flight.
    pub fn arrived(&self, method: &str, path: &str) -> usize {
        let arrivals = self.shared.arrivals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        arrivals.iter().filter(|a| a.split_once(' ').is_some_and(|(m, p)| m == method && p.contains(path))).count()
    }

    /// Arms a fault for the requests it matches, as `POST /__sim/faults` does, so a test can
    /// meet the real API's bad days on purpose and deterministically.
    pub fn add_fault(&self, fault: Fault) {
        self.shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(fault);
    }

    /// A copy of everything the simulated account holds now (Workers, triggers, builds, versions,
    /// deployments, Previews, variables, assets, the GitHub repository), for [`Simulator::restore`].
    pub fn snapshot(&self) -> Snapshot {
        let (state, github) = self.shared.snapshot();
        Snapshot { state, github }
    }

    /// Puts the account back as `snapshot` found it (on this simulator or another: nothing in it
    /// depends on the port), and starts afresh what a run leaves behind: no request recorded
    /// (`requests`, `arrived`), no fault armed, a new rate-limit window. The GitHub repository is
    /// put back where this simulator serves one.
    pub fn restore(&self, snapshot: &Snapshot) {
        self.shared.restore(&snapshot.state, snapshot.github.as_ref());
    }

    /// How builds created from now on behave (earlier builds keep theirs, as a build that has
    /// started does not change its mind).
    pub fn set_build_profile(&self, profile: BuildProfile) {
        self.shared.state().config.build = profile;
    }

    /// A build started by the Git integration for a push, visible after `after`: what `wait`
    /// exists to find. Empty when no trigger of that Worker builds the branch.
    pub fn push(&self, worker: &str, branch: &str, commit: &str, after: Duration) -> String {
        self.shared.state().push(worker, branch, commit, after).unwrap_or_default()
    }

    /// Every build, as `GET /builds/builds/{uuid}` would show it now, including builds the
    /// client never asked about.
    pub fn builds(&self) -> Vec<serde_json::Value> {
        let state = self.shared.state();
        let now = std::time::Instant::now();
        state.builds.iter().map(|b| b.json(now)).collect()
    }

    /// A build's whole log, released or not, to compare with what the client printed.
    pub fn build_log(&self, build_uuid: &str) -> Vec<String> {
        self.shared.state().builds.iter().find(|b| b.uuid == build_uuid).map(|b| b.lines.clone()).unwrap_or_default()
    }

    /// Stored versions with their modules and secret values: what the API received, which the
    /// API itself never shows back.
    pub fn versions(&self, worker: &str) -> Vec<serde_json::Value> {
        self.shared.state().worker_versions(worker)
    }

    /// The rows `sql` selects from the D1 database of this name (`None` when there is no such
    /// database or the SQL fails): what the database holds, read beside the API.
    pub fn d1_select(&self, database: &str, sql: &str) -> Option<Vec<serde_json::Value>> {
        self.shared.state().d1.iter().find(|d| d.name == database)?.select(sql)
    }

    /// The uuid of the D1 database of this name.
    pub fn d1_uuid(&self, database: &str) -> Option<String> {
        self.shared.state().d1.iter().find(|d| d.name == database).map(|d| d.uuid.clone())
    }

    /// The content type an asset of this hash was uploaded with (what it is served with).
    pub fn asset_content_type(&self, hash: &str) -> Option<String> {
        self.shared.state().assets.stored.get(hash).cloned()
    }

    /// The Worker's live triggers as `GET /builds/workers/{tag}/triggers` lists them.
    pub fn triggers(&self, worker: &str) -> Vec<serde_json::Value> {
        let state = self.shared.state();
        state
            .workers
            .iter()
            .find(|w| w.name == worker || w.tag == worker)
            .map(|w| w.triggers.clone())
            .unwrap_or_default()
    }

    /// A trigger's build-time variables as stored, secret values included (which the API never
    /// shows back), as `(key, value, is_secret)`.
    pub fn env_vars(&self, trigger_uuid: &str) -> Vec<(String, String, bool)> {
        let state = self.shared.state();
        state
            .env_vars
            .get(trigger_uuid)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.value.clone(), v.is_secret)).collect())
            .unwrap_or_default()
    }

    /// Repository connections: the seeded triggers' one, and those made through the API.
    pub fn connections(&self) -> Vec<serde_json::Value> {
        self.shared.state().connections.clone()
    }

    /// The Worker's Previews, oldest first: each as `GET …/previews/{id}` shows it, plus
    /// `deployments`, oldest first, as stored (modules and secret values included, which the
    /// API never shows back).
    pub fn previews(&self, worker: &str) -> Vec<serde_json::Value> {
        let state = self.shared.state();
        let Some(w) = state.workers.iter().position(|w| w.name == worker || w.id == worker) else {
            return Vec::new();
        };
        (0..state.workers[w].previews.len())
            .map(|p| {
                let mut v = routes::preview_json(&state, w, p);
                v["deployments"] = serde_json::Value::Array(state.workers[w].previews[p].deployments.clone());
                v
            })
            .collect()
    }

    /// Where the simulated edge serves `worker`: requests under this URL are answered by the
    /// Worker's live deployment (README "The simulator").
    pub fn worker_url(&self, worker: &str) -> String {
        format!("http://{}{}{worker}", self.addr, edge::PREFIX)
    }

    /// Every request the edge served `worker`, oldest first.
    pub fn served(&self, worker: &str) -> Vec<Served> {
        self.shared.state().served.iter().filter(|s| s.worker == worker).cloned().collect()
    }

    /// How a version behaves from now on (replacing its earlier profile).
    pub fn set_version_profile(&self, profile: VersionProfile) {
        let mut st = self.shared.state();
        st.config.version_profiles.retain(|p| !(p.worker == profile.worker && p.number == profile.number));
        st.config.version_profiles.push(profile);
    }

    /// Changes a knob of the account mid-test (analytics permission, synthetic traffic, …).
    pub fn configure(&self, f: impl FnOnce(&mut SimConfig)) {
        f(&mut self.shared.state().config);
    }

    /// The Worker's deployments, newest first, as the deployments endpoint lists them.
    pub fn deployments(&self, worker: &str) -> Vec<serde_json::Value> {
        self.shared.state().worker_deployments(worker)
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `workers-ci simulate`: serves until SIGINT/SIGTERM, after printing [`Simulator::banner`] to
/// stdout (its first line is `listening on <base URL>`, which scripts wait for).
pub async fn serve_forever(config: SimConfig, port: u16) -> std::io::Result<()> {
    let sim = Simulator::start(config, port).await?;
    print!("{}", sim.banner());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    shutdown_signal().await?;
    drop(sim);
    Ok(())
}

/// Resolves at the first SIGINT or SIGTERM (Ctrl-C or Ctrl-Break on Windows). The handlers are
/// installed before the first `await`, so a signal sent right after the banner is not lost.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(windows)]
    {
        let mut c = tokio::signal::windows::ctrl_c()?;
        let mut b = tokio::signal::windows::ctrl_break()?;
        tokio::select! {
            _ = c.recv() => {}
            _ = b.recv() => {}
        }
    }
    #[cfg(not(any(unix, windows)))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Binds 127.0.0.1:`port`, turning "address in use" into advice: the usual cause is another
/// simulator or `wrangler dev` on the default port.
async fn bind(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!(
                    "port {port} on 127.0.0.1 is already in use (another simulator or wrangler dev?); \
                     pass --port N, or --port 0 for any free port"
                ),
            )
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_busy_port_is_named_with_advice() {
        let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let Err(e) = Simulator::start(SimConfig::default(), port).await else {
            panic!("started on a busy port");
        };
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
        let text = e.to_string();
        assert!(text.contains(&format!("port {port} on 127.0.0.1 is already in use")), "{text}");
        assert!(text.contains("--port 0"), "{text}");
    }

    /// What a test prepares once and puts back per case: the account as it was (on another
    /// simulator too), and nothing of what happened since, nor of the requests and faults before.
    #[tokio::test]
    async fn a_snapshot_puts_the_account_back_and_forgets_requests_and_faults() {
        let first = Simulator::start(SimConfig::default(), 0).await.unwrap();
        let kept = first.push("my-worker", "main", "a", Duration::ZERO);
        let snapshot = first.snapshot();
        first.push("my-worker", "main", "b", Duration::ZERO);
        let uuids = |sim: &Simulator| -> Vec<String> {
            sim.builds().iter().map(|b| b["build_uuid"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(uuids(&first).len(), 2);

        let second = Simulator::start(SimConfig::default(), 0).await.unwrap();
        second.add_fault(Fault {
            method: None,
            path_contains: None,
            path_excludes: None,
            times: 1,
            skip: 0,
            action: FaultAction::Drop,
        });
        second.shared.requests.lock().unwrap().push(RecordedRequest {
            method: "GET".into(),
            path: "/client/v4/x".into(),
            query: String::new(),
            body: String::new(),
            status: 200,
            at_ms: 0,
            answered_ms: 0,
            fault: None,
        });
        second.shared.arrivals.lock().unwrap().push("GET /client/v4/x".into());
        second.restore(&snapshot);
        assert_eq!(uuids(&second), vec![kept.clone()]);
        assert_eq!(second.build_log(&kept), first.build_log(&kept));
        assert!(second.requests().is_empty());
        assert_eq!(second.arrived("GET", "/"), 0);
        assert!(second.shared.faults.lock().unwrap().is_empty());

        first.restore(&snapshot);
        assert_eq!(uuids(&first), vec![kept], "restored where it was taken, too");
    }

    #[tokio::test]
    async fn banner_lists_the_account_and_hides_a_configured_token() {
        let config = SimConfig {
            api_token: Some("fixture-token-value".into()),
            workers: vec![WorkerSeed { tag: Some("0123456789abcdef0123456789abcdef".into()), ..WorkerSeed::default() }],
            ..SimConfig::default()
        };
        let sim = Simulator::start(config, 0).await.unwrap();
        let b = sim.banner();
        assert!(b.starts_with(&format!("listening on {}\n", sim.base_url())), "{b}");
        assert!(b.contains(&format!("export CLOUDFLARE_API_BASE_URL={}", sim.base_url())), "{b}");
        assert!(b.contains(&format!("export CLOUDFLARE_ACCOUNT_ID={}", sim.account_id())), "{b}");
        assert!(b.contains("0123456789abcdef0123456789abcdef"), "{b}");
        assert!(b.contains("Deploy default branch") && b.contains("branches: main"), "{b}");
        assert!(!b.contains("fixture-token-value"), "the configured token is a secret: {b}");
    }
}

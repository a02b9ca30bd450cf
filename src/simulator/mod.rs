//! An imitation of the parts of Cloudflare's API that workers-ci uses: stateful, with builds
//! that progress over time, logs released by cursor, Workers versions and deployments, and
//! knobs to inject the faults the real API has on a bad day.
//!
//! It follows `cloudflare-api.md`: the Builds envelope's `messages` are strings and its 404s
//! carry code 12000; the Workers envelope's 404s carry 10007. Where the API is silent the
//! choice is marked `INFERRED`.

mod config;
mod faults;
mod http;
mod state;
mod wrangler;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use config::{BuildProfile, RateLimit, SimConfig, WorkerSeed};
pub use faults::{Fault, FaultAction};
pub use http::RecordedRequest;

use http::Shared;

/// A running simulator. Dropping it stops the server.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Simulator {
    /// Serves on 127.0.0.1:`port` (0: any free port) on the current tokio runtime.
    pub async fn start(config: SimConfig, port: u16) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(http::serve(listener, shared.clone(), stopped));
        Ok(Simulator { addr, shared, stop: Some(stop), thread: None })
    }

    /// Serves from a thread of its own, for tests that run the binary synchronously.
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
                let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0))
                    .await
                    .and_then(|l| Ok((l.local_addr()?, l)))
                {
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

    pub fn base_url(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }

    pub fn account_id(&self) -> String {
        self.shared.state().config.account_id.clone()
    }

    /// Every API request served, in arrival order (admin requests excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn add_fault(&self, fault: Fault) {
        self.shared.faults.lock().unwrap_or_else(|p| p.into_inner()).push(fault);
    }

    pub fn set_build_profile(&self, profile: BuildProfile) {
        self.shared.state().config.build = profile;
    }

    /// A build started by the Git integration for a push, visible after `after`.
    pub fn push(&self, worker: &str, branch: &str, commit: &str, after: Duration) -> String {
        self.shared.state().push(worker, branch, commit, after).unwrap_or_default()
    }

    /// Every build, as `GET /builds/builds/{uuid}` would show it now.
    pub fn builds(&self) -> Vec<serde_json::Value> {
        let state = self.shared.state();
        let now = std::time::Instant::now();
        state.builds.iter().map(|b| b.json(now)).collect()
    }

    /// A build's whole log, released or not.
    pub fn build_log(&self, build_uuid: &str) -> Vec<String> {
        self.shared.state().builds.iter().find(|b| b.uuid == build_uuid).map(|b| b.lines.clone()).unwrap_or_default()
    }

    /// Stored versions with their modules and secret values (what the API received).
    pub fn versions(&self, worker: &str) -> Vec<serde_json::Value> {
        self.shared.state().worker_versions(worker)
    }

    /// Newest first.
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

/// `workers-ci simulate`: serves until SIGINT/SIGTERM.
pub async fn serve_forever(config: SimConfig, port: u16) -> anyhow::Result<()> {
    let sim = Simulator::start(config, port).await?;
    println!("listening on {}", sim.base_url());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut signals = crate::signal::install()?;
    let _ = signals.changed().await;
    drop(sim);
    Ok(())
}

pub(crate) type Locked<'a> = std::sync::MutexGuard<'a, state::State>;

impl Shared {
    pub(crate) fn state(&self) -> Locked<'_> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

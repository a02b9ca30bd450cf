//! The simulated account: Workers, triggers, builds, versions and deployments, and the answer
//! to each API request. Everything here is synchronous; `http` does the networking.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use serde_json::{Value, json};

use super::config::{BuildProfile, SimConfig};
use crate::random;
use crate::rfc3339;

/// An answer: status and JSON body.
pub type Reply = (u16, Value);

pub struct Worker {
    pub name: String,
    /// Script tag (Builds' `external_script_id`).
    pub tag: String,
    /// Workers beta id. INFERRED: the API does not say whether it equals the tag; it is kept
    /// distinct here so a client that confuses them fails against the simulator.
    pub id: String,
    pub created: SystemTime,
    pub triggers: Vec<Value>,
    pub versions: Vec<Value>,
    pub deployments: Vec<Value>,
}

impl Worker {
    /// A Worker created through the API: fresh ids, no repository connected, nothing uploaded.
    pub fn new(name: &str) -> Worker {
        Worker {
            name: name.to_owned(),
            tag: random::hex(16),
            id: random::hex(16),
            created: SystemTime::now(),
            triggers: Vec::new(),
            versions: Vec::new(),
            deployments: Vec::new(),
        }
    }
}

pub struct Build {
    pub uuid: String,
    pub tag: String,
    pub trigger: Value,
    /// Lifecycle clock: the build becomes visible (and queued) at `start`.
    pub start: Instant,
    pub start_wall: SystemTime,
    pub profile: BuildProfile,
    pub branch: String,
    pub commit: String,
    pub source: &'static str,
    pub lines: Vec<String>,
    pub cancelled_after: Option<Duration>,
}

const MESSAGE_LIMIT: usize = 1000;
const TAG_LIMIT: usize = 100;

impl Build {
    fn q(&self) -> Duration {
        Duration::from_millis(self.profile.queued_ms)
    }
    fn i(&self) -> Duration {
        Duration::from_millis(self.profile.initializing_ms)
    }
    fn r(&self) -> Duration {
        Duration::from_millis(self.profile.running_ms)
    }
    fn skipped(&self) -> bool {
        self.profile.outcome == "skipped"
    }

    /// When it stops (relative to `start`) and with what outcome.
    fn stop(&self) -> (Duration, String) {
        let natural = if self.skipped() { self.q() } else { self.q() + self.i() + self.r() };
        match self.cancelled_after {
            Some(c) if c < natural => (c, "cancelled".into()),
            _ => (natural, self.profile.outcome.clone()),
        }
    }

    pub fn visible(&self, now: Instant) -> bool {
        now >= self.start
    }

    fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.start)
    }

    /// When line `k` of the natural log is released, relative to `start`: two lines while
    /// initializing, the rest spread over the running phase.
    fn release_at(&self, k: usize, total: usize) -> Duration {
        if k < 2 {
            return self.q() + self.i() / 2;
        }
        let spread = total.saturating_sub(2).max(1) as u32;
        self.q() + self.i() + self.r() * (k as u32 - 1) / spread
    }

    /// How many lines are readable at `now`.
    pub fn released(&self, now: Instant) -> usize {
        if self.skipped() {
            return 0;
        }
        let e = self.elapsed(now);
        let (stop_at, _) = self.stop();
        if e >= stop_at {
            return self.lines.len();
        }
        (0..self.lines.len()).take_while(|k| self.release_at(*k, self.lines.len()) <= e).count()
    }

    fn status(&self, now: Instant) -> (&'static str, Option<String>) {
        let e = self.elapsed(now);
        let (stop_at, outcome) = self.stop();
        if e >= stop_at {
            ("stopped", Some(outcome))
        } else if e < self.q() {
            ("queued", None)
        } else if e < self.q() + self.i() {
            ("initializing", None)
        } else {
            ("running", None)
        }
    }

    fn at(&self, d: Duration) -> String {
        rfc3339::format(self.start_wall + d)
    }

    pub fn json(&self, now: Instant) -> Value {
        let (status, outcome) = self.status(now);
        let e = self.elapsed(now);
        let (stop_at, _) = self.stop();
        let init_on = (e >= self.q() && !self.skipped()).then(|| self.at(self.q()));
        let running_on =
            (e >= self.q() + self.i() && stop_at > self.q() + self.i()).then(|| self.at(self.q() + self.i()));
        let stopped_on = (e >= stop_at).then(|| self.at(stop_at));
        let modified =
            stopped_on.clone().or(running_on.clone()).or(init_on.clone()).unwrap_or_else(|| self.at(Duration::ZERO));
        let preview = (outcome.as_deref() == Some("success")).then(|| self.profile.preview_url.clone()).flatten();
        let mut v = json!({
            "build_uuid": self.uuid,
            "status": status,
            "build_outcome": outcome,
            "created_on": self.at(Duration::ZERO),
            "modified_on": modified,
            "initializing_on": init_on,
            "running_on": running_on,
            "stopped_on": stopped_on,
            "build_trigger_metadata": {
                "build_trigger_source": self.source,
                "branch": self.branch,
                "commit_hash": self.commit,
                "commit_message": format!("Change on {}", self.branch),
                "author": "dev@example.com",
                "build_command": self.trigger["build_command"],
                "deploy_command": self.trigger["deploy_command"],
                "root_directory": "/",
                "build_token_name": "workers-builds-token",
                "build_token_uuid": "6a9b5b5e-0c1a-4ad8-9a2f-2f2d2b2e2f21",
                "environment_variables": {},
                "repo_name": "my-worker",
                "provider_account_name": "example",
                "provider_type": "github",
            },
            "trigger": self.trigger,
            "pull_request": null,
        });
        if let Some(p) = preview {
            v["preview_url"] = json!(p);
        }
        v
    }

    fn cancel(&mut self, now: Instant) -> Result<Value, Reply> {
        let e = self.elapsed(now);
        let (stop_at, _) = self.stop();
        if e >= stop_at {
            // INFERRED: the API's answer for cancelling a stopped build is not documented.
            return Err((400, builds_error(12400, "Build is already stopped")));
        }
        let shown = self.released(now);
        self.lines.truncate(shown);
        self.lines.push("Build was cancelled".into());
        self.cancelled_after = Some(e);
        let (_, outcome) = self.stop();
        Ok(json!({ "build_uuid": self.uuid, "build_outcome": outcome, "stopped_on": self.at(e) }))
    }
}

pub struct State {
    pub config: SimConfig,
    pub workers: Vec<Worker>,
    pub builds: Vec<Build>,
}

pub fn workers_ok(result: Value) -> Value {
    json!({ "success": true, "errors": [], "messages": [], "result": result })
}

pub fn workers_error(code: i64, message: &str) -> Value {
    json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null })
}

pub fn builds_ok(result: Value) -> Value {
    json!({ "success": true, "errors": [], "messages": [], "result": result })
}

pub fn builds_error(code: i64, message: &str) -> Value {
    json!({ "success": false, "errors": [{ "code": code, "message": message }], "messages": [], "result": null })
}

fn not_found_builds() -> Reply {
    (404, builds_error(12000, "Not found"))
}

fn not_found_workers(what: &str) -> Reply {
    (404, workers_error(10007, &format!("{what} not found")))
}

fn bad_request(message: &str) -> Reply {
    (400, workers_error(10021, message))
}

/// A UUID derived from a seed, so a simulator seeded with the same tags answers with the same
/// ids (tests compare runs across simulators).
fn derived_uuid(seed: &str, n: u8) -> String {
    let hex: String = seed
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(32)
        .map(|b| char::from_digit(u32::from((b ^ n) % 16), 16).unwrap_or('0'))
        .collect();
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

fn triggers_for(tag: &str) -> Vec<Value> {
    let repo = json!({
        "repo_connection_uuid": derived_uuid(tag, 0),
        "repo_id": "123456789",
        "repo_name": "my-worker",
        "provider_type": "github",
        "provider_account_id": "987654",
        "provider_account_name": "example",
        "created_on": rfc3339::format(SystemTime::now()),
        "modified_on": rfc3339::format(SystemTime::now()),
        "deleted_on": null,
    });
    let t = |n: u8, name: &str, inc: &[&str], exc: &[&str], deploy: &str| {
        json!({
            "trigger_uuid": derived_uuid(tag, n),
            "trigger_name": name,
            "external_script_id": tag,
            "build_command": "npm run build",
            "deploy_command": deploy,
            "root_directory": "/",
            "branch_includes": inc,
            "branch_excludes": exc,
            "path_includes": ["*"],
            "path_excludes": [],
            "build_caching_enabled": true,
            "build_token_name": "workers-builds-token",
            "build_token_uuid": "6a9b5b5e-0c1a-4ad8-9a2f-2f2d2b2e2f21",
            "created_on": rfc3339::format(SystemTime::now()),
            "modified_on": rfc3339::format(SystemTime::now()),
            "deleted_on": null,
            "repo_connection": repo,
        })
    };
    vec![
        t(1, "Deploy default branch", &["main"], &[], "npx wrangler deploy"),
        t(2, "Deploy non-production branches", &["*"], &["main"], "npx wrangler versions upload"),
    ]
}

/// The trigger as embedded in a build: without `build_token_uuid`.
fn embedded(trigger: &Value) -> Value {
    let mut t = trigger.clone();
    if let Some(o) = t.as_object_mut() {
        o.remove("build_token_uuid");
        o.remove("build_token_name");
    }
    t
}

fn valid_worker_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Module content types the upload APIs accept (`cloudflare-api.md` §4.2), for both the
/// beta JSON upload and the classic multipart one.
pub(super) const CONTENT_TYPES: &[&str] = &[
    "application/javascript+module",
    "text/javascript+module",
    "application/javascript",
    "text/javascript",
    "text/x-python",
    "text/x-python-requirement",
    "application/wasm",
    "text/plain",
    "application/octet-stream",
    "application/source-map",
];

impl State {
    pub fn new(config: SimConfig) -> State {
        let workers = config
            .workers
            .iter()
            .map(|seed| {
                let tag = seed.tag.clone().unwrap_or_else(|| random::hex(16));
                Worker {
                    name: seed.name.clone(),
                    triggers: match (seed.triggers, seed.preview_trigger) {
                        (false, _) => Vec::new(),
                        (true, true) => triggers_for(&tag),
                        (true, false) => triggers_for(&tag).into_iter().take(1).collect(),
                    },
                    id: if seed.tag.is_some() { tag.chars().rev().collect() } else { random::hex(16) },
                    tag,
                    created: SystemTime::now(),
                    versions: Vec::new(),
                    deployments: Vec::new(),
                }
            })
            .collect();
        State { config, workers, builds: Vec::new() }
    }

    fn worker_by_tag(&self, tag: &str) -> Option<&Worker> {
        self.workers.iter().find(|w| w.tag == tag)
    }

    fn worker_index(&self, id_or_name: &str) -> Option<usize> {
        self.workers.iter().position(|w| w.id == id_or_name || w.name == id_or_name)
    }

    pub fn new_build(
        &mut self,
        tag: &str,
        trigger: &Value,
        branch: String,
        commit: String,
        source: &'static str,
        delay: Duration,
    ) -> String {
        let profile = self.config.build.clone();
        let uuid = random::uuid_v4();
        self.builds.push(Build {
            uuid: uuid.clone(),
            tag: tag.to_owned(),
            trigger: embedded(trigger),
            start: Instant::now() + delay,
            start_wall: SystemTime::now() + delay,
            lines: profile.lines(),
            profile,
            branch,
            commit,
            source,
            cancelled_after: None,
        });
        uuid
    }

    /// The Git integration's build for a push: the trigger that matches the branch.
    pub fn push(&mut self, worker: &str, branch: &str, commit: &str, after: Duration) -> Option<String> {
        let w = self.workers.iter().find(|w| w.name == worker || w.tag == worker)?;
        let trigger = w
            .triggers
            .iter()
            .find(|t| {
                let has = |k: &str, b: &str| {
                    t[k].as_array().is_some_and(|a| a.iter().any(|p| p.as_str().is_some_and(|p| p == "*" || p == b)))
                };
                has("branch_includes", branch) && !has("branch_excludes", branch)
            })?
            .clone();
        let tag = w.tag.clone();
        Some(self.new_build(&tag, &trigger, branch.to_owned(), commit.to_owned(), "push", after))
    }

    /// Answers an API request. `path` is relative to `/accounts/{id}`.
    pub fn handle(&mut self, method: &str, path: &str, query: &HashMap<String, String>, body: &[u8]) -> Reply {
        if let Some(reply) = super::wrangler::handle(self, method, path, body) {
            return reply;
        }
        let now = Instant::now();
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segs.as_slice()) {
            ("GET", ["workers", "scripts"]) => {
                let list: Vec<Value> = self
                    .workers
                    .iter()
                    .map(|w| {
                        json!({
                            "id": w.name, "tag": w.tag, "tags": [], "etag": random::hex(16),
                            "created_on": rfc3339::format(w.created), "modified_on": rfc3339::format(w.created),
                            "handlers": ["fetch"], "has_assets": false, "has_modules": true, "logpush": false,
                            "usage_model": "standard", "compatibility_date": "2026-11-01", "compatibility_flags": [],
                            "last_deployed_from": "wrangler", "routes": null,
                        })
                    })
                    .collect();
                (200, workers_ok(Value::Array(list)))
            }
            ("GET", ["builds", "workers", tag, "triggers"]) => match self.worker_by_tag(tag) {
                Some(w) if !w.triggers.is_empty() => (200, builds_ok(Value::Array(w.triggers.clone()))),
                _ => not_found_builds(),
            },
            ("POST", ["builds", "triggers", trigger_uuid, "builds"]) => {
                let Some((tag, trigger)) = self.workers.iter().find_map(|w| {
                    w.triggers.iter().find(|t| t["trigger_uuid"] == *trigger_uuid).map(|t| (w.tag.clone(), t.clone()))
                }) else {
                    return not_found_builds();
                };
                let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let branch = req.get("branch").and_then(Value::as_str).filter(|s| !s.is_empty());
                let commit = req.get("commit_hash").and_then(Value::as_str).filter(|s| !s.is_empty());
                if !req.is_object() || (branch.is_none() && commit.is_none()) {
                    return (400, builds_error(12002, "Invalid request body"));
                }
                let branch = branch.unwrap_or("main").to_owned();
                let commit = commit.map_or_else(|| random::hex(20), str::to_owned);
                let uuid = self.new_build(&tag, &trigger, branch, commit, "api", Duration::ZERO);
                let created = rfc3339::format(SystemTime::now());
                (200, builds_ok(json!({ "build_uuid": uuid, "created_on": created })))
            }
            ("GET", ["builds", "workers", tag, "builds"]) => {
                if self.worker_by_tag(tag).is_none() {
                    return not_found_builds();
                }
                let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
                // INFERRED default page size.
                let per_page: usize = query.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(25);
                if per_page == 0 || per_page > 200 {
                    return (400, builds_error(12002, "per_page must be between 1 and 200"));
                }
                let mut list: Vec<&Build> = self.builds.iter().filter(|b| b.tag == *tag && b.visible(now)).collect();
                list.sort_by_key(|b| std::cmp::Reverse(b.start));
                let total = list.len();
                let items: Vec<Value> =
                    list.iter().skip((page - 1) * per_page).take(per_page).map(|b| b.json(now)).collect();
                let mut env = builds_ok(Value::Array(items.clone()));
                env["result_info"] = json!({ "count": items.len(), "page": page, "per_page": per_page, "total_count": total, "total_pages": total.div_ceil(per_page) });
                (200, env)
            }
            ("GET", ["builds", "builds", uuid]) => match self.builds.iter().find(|b| b.uuid == *uuid && b.visible(now))
            {
                Some(b) => (200, builds_ok(b.json(now))),
                None => not_found_builds(),
            },
            ("GET", ["builds", "builds", uuid, "logs"]) => {
                let page_size = self.config.log_page_size.max(1);
                let ms = self.config.log_timestamps_ms;
                let with_last_cursor = self.config.cursor_on_last_page;
                let Some(b) = self.builds.iter().find(|b| b.uuid == *uuid && b.visible(now)) else {
                    return not_found_builds();
                };
                let start = match query.get("cursor") {
                    None => 0,
                    Some(c) => match decode_cursor(c) {
                        Some(o) => o,
                        None => return (400, builds_error(12002, "Invalid cursor")),
                    },
                };
                let released = b.released(now);
                let start = start.min(released);
                let end = (start + page_size).min(released);
                let total = b.lines.len();
                let lines: Vec<Value> = (start..end)
                    .map(|k| {
                        let at = b.start_wall + b.release_at(k, total).min(b.stop().0);
                        let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                        let ts = if ms { json!(secs.as_millis() as u64) } else { json!(secs.as_secs()) };
                        json!([ts, b.lines[k]])
                    })
                    .collect();
                let truncated = end < released;
                let mut result = json!({ "lines": lines, "truncated": truncated });
                if truncated || with_last_cursor {
                    result["cursor"] = json!(encode_cursor(end));
                }
                (200, builds_ok(result))
            }
            ("PUT", ["builds", "builds", uuid, "cancel"]) => {
                match self.builds.iter_mut().find(|b| b.uuid == *uuid && b.visible(now)) {
                    Some(b) => match b.cancel(now) {
                        Ok(v) => (200, builds_ok(v)),
                        Err(reply) => reply,
                    },
                    None => not_found_builds(),
                }
            }
            ("GET", ["workers", "workers"]) => {
                let list: Vec<Value> = self.workers.iter().map(|w| self.worker_json(w)).collect();
                let n = list.len();
                let mut env = workers_ok(Value::Array(list));
                env["result_info"] = json!({ "page": 1, "per_page": 100, "count": n, "total_count": n });
                (200, env)
            }
            ("POST", ["workers", "workers"]) => {
                let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
                let Some(name) = req.get("name").and_then(Value::as_str) else {
                    return (400, workers_error(10003, "Missing required field: name"));
                };
                if !valid_worker_name(name) {
                    return (400, workers_error(10016, "Worker name is invalid"));
                }
                if self.workers.iter().any(|w| w.name == name) {
                    return (409, workers_error(10040, "A Worker with this name already exists"));
                }
                let w = Worker::new(name);
                let v = self.worker_json(&w);
                self.workers.push(w);
                (200, workers_ok(v))
            }
            ("GET", ["workers", "workers", id]) => match self.worker_index(id) {
                Some(i) => (200, workers_ok(self.worker_json(&self.workers[i]))),
                None => not_found_workers("Worker"),
            },
            ("POST", ["workers", "workers", id, "versions"]) => {
                let Some(i) = self.worker_index(id) else { return not_found_workers("Worker") };
                let deploy = query.get("deploy").is_some_and(|d| d == "true");
                self.create_version(i, body, deploy)
            }
            ("GET", ["workers", "workers", id, "versions"]) => {
                let Some(i) = self.worker_index(id) else { return not_found_workers("Worker") };
                let per_page: usize = query.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(10).clamp(1, 100);
                let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
                let all: Vec<Value> = self.workers[i].versions.iter().rev().map(|v| version_view(v, false)).collect();
                let n = all.len();
                let items: Vec<Value> = all.into_iter().skip((page - 1) * per_page).take(per_page).collect();
                let mut env = workers_ok(Value::Array(items.clone()));
                env["result_info"] =
                    json!({ "page": page, "per_page": per_page, "count": items.len(), "total_count": n });
                (200, env)
            }
            ("GET", ["workers", "workers", id, "versions", version]) => {
                let Some(i) = self.worker_index(id) else { return not_found_workers("Worker") };
                let versions = &self.workers[i].versions;
                let found = if *version == "latest" {
                    versions.last()
                } else if version.len() >= 8 {
                    versions.iter().find(|v| v["id"].as_str().is_some_and(|vid| vid.starts_with(version)))
                } else {
                    None
                };
                match found {
                    Some(v) => (200, workers_ok(version_view(v, query.get("include").is_some_and(|i| i == "modules")))),
                    None => not_found_workers("Version"),
                }
            }
            ("GET", ["workers", "scripts", name, "deployments"]) => match self.workers.iter().find(|w| w.name == *name)
            {
                Some(w) => (200, workers_ok(json!({ "deployments": w.deployments.iter().rev().collect::<Vec<_>>() }))),
                None => not_found_workers("Worker"),
            },
            ("POST", ["workers", "scripts", name, "deployments"]) => {
                let Some(i) = self.workers.iter().position(|w| w.name == *name) else {
                    return not_found_workers("Worker");
                };
                let req: Value = match serde_json::from_slice(body) {
                    Ok(v) => v,
                    Err(_) => return bad_request("Request body is not valid JSON"),
                };
                self.create_deployment(i, &req)
            }
            ("GET", ["workers", "subdomain"]) => match &self.config.subdomain {
                Some(s) => (200, workers_ok(json!({ "subdomain": s }))),
                None => (404, workers_error(10007, "This account does not have a workers.dev subdomain")),
            },
            _ => (404, workers_error(7003, "No route for the URI")),
        }
    }

    fn worker_json(&self, w: &Worker) -> Value {
        let url = self.config.subdomain.as_ref().map(|s| format!("https://{}.{s}.workers.dev", w.name));
        json!({
            "id": w.id,
            "name": w.name,
            "created_on": rfc3339::format(w.created),
            "updated_on": rfc3339::format(w.created),
            "deployed_on": w.deployments.last().map(|d| d["created_on"].clone()),
            "logpush": false,
            "tags": [],
            "tail_consumers": [],
            "observability": { "enabled": false, "head_sampling_rate": 1, "logs": { "enabled": false, "invocation_logs": true, "head_sampling_rate": 1, "persist": true, "destinations": [] } },
            "subdomain": { "enabled": url.is_some(), "previews_enabled": url.is_some(), "url": url },
        })
    }

    /// Validates a Version like the API would, then stores it (with its modules).
    fn create_version(&mut self, i: usize, body: &[u8], deploy: bool) -> Reply {
        let req: Value = match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return bad_request("Request body must be a JSON object"),
        };
        let modules = req.get("modules").and_then(Value::as_array).cloned().unwrap_or_default();
        for (k, m) in modules.iter().enumerate() {
            for field in ["name", "content_type", "content_base64"] {
                if m.get(field).and_then(Value::as_str).is_none() {
                    return bad_request(&format!("modules[{k}].{field} is required"));
                }
            }
            let ct = m["content_type"].as_str().unwrap_or_default();
            if !CONTENT_TYPES.contains(&ct) {
                return bad_request(&format!("modules[{k}].content_type `{ct}` is not supported"));
            }
            if base64::engine::general_purpose::STANDARD
                .decode(m["content_base64"].as_str().unwrap_or_default())
                .is_err()
            {
                return bad_request(&format!("modules[{k}].content_base64 is not valid base64"));
            }
        }
        if let Some(main) = req.get("main_module") {
            let Some(main) = main.as_str() else { return bad_request("main_module must be a string") };
            if !modules.iter().any(|m| m["name"] == main) {
                return bad_request(&format!("main_module `{main}` is not one of the modules"));
            }
        } else if !modules.is_empty() {
            return bad_request("main_module is required when modules are given");
        }
        if let Some(date) = req.get("compatibility_date") {
            let ok = date
                .as_str()
                .is_some_and(|d| d.len() == 10 && rfc3339::parse_millis(&format!("{d}T00:00:00Z")).is_some());
            if !ok {
                return bad_request("compatibility_date must be YYYY-MM-DD");
            }
        }
        if let Some(b) = req.get("bindings") {
            let Some(list) = b.as_array() else { return bad_request("bindings must be an array") };
            for (k, b) in list.iter().enumerate() {
                if b.get("name").and_then(Value::as_str).is_none() || b.get("type").and_then(Value::as_str).is_none() {
                    return bad_request(&format!("bindings[{k}] needs a string name and type"));
                }
            }
        }
        let mut annotations = req.get("annotations").and_then(Value::as_object).cloned().unwrap_or_default();
        if let Some(t) = annotations.get("workers/tag").and_then(Value::as_str)
            && t.len() > TAG_LIMIT
        {
            return bad_request("workers/tag must be at most 100 bytes");
        }
        if let Some(m) = annotations.get("workers/message").and_then(Value::as_str)
            && m.len() > MESSAGE_LIMIT
        {
            let mut cut = MESSAGE_LIMIT;
            while !m.is_char_boundary(cut) {
                cut -= 1;
            }
            let truncated = m[..cut].to_owned();
            annotations.insert("workers/message".into(), truncated.into());
        }
        // INFERRED: the value the API puts in `workers/triggered_by` for a plain upload.
        annotations.insert("workers/triggered_by".into(), "upload".into());
        let w = &mut self.workers[i];
        let id = random::uuid_v4();
        let urls: Vec<String> =
            self.config.subdomain.iter().map(|s| format!("https://{}-{}.{s}.workers.dev", &id[..8], w.name)).collect();
        let mut stored = req.clone();
        stored["id"] = json!(id);
        stored["number"] = json!(w.versions.len() + 1);
        stored["created_on"] = json!(rfc3339::format(SystemTime::now()));
        stored["urls"] = json!(urls);
        stored["annotations"] = Value::Object(annotations);
        stored["source"] = json!("api");
        stored["author_email"] = json!("dev@example.com");
        stored["startup_time_ms"] = json!(7);
        w.versions.push(stored.clone());
        if deploy {
            let d = deployment_json(&[json!({ "version_id": id, "percentage": 100.0 })], None);
            w.deployments.push(d);
        }
        (200, workers_ok(version_view(&stored, false)))
    }

    fn create_deployment(&mut self, i: usize, req: &Value) -> Reply {
        if req.get("strategy").and_then(Value::as_str) != Some("percentage") {
            return bad_request("strategy must be \"percentage\"");
        }
        let Some(versions) = req.get("versions").and_then(Value::as_array) else {
            return bad_request("versions is required");
        };
        if versions.is_empty() || versions.len() > 2 {
            return bad_request("a deployment has one or two versions");
        }
        let w = &self.workers[i];
        let mut total = 0.0;
        for v in versions {
            let (Some(id), Some(p)) =
                (v.get("version_id").and_then(Value::as_str), v.get("percentage").and_then(Value::as_f64))
            else {
                return bad_request("each version needs version_id and percentage");
            };
            if !(0.01..=100.0).contains(&p) {
                return bad_request("percentage must be between 0.01 and 100");
            }
            if !w.versions.iter().any(|x| x["id"] == id) {
                return bad_request(&format!("version {id} does not belong to this Worker"));
            }
            total += p;
        }
        if (total - 100.0).abs() > 1e-9 {
            return bad_request("percentages must add up to 100");
        }
        let message = req.pointer("/annotations/workers~1message").and_then(Value::as_str);
        if message.is_some_and(|m| m.len() > MESSAGE_LIMIT) {
            return bad_request("workers/message must be at most 1000 bytes");
        }
        let d = deployment_json(versions, message);
        self.workers[i].deployments.push(d.clone());
        (200, workers_ok(d))
    }

    pub fn worker_versions(&self, worker: &str) -> Vec<Value> {
        self.workers.iter().find(|w| w.name == worker || w.id == worker).map(|w| w.versions.clone()).unwrap_or_default()
    }

    pub fn worker_deployments(&self, worker: &str) -> Vec<Value> {
        self.workers
            .iter()
            .find(|w| w.name == worker || w.id == worker)
            .map(|w| w.deployments.iter().rev().cloned().collect())
            .unwrap_or_default()
    }
}

fn deployment_json(versions: &[Value], message: Option<&str>) -> Value {
    let mut annotations = json!({ "workers/triggered_by": "deployment" });
    if let Some(m) = message {
        annotations["workers/message"] = json!(m);
    }
    json!({
        "id": random::uuid_v4(),
        "created_on": rfc3339::format(SystemTime::now()),
        "source": "api",
        "strategy": "percentage",
        "versions": versions,
        "annotations": annotations,
        "author_email": "dev@example.com",
    })
}

/// A Version as the API returns it: modules only on request, secret values never.
fn version_view(stored: &Value, with_modules: bool) -> Value {
    let mut v = stored.clone();
    if let Some(o) = v.as_object_mut() {
        if !with_modules {
            o.remove("modules");
        }
        if let Some(Value::Array(bindings)) = o.get_mut("bindings") {
            for b in bindings {
                if b["type"] == "secret_text"
                    && let Some(bo) = b.as_object_mut()
                {
                    bo.remove("text");
                }
            }
        }
    }
    v
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"o\":{offset}}}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("o")?.as_u64().map(|o| o as usize)
}

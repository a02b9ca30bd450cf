//! The simulated account: Workers, triggers, builds, versions and deployments, and how a
//! build moves through its phases over time. Answers to requests are in `routes`; everything
//! here is synchronous, and `http` does the networking.

use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use crate::config::{BuildProfile, SimConfig};
use crate::envelope::{self, Reply};
use crate::{random, time};

#[derive(Clone)]
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
    /// `subdomain.enabled` and `subdomain.previews_enabled` (docs/cloudflare-api.md §C.7).
    pub workers_dev: bool,
    pub previews_enabled: bool,
    /// Durable Object classes created by applied migrations (docs/cloudflare-api.md §C.2).
    pub do_classes: Vec<String>,
    /// The `new_tag` of the last migrations applied (docs/cloudflare-api.md §C.2: "becomes the
    /// Worker's `migration_tag`"), shown by `GET /workers/services/{name}`.
    pub migration_tag: Option<String>,
    /// The Durable Object entries of the declarative `exports` last applied (docs/cloudflare-api.md
    /// §H.10), by a classic upload; shown in the script object (`exports`).
    pub exports: Option<Value>,
    /// Its own build profile (`WorkerSeed::build`); `None` follows the account's.
    pub profile: Option<BuildProfile>,
    /// Worker Previews (docs/cloudflare-api.md §B), oldest first.
    pub previews: Vec<Preview>,
    /// `previews_base_config` (§B.8), secret values included (no answer shows them).
    pub previews_base_config: Option<Value>,
    /// Cron triggers (docs/cloudflare-api.md §T.4), as `GET …/schedules` shows them.
    pub schedules: Vec<Value>,
    /// The settings that are not versioned (§T.6): `logpush`, `observability`, `tags`,
    /// `tail_consumers`.
    pub settings: Value,
}

/// One Preview of a Worker (docs/cloudflare-api.md §B.1, §B.4): its mutable layer, and its
/// deployments as stored (secret values included, which no answer shows).
#[derive(Clone)]
pub struct Preview {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub tags: Value,
    pub observability: Value,
    pub logpush: bool,
    pub tail_consumers: Value,
    pub created_on: String,
    pub updated_on: String,
    /// `null` until the first deployment (§B.4).
    pub deployed_on: Option<String>,
    /// Orders "deployed to least recently" for eviction (§B.7): the RFC 3339 times may tie.
    pub deployed_seq: u64,
    /// Oldest first.
    pub deployments: Vec<Value>,
    /// Deployments ever made, for `number` (from 1, §B.5), which eviction does not reuse.
    pub deployments_made: u64,
    /// Durable Object classes of this Preview's own namespaces (§B.10) and their tag.
    pub do_classes: Vec<String>,
    pub migration_tag: Option<String>,
}

impl Worker {
    /// A Worker created through the API: fresh ids, no repository connected, nothing uploaded,
    /// workers.dev as the request's `subdomain` says (the caller decides the default).
    pub fn new(name: &str, workers_dev: bool, previews_enabled: bool) -> Worker {
        Worker {
            name: name.to_owned(),
            tag: random::hex(16),
            id: random::hex(16),
            created: SystemTime::now(),
            triggers: Vec::new(),
            versions: Vec::new(),
            deployments: Vec::new(),
            workers_dev,
            previews_enabled,
            do_classes: Vec::new(),
            migration_tag: None,
            exports: None,
            profile: None,
            previews: Vec::new(),
            previews_base_config: None,
            schedules: Vec::new(),
            settings: crate::routes::default_settings(),
        }
    }
}

#[derive(Clone)]
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
    /// The version a successful build's deploy command uploaded, once it has (see
    /// [`State::settle_builds`]): what `GET /builds/builds?version_ids=` maps back (§3.6).
    pub version_id: Option<String>,
}

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
    pub(crate) fn stop(&self) -> (Duration, String) {
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
    pub(crate) fn release_at(&self, k: usize, total: usize) -> Duration {
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

    pub(crate) fn status(&self, now: Instant) -> (&'static str, Option<String>) {
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
        time::rfc3339(self.start_wall + d)
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

    pub(crate) fn cancel(&mut self, now: Instant) -> Result<Value, Reply> {
        let e = self.elapsed(now);
        let (stop_at, _) = self.stop();
        if e >= stop_at {
            // INFERRED: the API's answer for cancelling a stopped build is not documented.
            return Err(envelope::fail(400, 12400, "Build is already stopped"));
        }
        let shown = self.released(now);
        self.lines.truncate(shown);
        self.lines.push("Build was cancelled".into());
        self.cancelled_after = Some(e);
        let (_, outcome) = self.stop();
        Ok(json!({ "build_uuid": self.uuid, "build_outcome": outcome, "stopped_on": self.at(e) }))
    }
}

#[derive(Clone)]
pub struct State {
    pub config: SimConfig,
    pub workers: Vec<Worker>,
    pub builds: Vec<Build>,
    /// Repository connections: the one the seeded triggers use ([`seeded_connection`]) and those
    /// made through `PUT /builds/repos/connections` (docs/cloudflare-api.md §E.3).
    pub connections: Vec<Value>,
    /// Build-time variables per trigger uuid (docs/cloudflare-api.md §E.2), secret values included:
    /// the API stores them and never shows them back.
    pub env_vars: std::collections::HashMap<String, std::collections::BTreeMap<String, EnvVar>>,
    /// A counter for [`Preview::deployed_seq`].
    pub preview_clock: u64,
    /// Static assets: stored hashes and upload sessions (docs/cloudflare-api.md §A).
    pub assets: crate::routes::assets::AssetStore,
    /// Zones, routes, custom domains and queues (docs/cloudflare-api.md §T).
    pub triggers: crate::routes::TriggerStore,
    /// Every request the simulated edge served a Worker (`/__worker/…`), oldest first: what
    /// analytics counts beside the synthetic traffic, and what tests read.
    pub served: Vec<crate::edge::Served>,
    /// D1 databases (docs/cloudflare-api.md §J.8), each a real `SQLite` database.
    pub d1: Vec<crate::routes::d1::D1Database>,
}

/// One build-time variable as stored.
#[derive(Clone, Debug)]
pub struct EnvVar {
    pub value: String,
    pub is_secret: bool,
    pub created_on: String,
}

/// The account's build token: `GET /builds/tokens` lists it, and the seeded triggers carry it.
pub const BUILD_TOKEN_UUID: &str = "6a9b5b5e-0c1a-4ad8-9a2f-2f2d2b2e2f21";
pub const BUILD_TOKEN_NAME: &str = "workers-builds-token";

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

/// The repository connection the seeded triggers use, registered as `PUT
/// /builds/repos/connections` would have left it: Cloudflare's triggers only ever name a
/// connection it holds (a trigger create with another is refused, §E.1), so the seed is no
/// looser. One for the account: the connection is keyed by the repository, not the Worker (§E.3).
pub(crate) fn seeded_connection() -> Value {
    let now = time::rfc3339(SystemTime::now());
    json!({
        "repo_connection_uuid": derived_uuid("github:987654/123456789", 0),
        "repo_id": "123456789",
        "repo_name": "my-worker",
        "provider_type": "github",
        "provider_account_id": "987654",
        "provider_account_name": "example",
        "created_on": now,
        "modified_on": now,
        "deleted_on": null,
    })
}

fn triggers_for(tag: &str, repo: &Value, watch: Option<&(Vec<String>, Vec<String>)>) -> Vec<Value> {
    let (includes, excludes) = watch.cloned().unwrap_or_else(|| (vec!["*".to_owned()], Vec::new()));
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
            "path_includes": includes,
            "path_excludes": excludes,
            "build_caching_enabled": true,
            "build_token_name": BUILD_TOKEN_NAME,
            "build_token_uuid": BUILD_TOKEN_UUID,
            "created_on": time::rfc3339(SystemTime::now()),
            "modified_on": time::rfc3339(SystemTime::now()),
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

impl State {
    pub fn new(config: SimConfig) -> State {
        let connection = seeded_connection();
        let workers: Vec<Worker> = config
            .workers
            .iter()
            .map(|seed| {
                let tag = seed.tag.clone().unwrap_or_else(|| random::hex(16));
                Worker {
                    name: seed.name.clone(),
                    triggers: match (seed.triggers, seed.preview_trigger) {
                        (false, _) => Vec::new(),
                        (true, true) => triggers_for(&tag, &connection, seed.watch_paths.as_ref()),
                        (true, false) => {
                            triggers_for(&tag, &connection, seed.watch_paths.as_ref()).into_iter().take(1).collect()
                        }
                    },
                    id: if seed.tag.is_some() { tag.chars().rev().collect() } else { random::hex(16) },
                    tag,
                    created: SystemTime::now(),
                    versions: Vec::new(),
                    deployments: Vec::new(),
                    workers_dev: seed.workers_dev,
                    previews_enabled: seed.previews_enabled,
                    do_classes: seed.durable_object_classes.clone(),
                    migration_tag: None,
                    exports: None,
                    profile: seed.build.clone(),
                    previews: Vec::new(),
                    previews_base_config: seed.previews_base_config.clone(),
                    schedules: Vec::new(),
                    settings: crate::routes::default_settings(),
                }
            })
            .collect();
        let seeded = workers.iter().any(|w| !w.triggers.is_empty());
        let triggers = crate::routes::TriggerStore::seeded(&config);
        State {
            workers,
            builds: Vec::new(),
            connections: if seeded { vec![connection] } else { Vec::new() },
            env_vars: std::collections::HashMap::new(),
            preview_clock: 0,
            assets: crate::routes::assets::AssetStore::default(),
            triggers,
            served: Vec::new(),
            d1: config
                .d1_databases
                .iter()
                .map(|d| crate::routes::d1::D1Database::new(&d.name, d.uuid.as_deref()))
                .collect(),
            config,
        }
    }

    pub(crate) fn worker_by_tag(&self, tag: &str) -> Option<&Worker> {
        self.workers.iter().find(|w| w.tag == tag)
    }

    pub(crate) fn worker_index(&self, id_or_name: &str) -> Option<usize> {
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
        let profile =
            self.worker_by_tag(tag).and_then(|w| w.profile.clone()).unwrap_or_else(|| self.config.build.clone());
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
            version_id: None,
        });
        uuid
    }

    /// What a successful build leaves behind, made when the client next asks anything: its
    /// deploy command uploaded a version, and deployed it at 100 % when the command is
    /// `wrangler deploy` (INFERRED from the trigger docs' production and preview commands, §3.2).
    pub fn settle_builds(&mut self, now: Instant) {
        let done: Vec<usize> = (0..self.builds.len())
            .filter(|&k| {
                let b = &self.builds[k];
                b.version_id.is_none() && b.status(now).1.as_deref() == Some("success")
            })
            .collect();
        for k in done {
            let tag = self.builds[k].tag.clone();
            let Some(i) = self.workers.iter().position(|w| w.tag == tag) else { continue };
            let deploys =
                self.builds[k].trigger["deploy_command"].as_str().is_some_and(|c| c.contains("wrangler deploy"));
            let draft = crate::version::Draft {
                main_module: Some("index.js".into()),
                modules: vec![crate::version::Module {
                    name: "index.js".into(),
                    content_type: "application/javascript+module".into(),
                    content: format!("// built from {}\n", self.builds[k].commit).into_bytes(),
                }],
                fields: serde_json::Map::from_iter([("compatibility_date".to_owned(), json!("2026-01-01"))]),
                source: "wrangler",
            };
            let Ok(version) = crate::version::create(self, i, draft, crate::version::Unresolved::Drop, deploys) else {
                continue;
            };
            let id = version["id"].clone();
            if deploys {
                let d = deployment_json(
                    &[json!({ "version_id": id, "percentage": 100.0 })],
                    "wrangler",
                    "deployment",
                    None,
                );
                self.workers[i].deployments.push(d);
            }
            self.builds[k].version_id = id.as_str().map(str::to_owned);
        }
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

    /// `subdomain.url` is "present whenever the account owns a workers.dev subdomain,
    /// regardless of whether `enabled` is true" (docs/cloudflare-api.md §C.7): a client must read
    /// `enabled`.
    pub(crate) fn worker_json(&self, w: &Worker) -> Value {
        let url = self.config.subdomain.as_ref().map(|s| format!("https://{}.{s}.workers.dev", w.name));
        let suffix = self.config.subdomain.as_ref().map(|s| format!("-{}.{s}.workers.dev", w.name));
        let mut subdomain = json!({ "enabled": w.workers_dev, "previews_enabled": w.previews_enabled });
        if let Some(u) = url {
            subdomain["url"] = json!(u);
        }
        if let Some(s) = suffix {
            subdomain["preview_url_suffix"] = json!(s);
        }
        let mut v = json!({
            "id": w.id,
            "name": w.name,
            "created_on": time::rfc3339(w.created),
            "updated_on": time::rfc3339(w.created),
            "deployed_on": w.deployments.last().map(|d| d["created_on"].clone()),
            "logpush": false,
            "tags": [],
            "tail_consumers": [],
            "observability": { "enabled": false, "head_sampling_rate": 1, "logs": { "enabled": false, "invocation_logs": true, "head_sampling_rate": 1, "persist": true, "destinations": [] } },
            "subdomain": subdomain,
        });
        // "The API never exposes inherited secret values" (docs/cloudflare-api.md §B.8).
        if let Some(base) = &w.previews_base_config {
            let mut base = base.clone();
            for b in base.get_mut("env").and_then(Value::as_object_mut).into_iter().flat_map(|e| e.values_mut()) {
                if let Some(b) = b.as_object_mut() {
                    b.remove("text");
                }
            }
            v["previews_base_config"] = base;
        }
        v
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

/// A deployment as stored and answered. `source` is the client kind (`api`, `wrangler`),
/// `triggered_by` what made it (`deployment`, or `upload` for an upload that also deploys).
pub fn deployment_json(versions: &[Value], source: &str, triggered_by: &str, message: Option<&str>) -> Value {
    let mut annotations = json!({ "workers/triggered_by": triggered_by });
    if let Some(m) = message {
        annotations["workers/message"] = json!(m);
    }
    json!({
        "id": random::uuid_v4(),
        "created_on": time::now(),
        "source": source,
        "strategy": "percentage",
        "versions": versions,
        "annotations": annotations,
        "author_email": "dev@example.com",
    })
}

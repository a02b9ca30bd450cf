//! The fault matrix: for every endpoint each command calls and every fault the simulator can
//! inject, run the command and compare with a clean run. Transient faults must change nothing
//! (exit code, outputs, log lines, resources created); faults that must not be survived
//! (401/403/404/400) must end in a clear API error with exit code 5 and no retry.
//!
//! The cells are generated: [`fault_matrix!`] expands a table of endpoints × a table of faults
//! into one test per cell, named `<command>_<endpoint>::<fault>` (e.g.
//! `build_logs::status_404`), so no cell can be missing. Each fault has a default expectation;
//! [`OVERRIDES`] lists the cells that differ, and a test checks that it names only cells that
//! exist and that each entry changes something.
//!
//! What a command starts from is made once, not once per cell: where that takes a run of the
//! binary (a first build before `redeploy`, a version before `deploy`), [`prepared`] runs it once
//! and each cell puts the simulator's snapshot back in a simulator of its own; the clean run each
//! cell is compared with is made once per command too ([`baseline`]).

use std::sync::OnceLock;

use crate::common::*;

const TAG: &str = "5f1e0c3a9b2d4e6f8a7b6c5d4e3f2a1b";
const OTHER_TAG: &str = "6a2f1d4b0c3e5f7a9b8c7d6e5f4a3b2c";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const D1_UUID: &str = "5b0e4a53-5a1f-4c8e-9d38-7f0f1e2b6c11";
/// Outputs that name freshly created resources: present in both runs, equal in neither.
const FRESH: &[&str] = &[
    "build_uuid",
    "version_id",
    "version_url",
    "deployment_id",
    "deployed_version_id",
    "trigger_uuids",
    "redeployed_version_id",
    "preview_id",
    "deployment_url",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Build,
    Wait,
    Version,
    Deploy,
    /// `setup` on the seeded Worker: every kind of write but the token lookup.
    Setup,
    /// `setup` on a Worker without triggers: the build token lookup and first creates.
    SetupFresh,
    /// `env` setting a plain and a secret variable and unsetting one.
    Env,
    PurgeCache,
    /// `redeploy` of the version a first build deployed.
    Redeploy,
    /// `wait` with two Workers: the loop that reads status in batches.
    WaitMany,
    /// `preview` to a Preview that has a deployment (with a secret to inherit).
    Preview,
    /// `preview` of a branch without a Preview yet: the create.
    PreviewFresh,
    /// `preview` with `preview_action: delete`.
    PreviewDelete,
    /// `version` from a wrangler configuration with a Durable Object migration to apply: the
    /// classic non-versioned upload (docs/cloudflare-api.md Correction 10).
    VersionMigrations,
    /// `verify` of a Worker rolled back to an older commit's build (`behind`, with `expect:
    /// behind`): every read it makes, the builds list included.
    Verify,
    /// `version` with static assets whose upload token asks for per-file uploads
    /// (docs/cloudflare-api.md §A.4).
    VersionPerFile,
    /// `deploy` with `stages` and a smoke test: the analytics GraphQL endpoint (§K.3).
    Rollout,
    /// `migrate` of a database with no table yet and two migration files (docs/cloudflare-api.md
    /// §J.4): the table made, the applied set read, one request per file.
    Migrate,
    /// `version` deploying a wrangler configuration's routes, custom domain, crons, queue
    /// consumer and settings (docs/cloudflare-api.md §T).
    VersionTriggers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Survive,
    Refused,
    /// A read after the builds that only reports (did it go live): the step still exits 0 and
    /// creates nothing, the refused request is not retried, and the report says the Worker is
    /// not known to be live (`deployed` differs from the clean run's `true`), with a warning
    /// naming the failure unless the refusal is a 404, which the API also answers for "no
    /// deployments" (docs/cloudflare-api.md §5).
    Warned,
    /// `verify`'s deployments read answered 404: "no deployments" (§5), so the verdict is `none`
    /// and the step exits 12.
    NotVerified,
}

fn status(status: u16, code: i64, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status { status, code, message: "injected".into(), retry_after }
}

fn matrix_sim(cmd: Cmd) -> Simulator {
    let triggers = cmd != Cmd::SetupFresh;
    let config = SimConfig {
        workers: vec![
            WorkerSeed {
                name: "my-worker".into(),
                tag: Some(TAG.into()),
                triggers,
                preview_trigger: triggers,
                ..WorkerSeed::default()
            },
            WorkerSeed { name: "other-worker".into(), tag: Some(OTHER_TAG.into()), ..WorkerSeed::default() },
        ],
        // Half a second: at the client's test pace (a running tick of 85 ms) a build is still seen
        // queued, initializing and running for several ticks, with its 16 log lines released over
        // them in pages of 7.
        build: BuildProfile { queued_ms: 50, initializing_ms: 50, running_ms: 400, ..BuildProfile::default() },
        log_page_size: 7,
        // One file at a time: a refusal then stops the upload before another file is sent.
        single_asset_uploads: (cmd == Cmd::VersionPerFile).then_some(1),
        zero_percent_deployments: cmd == Cmd::Rollout,
        synthetic_rps: if cmd == Cmd::Rollout { 100_000.0 } else { 0.0 },
        // The rollout's `analytics_lag: 10s` at the client's test pace (0.02): the simulator has
        // no clock to scale, so its lag is shrunk here as the client's wait is.
        analytics_lag_ms: 200,
        d1_databases: vec![D1Seed { name: "shop".into(), uuid: Some(D1_UUID.into()) }],
        queues: vec!["jobs".into()],
        ..SimConfig::default()
    };
    Simulator::start_background(config).expect("simulator starts")
}

/// The seeded Worker's configuration as a file, with build variables.
const SETUP_BEFORE: &str = r#"worker = "my-worker"
[connection]
account_id = "987654"
account_name = "example"
repo_id = "123456789"
repo_name = "my-worker"
[[triggers]]
name = "Deploy default branch"
branch_includes = ["main"]
build_command = "npm run build"
deploy_command = "npx wrangler deploy"
build_caching = true
[triggers.vars]
NODE_ENV = "production"
OLD = "x"
[[triggers]]
name = "Deploy non-production branches"
branch_includes = ["*"]
branch_excludes = ["main"]
build_command = "npm run build"
deploy_command = "npx wrangler versions upload"
build_caching = true
"#;

/// With `prune`, from [`SETUP_BEFORE`]: the connection renamed, a trigger field and a
/// variable changed, a variable and a trigger dropped, a trigger added.
const SETUP_AFTER: &str = r#"worker = "my-worker"
[connection]
account_id = "987654"
account_name = "example"
repo_id = "123456789"
repo_name = "my-worker-2"
[[triggers]]
name = "Deploy default branch"
branch_includes = ["main"]
build_command = "npm ci && npm run build"
deploy_command = "npx wrangler deploy"
build_caching = true
[triggers.vars]
NODE_ENV = "staging"
[[triggers]]
name = "Docs"
branch_includes = ["docs"]
deploy_command = "npx wrangler versions upload"
[triggers.vars]
SITE = "docs"
"#;

fn setup_invocation(sim: &Simulator, file: &str) -> Invocation {
    let inv = Invocation::new(sim).without("worker").without("branch").without("commit").input("command", "setup");
    std::fs::write(inv.dir.path().join("workers-builds.toml"), file).unwrap();
    inv
}

/// The Builds configuration as the file would state it: without uuids and timestamps.
fn builds_config(sim: &Simulator) -> String {
    let mut triggers: Vec<String> = sim
        .triggers("my-worker")
        .iter()
        .map(|t| {
            let vars = sim.env_vars(t["trigger_uuid"].as_str().unwrap_or_default());
            format!(
                "{} {} {} {} {} {} {} {} {} repo={} {vars:?}",
                t["trigger_name"],
                t["build_command"],
                t["deploy_command"],
                t["root_directory"],
                t["branch_includes"],
                t["branch_excludes"],
                t["path_includes"],
                t["path_excludes"],
                t["build_caching_enabled"],
                t["repo_connection"]["repo_name"],
            )
        })
        .collect();
    triggers.sort();
    format!("{} connections; {triggers:#?}", sim.connections().len())
}

/// `preview` of branch `feature/login` for `my-worker`.
fn preview_invocation(sim: &Simulator) -> Invocation {
    with_module(
        Invocation::new(sim)
            .without("branch")
            .input("command", "preview")
            .input("compatibility_date", "2026-11-01")
            .env("GITHUB_HEAD_REF", "feature/login"),
    )
}

fn version_run(sim: &Simulator) -> Run {
    with_module(version_invocation(sim, "my-worker").input("deploy", "true")).run()
}

/// Runs the binary to make the state `cmd` starts from, where it starts from more than the seeded
/// Workers (a live version, a first build, a Builds configuration, a Preview with a deployment),
/// and returns what the command's invocation needs from that run (the version `deploy` deploys).
fn run_preparation(sim: &Simulator, cmd: Cmd) -> Option<String> {
    match cmd {
        // A version already there, so its bindings are read.
        Cmd::Version => {
            version_run(sim).assert_code(0);
            None
        }
        // v1 live, v2 uploaded beside it for the rollout.
        Cmd::Rollout => {
            version_run(sim).assert_code(0);
            let v = with_module(version_invocation(sim, "my-worker")).run();
            v.assert_code(0);
            Some(v.output("version_id").unwrap().to_owned())
        }
        Cmd::Deploy => {
            let v = version_run(sim);
            v.assert_code(0);
            Some(v.output("version_id").unwrap().to_owned())
        }
        Cmd::Setup => {
            setup_invocation(sim, SETUP_BEFORE).run().assert_code(0);
            None
        }
        Cmd::Env => {
            env_invocation(sim).input("set", "OLD=x").run().assert_code(0);
            None
        }
        // The version a first build deployed.
        Cmd::Redeploy => {
            Invocation::new(sim).run().assert_code(0);
            None
        }
        Cmd::Preview => {
            preview_invocation(sim).input("secrets", "API_KEY=matrix-secret-1").run().assert_code(0);
            None
        }
        Cmd::PreviewDelete => {
            preview_invocation(sim).run().assert_code(0);
            None
        }
        // An older commit's build, then this commit's, both deployed; then a rollback to the first.
        Cmd::Verify => {
            Invocation::new(sim).input("commit", &"9".repeat(40)).input("logs", "false").run().assert_code(0);
            Invocation::new(sim).input("logs", "false").run().assert_code(0);
            Invocation::new(sim)
                .without("branch")
                .without("commit")
                .input("command", "deploy")
                .input("rollback", "true")
                .run()
                .assert_code(0);
            None
        }
        Cmd::Build
        | Cmd::Wait
        | Cmd::WaitMany
        | Cmd::SetupFresh
        | Cmd::PurgeCache
        | Cmd::PreviewFresh
        | Cmd::VersionMigrations
        | Cmd::VersionPerFile
        | Cmd::Migrate
        | Cmd::VersionTriggers => None,
    }
}

/// The state a command's preparing run left (none when it needed no run), with what that run
/// returned.
struct Prepared {
    snapshot: Option<Snapshot>,
    version_id: Option<String>,
}

/// [`run_preparation`] for `cmd`, once per test binary rather than once per cell: each cell
/// puts the snapshot back in a simulator of its own.
fn prepared(cmd: Cmd) -> &'static Prepared {
    static PREPARED: [OnceLock<Prepared>; 19] = [const { OnceLock::new() }; 19];
    PREPARED[cmd as usize].get_or_init(|| {
        let sim = matrix_sim(cmd);
        let version_id = run_preparation(&sim, cmd);
        // A command that starts from the seeded Workers starts from a simulator of its own.
        let ran = !sim.requests().is_empty();
        Prepared { snapshot: ran.then(|| sim.snapshot()), version_id }
    })
}

fn env_invocation(sim: &Simulator) -> Invocation {
    Invocation::new(sim).without("commit").input("command", "env").input("trigger", "Deploy default branch")
}

/// A simulator prepared for `cmd` (a build pushed now for `wait`; the state [`prepared`] made
/// for the commands that need a run first), and the invocation to run.
fn prepare(cmd: Cmd) -> (Simulator, Invocation) {
    let sim = matrix_sim(cmd);
    let prepared = prepared(cmd);
    if let Some(snapshot) = &prepared.snapshot {
        sim.restore(snapshot);
    }
    let version_id = prepared.version_id.as_deref();
    let inv = match cmd {
        Cmd::Build => Invocation::new(&sim),
        Cmd::Wait => {
            sim.push("my-worker", "main", COMMIT, std::time::Duration::ZERO);
            Invocation::new(&sim).input("command", "wait").input("commit", COMMIT)
        }
        Cmd::WaitMany => {
            sim.push("my-worker", "main", COMMIT, std::time::Duration::ZERO);
            sim.push("other-worker", "main", COMMIT, std::time::Duration::ZERO);
            Invocation::new(&sim)
                .input("command", "wait")
                .input("commit", COMMIT)
                .input("worker", "my-worker,other-worker")
        }
        // `preview_urls: false` differs from the seeded Worker's flags, so the run sets them.
        // With static assets, so the upload session and the bucket upload are met too.
        Cmd::Version | Cmd::VersionPerFile => {
            let inv = with_module(
                version_invocation(&sim, "my-worker").input("deploy", "true").input("preview_urls", "false"),
            );
            let site = inv.dir.path().join("public");
            std::fs::create_dir_all(&site).unwrap();
            std::fs::write(site.join("index.html"), "<h1>matrix</h1>\n").unwrap();
            std::fs::write(site.join("app.css"), "body{}\n").unwrap();
            let site = site.to_str().unwrap().to_owned();
            inv.input("assets", &site)
        }
        Cmd::VersionMigrations => {
            let inv = version_invocation(&sim, "unused").without("worker").without("compatibility_date");
            let root = inv.dir.path();
            std::fs::create_dir_all(root.join("dist")).unwrap();
            std::fs::write(root.join("dist/index.js"), "export class Room {}\nexport default {}\n").unwrap();
            std::fs::write(
                root.join("wrangler.toml"),
                "name = \"my-worker\"\nmain = \"dist/index.js\"\ncompatibility_date = \"2026-11-01\"\n\
                 [durable_objects]\nbindings = [{ name = \"ROOM\", class_name = \"Room\" }]\n\
                 [[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]\n",
            )
            .unwrap();
            inv.input("deploy", "true")
        }
        Cmd::Rollout => Invocation::new(&sim)
            .without("branch")
            .without("commit")
            .input("command", "deploy")
            .input("versions", version_id.unwrap())
            .input("stages", "0,10:10s,100")
            // As long as the soak: one analytics read, once the window is complete.
            .input("analytics_lag", "10s")
            .input("smoke_url", &sim.worker_url("my-worker")),
        Cmd::VersionTriggers => {
            let inv = version_invocation(&sim, "unused").without("worker").without("compatibility_date");
            let root = inv.dir.path();
            std::fs::create_dir_all(root.join("dist")).unwrap();
            std::fs::write(root.join("dist/index.js"), "export default {}\n").unwrap();
            std::fs::write(
                root.join("wrangler.jsonc"),
                r#"{ "name": "my-worker", "main": "dist/index.js", "compatibility_date": "2026-11-01",
                     "routes": ["example.com/api/*", "www.example.com/*", { "pattern": "app.example.com", "custom_domain": true }],
                     "triggers": { "crons": ["*/5 * * * *"] }, "queues": { "consumers": [{ "queue": "jobs" }] },
                     "observability": { "enabled": true } }"#,
            )
            .unwrap();
            inv.input("deploy", "true")
        }
        Cmd::Deploy => Invocation::new(&sim)
            .without("branch")
            .without("commit")
            .input("command", "deploy")
            .input("versions", version_id.unwrap()),
        Cmd::Setup => setup_invocation(&sim, SETUP_AFTER).input("prune", "true"),
        Cmd::SetupFresh => setup_invocation(&sim, SETUP_AFTER),
        Cmd::Env => env_invocation(&sim)
            .input("set", "NODE_ENV=production")
            .input("set_secret", "NPM_TOKEN=npm-secret-value")
            .input("unset", "OLD"),
        Cmd::PurgeCache => Invocation::new(&sim).without("commit").input("command", "purge-cache"),
        Cmd::Redeploy => Invocation::new(&sim).without("branch").without("commit").input("command", "redeploy"),
        Cmd::Preview => preview_invocation(&sim).input("vars", "MODE=b"),
        Cmd::PreviewFresh => preview_invocation(&sim),
        Cmd::Migrate => {
            let inv =
                Invocation::new(&sim).without("worker").without("branch").without("commit").input("command", "migrate");
            let root = inv.dir.path();
            std::fs::write(
                root.join("wrangler.toml"),
                format!("name = \"my-worker\"\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_id = \"{D1_UUID}\"\n"),
            )
            .unwrap();
            std::fs::create_dir_all(root.join("migrations")).unwrap();
            std::fs::write(root.join("migrations/0001_a.sql"), "CREATE TABLE a(id INTEGER);\n").unwrap();
            std::fs::write(root.join("migrations/0002_b.sql"), "CREATE TABLE b(id INTEGER);\n").unwrap();
            inv
        }
        Cmd::Verify => Invocation::new(&sim).input("command", "verify").input("expect", "behind"),
        Cmd::PreviewDelete => Invocation::new(&sim)
            .without("branch")
            .input("command", "preview")
            .input("preview_action", "delete")
            .env("GITHUB_HEAD_REF", "feature/login"),
    };
    (sim, inv)
}

/// What a run produced that does not depend on fresh ids.
#[derive(Debug, PartialEq)]
struct Result {
    code: i32,
    outputs: Vec<(String, String)>,
    builds: usize,
    versions: usize,
    deployments: usize,
    builds_config: String,
    /// Per Preview of `my-worker`: its name and how many deployments it has.
    previews: Vec<(String, usize)>,
    /// The D1 migrations recorded, and the tables the database has.
    d1: Option<Vec<serde_json::Value>>,
    /// `my-worker`'s routes, custom domains, crons, settings and queue consumers.
    triggers: String,
}

fn observe(sim: &Simulator, run: &Run) -> Result {
    Result {
        code: run.code,
        outputs: run
            .outputs
            .iter()
            .map(|(n, v)| {
                let v = if FRESH.contains(&n.as_str()) {
                    format!("<{}>", !v.is_empty())
                } else if n == "builds" {
                    without_fresh_ids(v)
                } else if n == "stages" {
                    stage_verdicts(v)
                } else {
                    v.clone()
                };
                (n.clone(), v)
            })
            .collect(),
        builds: sim.builds().len(),
        versions: sim.versions("my-worker").len(),
        deployments: sim.deployments("my-worker").len(),
        builds_config: builds_config(sim),
        previews: sim
            .previews("my-worker")
            .iter()
            .map(|p| {
                (p["name"].as_str().unwrap_or_default().to_owned(), p["deployments"].as_array().map_or(0, Vec::len))
            })
            .collect(),
        d1: sim.d1_select("shop", "SELECT name, 'recorded' AS what FROM d1_migrations UNION ALL SELECT name, type FROM sqlite_master WHERE name IN ('a', 'b') ORDER BY 1"),
        triggers: triggers_of(sim),
    }
}

/// What a deploy applied to `my-worker` beyond the version, without ids.
fn triggers_of(sim: &Simulator) -> String {
    let read = |path: &str| call(sim, "GET", path, None).1["result"].clone();
    let field = |v: serde_json::Value, k: &str| -> Vec<String> {
        v.as_array().into_iter().flatten().map(|x| x[k].to_string()).collect()
    };
    let queues = read("/queues");
    let consumers: Vec<String> = queues
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|q| q["consumers"].as_array().cloned().unwrap_or_default())
        .map(|c| format!("{} {}", c["script_name"], c["settings"]))
        .collect();
    format!(
        "routes {:?} domains {:?} crons {:?} settings {} consumers {consumers:?}",
        field(read("/workers/scripts/my-worker/routes"), "pattern"),
        field(read("/workers/domains?service=my-worker"), "hostname"),
        field(read("/workers/scripts/my-worker/schedules")["schedules"].clone(), "cron"),
        read("/workers/scripts/my-worker/script-settings"),
    )
}

/// `builds` with each fresh id (the build's, and the deployment and version it went live in)
/// reduced to whether it is there.
fn without_fresh_ids(json: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).expect("builds is JSON");
    for e in v.as_array_mut().into_iter().flatten() {
        for key in ["build_uuid", "deployment_id", "deployed_version_id"] {
            if let Some(u) = e.get_mut(key) {
                *u = serde_json::json!(!u.as_str().unwrap_or_default().is_empty());
            }
        }
    }
    v.to_string()
}

/// `stages` reduced to what does not depend on the clock: each stage's share and verdict.
fn stage_verdicts(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).expect("stages is JSON");
    let kept: Vec<String> =
        v.as_array().into_iter().flatten().map(|s| format!("{}:{}", s["percent"], s["verdict"])).collect();
    kept.join(",")
}

/// The clean run of each command, once per test binary.
fn baseline(cmd: Cmd) -> &'static Result {
    static CELLS: [OnceLock<Result>; 19] = [const { OnceLock::new() }; 19];
    CELLS[cmd as usize].get_or_init(|| {
        let (sim, inv) = prepare(cmd);
        let run = inv.run();
        run.assert_code(0);
        observe(&sim, &run)
    })
}

/// One endpoint a command calls, as a fault is aimed at it: the first request whose method is
/// `method` and whose path contains `path` (and not `excludes`).
struct Endpoint {
    name: &'static str,
    cmd: Cmd,
    method: &'static str,
    path: &'static str,
    excludes: Option<&'static str>,
    /// Matching requests let through before the fault (`/query` serves every D1 statement).
    skip: u32,
}

/// The cells whose expectation is not their fault's default, as (endpoint, fault, expectation).
const OVERRIDES: &[(&str, &str, Expect)] = &[
    // The applied migration tag: a 404 is "no Worker, no tag", as wrangler reads it
    // (docs/cloudflare-api.md §C.2); this Worker has none applied, so nothing changes.
    ("versionmigrations_tag", "status_404", Expect::Survive),
    // Log reads are best effort: a refused page does not fail the step, whose result is the
    // build's; the lines are read again on the next poll.
    ("build_logs", "status_401", Expect::Survive),
    ("build_logs", "status_403", Expect::Survive),
    ("build_logs", "status_404", Expect::Survive),
    ("build_logs", "status_400_validation", Expect::Survive),
    ("wait_logs", "status_401", Expect::Survive),
    ("wait_logs", "status_403", Expect::Survive),
    ("wait_logs", "status_404", Expect::Survive),
    ("wait_logs", "status_400_validation", Expect::Survive),
    // A deployments list answered 404 for a Worker that exists is its answer before the first
    // version (undocumented): no deployments, and the deployment goes ahead.
    ("deploy_list", "status_404", Expect::Survive),
    // `setup` reads a 404 on the triggers list twice before taking it for "no Builds
    // configuration yet": one injected 404 is outvoted by the second read.
    ("setup_triggers", "status_404", Expect::Survive),
    ("setupfresh_triggers", "status_404", Expect::Survive),
    // `unset` asks for the variable to be gone: a 404 says it is.
    ("env_unset", "status_404", Expect::Survive),
    // Did it go live, for one Worker and several: reads that only report, after the builds succeeded.
    ("build_deployments", "status_401", Expect::Warned),
    ("build_deployments", "status_403", Expect::Warned),
    ("build_deployments", "status_404", Expect::Warned),
    ("build_deployments", "status_400_validation", Expect::Warned),
    ("build_by_version", "status_401", Expect::Warned),
    ("build_by_version", "status_403", Expect::Warned),
    ("build_by_version", "status_404", Expect::Warned),
    ("build_by_version", "status_400_validation", Expect::Warned),
    ("waitmany_deployments", "status_401", Expect::Warned),
    ("waitmany_deployments", "status_403", Expect::Warned),
    ("waitmany_deployments", "status_404", Expect::Warned),
    ("waitmany_deployments", "status_400_validation", Expect::Warned),
    ("waitmany_by_version", "status_401", Expect::Warned),
    ("waitmany_by_version", "status_403", Expect::Warned),
    ("waitmany_by_version", "status_404", Expect::Warned),
    ("waitmany_by_version", "status_400_validation", Expect::Warned),
    // `verify`: a deployments list answered 404 is "no deployments" (docs/cloudflare-api.md §5), the verdict `none`.
    ("verify_deployments", "status_404", Expect::NotVerified),
];

fn expectation(endpoint: &str, fault: &str, default: Expect) -> Expect {
    OVERRIDES.iter().find(|(e, f, _)| *e == endpoint && *f == fault).map_or(default, |(_, _, x)| *x)
}

fn cell(endpoint: &Endpoint, fault_name: &str, action: FaultAction, default: Expect) {
    let Endpoint { cmd, method, path, excludes, skip, .. } = *endpoint;
    let expect = expectation(endpoint.name, fault_name, default);
    let (sim, inv) = prepare(cmd);
    let before = sim.requests().len();
    sim.add_fault(Fault {
        method: Some(method.into()),
        path_contains: Some(path.into()),
        path_excludes: excludes.map(Into::into),
        times: 1,
        skip,
        action,
    });
    let run = inv.run();
    // A delayed request is recorded when the simulator finishes it, perhaps after the run.
    let hit =
        eventually(std::time::Duration::from_secs(3), || sim.requests()[before..].iter().any(|r| r.fault.is_some()));
    assert!(hit, "the fault was never hit: the cell tests nothing\n{}", run.stdout);
    match expect {
        Expect::Survive => {
            assert_eq!(&observe(&sim, &run), baseline(cmd), "differs from the clean run\n--- stdout\n{}", run.stdout);
            if matches!(cmd, Cmd::Build | Cmd::Wait | Cmd::Redeploy) {
                let uuid = run.output("build_uuid").unwrap();
                assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid), "log lines");
            }
            if cmd == Cmd::WaitMany {
                // Every line of both builds once; the groups' order is the order they stopped in.
                let mut shown = run.view().untrusted_lines();
                let mut logs: Vec<String> =
                    sim.builds().iter().flat_map(|b| sim.build_log(b["build_uuid"].as_str().unwrap())).collect();
                shown.sort();
                logs.sort();
                assert_eq!(shown, logs, "log lines");
            }
        }
        Expect::Warned => {
            run.assert_code(0);
            let clean = baseline(cmd);
            assert_eq!(
                (observe(&sim, &run).builds, observe(&sim, &run).deployments),
                (clean.builds, clean.deployments),
                "nothing more made"
            );
            let deployed = |o: &[(String, String)]| o.iter().find(|(n, _)| n == "deployed").map(|(_, v)| v.clone());
            assert_eq!(deployed(&clean.outputs).as_deref(), Some("true"));
            assert_ne!(
                deployed(&observe(&sim, &run).outputs).as_deref(),
                Some("true"),
                "not reported live\n{}",
                run.stdout
            );
            if fault_name != "status_404" {
                assert!(
                    run.stdout.lines().any(|l| l.starts_with("::warning") && l.contains("HTTP 40")),
                    "a warning names the failure\n{}",
                    run.stdout
                );
            }
            assert_eq!(sent(&sim, before, endpoint), 1, "a refused request is not retried");
        }
        Expect::NotVerified => {
            run.assert_code(12);
            assert_eq!(run.output("verdict"), Some("none"));
            assert_eq!(sent(&sim, before, endpoint), 1, "a refused request is not retried");
        }
        Expect::Refused => {
            run.assert_code(5);
            let error = run
                .stdout
                .lines()
                .find(|l| l.starts_with("::error title=workers-ci::"))
                .unwrap_or_else(|| panic!("no error annotation:\n{}", run.stdout));
            assert!(
                error.contains("HTTP 40") || error.contains("input `worker`"),
                "the error names what was refused: {error}"
            );
            let same: Vec<_> = sim.requests()[before..]
                .iter()
                .filter(|r| r.method == method && r.path.contains(path) && excludes.is_none_or(|e| !r.path.contains(e)))
                .cloned()
                .collect();
            assert_eq!(same.len(), 1 + skip as usize, "a refused request is not retried: {same:?}");
        }
    }
}

/// How many times the faulted request (its method and path, query aside) was sent since
/// `before`: once when it was not retried, whatever other Workers' requests the endpoint matched.
fn sent(sim: &Simulator, before: usize, endpoint: &Endpoint) -> usize {
    let reqs = sim.requests()[before..].to_vec();
    let hit = reqs.iter().find(|r| r.fault.is_some()).expect("the fault was hit");
    reqs.iter().filter(|r| r.method == endpoint.method && r.path == hit.path && r.query == hit.query).count()
}

/// Expands `endpoints × faults` into a module per endpoint holding a test per fault, and the
/// tables [`ENDPOINTS`] and [`FAULTS`] (with each fault's default expectation) from the same
/// tokens.
macro_rules! fault_matrix {
    (
        endpoints { $($ep:ident => $cmd:ident $method:literal $path:literal $(excluding $excl:literal)? $(skipping $skip:literal)?;)* }
        faults $faults:tt
    ) => {
        const ENDPOINTS: &[&Endpoint] = &[$(&$ep::ENDPOINT),*];
        fault_matrix!(@table $faults);
        $(
            mod $ep {
                use super::*;
                pub(super) const ENDPOINT: Endpoint = Endpoint {
                    name: stringify!($ep),
                    cmd: Cmd::$cmd,
                    method: $method,
                    path: $path,
                    excludes: fault_matrix!(@opt $($excl)?),
                    skip: fault_matrix!(@skip $($skip)?),
                };
                fault_matrix!(@tests $faults);
            }
        )*
    };
    (@opt) => { None };
    (@opt $e:literal) => { Some($e) };
    (@skip) => { 0 };
    (@skip $n:literal) => { $n };
    (@table { $($f:ident: $action:expr => $expect:ident;)* }) => {
        const FAULTS: &[(&str, Expect)] = &[$((stringify!($f), Expect::$expect)),*];
    };
    (@tests { $($f:ident: $action:expr => $expect:ident;)* }) => {
        $(
            #[test]
            fn $f() {
                cell(&ENDPOINT, stringify!($f), $action, Expect::$expect);
            }
        )*
    };
}

fault_matrix! {
    endpoints {
        build_scripts => Build "GET" "/workers/scripts";
        build_triggers => Build "GET" "/triggers";
        build_start => Build "POST" "/builds/triggers/";
        build_status => Build "GET" "/builds/builds/" excluding "/logs";
        build_logs => Build "GET" "/logs";
        build_deployments => Build "GET" "/deployments";
        build_by_version => Build "GET" "/builds/builds" excluding "/builds/builds/";
        wait_scripts => Wait "GET" "/workers/scripts";
        wait_list => Wait "GET" "/builds/workers/" excluding "/triggers";
        wait_status => Wait "GET" "/builds/builds/" excluding "/logs";
        wait_logs => Wait "GET" "/logs";
        waitmany_latest => WaitMany "GET" "/builds/builds/latest";
        waitmany_deployments => WaitMany "GET" "/deployments";
        waitmany_by_version => WaitMany "GET" "/builds/builds" excluding "/builds/builds/";
        verify_scripts => Verify "GET" "/workers/scripts";
        verify_deployments => Verify "GET" "/deployments";
        verify_by_version => Verify "GET" "/builds/builds" excluding "/builds/builds/";
        verify_builds => Verify "GET" "/builds/workers/";
        version_worker => Version "GET" "/workers/workers/my-worker" excluding "/versions";
        version_subdomain => Version "POST" "/subdomain";
        version_latest => Version "GET" "/versions/";
        version_upload => Version "POST" "/versions";
        version_deploy => Version "POST" "/deployments";
        version_assets_session => Version "POST" "/assets-upload-session";
        version_assets_upload => Version "POST" "/workers/assets/upload";
        versionperfile_upload => VersionPerFile "POST" "/workers/assets/upload/";
        versionmigrations_tag => VersionMigrations "GET" "/workers/services/";
        versionmigrations_upload => VersionMigrations "PUT" "/workers/scripts/my-worker";
        deploy_worker => Deploy "GET" "/workers/workers/my-worker" excluding "/versions";
        deploy_list => Deploy "GET" "/deployments";
        deploy_create => Deploy "POST" "/deployments";
        setup_scripts => Setup "GET" "/workers/scripts";
        setup_triggers => Setup "GET" "/triggers" excluding "/environment_variables";
        setup_vars_read => Setup "GET" "/environment_variables";
        setup_connection => Setup "PUT" "/builds/repos/connections";
        setup_trigger_update => Setup "PATCH" "/builds/triggers/" excluding "/environment_variables";
        setup_trigger_create => Setup "POST" "/builds/triggers";
        setup_trigger_delete => Setup "DELETE" "/builds/triggers/" excluding "/environment_variables";
        setup_vars_set => Setup "PATCH" "/environment_variables";
        setup_var_delete => Setup "DELETE" "/environment_variables/";
        setupfresh_triggers => SetupFresh "GET" "/triggers" excluding "/environment_variables";
        setupfresh_tokens => SetupFresh "GET" "/builds/tokens";
        setupfresh_connection => SetupFresh "PUT" "/builds/repos/connections";
        setupfresh_trigger_create => SetupFresh "POST" "/builds/triggers";
        setupfresh_vars_set => SetupFresh "PATCH" "/environment_variables";
        env_triggers => Env "GET" "/triggers";
        env_set => Env "PATCH" "/environment_variables";
        env_unset => Env "DELETE" "/environment_variables/";
        purgecache_triggers => PurgeCache "GET" "/triggers";
        purgecache_purge => PurgeCache "POST" "/purge_build_cache";
        redeploy_deployments => Redeploy "GET" "/deployments";
        redeploy_by_version => Redeploy "GET" "/builds/builds";
        redeploy_start => Redeploy "POST" "/builds/triggers/";
        redeploy_status => Redeploy "GET" "/builds/builds/" excluding "/logs";
        preview_worker => Preview "GET" "/workers/workers/my-worker" excluding "/previews";
        preview_get => Preview "GET" "/previews/feature" excluding "/deployments";
        preview_latest => Preview "GET" "/deployments/latest";
        preview_list => Preview "GET" "/deployments" excluding "/latest";
        preview_deploy => Preview "POST" "/deployments";
        previewfresh_get => PreviewFresh "GET" "/previews/";
        previewfresh_create => PreviewFresh "POST" "/previews" excluding "/deployments";
        previewfresh_deploy => PreviewFresh "POST" "/deployments";
        previewdelete_delete => PreviewDelete "DELETE" "/previews/";
        rollout_analytics => Rollout "POST" "/graphql";
        migrate_table => Migrate "POST" "/query";
        migrate_read => Migrate "POST" "/query" skipping 1;
        migrate_apply => Migrate "POST" "/query" skipping 2;
        versiontriggers_scripts => VersionTriggers "GET" "/workers/scripts" excluding "my-worker";
        versiontriggers_domains => VersionTriggers "GET" "/workers/domains";
        versiontriggers_zones => VersionTriggers "GET" "/zones";
        versiontriggers_queues => VersionTriggers "GET" "/queues";
        versiontriggers_routes => VersionTriggers "PUT" "/routes";
        versiontriggers_domain => VersionTriggers "PUT" "/workers/domains";
        versiontriggers_schedules => VersionTriggers "PUT" "/schedules";
        versiontriggers_consumer => VersionTriggers "POST" "/consumers";
        versiontriggers_settings => VersionTriggers "PATCH" "/script-settings";
    }
    faults {
        status_429_retry_after: status(429, 10429, Some(1)) => Survive;
        status_429: status(429, 10429, None) => Survive;
        status_500: status(500, 10002, None) => Survive;
        status_502: status(502, 10002, None) => Survive;
        status_503: status(503, 10002, None) => Survive;
        status_504: status(504, 10002, None) => Survive;
        reset: FaultAction::Drop => Survive;
        read_timeout: FaultAction::Delay { ms: 900 } => Survive;
        malformed_json: FaultAction::Malformed => Survive;
        success_false_5xx: FaultAction::SuccessFalse { code: 10002 } => Survive;
        unknown_enum: FaultAction::UnknownEnum => Survive;
        status_401: status(401, 10000, None) => Refused;
        status_403: status(403, 10000, None) => Refused;
        status_404: status(404, 10007, None) => Refused;
        status_400_validation: status(400, 10021, None) => Refused;
    }
}

/// An override naming no cell would silently test nothing; one repeating the default, or twice
/// the same cell, hides what the table says.
#[test]
fn overrides_name_only_cells_that_exist_and_change_them() {
    for (i, (endpoint, fault, expect)) in OVERRIDES.iter().enumerate() {
        assert!(ENDPOINTS.iter().any(|e| e.name == *endpoint), "override {i}: no endpoint {endpoint:?}");
        let default = FAULTS
            .iter()
            .find(|(f, _)| f == fault)
            .map_or_else(|| panic!("override {i}: no fault {fault:?}"), |(_, d)| *d);
        assert_ne!(*expect, default, "override {i} ({endpoint}::{fault}) repeats the fault's default");
        let same = OVERRIDES.iter().filter(|(e, f, _)| e == endpoint && f == fault).count();
        assert_eq!(same, 1, "{endpoint}::{fault} is overridden {same} times");
    }
}

/// Cell names say which command they run.
#[test]
fn endpoint_names_start_with_their_command() {
    for e in ENDPOINTS {
        let cmd = format!("{:?}_", e.cmd).to_lowercase();
        assert!(e.name.starts_with(&cmd), "{} runs {:?}", e.name, e.cmd);
    }
}

//! The fault matrix: for every endpoint each command calls and every fault the simulator can
//! inject, run the command and compare with a clean run. Transient faults must change nothing
//! (exit code, outputs, log lines, resources created); faults that must not be survived
//! (401/403/404/400) must end in a clear API error with exit code 5 and no retry.
//!
//! One test per cell, named `<command>_<endpoint>_<fault>`.

mod common;

use std::sync::OnceLock;

use common::*;

const TAG: &str = "5f1e0c3a9b2d4e6f8a7b6c5d4e3f2a1b";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
/// Outputs that name freshly created resources: present in both runs, equal in neither.
const FRESH: &[&str] = &["build_uuid", "version_id", "version_url", "deployment_id"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Build,
    Wait,
    Version,
    Deploy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Survive,
    Refused,
}

fn status(status: u16, code: i64, retry_after: Option<u64>) -> FaultAction {
    FaultAction::Status { status, code, message: "injected".into(), retry_after }
}

fn matrix_sim() -> Simulator {
    let config = SimConfig {
        workers: vec![WorkerSeed { name: "my-worker".into(), tag: Some(TAG.into()), ..WorkerSeed::default() }],
        build: BuildProfile { queued_ms: 100, initializing_ms: 100, running_ms: 600, ..BuildProfile::default() },
        log_page_size: 7,
        ..SimConfig::default()
    };
    Simulator::start_background(config).expect("simulator starts")
}

fn version_run(sim: &Simulator) -> Run {
    with_module(version_invocation(sim, "my-worker").input("deploy", "true")).run()
}

/// Prepares the simulator for `cmd` (a pushed build for `wait`, a live version for `deploy`)
/// and returns the invocation to run.
fn prepare(sim: &Simulator, cmd: Cmd) -> Invocation {
    match cmd {
        Cmd::Build => Invocation::new(sim),
        Cmd::Wait => {
            sim.push("my-worker", "main", COMMIT, std::time::Duration::ZERO);
            Invocation::new(sim).input("command", "wait").input("commit", COMMIT)
        }
        Cmd::Version => with_module(version_invocation(sim, "my-worker").input("deploy", "true")),
        Cmd::Deploy => {
            let v = version_run(sim);
            v.assert_code(0);
            let id = v.output("version_id").unwrap().to_owned();
            Invocation::new(sim).without("branch").without("commit").input("command", "deploy").input("versions", &id)
        }
    }
}

/// What a run produced that does not depend on fresh ids.
#[derive(Debug, PartialEq)]
struct Result {
    code: i32,
    outputs: Vec<(String, String)>,
    builds: usize,
    versions: usize,
    deployments: usize,
}

fn observe(sim: &Simulator, run: &Run) -> Result {
    Result {
        code: run.code,
        outputs: run
            .outputs
            .iter()
            .map(|(n, v)| {
                (n.clone(), if FRESH.contains(&n.as_str()) { format!("<{}>", !v.is_empty()) } else { v.clone() })
            })
            .collect(),
        builds: sim.builds().len(),
        versions: sim.versions("my-worker").len(),
        deployments: sim.deployments("my-worker").len(),
    }
}

/// The clean run of each command, once per test binary.
fn baseline(cmd: Cmd) -> &'static Result {
    static CELLS: [OnceLock<Result>; 4] = [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    CELLS[cmd as usize].get_or_init(|| {
        let sim = matrix_sim();
        let run = prepare(&sim, cmd).run();
        run.assert_code(0);
        observe(&sim, &run)
    })
}

fn cell(cmd: Cmd, method: &str, path: &str, excludes: Option<&str>, action: FaultAction, expect: Expect) {
    let sim = matrix_sim();
    let inv = prepare(&sim, cmd);
    let before = sim.requests().len();
    sim.add_fault(Fault {
        method: Some(method.into()),
        path_contains: Some(path.into()),
        path_excludes: excludes.map(Into::into),
        times: 1,
        skip: 0,
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
            if matches!(cmd, Cmd::Build | Cmd::Wait) {
                let uuid = run.output("build_uuid").unwrap();
                assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid), "log lines");
            }
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
            assert_eq!(same.len(), 1, "a refused request is not retried: {same:?}");
        }
    }
}

macro_rules! cells {
    ($($name:ident: $cmd:expr, $method:literal, $path:literal, $excl:expr, $action:expr, $expect:expr;)*) => {
        $(
            #[test]
            fn $name() {
                cell($cmd, $method, $path, $excl, $action, $expect);
            }
        )*
    };
}

cells! {
    build_scripts_429_retry_after: Cmd::Build, "GET", "/workers/scripts", None, status(429, 10429, Some(1)), Expect::Survive;
    build_scripts_429: Cmd::Build, "GET", "/workers/scripts", None, status(429, 10429, None), Expect::Survive;
    build_scripts_500: Cmd::Build, "GET", "/workers/scripts", None, status(500, 10002, None), Expect::Survive;
    build_scripts_502: Cmd::Build, "GET", "/workers/scripts", None, status(502, 10002, None), Expect::Survive;
    build_scripts_503: Cmd::Build, "GET", "/workers/scripts", None, status(503, 10002, None), Expect::Survive;
    build_scripts_504: Cmd::Build, "GET", "/workers/scripts", None, status(504, 10002, None), Expect::Survive;
    build_scripts_reset: Cmd::Build, "GET", "/workers/scripts", None, FaultAction::Drop, Expect::Survive;
    build_scripts_read_timeout: Cmd::Build, "GET", "/workers/scripts", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    build_scripts_malformed_json: Cmd::Build, "GET", "/workers/scripts", None, FaultAction::Malformed, Expect::Survive;
    build_scripts_success_false_5xx: Cmd::Build, "GET", "/workers/scripts", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    build_scripts_unknown_enum: Cmd::Build, "GET", "/workers/scripts", None, FaultAction::UnknownEnum, Expect::Survive;
    build_scripts_401: Cmd::Build, "GET", "/workers/scripts", None, status(401, 10000, None), Expect::Refused;
    build_scripts_403: Cmd::Build, "GET", "/workers/scripts", None, status(403, 10000, None), Expect::Refused;
    build_scripts_404: Cmd::Build, "GET", "/workers/scripts", None, status(404, 10007, None), Expect::Refused;
    build_scripts_400_validation: Cmd::Build, "GET", "/workers/scripts", None, status(400, 10021, None), Expect::Refused;
    build_triggers_429_retry_after: Cmd::Build, "GET", "/triggers", None, status(429, 10429, Some(1)), Expect::Survive;
    build_triggers_429: Cmd::Build, "GET", "/triggers", None, status(429, 10429, None), Expect::Survive;
    build_triggers_500: Cmd::Build, "GET", "/triggers", None, status(500, 10002, None), Expect::Survive;
    build_triggers_502: Cmd::Build, "GET", "/triggers", None, status(502, 10002, None), Expect::Survive;
    build_triggers_503: Cmd::Build, "GET", "/triggers", None, status(503, 10002, None), Expect::Survive;
    build_triggers_504: Cmd::Build, "GET", "/triggers", None, status(504, 10002, None), Expect::Survive;
    build_triggers_reset: Cmd::Build, "GET", "/triggers", None, FaultAction::Drop, Expect::Survive;
    build_triggers_read_timeout: Cmd::Build, "GET", "/triggers", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    build_triggers_malformed_json: Cmd::Build, "GET", "/triggers", None, FaultAction::Malformed, Expect::Survive;
    build_triggers_success_false_5xx: Cmd::Build, "GET", "/triggers", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    build_triggers_unknown_enum: Cmd::Build, "GET", "/triggers", None, FaultAction::UnknownEnum, Expect::Survive;
    build_triggers_401: Cmd::Build, "GET", "/triggers", None, status(401, 10000, None), Expect::Refused;
    build_triggers_403: Cmd::Build, "GET", "/triggers", None, status(403, 10000, None), Expect::Refused;
    build_triggers_404: Cmd::Build, "GET", "/triggers", None, status(404, 10007, None), Expect::Refused;
    build_triggers_400_validation: Cmd::Build, "GET", "/triggers", None, status(400, 10021, None), Expect::Refused;
    build_start_429_retry_after: Cmd::Build, "POST", "/builds/triggers/", None, status(429, 10429, Some(1)), Expect::Survive;
    build_start_429: Cmd::Build, "POST", "/builds/triggers/", None, status(429, 10429, None), Expect::Survive;
    build_start_500: Cmd::Build, "POST", "/builds/triggers/", None, status(500, 10002, None), Expect::Survive;
    build_start_502: Cmd::Build, "POST", "/builds/triggers/", None, status(502, 10002, None), Expect::Survive;
    build_start_503: Cmd::Build, "POST", "/builds/triggers/", None, status(503, 10002, None), Expect::Survive;
    build_start_504: Cmd::Build, "POST", "/builds/triggers/", None, status(504, 10002, None), Expect::Survive;
    build_start_reset: Cmd::Build, "POST", "/builds/triggers/", None, FaultAction::Drop, Expect::Survive;
    build_start_read_timeout: Cmd::Build, "POST", "/builds/triggers/", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    build_start_malformed_json: Cmd::Build, "POST", "/builds/triggers/", None, FaultAction::Malformed, Expect::Survive;
    build_start_success_false_5xx: Cmd::Build, "POST", "/builds/triggers/", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    build_start_unknown_enum: Cmd::Build, "POST", "/builds/triggers/", None, FaultAction::UnknownEnum, Expect::Survive;
    build_start_401: Cmd::Build, "POST", "/builds/triggers/", None, status(401, 10000, None), Expect::Refused;
    build_start_403: Cmd::Build, "POST", "/builds/triggers/", None, status(403, 10000, None), Expect::Refused;
    build_start_404: Cmd::Build, "POST", "/builds/triggers/", None, status(404, 10007, None), Expect::Refused;
    build_start_400_validation: Cmd::Build, "POST", "/builds/triggers/", None, status(400, 10021, None), Expect::Refused;
    build_status_429_retry_after: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(429, 10429, Some(1)), Expect::Survive;
    build_status_429: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(429, 10429, None), Expect::Survive;
    build_status_500: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(500, 10002, None), Expect::Survive;
    build_status_502: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(502, 10002, None), Expect::Survive;
    build_status_503: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(503, 10002, None), Expect::Survive;
    build_status_504: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(504, 10002, None), Expect::Survive;
    build_status_reset: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), FaultAction::Drop, Expect::Survive;
    build_status_read_timeout: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), FaultAction::Delay { ms: 900 }, Expect::Survive;
    build_status_malformed_json: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), FaultAction::Malformed, Expect::Survive;
    build_status_success_false_5xx: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    build_status_unknown_enum: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), FaultAction::UnknownEnum, Expect::Survive;
    build_status_401: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(401, 10000, None), Expect::Refused;
    build_status_403: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(403, 10000, None), Expect::Refused;
    build_status_404: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(404, 10007, None), Expect::Refused;
    build_status_400_validation: Cmd::Build, "GET", "/builds/builds/", Some("/logs"), status(400, 10021, None), Expect::Refused;
    build_logs_429_retry_after: Cmd::Build, "GET", "/logs", None, status(429, 10429, Some(1)), Expect::Survive;
    build_logs_429: Cmd::Build, "GET", "/logs", None, status(429, 10429, None), Expect::Survive;
    build_logs_500: Cmd::Build, "GET", "/logs", None, status(500, 10002, None), Expect::Survive;
    build_logs_502: Cmd::Build, "GET", "/logs", None, status(502, 10002, None), Expect::Survive;
    build_logs_503: Cmd::Build, "GET", "/logs", None, status(503, 10002, None), Expect::Survive;
    build_logs_504: Cmd::Build, "GET", "/logs", None, status(504, 10002, None), Expect::Survive;
    build_logs_reset: Cmd::Build, "GET", "/logs", None, FaultAction::Drop, Expect::Survive;
    build_logs_read_timeout: Cmd::Build, "GET", "/logs", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    build_logs_malformed_json: Cmd::Build, "GET", "/logs", None, FaultAction::Malformed, Expect::Survive;
    build_logs_success_false_5xx: Cmd::Build, "GET", "/logs", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    build_logs_unknown_enum: Cmd::Build, "GET", "/logs", None, FaultAction::UnknownEnum, Expect::Survive;
    build_logs_401: Cmd::Build, "GET", "/logs", None, status(401, 10000, None), Expect::Survive;
    build_logs_403: Cmd::Build, "GET", "/logs", None, status(403, 10000, None), Expect::Survive;
    build_logs_404: Cmd::Build, "GET", "/logs", None, status(404, 10007, None), Expect::Survive;
    build_logs_400_validation: Cmd::Build, "GET", "/logs", None, status(400, 10021, None), Expect::Survive;
    wait_scripts_429_retry_after: Cmd::Wait, "GET", "/workers/scripts", None, status(429, 10429, Some(1)), Expect::Survive;
    wait_scripts_429: Cmd::Wait, "GET", "/workers/scripts", None, status(429, 10429, None), Expect::Survive;
    wait_scripts_500: Cmd::Wait, "GET", "/workers/scripts", None, status(500, 10002, None), Expect::Survive;
    wait_scripts_502: Cmd::Wait, "GET", "/workers/scripts", None, status(502, 10002, None), Expect::Survive;
    wait_scripts_503: Cmd::Wait, "GET", "/workers/scripts", None, status(503, 10002, None), Expect::Survive;
    wait_scripts_504: Cmd::Wait, "GET", "/workers/scripts", None, status(504, 10002, None), Expect::Survive;
    wait_scripts_reset: Cmd::Wait, "GET", "/workers/scripts", None, FaultAction::Drop, Expect::Survive;
    wait_scripts_read_timeout: Cmd::Wait, "GET", "/workers/scripts", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    wait_scripts_malformed_json: Cmd::Wait, "GET", "/workers/scripts", None, FaultAction::Malformed, Expect::Survive;
    wait_scripts_success_false_5xx: Cmd::Wait, "GET", "/workers/scripts", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    wait_scripts_unknown_enum: Cmd::Wait, "GET", "/workers/scripts", None, FaultAction::UnknownEnum, Expect::Survive;
    wait_scripts_401: Cmd::Wait, "GET", "/workers/scripts", None, status(401, 10000, None), Expect::Refused;
    wait_scripts_403: Cmd::Wait, "GET", "/workers/scripts", None, status(403, 10000, None), Expect::Refused;
    wait_scripts_404: Cmd::Wait, "GET", "/workers/scripts", None, status(404, 10007, None), Expect::Refused;
    wait_scripts_400_validation: Cmd::Wait, "GET", "/workers/scripts", None, status(400, 10021, None), Expect::Refused;
    wait_list_429_retry_after: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(429, 10429, Some(1)), Expect::Survive;
    wait_list_429: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(429, 10429, None), Expect::Survive;
    wait_list_500: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(500, 10002, None), Expect::Survive;
    wait_list_502: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(502, 10002, None), Expect::Survive;
    wait_list_503: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(503, 10002, None), Expect::Survive;
    wait_list_504: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(504, 10002, None), Expect::Survive;
    wait_list_reset: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), FaultAction::Drop, Expect::Survive;
    wait_list_read_timeout: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), FaultAction::Delay { ms: 900 }, Expect::Survive;
    wait_list_malformed_json: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), FaultAction::Malformed, Expect::Survive;
    wait_list_success_false_5xx: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    wait_list_unknown_enum: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), FaultAction::UnknownEnum, Expect::Survive;
    wait_list_401: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(401, 10000, None), Expect::Refused;
    wait_list_403: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(403, 10000, None), Expect::Refused;
    wait_list_404: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(404, 10007, None), Expect::Refused;
    wait_list_400_validation: Cmd::Wait, "GET", "/builds/workers/", Some("/triggers"), status(400, 10021, None), Expect::Refused;
    wait_status_429_retry_after: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(429, 10429, Some(1)), Expect::Survive;
    wait_status_429: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(429, 10429, None), Expect::Survive;
    wait_status_500: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(500, 10002, None), Expect::Survive;
    wait_status_502: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(502, 10002, None), Expect::Survive;
    wait_status_503: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(503, 10002, None), Expect::Survive;
    wait_status_504: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(504, 10002, None), Expect::Survive;
    wait_status_reset: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), FaultAction::Drop, Expect::Survive;
    wait_status_read_timeout: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), FaultAction::Delay { ms: 900 }, Expect::Survive;
    wait_status_malformed_json: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), FaultAction::Malformed, Expect::Survive;
    wait_status_success_false_5xx: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    wait_status_unknown_enum: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), FaultAction::UnknownEnum, Expect::Survive;
    wait_status_401: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(401, 10000, None), Expect::Refused;
    wait_status_403: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(403, 10000, None), Expect::Refused;
    wait_status_404: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(404, 10007, None), Expect::Refused;
    wait_status_400_validation: Cmd::Wait, "GET", "/builds/builds/", Some("/logs"), status(400, 10021, None), Expect::Refused;
    wait_logs_429_retry_after: Cmd::Wait, "GET", "/logs", None, status(429, 10429, Some(1)), Expect::Survive;
    wait_logs_429: Cmd::Wait, "GET", "/logs", None, status(429, 10429, None), Expect::Survive;
    wait_logs_500: Cmd::Wait, "GET", "/logs", None, status(500, 10002, None), Expect::Survive;
    wait_logs_502: Cmd::Wait, "GET", "/logs", None, status(502, 10002, None), Expect::Survive;
    wait_logs_503: Cmd::Wait, "GET", "/logs", None, status(503, 10002, None), Expect::Survive;
    wait_logs_504: Cmd::Wait, "GET", "/logs", None, status(504, 10002, None), Expect::Survive;
    wait_logs_reset: Cmd::Wait, "GET", "/logs", None, FaultAction::Drop, Expect::Survive;
    wait_logs_read_timeout: Cmd::Wait, "GET", "/logs", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    wait_logs_malformed_json: Cmd::Wait, "GET", "/logs", None, FaultAction::Malformed, Expect::Survive;
    wait_logs_success_false_5xx: Cmd::Wait, "GET", "/logs", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    wait_logs_unknown_enum: Cmd::Wait, "GET", "/logs", None, FaultAction::UnknownEnum, Expect::Survive;
    wait_logs_401: Cmd::Wait, "GET", "/logs", None, status(401, 10000, None), Expect::Survive;
    wait_logs_403: Cmd::Wait, "GET", "/logs", None, status(403, 10000, None), Expect::Survive;
    wait_logs_404: Cmd::Wait, "GET", "/logs", None, status(404, 10007, None), Expect::Survive;
    wait_logs_400_validation: Cmd::Wait, "GET", "/logs", None, status(400, 10021, None), Expect::Survive;
    version_worker_429_retry_after: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(429, 10429, Some(1)), Expect::Survive;
    version_worker_429: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(429, 10429, None), Expect::Survive;
    version_worker_500: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(500, 10002, None), Expect::Survive;
    version_worker_502: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(502, 10002, None), Expect::Survive;
    version_worker_503: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(503, 10002, None), Expect::Survive;
    version_worker_504: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(504, 10002, None), Expect::Survive;
    version_worker_reset: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::Drop, Expect::Survive;
    version_worker_read_timeout: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::Delay { ms: 900 }, Expect::Survive;
    version_worker_malformed_json: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::Malformed, Expect::Survive;
    version_worker_success_false_5xx: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    version_worker_unknown_enum: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::UnknownEnum, Expect::Survive;
    version_worker_401: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(401, 10000, None), Expect::Refused;
    version_worker_403: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(403, 10000, None), Expect::Refused;
    version_worker_404: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(404, 10007, None), Expect::Survive;
    version_worker_400_validation: Cmd::Version, "GET", "/workers/workers/my-worker", Some("/versions"), status(400, 10021, None), Expect::Refused;
    version_upload_429_retry_after: Cmd::Version, "POST", "/versions", None, status(429, 10429, Some(1)), Expect::Survive;
    version_upload_429: Cmd::Version, "POST", "/versions", None, status(429, 10429, None), Expect::Survive;
    version_upload_500: Cmd::Version, "POST", "/versions", None, status(500, 10002, None), Expect::Survive;
    version_upload_502: Cmd::Version, "POST", "/versions", None, status(502, 10002, None), Expect::Survive;
    version_upload_503: Cmd::Version, "POST", "/versions", None, status(503, 10002, None), Expect::Survive;
    version_upload_504: Cmd::Version, "POST", "/versions", None, status(504, 10002, None), Expect::Survive;
    version_upload_reset: Cmd::Version, "POST", "/versions", None, FaultAction::Drop, Expect::Survive;
    version_upload_read_timeout: Cmd::Version, "POST", "/versions", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    version_upload_malformed_json: Cmd::Version, "POST", "/versions", None, FaultAction::Malformed, Expect::Survive;
    version_upload_success_false_5xx: Cmd::Version, "POST", "/versions", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    version_upload_unknown_enum: Cmd::Version, "POST", "/versions", None, FaultAction::UnknownEnum, Expect::Survive;
    version_upload_401: Cmd::Version, "POST", "/versions", None, status(401, 10000, None), Expect::Refused;
    version_upload_403: Cmd::Version, "POST", "/versions", None, status(403, 10000, None), Expect::Refused;
    version_upload_404: Cmd::Version, "POST", "/versions", None, status(404, 10007, None), Expect::Refused;
    version_upload_400_validation: Cmd::Version, "POST", "/versions", None, status(400, 10021, None), Expect::Refused;
    version_deploy_429_retry_after: Cmd::Version, "POST", "/deployments", None, status(429, 10429, Some(1)), Expect::Survive;
    version_deploy_429: Cmd::Version, "POST", "/deployments", None, status(429, 10429, None), Expect::Survive;
    version_deploy_500: Cmd::Version, "POST", "/deployments", None, status(500, 10002, None), Expect::Survive;
    version_deploy_502: Cmd::Version, "POST", "/deployments", None, status(502, 10002, None), Expect::Survive;
    version_deploy_503: Cmd::Version, "POST", "/deployments", None, status(503, 10002, None), Expect::Survive;
    version_deploy_504: Cmd::Version, "POST", "/deployments", None, status(504, 10002, None), Expect::Survive;
    version_deploy_reset: Cmd::Version, "POST", "/deployments", None, FaultAction::Drop, Expect::Survive;
    version_deploy_read_timeout: Cmd::Version, "POST", "/deployments", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    version_deploy_malformed_json: Cmd::Version, "POST", "/deployments", None, FaultAction::Malformed, Expect::Survive;
    version_deploy_success_false_5xx: Cmd::Version, "POST", "/deployments", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    version_deploy_unknown_enum: Cmd::Version, "POST", "/deployments", None, FaultAction::UnknownEnum, Expect::Survive;
    version_deploy_401: Cmd::Version, "POST", "/deployments", None, status(401, 10000, None), Expect::Refused;
    version_deploy_403: Cmd::Version, "POST", "/deployments", None, status(403, 10000, None), Expect::Refused;
    version_deploy_404: Cmd::Version, "POST", "/deployments", None, status(404, 10007, None), Expect::Refused;
    version_deploy_400_validation: Cmd::Version, "POST", "/deployments", None, status(400, 10021, None), Expect::Refused;
    deploy_worker_429_retry_after: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(429, 10429, Some(1)), Expect::Survive;
    deploy_worker_429: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(429, 10429, None), Expect::Survive;
    deploy_worker_500: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(500, 10002, None), Expect::Survive;
    deploy_worker_502: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(502, 10002, None), Expect::Survive;
    deploy_worker_503: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(503, 10002, None), Expect::Survive;
    deploy_worker_504: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(504, 10002, None), Expect::Survive;
    deploy_worker_reset: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::Drop, Expect::Survive;
    deploy_worker_read_timeout: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::Delay { ms: 900 }, Expect::Survive;
    deploy_worker_malformed_json: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::Malformed, Expect::Survive;
    deploy_worker_success_false_5xx: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    deploy_worker_unknown_enum: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), FaultAction::UnknownEnum, Expect::Survive;
    deploy_worker_401: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(401, 10000, None), Expect::Refused;
    deploy_worker_403: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(403, 10000, None), Expect::Refused;
    deploy_worker_404: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(404, 10007, None), Expect::Refused;
    deploy_worker_400_validation: Cmd::Deploy, "GET", "/workers/workers/my-worker", Some("/versions"), status(400, 10021, None), Expect::Refused;
    deploy_list_429_retry_after: Cmd::Deploy, "GET", "/deployments", None, status(429, 10429, Some(1)), Expect::Survive;
    deploy_list_429: Cmd::Deploy, "GET", "/deployments", None, status(429, 10429, None), Expect::Survive;
    deploy_list_500: Cmd::Deploy, "GET", "/deployments", None, status(500, 10002, None), Expect::Survive;
    deploy_list_502: Cmd::Deploy, "GET", "/deployments", None, status(502, 10002, None), Expect::Survive;
    deploy_list_503: Cmd::Deploy, "GET", "/deployments", None, status(503, 10002, None), Expect::Survive;
    deploy_list_504: Cmd::Deploy, "GET", "/deployments", None, status(504, 10002, None), Expect::Survive;
    deploy_list_reset: Cmd::Deploy, "GET", "/deployments", None, FaultAction::Drop, Expect::Survive;
    deploy_list_read_timeout: Cmd::Deploy, "GET", "/deployments", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    deploy_list_malformed_json: Cmd::Deploy, "GET", "/deployments", None, FaultAction::Malformed, Expect::Survive;
    deploy_list_success_false_5xx: Cmd::Deploy, "GET", "/deployments", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    deploy_list_unknown_enum: Cmd::Deploy, "GET", "/deployments", None, FaultAction::UnknownEnum, Expect::Survive;
    deploy_list_401: Cmd::Deploy, "GET", "/deployments", None, status(401, 10000, None), Expect::Refused;
    deploy_list_403: Cmd::Deploy, "GET", "/deployments", None, status(403, 10000, None), Expect::Refused;
    deploy_list_404: Cmd::Deploy, "GET", "/deployments", None, status(404, 10007, None), Expect::Refused;
    deploy_list_400_validation: Cmd::Deploy, "GET", "/deployments", None, status(400, 10021, None), Expect::Refused;
    deploy_create_429_retry_after: Cmd::Deploy, "POST", "/deployments", None, status(429, 10429, Some(1)), Expect::Survive;
    deploy_create_429: Cmd::Deploy, "POST", "/deployments", None, status(429, 10429, None), Expect::Survive;
    deploy_create_500: Cmd::Deploy, "POST", "/deployments", None, status(500, 10002, None), Expect::Survive;
    deploy_create_502: Cmd::Deploy, "POST", "/deployments", None, status(502, 10002, None), Expect::Survive;
    deploy_create_503: Cmd::Deploy, "POST", "/deployments", None, status(503, 10002, None), Expect::Survive;
    deploy_create_504: Cmd::Deploy, "POST", "/deployments", None, status(504, 10002, None), Expect::Survive;
    deploy_create_reset: Cmd::Deploy, "POST", "/deployments", None, FaultAction::Drop, Expect::Survive;
    deploy_create_read_timeout: Cmd::Deploy, "POST", "/deployments", None, FaultAction::Delay { ms: 900 }, Expect::Survive;
    deploy_create_malformed_json: Cmd::Deploy, "POST", "/deployments", None, FaultAction::Malformed, Expect::Survive;
    deploy_create_success_false_5xx: Cmd::Deploy, "POST", "/deployments", None, FaultAction::SuccessFalse { code: 10002 }, Expect::Survive;
    deploy_create_unknown_enum: Cmd::Deploy, "POST", "/deployments", None, FaultAction::UnknownEnum, Expect::Survive;
    deploy_create_401: Cmd::Deploy, "POST", "/deployments", None, status(401, 10000, None), Expect::Refused;
    deploy_create_403: Cmd::Deploy, "POST", "/deployments", None, status(403, 10000, None), Expect::Refused;
    deploy_create_404: Cmd::Deploy, "POST", "/deployments", None, status(404, 10007, None), Expect::Refused;
    deploy_create_400_validation: Cmd::Deploy, "POST", "/deployments", None, status(400, 10021, None), Expect::Refused;
}

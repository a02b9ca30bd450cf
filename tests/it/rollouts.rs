//! Rollouts that check themselves (`stages`): a smoke test through the version override at 0 %,
//! shares raised with soaks, the error gate read from analytics, and the previous deployment
//! restored exactly on any failure or signal (exit 13). Soaks run at the simulator's pace: a
//! `5m` soak lasts 30 ms at the scale used here.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use workers_ci_simulator::VersionProfile;

use crate::common::*;

/// A `5m` soak lasts 30 ms; the smoke test's 30 s patience, 3 ms.
const SCALE: &str = "0.0001";
/// The simulator's analytics lag (3 minutes, as `analytics_lag`'s default) at [`SCALE`]: the
/// simulator has no clock to scale, so its lag is shrunk here by the same factor as the client's
/// waits, keeping the two in the proportion they have at real speed.
const LAG_MS: u64 = 18;

fn rollout_sim(configure: impl FnOnce(&mut SimConfig)) -> Simulator {
    let mut config = SimConfig { synthetic_rps: 100_000.0, analytics_lag_ms: LAG_MS, ..SimConfig::default() };
    configure(&mut config);
    Simulator::start_background(config).expect("simulator starts")
}

/// Uploads a version through the API (as another tool would have), deployed at 100 % or not.
fn upload(sim: &Simulator, deploy: bool) -> String {
    let body = json!({ "main_module": "index.js",
        "modules": [{ "name": "index.js", "content_type": "application/javascript+module", "content_base64": "eA==" }] });
    let q = if deploy { "?deploy=true" } else { "" };
    let (status, answer) = call(sim, "POST", &format!("/workers/workers/my-worker/versions{q}"), Some(&body));
    assert_eq!(status, 200, "{answer}");
    answer["result"]["id"].as_str().unwrap().to_owned()
}

/// v1 live at 100 %, v2 uploaded beside it; the simulator's request log starts empty.
fn two_versions(sim: &Simulator) -> (String, String) {
    let v1 = upload(sim, true);
    let v2 = upload(sim, false);
    sim.restore(&sim.snapshot());
    (v1, v2)
}

fn rollout(sim: &Simulator, version: &str, stages: &str) -> Invocation {
    Invocation::new(sim)
        .without("branch")
        .without("commit")
        .env("WORKERS_CI_TIME_SCALE", SCALE)
        .input("command", "deploy")
        .input("versions", version)
        .input("stages", stages)
        .input("smoke_url", &format!("{}/health", sim.worker_url("my-worker")))
}

/// A request to the Worker on the simulated edge: `(status, body)`.
fn get_worker(sim: &Simulator, overrides: Option<&str>) -> (u16, String) {
    let url = sim.worker_url("my-worker");
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let extra = overrides.map(|o| format!("Cloudflare-Workers-Version-Overrides: {o}\r\n")).unwrap_or_default();
    write!(s, "GET /{path}/ HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.split_whitespace().nth(1).unwrap().parse().unwrap(), body.to_owned())
}

/// Each deployment's share of `version`, oldest first.
fn shares_of(sim: &Simulator, version: &str) -> Vec<f64> {
    let mut d = sim.deployments("my-worker");
    d.reverse();
    d.iter()
        .map(|d| {
            d["versions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["version_id"] == version)
                .map_or(0.0, |v| v["percentage"].as_f64().unwrap())
        })
        .collect()
}

fn live(sim: &Simulator) -> Value {
    sim.deployments("my-worker")[0]["versions"].clone()
}

fn stages_output(run: &Run) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(run.output("stages").expect("stages output")).unwrap()
}

fn writes(sim: &Simulator) -> usize {
    sim.requests().iter().filter(|r| r.method != "GET" && r.path != "/client/v4/graphql").count()
}

#[test]
fn a_healthy_version_goes_0_10_50_100_with_the_smoke_test_through_the_override() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let (v1, v2) = two_versions(&sim);
    let started = Instant::now();
    let run = rollout(&sim, &v2, "0,10,50,100").input("smoke_body", "{version_id}").run();
    let took = started.elapsed();
    run.assert_code(0);
    // Four stages, then nothing else: the old version leaves with the last one.
    assert_eq!(shares_of(&sim, &v2), vec![0.0, 0.0, 10.0, 50.0, 100.0]);
    assert_eq!(live(&sim), json!([{ "version_id": v2, "percentage": 100.0 }]));
    let stages = stages_output(&run);
    let verdicts: Vec<&str> = stages.iter().map(|s| s["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["passed"; 4]);
    assert!(stages[1]["requests"].as_u64().unwrap() >= 100, "{stages:?}");
    assert_eq!(stages[1]["errors"], 0);
    assert_eq!(run.output("deployment_id"), sim.deployments("my-worker")[0]["id"].as_str());
    // The smoke test reached the new version while it had no share, by the override alone.
    let served = sim.served("my-worker");
    assert!(!served.is_empty());
    assert!(served.iter().all(|s| s.version_id == v2 && s.by_override && s.path == "/health"), "{served:?}");
    assert!(run.stdout.contains("Smoke test") && run.stdout.contains("GET 200 in"), "{}", run.stdout);
    assert!(run.summary.contains("#### Rollout"), "{}", run.summary);

    // The request count of a four-stage rollout, and what it adds beyond the soaks.
    let reqs = sim.requests();
    let per: Vec<String> = reqs.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    eprintln!("four-stage rollout: {} API requests in {took:?} (soaks 2 × 30 ms): {per:#?}", reqs.len());
    // 3 reads and the analytics permission check, 4 deployments, and 4 analytics reads for each
    // of the 2 soaks: 30 s, 1m30s, 2m30s and 3m after it (`analytics_lag` 3m), the last judged.
    assert_eq!(reqs.len(), 16, "{per:#?}");

    // Without the override the old version answers a deployment at 0 %; with it, the new one.
    let body = json!({ "strategy": "percentage", "versions": [
        { "version_id": v2, "percentage": 0 }, { "version_id": v1, "percentage": 100 } ] });
    assert_eq!(call(&sim, "POST", "/workers/scripts/my-worker/deployments", Some(&body)).0, 200);
    for _ in 0..20 {
        assert!(get_worker(&sim, None).1.contains(&v1), "the old version answers without the override");
    }
    let header = format!("my-worker=\"{v2}\"");
    assert!(get_worker(&sim, Some(&header)).1.contains(&v2));
    assert!(get_worker(&sim, Some(&format!("my-worker={v2}"))).1.contains(&v1), "a token is not an sf-string");
}

#[test]
fn a_failing_smoke_test_never_takes_traffic_and_the_old_version_stays() {
    // Zero refused, as the spec's minimum says: the version goes in at 0.01 %.
    let sim = rollout_sim(|_| {});
    let (v1, v2) = two_versions(&sim);
    sim.set_version_profile(VersionProfile { number: 2, status: 503, ..VersionProfile::default() });
    let run = rollout(&sim, &v2, "10%:5m, 50%:10m, 100%").run();
    run.assert_code(13);
    assert!(run.stdout.contains("goes in at its minimum, 0.01 %"), "{}", run.stdout);
    assert!(run.everything().contains("rolled back at stage 1/4 (0.01 %): smoke test failed"), "{}", run.everything());
    assert!(run.everything().contains("answered 503, expected 200"), "{}", run.everything());
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    assert!(shares_of(&sim, &v2).iter().all(|p| *p <= 0.01), "{:?}", shares_of(&sim, &v2));
    let stages = stages_output(&run);
    assert_eq!(stages[0]["verdict"], "failed");
    assert!(stages[1..].iter().all(|s| s["verdict"] == "not_run"));
}

#[test]
fn an_error_rate_above_the_gate_at_10_percent_rolls_back() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let (v1, v2) = two_versions(&sim);
    sim.set_version_profile(VersionProfile { number: 2, error_rate: 0.05, ..VersionProfile::default() });
    let run = rollout(&sim, &v2, "0,10,50,100").input("max_error_rate", "1").run();
    run.assert_code(13);
    assert!(run.everything().contains("rolled back at stage 2/4 (10 %): error rate too high"), "{}", run.everything());
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    assert_eq!(shares_of(&sim, &v2).iter().copied().fold(0.0, f64::max), 10.0, "never reached 50 %");
    let stages = stages_output(&run);
    assert_eq!(stages[1]["verdict"], "failed");
    assert!(stages[1]["errors"].as_u64().unwrap() > 0);
    assert!(run.summary.contains("Rolled back"), "{}", run.summary);
}

#[test]
fn sigint_during_a_soak_rolls_back() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let (v1, v2) = two_versions(&sim);
    // 24h at this scale: 8.6 s, time enough to be interrupted.
    let inv = rollout(&sim, &v2, "0,10:24h,100");
    let mut child = inv.watch();
    child.wait_for_line("Soaking", Duration::from_secs(15));
    let signalled = Instant::now();
    child.signal("INT");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(30));
    let run = inv.collect(code, stdout, stderr, signalled.elapsed());
    run.assert_code(13);
    assert!(signalled.elapsed() < Duration::from_secs(5));
    assert!(
        run.everything().contains("rolled back at stage 2/3 (10 %): the job was cancelled"),
        "{}",
        run.everything()
    );
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    assert_eq!(stages_output(&run)[1]["verdict"], "interrupted");
}

#[test]
fn too_few_requests_follow_if_no_signal() {
    let sim = rollout_sim(|c| {
        c.zero_percent_deployments = true;
        c.synthetic_rps = 0.0;
    });
    let (v1, v2) = two_versions(&sim);
    let snapshot = sim.snapshot();
    let fail = rollout(&sim, &v2, "0,10,100").run();
    fail.assert_code(13);
    assert!(fail.everything().contains("signal too small"), "{}", fail.everything());
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    assert_eq!(stages_output(&fail)[1]["verdict"], "no_signal");

    sim.restore(&snapshot);
    let pass = rollout(&sim, &v2, "0,10,100").input("if_no_signal", "pass").run();
    pass.assert_code(0);
    assert!(pass.stdout.contains("signal too small"), "{}", pass.stdout);
    assert_eq!(live(&sim), json!([{ "version_id": v2, "percentage": 100.0 }]));
}

#[test]
fn a_token_without_analytics_read_is_refused_before_any_deploy() {
    let sim = rollout_sim(|c| c.analytics_read = false);
    let (v1, v2) = two_versions(&sim);
    let run = rollout(&sim, &v2, "0,10,100").run();
    run.assert_code(5);
    assert!(
        run.everything().contains("Account Analytics Read") && run.everything().contains("Nothing was deployed"),
        "{}",
        run.everything()
    );
    assert_eq!(writes(&sim), 0, "{:?}", sim.requests());
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    // Without the gate, the same token rolls out (soaks only wait), and says so in its inputs.
    let run = rollout(&sim, &v2, "0,10,100").input("max_error_rate", "off").run();
    run.assert_code(0);
}

#[test]
fn a_live_split_is_restored_exactly() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let v1 = upload(&sim, true);
    let v2 = upload(&sim, false);
    let v3 = upload(&sim, false);
    let split = json!({ "strategy": "percentage", "versions": [
        { "version_id": v1, "percentage": 70 }, { "version_id": v2, "percentage": 30 } ] });
    assert_eq!(call(&sim, "POST", "/workers/scripts/my-worker/deployments", Some(&split)).0, 200);
    sim.set_version_profile(VersionProfile { number: 3, error_rate: 0.5, ..VersionProfile::default() });
    let run = rollout(&sim, &v3, "0,10,100").run();
    run.assert_code(13);
    let mut restored: Vec<(String, f64)> = live(&sim)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version_id"].as_str().unwrap().to_owned(), v["percentage"].as_f64().unwrap()))
        .collect();
    restored.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert!(run.stdout.contains(&format!("{v2} leaves the deployment")), "said before it happens: {}", run.stdout);
    assert_eq!(restored, vec![(v1, 70.0), (v2, 30.0)]);
}

#[test]
fn a_refused_first_deployment_leaves_the_live_one_alone() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let (v1, v2) = two_versions(&sim);
    let before = sim.deployments("my-worker").len();
    sim.add_fault(fault(
        "POST",
        "/deployments",
        1,
        FaultAction::Status { status: 403, code: 10000, message: "injected".into(), retry_after: None },
    ));
    let run = rollout(&sim, &v2, "0,10,100").run();
    run.assert_code(5);
    assert_eq!(sim.deployments("my-worker").len(), before, "nothing to roll back, so nothing redeployed");
    assert_eq!(requests_matching(&sim, "POST", "/deployments"), 1);
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
}

#[test]
fn bad_rollout_inputs_exit_2_without_requests() {
    let sim = rollout_sim(|_| {});
    let v = "11111111-1111-4111-8111-111111111111";
    let cases: Vec<(Invocation, &str)> = vec![
        (rollout(&sim, v, "50,10,100"), "stages"),
        (rollout(&sim, v, "0:5m,100"), "stages"),
        (rollout(&sim, v, "10:5parsecs,100"), "stages"),
        (rollout(&sim, v, "10,50"), "stages"),
        (rollout(&sim, &format!("{v}@10"), "10,100"), "versions"),
        (rollout(&sim, v, "10,100").input("smoke_url", "ftp://example.com/"), "smoke_url"),
        (rollout(&sim, v, "10,100").input("smoke_method", "POST"), "smoke_method"),
        (rollout(&sim, v, "10,100").input("max_error_rate", "lots"), "max_error_rate"),
        (rollout(&sim, v, "10,100").input("if_no_signal", "maybe"), "if_no_signal"),
        (rollout(&sim, v, "10,100").input("worker", "1st-worker"), "worker"),
        (rollout(&sim, v, "10,100").without("stages"), "smoke_url"),
    ];
    for (inv, input) in cases {
        let run = inv.run();
        run.assert_code(2);
        assert!(run.everything().contains(&format!("`{input}`")), "{input}: {}", run.everything());
    }
    assert!(sim.requests().is_empty());
}

#[test]
fn version_with_deploy_true_rolls_the_upload_out_through_the_stages() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let v1 = upload(&sim, true);
    sim.set_version_profile(VersionProfile { number: 2, error_rate: 0.2, ..VersionProfile::default() });
    let inv = with_module(version_invocation(&sim, "my-worker"))
        .env("WORKERS_CI_TIME_SCALE", SCALE)
        .input("deploy", "true")
        .input("stages", "0,25,100")
        .input("smoke_url", &format!("{}/", sim.worker_url("my-worker")));
    let run = inv.run();
    run.assert_code(13);
    let v2 = run.output("version_id").unwrap().to_owned();
    assert_eq!(shares_of(&sim, &v2), vec![0.0, 0.0, 25.0, 0.0], "rolled back from 25 %");
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));

    // Without `deploy: true` the stages have nothing to roll out: refused before any request.
    let sim = rollout_sim(|_| {});
    let run = with_module(version_invocation(&sim, "my-worker")).input("stages", "0,100").run();
    run.assert_code(2);
    assert!(run.everything().contains("`stages`"), "{}", run.everything());
    assert!(sim.requests().is_empty());
}

#[test]
fn the_smoke_test_retries_until_the_override_has_propagated() {
    // The override is honoured 300 ms after the deployment; until then the old version answers,
    // which `{version_id}` in `smoke_body` tells apart.
    let sim = rollout_sim(|c| {
        c.zero_percent_deployments = true;
        c.override_delay_ms = 300;
    });
    let (v1, v2) = two_versions(&sim);
    let run =
        rollout(&sim, &v2, "0,100").env("WORKERS_CI_TIME_SCALE", "0.05").input("smoke_body", "{version_id}").run();
    run.assert_code(0);
    let attempts = run.stdout.lines().filter(|l| l.starts_with("Smoke test http")).count();
    assert!(attempts >= 2, "{}", run.stdout);
    assert!(run.stdout.contains("its body lacks the expected `smoke_body` text"), "{}", run.stdout);
    let served = sim.served("my-worker");
    assert!(served.first().is_some_and(|s| s.version_id == v1 && !s.by_override), "{served:?}");
    assert!(served.last().is_some_and(|s| s.version_id == v2 && s.by_override), "{served:?}");
    assert_eq!(live(&sim), json!([{ "version_id": v2, "percentage": 100.0 }]));
}

#[test]
fn a_timeout_during_a_soak_rolls_back() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let (v1, v2) = two_versions(&sim);
    // `timeout` is the user's clock, never scaled: 2 s, inside the 8.6 s soak.
    let run = rollout(&sim, &v2, "0,10:24h,100").input("timeout", "2s").run();
    run.assert_code(13);
    assert!(
        run.everything().contains("rolled back at stage 2/3 (10 %): `timeout` (2s) elapsed"),
        "{}",
        run.everything()
    );
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    assert_eq!(stages_output(&run)[1]["verdict"], "interrupted");
}

/// action.yml and the GitLab templates pass every input with its default: those defaults alone
/// are no rollout, so a plain `version` with `deploy: true` deploys as ever (the GitLab pipeline
/// found this), while a value of the user's own without `stages` is still refused.
#[test]
fn the_defaults_a_wrapper_passes_are_not_a_rollout() {
    let sim = rollout_sim(|_| {});
    let with_defaults = |inv: Invocation| {
        inv.input("smoke_method", "GET")
            .input("smoke_status", "200")
            .input("max_error_rate", "1")
            .input("min_requests", "100")
            .input("if_no_signal", "fail")
    };
    let run = with_defaults(with_module(version_invocation(&sim, "my-worker")).input("deploy", "true")).run();
    run.assert_code(0);
    let v = run.output("version_id").unwrap().to_owned();
    assert_eq!(live(&sim), json!([{ "version_id": v, "percentage": 100.0 }]));

    let before = sim.requests().len();
    let run = with_defaults(with_module(version_invocation(&sim, "my-worker")).input("deploy", "true"))
        .input("smoke_method", "HEAD")
        .run();
    run.assert_code(2);
    assert!(run.everything().contains("`smoke_method`"), "{}", run.everything());
    assert_eq!(sim.requests().len(), before, "refused before any request");
}

#[test]
fn a_healthy_version_passes_when_analytics_lag_longer_than_its_soak() {
    // Analytics 10 minutes behind, a 5-minute soak: read at once, the window is empty (every
    // request in it is younger than the lag) and `if_no_signal: fail` would roll a healthy
    // version back. The gate waits until the window's end is `analytics_lag` old instead.
    let sim = rollout_sim(|c| {
        c.zero_percent_deployments = true;
        c.analytics_lag_ms = 60; // 10 minutes at SCALE
    });
    let (_, v2) = two_versions(&sim);
    let run = rollout(&sim, &v2, "0,10%:5m,100").input("analytics_lag", "10m").run();
    run.assert_code(0);
    let stages = stages_output(&run);
    assert_eq!(stages[1]["verdict"], "passed", "{stages:?}\n{}", run.everything());
    assert!(stages[1]["requests"].as_u64().unwrap() >= 100, "{stages:?}");
    assert_eq!(live(&sim), json!([{ "version_id": v2, "percentage": 100.0 }]));
    // Each read is logged, so a user sees why the rollout waits, and the share was held.
    assert!(run.stdout.contains("analytics lag up to 10m (`analytics_lag`)"), "{}", run.stdout);
    let reads: Vec<&str> = run.stdout.lines().filter(|l| l.contains("analytics read")).collect();
    assert_eq!(reads.len(), 11, "30 s, then every minute up to 10m: {reads:#?}");
    assert!(reads[..10].iter().all(|l| l.contains("still catching up")), "{reads:#?}");
    assert!(reads[10].contains("(complete)"), "{reads:#?}");
    assert_eq!(shares_of(&sim, &v2), vec![0.0, 0.0, 10.0, 100.0]);
}

#[test]
fn an_error_burst_visible_only_after_the_lag_still_rolls_back() {
    // At 0.001: a 5m soak lasts 300 ms, analytics lag 3 minutes (180 ms, the default of both),
    // and the new version starts throwing half its invocations 200 ms into its 10 %. Read at once,
    // the window shows only its first 120 ms, all healthy, with plenty of requests: the gate
    // would pass and the rollout go on to 100 %.
    let sim = rollout_sim(|c| {
        c.zero_percent_deployments = true;
        c.analytics_lag_ms = 180;
    });
    let (v1, v2) = two_versions(&sim);
    sim.set_version_profile(VersionProfile {
        number: 2,
        error_rate: 0.5,
        errors_after_ms: 200,
        ..VersionProfile::default()
    });
    let run = rollout(&sim, &v2, "0,10%:5m,100").env("WORKERS_CI_TIME_SCALE", "0.001").run();
    run.assert_code(13);
    assert!(run.everything().contains("rolled back at stage 2/3 (10 %): error rate too high"), "{}", run.everything());
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    assert_eq!(shares_of(&sim, &v2).iter().copied().fold(0.0, f64::max), 10.0, "never reached 100 %");
    let stages = stages_output(&run);
    assert_eq!(stages[1]["verdict"], "failed");
    assert!(stages[1]["errors"].as_u64().unwrap() > 0, "{stages:?}");
}

#[test]
fn a_timeout_while_analytics_catch_up_rolls_back_with_the_share_held() {
    let sim = rollout_sim(|c| {
        c.zero_percent_deployments = true;
        c.analytics_lag_ms = 8_640; // 24h at SCALE
    });
    let (v1, v2) = two_versions(&sim);
    // `timeout` is the user's clock, never scaled: 2 s, inside the 8.6 s wait for analytics.
    let run = rollout(&sim, &v2, "0,10,100").input("analytics_lag", "24h").input("timeout", "2s").run();
    run.assert_code(13);
    assert!(
        run.everything().contains(
            "the stages wait at least 24h5m (5m of soaks and 24h0m for analytics to catch up after them, \
             `analytics_lag`) and `timeout` is 2s"
        ),
        "said before any deploy: {}",
        run.everything()
    );
    assert!(
        run.everything().contains("rolled back at stage 2/3 (10 %): `timeout` (2s) elapsed"),
        "{}",
        run.everything()
    );
    assert!(run.stdout.contains("still catching up"), "{}", run.stdout);
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
    assert_eq!(shares_of(&sim, &v2), vec![0.0, 0.0, 10.0, 0.0], "held at 10 % while waiting, then restored");
    let stages = stages_output(&run);
    assert_eq!(stages[1]["verdict"], "interrupted");
    assert!(stages[1]["note"].as_str().unwrap().contains("partial counts"), "{stages:?}");
}

#[test]
fn a_failed_read_while_analytics_catch_up_waits_on_but_a_failed_last_read_rolls_back() {
    let sim = rollout_sim(|c| c.zero_percent_deployments = true);
    let (v1, v2) = two_versions(&sim);
    let snapshot = sim.snapshot();
    let refused = |skip| Fault {
        skip,
        ..fault(
            "POST",
            "/graphql",
            1,
            FaultAction::Status { status: 403, code: 10000, message: "injected".into(), retry_after: None },
        )
    };
    // The permission check, then the first of the soak's four reads refused: only a progress
    // read, so the rollout waits on and judges the complete window.
    sim.add_fault(refused(1));
    let run = rollout(&sim, &v2, "0,10,100").run();
    run.assert_code(0);
    assert!(run.stdout.contains("analytics read 1 failed"), "{}", run.stdout);
    assert!(run.stdout.contains("analytics read 4:") && run.stdout.contains("(complete)"), "{}", run.stdout);
    assert_eq!(live(&sim), json!([{ "version_id": v2, "percentage": 100.0 }]));

    // The last read, the one judged, refused: no verdict without it, so the rollout rolls back.
    sim.restore(&snapshot);
    sim.add_fault(refused(4));
    let run = rollout(&sim, &v2, "0,10,100").run();
    run.assert_code(13);
    assert!(
        run.everything().contains("rolled back at stage 2/3 (10 %): could not read the error rate from analytics"),
        "{}",
        run.everything()
    );
    assert_eq!(live(&sim), json!([{ "version_id": v1, "percentage": 100.0 }]));
}

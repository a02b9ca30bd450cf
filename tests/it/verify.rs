//! `verify` (issue 22): is production serving this commit? One account with a Worker per
//! verdict, made the way they happen: a deploying build of the commit (`deployed`), a rollback
//! to an older commit's build (`behind`), a gradual rollout (`split`), a version uploaded
//! without Workers Builds (`other`), and a Worker never deployed (`none`).

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

const OLD: &str = "1111111111111111111111111111111111111111";
const NEW: &str = "2222222222222222222222222222222222222222";
const WORKERS: [&str; 5] = ["live", "behind", "split", "direct", "idle"];

fn tag(i: usize) -> String {
    format!("{:032x}", i + 0xa0)
}

/// Deploys `versions` (id, percentage) as the Worker's new active deployment, as a user would.
fn deploy(sim: &Simulator, worker: &str, versions: &[(&str, f64)]) {
    let versions: Vec<Value> = versions.iter().map(|(v, p)| json!({"version_id": v, "percentage": p})).collect();
    let body = json!({"strategy": "percentage", "versions": versions});
    let (status, answer) = call(sim, "POST", &format!("/workers/scripts/{worker}/deployments"), Some(&body));
    assert_eq!(status, 200, "{answer}");
}

/// Waits for every build to stop, then asks the API once, which settles what they made.
fn settle(sim: &Simulator) {
    assert!(eventually(Duration::from_secs(20), || sim.builds().iter().all(|b| b["status"] == "stopped")));
    call(sim, "GET", "/workers/scripts", None);
}

/// The version a Worker's `n`-th newest deployment serves first.
fn deployed_version(sim: &Simulator, worker: &str, n: usize) -> String {
    sim.deployments(worker)[n]["versions"][0]["version_id"].as_str().unwrap().to_owned()
}

struct Scene {
    sim: Simulator,
    /// Each build's uuid by (worker, commit).
    builds: Vec<(String, String, String)>,
}

impl Scene {
    fn build(&self, worker: &str, commit: &str) -> &str {
        &self.builds.iter().find(|(w, c, _)| w == worker && c == commit).unwrap().2
    }
}

fn scene() -> Scene {
    let workers = WORKERS
        .iter()
        .enumerate()
        .map(|(i, w)| WorkerSeed { name: (*w).into(), tag: Some(tag(i)), ..WorkerSeed::default() })
        .collect();
    let sim =
        Simulator::start_background(SimConfig { workers, build: fast_profile(), ..SimConfig::default() }).unwrap();
    let mut builds = Vec::new();
    // Two pushes to main, the older first: each deploys when it succeeds.
    for w in ["live", "behind", "split"] {
        builds.push((w.to_owned(), OLD.to_owned(), sim.push(w, "main", OLD, Duration::ZERO)));
    }
    settle(&sim);
    for w in ["live", "behind", "split"] {
        builds.push((w.to_owned(), NEW.to_owned(), sim.push(w, "main", NEW, Duration::ZERO)));
    }
    settle(&sim);
    // `behind`: rolled back to the older commit's version.
    let old = deployed_version(&sim, "behind", 1);
    deploy(&sim, "behind", &[(&old, 100.0)]);
    // `split`: the new commit's version on 60 % beside the old one.
    let (new, old) = (deployed_version(&sim, "split", 0), deployed_version(&sim, "split", 1));
    deploy(&sim, "split", &[(&new, 60.0), (&old, 40.0)]);
    // `direct`: a version uploaded and deployed without Workers Builds.
    let run = with_module(version_invocation(&sim, "direct")).input("deploy", "true").run();
    run.assert_code(0);
    Scene { sim, builds }
}

fn verify(sim: &Simulator, workers: &str) -> Invocation {
    Invocation::new(sim).input("command", "verify").input("worker", workers).input("commit", NEW)
}

fn verified(run: &Run) -> Vec<Value> {
    serde_json::from_str::<Value>(run.output("workers").expect("workers written")).unwrap().as_array().unwrap().clone()
}

/// What `verify` must say of each Worker of the scene, in the JSON output's shape.
fn expected(s: &Scene) -> Vec<Value> {
    let sim = &s.sim;
    let active = |w: &str| sim.deployments(w)[0]["id"].as_str().unwrap().to_owned();
    let v = |w: &str| deployed_version(sim, w, 0);
    let entry = |w: &str, verdict: &str, version: Value, pct: f64, build: Value, commit: Value, detail: String| {
        let branch = if build.is_null() { Value::Null } else { json!("main") };
        json!({"worker": w, "verdict": verdict, "deployment_id": if verdict == "none" { Value::Null } else { json!(active(w)) },
               "version_id": version, "traffic_percent": pct, "build_uuid": build, "commit": commit, "branch": branch,
               "detail": detail})
    };
    vec![
        entry(
            "live",
            "deployed",
            json!(v("live")),
            100.0,
            json!(s.build("live", NEW)),
            json!(NEW),
            format!("version {} of this commit serves 100 % of traffic (deployment {})", v("live"), active("live")),
        ),
        entry(
            "behind",
            "behind",
            json!(v("behind")),
            100.0,
            json!(s.build("behind", OLD)),
            json!(OLD),
            format!(
                "version {} was built from the older commit {OLD} of main; this commit's build is {} (success)",
                v("behind"),
                s.build("behind", NEW)
            ),
        ),
        entry(
            "split",
            "split",
            json!(v("split")),
            60.0,
            json!(s.build("split", NEW)),
            json!(NEW),
            format!("version {} of this commit serves 60 % of traffic (deployment {})", v("split"), active("split")),
        ),
        entry(
            "direct",
            "other",
            json!(v("direct")),
            100.0,
            Value::Null,
            Value::Null,
            format!("version {} was not built by Workers Builds (uploaded directly)", v("direct")),
        ),
        entry("idle", "none", Value::Null, 0.0, Value::Null, Value::Null, "the Worker has no deployment".into()),
    ]
}

/// The summary's table, as a user reads it, from the expected JSON.
fn table(entries: &[Value]) -> String {
    let mut md = String::from(
        "| Worker | Verdict | Version | Traffic | Built from | Detail |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for e in entries {
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
        let short = |x: String| x.get(..8).map_or(x.clone(), str::to_owned);
        let traffic = if e["version_id"].is_null() { String::new() } else { format!("{} %", e["traffic_percent"]) };
        let from =
            if e["commit"].is_null() { String::new() } else { format!("{} on {}", short(s("commit")), s("branch")) };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            s("worker"),
            s("verdict"),
            short(s("version_id")),
            traffic.replace(".0 %", " %"),
            from,
            s("detail")
        ));
    }
    md
}

/// The five verdicts, compared whole: the JSON output, the summary table, the worst verdict,
/// and exit 12 by the default `expect: deployed`, naming the four Workers that fall short.
#[test]
fn verdicts_for_each_kind_of_production() {
    let s = scene();
    let run = verify(&s.sim, &WORKERS.join(",")).run();
    run.assert_code(12);
    let want = expected(&s);
    assert_eq!(verified(&run), want);
    assert!(run.summary.contains(&table(&want)), "want:\n{}\ngot:\n{}", table(&want), run.summary);
    assert_eq!(run.output("verdict"), Some("none"));
    assert_eq!(run.output("commit"), Some(NEW));
    let error = run.view().commands.into_iter().find(|c| c.name == "error").expect("an error annotation");
    for w in ["behind: behind", "split: split", "direct: other", "idle: none"] {
        assert!(error.data.contains(w), "{w}: {}", error.data);
    }
    assert!(!error.data.contains("live:"), "{}", error.data);
    for e in &want {
        let line = format!(
            "[{}] {}: {}",
            e["worker"].as_str().unwrap(),
            e["verdict"].as_str().unwrap(),
            e["detail"].as_str().unwrap()
        );
        assert!(run.stdout.contains(&line), "the log says {line}:\n{}", run.stdout);
    }
}

/// `expect`: one verdict passes it and the better ones; a set passes exactly its members.
#[test]
fn expect_decides_the_exit() {
    let s = scene();
    let cases = [
        ("live", None, 0),
        ("live,split", None, 12),
        ("live,split,behind", Some("behind"), 0),
        ("live,split,behind,direct", Some("behind"), 12),
        ("live,direct", Some("deployed, other"), 0),
        ("live,direct,split", Some("deployed, other"), 12),
        ("live,behind,split,direct,idle", Some("none"), 0),
    ];
    for (workers, expect, code) in cases {
        let mut inv = verify(&s.sim, workers);
        if let Some(e) = expect {
            inv = inv.input("expect", e);
        }
        let run = inv.run();
        assert_eq!(run.code, code, "{workers} expect {expect:?}:\n{}", run.stdout);
    }
}

/// `*`: every Worker of the account, from its one Workers list.
#[test]
fn star_checks_every_worker_of_the_account() {
    let s = scene();
    let run = verify(&s.sim, "*").input("expect", "none").run();
    run.assert_code(0);
    let mut got = verified(&run);
    let mut want = expected(&s);
    got.sort_by_key(|e| e["worker"].to_string());
    want.sort_by_key(|e| e["worker"].to_string());
    assert_eq!(got, want);
}

/// Outside GitHub: the verdicts are in the output file and the log, and no GitHub variable is
/// needed.
#[test]
fn works_from_any_ci() {
    let s = scene();
    let file = tempfile::tempdir().unwrap();
    let path = file.path().join("out.json");
    let run = verify(&s.sim, "live").plain().input("output_file", path.to_str().unwrap()).run();
    run.assert_code(0);
    let out: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(out["verdict"], "deployed");
    let entries: Value = serde_json::from_str(out["workers"].as_str().unwrap()).unwrap();
    assert_eq!(entries[0]["verdict"], "deployed");
    assert!(run.stderr.contains("[live] deployed: version"), "{}", run.stderr);
}

/// Bad inputs: exit 2, naming the input, before any request.
#[test]
fn bad_inputs_are_refused_before_any_request() {
    let sim = sim();
    let cases: [(Invocation, &str); 4] = [
        (verify(&sim, "my-worker").input("expect", "live"), "`expect`"),
        (verify(&sim, "my-worker").input("expect", "deployed, sideways"), "`expect`"),
        (verify(&sim, "my-worker").without("commit"), "`commit`"),
        (verify(&sim, "my-worker, Not A Name"), "`worker`"),
    ];
    for (inv, input) in cases {
        let run = inv.run();
        run.assert_code(2);
        assert!(run.stdout.contains(input), "{input}: {}", run.stdout);
    }
    assert!(sim.requests().is_empty(), "no request: {:?}", sim.requests());
}

/// A name that is no Worker's is refused with the closest one, not called `none`.
#[test]
fn an_unknown_worker_is_an_error_not_none() {
    let sim = sim();
    let run = verify(&sim, "my-wroker").run();
    run.assert_code(5);
    assert!(run.stdout.contains("my-worker"), "{}", run.stdout);
}

//! Many Workers in one step: `worker` as a list for `wait` and `build`.

use std::time::Duration;

use crate::common::*;
use serde_json::Value;

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn tag(i: usize) -> String {
    format!("{i:032x}")
}

/// `n` Workers `w0`…, each with its own log (so a line in the wrong group shows) and profile.
fn many_sim(n: usize, profile: impl Fn(usize) -> BuildProfile) -> Simulator {
    let workers = (0..n)
        .map(|i| {
            let mut p = profile(i);
            if p.outcome != "skipped" {
                p.log_lines = Some((0..8).map(|k| format!("w{i} line {k}")).collect());
            }
            WorkerSeed { name: format!("w{i}"), tag: Some(tag(i)), build: Some(p), ..WorkerSeed::default() }
        })
        .collect();
    Simulator::start_background(SimConfig { workers, build: fast_profile(), ..SimConfig::default() }).unwrap()
}

fn names(n: usize) -> String {
    (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>().join(",")
}

fn builds_output(run: &Run) -> Vec<Value> {
    serde_json::from_str::<Value>(run.output("builds").expect("builds output")).unwrap().as_array().unwrap().clone()
}

fn entry<'a>(builds: &'a [Value], worker: &str) -> &'a Value {
    builds.iter().find(|b| b["worker"] == worker).unwrap_or_else(|| panic!("no entry for {worker}: {builds:?}"))
}

/// Each `::group::` title with the untrusted lines printed inside it.
fn groups(stdout: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut open = false;
    let mut stopped: Option<String> = None;
    for line in stdout.lines() {
        if let Some(t) = &stopped {
            if line == format!("::{t}::") {
                stopped = None;
            } else if open {
                out.last_mut().unwrap().1.push(line.replace('\u{200B}', ""));
            } else {
                panic!("a log line outside any group: {line}");
            }
            continue;
        }
        if let Some(title) = line.strip_prefix("::group::") {
            out.push((title.to_owned(), Vec::new()));
            open = true;
        } else if line == "::endgroup::" {
            open = false;
        } else if let Some(t) = line.strip_prefix("::stop-commands::") {
            stopped = Some(t.to_owned());
        }
    }
    out
}

/// Twelve Workers, one push: different lengths and outcomes, one Worker with no build.
#[test]
fn twelve_workers_mixed_outcomes() {
    let sim = many_sim(12, |i| {
        let base = BuildProfile { running_ms: 400 + 150 * i as u64, ..fast_profile() };
        match i {
            3 => BuildProfile { outcome: "fail".into(), ..base },
            5 => BuildProfile { outcome: "skipped".into(), ..base },
            8 => BuildProfile { preview_url: Some("https://w8.example.workers.dev".into()), ..base },
            _ => base,
        }
    });
    let mut pushed = Vec::new();
    for i in (0..12).filter(|i| *i != 7) {
        // w8's build is of another branch than production: only such a build has a
        // `preview_url` to read (production builds are not read again).
        let branch = if i == 8 { "feature/x" } else { "main" };
        pushed.push((i, sim.push(&format!("w{i}"), branch, A, Duration::from_millis(50 * i as u64))));
    }
    let run = Invocation::new(&sim)
        .input("command", "wait")
        .input("commit", A)
        .input("worker", &names(12).replace(',', "\n"))
        .input("appear_timeout", "3s")
        .run();
    run.assert_code(1);
    let builds = builds_output(&run);
    assert_eq!(builds.len(), 12);
    for (i, uuid) in &pushed {
        let e = entry(&builds, &format!("w{i}"));
        assert_eq!(e["build_uuid"], uuid.as_str());
        assert_eq!(e["tag"], tag(*i));
        let want = match i {
            3 => "fail",
            5 => "skipped",
            _ => "success",
        };
        assert_eq!(e["outcome"], want, "{e}");
        assert_eq!(e["status"], "stopped");
        assert!(e["trigger_uuid"].is_string());
    }
    let none = entry(&builds, "w7");
    assert!(none.get("build_uuid").is_none() && none["status"] == "not_found", "{none}");
    assert_eq!(entry(&builds, "w8")["preview_url"], "https://w8.example.workers.dev");
    // Every log line of every build exactly once, in its own group, in order.
    let gs = groups(&run.stdout);
    for (i, uuid) in pushed.iter().filter(|(i, _)| *i != 5) {
        let mine: Vec<_> = gs.iter().filter(|(t, _)| t.starts_with(&format!("[w{i}] "))).collect();
        assert_eq!(mine.len(), 1, "one group for w{i}: {gs:?}");
        assert_eq!(mine[0].1, sim.build_log(uuid), "w{i}'s group");
    }
    let total: usize = gs.iter().map(|(_, l)| l.len()).sum();
    assert_eq!(total, 10 * 8, "no line twice, none elsewhere");
    for i in 0..12 {
        assert!(run.summary.contains(&format!("| w{i} |")), "a summary row for w{i}:\n{}", run.summary);
    }
    assert!(run.stdout.contains("[w3] fail") || run.stdout.contains("[w3] build log"), "{}", run.stdout);
    // The worst outcome decides; `if_no_build: pass` does not hide a failure.
    assert!(run.stdout.contains("no build of the commit appeared for: w7"), "{}", run.stdout);
    // One error annotation per failed build, not one more for the step's own error.
    let errors: Vec<_> = run.view().commands.into_iter().filter(|c| c.name == "error").collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].data.contains("w3"), "{errors:?}");
}

/// Without the failure, the Worker with no build decides: 7, or 0 with `if_no_build: pass`.
#[test]
fn no_build_is_per_worker_and_if_no_build_applies() {
    let sim = many_sim(3, |_| fast_profile());
    sim.push("w0", "main", A, Duration::ZERO);
    sim.push("w1", "main", A, Duration::ZERO);
    let inv = Invocation::new(&sim)
        .input("command", "wait")
        .input("commit", A)
        .input("worker", "w0, w1, w2")
        .input("appear_timeout", "2s")
        .input("logs", "false");
    inv.run().assert_code(7);
    let run = inv.input("if_no_build", "pass").run();
    run.assert_code(0);
    assert_eq!(builds_output(&run).len(), 3);
}

/// A newer build of one Worker starts during the run: ours is no longer its latest, and is
/// followed by uuid to its own end.
#[test]
fn a_newer_build_of_one_worker_during_the_run() {
    let sim = many_sim(2, |i| BuildProfile { running_ms: 1500 + 500 * i as u64, ..fast_profile() });
    let ours = sim.push("w0", "main", A, Duration::ZERO);
    sim.push("w1", "main", A, Duration::ZERO);
    // The newer build is pushed once the run has found ours, not at a set time: a run that
    // started late on a busy machine would otherwise only ever see the newer one.
    let inv = Invocation::new(&sim).input("command", "wait").input("commit", A).input("worker", "w0,w1");
    let started = std::time::Instant::now();
    let mut watched = inv.watch();
    watched.wait_for_line("[w0] found build", Duration::from_secs(20));
    let newer = sim.push("w0", "main", B, Duration::ZERO);
    let (code, stdout, stderr) = watched.wait(Duration::from_secs(90));
    let run = inv.collect(code, stdout, stderr, started.elapsed());
    run.assert_code(0);
    let builds = builds_output(&run);
    assert_eq!(entry(&builds, "w0")["build_uuid"], ours.as_str());
    assert_ne!(ours, newer);
    assert!(requests_matching(&sim, "GET", &format!("/builds/builds/{ours}")) >= 1, "fell back to a read by uuid");
    let g = groups(&run.stdout);
    let w0: Vec<_> = g.iter().filter(|(t, _)| t.starts_with("[w0] ")).collect();
    assert_eq!(w0.len(), 1);
    assert_eq!(w0[0].1, sim.build_log(&ours));
}

/// 25 Workers: two batched reads per tick, of 20 and 5 tags.
#[test]
fn twenty_five_workers_are_read_in_two_chunks() {
    let sim = many_sim(25, |_| fast_profile());
    for i in 0..25 {
        sim.push(&format!("w{i}"), "main", A, Duration::ZERO);
    }
    let run = Invocation::new(&sim)
        .input("command", "wait")
        .input("commit", A)
        .input("worker", &names(25))
        .input("logs", "false")
        .run();
    run.assert_code(0);
    assert_eq!(builds_output(&run).len(), 25);
    let sizes: Vec<usize> = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/builds/builds/latest"))
        .map(|r| r.query.split("%2C").count().max(r.query.split(',').count()))
        .collect();
    assert!(sizes.iter().all(|&n| n <= 20), "{sizes:?}");
    assert!(sizes.contains(&20) && sizes.contains(&5), "{sizes:?}");
    assert!(requests_matching(&sim, "GET", "/builds/builds/") < 25 * 3, "no per-build polling");
}

/// `build` with three Workers, two at a time: SIGINT cancels the two it started, starts no
/// third, and leaves alone the Git integration's build of another Worker.
#[test]
fn sigint_cancels_only_the_builds_this_step_started() {
    let sim = many_sim(4, |_| BuildProfile { running_ms: 60_000, ..fast_profile() });
    let theirs = sim.push("w3", "main", A, Duration::ZERO);
    let inv = Invocation::new(&sim).input("command", "build").input("worker", "w0,w1,w2").input("max_parallel", "2");
    let mut child = inv.watch();
    child.wait_for_line("[w1] started build", Duration::from_secs(20));
    assert!(
        eventually(Duration::from_secs(10), || sim.builds().iter().filter(|b| b["status"] == "running").count() >= 3)
    );
    child.signal("INT");
    let (code, stdout, stderr) = child.wait(Duration::from_secs(20));
    let run = inv.collect(code, stdout, stderr, Duration::ZERO);
    run.assert_code(130);
    let builds = sim.builds();
    assert_eq!(builds.len(), 3, "no third build started: {builds:?}");
    for b in &builds {
        if b["build_uuid"] == theirs.as_str() {
            assert_eq!(b["status"], "running", "not ours: left running");
        } else {
            assert_eq!(b["build_outcome"], "cancelled", "{b}");
        }
    }
    let out = builds_output(&run);
    assert_eq!(out.iter().filter(|b| b["outcome"] == "cancelled").count(), 2, "{out:?}");
}

/// A list is refused before any request when it cannot work.
#[test]
fn bad_lists_are_refused_naming_the_input() {
    let sim = many_sim(2, |_| fast_profile());
    let run = Invocation::new(&sim).input("command", "build").input("worker", "*").run();
    run.assert_code(2);
    assert!(run.stdout.contains("`worker`"), "{}", run.stdout);
    let run = Invocation::new(&sim).input("command", "build").input("worker", "w0,w1").input("max_parallel", "0").run();
    run.assert_code(2);
    assert!(run.stdout.contains("`max_parallel`"), "{}", run.stdout);
    let run = Invocation::new(&sim).input("command", "wait").input("worker", "w0,Not A Name").run();
    run.assert_code(2);
    assert_eq!(sim.requests().len(), 0, "no request sent");
}

/// `build` with three Workers, at most two at a time: each built once, the third started only
/// after one of the first two stopped, every log in its group.
#[test]
fn build_starts_each_worker_within_max_parallel() {
    let sim = many_sim(3, |_| fast_profile());
    let run =
        Invocation::new(&sim).input("command", "build").input("worker", "w0,w1,w2").input("max_parallel", "2").run();
    run.assert_code(0);
    let mut builds = sim.builds();
    assert_eq!(builds.len(), 3);
    builds.sort_by(|a, b| a["created_on"].as_str().cmp(&b["created_on"].as_str()));
    let first_stop = builds[..2].iter().map(|b| b["stopped_on"].as_str().unwrap().to_owned()).min().unwrap();
    assert!(builds[2]["created_on"].as_str().unwrap() >= first_stop.as_str(), "{builds:?}");
    let out = builds_output(&run);
    for b in &builds {
        let uuid = b["build_uuid"].as_str().unwrap();
        assert!(out.iter().any(|e| e["build_uuid"] == uuid && e["outcome"] == "success"), "{out:?}");
        let g = groups(&run.stdout);
        let mine: Vec<_> = g.iter().filter(|(t, _)| t.contains(uuid)).collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].1, sim.build_log(uuid));
    }
}

/// `wait: false` with a list: every build started, none followed; `max_parallel` needs `wait`.
#[test]
fn build_without_waiting_starts_them_all() {
    let sim = many_sim(3, |_| fast_profile());
    let inv = Invocation::new(&sim).input("command", "build").input("worker", "w0,w1,w2").input("wait", "false");
    let run = inv.run();
    run.assert_code(0);
    assert_eq!(sim.builds().len(), 3);
    assert!(builds_output(&run).iter().all(|e| e["build_uuid"].is_string()));
    assert_eq!(requests_matching(&sim, "GET", "/builds/builds/latest"), 0, "not followed");
    inv.input("max_parallel", "1").run().assert_code(2);
    assert_eq!(sim.builds().len(), 3);
}

/// `wait` did not start the builds it follows: SIGINT leaves them running unless
/// `cancel_on_abort: true`, which cancels every one still running.
#[test]
fn sigint_during_wait_cancels_nothing_unless_told() {
    for (cancel, want) in [("false", "running"), ("true", "stopped")] {
        let sim = many_sim(2, |_| BuildProfile { running_ms: 60_000, ..fast_profile() });
        sim.push("w0", "main", A, Duration::ZERO);
        sim.push("w1", "main", A, Duration::ZERO);
        let inv = Invocation::new(&sim)
            .input("command", "wait")
            .input("commit", A)
            .input("worker", "w0,w1")
            .input("cancel_on_abort", cancel);
        let mut child = inv.watch();
        child.wait_for_line("[w1] running", Duration::from_secs(20));
        child.signal("INT");
        let (code, stdout, stderr) = child.wait(Duration::from_secs(20));
        inv.collect(code, stdout, stderr, Duration::ZERO).assert_code(130);
        assert!(sim.builds().iter().all(|b| b["status"] == want), "cancel_on_abort {cancel}: {:?}", sim.builds());
    }
}

/// `worker: "*"`: every Worker whose build of the commit appears in the window, found through
/// the batched read alone (no Worker's history is listed); the others are not part of the gate.
#[test]
fn star_follows_every_worker_that_built_the_commit() {
    let sim = many_sim(4, |_| fast_profile());
    let a = sim.push("w0", "main", A, Duration::ZERO);
    let b = sim.push("w2", "main", A, Duration::from_millis(700));
    sim.push("w3", "main", B, Duration::ZERO);
    let run = Invocation::new(&sim)
        .input("command", "wait")
        .input("commit", A)
        .input("worker", "*")
        .input("appear_timeout", "2s")
        .input("logs", "false")
        .run();
    run.assert_code(0);
    let out = builds_output(&run);
    let uuids: Vec<&str> = out.iter().filter_map(|e| e["build_uuid"].as_str()).collect();
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(uuids.contains(&a.as_str()) && uuids.contains(&b.as_str()), "{out:?}");
    assert_eq!(requests_matching(&sim, "GET", "/builds/workers/"), 0, "no history listed");
    assert!(run.elapsed >= Duration::from_secs(2), "the whole appear window is watched");
}

/// Issue 22: a 12-Worker `wait` stopped by `timeout` still writes the per-Worker table in the
/// job summary (what each build was doing when the step gave up), not only "Stopped".
#[test]
fn a_timeout_still_writes_the_per_worker_table() {
    let sim = many_sim(12, |_| BuildProfile { running_ms: 600_000, ..fast_profile() });
    let mut pushed = Vec::new();
    for i in 0..12 {
        pushed.push(sim.push(&format!("w{i}"), "main", A, Duration::ZERO));
    }
    let run = Invocation::new(&sim)
        .input("command", "wait")
        .input("commit", A)
        .input("worker", &names(12))
        .input("timeout", "4s")
        .run();
    run.assert_code(6);
    assert!(run.summary.contains("Stopped"), "{}", run.summary);
    for (i, uuid) in pushed.iter().enumerate() {
        let row = run.summary.lines().find(|l| l.starts_with(&format!("| w{i} |"))).unwrap_or_else(|| {
            panic!("a summary row for w{i}:\n{}", run.summary);
        });
        assert!(row.contains(uuid.as_str()) && row.contains("running"), "{row}");
    }
}

/// Issue 22: a build of a production trigger (`wrangler deploy`) has no `preview_url` to read,
/// so a finished one costs no read by uuid: the batched answer settles it.
#[test]
fn production_builds_are_not_read_again_by_uuid() {
    let sim = many_sim(4, |i| BuildProfile { running_ms: 300 + 100 * i as u64, ..fast_profile() });
    let mut pushed = Vec::new();
    for i in 0..4 {
        pushed.push(sim.push(&format!("w{i}"), "main", A, Duration::ZERO));
    }
    let run = Invocation::new(&sim).input("command", "wait").input("commit", A).input("worker", &names(4)).run();
    run.assert_code(0);
    let builds = builds_output(&run);
    for uuid in &pushed {
        let reads = sim
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/builds/builds/{uuid}")))
            .count();
        assert_eq!(reads, 0, "build {uuid} was read by uuid");
        assert!(builds.iter().any(|b| b["build_uuid"] == uuid.as_str() && b["outcome"] == "success"), "{builds:?}");
    }
}

/// Issue 22: while every build followed is still queued, the batched read backs off (7.1, 10.7,
/// then every 15 s at the real pace) instead of reading every 4.75 s; once one runs, the pace is
/// the running one again, and every build is still seen to its end.
#[test]
fn queued_builds_are_polled_with_backoff() {
    let sim =
        many_sim(2, |_| BuildProfile { queued_ms: 6000, initializing_ms: 100, running_ms: 300, ..fast_profile() });
    sim.push("w0", "main", A, Duration::ZERO);
    sim.push("w1", "main", A, Duration::ZERO);
    let run = Invocation::new(&sim)
        .input("command", "wait")
        .input("commit", A)
        .input("worker", "w0,w1")
        .input("logs", "false")
        .run();
    run.assert_code(0);
    assert!(builds_output(&run).iter().all(|b| b["outcome"] == "success"));
    let at: Vec<u64> =
        sim.requests().iter().filter(|r| r.path.ends_with("/builds/builds/latest")).map(|r| r.at_ms).collect();
    let queued: Vec<u64> = at.iter().copied().filter(|t| *t < at[0] + 6000).collect();
    // At the test pace (x 0.02) the running tick is 95 ms: over 30 reads in 6 s without backoff
    // (measured: 16 in 3 s on a loaded machine); with it 143, 214, then 300 ms apart: about 20.
    let mut gaps: Vec<u64> = queued.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let median = gaps.get(gaps.len() / 2).copied().unwrap_or_default();
    assert!(
        queued.len() <= 22 && median >= 250,
        "{} reads while queued, median gap {median} ms: {queued:?}",
        queued.len()
    );
}

//! Forty jobs at once on one token, against Cloudflare's rate limit as it is enforced: 1200
//! requests per 5 minutes per user, shared by every job, and once exceeded *every* call is
//! refused for 5 minutes (code 971). Time is compressed twenty-fold on both sides (the client
//! polls at `WORKERS_CI_TIME_SCALE=0.05`; the simulator's window and lockout are 15 s each), so
//! the forty jobs together ask for more than one window's budget (a quarter of the quota is left). Each job reads the shared
//! budget from the `Ratelimit` headers and slows down before it runs out: every job must finish
//! with the right result and no lockout may ever be triggered, because one would stop all forty.
//! Speed is not asserted here (see bench/).

use std::time::{Duration, Instant};

use crate::common::*;

const JOBS: usize = 40;
/// A quarter of the real quota (the rest as if spent by other work on the token): forty short
/// builds then need more than one window's budget, as forty long ones would of the full quota.
const LIMIT: u32 = 300;

#[test]
fn forty_concurrent_builds_share_the_budget_without_a_lockout() {
    let config = SimConfig {
        build: BuildProfile { queued_ms: 1000, initializing_ms: 500, running_ms: 6000, ..BuildProfile::default() },
        rate_limit: Some(RateLimit { requests: LIMIT, time_scale: 0.05, ..RateLimit::default() }),
        ..SimConfig::default()
    };
    let sim = Simulator::start_background(config).unwrap();
    let started = Instant::now();
    let jobs: Vec<(Invocation, Watched)> = (0..JOBS)
        .map(|i| {
            let inv = Invocation::new(&sim)
                .input("commit", &format!("{i:040x}"))
                .input("timeout", "5m")
                .env("WORKERS_CI_TIME_SCALE", "0.05");
            let child = inv.watch();
            (inv, child)
        })
        .collect();
    for (inv, child) in jobs {
        // Bounded: a job still running then is killed and the test fails.
        let (code, stdout, stderr) = child.wait(Duration::from_secs(180));
        let run = inv.collect(code, stdout, stderr, started.elapsed());
        run.assert_code(0);
        assert_eq!(run.output("build_outcome"), Some("success"));
        let uuid = run.output("build_uuid").unwrap();
        assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid), "every log line");
    }
    let took = started.elapsed();
    assert_eq!(sim.builds().len(), JOBS, "one build per job, none duplicated");
    let requests = sim.requests();
    let lockouts = requests.iter().filter(|r| r.status == 429).count();
    eprintln!("load: {JOBS} jobs in {:.1}s, {} requests, {lockouts} answered 429", took.as_secs_f64(), requests.len());
    assert!(
        requests.len() > LIMIT as usize,
        "the jobs asked for only {} requests: the test never needed more than one window's budget",
        requests.len()
    );
    assert_eq!(lockouts, 0, "a lockout blocks every job on the token for 5 minutes");
}

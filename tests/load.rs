//! Forty jobs at once against one account's rate limit. The real limit is 1200 requests per
//! 5 minutes per user, shared by every job; here time is compressed twenty-fold on both sides
//! (the client polls at `WORKERS_CI_TIME_SCALE=0.05`, the simulator allows 1200 requests per
//! 15 s) so the storm of 429s happens in seconds. `Retry-After` is the server's clock and is
//! honoured unscaled. Every job must still finish with the right result.

mod common;

use std::time::Instant;

use common::*;

const JOBS: usize = 40;

#[test]
fn forty_concurrent_builds_share_the_rate_limit_and_all_finish() {
    let config = SimConfig {
        build: BuildProfile { queued_ms: 1000, initializing_ms: 500, running_ms: 6000, ..BuildProfile::default() },
        rate_limit: Some(RateLimit { requests: 1200, window_secs: 15 }),
        ..SimConfig::default()
    };
    let sim = Simulator::start_background(config).unwrap();
    let started = Instant::now();
    let jobs: Vec<(Invocation, std::process::Child)> = (0..JOBS)
        .map(|i| {
            let inv = Invocation::new(&sim)
                .input("commit", &format!("{i:040x}"))
                .input("timeout", "5m")
                .env("WORKERS_CI_TIME_SCALE", "0.05");
            let child = inv.spawn();
            (inv, child)
        })
        .collect();
    for (inv, child) in jobs {
        let out = child.wait_with_output().unwrap();
        let run = inv.collect(out.status.code(), out.stdout, out.stderr, started.elapsed());
        run.assert_code(0);
        assert_eq!(run.output("build_outcome"), Some("success"));
        let uuid = run.output("build_uuid").unwrap();
        assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid), "every log line, even through the 429s");
    }
    let took = started.elapsed();
    assert_eq!(sim.builds().len(), JOBS, "one build per job, none duplicated");

    let requests = sim.requests();
    let limited = requests.iter().filter(|r| r.status == 429).count();
    // Peak rate: the most requests in any 1 s window, and in any 15 s (= the compressed 5 min).
    let times: Vec<u64> = requests.iter().map(|r| r.at_ms).collect();
    let peak = |window: u64| {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| times[i..].iter().take_while(|u| **u < t + window).count())
            .max()
            .unwrap_or(0)
    };
    eprintln!(
        "load: {JOBS} jobs in {:.1}s, {} requests, {limited} answered 429, peak {} req/s, peak {} per 15 s window (limit 1200)",
        took.as_secs_f64(),
        requests.len(),
        peak(1000),
        peak(15_000)
    );
}

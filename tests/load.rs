//! Forty jobs at once against one account's rate limit. The real limit is 1200 requests per
//! 5 minutes per user, shared by every job; here time is compressed twenty-fold on both sides
//! (the client polls at `WORKERS_CI_TIME_SCALE=0.05`, the simulator allows 1200 requests per
//! 15 s) so the storm of 429s happens in seconds. `Retry-After` is the server's clock and is
//! honoured unscaled. Every job must still finish with the right result, the limit must really
//! have been hit (429s answered), and the simulator must have held it: in no 15 s window did it
//! let more than 1200 requests through.

mod common;

use std::time::{Duration, Instant};

use common::*;

const JOBS: usize = 40;
const LIMIT: u32 = 1200;
const WINDOW_SECS: u64 = 15;
/// A request's `at_ms` is read when it arrives, a little before the rate limiter reads its own
/// clock (after authentication), and is truncated to the millisecond. Measuring windows this much
/// shorter than the limiter's keeps the check sound: any requests whose `at_ms` fall in such a
/// window were admitted less than 15 s apart by the limiter's clock.
const CLOCK_SLACK_MS: u64 = 250;

/// The most requests whose times fall in any window `[t, t + width)`; `times` sorted.
fn worst_window(times: &[u64], width: u64) -> usize {
    let mut worst = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while times[start] + width <= *t {
            start += 1;
        }
        worst = worst.max(end + 1 - start);
    }
    worst
}

#[test]
fn worst_window_counts_a_half_open_sliding_window() {
    assert_eq!(worst_window(&[], 10), 0);
    assert_eq!(worst_window(&[0, 5, 9, 10, 11, 30], 10), 4, "[5,15) holds 5, 9, 10, 11; [0,10) only 3");
    assert_eq!(worst_window(&[0, 0, 0, 10], 10), 3);
    assert_eq!(worst_window(&[0, 1, 2, 3], 1), 1);
}

#[test]
fn forty_concurrent_builds_share_the_rate_limit_and_all_finish() {
    let config = SimConfig {
        build: BuildProfile { queued_ms: 1000, initializing_ms: 500, running_ms: 6000, ..BuildProfile::default() },
        rate_limit: Some(RateLimit { requests: LIMIT, window_secs: WINDOW_SECS }),
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
        assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid), "every log line, even through the 429s");
    }
    let took = started.elapsed();
    assert_eq!(sim.builds().len(), JOBS, "one build per job, none duplicated");

    let requests = sim.requests();
    let limited = requests.iter().filter(|r| r.status == 429).count();
    let mut all: Vec<u64> = requests.iter().map(|r| r.at_ms).collect();
    // What the limiter counts (src/simulator/http.rs `rate_limited`): the requests it let
    // through. A 429 is not added to its window.
    let mut admitted: Vec<u64> = requests.iter().filter(|r| r.status != 429).map(|r| r.at_ms).collect();
    all.sort_unstable();
    admitted.sort_unstable();
    let window_ms = WINDOW_SECS * 1000;
    let worst_admitted = worst_window(&admitted, window_ms - CLOCK_SLACK_MS);
    eprintln!(
        "load: {JOBS} jobs in {:.1}s, {} requests, {limited} answered 429, peak {} req/s, \
         peak {} per {WINDOW_SECS} s window ({} let through; limit {LIMIT})",
        took.as_secs_f64(),
        requests.len(),
        worst_window(&all, 1000),
        worst_window(&all, window_ms),
        worst_admitted,
    );
    assert!(limited > 0, "no request was answered 429: the test never reached the rate limit it is about");
    assert!(
        worst_admitted <= LIMIT as usize,
        "the simulator let {worst_admitted} requests through in {} ms, over its limit of {LIMIT} per {WINDOW_SECS} s",
        window_ms - CLOCK_SLACK_MS
    );
}

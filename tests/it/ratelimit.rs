//! Cloudflare's rate limit as it is enforced (docs/cloudflare-api.md Correction 5):
//! once the window's budget is spent, every call is refused for the lockout period (429, code
//! 971). Here the window and the lockout are scaled to seconds by the simulator's `time_scale`;
//! `Retry-After` and the `Ratelimit` headers report the scaled seconds, which the client obeys
//! unscaled, as it would Cloudflare's.

use std::io::{Read, Write};
use std::time::Duration;

use crate::common::*;

/// Spends the simulator's budget from outside, as other jobs on the same token would: a plain
/// HTTP/1.1 request (loopback only), returning its status.
fn spend(sim: &Simulator) -> u16 {
    let base = sim.base_url();
    let addr = base.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!(
        "GET /client/v4/accounts/{}/workers/scripts HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer other-job\r\nConnection: close\r\n\r\n",
        sim.account_id()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[test]
fn a_run_that_meets_a_lockout_waits_it_out_and_says_so_once() {
    let limit = RateLimit { requests: 40, time_scale: 0.01, ..RateLimit::default() };
    let sim = Simulator::start_background(SimConfig {
        build: fast_profile(),
        rate_limit: Some(limit),
        ..SimConfig::default()
    })
    .unwrap();
    for _ in 0..40 {
        assert_eq!(spend(&sim), 200);
    }
    assert_eq!(spend(&sim), 429, "the 41st request in the window starts the 3 s lockout");
    let run = Invocation::new(&sim).input("logs", "false").run();
    run.assert_code(0);
    assert_eq!(run.output("build_outcome"), Some("success"));
    let notices = run.stdout.lines().filter(|l| l.contains("blocks every call")).count();
    assert_eq!(notices, 1, "said once: {}", run.stdout);
    assert!(run.stdout.lines().any(|l| l.starts_with("::notice") && l.contains("blocks every call")), "{}", run.stdout);
    let limited: Vec<_> = sim.requests().into_iter().filter(|r| r.status == 429).collect();
    assert_eq!(limited.len(), 2, "the outside request and the run's first; none after: {limited:#?}");
    assert!(run.elapsed >= Duration::from_millis(2500), "the lockout was waited out: {:?}", run.elapsed);
}

#[test]
fn a_lockout_longer_than_the_timeout_fails_clearly() {
    // 30 s lockout, 10 s timeout.
    let limit = RateLimit { requests: 5, window_secs: 300, lockout_secs: 3000, time_scale: 0.01, list_items: false };
    let sim = Simulator::start_background(SimConfig { rate_limit: Some(limit), ..SimConfig::default() }).unwrap();
    for _ in 0..6 {
        spend(&sim);
    }
    let run = Invocation::new(&sim).input("timeout", "10s").run();
    run.assert_code(5);
    assert!(run.everything().contains("rate limited"), "{}", run.everything());
    assert!(run.elapsed < Duration::from_secs(5), "gave up at once: {:?}", run.elapsed);
}

/// The headers, not 429s, slow the polling: with a budget of half what the run asks for
/// unthrottled, it still finishes and never meets a 429.
#[test]
fn the_ratelimit_headers_slow_polling_before_the_budget_runs_out() {
    paced_within_half_the_budget(false);
}

/// Both headers are lists of items (docs/cloudflare-api.md Correction 12; issue 20, point 8):
/// with a looser item listed before the enforced one, the tightest still paces the run.
#[test]
fn the_tightest_item_of_a_ratelimit_list_paces_the_run() {
    paced_within_half_the_budget(true);
}

fn paced_within_half_the_budget(list_items: bool) {
    let profile = BuildProfile { queued_ms: 300, initializing_ms: 200, running_ms: 6000, ..BuildProfile::default() };
    let free =
        Simulator::start_background(SimConfig { build: profile.clone(), rate_limit: None, ..SimConfig::default() })
            .unwrap();
    Invocation::new(&free).run().assert_code(0);
    let unthrottled = free.requests().len();
    let budget = u32::try_from(unthrottled / 2).unwrap();
    assert!(budget >= 20, "the run is long enough to be throttled: {unthrottled} requests");
    // A 10 s window: the run spans it, so only pacing keeps it inside the budget.
    let limit = RateLimit { requests: budget, window_secs: 1000, lockout_secs: 1000, time_scale: 0.01, list_items };
    let sim =
        Simulator::start_background(SimConfig { build: profile, rate_limit: Some(limit), ..SimConfig::default() })
            .unwrap();
    let run = Invocation::new(&sim).run();
    run.assert_code(0);
    let requests = sim.requests();
    assert_eq!(requests.iter().filter(|r| r.status == 429).count(), 0, "slowed before the budget ran out");
    assert!(requests.len() <= budget as usize, "{} requests, budget {budget}", requests.len());
    let uuid = run.output("build_uuid").unwrap();
    assert_eq!(run.view().untrusted_lines(), sim.build_log(uuid), "every log line, polled more slowly");
}

//! Bad input: exit 2, a message naming the input and the fix, no value echoed, no request sent.
//! And the errors users hit once the inputs are well-formed.

use crate::common::*;

#[test]
fn every_malformed_input_is_refused_before_any_request() {
    let sim = sim();
    let cases: &[(&str, &str)] = &[
        ("account_id", "not-an-account"),
        ("api_url", "http://example.com/client/v4"),
        ("api_url", "ftp://127.0.0.1/x"),
        ("api_url", "nonsense-url"),
        ("timeout", "soon"),
        ("timeout", "0h"),
        ("logs", "yes"),
        ("cancel_on_abort", "enabled"),
        ("wait", "maybe"),
        ("worker", "My Worker!"),
        ("commit", "xyz"),
        ("build_uuid", "not-a-uuid"),
        ("if_no_build", "sometimes"),
        ("command", "deploy-everything"),
        ("output_file", "/nonexistent-dir/out.json"),
        ("output_file", "out.txt"),
    ];
    for (name, value) in cases {
        let inv = Invocation::new(&sim).input(name, value);
        let inv = if *name == "build_uuid" || *name == "if_no_build" { inv.input("command", "wait") } else { inv };
        let run = inv.run();
        run.assert_code(2);
        let err: String = run.stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
        assert!(err.contains(&format!("`{name}`")), "{name}: message names the input:\n{err}");
        assert!(!err.contains(value), "{name}: the value is not echoed:\n{err}");
    }
    assert!(sim.requests().is_empty(), "no request was sent: {:?}", sim.requests());
}

#[test]
fn missing_token_and_account() {
    let sim = sim();
    let run = Invocation::new(&sim).without("api_token").run();
    run.assert_code(2);
    assert!(run.stdout.contains("`api_token`") && run.stdout.contains("CLOUDFLARE_API_TOKEN"), "{}", run.stdout);
    let run = Invocation::new(&sim).without("account_id").run();
    run.assert_code(2);
    assert!(run.stdout.contains("`account_id`"));
    assert!(sim.requests().is_empty());
}

#[test]
fn plain_mode_errors_go_to_stderr() {
    let sim = sim();
    let run = Invocation::new(&sim).plain().input("timeout", "soon").run();
    run.assert_code(2);
    assert!(run.stderr.contains("input `timeout`"), "{}", run.stderr);
}

#[test]
fn unknown_worker_name_lists_the_accounts_workers() {
    let sim = sim();
    let run = Invocation::new(&sim).input("worker", "no-such-worker").run();
    run.assert_code(5);
    assert!(run.stdout.contains("my-worker"), "{}", run.stdout);
    assert_eq!(requests_matching(&sim, "POST", ""), 0);
}

#[test]
fn a_tag_builds_does_not_know_explains_tags() {
    let sim = sim();
    let run = Invocation::new(&sim).input("worker", "0123456789abcdef0123456789abcdef").run();
    run.assert_code(5);
    assert!(run.stdout.contains("by tag"), "{}", run.stdout);
}

#[test]
fn account_scoped_token_gets_the_user_token_advice() {
    let sim = Simulator::start_background(SimConfig { account_scoped_token: true, ..SimConfig::default() }).unwrap();
    let run = Invocation::new(&sim).run();
    run.assert_code(5).assert_no_secret(TOKEN);
    assert!(run.stdout.contains("user-scoped"), "{}", run.stdout);
}

#[test]
fn wrong_token_is_an_auth_error_without_retries() {
    let sim =
        Simulator::start_background(SimConfig { api_token: Some("the-right-token".into()), ..SimConfig::default() })
            .unwrap();
    let run = Invocation::new(&sim).run();
    run.assert_code(5).assert_no_secret(TOKEN);
    assert!(run.stdout.contains("api_token"), "{}", run.stdout);
    assert_eq!(sim.requests().len(), 1, "401 is not retried");
}

#[test]
fn no_trigger_for_the_branch_lists_the_triggers() {
    let sim = Simulator::start_background(SimConfig {
        workers: vec![WorkerSeed { name: "prod-only".into(), preview_trigger: false, ..WorkerSeed::default() }],
        ..SimConfig::default()
    })
    .unwrap();
    let run = Invocation::new(&sim).input("worker", "prod-only").input("branch", "feature/x").run();
    run.assert_code(5);
    assert!(run.stdout.contains("no trigger of this Worker builds branch `feature/x`"), "{}", run.stdout);
    assert!(run.stdout.contains("Deploy default branch"), "the triggers are listed: {}", run.stdout);
    assert_eq!(requests_matching(&sim, "POST", ""), 0);
}

#[test]
fn a_worker_without_builds_says_to_connect_it() {
    let sim = Simulator::start_background(SimConfig {
        workers: vec![WorkerSeed { name: "bare".into(), triggers: false, ..WorkerSeed::default() }],
        ..SimConfig::default()
    })
    .unwrap();
    let run = Invocation::new(&sim).input("worker", "bare").run();
    run.assert_code(5);
    assert!(run.stdout.contains("connect its repository"), "{}", run.stdout);
}

#[test]
fn help_lists_every_input_output_and_exit_code() {
    let out = std::process::Command::new(bin()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for s in workers_ci::testing::INPUTS {
        assert!(help.contains(&s.key.flag()), "{}", s.name);
    }
    for o in workers_ci::commands::OUTPUTS {
        assert!(help.contains(o.name));
    }
    for e in workers_ci::exit::Exit::ALL {
        assert!(help.contains(e.meaning()));
    }
}

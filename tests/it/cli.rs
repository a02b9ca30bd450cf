//! The command line as a user meets it: usage, per-command help, odd arguments, and which
//! stream carries what outside GitHub Actions.

use std::process::{Command, Stdio};

use crate::common::*;

use workers_ci::commands::Command as Cmd;

fn workers_ci(args: &[&str]) -> std::process::Output {
    Command::new(bin()).env_clear().args(args).stdin(Stdio::null()).output().expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn no_arguments_prints_usage_and_exits_2() {
    let out = workers_ci(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("USAGE:") && err.contains("workers-ci help"), "{err}");
    for c in ["build", "wait", "version", "deploy", "demo", "simulate"] {
        assert!(err.contains(&format!("  {c} ")), "usage lists `{c}`:\n{err}");
    }
    assert!(out.stdout.is_empty(), "usage is a diagnostic: {}", text(&out.stdout));
}

#[test]
fn help_for_each_command_in_both_spellings() {
    for (args, must, must_not) in [
        (&["help", "build"][..], "--trigger", "--versions"),
        (&["build", "--help"][..], "--trigger", "--versions"),
        (&["wait", "-h"][..], "--if-no-build", "--dir"),
        (&["help", "version"][..], "--compatibility-date", "--build-uuid"),
        (&["deploy", "--help"][..], "--rollback [BOOL]", "--trigger"),
        (&["simulate", "--help"][..], "--port N", "--worker"),
        (&["help", "demo"][..], "--outcome", "--worker"),
    ] {
        let out = workers_ci(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = text(&out.stdout);
        assert!(help.contains(must), "{args:?} mentions {must}:\n{help}");
        assert!(!help.contains(must_not), "{args:?} does not mention {must_not}:\n{help}");
    }
}

/// Compares `help` whole with `tests/snapshots/<file>`; help lines stay within 100 columns.
fn assert_help(file: &str, help: &str) {
    assert_snapshot(file, help, "cli");
    assert!(help.lines().all(|l| l.chars().count() <= 100), "lines stay within 100 columns");
}

/// The whole `--help` text, compared with the snapshot in `tests/snapshots/help.txt`: catches
/// garbled or misaligned help, not only missing words. After a deliberate change, regenerate
/// with `UPDATE_SNAPSHOTS=1 cargo test --test it cli::` and review the diff.
#[test]
fn help_matches_its_snapshot() {
    let out = workers_ci(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert_help("help.txt", &text(&out.stdout));
}

/// Each command's help, whole: `tests/snapshots/help-<command>.txt`.
#[test]
fn each_commands_help_matches_its_snapshot() {
    for c in Cmd::ALL {
        let out = workers_ci(&["help", c.name()]);
        assert_eq!(out.status.code(), Some(0));
        assert_help(&format!("help-{}.txt", c.name()), &text(&out.stdout));
    }
}

/// `workers-ci help <command>` lists exactly the codes in the command's facts, which every
/// test run of the binary checks its exit code against (tests/common).
#[test]
fn each_commands_help_lists_exactly_the_exit_codes_it_can_return() {
    for c in Cmd::ALL {
        let help = text(&workers_ci(&["help", c.name()]).stdout);
        let section = help.split("\nEXIT CODES:\n").nth(1).expect("an EXIT CODES section");
        let listed: Vec<u8> =
            section.lines().filter_map(|l| l.split_whitespace().next()).map(|n| n.parse().unwrap()).collect();
        let facts: Vec<u8> = c.exits().iter().map(|e| e.code()).collect();
        assert_eq!(listed, facts, "{}", c.name());
    }
    let preview = text(&workers_ci(&["help", "preview"]).stdout);
    assert!(preview.contains("\n  9    `github_required`"), "preview can exit 9 and says so:\n{preview}");
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_bad_input_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"my-\xffworker");
    for args in [vec![std::ffi::OsStr::new("build"), std::ffi::OsStr::new("--worker"), bad], vec![bad]] {
        let out = Command::new(bin()).env_clear().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains("UTF-8") && !err.contains("panicked"), "{err}");
    }
}

#[test]
fn typos_get_a_suggestion_and_no_request() {
    let sim = sim();
    let run = Invocation::new(&sim).plain().arg("biuld").run();
    run.assert_code(2);
    assert!(run.stderr.contains("did you mean `build`?"), "{}", run.stderr);
    let run = Invocation::new(&sim).plain().arg("build").arg("--wroker").arg("x").run();
    run.assert_code(2);
    assert!(run.stderr.contains("did you mean `--worker`?"), "{}", run.stderr);
    let run = Invocation::new(&sim).plain().arg("build").arg("--worker").arg("a").arg("--worker").arg("b").run();
    run.assert_code(2);
    assert!(run.stderr.contains("given twice"), "{}", run.stderr);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[test]
fn a_switch_needs_no_value() {
    let sim = sim();
    // A Worker with no deployment has nothing to roll back to: the run gets as far as asking.
    let run = Invocation::new(&sim).plain().arg("deploy").arg("--rollback").arg("--worker").arg("my-worker").run();
    run.assert_code(5);
    assert!(run.stderr.contains("no earlier deployment"), "{}", run.stderr);
    let run = Invocation::new(&sim).plain().arg("deploy").arg("--rollback").arg("false").run();
    run.assert_code(2);
    assert!(run.stderr.contains("input `versions`"), "rollback false needs versions: {}", run.stderr);
}

#[test]
fn impossible_dates_are_refused_before_any_request() {
    let sim = sim();
    let run = with_module(version_invocation(&sim, "my-worker")).input("compatibility_date", "2026-02-31").run();
    run.assert_code(2);
    assert!(run.stdout.contains("`compatibility_date`"), "{}", run.stdout);
    assert!(sim.requests().is_empty());
}

#[test]
fn outside_github_stdout_carries_only_the_log_and_the_outputs() {
    let sim = sim();
    let run = Invocation::new(&sim).plain().env("RUNNER_DEBUG", "").run();
    run.assert_code(0);
    assert!(run.stdout.contains("Uploaded my-worker"), "the build log is on stdout:\n{}", run.stdout);
    assert!(run.stdout.contains("build_outcome: success"), "the outputs are on stdout:\n{}", run.stdout);
    assert!(!run.stdout.contains("Starting a build"), "diagnostics are not on stdout:\n{}", run.stdout);
    assert!(run.stderr.contains("Starting a build"), "diagnostics are on stderr:\n{}", run.stderr);
    assert!(!run.stderr.contains("debug:"), "no debug lines unless asked:\n{}", run.stderr);
}

#[test]
fn debug_lines_outside_github_on_request() {
    let sim = sim();
    for inv in [
        Invocation::new(&sim).plain().env("RUNNER_DEBUG", "").arg("build").arg("--verbose"),
        Invocation::new(&sim).plain().env("RUNNER_DEBUG", "").env("WORKERS_CI_DEBUG", "1"),
    ] {
        let run = inv.run();
        run.assert_code(0);
        assert!(run.stderr.contains("debug: usage:"), "{}", run.stderr);
        assert!(!run.stdout.contains("debug:"), "{}", run.stdout);
    }
}

#[test]
fn a_module_that_vanishes_before_upload_is_a_local_error_naming_it() {
    let sim = sim();
    let inv = with_module(version_invocation(&sim, "my-worker"));
    let module = inv.dir.path().join("dist").join("index.js");
    assert!(module.exists(), "the fixture writes dist/index.js");
    // The first request (the latest version, read before the body is encoded) is slow: the
    // file is removed while it is in flight.
    sim.add_fault(fault("GET", "/versions/latest", 1, FaultAction::Delay { ms: 1500 }));
    let mut child = inv.spawn();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    assert!(
        eventually(std::time::Duration::from_secs(10), || sim.arrived("GET", "/versions/latest") > 0),
        "the run never read the latest version"
    );
    std::fs::remove_file(&module).unwrap();
    std::io::Read::read_to_string(&mut stdout, &mut seen).unwrap();
    let out = child.wait_with_output().unwrap();
    let run = inv.collect_unchecked(out.status.code(), seen.into_bytes(), out.stderr, std::time::Duration::ZERO);
    run.assert_code(10);
    assert!(run.stdout.contains("could not read module file") && run.stdout.contains("index.js"), "{}", run.stdout);
    assert!(!run.stdout.contains("Cloudflare API"), "not blamed on the API: {}", run.stdout);
    assert_eq!(requests_matching(&sim, "POST", "/versions"), 0, "nothing was uploaded");
}

//! `env` and `purge-cache`: one trigger's build variables and build cache.

use crate::common::*;

const SECRET: &str = "sk_SECRET-77a0-never-print";

fn prod_uuid(sim: &Simulator) -> String {
    sim.triggers("my-worker")
        .iter()
        .find(|t| t["trigger_name"] == "Deploy default branch")
        .and_then(|t| t["trigger_uuid"].as_str())
        .unwrap()
        .to_owned()
}

fn env(sim: &Simulator) -> Invocation {
    Invocation::new(sim).without("commit").input("command", "env").input("trigger", "Deploy default branch")
}

#[test]
fn env_sets_plain_and_secret_variables_and_unsets_others() {
    let sim = sim();
    let uuid = prod_uuid(&sim);
    let run = env(&sim)
        .input("set", "NODE_ENV=production\nEMPTY=\nEQ=a=b")
        .input("set_secret", &format!("NPM_TOKEN={SECRET}"))
        .run();
    run.assert_code(0).assert_no_secret(SECRET);
    assert_eq!(run.output("trigger_uuid"), Some(uuid.as_str()));
    assert_eq!(
        sim.env_vars(&uuid),
        vec![
            ("EMPTY".into(), String::new(), false),
            ("EQ".into(), "a=b".into(), false),
            ("NODE_ENV".into(), "production".into(), false),
            ("NPM_TOKEN".into(), SECRET.into(), true),
        ]
    );
    // One upsert for all of it.
    assert_eq!(requests_matching(&sim, "PATCH", "/environment_variables"), 1);
    // Unset one that exists and one that does not; others are kept.
    let run = env(&sim).input("unset", "EQ\nNEVER_SET").input("set", "NODE_ENV=staging").run();
    run.assert_code(0);
    assert_eq!(
        sim.env_vars(&uuid),
        vec![
            ("EMPTY".into(), String::new(), false),
            ("NODE_ENV".into(), "staging".into(), false),
            ("NPM_TOKEN".into(), SECRET.into(), true),
        ]
    );
}

#[test]
fn env_bad_input_exits_2_naming_the_input_with_no_request() {
    let sim = sim();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("set", "1BAD=x")], "input `set`"),
        (&[("set_secret", &format!("NO_EQUALS{SECRET}"))], "input `set_secret`"),
        (&[("set", "A=1"), ("unset", "A")], "named more than once"),
        (&[], "`env` has nothing to do"),
    ];
    for (inputs, want) in cases {
        let mut inv = env(&sim);
        for (k, v) in *inputs {
            inv = inv.input(k, v);
        }
        let run = inv.run();
        run.assert_code(2).assert_no_secret(SECRET);
        assert!(run.stdout.contains(want), "wanted {want}\n{}", run.stdout);
    }
    let run = Invocation::new(&sim).input("command", "env").input("set", "A=1").run();
    run.assert_code(2);
    assert!(run.stdout.contains("input `trigger`"), "{}", run.stdout);
    assert_eq!(sim.requests().len(), 0);
}

#[test]
fn purge_cache_purges_the_trigger_that_builds_the_branch_or_the_named_one() {
    let sim = sim();
    let run =
        Invocation::new(&sim).without("commit").input("command", "purge-cache").input("branch", "feature/x").run();
    run.assert_code(0);
    let preview = sim
        .triggers("my-worker")
        .iter()
        .find(|t| t["trigger_name"] == "Deploy non-production branches")
        .unwrap()["trigger_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let purges: Vec<String> = sim.requests().iter().filter(|r| r.method == "POST").map(|r| r.path.clone()).collect();
    assert_eq!(purges.len(), 1);
    assert!(purges[0].ends_with(&format!("/builds/triggers/{preview}/purge_build_cache")), "{purges:?}");
    assert_eq!(run.output("trigger_uuid"), Some(preview.as_str()));
    let run = Invocation::new(&sim)
        .without("commit")
        .input("command", "purge-cache")
        .input("trigger", "Deploy default branch")
        .run();
    run.assert_code(0);
    assert_eq!(run.output("trigger_uuid"), Some(prod_uuid(&sim).as_str()));
    // A trigger that does not exist: Cloudflare is asked nothing it could refuse.
    let before = sim.requests().len();
    let run = Invocation::new(&sim).input("command", "purge-cache").input("trigger", "nope").run();
    run.assert_code(5);
    assert_eq!(requests_matching(&sim, "POST", ""), 2);
    assert!(sim.requests().len() > before);
}

/// A PEM-like value: several lines, a trailing newline, `=` padding, and lines a log could show.
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\nNMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ==\n-----END PRIVATE KEY-----\n";

/// Issue 25: a multi-line secret (a PEM key) reaches a build variable exactly, from the step's
/// environment named in `set_secret_from_env`, and no line of it is ever printed.
#[test]
fn a_multi_line_secret_is_set_exactly_from_the_environment_and_never_printed() {
    let pem_lines: Vec<&str> = PEM.lines().filter(|l| l.len() > 20 && !l.starts_with("-----")).collect();
    for github in [true, false] {
        let sim = sim();
        let uuid = prod_uuid(&sim);
        let mut inv =
            env(&sim).input("set_secret_from_env", "TLS_KEY\nSIGNING_KEY=PEM_FOR_SIGNING").secret_env("TLS_KEY", PEM);
        inv = inv.secret_env("PEM_FOR_SIGNING", PEM);
        if !github {
            inv = inv.plain();
        }
        let run = inv.run();
        run.assert_code(0);
        for l in &pem_lines {
            run.assert_no_secret(l);
        }
        if github {
            assert!(
                run.stdout.contains("::add-mask::-----BEGIN PRIVATE KEY-----%0A"),
                "the whole value is masked first"
            );
        }
        assert_eq!(
            sim.env_vars(&uuid),
            vec![("SIGNING_KEY".into(), PEM.into(), true), ("TLS_KEY".into(), PEM.into(), true)],
            "stored exactly, newlines and all"
        );
    }
    // A variable that is not set is bad input: exit 2, naming the input, the line and the
    // variable, before any request.
    let sim = sim();
    let run = env(&sim).input("set_secret_from_env", "TLS_KEY").plain().run();
    run.assert_code(2);
    assert!(run.stderr.contains("input `set_secret_from_env`") && run.stderr.contains("line 1"), "{}", run.stderr);
    assert!(run.stderr.contains("TLS_KEY is unset or empty"), "{}", run.stderr);
    assert!(sim.requests().is_empty());
}

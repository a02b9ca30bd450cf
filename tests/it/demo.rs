//! README's first command: `workers-ci demo` runs a build, a version upload and a gradual
//! deploy from a wrangler.jsonc with static assets, and a pull-request Preview with its GitHub
//! comment, against the embedded simulator, with no account and no network.

#[test]
fn demo_streams_a_build_then_versions_and_deploys_gradually() {
    let out = std::process::Command::new(crate::common::bin()).arg("demo").env_clear().output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Success: Build command completed"), "the log streamed:\n{stdout}");
    assert!(stdout.contains("build_outcome: success"), "{stdout}");
    assert!(stdout.contains("version_number: 2"), "{stdout}");
    // Progress is a diagnostic (stderr); stdout carries the log and the outputs.
    assert!(stderr.contains("at 10%") && stderr.contains("at 90%"), "gradual split:\n{stderr}");
    // From its wrangler.jsonc: the KV namespace and the assets, and on the second upload only
    // the one asset that changed.
    assert!(stderr.contains("CACHE (kv_namespace): added"), "{stderr}");
    assert!(stderr.contains("Assets: 4 files, 4 uploaded, 0 unchanged"), "{stderr}");
    assert!(stderr.contains("Assets: 4 files, 1 uploaded, 3 unchanged"), "{stderr}");
    // The pull-request half: a Preview for the branch, and the comment posted to the
    // simulator's GitHub, read back and printed.
    assert!(stdout.contains("preview_url: https://feature-login-my-worker."), "{stdout}");
    assert!(stdout.contains("deployment_url: https://"), "{stdout}");
    // The heading is a diagnostic (stderr); the comment itself is data (stdout).
    assert!(stderr.contains("The pull-request comment it posted"), "{stderr}");
    assert!(
        stdout.contains("<!-- workers-ci:worker=my%2Dworker;kind=preview -->") && stdout.contains("| Preview URL |"),
        "{stdout}"
    );
}

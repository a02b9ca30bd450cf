//! Static assets with `version`, end to end against the simulator (docs/cloudflare-api.md §A).

use crate::common::*;
use base64::Engine as _;
use serde_json::Value;
use std::time::Duration;

/// The first part of every JWT the simulator issues (`{"alg":"HS256","typ":"JWT"}`): none may
/// reach the log, the summary or the outputs.
const JWT_HEAD: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

fn write(root: &std::path::Path, files: &[(&str, &[u8])]) {
    for (name, bytes) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn site(inv: &Invocation) -> std::path::PathBuf {
    let root = inv.dir.path().join("public");
    write(
        &root,
        &[
            ("index.html", b"<h1>Hello</h1>\n"),
            ("about/index.html", b"<p>About</p>\n"),
            ("img/logo.png", &[0x89, b'P', b'N', b'G', 0, 1, 2]),
            ("_headers", b"/*\n  X-Frame-Options: DENY\n"),
            ("_redirects", b"/old /new 301\n"),
            ("notes.draft", b"not for the public"),
            (".assetsignore", b"*.draft\n"),
        ],
    );
    root
}

fn uploads(sim: &Simulator) -> Vec<String> {
    sim.requests().into_iter().filter(|r| r.path.ends_with("/workers/assets/upload")).map(|r| r.body).collect()
}

fn assert_no_jwt(run: &Run) {
    for (what, text) in
        [("stdout", &run.stdout), ("stderr", &run.stderr), ("summary", &run.summary), ("outputs", &run.outputs_text)]
    {
        assert!(!text.contains(JWT_HEAD), "an assets token reached the {what}:\n{text}");
    }
}

fn module<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v["modules"].as_array()?.iter().find(|m| m["name"] == name)
}

#[test]
fn an_assets_only_worker_uploads_its_site_with_headers_and_redirects() {
    let sim = sim();
    let inv = version_invocation(&sim, "site").input("create_worker", "true");
    let root = site(&inv);
    let run = inv.input("assets", root.to_str().unwrap()).run();
    run.assert_code(0);
    assert_no_jwt(&run);
    let v = &sim.versions("site")[0];
    assert!(v.get("main_module").is_none(), "no code: {v}");
    let manifest = v["assets"]["manifest"].as_object().unwrap();
    let keys: Vec<&str> = manifest.keys().map(String::as_str).collect();
    assert_eq!(keys, ["/about/index.html", "/img/logo.png", "/index.html"], ".assetsignore and the special files");
    assert_eq!(manifest["/index.html"]["hash"], "569c49c876d9d1d37936e494e70a80e8", "the vector of §A.5");
    for (name, text) in [("_headers", "/*\n  X-Frame-Options: DENY\n"), ("_redirects", "/old /new 301\n")] {
        let m = module(v, name).unwrap_or_else(|| panic!("{name} is a module: {v}"));
        assert_eq!(m["content_type"], "text/plain");
        let bytes = base64::engine::general_purpose::STANDARD.decode(m["content_base64"].as_str().unwrap()).unwrap();
        assert_eq!(bytes, text.as_bytes());
    }
    let bodies = uploads(&sim);
    assert_eq!(bodies.len(), 1, "three files, one bucket");
    assert_eq!(bodies[0].matches("Content-Disposition").count(), 3);
    assert!(bodies[0].contains("Content-Type: text/html; charset=utf-8"), "{}", bodies[0]);
    assert!(run.stdout.contains("Assets bucket 1/1: 3 files"), "{}", run.stdout);
    assert!(run.summary.contains("3 files: 3 uploaded, 0 unchanged"), "{}", run.summary);
    // The progress lines are in the job summary too.
    assert!(run.summary.contains("Assets bucket 1/1: 3 files"), "{}", run.summary);
}

#[test]
fn a_worker_with_assets_and_a_binding() {
    let sim = sim();
    let inv = version_invocation(&sim, "app").input("create_worker", "true");
    let root = site(&inv);
    let inv = with_module(inv)
        .input("assets", root.to_str().unwrap())
        .input("bindings", r#"[{"type":"assets","name":"ASSETS"},{"type":"plain_text","name":"MODE","text":"x"}]"#);
    let run = inv.run();
    run.assert_code(0);
    assert_no_jwt(&run);
    let v = &sim.versions("app")[0];
    assert_eq!(v["main_module"], "index.js");
    assert!(module(v, "index.js").is_some() && module(v, "_headers").is_some());
    let bindings = v["bindings"].as_array().unwrap();
    assert!(bindings.iter().any(|b| b["type"] == "assets" && b["name"] == "ASSETS"), "{bindings:?}");
    assert!(bindings.iter().any(|b| b["name"] == "MODE"));
}

#[test]
fn unchanged_assets_upload_nothing_and_one_change_uploads_one_file() {
    let sim = sim();
    let first = version_invocation(&sim, "site").input("create_worker", "true");
    let root = site(&first);
    let dir = root.to_str().unwrap().to_owned();
    // `first` owns the directory: kept alive for the later runs.
    let first = first.input("assets", &dir);
    first.run().assert_code(0);
    assert_eq!(uploads(&sim).len(), 1);
    let run = version_invocation(&sim, "site").input("assets", &dir).run();
    run.assert_code(0);
    assert_no_jwt(&run);
    assert_eq!(uploads(&sim).len(), 1, "nothing uploaded the second time");
    assert!(run.stdout.contains("all unchanged"), "{}", run.stdout);
    assert_eq!(sim.versions("site").len(), 2);
    std::fs::write(root.join("about/index.html"), b"<p>About us</p>\n").unwrap();
    let run = version_invocation(&sim, "site").input("assets", &dir).run();
    run.assert_code(0);
    let bodies = uploads(&sim);
    assert_eq!(bodies.len(), 2, "one more bucket");
    assert_eq!(bodies[1].matches("Content-Disposition").count(), 1, "holding the one changed file");
    assert!(run.summary.contains("3 files: 1 uploaded, 2 unchanged"), "{}", run.summary);
}

#[test]
fn an_asset_over_25_mib_is_refused_before_any_request() {
    let sim = sim();
    let inv = version_invocation(&sim, "site").input("create_worker", "true");
    let root = site(&inv);
    std::fs::create_dir_all(root.join("video")).unwrap();
    // Sparse: 26 MiB on paper, nothing on disk.
    std::fs::File::create(root.join("video/big.mp4")).unwrap().set_len(26 * 1024 * 1024).unwrap();
    let run = inv.input("assets", root.to_str().unwrap()).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("video/big.mp4") || run.stdout.contains("video/big.mp4"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(sim.requests().is_empty(), "nothing sent");
}

#[test]
fn a_bucket_failing_transiently_is_retried() {
    let sim = sim();
    sim.add_fault(fault("POST", "/workers/assets/upload", 2, status_fault(503)));
    let inv = version_invocation(&sim, "site").input("create_worker", "true");
    let root = site(&inv);
    let run = inv.input("assets", root.to_str().unwrap()).run();
    run.assert_code(0);
    assert_no_jwt(&run);
    assert_eq!(uploads(&sim).len(), 3, "two failures, then the upload");
    assert!(sim.versions("site")[0]["assets"]["manifest"].as_object().is_some_and(|m| m.len() == 3));
}

#[test]
fn an_assets_binding_without_assets_is_an_input_error() {
    let sim = sim();
    let inv =
        with_module(version_invocation(&sim, "my-worker")).input("bindings", r#"[{"type":"assets","name":"ASSETS"}]"#);
    let run = inv.run();
    run.assert_code(2);
    assert!(sim.requests().is_empty());
}

#[test]
fn a_tampered_upload_is_refused_by_the_simulator_and_no_version_is_made() {
    let sim = sim();
    // One character of the first file's base64 changes on the way: the bytes no longer hash
    // to the hash they are sent under.
    sim.add_fault(fault("POST", "/workers/assets/upload", 1, FaultAction::Corrupt));
    let inv = version_invocation(&sim, "site").input("create_worker", "true");
    let root = site(&inv);
    let dir = root.to_str().unwrap().to_owned();
    // `inv` owns the directory: kept alive for the second run.
    let inv = inv.input("assets", &dir);
    let run = inv.run();
    run.assert_code(5);
    assert_no_jwt(&run);
    let all = run.everything();
    assert!(all.contains("could not upload a bucket of assets"), "{all}");
    assert!(all.contains("the uploaded bytes do not hash to it"), "the simulator's refusal: {all}");
    let bodies = uploads(&sim);
    assert_eq!(bodies.len(), 1, "a refusal is not retried");
    assert!(sim.versions("site").is_empty(), "no version without its assets");
    // The same files, uncorrupted: accepted.
    let run = version_invocation(&sim, "site").input("assets", &dir).run();
    run.assert_code(0);
    assert_eq!(sim.versions("site").len(), 1);
}

#[test]
fn a_file_changed_between_hashing_and_upload_is_refused_and_never_sent_whole() {
    let sim = sim();
    // The upload session is held for five seconds (real time: the binary runs at full pace
    // here, so its own timeout is far off), long after its arrival shows the files are hashed.
    sim.add_fault(fault("POST", "/assets-upload-session", 1, FaultAction::Delay { ms: 5000 }));
    let inv = version_invocation(&sim, "site").input("create_worker", "true").env("WORKERS_CI_TIME_SCALE", "1");
    let root = site(&inv);
    let inv = inv.input("assets", root.to_str().unwrap());
    let watched = inv.watch();
    if !eventually(Duration::from_secs(30), || sim.arrived("POST", "/assets-upload-session") > 0) {
        let (code, stdout, stderr) = watched.wait(Duration::from_secs(5));
        panic!(
            "no upload session ({code:?}):\n{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        );
    }
    // Same size, other bytes: only the hash can tell.
    std::fs::write(root.join("index.html"), b"<h1>Hellp</h1>\n").unwrap();
    let (code, stdout, stderr) = watched.wait(Duration::from_secs(60));
    let all = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    assert_eq!(code, Some(10), "{all}");
    assert!(all.contains("asset `index.html` changed after it was hashed"), "{all}");
    assert!(uploads(&sim).is_empty(), "no whole body reached the server: {:?}", uploads(&sim));
    assert!(sim.versions("site").is_empty());
}

fn status_fault(status: u16) -> FaultAction {
    FaultAction::Status { status, code: 10002, message: "injected".into(), retry_after: None }
}

/// The upload token may ask for one file per request (docs/cloudflare-api.md §A.4:
/// `wrangler_single_asset_uploads`, with `edge_kv_upload_concurrency`), as wrangler honours it;
/// the simulator's `single_asset_uploads` issues such tokens and then refuses buckets (issue 20,
/// point 8). Each file goes raw to `…/assets/upload/{hash}` with its content type, and the
/// version carries the completion token as in bulk mode.
#[test]
fn an_upload_token_asking_for_per_file_uploads_gets_one_request_per_file() {
    let sim = Simulator::start_background(SimConfig { single_asset_uploads: Some(2), ..SimConfig::default() }).unwrap();
    let inv = version_invocation(&sim, "site").input("create_worker", "true");
    let root = site(&inv);
    let run = inv.input("assets", root.to_str().unwrap()).run();
    run.assert_code(0);
    assert_no_jwt(&run);
    assert!(uploads(&sim).is_empty(), "no bucket upload");
    let singles: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.contains("/workers/assets/upload/"))
        .collect();
    assert_eq!(singles.len(), 3, "one request per file: {singles:#?}");
    let index = "569c49c876d9d1d37936e494e70a80e8";
    let sent = singles.iter().find(|r| r.path.ends_with(index)).expect("index.html sent under its hash");
    assert_eq!(sent.body, "<h1>Hello</h1>\n", "raw bytes, not base64");
    assert_eq!(sim.asset_content_type(index).as_deref(), Some("text/html; charset=utf-8"));
    let v = &sim.versions("site")[0];
    let keys: Vec<&str> = v["assets"]["manifest"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["/about/index.html", "/img/logo.png", "/index.html"]);
    assert!(run.summary.contains("3 files: 3 uploaded, 0 unchanged"), "{}", run.summary);
}

//! `preview`: the real binary against the simulator's Worker Previews (docs/cloudflare-api.md §B).

use crate::common::*;
use serde_json::Value;

/// A `preview` invocation for `my-worker` with one module, on pull-request branch `branch`.
fn preview(sim: &Simulator, branch: &str) -> Invocation {
    let inv = Invocation::new(sim)
        .without("branch")
        .input("command", "preview")
        .input("compatibility_date", "2026-11-01")
        .env("GITHUB_HEAD_REF", branch);
    with_module(inv)
}

fn previews(sim: &Simulator) -> Vec<Value> {
    sim.previews("my-worker")
}

fn deployments(p: &Value) -> &Vec<Value> {
    p["deployments"].as_array().expect("deployments")
}

#[test]
fn first_run_creates_the_preview_and_one_deployment_and_writes_outputs() {
    let sim = sim();
    let run = preview(&sim, "feature/login").run();
    run.assert_code(0);
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1);
    let p = &ps[0];
    assert_eq!(p["name"], "feature/login");
    assert_eq!(deployments(p).len(), 1);
    let d = &deployments(p)[0];
    assert_eq!(d["annotations"]["workers/commit_sha"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(d["compatibility_date"], "2026-11-01");
    // Every output is Cloudflare's answer.
    assert_eq!(run.output("preview_id"), p["id"].as_str());
    assert_eq!(run.output("preview_name"), Some("feature/login"));
    assert_eq!(run.output("preview_slug"), p["slug"].as_str());
    assert_eq!(run.output("preview_url"), p["urls"][0].as_str());
    assert!(run.output("preview_url").is_some());
    assert_eq!(run.output("deployment_id"), d["id"].as_str());
    assert_eq!(run.output("deployment_url"), d["urls"][0].as_str());
    assert!(run.output("worker_id").is_some());
    assert_eq!(run.output("version_id"), None, "a Preview deployment has no version id (§B.5)");
    assert!(run.summary.contains("Preview URL"), "{}", run.summary);
    assert!(run.stdout.contains("created"), "{}", run.stdout);
}

#[test]
fn a_second_run_for_the_branch_updates_the_same_preview() {
    let sim = sim();
    let first = preview(&sim, "feature/login").run();
    first.assert_code(0);
    let second = preview(&sim, "feature/login").input("message", "second push").run();
    second.assert_code(0);
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1, "one Preview per branch");
    assert_eq!(deployments(&ps[0]).len(), 2);
    assert_eq!(first.output("preview_id"), second.output("preview_id"));
    assert_eq!(first.output("preview_url"), second.output("preview_url"), "the stable URL");
    assert_ne!(first.output("deployment_url"), second.output("deployment_url"));
    assert_eq!(requests_matching(&sim, "POST", "/previews") - requests_matching(&sim, "POST", "/deployments"), 1);
    // Listing agrees with the simulator's own state.
    let path = format!("/workers/workers/my-worker/previews/{}/deployments", second.output("preview_id").unwrap());
    let (status, listed) = call(&sim, "GET", &path, None);
    assert_eq!((status, &listed["result_info"]["total_count"]), (200, &serde_json::json!(2)), "{listed}");
}

#[test]
fn a_lost_answer_to_either_create_makes_no_duplicate() {
    let sim = sim();
    let mut f = fault("POST", "/previews", 1, FaultAction::DropAfter);
    f.path_excludes = Some("/deployments".into());
    sim.add_fault(f);
    sim.add_fault(fault("POST", "/deployments", 1, FaultAction::DropAfter));
    let run = preview(&sim, "feature/login").run();
    run.assert_code(0);
    assert_eq!(sim.requests().iter().filter(|r| r.fault.is_some()).count(), 2, "both answers were lost");
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1, "{}", run.stdout);
    assert_eq!(deployments(&ps[0]).len(), 1, "{}", run.stdout);
    assert_eq!(requests_matching(&sim, "POST", "/deployments"), 1, "reconciled, not sent again");
    assert_eq!(run.output("deployment_id"), deployments(&ps[0])[0]["id"].as_str());
}

#[test]
fn delete_removes_the_preview_and_deleting_again_succeeds() {
    let sim = sim();
    preview(&sim, "feature/login").run().assert_code(0);
    let delete = || {
        Invocation::new(&sim)
            .without("branch")
            .input("command", "preview")
            .input("preview_action", "delete")
            .env("GITHUB_HEAD_REF", "feature/login")
            .run()
    };
    let run = delete();
    run.assert_code(0);
    assert!(previews(&sim).is_empty());
    assert!(run.stdout.contains("Deleted Preview feature/login"), "{}", run.stdout);
    let again = delete();
    again.assert_code(0);
    assert!(again.stdout.contains("already gone"), "{}", again.stdout);
}

#[test]
fn awkward_branch_names_become_valid_preview_names() {
    let long = format!("feature/{}", "x".repeat(72));
    assert_eq!(long.len(), 80);
    for (branch, want) in [
        ("Feature/Login_Page", "Feature/Login_Page"),
        ("dependabot/npm_and_yarn/@types/node-22", "dependabot/npm_and_yarn/-types/node-22"),
        (long.as_str(), long.as_str()),
        ("fix/ünïcode-β", "fix/-n-code"),
        ("-wip-", "wip"),
    ] {
        let sim = sim();
        let run = preview(&sim, branch).run();
        run.assert_code(0);
        assert_eq!(run.output("preview_name"), Some(want), "{branch}");
        assert_eq!(previews(&sim)[0]["name"], want);
        let changed = branch != want;
        assert_eq!(run.stdout.contains("became `-`"), changed, "{branch}: the log says so\n{}", run.stdout);
        assert_eq!(run.output("preview_slug"), previews(&sim)[0]["slug"].as_str(), "the slug is Cloudflare's");
    }
}

/// Issue 25: every URL's first label is a DNS label (at most 63 characters). A branch too long
/// for `<slug>-<worker>` to fit gets no Preview URL, the deployment's URL still, and a warning
/// saying how long a name may be.
#[test]
fn a_preview_name_too_long_for_a_dns_label_has_only_its_deployment_url() {
    let sim = sim();
    let run = preview(&sim, &format!("feature/{}", "x".repeat(72))).run();
    run.assert_code(0);
    assert_eq!(run.output("preview_url"), None, "{}", run.stdout);
    let deployment = run.output("deployment_url").expect("the deployment's URL");
    let label = |u: &str| u.trim_start_matches("https://").split('.').next().unwrap().len();
    assert!(label(deployment) <= 63, "{deployment}");
    let warnings: Vec<_> = run.view().commands.into_iter().filter(|c| c.name == "warning").collect();
    assert!(
        warnings.iter().any(|w| w.data.contains("63 characters") && w.data.contains("at most 53 characters")),
        "{}",
        run.stdout
    );
    // Short enough: a URL of its own, within a DNS label.
    let run = preview(&sim, "feature/login").run();
    let url = run.output("preview_url").expect("a Preview URL");
    assert!(label(url) <= 63, "{url}");
}

#[test]
fn an_explicit_invalid_name_is_refused_before_any_request() {
    let sim = sim();
    for bad in ["feature/", "ünï", "a b", &"x".repeat(257)] {
        let run = preview(&sim, "main").input("preview_name", bad).run();
        run.assert_code(2);
        assert!(run.stdout.contains("input `preview_name`"), "{}", run.stdout);
        let line = run.stdout.lines().find(|l| l.contains("input `preview_name`")).unwrap_or_default();
        assert!(!line.contains("  "), "one sentence, no stray indentation: {line}");
    }
    assert!(sim.requests().is_empty(), "no request sent");
    let run = preview(&sim, "main").input("preview_action", "destroy").run();
    run.assert_code(2);
    assert!(run.stdout.contains("input `preview_action`"), "{}", run.stdout);
}

#[test]
fn secrets_of_the_latest_preview_deployment_are_inherited_and_never_printed() {
    let sim = sim();
    let first = preview(&sim, "feature/login").input("secrets", "API_KEY=sekrit-value-1").input("vars", "MODE=a").run();
    first.assert_code(0);
    // A second push that sets only a var: the secret is carried by `inherit`.
    let second = preview(&sim, "feature/login").input("vars", "MODE=b").run();
    second.assert_code(0);
    second.assert_no_secret("sekrit-value-1");
    let ps = previews(&sim);
    let latest = deployments(&ps[0]).last().unwrap();
    let key = latest["bindings"].as_array().unwrap().iter().find(|b| b["name"] == "API_KEY").expect("inherited");
    assert_eq!((key["type"].as_str(), key["text"].as_str()), (Some("secret_text"), Some("sekrit-value-1")));
    assert!(second.stdout.contains("API_KEY (secret_text): kept (inherited)"), "{}", second.stdout);
    // What was sent: `inherit` in the `env` form, no value.
    let sent = sim.requests().into_iter().rfind(|r| r.method == "POST" && r.path.ends_with("/deployments")).unwrap();
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["env"]["API_KEY"], serde_json::json!({ "type": "inherit" }));
    assert_eq!(body["env"]["MODE"]["text"], "b");
    // Another branch's Preview does not inherit this one's secrets.
    let other = preview(&sim, "feature/other").input("vars", "MODE=c").run();
    other.assert_code(0);
    let other_p = previews(&sim).into_iter().find(|p| p["name"] == "feature/other").unwrap();
    assert!(!other_p.to_string().contains("API_KEY"));
}

#[test]
fn no_urls_when_previews_are_disabled_and_a_warning_says_so() {
    let sim = Simulator::start_background(SimConfig {
        workers: vec![WorkerSeed { previews_enabled: false, ..WorkerSeed::default() }],
        build: fast_profile(),
        ..SimConfig::default()
    })
    .unwrap();
    let run = preview(&sim, "feature/login").run();
    run.assert_code(0);
    assert_eq!(run.output("preview_url"), None);
    assert_eq!(run.output("deployment_url"), None);
    assert!(run.output("preview_slug").is_some());
    let warnings: Vec<_> = run.view().commands.into_iter().filter(|c| c.name == "warning").collect();
    assert!(warnings.iter().any(|w| w.data.contains("no URLs")), "{}", run.stdout);
}

#[test]
fn a_missing_worker_is_created_only_when_asked() {
    let sim = sim();
    let run = preview(&sim, "feature/login").input("worker", "new-worker").run();
    run.assert_code(5);
    assert!(sim.previews("new-worker").is_empty());
    let run = preview(&sim, "feature/login").input("worker", "new-worker").input("create_worker", "true").run();
    run.assert_code(0);
    assert_eq!(sim.previews("new-worker").len(), 1);
    assert!(run.output("preview_url").is_some(), "created with preview URLs on, as wrangler does");
}

/// Issue 20, point 2: a `preview` (whose configuration comes from the pull request's branch)
/// never writes the existing Worker's workers.dev or preview-URL flags.
#[test]
fn a_preview_never_changes_the_workers_subdomain_flags() {
    let sim = sim();
    let run = preview(&sim, "feature/login").input("workers_dev", "false").input("preview_urls", "false").run();
    run.assert_code(0);
    assert_eq!(requests_matching(&sim, "POST", "/subdomain"), 0, "{}", run.stdout);
    let (_, w) = call(&sim, "GET", "/workers/workers/my-worker", None);
    assert_eq!(w["result"]["subdomain"]["enabled"], true);
    assert_eq!(w["result"]["subdomain"]["previews_enabled"], true);
    assert!(run.output("preview_url").is_some());
    let notices: Vec<_> = run.view().commands.into_iter().filter(|c| c.name == "notice").collect();
    assert!(
        notices.iter().any(|n| n.data.contains("`workers_dev` asks for workers.dev off, live it is on")
            && n.data.contains("`preview_urls` asks for preview URLs off, live they are on")),
        "{}",
        run.stdout
    );
}

/// The wrangler configuration feeds `preview` as it feeds `version`; Durable Object migrations
/// start from the Preview's own latest deployment (docs/cloudflare-api.md §B.10), not the Worker's
/// tag.
#[test]
fn a_wrangler_configuration_and_its_migrations_reach_the_preview() {
    let sim = sim();
    let config = r#"{
  // the Worker and its Durable Object
  "name": "my-worker",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "durable_objects": { "bindings": [{ "name": "ROOM", "class_name": "Room" }] },
  "previews": { "durable_objects": { "bindings": [{ "name": "ROOM", "class_name": "Room" }] } },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Room"] }]
}"#;
    let inv = || {
        let inv = Invocation::new(&sim)
            .without("branch")
            .without("worker")
            .input("command", "preview")
            .env("GITHUB_HEAD_REF", "feature/do");
        let root = inv.dir.path();
        std::fs::create_dir_all(root.join("dist")).unwrap();
        std::fs::write(root.join("dist/index.js"), "export class Room {}\nexport default {}\n").unwrap();
        std::fs::write(root.join("wrangler.jsonc"), config).unwrap();
        inv
    };
    inv().run().assert_code(0);
    let second = inv().run();
    second.assert_code(0);
    let p = &previews(&sim)[0];
    let [first, last] = deployments(p).as_slice() else { panic!("two deployments: {p}") };
    assert_eq!(first["migration_tag"], "v1");
    assert_eq!(last["migration_tag"], "v1", "nothing pending the second time");
    assert!(last["bindings"].as_array().unwrap().iter().any(|b| b["name"] == "ROOM" && b["class_name"] == "Room"));
    let sent: Vec<Value> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/deployments"))
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(sent[0]["migrations"]["new_tag"], "v1");
    assert!(sent[1].get("migrations").is_none(), "{}", sent[1]);
    assert!(sim.versions("my-worker").is_empty(), "a Preview deployment is not a version");
}

/// A configuration with production bindings and a `previews` block, as a `preview` step in
/// `my-worker`'s repository would read it.
const PRODUCTION_AND_PREVIEWS: &str = r#"{
  "name": "my-worker",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "vars": { "MODE": "production" },
  "kv_namespaces": [{ "binding": "KV", "id": "prod-kv" }],
  "d1_databases": [{ "binding": "DB", "database_id": "prod-db" }],
  "previews": {
    "vars": { "MODE": "preview" },
    "kv_namespaces": [{ "binding": "KV", "id": "preview-kv" }],
    "observability": { "enabled": true }
  }
}"#;

fn from_config(sim: &Simulator, config: &str) -> Invocation {
    let inv = Invocation::new(sim)
        .without("branch")
        .without("worker")
        .input("command", "preview")
        .env("GITHUB_HEAD_REF", "feature/data");
    let root = inv.dir.path();
    std::fs::create_dir_all(root.join("dist")).unwrap();
    std::fs::write(root.join("dist/index.js"), "export default {}\n").unwrap();
    std::fs::write(root.join("wrangler.jsonc"), config).unwrap();
    inv
}

/// The stored deployment's bindings, as `name type target` lines, sorted.
fn bound(d: &Value) -> Vec<String> {
    let mut v: Vec<String> = d["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let target = ["namespace_id", "database_id", "text"].iter().find_map(|k| b[*k].as_str()).unwrap_or("");
            format!("{} {} {target}", b["name"].as_str().unwrap(), b["type"].as_str().unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Issue 20, point 1: a Preview is bound to the configuration's `previews` block only
/// (docs/cloudflare-api.md §B.11), never to production's KV, D1 or vars; the production binding
/// without a Preview counterpart is named in one warning, and the log lists what the Preview
/// is bound to.
#[test]
fn a_preview_deployment_is_bound_to_the_previews_block_never_to_production() {
    let sim = sim();
    let run = from_config(&sim, PRODUCTION_AND_PREVIEWS).run();
    run.assert_code(0);
    let p = &previews(&sim)[0];
    assert_eq!(bound(&deployments(p)[0]), ["KV kv_namespace preview-kv", "MODE plain_text preview"], "{}", run.stdout);
    let warnings: Vec<_> = run.view().commands.into_iter().filter(|c| c.name == "warning").collect();
    let missing: Vec<_> = warnings.iter().filter(|w| w.data.contains("no counterpart")).collect();
    assert_eq!(missing.len(), 1, "one warning: {}", run.stdout);
    assert!(missing[0].data.contains("`DB` (d1)") && !missing[0].data.contains("`KV`"), "{}", missing[0].data);
    assert!(run.stdout.contains("The Preview is bound to"), "{}", run.stdout);
    assert!(run.summary.contains("Preview bindings"), "{}", run.summary);
    assert!(warnings.iter().any(|w| w.data.contains("previews.observability")), "named: {}", run.stdout);
    // `version` never reads the block, so says nothing of it.
    let other = crate::common::sim();
    let run = from_config(&other, PRODUCTION_AND_PREVIEWS).input("command", "version").run();
    run.assert_code(0);
    assert!(!run.stdout.contains("previews"), "{}", run.stdout);
    let v = other.versions("my-worker");
    assert_eq!(bound(&v[0]), ["DB d1 prod-db", "KV kv_namespace prod-kv", "MODE plain_text production"]);
}

/// The Worker's previews base config lies under the deployment (docs/cloudflare-api.md §B.8): a
/// production binding it provides is not warned about, and the Preview gets it.
#[test]
fn the_previews_base_config_provides_what_the_block_does_not() {
    let sim = Simulator::start_background(SimConfig {
        workers: vec![WorkerSeed {
            previews_base_config: Some(serde_json::json!({
                "env": { "DB": { "type": "d1", "database_id": "staging-db" } }
            })),
            ..WorkerSeed::default()
        }],
        build: fast_profile(),
        ..SimConfig::default()
    })
    .unwrap();
    let run = from_config(&sim, PRODUCTION_AND_PREVIEWS).run();
    run.assert_code(0);
    let p = &previews(&sim)[0];
    assert_eq!(
        bound(&deployments(p)[0]),
        ["DB d1 staging-db", "KV kv_namespace preview-kv", "MODE plain_text preview"],
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("no counterpart"), "{}", run.stdout);
    assert!(run.stdout.contains("base config"), "the log names it: {}", run.stdout);
}

/// The `assets` input works for a Preview as for a version, as README says (issue 25, point 8):
/// the files are uploaded and the Preview deployment carries them, bound as the input says.
#[test]
fn a_preview_takes_the_assets_input() {
    let sim = sim();
    // As a flag, the way it was refused (the runner's INPUT_ASSETS was always read).
    let inv = with_module(
        Invocation::new(&sim)
            .without("branch")
            .arg("preview")
            .arg("--assets")
            .arg("site")
            .input("compatibility_date", "2026-11-01")
            .input("bindings", r#"[{"type":"assets","name":"ASSETS"}]"#)
            .env("GITHUB_HEAD_REF", "feature/login"),
    );
    std::fs::create_dir_all(inv.dir.path().join("site")).unwrap();
    std::fs::write(inv.dir.path().join("site/index.html"), "<h1>Hello</h1>\n").unwrap();
    let run = inv.run();
    run.assert_code(0);
    assert_eq!(requests_matching(&sim, "POST", "/workers/assets/upload"), 1, "{}", run.stdout);
    let ps = previews(&sim);
    let d = &deployments(&ps[0])[0];
    let manifest = d["assets"]["manifest"].as_object().unwrap_or_else(|| panic!("assets sent: {d}"));
    assert_eq!(manifest.keys().collect::<Vec<_>>(), ["/index.html"]);
    let bindings = d["bindings"].as_array().unwrap();
    assert!(bindings.iter().any(|b| b["type"] == "assets" && b["name"] == "ASSETS"), "{bindings:?}");
    assert!(d["modules"].as_array().unwrap().iter().any(|m| m["name"] == "index.js"), "the code is kept: {d}");
}

/// Static assets with a Preview (docs/cloudflare-api.md §B.5 `assets` as in §A.8), from a
/// wrangler.jsonc.
#[test]
fn a_preview_with_assets_from_a_wrangler_jsonc_and_a_rerun_uploads_no_asset() {
    let sim = sim();
    let inv = Invocation::new(&sim)
        .without("branch")
        .without("worker")
        .input("command", "preview")
        .env("GITHUB_HEAD_REF", "feature/login");
    let root = inv.dir.path();
    for (name, text) in [
        ("dist/index.js", "export default { fetch(req, env) { return env.ASSETS.fetch(req); } };\n"),
        ("public/index.html", "<h1>Hello</h1>\n"),
        ("public/about/index.html", "<p>About</p>\n"),
        ("public/_headers", "/*\n  X-Frame-Options: DENY\n"),
        (
            "wrangler.jsonc",
            r#"{
  // The Preview takes the same upload as a version.
  "name": "my-worker",
  "main": "dist/index.js",
  "compatibility_date": "2026-11-01",
  "vars": { "MODE": "production" },
  "previews": { "vars": { "MODE": "preview" } },
  "assets": { "directory": "public", "binding": "ASSETS", "not_found_handling": "404-page" }
}"#,
        ),
    ] {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let uploads = || requests_matching(&sim, "POST", "/workers/assets/upload");
    let run = inv.run();
    run.assert_code(0);
    assert!(!run.everything().contains("eyJhbGciOi"), "no assets token in any output");
    assert_eq!(uploads(), 1, "three files, one bucket");
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1);
    let d = &deployments(&ps[0])[0];
    let manifest = d["assets"]["manifest"].as_object().unwrap_or_else(|| panic!("assets kept: {d}"));
    let keys: Vec<&str> = manifest.keys().map(String::as_str).collect();
    assert_eq!(keys, ["/about/index.html", "/index.html"], "_headers travels as a module");
    assert_eq!(manifest["/index.html"]["hash"], "569c49c876d9d1d37936e494e70a80e8", "the vector of §A.5");
    assert_eq!(d["assets"]["config"]["not_found_handling"], "404-page");
    assert!(d["modules"].as_array().unwrap().iter().any(|m| m["name"] == "_headers"), "{d}");
    let bindings = d["bindings"].as_array().unwrap();
    assert!(bindings.iter().any(|b| b["type"] == "assets" && b["name"] == "ASSETS"), "{bindings:?}");
    assert!(bindings.iter().any(|b| b["name"] == "MODE" && b["text"] == "preview"), "{bindings:?}");
    assert!(run.summary.contains("2 files: 2 uploaded, 0 unchanged"), "{}", run.summary);

    // The next push with the same assets: the session asks for nothing, the deployment still
    // carries them.
    let run = inv.run();
    run.assert_code(0);
    assert_eq!(uploads(), 1, "no asset uploaded again");
    assert!(run.summary.contains("2 files: 0 uploaded, 2 unchanged"), "{}", run.summary);
    let ps = previews(&sim);
    assert_eq!(ps.len(), 1, "the same Preview");
    let ds = deployments(&ps[0]);
    assert_eq!(ds.len(), 2);
    assert_eq!(ds[1]["assets"]["manifest"], ds[0]["assets"]["manifest"]);
}

mod github {
    //! `preview` with `github_token`: the living comment and the GitHub Deployments of the
    //! Preview's environment, against the simulator's GitHub REST API.

    use super::*;
    use workers_ci_simulator::GITHUB_TOKEN;

    const SHA1: &str = "1111111111111111111111111111111111111111";
    const SHA2: &str = "2222222222222222222222222222222222222222";
    const SECRET: &str = "sk_live_preview_do_not_leak";

    fn github_sim() -> Simulator {
        Simulator::start_background(SimConfig {
            build: fast_profile(),
            github: Some(GitHubConfig::default()),
            ..SimConfig::default()
        })
        .expect("simulator starts")
    }

    /// `preview` of branch `feature/login` on PR 7 whose head is `sha`, reporting to GitHub.
    fn on_pr(sim: &Simulator, sha: &str) -> Invocation {
        let inv = preview(sim, "feature/login")
            .input("commit", sha)
            .input("secrets", &format!("API_KEY={SECRET}"))
            .input("github_token", GITHUB_TOKEN);
        on_pull_request(inv, sim, sha)
    }

    fn gh_deployments(sim: &Simulator) -> Vec<Value> {
        sim.github_deployments()
    }

    fn states(d: &Value) -> Vec<String> {
        d["statuses"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap_or("").to_owned()).collect()
    }

    fn warnings(run: &Run) -> Vec<String> {
        run.stdout.lines().filter(|l| l.starts_with("::warning")).map(str::to_owned).collect()
    }

    /// Runs `inv` and counts the requests it made: (Cloudflare, GitHub).
    fn counted(sim: &Simulator, inv: &Invocation) -> (Run, usize, usize) {
        let before = sim.requests().len();
        let run = inv.run();
        let new = &sim.requests()[before..];
        let gh = new.iter().filter(|r| r.path.starts_with("/api/v3/")).count();
        (run, new.len() - gh, gh)
    }

    fn assert_clean(run: &Run) {
        run.assert_no_secret(GITHUB_TOKEN).assert_no_secret(TOKEN).assert_no_secret(SECRET);
    }

    #[test]
    fn a_pull_request_lifecycle_keeps_one_preview_one_comment_and_a_deployment_per_commit() {
        let sim = github_sim();
        // First push: the Preview, the comment and a deployment of preview/my-worker.
        let (run, cf, gh) = counted(&sim, &on_pr(&sim, SHA1));
        run.assert_code(0);
        assert_clean(&run);
        assert!(warnings(&run).is_empty(), "{}", run.stdout);
        println!("requests, first push: Cloudflare {cf}, GitHub {gh}");
        let ps = previews(&sim);
        assert_eq!(ps.len(), 1);
        let preview_url = run.output("preview_url").expect("a stable URL").to_owned();
        let first_url = run.output("deployment_url").expect("a deployment URL").to_owned();
        let first = our_comments(&sim);
        assert_eq!(first.len(), 1, "{first:?}");
        let body = &first[0].1;
        assert!(body.starts_with("<!-- workers-ci:worker=my%2Dworker;kind=preview -->\n"), "{body}");
        assert!(body.contains("created") && body.contains("111111111111"), "{body}");
        assert!(body.contains(&preview_url) && body.contains(&first_url), "{body}");
        assert!(!body.contains(SECRET) && !body.contains(TOKEN), "{body}");
        let d = gh_deployments(&sim);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0]["sha"], SHA1);
        assert_eq!(d[0]["environment"], "preview/my-worker", "never production");
        assert_eq!(d[0]["production_environment"], false);
        assert_eq!(states(&d[0]), ["success"]);
        assert_eq!(d[0]["statuses"][0]["environment_url"], first_url.as_str(), "this deployment's URL");

        // Second push, a new head commit: the same Preview and comment, a deployment for it.
        let (run, cf, gh) = counted(&sim, &on_pr(&sim, SHA2));
        run.assert_code(0);
        assert_clean(&run);
        println!("requests, second push: Cloudflare {cf}, GitHub {gh}");
        let ps = previews(&sim);
        assert_eq!(ps.len(), 1, "one Preview per branch");
        assert_eq!(deployments(&ps[0]).len(), 2);
        assert_eq!(run.output("preview_url"), Some(preview_url.as_str()));
        let second_url = run.output("deployment_url").unwrap().to_owned();
        let second = our_comments(&sim);
        assert_eq!(second.len(), 1, "one living comment: {second:?}");
        assert_eq!(second[0].0, first[0].0, "edited in place");
        assert!(second[0].1.contains("updated") && second[0].1.contains("222222222222"), "{}", second[0].1);
        assert!(second[0].1.contains(&second_url), "{}", second[0].1);
        let d = gh_deployments(&sim);
        let shas: Vec<&str> = d.iter().map(|d| d["sha"].as_str().unwrap()).collect();
        assert_eq!(shas.len(), 2, "one per commit: {shas:?}");
        assert!(shas.contains(&SHA1) && shas.contains(&SHA2), "{shas:?}");

        // Pull request closed: the Preview deleted, its deployments inactive, the comment edited.
        let close = on_pr(&sim, SHA2).input("preview_action", "delete");
        let (run, cf, gh) = counted(&sim, &close);
        run.assert_code(0);
        assert_clean(&run);
        assert!(warnings(&run).is_empty(), "{}", run.stdout);
        println!("requests, pull request closed: Cloudflare {cf}, GitHub {gh}");
        assert!(previews(&sim).is_empty(), "{:?}", previews(&sim));
        let closed = our_comments(&sim);
        assert_eq!(closed.len(), 1, "no new comment: {closed:?}");
        assert_eq!(closed[0].0, first[0].0);
        assert!(closed[0].1.contains("deleted"), "{}", closed[0].1);
        assert!(!closed[0].1.contains(&second_url), "the gone URL is not offered: {}", closed[0].1);
        let d = gh_deployments(&sim);
        assert_eq!(d.len(), 2, "no deployment made by a delete: {d:?}");
        for dep in &d {
            assert_eq!(states(dep).last().map(String::as_str), Some("inactive"), "{dep}");
        }
        assert_eq!(sim.github_comments(7).len(), 1);
    }

    #[test]
    fn a_failed_deployment_is_reported_as_failed_on_github() {
        let sim = github_sim();
        let mut f = fault(
            "POST",
            "/deployments",
            10,
            FaultAction::Status { status: 400, code: 10021, message: "Uncaught SyntaxError".into(), retry_after: None },
        );
        f.path_excludes = Some("/api/v3/".into());
        sim.add_fault(f);
        let run = on_pr(&sim, SHA1).run();
        assert_ne!(run.code, 0, "{}", run.stdout);
        assert_clean(&run);
        let body = our_comments(&sim).pop().expect("a comment").1;
        assert!(body.contains("❌") && body.contains("deployment failed"), "{body}");
        let d = gh_deployments(&sim);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0]["environment"], "preview/my-worker");
        assert_eq!(states(&d[0]), ["failure"]);
    }

    #[test]
    fn github_403_and_500_leave_the_preview_step_green_with_a_warning() {
        for (status, message) in [(403, "Resource not accessible by integration"), (500, "Server Error")] {
            let sim = github_sim();
            sim.add_fault(fault(
                "POST",
                "/api/v3/",
                10,
                FaultAction::Status { status, code: 0, message: message.into(), retry_after: None },
            ));
            let run = on_pr(&sim, SHA1).run();
            run.assert_code(0);
            assert_clean(&run);
            let w = warnings(&run);
            assert!(w.iter().any(|l| l.contains("GitHub: could not") && l.contains(&status.to_string())), "{w:?}");
            assert!(run.output("preview_url").is_some(), "the Cloudflare result stands");
            assert_eq!(previews(&sim).len(), 1);
            // The delete, with GitHub failing too: green, a warning.
            sim.add_fault(fault(
                "PATCH",
                "/api/v3/",
                10,
                FaultAction::Status { status, code: 0, message: message.into(), retry_after: None },
            ));
            let run = on_pr(&sim, SHA1).input("preview_action", "delete").run();
            run.assert_code(0);
            assert_clean(&run);
            assert!(previews(&sim).is_empty());
        }
    }

    #[test]
    fn closing_a_pull_request_without_our_comment_writes_none() {
        let sim = github_sim();
        preview(&sim, "feature/login").run().assert_code(0);
        let run = on_pr(&sim, SHA1).input("preview_action", "delete").run();
        run.assert_code(0);
        assert!(warnings(&run).is_empty(), "{}", run.stdout);
        assert!(sim.github_comments(7).is_empty());
        assert!(gh_deployments(&sim).is_empty());
    }

    /// A build and a Preview of the same Worker on the same pull request: a comment each, each
    /// edited in place, so a failed build no longer overwrites the Preview's URLs (issue 25).
    #[test]
    fn a_build_comment_and_a_preview_comment_for_one_worker_coexist() {
        let sim = github_sim();
        let build = |sha: &str| {
            on_pull_request(Invocation::new(&sim).input("commit", sha).input("github_token", GITHUB_TOKEN), &sim, sha)
        };
        on_pr(&sim, SHA1).run().assert_code(0);
        build(SHA1).run().assert_code(0);
        let first = our_comments(&sim);
        assert_eq!(first.len(), 2, "{first:?}");
        let preview_id = first.iter().find(|(_, b)| b.contains("Preview URL")).expect("the Preview's comment").0;
        let build_id = first.iter().find(|(_, b)| b.contains("build succeeded")).expect("the build's comment").0;
        assert!(first.iter().any(|(_, b)| b.starts_with("<!-- workers-ci:worker=my%2Dworker;kind=preview -->\n")));
        assert!(first.iter().any(|(_, b)| b.starts_with("<!-- workers-ci:worker=my%2Dworker;kind=build -->\n")));

        // The next push: a failing build, then the Preview; each edits its own comment.
        sim.set_build_profile(BuildProfile { outcome: "fail".into(), ..fast_profile() });
        build(SHA2).run().assert_code(1);
        on_pr(&sim, SHA2).run().assert_code(0);
        let second = our_comments(&sim);
        assert_eq!(second.len(), 2, "{second:?}");
        let body = |id: u64| &second.iter().find(|(i, _)| *i == id).unwrap().1;
        assert!(body(build_id).contains("build failed") && body(build_id).contains("222222222222"), "{second:?}");
        assert!(body(preview_id).contains("Preview URL") && body(preview_id).contains("222222222222"), "{second:?}");
    }

    /// Issue 20, point 6: our comment is the one with our marker *and* our author. A comment with
    /// the marker planted earlier by someone else (met first: comments list oldest first) is
    /// left alone, and ours is created, then edited; also where `github-actions[bot]` has
    /// another id (GitHub Enterprise Server).
    #[test]
    fn a_planted_marker_comment_by_another_user_is_left_alone_and_ours_is_created() {
        for bot_user_id in [41_898_282, 7] {
            let sim = Simulator::start_background(SimConfig {
                build: fast_profile(),
                github: Some(GitHubConfig { bot_user_id, ..GitHubConfig::default() }),
                ..SimConfig::default()
            })
            .unwrap();
            let planted_text =
                "<!-- workers-ci:worker=my%2Dworker;kind=preview -->\n### Preview ready: https://evil.example\n";
            let planted = sim.seed_github_comment(7, planted_text);
            for sha in [SHA1, SHA2] {
                let run = on_pr(&sim, sha).run();
                run.assert_code(0);
                assert!(warnings(&run).is_empty(), "{}", run.stdout);
            }
            let comments = sim.github_comments(7);
            assert_eq!(comments.len(), 2, "the planted one and ours: {comments:?}");
            assert_eq!(comments[0], (planted, planted_text.to_owned()), "left alone");
            assert!(comments[1].1.contains("222222222222"), "ours, edited by the second push: {comments:?}");
        }
    }

    /// Issue 20, point 6: the living comment keeps a short history of earlier commits' URLs,
    /// newest first, with the current commit's on top.
    #[test]
    fn the_comment_keeps_earlier_commits_deployment_urls() {
        let sim = github_sim();
        const SHA3: &str = "3333333333333333333333333333333333333333";
        let urls: Vec<String> = [SHA1, SHA2, SHA3]
            .iter()
            .map(|sha| {
                let run = on_pr(&sim, sha).run();
                run.assert_code(0);
                run.output("deployment_url").expect("a deployment URL").to_owned()
            })
            .collect();
        let comments = our_comments(&sim);
        assert_eq!(comments.len(), 1, "{comments:?}");
        let body = &comments[0].1;
        let earlier = &body[body.find("Earlier commits").unwrap_or_else(|| panic!("a history: {body}"))..];
        let (at2, at1) = (earlier.find(&urls[1]).expect("second push"), earlier.find(&urls[0]).expect("first push"));
        assert!(at2 < at1, "newest first: {body}");
        assert!(earlier.contains("222222222222") && earlier.contains("111111111111"), "{body}");
        assert!(!earlier.split("</details>").next().unwrap().contains(&urls[2]), "the current one is above: {body}");
    }

    /// `preview` for pull request `pr` (branch `branch`, head `sha`), deploying or deleting.
    fn on_pr_number(sim: &Simulator, pr: u64, branch: &str, sha: &str, action: &str) -> Invocation {
        let inv = preview(sim, branch)
            .input("commit", sha)
            .input("preview_action", action)
            .input("github_token", GITHUB_TOKEN);
        let inv = on_pull_request(inv, sim, sha);
        let event = format!(r#"{{"number":{pr},"pull_request":{{"number":{pr},"head":{{"sha":"{sha}"}}}}}}"#);
        std::fs::write(inv.dir.path().join("event.json"), event).unwrap();
        inv
    }

    /// Issue 20, point 6: two pull requests share the environment `preview/my-worker`; a new
    /// success of one leaves the other's deployment active, and closing one retires only its
    /// own deployments.
    #[test]
    fn two_pull_requests_one_closed_the_others_deployment_stays_active() {
        let sim = Simulator::start_background(SimConfig {
            build: fast_profile(),
            github: Some(GitHubConfig { pull_requests: vec![7, 8], ..GitHubConfig::default() }),
            ..SimConfig::default()
        })
        .unwrap();
        on_pr_number(&sim, 7, "feature/a", SHA1, "deploy").run().assert_code(0);
        on_pr_number(&sim, 8, "feature/b", SHA2, "deploy").run().assert_code(0);
        let last = |sha: &str| {
            let d = gh_deployments(&sim).into_iter().find(|d| d["sha"] == sha).expect("a deployment");
            states(&d).last().cloned().unwrap_or_default()
        };
        assert_eq!((last(SHA1), last(SHA2)), ("success".into(), "success".into()), "both active");
        let run = on_pr_number(&sim, 7, "feature/a", SHA1, "delete").run();
        run.assert_code(0);
        assert_eq!(last(SHA1), "inactive", "{}", run.stdout);
        assert_eq!(last(SHA2), "success", "the other pull request's Preview is still there");
    }

    /// A comment from before comments had kinds (one per Worker) is taken over by the Preview,
    /// which rewrites its marker; a build starts its own. Nothing is left that no run updates.
    #[test]
    fn the_preview_takes_over_the_workers_comment_from_before_kinds() {
        let sim = github_sim();
        let old = sim.seed_github_bot_comment(
            7,
            "<!-- workers-ci:worker=my%2Dworker -->\n### ✅ Worker `my-worker`: build succeeded\n",
        );
        on_pr(&sim, SHA1).run().assert_code(0);
        let comments = our_comments(&sim);
        assert_eq!(comments.len(), 1, "{comments:?}");
        assert_eq!(comments[0].0, old, "edited, not a second comment");
        assert!(comments[0].1.starts_with("<!-- workers-ci:worker=my%2Dworker;kind=preview -->\n"), "{comments:?}");
        on_pull_request(Invocation::new(&sim).input("commit", SHA1).input("github_token", GITHUB_TOKEN), &sim, SHA1)
            .run()
            .assert_code(0);
        let comments = our_comments(&sim);
        assert_eq!(comments.len(), 2, "the build has its own: {comments:?}");
        assert!(comments.iter().any(|(i, b)| *i == old && b.contains("Preview URL")), "{comments:?}");
    }
}

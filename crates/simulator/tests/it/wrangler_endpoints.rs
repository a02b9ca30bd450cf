//! The classic endpoints wrangler calls (`versions upload`, `deploy`), answered by the simulator:
//! multipart uploads parsed for real, versions shared with the beta API (that `workers-ci deploy`
//! deploys such a version is checked in the root crate's `tests/it/wrangler_endpoints.rs`).

use serde_json::json;

use crate::wrangler_api::{Api, MODULE, multipart, sim};

#[tokio::test]
async fn versions_upload_flow_is_answered_and_shared_with_the_beta_api() {
    let sim = sim();
    let api = Api::new(&sim);

    let (status, body) = api.get("/workers/services/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["errors"][0]["code"], 10007, "wrangler recognises a missing Worker by 10007");

    let (status, body) = api.get("/workers/services/my-worker").await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    let script = &body["result"]["default_environment"]["script"];
    assert_eq!(script["tag"], "0123456789abcdef0123456789abcdef");
    assert_eq!(script["last_deployed_from"], "wrangler");

    let meta = json!({
        "main_module": "index.js",
        "compatibility_date": "2026-11-01",
        "compatibility_flags": ["nodejs_compat"],
        "bindings": [{ "type": "plain_text", "name": "MODE", "text": "prod" }],
        "annotations": { "workers/message": "from wrangler", "workers/tag": null },
        "keep_bindings": ["secret_text"],
    });
    let body = multipart(&meta, &[("index.js", "application/javascript+module", MODULE)]);
    let (status, v) = api.upload("POST", "/workers/scripts/my-worker/versions?bindings_inherit=strict", body).await;
    assert_eq!(status, 200, "{v}");
    let v = &v["result"];
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["number"], 1);
    assert_eq!(v["metadata"]["source"], "wrangler");
    assert_eq!(v["metadata"]["has_preview"], true);
    assert!(v["resources"]["script"]["etag"].is_string());
    assert_eq!(v["resources"]["script_runtime"]["compatibility_date"], "2026-11-01");
    assert!(v["startup_time_ms"].is_number());
    assert_eq!(v["annotations"]["workers/message"], "from wrangler");
    assert!(v["annotations"].get("workers/tag").is_none(), "null annotations are dropped");

    // The beta API sees the same version, modules and all.
    let (status, b) = api.get(&format!("/workers/workers/my-worker/versions/{id}?include=modules")).await;
    assert_eq!(status, 200);
    let m = &b["result"]["modules"][0];
    assert_eq!(m["name"], "index.js");
    assert_eq!(m["content_type"], "application/javascript+module");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD.decode(m["content_base64"].as_str().unwrap()).unwrap();
    assert_eq!(decoded, MODULE.as_bytes());
    assert_eq!(b["result"]["main_module"], "index.js");

    let (status, s) = api.get("/workers/scripts/my-worker/settings").await;
    assert_eq!(status, 200);
    assert_eq!(s["result"]["compatibility_flags"], json!(["nodejs_compat"]));
    assert_eq!(s["result"]["bindings"][0]["name"], "MODE");

    let (_, list) = api.get("/workers/scripts/my-worker/versions?deployable=true").await;
    assert_eq!(list["result"]["items"][0]["id"], id.as_str());
    let (status, one) = api.get(&format!("/workers/scripts/my-worker/versions/{id}")).await;
    assert_eq!((status, one["result"]["number"].clone()), (200, json!(1)));

    let (status, sub) = api.get("/workers/scripts/my-worker/subdomain").await;
    assert_eq!(status, 200);
    assert_eq!(sub["result"], json!({ "enabled": true, "previews_enabled": true }));
}

#[tokio::test]
async fn deploy_flow_creates_a_deployment_and_settings_answer() {
    let sim = sim();
    let api = Api::new(&sim);
    let meta = json!({ "main_module": "index.js", "compatibility_date": "2026-11-01" });
    let body = multipart(&meta, &[("index.js", "application/javascript+module", MODULE)]);
    let (_, v) = api.upload("POST", "/workers/scripts/my-worker/versions?bindings_inherit=strict", body).await;
    let id = v["result"]["id"].as_str().unwrap().to_owned();

    let dep =
        json!({ "strategy": "percentage", "versions": [{ "version_id": id, "percentage": 100 }], "annotations": {} });
    let (status, d) = api
        .call("POST", "/workers/scripts/my-worker/deployments", Some(dep.to_string().into_bytes()), "application/json")
        .await;
    assert_eq!(status, 200, "{d}");
    let (_, list) = api.get("/workers/scripts/my-worker/deployments").await;
    assert_eq!(list["result"]["deployments"][0]["versions"][0]["version_id"], id.as_str());

    let patch = json!({ "logpush": true, "observability": { "enabled": false }, "tags": [] });
    let (status, s) = api
        .call(
            "PATCH",
            "/workers/scripts/my-worker/script-settings",
            Some(patch.to_string().into_bytes()),
            "application/json",
        )
        .await;
    assert_eq!((status, s["result"]["logpush"].clone()), (200, json!(true)));

    let (status, _) = api
        .call("POST", "/workers/scripts/my-worker/subdomain", Some(b"{\"enabled\":true}".to_vec()), "application/json")
        .await;
    assert_eq!(status, 400, "refused without wrangler's date header");
    let (status, s) = api.post_dated("/workers/scripts/my-worker/subdomain", b"{\"enabled\":true}", "2025-08-01").await;
    assert_eq!((status, s["result"]["enabled"].clone()), (200, json!(true)));
}

#[tokio::test]
async fn put_script_creates_the_worker_and_deploys_it() {
    let sim = sim();
    let api = Api::new(&sim);
    let meta = json!({ "main_module": "worker.mjs", "compatibility_date": "2026-11-01" });
    let body = multipart(
        &meta,
        &[("worker.mjs", "application/javascript+module", MODULE), ("data.txt", "text/plain", "some text")],
    );
    let (status, r) = api.upload("PUT", "/workers/scripts/fresh-worker?excludeScript=true", body).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["result"]["id"], "fresh-worker");
    assert!(r["result"]["tag"].as_str().is_some_and(|t| t.len() == 32));

    let (status, _) = api.get("/workers/workers/fresh-worker").await;
    assert_eq!(status, 200, "the beta API sees the new Worker");
    let versions = sim.versions("fresh-worker");
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["modules"].as_array().map(Vec::len), Some(2));
    assert_eq!(sim.deployments("fresh-worker").len(), 1);

    let (status, e) = api.upload("PUT", "/workers/scripts/Bad_Name", b"x".to_vec()).await;
    assert_eq!((status, e["errors"][0]["code"].clone()), (400, json!(10016)));
}

#[tokio::test]
async fn malformed_uploads_are_rejected_like_the_api() {
    let sim = sim();
    let api = Api::new(&sim);
    let path = "/workers/scripts/my-worker/versions";

    let (status, e) = api.call("POST", path, Some(b"{\"main_module\":\"a.js\"}".to_vec()), "application/json").await;
    assert_eq!((status, e["errors"][0]["code"].clone()), (400, json!(10001)));

    let body =
        multipart(&json!({ "main_module": "missing.js" }), &[("index.js", "application/javascript+module", MODULE)]);
    let (status, e) = api.upload("POST", path, body).await;
    assert_eq!((status, e["errors"][0]["code"].clone()), (400, json!(10021)));

    let body = multipart(&json!({ "main_module": "index.js" }), &[("index.js", "image/png", MODULE)]);
    let (status, e) = api.upload("POST", path, body).await;
    assert_eq!((status, e["errors"][0]["code"].clone()), (400, json!(10001)));

    let body = multipart(
        &json!({ "main_module": "index.js", "compatibility_date": "soon" }),
        &[("index.js", "application/javascript+module", MODULE)],
    );
    let (status, _) = api.upload("POST", path, body).await;
    assert_eq!(status, 400);

    let (status, _) = api.upload("POST", "/workers/scripts/nope/versions", b"x".to_vec()).await;
    assert_eq!(status, 404);
    assert!(sim.versions("my-worker").is_empty(), "nothing stored from a rejected upload");
}

#[tokio::test]
async fn keep_bindings_carries_secrets_over() {
    let sim = sim();
    let api = Api::new(&sim);
    let path = "/workers/scripts/my-worker/versions";
    let first =
        json!({ "main_module": "index.js", "bindings": [{ "type": "secret_text", "name": "KEY", "text": "s3cret" }] });
    api.upload("POST", path, multipart(&first, &[("index.js", "application/javascript+module", MODULE)])).await;
    let second = json!({ "main_module": "index.js", "bindings": [], "keep_bindings": ["secret_text"] });
    let (_, v) =
        api.upload("POST", path, multipart(&second, &[("index.js", "application/javascript+module", MODULE)])).await;
    let b = &v["result"]["resources"]["bindings"];
    assert_eq!(b[0]["name"], "KEY");
    assert!(b[0].get("text").is_none(), "secret values are never shown");
    assert_eq!(sim.versions("my-worker")[1]["bindings"][0]["text"], "s3cret");
}

//! A version uploaded the way wrangler does (`versions upload`'s multipart body on the classic
//! endpoint) can be deployed by `workers-ci deploy`. The simulator's answers to wrangler's
//! endpoints themselves are checked in `crates/simulator/tests/it/wrangler_endpoints.rs`.

use std::process::Command;

use serde_json::json;

#[path = "../../crates/simulator/tests/it/wrangler_api.rs"]
mod wrangler_api;

use wrangler_api::{Api, MODULE, multipart, sim};

#[test]
fn workers_ci_deploys_a_version_uploaded_the_wrangler_way() {
    let sim = sim();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let id = rt.block_on(async {
        let api = Api::new(&sim);
        let meta = json!({ "main_module": "index.js", "compatibility_date": "2026-11-01" });
        let body = multipart(&meta, &[("index.js", "application/javascript+module", MODULE)]);
        let (_, v) = api.upload("POST", "/workers/scripts/my-worker/versions", body).await;
        v["result"]["id"].as_str().unwrap().to_owned()
    });
    let out = Command::new(crate::common::bin())
        .args(["deploy", "--worker", "my-worker", "--versions", &id])
        .env("INPUT_API_TOKEN", crate::common::TOKEN)
        .env("INPUT_ACCOUNT_ID", sim.account_id())
        .env("INPUT_API_URL", sim.base_url())
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let d = sim.deployments("my-worker");
    assert_eq!(d[0]["versions"][0]["version_id"], id.as_str());
}

//! A version uploaded the way wrangler does (`versions upload`'s multipart body on the classic
//! endpoint) can be deployed by `workers-ci deploy`. The simulator's answers to wrangler's
//! endpoints themselves are checked in `crates/simulator/tests/it/wrangler_endpoints.rs`.

use std::process::Command;

use serde_json::{Value, json};
use workers_ci_simulator::{SimConfig, Simulator, WorkerSeed};

const BOUNDARY: &str = "----formdata-undici-0123456789";
const MODULE: &str = "export default { async fetch() { return new Response(\"hi\"); } };\n";

fn sim() -> Simulator {
    let workers = vec![WorkerSeed {
        name: "my-worker".into(),
        tag: Some("0123456789abcdef0123456789abcdef".into()),
        ..WorkerSeed::default()
    }];
    Simulator::start_background(SimConfig { workers, ..SimConfig::default() }).expect("simulator starts")
}

/// A body as wrangler (undici's `FormData`) sends it: metadata first, then the modules.
fn multipart(metadata: &Value, modules: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut b = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{metadata}\r\n");
    for (name, ct, body) in modules {
        b.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n{body}\r\n"
        ));
    }
    b.push_str(&format!("--{BOUNDARY}--\r\n"));
    b.into_bytes()
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(sim: &Simulator) -> Api {
        Api { base: format!("{}/accounts/{}", sim.base_url(), sim.account_id()), http: reqwest::Client::new() }
    }

    async fn upload(&self, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth("x")
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }
}

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

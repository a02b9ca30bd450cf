//! Talking to the simulator as wrangler does (undici's multipart bodies, the classic endpoints):
//! shared by the simulator's tests and the root crate's `tests/it/wrangler_endpoints.rs`, which
//! includes this file by path. Each uses part of it.
#![allow(dead_code)]

use serde_json::Value;
use workers_ci_simulator::{SimConfig, Simulator, WorkerSeed};

pub const BOUNDARY: &str = "----formdata-undici-0123456789";
pub const MODULE: &str = "export default { async fetch() { return new Response(\"hi\"); } };\n";

pub fn sim() -> Simulator {
    let workers = vec![WorkerSeed {
        name: "my-worker".into(),
        tag: Some("0123456789abcdef0123456789abcdef".into()),
        ..WorkerSeed::default()
    }];
    Simulator::start_background(SimConfig { workers, ..SimConfig::default() }).expect("simulator starts")
}

/// A body as wrangler (undici's `FormData`) sends it: metadata first, then the modules.
pub fn multipart(metadata: &Value, modules: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut b = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{metadata}\r\n");
    for (name, ct, body) in modules {
        b.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n{body}\r\n"
        ));
    }
    b.push_str(&format!("--{BOUNDARY}--\r\n"));
    b.into_bytes()
}

pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(sim: &Simulator) -> Api {
        Api { base: format!("{}/accounts/{}", sim.base_url(), sim.account_id()), http: reqwest::Client::new() }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>, content_type: &str) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth("x");
        if let Some(b) = body {
            req = req.header("content-type", content_type).body(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    /// A JSON POST with `Cloudflare-Workers-Script-Api-Date`, as wrangler sends to the subdomain
    /// endpoint.
    pub async fn post_dated(&self, path: &str, body: &[u8], date: &str) -> (u16, Value) {
        let req = self.http.post(format!("{}{path}", self.base)).bearer_auth("x");
        let req = req.header("content-type", "application/json").header("Cloudflare-Workers-Script-Api-Date", date);
        let res = req.body(body.to_vec()).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None, "").await
    }

    pub async fn upload(&self, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
        self.call(method, path, Some(body), &format!("multipart/form-data; boundary={BOUNDARY}")).await
    }
}

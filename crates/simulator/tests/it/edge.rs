//! The simulated edge (README "Workers on the simulated edge"): Workers routed by their
//! deployment's shares, the version override honoured only for versions in the deployment, and
//! analytics counting what was served.

use serde_json::{Value, json};
use workers_ci_simulator::{SimConfig, Simulator, VersionProfile};

struct Edge {
    api: String,
    worker: String,
    graphql: String,
    account: String,
    http: reqwest::Client,
}

impl Edge {
    fn new(sim: &Simulator) -> Edge {
        Edge {
            api: format!("{}/accounts/{}", sim.base_url(), sim.account_id()),
            worker: sim.worker_url("my-worker"),
            graphql: format!("{}/graphql", sim.base_url()),
            account: sim.account_id(),
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let res = self.http.post(format!("{}{path}", self.api)).bearer_auth("x").json(body).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    async fn version(&self, deploy: bool) -> String {
        let body = json!({ "main_module": "index.js",
            "modules": [{ "name": "index.js", "content_type": "application/javascript+module", "content_base64": "eA==" }] });
        let q = if deploy { "?deploy=true" } else { "" };
        self.post(&format!("/workers/workers/my-worker/versions{q}"), &body).await["result"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn get(&self, overrides: Option<&str>) -> (u16, String) {
        let mut req = self.http.get(format!("{}/", self.worker));
        if let Some(o) = overrides {
            req = req.header("Cloudflare-Workers-Version-Overrides", o);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn counts(&self, version: &str, from: &str, to: &str) -> Value {
        let body = json!({ "query": "{ viewer { accounts { workersInvocationsAdaptive { sum { requests errors } } } } }",
            "variables": { "account": self.account, "script": "my-worker", "version": version, "from": from, "to": to } });
        let res = self.http.post(&self.graphql).bearer_auth("x").json(&body).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }
}

#[tokio::test]
async fn shares_route_deterministically_and_the_override_needs_the_deployment() {
    let sim =
        Simulator::start_background(SimConfig { zero_percent_deployments: true, ..SimConfig::default() }).unwrap();
    sim.set_version_profile(VersionProfile { number: 2, error_rate: 0.1, ..VersionProfile::default() });
    let e = Edge::new(&sim);
    let from = jiff::Timestamp::now().to_string();
    let v1 = e.version(true).await;
    let v2 = e.version(false).await;
    let header = format!("my-worker=\"{v2}\"");
    // Not in the deployment: the override is ignored.
    assert!(e.get(Some(&header)).await.1.contains(&v1));
    let split = json!({ "strategy": "percentage", "versions": [
        { "version_id": v2, "percentage": 10 }, { "version_id": v1, "percentage": 90 } ] });
    e.post("/workers/scripts/my-worker/deployments", &split).await;
    let mut new = 0;
    for _ in 0..100 {
        let (status, body) = e.get(None).await;
        if body.contains(&v2) || status == 500 {
            new += 1;
        }
    }
    assert_eq!(new, 10, "one request in ten, exactly");
    assert!(e.get(Some(&header)).await.1.contains(&v2) || e.get(Some(&header)).await.0 == 500);
    assert!(e.get(Some("my-worker=(\"x\")")).await.0 == 200, "an inner list is ignored");
    let served = sim.served("my-worker");
    let of_v2 = served.iter().filter(|s| s.version_id == v2).count() as u64;
    let thrown = served.iter().filter(|s| s.thrown).count() as u64;
    assert!(thrown >= 1 && served.iter().filter(|s| s.thrown).all(|s| s.version_id == v2 && s.status == 500));
    let to = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(1)).unwrap().to_string();
    // Analytics lag (3 minutes by default, §K.3): what was just served is not visible yet.
    let answer = e.counts(&v2, &from, &to).await;
    assert_eq!(answer["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"], json!([]), "{answer}");
    // Without the lag, every request served is counted.
    sim.configure(|c| c.analytics_lag_ms = 0);
    let answer = e.counts(&v2, &from, &to).await;
    let rows = answer["data"]["viewer"]["accounts"][0]["workersInvocationsAdaptive"].as_array().unwrap().clone();
    let sum = |k: &str| rows.iter().map(|r| r["sum"][k].as_u64().unwrap()).sum::<u64>();
    assert_eq!((sum("requests"), sum("errors")), (of_v2, thrown), "{rows:?}");

    sim.configure(|c| c.analytics_read = false);
    let answer = e.counts(&v2, &from, &to).await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "authz");
    assert!(answer["data"].is_null());
}

#[tokio::test]
async fn the_override_waits_for_the_deployment_to_propagate() {
    let sim = Simulator::start_background(SimConfig { override_delay_ms: 300, ..SimConfig::default() }).unwrap();
    let e = Edge::new(&sim);
    let v1 = e.version(true).await;
    let v2 = e.version(false).await;
    let split = json!({ "strategy": "percentage", "versions": [
        { "version_id": v2, "percentage": 0.01 }, { "version_id": v1, "percentage": 99.99 } ] });
    e.post("/workers/scripts/my-worker/deployments", &split).await;
    let header = format!("my-worker=\"{v2}\"");
    assert!(e.get(Some(&header)).await.1.contains(&v1), "not propagated yet");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    assert!(e.get(Some(&header)).await.1.contains(&v2));
}

//! What a deploy applies beyond the upload (docs/cloudflare-api.md §T): zones, routes, custom
//! domains, cron schedules, queue consumers and the script settings that are not versioned.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{path, root_path};
use super::{ApiError, Client, WorkerName};

/// A zone as `GET /zones` lists it (§T.1), as far as a route needs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Zone {
    pub id: String,
    pub name: String,
}

/// A zone route `{id, pattern, script?}` (§T.2).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct ZoneRoute {
    #[serde(skip_serializing)]
    pub id: String,
    pub pattern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

/// One route of the script routes PUT (§T.2): a pattern, and the zone when the configuration
/// names it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub(crate) struct RouteBody {
    pub pattern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
}

/// A custom domain (§T.3).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Domain {
    pub id: String,
    pub hostname: String,
    pub service: String,
    pub zone_id: Option<String>,
    pub zone_name: Option<String>,
}

/// The custom-domain attach body (§T.3). The override flags are sent only when set: what the
/// one-hostname endpoint does with them is INFERRED (docs/api-assumptions.md row 83).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct DomainBody<'a> {
    pub hostname: &'a str,
    pub service: &'a str,
    /// Both required by the spec on this endpoint (§T.3).
    pub zone_id: &'a str,
    pub zone_name: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub override_existing_origin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub override_existing_dns_record: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Schedules {
    schedules: Vec<Schedule>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Schedule {
    cron: String,
}

/// A queue with its consumers (§T.5).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Queue {
    pub queue_id: String,
    pub queue_name: String,
    pub consumers: Vec<Consumer>,
}

/// A queue consumer as the API answers it (§T.5). wrangler matches a Worker's consumer by
/// `script` (or `service`); the spec names `script_name`: any of them is read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Consumer {
    pub consumer_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub script: Option<String>,
    pub script_name: Option<String>,
    pub service: Option<String>,
    pub dead_letter_queue: Option<String>,
    pub settings: serde_json::Map<String, Value>,
}

impl Consumer {
    /// The Worker it delivers to.
    pub(crate) fn worker(&self) -> Option<&str> {
        self.script.as_deref().or(self.script_name.as_deref()).or(self.service.as_deref())
    }
}

/// A Workflow (§T.10), as far as a deploy compares it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Workflow {
    pub script_name: String,
    pub class_name: String,
}

#[derive(Serialize)]
struct ZonesQuery<'a> {
    name: &'a str,
    #[serde(rename = "account.id")]
    account: &'a str,
}

#[derive(Serialize)]
struct PageQuery {
    page: u32,
    per_page: u32,
}

#[derive(Serialize)]
struct Empty {}

impl Client {
    /// The zones of exactly this name in the account (§T.1): none or one.
    pub(crate) async fn zones_named(&self, name: &str) -> Result<Vec<Zone>, ApiError> {
        let q = ZonesQuery { name, account: self.account() };
        Ok(self.get::<Vec<Zone>, _>(&root_path(&["zones"]), &q).await?.result)
    }

    pub(crate) async fn zone_routes(&self, zone_id: &str) -> Result<Vec<ZoneRoute>, ApiError> {
        Ok(self.get::<Vec<ZoneRoute>, _>(&root_path(&["zones", zone_id, "workers", "routes"]), &()).await?.result)
    }

    /// Gives an existing zone route to `script` (a takeover, §T.2): it sets state, so it may be
    /// sent again.
    pub(crate) async fn assign_zone_route(&self, zone_id: &str, route: &ZoneRoute) -> Result<(), ApiError> {
        let p = root_path(&["zones", zone_id, "workers", "routes", &route.id]);
        self.set_json::<Value, _>(Method::PUT, &p, route).await.map(|_| ())
    }

    pub(crate) async fn delete_zone_route(&self, zone_id: &str, route_id: &str) -> Result<(), ApiError> {
        let p = root_path(&["zones", zone_id, "workers", "routes", route_id]);
        self.set::<Value>(Method::DELETE, &p).await.map(|_| ())
    }

    /// Replaces the script's routes with `routes` (§T.2), which sets state.
    pub(crate) async fn put_script_routes(&self, script: &WorkerName, routes: &[RouteBody]) -> Result<(), ApiError> {
        let p = path(&["workers", "scripts", script.as_str(), "routes"]);
        self.set_json::<Value, _>(Method::PUT, &p, routes).await.map(|_| ())
    }

    /// Every custom domain of the account (§T.3): this Worker's, and those a takeover meets.
    pub(crate) async fn list_domains(&self) -> Result<Vec<Domain>, ApiError> {
        Ok(self.get::<Vec<Domain>, _>(&path(&["workers", "domains"]), &()).await?.result)
    }

    /// Attaches one hostname (§T.3); attaching the same one twice leaves the same state.
    pub(crate) async fn put_domain(&self, body: &DomainBody<'_>) -> Result<Domain, ApiError> {
        Ok(self.set_json::<Domain, _>(Method::PUT, &path(&["workers", "domains"]), body).await?.result)
    }

    pub(crate) async fn delete_domain(&self, id: &str) -> Result<(), ApiError> {
        self.set::<Value>(Method::DELETE, &path(&["workers", "domains", id])).await.map(|_| ())
    }

    /// The Worker's cron expressions (§T.4); a Worker that does not exist has none.
    pub(crate) async fn schedules(&self, script: &WorkerName) -> Result<Vec<String>, ApiError> {
        let p = path(&["workers", "scripts", script.as_str(), "schedules"]);
        Ok(self.get::<Schedules, _>(&p, &()).await?.result.schedules.into_iter().map(|s| s.cron).collect())
    }

    /// Replaces all the Worker's cron triggers (§T.4).
    pub(crate) async fn put_schedules(&self, script: &WorkerName, crons: &[String]) -> Result<(), ApiError> {
        let p = path(&["workers", "scripts", script.as_str(), "schedules"]);
        let body: Vec<Schedule> = crons.iter().map(|c| Schedule { cron: c.clone() }).collect();
        self.set_json::<Value, _>(Method::PUT, &p, &body).await.map(|_| ())
    }

    /// `logpush`, `observability`, `tags`, `tail_consumers` (§T.6).
    pub(crate) async fn script_settings(&self, script: &WorkerName) -> Result<Value, ApiError> {
        let p = path(&["workers", "scripts", script.as_str(), "script-settings"]);
        Ok(self.get::<Value, _>(&p, &()).await?.result)
    }

    /// Sets the keys of `patch`, leaving the others (§T.6).
    pub(crate) async fn patch_script_settings(&self, script: &WorkerName, patch: &Value) -> Result<(), ApiError> {
        let p = path(&["workers", "scripts", script.as_str(), "script-settings"]);
        self.set_json::<Value, _>(Method::PATCH, &p, patch).await.map(|_| ())
    }

    /// The Workflow of that name; `None` when there is none (404, or 10200 as wrangler reads it,
    /// §T.10).
    pub(crate) async fn workflow(&self, name: &str) -> Result<Option<Workflow>, ApiError> {
        match self.get::<Workflow, _>(&path(&["workflows", name]), &()).await {
            Ok(w) => Ok(Some(w.result)),
            Err(e) if e.is_not_found() || e.has_code(10200) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates or updates a Workflow (§T.10); the same PUT twice leaves the same Workflow.
    pub(crate) async fn put_workflow(&self, name: &str, body: &Value) -> Result<(), ApiError> {
        self.set_json::<Value, _>(Method::PUT, &path(&["workflows", name]), body).await.map(|_| ())
    }

    /// One page of the account's queues (§T.5) and how many pages there are.
    pub(crate) async fn queues_page(&self, page: u32) -> Result<(Vec<Queue>, u32), ApiError> {
        let got = self.get::<Vec<Queue>, _>(&path(&["queues"]), &PageQuery { page, per_page: 100 }).await?;
        let pages = got.result_info.as_ref().and_then(|i| i.total_pages).map_or(1, |n| n as u32);
        Ok((got.result, pages))
    }

    /// Creates a consumer: sent once (a second one would be refused, one Worker consumer per
    /// queue), reconciled by the caller.
    pub(crate) async fn create_consumer(&self, queue_id: &str, body: &Value) -> Result<(), ApiError> {
        let p = path(&["queues", queue_id, "consumers"]);
        self.send_json::<Value, _, _>(Method::POST, &p, &Empty {}, body, None).await.map(|_| ())
    }

    pub(crate) async fn update_consumer(
        &self,
        queue_id: &str,
        consumer_id: &str,
        body: &Value,
    ) -> Result<(), ApiError> {
        let p = path(&["queues", queue_id, "consumers", consumer_id]);
        self.set_json::<Value, _>(Method::PUT, &p, body).await.map(|_| ())
    }

    pub(crate) async fn delete_consumer(&self, queue_id: &str, consumer_id: &str) -> Result<(), ApiError> {
        self.set::<Value>(Method::DELETE, &path(&["queues", queue_id, "consumers", consumer_id])).await.map(|_| ())
    }
}

//! `GET /workers/scripts`: the account's Workers, to turn a name into the tag Builds needs.

use serde::Deserialize;

use super::client::path;
use super::{ApiError, Client, ScriptTag, WorkerName};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Script {
    /// The Worker's *name* (the API calls it `id`).
    pub id: WorkerName,
    /// The immutable 32-hex id that Workers Builds calls `external_script_id`.
    pub tag: Option<ScriptTag>,
    /// Its routes in every zone (docs/cloudflare-api.md §T.2), `null` when it has none.
    pub(crate) routes: Option<Vec<super::triggers::ZoneRoute>>,
}

impl Client {
    /// Not paginated: the endpoint returns every script at once.
    pub(crate) async fn list_scripts(&self) -> Result<Vec<Script>, ApiError> {
        Ok(self.get::<Vec<Script>, _>(&path(&["workers", "scripts"]), &()).await?.result)
    }
}

/// `GET /workers/services/{name}`, only as far as the applied migration tag: the one place the
/// API shows it (docs/cloudflare-api.md §C.2, where wrangler reads it).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Service {
    default_environment: Option<ServiceEnvironment>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServiceEnvironment {
    script: Option<ServiceScript>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServiceScript {
    migration_tag: Option<String>,
    /// The declarative exports the Worker runs with (docs/cloudflare-api.md §H.10), as shown.
    exports: Option<serde_json::Value>,
}

impl Client {
    /// The tag of the last Durable Object migration applied to the Worker; `None` when none
    /// was, or the Worker does not exist (404, or 10007/10090/10092, which wrangler takes for
    /// "new Worker", docs/cloudflare-api.md §C.2).
    pub(crate) async fn get_migration_tag(&self, script: &WorkerName) -> Result<Option<String>, ApiError> {
        Ok(self.service_script(script).await?.and_then(|s| s.migration_tag))
    }

    /// The declarative exports the Worker runs with, as the API shows them; `None` when it has
    /// none or does not exist. Read where the migration tag is (docs/cloudflare-api.md §H.10).
    pub(crate) async fn get_exports(&self, script: &WorkerName) -> Result<Option<serde_json::Value>, ApiError> {
        Ok(self.service_script(script).await?.and_then(|s| s.exports))
    }

    async fn service_script(&self, script: &WorkerName) -> Result<Option<ServiceScript>, ApiError> {
        match self.get::<Service, _>(&path(&["workers", "services", script.as_str()]), &()).await {
            Ok(p) => Ok(p.result.default_environment.and_then(|e| e.script)),
            Err(e) if e.is_not_found() || e.has_code(10007) || e.has_code(10090) || e.has_code(10092) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

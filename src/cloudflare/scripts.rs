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
}

impl Client {
    /// Not paginated: the endpoint returns every script at once.
    pub async fn list_scripts(&self) -> Result<Vec<Script>, ApiError> {
        Ok(self.get::<Vec<Script>, _>(&path(&["workers", "scripts"]), &()).await?.result)
    }
}

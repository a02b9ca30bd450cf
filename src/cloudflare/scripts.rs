//! `GET /workers/scripts`: the account's Workers, to turn a name into the tag Builds needs.

use serde::Deserialize;

use super::{ApiError, Client};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Script {
    /// The Worker's *name* (the API calls it `id`).
    pub id: String,
    /// The immutable 32-hex id that Workers Builds calls `external_script_id`.
    pub tag: Option<String>,
}

impl Client {
    /// Not paginated: the endpoint returns every script at once.
    pub async fn list_scripts(&self) -> Result<Vec<Script>, ApiError> {
        Ok(self.get::<Vec<Script>>("/workers/scripts", &[]).await?.result)
    }
}

//! D1's SQL endpoint, as far as migrations need it (docs/cloudflare-api.md §J.4): one
//! `POST /d1/database/{uuid}/query` per SQL text, answered with one result per statement.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::path;
use super::{ApiError, Client, D1DatabaseId};

/// One statement's answer. Only what migrations read; the rest (`meta`) is ignored.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StatementResult {
    pub(crate) results: Vec<Value>,
    /// `false` marks a statement D1 did not run although the request succeeded (§J.4).
    pub(crate) success: bool,
}

#[derive(Serialize)]
struct Sql<'a> {
    sql: &'a str,
}

fn query_path(db: &D1DatabaseId) -> super::client::ApiPath {
    path(&["d1", "database", db.as_str(), "query"])
}

impl Client {
    /// SQL that may be sent again without harm (a `SELECT`, `CREATE TABLE IF NOT EXISTS`):
    /// retried like a read.
    pub(crate) async fn d1_query_idempotent(
        &self,
        db: &D1DatabaseId,
        sql: &str,
    ) -> Result<Vec<StatementResult>, ApiError> {
        Ok(self.set_json(Method::POST, &query_path(db), &Sql { sql }).await?.result)
    }

    /// SQL that changes the database (a migration file and its bookkeeping row): sent once,
    /// never retried; after an error that may hide a success the caller reads the table
    /// before anything else. D1 ends every call within 30 s (docs/cloudflare-api.md §J.7); the
    /// wait is longer than that, so a slow migration gets D1's own answer, not a guess.
    pub(crate) async fn d1_query_once(&self, db: &D1DatabaseId, sql: &str) -> Result<Vec<StatementResult>, ApiError> {
        let wait = Some(std::time::Duration::from_secs(60));
        Ok(self.send_json(Method::POST, &query_path(db), &(), &Sql { sql }, wait).await?.result)
    }
}

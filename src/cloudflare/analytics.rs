//! Per-version request and error counts from the analytics GraphQL API
//! (docs/cloudflare-api.md §K.3): what a rollout's error gate reads for each soak window.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApiError, Client, VersionId, WorkerName};

/// The dataset and the dimensions the gate needs: `scriptVersion` as a filter and a dimension
/// is used by independent projects but not in the official tutorial (§K.3, open:
/// docs/api-assumptions.md). "Errors" = threw + exceeded resources + internal error (§K.3).
const QUERY: &str = "query ($account: string!, $script: string!, $version: string!, $from: Time!, $to: Time!) {
  viewer { accounts(filter: { accountTag: $account }) {
    workersInvocationsAdaptive(limit: 100, filter: {
        scriptName: $script, scriptVersion: $version,
        datetime_geq: $from, datetime_leq: $to }) {
      sum { requests errors }
      dimensions { scriptVersion status }
    } } }
}";

/// Requests and errors of one version over a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    pub requests: u64,
    pub errors: u64,
}

#[derive(Deserialize)]
struct Data {
    viewer: Viewer,
}

#[derive(Deserialize)]
struct Viewer {
    #[serde(default)]
    accounts: Vec<Account>,
}

#[derive(Deserialize)]
struct Account {
    #[serde(default, rename = "workersInvocationsAdaptive")]
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct Row {
    sum: Sum,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Sum {
    requests: u64,
    errors: u64,
}

impl Client {
    /// Sums of `version`'s invocations between `from` and `to` (RFC 3339, whole seconds).
    pub(crate) async fn version_invocations(
        &self,
        script: &WorkerName,
        version: &VersionId,
        from: &str,
        to: &str,
    ) -> Result<Counts, ApiError> {
        let body = json!({
            "query": QUERY,
            "variables": {
                "account": self.account(), "script": script.as_str(), "version": version.as_str(),
                "from": from, "to": to,
            },
        });
        let data: Data = self.graphql(&body).await?;
        let rows = data.viewer.accounts.into_iter().flat_map(|a| a.rows);
        Ok(rows.fold(Counts::default(), |c, r| Counts {
            requests: c.requests + r.sum.requests,
            errors: c.errors + r.sum.errors,
        }))
    }
}

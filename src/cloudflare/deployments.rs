//! Deployments (`/workers/scripts/{name}/deployments`).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::path;
use super::{ApiError, Client, DeploymentId, VersionId, WorkerName};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub(crate) struct DeploymentVersion {
    pub version_id: VersionId,
    pub percentage: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Deployment {
    pub id: DeploymentId,
    pub created_on: Option<String>,
    pub source: Option<String>,
    pub strategy: Option<String>,
    pub versions: Vec<DeploymentVersion>,
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Deployment {}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeploymentList {
    deployments: Vec<Deployment>,
}

#[derive(Serialize)]
struct NewDeployment<'a> {
    strategy: &'static str,
    versions: &'a [DeploymentVersion],
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<serde_json::Value>,
}

/// `force` is sent only when set, as Wrangler does: the absence is the API's default.
#[derive(Debug, Serialize)]
struct CreateDeploymentQuery {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    force: bool,
}

impl Client {
    /// Newest first; the first one is the deployment serving traffic now. The classic scripts
    /// path takes the Worker's *name*, not its beta-API id.
    ///
    /// For a Worker with nothing uploaded yet the API's answer is undocumented: an empty list
    /// or 404/10007, as for a missing Worker. Callers have found the Worker first, so both
    /// mean "no deployments".
    pub(crate) async fn list_deployments(&self, script: &WorkerName) -> Result<Vec<Deployment>, ApiError> {
        let path = path(&["workers", "scripts", script.as_str(), "deployments"]);
        match self.get::<Option<DeploymentList>, _>(&path, &()).await {
            Ok(page) => Ok(page.result.unwrap_or_default().deployments),
            Err(e) if e.is_not_found() || e.has_code(10007) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Sent once; callers reconcile with [`Client::list_deployments`].
    pub(crate) async fn create_deployment(
        &self,
        script: &WorkerName,
        versions: &[DeploymentVersion],
        message: Option<&str>,
        force: bool,
    ) -> Result<Deployment, ApiError> {
        let path = path(&["workers", "scripts", script.as_str(), "deployments"]);
        let annotations = message.map(|m| serde_json::json!({ "workers/message": m }));
        let body = NewDeployment { strategy: "percentage", versions, annotations };
        let query = CreateDeploymentQuery { force };
        Ok(self.send_json::<Deployment, _, _>(Method::POST, &path, &query, &body, None).await?.result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudflare::client::tests::query_of;

    #[test]
    fn force_is_sent_only_when_set() {
        assert_eq!(query_of(&CreateDeploymentQuery { force: false }), None);
        assert_eq!(query_of(&CreateDeploymentQuery { force: true }).as_deref(), Some("force=true"));
    }

    #[test]
    fn body_shape() {
        let v = VersionId::parse("0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10").unwrap();
        let versions = [DeploymentVersion { version_id: v, percentage: 100.0 }];
        let body = NewDeployment { strategy: "percentage", versions: &versions, annotations: None };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"strategy":"percentage","versions":[{"version_id":"0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10","percentage":100.0}]})
        );
    }
}

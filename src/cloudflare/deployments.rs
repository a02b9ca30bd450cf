//! Deployments (`/workers/scripts/{name}/deployments`) and the account's workers.dev subdomain.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{ApiError, Client};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct DeploymentVersion {
    pub version_id: String,
    pub percentage: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Deployment {
    pub id: String,
    pub created_on: Option<String>,
    pub source: Option<String>,
    pub strategy: Option<String>,
    pub versions: Vec<DeploymentVersion>,
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Deployment {
    pub fn message(&self) -> Option<&str> {
        self.annotations.as_ref()?.get("workers/message")?.as_str()
    }
}

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

#[derive(Deserialize, Default)]
#[serde(default)]
struct Subdomain {
    subdomain: Option<String>,
}

impl Client {
    /// Newest first; the first one is the deployment serving traffic now.
    pub async fn list_deployments(&self, script: &str) -> Result<Vec<Deployment>, ApiError> {
        let page = self.get::<Option<DeploymentList>>(&format!("/workers/scripts/{script}/deployments"), &[]).await?;
        Ok(page.result.unwrap_or_default().deployments)
    }

    /// Sent once; callers reconcile with [`Client::list_deployments`].
    pub async fn create_deployment(
        &self,
        script: &str,
        versions: &[DeploymentVersion],
        message: Option<&str>,
        force: bool,
    ) -> Result<Deployment, ApiError> {
        let annotations = message.map(|m| serde_json::json!({ "workers/message": m }));
        let body = serde_json::to_vec(&NewDeployment { strategy: "percentage", versions, annotations })
            .expect("serialising a plain struct");
        let q: Vec<(&str, String)> = if force { vec![("force", "true".into())] } else { vec![] };
        Ok(self
            .send::<Deployment>(
                Method::POST,
                &format!("/workers/scripts/{script}/deployments"),
                &q,
                Some(body.into()),
                None,
            )
            .await?
            .result)
    }

    /// The account's `<name>.workers.dev` subdomain; `None` when it has none (code 10007).
    pub async fn account_subdomain(&self) -> Result<Option<String>, ApiError> {
        match self.get::<Subdomain>("/workers/subdomain", &[]).await {
            Ok(p) => Ok(p.result.subdomain.filter(|s| !s.is_empty())),
            Err(e) if e.has_code(10007) || e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

//! Worker Previews (beta, docs/cloudflare-api.md §B): a named Preview of a Worker, and
//! its immutable deployments, under `/workers/workers/{worker_id}/previews`.
//!
//! A Preview is addressed by its name (URL-encoded by [`path`], as wrangler does with
//! `encodeURIComponent`) until its id is known, and by its id from then on (§B.2).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::path;
use super::{ApiError, Client, Page, PreviewDeploymentId, PreviewId, WorkerId, WorkerRef};

/// "Preview not found" (§B.9).
pub(crate) const NO_PREVIEW: i64 = 10025;
/// "No deployment" of a Preview (§B.9).
pub(crate) const NO_DEPLOYMENT: i64 = 10222;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Preview {
    pub id: PreviewId,
    pub name: String,
    /// Computed by Cloudflare from the name by a rule that is not documented (§G-10): only
    /// ever taken from an answer.
    pub slug: String,
    /// Empty when no host serves previews (§B.6).
    pub urls: Vec<String>,
    pub created_on: Option<String>,
    pub deployed_on: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PreviewDeployment {
    pub id: PreviewDeploymentId,
    pub number: Option<u64>,
    pub created_on: Option<String>,
    /// "Always point to this deployment" (§B.5); empty without previews enabled.
    pub urls: Vec<String>,
    pub annotations: Option<serde_json::Map<String, Value>>,
    /// A read returns both forms (§B.5); secret values are never in either.
    pub bindings: Option<Vec<Value>>,
    pub migration_tag: Option<String>,
}

impl PreviewDeployment {
    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key)?.as_str()
    }
}

#[derive(Serialize)]
struct NewPreview<'a> {
    name: &'a str,
}

#[derive(Debug, Serialize)]
struct Paging {
    page: u32,
    per_page: u32,
}

impl Client {
    /// The Preview of that name; `Ok(None)` for 10025. A missing Worker is an error (10007),
    /// for the caller to tell apart.
    pub(crate) async fn get_preview(&self, worker: WorkerRef<'_>, name: &str) -> Result<Option<Preview>, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "previews", name]);
        match self.get::<Preview, _>(&path, &()).await {
            Ok(p) => Ok(Some(p.result)),
            Err(e) if e.has_code(NO_PREVIEW) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a Preview. Sent once; callers reconcile with [`Client::get_preview`].
    pub(crate) async fn create_preview(&self, worker: &WorkerId, name: &str) -> Result<Preview, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "previews"]);
        Ok(self.send_json::<Preview, _, _>(Method::POST, &path, &(), &NewPreview { name }, None).await?.result)
    }

    /// Deletes the Preview of that name, its deployments and its Durable Object state.
    /// Retried like a read: a repeat finds it gone. `Ok(false)` when there was none (10025).
    pub(crate) async fn delete_preview(&self, worker: &WorkerId, name: &str) -> Result<bool, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "previews", name]);
        match self.set::<Option<Value>>(Method::DELETE, &path).await {
            Ok(_) => Ok(true),
            Err(e) if e.has_code(NO_PREVIEW) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The Preview's latest deployment; `Ok(None)` when it has none (10222).
    pub(crate) async fn latest_preview_deployment(
        &self,
        worker: &WorkerId,
        preview: &PreviewId,
    ) -> Result<Option<PreviewDeployment>, ApiError> {
        let path =
            path(&["workers", "workers", worker.as_str(), "previews", preview.as_str(), "deployments", "latest"]);
        match self.get::<PreviewDeployment, _>(&path, &()).await {
            Ok(p) => Ok(Some(p.result)),
            Err(e) if e.has_code(NO_DEPLOYMENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of the Preview's deployments; the order is not documented.
    pub(crate) async fn list_preview_deployments(
        &self,
        worker: &WorkerId,
        preview: &PreviewId,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Vec<PreviewDeployment>>, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "previews", preview.as_str(), "deployments"]);
        let p = self.get::<Option<Vec<PreviewDeployment>>, _>(&path, &Paging { page, per_page }).await?;
        Ok(Page { result: p.result.unwrap_or_default(), result_info: p.result_info })
    }

    /// Creates a deployment from a JSON body built by
    /// [`version_body`](super::workers::version_body) over a [`PreviewDeploymentMeta`]. Sent
    /// once; callers reconcile with [`Client::list_preview_deployments`].
    pub(crate) async fn create_preview_deployment(
        &self,
        worker: &WorkerId,
        preview: &PreviewId,
        body: bytes::Bytes,
    ) -> Result<PreviewDeployment, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "previews", preview.as_str(), "deployments"]);
        let timeout = Some(std::time::Duration::from_secs(300));
        Ok(self.send_encoded_json::<PreviewDeployment, _>(Method::POST, &path, &(), body, timeout).await?.result)
    }
}

/// A deployment's fields other than its modules. Bindings go in the `env` form (name →
/// binding without `name`): the form a Preview of a Worker with a previews base config
/// requires, and accepted by every Preview (§B.5).
#[derive(Debug, Serialize)]
pub(crate) struct PreviewDeploymentMeta<'a> {
    pub main_module: &'a str,
    pub compatibility_date: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub compatibility_flags: &'a [String],
    pub env: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub annotations: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assets: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<&'a super::workers::Limits>,
    /// Computed against the Preview's own latest deployment's `migration_tag` (§B.10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<&'a super::workers::Migrations>,
    /// The declarative exports, as `wrangler preview`/`cf previews deploy` send them (container
    /// keys stripped; workers-ci refuses `container` when reading them): docs/cloudflare-api.md
    /// §H.10.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exports: Option<&'a super::workers::Exports>,
}

/// Bindings from the array form (`[{name, type, …}]`) to the `env` form; a later entry of
/// the same name wins, as it would in a map.
pub(crate) fn env_form(bindings: &[Value]) -> serde_json::Map<String, Value> {
    let mut env = serde_json::Map::new();
    for b in bindings {
        let mut b = b.clone();
        if let Some(o) = b.as_object_mut()
            && let Some(Value::String(name)) = o.remove("name")
        {
            env.insert(name, b);
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_escaped_segment() {
        let p = path(&["workers", "workers", "w", "previews", "feature/Ünï code"]);
        assert_eq!(p.as_str(), "/workers/workers/w/previews/feature%2F%C3%9Cn%C3%AF%20code");
    }

    #[test]
    fn env_form_drops_the_name() {
        let env = env_form(&[
            serde_json::json!({ "type": "plain_text", "name": "A", "text": "1" }),
            serde_json::json!({ "type": "inherit", "name": "S" }),
        ]);
        assert_eq!(
            serde_json::Value::Object(env),
            serde_json::json!({ "A": { "type": "plain_text", "text": "1" }, "S": { "type": "inherit" } })
        );
    }
}

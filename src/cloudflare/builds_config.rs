//! Workers Builds configuration: repository connections, build tokens, trigger create, update
//! and delete, build-time variables and cache purges (docs/cloudflare-api.md §3.2, §3.9, §3.10;
//! §E.1–§E.3).
//!
//! Updates (PATCH, PUT) set state, so sending one twice leaves what sending it once does: they
//! are retried like reads. A trigger create is sent once and reconciled by the flow
//! (`flows::create::create_once`); a delete is sent once and its retry judged by the flow.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::builds::Trigger;
use super::client::path;
use super::{ApiError, BuildTokenUuid, Client, Page, RepoConnectionUuid, ScriptTag, TriggerUuid};

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RepoConnection {
    pub repo_connection_uuid: RepoConnectionUuid,
    pub repo_id: Option<String>,
    pub repo_name: Option<String>,
    pub provider_type: Option<String>,
    pub provider_account_id: Option<String>,
    pub provider_account_name: Option<String>,
    pub deleted_on: Option<String>,
}

/// `PUT /builds/repos/connections`: all five fields required (§3.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ConnectionRequest {
    pub provider_type: String,
    pub provider_account_id: String,
    pub provider_account_name: String,
    pub repo_id: String,
    pub repo_name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BuildToken {
    pub build_token_uuid: BuildTokenUuid,
    pub build_token_name: Option<String>,
}

/// `POST /builds/triggers` (§3.2 `CreateTriggerRequest`: all required but caching).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CreateTrigger<'a> {
    pub external_script_id: &'a ScriptTag,
    pub build_token_uuid: &'a BuildTokenUuid,
    pub repo_connection_uuid: &'a RepoConnectionUuid,
    pub trigger_name: &'a str,
    pub build_command: &'a str,
    pub deploy_command: &'a str,
    pub root_directory: &'a str,
    pub branch_includes: &'a [String],
    pub branch_excludes: &'a [String],
    pub path_includes: &'a [String],
    pub path_excludes: &'a [String],
    pub build_caching_enabled: bool,
}

/// `PATCH /builds/triggers/{uuid}`: only the fields that change are sent, so a review of the
/// request log shows exactly what a run changed.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub(crate) struct UpdateTrigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_directory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_includes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_excludes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_includes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_excludes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_caching_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_token_uuid: Option<BuildTokenUuid>,
}

/// A stored variable as read back: secrets come with `value: null` (§3.9).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct EnvVar {
    pub value: Option<String>,
    pub is_secret: bool,
}

/// One entry of the PATCH body: both fields required (docs/cloudflare-api.md Correction 14).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub(crate) struct EnvVarValue {
    pub is_secret: bool,
    pub value: String,
}

#[derive(Debug, Serialize)]
struct TokensQuery {
    page: u32,
    per_page: u32,
}

impl Client {
    /// The account's build tokens (first page of 50: an account has a handful).
    pub(crate) async fn list_build_tokens(&self) -> Result<Vec<BuildToken>, ApiError> {
        let query = TokensQuery { page: 1, per_page: 50 };
        Ok(self
            .get::<Option<Vec<BuildToken>>, _>(&path(&["builds", "tokens"]), &query)
            .await?
            .result
            .unwrap_or_default())
    }

    /// Create-or-update: the same repository gives the same connection (§E.3).
    pub(crate) async fn upsert_connection(&self, body: &ConnectionRequest) -> Result<RepoConnection, ApiError> {
        let page: Page<RepoConnection> =
            self.set_json(Method::PUT, &path(&["builds", "repos", "connections"]), body).await?;
        Ok(page.result)
    }

    /// Sent once: a failure that may have applied must be reconciled against
    /// [`Client::list_triggers`] before any second attempt.
    pub(crate) async fn create_trigger(&self, body: &CreateTrigger<'_>) -> Result<Trigger, ApiError> {
        let page: Page<Trigger> = self.send_json(Method::POST, &path(&["builds", "triggers"]), &(), body, None).await?;
        Ok(page.result)
    }

    pub(crate) async fn update_trigger(
        &self,
        trigger: &TriggerUuid,
        body: &UpdateTrigger,
    ) -> Result<Trigger, ApiError> {
        let page: Page<Trigger> =
            self.set_json(Method::PATCH, &path(&["builds", "triggers", trigger.as_str()]), body).await?;
        Ok(page.result)
    }

    /// Sent once; a retry that meets 404 means the first one worked (the flow decides).
    pub(crate) async fn delete_trigger(&self, trigger: &TriggerUuid) -> Result<(), ApiError> {
        let _: Page<Option<serde_json::Value>> =
            self.send(Method::DELETE, &path(&["builds", "triggers", trigger.as_str()]), &(), None).await?;
        Ok(())
    }

    pub(crate) async fn env_vars(&self, trigger: &TriggerUuid) -> Result<BTreeMap<String, EnvVar>, ApiError> {
        let path = path(&["builds", "triggers", trigger.as_str(), "environment_variables"]);
        Ok(self.get::<Option<BTreeMap<String, EnvVar>>, _>(&path, &()).await?.result.unwrap_or_default())
    }

    /// Upsert: keys not sent are left as they are (§E.2).
    pub(crate) async fn set_env_vars(
        &self,
        trigger: &TriggerUuid,
        vars: &BTreeMap<String, EnvVarValue>,
    ) -> Result<BTreeMap<String, EnvVar>, ApiError> {
        let path = path(&["builds", "triggers", trigger.as_str(), "environment_variables"]);
        let page: Page<Option<BTreeMap<String, EnvVar>>> = self.set_json(Method::PATCH, &path, vars).await?;
        Ok(page.result.unwrap_or_default())
    }

    /// Sent once; a retry that meets 404 means the first one worked (the flow decides).
    pub(crate) async fn delete_env_var(&self, trigger: &TriggerUuid, key: &str) -> Result<(), ApiError> {
        let path = path(&["builds", "triggers", trigger.as_str(), "environment_variables", key]);
        let _: Page<Option<serde_json::Value>> = self.send(Method::DELETE, &path, &(), None).await?;
        Ok(())
    }

    /// Purging twice leaves an empty cache, as once does: retried like a read.
    pub(crate) async fn purge_build_cache(&self, trigger: &TriggerUuid) -> Result<(), ApiError> {
        let path = path(&["builds", "triggers", trigger.as_str(), "purge_build_cache"]);
        let _: Page<Option<serde_json::Value>> = self.set(Method::POST, &path).await?;
        Ok(())
    }
}

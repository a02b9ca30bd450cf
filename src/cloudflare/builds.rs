//! Workers Builds: triggers, builds, logs, cancel.
//!
//! Enum-valued fields are kept as strings and read through methods that map unknown values to
//! `Other`, because the Builds schema has grown new values before (`SCMProviderType`).

use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::path;
use super::{ApiError, BuildUuid, Client, Page, ScriptTag, TriggerUuid};

/// The most tags one `latest_builds` call may name (docs/cloudflare-api.md §3.6: "max 20").
pub(crate) const LATEST_MAX: usize = 20;
/// The most version ids one `builds_by_versions` call may name (§3.6: "max 20").
pub(crate) const VERSION_IDS_MAX: usize = 20;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Trigger {
    pub trigger_uuid: TriggerUuid,
    pub trigger_name: Option<String>,
    pub external_script_id: Option<ScriptTag>,
    pub branch_includes: Vec<String>,
    pub branch_excludes: Vec<String>,
    pub path_includes: Vec<String>,
    pub path_excludes: Vec<String>,
    pub deleted_on: Option<String>,
    /// Orders two triggers of one name (docs/cloudflare-api.md §3.2 `TriggerResponse`).
    pub created_on: Option<String>,
    pub build_command: Option<String>,
    pub deploy_command: Option<String>,
    pub root_directory: Option<String>,
    pub build_caching_enabled: Option<bool>,
    pub build_token_uuid: Option<super::BuildTokenUuid>,
    pub build_token_name: Option<String>,
    pub repo_connection: Option<super::builds_config::RepoConnection>,
}

impl Trigger {
    pub fn name(&self) -> &str {
        self.trigger_name.as_deref().unwrap_or("(unnamed)")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TriggerMetadata {
    pub branch: Option<String>,
    pub commit_hash: Option<String>,
    pub commit_message: Option<String>,
    pub author: Option<String>,
    pub build_trigger_source: Option<String>,
    /// The command the build ran to publish (docs/cloudflare-api.md §3.1, §3.2).
    pub deploy_command: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BuildTrigger {
    pub trigger_uuid: Option<TriggerUuid>,
    pub trigger_name: Option<String>,
    pub external_script_id: Option<ScriptTag>,
    /// The trigger's build watch paths as the build carries them (docs/cloudflare-api.md §3.1):
    /// what a skipped build can be explained by, since the build itself gives no reason (§3.11).
    pub path_includes: Option<Vec<String>>,
    pub path_excludes: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Build {
    pub build_uuid: BuildUuid,
    pub status: Option<String>,
    pub build_outcome: Option<String>,
    pub created_on: Option<String>,
    pub initializing_on: Option<String>,
    pub running_on: Option<String>,
    pub stopped_on: Option<String>,
    pub build_trigger_metadata: Option<TriggerMetadata>,
    pub trigger: Option<BuildTrigger>,
    pub preview_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Queued,
    Initializing,
    Running,
    Stopped,
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Fail,
    Skipped,
    Cancelled,
    Terminated,
    Other(String),
}

impl Outcome {
    pub fn parse(s: &str) -> Outcome {
        match s {
            "success" => Outcome::Success,
            "fail" => Outcome::Fail,
            "skipped" => Outcome::Skipped,
            "cancelled" => Outcome::Cancelled,
            "terminated" => Outcome::Terminated,
            other => Outcome::Other(other.to_owned()),
        }
    }
}

impl Build {
    /// Whether the build deployed what it built to production: its deploy command runs
    /// `wrangler deploy`, as the production trigger's does in Cloudflare's docs, where a preview
    /// trigger runs `wrangler versions upload` or `wrangler preview` (docs/cloudflare-api.md §3.2;
    /// INFERRED from the command, as the API has no production flag).
    pub fn deploys_to_production(&self) -> bool {
        let cmd = self.build_trigger_metadata.as_ref().and_then(|m| m.deploy_command.as_deref()).unwrap_or_default();
        cmd.split([';', '&', '|']).any(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            words.windows(2).any(|w| w[0].ends_with("wrangler") && w[1] == "deploy")
        })
    }

    pub fn status(&self) -> Status {
        match self.status.as_deref() {
            Some("queued") => Status::Queued,
            Some("initializing") => Status::Initializing,
            Some("running") => Status::Running,
            Some("stopped") => Status::Stopped,
            other => Status::Other(other.unwrap_or("").to_owned()),
        }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.build_outcome.as_deref().filter(|s| !s.is_empty()).map(Outcome::parse)
    }

    /// Finished? `status == stopped` is what the API promises (§3.7); a status value this version
    /// does not know still counts as finished when the build carries an outcome and a stop time.
    pub fn is_stopped(&self) -> bool {
        match self.status() {
            Status::Stopped => true,
            Status::Other(_) => self.outcome().is_some() && self.stopped_on.is_some(),
            _ => false,
        }
    }

    pub fn commit(&self) -> Option<&str> {
        self.build_trigger_metadata.as_ref()?.commit_hash.as_deref()
    }

    pub fn branch(&self) -> Option<&str> {
        self.build_trigger_metadata.as_ref()?.branch.as_deref()
    }

    pub fn source(&self) -> Option<&str> {
        self.build_trigger_metadata.as_ref()?.build_trigger_source.as_deref()
    }

    pub fn trigger_uuid(&self) -> Option<&TriggerUuid> {
        self.trigger.as_ref()?.trigger_uuid.as_ref()
    }

    /// When it was created; `None` when absent or not RFC 3339, so an odd timestamp sorts
    /// first rather than failing the run.
    pub fn created_at(&self) -> Option<jiff::Timestamp> {
        timestamp(self.created_on.as_deref())
    }

    pub fn stopped_at(&self) -> Option<jiff::Timestamp> {
        timestamp(self.stopped_on.as_deref())
    }
}

fn timestamp(s: Option<&str>) -> Option<jiff::Timestamp> {
    s?.parse().ok()
}

#[derive(Debug, Serialize)]
struct CreateBuild<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_hash: Option<&'a str>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CreatedBuild {
    pub build_uuid: BuildUuid,
    pub created_on: Option<String>,
}

/// One page of a build's log.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogPage {
    pub cursor: Option<String>,
    pub lines: Vec<Vec<Value>>,
    pub truncated: bool,
}

/// A log line: when (Unix milliseconds, whatever unit the API used) and what.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub at_ms: Option<i64>,
    pub message: String,
}

impl LogPage {
    /// Lines as `[timestamp, message]`, read leniently: the timestamp may be seconds or
    /// milliseconds, a number or a string; a message that is not a string is shown as JSON.
    pub fn lines(&self) -> Vec<LogLine> {
        self.lines
            .iter()
            .map(|pair| {
                let at_ms = pair.first().and_then(|t| match t {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
                // The spec's example is seconds (1636472400); other clients read milliseconds.
                // 1e11 ms is 1973, 1e11 s is the year 5138: anything above is milliseconds.
                let at_ms = at_ms.map(|t| if t > 1e11 { t as i64 } else { (t * 1000.0) as i64 });
                let message = match pair.get(1) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                LogLine { at_ms, message }
            })
            .collect()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Cancelled {
    pub build_outcome: Option<String>,
    pub build_uuid: Option<BuildUuid>,
    pub stopped_on: Option<String>,
}

/// `GET /builds/workers/{tag}/builds`: only the first page is read (the newest builds).
/// `GET /builds/builds/latest`: the tags, comma-separated (§3.6).
#[derive(Debug, Serialize)]
struct LatestQuery {
    external_script_ids: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LatestBuilds {
    builds: std::collections::HashMap<String, Build>,
}

#[derive(Debug, Serialize)]
struct ListBuilds {
    page: u32,
    per_page: u32,
}

/// `GET /builds/builds?version_ids=` (§3.6): comma-separated, at most 20.
#[derive(Debug, Serialize)]
struct ByVersions {
    version_ids: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BuildsByVersion {
    builds: std::collections::BTreeMap<String, Build>,
}

#[derive(Debug, Serialize)]
struct LogsQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
}

impl Client {
    pub(crate) async fn list_triggers(&self, tag: &ScriptTag) -> Result<Vec<Trigger>, ApiError> {
        let path = path(&["builds", "workers", tag.as_str(), "triggers"]);
        Ok(self.get::<Option<Vec<Trigger>>, _>(&path, &()).await?.result.unwrap_or_default())
    }

    /// Starts a build. Sent once: a failure that [`ApiError::may_have_applied`] must be
    /// reconciled against [`Client::list_builds`] before any second attempt.
    pub(crate) async fn create_build(
        &self,
        trigger: &TriggerUuid,
        branch: Option<&str>,
        commit: Option<&str>,
    ) -> Result<CreatedBuild, ApiError> {
        let path = path(&["builds", "triggers", trigger.as_str(), "builds"]);
        let body = CreateBuild { branch, commit_hash: commit };
        let page: Page<CreatedBuild> = self.send_json(Method::POST, &path, &(), &body, None).await?;
        Ok(page.result)
    }

    /// One page of the Worker's builds, in whatever order the API keeps (it documents none:
    /// docs/cloudflare-api.md §3.4); `flows::pages` reads as many as a time window needs.
    pub(crate) async fn list_builds(
        &self,
        tag: &ScriptTag,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Vec<Build>>, ApiError> {
        let path = path(&["builds", "workers", tag.as_str(), "builds"]);
        let query = ListBuilds { page, per_page };
        let p = self.get::<Option<Vec<Build>>, _>(&path, &query).await?;
        Ok(Page { result: p.result.unwrap_or_default(), result_info: p.result_info })
    }

    /// The newest build of each Worker named, keyed by tag; a Worker with no build is absent.
    /// The API takes at most [`LATEST_MAX`] tags per call (§3.6): the caller chunks.
    pub(crate) async fn latest_builds(
        &self,
        tags: &[ScriptTag],
    ) -> Result<std::collections::HashMap<String, Build>, ApiError> {
        debug_assert!(tags.len() <= LATEST_MAX && !tags.is_empty());
        let ids: Vec<&str> = tags.iter().map(ScriptTag::as_str).collect();
        let query = LatestQuery { external_script_ids: ids.join(",") };
        let page = self.get::<Option<LatestBuilds>, _>(&path(&["builds", "builds", "latest"]), &query).await?;
        Ok(page.result.unwrap_or_default().builds)
    }

    /// The builds that produced these versions, keyed by version id; a version Workers Builds
    /// did not build is absent (§3.6, §E.4).
    pub(crate) async fn builds_by_versions(
        &self,
        versions: &[&super::VersionId],
    ) -> Result<std::collections::BTreeMap<String, Build>, ApiError> {
        debug_assert!(versions.len() <= VERSION_IDS_MAX && !versions.is_empty());
        let query = ByVersions { version_ids: versions.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(",") };
        let page = self.get::<Option<BuildsByVersion>, _>(&path(&["builds", "builds"]), &query).await?;
        Ok(page.result.unwrap_or_default().builds)
    }

    pub(crate) async fn get_build(&self, build: &BuildUuid) -> Result<Build, ApiError> {
        Ok(self.get::<Build, _>(&path(&["builds", "builds", build.as_str()]), &()).await?.result)
    }

    pub(crate) async fn build_logs(&self, build: &BuildUuid, cursor: Option<&str>) -> Result<LogPage, ApiError> {
        let path = path(&["builds", "builds", build.as_str(), "logs"]);
        Ok(self.get::<Option<LogPage>, _>(&path, &LogsQuery { cursor }).await?.result.unwrap_or_default())
    }

    /// Cancels with a short timeout and no retry: it runs while the job itself is being
    /// cancelled, inside the runner's 7.5 s grace period.
    pub(crate) async fn cancel_build(&self, build: &BuildUuid, timeout: Duration) -> Result<Cancelled, ApiError> {
        let path = path(&["builds", "builds", build.as_str(), "cancel"]);
        let page: Page<Option<Cancelled>> = self.send(Method::PUT, &path, &(), Some(timeout)).await?;
        Ok(page.result.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cloudflare::client::tests::query_of;

    #[test]
    fn queries() {
        assert_eq!(query_of(&ListBuilds { page: 1, per_page: 25 }).as_deref(), Some("page=1&per_page=25"));
        assert_eq!(query_of(&LogsQuery { cursor: None }), None);
        assert_eq!(query_of(&LogsQuery { cursor: Some("a b&c") }).as_deref(), Some("cursor=a+b%26c"));
    }

    #[test]
    fn a_build_deploys_to_production_when_its_command_runs_wrangler_deploy() {
        let with = |cmd: &str| Build {
            build_trigger_metadata: Some(TriggerMetadata { deploy_command: Some(cmd.into()), ..Default::default() }),
            ..Build::default()
        };
        for cmd in ["npx wrangler deploy", "npm run x && npx wrangler deploy --env production", "pnpm wrangler deploy"]
        {
            assert!(with(cmd).deploys_to_production(), "{cmd}");
        }
        for cmd in ["npx wrangler versions upload", "npx wrangler preview", "npm run deploy", ""] {
            assert!(!with(cmd).deploys_to_production(), "{cmd}");
        }
        assert!(!Build::default().deploys_to_production());
    }

    #[test]
    fn log_timestamps_in_seconds_or_milliseconds() {
        let page: LogPage = serde_json::from_str(
            r#"{"lines":[[1636472400,"a"],[1636472400123,"b"],["1636472401.5","c"],[null,7]],"truncated":false}"#,
        )
        .unwrap();
        let lines = page.lines();
        assert_eq!(lines[0].at_ms, Some(1_636_472_400_000));
        assert_eq!(lines[1].at_ms, Some(1_636_472_400_123));
        assert_eq!(lines[2].at_ms, Some(1_636_472_401_500));
        assert_eq!(lines[3], LogLine { at_ms: None, message: "7".into() });
    }

    #[test]
    fn unknown_status_with_outcome_counts_as_stopped() {
        let b: Build = serde_json::from_str(
            r#"{"build_uuid":"x","status":"archived","build_outcome":"success","stopped_on":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert!(b.is_stopped());
        let b: Build =
            serde_json::from_str(r#"{"build_uuid":"x","status":"paused_for_review","build_outcome":null}"#).unwrap();
        assert!(!b.is_stopped());
        assert_eq!(b.status(), Status::Other("paused_for_review".into()));
        assert_eq!(Outcome::parse("exploded"), Outcome::Other("exploded".into()));
    }
}

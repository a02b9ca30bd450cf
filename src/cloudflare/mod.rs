//! A typed client for the parts of Cloudflare's REST API that workers-ci uses: one file per
//! API area, the envelope and error handling in `client` and `error`. Knows nothing of CI.

pub mod assets;
pub mod builds;
pub mod builds_config;
pub mod client;
pub mod deployments;
pub mod error;
pub mod ids;
pub mod previews;
pub mod ratelimit;
pub mod scripts;
pub mod workers;

pub use client::{Client, ClientConfig, ClientInitError, Page};
pub use error::ApiError;
pub use ids::{
    BuildTokenUuid, BuildUuid, DeploymentId, PreviewDeploymentId, PreviewId, RepoConnectionUuid, ScriptTag,
    TriggerUuid, VersionId, WorkerId, WorkerName, WorkerRef,
};

/// Cloudflare identifies Workers Builds resources by the script *tag*, a 32-hex id.
pub fn is_tag(s: &str) -> bool {
    ScriptTag::is_valid(s)
}

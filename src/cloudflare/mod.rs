//! A typed client for the parts of Cloudflare's REST API that workers-ci uses: one file per
//! API area, the envelope and error handling in `client` and `error`. Knows nothing of CI.

pub(crate) mod analytics;
pub(crate) mod assets;
pub(crate) mod builds;
pub(crate) mod builds_config;
pub(crate) mod client;
pub(crate) mod d1;
pub(crate) mod deployments;
pub(crate) mod error;
pub(crate) mod ids;
pub(crate) mod previews;
pub(crate) mod ratelimit;
pub(crate) mod scripts;
pub(crate) mod triggers;
pub(crate) mod workers;

pub(crate) use client::{Client, ClientConfig, ClientInitError, Page};
pub(crate) use error::ApiError;
pub(crate) use ids::{
    BuildTokenUuid, BuildUuid, D1DatabaseId, DeploymentId, PreviewDeploymentId, PreviewId, RepoConnectionUuid,
    ScriptTag, TriggerUuid, VersionId, WorkerId, WorkerName, WorkerRef,
};

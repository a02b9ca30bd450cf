//! A typed client for the parts of Cloudflare's REST API that workers-ci uses: one file per
//! API area, the envelope and error handling in `client` and `error`. Knows nothing of CI.

pub mod builds;
pub mod client;
pub mod deployments;
pub mod error;
pub mod scripts;
pub mod workers;

pub use client::{Client, ClientConfig, ClientInitError, Page};
pub use error::ApiError;

/// Cloudflare identifies Workers Builds resources by the script *tag*, a 32-hex id.
pub fn is_tag(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

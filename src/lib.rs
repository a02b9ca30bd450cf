//! workers-ci: drive Cloudflare Workers Builds and Workers versions from CI.
//!
//! Layers, each knowing nothing of the ones beside it:
//! - `assets`: a static-assets directory walked, filtered and hashed as wrangler does it;
//! - `cloudflare`: the typed API client (envelope, errors, retries), one file per API area;
//! - `retry`: the one retry policy the Cloudflare and GitHub clients share;
//! - `ci`: what the CI system sees (workflow commands, outputs, summary, the GitHub context);
//! - `inputs`: every input, the command line, and the rules values must pass;
//! - [`commands`]: each command in one file: its facts (exit codes, outputs, GitHub), its
//!   arguments and its flow;
//! - `flows`: the steps several commands share, below them; with the commands' flows, the only
//!   place that sequences API calls;
//! - `run`: one command from inputs to outputs; [`cli`] dispatches to it.
//!
//! The simulator that the demo and the tests run against is a crate of its own.
#![forbid(unsafe_code)]
// Everything is `pub(crate)` unless the binary, the tests or the fuzz targets need it: the
// compiler then finds dead code, and the public surface below is all there is.
#![warn(unreachable_pub)]

pub(crate) mod assets;
pub(crate) mod ci;
pub mod cli;
pub(crate) mod cloudflare;
pub mod commands;
#[cfg(feature = "simulator")]
pub(crate) mod demo;
pub(crate) mod error;
pub mod exit;
pub(crate) mod flows;
pub(crate) mod github_api;
pub(crate) mod inputs;
pub(crate) mod pace;
pub(crate) mod random;
pub(crate) mod retry;
pub(crate) mod run;
pub(crate) mod signal;

/// What the integration tests and the fuzz targets reach into, and nothing else: not an API.
#[doc(hidden)]
pub mod testing {
    pub use crate::assets::{content_type, scan};
    pub use crate::ci::commands::{inert, looks_like_command, physical_lines};
    pub use crate::ci::outputs::read_as_runner;
    pub use crate::ci::runner::pr_head_sha;
    pub use crate::cloudflare::builds::{Build, LogPage, Trigger};
    pub use crate::cloudflare::client::decode_response;
    pub use crate::cloudflare::scripts::Script;
    pub use crate::flows::logs::LogCursor;
    pub use crate::inputs::builds_config::{CONNECTION, TOP, TRIGGER};
    pub use crate::inputs::rules::uuid;
    pub use crate::inputs::{INPUTS, InputSpec, Key, Kind};
}

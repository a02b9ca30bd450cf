//! workers-ci: drive Cloudflare Workers Builds and Workers versions from CI.
//!
//! Layers, each knowing nothing of the ones beside it:
//! - [`assets`]: a static-assets directory walked, filtered and hashed as wrangler does it;
//! - [`cloudflare`]: the typed API client (envelope, errors, retries), one file per API area;
//! - [`retry`]: the one retry policy the Cloudflare and GitHub clients share;
//! - [`ci`]: what the CI system sees (workflow commands, outputs, summary, the GitHub context);
//! - [`inputs`]: every input, the command line, and the rules values must pass;
//! - [`commands`]: each command in one file: its facts (exit codes, outputs, GitHub), its
//!   arguments and its flow;
//! - [`flows`]: the steps several commands share, below them; with the commands' flows, the only
//!   place that sequences API calls;
//! - [`run`]: one command from inputs to outputs; [`cli`] dispatches to it.
//!
//! The simulator that the demo and the tests run against is a crate of its own.
#![forbid(unsafe_code)]

pub mod assets;
pub mod ci;
pub mod cli;
pub mod cloudflare;
pub mod commands;
#[cfg(feature = "simulator")]
pub mod demo;
pub mod error;
pub mod exit;
pub mod flows;
pub mod github;
pub mod inputs;
pub mod pace;
pub mod random;
pub mod retry;
pub mod run;
pub mod signal;

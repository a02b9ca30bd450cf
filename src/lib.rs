//! workers-ci: drive Cloudflare Workers Builds and Workers versions from CI.
//!
//! Layers, each knowing nothing of the ones beside it:
//! - [`cloudflare`]: the typed API client (envelope, errors, retries), one file per API area;
//! - [`ci`]: what the CI system sees (workflow commands, outputs, summary);
//! - [`flows`]: `build`, `wait`, … — the only place that sequences API calls;
//!
//! The simulator (a stateful, fault-injecting imitation of the API for the demo and tests) is
//! the `workers-ci-simulator` crate in `crates/simulator`, behind the default `simulator`
//! feature; without it `demo` and `simulate` answer that the feature is off.
#![forbid(unsafe_code)]

pub mod bindings;
pub mod bundle;
pub mod ci;
pub mod cli;
pub mod cloudflare;
#[cfg(feature = "simulator")]
pub mod demo;
pub mod exit;
pub mod flows;
pub mod inputs;
pub mod pace;
pub mod random;
pub mod rfc3339;
pub mod signal;

//! The integration tests: one test binary (one link instead of one per file), each former
//! `tests/*.rs` file a module here, sharing the harness in `common`. Run one module with
//! `cargo test --test it <module>::` (e.g. `cargo test --test it cli::`).
//!
//! Tests that exercise the simulator alone live in `crates/simulator/tests/`.

// A test reads best as one scenario from top to bottom (Cargo.toml keeps the lint for the rest).
#![allow(clippy::too_many_lines)]

mod common;

mod asset_hashes;
mod assets;
mod bindings;
mod build;
mod build_output;
mod cli;
mod demo;
mod deploy_config;
mod docs;
mod env;
mod exports;
mod fault_matrix;
mod faults;
mod floors;
mod github;
mod hints;
mod inputs;
mod load;
mod log_property;
mod many;
mod merge_queue;
mod migrate;
mod nothing_dropped;
mod openapi;
mod platforms;
mod preview;
mod ratelimit;
mod readme;
mod redeploy;
mod release;
mod rollouts;
mod setup;
mod signals;
mod statuses;
mod strict_limits;
mod transcripts;
mod verify;
mod version;
mod wait;
mod went_live;
mod wrangler_config;
mod wrangler_endpoints;
mod wrangler_oracle;

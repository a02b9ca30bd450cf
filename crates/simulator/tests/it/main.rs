//! The simulator's integration tests: its HTTP API driven from outside, with no workers-ci
//! binary or library involved. One test binary; each file a module.

// A test reads best as one scenario from top to bottom (Cargo.toml keeps the lint for the rest).
#![allow(clippy::too_many_lines)]

mod edge;
mod wrangler_api;
mod wrangler_endpoints;

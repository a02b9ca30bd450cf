//! The simulator's integration tests: its HTTP API driven from outside, with no workers-ci
//! binary or library involved. One test binary; each file a module.

mod wrangler_endpoints;

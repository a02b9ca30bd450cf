//! Everything the CI system sees: the log (workflow commands, groups, masks, inert untrusted
//! text), step outputs, the job summary, and the GitHub context a step runs in. Knows nothing
//! of Cloudflare.

pub mod commands;
pub mod console;
pub mod github;
pub mod outputs;
pub mod summary;

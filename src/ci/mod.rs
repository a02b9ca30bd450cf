//! Everything the CI system sees: the log (workflow commands, groups, masks, inert untrusted
//! text), step outputs and the job summary. Knows nothing of Cloudflare.

pub mod commands;
pub mod console;
pub mod outputs;
pub mod summary;

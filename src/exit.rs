//! Process exit codes: the contract a CI pipeline branches on.
//!
//! Every code is documented in README and `--help` (both generated from [`Exit::ALL`] facts
//! checked by tests), so pipelines can tell "the build failed" from "the tool could not talk
//! to Cloudflare" from "the job was cancelled". Which failure earns which code is decided in
//! one place, `Error::exit` (`src/error.rs`).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The build succeeded or was skipped; the version or deployment was made.
    Success,
    /// The build finished with outcome `fail` (or an outcome this version does not know).
    BuildFailed,
    /// An input is missing or malformed; nothing was sent to Cloudflare.
    BadInput,
    /// The build finished with outcome `cancelled`.
    BuildCancelled,
    /// The build finished with outcome `terminated`.
    BuildTerminated,
    /// Cloudflare refused a request or could not be reached: auth, permissions, unknown
    /// Worker or trigger, validation errors, or errors that survived every retry.
    Api,
    /// The `timeout` input ran out; the remote build was cancelled when `cancel_on_abort`.
    TimedOut,
    /// `wait` found no build for the commit in time and `if_no_build` is `fail`.
    NoBuild,
    /// `setup` with `check`: Cloudflare's configuration differs from the file.
    Drift,
    /// `github_required`: the pull-request comment or GitHub Deployment could not be written.
    GitHub,
    /// A local failure: a file that could not be read or written, or the process could not
    /// set itself up (runtime, TLS, signal handlers).
    Internal,
    /// `require_deployed`: the build succeeded but its version serves no traffic.
    NotDeployed,
    /// `verify`: a Worker's production is worse than `expect` (e.g. it serves an older commit).
    NotVerified,
    /// A staged rollout failed a check (smoke test, error rate, too little signal), was
    /// interrupted or timed out, and the previous deployment was restored and read back.
    RolledBack,
    /// A D1 migration failed: the files before it stay applied, it and the ones after it were
    /// not applied (or, where D1 did not roll back, only in part).
    MigrationFailed,
    /// SIGINT, SIGTERM or Ctrl-Break: the job was cancelled.
    Interrupted,
}

impl Exit {
    pub const ALL: [Exit; 16] = [
        Exit::Success,
        Exit::BuildFailed,
        Exit::BadInput,
        Exit::BuildCancelled,
        Exit::BuildTerminated,
        Exit::Api,
        Exit::TimedOut,
        Exit::NoBuild,
        Exit::Drift,
        Exit::GitHub,
        Exit::Internal,
        Exit::NotDeployed,
        Exit::NotVerified,
        Exit::RolledBack,
        Exit::MigrationFailed,
        Exit::Interrupted,
    ];

    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::BuildFailed => 1,
            Exit::BadInput => 2,
            Exit::BuildCancelled => 3,
            Exit::BuildTerminated => 4,
            Exit::Api => 5,
            Exit::TimedOut => 6,
            Exit::NoBuild => 7,
            Exit::Drift => 8,
            Exit::GitHub => 9,
            Exit::Internal => 10,
            Exit::NotDeployed => 11,
            Exit::NotVerified => 12,
            Exit::RolledBack => 13,
            Exit::MigrationFailed => 14,
            Exit::Interrupted => 130,
        }
    }

    /// One line for `--help` and README.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success: build succeeded or was skipped (`if_skipped: pass`); version/deployment made",
            Exit::BuildFailed => "the build failed (outcome `fail` or unknown), or was skipped with `if_skipped: fail`",
            Exit::BadInput => "bad input: a missing or malformed input or argument; nothing was sent to Cloudflare",
            Exit::BuildCancelled => "the build was cancelled (outcome `cancelled`)",
            Exit::BuildTerminated => "the build was terminated by Cloudflare (outcome `terminated`)",
            Exit::Api => "Cloudflare API error: auth, permissions, not found, validation, or unreachable after retries",
            Exit::TimedOut => "`timeout` elapsed (the remote build is cancelled when `cancel_on_abort`)",
            Exit::NoBuild => "`wait`: no build for the commit appeared and `if_no_build` is `fail`",
            Exit::NotDeployed => {
                "`require_deployed`: the build succeeded, but the active deployment serves no version it built"
            }
            Exit::NotVerified => {
                "`verify`: a Worker's verdict is worse than `expect` (production is not serving the commit)"
            }
            Exit::MigrationFailed => {
                "a D1 migration failed: earlier files stay applied, it and later ones not; nothing deployed"
            }
            Exit::Drift => "`setup` with `check`: the Workers Builds configuration differs from `builds_config`",
            Exit::GitHub => "`github_required`: the pull-request comment or GitHub Deployment could not be written",
            Exit::Internal => "local error: a file could not be read or written, or TLS/runtime setup failed",
            Exit::RolledBack => {
                "`stages`: a check, signal or `timeout` stopped the rollout; the previous deployment is back"
            }
            Exit::Interrupted => "interrupted by SIGINT/SIGTERM (job cancelled); remote build cancelled",
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let mut codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Exit::ALL.len());
    }
}

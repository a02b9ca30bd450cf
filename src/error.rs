//! The one error type of the binary, and the exit code each kind of failure earns.
//!
//! Exit codes are the contract a pipeline branches on, so the mapping is one exhaustive
//! `match` ([`Error::exit`]): adding a variant without deciding its code does not compile, and
//! no code path can pick a code of its own.

use std::fmt::Write as _;

use crate::cloudflare::ApiError;
use crate::exit::Exit;
use crate::inputs::InputError;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A missing or malformed input; nothing was sent to Cloudflare. Exit 2.
    #[error(transparent)]
    Input(#[from] InputError),

    /// Cloudflare refused a request, or could not be reached after every retry. Exit 5.
    #[error("could not {doing}")]
    Api {
        /// What we were doing, phrased to follow "could not".
        doing: String,
        /// Boxed: the API error is large, and every `Result` of the binary carries this enum.
        #[source]
        source: Box<ApiError>,
        /// What the user can change, when we know.
        fix: Option<String>,
    },

    /// Something an input names does not exist in the account (a Worker, a trigger, a
    /// deployment to roll back to), found out through the API. Exit 5.
    #[error("{0}")]
    NotFound(String),

    /// The account's state does not allow what was asked (a gradual rollout with no version
    /// at 100 %, a Worker without Builds configuration). Exit 5.
    #[error("{0}")]
    Refused(String),

    /// The build stopped without success. Exit 1 (`fail`, or an outcome this version does not
    /// know), 3 (`cancelled`) or 4 (`terminated`).
    #[error("Build {build_uuid} of Worker {worker} finished with outcome `{}`. See the build log above.", outcome.text())]
    Build { build_uuid: String, worker: String, outcome: Unsuccessful },

    /// `wait` saw no build for the commit appear and `if_no_build` is `fail`. Exit 7.
    #[error("{0}")]
    NoBuild(String),

    /// Exit 1: a skipped build with `if_skipped: fail`.
    #[error("{0}")]
    Skipped(String),

    /// `require_deployed`: the build succeeded and the Worker's active deployment serves no
    /// version it made. Exit 11.
    #[error("{0}")]
    NotDeployed(String),

    /// `verify`: a Worker's verdict is not one `expect` accepts. Exit 12.
    #[error("{0}")]
    NotVerified(String),
    /// A staged rollout stopped (a failed check, a signal, `timeout`) and the previous deployment
    /// was restored and read back. Exit 13.
    #[error("{0}")]
    RolledBack(String),
    /// A D1 migration file failed (`migrate`, or `migrate: true` before an upload). Exit 14.
    #[error("{0}")]
    MigrationFailed(String),

    /// `setup` with `check` found that Cloudflare differs from the file. Exit 8.
    #[error("{0}")]
    Drift(String),

    /// The job was cancelled (SIGINT, SIGTERM, Ctrl-Break: exit 130) or `timeout` elapsed
    /// (exit 6).
    #[error("{message}")]
    Stopped { stop: Stop, message: String },

    /// The pull-request comment or the GitHub Deployment could not be written and
    /// `github_required` is true. Exit 9.
    #[error("{0}")]
    GitHub(String),

    /// A local file could not be read or written (a module between scan and upload, the
    /// outputs file). Exit 10.
    #[error("{what}")]
    Local {
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// The process could not set itself up: the async runtime, TLS, signal handlers. Exit 10.
    #[error("{what}")]
    Internal {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// Why the work was stopped from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    Interrupted,
    TimedOut,
}

/// How a build ended when it did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unsuccessful {
    Fail,
    Cancelled,
    Terminated,
    /// An outcome this version does not know (counted as a failure), or none at all.
    Unknown(String),
}

impl Unsuccessful {
    pub(crate) fn text(&self) -> &str {
        match self {
            Unsuccessful::Fail => "fail",
            Unsuccessful::Cancelled => "cancelled",
            Unsuccessful::Terminated => "terminated",
            Unsuccessful::Unknown(s) => s,
        }
    }
}

impl Error {
    /// The exit code; the one place that decides it.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Error::Input(_) => Exit::BadInput,
            Error::Api { .. } | Error::NotFound(_) | Error::Refused(_) => Exit::Api,
            Error::Build { outcome, .. } => match outcome {
                Unsuccessful::Fail | Unsuccessful::Unknown(_) => Exit::BuildFailed,
                Unsuccessful::Cancelled => Exit::BuildCancelled,
                Unsuccessful::Terminated => Exit::BuildTerminated,
            },
            Error::NoBuild(_) => Exit::NoBuild,
            Error::Skipped(_) => Exit::BuildFailed,
            Error::NotDeployed(_) => Exit::NotDeployed,
            Error::NotVerified(_) => Exit::NotVerified,
            Error::RolledBack(_) => Exit::RolledBack,
            Error::MigrationFailed(_) => Exit::MigrationFailed,
            Error::Drift(_) => Exit::Drift,
            Error::GitHub(_) => Exit::GitHub,
            Error::Stopped { stop: Stop::Interrupted, .. } => Exit::Interrupted,
            Error::Stopped { stop: Stop::TimedOut, .. } => Exit::TimedOut,
            Error::Local { .. } | Error::Internal { .. } => Exit::Internal,
        }
    }

    /// The title of the error annotation on GitHub: what a reader of the run page sees first.
    pub(crate) fn title(&self) -> &'static str {
        match self {
            Error::Build { outcome: Unsuccessful::Cancelled, .. } => "Cloudflare build cancelled",
            Error::Build { outcome: Unsuccessful::Terminated, .. } => "Cloudflare build terminated",
            Error::Build { .. } => "Cloudflare build failed",
            Error::Skipped(_) => "Cloudflare build skipped",
            _ => "workers-ci",
        }
    }

    pub(crate) fn api(doing: impl Into<String>, source: ApiError, fix: Option<String>) -> Error {
        Error::Api { doing: doing.into(), source: Box::new(source), fix }
    }

    pub(crate) fn internal(what: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Internal { what: what.into(), source: Some(Box::new(source)) }
    }

    /// The whole message: this error, every cause after a colon, then the fix on a line of its
    /// own. What the user reads, in the log and in the job summary.
    pub(crate) fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        // `Input` is transparent: its Display already is its source's.
        if matches!(self, Error::Input(_)) {
            source = None;
        }
        while let Some(s) = source {
            let _ = write!(text, ": {s}");
            source = s.source();
        }
        if let Error::Api { fix: Some(fix), .. } = self {
            let _ = write!(text, "\n  fix: {fix}");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Key;

    fn api_error() -> ApiError {
        ApiError::Api {
            method: "GET".into(),
            endpoint: "/x".into(),
            status: 403,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    #[test]
    fn every_kind_has_its_documented_code() {
        let io = || std::io::Error::other("gone");
        let cases: Vec<(Error, u8)> = vec![
            (InputError::new(Key::Worker, "bad").into(), 2),
            (Error::api("look", api_error(), None), 5),
            (Error::NotFound("x".into()), 5),
            (Error::Refused("x".into()), 5),
            (Error::Build { build_uuid: "b".into(), worker: "w".into(), outcome: Unsuccessful::Fail }, 1),
            (
                Error::Build { build_uuid: "b".into(), worker: "w".into(), outcome: Unsuccessful::Unknown("?".into()) },
                1,
            ),
            (Error::Build { build_uuid: "b".into(), worker: "w".into(), outcome: Unsuccessful::Cancelled }, 3),
            (Error::Build { build_uuid: "b".into(), worker: "w".into(), outcome: Unsuccessful::Terminated }, 4),
            (Error::NoBuild("x".into()), 7),
            (Error::Skipped("x".into()), 1),
            (Error::NotDeployed("x".into()), 11),
            (Error::NotVerified("x".into()), 12),
            (Error::RolledBack("x".into()), 13),
            (Error::MigrationFailed("x".into()), 14),
            (Error::Drift("x".into()), 8),
            (Error::GitHub("x".into()), 9),
            (Error::Stopped { stop: Stop::Interrupted, message: "x".into() }, 130),
            (Error::Stopped { stop: Stop::TimedOut, message: "x".into() }, 6),
            (Error::Local { what: "x".into(), source: io() }, 10),
            (Error::internal("x", io()), 10),
        ];
        for (e, code) in cases {
            assert_eq!(e.exit().code(), code, "{e:?}");
        }
    }

    #[test]
    fn report_shows_the_chain_and_the_fix() {
        let e = Error::api("list the builds", api_error(), Some("check the token".into()));
        assert_eq!(e.report(), "could not list the builds: GET /x: HTTP 403\n  fix: check the token");
        let e = Error::Local {
            what: "could not read module `index.js` (dist/index.js)".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"),
        };
        assert_eq!(e.report(), "could not read module `index.js` (dist/index.js): No such file");
        let e: Error = InputError::new(Key::Worker, "is required").into();
        assert_eq!(e.report(), e.to_string(), "a transparent variant is not repeated");
    }

    #[test]
    fn annotation_titles_name_the_outcome() {
        let b = |outcome| Error::Build { build_uuid: "b".into(), worker: "w".into(), outcome };
        assert_eq!(b(Unsuccessful::Fail).title(), "Cloudflare build failed");
        assert_eq!(b(Unsuccessful::Cancelled).title(), "Cloudflare build cancelled");
        assert_eq!(b(Unsuccessful::Terminated).title(), "Cloudflare build terminated");
    }
}

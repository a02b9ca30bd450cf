//! Every command in one place: each `commands/<cmd>.rs` holds the command's facts (the exit
//! codes it can end with, whether it reports to GitHub, the outputs it writes), how its inputs
//! become arguments, and its flow. The help, README's tables and the tests read the facts, so
//! the documentation cannot drift from what the command does.
//!
//! Adding a command: a file with its `FACTS` and `prepare`, and one line in `commands!` below,
//! which declares the enum, the list and both dispatches from it. See CONTRIBUTING's "Adding a
//! command".

pub(crate) mod build;
pub(crate) mod deploy;
pub(crate) mod env;
pub(crate) mod migrate;
mod outputs;
pub(crate) mod preview;
pub(crate) mod purge_cache;
pub(crate) mod redeploy;
pub(crate) mod setup;
pub(crate) mod verify;
pub(crate) mod version;
pub(crate) mod wait;

use std::future::Future;
use std::pin::Pin;

pub use outputs::{OUTPUTS, Output, OutputSpec};

use crate::error::Result;
use crate::exit::Exit;
use crate::flows::Ctx;
use crate::inputs::{InputError, Inputs};

/// Declares [`Command`], [`Command::ALL`], [`Command::facts`] and [`prepare`] from one list of
/// commands and their modules, so that no list of commands can miss one.
macro_rules! commands {
    ($($variant:ident => $module:ident),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Command { $($variant),* }

        impl Command {
            /// Every command, in `--help` order.
            pub const ALL: [Command; [$(Command::$variant),*].len()] = [$(Command::$variant),*];

            pub const fn facts(self) -> &'static Facts {
                match self { $(Command::$variant => &$module::FACTS),* }
            }
        }

        /// Checks `command`'s inputs and makes its arguments, before any request.
        /// `env` reads the runner's variables (the branch, the event).
        pub(crate) fn prepare(command: Command, inputs: &Inputs, env: &Env<'_>) -> Result<Prepared, InputError> {
            match command { $(Command::$variant => $module::prepare(inputs, env)),* }
        }
    };
}

commands! {
    Build => build,
    Wait => wait,
    Version => version,
    Deploy => deploy,
    Setup => setup,
    Env => env,
    PurgeCache => purge_cache,
    Redeploy => redeploy,
    Preview => preview,
    Migrate => migrate,
    Verify => verify,
}

/// The outputs of one build followed (or several, in `builds`): `build`, `wait` and `redeploy`.
const FOLLOWED: [Output; 9] = [
    Output::Builds,
    Output::BuildUuid,
    Output::BuildStatus,
    Output::BuildOutcome,
    Output::WorkerTag,
    Output::TriggerUuid,
    Output::Branch,
    Output::Commit,
    Output::PreviewUrl,
];

/// `build` and `wait`: a followed build, and whether it went live (`flows::live`; `redeploy`
/// reports the version it redeployed instead).
const FOLLOWED_BUILD: &[Output] = &joined::<9, 4, 13>(
    FOLLOWED,
    [Output::DeploymentId, Output::Deployed, Output::DeployedVersionId, Output::TrafficPercent],
);

/// `a` then `b`, at compile time: a command's outputs built from shared lists, not copies of them.
const fn joined<const A: usize, const B: usize, const C: usize>(a: [Output; A], b: [Output; B]) -> [Output; C] {
    assert!(A + B == C, "the joined length is the sum of both");
    let mut out = [Output::Builds; C];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < C {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// How many commands report to GitHub: the length of [`REPORTING_TO_GITHUB`].
const REPORTING_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < Command::ALL.len() {
        if Command::ALL[i].facts().reports_to_github {
            n += 1;
        }
        i += 1;
    }
    n
};

/// The commands whose facts say they report to GitHub, computed from the facts at compile time:
/// the inputs `github_token`, `github_required` and `github_api_url` go to exactly these.
pub(crate) const REPORTING_TO_GITHUB: [Command; REPORTING_COUNT] = {
    let mut out = [Command::Build; REPORTING_COUNT];
    let (mut n, mut i) = (0, 0);
    while i < Command::ALL.len() {
        if Command::ALL[i].facts().reports_to_github {
            out[n] = Command::ALL[i];
            n += 1;
        }
        i += 1;
    }
    out
};

/// Whether this run is a dry run that sends no request, so needs no credentials: of an upload
/// (`version`, `deploy`, `preview` with `dry_run: true`), or of `migrate` given no `api_token`
/// (with one, its dry run reads each database's applied set, so it lists exactly what is
/// pending). `setup`'s dry run reads the live state and still needs them.
pub(crate) fn dry_run_without_credentials(command: Command, inputs: &Inputs) -> Result<bool, InputError> {
    let offline = match command {
        Command::Version | Command::Deploy | Command::Preview => true,
        Command::Migrate => inputs.get(crate::inputs::Key::ApiToken).is_none(),
        _ => false,
    };
    Ok(offline && inputs.bool(crate::inputs::Key::DryRun, false)?)
}

/// The account a dry run's plan names: the one given, else a placeholder (a dry run needs none).
fn plan_account(i: &Inputs) -> String {
    i.get(crate::inputs::Key::AccountId).map_or_else(|| "{account_id}".to_owned(), str::to_ascii_lowercase)
}

/// How a command reads the runner's variables.
pub(crate) type Env<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// What a command is, as data: `--help`, README and the tests are generated from or checked
/// against it.
#[derive(Debug)]
pub struct Facts {
    /// The word on the command line and in the `command` input.
    pub name: &'static str,
    /// One line for the command list in `--help`.
    pub about: &'static str,
    /// Every exit code the command can end with, in [`Exit::ALL`] order. `--help` lists exactly
    /// these; a debug build panics when the command ends with another (so every test checks it).
    pub exits: &'static [Exit],
    /// Whether it reports to the pull request and GitHub Deployments (`github_token`).
    pub reports_to_github: bool,
    /// Every output it can write, in [`OUTPUTS`] order; writing another panics in a debug build.
    pub outputs: &'static [Output],
}

/// The codes every command can end with: success, bad input, an API error, `timeout`, a local
/// failure (the outputs file at least), and a cancelled job. A test checks each command lists them.
#[cfg(test)]
const EVERY: [Exit; 6] = [Exit::Success, Exit::BadInput, Exit::Api, Exit::TimedOut, Exit::Internal, Exit::Interrupted];

impl Command {
    pub fn name(self) -> &'static str {
        self.facts().name
    }

    pub fn about(self) -> &'static str {
        self.facts().about
    }

    pub fn parse(s: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == s)
    }

    pub fn exits(self) -> &'static [Exit] {
        self.facts().exits
    }

    pub fn writes(self, output: Output) -> bool {
        self.facts().outputs.contains(&output)
    }
}

/// A command's flow, ready to run once the context exists.
pub(crate) type Flow = Box<dyn for<'a> FnOnce(&'a Ctx) -> Pin<Box<dyn Future<Output = Result<()>> + 'a>>>;

/// A command whose inputs passed every rule: nothing has been sent yet.
pub(crate) struct Prepared {
    /// Values to mask in the log and redact from what is written to GitHub.
    pub secrets: Vec<String>,
    pub flow: Flow,
}

impl Prepared {
    fn new<F>(secrets: Vec<String>, flow: F) -> Prepared
    where
        F: for<'a> FnOnce(&'a Ctx) -> Pin<Box<dyn Future<Output = Result<()>> + 'a>> + 'static,
    {
        Prepared { secrets, flow: Box::new(flow) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_are_in_order_and_include_every_commands_codes() {
        for c in Command::ALL {
            let codes: Vec<u8> = c.exits().iter().map(|e| e.code()).collect();
            let mut sorted = codes.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(codes, sorted, "{}", c.name());
            for e in EVERY {
                assert!(c.exits().contains(&e), "{} lacks {e:?}", c.name());
            }
        }
    }

    #[test]
    fn a_command_reports_to_github_exactly_when_it_can_exit_9() {
        for c in Command::ALL {
            assert_eq!(c.facts().reports_to_github, c.exits().contains(&Exit::GitHub), "{}", c.name());
        }
    }

    #[test]
    fn the_github_reporting_list_is_the_commands_whose_facts_say_so() {
        let want: Vec<Command> = Command::ALL.into_iter().filter(|c| c.facts().reports_to_github).collect();
        assert_eq!(REPORTING_TO_GITHUB.as_slice(), want.as_slice());
        assert!(!want.is_empty());
    }

    #[test]
    fn names_are_unique_and_parse_back() {
        for c in Command::ALL {
            assert_eq!(Command::parse(c.name()), Some(c));
        }
    }

    #[test]
    fn every_output_is_written_by_some_command_and_listed_in_table_order() {
        for o in OUTPUTS {
            assert!(Command::ALL.iter().any(|c| c.writes(o.key)), "{} is written by no command", o.name);
        }
        for c in Command::ALL {
            let idx: Vec<usize> = c.facts().outputs.iter().map(|o| *o as usize).collect();
            assert!(idx.is_sorted(), "{}: outputs out of table order", c.name());
        }
    }
}

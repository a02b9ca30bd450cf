//! How a message tells the user what to set: `if_no_build: pass` in a workflow file, but
//! `--if-no-build pass` on a command line. A hint in the other syntax sends a user to the
//! wrong place, so every message that names an input or a command goes through here.
//!
//! The syntax is the process's (it runs on GitHub Actions or it does not), chosen once at
//! start-up like the console.

use std::sync::OnceLock;

use super::{Command, Key};

/// Where the user sets inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// `with:` inputs of the GitHub Action.
    Action,
    /// Flags of the command line.
    Cli,
}

static SYNTAX: OnceLock<Syntax> = OnceLock::new();

/// Chooses the syntax for this process; the first choice stands.
pub(crate) fn init(syntax: Syntax) {
    let _ = SYNTAX.set(syntax);
}

/// The syntax chosen for this process (the Action's until chosen).
pub(crate) fn syntax() -> Syntax {
    SYNTAX.get().copied().unwrap_or(Syntax::Action)
}

/// `` `if_no_build: pass` `` or `` `--if-no-build pass` ``.
pub(crate) fn set(key: Key, value: &str) -> String {
    in_syntax(syntax(), key, value)
}

/// `` `build_uuid` `` or `` `--build-uuid` ``.
pub(crate) fn input(key: Key) -> String {
    match syntax() {
        Syntax::Action => format!("`{}`", key.name()),
        Syntax::Cli => format!("`{}`", key.flag()),
    }
}

/// `` `command: wait` `` or `` `workers-ci wait` ``.
pub(crate) fn command(c: Command) -> String {
    match syntax() {
        Syntax::Action => format!("`command: {}`", c.name()),
        Syntax::Cli => format!("`workers-ci {}`", c.name()),
    }
}

fn in_syntax(syntax: Syntax, key: Key, value: &str) -> String {
    match syntax {
        Syntax::Action => format!("`{}: {value}`", key.name()),
        Syntax::Cli => format!("`{} {value}`", key.flag()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_syntaxes() {
        assert_eq!(in_syntax(Syntax::Action, Key::IfNoBuild, "pass"), "`if_no_build: pass`");
        assert_eq!(in_syntax(Syntax::Cli, Key::IfNoBuild, "pass"), "`--if-no-build pass`");
    }
}

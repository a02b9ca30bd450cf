//! The log as the CI system reads it.
//!
//! On GitHub Actions (`GITHUB_ACTIONS=true`) this speaks workflow commands: masks, groups,
//! annotations, and `::stop-commands::` around every batch of untrusted lines, all on stdout so
//! that our commands and the untrusted text between them cannot interleave across two streams.
//!
//! Elsewhere it prints plain text, and stdout carries only what a script may want to read:
//! the build log and the outputs. Every diagnostic (info, notice, warning, debug, error) goes
//! to stderr.
//!
//! One console per process: its stop token and group state are the process's.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use super::commands::{escape_data, escape_property, inert, inert_line, physical_lines};

pub(crate) struct Console {
    github: bool,
    debug: bool,
    /// Resumes command processing after a stop-commands block. Random per run and longer than
    /// six characters, so the runner masks it and no log author can guess it.
    stop_token: String,
    in_group: AtomicBool,
}

impl Console {
    pub(crate) fn new(github: bool, debug: bool) -> Self {
        Console { github, debug, stop_token: crate::random::hex(16), in_group: AtomicBool::new(false) }
    }

    /// GitHub mode when the runner says so; debug lines when step debug logging is on
    /// (`RUNNER_DEBUG=1`), or elsewhere with `--verbose` or `WORKERS_CI_DEBUG=1`.
    pub(crate) fn from_env(verbose: bool) -> Self {
        let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let on = |k: &str| std::env::var(k).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        Console::new(github, verbose || on("RUNNER_DEBUG") || on("WORKERS_CI_DEBUG"))
    }

    pub(crate) fn is_github(&self) -> bool {
        self.github
    }

    /// A line on stdout. A closed stream (the runner gone) must not turn into a panic
    /// mid-cleanup, so write errors are ignored.
    fn emit(text: &str) {
        let mut out = io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    /// A diagnostic: stdout among the workflow commands on GitHub, stderr elsewhere.
    fn diagnostic(&self, text: &str) {
        if self.github {
            Self::emit(text);
        } else {
            let mut err = io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = err.write_all(b"\n");
            let _ = err.flush();
        }
    }

    /// Product output (the outputs, listed for a human): stdout everywhere. A method all the
    /// same, so that everything the step prints goes through its console.
    #[allow(clippy::unused_self)]
    pub(crate) fn product(&self, text: &str) {
        Self::emit(text);
    }

    /// A line of our own. It may quote API text, so it is made inert on GitHub.
    pub(crate) fn info(&self, msg: &str) {
        if self.github { Self::emit(&inert(msg)) } else { self.diagnostic(msg) }
    }

    pub(crate) fn debug(&self, msg: &str) {
        if self.github {
            Self::emit(&format!("::debug::{}", escape_data(msg)));
        } else if self.debug {
            self.diagnostic(&format!("debug: {msg}"));
        }
    }

    pub(crate) fn warning(&self, msg: &str) {
        if self.github {
            Self::emit(&format!("::warning title=workers-ci::{}", escape_data(msg)));
        } else {
            self.diagnostic(&format!("warning: {msg}"));
        }
    }

    pub(crate) fn notice(&self, msg: &str) {
        if self.github {
            Self::emit(&format!("::notice title=workers-ci::{}", escape_data(msg)));
        } else {
            self.diagnostic(&format!("notice: {msg}"));
        }
    }

    /// An error annotation. The message is escaped into one line, so however hostile the API
    /// text inside it is, the runner sees exactly one `::error` command.
    pub(crate) fn error(&self, title: &str, msg: &str) {
        if self.github {
            Self::emit(&format!("::error title={}::{}", escape_property(title), escape_data(msg)));
        } else {
            self.diagnostic(&format!("workers-ci: error: {msg}"));
        }
    }

    /// Registers a secret with the runner before anything could print it. Each line is also
    /// registered by the runner itself, but only if the whole value was.
    pub(crate) fn mask(&self, secret: &str) {
        if self.github && !secret.trim().is_empty() {
            Self::emit(&format!("::add-mask::{}", escape_data(secret)));
        }
    }

    /// Opens a collapsible group (plain mode: a heading). Groups do not nest on GitHub, so an
    /// open one is closed first.
    pub(crate) fn group(&self, title: &str) -> Group<'_> {
        if self.github {
            if self.in_group.swap(true, Ordering::SeqCst) {
                Self::emit("::endgroup::");
            }
            Self::emit(&format!("::group::{}", escape_data(title)));
        } else {
            Self::emit(&format!("── {title} ──"));
        }
        Group { console: self }
    }

    /// Prints lines nobody here wrote that are the product (a build log): stdout everywhere. On
    /// GitHub the batch sits inside a stop-commands block (nothing in it can run a command) and
    /// every line is also made inert.
    pub(crate) fn untrusted<'a>(&self, lines: impl IntoIterator<Item = &'a str>) {
        self.untrusted_to(lines, false);
    }

    /// Lines nobody here wrote that explain a failure (an API's messages): a diagnostic, so on
    /// stderr outside GitHub, where stdout carries only the log and the outputs; on GitHub as
    /// [`Console::untrusted`].
    pub(crate) fn untrusted_diagnostic<'a>(&self, lines: impl IntoIterator<Item = &'a str>) {
        self.untrusted_to(lines, !self.github);
    }

    fn untrusted_to<'a>(&self, lines: impl IntoIterator<Item = &'a str>, stderr: bool) {
        let mut buf = String::new();
        let mut any = false;
        if self.github {
            buf.push_str(&format!("::stop-commands::{}\n", self.stop_token));
        }
        for line in lines {
            any = true;
            for physical in physical_lines(line) {
                if self.github {
                    buf.push_str(&inert_line(physical));
                } else {
                    buf.push_str(physical);
                }
                buf.push('\n');
            }
        }
        if !any {
            return;
        }
        if self.github {
            buf.push_str(&format!("::{}::\n", self.stop_token));
        }
        if stderr {
            let mut err = io::stderr().lock();
            let _ = err.write_all(buf.as_bytes());
            let _ = err.flush();
        } else {
            let mut out = io::stdout().lock();
            let _ = out.write_all(buf.as_bytes());
            let _ = out.flush();
        }
    }
}

/// Closes its group when dropped, so an early return cannot leave the log folded.
pub(crate) struct Group<'a> {
    console: &'a Console,
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        if self.console.github && self.console.in_group.swap(false, Ordering::SeqCst) {
            Console::emit("::endgroup::");
        }
    }
}

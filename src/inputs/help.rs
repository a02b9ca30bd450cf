//! `--help`: generated from the inputs, outputs and exit-code tables, so it cannot drift from
//! the code (and README is checked against the same tables).

use std::fmt::Write as _;

use super::argv::Topic;
use super::{INPUTS, InputSpec, Key, Kind};
use crate::commands::{Command, OUTPUTS};
use crate::exit::Exit;

/// Printed for a run with no arguments.
pub(crate) fn usage() -> String {
    let mut h = String::from("USAGE:\n  workers-ci <COMMAND> [--input-name value]...\n\nCOMMANDS:\n");
    for c in Command::ALL {
        let _ = writeln!(h, "  {:<12} {}", c.name(), c.about());
    }
    h.push_str(
        "  demo         a build, a version upload and a 10 % rollout against the embedded simulator\n  \
         simulate     serve the Cloudflare API simulator for offline workflows\n  \
         help         this text, or `help <COMMAND>` for one command's inputs, outputs and exit codes\n",
    );
    h
}

pub(crate) fn help(topic: Topic) -> String {
    match topic {
        Topic::General => general(),
        Topic::Command(c) => command(c),
        Topic::Simulate => simulate(),
        Topic::Demo => demo(),
    }
}

fn general() -> String {
    let mut h = String::from("workers-ci: start, follow, version and deploy Cloudflare Workers from CI.\n\n");
    h.push_str(&usage());
    h.push_str(INPUT_SOURCES);
    h.push_str(GLOBAL_FLAGS);
    h.push_str("\nINPUTS:\n");
    for s in INPUTS {
        input(&mut h, s, true);
    }
    outputs(&mut h, None);
    exits(&mut h, &Exit::ALL);
    h
}

const INPUT_SOURCES: &str = "\nEvery input is read from the flag, else from INPUT_<NAME> (GitHub Actions), else from the\n\
     fallback variable shown. Empty values count as unset. Switches (true/false) need no value.\n";

const GLOBAL_FLAGS: &str = "\nFLAGS:\n  -h, --help             help (after a command: that command's)\n  \
     -V, --version          the version\n  \
     -v, --verbose          debug lines outside GitHub (also WORKERS_CI_DEBUG=1)\n";

fn command(c: Command) -> String {
    let mut h = String::new();
    wrap_with(&mut h, &format!("workers-ci {}: {}.", c.name(), c.about()), "");
    let _ = write!(h, "\nUSAGE:\n  workers-ci {} [--input-name value]...\n", c.name());
    h.push_str(INPUT_SOURCES);
    h.push_str(GLOBAL_FLAGS);
    h.push_str("\nINPUTS:\n");
    // `command` is how the Action names the command; here it is already in the usage line.
    for s in INPUTS.iter().filter(|s| s.commands.contains(&c) && s.key != Key::Command) {
        input(&mut h, s, false);
    }
    outputs(&mut h, Some(c));
    exits(&mut h, c.exits());
    h
}

fn input(h: &mut String, s: &InputSpec, with_commands: bool) {
    let flag = match s.kind {
        Kind::Switch => format!("{} [BOOL]", s.key.flag()),
        Kind::Value => format!("{} <VALUE>", s.key.flag()),
    };
    if with_commands {
        let names: Vec<&str> = s.commands.iter().map(|c| c.name()).collect();
        let missing: Vec<&str> = Command::ALL.iter().filter(|c| !s.commands.contains(c)).map(|c| c.name()).collect();
        // A list of nearly every command reads shorter the other way round.
        let names = match missing.as_slice() {
            [] => "all".to_owned(),
            [one] if names.len() > 6 => format!("all but {one}"),
            [a, b] if names.len() > 6 => format!("all but {a} and {b}"),
            _ => names.join(", "),
        };
        let _ = writeln!(h, "  {flag:<30} [{names}]");
    } else {
        let _ = writeln!(h, "  {flag}");
    }
    wrap(h, s.help);
    let mut sources = vec![s.key.env()];
    sources.extend(s.fallback.iter().map(|f| (*f).to_owned()));
    let default = if s.default.is_empty() { String::new() } else { format!("; default: {}", s.default) };
    wrap(h, &format!("env: {}{default}", sources.join(", ")));
}

/// Indents `text` under a flag, broken at spaces so lines stay within 100 columns.
fn wrap(h: &mut String, text: &str) {
    wrap_with(h, text, "      ");
}

fn wrap_with(h: &mut String, text: &str, indent: &str) {
    let mut line = String::from(indent);
    for word in text.split(' ') {
        if line.len() > indent.len() && line.len() + 1 + word.len() > 100 {
            h.push_str(line.trim_end());
            h.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    h.push_str(line.trim_end());
    h.push('\n');
}

fn outputs(h: &mut String, c: Option<Command>) {
    h.push_str("\nOUTPUTS:\n");
    for o in OUTPUTS.iter().filter(|o| c.is_none_or(|c| c.writes(o.key))) {
        let _ = writeln!(h, "  {:<16} {}", o.name, o.help);
    }
}

fn exits(h: &mut String, list: &[Exit]) {
    h.push_str("\nEXIT CODES:\n");
    for e in list {
        let _ = writeln!(h, "  {:<4} {}", e.code(), e.meaning());
    }
}

/// The simulator documents itself (its flags, config keys and admin endpoints live with it);
/// the exit codes are the command line's.
fn simulate() -> String {
    let mut h = simulator_reference();
    h.push_str("\nEXIT CODES:\n  0    stopped by SIGINT/SIGTERM\n  2    bad flag or config file\n  10   the port could not be bound\n");
    h
}

#[cfg(feature = "simulator")]
fn simulator_reference() -> String {
    format!("{}\n", workers_ci_simulator::HELP.trim_end())
}

#[cfg(not(feature = "simulator"))]
fn simulator_reference() -> String {
    "workers-ci simulate: this binary was built without the `simulator` feature.\n".to_owned()
}

fn demo() -> String {
    "workers-ci demo: start the embedded simulator and run, against it, a real `build` (with its\n\
     streamed log and outputs), a `version` upload deployed at 100 %, and a second one rolled out\n\
     to 10 %. No Cloudflare account is needed; nothing leaves this machine. It polls faster than a\n\
     real run, so it finishes in about half a minute.\n\n\
     Each step is printed as a command you can paste into another shell while the simulator runs:\n\
     with --keep it keeps serving after the demo until Ctrl-C. Pasted commands poll at the real\n\
     pace, so they take a little longer than the demo's.\n\n\
     USAGE:\n  workers-ci demo [--outcome OUTCOME] [--keep]\n\n\
     FLAGS:\n  \
     --outcome OUTCOME   how the build ends: success (default), fail, cancelled, terminated, skipped\n  \
     --keep              keep the simulator serving after the demo, until Ctrl-C\n  \
     -h, --help          this text\n\n\
     EXIT CODES:\n  as `workers-ci help build`: 0 on success, 1/3/4 when the build fails/is cancelled/is terminated\n"
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_help_lists_only_its_own_inputs_and_codes() {
        let h = help(Topic::Command(Command::Deploy));
        assert!(h.contains("--versions <VALUE>") && h.contains("--rollback [BOOL]"), "{h}");
        assert!(!h.contains("--build-uuid") && !h.contains("--compatibility-date"), "{h}");
        assert!(h.contains("deployment_id") && !h.contains("build_uuid"), "{h}");
        assert!(!h.contains("  7 "), "`deploy` never exits 7:\n{h}");
        let h = help(Topic::Command(Command::Wait));
        assert!(h.contains("  7 ") && h.contains("--if-no-build"), "{h}");
    }

    #[test]
    fn lines_stay_within_100_columns() {
        let commands = Command::ALL.into_iter().map(Topic::Command);
        for topic in [Topic::General, Topic::Demo].into_iter().chain(commands) {
            for l in help(topic).lines().chain(usage().lines()) {
                assert!(l.chars().count() <= 100, "{l}");
            }
        }
    }

    #[test]
    fn general_help_has_every_input_output_and_code() {
        let h = help(Topic::General);
        for s in INPUTS {
            assert!(h.contains(&s.key.flag()) && h.contains(&s.key.env()), "{}", s.name);
        }
        for o in OUTPUTS {
            assert!(h.contains(o.name), "{}", o.name);
        }
        for e in Exit::ALL {
            assert!(h.contains(e.meaning()), "{e:?}");
        }
    }
}

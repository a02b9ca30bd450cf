//! The command line, parsed with lexopt from `OsString`s: a non-UTF-8 argument is an input
//! error (exit 2), never a panic; `--` ends the flags; a flag given twice is refused; boolean
//! inputs need no value; an unknown flag or command gets the closest known one suggested.
//!
//! Flags are the inputs' names in kebab case (`--api-token`), so the table in [`super::INPUTS`]
//! is the one list of them. `simulate` and `demo` have flags of their own.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::Arg::{Long, Short, Value};

use super::rules::{self, closest};
use super::{Command, INPUTS, InputError, Key, Kind};

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub(crate) enum Invocation {
    /// No arguments at all: usage on stderr, exit 2.
    Usage,
    Help(Topic),
    Version,
    Run(RunArgs),
    Simulate(SimulateArgs),
    Demo(DemoArgs),
}

/// What `--help` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Topic {
    General,
    Command(Command),
    Simulate,
    Demo,
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct RunArgs {
    /// The first argument, when it names a command.
    pub command: Option<Command>,
    pub flags: Vec<(Key, String)>,
    pub verbose: bool,
}

#[derive(Debug, PartialEq)]
pub(crate) struct SimulateArgs {
    pub port: u16,
    pub config: Option<PathBuf>,
    pub outcome: Option<String>,
    /// Also serve the GitHub REST simulation.
    pub github: bool,
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct DemoArgs {
    pub outcome: Option<String>,
    /// Keep the simulator serving after the demo, so the commands it printed can be pasted.
    pub keep: bool,
}

/// The port `simulate` listens on when none is given: wrangler dev's, so a workflow written
/// against a local wrangler needs no change.
pub(crate) const SIMULATE_PORT: u16 = 8787;

/// Words that may stand first besides the commands that run against the API.
const OTHER_WORDS: [&str; 3] = ["simulate", "demo", "help"];

/// Every word that may stand first, for suggestions.
fn words() -> impl Iterator<Item = &'static str> {
    Command::ALL.into_iter().map(Command::name).chain(OTHER_WORDS)
}

/// Parses the arguments after the program name.
pub(crate) fn parse(args: Vec<OsString>) -> Result<Invocation, InputError> {
    if args.is_empty() {
        return Ok(Invocation::Usage);
    }
    let mut p = lexopt::Parser::from_args(args);
    let mut run = RunArgs::default();
    let mut seen = HashSet::new();
    let mut help = false;
    while let Some(arg) = p.next().map_err(lex)? {
        match arg {
            Short('h') | Long("help") => help = true,
            Short('V') | Long("version") => return Ok(Invocation::Version),
            Short('v') | Long("verbose") => run.verbose = true,
            Value(v) if run.command.is_none() && seen.is_empty() => match utf8(v)?.as_str() {
                "simulate" => return simulate(p),
                "demo" => return demo(p),
                "help" => return help_topic(p),
                word => {
                    run.command = Some(Command::parse(word).ok_or_else(|| unknown_command(word))?);
                }
            },
            Value(_) => {
                return Err(InputError::arguments(
                    "unexpected extra argument; the command comes first and inputs are given as `--name value`",
                ));
            }
            Long(name) => {
                let name = name.to_owned();
                let key = Key::by_name(&name.replace('-', "_"))
                    .filter(|_| !name.contains('_'))
                    .ok_or_else(|| unknown_flag(&name, INPUTS.iter().map(|s| s.name)))?;
                if !seen.insert(key) {
                    return Err(InputError::arguments(format!("`{}` is given twice; give it once", key.flag())));
                }
                let value = match key.spec().kind {
                    Kind::Switch => switch_value(&mut p, key)?,
                    Kind::Value => {
                        let v = p.value().map_err(|_| InputError::new(key, "the flag needs a value"))?;
                        v.into_string().map_err(|_| InputError::new(key, "is not valid UTF-8"))?
                    }
                };
                run.flags.push((key, value));
            }
            Short(c) => return Err(unknown_flag(&c.to_string(), ["h", "v", "V"])),
        }
    }
    if help {
        return Ok(Invocation::Help(run.command.map_or(Topic::General, Topic::Command)));
    }
    if let Some(command) = run.command
        && let Some((key, _)) = run.flags.iter().find(|(k, _)| !k.spec().commands.contains(&command))
    {
        let readers: Vec<&str> = key.spec().commands.iter().map(|c| c.name()).collect();
        return Err(InputError::arguments(format!(
            "`{}` is not an input of `{}` (it is read by {})",
            key.flag(),
            command.name(),
            readers.join(", ")
        )));
    }
    Ok(Invocation::Run(run))
}

/// A boolean flag: `--x=false`, `--x false`, or `--x` alone for true.
fn switch_value(p: &mut lexopt::Parser, key: Key) -> Result<String, InputError> {
    if let Some(v) = p.optional_value() {
        let v = v.into_string().map_err(|_| InputError::new(key, "must be `true` or `false`"))?;
        return match rules::boolean(&v) {
            Some(_) => Ok(v),
            None => Err(InputError::new(key, "must be `true` or `false`")),
        };
    }
    let next = p
        .try_raw_args()
        .and_then(|mut raw| raw.next_if(|a| a.to_str().and_then(rules::boolean).is_some()))
        .and_then(|v| v.into_string().ok());
    Ok(next.unwrap_or_else(|| "true".to_owned()))
}

fn simulate(mut p: lexopt::Parser) -> Result<Invocation, InputError> {
    let mut args = SimulateArgs { port: SIMULATE_PORT, config: None, outcome: None, github: false };
    let mut seen = HashSet::new();
    while let Some(arg) = p.next().map_err(lex)? {
        if let Long(name) = &arg
            && !seen.insert(name.to_string())
        {
            return Err(InputError::arguments(format!("`--{name}` is given twice; give it once")));
        }
        match arg {
            Short('h') | Long("help") => return Ok(Invocation::Help(Topic::Simulate)),
            Long("port") => {
                args.port = utf8(p.value().map_err(lex)?)?.parse().map_err(|_| {
                    InputError::arguments("`--port` must be a port number from 0 to 65535 (0 picks a free one)")
                })?;
            }
            Long("config") => args.config = Some(PathBuf::from(p.value().map_err(lex)?)),
            Long("outcome") => args.outcome = Some(utf8(p.value().map_err(lex)?)?),
            Long("github") => args.github = true,
            Long(name) => return Err(unknown_flag(name, ["port", "config", "outcome", "github", "help"])),
            Short(c) => return Err(unknown_flag(&c.to_string(), ["h"])),
            Value(_) => return Err(InputError::arguments("`simulate` takes no arguments besides its flags")),
        }
    }
    Ok(Invocation::Simulate(args))
}

fn demo(mut p: lexopt::Parser) -> Result<Invocation, InputError> {
    let mut args = DemoArgs::default();
    while let Some(arg) = p.next().map_err(lex)? {
        match arg {
            Short('h') | Long("help") => return Ok(Invocation::Help(Topic::Demo)),
            Long("outcome") if args.outcome.is_none() => args.outcome = Some(utf8(p.value().map_err(lex)?)?),
            Long("outcome") => return Err(InputError::arguments("`--outcome` is given twice; give it once")),
            Long("keep") if !args.keep => args.keep = true,
            Long("keep") => return Err(InputError::arguments("`--keep` is given twice; give it once")),
            Long(name) => return Err(unknown_flag(name, ["outcome", "keep", "help"])),
            Short(c) => return Err(unknown_flag(&c.to_string(), ["h"])),
            Value(_) => return Err(InputError::arguments("`demo` takes no arguments besides `--outcome`")),
        }
    }
    Ok(Invocation::Demo(args))
}

/// `help` alone, or `help COMMAND`.
fn help_topic(mut p: lexopt::Parser) -> Result<Invocation, InputError> {
    let mut topic = Topic::General;
    while let Some(arg) = p.next().map_err(lex)? {
        match arg {
            Value(v) if topic == Topic::General => {
                let word = utf8(v)?;
                topic = match word.as_str() {
                    "simulate" => Topic::Simulate,
                    "demo" => Topic::Demo,
                    "help" => Topic::General,
                    w => Topic::Command(Command::parse(w).ok_or_else(|| unknown_command(w))?),
                };
            }
            Short('h') | Long("help") => {}
            _ => return Err(InputError::arguments("`help` takes one command name, e.g. `workers-ci help build`")),
        }
    }
    Ok(Invocation::Help(topic))
}

fn utf8(v: OsString) -> Result<String, InputError> {
    v.into_string().map_err(|_| InputError::arguments("an argument is not valid UTF-8"))
}

/// lexopt's errors, reworded so that no value is echoed (it may be a secret).
fn lex(e: lexopt::Error) -> InputError {
    use lexopt::Error as E;
    InputError::arguments(match e {
        E::MissingValue { option: Some(o) } => format!("`{o}` needs a value"),
        E::MissingValue { option: None } => "a value is missing".to_owned(),
        E::UnexpectedValue { option, .. } => format!("`{option}` takes no value"),
        E::NonUnicodeValue(_) => "an argument is not valid UTF-8".to_owned(),
        E::UnexpectedOption(o) => format!("unknown flag `{o}`"),
        E::UnexpectedArgument(_) => "unexpected argument".to_owned(),
        other => format!("could not read the arguments: {}", kind_only(&other)),
    })
}

fn kind_only(e: &lexopt::Error) -> &'static str {
    match e {
        lexopt::Error::ParsingFailed { .. } => "a value could not be parsed",
        _ => "malformed",
    }
}

fn unknown_flag<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> InputError {
    let names: Vec<String> = known.into_iter().map(|k| k.replace('_', "-")).collect();
    let dashes = if name.chars().count() == 1 { "-" } else { "--" };
    let dashes_of = |n: &str| if n.chars().count() == 1 { "-" } else { "--" };
    let hint = match closest(&name.replace('_', "-"), names.iter().map(String::as_str)) {
        Some(s) => format!("; did you mean `{}{s}`?", dashes_of(s)),
        None => "; run `workers-ci --help` for the list".to_owned(),
    };
    InputError::arguments(format!("unknown flag `{dashes}{name}`{hint}"))
}

fn unknown_command(word: &str) -> InputError {
    let hint = match closest(word, words()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the commands are {}", words().collect::<Vec<_>>().join(", ")),
    };
    // A word this short and unknown is not a secret, but a long one could be a pasted value.
    let shown = if word.len() <= 20 && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        format!(" `{word}`")
    } else {
        String::new()
    };
    InputError::arguments(format!("unknown command{shown}; {hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Invocation, InputError> {
        parse(args.iter().map(OsString::from).collect())
    }

    fn run(args: &[&str]) -> RunArgs {
        match parse_strs(args) {
            Ok(Invocation::Run(r)) => r,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        parse_strs(args).unwrap_err().to_string()
    }

    #[test]
    fn no_arguments_means_usage() {
        assert_eq!(parse(Vec::new()).unwrap(), Invocation::Usage);
    }

    #[test]
    fn command_flags_and_values() {
        let r = run(&["wait", "--worker", "w", "--timeout=90s", "--build-uuid", "-x-"]);
        assert_eq!(r.command, Some(Command::Wait));
        assert_eq!(
            r.flags,
            vec![(Key::Worker, "w".into()), (Key::Timeout, "90s".into()), (Key::BuildUuid, "-x-".into())]
        );
        let r = run(&["--worker", "w"]);
        assert_eq!(r.command, None, "the command may come from the `command` input");
    }

    #[test]
    fn switches_need_no_value() {
        let r = run(&["deploy", "--rollback", "--worker", "x"]);
        assert_eq!(r.flags, vec![(Key::Rollback, "true".into()), (Key::Worker, "x".into())]);
        let r = run(&["deploy", "--rollback", "false", "--worker", "x"]);
        assert_eq!(r.flags[0], (Key::Rollback, "false".into()));
        let r = run(&["deploy", "--rollback=FALSE"]);
        assert_eq!(r.flags[0], (Key::Rollback, "FALSE".into()));
        assert!(err(&["deploy", "--rollback=maybe"]).contains("`rollback`"));
    }

    #[test]
    fn double_dash_ends_flags() {
        assert_eq!(run(&["--", "build"]).command, Some(Command::Build));
        assert!(err(&["build", "--", "--worker"]).contains("unexpected extra argument"));
    }

    #[test]
    fn repeated_flags_are_refused() {
        assert!(err(&["build", "--worker", "a", "--worker=b"]).contains("`--worker` is given twice"));
        assert!(err(&["simulate", "--port", "1", "--port", "2"]).contains("given twice"));
    }

    #[test]
    fn typos_get_suggestions() {
        assert!(err(&["build", "--wroker", "x"]).contains("did you mean `--worker`?"));
        assert!(err(&["build", "--api_token", "x"]).contains("did you mean `--api-token`?"));
        assert!(err(&["biuld"]).contains("did you mean `build`?"));
        assert!(err(&["deplyo"]).contains("did you mean `deploy`?"));
        assert!(err(&["simulate", "--prot", "1"]).contains("did you mean `--port`?"));
        assert!(err(&["build", "--zzzzzzzz"]).contains("workers-ci --help"));
    }

    #[test]
    fn flags_of_another_command_are_refused() {
        let e = err(&["build", "--versions", "x"]);
        assert!(e.contains("`--versions` is not an input of `build`") && e.contains("deploy"), "{e}");
    }

    #[test]
    fn help_everywhere() {
        assert_eq!(parse_strs(&["--help"]).unwrap(), Invocation::Help(Topic::General));
        assert_eq!(parse_strs(&["help"]).unwrap(), Invocation::Help(Topic::General));
        assert_eq!(parse_strs(&["help", "build"]).unwrap(), Invocation::Help(Topic::Command(Command::Build)));
        assert_eq!(parse_strs(&["wait", "--help"]).unwrap(), Invocation::Help(Topic::Command(Command::Wait)));
        assert_eq!(parse_strs(&["deploy", "-h"]).unwrap(), Invocation::Help(Topic::Command(Command::Deploy)));
        assert_eq!(parse_strs(&["simulate", "--help"]).unwrap(), Invocation::Help(Topic::Simulate));
        assert_eq!(parse_strs(&["help", "demo"]).unwrap(), Invocation::Help(Topic::Demo));
        assert!(err(&["help", "biuld"]).contains("did you mean `build`?"));
    }

    #[test]
    fn values_are_never_echoed() {
        let e = err(&["build", "--worker"]);
        assert!(e.contains("`worker`") && e.contains("needs a value"), "{e}");
        let e = err(&["tok_SECRET_value_pasted_here_1234567890"]);
        assert!(!e.contains("tok_SECRET"), "{e}");
        let e = err(&["build", "stray-secret-value"]);
        assert!(!e.contains("stray-secret-value"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_is_an_input_error() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0x6f, 0x80, 0x6f]);
        let e = parse(vec![OsString::from("build"), OsString::from("--worker"), bad.clone()]).unwrap_err();
        assert_eq!(e.input(), "worker");
        assert!(parse(vec![bad]).is_err());
    }

    #[test]
    fn simulate_and_demo_flags() {
        assert_eq!(
            parse_strs(&["simulate", "--port", "0", "--config", "c.json"]).unwrap(),
            Invocation::Simulate(SimulateArgs { port: 0, config: Some("c.json".into()), outcome: None, github: false })
        );
        assert!(err(&["simulate", "--port", "99999"]).contains("port number"));
        assert_eq!(
            parse_strs(&["demo", "--outcome", "fail"]).unwrap(),
            Invocation::Demo(DemoArgs { outcome: Some("fail".into()), keep: false })
        );
    }
}

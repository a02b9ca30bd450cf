//! Inputs: one table of every input, read from `--kebab-case` flags, `INPUT_<NAME>` (GitHub
//! Actions) and plain environment fallbacks, in that order of precedence.
//!
//! Empty means unset (the runner exports every declared input, as `""` when it has no
//! default). Values never appear in error messages: a token pasted into the wrong input must
//! not end up in a log.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Build,
    Wait,
    Version,
    Deploy,
}

impl Command {
    pub const ALL: [Command; 4] = [Command::Build, Command::Wait, Command::Version, Command::Deploy];

    pub fn name(self) -> &'static str {
        match self {
            Command::Build => "build",
            Command::Wait => "wait",
            Command::Version => "version",
            Command::Deploy => "deploy",
        }
    }

    pub fn parse(s: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == s)
    }
}

use Command::{Build, Deploy, Version, Wait};

pub struct InputSpec {
    pub name: &'static str,
    /// The commands that read it.
    pub commands: &'static [Command],
    /// The default as documented (`""` for none).
    pub default: &'static str,
    /// Plain environment variables read when neither the flag nor `INPUT_<NAME>` is set.
    pub fallback: &'static [&'static str],
    pub secret: bool,
    pub help: &'static str,
}

const ALL: &[Command] = &[Build, Wait, Version, Deploy];
const BUILDS: &[Command] = &[Build, Wait];

/// Every input. README's table, `--help` and `action.yml` are checked against it by tests.
#[rustfmt::skip]
pub const INPUTS: &[InputSpec] = &[
    InputSpec { name: "command", commands: ALL, default: "build", fallback: &[], secret: false,
        help: "What to do: `build`, `wait`, `version` or `deploy` (may also be the first argument)." },
    InputSpec { name: "api_token", commands: ALL, default: "", fallback: &["CLOUDFLARE_API_TOKEN"], secret: true,
        help: "Cloudflare API token (required). Builds needs a user-scoped token with Workers Builds Configuration: Edit and Workers Scripts: Read; version/deploy need Workers Scripts: Edit." },
    InputSpec { name: "account_id", commands: ALL, default: "", fallback: &["CLOUDFLARE_ACCOUNT_ID"], secret: false,
        help: "Cloudflare account id, 32 hex characters (required)." },
    InputSpec { name: "api_url", commands: ALL, default: "https://api.cloudflare.com/client/v4", fallback: &["CLOUDFLARE_API_BASE_URL"], secret: false,
        help: "API base URL. Plain http is accepted only for loopback (the simulator)." },
    InputSpec { name: "worker", commands: ALL, default: "", fallback: &[], secret: false,
        help: "Worker name (required). `build`/`wait` also take its 32-hex tag, `version`/`deploy` its id." },
    InputSpec { name: "branch", commands: BUILDS, default: "$GITHUB_HEAD_REF, else $GITHUB_REF_NAME", fallback: &[], secret: false,
        help: "Branch to build; picks the trigger." },
    InputSpec { name: "commit", commands: BUILDS, default: "PR head sha on pull_request events, else $GITHUB_SHA", fallback: &[], secret: false,
        help: "Commit to build (`build`) or whose build to follow (`wait`)." },
    InputSpec { name: "trigger", commands: &[Build], default: "the trigger whose branch filters match `branch`", fallback: &[], secret: false,
        help: "Trigger uuid or name." },
    InputSpec { name: "timeout", commands: ALL, default: "30m", fallback: &[], secret: false,
        help: "Overall limit, e.g. `90s`, `30m`, `1h30m`. On expiry the build is cancelled (see `cancel_on_abort`)." },
    InputSpec { name: "logs", commands: BUILDS, default: "true", fallback: &[], secret: false,
        help: "Stream the build log into the CI log." },
    InputSpec { name: "cancel_on_abort", commands: BUILDS, default: "true", fallback: &[], secret: false,
        help: "Cancel the remote build when the job is cancelled (SIGINT/SIGTERM) or `timeout` elapses." },
    InputSpec { name: "output_file", commands: ALL, default: "", fallback: &[], secret: false,
        help: "Also write the outputs to this file: dotenv if it ends in `.env`, JSON if `.json` (for other CI systems)." },
    InputSpec { name: "wait", commands: &[Build], default: "true", fallback: &[], secret: false,
        help: "`false`: start the build, write its outputs and exit 0 at once (follow it later with `command: wait` and `build_uuid`)." },
    InputSpec { name: "build_uuid", commands: &[Wait], default: "", fallback: &[], secret: false,
        help: "Follow this build instead of looking one up by commit." },
    InputSpec { name: "if_no_build", commands: &[Wait], default: "fail", fallback: &[], secret: false,
        help: "`fail` or `pass` when no build for the commit appears in time." },
    InputSpec { name: "dir", commands: &[Version], default: "dist", fallback: &[], secret: false,
        help: "Directory of built output; every file in it becomes a module." },
    InputSpec { name: "main_module", commands: &[Version], default: "the only .js/.mjs at the top of `dir`", fallback: &[], secret: false,
        help: "The module that exports the handler." },
    InputSpec { name: "compatibility_date", commands: &[Version], default: "", fallback: &[], secret: false,
        help: "Compatibility date, YYYY-MM-DD (required)." },
    InputSpec { name: "compatibility_flags", commands: &[Version], default: "", fallback: &[], secret: false,
        help: "Compatibility flags, comma- or newline-separated." },
    InputSpec { name: "bindings", commands: &[Version], default: "", fallback: &[], secret: false,
        help: "JSON array of binding objects, e.g. `[{\"type\":\"kv_namespace\",\"name\":\"KV\",\"namespace_id\":\"…\"}]`." },
    InputSpec { name: "vars", commands: &[Version], default: "", fallback: &[], secret: false,
        help: "KEY=VALUE lines, bound as `plain_text`." },
    InputSpec { name: "secrets", commands: &[Version], default: "", fallback: &[], secret: true,
        help: "KEY=VALUE lines, bound as `secret_text`; every value is masked before anything prints." },
    InputSpec { name: "message", commands: &[Version, Deploy], default: "", fallback: &[], secret: false,
        help: "`workers/message` annotation (at most 1000 bytes)." },
    InputSpec { name: "tag", commands: &[Version], default: "", fallback: &[], secret: false,
        help: "`workers/tag` annotation (at most 100 bytes)." },
    InputSpec { name: "create_worker", commands: &[Version], default: "true", fallback: &[], secret: false,
        help: "Create the Worker when it does not exist." },
    InputSpec { name: "deploy", commands: &[Version], default: "false", fallback: &[], secret: false,
        help: "`false`, `true` (100 %), or a percentage (e.g. `10`) for a gradual rollout beside the version now at 100 %." },
    InputSpec { name: "versions", commands: &[Deploy], default: "", fallback: &[], secret: false,
        help: "ID[@PERCENT] items, comma- or newline-separated, at most two, percentages summing to 100." },
    InputSpec { name: "force", commands: &[Deploy], default: "false", fallback: &[], secret: false,
        help: "Deploy even where Cloudflare would block it (e.g. rolling back past a secret change)." },
    InputSpec { name: "rollback", commands: &[Deploy], default: "false", fallback: &[], secret: false,
        help: "Deploy the previous deployment's version at 100 % (instead of `versions`)." },
];

pub fn spec(name: &str) -> Option<&'static InputSpec> {
    INPUTS.iter().find(|s| s.name == name)
}

/// `api_token` → `--api-token`
pub fn flag_name(name: &str) -> String {
    format!("--{}", name.replace('_', "-"))
}

/// `api_token` → `INPUT_API_TOKEN`
pub fn env_name(name: &str) -> String {
    format!("INPUT_{}", name.to_uppercase())
}

/// A bad input. The message names the input and how to fix it, and never its value.
#[derive(Debug, PartialEq, Eq)]
pub struct InputError {
    pub input: String,
    pub problem: String,
}

impl InputError {
    pub fn new(input: &str, problem: impl Into<String>) -> Self {
        InputError { input: input.to_owned(), problem: problem.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if spec(&self.input).is_some() {
            write!(
                f,
                "input `{}` ({}, {}): {}",
                self.input,
                env_name(&self.input),
                flag_name(&self.input),
                self.problem
            )
        } else {
            write!(f, "{}: {}", self.input, self.problem)
        }
    }
}

impl std::error::Error for InputError {}

/// The inputs as given, before any interpretation.
#[derive(Debug, Default)]
pub struct Inputs {
    values: HashMap<&'static str, String>,
    /// The first positional argument (`workers-ci wait …`).
    pub positional: Option<String>,
}

impl Inputs {
    /// Reads flags from `args` (without the program name) and the environment through `env`.
    pub fn collect(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Inputs, InputError> {
        let mut inputs = Inputs::default();
        let mut flags: HashMap<&'static str, String> = HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if let Some(body) = arg.strip_prefix("--") {
                let (name, inline) = match body.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (body, None),
                };
                let key = name.replace('-', "_");
                let Some(s) = spec(&key) else {
                    return Err(InputError::new(
                        "arguments",
                        format!("unknown flag `--{name}`; run `workers-ci --help` for the list"),
                    ));
                };
                let value = match inline {
                    Some(v) => v,
                    None => it.next().cloned().ok_or_else(|| InputError::new(s.name, "the flag needs a value"))?,
                };
                flags.insert(s.name, value);
            } else if inputs.positional.is_none() {
                inputs.positional = Some(arg.clone());
            } else {
                return Err(InputError::new(
                    "arguments",
                    "unexpected extra argument; inputs are given as `--name value`",
                ));
            }
        }
        for s in INPUTS {
            let from_flag = flags.remove(s.name);
            let value = from_flag
                .or_else(|| env(&env_name(s.name)))
                .filter(|v| !v.trim().is_empty())
                .or_else(|| s.fallback.iter().find_map(|f| env(f).filter(|v| !v.trim().is_empty())));
            if let Some(v) = value {
                inputs.values.insert(s.name, v.trim().to_owned());
            }
        }
        Ok(inputs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn set(&mut self, name: &'static str, value: &str) {
        self.values.insert(name, value.to_owned());
    }

    pub fn require(&self, name: &str, how: &str) -> Result<&str, InputError> {
        self.get(name).ok_or_else(|| InputError::new(name, format!("is required; {how}")))
    }

    /// The toolkit's `getBooleanInput` rule (YAML 1.2 core schema).
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, InputError> {
        match self.get(name) {
            None => Ok(default),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some("false" | "False" | "FALSE") => Ok(false),
            Some(_) => Err(InputError::new(name, "must be `true` or `false`")),
        }
    }

    pub fn duration(&self, name: &str, default: Duration) -> Result<Duration, InputError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => parse_duration(v).ok_or_else(|| {
                InputError::new(name, "is not a duration; write it like `90s`, `30m` or `1h30m` (at most 24h)")
            }),
        }
    }

    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.get(name).map(PathBuf::from)
    }
}

/// `90s`, `30m`, `1h30m`, `500ms`, or a bare number of seconds; between 1 ms and 24 h.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs)).filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return None,
        };
        total = total.checked_add(unit.checked_mul(u32::try_from(n).ok()?)?)?;
        rest = &rest[unit_len..];
    }
    Some(total).filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400))
}

/// A Worker name as Cloudflare allows it: `^[a-z0-9_][a-z0-9-_]*$`, at most 63 characters.
pub fn is_worker_name(s: &str) -> bool {
    s.len() <= 63
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn precedence_flag_then_input_then_fallback() {
        let env = env_of(&[
            ("INPUT_API_TOKEN", "from-input"),
            ("CLOUDFLARE_API_TOKEN", "from-fallback"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("INPUT_ACCOUNT_ID", "  "),
        ]);
        let i = Inputs::collect(&[], &env).unwrap();
        assert_eq!(i.get("api_token"), Some("from-input"));
        assert_eq!(i.get("account_id"), Some("acc"), "an empty INPUT_ falls through to the fallback");
        let args: Vec<String> = ["wait", "--api-token", "from-flag", "--timeout=90s"].map(String::from).to_vec();
        let i = Inputs::collect(&args, &env).unwrap();
        assert_eq!(i.get("api_token"), Some("from-flag"));
        assert_eq!(i.get("timeout"), Some("90s"));
        assert_eq!(i.positional.as_deref(), Some("wait"));
    }

    #[test]
    fn errors_name_the_input_not_the_value() {
        let env = env_of(&[("INPUT_LOGS", "yes-secret-ish"), ("INPUT_TIMEOUT", "soon")]);
        let i = Inputs::collect(&[], &env).unwrap();
        let e = i.bool("logs", true).unwrap_err().to_string();
        assert!(e.contains("`logs`") && e.contains("INPUT_LOGS") && e.contains("--logs"), "{e}");
        assert!(!e.contains("yes-secret-ish"));
        let e = i.duration("timeout", Duration::from_secs(1)).unwrap_err().to_string();
        assert!(!e.contains("soon"), "{e}");
        let e = Inputs::collect(&["--nope".into()], &env).unwrap_err().to_string();
        assert!(e.contains("--nope"));
    }

    #[test]
    fn booleans_follow_the_toolkit() {
        for (v, want) in [
            ("true", Some(true)),
            ("True", Some(true)),
            ("TRUE", Some(true)),
            ("false", Some(false)),
            ("FALSE", Some(false)),
            ("yes", None),
            ("1", None),
            ("tRue", None),
        ] {
            let mut i = Inputs::default();
            i.set("logs", v);
            assert_eq!(i.bool("logs", true).ok(), want, "{v}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        for bad in ["", "0", "0s", "m", "5x", "1.5h", "25h", "-1s", "99999999999999999999s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10"));
        assert!(!is_uuid("0f8b3f2e6f1c4a599d652f2c1c7f3a10"));
        assert!(!is_uuid("0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a1g"));
    }
}

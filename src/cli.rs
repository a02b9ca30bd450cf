//! The command line: parse, validate every input before any request, run the flow, and hand
//! the pipeline its outputs, summary and exit code whatever happened.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;

use crate::ci::console::Console;
use crate::ci::outputs::FileFormat;
use crate::cloudflare::{Client, ClientConfig, ClientInitError};
use crate::exit::{Exit, Failure};
use crate::flows::{self, Ctx, Report};
use crate::inputs::{Command, INPUTS, InputError, Inputs, env_name, flag_name};
use crate::pace::Pace;

pub const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";

/// Process entry: runs [`run`] on a current-thread runtime and turns its result into an exit
/// code, printing the error (never a panic) when there is one.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("workers-ci: error: could not start the async runtime: {e}");
            return Exit::Internal.into();
        }
    };
    let console = Console::from_env();
    match runtime.block_on(run(args, &console)) {
        Ok(exit) => exit.into(),
        Err(err) => {
            let exit = exit_for(&err);
            console.error("workers-ci", &format!("{err:#}"));
            exit.into()
        }
    }
}

/// The exit code an error earns.
pub fn exit_for(err: &anyhow::Error) -> Exit {
    if let Some(f) = err.downcast_ref::<Failure>() {
        return f.exit;
    }
    if err.downcast_ref::<InputError>().is_some() {
        return Exit::BadInput;
    }
    if err.downcast_ref::<crate::cloudflare::ApiError>().is_some() {
        return Exit::Api;
    }
    Exit::Internal
}

pub async fn run(args: Vec<String>, console: &Console) -> anyhow::Result<Exit> {
    match args.first().map(String::as_str) {
        Some("-h" | "--help" | "help") => {
            print!("{}", help());
            return Ok(Exit::Success);
        }
        Some("-V" | "--version") => {
            println!("workers-ci {}", env!("CARGO_PKG_VERSION"));
            return Ok(Exit::Success);
        }
        Some("simulate") => return crate::demo::simulate(&args[1..]).await,
        Some("demo") => return crate::demo::demo(&args[1..]).await,
        _ => {}
    }
    let env = |k: &str| std::env::var(k).ok();
    let mut inputs = Inputs::collect(&args, &env)?;
    github_defaults(&mut inputs, &env);
    let pace = Pace::from_env_for(inputs.get("api_url").unwrap_or(DEFAULT_API_URL));
    run_with(inputs, console, pace).await
}

/// Everything after input collection; the demo enters here too.
pub async fn run_with(inputs: Inputs, console: &Console, pace: Pace) -> anyhow::Result<Exit> {
    // Masked before anything else is printed, in case the token did not come from a secret.
    if let Some(t) = inputs.get("api_token") {
        console.mask(t);
    }
    let command = match inputs.positional.as_deref().or(inputs.get("command")) {
        None => Command::Build,
        Some(c) => Command::parse(c)
            .ok_or_else(|| InputError::new("command", "must be `build`, `wait`, `version` or `deploy`"))?,
    };
    let common = Common::from_inputs(&inputs)?;
    let flow = match command {
        Command::Build => Flow::Build(flows::build::BuildArgs::from_inputs(&inputs)?),
        Command::Wait => Flow::Wait(flows::wait::WaitArgs::from_inputs(&inputs)?),
        Command::Version => {
            let args = flows::version::VersionArgs::from_inputs(&inputs)?;
            for secret in args.secrets() {
                console.mask(secret);
            }
            Flow::Version(Box::new(args))
        }
        Command::Deploy => Flow::Deploy(flows::deploy::DeployArgs::from_inputs(&inputs)?),
    };
    // Inputs are valid: from here on, requests may be sent.
    let signals = crate::signal::install().context("could not install the signal handlers")?;
    let deadline = tokio::time::Instant::now() + common.timeout;
    let client = Client::new(ClientConfig {
        base_url: common.api_url.clone(),
        account_id: common.account_id.clone(),
        token: common.token,
        pace,
        deadline: Some(deadline),
    })
    .map_err(|e| -> anyhow::Error {
        match e {
            ClientInitError::TokenNotHeaderSafe => InputError::new("api_token", e.to_string()).into(),
            ClientInitError::Http(source) => {
                Failure::new(Exit::Internal, format!("could not set up the HTTP client (TLS): {source}")).into()
            }
        }
    })?;
    let ctx = Ctx {
        client,
        console: console.fresh(),
        pace,
        deadline,
        timeout: common.timeout,
        signals,
        report: Mutex::new(Report::default()),
    };
    ctx.summary(|s| *s = crate::ci::summary::Summary::new(&format!("workers-ci {}", command.name())));
    let started = std::time::Instant::now();
    let result = match flow {
        Flow::Build(a) => flows::build::run(&ctx, a).await,
        Flow::Wait(a) => flows::wait::run(&ctx, a).await,
        Flow::Version(a) => flows::interruptible(&ctx, flows::version::run(&ctx, *a)).await,
        Flow::Deploy(a) => flows::interruptible(&ctx, flows::deploy::run(&ctx, a)).await,
    };
    ctx.console.debug(&usage(&ctx, started));
    let mut report = ctx.report.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Err(e) = &result {
        report.summary.code("Error", format!("{e:#}").lines().map(str::to_owned).collect());
    }
    let written = finish(console, &report.outputs, &report.summary, common.output_file.as_ref());
    match (result, written) {
        (Ok(exit), Ok(())) => Ok(exit),
        (Ok(_), Err(e)) | (Err(e), Ok(())) => Err(e),
        (Err(e), Err(w)) => {
            console.warning(&format!("{w:#}"));
            Err(e)
        }
    }
}

/// What the run cost: shown with step debug logging, and read by the benchmarks.
fn usage(ctx: &Ctx, started: std::time::Instant) -> String {
    let peak = peak_rss_kib().map_or_else(String::new, |k| format!(", peak RSS {:.1} MiB", k as f64 / 1024.0));
    format!("usage: {} API requests in {:.1}s{peak}", ctx.client.requests_sent(), started.elapsed().as_secs_f64())
}

/// The process's peak resident set (Linux `VmHWM`); `None` elsewhere.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

enum Flow {
    Build(flows::build::BuildArgs),
    Wait(flows::wait::WaitArgs),
    Version(Box<flows::version::VersionArgs>),
    Deploy(flows::deploy::DeployArgs),
}

/// Inputs every command shares.
struct Common {
    token: String,
    account_id: String,
    api_url: String,
    timeout: Duration,
    output_file: Option<(PathBuf, FileFormat)>,
}

impl Common {
    fn from_inputs(i: &Inputs) -> Result<Common, InputError> {
        let token = i
            .require("api_token", "pass a Cloudflare API token as the `api_token` input (e.g. `${{ secrets.CLOUDFLARE_API_TOKEN }}`) or the CLOUDFLARE_API_TOKEN environment variable")?
            .to_owned();
        let account_id = i.require("account_id", "pass the account id as `account_id` or CLOUDFLARE_ACCOUNT_ID")?;
        if account_id.len() != 32 || !account_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InputError::new(
                "account_id",
                "must be the 32-character hexadecimal account id (dashboard → Account home → Account ID)",
            ));
        }
        let api_url = i.get("api_url").unwrap_or(DEFAULT_API_URL);
        check_api_url(api_url)?;
        let output_file = match i.path("output_file") {
            None => None,
            Some(p) => {
                let format = FileFormat::for_path(&p)
                    .ok_or_else(|| InputError::new("output_file", "must end in `.env` (dotenv) or `.json`"))?;
                let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if !parent.is_dir() {
                    return Err(InputError::new(
                        "output_file",
                        "is in a directory that does not exist; create it first",
                    ));
                }
                Some((p, format))
            }
        };
        Ok(Common {
            token,
            account_id: account_id.to_ascii_lowercase(),
            api_url: api_url.trim_end_matches('/').to_owned(),
            timeout: i.duration("timeout", Duration::from_secs(30 * 60))?,
            output_file,
        })
    }
}

/// https anywhere; plain http only to this machine, where the simulator runs. A token sent
/// over plain http to anywhere else would be readable on the way.
fn check_api_url(url: &str) -> Result<(), InputError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| InputError::new("api_url", "is not a URL; the default is https://api.cloudflare.com/client/v4"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(InputError::new(
                    "api_url",
                    "must use https (plain http is accepted only for 127.0.0.1, ::1 or localhost)",
                ))
            }
        }
        _ => Err(InputError::new("api_url", "must be an https URL")),
    }
}

/// GitHub's notion of "this branch" and "this commit". On pull_request events GITHUB_SHA is a
/// merge commit Cloudflare never saw, so the PR head is read from the event payload.
fn github_defaults(inputs: &mut Inputs, env: &dyn Fn(&str) -> Option<String>) {
    let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    if inputs.get("branch").is_none()
        && let Some(b) = set(env("GITHUB_HEAD_REF")).or_else(|| set(env("GITHUB_REF_NAME")))
    {
        inputs.set("branch", &b);
    }
    if inputs.get("commit").is_none() {
        let pr_head = matches!(env("GITHUB_EVENT_NAME").as_deref(), Some("pull_request" | "pull_request_target"))
            .then(|| env("GITHUB_EVENT_PATH"))
            .flatten()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| pr_head_sha(&bytes));
        if let Some(c) = set(pr_head).or_else(|| set(env("GITHUB_SHA"))) {
            inputs.set("commit", &c);
        }
    }
}

/// The pull request's head commit from a webhook event payload (untrusted bytes).
pub fn pr_head_sha(event: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(event).ok()?;
    v.pointer("/pull_request/head/sha")?.as_str().map(str::to_owned)
}

/// Writes outputs and summary. On GitHub: the outputs file and step summary. Elsewhere: the
/// outputs as text. Both: `output_file` when asked.
fn finish(
    console: &Console,
    outputs: &crate::ci::outputs::Outputs,
    summary: &crate::ci::summary::Summary,
    output_file: Option<&(PathBuf, FileFormat)>,
) -> anyhow::Result<()> {
    let mut failed = Vec::new();
    if console.is_github() {
        if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty())
            && let Err(e) = outputs.append_github(Path::new(&path))
        {
            failed.push(format!("the outputs file ($GITHUB_OUTPUT): {e}"));
        }
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
            && !summary.is_empty()
            && let Err(e) = summary.append_to(Path::new(&path))
        {
            console.warning(&format!("could not write the job summary: {e}"));
        }
    } else if !outputs.is_empty() {
        console.info(&format!("Outputs:\n{}", outputs.render_plain().trim_end()));
    }
    if let Some((path, format)) = output_file
        && let Err(e) = outputs.write_file(path, *format)
    {
        failed.push(format!("`output_file`: {e}"));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(Exit::Internal, format!("could not write {}", failed.join("; "))).into())
    }
}

pub fn help() -> String {
    let mut h = String::from(
        "workers-ci: start, follow, version and deploy Cloudflare Workers from CI.\n\n\
         USAGE:\n  workers-ci [build|wait|version|deploy] [--input-name value]...\n  workers-ci demo       a build, a version upload and a 10 % rollout against the embedded simulator (no account needed)\n  \
         workers-ci simulate [--port N] [--config FILE]   serve the Cloudflare API simulator\n\n\
         Every input is read from the flag, else from INPUT_<NAME> (GitHub Actions), else from the\n\
         fallback variable shown. Empty values count as unset.\n\nINPUTS:\n",
    );
    for s in INPUTS {
        let commands: Vec<&str> = s.commands.iter().map(|c| c.name()).collect();
        h.push_str(&format!("  {:<22} {} [{}]\n", flag_name(s.name), s.help, commands.join(", ")));
        let mut extra = vec![env_name(s.name)];
        extra.extend(s.fallback.iter().map(|f| (*f).to_owned()));
        let default = if s.default.is_empty() { String::new() } else { format!("; default: {}", s.default) };
        h.push_str(&format!("  {:<22} env: {}{}\n", "", extra.join(", "), default));
    }
    h.push_str("\nOUTPUTS:\n");
    for (name, help) in OUTPUTS {
        h.push_str(&format!("  {name:<16} {help}\n"));
    }
    h.push_str("\nEXIT CODES:\n");
    for e in Exit::ALL {
        h.push_str(&format!("  {:<4} {}\n", e.code(), e.meaning()));
    }
    h
}

/// Every output; README and action.yml are checked against this list.
pub const OUTPUTS: &[(&str, &str)] = &[
    ("build_uuid", "the build's uuid"),
    ("build_status", "last status seen: queued, initializing, running, stopped (`not_found` for `wait`)"),
    ("build_outcome", "success, fail, skipped, cancelled or terminated (empty while not stopped)"),
    ("worker_tag", "the Worker's 32-hex tag"),
    ("trigger_uuid", "the trigger that built it"),
    ("branch", "the branch built"),
    ("commit", "the commit built"),
    ("preview_url", "the preview URL, when Cloudflare returns one"),
    ("worker_id", "`version`/`deploy`: the Worker's id"),
    ("version_id", "`version`: the uploaded version; `deploy`: the version given most traffic"),
    ("version_number", "`version`: the version's number"),
    ("version_url", "`version`: the first URL that always serves this version, if any"),
    ("deployment_id", "`version` with `deploy`, and `deploy`: the deployment created"),
    (
        "workers_dev_url",
        "`version`/`deploy`: https://<worker>.<subdomain>.workers.dev, when the account has a subdomain",
    ),
];

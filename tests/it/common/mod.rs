//! Shared test harness: an in-process simulator, the real binary run against it, and a reader
//! of stdout and the outputs file that behaves like the GitHub runner.
#![allow(dead_code, unused_imports)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub mod wrangler;

pub use workers_ci_simulator::{
    BuildProfile, D1Seed, Fault, FaultAction, GitHubConfig, ListOrder, RateLimit, SimConfig, Simulator, Snapshot,
    WorkerSeed,
};

/// A token no output may ever contain.
pub const TOKEN: &str = "tok_SECRET-9f3a1c-do-not-print";
/// Client waits are scaled by this: a 4 s poll becomes 80 ms.
pub const TIME_SCALE: &str = "0.02";

pub fn fast_profile() -> BuildProfile {
    BuildProfile { queued_ms: 300, initializing_ms: 200, running_ms: 1200, ..BuildProfile::default() }
}

pub fn sim_with(profile: BuildProfile) -> Simulator {
    Simulator::start_background(SimConfig { build: profile, ..SimConfig::default() }).expect("simulator starts")
}

pub fn sim() -> Simulator {
    sim_with(fast_profile())
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_workers-ci")
}

/// One invocation of the binary, GitHub-style: inputs as INPUT_*, runner files in a temp dir.
pub struct Invocation {
    pub env: HashMap<String, String>,
    pub args: Vec<String>,
    pub dir: tempfile::TempDir,
    pub github: bool,
    /// Where the binary runs: the invocation's own temporary directory unless set, so no test
    /// runs inside this project's Git checkout by accident (`build` resolves short hashes there).
    pub cwd: Option<PathBuf>,
    /// Secret values passed in plain environment variables (`setup`'s secrets), which the run
    /// must mask and never show.
    pub env_secrets: Vec<String>,
}

impl Invocation {
    pub fn new(sim: &Simulator) -> Invocation {
        let mut env = HashMap::new();
        env.insert("INPUT_API_TOKEN".into(), TOKEN.into());
        env.insert("INPUT_ACCOUNT_ID".into(), sim.account_id());
        env.insert("INPUT_API_URL".into(), sim.base_url());
        env.insert("INPUT_WORKER".into(), "my-worker".into());
        env.insert("INPUT_BRANCH".into(), "main".into());
        env.insert("INPUT_COMMIT".into(), "0123456789abcdef0123456789abcdef01234567".into());
        env.insert("INPUT_TIMEOUT".into(), "60s".into());
        env.insert("WORKERS_CI_TIME_SCALE".into(), TIME_SCALE.into());
        // Step debug logging on, as the secret sweep demands: debug output must not leak either.
        env.insert("RUNNER_DEBUG".into(), "1".into());
        Invocation {
            env,
            args: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
            github: true,
            cwd: None,
            env_secrets: Vec::new(),
        }
    }

    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.env.insert(format!("INPUT_{}", name.to_uppercase()), value.into());
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.env.remove(&format!("INPUT_{}", name.to_uppercase()));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// A secret value in a plain environment variable: set, and declared as a secret.
    pub fn secret_env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.into(), value.into());
        self.env_secrets.push(value.into());
        self
    }

    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_owned());
        self
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn plain(mut self) -> Self {
        self.github = false;
        self
    }

    pub fn outputs_path(&self) -> PathBuf {
        self.dir.path().join("github_output")
    }

    pub fn summary_path(&self) -> PathBuf {
        self.dir.path().join("step_summary")
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(bin());
        c.env_clear().args(&self.args).envs(&self.env).stdin(Stdio::null());
        c.current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()));
        if self.args.is_empty() {
            // What action.yml's run step does: the command input, as a flag.
            c.arg("--command").arg(self.env.get("INPUT_COMMAND").map_or("", String::as_str));
        }
        if self.github {
            std::fs::write(self.outputs_path(), "").unwrap();
            c.env("GITHUB_ACTIONS", "true")
                .env("GITHUB_OUTPUT", self.outputs_path())
                .env("GITHUB_STEP_SUMMARY", self.summary_path());
        }
        c
    }

    pub fn run(&self) -> Run {
        let started = Instant::now();
        let out = self.command().output().expect("binary runs");
        self.collect(out.status.code(), out.stdout, out.stderr, started.elapsed())
    }

    pub fn spawn(&self) -> Child {
        self.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("binary starts")
    }

    /// Starts the binary with its stdout read line by line as it comes, so that a test can wait
    /// for what the binary says before acting (see [`Watched`]).
    pub fn watch(&self) -> Watched {
        Watched::new(self.spawn())
    }

    /// The secrets of this invocation: the token and every `secrets` value.
    pub fn secrets(&self) -> Vec<String> {
        let mut s = vec![self.env.get("INPUT_API_TOKEN").cloned().unwrap_or_else(|| TOKEN.to_owned())];
        for input in ["INPUT_SECRETS", "INPUT_SET_SECRET"] {
            if let Some(lines) = self.env.get(input) {
                s.extend(
                    lines.lines().filter_map(|l| l.split_once('=')).map(|(_, v)| v.to_owned()).filter(|v| v.len() >= 4),
                );
            }
        }
        if let Some(t) = self.env.get("INPUT_GITHUB_TOKEN").filter(|t| !t.is_empty()) {
            s.push(t.clone());
        }
        s.extend(self.env_secrets.iter().cloned());
        s
    }

    /// Every run is checked the way the runner would read it: outputs file strictly parsed,
    /// no workflow command but ours, and no secret anywhere a person could see it.
    pub fn collect(&self, code: Option<i32>, stdout: Vec<u8>, stderr: Vec<u8>, elapsed: Duration) -> Run {
        let run = self.collect_unchecked(code, stdout, stderr, elapsed);
        let secrets = self.secrets();
        if self.github {
            assert_only_our_commands_masking(&run, &secrets);
        }
        for secret in &secrets {
            run.assert_no_secret(secret);
        }
        self.assert_within_the_commands_facts(&run);
        run
    }

    /// The command this invocation runs, as the binary picks it: the first argument, else
    /// `INPUT_COMMAND`, else `build`. `None` for help, `--version`, `simulate`, `demo`, and a
    /// command name the binary refuses.
    pub fn command_run(&self) -> Option<workers_ci::commands::Command> {
        use workers_ci::commands::Command;
        if self.args.iter().any(|a| matches!(a.as_str(), "-h" | "--help" | "help" | "-V" | "--version")) {
            return None;
        }
        match self.args.iter().find(|a| !a.starts_with('-')) {
            Some(first) if Command::parse(first).is_some() => Command::parse(first),
            Some(_) => None,
            None => match self.env.get("INPUT_COMMAND").map(|c| c.trim()).filter(|c| !c.is_empty()) {
                Some(c) => Command::parse(c),
                None => Some(Command::Build),
            },
        }
    }

    /// Every run checks the command's facts, which `--help` and README print: it ended with a
    /// code its facts list, and wrote only outputs they list.
    fn assert_within_the_commands_facts(&self, run: &Run) {
        let Some(command) = self.command_run() else { return };
        if run.code >= 0 {
            let listed: Vec<i32> = command.exits().iter().map(|e| i32::from(e.code())).collect();
            assert!(
                listed.contains(&run.code),
                "`{}` exited {}, which its facts (and `workers-ci help {}`) do not list: {listed:?}\n{}\n{}",
                command.name(),
                run.code,
                command.name(),
                run.stdout,
                run.stderr
            );
        }
        for (name, _) in &run.outputs {
            let known = workers_ci::commands::OUTPUTS.iter().find(|o| o.name == name.as_str());
            assert!(
                known.is_some_and(|o| command.writes(o.key)),
                "`{}` wrote output `{name}`, which its facts do not list",
                command.name()
            );
        }
    }

    pub fn collect_unchecked(&self, code: Option<i32>, stdout: Vec<u8>, stderr: Vec<u8>, elapsed: Duration) -> Run {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let text =
            |b: Vec<u8>| String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let outputs_text = read(&self.outputs_path());
        Run {
            code: code.unwrap_or(-1),
            stdout: text(stdout),
            stderr: text(stderr),
            outputs: parse_outputs_file(&outputs_text),
            outputs_text,
            summary: read(&self.summary_path()),
            elapsed,
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: Vec<(String, String)>,
    pub outputs_text: String,
    pub summary: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn output(&self, name: &str) -> Option<&str> {
        self.outputs.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn view(&self) -> RunnerView {
        runner_view(&self.stdout)
    }

    /// Everything a user or log collector could see.
    pub fn everything(&self) -> String {
        format!("{}\n{}\n{}\n{}", self.stdout, self.stderr, self.outputs_text, self.summary)
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// `::add-mask::` lines are exempt: the runner consumes them without echoing them, and
    /// registering the secret is their whole point.
    pub fn assert_no_secret(&self, secret: &str) -> &Self {
        let shown: String =
            self.everything().lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
        assert!(!shown.contains(secret), "a secret leaked:\n{shown}");
        self
    }
}

/// The runner's outputs-file parser; a malformed file fails the test, as it fails the step.
pub fn parse_outputs_file(text: &str) -> Vec<(String, String)> {
    workers_ci::testing::read_as_runner(text)
        .unwrap_or_else(|e| panic!("the runner would reject the outputs file: {e}\n{text}"))
}

/// What the runner makes of stdout: the commands it would execute, and the lines it shows.
#[derive(Debug, Default)]
pub struct RunnerView {
    pub commands: Vec<RunnerCommand>,
    /// Lines shown as text, in order, with their block: `Some(n)` inside the n-th
    /// stop-commands block.
    pub shown: Vec<(Option<usize>, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerCommand {
    pub name: String,
    pub properties: String,
    pub data: String,
    pub legacy: bool,
}

impl RunnerView {
    pub fn names(&self) -> Vec<&str> {
        self.commands.iter().map(|c| c.name.as_str()).collect()
    }

    /// The text shown inside stop-commands blocks (the untrusted lines), with our invisible
    /// neutralising characters removed.
    pub fn untrusted_lines(&self) -> Vec<String> {
        self.shown.iter().filter(|(b, _)| b.is_some()).map(|(_, l)| l.replace('\u{200B}', "")).collect()
    }
}

/// The runner's ActionCommandManager/ActionCommand.TryParseV2/TryParse, as
/// docs/github-actions.md §2.4–§2.5 describes them: after leading whitespace a line starting
/// with `::` is a command; `##[` anywhere starts a legacy one; while stopped only `::<token>::`
/// does anything.
pub fn runner_view(stdout: &str) -> RunnerView {
    let mut view = RunnerView::default();
    let mut stopped: Option<String> = None;
    let mut block = 0;
    for line in stdout.lines() {
        if let Some(token) = &stopped {
            if line.trim_start() == format!("::{token}::") {
                stopped = None;
            } else {
                view.shown.push((Some(block), line.to_owned()));
            }
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("::")
            && let Some(end) = rest.find("::")
        {
            let head = &rest[..end];
            let data = &rest[end + 2..];
            let (name, props) = head.split_once(' ').unwrap_or((head, ""));
            let cmd =
                RunnerCommand { name: name.to_lowercase(), properties: props.into(), data: data.into(), legacy: false };
            if cmd.name == "stop-commands" {
                stopped = Some(data.to_owned());
                block += 1;
            }
            view.commands.push(cmd);
            continue;
        }
        if let Some(pos) = line.find("##[") {
            let rest = &line[pos + 3..];
            if let Some(end) = rest.find(']') {
                let head = &rest[..end];
                let (name, props) = head.split_once(' ').unwrap_or((head, ""));
                view.commands.push(RunnerCommand {
                    name: name.to_lowercase(),
                    properties: props.into(),
                    data: rest[end + 1..].into(),
                    legacy: true,
                });
                continue;
            }
        }
        view.shown.push((None, line.to_owned()));
    }
    view
}

/// The only workflow commands workers-ci itself issues.
pub const OUR_COMMANDS: &[&str] =
    &["add-mask", "group", "endgroup", "stop-commands", "error", "warning", "notice", "debug"];

/// Asserts that the runner would execute nothing but our own commands, and that masks
/// register only `secrets`.
pub fn assert_only_our_commands_masking(run: &Run, secrets: &[String]) {
    let view = run.view();
    for c in &view.commands {
        assert!(!c.legacy, "a legacy ##[ command would run: {c:?}\n{}", run.stdout);
        assert!(
            OUR_COMMANDS.contains(&c.name.as_str()),
            "the runner would execute a command we did not write: {c:?}\n{}",
            run.stdout
        );
        if c.name == "add-mask" {
            // The runner unescapes a command's data (`%0D`, `%0A`, then `%25`): a value of
            // several lines is registered whole.
            let data = c.data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%");
            assert!(secrets.contains(&data), "only the token and declared secrets are masked, not {:?}", c.data);
        }
        if c.name == "error" || c.name == "warning" || c.name == "notice" {
            let ours =
                c.properties.starts_with("title=workers-ci") || c.properties.starts_with("title=Cloudflare build ");
            assert!(ours, "an annotation we did not write: {c:?}");
        }
    }
}

/// A `version` invocation for `worker` (no build inputs), with no module yet.
pub fn version_invocation(sim: &Simulator, worker: &str) -> Invocation {
    Invocation::new(sim)
        .without("branch")
        .without("commit")
        .input("command", "version")
        .input("worker", worker)
        .input("compatibility_date", "2026-11-01")
}

/// Gives the invocation a `dir` holding one module, `index.js`.
pub fn with_module(inv: Invocation) -> Invocation {
    let dir = inv.dir.path().join("dist");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.js"), "export default { fetch() { return new Response('ok') } }\n").unwrap();
    let dir = dir.to_str().unwrap().to_owned();
    inv.input("dir", &dir)
}

/// A fault hitting the first `times` requests of `method` whose path contains `path`.
pub fn fault(method: &str, path: &str, times: u32, action: FaultAction) -> Fault {
    Fault { method: Some(method.into()), path_contains: Some(path.into()), path_excludes: None, times, skip: 0, action }
}

/// One raw API request to the simulator (any token), for tests that read what Cloudflare
/// would answer rather than what the binary printed.
pub fn call(sim: &Simulator, method: &str, path: &str, body: Option<&serde_json::Value>) -> (u16, serde_json::Value) {
    call_root(sim, method, &format!("/accounts/{}{path}", sim.account_id()), body)
}

/// [`call`] for a path from the API's root (`/zones/...`).
pub fn call_root(
    sim: &Simulator,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let base = sim.base_url();
    let host = base.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let payload = body.map(serde_json::Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} /client/v4{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}")))
}

/// Polls `cond` for up to `limit`.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Requests the binary sent, excluding none.
pub fn requests_matching(sim: &Simulator, method: &str, path_contains: &str) -> usize {
    sim.requests().iter().filter(|r| r.method == method && r.path.contains(path_contains)).count()
}

/// A running binary whose stdout and stderr are drained by threads as they come (a full pipe
/// never blocks it), with stdout's lines also sent to the test so it can wait for one.
pub struct Watched {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl Watched {
    fn new(mut child: Child) -> Watched {
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("stdout is piped");
        let stdout = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut reader = BufReader::new(out);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                all.extend_from_slice(&line);
                let _ = tx.send(String::from_utf8_lossy(&line).trim_end().to_owned());
                line.clear();
            }
            all
        });
        let mut err = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut all = Vec::new();
            let _ = err.read_to_end(&mut all);
            all
        });
        Watched { child, lines, seen: Vec::new(), stdout: Some(stdout), stderr: Some(stderr) }
    }

    /// Waits up to `limit` for a stdout line containing `marker` and returns it; fails the test,
    /// showing what was printed, if none comes (or the binary exits first).
    pub fn wait_for_line(&mut self, marker: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(marker) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no stdout line containing {marker:?} within {limit:?} ({}); printed so far:\n{}",
                    match e {
                        mpsc::RecvTimeoutError::Timeout => "still running",
                        mpsc::RecvTimeoutError::Disconnected => "stdout closed: the binary exited",
                    },
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Sends `sig` (a `kill` name: INT, TERM) to the binary. Fails the test if the binary has
    /// already exited: a reaped PID may belong to another process by now, so it is never signalled.
    pub fn signal(&mut self, sig: &str) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("the binary already exited ({status}) before SIG{sig} could be sent");
        }
        let status =
            Command::new("kill").args([format!("-{sig}"), self.child.id().to_string()]).status().expect("kill runs");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// Whether the binary has exited (reaping it if so).
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_some()
    }

    /// Waits up to `limit` for the binary to exit; its exit code and everything it printed. A
    /// binary still running then is killed and the test fails.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, Vec<u8>, Vec<u8>) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stdout = self.stdout.take().map(|t| t.join().unwrap_or_default()).unwrap_or_default();
                panic!("the binary did not exit within {limit:?}; stdout:\n{}", String::from_utf8_lossy(&stdout));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stdout = self.stdout.take().map(|t| t.join().expect("stdout reader")).unwrap_or_default();
        let stderr = self.stderr.take().map(|t| t.join().expect("stderr reader")).unwrap_or_default();
        (status.code(), stdout, stderr)
    }
}

/// A test that fails midway leaves no binary running behind it.
impl Drop for Watched {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `inv` on a `pull_request` event for PR 7 (the simulated GitHub's default) whose head is
/// `sha`, with GitHub's API at the simulator and the runner's variables set as on Actions.
pub fn on_pull_request(inv: Invocation, sim: &Simulator, sha: &str) -> Invocation {
    let event = inv.dir.path().join("event.json");
    std::fs::write(&event, format!(r#"{{"number":7,"pull_request":{{"number":7,"head":{{"sha":"{sha}"}}}}}}"#))
        .unwrap();
    let event = event.to_str().unwrap().to_owned();
    inv.env("GITHUB_API_URL", &sim.github_url())
        .env("GITHUB_REPOSITORY", "acme/site")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "42")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_SHA", "ffffffffffffffffffffffffffffffffffffffff")
}

/// workers-ci's comments on PR 7, found by their marker.
pub fn our_comments(sim: &Simulator) -> Vec<(u64, String)> {
    sim.github_comments(7).into_iter().filter(|(_, b)| b.starts_with("<!-- workers-ci:")).collect()
}

/// Compares `text` whole with `tests/snapshots/<file>`; with `UPDATE_SNAPSHOTS=1` it rewrites the
/// file first, for a deliberate change to be reviewed in the diff. `module` names the test module
/// to rerun.
pub fn assert_snapshot(file: &str, text: &str, module: &str) {
    let path = format!("{}/tests/snapshots/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("tests/snapshots/{file}: {e}"));
    if text != want {
        let first = text.lines().zip(want.lines()).position(|(a, b)| a != b);
        panic!(
            "the output differs from tests/snapshots/{file} (first differing line: {first:?}); run \
             `UPDATE_SNAPSHOTS=1 cargo test --test it {module}::` and review the diff.\n--- got\n{text}--- want\n{want}"
        );
    }
}

/// The JSON of a multipart body's `metadata` part (the classic upload, docs/cloudflare-api.md
/// Correction 10), as the simulator recorded the body.
pub fn metadata_part(body: &str) -> serde_json::Value {
    let at = body.find("name=\"metadata\"").expect("a metadata part");
    let start = at + body[at..].find("\r\n\r\n").unwrap() + 4;
    let end = start + body[start..].find("\r\n--").unwrap();
    serde_json::from_str(&body[start..end]).unwrap()
}

/// The classic uploads (`PUT /workers/scripts/{worker}`) the simulator received, in order.
pub fn classic_uploads(sim: &Simulator, worker: &str) -> Vec<workers_ci_simulator::RecordedRequest> {
    let path = format!("/workers/scripts/{worker}");
    sim.requests().into_iter().filter(|r| r.method == "PUT" && r.path.ends_with(&path)).collect()
}

/// Requests from the `from`th on that change a trigger or a setting (everything but reads,
/// uploads and deployments), as `METHOD path`.
pub fn trigger_writes(sim: &Simulator, from: usize) -> Vec<String> {
    sim.requests()[from..]
        .iter()
        .filter(|r| r.method != "GET")
        .filter(|r| {
            ["/routes", "/domains", "/schedules", "/consumers", "/script-settings"].iter().any(|p| r.path.contains(p))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The `plan` output's rows, each as the values of `fields` (an apply plan's `resource`, `name`,
/// `action`; a dry run's `method`, `path`, `what`).
pub fn plan_fields(run: &Run, fields: &[&str]) -> Vec<Vec<String>> {
    let rows: serde_json::Value = serde_json::from_str(run.output("plan").expect("plan output")).unwrap();
    rows.as_array()
        .expect("the plan is an array")
        .iter()
        .map(|r| {
            fields
                .iter()
                .map(|f| r[*f].as_str().unwrap_or_else(|| panic!("plan row without {f}: {r}")).to_owned())
                .collect()
        })
        .collect()
}

//! The one input layer: every input the step takes, where it is read from, and every rule it
//! must pass before a request is sent.
//!
//! Inputs come from `--kebab-case` flags, `INPUT_<NAME>` (GitHub Actions) and plain
//! environment fallbacks, in that order of precedence. Empty means unset (the runner exports
//! every declared input, as `""` when it has no default). Values never appear in error
//! messages: a token pasted into the wrong input must not end up in a log.
//!
//! - [`INPUTS`] / [`Key`]: the table (help, README and `action.yml` are checked against it);
//! - [`argv`]: the command line (lexopt);
//! - [`rules`]: the value rules (names, ids, dates, durations, URLs);
//! - [`args`]: each command's typed arguments, built from the inputs;
//! - [`bindings`], [`bundle`]: the `version` command's bindings and module directory;
//! - [`help`]: `--help` text, per command;
//! - [`hint`]: how a message names an input, as the user sets it where they are.

pub(crate) mod args;
pub(crate) mod argv;
pub(crate) mod bindings;
pub(crate) mod build_output;
pub(crate) mod builds_config;
pub(crate) mod bundle;
pub(crate) mod d1;
pub(crate) mod exports;
pub(crate) mod help;
pub(crate) mod hint;
pub(crate) mod rollout;
pub(crate) mod rules;
pub(crate) mod tree;
pub(crate) mod upload;
pub(crate) mod wrangler;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::commands::Command;
use Command::{Build, Deploy, Env, Migrate, Preview, PurgeCache, Redeploy, Setup, Verify, Version, Wait};

/// How an input takes its value on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `--name value` or `--name=value`.
    Value,
    /// A boolean: `--name` alone means true; `--name false` and `--name=false` work too.
    Switch,
}

pub struct InputSpec {
    pub key: Key,
    pub name: &'static str,
    pub kind: Kind,
    /// The commands that read it.
    pub commands: &'static [Command],
    /// The default as documented (`""` for none).
    pub default: &'static str,
    /// Plain environment variables read when neither the flag nor `INPUT_<NAME>` is set.
    pub fallback: &'static [&'static str],
    pub secret: bool,
    pub help: &'static str,
}

const ALL: &[Command] = &Command::ALL;
/// The commands that name their Worker in an input (`setup` names it in its file).
const WITH_WORKER: &[Command] = &[Build, Wait, Version, Deploy, Env, PurgeCache, Redeploy, Preview, Verify];
/// The commands that upload code (a Version, or a Preview deployment): the same inputs.
const VERSION_LIKE: &[Command] = &[Version, Preview];
/// The commands that read a wrangler configuration: those that upload code, `migrate`, and
/// `deploy` for its migrations and for what a deploy applies beyond the version.
const WITH_CONFIG: &[Command] = &[Version, Deploy, Preview, Migrate];
/// The commands that follow a build.
const FOLLOW: &[Command] = &[Build, Wait, Redeploy];
/// The commands that can report to the pull request and GitHub Deployments: those whose facts
/// say so.
const GITHUB: &[Command] = &crate::commands::REPORTING_TO_GITHUB;

/// Declares [`Key`] and [`INPUTS`] from one list, so a key exists exactly when its input does
/// and a misspelt key does not compile.
macro_rules! inputs {
    ($($key:ident => InputSpec { $($field:ident: $value:expr),* $(,)? }),* $(,)?) => {
        /// One variant per input, in [`INPUTS`] order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Key { $($key),* }

        /// Every input. README's table, `--help` and `action.yml` are checked against it by tests.
        pub const INPUTS: &[InputSpec] = &[$(InputSpec { key: Key::$key, $($field: $value),* }),*];
    };
}

#[rustfmt::skip]
inputs! {
    Command => InputSpec { name: "command", kind: Kind::Value, commands: ALL, default: "build", fallback: &[], secret: false,
        help: "What to do: `build`, `wait`, `version`, `deploy`, `setup`, `env`, `purge-cache`, `redeploy`, `preview`, `migrate` or `verify` (may also be the first argument)." },
    ApiToken => InputSpec { name: "api_token", kind: Kind::Value, commands: ALL, default: "", fallback: &["CLOUDFLARE_API_TOKEN"], secret: true,
        help: "Cloudflare API token (required, except by a `dry_run` of `version`, `deploy`, `preview` or `migrate`). Builds needs a user-scoped token with Workers Builds Configuration: Edit and Workers Scripts: Read; version/deploy need Workers Scripts: Edit, and `stages` with its error gate also Account Analytics: Read." },
    AccountId => InputSpec { name: "account_id", kind: Kind::Value, commands: ALL, default: "", fallback: &["CLOUDFLARE_ACCOUNT_ID"], secret: false,
        help: "Cloudflare account id, 32 hex characters (required, except by a `dry_run` of `version`, `deploy` or `preview`, or of `migrate` without `api_token`)." },
    ApiUrl => InputSpec { name: "api_url", kind: Kind::Value, commands: ALL, default: "https://api.cloudflare.com/client/v4", fallback: &["CLOUDFLARE_API_BASE_URL"], secret: false,
        help: "API base URL. Plain http is accepted only for loopback (the simulator)." },
    Worker => InputSpec { name: "worker", kind: Kind::Value, commands: WITH_WORKER, default: "", fallback: &[], secret: false,
        help: "Worker name (required). `build`/`wait` also take its 32-hex tag, `version`/`deploy` its id. `build`/`wait` take a list (comma- or newline-separated) and follow every build in one step; `wait` also takes `*`: every Worker of the account whose build of the commit appears within `appear_timeout`. `verify` takes a list, or `*` for every Worker of the account. `version` with a wrangler configuration: its `name` when not given." },
    Branch => InputSpec { name: "branch", kind: Kind::Value, commands: &[Build, Wait, PurgeCache, Verify], default: "$GITHUB_HEAD_REF, else $GITHUB_REF_NAME", fallback: &[], secret: false,
        help: "Branch to build; picks the trigger (`purge-cache`: the trigger whose cache is purged, unless `trigger` is given; `verify`: the branch whose older commits make a Worker `behind`)." },
    Commit => InputSpec { name: "commit", kind: Kind::Value, commands: &[Build, Wait, Preview, Verify], default: "PR head sha on pull_request events, else $GITHUB_SHA", fallback: &[], secret: false,
        help: "Commit to build (`build`), whose build to follow (`wait`), or that production should serve (`verify`)." },
    Trigger => InputSpec { name: "trigger", kind: Kind::Value, commands: &[Build, Env, PurgeCache], default: "the trigger whose branch filters match `branch` (`env`: required)", fallback: &[], secret: false,
        help: "Trigger uuid or name." },
    Timeout => InputSpec { name: "timeout", kind: Kind::Value, commands: ALL, default: "30m", fallback: &[], secret: false,
        help: "Overall limit, e.g. `90s`, `30m`, `1h30m`. On expiry the build is cancelled (see `cancel_on_abort`)." },
    Logs => InputSpec { name: "logs", kind: Kind::Switch, commands: FOLLOW, default: "true", fallback: &[], secret: false,
        help: "Stream the build log into the CI log." },
    CancelOnAbort => InputSpec { name: "cancel_on_abort", kind: Kind::Switch, commands: FOLLOW, default: "`true` for build and redeploy, `false` for wait", fallback: &[], secret: false,
        help: "Cancel the remote build when the job is cancelled (SIGINT/SIGTERM) or `timeout` elapses. `wait` follows a build it did not start (the Git integration's), so it leaves it running unless this is `true`." },
    OutputFile => InputSpec { name: "output_file", kind: Kind::Value, commands: ALL, default: "", fallback: &[], secret: false,
        help: "Also write the outputs to this file: dotenv if it ends in `.env`, JSON if `.json` (for other CI systems)." },
    SummaryFile => InputSpec { name: "summary_file", kind: Kind::Value, commands: ALL, default: "", fallback: &[], secret: false,
        help: "Also write the job summary (the Markdown GitHub shows on the run's page) to this file, for other CI systems: a Buildkite annotation, a GitLab artifact. Written whole at the end, failed runs included." },
    Wait => InputSpec { name: "wait", kind: Kind::Switch, commands: &[Build, Redeploy], default: "true", fallback: &[], secret: false,
        help: "`false`: start the build, write its outputs and exit 0 at once (follow it later with `command: wait` and `build_uuid`)." },
    MaxParallel => InputSpec { name: "max_parallel", kind: Kind::Value, commands: &[Build], default: "all at once", fallback: &[], secret: false,
        help: "With a list of Workers: the most builds this step keeps running at once. By default all start and Cloudflare queues what the plan's concurrency (unknown to us) cannot run yet." },
    BuildUuid => InputSpec { name: "build_uuid", kind: Kind::Value, commands: &[Wait], default: "", fallback: &[], secret: false,
        help: "Follow this build instead of looking one up by commit." },
    RequireDeployed => InputSpec { name: "require_deployed", kind: Kind::Switch, commands: &[Build, Wait], default: "false", fallback: &[], secret: false,
        help: "Fail (exit 11) when a build succeeds but the Worker's active deployment serves none of the version it built (a deploy command that only uploads, `wrangler versions upload`). A version on part of the traffic passes (`deployed: partial`). With several Workers the error names every Worker that did not go live; a failed build still decides the exit first." },
    IfNoBuild => InputSpec { name: "if_no_build", kind: Kind::Value, commands: &[Wait], default: "fail", fallback: &[], secret: false,
        help: "`fail` or `pass` when no build for the commit appears within `appear_timeout`." },
    IfSkipped => InputSpec { name: "if_skipped", kind: Kind::Value, commands: &[Build, Wait], default: "pass", fallback: &[], secret: false,
        help: "`pass` or `fail` (exit 1) when Cloudflare skips a build (\"no watched path changed\" when the trigger has watch paths). The reason is in the log, the summary and the commit status." },
    AppearTimeout => InputSpec { name: "appear_timeout", kind: Kind::Value, commands: &[Wait], default: "2m", fallback: &[], secret: false,
        help: "How long a build for the commit may take to appear (the Git integration records one within seconds of a push; a slow webhook takes longer). Then `if_no_build` applies." },
    Config => InputSpec { name: "config", kind: Kind::Value, commands: WITH_CONFIG, default: "wrangler.json, wrangler.jsonc or wrangler.toml in the working directory", fallback: &[], secret: false,
        help: "The wrangler configuration to upload from (name, main, compatibility, bindings, migrations, assets, placement, limits; and, deploying at 100 %, routes, custom domains, crons, queue consumers, settings). Found only in the working directory (not its parents), and used by default only when `dir` is not given or the file sets `main`. Inputs given explicitly win over the file. `migrate` (and `migrate: true`) read its `d1_databases`; `deploy` reads its routes, custom domains, crons, queue consumers and settings only when it is given." },
    BuildOutput => InputSpec { name: "build_output", kind: Kind::Value, commands: &[Version, Deploy, Preview], default: "`.cloudflare/output` when it exists and neither `config`, a wrangler configuration here, `dir`, `main_module` nor `assets` is given", fallback: &[], secret: false,
        help: "A Build Output directory (`.cloudflare/output`, written by `cf build`, wrangler 4.164 or later and the Cloudflare Vite plugin; versions `v0` and `v1`) to upload from instead of a wrangler configuration: its Worker's modules, assets, bindings, compatibility and settings. Every key is checked: an unknown one, an unknown version or a binding kind workers-ci cannot send stops the step (exit 2). A preview build (`isPreview`) only goes to `preview`, a production build only to `version`/`deploy`. With several Workers, `worker` picks one by its `name`." },
    SkipTriggers => InputSpec { name: "skip_triggers", kind: Kind::Switch, commands: &[Version, Deploy, Preview], default: "false", fallback: &[], secret: false,
        help: "Leave a Build Output's triggers and settings as they are (a warning lists them). Without it, a deploy at 100 % applies its routes, custom domains, cron schedules, queue consumers, observability, logpush and tail consumers like a wrangler configuration's (planned first, `prune` and `takeover` as there), and what workers-ci cannot apply yet (`email` and `connect` triggers, custom domains with `production`/`previews` flags, streaming tail consumers; for `preview`, the script settings) is refused (exit 2) naming it, before any request, rather than silently ignored." },
    Environment => InputSpec { name: "environment", kind: Kind::Value, commands: WITH_CONFIG, default: "", fallback: &[], secret: false,
        help: "The configuration's `env.<name>` to use, with wrangler's rules: some keys inherited from the top level, bindings not; the Worker is `<name>-<environment>` unless the environment names it." },
    Dir => InputSpec { name: "dir", kind: Kind::Value, commands: VERSION_LIKE, default: "dist (none with `assets`: assets only); with a wrangler configuration, `main`'s directory", fallback: &[], secret: false,
        help: "Directory of built output; every file in it becomes a module, except those matched by `exclude`. `main`'s directory takes only files of a module type and names the rest." },
    Exclude => InputSpec { name: "exclude", kind: Kind::Value, commands: VERSION_LIKE, default: "README.md, *.d.ts, .DS_Store, *.tsbuildinfo, .gitignore, .git/**, node_modules/**", fallback: &[], secret: false,
        help: "Globs (comma- or newline-separated, relative to `dir`) of files that are not modules; added to the defaults. Each skipped file is named in the log." },
    Assets => InputSpec { name: "assets", kind: Kind::Value, commands: VERSION_LIKE, default: "", fallback: &[], secret: false,
        help: "Directory of static assets to upload with the version or Preview deployment (replaces the wrangler configuration's `assets.directory`; its serving settings still apply): only files Cloudflare does not have yet are sent. `.assetsignore` in it leaves files out; `_headers` and `_redirects` go with the version. Bind them to the code with `bindings` `[{\"type\":\"assets\",\"name\":\"ASSETS\"}]`. Without `dir`, `main_module` and the configuration's `main` the upload has no code: fine for a new Worker or one without code, refused for a Worker that has code unless `assets_only`." },
    AssetsOnly => InputSpec { name: "assets_only", kind: Kind::Switch, commands: &[Version], default: "false", fallback: &[], secret: false,
        help: "Upload `assets` with no code even though the Worker's latest version has code: the new version serves the assets alone. Without it that upload is refused (exit 2) before anything is written, so a forgotten `dir` never replaces a Worker's code." },
    DropAssets => InputSpec { name: "drop_assets", kind: Kind::Switch, commands: &[Version], default: "false", fallback: &[], secret: false,
        help: "Upload a version without static assets even though the Worker's latest version serves some: the new version has none. Without it that upload is refused (exit 2) before anything is written: the API cannot carry assets over, only a new upload of the files (`assets`, or the configuration's `assets`) keeps them." },
    MainModule => InputSpec { name: "main_module", kind: Kind::Value, commands: VERSION_LIKE, default: "the only .js/.mjs at the top of `dir`; with a wrangler configuration, `main`'s file", fallback: &[], secret: false,
        help: "The module that exports the handler." },
    CompatibilityDate => InputSpec { name: "compatibility_date", kind: Kind::Value, commands: VERSION_LIKE, default: "", fallback: &[], secret: false,
        help: "Compatibility date, YYYY-MM-DD (required, unless the wrangler configuration sets it)." },
    CompatibilityFlags => InputSpec { name: "compatibility_flags", kind: Kind::Value, commands: VERSION_LIKE, default: "", fallback: &[], secret: false,
        help: "Compatibility flags, comma- or newline-separated." },
    Bindings => InputSpec { name: "bindings", kind: Kind::Value, commands: VERSION_LIKE, default: "", fallback: &[], secret: false,
        help: "JSON array of binding objects, e.g. `[{\"type\":\"kv_namespace\",\"name\":\"KV\",\"namespace_id\":\"…\"}]`." },
    Vars => InputSpec { name: "vars", kind: Kind::Value, commands: VERSION_LIKE, default: "", fallback: &[], secret: false,
        help: "KEY=VALUE lines, bound as `plain_text`." },
    Secrets => InputSpec { name: "secrets", kind: Kind::Value, commands: &[Version, Deploy, Preview], default: "", fallback: &[], secret: true,
        help: "KEY=VALUE lines, bound as `secret_text`; every value is masked before anything prints." },
    KeepBindings => InputSpec { name: "keep_bindings", kind: Kind::Value, commands: VERSION_LIKE, default: "auto", fallback: &[], secret: false,
        help: "What the new version keeps from the latest one, by `inherit` (secret values included): `auto` (everything when no `bindings`/`vars`/`secrets` are given, else undeclared secrets), `secrets`, `all` or `none`." },
    AllowUnknownBindings => InputSpec { name: "allow_unknown_bindings", kind: Kind::Switch, commands: VERSION_LIKE, default: "false", fallback: &[], secret: false,
        help: "Pass binding types workers-ci does not know through unchecked (for kinds newer than this release)." },
    Message => InputSpec { name: "message", kind: Kind::Value, commands: &[Version, Deploy, Preview], default: "", fallback: &[], secret: false,
        help: "`workers/message` annotation (at most 1000 bytes)." },
    Tag => InputSpec { name: "tag", kind: Kind::Value, commands: VERSION_LIKE, default: "", fallback: &[], secret: false,
        help: "`workers/tag` annotation (at most 100 bytes)." },
    CreateWorker => InputSpec { name: "create_worker", kind: Kind::Switch, commands: &[Version, Deploy, Preview], default: "false", fallback: &[], secret: false,
        help: "Create the Worker when it does not exist (otherwise a missing Worker is an error that suggests the closest name)." },
    WorkersDev => InputSpec { name: "workers_dev", kind: Kind::Value, commands: VERSION_LIKE, default: "on create: true without routes, false with; else unchanged", fallback: &[], secret: false,
        help: "Serve the Worker on workers.dev. Set on create; for an existing Worker, written only by `version` with `deploy: true` (as `wrangler deploy`), otherwise a difference is a notice." },
    PreviewUrls => InputSpec { name: "preview_urls", kind: Kind::Value, commands: VERSION_LIKE, default: "on create: as workers_dev; else unchanged", fallback: &[], secret: false,
        help: "Give versions and Previews preview URLs on workers.dev. Set on create; for an existing Worker, written only by `version` with `deploy: true` (as `wrangler deploy`), otherwise a difference is a notice." },
    Deploy => InputSpec { name: "deploy", kind: Kind::Value, commands: &[Version], default: "false", fallback: &[], secret: false,
        help: "`false`, `true` (100 %), or a percentage (e.g. `10`) for a gradual rollout beside the version now at 100 %." },
    Versions => InputSpec { name: "versions", kind: Kind::Value, commands: &[Deploy], default: "", fallback: &[], secret: false,
        help: "ID[@PERCENT] items, comma- or newline-separated, at most two, percentages summing to 100." },
    Force => InputSpec { name: "force", kind: Kind::Switch, commands: &[Deploy], default: "false", fallback: &[], secret: false,
        help: "Deploy even where Cloudflare would block it (e.g. rolling back past a secret change)." },
    Rollback => InputSpec { name: "rollback", kind: Kind::Switch, commands: &[Deploy], default: "false", fallback: &[], secret: false,
        help: "Deploy the version at 100 % in the newest earlier deployment, as wrangler rollback does (instead of `versions`)." },
    Stages => InputSpec { name: "stages", kind: Kind::Value, commands: &[Version, Deploy], default: "", fallback: &[], secret: false,
        help: "A rollout that checks itself: shares the new version goes through, each with an optional soak time, e.g. `0,10,50,100` or `10%:5m, 50%:10m, 100%` (increasing, ending at 100; a later stage without a time soaks 5m, the last one none). The version goes in beside the live deployment at 0 % (or Cloudflare's minimum) for the smoke test, then each stage raises its share, soaks, and checks its error rate; any failure, signal or `timeout` restores the previous deployment exactly (exit 13). `deploy`: `versions` names the one new version; `version`: needs `deploy: true`." },
    SmokeUrl => InputSpec { name: "smoke_url", kind: Kind::Value, commands: &[Version, Deploy], default: "", fallback: &[], secret: false,
        help: "With `stages`: URL(s) of the Worker (comma- or newline-separated, https) requested with `Cloudflare-Workers-Version-Overrides` naming the new version while it takes no traffic; retried for a bounded time while the deployment propagates. A failure rolls back before any traffic moves." },
    SmokeMethod => InputSpec { name: "smoke_method", kind: Kind::Value, commands: &[Version, Deploy], default: "GET", fallback: &[], secret: false,
        help: "The smoke test's HTTP method: GET, HEAD or OPTIONS (a smoke test must not write)." },
    SmokeStatus => InputSpec { name: "smoke_status", kind: Kind::Value, commands: &[Version, Deploy], default: "200", fallback: &[], secret: false,
        help: "The status every smoke URL must answer." },
    SmokeBody => InputSpec { name: "smoke_body", kind: Kind::Value, commands: &[Version, Deploy], default: "", fallback: &[], secret: false,
        help: "Text every smoke answer's body must contain. `{version_id}` stands for the new version's id: with a Worker that prints its version (the version metadata binding) it proves the new version answered, not the old one." },
    MaxErrorRate => InputSpec { name: "max_error_rate", kind: Kind::Value, commands: &[Version, Deploy], default: "1", fallback: &[], secret: false,
        help: "With `stages`: the highest share of the new version's invocations that may fail (threw, exceeded resources, internal error) in a soak window, in percent (`1`, `0.5%`), read from the analytics GraphQL API: the token needs Account Analytics Read, checked before any deploy. `off`: no error gate (soaks only wait)." },
    MinRequests => InputSpec { name: "min_requests", kind: Kind::Value, commands: &[Version, Deploy], default: "100", fallback: &[], secret: false,
        help: "The fewest requests the new version must serve in a soak window for its error rate to count; below it `if_no_signal` decides." },
    IfNoSignal => InputSpec { name: "if_no_signal", kind: Kind::Value, commands: &[Version, Deploy], default: "fail", fallback: &[], secret: false,
        help: "`fail` (roll back) or `pass` (go on) when a soak window has fewer than `min_requests` requests." },
    AnalyticsLag => InputSpec { name: "analytics_lag", kind: Kind::Value, commands: &[Version, Deploy], default: "3m", fallback: &[], secret: false,
        help: "With `stages` and the error gate: how long after a soak Cloudflare's analytics may still be catching up (they \"lag a few minutes\"). The gate reads the soak window again with backoff, the share held, until the window's end is this old, then judges it; each read is logged. `0` judges at once (an undercount, or a late error burst missed). `timeout` bounds the wait (a timeout rolls back)." },
    BuildsConfig => InputSpec { name: "builds_config", kind: Kind::Value, commands: &[Setup], default: "workers-builds.toml", fallback: &[], secret: false,
        help: "The Workers Builds configuration file (TOML, or JSON when it ends in `.json`); see README for its keys." },
    DryRun => InputSpec { name: "dry_run", kind: Kind::Switch, commands: &[Version, Deploy, Setup, Preview, Migrate], default: "false", fallback: &[], secret: false,
        help: "Print the plan and change nothing (exit 0). `version`, `deploy` and `preview` need no `api_token` or `account_id` then and send no request at all: the inputs, configuration or Build Output, bindings, modules and assets (hashes and limits) are checked and the API calls a real run would make are printed (for a fork's pull request, which gets no secrets). `migrate`: with `api_token`, the applied set is read from each database and exactly the pending migrations are listed (status `pending`); without it, nothing is sent: the configuration, databases and migration files are checked and every file is listed as pending unless already recorded (status `pending_unless_recorded`), with the calls a real run would make." },
    Check => InputSpec { name: "check", kind: Kind::Switch, commands: &[Setup], default: "false", fallback: &[], secret: false,
        help: "Print the plan, change nothing, and exit 8 when Cloudflare differs from the file (a pull-request check)." },
    Prune => InputSpec { name: "prune", kind: Kind::Switch, commands: &[Version, Deploy, Setup], default: "false", fallback: &[], secret: false,
        help: "`setup`: delete triggers and build variables the file does not list. `version`/`deploy` with a wrangler configuration: remove the Worker's routes, custom domains and queue consumers the configuration does not list. Otherwise they are left alone (and shown in the plan)." },
    Takeover => InputSpec { name: "takeover", kind: Kind::Switch, commands: &[Version, Deploy], default: "false", fallback: &[], secret: false,
        help: "Deploying a wrangler configuration: give this Worker the routes, custom domains and queues another Worker holds (and replace a hostname's DNS record). Otherwise such a conflict stops the step before any write, naming it." },
    RequireSecrets => InputSpec { name: "require_secrets", kind: Kind::Switch, commands: &[Setup], default: "false", fallback: &[], secret: false,
        help: "Fail before any request when a listed secret's environment variable is unset (otherwise that secret is left as it is, with a notice)." },
    Set => InputSpec { name: "set", kind: Kind::Value, commands: &[Env], default: "", fallback: &[], secret: false,
        help: "KEY=VALUE lines: plain-text build variables to add or replace (others are kept)." },
    SetSecret => InputSpec { name: "set_secret", kind: Kind::Value, commands: &[Env], default: "", fallback: &[], secret: true,
        help: "KEY=VALUE lines: secret build variables to add or replace; every value is masked before anything prints." },
    SetSecretFromEnv => InputSpec { name: "set_secret_from_env", kind: Kind::Value, commands: &[Env], default: "", fallback: &[], secret: false,
        help: "KEY or KEY=VARIABLE lines: secret build variables whose values are read whole from the step's environment variable VARIABLE (else KEY), so a value of several lines (a PEM key) arrives exactly; pass it with `env:` from a secret. Masked, never printed." },
    GithubToken => InputSpec { name: "github_token", kind: Kind::Value, commands: GITHUB, default: "", fallback: &[], secret: true,
        help: "A GitHub token (the workflow's `github.token`): keep one comment per Worker and kind (build, version, Preview) on the pull request up to date and create a GitHub Deployment for the commit. Needs `pull-requests: write` and `deployments: write`. GitHub failures are warnings unless `github_required`." },
    GithubRequired => InputSpec { name: "github_required", kind: Kind::Switch, commands: GITHUB, default: "false", fallback: &[], secret: false,
        help: "Fail the step (exit 9) when the pull-request comment or the GitHub Deployment cannot be written." },
    GithubApiUrl => InputSpec { name: "github_api_url", kind: Kind::Value, commands: GITHUB, default: "$GITHUB_API_URL, else https://api.github.com", fallback: &["GITHUB_API_URL"], secret: false,
        help: "GitHub's REST API for `github_token` (the runner's, GitHub Enterprise Server included); set it only to point at a test double such as `workers-ci simulate --github`." },
    CommitStatuses => InputSpec { name: "commit_statuses", kind: Kind::Switch, commands: &[Build, Wait], default: "false", fallback: &[], secret: false,
        help: "Post one GitHub commit status per Worker on the commit: `pending` while its build runs, then `success`, `failure` or `error` with the outcome, duration or reason; a required check per Worker never hangs (`wait` with a list posts one for every listed Worker, built or not). Needs `github_token` with `statuses: write`." },
    StatusContext => InputSpec { name: "status_context", kind: Kind::Value, commands: &[Build, Wait], default: "workers-ci/{worker}", fallback: &[], secret: false,
        help: "The commit status's context, the name a required check matches; `{worker}` is replaced by the Worker as `worker` names it, and is required when several Workers are followed." },
    Unset => InputSpec { name: "unset", kind: Kind::Value, commands: &[Env], default: "", fallback: &[], secret: false,
        help: "KEY lines: build variables to delete (one already gone is not an error)." },
    PreviewName => InputSpec { name: "preview_name", kind: Kind::Value, commands: &[Preview], default: "the branch: $WORKERS_CI_BRANCH, $GITHUB_HEAD_REF, $GITHUB_REF_NAME, $CI_COMMIT_REF_NAME or `git rev-parse --abbrev-ref HEAD`", fallback: &[], secret: false,
        help: "The Preview's name: at most 256 letters, digits and `- _ / . + =`, starting and ending with a letter or digit. A name derived from the branch is made to fit (other characters become `-`); a name given here must already fit." },
    PreviewAction => InputSpec { name: "preview_action", kind: Kind::Value, commands: &[Preview], default: "deploy", fallback: &[], secret: false,
        help: "`deploy`: create the Preview if needed and deploy to it; `delete`: delete the Preview (for `pull_request: closed`; one already gone is not an error)." },
    Database => InputSpec { name: "database", kind: Kind::Value, commands: &[Migrate], default: "every `d1_databases` entry with migrations", fallback: &[], secret: false,
        help: "The D1 database to migrate, by its `binding` or `database_name` in the wrangler configuration." },
    Migrate => InputSpec { name: "migrate", kind: Kind::Switch, commands: &[Version, Deploy], default: "false", fallback: &[], secret: false,
        help: "Apply the wrangler configuration's pending D1 migrations first (as `migrate` does); when one fails, nothing is uploaded or deployed (exit 14). `version`: only with `deploy`." },
    Expect => InputSpec { name: "expect", kind: Kind::Value, commands: &[Verify], default: "deployed", fallback: &[], secret: false,
        help: "`verify`: the verdict each Worker must reach. One of `deployed` < `split` < `behind` < `other` < `none` passes it and every better one; a comma-separated set (e.g. `deployed, split`) passes exactly those. Worse: exit 12." },
}

impl Key {
    pub fn spec(self) -> &'static InputSpec {
        &INPUTS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// `api_token` → `--api-token`
    pub fn flag(self) -> String {
        format!("--{}", self.name().replace('_', "-"))
    }

    /// `api_token` → `INPUT_API_TOKEN`
    pub fn env(self) -> String {
        format!("INPUT_{}", self.name().to_uppercase())
    }

    pub fn by_name(name: &str) -> Option<Key> {
        INPUTS.iter().find(|s| s.name == name).map(|s| s.key)
    }
}

/// What an [`InputError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    Input(Key),
    /// The command line itself (an unknown flag, a missing value).
    Arguments,
}

/// A bad input. The message names the input and how to fix it, and never its value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InputError {
    pub subject: Subject,
    pub problem: String,
}

impl InputError {
    pub(crate) fn new(key: Key, problem: impl Into<String>) -> Self {
        InputError { subject: Subject::Input(key), problem: problem.into() }
    }

    pub(crate) fn arguments(problem: impl Into<String>) -> Self {
        InputError { subject: Subject::Arguments, problem: problem.into() }
    }

    /// The input's name, or `arguments`.
    #[cfg(test)]
    pub(crate) fn input(&self) -> &'static str {
        match self.subject {
            Subject::Input(k) => k.name(),
            Subject::Arguments => "arguments",
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subject {
            Subject::Input(k) => write!(f, "input `{}` ({}, {}): {}", k.name(), k.env(), k.flag(), self.problem),
            Subject::Arguments => write!(f, "command line: {}", self.problem),
        }
    }
}

impl std::error::Error for InputError {}

/// The inputs as given, before any interpretation.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    values: HashMap<Key, String>,
}

impl Inputs {
    /// Merges the command line's flags with the environment, read through `env`.
    pub(crate) fn collect(flags: Vec<(Key, String)>, env: &dyn Fn(&str) -> Option<String>) -> Inputs {
        let mut flags: HashMap<Key, String> = flags.into_iter().collect();
        let mut values = HashMap::new();
        for s in INPUTS {
            let value = flags
                .remove(&s.key)
                .or_else(|| env(&s.key.env()))
                .filter(|v| !v.trim().is_empty())
                .or_else(|| s.fallback.iter().find_map(|f| env(f).filter(|v| !v.trim().is_empty())));
            if let Some(v) = value {
                values.insert(s.key, v.trim().to_owned());
            }
        }
        Inputs { values }
    }

    pub(crate) fn get(&self, key: Key) -> Option<&str> {
        self.values.get(&key).map(String::as_str)
    }

    /// Set to something other than its documented default: the wrappers (action.yml, the GitLab
    /// templates, the Buildkite plugin) pass every input with its default, so only another value
    /// says the user asked for what the input does.
    pub(crate) fn given(&self, key: Key) -> bool {
        self.get(key).is_some_and(|v| v != key.spec().default)
    }

    pub(crate) fn set(&mut self, key: Key, value: &str) {
        self.values.insert(key, value.to_owned());
    }

    pub(crate) fn require(&self, key: Key, how: &str) -> Result<&str, InputError> {
        self.get(key).ok_or_else(|| InputError::new(key, format!("is required; {how}")))
    }

    /// The toolkit's `getBooleanInput` rule (YAML 1.2 core schema).
    pub(crate) fn bool(&self, key: Key, default: bool) -> Result<bool, InputError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => rules::boolean(v).ok_or_else(|| InputError::new(key, "must be `true` or `false`")),
        }
    }

    pub(crate) fn duration(&self, key: Key, default: Duration) -> Result<Duration, InputError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => rules::duration(v).ok_or_else(|| {
                InputError::new(key, "is not a duration; write it like `90s`, `30m` or `1h30m` (at most 24h)")
            }),
        }
    }

    pub(crate) fn path(&self, key: Key) -> Option<PathBuf> {
        self.get(key).map(PathBuf::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn keys_index_the_table() {
        for (i, s) in INPUTS.iter().enumerate() {
            assert_eq!(s.key as usize, i, "{}", s.name);
            assert_eq!(Key::by_name(s.name), Some(s.key));
        }
    }

    #[test]
    fn precedence_flag_then_input_then_fallback() {
        let env = env_of(&[
            ("INPUT_API_TOKEN", "from-input"),
            ("CLOUDFLARE_API_TOKEN", "from-fallback"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("INPUT_ACCOUNT_ID", "  "),
        ]);
        let i = Inputs::collect(Vec::new(), &env);
        assert_eq!(i.get(Key::ApiToken), Some("from-input"));
        assert_eq!(i.get(Key::AccountId), Some("acc"), "an empty INPUT_ falls through to the fallback");
        let i = Inputs::collect(vec![(Key::ApiToken, "from-flag".into()), (Key::Timeout, "90s".into())], &env);
        assert_eq!(i.get(Key::ApiToken), Some("from-flag"));
        assert_eq!(i.get(Key::Timeout), Some("90s"));
    }

    #[test]
    fn errors_name_the_input_not_the_value() {
        let env = env_of(&[("INPUT_LOGS", "yes-secret-ish"), ("INPUT_TIMEOUT", "soon")]);
        let i = Inputs::collect(Vec::new(), &env);
        let e = i.bool(Key::Logs, true).unwrap_err().to_string();
        assert!(e.contains("`logs`") && e.contains("INPUT_LOGS") && e.contains("--logs"), "{e}");
        assert!(!e.contains("yes-secret-ish"));
        let e = i.duration(Key::Timeout, Duration::from_secs(1)).unwrap_err().to_string();
        assert!(!e.contains("soon"), "{e}");
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
            i.set(Key::Logs, v);
            assert_eq!(i.bool(Key::Logs, true).ok(), want, "{v}");
        }
    }
}

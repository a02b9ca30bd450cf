//! The code to upload, from the inputs and the wrangler configuration: what `version` and
//! `preview` both send (modules, bindings, compatibility, assets, migrations).

use std::path::{Path, PathBuf};

use super::args::{message, worker_name};
use super::bindings::{self, Bindings, Keep};
use super::build_output::{self, BuildOutput, Purpose};
use super::bundle::{self, ModuleFile};
use super::{InputError, Inputs, Key, hint, rules, wrangler};
use crate::cloudflare::WorkerName;

/// The wrangler configuration `version` reads: `config`, else the first of wrangler's names in
/// the working directory — then only when `dir` is not given or the file sets `main`, so a
/// workflow that names its build output keeps working beside a configuration it never used.
/// Returns it with the warnings about how it was found.
fn wrangler_config(i: &Inputs) -> Result<(Option<wrangler::Config>, Vec<String>), InputError> {
    let environment = i.get(Key::Environment);
    let mut warnings = Vec::new();
    let (path, found) = match i.path(Key::Config) {
        Some(p) => (p, false),
        None => match wrangler::discover(Path::new("")) {
            Some((first, others)) => {
                if !others.is_empty() {
                    let names: Vec<String> = others.iter().map(|p| p.display().to_string()).collect();
                    warnings.push(format!(
                        "several wrangler configurations here: using {} (wrangler's order: wrangler.json, wrangler.jsonc, wrangler.toml), not {}",
                        first.display(),
                        names.join(", ")
                    ));
                }
                (first, true)
            }
            None if environment.is_some() => {
                return Err(InputError::new(
                    Key::Environment,
                    format!(
                        "selects an environment of a wrangler configuration, but there is none in the working directory; set {}",
                        hint::input(Key::Config)
                    ),
                ));
            }
            None => return Ok((None, warnings)),
        },
    };
    let config = wrangler::load(&path, environment)?;
    if found && i.get(Key::Dir).is_some() && config.mapped.main.is_none() {
        return Ok((None, Vec::new()));
    }
    Ok((Some(config), warnings))
}

fn config_name(c: Option<&wrangler::Config>) -> String {
    c.map_or_else(String::new, |c| c.file.clone())
}

/// `main` must be what a bundler wrote: workers-ci uploads files as they are.
fn checked_main(c: &wrangler::Config, m: &wrangler::map::Main, dir_given: bool) -> Result<PathBuf, InputError> {
    let ext = m.path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let build = "workers-ci uploads bundler output as it is, it does not compile or bundle: build first (for example `npx wrangler deploy --dry-run --outdir dist`, or your bundler), then point `main` at the built file (e.g. `dist/index.js`) or set the `dir` input to the output folder";
    if matches!(ext.as_str(), "ts" | "tsx" | "jsx" | "mts" | "cts") {
        if dir_given {
            // The output folder is given: `main` (a source) only misleads; it is not used.
            return Ok(m.path.clone());
        }
        return Err(c.error(&wrangler::problem(
            m.line,
            &m.key,
            format!("names a source file (.{ext}), not a bundled module; {build}"),
        )));
    }
    if !m.path.is_file() && !dir_given {
        return Err(c.error(&wrangler::problem(
            m.line,
            &m.key,
            format!("names `{}`, which does not exist; {build}", m.path.display()),
        )));
    }
    Ok(m.path.clone())
}

/// Losses an upload was told are meant, each refused (exit 2) before any write without its input.
#[derive(Debug, Default)]
pub(crate) struct Accepted {
    /// `assets_only`: an upload without code, even over a Worker that has code.
    pub assets_only: bool,
    /// `drop_assets`: a version without static assets, even over a Worker serving some.
    pub drop_assets: bool,
}

#[derive(Debug)]
pub(crate) struct VersionArgs {
    pub worker: WorkerName,
    /// Where the wrangler configuration gave `worker` (its `name`); `None`: the `worker` input.
    pub worker_written: Option<Written>,
    pub modules: Vec<ModuleFile>,
    /// `None`: an assets-only Worker, without code.
    pub main_module: Option<String>,
    pub compatibility_date: String,
    pub compatibility_flags: Vec<String>,
    pub bindings: Bindings,
    pub keep: Keep,
    /// Files under `dir` that are not modules, to name in the log.
    pub skipped: Vec<bundle::Skipped>,
    /// What the latest version has that this upload is allowed to leave out.
    pub accepted: Accepted,
    pub message: Option<String>,
    pub tag: Option<String>,
    pub create_worker: bool,
    /// `workers_dev` and `preview_urls` as given (`None`: not given).
    pub workers_dev: Option<bool>,
    pub preview_urls: Option<bool>,
    /// The configuration routes the Worker (`route`/`routes`).
    pub has_routes: bool,
    /// For a Preview: where its bindings come from, and the production bindings left out.
    pub preview_bindings: Option<PreviewBindings>,
    /// Percentage for the new version; `None` = upload only.
    pub deploy: Option<f64>,
    /// `stages` (with `deploy: true`): the new version rolls out through them.
    pub rollout: Option<super::rollout::RolloutArgs>,
    /// Static assets to upload with the version: from input `assets` or the wrangler
    /// configuration's `assets` block.
    pub assets: Option<AssetsSpec>,
    /// Versioned settings from the wrangler configuration (docs/cloudflare-api.md §C.3, §C.4).
    pub placement: Option<serde_json::Value>,
    pub limits: Option<crate::cloudflare::workers::Limits>,
    /// The configuration's `cache` as the version's `cache_options` (docs/cloudflare-api.md §D.2).
    pub cache_options: Option<serde_json::Value>,
    /// The configuration's `keep_vars`: vars of the latest version the file does not declare are
    /// kept, as wrangler keeps them (docs/cloudflare-api.md §C.6).
    pub keep_vars: bool,
    /// The configuration's `migrations[]`, in order; which of them to send is decided against
    /// the Worker's applied tag.
    pub migrations: Vec<wrangler::Migration>,
    /// The declarative `exports` (docs/cloudflare-api.md §H.10) and where they are written.
    pub exports: Option<ExportsSpec>,
    /// What a deploy applies beyond the version, and how.
    pub apply: Apply,
    /// The wrangler configuration used (as given or found), and its environment.
    pub config_file: Option<(String, Option<String>)>,
    /// Keys of the configuration that were not applied, each said as a warning before any
    /// request.
    pub config_warnings: Vec<String>,
    /// The Build Output uploaded from, when it is the source (instead of a wrangler
    /// configuration and the inputs).
    pub build_output: Option<BuildOutputSource>,
}

/// A file's `exports`, in the API's shape, and where they are written (for the refusals that
/// name them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExportsSpec {
    pub map: crate::cloudflare::workers::Exports,
    pub written: Written,
}

impl ExportsSpec {
    /// Whether they declare a Durable Object lifecycle: only the classic upload, which deploys
    /// at 100 %, may carry that (docs/cloudflare-api.md §H.10).
    pub(crate) fn has_durable_objects(&self) -> bool {
        crate::cloudflare::workers::has_durable_objects(&self.map)
    }

    /// `<file>:<line>: <key>`, for messages.
    pub(crate) fn place(&self) -> String {
        format!("{}:{}: {}", self.written.file, self.written.line, self.written.key)
    }
}

/// Where a Build Output upload comes from, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildOutputSource {
    /// `<root>/<version>`.
    pub dir: String,
    pub version: &'static str,
    pub mode: Option<String>,
    /// The Worker's `worker.config.json`.
    pub file: String,
    /// What the output declares that this step leaves alone (`skip_triggers: true`).
    pub skipped: Vec<String>,
}

/// What the upload is for: a Version gets the configuration's bindings; a Preview its
/// `previews` block's instead (docs/cloudflare-api.md §B.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Version,
    Preview,
}

/// What a deploy applies beyond the version (routes, custom domains, crons, queue consumers,
/// settings), from the configuration: empty without one, and for a Preview.
#[derive(Debug, Default)]
pub(crate) struct Apply {
    pub spec: wrangler::map::deploy::DeploySpec,
    /// `prune`: remove routes, custom domains and consumers the configuration does not list.
    pub prune: bool,
    /// `takeover`: take what another Worker holds.
    pub takeover: bool,
}

impl Apply {
    /// `deploy` given `config`: the file's routes, custom domains, crons, consumers and
    /// settings, applied beside the deployment. Only a file named explicitly: a configuration
    /// lying in the working directory does not change what `deploy` does.
    pub(crate) fn for_deploy(i: &Inputs) -> Result<Option<(Apply, Option<String>)>, InputError> {
        let Some(path) = i.path(Key::Config) else { return Ok(None) };
        let config = wrangler::load(&path, i.get(Key::Environment))?;
        let name = config.mapped.name.as_ref().map(|(n, _, _)| n.clone());
        let apply = Apply::from_inputs(i, Target::Version, Some(&config.mapped))?;
        Ok(Some((apply, name)))
    }

    fn from_inputs(i: &Inputs, target: Target, file: Option<&wrangler::Mapped>) -> Result<Apply, InputError> {
        Ok(match (target, file) {
            (Target::Version, f) => Apply {
                spec: f.map(|f| f.deploy.clone()).unwrap_or_default(),
                prune: i.bool(Key::Prune, false)?,
                takeover: i.bool(Key::Takeover, false)?,
            },
            (Target::Preview, _) => Apply::default(),
        })
    }
}

/// Where a Preview's bindings come from (docs/cloudflare-api.md §B.11).
#[derive(Debug, Default)]
pub(crate) struct PreviewBindings {
    /// `wrangler.jsonc: previews` when the file has the block.
    pub block: Option<String>,
    /// Names (and types) of the block's bindings, and of the inputs'.
    pub from_block: Vec<(String, String)>,
    pub from_inputs: Vec<(String, String)>,
    /// Production bindings of the file with no binding of the same name for the Preview:
    /// the flow names those the Worker's base config does not provide either.
    pub production_only: Vec<(String, String)>,
}

impl PreviewBindings {
    /// `given`: the names the inputs bind (`inputs`, their bindings), which win over the file's.
    fn new(config: Option<&wrangler::Config>, given: &[String], inputs: &[serde_json::Value]) -> PreviewBindings {
        let file = config.map(|c| &c.mapped);
        let block = file.and_then(|f| f.previews.as_ref());
        let from_block: Vec<&serde_json::Value> = block.map(|b| b.bindings.iter().collect()).unwrap_or_default();
        let for_preview = |name: &str| given.iter().any(|n| n == name) || from_block.iter().any(|b| b["name"] == name);
        PreviewBindings {
            block: block.map(|b| format!("{}: {}", config_name(config), b.path)),
            from_block: from_block
                .iter()
                .filter(|b| !given.iter().any(|n| b["name"] == n.as_str()))
                .map(|b| name_and_type(b))
                .collect(),
            from_inputs: inputs.iter().map(name_and_type).collect(),
            production_only: file
                .map(|f| f.bindings.iter().map(name_and_type).filter(|(n, _)| !for_preview(n)).collect())
                .unwrap_or_default(),
        }
    }
}

fn name_and_type(b: &serde_json::Value) -> (String, String) {
    let s = |k: &str| b.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    (s("name"), s("type"))
}

/// A Worker's static assets as configured: where they are and how Cloudflare serves them.
/// Unset fields are left out of the version, so Cloudflare applies its own defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AssetsSpec {
    pub directory: PathBuf,
    /// Name of the `assets` binding, when the Worker's code reads its assets.
    pub binding: Option<String>,
    pub html_handling: Option<String>,
    pub not_found_handling: Option<String>,
    /// `true`/`false` or a list of route patterns, as in wrangler's configuration.
    pub run_worker_first: Option<serde_json::Value>,
    pub base_path: Option<String>,
    /// Where `directory` was written, when the wrangler configuration gave it: a problem with
    /// the folder is blamed there, not on the `assets` input.
    pub directory_written: Option<Written>,
}

/// A value's place in the wrangler configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Written {
    pub file: String,
    pub line: usize,
    pub key: String,
}

impl AssetsSpec {
    /// A problem with the assets folder (`problem` says what), blamed where the folder was
    /// named: the configuration's `assets.directory`, or the `assets` input.
    pub(crate) fn blame(&self, problem: String) -> InputError {
        match &self.directory_written {
            Some(w) => InputError::new(Key::Config, format!("{}:{}: {}: {problem}", w.file, w.line, w.key)),
            None => InputError::new(Key::Assets, problem),
        }
    }
}

/// `assets` as a spec, taking the `assets` binding (if `bindings` declares one) out of the
/// list: it is sent with the assets, and only with them.
fn assets_spec(
    i: &Inputs,
    list: &mut Vec<serde_json::Value>,
    from_file: Option<AssetsSpec>,
) -> Result<Option<AssetsSpec>, InputError> {
    let mut named: Vec<String> = Vec::new();
    list.retain(|b| {
        let is_assets = b.get("type").and_then(serde_json::Value::as_str) == Some("assets");
        if is_assets {
            named.push(b.get("name").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned());
        }
        !is_assets
    });
    if named.len() > 1 {
        return Err(InputError::new(Key::Bindings, "declares more than one `assets` binding; a Worker has one"));
    }
    let Some(directory) = i.path(Key::Assets) else {
        // The configuration's `assets` block; a binding in `bindings` overrides its name.
        if let Some(mut spec) = from_file {
            if let Some(name) = named.pop() {
                spec.binding = Some(name);
            }
            return Ok(Some(spec));
        }
        if named.is_empty() {
            return Ok(None);
        }
        return Err(InputError::new(
            Key::Bindings,
            format!(
                "declares an `assets` binding, but no assets are uploaded; set {} to their directory",
                hint::input(Key::Assets)
            ),
        ));
    };
    if !directory.is_dir() {
        return Err(InputError::new(Key::Assets, "is not a directory; point it at your built site (e.g. `public`)"));
    }
    // `assets` replaces the file's directory and keeps how the file says they are served.
    let base = from_file.unwrap_or_default();
    let binding = named.pop().or(base.binding.clone());
    Ok(Some(AssetsSpec { directory, binding, directory_written: None, ..base }))
}

/// The input `worker`, else the configuration's `name`.
fn worker(i: &Inputs, config: Option<&wrangler::Config>) -> Result<WorkerName, InputError> {
    match (i.get(Key::Worker), config.and_then(|c| c.mapped.name.as_ref())) {
        (None, Some((name, line, key))) => WorkerName::parse(name).map_err(|_| {
            InputError::new(Key::Config, format!("{}:{line}: {key}: is not a Worker name", config_name(config)))
        }),
        (None, None) => match config.and_then(|c| c.misspelt("name", "(the Worker's name is required)")) {
            Some(e) => Err(e),
            None => worker_name(i),
        },
        _ => worker_name(i),
    }
}

/// The compatibility date and flags: the inputs, else the configuration's.
fn compatibility(i: &Inputs, config: Option<&wrangler::Config>) -> Result<(String, Vec<String>), InputError> {
    let file = config.map(|c| &c.mapped);
    let date = match (i.get(Key::CompatibilityDate), file.and_then(|f| f.compatibility_date.as_ref())) {
        (Some(d), _) => d.to_owned(),
        (None, Some((d, _, _))) => d.clone(),
        (None, None) => {
            let how = "the date your Worker was written against, e.g. 2026-11-01";
            if let Some(e) = config.and_then(|c| c.misspelt("compatibility_date", &format!("(it is required: {how})")))
            {
                return Err(e);
            }
            return Err(InputError::new(
                Key::CompatibilityDate,
                format!("is required; set it (or `compatibility_date` in the wrangler configuration) to {how}"),
            ));
        }
    };
    if !rules::date(&date) {
        return Err(InputError::new(Key::CompatibilityDate, "must be a date that exists, written YYYY-MM-DD"));
    }
    if rules::date_in_future(&date) {
        return Err(InputError::new(
            Key::CompatibilityDate,
            "is in the future, which the Workers runtime refuses: set it to today's date or earlier (UTC)",
        ));
    }
    let flags: Vec<String> = match (i.get(Key::CompatibilityFlags), file.and_then(|f| f.compatibility_flags.as_ref())) {
        (None, Some(f)) => f.clone(),
        (given, _) => {
            given.unwrap_or("").split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
        }
    };
    if flags.iter().any(|f| !f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
        return Err(InputError::new(
            Key::CompatibilityFlags,
            "has a flag that is not a word of letters, digits and `_`",
        ));
    }
    Ok((date, flags))
}

/// The file's bindings laid under the inputs' (the inputs win by binding name: the file's
/// binding of that name is not sent). A Preview's bindings from the file are its `previews`
/// block's, never the file's own (docs/cloudflare-api.md §B.11): what it is bound to is returned.
fn with_file_bindings(
    bindings: &mut Bindings,
    config: Option<&wrangler::Config>,
    target: Target,
) -> Option<PreviewBindings> {
    let file = config.map(|c| &c.mapped);
    let given: Vec<String> = bindings.described().into_iter().map(|(n, _)| n).collect();
    let preview_bindings = (target == Target::Preview).then(|| PreviewBindings::new(config, &given, &bindings.list));
    let from_file: Option<&[serde_json::Value]> = match target {
        Target::Version => file.map(|f| f.bindings.as_slice()),
        Target::Preview => file.and_then(|f| f.previews.as_ref()).map(|b| b.bindings.as_slice()),
    };
    if let Some(file_bindings) = from_file {
        let mut merged: Vec<serde_json::Value> =
            file_bindings.iter().filter(|b| !given.iter().any(|n| b["name"] == n.as_str())).cloned().collect();
        merged.append(&mut bindings.list);
        bindings.list = merged;
    }
    preview_bindings
}

/// The file's placement, limits and migrations; for a Preview the `previews` block's
/// `limits` and `placement` win over the top level's, as in wrangler (docs/cloudflare-api.md
/// §B.11).
fn versioned_settings(mapped: wrangler::Mapped, target: Target) -> VersionedSettings {
    let (mut placement, mut limits) = (mapped.placement, mapped.limits);
    if let (Target::Preview, Some(block)) = (target, mapped.previews) {
        limits = block.limits.or(limits);
        if block.placement_given {
            placement = block.placement;
        }
    }
    (placement, limits, mapped.cache_options, mapped.keep_vars, mapped.migrations)
}

/// `placement`, `limits`, `cache_options`, `keep_vars` and the migrations, as the target takes them.
type VersionedSettings = (
    Option<serde_json::Value>,
    Option<crate::cloudflare::workers::Limits>,
    Option<serde_json::Value>,
    bool,
    Vec<wrangler::Migration>,
);

/// `stages` for an upload that deploys (never a Preview): a rollout sets the new version's
/// shares itself, so it needs `deploy: true`, and its smoke test a Worker name the override
/// header can carry.
fn rollout(
    i: &Inputs,
    target: Target,
    deploy: Option<f64>,
    worker: &WorkerName,
) -> Result<Option<super::rollout::RolloutArgs>, InputError> {
    let rollout = match target {
        Target::Version => super::rollout::RolloutArgs::from_inputs(i)?,
        Target::Preview => None,
    };
    if rollout.is_some() {
        if deploy != Some(100.0) {
            return Err(InputError::new(
                Key::Stages,
                "rolls out the uploaded version and needs `deploy: true` (the stages set its shares)",
            ));
        }
        crate::commands::deploy::check_override_key(worker)?;
    }
    Ok(rollout)
}

/// `deploy`: `None` to upload only, else the new version's percentage.
fn deploy_percentage(i: &Inputs) -> Result<Option<f64>, InputError> {
    Ok(match i.get(Key::Deploy) {
        None => None,
        Some(v) => match rules::boolean(v) {
            Some(false) => None,
            Some(true) => Some(100.0),
            None => Some(rules::percentage(v).ok_or_else(|| {
                InputError::new(Key::Deploy, "must be `false`, `true` or a percentage above 0 and at most 100")
            })?),
        },
    })
}

/// Where the modules are (`dir`, else the folder of the file's `main`, else `dist`), the main
/// module's name there from the file's `main`, and how the folder's files are taken.
fn dir_and_main(
    i: &Inputs,
    main: Option<&Path>,
    config_warnings: &mut Vec<String>,
) -> (PathBuf, Option<String>, bundle::Take) {
    match (i.path(Key::Dir), main) {
        (Some(d), Some(m)) => {
            // `main` inside the given `dir` names the main module there; elsewhere it does
            // not apply.
            let rel = m.canonicalize().ok().zip(d.canonicalize().ok()).and_then(|(m, d)| {
                let r = m.strip_prefix(d).ok()?;
                Some(r.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
            });
            if rel.is_none() {
                config_warnings.push(format!(
                    "main: `{}` is not inside the `dir` input's directory; the main module is found in `dir` instead",
                    m.display()
                ));
            }
            (d, rel, bundle::Take::Every)
        }
        (Some(d), None) => (d, None, bundle::Take::Every),
        // `main`'s folder may be the project itself: only module types, as wrangler.
        (None, Some(m)) => (
            m.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf(),
            m.file_name().map(|n| n.to_string_lossy().into_owned()),
            bundle::Take::ModuleTypes,
        ),
        (None, None) => (PathBuf::from("dist"), None, bundle::Take::Every),
    }
}

/// `assets_only: true` is for an upload that has assets and nothing that gives code.
fn check_assets_only(
    i: &Inputs,
    assets: Option<&AssetsSpec>,
    config: Option<&wrangler::Config>,
) -> Result<bool, InputError> {
    if !i.bool(Key::AssetsOnly, false)? {
        return Ok(false);
    }
    if assets.is_none() {
        return Err(InputError::new(
            Key::AssetsOnly,
            format!(
                "is `true`, but no assets are given; set {} (or `assets.directory` in the wrangler configuration), or remove `assets_only`",
                hint::input(Key::Assets)
            ),
        ));
    }
    for k in [Key::Dir, Key::MainModule] {
        if i.get(k).is_some() {
            return Err(InputError::new(
                Key::AssetsOnly,
                format!("is `true`, but {} gives code to upload; unset one of them", hint::input(k)),
            ));
        }
    }
    if let Some((c, m)) = config.and_then(|c| c.mapped.main.as_ref().map(|m| (c, m))) {
        return Err(InputError::new(
            Key::AssetsOnly,
            format!("is `true`, but {}:{}: {} gives code to upload; unset one of them", c.file, m.line, m.key),
        ));
    }
    Ok(true)
}

/// The refusal of an upload without code (no `dir`, `main_module` or `main`, assets only)
/// for a Worker whose latest version (`number`) has code, its main module `main`: the new
/// version would serve the assets alone.
pub(crate) fn no_code_refusal(worker: &WorkerName, number: Option<u64>, main: &str) -> InputError {
    let version = number.map_or_else(|| "its latest version".to_owned(), |n| format!("its latest version, {n}"));
    let dist = if Path::new("dist").is_dir() { " (`dist` exists here)" } else { "" };
    InputError::new(
        Key::Dir,
        format!(
            "is not set, so this upload has assets and no code, but Worker {worker} has code ({version}, runs `{main}`): the new version would serve the assets alone and its code would be gone. Set {} to the build output{dist} or `main` in the wrangler configuration; or set {} if replacing the code with the assets is meant",
            hint::input(Key::Dir),
            hint::set(Key::AssetsOnly, "true")
        ),
    )
}

/// Longest Worker name that may have preview URLs: Cloudflare refuses longer ones with 100315
/// (docs/cloudflare-api.md §4.1), since a preview URL's host label holds the name.
pub(crate) const PREVIEWS_NAME_LIMIT: usize = 54;

/// `preview_urls: true` for a name over [`PREVIEWS_NAME_LIMIT`] can only be refused by Cloudflare:
/// refused here, before any request.
fn refuse_long_name_with_previews(worker: &WorkerName, preview_urls: Option<bool>) -> Result<(), InputError> {
    if preview_urls != Some(true) || worker.as_str().len() <= PREVIEWS_NAME_LIMIT {
        return Ok(());
    }
    Err(InputError::new(
        Key::PreviewUrls,
        format!(
            "is `true`, but Worker {worker} has a name of {} characters and Cloudflare allows preview URLs only for names of at most {PREVIEWS_NAME_LIMIT} characters (error 100315): set {} or use a shorter name",
            worker.as_str().len(),
            hint::set(Key::PreviewUrls, "false")
        ),
    ))
}

/// `tag`, at most the 100 bytes of the `workers/tag` annotation (docs/cloudflare-api.md §4.2).
fn tag(i: &Inputs) -> Result<Option<String>, InputError> {
    match i.get(Key::Tag) {
        Some(t) if t.len() > 100 => {
            Err(InputError::new(Key::Tag, "is longer than 100 bytes, the limit of the `workers/tag` annotation"))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

/// The Build Output to upload from: `build_output` as given, else `.cloudflare/output` when it
/// exists and nothing else names the code (no `config`, no wrangler configuration here, no
/// `dir`, `main_module` or `assets`). `None`: the wrangler configuration and the inputs are
/// the source. Inputs that would give the code a second way beside an explicit Build Output
/// are refused: which one wins would be a guess.
pub(crate) fn build_output_root(i: &Inputs) -> Result<Option<PathBuf>, InputError> {
    let Some(root) = i.path(Key::BuildOutput) else {
        let default = Path::new(build_output::DEFAULT_DIR);
        let other_source = i.get(Key::Config).is_some()
            || wrangler::discover(Path::new("")).is_some()
            || [Key::Dir, Key::MainModule, Key::Assets].iter().any(|k| i.get(*k).is_some());
        return Ok((default.is_dir() && !other_source).then(|| default.to_path_buf()));
    };
    if i.get(Key::Config).is_some() {
        return Err(InputError::new(
            Key::BuildOutput,
            format!(
                "and {} are both given, and each describes the whole Worker: drop {} to upload the wrangler configuration, or {} to upload the Build Output",
                hint::input(Key::Config),
                hint::input(Key::BuildOutput),
                hint::input(Key::Config)
            ),
        ));
    }
    for k in [Key::Dir, Key::MainModule, Key::Exclude, Key::Assets, Key::Environment] {
        if i.get(k).is_some() {
            return Err(InputError::new(
                k,
                format!(
                    "cannot be combined with {}: the Build Output gives the Worker's code, assets and configuration; drop one of them",
                    hint::input(Key::BuildOutput)
                ),
            ));
        }
    }
    Ok(Some(root))
}

/// The output's triggers and settings for `target`: those the deploy's apply step maps go into
/// its `Apply` (a Version); a Preview takes no triggers or custom domains (`cf previews deploy`
/// refuses them, §H.7) and gets no script settings from this step; `skip_triggers` leaves them
/// all alone, said in a warning. What cannot be applied is refused by name, never dropped.
/// Returns the apply model and what is left alone.
fn output_apply(
    i: &Inputs,
    target: Target,
    w: &mut build_output::WorkerOutput,
) -> Result<(Apply, Vec<build_output::Unapplied>), InputError> {
    let skip = i.bool(Key::SkipTriggers, false)?;
    let all = || w.applied.iter().chain(&w.unapplied);
    if target == Target::Preview
        && let Some(u) = all().find(|u| u.key.starts_with("triggers") || u.key == "domains")
    {
        return Err(build_output::at(
            &w.file,
            u.line,
            &u.key,
            "a Preview takes no triggers or custom domains (as `cf previews deploy` refuses them): build the Preview without them",
        ));
    }
    let refused: Vec<&build_output::Unapplied> =
        if target == Target::Preview { all().collect() } else { w.unapplied.iter().collect() };
    if !refused.is_empty() && !skip {
        let list: Vec<String> = refused.iter().map(|u| format!("`{}` (line {}: {})", u.key, u.line, u.what)).collect();
        let why = if target == Target::Preview {
            "which workers-ci does not send with a Preview yet (`cf previews deploy` does)"
        } else {
            "which the deploy cannot apply yet"
        };
        return Err(InputError::new(
            Key::SkipTriggers,
            format!(
                "is not set, but {} declares {}, {why}: apply them another way (`cf deploy --prebuilt`, the dashboard) or remove them, then set {} to upload without them",
                w.file,
                list.join(", "),
                hint::set(Key::SkipTriggers, "true")
            ),
        ));
    }
    if skip || target == Target::Preview {
        let left: Vec<build_output::Unapplied> = all().cloned().collect();
        return Ok((Apply::default(), left));
    }
    let apply = Apply {
        spec: std::mem::take(&mut w.deploy),
        prune: i.bool(Key::Prune, false)?,
        takeover: i.bool(Key::Takeover, false)?,
    };
    Ok((apply, Vec::new()))
}

/// The compatibility date and flags: the inputs', else the output's.
fn output_compatibility(i: &Inputs, w: &build_output::WorkerOutput) -> Result<(String, Vec<String>), InputError> {
    let date = i.get(Key::CompatibilityDate).map_or_else(|| w.compatibility_date.clone(), str::to_owned);
    if !rules::date(&date) {
        return Err(InputError::new(Key::CompatibilityDate, "must be a date that exists, written YYYY-MM-DD"));
    }
    if rules::date_in_future(&date) {
        return Err(InputError::new(
            Key::CompatibilityDate,
            format!("(or {}: compatibilityDate) is in the future, which the Workers runtime refuses", w.file),
        ));
    }
    let flags = match i.get(Key::CompatibilityFlags) {
        Some(f) => f.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        None => w.compatibility_flags.clone(),
    };
    Ok((date, flags))
}

/// The upload a Build Output describes (docs/cloudflare-api.md §H), with the inputs that still
/// apply over it: `bindings`/`vars`/`secrets` (by name over the output's `env`), the
/// compatibility date and flags, `workers_dev`/`preview_urls`, `keep_bindings`, `message`, `tag`.
/// `deploy`: the percentage to deploy at (`None`: upload only).
pub(crate) fn from_build_output(
    i: &Inputs,
    target: Target,
    root: &Path,
    deploy: Option<f64>,
) -> Result<VersionArgs, InputError> {
    let purpose = if target == Target::Preview { Purpose::Preview } else { Purpose::Production };
    let BuildOutput { dir, version, mode, account_id, worker: w, .. } =
        build_output::read(root, i.get(Key::Worker), purpose)?;
    if let (Some(theirs), Some(ours)) = (&account_id, i.get(Key::AccountId))
        && !theirs.eq_ignore_ascii_case(ours)
    {
        return Err(InputError::new(
            Key::AccountId,
            format!(
                "is not the account `{dir}/config.json` was built for (its `accountId`, which `cf deploy` would use): build for this account, or set {} to that one",
                hint::input(Key::AccountId)
            ),
        ));
    }
    let mut w = w;
    let (apply, left) = output_apply(i, target, &mut w)?;
    let worker = WorkerName::parse(&w.name)
        .map_err(|_| build_output::at(&w.file, w.name_line, "name", "is not a Worker name"))?;
    let (date, flags) = output_compatibility(i, &w)?;
    let allow_unknown = i.bool(Key::AllowUnknownBindings, false)?;
    let mut bindings = bindings::parse(i.get(Key::Bindings), i.get(Key::Vars), i.get(Key::Secrets), allow_unknown)?;
    let given: Vec<String> = bindings.described().into_iter().map(|(n, _)| n).collect();
    let from_file: Vec<serde_json::Value> =
        w.bindings.iter().filter(|b| !given.iter().any(|n| b["name"] == n.as_str())).cloned().collect();
    let preview_bindings = (target == Target::Preview).then(|| PreviewBindings {
        block: Some(format!("{}: env", w.file)),
        from_block: from_file.iter().map(name_and_type).collect(),
        from_inputs: bindings.list.iter().map(name_and_type).collect(),
        production_only: Vec::new(),
    });
    let mut list = from_file;
    list.append(&mut bindings.list);
    bindings.list = list;
    let assets = assets_spec(i, &mut bindings.list, w.assets)?;
    let keep = match i.get(Key::KeepBindings) {
        None => Keep::Auto,
        Some(v) => Keep::parse(v)
            .ok_or_else(|| InputError::new(Key::KeepBindings, "must be `auto`, `secrets`, `all` or `none`"))?,
    };
    let optional_bool = |k: Key| -> Result<Option<bool>, InputError> {
        i.get(k).map(|v| rules::boolean(v).ok_or_else(|| InputError::new(k, "must be `true` or `false`"))).transpose()
    };
    let workers_dev = optional_bool(Key::WorkersDev)?.or(w.workers_dev);
    let preview_urls = optional_bool(Key::PreviewUrls)?.or(w.preview_urls);
    refuse_long_name_with_previews(&worker, preview_urls)?;
    let skipped = left.iter().map(|u| format!("{} ({})", u.key, u.what)).collect();
    let exports = w
        .exports
        .take()
        .map(|(map, line)| ExportsSpec { map, written: Written { file: w.file.clone(), line, key: "exports".into() } });
    let rollout = rollout(i, target, deploy, &worker)?;
    Ok(VersionArgs {
        worker_written: Some(Written { file: w.file.clone(), line: w.name_line, key: "name".into() }),
        worker,
        modules: w.modules,
        main_module: w.main_module,
        compatibility_date: date,
        compatibility_flags: flags,
        bindings,
        keep,
        skipped: Vec::new(),
        accepted: Accepted {
            assets_only: i.bool(Key::AssetsOnly, false)?,
            drop_assets: i.bool(Key::DropAssets, false)?,
        },
        message: message(i)?,
        tag: tag(i)?,
        create_worker: i.bool(Key::CreateWorker, false)?,
        workers_dev,
        preview_urls,
        has_routes: w.has_routes,
        preview_bindings,
        deploy,
        assets,
        placement: w.placement,
        limits: w.limits,
        cache_options: w.cache_options,
        keep_vars: false,
        migrations: Vec::new(),
        exports,
        config_file: None,
        config_warnings: w.warnings,
        rollout,
        apply,
        build_output: Some(BuildOutputSource { dir, version, mode, file: w.file, skipped }),
    })
}

impl VersionArgs {
    pub(crate) fn from_inputs(i: &Inputs) -> Result<VersionArgs, InputError> {
        Self::from_inputs_for(i, Target::Version)
    }

    /// The upload `target` gets: a Preview is bound to the file's `previews` block and the
    /// inputs, never to the file's production bindings.
    #[allow(clippy::too_many_lines, reason = "every input of an upload, in the order a user reads them")]
    pub(crate) fn from_inputs_for(i: &Inputs, target: Target) -> Result<VersionArgs, InputError> {
        if let Some(root) = build_output_root(i)? {
            let deploy = deploy_percentage(i)?;
            return from_build_output(i, target, &root, deploy);
        }
        let (config, mut config_warnings) = wrangler_config(i)?;
        let file = config.as_ref().map(|c| &c.mapped);
        let worker = worker(i, config.as_ref())?;
        let worker_written = match (i.get(Key::Worker), file.and_then(|f| f.name.as_ref())) {
            (None, Some((_, line, key))) => {
                Some(Written { file: config_name(config.as_ref()), line: *line, key: key.clone() })
            }
            _ => None,
        };
        let (date, flags) = compatibility(i, config.as_ref())?;
        let allow_unknown = i.bool(Key::AllowUnknownBindings, false)?;
        let mut bindings = bindings::parse(i.get(Key::Bindings), i.get(Key::Vars), i.get(Key::Secrets), allow_unknown)?;
        let preview_bindings = with_file_bindings(&mut bindings, config.as_ref(), target);
        let assets = assets_spec(i, &mut bindings.list, file.and_then(|f| f.assets.clone()))?;
        let keep = match i.get(Key::KeepBindings) {
            None => Keep::Auto,
            Some(v) => Keep::parse(v)
                .ok_or_else(|| InputError::new(Key::KeepBindings, "must be `auto`, `secrets`, `all` or `none`"))?,
        };
        let optional_bool = |k: Key| -> Result<Option<bool>, InputError> {
            i.get(k)
                .map(|v| rules::boolean(v).ok_or_else(|| InputError::new(k, "must be `true` or `false`")))
                .transpose()
        };
        let (workers_dev, preview_urls) = (
            optional_bool(Key::WorkersDev)?.or(file.and_then(|f| f.workers_dev)),
            optional_bool(Key::PreviewUrls)?.or(file.and_then(|f| f.preview_urls)),
        );
        let deploy = deploy_percentage(i)?;
        let rollout = rollout(i, target, deploy, &worker)?;
        refuse_long_name_with_previews(&worker, preview_urls)?;
        let main = match (&config, file.and_then(|f| f.main.as_ref())) {
            (Some(c), Some(m)) => Some(checked_main(c, m, i.get(Key::Dir).is_some())?),
            _ => None,
        };
        let declared_assets_only = check_assets_only(i, assets.as_ref(), config.as_ref())?;
        let no_code_input = i.get(Key::Dir).is_none() && i.get(Key::MainModule).is_none() && main.is_none();
        // A misspelt `main` would leave the code to the `dist` default: the misspelling is named.
        if no_code_input
            && !declared_assets_only
            && let Some(e) = config.as_ref().and_then(|c| c.misspelt("main", "(it names the Worker's code)"))
        {
            return Err(e);
        }
        let (dir, main_from_file, take) = dir_and_main(i, main.as_deref(), &mut config_warnings);
        // No code: assets without `dir`, `main_module` or the file's `main`, as wrangler's
        // configuration without `main` (docs/cloudflare-api.md §A.8). `dir` does not default to
        // `dist` then (a site's own build folder is often `dist`); the flow refuses it for a
        // Worker that has code unless `assets_only` says it is meant.
        let assets_only = assets.is_some() && no_code_input;
        let (modules, skipped, main_module) = if assets_only {
            (Vec::new(), Vec::new(), None)
        } else {
            let exclude = bundle::exclude_set(i.get(Key::Exclude))?;
            let bundle::Scan { modules, skipped } =
                bundle::scan(&dir, &exclude, take, assets.as_ref().map(|a| a.directory.as_path()))?;
            let main_module = bundle::main_module(&modules, i.get(Key::MainModule).or(main_from_file.as_deref()))?;
            (modules, skipped, Some(main_module))
        };
        let config_file = config.as_ref().map(|c| (c.file.clone(), i.get(Key::Environment).map(str::to_owned)));
        let has_routes = file.is_some_and(|f| f.has_routes);
        let apply = Apply::from_inputs(i, target, file)?;
        let exports = match (&config, file.and_then(|f| f.exports.as_ref())) {
            (Some(c), Some((map, line, key))) => Some(ExportsSpec {
                map: map.clone(),
                written: Written { file: config_name(Some(c)), line: *line, key: key.clone() },
            }),
            _ => None,
        };
        let (placement, limits, cache_options, keep_vars, migrations) = match config {
            Some(mut c) => {
                config_warnings.append(&mut c.mapped.warnings);
                if let (Target::Preview, Some(block)) = (target, c.mapped.previews.as_mut()) {
                    config_warnings.append(&mut block.warnings);
                }
                versioned_settings(c.mapped, target)
            }
            None => (None, None, None, false, Vec::new()),
        };
        Ok(VersionArgs {
            worker,
            worker_written,
            modules,
            main_module,
            compatibility_date: date,
            compatibility_flags: flags,
            bindings,
            keep,
            skipped,
            accepted: Accepted { assets_only: declared_assets_only, drop_assets: i.bool(Key::DropAssets, false)? },
            message: message(i)?,
            tag: tag(i)?,
            create_worker: i.bool(Key::CreateWorker, false)?,
            workers_dev,
            preview_urls,
            has_routes,
            preview_bindings,
            deploy,
            rollout,
            assets,
            placement,
            limits,
            cache_options,
            keep_vars,
            migrations,
            exports,
            apply,
            config_file,
            config_warnings,
            build_output: None,
        })
    }

    /// What `preview` with `preview_action: delete` reads: the Worker alone (no code).
    pub(crate) fn for_delete(i: &Inputs) -> Result<VersionArgs, InputError> {
        Ok(VersionArgs {
            worker: worker_name(i)?,
            worker_written: None,
            modules: Vec::new(),
            main_module: None,
            compatibility_date: String::new(),
            compatibility_flags: Vec::new(),
            bindings: Bindings::default(),
            keep: Keep::Auto,
            skipped: Vec::new(),
            accepted: Accepted::default(),
            message: None,
            tag: None,
            create_worker: false,
            workers_dev: None,
            preview_urls: None,
            has_routes: false,
            preview_bindings: None,
            deploy: None,
            rollout: None,
            assets: None,
            placement: None,
            limits: None,
            cache_options: None,
            keep_vars: false,
            migrations: Vec::new(),
            exports: None,
            apply: Apply::default(),
            config_file: None,
            config_warnings: Vec::new(),
            build_output: None,
        })
    }

    /// Whether the upload declares a Durable Object lifecycle in `exports`: it then goes through
    /// the classic upload, which deploys at 100 % (docs/cloudflare-api.md §H.10).
    pub(crate) fn exports_lifecycle(&self) -> bool {
        self.exports.as_ref().is_some_and(ExportsSpec::has_durable_objects)
    }

    /// Whether this run deploys its upload at 100 % at once (no `stages`): the one upload that
    /// may change a Durable Object lifecycle (the classic one, docs/cloudflare-api.md §H.10).
    pub(crate) fn deploys_at_once(&self) -> bool {
        self.rollout.is_none() && self.deploy.is_some_and(|p| p >= 100.0)
    }

    /// Whether a deploy of this upload applies a configuration's triggers and settings.
    pub(crate) fn apply_named(&self) -> bool {
        self.deploy.is_some_and(|p| p >= 100.0) && self.apply.spec.any()
    }

    /// Values to mask before anything prints.
    pub(crate) fn secrets(&self) -> &[String] {
        &self.bindings.secret_values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_compatibility_dates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.js"), "export default {}").unwrap();
        let mut i = Inputs::default();
        i.set(Key::Worker, "w");
        i.set(Key::Dir, &dir.path().to_string_lossy());
        i.set(Key::CompatibilityDate, "2026-02-31");
        let e = VersionArgs::from_inputs(&i).unwrap_err();
        assert_eq!(e.input(), "compatibility_date");
        i.set(Key::CompatibilityDate, "2026-02-28");
        assert!(VersionArgs::from_inputs(&i).is_ok());
    }
}

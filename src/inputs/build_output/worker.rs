//! One `workers/<dir>/` of a Build Output: `worker.config.json` checked against its strict
//! schema (docs/cloudflare-api.md §H.3), the manifest turned into modules (§H.4), `assets/`
//! (§H.5), and `env` mapped onto the version's bindings in the API's shape (the same shapes
//! the wrangler mapping sends, §D.2).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::{at, read_json, strict};
use crate::cloudflare::workers::Limits;
use crate::inputs::bundle::ModuleFile;
use crate::inputs::tree::{Node, Val, index, join};
use crate::inputs::upload::{AssetsSpec, Written};
use crate::inputs::wrangler::map::deploy::{ConsumerSpec, DeploySpec, RouteSpec, cron_shape};

/// The keys of `worker.config.json` (§H.3). v0 trees written before 2026-09 also carry
/// `type: "worker"` (§H.0), accepted there only.
const KEYS: &[&str] = &[
    "name",
    "compatibilityDate",
    "compatibilityFlags",
    "assets",
    "domains",
    "triggers",
    "tailConsumers",
    "experimental",
    "cache",
    "placement",
    "limits",
    "logpush",
    "observability",
    "access",
    "workersDev",
    "previewUrls",
    "unsafe",
    "env",
    "exports",
    "manifest",
];

/// A trigger or setting the output declares, with where: those the deploy's apply step maps
/// (`WorkerOutput::applied`) and those it cannot yet (`WorkerOutput::unapplied`, refused by
/// name unless `skip_triggers` says leaving them alone is meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unapplied {
    /// `triggers`, `domains`, `observability`, …
    pub key: String,
    pub line: usize,
    /// What it holds, e.g. `2 routes, 1 cron schedule`.
    pub what: String,
}

#[derive(Debug)]
pub(crate) struct WorkerOutput {
    /// `worker.config.json`'s path, for messages.
    pub file: String,
    pub name: String,
    pub name_line: usize,
    pub compatibility_date: String,
    pub compatibility_flags: Vec<String>,
    /// `None`: assets only (no manifest).
    pub main_module: Option<String>,
    pub modules: Vec<ModuleFile>,
    /// In the API's shape; the assets binding is in `assets`.
    pub bindings: Vec<Value>,
    pub assets: Option<AssetsSpec>,
    pub placement: Option<Value>,
    pub limits: Option<Limits>,
    pub cache_options: Option<Value>,
    /// `exports` (§H.10) in the API's shape, with the key's line.
    pub exports: Option<(crate::cloudflare::workers::Exports, usize)>,
    pub workers_dev: Option<bool>,
    pub preview_urls: Option<bool>,
    /// Whether it routes the Worker (`fetch` triggers or `domains`): created off workers.dev
    /// then, as wrangler does (§C.7).
    pub has_routes: bool,
    /// The triggers and settings in the deploy's apply model (routes, custom domains, crons,
    /// queue consumers, observability, logpush, tail consumers), as `cf deploy --prebuilt`
    /// hands them to wrangler's deploy (§H.6). A key the file omits is `None`: left alone.
    pub deploy: DeploySpec,
    /// What `deploy` holds, by key, for the plan's messages (a Preview or `skip_triggers`
    /// leaves them all alone).
    pub applied: Vec<Unapplied>,
    pub unapplied: Vec<Unapplied>,
    pub warnings: Vec<String>,
}

struct Reader<'a> {
    file: &'a str,
    /// `v0` or `v1`: a few keys belong to one schema only.
    version: &'a str,
}

impl Reader<'_> {
    fn str<'n>(&self, n: &'n Node, path: &str) -> Result<&'n str, crate::inputs::InputError> {
        n.as_str().ok_or_else(|| at(self.file, n.line, path, format!("must be a string, not {}", n.value.kind())))
    }

    fn bool(&self, n: &Node, path: &str) -> Result<bool, crate::inputs::InputError> {
        match n.value {
            Val::Bool(b) => Ok(b),
            _ => Err(at(self.file, n.line, path, format!("must be `true` or `false`, not {}", n.value.kind()))),
        }
    }

    fn strs(&self, n: &Node, path: &str) -> Result<Vec<String>, crate::inputs::InputError> {
        let Val::Arr(items) = &n.value else {
            return Err(at(self.file, n.line, path, format!("must be an array of strings, not {}", n.value.kind())));
        };
        items.iter().enumerate().map(|(i, x)| self.str(x, &index(path, i)).map(str::to_owned)).collect()
    }

    fn positive(&self, n: &Node, path: &str) -> Result<u64, crate::inputs::InputError> {
        match n.value {
            Val::Int(i) if i > 0 => Ok(i as u64),
            _ => Err(at(self.file, n.line, path, "must be a whole number above 0")),
        }
    }

    fn one_of<'n>(&self, n: &'n Node, path: &str, allowed: &[&str]) -> Result<&'n str, crate::inputs::InputError> {
        let s = self.str(n, path)?;
        if allowed.contains(&s) {
            return Ok(s);
        }
        let list = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
        Err(at(self.file, n.line, path, format!("must be one of {list}")))
    }
}

/// Reads `dir` (a `workers/<dir>/`) of a tree of `version`.
pub(super) fn read(dir: &Path, version: &str) -> Result<WorkerOutput, crate::inputs::InputError> {
    let (file, root) = read_json(&dir.join("worker.config.json"))?;
    let r = Reader { file: &file, version };
    let mut keys: Vec<&str> = KEYS.to_vec();
    if version == "v0" {
        keys.push("type");
    }
    let entries = strict(&file, &root, "", &keys)?;
    let get = |k: &str| entries.iter().find(|(key, _, _)| key == k).map(|(_, _, n)| n);
    let required = |k: &str, how: &str| get(k).ok_or_else(|| at(&file, root.line, k, format!("is required ({how})")));
    let name_node = required("name", "the Worker's name")?;
    let name = r.str(name_node, "name")?.to_owned();
    if !crate::inputs::rules::worker_name(&name) {
        return Err(at(
            &file,
            name_node.line,
            "name",
            "is not a Worker name (lowercase letters, digits, `-` and `_`, at most 63 characters)",
        ));
    }
    let date_node = required("compatibilityDate", "the date the Worker was written against, e.g. 2026-11-01")?;
    let compatibility_date = r.str(date_node, "compatibilityDate")?.to_owned();
    if !crate::inputs::rules::date(&compatibility_date) {
        return Err(at(&file, date_node.line, "compatibilityDate", "must be a date that exists, written YYYY-MM-DD"));
    }
    let mut out = WorkerOutput {
        file: file.clone(),
        name,
        name_line: name_node.line,
        compatibility_date,
        compatibility_flags: Vec::new(),
        main_module: None,
        modules: Vec::new(),
        bindings: Vec::new(),
        assets: None,
        placement: None,
        limits: None,
        cache_options: None,
        exports: None,
        workers_dev: None,
        preview_urls: None,
        has_routes: false,
        deploy: DeploySpec::default(),
        applied: Vec::new(),
        unapplied: Vec::new(),
        warnings: Vec::new(),
    };
    let mut assets_binding: Option<String> = None;
    for (k, line, v) in entries {
        apply(&r, &mut out, &mut assets_binding, dir, (k, *line, v))?;
    }
    let assets_dir = dir.join("assets");
    match (assets_dir.is_dir(), out.assets.take()) {
        (true, spec) => {
            out.assets = Some(AssetsSpec {
                directory: assets_dir,
                binding: assets_binding,
                directory_written: Some(Written { file: file.clone(), line: root.line, key: "assets/".into() }),
                ..spec.unwrap_or_default()
            });
        }
        (false, Some(_)) => {
            return Err(at(
                &file,
                get("assets").map_or(root.line, |n| n.line),
                "assets",
                "configures static assets, but the Worker has no `assets/` directory beside this file",
            ));
        }
        (false, None) if assets_binding.is_some() => {
            return Err(at(
                &file,
                root.line,
                "env",
                "binds the assets (`type: assets`), but the Worker has no `assets/` directory",
            ));
        }
        (false, None) => {}
    }
    if out.main_module.is_none() && out.assets.is_none() {
        return Err(at(
            &file,
            root.line,
            "manifest",
            "is missing and there is no `assets/` directory: a Worker needs code (`manifest` and `bundle/`) or assets",
        ));
    }
    if out.main_module.is_none() && out.assets.as_ref().is_some_and(|a| a.run_worker_first.is_some()) {
        return Err(at(
            &file,
            root.line,
            "assets.runWorkerFirst",
            "needs code to run first, but the Worker has no `manifest`",
        ));
    }
    Ok(out)
}

/// One key of `worker.config.json` into `out` (the assets binding's name into `assets_binding`).
fn apply(
    r: &Reader<'_>,
    out: &mut WorkerOutput,
    assets_binding: &mut Option<String>,
    dir: &Path,
    (k, line, v): (&str, usize, &Node),
) -> Result<(), crate::inputs::InputError> {
    let file = r.file;
    match k {
        "name" | "compatibilityDate" => {}
        "type" => {
            if r.str(v, k)? != "worker" {
                return Err(at(file, v.line, k, "must be `worker` (the only type of a v0 Worker configuration)"));
            }
        }
        "compatibilityFlags" => out.compatibility_flags = r.strs(v, k)?,
        "manifest" => {
            let (main, modules) = manifest(r, v, &dir.join("bundle"))?;
            out.main_module = Some(main);
            out.modules = modules;
        }
        "assets" => out.assets = Some(assets_config(r, v)?),
        "env" => (out.bindings, *assets_binding) = env(r, v, &out.name)?,
        "workersDev" => out.workers_dev = Some(r.bool(v, k)?),
        "previewUrls" => out.preview_urls = Some(r.bool(v, k)?),
        "limits" => out.limits = Some(limits(r, v)?),
        "cache" => {
            let t = strict(file, v, k, &["enabled", "crossVersionCache"])?;
            let mut c = Map::new();
            for (ck, _, cv) in t {
                let api = if ck == "enabled" { "enabled" } else { "cross_version_cache" };
                c.insert(api.into(), r.bool(cv, &join(k, ck))?.into());
            }
            out.cache_options = Some(Value::Object(c));
        }
        "placement" => out.placement = placement(r, v)?,
        "triggers" => triggers(r, out, v)?,
        "domains" => domains(r, out, v, line)?,
        "observability" => {
            out.deploy.observability = Some(observability(r, v)?);
            out.applied.push(Unapplied { key: k.into(), line, what: "a script setting".into() });
        }
        "logpush" => {
            out.deploy.logpush = Some(r.bool(v, k)?);
            out.applied.push(Unapplied { key: k.into(), line, what: "a script setting".into() });
        }
        "tailConsumers" => tail_consumers(r, out, v, line)?,
        "experimental" => {
            for (ek, el, ev) in strict(file, v, k, &["streamingTailConsumers", "firstPartyWorker"])? {
                if ek == "firstPartyWorker" {
                    if r.bool(ev, &join(k, ek))? {
                        return Err(unsupported(file, *el, &join(k, ek), "first-party Workers"));
                    }
                } else {
                    out.unapplied.push(Unapplied { key: join(k, ek), line: *el, what: STREAMING.into() });
                }
            }
        }
        "access" => out.warnings.push(format!(
            "{file}:{line}: access: not applied: it configures `wrangler dev`'s Access check, not the deployed Worker"
        )),
        "unsafe" => return Err(unsupported(file, line, k, "`unsafe` metadata")),
        "exports" => {
            let e = crate::inputs::exports::read(v, k, crate::inputs::exports::Spelling::Camel)
                .map_err(|e| at(file, e.line, &e.path, e.problem))?;
            out.exports = Some((e, line));
        }
        _ => unreachable!("the strict check lets only KEYS through"),
    }
    Ok(())
}

/// Why streaming tail consumers are refused by name.
const STREAMING: &str = "streaming tail consumers, which workers-ci cannot apply yet: only wrangler's classic upload carries them (docs/cloudflare-api.md §T.9)";

fn unsupported(file: &str, line: usize, path: &str, what: &str) -> crate::inputs::InputError {
    at(
        file,
        line,
        path,
        format!(
            "{what}: workers-ci does not deploy this yet, and will not leave it out; deploy this output with `cf deploy --prebuilt`, or remove it from the configuration"
        ),
    )
}

/// Module types (§H.4) and the content types the upload gives them (wrangler's mapping:
/// `json` goes up as text).
const MODULE_TYPES: &[(&str, &str)] = &[
    ("esm", "application/javascript+module"),
    ("cjs", "application/javascript"),
    ("python", "text/x-python"),
    ("python-requirement", "text/x-python-requirement"),
    ("wasm", "application/wasm"),
    ("text", "text/plain"),
    ("data", "application/octet-stream"),
    ("json", "text/plain"),
    ("sourcemap", "application/source-map"),
];

/// `manifest` and `bundle/`: the main module's name and every module, by path relative to
/// `bundle/` (§H.4; a partial manifest adds the `.js`/`.mjs`/`.map` files found there).
fn manifest(r: &Reader<'_>, n: &Node, bundle: &Path) -> Result<(String, Vec<ModuleFile>), crate::inputs::InputError> {
    let file = r.file;
    let t = strict(file, n, "manifest", &["type", "mainModule", "modules"])?;
    let get = |k: &str| t.iter().find(|(key, _, _)| key == k).map(|(_, _, v)| v);
    let need = |k: &str| get(k).ok_or_else(|| at(file, n.line, &join("manifest", k), "is required"));
    let kind = r.one_of(need("type")?, "manifest.type", &["complete", "partial"])?;
    let main_node = need("mainModule")?;
    let main = r.str(main_node, "manifest.mainModule")?.to_owned();
    let modules_node = need("modules")?;
    let Val::Table(listed) = &modules_node.value else {
        return Err(at(file, modules_node.line, "manifest.modules", "must be an object of module paths"));
    };
    if !bundle.is_dir() {
        return Err(at(
            file,
            n.line,
            "manifest",
            "names modules, but there is no `bundle/` directory beside this file",
        ));
    }
    // (path, type, line of the entry)
    let mut typed: Vec<(String, String, usize)> = Vec::new();
    for (path, line, entry) in listed {
        let p = join("manifest.modules", path);
        let e = strict(file, entry, &p, &["type"])?;
        let ty = match e.first() {
            Some((_, _, tn)) => {
                r.one_of(tn, &join(&p, "type"), &MODULE_TYPES.iter().map(|(t, _)| *t).collect::<Vec<_>>())?
            }
            None => return Err(at(file, entry.line, &join(&p, "type"), "is required")),
        };
        if !inside(path) {
            return Err(at(
                file,
                *line,
                &p,
                "escapes the `bundle/` directory: module paths are relative to it, with `/`",
            ));
        }
        typed.push((path.clone(), ty.to_owned(), *line));
    }
    let listed_main = typed.iter().any(|(p, _, _)| *p == main);
    match kind {
        "complete" if !listed_main => {
            return Err(at(
                file,
                main_node.line,
                "manifest.mainModule",
                "is not listed in `manifest.modules`, which a complete manifest must do",
            ));
        }
        "partial" if listed_main => {
            return Err(at(
                file,
                main_node.line,
                "manifest.mainModule",
                "is listed in `manifest.modules`, which a partial manifest must not do",
            ));
        }
        "partial" => {
            // The bundle's own files, typed by extension, under the explicit entries.
            for f in walk(bundle) {
                let ty = if f.ends_with(".js") || f.ends_with(".mjs") {
                    "esm"
                } else if f.ends_with(".map") {
                    "sourcemap"
                } else {
                    continue;
                };
                if !typed.iter().any(|(p, _, _)| *p == f) {
                    typed.push((f, ty.to_owned(), main_node.line));
                }
            }
            if !typed.iter().any(|(p, t, _)| *p == main && t == "esm") {
                return Err(at(
                    file,
                    main_node.line,
                    "manifest.mainModule",
                    "was not found as an ES module (`.js`/`.mjs`) in `bundle/`, which a partial manifest requires",
                ));
            }
        }
        _ => {}
    }
    if typed.iter().any(|(p, t, _)| *p == main && t == "sourcemap") {
        return Err(at(file, main_node.line, "manifest.mainModule", "is a source map; the main module must be code"));
    }
    let mut modules = Vec::new();
    for (path, ty, line) in typed {
        let on_disk: PathBuf = path.split('/').fold(bundle.to_path_buf(), |p, s| p.join(s));
        let meta = std::fs::metadata(&on_disk).ok().filter(std::fs::Metadata::is_file).ok_or_else(|| {
            at(
                file,
                line,
                &join("manifest.modules", &path),
                format!("names `bundle/{path}`, which does not exist: build again"),
            )
        })?;
        let content_type = MODULE_TYPES.iter().find(|(t, _)| *t == ty).map_or("application/octet-stream", |(_, c)| *c);
        modules.push(ModuleFile { name: path, path: on_disk, content_type, size: meta.len() });
    }
    modules.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((main, modules))
}

/// A relative path of plain segments: no `..`, `.`, empty segment, backslash or root.
fn inside(path: &str) -> bool {
    !path.is_empty() && !path.contains('\\') && path.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

/// Every file under `dir`, as `/`-separated paths relative to it, sorted.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if e.path().is_dir() {
                stack.push((e.path(), rel));
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn assets_config(r: &Reader<'_>, n: &Node) -> Result<AssetsSpec, crate::inputs::InputError> {
    let mut spec = AssetsSpec::default();
    for (k, _, v) in strict(r.file, n, "assets", &["htmlHandling", "notFoundHandling", "basePath", "runWorkerFirst"])? {
        let p = join("assets", k);
        match k.as_str() {
            "htmlHandling" => {
                spec.html_handling = Some(
                    r.one_of(v, &p, &["auto-trailing-slash", "drop-trailing-slash", "force-trailing-slash", "none"])?
                        .into(),
                );
            }
            "notFoundHandling" => {
                spec.not_found_handling =
                    Some(r.one_of(v, &p, &["single-page-application", "404-page", "none"])?.into());
            }
            "basePath" => spec.base_path = Some(r.str(v, &p)?.into()),
            _ => {
                spec.run_worker_first = Some(match &v.value {
                    Val::Bool(b) => Value::Bool(*b),
                    _ => r
                        .strs(v, &p)
                        .map_err(|_| at(r.file, v.line, &p, "must be `true`, `false` or an array of route patterns"))?
                        .into(),
                });
            }
        }
    }
    Ok(spec)
}

fn limits(r: &Reader<'_>, n: &Node) -> Result<Limits, crate::inputs::InputError> {
    let mut l = Limits::default();
    for (k, _, v) in strict(r.file, n, "limits", &["cpuMs", "subrequests"])? {
        let value = Some(r.positive(v, &join("limits", k))?);
        if k == "cpuMs" {
            l.cpu_ms = value;
        } else {
            l.subrequests = value;
        }
    }
    Ok(l)
}

/// `placement` as the version takes it (§C.3): `smart`, or `targeted` with one target; `off`
/// sends none. `hint` is refused: the version's placement has no field for it.
fn placement(r: &Reader<'_>, n: &Node) -> Result<Option<Value>, crate::inputs::InputError> {
    let t = strict(r.file, n, "placement", &["mode", "hint", "region", "host", "hostname"])?;
    let mut mode = None;
    let mut targets = Vec::new();
    for (k, line, v) in t {
        let p = join("placement", k);
        match k.as_str() {
            "mode" => mode = Some(r.one_of(v, &p, &["off", "smart", "targeted"])?),
            "hint" => {
                return Err(unsupported(
                    r.file,
                    *line,
                    &p,
                    "a placement hint (the version's placement has no field for it, docs/cloudflare-api.md §C.3)",
                ));
            }
            _ => targets.push((k.as_str(), r.str(v, &p)?)),
        }
    }
    match (mode, targets.as_slice()) {
        (Some("off"), []) => Ok(None),
        (Some("smart"), []) => Ok(Some(json!({ "mode": "smart" }))),
        (Some("targeted") | None, [(k, v)]) => Ok(Some(json!({ "mode": "targeted", *k: v }))),
        _ => Err(at(
            r.file,
            n.line,
            "placement",
            "must be `{\"mode\": \"off\"}`, `{\"mode\": \"smart\"}`, or exactly one of `region`, `host`, `hostname`",
        )),
    }
}

/// `triggers` (§H.3) into the apply model, as `cf deploy` converts them (NPM
/// `cli.js:143043-143105`): `fetch` → routes (`zone` with a `.` is a zone name, else a zone id),
/// `scheduled` → cron schedules, `queue` → queue consumers (§T.5's body). A kind the array holds
/// is the whole list of that kind; a kind it does not hold is left alone. `email` and `connect`
/// are not applied yet: refused by name.
fn triggers(r: &Reader<'_>, out: &mut WorkerOutput, n: &Node) -> Result<(), crate::inputs::InputError> {
    let file = r.file;
    let Val::Arr(items) = &n.value else {
        return Err(at(file, n.line, "triggers", "must be an array"));
    };
    let (mut routes, mut crons, mut consumers) = (None::<Vec<RouteSpec>>, None::<Vec<String>>, None);
    for (i, item) in items.iter().enumerate() {
        let p = index("triggers", i);
        let ty = item.get("type").ok_or_else(|| at(file, item.line, &join(&p, "type"), "is required"))?;
        let ty = r.one_of(ty, &join(&p, "type"), &["fetch", "scheduled", "queue", "email", "connect"])?;
        let keys: &[&str] = match ty {
            "fetch" => &["type", "pattern", "zone"],
            "scheduled" => &["type", "schedule"],
            "queue" => &[
                "type",
                "name",
                "deadLetterQueue",
                "maxBatchSize",
                "maxBatchTimeout",
                "maxConcurrency",
                "maxRetries",
                "retryDelay",
                "visibilityTimeoutMs",
            ],
            "email" => &["type", "addresses"],
            _ => &["type", "protocol", "port", "address", "idleTimeoutMs", "maxPendingBytes"],
        };
        let fields = strict(file, item, &p, keys)?;
        let get = |k: &str| fields.iter().find(|(key, _, _)| key == k).map(|(_, _, v)| v);
        let need = |k: &str| get(k).ok_or_else(|| at(file, item.line, &join(&p, k), "is required"));
        match ty {
            "fetch" => {
                let pn = need("pattern")?;
                let pattern = r.str(pn, &join(&p, "pattern"))?;
                if pattern.trim().is_empty() || pattern.chars().any(char::is_whitespace) {
                    return Err(at(
                        file,
                        pn.line,
                        &join(&p, "pattern"),
                        "must be a route pattern such as `example.com/*`, without spaces",
                    ));
                }
                let zone = get("zone").map(|z| r.str(z, &join(&p, "zone"))).transpose()?;
                let (zone_name, zone_id) = match zone {
                    Some(z) if z.contains('.') => (Some(z.to_owned()), None),
                    Some(z) => (None, Some(z.to_owned())),
                    None => (None, None),
                };
                routes.get_or_insert_with(Vec::new).push(RouteSpec {
                    pattern: pattern.to_owned(),
                    zone_id,
                    zone_name,
                    at: format!("{file}: {p}"),
                });
            }
            "scheduled" => {
                let sn = need("schedule")?;
                let cron = r.str(sn, &join(&p, "schedule"))?;
                if !cron_shape(cron) {
                    return Err(at(
                        file,
                        sn.line,
                        &join(&p, "schedule"),
                        "is not a cron expression of five fields (minute hour day-of-month month day-of-week), e.g. `*/30 * * * *`",
                    ));
                }
                crons.get_or_insert_with(Vec::new).push(cron.to_owned());
            }
            "queue" => consumers.get_or_insert_with(Vec::new).push(consumer(r, out, item, &p, fields)?),
            _ => out.unapplied.push(Unapplied {
                key: p.clone(),
                line: item.line,
                what: format!("an `{ty}` trigger, which workers-ci does not apply yet"),
            }),
        }
    }
    let parts: Vec<String> = [
        (routes.as_ref().map(Vec::len), "route", "routes"),
        (crons.as_ref().map(Vec::len), "cron schedule", "cron schedules"),
        (consumers.as_ref().map(Vec::len), "queue consumer", "queue consumers"),
    ]
    .into_iter()
    .filter_map(|(count, one, many)| count.map(|c| crate::ci::plural(c, one, many)))
    .collect();
    if !parts.is_empty() {
        out.applied.push(Unapplied { key: "triggers".into(), line: n.line, what: parts.join(", ") });
    }
    out.has_routes |= routes.is_some();
    out.deploy.routes = routes;
    out.deploy.crons = crons;
    out.deploy.consumers = consumers;
    Ok(())
}

/// A `queue` trigger in the API's terms (§T.5), as wrangler's `queues.consumers[]`:
/// `maxBatchSize` → `batch_size`, `maxBatchTimeout` seconds → `max_wait_time_ms`.
/// `visibilityTimeoutMs` is for pull consumers: wrangler never sends it for a Worker's (§T.5).
fn consumer(
    r: &Reader<'_>,
    out: &mut WorkerOutput,
    item: &Node,
    p: &str,
    fields: &[(String, usize, Node)],
) -> Result<ConsumerSpec, crate::inputs::InputError> {
    let file = r.file;
    let mut settings = Map::new();
    let (mut queue, mut dead_letter_queue) = (None, None);
    for (k, line, v) in fields {
        let kp = join(p, k);
        let whole = |v: &Node| match v.value {
            Val::Int(i) if i >= 0 => Ok(i as u64),
            _ => Err(at(file, v.line, &kp, "must be a whole number, 0 or more")),
        };
        match k.as_str() {
            "name" => queue = Some(r.str(v, &kp)?.to_owned()),
            "deadLetterQueue" => dead_letter_queue = Some(r.str(v, &kp)?.to_owned()),
            "maxBatchSize" => _ = settings.insert("batch_size".into(), whole(v)?.into()),
            "maxRetries" => _ = settings.insert("max_retries".into(), whole(v)?.into()),
            "retryDelay" => _ = settings.insert("retry_delay".into(), whole(v)?.into()),
            "maxBatchTimeout" => {
                let secs = match v.value {
                    Val::Int(i) if i >= 0 => i as f64,
                    Val::Float(f) if f >= 0.0 => f,
                    _ => return Err(at(file, v.line, &kp, "must be a number of seconds, 0 or more")),
                };
                settings.insert("max_wait_time_ms".into(), json!((secs * 1000.0).round() as u64));
            }
            "maxConcurrency" => {
                let value = match v.value {
                    Val::Null => Value::Null,
                    Val::Int(i) if i > 0 => json!(i),
                    _ => return Err(at(file, v.line, &kp, "must be a whole number above 0, or null")),
                };
                settings.insert("max_concurrency".into(), value);
            }
            "visibilityTimeoutMs" => out.warnings.push(format!(
                "{file}:{line}: {kp}: not sent: it applies to pull consumers, and a Worker's consumer takes none (wrangler does not send it either)"
            )),
            _ => {}
        }
    }
    let queue =
        queue.ok_or_else(|| at(file, item.line, &join(p, "name"), "is required (the queue this Worker consumes)"))?;
    Ok(ConsumerSpec { queue, settings, dead_letter_queue, at: format!("{file}: {p}") })
}

/// `domains` (§H.3): hostnames become custom domains. The object form's `production` and
/// `previews` flags are refused by name: the one-hostname attach the apply step uses has no
/// field for them and its list shows none to compare with (§T.9 question 8), so they could be
/// neither written nor reconciled.
fn domains(r: &Reader<'_>, out: &mut WorkerOutput, v: &Node, line: usize) -> Result<(), crate::inputs::InputError> {
    let file = r.file;
    let Val::Arr(items) = &v.value else {
        return Err(at(file, v.line, "domains", "must be an array"));
    };
    let mut list = Vec::new();
    let mut flagged = false;
    for (i, d) in items.iter().enumerate() {
        let p = index("domains", i);
        let host = if let Some(h) = d.as_str() {
            h
        } else {
            strict(file, d, &p, &["hostname", "production", "previews"])?;
            flagged = true;
            let h = d.get("hostname").ok_or_else(|| at(file, d.line, &join(&p, "hostname"), "is required"))?;
            r.str(h, &join(&p, "hostname"))?
        };
        if host.is_empty() || host.contains(['*', '/']) || host.chars().any(char::is_whitespace) {
            return Err(at(
                file,
                d.line,
                &p,
                "is a custom domain, which is a hostname: it may contain neither `*` nor `/` (use a `fetch` trigger for a path or a wildcard)",
            ));
        }
        list.push(RouteSpec { pattern: host.to_owned(), zone_id: None, zone_name: None, at: format!("{file}: {p}") });
    }
    out.has_routes |= !items.is_empty();
    let what = crate::ci::plural(items.len(), "custom domain", "custom domains");
    if flagged {
        out.unapplied.push(Unapplied {
            key: "domains".into(),
            line,
            what: format!(
                "{what}, with `production`/`previews` flags, which workers-ci cannot apply yet: the custom-domain attach it uses takes no such flags (docs/cloudflare-api.md §T.9)"
            ),
        });
    } else {
        out.deploy.domains = Some(list);
        out.applied.push(Unapplied { key: "domains".into(), line, what });
    }
    Ok(())
}

/// `tailConsumers` → the settings' `tail_consumers: [{service}]` (§H.3). v0's `streaming: true`
/// (a streaming consumer) is refused by name: only the classic upload carries streaming
/// consumers, not the versions upload or (as far as is known) the settings (§T.9 question 9).
fn tail_consumers(
    r: &Reader<'_>,
    out: &mut WorkerOutput,
    v: &Node,
    line: usize,
) -> Result<(), crate::inputs::InputError> {
    let file = r.file;
    let Val::Arr(items) = &v.value else {
        return Err(at(file, v.line, "tailConsumers", "must be an array of `{worker}`"));
    };
    let mut list = Vec::new();
    let mut streaming = false;
    for (i, t) in items.iter().enumerate() {
        let p = index("tailConsumers", i);
        // `streaming` is v0's (config ≤ 0.31); v1 moved it to `experimental.streamingTailConsumers`.
        let keys: &[&str] = if r.version == "v0" { &["worker", "streaming"] } else { &["worker"] };
        for (k, _, f) in strict(file, t, &p, keys)? {
            if k == "streaming" {
                streaming |= r.bool(f, &join(&p, k))?;
            }
        }
        let w = t.get("worker").ok_or_else(|| at(file, t.line, &join(&p, "worker"), "is required"))?;
        list.push(json!({ "service": r.str(w, &join(&p, "worker"))? }));
    }
    if streaming {
        out.unapplied.push(Unapplied { key: "tailConsumers".into(), line, what: STREAMING.into() });
    } else {
        out.deploy.tail_consumers = Some(list);
        out.applied.push(Unapplied { key: "tailConsumers".into(), line, what: "a script setting".into() });
    }
    Ok(())
}

/// `observability` (§H.3) in the script settings' `snake_case` (§T.6), checked key by key.
fn observability(r: &Reader<'_>, n: &Node) -> Result<Value, crate::inputs::InputError> {
    fn snake(k: &str) -> &str {
        match k {
            "headSamplingRate" => "head_sampling_rate",
            "redactQueryString" => "redact_query_string",
            "invocationLogs" => "invocation_logs",
            other => other,
        }
    }
    fn level(r: &Reader<'_>, n: &Node, path: &str, keys: &[&str]) -> Result<Value, crate::inputs::InputError> {
        let mut m = Map::new();
        for (k, _, v) in strict(r.file, n, path, keys)? {
            let p = join(path, k);
            let value = match k.as_str() {
                "issues" => level(r, v, &p, &["enabled"])?,
                "logs" => {
                    level(r, v, &p, &["enabled", "headSamplingRate", "invocationLogs", "persist", "destinations"])?
                }
                "traces" => level(r, v, &p, &["enabled", "headSamplingRate", "persist", "destinations"])?,
                "destinations" => json!(r.strs(v, &p)?),
                "headSamplingRate" => match v.value {
                    Val::Int(i) if (0..=1).contains(&i) => json!(i),
                    Val::Float(f) if (0.0..=1.0).contains(&f) => json!(f),
                    _ => return Err(at(r.file, v.line, &p, "must be a number from 0 to 1")),
                },
                _ => Value::Bool(r.bool(v, &p)?),
            };
            m.insert(snake(k).to_owned(), value);
        }
        Ok(Value::Object(m))
    }
    let out = level(
        r,
        n,
        "observability",
        &["enabled", "headSamplingRate", "redactQueryString", "issues", "logs", "traces"],
    )?;
    // Cloudflare's script settings require `enabled` (§T.6); refused at that write, it would be
    // refused after the deployment, so it is refused here, before any request.
    if out.get("enabled").is_none() {
        return Err(at(
            r.file,
            n.line,
            "observability",
            "has no `enabled`: Cloudflare's script settings require it; have the build write `\"enabled\": true` (or `false`: Cloudflare then ignores `logs` and `traces`)",
        ));
    }
    Ok(out)
}

/// `env` (§H.3's binding table) as the version's bindings, and the assets binding's name.
/// A kind this release does not map is refused by name: sent wrongly or left out, the Worker
/// would run without a binding its code reads.
fn env(r: &Reader<'_>, n: &Node, own: &str) -> Result<(Vec<Value>, Option<String>), crate::inputs::InputError> {
    let Val::Table(entries) = &n.value else {
        return Err(at(r.file, n.line, "env", "must be an object of binding name → binding"));
    };
    let mut out = Vec::new();
    let mut assets = None;
    for (name, line, b) in entries {
        let path = join("env", name);
        let ty_node = b.get("type").ok_or_else(|| at(r.file, b.line, &join(&path, "type"), "is required"))?;
        let ty = r.str(ty_node, &join(&path, "type"))?;
        let e = Entry { r, path, node: b, dev: !WITHOUT_DEV.contains(&ty) };
        let mapped = match ty {
            "kv" | "d1" | "r2" | "queue" => resource(&e, ty)?,
            "worker" | "durable-object" | "workflow" => service(&e, ty, own)?,
            "assets" => {
                e.fields(&[])?;
                if assets.replace(name.clone()).is_some() {
                    return Err(at(r.file, *line, &e.path, "is a second `assets` binding; a Worker has one"));
                }
                continue;
            }
            _ => match (simple(&e, ty, name)?, VIA_CONFIG.iter().find(|v| v.kind == ty)) {
                (Some(v), _) => v,
                (None, Some(via)) => via_config(&e, via, name, *line)?,
                (None, None) => return Err(at(r.file, ty_node.line, &join(&e.path, "type"), unmapped_kind(ty))),
            },
        };
        let mut v = mapped;
        v["name"] = name.clone().into();
        out.push(v);
    }
    Ok((out, assets))
}

/// The binding kinds this release maps (§H.3).
const MAPPED_KINDS: &[&str] = &[
    "text",
    "json",
    "secret",
    "kv",
    "d1",
    "r2",
    "queue",
    "worker",
    "durable-object",
    "workflow",
    "analytics-engine-dataset",
    "vectorize",
    "hyperdrive",
    "mtls-certificate",
    "secrets-store-secret",
    "rate-limit",
    "ai",
    "browser",
    "images",
    "media",
    "version-metadata",
    "assets",
    "k2",
    "send-email",
    "dispatch-namespace",
    "vpc-service",
    "vpc-network",
    "flagship",
    "ai-search",
    "ai-search-namespace",
    "artifacts",
];

/// Kinds whose schema has no `dev` object (NPM `cli.js:143365-143582`): the key is refused
/// there, as any other unknown key.
const WITHOUT_DEV: &[&str] = &[
    "assets",
    "durable-object",
    "json",
    "logfwdr",
    "rate-limit",
    "secret",
    "secrets-store-secret",
    "text",
    "version-metadata",
    "worker-loader",
    "workflow",
];

/// Kinds of the format (§H.3) that cannot be sent, each with the reason: the binding `cf
/// deploy` uploads for it is not one the Version API lists (§4.2), or not in the shape it lists.
const UNMAPPED_KINDS: &[(&str, &str)] = &[
    (
        "pipeline",
        "`cf deploy` uploads it as `pipelines {stream}` (a stream id), and the Version API's `pipelines` binding takes only `pipeline`, a legacy pipeline's name",
    ),
    ("agent-memory", "`cf deploy` uploads it as `agent_memory`, a kind the Version API does not list"),
    ("stream", "`cf deploy` uploads it as `stream`, a kind the Version API does not list"),
    ("worker-loader", "`cf deploy` uploads it as `worker_loader`, a kind the Version API does not list"),
    ("analytics-sql", "`cf deploy` uploads it as `analytics`, a kind the Version API does not list"),
    ("logfwdr", "`cf deploy` uploads it as `logfwdr`, a kind the Version API does not list"),
];

/// Why a binding of kind `ty` stops the step: a kind of the format that cannot be sent, or a
/// misspelling of one that can.
fn unmapped_kind(ty: &str) -> String {
    let refuse = |why: &str| {
        format!(
            "`{ty}` bindings: {why} (docs/cloudflare-api.md §4.2, §H.3), so workers-ci cannot send it and will not leave the binding out; deploy this output with `cf deploy --prebuilt`, or remove the binding"
        )
    };
    if let Some((_, why)) = UNMAPPED_KINDS.iter().find(|(k, _)| *k == ty) {
        return refuse(why);
    }
    if ty.starts_with("unsafe:") {
        return refuse("unsafe bindings are forwarded by `cf deploy` unchecked, in no shape the Version API lists");
    }
    let mapped = MAPPED_KINDS.join(", ");
    match crate::inputs::rules::closest(ty, MAPPED_KINDS.iter().copied()) {
        Some(meant) => format!("`{ty}` is not a binding kind; did you mean `{meant}`?"),
        None => format!("`{ty}` is not a binding kind of the Build Output format (workers-ci maps {mapped})"),
    }
}

/// One `env` entry being read.
struct Entry<'a> {
    r: &'a Reader<'a>,
    path: String,
    node: &'a Node,
    /// Whether the kind's schema takes a local-development `dev` object.
    dev: bool,
}

impl Entry<'_> {
    fn at(&self, key: &str, problem: &str) -> crate::inputs::InputError {
        at(self.r.file, self.node.line, &join(&self.path, key), problem)
    }

    /// The entry's fields, checked against `keys` (most kinds may carry `dev`, local
    /// development only, §H.3: accepted, not sent).
    fn fields(&self, keys: &[&str]) -> Result<Map<String, Value>, crate::inputs::InputError> {
        Ok(self.nodes(keys)?.iter().map(|(k, _, v)| (k.clone(), v.to_json())).collect())
    }

    /// The entry's fields as written, checked against `keys`, without `type` and `dev`.
    fn nodes(&self, keys: &[&str]) -> Result<Vec<(String, usize, Node)>, crate::inputs::InputError> {
        let mut all = vec!["type"];
        if self.dev {
            all.push("dev");
        }
        all.extend_from_slice(keys);
        let t = strict(self.r.file, self.node, &self.path, &all)?;
        Ok(t.iter().filter(|(k, _, _)| k != "type" && k != "dev").cloned().collect())
    }

    fn need(&self, f: &Map<String, Value>, k: &str) -> Result<String, crate::inputs::InputError> {
        match f.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err(self.at(k, "must be a non-empty string")),
            None => Err(self.at(k, "is required")),
        }
    }

    fn unsupported(&self, key: &str, what: &str) -> crate::inputs::InputError {
        unsupported(self.r.file, self.node.line, &join(&self.path, key), what)
    }

    fn needs(&self, what: &str, create: &str) -> crate::inputs::InputError {
        needs_resource(self.r.file, self.node.line, &self.path, what, create)
    }
}

fn opt(f: &Map<String, Value>, k: &str) -> Option<String> {
    f.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// Bindings to an account's resource, which must be named by id (or name): `cf deploy` would
/// create a missing one, workers-ci creates nothing unasked.
fn resource(e: &Entry<'_>, ty: &str) -> Result<Value, crate::inputs::InputError> {
    Ok(match ty {
        "kv" => {
            let f = e.fields(&["id"])?;
            let id = opt(&f, "id").ok_or_else(|| e.needs("KV namespace", "wrangler kv namespace create"))?;
            json!({ "type": "kv_namespace", "namespace_id": id })
        }
        "d1" => {
            let f = e.fields(&["id", "name", "jurisdiction"])?;
            let id = opt(&f, "id").ok_or_else(|| e.needs("D1 database", "wrangler d1 create"))?;
            json!({ "type": "d1", "database_id": id })
        }
        "r2" => {
            let f = e.fields(&["name", "jurisdiction"])?;
            let bucket = opt(&f, "name").ok_or_else(|| e.needs("R2 bucket", "wrangler r2 bucket create"))?;
            let mut v = json!({ "type": "r2_bucket", "bucket_name": bucket });
            if let Some(j) = opt(&f, "jurisdiction") {
                v["jurisdiction"] = j.into();
            }
            v
        }
        _ => {
            let f = e.fields(&["name", "deliveryDelay"])?;
            if f.contains_key("deliveryDelay") {
                return Err(e.unsupported("deliveryDelay", "a producer's delivery delay"));
            }
            let q = opt(&f, "name").ok_or_else(|| e.needs("queue", "wrangler queues create"))?;
            json!({ "type": "queue", "queue_name": q })
        }
    })
}

/// Bindings to a Worker's code: a service, a Durable Object class, a Workflow. A class of this
/// Worker itself is named without `script_name`: it lives in the version being uploaded.
fn service(e: &Entry<'_>, ty: &str, own: &str) -> Result<Value, crate::inputs::InputError> {
    let (mut v, worker) = match ty {
        "worker" => {
            let f = e.fields(&["worker", "exportName", "props"])?;
            if f.contains_key("props") {
                return Err(e.unsupported("props", "service binding props"));
            }
            let mut v = json!({ "type": "service", "service": e.need(&f, "worker")? });
            if let Some(x) = opt(&f, "exportName") {
                v["entrypoint"] = x.into();
            }
            return Ok(v);
        }
        "durable-object" => {
            let f = e.fields(&["worker", "exportName"])?;
            (
                json!({ "type": "durable_object_namespace", "class_name": e.need(&f, "exportName")? }),
                e.need(&f, "worker")?,
            )
        }
        _ => {
            let f = e.fields(&["name", "worker", "exportName"])?;
            let v = json!({ "type": "workflow", "workflow_name": e.need(&f, "name")?, "class_name": e.need(&f, "exportName")? });
            (v, e.need(&f, "worker")?)
        }
    };
    if worker != own {
        v["script_name"] = worker.into();
    }
    Ok(v)
}

/// The other kinds this release maps; `None`: a kind it does not.
fn simple(e: &Entry<'_>, ty: &str, name: &str) -> Result<Option<Value>, crate::inputs::InputError> {
    Ok(Some(match ty {
        "text" => {
            let f = e.fields(&["value"])?;
            json!({ "type": "plain_text", "text": e.need(&f, "value")? })
        }
        "json" => match e.fields(&["value"])?.remove("value") {
            Some(Value::String(s)) => json!({ "type": "plain_text", "text": s }),
            Some(other) => json!({ "type": "json", "json": other }),
            None => return Err(e.at("value", "is required")),
        },
        // Kept from the Worker's live secrets, as wrangler sends it; Cloudflare refuses the
        // version (10057) when the Worker has no such secret (§H.3).
        "secret" => {
            e.fields(&[])?;
            json!({ "type": "inherit" })
        }
        "analytics-engine-dataset" => {
            let f = e.fields(&["name"])?;
            json!({ "type": "analytics_engine", "dataset": opt(&f, "name").unwrap_or_else(|| name.to_owned()) })
        }
        "vectorize" => json!({ "type": "vectorize", "index_name": e.need(&e.fields(&["name"])?, "name")? }),
        "hyperdrive" => json!({ "type": "hyperdrive", "id": e.need(&e.fields(&["id"])?, "id")? }),
        "mtls-certificate" => {
            json!({ "type": "mtls_certificate", "certificate_id": e.need(&e.fields(&["id"])?, "id")? })
        }
        "secrets-store-secret" => {
            let f = e.fields(&["storeId", "secretName"])?;
            json!({ "type": "secrets_store_secret", "store_id": e.need(&f, "storeId")?, "secret_name": e.need(&f, "secretName")? })
        }
        "rate-limit" => {
            let f = e.fields(&["namespace", "simple"])?;
            let simple = e.node.get("simple").ok_or_else(|| e.at("simple", "is required"))?;
            strict(e.r.file, simple, &join(&e.path, "simple"), &["limit", "period"])?;
            json!({ "type": "ratelimit", "namespace_id": e.need(&f, "namespace")?, "simple": f["simple"] })
        }
        "ai" | "browser" | "images" | "media" | "version-metadata" => {
            e.fields(&[])?;
            json!({ "type": ty.replace('-', "_") })
        }
        _ => return Ok(None),
    }))
}

/// A kind `cf deploy` converts to the wrangler configuration list `key` (NPM
/// `cli.js:142619-142959`), its fields renamed (`from` → `to`).
struct Via {
    kind: &'static str,
    key: &'static str,
    fields: &'static [(&'static str, &'static str)],
    /// Fields the format requires (a missing `dispatch-namespace.namespace` or `flagship.id`
    /// is one `cf deploy` would create, refused as such).
    required: &'static [&'static str],
}

const VIA_CONFIG: &[Via] = &[
    Via { kind: "k2", key: "k2", fields: &[("id", "stream"), ("stream", "")], required: &["id"] },
    Via {
        kind: "send-email",
        key: "send_email",
        fields: &[
            ("destinationAddress", "destination_address"),
            ("allowedDestinationAddresses", "allowed_destination_addresses"),
            ("allowedSenderAddresses", "allowed_sender_addresses"),
        ],
        required: &[],
    },
    Via {
        kind: "dispatch-namespace",
        key: "dispatch_namespaces",
        fields: &[("namespace", "namespace"), ("outbound", "outbound")],
        required: &[],
    },
    Via { kind: "vpc-service", key: "vpc_services", fields: &[("id", "service_id")], required: &["id"] },
    Via {
        kind: "vpc-network",
        key: "vpc_networks",
        fields: &[("tunnelId", "tunnel_id"), ("networkId", "network_id")],
        required: &[],
    },
    Via { kind: "flagship", key: "flagship", fields: &[("id", "app_id")], required: &[] },
    Via { kind: "ai-search", key: "ai_search", fields: &[("name", "instance_name")], required: &["name"] },
    Via {
        kind: "ai-search-namespace",
        key: "ai_search_namespaces",
        fields: &[("namespace", "namespace")],
        required: &["namespace"],
    },
    Via { kind: "artifacts", key: "artifacts", fields: &[("namespace", "namespace")], required: &["namespace"] },
];

/// A [`VIA_CONFIG`] kind: its fields checked here, under the format's names (the file, line
/// and key named as written), then renamed and mapped by the wrangler configuration's own
/// mapping, so that both inputs send the same binding for the same thing.
fn via_config(e: &Entry<'_>, via: &Via, name: &str, line: usize) -> Result<Value, crate::inputs::InputError> {
    let file = e.r.file;
    let keys: Vec<&str> = via.fields.iter().map(|(f, _)| *f).collect();
    let written = e.nodes(&keys)?;
    let get = |k: &str| written.iter().find(|(f, _, _)| f == k);
    let mut fields = Vec::new();
    for (k, kl, v) in &written {
        let p = join(&e.path, k);
        let to = via.fields.iter().find(|(f, _)| f == k).map_or("", |(_, t)| *t);
        let value = match k.as_str() {
            // Renamed in config 0.32+ (`renamedFieldSchema`): refused with the reader's words.
            "stream" => return Err(at(file, *kl, &p, "was renamed to `id`: set `id` to the id of the K2 stream")),
            "allowedDestinationAddresses" | "allowedSenderAddresses" => {
                Val::Arr(e.r.strs(v, &p)?.into_iter().map(|s| Node { line: v.line, value: Val::Str(s) }).collect())
            }
            "outbound" => outbound(e, v, &p)?,
            _ => {
                let s = e.r.str(v, &p)?;
                if s.is_empty() {
                    return Err(at(file, v.line, &p, "must be a non-empty string"));
                }
                Val::Str(s.to_owned())
            }
        };
        fields.push((to.to_owned(), *kl, Node { line: v.line, value }));
    }
    if let Some(k) = via.required.iter().find(|k| get(k).is_none()) {
        return Err(e.at(k, "is required"));
    }
    match via.kind {
        "dispatch-namespace" if get("namespace").is_none() => {
            return Err(e.needs("dispatch namespace", "wrangler dispatch-namespace create <NAME>"));
        }
        "flagship" if get("id").is_none() => {
            return Err(e.needs("Flagship app", "wrangler flagship apps create <NAME>"));
        }
        "vpc-network" if get("tunnelId").is_some() == get("networkId").is_some() => {
            return Err(
                e.at("tunnelId", "and `networkId`: give exactly one of them (the format requires one, never both)")
            );
        }
        "send-email" if get("destinationAddress").is_some() && get("allowedDestinationAddresses").is_some() => {
            return Err(e.at(
                "allowedDestinationAddresses",
                "cannot be given with `destinationAddress` (the format allows one of them)",
            ));
        }
        _ => {}
    }
    match crate::inputs::wrangler::map::configured_binding(via.key, name, line, fields, &e.path) {
        Some(Ok(v)) => Ok(v),
        Some(Err(p)) => Err(at(file, p.line, &e.path, p.problem)),
        None => unreachable!("every VIA_CONFIG key is a mapped wrangler list"),
    }
}

/// `dispatch-namespace.outbound {worker, parameters?}` as wrangler's `outbound {service,
/// parameters?}`.
fn outbound(e: &Entry<'_>, n: &Node, path: &str) -> Result<Val, crate::inputs::InputError> {
    let t = strict(e.r.file, n, path, &["worker", "parameters"])?;
    let w = n.get("worker").ok_or_else(|| at(e.r.file, n.line, &join(path, "worker"), "is required"))?;
    let mut out = vec![(
        "service".to_owned(),
        w.line,
        Node { line: w.line, value: Val::Str(e.r.str(w, &join(path, "worker"))?.to_owned()) },
    )];
    if let Some((_, pl, p)) = t.iter().find(|(k, _, _)| k == "parameters") {
        let list = e.r.strs(p, &join(path, "parameters"))?;
        out.push((
            "parameters".to_owned(),
            *pl,
            Node {
                line: p.line,
                value: Val::Arr(list.into_iter().map(|s| Node { line: p.line, value: Val::Str(s) }).collect()),
            },
        ));
    }
    Ok(Val::Table(out))
}

/// A binding without the id of what it binds: `cf deploy` would create the resource (§H.6);
/// workers-ci creates nothing unasked.
fn needs_resource(file: &str, line: usize, path: &str, what: &str, create: &str) -> crate::inputs::InputError {
    at(
        file,
        line,
        path,
        format!(
            "names no {what}: `cf deploy` would create one, workers-ci does not create resources unasked. Create it (`{create}`) and give its id (or name) in the configuration, then build again"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Worker directory with `config` as its worker.config.json and `files` beside it.
    fn worker(config: &str, files: &[(&str, &str)]) -> Result<WorkerOutput, String> {
        worker_of("v1", config, files)
    }

    fn worker_of(version: &str, config: &str, files: &[(&str, &str)]) -> Result<WorkerOutput, String> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("worker.config.json"), config).unwrap();
        for (p, text) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        read(d.path(), version).map_err(|e| e.to_string())
    }

    fn with(manifest: &str, env: &str) -> String {
        format!("{{\"name\":\"w\",\"compatibilityDate\":\"2026-11-01\",\"env\":{env},\"manifest\":{manifest}}}")
    }

    const COMPLETE: &str = r#"{"type":"complete","mainModule":"index.js","modules":{"index.js":{"type":"esm"}}}"#;

    #[test]
    fn module_paths_stay_inside_the_bundle() {
        let m = r#"{"type":"complete","mainModule":"index.js","modules":{"index.js":{"type":"esm"},"../secret.txt":{"type":"text"}}}"#;
        let e = worker(&with(m, "{}"), &[("bundle/index.js", "")]).unwrap_err();
        assert!(e.contains("manifest.modules.../secret.txt: escapes the `bundle/` directory"), "{e}");
        let e = worker(&with(COMPLETE, "{}"), &[("bundle/other.js", "")]).unwrap_err();
        assert!(e.contains("names `bundle/index.js`, which does not exist"), "{e}");
    }

    #[test]
    fn a_partial_manifest_needs_its_main_module_as_an_es_module() {
        let m = r#"{"type":"partial","mainModule":"index.js","modules":{}}"#;
        let e = worker(&with(m, "{}"), &[("bundle/index.ts", "")]).unwrap_err();
        assert!(e.contains("was not found as an ES module"), "{e}");
        let ok = worker(&with(m, "{}"), &[("bundle/index.js", ""), ("bundle/lib/a.mjs", ""), ("bundle/notes.md", "")])
            .unwrap();
        let names: Vec<&str> = ok.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["index.js", "lib/a.mjs"], "only .js, .mjs and .map are inferred");
    }

    /// `MAPPED_KINDS` (what messages list) and `UNMAPPED_KINDS` are lists beside the code that
    /// maps: every kind the first lists reaches a mapping (an error there is about its fields,
    /// never its kind), every kind the second lists is refused as a kind.
    #[test]
    fn the_listed_kinds_are_the_kinds_mapped() {
        let files = [("bundle/index.js", "")];
        for kind in MAPPED_KINDS {
            let r = worker(&with(COMPLETE, &format!(r#"{{"X":{{"type":"{kind}"}}}}"#)), &files);
            if let Err(e) = r {
                assert!(!e.contains("env.X.type:"), "`{kind}` is listed as mapped but refused as a kind: {e}");
            }
        }
        for (kind, _) in UNMAPPED_KINDS {
            let e = worker(&with(COMPLETE, &format!(r#"{{"X":{{"type":"{kind}"}}}}"#)), &files).unwrap_err();
            assert!(e.contains(&format!("env.X.type: `{kind}` bindings: ")), "{e}");
        }
        assert!(MAPPED_KINDS.iter().all(|k| !UNMAPPED_KINDS.iter().any(|(u, _)| u == k)));
    }

    #[test]
    fn bindings_are_mapped_or_refused_by_name() {
        let files = [("bundle/index.js", "")];
        let e = worker(&with(COMPLETE, r#"{"CACHE":{"type":"kvv","id":"x"}}"#), &files).unwrap_err();
        assert!(e.contains("env.CACHE.type: `kvv` is not a binding kind; did you mean `kv`?"), "{e}");
        let e = worker(&with(COMPLETE, r#"{"P":{"type":"pipeline","streamId":"s"}}"#), &files).unwrap_err();
        assert!(e.contains("env.P.type: `pipeline` bindings: `cf deploy` uploads it as `pipelines {stream}`"), "{e}");
        for kind in ["agent-memory", "stream", "worker-loader", "analytics-sql", "logfwdr", "unsafe:hello"] {
            let e = worker(&with(COMPLETE, &format!(r#"{{"X":{{"type":"{kind}"}}}}"#)), &files).unwrap_err();
            assert!(e.contains(&format!("env.X.type: `{kind}` bindings: ")), "{e}");
            assert!(e.contains("will not leave the binding out"), "a real kind, refused by name: {e}");
        }
        let e = worker(&with(COMPLETE, r#"{"K":{"type":"k2","stream":"s"}}"#), &files).unwrap_err();
        assert!(e.contains("env.K.stream: was renamed to `id`"), "{e}");
        let e = worker(&with(COMPLETE, r#"{"N":{"type":"vpc-network","tunnelId":"t","networkId":"n"}}"#), &files)
            .unwrap_err();
        assert!(e.contains("env.N.tunnelId: and `networkId`: give exactly one"), "{e}");
        let e = worker(&with(COMPLETE, r#"{"D":{"type":"dispatch-namespace"}}"#), &files).unwrap_err();
        assert!(e.contains("env.D: names no dispatch namespace"), "{e}");
        let e = worker(&with(COMPLETE, r#"{"S":{"type":"secret","dev":{}}}"#), &files).unwrap_err();
        assert!(e.contains("env.S.dev: is not a key of the Build Output schema"), "`secret` takes no `dev`: {e}");
        let e = worker(
            &with(COMPLETE, r#"{"D":{"type":"dispatch-namespace","namespace":"n","outbound":{"service":"o"}}}"#),
            &files,
        )
        .unwrap_err();
        assert!(e.contains("env.D.outbound.service: is not a key"), "{e}");
        let e = worker(&with(COMPLETE, r#"{"CACHE":{"type":"kv"}}"#), &files).unwrap_err();
        assert!(e.contains("env.CACHE: names no KV namespace"), "{e}");
        let e = worker(&with(COMPLETE, r#"{"CACHE":{"type":"kv","idd":"x"}}"#), &files).unwrap_err();
        assert!(e.contains("env.CACHE.idd: is not a key of the Build Output schema (did you mean `id`?"), "{e}");
        let env = r#"{"S":{"type":"secret"},"ROOM":{"type":"durable-object","worker":"w","exportName":"Room"},"RL":{"type":"rate-limit","namespace":"1001","simple":{"limit":10,"period":60}}}"#;
        let ok = worker(&with(COMPLETE, env), &files).unwrap();
        assert_eq!(
            ok.bindings,
            [
                json!({"name": "S", "type": "inherit"}),
                json!({"name": "ROOM", "type": "durable_object_namespace", "class_name": "Room"}),
                json!({"name": "RL", "type": "ratelimit", "namespace_id": "1001", "simple": {"limit": 10, "period": 60}}),
            ]
        );
    }

    /// Each kind `cf deploy` converts to a wrangler configuration list goes up as the binding
    /// the wrangler configuration's mapping sends for that list.
    #[test]
    fn converted_kinds_send_what_the_wrangler_mapping_sends() {
        use crate::inputs::tree::{Json, parse_json};
        use crate::inputs::wrangler::{env::select, map::map};
        let files = [("bundle/index.js", "")];
        let hex = "0123456789abcdef0123456789abcdef";
        let env = format!(
            r#"{{"K2":{{"type":"k2","id":"{hex}","dev":{{"remote":true}}}},
            "MAIL":{{"type":"send-email","allowedDestinationAddresses":["a@example.com"],"allowedSenderAddresses":["b@example.com"]}},
            "DISPATCH":{{"type":"dispatch-namespace","namespace":"tenants","outbound":{{"worker":"out","parameters":["p"]}}}},
            "SVC":{{"type":"vpc-service","id":"svc-1"}},
            "NET":{{"type":"vpc-network","networkId":"cf1:network"}},
            "FLAGS":{{"type":"flagship","id":"app-1"}},
            "SEARCH":{{"type":"ai-search","name":"docs"}},
            "SEARCH_NS":{{"type":"ai-search-namespace","namespace":"ns"}},
            "ART":{{"type":"artifacts","namespace":"builds"}}}}"#
        );
        let ours = worker(&with(COMPLETE, &env), &files).unwrap().bindings;
        let wrangler = format!(
            r#"{{"k2":[{{"binding":"K2","stream":"{hex}"}}],
            "send_email":[{{"name":"MAIL","allowed_destination_addresses":["a@example.com"],"allowed_sender_addresses":["b@example.com"]}}],
            "dispatch_namespaces":[{{"binding":"DISPATCH","namespace":"tenants","outbound":{{"service":"out","parameters":["p"]}}}}],
            "vpc_services":[{{"binding":"SVC","service_id":"svc-1"}}],
            "vpc_networks":[{{"binding":"NET","network_id":"cf1:network"}}],
            "flagship":[{{"binding":"FLAGS","app_id":"app-1"}}],
            "ai_search":[{{"binding":"SEARCH","instance_name":"docs"}}],
            "ai_search_namespaces":[{{"binding":"SEARCH_NS","namespace":"ns"}}],
            "artifacts":[{{"binding":"ART","namespace":"builds"}}]}}"#
        );
        let root = parse_json(&wrangler, Json::Jsonc).unwrap();
        let theirs = map(&select(&root, None).unwrap(), Path::new("/p"), crate::inputs::wrangler::Format::Json)
            .unwrap()
            .bindings;
        let sorted = |mut v: Vec<Value>| {
            v.sort_by_key(|b| b["name"].as_str().unwrap_or_default().to_owned());
            v
        };
        assert_eq!(sorted(ours.clone()), sorted(theirs));
        assert_eq!(
            ours[2],
            json!({"name": "DISPATCH", "type": "dispatch_namespace", "namespace": "tenants",
                   "outbound": {"worker": {"service": "out"}, "params": [{"name": "p"}]}})
        );
        assert_eq!(ours[0], json!({"name": "K2", "type": "k2", "stream": hex}));
    }

    #[test]
    fn what_cannot_be_deployed_is_named_never_dropped() {
        let files = [("bundle/index.js", "")];
        let config = |extra: &str| {
            format!("{{\"name\":\"w\",\"compatibilityDate\":\"2026-11-01\",{extra},\"manifest\":{COMPLETE}}}")
        };
        let e = worker(
            &config(r#""exports":{"Room":{"type":"durable-object","storage":"sqlite","container":"c"}}"#),
            &files,
        )
        .unwrap_err();
        assert!(e.contains("worker.config.json:1: exports.Room.container: attaches a Container"), "{e}");
        let ok = worker(&config(r#""exports":{"Room":{"type":"durable-object","storage":"sqlite"}}"#), &files).unwrap();
        assert_eq!(
            ok.exports.map(|(e, line)| (serde_json::to_value(e).unwrap(), line)),
            Some((json!({"Room": {"type": "durable-object", "storage": "sqlite"}}), 1))
        );
        let e = worker(&config(r#""unsafe":{"metadata":{}}"#), &files).unwrap_err();
        assert!(e.contains("unsafe: `unsafe` metadata"), "{e}");
        let ok = worker(&config(r#""domains":["app.example.com"],"logpush":true"#), &files).unwrap();
        let keys: Vec<&str> = ok.applied.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["domains", "logpush"]);
        assert!(ok.unapplied.is_empty(), "{:?}", ok.unapplied);
        assert_eq!(ok.deploy.domains.as_ref().map(|d| d[0].pattern.as_str()), Some("app.example.com"));
        assert_eq!(ok.deploy.logpush, Some(true));
        assert!(ok.has_routes, "a custom domain routes the Worker");
        let flagged = r#""domains":[{"hostname":"app.example.com","production":true,"previews":false}],"triggers":[{"type":"connect","protocol":"tcp","port":25}],"tailConsumers":[{"worker":"t","streaming":true}]"#;
        let e = worker(&config(flagged), &files).unwrap_err();
        assert!(e.contains("tailConsumers[0].streaming: is not a key"), "v0's key only: {e}");
        let ok = worker_of("v0", &config(flagged), &files).unwrap();
        let keys: Vec<&str> = ok.unapplied.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["domains", "triggers[0]", "tailConsumers"], "refused by name, not dropped");
        assert_eq!((&ok.deploy.domains, &ok.deploy.tail_consumers), (&None, &None));
    }

    #[test]
    fn triggers_and_settings_map_onto_the_apply_model() {
        let files = [("bundle/index.js", "")];
        let config = r#"{"name":"w","compatibilityDate":"2026-11-01","triggers":[
            {"type":"fetch","pattern":"a.example.com/*","zone":"example.com"},
            {"type":"fetch","pattern":"b.example.com/*","zone":"023e105f4ecef8ad9ca31a8372d0c353"},
            {"type":"scheduled","schedule":"0 3 * * *"},
            {"type":"queue","name":"jobs","maxBatchTimeout":0.5,"maxConcurrency":null,"maxRetries":3,"visibilityTimeoutMs":100}],
            "observability":{"enabled":true,"logs":{"invocationLogs":false,"headSamplingRate":0.5}},
            "tailConsumers":[{"worker":"tail"}],
            "manifest":{"type":"complete","mainModule":"index.js","modules":{"index.js":{"type":"esm"}}}}"#;
        let w = worker(config, &files).unwrap();
        let routes = w.deploy.routes.unwrap();
        assert_eq!((routes[0].zone_name.as_deref(), routes[0].zone_id.as_deref()), (Some("example.com"), None));
        assert_eq!(
            (routes[1].zone_name.as_deref(), routes[1].zone_id.as_deref()),
            (None, Some("023e105f4ecef8ad9ca31a8372d0c353"))
        );
        assert_eq!(w.deploy.crons, Some(vec!["0 3 * * *".to_owned()]));
        let c = &w.deploy.consumers.unwrap()[0];
        assert_eq!(
            Value::Object(c.settings.clone()),
            json!({"max_wait_time_ms": 500, "max_concurrency": null, "max_retries": 3})
        );
        assert!(w.warnings.iter().any(|x| x.contains("visibilityTimeoutMs: not sent")), "{:?}", w.warnings);
        assert_eq!(
            w.deploy.observability,
            Some(json!({"enabled": true, "logs": {"invocation_logs": false, "head_sampling_rate": 0.5}}))
        );
        assert_eq!(w.deploy.tail_consumers, Some(vec![json!({"service": "tail"})]));
        assert_eq!(w.deploy.domains, None, "no `domains`: left alone");
        let bad = config.replace("0 3 * * *", "0 3 * *");
        assert!(worker(&bad, &files).unwrap_err().contains("triggers[2].schedule: is not a cron expression"));
    }
}

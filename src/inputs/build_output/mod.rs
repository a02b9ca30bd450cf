//! Build Output (`.cloudflare/output/v0/` and `v1/`, docs/cloudflare-api.md §H): what a
//! framework's build (`cf build`, wrangler ≥ 4.164, the Vite plugin) leaves for a deploy tool,
//! read as the source of a version or a Preview deployment instead of a wrangler configuration.
//!
//! Every file is read through the line-keeping tree ([`super::tree`]) and checked against the
//! format's strict schema: Cloudflare's own reader refuses an unknown key (§H.0), and a deploy
//! tool that skipped one would drop configuration without a word. So every error names the
//! file, the line and the key (never a value), and what workers-ci cannot apply yet is refused
//! by name rather than left out.

mod worker;

use std::path::{Path, PathBuf};

use super::tree::{self, Json, Node, Val, join};
use super::{InputError, Key, hint, rules};

pub(crate) use worker::{Unapplied, WorkerOutput};

/// Where a framework writes it, relative to the project (§H.1).
pub(crate) const DEFAULT_DIR: &str = ".cloudflare/output";

/// The version directories this build reads (§H.0): `v0` (cf 1.0 beta) and `v1` (wrangler ≥
/// 4.164, the Vite plugin).
pub(crate) const VERSIONS: [&str; 2] = ["v0", "v1"];

/// A Build Output read and checked, with the one Worker this step uploads.
#[derive(Debug)]
pub(crate) struct BuildOutput {
    /// `<root>/<version>`, as given, for messages.
    pub dir: String,
    pub version: &'static str,
    /// `buildContext.mode`, when recorded.
    pub mode: Option<String>,
    /// The account the output names (`accountId`, v1 `settings.accountId`).
    pub account_id: Option<String>,
    pub worker: WorkerOutput,
}

/// A problem at a place in one file of the output: the file, its line, the key path.
pub(crate) fn at(file: &str, line: usize, path: &str, problem: impl std::fmt::Display) -> InputError {
    let place = if path.is_empty() { format!("{file}:{line}") } else { format!("{file}:{line}: {path}") };
    InputError::new(Key::BuildOutput, format!("{place}: {problem}"))
}

/// A whole file or directory of the output is wrong (`what` names it).
fn whole(what: impl std::fmt::Display) -> InputError {
    InputError::new(Key::BuildOutput, what.to_string())
}

/// The entries of an object, every key checked against `known`: an unknown one is refused
/// (the schemas are strict, §H.0), with the known key it is likely a misspelling of.
pub(crate) fn strict<'n>(
    file: &str,
    node: &'n Node,
    path: &str,
    known: &[&str],
) -> Result<&'n [(String, usize, Node)], InputError> {
    let Val::Table(entries) = &node.value else {
        return Err(at(file, node.line, path, format!("must be an object, not {}", node.value.kind())));
    };
    for (k, line, _) in entries {
        if !known.contains(&k.as_str()) {
            let hint =
                rules::closest(k, known.iter().copied()).map_or_else(String::new, |s| format!("did you mean `{s}`? "));
            let list = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            return Err(at(
                file,
                *line,
                &join(path, k),
                format!(
                    "is not a key of the Build Output schema ({hint}the keys here are {list}); Cloudflare's reader refuses it too, so fix the build that wrote it"
                ),
            ));
        }
    }
    Ok(entries)
}

/// Reads a JSON file of the output into the tree (plain JSON: the writers emit
/// `JSON.stringify`, §H.2).
fn read_json(path: &Path) -> Result<(String, Node), InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound { "does not exist" } else { "cannot be read" };
        whole(format!(
            "`{file}` {why}; a Build Output needs it (docs/cloudflare-api.md §H.1): run your framework's build again"
        ))
    })?;
    let node = tree::parse_json(&text, Json::Strict).map_err(|e| at(&file, e.line, "", e.problem))?;
    Ok((file, node))
}

/// The output's version directory under `root`: exactly one of [`VERSIONS`]. A directory of
/// another version (`v9`) is refused, as are two known ones at once (a stale tree from an
/// older build beside the new one: which was meant cannot be told).
fn version_dir(root: &Path) -> Result<(PathBuf, &'static str), InputError> {
    let shown = root.display();
    let entries = std::fs::read_dir(root).map_err(|_| {
        whole(format!(
            "`{shown}` is not a directory that can be read; point {} at the Build Output your framework wrote (`{DEFAULT_DIR}`)",
            hint::input(Key::BuildOutput)
        ))
    })?;
    let mut known: Vec<&'static str> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for e in entries.flatten() {
        if !e.path().is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(v) = VERSIONS.iter().find(|v| **v == name) {
            known.push(v);
        } else if name.len() > 1 && name.starts_with('v') && name[1..].bytes().all(|b| b.is_ascii_digit()) {
            unknown.push(name);
        }
    }
    known.sort_unstable();
    unknown.sort();
    let understood = VERSIONS.join(" and ");
    if !unknown.is_empty() {
        return Err(whole(format!(
            "`{shown}` holds Build Output version {}, which this workers-ci does not understand (it reads {understood}): update workers-ci, or build with a tool that writes {understood}",
            unknown.join(", ")
        )));
    }
    match known.as_slice() {
        [one] => Ok((root.join(one), one)),
        [] => Err(whole(format!(
            "`{shown}` holds no Build Output version directory ({understood}): run your framework's build (`cf build`, or a build with the Cloudflare Vite plugin)"
        ))),
        many => Err(whole(format!(
            "`{shown}` holds both {}: one is left from an older build; delete the one your build did not write",
            many.join(" and ")
        ))),
    }
}

/// The root `config.json` (§H.2): v0 `{accountId?, complianceRegion?, buildContext}`, v1
/// `{producer?, settings?{accountId?, complianceRegion?}, buildContext}`.
fn root_config(dir: &Path, version: &str) -> Result<(bool, Option<String>, Option<String>), InputError> {
    let (file, root) = read_json(&dir.join("config.json"))?;
    let str_at = |n: &Node, path: &str| -> Result<String, InputError> {
        n.as_str()
            .map(str::to_owned)
            .ok_or_else(|| at(&file, n.line, path, format!("must be a string, not {}", n.value.kind())))
    };
    let settings_of = |t: &[(String, usize, Node)], base: &str| -> Result<Option<String>, InputError> {
        let mut account = None;
        for (k, _, v) in t {
            let path = join(base, k);
            match k.as_str() {
                "accountId" => {
                    let a = str_at(v, &path)?;
                    if !rules::account_id(&a) {
                        return Err(at(&file, v.line, &path, "must be a 32-character hexadecimal account id"));
                    }
                    account = Some(a.to_ascii_lowercase());
                }
                "complianceRegion" => match str_at(v, &path)?.as_str() {
                    "public" => {}
                    "fedramp-high" => {
                        return Err(at(
                            &file,
                            v.line,
                            &path,
                            "is `fedramp-high`, whose API host workers-ci does not use (docs/cloudflare-api.md §H.2); deploy it with `cf deploy`",
                        ));
                    }
                    _ => return Err(at(&file, v.line, &path, "must be `public` or `fedramp-high`")),
                },
                _ => {}
            }
        }
        Ok(account)
    };
    let (top, account) = if version == "v0" {
        let t = strict(&file, &root, "", &["accountId", "complianceRegion", "buildContext"])?;
        (t, settings_of(t, "")?)
    } else {
        let t = strict(&file, &root, "", &["producer", "settings", "buildContext"])?;
        let mut account = None;
        for (k, _, v) in t {
            match k.as_str() {
                "producer" => {
                    for (pk, _, pv) in strict(&file, v, k, &["name", "version"])? {
                        str_at(pv, &join(k, pk))?;
                    }
                }
                "settings" => account = settings_of(strict(&file, v, k, &["accountId", "complianceRegion"])?, k)?,
                _ => {}
            }
        }
        (t, account)
    };
    let Some((_, _, context)) = top.iter().find(|(k, _, _)| k == "buildContext") else {
        return Err(at(
            &file,
            root.line,
            "buildContext",
            "is required (`{\"isPreview\": false}` for a production build)",
        ));
    };
    let c = strict(&file, context, "buildContext", &["isPreview", "mode"])?;
    let mut is_preview = None;
    let mut mode = None;
    for (k, _, v) in c {
        let path = join("buildContext", k);
        match (k.as_str(), &v.value) {
            ("isPreview", Val::Bool(b)) => is_preview = Some(*b),
            ("isPreview", other) => {
                return Err(at(&file, v.line, &path, format!("must be `true` or `false`, not {}", other.kind())));
            }
            _ => mode = Some(str_at(v, &path)?),
        }
    }
    let is_preview = is_preview.ok_or_else(|| at(&file, context.line, "buildContext.isPreview", "is required"))?;
    Ok((is_preview, mode, account))
}

/// What an upload is for: the preview build is only for `preview`, a production build only
/// for the commands that make versions (§H.2, as `cf deploy` and `cf previews deploy` refuse).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Production,
    Preview,
}

/// Reads the output under `root` and picks the Worker `wanted` names (by its `name`, §H.1);
/// without one, the only Worker. Every Worker is read and checked, as Cloudflare's reader does.
pub(crate) fn read(root: &Path, wanted: Option<&str>, purpose: Purpose) -> Result<BuildOutput, InputError> {
    let (dir, version) = version_dir(root)?;
    let (is_preview, mode, account_id) = root_config(&dir, version)?;
    let shown = dir.display().to_string();
    match (purpose, is_preview) {
        (Purpose::Production, true) => {
            return Err(whole(format!(
                "`{shown}` was built for a Preview (`buildContext.isPreview: true` in its config.json): deploy it with {}, or build again for production",
                hint::command(crate::commands::Command::Preview)
            )));
        }
        (Purpose::Preview, false) => {
            return Err(whole(format!(
                "`{shown}` was not built for a Preview (`buildContext.isPreview: false` in its config.json): build it as a Preview (`CLOUDFLARE_PREVIEW_BUILD=true`, or `cf build` for previews), or deploy it with {}",
                hint::command(crate::commands::Command::Version)
            )));
        }
        _ => {}
    }
    if dir.join("containers").is_dir() {
        return Err(whole(format!(
            "`{shown}/containers` holds Containers, which workers-ci does not deploy yet (docs/cloudflare-api.md §H.5): deploy this output with `cf deploy --prebuilt`"
        )));
    }
    let workers_dir = dir.join("workers");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&workers_dir)
        .map_err(|_| {
            whole(format!("`{shown}/workers` is missing: the output has no Worker (docs/cloudflare-api.md §H.1)"))
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    if !workers_dir.join("default").is_dir() {
        return Err(whole(format!(
            "`{shown}/workers/default` is missing; every Build Output has it (docs/cloudflare-api.md §H.1)"
        )));
    }
    // The default Worker first, as Cloudflare's reader lists it.
    dirs.sort_by_key(|p| p.file_name().is_none_or(|n| n != "default"));
    let mut workers = Vec::new();
    for d in &dirs {
        workers.push(worker::read(d, version)?);
    }
    let names: Vec<String> = workers
        .iter()
        .enumerate()
        .map(|(i, w)| if i == 0 { format!("`{}` (default)", w.name) } else { format!("`{}`", w.name) })
        .collect();
    let picked = match wanted {
        Some(name) => {
            let mut matching: Vec<WorkerOutput> = workers.into_iter().filter(|w| w.name == name).collect();
            if matching.len() > 1 {
                return Err(InputError::new(
                    Key::Worker,
                    format!(
                        "names a Worker that `{shown}` holds more than once; each Worker of a Build Output needs its own `name`"
                    ),
                ));
            }
            matching.pop().ok_or_else(|| {
                InputError::new(Key::Worker, format!("is not a Worker of `{shown}`, which holds {}", names.join(", ")))
            })?
        }
        None if workers.len() == 1 => workers.remove(0),
        None => {
            return Err(InputError::new(
                Key::Worker,
                format!(
                    "is required: `{shown}` holds {} Workers ({}); this step uploads one, so run one step per Worker, each with {}",
                    workers.len(),
                    names.join(", "),
                    hint::input(Key::Worker)
                ),
            ));
        }
    };
    Ok(BuildOutput { dir: shown, version, mode, account_id, worker: picked })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    const WORKER: &str = "{\"name\":\"w\",\"compatibilityDate\":\"2026-11-01\",\"manifest\":{\"type\":\"complete\",\"mainModule\":\"index.js\",\"modules\":{\"index.js\":{\"type\":\"esm\"}}}}";

    #[test]
    fn versions_are_told_apart_and_unknown_ones_refused() {
        let v0 = tree(&[
            ("v0/config.json", "{\"buildContext\":{\"isPreview\":false}}"),
            ("v0/workers/default/worker.config.json", WORKER),
            ("v0/workers/default/bundle/index.js", "export default {}"),
        ]);
        let out = read(v0.path(), None, Purpose::Production).unwrap();
        assert_eq!((out.version, out.worker.name.as_str()), ("v0", "w"));
        std::fs::create_dir_all(v0.path().join("v9")).unwrap();
        let e = read(v0.path(), None, Purpose::Production).unwrap_err().to_string();
        assert!(e.contains("version v9") && e.contains("v0 and v1"), "{e}");
        std::fs::remove_dir(v0.path().join("v9")).unwrap();
        std::fs::create_dir_all(v0.path().join("v1")).unwrap();
        let e = read(v0.path(), None, Purpose::Production).unwrap_err().to_string();
        assert!(e.contains("both v0 and v1"), "{e}");
    }

    #[test]
    fn the_root_config_is_strict_per_version() {
        let d = tree(&[
            (
                "v1/config.json",
                "{\n\"settings\": {\"acountId\": \"0123456789abcdef0123456789abcdef\"},\n\"buildContext\":{\"isPreview\":false}}",
            ),
            ("v1/workers/default/worker.config.json", WORKER),
            ("v1/workers/default/bundle/index.js", "export default {}"),
        ]);
        let e = read(d.path(), None, Purpose::Production).unwrap_err().to_string();
        assert!(
            e.contains("config.json:2: settings.acountId: is not a key") && e.contains("did you mean `accountId`?"),
            "{e}"
        );
        // v0's top-level `accountId` is not v1's.
        std::fs::write(
            d.path().join("v1/config.json"),
            "{\"accountId\":\"0123456789abcdef0123456789abcdef\",\"buildContext\":{\"isPreview\":false}}",
        )
        .unwrap();
        let e = read(d.path(), None, Purpose::Production).unwrap_err().to_string();
        assert!(e.contains("config.json:1: accountId: is not a key"), "{e}");
    }

    #[test]
    fn a_preview_build_is_only_for_preview() {
        let d = tree(&[
            ("v1/config.json", "{\"buildContext\":{\"isPreview\":true,\"mode\":\"staging\"}}"),
            ("v1/workers/default/worker.config.json", WORKER),
            ("v1/workers/default/bundle/index.js", "export default {}"),
        ]);
        let e = read(d.path(), None, Purpose::Production).unwrap_err().to_string();
        assert!(e.contains("built for a Preview"), "{e}");
        let out = read(d.path(), None, Purpose::Preview).unwrap();
        assert_eq!(out.mode.as_deref(), Some("staging"));
    }
}

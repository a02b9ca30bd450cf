//! The built Worker on disk: every file under `dir` becomes a module, typed by its extension,
//! except files that are not code (wrangler writes a `README.md` into `--outdir`, TypeScript
//! leaves `.d.ts` files): those are skipped by name, and the log says which.
//!
//! A folder found from the wrangler configuration's `main` (not named by `dir`) may be the
//! project itself (`main = "index.js"` beside `wrangler.jsonc`). There, as wrangler's search for
//! additional modules does, only files of a module type are taken: the configuration,
//! `package.json`, lockfiles and sources are skipped and named, and the folders of
//! dependencies and tools (`node_modules`, `.git`, `.wrangler`) are skipped whole.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{InputError, Key};

/// Never modules: wrangler's `--outdir` README, type declarations, editor and VCS litter.
/// Patterns without `/` match at any depth.
pub(crate) const DEFAULT_EXCLUDE: &[&str] =
    &["README.md", "*.d.ts", ".DS_Store", "*.tsbuildinfo", ".gitignore", ".git/**", "node_modules/**"];

/// The default globs plus `extra` (comma- or newline-separated), compiled once.
pub(crate) fn exclude_set(extra: Option<&str>) -> Result<GlobSet, InputError> {
    let mut b = GlobSetBuilder::new();
    let user = extra.unwrap_or("").split([',', '\n']).map(str::trim).filter(|p| !p.is_empty());
    for (k, pattern) in DEFAULT_EXCLUDE.iter().copied().chain(user).enumerate() {
        let anchored = if pattern.contains('/') { pattern.to_owned() } else { format!("**/{pattern}") };
        let glob = Glob::new(&anchored).map_err(|e| {
            let which = k.checked_sub(DEFAULT_EXCLUDE.len()).map_or(0, |n| n + 1);
            InputError::new(Key::Exclude, format!("pattern {which} is not a valid glob ({})", e.kind()))
        })?;
        b.add(glob);
    }
    b.build().map_err(|e| InputError::new(Key::Exclude, format!("could not be compiled ({})", e.kind())))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ModuleFile {
    /// Path relative to `dir`, with `/` separators: the name the Worker imports it by.
    pub name: String,
    pub path: PathBuf,
    pub content_type: &'static str,
    pub size: u64,
}

/// Content type by file name, as the Workers upload API expects them.
pub(crate) fn content_type(name: &str) -> Option<&'static str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if base == "_headers" || base == "_redirects" {
        return Some("text/plain");
    }
    // Python Workers' dependency list is its own module type (docs/cloudflare-api.md §4.2).
    if base == "requirements.txt" {
        return Some("text/x-python-requirement");
    }
    let ext = base.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    MODULE_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, t)| *t)
}

/// The file extensions that are modules, and their content types: the one list both the
/// upload and the log's "not a module type" line read.
const MODULE_TYPES: &[(&str, &str)] = &[
    ("js", "application/javascript+module"),
    ("mjs", "application/javascript+module"),
    ("cjs", "application/javascript"),
    ("wasm", "application/wasm"),
    ("bin", "application/octet-stream"),
    ("txt", "text/plain"),
    ("html", "text/plain"),
    ("sql", "text/plain"),
    ("map", "application/source-map"),
    ("py", "text/x-python"),
];

/// `.js .mjs …`: the extensions of [`MODULE_TYPES`], for a message.
pub(crate) fn module_extensions() -> String {
    MODULE_TYPES.iter().map(|(e, _)| format!(".{e}")).collect::<Vec<_>>().join(" ")
}

/// The modules under `dir`, sorted by name so uploads are reproducible, and what was skipped.
#[derive(Debug)]
pub(crate) struct Scan {
    pub modules: Vec<ModuleFile>,
    pub skipped: Vec<Skipped>,
}

/// A file (or a whole folder, named with a trailing `/`) that is not a module, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub name: String,
    pub why: Why,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// Matched by `exclude` (or its defaults).
    Excluded,
    /// Not of a module type, in a folder found from `main`.
    NotAModule,
    /// A folder of dependencies or tools, in a folder found from `main`.
    ToolFolder,
    /// The assets directory, inside the modules' folder: its files go up as assets.
    Assets,
}

/// How the files of the folder are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// `dir` as given: every file is a module; one of an unknown type is refused.
    Every,
    /// The folder of the configuration's `main`: files of a module type only; the rest is
    /// skipped and named.
    ModuleTypes,
}

/// Folders that never hold a Worker's modules: dependencies, version control, wrangler's own
/// scratch space. Skipped whole where the folder may be the project (wrangler skips its
/// `.wrangler` folder when it looks for additional modules).
const TOOL_FOLDERS: &[&str] = &["node_modules", ".git", ".wrangler"];

/// Lists the modules under `dir`; a file matched by `exclude` is skipped, not refused.
/// `assets`, when it lies inside `dir` (`main = "index.js"` beside `public/`), is skipped whole:
/// its pages would otherwise go up a second time, as text modules.
pub(crate) fn scan(dir: &Path, exclude: &GlobSet, take: Take, assets: Option<&Path>) -> Result<Scan, InputError> {
    if !dir.is_dir() {
        return Err(InputError::new(Key::Dir, "is not a directory; point it at your build output (default `dist`)"));
    }
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let assets = assets.and_then(|a| a.canonicalize().ok());
    let name_of = |path: &Path| {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
    };
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| InputError::new(Key::Dir, format!("could not be read: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| InputError::new(Key::Dir, format!("could not be read: {e}")))?;
            let path = entry.path();
            let meta =
                std::fs::metadata(&path).map_err(|e| InputError::new(Key::Dir, format!("could not be read: {e}")))?;
            if meta.is_dir() {
                if assets.is_some() && path.canonicalize().ok() == assets {
                    skipped.push(Skipped { name: format!("{}/", name_of(&path)), why: Why::Assets });
                } else if take == Take::ModuleTypes && TOOL_FOLDERS.iter().any(|f| entry.file_name() == *f) {
                    skipped.push(Skipped { name: format!("{}/", name_of(&path)), why: Why::ToolFolder });
                } else {
                    stack.push(path);
                }
                continue;
            }
            let name = name_of(&path);
            if exclude.is_match(&name) {
                skipped.push(Skipped { name, why: Why::Excluded });
                continue;
            }
            if take == Take::ModuleTypes && content_type(&name).is_none() {
                skipped.push(Skipped { name, why: Why::NotAModule });
                continue;
            }
            let content_type = content_type(&name).ok_or_else(|| {
                InputError::new(Key::Dir,
                    format!(
                        "holds `{name}`, whose type is unknown (known: .js .mjs .cjs .wasm .map .py .txt .html .sql .bin, requirements.txt, _headers, _redirects); remove it from the build output or add it to {}", super::hint::input(Key::Exclude)
                    ),
                )
            })?;
            out.push(ModuleFile { name, path, content_type, size: meta.len() });
        }
    }
    if out.is_empty() {
        return Err(InputError::new(
            Key::Dir,
            "is empty; build your Worker first (or point `dir` at the build output)",
        ));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    skipped.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Scan { modules: out, skipped })
}

/// `main_module`, or else the only `.js`/`.mjs` at the top of `dir`.
pub(crate) fn main_module(modules: &[ModuleFile], wanted: Option<&str>) -> Result<String, InputError> {
    if let Some(w) = wanted {
        return modules.iter().find(|m| m.name == w).map(|m| m.name.clone()).ok_or_else(|| {
            InputError::new(Key::MainModule, format!("names no file in `dir`; the modules are: {}", names(modules)))
        });
    }
    let top: Vec<&ModuleFile> = modules
        .iter()
        .filter(|m| !m.name.contains('/') && (m.name.ends_with(".js") || m.name.ends_with(".mjs")))
        .collect();
    match top.as_slice() {
        [one] => Ok(one.name.clone()),
        [] => Err(InputError::new(
            Key::MainModule,
            format!("is required: no .js/.mjs file at the top of `dir`. Modules: {}", names(modules)),
        )),
        many => Err(InputError::new(
            Key::MainModule,
            format!(
                "is required: several candidates at the top of `dir`: {}",
                many.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn names(modules: &[ModuleFile]) -> String {
    modules.iter().take(20).map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("index.js"), Some("application/javascript+module"));
        assert_eq!(content_type("a/b.MJS"), Some("application/javascript+module"));
        assert_eq!(content_type("legacy.cjs"), Some("application/javascript"));
        assert_eq!(content_type("m.wasm"), Some("application/wasm"));
        assert_eq!(content_type("index.js.map"), Some("application/source-map"));
        assert_eq!(content_type("main.py"), Some("text/x-python"));
        assert_eq!(content_type("requirements.txt"), Some("text/x-python-requirement"));
        assert_eq!(content_type("notes.txt"), Some("text/plain"));
        assert_eq!(content_type("_headers"), Some("text/plain"));
        assert_eq!(content_type("public/_redirects"), Some("text/plain"));
        assert_eq!(content_type("q.sql"), Some("text/plain"));
        assert_eq!(content_type("blob.bin"), Some("application/octet-stream"));
        assert_eq!(content_type("image.png"), None);
        assert_eq!(content_type("Makefile"), None);
    }

    #[test]
    fn scan_and_pick_main() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("lib")).unwrap();
        std::fs::write(d.path().join("index.js"), "export default {}").unwrap();
        std::fs::write(d.path().join("lib/util.mjs"), "export const x = 1").unwrap();
        std::fs::write(d.path().join("index.js.map"), "{}").unwrap();
        let m = scan(d.path(), &exclude_set(None).unwrap(), Take::Every, None).unwrap().modules;
        assert_eq!(m.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["index.js", "index.js.map", "lib/util.mjs"]);
        assert_eq!(main_module(&m, None).unwrap(), "index.js");
        assert_eq!(main_module(&m, Some("lib/util.mjs")).unwrap(), "lib/util.mjs");
        assert!(main_module(&m, Some("nope.js")).unwrap_err().to_string().contains("`main_module`"));
        std::fs::write(d.path().join("other.mjs"), "").unwrap();
        let m = scan(d.path(), &exclude_set(None).unwrap(), Take::Every, None).unwrap().modules;
        assert!(main_module(&m, None).unwrap_err().problem.contains("several"));
    }

    #[test]
    fn unknown_files_and_empty_dirs_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let none = exclude_set(None).unwrap();
        assert!(scan(d.path(), &none, Take::Every, None).unwrap_err().problem.contains("empty"));
        std::fs::write(d.path().join("logo.png"), [0u8]).unwrap();
        assert!(scan(d.path(), &none, Take::Every, None).unwrap_err().problem.contains("logo.png"));
        assert!(
            scan(&d.path().join("missing"), &none, Take::Every, None).unwrap_err().problem.contains("not a directory")
        );
    }

    #[test]
    fn excluded_files_are_skipped_and_named() {
        let d = tempfile::tempdir().unwrap();
        for f in ["index.js", "README.md", "types/index.d.ts", "sub/.DS_Store", "public/logo.png", "requirements.txt"] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let s = scan(d.path(), &exclude_set(Some("public/**, ")).unwrap(), Take::Every, None).unwrap();
        let names: Vec<&str> = s.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["index.js", "requirements.txt"]);
        let skipped: Vec<&str> = s.skipped.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(skipped, ["README.md", "public/logo.png", "sub/.DS_Store", "types/index.d.ts"]);
        assert!(s.skipped.iter().all(|k| k.why == Why::Excluded));
        assert!(
            scan(d.path(), &exclude_set(None).unwrap(), Take::Every, None)
                .unwrap_err()
                .problem
                .contains("public/logo.png")
        );
        let e = exclude_set(Some("ok/**\n[unclosed")).unwrap_err();
        assert!(e.problem.contains("pattern 2"), "{}", e.problem);
    }

    #[test]
    fn a_folder_found_from_main_takes_module_types_only() {
        let d = tempfile::tempdir().unwrap();
        for f in ["index.js", "wrangler.jsonc", "package.json", "src/index.ts", "node_modules/a/index.js", "lib/q.sql"]
        {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let s = scan(d.path(), &exclude_set(None).unwrap(), Take::ModuleTypes, None).unwrap();
        let names: Vec<&str> = s.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["index.js", "lib/q.sql"]);
        let skipped: Vec<(&str, Why)> = s.skipped.iter().map(|k| (k.name.as_str(), k.why)).collect();
        assert_eq!(
            skipped,
            [
                ("node_modules/", Why::ToolFolder),
                ("package.json", Why::NotAModule),
                ("src/index.ts", Why::NotAModule),
                ("wrangler.jsonc", Why::NotAModule)
            ]
        );
        assert!(
            scan(d.path(), &exclude_set(None).unwrap(), Take::Every, None)
                .unwrap_err()
                .problem
                .contains("whose type is unknown")
        );
    }
}

//! The built Worker on disk: every file under `dir` becomes a module, typed by its extension.

use std::path::{Path, PathBuf};

use super::{InputError, Key};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleFile {
    /// Path relative to `dir`, with `/` separators: the name the Worker imports it by.
    pub name: String,
    pub path: PathBuf,
    pub content_type: &'static str,
    pub size: u64,
}

/// Content type by file name, as the Workers upload API expects them.
pub fn content_type(name: &str) -> Option<&'static str> {
    let base = name.rsplit('/').next().unwrap_or(name);
    if base == "_headers" || base == "_redirects" {
        return Some("text/plain");
    }
    let ext = base.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        "js" | "mjs" => "application/javascript+module",
        "cjs" => "application/javascript",
        "wasm" => "application/wasm",
        "map" => "application/source-map",
        "py" => "text/x-python",
        "txt" | "html" | "sql" => "text/plain",
        "bin" => "application/octet-stream",
        _ => return None,
    })
}

/// Lists the modules under `dir`, sorted by name so uploads are reproducible.
pub fn scan(dir: &Path) -> Result<Vec<ModuleFile>, InputError> {
    if !dir.is_dir() {
        return Err(InputError::new(Key::Dir, "is not a directory; point it at your build output (default `dist`)"));
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| InputError::new(Key::Dir, format!("could not be read: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| InputError::new(Key::Dir, format!("could not be read: {e}")))?;
            let path = entry.path();
            let meta =
                std::fs::metadata(&path).map_err(|e| InputError::new(Key::Dir, format!("could not be read: {e}")))?;
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            if name.split('/').any(|part| part == ".DS_Store") {
                continue;
            }
            let content_type = content_type(&name).ok_or_else(|| {
                InputError::new(Key::Dir,
                    format!(
                        "holds `{name}`, whose type is unknown (known: .js .mjs .cjs .wasm .map .py .txt .html .sql .bin, _headers, _redirects); remove it from the build output"
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
    Ok(out)
}

/// `main_module`, or else the only `.js`/`.mjs` at the top of `dir`.
pub fn main_module(modules: &[ModuleFile], wanted: Option<&str>) -> Result<String, InputError> {
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
        let m = scan(d.path()).unwrap();
        assert_eq!(m.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["index.js", "index.js.map", "lib/util.mjs"]);
        assert_eq!(main_module(&m, None).unwrap(), "index.js");
        assert_eq!(main_module(&m, Some("lib/util.mjs")).unwrap(), "lib/util.mjs");
        assert!(main_module(&m, Some("nope.js")).unwrap_err().to_string().contains("`main_module`"));
        std::fs::write(d.path().join("other.mjs"), "").unwrap();
        let m = scan(d.path()).unwrap();
        assert!(main_module(&m, None).unwrap_err().problem.contains("several"));
    }

    #[test]
    fn unknown_files_and_empty_dirs_are_refused() {
        let d = tempfile::tempdir().unwrap();
        assert!(scan(d.path()).unwrap_err().problem.contains("empty"));
        std::fs::write(d.path().join("logo.png"), [0u8]).unwrap();
        assert!(scan(d.path()).unwrap_err().problem.contains("logo.png"));
        assert!(scan(&d.path().join("missing")).unwrap_err().problem.contains("not a directory"));
    }
}

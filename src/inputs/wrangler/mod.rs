//! The user's wrangler configuration (`wrangler.json`, `wrangler.jsonc`, `wrangler.toml`) as the
//! source of a version: found, read into the line-keeping tree ([`super::tree`], shared with
//! the Workers Builds configuration; JSON with comments and trailing commas), narrowed to an
//! environment ([`env`](mod@env)) and mapped onto the beta Version body ([`map`], docs/cloudflare-api.md
//! §D).
//!
//! Reusable by any command that uploads code (`version` now, a `preview` later): [`load`] takes
//! a path and an environment and knows nothing of inputs other than the one it reports under.

pub(crate) mod d1;
pub(crate) mod env;
pub(crate) mod map;

use std::path::{Path, PathBuf};

use super::tree::{self, Json};
use super::{InputError, Key};

pub(crate) use map::{Mapped, Migration};

/// wrangler's order (docs/cloudflare-api.md §D.1): the first that exists wins.
pub(crate) const FILES: [&str; 3] = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Toml,
}

/// Something wrong at a place in the file, before the file's name is attached.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub line: usize,
    pub path: String,
    pub problem: String,
}

pub(crate) fn problem(line: usize, path: &str, problem: impl Into<String>) -> Problem {
    Problem { line, path: path.to_owned(), problem: problem.into() }
}

/// The configuration file in the working directory, with the others that were passed over.
///
/// Only `dir` itself is searched: wrangler walks up to the file system's root, but a CI step
/// that picks up a configuration from a parent directory it never meant to use would upload
/// the wrong Worker, so workers-ci asks for `config` instead (README says so).
pub(crate) fn discover(dir: &Path) -> Option<(PathBuf, Vec<PathBuf>)> {
    let mut found = FILES.iter().map(|f| dir.join(f)).filter(|p| p.is_file());
    let first = found.next()?;
    Some((first, found.collect()))
}

/// A configuration read and mapped for one environment.
#[derive(Debug)]
pub(crate) struct Config {
    /// The path as given, for messages.
    pub file: String,
    pub mapped: Mapped,
    /// `d1_databases` as migrations read it.
    pub d1: Vec<d1::D1Entry>,
}

impl Config {
    pub(crate) fn error(&self, p: &Problem) -> InputError {
        at(&self.file, p)
    }

    /// The error for a missing `key` that the file does hold, misspelt: the misspelling is
    /// the cause, so it is what is named (the file, its line and the key as written).
    pub(crate) fn misspelt(&self, key: &str, why: &str) -> Option<InputError> {
        let m = self.mapped.misspelt.iter().find(|m| m.suggestion == key)?;
        Some(self.error(&problem(m.line, &m.path, format!("is not a key wrangler knows; did you mean `{key}`? {why}"))))
    }
}

/// wrangler's configuration keys ([`keys.txt`](keys.txt), from its `config-schema.json`):
/// each key, and whether an environment takes it too.
fn wrangler_keys() -> impl Iterator<Item = (&'static str, bool)> {
    include_str!("keys.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once(' ').map_or((l, false), |(k, env)| (k, env == "env")))
}

/// The key wrangler knows that `key` (unknown to wrangler) is likely a misspelling of; `None`
/// when wrangler knows `key` or nothing is close. `in_env`: written under `env.<name>`.
pub(crate) fn did_you_mean(key: &str, in_env: bool) -> Option<&'static str> {
    let known = || wrangler_keys().filter(|(_, env)| !in_env || *env).map(|(k, _)| k);
    if known().any(|k| k == key) {
        return None;
    }
    super::rules::closest(key, known())
}

/// wrangler's environment tags (docs/cloudflare-api.md §T.6): only when the
/// file declares environments, `cf:service=<top-level name>` (none without a top-level name) and,
/// deploying one, `cf:environment=<name>`.
fn environment_tags(root: &tree::Node, environment: Option<&str>) -> Option<Vec<String>> {
    if !matches!(root.get("env").map(|e| &e.value), Some(tree::Val::Table(t)) if !t.is_empty()) {
        return None;
    }
    let mut tags = Vec::new();
    if let Some(name) = root.get("name").and_then(tree::Node::as_str) {
        tags.push(format!("cf:service={name}"));
    }
    if let Some(e) = environment {
        tags.push(format!("cf:environment={e}"));
    }
    Some(tags)
}

fn at(file: &str, p: &Problem) -> InputError {
    InputError::new(Key::Config, format!("{file}:{}: {}: {}", p.line, p.path, p.problem))
}

/// Reads, checks and maps the file for `environment`. Every error names the file, line and
/// key, and says what to write instead; none quotes a value.
pub(crate) fn load(path: &Path, environment: Option<&str>) -> Result<Config, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound { "does not exist" } else { "cannot be read" };
        InputError::new(
            Key::Config,
            format!(
                "`{file}` {why}: point {} at your wrangler.jsonc, wrangler.json or wrangler.toml",
                super::hint::input(Key::Config)
            ),
        )
    })?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let format = if name.ends_with(".toml") {
        Format::Toml
    } else if name.ends_with(".json") || name.ends_with(".jsonc") {
        Format::Json
    } else {
        return Err(InputError::new(
            Key::Config,
            format!("`{file}` must end in `.jsonc`, `.json` or `.toml` (the formats wrangler reads)"),
        ));
    };
    let root = match format {
        Format::Toml => tree::parse_toml(&text),
        Format::Json => tree::parse_json(&text, Json::Jsonc),
    }
    .map_err(|e| InputError::new(Key::Config, format!("{file}:{}: {}", e.line, e.problem)))?;
    let selected = env::select(&root, environment).map_err(|p| at(&file, &p))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let mut mapped = map::map(&selected, &dir, format).map_err(|p| at(&file, &p))?;
    mapped.deploy.environment_tags = environment_tags(&root, environment);
    if let Some(w) = mapped.assets.as_mut().and_then(|a| a.directory_written.as_mut()) {
        w.file.clone_from(&file);
    }
    let d1 = d1::read(&selected, &dir).map_err(|p| at(&file, &p))?;
    Ok(Config { file, mapped, d1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_takes_wranglers_order_and_reports_the_rest() {
        let d = tempfile::tempdir().unwrap();
        assert!(discover(d.path()).is_none());
        std::fs::write(d.path().join("wrangler.toml"), "").unwrap();
        std::fs::write(d.path().join("wrangler.jsonc"), "{}").unwrap();
        let (first, others) = discover(d.path()).unwrap();
        assert!(first.ends_with("wrangler.jsonc"));
        assert_eq!(others.len(), 1);
        std::fs::write(d.path().join("wrangler.json"), "{}").unwrap();
        assert!(discover(d.path()).unwrap().0.ends_with("wrangler.json"));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("wrangler.toml");
        std::fs::write(&p, "name = \"w\"\n[[kv_namespaces]]\nbinding = \"KV\"\nid = 5\n").unwrap();
        let e = load(&p, None).unwrap_err().to_string();
        assert!(e.contains("wrangler.toml:4: kv_namespaces[0].id:"), "{e}");
        std::fs::write(&p, "name = \"w\"\nmain = [\n").unwrap();
        let e = load(&p, None).unwrap_err().to_string();
        assert!(e.contains("wrangler.toml:") && e.contains("not valid TOML"), "{e}");
    }

    #[test]
    fn did_you_mean_takes_wranglers_keys() {
        assert_eq!(did_you_mean("compatability_date", false), Some("compatibility_date"));
        assert_eq!(did_you_mean("kv_namespace", true), Some("kv_namespaces"));
        assert_eq!(did_you_mean("compatibility_date", false), None, "known");
        assert_eq!(did_you_mean("frobnicate", false), None, "nothing close");
        // `keep_vars` is top-level only: under an environment it is not suggested.
        assert_eq!(did_you_mean("keep_var", false), Some("keep_vars"));
        assert_eq!(did_you_mean("keep_var", true), None);
    }
}

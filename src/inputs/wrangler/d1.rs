//! `d1_databases[]` as migrations see them (docs/cloudflare-api.md §J.1): which database, where
//! its migration files are, and which table records them. The bindings themselves are mapped
//! with the others in [`super::map`].

use std::path::{Path, PathBuf};

use super::env::Selected;
use super::{Problem, problem};
use crate::inputs::tree::{Node, Val, index, join};

/// wrangler's defaults (§J.1).
pub(crate) const DEFAULT_DIR: &str = "migrations";
pub(crate) const DEFAULT_TABLE: &str = "d1_migrations";

/// One `d1_databases` entry of the configuration in effect.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct D1Entry {
    /// Where it is written: `d1_databases[0]` or `env.staging.d1_databases[0]`.
    pub path: String,
    pub line: usize,
    pub binding: String,
    pub database_name: Option<String>,
    /// As written; checked by the reader of the migrations.
    pub database_id: Option<(String, usize)>,
    /// `migrations_dir` resolved against the configuration's directory.
    pub dir: PathBuf,
    /// `migrations_dir` as written, with its line; `None`: wrangler's default.
    pub dir_written: Option<(String, usize)>,
    pub table: String,
    /// `migrations_pattern` relative to `migrations_dir` (the `migrations_dir/` prefix taken
    /// off), with its line; `None`: `*.sql`.
    pub pattern: Option<(String, usize)>,
}

fn string<'n>(n: &'n Node, path: &str) -> Result<&'n str, Problem> {
    n.as_str().ok_or_else(|| problem(n.line, path, format!("must be a string, not {}", n.value.kind())))
}

/// Every entry, in file order. Type errors name the key; whether a directory exists is
/// checked by the reader of the migrations, which knows whether this entry is used.
pub(crate) fn read(sel: &Selected<'_>, dir: &Path) -> Result<Vec<D1Entry>, Problem> {
    let Some(entry) = sel.entries.iter().find(|e| e.key == "d1_databases") else { return Ok(Vec::new()) };
    let Val::Arr(items) = &entry.node.value else {
        return Err(problem(
            entry.node.line,
            &entry.path,
            format!("must be an array, not {}", entry.node.value.kind()),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = index(&entry.path, i);
        let get = |k: &str| -> Result<Option<(&str, usize)>, Problem> {
            match item.get(k) {
                Some(n) => Ok(Some((string(n, &join(&path, k))?, n.line))),
                None => Ok(None),
            }
        };
        let Some((binding, _)) = get("binding")? else {
            return Err(problem(item.line, &path, "has no `binding`: name the binding (e.g. `binding = \"DB\"`)"));
        };
        let dir_written = get("migrations_dir")?.map(|(d, l)| (d.to_owned(), l));
        let written = dir_written.as_ref().map_or(DEFAULT_DIR, |(d, _)| d.as_str());
        let table = match get("migrations_table")? {
            Some(("", line)) => {
                return Err(problem(line, &join(&path, "migrations_table"), "must not be empty"));
            }
            Some((t, _)) => t.to_owned(),
            None => DEFAULT_TABLE.to_owned(),
        };
        let pattern = match get("migrations_pattern")? {
            None => None,
            Some((p, line)) => {
                let key = join(&path, "migrations_pattern");
                if dir_written.is_none() {
                    return Err(problem(line, &key, "needs `migrations_dir` beside it (as wrangler requires)"));
                }
                let prefix = format!("{}/", written.trim_end_matches('/'));
                match p.strip_prefix(&prefix) {
                    Some(rest) if !rest.is_empty() => Some((rest.to_owned(), line)),
                    _ => {
                        return Err(problem(
                            line,
                            &key,
                            format!(
                                "must start with the `migrations_dir` and a `/` (`{prefix}…`), as wrangler requires"
                            ),
                        ));
                    }
                }
            }
        };
        out.push(D1Entry {
            line: item.line,
            binding: binding.to_owned(),
            database_name: get("database_name")?.map(|(n, _)| n.to_owned()),
            database_id: get("database_id")?.map(|(n, l)| (n.to_owned(), l)),
            dir: dir.join(written),
            dir_written,
            table,
            pattern,
            path,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    fn load(toml: &str) -> Result<Vec<super::D1Entry>, String> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("wrangler.toml");
        std::fs::write(&p, toml).unwrap();
        super::super::load(&p, None).map(|c| c.d1).map_err(|e| e.to_string())
    }

    const HEAD: &str = "name = \"w\"\n[[d1_databases]]\nbinding = \"DB\"\ndatabase_id = \"x\"\n";

    #[test]
    fn defaults_are_wranglers() {
        let e = &load(HEAD).unwrap()[0];
        assert_eq!((e.table.as_str(), e.dir_written.is_none(), e.pattern.is_none()), ("d1_migrations", true, true));
        assert!(e.dir.ends_with("migrations"));
        assert_eq!((e.path.as_str(), e.line), ("d1_databases[0]", 2));
    }

    #[test]
    fn a_pattern_must_sit_under_the_directory() {
        let e = load(&format!("{HEAD}migrations_pattern = \"m/*.sql\"\n")).unwrap_err();
        assert!(e.contains("wrangler.toml:5: d1_databases[0].migrations_pattern: needs `migrations_dir`"), "{e}");
        let e = load(&format!("{HEAD}migrations_dir = \"db\"\nmigrations_pattern = \"m/*.sql\"\n")).unwrap_err();
        assert!(
            e.contains(
                ":6: d1_databases[0].migrations_pattern: must start with the `migrations_dir` and a `/` (`db/…`)"
            ),
            "{e}"
        );
        let ok =
            load(&format!("{HEAD}migrations_dir = \"db/\"\nmigrations_pattern = \"db/*/migration.sql\"\n")).unwrap();
        assert_eq!(ok[0].pattern.as_ref().map(|p| p.0.as_str()), Some("*/migration.sql"));
    }

    #[test]
    fn types_and_empty_names_are_refused_by_key() {
        let e = load(&format!("{HEAD}migrations_table = 3\n")).unwrap_err();
        assert!(e.contains(":5: d1_databases[0].migrations_table: must be a string"), "{e}");
        let e = load(&format!("{HEAD}migrations_table = \"\"\n")).unwrap_err();
        assert!(e.contains(":5: d1_databases[0].migrations_table: must not be empty"), "{e}");
    }
}

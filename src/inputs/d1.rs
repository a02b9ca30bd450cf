//! The D1 migrations to apply, read and checked before any request (docs/cloudflare-api.md
//! §J.1-§J.3): which databases of the wrangler configuration, their migration files in
//! wrangler's order, and the SQL each file is sent as. `migrate` reads them, and so do `version`
//! and `deploy` with `migrate: true`.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use super::wrangler::d1::{D1Entry, DEFAULT_DIR};
use super::wrangler::{self, problem};
use super::{InputError, Inputs, Key, hint};
use crate::cloudflare::D1DatabaseId;

/// What one run migrates.
#[derive(Debug, Clone)]
pub(crate) struct Migrations {
    pub databases: Vec<Database>,
    /// List what would run (the applied set is still read); apply nothing.
    pub dry_run: bool,
}

/// One database and its migration files, in the order they are applied.
#[derive(Debug, Clone)]
pub(crate) struct Database {
    pub binding: String,
    pub name: Option<String>,
    pub id: D1DatabaseId,
    pub table: String,
    /// The migrations directory as the log shows it.
    pub dir: PathBuf,
    /// `d1_databases[0] in wrangler.toml`, for messages.
    pub written: String,
    pub files: Vec<File>,
}

impl Database {
    /// How the log names it: its binding, and its name when it has one.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(n) if n != &self.binding => format!("{} ({n})", self.binding),
            _ => self.binding.clone(),
        }
    }

    /// wrangler's bookkeeping table, created when absent (§J.3): the same text, so the table is
    /// the one wrangler would have made.
    pub(crate) fn create_table_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {}(\n\t\tid         INTEGER PRIMARY KEY AUTOINCREMENT,\n\t\tname       TEXT UNIQUE,\n\t\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL\n);",
            identifier(&self.table)
        )
    }

    /// §J.3: the applied migrations, oldest first.
    pub(crate) fn applied_sql(&self) -> String {
        format!("SELECT *\n\t\tFROM {}\n\t\tORDER BY id", identifier(&self.table))
    }

    /// §J.4: a file and its bookkeeping row, in one request.
    pub(crate) fn apply_sql(&self, f: &File) -> String {
        format!("{}\nINSERT INTO {} (name)\nvalues ('{}');", f.sql, identifier(&self.table), f.name.replace('\'', "''"))
    }
}

/// One migration file.
#[derive(Debug, Clone)]
pub(crate) struct File {
    /// Its path relative to the migrations directory, with `/`: what the table records.
    pub name: String,
    pub sql: String,
}

/// §J.3: double-quoted, `"` doubled.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The migrations of `config`'s D1 databases: the one `database` names (by binding or
/// `database_name`), else every database that has a migrations directory.
pub(crate) fn from_config(
    config: &wrangler::Config,
    database: Option<&str>,
    dry_run: bool,
) -> Result<Migrations, InputError> {
    let entries = &config.d1;
    let file = &config.file;
    let chosen: Vec<&D1Entry> = if let Some(d) = database {
        let found: Vec<&D1Entry> =
            entries.iter().filter(|e| e.binding == d || e.database_name.as_deref() == Some(d)).collect();
        if found.is_empty() {
            let known: Vec<String> = entries.iter().map(|e| format!("`{}`", e.binding)).collect();
            let known =
                if known.is_empty() { "it has none".to_owned() } else { format!("it has {}", known.join(", ")) };
            return Err(InputError::new(
                Key::Database,
                format!(
                    "names no `d1_databases` entry of {file} (by `binding` or `database_name`): {known}; set {} to one of them",
                    hint::input(Key::Database)
                ),
            ));
        }
        found
    } else {
        // An entry that names its directory must have it; one left to the default is
        // migrated only when `migrations/` exists (a database without migrations is common).
        let with: Vec<&D1Entry> = entries.iter().filter(|e| e.dir_written.is_some() || e.dir.is_dir()).collect();
        if with.is_empty() {
            let what = if entries.is_empty() {
                format!("{file} has no `d1_databases`")
            } else {
                format!(
                    "no `d1_databases` entry of {file} has migrations (none sets `migrations_dir`, and `{}` does not exist)",
                    entries[0].dir.display()
                )
            };
            return Err(InputError::new(
                Key::Config,
                format!("{what}: there is nothing to migrate; add the migration files, or set `migrations_dir`"),
            ));
        }
        with
    };
    let databases = chosen.into_iter().map(|e| database_of(config, e)).collect::<Result<_, _>>()?;
    Ok(Migrations { databases, dry_run })
}

fn database_of(config: &wrangler::Config, e: &D1Entry) -> Result<Database, InputError> {
    let written = format!("{} in {}", e.path, config.file);
    let id = match &e.database_id {
        Some((id, line)) => D1DatabaseId::parse(id).map_err(|_| {
            config.error(&problem(
                *line,
                &format!("{}.database_id", e.path),
                "is not a D1 database id (a UUID, as `wrangler d1 list` shows)",
            ))
        })?,
        None => {
            return Err(config.error(&problem(
                e.line,
                &e.path,
                "has no `database_id`: add the database's UUID (`wrangler d1 list` shows it; workers-ci does not look databases up by name)",
            )));
        }
    };
    if !e.dir.is_dir() {
        let why = format!(
            "`{}` is not a directory: create it with the migration files, or point `migrations_dir` at them",
            e.dir.display()
        );
        return Err(match &e.dir_written {
            Some((_, line)) => config.error(&problem(*line, &format!("{}.migrations_dir", e.path), why)),
            None => config.error(&problem(
                e.line,
                &e.path,
                format!("takes its migrations from `{DEFAULT_DIR}` (no `migrations_dir`), but {why}"),
            )),
        });
    }
    let files = list(e).map_err(|(path, what)| {
        InputError::new(Key::Config, format!("{written}: migration `{}` {what}", path.display()))
    })?;
    Ok(Database {
        binding: e.binding.clone(),
        name: e.database_name.clone(),
        id,
        table: e.table.clone(),
        dir: e.dir.clone(),
        written,
        files,
    })
}

/// The migration files under the entry's directory that its pattern matches (`*.sql` by
/// default), read whole, in wrangler's order (§J.2). Files and directories whose name starts
/// with `.` never match (minimatch's `dot: false`).
fn list(e: &D1Entry) -> Result<Vec<File>, (PathBuf, String)> {
    let pattern = e.pattern.as_ref().map_or("*.sql", |(p, _)| p.as_str());
    let glob = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|err| (e.dir.clone(), format!("pattern is not a glob: {}", err.kind())))?
        .compile_matcher();
    let mut names = Vec::new();
    walk(&e.dir, "", &glob, &mut names).map_err(|err| (e.dir.clone(), format!("cannot be read: {err}")))?;
    names.sort_by(|a, b| compare(a, b));
    names
        .into_iter()
        .map(|name| {
            let path = e.dir.join(&name);
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(sql) => Ok(File { name, sql }),
                    Err(_) => Err((path, "is not UTF-8 text".to_owned())),
                },
                Err(err) => Err((path, format!("cannot be read: {err}"))),
            }
        })
        .collect()
}

fn walk(dir: &Path, rel: &str, glob: &globset::GlobMatcher, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &child, glob, out)?;
        } else if kind.is_file() && glob.is_match(&child) {
            out.push(child);
        }
    }
    Ok(())
}

/// wrangler's `compareMigrationPaths` (§J.2): segment by segment, numbered before unnumbered,
/// numbers compared as numbers, otherwise JavaScript's string order (UTF-16 code units); a
/// shorter path first when one is a prefix of the other.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
    for (x, y) in sa.iter().zip(&sb) {
        let c = segment(a, x, b, y);
        if c != Ordering::Equal {
            return c;
        }
    }
    sa.len().cmp(&sb.len())
}

fn segment(a: &str, x: &str, b: &str, y: &str) -> Ordering {
    // The number is the first segment's, whichever segment is compared (wrangler's
    // `leadingMigrationNumber` reads the path's first segment).
    match (number(a), number(b)) {
        (Some(m), Some(n)) if m != n => return m.partial_cmp(&n).unwrap_or(Ordering::Equal),
        (Some(_), None) => return Ordering::Less,
        (None, Some(_)) => return Ordering::Greater,
        _ => {}
    }
    x.encode_utf16().cmp(y.encode_utf16())
}

/// JavaScript's `parseInt(firstSegment.split("_")[0], 10)`: leading white space, a sign, then
/// the digits up to the first other character; `None` for NaN.
fn number(path: &str) -> Option<f64> {
    let first = path.split('/').next().unwrap_or_default();
    let head = first.split('_').next().unwrap_or_default().trim_start();
    let (sign, rest) = match head.as_bytes().first() {
        Some(b'-') => (-1.0, &head[1..]),
        Some(b'+') => (1.0, &head[1..]),
        _ => (1.0, head),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    digits.parse::<f64>().ok().map(|n| sign * n)
}

/// The configuration `migrate` (or `migrate: true`) reads: `config`, else the first of
/// wrangler's names in the working directory; one is required.
pub(crate) fn load(i: &Inputs) -> Result<wrangler::Config, InputError> {
    let path = match i.path(Key::Config) {
        Some(p) => p,
        None => wrangler::discover(Path::new("")).map(|(first, _)| first).ok_or_else(|| {
            InputError::new(
                Key::Config,
                format!(
                    "is needed for D1 migrations (they are listed under `d1_databases`), and there is no wrangler.json, wrangler.jsonc or wrangler.toml in the working directory; set {}",
                    hint::input(Key::Config)
                ),
            )
        })?,
    };
    wrangler::load(&path, i.get(Key::Environment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_sort_as_wrangler_sorts_them() {
        let mut v = vec!["10_c.sql", "init.sql", "9_b.sql", "1_a.sql", "2_a.sql", "0002_b.sql", "0003_x/migration.sql"];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(v, ["1_a.sql", "0002_b.sql", "2_a.sql", "0003_x/migration.sql", "9_b.sql", "10_c.sql", "init.sql"]);
    }

    #[test]
    fn the_sql_is_wranglers() {
        let db = Database {
            binding: "DB".into(),
            name: None,
            id: D1DatabaseId::parse("0f8b3f2e-6f1c-4a59-9d65-2f2c1c7f3a10").unwrap(),
            table: "my\"table".into(),
            dir: PathBuf::new(),
            written: String::new(),
            files: Vec::new(),
        };
        let f = File { name: "0001_it's.sql".into(), sql: "CREATE TABLE t(a);".into() };
        assert_eq!(
            db.apply_sql(&f),
            "CREATE TABLE t(a);\nINSERT INTO \"my\"\"table\" (name)\nvalues ('0001_it''s.sql');"
        );
        assert_eq!(db.applied_sql(), "SELECT *\n\t\tFROM \"my\"\"table\"\n\t\tORDER BY id");
        assert!(db.create_table_sql().starts_with("CREATE TABLE IF NOT EXISTS \"my\"\"table\"(\n\t\tid "));
    }
}

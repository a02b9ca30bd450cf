//! Step outputs: the `$GITHUB_OUTPUT` file on GitHub, a dotenv or JSON file elsewhere.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Outputs in the order they were first set; setting a name again replaces its value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outputs {
    items: Vec<(String, String)>,
}

/// What `output_file` is written as, decided by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileFormat {
    Dotenv,
    Json,
}

impl FileFormat {
    pub(crate) fn for_path(path: &Path) -> Option<FileFormat> {
        match path.extension()?.to_str()? {
            "env" => Some(FileFormat::Dotenv),
            "json" => Some(FileFormat::Json),
            _ => None,
        }
    }
}

impl Outputs {
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.items.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.items.push((name.to_owned(), value)),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.items.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends every output to the runner's outputs file in heredoc form.
    ///
    /// The runner ends a heredoc at the first line equal to the delimiter and parses what
    /// follows as new outputs, so each delimiter is random and checked against the value
    /// (the check the toolkit does client-side and the runner does not do at all).
    pub(crate) fn append_github(&self, path: &Path) -> io::Result<()> {
        let mut text = String::new();
        for (name, value) in &self.items {
            let delimiter = loop {
                let d = format!("ghadelimiter_{}", crate::random::hex(16));
                if !value.contains(&d) {
                    break d;
                }
            };
            if name.is_empty() || name.contains(['\n', '\r', '=', '<']) {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "output name is not a plain identifier"));
            }
            let value = value.replace("\r\n", "\n");
            text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
        }
        let mut f = OpenOptions::new().append(true).create(true).open(path)?;
        f.write_all(text.as_bytes())?;
        f.flush()
    }

    /// Writes `output_file` whole, through a temporary file and a rename, so a reader never
    /// sees half of it. Returns the outputs a dotenv file could not carry exactly, left out
    /// (see [`dotenv`]).
    pub(crate) fn write_file(&self, path: &Path, format: FileFormat) -> io::Result<Vec<LeftOut>> {
        let (body, left_out) = match format {
            FileFormat::Json => {
                let map: serde_json::Map<String, serde_json::Value> =
                    self.items.iter().map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone()))).collect();
                let mut s = serde_json::to_string_pretty(&map).map_err(io::Error::other)?;
                s.push('\n');
                (s, Vec::new())
            }
            FileFormat::Dotenv => dotenv(&self.items),
        };
        let tmp = path.with_extension(format!("tmp-{}", crate::random::hex(4)));
        fs::write(&tmp, body)?;
        fs::rename(&tmp, path).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
        Ok(left_out)
    }

    /// `name: value` lines for a human reading a plain log.
    pub(crate) fn render_plain(&self) -> String {
        self.items.iter().map(|(n, v)| format!("  {n}: {v}\n")).collect()
    }
}

/// Reads an outputs file the way the runner does (FileCommandManager's
/// `EnvFileKeyValuePairs`): `NAME=VALUE` when `=` comes before any `<<`, else a heredoc ending
/// at the first line equal to its delimiter. Errors are the runner's. For tests of what we
/// write, here and in `tests/`.
#[doc(hidden)]
pub fn read_as_runner(text: &str) -> Result<Vec<(String, String)>, String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.is_empty() {
            continue;
        }
        match (line.find('='), line.find("<<")) {
            (Some(e), h) if h.is_none_or(|h| e < h) => out.push((line[..e].to_owned(), line[e + 1..].to_owned())),
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err("Name must not be empty and delimiter must not be empty".into());
                }
                let mut value = Vec::new();
                loop {
                    let Some(l) = lines.get(i) else { return Err("Matching delimiter not found".into()) };
                    i += 1;
                    if *l == delimiter {
                        break;
                    }
                    value.push(*l);
                }
                out.push((name.to_owned(), value.join("\n")));
            }
            _ => return Err(format!("Invalid format '{line}'")),
        }
    }
    Ok(out)
}

/// An output the dotenv file does not hold, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LeftOut {
    pub name: String,
    pub why: &'static str,
}

/// GitLab's dotenv report limit: a larger file is refused whole, and later jobs get nothing.
pub(crate) const DOTENV_MAX_BYTES: usize = 5 * 1024;

/// The dotenv file as GitLab's `artifacts:reports:dotenv` reads it (docs/gitlab-ci.md, "dotenv
/// reports"), which is its reason to exist: `NAME=value` lines, the value taken verbatim after the first `=` with only leading and
/// trailing blanks stripped (quotes are kept as part of it, there are no escapes) and no line
/// breaks (the report is refused). So every value is written bare, which gives a later job
/// exactly the value; one that cannot be carried exactly (several lines, leading or trailing
/// blanks) is left out rather than altered, and so are the largest values when the file would
/// pass GitLab's 5 KB limit. Not meant to be `source`d by a shell: a value may hold `"` or `$`.
fn dotenv(items: &[(String, String)]) -> (String, Vec<LeftOut>) {
    let mut left_out = Vec::new();
    let mut kept: Vec<(String, &str)> = Vec::new();
    for (name, value) in items {
        if value.contains(['\n', '\r']) {
            left_out.push(LeftOut { name: name.clone(), why: "it has several lines, which a dotenv file cannot hold" });
        } else if value.trim() != value {
            left_out.push(LeftOut {
                name: name.clone(),
                why: "it starts or ends with a blank, which GitLab's dotenv reader strips",
            });
        } else {
            kept.push((name.to_uppercase(), value));
        }
    }
    let size = |kept: &[(String, &str)]| kept.iter().map(|(n, v)| n.len() + v.len() + 2).sum::<usize>();
    while size(&kept) > DOTENV_MAX_BYTES {
        let Some(largest) = kept.iter().enumerate().max_by_key(|(_, (_, v))| v.len()).map(|(i, _)| i) else { break };
        let (name, _) = kept.remove(largest);
        left_out.push(LeftOut {
            name: name.to_lowercase(),
            why: "the file would pass GitLab's 5 KB limit for a dotenv report with it",
        });
    }
    (kept.iter().map(|(n, v)| format!("{n}={v}\n")).collect(), left_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_survives_hostile_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut o = Outputs::default();
        o.set("plain", "abc");
        o.set("multi", "line1\nEOF\nghadelimiter_x\nevil=1\n");
        o.set("empty", "");
        o.set("plain", "replaced");
        o.append_github(&path).unwrap();
        let parsed = read_as_runner(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            parsed,
            vec![
                ("plain".into(), "replaced".into()),
                ("multi".into(), "line1\nEOF\nghadelimiter_x\nevil=1\n".into()),
                ("empty".into(), String::new()),
            ]
        );
    }

    /// GitLab's dotenv reader (docs/gitlab-ci.md: values verbatim after the first `=`, blanks
    /// at both ends stripped, quotes kept, no empty lines).
    fn read_as_gitlab(text: &str) -> Vec<(String, String)> {
        text.lines()
            .map(|l| {
                let (k, v) = l.split_once('=').expect("NAME=value");
                assert!(!k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{l}");
                (k.to_owned(), v.trim().to_owned())
            })
            .collect()
    }

    #[test]
    fn dotenv_and_json_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outputs::default();
        o.set("build_uuid", "b-1");
        o.set("builds", r#"[{"worker":"my-worker","outcome":"success"}]"#);
        o.set("message", "it's $HOME\nnext");
        o.set("spaced", "a b 'c' \"d\"");
        o.set("padded", " a");
        o.set("build_outcome", "");
        let env = dir.path().join("o.env");
        let left_out = o.write_file(&env, FileFormat::Dotenv).unwrap();
        assert_eq!(left_out.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["message", "padded"]);
        let text = fs::read_to_string(&env).unwrap();
        assert_eq!(
            read_as_gitlab(&text),
            [
                ("BUILD_UUID", "b-1"),
                ("BUILDS", r#"[{"worker":"my-worker","outcome":"success"}]"#),
                ("SPACED", "a b 'c' \"d\""),
                ("BUILD_OUTCOME", ""),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let json = dir.path().join("o.json");
        assert!(o.write_file(&json, FileFormat::Json).unwrap().is_empty());
        let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(v["message"], "it's $HOME\nnext");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary files left behind");
    }

    #[test]
    fn a_dotenv_file_stays_under_gitlabs_limit_by_leaving_out_the_largest_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outputs::default();
        o.set("builds", "x".repeat(DOTENV_MAX_BYTES));
        o.set("build_outcome", "success");
        let env = dir.path().join("o.env");
        let left_out = o.write_file(&env, FileFormat::Dotenv).unwrap();
        assert_eq!(left_out.len(), 1);
        assert_eq!(left_out[0].name, "builds");
        assert_eq!(fs::read_to_string(&env).unwrap(), "BUILD_OUTCOME=success\n");
    }

    #[test]
    fn file_format_by_extension() {
        assert_eq!(FileFormat::for_path(Path::new("a/b.env")), Some(FileFormat::Dotenv));
        assert_eq!(FileFormat::for_path(Path::new("b.json")), Some(FileFormat::Json));
        assert_eq!(FileFormat::for_path(Path::new("b.txt")), None);
        assert_eq!(FileFormat::for_path(Path::new("env")), None);
    }
}

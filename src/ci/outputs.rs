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
    /// sees half of it.
    pub(crate) fn write_file(&self, path: &Path, format: FileFormat) -> io::Result<()> {
        let body = match format {
            FileFormat::Json => {
                let map: serde_json::Map<String, serde_json::Value> =
                    self.items.iter().map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone()))).collect();
                let mut s = serde_json::to_string_pretty(&map).map_err(io::Error::other)?;
                s.push('\n');
                s
            }
            FileFormat::Dotenv => {
                self.items.iter().map(|(n, v)| format!("{}={}\n", n.to_uppercase(), dotenv_quote(v))).collect()
            }
        };
        let tmp = path.with_extension(format!("tmp-{}", crate::random::hex(4)));
        fs::write(&tmp, body)?;
        fs::rename(&tmp, path).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
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

/// Single-quoted when the value has anything a dotenv reader could interpret; single quotes
/// are literal in every common dotenv dialect (and in POSIX shells that `source` the file).
/// An empty value is written bare (`KEY=`): GitLab's dotenv reports keep quotes literally, so
/// `KEY=''` would hand the next job two quote characters.
fn dotenv_quote(v: &str) -> String {
    if v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:@+%,".contains(&b)) {
        return v.to_owned();
    }
    if !v.contains('\'') && !v.contains('\n') {
        return format!("'{v}'");
    }
    let escaped =
        v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('$', "\\$").replace('`', "\\`");
    format!("\"{escaped}\"")
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

    #[test]
    fn dotenv_and_json_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outputs::default();
        o.set("build_uuid", "b-1");
        o.set("message", "it's $HOME\nnext");
        o.set("spaced", "a b");
        o.set("build_outcome", "");
        let env = dir.path().join("o.env");
        o.write_file(&env, FileFormat::Dotenv).unwrap();
        assert_eq!(
            fs::read_to_string(&env).unwrap(),
            "BUILD_UUID=b-1\nMESSAGE=\"it's \\$HOME\\nnext\"\nSPACED='a b'\nBUILD_OUTCOME=\n"
        );
        let json = dir.path().join("o.json");
        o.write_file(&json, FileFormat::Json).unwrap();
        let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(v["message"], "it's $HOME\nnext");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary files left behind");
    }

    #[test]
    fn file_format_by_extension() {
        assert_eq!(FileFormat::for_path(Path::new("a/b.env")), Some(FileFormat::Dotenv));
        assert_eq!(FileFormat::for_path(Path::new("b.json")), Some(FileFormat::Json));
        assert_eq!(FileFormat::for_path(Path::new("b.txt")), None);
        assert_eq!(FileFormat::for_path(Path::new("env")), None);
    }
}

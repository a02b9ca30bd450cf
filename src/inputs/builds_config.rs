//! The `setup` command's configuration file (`builds_config`): one Worker's Workers Builds
//! configuration, kept in the repository and reviewed like code.
//!
//! The file is read into the line-keeping tree every configuration file goes through
//! ([`super::tree`], shared with the wrangler configuration), and checked by hand rather than
//! by serde: a serde message quotes the offending value ("invalid type: string …"), and a value
//! in this file may be a pasted secret. Every message names the file, the line and the key path,
//! in TOML and JSON alike, and says what to write instead; none quotes a value. Unknown keys
//! are refused so a misspelt `branch_exclude` cannot silently build every branch. JSON is plain
//! JSON, as it always was here: comments and trailing commas are refused, on their line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::tree::{self, Json, Node, Val, index, join};
use super::{InputError, Key};

/// What a value is, for messages that must not quote it: this file's words ("a table").
fn kind(v: &Val) -> &'static str {
    match v {
        Val::Table(_) => "a table",
        other => other.kind(),
    }
}

/// The file as `setup` converges to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BuildsConfig {
    pub file: PathBuf,
    /// Worker name or 32-hex tag.
    pub worker: String,
    /// The line of `worker`, for the message when it names no Worker.
    pub worker_line: usize,
    /// Build token name or uuid; `None`: the account's only one.
    pub build_token: Option<String>,
    pub connection: Option<ConnectionSpec>,
    pub triggers: Vec<TriggerSpec>,
}

/// `[connection]`, each field `None` when the file leaves it to the runner's `GITHUB_*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConnectionSpec {
    pub provider: String,
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    pub repo_id: Option<String>,
    pub repo_name: Option<String>,
    /// The line of the `connection` key; `None` for the connection `setup` makes up when the
    /// file has none.
    pub line: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TriggerSpec {
    pub name: String,
    pub branch_includes: Vec<String>,
    pub branch_excludes: Vec<String>,
    pub path_includes: Vec<String>,
    pub path_excludes: Vec<String>,
    pub build_command: String,
    pub deploy_command: String,
    pub root_directory: String,
    pub build_caching: bool,
    /// Secret build variables: names, with the line each is listed on (for `require_secrets`;
    /// always `Some`, in JSON as in TOML).
    pub secrets: Vec<(String, Option<usize>)>,
    pub vars: BTreeMap<String, String>,
}

/// Reads and checks the file. `display` is the path as the user wrote it, for messages.
pub(crate) fn load(path: &Path) -> Result<BuildsConfig, InputError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound { "does not exist" } else { "cannot be read" };
        InputError::new(
            Key::BuildsConfig,
            format!(
                "`{display}` {why}: create it (see README, \"Keep your Workers Builds configuration in the repository\") or point {} at it",
                super::hint::input(Key::BuildsConfig)
            ),
        )
    })?;
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let root = if json { tree::parse_json(&text, Json::Strict) } else { tree::parse_toml(&text) }
        .map_err(|e| InputError::new(Key::BuildsConfig, format!("{display}:{}: {}", e.line, e.problem)))?;
    Checker { file: &display }.config(&root, path)
}

struct Checker<'a> {
    file: &'a str,
}

/// The keys each table of the file may have (the JSON Schema in `schema/` is checked against them).
/// Workers Builds triggers a Worker may have (docs/cloudflare-api.md §3).
pub(crate) const MAX_TRIGGERS: usize = 2;

pub const TOP: &[&str] = &["$schema", "worker", "build_token", "connection", "triggers"];
pub const CONNECTION: &[&str] = &["provider", "account_id", "account_name", "repo_id", "repo_name"];
pub const TRIGGER: &[&str] = &[
    "name",
    "branch_includes",
    "branch_excludes",
    "path_includes",
    "path_excludes",
    "build_command",
    "deploy_command",
    "root_directory",
    "build_caching",
    "secrets",
    "vars",
];

impl Checker<'_> {
    fn err(&self, line: usize, key: &str, problem: &str) -> InputError {
        InputError::new(Key::BuildsConfig, format!("{}:{line}: key `{key}`: {problem}", self.file))
    }

    /// The entries of a table, each with its key's line, refusing keys not in `known`.
    fn table<'n>(
        &self,
        node: &'n Node,
        path: &str,
        known: &[&str],
    ) -> Result<BTreeMap<&'n str, (&'n Node, usize)>, InputError> {
        let Val::Table(entries) = &node.value else {
            return Err(self.err(node.line, path, &format!("must be a table, not {}", kind(&node.value))));
        };
        let mut out = BTreeMap::new();
        for (k, line, v) in entries {
            let full = join(path, k);
            if !known.contains(&k.as_str()) {
                // The key is the user's own text, not a value: naming it is what lets them find it.
                return Err(self.err(
                    *line,
                    &full,
                    &format!(
                        "unknown key; expected one of {}",
                        known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            out.insert(k.as_str(), (v, *line));
        }
        Ok(out)
    }

    fn string(&self, node: &Node, key: &str) -> Result<String, InputError> {
        match &node.value {
            Val::Str(s) => Ok(s.clone()),
            other => Err(self.err(node.line, key, &format!("must be a string, not {}", kind(other)))),
        }
    }

    fn strings(&self, node: &Node, key: &str) -> Result<Vec<(String, usize)>, InputError> {
        let Val::Arr(items) = &node.value else {
            return Err(self.err(node.line, key, &format!("must be an array of strings, not {}", kind(&node.value))));
        };
        items.iter().enumerate().map(|(i, n)| Ok((self.string(n, &index(key, i))?, n.line))).collect()
    }

    fn config(&self, root: &Node, path: &Path) -> Result<BuildsConfig, InputError> {
        let top = self.table(root, "", TOP)?;
        let (worker, worker_line) = match top.get("worker") {
            None => {
                return Err(self.err(1, "worker", "is missing: add `worker = \"<Worker name or 32-hex tag>\"`"));
            }
            Some((n, line)) => {
                let w = self.string(n, "worker")?;
                if !super::rules::worker_name(&w) && !super::rules::tag(&w) {
                    return Err(self.err(*line, "worker", "is not a Worker name (lowercase letters, digits, `-` and `_`, at most 63 characters) or a 32-hex tag"));
                }
                (w.to_ascii_lowercase(), *line)
            }
        };
        let build_token = match top.get("build_token") {
            None => None,
            Some((n, line)) => {
                let t = self.string(n, "build_token")?;
                if t.trim().is_empty() {
                    return Err(self.err(*line, "build_token", "is empty: give the build token's name or uuid, or remove the key to use the account's only one"));
                }
                Some(t)
            }
        };
        let connection = match top.get("connection") {
            None => None,
            Some((n, line)) => Some(self.connection(n, *line)?),
        };
        let triggers = match top.get("triggers") {
            None => Vec::new(),
            Some((n, _)) => {
                let Val::Arr(items) = &n.value else {
                    return Err(self.err(n.line, "triggers", "must be an array of tables (`[[triggers]]`)"));
                };
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| self.trigger(t, &index("triggers", i)))
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        // docs/cloudflare-api.md §3: a Worker has at most two triggers (the production branch's
        // and the other branches'); a third would be refused at its create, after earlier writes.
        if triggers.len() > MAX_TRIGGERS {
            let line = match &top.get("triggers").map(|(n, _)| &n.value) {
                Some(Val::Arr(items)) => items.get(MAX_TRIGGERS).map_or(1, |n| n.line),
                _ => 1,
            };
            return Err(self.err(
                line,
                &index("triggers", MAX_TRIGGERS),
                "is a third trigger; a Worker has at most two Workers Builds triggers (one for the production \
                 branch, one for the others): remove it, or give its branches to another trigger's `branch_includes`",
            ));
        }
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (i, t) in triggers.iter().enumerate() {
            if let Some(first) = seen.insert(t.name.to_lowercase(), i) {
                let line = match &top.get("triggers").map(|(n, _)| &n.value) {
                    Some(Val::Arr(items)) => items.get(i).map_or(1, |n| n.line),
                    _ => 1,
                };
                return Err(self.err(
                    line,
                    &join(&index("triggers", i), "name"),
                    &format!("repeats the name of `triggers[{first}]` (triggers are matched by name, case-insensitively): give each trigger its own name"),
                ));
            }
        }
        Ok(BuildsConfig { file: path.to_owned(), worker, worker_line, build_token, connection, triggers })
    }

    fn connection(&self, node: &Node, line: usize) -> Result<ConnectionSpec, InputError> {
        let t = self.table(node, "connection", CONNECTION)?;
        let field = |k: &str| -> Result<Option<String>, InputError> {
            match t.get(k) {
                None => Ok(None),
                Some((n, l)) => {
                    let v = self.string(n, &join("connection", k))?;
                    if v.trim().is_empty() {
                        return Err(self.err(*l, &join("connection", k), "is empty: give a value or remove the key"));
                    }
                    Ok(Some(v))
                }
            }
        };
        let provider = field("provider")?.unwrap_or_else(|| "github".into());
        if !["github", "gitlab", "gitlab_internal", "origin"].contains(&provider.as_str()) {
            let l = t.get("provider").map_or(1, |(_, l)| *l);
            return Err(self.err(
                l,
                "connection.provider",
                "must be `github`, `gitlab`, `gitlab_internal` or `origin`",
            ));
        }
        for k in ["account_id", "repo_id"] {
            if let Some(v) = field(k)?
                && !v.bytes().all(|b| b.is_ascii_digit())
            {
                let l = t.get(k).map_or(1, |(_, l)| *l);
                return Err(self.err(
                    l,
                    &join("connection", k),
                    "must be the provider's numeric id, as a string of digits",
                ));
            }
        }
        Ok(ConnectionSpec {
            provider,
            account_id: field("account_id")?,
            account_name: field("account_name")?,
            repo_id: field("repo_id")?,
            repo_name: field("repo_name")?,
            line: Some(line),
        })
    }

    fn trigger(&self, node: &Node, path: &str) -> Result<TriggerSpec, InputError> {
        let t = self.table(node, path, TRIGGER)?;
        let key = |k: &str| join(path, k);
        let required = |k: &str, how: &str| -> Result<(&Node, usize), InputError> {
            t.get(k).copied().ok_or_else(|| self.err(node.line, &key(k), &format!("is missing: {how}")))
        };
        let (n, l) = required("name", "add `name = \"…\"` (triggers are matched by name)")?;
        let name = self.string(n, &key("name"))?;
        if name.trim().is_empty() {
            return Err(self.err(l, &key("name"), "is empty: give the trigger a name"));
        }
        let (n, _) = required("branch_includes", "add the branches it builds, e.g. `branch_includes = [\"main\"]`")?;
        let branch_includes = self.globs(n, &key("branch_includes"), Glob::Branch)?;
        if branch_includes.is_empty() {
            return Err(self.err(
                n.line,
                &key("branch_includes"),
                "is empty, so the trigger would build nothing: list at least one branch or pattern",
            ));
        }
        let list = |k: &str, kind: Glob, default: &[&str]| -> Result<Vec<String>, InputError> {
            match t.get(k) {
                None => Ok(default.iter().map(|s| (*s).to_owned()).collect()),
                Some((n, _)) => self.globs(n, &key(k), kind),
            }
        };
        let branch_excludes = list("branch_excludes", Glob::Branch, &[])?;
        // §3.2: `path_includes` defaults to `["*"]`.
        let path_includes = list("path_includes", Glob::Path, &["*"])?;
        let path_excludes = list("path_excludes", Glob::Path, &[])?;
        let text = |k: &str, default: Option<&str>| -> Result<String, InputError> {
            match (t.get(k), default) {
                (Some((n, _)), _) => self.string(n, &key(k)),
                (None, Some(d)) => Ok(d.to_owned()),
                (None, None) => Err(self.err(
                    node.line,
                    &key(k),
                    "is missing: add the command, e.g. `deploy_command = \"npx wrangler deploy\"`",
                )),
            }
        };
        let build_command = text("build_command", Some(""))?;
        let deploy_command = text("deploy_command", None)?;
        let root_directory = text("root_directory", Some("/"))?;
        let build_caching = match t.get("build_caching") {
            None => false,
            Some((n, _)) => match n.value {
                Val::Bool(b) => b,
                ref other => {
                    return Err(self.err(
                        n.line,
                        &key("build_caching"),
                        &format!("must be `true` or `false`, not {}", kind(other)),
                    ));
                }
            },
        };
        let secrets = match t.get("secrets") {
            None => Vec::new(),
            Some((n, _)) => self.secrets(n, &key("secrets"))?,
        };
        let vars = match t.get("vars") {
            None => BTreeMap::new(),
            Some((n, _)) => self.vars(n, &key("vars"), &secrets)?,
        };
        // docs/cloudflare-api.md §E.2: 64 variables per Worker; counted per trigger here, the API's
        // own answer settles the rest.
        if vars.len() + secrets.len() > 64 {
            return Err(self.err(node.line, path, "has more than 64 variables and secrets, Cloudflare's limit"));
        }
        Ok(TriggerSpec {
            name,
            branch_includes,
            branch_excludes,
            path_includes,
            path_excludes,
            build_command,
            deploy_command,
            root_directory,
            build_caching,
            secrets: secrets.into_iter().map(|(s, l)| (s, Some(l))).collect(),
            vars,
        })
    }

    /// `secrets`: names of build variables, each valid and listed once, with their lines.
    fn secrets(&self, node: &Node, key: &str) -> Result<Vec<(String, usize)>, InputError> {
        let secrets = self.strings(node, key)?;
        let mut seen = BTreeSet::new();
        for (i, (s, line)) in secrets.iter().enumerate() {
            if !variable_name(s) {
                return Err(self.err(*line, &index(key, i), VAR_NAME));
            }
            if !seen.insert(s.as_str()) {
                return Err(self.err(*line, &index(key, i), "is listed twice: list each secret once"));
            }
        }
        Ok(secrets)
    }

    /// `vars`: plain-text build variables, none of them also a secret.
    fn vars(&self, n: &Node, key: &str, secrets: &[(String, usize)]) -> Result<BTreeMap<String, String>, InputError> {
        let Val::Table(entries) = &n.value else {
            return Err(self.err(
                n.line,
                key,
                &format!("must be a table of `NAME = \"value\"`, not {}", kind(&n.value)),
            ));
        };
        let mut vars = BTreeMap::new();
        for (k, line, v) in entries {
            let vk = join(key, k);
            let line = *line;
            if !variable_name(k) {
                return Err(self.err(line, &vk, VAR_NAME));
            }
            if secrets.iter().any(|(s, _)| s == k) {
                return Err(self.err(
                    line,
                    &vk,
                    "is also listed in `secrets`: a variable is either plain text or secret",
                ));
            }
            let value = self.string(v, &vk)?;
            // docs/cloudflare-api.md §E.2: each value at most 5000 characters.
            if value.chars().count() > 5000 {
                return Err(self.err(
                    line,
                    &vk,
                    "is longer than 5000 characters, Cloudflare's limit for a build variable",
                ));
            }
            vars.insert(k.clone(), value);
        }
        Ok(vars)
    }

    fn globs(&self, node: &Node, key: &str, kind: Glob) -> Result<Vec<String>, InputError> {
        let items = self.strings(node, key)?;
        for (i, (g, line)) in items.iter().enumerate() {
            if let Err(problem) = kind.check(g) {
                return Err(self.err(*line, &index(key, i), problem));
            }
        }
        Ok(items.into_iter().map(|(g, _)| g).collect())
    }
}

const VAR_NAME: &str =
    "is not a valid variable name: start with a letter or `_`, then only letters, digits and `_` (Cloudflare's rule)";

/// docs/cloudflare-api.md §E.2: "Names must begin with a letter or underscore and contain only
/// letters, numbers, and underscores".
pub(crate) fn variable_name(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(Clone, Copy)]
enum Glob {
    /// Branch filters: `*` and `?` over a Git branch name.
    Branch,
    /// Path filters: globs over repository paths.
    Path,
}

impl Glob {
    fn check(self, g: &str) -> Result<(), &'static str> {
        if g.trim().is_empty() {
            return Err("is empty: remove it, or write `*` for everything");
        }
        if g.chars().any(char::is_whitespace) {
            return Err("contains whitespace, which no branch or path filter can match as intended");
        }
        match self {
            // Characters Git refuses in a branch name (git check-ref-format) can never match.
            Glob::Branch => {
                if g.contains("..") || g.contains("@{") || g.chars().any(|c| "~^:\\[".contains(c) || c.is_control()) {
                    return Err(
                        "is not a branch pattern: Git branch names cannot contain `..`, `@{`, `~`, `^`, `:`, `\\` or `[`; use `*` and `?` as wildcards",
                    );
                }
                Ok(())
            }
            Glob::Path => globset::Glob::new(g)
                .map(|_| ())
                .map_err(|_| "is not a valid glob (an unclosed `[` or `{`?); use `*`, `**`, `?`, `[…]` and `{a,b}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(name: &str, text: &str) -> Result<BuildsConfig, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        load(&p).map_err(|e| e.problem.replace(&p.display().to_string(), name))
    }

    const GOOD: &str = r#"
worker = "my-worker"
[connection]
account_id = "987654"
[[triggers]]
name = "Deploy production"
branch_includes = ["main"]
deploy_command = "npx wrangler deploy"
secrets = ["NPM_TOKEN"]
[triggers.vars]
NODE_ENV = "production"
"#;

    #[test]
    fn a_good_file_with_defaults() {
        let c = load_text("c.toml", GOOD).unwrap();
        assert_eq!(c.worker, "my-worker");
        let t = &c.triggers[0];
        assert_eq!(
            (t.path_includes.as_slice(), t.root_directory.as_str(), t.build_caching),
            (&["*".to_owned()][..], "/", false)
        );
        assert_eq!(t.secrets, vec![("NPM_TOKEN".to_owned(), Some(9))]);
        assert_eq!(c.connection.as_ref().unwrap().provider, "github");
    }

    #[test]
    fn errors_name_line_and_key_never_the_value() {
        let cases = [
            (GOOD.replace("deploy_command", "deploy_comand"), "c.toml:8: key `triggers[0].deploy_comand`: unknown key"),
            (GOOD.replace("[\"main\"]", "[\"ma:in-SECRETISH\"]"), "c.toml:7: key `triggers[0].branch_includes[0]`"),
            (
                GOOD.replace("NODE_ENV = \"production\"", "NODE_ENV = 5"),
                "c.toml:11: key `triggers[0].vars.NODE_ENV`: must be a string, not a number",
            ),
            (GOOD.replace("\"987654\"", "\"abc-SECRETISH\""), "c.toml:4: key `connection.account_id`"),
            (
                format!(
                    "{GOOD}[[triggers]]\nname = \"deploy PRODUCTION\"\nbranch_includes = [\"x\"]\ndeploy_command = \"d\"\n"
                ),
                "key `triggers[1].name`: repeats",
            ),
        ];
        for (text, want) in cases {
            let e = load_text("c.toml", &text).unwrap_err();
            assert!(e.contains(want), "{e}\nwanted {want}");
            assert!(!e.contains("SECRETISH") && !e.contains("production\""), "{e}");
        }
        let e = load_text(
            "c.toml",
            &GOOD.replace("path_includes", "x").replace("secrets = [\"NPM_TOKEN\"]", "path_excludes = [\"src/[a\"]"),
        )
        .unwrap_err();
        assert!(e.contains("c.toml:9: key `triggers[0].path_excludes[0]`: is not a valid glob"), "{e}");
        let e = load_text("c.toml", "worker = \"my-worker\"\n[[triggers]\n").unwrap_err();
        assert!(e.starts_with("c.toml:2: not valid TOML"), "{e}");
    }

    #[test]
    fn json_is_accepted_and_checked_alike() {
        let c = load_text("c.json", r#"{"worker":"my-worker","triggers":[{"name":"P","branch_includes":["main"],"deploy_command":"d","vars":{"A":"1"}}]}"#).unwrap();
        assert_eq!(c.triggers[0].vars["A"], "1");
        let e = load_text("c.json", r#"{"worker":"my-worker","trigers":[]}"#).unwrap_err();
        assert!(e.contains("c.json:1: key `trigers`: unknown key"), "{e}");
        let e = load_text("c.json", "{\n\"worker\": }").unwrap_err();
        assert!(e.starts_with("c.json:2: not valid JSON"), "{e}");
    }

    /// [`GOOD`] in JSON, the keys on the same lines where the layout allows.
    const GOOD_JSON: &str = r#"{
  "worker": "my-worker",
  "connection": { "account_id": "987654" },
  "triggers": [
    {
      "name": "Deploy production",
      "branch_includes": ["main"],
      "deploy_command": "npx wrangler deploy",
      "secrets": ["NPM_TOKEN"],
      "vars": { "NODE_ENV": "production" }
    }
  ]
}
"#;

    #[test]
    fn json_errors_name_file_line_and_key_as_toml_does() {
        let c = load_text("c.json", GOOD_JSON).unwrap();
        assert_eq!(c.triggers[0].secrets, vec![("NPM_TOKEN".to_owned(), Some(9))]);
        assert_eq!(c.connection.as_ref().unwrap().line, Some(3));
        let second = "  },\n    { \"name\": \"deploy PRODUCTION\", \"branch_includes\": [\"x\"], \"deploy_command\": \"d\" }\n  ]";
        let cases = [
            (
                GOOD_JSON.replace("deploy_command", "deploy_comand"),
                "c.json:8: key `triggers[0].deploy_comand`: unknown key",
            ),
            (
                GOOD_JSON.replace("[\"main\"]", "[\"ma:in-SECRETISH\"]"),
                "c.json:7: key `triggers[0].branch_includes[0]`",
            ),
            (
                GOOD_JSON.replace("\"NODE_ENV\": \"production\"", "\"NODE_ENV\": 5"),
                "c.json:10: key `triggers[0].vars.NODE_ENV`: must be a string, not a number",
            ),
            (GOOD_JSON.replace("\"987654\"", "\"abc-SECRETISH\""), "c.json:3: key `connection.account_id`"),
            (
                GOOD_JSON.replace("\"my-worker\"", "{ \"x\": \"SECRETISH\" }"),
                "c.json:2: key `worker`: must be a string, not a table",
            ),
            (
                GOOD_JSON.replace("      \"deploy_command\": \"npx wrangler deploy\",\n", ""),
                "c.json:5: key `triggers[0].deploy_command`: is missing",
            ),
            (GOOD_JSON.replace("    }\n  ]", second), "c.json:12: key `triggers[1].name`: repeats"),
        ];
        for (text, want) in cases {
            let e = load_text("c.json", &text).unwrap_err();
            assert!(e.contains(want), "{e}\nwanted {want}");
            assert!(!e.contains("SECRETISH") && !e.contains("production\""), "{e}");
        }
    }

    /// The file is plain JSON, as it was when `serde_json` read it: comments, trailing commas
    /// and repeated keys are refused on their line, and nothing of the line is quoted.
    #[test]
    fn json_stays_plain_json() {
        let e = load_text("c.json", &GOOD_JSON.replace("    {\n", "    { // production SECRETISH\n")).unwrap_err();
        assert_eq!(e, "c.json:5: not valid JSON: Comments are not allowed");
        let e = load_text("c.json", &GOOD_JSON.replace("[\"NPM_TOKEN\"]", "[\"NPM_TOKEN\",]")).unwrap_err();
        assert_eq!(e, "c.json:9: not valid JSON: Trailing commas are not allowed");
        let e = load_text(
            "c.json",
            &GOOD_JSON.replace("  \"connection\"", "  \"worker\": \"SECRETISH\",\n  \"connection\""),
        )
        .unwrap_err();
        assert!(e.starts_with("c.json:3: the key `worker` appears twice (first on line 2)"), "{e}");
        assert!(!e.contains("SECRETISH"), "{e}");
    }

    #[test]
    fn toml_keys_are_checked_in_file_order() {
        let e = load_text("c.toml", "worker = \"w\"\nzz = 1\naa = 2\n").unwrap_err();
        assert!(e.starts_with("c.toml:2: key `zz`: unknown key"), "the first in the file, not in key order: {e}");
    }
}

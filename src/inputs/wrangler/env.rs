//! `env.<name>`: which keys an environment inherits from the top level, which it must repeat,
//! and its Worker's name (docs/cloudflare-api.md §D.1, from wrangler's `validation.ts`).

use super::{Problem, problem};
use crate::inputs::tree::{Node, Val};

/// Taken from the top level when the environment does not set them: every key not in
/// [`NOT_INHERITABLE`] is, so this list serves the test that each key we map is classified.
#[cfg(test)]
pub(crate) const INHERITABLE: &[&str] = &[
    "account_id",
    "compatibility_date",
    "compatibility_flags",
    "jsx_factory",
    "jsx_fragment",
    "tsconfig",
    "rules",
    "name",
    "main",
    "find_additional_modules",
    "preserve_file_names",
    "base_dir",
    "route",
    "routes",
    "triggers",
    "assets",
    "limits",
    "placement",
    "build",
    "workers_dev",
    "preview_urls",
    "migrations",
    "exports",
    "logfwdr",
    "no_bundle",
    "minify",
    "keep_names",
    "first_party_worker",
    "logpush",
    "upload_source_maps",
    "observability",
    "access",
    "cache",
    "compliance_region",
    "python_modules",
    "previews",
];

/// Never inherited: an environment without them has none (wrangler warns).
pub(crate) const NOT_INHERITABLE: &[&str] = &[
    "vars",
    "secrets",
    "define",
    "durable_objects",
    "workflows",
    "kv_namespaces",
    "cloudchamber",
    "containers",
    "send_email",
    "queues",
    "connect",
    "r2_buckets",
    "d1_databases",
    "vectorize",
    "ai_search_namespaces",
    "ai_search",
    "websearch",
    "agent_memory",
    "hyperdrive",
    "services",
    "analytics_engine_datasets",
    "dispatch_namespaces",
    "mtls_certificates",
    "tail_consumers",
    "streaming_tail_consumers",
    "unsafe",
    "browser",
    "ai",
    "images",
    "stream",
    "media",
    "pipelines",
    "secrets_store_secrets",
    "artifacts",
    "unsafe_hello_world",
    "flagship",
    "worker_loaders",
    "ratelimits",
    "vpc_services",
    "vpc_networks",
    "k2",
    "version_metadata",
];

/// Allowed at the top level only.
pub(crate) const TOP_ONLY: &[&str] = &[
    "send_metrics",
    "dependencies_instrumentation",
    "keep_vars",
    "addresses",
    "dev",
    "site",
    "alias",
    "wasm_modules",
    "text_blobs",
    "data_blobs",
    "pages_build_output_dir",
];

/// A key of the configuration in effect, with where it was written.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    pub key: &'a str,
    /// Its full path in the file (`env.staging.vars` when the environment set it).
    pub path: String,
    pub line: usize,
    pub node: &'a Node,
}

#[derive(Debug)]
pub(crate) struct Selected<'a> {
    pub entries: Vec<Entry<'a>>,
    /// The Worker's name for this environment, with the line it comes from.
    pub name: Option<(String, usize, String)>,
    pub warnings: Vec<String>,
}

fn table<'a>(node: &'a Node, path: &str) -> Result<&'a [(String, usize, Node)], Problem> {
    match &node.value {
        Val::Table(t) => Ok(t),
        other => Err(problem(node.line, path, format!("must be an object (a table in TOML), not {}", other.kind()))),
    }
}

/// The configuration in effect for `environment` (`None`: the top level).
pub(crate) fn select<'a>(root: &'a Node, environment: Option<&str>) -> Result<Selected<'a>, Problem> {
    let top = table(root, "(the file)")?;
    let mut warnings = Vec::new();
    let skip = |k: &str| k == "env" || k == "$schema";
    let mut entries: Vec<Entry<'a>> = Vec::new();
    let top_name = top.iter().find(|(k, _, _)| k == "name").map(|(_, _, n)| n);
    let Some(env_name) = environment else {
        for (k, line, node) in top.iter().filter(|(k, _, _)| !skip(k)) {
            entries.push(Entry { key: k, path: k.clone(), line: *line, node });
        }
        let name = top_name.and_then(|n| Some((n.as_str()?.to_owned(), n.line, "name".to_owned())));
        return Ok(Selected { entries, name, warnings });
    };
    let envs = root.get("env");
    let defined: Vec<&str> = match envs.map(|e| &e.value) {
        Some(Val::Table(t)) => t.iter().map(|(k, _, _)| k.as_str()).collect(),
        _ => Vec::new(),
    };
    let Some(env) = envs.and_then(|e| e.get(env_name)) else {
        let list = if defined.is_empty() {
            "the file defines no environments (no `env` section)".to_owned()
        } else {
            let meant = crate::inputs::rules::closest(env_name, defined.iter().copied())
                .map_or_else(String::new, |m| format!("did you mean `{m}`? "));
            format!("{meant}the environments defined are: {}", defined.join(", "))
        };
        let line = envs.map_or(1, |e| e.line);
        return Err(problem(line, "env", format!("has no environment `{env_name}`; {list}")));
    };
    let prefix = format!("env.{env_name}");
    let env_table = table(env, &prefix)?;
    let in_env = |k: &str| env_table.iter().find(|(e, _, _)| e == k);
    for (k, line, node) in top.iter().filter(|(k, _, _)| !skip(k)) {
        if let Some((_, eline, enode)) = in_env(k) {
            if TOP_ONLY.contains(&k.as_str()) {
                warnings.push(format!(
                    "{prefix}.{k} (line {eline}): `{k}` is allowed only at the top level; the environment's value is ignored"
                ));
                entries.push(Entry { key: k, path: k.clone(), line: *line, node });
            } else {
                entries.push(Entry { key: k, path: format!("{prefix}.{k}"), line: *eline, node: enode });
            }
        } else if NOT_INHERITABLE.contains(&k.as_str()) {
            // wrangler's own wording, so the warning reads the same in both tools.
            warnings.push(format!(
                "`{k}` exists at the top level, but not on `{prefix}`: it is not inherited, so this environment's version has none; repeat it under `{prefix}` if it should"
            ));
        } else {
            entries.push(Entry { key: k, path: k.clone(), line: *line, node });
        }
    }
    for (k, line, node) in env_table {
        if top.iter().any(|(t, _, _)| t == k) {
            continue;
        }
        if TOP_ONLY.contains(&k.as_str()) || k == "env" {
            warnings.push(format!("{prefix}.{k} (line {line}): `{k}` is allowed only at the top level; ignored"));
            continue;
        }
        entries.push(Entry { key: k, path: format!("{prefix}.{k}"), line: *line, node });
    }
    // `<name>-<env>` unless the environment names its Worker (`appendEnvName`).
    let name = match env.get("name") {
        Some(n) => n.as_str().map(|s| (s.to_owned(), n.line, format!("{prefix}.name"))),
        None => top_name.and_then(|n| Some((format!("{}-{env_name}", n.as_str()?), n.line, "name".to_owned()))),
    };
    Ok(Selected { entries, name, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::tree::{Json, SyntaxError, parse_json};

    #[test]
    fn every_mapped_key_is_inherited_or_not_as_wrangler_says() {
        for k in super::super::map::MAPPED {
            let top = k.split('.').next().unwrap_or(k);
            assert!(
                INHERITABLE.contains(&top) != NOT_INHERITABLE.contains(&top),
                "`{top}` must be in exactly one of INHERITABLE and NOT_INHERITABLE"
            );
        }
    }

    fn parse_jsonc(text: &str) -> Result<Node, SyntaxError> {
        parse_json(text, Json::Jsonc)
    }

    const FILE: &str = r#"{
  "name": "app",
  "main": "dist/index.js",
  "vars": { "A": "1" },
  "kv_namespaces": [{ "binding": "KV", "id": "top" }],
  "keep_vars": true,
  "env": {
    "staging": { "kv_namespaces": [{ "binding": "KV", "id": "stage" }], "keep_vars": false },
    "prod": { "name": "app-production", "vars": { "A": "2" } }
  }
}"#;

    fn keys<'a>(s: &'a Selected<'a>) -> Vec<(&'a str, &'a str)> {
        s.entries.iter().map(|e| (e.key, e.path.as_str())).collect()
    }

    #[test]
    fn top_level_without_environment() {
        let root = parse_jsonc(FILE).unwrap();
        let s = select(&root, None).unwrap();
        assert_eq!(s.name.as_ref().unwrap().0, "app");
        assert_eq!(
            keys(&s),
            [
                ("name", "name"),
                ("main", "main"),
                ("vars", "vars"),
                ("kv_namespaces", "kv_namespaces"),
                ("keep_vars", "keep_vars")
            ]
        );
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn an_environment_inherits_some_keys_and_names_its_worker() {
        let root = parse_jsonc(FILE).unwrap();
        let s = select(&root, Some("staging")).unwrap();
        assert_eq!(s.name.as_ref().unwrap().0, "app-staging");
        assert_eq!(
            keys(&s),
            [
                ("name", "name"),
                ("main", "main"),
                ("kv_namespaces", "env.staging.kv_namespaces"),
                ("keep_vars", "keep_vars")
            ]
        );
        assert_eq!(s.entries[2].line, 8);
        assert!(
            s.warnings.iter().any(|w| w.contains("`vars` exists at the top level, but not on `env.staging`")),
            "{:?}",
            s.warnings
        );
        assert!(s.warnings.iter().any(|w| w.contains("keep_vars") && w.contains("top level")), "{:?}", s.warnings);
        let s = select(&root, Some("prod")).unwrap();
        assert_eq!(s.name.as_ref().unwrap().0, "app-production");
        assert!(s.warnings.iter().any(|w| w.contains("`kv_namespaces` exists at the top level")));
    }

    #[test]
    fn an_unknown_environment_lists_the_defined_ones() {
        let root = parse_jsonc(FILE).unwrap();
        let e = select(&root, Some("qa")).unwrap_err();
        assert!(e.problem.contains("no environment `qa`") && e.problem.contains("staging, prod"), "{e:?}");
        let root = parse_jsonc(r#"{"name":"x"}"#).unwrap();
        assert!(select(&root, Some("qa")).unwrap_err().problem.contains("defines no environments"));
    }

    #[test]
    fn a_misspelt_environment_gets_the_closest_one_suggested() {
        let root = parse_jsonc(FILE).unwrap();
        let e = select(&root, Some("stagign")).unwrap_err();
        assert!(e.problem.contains("did you mean `staging`?"), "{e:?}");
        assert!(e.problem.contains("staging, prod"), "{e:?}");
    }
}

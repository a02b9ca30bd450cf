//! Bindings for a Version: the `bindings` JSON, plus `vars` and `secrets` as `KEY=VALUE` lines.
//!
//! Checked locally so that a typo fails in a second with the binding named, not after an
//! upload with an opaque 10021.

use serde_json::{Map, Value};

use super::{InputError, Key};

/// Every binding kind of the Version schema (SDK 7.3.0, docs/cloudflare-api.md §4.2) with the
/// fields the SDK marks required. A kind not listed is refused with the closest suggested, unless
/// `allow_unknown_bindings` passes it through (the API grows new kinds often).
pub(crate) const KINDS: &[(&str, &[&str])] = &[
    ("kv_namespace", &["namespace_id"]),
    ("r2_bucket", &["bucket_name"]),
    ("d1", &["database_id"]),
    ("service", &["service"]),
    ("queue", &["queue_name"]),
    ("plain_text", &["text"]),
    ("secret_text", &["text"]),
    ("json", &["json"]),
    ("hyperdrive", &["id"]),
    ("analytics_engine", &["dataset"]),
    ("vectorize", &["index_name"]),
    ("dispatch_namespace", &["namespace"]),
    ("mtls_certificate", &["certificate_id"]),
    ("secrets_store_secret", &["store_id", "secret_name"]),
    ("workflow", &["workflow_name"]),
    ("ratelimit", &["namespace_id", "simple"]),
    ("durable_object_namespace", &[]),
    ("ai", &[]),
    ("assets", &[]),
    ("browser", &[]),
    ("images", &[]),
    ("version_metadata", &[]),
    ("inherit", &[]),
    ("send_email", &[]),
    ("wasm_module", &["part"]),
    ("text_blob", &["part"]),
    ("data_blob", &["part"]),
    ("pipelines", &["pipeline"]),
    ("ai_search", &["instance_name"]),
    ("ai_search_namespace", &["namespace"]),
    ("messaging", &["namespace"]),
    ("artifacts", &["namespace"]),
    ("media", &[]),
    ("k2", &["stream"]),
    ("flagship", &["app_id"]),
    ("secret_key", &["algorithm", "format", "usages"]),
    ("vpc_service", &["service_id"]),
    ("vpc_network", &[]),
];

/// What a new version keeps from the latest one without it being declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Everything when nothing is declared; else undeclared secrets (wrangler's rule).
    Auto,
    Secrets,
    All,
    None,
}

impl Keep {
    pub(crate) fn parse(v: &str) -> Option<Keep> {
        Some(match v {
            "auto" => Keep::Auto,
            "secrets" => Keep::Secrets,
            "all" => Keep::All,
            "none" => Keep::None,
            _ => return Option::None,
        })
    }
}

/// Binding kinds that hold a secret: kept by `secrets`, their removal warned about.
pub(crate) fn is_secret_kind(kind: &str) -> bool {
    kind == "secret_text" || kind == "secret_key"
}

#[derive(Debug, Default)]
pub(crate) struct Bindings {
    pub list: Vec<Value>,
    /// Every secret value, to be masked before anything prints.
    pub secret_values: Vec<String>,
    /// Kinds we could not check, to mention once.
    pub unchecked_kinds: Vec<String>,
}

impl Bindings {
    /// `(name, type)` pairs, for summaries: never values.
    pub(crate) fn described(&self) -> Vec<(String, String)> {
        self.list
            .iter()
            .map(|b| (str_field(b, "name").unwrap_or_default(), str_field(b, "type").unwrap_or_default()))
            .collect()
    }
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k)?.as_str().map(str::to_owned)
}

pub(crate) fn parse(
    bindings_json: Option<&str>,
    vars: Option<&str>,
    secrets: Option<&str>,
    allow_unknown: bool,
) -> Result<Bindings, InputError> {
    let mut out = Bindings::default();
    if let Some(text) = bindings_json {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            InputError::new(
                Key::Bindings,
                format!(
                    "is not valid JSON (line {}, column {}); it must be an array of binding objects",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        let Value::Array(items) = value else {
            return Err(InputError::new(
                Key::Bindings,
                "must be a JSON array of binding objects, like [{\"type\":\"kv_namespace\",\"name\":\"CACHE\",\"namespace_id\":\"…\"}]",
            ));
        };
        for (i, item) in items.into_iter().enumerate() {
            let Value::Object(obj) = &item else {
                return Err(InputError::new(Key::Bindings, format!("item {i} is not an object")));
            };
            let kind = obj
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| InputError::new(Key::Bindings, format!("item {i} has no string `type`")))?;
            let name = obj
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| InputError::new(Key::Bindings, format!("item {i} ({kind}) has no string `name`")))?;
            check_name(Key::Bindings, name)?;
            match KINDS.iter().find(|(k, _)| *k == kind) {
                Some((_, fields)) => {
                    if let Some(missing) = fields.iter().find(|f| !obj.contains_key(**f)) {
                        return Err(InputError::new(
                            Key::Bindings,
                            format!("binding `{name}` ({kind}) lacks the required field `{missing}`"),
                        ));
                    }
                }
                None if allow_unknown => out.unchecked_kinds.push(kind.to_owned()),
                None => {
                    // The binding's type is configuration, not a secret: naming it is safe.
                    let hint = match super::rules::closest(kind, KINDS.iter().map(|(k, _)| *k)) {
                        Some(k) => format!("did you mean `{k}`? "),
                        None => String::new(),
                    };
                    return Err(InputError::new(
                        Key::Bindings,
                        format!(
                            "binding `{name}` has the unknown type `{kind}`; {hint}(a type newer than workers-ci: set {})",
                            super::hint::set(Key::AllowUnknownBindings, "true")
                        ),
                    ));
                }
            }
            if kind == "secret_text"
                && let Some(t) = obj.get("text").and_then(Value::as_str)
            {
                out.secret_values.push(t.to_owned());
            }
            out.list.push(item);
        }
    }
    for (input, kind, text) in [(Key::Vars, "plain_text", vars), (Key::Secrets, "secret_text", secrets)] {
        for (key, value) in key_values(input, text.unwrap_or(""))? {
            if kind == "secret_text" {
                out.secret_values.push(value.clone());
            }
            let mut m = Map::new();
            m.insert("type".into(), kind.into());
            m.insert("name".into(), key.into());
            m.insert("text".into(), value.into());
            out.list.push(Value::Object(m));
        }
    }
    let mut names: Vec<String> = out.described().into_iter().map(|(n, _)| n).collect();
    names.sort();
    if let Some([twice, _]) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(InputError::new(
            Key::Bindings,
            format!("the name `{twice}` is bound twice (across bindings, vars and secrets)"),
        ));
    }
    Ok(out)
}

/// Values may contain `=`; keys are JavaScript identifiers. Blank lines and `#` comments are
/// skipped. Error messages name the line number, never its content.
fn key_values(input: Key, text: &str) -> Result<Vec<(String, String)>, InputError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (k, v) =
            line.split_once('=').ok_or_else(|| InputError::new(input, format!("line {} is not KEY=VALUE", n + 1)))?;
        let k = k.trim();
        check_name(input, k).map_err(|_| {
            InputError::new(
                input,
                format!("line {}: the key is not a valid binding name (letters, digits, `_`)", n + 1),
            )
        })?;
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

fn check_name(input: Key, name: &str) -> Result<(), InputError> {
    let ok = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
    if ok { Ok(()) } else { Err(InputError::new(input, "has a binding name that is not a JavaScript identifier")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_and_secrets_become_text_bindings() {
        let b = parse(None, Some("A=1\n# c\n\nB=x=y"), Some("TOKEN=s3cr3t="), false).unwrap();
        assert_eq!(
            b.described(),
            [
                ("A".into(), "plain_text".into()),
                ("B".into(), "plain_text".into()),
                ("TOKEN".into(), "secret_text".into())
            ]
        );
        assert_eq!(b.list[1]["text"], "x=y");
        assert_eq!(b.secret_values, ["s3cr3t="]);
    }

    #[test]
    fn bindings_json_is_checked() {
        let json = r#"[{"type":"kv_namespace","name":"KV","namespace_id":"abc"},{"type":"brand_new","name":"N"},{"type":"secret_text","name":"S","text":"hush"}]"#;
        let e = parse(Some(json), None, None, false).unwrap_err();
        assert!(e.problem.contains("unknown type `brand_new`"), "{}", e.problem);
        let e = parse(Some(r#"[{"type":"kv_namespaces","name":"KV","namespace_id":"abc"}]"#), None, None, false)
            .unwrap_err();
        assert!(e.problem.contains("did you mean `kv_namespace`?"), "{}", e.problem);
        let ok = parse(Some(json), None, None, true).unwrap();
        assert_eq!(ok.list.len(), 3);
        assert_eq!(ok.unchecked_kinds, ["brand_new"]);
        assert_eq!(ok.secret_values, ["hush"]);
        for (json, needle) in [
            ("{", "not valid JSON"),
            ("{}", "array"),
            ("[1]", "not an object"),
            (r#"[{"name":"X"}]"#, "`type`"),
            (r#"[{"type":"kv_namespace","name":"KV"}]"#, "namespace_id"),
            (r#"[{"type":"ai","name":"bad-name"}]"#, "identifier"),
        ] {
            let e = parse(Some(json), None, None, false).unwrap_err();
            assert_eq!(e.input(), "bindings");
            assert!(e.problem.contains(needle), "{json}: {}", e.problem);
        }
    }

    #[test]
    fn duplicates_and_bad_lines() {
        assert!(
            parse(Some(r#"[{"type":"ai","name":"A"}]"#), Some("A=1"), None, false)
                .unwrap_err()
                .problem
                .contains("twice")
        );
        let e = parse(None, Some("OK=1\nnot a pair"), None, false).unwrap_err();
        assert_eq!(e.input(), "vars");
        assert!(e.problem.contains("line 2"));
        let e = parse(None, None, Some("bad key=super-secret"), false).unwrap_err();
        assert!(!e.to_string().contains("super-secret"));
    }
}

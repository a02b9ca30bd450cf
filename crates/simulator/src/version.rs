//! Versions, for both upload APIs: the beta JSON one (`POST /workers/workers/{id}/versions`)
//! and the classic multipart one wrangler uses (`cloudflare-api.md` §4.2, §4.3). Each API
//! parses its own wire format into a [`Draft`]; from there one validation, one way of storing
//! and one redaction serve both, so a rule fixed for one upload path is fixed for the other.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::envelope::{self, Reply};
use crate::state::State;
use crate::{random, time};

/// `workers/message`: "Truncated to 1000 bytes if longer" (§4.2).
pub const MESSAGE_LIMIT: usize = 1000;
/// `workers/tag`: "Maximum 100 bytes" (§4.2).
const TAG_LIMIT: usize = 100;

/// Module content types the upload APIs accept (§4.2: listed for multipart; INFERRED the same
/// for the beta JSON upload).
const CONTENT_TYPES: &[&str] = &[
    "application/javascript+module",
    "text/javascript+module",
    "application/javascript",
    "text/javascript",
    "text/x-python",
    "text/x-python-requirement",
    "application/wasm",
    "text/plain",
    "application/octet-stream",
    "application/source-map",
];

pub struct Module {
    pub name: String,
    /// Without parameters (`; charset=...`).
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A version as uploaded, before validation, whichever API it came through.
pub struct Draft {
    pub main_module: Option<String>,
    pub modules: Vec<Module>,
    /// Every other stored field (`compatibility_date`, `bindings`, `annotations`, ...).
    pub fields: Map<String, Value>,
    /// `api` (beta) or `wrangler` (classic): what `source` and `last_deployed_from` show.
    pub source: &'static str,
}

/// The checks both APIs make. Unsupported content types are 10001 ("unsupported
/// Content-Type", §1.4); everything else is a 10021 validation failure.
pub fn validate(d: &Draft) -> Result<(), Reply> {
    for m in &d.modules {
        if !CONTENT_TYPES.contains(&m.content_type.as_str()) {
            let message = format!("module `{}`: content type `{}` is not supported", m.name, m.content_type);
            return Err(envelope::fail(400, 10001, &message));
        }
    }
    match &d.main_module {
        Some(main) if !d.modules.iter().any(|m| &m.name == main) => {
            return Err(envelope::bad_request(&format!("main_module `{main}` is not one of the modules")));
        }
        None if !d.modules.is_empty() => {
            return Err(envelope::bad_request("main_module is required when modules are given"));
        }
        _ => {}
    }
    if let Some(date) = d.fields.get("compatibility_date")
        && !date.as_str().is_some_and(time::valid_compatibility_date)
    {
        return Err(envelope::bad_request("compatibility_date must be YYYY-MM-DD"));
    }
    if let Some(b) = d.fields.get("bindings") {
        let Some(list) = b.as_array() else { return Err(envelope::bad_request("bindings must be an array")) };
        for (k, b) in list.iter().enumerate() {
            if b.get("name").and_then(Value::as_str).is_none() || b.get("type").and_then(Value::as_str).is_none() {
                return Err(envelope::bad_request(&format!("bindings[{k}] needs a string name and type")));
            }
        }
    }
    let tag = d.fields.get("annotations").and_then(|a| a.get("workers/tag")).and_then(Value::as_str);
    if tag.is_some_and(|t| t.len() > TAG_LIMIT) {
        return Err(envelope::bad_request("workers/tag must be at most 100 bytes"));
    }
    Ok(())
}

/// Validates and stores a draft as Worker `i`'s next version; returns it as stored (with its
/// modules and secret values, which only the test accessors ever see).
pub fn create(state: &mut State, i: usize, draft: Draft) -> Result<Value, Reply> {
    validate(&draft)?;
    let Draft { main_module, modules, mut fields, source } = draft;
    let mut annotations = fields.get("annotations").and_then(Value::as_object).cloned().unwrap_or_default();
    annotations.retain(|_, v| !v.is_null());
    if let Some(m) = annotations.get("workers/message").and_then(Value::as_str)
        && m.len() > MESSAGE_LIMIT
    {
        let mut cut = MESSAGE_LIMIT;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        let truncated = m[..cut].to_owned();
        annotations.insert("workers/message".into(), truncated.into());
    }
    // INFERRED: the value the API puts in `workers/triggered_by` for a plain upload.
    annotations.insert("workers/triggered_by".into(), "upload".into());
    let id = random::uuid_v4();
    let w = &mut state.workers[i];
    let urls: Vec<String> =
        state.config.subdomain.iter().map(|s| format!("https://{}-{}.{s}.workers.dev", &id[..8], w.name)).collect();
    let modules: Vec<Value> = modules
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "content_type": m.content_type,
                "content_base64": base64::engine::general_purpose::STANDARD.encode(&m.content),
            })
        })
        .collect();
    if let Some(main) = main_module {
        fields.insert("main_module".into(), json!(main));
    }
    fields.insert("modules".into(), json!(modules));
    fields.insert("id".into(), json!(id));
    fields.insert("number".into(), json!(w.versions.len() + 1));
    fields.insert("created_on".into(), json!(time::now()));
    fields.insert("urls".into(), json!(urls));
    fields.insert("annotations".into(), Value::Object(annotations));
    fields.insert("source".into(), json!(source));
    fields.insert("author_email".into(), json!("dev@example.com"));
    fields.insert("startup_time_ms".into(), json!(7));
    let stored = Value::Object(fields);
    w.versions.push(stored.clone());
    Ok(stored)
}

/// Removes `secret_text` values from a bindings list: the API never shows them (§4.2).
pub fn redact_secrets(bindings: &mut Value) {
    if let Some(list) = bindings.as_array_mut() {
        for b in list {
            if b["type"] == "secret_text"
                && let Some(o) = b.as_object_mut()
            {
                o.remove("text");
            }
        }
    }
}

/// A stored version as the beta API returns it: modules only on request, secrets never.
pub fn beta_view(stored: &Value, with_modules: bool) -> Value {
    let mut v = stored.clone();
    if let Some(o) = v.as_object_mut() {
        if !with_modules {
            o.remove("modules");
        }
        if let Some(b) = o.get_mut("bindings") {
            redact_secrets(b);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(fields: Value) -> Draft {
        Draft {
            main_module: Some("index.js".into()),
            modules: vec![Module {
                name: "index.js".into(),
                content_type: "application/javascript+module".into(),
                content: b"export default {}".to_vec(),
            }],
            fields: match fields {
                Value::Object(o) => o,
                _ => serde_json::Map::new(),
            },
            source: "api",
        }
    }

    fn code(r: Result<(), Reply>) -> Option<i64> {
        r.err().and_then(|(_, body)| body["errors"][0]["code"].as_i64())
    }

    #[test]
    fn one_rule_set() {
        assert_eq!(code(validate(&draft(json!({ "compatibility_date": "2026-11-01" })))), None);
        assert_eq!(code(validate(&draft(json!({ "compatibility_date": "2026-02-31" })))), Some(10021));
        assert_eq!(code(validate(&draft(json!({ "bindings": [{ "name": "X" }] })))), Some(10021));
        assert_eq!(code(validate(&draft(json!({ "annotations": { "workers/tag": "x".repeat(101) } })))), Some(10021));
        let mut d = draft(json!({}));
        d.modules[0].content_type = "image/png".into();
        assert_eq!(code(validate(&d)), Some(10001));
        let mut d = draft(json!({}));
        d.main_module = Some("missing.js".into());
        assert_eq!(code(validate(&d)), Some(10021));
        d.main_module = None;
        assert_eq!(code(validate(&d)), Some(10021));
    }

    #[test]
    fn secrets_are_redacted() {
        let stored = json!({ "modules": [], "bindings": [
            { "type": "secret_text", "name": "K", "text": "s3cret" },
            { "type": "plain_text", "name": "P", "text": "shown" }] });
        let v = beta_view(&stored, false);
        assert!(v.get("modules").is_none());
        assert!(v["bindings"][0].get("text").is_none());
        assert_eq!(v["bindings"][1]["text"], "shown");
    }
}

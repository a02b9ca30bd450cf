//! Versions, for both upload APIs: the beta JSON one (`POST /workers/workers/{id}/versions`)
//! and the classic multipart one wrangler uses (docs/cloudflare-api.md §4.2, §4.3). Each API
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

/// Binding kinds of the `Version.bindings` union and the fields each requires
/// (docs/cloudflare-api.md §4.2, SDK 7.3.0), plus the wrangler-era kinds the classic upload still
/// takes (`wasm_module`, `text_blob`, `data_blob`). Anything else fails the schema's
/// discriminator, and so does a kind without a required field (`analytics_engine` without
/// `dataset`, docs/cloudflare-api.md Correction 16): INFERRED 400 with 10021 (request failed
/// validation), as the API reports other schema failures. workers-ci's input table is checked
/// against this one by a test, so the two cannot drift apart unnoticed.
pub const BINDING_KINDS: &[(&str, &[&str])] = &[
    ("ai", &[]),
    ("ai_search", &["instance_name"]),
    ("ai_search_namespace", &["namespace"]),
    ("messaging", &["namespace"]),
    ("analytics_engine", &["dataset"]),
    ("artifacts", &["namespace"]),
    ("assets", &[]),
    ("browser", &[]),
    ("d1", &["database_id"]),
    ("data_blob", &["part"]),
    ("dispatch_namespace", &["namespace"]),
    ("durable_object_namespace", &[]),
    ("hyperdrive", &["id"]),
    ("inherit", &[]),
    ("images", &[]),
    ("json", &["json"]),
    ("kv_namespace", &["namespace_id"]),
    ("media", &[]),
    ("mtls_certificate", &["certificate_id"]),
    ("plain_text", &["text"]),
    ("pipelines", &["pipeline"]),
    ("k2", &["stream"]),
    ("queue", &["queue_name"]),
    ("ratelimit", &["namespace_id", "simple"]),
    ("r2_bucket", &["bucket_name"]),
    ("secret_text", &["text"]),
    ("send_email", &[]),
    ("service", &["service"]),
    ("text_blob", &["part"]),
    ("vectorize", &["index_name"]),
    ("version_metadata", &[]),
    ("secrets_store_secret", &["store_id", "secret_name"]),
    ("flagship", &["app_id"]),
    ("secret_key", &["algorithm", "format", "usages"]),
    ("workflow", &["workflow_name"]),
    ("wasm_module", &["part"]),
    ("vpc_service", &["service_id"]),
    ("vpc_network", &[]),
];

/// The value rules of the binding kinds' schemas beyond their required fields
/// (docs/cloudflare-api.md §4.2, the official schema's `pattern`, `maxLength`, `enum`, and the
/// exclusion its description states); INFERRED refused as the other schema failures, 400 10021.
fn field_rule(kind: &str, b: &Value) -> Option<String> {
    let s = |f: &str| b.get(f).and_then(Value::as_str);
    let one_of = |f: &str, allowed: &[&str]| match b.get(f) {
        Some(v) if !v.as_str().is_some_and(|x| allowed.contains(&x)) => {
            Some(format!("`{f}` must be one of {}", allowed.join(", ")))
        }
        _ => None,
    };
    match kind {
        // `^[a-f0-9]{32}$`
        "k2" if !s("stream")
            .is_some_and(|x| x.len() == 32 && x.bytes().all(|c| matches!(c, b'a'..=b'f' | b'0'..=b'9'))) =>
        {
            Some("`stream` must be the id of a K2 stream, 32 lowercase hexadecimal digits".into())
        }
        // 2-63 characters, `^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9._])?$`
        "artifacts" => {
            let ns = s("namespace").unwrap_or_default().as_bytes();
            let inner = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-');
            let ok = (2..=63).contains(&ns.len())
                && ns[0].is_ascii_alphanumeric()
                && ns.iter().all(inner)
                && ns.last() != Some(&b'-');
            (!ok).then(|| "`namespace` must be 2-63 letters, digits, `.`, `_` or `-`, starting with a letter or digit and not ending with `-`".into())
        }
        "flagship" if s("app_id").is_some_and(|x| x.len() > 128) => {
            Some("`app_id` must be at most 128 characters".into())
        }
        "r2_bucket" => one_of("jurisdiction", &["eu", "fedramp", "fedramp-high", "us"]),
        "secret_key" => one_of("format", &["raw", "pkcs8", "spki", "jwk"]),
        "vpc_network" if b.get("network_id").is_some() && b.get("tunnel_id").is_some() => {
            Some("`network_id` and `tunnel_id` are mutually exclusive".into())
        }
        "vpc_network" => one_of("identity", &["runtime-email-alpha"]),
        _ => None,
    }
}

/// Secrets: the binding kinds whose values the API never shows (§4.2) and whose change blocks
/// a rollback (§5, `force`).
const SECRET_KINDS: &[&str] = &["secret_text", "secret_key"];

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
        // `_headers` and `_redirects` go with assets, not code (docs/cloudflare-api.md §A.8).
        None if d.modules.iter().any(|m| m.name != "_headers" && m.name != "_redirects") => {
            return Err(envelope::bad_request("main_module is required when modules are given"));
        }
        _ => {}
    }
    if let Some(date) = d.fields.get("compatibility_date")
        && !date.as_str().is_some_and(time::valid_compatibility_date)
    {
        return Err(envelope::bad_request("compatibility_date must be YYYY-MM-DD"));
    }
    // The runtime refuses a date after today (docs/cloudflare-api.md Correction 16); INFERRED: as
    // a 400 validation failure, against today in UTC.
    if let Some(date) = d.fields.get("compatibility_date").and_then(Value::as_str)
        && time::compatibility_date_in_future(date)
    {
        return Err(envelope::bad_request("compatibility_date cannot be in the future"));
    }
    if let Some(b) = d.fields.get("bindings") {
        let Some(list) = b.as_array() else { return Err(envelope::bad_request("bindings must be an array")) };
        for (k, b) in list.iter().enumerate() {
            let (Some(_), Some(kind)) = (b.get("name").and_then(Value::as_str), b.get("type").and_then(Value::as_str))
            else {
                return Err(envelope::bad_request(&format!("bindings[{k}] needs a string name and type")));
            };
            let Some((_, required)) = BINDING_KINDS.iter().find(|(t, _)| *t == kind) else {
                return Err(envelope::bad_request(&format!("bindings[{k}]: unknown binding type `{kind}`")));
            };
            // The classic upload's d1 binding carries the deprecated alias `id` (§D.2).
            let alias = |f: &str| kind == "d1" && f == "database_id" && b.get("id").is_some();
            if let Some(missing) = required.iter().find(|f| b.get(**f).is_none_or(Value::is_null) && !alias(f)) {
                return Err(envelope::bad_request(&format!("bindings[{k}] ({kind}): `{missing}` is required")));
            }
            if let Some(problem) = field_rule(kind, b) {
                return Err(envelope::bad_request(&format!("bindings[{k}] ({kind}): {problem}")));
            }
        }
    }
    if let Some(e) = d.fields.get("exports") {
        validate_exports(e)?;
        if d.fields.contains_key("migrations") {
            // "mutually exclusive with `migrations` on upload" (docs/cloudflare-api.md §H.10).
            return Err(envelope::bad_request("migrations and exports are mutually exclusive"));
        }
    }
    let tag = d.fields.get("annotations").and_then(|a| a.get("workers/tag")).and_then(Value::as_str);
    if tag.is_some_and(|t| t.len() > TAG_LIMIT) {
        return Err(envelope::bad_request("workers/tag must be at most 100 bytes"));
    }
    Ok(())
}

/// "At most 100 entries; class names at most 128 chars" (docs/cloudflare-api.md §H.10).
const EXPORTS_LIMIT: usize = 100;
const EXPORT_NAME_LIMIT: usize = 128;

/// `exports` against the upload schema (docs/cloudflare-api.md §H.10): `worker` and the five
/// `durable-object` states, each with exactly its keys (`additionalProperties: false`); any
/// other type is refused, as the schema's discriminator does. INFERRED: as a 400 validation
/// failure (10021), as the API reports other schema failures. `container` is refused with
/// 100402 `container_undeclared_reference`: the simulator has no Containers for it to name.
pub fn validate_exports(e: &Value) -> Result<(), Reply> {
    let Some(map) = e.as_object() else { return Err(envelope::bad_request("exports must be an object")) };
    if map.len() > EXPORTS_LIMIT {
        return Err(envelope::bad_request("exports has more than 100 entries"));
    }
    let name_ok =
        |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty() && s.len() <= EXPORT_NAME_LIMIT);
    for (name, entry) in map {
        let bad = |why: &str| Err(envelope::bad_request(&format!("exports.{name}: {why}")));
        if name.is_empty() || name.len() > EXPORT_NAME_LIMIT {
            return bad("export names are 1 to 128 characters");
        }
        let Some(o) = entry.as_object() else { return bad("must be an object") };
        let state = o.get("state").map_or("created", |s| s.as_str().unwrap_or("(not a string)"));
        let (keys, required): (&[&str], &[&str]) = match (o.get("type").and_then(Value::as_str), state) {
            (Some("worker"), "created") => (&["type", "state", "cache"], &[]),
            (Some("durable-object"), "created") => (&["type", "state", "storage", "container"], &["storage"]),
            (Some("durable-object"), "deleted") => (&["type", "state"], &[]),
            (Some("durable-object"), "renamed") => (&["type", "state", "renamed_to"], &["renamed_to"]),
            (Some("durable-object"), "transferred") => (&["type", "state", "transferred_to"], &["transferred_to"]),
            (Some("durable-object"), "expecting-transfer") => {
                (&["type", "state", "storage", "transfer_from", "container"], &["storage", "transfer_from"])
            }
            (Some("worker" | "durable-object"), other) => return bad(&format!("state `{other}` is not valid here")),
            (Some(other), _) => return bad(&format!("unknown export type `{other}`")),
            (None, _) => return bad("type is required"),
        };
        if let Some(k) = o.keys().find(|k| !keys.contains(&k.as_str())) {
            return bad(&format!("`{k}` is not a field of this export"));
        }
        if let Some(k) = required.iter().find(|k| !o.contains_key(**k)) {
            return bad(&format!("`{k}` is required"));
        }
        if let Some(s) = o.get("storage")
            && !matches!(s.as_str(), Some("sqlite" | "legacy-kv"))
        {
            return bad("storage must be `sqlite` or `legacy-kv`");
        }
        for k in ["renamed_to", "transferred_to", "transfer_from", "container"] {
            if o.contains_key(k) && !name_ok(o.get(k)) {
                return bad(&format!("`{k}` must be a name of 1 to 128 characters"));
            }
        }
        if let Some(c) = o.get("cache")
            && !(c.as_object().is_some_and(|c| c.len() == 1) && c.get("enabled").is_some_and(Value::is_boolean))
        {
            return bad("cache must be `{\"enabled\": true|false}`");
        }
        if o.contains_key("container") {
            let detail = json!({ "class": name, "scenario": "container_undeclared_reference",
                "message": "the container this export names is not declared" });
            return Err((
                400,
                json!({ "success": false, "errors": [{ "code": 100_402,
                "message": "exports reconciliation failed", "meta": { "details": [detail] } }],
                "messages": [], "result": null }),
            ));
        }
    }
    Ok(())
}

/// The Durable Object entries of an `exports` map (what reconciliation acts on, §H.10): `None`
/// when there are none.
pub fn durable_object_exports(exports: Option<&Value>) -> Option<Map<String, Value>> {
    let m: Map<String, Value> = exports?
        .as_object()?
        .iter()
        .filter(|(_, e)| e["type"] == "durable-object")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!m.is_empty()).then_some(m)
}

/// The classes after `exports`' Durable Object entries are reconciled with `applied`: tombstones
/// (`deleted`, `renamed`, `transferred`) remove their class, a rename adds its target, live
/// entries (`created`, `expecting-transfer`) are provisioned (§H.10).
fn reconcile(applied: &[String], exports: &Map<String, Value>) -> Vec<String> {
    let mut classes = applied.to_vec();
    for (name, e) in exports {
        match e.get("state").and_then(Value::as_str).unwrap_or("created") {
            "created" | "expecting-transfer" => classes.push(name.clone()),
            "renamed" => {
                classes.retain(|c| c != name);
                classes.extend(e["renamed_to"].as_str().map(str::to_owned));
            }
            _ => classes.retain(|c| c != name),
        }
    }
    classes.sort();
    classes.dedup();
    classes
}

/// A version upload carrying a Durable Object lifecycle change is refused (10211: "Apply the
/// migration with a non-versioned deploy", docs/cloudflare-api.md §H.10): its Durable Object
/// exports differ from those the Worker has applied. Unchanged ones are no change.
fn refuse_exports_change(fields: &Map<String, Value>, applied: Option<&Value>) -> Result<(), Reply> {
    let sent = durable_object_exports(fields.get("exports"));
    let have = applied.and_then(Value::as_object).cloned();
    if sent.is_some() && sent != have {
        return Err(envelope::fail(
            400,
            10_211,
            "Version upload failed: the version changes the Durable Object lifecycle declared in `exports`, which must be \
             applied via a non-versioned deployment",
        ));
    }
    Ok(())
}

/// How an `inherit` binding that names nothing is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unresolved {
    /// Classic upload without `bindings_inherit=strict`: "unresolvable inherit bindings are
    /// silently dropped" (docs/cloudflare-api.md §C.1).
    Drop,
    /// Classic upload with `bindings_inherit=strict`: 10057 per binding (docs/cloudflare-api.md
    /// §C.1). The beta endpoint is answered this way too: whether it is strict or lenient is open
    /// (docs/cloudflare-api.md §G-2), and refusing is the stricter of the two, so a client that
    /// passes here never relied on a silent drop.
    Refuse,
}

/// Replaces every `inherit` binding by the binding it names — `old_name` (else `name`) in the
/// version `version_id` ("latest" or absent: the latest; else a version id) — renamed to
/// `name` and with its secret values (docs/cloudflare-api.md §C.1). Everything else in `bindings`
/// is the new version's whole set: a binding not sent is not carried over (docs/cloudflare-api.md
/// Correction 2). `versions` are the candidates, oldest first: a Worker's versions, or a Preview's
/// deployments (docs/cloudflare-api.md §B.9 step 7: a preview inherits from its own latest
/// deployment).
pub fn resolve_inherit(versions: &[Value], bindings: &mut Vec<Value>, mode: Unresolved) -> Result<(), Reply> {
    let mut refused = Vec::new();
    let mut out = Vec::with_capacity(bindings.len());
    for b in bindings.drain(..) {
        if b["type"] != "inherit" {
            out.push(b);
            continue;
        }
        let name = b["name"].as_str().unwrap_or_default().to_owned();
        let from = b.get("old_name").and_then(Value::as_str).unwrap_or(&name).to_owned();
        let source = match b.get("version_id").and_then(Value::as_str) {
            None | Some("latest") => versions.last(),
            Some(id) => versions.iter().find(|v| v["id"] == id),
        };
        let found = source.and_then(|v| v["bindings"].as_array()).and_then(|l| l.iter().find(|p| p["name"] == from));
        match (found, mode) {
            (Some(old), _) => {
                let mut copy = old.clone();
                copy["name"] = json!(name);
                out.push(copy);
            }
            (None, Unresolved::Drop) => {}
            (None, Unresolved::Refuse) => refused.push(name),
        }
    }
    *bindings = out;
    if refused.is_empty() {
        return Ok(());
    }
    let errors: Vec<Value> = refused
        .iter()
        .map(|n| json!({ "code": 10057, "message": format!("inherit binding '{n}' is invalid: there is no binding of that name to inherit") }))
        .collect();
    Err((400, json!({ "success": false, "errors": errors, "messages": [], "result": null })))
}

/// Durable Object classes a `migrations` object creates and removes, single- or multi-step
/// (docs/cloudflare-api.md §C.2).
fn migration_classes(m: &Value) -> (Vec<String>, Vec<String>) {
    let mut steps = vec![m];
    if let Some(list) = m.get("steps").and_then(Value::as_array) {
        steps.extend(list.iter());
    }
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    let names = |v: &Value, k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    for s in steps {
        added.extend(names(s, "new_classes"));
        added.extend(names(s, "new_sqlite_classes"));
        removed.extend(names(s, "deleted_classes"));
        for r in s.get("renamed_classes").and_then(Value::as_array).into_iter().flatten() {
            removed.extend(r["from"].as_str().map(str::to_owned));
            added.extend(r["to"].as_str().map(str::to_owned));
        }
        for r in s.get("transferred_classes").and_then(Value::as_array).into_iter().flatten() {
            added.extend(r["to"].as_str().map(str::to_owned));
        }
    }
    (added, removed)
}

/// Migrations apply only with a deployment, and a binding to one of the Worker's own Durable
/// Object classes needs the migration that created it (docs/cloudflare-api.md §C.2: `migrations`
/// with `deploy=false` is 403/100123; a class binding that depends on a migration not applied is
/// wrangler's 10123 "actor binding depends on migration" — INFERRED: 403 like its siblings).
/// Durable Object exports likewise: reconciled by the classic upload (which deploys), refused
/// with 10211 on a version upload when they change the lifecycle (§H.10).
fn check_durable_objects(state: &mut State, i: usize, fields: &Map<String, Value>, deploy: bool) -> Result<(), Reply> {
    let w = &state.workers[i];
    let (classes, new_tag) =
        durable_object_classes(&w.do_classes, w.migration_tag.as_deref(), &w.name, fields, deploy, "Worker")?;
    if !deploy {
        refuse_exports_change(fields, w.exports.as_ref())?;
    }
    if deploy {
        refuse_storage_change(state.workers[i].exports.as_ref(), fields.get("exports"))?;
        state.workers[i].do_classes = classes;
        if new_tag.is_some() {
            state.workers[i].migration_tag = new_tag;
        }
        if let Some(e) = durable_object_exports(fields.get("exports")) {
            state.workers[i].exports = Some(Value::Object(e));
        }
    }
    Ok(())
}

/// A live Durable Object export whose `storage` differs from the one its class was provisioned
/// with cannot be reconciled: 100402 with the scenario `storage_type_mismatch`, one detail per
/// class (docs/cloudflare-api.md §H.10 names the scenario; when Cloudflare raises it INFERRED,
/// docs/api-assumptions.md).
fn refuse_storage_change(applied: Option<&Value>, sent: Option<&Value>) -> Result<(), Reply> {
    let (Some(applied), Some(sent)) = (durable_object_exports(applied), durable_object_exports(sent)) else {
        return Ok(());
    };
    let live = |e: &Value| matches!(e.get("state").and_then(Value::as_str).unwrap_or("created"), "created");
    let details: Vec<Value> = sent
        .iter()
        .filter(|(_, e)| live(e))
        .filter_map(|(name, e)| {
            let before = applied.get(name).filter(|a| live(a))?.get("storage")?.as_str()?;
            let now = e.get("storage")?.as_str()?;
            (before != now).then(|| {
                json!({ "class": name, "scenario": "storage_type_mismatch",
                    "message": format!("class {name} was provisioned with {before} storage; the upload declares {now}"),
                    "suggestion": "a class keeps its storage: declare a new class and transfer or delete this one" })
            })
        })
        .collect();
    if details.is_empty() {
        return Ok(());
    }
    Err((
        400,
        json!({ "success": false, "errors": [{ "code": 100_402,
        "message": "exports reconciliation failed", "meta": { "details": details } }],
        "messages": [], "result": null }),
    ))
}

/// The Durable Object classes after `fields`' migrations are applied to `applied` (whose tag
/// is `tag`), with the new tag if migrations were sent; or the refusal. `worker` is the name
/// a binding without `script_name` points at; `owner` names whose tag it is in messages.
/// Shared by versions and preview deployments (whose migrations apply on creation,
/// docs/cloudflare-api.md §B.5, against the Preview's own tag, §B.10).
pub fn durable_object_classes(
    applied: &[String],
    tag: Option<&str>,
    worker: &str,
    fields: &Map<String, Value>,
    deploy: bool,
    owner: &str,
) -> Result<(Vec<String>, Option<String>), Reply> {
    let mut classes = applied.to_vec();
    let mut new_tag = None;
    if let Some(m) = fields.get("migrations") {
        if !deploy {
            return Err(envelope::fail(403, 100_123, "Migrations can only be applied by a version that is deployed"));
        }
        // "Tag used to verify against the latest migration tag for this Worker. If they don't
        // match, the upload is rejected" (docs/cloudflare-api.md §C.2). INFERRED: an absent
        // `old_tag` on a Worker that has one is a mismatch too, and the refusal is a 400 validation
        // failure (10021); the code is not documented.
        let old_tag = m.get("old_tag").and_then(Value::as_str);
        if old_tag != tag {
            let message = format!(
                "migrations: old_tag {} does not match the {owner}'s migration tag {}",
                old_tag.map_or("(none)".to_owned(), |t| format!("'{t}'")),
                tag.map_or("(none)".to_owned(), |t| format!("'{t}'"))
            );
            return Err(envelope::bad_request(&message));
        }
        match m.get("new_tag").and_then(Value::as_str) {
            Some(t) => new_tag = Some(t.to_owned()),
            None => return Err(envelope::bad_request("migrations: new_tag is required")),
        }
        let (added, removed) = migration_classes(m);
        classes.retain(|c| !removed.contains(c));
        classes.extend(added);
    }
    if let Some(e) = durable_object_exports(fields.get("exports")) {
        let reconciled = reconcile(&classes, &e);
        if deploy {
            classes = reconciled;
        } else {
            // Exports reconcile when the version is deployed: a binding to a class they declare
            // that is not provisioned yet is refused (100406; 403 in a third-party live probe of
            // the beta endpoint, §H.10).
            for b in fields.get("bindings").and_then(Value::as_array).into_iter().flatten() {
                let own = b.get("script_name").and_then(Value::as_str).is_none_or(|s| s == worker);
                let class = b.get("class_name").and_then(Value::as_str).unwrap_or_default();
                if b["type"] == "durable_object_namespace"
                    && own
                    && !classes.iter().any(|c| c == class)
                    && reconciled.iter().any(|c| c == class)
                {
                    let message = format!(
                        "binding '{}' refers to Durable Object class '{class}', declared in `exports` but not yet provisioned: deploy the version to provision it",
                        b["name"].as_str().unwrap_or_default()
                    );
                    return Err(envelope::fail(403, 100_406, &message));
                }
            }
        }
    }
    for b in fields.get("bindings").and_then(Value::as_array).into_iter().flatten() {
        let own = b.get("script_name").and_then(Value::as_str).is_none_or(|s| s == worker);
        let class = b.get("class_name").and_then(Value::as_str);
        if b["type"] == "durable_object_namespace"
            && own
            && let Some(class) = class
            && !classes.iter().any(|c| c == class)
        {
            let message = format!(
                "binding '{}' refers to Durable Object class '{class}', which no applied migration created",
                b["name"].as_str().unwrap_or_default()
            );
            return Err(envelope::fail(403, 10123, &message));
        }
    }
    Ok((classes, new_tag))
}

/// The secrets of a stored version: name and value (values never leave the simulator).
pub fn secrets_of(version: &Value) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = version["bindings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"].as_str().is_some_and(|t| SECRET_KINDS.contains(&t)))
        .map(|b| {
            let mut value = b.clone();
            if let Some(o) = value.as_object_mut() {
                o.remove("name");
            }
            (b["name"].as_str().unwrap_or_default().to_owned(), value.to_string())
        })
        .collect();
    s.sort();
    s
}

/// A versions endpoint's refusal of Durable Object migrations (docs/cloudflare-api.md Correction
/// 10: the classic versions endpoint answers 10211, "migrations must be fully applied via a
/// non-versioned deployment"). The beta `deploy=true` is refused the same way: whether it applies
/// them is unverified (docs/api-assumptions.md row 60), and wrangler never relies on it. The
/// status (400) is INFERRED.
///
/// Durable Object exports that change the lifecycle the Worker has (`applied`) likewise (§H.10).
pub fn refuse_migrations(draft: &Draft, applied: Option<&Value>) -> Result<(), Reply> {
    refuse_exports_change(&draft.fields, applied)?;
    if draft.fields.contains_key("migrations") {
        return Err(envelope::fail(
            400,
            10_211,
            "Version upload failed: the version includes a Durable Object migration, but migrations must be fully \
             applied via a non-versioned deployment",
        ));
    }
    Ok(())
}

/// Validates and stores a draft as Worker `i`'s next version; returns it as stored (with its
/// modules and secret values, which only the test accessors ever see). `inherit` bindings are
/// resolved here (see [`resolve_inherit`]); `deploy`: the upload is deployed at once, so its
/// migrations apply.
pub fn create(state: &mut State, i: usize, draft: Draft, unresolved: Unresolved, deploy: bool) -> Result<Value, Reply> {
    validate(&draft)?;
    let Draft { main_module, modules, mut fields, source } = draft;
    if let Some(Value::Array(mut bindings)) = fields.remove("bindings") {
        resolve_inherit(&state.workers[i].versions, &mut bindings, unresolved)?;
        fields.insert("bindings".into(), Value::Array(bindings));
    }
    // Assets (docs/cloudflare-api.md §A.8): a live completion token for this Worker; the version
    // keeps the manifest and config, never the token.
    let sent_assets = fields.remove("assets");
    let has_assets = match &sent_assets {
        Some(a) => {
            let script = state.workers[i].name.clone();
            let stored = crate::routes::assets::version_assets(state, &script, a, source == "wrangler")?;
            fields.insert("assets".into(), stored);
            true
        }
        None => false,
    };
    let bindings = fields.get("bindings").and_then(Value::as_array);
    if !has_assets && bindings.into_iter().flatten().any(|b| b["type"] == "assets") {
        // INFERRED: an assets binding needs assets to serve.
        return Err(envelope::bad_request("an assets binding needs assets: upload them and send assets.jwt"));
    }
    if main_module.is_none() && !has_assets {
        // INFERRED: a version without code serves assets, or nothing at all.
        return Err(envelope::bad_request("main_module is required unless the version has assets"));
    }
    if !has_assets && modules.iter().any(|m| m.name == "_headers" || m.name == "_redirects") && main_module.is_none() {
        return Err(envelope::bad_request("_headers and _redirects modules go with assets"));
    }
    check_durable_objects(state, i, &fields, deploy)?;
    // Migrations are write-only (docs/cloudflare-api.md §C.2): applied above, never stored or
    // shown.
    fields.remove("migrations");
    // INFERRED: the value the API puts in `workers/triggered_by` for a plain upload.
    let annotations = stored_annotations(&fields, "upload");
    let id = random::uuid_v4();
    // Accepted: its completion token is used up.
    if let Some(a) = &sent_assets {
        state.assets.spend(a);
    }
    let w = &mut state.workers[i];
    // Version URLs exist only where previews are enabled (docs/cloudflare-api.md §C.7, §G-20:
    // INFERRED an empty list rather than an absent field).
    let urls: Vec<String> = state
        .config
        .subdomain
        .iter()
        .filter(|_| w.previews_enabled)
        .map(|s| format!("https://{}-{}.{s}.workers.dev", &id[..8], w.name))
        .collect();
    let modules = stored_modules(&modules);
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

/// The annotations as stored: nulls dropped, `workers/message` truncated (§4.2), and
/// `workers/triggered_by` (read-only) set by the server.
pub fn stored_annotations(fields: &Map<String, Value>, triggered_by: &str) -> Map<String, Value> {
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
    annotations.insert("workers/triggered_by".into(), triggered_by.into());
    annotations
}

/// Modules as stored (and shown with `include=modules`).
pub fn stored_modules(modules: &[Module]) -> Value {
    modules
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "content_type": m.content_type,
                "content_base64": base64::engine::general_purpose::STANDARD.encode(&m.content),
            })
        })
        .collect()
}

/// Removes secret values from a bindings list: the API never shows them (§4.2).
pub fn redact_secrets(bindings: &mut Value) {
    if let Some(list) = bindings.as_array_mut() {
        for b in list {
            if b["type"].as_str().is_some_and(|t| SECRET_KINDS.contains(&t))
                && let Some(o) = b.as_object_mut()
            {
                for k in ["text", "key_base64", "key_jwk"] {
                    o.remove(k);
                }
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
        // The manifest is the simulator's record, not part of the API's answer.
        if let Some(a) = o.get_mut("assets").and_then(Value::as_object_mut) {
            a.remove("manifest");
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
        assert_eq!(
            code(validate(&draft(
                json!({ "bindings": [{ "name": "X", "type": "kv_namespace", "namespace_id": "n" }] })
            ))),
            None
        );
        assert_eq!(
            code(validate(&draft(json!({ "bindings": [{ "name": "X", "type": "kv_namespace" }] })))),
            Some(10021)
        );
        assert_eq!(
            code(validate(&draft(json!({ "bindings": [{ "name": "E", "type": "analytics_engine" }] })))),
            Some(10021)
        );
        assert_eq!(
            code(validate(&draft(json!({ "bindings": [{ "name": "X", "type": "kv_namespaces" }] })))),
            Some(10021)
        );
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
    fn binding_values_follow_the_schemas_rules() {
        let one = |b: Value| code(validate(&draft(json!({ "bindings": [b] }))));
        let hex = "0123456789abcdef0123456789abcdef";
        assert_eq!(one(json!({ "name": "K", "type": "k2", "stream": hex })), None);
        assert_eq!(one(json!({ "name": "K", "type": "k2", "stream": "events" })), Some(10021));
        assert_eq!(one(json!({ "name": "K", "type": "k2", "stream": hex.to_uppercase() })), Some(10021));
        assert_eq!(one(json!({ "name": "A", "type": "artifacts", "namespace": "builds.v1" })), None);
        for bad in ["a", "-builds", "builds-", "bu/ilds", &"a".repeat(64)] {
            assert_eq!(one(json!({ "name": "A", "type": "artifacts", "namespace": bad })), Some(10021), "{bad}");
        }
        assert_eq!(one(json!({ "name": "F", "type": "flagship", "app_id": "x".repeat(128) })), None);
        assert_eq!(one(json!({ "name": "F", "type": "flagship", "app_id": "x".repeat(129) })), Some(10021));
        assert_eq!(one(json!({ "name": "R", "type": "r2_bucket", "bucket_name": "b", "jurisdiction": "eu" })), None);
        assert_eq!(
            one(json!({ "name": "R", "type": "r2_bucket", "bucket_name": "b", "jurisdiction": "mars" })),
            Some(10021)
        );
        assert_eq!(one(json!({ "name": "N", "type": "vpc_network", "tunnel_id": "t" })), None);
        assert_eq!(
            one(json!({ "name": "N", "type": "vpc_network", "tunnel_id": "t", "network_id": "cf1:network" })),
            Some(10021)
        );
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

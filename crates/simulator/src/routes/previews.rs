//! Worker Previews (beta, docs/cloudflare-api.md §B): named Previews of a Worker and
//! their immutable deployments, under `/workers/workers/{worker_id}/previews`.
//!
//! A deployment body is checked by the same rules as a version upload (`version::validate`),
//! its `inherit` bindings resolved against this Preview's own latest deployment (§B.9 step 7,
//! §C.1), and its migrations applied to this Preview's own Durable Object namespaces (§B.10).
//! The Worker's `previews_base_config` lies under every new Preview and deployment (§B.8,
//! `ignore_base_config`/`ignore_defaults` skip it). Not simulated: custom domains and
//! `cloudflare.app` URLs (§B.6), references from other Workers (`force` on delete, §B.3).

use serde_json::{Map, Value, json};

use super::Request;
use crate::envelope::{self, Reply};
use crate::state::{Preview, State};
use crate::version::{self, Draft, Module, Unresolved};
use crate::{multipart, random, time};

/// `name`: `maxLength 256` (§B.2).
const NAME_LIMIT: usize = 256;
/// `tags`: at most 8, each at most 1024 characters, no `,` or `&` (§B.2).
const TAGS_LIMIT: usize = 8;
const TAG_LIMIT: usize = 1024;
/// Annotation limits of a preview deployment (§B.5); `workers/message` is truncated, not refused.
const ANNOTATION_LIMITS: &[(&str, usize)] = &[
    ("workers/commit_sha", 64),
    ("workers/pull_request_number", 20),
    ("workers/pull_request_title", 512),
    ("workers/pull_request_url", 512),
    ("workers/repository_url", 512),
];

pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let ["workers", "workers", worker, "previews", rest @ ..] = req.segs.as_slice() else { return None };
    let Some(w) = state.worker_index(worker) else {
        return Some(envelope::not_found("Worker not found"));
    };
    let reply = match (req.method, rest) {
        ("GET", []) => list(state, w, req),
        ("POST", []) => create(state, w, req.body, req.query_is("ignore_base_config", "true")),
        (method, [preview, tail @ ..]) => {
            let Some(p) = find(state, w, preview) else {
                return Some(preview_missing());
            };
            match (method, tail) {
                ("GET", []) => envelope::reply(preview_json(state, w, p)),
                ("PATCH", []) => update(state, w, p, req.body, false),
                ("PUT", []) => update(state, w, p, req.body, true),
                ("DELETE", []) => {
                    state.workers[w].previews.remove(p);
                    (200, envelope::ok(Value::Null))
                }
                ("GET", ["deployments"]) => list_deployments(state, w, p, req),
                ("POST", ["deployments"]) => {
                    let ignore = req.query_is("ignore_defaults", "true");
                    match parse_deployment(req.body).and_then(|d| over_base_config(state, w, d, ignore)) {
                        Ok(d) => deploy(state, w, p, d, None),
                        Err(r) => r,
                    }
                }
                ("GET", ["deployments", d]) => match find_deployment(&state.workers[w].previews[p], d) {
                    Some(k) => envelope::reply(deployment_view(
                        &state.workers[w].previews[p].deployments[k],
                        req.query_is("include", "modules"),
                    )),
                    None => deployment_missing(),
                },
                ("PATCH", ["deployments", d]) => patch_latest(state, w, p, d, req.body),
                ("DELETE", ["deployments", d]) => match find_deployment(&state.workers[w].previews[p], d) {
                    Some(k) => {
                        state.workers[w].previews[p].deployments.remove(k);
                        (200, envelope::ok(Value::Null))
                    }
                    None => deployment_missing(),
                },
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(reply)
}

/// 10025: wrangler's "preview not found" (§B.9, `preview/api.ts`).
fn preview_missing() -> Reply {
    envelope::fail(404, 10025, "Preview not found")
}

/// 10222: wrangler's "no deployment" for `deployments/latest` (§B.9). INFERRED: the same for
/// an id that names none.
fn deployment_missing() -> Reply {
    envelope::fail(404, 10222, "Preview deployment not found")
}

/// `^[a-zA-Z0-9]([a-zA-Z0-9\-_/.+=]*[a-zA-Z0-9])?$`, at most 256 (§B.2).
fn valid_name(n: &str) -> bool {
    let inner = |c: char| c.is_ascii_alphanumeric() || "-_/.+=".contains(c);
    let b = n.as_bytes();
    !n.is_empty()
        && n.len() <= NAME_LIMIT
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && n.chars().all(inner)
}

/// INFERRED (§G-10): lowercase, each maximal run of characters outside `[a-z0-9]` becomes one
/// `-`, and `-` is trimmed from both ends. The docs give one example (`feature/my-branch` →
/// `feature-my-branch`), which this rule meets.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.to_ascii_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// `{preview_id}` is the id, the slug or the URL-encoded name (§B.2).
fn find(state: &State, w: usize, segment: &str) -> Option<usize> {
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
    let previews = &state.workers[w].previews;
    previews
        .iter()
        .position(|p| p.id == segment)
        .or_else(|| previews.iter().position(|p| p.name == decoded))
        .or_else(|| previews.iter().position(|p| p.slug == segment))
}

/// `{deployment_id}`: a UUID, a prefix of at least 8 characters, or `latest` (§B.2).
fn find_deployment(p: &Preview, d: &str) -> Option<usize> {
    if d == "latest" {
        return p.deployments.len().checked_sub(1);
    }
    if d.len() < 8 {
        return None;
    }
    p.deployments.iter().position(|x| x["id"].as_str().is_some_and(|id| id.starts_with(d)))
}

/// The default observability of §B.4's example.
fn default_observability() -> Value {
    json!({ "enabled": false, "head_sampling_rate": 1, "issues": null,
            "logs": { "enabled": false, "head_sampling_rate": 1, "invocation_logs": true, "persist": true, "destinations": [] },
            "traces": { "enabled": false, "head_sampling_rate": 1, "persist": true, "destinations": [] },
            "redact_query_string": false })
}

/// The longest DNS label (RFC 1035 section 2.3.4), which the first label of a workers.dev URL must fit
/// (§B.6).
const DNS_LABEL_MAX: usize = 63;

/// Preview URLs exist only when the Worker has previews enabled on workers.dev (§B.6); the
/// account's custom domains are not simulated. INFERRED (§G-10): a Preview whose
/// `<slug>-<worker>` would pass 63 characters has no workers.dev URL; a deployment's
/// `<8 hex>-<worker>` always fits, as Cloudflare caps names at 54 when previews are on (§4.1).
fn preview_urls(state: &State, w: usize, host: &str) -> Vec<String> {
    let worker = &state.workers[w];
    let label = format!("{host}-{}", worker.name);
    match &state.config.subdomain {
        Some(s) if worker.previews_enabled && label.len() <= DNS_LABEL_MAX => {
            vec![format!("https://{label}.{s}.workers.dev")]
        }
        _ => Vec::new(),
    }
}

pub(crate) fn preview_json(state: &State, w: usize, p: usize) -> Value {
    let p = &state.workers[w].previews[p];
    json!({
        "id": p.id,
        "slug": p.slug,
        "name": p.name,
        "tags": p.tags,
        "observability": p.observability,
        "logpush": p.logpush,
        "tail_consumers": p.tail_consumers,
        "urls": preview_urls(state, w, &p.slug),
        "created_on": p.created_on,
        "updated_on": p.updated_on,
        "deployed_on": p.deployed_on,
    })
}

/// The mutable layer from a body (§B.4 "Writable"): each field checked by the schema's rules;
/// `full` (PUT) resets what is absent to its default, otherwise (create, PATCH) absent keeps.
fn apply_settings(p: &mut Preview, body: &Map<String, Value>, full: bool) -> Result<(), Reply> {
    match body.get("tags") {
        Some(Value::Array(tags)) => {
            let ok = tags.len() <= TAGS_LIMIT
                && tags.iter().all(|t| t.as_str().is_some_and(|t| t.len() <= TAG_LIMIT && !t.contains([',', '&'])));
            if !ok {
                return Err(envelope::bad_request(
                    "tags: at most 8 strings of at most 1024 characters, without `,` or `&`",
                ));
            }
            p.tags = Value::Array(tags.clone());
        }
        Some(_) => return Err(envelope::bad_request("tags must be an array")),
        None if full => p.tags = json!([]),
        None => {}
    }
    match body.get("logpush") {
        Some(Value::Bool(b)) => p.logpush = *b,
        Some(_) => return Err(envelope::bad_request("logpush must be a boolean")),
        None if full => p.logpush = false,
        None => {}
    }
    match body.get("observability") {
        Some(o) if o.get("enabled").is_some_and(Value::is_boolean) => {
            let mut merged = default_observability();
            merge_patch(&mut merged, o);
            p.observability = merged;
        }
        Some(_) => return Err(envelope::bad_request("observability.enabled is required and must be a boolean")),
        None if full => p.observability = default_observability(),
        None => {}
    }
    match body.get("tail_consumers") {
        Some(Value::Array(list)) if list.iter().all(|t| t.get("name").is_some_and(Value::is_string)) => {
            p.tail_consumers = Value::Array(list.clone());
        }
        Some(_) => return Err(envelope::bad_request("tail_consumers must be an array of {name}")),
        None if full => p.tail_consumers = json!([]),
        None => {}
    }
    Ok(())
}

fn body_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(envelope::bad_request("Request body must be a JSON object")),
    }
}

fn create(state: &mut State, w: usize, body: &[u8], ignore_base: bool) -> Reply {
    let body = match body_object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return envelope::bad_request("name is required");
    };
    if !valid_name(name) {
        return envelope::bad_request(
            "name must be at most 256 characters: letters, digits and - _ / . + =, starting and ending with a letter or digit",
        );
    }
    let slug = slug(name);
    // INFERRED (§G-10): a second Preview of the same name, or of a name that gives the same
    // slug, is refused as a conflict (the slug is the Preview's host name).
    if state.workers[w].previews.iter().any(|p| p.name == name || p.slug == slug) {
        return envelope::fail(409, 10021, "A Preview with this name (or slug) already exists");
    }
    let now = time::now();
    let mut p = Preview {
        id: random::hex(16),
        name: name.to_owned(),
        slug,
        tags: json!([]),
        observability: default_observability(),
        logpush: false,
        tail_consumers: json!([]),
        created_on: now.clone(),
        updated_on: now,
        deployed_on: None,
        deployed_seq: 0,
        deployments: Vec::new(),
        deployments_made: 0,
        do_classes: Vec::new(),
        migration_tag: None,
    };
    // §B.8: the create body is laid over the base config's Preview settings.
    if !ignore_base && let Some(Value::Object(base)) = &state.workers[w].previews_base_config {
        let layer: Map<String, Value> = base
            .iter()
            .filter(|(k, _)| ["observability", "logpush", "tail_consumers"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Err(r) = apply_settings(&mut p, &layer, false) {
            return r;
        }
    }
    if let Err(r) = apply_settings(&mut p, &body, false) {
        return r;
    }
    // §B.7: at the limit the Preview deployed to least recently is deleted (never deployed
    // counts as least recent; ties go to the oldest).
    let limit = state.config.preview_limit.max(1);
    let previews = &mut state.workers[w].previews;
    while previews.len() >= limit {
        let oldest = (0..previews.len()).min_by_key(|&k| previews[k].deployed_seq).unwrap_or(0);
        previews.remove(oldest);
    }
    previews.push(p);
    let p = previews.len() - 1;
    envelope::reply(preview_json(state, w, p))
}

fn update(state: &mut State, w: usize, p: usize, body: &[u8], full: bool) -> Reply {
    let body = match body_object(body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let preview = &mut state.workers[w].previews[p];
    // INFERRED: the slug is immutable (§B.2) and derived from the name, so a rename is refused;
    // PUT requires `name` (§B.3).
    match body.get("name") {
        Some(n) if n.as_str() != Some(preview.name.as_str()) => {
            return envelope::bad_request("name cannot be changed");
        }
        None if full => return envelope::bad_request("name is required"),
        _ => {}
    }
    if let Err(r) = apply_settings(preview, &body, full) {
        return r;
    }
    preview.updated_on = time::now();
    envelope::reply(preview_json(state, w, p))
}

/// `page` (≥ 1, default 1), `per_page` (1–100, default 10), `order_by`, `order`, and partial
/// `slug`/`name` filters (§B.3). INFERRED: out-of-range values are refused (10021), as for
/// versions; a Preview never deployed sorts as the least recent.
fn list(state: &State, w: usize, req: &Request) -> Reply {
    let (page, per_page) = match paging(req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let order_by = req.query.get("order_by").map_or("deployed_on", String::as_str);
    if !["deployed_on", "updated_on", "created_on", "slug", "name"].contains(&order_by) {
        return envelope::bad_request("order_by must be deployed_on, updated_on, created_on, slug or name");
    }
    let desc = match req.query.get("order").map(String::as_str) {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => return envelope::bad_request("order must be asc or desc"),
    };
    let previews = &state.workers[w].previews;
    let mut picked: Vec<usize> = (0..previews.len())
        .filter(|&k| req.query.get("slug").is_none_or(|s| previews[k].slug.contains(s.as_str())))
        .filter(|&k| req.query.get("name").is_none_or(|s| previews[k].name.contains(s.as_str())))
        .collect();
    picked.sort_by_key(|&k| {
        let p = &previews[k];
        match order_by {
            "deployed_on" => format!("{:020}", p.deployed_seq),
            "updated_on" => p.updated_on.clone(),
            "created_on" => format!("{}{k:06}", p.created_on),
            "slug" => p.slug.clone(),
            _ => p.name.clone(),
        }
    });
    if desc {
        picked.reverse();
    }
    let n = picked.len();
    let items: Vec<Value> =
        picked.into_iter().skip((page - 1) * per_page).take(per_page).map(|k| preview_json(state, w, k)).collect();
    let info = json!({ "page": page, "per_page": per_page, "count": items.len(), "total_count": n });
    (200, envelope::ok_page(items, info))
}

fn paging(req: &Request) -> Result<(usize, usize), Reply> {
    let per_page = req.number("per_page").unwrap_or(10);
    let page = req.number("page").unwrap_or(1);
    if page == 0 || per_page == 0 || per_page > 100 {
        return Err(envelope::bad_request("page must be at least 1 and per_page between 1 and 100"));
    }
    Ok((page, per_page))
}

/// INFERRED: newest first, like the Worker's deployments list.
fn list_deployments(state: &State, w: usize, p: usize, req: &Request) -> Reply {
    let (page, per_page) = match paging(req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all = &state.workers[w].previews[p].deployments;
    let items: Vec<Value> =
        all.iter().rev().skip((page - 1) * per_page).take(per_page).map(|d| deployment_view(d, false)).collect();
    let info = json!({ "page": page, "per_page": per_page, "count": items.len(), "total_count": all.len() });
    (200, envelope::ok_page(items, info))
}

/// A deployment body, JSON (`PreviewDeploymentRequest`) or `multipart/form-data` (`metadata`
/// plus `files` parts named by their filename, §B.3, §B.9 step 7), into a [`Draft`] whose
/// bindings are in the array form whichever form was sent.
fn parse_deployment(body: &[u8]) -> Result<(Draft, bool), Reply> {
    let (mut fields, modules) = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut fields)) => {
            let raw = fields.remove("modules");
            let Some(raw) = raw.as_ref().and_then(Value::as_array) else {
                return Err(envelope::bad_request("modules is required"));
            };
            (fields, json_modules(raw)?)
        }
        Ok(_) => return Err(envelope::bad_request("Request body must be a JSON object")),
        Err(_) => multipart_body(body)?,
    };
    let main_module = match fields.remove("main_module") {
        Some(Value::String(s)) => Some(s),
        None => None,
        Some(_) => return Err(envelope::bad_request("main_module must be a string")),
    };
    // §B.5: `env` (name → binding without `name`) or `bindings` (array); INFERRED: both at
    // once is refused, as the two would have to be merged by rules nobody wrote down.
    let array_form = fields.contains_key("bindings");
    match (fields.remove("env"), fields.contains_key("bindings")) {
        (Some(_), true) => return Err(envelope::bad_request("send either env or bindings, not both")),
        (Some(Value::Object(env)), false) => {
            let mut list = Vec::with_capacity(env.len());
            for (name, b) in env {
                let Value::Object(mut b) = b else {
                    return Err(envelope::bad_request(&format!("env.{name} must be a binding object")));
                };
                b.insert("name".into(), json!(name));
                list.push(Value::Object(b));
            }
            fields.insert("bindings".into(), Value::Array(list));
        }
        (Some(_), false) => return Err(envelope::bad_request("env must be an object")),
        (None, _) => {}
    }
    if fields.contains_key("migrations") && fields.contains_key("exports") {
        return Err(envelope::bad_request("migrations and exports are mutually exclusive"));
    }
    for (key, limit) in ANNOTATION_LIMITS {
        let value = fields.get("annotations").and_then(|a| a.get(*key));
        if value.is_some_and(|v| v.as_str().is_none_or(|s| s.len() > *limit)) {
            return Err(envelope::bad_request(&format!("annotations.{key} must be a string of at most {limit} bytes")));
        }
    }
    Ok((Draft { main_module, modules, fields, source: "api" }, array_form))
}

/// §B.8: a deployment body laid over the Worker's `previews_base_config` (unless `ignore`):
/// "Your request body wins for any field it provides", fields it leaves out come from the base
/// config. `env` merges by binding name ("You cannot remove a default by omitting it"; whether
/// the whole map or each name is the unit is open, §G-30: by name here, which keeps more). A
/// Worker with a base config takes only the `env` form ("must use `env`", §B.5).
fn over_base_config(
    state: &State,
    w: usize,
    (mut draft, array_form): (Draft, bool),
    ignore: bool,
) -> Result<Draft, Reply> {
    let Some(Value::Object(base)) = &state.workers[w].previews_base_config else { return Ok(draft) };
    if array_form {
        return Err(envelope::bad_request(
            "Uploads to a Preview whose parent Worker has a previews base config must use env",
        ));
    }
    if ignore {
        return Ok(draft);
    }
    let fields = &mut draft.fields;
    for key in ["limits", "placement", "cache_options"] {
        if let Some(v) = base.get(key).filter(|_| !fields.contains_key(key)) {
            fields.insert(key.into(), v.clone());
        }
    }
    if let Some(Value::Object(env)) = base.get("env") {
        let list = fields.entry("bindings").or_insert_with(|| json!([]));
        let Value::Array(list) = list else { return Ok(draft) };
        for (name, b) in env {
            if list.iter().any(|x| x["name"] == name.as_str()) {
                continue;
            }
            let mut b = b.clone();
            b["name"] = json!(name);
            list.push(b);
        }
    }
    Ok(draft)
}

fn json_modules(raw: &[Value]) -> Result<Vec<Module>, Reply> {
    use base64::Engine as _;
    let mut modules = Vec::with_capacity(raw.len());
    for (k, m) in raw.iter().enumerate() {
        let field = |f: &str| m.get(f).and_then(Value::as_str);
        let (Some(name), Some(content_type), Some(b64)) =
            (field("name"), field("content_type"), field("content_base64"))
        else {
            return Err(envelope::bad_request(&format!(
                "modules[{k}]: name, content_type and content_base64 are required"
            )));
        };
        let Ok(content) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            return Err(envelope::bad_request(&format!("modules[{k}].content_base64 is not valid base64")));
        };
        modules.push(Module { name: name.to_owned(), content_type: content_type.to_owned(), content });
    }
    Ok(modules)
}

fn multipart_body(body: &[u8]) -> Result<(Map<String, Value>, Vec<Module>), Reply> {
    let Some(parts) = multipart::parse(body) else {
        return Err(envelope::bad_request("Request body must be JSON or multipart/form-data"));
    };
    let mut fields = None;
    let mut modules = Vec::new();
    for part in parts {
        match part.name.as_str() {
            "metadata" => match serde_json::from_slice(&part.data) {
                Ok(Value::Object(o)) => fields = Some(o),
                _ => return Err(envelope::bad_request("metadata must be a JSON object")),
            },
            "files" => {
                let Some(name) = part.filename else {
                    return Err(envelope::bad_request("a files part needs a filename (the module name)"));
                };
                let content_type = part.content_type.unwrap_or_default();
                let content_type = content_type.split(';').next().unwrap_or_default().trim().to_owned();
                modules.push(Module { name, content_type, content: part.data });
            }
            other => return Err(envelope::bad_request(&format!("unexpected part `{other}`"))),
        }
    }
    let Some(fields) = fields else { return Err(envelope::bad_request("metadata part is required")) };
    Ok((fields, modules))
}

/// Validates, resolves and stores a deployment as Preview `p`'s latest (§B.1: it serves the
/// Preview at once).
/// `kept_assets`: the latest deployment's stored assets, carried by a merge patch that sets
/// no new `assets` (its completion token was redeemed when that deployment was made).
fn deploy(state: &mut State, w: usize, p: usize, draft: Draft, kept_assets: Option<Value>) -> Reply {
    if draft.main_module.is_none() {
        return envelope::bad_request("main_module is required");
    }
    if let Err(r) = version::validate(&draft) {
        return r;
    }
    let Draft { main_module, modules, mut fields, source } = draft;
    let worker_name = state.workers[w].name.clone();
    // `assets` as in a version (§B.5 names §A.8): a live completion token of this Worker's
    // script (the upload session is the script's, §B.9 step 5), checked by the same code as a
    // version's; the deployment keeps the manifest and config, never the token.
    let sent_assets = fields.remove("assets");
    let has_assets = match (&sent_assets, kept_assets) {
        (Some(a), _) => match crate::routes::assets::version_assets(state, &worker_name, a, false) {
            Ok(stored) => {
                fields.insert("assets".into(), stored);
                true
            }
            Err(r) => return r,
        },
        (None, Some(kept)) => {
            fields.insert("assets".into(), kept);
            true
        }
        (None, None) => false,
    };
    if !has_assets
        && fields.get("bindings").and_then(Value::as_array).into_iter().flatten().any(|b| b["type"] == "assets")
    {
        // INFERRED, as for a version: an assets binding needs assets to serve.
        return envelope::bad_request("an assets binding needs assets: upload them and send assets.jwt");
    }
    let preview = &state.workers[w].previews[p];
    if let Some(Value::Array(mut bindings)) = fields.remove("bindings") {
        // Whether an unresolvable `inherit` is refused or dropped is open (§G-2): refused.
        if let Err(r) = version::resolve_inherit(&preview.deployments, &mut bindings, Unresolved::Refuse) {
            return r;
        }
        fields.insert("bindings".into(), Value::Array(bindings));
    }
    // Migrations apply when the deployment is created (§B.5), against this Preview's own tag
    // and classes (§B.10), by the same rules as a version's.
    let (classes, new_tag) = match version::durable_object_classes(
        &preview.do_classes,
        preview.migration_tag.as_deref(),
        &worker_name,
        &fields,
        true,
        "Preview",
    ) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let migration_tag = new_tag.or_else(|| preview.migration_tag.clone());
    fields.remove("migrations");
    let annotations = version::stored_annotations(&fields, "create_preview_deployment_api");
    // Accepted: its completion token is used up, as a version's is.
    if let Some(a) = &sent_assets {
        state.assets.spend(a);
    }
    let id = random::uuid_v4();
    // §B.6, §G-11: INFERRED the short id is the UUID's first 8 hex characters.
    let urls = preview_urls(state, w, &id[..8]);
    let preview = &mut state.workers[w].previews[p];
    preview.deployments_made += 1;
    let created = time::now();
    fields.insert("id".into(), json!(id));
    fields.insert("number".into(), json!(preview.deployments_made));
    fields.insert("main_module".into(), json!(main_module));
    fields.insert("modules".into(), version::stored_modules(&modules));
    fields.entry("compatibility_flags").or_insert_with(|| json!([]));
    fields.entry("bindings").or_insert_with(|| json!([]));
    fields.insert("annotations".into(), Value::Object(annotations));
    fields.insert("created_on".into(), json!(created));
    fields.insert("urls".into(), json!(urls));
    fields.insert("source".into(), json!(source));
    // "May be empty for deployments created using an API token" (§B.5).
    fields.insert("author_id".into(), json!(""));
    fields.insert("author_email".into(), json!(""));
    fields.insert("startup_time_ms".into(), json!(7));
    // Omitted when the Preview has no Durable Objects (§B.5).
    if !classes.is_empty()
        && let Some(t) = &migration_tag
    {
        fields.insert("migration_tag".into(), json!(t));
    }
    preview.do_classes = classes;
    preview.migration_tag = migration_tag;
    let stored = Value::Object(fields);
    preview.deployments.push(stored.clone());
    // §B.7: the oldest deployment within the Preview goes at the limit.
    let limit = state.config.preview_deployment_limit.max(1);
    while preview.deployments.len() > limit {
        preview.deployments.remove(0);
    }
    state.preview_clock += 1;
    let preview = &mut state.workers[w].previews[p];
    preview.deployed_on = Some(created);
    preview.deployed_seq = state.preview_clock;
    envelope::reply(deployment_view(&stored, false))
}

/// `PATCH …/deployments/latest` (§B.3): an RFC 7396 merge patch over the latest deployment
/// makes a new one; `{}` redeploys it unchanged. Only `latest` is allowed; without any
/// deployment wrangler's 10032 (§B.9).
fn patch_latest(state: &mut State, w: usize, p: usize, d: &str, body: &[u8]) -> Reply {
    if d != "latest" {
        return envelope::bad_request("only the latest deployment can be patched");
    }
    let Ok(patch @ Value::Object(_)) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body must be a JSON merge patch object");
    };
    let Some(latest) = state.workers[w].previews[p].deployments.last() else {
        return envelope::fail(400, 10032, "The Preview has no deployment to patch");
    };
    // The latest as a request in the `env` form (secret values included: they are inherited).
    let mut base = Map::new();
    // The stored assets hold no token to redeem again: carried over unless the patch sends new
    // ones.
    let kept_assets = if patch.get("assets").is_some() { None } else { latest.get("assets").cloned() };
    for key in
        ["main_module", "modules", "compatibility_date", "compatibility_flags", "limits", "placement", "annotations"]
    {
        if let Some(v) = latest.get(key) {
            base.insert(key.into(), v.clone());
        }
    }
    if let Some(Value::Object(a)) = base.get_mut("annotations") {
        a.remove("workers/triggered_by");
    }
    let mut env = Map::new();
    for b in latest["bindings"].as_array().into_iter().flatten() {
        let mut b = b.clone();
        if let Some(name) = b.as_object_mut().and_then(|o| o.remove("name")).and_then(|n| n.as_str().map(str::to_owned))
        {
            env.insert(name, b);
        }
    }
    base.insert("env".into(), Value::Object(env));
    let mut merged = Value::Object(base);
    merge_patch(&mut merged, &patch);
    match parse_deployment(merged.to_string().as_bytes()) {
        Ok((d, _)) => deploy(state, w, p, d, kept_assets),
        Err(r) => r,
    }
}

/// RFC 7396 section 2, as written there: objects merge key by key, `null` deletes, anything else
/// replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// A stored deployment as answered: modules only on request, secret values never, and the
/// bindings in both forms ("a read returns both", §B.5).
fn deployment_view(stored: &Value, with_modules: bool) -> Value {
    let mut v = version::beta_view(stored, with_modules);
    let env: Map<String, Value> = v["bindings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let mut b = b.clone();
            let name = b.as_object_mut()?.remove("name")?.as_str()?.to_owned();
            Some((name, b))
        })
        .collect();
    v["env"] = Value::Object(env);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_slugs() {
        for ok in ["a", "feature/my-branch", "A.b+c=d_e-f", &"x".repeat(256)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "ü", "a/", &"x".repeat(257)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(slug("feature/my-branch"), "feature-my-branch");
        assert_eq!(slug("Feature//My__Branch"), "feature-my-branch");
        assert_eq!(slug("a.b+c"), "a-b-c");
    }

    /// A workers.dev host's first label is a DNS label: at most 63 characters (§B.6, §G-10).
    #[test]
    fn a_slug_too_long_for_a_dns_label_gets_no_preview_url() {
        let mut st = State::new(SimConfig::default());
        // `-my-worker` is 10 characters: a slug of 53 fits, 54 does not.
        for (len, has_url) in [(53, true), (54, false), (256, false)] {
            let id = create(&mut st, &"a".repeat(len));
            let r = call(&mut st, "POST", &format!("{P}/{id}/deployments"), "", &body(&json!({})));
            assert_eq!(r.0, 200, "{}", r.1);
            let deployment_urls = r.1["result"]["urls"].as_array().unwrap().clone();
            let p = call(&mut st, "GET", &format!("{P}/{id}"), "", &json!(null));
            let urls = p.1["result"]["urls"].as_array().unwrap();
            assert_eq!(!urls.is_empty(), has_url, "slug of {len}: {urls:?}");
            for u in urls.iter().chain(&deployment_urls) {
                let label = u.as_str().unwrap().trim_start_matches("https://").split('.').next().unwrap();
                assert!(label.len() <= DNS_LABEL_MAX, "{u}");
            }
            assert_eq!(deployment_urls.len(), 1, "the deployment's URL fits whatever the slug");
        }
    }

    use crate::config::SimConfig;
    use crate::routes::handle;

    const P: &str = "/workers/workers/my-worker/previews";

    fn call(st: &mut State, method: &str, path: &str, query: &str, body: &Value) -> (u16, Value) {
        handle(st, method, path, query, body.to_string().as_bytes())
    }

    fn code(r: &(u16, Value)) -> (u16, Option<i64>) {
        (r.0, r.1["errors"][0]["code"].as_i64())
    }

    fn body(env: &Value) -> Value {
        json!({ "main_module": "index.js", "compatibility_date": "2026-11-01", "env": env,
                "modules": [{ "name": "index.js", "content_type": "application/javascript+module", "content_base64": "eA==" }] })
    }

    fn create(st: &mut State, name: &str) -> String {
        let r = call(st, "POST", P, "", &json!({ "name": name }));
        assert_eq!(r.0, 200, "{}", r.1);
        r.1["result"]["id"].as_str().unwrap().to_owned()
    }

    /// §B.8: the deployment body lies over the Worker's base config, `env` name by name; the
    /// base config's secret value is never shown; `ignore_defaults` skips it; the array form is
    /// refused while the Worker has one.
    #[test]
    fn a_deployment_lies_over_the_previews_base_config() {
        let seed = crate::config::WorkerSeed {
            previews_base_config: Some(json!({
                "env": { "DB": { "type": "d1", "database_id": "base-db" }, "TOKEN": { "type": "secret_text", "text": "base-secret" },
                         "MODE": { "type": "plain_text", "text": "base" } },
                "limits": { "cpu_ms": 50 },
                "logpush": true
            })),
            ..crate::config::WorkerSeed::default()
        };
        let mut st = State::new(SimConfig { workers: vec![seed], ..SimConfig::default() });
        let w = call(&mut st, "GET", "/workers/workers/my-worker", "", &Value::Null);
        assert_eq!(w.1["result"]["previews_base_config"]["env"]["TOKEN"], json!({ "type": "secret_text" }));
        let p = create(&mut st, "feature");
        assert_eq!(call(&mut st, "GET", &format!("{P}/{p}"), "", &Value::Null).1["result"]["logpush"], true);
        let d = format!("{P}/{p}/deployments");
        let r = call(&mut st, "POST", &d, "", &body(&json!({ "MODE": { "type": "plain_text", "text": "own" } })));
        assert_eq!(r.0, 200, "{}", r.1);
        let stored = st.workers[0].previews[0].deployments[0].clone();
        let by_name = |n: &str| stored["bindings"].as_array().unwrap().iter().find(|b| b["name"] == n).cloned();
        assert_eq!(by_name("MODE").unwrap()["text"], "own", "the body wins");
        assert_eq!(by_name("DB").unwrap()["database_id"], "base-db");
        assert_eq!(by_name("TOKEN").unwrap()["text"], "base-secret");
        assert_eq!(stored["limits"], json!({ "cpu_ms": 50 }));
        let r = call(&mut st, "POST", &d, "ignore_defaults=true", &body(&json!({})));
        assert_eq!(r.0, 200);
        assert_eq!(st.workers[0].previews[0].deployments[1]["bindings"], json!([]));
        let mut array = body(&json!({}));
        array.as_object_mut().unwrap().remove("env");
        array["bindings"] = json!([]);
        assert_eq!(call(&mut st, "POST", &d, "", &array).0, 400, "the env form only");
    }

    #[test]
    fn the_least_recently_deployed_preview_and_the_oldest_deployment_are_evicted() {
        let mut st = State::new(SimConfig { preview_limit: 2, preview_deployment_limit: 2, ..SimConfig::default() });
        let a = create(&mut st, "a");
        let b = create(&mut st, "b");
        call(&mut st, "POST", &format!("{P}/{a}/deployments"), "", &body(&json!({})));
        // `b` never deployed: least recent, so the third Preview evicts it.
        create(&mut st, "c");
        let names: Vec<String> = st.workers[0].previews.iter().map(|p| p.name.clone()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(code(&call(&mut st, "GET", &format!("{P}/{b}"), "", &Value::Null)), (404, Some(10025)));
        let ids: Vec<String> = (0..3)
            .map(|_| {
                let r = call(&mut st, "POST", &format!("{P}/{a}/deployments"), "", &body(&json!({})));
                r.1["result"]["id"].as_str().unwrap().to_owned()
            })
            .collect();
        let r = call(&mut st, "GET", &format!("{P}/{a}/deployments"), "", &Value::Null);
        let listed: Vec<&str> = r.1["result"].as_array().unwrap().iter().filter_map(|d| d["id"].as_str()).collect();
        assert_eq!(listed, [ids[2].as_str(), ids[1].as_str()], "newest first, the oldest gone");
        assert_eq!(r.1["result"][0]["number"], 4, "numbers are not reused");
    }

    #[test]
    fn listing_pages_orders_and_filters() {
        let mut st = State::new(SimConfig::default());
        for n in ["feature/b", "feature/a", "fix/c"] {
            create(&mut st, n);
        }
        let names = |r: &(u16, Value)| -> Vec<String> {
            r.1["result"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
        };
        let r = call(&mut st, "GET", P, "order_by=name&order=asc&per_page=2&page=1", &Value::Null);
        assert_eq!(names(&r), ["feature/a", "feature/b"]);
        assert_eq!(r.1["result_info"]["total_count"], 3);
        let r = call(&mut st, "GET", P, "order_by=name&order=asc&per_page=2&page=2", &Value::Null);
        assert_eq!(names(&r), ["fix/c"]);
        let r = call(&mut st, "GET", P, "slug=feature-a", &Value::Null);
        assert_eq!(names(&r), ["feature/a"]);
        for q in ["per_page=101", "page=0", "order_by=size", "order=up"] {
            assert_eq!(code(&call(&mut st, "GET", P, q, &Value::Null)), (400, Some(10021)), "{q}");
        }
    }

    #[test]
    fn deployments_validate_like_versions_and_patch_latest_inherits() {
        let mut st = State::new(SimConfig::default());
        let id = create(&mut st, "feature/x");
        let d = format!("{P}/{id}/deployments");
        assert_eq!(code(&call(&mut st, "PATCH", &format!("{d}/latest"), "", &json!({}))), (400, Some(10032)));
        let mut bad = body(&json!({ "K": { "type": "kv" } }));
        assert_eq!(code(&call(&mut st, "POST", &d, "", &bad)).1, Some(10021), "unknown binding type");
        bad = body(&json!({}));
        bad["bindings"] = json!([]);
        assert_eq!(code(&call(&mut st, "POST", &d, "", &bad)).1, Some(10021), "env and bindings at once");
        let r = call(&mut st, "POST", &d, "", &body(&json!({ "S": { "type": "secret_text", "text": "hidden" } })));
        assert_eq!(r.0, 200, "{}", r.1);
        assert!(r.1["result"]["env"]["S"].get("text").is_none() && r.1["result"]["bindings"][0].get("text").is_none());
        assert_eq!(r.1["result"]["annotations"]["workers/triggered_by"], "create_preview_deployment_api");
        let r = call(
            &mut st,
            "PATCH",
            &format!("{d}/latest"),
            "",
            &json!({ "env": { "P": { "type": "plain_text", "text": "p" } } }),
        );
        assert_eq!(r.0, 200, "{}", r.1);
        let stored = st.workers[0].previews[0].deployments.last().unwrap().clone();
        let names: Vec<&str> =
            stored["bindings"].as_array().unwrap().iter().filter_map(|b| b["name"].as_str()).collect();
        assert_eq!(names, ["P", "S"]);
        assert_eq!(stored["bindings"][1]["text"], "hidden", "kept with its value");
        assert!(!r.1.to_string().contains("hidden"));
        let short = &stored["id"].as_str().unwrap()[..8];
        assert_eq!(call(&mut st, "GET", &format!("{d}/{short}"), "", &Value::Null).0, 200, "8-char prefix");
        assert_eq!(code(&call(&mut st, "GET", &format!("{d}/{}", &short[..7]), "", &Value::Null)), (404, Some(10222)));
    }

    #[test]
    fn multipart_deployments_and_migrations_on_the_preview_only() {
        let mut st = State::new(SimConfig::default());
        let id = create(&mut st, "do");
        let meta = json!({ "main_module": "index.js", "compatibility_date": "2026-11-01",
            "env": { "ROOM": { "type": "durable_object_namespace", "class_name": "Room" } },
            "migrations": { "new_tag": "v1", "steps": [{ "new_sqlite_classes": ["Room"] }] } });
        let form = format!(
            "--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"index.js\"\r\nContent-Type: application/javascript+module\r\n\r\nexport default {{}}\r\n--b--\r\n"
        );
        let r = handle(&mut st, "POST", &format!("{P}/{id}/deployments"), "", form.as_bytes());
        assert_eq!(r.0, 200, "{}", r.1);
        assert_eq!(r.1["result"]["migration_tag"], "v1");
        assert!(st.workers[0].do_classes.is_empty(), "the Worker's own classes are untouched");
        // The same migration again: `old_tag` no longer matches.
        let again = handle(&mut st, "POST", &format!("{P}/{id}/deployments"), "", form.as_bytes());
        assert_eq!(code(&again), (400, Some(10021)));
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut t = json!({ "a": "b", "c": { "d": "e", "f": "g" } });
        merge_patch(&mut t, &json!({ "a": "z", "c": { "f": null } }));
        assert_eq!(t, json!({ "a": "z", "c": { "d": "e" } }));
    }
}

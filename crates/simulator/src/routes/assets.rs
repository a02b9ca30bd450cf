//! Static assets (docs/cloudflare-api.md §A): the upload session, the bulk upload authorised by
//! the session's token, and the completion token a version redeems (checked in `version`).
//!
//! Tokens are JWT-shaped (`header.payload.signature`, base64url JSON payload with `exp`, §A.2)
//! and signed with a key of this simulator's own, so a client cannot forge or alter one. The
//! account remembers every hash uploaded, so a second session asks for nothing (§A.2: "Hashes
//! of files that have been recently uploaded may not be returned"). Each uploaded file's hash
//! is recomputed from its bytes and the extension the manifest gives it (§A.5), and a mismatch
//! is refused: stricter than documented (§G-7), so a client that passes here hashes as wrangler
//! does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};

use super::Request;
use crate::envelope::{self, Reply};
use crate::state::State;
use crate::{multipart, random};

/// Both tokens live an hour (§A.2, §A.3).
pub const TOKEN_LIFETIME_SECS: u64 = 3600;
/// Per-file limit (§A.6).
const MAX_ASSET_SIZE: u64 = 25 * 1024 * 1024;
/// Files per version on Workers Paid (§A.6). INFERRED: the account is on Paid, so the larger
/// limit applies; the error for more is undocumented (§G-8).
const MAX_ASSET_COUNT: usize = 100_000;
/// INFERRED bucket sizing (§A.6 suggestion): greedy, at most 50 MiB of raw bytes and 5,000
/// hashes per bucket.
const BUCKET_BYTES: u64 = 50 * 1024 * 1024;
const BUCKET_HASHES: usize = 5_000;

/// The account's assets: what is stored, and the sessions open.
#[derive(Clone)]
pub struct AssetStore {
    key: [u8; 32],
    /// Every hash uploaded to the account, with the content type it was sent with.
    pub stored: HashMap<String, String>,
    sessions: HashMap<String, Session>,
    /// Completion tokens a stored version or Preview deployment has used: each is taken once
    /// (INFERRED, §G-9: whether one may serve several versions is undocumented, so the
    /// simulator allows the least).
    spent: std::collections::HashSet<String>,
}

impl Default for AssetStore {
    fn default() -> Self {
        let mut key = [0u8; 32];
        let hex = random::hex(32);
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        AssetStore { key, stored: HashMap::new(), sessions: HashMap::new(), spent: std::collections::HashSet::new() }
    }
}

#[derive(Clone)]
pub struct Session {
    script: String,
    /// Manifest key → (hash, size).
    pub manifest: BTreeMap<String, (String, u64)>,
    /// Hash → one manifest key holding it (its extension is part of the hash, §A.5).
    paths: HashMap<String, String>,
    /// The hashes the session asked for, and those uploaded since.
    requested: HashSet<String>,
    uploaded: HashSet<String>,
    /// Its upload token asks for one file per request (§A.4; `single_asset_uploads`).
    single: bool,
}

/// Seconds since the epoch.
fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl AssetStore {
    fn sign(&self, signed: &str) -> String {
        b64url(blake3::keyed_hash(&self.key, signed.as_bytes()).as_bytes())
    }

    /// A token for `session` of `kind` (`upload` or `completion`), expiring `lifetime` from now.
    pub fn token(&self, session: &str, kind: &str, script: &str, exp: u64) -> String {
        self.token_with(session, kind, script, exp, None)
    }

    /// [`Self::token`], an upload token asking for per-file uploads with `single`'s concurrency
    /// (§A.4: the claims wrangler reads, `wrangler_single_asset_uploads` and
    /// `edge_kv_upload_concurrency`).
    pub fn token_with(&self, session: &str, kind: &str, script: &str, exp: u64, single: Option<u32>) -> String {
        let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
        let mut claims = json!({ "sub": session, "kind": kind, "script": script, "exp": exp });
        if let Some(n) = single {
            claims["wrangler_single_asset_uploads"] = json!(true);
            claims["edge_kv_upload_concurrency"] = json!(n);
        }
        let payload = b64url(claims.to_string().as_bytes());
        let signed = format!("{header}.{payload}");
        let sig = self.sign(&signed);
        format!("{signed}.{sig}")
    }

    /// The session a token of `kind` names, or why it is refused.
    pub fn verify(&self, token: &str, kind: &str) -> Result<&Session, &'static str> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err("is not a JWT");
        };
        if self.sign(&format!("{h}.{p}")) != s {
            return Err("has an invalid signature");
        }
        let payload: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("has an unreadable payload")?;
        if payload["kind"] != kind {
            return Err(if kind == "completion" { "is not a completion token" } else { "is not an upload token" });
        }
        if payload["exp"].as_u64().is_none_or(|e| e <= now()) {
            return Err("has expired");
        }
        payload["sub"].as_str().and_then(|id| self.sessions.get(id)).ok_or("names no upload session")
    }

    /// Marks the completion token of a stored version's or deployment's `assets` as used.
    pub fn spend(&mut self, assets: &Value) {
        if let Some(t) = assets.get("jwt").and_then(Value::as_str) {
            self.spent.insert(t.to_owned());
        }
    }

    /// The session behind a completion token for `script`: its manifest goes with the version.
    pub fn redeem(&self, token: &str, script: &str) -> Result<&Session, String> {
        if self.spent.contains(token) {
            return Err("assets.jwt was already used by another upload; upload the assets again for a new token".into());
        }
        let session = self.verify(token, "completion").map_err(|e| format!("assets.jwt {e}"))?;
        if session.script != script {
            return Err("assets.jwt was issued for another Worker".into());
        }
        Ok(session)
    }
}

pub fn route(state: &mut State, req: &Request) -> Option<Reply> {
    let reply = match (req.method, req.segs.as_slice()) {
        ("POST", ["workers", "scripts", script, "assets-upload-session"]) => create_session(state, script, req.body),
        ("POST", ["workers", "assets", "upload"]) => upload(state, req),
        ("POST", ["workers", "assets", "upload", hash]) => upload_one(state, req, hash),
        _ => return None,
    };
    Some(reply)
}

/// `^[a-z0-9_][a-z0-9-_]*$` (§A.2).
fn valid_script_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
}

fn is_hash(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// §A.2. The Worker need not exist yet (wrangler opens the session before the first upload).
fn create_session(state: &mut State, script: &str, body: &[u8]) -> Reply {
    if !valid_script_name(script) {
        return envelope::fail(400, 10016, "Worker name is invalid");
    }
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return envelope::bad_request("Request body must be a JSON object");
    };
    let Some(manifest) = req.get("manifest").and_then(Value::as_object) else {
        return envelope::bad_request("manifest is required and must be an object");
    };
    if manifest.len() > MAX_ASSET_COUNT {
        return envelope::bad_request(&format!(
            "manifest has {} files; the limit is {MAX_ASSET_COUNT}",
            manifest.len()
        ));
    }
    let mut entries = BTreeMap::new();
    for (path, v) in manifest {
        // INFERRED: keys are absolute URL paths (§A.2); a hash is the docs' "32 hexadecimal
        // character hash".
        let (Some(hash), Some(size)) = (v.get("hash").and_then(Value::as_str), v.get("size").and_then(Value::as_u64))
        else {
            return envelope::bad_request(&format!("manifest[{path}] needs a string hash and an integer size"));
        };
        if !path.starts_with('/') || !is_hash(hash) {
            return envelope::bad_request(&format!(
                "manifest[{path}]: the key must start with / and the hash be 32 hex characters"
            ));
        }
        if size > MAX_ASSET_SIZE {
            return envelope::bad_request(&format!(
                "manifest[{path}]: {size} bytes is above the 25 MiB limit per asset"
            ));
        }
        entries.insert(path.clone(), (hash.to_owned(), size));
    }
    // One upload per hash, greedy buckets, nothing the account already has.
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for (hash, size) in entries.values() {
        if !state.assets.stored.contains_key(hash) {
            sizes.insert(hash, *size);
        }
    }
    let mut buckets: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for (hash, size) in sizes {
        let full =
            buckets.last().is_none_or(|b| b.len() >= BUCKET_HASHES || (bytes + size > BUCKET_BYTES && !b.is_empty()));
        if full {
            buckets.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(b) = buckets.last_mut() {
            b.push(hash.to_owned());
        }
    }
    let id = random::uuid_v4();
    let requested: HashSet<String> = buckets.iter().flatten().cloned().collect();
    // Nothing to upload: the session's token is already the completion token (§A.1).
    let kind = if requested.is_empty() { "completion" } else { "upload" };
    let single = state.config.single_asset_uploads.filter(|_| kind == "upload");
    let jwt = state.assets.token_with(&id, kind, script, now() + TOKEN_LIFETIME_SECS, single);
    let paths = entries.iter().map(|(k, (h, _))| (h.clone(), k.clone())).collect();
    let session = Session {
        script: script.to_owned(),
        manifest: entries,
        paths,
        requested,
        uploaded: HashSet::new(),
        single: single.is_some(),
    };
    state.assets.sessions.insert(id, session);
    envelope::reply(json!({ "jwt": jwt, "buckets": buckets }))
}

/// INFERRED: a missing, malformed or wrong bearer on the upload is 401 with the Workers
/// authentication code (§G-5 leaves the codes open).
fn unauthorised(why: &str) -> Reply {
    envelope::fail(401, 10000, &format!("Authentication error: the upload token {why}"))
}

/// §A.3: one bucket, base64 parts named by hash, authorised by the session's upload token.
fn upload(state: &mut State, req: &Request) -> Reply {
    let Some(token) = req.bearer else {
        return unauthorised("is missing");
    };
    let session_id = match state.assets.verify(token, "upload") {
        Ok(_) => token_subject(token),
        Err(why) => return unauthorised(why),
    };
    if !req.query_is("base64", "true") {
        return envelope::bad_request("base64=true is required");
    }
    let Some(parts) = multipart::parse(req.body) else {
        return envelope::fail(400, 10001, "Expected a multipart/form-data body");
    };
    if parts.is_empty() {
        return envelope::bad_request("no files in the upload");
    }
    let store = &state.assets;
    let Some(session) = store.sessions.get(&session_id) else { return unauthorised("names no upload session") };
    // INFERRED (§G-6): a session whose token asks for per-file uploads takes only those.
    if session.single {
        return envelope::bad_request(
            "this upload session takes one file per request: POST /workers/assets/upload/{hash} (its token says wrangler_single_asset_uploads)",
        );
    }
    let mut checked = Vec::with_capacity(parts.len());
    for p in &parts {
        let hash = p.name.as_str();
        let Some(content_type) = p.content_type.clone() else {
            return envelope::bad_request(&format!("{hash}: a content type is required (application/null for none)"));
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&p.data) else {
            return envelope::bad_request(&format!("{hash}: the body is not valid base64"));
        };
        if let Err(reply) = check_file(session, hash, &bytes) {
            return reply;
        }
        checked.push((hash.to_owned(), content_type));
    }
    store_uploaded(state, &session_id, checked)
}

/// One uploaded file against its session: asked for, in the manifest, of its size and hash.
fn check_file(session: &Session, hash: &str, bytes: &[u8]) -> Result<(), Reply> {
    // INFERRED (§G-5): only hashes the session asked for; stricter than undocumented.
    if !session.requested.contains(hash) {
        return Err(envelope::bad_request(&format!("{hash} is not one of the hashes this session asked for")));
    }
    let found = session.paths.get(hash).and_then(|k| session.manifest.get(k).map(|(_, size)| (k, *size)));
    let Some((path, size)) = found else {
        return Err(envelope::bad_request(&format!("{hash} is not in the manifest")));
    };
    if bytes.len() as u64 != size {
        return Err(envelope::bad_request(&format!(
            "{hash}: {} bytes uploaded, the manifest says {size}",
            bytes.len()
        )));
    }
    if wrangler_hash(bytes, path) != hash {
        return Err(envelope::bad_request(&format!("{hash}: the uploaded bytes do not hash to it (for {path})")));
    }
    Ok(())
}

/// §A.4: one file, its raw bytes as the body, its content type as the request's, authorised by
/// the session's upload token. INFERRED: only for a session whose token asks for it (§G-6).
fn upload_one(state: &mut State, req: &Request, hash: &str) -> Reply {
    let Some(token) = req.bearer else {
        return unauthorised("is missing");
    };
    let session_id = match state.assets.verify(token, "upload") {
        Ok(_) => token_subject(token),
        Err(why) => return unauthorised(why),
    };
    let Some(session) = state.assets.sessions.get(&session_id) else {
        return unauthorised("names no upload session");
    };
    if !session.single {
        return envelope::bad_request("this upload session takes buckets: POST /workers/assets/upload?base64=true");
    }
    let Some(content_type) = req.content_type.map(str::to_owned) else {
        return envelope::bad_request(&format!("{hash}: a content type is required (application/null for none)"));
    };
    if let Err(reply) = check_file(session, hash, req.body) {
        return reply;
    }
    store_uploaded(state, &session_id, vec![(hash.to_owned(), content_type)])
}

/// Stores checked files; the completion token once the session's every hash is in (§A.3).
fn store_uploaded(state: &mut State, session_id: &str, checked: Vec<(String, String)>) -> Reply {
    let Some(script) = state.assets.sessions.get(session_id).map(|s| s.script.clone()) else {
        return unauthorised("names no upload session");
    };
    for (hash, ct) in checked {
        state.assets.stored.insert(hash.clone(), ct);
        if let Some(s) = state.assets.sessions.get_mut(session_id) {
            s.uploaded.insert(hash);
        }
    }
    let Some(s) = state.assets.sessions.get(session_id) else { return unauthorised("names no upload session") };
    // The request that leaves every asked-for hash uploaded gets the completion token, in
    // whatever order the buckets came (§A.3). INFERRED: so does a repeat of it (a retry after
    // a lost answer), or a retrying client could never finish.
    if s.requested.is_subset(&s.uploaded) {
        let jwt = state.assets.token(session_id, "completion", &script, now() + TOKEN_LIFETIME_SECS);
        return (201, envelope::ok(json!({ "jwt": jwt })));
    }
    (202, envelope::ok(json!({})))
}

fn token_subject(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["sub"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// wrangler's hash (§A.5), written again here: BLAKE3 of the standard base64 of the bytes
/// followed by Node's `extname` without the dot, first 16 bytes as hex.
pub fn wrangler_hash(bytes: &[u8], path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = match name.rfind('.') {
        _ if name == ".." => "",
        Some(0) | None => "",
        Some(i) => &name[i + 1..],
    };
    let mut h = blake3::Hasher::new();
    h.update(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
    h.update(ext.as_bytes());
    h.finalize().as_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// `assets` of a version (§A.8), for either upload API: the completion token redeemed for
/// `script`, the config's fields checked against the schema's enums; returns what the version
/// stores (the manifest and config, never the token).
pub fn version_assets(state: &State, script: &str, assets: &Value, classic: bool) -> Result<Value, Reply> {
    let Some(obj) = assets.as_object() else { return Err(envelope::bad_request("assets must be an object")) };
    let Some(jwt) = obj.get("jwt").and_then(Value::as_str) else {
        return Err(envelope::bad_request("assets.jwt is required: upload the assets first"));
    };
    // INFERRED (§G-9): 400 with the validation code for a token that is not a live completion
    // token of this Worker.
    let session = state.assets.redeem(jwt, script).map_err(|e| envelope::bad_request(&e))?;
    let config = obj.get("config").cloned().unwrap_or_else(|| json!({}));
    let Some(c) = config.as_object() else { return Err(envelope::bad_request("assets.config must be an object")) };
    for (k, v) in c {
        let ok = match k.as_str() {
            "html_handling" => v.as_str().is_some_and(|s| {
                ["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"].contains(&s)
            }),
            "not_found_handling" => {
                v.as_str().is_some_and(|s| ["none", "404-page", "single-page-application"].contains(&s))
            }
            "run_worker_first" => v.is_boolean() || v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "base_path" => v.is_string() || v.is_null(),
            // The classic upload carries the two files inside `config` (§A.8); the beta one as
            // modules.
            "_headers" | "_redirects" if classic => v.is_string(),
            _ => false,
        };
        if !ok {
            return Err(envelope::bad_request(&format!(
                "assets.config.{k} is not a valid value (or not a known field)"
            )));
        }
    }
    let manifest: serde_json::Map<String, Value> =
        session.manifest.iter().map(|(k, (h, s))| (k.clone(), json!({ "hash": h, "size": s }))).collect();
    Ok(json!({ "manifest": manifest, "config": config }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::routes::handle_as;

    fn body(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (hash, bytes) in parts {
            b.extend_from_slice(format!("--X\r\nContent-Disposition: form-data; name=\"{hash}\"; filename=\"{hash}\"\r\nContent-Type: text/html\r\n\r\n").as_bytes());
            b.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--X--\r\n");
        b
    }

    #[test]
    fn contract_vector() {
        assert_eq!(wrangler_hash(b"<h1>Hello</h1>\n", "/hello.html"), "569c49c876d9d1d37936e494e70a80e8");
        assert_eq!(wrangler_hash(b"abc", "/.bashrc"), "c67219c1e9271fde4f573e4a3a12a0e4");
    }

    #[test]
    fn a_completion_token_is_used_once() {
        let mut st = State::new(SimConfig::default());
        let h = wrangler_hash(b"<p>once</p>", "/index.html");
        let manifest = json!({ "manifest": { "/index.html": { "hash": h, "size": 11 } } });
        let session = "/workers/scripts/my-worker/assets-upload-session";
        let r = handle_as(&mut st, "POST", session, "", manifest.to_string().as_bytes(), None);
        let upload_jwt = r.1["result"]["jwt"].as_str().unwrap().to_owned();
        let r = handle_as(
            &mut st,
            "POST",
            "/workers/assets/upload",
            "base64=true",
            &body(&[(&h, b"<p>once</p>")]),
            Some(&upload_jwt),
        );
        assert_eq!(r.0, 201, "{}", r.1);
        let done = r.1["result"]["jwt"].as_str().unwrap().to_owned();
        let version = json!({ "compatibility_date": "2026-11-01", "assets": { "jwt": done } }).to_string();
        let path = "/workers/workers/my-worker/versions";
        let first = handle_as(&mut st, "POST", path, "", version.as_bytes(), None);
        assert_eq!(first.0, 200, "{}", first.1);
        let again = handle_as(&mut st, "POST", path, "", version.as_bytes(), None);
        assert_eq!(again.0, 400, "a second version with the same token: {}", again.1);
        assert!(again.1["errors"][0]["message"].as_str().unwrap().contains("already used"), "{}", again.1);
    }

    #[test]
    fn session_upload_completion_and_memory() {
        let mut st = State::new(SimConfig::default());
        let hello = wrangler_hash(b"<h1>Hello</h1>\n", "/index.html");
        let manifest = json!({ "manifest": { "/index.html": { "hash": hello, "size": 15 } } });
        let r = handle_as(
            &mut st,
            "POST",
            "/workers/scripts/site/assets-upload-session",
            "",
            manifest.to_string().as_bytes(),
            None,
        );
        assert_eq!(r.0, 200, "{}", r.1);
        assert_eq!(r.1["result"]["buckets"], json!([[hello]]));
        let upload_jwt = r.1["result"]["jwt"].as_str().unwrap().to_owned();
        // The API token, a tampered file, a wrong query: refused.
        let good = body(&[(&hello, b"<h1>Hello</h1>\n")]);
        let r = handle_as(&mut st, "POST", "/workers/assets/upload", "base64=true", &good, Some("api-token"));
        assert_eq!(r.0, 401);
        let tampered = body(&[(&hello, b"<h1>Hellp</h1>\n")]);
        let r = handle_as(&mut st, "POST", "/workers/assets/upload", "base64=true", &tampered, Some(&upload_jwt));
        assert_eq!(r.0, 400);
        assert!(r.1["errors"][0]["message"].as_str().unwrap().contains("do not hash"), "{}", r.1);
        let r = handle_as(&mut st, "POST", "/workers/assets/upload", "", &good, Some(&upload_jwt));
        assert_eq!(r.0, 400);
        let r = handle_as(&mut st, "POST", "/workers/assets/upload", "base64=true", &good, Some(&upload_jwt));
        assert_eq!(r.0, 201, "{}", r.1);
        let done = r.1["result"]["jwt"].as_str().unwrap().to_owned();
        // An upload token is no completion token, and a completion token only for its Worker.
        assert!(version_assets(&st, "site", &json!({ "jwt": upload_jwt }), false).is_err());
        assert!(version_assets(&st, "other", &json!({ "jwt": done }), false).is_err());
        let stored =
            version_assets(&st, "site", &json!({ "jwt": done, "config": { "html_handling": "none" } }), false).unwrap();
        assert_eq!(stored["manifest"]["/index.html"]["size"], 15);
        let bad = json!({ "jwt": done, "config": { "not_found_handling": "spa" } });
        assert!(version_assets(&st, "site", &bad, false).is_err());
        let expired = st.assets.token(&token_subject(&done), "completion", "site", now() - 1);
        assert!(version_assets(&st, "site", &json!({ "jwt": expired }), false).is_err());
        // A second session for the same files asks for nothing; its token completes.
        let r = handle_as(
            &mut st,
            "POST",
            "/workers/scripts/site/assets-upload-session",
            "",
            manifest.to_string().as_bytes(),
            None,
        );
        assert_eq!(r.1["result"]["buckets"], json!([]));
        let jwt = r.1["result"]["jwt"].as_str().unwrap();
        assert!(version_assets(&st, "site", &json!({ "jwt": jwt }), false).is_ok());
    }

    #[test]
    fn buckets_are_greedy_and_bounded() {
        let mut st = State::new(SimConfig::default());
        let mut m = serde_json::Map::new();
        for i in 0..5_001 {
            m.insert(format!("/f{i}"), json!({ "hash": format!("{i:032x}"), "size": 1 }));
        }
        m.insert("/big1".into(), json!({ "hash": "a".repeat(32), "size": 26_000_000 }));
        m.insert("/big2".into(), json!({ "hash": "b".repeat(32), "size": 26_000_000 }));
        let body = json!({ "manifest": m }).to_string();
        let r = handle_as(&mut st, "POST", "/workers/scripts/site/assets-upload-session", "", body.as_bytes(), None);
        let buckets = r.1["result"]["buckets"].as_array().unwrap();
        assert!(buckets.iter().all(|b| b.as_array().unwrap().len() <= 5_000));
        assert_eq!(buckets.iter().map(|b| b.as_array().unwrap().len()).sum::<usize>(), 5_003);
        let over = json!({ "manifest": { "/x": { "hash": "c".repeat(32), "size": MAX_ASSET_SIZE + 1 } } }).to_string();
        let r = handle_as(&mut st, "POST", "/workers/scripts/site/assets-upload-session", "", over.as_bytes(), None);
        assert_eq!(r.0, 400);
    }
}

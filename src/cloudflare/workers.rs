//! Workers beta API: Workers and their immutable Versions (`/workers/workers`).

use std::path::PathBuf;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::path;
use super::{ApiError, Client, Page, VersionId, WorkerId, WorkerName, WorkerRef};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Worker {
    pub id: WorkerId,
    pub name: WorkerName,
    pub created_on: Option<String>,
    pub deployed_on: Option<String>,
    pub subdomain: Option<WorkerSubdomain>,
    /// What every new Preview deployment is laid over (docs/cloudflare-api.md §B.8); secret
    /// values are never in it.
    pub previews_base_config: Option<Value>,
}

impl Worker {
    /// The names of the bindings the previews base config gives every Preview deployment.
    pub(crate) fn base_config_bindings(&self) -> Vec<(String, String)> {
        let env = self.previews_base_config.as_ref().and_then(|c| c.get("env")).and_then(Value::as_object);
        env.into_iter()
            .flatten()
            .map(|(n, b)| (n.clone(), b.get("type").and_then(Value::as_str).unwrap_or_default().to_owned()))
            .collect()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WorkerSubdomain {
    pub enabled: Option<bool>,
    pub previews_enabled: Option<bool>,
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Version {
    pub id: VersionId,
    pub number: Option<u64>,
    pub created_on: Option<String>,
    pub urls: Vec<String>,
    pub annotations: Option<serde_json::Map<String, Value>>,
    pub source: Option<String>,
    pub main_module: Option<String>,
    pub modules: Option<Vec<Value>>,
    /// Secret values are never returned, only their name and type.
    pub bindings: Option<Vec<Value>>,
    /// The versioned settings (docs/cloudflare-api.md §4.2): a new version that does not
    /// restate them has none, so they are read to be carried over or reported.
    pub placement: Option<Value>,
    pub limits: Option<Value>,
    pub cache_options: Option<Value>,
    pub containers: Option<Value>,
    /// Static assets: present when the version serves some (§A.8). Only their presence is
    /// used: they cannot be carried to a new version without the files.
    pub assets: Option<Value>,
}

impl Version {
    pub(crate) fn created_at(&self) -> Option<jiff::Timestamp> {
        self.created_on.as_deref()?.parse().ok()
    }

    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key)?.as_str()
    }
}

/// Whether a Worker serves on workers.dev, and its versions on preview URLs. Always sent on
/// create: without it the server's default is undocumented (docs/cloudflare-api.md Correction 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SubdomainFlags {
    pub enabled: bool,
    pub previews_enabled: bool,
}

/// The dated behaviour of the subdomain endpoint wrangler asks for (docs/cloudflare-api.md §C.7).
const SUBDOMAIN_API_DATE: &str = "2025-08-01";

#[derive(Serialize)]
struct NewWorker<'a> {
    name: &'a WorkerName,
    subdomain: SubdomainFlags,
}

#[derive(Debug, Serialize)]
struct ListWorkers {
    page: u32,
    per_page: u32,
}

#[derive(Debug, Serialize)]
struct ListVersions {
    page: u32,
    per_page: u32,
}

/// A version upload never deploys: a deploy is its own request (`deployments`), and migrations,
/// which need one at once, go through the classic upload (docs/cloudflare-api.md Correction 10).
#[derive(Debug, Serialize)]
struct CreateVersionQuery {
    deploy: bool,
}

/// The classic upload's query (docs/cloudflare-api.md Correction 10, as wrangler sends it): the
/// answer without the script's code, and an `inherit` binding that cannot be resolved refused
/// (10057) rather than dropped (§C.1).
#[derive(Debug, Serialize)]
struct PutScriptQuery {
    #[serde(rename = "excludeScript")]
    exclude_script: bool,
    bindings_inherit: &'static str,
}

/// The classic upload's answer (the script), as far as workers-ci reads it: `deployment_id`,
/// which wrangler takes for the new version's id (hyphenated or 32 bare hex); not in the SDK,
/// so optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ScriptUploaded {
    pub deployment_id: Option<String>,
}

impl ScriptUploaded {
    /// Whether `id` is the version this upload made, as far as the answer says.
    pub(crate) fn made(&self, id: &VersionId) -> bool {
        let bare = |s: &str| s.replace('-', "").to_ascii_lowercase();
        self.deployment_id.as_deref().is_none_or(|d| bare(d) == bare(id.as_str()))
    }
}

#[derive(Debug, Serialize)]
struct GetVersionQuery {
    /// `modules` is the only value the API knows; left out, the answer stays small.
    #[serde(skip_serializing_if = "Option::is_none")]
    include: Option<&'static str>,
}

impl Client {
    /// `Ok(None)` when the Worker does not exist (404, or code 10007).
    pub(crate) async fn get_worker(&self, worker: WorkerRef<'_>) -> Result<Option<Worker>, ApiError> {
        match self.get::<Worker, _>(&path(&["workers", "workers", worker.as_str()]), &()).await {
            Ok(p) => Ok(Some(p.result)),
            Err(e) if e.is_not_found() || e.has_code(10007) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a Worker. Sent once; callers reconcile with [`Client::get_worker`].
    pub(crate) async fn create_worker(&self, name: &WorkerName, subdomain: SubdomainFlags) -> Result<Worker, ApiError> {
        let path = path(&["workers", "workers"]);
        let body = NewWorker { name, subdomain };
        Ok(self.send_json::<Worker, _, _>(Method::POST, &path, &(), &body, None).await?.result)
    }

    /// The account's Workers, at most `pages` pages of 100: enough to suggest a name, not an
    /// inventory.
    pub(crate) async fn list_workers(&self, pages: u32) -> Result<Vec<Worker>, ApiError> {
        let path = path(&["workers", "workers"]);
        let mut all = Vec::new();
        for page in 1..=pages {
            let got = self.get::<Option<Vec<Worker>>, _>(&path, &ListWorkers { page, per_page: 100 }).await?;
            let items = got.result.unwrap_or_default();
            let n = items.len();
            all.extend(items);
            let total = got.result_info.and_then(|i| i.total_count).unwrap_or(0);
            if n < 100 || (total > 0 && all.len() as u64 >= total) {
                break;
            }
        }
        Ok(all)
    }

    /// The account's workers.dev subdomain (`GET /workers/subdomain`, docs/cloudflare-api.md §6);
    /// `None` when the account has not registered one (404, or 10007 as wrangler reads it,
    /// §6), where a Worker cannot be put on workers.dev (10063).
    pub(crate) async fn get_account_subdomain(&self) -> Result<Option<String>, ApiError> {
        #[derive(serde::Deserialize)]
        struct Account {
            subdomain: Option<String>,
        }
        match self.get::<Account, _>(&path(&["workers", "subdomain"]), &()).await {
            Ok(p) => Ok(p.result.subdomain.filter(|s| !s.is_empty())),
            Err(e) if e.is_not_found() || e.has_code(10007) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sets the Worker's workers.dev flags through the per-script endpoint (docs/cloudflare-api.md
    /// §C.7), with the API date wrangler sends there. It sets both flags, so it is retried; the
    /// answer is the state now.
    pub(crate) async fn set_subdomain(
        &self,
        script: &WorkerName,
        flags: SubdomainFlags,
    ) -> Result<SubdomainFlags, ApiError> {
        let path = path(&["workers", "scripts", script.as_str(), "subdomain"]);
        let date = ("Cloudflare-Workers-Script-Api-Date", SUBDOMAIN_API_DATE);
        Ok(self.set_json_with::<SubdomainFlags, _>(Method::POST, &path, &flags, date).await?.result)
    }

    /// Uploads a Version from a JSON body built by [`version_body`] (it may be tens of MiB, so
    /// it is encoded once, straight into this buffer). Sent once; callers reconcile with
    /// [`Client::list_versions`].
    pub(crate) async fn create_version(&self, worker: WorkerRef<'_>, body: bytes::Bytes) -> Result<Version, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "versions"]);
        let timeout = Some(std::time::Duration::from_secs(300));
        let query = CreateVersionQuery { deploy: false };
        Ok(self.send_encoded_json::<Version, _>(Method::POST, &path, &query, body, timeout).await?.result)
    }

    /// The classic non-versioned upload, `PUT /workers/scripts/{name}` with a multipart body built
    /// by [`script_body`]: the one way wrangler applies Durable Object migrations, and it deploys
    /// the new version at 100 % (docs/cloudflare-api.md Correction 10). Sent once; callers
    /// reconcile with [`Client::list_versions`].
    pub(crate) async fn put_script(
        &self,
        script: &WorkerName,
        boundary: &str,
        body: bytes::Bytes,
    ) -> Result<ScriptUploaded, ApiError> {
        let path = path(&["workers", "scripts", script.as_str()]);
        let timeout = Some(std::time::Duration::from_secs(300));
        let query = PutScriptQuery { exclude_script: true, bindings_inherit: "strict" };
        let content_type = format!("multipart/form-data; boundary={boundary}");
        Ok(self
            .send_encoded::<ScriptUploaded, _>(Method::PUT, &path, &query, &content_type, body, timeout)
            .await?
            .result)
    }

    /// One page of the Worker's versions; the order is undocumented (see `flows::pages`).
    pub(crate) async fn list_versions(
        &self,
        worker: WorkerRef<'_>,
        page: u32,
        per_page: u32,
    ) -> Result<Page<Vec<Version>>, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "versions"]);
        let query = ListVersions { page, per_page };
        let p = self.get::<Option<Vec<Version>>, _>(&path, &query).await?;
        Ok(Page { result: p.result.unwrap_or_default(), result_info: p.result_info })
    }

    /// The API also takes a UUID prefix or `latest` here; nothing in workers-ci needs those, so
    /// only a full id is accepted.
    /// The Worker's latest version (`versions/latest`, docs/cloudflare-api.md §C.1),
    /// whatever order the lists use. A Worker without versions answers 404 (as does a wrong
    /// path): the caller tells the two apart.
    pub(crate) async fn get_latest_version(&self, worker: WorkerRef<'_>) -> Result<Version, ApiError> {
        let path = path(&["workers", "workers", worker.as_str(), "versions", "latest"]);
        Ok(self.get::<Version, _>(&path, &GetVersionQuery { include: None }).await?.result)
    }
}

/// The Version's fields other than its modules.
#[derive(Debug, Serialize)]
pub(crate) struct VersionMeta<'a> {
    /// `None`: an assets-only Worker, without code (docs/cloudflare-api.md §A.8, §G-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_module: Option<&'a str>,
    pub compatibility_date: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub compatibility_flags: &'a [String],
    pub bindings: &'a [Value],
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub annotations: serde_json::Map<String, Value>,
    /// One of the `placement` shapes of docs/cloudflare-api.md §C.3, as the configuration chose it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<&'a Value>,
    /// `limits` (§C.4), as the configuration wrote it or as the latest version had it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<&'a Value>,
    /// `cache_options` (§4.2, from the configuration's `cache`, §D.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_options: Option<&'a Value>,
    /// `containers` (§4.2): only ever carried over from the latest version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<&'a Migrations>,
    /// Declarative exports (docs/cloudflare-api.md §H.10); with a Durable Object entry, only
    /// on the classic upload, which deploys at 100 %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exports: Option<&'a Exports>,
    /// The completion token of an assets upload and how they are served (docs/cloudflare-api.md
    /// §A.8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assets: Option<VersionAssets<'a>>,
}

/// A version's limits (docs/cloudflare-api.md §C.4): versioned, unlike the Worker's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Limits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subrequests: Option<u64>,
}

/// Durable Object migrations in the multi-step form wrangler always sends (docs/cloudflare-api.md
/// §C.2): `old_tag` must match the Worker's applied tag, `new_tag` becomes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Migrations {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_tag: Option<String>,
    pub new_tag: String,
    /// Each step as the configuration wrote it, less its `tag` (`new_classes`,
    /// `new_sqlite_classes`, `deleted_classes`, `renamed_classes`, `transferred_classes`).
    pub steps: Vec<Value>,
}

/// Declarative exports, export name → what it declares (docs/cloudflare-api.md §H.10), in the
/// upload metadata's `snake_case` shape. A `BTreeMap`: the API keys them by name, so the order
/// carries nothing and the bytes stay the same from run to run.
pub(crate) type Exports = std::collections::BTreeMap<String, Export>;

/// One entry of `exports`: the types Cloudflare's schema lists (docs/cloudflare-api.md §H.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(crate) enum Export {
    /// A named `WorkerEntrypoint`: no lifecycle, so it does not need the classic upload.
    Worker {
        #[serde(skip_serializing_if = "Option::is_none")]
        cache: Option<EntrypointCache>,
    },
    /// A Durable Object class's lifecycle: any such entry forces the classic upload.
    DurableObject(DurableObjectExport),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct EntrypointCache {
    pub enabled: bool,
}

/// A Durable Object export. `state` absent is `created` (live), as `cf` sends it; the reader
/// guarantees each state has exactly the fields it takes (§H.10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct DurableObjectExport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<DurableObjectState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<DurableObjectStorage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferred_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_from: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DurableObjectState {
    Deleted,
    Renamed,
    Transferred,
    ExpectingTransfer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DurableObjectStorage {
    Sqlite,
    LegacyKv,
}

/// Whether `live`, the exports as the API shows a Worker's, are `ours`: compared as JSON, with
/// `state: "created"` taken for no `state`, as `cf` sends it (docs/cloudflare-api.md §H.10). A
/// difference in shape only (a default the API adds) counts as a change: the safe reading, since
/// a version upload then is refused before anything is sent.
pub(crate) fn same_exports(ours: &Exports, live: &Value) -> bool {
    let normal = |v: Value| -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, mut e)| {
                        if e.get("state").and_then(Value::as_str) == Some("created")
                            && let Some(o) = e.as_object_mut()
                        {
                            o.remove("state");
                        }
                        (k, e)
                    })
                    .collect(),
            ),
            other => other,
        }
    };
    serde_json::to_value(ours).is_ok_and(|o| normal(o) == normal(live.clone()))
}

/// Whether `exports` declares a Durable Object lifecycle: then only the classic upload may
/// carry it (docs/cloudflare-api.md §H.10).
pub(crate) fn has_durable_objects(exports: &Exports) -> bool {
    exports.values().any(|e| matches!(e, Export::DurableObject(_)))
}

/// `assets` of a Version: `config` holds only the fields set, so Cloudflare's defaults apply
/// to the rest.
#[derive(Debug, Serialize)]
pub(crate) struct VersionAssets<'a> {
    pub jwt: &'a super::assets::AssetsJwt,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub config: serde_json::Map<String, Value>,
}

/// A module to upload, read from disk while the body is encoded.
#[derive(Debug)]
pub(crate) struct ModuleSource<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub path: &'a std::path::Path,
    pub size: u64,
}

/// A Version body could not be built. Both causes are local (the API was never asked), so the
/// caller can report them as such, naming the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VersionBodyError {
    #[error("could not read module file {}", path.display())]
    ModuleRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not expected (the metadata is strings and JSON values), but not worth a panic.
    #[error("could not encode the version metadata")]
    Encode(#[source] serde_json::Error),
    /// A module holds the multipart boundary: encode again with another.
    #[error("a module contains the multipart boundary")]
    Boundary,
}

/// Builds the multipart body of the classic upload (docs/cloudflare-api.md Correction 10): a
/// `metadata` part (JSON) and one part per module, named (and with the file name) after the
/// module, of its content type, its bytes as they are. Names escape `"`, CR and LF as
/// `multipart/form-data` does (%22, %0D, %0A).
pub(crate) fn script_body<M: Serialize>(
    meta: &M,
    modules: &[ModuleSource<'_>],
    boundary: &str,
) -> Result<Vec<u8>, VersionBodyError> {
    let delimiter = format!("--{boundary}");
    let escape = |n: &str| n.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A");
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "{delimiter}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    serde_json::to_writer(&mut body, meta).map_err(VersionBodyError::Encode)?;
    for m in modules {
        let content =
            std::fs::read(m.path).map_err(|source| VersionBodyError::ModuleRead { path: m.path.to_owned(), source })?;
        if content.windows(delimiter.len()).any(|w| w == delimiter.as_bytes()) {
            return Err(VersionBodyError::Boundary);
        }
        let name = escape(m.name);
        body.extend_from_slice(
            format!(
                "\r\n{delimiter}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: {}\r\n\r\n",
                m.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(&content);
    }
    body.extend_from_slice(format!("\r\n{delimiter}--\r\n").as_bytes());
    Ok(body)
}

/// Builds the JSON body of a Version upload (or of a Preview deployment, which takes code the
/// same way: docs/cloudflare-api.md §B.1); `meta` is every field but `modules`, and has
/// `main_module`. Module files are base64-encoded straight from the file into a buffer sized up
/// front, so a module costs its encoded size once (4/3 of it) and no intermediate copies: a 25 MiB
/// Worker stays well under 4× its size in memory.
pub(crate) fn version_body<M: Serialize>(meta: &M, modules: &[ModuleSource<'_>]) -> Result<Vec<u8>, VersionBodyError> {
    let mut head = serde_json::to_vec(meta).map_err(VersionBodyError::Encode)?;
    // `{…}` → `{…` so the modules array can follow; `compatibility_date` makes `…` non-empty.
    head.pop();
    let encoded = |n: u64| 4 * n.div_ceil(3) as usize;
    let capacity = head.len()
        + 16
        + modules.iter().map(|m| 64 + 2 * m.name.len() + m.content_type.len() + encoded(m.size)).sum::<usize>();
    let mut body = Vec::with_capacity(capacity);
    body.extend_from_slice(&head);
    body.extend_from_slice(b",\"modules\":[");
    for (i, m) in modules.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{\"name\":");
        serde_json::to_writer(&mut body, m.name).map_err(VersionBodyError::Encode)?;
        body.extend_from_slice(b",\"content_type\":");
        serde_json::to_writer(&mut body, m.content_type).map_err(VersionBodyError::Encode)?;
        body.extend_from_slice(b",\"content_base64\":\"");
        // Writing into a Vec cannot fail, so every I/O error here is the module file's.
        let read = |source| VersionBodyError::ModuleRead { path: m.path.to_owned(), source };
        let mut file = std::fs::File::open(m.path).map_err(read)?;
        {
            let mut encoder = base64::write::EncoderWriter::new(&mut body, &base64::engine::general_purpose::STANDARD);
            std::io::copy(&mut file, &mut encoder).map_err(read)?;
            encoder.finish().map_err(read)?;
        }
        body.extend_from_slice(b"\"}");
    }
    body.extend_from_slice(b"]}");
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn body_is_valid_json_and_round_trips_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..=255u8).cycle().take(10_001).collect();
        let p1 = dir.path().join("a.wasm");
        std::fs::write(&p1, &bytes).unwrap();
        let p2 = dir.path().join("index.js");
        std::fs::write(&p2, "export default {}\n").unwrap();
        let flags = vec!["nodejs_compat".to_owned()];
        let bindings = vec![serde_json::json!({"type":"plain_text","name":"A","text":"\"quoted\""})];
        let mut annotations = serde_json::Map::new();
        annotations.insert("workers/message".into(), "hi \"there\"".into());
        let meta = VersionMeta {
            main_module: Some("index.js"),
            compatibility_date: "2026-11-01",
            compatibility_flags: &flags,
            bindings: &bindings,
            annotations,
            placement: None,
            limits: None,
            cache_options: None,
            containers: None,
            migrations: None,
            exports: None,
            assets: None,
        };
        let modules = [
            ModuleSource { name: "a.wasm", content_type: "application/wasm", path: &p1, size: bytes.len() as u64 },
            ModuleSource { name: "index.js", content_type: "application/javascript+module", path: &p2, size: 18 },
        ];
        let body = version_body(&meta, &modules).unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["main_module"], "index.js");
        assert_eq!(v["compatibility_flags"][0], "nodejs_compat");
        assert_eq!(v["annotations"]["workers/message"], "hi \"there\"");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(v["modules"][0]["content_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(decoded, bytes);
        assert_eq!(v["modules"][1]["content_type"], "application/javascript+module");
        assert!(body.capacity() - body.len() < 1024, "sized up front, no doubling");
    }

    #[test]
    fn unreadable_module_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone.js");
        let meta = VersionMeta {
            main_module: Some("gone.js"),
            compatibility_date: "2026-11-01",
            compatibility_flags: &[],
            bindings: &[],
            annotations: serde_json::Map::new(),
            placement: None,
            limits: None,
            cache_options: None,
            containers: None,
            migrations: None,
            exports: None,
            assets: None,
        };
        let modules = [ModuleSource { name: "gone.js", content_type: "text/javascript", path: &missing, size: 1 }];
        let err = version_body(&meta, &modules).unwrap_err();
        assert!(matches!(&err, VersionBodyError::ModuleRead { path, source }
            if *path == missing && source.kind() == std::io::ErrorKind::NotFound));
        assert!(err.to_string().contains("gone.js"), "{err}");
    }

    /// The live exports match ours only when they say the same, `state: "created"` being no
    /// `state`; any other difference, shape included, is a change (a version upload then stops).
    #[test]
    fn live_exports_are_ours_only_when_they_say_the_same() {
        let mut ours = Exports::new();
        ours.insert(
            "Room".into(),
            Export::DurableObject(DurableObjectExport {
                state: None,
                storage: Some(DurableObjectStorage::Sqlite),
                renamed_to: None,
                transferred_to: None,
                transfer_from: None,
            }),
        );
        let same = serde_json::json!({ "Room": { "type": "durable-object", "storage": "sqlite" } });
        let created =
            serde_json::json!({ "Room": { "type": "durable-object", "state": "created", "storage": "sqlite" } });
        let kv = serde_json::json!({ "Room": { "type": "durable-object", "storage": "legacy-kv" } });
        let more = serde_json::json!({
            "Room": { "type": "durable-object", "storage": "sqlite" },
            "Lobby": { "type": "durable-object", "storage": "sqlite" }
        });
        assert!(same_exports(&ours, &same));
        assert!(same_exports(&ours, &created));
        assert!(!same_exports(&ours, &kv));
        assert!(!same_exports(&ours, &more));
        assert!(!same_exports(&ours, &serde_json::json!([])));
    }

    #[test]
    fn exports_take_the_metadata_shape() {
        let mut e = Exports::new();
        e.insert(
            "Room".into(),
            Export::DurableObject(DurableObjectExport {
                state: None,
                storage: Some(DurableObjectStorage::Sqlite),
                renamed_to: None,
                transferred_to: None,
                transfer_from: None,
            }),
        );
        e.insert(
            "Old".into(),
            Export::DurableObject(DurableObjectExport {
                state: Some(DurableObjectState::Renamed),
                storage: None,
                renamed_to: Some("Room".into()),
                transferred_to: None,
                transfer_from: None,
            }),
        );
        e.insert("Api".into(), Export::Worker { cache: Some(EntrypointCache { enabled: true }) });
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({
                "Api": {"type": "worker", "cache": {"enabled": true}},
                "Old": {"type": "durable-object", "state": "renamed", "renamed_to": "Room"},
                "Room": {"type": "durable-object", "storage": "sqlite"},
            })
        );
        assert!(has_durable_objects(&e));
        e.retain(|_, v| matches!(v, Export::Worker { .. }));
        assert!(!has_durable_objects(&e));
    }

    #[test]
    fn queries() {
        use crate::cloudflare::client::tests::query_of;
        assert_eq!(query_of(&ListVersions { page: 1, per_page: 10 }).as_deref(), Some("page=1&per_page=10"));
        assert_eq!(query_of(&CreateVersionQuery { deploy: false }).as_deref(), Some("deploy=false"));
        assert_eq!(query_of(&GetVersionQuery { include: None }), None);
        assert_eq!(query_of(&GetVersionQuery { include: Some("modules") }).as_deref(), Some("include=modules"));
    }
}

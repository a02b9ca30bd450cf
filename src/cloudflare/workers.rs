//! Workers beta API: Workers and their immutable Versions (`/workers/workers`).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiError, Client};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Worker {
    pub id: String,
    pub name: String,
    pub created_on: Option<String>,
    pub deployed_on: Option<String>,
    pub subdomain: Option<WorkerSubdomain>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct WorkerSubdomain {
    pub enabled: Option<bool>,
    pub previews_enabled: Option<bool>,
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Version {
    pub id: String,
    pub number: Option<u64>,
    pub created_on: Option<String>,
    pub urls: Vec<String>,
    pub annotations: Option<serde_json::Map<String, Value>>,
    pub source: Option<String>,
    pub main_module: Option<String>,
    pub modules: Option<Vec<Value>>,
}

impl Version {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key)?.as_str()
    }
}

#[derive(Serialize)]
struct NewWorker<'a> {
    name: &'a str,
}

/// Worker ids and names both go in the path; neither needs escaping (validated earlier), but
/// nothing here relies on that.
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

impl Client {
    /// `Ok(None)` when the Worker does not exist (404, or code 10007).
    pub async fn get_worker(&self, id_or_name: &str) -> Result<Option<Worker>, ApiError> {
        match self.get::<Worker>(&format!("/workers/workers/{}", seg(id_or_name)), &[]).await {
            Ok(p) => Ok(Some(p.result)),
            Err(e) if e.is_not_found() || e.has_code(10007) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a Worker. Sent once; callers reconcile with [`Client::get_worker`].
    pub async fn create_worker(&self, name: &str) -> Result<Worker, ApiError> {
        let body = serde_json::to_vec(&NewWorker { name }).expect("serialising a plain struct");
        Ok(self.send::<Worker>(Method::POST, "/workers/workers", &[], Some(body.into()), None).await?.result)
    }

    /// Uploads a Version from a JSON body built by the caller (it may be tens of MiB, so it is
    /// encoded once, straight into this buffer). Sent once; callers reconcile with
    /// [`Client::list_versions`].
    pub async fn create_version(&self, worker: &str, body: bytes::Bytes, deploy: bool) -> Result<Version, ApiError> {
        let q = [("deploy", deploy.to_string())];
        let path = format!("/workers/workers/{}/versions", seg(worker));
        Ok(self
            .send::<Version>(Method::POST, &path, &q, Some(body), Some(std::time::Duration::from_secs(300)))
            .await?
            .result)
    }

    /// Newest first.
    pub async fn list_versions(&self, worker: &str, per_page: u32) -> Result<Vec<Version>, ApiError> {
        let q = [("page", "1".to_owned()), ("per_page", per_page.to_string())];
        Ok(self
            .get::<Option<Vec<Version>>>(&format!("/workers/workers/{}/versions", seg(worker)), &q)
            .await?
            .result
            .unwrap_or_default())
    }

    /// `version` may be a UUID, a prefix of at least 8 characters, or `latest`.
    pub async fn get_version(&self, worker: &str, version: &str, with_modules: bool) -> Result<Version, ApiError> {
        let q: Vec<(&str, String)> = if with_modules { vec![("include", "modules".into())] } else { vec![] };
        Ok(self
            .get::<Version>(&format!("/workers/workers/{}/versions/{}", seg(worker), seg(version)), &q)
            .await?
            .result)
    }
}

/// The Version's fields other than its modules.
#[derive(Debug, Serialize)]
pub struct VersionMeta<'a> {
    pub main_module: &'a str,
    pub compatibility_date: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub compatibility_flags: &'a [String],
    pub bindings: &'a [Value],
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub annotations: serde_json::Map<String, Value>,
}

/// A module to upload, read from disk while the body is encoded.
#[derive(Debug)]
pub struct ModuleSource<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub path: &'a std::path::Path,
    pub size: u64,
}

/// Why an upload body could not be built. Both are local faults, not Cloudflare's: reported as
/// such, never retried as if the API had failed.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// A module file could not be read (deleted since the directory was scanned, say).
    #[error("could not read module `{module}` ({})", path.display())]
    Module {
        module: String,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not encode the version's metadata")]
    Meta(#[source] serde_json::Error),
}

/// Builds the JSON body of a Version upload. Module files are base64-encoded straight from the
/// file into a buffer sized up front, so a module costs its encoded size once (4/3 of it) and
/// no intermediate copies: a 25 MiB Worker stays well under 4× its size in memory.
pub fn version_body(meta: &VersionMeta<'_>, modules: &[ModuleSource<'_>]) -> Result<Vec<u8>, BodyError> {
    let mut head = serde_json::to_vec(meta).map_err(BodyError::Meta)?;
    // `{…}` → `{…` so the modules array can follow; `main_module` makes `…` non-empty.
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
        serde_json::to_writer(&mut body, m.name).map_err(BodyError::Meta)?;
        body.extend_from_slice(b",\"content_type\":");
        serde_json::to_writer(&mut body, m.content_type).map_err(BodyError::Meta)?;
        body.extend_from_slice(b",\"content_base64\":\"");
        append_base64(&mut body, m.path).map_err(|source| BodyError::Module {
            module: m.name.to_owned(),
            path: m.path.to_path_buf(),
            source,
        })?;
        body.extend_from_slice(b"\"}");
    }
    body.extend_from_slice(b"]}");
    Ok(body)
}

fn append_base64(body: &mut Vec<u8>, path: &std::path::Path) -> std::io::Result<()> {
    let mut file = std::fs::File::open(path)?;
    let mut encoder = base64::write::EncoderWriter::new(body, &base64::engine::general_purpose::STANDARD);
    std::io::copy(&mut file, &mut encoder)?;
    encoder.finish()?;
    Ok(())
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
            main_module: "index.js",
            compatibility_date: "2026-11-01",
            compatibility_flags: &flags,
            bindings: &bindings,
            annotations,
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
}

//! Static assets upload (docs/cloudflare-api.md §A.1–§A.3): an upload session for a Worker's
//! manifest, then the buckets of files the session asks for, authorised by the session's own
//! token rather than the API token.

use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::path;
use super::{ApiError, Client, WorkerName};

/// A token Cloudflare issues for one assets upload. It is a credential (anyone holding it can
/// upload to, or attach assets to, the Worker for an hour), so it has no `Display` and its
/// `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub(crate) struct AssetsJwt(String);

impl AssetsJwt {
    /// The token itself, only for the request that sends it and for masking.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// How the upload token asks for the files to be sent, read from its payload as wrangler
    /// reads it, without verifying it (docs/cloudflare-api.md §A.4): per file when
    /// `wrangler_single_asset_uploads` is `true`, with `edge_kv_upload_concurrency` requests
    /// at once. A token that cannot be read asks for nothing: buckets.
    pub(crate) fn upload_mode(&self) -> UploadMode {
        use base64::Engine as _;
        let claims: serde_json::Value = self
            .0
            .split('.')
            .nth(1)
            .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        if claims["wrangler_single_asset_uploads"] != serde_json::Value::Bool(true) {
            return UploadMode::Buckets;
        }
        // wrangler's default is 50; a value that is not a positive count keeps it.
        let asked = claims["edge_kv_upload_concurrency"].as_f64().filter(|n| n.is_finite() && *n >= 1.0);
        UploadMode::PerFile { concurrency: asked.map_or(50, |n| n.min(50.0) as usize) }
    }
}

/// How an upload session wants its files (docs/cloudflare-api.md §A.3, §A.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UploadMode {
    /// The session's buckets, as multipart bodies of base64 parts (the default).
    Buckets,
    /// One request per file, its raw bytes, at most `concurrency` at once (at most 50: wrangler's
    /// default, and a token's larger number is not taken on trust).
    PerFile { concurrency: usize },
}

impl fmt::Debug for AssetsJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AssetsJwt(***)")
    }
}

impl Serialize for AssetsJwt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// One manifest entry: `hash` is 32 hex characters, `size` the file's bytes (§A.2).
#[derive(Debug, Serialize)]
pub(crate) struct ManifestEntry {
    pub hash: String,
    pub size: u64,
}

/// The manifest as a JSON object keyed by URL path, in the caller's order.
pub(crate) struct Manifest(pub Vec<(String, ManifestEntry)>);

impl Serialize for Manifest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct SessionRequest<'a> {
    manifest: &'a Manifest,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadSession {
    /// The upload token; already the completion token when `buckets` is empty (§A.1).
    pub jwt: AssetsJwt,
    /// The hashes to upload, grouped as Cloudflare wants them sent: one request per bucket.
    #[serde(default)]
    pub buckets: Vec<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct UploadAnswer {
    /// Present only on the request that completed the set (201); 202 answers `{}` (§A.3).
    #[serde(default)]
    jwt: Option<AssetsJwt>,
}

#[derive(Serialize)]
struct UploadQuery {
    base64: bool,
}

impl Client {
    /// Opens an upload session for `script`'s manifest. A new session replaces nothing and
    /// uploads nothing, so it is retried like a read (as wrangler 4.164 does, §A.2).
    pub(crate) async fn create_assets_upload_session(
        &self,
        script: &WorkerName,
        manifest: &Manifest,
    ) -> Result<UploadSession, ApiError> {
        let path = path(&["workers", "scripts", script.as_str(), "assets-upload-session"]);
        let page = self.set_json::<Option<UploadSession>, _>(Method::POST, &path, &SessionRequest { manifest }).await?;
        // The endpoint has been seen answering `result: null` (workers-sdk#9465, §A.2).
        match page.result {
            Some(s) if !s.jwt.0.is_empty() => Ok(s),
            _ => Err(ApiError::Malformed {
                method: "POST".into(),
                endpoint: path.as_str().to_owned(),
                status: 200,
                detail: "the assets upload session came back without a token".into(),
            }),
        }
    }

    /// Uploads one file raw, in per-file mode (docs/cloudflare-api.md §A.4), with the session's
    /// token; `content_type` is what it is served with (`application/null`: none). Sent once:
    /// the caller retries (the same hash stores nothing new). `Some` is the completion token.
    pub(crate) async fn upload_asset(
        &self,
        jwt: &AssetsJwt,
        hash: &str,
        content_type: &str,
        body: bytes::Bytes,
    ) -> Result<Option<AssetsJwt>, ApiError> {
        let path = path(&["workers", "assets", "upload", hash]);
        let page = self
            .send_with_bearer::<Option<UploadAnswer>, _>(
                Method::POST,
                &path,
                &(),
                jwt.expose(),
                content_type,
                reqwest::Body::from(body),
            )
            .await?;
        Ok(page.result.and_then(|a| a.jwt).filter(|j| !j.0.is_empty()))
    }

    /// Uploads one bucket as `multipart/form-data` (framed by [`bucket_part_head`] and
    /// [`bucket_end`]) with the session's token. Sent once: the caller retries with a new
    /// body (a bucket carries the same hashes every time, so a repeat stores nothing new).
    /// `Some` is the completion token (§A.3).
    pub(crate) async fn upload_assets_bucket(
        &self,
        jwt: &AssetsJwt,
        body: BucketBody,
        boundary: &str,
    ) -> Result<Option<AssetsJwt>, ApiError> {
        let path = path(&["workers", "assets", "upload"]);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let page = self
            .send_with_bearer::<Option<UploadAnswer>, _>(
                Method::POST,
                &path,
                &UploadQuery { base64: true },
                jwt.expose(),
                &content_type,
                reqwest::Body::wrap(body),
            )
            .await?;
        Ok(page.result.and_then(|a| a.jwt).filter(|j| !j.0.is_empty()))
    }
}

/// A bucket's body, streamed: chunks arrive from a reader as the request takes them, and the
/// length is announced up front (base64 lengths follow from file sizes), so the request has
/// an exact `Content-Length` rather than chunked encoding. A chunk that is an error, or an
/// end before the announced length, aborts the request: the server never sees a whole body
/// that differs from what was announced.
pub(crate) struct BucketBody {
    chunks: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    left: u64,
}

impl BucketBody {
    pub(crate) fn new(chunks: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>, len: u64) -> BucketBody {
        BucketBody { chunks, left: len }
    }
}

impl http_body::Body for BucketBody {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>> {
        use std::task::Poll;
        match std::task::ready!(self.chunks.poll_recv(cx)) {
            Some(Ok(chunk)) => {
                self.left = self.left.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(e))),
            None if self.left > 0 => Poll::Ready(Some(Err(std::io::Error::other("the bucket body ended early")))),
            None => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

/// The text before one file of a bucket: field name and file name are the hash, the part's
/// type is what the asset is served with (`None`: `application/null`, "serve with no
/// Content-Type", §A.3). The part's body, the file's standard base64, follows, then
/// [`PART_END`]. base64 text has no CR or LF, so it can never contain the `\r\n--boundary`
/// delimiter.
pub(crate) fn bucket_part_head(boundary: &str, hash: &str, content_type: Option<&str>) -> Vec<u8> {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{hash}\"; filename=\"{hash}\"\r\nContent-Type: {}\r\n\r\n",
        content_type.unwrap_or("application/null")
    )
    .into_bytes()
}

/// Ends each part's body.
pub(crate) const PART_END: &[u8] = b"\r\n";

/// Closes a bucket body.
pub(crate) fn bucket_end(boundary: &str) -> Vec<u8> {
    format!("--{boundary}--\r\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §A.4: the claims wrangler reads, read the same way; anything unreadable means buckets.
    #[test]
    fn the_upload_mode_comes_from_the_tokens_claims() {
        use base64::Engine as _;
        let token = |claims: &str| {
            let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
            AssetsJwt(format!("eyJhbGciOiJIUzI1NiJ9.{p}.sig"))
        };
        assert_eq!(token(r#"{"exp":1}"#).upload_mode(), UploadMode::Buckets);
        assert_eq!(token(r#"{"wrangler_single_asset_uploads":false}"#).upload_mode(), UploadMode::Buckets);
        assert_eq!(
            token(r#"{"wrangler_single_asset_uploads":true}"#).upload_mode(),
            UploadMode::PerFile { concurrency: 50 },
            "wrangler's default"
        );
        let with = |n: &str| {
            token(&format!(r#"{{"wrangler_single_asset_uploads":true,"edge_kv_upload_concurrency":{n}}}"#))
                .upload_mode()
        };
        assert_eq!(with("4"), UploadMode::PerFile { concurrency: 4 });
        assert_eq!(with("500"), UploadMode::PerFile { concurrency: 50 }, "capped");
        assert_eq!(with("0"), UploadMode::PerFile { concurrency: 50 }, "not a count: the default");
        assert_eq!(with("\"8\""), UploadMode::PerFile { concurrency: 50 }, "not a number: the default");
        assert_eq!(AssetsJwt("not-a-jwt".into()).upload_mode(), UploadMode::Buckets);
    }

    #[test]
    fn bucket_body_shape() {
        let body = [
            bucket_part_head("B", "569c49c876d9d1d37936e494e70a80e8", None),
            b"YWJj".to_vec(),
            PART_END.to_vec(),
            bucket_end("B"),
        ]
        .concat();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--B\r\nContent-Disposition: form-data; name=\"569c49c876d9d1d37936e494e70a80e8\"; \
             filename=\"569c49c876d9d1d37936e494e70a80e8\"\r\nContent-Type: application/null\r\n\r\nYWJj\r\n--B--\r\n"
        );
    }

    #[test]
    fn tokens_never_show() {
        let j: AssetsJwt = serde_json::from_str("\"eyJ.secret.sig\"").unwrap();
        assert_eq!(format!("{j:?}"), "AssetsJwt(***)");
        let s: UploadSession = serde_json::from_str(r#"{"jwt":"eyJ.secret.sig","buckets":[["a"]]}"#).unwrap();
        assert!(!format!("{s:?}").contains("secret"));
        assert_eq!(serde_json::to_string(&j).unwrap(), "\"eyJ.secret.sig\"");
    }

    #[test]
    fn manifest_is_an_object_in_order() {
        let m = Manifest(vec![
            ("/b.html".into(), ManifestEntry { hash: "1".repeat(32), size: 3 }),
            ("/a.css".into(), ManifestEntry { hash: "2".repeat(32), size: 0 }),
        ]);
        let v = serde_json::to_string(&SessionRequest { manifest: &m }).unwrap();
        assert!(v.starts_with(r#"{"manifest":{"/b.html":{"hash":"111"#), "{v}");
    }
}

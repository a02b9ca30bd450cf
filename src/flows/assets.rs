//! Static assets for `version` (docs/cloudflare-api.md §A.1): open an upload session with the
//! manifest, upload the buckets Cloudflare asks for (three at a time, each retried on its
//! own), and hand back the completion token the version carries.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::assets::{AssetsError, Piece, Scan};
use crate::cloudflare::assets::{
    AssetsJwt, BucketBody, Manifest, ManifestEntry, PART_END, UploadMode, bucket_end, bucket_part_head,
};
use crate::cloudflare::{ApiError, WorkerName};
use crate::error::{Error, Result};

use super::{Area, Ctx, api_failure};

/// Buckets in flight at once, as wrangler's bulk mode (§A.6).
const CONCURRENCY: usize = 3;
/// Chunks of a bucket body read ahead of the connection: with three buckets in flight, at
/// most a few hundred KiB of file data is in memory at once, whatever the site's size.
const READ_AHEAD: usize = 2;
/// Attempts per bucket, and the gateway timeouts (524) forgiven on top of them (§A.6).
const MAX_ATTEMPTS: u32 = 5;
const MAX_GATEWAY_ERRORS: u32 = 5;

/// What the upload did, for the summary.
pub(crate) struct Uploaded {
    pub jwt: AssetsJwt,
    pub files: usize,
    pub uploaded_files: usize,
    pub uploaded_bytes: u64,
    pub seconds: f64,
}

impl Uploaded {
    /// The job summary's "Assets" cell, the same for a version and a Preview deployment.
    pub(crate) fn summary_cell(&self) -> String {
        format!(
            "{} files: {} uploaded, {} unchanged, {} bytes in {:.2}s",
            self.files,
            self.uploaded_files,
            self.files - self.uploaded_files,
            self.uploaded_bytes,
            self.seconds
        )
    }
}

/// Uploads what Cloudflare does not have yet and returns the completion token.
pub(crate) async fn upload(ctx: &Ctx, worker: &WorkerName, scan: &Scan) -> Result<Uploaded> {
    let started = Instant::now();
    let manifest = Manifest(
        scan.assets.iter().map(|a| (a.key.clone(), ManifestEntry { hash: a.hash_hex(), size: a.size })).collect(),
    );
    let session = ctx
        .client
        .create_assets_upload_session(worker, &manifest)
        .await
        .map_err(|e| api_failure(e, "open the assets upload session", Area::Workers))?;
    drop(manifest);
    let files = scan.assets.len();
    if session.buckets.is_empty() {
        // Everything is stored already: the session token is the completion token (§A.1).
        let seconds = started.elapsed().as_secs_f64();
        ctx.console.info(&format!(
            "Assets: {}, all unchanged (already on Cloudflare), nothing to upload ({seconds:.2}s).",
            crate::ci::plural(files, "file", "files")
        ));
        return Ok(Uploaded { jwt: session.jwt, files, uploaded_files: 0, uploaded_bytes: 0, seconds });
    }
    // The first file of each hash: same hash, same bytes (the hash covers content and
    // extension, §A.5).
    let mut by_hash: HashMap<String, usize> = HashMap::with_capacity(files);
    for (i, a) in scan.assets.iter().enumerate() {
        by_hash.entry(a.hash_hex()).or_insert(i);
    }
    let asked: HashSet<&str> = session.buckets.iter().flatten().map(String::as_str).collect();
    if let Some(unknown) = asked.iter().find(|h| !by_hash.contains_key(**h)) {
        return Err(Error::Refused(format!(
            "Cloudflare's assets upload session asked for a file hash that is not in the manifest ({unknown}); nothing was uploaded"
        )));
    }
    let uploaded_files = scan.assets.iter().filter(|a| asked.contains(a.hash_hex().as_str())).count();
    let (jwt, uploaded_bytes, mut lines) = match session.jwt.upload_mode() {
        UploadMode::Buckets => {
            let buckets = frame_buckets(scan, &session.buckets, &by_hash);
            drop(by_hash);
            send_all(ctx, &session.jwt, &buckets).await?
        }
        UploadMode::PerFile { concurrency } => {
            let mut seen = HashSet::new();
            let files: Vec<&crate::assets::Asset> = session
                .buckets
                .iter()
                .flatten()
                .filter(|h| seen.insert(h.as_str()))
                .map(|h| &scan.assets[by_hash[h]])
                .collect();
            send_files(ctx, &session.jwt, scan, &files, concurrency).await?
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let line = format!(
        "Assets: {}, {uploaded_files} uploaded, {} unchanged, {uploaded_bytes} bytes in {seconds:.2}s.",
        crate::ci::plural(files, "file", "files"),
        files - uploaded_files
    );
    ctx.console.info(&line);
    lines.push(line);
    ctx.summary(|s| s.code("Assets upload", lines));
    Ok(Uploaded { jwt, files, uploaded_files, uploaded_bytes, seconds })
}

/// Each bucket's body as pieces: the framing, and the files to read when it is sent (and
/// again if it is resent).
fn frame_buckets(scan: &Scan, asked: &[Vec<String>], by_hash: &HashMap<String, usize>) -> Vec<Bucket> {
    asked
        .iter()
        .map(|b| {
            let boundary = format!("workers-ci-{}", crate::random::hex(12));
            let mut pieces = Vec::with_capacity(2 * b.len() + 1);
            let mut raw = 0;
            for (n, h) in b.iter().enumerate() {
                let a = &scan.assets[by_hash[h]];
                let ct = crate::assets::content_type(&a.key);
                let head = bucket_part_head(&boundary, h, ct.as_deref());
                pieces.push(Piece::Text(if n == 0 { head } else { [PART_END, &head].concat() }));
                pieces.push(Piece::File { path: a.path(&scan.root), key: a.key.clone(), size: a.size, hash: a.hash });
                raw += a.size;
            }
            pieces.push(Piece::Text([PART_END, &bucket_end(&boundary)].concat()));
            Bucket { boundary, pieces: Arc::new(pieces), files: b.len(), raw }
        })
        .collect()
}

/// Sends every bucket, `CONCURRENCY` lanes each taking the next one not yet sent; returns the
/// completion token, the bytes sent and the progress lines.
async fn send_all(ctx: &Ctx, jwt: &AssetsJwt, buckets: &[Bucket]) -> Result<(AssetsJwt, u64, Vec<String>)> {
    let total = buckets.len();
    let next = AtomicUsize::new(0);
    let allowed = AtomicUsize::new(CONCURRENCY);
    let failed = AtomicBool::new(false);
    let completion: Mutex<Option<AssetsJwt>> = Mutex::new(None);
    let error: Mutex<Option<Error>> = Mutex::new(None);
    let bytes_sent = AtomicUsize::new(0);
    // The progress lines, for the job summary too.
    let progress: Mutex<Vec<String>> = Mutex::new(Vec::with_capacity(total + 1));
    let lane = |k: usize| {
        let (next, allowed, failed, completion, error, bytes_sent, progress) =
            (&next, &allowed, &failed, &completion, &error, &bytes_sent, &progress);
        async move {
            loop {
                // After a gateway timeout only the first lane goes on (§A.6).
                if failed.load(Ordering::Relaxed) || k >= allowed.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(bucket) = buckets.get(i) else { return };
                match send_bucket(ctx, jwt, bucket, allowed).await {
                    Ok((jwt, bytes, secs)) => {
                        bytes_sent.fetch_add(bytes as usize, Ordering::Relaxed);
                        let line = format!(
                            "Assets bucket {}/{total}: {}, {bytes} bytes in {secs:.2}s",
                            i + 1,
                            crate::ci::plural(bucket.files, "file", "files"),
                        );
                        ctx.console.info(&line);
                        progress.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
                        if let Some(j) = jwt {
                            *completion.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(j);
                        }
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(e);
                        return;
                    }
                }
            }
        }
    };
    tokio::join!(lane(0), lane(1), lane(2));
    // A lane stopped by a gateway timeout leaves its share to the first lane; if that one had
    // already finished, the rest is sent here, one at a time.
    lane(0).await;
    if let Some(e) = error.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Err(e);
    }
    let Some(jwt) = completion.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) else {
        return Err(Error::Refused(
            "every assets bucket was uploaded but Cloudflare returned no completion token; run the step again (uploaded files are kept)"
                .into(),
        ));
    };
    let lines = progress.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok((jwt, bytes_sent.into_inner() as u64, lines))
}

/// Bytes of files held in memory at once in per-file mode, whatever the lanes' number: each
/// file is read whole to be sent raw.
const PER_FILE_BYTES: u32 = 64 * 1024 * 1024;

/// Per-file mode (docs/cloudflare-api.md §A.4): each file raw in a request of its own,
/// `concurrency` at once (as the upload token asks, at most 50), at most [`PER_FILE_BYTES`] read
/// at once; each retried on its own as a bucket is. Returns the completion token, the bytes
/// sent and the progress lines.
async fn send_files(
    ctx: &Ctx,
    jwt: &AssetsJwt,
    scan: &Scan,
    files: &[&crate::assets::Asset],
    concurrency: usize,
) -> Result<(AssetsJwt, u64, Vec<String>)> {
    let lanes = concurrency.clamp(1, files.len().max(1));
    let line = format!(
        "Assets: the upload token asks for one request per file; sending {}, {lanes} at a time.",
        crate::ci::plural(files.len(), "file", "files")
    );
    ctx.console.info(&line);
    let memory = tokio::sync::Semaphore::new(PER_FILE_BYTES as usize);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let completion: Mutex<Option<AssetsJwt>> = Mutex::new(None);
    let error: Mutex<Option<Error>> = Mutex::new(None);
    let bytes_sent = AtomicUsize::new(0);
    let lane = || async {
        loop {
            if failed.load(Ordering::Relaxed) {
                return;
            }
            let Some(asset) = files.get(next.fetch_add(1, Ordering::Relaxed)) else { return };
            let need = u32::try_from(asset.size).unwrap_or(u32::MAX).clamp(1, PER_FILE_BYTES);
            let Ok(_held) = memory.acquire_many(need).await else { return };
            match send_file(ctx, jwt, scan, asset).await {
                Ok(j) => {
                    bytes_sent.fetch_add(asset.size as usize, Ordering::Relaxed);
                    if let Some(j) = j {
                        *completion.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(j);
                    }
                }
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    error.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_or_insert(e);
                    return;
                }
            }
        }
    };
    futures_util::future::join_all((0..lanes).map(|_| lane())).await;
    if let Some(e) = error.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        return Err(e);
    }
    let Some(jwt) = completion.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) else {
        return Err(Error::Refused(
            "every asset was uploaded but Cloudflare returned no completion token; run the step again (uploaded files are kept)"
                .into(),
        ));
    };
    Ok((jwt, bytes_sent.into_inner() as u64, vec![line]))
}

/// One file of per-file mode, read whole and checked against its manifest entry (a file that
/// changed since it was hashed is never sent), then sent until it succeeds or its attempts run
/// out, as a bucket is (§A.6).
async fn send_file(ctx: &Ctx, jwt: &AssetsJwt, scan: &Scan, asset: &crate::assets::Asset) -> Result<Option<AssetsJwt>> {
    let path = asset.path(&scan.root);
    let bytes = std::fs::read(&path)
        .map_err(|source| Error::Local { what: format!("could not read asset {}", path.display()), source })?;
    let hash = crate::assets::StreamHasher::new()
        .hash_reader(bytes.as_slice(), crate::assets::extension(&asset.key))
        .map_err(|source| Error::Local { what: format!("could not read asset {}", path.display()), source })?;
    if bytes.len() as u64 != asset.size || hash != asset.hash {
        return Err(Error::Local {
            what: AssetsError::Changed { key: asset.key.trim_start_matches('/').to_owned() }.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "its size or hash differs from the manifest"),
        });
    }
    let bytes = bytes::Bytes::from(bytes);
    let content_type = crate::assets::content_type(&asset.key);
    let content_type = content_type.as_deref().unwrap_or("application/null");
    let hex = asset.hash_hex();
    let mut attempt = 0u32;
    loop {
        let err = match ctx.client.upload_asset(jwt, &hex, content_type, bytes.clone()).await {
            Ok(j) => return Ok(j),
            Err(e) => e,
        };
        let planned = ctx.pace.of(Duration::from_secs(1 << attempt));
        let wait = err.retry_after().unwrap_or(planned);
        if !(err.is_retryable() || err.status() == Some(524)) || attempt >= MAX_ATTEMPTS - 1 || wait >= ctx.remaining()
        {
            return Err(api_failure(
                err,
                "upload an asset (files already uploaded are kept; running the step again resumes)",
                Area::Workers,
            ));
        }
        attempt += 1;
        ctx.console.info(&format!("Asset upload failed ({}); retrying in {:.1}s", short(&err), wait.as_secs_f64()));
        ctx.sleep(wait).await;
    }
}

/// One bucket's body: its framing and files, in order.
struct Bucket {
    boundary: String,
    pieces: Arc<Vec<Piece>>,
    files: usize,
    /// The files' bytes before base64 (what the progress line counts).
    raw: u64,
}

/// Sends a bucket until it succeeds or its attempts run out: wait `2^attempt` seconds
/// (scaled by the pace) or the server's Retry-After; a gateway timeout (524) drops the upload
/// to one lane and waits `2^n × 5` seconds without using an attempt (§A.6). Safe to repeat:
/// the same hashes, so nothing is stored twice. Each attempt streams a new body, reading the
/// files again; a file that changed since it was hashed stops the upload (never retried).
async fn send_bucket(
    ctx: &Ctx,
    jwt: &AssetsJwt,
    bucket: &Bucket,
    allowed: &AtomicUsize,
) -> Result<(Option<AssetsJwt>, u64, f64)> {
    let started = Instant::now();
    let raw = bucket.raw;
    let (mut attempt, mut gateway) = (0u32, 0u32);
    loop {
        let err = match send_bucket_once(ctx, jwt, bucket).await? {
            Ok(j) => return Ok((j, raw, started.elapsed().as_secs_f64())),
            Err(e) => e,
        };
        let wait = if err.status() == Some(524) && gateway < MAX_GATEWAY_ERRORS - 1 {
            gateway += 1;
            allowed.store(1, Ordering::Relaxed);
            ctx.pace.of(Duration::from_secs(5 << gateway))
        } else if err.is_retryable() && attempt < MAX_ATTEMPTS - 1 {
            let planned = ctx.pace.of(Duration::from_secs(1 << attempt));
            attempt += 1;
            err.retry_after().unwrap_or(planned)
        } else {
            return Err(bucket_failure(err));
        };
        if wait >= ctx.remaining() {
            return Err(bucket_failure(err));
        }
        ctx.console.info(&format!(
            "Assets bucket upload failed ({}); retrying in {:.1}s",
            short(&err),
            wait.as_secs_f64()
        ));
        ctx.sleep(wait).await;
    }
}

/// One attempt: a blocking reader encodes the files into a small channel while the request
/// sends what it has read. The outer error is local (a file unreadable or changed), the inner
/// one the API's.
async fn send_bucket_once(
    ctx: &Ctx,
    jwt: &AssetsJwt,
    bucket: &Bucket,
) -> Result<std::result::Result<Option<AssetsJwt>, ApiError>> {
    let pieces = Arc::clone(&bucket.pieces);
    let len = pieces.iter().map(Piece::encoded_len).sum();
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    let reader = tokio::task::spawn_blocking(move || {
        let result =
            crate::assets::encode_pieces(&pieces, &mut |chunk| tx.blocking_send(Ok(bytes::Bytes::from(chunk))).is_ok());
        if result.is_err() {
            // Aborts the request before the body is complete.
            let _ = tx.blocking_send(Err(std::io::Error::other("an asset could not be sent")));
        }
        result
    });
    let answer = ctx.client.upload_assets_bucket(jwt, BucketBody::new(rx, len), &bucket.boundary).await;
    // The request is over and its body dropped, so the reader has stopped or is about to.
    match reader.await.map_err(|e| Error::internal("the asset reader stopped", e))? {
        Err(AssetsError::Read { path, source }) => {
            Err(Error::Local { what: format!("could not read asset {}", path.display()), source })
        }
        Err(e) => Err(Error::Local {
            what: e.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "its size or hash differs from the manifest"),
        }),
        Ok(_) => Ok(answer),
    }
}

fn bucket_failure(err: ApiError) -> Error {
    api_failure(
        err,
        "upload a bucket of assets (files already uploaded are kept; running the step again resumes)",
        Area::Workers,
    )
}

/// Status and codes only: an API message is untrusted text and stays out of an info line.
fn short(err: &ApiError) -> String {
    match err.status() {
        Some(s) => format!("HTTP {s}"),
        None => "no answer".into(),
    }
}

//! A Worker's static assets on disk: which files are uploaded, under which manifest key, with
//! which content hash and content type, exactly as wrangler decides it
//! (docs/cloudflare-api.md §A.5, §A.7), and the limits Cloudflare enforces (§A.6), checked before
//! any request.
//!
//! Local files only: no HTTP, nothing of CI. Memory stays flat in the number of files: each
//! file costs its key, size and 16-byte hash, never its contents (files are streamed through
//! the hasher, and read again only when a bucket asks for them).

mod mime_table;

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;

/// Largest file Cloudflare serves as an asset: "Asset too large" above it (§A.6).
pub(crate) const MAX_ASSET_SIZE: u64 = 25 * 1024 * 1024;
/// Files per version on Workers Paid (§A.6); more is refused before any request.
pub(crate) const MAX_ASSET_COUNT: usize = 100_000;
/// Files per version on Workers Free (§A.6): more uploads only on a paid plan, so a warning.
pub(crate) const FREE_ASSET_COUNT: usize = 20_000;

/// Always ignored, whatever `.assetsignore` says (§A.7): root-anchored gitignore patterns.
const ALWAYS_IGNORED: [&str; 3] = ["/.assetsignore", "/_redirects", "/_headers"];

/// One file to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    /// Manifest key: `/` + the path relative to the assets directory, `/`-separated (§A.5).
    pub key: String,
    pub size: u64,
    /// The first 16 bytes of wrangler's BLAKE3 hash (§A.5).
    pub hash: [u8; 16],
}

impl Asset {
    /// The hash as the API spells it: 32 lowercase hex characters.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }

    /// The file on disk, under `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(self.key.trim_start_matches('/'))
    }
}

/// The assets directory, walked and hashed.
#[derive(Debug)]
pub struct Scan {
    pub root: PathBuf,
    /// Sorted by key.
    pub assets: Vec<Asset>,
    /// `_headers` and `_redirects` at the root: sent with the version, never as assets (§A.7).
    pub headers: Option<PathBuf>,
    pub redirects: Option<PathBuf>,
    /// Files left out by `.assetsignore` (the always-ignored names not counted).
    pub ignored: usize,
    /// Things worth a warning that do not stop the upload.
    pub warnings: Vec<String>,
}

impl Scan {
    pub fn total_bytes(&self) -> u64 {
        self.assets.iter().map(|a| a.size).sum()
    }
}

/// Why the assets directory cannot be uploaded. Each names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error("is not a directory ({}); point it at your built site", .0.display())]
    NotADirectory(PathBuf),
    #[error("could not read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "holds `{key}` of {size} bytes, above Cloudflare's 25 MiB (26,214,400 bytes) limit per asset; \
         split or compress it, or list it in `.assetsignore`"
    )]
    TooLarge { key: String, size: u64 },
    #[error(
        "holds {0} files, above Cloudflare's limit of 100,000 per version (Workers Paid); \
         list the files that need not be served in `.assetsignore`"
    )]
    TooMany(usize),
    #[error("has a `.assetsignore` that {0}; save it as UTF-8 text, one gitignore pattern per line")]
    IgnoreFile(String),
    #[error(
        "holds `{0}`, a Pages `_worker.js`, which would be served to anyone as a public asset; \
         add an empty `.assetsignore` to the directory to upload it anyway, or list it there to leave it out"
    )]
    WorkerJs(String),
    #[error("holds a file whose path is not UTF-8 ({}); Cloudflare's manifest keys are text: rename it", .0.display())]
    NotUtf8(PathBuf),
    #[error(
        "asset `{key}` changed after it was hashed, so it no longer matches the manifest; nothing that differs \
         from the manifest was uploaded: finish writing the site before this step, then run it again"
    )]
    Changed { key: String },
}

/// Walks `root`, applies the ignore rules and limits, and hashes every file, in parallel.
/// Everything that can refuse the upload is checked before the first file is hashed.
pub fn scan(root: &Path) -> Result<Scan, AssetsError> {
    if !root.is_dir() {
        return Err(AssetsError::NotADirectory(root.to_owned()));
    }
    let ignore_file = root.join(".assetsignore");
    let has_ignore_file = ignore_file.is_file();
    let matcher = matcher(root, has_ignore_file.then_some(ignore_file.as_path()))?;
    let mut assets = Vec::new();
    let mut ignored = 0;
    let walk = ignore::WalkBuilder::new(root).standard_filters(false).follow_links(true).build();
    for entry in walk {
        let entry = entry.map_err(|e| AssetsError::Read {
            path: root.to_owned(),
            source: e.into_io_error().unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        let path = entry.path();
        // `follow_links`: a symlinked file counts with its target's bytes, as Node's `stat`
        // does (§A.5).
        let meta = std::fs::metadata(path).map_err(|source| AssetsError::Read { path: path.to_owned(), source })?;
        if meta.is_dir() {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(path);
        let mut parts = Vec::new();
        for c in rel.components() {
            parts.push(c.as_os_str().to_str().ok_or_else(|| AssetsError::NotUtf8(path.to_owned()))?);
        }
        let rel_text = parts.join("/");
        let is_always = ALWAYS_IGNORED.iter().any(|p| p[1..] == rel_text);
        if matcher.matched_path_or_any_parents(&rel_text, false).is_ignore() {
            ignored += usize::from(!is_always);
            continue;
        }
        if !has_ignore_file && rel_text.starts_with("_worker.js") {
            return Err(AssetsError::WorkerJs(rel_text));
        }
        assets.push(Asset { key: format!("/{rel_text}"), size: meta.len(), hash: [0; 16] });
    }
    if let Some(big) = assets.iter().find(|a| a.size > MAX_ASSET_SIZE) {
        return Err(AssetsError::TooLarge { key: big.key[1..].to_owned(), size: big.size });
    }
    if assets.len() > MAX_ASSET_COUNT {
        return Err(AssetsError::TooMany(assets.len()));
    }
    let mut warnings = Vec::new();
    if assets.len() > FREE_ASSET_COUNT {
        warnings.push(format!(
            "{} assets: Workers Free accepts at most 20,000 per version, so this upload needs Workers Paid",
            assets.len()
        ));
    }
    assets.sort_by(|a, b| a.key.cmp(&b.key));
    hash_all(root, &mut assets)?;
    let at_root = |name: &str| Some(root.join(name)).filter(|p| p.is_file());
    Ok(Scan {
        root: root.to_owned(),
        assets,
        headers: at_root("_headers"),
        redirects: at_root("_redirects"),
        ignored,
        warnings,
    })
}

/// The always-ignored names plus `.assetsignore`'s lines, with gitignore semantics (§A.7:
/// wrangler splits on `\n` and uses npm `ignore`, which drops a trailing `\r` as whitespace).
fn matcher(root: &Path, file: Option<&Path>) -> Result<ignore::gitignore::Gitignore, AssetsError> {
    let mut b = ignore::gitignore::GitignoreBuilder::new(root);
    for p in ALWAYS_IGNORED {
        b.add_line(None, p).map_err(|e| AssetsError::IgnoreFile(format!("could not be compiled ({e})")))?;
    }
    if let Some(f) = file {
        let bytes = std::fs::read(f).map_err(|source| AssetsError::Read { path: f.to_owned(), source })?;
        if bytes.contains(&0) {
            return Err(AssetsError::IgnoreFile("contains a NUL byte".into()));
        }
        let text = String::from_utf8(bytes).map_err(|_| AssetsError::IgnoreFile("is not UTF-8".into()))?;
        for (n, line) in text.split('\n').enumerate() {
            b.add_line(None, line.trim_end_matches('\r'))
                .map_err(|e| AssetsError::IgnoreFile(format!("has an invalid pattern on line {} ({e})", n + 1)))?;
        }
    }
    b.build().map_err(|e| AssetsError::IgnoreFile(format!("could not be compiled ({e})")))
}

/// Hashes every asset on all cores; each thread takes the next batch of files from a shared
/// queue, so one large file does not hold up the others.
fn hash_all(root: &Path, assets: &mut [Asset]) -> Result<(), AssetsError> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(16);
    let queue = Mutex::new(assets.chunks_mut(32));
    let failure: Mutex<Option<AssetsError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut hasher = StreamHasher::new();
                loop {
                    let batch = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).next();
                    let Some(batch) = batch else { return };
                    for a in batch {
                        let path = a.path(root);
                        match hasher.hash_file(&path, extension(&a.key)) {
                            Ok(h) => a.hash = h,
                            Err(source) => {
                                let mut f = failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                                f.get_or_insert(AssetsError::Read { path, source });
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Bytes read per step: a multiple of 3, so each chunk's base64 is a prefix of the whole
/// file's (no padding until the last chunk) and can be fed to the hasher as it comes.
const CHUNK: usize = 3 * 16 * 1024;

/// wrangler's hash (§A.5), streamed: `BLAKE3(base64(bytes) + extension)`, first 16 bytes.
pub(crate) struct StreamHasher {
    read: Vec<u8>,
    encoded: Vec<u8>,
}

impl Default for StreamHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamHasher {
    pub(crate) fn new() -> StreamHasher {
        StreamHasher { read: vec![0; CHUNK], encoded: vec![0; CHUNK / 3 * 4] }
    }

    pub(crate) fn hash_file(&mut self, path: &Path, ext: &str) -> std::io::Result<[u8; 16]> {
        self.hash_reader(std::fs::File::open(path)?, ext)
    }

    pub(crate) fn hash_reader(&mut self, mut r: impl Read, ext: &str) -> std::io::Result<[u8; 16]> {
        let mut h = blake3::Hasher::new();
        loop {
            let n = fill(&mut r, &mut self.read)?;
            if n == 0 {
                break;
            }
            let len = base64::engine::general_purpose::STANDARD
                .encode_slice(&self.read[..n], &mut self.encoded)
                .map_err(std::io::Error::other)?;
            h.update(&self.encoded[..len]);
            if n < CHUNK {
                break;
            }
        }
        h.update(ext.as_bytes());
        let mut out = [0; 16];
        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
        Ok(out)
    }
}

/// Reads until `buf` is full or the file ends; a short read mid-file would break the
/// multiple-of-3 rule.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Bytes of text a body is sent in: small enough that three buckets in flight cost a few
/// hundred KiB, large enough that a small file is not a request frame of its own.
const OUT: usize = 64 * 1024;
/// Bytes of a file read per step: `OUT`'s worth once in base64, and a multiple of 3 (see
/// [`CHUNK`]).
const READ: usize = OUT / 4 * 3;

/// The length of a file of `size` bytes in standard base64 with padding: known before a byte
/// is read, so a streamed body can announce its exact Content-Length.
pub(crate) fn base64_len(size: u64) -> u64 {
    size.div_ceil(3) * 4
}

/// One piece of an upload body: framing text, or an asset sent as its base64.
pub(crate) enum Piece {
    Text(Vec<u8>),
    File { path: PathBuf, key: String, size: u64, hash: [u8; 16] },
}

impl Piece {
    /// Bytes this piece adds to the body.
    pub(crate) fn encoded_len(&self) -> u64 {
        match self {
            Piece::Text(t) => t.len() as u64,
            Piece::File { size, .. } => base64_len(*size),
        }
    }
}

/// Writes `pieces` to `sink` in chunks of at most [`OUT`] bytes, reading each file when its
/// turn comes; memory is one chunk whatever the number or size of the files. Each file is
/// checked against the size and hash it had when it was scanned, and its last bytes are
/// held back until the check passes, so a file that changed in between never reaches the
/// server whole. `Ok(false)`: the sink stopped taking chunks (the request was given up).
pub(crate) fn encode_pieces(pieces: &[Piece], sink: &mut dyn FnMut(Vec<u8>) -> bool) -> Result<bool, AssetsError> {
    let mut out = Vec::with_capacity(OUT);
    let mut read = vec![0u8; READ];
    // Sends what is buffered when `more` bytes would not fit.
    let mut make_room = |out: &mut Vec<u8>, more: usize| -> bool {
        if out.is_empty() || out.len() + more <= OUT {
            return true;
        }
        sink(std::mem::replace(out, Vec::with_capacity(OUT)))
    };
    for piece in pieces {
        match piece {
            Piece::Text(t) => {
                if !make_room(&mut out, t.len()) {
                    return Ok(false);
                }
                out.extend_from_slice(t);
            }
            Piece::File { path, key, size, hash } => {
                let read_err = |source| AssetsError::Read { path: path.clone(), source };
                let changed = || AssetsError::Changed { key: key.trim_start_matches('/').to_owned() };
                let mut file = std::fs::File::open(path).map_err(read_err)?;
                let mut hasher = blake3::Hasher::new();
                let mut left = *size;
                while left > 0 {
                    let want = usize::try_from(left).map_or(READ, |l| l.min(READ));
                    let n = fill(&mut file, &mut read[..want]).map_err(read_err)?;
                    if n < want {
                        return Err(changed());
                    }
                    // The buffer is sent before this chunk is added, so the file's last chunk
                    // stays here until the checks below have passed.
                    if !make_room(&mut out, n.div_ceil(3) * 4) {
                        return Ok(false);
                    }
                    let start = out.len();
                    out.resize(start + n.div_ceil(3) * 4, 0);
                    let written = base64::engine::general_purpose::STANDARD
                        .encode_slice(&read[..n], &mut out[start..])
                        .map_err(|e| read_err(std::io::Error::other(e)))?;
                    out.truncate(start + written);
                    hasher.update(&out[start..]);
                    left -= n as u64;
                }
                if fill(&mut file, &mut [0u8; 1]).map_err(read_err)? != 0 {
                    return Err(changed());
                }
                hasher.update(extension(key).as_bytes());
                if hasher.finalize().as_bytes()[..16] != hash[..] {
                    return Err(changed());
                }
            }
        }
    }
    Ok(out.is_empty() || sink(out))
}

/// Node's `path.extname(p)` without its dot, as wrangler feeds it to the hash: the last
/// `.`-suffix of the file name, except that a name whose only dot leads it (`.bashrc`) and
/// `..` have none. Case is kept.
pub(crate) fn extension(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == ".." {
        return "";
    }
    match name.rfind('.') {
        Some(0) | None => "",
        Some(i) => &name[i + 1..],
    }
}

/// The content type an asset is served with (§A.7): npm `mime@4.0.7`'s answer for the file
/// name, `; charset=utf-8` added to a `text/` type, and `None` (sent as `application/null`,
/// "serve without a Content-Type") when it knows none.
pub fn content_type(key: &str) -> Option<Cow<'static, str>> {
    // mime's `getType` on an absolute path: the part after the last `/` or `\`, lowercased;
    // no dot past the first character means no type.
    let name = key.rsplit(['/', '\\']).next().unwrap_or(key).to_ascii_lowercase();
    let dot = name.rfind('.')?;
    if dot == 0 {
        return None;
    }
    let ext = &name[dot + 1..];
    let i = mime_table::TABLE.binary_search_by(|(e, _)| (*e).cmp(ext)).ok()?;
    let t = mime_table::TABLE[i].1;
    Some(if t.starts_with("text/") && !t.contains("charset") {
        Cow::Owned(format!("{t}; charset=utf-8"))
    } else {
        Cow::Borrowed(t)
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(name: &str, bytes: &[u8]) -> String {
        hex(&StreamHasher::new().hash_reader(bytes, extension(name)).unwrap())
    }

    /// The vectors of docs/cloudflare-api.md §A.5, computed with the library wrangler bundles.
    #[test]
    fn contract_test_vectors() {
        assert_eq!(hash("hello.html", b"<h1>Hello</h1>\n"), "569c49c876d9d1d37936e494e70a80e8");
        assert_eq!(hash("empty.txt", b""), "f9bc91770fa5e997cbd47fba833629fc");
        assert_eq!(hash("noext", b"abc"), "c67219c1e9271fde4f573e4a3a12a0e4");
        assert_eq!(hash("a.tar.gz", b"abc"), "ceee256efab676ce835ae10cbf1f97f1");
        assert_eq!(hash("IMG.JPG", &[0xff, 0xd8, 0xff, 0x00]), "ba416cddad834beff7e9f0010089d4a6");
        assert_eq!(hash(".bashrc", b"abc"), "c67219c1e9271fde4f573e4a3a12a0e4");
    }

    #[test]
    fn streaming_equals_one_shot_across_chunk_boundaries() {
        for len in [0, 1, 2, 3, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 2] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut h = blake3::Hasher::new();
            h.update(base64::engine::general_purpose::STANDARD.encode(&bytes).as_bytes());
            h.update(b"css");
            let one_shot = hex(&h.finalize().as_bytes()[..16]);
            // A reader that returns a few bytes at a time, as a pipe would.
            struct Trickle<'a>(&'a [u8]);
            impl Read for Trickle<'_> {
                fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                    let n = self.0.len().min(buf.len()).min(1000);
                    buf[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                }
            }
            let streamed = hex(&StreamHasher::new().hash_reader(Trickle(&bytes), "css").unwrap());
            assert_eq!(streamed, one_shot, "length {len}");
        }
    }

    /// Chunks as the body would carry them, and whether the sink was still taking them.
    fn encode(pieces: &[Piece]) -> (Result<bool, AssetsError>, Vec<Vec<u8>>) {
        let mut chunks = Vec::new();
        let r = encode_pieces(pieces, &mut |c| {
            chunks.push(c);
            true
        });
        (r, chunks)
    }

    fn file_piece(root: &Path, key: &str, bytes: &[u8]) -> Piece {
        std::fs::write(root.join(key), bytes).unwrap();
        Piece::File {
            path: root.join(key),
            key: format!("/{key}"),
            size: bytes.len() as u64,
            hash: StreamHasher::new().hash_reader(bytes, extension(key)).unwrap(),
        }
    }

    #[test]
    fn encoded_pieces_are_the_base64_body_in_bounded_chunks_of_the_announced_length() {
        let d = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..3 * READ + 5).map(|i| (i * 31 % 256) as u8).collect();
        let pieces = vec![
            Piece::Text(b"<head>".to_vec()),
            file_piece(d.path(), "big.bin", &big),
            Piece::Text(b"<mid>".to_vec()),
            file_piece(d.path(), "empty.txt", b""),
            file_piece(d.path(), "abc", b"abc"),
            Piece::Text(b"<end>".to_vec()),
        ];
        let (r, chunks) = encode(&pieces);
        assert!(r.unwrap());
        assert!(chunks.iter().all(|c| c.len() <= OUT), "bounded chunks");
        let body = chunks.concat();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        assert_eq!(String::from_utf8(body.clone()).unwrap(), format!("<head>{}<mid>YWJj<end>", b64(&big)));
        assert_eq!(body.len() as u64, pieces.iter().map(Piece::encoded_len).sum::<u64>(), "the announced length");
    }

    #[test]
    fn a_file_changed_after_hashing_is_refused_before_its_last_bytes_leave() {
        let d = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..2 * READ + 7).map(|i| (i % 251) as u8).collect();
        let mut altered = big.clone();
        *altered.last_mut().unwrap() ^= 1;
        let longer = [big.as_slice(), b"x"].concat();
        for (what, now) in [("same size, other bytes", &altered[..]), ("shorter", &big[..10]), ("longer", &longer)] {
            let piece = file_piece(d.path(), "site.js", &big);
            std::fs::write(d.path().join("site.js"), now).unwrap();
            let (r, chunks) = encode(&[Piece::Text(b"<head>".to_vec()), piece]);
            let e = r.unwrap_err();
            assert!(matches!(&e, AssetsError::Changed { key } if key == "site.js"), "{what}: {e}");
            assert!(e.to_string().contains("asset `site.js` changed"), "{e}");
            let sent: usize = chunks.iter().map(Vec::len).sum();
            assert!(sent < 6 + base64_len(big.len() as u64) as usize, "{what}: the file was not sent whole");
        }
    }

    #[test]
    fn a_sink_that_stops_stops_the_reading() {
        let d = tempfile::tempdir().unwrap();
        let big = vec![7u8; 4 * READ];
        let pieces = [file_piece(d.path(), "a.bin", &big)];
        let mut calls = 0;
        let r = encode_pieces(&pieces, &mut |_| {
            calls += 1;
            false
        });
        assert!(!r.unwrap());
        assert_eq!(calls, 1);
    }

    #[test]
    fn node_extname() {
        for (p, e) in [
            ("a/b/index.html", "html"),
            ("IMG.JPG", "JPG"),
            ("a.tar.gz", "gz"),
            ("noext", ""),
            (".bashrc", ""),
            ("dir/.env", ""),
            (".a.b", "b"),
            ("..x", "x"),
            ("x.", ""),
            ("..", ""),
            ("...", ""),
            ("a.dir/file", ""),
        ] {
            assert_eq!(extension(p), e, "{p}");
        }
    }

    #[test]
    fn content_types_follow_mime_4_0_7() {
        let ct = |k: &str| content_type(k).map(Cow::into_owned);
        assert_eq!(ct("/index.html").as_deref(), Some("text/html; charset=utf-8"));
        assert_eq!(ct("/A/B.HTM").as_deref(), Some("text/html; charset=utf-8"));
        assert_eq!(ct("/app.js").as_deref(), Some("text/javascript; charset=utf-8"));
        assert_eq!(ct("/app.js.map").as_deref(), Some("application/json"));
        assert_eq!(ct("/favicon.ico").as_deref(), Some("image/vnd.microsoft.icon"));
        assert_eq!(ct("/x.ts").as_deref(), Some("video/mp2t"));
        assert_eq!(ct("/site.webmanifest").as_deref(), Some("application/manifest+json"));
        assert_eq!(ct("/a.yaml").as_deref(), Some("text/yaml; charset=utf-8"));
        assert_eq!(ct("/a.png").as_deref(), Some("image/png"));
        assert_eq!(ct("/a.woff2").as_deref(), Some("font/woff2"));
        for none in ["/a.tsx", "/a.br", "/Makefile", "/.html", "/x.", "/dir.css/file"] {
            assert_eq!(ct(none), None, "{none}");
        }
        assert!(mime_table::TABLE.windows(2).all(|w| w[0].0 < w[1].0), "sorted for the binary search");
    }

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn keys(s: &Scan) -> Vec<&str> {
        s.assets.iter().map(|a| a.key.as_str()).collect()
    }

    #[test]
    fn walk_ignore_rules_and_special_files() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in [
            "index.html",
            "a/b.css",
            "a/_headers",
            "_headers",
            "_redirects",
            ".well-known/x",
            "drafts/p.html",
            "x.log",
            "keep.log",
        ] {
            write(r, f, f.as_bytes());
        }
        write(r, ".assetsignore", b"drafts\r\n*.log\n!keep.log\n");
        let s = scan(r).unwrap();
        assert_eq!(keys(&s), ["/.well-known/x", "/a/_headers", "/a/b.css", "/index.html", "/keep.log"]);
        assert_eq!(s.ignored, 2, "drafts/p.html and x.log");
        assert_eq!(s.headers, Some(r.join("_headers")));
        assert_eq!(s.redirects, Some(r.join("_redirects")));
        let idx = &s.assets[3];
        assert_eq!(idx.hash_hex(), hash("index.html", b"index.html"));
        assert_eq!(idx.size, 10);
    }

    #[test]
    fn refusals_name_the_file() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, "index.html", b"x");
        write(r, "_worker.js", b"export default {}");
        let e = scan(r).unwrap_err();
        assert!(matches!(&e, AssetsError::WorkerJs(k) if k == "_worker.js"), "{e}");
        write(r, ".assetsignore", b"");
        assert_eq!(keys(&scan(r).unwrap()), ["/_worker.js", "/index.html"], "an .assetsignore lifts the guard");
        let big = std::fs::File::create(r.join("video.mp4")).unwrap();
        big.set_len(MAX_ASSET_SIZE + 1).unwrap();
        let e = scan(r).unwrap_err();
        assert!(e.to_string().contains("`video.mp4` of 26214401 bytes"), "{e}");
        big.set_len(MAX_ASSET_SIZE).unwrap();
        assert!(scan(r).is_ok(), "25 MiB exactly is allowed");
        write(r, ".assetsignore", b"a\0b");
        assert!(scan(r).unwrap_err().to_string().contains("NUL"));
        write(r, ".assetsignore", &[0xff, 0xfe]);
        assert!(scan(r).unwrap_err().to_string().contains("not UTF-8"));
        assert!(matches!(scan(&r.join("missing")), Err(AssetsError::NotADirectory(_))));
    }
}

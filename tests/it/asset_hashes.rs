//! Hash agreement with wrangler: `tests/fixtures/asset-hashes.json` holds a few hundred files
//! generated from a seed, with the hash npm `blake3-wasm@2.1.5` gives each under wrangler's
//! algorithm and the content type npm `mime@4.0.7` gives it (`scripts/asset-hash-fixture.mjs`
//! says how it was made). The same files are generated here and scanned as `version` scans an
//! assets directory.

use std::path::Path;

use serde_json::Value;
use workers_ci::testing as assets;

const NAMES: &[&str] = &[
    "index.html",
    "app.js",
    "style.css",
    "logo.PNG",
    "data.json",
    "font.woff2",
    "README",
    ".hidden",
    "archive.tar.gz",
    "photo.jpeg",
    "x.ts",
    "notes.md",
    "icon.svg",
    "page.htm",
    "feed.xml",
    "weird.",
    "..x",
    "UPPER.HTML",
];
const LENGTHS: &[usize] = &[0, 1, 2, 3, 4, 57, 1000, 4096, 65535, 196_607, 196_608, 196_609, 400_000];

/// The generator of `scripts/asset-hash-fixture.mjs`, step for step.
fn generate(root: &Path, seed: u32, count: usize) -> Vec<String> {
    let mut state = seed;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut paths = Vec::new();
    for i in 0..count {
        let name = NAMES[i % NAMES.len()];
        let named = match name.rfind('.') {
            Some(dot) if dot > 0 => format!("{}-{i}{}", &name[..dot], &name[dot..]),
            _ => format!("{name}-{i}"),
        };
        let rel = format!("d{}/{named}", i % 7);
        let len = LENGTHS[i % LENGTHS.len()] + i % 5;
        let bytes: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
        let p = root.join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
        paths.push(rel);
    }
    paths
}

#[test]
fn hashes_and_content_types_match_wranglers_libraries() {
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/asset-hashes.json")).expect("the fixture is JSON");
    let files = fixture["files"].as_array().unwrap();
    assert!(files.len() >= 300);
    let dir = tempfile::tempdir().unwrap();
    let seed = u32::try_from(fixture["seed"].as_u64().unwrap()).unwrap();
    let paths = generate(dir.path(), seed, files.len());
    let scan = assets::scan(dir.path()).unwrap();
    assert_eq!(scan.assets.len(), files.len());
    for (f, rel) in files.iter().zip(&paths) {
        assert_eq!(f["path"].as_str().unwrap(), rel, "the generators agree on names");
        let key = format!("/{rel}");
        let a = scan.assets.iter().find(|a| a.key == key).unwrap_or_else(|| panic!("{key} not scanned"));
        assert_eq!(a.size, f["size"].as_u64().unwrap(), "{key}: size (the generators agree on bytes)");
        assert_eq!(a.hash_hex(), f["hash"].as_str().unwrap(), "{key}: hash");
        assert_eq!(assets::content_type(&key).as_deref(), f["content_type"].as_str(), "{key}: content type");
    }
}

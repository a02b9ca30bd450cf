// Writes tests/fixtures/asset-hashes.json: a few hundred files generated from a seed, each with
// the hash wrangler would give it, computed by npm `blake3-wasm@2.1.5` (the library wrangler
// bundles, docs/cloudflare-api.md §A.5) on `base64(bytes) + extname(name).slice(1)`, and the
// content type npm `mime@4.0.7` gives it (§A.7). tests/it/asset_hashes.rs regenerates the same
// files from the same seed and compares workers-ci's answers with these.
//
// Run (needs Node >= 18 and the npm registry):
//   npm install --prefix /tmp/asset-fixture blake3-wasm@2.1.5 mime@4.0.7
//   NODE_PATH=/tmp/asset-fixture/node_modules node scripts/asset-hash-fixture.mjs > tests/fixtures/asset-hashes.json
//
// The generator (keep in step with `generate` in tests/it/asset_hashes.rs): xorshift32 from the seed;
// file i gets name NAMES[i % NAMES.length] prefixed by `d{i % 7}/` and suffixed before the
// extension by `-{i}`, and length LENGTHS[i % LENGTHS.length] (+ i % 5), bytes = next() & 0xff.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH ?? "/tmp/asset-fixture/node_modules", "x.js"));
const { hash } = require("blake3-wasm");
const mimeBase = path.dirname(require.resolve("mime/package.json"));
const mime = (await import(path.join(mimeBase, "dist/src/index.js"))).default;
for (const [pkg, want] of [["blake3-wasm", "2.1.5"], ["mime", "4.0.7"]]) {
  const v = require(`${pkg}/package.json`).version;
  if (v !== want) throw new Error(`${pkg} ${v} installed; wrangler bundles ${want}`);
}

const SEED = 0x5eed1234;
const COUNT = 300;
const NAMES = ["index.html", "app.js", "style.css", "logo.PNG", "data.json", "font.woff2", "README", ".hidden",
  "archive.tar.gz", "photo.jpeg", "x.ts", "notes.md", "icon.svg", "page.htm", "feed.xml", "weird.", "..x", "UPPER.HTML"];
const LENGTHS = [0, 1, 2, 3, 4, 57, 1000, 4096, 65535, 196607, 196608, 196609, 400000];

let state = SEED >>> 0;
const next = () => {
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state;
};

const withIndex = (name, i) => {
  // Insert `-{i}` before the last dot that is not the leading one, else append it.
  const dot = name.lastIndexOf(".");
  return dot > 0 ? `${name.slice(0, dot)}-${i}${name.slice(dot)}` : `${name}-${i}`;
};

const files = [];
for (let i = 0; i < COUNT; i++) {
  const rel = `d${i % 7}/${withIndex(NAMES[i % NAMES.length], i)}`;
  const len = LENGTHS[i % LENGTHS.length] + (i % 5);
  const bytes = Buffer.alloc(len);
  for (let k = 0; k < len; k++) bytes[k] = next() & 0xff;
  const ext = path.extname(rel).substring(1);
  const h = hash(bytes.toString("base64") + ext).toString("hex").slice(0, 32);
  const type = mime.getType(path.join("/site", rel));
  const contentType = type && type.startsWith("text/") && !type.includes("charset") ? `${type}; charset=utf-8` : type;
  files.push({ path: rel, size: len, hash: h, content_type: contentType });
}
process.stdout.write(JSON.stringify({ seed: SEED, generator: "scripts/asset-hash-fixture.mjs", files }, null, 1) + "\n");

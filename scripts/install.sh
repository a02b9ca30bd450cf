#!/usr/bin/env bash
# Installs the workers-ci binary for the action's run step and writes
# `path=<binary>` (plus `version=` and `method=`) to $GITHUB_OUTPUT.
#
# Runs under bash on Linux and macOS runners and under Git Bash (`shell: bash`)
# on Windows runners. Needs curl, tar and one of sha256sum / shasum / openssl;
# cargo only for the source build.
#
# Inputs (the action maps them from its inputs; never interpolated into code):
#   WORKERS_CI_INSTALL       auto (default) | release | source
#   WORKERS_CI_BINARY_PATH   use this binary as it is; nothing is downloaded or built
#
# How each mode works:
#   release  map RUNNER_OS/RUNNER_ARCH to a Rust target, look up the archive and
#            its SHA-256 in dist-manifest.json (committed next to action.yml, so
#            pinning the action's commit pins the binary), download it with curl
#            over https only, verify the SHA-256, unpack it into
#            $RUNNER_TOOL_CACHE/workers-ci/<version>/<target>/ (or $RUNNER_TEMP)
#            and reuse it from there on later runs. Any failure is an error; a
#            checksum mismatch always is, in every mode.
#   source   `cargo build --release --locked` of the action's own checked-out
#            source (the directory this script lives in, one level up).
#   auto     release, falling back to source with a notice when the manifest
#            has no binary for this platform or the download fails.
#
# Overrides, for tests and air-gapped mirrors (documented in CONTRIBUTING.md):
#   WORKERS_CI_MANIFEST       manifest file (default: <action dir>/dist-manifest.json)
#   WORKERS_CI_DOWNLOAD_BASE  URL prefix to download from instead of the manifest's
#                             download_base (must still be https://; curl refuses
#                             anything else). The tests serve a loopback https
#                             server with a throwaway CA given in CURL_CA_BUNDLE.
#   WORKERS_CI_SOURCE_DIR     source tree to build in source mode (default: <action dir>)
#   CARGO_TARGET_DIR          honoured by the source build (default:
#                             <tool cache>/workers-ci/source/target)
set -euo pipefail

ACTION_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${WORKERS_CI_INSTALL:-auto}
BINARY_PATH=${WORKERS_CI_BINARY_PATH:-}
MANIFEST=${WORKERS_CI_MANIFEST:-$ACTION_DIR/dist-manifest.json}
SOURCE_DIR=${WORKERS_CI_SOURCE_DIR:-$ACTION_DIR}
START=$SECONDS

log() { printf 'workers-ci install: %s\n' "$*"; }
notice() { printf '::notice title=workers-ci install::%s\n' "$*"; }
warning() { printf '::warning title=workers-ci install::%s\n' "$*"; }
die() {
  printf '::error title=workers-ci install::%s\n' "$*"
  exit 1
}

# Windows runners hand out C:\... paths; Git Bash's tools want /c/... .
unix_path() {
  if [[ -n "$1" ]] && command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}

# ... and native Windows programs (cargo) want C:\... in environment variables,
# which MSYS does not convert (it converts only command-line arguments).
native_path() {
  if [[ -n "$1" ]] && command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi
}

set_output() {
  local name=$1 value=$2
  # One line per value: a newline or CR could smuggle in another output.
  [[ "$value" != *$'\n'* && "$value" != *$'\r'* ]] || die "refusing to write a multi-line $name output"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf '%s=%s\n' "$name" "$value" >>"$GITHUB_OUTPUT"
  fi
}

finish() {
  local bin=$1 method=$2 version=$3
  set_output path "$bin"
  set_output version "$version"
  set_output method "$method"
  log "ready in $((SECONDS - START))s ($method): $bin"
  exit 0
}

case "$MODE" in
  auto | release | source) ;;
  *) die "input \`install\` must be auto, release or source (got something else)" ;;
esac

# --- binary_path: use what is there --------------------------------------------------
if [[ -n "$BINARY_PATH" ]]; then
  bin=$(unix_path "$BINARY_PATH")
  [[ -f "$bin" ]] || die "binary_path: no file at $BINARY_PATH"
  [[ -x "$bin" ]] || die "binary_path: $BINARY_PATH is not executable"
  finish "$bin" binary_path "$("$bin" --version 2>/dev/null | sed -n '1s/^workers-ci //p')"
fi

# --- platform -> Rust target -------------------------------------------------------
os=${RUNNER_OS:-}
arch=${RUNNER_ARCH:-}
if [[ -z "$os" ]]; then
  case "$(uname -s)" in
    Linux) os=Linux ;;
    Darwin) os=macOS ;;
    MINGW* | MSYS* | CYGWIN*) os=Windows ;;
    *) os=$(uname -s) ;;
  esac
fi
if [[ -z "$arch" ]]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=X64 ;;
    aarch64 | arm64) arch=ARM64 ;;
    *) arch=$(uname -m) ;;
  esac
fi
exe=""
case "$os/$arch" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc exe=.exe ;;
  *) target="" ;;
esac
[[ "$os" == Windows ]] && exe=.exe

cache_root=$(unix_path "${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}")/workers-ci
# A self-hosted runner's tool cache may not be writable by the job: use RUNNER_TEMP then.
if ! mkdir -p "$cache_root" 2>/dev/null || [[ ! -w "$cache_root" ]]; then
  cache_root=$(unix_path "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")/workers-ci
  mkdir -p "$cache_root"
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d' ' -f1
  else
    die "no sha256sum, shasum or openssl to verify the download with"
  fi
}

# --- release binary ----------------------------------------------------------------
# Exits through finish on success, through no_release (auto: source build) when
# there is no release binary to use, and dies on anything that looks like tampering.
install_release() {
  [[ -n "$target" ]] || no_release notice "no release binary is built for $os/$arch"
  [[ -f "$MANIFEST" ]] || no_release notice "no manifest at $MANIFEST"
  # The manifest is written by scripts/write-manifest.sh, one target per line:
  #   "x86_64-unknown-linux-musl": { "file": "…", "sha256": "…" },
  # so plain sed reads it on every runner (no jq or python needed).
  local version download_base line file sha
  version=$(sed -n 's/^  "version": *"\([0-9A-Za-z.+-]*\)",*$/\1/p' "$MANIFEST" | head -1)
  download_base=$(sed -n 's/^  "download_base": *"\([^"]*\)",*$/\1/p' "$MANIFEST" | head -1)
  [[ -n "$version" ]] || die "$MANIFEST has no \"version\""
  line=$(grep -F "\"$target\":" "$MANIFEST" || true)
  [[ -n "$line" ]] || no_release notice "dist-manifest.json (version $version) has no release binary for $target"
  file=$(printf '%s\n' "$line" | sed -n 's/^ *"[^"]*": *{ *"file": *"\([A-Za-z0-9._-]*\)", *"sha256": *"[0-9a-f]*" *},* *$/\1/p')
  sha=$(printf '%s\n' "$line" | sed -n 's/^ *"[^"]*": *{ *"file": *"[^"]*", *"sha256": *"\([0-9a-f]\{64\}\)" *},* *$/\1/p')
  [[ -n "$file" && -n "$sha" ]] || die "$MANIFEST: malformed entry for $target"
  download_base=${WORKERS_CI_DOWNLOAD_BASE:-$download_base}
  [[ -n "$download_base" ]] || die "$MANIFEST has no \"download_base\""

  local dir=$cache_root/$version/$target
  local bin=$dir/workers-ci$exe
  if [[ -x "$bin" && -f "$dir/.sha256" && "$(cat "$dir/.sha256")" == "$sha" ]]; then
    log "using the cached workers-ci $version ($target) in $dir"
    finish "$bin" cache "$version"
  fi

  local url=$download_base/$file
  log "downloading workers-ci $version for $target: $url"
  # Work next to the final directory (same file system), so the last mv is atomic.
  mkdir -p "$(dirname "$dir")"
  local work
  work=$(mktemp -d "$(dirname "$dir")/.install.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  if ! curl --proto '=https' --tlsv1.2 -fsSL --retry 5 --retry-connrefused --connect-timeout 20 \
    -o "$work/$file" "$url"; then
    no_release warning "download failed: $url"
  fi
  local got
  got=$(sha256_of "$work/$file")
  if [[ "$got" != "$sha" ]]; then
    die "checksum mismatch for $file: dist-manifest.json says sha256 $sha, the download has $got. Refusing to install it. (Corrupted or tampered download; re-run, and report it if it persists.)"
  fi
  log "sha256 verified: $sha"
  mkdir -p "$work/unpacked"
  tar -xzf "$work/$file" -C "$work/unpacked"
  [[ -f "$work/unpacked/workers-ci$exe" ]] || die "$file does not contain workers-ci$exe"
  chmod +x "$work/unpacked/workers-ci$exe"
  printf '%s\n' "$sha" >"$work/unpacked/.sha256"
  # Move into place as a whole, so a concurrent job never sees half a directory.
  rm -rf "$dir"
  mv "$work/unpacked" "$dir" 2>/dev/null || [[ -x "$bin" ]] || die "could not move the binary into $dir"
  "$bin" --version >/dev/null || die "the downloaded binary does not run on this runner ($os/$arch)"
  finish "$bin" release "$version"
}

# No release binary to use: an error for `install: release`, else a source build.
no_release() {
  local level=$1 reason=$2
  [[ "$MODE" != release ]] || die "install: release: $reason"
  if [[ "$level" == warning ]]; then
    warning "$reason; building from source instead (install: $MODE)"
  else
    notice "$reason; building from source instead (install: $MODE)"
  fi
  install_source
}

# --- source build ------------------------------------------------------------------
install_source() {
  [[ -f "$SOURCE_DIR/Cargo.toml" && -f "$SOURCE_DIR/Cargo.lock" ]] ||
    die "no Cargo.toml/Cargo.lock in $SOURCE_DIR to build workers-ci from"
  command -v cargo >/dev/null 2>&1 ||
    die "cargo is not installed: install Rust first (rustup), or use binary_path with a prebuilt binary"
  local target_dir
  target_dir=$(unix_path "${CARGO_TARGET_DIR:-$cache_root/source/target}")
  # aws-lc-sys (TLS) needs NASM on Windows x86_64 unless told to use its prebuilt objects.
  if [[ "$os" == Windows ]]; then export AWS_LC_SYS_PREBUILT_NASM=${AWS_LC_SYS_PREBUILT_NASM:-1}; fi
  log "building workers-ci from $SOURCE_DIR: cargo build --release --locked (a few minutes)"
  CARGO_TARGET_DIR=$(native_path "$target_dir") cargo build --release --locked --manifest-path "$(native_path "$SOURCE_DIR")/Cargo.toml" --bin workers-ci ||
    die "cargo build --release --locked failed"
  local bin=$target_dir/release/workers-ci$exe
  [[ -x "$bin" ]] || die "cargo build succeeded but $bin is missing"
  finish "$bin" source "$("$bin" --version 2>/dev/null | sed -n '1s/^workers-ci //p')"
}

if [[ "$MODE" == source ]]; then
  install_source
fi
install_release

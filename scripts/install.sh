#!/usr/bin/env bash
# Installs the workers-ci binary for the action's run step and writes
# `path=<binary>` (plus `version=` and `method=`) to $GITHUB_OUTPUT.
#
# Runs under bash on Linux and macOS runners and under Git Bash (`shell: bash`)
# on Windows runners; bash 3.2 (macOS's /bin/bash) is enough. Needs curl, tar
# and one of sha256sum / shasum / openssl; cargo only for the source build.
#
# Call it as the action does:  bash -p scripts/install.sh
# `-p` (privileged mode) makes bash ignore BASH_ENV and the functions exported in
# the environment (BASH_FUNC_*), so neither can run code here or shadow curl,
# sha256sum or tar. Started without -p, the script re-runs itself under
# `bash -p` first (see "Hardening" below).
#
# Inputs (the action maps them from its inputs; never interpolated into code):
#   WORKERS_CI_INSTALL       auto (default) | release | source
#   WORKERS_CI_BINARY_PATH   use this binary as it is; nothing is downloaded or built
#
# How each mode works:
#   release  map RUNNER_OS/RUNNER_ARCH to a Rust target, look up the archive and
#            its SHA-256 in dist-manifest.json (committed next to action.yml, so
#            pinning the action's commit pins the binary), download it with curl
#            over https only, verify the SHA-256 (before anything reads the
#            archive: tar only ever sees verified bytes), unpack the one member
#            workers-ci[.exe] into $RUNNER_TOOL_CACHE/workers-ci/<version>/<target>/
#            (or $RUNNER_TEMP) and reuse it from there on later runs. Any failure
#            is an error; a checksum mismatch always is, in every mode.
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

# --- Hardening (before anything else) ------------------------------------------------
# Nothing from the caller's shell may run here or stand in for a tool: an earlier step
# can set BASH_ENV (through $GITHUB_ENV) or export a function named curl, sha256sum or
# tar. Only keywords and absolute paths are used until bash runs in privileged mode:
# a function cannot be named after a keyword, and bash never imports one whose name
# holds a slash.
# 1. Not privileged yet: BASH_ENV may have run and exported functions are imported
#    (builtins may be shadowed too), so re-run at once under `bash -p`, without the
#    variables that make a bash run code or change how it parses.
if [[ ! -o privileged ]]; then
  exec /usr/bin/env -u BASH_ENV -u ENV -u CDPATH -u GLOBIGNORE -u SHELLOPTS -u BASHOPTS \
    "$BASH" -p -- "${BASH_SOURCE[0]}" "$@"
fi
# 2. Privileged: nothing was imported, but exported functions are still in the
#    environment that our children (curl, tar, cargo's build scripts) inherit. Re-run
#    once more without them, so no bash started below imports them either.
_workers_ci_strip=()
while IFS= read -r _workers_ci_line; do
  case "$_workers_ci_line" in
    BASH_FUNC_*=*) _workers_ci_strip+=(-u "${_workers_ci_line%%=*}") ;;
    BASH_ENV=* | ENV=* | CDPATH=* | GLOBIGNORE=* | SHELLOPTS=* | BASHOPTS=*) _workers_ci_strip+=(-u "${_workers_ci_line%%=*}") ;;
  esac
done < <(/usr/bin/env)
if [[ ${#_workers_ci_strip[@]} -gt 0 ]]; then
  if [[ -n "${_WORKERS_CI_INSTALL_CLEANED:-}" ]]; then
    printf '::error title=workers-ci install::%s\n' "could not clear exported shell functions from the environment"
    exit 1
  fi
  exec /usr/bin/env "${_workers_ci_strip[@]}" _WORKERS_CI_INSTALL_CLEANED=1 "$BASH" -p -- "${BASH_SOURCE[0]}" "$@"
fi
unset _workers_ci_strip _workers_ci_line _WORKERS_CI_INSTALL_CLEANED
# 3. Fixed lookups: the system directories come first, so a curl, tar or sha256sum
#    planted earlier in PATH is not the one that runs; the caller's PATH stays
#    behind them for what lives elsewhere (Git Bash's /mingw64/bin) and is what the
#    source build gets (cargo and rustc live in the user's toolchain). The tools the
#    release install needs are resolved once, to absolute paths, below. Options
#    that tools read from the environment or a dotfile are dropped (TAR_OPTIONS,
#    GZIP; ~/.curlrc through `curl -q`), and the locale is C for sed and grep.
CALLER_PATH=${PATH:-}
PATH=/usr/bin:/bin:/usr/sbin:/sbin${CALLER_PATH:+:$CALLER_PATH}
export PATH LC_ALL=C
unset TAR_OPTIONS GZIP
hash -r
umask 022

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

# The tools of a release install, each resolved once to an absolute path (PATH as
# fixed above; `type -P` finds files only, never a function, alias or builtin).
CURL="" TAR="" SHA256=()
resolve_tools() {
  CURL=$(type -P curl) || die "curl is not installed: it downloads the release binary"
  TAR=$(type -P tar) || die "tar is not installed: it unpacks the release binary"
  local tool
  if tool=$(type -P sha256sum); then
    SHA256=("$tool")
  elif tool=$(type -P shasum); then
    SHA256=("$tool" -a 256)
  elif tool=$(type -P openssl); then
    SHA256=("$tool" dgst -sha256 -r)
  else
    die "no sha256sum, shasum or openssl to verify the download with"
  fi
  log "tools: $CURL, $TAR, ${SHA256[*]}"
}

sha256_of() {
  local out
  out=$("${SHA256[@]}" <"$1") || die "could not compute the SHA-256 of $1"
  printf '%s\n' "${out%% *}"
}

# The download's scratch directory, removed on every exit (a global, not a string
# spliced into the trap: a path with a quote in it stays a path).
WORK=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

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
  resolve_tools
  log "downloading workers-ci $version for $target: $url"
  # Work next to the final directory (same file system), so the last mv is atomic.
  mkdir -p "$(dirname "$dir")"
  WORK=$(mktemp -d "$(dirname "$dir")/.install.XXXXXX")
  local work=$WORK
  # -q first: no ~/.curlrc (it could turn off certificate checks or add a proxy).
  if ! "$CURL" -q --proto '=https' --tlsv1.2 -fsSL --retry 5 --retry-connrefused --connect-timeout 20 \
    -o "$work/$file" "$url"; then
    no_release warning "download failed: $url"
  fi
  # Verify before anything parses the archive: tar and gzip never see unverified bytes.
  local got
  got=$(sha256_of "$work/$file")
  if [[ "$got" != "$sha" ]]; then
    die "checksum mismatch for $file: dist-manifest.json says sha256 $sha, the download has $got. Refusing to install it; it was not unpacked. (Corrupted or tampered download; re-run, and report it if it persists.)"
  fi
  log "sha256 verified: $sha"
  mkdir -p "$work/unpacked"
  # Only the binary, whatever else the archive holds.
  "$TAR" -xzf "$work/$file" -C "$work/unpacked" "workers-ci$exe" ||
    die "$file does not contain workers-ci$exe"
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
  # cargo and the rustc it runs come from the caller's own PATH (their toolchain,
  # e.g. ~/.cargo/bin), not from the system directories put in front above.
  local cargo
  cargo=$(PATH=$CALLER_PATH type -P cargo) ||
    die "cargo is not installed: install Rust first (rustup), or use binary_path with a prebuilt binary"
  local target_dir
  target_dir=$(unix_path "${CARGO_TARGET_DIR:-$cache_root/source/target}")
  # aws-lc-sys (TLS) needs NASM on Windows x86_64 unless told to use its prebuilt objects.
  if [[ "$os" == Windows ]]; then export AWS_LC_SYS_PREBUILT_NASM=${AWS_LC_SYS_PREBUILT_NASM:-1}; fi
  log "building workers-ci from $SOURCE_DIR: cargo build --release --locked (a few minutes)"
  PATH=$CALLER_PATH CARGO_TARGET_DIR=$(native_path "$target_dir") "$cargo" build --release --locked --manifest-path "$(native_path "$SOURCE_DIR")/Cargo.toml" --bin workers-ci ||
    die "cargo build --release --locked failed"
  local bin=$target_dir/release/workers-ci$exe
  [[ -x "$bin" ]] || die "cargo build succeeded but $bin is missing"
  finish "$bin" source "$("$bin" --version 2>/dev/null | sed -n '1s/^workers-ci //p')"
}

if [[ "$MODE" == source ]]; then
  install_source
fi
install_release

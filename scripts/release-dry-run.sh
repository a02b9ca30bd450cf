#!/usr/bin/env bash
# Release dry run: everything release.yml does to make a release, on this machine, then
# the install path from that release, as the action runs it.
#
#   bash scripts/release-dry-run.sh OUT_DIR            # .ci/action's `release` stage
#   bash scripts/release-dry-run.sh --keep-serving OUT_DIR
#       # leaves the https server running (pid in OUT_DIR/server/pid) and writes
#       # OUT_DIR/release.env for the e2e run under act (.ci/action's `e2e` stage)
#
# 1. build: `cargo build --release --locked --target <target> --bin workers-ci`, as
#    release.yml's build job (the release profile of Cargo.toml). release.yml builds the
#    static x86_64-unknown-linux-musl binary; when this machine's toolchain has no musl
#    target (`rustup target list --installed`), the host's x86_64-unknown-linux-gnu is
#    built instead and stands in for it: it is packaged under the musl target's name,
#    which is what install.sh asks for on Linux/X64. Said in the output. It is dynamically
#    linked, so release.yml's static check (`file`) applies only to a real musl build
#    (ci.yml's release-dry-run job adds the target and musl-tools, and makes one).
#    WORKERS_CI_RELEASE_BIN=<binary> skips the build (a release build takes minutes).
# 2. package: scripts/package-release.sh (release.yml's build job calls it too).
# 3. assemble: scripts/assemble-release.sh writes SHA256SUMS and dist-manifest.json with
#    scripts/write-manifest.sh (release.yml's release job calls it too), the download base
#    being this release's URL on a loopback https server (scripts/serve-https.sh), laid out
#    as GitHub's <repo>/releases/download/v<version>/.
# 4. the gate before publishing and before moving the major tag:
#    scripts/check-release-assets.sh passes on the whole release and refuses it with an
#    asset missing, not yet uploaded, or altered.
# 5. install: action.yml's install step (its `shell:` and `run:` read from action.yml)
#    with `install: release`, as the runner runs it; the installed binary must print
#    `workers-ci <version>`. Timed with hyperfine (cold: empty tool cache; warm: cached).
# 6. a tampered archive (the same name, another binary inside) is refused, not unpacked,
#    nothing installed.
# 7. README's "Installing the binary" commands (the sh block), run as written against
#    this release (its github.com URL replaced by the loopback one).
#
# Needs: cargo, bash, curl, tar, sha256sum, openssl, python3, jq, hyperfine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keep=0
if [[ "${1:-}" == --keep-serving ]]; then
  keep=1
  shift
fi
[[ $# -eq 1 ]] || {
  echo "usage: $0 [--keep-serving] OUT_DIR" >&2
  exit 2
}
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
rm -rf "${OUT:?}"/*
log() { printf '[release] %s\n' "$*" >&2; }
failures=()
check() { # check DESCRIPTION TEST...
  local what=$1
  shift
  if "$@"; then log "ok   $what"; else
    log "FAIL $what"
    failures+=("$what")
  fi
}
not() { ! "$@"; }
SERVER_PID=""
cleanup() {
  if [[ $keep -eq 0 && -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# Same as release.yml's plan job: the version is Cargo.toml's.
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)
REPO_URL=$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)
TARGET=x86_64-unknown-linux-musl # release.yml's Linux/X64 build; install.sh asks for it
[[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] || {
  log "the dry run stands in for the x86_64 Linux release: run it on Linux x86_64"
  exit 1
}

# --- 1. build ---------------------------------------------------------------------------
if rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  BUILD_TARGET=$TARGET
else
  BUILD_TARGET=$(rustc -vV | sed -n 's/^host: //p')
  log "no $TARGET target in this toolchain (rustup target list --installed): building the host's"
  log "$BUILD_TARGET with the release profile as a stand-in, packaged under the $TARGET name"
fi
if [[ -n "${WORKERS_CI_RELEASE_BIN:-}" ]]; then
  BIN=$WORKERS_CI_RELEASE_BIN
  log "binary: $BIN (WORKERS_CI_RELEASE_BIN, not built here)"
else
  log "cargo build --release --locked --target $BUILD_TARGET --bin workers-ci"
  t0=$SECONDS
  (cd "$ROOT" && cargo build --release --locked --target "$BUILD_TARGET" --bin workers-ci)
  BIN=${CARGO_TARGET_DIR:-$ROOT/target}/$BUILD_TARGET/release/workers-ci
  log "built in $((SECONDS - t0))s: $BIN"
fi

if [[ "$BUILD_TARGET" == "$TARGET" ]]; then
  # release.yml's static check, on the real musl build.
  # shellcheck disable=SC2016 # $1 is the inner bash's
  check "the musl binary is static: $(file -b "$BIN" | cut -d, -f1-4)" \
    bash -c 'file "$1" | grep -Eq "statically linked|static-pie linked"' _ "$BIN"
fi

# --- 2. package, 3. assemble -------------------------------------------------------------
RELEASE_PATH=${REPO_URL#https://github.com/}/releases/download/v$VERSION
DIST=$OUT/www/$RELEASE_PATH
mkdir -p "$DIST"
bash "$ROOT/scripts/package-release.sh" "$BIN" "$TARGET" "$VERSION" "$DIST" >/dev/null
BASE=$(bash "$ROOT/scripts/serve-https.sh" "$OUT/www" "$OUT/server")
SERVER_PID=$(cat "$OUT/server/pid")
export CURL_CA_BUNDLE=$OUT/server/cert.pem
DOWNLOAD_BASE=$BASE/$RELEASE_PATH
bash "$ROOT/scripts/assemble-release.sh" "$DIST" "$VERSION" "$DOWNLOAD_BASE" "$TARGET" >"$OUT/assets.txt"
MANIFEST=$DIST/dist-manifest.json
log "release v$VERSION at $DOWNLOAD_BASE: $(tr '\n' ' ' <"$OUT/assets.txt")"
# shellcheck disable=SC2016 # a jq program
check "the manifest is JSON and lists $TARGET" \
  jq -e --arg t "$TARGET" '.targets[$t].file == "workers-ci-\($t).tar.gz"' "$MANIFEST" >/dev/null
check "the archive holds one member, workers-ci" \
  test "$(tar -tzf "$DIST/workers-ci-$TARGET.tar.gz")" = workers-ci
check "assemble-release refuses a directory without one of the targets" \
  not bash "$ROOT/scripts/assemble-release.sh" "$DIST" "$VERSION" "$DOWNLOAD_BASE" "$TARGET" aarch64-apple-darwin

# --- 4. the gate before publish and before the major tag moves ----------------------------
listing() { # the REST API's asset list for DIST; jq program $1 edits it
  local name sha
  while read -r name; do
    sha=$(sha256sum <"$DIST/$name")
    jq -n --arg n "$name" --arg d "sha256:${sha%% *}" '{name: $n, state: "uploaded", digest: $d}'
  done <"$OUT/assets.txt" | jq -s "${1:-.}"
}
gate() { bash "$ROOT/scripts/check-release-assets.sh" "$DIST" >/dev/null 2>&1; }
check "check-release-assets: the whole release passes" gate < <(listing)
check "check-release-assets: digests absent (GitHub Enterprise) still pass on names" gate < <(listing 'map(del(.digest))')
check "check-release-assets: an archive missing is refused" not gate < <(listing 'map(select(.name | endswith(".tar.gz") | not))')
check "check-release-assets: dist-manifest.json missing is refused" not gate < <(listing 'map(select(.name != "dist-manifest.json"))')
check "check-release-assets: an upload not finished is refused" not gate < <(listing 'map(if .name == "SHA256SUMS" then .state = "starter" else . end)')
check "check-release-assets: an archive with other bytes is refused" not gate < <(listing 'map(if (.name | endswith(".tar.gz")) then .digest = "sha256:\("0" * 64)" else . end)')

# --- 5. install as the action does ---------------------------------------------------------
step_lines=$(sed -n '/^    - id: install$/,/^    - id: run$/p' "$ROOT/action.yml")
step_shell=$(sed -n 's/^      shell: //p' <<<"$step_lines")
sed -n 's/^      run: //p' <<<"$step_lines" >"$OUT/install-step.sh"
if [[ "$step_shell" == bash ]]; then step_shell='bash --noprofile --norc -eo pipefail {0}'; fi
read -r -a STEP <<<"${step_shell//\{0\}/$OUT/install-step.sh}"
log "the install step: ${STEP[*]}: $(cat "$OUT/install-step.sh")"
# The environment the runner gives a step (RUNNER_*, GITHUB_*), the action's two inputs,
# and the manifest of this release (committed next to action.yml in a real one).
printf '%s\n' "WORKERS_CI_INSTALL=release" "WORKERS_CI_BINARY_PATH=" "GITHUB_ACTION_PATH=$ROOT" \
  "RUNNER_OS=Linux" "RUNNER_ARCH=X64" "RUNNER_TOOL_CACHE=$OUT/toolcache" "RUNNER_TEMP=$OUT/runner-temp" \
  "GITHUB_OUTPUT=$OUT/github_output" "WORKERS_CI_MANIFEST=$MANIFEST" "CURL_CA_BUNDLE=$CURL_CA_BUNDLE" \
  "PATH=$PATH" "HOME=${HOME:-/root}" >"$OUT/step.env"
mkdir -p "$OUT/runner-temp"
install_step() { # [VAR=VALUE...]; the step's env is $OUT/step.env plus these
  local vars=()
  while IFS= read -r line; do vars+=("$line"); done <"$OUT/step.env"
  : >"$OUT/github_output"
  env -i "${vars[@]}" "$@" "${STEP[@]}"
}
rm -rf "$OUT/toolcache"
install_step >"$OUT/install.log" 2>&1 || true
sed 's/^/  | /' "$OUT/install.log" >&2
installed=$(sed -n 's/^path=//p' "$OUT/github_output")
check "install: release from the loopback release (method release, sha256 verified)" \
  grep -qx 'method=release' "$OUT/github_output"
check "the installed binary is in the tool cache: $installed" \
  test "$installed" = "$OUT/toolcache/workers-ci/$VERSION/$TARGET/workers-ci"
got=$("$installed" --version 2>/dev/null | head -1 || true)
check "the installed binary runs: '$got' = 'workers-ci $VERSION'" test "$got" = "workers-ci $VERSION"
check "the installed binary is the one built (same bytes)" cmp -s "$BIN" "$installed"

# Timing: hyperfine, cold (the tool cache emptied before each run) and warm (cached).
hyperfine --version >/dev/null
# shellcheck disable=SC2016 # the script written, expanded when it runs
{
  printf 'set -euo pipefail\n'
  printf 'while IFS= read -r line; do vars+=("$line"); done <%q\n' "$OUT/step.env"
  printf 'exec env -i "${vars[@]}" RUNNER_TOOL_CACHE="$1"'
  printf ' %q' "${STEP[@]}"
  printf ' >/dev/null 2>&1\n'
} >"$OUT/timed-install.sh"
hyperfine --warmup 1 --runs 20 --style basic --export-json "$OUT/install-cold.json" \
  --prepare "rm -rf '$OUT/cold-cache'" "bash '$OUT/timed-install.sh' '$OUT/cold-cache'" >&2
hyperfine --warmup 1 --runs 20 --style basic --export-json "$OUT/install-warm.json" \
  "bash '$OUT/timed-install.sh' '$OUT/toolcache'" >&2
cold=$(jq -r '.results[0] | "median \(.median * 1000 | floor) ms, mean \(.mean * 1000 | floor) ± \(.stddev * 1000 | floor) ms, max \(.max * 1000 | floor) ms"' "$OUT/install-cold.json")
warm=$(jq -r '.results[0] | "median \(.median * 1000 | floor) ms, mean \(.mean * 1000 | floor) ± \(.stddev * 1000 | floor) ms, max \(.max * 1000 | floor) ms"' "$OUT/install-warm.json")
size=$(wc -c <"$DIST/workers-ci-$TARGET.tar.gz" | tr -d ' ')
log "install time (hyperfine, 20 runs): cold (download $size bytes + verify + unpack + --version): $cold"
log "install time (hyperfine, 20 runs): warm (from the tool cache): $warm"
printf 'cold: %s\nwarm: %s\narchive: %s bytes\n' "$cold" "$warm" "$size" >"$OUT/install-time.txt"

# --- 6. a tampered archive -------------------------------------------------------------------
TAMPERED=$OUT/www/tampered/$RELEASE_PATH
mkdir -p "$TAMPERED" "$OUT/evil"
printf '#!/bin/sh\necho "workers-ci %s"\necho tampered >&2\n' "$VERSION" >"$OUT/evil/workers-ci"
chmod +x "$OUT/evil/workers-ci"
bash "$ROOT/scripts/package-release.sh" "$OUT/evil/workers-ci" "$TARGET" "$VERSION" "$TAMPERED" >/dev/null 2>&1
rm -rf "$OUT/toolcache-tampered"
rc=0
install_step RUNNER_TOOL_CACHE="$OUT/toolcache-tampered" WORKERS_CI_DOWNLOAD_BASE="$BASE/tampered/$RELEASE_PATH" \
  >"$OUT/tampered.log" 2>&1 || rc=$?
sed 's/^/  | /' "$OUT/tampered.log" >&2
check "a tampered archive: the step fails (exit $rc)" test "$rc" -ne 0
check "a tampered archive: refused with a checksum error before unpacking" \
  grep -q "checksum mismatch for workers-ci-$TARGET.tar.gz.*it was not unpacked" "$OUT/tampered.log"
check "a tampered archive: nothing installed, no path output" \
  test ! -e "$OUT/toolcache-tampered/workers-ci/$VERSION/$TARGET" -a ! -s "$OUT/github_output"

# --- 7. README's commands, as written -----------------------------------------------------
readme_block=$(python3 - "$ROOT/README.md" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
start = text.index("### Installing the binary")
m = re.compile(r"```sh\n(.*?)```", re.S).search(text, start)
print(m.group(1), end="")
PY
)
# README names the version it shows once (version=X.Y.Z) and builds the URL from it: that
# version must be this release's, and its URL becomes the loopback one.
readme_version=$(sed -n 's/^version=\([^ ]*\) .*/\1/p' <<<"$readme_block")
check "README's install commands show this release's version ($readme_version = $VERSION)" \
  test "$readme_version" = "$VERSION"
readme_block=${readme_block//"$REPO_URL/releases/download/v\$version"/$DOWNLOAD_BASE}
mkdir -p "$OUT/readme"
rc=0
(cd "$OUT/readme" && bash -euo pipefail -c "$readme_block") >"$OUT/readme.log" 2>&1 || rc=$?
sed 's/^/  | /' "$OUT/readme.log" >&2
check "README's install commands run as written (exit $rc) and leave a workers-ci $VERSION" \
  test "$rc" -eq 0 -a "$("$OUT/readme/workers-ci" --version 2>/dev/null | head -1)" = "workers-ci $VERSION"

if [[ $keep -eq 1 ]]; then
  printf '%s\n' "MANIFEST=$MANIFEST" "CA_BUNDLE=$CURL_CA_BUNDLE" "VERSION=$VERSION" "TARGET=$TARGET" \
    "SERVER_PID=$SERVER_PID" >"$OUT/release.env"
fi
if [[ ${#failures[@]} -gt 0 ]]; then
  log "FAILED: ${failures[*]}"
  exit 1
fi
log "release dry run: built, packaged, served, installed as the action does, tampered archive refused"

#!/usr/bin/env bash
# Tests scripts/install.sh offline, run as action.yml's install step runs it (the
# step's `shell:` and `run:` lines are read from action.yml), with the same curl flags
# it uses on a runner.
#
#   bash scripts/test-install.sh            # a stub binary goes into the test release
#   WORKERS_CI_TEST_BINARY=target/release/workers-ci bash scripts/test-install.sh
#                                           # the real binary, for a realistic setup time
#
# The test release is served over https on 127.0.0.1 by a small Python server
# with a throwaway self-signed certificate, trusted through CURL_CA_BUNDLE. So
# install.sh runs unchanged (`curl --proto '=https' --tlsv1.2`): there is no
# test-only switch in it that would let plain http or file:// through
# (scripts/serve-https.sh). The
# manifest is written by scripts/write-manifest.sh, as in release.yml. cargo is
# replaced by a stub on PATH that records its arguments, so the source fallback
# is checked in milliseconds (ci.yml's e2e job runs the real source build).
#
# The hardening is tested with what an earlier step could leave behind: a BASH_ENV
# script, exported functions and planted programs named sha256sum, curl and tar (each
# forging the checksum or recording that it ran); and, under strace, that a tampered
# archive is never handed to tar.
#
# Needs: bash, curl, tar, sha256sum, openssl, python3, strace. Exits non-zero on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INSTALL=$ROOT/scripts/install.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/workers-ci-test-install.XXXXXX")
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

passed=0 failed=0
ok() {
  passed=$((passed + 1))
  printf 'ok   %s\n' "$1"
}
fail() {
  failed=$((failed + 1))
  printf 'FAIL %s\n' "$1"
  if [[ -f "$TMP/last.log" ]]; then sed 's/^/     | /' "$TMP/last.log"; fi
}
ms() { date +%s%3N; }

for tool in curl tar sha256sum openssl python3 strace; do
  command -v "$tool" >/dev/null || {
    echo "test-install: $tool is required" >&2
    exit 1
  }
done

# --- the test release ----------------------------------------------------------------
VERSION=0.1.0
TARGET=x86_64-unknown-linux-musl # what install.sh picks for RUNNER_OS=Linux RUNNER_ARCH=X64
ASSET=workers-ci-$TARGET.tar.gz
mkdir -p "$TMP/pkg" "$TMP/www" "$TMP/fakebin"
if [[ -n "${WORKERS_CI_TEST_BINARY:-}" ]]; then
  cp "$WORKERS_CI_TEST_BINARY" "$TMP/pkg/workers-ci"
else
  printf '#!/bin/sh\necho "workers-ci %s"\n' "$VERSION" >"$TMP/pkg/workers-ci"
fi
chmod +x "$TMP/pkg/workers-ci"
tar -czf "$TMP/www/$ASSET" -C "$TMP/pkg" workers-ci
printf 'not a binary\n' >"$TMP/www/unrelated.txt"
(cd "$TMP/www" && sha256sum "$ASSET" unrelated.txt >SHA256SUMS)
# The same archive name with other bytes: what a tampered or corrupted download looks like.
mkdir -p "$TMP/www-tampered"
cp "$TMP/pkg/workers-ci" "$TMP/pkg/workers-ci.orig"
printf '\n# tampered\n' >>"$TMP/pkg/workers-ci"
tar -czf "$TMP/www-tampered/$ASSET" -C "$TMP/pkg" workers-ci
mv "$TMP/pkg/workers-ci.orig" "$TMP/pkg/workers-ci"
echo "test-install: test release: $ASSET, $(wc -c <"$TMP/www/$ASSET" | tr -d ' ') bytes"

# --- https on loopback -----------------------------------------------------------------
BASE=$(bash "$ROOT/scripts/serve-https.sh" "$TMP" "$TMP/server")
SERVER_PID=$(cat "$TMP/server/pid")
export CURL_CA_BUNDLE=$TMP/server/cert.pem

bash "$ROOT/scripts/write-manifest.sh" "$VERSION" "$BASE/www" "$TMP/www/SHA256SUMS" >"$TMP/manifest.json"
python3 -m json.tool "$TMP/manifest.json" >/dev/null
python3 -m json.tool "$ROOT/dist-manifest.json" >/dev/null

# --- the action's install step, as the runner runs it ---------------------------------------
# `shell:` is a template (`{0}` is the script file), `run:` a single line.
step_lines=$(sed -n '/^    - id: install$/,/^    - id: run$/p' "$ROOT/action.yml")
step_shell=$(sed -n 's/^      shell: //p' <<<"$step_lines")
sed -n 's/^      run: //p' <<<"$step_lines" >"$TMP/install-step.sh"
[[ -n "$step_shell" && -s "$TMP/install-step.sh" ]] || {
  echo "test-install: no install step (shell:, run:) in action.yml" >&2
  exit 1
}
# `shell: bash` is the runner's template for it (docs/github-actions.md §2.8).
if [[ "$step_shell" == bash ]]; then step_shell='bash --noprofile --norc -eo pipefail {0}'; fi
read -r -a STEP <<<"${step_shell//\{0\}/$TMP/install-step.sh}"
echo "test-install: the install step: ${STEP[*]}: $(cat "$TMP/install-step.sh")"

# --- cargo stub ------------------------------------------------------------------------
cat >"$TMP/fakebin/cargo" <<'EOF'
#!/usr/bin/env bash
# Records its arguments and "builds" a stub binary where cargo would put it.
printf '%s\n' "$*" >>"$FAKE_CARGO_LOG"
mkdir -p "$CARGO_TARGET_DIR/release"
printf '#!/bin/sh\necho "workers-ci 0.1.0"\n' >"$CARGO_TARGET_DIR/release/workers-ci"
chmod +x "$CARGO_TARGET_DIR/release/workers-ci"
EOF
chmod +x "$TMP/fakebin/cargo"

# run_install [VAR=VALUE...]: runs the action's install step in a fresh runner-like
# environment (own tool cache unless CACHE is set), leaving $TMP/last.log,
# $TMP/last.out, $RC, $MS. RUN (an array) replaces the step's command line, WRAP
# (an array) goes in front of it.
n=0
RUN=()
WRAP=()
run_install() {
  n=$((n + 1))
  local cache=${CACHE:-$TMP/cache-$n}
  : >"$TMP/last.out"
  : >"$TMP/cargo.log"
  local t0 cmd=("${STEP[@]}")
  if [[ ${#RUN[@]} -gt 0 ]]; then cmd=("${RUN[@]}"); fi
  if [[ ${#WRAP[@]} -gt 0 ]]; then cmd=("${WRAP[@]}" "${cmd[@]}"); fi
  t0=$(ms)
  set +e
  env -u CARGO_TARGET_DIR -u WORKERS_CI_BINARY_PATH -u WORKERS_CI_INSTALL -u WORKERS_CI_DOWNLOAD_BASE \
    PATH="$TMP/fakebin:$PATH" FAKE_CARGO_LOG="$TMP/cargo.log" \
    RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TOOL_CACHE="$cache" RUNNER_TEMP="$TMP/runner-temp" \
    GITHUB_OUTPUT="$TMP/last.out" WORKERS_CI_MANIFEST="$TMP/manifest.json" \
    WORKERS_CI_SOURCE_DIR="$ROOT" GITHUB_ACTION_PATH="$ROOT" \
    "$@" "${cmd[@]}" >"$TMP/last.log" 2>&1
  RC=$?
  set -e
  MS=$(($(ms) - t0))
}
out() { sed -n "s/^$1=//p" "$TMP/last.out"; }
has() { grep -qF -- "$1" "$TMP/last.log"; }
cargo_ran() { grep -q -- 'build --release --locked' "$TMP/cargo.log"; }

# 1. Right checksum: downloads, verifies, installs into the tool cache.
CACHE=$TMP/cache-shared run_install
bin=$(out path)
if [[ $RC -eq 0 && "$(out method)" == release && "$(out version)" == "$VERSION" &&
  "$bin" == "$TMP/cache-shared/workers-ci/$VERSION/$TARGET/workers-ci" && -x "$bin" ]] &&
  "$bin" --version | grep -q "^workers-ci " && has "sha256 verified" && ! cargo_ran; then
  ok "right checksum: installs into \$RUNNER_TOOL_CACHE/workers-ci/$VERSION/$TARGET (${MS} ms, cold)"
  COLD_MS=$MS
else
  fail "right checksum: installs"
fi

# 2. Second run: served from the tool cache, nothing downloaded.
kill -STOP "$SERVER_PID" # a download attempt would now hang and fail the timing check
CACHE=$TMP/cache-shared run_install
kill -CONT "$SERVER_PID"
if [[ $RC -eq 0 && "$(out method)" == cache && "$(out path)" == "$bin" && $MS -lt 5000 ]] && ! has downloading; then
  ok "cached: second run reuses the tool cache (${MS} ms)"
  WARM_MS=$MS
else
  fail "cached: second run reuses the tool cache"
fi

# 3. Tampered download: refuses with a clear error, installs nothing, no fallback.
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/www-tampered"
if [[ $RC -ne 0 ]] && has "::error title=workers-ci install::checksum mismatch for $ASSET" &&
  has "Refusing to install it" && [[ ! -e "$TMP/cache-$n/workers-ci/$VERSION/$TARGET" && -z "$(out path)" ]] &&
  ! cargo_ran; then
  ok "tampered file: refused with a checksum error, nothing installed, no source fallback"
else
  fail "tampered file: refused"
fi

# 4. Tampered download with install: release: refused the same way.
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/www-tampered" WORKERS_CI_INSTALL=release
if [[ $RC -ne 0 ]] && has "checksum mismatch" && ! cargo_ran; then
  ok "tampered file, install: release: refused"
else
  fail "tampered file, install: release: refused"
fi

# 5. Unknown platform: falls back to a source build with a notice.
run_install RUNNER_ARCH=S390X
if [[ $RC -eq 0 && "$(out method)" == source ]] && cargo_ran &&
  has "::notice title=workers-ci install::no release binary is built for Linux/S390X; building from source instead" &&
  grep -qF -- "--manifest-path $ROOT/Cargo.toml" "$TMP/cargo.log" && [[ -x "$(out path)" ]]; then
  ok "unknown platform: falls back to source (cargo build --release --locked) with a notice"
else
  fail "unknown platform: falls back to source with a notice"
fi

# 6. Unknown platform with install: release: an error, no build.
run_install RUNNER_OS=FreeBSD WORKERS_CI_INSTALL=release
if [[ $RC -ne 0 ]] && has "::error title=workers-ci install::install: release: no release binary is built for FreeBSD/X64" && ! cargo_ran; then
  ok "unknown platform, install: release: fails without building"
else
  fail "unknown platform, install: release: fails"
fi

# 7. The committed manifest (no release published yet): auto builds from source.
run_install WORKERS_CI_MANIFEST="$ROOT/dist-manifest.json"
if [[ $RC -eq 0 && "$(out method)" == source ]] && cargo_ran && has "has no release binary for $TARGET"; then
  ok "committed dist-manifest.json without binaries: auto falls back to source with a notice"
else
  fail "committed dist-manifest.json: auto falls back to source"
fi

# 8. A download that fails (404): auto warns and builds from source ...
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/missing"
if [[ $RC -eq 0 && "$(out method)" == source ]] && cargo_ran && has "::warning title=workers-ci install::download failed"; then
  ok "download fails (404): auto warns and builds from source"
else
  fail "download fails (404): auto warns and builds from source"
fi

# 9. ... and install: release fails.
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/missing" WORKERS_CI_INSTALL=release
if [[ $RC -ne 0 ]] && has "install: release: download failed" && ! cargo_ran; then
  ok "download fails (404), install: release: an error"
else
  fail "download fails (404), install: release: an error"
fi

# 10. Plain http is refused by curl's --proto '=https', even when pointed at it.
run_install WORKERS_CI_DOWNLOAD_BASE="http://127.0.0.1:9/www" WORKERS_CI_INSTALL=release
if [[ $RC -ne 0 ]] && has "Protocol \"http\" not supported" && ! cargo_ran; then
  ok "http:// download base: refused by curl (https only)"
else
  fail "http:// download base: refused by curl"
fi

# 11. install: source builds even when a release binary exists.
run_install WORKERS_CI_INSTALL=source
if [[ $RC -eq 0 && "$(out method)" == source ]] && cargo_ran && ! has downloading; then
  ok "install: source: cargo build --release --locked, no download"
else
  fail "install: source: builds from source"
fi

# 12. binary_path: used as it is.
run_install WORKERS_CI_BINARY_PATH="$TMP/pkg/workers-ci"
if [[ $RC -eq 0 && "$(out method)" == binary_path && "$(out path)" == "$TMP/pkg/workers-ci" ]] && ! cargo_ran && ! has downloading; then
  ok "binary_path: used as it is, nothing downloaded or built"
else
  fail "binary_path: used as it is"
fi

# 13. binary_path that does not exist: an error.
run_install WORKERS_CI_BINARY_PATH="$TMP/nope/workers-ci"
if [[ $RC -ne 0 ]] && has "binary_path: no file at" && ! cargo_ran; then
  ok "binary_path missing: an error"
else
  fail "binary_path missing: an error"
fi

# 14. A bad install value: an error.
run_install WORKERS_CI_INSTALL=binary
if [[ $RC -ne 0 ]] && has "input \`install\` must be auto, release or source"; then
  ok "install: binary (unknown value): an error"
else
  fail "install: unknown value: an error"
fi

# 15. Platform mapping: every published target has a RUNNER_OS/RUNNER_ARCH that selects it.
map_ok=1
for pair in Linux/X64=x86_64-unknown-linux-musl Linux/ARM64=aarch64-unknown-linux-musl \
  macOS/X64=x86_64-apple-darwin macOS/ARM64=aarch64-apple-darwin Windows/X64=x86_64-pc-windows-msvc; do
  os=${pair%%/*} rest=${pair#*/} arch=${rest%%=*} want=${pair#*=}
  run_install RUNNER_OS="$os" RUNNER_ARCH="$arch" WORKERS_CI_INSTALL=release
  has "has no release binary for $want" || has "downloading workers-ci $VERSION for $want" || map_ok=0
done
if [[ $map_ok -eq 1 ]]; then ok "RUNNER_OS/RUNNER_ARCH map to the five release targets"; else fail "platform mapping"; fi

# --- hardening: what an earlier step could leave behind has no effect ----------------------
# Every fake tool below forges the checksum (prints the manifest's SHA-256, whatever the
# input) or records that it ran in $MARKS; each test serves the tampered archive, which
# only a forged checksum would let through.
GOOD_SHA=$(sed -n "s/.*\"$TARGET\": { \"file\": \"[^\"]*\", \"sha256\": \"\([0-9a-f]*\)\".*/\1/p" "$TMP/manifest.json")
[[ ${#GOOD_SHA} -eq 64 ]] || {
  echo "test-install: no sha256 for $TARGET in the test manifest" >&2
  exit 1
}
MARKS=$TMP/marks
mkdir -p "$MARKS" "$TMP/planted"
marks() { find "$MARKS" -type f -printf '%f ' | sort; }
marked() { [[ -n "$(marks)" ]]; }
clear_marks() { rm -f "$MARKS"/*; }
refused_tampered() {
  [[ $RC -ne 0 ]] && has "checksum mismatch for $ASSET" && [[ -z "$(out path)" ]] && ! cargo_ran
}
# The bodies, as an attacker would write them: sha256sum/shasum forge, curl and tar record.
FORGE_BODY="{ : >\"$MARKS/\${FUNCNAME[0]}\"; echo \"$GOOD_SHA  -\"; }"
RECORD_BODY="{ : >\"$MARKS/\${FUNCNAME[0]}\"; command \"\${FUNCNAME[0]}\" \"\$@\"; }"
{
  echo ": >\"$MARKS/bash_env\""
  for f in sha256sum shasum; do echo "$f() $FORGE_BODY"; done
  for f in curl tar; do echo "$f() $RECORD_BODY"; done
} >"$TMP/poison.sh"
EXPORTED=()
for f in sha256sum shasum; do EXPORTED+=("BASH_FUNC_$f%%=() $FORGE_BODY"); done
for f in curl tar; do EXPORTED+=("BASH_FUNC_$f%%=() $RECORD_BODY"); done
for f in sha256sum shasum; do
  printf '#!/bin/sh\n: >"%s/planted-%s"\necho "%s  -"\n' "$MARKS" "$f" "$GOOD_SHA" >"$TMP/planted/$f"
done
for f in curl tar; do
  printf '#!/bin/sh\n: >"%s/planted-%s"\nexec /usr/bin/%s "$@"\n' "$MARKS" "$f" "$f" >"$TMP/planted/$f"
done
chmod +x "$TMP/planted"/*
# Self-check: the poison works where nothing protects against it (plain bash).
if env BASH_ENV="$TMP/poison.sh" bash -c "sha256sum </dev/null" | grep -q "$GOOD_SHA" &&
  env "${EXPORTED[0]}" bash -c "sha256sum </dev/null" | grep -q "$GOOD_SHA"; then
  clear_marks
else
  echo "test-install: the poisoned BASH_ENV / exported functions do not forge in plain bash" >&2
  exit 1
fi

# 16. A poisoned BASH_ENV (as an earlier step sets it through $GITHUB_ENV): never read.
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/www-tampered" BASH_ENV="$TMP/poison.sh"
if refused_tampered && ! marked; then
  ok "poisoned BASH_ENV: never runs (the step and install.sh are bash -p); the tampered archive is refused"
else
  fail "poisoned BASH_ENV: no effect ($(marks))"
fi
clear_marks

# 17. Exported functions shadowing sha256sum, shasum, curl and tar: never imported.
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/www-tampered" "${EXPORTED[@]}"
if refused_tampered && ! marked; then
  ok "exported functions sha256sum/shasum (forging) and curl/tar: not imported; the tampered archive is refused"
else
  fail "exported functions: no effect ($(marks))"
fi
clear_marks
CACHE=$TMP/cache-exported run_install "${EXPORTED[@]}"
if [[ $RC -eq 0 && "$(out method)" == release ]] && has "sha256 verified" && ! marked; then
  ok "exported functions: the right archive still installs, none of them ran"
else
  fail "exported functions: the right archive installs ($(marks))"
fi
clear_marks

# 18. A caller that forgets -p (plain `bash install.sh`, BASH_ENV and functions exported):
#     BASH_ENV runs before the first line (nothing can prevent that), but install.sh
#     re-runs itself under bash -p at once, so neither its functions nor the exported
#     ones are used.
RUN=(bash "$INSTALL")
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/www-tampered" BASH_ENV="$TMP/poison.sh" "${EXPORTED[@]}"
RUN=()
if refused_tampered && [[ "$(marks)" == "bash_env " ]]; then
  ok "plain 'bash install.sh': re-runs itself under bash -p; the functions (BASH_ENV's and exported) do not run"
else
  fail "plain 'bash install.sh': re-runs under bash -p ($(marks))"
fi
clear_marks

# 19. Programs named sha256sum, shasum, curl and tar planted at the front of PATH: not used.
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/www-tampered" PATH="$TMP/planted:$TMP/fakebin:$PATH"
if refused_tampered && ! marked && has "tools: /usr/bin/curl, /usr/bin/tar, /usr/bin/sha256sum"; then
  ok "planted sha256sum/shasum/curl/tar in front of PATH: not used (tools resolved in /usr/bin first)"
else
  fail "planted tools in PATH: not used ($(marks))"
fi
clear_marks

# 20. Verify before extract: under strace, the tampered archive never reaches tar (or gzip);
#     the right one does (so this test can see a tar when there is one).
traced_execs() { sed -n 's/^[0-9]* *execve("\([^"]*\)".*/\1/p' "$TMP/trace"; }
WRAP=(strace -f -qq -e trace=execve -o "$TMP/trace")
run_install WORKERS_CI_DOWNLOAD_BASE="$BASE/www-tampered"
tampered_execs=$(traced_execs | sed 's|.*/||' | sort -u | tr '\n' ' ')
CACHE=$TMP/cache-traced run_install
good_execs=$(traced_execs | sed 's|.*/||' | sort -u | tr '\n' ' ')
WRAP=()
if [[ " $tampered_execs " == *" sha256sum "* && " $tampered_execs " != *" tar "* && " $tampered_execs " != *" gzip "* &&
  " $good_execs " == *" tar "* ]]; then
  ok "tampered archive: hashed, never extracted (no tar or gzip ran; the right archive's run did run tar)"
else
  fail "tampered archive never extracted: programs run: tampered [$tampered_execs], right [$good_execs]"
fi

rm -f "$TMP/last.log"
echo
if [[ -n "${COLD_MS:-}" ]]; then
  echo "test-install: setup time from a loopback https manifest: ${COLD_MS} ms cold (download + verify + unpack), ${WARM_MS:-?} ms from the tool cache"
fi
echo "install-script tests: $passed passed, $failed failed"
[[ $failed -eq 0 ]]

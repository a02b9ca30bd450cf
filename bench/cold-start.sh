#!/usr/bin/env bash
# What README's two commands cost on a fresh clone: the first `cargo run --release -- demo` (a
# release build from nothing, then the demo) and the first `cargo test --locked` (a test build
# from nothing, then the suite), each from an empty target directory; and the demo from a debug
# build, the quicker first try (BENCHMARKS.md, "Cold start").
#
#   bench/cold-start.sh
#
# About 12 minutes on 2 cores. Dependencies are fetched first (`cargo fetch --locked`) and not
# timed: a download's speed says nothing about this project. Run it on an otherwise idle machine:
# a build's wall time is its CPU time shared among whatever else runs. Not part of the tests or of
# .ci/run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

git clone --quiet "$root" "$work/clone"
cd "$work/clone"
export CARGO_TARGET_DIR="$work/target"
cargo fetch --locked --quiet
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# One timed step: its wall and CPU seconds, appended to the table.
rows=()
timed() {
  local name=$1; shift
  echo "cold-start: $name: $*" >&2
  local out="$work/time"
  /usr/bin/time -o "$out" -f '%e %U %S' "$@" >/dev/null 2>"$work/log" || {
    cat "$work/log" >&2
    exit 1
  }
  read -r wall user sys <"$out"
  # The command as a reader would type it, without this run's temporary directory.
  local shown="$*"
  shown="${shown//$work\//}"
  shown="${shown//env CARGO_TARGET_DIR=target-debug /CARGO_TARGET_DIR=target-debug }"
  rows+=("| $name | \`$shown\` | $wall s | $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }') s |")
}

timed "release build" cargo build --release --locked
timed "demo (built)" "$CARGO_TARGET_DIR/release/workers-ci" demo
timed "test build" cargo test --locked --no-run
timed "tests (built)" cargo test --locked
# The demo from a debug build, in a target directory of its own so that nothing is shared.
timed "debug build" env CARGO_TARGET_DIR="$work/target-debug" cargo build --locked
timed "demo (debug)" "$work/target-debug/debug/workers-ci" demo

printf '| step | command | wall | CPU (user + sys) |\n| --- | --- | --- | --- |\n'
printf '%s\n' "${rows[@]}"
printf '\n%s cores; load average before: %s, after: %s\n' "$(nproc)" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"

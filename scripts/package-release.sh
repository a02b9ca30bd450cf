#!/usr/bin/env bash
# Packs one built binary the way a release publishes it. release.yml's build job and the
# release dry run (scripts/release-dry-run.sh) both call this, so what the dry run installs
# is laid out exactly as a release is:
#
#   scripts/package-release.sh BINARY TARGET VERSION OUT_DIR
#
# Checks that BINARY runs and prints `workers-ci VERSION` first, then writes
# OUT_DIR/workers-ci-<TARGET>.tar.gz holding one member at its root: `workers-ci`, or
# `workers-ci.exe` for a Windows target. tar.gz on every platform: install.sh unpacks it
# with tar, and Cargo.toml's [package.metadata.binstall] names it (`pkg-fmt = "tgz"`).
# Prints the archive's path.
set -euo pipefail

[[ $# -eq 4 ]] || {
  echo "usage: $0 BINARY TARGET VERSION OUT_DIR" >&2
  exit 2
}
binary=$1 target=$2 version=$3 out=$4
[[ "$target" =~ ^[a-z0-9_]+(-[a-z0-9_]+)+$ ]] || {
  echo "package-release: not a target triple: $target" >&2
  exit 2
}
exe=""
if [[ "$target" == *windows* ]]; then exe=.exe; fi
[[ -f "$binary" && -x "$binary" ]] || {
  echo "package-release: no executable at $binary" >&2
  exit 1
}

# Smoke test: the binary runs where it was built and is the version being released.
got=$("$binary" --version | head -1 | tr -d '\r')
[[ "$got" == "workers-ci $version" ]] || {
  echo "package-release: $binary --version says '$got', not 'workers-ci $version'" >&2
  exit 1
}

mkdir -p "$out"
stage=$(mktemp -d "${TMPDIR:-/tmp}/workers-ci-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/workers-ci$exe"
chmod 755 "$stage/workers-ci$exe"
archive=$out/workers-ci-$target.tar.gz
tar -czf "$archive" -C "$stage" "workers-ci$exe"
echo "package-release: $archive ($(wc -c <"$archive" | tr -d ' ') bytes): workers-ci$exe, $got" >&2
printf '%s\n' "$archive"

#!/usr/bin/env bash
# Completes a release directory from its archives: SHA256SUMS and dist-manifest.json
# (scripts/write-manifest.sh). release.yml's release job and the release dry run
# (scripts/release-dry-run.sh) both call this.
#
#   scripts/assemble-release.sh DIST VERSION DOWNLOAD_BASE TARGET...
#
# DIST must hold exactly workers-ci-<TARGET>.tar.gz for every TARGET given and no other
# workers-ci-*.tar.gz: a build that went missing (or one nobody asked for) stops the
# release before anything is published. Writes DIST/SHA256SUMS (in TARGET order) and
# DIST/dist-manifest.json, and prints the release's asset names, one a line.
set -euo pipefail

[[ $# -ge 4 ]] || {
  echo "usage: $0 DIST VERSION DOWNLOAD_BASE TARGET..." >&2
  exit 2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dist=$1 version=$2 base=$3
shift 3

archives=()
for target in "$@"; do
  file=workers-ci-$target.tar.gz
  [[ -f "$dist/$file" ]] || {
    echo "assemble-release: $dist/$file is missing (target $target)" >&2
    exit 1
  }
  archives+=("$file")
done
for path in "$dist"/workers-ci-*.tar.gz; do
  file=${path##*/}
  case " ${archives[*]} " in
    *" $file "*) ;;
    *)
      echo "assemble-release: $dist/$file is not one of the release's targets ($*)" >&2
      exit 1
      ;;
  esac
done

(cd "$dist" && sha256sum "${archives[@]}" >SHA256SUMS)
bash "$here/write-manifest.sh" "$version" "$base" "$dist/SHA256SUMS" >"$dist/dist-manifest.json"
cat "$dist/SHA256SUMS" >&2
printf '%s\n' "${archives[@]}" SHA256SUMS dist-manifest.json

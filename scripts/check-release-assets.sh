#!/usr/bin/env bash
# Checks a GitHub release's assets against the release directory they were uploaded from.
# release.yml runs it on the draft (before publishing) and on the published release (before
# moving the major tag vX, which it refuses to move when this fails); the release dry run
# runs it on listings with an asset missing or altered, to see it refuse.
#
#   gh api "repos/OWNER/REPO/releases/ID/assets?per_page=100" |
#     scripts/check-release-assets.sh DIST
#
# stdin: the REST API's list of release assets (docs/github-actions.md §5.1): a JSON
# array of objects with `name`, `state` and, on github.com, `digest` ("sha256:<hex>").
# Wanted: every archive dist-manifest.json lists, SHA256SUMS and dist-manifest.json, each
# `state: uploaded`, and, where GitHub gives a digest, the SHA-256 of the file in DIST
# (for archives also the one in the manifest). Exit 0 when all are there; otherwise one
# ::error:: line per problem and exit 1. Needs jq and sha256sum.
set -euo pipefail

[[ $# -eq 1 ]] || {
  echo "usage: $0 DIST < assets.json" >&2
  exit 2
}
dist=$1
manifest=$dist/dist-manifest.json
[[ -f "$manifest" && -f "$dist/SHA256SUMS" ]] || {
  echo "::error::check-release-assets: $dist has no dist-manifest.json or SHA256SUMS"
  exit 1
}

# "name state digest" per asset (digest "-" when GitHub gives none).
listing=$(jq -r '.[] | "\(.name) \(.state) \(.digest // "-")"') || {
  echo "::error::check-release-assets: the asset list is not the API's JSON array"
  exit 1
}

# The manifest's archives: the fixed one-target-per-line layout write-manifest.sh writes.
wanted=()
while read -r file sha; do
  wanted+=("$file $sha")
done < <(sed -n 's/^ *"[^"]*": { "file": "\([^"]*\)", "sha256": "\([0-9a-f]\{64\}\)" },*$/\1 \2/p' "$manifest")
[[ ${#wanted[@]} -gt 0 ]] || {
  echo "::error::check-release-assets: $manifest lists no archives"
  exit 1
}
wanted+=("SHA256SUMS -" "dist-manifest.json -")

problems=0
problem() {
  echo "::error::release asset $1"
  problems=$((problems + 1))
}
for entry in "${wanted[@]}"; do
  name=${entry%% *} manifest_sha=${entry#* }
  [[ -f "$dist/$name" ]] || {
    problem "$name: not in $dist"
    continue
  }
  local_sha=$(sha256sum <"$dist/$name")
  local_sha=${local_sha%% *}
  if [[ "$manifest_sha" != - && "$manifest_sha" != "$local_sha" ]]; then
    problem "$name: dist-manifest.json says sha256 $manifest_sha, $dist/$name has $local_sha"
  fi
  line=$(awk -v n="$name" '$1 == n' <<<"$listing")
  if [[ -z "$line" ]]; then
    problem "$name: missing from the release"
    continue
  fi
  read -r _ state digest <<<"$line"
  if [[ "$state" != uploaded ]]; then
    problem "$name: state $state, not uploaded"
  elif [[ "$digest" != - && "$digest" != "sha256:$local_sha" ]]; then
    problem "$name: the release has $digest, $dist/$name is sha256:$local_sha"
  fi
done
if [[ $problems -gt 0 ]]; then
  echo "check-release-assets: $problems problem(s); ${#wanted[@]} assets wanted" >&2
  exit 1
fi
echo "check-release-assets: all ${#wanted[@]} assets uploaded and matching $dist"

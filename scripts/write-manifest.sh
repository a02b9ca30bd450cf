#!/usr/bin/env bash
# Writes dist-manifest.json, the table scripts/install.sh reads, from a release's
# SHA256SUMS file:
#
#   scripts/write-manifest.sh VERSION DOWNLOAD_BASE SHA256SUMS > dist-manifest.json
#
# SHA256SUMS lines are `<sha256>  workers-ci-<target>.tar.gz` (sha256sum's
# format); other files in it are skipped. The layout is fixed, one target per
# line, because install.sh reads it with sed (no jq or python on every runner).
# release.yml runs this; scripts/test-install.sh round-trips it.
set -euo pipefail

[[ $# -eq 3 ]] || {
  echo "usage: $0 VERSION DOWNLOAD_BASE SHA256SUMS" >&2
  exit 2
}
version=$1 base=$2 sums=$3
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || {
  echo "bad version: $version" >&2
  exit 2
}
[[ "$base" =~ ^https://[^\"[:space:]]+$ ]] || {
  echo "download base must be an https:// URL without quotes or spaces: $base" >&2
  exit 2
}

entries=()
while read -r sha file; do
  file=${file#\*} # sha256sum -b marks binary mode with '*'
  [[ "$file" =~ ^workers-ci-([a-z0-9_]+(-[a-z0-9_]+)+)\.tar\.gz$ ]] || continue
  target=${BASH_REMATCH[1]}
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || {
    echo "bad sha256 for $file" >&2
    exit 1
  }
  entries+=("    \"$target\": { \"file\": \"$file\", \"sha256\": \"$sha\" }")
done <"$sums"
[[ ${#entries[@]} -gt 0 ]] || {
  echo "no workers-ci-<target>.tar.gz in $sums" >&2
  exit 1
}

printf '{\n'
printf '  "schema": 1,\n'
printf '  "version": "%s",\n' "$version"
printf '  "download_base": "%s",\n' "$base"
printf '  "targets": {\n'
last=$((${#entries[@]} - 1))
for i in "${!entries[@]}"; do
  if [[ $i -lt $last ]]; then printf '%s,\n' "${entries[$i]}"; else printf '%s\n' "${entries[$i]}"; fi
done
printf '  }\n'
printf '}\n'

# shellcheck shell=bash
# The script of every job in templates/*.yml, the GitLab CI/CD components. Edit it here: the
# templates inline it (regenerate them with `UPDATE_PLATFORM_FILES=1 cargo test --test it
# platforms::`; the test fails while they differ). Bash; the templates' default image has it.
# This file must never contain GitLab's interpolation brackets: they would be interpolated.
#
# Inputs reach it only as variables the template sets (INPUT_* for the binary, WORKERS_CI_*
# for this script): no input is ever pasted into this text (docs/gitlab-ci.md §N.1).
#
# 1. Fetch scripts/install.sh and dist-manifest.json from the component project at the
#    component's own commit (`component.sha`), so the binary is the one that commit pins.
# 2. Run install.sh as action.yml does: it verifies the archive's SHA-256 against the
#    manifest, or takes `binary_path` as it is.
# 3. exec the binary, so a cancelled job's signal reaches it (it cancels the remote build).
set -euo pipefail
if [[ ! "${WORKERS_CI_COMPONENT_SHA:-}" =~ ^[0-9a-f]{40}$ ]]; then
  echo "workers-ci: the component's commit is unknown (the template reads it from component.sha, which needs GitLab 18.7 or later); include the component at a version or a commit" >&2
  exit 1
fi
if [[ ! "${WORKERS_CI_COMPONENT_PROJECT:-}" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]*$ ]]; then
  echo "workers-ci: input component_project must be the component project's path, e.g. workers-ci/workers-ci" >&2
  exit 1
fi
workers_ci_base="$CI_SERVER_URL/$WORKERS_CI_COMPONENT_PROJECT/-/raw/$WORKERS_CI_COMPONENT_SHA"
workers_ci_dir=$(mktemp -d "${TMPDIR:-/tmp}/workers-ci-component.XXXXXX")
mkdir -p "$workers_ci_dir/scripts"
for f in scripts/install.sh dist-manifest.json; do
  curl --proto '=https' --tlsv1.2 -fsSL --retry 5 --retry-connrefused --connect-timeout 20 \
    -o "$workers_ci_dir/$f" "$workers_ci_base/$f"
done
# install.sh hands back the binary's path the way it does on GitHub: `path=` in $GITHUB_OUTPUT,
# here a file of our own that only install.sh sees (the binary must not think it is on GitHub).
GITHUB_OUTPUT="$workers_ci_dir/install.out" WORKERS_CI_INSTALL="${WORKERS_CI_INSTALL:-auto}" \
  WORKERS_CI_BINARY_PATH="${WORKERS_CI_BINARY_PATH:-}" bash -p "$workers_ci_dir/scripts/install.sh"
workers_ci_bin=$(sed -n 's/^path=//p' "$workers_ci_dir/install.out")
rm -rf "$workers_ci_dir"
exec "$workers_ci_bin" --command "$WORKERS_CI_COMMAND"

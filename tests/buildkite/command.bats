#!/usr/bin/env bats
# hooks/command, the Buildkite plugin, with the configuration of README's pipeline
# (pipeline.yml, equal to README's block by tests/it/readme.rs) as the agent hands it over, and
# buildkite-agent replaced by a recording stub (docs/buildkite.md §O.4), against the simulator.
# Run by .ci/other-ci, which sets WORKERS_CI (the binary), SIM_URL and FAIL_SIM_URL (a simulator
# whose builds fail).

setup() {
  : "${WORKERS_CI:?}" "${SIM_URL:?}" "${FAIL_SIM_URL:?}"
  ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  cp "$BATS_TEST_DIRNAME/buildkite-agent" "$BATS_TEST_TMPDIR/bin/"
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH" BUILDKITE_AGENT_STUB_LOG="$BATS_TEST_TMPDIR/agent.log"
  : >"$BUILDKITE_AGENT_STUB_LOG"
  TOKEN=simulator-token-for-buildkite
  export CLOUDFLARE_API_TOKEN=$TOKEN CLOUDFLARE_ACCOUNT_ID=023e105f4ecef8ad9ca31a8372d0c353
  export CLOUDFLARE_API_BASE_URL=$SIM_URL WORKERS_CI_TIME_SCALE=0.05
  export BUILDKITE_BRANCH=main BUILDKITE_COMMIT=0123456789abcdef0123456789abcdef01234567 BUILDKITE_JOB_ID=0190-job-1
  python3 "$BATS_TEST_DIRNAME/plugin-env.py" "$BATS_TEST_DIRNAME/pipeline.yml" >"$BATS_TEST_TMPDIR/plugin.env"
  . "$BATS_TEST_TMPDIR/plugin.env"
  # What the test adds to README's step: the binary built here instead of a release download.
  export BUILDKITE_PLUGIN_WORKERS_CI_BINARY_PATH=$WORKERS_CI
  cd "$BATS_TEST_TMPDIR"
}

agent_calls() { cat "$BUILDKITE_AGENT_STUB_LOG"; }

@test "README's step: the build's log streamed, outputs as build meta-data, the summary as an annotation" {
  [ "$BUILDKITE_PLUGIN_WORKERS_CI_COMMAND" = build ]
  [ "$BUILDKITE_PLUGIN_WORKERS_CI_WORKER" = my-worker ]
  run bash "$ROOT/hooks/command"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"workers-ci install: ready in "*"(binary_path)"* ]]
  [[ "$output" == *"Executing user build command"* ]]
  [[ "$output" != *"could not"* ]]
  [[ "$output" != *"$TOKEN"* ]]
  agent_calls
  grep -Eq "^buildkite-agent meta-data set workers-ci:build_uuid [0-9a-f-]{36}$" "$BUILDKITE_AGENT_STUB_LOG"
  grep -qx "buildkite-agent meta-data set workers-ci:build_outcome success" "$BUILDKITE_AGENT_STUB_LOG"
  grep -qx "buildkite-agent meta-data set workers-ci:branch main" "$BUILDKITE_AGENT_STUB_LOG"
  grep -qx "buildkite-agent meta-data set workers-ci:commit $BUILDKITE_COMMIT" "$BUILDKITE_AGENT_STUB_LOG"
  grep -qx "buildkite-agent annotate --style success --context workers-ci-0190-job-1" "$BUILDKITE_AGENT_STUB_LOG"
  ! grep -q "$TOKEN" "$BUILDKITE_AGENT_STUB_LOG"
  head -1 "$BUILDKITE_AGENT_STUB_LOG.annotation" | grep -qx "### workers-ci build"
  grep -q "success" "$BUILDKITE_AGENT_STUB_LOG.annotation"

  # README's next step reads an output back.
  report=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["steps"][2]["command"])' "$BATS_TEST_DIRNAME/pipeline.yml")
  run bash -c "$report"
  [ "$status" -eq 0 ]
  [ "$output" = success ]
}

@test "a failing build fails the step with the binary's code and says why; annotation in the error style" {
  export CLOUDFLARE_API_BASE_URL=$FAIL_SIM_URL
  run bash "$ROOT/hooks/command"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"of Worker my-worker finished with outcome \`fail\`"* ]]
  agent_calls
  grep -qx "buildkite-agent meta-data set workers-ci:build_outcome fail" "$BUILDKITE_AGENT_STUB_LOG"
  grep -qx "buildkite-agent annotate --style error --context workers-ci-0190-job-1" "$BUILDKITE_AGENT_STUB_LOG"
  grep -q "fail" "$BUILDKITE_AGENT_STUB_LOG.annotation"
}

@test "a misspelt key is refused before anything runs" {
  export BUILDKITE_PLUGIN_WORKERS_CI_WORKERS=my-worker
  run bash "$ROOT/hooks/command"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown configuration key \`workers\`"* ]]
  [[ "$output" != *"workers-ci install"* ]]
  [ ! -s "$BUILDKITE_AGENT_STUB_LOG" ]
}

@test "a secret in the plugin configuration is refused, and not printed" {
  export BUILDKITE_PLUGIN_WORKERS_CI_API_TOKEN=pasted-secret-value-123
  run bash "$ROOT/hooks/command"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ "$output" == *"\`api_token\` is a secret"*"CLOUDFLARE_API_TOKEN"* ]]
  [[ "$output" != *"pasted-secret-value-123"* ]]
  [ ! -s "$BUILDKITE_AGENT_STUB_LOG" ]
}

@test "a list where a string is expected is refused, with the fix" {
  unset BUILDKITE_PLUGIN_WORKERS_CI_WORKER
  export BUILDKITE_PLUGIN_WORKERS_CI_WORKER_0=a BUILDKITE_PLUGIN_WORKERS_CI_WORKER_1=b
  run bash "$ROOT/hooks/command"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ "$output" == *"\`worker\` must be a string, not a list"* ]]
}

@test "without binary_path: the release archive the plugin's manifest lists, SHA-256 verified" {
  : "${TEST_RELEASE_MANIFEST:?}" "${CURL_CA_BUNDLE:?}"
  unset BUILDKITE_PLUGIN_WORKERS_CI_BINARY_PATH
  # The plugin's dist-manifest.json, as a release commit holds it (install.sh's test override),
  # and a fresh TMPDIR: install.sh caches the binary under it.
  export WORKERS_CI_MANIFEST=$TEST_RELEASE_MANIFEST TMPDIR=$BATS_TEST_TMPDIR/tmp
  mkdir -p "$TMPDIR"
  run bash "$ROOT/hooks/command"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"workers-ci install: sha256 verified: "* ]]
  [[ "$output" == *"workers-ci install: ready in "*"(release)"* ]]
  grep -qx "buildkite-agent meta-data set workers-ci:build_outcome success" "$BUILDKITE_AGENT_STUB_LOG"
}

@test "a tampered release archive is refused: the step fails before the binary runs" {
  : "${TAMPERED_RELEASE_MANIFEST:?}" "${CURL_CA_BUNDLE:?}"
  unset BUILDKITE_PLUGIN_WORKERS_CI_BINARY_PATH
  export WORKERS_CI_MANIFEST=$TAMPERED_RELEASE_MANIFEST TMPDIR=$BATS_TEST_TMPDIR/tmp
  mkdir -p "$TMPDIR"
  run bash "$ROOT/hooks/command"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"checksum mismatch for workers-ci-"* ]]
  [[ "$output" != *"Build "* ]]
  [ ! -s "$BUILDKITE_AGENT_STUB_LOG" ]
}

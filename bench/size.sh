#!/usr/bin/env bash
# The release binary's size against its budget (BENCHMARKS.md, "Binary size"), with the
# embedded simulator (the default build) and without it (--no-default-features). Exits 1 when
# either is over budget, so a dependency that doubles the binary is caught where it lands.
#
#   bench/size.sh
#
# Two release builds (LTO, one codegen unit): 2–8 minutes on 2 cores when dependencies are
# already built, more from cold. Not part of the tests or of .ci/run, which must stay quick.
# Budgets in bytes may be overridden: SIZE_BUDGET_SIM, SIZE_BUDGET_NO_SIM.
set -euo pipefail

# 9.9 MiB with the simulator, 9.0 MiB without: the sizes measured after issues 20, 25 and 26
# (BENCHMARKS.md, "Binary size") plus about 4 %, less than the half mebibyte that a second jiff
# major and regex cost, so that kind of regression fails while ordinary growth passes.
budget_sim="${SIZE_BUDGET_SIM:-13526630}"
budget_no_sim="${SIZE_BUDGET_NO_SIM:-10328474}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$target_dir/release/workers-ci"

# The size of the binary that `cargo build --release --locked "$@"` leaves.
size_of() {
  echo "size: cargo build --release --locked $*" >&2
  cargo build --release --locked "$@" >&2
  stat -c %s "$bin"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }

sim=$(size_of)
no_sim=$(size_of --no-default-features)

status=0
printf '| build | size | budget | |\n| --- | --- | --- | --- |\n'
row() {
  local name=$1 bytes=$2 budget=$3 verdict=pass
  if [ "$bytes" -gt "$budget" ]; then verdict="**OVER**"; status=1; fi
  printf '| %s | %s (%s bytes) | ≤ %s | %s |\n' "$name" "$(mib "$bytes")" "$bytes" "$(mib "$budget")" "$verdict"
}
row "with the simulator (default)" "$sim" "$budget_sim"
row "without (--no-default-features)" "$no_sim" "$budget_no_sim"
printf "| the simulator's share | %s (%s bytes) | | |\n" "$(mib "$((sim - no_sim))")" "$((sim - no_sim))"
exit "$status"

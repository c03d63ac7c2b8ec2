#!/usr/bin/env bash
# README command 2: everything CI checks. Installs what it needs, fetches the public
# datasets into the cache (checksums verified), then format, lints and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
source scripts/env.sh
bash datasets/fetch.sh
bash scripts/check-ui-free.sh
python3 scripts/check-boundary.py
python3 scripts/check-modules.py
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -q -- -D warnings
# One local Spark Connect server for the run (Spark 4.2.1 from PyPI, local[2], 127.0.0.1);
# the Spark tests require it. Stopped at the end; its log is printed when a test failed.
eval "$(bash scripts/spark.sh start)"
export SHOPLAB_REQUIRE_SPARK=1
trap 'bash scripts/spark.sh stop' EXIT
log="$(mktemp)"
status=0
cargo test --workspace 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the Spark Connect server's log (last 40 lines) ---"
  bash scripts/spark.sh log | tail -40
fi
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ {p += $4; f += $6; s += $8} END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
rm -f "$log"
exit "$status"

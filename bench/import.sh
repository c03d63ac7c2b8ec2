#!/usr/bin/env bash
# Import benchmark: `shoplab import` of a generated REES46-shaped CSV against DuckDB's own
# CREATE TABLE … AS SELECT * FROM read_csv(…), same DuckDB build, same file, same run.
# Prints times, the ratio and peak RSS.   ROWS=10000000 bash bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export ROWS="${ROWS:-10000000}"
export BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
cargo build --release -q -p shoplab-cli
export SHOPLAB_BIN="$CARGO_TARGET_DIR/release/shoplab"
python3 bench/import_bench.py

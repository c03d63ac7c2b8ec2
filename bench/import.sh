#!/usr/bin/env bash
# Import benchmark: `shoplab import` of a generated REES46-shaped file against DuckDB's own
# CREATE TABLE … AS SELECT * FROM read_csv/read_parquet(…) of the same file: stock DuckDB
# (PyPI's package, the version ShopLab bundles) and the bundled one (`shoplab sql`). Whole
# processes, start to exit; best wall time of 3 and peak RSS of each side, the ratio, and
# the import's own steps. The file as CSV, gzip-compressed CSV and Parquet.
#   ROWS=10000000 REPEAT=3 FORMATS=csv,gzip,parquet bash bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export ROWS="${ROWS:-10000000}"
export BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
venv="$BENCH_DIR/duckdb-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb; assert duckdb.__version__ == '2.0.0'" 2>/dev/null; then
  echo "installing duckdb 2.0.0 (the reference) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb==2.0.0
fi
export DUCKDB_PYTHON="$venv/bin/python"
cargo build --release -q -p shoplab-cli
export SHOPLAB_BIN="$CARGO_TARGET_DIR/release/shoplab"
python3 bench/import_bench.py

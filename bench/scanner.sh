#!/usr/bin/env bash
# Price sensitivity on real scanner panels (Ecdat Tuna, Ketchup, Catsup): `shoplab
# calibrate` against statsmodels' ConditionalLogit of the same utility.
#   bash bench/scanner.sh      (datasets/fetch.sh ecdat brings the panels)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
mkdir -p "$BENCH_DIR"
bash datasets/fetch.sh ecdat >/dev/null
cargo build -q --workspace
export SHOPLAB_BIN="$CARGO_TARGET_DIR/debug/shoplab"
VENV="$BENCH_DIR/venv-scanner"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q numpy==2.2.6 scipy==1.15.3 pandas==2.2.3 \
    statsmodels==0.14.4
fi
"$VENV/bin/python" bench/scanner_bench.py

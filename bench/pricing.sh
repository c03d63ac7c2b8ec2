#!/usr/bin/env bash
# Pricing bandits: `shoplab pricing` against a numpy implementation of the same world and
# policies, side by side (quality: % of the clairvoyant revenue; speed: seconds).
#   bash bench/pricing.sh                 SEEDS=100 HORIZONS=1000,10000
#   SHOPLAB_PROFILE=dev bash bench/pricing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
mkdir -p "$BENCH_DIR"
if [ "${SHOPLAB_PROFILE:-release}" = dev ]; then
  cargo build -q --workspace
  export SHOPLAB_BIN="$CARGO_TARGET_DIR/debug/shoplab"
else
  cargo build --release -q -p shoplab-cli
  export SHOPLAB_BIN="$CARGO_TARGET_DIR/release/shoplab"
fi
VENV="$BENCH_DIR/venv-pricing"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q numpy==2.2.6
fi
"$VENV/bin/python" bench/pricing_bench.py

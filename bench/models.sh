#!/usr/bin/env bash
# Model benchmark: reference Python libraries (Surprise, cornac, implicit) and `shoplab train` on
# the same MovieLens-100K split files, one table per section with both sides and the ratio:
# rating prediction (5-fold RMSE), top-10 ranking (stratified 75/25, NDCG/P/R@10), seconds per
# epoch. Figures also go to $BENCH_DIR/models-results.json.
#   bash bench/models.sh                  everything (a few minutes on 2 cores, plus our training)
#   SKIP_OURS=1 bash bench/models.sh      the reference side alone, no build
#   FOLDS=2 SECTIONS=rating,speed MF_ARGS="--objective mse --factors 64 --epochs 30" bash bench/models.sh
#   SHOPLAB_PROFILE=dev bash bench/models.sh   our side from the dev build (no release build)
# The other variables are listed in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
export BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
mkdir -p "$BENCH_DIR"
[ -f "$SHOPLAB_DATASETS/ml-100k/ml-100k.inter" ] || bash datasets/fetch.sh ml-100k
# SHOPLAB_PROFILE=dev uses the workspace's dev build (the model crates and candle are built
# at opt-level 3 there too; DuckDB is not, which the timed training never touches).
if [ "${SHOPLAB_PROFILE:-release}" = dev ]; then
  [ "${SKIP_OURS:-0}" = 0 ] && cargo build -q --workspace
  export SHOPLAB_BIN="$CARGO_TARGET_DIR/debug/shoplab"
else
  [ "${SKIP_OURS:-0}" = 0 ] && cargo build --release -q -p shoplab-cli
  export SHOPLAB_BIN="$CARGO_TARGET_DIR/release/shoplab"
fi

# Reference libraries, pinned; all six install as cp311 manylinux wheels (no compiler needed).
# cornac 2.3.x requires numpy >= 2; scikit-surprise 1.1.5 is built against numpy 2.
PINS=(numpy==2.2.6 scipy==1.15.3 pandas==2.2.3 cornac==2.3.5 implicit==0.7.2 scikit-surprise==1.1.5)
VENV="$BENCH_DIR/venv"
stamp="$VENV/.shoplab-pins"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PINS[*]}" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  log="$BENCH_DIR/venv-install.log"
  if ! "$VENV/bin/python" -m pip install -q "${PINS[@]}" >"$log" 2>&1; then
    # Surprise is the one that may need a compiler where no wheel fits: go on without it, and
    # the harness prints "Surprise unavailable: <reason>" in its rows.
    keep=()
    for p in "${PINS[@]}"; do [[ $p == scikit-surprise* ]] || keep+=("$p"); done
    "$VENV/bin/python" -m pip install -q "${keep[@]}"
    reason="$( (grep -E '^ERROR:|error:' "$log" | grep -v 'Ignored the following' || true) | tail -n1)"
    [ -n "$reason" ] || reason="$(tail -n1 "$log")"
    echo "pip install failed (${reason:0:200}; log: $log)" >"$VENV/.surprise-unavailable"
  fi
  echo "${PINS[*]}" >"$stamp"
fi
if [ -f "$VENV/.surprise-unavailable" ]; then
  export SURPRISE_UNAVAILABLE="$(cat "$VENV/.surprise-unavailable")"
fi
"$VENV/bin/python" bench/models_bench.py

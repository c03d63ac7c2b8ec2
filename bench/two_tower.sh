#!/usr/bin/env bash
# The text-aware two-tower recommender against ID-based models on MovieLens-100K with new
# items: the ratings as interactions, each movie's title and genres as its text, a per-user
# 8:1:1 split (seed 1) with a tenth of the movies held out of training (`--cold-items 0.1`).
# One table: popularity, EASE and BPR beside the two-tower with a frozen, a LoRA (rank 8)
# and a fully fine-tuned all-MiniLM-L6-v2 item tower; NDCG/recall/hit@10 over all items and
# the same on the cold slice (each user ranks the held-out movies), seconds and training
# examples per second.
#   bash bench/two_tower.sh                                     3 epochs, device auto
#   EPOCHS=5 DEVICE=cuda SHOPLAB_BIN=target/debug/shoplab-cuda bash bench/two_tower.sh
# Figures also go to $BENCH_DIR/two-tower-results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SHOPLAB_BIN:-}" ]; then
  source scripts/env.sh
  bash datasets/fetch.sh minilm ml-100k >/dev/null
  # The dev build: the model crate and candle are built at opt-level 3 there.
  cargo build -q --workspace
  SHOPLAB_BIN="$CARGO_TARGET_DIR/debug/shoplab"
fi
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
DATASETS="${SHOPLAB_DATASETS:-$HOME/.cache/shoplab/datasets}"
EPOCHS="${EPOCHS:-3}"
DEVICE="${DEVICE:-auto}"
mkdir -p "$BENCH_DIR"
ws="$BENCH_DIR/movielens-cold.duckdb"
rm -rf "$ws" "$ws.runs" "$ws.wal"
"$SHOPLAB_BIN" import "$ws" "$DATASETS/ml-100k/ml-100k.inter" >/dev/null
"$SHOPLAB_BIN" import "$ws" "$DATASETS/ml-100k/ml-100k.item" --kind items >/dev/null
"$SHOPLAB_BIN" split "$ws" --name cold --strategy random --seed 1 --cold-items "${COLD:-0.1}" >/dev/null
out="$BENCH_DIR/two-tower-results.jsonl"
: >"$out"
for model in pop ease bpr; do
  "$SHOPLAB_BIN" train "$ws" --split cold --model "$model" --device "$DEVICE" --json | tee -a "$out" >/dev/null
  echo "done: $model" >&2
done
tt() {
  "$SHOPLAB_BIN" finetune "$ws" --model "$DATASETS/minilm" --task two-tower --split cold \
    --max-tokens 32 --device "$DEVICE" --json "$@" | tee -a "$out" >/dev/null
  echo "done: two-tower $*" >&2
}
tt --method frozen --epochs $((EPOCHS * 2))
tt --lora 8 --epochs "$EPOCHS"
tt --method full --epochs "$EPOCHS" --lr 5e-5
python3 - "$out" "$BENCH_DIR/two-tower-results.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump(rows, open(sys.argv[2], "w"), indent=1)
cols = ["ndcg@10", "recall@10", "hit@10", "cold_ndcg@10", "cold_recall@10", "cold_hit@10"]
print(f"{'model':<18} {'device':<7} {'epochs':>6} " + " ".join(f"{c:>14}" for c in cols)
      + f" {'seconds':>8} {'ex/s':>6}")
for r in rows:
    m = r["metrics"]
    eps = r.get("examples_per_second")
    eps = "" if eps is None else f"{eps:.1f}"
    print(f"{r['model']:<18} {r['device']:<7} {r.get('epochs', 0):>6} "
          + " ".join(f"{m.get(c, float('nan')):>14.4f}" for c in cols)
          + f" {r['seconds']:>8.1f} {eps:>6}")
PY

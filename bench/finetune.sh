#!/usr/bin/env bash
# Text-model quality and training speed on Women's E-Commerce Clothing Reviews: for the
# rating (RMSE) and the recommended flag (AUC), the TF-IDF + linear baseline, the linear probe
# on frozen all-MiniLM-L6-v2 embeddings, LoRA (rank 8) and full fine-tuning, all on the same
# seeded split of LIMIT reviews (80/10/10), one table with validation and test values,
# seconds and training examples per second.
#   bash bench/finetune.sh                        2,000 reviews, 1 epoch, 64 tokens, device auto
#   LIMIT=22641 EPOCHS=3 MAX_TOKENS=128 DEVICE=cuda bash bench/finetune.sh   the whole set
#   SHOPLAB_BIN=target/debug/shoplab-cuda bash bench/finetune.sh            another binary
#   TASKS=rating METHODS=full bash bench/finetune.sh                          one row
#   REFERENCE=1 TASKS=rating METHODS=full PAIRS=3 bash bench/finetune.sh      3 more pairs against PyTorch
# Figures also go to $BENCH_DIR/finetune-results.json. With the sentence-transformers
# environment of bench/embed.sh (`REFERENCE=1` installs it), full fine-tuning also runs on
# PyTorch (bench/finetune_reference.py) on the same training reviews, batches and threads,
# and the two training speeds are printed side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SHOPLAB_BIN:-}" ]; then
  source scripts/env.sh
  bash datasets/fetch.sh minilm clothing-reviews >/dev/null
  # The dev build: the model crate and candle are built at opt-level 3 there.
  cargo build -q --workspace --bins --examples
  SHOPLAB_BIN="$CARGO_TARGET_DIR/debug/shoplab"
fi
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
DATASETS="${SHOPLAB_DATASETS:-$HOME/.cache/shoplab/datasets}"
mkdir -p "$BENCH_DIR"
ws="$BENCH_DIR/reviews.duckdb"
rm -rf "$ws" "$ws.runs" "$ws.wal"
"$SHOPLAB_BIN" import "$ws" "$DATASETS/clothing-reviews/WomensClothingE-CommerceReviews.parquet.brotli" >/dev/null
out="$BENCH_DIR/finetune-results.jsonl"
: >"$out"
# One `shoplab finetune` run of a task and method; its JSON on stdout.
finetune() {
  local extra=()
  [ "$2" = lora ] && extra=(--lora 8)
  "$SHOPLAB_BIN" finetune "$ws" --model "$DATASETS/minilm" --task "$1" --method "$2" "${extra[@]}" \
    --limit "${LIMIT:-2000}" --epochs "${EPOCHS:-1}" --max-tokens "${MAX_TOKENS:-64}" \
    --device "${DEVICE:-auto}" --json
}
for task in ${TASKS:-rating recommend}; do
  for method in ${METHODS:-tfidf frozen lora full}; do
    finetune "$task" "$method" | tee -a "$out" >/dev/null
    echo "done: $task $method" >&2
  done
done
python3 - "$out" "$BENCH_DIR/finetune-results.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump(rows, open(sys.argv[2], "w"), indent=1)
print(f"{'task':<10} {'method':<16} {'device':<7} {'train':>6} {'metric':<7} {'valid':>7} {'test':>7} {'probe':>7} {'seconds':>8} {'ex/s':>6}")
for r in rows:
    task = r["model"].split(":")[1]
    m = "rmse" if task == "rating" else "auc"
    probe = r["valid"].get("probe_" + m)
    probe = "" if probe is None else f"{probe:.4f}"
    eps = r.get("examples_per_second")
    eps = "" if eps is None else f"{eps:.1f}"
    print(f"{task:<10} {r['model'].split(':')[0]:<16} {r['device']:<7} {r['train_size']:>6} {m:<7} "
          f"{r['valid'][m]:>7.4f} {r['metrics'][m]:>7.4f} {probe:>7} {r['seconds']:>8.1f} {eps:>6}")
PY

venv="$BENCH_DIR/st-venv"
if [ "${REFERENCE:-0}" = 1 ] && ! "$venv/bin/python" -c "import sentence_transformers" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q sentence-transformers duckdb
fi
split_bin="$(dirname "$SHOPLAB_BIN")/examples/review_split"
# PyTorch's full fine-tuning of a task's training reviews: its line, "… = N examples/s".
reference() {
  SHOPLAB_DATASETS="$DATASETS" MAX_TOKENS="${MAX_TOKENS:-64}" "$venv/bin/python" bench/finetune_reference.py \
    "$BENCH_DIR/finetune-train-$1.jsonl" "$1" 2>/dev/null | tail -1
}
rate_of() { sed -n 's/.* = \([0-9.]*\) examples\/s.*/\1/p'; }
if "$venv/bin/python" -c "import transformers" 2>/dev/null && [ -x "$split_bin" ]; then
  for task in ${TASKS:-rating recommend}; do
    ours=$(python3 -c "import json,sys; print(next((r.get('examples_per_second') or 0 for r in json.load(open(sys.argv[1])) if r['model'] == 'full:$task'), 0))" "$BENCH_DIR/finetune-results.json")
    [ "$ours" = 0 ] && continue
    "$split_bin" "$ws" "$task" "${LIMIT:-2000}" 1 >"$BENCH_DIR/finetune-train-$task.jsonl"
    theirs=$(reference "$task")
    printf "ours (shoplab finetune --method full, %s): %.1f examples/s\n" "$task" "$ours"
    echo "$theirs"
    rate=$(rate_of <<<"$theirs")
    python3 -c "print(f'ratio ours / PyTorch ($task, full fine-tuning): {float($ours) / float($rate):.2f}x')"
    # PAIRS=N: N more runs of each side, one after the other, as this machine's speed drifts.
    ratios=()
    for _ in $(seq "${PAIRS:-0}"); do
      ours=$(finetune "$task" full |
        python3 -c "import json, sys; print(json.load(sys.stdin)['examples_per_second'])")
      rate=$(reference "$task" | rate_of)
      ratios+=("$(python3 -c "print(f'{$ours / $rate:.3f}')")")
      printf "pair: ours %.1f, PyTorch %.1f examples/s, %sx\n" "$ours" "$rate" "${ratios[-1]}"
    done
    if [ "${#ratios[@]}" -gt 0 ]; then
      python3 -c "import statistics, sys; print(f'median of {len(sys.argv) - 1} pairs ($task): {statistics.median(map(float, sys.argv[1:])):.2f}x')" "${ratios[@]}"
    fi
  done
else
  echo "PyTorch reference: not installed in $venv (REFERENCE=1 installs it)"
fi

#!/usr/bin/env bash
# Live re-score latency (issue 16): p50/p99 of one storefront re-score per finished run, on
# the demo catalog (300 items) and on a 100,000-item catalog. Release build; figures are
# milliseconds per re-score of a real shopper's history (up to 50 items) plus one click.
#   bash bench/live.sh            REPS=1000 re-scores per run (default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
REPS="${REPS:-1000}"
mkdir -p "$BENCH_DIR"
cargo build -q --release -p shoplab-cli --bins --example live_rescore
bin="$CARGO_TARGET_DIR/release"
shoplab="$bin/shoplab"
rescore="$bin/examples/live_rescore"

echo "== the demo catalog (shoplab demo: pop, itemknn, ease, bpr, sasrec)"
demo="$BENCH_DIR/live-demo.duckdb"
[ -f "$demo" ] || "$shoplab" demo --out "$demo" >/dev/null
"$rescore" "$demo" "$REPS"

echo
echo "== a 100,000-item catalog (pop, bpr; item-item models stop at 20,000 items, and SASRec's"
echo "   full softmax over 100,000 items runs out of memory in training at its default batch)"
big="$BENCH_DIR/live-100k.duckdb"
if [ ! -f "$big" ]; then
  csv="$BENCH_DIR/live-100k.csv"
  # 40,000 shoppers, 1,000,000 events over 100,000 items with Zipf-like popularity.
  python3 - "$csv" <<'PY'
import random, sys
random.seed(16)
items, users, events = 100_000, 40_000, 1_000_000
weights = [1.0 / (r + 10) ** 0.9 for r in range(items)]
# Every item at least once (the catalog is all 100,000), the rest by popularity.
picks = list(range(items)) + random.choices(range(items), weights=weights, k=events - items)
random.shuffle(picks)
with open(sys.argv[1], "w") as f:
    f.write("user_id,item_id,timestamp\n")
    for n, item in enumerate(picks):
        f.write(f"u{random.randrange(users)},i{item},{1_600_000_000 + n * 7}\n")
PY
  "$shoplab" import "$big" "$csv" >/dev/null
  "$shoplab" split "$big" --name main --strategy temporal >/dev/null
  "$shoplab" train "$big" --split main --model pop >/dev/null
  "$shoplab" train "$big" --split main --model bpr --epochs 3 >/dev/null
fi
"$rescore" "$big" "$REPS"

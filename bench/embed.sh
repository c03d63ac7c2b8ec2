#!/usr/bin/env bash
# Text-encoder throughput: all-MiniLM-L6-v2 embedding the first TEXTS (default 2,000) review
# texts of Women's E-Commerce Clothing Reviews, batches of 32, sentences per second.
# The reference, sentence-transformers on PyTorch (its CPU path), runs in the same harness
# on the same texts from a virtual environment in $BENCH_DIR/st-venv; `REFERENCE=1` creates
# it (pip: sentence-transformers and duckdb; PyPI's torch wheel pulls CUDA libraries, ~6 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash datasets/fetch.sh minilm clothing-reviews >/dev/null
# Built with the whole workspace, so the dependencies' features are the ones the other builds use.
cargo build -q --workspace --examples
ours=$("$CARGO_TARGET_DIR/debug/examples/embed_throughput")
echo "$ours"
export OURS_RATE
OURS_RATE=$(sed -n 's/.*= \([0-9.]*\) sentences\/s.*/\1/p' <<<"$ours")
venv="${BENCH_DIR:-$HOME/.cache/shoplab/bench}/st-venv"
if [ "${REFERENCE:-0}" = 1 ] && ! "$venv/bin/python" -c "import sentence_transformers, duckdb" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q sentence-transformers duckdb
fi
if "$venv/bin/python" -c "import sentence_transformers" 2>/dev/null; then
  "$venv/bin/python" - <<PY
import time, duckdb, os
from sentence_transformers import SentenceTransformer
n = int(os.environ.get("TEXTS", "2000"))
path = os.path.join(os.environ["SHOPLAB_DATASETS"], "clothing-reviews/WomensClothingE-CommerceReviews.parquet.brotli")
texts = [r[0] for r in duckdb.sql(f"SELECT \"Review Text\" FROM read_parquet('{path}') WHERE \"Review Text\" IS NOT NULL LIMIT {n}").fetchall()]
m = SentenceTransformer(os.path.join(os.environ["SHOPLAB_DATASETS"], "minilm"), device="cpu")
m.encode(texts[:32], batch_size=32)
t = time.time(); m.encode(texts, batch_size=32); s = time.time() - t
import torch
print(f"sentence-transformers {__import__('sentence_transformers').__version__} (PyTorch {torch.__version__}, cpu, {torch.get_num_threads()} threads): {len(texts)} texts in {s:.2f} s = {len(texts)/s:.1f} sentences/s")
print(f"ratio ours / sentence-transformers: {float(os.environ['OURS_RATE']) / (len(texts)/s):.2f}x")
PY
else
  echo "sentence-transformers: not installed in $venv (REFERENCE=1 installs it)"
fi

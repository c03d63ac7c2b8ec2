#!/usr/bin/env bash
# Text-encoder throughput: all-MiniLM-L6-v2 embedding the first TEXTS (default 2,000) review
# texts of Women's E-Commerce Clothing Reviews, batches of 32, sentences per second.
# The reference the issue names, sentence-transformers on PyTorch's CPU build, runs in the
# same harness when `python3 -c "import sentence_transformers"` works in $BENCH_DIR/venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash datasets/fetch.sh minilm clothing-reviews >/dev/null
# Built with the whole workspace, so the dependencies' features are the ones the other builds use.
cargo build -q --workspace --examples
"$CARGO_TARGET_DIR/debug/examples/embed_throughput"
venv="${BENCH_DIR:-$HOME/.cache/shoplab/bench}/venv"
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
print(f"sentence-transformers (PyTorch CPU): {len(texts)} texts in {s:.2f} s = {len(texts)/s:.1f} sentences/s")
PY
else
  echo "sentence-transformers: unavailable here (PyTorch's CPU build is not on PyPI; the PyPI wheel brings CUDA libraries of several GB)"
fi

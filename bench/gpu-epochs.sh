#!/usr/bin/env bash
# GPU vs CPU epoch times of the CUDA build, on a GPU machine that has no Rust: it runs from a
# folder holding the CLI built by scripts/build-cuda.sh (stripped, xz-compressed, as
# shoplab.xz) and MovieLens-100K's ml-100k.inter. Prepare the folder here:
#   bash scripts/build-cuda.sh
#   mkdir -p .gpu && echo /.gpu/ >> .git/info/exclude
#   cp "$CARGO_TARGET_DIR/debug/shoplab-cuda" .gpu/shoplab && strip .gpu/shoplab && xz -f .gpu/shoplab
#   cp "$SHOPLAB_DATASETS/ml-100k/ml-100k.inter" .gpu/
# then, there: bash bench/gpu-epochs.sh .gpu
# The CUDA libraries (cuBLAS, cuRAND, the runtime) are looked up on the machine.
set -u
cd "${1:-.gpu}"
python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('shoplab.xz'), open('/tmp/shoplab','wb'))"
chmod +x /tmp/shoplab
LIBS=$(find / -name 'libcublas.so.13' -not -path '/proc/*' 2>/dev/null | head -1 | xargs -r dirname)
export LD_LIBRARY_PATH="$LIBS:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; nproc
S=/tmp/shoplab; W=/tmp/ws.duckdb
$S import $W ml-100k.inter >/dev/null && $S split $W --name rr --strategy random --seed 7 >/dev/null
$S split $W --name loo --strategy leave-last --valid 1 --test 1 --seed 1 >/dev/null
run() { echo "== $*"; $S train $W --split rr --patience 0 --json "$@" 2>&1 | tail -1 | python3 -c "import json,sys; d=json.load(sys.stdin); m=d['metrics']; print(d['run_id'], d['device'], 's/epoch', round(d['seconds_per_epoch'],4), 'ndcg@10', round(m['ndcg@10'],4), 'rmse', m.get('rmse'))"; }
for dev in cuda cpu; do
  run --model bpr --factors 64 --epochs 10 --device $dev
  run --model mf --factors 64 --epochs 10 --device $dev
  run --model neumf --factors 32 --epochs 5 --device $dev
  run --model bpr --factors 256 --epochs 5 --batch-size 8192 --device $dev
  run --model neumf --factors 128 --epochs 3 --batch-size 8192 --device $dev
  echo "== sasrec $dev"; $S train $W --split loo --model sasrec --epochs 4 --batch-size 32 --lr 0.002 --patience 0 --device $dev --json | tail -1 | cut -c1-200
done
echo "== no GPU visible (CUDA_VISIBLE_DEVICES=): --device auto falls back to the CPU"
CUDA_VISIBLE_DEVICES= $S train $W --split rr --model bpr --epochs 2 --patience 0 --device auto --json | tail -1 | cut -c1-60
$S sql $W "select run_id, list(round(seconds, 3) order by epoch) as epoch_seconds from run_epochs group by run_id order by run_id"

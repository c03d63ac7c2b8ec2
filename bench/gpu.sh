#!/usr/bin/env bash
# The GPU proof, one command on a GPU machine that has no Rust and no network, from the folder
# scripts/gpu-kit.sh prepares here:   bash bench/gpu.sh .gpu
# It prints: the machine; the model crate's unit and integration tests in the CUDA build (the
# text golden tests skipped: the kit's MiniLM weights are f16); seconds per epoch of BPR, MF,
# NeuMF and SASRec on the GPU and on the CPU with their metrics; a run cancelled on the GPU
# (SIGINT after its second epoch) and resumed, against the same run uninterrupted; full and
# LoRA fine-tuning in f32 and bf16 on the GPU and the CPU (the device each run recorded,
# examples/s); embeddings per second on the GPU and the CPU; and the same embedding and full
# fine-tuning on the machine's PyTorch on the same GPU and texts.
set -u
kit=$(cd "${1:-.gpu}" && pwd)
bench=$(cd "$(dirname "$0")" && pwd)
T=/tmp/shoplab-gpu && rm -rf $T && mkdir -p $T
for f in "$kit"/*.xz; do
  python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$f" "$T/$(basename "$f" .xz)"
  chmod +x "$T/$(basename "$f" .xz)"
done
export SHOPLAB_DATASETS="$kit/datasets"
LIBS=$(python3 -c "import nvidia, os; r=os.path.dirname(nvidia.__path__[0]); print(':'.join(sorted({os.path.dirname(os.path.join(d,f)) for d,_,fs in os.walk(r) for f in fs if f.startswith(('libcublas','libcurand','libcudart','libnvrtc'))})))" 2>/dev/null)
export LD_LIBRARY_PATH="$LIBS:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
S=$T/shoplab; W=$T/ws.duckdb; R=$T/reviews.duckdb

echo "== the model crate's tests, CUDA build"
for t in "$T"/test-*; do (cd "$T" && "$t" --skip text:: 2>&1 | grep -E "test result|FAILED|panicked"); done

echo "== recommenders: seconds per epoch, GPU then CPU"
$S import $W "$kit/datasets/ml-100k/ml-100k.inter" >/dev/null && $S split $W --name rr --strategy random --seed 7 >/dev/null
$S split $W --name loo --strategy leave-last --valid 1 --test 1 --seed 1 >/dev/null
show='import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); m=d["metrics"]; print(d["run_id"], d["model"], d["device"], "s/epoch", round(d.get("seconds_per_epoch") or 0, 4), "ndcg@10", round(m.get("ndcg@10", 0), 4), "rmse", m.get("rmse"))'
for dev in cuda cpu; do
  $S train $W --split rr --model bpr --factors 64 --epochs 10 --patience 0 --device $dev --json | python3 -c "$show"
  $S train $W --split rr --model mf --factors 64 --epochs 10 --patience 0 --device $dev --json | python3 -c "$show"
  $S train $W --split rr --model neumf --factors 32 --epochs 5 --patience 0 --device $dev --json | python3 -c "$show"
  $S train $W --split loo --model sasrec --epochs 4 --batch-size 32 --lr 0.002 --patience 0 --device $dev --json | python3 -c "$show"
done

echo "== a run cancelled on the GPU (SIGINT at 40% of its time) and resumed, against it uninterrupted"
args=(--split rr --model neumf --factors 32 --epochs 6 --patience 0 --seed 3 --device cuda --json)
start=$(date +%s.%N)
$S train $W "${args[@]}" | python3 -c "$show"
whole=$(python3 -c "import time; print(round(($(date +%s.%N) - $start) * 0.4, 2))")
$S train $W "${args[@]}" >$T/cut.json 2>$T/cut.err &
pid=$!
sleep "$whole"; kill -INT $pid; wait $pid
cut=$($S sql $W "select max(run_id) from runs" | tail -1)
$S sql $W "select run_id, status, count(e.epoch) as epochs from runs left join run_epochs e using (run_id) where run_id = $cut group by all"
$S train $W "${args[@]}" --resume "$cut" | python3 -c "$show"

echo "== fine-tuning (rating, 2,000 reviews, 1 epoch, 64 tokens): device, seconds, examples/s"
$S import $R "$kit"/datasets/clothing-reviews/*.parquet* >/dev/null
for dev in cuda cpu; do
  for p in f32 bf16; do
    for m in full lora; do
      [ $dev = cpu ] && [ $p = bf16 ] && continue
      extra=(); [ $m = lora ] && extra=(--lora 8)
      $S finetune $R --model "$kit/datasets/minilm" --task rating --method $m "${extra[@]}" --limit 2000 \
        --epochs 1 --max-tokens 64 --precision $p --device $dev --json |
        python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d['model'], '$p', d['device'], round(d['seconds'],1), 's', round(d.get('examples_per_second') or 0, 1), 'ex/s', 'rmse', round(d['metrics']['rmse'], 4))"
    done
  done
done

echo "== embeddings of 2,000 reviews, batches of 32: ours (GPU, CPU) and sentence-transformers (GPU)"
for dev in cuda cpu; do DEVICE=$dev $T/embed_throughput; done
$T/review_split $R rating 2000 1 >$T/train.jsonl
python3 - "$kit/datasets" <<'PY'
import glob, os, sys, time, torch, pyarrow.parquet as pq
from sentence_transformers import SentenceTransformer
d = sys.argv[1]
texts = [t for t in pq.read_table(glob.glob(os.path.join(d, "clothing-reviews/*.parquet*"))[0]).column("Review Text").to_pylist() if t][:2000]
m = SentenceTransformer(os.path.join(d, "minilm"), device="cuda")
m.encode(texts[:32], batch_size=32); torch.cuda.synchronize()
t = time.time(); m.encode(texts, batch_size=32); torch.cuda.synchronize(); s = time.time() - t
print(f"sentence-transformers on {torch.cuda.get_device_name()}: {len(texts)/s:.1f} sentences/s")
PY
echo "== full fine-tuning on PyTorch, same GPU, same training reviews"
SHOPLAB_DATASETS="$kit/datasets" DEVICE=cuda python3 "$bench/finetune_reference.py" $T/train.jsonl rating
echo "== no GPU visible (CUDA_VISIBLE_DEVICES=): the line a CUDA build prints, then the CPU"
CUDA_VISIBLE_DEVICES= $S train $W --split rr --model bpr --epochs 1 --patience 0 --device auto --json 2>&1 | cut -c1-120 | head -3

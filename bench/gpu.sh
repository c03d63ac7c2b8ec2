#!/usr/bin/env bash
# The GPU proof on a GPU machine that has no Rust and no network, from the two folders
# scripts/gpu-kit.sh prepares here (one device call each, on the same machine, in this order):
#   bash bench/gpu.sh .gpu recommenders     bash bench/gpu.sh .gpu-text text
# recommenders: the machine; seconds per epoch of BPR, MF, NeuMF and SASRec on the GPU and on
#   the CPU with their metrics; a run cancelled on the GPU (SIGINT at 40% of its time) and
#   resumed, against the same run uninterrupted.
# text: the model crate's unit and integration tests in the CUDA build (MiniLM's weights are
#   the kit's int8 ones turned back into f32, so the one test that checks five values of the
#   original model's embedding is left out; the comparison below takes its place); full and
#   LoRA fine-tuning in f32 and bf16 on the GPU and the CPU (the device each run recorded,
#   examples/s); embeddings per second on the GPU and the CPU, and the GPU's embeddings against
#   the CPU's and sentence-transformers' (same weights, same texts); sentence-transformers'
#   throughput and full fine-tuning on PyTorch on the same GPU and on the machine's CPU
#   (ours on the CPU is at PyTorch's speed on 2 cores; whether it keeps up on many is open);
#   the line a CUDA build prints when no GPU is visible.
set -u
kit=$(cd "${1:-.gpu}" && pwd)
part=${2:-recommenders}
bench=$(cd "$(dirname "$0")" && pwd)
T=/tmp/shoplab-gpu
LIBS=$(python3 -c "import nvidia, os; r=os.path.dirname(nvidia.__path__[0]); print(':'.join(sorted({os.path.dirname(os.path.join(d,f)) for d,_,fs in os.walk(r) for f in fs if f.startswith(('libcublas','libcurand','libcudart','libnvrtc'))})))" 2>/dev/null)
# The machine's CUDA libraries first; the kit's runtime last (the CLI finds it by its RUNPATH,
# the examples and tests through this).
export LD_LIBRARY_PATH="$LIBS:${LD_LIBRARY_PATH:-}:$T/cuda-lib"
S=$T/shoplab; W=$T/ws.duckdb; R=$T/reviews.duckdb
show='import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); m=d["metrics"]; print(d["run_id"], d["model"], d["device"], "s/epoch", round(d.get("seconds_per_epoch") or 0, 4), "ndcg@10", round(m.get("ndcg@10", 0), 4), "rmse", m.get("rmse"))'

recommenders() {
  rm -rf $T && mkdir -p $T
  python3 -c "import lzma,sys,tarfile; tarfile.open(fileobj=lzma.open(sys.argv[1])).extractall(sys.argv[2])" "$kit/bin.tar.xz" $T
  export SHOPLAB_DATASETS=$T/datasets
  mkdir -p $SHOPLAB_DATASETS && cp -r "$kit"/datasets/* $SHOPLAB_DATASETS/
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
  $S import $W $SHOPLAB_DATASETS/ml-100k/ml-100k.inter >/dev/null && $S split $W --name rr --strategy random --seed 7 >/dev/null
  $S split $W --name loo --strategy leave-last --valid 1 --test 1 --seed 1 >/dev/null
  # A machine's first CUDA run compiles candle's PTX for its GPU (the driver caches it): one
  # untimed epoch first, so that the figures below are steady-state ones.
  $S train $W --split rr --model bpr --epochs 1 --patience 0 --device cuda --json >/dev/null
  echo "== recommenders: seconds per epoch, GPU then CPU"
  for dev in cuda cpu; do
    $S train $W --split rr --model bpr --factors 64 --epochs 10 --patience 0 --device $dev --json | python3 -c "$show"
    $S train $W --split rr --model mf --factors 64 --epochs 10 --patience 0 --device $dev --json | python3 -c "$show"
    $S train $W --split rr --model neumf --factors 32 --epochs 5 --patience 0 --device $dev --json | python3 -c "$show"
    $S train $W --split loo --model sasrec --epochs 4 --batch-size 32 --lr 0.002 --patience 0 --device $dev --json | python3 -c "$show"
    $S train $W --split rr --model bpr --factors 256 --batch-size 8192 --epochs 10 --patience 0 --device $dev --json | python3 -c "$show"
  done
  echo "== a run cancelled on the GPU (SIGINT at 40% of its time) and resumed, against it uninterrupted"
  local args=(--split rr --model neumf --factors 32 --epochs 6 --patience 0 --seed 3 --device cuda --json)
  local start whole pid cut
  start=$(date +%s.%N)
  $S train $W "${args[@]}" | python3 -c "$show"
  whole=$(python3 -c "print(round(($(date +%s.%N) - $start) * 0.4, 2))")
  $S train $W "${args[@]}" >$T/cut.json 2>$T/cut.err &
  pid=$!
  sleep "$whole"; kill -INT $pid; wait $pid
  cut=$($S sql $W "select max(run_id) from runs" | tail -1)
  $S sql $W "select run_id, status, count(e.epoch) as epochs from runs left join run_epochs e using (run_id) where run_id = $cut group by all"
  $S train $W "${args[@]}" --resume "$cut" | python3 -c "$show"
}

text() {
  [ -x $S ] || { echo "no $S: run the recommenders part first, on the same machine"; exit 1; }
  python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$kit/embed_throughput.xz" $T/embed_throughput
  chmod +x $T/embed_throughput
  export SHOPLAB_DATASETS=$T/datasets
  cp -r "$kit"/datasets/* $SHOPLAB_DATASETS/
  python3 - $SHOPLAB_DATASETS/minilm <<'PY'
# The kit's int8 matrices (NAME, I8, and NAME.qscale, F32, one scale per row) back to f32.
import os, sys
import numpy as np
from safetensors.numpy import load_file, save_file
d = sys.argv[1]
q = load_file(os.path.join(d, "model.int8.safetensors"))
out = {k: v.astype(np.float32) * q[k + ".qscale"][:, None] if v.dtype == np.int8 else v
       for k, v in q.items() if not k.endswith(".qscale")}
save_file(out, os.path.join(d, "model.safetensors"))
print(f"MiniLM: {len(out)} tensors, the int8 ones back to f32")
PY
  echo "== the model crate's tests, CUDA build"
  for t in $T/test-*; do (cd $T && "$t" --skip text::minilm_embeds_the_reference_sentence 2>&1 | grep -E "test result|FAILED|panicked"); done

  echo "== fine-tuning (rating, 2,000 reviews, 1 epoch, 64 tokens): device, seconds, examples/s"
  $S import $R "$kit"/datasets/clothing-reviews/*.parquet* >/dev/null
  for dev in cuda cpu; do
    for p in f32 bf16; do
      for m in full lora; do
        [ $dev = cpu ] && [ $p = bf16 ] && continue
        local extra=(); [ $m = lora ] && extra=(--lora 8)
        $S finetune $R --model $SHOPLAB_DATASETS/minilm --task rating --method $m "${extra[@]}" --limit 2000 \
          --epochs 1 --max-tokens 64 --precision $p --device $dev --json |
          python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d['model'], '$p', d['device'], round(d['seconds'],1), 's', round(d.get('examples_per_second') or 0, 1), 'ex/s', 'rmse', round(d['metrics']['rmse'], 4))"
      done
    done
  done

  echo "== embeddings of 2,000 reviews, batches of 32: ours (GPU, CPU) and sentence-transformers (GPU, CPU)"
  for dev in cuda cpu; do VECTORS=$T/vectors-$dev.json DEVICE=$dev $T/embed_throughput; done
  python3 - $SHOPLAB_DATASETS $T <<'PY'
import glob, json, os, sys, time
import numpy as np, torch, pyarrow.parquet as pq
from sentence_transformers import SentenceTransformer
d, t = sys.argv[1:]
texts = [x for x in pq.read_table(glob.glob(os.path.join(d, "clothing-reviews/*.parquet*"))[0]).column("Review Text").to_pylist() if x][:2000]
m = SentenceTransformer(os.path.join(d, "minilm"), device="cuda")
m.encode(texts[:32], batch_size=32); torch.cuda.synchronize()
s = time.time(); ref = m.encode(texts, batch_size=32); torch.cuda.synchronize(); s = time.time() - s
print(f"sentence-transformers on {torch.cuda.get_device_name()}: {len(texts)/s:.1f} sentences/s")
c = SentenceTransformer(os.path.join(d, "minilm"), device="cpu")
c.encode(texts[:32], batch_size=32)
s = time.time(); c.encode(texts, batch_size=32); s = time.time() - s
print(f"sentence-transformers on the CPU ({torch.get_num_threads()} threads): {len(texts)/s:.1f} sentences/s")
gpu, cpu = (np.array(json.load(open(os.path.join(t, f"vectors-{k}.json")))) for k in ("cuda", "cpu"))
for name, a, b in (("ours on the GPU vs sentence-transformers", gpu, ref[:len(gpu)]), ("ours on the GPU vs ours on the CPU", gpu, cpu)):
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    print(f"{name}: {len(a)} texts, max |difference| {np.abs(a - b).max():.2e}, min cosine {cos.min():.7f}")
PY
  echo "== full fine-tuning on PyTorch, same training reviews: the GPU, then the machine's CPU"
  for dev in cuda cpu; do DEVICE=$dev python3 "$bench/finetune_reference.py" "$kit/train-rating.jsonl" rating; done
  echo "== no GPU visible (CUDA_VISIBLE_DEVICES=): the line a CUDA build prints, then the CPU"
  CUDA_VISIBLE_DEVICES= $S train $W --split rr --model bpr --epochs 1 --patience 0 --device auto --json 2>&1 | cut -c1-160 | head -3
}

"$part"

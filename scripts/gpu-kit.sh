#!/usr/bin/env bash
# Prepares the two folders bench/gpu.sh runs from on a GPU machine that has no Rust and no
# network. A device call carries at most 64 MiB with the working tree, and the CUDA build's
# debug binaries hold DuckDB each (about 23-33 MiB apiece, compressed), so the kit comes in
# two parts, one call each, the second on the same (still warm) machine:
#   .gpu/       the CUDA build of the CLI and of the model crate's unit and integration tests
#               in one tar.xz (one 1 GiB dictionary, so the DuckDB they share is stored about
#               once), the CUDA runtime, MovieLens-100K;
#   .gpu-text/  the encoder's throughput example, all-MiniLM-L6-v2 with its large matrices
#               stored as int8 with one f32 scale per row (bench/gpu.sh turns them back into an
#               f32 safetensors file there, which both our encoder and sentence-transformers
#               load, so both sides compute with the same weights), the clothing reviews, and
#               the training reviews of the fine-tuning runs (for PyTorch's reference).
#   bash scripts/gpu-kit.sh      then, there:   bash bench/gpu.sh .gpu recommenders
#                                               bash bench/gpu.sh .gpu-text text
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash datasets/fetch.sh ml-100k minilm clothing-reviews >/dev/null
# The CLI, the examples and every test target of the CUDA build (one build, so the features
# of the dependencies are those of the plain builds and nothing else rebuilds).
bash scripts/build-cuda.sh -q --tests
D="$CARGO_TARGET_DIR/debug"
for k in .gpu .gpu-text; do
  grep -qx "/$k/" .git/info/exclude 2>/dev/null || echo "/$k/" >>.git/info/exclude
  rm -rf "$k"
done
mkdir -p .gpu/datasets/ml-100k .gpu-text/datasets/clothing-reviews .gpu-text/datasets/minilm
stage=$(mktemp -d) && trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/cuda-lib" && cp "$D/cuda-lib/libcudart.so.13" "$stage/cuda-lib/"
cp "$D/shoplab-cuda" "$stage/shoplab"
# The newest test binary of each name that links the CUDA runtime (the plain builds' do not).
for t in shoplab_model model; do
  for f in $(ls -t "$D"/deps/"$t"-* | grep -v '\.d$'); do
    readelf -d "$f" | grep -q libcudart && { cp "$f" "$stage/test-$t"; break; }
  done
done
strip "$stage"/shoplab "$stage"/test-*
tar -C "$stage" -cf - shoplab test-shoplab_model test-model cuda-lib |
  xz -T1 --lzma2=preset=6,dict=1GiB >.gpu/bin.tar.xz
cp "$D/examples/embed_throughput-cuda" .gpu-text/embed_throughput
strip .gpu-text/embed_throughput && xz -T2 -f .gpu-text/embed_throughput
cp "$SHOPLAB_DATASETS"/ml-100k/ml-100k.{inter,item} .gpu/datasets/ml-100k/ # .item: the two-tower tests
cp "$SHOPLAB_DATASETS"/clothing-reviews/*.parquet* .gpu-text/datasets/clothing-reviews/
m="$SHOPLAB_DATASETS/minilm"
cp "$m"/*.json "$m"/vocab.txt .gpu-text/datasets/minilm/
cp -r "$m/1_Pooling" .gpu-text/datasets/minilm/
# The training reviews of bench/gpu.sh's fine-tuning runs (task rating, 2,000 reviews, seed 1):
# the split does not depend on the device, so the CUDA build writes them here, on the CPU.
ws="$stage/reviews.duckdb"
"$D/shoplab-cuda" import "$ws" "$SHOPLAB_DATASETS"/clothing-reviews/*.parquet* >/dev/null
LD_LIBRARY_PATH="$D/cuda-lib" "$D/examples/review_split-cuda" "$ws" rating 2000 1 >.gpu-text/train-rating.jsonl
python3 - "$m/model.safetensors" .gpu-text/datasets/minilm/model.int8.safetensors <<'PY'
# Matrices of 65,536 values or more: int8, one f32 scale (max |x| / 127) per row, stored as
# NAME (I8) and NAME.qscale (F32); the rest (layer norms, biases) stay f32. The safetensors
# format is a JSON header and raw little-endian data.
import array, json, struct, sys
src, dst = sys.argv[1:]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
body = raw[8 + n:]
meta, out, offset = {}, [], 0
def put(name, dtype, shape, data):
    global offset
    meta[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
    out.append(data)
    offset += len(data)
for name, t in header.items():
    if name == "__metadata__":
        meta[name] = t
        continue
    a, b = t["data_offsets"]
    data = body[a:b]
    shape = t["shape"]
    if t["dtype"] != "F32" or len(shape) != 2 or shape[0] * shape[1] < 65536:
        put(name, t["dtype"], shape, data)
        continue
    f = array.array("f", data)
    rows, cols = shape
    q, scales = array.array("b"), array.array("f")
    for r in range(rows):
        row = f[r * cols:(r + 1) * cols]
        s = max(max(row), -min(row)) / 127 or 1.0
        scales.append(s)
        q.extend(max(-127, min(127, round(x / s))) for x in row)
    put(name, "I8", shape, q.tobytes())
    put(name + ".qscale", "F32", [rows], scales.tobytes())
h = json.dumps(meta).encode()
h += b" " * (-len(h) % 8)
with open(dst, "wb") as fh:
    fh.write(struct.pack("<Q", len(h)) + h + b"".join(out))
PY
# What travels with each part: the working tree (tracked files) and the part itself.
tree=$(git ls-files -z | xargs -0 stat -c %s | awk '{ s += $1 } END { print s }')
for k in .gpu .gpu-text; do
  size=$(du -sb "$k" | cut -f1)
  awk -v k="$k" -v p="$size" -v t="$tree" 'BEGIN {
    printf "%s: %.1f MiB (+ %.1f MiB of working tree)\n", k, p / 2^20, t / 2^20
    if (p + t > 63.5 * 2^20) { print k " is over the 64 MiB a device call carries"; exit 1 } }'
done

#!/usr/bin/env bash
# Prepares .gpu/, the folder bench/gpu.sh runs from on a GPU machine that has no Rust and no
# network: the CUDA build of the CLI (scripts/build-cuda.sh) and of the model crate's unit
# and integration tests, stripped and xz-compressed, MovieLens-100K, the clothing reviews,
# and all-MiniLM-L6-v2 with its weights stored in f16 (the f32 file alone is over the
# 64 MiB a device call carries; the GPU runs cast them back to f32 or to bf16).
#   bash scripts/gpu-kit.sh      then, there:   bash bench/gpu.sh .gpu
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash datasets/fetch.sh ml-100k minilm clothing-reviews >/dev/null
bash scripts/build-cuda.sh -q
# The model crate's tests, built with the same features (so nothing else rebuilds).
bash scripts/build-cuda.sh -q --tests 2>/dev/null || true
kit=.gpu
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >>.git/info/exclude
rm -rf "$kit" && mkdir -p "$kit/datasets/ml-100k" "$kit/datasets/clothing-reviews" "$kit/datasets/minilm"
D="$CARGO_TARGET_DIR/debug"
pack() { cp "$1" "$kit/$2" && strip "$kit/$2" && xz -T2 -f "$kit/$2"; }
pack "$D/shoplab-cuda" shoplab
pack "$D/examples/review_split-cuda" review_split
pack "$D/examples/embed_throughput-cuda" embed_throughput
for t in shoplab_model model; do
  bin=$(ls -t "$D"/deps/"$t"-* 2>/dev/null | grep -v '\.d$' | head -1 || true)
  [ -n "$bin" ] && pack "$bin" "test-$t"
done
cp "$SHOPLAB_DATASETS/ml-100k/ml-100k.inter" "$kit/datasets/ml-100k/"
cp "$SHOPLAB_DATASETS"/clothing-reviews/*.parquet* "$kit/datasets/clothing-reviews/"
m="$SHOPLAB_DATASETS/minilm"
cp "$m"/*.json "$m"/vocab.txt "$kit/datasets/minilm/" 2>/dev/null || true
[ -d "$m/1_Pooling" ] && cp -r "$m/1_Pooling" "$kit/datasets/minilm/"
python3 - "$m/model.safetensors" "$kit/datasets/minilm/model.safetensors" <<'PY'
# f32 → f16 by hand (the safetensors format is a JSON header and raw little-endian data).
import json, struct, sys, array
src, dst = sys.argv[1:]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
body = raw[8 + n:]
out, meta, offset = [], {}, 0
for name, t in header.items():
    if name == "__metadata__":
        meta[name] = t
        continue
    a, b = t["data_offsets"]
    data = body[a:b]
    if t["dtype"] == "F32":
        f = array.array("f", data)
        data = struct.pack(f"<{len(f)}e", *f)
        t = dict(t, dtype="F16")
    meta[name] = dict(t, data_offsets=[offset, offset + len(data)])
    out.append(data)
    offset += len(data)
h = json.dumps(meta).encode()
h += b" " * (-len(h) % 8)
with open(dst, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(out))
PY
du -sh "$kit"; du -s --block-size=1M "$kit" | awk '$1 > 62 { print "over the 64 MiB a device call carries"; exit 1 }'

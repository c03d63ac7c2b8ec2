#!/usr/bin/env bash
# Builds the CLI and the workbench (and the model crate's examples) with candle's CUDA
# backend on a machine that has no GPU and no CUDA toolkit, for a GPU machine to run; on a
# machine without a GPU they run on the CPU and say so in one line. nvcc, the CUDA headers and the runtime
# libraries come from the NVIDIA wheels on PyPI (13.0.x, which an R580 driver
# loads); the driver, cuBLAS and cuBLASLt are only needed to link, so link-time
# stubs carrying their exported names stand in for them. The GPU machine must
# provide the real libcuda, libcublas, libcublasLt, libcurand, libnvrtc and
# libcudart (e.g. on LD_LIBRARY_PATH).
#
#   bash scripts/build-cuda.sh   # -> $CARGO_TARGET_DIR/debug/{shoplab,shoplab-workbench}-cuda
#   CUDA_COMPUTE_CAP=90 (default: Hopper) selects the PTX target.
# The build shares the target folder (DuckDB is not rebuilt); the next plain build relinks
# the CPU-only binaries, which this build replaces meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shoplab/target}"
CUDA_ROOT="${SHOPLAB_CUDA_ROOT:-$HOME/.cache/shoplab/cuda}"
CUDARC_SRC="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.* | tail -1)"

if [ ! -x "$CUDA_ROOT/root/nvidia/cu13/nvvm/bin/cicc" ]; then
  mkdir -p "$CUDA_ROOT/wheels" "$CUDA_ROOT/root"
  python3 -m pip download -q --no-deps -d "$CUDA_ROOT/wheels" \
    "nvidia-cuda-nvcc==13.0.*" "nvidia-cuda-runtime==13.0.*" "nvidia-cuda-crt==13.0.*" \
    "nvidia-cuda-nvrtc==13.0.*" "nvidia-cuda-cccl==13.0.*" "nvidia-nvvm==13.0.*" "nvidia-curand"
  for w in "$CUDA_ROOT"/wheels/*.whl; do unzip -qo "$w" -d "$CUDA_ROOT/root"; done
fi
CU="$CUDA_ROOT/root/nvidia/cu13"
STUBS="$CUDA_ROOT/stubs"
mkdir -p "$STUBS"
# lib:cudarc module:soname
for spec in cuda:driver:libcuda.so.1 cublas:cublas:libcublas.so.13 cublasLt:cublaslt:libcublasLt.so.13; do
  IFS=: read -r lib module soname <<<"$spec"
  if [ ! -f "$STUBS/lib$lib.so" ]; then
    grep -o "pub unsafe fn [A-Za-z0-9_]*(" "$CUDARC_SRC/src/$module/sys/mod.rs" |
      sed 's/pub unsafe fn \(.*\)(/void \1(void){}/' | sort -u >"$STUBS/$lib.c"
    gcc -shared -fPIC -o "$STUBS/lib$lib.so" -Wl,-soname,"$soname" "$STUBS/$lib.c"
  fi
done
ln -sf "$CU/lib/libcudart.so.13" "$STUBS/libcudart.so"
ln -sf "$CU/lib/libcurand.so.10" "$STUBS/libcurand.so"
ln -sf "$CU/lib/libnvrtc.so.13" "$STUBS/libnvrtc.so"

export PATH="$CU/bin:$PATH" CUDA_PATH="$CU" CUDA_HOME="$CU" NVCC="$CU/bin/nvcc"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}" CUDARC_CUDA_VERSION=13000
export CUDAFORGE_THREADS="${CUDAFORGE_THREADS:-2}"
# The linker finds the stubs through LIBRARY_PATH, which leaves RUSTFLAGS (and
# so every other crate's build, DuckDB's included) untouched.
export LIBRARY_PATH="$STUBS:$CU/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
cargo build --workspace --bins --examples --features shoplab-cli/cuda,shoplab-workbench/cuda "$@"
D="$CARGO_TARGET_DIR/debug"
for bin in shoplab shoplab-workbench examples/embed_throughput examples/review_split; do
  cp "$D/$bin" "$D/$bin-cuda"
  echo "built $D/$bin-cuda"
done

#!/usr/bin/env bash
# Builds the CLI and the workbench (and the model crate's examples) with candle's CUDA
# backend on a machine that has no GPU and no CUDA toolkit, for a GPU machine to run; on a
# machine without a GPU they run on the CPU and say so in one line (the driver's library
# is loaded only when a run looks for a GPU; the CUDA runtime, which candle's kernels link,
# is copied into cuda-lib/ beside the binaries). nvcc, the CUDA headers and the runtime
# libraries come from the NVIDIA wheels on PyPI (13.0.x, which an R580 driver
# loads). The driver, cuBLAS, cuBLASLt, cuRAND and NVRTC are loaded at run time, when a
# run looks for a GPU: the GPU machine provides them (e.g. on LD_LIBRARY_PATH).
#
#   bash scripts/build-cuda.sh   # -> $CARGO_TARGET_DIR/debug/{shoplab,shoplab-workbench}-cuda
#   CUDA_COMPUTE_CAP=90 (default: Hopper) selects the PTX target.
# The build shares the target folder (DuckDB is not rebuilt); the next plain build relinks
# the CPU-only binaries, which this build replaces meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shoplab/target}"
CUDA_ROOT="${SHOPLAB_CUDA_ROOT:-$HOME/.cache/shoplab/cuda}"
if [ ! -x "$CUDA_ROOT/root/nvidia/cu13/nvvm/bin/cicc" ]; then
  mkdir -p "$CUDA_ROOT/wheels" "$CUDA_ROOT/root"
  python3 -m pip download -q --no-deps -d "$CUDA_ROOT/wheels" \
    "nvidia-cuda-nvcc==13.0.*" "nvidia-cuda-runtime==13.0.*" "nvidia-cuda-crt==13.0.*" \
    "nvidia-cuda-nvrtc==13.0.*" "nvidia-cuda-cccl==13.0.*" "nvidia-nvvm==13.0.*" "nvidia-curand"
  for w in "$CUDA_ROOT"/wheels/*.whl; do unzip -qo "$w" -d "$CUDA_ROOT/root"; done
fi
CU="$CUDA_ROOT/root/nvidia/cu13"
# The one CUDA library linked at build time: the runtime, which candle's kernels call
# (as libcudart.so, the name the linker looks for).
LINK="$CUDA_ROOT/link"
mkdir -p "$LINK"
ln -sf "$CU/lib/libcudart.so.13" "$LINK/libcudart.so"

export PATH="$CU/bin:$PATH" CUDA_PATH="$CU" CUDA_HOME="$CU" NVCC="$CU/bin/nvcc"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}" CUDARC_CUDA_VERSION=13000
export CUDAFORGE_THREADS="${CUDAFORGE_THREADS:-2}"
# The linker finds it through LIBRARY_PATH, which leaves RUSTFLAGS (and so every other
# crate's build, DuckDB's included) untouched.
export LIBRARY_PATH="$LINK:$CU/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
# candle links the driver's library at build time (cudarc's `dynamic-linking`), so its
# binaries would not even start on a machine without the NVIDIA driver. A copy of
# candle-core that asks cudarc for `dynamic-loading` instead loads the library when a run
# first looks for a GPU, and `shoplab_model::device` falls back to the CPU when it is
# missing. The copy is patched in for this build only; Cargo.lock is put back after it.
cargo fetch -q # candle-core's sources, on a machine that has not built yet
CANDLE_SRC="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/candle-core-0.11.* | tail -1)"
CANDLE="$CUDA_ROOT/$(basename "$CANDLE_SRC")"
if [ ! -f "$CANDLE/Cargo.toml" ]; then
  rm -rf "$CANDLE" && cp -r "$CANDLE_SRC" "$CANDLE"
  sed -i 's/"dynamic-linking",/"dynamic-loading",/' "$CANDLE/Cargo.toml"
  grep -q '"dynamic-loading",' "$CANDLE/Cargo.toml"
fi
cp Cargo.lock "$CUDA_ROOT/Cargo.lock.saved"
trap 'cp "$CUDA_ROOT/Cargo.lock.saved" Cargo.lock' EXIT
cargo build --workspace --bins --examples --features shoplab-cli/cuda,shoplab-workbench/cuda \
  --config "patch.crates-io.candle-core.path=\"$CANDLE\"" "$@"
D="$CARGO_TARGET_DIR/debug"
# The CUDA runtime the binaries look for beside them (scripts/cuda-rpath.rs).
mkdir -p "$D/cuda-lib" && cp -L "$CU/lib/libcudart.so.13" "$D/cuda-lib/"
for bin in shoplab shoplab-workbench examples/embed_throughput examples/review_split; do
  cp "$D/$bin" "$D/$bin-cuda"
  echo "built $D/$bin-cuda"
done

# Sourced by the scripts: a build cache outside the clone, so repeated runs are incremental.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shoplab/target}"
export SHOPLAB_DATASETS="${SHOPLAB_DATASETS:-$HOME/.cache/shoplab/datasets}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/shoplab-runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

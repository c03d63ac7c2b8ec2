#!/usr/bin/env bash
# README command 1: the workbench on the bundled demo workspace; headless, the CLI demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
source scripts/env.sh
# One build selection for everything (the tests use the same), so DuckDB compiles once.
cargo build -q --workspace --all-targets
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${SHOPLAB_HEADLESS:-0}" != 1 ]; then
  exec "$CARGO_TARGET_DIR/debug/shoplab-workbench" --demo
else
  echo "no display: running the headless demo (set DISPLAY for the workbench)"
  exec "$CARGO_TARGET_DIR/debug/shoplab" demo "$@"
fi

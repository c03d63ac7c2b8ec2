#!/usr/bin/env bash
# README command 1: the workbench on the bundled demo workspace; headless, the CLI demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
source scripts/env.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${SHOPLAB_HEADLESS:-0}" != 1 ]; then
  cargo run -q -p shoplab-workbench -- --demo
else
  echo "no display: running the headless demo (set DISPLAY for the workbench)"
  cargo run -q -p shoplab-cli --bin shoplab -- demo "$@"
fi

#!/usr/bin/env bash
# The product manager's storefront demo (Tauri): the real app on the bundled demo workspace
# (built with its runs and calibration on first start, about a minute), or on any workspace
# chosen from the app's "Open workspace…" dialog.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
source scripts/env.sh
# The same build selection as the tests and the workbench, so DuckDB compiles once.
cargo build -q --workspace --all-targets
exec "$CARGO_TARGET_DIR/debug/shoplab-demo" "$@"

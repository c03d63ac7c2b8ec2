#!/usr/bin/env bash
# Architecture invariant: no UI crate in the dependency tree of the engine crates.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in shoplab-data shoplab-synth shoplab-model shoplab-engine; do
  found=$(cargo tree -q -p "$crate" -e normal --prefix none | grep -E '^(egui|eframe|egui_plot|rfd|tauri|winit|wry) ' | sort -u || true)
  if [ -n "$found" ]; then
    echo "UI crates in the dependency tree of $crate: $found" >&2
    status=1
  fi
done
exit $status

#!/usr/bin/env bash
# Workbench frame times: the real app in a real window under Xvfb (Mesa's software
# OpenGL: rendering runs on the CPU too, a pessimistic setting), repainting continuously
# while (1) a simulation streams its days, (2) a sweep of a scenario parameter runs, (3) a
# training run reports its epochs, (4) a 1,000,000-point series is plotted (decimated per
# pixel column), (5) the Compare view
# holds 500 runs (a random search of item-kNN's neighbours, two seeds each; parallel
# coordinates draw every run). Each frame's CPU time
# (eframe's `cpu_usage`: the app's update, layout, tessellation and rendering, vsync wait
# excluded) is logged; printed: frames, p50, p95, p99, max. Goals: < 50 ms while jobs run,
# < 16 ms for the 1M-point plot and the 500-run Compare view.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build -q --workspace
bin="$CARGO_TARGET_DIR/debug"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/shoplab" demo --out "$work/shop.duckdb" >/dev/null
measure() { # label, seconds, workbench flags... (FROM=fraction: only the frames after it)
  local label=$1 secs=$2 from=${FROM:-0}
  shift 2
  # A fresh config and data folder: a layout remembered from earlier use is not measured.
  rm -rf "$work/xdg" && mkdir -p "$work/xdg"
  XDG_CONFIG_HOME="$work/xdg" XDG_DATA_HOME="$work/xdg" xvfb-run -a -s "-screen 0 1280x860x24" \
    "$bin/shoplab-workbench" "$@" --frame-log "$work/frames.txt" --exit-after "$secs" \
    >/dev/null 2>&1 || true
  awk -v from="$from" '{ v[NR] = $1 } END { for (i = int(NR * from) + 1; i <= NR; i++) print v[i] }' \
    "$work/frames.txt" | sort -n | awk -v label="$label" '
    { v[NR] = $1 }
    END {
      if (NR == 0) { printf "%-48s no frames\n", label; exit }
      a = int(NR * 0.50) + 1; b = int(NR * 0.95) + 1; c = int(NR * 0.99) + 1
      if (b > NR) b = NR
      if (c > NR) c = NR
      printf "%-48s %6d frames  p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  max %7.2f ms\n",
        label, NR, v[a], v[b], v[c], v[NR]
    }'
}
echo "== workbench frame times (Xvfb, software OpenGL, $(nproc) cores, dev build)"
measure "simulation streaming (competitor-cut, 10 reps)" 20 \
  "$work/shop.duckdb" --view simulate --scenario scenarios/competitor-cut.toml --run
# A sweep of the competitor's price (bench/sweep.sh's 20 values × 10 replicates) running
# on the worker's threads while the window repaints.
measure "sweep running (competitor-cut, 20 × 10)" 30 \
  "$work/shop.duckdb" --view simulate --scenario scenarios/competitor-cut.toml \
  --sweep events.0.competitor_price=0.7..1.0:20 --run
measure "training run (bpr, demo split)" 15 "$work/shop.duckdb" --view models --run
measure "1,000,000-point series" 10 "$work/shop.duckdb" --bench-points 1000000
# 500 runs: 250 random draws of item-kNN's neighbours, two seeds each (a sweep).
"$bin/shoplab" train "$work/shop.duckdb" --split main --model itemknn --random 250 \
  --range neighbors=5..400 --seeds 1,2 --tag bench --json >/dev/null
# The window opens at once; the 506 runs arrive from the worker some seconds later: the
# whole window's life, then its last half (every run in the table, parallel coordinates and
# importance over all of them, the latest three compared), then all of them compared.
measure "Compare view, 506 runs (whole)" 40 "$work/shop.duckdb" --view compare
FROM=0.5 measure "Compare view, 506 runs (last 20 s)" 40 "$work/shop.duckdb" --view compare
FROM=0.75 measure "Compare view, 506 runs all compared (last 15 s)" 60 "$work/shop.duckdb" \
  --view compare --run

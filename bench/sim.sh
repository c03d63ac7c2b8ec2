#!/usr/bin/env bash
# Simulator throughput (shopper decisions per second, 100,000 items) and real-time top-10
# latency (p50 / p99 over 100,000 items × 64 factors). Goals: ≥ 1M decisions/s for the
# heuristic policy, p99 ≤ 1 ms. ITEMS, SESSIONS, THREADS, DIM, QUERIES change the run.
# The example is built in the dev profile, where shoplab-sim is compiled at opt-level 3.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo run -q --example throughput

#!/usr/bin/env bash
# The sweep benchmark: the shipped competitor-cut scenario (30 days, 1,500 sessions a day,
# five policies and the oracle) with the competitor's price swept over 20 values from 70% to
# 100% of ours, 10 replicates each: `shoplab simulate --sweep`, against the same 20
# scenarios run one `shoplab simulate` at a time (what an analyst does by hand). Printed:
# wall time of each, simulated sessions per second, and the ratio. Dev build; the
# simulator is compiled optimized in it (Cargo.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build -q --workspace
bin="$CARGO_TARGET_DIR/debug/shoplab"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scenario=scenarios/competitor-cut.toml
threads=$(nproc)
"$bin" init "$work/sweep.duckdb" >/dev/null
"$bin" init "$work/single.duckdb" >/dev/null
now() { date +%s.%N; }
t0=$(now)
"$bin" simulate "$work/sweep.duckdb" --scenario "$scenario" --seeds 10 --threads "$threads" \
  --sweep events.0.competitor_price=0.7..1.0:20 --json >"$work/sweep.jsonl"
t1=$(now)
for i in $(seq 0 19); do
  value=$(python3 -c "print(0.7 + 0.3 * $i / 19)")
  sed "s/^competitor_price = 0.85/competitor_price = $value/" "$scenario" >"$work/one.toml"
  "$bin" simulate "$work/single.duckdb" --scenario "$work/one.toml" --seeds 10 \
    --threads "$threads" --json >/dev/null
done
t2=$(now)
sessions=$("$bin" sql "$work/sweep.duckdb" \
  "SELECT CAST(sum(value) AS BIGINT) FROM sim_metrics WHERE metric = 'sessions'" | tail -1)
python3 - "$t0" "$t1" "$t2" "$sessions" "$threads" <<'PY'
import sys
t0, t1, t2, sessions, threads = map(float, sys.argv[1:])
sweep, single = t1 - t0, t2 - t1
print(f"== sweep benchmark: competitor-cut, 20 values × 10 replicates ({int(threads)} threads, dev build)")
print(f"shoplab simulate --sweep               {sweep:8.1f} s  {sweep / 20:6.2f} s a value  {sessions / sweep / 1e6:6.2f} M sessions/s ({int(sessions):,} sessions, 6 policies incl. the oracle)")
print(f"20 × shoplab simulate, one at a time   {single:8.1f} s  {single / 20:6.2f} s a value")
print(f"ratio sweep / one at a time            {sweep / single:8.2f}")
PY

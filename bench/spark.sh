#!/usr/bin/env bash
# The profile of a REES46-shaped log on local DuckDB (the workspace) against local Spark
# (a Spark Connect server, local[2], the same 2 cores) over the same log written as a lake
# (hive-partitioned Parquet by day). Prints both times, their ratio and that the figures agree.
#   ROWS=10000000 bash bench/spark.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
rows="${ROWS:-10000000}"
dir="${BENCH_DIR:-$HOME/.cache/shoplab/bench}/spark-$rows"
cargo build -q --workspace
bin="$CARGO_TARGET_DIR/debug/shoplab"
eval "$(bash scripts/spark.sh start)"
mkdir -p "$dir"
if [ ! -f "$dir/shop.duckdb" ]; then
  echo "generating and importing about $rows events …"
  "$bin" generate --out "$dir/gen" --events "$rows" --seed 1 >/dev/null
  "$bin" import "$dir/shop.duckdb" "$dir/gen/events.csv" --json >/dev/null
  rm -rf "$dir/gen"
fi
if [ ! -d "$dir/lake" ]; then
  "$bin" export "$dir/shop.duckdb" --lake "$dir/lake" --partition-by event_date --json >/dev/null
fi
time_of() { # command… → seconds, its JSON in $dir/out.json
  local t0 t1
  t0=$(date +%s.%N)
  "$@" --json >"$dir/out.json"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
duck=$(time_of "$bin" profile "$dir/shop.duckdb")
cp "$dir/out.json" "$dir/duckdb.json"
spark=$(time_of "$bin" profile "$dir/shop.duckdb" --spark "$SPARK_REMOTE" --data "$dir/lake/events")
cp "$dir/out.json" "$dir/spark.json"
python3 - "$dir" "$duck" "$spark" <<'PY'
import json, sys
d, duck, spark = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
a, b = (json.load(open(f"{d}/{n}.json")) for n in ("duckdb", "spark"))
keys = ["events", "users", "items", "sessions", "first_event", "last_event", "by_type",
        "funnel", "sparsity", "events_per_user", "events_per_item"]
same = all(a[k] == b[k] for k in keys) and abs(a["revenue"] - b["revenue"]) < 1e-4
print(f"events: {a['events']:,}  users: {a['users']:,}  items: {a['items']:,}")
print(f"{'profile of the event log':<40}{'seconds':>10}")
print(f"{'DuckDB (the workspace; whole profile)':<40}{duck:>10.1f}")
print(f"{'Spark Connect, local[2] (event figures)':<40}{spark:>10.1f}")
print(f"ratio Spark / DuckDB: {spark / duck:.1f}   figures equal: {same}")
PY

#!/usr/bin/env bash
# A REES46-shaped log's profile and hashed split on local DuckDB (the workspace) against
# local Spark (a Spark Connect server, local[2], the same 2 cores) over the same log written
# as a lake (hive-partitioned Parquet by day). Prints the times, their ratios and that the
# figures and the split's rows agree. With IMPORT=1, also the import of the CSV itself, local
# against read and checked on Spark (every row comes back to the desktop: keep it to a few
# million rows).
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
  [ "${IMPORT:-0}" = 1 ] || rm -rf "$dir/gen"
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
duck_split=$(time_of "$bin" split "$dir/shop.duckdb" --name bench-duckdb --strategy hashed)
spark_split=$(time_of "$bin" split "$dir/shop.duckdb" --name bench-spark --strategy hashed \
  --spark "$SPARK_REMOTE" --data "$dir/lake/events")
differ=$("$bin" sql "$dir/shop.duckdb" "SELECT count(*) FROM (
  SELECT part, user_id, item_id, event_time FROM split_interactions WHERE split = 'bench-duckdb'
  EXCEPT ALL SELECT part, user_id, item_id, event_time FROM split_interactions WHERE split = 'bench-spark')" | tail -1)
imports=""
if [ "${IMPORT:-0}" = 1 ] && [ -f "$dir/gen/events.csv" ]; then
  rm -f "$dir/import-local.duckdb" "$dir/import-spark.duckdb"
  local_import=$(time_of "$bin" import "$dir/import-local.duckdb" "$dir/gen/events.csv")
  spark_import=$(time_of "$bin" import "$dir/import-spark.duckdb" --spark "$SPARK_REMOTE" --data "$dir/gen/events.csv")
  imports="$local_import $spark_import"
fi
python3 - "$dir" "$duck" "$spark" "$duck_split" "$spark_split" "$differ" $imports <<'PY'
import json, sys
d, duck, spark, dsplit, ssplit = sys.argv[1], *map(float, sys.argv[2:6])
differ = sys.argv[6]
a, b = (json.load(open(f"{d}/{n}.json")) for n in ("duckdb", "spark"))
keys = ["events", "users", "items", "sessions", "first_event", "last_event", "by_type",
        "funnel", "sparsity", "events_per_user", "events_per_item"]
same = all(a[k] == b[k] for k in keys) and abs(a["revenue"] - b["revenue"]) < 1e-4
print(f"events: {a['events']:,}  users: {a['users']:,}  items: {a['items']:,}")
print(f"{'step':<48}{'DuckDB s':>10}{'Spark s':>10}{'ratio':>8}")
print(f"{'profile (DuckDB: whole; Spark: event figures)':<48}{duck:>10.1f}{spark:>10.1f}{spark / duck:>8.1f}")
print(f"{'hashed split (rows stored in the workspace)':<48}{dsplit:>10.1f}{ssplit:>10.1f}{ssplit / dsplit:>8.1f}")
if len(sys.argv) > 8:
    li, si = float(sys.argv[7]), float(sys.argv[8])
    print(f"{'import of the CSV (rows and rejects back here)':<48}{li:>10.1f}{si:>10.1f}{si / li:>8.1f}")
print(f"profile figures equal: {same}   split rows differing: {differ}")
PY
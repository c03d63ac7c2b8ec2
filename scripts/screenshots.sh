#!/usr/bin/env bash
# Screenshots of each workbench view from the real app, in a real window under Xvfb, for the
# README: assets/screenshots/{data,models,compare,compare-parallel,compare-inside,simulate,
# simulate-sweep,simulate-rules,simulate-categories,data-spark}.png.
# Uses a copy of the demo workspace with its finished runs, three more, and a BPR sweep
# (factors × learning rate, three seeds); the Models view starts a run and is captured while
# it trains, Compare shows the sweep grouped over seeds, its parallel coordinates and
# parameter importance, and inside one of its runs; the Simulate view runs the
# competitor-cut scenario in real time, then sweeps its competitor price; the price-rules
# scenario shows its policies and rules as forms, then its results by category.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build -q --workspace
bin="$CARGO_TARGET_DIR/debug"
out=assets/screenshots
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/shoplab" demo --out "$work/shop.duckdb" >/dev/null
for model in "bpr --epochs 15" "mf --objective bpr --epochs 15" "neumf --epochs 8 --factors 16"; do
  # shellcheck disable=SC2086
  "$bin/shoplab" train "$work/shop.duckdb" --split main --model $model >/dev/null
done
shot() { # name, seconds to wait, workbench flags...
  local name=$1 wait=$2
  shift 2
  xvfb-run -a -s "-screen 0 1280x860x24" bash -c \
    "XDG_CONFIG_HOME='$work/config-$name' XDG_DATA_HOME='$work/data-$name' '$bin/shoplab-workbench' '$work/shop.duckdb' $* & sleep $wait; import -window root '$out/$name.png'; kill %1; wait"
  echo "$out/$name.png"
}
shot data 8 --view data --run
shot models 14 --view models --run
"$bin/shoplab" train "$work/shop.duckdb" --split main --model bpr --epochs 10 \
  --grid factors=8,32 --grid lr=0.003,0.01 --seeds 1,2,3 --tag sweep-demo >/dev/null
# The sweep's last run, looked inside (read before a window holds the workspace).
inside=$("$bin/shoplab" runs "$work/shop.duckdb" --tag sweep-demo --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["run_id"])')
sweep="--view compare --filter '#sweep-demo' --run"
shot compare 12 "$sweep" --section curves
shot compare-parallel 12 "$sweep" --section parallel,importance
shot compare-inside 16 "$sweep" --section inside --inspect "$inside"
shot simulate 25 --view simulate --scenario scenarios/competitor-cut.toml --run
shot simulate-sweep 60 --view simulate --scenario scenarios/competitor-cut.toml \
  --sweep events.0.competitor_price=0.7..1.0:6 --run
shot simulate-rules 10 --view simulate --scenario scenarios/price-rules.toml --section policies
shot simulate-categories 30 --view simulate --scenario scenarios/price-rules.toml \
  --section categories --run
# The Data view's Spark panel: the demo's log as a lake, profiled on a local Spark server.
"$bin/shoplab" export "$work/shop.duckdb" --lake "$work/lake" --partition-by event_date >/dev/null
eval "$(bash scripts/spark.sh start)"
shot data-spark 25 --view data --spark "$SPARK_REMOTE" --data "$work/lake/events" --run
bash scripts/spark.sh stop
# The storefront demo: the real app through tauri-driver (the real-app test's journey).
shots=$(mktemp -d)
SHOPLAB_UI_SHOTS="$shots" cargo test -q --workspace --test real_app >/dev/null
for name in storefront product compare control-room; do
  target="$out/storefront-${name/storefront/home}.png"
  cp "$shots/real-$name.png" "$target"
  echo "$target"
done

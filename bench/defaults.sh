#!/usr/bin/env bash
# Are `shoplab train`'s defaults good enough? On MovieLens-100K's 8:1:1 random split (seed 1)
# every model is trained twice: with its defaults (no hyperparameter flag at all) and with
# the tuned settings below, chosen on the validation part of this split, never its test
# part. One table: model, test metric (RMSE for the rating models, NDCG@10 for the ranking
# ones), the defaults' figure, the tuned figure, their ratio (defaults / tuned) and whether
# the defaults are within 2% (RMSE at most 1.02 × tuned, NDCG@10 at least 0.98 × tuned).
# Test figures; the tuned settings were not chosen on them.
#   bash bench/defaults.sh                          release build, every model
#   MODELS=mf,bpr,ease bash bench/defaults.sh       some models
#   SHOPLAB_BIN=target/debug/shoplab bash bench/defaults.sh   a given binary, no build
# TUNED_<MODEL> (TUNED_MF, TUNED_BPR, ...) replaces a model's tuned arguments. Every run
# adds `--seed 1 --json`. Figures also go to $BENCH_DIR/defaults-results.json. Roughly
# 8-12 minutes on 2 cores, most of it NeuMF and SASRec (about 10 and 7 s an epoch on one
# core); MODELS=mf,bpr,itemknn,ease,bpmf,pop takes about 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SHOPLAB_BIN:-}" ]; then
  source scripts/env.sh
  cargo build --release -q -p shoplab-cli
  SHOPLAB_BIN="$CARGO_TARGET_DIR/release/shoplab"
fi
export SHOPLAB_DATASETS="${SHOPLAB_DATASETS:-$HOME/.cache/shoplab/datasets}"
[ -f "$SHOPLAB_DATASETS/ml-100k/ml-100k.inter" ] || bash datasets/fetch.sh ml-100k >/dev/null
BENCH_DIR="${BENCH_DIR:-$HOME/.cache/shoplab/bench}"
MODELS="${MODELS:-mf,bpr,neumf,sasrec,itemknn,ease,bpmf,pop}"
mkdir -p "$BENCH_DIR"

# The tuned settings (validation NDCG@10 / RMSE of the 8:1:1 split, seed 1). mf's and
# bpmf's are bench/models.sh's MF_ARGS and BPMF_ARGS.
declare -A TUNED=(
  [mf]="--factors 128 --epochs 40 --lr 0.003 --reg 0.1"
  [bpr]="--factors 32 --lr 0.003 --reg 0.01 --epochs 100 --patience 10"
  [neumf]="--factors 64 --lr 0.003 --reg 0.03"
  [sasrec]="--factors 64 --lr 0.001"
  [itemknn]="--neighbors 150"
  [ease]="--lambda 300"
  [bpmf]="--factors 20 --epochs 200 --burn-in 20 --alpha 1.5"
  [pop]=""
)
# How each model is asked for: mf with its rating objective (the default, said explicitly).
declare -A SELECT=([mf]="--model mf --objective mse")

ws="$BENCH_DIR/defaults.duckdb"
rm -rf "$ws" "$ws.runs" "$ws.wal"
"$SHOPLAB_BIN" import "$ws" "$SHOPLAB_DATASETS/ml-100k/ml-100k.inter" >/dev/null
"$SHOPLAB_BIN" split "$ws" --name main --strategy random --seed 1 >/dev/null
out="$BENCH_DIR/defaults-results.jsonl"
: >"$out"
train() { # model, setting (defaults|tuned), extra arguments...
  local model=$1 setting=$2
  shift 2
  local select=${SELECT[$model]:-"--model $model"}
  local t0=$SECONDS line
  # shellcheck disable=SC2086 # $select holds several words on purpose
  if line=$("$SHOPLAB_BIN" train "$ws" --split main $select --seed 1 --json "$@" 2>"$BENCH_DIR/defaults-stderr.txt" | tail -n1) &&
    [ -n "$line" ]; then
    printf '{"model":"%s","setting":"%s","args":"%s","wall":%d,"run":%s}\n' \
      "$model" "$setting" "$*" $((SECONDS - t0)) "$line" >>"$out"
  else
    printf '{"model":"%s","setting":"%s","args":"%s","failed":%s}\n' "$model" "$setting" "$*" \
      "$(head -n1 "$BENCH_DIR/defaults-stderr.txt" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')" >>"$out"
  fi
  echo "done: $model $setting $* ($((SECONDS - t0)) s)" >&2
}
IFS=, read -r -a models <<<"$MODELS"
for m in "${models[@]}"; do
  var="TUNED_${m^^}"
  tuned=${!var-${TUNED[$m]-}}
  train "$m" defaults
  # shellcheck disable=SC2086 # the tuned arguments are words
  [ "$m" = pop ] || train "$m" tuned $tuned
done
python3 - "$out" "$BENCH_DIR/defaults-results.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump(rows, open(sys.argv[2], "w"), indent=1)
RATING = {"mf", "bpmf"}
by = {}
for r in rows:
    by.setdefault(r["model"], {})[r["setting"]] = r
def fig(r, metric):
    if r is None:
        return None, "n/a"
    if "failed" in r:
        return None, "failed: " + r["failed"][:60]
    v = r["run"]["metrics"].get(metric)
    return v, f"{v:.4f}" if v is not None else "missing"
print(f"{'model':<8} {'metric':<8} {'defaults':>10} {'tuned':>10} {'ratio':>7}  {'within 2%?':<10} {'epochs d/t':>10} {'s d/t':>11}  tuned arguments")
for m, s in by.items():
    metric = "rmse" if m in RATING else "ndcg@10"
    d, ds = fig(s.get("defaults"), metric)
    t, ts = fig(s.get("tuned"), metric)
    if m == "pop":
        t, ts = d, "(= defaults)"
    ratio = d / t if d is not None and t else None
    ok = "" if ratio is None else ("yes" if (ratio <= 1.02 if metric == "rmse" else ratio >= 0.98) else "NO")
    ep = "/".join(str(s[k]["run"].get("epochs", "")) if k in s and "run" in s[k] else "-" for k in ("defaults", "tuned"))
    sec = "/".join(f"{s[k]['run']['seconds']:.1f}" if k in s and "run" in s[k] else "-" for k in ("defaults", "tuned"))
    args = s.get("tuned", {}).get("args", "") if m != "pop" else "(nothing to tune)"
    print(f"{m:<8} {metric:<8} {ds:>10} {ts:>10} {'' if ratio is None else f'{ratio:.4f}':>7}  {ok:<10} {ep:>10} {sec:>11}  {args}")
print("ratio = defaults / tuned; within 2%: RMSE ratio <= 1.02, NDCG@10 ratio >= 0.98 (test part)")
PY

"""Times `shoplab import` against DuckDB's CREATE TABLE AS read_csv on the same file.

Each command runs in its own process; peak RSS is that process's max resident set size.
"""
import json
import os
import resource
import subprocess
import sys
import time

BIN = os.environ["SHOPLAB_BIN"]
ROWS = int(os.environ.get("ROWS", "10000000"))
DIR = os.environ["BENCH_DIR"]
REPEAT = int(os.environ.get("REPEAT", "3"))
os.makedirs(DIR, exist_ok=True)
csv = os.path.join(DIR, f"events-{ROWS}.csv")




def measured(cmd):
    helper = (
        "import resource,subprocess,sys,time,json;"
        "t=time.perf_counter();p=subprocess.run(sys.argv[1:],capture_output=True);"
        "d=time.perf_counter()-t;"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(json.dumps({'s':d,'rss_kib':r,'rc':p.returncode,'err':p.stderr.decode()[-1500:],'out':p.stdout.decode()[-3000:]}))"
    )
    p = subprocess.run([sys.executable, "-c", helper, *cmd], capture_output=True, text=True, check=True)
    r = json.loads(p.stdout)
    if r["rc"] != 0:
        sys.exit(f"{cmd[:3]} failed: {r['err']}")
    return r


if not os.path.exists(csv):
    gen = os.path.join(DIR, "gen")
    print(f"generating about {ROWS:,} events …", flush=True)
    subprocess.run([BIN, "generate", "--out", gen, "--events", str(ROWS), "--seed", "1"], check=True,
                   stdout=subprocess.DEVNULL)
    os.replace(os.path.join(gen, "events.csv"), csv)
lines = sum(1 for _ in open(csv, "rb")) - 1
size = os.path.getsize(csv) / 2**20
print(f"file: {csv}  rows: {lines:,}  size: {size:,.0f} MiB  cores: {os.cpu_count()}")

ref_ws = os.path.join(DIR, "ref.duckdb")
ours_ws = os.path.join(DIR, "ours.duckdb")
rows = []
for i in range(REPEAT):
    for p in (ref_ws, ours_ws):
        for suffix in ("", ".wal"):
            if os.path.exists(p + suffix):
                os.remove(p + suffix)
    ref = measured([BIN, "sql", ref_ws, f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')"])
    ours = measured([BIN, "import", ours_ws, csv, "--json"])
    report = json.loads(ours["out"])[0]
    assert report["rows_loaded"] == lines, report
    rows.append((ref, ours))
    print(f"run {i + 1}: duckdb CTAS {ref['s']:.2f} s ({ref['rss_kib'] / 1024:,.0f} MiB)   "
          f"shoplab import {ours['s']:.2f} s ({ours['rss_kib'] / 1024:,.0f} MiB)", flush=True)

best_ref = min(r[0]["s"] for r in rows)
best_ours = min(r[1]["s"] for r in rows)
print()
print(f"{'':<34}{'best s':>10}{'rows/s':>14}{'peak RSS MiB':>16}")
print(f"{'DuckDB CREATE TABLE AS read_csv':<34}{best_ref:>10.2f}{lines / best_ref:>14,.0f}"
      f"{max(r[0]['rss_kib'] for r in rows) / 1024:>16,.0f}")
print(f"{'shoplab import (detect+validate)':<34}{best_ours:>10.2f}{lines / best_ours:>14,.0f}"
      f"{max(r[1]['rss_kib'] for r in rows) / 1024:>16,.0f}")
print(f"speed ratio (ours / DuckDB's, goal >= 0.8): {best_ref / best_ours:.2f}")

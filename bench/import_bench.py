"""Times `shoplab import` against DuckDB's own CREATE TABLE AS of the same file.

Each command is a whole process, timed from start to exit (the final checkpoint included);
peak RSS is that process's max resident set size. Two references: stock DuckDB from PyPI
(its Python package, the version ShopLab bundles) and ShopLab's bundled DuckDB through
`shoplab sql` on an empty workspace. A third row, for the CSV files, is stock DuckDB's CTAS
with the ids read as text, as the import's schema keeps them (DuckDB's own sniffer makes
them BIGINT, which it stores and hashes for its statistics faster than strings): it says
how much of the gap is the schema rather than the import. Runs are interleaved, best of REPEAT. Our import runs
with SHOPLAB_TRACE=1, so its own steps (seconds since it started) are printed beside.
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

BIN = os.environ["SHOPLAB_BIN"]
ROWS = int(os.environ.get("ROWS", "10000000"))
DIR = os.environ["BENCH_DIR"]
REPEAT = int(os.environ.get("REPEAT", "3"))
FORMATS = os.environ.get("FORMATS", "csv,gzip,parquet").split(",")
PYTHON = os.environ["DUCKDB_PYTHON"]
os.makedirs(DIR, exist_ok=True)
csv = os.path.join(DIR, f"events-{ROWS}.csv")
files = {
    "csv": csv,
    "gzip": csv + ".gz",
    "parquet": os.path.join(DIR, f"events-{ROWS}.parquet"),
}
readers = {"csv": "read_csv", "gzip": "read_csv", "parquet": "read_parquet"}


def measured(cmd, env=None):
    """Wall seconds and peak RSS of `cmd` as its own process (a small helper forks it)."""
    helper = (
        "import resource,subprocess,sys,time,json;"
        "t=time.perf_counter();p=subprocess.run(sys.argv[1:],capture_output=True);"
        "d=time.perf_counter()-t;"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(json.dumps({'s':d,'rss_kib':r,'rc':p.returncode,'err':p.stderr.decode()[-4000:],'out':p.stdout.decode()[-3000:]}))"
    )
    p = subprocess.run([sys.executable, "-c", helper, *cmd], capture_output=True, text=True,
                       check=True, env=env)
    r = json.loads(p.stdout)
    if r["rc"] != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed: {r['err']}")
    return r


def fresh(ws):
    for suffix in ("", ".wal"):
        if os.path.exists(ws + suffix):
            os.remove(ws + suffix)
    shutil.rmtree(ws + ".tmp", ignore_errors=True)


if not os.path.exists(csv):
    gen = os.path.join(DIR, "gen")
    print(f"generating about {ROWS:,} events …", flush=True)
    subprocess.run([BIN, "generate", "--out", gen, "--events", str(ROWS), "--seed", "1"], check=True,
                   stdout=subprocess.DEVNULL)
    os.replace(os.path.join(gen, "events.csv"), csv)
if "gzip" in FORMATS and not os.path.exists(files["gzip"]):
    print("compressing the file (gzip, level 6) …", flush=True)
    with open(csv, "rb") as src, gzip.open(files["gzip"] + ".part", "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    os.replace(files["gzip"] + ".part", files["gzip"])
if "parquet" in FORMATS and not os.path.exists(files["parquet"]):
    print("writing the file as Parquet (DuckDB's defaults) …", flush=True)
    subprocess.run([PYTHON, "-c", "import duckdb,sys; duckdb.sql(sys.argv[1])",
                    f"COPY (SELECT * FROM read_csv('{csv}')) TO '{files['parquet']}.part' (FORMAT parquet)"],
                   check=True)
    os.replace(files["parquet"] + ".part", files["parquet"])
lines = sum(1 for _ in open(csv, "rb")) - 1
print(f"file: {csv}  rows: {lines:,}  cores: {os.cpu_count()}")
for f in FORMATS:
    print(f"  {f}: {os.path.getsize(files[f]) / 2**20:,.0f} MiB")

stock = "import duckdb,sys; c=duckdb.connect(sys.argv[1]); c.execute(sys.argv[2]); c.close()"
SIDES = ("stock", "text_ids", "bundled", "ours")
ws = {k: os.path.join(DIR, f"{k}.duckdb") for k in SIDES}
TEXT_IDS = "types={'user_id': 'VARCHAR', 'product_id': 'VARCHAR'}"
trace_env = dict(os.environ, SHOPLAB_TRACE="1")
step_re = re.compile(r"^\[import\] (.+?): ([0-9.]+) s$", re.M)
results = {f: [] for f in FORMATS}
for i in range(REPEAT):
    for f in FORMATS:
        ctas = f"CREATE TABLE t AS SELECT * FROM {readers[f]}('{files[f]}')"
        for w in ws.values():
            fresh(w)
        ref = measured([PYTHON, "-c", stock, ws["stock"], ctas])
        run = {"stock": ref}
        if readers[f] == "read_csv":
            text_ctas = f"CREATE TABLE t AS SELECT * FROM read_csv('{files[f]}', {TEXT_IDS})"
            run["text_ids"] = measured([PYTHON, "-c", stock, ws["text_ids"], text_ctas])
        subprocess.run([BIN, "init", ws["bundled"]], check=True, stdout=subprocess.DEVNULL)
        bundled = measured([BIN, "sql", ws["bundled"], ctas])
        ours = measured([BIN, "import", ws["ours"], files[f], "--json"], env=trace_env)
        report = json.loads(ours["out"])[0]
        assert report["rows_loaded"] == lines, report
        ours["steps"] = step_re.findall(ours["err"])
        run.update(bundled=bundled, ours=ours)
        results[f].append(run)
        print(f"run {i + 1} {f:>8}: DuckDB {ref['s']:.2f} s ({ref['rss_kib'] / 1024:,.0f} MiB)   "
              f"bundled {bundled['s']:.2f} s ({bundled['rss_kib'] / 1024:,.0f} MiB)   "
              f"shoplab import {ours['s']:.2f} s ({ours['rss_kib'] / 1024:,.0f} MiB)", flush=True)

print()
print(f"{'file':<9}{'side':<40}{'best s':>8}{'rows/s':>13}{'peak RSS MiB':>14}{'ratio':>8}")
summary = {}
for f in FORMATS:
    runs = results[f]
    sides = [k for k in SIDES if k in runs[0]]
    best = {k: min(r[k]["s"] for r in runs) for k in sides}
    rss = {k: max(r[k]["rss_kib"] for r in runs) / 1024 for k in sides}
    names = {
        "stock": "DuckDB 2.0 (Python) CREATE TABLE AS",
        "text_ids": "  the same, ids as text (import's types)",
        "bundled": "shoplab sql CREATE TABLE AS (bundled)",
        "ours": "shoplab import",
    }
    for k in sides:
        ratio = best["stock"] / best[k]
        print(f"{f:<9}{names[k]:<40}{best[k]:>8.2f}{lines / best[k]:>13,.0f}{rss[k]:>14,.0f}{ratio:>8.2f}")
    fastest = min(runs, key=lambda r: r["ours"]["s"])["ours"]
    print(f"{'':<9}the import's own steps (best run, seconds since it started; the process: {fastest['s']:.2f} s)")
    for step, at in fastest["steps"]:
        print(f"{'':<11}{step:<34}{float(at):>8.3f}")
    summary[f] = {"best_s": best, "peak_rss_mib": rss, "steps": fastest["steps"]}
    print()
print("ratio: DuckDB's best wall time over this side's (goal for shoplab import: >= 0.9, "
      "peak RSS <= 1024 MiB)")
with open(os.path.join(DIR, "import-results.json"), "w") as out:
    json.dump({"rows": lines, "results": results, "summary": summary}, out, indent=1)

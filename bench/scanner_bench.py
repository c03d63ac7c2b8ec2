"""Price sensitivity on real scanner panels: Ecdat's Tuna, Ketchup and Catsup (households'
brand choices, every brand's shelf price on each purchase occasion), each imported into a
workspace as a shop log (an occasion is a session: a view of every brand at its price, the
chosen brand's purchase), calibrated by `shoplab calibrate`, and fitted independently by
statsmodels' ConditionalLogit with the same utility (a brand intercept + beta * ln price).
Prints one table: our beta and standard error against the reference's, their difference
in standard errors, and what the calibration says about the missing no-purchase share."""

import csv
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from statsmodels.discrete.conditional_models import ConditionalLogit

BIN = os.environ["SHOPLAB_BIN"]
DATA = os.path.join(os.environ["SHOPLAB_DATASETS"], "ecdat")
PANELS = ["Tuna", "Ketchup", "Catsup"]


def read_panel(name):
    """Occasions as (household, chosen brand, {brand: price})."""
    with open(os.path.join(DATA, name + ".csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    cols = list(rows[0].keys())
    brands = [c[len("price."):] for c in cols if c.startswith("price.")]
    choice = next(c for c in cols if c.lower().endswith("choice"))
    household = next((c for c in cols if c.lower().endswith("hid")), None) or next(
        c for c in cols if c.lower().endswith("id")
    )
    return brands, [
        (r[household], r[choice], {b: float(r["price." + b]) for b in brands}) for r in rows
    ]


def write_log(name, occasions, path):
    """REES46-shaped events: a session per occasion, 100 occasions a day."""
    key = name.lower()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["event_time", "event_type", "product_id", "category_id", "category_code",
             "brand", "price", "user_id", "user_session"]
        )
        for n, (hh, chosen, prices) in enumerate(occasions):
            day, minute = divmod(n, 100)
            year, rest = divmod(day, 336)
            t = f"{2000 + year}-{1 + rest // 28:02d}-{1 + rest % 28:02d} " \
                f"{minute // 60:02d}:{minute % 60:02d}:00 UTC"
            session = f"{key}-{n}"
            for b, p in prices.items():
                w.writerow([t, "view", f"{key}.{b}", "1", key, b, p, hh, session])
            w.writerow([t, "purchase", f"{key}.{chosen}", "1", key, chosen, prices[chosen], hh,
                        session])


def ours(name, occasions, work):
    log = os.path.join(work, name + ".csv")
    ws = os.path.join(work, name + ".duckdb")
    write_log(name, occasions, log)
    subprocess.run([BIN, "import", ws, log, "--json"], check=True, capture_output=True)
    out = subprocess.run([BIN, "calibrate", ws, "--json"], check=True, capture_output=True,
                         text=True)
    cal = json.loads(out.stdout)
    c = cal["categories"][0]
    return c, cal["report"]


def reference(brands, occasions):
    """Conditional logit over the brands of each occasion: beta on ln price, an intercept
    per brand but the first."""
    rows, y, groups = [], [], []
    for g, (_, chosen, prices) in enumerate(occasions):
        for k, b in enumerate(brands):
            dummies = [1.0 if k == j else 0.0 for j in range(1, len(brands))]
            rows.append([math.log(prices[b])] + dummies)
            y.append(1.0 if b == chosen else 0.0)
            groups.append(g)
    fit = ConditionalLogit(np.array(y), np.array(rows), groups=np.array(groups)).fit(disp=0)
    return -fit.params[0], fit.bse[0]


def main():
    print("== price sensitivity on scanner panels: shoplab calibrate against statsmodels' "
          "ConditionalLogit (same utility: brand intercept + beta * ln price)")
    print(f"{'panel':<8} {'occasions':>9} {'brands':>6} {'ours beta (se)':>18} "
          f"{'reference beta (se)':>20} {'diff / se':>9}  no-purchase share")
    with tempfile.TemporaryDirectory() as work:
        for name in PANELS:
            brands, occasions = read_panel(name)
            try:
                c, report = ours(name, occasions, work)
            except subprocess.CalledProcessError as e:
                first = (e.stderr or b"").decode(errors="replace").strip().splitlines()
                print(f"{name:<8} failed: {first[0] if first else e}")
                continue
            beta, se = reference(brands, occasions)
            diff = (c["raw"] - beta) / math.hypot(c["se"], se)
            notes = report.get("notes") or []
            note = (
                "calibration notes: " + notes[0][:60] + "…"
                if notes
                else f"observed conversion {100 * report['observed_conversion']:.0f}%"
            )
            print(f"{name:<8} {len(occasions):>9} {len(brands):>6} "
                  f"{c['raw']:>10.3f} ({c['se']:.3f}) {beta:>12.3f} ({se:.3f}) {diff:>9.2f}  {note}")


if __name__ == "__main__":
    sys.exit(main())

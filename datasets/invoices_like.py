#!/usr/bin/env python3
"""Writes an invoice-line export shaped like UCI Online Retail (InvoiceNo, StockCode,
Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country), with the published
proportions of the real file's awkward rows, seeded and reproducible.

The real file (541,909 lines, 2010-12-01 .. 2011-12-09) is not in any package registry
ShopLab may fetch from, so the import's handling of its rows is measured on this stand-in.
Per 541,909 lines it has, as the real one does:

* 135,080 lines without a CustomerID (guest checkouts, 24.9%);
* 9,288 cancellation lines: InvoiceNo "C" + number, negative quantity;
* 1,336 other lines with a negative quantity, without a customer, at price 0
  (stock adjustments);
* 2,515 lines at price 0 in all (those 1,336 included);
* 2 lines of an "A" invoice with a negative price ("Adjust bad debt");
* 5,268 lines repeating an earlier line exactly.

Usage: python3 datasets/invoices_like.py OUT.csv [--lines N] [--seed S]
"""

import argparse
import csv
import datetime as dt
import random

REAL_LINES = 541_909
SHARES = {
    "guest": 135_080,
    "cancel": 9_288,
    "adjust": 1_336,
    "zero_other": 2_515 - 1_336,
    "bad_debt": 2,
    "repeat": 5_268,
}
COUNTRIES = ["United Kingdom"] * 9 + ["Germany", "France", "EIRE", "Spain", "Netherlands"]
WORDS = "WHITE RED HEART LANTERN HOLDER METAL BAG JUMBO RETRO SPOT CAKE CASES VINTAGE SET BOX".split()


def scaled(n, lines):
    return max(1 if n else 0, round(n * lines / REAL_LINES))


def when(rng, start, span_minutes):
    t = start + dt.timedelta(minutes=rng.randrange(span_minutes))
    return f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--lines", type=int, default=REAL_LINES)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    n = {k: scaled(v, a.lines) for k, v in SHARES.items()}
    start, span = dt.datetime(2010, 12, 1, 8, 0), 373 * 24 * 60
    items = [
        (f"{rng.randrange(10000, 99999)}{rng.choice(['', '', 'A', 'B'])}",
         " ".join(rng.sample(WORDS, 3)),
         round(rng.lognormvariate(1.0, 0.8), 2) or 0.19)
        for _ in range(max(50, a.lines // 140))
    ]
    customers = [f"{c}.0" for c in range(12346, 12346 + max(20, a.lines // 125))]
    # Lines of customers' ordinary purchases: the rest once the others are counted (the
    # guest lines include the adjustments and the bad debt; repeats copy customers' ordinary
    # lines).
    plain = a.lines - n["guest"] - n["cancel"] - n["zero_other"] - n["repeat"]
    rows = []
    invoice = 536365

    def lines_of(count, customer, kind):
        nonlocal invoice
        done = 0
        while done < count:
            k = min(count - done, rng.randint(1, 30))
            number = f"C{invoice}" if kind == "cancel" else str(invoice)
            t, country = when(rng, start, span), rng.choice(COUNTRIES)
            who = customer() if callable(customer) else customer
            for _ in range(k):
                code, title, price = rng.choice(items)
                qty = rng.choice([1, 2, 3, 4, 6, 6, 12, 12, 24, 48])
                if kind == "cancel":
                    qty = -qty
                elif kind == "adjust":
                    qty, price, title = -rng.randint(1, 100), 0, ""
                elif kind == "zero":
                    price = 0
                rows.append([number, code, title, qty, t, price, who, country])
            done += k
            invoice += 1

    lines_of(plain, lambda: rng.choice(customers), "plain")
    repeats = [list(r) for r in rng.sample(rows, n["repeat"])]
    lines_of(n["guest"] - n["adjust"] - n["bad_debt"], "", "plain")
    lines_of(n["cancel"], lambda: rng.choice(customers), "cancel")
    lines_of(n["adjust"], "", "adjust")
    lines_of(n["zero_other"], lambda: rng.choice(customers), "zero")
    for i in range(n["bad_debt"]):
        rows.append([f"A{563185 + i}", "B", "Adjust bad debt", 1, when(rng, start, span), -11062.06, "", "United Kingdom"])
    rows.extend(repeats)
    # Invoice lines in time order, as the export lists them.
    key = lambda r: dt.datetime.strptime(r[4], "%m/%d/%Y %H:%M")
    rows.sort(key=key)
    with open(a.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"])
        w.writerows(rows)
    print(f"{a.out}: {len(rows)} lines ({', '.join(f'{k} {v}' for k, v in n.items())})")


if __name__ == "__main__":
    main()

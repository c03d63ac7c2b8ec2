"""Pricing quality and speed: `shoplab pricing` against a straightforward numpy implementation
of the same world and policies (Thompson sampling with Beta(1, 1) priors, UCB1 on revenue
scaled by the top price, epsilon-greedy with epsilon 0.1; each price tried once first by
UCB1 and epsilon-greedy), vectorized across seeds. Prints one table: % of the clairvoyant's
expected revenue (95% interval over seeds) and seconds, both sides, and the speed ratio."""

import json
import os
import subprocess
import time

import numpy as np

BIN = os.environ["SHOPLAB_BIN"]
PRICES = np.array([29.9, 34.9, 39.9, 44.9])
APPEAL, SENSITIVITY = 27.5, 7.7
SEEDS = int(os.environ.get("SEEDS", "100"))
HORIZONS = [int(h) for h in os.environ.get("HORIZONS", "1000,10000").split(",")]
POLICIES = ["thompson", "ucb1", "eps:0.1"]


def numpy_run(policy, horizon, seeds, rng):
    """All seeds at once: arrays of shape (seeds, prices)."""
    prob = 1.0 / (1.0 + np.exp(-(APPEAL - SENSITIVITY * np.log(PRICES))))
    best = np.max(PRICES * prob)
    k = len(PRICES)
    offers = np.zeros((seeds, k))
    sales = np.zeros((seeds, k))
    expected = np.zeros(seeds)
    rows = np.arange(seeds)
    for t in range(1, horizon + 1):
        if policy == "thompson":
            theta = rng.beta(1.0 + sales, 1.0 + offers - sales)
            arm = np.argmax(PRICES * theta, axis=1)
        else:
            untried = offers == 0
            mean = np.divide(PRICES * sales, offers, out=np.zeros_like(sales), where=offers > 0)
            if policy == "ucb1":
                score = mean / PRICES.max() + np.sqrt(2.0 * np.log(t) / np.maximum(offers, 1))
            else:
                score = mean
            arm = np.argmax(score, axis=1)
            if policy.startswith("eps"):
                explore = rng.random(seeds) < 0.1
                arm = np.where(explore, rng.integers(0, k, seeds), arm)
            first = untried.any(axis=1)
            arm = np.where(first, np.argmax(untried, axis=1), arm)
        sold = rng.random(seeds) < prob[arm]
        offers[rows, arm] += 1
        sales[rows, arm] += sold
        expected += PRICES[arm] * prob[arm]
    return expected / (horizon * best)


def ci(shares):
    m = float(np.mean(shares))
    h = 1.96 * float(np.std(shares, ddof=1)) / np.sqrt(len(shares))
    return m, m - h, m + h


def main():
    print(f"One product, prices {PRICES.tolist()}, logit demand (appeal {APPEAL}, sensitivity {SENSITIVITY}), "
          f"{SEEDS} seeds; % of the clairvoyant's expected revenue")
    header = ["policy", "T", "ours % (95% CI)", "numpy % (95% CI)", "ours s", "numpy s", "speed-up"]
    rows = []
    for horizon in HORIZONS:
        t = time.perf_counter()
        out = subprocess.run([BIN, "pricing", "--horizon", str(horizon), "--seeds", str(SEEDS),
                              "--policies", ",".join(POLICIES), "--json"],
                             capture_output=True, text=True, check=True)
        ours = {r["policy"]: r for r in json.loads(out.stdout)}
        for policy in POLICIES:
            name = {"thompson": "thompson", "ucb1": "ucb1", "eps:0.1": "eps-greedy-0.1"}[policy]
            r = ours[name]
            rng = np.random.default_rng(1)
            t0 = time.perf_counter()
            m, lo, hi = ci(numpy_run(policy, horizon, SEEDS, rng))
            py_s = time.perf_counter() - t0
            rows.append([name, str(horizon),
                         f"{100 * r['share']:.2f} [{100 * r['share_ci'][0]:.2f}, {100 * r['share_ci'][1]:.2f}]",
                         f"{100 * m:.2f} [{100 * lo:.2f}, {100 * hi:.2f}]",
                         f"{r['seconds']:.3f}", f"{py_s:.3f}", f"{py_s / max(r['seconds'], 1e-9):.0f}x"])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
    print("ours: seconds of `shoplab pricing` for all seeds of a policy (2 threads); numpy: the same "
          "seeds vectorized, one thread")


if __name__ == "__main__":
    main()

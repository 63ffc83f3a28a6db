"""Thompson sampling (``recommend(..., explore=True)``) against the fitted ranking.

Usage (from the repository root)::

    python benchmarks/exploration.py --out benchmarks/results     # ~3 min on 2 cores

Two parts, both with the default ``Recommender(random_state=0)``:

* **Choosing the knob on training data.** On u1.base only, 20% of every user's ratings
  are held out (:func:`nmfrec.evaluation.user_split`, seed 0); the model is fitted on the
  other 80% and each value of ``explore`` (the factor on the posterior's covariance) is
  scored on the held-out ratings: P@10 (relevant = held-out rating >= 4) and the number
  of distinct items in all users' top-10 lists, beside the fitted ranking's.
* **The test folds.** On each official fold u1..u5: the fitted ranking (``explore=False``)
  and one Thompson draw (``explore=True``, ``random_state=0``) for every user, P@10 by
  protocol B of EVALUATION.md (candidates: the training items the user has not rated;
  relevant: test rating >= 4; users without a relevant item skipped), and catalogue
  coverage, the distinct items over every user's top-10.

The target: explore P@10 >= 0.9x the fitted ranking's, and >= 2x its distinct items.
Writes ``exploration.json`` and ``exploration.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402

from nmfrec import Recommender  # noqa: E402
from nmfrec.evaluation import precision_at_k, user_split  # noqa: E402
from _common import (git_commit, loadavg, log, machine_info, machine_line, ml100k_folds,  # noqa: E402
                     now, write_results)

SEED = 0
K = 10
GRID = (0.25, 0.5, 1.0, 2.0, 4.0)


def scores(rec, test, explore):
    """P@10 over users with a relevant test item, and the distinct items of all lists."""
    recs = rec.recommend_many(k=K, explore=explore, random_state=SEED)
    lists = recs.groupby("user", sort=False)["item"].apply(list)
    relevant = test[test["rating"] >= 4].groupby("user")["item"].apply(set)
    users = [u for u in relevant.index if u in lists.index]
    p = precision_at_k([lists[u] for u in users], [relevant[u] for u in users], K)
    return {"p_at_10": float(p), "distinct": int(recs["item"].nunique()),
            "n_users": len(users)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="folder for exploration.json/.md")
    ap.add_argument("--folds", nargs="*", default=["u1", "u2", "u3", "u4", "u5"])
    args = ap.parse_args(argv)
    info = machine_info()
    folds = ml100k_folds(None, folds=tuple(dict.fromkeys(["u1", *args.folds])))

    log("knob, on a validation split of u1.base")
    train, _ = folds["u1"]
    inner = user_split(train, 0.2, random_state=SEED)
    rec = Recommender(random_state=SEED).fit(inner.train)
    tuning = {"greedy": scores(rec, inner.test, False)}
    for scale in GRID:
        tuning[str(scale)] = scores(rec, inner.test, scale)
    g = tuning["greedy"]
    for name, r in tuning.items():
        log(f"  explore={name}: P@10 {r['p_at_10']:.4f} ({r['p_at_10'] / g['p_at_10']:.2f}x), "
            f"distinct {r['distinct']} ({r['distinct'] / g['distinct']:.2f}x)")

    per_fold = {}
    for fold in args.folds:
        train, test = folds[fold]
        t = time.perf_counter()
        rec = Recommender(random_state=SEED).fit(train)
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        greedy = scores(rec, test, False)
        greedy_s = time.perf_counter() - t
        t = time.perf_counter()
        explore = scores(rec, test, True)
        explore_s = time.perf_counter() - t
        per_fold[fold] = {"greedy": greedy, "explore": explore, "fit_s": fit_s,
                          "greedy_s": greedy_s, "explore_s": explore_s}
        log(f"{fold}: greedy P@10 {greedy['p_at_10']:.4f} distinct {greedy['distinct']}; "
            f"explore P@10 {explore['p_at_10']:.4f} distinct {explore['distinct']} "
            f"(all users' lists: {greedy_s:.2f} s greedy, {explore_s:.2f} s explore)")
    mean = {side: {m: float(np.mean([r[side][m] for r in per_fold.values()]))
                   for m in ("p_at_10", "distinct")} for side in ("greedy", "explore")}
    ratio_p = mean["explore"]["p_at_10"] / mean["greedy"]["p_at_10"]
    ratio_d = mean["explore"]["distinct"] / mean["greedy"]["distinct"]
    log(f"mean: greedy P@10 {mean['greedy']['p_at_10']:.4f} distinct "
        f"{mean['greedy']['distinct']:.0f}; explore P@10 {mean['explore']['p_at_10']:.4f} "
        f"({ratio_p:.2f}x) distinct {mean['explore']['distinct']:.0f} ({ratio_d:.2f}x); "
        f"target >= 0.9x and >= 2x: {'met' if ratio_p >= 0.9 and ratio_d >= 2 else 'NOT met'}")

    result = {"date": now(), "commit": git_commit(), "machine": info, "loadavg": loadavg(),
              "seed": SEED, "k": K, "tuning_u1_validation": tuning, "folds": per_fold,
              "mean": mean, "ratio_p_at_10": ratio_p, "ratio_distinct": ratio_d}
    lines = ["# Exploration: Thompson sampling against the fitted ranking", "",
             f"`python benchmarks/exploration.py --out benchmarks/results`, {result['date']}, "
             f"commit {result['commit']}; {machine_line(info)}.", "",
             "## The knob, on a validation split of u1.base (never the test folds)", "",
             "| explore | P@10 | x fitted | distinct items | x fitted |", "|---|---|---|---|---|"]
    for name, r in tuning.items():
        lines.append(f"| {name} | {r['p_at_10']:.4f} | {r['p_at_10'] / g['p_at_10']:.2f} | "
                     f"{r['distinct']} | {r['distinct'] / g['distinct']:.2f} |")
    lines += ["", "## MovieLens 100K u1-u5 test folds (`explore=True`, `random_state=0`)", "",
              "| fold | P@10 fitted | P@10 explore | distinct fitted | distinct explore |",
              "|---|---|---|---|---|"]
    for fold, r in per_fold.items():
        lines.append(f"| {fold} | {r['greedy']['p_at_10']:.4f} | {r['explore']['p_at_10']:.4f} "
                     f"| {r['greedy']['distinct']} | {r['explore']['distinct']} |")
    lines.append(f"| mean | {mean['greedy']['p_at_10']:.4f} | {mean['explore']['p_at_10']:.4f} "
                 f"| {mean['greedy']['distinct']:.0f} | {mean['explore']['distinct']:.0f} |")
    lines += ["", f"Explore against fitted: P@10 {ratio_p:.2f}x, distinct items {ratio_d:.2f}x "
              "(target: >= 0.9x and >= 2x).", ""]
    write_results("exploration", result, "\n".join(lines), args.out)


if __name__ == "__main__":
    main()

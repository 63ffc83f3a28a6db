"""How the default's settings were checked: on validation splits of the training folds only.

Usage (from the repository root)::

    python benchmarks/validation.py          # ~2-4 min on 2 cores

For each official MovieLens 100K fold u1..u5, 20% of every user's *training* ratings
(``uN.base``) are held out (:func:`nmfrec.evaluation.user_split`, seeded); models are fitted
on the other 80% and scored on that held-out part, never on ``uN.test``. Two grids, each
varying one setting of the default ``Recommender()`` at a time around its value:

* the rating part (``BayesianNMF``): its rank ``n_components`` and ``n_samples``, scored by
  RMSE;
* the preference part: its rank ``preference_components``, its penalty ``preference_l2``
  and the weight of an unrated item ``missing_weight``, scored by P@10 (relevant =
  held-out rating >= 4; P@10 is lower than on the test folds because each user holds out
  fewer ratings).

Writes ``benchmarks/results/validation.json`` and ``validation.md``.
"""

from __future__ import annotations

import datetime as _dt
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402

from nmfrec import Recommender  # noqa: E402
from nmfrec.evaluation import evaluate, user_split  # noqa: E402
from _common import git_commit, loadavg, log, machine_info, ml100k_folds, write_results  # noqa: E402

SEED = 0
RATING_GRID = {"n_components": (4, 6, 8, 12), "n_samples": (100, 200, 400)}
PREFERENCE_GRID = {"preference_components": (40, 80, 150), "preference_l2": (10.0, 30.0, 50.0),
                   "missing_weight": (0.1, 0.3, 0.5)}
DEFAULTS = {"n_components": 6, "n_samples": 200, "preference_components": 80,
            "preference_l2": 30.0, "missing_weight": 0.3}


def inner_splits():
    """{fold: (train, validation)} cut from each fold's training ratings only."""
    out = {}
    for fold, (train, _test) in ml100k_folds(None).items():
        s = user_split(train, 0.2, random_state=SEED)
        out[fold] = (s.train, s.test)
    return out


def score(params, splits, protocol):
    values = []
    for train, valid in splits.values():
        r = evaluate(Recommender(random_state=SEED, **params), train, valid, k=10,
                     protocols=(protocol,))
        values.append(r["rmse"] if protocol == "rating" else r["precision"])
    return float(np.mean(values)), float(np.std(values, ddof=1))


def main():
    splits = inner_splits()
    t0, load = time.perf_counter(), loadavg()
    rows = []
    for grid, protocol in ((RATING_GRID, "rating"), (PREFERENCE_GRID, "ranking")):
        for name, values in grid.items():
            for v in values:
                mean, std = score({name: v}, splits, protocol)
                rows.append({"setting": name, "value": v, "default": DEFAULTS[name] == v,
                             "metric": "RMSE" if protocol == "rating" else "P@10",
                             "mean": mean, "std": std})
                log(f"{name}={v}: {rows[-1]['metric']} {mean:.4f} ± {std:.4f}")
    lines = ["| setting | value | validation metric (mean ± std over u1-u5) |", "|---|---|---|"]
    for r in rows:
        mark = " (default)" if r["default"] else ""
        lines.append(f"| `{r['setting']}` | {r['value']}{mark} | {r['metric']} "
                     f"{r['mean']:.4f} ± {r['std']:.4f} |")
    m = machine_info()
    lines += ["", "Each setting varied alone around the default `Recommender()`; fitted on 80% "
              "of each user's u1..u5 training ratings, scored on the other 20% (never on the "
              f"test folds). {m['cpu']}, {m['cores']} cores; nmfrec {git_commit()}; "
              f"{_dt.date.today()}; {(time.perf_counter() - t0) / 60:.1f} min "
              "(`python benchmarks/validation.py`)."]
    md = "\n".join(lines) + "\n"
    print(md)
    write_results("validation", {"benchmark": "benchmarks/validation.py", "rows": rows,
                                 "seed": SEED, "git_commit": git_commit(),
                                 "loadavg_start": load, "loadavg_end": loadavg(),
                                 "machine": m}, md, HERE / "results")
    return 0


if __name__ == "__main__":
    sys.exit(main())

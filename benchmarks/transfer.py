"""Do the defaults carry over? nmfrec and its peers on splits and scales nobody tuned on.

Usage (from the repository root)::

    python benchmarks/transfer.py                    # every data set, every model
    python benchmarks/transfer.py --sets ua,temporal --models nmfrec,surprise-svd

The default ``Recommender()`` chooses nothing on test data: its rating part draws its
shrinkage from the training ratings, and the preference part's settings were checked on
validation splits carved out of the MovieLens 100K training folds. This script scores it,
beside the peers, where none of that was looked at:

* ``ua``, ``ub``: MovieLens 100K's other official splits (10 test ratings per user);
* ``random``, ``user``, ``temporal``: u.data split 80/20 at random, within each user, and
  at the time the last 20% of ratings were given (train before, test after);
* ``half-stars``: the ratings moved to a half-star scale (each rating r > 1 becomes
  r - 0.5 with probability 1/2, seeded), split at random; relevance still rating >= 4;
* ``ten-point``: the ratings on a 1-10 scale (2r - 1 or 2r, at random); relevance >= 8;
* ``synthetic``: the MovieLens-shaped synthetic set (size S, seed 0) split at random.

Each is scored through :func:`nmfrec.evaluation.evaluate` by the code of
``benchmarks/movielens.py``: RMSE (predictions clipped to the train range) and
P@10 / R@10 / NDCG@10 over the train items a user has not rated. A full run writes
``benchmarks/results/transfer.json`` and ``transfer.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's nmfrec
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nmfrec import datasets  # noqa: E402
from nmfrec.evaluation import random_split, temporal_split, user_split  # noqa: E402

import movielens as ml  # noqa: E402
from _common import (git_commit, loadavg, log, machine_info, ml100k_folds,  # noqa: E402
                     results_dir, write_results)

SEED = 0
MODELS = ("nmfrec", "nmfrec-penalized", "nmfrec-implicit", "surprise-svd",
          "surprise-baseline", "implicit-als", "ease", "popularity")
SETS = ("ua", "ub", "random", "user", "temporal", "half-stars", "ten-point", "synthetic")
COLUMNS = (("rmse", "RMSE"), ("precision", "P@10"), ("recall", "R@10"), ("ndcg", "NDCG@10"))


def _rescaled(df, scale, seed):
    """u.data on another rating scale: half stars or ten points (see the docstring)."""
    rng = np.random.default_rng(seed)
    drop = rng.random(len(df)) < 0.5
    r = df["rating"].to_numpy(dtype=np.float64)
    if scale == "half-stars":
        r = np.where((r > 1) & drop, r - 0.5, r)
    else:
        r = 2 * r - drop
    return df.assign(rating=r)


def load_sets(names, data_home):
    """{name: (train, test, relevance threshold, description)}."""
    out = {}
    official = [n for n in names if n in ("ua", "ub")]
    if official:
        for n, (train, test) in ml100k_folds(data_home, tuple(official)).items():
            out[n] = (train, test, 4.0, f"MovieLens 100K {n}.base / {n}.test")
    full = datasets.load_movielens("ml-100k", data_home=data_home).ratings
    for n in names:
        if n == "random":
            s = random_split(full, 0.2, random_state=SEED)
            out[n] = (s.train, s.test, 4.0, "u.data, random 80/20")
        elif n == "user":
            s = user_split(full, 0.2, random_state=SEED)
            out[n] = (s.train, s.test, 4.0, "u.data, 20% of each user's ratings held out")
        elif n == "temporal":
            s = temporal_split(full, 0.2)
            out[n] = (s.train, s.test, 4.0, "u.data, the latest 20% of ratings held out")
        elif n in ("half-stars", "ten-point"):
            s = random_split(_rescaled(full, n, SEED), 0.2, random_state=SEED)
            threshold = 4.0 if n == "half-stars" else 8.0
            what = "0.5-5 in half stars" if n == "half-stars" else "1-10"
            out[n] = (s.train, s.test, threshold, f"u.data rescaled to {what}, random 80/20")
        elif n == "synthetic":
            df = datasets.make_ratings_like("S", seed=SEED)
            s = random_split(df, 0.2, random_state=SEED)
            out[n] = (s.train, s.test, 4.0, "synthetic MovieLens-shaped, size S, random 80/20")
    return {n: out[n] for n in names}


def markdown(result):
    lines = []
    for name, block in result["sets"].items():
        lines += [f"**{name}**: {block['description']}; relevant = test rating ≥ "
                  f"{block['threshold']:g}.", "",
                  "| model | " + " | ".join(h for _, h in COLUMNS) + " | fit s |",
                  "|---|" + "---|" * (len(COLUMNS) + 1)]
        for rec in block["models"]:
            if rec["status"] != "ok":
                lines.append(f"| {rec['label']} | {rec['status']}: {rec.get('reason', '')} |")
                continue
            cells = [f"{rec['mean'][k]:.4f}" if k in rec["mean"] else "–" for k, _ in COLUMNS]
            lines.append(f"| {rec['label']} | " + " | ".join(cells)
                         + f" | {rec['fit_time_median']:.2f} |")
        lines.append("")
    m = result["machine"]
    lines.append(f"One split each; {m['cpu']}, {m['cores']} cores; nmfrec "
                 f"{result['git_commit']}; {result['date']}; whole run "
                 f"{result['wall_time_s'] / 60:.1f} min (`python benchmarks/transfer.py`).")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default=",".join(SETS), help=f"subset of {','.join(SETS)}")
    p.add_argument("--models", default=",".join(MODELS),
                   help="model names of benchmarks/movielens.py (default: %(default)s)")
    p.add_argument("--data-home", default=None)
    p.add_argument("--out", default=None, help="folder for transfer.json/.md")
    args = p.parse_args(argv)
    names = [n for n in args.sets.split(",") if n]
    models = [n for n in args.models.split(",") if n]
    by_name = {m.name: m for m in ml.MODELS}
    bad = [n for n in names if n not in SETS] + [m for m in models if m not in by_name]
    if bad:
        log(f"unknown set or model {bad}; sets {SETS}, models {list(by_name)}")
        return 2
    full = names == list(SETS) and models == list(MODELS)
    data = load_sets(names, args.data_home)
    t0, load_start = time.perf_counter(), loadavg()
    result = {"benchmark": "benchmarks/transfer.py", "sets": {}, "seed": SEED,
              "command": " ".join(["python", "benchmarks/transfer.py", *sys.argv[1:]])}
    for name, (train, test, threshold, description) in data.items():
        log(f"== {name}: {description}")
        block = {"description": description, "threshold": threshold,
                 "n_train": len(train), "n_test": len(test), "models": []}
        for m in models:
            block["models"].append(ml.run_model(by_name[m], {name: (train, test)},
                                                threshold=threshold))
        result["sets"][name] = block
    result.update(date=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                  git_commit=git_commit(), wall_time_s=time.perf_counter() - t0,
                  loadavg_start=load_start, loadavg_end=loadavg(),
                  machine=machine_info(ml.PACKAGES))
    md = markdown(result)
    print(md)
    write_results("transfer", result, md, results_dir(args.out, full))
    return 0


if __name__ == "__main__":
    sys.exit(main())

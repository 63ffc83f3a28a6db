"""The first use after ``pip install``: a fresh process with an empty numba cache.

    python benchmarks/cold_start.py              # one fresh process, empty NUMBA_CACHE_DIR
    python benchmarks/cold_start.py --compiles   # and which functions took the compile time
    python benchmarks/cold_start.py --warm       # the same process again, cache filled

Prints (and, with ``--json``, writes) the seconds of: ``import nmfrec``, ``from nmfrec
import Recommender``, the first default ``Recommender(random_state=0).fit`` on ml-100k
u1.base, then the first ``predict``, ``recommend``, ``recommend_many`` and
``recommend_new`` of that model. The data set is read before the clock starts. With
``--compiles``, numba's compile events are summed per function (numba >= 0.56), so
that the kernels a fit compiles, and the seconds each costs, can be read off.

The child process gets a new empty temporary ``NUMBA_CACHE_DIR`` (deleted afterwards),
so numba's in-tree cache of a development checkout is not used: what a
``pip install nmfrec`` user meets on the first call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import json, os, sys, time
from collections import defaultdict
compiles = defaultdict(float)
if os.environ.get("COLD_COMPILES"):
    from numba.core import event

    starts = {}

    class Timer(event.Listener):
        def on_start(self, ev):
            starts[id(ev.data["dispatcher"]), str(ev.data["args"])] = time.perf_counter()
        def on_end(self, ev):
            key = id(ev.data["dispatcher"]), str(ev.data["args"])
            t = starts.pop(key, None)
            if t is not None:
                d = ev.data["dispatcher"]
                name = f"{d.py_func.__module__}.{d.py_func.__qualname__}"
                compiles[name] += time.perf_counter() - t
    event.register("numba:compile", Timer())
import pandas as pd
from nmfrec.datasets import ml100k_folds
train, test = ml100k_folds(folds=("u1",), download=False)["u1"]
out = {}
t0 = time.perf_counter()
import nmfrec
out["import_s"] = time.perf_counter() - t0
t = time.perf_counter()
from nmfrec import Recommender
out["import_recommender_s"] = time.perf_counter() - t
t = time.perf_counter()
rec = Recommender(random_state=0).fit(train)
out["first_fit_s"] = time.perf_counter() - t
out["import_plus_fit_s"] = time.perf_counter() - t0
for name, fn in (("first_predict_s", lambda: rec.predict(test[["user", "item"]])),
                 ("first_recommend_s", lambda: rec.recommend(int(train["user"].iloc[0]), k=10)),
                 ("first_recommend_many_s", lambda: rec.recommend_many(k=10)),
                 ("first_recommend_new_s", lambda: rec.recommend_new({1: 5.0, 50: 4.0}, k=10))):
    t = time.perf_counter()
    fn()
    out[name] = time.perf_counter() - t
out["total_s"] = time.perf_counter() - t0
if compiles:
    out["compiles"] = dict(sorted(compiles.items(), key=lambda kv: -kv[1]))
print(json.dumps(out))
'''


def run(compiles=False, cache_dir=None):
    """One fresh process; ``cache_dir`` None: a new empty one. Returns its figures."""
    tmp = None
    if cache_dir is None:
        tmp = cache_dir = tempfile.mkdtemp(prefix="nmfrec-numba-cache-")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if compiles:
        env["COLD_COMPILES"] = "1"
    try:
        p = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                           env=env, cwd=str(ROOT), timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(p.stderr[-3000:])
        return json.loads(p.stdout.strip().splitlines()[-1])
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compiles", action="store_true", help="sum compile time per function")
    ap.add_argument("--warm", action="store_true",
                    help="then the same in a second process on the filled cache")
    ap.add_argument("--json", metavar="PATH", help="write the figures there")
    args = ap.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="nmfrec-numba-cache-")
    try:
        result = {"cold": run(args.compiles, cache)}
        if args.warm:
            result["warm"] = run(False, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    for which, r in result.items():
        print(f"{which}: " + ", ".join(f"{k[:-2]} {v:.2f} s" for k, v in r.items()
                                       if k.endswith("_s")))
        for name, s in list(r.get("compiles", {}).items())[:25]:
            print(f"    compile {s:6.2f} s  {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

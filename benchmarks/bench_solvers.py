"""Seconds per iteration of each MaskedNMF solver, and the first-call compile time.

    python benchmarks/bench_solvers.py            # full run (a few minutes on 2 cores)
    python benchmarks/bench_solvers.py --quick    # smoke run: S only, fewer repeats; prints,
                                                  # writes files only with --out DIR

What is measured
----------------
* ``MaskedNMF(n_components=k, solver=s, init="random", random_state=0, tol=0)``, explicit
  feedback, default penalties (all 0), default threads, float64, for s in als/mu/pgd and
  k in 8/32/64, on synthetic MovieLens-shaped ratings (``make_ratings_like``) of the
  ml-100k size (S: 943 x 1,682, 100k ratings) and ml-1m size (M: 6,040 x 3,706, 1M).
* Seconds per iteration = ``(t(fit, max_iter=N) - t(fit, max_iter=0)) / N``: the
  ``max_iter=0`` fit is the baseline (validation, CSR/CSC twins, initialization, initial
  objective), so the difference is N iterations of one W update + one H update + one
  objective evaluation. A warm-up fit first (kernels compiled), then ``--repeats`` pairs;
  the median is quoted (min/max and the plain ``t(N)/N`` are in the JSON). ``init="random"``
  keeps the baseline cheap and steady (NNDSVD's sparse SVD would only add noise to it).
  ALS does warm-started coordinate descent per row; its first iterations take more
  sweeps than later ones, so the figure is for iterations 1..N from a random start.
* Compile time: a fresh interpreter with ``NUMBA_CACHE_DIR`` set to a new empty
  directory (cold: every kernel compiles), then fresh interpreters pointing at the same
  directory (warm: kernels load from the cache). Each times ``import nmfrec`` and, per
  solver, the first fit of a small problem (200 x 100, 2,000 ratings, k=8, default init,
  5 iterations) and a second identical fit; first minus second is the compile (or cache
  load) cost. The solvers run in the order als, mu, pgd, so kernels they share (the
  objective, the NNDSVD helpers) are charged to ALS.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

SOLVERS = ("als", "mu", "pgd")
KS = (8, 32, 64)

COMPILE_CODE = r'''
import json, time
t0 = time.perf_counter()
import nmfrec
t_import = time.perf_counter() - t0
import numpy as np, scipy.sparse as sp
from nmfrec import MaskedNMF
rng = np.random.default_rng(0)
X = sp.random(200, 100, density=0.1, format="csr", random_state=0,
              data_rvs=lambda n: rng.integers(1, 6, n).astype(float))
out = {"import_s": t_import, "solvers": {}}
for solver in ("als", "mu", "pgd"):
    ts = []
    for _ in range(2):
        t = time.perf_counter()
        MaskedNMF(8, solver=solver, max_iter=5, tol=0, random_state=0).fit(X)
        ts.append(time.perf_counter() - t)
    out["solvers"][solver] = {"first_s": ts[0], "second_s": ts[1], "compile_s": ts[0] - ts[1]}
out["total_first_fits_s"] = sum(v["first_s"] for v in out["solvers"].values())
out["wall_s"] = time.perf_counter() - t0
print(json.dumps(out))
'''


def compile_times(n_cold, n_warm):
    runs = {"cold": [], "warm": []}
    for _ in range(n_cold):
        d = tempfile.mkdtemp(prefix="nmfrec-numba-cache-")
        try:
            r = C.run_python(COMPILE_CODE, {"NUMBA_CACHE_DIR": d})
            runs["cold"].append(r)
            C.log(f"  cold: import {r['import_s']:.2f} s, first fits "
                  + ", ".join(f"{s} {v['first_s']:.2f} s" for s, v in r["solvers"].items()))
            for _ in range(n_warm if not runs["warm"] else 0):
                w = C.run_python(COMPILE_CODE, {"NUMBA_CACHE_DIR": d})
                runs["warm"].append(w)
                C.log(f"  warm: import {w['import_s']:.2f} s, first fits "
                      + ", ".join(f"{s} {v['first_s']:.2f} s" for s, v in w["solvers"].items()))
        finally:
            shutil.rmtree(d, ignore_errors=True)
    agg = {}
    for kind, rs in runs.items():
        if not rs:
            continue
        agg[kind] = {
            "import_s": C.summary([r["import_s"] for r in rs]),
            "total_first_fits_s": C.summary([r["total_first_fits_s"] for r in rs]),
            "solvers": {s: {key: C.summary([r["solvers"][s][key] for r in rs])
                            for key in ("first_s", "second_s", "compile_s")} for s in SOLVERS},
        }
    return {"runs": runs, "summary": agg}


def markdown(res):
    info = res["machine"]
    lines = ["### Solver speed (`benchmarks/bench_solvers.py`)", "",
             f"Machine: {C.machine_line(info)}; numba threads {info['numba_threads']}. "
             f"Date {res['date']}, commit {res['commit']}, load average before/after "
             f"{res['loadavg_before']} / {res['loadavg_after']}.", "",
             f"Seconds per iteration (one W update, one H update, one objective), "
             f"`MaskedNMF(k, solver, init='random', tol=0)`, explicit, no penalties, float64, "
             f"median of {res['repeats']} repeats of (t(max_iter={res['n_iter']}) − "
             f"t(max_iter=0)) / {res['n_iter']} after a warm-up fit; synthetic MovieLens-shaped "
             f"data.", ""]
    sizes = list(res["timings"])
    head = "| solver | k | " + " | ".join(
        f"{s} ({res['data'][s]['nnz']:,} ratings) s/iter" for s in sizes) + " |"
    if len(sizes) > 1:
        head += f" {sizes[-1]}/{sizes[0]} |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for solver in SOLVERS:
        for k in res["ks"]:
            cells = []
            vals = []
            for s in sizes:
                r = res["timings"][s].get(solver, {}).get(str(k))
                v = r["s_per_iter"]["median"] if r else None
                vals.append(v)
                cells.append(C.fmt(v))
            row = f"| {solver} | {k} | " + " | ".join(cells) + " |"
            if len(sizes) > 1:
                row += f" {C.fmt(vals[-1] / vals[0]) if vals[0] and vals[-1] else '–'}× |"
            lines.append(row)
    comp = res.get("compile")
    if comp:
        lines += ["", "First call in a fresh process (small 200×100 problem, k=8, 5 iterations, "
                  "default init). *First* = the first fit, *compile* = first − second fit; "
                  "cold = empty `NUMBA_CACHE_DIR`, warm = the same directory again "
                  f"(medians of {comp['summary']['cold']['import_s']['n']} cold and "
                  f"{comp['summary'].get('warm', {}).get('import_s', {}).get('n', 0)} warm "
                  "processes).", "",
                  "| cache | import nmfrec s | als first s | mu first s | pgd first s | "
                  "compile als+mu+pgd s |", "|---|---|---|---|---|---|"]
        for kind in ("cold", "warm"):
            a = comp["summary"].get(kind)
            if not a:
                continue
            tot = sum(a["solvers"][s]["compile_s"]["median"] for s in SOLVERS)
            lines.append(f"| {kind} | {C.fmt(a['import_s']['median'])} | "
                         + " | ".join(C.fmt(a["solvers"][s]["first_s"]["median"]) for s in SOLVERS)
                         + f" | {C.fmt(tot)} |")
    lines += ["", f"Wall time of the run: {res['wall_s']:.0f} s.", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: S only, 1 repeat")
    ap.add_argument("--sizes", default=None, help="comma list of S,M (default S,M; quick: S)")
    ap.add_argument("--ks", default=None, help="comma list of ranks (default 8,32,64)")
    ap.add_argument("--n-iter", type=int, default=None, help="timed iterations (default 3)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats (default 3; quick 1)")
    ap.add_argument("--no-compile", action="store_true", help="skip the compile-time runs")
    ap.add_argument("--out", default=None, help="directory for results (default: "
                    "benchmarks/results on a full run; none on --quick)")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    sizes = (args.sizes or ("S" if args.quick else "S,M")).split(",")
    ks = [int(k) for k in (args.ks or ("8,32" if args.quick else "8,32,64")).split(",")]
    n_iter = args.n_iter or (2 if args.quick else 3)
    repeats = args.repeats or (1 if args.quick else 3)

    from nmfrec import MaskedNMF, datasets

    res = {"script": "benchmarks/bench_solvers.py", "argv": sys.argv[1:], "date": C.now(),
           "commit": C.git_commit(), "machine": C.machine_info(), "loadavg_before": C.loadavg(),
           "n_iter": n_iter, "repeats": repeats, "ks": ks, "data": {}, "timings": {},
           "method": "s/iter = median over repeats of (t(fit, max_iter=N, tol=0) - "
                     "t(fit, max_iter=0)) / N, init='random', random_state=0, after a warm-up fit"}
    C.log(C.machine_line(res["machine"]))
    for size in sizes:
        df = C.synthetic(size, seed=0)
        X = C.ratings_csr(df)
        del df
        res["data"][size] = {"like": datasets.SIZE_ALIASES.get(size, size), "shape": X.shape,
                             "nnz": int(X.nnz)}
        res["timings"][size] = {}
        C.log(f"{size}: {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} ratings")
        for solver in SOLVERS:
            res["timings"][size][solver] = {}
            for k in ks:
                def make(it, k=k, solver=solver):
                    return MaskedNMF(k, solver=solver, init="random", random_state=0,
                                     max_iter=it, tol=0)
                r = C.per_iteration(make, X, n_iter, repeats)
                res["timings"][size][solver][str(k)] = r
                C.log(f"  {solver:3s} k={k:3d}: {r['s_per_iter']['median']:.4f} s/iter "
                      f"(min {r['s_per_iter']['min']:.4f}, max {r['s_per_iter']['max']:.4f}; "
                      f"baseline {r['baseline_s']['median']:.3f} s)")
    if not args.no_compile:
        C.log("compile time (fresh processes):")
        res["compile"] = compile_times(1 if args.quick else 2, 1 if args.quick else 3)
    res["loadavg_after"] = C.loadavg()
    res["wall_s"] = time.perf_counter() - t_start
    md = markdown(res)
    print(md)
    C.write_results("bench_solvers", res, md,
                    C.results_dir(args.out, not (args.quick or args.sizes or args.ks)))


if __name__ == "__main__":
    main()

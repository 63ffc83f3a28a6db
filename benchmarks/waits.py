"""The waits a user meets, each as a ratio against its target, measured in one run.

    python benchmarks/waits.py                          # every row (about 15-25 min)
    python benchmarks/waits.py --sections import,cli,serving
    python benchmarks/waits.py --skip demo,tests        # without the two longest rows

Rows (sections), each printed as it is measured and saved to ``results/waits.{json,md}``
with the must and stretch targets:

cold      ``import nmfrec`` + the first default ``Recommender(random_state=0).fit`` on
          ml-100k u1.base in a fresh process with an empty ``NUMBA_CACHE_DIR``, then the
          first ``recommend`` and ``recommend_many`` (``benchmarks/cold_start.py``).
import    ``import nmfrec`` and ``from nmfrec import Recommender`` in a fresh process
          after ``import numpy, pandas, scipy.sparse, numba, sklearn.base``: the time
          nmfrec adds on top of its dependencies (median of 7 processes, with the
          bytecode written first, as an installed package has it).
cli       ``nmfrec --help`` (the console script) wall time, median of 7 processes.
surprise  the default fit on ml-100k u1.base over Surprise ``SVD(random_state=0)``'s
          fit (warm numba cache; median of 3 each, interleaved).
serving   29,858 users x 40,981 items, rank 64, synthetic non-negative factors (seed 0)
          and 1,000,000 seen (user, item) pairs excluded: ``recommend_many(k=20)`` for
          every user over implicit's batched ``recommend(N=20)`` on the same factors and
          seen items; one user's ``recommend(k=20)`` over implicit's one-user
          ``recommend`` (median over 500 users). Both for a float32 model (implicit's
          dtype: the like-for-like ratio) and a float64 one.
demo      ``make demo`` on a fresh clone of this checkout (committed state) in a
          temporary folder, pip's cache warm, MovieLens unreachable (no data home).
tests     ``make test`` (the whole suite, Spark included, on every core), and the fast
          subset ``make test-fast``, with this interpreter's environment.

Wall-clock on a possibly shared machine: compare the ratios of one run; the load average
is recorded at the start and end.
"""

from __future__ import annotations

import argparse
import json
import os

# as `import nmfrec` sets it, before numba's OpenMP threads start (machine_info starts
# them): idle threads sleep rather than spin against BLAS's threads
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _common as C  # noqa: E402

ROOT = C.ROOT
SECTIONS = ("cold", "import", "cli", "surprise", "serving", "demo", "tests")

#: (measure, unit, must, stretch) of every row
TARGETS = {
    "cold": ("import + first default fit on ml-100k, empty numba cache", "s", 10.0, 3.0),
    "import": ("`from nmfrec import Recommender` after numpy, pandas, scipy.sparse, numba, "
               "sklearn.base", "s", 0.1, 0.05),
    "cli": ("`nmfrec --help`", "s", 0.5, 0.2),
    "surprise": ("default fit / Surprise `SVD()` fit, ml-100k u1", "x", 2.0, 1.0),
    "serving_many": ("`recommend_many`, 41k items, rank 64 / implicit batched", "x", 1.0, 0.7),
    "serving_one": ("one user, same model / implicit", "x", 2.0, 1.0),
    "demo": ("`make demo` on a fresh clone, pip's cache warm, MovieLens unreachable", "s",
             60.0, None),
    "tests": ("the whole test suite on 2 cores", "s", 360.0, None),
}


def verdict(value, must, stretch):
    if value is None:
        return "not measured"
    if stretch is not None and value <= stretch:
        return "stretch met"
    return "must met" if value <= must else "MISSED"


# ============================================================================ cold
def section_cold(args):
    import cold_start

    out = cold_start.run()
    C.log(f"[cold] import {out['import_s']:.2f} s, first fit {out['first_fit_s']:.2f} s, "
          f"import + fit {out['import_plus_fit_s']:.2f} s; first recommend "
          f"{out['first_recommend_s']:.2f} s, first recommend_many "
          f"{out['first_recommend_many_s']:.2f} s (empty cache)")
    return {"rows": {"cold": out["import_plus_fit_s"]}, "detail": out}


# ============================================================================ import
IMPORT_CODE = r'''
import json, time
import numpy, pandas, scipy.sparse, numba, sklearn.base
t = time.perf_counter()
import nmfrec
t1 = time.perf_counter()
from nmfrec import Recommender
t2 = time.perf_counter()
print(json.dumps({"import_nmfrec_s": t1 - t, "import_recommender_s": t2 - t}))
'''


def bytecode_env(folder):
    """Python writes and reads its bytecode (in ``folder``), as for an installed package,
    even where the environment says not to (``PYTHONDONTWRITEBYTECODE``)."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(folder)}


def section_import(args):
    pyc = tempfile.mkdtemp(prefix="nmfrec-pyc-")
    env = bytecode_env(pyc)
    C.run_python(IMPORT_CODE, env)          # write the bytecode first
    runs = [C.run_python(IMPORT_CODE, env) for _ in range(7)]
    shutil.rmtree(pyc, ignore_errors=True)
    a = statistics.median(r["import_nmfrec_s"] for r in runs)
    b = statistics.median(r["import_recommender_s"] for r in runs)
    C.log(f"[import] import nmfrec {a * 1e3:.1f} ms; + from nmfrec import Recommender "
          f"{b * 1e3:.1f} ms (after its dependencies; median of 7 processes)")
    return {"rows": {"import": b}, "detail": {"import_nmfrec_s": a, "import_recommender_s": b}}


# ============================================================================ cli
def section_cli(args):
    exe = Path(sys.executable).parent / "nmfrec"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "nmfrec"]
    pyc = tempfile.mkdtemp(prefix="nmfrec-pyc-")
    env = dict(os.environ, PYTHONPATH=str(ROOT), **bytecode_env(pyc))
    ts = []
    for _ in range(8):
        t = time.perf_counter()
        subprocess.run([*cmd, "--help"], capture_output=True, check=True, env=env, cwd=ROOT)
        ts.append(time.perf_counter() - t)
    shutil.rmtree(pyc, ignore_errors=True)
    t = statistics.median(ts[1:])
    C.log(f"[cli] {' '.join(Path(c).name for c in cmd)} --help: {t:.3f} s (median of 7)")
    return {"rows": {"cli": t}, "detail": {"help_s": C.summary(ts[1:]), "command": cmd}}


# ============================================================================ surprise
def section_surprise(args):
    from surprise import SVD, Dataset, Reader

    from nmfrec import Recommender

    train, test = C.ml100k_folds(args.data_home, ("u1",))["u1"]
    Recommender(random_state=0).fit(train)          # compile (cache) first
    reader = Reader(rating_scale=(1, 5))
    ts = Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
    tn, tsur = [], []
    for _ in range(3):
        dt, _m = C.timed(lambda: Recommender(random_state=0).fit(train))
        tn.append(dt)
        dt, _m = C.timed(lambda: SVD(random_state=0).fit(ts))
        tsur.append(dt)
    ratio = statistics.median(tn) / statistics.median(tsur)
    C.log(f"[surprise] default fit {statistics.median(tn):.2f} s, Surprise SVD fit "
          f"{statistics.median(tsur):.2f} s: ratio {ratio:.2f}")
    return {"rows": {"surprise": ratio},
            "detail": {"nmfrec_fit_s": C.summary(tn), "surprise_svd_fit_s": C.summary(tsur)}}


# ============================================================================ serving
N_USERS, N_ITEMS, RANK, N_SEEN, K_SERVE = 29_858, 40_981, 64, 1_000_000, 20


def serving_model(dtype):
    """A fitted Recommender of N_USERS x N_ITEMS whose ranking factors are synthetic
    (non-negative, rank 64, seed 0) and whose seen items are N_SEEN random pairs."""
    import pandas as pd

    from nmfrec import Recommender

    rng = np.random.default_rng(0)
    cells = np.unique(rng.integers(0, N_USERS * N_ITEMS, size=int(N_SEEN * 1.01)))[:N_SEEN]
    cells[:N_USERS] = np.arange(N_USERS) * N_ITEMS + rng.integers(0, N_ITEMS, N_USERS)
    cells[N_USERS:N_USERS + N_ITEMS] = (rng.integers(0, N_USERS, N_ITEMS) * N_ITEMS
                                        + np.arange(N_ITEMS))
    cells = np.unique(cells)
    frame = pd.DataFrame({"user": cells // N_ITEMS, "item": cells % N_ITEMS,
                          "rating": rng.integers(1, 6, cells.size).astype(float)})
    # the cheapest fit that gives the model its vocabularies and seen items; its factors
    # are then replaced by the synthetic ones
    rec = Recommender(n_components=2, solver="als", ranking="rating", init="random",
                      max_iter=1, tol=0, random_state=0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec.fit(frame)
    part = rec.ranking_model_
    part.W_ = rng.random((N_USERS, RANK)).astype(dtype)
    part.components_ = rng.random((RANK, N_ITEMS)).astype(dtype)
    return rec


def _implicit_model(rec):
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares

    part = rec.ranking_model_
    model = AlternatingLeastSquares(factors=RANK, dtype=part.W_.dtype, random_state=0)
    model.user_factors = np.ascontiguousarray(part.W_)
    model.item_factors = np.ascontiguousarray(part.components_.T)
    ui = sp.csr_matrix(rec.ratings_)
    ui.sort_indices()
    return model, ui


def serving_ratios(rec, reps=3, n_one=500):
    model, ui = _implicit_model(rec)
    n_users = rec.ranking_model_.W_.shape[0]
    uid = np.arange(n_users, dtype=np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec.recommend_many(users=rec.users_.labels(np.arange(200)), k=K_SERVE)  # compile
        model.recommend(uid[:200], ui[:200], N=K_SERVE)
        tn, ti = [], []
        for _ in range(reps):
            dt, frame = C.timed(lambda: rec.recommend_many(k=K_SERVE))
            tn.append(dt)
            dt, (ids, scores) = C.timed(lambda: model.recommend(uid, ui, N=K_SERVE))
            ti.append(dt)
        # the same lists, to the documented tolerance
        s_n = frame["score"].to_numpy().reshape(n_users, -1)
        rel = np.max(np.abs(s_n - scores) / np.abs(scores))
        same_items = float(np.mean(frame["item"].to_numpy().reshape(n_users, -1) == ids))
        rng = np.random.default_rng(1)
        users = rng.choice(n_users, size=n_one, replace=False)
        labels = rec.users_.labels(users)
        for u, lab in zip(users[:20], labels[:20]):
            rec.recommend(lab, k=K_SERVE)
            model.recommend(int(u), ui[int(u)], N=K_SERVE)
        one_n, one_i = [], []
        for u, lab in zip(users, labels):          # interleaved, so load hits both
            t = time.perf_counter()
            rec.recommend(lab, k=K_SERVE)
            one_n.append(time.perf_counter() - t)
            row = ui[int(u)]
            t = time.perf_counter()
            model.recommend(int(u), row, N=K_SERVE)
            one_i.append(time.perf_counter() - t)
    return {"recommend_many_s": C.summary(tn), "implicit_batched_s": C.summary(ti),
            "ratio_many": statistics.median(tn) / statistics.median(ti),
            "max_rel_score_diff": float(rel), "same_item_share": same_items,
            "one_user_ms": float(np.median(one_n) * 1e3),
            "implicit_one_user_ms": float(np.median(one_i) * 1e3),
            "one_user_p99_ms": float(np.percentile(one_n, 99) * 1e3),
            "implicit_one_user_p99_ms": float(np.percentile(one_i, 99) * 1e3),
            "ratio_one": float(np.median(one_n) / np.median(one_i))}


def section_serving(args):
    detail = {}
    for dtype in ("float32", "float64"):
        t = time.perf_counter()
        rec = serving_model(dtype)
        C.log(f"[serving] {dtype} model built in {time.perf_counter() - t:.1f} s")
        r = serving_ratios(rec, reps=1 if args.quick else 3)
        detail[dtype] = r
        C.log(f"[serving] {dtype}: recommend_many(k={K_SERVE}) "
              f"{r['recommend_many_s']['median']:.2f} s vs implicit "
              f"{r['implicit_batched_s']['median']:.2f} s: ratio {r['ratio_many']:.2f}; one "
              f"user {r['one_user_ms']:.2f} ms vs {r['implicit_one_user_ms']:.2f} ms: ratio "
              f"{r['ratio_one']:.2f} (max relative score difference "
              f"{r['max_rel_score_diff']:.1e}, same item at the same rank "
              f"{r['same_item_share']:.4f})")
        del rec
    f32 = detail["float32"]
    return {"rows": {"serving_many": f32["ratio_many"], "serving_one": f32["ratio_one"]},
            "detail": detail}


# ============================================================================ demo
def section_demo(args):
    """``make demo`` on a fresh clone of HEAD, without a data home (MovieLens
    unreachable: no data home, and a network that reaches only the package index)."""
    tmp = Path(tempfile.mkdtemp(prefix="nmfrec-demo-"))
    try:
        clone = tmp / "nmfrec"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("NMFREC_DATA", "VIRTUAL_ENV")}
        env["XDG_CACHE_HOME"] = str(tmp / "cache")       # an empty nmfrec data home
        env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR",
                                              str(Path.home() / ".cache" / "pip"))
        t = time.perf_counter()
        p = subprocess.run(["make", "demo", f"PYTHON={args.demo_python}"], cwd=clone, env=env,
                           capture_output=True, text=True, timeout=1800)
        dt = time.perf_counter() - t
        warn_lines = [ln for ln in (p.stdout + p.stderr).splitlines() if "warning" in ln.lower()]
        C.log(f"[demo] make demo on a fresh clone: {dt:.0f} s (exit {p.returncode}), "
              f"{len(warn_lines)} warning lines")
        if p.returncode != 0:
            C.log(p.stderr[-2000:])
        return {"rows": {"demo": dt if p.returncode == 0 else None},
                "detail": {"s": dt, "returncode": p.returncode, "warnings": warn_lines,
                           "tail": (p.stdout + p.stderr)[-1500:]}}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ============================================================================ tests
def section_tests(args):
    env = dict(os.environ)
    out = {}
    # the Makefile's own commands (on every core, as make test runs them)
    bin_dir = f"BIN={Path(sys.executable).parent}"
    for name, cmd in (("whole", ["make", "-s", "test", bin_dir]),
                      ("fast", ["make", "-s", "test-fast", bin_dir])):
        t = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200)
        dt = time.perf_counter() - t
        tail = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        C.log(f"[tests] {name}: {dt:.0f} s ({tail})")
        out[name] = {"s": dt, "returncode": p.returncode, "summary": tail}
    return {"rows": {"tests": out["whole"]["s"]}, "detail": out}


# ============================================================================ output
def markdown(rows, info, detail):
    lines = ["# The waits a user meets", "",
             f"{C.machine_line(info)}; `python benchmarks/waits.py`, one run, {C.now()}.", "",
             "| measure | measured | must | stretch | verdict |", "|---|---|---|---|---|"]
    for key, (label, unit, must, stretch) in TARGETS.items():
        v = rows.get(key)
        show = (lambda x: "–" if x is None else (f"{x:.2f}×" if unit == "x" else f"{x:.3g} s"))
        lines.append(f"| {label} | {show(v)} | ≤ {show(must)} | "
                     f"{'' if stretch is None else '≤ ' + show(stretch)} | "
                     f"{verdict(v, must, stretch)} |")
    s = detail.get("serving")
    if s:
        lines += ["", "Serving (float32 model in the table; float64 beside it):", "",
                  "| dtype | recommend_many s | implicit s | ratio | one user ms | implicit ms "
                  "| ratio | max rel. score diff |", "|---|---|---|---|---|---|---|---|"]
        for dt, r in s.items():
            lines.append(f"| {dt} | {r['recommend_many_s']['median']:.2f} | "
                         f"{r['implicit_batched_s']['median']:.2f} | {r['ratio_many']:.2f} | "
                         f"{r['one_user_ms']:.2f} | {r['implicit_one_user_ms']:.2f} | "
                         f"{r['ratio_one']:.2f} | {r['max_rel_score_diff']:.1e} |")
    c = detail.get("cold")
    if c:
        lines += ["", "Cold start (fresh process, empty numba cache): " + ", ".join(
            f"{k} {v:.2f} s" for k, v in c.items() if isinstance(v, float))]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default=",".join(SECTIONS))
    ap.add_argument("--skip", default="")
    ap.add_argument("--quick", action="store_true", help="one repeat of the serving timings")
    ap.add_argument("--data-home", default=None)
    ap.add_argument("--demo-python", default="python3",
                    help="the interpreter make demo builds its venv from")
    ap.add_argument("--out", default=None, help="folder for waits.json/.md (default: "
                    "benchmarks/results on a run of every section)")
    args = ap.parse_args(argv)
    chosen = [s for s in args.sections.split(",") if s and s not in args.skip.split(",")]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    info = C.machine_info()
    C.log(C.machine_line(info))
    result = {"started": C.now(), "commit": C.git_commit(), "machine": info,
              "load_start": C.loadavg(), "sections": {}}
    rows, detail = {}, {}
    for name in chosen:
        r = globals()[f"section_{name}"](args)
        rows.update(r["rows"])
        detail[name] = r["detail"]
        result["sections"][name] = r
    result["load_end"] = C.loadavg()
    result["rows"] = {k: {"value": rows.get(k), "must": t[2], "stretch": t[3],
                          "verdict": verdict(rows.get(k), t[2], t[3])}
                      for k, t in TARGETS.items()}
    md = markdown(rows, info, detail)
    print("\n" + md)
    C.write_results("waits", result, md, C.results_dir(args.out, set(chosen) == set(SECTIONS)))


if __name__ == "__main__":
    main()

"""Shared helpers of the benchmark scripts: machine and run records, data location.

Timing conventions used by both scripts:

* **Seconds per iteration** of ``MaskedNMF`` = ``(t(fit, max_iter=N, tol=0) -
  t(fit, max_iter=0)) / N``. The ``max_iter=0`` fit does everything but the iterations
  (input validation, the CSR/CSC twins, the initialization and the objective at the
  start), so the difference is N outer iterations, each one update of W, one of H and
  one evaluation of the objective (which ``fit`` computes every iteration for its
  convergence test). Both fits run back to back, after a warm-up fit that compiles the
  kernels, and the pair is repeated; the median over repeats is quoted, min and max are
  kept in the JSON.
* Everything is wall-clock ``time.perf_counter`` on a machine that may be shared:
  compare ratios measured in the same run, not figures across runs.
"""

from __future__ import annotations

import datetime as _dt
import gc
import importlib.metadata as _md
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PACKAGES = ("nmfrec", "numpy", "scipy", "pandas", "numba", "threadpoolctl", "implicit",
            "scikit-surprise", "scikit-learn")


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------- machine
def blas_info():
    try:
        from threadpoolctl import threadpool_info

        return [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                        "filepath")}
                for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception:  # pragma: no cover
        return None


def machine_info(packages=PACKAGES):
    """CPU, cores, RAM, threads, BLAS and the versions of ``packages``."""
    info = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "platform": platform.platform(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["ram_gb"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    import numba

    info["numba_threads"] = numba.get_num_threads()
    info["blas"] = blas_info()
    info["env"] = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                   "NUMBA_NUM_THREADS", "OMP_NUM_THREADS")
                   if os.environ.get(k) is not None}
    versions = {}
    for pkg in packages:
        try:
            versions[pkg] = _md.version(pkg)
        except _md.PackageNotFoundError:
            versions[pkg] = None
    info["versions"] = versions
    return info


def machine_line(info):
    v = info["versions"]
    blas = info.get("blas") or []
    b = (f"{blas[0]['internal_api']} {blas[0]['version']} ({blas[0].get('architecture')})"
         if blas else "?")
    return (f"{info['cpu']}, {info['cores']} cores, {info.get('ram_gb', '?')} GB RAM; "
            f"Python {info['python']}, numpy {v['numpy']}, numba {v['numba']}, BLAS {b}, "
            f"implicit {v.get('implicit')}, scikit-surprise {v.get('scikit-surprise')}")


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def git_commit():
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except Exception:
        return None


def ml100k_folds(data_home=None, folds=None):
    """The official ml-100k folds, found by nmfrec's own data search.

    ``data_home`` (a script's ``--data-home``), else ``$NMFREC_DATA``, else the user
    cache, where nmfrec downloads ml-100k when it is missing (see
    ``nmfrec.datasets.get_data_home``). ``make bench`` sets ``NMFREC_DATA`` to
    ``../shared/data`` when that folder holds the data.
    """
    from nmfrec import datasets

    folder = datasets.fetch_movielens("ml-100k", data_home)
    log(f"data: {folder}")
    return datasets.ml100k_folds(data_home=folder, folds=folds or datasets.ML100K_DEFAULT_FOLDS,
                                 download=False)


def now():
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------------------- data
def synthetic(size, seed=0):
    """Synthetic ratings of a size nmfrec.datasets.synthetic_shape knows (S, M, L, UxIxR)."""
    from nmfrec import datasets

    return datasets.make_ratings(*datasets.synthetic_shape(size), seed=seed)


def ratings_csr(df, shape=None):
    """CSR (users x items) from a 1-based synthetic ratings frame."""
    import scipy.sparse as sp

    u = df["user"].to_numpy() - 1
    i = df["item"].to_numpy() - 1
    if shape is None:
        shape = (int(u.max()) + 1, int(i.max()) + 1)
    X = sp.csr_matrix((df["rating"].to_numpy(dtype=np.float64), (u, i)), shape=shape)
    X.sort_indices()
    return X


def csr_bytes(X):
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes


# ---------------------------------------------------------------------------- timing
def summary(values):
    values = [float(v) for v in values]
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values), "values": values}


def timed(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def per_iteration(make, X, n_iter, repeats, warmup=True):
    """Median seconds per iteration of ``make(max_iter).fit(X)`` by baseline subtraction.

    ``make(max_iter)`` returns a fresh, unfitted estimator with ``tol=0``. ``warmup``:
    True fits ``make(1)`` on ``X`` first; a matrix fits on that (small) matrix instead;
    False skips the warm-up.
    Returns a dict: per-iteration summary, the baseline (max_iter=0) summary, the
    plain division ``t(N) / N`` (baseline included) and the raw fit times.
    """
    if warmup is True:
        make(1).fit(X)
    elif warmup is not False and warmup is not None:
        make(1).fit(warmup)
    per, base, full = [], [], []
    for _ in range(repeats):
        t0, _m = timed(lambda: make(0).fit(X))
        del _m
        tN, _m = timed(lambda: make(n_iter).fit(X))
        del _m
        base.append(t0)
        full.append(tN)
        per.append(max(tN - t0, 0.0) / n_iter)
    return {"s_per_iter": summary(per), "baseline_s": summary(base), "fit_N_s": summary(full),
            "fit_N_over_N": statistics.median(full) / n_iter, "n_iter": n_iter,
            "repeats": repeats}


def gemm_gflops(n=2000, repeats=5, threads=None):
    """numpy float64 matmul rate (GFLOP/s, 2 n^3 flops), median of ``repeats``."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n))
    B = rng.standard_normal((n, n))
    ctx = threadpool_limits(limits=threads, user_api="blas") if threads else None
    try:
        A @ B
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            A @ B
            ts.append(time.perf_counter() - t)
    finally:
        if ctx is not None:
            ctx.restore_original_limits()
    t = statistics.median(ts)
    return {"n": n, "gflops": 2 * n**3 / t / 1e9, "s": t, "threads": threads or "default",
            "gflops_best": 2 * n**3 / min(ts) / 1e9}


# ---------------------------------------------------------------------------- processes
def run_python(code, env_extra=None, timeout=3600):
    """Run ``code`` in a fresh interpreter (cwd = repo root); it must print one JSON line last."""
    env = dict(os.environ)
    env.update(env_extra or {})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=env, cwd=str(ROOT), timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"subprocess failed ({p.returncode}):\n{p.stderr[-3000:]}")
    lines = [ln for ln in p.stdout.strip().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


RSS_SNIPPET = r'''
def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
def reset_peak():
    # writing 5 to clear_refs resets VmHWM (Linux >= 4.0)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
'''


# ---------------------------------------------------------------------------- output
def results_dir(out, full_run):
    """Where a run writes its files: ``--out`` when given, else ``benchmarks/results``
    for a full run; None for a partial run without ``--out`` (it only prints), so that
    the committed results change only by a full run."""
    return Path(out) if out else (RESULTS if full_run else None)


def write_results(name, result, md, out):
    """Write ``<name>.json`` and ``<name>.md`` into the folder ``out`` (made if missing);
    with ``out`` None, say that nothing was written. Returns the folder or None."""
    if out is None:
        log("partial run: nothing written (pass --out DIR to write the results)")
        return None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=_jsonable) + "\n")
    (out / f"{name}.md").write_text(md)
    log(f"wrote {out / (name + '.json')} and {out / (name + '.md')}")
    return out


def _jsonable(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def fmt(x, digits=3):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"

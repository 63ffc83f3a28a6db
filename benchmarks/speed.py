"""Speed and scale of nmfrec against its peers, every ratio measured in the same run.

    python benchmarks/speed.py                                 # everything, sizes S,M,4M,L
    python benchmarks/speed.py --sizes S,M                     # skip 4M and the 20M set
    python benchmarks/speed.py --sections surprise,startup     # some sections only
    python benchmarks/speed.py --quick                         # smoke run (S,M, few repeats)

Sections:

surprise  nmfrec's default ``Recommender(random_state=0)`` vs Surprise ``SVD(random_state=0)``
          (its defaults), and masked MU at Surprise NMF's own settings (``MU_AT_SURPRISE``)
          vs Surprise ``NMF(random_state=0)`` (15 factors, 50 epochs), on ml-100k u1..u5
          and, with size M, on the synthetic 1M set (random 90/10 split, seed 0). Fit
          seconds (Surprise: ``algo.fit`` on the trainset; building the trainset is
          reported apart) and RMSE (predictions clipped to the train range; pairs with an
          unknown user or item get the train mean for nmfrec and Surprise's own fallback,
          also the train mean, for Surprise).
implicit  implicit-feedback ``MaskedNMF(64, feedback="implicit", alpha=1, l2=0.01)`` (float64,
          and float32) vs
          ``implicit.cpu.als.AlternatingLeastSquares(factors=64)`` (its defaults otherwise:
          float32, conjugate gradient, regularization 0.01) given confidences
          ``1 + alpha*x``, same iterations, seconds per iteration on each size >= M; and
          explicit masked ALS (``MaskedNMF(64)``, float64) seconds per iteration with its
          share of the machine's float64 GEMM rate, counting the Gram matrices
          ``G_u = sum y_i y_i^T`` as nnz*k^2 multiply-adds per side (2*nnz*k^2 flops per
          side, 4*nnz*k^2 per iteration). The GEMM rate is numpy ``A @ B`` on 2000x2000
          float64, measured in this run, with all BLAS threads and with one.
scaling   explicit ALS k=64 seconds per iteration at 1M, 4M and 20M ratings and the log-log
          slope in nnz; k = 16, 32, 64, 128 at 1M; peak resident memory of the 20M fit at
          k=64 (a fresh process; ``VmHWM`` reset after the data are built) against the
          bytes of CSR + CSC + factors.
serving   ``Recommender.recommend_many(k=10)`` for every user vs implicit's batched
          ``model.recommend(userids, user_items, N=10)`` with nmfrec's fitted factors loaded
          into the implicit model (identical scores, checked); single-user ``recommend``
          latency, median and p99 over 1,000 users.
startup   fresh processes: ``import nmfrec`` + the first default ``Recommender().fit`` on
          ml-100k u1.base, warm numba cache (the in-tree cache, primed first), cold (empty
          ``NUMBA_CACHE_DIR``), and an empty cache filled first by ``python -m
          nmfrec.warmup`` (what an install step would run).
threads   ``MaskedNMF(n_threads=1)`` vs ``n_threads=2`` seconds per iteration at 1M, k=64
          (explicit ALS, implicit ALS, MU).

The script uses nmfrec's public API only. Earlier versions also timed internals (the
ALS kernel called directly, split into its coordinate-descent sweeps, and the top-k
kernel alone in "serving"); those figures remain in the committed results only.

Data: ml-100k through nmfrec's own search (``--data-home``, else ``$NMFREC_DATA``, else
the user cache, downloaded there when missing).

Seconds per iteration follow ``_common.per_iteration``: ``(t(fit, max_iter=N, tol=0) -
t(fit, max_iter=0)) / N``, median over repeats, ``init="random"``; the same subtraction is
applied to implicit (``iterations=N`` minus ``iterations=0``). BLAS is capped at one thread
inside both libraries' fits (nmfrec does it itself; implicit asks for it).

Sizes: S = ml-100k shape (100k), M = ml-1m shape (1M), 4M = 40,000 x 12,000 with 4M
ratings, L = ml-20m shape (20M). Synthetic sets are ``nmfrec.datasets.make_ratings`` at
``nmfrec.datasets.synthetic_shape(size)``, seed 0. On L the per-iteration figures use
``--l-iters`` iterations (default 2) and one repeat: 20M explicit ALS iterations take tens
of seconds each.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _common as C  # noqa: E402

SECTIONS = ("surprise", "implicit", "scaling", "serving", "startup", "threads")
# the names this script uses, each a size nmfrec.datasets.synthetic_shape knows
SIZE_SPECS = {"S": "S", "M": "M", "4M": "40000x12000x4000000", "L": "L"}
K = 64


# ============================================================================ context
class Ctx:
    def __init__(self, args):
        self.args = args
        self.sizes = args.sizes.split(",")
        self.data = {}
        self.cache = {}
        self.res = {"script": "benchmarks/speed.py", "argv": sys.argv[1:], "date": C.now(),
                    "commit": C.git_commit(), "machine": C.machine_info(),
                    "loadavg_before": C.loadavg(), "sizes": self.sizes, "sections": {}}

    def frame(self, size):
        if size not in self.data:
            t = time.perf_counter()
            df = C.synthetic(SIZE_SPECS[size], seed=0)
            X = C.ratings_csr(df)
            self.data[size] = (df, X)
            C.log(f"[data] {size}: {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} ratings "
                  f"({time.perf_counter() - t:.1f} s to generate)")
        return self.data[size]

    def csr(self, size):
        return self.frame(size)[1]

    def drop(self, size):
        self.data.pop(size, None)
        gc.collect()

    def iters(self, size):
        if size == "L":
            return self.args.l_iters, 1
        if size == "4M":
            return 2, 2 if not self.args.quick else 1
        return (3, 1) if self.args.quick else (3, 3)

    def small(self):
        return self.csr("S") if "S" in self.data else None

    def explicit_als(self, size, k=K, n_threads=None):
        """Cached per-iteration timing of explicit ALS (shared by implicit/scaling/threads)."""
        key = ("als-explicit", size, k, n_threads)
        if key not in self.cache:
            from nmfrec import MaskedNMF

            X = self.csr(size)
            n, reps = self.iters(size)

            def make(it):
                return MaskedNMF(k, init="random", random_state=0, max_iter=it, tol=0,
                                 n_threads=n_threads)
            self.cache[key] = C.per_iteration(make, X, n, reps, warmup=warm_for(self, size))
            r = self.cache[key]
            C.log(f"  explicit ALS {size} k={k} threads={n_threads or 'default'}: "
                  f"{r['s_per_iter']['median']:.3f} s/iter ({n} iters x {reps})")
        return self.cache[key]


def warm_for(ctx, size):
    """Warm up on a small matrix when the timed one is large."""
    if size in ("L", "4M"):
        if "warm" not in ctx.cache:
            ctx.cache["warm"] = C.ratings_csr(C.synthetic("S", seed=1))
        return ctx.cache["warm"]
    return True


def rmse(pred, truth):
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(truth)) ** 2)))


# ============================================================================ surprise
#: Surprise NMF's defaults (15 factors, 50 epochs, unbiased, reg_pu = reg_qi = 0.06 times
#: each row's count, uniform [0, 1) start) as a MaskedNMF: the same algorithm at the same
#: settings, so the engines are compared and not the models.
MU_AT_SURPRISE = dict(n_components=15, solver="mu", init="random", max_iter=50, tol=0,
                      l2_W=0.06, l2_H=0.06, reg_scale="count", user_bias=False,
                      item_bias=False, ranking="rating")


def _fit_predict(make, train, test, mean, lo, hi):
    """Fit time, RMSE and fitted model of an nmfrec Recommender on a frame."""
    cols = ["user", "item", "rating"]
    gc.collect()
    t = time.perf_counter()
    rec = make().fit(train[cols])
    dt = time.perf_counter() - t
    p = rec.predict(test[["user", "item"]])
    p = np.where(np.isnan(p), mean, p)
    return dt, rmse(np.clip(p, lo, hi), test["rating"]), rec


def _surprise_fit(algo, ts, test):
    gc.collect()
    t = time.perf_counter()
    algo.fit(ts)
    dt = time.perf_counter() - t
    est = [algo.predict(u, i).est for u, i in zip(test["user"].tolist(), test["item"].tolist())]
    return dt, rmse(est, test["rating"])


def _surprise_pair(train, test):
    import surprise
    from nmfrec import Recommender

    lo, hi = float(train["rating"].min()), float(train["rating"].max())
    mean = float(train["rating"].mean())
    cols = ["user", "item", "rating"]
    # nmfrec: the default model, and masked MU at Surprise NMF's settings, fit on the frame
    t_n, r_n, rec = _fit_predict(lambda: Recommender(random_state=0), train, test, mean, lo, hi)
    t_mu, r_mu, _ = _fit_predict(lambda: Recommender(**MU_AT_SURPRISE, random_state=0),
                                 train, test, mean, lo, hi)
    # Surprise: trainset construction, then algo.fit (NMF and SVD, their defaults)
    gc.collect()
    t = time.perf_counter()
    data = surprise.Dataset.load_from_df(train[cols], surprise.Reader(rating_scale=(lo, hi)))
    ts = data.build_full_trainset()
    t_build = time.perf_counter() - t
    t_s, r_s = _surprise_fit(surprise.NMF(random_state=0), ts, test)
    t_svd, r_svd = _surprise_fit(surprise.SVD(random_state=0), ts, test)
    part = getattr(rec, "ranking_model_", None)
    return {"nmfrec_fit_s": t_n, "nmfrec_rmse": r_n,
            "nmfrec_rating_part_fit_s": float(rec.model_.fit_time_),
            "nmfrec_preference_part_fit_s": (float(part.fit_time_) if part is not None
                                             and part is not rec.model_ else 0.0),
            "mu_fit_s": t_mu, "mu_rmse": r_mu,
            "surprise_fit_s": t_s, "surprise_build_s": t_build, "surprise_rmse": r_s,
            "svd_fit_s": t_svd, "svd_rmse": r_svd,
            "speedup": t_s / t_n, "speedup_incl_build": (t_s + t_build) / t_n,
            "mu_speedup": t_s / t_mu, "default_vs_svd": t_n / t_svd}


def section_surprise(ctx):
    try:
        import surprise  # noqa: F401
    except ImportError as e:
        C.log(f"[surprise] skipped: {e}")
        return {"skipped": str(e)}
    from nmfrec import Recommender

    out = {"folds": {}}
    folds = C.ml100k_folds(ctx.args.data_home)
    Recommender(random_state=0).fit(folds["u1"][0][["user", "item", "rating"]])  # warm-up
    for name, (train, test) in folds.items():
        r = _surprise_pair(train, test)
        out["folds"][name] = r
        C.log(f"[surprise] ml-100k {name}: default Recommender {r['nmfrec_fit_s']:.3f} s RMSE "
              f"{r['nmfrec_rmse']:.4f} | Surprise SVD {r['svd_fit_s']:.3f} s RMSE "
              f"{r['svd_rmse']:.4f} | ratio {r['default_vs_svd']:.2f}; MU at Surprise's "
              f"settings {r['mu_fit_s']:.3f} s RMSE {r['mu_rmse']:.4f} | Surprise NMF "
              f"{r['surprise_fit_s']:.2f} s RMSE {r['surprise_rmse']:.4f} | "
              f"{r['mu_speedup']:.1f}x faster")
    fl = list(out["folds"].values())
    out["ml100k"] = {key: statistics.median(f[key] for f in fl) for key in fl[0]}
    for key in ("nmfrec_rmse", "surprise_rmse", "svd_rmse", "mu_rmse"):
        out["ml100k"][key + "_mean"] = float(np.mean([f[key] for f in fl]))
    if "M" in ctx.sizes:
        df = ctx.frame("M")[0]
        rng = np.random.default_rng(0)
        is_test = rng.random(len(df)) < 0.1
        train, test = df[~is_test], df[is_test]
        r = _surprise_pair(train, test)
        out["synthetic_1M"] = r
        C.log(f"[surprise] synthetic 1M (90/10): default {r['nmfrec_fit_s']:.2f} s RMSE "
              f"{r['nmfrec_rmse']:.4f} | SVD {r['svd_fit_s']:.2f} s RMSE {r['svd_rmse']:.4f} | "
              f"MU {r['mu_fit_s']:.2f} s vs Surprise NMF {r['surprise_fit_s']:.1f} s: "
              f"{r['mu_speedup']:.1f}x faster")
    return out


# ============================================================================ implicit
class _ImplicitFit:
    """implicit ALS with ``fit(X)``: confidences 1 + alpha*x, BLAS capped as it asks."""

    def __init__(self, iterations, factors=K, **kw):
        self.iterations, self.factors, self.kw = iterations, factors, kw

    def fit(self, C_ui):
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        self.model = AlternatingLeastSquares(factors=self.factors, iterations=self.iterations,
                                             random_state=0, **self.kw)
        with threadpool_limits(1, "blas"):
            self.model.fit(C_ui, show_progress=False)
        return self


def _confidence(X, alpha=1.0):
    Cm = X.copy()
    Cm.data = 1.0 + alpha * Cm.data
    return Cm


def section_implicit(ctx):
    import warnings

    from nmfrec import MaskedNMF

    out = {"gemm": {}, "sizes": {}}
    out["gemm"]["all_threads"] = C.gemm_gflops(2000)
    out["gemm"]["one_thread"] = C.gemm_gflops(2000, threads=1)
    out["blas"] = C.blas_info()
    g = out["gemm"]
    C.log(f"[gemm] numpy float64 2000^3: {g['all_threads']['gflops']:.1f} GFLOP/s "
          f"(all threads), {g['one_thread']['gflops']:.1f} GFLOP/s (1 thread); BLAS "
          f"{out['blas'][0]['internal_api'] if out['blas'] else '?'} "
          f"{out['blas'][0].get('architecture') if out['blas'] else ''}")
    sizes = [s for s in ctx.sizes if s in ("M", "4M", "L")] or [s for s in ctx.sizes]
    for size in sizes:
        if size == "4M":
            continue  # scaling point only
        X = ctx.csr(size)
        Cm = _confidence(X)
        n, reps = ctx.iters(size)
        row = {"nnz": int(X.nnz), "n_iter": n, "repeats": reps}

        def make_n(it, dtype="float64"):
            return MaskedNMF(K, feedback="implicit", alpha=1.0, l2_W=0.01, l2_H=0.01,
                             init="random", random_state=0, max_iter=it, tol=0, dtype=dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["nmfrec_implicit"] = C.per_iteration(make_n, X, n, reps, warmup=warm_for(ctx, size))
            row["nmfrec_implicit_f32"] = C.per_iteration(
                lambda it: make_n(it, "float32"), X, n, reps, warmup=warm_for(ctx, size))
            warm = warm_for(ctx, size)
            row["implicit_als"] = C.per_iteration(
                _ImplicitFit, Cm, n, reps,
                warmup=_confidence(warm) if warm is not True else True)
            if size == "M":
                row["implicit_als_cholesky"] = C.per_iteration(
                    lambda it: _ImplicitFit(it, use_cg=False), Cm, n, reps)
        a = row["nmfrec_implicit"]["s_per_iter"]["median"]
        b = row["implicit_als"]["s_per_iter"]["median"]
        row["ratio"] = a / b
        a32 = row["nmfrec_implicit_f32"]["s_per_iter"]["median"]
        row["ratio_f32"] = a32 / b
        C.log(f"[implicit] {size}: nmfrec implicit k=64 {a:.3f} s/iter (float32 {a32:.3f}) | "
              f"implicit ALS (CG, float32) {b:.3f} s/iter | ratio {a / b:.2f} (float32 "
              f"{a32 / b:.2f})")
        if "implicit_als_cholesky" in row:
            c = row["implicit_als_cholesky"]["s_per_iter"]["median"]
            row["ratio_cholesky"] = a / c
            C.log(f"[implicit] {size}: implicit ALS exact (Cholesky, float32) {c:.3f} s/iter | "
                  f"ratio {a / c:.2f}")
        e = ctx.explicit_als(size)
        t = e["s_per_iter"]["median"]
        flops = 4.0 * X.nnz * K * K
        row["explicit_als"] = e
        row["explicit_gram_gflops"] = flops / t / 1e9
        row["explicit_gemm_share"] = flops / t / 1e9 / g["all_threads"]["gflops"]
        C.log(f"[implicit] {size}: explicit masked ALS k=64 {t:.3f} s/sweep; Gram work "
              f"4*nnz*k^2 = {flops / 1e9:.1f} GFLOP -> {row['explicit_gram_gflops']:.2f} "
              f"GFLOP/s = {100 * row['explicit_gemm_share']:.1f}% of GEMM")
        out["sizes"][size] = row
    return out


# ============================================================================ scaling
RSS_CODE = C.RSS_SNIPPET + r'''
import gc, json, sys, time
sys.path.insert(0, "benchmarks")
rss_start = _status("VmRSS")
import _common as C
from nmfrec import MaskedNMF
rss_import = _status("VmRSS")
df = C.synthetic(SPEC, seed=0)
X = C.ratings_csr(df)
del df
gc.collect()
# warm the kernels on a small problem before measuring
MaskedNMF(8, max_iter=1, tol=0, random_state=0).fit(X[:2000])
MaskedNMF(8, init="random", max_iter=1, tol=0, random_state=0).fit(X[:2000])
gc.collect()
out = {"rss_import": rss_import, "nnz": int(X.nnz), "shape": X.shape, "fits": {}}
for init in ("random", None):
    gc.collect()
    rss0 = _status("VmRSS")
    ok = reset_peak()
    t = time.perf_counter()
    m = MaskedNMF(K, init=init, max_iter=1, tol=0, random_state=0).fit(X)
    dt = time.perf_counter() - t
    peak = _status("VmHWM")
    model_bytes = 2 * C.csr_bytes(X) + m.W_.nbytes + m.components_.nbytes
    out["fits"][str(init)] = {"rss_before": rss0, "peak": peak, "reset_ok": ok, "fit_s": dt,
                              "csr_csc_factors_bytes": model_bytes,
                              "csr_bytes": C.csr_bytes(X),
                              "factor_bytes": m.W_.nbytes + m.components_.nbytes}
    del m
print(json.dumps(out))
'''


def _memory_ratios(r, f):
    """Two views of the peak: above the bare interpreter, and the fit's own allocations.

    ``peak - rss_import`` also counts what generating the data left in the allocator
    (pages freed by Python but not returned to the OS). ``peak - rss_before + csr``
    counts the input CSR (the user's data) plus everything the fit itself allocated.
    """
    f["peak_minus_import"] = f["peak"] - r["rss_import"]
    f["ratio"] = f["peak_minus_import"] / f["csr_csc_factors_bytes"]
    f["data_plus_fit"] = f["peak"] - f["rss_before"] + f["csr_bytes"]
    f["ratio_fit"] = f["data_plus_fit"] / f["csr_csc_factors_bytes"]


def section_scaling(ctx):
    out = {"nnz": {}, "k": {}}
    for size in [s for s in ("M", "4M", "L") if s in ctx.sizes]:
        r = ctx.explicit_als(size)
        out["nnz"][size] = {"nnz": int(ctx.csr(size).nnz), "s_per_iter": r["s_per_iter"]["median"],
                            "detail": r}
        C.log(f"[scaling] {size}: {out['nnz'][size]['nnz']:,} ratings, "
              f"{r['s_per_iter']['median']:.3f} s/iter")
        if size in ("4M",):
            ctx.drop(size)
    pts = list(out["nnz"].values())
    if len(pts) >= 2:
        slope = np.polyfit(np.log([p["nnz"] for p in pts]), np.log([p["s_per_iter"] for p in pts]), 1)[0]
        out["slope"] = float(slope)
        C.log(f"[scaling] log-log slope of s/iter in nnz over {list(out['nnz'])}: {slope:.3f}")
    if "M" in ctx.sizes:
        for k in (16, 32, 64, 128):
            r = ctx.explicit_als("M", k=k)
            out["k"][str(k)] = {"s_per_iter": r["s_per_iter"]["median"], "detail": r}
            C.log(f"[scaling] M k={k}: {r['s_per_iter']['median']:.3f} s/iter")
        ks = sorted(int(k) for k in out["k"])
        out["k_slope"] = float(np.polyfit(np.log(ks), np.log([out["k"][str(k)]["s_per_iter"] for k in ks]), 1)[0])
        C.log(f"[scaling] log-log slope in k: {out['k_slope']:.2f}")
    big = "L" if "L" in ctx.sizes else ("M" if "M" in ctx.sizes else None)
    if big:
        code = RSS_CODE.replace("SPEC", repr(SIZE_SPECS[big])).replace("MaskedNMF(K,", f"MaskedNMF({K},")
        t = time.perf_counter()
        r = C.run_python(code)
        r["size"] = big
        r["wall_s"] = time.perf_counter() - t
        for init, f in r["fits"].items():
            _memory_ratios(r, f)
            C.log(f"[memory] {big} k={K} init={init}: peak RSS {f['peak'] / 2**20:,.0f} MiB "
                  f"({f['peak_minus_import'] / 2**20:,.0f} MiB above the interpreter after import) "
                  f"vs CSR+CSC+factors {f['csr_csc_factors_bytes'] / 2**20:,.0f} MiB -> "
                  f"{f['ratio']:.2f}x")
        out["memory"] = r
    return out


# ============================================================================ serving
def section_serving(ctx):
    import warnings

    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from nmfrec import Recommender

    size = "L" if "L" in ctx.sizes else ("M" if "M" in ctx.sizes else ctx.sizes[-1])
    df = ctx.frame(size)[0]
    out = {"size": size}
    t = time.perf_counter()
    # one penalized model that both predicts and ranks (the default's Bayesian rating part
    # would take minutes to sample at k = 64 on 20M ratings; serving is the same code)
    rec = Recommender(n_components=K, solver="als", ranking="rating", init="random",
                      max_iter=1, tol=0, random_state=0)
    rec.fit(df[["user", "item", "rating"]])
    out["fit_s"] = time.perf_counter() - t
    C.log(f"[serving] {size}: Recommender(n_components=64, solver='als', ranking='rating', "
          f"max_iter=1) fitted in "
          f"{out['fit_s']:.1f} s for the factors; {rec.model_.n_factors_} columns with the biases")
    W = np.ascontiguousarray(rec.model_.W_)
    Ht = np.ascontiguousarray(rec.model_.components_.T)
    n_users = W.shape[0]
    ui = sp.csr_matrix(rec.ratings_)
    ui.sort_indices()
    model = AlternatingLeastSquares(factors=W.shape[1], dtype=np.float64, random_state=0)
    model.user_factors, model.item_factors = W, Ht
    uid = np.arange(n_users, dtype=np.int32)
    rec.recommend_many(users=rec.users_.labels(np.arange(100)), k=10)  # warm up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.recommend(uid[:100], ui[:100], N=10)
    reps = 1 if (ctx.args.quick or size == "L") else 3  # L: minutes per pass
    tn, ti = [], []
    for _ in range(reps):
        dt, frame = C.timed(lambda: rec.recommend_many(k=10))
        tn.append(dt)
        C.log(f"[serving] recommend_many(k=10), {n_users:,} users: {dt:.2f} s")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dt, (ids, scores) = C.timed(lambda: model.recommend(uid, ui, N=10))
        ti.append(dt)
        C.log(f"[serving] implicit model.recommend(all users, N=10): {dt:.2f} s")
    # same factors, same lists? compare the score of rank r for every user
    s_n = frame["score"].to_numpy().reshape(n_users, -1)
    out["max_score_diff"] = float(np.max(np.abs(s_n - scores[:, :s_n.shape[1]])))
    out["nmfrec_recommend_many_s"] = C.summary(tn)
    out["implicit_recommend_s"] = C.summary(ti)
    out["ratio"] = statistics.median(tn) / statistics.median(ti)
    C.log(f"[serving] ratio nmfrec/implicit {out['ratio']:.2f} (max |score diff| "
          f"{out['max_score_diff']:.2e})")
    # single-user latency
    rng = np.random.default_rng(0)
    n_lat = min(1000, n_users)
    users = rec.users_.labels(rng.choice(n_users, size=n_lat, replace=False))
    for u in users[:20]:
        rec.recommend(u, k=10)
    lat = []
    for u in users:
        t = time.perf_counter()
        rec.recommend(u, k=10)
        lat.append(time.perf_counter() - t)
    lat = np.array(lat) * 1e3
    out["recommend_latency_ms"] = {"median": float(np.median(lat)),
                                   "p99": float(np.percentile(lat, 99)), "n": len(lat)}
    inner = rng.choice(n_users, size=n_lat, replace=False)
    lat_i = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for u in inner:
            row = ui[u]
            t = time.perf_counter()
            model.recommend(int(u), row, N=10)
            lat_i.append(time.perf_counter() - t)
    lat_i = np.array(lat_i) * 1e3
    out["implicit_latency_ms"] = {"median": float(np.median(lat_i)),
                                  "p99": float(np.percentile(lat_i, 99)), "n": len(lat_i)}
    C.log(f"[serving] single-user recommend: nmfrec median {np.median(lat):.2f} ms, p99 "
          f"{np.percentile(lat, 99):.2f} ms | implicit median {np.median(lat_i):.2f} ms, "
          f"p99 {np.percentile(lat_i, 99):.2f} ms")
    return out


# ============================================================================ startup
STARTUP_CODE = r'''
import json, time
t0 = time.perf_counter()
import nmfrec
t_import = time.perf_counter() - t0
from nmfrec import Recommender, datasets
t = time.perf_counter()
train, test = datasets.ml100k_folds(data_home=DATA, folds=("u1",), download=False)["u1"]
t_load = time.perf_counter() - t
t = time.perf_counter()
rec = Recommender(random_state=0).fit(train)
t_fit = time.perf_counter() - t
t = time.perf_counter()
rec.recommend(int(train["user"].iloc[0]), k=10)
t_rec = time.perf_counter() - t
print(json.dumps({"import_s": t_import, "load_s": t_load, "first_fit_s": t_fit,
                  "first_recommend_s": t_rec, "import_plus_fit_s": t_import + t_fit}))
'''


WARMUP_CODE = r'''
import json, time
t = time.perf_counter()
from nmfrec.warmup import warm_up
warm_up()
print(json.dumps({"warmup_s": time.perf_counter() - t}))
'''


def section_startup(ctx):
    import shutil
    import tempfile

    from nmfrec import datasets

    folder = datasets.fetch_movielens("ml-100k", ctx.args.data_home)  # the one data search
    code = STARTUP_CODE.replace("DATA", repr(str(folder)))
    out = {"warm": [], "cold": []}
    C.run_python(code)  # prime the in-tree cache
    for _ in range(1 if ctx.args.quick else 3):
        r = C.run_python(code)
        out["warm"].append(r)
        C.log(f"[startup] warm cache: import {r['import_s']:.2f} s + first fit "
              f"{r['first_fit_s']:.2f} s = {r['import_plus_fit_s']:.2f} s (data load "
              f"{r['load_s']:.2f} s, first recommend {r['first_recommend_s']:.3f} s)")
    d = tempfile.mkdtemp(prefix="nmfrec-numba-cold-")
    try:
        r = C.run_python(code, {"NUMBA_CACHE_DIR": d})
    finally:
        shutil.rmtree(d, ignore_errors=True)
    out["cold"].append(r)
    C.log(f"[startup] cold cache: import {r['import_s']:.2f} s + first fit {r['first_fit_s']:.2f} s "
          f"= {r['import_plus_fit_s']:.2f} s (first recommend {r['first_recommend_s']:.2f} s)")
    # an empty cache filled by `python -m nmfrec.warmup` (what an install step would run)
    d = tempfile.mkdtemp(prefix="nmfrec-numba-warmup-")
    try:
        w = C.run_python(WARMUP_CODE, {"NUMBA_CACHE_DIR": d})
        r = C.run_python(code, {"NUMBA_CACHE_DIR": d})
    finally:
        shutil.rmtree(d, ignore_errors=True)
    r["warmup_s"] = w["warmup_s"]
    out["after_warmup"] = [r]
    C.log(f"[startup] empty cache after python -m nmfrec.warmup ({w['warmup_s']:.1f} s): import "
          f"{r['import_s']:.2f} s + first fit {r['first_fit_s']:.2f} s = "
          f"{r['import_plus_fit_s']:.2f} s")
    for kind in ("warm", "cold", "after_warmup"):
        out[kind + "_summary"] = {key: statistics.median(x[key] for x in out[kind])
                                  for key in out[kind][0]}
    return out


# ============================================================================ threads
def section_threads(ctx):
    import warnings

    from nmfrec import MaskedNMF

    size = "M" if "M" in ctx.sizes else ctx.sizes[0]
    X = ctx.csr(size)
    n, reps = ctx.iters(size)
    out = {"size": size}
    configs = {
        "als-explicit": dict(),
        "als-implicit": dict(feedback="implicit", l2_W=0.01, l2_H=0.01),
        "mu-explicit": dict(solver="mu"),
    }
    for name, kw in configs.items():
        row = {}
        for th in (1, 2):
            if name == "als-explicit":
                r = ctx.explicit_als(size, n_threads=th)
            else:
                def make(it, th=th, kw=kw):
                    return MaskedNMF(K, init="random", random_state=0, max_iter=it, tol=0,
                                     n_threads=th, **kw)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = C.per_iteration(make, X, n, reps)
            row[str(th)] = r
        row["speedup"] = row["1"]["s_per_iter"]["median"] / row["2"]["s_per_iter"]["median"]
        out[name] = row
        C.log(f"[threads] {size} {name} k=64: 1 thread {row['1']['s_per_iter']['median']:.3f} "
              f"s/iter, 2 threads {row['2']['s_per_iter']['median']:.3f} s/iter -> "
              f"{row['speedup']:.2f}x")
    return out


# ============================================================================ report
def markdown(res):
    info = res["machine"]
    S = res["sections"]
    L = ["### Speed and scale (`benchmarks/speed.py`)", "",
         f"Machine: {C.machine_line(info)}; numba threads {info['numba_threads']}. Date "
         f"{res['date']}, commit {res['commit']}, sizes {','.join(res['sizes'])}; load average "
         f"before/after {res['loadavg_before']} / {res.get('loadavg_after')}. Wall-clock on a "
         "shared 2-core machine: read the ratios, each measured in the same run.", ""]
    if "surprise" in S and "ml100k" in S["surprise"]:
        s = S["surprise"]
        L += ["**vs scikit-surprise** (one run, ml-100k u1..u5 and the synthetic 1M set). "
              "nmfrec fit times include building the matrix from the DataFrame; Surprise's are "
              "`algo.fit` only (its trainset build in brackets). Two comparisons: the default "
              "`Recommender(random_state=0)` (Bayesian rating part + preference part) against "
              "Surprise `SVD()` (its defaults: 100 factors, 20 epochs), and the same algorithm "
              "at the same settings, masked multiplicative updates as "
              "`Recommender(15, solver='mu', init='random', max_iter=50, tol=0, l2=0.06, "
              "reg_scale='count', no biases)`, against Surprise `NMF()` (its defaults: 15 "
              "factors, 50 epochs, reg 0.06 times the count).", "",
              "| data | default fit s | SVD fit s | default / SVD (target ≤ 1) | default RMSE | "
              "SVD RMSE | MU fit s | Surprise NMF fit s | speed-up (target ≥ 10×) | MU RMSE | "
              "NMF RMSE |", "|---|---|---|---|---|---|---|---|---|---|---|"]

        def row(name, r, bold=False):
            b = "**" if bold else ""
            return (f"| {name} | {r['nmfrec_fit_s']:.3f} | {r['svd_fit_s']:.3f} | "
                    f"{b}{r['default_vs_svd']:.2f}{b} | {r['nmfrec_rmse']:.4f} | "
                    f"{r['svd_rmse']:.4f} | {r['mu_fit_s']:.3f} | {r['surprise_fit_s']:.2f} "
                    f"(+{r.get('surprise_build_s', 0):.2f}) | {b}{r['mu_speedup']:.1f}×{b} | "
                    f"{r['mu_rmse']:.4f} | {r['surprise_rmse']:.4f} |")
        for f, r in s["folds"].items():
            L.append(row(f"ml-100k {f}", r))
        m = dict(s["ml100k"])
        for key in ("nmfrec_rmse", "svd_rmse", "mu_rmse", "surprise_rmse"):
            m[key] = m.get(key + "_mean", m[key])
        L.append(row("**ml-100k median (RMSE: mean)**", m, bold=True))
        if "synthetic_1M" in s:
            L.append(row("synthetic 1M (90/10)", s["synthetic_1M"], bold=True))
        L.append("")
    if "implicit" in S and "gemm" in S["implicit"]:
        s = S["implicit"]
        g = s["gemm"]
        L += [f"**vs implicit ALS, k = 64.** numpy float64 GEMM (2000³) in this run: "
              f"{g['all_threads']['gflops']:.1f} GFLOP/s on all threads, "
              f"{g['one_thread']['gflops']:.1f} GFLOP/s on one. nmfrec: "
              "`MaskedNMF(64, feedback='implicit', l2=0.01)` float64, coordinate descent on the residuals (eALS); "
              "implicit: `AlternatingLeastSquares(factors=64)` defaults (float32, 3 CG steps), "
              "confidences 1 + x. Explicit: `MaskedNMF(64)`, Gram work 4·nnz·k² flops per "
              "iteration.", "",
              "| data | iters × repeats | nmfrec implicit s/iter (float32) | implicit ALS s/iter | "
              "ratio (target ≤ 1.0; float32) | explicit ALS s/sweep | Gram GFLOP/s | share of GEMM "
              "(target ≥ 40%) |", "|---|---|---|---|---|---|---|---|"]
        for size, r in s["sizes"].items():
            f32 = r.get("nmfrec_implicit_f32")
            L.append(f"| {size} ({r['nnz']:,}) | {r['n_iter']} × {r['repeats']} | "
                     f"{C.fmt(r['nmfrec_implicit']['s_per_iter']['median'])}"
                     + (f" ({C.fmt(f32['s_per_iter']['median'])})" if f32 else "") + " | "
                     f"{C.fmt(r['implicit_als']['s_per_iter']['median'])} | **{r['ratio']:.2f}**"
                     + (f" ({r['ratio_f32']:.2f})" if f32 else "") + " | "
                     f"{C.fmt(r['explicit_als']['s_per_iter']['median'])} | "
                     f"{r['explicit_gram_gflops']:.2f} | **{100 * r['explicit_gemm_share']:.1f}%** |")
        for size, r in s["sizes"].items():
            if "ratio_cholesky" in r:
                L.append(f"\nAt {size}, implicit with its exact solver (`use_cg=False`): "
                         f"{C.fmt(r['implicit_als_cholesky']['s_per_iter']['median'])} s/iter, "
                         f"ratio {r['ratio_cholesky']:.2f}.")
        L.append("")
    if "scaling" in S:
        s = S["scaling"]
        L += ["**Scaling** (explicit ALS, `MaskedNMF(k, init='random')`, float64).", "",
              "| ratings | s/iter at k=64 |", "|---|---|"]
        for size, r in s["nnz"].items():
            L.append(f"| {size}: {r['nnz']:,} | {C.fmt(r['s_per_iter'])} |")
        if "slope" in s:
            L.append(f"\nLog–log slope of s/iter in nnz: **{s['slope']:.3f}** (target ≤ 1.1).")
        if s["k"]:
            L += ["", "| k (1M ratings) | " + " | ".join(s["k"]) + " |",
                  "|---|" + "---|" * len(s["k"]),
                  "| s/iter | " + " | ".join(C.fmt(v["s_per_iter"]) for v in s["k"].values()) + " |",
                  f"\nLog–log slope in k: {s['k_slope']:.2f} (Gram work alone would give 2)."]
        if "memory" in s:
            mem = s["memory"]
            L += ["", f"Peak resident memory, {mem['size']} ({mem['nnz']:,} ratings), k = 64, "
                  "one iteration, fresh process (peak reset after the data are built; the "
                  "input CSR is alive during the fit):", "",
                  "| init | peak RSS MiB | RSS before fit MiB | input CSR + fit's own peak MiB | "
                  "CSR+CSC+factors MiB | ratio (target ≤ 2) | peak − RSS after import, ratio |",
                  "|---|---|---|---|---|---|---|"]
            for init, f in mem["fits"].items():
                _memory_ratios(mem, f)
                L.append(f"| {'nndsvda (default)' if init == 'None' else init} | "
                         f"{f['peak'] / 2**20:,.0f} | {f['rss_before'] / 2**20:,.0f} | "
                         f"{f['data_plus_fit'] / 2**20:,.0f} | "
                         f"{f['csr_csc_factors_bytes'] / 2**20:,.0f} | **{f['ratio_fit']:.2f}** | "
                         f"{f['peak_minus_import'] / 2**20:,.0f} MiB, {f['ratio']:.2f} |")
            L += ["", "*Input CSR + fit's own peak* = peak − RSS just before `fit` + the input "
                  "CSR's bytes; the last column also counts what generating the data left "
                  "in the allocator."]
        L.append("")
    if "serving" in S:
        s = S["serving"]
        L += [f"**Serving**, {s['size']} set, top-10 for every user, same factors (k = 64 + 2 "
              "bias columns), seen items excluded; max |score difference| "
              f"{s['max_score_diff']:.1e}.", "",
              "| what | nmfrec | implicit | ratio (target ≤ 1) |", "|---|---|---|---|",
              f"| all users, batched, s | {C.fmt(s['nmfrec_recommend_many_s']['median'])} "
              # "kernel only": runs before the script kept to the public API
              + (f"(kernel only {C.fmt(s['nmfrec_topk_kernel_s']['median'])}) "
                 if "nmfrec_topk_kernel_s" in s else "")
              + f"| {C.fmt(s['implicit_recommend_s']['median'])} | **{s['ratio']:.2f}** |",
              f"| one user, median ms | {s['recommend_latency_ms']['median']:.2f} | "
              f"{s['implicit_latency_ms']['median']:.2f} | |",
              f"| one user, p99 ms | {s['recommend_latency_ms']['p99']:.2f} | "
              f"{s['implicit_latency_ms']['p99']:.2f} | |", "",
              "nmfrec's `recommend_many` returns a DataFrame with user and item labels; "
              "implicit returns arrays of inner ids. Single user: `rec.recommend(label)` "
              "(a DataFrame) vs `model.recommend(userid, user_items_row)`.", ""]
    if "startup" in S:
        s = S["startup"]
        w, c = s["warm_summary"], s["cold_summary"]
        L += ["**Start-up**, fresh process, `import nmfrec` + first `Recommender().fit` on "
              "ml-100k u1.base (data loading excluded).", "",
              "| numba cache | import s | first fit s | import + fit s (target ≤ 3) | "
              "first recommend s |", "|---|---|---|---|---|",
              f"| warm (median of {len(s['warm'])}) | {w['import_s']:.2f} | {w['first_fit_s']:.2f} | "
              f"**{w['import_plus_fit_s']:.2f}** | {w['first_recommend_s']:.3f} |",
              f"| cold | {c['import_s']:.2f} | {c['first_fit_s']:.2f} | {c['import_plus_fit_s']:.2f} | "
              f"{c['first_recommend_s']:.2f} |"]
        if "after_warmup_summary" in s:
            a = s["after_warmup_summary"]
            L.append(f"| cold, then `python -m nmfrec.warmup` ({a['warmup_s']:.1f} s, as an "
                     f"install step would) | {a['import_s']:.2f} | {a['first_fit_s']:.2f} | "
                     f"**{a['import_plus_fit_s']:.2f}** | {a['first_recommend_s']:.3f} |")
        L.append("")
    if "threads" in S:
        s = S["threads"]
        L += [f"**Threads**, {s['size']}, k = 64, s/iter.", "",
              "| model | 1 thread | 2 threads | speed-up |", "|---|---|---|---|"]
        for name in ("als-explicit", "als-implicit", "mu-explicit"):
            r = s[name]
            L.append(f"| {name} | {C.fmt(r['1']['s_per_iter']['median'])} | "
                     f"{C.fmt(r['2']['s_per_iter']['median'])} | {r['speedup']:.2f}× |")
        L.append("")
    L.append(f"Wall time of the run: {res['wall_s'] / 60:.1f} min; per section "
             + ", ".join(f"{k} {v:.0f} s" for k, v in res["section_s"].items()) + ".")
    L.append("")
    return "\n".join(L)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help=f"comma list of {','.join(SECTIONS)}")
    ap.add_argument("--sizes", default="S,M,4M,L", help="comma list of S,M,4M,L")
    ap.add_argument("--l-iters", type=int, default=2, help="timed iterations on L (default 2)")
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer repeats")
    ap.add_argument("--data-home", default=None, help="folder that holds ml-100k/ (default: "
                    "$NMFREC_DATA, else the user cache)")
    ap.add_argument("--out", default=None, help="results directory (default benchmarks/results; "
                    "--quick writes only with --out)")
    ap.add_argument("--render", default=None, metavar="JSON",
                    help="only re-render the Markdown from a saved speed.json (to stdout)")
    args = ap.parse_args(argv)
    if args.render:
        res = json.loads(Path(args.render).read_text())
        ok = {k: v for k, v in res["sections"].items() if "failed" not in v and "skipped" not in v}
        print(markdown({**res, "sections": ok}))
        return
    if args.quick and args.sizes == "S,M,4M,L":
        args.sizes = "S,M"
    bad = [s for s in args.sizes.split(",") if s not in SIZE_SPECS]
    bad += [s for s in args.sections.split(",") if s not in SECTIONS]
    if bad:
        ap.error(f"unknown size or section: {bad}")
    t0 = time.perf_counter()
    ctx = Ctx(args)
    C.log(C.machine_line(ctx.res["machine"]))
    ctx.res["section_s"] = {}
    for name in args.sections.split(","):
        t = time.perf_counter()
        C.log(f"== {name}")
        try:
            ctx.res["sections"][name] = globals()[f"section_{name}"](ctx)
        except Exception as e:  # report and go on
            import traceback

            traceback.print_exc()
            ctx.res["sections"][name] = {"failed": repr(e)}
        ctx.res["section_s"][name] = time.perf_counter() - t
        C.log(f"== {name} done in {ctx.res['section_s'][name]:.0f} s")
        if not args.quick or args.out:  # keep what is done if a later section dies
            Path(args.out or C.RESULTS).mkdir(parents=True, exist_ok=True)
            (Path(args.out or C.RESULTS) / "speed.partial.json").write_text(
                json.dumps(ctx.res, indent=1, default=C._jsonable) + "\n")
    ctx.res["loadavg_after"] = C.loadavg()
    ctx.res["wall_s"] = time.perf_counter() - t0
    ok = {k: v for k, v in ctx.res["sections"].items() if "failed" not in v and "skipped" not in v}
    md = markdown({**ctx.res, "sections": ok})
    print(md)
    out = C.write_results("speed", ctx.res, md, C.results_dir(args.out, not args.quick))
    if out is not None:
        (out / "speed.partial.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

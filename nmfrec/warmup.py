"""Compile the numba kernels of the common paths into numba's on-disk cache, ahead of use.

    python -m nmfrec.warmup

Numba compiles each kernel at its first call and keeps the machine code on disk
(``cache=True``, next to the package's files or in ``NUMBA_CACHE_DIR``). With an empty
cache the first default ``Recommender().fit`` pays for the compilation, several seconds;
running this once after installing (or in a container build) moves that cost there. The
kernels are compiled by using them on a tiny problem, so exactly the signatures that real
calls use (float64 factors, int32 sparse indices) end up in the cache.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

__all__ = ["warm_up"]


def _tiny_ratings(seed=0, n_users=30, n_items=20, per_user=8):
    rng = np.random.default_rng(seed)
    rows = [(u, i, float(rng.integers(1, 6)))
            for u in range(n_users) for i in rng.choice(n_items, per_user, replace=False)]
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


def warm_up(verbose=False):
    """Run the default model's fit, prediction and rankings, and MaskedNMF's solvers, on a
    tiny data set so that their kernels are compiled and cached.

    Parameters
    ----------
    verbose : bool, default=False
        Print the seconds each step took.

    Returns
    -------
    float
        Seconds spent.
    """
    from . import _kernels
    from .exceptions import ConvergenceWarning
    from .nmf import MaskedNMF
    from .recommender import Recommender

    t0 = time.perf_counter()
    df = _tiny_ratings()
    steps = []

    def step(name, fn):
        t = time.perf_counter()
        with warnings.catch_warnings():
            # two iterations on a tiny set are meant to stop short of convergence
            warnings.simplefilter("ignore", ConvergenceWarning)
            fn()
        steps.append((name, time.perf_counter() - t))

    # small problems run the kernels' serial twins, large ones the parallel kernels:
    # compile both (the second pass as if every problem were large)
    threshold = _kernels._twins.SERIAL_BELOW
    for size, below in (("", threshold), (" (parallel)", 0)):
        _kernels._twins.SERIAL_BELOW = below
        try:
            _steps(step, size, df, Recommender, MaskedNMF)
        finally:
            _kernels._twins.SERIAL_BELOW = threshold
    total = time.perf_counter() - t0
    if verbose:
        for name, dt in steps:
            print(f"{name}: {dt:.2f} s")
        print(f"total: {total:.2f} s")
    return total


def _steps(step, size, df, Recommender, MaskedNMF):
    """The default model's fit, answers and MaskedNMF's solvers, each a ``step``."""
    rec = Recommender(random_state=0, n_samples=4, n_components=2, preference_components=2)
    step("default fit" + size, lambda: rec.fit(df))
    step("predict" + size, lambda: rec.predict(df[["user", "item"]]))
    step("recommend" + size, lambda: rec.recommend(0, k=3))
    step("recommend_many" + size, lambda: rec.recommend_many(k=3))
    step("recommend_new" + size, lambda: rec.recommend_new({0: 4.0, 1: 2.0}, k=3))
    step("similar_items" + size, lambda: rec.similar_items(0, k=3))
    X = rec.ratings_
    for solver in ("als", "mu", "pgd"):
        step(f"MaskedNMF {solver}{size}",
             lambda s=solver: MaskedNMF(2, solver=s, max_iter=2).fit(X))
    for solver in ("als", "mu"):
        step(f"MaskedNMF implicit {solver}{size}", lambda s=solver: MaskedNMF(
            2, solver=s, feedback="implicit", max_iter=2).fit(X))


if __name__ == "__main__":
    warm_up(verbose=True)

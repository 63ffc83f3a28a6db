"""The masked objective, defined once, and predictions at observed positions.

    F(W, H) = 1/2 sum_{(u,i) in Omega} (x_ui - w_u . h_i)^2
              + l1_W sum(W) + 1/2 l2_W ||W||^2 + l1_H sum(H) + 1/2 l2_H ||H||^2

Factors are non-negative, so ``sum(W)`` is the L1 norm.
"""

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def row_sq_errors(indptr, indices, data, X, Y, out):
    """Squared residual of each row over its observed entries.

    Parameters
    ----------
    indptr, indices, data : CSR (or CSC) arrays of the observed matrix; indices sorted.
    X : (n_rows, k) float array, factors of the rows.
    Y : (n_cols, k) float array, factors of the columns.
    out : (n_rows,) float64 array, overwritten with sum_i (x_ui - X[u] . Y[i])^2.
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    for u in prange(n_rows):
        s = 0.0
        for p in range(indptr[u], indptr[u + 1]):
            i = indices[p]
            pred = 0.0
            for a in range(k):
                pred += X[u, a] * Y[i, a]
            r = data[p] - pred
            s += r * r
        out[u] = s


@njit(parallel=True, cache=True)
def dot_pairs(rows, cols, X, Y, out):
    """``out[t] = X[rows[t]] . Y[cols[t]]`` for every pair t (no bounds checks)."""
    k = X.shape[1]
    for t in prange(rows.shape[0]):
        u = rows[t]
        i = cols[t]
        s = 0.0
        for a in range(k):
            s += X[u, a] * Y[i, a]
        out[t] = s


def penalty(X, l1, l2):
    """``l1 * sum(X) + 1/2 * l2 * ||X||_F^2`` for non-negative ``X`` (float64)."""
    val = 0.0
    if l1:
        val += l1 * float(np.sum(X, dtype=np.float64))
    if l2:
        val += 0.5 * l2 * float(np.sum(np.square(X, dtype=np.float64)))
    return val


def objective(indptr, indices, data, W, Ht, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0):
    """The penalized masked objective F(W, H) (see module docstring).

    Returns ``(F, sq_err)`` where ``sq_err`` is the plain squared error on the observed
    entries. Row errors are summed in NumPy after the parallel pass, so the value does
    not depend on the thread count.
    """
    per_row = np.empty(W.shape[0], dtype=np.float64)
    row_sq_errors(indptr, indices, data, W, Ht, per_row)
    sq = float(np.sum(per_row))
    return 0.5 * sq + penalty(W, l1_W, l2_W) + penalty(Ht, l1_H, l2_H), sq

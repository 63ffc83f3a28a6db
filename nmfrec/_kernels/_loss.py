"""The masked objective, defined once, and predictions at observed positions.

Explicit feedback (ratings; only observed entries count):

    F(W, H) = 1/2 sum_{(u,i) in Omega} (x_ui - w_u . h_i)^2 + P(W) + P(H)

Implicit feedback (every missing entry is a zero of confidence m; Hu, Koren & Volinsky
2008 with m = 1 and p = 1; Steck 2010's weighted zeros with p = x and m < 1):

    F(W, H) = 1/2 sum_{u,i} c_ui (p_ui - w_u . h_i)^2 + P(W) + P(H),
    p = 1 (or x), c = 1 + alpha x on Omega;  p = 0, c = m elsewhere,

computed without the m x n matrix by the Gram trick:

    sum_{u,i} (w_u . h_i)^2 = trace((W^T W)(H^T H)),
    F = 1/2 [ sum_Omega (c (p - s)^2 - m s^2) + m trace((W^T W)(H^T H)) ] + P(W) + P(H).

Penalties, over the free (not fixed) columns, with r_u = |Omega_u| when scaled by count:

    P(W) = sum_u r_u (l1 sum(w_u) + 1/2 l2 ||w_u||^2).

Factors are non-negative, so ``sum(w)`` is the L1 norm.
"""

import numpy as np
from numba import njit, prange

from ._common import FASTMATH, ROWS_PER_TASK, row_dot


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def row_sq_errors(indptr, indices, data, X, Y, implicit, alpha, out, missing_weight=1.0,
                  preference_rating=False):
    """Data term of each row over its observed entries (see module docstring).

    Parameters
    ----------
    indptr, indices, data : CSR (or CSC) arrays of the observed matrix; indices sorted.
    X : (n_rows, k) float array, factors of the rows.
    Y : (n_cols, k) float array, factors of the columns.
    implicit : bool; explicit rows give sum (x - s)^2, implicit rows
        sum (c (t - s)^2 - m s^2) with c = 1 + alpha x, t = 1 (or x when
        ``preference_rating``), m = ``missing_weight``.
    out : (n_rows,) float64 array, overwritten.
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    n_tasks = (n_rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        for u in range(task, n_rows, n_tasks):   # see ROWS_PER_TASK
            s = 0.0
            xu = X[u]
            for p in range(indptr[u], indptr[u + 1]):
                pred = row_dot(xu, Y, indices[p], k)
                if implicit:
                    t = data[p] if preference_rating else 1.0
                    r = t - pred
                    s += (1.0 + alpha * data[p]) * r * r - missing_weight * pred * pred
                else:
                    r = data[p] - pred
                    s += r * r
            out[u] = s


@njit(parallel=True, cache=True)
def fit_stats(indptr, indices, data, X, Y, binary, out):
    """Per row u: ``out[u, 0] = sum_i t_ui s_ui`` and ``out[u, 1] = sum_i s_ui^2`` over the
    observed entries, with ``s = X[u] . Y[i]`` and ``t = 1`` (binary) or the data value.
    (What a least-squares rescale of the factors needs, without an nnz-long array.)"""
    k = X.shape[1]
    n_tasks = (X.shape[0] + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        for u in range(task, X.shape[0], n_tasks):   # see ROWS_PER_TASK
            ts = 0.0
            ss = 0.0
            xu = X[u]
            for p in range(indptr[u], indptr[u + 1]):
                s = row_dot(xu, Y, indices[p], k)
                ts += s if binary else data[p] * s
                ss += s * s
            out[u, 0] = ts
            out[u, 1] = ss


@njit(parallel=True, cache=True)
def dot_pairs(rows, cols, X, Y, out):
    """``out[t] = X[rows[t]] . Y[cols[t]]`` for every pair t (no bounds checks)."""
    k = X.shape[1]
    for t in prange(rows.shape[0]):
        out[t] = row_dot(X[rows[t]], Y, cols[t], k)


def penalty(X, l1, l2, fixed=None, row_scales=None):
    """``sum_u r_u (l1 sum(x_u) + 1/2 l2 ||x_u||^2)`` over free columns (float64).

    ``fixed``: (k,) mask of constant columns, left out. ``row_scales``: r_u, each row's
    penalty factor (None: 1; see ``reg_scale`` in :func:`als_update_rows`).
    """
    if not l1 and not l2:
        return 0.0
    if fixed is not None and np.any(fixed):
        X = X[:, ~fixed.astype(bool)]
    per_row = np.zeros(X.shape[0], dtype=np.float64)
    if l1:
        per_row += l1 * np.sum(X, axis=1, dtype=np.float64)
    if l2:
        per_row += 0.5 * l2 * np.sum(np.square(X, dtype=np.float64), axis=1)
    if row_scales is not None:
        per_row *= row_scales
    return float(np.sum(per_row))


def gram(X):
    """``X^T X`` in float64."""
    X64 = X.astype(np.float64, copy=False)
    return X64.T @ X64


def objective(indptr, indices, data, W, Ht, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0,
              implicit=False, alpha=0.0, fixed_W=None, fixed_H=None,
              row_scales=None, col_scales=None, missing_weight=1.0, preference_rating=False):
    """The penalized objective F(W, H) (see module docstring).

    ``indptr, indices, data`` are the CSR arrays of the observed matrix. ``row_scales``
    and ``col_scales`` scale the penalties of W's and H's rows (None: unscaled).

    Returns ``(F, data_term)`` where ``data_term`` is the unpenalized sum (for explicit
    feedback, the squared error on the observed entries). Row terms are summed in
    NumPy after the parallel pass, so the value does not depend on the thread count.
    """
    per_row = np.empty(W.shape[0], dtype=np.float64)
    row_sq_errors(indptr, indices, data, W, Ht, implicit, alpha, per_row, missing_weight,
                  preference_rating)
    return objective_of_rows(per_row, W, Ht, l1_W, l2_W, l1_H, l2_H, implicit, fixed_W,
                             fixed_H, row_scales, col_scales, missing_weight)


def objective_of_rows(per_row, W, Ht, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0, implicit=False,
                      fixed_W=None, fixed_H=None, row_scales=None, col_scales=None,
                      missing_weight=1.0):
    """:func:`objective` from the rows' data terms, as :func:`row_sq_errors` gives them
    (computed wherever the rows are: here, or on the blocks of a distributed fit)."""
    sq = float(np.sum(per_row))
    if implicit:
        sq += missing_weight * float(np.sum(gram(W) * gram(Ht)))
    f = (0.5 * sq + penalty(W, l1_W, l2_W, fixed_W, row_scales)
         + penalty(Ht, l1_H, l2_H, fixed_H, col_scales))
    return f, sq

"""Masked projected gradient, row by row, with an exact step and a projection-arc search.

For row u with Y fixed, the row objective is

    f(w) = 1/2 sum_{i in Omega_u} (w . y_i - x_ui)^2 + l1 sum(w) + 1/2 l2 ||w||^2,  w >= 0.

(penalties times |Omega_u| when scaled by count; fixed coordinates are constants).
One step: gradient ``g = sum_i r_i y_i + l2 w + l1`` (``r_i = w . y_i - x_ui``), search
direction ``d = -g`` with the components that would leave the feasible set at a bound
zeroed, the step ``alpha = -g.d / (sum_i (d . y_i)^2 + l2 ||d||^2)`` that minimises f
along d exactly, then ``w+ = max(0, w + alpha d)``; alpha is halved until f(w+) <= f(w)
(projection can only shorten the step). Every pass costs O(|Omega_u| k), never k^2,
which makes this first-order solver the cheap one at large ranks (Lin 2007 uses the
same projected step). Rows are independent: parallel and deterministic.
"""

import numpy as np
from numba import njit, prange

from ._common import ROWS_PER_TASK, penalty_scale, row_dot


@njit(cache=True)
def _row_value(indptr, indices, data, u, w, Y, l1, l2, fixed):
    k = w.shape[0]
    f = 0.0
    for p in range(indptr[u], indptr[u + 1]):
        r = row_dot(w, Y, indices[p], k) - data[p]
        f += 0.5 * r * r
    for a in range(k):
        if not fixed[a]:
            f += l1 * w[a] + 0.5 * l2 * w[a] * w[a]
    return f


@njit(parallel=True, cache=True)
def pgd_update_rows(indptr, indices, data, X, Y, l1, l2, reg_scale, fixed, n_steps):
    """``n_steps`` projected-gradient steps on every row of ``X`` against ``Y`` (in place).

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the observed matrix (or the CSC twin).
    X : (n_rows, k) float array, mutated, >= 0.
    Y : (n_cols, k) float array.
    l1, l2 : float, penalties on X.
    reg_scale : int, how row u's penalties are scaled (see
        :func:`nmfrec._kernels.als_update_rows`; explicit feedback: a row's weight is its
        number of observed entries).
    fixed : (k,) uint8 array; coordinates with ``fixed[j] != 0`` are not updated.
    n_steps : int, gradient steps per row.
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    n_tasks = (n_rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        for u in range(task, n_rows, n_tasks):   # see ROWS_PER_TASK
            cnt = indptr[u + 1] - indptr[u]
            r = penalty_scale(cnt, reg_scale, float(cnt))
            l1u = r * l1
            l2u = r * l2
            w = np.empty(k, dtype=np.float64)
            for a in range(k):
                w[a] = X[u, a]
            g = np.empty(k, dtype=np.float64)
            d = np.empty(k, dtype=np.float64)
            trial = np.empty(k, dtype=np.float64)
            for step in range(n_steps):
                f0 = 0.0
                for a in range(k):
                    if fixed[a]:
                        g[a] = 0.0
                    else:
                        g[a] = l2u * w[a] + l1u
                        f0 += l1u * w[a] + 0.5 * l2u * w[a] * w[a]
                for p in range(indptr[u], indptr[u + 1]):
                    i = indices[p]
                    r = row_dot(w, Y, i, k) - data[p]
                    f0 += 0.5 * r * r
                    for a in range(k):
                        g[a] += r * Y[i, a]
                gd = 0.0
                dd = 0.0
                for a in range(k):
                    if fixed[a] or (w[a] <= 0.0 and g[a] > 0.0):
                        d[a] = 0.0
                    else:
                        d[a] = -g[a]
                    gd += g[a] * d[a]
                    if not fixed[a]:
                        dd += d[a] * d[a]
                if gd >= 0.0:
                    break  # projected gradient is zero: this row is stationary
                curv = l2u * dd
                for p in range(indptr[u], indptr[u + 1]):
                    s = row_dot(d, Y, indices[p], k)
                    curv += s * s
                if curv <= 0.0:
                    break
                alpha = -gd / curv
                accepted = False
                for attempt in range(30):
                    for a in range(k):
                        v = w[a] + alpha * d[a]
                        trial[a] = v if v > 0.0 else 0.0
                    f1 = _row_value(indptr, indices, data, u, trial, Y, l1u, l2u, fixed)
                    if f1 <= f0:
                        accepted = True
                        break
                    alpha *= 0.5
                if not accepted:
                    break
                for a in range(k):
                    w[a] = trial[a]
            for a in range(k):
                X[u, a] = w[a]

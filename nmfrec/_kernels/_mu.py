"""Masked multiplicative updates (Lee & Seung 2001, masked as in Zhang et al. 2006).

With Y fixed, every free coordinate of row u is multiplied at once by

    w_j <- max(floor, w_j * num_j / (den_j + eps)),

    explicit:  num = sum_{Omega_u} x_ui y_i,
               den = sum_{Omega_u} s_ui y_i + r_u (l2 w + l1),
    implicit:  num = sum_{Omega_u} c_ui t_ui y_i,      (c = 1 + alpha x, t = 1 or x)
               den = m (Y^T Y) w + sum_{Omega_u} (c_ui - m) s_ui y_i + r_u (l2 w + l1),

with s_ui = w . y_i, that is ``W <- W * ((M*X) Y) / ((M*(W Y^T)) Y + l2 W + l1 + eps)``
restricted to the observed entries, O(|Omega_u| k) per row (plus k^2 for implicit).
Rows come in tasks (see ``ROWS_PER_TASK``) that allocate their buffers once; the sums are
allowed to re-associate (``FASTMATH``) so that they vectorize.
The update minimises a separable convex majorizer of the row objective, so F never
increases; clipping at ``floor`` moves a coordinate to a point between its old value and
the majorizer's minimiser, which keeps that guarantee, while stopping a coordinate from
locking at exactly zero.
"""

import numpy as np
from numba import njit, prange

from ._common import (FASTMATH, ROWS_PER_TASK, implicit_weights, penalty_scale, row_dot,
                      row_weight)


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def mu_update_rows(indptr, indices, data, X, Y, YtY, implicit, alpha, l1, l2, reg_scale,
                   fixed, eps, floor, missing_weight=1.0, preference_rating=False, n_other=-1):
    """One multiplicative update of every row of ``X`` against ``Y`` (in place).

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the observed matrix (or the CSC twin).
    X : (n_rows, k) float array, mutated; must be >= floor where not fixed.
    Y : (n_cols, k) float array.
    YtY : (k, k) float64 array, ``missing_weight * Y^T Y``; read only when ``implicit``.
    implicit, alpha : implicit-feedback objective and its confidence slope.
    missing_weight, preference_rating : weight of missing entries and target of observed
        ones (see :func:`nmfrec._kernels.als_update_rows`).
    l1, l2 : float, penalties on X.
    reg_scale, n_other : int, how row u's penalties are scaled, and the number of columns
        of the whole matrix (see :func:`nmfrec._kernels.als_update_rows`).
    fixed : (k,) uint8 array; coordinates with ``fixed[j] != 0`` are not updated.
    eps : float > 0, keeps the denominators positive.
    floor : float >= 0, lower bound for updated coordinates.
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    n_tasks = (n_rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        num = np.empty(k, dtype=np.float64)     # the task's buffers, reused by its rows
        den = np.empty(k, dtype=np.float64)
        for u in range(task, n_rows, n_tasks):     # see ROWS_PER_TASK
            num[:] = 0.0
            den[:] = 0.0
            xu = X[u]
            csum = 0.0
            for p in range(indptr[u], indptr[u + 1]):
                i = indices[p]
                pred = row_dot(xu, Y, i, k)
                x = data[p]
                if implicit:
                    c, cn = implicit_weights(x, alpha, preference_rating)
                    csum += c
                    cd = (c - missing_weight) * pred
                else:
                    cn = x
                    cd = pred
                for a in range(k):
                    num[a] += cn * Y[i, a]
                    den[a] += cd * Y[i, a]
            if implicit:
                for a in range(k):
                    s = 0.0
                    for c in range(k):
                        s += YtY[a, c] * X[u, c]
                    den[a] += s
            cnt = indptr[u + 1] - indptr[u]
            r = penalty_scale(cnt, reg_scale,
                              row_weight(csum, cnt, n_other if n_other >= 0 else Y.shape[0],
                                         implicit, missing_weight))
            for a in range(k):
                if fixed[a]:
                    continue
                wa = X[u, a]
                d = den[a] + r * (l2 * wa + l1) + eps
                new = wa * num[a] / d
                if new < floor:
                    new = floor
                X[u, a] = new

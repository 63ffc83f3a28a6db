"""Masked ALS by coordinate descent on the residuals, without per-row Gram matrices.

The same row problem as :mod:`._als` (see there for G and b), but each coordinate step

    w_j <- max(0, w_j - g_j / a_j)

gets its gradient ``g_j`` and curvature ``a_j`` from the row's predictions
``s_p = w . y_p`` (kept up to date after every move) instead of from the k x k matrix G:

    explicit:  g_j = sum_p (s_p - x_p) y_pj + r (l2 w_j + l1),
               a_j = sum_p y_pj^2 + r l2
    implicit:  g_j = m (Y^T Y w)_j + sum_p ((c_p - m) s_p - c_p t_p) y_pj + r (l2 w_j + l1),
               a_j = m (Y^T Y)_jj + sum_p (c_p - m) y_pj^2 + r l2,
               c_p = 1 + alpha x_p, t_p = 1 (or x_p with preference_rating), m = missing_weight

(Pilaszy, Zibriczky & Tikk 2010; He et al. 2016, "eALS"). A sweep costs
O(|Omega_u| k + k^2) instead of the O(|Omega_u| k^2) of forming G, which is what makes
implicit feedback (where every row also carries Y^T Y) and large ranks cheap. Every step
exactly minimises the row objective in one coordinate: the objective never increases.
Rows are independent: parallel over rows, deterministic for any thread count.
"""

import numpy as np
from numba import njit, prange

from ._common import implicit_weights, penalty_scale


@njit(parallel=True, cache=True)
def cd_update_rows(indptr, indices, data, X, Y, YtY, implicit, alpha, l1, l2, reg_scale_count,
                   fixed, n_sweeps, missing_weight=1.0, preference_rating=False):
    """``n_sweeps`` coordinate-descent sweeps on every row of ``X`` against ``Y`` (in place).

    Parameters are those of :func:`nmfrec._kernels.als_update_rows`, except ``n_sweeps``
    (sweeps per row, warm-started from the current row; no early stop, so the work is
    fixed and the result does not depend on a tolerance). With implicit feedback ``YtY``
    must already carry the missing-entry weight (``missing_weight * Y^T Y``).
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    for u in prange(n_rows):
        start = indptr[u]
        cnt = indptr[u + 1] - start
        # the row's column factors, transposed so that a coordinate's values are contiguous
        Yt = np.empty((k, cnt), dtype=np.float64)
        e = np.empty(cnt, dtype=np.float64)    # weight of (s - target) in the gradient
        t = np.empty(cnt, dtype=np.float64)    # weighted target
        for p in range(cnt):
            i = indices[start + p]
            x = data[start + p]
            if implicit:
                c, ct = implicit_weights(x, alpha, preference_rating)
                e[p] = c - missing_weight      # confidence beyond the missing-entry weight
                t[p] = ct                      # c * p
            else:
                e[p] = 1.0
                t[p] = x
            for a in range(k):
                Yt[a, p] = Y[i, a]
        r = penalty_scale(cnt, reg_scale_count)
        l1u = r * l1
        l2u = r * l2
        w = np.empty(k, dtype=np.float64)
        for a in range(k):
            w[a] = X[u, a]
        s = np.zeros(cnt, dtype=np.float64)
        for a in range(k):
            wa = w[a]
            if wa != 0.0:
                for p in range(cnt):
                    s[p] += wa * Yt[a, p]
        curv = np.empty(k, dtype=np.float64)
        for a in range(k):
            acc = l2u
            if implicit:
                acc += YtY[a, a]
            for p in range(cnt):
                acc += e[p] * Yt[a, p] * Yt[a, p]
            curv[a] = acc
        q = np.zeros(k, dtype=np.float64)      # Y^T Y w (implicit only)
        if implicit:
            for a in range(k):
                acc = 0.0
                for c in range(k):
                    acc += YtY[a, c] * w[c]
                q[a] = acc
        for sweep in range(n_sweeps):
            for j in range(k):
                if fixed[j]:
                    continue
                g = l2u * w[j] + l1u
                if implicit:
                    g += q[j]
                for p in range(cnt):
                    g += (e[p] * s[p] - t[p]) * Yt[j, p]
                if curv[j] <= 0.0:
                    new = 0.0   # every y_pj is 0 and l2 = 0: the objective is flat or rising in w_j
                else:
                    new = w[j] - g / curv[j]
                    if new < 0.0:
                        new = 0.0
                delta = new - w[j]
                if delta != 0.0:
                    w[j] = new
                    for p in range(cnt):
                        s[p] += delta * Yt[j, p]
                    if implicit:
                        for a in range(k):
                            q[a] += delta * YtY[a, j]
        for a in range(k):
            X[u, a] = w[a]

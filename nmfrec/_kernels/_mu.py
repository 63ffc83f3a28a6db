"""Masked multiplicative updates (Lee & Seung 2001, masked as in Zhang et al. 2006).

With Y fixed, every free coordinate of row u is multiplied at once by

    w_j <- max(floor, w_j * num_j / (den_j + eps)),

    explicit:  num = sum_{Omega_u} x_ui y_i,
               den = sum_{Omega_u} s_ui y_i + r_u (l2 w + l1),
    implicit:  num = sum_{Omega_u} c_ui t_ui y_i,      (c = 1 + alpha x, t = 1 or x)
               den = m (Y^T Y) w + sum_{Omega_u} (c_ui - m) s_ui y_i + r_u (l2 w + l1),

with s_ui = w . y_i, that is ``W <- W * ((M*X) Y) / ((M*(W Y^T)) Y + l2 W + l1 + eps)``
restricted to the observed entries, O(|Omega_u| k) per row (plus k^2 for implicit).
The update minimises a separable convex majorizer of the row objective, so F never
increases; clipping at ``floor`` moves a coordinate to a point between its old value and
the majorizer's minimiser, which keeps that guarantee, while stopping a coordinate from
locking at exactly zero.
"""

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def mu_update_rows(indptr, indices, data, X, Y, YtY, implicit, alpha, l1, l2, scale_by_count,
                   fixed, eps, floor, miss_w=1.0, rating_target=False):
    """One multiplicative update of every row of ``X`` against ``Y`` (in place).

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the observed matrix (or the CSC twin).
    X : (n_rows, k) float array, mutated; must be >= floor where not fixed.
    Y : (n_cols, k) float array.
    YtY : (k, k) float64 array, ``miss_w * Y^T Y``; read only when ``implicit``.
    implicit, alpha : implicit-feedback objective and its confidence slope.
    miss_w, rating_target : weight of missing entries and target of observed ones
        (see :func:`nmfrec._kernels.als_update_rows`).
    l1, l2 : float, penalties on X.
    scale_by_count : bool, multiply row u's penalties by its number of observed entries.
    fixed : (k,) uint8 array; coordinates with ``fixed[j] != 0`` are not updated.
    eps : float > 0, keeps the denominators positive.
    floor : float >= 0, lower bound for updated coordinates.
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    for u in prange(n_rows):
        num = np.zeros(k, dtype=np.float64)
        den = np.zeros(k, dtype=np.float64)
        for p in range(indptr[u], indptr[u + 1]):
            i = indices[p]
            pred = 0.0
            for a in range(k):
                pred += X[u, a] * Y[i, a]
            x = data[p]
            if implicit:
                c = 1.0 + alpha * x
                cn = c * x if rating_target else c
                cd = (c - miss_w) * pred
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
        r = float(indptr[u + 1] - indptr[u]) if scale_by_count else 1.0
        for a in range(k):
            if fixed[a]:
                continue
            wa = X[u, a]
            d = den[a] + r * (l2 * wa + l1) + eps
            new = wa * num[a] / d
            if new < floor:
                new = floor
            X[u, a] = new

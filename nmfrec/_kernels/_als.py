"""Masked ALS: one regularized non-negative least-squares problem per row.

For row u with the other side's factors Y fixed (rows y_i), minimise over w >= 0

    1/2 sum_{i in Omega_u} c_ui (t_ui - w . y_i)^2 [+ 1/2 sum_{i not in Omega_u} (w . y_i)^2]
        + r_u (l1 sum(w) + 1/2 l2 ||w||^2)
  = 1/2 w^T G w - b^T w + const,

    explicit:  c = 1, t = x,           G = sum_{Omega_u} y_i y_i^T + r_u l2 I
    implicit:  c = 1 + alpha x, t = 1 (or x), G = m Y^T Y + sum_{Omega_u} (c_ui - m) y_i y_i^T + r_u l2 I
               (the Gram trick: every missing entry is a zero of confidence m = missing_weight)
    b = sum_{Omega_u} c_ui t_ui y_i - r_u l1,   r_u: see ``reg_scale`` (1 by default),

by cyclic coordinate descent, warm-started from the current row:

    w_j <- max(0, w_j - (G w - b)_j / G_jj).

Each coordinate step exactly minimises the row objective in w_j, so the objective never
increases. Rows are independent given Y: the loop is parallel over rows and every row is
written by one iteration only, which makes results independent of the thread count.
"""

import numpy as np
from numba import njit, prange

from ._common import ROWS_PER_TASK, implicit_weights, penalty_scale, row_weight


@njit(cache=True)
def _cd_solve(G, b, w, fixed, max_sweeps, tol):
    """Coordinate descent on 1/2 w'Gw - b'w, w >= 0, in place. Returns sweeps done.

    ``fixed[j] != 0`` keeps w_j unchanged (used for the constant columns that pair
    with bias terms). Stops when the largest change in a sweep is at most
    ``tol * max|w|``.
    """
    k = w.shape[0]
    # gradient g = G w - b, kept up to date after every coordinate move
    g = np.empty(k, dtype=np.float64)
    for a in range(k):
        s = -b[a]
        for c in range(k):
            s += G[a, c] * w[c]
        g[a] = s
    sweeps = 0
    for sweep in range(max_sweeps):
        sweeps += 1
        max_delta = 0.0
        max_w = 0.0
        for j in range(k):
            if fixed[j]:
                continue
            wj = w[j]
            gjj = G[j, j]
            if gjj <= 0.0:
                # G_jj = 0 means every y_ij on this row's support is 0, so G[j, :] = 0 and
                # b_j = -l1 <= 0: the row objective is non-decreasing in w_j, 0 is optimal.
                new = 0.0
            else:
                new = wj - g[j] / gjj
                if new < 0.0:
                    new = 0.0
            delta = new - wj
            if delta != 0.0:
                w[j] = new
                for a in range(k):
                    g[a] += delta * G[a, j]
                ad = abs(delta)
                if ad > max_delta:
                    max_delta = ad
            if new > max_w:
                max_w = new
        if max_delta <= tol * max_w:
            break
    return sweeps


@njit(parallel=True, cache=True)
def als_update_rows(indptr, indices, data, X, Y, YtY, implicit, alpha, l1, l2, reg_scale,
                    fixed, max_sweeps, tol, missing_weight=1.0, preference_rating=False,
                    n_other=-1):
    """Update every row of ``X`` by its regularized NNLS against ``Y`` (in place).

    Parameters
    ----------
    indptr, indices, data : CSR arrays (rows of X) or the CSC arrays (rows of Y^T).
    X : (n_rows, k) C-contiguous float array, mutated.
    Y : (n_cols, k) C-contiguous float array, read only.
    YtY : (k, k) float64 array, ``missing_weight * Y^T Y``; read only when ``implicit``.
    implicit : bool, implicit-feedback objective (see module docstring).
    alpha : float, confidence slope of implicit feedback, c = 1 + alpha x.
    l1, l2 : float, penalties on X.
    reg_scale : int, how row u's penalties are scaled: ``REG_NONE`` (0, as given),
        ``REG_COUNT`` (1, times its number of observed entries) or ``REG_WEIGHT`` (2, times
        the total weight of its cells; see :func:`._common.penalty_scale`).
    fixed : (k,) uint8 array; coordinates with ``fixed[j] != 0`` are not updated.
    max_sweeps : int, coordinate-descent sweeps per row (warm-started).
    tol : float, per-row stopping tolerance on the largest coordinate change.
    missing_weight : float in (0, 1], weight of every missing entry (implicit; 1 in Hu et al.).
    preference_rating : bool, fit observed entries to their rating instead of to 1
        (implicit, ``preference="rating"``; Steck 2010's weighted zeros).
    n_other : int, the number of columns of the whole matrix, for a row's weight under
        ``REG_WEIGHT`` (-1: ``Y.shape[0]``; a block of a distributed fit holds only the
        columns its rows touch).

    Returns
    -------
    total_sweeps : int, summed over rows (a cost measure).
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    counts = np.zeros(n_rows, dtype=np.int64)
    n_tasks = (n_rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        for u in range(task, n_rows, n_tasks):   # see ROWS_PER_TASK
            start = indptr[u]
            cnt = indptr[u + 1] - start
            # Gather the row's observed columns into a contiguous block so the Gram matrix
            # is one BLAS product (G = Ys^T Ys), the nnz * k^2 work that dominates ALS.
            Ys = np.empty((cnt, k), dtype=np.float64)
            xs = np.empty(cnt, dtype=np.float64)
            csum = 0.0
            for p in range(cnt):
                i = indices[start + p]
                x = data[p + start]
                if implicit:
                    # G gets (c - m) y y^T: scale the gathered row by sqrt(c - m); b gets c t y
                    c, ct = implicit_weights(x, alpha, preference_rating)
                    csum += c
                    sw = np.sqrt(c - missing_weight) if c > missing_weight else 0.0
                    xs[p] = ct / sw if sw > 0.0 else 0.0
                    for a in range(k):
                        Ys[p, a] = sw * Y[i, a]
                else:
                    xs[p] = x
                    for a in range(k):
                        Ys[p, a] = Y[i, a]
            G = np.dot(Ys.T, Ys)
            b = np.dot(Ys.T, xs)
            if implicit:
                for p in range(cnt):
                    c, ct = implicit_weights(data[start + p], alpha, preference_rating)
                    if not c > missing_weight:  # no confidence beyond m: its c t y still counts in b
                        i = indices[start + p]
                        for a in range(k):
                            b[a] += ct * Y[i, a]
                for a in range(k):
                    for c in range(k):
                        G[a, c] += YtY[a, c]
            r = penalty_scale(cnt, reg_scale,
                              row_weight(csum, cnt, n_other if n_other >= 0 else Y.shape[0],
                                         implicit, missing_weight))
            for a in range(k):
                # L2 regularization adds to the diagonal of the Gram matrix; L1 shifts b
                G[a, a] += r * l2
                b[a] -= r * l1
            w = np.empty(k, dtype=np.float64)
            for a in range(k):
                w[a] = X[u, a]
            counts[u] = _cd_solve(G, b, w, fixed, max_sweeps, tol)
            for a in range(k):
                X[u, a] = w[a]
    return counts.sum()

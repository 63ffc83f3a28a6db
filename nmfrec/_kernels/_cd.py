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

Speed: rows are handled in tasks of about ``ROWS_PER_TASK`` rows, task t taking rows t,
t + n_tasks, ... (see ``ROWS_PER_TASK``); a task allocates its work buffers once, sized
for its longest row, so no row allocates. A row's column
factors are gathered transposed (coordinate-major), so every inner loop runs over
contiguous memory, and the kernel is compiled with re-association allowed (``reassoc``,
``contract``) so that the long sums over a row's entries vectorize. Per-entry arrays
(the gathered factors and the predictions) are in the factors' dtype, sums are
accumulated in float64. Results are still independent of the thread count: each row is
computed by one iteration, in one fixed order of operations.

With ``out_loss``, each row's data term after its update is written there (see
:func:`nmfrec._kernels.row_sq_errors`), computed from the predictions the sweep already
holds: in the column half-step this gives the objective for almost nothing.
"""

import numpy as np
from numba import njit, prange

from ._common import FASTMATH, ROWS_PER_TASK, implicit_weights, penalty_scale, row_weight


@njit(inline="always")
def _gather_transposed(indices, start, cnt, Y, Yt):
    """``Yt[a * cnt + p] = Y[indices[start + p], a]``: a row's column factors,
    coordinate-major, written in runs of 8 consecutive entries (7% faster than one entry
    at a time on ml-100k, k = 82)."""
    k = Y.shape[1]
    p0 = 0
    while p0 + 8 <= cnt:
        i0 = indices[start + p0]
        i1 = indices[start + p0 + 1]
        i2 = indices[start + p0 + 2]
        i3 = indices[start + p0 + 3]
        i4 = indices[start + p0 + 4]
        i5 = indices[start + p0 + 5]
        i6 = indices[start + p0 + 6]
        i7 = indices[start + p0 + 7]
        for a in range(k):
            o = a * cnt + p0
            Yt[o] = Y[i0, a]
            Yt[o + 1] = Y[i1, a]
            Yt[o + 2] = Y[i2, a]
            Yt[o + 3] = Y[i3, a]
            Yt[o + 4] = Y[i4, a]
            Yt[o + 5] = Y[i5, a]
            Yt[o + 6] = Y[i6, a]
            Yt[o + 7] = Y[i7, a]
        p0 += 8
    for p in range(p0, cnt):
        i = indices[start + p]
        for a in range(k):
            Yt[a * cnt + p] = Y[i, a]


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def cd_update_rows(indptr, indices, data, X, Y, YtY, implicit, alpha, l1, l2, reg_scale,
                   fixed, n_sweeps, missing_weight=1.0, preference_rating=False, out_loss=None,
                   n_other=-1):
    """``n_sweeps`` coordinate-descent sweeps on every row of ``X`` against ``Y`` (in place).

    Parameters are those of :func:`nmfrec._kernels.als_update_rows` (``n_other`` too),
    except ``n_sweeps``
    (sweeps per row, warm-started from the current row; no early stop, so the work is
    fixed and the result does not depend on a tolerance) and ``out_loss``. With implicit
    feedback ``YtY`` must already carry the missing-entry weight (``missing_weight *
    Y^T Y``), as a symmetric float64 array. ``X`` and ``Y`` share one dtype.

    out_loss : (n_rows,) float64 array, optional
        Receives each row's data term after the update: ``sum_p (x_p - s_p)^2``
        (explicit) or ``sum_p (c_p (t_p - s_p)^2 - m s_p^2)`` (implicit), the per-row
        sum that :func:`nmfrec._kernels.row_sq_errors` computes, from the updated
        predictions (equal to it up to rounding).
    """
    n_rows = X.shape[0]
    k = X.shape[1]
    n_tasks = (n_rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        # the task's rows: task, task + n_tasks, ... (see ROWS_PER_TASK)
        nr = (n_rows - task + n_tasks - 1) // n_tasks
        longest = 0
        for u in range(task, n_rows, n_tasks):
            longest = max(longest, indptr[u + 1] - indptr[u])
        # the task's buffers, reused by each of its rows
        Yt = np.empty(k * longest, dtype=X.dtype)   # row's column factors, coordinate-major
        s = np.empty(longest, dtype=X.dtype)        # predictions w . y_p
        e = np.empty(longest, dtype=X.dtype)        # weight of (s - target) in the gradient
        t = np.empty(longest, dtype=X.dtype)        # weighted target
        curv = np.empty(k, dtype=np.float64)
        # the task's rows in float64 and, for implicit feedback, their q = m Y^T Y w in
        # one BLAS product
        Wt = np.empty((nr, k), dtype=np.float64)
        for r_ in range(nr):
            for a in range(k):
                Wt[r_, a] = X[task + r_ * n_tasks, a]
        Q = np.dot(Wt, YtY) if implicit else Wt     # (explicit: q is never read)
        for r_ in range(nr):
            u = task + r_ * n_tasks
            w = Wt[r_]
            q = Q[r_]
            start = indptr[u]
            cnt = indptr[u + 1] - start
            for a in range(k):
                curv[a] = YtY[a, a] if implicit else 0.0
            csum = 0.0
            # one pass over the row's entries: the predictions s_p = w . y_p and the
            # curvatures sum_p e_p y_pa^2
            for p in range(cnt):
                i = indices[start + p]
                x = data[start + p]
                if implicit:
                    c, ct = implicit_weights(x, alpha, preference_rating)
                    csum += c
                    ep = c - missing_weight        # confidence beyond the missing-entry weight
                    t[p] = ct                      # c * preference
                else:
                    ep = 1.0
                    t[p] = x
                e[p] = ep
                acc = 0.0
                for a in range(k):
                    y = Y[i, a]
                    acc += w[a] * y
                    curv[a] += ep * y * y
                s[p] = acc
            r = penalty_scale(cnt, reg_scale,
                              row_weight(csum, cnt, n_other if n_other >= 0 else Y.shape[0],
                                         implicit, missing_weight))
            l1u = r * l1
            l2u = r * l2
            for a in range(k):
                curv[a] += l2u
            _gather_transposed(indices, start, cnt, Y, Yt)
            for sweep in range(n_sweeps):
                for j in range(k):
                    if fixed[j]:
                        continue
                    base = j * cnt
                    acc = 0.0
                    for p in range(cnt):
                        acc += (e[p] * s[p] - t[p]) * Yt[base + p]
                    g = acc + l2u * w[j] + l1u
                    if implicit:
                        g += q[j]
                    if curv[j] <= 0.0:
                        new = 0.0   # every y_pj is 0 and l2 = 0: the objective is flat or rising
                    else:
                        new = w[j] - g / curv[j]
                        if new < 0.0:
                            new = 0.0
                    delta = new - w[j]
                    if delta != 0.0:
                        w[j] = new
                        for p in range(cnt):
                            s[p] += delta * Yt[base + p]
                        if implicit:
                            for a in range(k):
                                q[a] += delta * YtY[j, a]    # YtY is symmetric: row j
            for a in range(k):
                X[u, a] = w[a]
            if out_loss is not None:
                acc = 0.0
                for p in range(cnt):
                    sp = np.float64(s[p])
                    x = np.float64(data[start + p])
                    if implicit:
                        c = 1.0 + alpha * x
                        pref = x if preference_rating else 1.0
                        d = pref - sp
                        acc += c * d * d - missing_weight * sp * sp
                    else:
                        d = x - sp
                        acc += d * d
                out_loss[u] = acc

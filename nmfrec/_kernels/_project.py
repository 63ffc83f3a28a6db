"""The non-negative point closest to a given one in a quadratic metric."""

import numpy as np
from numba import njit


@njit(cache=True)
def project_nonneg(A, z, max_sweeps, tol):
    """``argmin_{w >= 0} 1/2 (w - z)^T A (w - z)``, by coordinate descent from ``max(z, 0)``.

    ``A`` is symmetric positive definite (k, k), ``z`` (k,), both float64. Each step
    ``w_j <- max(0, w_j - g_j / A_jj)`` with ``g = A (w - z)`` exactly minimises the
    quadratic in one coordinate; sweeps stop when no coordinate moves by more than
    ``tol`` (or after ``max_sweeps``). Returns a new array. Where ``z >= 0`` the answer is
    ``z`` itself.
    """
    k = z.size
    w = np.empty(k)
    for j in range(k):
        w[j] = z[j] if z[j] > 0.0 else 0.0
    d = w - z
    g = A @ d
    for _ in range(max_sweeps):
        moved = 0.0
        for j in range(k):
            if A[j, j] <= 0.0:
                continue
            new = w[j] - g[j] / A[j, j]
            if new < 0.0:
                new = 0.0
            delta = new - w[j]
            if delta != 0.0:
                w[j] = new
                for a in range(k):
                    g[a] += delta * A[a, j]
                if abs(delta) > moved:
                    moved = abs(delta)
        if moved <= tol:
            break
    return w

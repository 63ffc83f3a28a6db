"""Dense NumPy references (NaN = missing) that the kernels and the estimator are checked
against. Deliberately naive: readable loops and dense arrays, small inputs only."""

import numpy as np
from scipy.optimize import nnls


def dense_objective(X, W, H, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0):
    """F(W, H) with X dense, NaN where missing; H is (k, n)."""
    M = ~np.isnan(X)
    R = np.where(M, X - W @ H, 0.0)
    return (0.5 * np.sum(R ** 2) + l1_W * W.sum() + 0.5 * l2_W * np.sum(W ** 2)
            + l1_H * H.sum() + 0.5 * l2_H * np.sum(H ** 2))


def nnls_row(x_obs, H_obs, l2=0.0):
    """argmin_{w>=0} 1/2 ||x_obs - w H_obs||^2 + 1/2 l2 ||w||^2 by scipy's active-set NNLS.

    H_obs is (k, n_obs). L2 enters as extra rows sqrt(l2) I of the design matrix.
    """
    k = H_obs.shape[0]
    A = H_obs.T
    b = np.asarray(x_obs, dtype=float)
    if l2 > 0:
        A = np.vstack([A, np.sqrt(l2) * np.eye(k)])
        b = np.concatenate([b, np.zeros(k)])
    if A.shape[0] == 0:
        return np.zeros(k)
    w, _ = nnls(A, b, maxiter=50 * k)
    return w


def dense_mu_step_W(X, W, H, l1=0.0, l2=0.0, eps=1e-12):
    """One masked Lee-Seung update of W (no floor): W * ((M*X) H^T) / ((M*WH) H^T + l2 W + l1 + eps)."""
    M = ~np.isnan(X)
    X0 = np.where(M, X, 0.0)
    num = X0 @ H.T
    den = (M * (W @ H)) @ H.T + l2 * W + l1 + eps
    return W * num / den


def random_masked(rng, m, n, density, k=3, scale=1.0):
    """A random non-negative low-rank matrix with NaN for unobserved entries."""
    X = scale * (rng.random((m, k)) @ rng.random((k, n)))
    X[rng.random((m, n)) >= density] = np.nan
    return X


def dense_objective_implicit(X, W, H, alpha, l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0,
                             miss_w=1.0, rating_target=False):
    """1/2 sum_{u,i} c (p - WH)^2 + penalties; where observed p = 1 (or x), c = 1 + alpha x;
    elsewhere p = 0, c = miss_w."""
    M = ~np.isnan(X)
    P = np.where(M, np.nan_to_num(X), 0.0) if rating_target else M.astype(float)
    C = np.where(M, 1.0 + alpha * np.nan_to_num(X), miss_w)
    return (0.5 * np.sum(C * (P - W @ H) ** 2) + l1_W * W.sum() + 0.5 * l2_W * np.sum(W ** 2)
            + l1_H * H.sum() + 0.5 * l2_H * np.sum(H ** 2))


def weighted_nnls_row(target, weights, H, l2=0.0):
    """argmin_{w>=0} 1/2 sum_i c_i (t_i - w.h_i)^2 + 1/2 l2 ||w||^2 (H is (k, n))."""
    s = np.sqrt(weights)
    return nnls_row(s * target, H * s, l2)

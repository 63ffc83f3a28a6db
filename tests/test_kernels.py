"""The Numba kernels against dense NumPy references."""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfrec import _kernels as K
from nmfrec.nmf import penalty_scales
from nmfrec.ratings import RatingsMatrix

from _reference import dense_mu_step_W, dense_objective, nnls_row, random_masked


@pytest.fixture
def problem():
    rng = np.random.default_rng(7)
    X = random_masked(rng, 30, 20, 0.4, k=3)
    X[0, :] = np.nan          # a user with no observations
    X[:, 1] = np.nan          # an item with no observations
    R = RatingsMatrix.from_dense(X)
    W = rng.random((30, 4))
    H = rng.random((4, 20))
    return X, R, W, H


def test_objective_matches_dense_reference(problem):
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T)
    f, sq = K.objective(R.csr.indptr, R.csr.indices, R.csr.data, W, Ht, 0.3, 0.7, 0.2, 1.1)
    assert f == pytest.approx(dense_objective(X, W, H, 0.3, 0.7, 0.2, 1.1), rel=1e-12)
    assert sq == pytest.approx(2 * dense_objective(X, W, H), rel=1e-12)


def test_dot_pairs_matches_matrix_product(problem):
    _, _, W, H = problem
    rows = np.array([0, 5, 29, 5], dtype=np.int64)
    cols = np.array([3, 0, 19, 3], dtype=np.int64)
    out = np.empty(4)
    K.dot_pairs(rows, cols, W, np.ascontiguousarray(H.T), out)
    np.testing.assert_allclose(out, (W @ H)[rows, cols], rtol=1e-13)


@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_als_rows_equal_scipy_nnls(problem, l2):
    X, R, W, H = problem
    W = W.copy()
    Ht = np.ascontiguousarray(H.T)
    fixed = np.zeros(4, dtype=np.uint8)
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W, Ht, np.zeros((1, 1)), False, 0.0, 0.0, l2, K.REG_NONE, fixed, 5000, 1e-14)
    for u in range(X.shape[0]):
        obs = ~np.isnan(X[u])
        ref = nnls_row(X[u, obs], H[:, obs], l2)
        np.testing.assert_allclose(W[u], ref, atol=1e-7)


def test_als_item_side_is_the_same_kernel_on_csc(problem):
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T).copy()
    fixed = np.zeros(4, dtype=np.uint8)
    K.als_update_rows(R.csc.indptr, R.csc.indices, R.csc.data, Ht, W, np.zeros((1, 1)), False, 0.0, 0.0, 0.2, K.REG_NONE, fixed, 5000, 1e-14)
    for i in range(X.shape[1]):
        obs = ~np.isnan(X[:, i])
        ref = nnls_row(X[obs, i], W[obs].T, 0.2)
        np.testing.assert_allclose(Ht[i], ref, atol=1e-7)


def test_als_l1_gives_the_kkt_point(problem):
    """With L1 the row solution satisfies the KKT conditions of the penalized NNLS."""
    X, R, W, H = problem
    W = W.copy()
    Ht = np.ascontiguousarray(H.T)
    l1, l2 = 0.4, 0.1
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W, Ht, np.zeros((1, 1)), False, 0.0, l1, l2, K.REG_NONE,
                      np.zeros(4, dtype=np.uint8), 5000, 1e-14)
    for u in range(1, X.shape[0]):
        obs = ~np.isnan(X[u])
        Hs = H[:, obs]
        grad = Hs @ (W[u] @ Hs - X[u, obs]) + l2 * W[u] + l1
        pos = W[u] > 0
        np.testing.assert_allclose(grad[pos], 0, atol=1e-7)
        assert np.all(grad[~pos] >= -1e-7)


def test_als_fixed_coordinates_do_not_move(problem):
    X, R, W, H = problem
    W2 = W.copy()
    fixed = np.array([0, 1, 0, 1], dtype=np.uint8)
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, np.ascontiguousarray(H.T),
                      np.zeros((1, 1)), False, 0.0, 0.0, 0.1, K.REG_NONE, fixed, 100, 1e-10)
    np.testing.assert_array_equal(W2[:, [1, 3]], W[:, [1, 3]])
    assert not np.allclose(W2[:, [0, 2]], W[:, [0, 2]])


@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.3, 0.5)])
def test_mu_step_matches_dense_formula(problem, l1, l2):
    X, R, W, H = problem
    W2 = W.copy()
    K.mu_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, np.ascontiguousarray(H.T),
                     np.zeros((1, 1)), False, 0.0, l1, l2, K.REG_NONE, np.zeros(4, dtype=np.uint8), 1e-12, 0.0)
    np.testing.assert_allclose(W2, dense_mu_step_W(X, W, H, l1, l2), rtol=1e-12, atol=1e-300)


def test_mu_floor_and_empty_rows(problem):
    X, R, W, H = problem
    W2 = W.copy()
    K.mu_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, np.ascontiguousarray(H.T),
                     np.zeros((1, 1)), False, 0.0, 0.0, 0.0, K.REG_NONE, np.zeros(4, dtype=np.uint8), 1e-12, 1e-10)
    # row 0 has no observations: the numerator is 0, the floor keeps it alive
    np.testing.assert_array_equal(W2[0], 1e-10)
    assert np.all(np.isfinite(W2))


@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.2, 0.3)])
def test_pgd_decreases_every_row_and_converges_to_nnls(problem, l1, l2):
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T)
    fixed = np.zeros(4, dtype=np.uint8)
    W1 = W.copy()
    K.pgd_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W1, Ht, l1, l2, K.REG_NONE, fixed, 1)
    f0 = dense_objective(X, W, H, l1, l2)
    f1 = dense_objective(X, W1, H, l1, l2)
    assert f1 < f0
    assert np.all(W1 >= 0)
    # many steps reach the row optimum (l1 = 0: scipy NNLS)
    if l1 == 0:
        W2 = W.copy()
        K.pgd_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, Ht, 0.0, l2, K.REG_NONE, fixed, 3000)
        for u in range(1, X.shape[0]):
            obs = ~np.isnan(X[u])
            ref = nnls_row(X[u, obs], H[:, obs], l2)
            np.testing.assert_allclose(W2[u], ref, atol=1e-5)


def test_kernels_accept_float32(problem):
    X, R, W, H = problem
    R32 = R.astype(np.float32)
    W32 = W.astype(np.float32)
    Ht32 = np.ascontiguousarray(H.T, dtype=np.float32)
    K.als_update_rows(R32.csr.indptr, R32.csr.indices, R32.csr.data, W32, Ht32, np.zeros((1, 1)), False, 0.0, 0.0, 0.1,
                      K.REG_NONE, np.zeros(4, dtype=np.uint8), 200, 1e-8)
    W64 = W.copy()
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W64, np.ascontiguousarray(H.T),
                      np.zeros((1, 1)), False, 0.0, 0.0, 0.1, K.REG_NONE, np.zeros(4, dtype=np.uint8), 200, 1e-8)
    assert W32.dtype == np.float32
    np.testing.assert_allclose(W32, W64, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ implicit feedback
from _reference import dense_objective_implicit, weighted_nnls_row  # noqa: E402


def test_implicit_objective_matches_dense_reference(problem):
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T)
    f, _ = K.objective(R.csr.indptr, R.csr.indices, R.csr.data, W, Ht, 0.3, 0.7, 0.2, 1.1,
                       implicit=True, alpha=2.5)
    assert f == pytest.approx(dense_objective_implicit(X, W, H, 2.5, 0.3, 0.7, 0.2, 1.1), rel=1e-12)


def test_implicit_als_rows_equal_weighted_nnls(problem):
    X, R, W, H = problem
    W = W.copy()
    Ht = np.ascontiguousarray(H.T)
    alpha, l2 = 3.0, 0.4
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W, Ht, K.gram(Ht), True, alpha,
                      0.0, l2, K.REG_NONE, np.zeros(4, dtype=np.uint8), 5000, 1e-14)
    for u in range(X.shape[0]):
        obs = ~np.isnan(X[u])
        c = np.where(obs, 1 + alpha * np.nan_to_num(X[u]), 1.0)
        ref = weighted_nnls_row(obs.astype(float), c, H, l2)
        np.testing.assert_allclose(W[u], ref, atol=1e-7)


def test_implicit_mu_step_matches_dense_formula(problem):
    X, R, W, H = problem
    alpha, l1, l2 = 2.0, 0.1, 0.3
    W2 = W.copy()
    Ht = np.ascontiguousarray(H.T)
    K.mu_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, Ht, K.gram(Ht), True, alpha,
                     l1, l2, K.REG_NONE, np.zeros(4, dtype=np.uint8), 1e-12, 0.0)
    M = ~np.isnan(X)
    C = np.where(M, 1 + alpha * np.nan_to_num(X), 1.0)
    ref = W * ((C * M) @ H.T) / ((C * (W @ H)) @ H.T + l2 * W + l1 + 1e-12)
    np.testing.assert_allclose(W2, ref, rtol=1e-11)


# ------------------------------------------------------------------ count-scaled penalties
def test_count_scaled_penalties_equal_per_row_penalties(problem):
    X, R, W, H = problem
    W2 = W.copy()
    Ht = np.ascontiguousarray(H.T)
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, Ht, np.zeros((1, 1)), False, 0.0,
                      0.0, 0.25, K.REG_COUNT, np.zeros(4, dtype=np.uint8), 5000, 1e-14)
    counts = R.row_counts()
    for u in range(X.shape[0]):
        obs = ~np.isnan(X[u])
        np.testing.assert_allclose(W2[u], nnls_row(X[u, obs], H[:, obs], 0.25 * counts[u]), atol=1e-7)
    pen = K.penalty(W, 0.5, 0.25, row_scales=counts.astype(float))
    assert pen == pytest.approx(np.sum(counts * (0.5 * W.sum(1) + 0.125 * (W ** 2).sum(1))))
    fixed = np.array([1, 0, 0, 0], dtype=np.uint8)
    assert K.penalty(W, 0.5, 0.0, fixed=fixed) == pytest.approx(0.5 * W[:, 1:].sum())


# ------------------------------------------------------------------ residual coordinate descent
@pytest.mark.parametrize("implicit", [False, True])
def test_residual_cd_sweep_equals_the_gram_matrix_sweep(problem, implicit):
    """One sweep on the residuals is the same Gauss-Seidel step as one sweep on G."""
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T)
    fixed = np.array([0, 0, 1, 0], dtype=np.uint8)
    YtY = K.gram(Ht)
    a, b = W.copy(), W.copy()
    K.cd_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, a, Ht, YtY, implicit, 2.0,
                     0.1, 0.3, K.REG_COUNT, fixed, 1)
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, b, Ht, YtY, implicit, 2.0,
                      0.1, 0.3, K.REG_COUNT, fixed, 1, 0.0)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(a[:, 2], W[:, 2])


def test_residual_cd_converges_to_the_weighted_nnls(problem):
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T)
    W1 = W.copy()
    K.cd_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W1, Ht, K.gram(Ht), True, 3.0,
                     0.0, 0.4, K.REG_NONE, np.zeros(4, dtype=np.uint8), 3000)
    for u in range(X.shape[0]):
        obs = ~np.isnan(X[u])
        c = np.where(obs, 1 + 3.0 * np.nan_to_num(X[u]), 1.0)
        np.testing.assert_allclose(W1[u], weighted_nnls_row(obs.astype(float), c, H, 0.4), atol=1e-7)


# ------------------------------------------------------------------ weighted zeros (Steck 2010)
@pytest.mark.parametrize("rating_target", [False, True])
def test_weighted_zeros_objective_and_row_solves(problem, rating_target):
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T)
    m, alpha, l2 = 0.3, 0.5, 0.2
    f, _ = K.objective(R.csr.indptr, R.csr.indices, R.csr.data, W, Ht, 0.0, l2, 0.0, 0.0,
                       implicit=True, alpha=alpha, missing_weight=m,
                       preference_rating=rating_target)
    assert f == pytest.approx(dense_objective_implicit(X, W, H, alpha, 0.0, l2, 0.0, 0.0, m,
                                                       rating_target), rel=1e-12)
    fixed = np.zeros(4, dtype=np.uint8)
    a, b = W.copy(), W.copy()
    K.cd_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, a, Ht, m * K.gram(Ht), True, alpha,
                     0.0, l2, K.REG_NONE, fixed, 3000, m, rating_target)
    K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, b, Ht, m * K.gram(Ht), True, alpha,
                      0.0, l2, K.REG_NONE, fixed, 5000, 1e-14, m, rating_target)
    for u in range(X.shape[0]):
        obs = ~np.isnan(X[u])
        c = np.where(obs, 1 + alpha * np.nan_to_num(X[u]), m)
        target = np.where(obs, np.nan_to_num(X[u]), 0.0) if rating_target else obs.astype(float)
        ref = weighted_nnls_row(target, c, H, l2)
        np.testing.assert_allclose(a[u], ref, atol=1e-7)
        np.testing.assert_allclose(b[u], ref, atol=1e-7)
    # one MU step is the dense weighted formula
    W2 = W.copy()
    K.mu_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, Ht, m * K.gram(Ht), True, alpha,
                     0.0, l2, K.REG_NONE, fixed, 1e-12, 0.0, m, rating_target)
    M = ~np.isnan(X)
    C = np.where(M, 1 + alpha * np.nan_to_num(X), m)
    P = np.where(M, np.nan_to_num(X), 0.0) if rating_target else M.astype(float)
    ref = W * ((C * P) @ H.T) / ((C * (W @ H)) @ H.T + l2 * W + 1e-12)
    np.testing.assert_allclose(W2, ref, rtol=1e-11)


# ------------------------------------------------------------------ weight-scaled penalties
@pytest.mark.parametrize("kernel", ["als", "cd", "mu"])
def test_weight_scaled_penalties_are_each_rows_total_weight(problem, kernel):
    """reg_scale='weight': row u's penalty is times the weight of its cells in the
    objective, sum_obs (1 + alpha x) + m * (number of unobserved cells)."""
    X, R, W, H = problem
    Ht = np.ascontiguousarray(H.T)
    alpha, l2, m = 0.5, 0.05, 0.3
    obs = ~np.isnan(X)
    weight = np.where(obs, 1 + alpha * np.nan_to_num(X), m).sum(axis=1)
    rows, _ = penalty_scales(R, K.REG_WEIGHT, True, alpha, m)
    np.testing.assert_allclose(rows, weight, rtol=1e-12)
    W2 = W.copy()
    fixed = np.zeros(4, dtype=np.uint8)
    if kernel == "als":
        K.als_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, Ht, m * K.gram(Ht),
                          True, alpha, 0.0, l2, K.REG_WEIGHT, fixed, 5000, 1e-14, m, True)
    elif kernel == "cd":
        K.cd_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, Ht, m * K.gram(Ht),
                         True, alpha, 0.0, l2, K.REG_WEIGHT, fixed, 3000, m, True)
    if kernel in ("als", "cd"):
        for u in range(X.shape[0]):
            c = np.where(obs[u], 1 + alpha * np.nan_to_num(X[u]), m)
            target = np.where(obs[u], np.nan_to_num(X[u]), 0.0)
            ref = weighted_nnls_row(target, c, H, l2 * weight[u])
            np.testing.assert_allclose(W2[u], ref, atol=1e-7)
    else:
        K.mu_update_rows(R.csr.indptr, R.csr.indices, R.csr.data, W2, Ht, m * K.gram(Ht), True,
                         alpha, 0.0, l2, K.REG_WEIGHT, fixed, 1e-12, 0.0, m, True)
        C = np.where(obs, 1 + alpha * np.nan_to_num(X), m)
        T = np.where(obs, np.nan_to_num(X), 0.0)
        ref = W * ((C * T) @ H.T) / ((C * (W @ H)) @ H.T + l2 * weight[:, None] * W + 1e-12)
        np.testing.assert_allclose(W2, ref, rtol=1e-11)
    # explicit feedback: a row's weight is its number of ratings
    rows, cols = penalty_scales(R, K.REG_WEIGHT, False, alpha, m)
    np.testing.assert_array_equal(rows, R.row_counts())
    np.testing.assert_array_equal(cols, R.col_counts())

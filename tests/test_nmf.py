"""MaskedNMF against references: scikit-learn on fully observed data, NumPy, planted models."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmfrec import ConvergenceWarning, MaskedNMF, NotFittedError, RatingsMatrix
from nmfrec._init import initialize_components

from _reference import dense_objective, nnls_row, random_masked

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.decomposition import NMF  # noqa: E402
from sklearn.decomposition._nmf import _initialize_nmf  # noqa: E402  (testing internals)

SOLVERS = ["als", "mu", "pgd"]
INITS = ["random", "nndsvd", "nndsvda", "nndsvdar"]

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")


# ------------------------------------------------------------------ scikit-learn's example
def test_classic_sklearn_example_runs_with_one_changed_import():
    X = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    ours = MaskedNMF(n_components=2, init="random", random_state=0)
    W = ours.fit_transform(X)
    H = ours.components_
    ref = NMF(n_components=2, init="random", random_state=0)
    ref.fit_transform(X)
    assert W.shape == (3, 2) and H.shape == (2, 4)
    assert np.all(W >= 0) and np.all(H >= 0)
    assert ours.reconstruction_err_ <= ref.reconstruction_err_ + 1e-3
    assert ours.reconstruction_err_ == pytest.approx(np.linalg.norm(X - W @ H), rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------ fully observed vs sklearn
@pytest.fixture(scope="module")
def full_problem():
    rng = np.random.default_rng(0)
    X = rng.random((40, 5)) @ rng.random((5, 30)) + 0.1 * rng.random((40, 30))
    W0, H0 = _initialize_nmf(X, 6, init="random", random_state=0)
    return X, W0, H0


@pytest.mark.parametrize("solver,sk_solver", [("als", "cd"), ("mu", "mu"), ("pgd", "cd")])
@pytest.mark.parametrize("alpha,l1_ratio", [(0.0, 0.0), (0.01, 0.5), (0.02, 0.0)])
def test_reaches_sklearn_objective_from_the_same_start(full_problem, solver, sk_solver, alpha, l1_ratio):
    X, W0, H0 = full_problem
    m, n = X.shape
    ref = NMF(6, init="custom", solver=sk_solver, max_iter=1000, tol=1e-9,
              alpha_W=alpha, alpha_H=alpha, l1_ratio=l1_ratio)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Wr = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
    # the documented mapping of scikit-learn's alpha/l1_ratio onto l1_W, l2_W, l1_H, l2_H
    pen = dict(l1_W=alpha * l1_ratio * n, l2_W=alpha * (1 - l1_ratio) * n,
               l1_H=alpha * l1_ratio * m, l2_H=alpha * (1 - l1_ratio) * m)
    f_ref = dense_objective(X, Wr, ref.components_, *pen.values())
    ours = MaskedNMF(6, init="custom", solver=solver, max_iter=1000, tol=1e-9, **pen)
    ours.fit(X, W=W0, H=H0)
    f_ours = dense_objective(X, ours.W_, ours.components_, *pen.values())
    # the reported loss is the NumPy reference objective
    assert ours.loss_history_[-1] == pytest.approx(f_ours, rel=1e-10)
    assert ours.loss_history_[0] == pytest.approx(dense_objective(X, W0, H0, *pen.values()), rel=1e-10)
    assert f_ours <= 1.01 * f_ref


def test_mu_equals_sklearn_mu_step_by_step(full_problem):
    """Without penalties, masked MU on a full matrix is scikit-learn's MU (up to its EPS)."""
    X, W0, H0 = full_problem
    ref = NMF(6, init="custom", solver="mu", max_iter=20, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Wr = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
    ours = MaskedNMF(6, init="custom", solver="mu", max_iter=20, tol=0.0).fit(X, W=W0, H=H0)
    np.testing.assert_allclose(ours.W_, Wr, rtol=1e-6)
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=1e-6)


def test_nndsvd_init_is_sklearns_up_to_scale():
    rng = np.random.default_rng(1)
    X = rng.random((30, 4)) @ rng.random((4, 20))
    Wr, Hr = _initialize_nmf(X, 3, init="nndsvd")
    W, Ht = initialize_components(RatingsMatrix.from_dense(X), 3, "nndsvd", np.random.default_rng(0))
    c = np.sum(W * Wr) / np.sum(Wr * Wr)
    np.testing.assert_allclose(W, c * Wr, atol=1e-8)
    np.testing.assert_allclose(Ht.T, c * Hr, atol=1e-8)
    assert c == pytest.approx(1.0, abs=0.05)  # full data: the rescale barely moves it


# ------------------------------------------------------------------ planted recovery
@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(0)
    m, n, k, sigma = 2000, 1000, 8, 0.1
    Wt, Ht = rng.random((m, k)), rng.random((k, n))
    idx = rng.choice(m * n, size=m * n // 10 + 20000, replace=False)

    def noisy(ix):
        r, c = np.divmod(ix, n)
        return r, c, np.einsum("ij,ji->i", Wt[r], Ht[:, c]) + sigma * rng.standard_normal(ix.size)

    r, c, v = noisy(idx[: m * n // 10])
    X = sp.coo_matrix((np.maximum(v, 0), (r, c)), shape=(m, n))
    return X, noisy(idx[m * n // 10:]), sigma


@pytest.mark.slow
def test_planted_low_rank_is_recovered(planted):
    X, (rt, ct, vt), sigma = planted
    rmse = {}
    for solver, max_iter in (("als", 100), ("mu", 500), ("pgd", 300)):
        model = MaskedNMF(8, solver=solver, random_state=0, max_iter=max_iter, tol=1e-6).fit(X)
        rmse[solver] = np.sqrt(np.mean((model.predict_entries(rt, ct) - vt) ** 2))
    assert rmse["als"] <= 1.2 * sigma, rmse
    assert rmse["mu"] <= 1.15 * rmse["als"], rmse
    assert rmse["pgd"] <= 1.15 * rmse["als"], rmse


# ------------------------------------------------------------------ monotone objective
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 12), n=st.integers(1, 12),
       k=st.integers(1, 4), density=st.floats(0.1, 1.0),
       l1=st.sampled_from([0.0, 0.05, 0.5]), l2=st.sampled_from([0.0, 0.1, 1.0]),
       solver=st.sampled_from(SOLVERS), biases=st.booleans(),
       reg_scale=st.sampled_from(["none", "count"]), implicit=st.booleans(),
       missing_weight=st.sampled_from([1.0, 0.3]), preference=st.sampled_from(["binary", "rating"]))
def test_objective_never_increases(seed, m, n, k, density, l1, l2, solver, biases, reg_scale, implicit,
                                   missing_weight, preference):
    if implicit and solver == "pgd":
        implicit = False
    rng = np.random.default_rng(seed)
    X = random_masked(rng, m, n, density, k=2, scale=5.0)
    if np.all(np.isnan(X)):
        X[0, 0] = 1.0
    model = MaskedNMF(k, solver=solver, init="random", random_state=seed, max_iter=15, tol=0.0,
                      l1_W=l1, l2_W=l2, l1_H=l1 / 2, l2_H=2 * l2, user_bias=biases, item_bias=biases,
                      reg_scale=reg_scale, feedback="implicit" if implicit else "explicit", alpha=3.0,
                      missing_weight=missing_weight, preference=preference)
    model.fit(X)
    h = model.loss_history_
    assert np.all(np.isfinite(h)) and len(h) == 16
    assert np.all(np.diff(h) <= 1e-10 * np.maximum(1.0, np.abs(h[:-1]))), h
    assert np.all(model.W_ >= 0) and np.all(model.components_ >= 0)
    if not (biases or implicit or reg_scale == "count"):
        ref = dense_objective(X, model.W_, model.components_, l1, l2, l1 / 2, 2 * l2)
        assert h[-1] == pytest.approx(ref, rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------ the mask matters
def test_observed_zeros_are_observations():
    """Two taste groups: group-0 users rate items 0-4 with 5 and items 5-9 with 0.

    Treating the zeros as missing leaves only 5s, which a model fits by predicting 5
    everywhere; keeping them observed recovers the zeros.
    """
    X = np.zeros((20, 10))
    X[:10, :5] = 5.0
    X[10:, 5:] = 4.0
    rng = np.random.default_rng(0)
    mask = rng.random(X.shape) < 0.7
    observed = np.where(mask, X, np.nan)
    zeros_missing = np.where(mask & (X > 0), X, np.nan)
    held = ~mask & (X == 0)
    kw = dict(n_components=2, init="random", random_state=0, max_iter=300, tol=1e-8)
    good = MaskedNMF(**kw).fit(observed)
    bad = MaskedNMF(**kw).fit(zeros_missing)
    r, c = np.nonzero(held)
    err_good = np.sqrt(np.mean(good.predict_entries(r, c) ** 2))
    err_bad = np.sqrt(np.mean(bad.predict_entries(r, c) ** 2))
    assert err_good < 0.1
    assert err_bad > 1.0
    # the same zeros stored explicitly in a sparse matrix are observed too
    sparse = sp.coo_matrix((X[mask], np.nonzero(mask)), shape=X.shape)
    assert sparse.nnz == mask.sum()
    from_sparse = MaskedNMF(**kw).fit(sparse)
    np.testing.assert_allclose(from_sparse.W_, good.W_)


# ------------------------------------------------------------------ determinism and threads
@pytest.fixture(scope="module")
def medium():
    rng = np.random.default_rng(3)
    return sp.random(300, 200, density=0.1, random_state=3, format="csr",
                     data_rvs=lambda s: rng.integers(1, 6, s).astype(float))


@pytest.mark.parametrize("solver", SOLVERS)
def test_same_seed_gives_identical_factors(medium, solver):
    a = MaskedNMF(5, solver=solver, init="random", random_state=42, max_iter=20).fit(medium)
    b = MaskedNMF(5, solver=solver, init="random", random_state=42, max_iter=20).fit(medium)
    c = MaskedNMF(5, solver=solver, init="random", random_state=43, max_iter=20).fit(medium)
    np.testing.assert_array_equal(a.W_, b.W_)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert not np.array_equal(a.W_, c.W_)


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_and_two_threads_give_identical_factors(medium, solver):
    one = MaskedNMF(5, solver=solver, random_state=0, max_iter=20, n_threads=1).fit(medium)
    two = MaskedNMF(5, solver=solver, random_state=0, max_iter=20, n_threads=2).fit(medium)
    np.testing.assert_array_equal(one.W_, two.W_)
    np.testing.assert_array_equal(one.components_, two.components_)
    np.testing.assert_array_equal(one.loss_history_, two.loss_history_)


def test_thread_setting_is_restored_even_on_error(medium):
    import numba
    before = numba.get_num_threads()
    with pytest.raises(ValueError):
        MaskedNMF(5, n_threads=1, init="custom").fit(medium, W=-np.ones((300, 5)), H=np.ones((5, 200)))
    assert numba.get_num_threads() == before


def test_n_init_keeps_the_lowest_objective(medium):
    # the first restart draws the same start as a single run with the same seed
    single = MaskedNMF(4, init="random", random_state=0, max_iter=5).fit(medium)
    best = MaskedNMF(4, init="random", random_state=0, max_iter=5, n_init=4).fit(medium)
    assert best.loss_history_[-1] <= single.loss_history_[-1]
    assert best.loss_history_[-1] < single.loss_history_[-1] or np.array_equal(best.W_, single.W_)
    with pytest.warns(UserWarning, match="no effect"):
        MaskedNMF(4, init="nndsvd", n_init=3, max_iter=2).fit(medium)


# ------------------------------------------------------------------ penalties
@pytest.mark.parametrize("solver", ["als", "pgd"])
def test_l1_raises_the_share_of_exact_zeros(medium, solver):
    share = []
    for l1 in (0.0, 1.0, 10.0):
        m = MaskedNMF(6, solver=solver, random_state=0, max_iter=60, l1_W=l1, l1_H=l1).fit(medium)
        share.append(np.mean(np.concatenate([m.W_.ravel(), m.components_.ravel()]) == 0))
    assert share[0] < share[1] < share[2], share


def test_l1_drives_mu_towards_zero(medium):
    small = []
    for l1 in (0.0, 1.0, 10.0):
        m = MaskedNMF(6, solver="mu", random_state=0, max_iter=200, l1_W=l1, l1_H=l1).fit(medium)
        small.append(np.mean(np.concatenate([m.W_.ravel(), m.components_.ravel()]) < 1e-6))
    assert small[0] < small[1] < small[2], small


@pytest.mark.parametrize("solver", SOLVERS)
def test_l2_lowers_the_factor_norms(medium, solver):
    norms = []
    for l2 in (0.0, 5.0, 50.0):
        m = MaskedNMF(6, solver=solver, random_state=0, max_iter=60, l2_W=l2, l2_H=l2).fit(medium)
        norms.append(np.linalg.norm(m.W_) + np.linalg.norm(m.components_))
    assert norms[0] > norms[1] > norms[2], norms


# ------------------------------------------------------------------ fold-in
def test_transform_is_the_regularized_nnls_of_each_row():
    rng = np.random.default_rng(5)
    X = random_masked(rng, 40, 25, 0.5, k=3, scale=4.0)
    model = MaskedNMF(4, random_state=0, l2_W=0.3, max_iter=50).fit(X)
    new = random_masked(rng, 6, 25, 0.4, k=3, scale=4.0)
    new[2] = np.nan  # a row with no observations gets zeros
    W = model.transform(new)
    H = model.components_
    for u in range(6):
        obs = ~np.isnan(new[u])
        np.testing.assert_allclose(W[u], nnls_row(new[u, obs], H[:, obs], 0.3), atol=1e-8)
    np.testing.assert_array_equal(W[2], 0.0)


def test_float32_agrees_with_float64(medium):
    a = MaskedNMF(5, random_state=0, max_iter=30, tol=0.0).fit(medium)
    b = MaskedNMF(5, random_state=0, max_iter=30, tol=0.0, dtype="float32").fit(medium)
    assert b.W_.dtype == np.float32 and b.components_.dtype == np.float32
    rows, cols = medium.nonzero()
    np.testing.assert_allclose(b.predict_entries(rows, cols), a.predict_entries(rows, cols), rtol=2e-3, atol=2e-3)
    assert b.reconstruction_err_ == pytest.approx(a.reconstruction_err_, rel=1e-3)


# ------------------------------------------------------------------ never dense
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("init", INITS)
def test_two_million_squared_with_twenty_thousand_entries(solver, init):
    rng = np.random.default_rng(0)
    m = n = 2_000_000
    rows = rng.choice(m, 20_000, replace=False)
    cols = rng.choice(n, 20_000, replace=False)
    X = sp.coo_matrix((rng.integers(1, 6, 20_000).astype(float), (rows, cols)), shape=(m, n))
    model = MaskedNMF(2, solver=solver, init=init, random_state=0, max_iter=2).fit(X)
    assert model.W_.shape == (m, 2) and model.components_.shape == (2, n)
    assert np.all(np.isfinite(model.loss_history_))
    assert model.predict_entries(rows[:5], cols[:5]).shape == (5,)


# ------------------------------------------------------------------ sklearn conventions
def test_get_set_params_and_clone():
    m = MaskedNMF(3, solver="mu", l2_W=0.5)
    p = m.get_params()
    assert p["n_components"] == 3 and p["solver"] == "mu" and p["l2_W"] == 0.5
    assert m.set_params(tol=1e-3) is m and m.tol == 1e-3
    c = clone(m)
    assert c.get_params() == m.get_params() and c is not m
    with pytest.raises(ValueError, match="Invalid parameter 'rank'"):
        m.set_params(rank=3)
    assert "solver='mu'" in repr(m)


def test_convergence_attributes_and_warning(medium):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        m = MaskedNMF(3, max_iter=2, tol=1e-12).fit(medium)
    assert m.n_iter_ == 2 and not m.converged_ and len(m.loss_history_) == 3
    m = MaskedNMF(3, max_iter=500, tol=1e-3).fit(medium)
    assert m.converged_ and m.n_iter_ < 500


def test_verbose_shows_progress(medium, capsys):
    MaskedNMF(3, max_iter=3, verbose=1).fit(medium)
    err = capsys.readouterr().err
    assert "MaskedNMF[als]" in err and "objective" in err and "3/3" in err


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("params,match", [
    (dict(n_components=0), r"n_components must be an integer >= 1; got 0"),
    (dict(n_components=2.5), r"n_components must be an integer >= 1; got 2.5"),
    (dict(solver="sgd"), r"solver must be one of 'als', 'mu', 'pgd'; got 'sgd'"),
    (dict(init="svd"), r"init must be one of None, 'random'.*got 'svd'"),
    (dict(l1_W=-1.0), r"l1_W must be a finite number >= 0; got -1.0"),
    (dict(tol=float("nan")), r"tol must be"),
    (dict(dtype="int32"), r"dtype must be 'float32' or 'float64'"),
    (dict(n_threads=0), r"n_threads must be"),
])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        MaskedNMF(**params).fit(np.ones((3, 3)))


def test_bad_data_is_named():
    with pytest.raises(ValueError, match="NaN values"):
        MaskedNMF(2).fit(sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 2.0]])))
    with pytest.raises(ValueError, match="infinite"):
        MaskedNMF(2).fit(np.array([[1.0, np.inf], [0.5, 2.0]]))
    with pytest.raises(ValueError, match="NMF needs non-negative ratings"):
        MaskedNMF(2).fit(np.array([[1.0, -2.0], [0.5, 2.0]]))
    with pytest.raises(ValueError, match="no observed entries"):
        MaskedNMF(2).fit(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="n_components < min"):
        MaskedNMF(3, init="nndsvd").fit(np.ones((3, 5)))


def test_not_fitted_and_shape_errors():
    m = MaskedNMF(2)
    with pytest.raises(NotFittedError, match="not fitted yet; call fit before transform"):
        m.transform(np.ones((2, 3)))
    with pytest.raises(NotFittedError):
        m.predict_entries([0], [0])
    m.fit(np.ones((4, 3)) + np.eye(4, 3))
    with pytest.raises(ValueError, match="X has 5 columns, but MaskedNMF was fitted with 3"):
        m.transform(np.ones((2, 5)))
    with pytest.raises(IndexError, match="cols index 3 is out of range"):
        m.predict_entries([0], [3])
    with pytest.raises(ValueError, match="same shape"):
        m.predict_entries([0, 1], [0])


def test_custom_init_errors():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match="init='custom' needs both W and H"):
        MaskedNMF(2, init="custom").fit(X, W=np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"W must have shape \(4, 2\)"):
        MaskedNMF(2, init="custom").fit(X, W=np.ones((3, 2)), H=np.ones((2, 3)))
    with pytest.raises(ValueError, match="negative"):
        MaskedNMF(2, init="custom").fit(X, W=np.ones((4, 2)), H=-np.ones((2, 3)))
    with pytest.raises(ValueError, match="pass init='custom'"):
        MaskedNMF(2, init="random").fit(X, W=np.ones((4, 2)), H=np.ones((2, 3)))


# ------------------------------------------------------------------ biases, ALS-WR, implicit
def test_biases_are_extra_columns_paired_with_fixed_ones(medium):
    m = MaskedNMF(3, user_bias=True, item_bias=True, random_state=0, max_iter=30, l2_W=1, l2_H=1).fit(medium)
    assert m.factor_names_ == ["c0", "c1", "c2", "user_bias", "item_bias"]
    assert m.W_.shape == (300, 5) and m.components_.shape == (5, 200)
    np.testing.assert_array_equal(m.W_[:, 4], 1.0)           # pairs with the item bias
    np.testing.assert_array_equal(m.components_[3], 1.0)     # pairs with the user bias
    np.testing.assert_array_equal(m.user_bias_, m.W_[:, 3])
    np.testing.assert_array_equal(m.item_bias_, m.components_[4])
    assert np.all(m.W_ >= 0) and np.all(m.components_ >= 0)
    rows, cols = medium.nonzero()
    manual = (np.einsum("ij,ij->i", m.W_[rows, :3], m.components_.T[cols, :3])
              + m.user_bias_[rows] + m.item_bias_[cols])
    np.testing.assert_allclose(m.predict_entries(rows, cols), manual, rtol=1e-12)
    # the penalty leaves the constant columns out: the objective is the NumPy reference
    X = np.full(medium.shape, np.nan)
    X[rows, cols] = medium.data
    Wf, Hf = m.W_.copy(), m.components_.copy()
    Wf[:, 4] = 0  # constants: leave them out of the penalty in the reference
    Hf[3] = 0
    ref = dense_objective(X, m.W_, m.components_) + 0.5 * (np.sum(Wf ** 2) + np.sum(Hf ** 2))
    assert m.loss_history_[-1] == pytest.approx(ref, rel=1e-10)


def test_biases_improve_a_biased_matrix():
    """Ratings = user offset + item offset + rank-1 taste: biases recover it at rank 1."""
    rng = np.random.default_rng(0)
    bu, bi = rng.uniform(0, 2, 200), rng.uniform(0, 2, 150)
    X = bu[:, None] + bi[None, :] + np.outer(rng.random(200), rng.random(150))
    mask = rng.random(X.shape) < 0.3
    Xo = np.where(mask, X, np.nan)
    r, c = np.nonzero(~mask)
    kw = dict(random_state=0, max_iter=300, tol=1e-8)
    plain = MaskedNMF(1, **kw).fit(Xo)
    biased = MaskedNMF(1, user_bias=True, item_bias=True, **kw).fit(Xo)
    err = lambda mdl: np.sqrt(np.mean((mdl.predict_entries(r, c) - X[r, c]) ** 2))  # noqa: E731
    assert err(biased) < 0.05 < err(plain)


def test_count_scaled_penalty_is_sklearns_alpha_on_full_data(full_problem):
    """On a full matrix sklearn's alpha_W scales W's penalty by n_cols = every row's count."""
    X, W0, H0 = full_problem
    alpha, l1_ratio = 0.01, 0.3
    ref = NMF(6, init="custom", solver="cd", max_iter=1000, tol=1e-9, alpha_W=alpha,
              alpha_H=alpha, l1_ratio=l1_ratio)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Wr = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
    m, n = X.shape
    pen = (alpha * l1_ratio * n, alpha * (1 - l1_ratio) * n, alpha * l1_ratio * m, alpha * (1 - l1_ratio) * m)
    f_ref = dense_objective(X, Wr, ref.components_, *pen)
    ours = MaskedNMF(6, init="custom", reg_scale="count", max_iter=1000, tol=1e-9,
                     l1_W=alpha * l1_ratio, l2_W=alpha * (1 - l1_ratio),
                     l1_H=alpha * l1_ratio, l2_H=alpha * (1 - l1_ratio)).fit(X, W=W0, H=H0)
    assert ours.loss_history_[-1] == pytest.approx(dense_objective(X, ours.W_, ours.components_, *pen), rel=1e-10)
    assert ours.loss_history_[-1] <= 1.01 * f_ref


@pytest.mark.parametrize("solver", ["als", "mu"])
def test_implicit_objective_is_the_dense_weighted_one_and_decreases(solver):
    from _reference import dense_objective_implicit
    rng = np.random.default_rng(2)
    X = random_masked(rng, 25, 18, 0.2, k=2, scale=4.0)
    m = MaskedNMF(3, solver=solver, feedback="implicit", alpha=5.0, l2_W=0.1, l2_H=0.1,
                  random_state=0, max_iter=25, tol=0.0).fit(X)
    assert m.loss_history_[-1] == pytest.approx(
        dense_objective_implicit(X, m.W_, m.components_, 5.0, 0, 0.1, 0, 0.1), rel=1e-10)
    assert np.all(np.diff(m.loss_history_) <= 1e-10 * m.loss_history_[:-1])


def test_implicit_ranks_observed_items_first():
    """Block structure: users of a group interact with the group's items; a held-out item
    of the user's own group must outscore every item of the other group."""
    X = np.full((40, 30), np.nan)
    X[:20, :15] = 3.0
    X[20:, 15:] = 3.0
    rng = np.random.default_rng(0)
    held = [(u, int(rng.integers(0, 15)) + (15 if u >= 20 else 0)) for u in range(40)]
    for u, i in held:
        X[u, i] = np.nan
    m = MaskedNMF(2, feedback="implicit", alpha=2.0, l2_W=0.1, l2_H=0.1, random_state=0, max_iter=50).fit(X)
    S = m.W_ @ m.components_
    for u, i in held:
        other = slice(15, 30) if u < 20 else slice(0, 15)
        assert S[u, i] > S[u, other].max()


def test_implicit_pgd_is_refused():
    with pytest.raises(ValueError, match="solver='pgd' does not handle feedback='implicit'"):
        MaskedNMF(2, solver="pgd", feedback="implicit").fit(np.ones((3, 3)))


def test_transform_with_biases_and_count_scaling_is_the_row_problem():
    rng = np.random.default_rng(4)
    X = random_masked(rng, 30, 20, 0.5, k=2, scale=4.0)
    m = MaskedNMF(3, user_bias=True, item_bias=True, reg_scale="count", l2_W=0.2, l2_H=0.2,
                  random_state=0, max_iter=40).fit(X)
    new = random_masked(rng, 3, 20, 0.5, k=2, scale=4.0)
    W = m.transform(new)
    H = m.components_
    for u in range(3):
        obs = ~np.isnan(new[u])
        # the item-bias column is the constant 1: move its contribution to the target
        target = new[u, obs] - H[4, obs]
        free = [0, 1, 2, 3]
        ref = nnls_row(target, H[free][:, obs], 0.2 * obs.sum())
        np.testing.assert_allclose(W[u, free], ref, atol=1e-8)
        assert W[u, 4] == 1.0


def test_weighted_zeros_fit_is_the_dense_objective_and_decreases():
    from _reference import dense_objective_implicit
    rng = np.random.default_rng(8)
    X = random_masked(rng, 25, 18, 0.25, k=2, scale=4.0)
    m = MaskedNMF(3, feedback="implicit", preference="rating", missing_weight=0.3, alpha=0.0,
                  l2_W=0.2, l2_H=0.2, random_state=0, max_iter=25, tol=0.0).fit(X)
    ref = dense_objective_implicit(X, m.W_, m.components_, 0.0, 0, 0.2, 0, 0.2, 0.3, True)
    assert m.loss_history_[-1] == pytest.approx(ref, rel=1e-10)
    assert np.all(np.diff(m.loss_history_) <= 1e-10 * m.loss_history_[:-1])
    with pytest.raises(ValueError, match=r"missing_weight must be a finite number in \(0, 1\]"):
        MaskedNMF(2, feedback="implicit", missing_weight=0.0).fit(X)


# ------------------------------------------------------------------ warnings name the caller
def test_warnings_point_at_the_callers_line(medium):
    with pytest.warns(ConvergenceWarning) as record:
        MaskedNMF(3, max_iter=1, tol=1e-12).fit(medium)
    assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="no effect") as record:
        MaskedNMF(3, init="nndsvd", n_init=2, max_iter=1, tol=0.0).fit(medium)
    assert record[0].filename == __file__


def test_h_t_is_a_deprecated_alias_of_components_transposed(medium):
    m = MaskedNMF(3, random_state=0, max_iter=5).fit(medium)
    with pytest.warns(DeprecationWarning, match=r"H_t_ is deprecated.*components_\.T") as record:
        Ht = m.H_t_
    assert record[0].filename == __file__
    np.testing.assert_array_equal(Ht, m.components_.T)
    assert Ht.flags.c_contiguous and np.shares_memory(Ht, m.components_)
    new = np.ascontiguousarray(2 * Ht)
    with pytest.warns(DeprecationWarning, match="set components_"):
        m.H_t_ = new
    np.testing.assert_array_equal(m.components_, new.T)
    with pytest.raises(NotFittedError, match="before H_t_"):
        MaskedNMF(3).H_t_


# ------------------------------------------------------------------ state in and out
def test_fitted_state_round_trips_into_a_new_estimator(medium):
    a = MaskedNMF(3, user_bias=True, item_bias=True, random_state=0, max_iter=10).fit(medium)
    state = a.get_fitted_state()
    assert set(state) == {"W", "H_t", "loss_history", "n_iter", "converged",
                          "reconstruction_err", "init", "fit_time"}
    b = MaskedNMF(**a.get_params()).set_fitted_state(state)
    rows, cols = medium.nonzero()
    np.testing.assert_array_equal(b.predict_entries(rows, cols), a.predict_entries(rows, cols))
    np.testing.assert_array_equal(b.transform(medium[:5]), a.transform(medium[:5]))
    for name in ("n_iter_", "converged_", "reconstruction_err_", "init_", "fit_time_",
                 "factor_names_", "n_components_", "n_factors_", "n_features_in_"):
        assert getattr(b, name) == getattr(a, name), name
    np.testing.assert_array_equal(b.user_bias_, a.user_bias_)
    with pytest.raises(ValueError, match=r"5 factor columns do not match the parameters' "
                                         r"layout \['c0', 'c1', 'c2'\]"):
        MaskedNMF(3).set_fitted_state(state)
    with pytest.raises(ValueError, match="do not share one number of columns"):
        MaskedNMF(3).set_fitted_state({**state, "H_t": state["H_t"][:, :2]})


def test_refit_rows_solves_existing_and_new_rows_like_transform():
    rng = np.random.default_rng(6)
    X = random_masked(rng, 30, 20, 0.5, k=2, scale=4.0)
    m = MaskedNMF(3, item_bias=True, random_state=0, l2_W=0.2, max_iter=20).fit(X)
    W_before = m.W_.copy()
    new = random_masked(rng, 3, 20, 0.5, k=2, scale=4.0)
    m.refit_rows(new, [4, 30, 32])               # one existing row, two appended, 31 skipped
    assert m.W_.shape == (33, 4)
    np.testing.assert_array_equal(m.W_[[4, 30, 32]], m.transform(new))
    np.testing.assert_array_equal(m.W_[31], [0, 0, 0, 1])   # an empty row: its item-bias one
    untouched = [j for j in range(30) if j != 4]
    np.testing.assert_array_equal(m.W_[untouched], W_before[untouched])
    with pytest.raises(ValueError, match="rows has 2 indices but X has 3 rows"):
        m.refit_rows(new, [1, 2])
    with pytest.raises(ValueError, match="rows must be distinct indices >= 0"):
        m.refit_rows(new, [1, 1, 2])


def test_factor_layout_places_components_then_biases():
    from nmfrec.nmf import FactorLayout
    lay = FactorLayout(2, user_bias=True, item_bias=True)
    assert lay.names == ["c0", "c1", "user_bias", "item_bias"] and lay.n_factors == 4
    assert (lay.user_bias_col, lay.item_bias_col) == (2, 3)
    np.testing.assert_array_equal(lay.fixed_W, [0, 0, 0, 1])    # W's ones pair with item bias
    np.testing.assert_array_equal(lay.fixed_H, [0, 0, 1, 0])
    # biases start at a tenth of the level, the components carry 80% of it
    W, Ht = lay.assemble(np.ones((3, 2)), 2 * np.ones((5, 2)), level=20.0)
    np.testing.assert_allclose(W, [[np.sqrt(0.8)] * 2 + [2.0, 1.0]] * 3)
    np.testing.assert_allclose(Ht, [[2 * np.sqrt(0.8)] * 2 + [1.0, 2.0]] * 5)
    assert FactorLayout(2).names == ["c0", "c1"] and FactorLayout(2, item_bias=True).item_bias_col == 2


def test_progress_in_a_log_file_is_a_few_lines(medium, capsys):
    """Not a terminal (a log file, CI): the bar is drawn at the start and the end only."""
    MaskedNMF(3, max_iter=40, tol=0.0, verbose=1).fit(medium)
    err = capsys.readouterr().err
    assert err.count("\r") <= 2 and err.endswith("\n")
    assert "40/40" in err and "max_iter reached" in err

"""BayesianNMF and its row kernel against references: the exact Gaussian posterior of a row,
numerical integration of a truncated one, scipy's bounded minimiser for the posterior mode,
planted matrices, and a ridge baseline for the fallback."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFitted
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

from nmfrec import BayesianNMF, MaskedNMF, NotFittedError
from nmfrec._kernels import gibbs_update_rows


# ----------------------------------------------------------------------------- the row kernel
def _one_row_problem(k=3, c=12, seed=0):
    rng = np.random.default_rng(seed)
    Y = rng.random((c, k)) + 0.2
    t = Y @ rng.random(k) + 0.3 * rng.standard_normal(c)
    A = rng.standard_normal((k, k))
    Lam = A @ A.T / k + 0.5 * np.eye(k)
    m = rng.random(k)
    return Y, t, Lam, m


def _repeated_rows(t, n):
    """``n`` identical rows observing columns 0..len(t)-1 with values ``t``."""
    c = t.size
    indptr = np.arange(n + 1, dtype=np.int64) * c
    indices = np.tile(np.arange(c, dtype=np.int32), n)
    return indptr, indices, np.tile(t, n)


def _with_weights(A, w=1.0):
    """``A`` with a last column of noise weights ``w``, as the kernel takes its factors."""
    return np.ascontiguousarray(np.column_stack([A, np.broadcast_to(w, A.shape[0])]))


def _draws(Y, t, Lam, m, tau, kind, n=20000, sweeps=40, seed=7, row_weight=1.0,
           col_weights=1.0):
    indptr, indices, data = _repeated_rows(t, n)
    k = Y.shape[1]
    X = np.zeros((n, k + 1))
    X[:, :k][:, kind == 2] = 1.0
    X[:, k] = row_weight
    sse = np.empty((n, 2))
    gibbs_update_rows(indptr, indices, data, X, _with_weights(Y, col_weights), tau, Lam,
                      Lam @ m, kind.astype(np.int8), sweeps, True, np.uint64(seed), 0.0, sse)
    assert np.all(X[:, k] == row_weight)              # the weights are read, never written
    return X[:, :k], sse


def test_signed_draws_follow_the_exact_gaussian_posterior():
    Y, t, Lam, m = _one_row_problem()
    tau = 2.0
    P = tau * Y.T @ Y + Lam
    cov = np.linalg.inv(P)
    mean = cov @ (tau * Y.T @ t + Lam @ m)
    X, sse = _draws(Y, t, Lam, m, tau, np.ones(3, dtype=int))
    se = np.sqrt(np.diag(cov) / X.shape[0])
    assert np.all(np.abs(X.mean(axis=0) - mean) < 5 * se)
    np.testing.assert_allclose(np.cov(X, rowvar=False), cov, rtol=0.06, atol=0.03 * cov.max())
    # each row's reported squared error is that of its own draw
    np.testing.assert_allclose(sse[:50, 0], ((t - X[:50] @ Y.T) ** 2).sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(sse[:50, 1], sse[:50, 0], rtol=1e-12)


def test_noise_weights_scale_the_precision_of_each_entry():
    # precision of entry (u, i) is tau * a_u * c_i: the exact posterior of a weighted
    # least-squares row
    Y, t, Lam, m = _one_row_problem(k=3, c=12, seed=11)
    tau, a = 2.0, 0.4
    c = np.random.default_rng(2).gamma(2.0, 0.5, t.size)
    P = tau * a * (Y.T * c) @ Y + Lam
    cov = np.linalg.inv(P)
    mean = cov @ (tau * a * Y.T @ (c * t) + Lam @ m)
    X, sse = _draws(Y, t, Lam, m, tau, np.ones(3, dtype=int), row_weight=a, col_weights=c)
    se = np.sqrt(np.diag(cov) / X.shape[0])
    assert np.all(np.abs(X.mean(axis=0) - mean) < 5 * se)
    np.testing.assert_allclose(np.cov(X, rowvar=False), cov, rtol=0.06, atol=0.03 * cov.max())
    r = t - X[:50] @ Y.T
    np.testing.assert_allclose(sse[:50, 0], (r ** 2).sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(sse[:50, 1], (c * r ** 2).sum(axis=1), rtol=1e-10)
    # without the weight column the kernel refuses
    indptr, indices, data = _repeated_rows(t, 1)
    with pytest.raises(ValueError, match="K \\+ 1 columns"):
        gibbs_update_rows(indptr, indices, data, np.zeros((1, 3)), Y, tau, Lam, Lam @ m,
                          np.ones(3, np.int8), 1, True, np.uint64(0), 0.0, np.empty((1, 2)))


def test_nonnegative_draws_follow_the_truncated_posterior():
    # a 2-d posterior whose mode sits outside the orthant: truncation matters
    rng = np.random.default_rng(3)
    Y = rng.random((8, 2)) + 0.1
    t = Y @ np.array([1.5, -1.0]) + 0.1 * rng.standard_normal(8)
    Lam, m, tau = np.eye(2), np.zeros(2), 1.0
    P = tau * Y.T @ Y + Lam
    mu = np.linalg.solve(P, tau * Y.T @ t + Lam @ m)
    assert mu[1] < 0
    # reference: the truncated density on a fine grid
    g = np.linspace(0, 6, 1201)
    G0, G1 = np.meshgrid(g, g, indexing="ij")
    D = np.stack([G0 - mu[0], G1 - mu[1]], axis=-1)
    dens = np.exp(-0.5 * np.einsum("...i,ij,...j->...", D, P, D))
    ref = np.array([(dens * G0).sum(), (dens * G1).sum()]) / dens.sum()
    X, _ = _draws(Y, t, Lam, m, tau, np.zeros(2, dtype=int))
    assert np.all(X >= 0)
    np.testing.assert_allclose(X.mean(axis=0), ref, atol=0.01)


def test_fixed_columns_never_move_and_feed_the_others():
    Y, t, Lam, m = _one_row_problem()
    kind = np.array([0, 1, 2])
    Lam[2, :] = Lam[:, 2] = 0.0          # no prior on a fixed column
    X, _ = _draws(Y, t, Lam, m, 1.0, kind, n=500)
    assert np.all(X[:, 2] == 1.0) and np.all(X[:, 0] >= 0)
    assert (X[:, 1] < 0).any()           # the signed column crosses zero


def test_mode_is_the_bounded_minimiser_of_the_row_posterior():
    Y, t, Lam, m = _one_row_problem(k=4, seed=5)
    Lam[3, :] = Lam[:, 3] = 0.0
    kind = np.array([0, 0, 1, 2], dtype=np.int8)
    tau = 3.0
    P = tau * Y.T @ Y + Lam
    h = tau * Y.T @ t + Lam @ m
    indptr, indices, data = _repeated_rows(t, 1)
    X = np.array([[0.0, 0.0, 0.0, 1.0, 1.0]])
    gibbs_update_rows(indptr, indices, data, X, _with_weights(Y), tau, Lam, Lam @ m, kind, 2000,
                      False, np.uint64(0), 1e-14, np.empty((1, 2)))
    f = lambda z: 0.5 * np.r_[z, 1.0] @ P @ np.r_[z, 1.0] - h @ np.r_[z, 1.0]
    ref = minimize(f, np.full(3, 0.5), method="L-BFGS-B",
                   bounds=[(0, None), (0, None), (None, None)],
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    np.testing.assert_allclose(X[0, :3], ref.x, atol=1e-6)
    assert f(X[0, :3]) <= ref.fun + 1e-10


# ----------------------------------------------------------------------------- the estimator
def planted(m=120, n=90, k=3, density=0.35, noise=0.3, offset=1.0, seed=0):
    rng = np.random.default_rng(seed)
    truth = offset + rng.gamma(2.0, 0.5, (m, k)) @ rng.gamma(2.0, 0.5, (k, n)) / k
    X = truth + noise * rng.standard_normal((m, n))
    X = np.clip(X, 0, None)
    mask = rng.random((m, n)) < density
    mask[np.arange(m), rng.integers(0, n, m)] = True
    train = np.where(mask, X, np.nan)
    held = ~mask
    return train, truth, held


FAST = dict(n_samples=60, n_burnin=15, n_kept=20, random_state=0)


def test_planted_low_rank_is_recovered_near_the_noise_level():
    train, truth, held = planted()
    model = BayesianNMF(n_components=3, **FAST).fit(train)
    rows, cols = np.nonzero(held)
    err = model.predict_entries(rows, cols) - truth[rows, cols]
    assert np.sqrt(np.mean(err ** 2)) < 0.2          # noise 0.3 on each observed entry
    # components stay non-negative in every kept draw, offsets may be signed
    comp = np.char.startswith(np.array(model.factor_names_), "c")
    assert np.all(model.W_[:, comp] >= 0) and np.all(model.components_[comp] >= 0)
    assert model.noise_sd_ == pytest.approx(0.3, rel=0.25)


def test_with_nothing_to_factor_it_does_no_worse_than_a_baseline():
    # ratings that are a baseline plus noise: the components should add nothing, and the
    # posterior average falls back to the offsets instead of shrinking toward 0
    rng = np.random.default_rng(1)
    m, n = 150, 100
    b, c = 0.6 * rng.standard_normal(m), 0.6 * rng.standard_normal(n)
    X = np.clip(3.5 + b[:, None] + c[None, :] + 0.8 * rng.standard_normal((m, n)), 0, None)
    mask = rng.random((m, n)) < 0.08
    mask[np.arange(m), rng.integers(0, n, m)] = True
    train = np.where(mask, X, np.nan)
    rows, cols = np.nonzero(~mask)
    truth = X[rows, cols]

    # reference: the global mean plus ridge-shrunk offsets, fitted by alternating means
    r, q = np.nonzero(mask)
    x = X[r, q]
    mu, bu, bi = x.mean(), np.zeros(m), np.zeros(n)
    for _ in range(30):
        bu = np.bincount(r, x - mu - bi[q], m) / (np.bincount(r, minlength=m) + 5.0)
        bi = np.bincount(q, x - mu - bu[r], n) / (np.bincount(q, minlength=n) + 5.0)
    baseline = np.sqrt(np.mean((mu + bu[rows] + bi[cols] - truth) ** 2))
    global_mean = np.sqrt(np.mean((mu - truth) ** 2))

    model = BayesianNMF(**FAST).fit(train)
    rmse = np.sqrt(np.mean((model.predict_entries(rows, cols) - truth) ** 2))
    assert rmse <= baseline + 0.01 < global_mean
    # a penalized NMF with a heavy penalty, by contrast, shrinks toward 0
    heavy = MaskedNMF(6, l2_W=50.0, l2_H=50.0, max_iter=100, random_state=0).fit(train)
    assert np.sqrt(np.mean((heavy.predict_entries(rows, cols) - truth) ** 2)) > global_mean


def test_same_seed_same_model_whatever_the_threads():
    train, _, _ = planted(seed=2)
    a = BayesianNMF(**FAST, n_threads=1).fit(train)
    b = BayesianNMF(**FAST, n_threads=2).fit(train)
    c = BayesianNMF(**{**FAST, "random_state": 1}).fit(train)
    np.testing.assert_array_equal(a.W_, b.W_)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.train_rmse_, b.train_rmse_)
    assert not np.array_equal(a.W_, c.W_)


def test_the_rating_scale_does_not_matter():
    train, _, held = planted(seed=4)
    rows, cols = np.nonzero(held)
    ref = BayesianNMF(**FAST).fit(train)
    for scale in (1e-3, 7.0, 1e4):
        model = BayesianNMF(**FAST).fit(train * scale)
        np.testing.assert_allclose(model.predict_entries(rows, cols) / scale, ref.predict_entries(rows, cols),
                                   rtol=1e-6)


def test_fold_in_draws_each_new_row_from_its_posterior_given_each_draw():
    train, _, _ = planted(seed=6)
    model = BayesianNMF(n_components=2, noise="shared", **FAST).fit(train)
    n = 4000                                   # copies of one new row: independent draws
    new = np.repeat(train[1:2], n, axis=0)
    W = model.transform(new)
    assert W.shape == (n, model.n_factors_)
    # reference for draw 0: the row's Gaussian posterior given that draw, restricted to
    # non-negative components, by rejection from the unrestricted Gaussian
    nf, f = model.n_factors_per_draw, math.sqrt(model.scale_ / model.noise_precision_.size)
    Y = model.components_[:nf].T / f
    obs = ~np.isnan(new[0])
    t, Yo = new[0, obs] / model.scale_, Y[obs]
    tau, Lam, lin = (model.noise_precision_[0], model.row_prior_precision_[0],
                     model.row_prior_linear_[0])
    free = slice(0, nf - 1)                    # the item-offset column of W is fixed to 1
    P = tau * Yo[:, free].T @ Yo[:, free] + Lam[free, free]
    h = tau * Yo[:, free].T @ (t - Yo[:, nf - 1]) + lin[free] - Lam[free, nf - 1]
    mean = np.linalg.solve(P, h)
    z = np.random.default_rng(0).multivariate_normal(mean, np.linalg.inv(P), 400000)
    z = z[np.all(z[:, :nf - 2] >= 0, axis=1)]
    draws = W[:, :nf - 1] / f
    assert np.all(W[:, nf - 1] / f == pytest.approx(1.0))
    se = z.std(axis=0) / math.sqrt(n)
    assert np.all(np.abs(draws.mean(axis=0) - z.mean(axis=0)) < 5 * se)
    np.testing.assert_allclose(draws.std(axis=0), z.std(axis=0), rtol=0.08)
    # the same call gives the same draws; predictions of new rows are their average
    W3 = model.transform(new[:3])
    np.testing.assert_array_equal(model.transform(new[:3]), W3)
    np.testing.assert_allclose(model.complete(new[:3]), W3 @ model.components_)


def test_learned_noise_weights_rank_rows_and_columns_by_their_noise():
    # planted: three groups of rows with noise sd 0.15, 0.4 and 1.0, columns alike
    rng = np.random.default_rng(3)
    m, n, k = 150, 120, 2
    truth = 1.0 + rng.gamma(2.0, 0.5, (m, k)) @ rng.gamma(2.0, 0.5, (k, n)) / k
    row_sd = np.repeat([0.15, 0.4, 1.0], m // 3)
    col_sd = np.repeat([0.2, 0.5], n // 2)
    sd = np.sqrt(row_sd[:, None] ** 2 + col_sd[None, :] ** 2) / math.sqrt(2)
    X = np.clip(truth + sd * rng.standard_normal((m, n)), 0, None)
    X[rng.random((m, n)) > 0.4] = np.nan
    model = BayesianNMF(n_components=2, **FAST).fit(X)
    a = model.row_noise_weight_.mean(axis=0)       # precision weight: high = quiet
    e = model.col_noise_weight_.mean(axis=0)
    groups = [a[g * 50:(g + 1) * 50] for g in range(3)]
    assert np.median(groups[0]) > np.median(groups[1]) > np.median(groups[2])
    from scipy.stats import spearmanr
    assert spearmanr(a, -row_sd).correlation > 0.75
    assert np.median(e[:60]) > np.median(e[60:])
    assert model.noise_weight_shape_.shape == (model.noise_precision_.size, 2)
    # one noise level for every entry: weights all one, shapes infinite
    shared = BayesianNMF(n_components=2, noise="shared", **FAST).fit(X)
    assert np.all(shared.row_noise_weight_ == 1.0) and np.all(shared.col_noise_weight_ == 1.0)
    assert np.all(np.isinf(shared.noise_weight_shape_))


def test_fitted_state_round_trips_and_predictions_are_the_kept_draws_average():
    train, _, held = planted(seed=8)
    model = BayesianNMF(**FAST).fit(train)
    other = BayesianNMF(**FAST).set_fitted_state(model.get_fitted_state())
    rows, cols = np.nonzero(held)
    np.testing.assert_array_equal(other.predict_entries(rows, cols), model.predict_entries(rows, cols))
    np.testing.assert_array_equal(other.transform(train[:4]), model.transform(train[:4]))
    # blocks of W_ and components_ are the kept draws: the prediction is their mean times s
    nf, kept = model.n_factors_per_draw, model.noise_precision_.size
    per_draw = [model.W_[:, d * nf:(d + 1) * nf] @ model.components_[d * nf:(d + 1) * nf]
                for d in range(kept)]
    np.testing.assert_allclose(np.sum(per_draw, axis=0), model.W_ @ model.components_)
    assert model.factor_names_ == model.component_names_ * kept
    assert model.component_names_[-2:] == ["user_bias", "item_bias"]
    assert model.train_rmse_.shape == (FAST["n_burnin"] + FAST["n_samples"],)
    with pytest.raises(ValueError, match="do not fit 20 draws"):
        BayesianNMF(n_components=model.n_components_ + 1,
                    **FAST).set_fitted_state(model.get_fitted_state())
    state = model.get_fitted_state()
    state["row_noise_weight"] = state["row_noise_weight"][:, :-1]
    with pytest.raises(ValueError, match=r"factor shapes .* and noise weights of shapes "
                                         r"\(20, 119\)"):
        BayesianNMF(**FAST).set_fitted_state(state)


def test_scikit_learn_habits():
    train, _, _ = planted(m=60, n=40, seed=9)
    est = BayesianNMF(n_samples=20, n_burnin=5, n_kept=5, random_state=0)
    with pytest.raises(SklearnNotFitted):
        check_is_fitted(est)
    with pytest.raises(NotFittedError, match="not fitted yet; call fit before predict_entries"):
        est.predict_entries([0], [0])
    fitted = clone(est).fit(train)
    check_is_fitted(fitted)
    assert fitted.get_feature_names_out()[:2].tolist() == ["bayesiannmf0", "bayesiannmf1"]
    search = GridSearchCV(est, {"n_components": [1, 3]}, cv=3).fit(train)
    assert search.best_params_["n_components"] in (1, 3)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("params, match", [
    (dict(n_samples=10, n_kept=20), r"n_kept must be <= n_samples=10; got 20"),
    (dict(n_components=0), r"n_components must be None or an integer >= 1; got 0"),
    (dict(n_sweeps=0), r"n_sweeps must be an integer >= 1; got 0"),
])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        BayesianNMF(**params).fit(np.array([[1.0, 2.0], [3.0, np.nan]]))


def test_bad_data_is_named():
    with pytest.raises(ValueError, match="Negative values in data passed to BayesianNMF.fit"):
        BayesianNMF(**FAST).fit(np.array([[1.0, -2.0], [3.0, np.nan]]))
    with pytest.raises(ValueError, match="X has no observed entries"):
        BayesianNMF(**FAST).fit(sp.csr_matrix((3, 4)))
    model = BayesianNMF(**FAST).fit(np.array([[1.0, 2.0], [3.0, np.nan]]))
    with pytest.raises(ValueError, match="X has 3 columns, but BayesianNMF was fitted with 2"):
        model.transform(np.ones((1, 3)))
    with pytest.raises(IndexError, match="rows index 5 is out of range"):
        model.predict_entries([5], [0])

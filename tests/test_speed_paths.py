"""The fast paths give the answers of the plain ones.

* ``cd_update_rows``'s by-product row terms are ``row_sq_errors``'s, so the implicit-ALS
  objective that ``MaskedNMF`` reports without another pass is the objective;
* the Gibbs kernel's draws: the same seed gives the same factors, on one thread or two;
  its normal and truncated-normal draws have the right moments;
* float32 fits agree with float64 ones (MovieLens 100K: RMSE within 0.001);
* idle OpenMP threads sleep unless the user chose otherwise.
"""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import nmfrec._kernels as K
from nmfrec import BayesianNMF, MaskedNMF, Recommender
from nmfrec._kernels._gibbs import normals_above


def _random_csr(seed, m=60, n=45, density=0.2):
    rng = np.random.default_rng(seed)
    X = sp.random(m, n, density=density, random_state=rng, format="csr")
    X.data = np.ceil(X.data * 5)
    return X


@pytest.mark.parametrize("implicit, preference_rating", [(False, False), (True, False),
                                                         (True, True)])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_cd_row_terms_are_row_sq_errors(implicit, preference_rating, dtype, rtol):
    X = _random_csr(1)
    rng = np.random.default_rng(2)
    k = 5
    W = rng.random((X.shape[0], k)).astype(dtype)
    Ht = rng.random((X.shape[1], k)).astype(dtype)
    YtY = 0.4 * K.gram(Ht) if implicit else np.zeros((1, 1))
    terms = np.empty(X.shape[0])
    data = X.data.astype(dtype)
    K.cd_update_rows(X.indptr, X.indices, data, W, Ht, YtY, implicit, 2.0, 0.1, 0.5, K.REG_NONE,
                     np.zeros(k, np.uint8), 2, 0.4, preference_rating, terms)
    ref = np.empty(X.shape[0])
    K.row_sq_errors(X.indptr, X.indices, data, W, Ht, implicit, 2.0, ref, 0.4,
                    preference_rating)
    np.testing.assert_allclose(terms, ref, rtol=rtol, atol=rtol * np.abs(ref).max())


def test_cd_without_row_terms_gives_the_same_factors():
    X = _random_csr(3)
    rng = np.random.default_rng(4)
    W = rng.random((X.shape[0], 4))
    Ht = rng.random((X.shape[1], 4))
    a, b = W.copy(), W.copy()
    args = (Ht, 0.3 * K.gram(Ht), True, 1.0, 0.0, 0.2, K.REG_NONE, np.zeros(4, np.uint8), 1,
            0.3, False)
    K.cd_update_rows(X.indptr, X.indices, X.data, a, *args)
    K.cd_update_rows(X.indptr, X.indices, X.data, b, *args, np.empty(X.shape[0]))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_implicit_loss_history_is_the_objective(dtype):
    X = _random_csr(5, 80, 50)
    m = MaskedNMF(6, feedback="implicit", alpha=2.0, missing_weight=0.3, preference="rating",
                  l2_W=0.5, l2_H=0.7, init="random", max_iter=12, tol=0, random_state=0,
                  dtype=dtype).fit(X)
    h = m.loss_history_
    assert len(h) == 13
    assert np.all(np.diff(h) <= 1e-6 * np.abs(h[:-1])), h
    assert h[-1] == pytest.approx(m.objective(X), rel=1e-10 if dtype == "float64" else 1e-5)


def _bayes(n_threads, seed=3):
    X = _random_csr(6, 70, 40, 0.3)
    return BayesianNMF(3, n_samples=12, n_burnin=3, n_kept=4, random_state=seed,
                       n_threads=n_threads).fit(X)


def test_gibbs_same_seed_same_draws_on_one_or_two_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 numba threads")
    one = _bayes(1)
    two = _bayes(2)
    np.testing.assert_array_equal(one.W_, two.W_)
    np.testing.assert_array_equal(one.components_, two.components_)
    np.testing.assert_array_equal(one.train_rmse_, two.train_rmse_)
    other = _bayes(1, seed=4)
    assert not np.array_equal(one.W_, other.W_)


def test_standard_normals_have_normal_moments():
    z = np.empty(200_000)
    K.standard_normals(np.uint64(7), z)
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.01
    assert abs(stats.skew(z)) < 0.02 and abs(stats.kurtosis(z)) < 0.05
    # both outputs of a Box-Muller pair are used, and they are uncorrelated
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.01


@pytest.mark.parametrize("a", [-2.0, -0.3, 0.0, 0.4, 1.5, 4.0])
def test_truncated_normal_draws_match_scipy(a):
    z = np.empty(100_000)
    normals_above(a, np.uint64(11), z)
    assert z.min() >= a
    ref = stats.truncnorm(a, np.inf)
    assert z.mean() == pytest.approx(ref.mean(), abs=0.01)
    assert z.std() == pytest.approx(ref.std(), abs=0.01)
    # the whole distribution, not just two moments
    assert stats.kstest(z[:5000], ref.cdf).pvalue > 1e-3


def test_truncated_normal_of_nan_is_nan_not_a_hang():
    z = np.empty(3)
    normals_above(np.nan, np.uint64(1), z)
    assert np.all(np.isnan(z))


def test_float32_default_model_agrees_with_float64_on_movielens(movielens_home):
    from nmfrec.datasets import ml100k_folds

    train, test = ml100k_folds(data_home=movielens_home, folds=("u1",), download=False)["u1"]
    rmse = {}
    for dtype in ("float64", "float32"):
        rec = Recommender(random_state=0, dtype=dtype).fit(train)
        assert rec.model_.W_.dtype == np.dtype(dtype)
        assert rec.ranking_model_.W_.dtype == np.dtype(dtype)
        p = np.clip(rec.predict(test[["user", "item"]]), 1, 5)
        p = np.where(np.isnan(p), train["rating"].mean(), p)
        rmse[dtype] = float(np.sqrt(np.mean((p - test["rating"]) ** 2)))
    assert abs(rmse["float32"] - rmse["float64"]) <= 0.001, rmse


def test_idle_openmp_threads_sleep_unless_the_user_chose():
    code = "import os, nmfrec; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "ACTIVE"


@pytest.mark.parametrize("implicit, preference_rating", [(False, False), (True, False),
                                                         (True, True)])
def test_nndsvd_leading_vectors_are_the_svd_s_and_the_data_untouched(implicit,
                                                                     preference_rating):
    from nmfrec._init import nndsvd_components
    from nmfrec.ratings import as_ratings_matrix

    X = _random_csr(8, 50, 35, 0.3)
    X.data *= 1e-3                      # a scale far from 1: the operator divides by it
    R = as_ratings_matrix(X)
    before = R.csr.data.copy()
    W, Ht = nndsvd_components(R, 4, "nndsvd", np.random.default_rng(0), implicit=implicit,
                              preference_rating=preference_rating)
    np.testing.assert_array_equal(R.csr.data, before)      # no scaling in place
    A = R.csr.toarray()
    if implicit and not preference_rating:
        A = (A != 0).astype(float)
    U, S, Vt = np.linalg.svd(A)
    for got, ref in ((W[:, 0], U[:, 0]), (Ht[:, 0], Vt[0])):
        np.testing.assert_allclose(got / np.linalg.norm(got), np.abs(ref), atol=1e-8)
    assert W.shape == (50, 4) and Ht.shape == (35, 4)
    assert np.all(W >= 0) and np.all(Ht >= 0)


def test_warm_up_touches_the_kernels_of_the_common_paths():
    """A fresh process: after ``warm_up`` every kernel a default fit, its rankings and
    MaskedNMF's solvers use has a compiled (or cache-loaded) signature, and so has the
    serial twin of each parallel one (what small problems run)."""
    code = ("import nmfrec._kernels as K, nmfrec.warmup as w\n"
            "assert w.warm_up() > 0\n"
            "names = ['gibbs_update_rows', 'cd_update_rows', 'als_update_rows', "
            "'mu_update_rows', 'pgd_update_rows', 'row_sq_errors', 'fit_stats', 'dot_pairs', "
            "'topk_scored']\n"
            "kernels = [getattr(K, n) for n in names]\n"
            "kernels += [K.serial(k) for k in kernels if k.targetoptions.get('parallel')]\n"
            "print(sorted(k.__name__ for k in kernels if not k.signatures))")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def test_warm_up_prints_no_warning():
    # its two-iteration fits stop short of convergence on purpose: no ConvergenceWarning
    import warnings

    from nmfrec.warmup import warm_up

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warm_up()
    assert [str(w.message) for w in caught] == []

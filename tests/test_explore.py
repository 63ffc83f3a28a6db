"""Thompson sampling (``explore=``) against references: the row Gaussian against a dense
NumPy build of the row's normal equations, the projection against scipy's NNLS, the
draws' moments against the Gaussian's, and the lists against the fitted ranking."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import scipy.sparse as sp
from scipy.optimize import nnls

from nmfrec import MaskedNMF, Recommender
from nmfrec import _explore as E
from nmfrec._kernels import project_nonneg

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning",
                                        "ignore::nmfrec.exceptions.FallbackWarning")

QUICK = dict(n_components=2, preference_components=4, n_samples=20, prior="wishart",
             random_state=0)


def ratings(n_users=30, n_items=40, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[:, 0] = mask[0, :] = True
    u, i = np.nonzero(mask)
    return pd.DataFrame({"user": 10 + u, "item": 500 + i,
                         "rating": rng.integers(1, 6, u.size).astype(float)})


@pytest.fixture(scope="module")
def rec():
    return Recommender(ranking="preference", **QUICK).fit(ratings())


def dense_problem(part, csr):
    """Each cell's confidence and target, dense (the objective's weights)."""
    X = csr.toarray()
    obs = np.zeros(X.shape, dtype=bool)
    obs[np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr)), csr.indices] = True
    if part.feedback == "implicit":
        C = np.where(obs, 1.0 + part.alpha * X, part.missing_weight)
        P = np.where(obs, X if part.preference == "rating" else 1.0, 0.0)
    else:
        C, P = obs.astype(float), X
    return C, P


@pytest.mark.parametrize("params", [
    dict(feedback="implicit", preference="rating", alpha=0.0, missing_weight=0.3,
         reg_scale="weight", l2_W=0.05, l2_H=0.05),
    dict(feedback="implicit", preference="binary", alpha=2.0, missing_weight=0.5,
         reg_scale="count", l2_W=0.2, l2_H=0.1),
    dict(feedback="explicit", user_bias=True, item_bias=True, reg_scale="none",
         l2_W=0.3, l2_H=0.3),
], ids=["weighted-zeros", "binary-count", "explicit-biases"])
def test_row_gaussian_equals_a_dense_solve_of_the_normal_equations(params):
    df = ratings(12, 15, 0.5)
    csr = sp.csr_matrix((df["rating"], (df["user"] - 10, df["item"] - 500)))
    part = MaskedNMF(n_components=3, max_iter=300, tol=1e-12, random_state=0,
                     **params).fit(csr)
    post = E.RowPosterior(part, csr)
    C, P = dense_problem(part, csr)
    H = part.components_.T.astype(float)
    W = part.W_.astype(float)
    free = ~part._layout.fixed_W.astype(bool)
    # the noise variance: the weighted mean squared residual over the data term's cells
    cells = C.size if part.feedback == "implicit" else int(C.sum())
    S = W @ H.T
    assert post.sigma2 == pytest.approx(float((C * (P - S) ** 2).sum()) / cells, rel=1e-8)
    for u in range(csr.shape[0]):
        lo, hi = csr.indptr[u], csr.indptr[u + 1]
        r = {"weight": C[u].sum(), "count": float(hi - lo), "none": 1.0}[part.reg_scale]
        ref = (H.T * C[u]) @ H + r * part.l2_W * np.eye(H.shape[1])
        ref = ref[np.ix_(free, free)]
        A = post.precision(csr.indices[lo:hi], csr.data[lo:hi])
        np.testing.assert_allclose(A, ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(post.covariance(csr.indices[lo:hi], csr.data[lo:hi]),
                                   post.sigma2 * np.linalg.inv(ref), rtol=1e-8, atol=1e-14)
        # the fit is where the row's normal equations hold on its positive coordinates
        pos = W[u, free] > 1e-8
        fixed_part = H[:, ~free] @ W[u, ~free]
        b = ((C[u] * (P[u] - fixed_part)) @ H)[free]
        g = ref @ W[u, free] - b
        np.testing.assert_allclose(g[pos], 0.0, atol=1e-3 * max(1.0, np.abs(b).max()))
        assert np.all(g[~pos] >= -1e-3 * max(1.0, np.abs(b).max()))


def test_projection_is_scipy_nnls_in_the_metric():
    rng = np.random.default_rng(3)
    for _ in range(20):
        k = int(rng.integers(1, 9))
        M = rng.standard_normal((k + 3, k))
        A = M.T @ M + 0.1 * np.eye(k)
        z = rng.standard_normal(k)
        L = np.linalg.cholesky(A)
        ref, _ = nnls(L.T, L.T @ z)                     # min ||L^T (w - z)||, w >= 0
        np.testing.assert_allclose(project_nonneg(A, z, 10_000, 1e-14), ref, atol=1e-8)
    z = np.abs(rng.standard_normal(5))
    np.testing.assert_array_equal(project_nonneg(np.eye(5) + 0.3, z, 100, 0.0), z)


def test_draws_have_the_gaussians_mean_and_covariance():
    # a row far from 0 in every coordinate (many ratings): the projection never acts
    rng = np.random.default_rng(0)
    Wt, Ht = rng.uniform(1, 2, (6, 2)), rng.uniform(1, 2, (200, 2))
    X = sp.csr_matrix(Wt @ Ht.T + 0.1 * rng.standard_normal((6, 200)))
    part = MaskedNMF(n_components=2, max_iter=500, tol=1e-12, random_state=0).fit(X)
    post = E.RowPosterior(part, X)
    u = 2
    cols, vals = X.indices[X.indptr[u]:X.indptr[u + 1]], X.data[X.indptr[u]:X.indptr[u + 1]]
    gen = np.random.default_rng(1)
    draws = np.array([post.draw(part.W_[u], cols, vals, 1.0, gen) for _ in range(20_000)])
    cov = post.covariance(cols, vals)
    sd = np.sqrt(np.diag(cov))
    assert np.all(part.W_[u] > 8 * sd)
    np.testing.assert_allclose(draws.mean(axis=0), part.W_[u], atol=4 * sd.max() / np.sqrt(2e4))
    np.testing.assert_allclose(np.cov(draws.T), cov, rtol=0.05, atol=0.05 * sd.max() ** 2)
    # explore scales the covariance
    half = np.array([post.draw(part.W_[u], cols, vals, 0.25, gen) for _ in range(20_000)])
    np.testing.assert_allclose(np.cov(half.T), 0.25 * cov, rtol=0.05, atol=0.05 * sd.max() ** 2)


def test_draws_are_nonnegative_and_center_on_the_fit_with_many_ratings(rec):
    part = rec.ranking_model_
    post = E.RowPosterior(part, rec.ratings_)
    csr = rec.ratings_
    gen = np.random.default_rng(0)
    u = int(np.argmax(np.diff(csr.indptr)))
    cols, vals = csr.indices[csr.indptr[u]:csr.indptr[u + 1]], csr.data[csr.indptr[u]:csr.indptr[u + 1]]
    draws = np.array([post.draw(part.W_[u], cols, vals, 1.0, gen) for _ in range(2000)])
    assert draws.min() >= 0.0
    tiny = np.array([post.draw(part.W_[u], cols, vals, 1e-6, gen) for _ in range(2000)])
    sd = np.sqrt(np.diag(post.covariance(cols, vals)))
    np.testing.assert_allclose(tiny.mean(axis=0), part.W_[u], atol=1e-2 * sd.max())


def test_vanishing_explore_gives_the_fitted_list(rec):
    for user in rec.users_.labels_[:10]:
        greedy = rec.recommend(user, k=8)
        near = rec.recommend(user, k=8, explore=1e-14, random_state=4)
        assert near["item"].tolist() == greedy["item"].tolist()
        np.testing.assert_allclose(near["score"], greedy["score"], rtol=1e-6)
        zero = rec.recommend(user, k=8, explore=0.0, random_state=4)
        pd.testing.assert_frame_equal(zero, greedy)
        off = rec.recommend(user, k=8, explore=False)
        pd.testing.assert_frame_equal(off, greedy)


def test_same_seed_same_list_other_seeds_differ(rec):
    user = rec.users_.labels_[3]
    a = rec.recommend(user, k=10, explore=4.0, random_state=7)
    b = rec.recommend(user, k=10, explore=4.0, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    lists = {tuple(rec.recommend(user, k=10, explore=4.0, random_state=s)["item"])
             for s in range(10)}
    assert len(lists) > 1
    # a Generator: the same state gives the same list
    g1, g2 = np.random.default_rng(11), np.random.default_rng(11)
    pd.testing.assert_frame_equal(rec.recommend(user, explore=True, random_state=g1),
                                  rec.recommend(user, explore=True, random_state=g2))


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_a_users_list_is_the_same_alone_or_in_a_batch(rec, batch_size):
    users = rec.users_.labels_[::-1][:12]
    many = rec.recommend_many(users, k=6, explore=True, random_state=5, batch_size=batch_size)
    for user in users:
        alone = rec.recommend(user, k=6, explore=True, random_state=5)
        got = many[many["user"] == user]
        assert got["item"].tolist() == alone["item"].tolist()
        np.testing.assert_array_equal(got["score"].to_numpy(), alone["score"].to_numpy())


def test_recommend_many_default_is_unchanged(rec):
    pd.testing.assert_frame_equal(rec.recommend_many(k=5), rec.recommend_many(k=5, explore=False))
    pd.testing.assert_frame_equal(
        rec.recommend_many(k=5, explore=1e-14, random_state=0)[["user", "item", "rank"]],
        rec.recommend_many(k=5)[["user", "item", "rank"]])


def test_recommend_new_explores_around_the_folded_in_row(rec):
    items = rec.items_.labels_
    new = {items[1]: 5.0, items[4]: 3.0, items[7]: 4.0}
    greedy = rec.recommend_new(new, k=8)
    assert rec.recommend_new(new, k=8, explore=1e-14, random_state=1)["item"].tolist() == \
        greedy["item"].tolist()
    a = rec.recommend_new(new, k=8, explore=True, random_state=2)
    pd.testing.assert_frame_equal(a, rec.recommend_new(new, k=8, explore=True, random_state=2))
    assert not set(a["item"]) & set(new)
    newcomer = rec.recommend_new({}, k=8)
    assert rec.recommend_new({}, k=8, explore=1e-14, random_state=1)["item"].tolist() == \
        newcomer["item"].tolist()


def test_bayesian_ranking_draws_one_kept_draw():
    rec = Recommender(ranking="rating", **QUICK).fit(ratings())
    part = rec.ranking_model_
    nf, kept = part.n_factors_per_draw, part.noise_precision_.size
    user = rec.users_.labels_[2]
    u = 2
    W, H = part.W_.astype(float), part.components_.astype(float)
    per_draw = [kept * W[u, t * nf:(t + 1) * nf] @ H[t * nf:(t + 1) * nf] for t in range(kept)]
    drawn = E.sample_scores(rec, user, 1.0, random_state=3)
    matches = [t for t, s in enumerate(per_draw) if np.allclose(s, drawn, rtol=1e-10)]
    assert len(matches) == 1
    mean = W[u] @ H
    half = E.sample_scores(rec, user, 0.25, random_state=3)    # the same draw, half-way
    np.testing.assert_allclose(half, mean + 0.5 * (per_draw[matches[0]] - mean), rtol=1e-10)
    top = rec.recommend(user, k=5, explore=True, random_state=3)
    seen = set(rec.ratings_.indices[rec.ratings_.indptr[u]:rec.ratings_.indptr[u + 1]])
    order = [i for i in np.argsort(-drawn, kind="stable") if i not in seen][:5]
    assert top["item"].tolist() == list(rec.items_.labels(np.array(order)))


def test_popularity_draws_a_gamma_of_the_counts():
    rec = Recommender(ranking="popularity", **QUICK).fit(ratings())
    counts = rec.ranking_model_.components_[0]
    draws = np.array([E.sample_scores(rec, rec.users_.labels_[0], 2.0, random_state=s)
                      for s in range(4000)])
    np.testing.assert_allclose(draws.mean(axis=0), counts + 0.5, rtol=0.05)
    np.testing.assert_allclose(draws.var(axis=0), 2.0 * (counts + 0.5), rtol=0.15)
    a = rec.recommend_many(k=5, explore=True, random_state=1)
    b = rec.recommend_many(k=5, explore=True, random_state=1)
    pd.testing.assert_frame_equal(a, b)
    for user in rec.users_.labels_[:5]:
        alone = rec.recommend(user, k=5, explore=True, random_state=1)
        assert a[a["user"] == user]["item"].tolist() == alone["item"].tolist()


def test_explore_works_on_implicit_feedback_and_after_a_round_trip(tmp_path, rec):
    path = rec.save(tmp_path / "m.npz")
    loaded = Recommender.load(path)
    pd.testing.assert_frame_equal(loaded.recommend_many(k=5, explore=True, random_state=9),
                                  rec.recommend_many(k=5, explore=True, random_state=9))
    clicks = ratings()[["user", "item"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seen = Recommender(n_components=3, random_state=0, ranking="preference").fit(clicks)
    user = seen.users_.labels_[0]
    assert seen.recommend(user, k=5, explore=1e-14, random_state=0)["item"].tolist() == \
        seen.recommend(user, k=5)["item"].tolist()


@pytest.mark.parametrize("bad", ["yes", -0.5, float("nan"), float("inf"), None])
def test_bad_explore_is_refused(rec, bad):
    with pytest.raises(ValueError, match="explore must be True, False or a finite number >= 0"):
        rec.recommend(rec.users_.labels_[0], explore=bad)


def test_bad_random_state_is_refused(rec):
    with pytest.raises(ValueError, match="random_state must be None, a non-negative integer"):
        rec.recommend_many(k=3, explore=True, random_state=-1)


def test_a_row_without_curvature_gets_no_spread():
    A = np.diag([2.0, 0.0])
    step = E._precision_solve(A, np.array([1.0, 1.0]))
    np.testing.assert_allclose(step, [1 / np.sqrt(2.0), 0.0])
    with pytest.raises(np.linalg.LinAlgError):
        scipy.linalg.cholesky(A, lower=True)

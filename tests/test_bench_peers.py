"""Fast checks of the peer adapters of benchmarks/peers.py on small synthetic ratings.

The adapters score peers through their learned parameters instead of the peers' own
per-pair calls; these tests show that this gives the peers' own answers.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import peers  # noqa: E402
from nmfrec.datasets import make_ratings  # noqa: E402
from nmfrec.evaluation import GlobalMean, Popularity, evaluate, random_split  # noqa: E402


@pytest.fixture(scope="module")
def split():
    df = make_ratings(120, 200, 3000, rank=5, seed=1)
    train, test = random_split(df, test_size=0.2, random_state=0)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _brute_topk(model, users, k):
    """Top-k by scoring every (user, train item) pair through predict-style scores."""
    rows = []
    for u in users:
        ui = model.users_.get_loc(u)
        s = model._pair_scores(np.full(len(model.items_), ui), np.arange(len(model.items_)))
        seen = model.ratings_[ui].indices
        s[seen] = -np.inf
        order = np.argsort(-s, kind="stable")[:k]
        rows.append(model.items_.to_numpy()[order])
    return rows


def _check_recommend(model, train, k=7):
    users = np.sort(train["user"].unique())[:25]
    recs = model.recommend_many(users, k=k)
    assert list(recs.columns) == ["user", "item", "score", "rank"]
    seen = recs.merge(train[["user", "item"]], on=["user", "item"])
    assert seen.empty
    for u, want in zip(users, _brute_topk(model, users, k)):
        got = recs[recs["user"] == u]
        assert got["rank"].tolist() == list(range(1, k + 1))
        assert np.all(np.diff(got["score"].to_numpy()) <= 0)
        np.testing.assert_array_equal(got["item"].to_numpy(), want)


@pytest.mark.parametrize(
    "algo, params",
    [("SVD", {}), ("NMF", {}), ("NMF", {"biased": True}), ("BaselineOnly", {})],
)
def test_surprise_scores_equal_surprise_predict(split, algo, params):
    pytest.importorskip("surprise")
    train, test = split
    m = peers.SurpriseAdapter(algo, random_state=0, **params) if algo != "BaselineOnly" \
        else peers.SurpriseAdapter(algo)
    m.fit(train)
    # unknown user, unknown item, both unknown: Surprise's own fallbacks must apply
    new = 10**6
    test = pd.concat([test, pd.DataFrame({"user": [new, train["user"].iloc[0], new],
                                          "item": [train["item"].iloc[0], new, new + 1],
                                          "rating": 3.0})], ignore_index=True)
    # every test pair, unknown users/items included, against Surprise's own estimate
    want = np.array([m.algo_.predict(u, i, clip=False).est
                     for u, i in zip(test["user"], test["item"])])
    np.testing.assert_allclose(m.predict(test[["user", "item"]]), want, rtol=1e-12,
                               atol=1e-12)
    _check_recommend(m, train)


def test_surprise_check_catches_a_wrong_score(split):
    pytest.importorskip("surprise")
    train, _ = split
    m = peers.SurpriseAdapter("SVD", random_state=0).fit(train)
    m.bi_ = m.bi_ + 0.1
    with pytest.raises(AssertionError, match="vectorized score"):
        m._check(train)


@pytest.mark.parametrize("cls", [peers.ImplicitALS, peers.ImplicitBPR])
def test_implicit_lists_equal_implicit_recommend(split, cls):
    pytest.importorskip("implicit")
    train, _ = split
    m = cls(factors=8, random_state=0).fit(train)
    assert peers.protocols_of(m) == ("ranking",)
    _check_recommend(m, train)
    # implicit's own recommend on the same user_items gives the same lists
    users = np.sort(train["user"].unique())[:25]
    uidx = m.users_.get_indexer(users)
    ui = m._user_items()
    ids, _ = m.model_.recommend(uidx, ui[uidx], N=7, filter_already_liked_items=True)
    ours = m.recommend_many(users, k=7)
    for row, u in zip(ids, users):
        got = ours.loc[ours["user"] == u, "item"].to_numpy()
        # float32 near-ties may swap neighbours; the sets agree
        assert set(m.items_.to_numpy()[row]) == set(got)


def test_implicit_is_deterministic(split):
    pytest.importorskip("implicit")
    train, _ = split
    for cls in (peers.ImplicitALS, peers.ImplicitBPR):
        a = cls(factors=8, random_state=3).fit(train)
        b = cls(factors=8, random_state=3).fit(train)
        np.testing.assert_array_equal(a.U_, b.U_)


def test_implicit_values(split):
    pytest.importorskip("implicit")
    train, _ = split
    raw = peers.ImplicitALS(factors=4, values="raw").fit(train)._user_items()
    assert sorted(np.unique(raw.data)) == sorted(train["rating"].unique())
    binary = peers.ImplicitALS(factors=4, values="binary").fit(train)._user_items()
    assert np.all(binary.data == 1.0)


def test_sklearn_zero_filled(split):
    pytest.importorskip("sklearn")
    from sklearn.decomposition import NMF

    train, test = split
    m = peers.SklearnZeroFilledNMF(n_components=5, random_state=0, max_iter=50).fit(train)
    X = m.ratings_.toarray()
    W = NMF(n_components=5, random_state=0, max_iter=50).fit_transform(X)
    np.testing.assert_allclose(m.U_, W, rtol=1e-6, atol=1e-8)
    p = m.predict(test[["user", "item"]])
    known = m.users_.get_indexer(test["user"]) >= 0
    known &= m.items_.get_indexer(test["item"]) >= 0
    assert np.isnan(p[~known]).all() and np.isfinite(p[known]).all()
    _check_recommend(m, train)


def test_cornac_equals_cornac_score(split):
    pytest.importorskip("cornac")
    train, _ = split
    m = peers.CornacNMF(seed=0, max_iter=10).fit(train)
    ds_u = m.model_.train_set.uid_map
    ds_i = m.model_.train_set.iid_map
    u = m.users_[3]
    full = m.model_.score(ds_u[u])
    pairs = pd.DataFrame({"user": u, "item": m.items_})
    want = full[[ds_i[i] for i in m.items_]]
    np.testing.assert_allclose(m.predict(pairs), want, rtol=1e-5, atol=1e-6)
    _check_recommend(m, train)


def test_protocols_of():
    assert peers.protocols_of(GlobalMean()) == ("rating",)
    assert peers.protocols_of(Popularity()) == ("rating", "ranking")
    assert peers.protocols_of(peers.SurpriseAdapter()) == ("rating", "ranking")
    assert peers.protocols_of(peers.ImplicitBPR()) == ("ranking",)


def test_evaluate_runs_each_adapter_on_its_protocols(split):
    pytest.importorskip("surprise")
    pytest.importorskip("implicit")
    train, test = split
    for m in (peers.SurpriseAdapter("BaselineOnly"), peers.ImplicitBPR(factors=4)):
        r = evaluate(m, train, test, k=5, protocols=peers.protocols_of(m))
        assert ("rmse" in r) == ("rating" in peers.protocols_of(m))
        assert 0.0 <= r["precision"] <= 1.0

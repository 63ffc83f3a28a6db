"""The default Recommender(): a Bayesian rating part that predicts and a preference part that
ranks. References: brute-force NumPy over each part's factors, constructed cases where the
right answer is known, and MovieLens 100K (genre overlap of similar items, the peers)."""

import numpy as np
import pandas as pd
import pytest

from nmfrec import BayesianNMF, MaskedNMF, Recommender
from nmfrec.datasets import load_movielens, ml100k_folds
from nmfrec.evaluation import Popularity, evaluate
from nmfrec.evaluation.similar import attribute_overlap, similar_items_overlap

FAST = dict(n_samples=40, preference_components=8, random_state=0)


def ratings(n_users=40, n_items=30, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    taste = rng.random((n_users, 3)) @ rng.random((3, n_items))
    mask = rng.random((n_users, n_items)) < density
    mask[:, 0] = mask[0, :] = True
    u, i = np.nonzero(mask)
    r = np.clip(np.round(1 + 4 * taste[u, i] / taste.max()), 1, 5)
    return pd.DataFrame({"user": u + 1, "item": 100 + i, "rating": r})


@pytest.fixture(scope="module")
def fitted():
    df = ratings()
    return df, Recommender(**FAST).fit(df)


def test_the_two_parts_and_what_each_answers(fitted):
    df, rec = fitted
    assert isinstance(rec.model_, BayesianNMF) and isinstance(rec.ranking_model_, MaskedNMF)
    assert rec.ranking_model_.feedback == "implicit" and rec.ranking_model_.preference == "rating"
    assert rec.predicts_ratings
    # predict is the rating part, clipped; recommend ranks by the preference part
    u, i = rec.users_.number(1), rec.items_.number(101)
    raw = float(rec.model_.predict_entries([u], [i])[0])
    assert rec.predict(1, 101, clip=False) == raw
    assert rec.predict(1, 101) == np.clip(raw, 1, 5)
    S = rec.ranking_model_.W_ @ rec.ranking_model_.components_
    seen = set(df.loc[df.user == 1, "item"])
    cand = [j for j in range(S.shape[1]) if rec.items_.labels_[j] not in seen]
    order = sorted(cand, key=lambda j: (-S[u, j], j))[:5]
    top = rec.recommend(1, k=5)
    assert top["item"].tolist() == rec.items_.labels_[order].tolist()
    np.testing.assert_allclose(top["score"], S[u, order], rtol=1e-12)


def test_explain_splits_both_scores_into_named_parts(fitted):
    df, rec = fitted
    for user in (1, 7, 23):
        for item in (100, 111, 129):
            ex = rec.explain(user, item)
            rating = ex[ex["part"] == "rating"]
            pref = ex[ex["part"] == "preference"]
            assert ex.attrs["ranked_by"] == "preference"
            k = rec.model_.n_components_
            assert set(rating["component"]) == {f"c{j}" for j in range(k)} | {"user_bias",
                                                                             "item_bias"}
            assert set(pref["component"]) == {f"p{j}" for j in range(8)}
            # the rating parts sum to the unclipped prediction, the preference parts to the
            # ranking score; components are non-negative, offsets may be signed
            assert rating["contribution"].sum() == pytest.approx(
                rec.predict(user, item, clip=False), abs=1e-10)
            assert pref["contribution"].sum() == pytest.approx(ex.attrs["ranking_score"],
                                                               abs=1e-12)
            comps = rating[rating["component"].str.startswith("c")]
            assert (comps["contribution"] >= 0).all() and (pref["contribution"] >= 0).all()
            assert set(ex["component"]) == set(rec.component_names_)
    top = rec.recommend(5, k=1)
    assert rec.explain(5, top["item"][0]).attrs["ranking_score"] == pytest.approx(top["score"][0])


def test_items_rated_once_rank_below_well_evidenced_ones():
    # 60 'solid' items rated 1-5 by ~30% of 150 users, 20 'one-offs' rated 5 once each
    rng = np.random.default_rng(3)
    n_users, n_solid, n_once = 150, 60, 20
    taste = rng.random((n_users, 2)) @ rng.random((2, n_solid))
    rows = [(u, i, float(np.clip(np.round(1 + 4 * taste[u, i] / taste.max()
                                           + rng.normal(0, 0.7)), 1, 5)))
            for u in range(n_users) for i in range(n_solid) if rng.random() < 0.3]
    rows += [(int(rng.integers(0, n_users)), i, 5.0) for i in range(n_solid, n_solid + n_once)]
    df = pd.DataFrame(rows, columns=["user", "item", "rating"])
    rec = Recommender(random_state=0, n_samples=60).fit(df)
    one_offs = set(range(n_solid, n_solid + n_once))
    for u in range(0, n_users, 5):
        assert not one_offs & set(rec.recommend(u, k=10)["item"]), u
    # their predicted ratings are pulled from the one 5 toward the population
    mean = df["rating"].mean()
    users, items = np.repeat(np.arange(n_users), n_once), np.tile(sorted(one_offs), n_users)
    once = rec.predict(users, items).mean()
    assert once - mean < 0.85 * (5.0 - mean), (once, mean)
    # ranking by predicted rating (the old default) puts one-offs first for some users
    old = Recommender(solver="als", ranking="rating", random_state=0).fit(df)
    assert sum(old.recommend(u, k=1)["item"][0] in one_offs for u in range(n_users)) > 10


def test_new_users_and_updates_use_both_parts(fitted):
    df, rec = fitted
    mine = {100: 5.0, 104: 4.0, 117: 1.0, 122: 5.0}
    row = pd.DataFrame({"user": 0, "item": list(mine), "rating": list(mine.values())})
    new = rec.recommend_new(mine, k=6)
    # the preference part's fold-in, ranked by brute force
    w = rec.ranking_model_.transform(np.array([[mine.get(l, np.nan) for l in rec.items_.labels_]]))
    scores = (w @ rec.ranking_model_.components_)[0]
    cand = [j for j in range(scores.size) if rec.items_.labels_[j] not in mine]
    order = sorted(cand, key=lambda j: (-scores[j], j))[:6]
    assert new["item"].tolist() == rec.items_.labels_[order].tolist()
    # fold_in gives the rating part's factors, and update folds the user into both parts
    assert rec.fold_in(mine).shape == (rec.model_.n_factors_,)
    import copy
    upd = copy.deepcopy(rec).update(row.assign(user=999))
    assert upd.recommend(999, k=6)["item"].tolist() == new["item"].tolist()
    np.testing.assert_allclose(upd.user_factors(999), rec.fold_in(mine))


def test_save_and_load_keep_both_parts(fitted, tmp_path):
    df, rec = fitted
    path = rec.save(tmp_path / "m.npz")
    back = Recommender.load(path)
    assert type(back.model_) is BayesianNMF and type(back.ranking_model_) is MaskedNMF
    assert back.get_params() == rec.get_params()
    np.testing.assert_array_equal(back.predict(df), rec.predict(df))
    for user in (1, 2, 3):
        pd.testing.assert_frame_equal(back.recommend(user, k=5), rec.recommend(user, k=5))
        pd.testing.assert_frame_equal(back.explain(user, 105), rec.explain(user, 105))
    np.testing.assert_array_equal(back.fold_in({100: 3.0}), rec.fold_in({100: 3.0}))


def test_ranking_by_rating_and_implicit_feedback_keep_one_part():
    df = ratings(seed=4)
    by_rating = Recommender(n_samples=30, ranking="rating", random_state=0).fit(df)
    assert by_rating.ranking_model_ is by_rating.model_
    assert set(by_rating.explain(1, 100)["part"]) == {"rating"}
    implicit = Recommender(feedback="implicit", n_components=5, random_state=0).fit(df)
    assert implicit.ranking_model_ is implicit.model_ and not implicit.predicts_ratings
    ex = implicit.explain(1, 100)
    assert set(ex["part"]) == {"preference"} and ex.attrs["ranked_by"] == "preference"


def test_attribute_overlap_by_hand():
    attrs = {"a": {"x", "y"}, "b": {"x"}, "c": "y|z", "d": set()}
    # a: b -> 1/2, c -> 1/3; b: a -> 1/2, d -> 0; d: (nothing listed)
    got = attribute_overlap({"a": ["b", "c"], "b": ["a", "d"], "d": []}, attrs)
    assert got == pytest.approx(((1 / 2 + 1 / 3) / 2 + (1 / 2 + 0) / 2) / 2)


# ------------------------------------------------------------------------- MovieLens 100K
@pytest.fixture(scope="module")
def ml100k(movielens_home):
    train, test = ml100k_folds(movielens_home, folds="u1")["u1"]
    items = load_movielens("ml-100k", data_home=movielens_home).items
    return train, test, items


@pytest.mark.movielens
def test_movielens_default_beats_the_baselines_at_both_jobs(ml100k):
    train, test, items = ml100k
    rec = Recommender(random_state=0)
    got = evaluate(rec, train, test, k=10)
    pop = evaluate(Popularity(), train, test, k=10, protocols=("ranking",))
    assert got["rmse"] < 0.925                       # item-mean baseline: ~1.03, SVD: ~0.95
    assert got["precision"] > 1.5 * pop["precision"]  # popularity ~0.25 on u1
    # the list a user sees: well-known films, none rated by fewer than 20 people
    counts = train.groupby("item").size()
    top = rec.recommend(1, k=10)["item"]
    assert counts.reindex(top).min() >= 20


@pytest.mark.movielens
def test_movielens_similar_items_share_more_genres_than_popular_items(ml100k):
    train, _, items = ml100k
    rec = Recommender(random_state=0).fit(train)
    counts = train.groupby("item").size()
    evaluated = counts.index[counts >= 20].tolist()
    genres = items["genres"]
    ours = similar_items_overlap(rec, evaluated, genres, k=10)

    class MostPopular:        # the same ten most popular items for everyone
        def similar_items(self, item, k=10):
            return [j for j in counts.sort_values(ascending=False).index[:k + 1] if j != item][:k]

    popular = similar_items_overlap(MostPopular(), evaluated, genres, k=10)
    assert ours > popular + 0.15              # measured: 0.37 against 0.14
    implicit = pytest.importorskip("implicit")
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares
    users = np.unique(train["user"]); labels = np.unique(train["item"])
    X = sp.csr_matrix((np.ones(len(train), np.float32),
                       (np.searchsorted(users, train["user"]), np.searchsorted(labels, train["item"]))))
    als = AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15, random_state=0)
    als.fit(X, show_progress=False)

    class ImplicitSimilar:
        def similar_items(self, item, k=10):
            ids, _ = als.similar_items(int(np.searchsorted(labels, item)), N=k + 1)
            return [labels[j] for j in ids if labels[j] != item][:k]

    assert ours >= similar_items_overlap(ImplicitSimilar(), evaluated, genres, k=10) - 0.01

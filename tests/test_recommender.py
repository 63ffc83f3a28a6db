"""Recommender against references: brute-force NumPy rankings over W @ H.T, scipy's NNLS
for fold-in, pandas means for the baseline, and the factors themselves for explanations."""

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls

from nmfrec._auto import DataStats, Rule, missing_weight, preference_l2, preference_rank
from nmfrec.exceptions import ConvergenceWarning, NotFittedError
from nmfrec.recommender import FORMAT_VERSION, Recommender

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")

# the plain penalized model ranking by its own scores (no biases, unscaled penalties);
# the default model (Bayesian rating part, preference part) is tested in test_default_model.py
PARAMS = dict(n_components=3, solver="als", ranking="rating", max_iter=15, tol=1e-6,
              random_state=0, l2_W=0.1, l2_H=0.1, user_bias=False, item_bias=False,
              reg_scale="none")
BIASED = dict(PARAMS, user_bias=True, item_bias=True, reg_scale="count")


# ----------------------------------------------------------------------------- data
def make_ratings(n_users=12, n_items=15, density=0.55, seed=0, string_ids=False):
    """A random ratings frame with non-trivial raw ids (not 0..n-1, not in index order)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[:, 0] = mask[0, :] = True            # every user and item has a rating
    u, i = np.nonzero(mask)
    rating = rng.integers(1, 6, u.size).astype(float)
    if string_ids:
        users = np.array([f"u{x:02d}" for x in range(n_users)], dtype=object)[u]
        items = np.array([f"item-{(7 * x) % n_items:02d}" for x in range(n_items)], dtype=object)[i]
    else:
        users, items = 100 + 3 * u, 1000 - 10 * i
    df = pd.DataFrame({"user": users, "item": items, "rating": rating})
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)   # shuffled rows


@pytest.fixture(scope="module", params=[False, True], ids=["int_ids", "str_ids"])
def fitted(request):
    df = make_ratings(string_ids=request.param)
    return df, Recommender(**PARAMS).fit(df)


def dense_scores(rec):
    return rec.model_.W_.astype(np.float64) @ rec.model_.components_.astype(np.float64)


def brute_recommend(rec, df, user, k, exclude_seen=True, items=None, exclude=None):
    """Reference top-k: sort every candidate by (-score, inner index) with NumPy."""
    S = dense_scores(rec)
    labels = rec.items_.labels_
    u = int(np.flatnonzero(rec.users_.labels_ == user)[0])
    cand = np.ones(len(labels), bool)
    if exclude_seen:
        cand &= ~np.isin(labels, df.loc[df["user"] == user, "item"].to_numpy())
    if items is not None:
        cand &= np.isin(labels, items)
    if exclude is not None:
        cand &= ~np.isin(labels, exclude)
    idx = np.flatnonzero(cand)
    order = idx[np.lexsort((idx, -S[u, idx]))][:k]
    return labels[order], S[u, order]


def assert_ranking(frame, ref_items, ref_scores, col="score"):
    assert list(frame.columns[:2]) == ["item", col]
    np.testing.assert_array_equal(frame["item"].to_numpy(), ref_items)
    np.testing.assert_allclose(frame[col].to_numpy(), ref_scores, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------- rankings
@pytest.mark.parametrize("k", [1, 4, 100])
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_recommend_equals_bruteforce_for_every_user(fitted, k, exclude_seen):
    df, rec = fitted
    for user in rec.users_.labels_:
        got = rec.recommend(user, k=k, exclude_seen=exclude_seen)
        assert_ranking(got, *brute_recommend(rec, df, user, k, exclude_seen))
        n_cand = len(rec.items_) - (df["user"] == user).sum() * exclude_seen
        assert len(got) == min(k, n_cand)


def test_recommend_whitelist_and_blacklist(fitted):
    df, rec = fitted
    labels = rec.items_.labels_
    white, black = list(labels[::2]), list(labels[:5])
    for user in rec.users_.labels_:
        for kw in (dict(items=white), dict(exclude=black), dict(items=white, exclude=black)):
            got = rec.recommend(user, k=4, **kw)
            assert_ranking(got, *brute_recommend(rec, df, user, 4, True, **kw))
    # an unknown label in the blacklist cannot be recommended anyway: ignored
    user = rec.users_.labels_[0]
    pd.testing.assert_frame_equal(rec.recommend(user, exclude=black + [labels[0] * 2]),
                                  rec.recommend(user, exclude=black))
    with pytest.raises(KeyError, match="is not in the training data"):
        rec.recommend(user, items=[labels[0] * 2])
    assert len(rec.recommend(user, items=[])) == 0


def test_recommend_ties_go_to_lower_item_index():
    df = make_ratings(seed=3)
    rec = Recommender(**PARAMS).fit(df)
    rng = np.random.default_rng(1)
    # small integer factors: scores are exact and tie a lot, in every implementation
    rec.model_.W_ = rng.integers(0, 2, rec.model_.W_.shape).astype(np.float64)
    rec.model_.components_ = rng.integers(0, 2, rec.model_.components_.shape).astype(np.float64)
    for user in rec.users_.labels_:
        for k in (1, 3, 15):
            assert_ranking(rec.recommend(user, k=k, exclude_seen=False),
                           *brute_recommend(rec, df, user, k, exclude_seen=False))
            assert_ranking(rec.recommend(user, k=k), *brute_recommend(rec, df, user, k))


@pytest.mark.parametrize("batch_size", [1, 5, 1024])
def test_recommend_many_equals_looping_recommend(fitted, batch_size):
    df, rec = fitted
    users = list(rec.users_.labels_[::-1][:7]) + [rec.users_.labels_[3]]   # any order, repeats
    kw = dict(k=4, exclude=list(rec.items_.labels_[:2]))
    got = rec.recommend_many(users, batch_size=batch_size, **kw)
    ref = []
    for u in users:
        one = rec.recommend(u, **kw)
        one.insert(0, "user", u)
        one["rank"] = np.arange(1, len(one) + 1)
        ref.append(one)
    pd.testing.assert_frame_equal(got, pd.concat(ref, ignore_index=True))
    everyone = rec.recommend_many(k=3, exclude_seen=False, batch_size=batch_size)
    assert everyone["user"].tolist() == list(np.repeat(rec.users_.labels_, 3))
    assert everyone["rank"].tolist() == [1, 2, 3] * len(rec.users_)
    assert len(rec.recommend_many([], k=3)) == 0


def test_similar_items_is_cosine_of_item_factors(fitted):
    _, rec = fitted
    H = rec.item_factors()
    unit = H / np.linalg.norm(H, axis=1, keepdims=True)
    C = unit @ unit.T
    labels = rec.items_.labels_
    for i, item in enumerate(labels):
        idx = np.delete(np.arange(len(labels)), i)
        order = idx[np.lexsort((idx, -C[i, idx]))][:5]
        got = rec.similar_items(item, k=5)
        assert item not in got["item"].tolist()
        np.testing.assert_array_equal(got["item"].to_numpy(), labels[order])
        np.testing.assert_allclose(got["similarity"].to_numpy(), C[i, order], rtol=1e-12)


def test_similar_items_zero_norm_item_has_no_nan():
    df = make_ratings(seed=4)
    rec = Recommender(**PARAMS).fit(df)
    rec.model_.components_[:, 2] = 0.0
    labels = rec.items_.labels_
    got = rec.similar_items(labels[2], k=100)
    assert len(got) == len(labels) - 1
    assert np.all(got["similarity"].to_numpy() == 0.0)
    np.testing.assert_array_equal(got["item"].to_numpy(), np.delete(labels, 2))   # ties: index order
    other = rec.similar_items(labels[0], k=100)
    assert not other["similarity"].isna().any()
    assert other.set_index("item").loc[labels[2], "similarity"] == 0.0


def _titles(frame):
    """Title column with pandas' missing marker (NaN in a str column) as None."""
    return [None if pd.isna(t) else t for t in frame["title"]]


def test_top_items_and_titles(fitted):
    _, rec = fitted
    labels = rec.items_.labels_
    titles = {lab: f"Title of {lab}" for lab in labels[:-1]}         # last item has none
    rec2 = Recommender(**PARAMS).fit(fitted[0], item_titles=pd.Series(titles))
    for j in range(rec2.model_.W_.shape[1]):
        w = rec2.model_.components_[j]
        order = np.lexsort((np.arange(w.size), -w))[:4]
        got = rec2.top_items(j, n=4)
        pd.testing.assert_frame_equal(got, rec2.top_items(f"c{j}", n=4))
        np.testing.assert_array_equal(got["item"].to_numpy(), labels[order])
        np.testing.assert_array_equal(got["weight"].to_numpy(), w[order])
        assert _titles(got) == [titles.get(x) for x in labels[order]]
    rec_titles = rec2.recommend(rec2.users_.labels_[0], k=50, exclude_seen=False)
    assert _titles(rec_titles) == [titles.get(x) for x in rec_titles["item"]]
    assert rec2.item_titles_[-1] is None
    with pytest.raises(KeyError, match="component 'c99' does not exist"):
        rec2.top_items("c99")
    with pytest.raises(IndexError, match="component must be in"):
        rec2.top_items(3)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        rec2.top_items(0, n=0)


# ------------------------------------------------------------------------ predictions
def test_predict_frame_scalar_and_clipping(fitted):
    df, rec = fitted
    S = dense_scores(rec)
    u = rec.users_.index(df["user"].to_numpy())
    i = rec.items_.index(df["item"].to_numpy())
    raw = S[u, i]
    lo, hi = df["rating"].min(), df["rating"].max()
    np.testing.assert_allclose(rec.predict(df, clip=False), raw, rtol=1e-12)
    np.testing.assert_allclose(rec.predict(df), np.clip(raw, lo, hi), rtol=1e-12)
    assert rec.predict(df, clip=False).max() > hi or rec.predict(df, clip=False).min() < lo \
        or np.all((raw >= lo) & (raw <= hi))
    r0 = df.iloc[0]
    got = rec.predict(r0["user"], r0["item"])
    assert isinstance(got, float) and got == pytest.approx(np.clip(raw[0], lo, hi), rel=1e-12)
    np.testing.assert_allclose(rec.predict(df["user"].tolist(), df["item"].tolist()),
                               rec.predict(df), rtol=0, atol=0)
    # recognised column names and explicit ones
    other = df.rename(columns={"user": "userId", "item": "movieId"})
    np.testing.assert_array_equal(rec.predict(other), rec.predict(df))
    np.testing.assert_array_equal(rec.predict(df.rename(columns={"user": "who"}), user_col="who"),
                                  rec.predict(df))


def test_predict_unknown_is_nan_or_baseline(fitted):
    df, rec = fitted
    known_u, known_i = df["user"].iloc[0], df["item"].iloc[0]
    new_u = "nobody" if isinstance(known_u, str) else -5
    new_i = "no-item" if isinstance(known_i, str) else -7
    pairs = pd.DataFrame({"user": [known_u, new_u, known_u, new_u],
                          "item": [known_i, known_i, new_i, new_i]}, dtype=object)
    got = rec.predict(pairs)
    assert not np.isnan(got[0]) and np.isnan(got[1:]).all()
    assert np.isnan(rec.predict(new_u, known_i))
    base = rec.predict(pairs, unknown="baseline")
    assert base[0] == got[0]
    mu = df["rating"].mean()

    def damped(r):          # five pseudo-ratings at the global mean
        return (r.sum() + 5 * mu) / (r.size + 5)

    assert base[1] == pytest.approx(damped(df.loc[df["item"] == known_i, "rating"]), rel=1e-12)
    assert base[2] == pytest.approx(damped(df.loc[df["user"] == known_u, "rating"]), rel=1e-12)
    assert base[3] == pytest.approx(mu, rel=1e-12)
    with pytest.raises(ValueError, match="unknown must be one of"):
        rec.predict(pairs, unknown="zero")


def test_predict_warns_on_an_id_of_the_other_kind_and_raises_on_request(fitted):
    df, rec = fitted
    known_u, known_i = df["user"].iloc[0], df["item"].iloc[0]
    ints = not isinstance(known_u, str)
    other_u = str(known_u) if ints else 196          # the same id, of the other kind
    other_i = str(known_i) if ints else 7
    kinds = "integers" if ints else "strings"
    with pytest.warns(UserWarning, match=rf"user {other_u!r} is not in the training data, "
                      rf"whose user ids are {kinds} \(e\.g\. .*\); predict returns NaN for such ids") as rec_w:
        assert np.isnan(rec.predict(other_u, known_i))
    assert rec_w[0].filename == __file__                 # the caller's line
    pairs = pd.DataFrame({"user": [known_u, other_u, other_u], "item": [known_i, known_i, other_i]},
                         dtype=object)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = rec.predict(pairs, unknown="baseline")
    said = [str(w.message) for w in caught]
    assert len(said) == 2 and "(and 1 more), whose user ids" in said[0]
    assert said[1].startswith(f"item {other_i!r} is not in the training data, whose item ids")
    assert said[1].endswith("predict returns the baseline for such ids.")
    assert np.isfinite(got).all()
    # the recommend message, word for word
    with pytest.raises(KeyError) as raised:
        rec.recommend(other_u)
    with pytest.raises(KeyError) as predicted:
        rec.predict(other_u, known_i, unknown="raise")
    assert predicted.value.args == raised.value.args
    with pytest.raises(KeyError, match=r"item .* is not in the training data, whose item ids"):
        rec.predict(pairs.iloc[[2]].assign(user=known_u), unknown="raise")
    # an unknown id of the right kind: NaN, quietly, as documented
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(rec.predict("nobody" if not ints else -5, known_i))
    with pytest.raises(KeyError, match="is not in the training data"):
        rec.predict("nobody" if not ints else -5, known_i, unknown="raise")


def test_explain_parts_are_nonnegative_and_sum_to_the_prediction(fitted):
    df, rec = fitted
    for user in rec.users_.labels_[:6]:
        for item in rec.items_.labels_[::3]:
            ex = rec.explain(user, item)
            assert list(ex.columns) == ["part", "component", "contribution", "share"]
            assert (ex["part"] == "rating").all() and ex.attrs["ranked_by"] == "rating"
            assert sorted(ex["component"]) == sorted(rec.component_names_)
            assert (ex["contribution"] >= 0).all()
            assert np.all(np.diff(ex["contribution"].to_numpy()) <= 0)
            pred = rec.predict(user, item, clip=False)
            assert abs(ex["contribution"].sum() - pred) <= 1e-10
            assert ex.attrs["prediction"] == pred
            assert ex.attrs["clipped"] == rec.predict(user, item)
            if pred > 0:
                assert ex["share"].sum() == pytest.approx(1.0, abs=1e-12)
    u = rec.users_.labels_[0]
    with pytest.raises(KeyError, match="is not in the training data"):
        rec.explain(u, "nope" if isinstance(u, str) else 123456)


def test_float32_model_ranks_explains_and_round_trips(tmp_path):
    df = make_ratings(seed=9)
    rec = Recommender(**{**PARAMS, "dtype": "float32"}).fit(df)
    assert rec.model_.W_.dtype == np.float32
    for user in rec.users_.labels_:
        got = rec.recommend(user, k=5)
        ref_items, ref_scores = brute_recommend(rec, df, user, 5)
        np.testing.assert_array_equal(got["item"].to_numpy(), ref_items)
        np.testing.assert_allclose(got["score"].to_numpy(), ref_scores, rtol=1e-6)
        item = rec.recommend(user, k=1, exclude_seen=False)["item"].iloc[0]
        ex = rec.explain(user, item)     # float32 products summed as predict sums them
        assert abs(ex["contribution"].sum() - rec.predict(user, item, clip=False)) <= 1e-10
    rec.save(tmp_path / "f32.npz")
    back = Recommender.load(tmp_path / "f32.npz")
    assert back.model_.W_.dtype == np.float32
    pd.testing.assert_frame_equal(back.recommend_many(k=4), rec.recommend_many(k=4))


# --------------------------------------------------------------------- new users
def _hold_out_user(seed=5, string_ids=False):
    df = make_ratings(n_users=14, n_items=10, density=0.7, seed=seed, string_ids=string_ids)
    user = sorted(df["user"].unique())[4]
    rest, mine = df[df["user"] != user], df[df["user"] == user]
    assert set(mine["item"]) <= set(rest["item"])
    return rest, mine, user


@pytest.mark.parametrize("l2", [0.3, 2.0])
def test_fold_in_equals_transform_and_scipy_nnls(l2):
    rest, mine, _ = _hold_out_user()
    rec = Recommender(**{**PARAMS, "l2_W": l2}).fit(rest)
    w = rec.fold_in(dict(zip(mine["item"], mine["rating"])))

    # the model's own row solve on the same row
    cols = rec.items_.index(mine["item"].to_numpy())
    row = sp.csr_matrix((mine["rating"].to_numpy(), (np.zeros(len(cols), int), cols)),
                        shape=(1, len(rec.items_)))
    np.testing.assert_allclose(w, rec.model_.transform(row)[0], rtol=0, atol=1e-12)

    # an independent NNLS: min ||[H_obs; sqrt(l2) I] w - [r; 0]||, w >= 0
    H = rec.item_factors()[cols]
    k = H.shape[1]
    A = np.vstack([H, np.sqrt(l2) * np.eye(k)])
    b = np.concatenate([mine["rating"].to_numpy(), np.zeros(k)])
    ref, _ = nnls(A, b)
    np.testing.assert_allclose(w, ref, atol=1e-8)

    # the same ratings as a Series or a frame give the same factors
    np.testing.assert_array_equal(rec.fold_in(mine.set_index("item")["rating"]), w)
    np.testing.assert_array_equal(rec.fold_in(mine[["item", "rating"]]), w)


def test_recommend_new_ranks_with_the_folded_in_factors():
    rest, mine, _ = _hold_out_user(string_ids=True)
    rec = Recommender(**PARAMS).fit(rest)
    ratings = dict(zip(mine["item"], mine["rating"]))
    w = rec.fold_in(ratings)
    S = rec.item_factors() @ w
    labels = rec.items_.labels_
    for exclude_seen in (True, False):
        idx = np.arange(len(labels))
        if exclude_seen:
            idx = idx[~np.isin(labels, list(ratings))]
        order = idx[np.lexsort((idx, -S[idx]))][:4]
        assert_ranking(rec.recommend_new(ratings, k=4, exclude_seen=exclude_seen),
                       labels[order], S[order])
    with pytest.raises(KeyError, match="unseen at fit"):
        rec.recommend_new({"never-seen": 4.0})
    with pytest.raises(ValueError, match=r"at least one rating.*recommend_new\(\{\}\)"):
        rec.fold_in({})
    with pytest.raises(ValueError, match="negative"):
        rec.fold_in({labels[0]: -1.0})


@pytest.mark.parametrize("params", [PARAMS, dict(n_components=2, n_samples=10,
                                                 preference_components=3, max_iter=5,
                                                 random_state=0)],
                         ids=["ranked_by_rating", "preference_part"])
def test_a_newcomer_gets_the_mean_known_users_list(fitted, params):
    df, _ = fitted
    rec = Recommender(**params).fit(df)
    # brute force: every known user's ranking scores, averaged per item
    S = (rec.ranking_model_.W_.astype(np.float64)
         @ rec.ranking_model_.components_.astype(np.float64)).mean(axis=0)
    labels = rec.items_.labels_
    idx = np.arange(labels.size)
    for k, items, exclude in ((5, None, None), (100, None, None),
                              (3, labels[::2], None), (4, None, labels[:3])):
        cand = idx[np.isin(labels, labels if items is None else items)
                   & ~np.isin(labels, [] if exclude is None else exclude)]
        order = cand[np.lexsort((cand, -S[cand]))][:k]
        got = rec.recommend_new({}, k=k, items=items, exclude=exclude)
        np.testing.assert_array_equal(got["item"].to_numpy(), labels[order])
        np.testing.assert_allclose(got["score"].to_numpy(), S[order], rtol=1e-10)
    empty = pd.DataFrame({"item": [], "rating": []})
    for nothing in (pd.Series([], dtype=float), empty):
        pd.testing.assert_frame_equal(rec.recommend_new(nothing), rec.recommend_new({}))


def test_update_new_and_existing_users_like_fold_in():
    rest, mine, user = _hold_out_user()
    rec = Recommender(**PARAMS).fit(rest)
    H_before, W_before = rec.model_.components_.copy(), rec.model_.W_.copy()
    n_before = len(rec.users_)
    old_user = rest["user"].iloc[0]
    old_rows = rest[rest["user"] == old_user]
    unseen = sorted(set(rest["item"]) - set(old_rows["item"]))[:2]
    extra = pd.DataFrame({"user": [old_user] * 2, "item": unseen, "rating": [5.0, 1.0]})
    rec.update(pd.concat([mine, extra], ignore_index=True))

    assert len(rec.users_) == n_before + 1 and rec.users_.labels_[-1] == user
    np.testing.assert_array_equal(rec.model_.components_, H_before)        # items frozen
    np.testing.assert_array_equal(rec.user_factors(user),
                                  rec.fold_in(dict(zip(mine["item"], mine["rating"]))))
    merged = pd.concat([old_rows, extra])
    np.testing.assert_array_equal(rec.user_factors(old_user),
                                  rec.fold_in(dict(zip(merged["item"], merged["rating"]))))
    untouched = [j for j, u in enumerate(rec.users_.labels_[:n_before]) if u != old_user]
    np.testing.assert_array_equal(rec.model_.W_[untouched], W_before[untouched])
    # the new ratings count as seen, and the new user gets recommendations
    assert not set(rec.recommend(old_user, k=100)["item"]) & set(unseen)
    assert not set(rec.recommend(user, k=100)["item"]) & set(mine["item"])
    assert not np.isnan(rec.predict(user, mine["item"].iloc[0]))
    mu = rec.global_mean_        # damped by five pseudo-ratings at the fit's global mean
    assert rec.user_means_[-1] == pytest.approx((mine["rating"].sum() + 5 * mu)
                                                / (len(mine) + 5))
    # re-rating an item replaces the old value
    first = old_rows.iloc[0]
    rec.update(pd.DataFrame({"user": [old_user], "item": [first["item"]], "rating": [0.0]}))
    u = rec.users_.index([old_user])[0]
    j = rec.items_.index([first["item"]])[0]
    assert rec.ratings_[u, j] == 0.0 and rec.ratings_[u].nnz == len(merged)
    with pytest.raises(KeyError, match="cannot be folded in. Refit"):
        rec.update(pd.DataFrame({"user": [old_user], "item": [987654], "rating": [3.0]}))


# --------------------------------------------------------------------- save / load
@pytest.mark.parametrize("string_ids", [False, True], ids=["int_ids", "str_ids"])
def test_save_load_round_trip_gives_identical_outputs(tmp_path, string_ids):
    df = make_ratings(seed=6, string_ids=string_ids)
    rec = Recommender(**PARAMS).fit(df, item_titles={x: f"T{x}" for x in df["item"].unique()[:5]})
    rec.update(df.iloc[:3].assign(user=df["user"].iloc[:3].map(lambda x: f"{x}_new")
                                  if string_ids else df["user"].iloc[:3] + 10_000))
    path = tmp_path / "model.npz"
    assert rec.save(path) == str(path)
    assert not [p for p in os.listdir(tmp_path) if p != "model.npz"]        # no temp file left
    back = Recommender.load(path)
    assert back.get_params() == rec.get_params()
    np.testing.assert_array_equal(back.model_.W_, rec.model_.W_)
    np.testing.assert_array_equal(back.model_.components_, rec.model_.components_)
    assert back.users_ == rec.users_ and back.items_ == rec.items_
    pairs = df.sample(20, random_state=0)
    np.testing.assert_array_equal(back.predict(pairs), rec.predict(pairs))
    pd.testing.assert_frame_equal(back.recommend_many(k=5), rec.recommend_many(k=5))
    for u in rec.users_.labels_[:3]:
        pd.testing.assert_frame_equal(back.recommend(u, k=6), rec.recommend(u, k=6))
    item = rec.items_.labels_[1]
    pd.testing.assert_frame_equal(back.similar_items(item, k=4), rec.similar_items(item, k=4))
    pd.testing.assert_frame_equal(back.explain(rec.users_.labels_[0], item),
                                  rec.explain(rec.users_.labels_[0], item))
    pd.testing.assert_frame_equal(back.top_items(0), rec.top_items(0))
    new = dict(zip(df["item"].iloc[:3], [5.0, 1.0, 3.0]))
    pd.testing.assert_frame_equal(back.recommend_new(new), rec.recommend_new(new))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    rec = Recommender(**PARAMS).fit(make_ratings(seed=7))
    path = tmp_path_factory.mktemp("saved") / "model.npz"
    rec.save(path)
    return rec, path.read_bytes()


def test_load_truncated_file(saved, tmp_path):
    _, data = saved
    for cut in (10, len(data) // 2, len(data) - 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"cut{cut}\.npz: .*truncated or corrupted"):
            Recommender.load(bad)


def test_load_and_save_name_the_model_file_and_a_folder_given_for_it(saved, tmp_path):
    rec, _ = saved
    with pytest.raises(FileNotFoundError, match=r"^model file '.*nope\.npz' does not exist\.$"):
        Recommender.load(tmp_path / "nope.npz")
    with pytest.raises(IsADirectoryError, match=r"^model file '.*' is a folder, not a file\.$"):
        Recommender.load(tmp_path)
    with pytest.raises(IsADirectoryError, match=rf"^cannot save {re.escape(str(tmp_path))}: it "
                       r"is a folder; give the model file's name, e.g\. .*model\.npz\.$"):
        rec.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []          # no temporary left
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.npz: not an nmfrec model file; it is empty"):
        Recommender.load(empty)


def test_load_bit_flipped_file(saved, tmp_path):
    rec, data = saved
    w_at = data.find(rec.model_.W_.tobytes()[:32])
    meta_at = data.find('"format_version"'.encode("utf-32-le"))   # a unicode array
    assert w_at > 0 and meta_at > 0
    for pos in (w_at + 40, meta_at + 3):
        flipped = bytearray(data)
        flipped[pos] ^= 0x04
        bad = tmp_path / f"flip{pos}.npz"
        bad.write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match=rf"flip{pos}\.npz: .*corrupted"):
            Recommender.load(bad)


def test_load_foreign_and_newer_files(saved, tmp_path):
    _, data = saved
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.arange(3))
    with pytest.raises(ValueError, match=r"foreign\.npz: not an nmfrec model file"):
        Recommender.load(foreign)
    text = tmp_path / "text.npz"
    text.write_text("user,item,rating\n1,2,3\n")
    with pytest.raises(ValueError, match=r"text\.npz: not an nmfrec model file; it is a text "
                       r"file \(first line 'user,item,rating'\)\. A model file is the \.npz") as e:
        Recommender.load(text)
    assert "pickle" not in str(e.value)          # numpy's advice is not for this file
    single = tmp_path / "single.npy"
    np.save(single, np.arange(3))
    with pytest.raises(ValueError, match="single .npy array"):
        Recommender.load(single)
    # a file from the future: same layout, higher format version
    good = tmp_path / "good.npz"
    good.write_bytes(data)
    with np.load(good) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(str(arrays["__nmfrec_meta__"]))
    meta["format_version"] = FORMAT_VERSION + 1
    arrays["__nmfrec_meta__"] = np.array(json.dumps(meta))
    newer = tmp_path / "newer.npz"
    np.savez(newer, **arrays)
    with pytest.raises(ValueError, match=rf"newer\.npz: written in format version "
                                         rf"{FORMAT_VERSION + 1}.*upgrade nmfrec"):
        Recommender.load(newer)
    with pytest.raises(FileNotFoundError):
        Recommender.load(tmp_path / "missing.npz")


# --------------------------------------------------------------------- bad input
def test_fit_input_errors():
    df = make_ratings()
    rec = Recommender(**PARAMS)
    with pytest.raises(KeyError, match="no user column found"):
        rec.fit(df.rename(columns={"user": "who"}))
    with pytest.raises(KeyError, match="item column 'movie' not found"):
        rec.fit(df, item_col="movie")
    with pytest.raises(ValueError, match="ambiguous user column"):
        rec.fit(df.assign(userId=df["user"]))
    with pytest.raises(ValueError, match="1 NaN values"):
        rec.fit(df.assign(rating=df["rating"].where(df.index != 3)))
    with pytest.raises(ValueError, match="negative values.*Shift them"):
        rec.fit(df.assign(rating=df["rating"] - 2))
    with pytest.raises(ValueError, match="empty"):
        rec.fit(df.iloc[:0])
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        rec.fit(df.to_numpy())
    with pytest.raises(ValueError, match="n_components must be None or an integer >= 1; got 0"):
        Recommender(n_components=0).fit(df)
    with pytest.raises(NotFittedError, match="call fit before recommend"):
        Recommender().recommend(1)


def test_duplicates_raise_or_combine():
    df = make_ratings()
    dup = pd.concat([df, df.iloc[[0]].assign(rating=df["rating"].iloc[0] % 5 + 0.5)],
                    ignore_index=True)
    u, i, r_first, r_last = dup["user"].iloc[0], dup["item"].iloc[0], dup["rating"].iloc[0], dup["rating"].iloc[-1]
    with pytest.raises(ValueError, match="1 duplicate \\(user, item\\) pairs"):
        Recommender(**PARAMS).fit(dup)
    for policy, expected in (("last", r_last), ("mean", (r_first + r_last) / 2)):
        rec = Recommender(**PARAMS).fit(dup, duplicates=policy)
        a, b = rec.users_.index([u])[0], rec.items_.index([i])[0]
        assert rec.ratings_[a, b] == expected
        assert rec.ratings_.nnz == len(df)


def test_query_errors(fitted):
    _, rec = fitted
    user = rec.users_.labels_[0]
    bad_user = "u99" if isinstance(user, str) else 999
    with pytest.raises(KeyError, match=f"user {bad_user!r} is not in the training data"):
        rec.recommend(bad_user)
    with pytest.raises(KeyError, match=f"user {bad_user!r} is not in the training data"):
        rec.recommend_many([user, bad_user])
    for k in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            rec.recommend(user, k=k)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        rec.recommend_many(k=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        rec.recommend_many(batch_size=0)
    bad_item = "nope" if isinstance(user, str) else 31337
    with pytest.raises(KeyError, match=f"item {bad_item!r} is not in the training data"):
        rec.similar_items(bad_item)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        rec.similar_items(rec.items_.labels_[0], k=0)


def test_sparse_input_uses_indices_as_ids_and_keeps_zero_ratings():
    X = sp.random(8, 9, density=0.5, random_state=np.random.default_rng(0), format="csr")
    X.data = np.round(X.data * 5)                 # some explicit zeros: observed ratings of 0
    assert (X.data == 0).any()
    rec = Recommender(**PARAMS).fit(X)
    assert rec.users_.labels_.tolist() == list(range(8))
    assert rec.items_.labels_.tolist() == list(range(9))
    assert rec.ratings_.nnz == X.nnz
    for u in range(8):
        rated = set(X[u].indices)
        got = rec.recommend(u, k=20)
        assert not rated & set(got["item"])
        assert len(got) == 9 - len(rated)


def test_get_set_params():
    rec = Recommender(n_components=4, solver="als", l2_W=0.5)
    assert rec.get_params()["n_components"] == 4 and rec.get_params()["solver"] == "als"
    rec.set_params(n_components=2, max_iter=3)
    assert rec.n_components == 2 and rec.max_iter == 3
    with pytest.raises(ValueError, match="Invalid parameter 'rank'"):
        rec.set_params(rank=3)
    assert repr(rec) == "Recommender(n_components=2, solver='als', max_iter=3, l2_W=0.5)"


# --------------------------------------------------------------------- MovieLens
@pytest.mark.movielens
def test_movielens_100k_user_196_gets_ten_unrated_titles(movielens_home):
    path = movielens_home / "ml-100k"
    ratings = pd.read_csv(path / "u.data", sep="\t", names=["user", "item", "rating", "ts"])
    info = pd.read_csv(path / "u.item", sep="|", encoding="latin-1", header=None)
    titles = pd.Series(info[1].to_numpy(), index=info[0].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rec = Recommender(n_components=10, max_iter=10, random_state=0).fit(
            ratings[["user", "item", "rating"]], item_titles=titles)
    got = rec.recommend(196, 10)
    rated = set(ratings.loc[ratings["user"] == 196, "item"])
    assert len(got) == 10
    assert not rated & set(got["item"])
    assert got["title"].notna().all()
    assert got["title"].tolist() == titles.loc[got["item"]].tolist()
    assert np.all(np.diff(got["score"].to_numpy()) <= 0)


@pytest.mark.movielens
def test_movielens_100k_newcomers_get_popular_well_liked_films(movielens_home):
    from nmfrec.datasets import load_movielens

    ml = load_movielens("ml-100k", data_home=movielens_home)
    rec = Recommender(random_state=0).fit(ml.ratings, item_titles=ml.items["title"])
    got = rec.recommend_new({}, k=10)
    stats = ml.ratings.groupby("item")["rating"].agg(["size", "mean"])
    most_rated = stats["size"].sort_values(ascending=False, kind="stable")
    listed = stats.loc[got["item"]]
    # popular: every film among the 30 most rated of 1,682 ...
    assert set(got["item"]) <= set(most_rated.index[:30])
    # ... and well liked: each above the mean rating, and the ten better liked on average
    # than the ten most rated (a count alone would list these)
    assert (listed["mean"] > ml.ratings["rating"].mean()).all()
    assert listed["mean"].mean() > stats.loc[most_rated.index[:10], "mean"].mean() + 0.2
    assert "Star Wars (1977)" in got["title"].iloc[:3].tolist()


@pytest.mark.movielens
def test_movielens_100k_u1_beats_the_item_mean_baseline(movielens_home):
    path = movielens_home / "ml-100k"
    if not (path / "u1.base").is_file():
        pytest.skip(f"u1.base/u1.test not found in {path}")
    names = ["user", "item", "rating", "ts"]
    train = pd.read_csv(path / "u1.base", sep="\t", names=names)
    test = pd.read_csv(path / "u1.test", sep="\t", names=names)
    rec = Recommender(n_components=10, max_iter=10, random_state=0).fit(train)
    pred = rec.predict(test, unknown="baseline")
    assert not np.isnan(pred).any()
    rmse = np.sqrt(np.mean((pred - test["rating"]) ** 2))
    # reference: each item's mean training rating (the global mean for unseen items)
    item_mean = test["item"].map(train.groupby("item")["rating"].mean()).fillna(train["rating"].mean())
    rmse_item_mean = np.sqrt(np.mean((item_mean - test["rating"]) ** 2))
    assert rmse < rmse_item_mean - 0.03, (rmse, rmse_item_mean)


# ------------------------------------------------------------------------ biased defaults
def test_biased_fold_in_is_the_row_problem_with_scaled_penalty():
    rest, mine, _ = _hold_out_user()
    rec = Recommender(**{**BIASED, "l2_W": 0.2}).fit(rest)
    assert rec.component_names_ == ["c0", "c1", "c2", "user_bias", "item_bias"]
    w = rec.fold_in(dict(zip(mine["item"], mine["rating"])))
    cols = rec.items_.index(mine["item"].to_numpy())
    H = rec.item_factors()[cols]
    # the item-bias column of W is the constant 1: its part moves to the target; the
    # L2 penalty of the row is scaled by its number of ratings
    target = mine["rating"].to_numpy() - H[:, 4]
    free = H[:, :4]
    lam = 0.2 * len(cols)
    ref, _ = nnls(np.vstack([free, np.sqrt(lam) * np.eye(4)]), np.concatenate([target, np.zeros(4)]))
    np.testing.assert_allclose(w[:4], ref, atol=1e-8)
    assert w[4] == 1.0


def test_biased_explain_names_the_biases_and_sums_to_predict():
    df = make_ratings()
    rec = Recommender(**BIASED).fit(df)
    u, i = rec.users_.labels_[0], rec.items_.labels_[3]
    parts = rec.explain(u, i)
    assert set(parts["component"]) == {"c0", "c1", "c2", "user_bias", "item_bias"}
    assert (parts["contribution"] >= 0).all()
    assert parts["contribution"].sum() == pytest.approx(rec.predict(u, i, clip=False), abs=1e-10)
    ub = parts.set_index("component").loc["user_bias", "contribution"]
    assert ub == rec.model_.user_bias_[rec.users_.number(u)]


def test_biased_recommend_equals_bruteforce():
    df = make_ratings()
    rec = Recommender(**BIASED).fit(df)
    S = rec.model_.W_ @ rec.model_.components_
    seen = np.zeros(S.shape, dtype=bool)
    seen[np.repeat(np.arange(S.shape[0]), np.diff(rec.ratings_.indptr)), rec.ratings_.indices] = True
    for u in range(S.shape[0]):
        cand = np.flatnonzero(~seen[u])
        order = cand[np.lexsort((cand, -S[u, cand]))][:4]
        got = rec.recommend(rec.users_.labels_[u], k=4)
        np.testing.assert_array_equal(got["item"].to_numpy(), rec.items_.labels_[order])


# ------------------------------------------------------------------------ the newcomer's view
def test_convergence_warning_points_at_the_callers_line():
    with pytest.warns(ConvergenceWarning, match="max_iter=1") as record:
        Recommender(**{**PARAMS, "max_iter": 1, "tol": 1e-12}).fit(make_ratings())
    assert record[0].filename == __file__


def test_an_id_of_the_other_kind_is_named_with_examples():
    rec = Recommender(**PARAMS).fit(make_ratings(string_ids=True))
    with pytest.raises(KeyError, match=r"user 1 is not in the training data, whose user ids "
                                       r"are strings \(e\.g\. 'u00', 'u01'\)"):
        rec.recommend(1)
    rec = Recommender(**PARAMS).fit(make_ratings())
    with pytest.raises(KeyError, match=r"user '100' is not in the training data, whose user "
                                       r"ids are integers \(e\.g\. 100, 103\)"):
        rec.recommend("100")
    with pytest.raises(KeyError, match=r"item 'x' is not in the training data, whose item ids "
                                       r"are integers"):
        rec.similar_items("x")


def test_penalties_with_the_bayesian_rating_part_are_an_error_that_says_what_to_do():
    with pytest.raises(ValueError, match=r"l2_W and reg_scale are penalties of a penalized "
                                         r"rating part \(l2_W=0\.1, reg_scale='count'\).*"
                                         r"Pass solver='als'"):
        Recommender(l2_W=0.1, reg_scale="count").fit(make_ratings())
    with pytest.raises(ValueError, match=r"solver='gibbs' samples the rating model; with "
                                         r"feedback='implicit' use solver='als' or 'mu'"):
        Recommender(solver="gibbs", feedback="implicit").fit(make_ratings())


def test_the_model_says_whether_predict_gives_ratings():
    assert Recommender().predicts_ratings is True
    assert Recommender(feedback="implicit").predicts_ratings is False


def test_resolved_params_show_only_what_the_model_uses():
    default = Recommender().resolved_params()
    # a default that follows the data is shown as its rule before a fit
    rules = ("feedback", "n_components", "n_samples", "missing_weight",
             "preference_components", "preference_l2")
    assert all(isinstance(default[name], Rule) for name in rules)
    assert "n_ratings" in default["n_components"] and "density" in default["missing_weight"]
    assert default["solver"] == "gibbs" and default["prior"] == "wishart"
    assert not {"l1_W", "l2_W", "l1_H", "l2_H", "reg_scale"} & set(default)   # none to tune
    assert (default["ranking"], default["preference"], default["alpha"]) == \
        ("preference", "rating", 0.0)
    # the preference part's schedule: a random start, exactly 16 iterations
    assert (default["init"], default["max_iter"], default["tol"]) == ("random", 16, 0.0)
    explicit = Recommender(solver="als", ranking="rating").resolved_params()
    assert not {"alpha", "missing_weight", "preference", "n_samples", "preference_components",
                "preference_l2", "prior"} & set(explicit)
    assert (explicit["n_components"], explicit["reg_scale"], explicit["max_iter"],
            explicit["tol"]) == (30, "count", 50, 1e-4)
    implicit = Recommender(feedback="implicit").resolved_params()
    assert (implicit["alpha"], implicit["preference"], implicit["reg_scale"]) == \
        (1.0, "binary", "weight")
    assert isinstance(implicit["missing_weight"], Rule) and isinstance(implicit["l2_W"], Rule)
    rating = Recommender(feedback="implicit", preference="rating").resolved_params()
    assert rating["alpha"] == 0.0
    # the explicit fit is the model it was before: MaskedNMF's defaults for the unused ones
    rec = Recommender(**PARAMS).fit(make_ratings())
    assert (rec.model_.alpha, rec.model_.missing_weight, rec.model_.preference) == (1.0, 1.0, "binary")


def test_fitted_params_are_the_rules_evaluated_on_the_training_data():
    df = make_ratings()
    rec = Recommender(random_state=0, n_samples=20).fit(df)
    got = rec.fitted_params_
    assert not any(isinstance(v, Rule) for v in got.values())
    stats = DataStats(df["user"].nunique(), df["item"].nunique(), len(df),
                      float(np.sqrt(np.mean(df["rating"] ** 2))))
    assert got["preference_components"] == preference_rank(stats) == \
        rec.ranking_model_.n_components_
    assert got["missing_weight"] == missing_weight(stats) == rec.ranking_model_.missing_weight
    assert got["preference_l2"] == preference_l2(stats)
    # the part's penalty is per unit of row weight, in the targets' units
    assert rec.ranking_model_.l2_W == pytest.approx(got["preference_l2"] * stats.target_rms)
    assert rec.ranking_model_.reg_scale == "weight"
    assert got["n_components"] == rec.model_.n_components_
    assert got["feedback"] == rec.feedback_ == "explicit"
    # only what the data chose: not the parameters given, nor the fixed defaults
    assert not {"n_samples", "random_state", "solver", "alpha"} & set(got)
    # resolved_params still shows the rules after the fit
    assert isinstance(rec.resolved_params()["missing_weight"], Rule)


@pytest.mark.parametrize("string_ids", [False, True], ids=["int_ids", "str_ids"])
def test_item_factors_mirror_user_factors(string_ids):
    rec = Recommender(**BIASED).fit(make_ratings(string_ids=string_ids))
    H = rec.model_.components_.T
    labels = rec.items_.labels_
    np.testing.assert_array_equal(rec.item_factors(), H)
    np.testing.assert_array_equal(rec.item_factors(labels[3]), H[3])
    np.testing.assert_array_equal(rec.item_factors(list(labels[[4, 1]])), H[[4, 1]])
    u, i = rec.users_.labels_[2], labels[5]
    assert rec.user_factors(u) @ rec.item_factors(i) == pytest.approx(rec.predict(u, i, clip=False),
                                                                      rel=1e-12)
    copy = rec.item_factors()
    copy[:] = -1
    assert np.all(rec.model_.components_ >= 0)          # a copy, not the model's array
    with pytest.raises(KeyError, match="is not in the training data"):
        rec.item_factors("nope" if string_ids else 31337)
    with pytest.raises(NotFittedError, match="call fit before item_factors"):
        Recommender().item_factors()

"""Protocols A and B on the baselines, checked against brute-force NumPy."""

import math

import numpy as np
import pandas as pd
import pytest

from nmfrec.evaluation import (
    CVResult,
    GlobalMean,
    Popularity,
    cross_validate,
    evaluate,
    kfold,
    user_split,
)


@pytest.fixture
def split():
    rng = np.random.default_rng(11)
    n = 3000
    keys = np.unique(rng.integers(0, 50, n) * 100 + np.minimum(rng.geometric(0.05, n), 99))
    df = pd.DataFrame(
        {
            "user": keys // 100,
            "item": keys % 100,
            "rating": rng.integers(1, 6, keys.size).astype(float),
        }
    )
    train, test = user_split(df, 0.25, random_state=0)
    # a cold item and a cold user in test, to be counted not dropped
    extra = pd.DataFrame({"user": [3, 777], "item": [555, 1], "rating": [5.0, 4.0]})
    return train, pd.concat([test, extra], ignore_index=True)


def _brute_popularity(train, test, k, threshold=4.0):
    """Protocol B for a popularity ranker, one user at a time."""
    counts = train.groupby("item").size()
    order = sorted(counts.index, key=lambda i: (-counts[i], i))
    seen = {u: set(g) for u, g in train.groupby("user")["item"]}
    p, r, nd, ap_, hr, shown = [], [], [], [], [], set()
    for u, g in test.groupby("user"):
        rel = set(g.loc[g["rating"] >= threshold, "item"])
        if not rel or u not in seen:
            continue
        top = [i for i in order if i not in seen[u]][:k]
        shown.update(top)
        hits = [i in rel for i in top]
        p.append(sum(hits) / k)
        r.append(sum(hits) / len(rel))
        dcg = sum(1 / math.log2(j + 2) for j, h in enumerate(hits) if h)
        nd.append(dcg / sum(1 / math.log2(j + 2) for j in range(min(k, len(rel)))))
        h, ap = 0, 0.0
        for j, x in enumerate(hits):
            if x:
                h += 1
                ap += h / (j + 1)
        ap_.append(ap / min(k, len(rel)))
        hr.append(float(any(hits)))
    return {
        "precision": np.mean(p), "recall": np.mean(r), "ndcg": np.mean(nd),
        "map": np.mean(ap_), "hit_rate": np.mean(hr),
        "coverage": len(shown & set(counts.index)) / len(counts), "n_users_scored": len(p),
    }


def test_popularity_both_protocols_match_brute_force(split):
    train, test = split
    res = evaluate(Popularity(damping=5.0), train, test, k=5)
    ref = _brute_popularity(train, test, k=5)
    for key, val in ref.items():
        assert res[key] == pytest.approx(val), key
    # rating protocol: damped item means, global mean for the cold item, clipped
    mu = train["rating"].mean()
    st = train.groupby("item")["rating"].agg(["sum", "count"])
    item_mean = (st["sum"] + 5.0 * mu) / (st["count"] + 5.0)
    pred = test["item"].map(item_mean).fillna(mu).to_numpy()
    pred = np.clip(pred, train["rating"].min(), train["rating"].max())
    err = test["rating"].to_numpy() - pred
    assert res["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)))
    assert res["mae"] == pytest.approx(np.mean(np.abs(err)))
    cold_user = ~test["user"].isin(set(train["user"]))
    cold_item = ~test["item"].isin(set(train["item"]))
    assert res["n_test_unknown"] == int((cold_user | cold_item).sum()) >= 2
    assert res["n_test_unknown_user"] == int(cold_user.sum()) == 1
    assert res["n_test_unknown_item"] == int(cold_item.sum())
    assert res["n_users_unknown"] == 1  # user 777 has a relevant item but no train row
    assert res["n_test"] == len(test) and res["fit_time"] >= 0


def test_global_mean_rating_only(split):
    train, test = split
    res = evaluate(GlobalMean(), train, test, protocols=("rating",))
    err = test["rating"].to_numpy() - train["rating"].mean()
    assert res["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)))
    assert "precision" not in res
    with pytest.raises(TypeError, match="neither recommend_many nor recommend"):
        evaluate(GlobalMean(), train, test)


class _Const:
    """Predicts a constant, NaN for the user 777."""

    def __init__(self, value):
        self.value = value

    def fit(self, train):
        return self

    def predict(self, pairs):
        return np.where(pairs["user"].to_numpy() == 777, np.nan, self.value)


def test_predictions_are_clipped_and_missing_is_reported(split):
    train, test = split
    known = test["user"].to_numpy() != 777
    res = evaluate(_Const(10.0), train, test, protocols="rating", missing="ignore")
    y = test["rating"].to_numpy()[known]
    assert res["rmse"] == pytest.approx(np.sqrt(np.mean((y - 5.0) ** 2)))  # clipped to 5
    assert res["n_pred_missing"] == 1
    res = evaluate(_Const(10.0), train, test, protocols="rating")  # global_mean fill
    pred = np.where(known, 5.0, train["rating"].mean())
    assert res["mae"] == pytest.approx(np.mean(np.abs(test["rating"].to_numpy() - pred)))
    with pytest.raises(ValueError, match="missing predictions for 1 of"):
        evaluate(_Const(3.0), train, test, protocols="rating", missing="error")


class _SingleUserOnly:
    """Exposes only recommend(user, k), like a minimal peer adapter."""

    def __init__(self):
        self.inner = Popularity()

    def fit(self, train):
        self.inner.fit(train)
        return self

    def predict(self, pairs):
        return self.inner.predict(pairs)

    def recommend(self, user, k):
        return self.inner.recommend(user, k)


def test_recommend_fallback_equals_batch(split):
    train, test = split
    a = evaluate(Popularity(), train, test, protocols="ranking")
    b = evaluate(_SingleUserOnly(), train, test, protocols="ranking")
    for key in ("precision", "recall", "ndcg", "map", "hit_rate", "coverage"):
        assert a[key] == pytest.approx(b[key])


class _Leaky(Popularity):
    def recommend_many(self, users, k=10, exclude_seen=True):
        return super().recommend_many(users, k, exclude_seen=False)


def test_recommending_seen_items_is_an_error(split):
    train, test = split
    with pytest.raises(ValueError, match="items that their users rated in train"):
        evaluate(_Leaky(), train, test, protocols="ranking")


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"protocols": ("speed",)}, ValueError, "protocols must be"),
        ({"k": 0}, ValueError, "k must be a positive"),
        ({"missing": "zero"}, ValueError, "missing must be one of"),
    ],
)
def test_evaluate_argument_errors(split, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        evaluate(Popularity(), *split, **kwargs)


def test_evaluate_frame_errors(split):
    train, test = split
    with pytest.raises(ValueError, match=r"test is missing column\(s\) \['rating'\]"):
        evaluate(Popularity(), train, test.drop(columns="rating"))
    with pytest.raises(ValueError, match="train is empty"):
        evaluate(Popularity(), train.iloc[:0], test)


def test_cross_validate_table_mean_and_std(split):
    df = pd.concat(split, ignore_index=True)
    df = df[df["user"] != 777].drop_duplicates(["user", "item"])
    folds = list(kfold(df, n_splits=3, random_state=0))
    cv = cross_validate(Popularity, folds, k=5)
    assert isinstance(cv, CVResult)
    assert cv.folds.shape[0] == 3 and list(cv.table.index) == ["0", "1", "2", "mean", "std"]
    per_fold = [evaluate(Popularity(), tr, te, k=5)["precision"] for tr, te in folds]
    assert cv.mean["precision"] == pytest.approx(np.mean(per_fold))
    assert cv.std["precision"] == pytest.approx(np.std(per_fold, ddof=1))
    named = cross_validate(lambda: Popularity(), {"a": folds[0], "b": folds[1]},
                           protocols=("rating",))
    assert list(named.folds.index) == ["a", "b"] and "precision" not in named.folds
    with pytest.raises(TypeError, match="make_model must be a callable"):
        cross_validate(Popularity(), folds)
    with pytest.raises(ValueError, match="folds is empty"):
        cross_validate(Popularity, [])

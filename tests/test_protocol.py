"""Protocols A and B on the baselines, checked against brute-force NumPy."""

import importlib
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from nmfrec.evaluation import (
    CVResult,
    GlobalMean,
    Popularity,
    SupportsPredict,
    SupportsRecommend,
    check_ratings_frame,
    cross_validate,
    evaluate,
    kfold,
    predicts_ratings,
    user_split,
)
from nmfrec import RatingsMatrix
from nmfrec.exceptions import MissingColumnError, NotFittedError, ProtocolSkippedWarning


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
    res = evaluate(_Const(10.0), train, test, protocols="rating", missing="global_mean")
    pred = np.where(known, 5.0, train["rating"].mean())
    assert res["mae"] == pytest.approx(np.mean(np.abs(test["rating"].to_numpy() - pred)))
    # the default: the item's damped mean from train, by hand
    res = evaluate(_Const(10.0), train, test, protocols="rating")
    item = test["item"].to_numpy()[~known][0]
    r = train.loc[train["item"] == item, "rating"]
    mu = train["rating"].mean()
    fill = (r.sum() + 5 * mu) / (r.size + 5) if r.size else mu
    pred = np.where(known, 5.0, fill)
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
        ({"k": 0}, ValueError, "k must be an integer >= 1"),
        ({"missing": "zero"}, ValueError, "missing must be one of"),
    ],
)
def test_evaluate_argument_errors(split, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        evaluate(Popularity(), *split, **kwargs)


def test_evaluate_frame_errors(split):
    train, test = split
    with pytest.raises(ValueError, match=r"test is missing column\(s\) \['item'\]"):
        evaluate(Popularity(), train, test.drop(columns="item"))
    # a rating column named but absent is an error (without a name, none is click data)
    with pytest.raises(ValueError, match=r"train is missing column\(s\) \['stars'\]"):
        evaluate(Popularity(), train, test, rating_col="stars")
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


# ------------------------------------------------------------------------------ column names
ML = {"user": "userId", "item": "movieId"}


def test_evaluate_reads_movielens_names(split):
    train, test = split
    ref = evaluate(Popularity(), train, test, k=5)
    ml = evaluate(Popularity(), train.rename(columns=ML), test.rename(columns=ML), k=5)
    assert _same_but_times(ref, ml)
    own = {"user": "who", "item": "what", "rating": "stars"}
    named = evaluate(Popularity(), train.rename(columns=own), test.rename(columns=own), k=5,
                     user_col="who", item_col="what", rating_col="stars")
    assert _same_but_times(ref, named)
    cv = cross_validate(Popularity, [(train.rename(columns=ML), test.rename(columns=ML))],
                        k=5)
    assert cv.folds["precision"].iloc[0] == pytest.approx(ref["precision"])


def _same_but_times(a, b):
    keys = [k for k in a if not k.endswith("_time")]
    assert sorted(keys) == sorted(k for k in b if not k.endswith("_time"))
    for key in keys:
        assert a[key] == pytest.approx(b[key]), key
    return True


class _Spy(Popularity):
    """Records the frames the protocol hands to the model."""

    def fit(self, ratings):
        self.fit_columns = list(ratings.columns)
        return super().fit(ratings)

    def predict(self, pairs):
        self.predict_columns = list(pairs.columns)
        return super().predict(pairs)


def test_model_gets_frames_named_user_item_rating(split):
    train, test = split
    extra = train.assign(timestamp=1, user_id=train["user"]).rename(columns=ML)
    spy = _Spy()
    evaluate(spy, extra, test.rename(columns=ML), k=5, user_col="userId")
    # the other user column is dropped, so that the model resolves one column per role
    assert spy.fit_columns == ["user", "item", "rating", "timestamp"]
    assert spy.predict_columns == ["user", "item"]


class _MovieLensRecs(Popularity):
    """Returns recommendation frames named like MovieLens, without a rank column."""

    def recommend_many(self, users, k=10, exclude_seen=True):
        recs = super().recommend_many(users, k, exclude_seen)
        return recs.drop(columns="rank").rename(columns=ML)


def test_recommendation_frames_may_use_movielens_names(split):
    train, test = split
    a = evaluate(Popularity(), train, test, k=5, protocols="ranking")
    b = evaluate(_MovieLensRecs(), train, test, k=5, protocols="ranking")
    assert _same_but_times(a, b)


def test_evaluate_column_errors(split):
    train, test = split
    with pytest.raises(ValueError, match=r"train is missing column\(s\) \['user'\]; it has "
                                         r"\['customer', 'item', 'rating'\] \(a user column "
                                         r"is one of \['user', 'userId'"):
        evaluate(Popularity(), train.rename(columns={"user": "customer"}), test)
    with pytest.raises(ValueError, match="ambiguous item column"):
        evaluate(Popularity(), train.assign(movieId=train["item"]), test)
    with pytest.raises(ValueError, match=r"the frame returned by _NoItem\.recommend_many is "
                                         r"missing column\(s\) \['item'\]"):
        evaluate(_NoItem(), train, test, protocols="ranking")
    with pytest.raises(TypeError, match=r"the frame returned by _NotAFrame\.recommend\(\d+, 10\) "
                                        "must be a pandas DataFrame, a polars DataFrame or a pyarrow "
                                        "Table; got list"):
        evaluate(_NotAFrame(), train, test, protocols="ranking")


def test_missing_columns_are_key_and_value_errors_everywhere(split):
    """One class for a missing column, whichever layer finds it, caught either way."""
    train, test = split
    calls = [
        lambda: evaluate(Popularity(), train.drop(columns="user"), test),
        lambda: evaluate(Popularity(), train, test, item_col="thing"),
        lambda: evaluate(_NoItem(), train, test, protocols="ranking"),
        lambda: Popularity().fit(train, rating_col="stars"),
        lambda: Popularity().fit(train).predict(test.drop(columns="item")),
        lambda: GlobalMean().fit(train.drop(columns="rating")),
        lambda: check_ratings_frame(train, rating_col="stars"),
    ]
    for call in calls:
        for caught in (MissingColumnError, KeyError, ValueError):
            with pytest.raises(caught, match="is missing column"):
                call()
    with pytest.raises(MissingColumnError) as info:
        evaluate(Popularity(), train, test.drop(columns=["user", "item"]))
    # every missing role at once, and the plain message (a KeyError's str would quote it)
    assert str(info.value).startswith("test is missing column(s) ['user', 'item']; it has "
                                      "['rating'] (a user column is one of ['user', ")


def test_evaluate_names_the_frame_of_a_refused_column_choice(split):
    train, test = split
    with pytest.raises(ValueError, match=r"^train: the user, item columns must differ; "
                                         r"got \['user', 'user'\]\.$"):
        evaluate(Popularity(), train, test, item_col="user")
    with pytest.raises(ValueError, match=r"^train: the user, item, rating columns must differ; "
                                         r"got \['user', 'user', 'rating'\]\.$"):
        evaluate(Popularity(), train, test, item_col="user", rating_col="rating")
    with pytest.raises(ValueError, match=r"^test: ambiguous user column: the frame has "
                                         r"\['user', 'userId'\]"):
        evaluate(Popularity(), train, test.assign(userId=test["user"]))
    # a missing role is reported before an ambiguous one, whatever their order
    with pytest.raises(MissingColumnError, match=r"^test is missing column\(s\) \['item'\]"):
        evaluate(Popularity(), train, test.assign(userId=test["user"]).drop(columns="item"))


def test_check_ratings_frame_is_what_models_get(split):
    train, _ = split
    assert check_ratings_frame(train) is train                 # already canonical
    ml = train.rename(columns=ML).assign(user_id=train["user"], timestamp=1)
    out = check_ratings_frame(ml, user_col="userId")
    # the chosen columns renamed, the other candidate for a role dropped, the rest kept
    assert list(out.columns) == ["user", "item", "rating", "timestamp"]
    pd.testing.assert_frame_equal(out[["user", "item", "rating"]], train)
    seen = {}

    class _Spy(Popularity):
        def fit(self, ratings, **kw):
            seen["columns"] = list(ratings.columns)
            return super().fit(ratings, **kw)

    evaluate(_Spy(), ml, ml, user_col="userId", protocols="rating")
    assert seen["columns"] == list(out.columns)
    with pytest.raises(ValueError, match="^fold 3 is empty"):
        check_ratings_frame(train.iloc[:0], "fold 3")
    with pytest.raises(TypeError, match="ratings must be a pandas DataFrame, a polars DataFrame or a pyarrow Table; got dict"):
        check_ratings_frame({"user": [1]})


class _NoItem(Popularity):
    def recommend_many(self, users, k=10, exclude_seen=True):
        return super().recommend_many(users, k, exclude_seen).drop(columns="item")


class _NotAFrame:
    def fit(self, train):
        return self

    def recommend(self, user, k):
        return [1, 2, 3]


# ------------------------------------------------------------------------------ baselines
def test_baselines_read_movielens_and_given_names(split):
    train, test = split
    ml_train, ml_test = train.rename(columns=ML), test.rename(columns=ML)
    ref = Popularity().fit(train)
    ml = Popularity().fit(ml_train)
    np.testing.assert_array_equal(ml.predict(ml_test), ref.predict(test))
    np.testing.assert_array_equal(ml.predict(test), ref.predict(test))   # usual names too
    pd.testing.assert_frame_equal(ml.recommend(3, 5), ref.recommend(3, 5))
    own = Popularity().fit(train.rename(columns={"item": "thing", "rating": "stars"}),
                           item_col="thing", rating_col="stars")
    np.testing.assert_array_equal(own.predict(test.rename(columns={"item": "thing"})),
                                  ref.predict(test))
    np.testing.assert_array_equal(own.predict(test.rename(columns={"item": "x"}),
                                              item_col="x"), ref.predict(test))
    gm = GlobalMean().fit(train.rename(columns={"rating": "stars"}), rating_col="stars")
    assert gm.mean_ == pytest.approx(train["rating"].mean())
    assert GlobalMean().fit(train.rename(columns={"rating": "score"})).mean_ == gm.mean_


def test_baseline_errors(split):
    train, test = split
    for call in (lambda: Popularity().predict(test), lambda: Popularity().recommend(3),
                 lambda: GlobalMean().predict(test)):
        with pytest.raises(AttributeError, match=r"is not fitted yet; call fit\(ratings\) "
                                                 "before (predict|recommend)"):
            call()
        with pytest.raises(NotFittedError):     # nmfrec's class, as Recommender raises
            call()
    pop = Popularity().fit(train)
    with pytest.raises(KeyError, match="user 12345 is not in the training data"):
        pop.recommend(np.int64(12345))
    with pytest.raises(ValueError, match="k must be an integer >= 1; got 0"):
        pop.recommend(3, k=0)
    with pytest.raises(ValueError, match=r"Popularity.fit: ratings is missing column\(s\) "
                                         r"\['item'\]"):
        Popularity().fit(train.drop(columns="item"))
    with pytest.raises(ValueError, match="damping must be >= 0; got -1"):
        Popularity(damping=-1).fit(train)
    with pytest.raises(ValueError, match=r"GlobalMean.fit: ratings is missing column\(s\) "
                                         r"\['rating'\]"):
        GlobalMean().fit(train.drop(columns="rating"))
    with pytest.raises(TypeError, match="GlobalMean.predict: pairs must be a pandas DataFrame"):
        GlobalMean().fit(train).predict(test.to_numpy())


# ------------------------------------------------------------------------------ honesty
class _Scores:
    """Ranks by a fixed score; ``predict`` returns that score, not a rating."""

    predicts_ratings = False

    def fit(self, train):
        self.pop = Popularity().fit(train)
        return self

    def predict(self, pairs):
        return 100.0 * self.pop.predict(pairs)

    def recommend_many(self, users, k=10, exclude_seen=True):
        return self.pop.recommend_many(users, k, exclude_seen)


class _ModeScores(_Scores):
    """Declares through a property that depends on a parameter."""

    def __init__(self, mode="scores"):
        self.mode = mode

    @property
    def predicts_ratings(self):
        return self.mode == "ratings"


class _FittedScores(_Scores):
    """Declares through an attribute set by fit (undeclared before fit)."""

    predicts_ratings = property(lambda self: self.__dict__.get("kind_", "rating") == "rating")

    def fit(self, train):
        self.kind_ = "score"
        return super().fit(train)


class _RankOnly:
    def fit(self, train):
        self.pop = Popularity().fit(train)
        return self

    def recommend_many(self, users, k=10, exclude_seen=True):
        return self.pop.recommend_many(users, k, exclude_seen)


@pytest.mark.parametrize("make, reason", [
    (_Scores, r"_Scores.predict does not return ratings \(_Scores.predicts_ratings is False\)"),
    (_ModeScores, r"_ModeScores.predict does not return ratings"),
    (_FittedScores, r"_FittedScores.predict does not return ratings"),
    (_RankOnly, "_RankOnly has no predict method"),
])
def test_rating_protocol_skips_models_that_do_not_predict_ratings(split, make, reason):
    train, test = split
    with pytest.warns(UserWarning, match="rating protocol skipped \\(no RMSE or MAE\\): "
                                         + reason):
        res = evaluate(make(), train, test, k=5)
    with pytest.warns(ProtocolSkippedWarning, match=reason):     # a category of its own
        evaluate(make(), train, test, k=5)
    assert not {"rmse", "mae", "n_pred_missing", "predict_time"} & set(res)
    assert list(res["skipped"]) == ["rating"]
    assert re.search(reason, res["skipped"]["rating"])
    ref = evaluate(Popularity(), train, test, k=5)
    assert res["precision"] == pytest.approx(ref["precision"])   # ranking still scored
    with pytest.warns(UserWarning, match="rating protocol skipped"):
        cv = cross_validate(make, [split, split], k=5)
    assert "rmse" not in cv.mean and "rmse" not in cv.table
    assert cv.folds["skipped"].iloc[1] == {"rating": res["skipped"]["rating"]}


def test_models_that_predict_ratings_are_scored(split):
    train, test = split
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = evaluate(_ModeScores("ratings"), train, test, k=5)
    err = test["rating"].to_numpy() - np.clip(
        100 * Popularity().fit(train).predict(test), train["rating"].min(), train["rating"].max())
    assert res["rmse"] == pytest.approx(np.sqrt(np.mean(err ** 2)))
    assert "skipped" not in res


def test_predicts_ratings_convention():
    assert predicts_ratings(Popularity()) and predicts_ratings(GlobalMean())
    assert predicts_ratings(_Const(1.0))                  # predict and no declaration
    assert not predicts_ratings(_Scores())
    assert not predicts_ratings(_ModeScores()) and predicts_ratings(_ModeScores("ratings"))
    assert not predicts_ratings(_RankOnly())

    class Method(_Scores):
        def predicts_ratings(self):
            return True

    with pytest.raises(TypeError, match=r"Method.predicts_ratings must be True or False \(a "
                                        "class attribute, a property or a fitted attribute\\); "
                                        "got <bound method"):
        predicts_ratings(Method())


# ------------------------------------------------------------------------------ old names
@pytest.mark.parametrize("module", ["nmfrec.evaluation", "nmfrec.evaluation.protocol"])
@pytest.mark.parametrize("old, new", [("Recommender", SupportsRecommend),
                                      ("RatingPredictor", SupportsPredict)])
def test_old_protocol_names_warn(module, old, new):
    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} is deprecated.*use "
                                                rf"{module}\.{new.__name__}"):
        assert getattr(mod, old) is new
    with pytest.raises(AttributeError, match=f"module '{module}' has no attribute 'Nope'"):
        getattr(mod, "Nope")
    assert old not in mod.__all__


def test_protocols_describe_the_models():
    assert isinstance(Popularity(), SupportsPredict) and isinstance(Popularity(), SupportsRecommend)
    assert isinstance(GlobalMean(), SupportsPredict)
    assert not isinstance(GlobalMean(), SupportsRecommend)

    class PredictOnly:              # both Protocols ask for fit, declared once for both
        def predict(self, pairs):
            return pairs

    assert not isinstance(PredictOnly(), SupportsPredict)


class _Stranger(Popularity):
    def recommend_many(self, users, k=10, exclude_seen=True):
        recs = super().recommend_many(users, k, exclude_seen)
        recs.loc[0, "user"] = -5
        return recs


class _Short(Popularity):
    def predict(self, pairs):
        return super().predict(pairs)[:-1]


def test_protocol_refuses_wrong_answers(split):
    train, test = split
    with pytest.raises(ValueError, match=r"the model returned 1 recommendations for users it "
                                         r"was not asked about \(e\.g\. user -5\)"):
        evaluate(_Stranger(), train, test, protocols="ranking")
    with pytest.raises(ValueError, match=rf"_Short.predict returned {len(test) - 1} values "
                                         rf"for {len(test)} test rows"):
        evaluate(_Short(), train, test, protocols="rating")
    with pytest.raises(TypeError, match="cross_validate always fits; do not pass fit="):
        cross_validate(Popularity, [split], fit=False)


# ------------------------------------------------------------------ ratings that are not numbers
def _with_text_rating(df, pos, text="five"):
    out = df.reset_index(drop=True).astype({"rating": object})
    out.loc[pos, "rating"] = text
    return out


FIVE = r"column 'rating' must hold numeric ratings; 'five' at row 3 is not a number \(1 such row in all\)"


@pytest.mark.parametrize("model", [GlobalMean, Popularity])
def test_a_rating_that_is_not_a_number_gets_fits_message_everywhere(split, model):
    train, test = split
    bad_train, bad_test = _with_text_rating(train, 3), _with_text_rating(test, 3)
    # the words of Recommender.fit (through RatingsMatrix), named by the frame here,
    # before a baseline's groupby mean meets the text
    with pytest.raises(TypeError, match="^train: " + FIVE):
        evaluate(model(), bad_train, test)
    with pytest.raises(TypeError, match="^test: " + FIVE):
        evaluate(model(), train, bad_test)
    with pytest.raises(TypeError, match="^ratings: " + FIVE):
        kfold(bad_train, n_splits=2, random_state=0)
    with pytest.raises(TypeError, match="^test: " + FIVE):
        check_ratings_frame(bad_test, "test")
    # fit checks the ratings before it combines duplicates (a mean of text)
    twice = pd.concat([bad_train, bad_train], ignore_index=True)
    with pytest.raises(TypeError, match="^" + FIVE.replace("1 such row", "2 such rows")):
        RatingsMatrix.from_frame(twice, duplicates="mean")


def test_evaluation_refuses_nan_ratings_but_leaves_negative_ones_to_the_model(split):
    train, test = split
    bad = test.reset_index(drop=True)
    bad.loc[2, "rating"] = np.nan
    with pytest.raises(ValueError, match=r"^test: column 'rating' contains 1 NaN values \(first at row 2\)"):
        evaluate(GlobalMean(), train, bad)
    shifted = train.assign(rating=train["rating"] - 3.0)      # negative: a model may take them
    result = evaluate(GlobalMean(), shifted, test.assign(rating=test["rating"] - 3.0),
                      protocols=("rating",))
    assert np.isfinite(result["rmse"])


# ------------------------------------------------------------------ protocol C: click data
class _FixedOrder:
    """Ranks every train item in one fixed order, leaving out each user's train items."""

    def __init__(self, order):
        self.order = order

    def fit(self, train):
        self.columns_ = list(train.columns)
        self.counts_ = train["count"].tolist() if "count" in train else None
        self.seen_ = {u: set(g) for u, g in train.groupby("user")["item"]}
        return self

    def recommend_many(self, users, k, exclude_seen=True):
        rows = [(u, i) for u in users for i in [i for i in self.order
                                                  if i not in self.seen_[u]][:k]]
        return pd.DataFrame(rows, columns=["user", "item"])


# who clicked what: u5 only in train (item e), u4 only in test
CLICK_TRAIN = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 5],
                            "item": ["a", "b", "a", "d", "c", "f", "e"]})
CLICK_TEST = pd.DataFrame({"user": [1, 1, 2, 3, 3, 4], "item": ["c", "d", "b", "a", "e", "a"]})
# lists, order e c a b d f without the seen items:
#   user 1: e c d f   (relevant c d)   user 2: e c b f  (relevant b)
#   user 3: e a b d   (relevant a e)   user 4: unknown to train, not scored
L2 = 1 / math.log2(3)   # discount of rank 2; rank 3's is 1/2
HAND = {
    "precision@1": 1 / 3, "recall@1": (0 + 0 + 1 / 2) / 3, "ndcg@1": 1 / 3,
    "map@1": 1 / 3, "hit_rate@1": 1 / 3, "coverage@1": 1 / 6,
    "precision@3": (2 / 3 + 1 / 3 + 2 / 3) / 3, "recall@3": 1.0,
    "ndcg@3": ((L2 + 1 / 2) / (1 + L2) + (1 / 2) / 1 + 1.0) / 3,
    "map@3": ((1 / 2 + 2 / 3) / 2 + (1 / 3) / 1 + (1 + 1) / 2) / 3,
    "hit_rate@3": 1.0, "coverage@3": 5 / 6,
}


def test_click_data_every_held_out_item_is_relevant():
    model = _FixedOrder(list("ecabdf"))
    with pytest.warns(ProtocolSkippedWarning, match="no rating column: click data"):
        res = evaluate(model, CLICK_TRAIN, CLICK_TEST, k=(1, 3))
    for key, want in HAND.items():
        assert res[key] == pytest.approx(want), key
    assert res["k"] == (1, 3)
    assert (res["n_users_scored"], res["n_users_unknown"], res["n_users_no_relevant"]) == \
        (3, 1, 0)
    assert "rmse" not in res and "precision" not in res
    assert res["skipped"]["rating"].startswith("the train and test frames have no rating column")
    assert model.columns_ == ["user", "item"]   # the model gets the click frame

    # the same frames with ratings, scored as clicks: relevance_threshold=None
    rated = [df.assign(rating=[1.0, 5.0, 2.0, 3.0, 1.0, 5.0, 2.0][:len(df)])
             for df in (CLICK_TRAIN, CLICK_TEST)]
    with pytest.warns(ProtocolSkippedWarning, match="relevance_threshold=None scores"):
        again = evaluate(_FixedOrder(list("ecabdf")), *rated, k=(1, 3),
                         relevance_threshold=None)
    assert {key: again[key] for key in HAND} == pytest.approx(HAND)
    # ... while a threshold keeps protocol B: only test ratings >= 3 are relevant
    # (user 1: d; user 3: a; user 2 has none)
    b = evaluate(_FixedOrder(list("ecabdf")), *rated, k=3, relevance_threshold=3,
                 protocols="ranking")
    assert b["n_users_scored"] == 2 and b["n_users_no_relevant"] == 1
    assert b["precision"] == pytest.approx((1 / 3 + 1 / 3) / 2)


def test_counts_are_click_data_given_to_the_model():
    """A count column (plays) makes a frame click data: every held-out interaction is
    relevant, whatever its count, and the model gets the counts as ``count``."""
    plays = [df.assign(plays=np.arange(len(df)) % 3) for df in (CLICK_TRAIN, CLICK_TEST)]
    model = _FixedOrder(list("ecabdf"))
    with pytest.warns(ProtocolSkippedWarning, match="hold interaction counts"):
        res = evaluate(model, *plays, k=(1, 3))
    assert {key: res[key] for key in HAND} == pytest.approx(HAND)
    assert res["skipped"]["rating"] == ("the train and test frames hold interaction counts "
                                        "('plays'), not ratings: click data, without "
                                        "ratings to predict")
    assert model.columns_ == ["user", "item", "count"]
    assert model.counts_ == plays[0]["plays"].tolist()
    # counts in train, bare clicks in test: both said
    with pytest.warns(ProtocolSkippedWarning) as caught:
        evaluate(_FixedOrder(list("ecabdf")), plays[0], CLICK_TEST, k=1)
    assert str(caught[0].message).endswith(
        "the train frame holds interaction counts ('plays'), not ratings and the test frame "
        "has no rating column: click data, without ratings to predict.")
    # beside a rating column, a count column is not what the model is scored on: dropped
    rated = [df.assign(rating=4.0) for df in plays]
    model = _FixedOrder(list("ecabdf"))
    evaluate(model, *rated, k=1, protocols="ranking")
    assert model.columns_ == ["user", "item", "rating"]


def test_a_frame_with_an_unknown_value_column_is_not_click_data(split):
    """Ratings under another name (stars) are refused, not scored as clicks."""
    train, test = (df.rename(columns={"rating": "stars"}) for df in split)
    for name, call in [("train", lambda: evaluate(Popularity(), train, test)),
                       ("train", lambda: cross_validate(Popularity, [(train, test)])),
                       ("train", lambda: check_ratings_frame(train, "train",
                                                             require_rating=False)),
                       ("Popularity.fit: ratings", lambda: Popularity().fit(train))]:
        with pytest.raises(MissingColumnError, match=rf"^{re.escape(name)}: no rating column "
                                                     r"found: expected one of \['rating', "
                                                     r"'ratings', 'score'\] or rating_col=\.\.\.; "
                                                     r"the frame has columns \['user', 'item', "
                                                     r"'stars'\]"):
            call()
    # named, they are ratings
    res = evaluate(Popularity(), train, test, rating_col="stars")
    assert res["rmse"] == pytest.approx(evaluate(Popularity(), *split)["rmse"])


def test_several_list_lengths_equal_one_call_per_length(split):
    train, test = split
    both = evaluate(Popularity(), train, test, k=[5, 20], protocols="ranking")
    for k in (5, 20):
        one = evaluate(Popularity(), train, test, k=k, protocols="ranking")
        for name in ("precision", "recall", "ndcg", "map", "hit_rate", "coverage"):
            assert both[f"{name}@{k}"] == pytest.approx(one[name]), (name, k)
    assert both["k"] == (5, 20) and "precision" not in both


def test_popularity_on_clicks_matches_brute_force(split):
    train, test = split
    clicks = [df.drop(columns="rating") for df in (train, test)]
    with pytest.warns(ProtocolSkippedWarning):
        res = evaluate(Popularity(), *clicks, k=(10, 20))
    for k in (10, 20):
        ref = _brute_popularity(train, test, k=k, threshold=-np.inf)  # all relevant
        for key, val in ref.items():
            want = res[key] if key == "n_users_scored" else res[f"{key}@{k}"]
            assert want == pytest.approx(val), (key, k)
    pop = Popularity().fit(clicks[0])
    assert pop.predicts_ratings is False and not predicts_ratings(pop)
    counts = clicks[0].groupby("item").size()
    np.testing.assert_array_equal(pop.predict(pd.DataFrame({"item": [counts.index[0], 555]})),
                                  [counts.iloc[0], 0.0])


def test_click_frames_by_their_own_names_and_through_cross_validate():
    ml = {"user": "userId", "item": "movieId"}
    with pytest.warns(ProtocolSkippedWarning):
        res = evaluate(_FixedOrder(list("ecabdf")), CLICK_TRAIN.rename(columns=ml),
                       CLICK_TEST.rename(columns=ml), k=(1, 3))
    assert res["ndcg@3"] == pytest.approx(HAND["ndcg@3"])
    cv = cross_validate(lambda: _FixedOrder(list("ecabdf")), [(CLICK_TRAIN, CLICK_TEST)] * 2,
                        k=(1, 3), protocols="ranking")
    assert cv.mean["map@3"] == pytest.approx(HAND["map@3"])


@pytest.mark.parametrize("k, match", [
    ((), "k must be a positive integer or a non-empty sequence"),
    ((10, 10), r"distinct positive integers; got \(10, 10\)"),
    ((10, 0), "k must be an integer >= 1; got 0"),
    ("10", "k must be an integer"),
])
def test_list_length_errors(split, k, match):
    with pytest.raises((ValueError, TypeError), match=match):
        evaluate(Popularity(), *split, k=k, protocols="ranking")

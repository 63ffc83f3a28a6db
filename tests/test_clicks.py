"""Click data is first-class: a (user, item) table fits implicit feedback and says so once,
a count column is a confidence (1 + log(1 + count)), and everything downstream follows the
fitted feedback. References: the same model fitted by hand on the values the module
documents, brute-force confidences, and the fitted model's own answers after save/load."""

import warnings

import numpy as np
import pandas as pd
import pytest

from nmfrec import FeedbackWarning, MaskedNMF, MissingColumnError, Recommender
from nmfrec.datasets import make_planted
from nmfrec.evaluation import evaluate, random_split
from nmfrec.ratings import RatingsMatrix

FAST = dict(random_state=0, n_components=6)


@pytest.fixture(scope="module")
def clicks():
    return make_planted(150, 80, n_genres=4, density=0.15, tilt=0.8, feedback="clicks",
                        seed=3).data


def _fit(frame, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = Recommender(**{**FAST, **kw}).fit(frame)
    return rec, [w for w in caught if issubclass(w.category, FeedbackWarning)]


def test_a_two_column_table_is_click_data_and_the_fit_says_so_once(clicks):
    rec, said = _fit(clicks)
    assert len(said) == 1 and "fitted as click data (feedback='implicit')" in str(said[0].message)
    assert (rec.feedback_, rec.table_kind_) == ("implicit", "clicks")
    assert rec.predicts_ratings is False and rec.fitted_params_["feedback"] == "implicit"
    assert rec.columns_ == ("user", "item", None)
    np.testing.assert_array_equal(rec.ratings_.data, 1.0)
    # the same model as asking for implicit feedback, which is not announced
    quiet, said = _fit(clicks, feedback="implicit")
    assert said == []
    np.testing.assert_array_equal(quiet.model_.W_, rec.model_.W_)
    # every click weighs 1 and is fitted to 1
    assert (rec.model_.alpha, rec.model_.preference, rec.model_.reg_scale) == \
        (0.0, "binary", "weight")
    # predict gives preference scores, never clipped; recommend ranks by them
    u, i = clicks.iloc[0]
    assert rec.predict(u, i) == pytest.approx(float(rec.model_.predict_entries(
        [rec.users_.number(u)], [rec.items_.number(i)])[0]))
    with pytest.raises(ValueError, match="unknown='baseline' falls back to mean ratings"):
        rec.predict(u, i, unknown="baseline")
    top = rec.recommend(u, k=5)
    assert len(top) == 5 and not set(top["item"]) & set(clicks.loc[clicks.user == u, "item"])


def test_a_time_column_may_come_along_but_not_an_unknown_value_column(clicks):
    timed = clicks.assign(timestamp=np.arange(len(clicks)))
    rec, said = _fit(timed)
    assert rec.table_kind_ == "clicks" and len(said) == 1
    with pytest.raises(MissingColumnError, match=r"no rating column found.*'stars'"):
        Recommender().fit(clicks.assign(stars=4.0))
    with pytest.raises(MissingColumnError, match="no rating column found"):
        Recommender(feedback="explicit").fit(clicks)
    with pytest.raises(ValueError, match=r"solver='gibbs' samples the rating model; on a "
                                         r"table without ratings \(click data\)"):
        Recommender(solver="gibbs").fit(clicks)


def test_a_count_column_is_a_confidence_on_a_log_scale(clicks):
    rng = np.random.default_rng(0)
    counts = clicks.assign(plays=rng.integers(1, 50, len(clicks)))
    rec, said = _fit(counts)
    assert (rec.feedback_, rec.table_kind_) == ("implicit", "counts") and len(said) == 1
    assert "count column ('plays')" in str(said[0].message)
    assert rec.model_.alpha == 1.0 and rec.model_.preference == "binary"
    # the values stored and fitted are log(1 + count): the same model fitted by hand
    R = RatingsMatrix.from_frame(counts, "user", "item", "plays")
    np.testing.assert_allclose(rec.ratings_.toarray(), np.log1p(R.csr.toarray()))
    by_hand = MaskedNMF(**rec.model_.get_params()).fit(R.map_values(np.log1p))
    np.testing.assert_array_equal(by_hand.W_, rec.model_.W_)
    # a user's confidence in an item is 1 + log(1 + plays): a heavy count does not swamp
    u = rec.users_.number(counts.user.iloc[0])
    row = rec.ratings_[u]
    conf = 1 + rec.model_.alpha * row.data
    np.testing.assert_allclose(conf, 1 + np.log1p(counts.loc[counts.user == counts.user.iloc[0]]
                                                  .sort_values("item")["plays"]))
    # counts that are all 1 are clicks
    ones, _ = _fit(clicks.assign(count=1))
    assert ones.table_kind_ == "clicks"
    np.testing.assert_array_equal(ones.model_.W_, _fit(clicks)[0].model_.W_)


def test_new_users_and_updates_follow_the_fitted_feedback(clicks, tmp_path):
    rng = np.random.default_rng(1)
    counts = clicks.assign(plays=rng.integers(1, 9, len(clicks)))
    rec, _ = _fit(counts)
    items = counts["item"].unique()[:3].tolist()
    # a new user's counts are taken as the training table's were
    got = rec.recommend_new({items[0]: 3, items[1]: 7}, k=4)
    row = RatingsMatrix.from_frame(
        pd.DataFrame({"user": 0, "item": items[:2], "plays": np.log1p([3.0, 7.0])}),
        rating_col="plays", items=rec.items_)
    w = rec.model_.transform(row)
    scores = (w @ rec.model_.components_)[0]
    scores[rec.items_.index(np.array(items[:2]))] = -np.inf
    assert got["item"].tolist() == rec.items_.labels_[np.argsort(-scores, kind="stable")[:4]].tolist()
    # a click model takes a list of the items a new user chose
    clicked, _ = _fit(clicks)
    assert clicked.recommend_new(items, k=3)["item"].tolist() == \
        clicked.recommend_new(dict.fromkeys(items, 1.0), k=3)["item"].tolist()
    # update takes a click table
    clicked.update(pd.DataFrame({"user": [10**6, 10**6], "item": items[:2]}))
    assert 10**6 in clicked.users_.labels_
    assert set(clicked.recommend(10**6, k=3)["item"]).isdisjoint(items[:2])
    # save/load keeps what was fitted
    path = rec.save(tmp_path / "counts.npz")
    back = Recommender.load(path)
    assert (back.feedback_, back.table_kind_, back.ranking_) == \
        (rec.feedback_, rec.table_kind_, rec.ranking_)
    assert back.fitted_params_ == rec.fitted_params_ and back.predicts_ratings is False
    assert back.recommend_new({items[0]: 3, items[1]: 7}, k=4).equals(got)


def test_evaluation_of_a_click_model_counts_every_held_out_interaction(clicks):
    train, test = random_split(clicks, test_size=0.2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate(Recommender(**FAST), train, test, k=(10, 20))
    assert "rmse" not in res and res["skipped"]["rating"]
    pop = evaluate_popularity(train, test)
    assert res["precision@10"] > pop            # tilted clicks carry the tastes
    assert res["n_users_scored"] == test["user"].nunique()


def evaluate_popularity(train, test):
    from nmfrec.evaluation import Popularity

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(Popularity(), train, test, k=(10, 20))["precision@10"]

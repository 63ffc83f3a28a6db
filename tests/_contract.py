"""One contract every model of nmfrec must pass, like implicit's RecommenderBaseTestMixin.

A test class inherits :class:`ModelContract`, implements ``make()`` (a fresh, unfitted
model, seeded where the model has a seed) and declares what the model can do:

``ranks``
    has ``recommend(user, k)`` and ``recommend_many(users, k)``: the ranking half runs.
``predicts``
    has ``predict(frame)``: the prediction half runs.
``predicts_ratings``
    ``predict`` returns ratings (so ``evaluate`` must report RMSE for it), not scores.
``learns``
    can learn the checkerboard (two user groups x two item groups); a popularity ranker
    or a global mean cannot.
``personal``
    predictions depend on the user, so an unknown user gets NaN; a non-personalized
    model gives an unknown user the same prediction as any other user.

Checks that do not apply to a model are skipped with ``pytest.skip`` and a reason.

The data: ``N_USERS`` users and ``N_ITEMS`` items, each in group 0 or 1 (parity of the
label). Every user rates all items of their own group highly (4 or 5) except one held-out
item, and two items of the other group poorly (1 or 2); the other items of the other
group are unrated. A model that learns the structure must rank the held-out item of the
user's own group above every unrated item of the other group, and predict it a higher
rating than them.
"""

from __future__ import annotations

import pickle
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from nmfrec.evaluation import evaluate, predicts_ratings

N_USERS, N_ITEMS, N_CROSS = 40, 30, 2
UNKNOWN_USER = 987654


@dataclass(frozen=True)
class Board:
    """The checkerboard ratings and, per user, the held-out and the other group's items."""

    ratings: pd.DataFrame
    held_out: dict          # user -> the unrated item of the user's own group
    other_unrated: dict     # user -> the unrated items of the other group
    seen: dict              # user -> set of rated items


def checkerboard(seed=0) -> Board:
    """Ratings of two user groups on two item groups; see the module docstring."""
    rng = np.random.default_rng(seed)
    rows, held, other_unrated, seen = [], {}, {}, {}
    for u in range(N_USERS):
        own = [i for i in range(N_ITEMS) if i % 2 == u % 2]
        other = [i for i in range(N_ITEMS) if i % 2 != u % 2]
        held[u] = own[(u // 2) % len(own)]
        disliked = {other[(u // 2 + j) % len(other)] for j in range(N_CROSS)}
        other_unrated[u] = [i for i in other if i not in disliked]
        rated = [i for i in own if i != held[u]] + sorted(disliked)
        seen[u] = set(rated)
        for i in rated:
            high = i % 2 == u % 2
            rows.append((u, i, float(rng.choice([4.0, 5.0] if high else [1.0, 2.0]))))
    df = pd.DataFrame(rows, columns=["user", "item", "rating"])
    return Board(df, held, other_unrated, seen)


BOARD = checkerboard()


def movielens_names(df):
    """The same frame with MovieLens' column names."""
    return df.rename(columns={"user": "userId", "item": "movieId"})


def _fit(model, ratings):
    with warnings.catch_warnings():
        # a tiny problem may stop at max_iter; convergence is not what is tested here
        warnings.simplefilter("ignore", Warning)
        return model.fit(ratings)


def _outputs(model, ranks, predicts):
    """Everything a model answers about the board, for exact comparisons."""
    out = {}
    users = list(range(N_USERS))
    if ranks:
        out["recs"] = model.recommend_many(users, k=N_ITEMS)[["user", "item", "score"]]
    if predicts:
        pairs = pd.DataFrame({"user": np.repeat(users, N_ITEMS),
                              "item": np.tile(np.arange(N_ITEMS), N_USERS)})
        out["pred"] = np.asarray(model.predict(pairs), dtype=np.float64)
    return out


def _assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    if "recs" in a:
        pd.testing.assert_frame_equal(a["recs"].reset_index(drop=True),
                                      b["recs"].reset_index(drop=True), check_exact=True)
    if "pred" in a:
        np.testing.assert_array_equal(a["pred"], b["pred"])


class ModelContract:
    """Mixin: the contract. Subclasses set the capabilities and implement ``make``."""

    ranks = True
    predicts = True
    predicts_ratings = True
    learns = True
    personal = True

    def make(self):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls):
        """The model fitted on the board, once per test class."""
        return _fit(cls().make(), BOARD.ratings)

    def _need(self, capability, reason):
        if not getattr(self, capability):
            pytest.skip(f"{type(self).__name__}: {reason}")

    # ------------------------------------------------------------------ ranking half
    def test_held_out_item_of_own_group_ranks_above_other_group(self, fitted):
        self._need("ranks", "the model does not rank")
        self._need("learns", "the model cannot learn user groups")
        for u in range(N_USERS):
            rec = fitted.recommend(u, k=N_ITEMS)
            scores = dict(zip(rec["item"], rec["score"]))
            h = BOARD.held_out[u]
            assert rec["item"].iloc[0] == h, (u, rec.head())
            assert all(scores[h] > scores[i] for i in BOARD.other_unrated[u]), u

    def test_seen_items_are_excluded(self, fitted):
        self._need("ranks", "the model does not rank")
        for u in range(N_USERS):
            items = set(fitted.recommend(u, k=N_ITEMS)["item"])
            assert not items & BOARD.seen[u], u

    def test_k_above_catalog_returns_every_available_item_once(self, fitted):
        self._need("ranks", "the model does not rank")
        for u in (0, 1, N_USERS - 1):
            items = fitted.recommend(u, k=N_ITEMS + 7)["item"].tolist()
            assert len(items) == len(set(items)), u
            assert set(items) == set(range(N_ITEMS)) - BOARD.seen[u], u

    def test_recommend_many_equals_looped_recommend(self, fitted):
        self._need("ranks", "the model does not rank")
        users = [3, 0, 17, 8, 1]
        many = fitted.recommend_many(users, k=5)
        loop = pd.concat([fitted.recommend(u, k=5).assign(user=u) for u in users],
                         ignore_index=True)
        assert many["user"].tolist() == loop["user"].tolist()
        assert many["item"].tolist() == loop["item"].tolist()
        np.testing.assert_allclose(many["score"], loop["score"], rtol=1e-12, atol=0)

    def test_unknown_user_in_recommend_is_a_key_error_naming_it(self, fitted):
        self._need("ranks", "the model does not rank")
        with pytest.raises(KeyError, match=str(UNKNOWN_USER)):
            fitted.recommend(UNKNOWN_USER, k=3)

    # ------------------------------------------------------------------ prediction half
    def test_predict_gives_one_value_per_row_in_row_order(self, fitted):
        self._need("predicts", "the model has no predict")
        pairs = pd.DataFrame({"user": [0, 1, 2, 5], "item": [3, 3, 10, 0]})
        pred = np.asarray(fitted.predict(pairs), dtype=np.float64)
        assert pred.shape == (4,) and np.isfinite(pred).all()
        back = np.asarray(fitted.predict(pairs.iloc[::-1]), dtype=np.float64)
        np.testing.assert_array_equal(back, pred[::-1])

    def test_unknown_user_in_predict(self, fitted):
        self._need("predicts", "the model has no predict")
        pairs = pd.DataFrame({"user": [UNKNOWN_USER, 0], "item": [4, 4]})
        pred = np.asarray(fitted.predict(pairs), dtype=np.float64)
        if self.personal:
            assert np.isnan(pred[0]) and np.isfinite(pred[1])
        else:   # a non-personalized prediction does not need to know the user
            assert pred[0] == pred[1]

    def test_predicted_rating_of_held_out_item_is_higher(self, fitted):
        self._need("predicts_ratings", "predict returns scores, not ratings")
        self._need("learns", "the model cannot learn user groups")
        for u in range(N_USERS):
            others = BOARD.other_unrated[u]
            pairs = pd.DataFrame({"user": u, "item": [BOARD.held_out[u], *others]})
            pred = np.asarray(fitted.predict(pairs), dtype=np.float64)
            assert (pred[0] > pred[1:]).all(), u

    def test_evaluate_reports_rmse_only_for_rating_predictions(self):
        """The evaluation layer reads the model's ``predicts_ratings`` declaration."""
        self._need("predicts", "the model has no predict")
        train = BOARD.ratings
        test = pd.DataFrame({"user": list(BOARD.held_out),
                             "item": list(BOARD.held_out.values()), "rating": 5.0})
        model = self.make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = evaluate(model, train, test, protocols=("rating",))
        assert predicts_ratings(model) is self.predicts_ratings
        if self.predicts_ratings:
            assert np.isfinite(res["rmse"]) and "skipped" not in res
        else:
            assert "rmse" not in res and "mae" not in res
            assert "predicts_ratings is False" in res["skipped"]["rating"]
            assert any("rating protocol skipped" in str(w.message) for w in caught)

    # ------------------------------------------------------------------ both halves
    def test_pickle_round_trip_gives_identical_outputs(self, fitted):
        again = pickle.loads(pickle.dumps(fitted))
        _assert_same_outputs(_outputs(fitted, self.ranks, self.predicts),
                             _outputs(again, self.ranks, self.predicts))

    def test_same_seed_gives_identical_outputs(self, fitted):
        twin = _fit(self.make(), BOARD.ratings)
        _assert_same_outputs(_outputs(fitted, self.ranks, self.predicts),
                             _outputs(twin, self.ranks, self.predicts))

    def test_movielens_column_names_work(self, fitted):
        ml = _fit(self.make(), movielens_names(BOARD.ratings))
        a = _outputs(fitted, self.ranks, self.predicts)
        b = _outputs(ml, self.ranks, self.predicts)
        _assert_same_outputs(a, b)
        if self.predicts:   # predict reads the same names
            pairs = movielens_names(BOARD.ratings.head(7)[["user", "item"]])
            np.testing.assert_array_equal(np.asarray(ml.predict(pairs), dtype=np.float64),
                                          b["pred"][pairs["userId"] * N_ITEMS
                                                    + pairs["movieId"]])

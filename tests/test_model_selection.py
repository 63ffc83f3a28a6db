"""nmfrec.model_selection against references: a planted rank, a brute-force loop over
evaluate(), hand-computed scores of constant predictors, and the fold invariants."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from nmfrec import Recommender
from nmfrec.evaluation import evaluate
from nmfrec.evaluation import user_kfold
from nmfrec.exceptions import MissingColumnError, NotFittedError
from nmfrec.model_selection import SCORINGS, GridSearch, select_rank

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")


def planted(m=120, n=100, rank=3, frac=0.35, noise=0.02, seed=0):
    """Observed entries of an exactly rank-``rank`` non-negative matrix plus small noise."""
    rng = np.random.default_rng(seed)
    W = rng.uniform(0.2, 1.0, (m, rank)) * (rng.random((m, rank)) < 0.7)
    H = rng.uniform(0.2, 1.0, (rank, n)) * (rng.random((rank, n)) < 0.7)
    X = W @ H
    u, i = np.nonzero(rng.random((m, n)) < frac)
    y = X[u, i] + noise * X.std() * rng.standard_normal(u.size)
    return pd.DataFrame({"user": u, "item": i, "rating": np.clip(y, 0.0, None)})


def stars(m=60, n=40, n_ratings=700, seed=1):
    """A small random 1-5 star ratings frame (unique pairs, every user rated twice+)."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(m * n, size=n_ratings, replace=False)
    df = pd.DataFrame({"user": keys // n, "item": keys % n,
                       "rating": rng.integers(1, 6, size=n_ratings).astype(float)})
    return df


def small_rec(**kw):
    base = dict(solver="als", ranking="rating", max_iter=15, tol=1e-3, random_state=0,
                n_threads=1)
    base.update(kw)
    return Recommender(**base)


class ConstantPredictor:
    """Predicts the constant ``c`` for every pair: RMSE on a fold is known by hand."""

    def __init__(self, c=3.0):
        self.c = c

    def get_params(self, deep=True):
        return {"c": self.c}

    def set_params(self, **params):
        for key, value in params.items():
            if key != "c":
                raise ValueError(f"Invalid parameter {key!r}")
            setattr(self, key, value)
        return self

    def fit(self, train):
        self.fitted_ = True
        return self

    def predict(self, pairs):
        return np.full(len(pairs), float(self.c))


# ------------------------------------------------------------------------------ folds
def test_user_kfold_invariants():
    df = stars()
    df = pd.concat([df, pd.DataFrame({"user": [999], "item": [0], "rating": [4.0]})],
                   ignore_index=True)                       # a single-rating user
    folds = user_kfold(df, n_splits=3, random_state=0)
    assert len(folds) == 3
    tests = pd.concat([te for _, te in folds])
    counts = df["user"].value_counts()
    holdable = df.index[df["user"].map(counts).to_numpy() >= 2]
    assert sorted(tests.index) == sorted(holdable)          # each such rating tested once
    for train, test in folds:
        assert len(train) + len(test) == len(df)
        assert not set(train.index) & set(test.index)
        assert set(test["user"]) <= set(train["user"])       # every test user trains
        assert 999 not in set(test["user"])
    sizes = [len(te) for _, te in folds]
    assert max(sizes) - min(sizes) <= 0.1 * len(df)
    again = user_kfold(df, n_splits=3, random_state=0)
    for (a, b), (c, d) in zip(folds, again):
        assert a.index.equals(c.index) and b.index.equals(d.index)
    other = user_kfold(df, n_splits=3, random_state=1)
    assert not folds[0].test.index.equals(other[0].test.index)


def test_user_kfold_errors():
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        user_kfold(stars(), n_splits=1)
    dup = pd.concat([stars().head(3), stars().head(1)])
    with pytest.raises(ValueError, match="duplicate"):
        user_kfold(dup)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['item'\]"):
        user_kfold(stars().drop(columns="item"))
    with pytest.raises(MissingColumnError, match="no rating column found"):
        user_kfold(stars().rename(columns={"rating": "stars"}))


# ------------------------------------------------------------------------------ planted rank
def test_planted_rank_is_recovered():
    df = planted(rank=3)
    est = Recommender(solver="als", ranking="rating", user_bias=False, item_bias=False,
                      reg_scale="none", l2_W=1e-3,
                      l2_H=1e-3, max_iter=300, tol=1e-6, random_state=0, n_threads=1)
    best, table = select_rank(est, df, ranks=(1, 2, 3, 4, 8, 16), random_state=0,
                              protocols=("rating",))
    assert best in (3, 4), table
    score = table.set_index("param_n_components")["mean_score"]
    # underfits below the planted rank, overfits far above it
    assert score[1] > score[2] > 5 * score[3]
    assert score[16] > score[best]
    assert list(table["param_n_components"]) == [1, 2, 3, 4, 8, 16]
    assert table["selected"].sum() == 1
    assert table.loc[table["selected"], "param_n_components"].item() == best


# ------------------------------------------------------------------------------ references
GRID = {"n_components": [2, 4], "l2_W": [0.05, 0.5]}


def test_table_equals_brute_force_loop_over_evaluate():
    df = stars()
    folds = user_kfold(df, 3, random_state=0)
    search = GridSearch(small_rec(), GRID, cv=folds, scoring="rmse").fit(df)
    assert len(search.results_) == 4 and search.n_splits_ == 3
    for n_components in GRID["n_components"]:
        for l2_W in GRID["l2_W"]:
            ref = pd.DataFrame([evaluate(small_rec(n_components=n_components, l2_W=l2_W),
                                         tr, te) for tr, te in folds])
            row = search.results_[(search.results_["param_n_components"] == n_components)
                                  & (search.results_["param_l2_W"] == l2_W)]
            assert len(row) == 1
            row = row.iloc[0]
            assert row["params"] == {"n_components": n_components, "l2_W": l2_W}
            for m in ("rmse", "mae", "precision", "recall", "ndcg", "map", "coverage"):
                np.testing.assert_allclose(row[f"mean_{m}"], ref[m].mean(), rtol=1e-12)
                np.testing.assert_allclose(row[f"std_{m}"], ref[m].std(ddof=1), rtol=1e-12)
            np.testing.assert_allclose(row["mean_score"], ref["rmse"].mean(), rtol=1e-12)
    # the default cv=3 is user_kfold with the search's random_state
    default = GridSearch(small_rec(), GRID, scoring="rmse", random_state=0).fit(df)
    np.testing.assert_allclose(default.results_.sort_index()["mean_score"],
                               search.results_.sort_index()["mean_score"], rtol=1e-12)


def test_constant_predictor_scores_by_hand():
    df = stars()
    folds = {"a": user_kfold(df, 2, random_state=3)[0], "b": user_kfold(df, 2, random_state=3)[1]}
    cs = [1.0, 2.5, 3.0, 4.5]
    search = GridSearch(ConstantPredictor(), {"c": cs}, cv=folds, scoring="mae").fit(df)
    assert list(search.fold_results_["fold"].unique()) == ["a", "b"]
    for c in cs:
        per = [np.mean(np.abs(te["rating"].to_numpy() - c)) for _, te in folds.values()]
        row = search.results_[search.results_["param_c"] == c].iloc[0]
        np.testing.assert_allclose(row["mean_score"], np.mean(per), rtol=1e-12)
        np.testing.assert_allclose(row["std_score"], np.std(per, ddof=1), rtol=1e-12)
    # ratings are uniform on 1..5: the median 3 minimizes the absolute error
    assert search.best_params_ == {"c": 3.0}
    assert "mean_precision" not in search.results_      # cannot rank: rating protocol only
    assert search.best_estimator_.c == 3.0 and search.best_estimator_.fitted_


@pytest.mark.parametrize("scoring", ["rmse", "precision"])
def test_best_is_the_extreme_of_the_table(scoring):
    df = stars()
    search = GridSearch(small_rec(), GRID, scoring=scoring, random_state=0).fit(df)
    t = search.results_
    pick = t["mean_score"].idxmin() if scoring == "rmse" else t["mean_score"].idxmax()
    assert search.greater_is_better_ is SCORINGS[scoring]
    assert search.best_index_ == pick == t.index[0]
    assert search.best_params_ == t.loc[pick, "params"]
    assert search.best_score_ == t.loc[pick, "mean_score"] == t[f"mean_{scoring}"].loc[pick]
    assert list(t["rank"]) == sorted(t["rank"]) and t["rank"].iloc[0] == 1
    scores = t["mean_score"].to_numpy()
    assert np.all(np.diff(scores) >= 0) if scoring == "rmse" else np.all(np.diff(scores) <= 0)
    assert {"mean_fit_time", "std_fit_time", "mean_mae", "mean_ndcg"} <= set(t.columns)


def test_refit_has_best_params_and_keeps_the_others():
    df = stars()
    base = small_rec(l2_H=0.3, user_bias=False)
    search = GridSearch(base, GRID, random_state=0).fit(df)
    best = search.best_estimator_
    assert best is not base and not hasattr(base, "model_")
    params = best.get_params()
    for name, value in search.best_params_.items():
        assert params[name] == value
    assert params["l2_H"] == 0.3 and params["user_bias"] is False
    assert hasattr(best, "model_") and len(best.users_) == df["user"].nunique()
    assert search.refit_time_ >= 0
    no = GridSearch(base, GRID, random_state=0, refit=False).fit(df)
    assert not hasattr(no, "best_estimator_")
    assert no.best_params_ == search.best_params_


def test_factory_and_callable_scoring_agree_with_instance():
    df = stars()
    a = GridSearch(small_rec(), {"n_components": [2, 4]}, random_state=0).fit(df)
    b = GridSearch(lambda: small_rec(), {"n_components": [2, 4]}, random_state=0).fit(df)

    def neg_rmse(model, train, test):
        return -evaluate(model, train, test, fit=False, protocols=("rating",))["rmse"]

    c = GridSearch(small_rec(), {"n_components": [2, 4]}, random_state=0,
                   scoring=neg_rmse).fit(df)
    np.testing.assert_allclose(a.results_["mean_score"], b.results_["mean_score"], rtol=1e-12)
    assert a.best_params_ == b.best_params_ == c.best_params_
    assert c.greater_is_better_ and c.scoring_ == "neg_rmse"
    np.testing.assert_allclose(c.best_score_, -a.best_score_, rtol=1e-12)


def test_select_rank_one_se_rule():
    df = stars()
    best, table, search = select_rank(small_rec(), df, ranks=(1, 2, 4, 8), rule="one_se",
                                      random_state=0, protocols=("rating",),
                                      return_search=True)
    se = search.results_.loc[search.best_index_, "std_score"] / np.sqrt(3)
    ok = table["mean_score"] <= search.best_score_ + se
    assert best == table.loc[ok, "param_n_components"].min()
    assert best <= search.best_params_["n_components"]


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("grid, exc, match", [
    ({}, ValueError, "param_grid is empty"),
    ([], ValueError, "param_grid is empty"),
    ({"n_components": []}, ValueError, r"param_grid\['n_components'\] is an empty list"),
    ({"n_components": 5}, TypeError, r"must be a list of values; got 5 \(write \[5\]"),
    ({"n_component": [2]}, ValueError,
     "unknown parameter 'n_component' for Recommender. Did you mean 'n_components'"),
    ({"bogus": [2]}, ValueError, r"unknown parameter 'bogus' for Recommender. Valid parameters"),
    ("n_components", TypeError, "param_grid must be a dict"),
])
def test_bad_grid(grid, exc, match):
    with pytest.raises(exc, match=match):
        GridSearch(small_rec(), grid).fit(stars())


def test_bad_scoring_cv_and_data():
    df = stars()
    with pytest.raises(ValueError, match=r"scoring must be one of \['rmse', 'mae', "):
        GridSearch(small_rec(), {"n_components": [2]}, scoring="accuracy").fit(df)
    with pytest.raises(ValueError, match="cv as a number of folds must be >= 2; got 1"):
        GridSearch(small_rec(), {"n_components": [2]}, cv=1).fit(df)
    with pytest.raises(TypeError, match="cv must be a number of folds"):
        GridSearch(small_rec(), {"n_components": [2]}, cv="user").fit(df)
    with pytest.raises(ValueError, match="cv gave no folds"):
        GridSearch(small_rec(), {"n_components": [2]}, cv=[]).fit(df)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['user'\]"):
        GridSearch(small_rec(), {"n_components": [2]}).fit(df.rename(columns={"user": "customer"}))
    with pytest.raises(ValueError, match="'precision' needs the 'ranking' protocol"):
        GridSearch(small_rec(), {"n_components": [2]}, scoring="precision",
                   protocols=("rating",)).fit(df)
    with pytest.raises(ValueError, match="'ndcg' is a ranking score, but the estimator has"):
        GridSearch(ConstantPredictor(), {"c": [3.0]}, scoring="ndcg").fit(df)
    with pytest.raises(ValueError, match="rule must be one of"):
        select_rank(small_rec(), df, ranks=(2,), rule="elbow")
    with pytest.raises(ValueError, match="ranks is empty"):
        select_rank(small_rec(), df, ranks=())
    with pytest.raises(ValueError, match="ranks must be positive integers; got 0"):
        select_rank(small_rec(), df, ranks=(0, 2))


# ------------------------------------------------------------------------------ plot
@pytest.fixture(scope="module")
def fitted_search():
    return GridSearch(small_rec(), GRID, random_state=0, refit=False,
                      protocols=("rating",)).fit(stars())


def test_plot_returns_axes(fitted_search):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    ax = fitted_search.plot("n_components")
    assert isinstance(ax, Axes)
    line = ax.get_lines()[0]
    # one point per rank, the other parameter at its best value
    assert list(line.get_xdata()) == [2.0, 4.0]
    l2 = fitted_search.best_params_["l2_W"]
    t = fitted_search.results_
    expect = t[t["param_l2_W"] == l2].sort_values("param_n_components")["mean_score"]
    np.testing.assert_allclose(line.get_ydata(), expect.to_numpy())
    fig, ax2 = plt.subplots()
    assert fitted_search.plot("l2_W", ax=ax2, metric="mae") is ax2
    with pytest.raises(ValueError, match=r"x='alpha' is not a searched parameter"):
        fitted_search.plot("alpha")
    with pytest.raises(ValueError, match="metric='precision' was not computed"):
        fitted_search.plot(metric="precision")
    plt.close("all")


def test_plot_without_matplotlib(fitted_search, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="needs matplotlib, an optional dependency.*"
                                          "pip install matplotlib"):
        fitted_search.plot()


def test_plot_before_fit():
    with pytest.raises(AttributeError, match="not fitted yet"):
        GridSearch(small_rec(), GRID).plot()
    with pytest.raises(NotFittedError, match=r"^this GridSearch is not fitted yet; call "
                                             r"fit\(ratings\) before plot\.$"):
        GridSearch(small_rec(), GRID).plot()


# ------------------------------------------------------------------------------ moved, renamed
def test_user_kfold_moved_to_evaluation_with_a_deprecated_alias():
    import nmfrec.evaluation
    import nmfrec.model_selection as ms

    with pytest.warns(DeprecationWarning, match=r"nmfrec.model_selection.user_kfold is "
                                                r"deprecated.*use nmfrec.evaluation.user_kfold"):
        old = ms.user_kfold
    assert old is nmfrec.evaluation.user_kfold is user_kfold
    with pytest.warns(DeprecationWarning):
        from nmfrec.model_selection import user_kfold as again   # noqa: F401
    with pytest.raises(AttributeError, match="module 'nmfrec.model_selection' has no "
                                             "attribute 'kfold'"):
        ms.kfold
    assert "user_kfold" not in ms.__all__


# ------------------------------------------------------------------------------ column names
ML = {"user": "userId", "item": "movieId"}


def test_search_reads_movielens_and_given_names():
    df = stars()
    ref = GridSearch(small_rec(), {"n_components": [2, 3]}, random_state=0).fit(df)
    ml = GridSearch(small_rec(), {"n_components": [2, 3]}, random_state=0).fit(
        df.rename(columns=ML))
    own = GridSearch(small_rec(), {"n_components": [2, 3]}, random_state=0).fit(
        df.rename(columns={"user": "who", "rating": "stars"}), user_col="who",
        rating_col="stars")
    for other in (ml, own):
        np.testing.assert_allclose(other.results_["mean_score"], ref.results_["mean_score"],
                                   rtol=1e-12)
        np.testing.assert_allclose(other.results_["mean_precision"],
                                   ref.results_["mean_precision"], rtol=1e-12)
        assert other.best_params_ == ref.best_params_
        np.testing.assert_array_equal(other.best_estimator_.predict(df[["user", "item"]]),
                                      ref.best_estimator_.predict(df[["user", "item"]]))
    best, table = select_rank(small_rec(), df.rename(columns=ML), ranks=(1, 2),
                              random_state=0, protocols=("rating",))
    best_ref, table_ref = select_rank(small_rec(), df, ranks=(1, 2), random_state=0,
                                      protocols=("rating",))
    assert best == best_ref
    np.testing.assert_allclose(table["mean_score"], table_ref["mean_score"], rtol=1e-12)
    own_best, _ = select_rank(small_rec(), df.rename(columns={"item": "thing"}), ranks=(1, 2),
                              random_state=0, protocols=("rating",), item_col="thing")
    assert own_best == best_ref


def test_fold_frames_are_checked_before_any_fit():
    df = stars()
    folds = user_kfold(df, 2, random_state=0)
    bad = [folds[0], (folds[1].train, folds[1].test.drop(columns="item"))]
    with pytest.raises(ValueError, match=r"test of fold 1 is missing column\(s\) \['item'\]"):
        GridSearch(small_rec(), {"n_components": [2]}, cv=bad).fit(df)
    # the class of every missing column: a KeyError too, as Recommender.fit raises
    with pytest.raises(MissingColumnError, match=r"test of fold 1 is missing column"):
        GridSearch(small_rec(), {"n_components": [2]}, cv=bad).fit(df)
    with pytest.raises(KeyError, match=r"^ratings is missing column\(s\) \['stars'\]"):
        GridSearch(small_rec(), {"n_components": [2]}).fit(df, rating_col="stars")


# ------------------------------------------------------------------------------ honesty
class ScorePredictor(ConstantPredictor):
    """Predicts scores, not ratings, and ranks by them: declares predicts_ratings."""

    @property
    def predicts_ratings(self):
        return self.c < 10

    def fit(self, train):
        super().fit(train)
        self.items_ = np.sort(train["item"].unique())
        self.seen_ = train.groupby("user")["item"].agg(set).to_dict()
        return self

    def recommend(self, user, k):
        items = [i for i in self.items_ if i not in self.seen_[user]][:k]
        return pd.DataFrame({"item": items, "score": 1.0})


def test_rating_scores_need_a_model_that_predicts_ratings():
    df = stars()
    with pytest.raises(ValueError, match=r"scoring='rmse' needs rating predictions, but "
                                         r"ScorePredictor.predict does not return ratings"):
        GridSearch(ScorePredictor(c=50.0), {"c": [20.0]}).fit(df)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no protocol is skipped: rating is not asked
        search = GridSearch(ScorePredictor(c=50.0), {"c": [20.0, 30.0]}, scoring="precision",
                            random_state=0).fit(df)
    assert "mean_rmse" not in search.results_ and search.results_["mean_precision"].notna().all()
    # a grid that crosses into scores: those combinations score NaN and rank last
    with pytest.warns(UserWarning, match="rating protocol skipped"):
        mixed = GridSearch(ScorePredictor(c=3.0), {"c": [3.0, 40.0]}, scoring="rmse",
                           random_state=0).fit(df)
    assert mixed.best_params_ == {"c": 3.0}
    assert np.isnan(mixed.results_.loc[1, "mean_score"]) and mixed.results_.loc[1, "rank"] == 2


class _NoParams:
    def fit(self, train):
        return self


class _NoFit:
    def get_params(self, deep=True):
        return {"c": 1}

    def set_params(self, **params):
        return self


def test_more_search_errors():
    df = stars()
    folds = user_kfold(df, 2, random_state=0)
    with pytest.raises(TypeError, match=r"fold 'x' of cv is not a \(train, test\) pair; got "
                                        "DataFrame"):
        GridSearch(small_rec(), {"n_components": [2]}, cv={"x": df}).fit(df)
    with pytest.raises(TypeError, match="cv must be a number of folds .* got int"):
        GridSearch(small_rec(), {"n_components": [2]}, cv=lambda ratings: 5).fit(df)
    with pytest.raises(TypeError, match="_NoParams has no get_params/set_params"):
        GridSearch(_NoParams(), {"c": [1]}).fit(df)
    with pytest.raises(TypeError, match="_NoFit has no fit method"):
        GridSearch(_NoFit(), {"c": [1]}).fit(df)
    with pytest.raises(TypeError, match="param_grid entries must be dicts; got list"):
        GridSearch(small_rec(), [["n_components"]]).fit(df)
    with pytest.raises(ValueError, match=r"scoring='rmse' needs the 'rating' protocol, but "
                                         r"protocols=\('ranking',\)"):
        GridSearch(small_rec(), {"n_components": [2]}, cv=folds,
                   protocols="ranking").fit(df)
    with pytest.raises(TypeError, match="ranks must be a sequence of positive integers; got 5"):
        select_rank(small_rec(), df, ranks=5)
    with pytest.raises(ValueError, match=r"ranks has repeated values: \[2, 2\]"):
        select_rank(small_rec(), df, ranks=(2, 2))

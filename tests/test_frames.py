"""Tables of other libraries: polars DataFrames and pyarrow Tables are taken wherever a
pandas ratings or pairs frame is, and give the answers of the pandas frame they convert to.

polars is not a dependency (nor a test dependency): its tests skip without it. pyarrow
comes with the ``dev`` extra.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from nmfrec import RatingsMatrix, Recommender
from nmfrec._validation import FRAME_TYPES, as_frame, to_pandas
from nmfrec.evaluation import (GlobalMean, Popularity, check_ratings_frame, cold_start_report,
                               evaluate, kfold, random_split, temporal_split, user_kfold)
from nmfrec.model_selection import GridSearch

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")

QUICK = dict(n_components=2, n_samples=10, preference_components=2, max_iter=5,
             random_state=0)


def ratings(n_users=30, n_items=20, n=300, seed=0, string_items=True):
    rng = np.random.default_rng(seed)
    keys = rng.choice(n_users * n_items, size=n, replace=False)
    items = keys % n_items
    return pd.DataFrame({
        "user": keys // n_items,
        "item": np.array([f"i{x:02d}" for x in items], dtype=object) if string_items else items,
        "rating": rng.integers(1, 6, n).astype(float),
        "timestamp": rng.permutation(n).astype(np.int64),
    })


def _polars(df):
    pl = pytest.importorskip("polars")
    return pl.from_pandas(df) if "pyarrow" in sys.modules else pl.DataFrame(
        {c: df[c].to_list() for c in df.columns})


def _arrow(df):
    pa = pytest.importorskip("pyarrow")
    return pa.Table.from_pandas(df, preserve_index=False)


def _arrow_batch(df):
    pa = pytest.importorskip("pyarrow")
    return pa.RecordBatch.from_pandas(df, preserve_index=False)


TABLES = {"polars": _polars, "pyarrow": _arrow, "pyarrow-batch": _arrow_batch}


@pytest.fixture(params=list(TABLES))
def table(request):
    return TABLES[request.param]


@pytest.fixture(scope="module")
def data():
    df = ratings()
    return df, Recommender(**QUICK).fit(df)


# ------------------------------------------------------------------------ the converter
def test_the_converter_gives_the_pandas_frame(table):
    df = ratings()
    got = as_frame(table(df))
    pd.testing.assert_frame_equal(got, df, check_dtype=False)
    assert got["user"].dtype == np.int64 and got["rating"].dtype == np.float64
    assert as_frame(df) is df


@pytest.mark.parametrize("value, shown", [
    ([1, 2], "list"), (np.zeros((2, 3)), "ndarray"), ({"user": [1]}, "dict"),
    (pd.Series([1.0]), "Series"),
])
def test_other_types_are_refused_with_what_is_accepted(value, shown):
    with pytest.raises(TypeError, match=rf"^train must be {FRAME_TYPES}; got {shown}\.$"):
        as_frame(value, "train")
    assert to_pandas(value) is None


def test_tables_are_recognised_without_importing_their_library():
    # a type that says it is polars', while polars is not loaded: not imported to check
    code = """
import sys
sys.modules.pop("polars", None)
from nmfrec._validation import to_pandas
Fake = type("DataFrame", (), {"__module__": "polars.dataframe.frame"})
assert to_pandas(Fake()) is None
assert "polars" not in sys.modules, "polars was imported"
import nmfrec
import pandas as pd
nmfrec.Recommender(n_components=1, n_samples=2, preference_components=1).fit(
    pd.DataFrame({"user": [1, 2, 2], "item": [1, 1, 2], "rating": [1.0, 2.0, 3.0]}))
assert "polars" not in sys.modules, "polars was imported"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_polars_lazyframe_is_refused_with_the_way_out():
    pl = pytest.importorskip("polars")
    with pytest.raises(TypeError, match=r"polars LazyFrame.*frame\.collect\(\)"):
        Recommender().fit(pl.from_pandas(ratings()).lazy() if "pyarrow" in sys.modules
                          else pl.LazyFrame({"user": [1], "item": [1], "rating": [1.0]}))


def test_polars_without_pyarrow_converts_column_by_column(monkeypatch):
    pl = pytest.importorskip("polars")
    df = ratings()
    frame = _polars(df)

    def no_pyarrow(self, *args, **kwargs):
        raise ModuleNotFoundError("pyarrow is required")

    monkeypatch.setattr(pl.DataFrame, "to_pandas", no_pyarrow)
    pd.testing.assert_frame_equal(as_frame(frame), df, check_dtype=False)


# ------------------------------------------------------------------------ Recommender
def test_fit_on_a_table_is_the_fit_on_its_pandas_frame(table, data):
    df, rec = data
    other = Recommender(**QUICK).fit(table(df))
    np.testing.assert_array_equal(other.model_.W_, rec.model_.W_)
    np.testing.assert_array_equal(other.ranking_model_.W_, rec.ranking_model_.W_)
    assert other.users_ == rec.users_ and other.items_ == rec.items_
    R = RatingsMatrix.from_frame(table(df))
    assert (R.csr != RatingsMatrix.from_frame(df).csr).nnz == 0


def test_every_method_that_takes_a_frame_takes_a_table(table, data):
    df, rec = data
    pairs = df[["user", "item"]].iloc[::7]
    np.testing.assert_array_equal(rec.predict(table(pairs)), rec.predict(pairs))
    assert rec.score(table(df)) == rec.score(df)
    liked = df[df["user"] == df["user"].iloc[0]][["item", "rating"]]
    pd.testing.assert_frame_equal(rec.recommend_new(table(liked), k=5),
                                  rec.recommend_new(liked, k=5))
    np.testing.assert_array_equal(rec.fold_in(table(liked)), rec.fold_in(liked))
    new = pd.DataFrame({"user": [999, 999], "item": ["i01", "i02"], "rating": [5.0, 1.0]})
    a = Recommender(**QUICK).fit(df).update(new)
    b = Recommender(**QUICK).fit(df).update(table(new))
    np.testing.assert_array_equal(a.model_.W_, b.model_.W_)
    assert a.users_ == b.users_


@pytest.mark.parametrize("method", ["fit", "score", "update", "recommend_new"])
def test_the_frame_methods_list_what_they_take(data, method):
    df, rec = data
    call = {"fit": lambda: Recommender().fit([1, 2]), "score": lambda: rec.score([1, 2]),
            "update": lambda: rec.update([1, 2]),
            "recommend_new": lambda: rec.recommend_new([1, 2])}[method]
    with pytest.raises(TypeError, match=r"got list\b.*a pandas DataFrame, a polars DataFrame "
                                        r"or a pyarrow Table|a pandas DataFrame, a polars "
                                        r"DataFrame or a pyarrow Table.*got list"):
        call()


# ------------------------------------------------------------------------ evaluation
def test_evaluation_takes_tables(table):
    df = ratings(string_items=False)
    train, test = random_split(df, test_size=0.25, random_state=0)
    want = evaluate(Popularity(), train, test)
    got = evaluate(Popularity(), table(train), table(test))
    for key in ("rmse", "mae", "precision", "recall", "ndcg", "coverage"):
        assert got[key] == want[key]
    pairs = [(random_split(table(df), random_state=0), random_split(df, random_state=0)),
             (temporal_split(table(df)), temporal_split(df))]
    for split in (kfold, user_kfold):
        pairs += zip(split(table(df), random_state=0), split(df, random_state=0))
    for mine, theirs in pairs:
        for a, b in zip(mine, theirs):          # train, then test
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
    test = pd.concat([test, pd.DataFrame({"user": [777], "item": [3], "rating": [4.0],
                                          "timestamp": [0]})], ignore_index=True)
    a, b = cold_start_report(table(train), table(test)), cold_start_report(train, test)
    assert (a.n_test, a.n_unknown_user, a.n_unknown) == (b.n_test, b.n_unknown_user, 1)
    np.testing.assert_array_equal(a.unknown_users, b.unknown_users)
    assert list(check_ratings_frame(table(df)).columns) == list(df.columns)
    assert GlobalMean().fit(table(df)).predict(table(test)).tolist() == \
        GlobalMean().fit(df).predict(test).tolist()
    np.testing.assert_array_equal(Popularity().fit(table(train)).predict(table(test)),
                                  Popularity().fit(train).predict(test))


def test_a_grid_search_takes_tables(table):
    df = ratings(string_items=False)
    grid = {"n_components": [1, 2]}
    est = Recommender(**{**QUICK, "n_components": None})
    want = GridSearch(est, grid, cv=2, random_state=0, refit=False).fit(df)
    got = GridSearch(est, grid, cv=2, random_state=0, refit=False).fit(table(df))
    np.testing.assert_array_equal(got.results_["mean_score"], want.results_["mean_score"])
    folds = [(table(tr), table(te)) for tr, te in user_kfold(df, 2, random_state=0)]
    given = GridSearch(est, grid, cv=folds, refit=False).fit(df)
    np.testing.assert_array_equal(given.results_["mean_score"], want.results_["mean_score"])

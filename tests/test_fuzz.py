"""Fuzzing the DataFrame entry: whatever frame hypothesis builds (odd dtypes, NaN/None/NA,
huge and tiny floats, empty, duplicated rows, extra and renamed columns), ``fit`` either
returns a fitted model whose outputs are finite, or raises one of the documented errors
(ValueError, TypeError, KeyError) with a message; never anything else."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmfrec.recommender import Recommender

DOCUMENTED = (ValueError, TypeError, KeyError)

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")

ODD_FLOATS = st.sampled_from([0.0, 1.0, 2.5, 5.0, 1e-12, 1e12, 1e-310, 1e200, 1e300, -1.0,
                              -0.0, np.nan, np.inf, -np.inf])
INT_IDS = st.integers(-3, 6) | st.sampled_from([2**62, -(2**63)])
STR_IDS = st.sampled_from(["a", "b", "c", "", " ", "é", "1", "None", "nan"])
MISSING = st.sampled_from([None, np.nan, pd.NA])


def _id_column(draw, n):
    kind = draw(st.sampled_from(["int", "str", "object_mixed", "float", "Int64", "Float64",
                                 "category_int", "category_str", "bool", "boolean", "str_dtype",
                                 "uint8", "with_missing"]))
    ints = draw(st.lists(INT_IDS, min_size=n, max_size=n))
    strs = draw(st.lists(STR_IDS, min_size=n, max_size=n))
    if kind == "int":
        return pd.Series(ints, dtype=np.int64)
    if kind == "str":
        return pd.Series(strs, dtype=object)
    if kind == "str_dtype":
        return pd.Series(strs, dtype="str")
    if kind == "object_mixed":
        return pd.Series([i if j % 2 else s for j, (i, s) in enumerate(zip(ints, strs))], dtype=object)
    if kind == "float":
        return pd.Series(draw(st.lists(ODD_FLOATS | st.integers(0, 5).map(float), min_size=n, max_size=n)))
    if kind == "Int64":
        return pd.Series(pd.array([None if i == 6 else i for i in ints], dtype="Int64"))
    if kind == "Float64":
        return pd.Series(pd.array([None if i == 6 else i / 2 for i in ints], dtype="Float64"))
    if kind == "category_int":
        return pd.Series(pd.Categorical([None if i == 6 else i for i in ints]))
    if kind == "category_str":
        return pd.Series(pd.Categorical(strs))
    if kind == "bool":
        return pd.Series([bool(i % 2) for i in ints])
    if kind == "boolean":
        return pd.Series(pd.array([None if i == 6 else bool(i % 2) for i in ints], dtype="boolean"))
    if kind == "uint8":
        return pd.Series(np.abs(np.clip(ints, -5, 5)).astype(np.uint8))
    miss = draw(st.lists(MISSING, min_size=n, max_size=n))
    return pd.Series([m if j % 3 == 0 else i for j, (i, m) in enumerate(zip(ints, miss))], dtype=object)


def _rating_column(draw, n):
    kind = draw(st.sampled_from(["float", "odd_float", "int", "Int64", "Float64", "object",
                                 "str", "bool", "float32", "category", "missing"]))
    base = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    if kind == "float":
        return pd.Series(base, dtype=float)
    if kind == "odd_float":
        return pd.Series(draw(st.lists(ODD_FLOATS, min_size=n, max_size=n)), dtype=float)
    if kind == "int":
        return pd.Series(base, dtype=np.int64)
    if kind == "Int64":
        return pd.Series(pd.array([None if b == 0 else b for b in base], dtype="Int64"))
    if kind == "Float64":
        return pd.Series(pd.array([None if b == 0 else b / 2 for b in base], dtype="Float64"))
    if kind == "object":
        return pd.Series([str(b) if b == 3 else b for b in base], dtype=object)
    if kind == "str":
        return pd.Series([str(b) for b in base], dtype="str")
    if kind == "bool":
        return pd.Series([b > 2 for b in base])
    if kind == "float32":
        return pd.Series(base, dtype=np.float32) * draw(st.sampled_from([1.0, 1e-30, 1e30]))
    if kind == "category":
        return pd.Series(pd.Categorical(base))
    miss = draw(st.lists(MISSING, min_size=n, max_size=n))
    return pd.Series([m if j % 4 == 0 else float(b) for j, (b, m) in enumerate(zip(base, miss))], dtype=object)


@st.composite
def frames(draw):
    n = draw(st.integers(0, 12))
    df = pd.DataFrame({"user": _id_column(draw, n), "item": _id_column(draw, n),
                       "rating": _rating_column(draw, n)})
    if n and draw(st.booleans()):                                   # duplicated rows
        df = pd.concat([df, df.iloc[: draw(st.integers(1, n))]], ignore_index=True)
    if draw(st.booleans()):                                         # extra columns
        df["timestamp"] = np.arange(len(df))
        df["note"] = "x"
    rename = draw(st.sampled_from([None, {"user": "userId"}, {"item": "movieId"},
                                   {"rating": "score"}, {"user": "who"}, {"rating": "stars"}]))
    if rename:
        df = df.rename(columns=rename)
    if draw(st.booleans()) and len(df):                             # a non-default index
        df.index = draw(st.sampled_from([np.arange(len(df))[::-1] * 2,
                                         [f"r{j}" for j in range(len(df))],
                                         np.zeros(len(df), dtype=int)]))
    return df


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames(), duplicates=st.sampled_from(["raise", "last", "mean"]),
       solver=st.sampled_from(["als", "mu", "pgd"]))
def test_fit_on_any_frame_fits_or_raises_a_documented_error(df, duplicates, solver):
    rec = Recommender(n_components=2, max_iter=3, random_state=0, solver=solver)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec.fit(df, duplicates=duplicates)
    except DOCUMENTED as e:
        assert str(e), f"{type(e).__name__} without a message"
        return
    # a fitted model: finite non-negative factors, every rating kept, sane outputs
    W, Ht = rec.model_.W_, rec.model_.components_.T
    assert np.all(np.isfinite(W)) and np.all(W >= 0)
    assert np.all(np.isfinite(Ht)) and np.all(Ht >= 0)
    n_pairs = len(df) if duplicates == "raise" else len(df.drop_duplicates(list(rec.columns_[:2])))
    assert rec.ratings_.nnz == n_pairs                     # nothing dropped silently
    ucol, icol, _ = rec.columns_
    pred = rec.predict(df.rename(columns={ucol: "user", icol: "item"})[["user", "item"]])
    assert pred.shape == (len(df),) and np.all(np.isfinite(pred))
    lo, hi = rec.rating_range_
    assert np.all((pred >= lo) & (pred <= hi))
    first = rec.users_.labels_[0]
    top = rec.recommend(first, k=3)
    assert len(top) == min(3, len(rec.items_) - rec.ratings_[0].nnz)
    assert np.all(np.isfinite(top["score"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.filterwarnings("ignore:.* is not in the training data, whose:UserWarning")
def test_queries_with_any_ids_answer_or_raise_a_documented_error(data):
    rec = _fitted()
    ids = st.one_of(INT_IDS, STR_IDS, MISSING, ODD_FLOATS, st.booleans(),
                    st.lists(INT_IDS | STR_IDS, max_size=3), st.tuples(st.integers()))
    user, item = data.draw(ids), data.draw(ids)
    k = data.draw(st.sampled_from([1, 3, 100, 0, -1, 2.5, True, None]))
    calls = [lambda: rec.predict(user, item), lambda: rec.recommend(user, k=k),
             lambda: rec.recommend_many([user], k=k), lambda: rec.explain(user, item),
             lambda: rec.similar_items(item, k=k), lambda: rec.fold_in({item: 3.0}),
             lambda: rec.recommend(1, exclude=[item]), lambda: rec.recommend(1, items=[item])]
    for call in calls:
        try:
            out = call()
        except DOCUMENTED as e:
            assert str(e)
            continue
        if isinstance(out, pd.DataFrame):
            assert not out.select_dtypes("number").isna().any().any()


_FITTED = {}


def _fitted():
    if "rec" not in _FITTED:
        df = pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 4], "item": [1, 2, 1, 3, 2, 3, 4],
                           "rating": [5.0, 3.0, 4.0, 2.0, 1.0, 4.0, 2.0]})
        _FITTED["rec"] = Recommender(n_components=2, max_iter=5, random_state=0).fit(df)
    return _FITTED["rec"]

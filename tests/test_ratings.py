"""The data model: what is observed, what is refused, and id vocabularies."""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from nmfrec.exceptions import MissingColumnError
from nmfrec.ratings import (ITEM_COLUMNS, RATING_COLUMNS, USER_COLUMNS, RatingsMatrix, Vocabulary,
                            as_labels, as_ratings_matrix, feedback_columns, resolve_column,
                            resolve_columns)


def test_dense_nan_is_missing_and_zero_is_observed():
    X = np.array([[0.0, np.nan, 3.0], [np.nan, 0.0, np.nan]])
    R = as_ratings_matrix(X)
    assert R.nnz == 3
    np.testing.assert_array_equal(R.csr.toarray(), np.nan_to_num(X))
    # pattern, not values, is the mask: both zeros are stored
    rows, cols = np.repeat(np.arange(2), np.diff(R.csr.indptr)), R.csr.indices
    assert set(zip(rows.tolist(), cols.tolist())) == {(0, 0), (0, 2), (1, 1)}


def test_sparse_explicit_zeros_are_kept_in_both_twins():
    X = sp.csr_matrix((np.array([0.0, 2.0, 0.0]), np.array([0, 1, 2]), np.array([0, 2, 3])), shape=(2, 3))
    assert X.nnz == 3
    R = as_ratings_matrix(X)
    assert R.csr.nnz == 3 and R.csc.nnz == 3
    np.testing.assert_array_equal(R.col_counts(), [1, 1, 1])
    np.testing.assert_array_equal(R.row_counts(), [2, 1])
    assert R.csr.has_sorted_indices and R.csc.has_sorted_indices


def test_sparse_and_dense_give_the_same_matrix():
    rng = np.random.default_rng(0)
    X = rng.random((6, 5))
    X[rng.random((6, 5)) < 0.5] = np.nan
    Rd = as_ratings_matrix(X)
    Rs = as_ratings_matrix(sp.coo_matrix((X[~np.isnan(X)], np.nonzero(~np.isnan(X))), shape=X.shape))
    assert (Rd.csr != Rs.csr).nnz == 0
    np.testing.assert_array_equal(Rd.csr.indices, Rs.csr.indices)


@pytest.mark.parametrize("bad,match", [
    (np.nan, "NaN"),  # only reachable from sparse input
    (np.inf, "infinite"),
    (-1.0, "negative values .*non-negative"),
])
def test_bad_values_in_sparse_are_refused(bad, match):
    X = sp.coo_matrix((np.array([1.0, bad, 2.0]), (np.array([0, 1, 2]), np.array([0, 1, 0]))), shape=(3, 2))
    with pytest.raises(ValueError, match=match) as e:
        as_ratings_matrix(X)
    assert "row 1, column 1" in str(e.value)


def test_duplicate_coordinates_are_refused_not_summed():
    X = sp.coo_matrix((np.array([1.0, 2.0]), (np.array([0, 0]), np.array([1, 1]))), shape=(2, 2))
    with pytest.raises(ValueError, match="duplicate coordinates.*row 0, column 1"):
        as_ratings_matrix(X)


def test_dense_must_be_numeric_2d():
    with pytest.raises(ValueError, match="2-D"):
        as_ratings_matrix(np.ones(3))
    with pytest.raises(TypeError, match="numbers"):
        as_ratings_matrix(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="DataFrame"):
        as_ratings_matrix(pd.DataFrame({"a": [1]}))


def test_float32_on_request():
    R = as_ratings_matrix(np.ones((2, 2)), dtype="float32")
    assert R.dtype == np.float32 and R.csc.dtype == np.float32
    with pytest.raises(ValueError, match="float32 or float64"):
        as_ratings_matrix(np.ones((2, 2)), dtype="int64")


def frame(**cols):
    return pd.DataFrame(cols)


def test_from_frame_maps_ids_and_keeps_every_rating():
    df = frame(userId=["b", "a", "b"], movieId=[10, 20, 20], rating=[4.0, 0.0, 5.0])
    R = RatingsMatrix.from_frame(df)
    assert R.shape == (2, 2) and R.nnz == 3
    assert list(R.users.labels_) == ["a", "b"] and list(R.items.labels_) == [10, 20]
    dense = R.csr.toarray()
    assert dense[R.users.number("b"), R.items.number(10)] == 4.0
    assert dense[R.users.number("a"), R.items.number(20)] == 0.0  # an observed zero


def test_from_frame_column_errors():
    with pytest.raises(ValueError, match="ambiguous user column.*'user', 'userId'"):
        RatingsMatrix.from_frame(frame(user=[1], userId=[1], item=[1], rating=[1.0]))
    with pytest.raises(KeyError, match="no item column found"):
        RatingsMatrix.from_frame(frame(user=[1], thing=[1], rating=[1.0]))
    with pytest.raises(KeyError, match="rating column 'stars' not found"):
        RatingsMatrix.from_frame(frame(user=[1], item=[1], rating=[1.0]), rating_col="stars")
    with pytest.raises(ValueError, match="empty"):
        RatingsMatrix.from_frame(frame(user=[], item=[], rating=[]))


def test_from_frame_rating_errors_name_the_row():
    with pytest.raises(ValueError, match=r"column 'rating' contains 1 NaN values \(first at row 'r2'\)"):
        RatingsMatrix.from_frame(pd.DataFrame({"user": [1, 2], "item": [1, 1], "rating": [1.0, np.nan]},
                                              index=["r1", "r2"]))
    with pytest.raises(ValueError, match="2 negative values.*Shift"):
        RatingsMatrix.from_frame(frame(user=[1, 2, 3], item=[1, 1, 1], rating=[-1.0, 2.0, -3.0]))
    with pytest.raises(TypeError, match="numeric ratings; got booleans"):
        RatingsMatrix.from_frame(frame(user=[1], item=[1], rating=[True]))
    with pytest.raises(TypeError, match="numeric ratings"):
        RatingsMatrix.from_frame(frame(user=[1], item=[1], rating=["five"]))


def test_from_frame_duplicates():
    df = frame(user=[1, 1, 2], item=[5, 5, 5], rating=[1.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"1 duplicate \(user, item\) pairs.*user=1, item=5"):
        RatingsMatrix.from_frame(df)
    last = RatingsMatrix.from_frame(df, duplicates="last").csr.toarray()
    mean = RatingsMatrix.from_frame(df, duplicates="mean").csr.toarray()
    first = RatingsMatrix.from_frame(df, duplicates="first").csr.toarray()
    assert last[0, 0] == 3.0 and mean[0, 0] == 2.0 and first[0, 0] == 1.0
    assert last[1, 0] == mean[1, 0] == 4.0


def test_from_frame_id_errors():
    with pytest.raises(TypeError, match="mix"):
        RatingsMatrix.from_frame(frame(user=[1, "1"], item=[1, 2], rating=[1.0, 2.0]))
    with pytest.raises(ValueError, match="missing ids"):
        RatingsMatrix.from_frame(frame(user=[1, None], item=[1, 2], rating=[1.0, 2.0]))
    with pytest.raises(TypeError, match="booleans"):
        RatingsMatrix.from_frame(frame(user=[True, False], item=[1, 2], rating=[1.0, 2.0]))


def test_from_frame_categorical_ids():
    df = frame(user=pd.Categorical(["x", "y"]), item=[1, 2], rating=[1.0, 2.0])
    R = RatingsMatrix.from_frame(df)
    assert list(R.users.labels_) == ["x", "y"]


def test_vocabulary_round_trip_and_unknown():
    v = Vocabulary(["u1", "u7", "u3"])
    np.testing.assert_array_equal(v.index(["u3", "u1"]), [2, 0])
    assert list(v.labels([1, 2])) == ["u7", "u3"]
    with pytest.raises(KeyError, match="user 'u42' is not in the training data"):
        v.index(["u42"], kind="user")
    np.testing.assert_array_equal(v.index(["u42", "u7"], missing="negative"), [-1, 1])
    with pytest.raises(ValueError, match="unique"):
        Vocabulary([1, 1])
    w = v.extend(["u9", "u1"])
    assert len(w) == 4 and w.number("u9") == 3 and w.number("u1") == 0


def test_canonical_csr_fast_path_equals_the_coordinate_path():
    X = sp.random(40, 30, density=0.2, format="csr", random_state=1)
    X.data[::7] = 0.0                        # explicit zeros stay observations
    fast = RatingsMatrix.from_sparse(X)
    slow = RatingsMatrix.from_sparse(X.tocoo())
    for a, b in ((fast.csr, slow.csr), (fast.csc, slow.csc)):
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.data, b.data)
    assert fast.nnz == X.nnz and fast.csr.data is not X.data     # a copy, not the caller's
    # an unsorted CSR, a CSR with a duplicate and a negative value take the checked path
    unsorted = sp.csr_matrix((np.array([1.0, 2.0]), np.array([2, 0]), np.array([0, 2, 2])), shape=(2, 3))
    assert RatingsMatrix.from_sparse(unsorted).csr.indices.tolist() == [0, 2]
    dup = sp.csr_matrix((np.array([1.0, 2.0]), np.array([1, 1]), np.array([0, 2, 2])), shape=(2, 3))
    with pytest.raises(ValueError, match="duplicate coordinates"):
        RatingsMatrix.from_sparse(dup)
    neg = sp.csr_matrix((np.array([1.0, -2.0]), np.array([0, 1]), np.array([0, 1, 2])), shape=(2, 3))
    with pytest.raises(ValueError, match=r"negative values \(first at row 1, column 1"):
        RatingsMatrix.from_sparse(neg)


# ------------------------------------------------------------------ statistics of the data
def test_row_and_column_means_are_pandas_group_means():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"user": rng.integers(0, 8, 40), "item": rng.integers(0, 6, 40),
                       "rating": rng.integers(0, 6, 40).astype(float)})
    df = df.drop_duplicates(["user", "item"])
    R = RatingsMatrix.from_frame(df)
    np.testing.assert_allclose(R.row_means(), df.groupby("user")["rating"].mean()
                               .reindex(R.users.labels_).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(R.col_means(), df.groupby("item")["rating"].mean()
                               .reindex(R.items.labels_).to_numpy(), rtol=1e-12)
    # rows and columns without observations get the overall mean, or the default given
    X = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    Rx = as_ratings_matrix(X)
    np.testing.assert_array_equal(Rx.row_means(), [2.0, 2.0])
    np.testing.assert_array_equal(Rx.col_means(default=-1.0), [1.0, -1.0, 3.0])


# ------------------------------------------------------------------ columns, resolved once
def test_resolve_columns_by_role_with_preferred_names():
    df = frame(userId=[1], movieId=[2], rating=[3.0], who=[4])
    assert resolve_columns(df) == ("userId", "movieId", "rating")
    assert resolve_columns(df, user_col="who") == ("who", "movieId", "rating")
    assert resolve_columns(df, roles=("item", "user")) == ("movieId", "userId")
    # names a model was fitted with come first when present, a given name before them
    assert resolve_columns(df, roles=("user",), prefer={"user": "who"}) == ("who",)
    assert resolve_columns(df, roles=("user",), prefer={"user": "gone"}) == ("userId",)
    assert resolve_columns(df, user_col="userId", roles=("user",), prefer={"user": "who"}) == ("userId",)
    with pytest.raises(ValueError, match="user, item and rating columns must differ; got "
                                         "'rating', 'movieId', 'rating'"):
        resolve_columns(df, user_col="rating")
    with pytest.raises(ValueError, match="user and item columns must differ"):
        resolve_columns(df, user_col="movieId", roles=("user", "item"))
    # the single-role resolver keeps its signature
    assert resolve_column(df, None, USER_COLUMNS, "user") == "userId"
    assert "movieId" in ITEM_COLUMNS and "rating" in RATING_COLUMNS


@pytest.mark.parametrize("columns, role, hint", [
    (["usr", "item", "rating"], "user", "Is 'usr' the user column? Pass user_col='usr'."),
    (["customer", "item", "rating"], "user", "Pass user_col='customer'."),
    (["Customer ID", "item", "rating"], "user", "Pass user_col='Customer ID'."),
    (["client", "item", "rating"], "user", "Pass user_col='client'."),
    (["User", "item", "rating"], "user", "Pass user_col='User'."),
    (["user", "product", "rating"], "item", "Is 'product' the item column? Pass item_col='product'."),
    (["user", "sku", "rating"], "item", "Pass item_col='sku'."),
    (["user", "ItemID", "rating"], "item", "Pass item_col='ItemID'."),
    (["user", "item", "stars"], "rating", "Is 'stars' the rating column? Pass rating_col='stars'."),
    (["user", "item", "Rating"], "rating", "Pass rating_col='Rating'."),
    (["user", "item", "ratng"], "rating", "Pass rating_col='ratng'."),
    (["customer", "client", "item", "rating"], "user",
     "Is one of ['customer', 'client'] the user column? Pass user_col= with its name."),
])
def test_no_column_for_a_role_suggests_the_one_that_may_be_meant(columns, role, hint):
    df = frame(**{c: [1] for c in columns})
    with pytest.raises(MissingColumnError, match=rf"no {role} column found: .*"
                                                 rf"{re.escape(hint)}") as e:
        feedback_columns(df)
    # a suggestion is never taken: the table is still refused until the column is named
    assert str(e.value).count(" Is ") == 1
    named = feedback_columns(df, **{f"{role}_col": columns[["user", "item", "rating"].index(role)]})
    assert named[3] == "ratings"


def test_evaluation_frames_suggest_every_missing_role_at_once():
    from nmfrec.evaluation import random_split
    df = frame(customer=[1, 2], product=[3, 4], rating=[5, 4])
    with pytest.raises(MissingColumnError, match=r"missing column\(s\) \['user', 'item'\].* "
                       r"Is 'customer' the user column\? Pass user_col='customer'\. Is "
                       r"'product' the item column\? Pass item_col='product'\.$"):
        random_split(df)


def test_ids_in_the_index_are_pointed_at():
    df = frame(user=[1, 2], item=[3, 4], rating=[5, 4]).set_index("user")
    with pytest.raises(MissingColumnError, match=r"no user column found: .* The user ids are "
                       r"the frame's index \('user'\), not a column: pass df\.reset_index\(\)\.$"):
        feedback_columns(df)


def test_no_suggestion_when_no_column_looks_like_the_role():
    df = frame(visits=[1], item=[2], rating=[3])
    with pytest.raises(MissingColumnError, match=r"the frame has columns \['visits', 'item', "
                                                 r"'rating'\]\.$"):
        feedback_columns(df)


def test_from_frame_records_its_columns():
    df = frame(userId=["b", "a"], movieId=[10, 20], score=[4.0, 1.0])
    assert RatingsMatrix.from_frame(df).columns == ("userId", "movieId", "score")
    assert as_ratings_matrix(np.ones((2, 2))).columns is None
    R = as_ratings_matrix(np.ones((2, 3))).with_labels()
    assert R.users.labels_.tolist() == [0, 1] and R.items.labels_.tolist() == [0, 1, 2]


def test_as_labels_from_every_container():
    assert as_labels(5).tolist() == [5]
    assert as_labels("a").tolist() == ["a"]
    mixed = as_labels([10, "zz"])
    assert mixed.dtype == object and mixed.tolist() == [10, "zz"]      # 10 stays an int
    assert as_labels(pd.Index(["x", "y"])).tolist() == ["x", "y"]
    assert as_labels(pd.Series(pd.Categorical([3, 1]))).tolist() == [3, 1]
    with_na = as_labels(pd.Series(pd.Categorical([3, None])))
    assert with_na[0] == 3 and pd.isna(with_na[1])
    strings = as_labels(pd.Series(["a", "b"], dtype="string"))
    assert strings.dtype == object and strings.tolist() == ["a", "b"]
    assert as_labels(np.array([[1, 2]])).tolist() == [1, 2]


def test_an_id_of_the_other_kind_says_what_the_ids_are():
    strings = Vocabulary(["1", "2", "10"])
    with pytest.raises(KeyError, match=r"user 1 is not in the training data, whose user ids are "
                                       r"strings \(e\.g\. '1', '2'\)"):
        strings.number(1, kind="user")
    ints = Vocabulary(np.array([7, 9]))
    with pytest.raises(KeyError, match=r"item '7' is not in the training data, whose item ids "
                                       r"are integers \(e\.g\. 7, 9\)"):
        ints.index(["7"], kind="item")
    with pytest.raises(KeyError, match=r"label 'x' is not in the training data, whose labels "
                                       r"are integers"):
        ints.number("x")
    # an unknown id of the right kind gets no hint
    with pytest.raises(KeyError, match=r"user '3' is not in the training data\W*$"):
        strings.number("3", kind="user")


def test_negative_values_in_context_use_scikit_learns_words():
    X = np.array([[1.0, -2.0]])
    with pytest.raises(ValueError, match=r"^Negative values in data passed to M\.fit: X contains "
                                         r"1 negative values"):
        as_ratings_matrix(X, context="M.fit")
    with pytest.raises(ValueError, match=r"^X contains 1 negative values"):
        as_ratings_matrix(X)


# ------------------------------------------------------------------ what a table holds
@pytest.mark.parametrize("columns, kw, expected", [
    (["user", "item", "rating"], {}, ("user", "item", "rating", "ratings")),
    (["userId", "movieId", "rating", "timestamp"], {}, ("userId", "movieId", "rating", "ratings")),
    (["user", "item"], {}, ("user", "item", None, "clicks")),
    (["user", "item", "timestamp"], {}, ("user", "item", None, "clicks")),
    (["user", "item", "plays"], {}, ("user", "item", "plays", "counts")),
    (["user_id", "item_id", "count", "date"], {}, ("user_id", "item_id", "count", "counts")),
    (["user", "item", "rating"], {"feedback": "implicit"}, ("user", "item", "rating", "counts")),
    (["user", "item"], {"feedback": "implicit"}, ("user", "item", None, "clicks")),
    (["user", "item", "when"], {"time_col": "when"}, ("user", "item", None, "clicks")),
    (["user", "item", "stars"], {"rating_col": "stars"}, ("user", "item", "stars", "ratings")),
    (["user", "item", "stars"], {"rating_col": "stars", "feedback": "implicit"},
     ("user", "item", "stars", "counts")),
])
def test_feedback_columns_say_what_a_table_holds(columns, kw, expected):
    df = pd.DataFrame({c: [1, 2] for c in columns})
    assert feedback_columns(df, **kw) == expected


def test_a_table_with_an_unknown_value_column_is_not_click_data():
    df = pd.DataFrame({"user": [1], "item": [2], "stars": [5]})
    with pytest.raises(MissingColumnError, match=r"no rating column found.*'stars'.*the user and item "
                                                 r"columns \('user' and 'item' here\) is click data"):
        feedback_columns(df)
    with pytest.raises(MissingColumnError, match="no rating column found"):
        feedback_columns(df[["user", "item"]], feedback="explicit")
    with pytest.raises(MissingColumnError, match=r"the frame has columns \['user', 'item', "
                                                 r"'stars', 'when'\]"):
        feedback_columns(df.assign(when=1), time_col="when")
    with pytest.raises(ValueError, match="ambiguous count column"):
        feedback_columns(pd.DataFrame({"user": [1], "item": [2], "plays": [3], "views": [4]}))

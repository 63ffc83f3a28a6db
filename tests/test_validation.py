"""nmfrec._validation: the checks written once, with the wording every caller shares."""

import numpy as np
import pandas as pd
import pytest

from nmfrec._validation import (
    Interval,
    check_fitted,
    check_frame,
    check_int,
    check_no_missing,
    check_params,
    check_positive_int,
    check_unique_pairs,
    missing_columns,
    show,
)
from nmfrec.exceptions import MissingColumnError, NotFittedError


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(2)])
def test_check_positive_int_accepts_integers(value):
    out = check_positive_int(value, "k")
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [0, -2, 2.0, 1.5, True, np.bool_(True), "3", None])
def test_check_positive_int_refuses_the_rest(value):
    with pytest.raises(ValueError, match=rf"^k must be an integer >= 1; got {value!r}\.$"):
        check_positive_int(value, "k")


def test_check_int_low_bound_and_same_words_as_the_parameter_table():
    assert check_int(2, "n_splits", 2) == 2
    with pytest.raises(ValueError, match=r"^n_splits must be an integer >= 2; got 1\.$"):
        check_int(1, "n_splits", 2)
    # the parameter tables of the estimators word the same constraint the same way
    with pytest.raises(ValueError) as from_table:
        check_params({"n_splits": 1}, {"n_splits": [Interval("int", 2, None, closed="left")]})
    with pytest.raises(ValueError) as from_check:
        check_int(1, "n_splits", 2)
    assert str(from_table.value) == str(from_check.value)


def test_check_frame():
    df = pd.DataFrame({"a": [1], "b": [2]})
    assert check_frame(df, "x", ("a",)) is df
    assert check_frame(df.iloc[:0], "x", allow_empty=True).empty
    with pytest.raises(TypeError, match="^train must be a pandas DataFrame, a polars DataFrame or a pyarrow Table; got ndarray"):
        check_frame(df.to_numpy(), "train")
    with pytest.raises(ValueError, match=r"^x is missing column\(s\) \['c'\]; it has \['a', 'b'\]"):
        check_frame(df, "x", ("a", "c"))
    with pytest.raises(KeyError, match=r"^x is missing column\(s\) \['c', 'd'\]; it has "):
        check_frame(df, "x", ("c", "a", "d"))
    with pytest.raises(ValueError, match="^x is empty"):
        check_frame(df.iloc[:0], "x")


def test_missing_column_error_is_a_key_and_a_value_error_with_a_plain_message():
    df = pd.DataFrame({"a": [1]})
    err = missing_columns(df, "train", ["user"], "a user column is one of ['user', 'uid']")
    assert isinstance(err, MissingColumnError)
    assert isinstance(err, KeyError) and isinstance(err, ValueError)
    assert str(err) == ("train is missing column(s) ['user']; it has ['a'] (a user column is "
                        "one of ['user', 'uid']).")
    assert str(missing_columns(df, "x", ["b"])) == "x is missing column(s) ['b']; it has ['a']."
    assert str(KeyError("q")) == "'q'" and str(MissingColumnError("q")) == "q"


def test_check_fitted_names_the_class_the_call_and_the_method():
    class Model:
        pass

    m = Model()
    with pytest.raises(NotFittedError, match=r"^this Model is not fitted yet; call fit\(ratings\) "
                                             r"before predict\.$"):
        check_fitted(m, "mean_", "predict")
    with pytest.raises(AttributeError, match="call fit before transform"):
        check_fitted(m, "mean_", "transform", fit="fit")
    m.mean_ = 1.0
    assert check_fitted(m, "mean_", "predict") is None


def test_check_no_missing_names_column_count_and_first_row():
    df = pd.DataFrame({"u": [1, None, 3, None], "i": [1, 2, 3, 4]}, index=[10, 11, 12, 13])
    check_no_missing(df, ["i"])
    with pytest.raises(ValueError, match=r"^ratings: column 'u' has 2 missing values "
                                         r"\(first at row 11\)"):
        check_no_missing(df, ["i", "u"])


def test_check_unique_pairs_names_the_first_duplicate():
    df = pd.DataFrame({"userId": [1, 1, 2, 1], "movieId": [5, 6, 5, 5]})
    check_unique_pairs(df.iloc[:3], "userId", "movieId")
    with pytest.raises(ValueError, match=r"^ratings has 1 duplicate \(userId, movieId\) pairs, "
                                         r"which would leak \(e\.g\. userId=1, movieId=5 at row 3\); "
                                         "aggregate them first"):
        check_unique_pairs(df, "userId", "movieId", why="which would leak")


def test_show_prints_numpy_scalars_as_python_values():
    assert show(np.int64(3)) == "3" and show(np.float64(2.5)) == "2.5"
    assert show("a") == "'a'" and show(7) == "7"

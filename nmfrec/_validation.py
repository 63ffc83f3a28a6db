"""Validation written once: parameter constraints, integer arguments and frame checks.

* Estimator parameters: one declarative table per estimator (``{name: [constraint, ...]}``
  of :class:`Interval`, :class:`Options`, ...), checked in ``fit`` by :func:`check_params`.
* Single integer arguments of functions and methods (``k``, ``n_splits``, ``n_test``):
  :func:`check_int` and :func:`check_positive_int`, with the same wording as the tables.
* DataFrames: :func:`check_frame` (type, named columns, not empty),
  :func:`check_no_missing` (no NA in id columns) and :func:`check_unique_pairs` (one row
  per (user, item) pair). Which column plays which role (user, item, rating) is decided
  by :func:`nmfrec.ratings.resolve_column`, not here; these checks take resolved names.
* Tables of other libraries: :func:`as_frame` takes a polars DataFrame or a pyarrow
  Table wherever a ratings or pairs frame is accepted, converted by the library's own
  ``to_pandas``; neither library is imported by nmfrec (a table's type names it).
* Where a row is, for messages: :func:`locate_row` says ``row 2041``, and for a frame
  read by :mod:`nmfrec.io` also the file and line (``row 2041 (line 2043 of r.csv)``),
  from what the reader recorded with :func:`record_source`.

Error wording is parameter, then constraint, then value:
``"n_components must be an integer >= 1; got 0."``

This module imports only :mod:`nmfrec.exceptions` from the rest of nmfrec, so every layer
may use it.
"""

from __future__ import annotations

import bisect
import numbers
import sys

import numpy as np
import pandas as pd

from .exceptions import MissingColumnError, NotFittedError

_IS_SATISFIED_DOC = """Whether ``x`` meets the constraint.

        Parameters
        ----------
        x : object
            The value to check.

        Returns
        -------
        bool
        """


class Interval:
    """A numeric constraint ``low <= x <= high`` (bounds optional, open or closed).

    Booleans never satisfy it; real numbers must be finite.

    Parameters
    ----------
    kind : {"int", "real"}
        Integers only (Python or NumPy), or any real number.
    low, high : number, optional
        The bounds; None leaves that side open-ended.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.
    """

    def __init__(self, kind, low=None, high=None, closed="both"):
        self.kind = kind
        self.low, self.high, self.closed = low, high, closed

    def is_satisfied_by(self, x):
        if isinstance(x, (bool, np.bool_)):
            return False
        if self.kind == "int" and not isinstance(x, numbers.Integral):
            return False
        if self.kind == "real" and not isinstance(x, numbers.Real):
            return False
        if self.kind == "real" and not np.isfinite(x):
            return False
        lo_ok = self.low is None or (x >= self.low if self.closed in ("both", "left") else x > self.low)
        hi_ok = self.high is None or (x <= self.high if self.closed in ("both", "right") else x < self.high)
        return lo_ok and hi_ok

    is_satisfied_by.__doc__ = _IS_SATISFIED_DOC

    def __str__(self):
        what = "an integer" if self.kind == "int" else "a finite number"
        if self.low is not None and self.high is not None:
            lb = "[" if self.closed in ("both", "left") else "("
            rb = "]" if self.closed in ("both", "right") else ")"
            return f"{what} in {lb}{self.low}, {self.high}{rb}"
        if self.low is not None:
            op = ">=" if self.closed in ("both", "left") else ">"
            return f"{what} {op} {self.low}"
        if self.high is not None:
            op = "<=" if self.closed in ("both", "right") else "<"
            return f"{what} {op} {self.high}"
        return what


class Options:
    """One of a fixed set of values (equal and of the same type, or the same object).

    Parameters
    ----------
    *values : object
        The allowed values.
    """

    def __init__(self, *values):
        self.values = values

    def is_satisfied_by(self, x):
        try:
            return any(x is v or (v is not None and x == v and type(x) is type(v)) for v in self.values)
        except Exception:  # pragma: no cover - exotic __eq__
            return False

    is_satisfied_by.__doc__ = _IS_SATISFIED_DOC

    def __str__(self):
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of " + ", ".join(repr(v) for v in self.values)


class RandomState:
    """None, an int seed or a numpy Generator/RandomState."""

    def is_satisfied_by(self, x):
        return (x is None or isinstance(x, (np.random.Generator, np.random.RandomState))
                or (isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 0))

    is_satisfied_by.__doc__ = _IS_SATISFIED_DOC

    def __str__(self):
        return "None, a non-negative integer seed or a numpy Generator"


class Dtype:
    """A floating-point dtype the solvers support: float32 or float64 (any spelling)."""

    def is_satisfied_by(self, x):
        try:
            return np.dtype(x) in (np.dtype(np.float32), np.dtype(np.float64))
        except TypeError:
            return False

    is_satisfied_by.__doc__ = _IS_SATISFIED_DOC

    def __str__(self):
        return "'float32' or 'float64'"


def check_params(params: dict, table: dict):
    """Validate ``params`` against a constraint table.

    Parameters
    ----------
    params : dict
        Parameter name -> value (e.g. an estimator's ``get_params()``).
    table : dict
        Parameter name -> list of constraints; a value is valid when any of them accepts
        it. Every name of ``table`` must be a key of ``params``.

    Raises
    ------
    ValueError
        Naming the first invalid parameter, what it must be and the value it has.
    """
    for name, constraints in table.items():
        _check_one(name, params[name], constraints)


def _check_one(name, value, constraints):
    if not any(c.is_satisfied_by(value) for c in constraints):
        wanted = " or ".join(str(c) for c in constraints)
        raise ValueError(f"{name} must be {wanted}; got {value!r}.")


def check_int(value, name, low=1) -> int:
    """An integer argument at least ``low``, as a Python ``int``.

    Parameters
    ----------
    value : object
        The argument. Python and NumPy integers are accepted; booleans, floats (even
        integral ones) and anything else are not.
    name : str
        The argument's name, for the message.
    low : int, default 1
        Smallest valid value.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``"{name} must be an integer >= {low}; got {value!r}."``
    """
    _check_one(name, value, [Interval("int", low, None, closed="left")])
    return int(value)


def check_positive_int(value, name) -> int:
    """A count or a list length such as ``k``: :func:`check_int` with ``low=1``.

    Parameters
    ----------
    value : object
        The argument.
    name : str
        The argument's name, for the message.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``"{name} must be an integer >= 1; got {value!r}."``
    """
    return check_int(value, name, 1)


#: The tables accepted as ratings or pairs, for messages.
FRAME_TYPES = "a pandas DataFrame, a polars DataFrame or a pyarrow Table"


def as_frame(df, name="ratings", also=""):
    """``df`` as a pandas DataFrame: a pandas frame as it is, a polars DataFrame or a
    pyarrow Table (or RecordBatch) converted by that library's ``to_pandas``.

    Neither polars nor pyarrow is a dependency, nor imported here: a table of theirs is
    recognised by its type's module, which its library has loaded already. (The
    dataframe interchange protocol, which pandas 3 deprecates, is not used.)

    Parameters
    ----------
    df : object
        The table.
    name : str, default "ratings"
        What the caller calls it, for the message.
    also : str, default ""
        Other types the caller accepts, for the message (e.g. ``", a scipy sparse
        matrix or a RatingsMatrix"``).

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    TypeError
        ``df`` is none of these (the message lists what is accepted), or a polars
        LazyFrame (to ``collect`` first).
    """
    frame = to_pandas(df)
    if frame is None:
        raise TypeError(f"{name} must be {FRAME_TYPES}{also}; got {type_name(df)}.")
    return frame


def to_pandas(obj):
    """``obj`` as a pandas DataFrame when it is one or a table :func:`as_frame` converts,
    else None (a label, a list, an array: not a table).

    Parameters
    ----------
    obj : object

    Returns
    -------
    pandas.DataFrame or None
    """
    if isinstance(obj, pd.DataFrame):
        return obj
    library = type(obj).__module__.partition(".")[0]
    module = sys.modules.get(library) if library in ("polars", "pyarrow") else None
    if module is None:
        return None
    if library == "polars":
        if isinstance(obj, module.LazyFrame):
            raise TypeError("got a polars LazyFrame, a query not yet run; pass its result, "
                            "frame.collect().")
        if not isinstance(obj, module.DataFrame):
            return None
        try:
            return obj.to_pandas()
        except ImportError:
            # polars converts through pyarrow; without it, column by column
            return pd.DataFrame({c: obj.get_column(c).to_numpy() for c in obj.columns})
    if isinstance(obj, (module.Table, module.RecordBatch)):
        return obj.to_pandas()
    return None


def type_name(obj) -> str:
    """The type of ``obj`` as its user knows it: ``list``, ``ndarray``, ``Series``, and
    with its library where the name alone could be pandas' (``polars.Series``).

    Parameters
    ----------
    obj : object

    Returns
    -------
    str
    """
    t = type(obj)
    library = t.__module__.partition(".")[0]
    return (t.__name__ if library in ("builtins", "numpy", "pandas")
            else f"{library}.{t.__name__}")


def check_frame(df, name="ratings", columns=(), *, allow_empty=False):
    """Check that ``df`` is a DataFrame with the given columns and, by default, rows.

    Parameters
    ----------
    df : object
        The value to check.
    name : str, default "ratings"
        What the caller calls it (``"train"``, ``"test of fold 2"``), for the message.
    columns : sequence of str, default ()
        Column names that must be present (already resolved: see
        :func:`nmfrec.ratings.resolve_column` for finding them by role).
    allow_empty : bool, default False
        Accept a frame without rows.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, or as :func:`as_frame` converts it.

    Raises
    ------
    TypeError
        ``df`` is not a table :func:`as_frame` takes.
    MissingColumnError
        A column is missing (the message lists the frame's columns); a ``KeyError`` and
        a ``ValueError``.
    ValueError
        The frame is empty and ``allow_empty`` is False.
    """
    df = as_frame(df, name)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise missing_columns(df, name, missing)
    if not allow_empty and len(df) == 0:
        raise ValueError(f"{name} is empty.")
    return df


def check_fitted(obj, attribute, method, fit="fit(ratings)"):
    """Check that ``obj`` was fitted: it has the attribute that ``fit`` sets.

    Parameters
    ----------
    obj : object
        The model or search.
    attribute : str
        An attribute that only ``fit`` sets (e.g. ``"mean_"``, ``"results_"``).
    method : str
        The method that was called, for the message.
    fit : str, default "fit(ratings)"
        How to fit it, for the message.

    Raises
    ------
    NotFittedError
        ``"this {class} is not fitted yet; call {fit} before {method}."``; an
        ``AttributeError`` and a ``ValueError``.
    """
    if not hasattr(obj, attribute):
        raise NotFittedError(f"this {type(obj).__name__} is not fitted yet; call {fit} "
                             f"before {method}.")


def missing_columns(df, name, missing, hint=None) -> MissingColumnError:
    """The error for a frame that lacks columns, in the one wording of every layer.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame, whose columns the message lists.
    name : str
        What the caller calls the frame (``"train"``, ``"test of fold 2"``).
    missing : list
        The absent column names, or the roles (``"user"``, ...) for which no column
        was found.
    hint : str, optional
        How to name the columns, appended in parentheses.

    Returns
    -------
    MissingColumnError
        ``"{name} is missing column(s) {missing}; it has [...] ({hint})."``, to raise.
    """
    return MissingColumnError(f"{name} is missing column(s) {missing}; it has "
                              f"{list(df.columns)}" + (f" ({hint})." if hint else "."))


def show(value) -> str:
    """``repr`` of a value for a message, NumPy scalars as plain Python ones.

    Parameters
    ----------
    value : object
        E.g. a label taken from an array: ``np.int64(1)`` shows as ``1``.

    Returns
    -------
    str
    """
    return repr(value.item() if isinstance(value, np.generic) else value)


#: The key of ``DataFrame.attrs`` under which a file reader records where the rows of a
#: frame come from (see :func:`record_source`).
SOURCE_ATTR = "nmfrec.source"


def record_source(df, path, first_line=None, blank_lines=()):
    """Record in ``df.attrs`` the file the rows of ``df`` were read from, and their lines.

    The record follows the frame's index labels: the row labelled ``r`` (the reader's
    ``RangeIndex``) is the ``r``-th data row of the file. pandas carries ``attrs``
    through selections, sorting and copies, which keep the labels; the record is
    dropped where it would no longer hold (a frame longer than the file), but a frame
    re-labelled after reading (``reset_index`` after sorting) keeps a record that no
    longer applies, which is why messages give the row label too (:func:`locate_row`).

    Parameters
    ----------
    df : pandas.DataFrame
        The frame as the reader returns it (a ``RangeIndex`` from 0).
    path : str or path-like
        The file.
    first_line : int, optional
        The line of the file (from 1) holding the first data row; None for a file
        without lines (Parquet).
    blank_lines : sequence of int, default ()
        Lines after ``first_line`` that the parser skipped (blank ones), ascending.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself.
    """
    df.attrs[SOURCE_ATTR] = {"path": str(path), "n_rows": len(df), "first_line": first_line,
                             "blank_lines": [int(b) for b in blank_lines]}
    return df


def locate_row(df, pos) -> str:
    """Where the row at position ``pos`` of ``df`` is, for a message.

    Parameters
    ----------
    df : pandas.DataFrame or pandas.Series
        The frame (or one of its columns).
    pos : int
        The row's position (``iloc``).

    Returns
    -------
    str
        ``"row {label}"`` (the index label, as pandas shows it), followed for a frame
        read from a file by :mod:`nmfrec.io` by the file's line, ``"row 2041 (line 2043
        of ratings.csv)"``, or for a Parquet file ``"row 5 (of ratings.parquet)"``.
    """
    text = f"row {show(df.index[pos])}"
    src = _source(df, pos)
    if src is None:
        return text
    line = source_line(df, pos)
    where = f"of {src['path']}" if line is None else f"line {line} of {src['path']}"
    return f"{text} ({where})"


def source_line(df, pos):
    """The line of its file that the row at position ``pos`` of ``df`` was read from
    (see :func:`record_source`), or None when that is not known.

    Parameters
    ----------
    df : pandas.DataFrame or pandas.Series
        The frame (or one of its columns).
    pos : int
        The row's position (``iloc``).

    Returns
    -------
    int or None
    """
    src = _source(df, pos)
    if src is None or src.get("first_line") is None:
        return None
    label = int(df.index[pos])
    # the data rows before each skipped line: those after it are one line further down
    before = [b - src["first_line"] - j for j, b in enumerate(src.get("blank_lines", []))]
    return src["first_line"] + label + bisect.bisect_right(before, label)


def _source(df, pos):
    """The reader's record of ``df`` when it applies to the row at ``pos``, else None."""
    src = df.attrs.get(SOURCE_ATTR)
    label = df.index[pos]
    if (not isinstance(src, dict) or not isinstance(label, numbers.Integral)
            or isinstance(label, (bool, np.bool_)) or not 0 <= label < src.get("n_rows", 0)):
        return None
    return src


def check_no_missing(df, columns, name="ratings"):
    """Check that the ``columns`` of ``df`` hold no missing value (NaN, None, NA).

    Parameters
    ----------
    df : pandas.DataFrame
    columns : sequence of str
        Column names present in ``df`` (e.g. the user, item and timestamp columns).
    name : str, default "ratings"
        What the caller calls the frame, for the message.

    Raises
    ------
    ValueError
        Naming the column, how many values are missing and the first row label.
    """
    for col in columns:
        na = df[col].isna().to_numpy()
        if na.any():
            raise ValueError(f"{name}: column {col!r} has {int(na.sum())} missing values "
                             f"(first at {locate_row(df, int(np.flatnonzero(na)[0]))}).")


def check_unique_pairs(df, user_col, item_col, name="ratings", why=""):
    """Check that no (user, item) pair occurs twice in ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
    user_col, item_col : str
        The user and item columns of ``df``.
    name : str, default "ratings"
        What the caller calls the frame, for the message.
    why : str, default ""
        Why duplicates are a problem here, appended to the message (e.g. ``"which
        would leak between train and test"``).

    Raises
    ------
    ValueError
        With the number of duplicated pairs and the first one.
    """
    dup = df.duplicated([user_col, item_col], keep="first").to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        row = df.iloc[pos]
        because = f", {why}" if why else ""
        raise ValueError(
            f"{name} has {int(dup.sum())} duplicate ({user_col}, {item_col}) pairs{because} "
            f"(e.g. {user_col}={show(row[user_col])}, {item_col}={show(row[item_col])} at "
            f"{locate_row(df, pos)}); aggregate them first."
        )


def check_random_state(seed) -> np.random.Generator:
    """Turn ``seed`` into a ``np.random.Generator`` (the only randomness source).

    Parameters
    ----------
    seed : None, int, numpy.random.Generator or numpy.random.RandomState
        A Generator is returned as is; a RandomState seeds a new Generator; None or an
        int are passed to ``np.random.default_rng``.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    return np.random.default_rng(seed)

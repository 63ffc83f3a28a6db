"""The data model: a validated sparse ratings matrix with an explicit observation mask.

This module is the **one place** where nmfrec decides what is *missing*. Everything
above it (the estimator, the recommender, evaluation) receives a :class:`RatingsMatrix`
and never re-derives the mask.

Conventions
-----------
* The observed set Ω is the sparsity *pattern* of the matrix, never ``X != 0``: a
  stored zero is an observed rating of 0 and is kept (scipy would otherwise be free to
  drop it).
* From a dense array, ``np.nan`` marks a missing entry; every other value is observed.
* From a scipy sparse matrix, the stored entries are the observed ones, explicit zeros
  included. Duplicate coordinates (possible in COO input) are an error, not summed.
* From a DataFrame, each row is one observed ``(user, item, rating)``; raw labels are
  mapped to inner indices by a :class:`Vocabulary` each way.
* Ratings must be finite and non-negative (NMF needs X >= 0).

Both a CSR (rows = users) and a CSC (columns = items) twin are kept with sorted indices,
so a solver can update user factors from the CSR and item factors from the CSC with the
same kernel.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._base import warn as _warn
from ._rows import LocalRows
from ._validation import as_frame, locate_row
from .exceptions import MissingColumnError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._typing import (Duplicates, Feedback, FloatArray, FloatDType, Frame, IntArray,
                          LabelOrLabels, MatrixLike, Sparse)

__all__ = ["Vocabulary", "RatingsMatrix", "as_ratings_matrix", "as_labels", "alternate_split",
           "resolve_column",
           "resolve_columns", "feedback_columns", "USER_COLUMNS", "ITEM_COLUMNS",
           "RATING_COLUMNS", "COUNT_COLUMNS", "TIME_COLUMNS", "ROLE_COLUMNS",
           "DUPLICATE_POLICIES", "FEEDBACK_KINDS"]

#: Column names recognised without arguments, in order of preference.
USER_COLUMNS = ("user", "userId", "user_id", "userid", "UserId", "uid")
ITEM_COLUMNS = ("item", "movieId", "item_id", "itemId", "itemid", "movie_id", "movie", "iid")
RATING_COLUMNS = ("rating", "ratings", "score")

#: Columns of interaction counts (click data with a confidence, not a rating scale).
COUNT_COLUMNS = ("count", "counts", "plays", "play_count", "playcount", "clicks", "views",
                 "listens", "frequency", "weight", "n")
#: Columns of a click table that are neither a rating nor a count (left alone).
TIME_COLUMNS = ("timestamp", "time", "datetime", "date", "ts")

#: What a table's values are: ratings, interaction counts, or bare interactions.
FEEDBACK_KINDS = ("ratings", "counts", "clicks")

#: The candidate names of each role, by role.
ROLE_COLUMNS = {"user": USER_COLUMNS, "item": ITEM_COLUMNS, "rating": RATING_COLUMNS}

#: Other words for a role, never taken without the caller's say (a ``client`` column
#: may be a device): a message that finds no column for the role suggests them.
_ROLE_WORDS = {"user": ("customer", "client", "member", "account", "visitor", "person",
                        "buyer", "reader", "listener", "viewer", "player", "usr"),
               "item": ("product", "sku", "article", "book", "song", "track", "artist",
                        "film", "asin", "isbn", "object", "thing"),
               "rating": ("stars", "star", "grade", "rate", "vote", "value", "note")}

DUPLICATE_POLICIES = ("raise", "last", "first", "mean")

_FLOAT_DTYPES = (np.float32, np.float64)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.type not in _FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64; got {dtype}.")
    return dtype


# --------------------------------------------------------------------------- vocabulary
class Vocabulary:
    """A bijection between raw labels (ints or strings) and inner indices ``0..n-1``.

    Raw labels are what the user knows (``user 196``, ``"Toy Story (1995)"``); inner
    indices are rows or columns of the ratings matrix. The two are never mixed: every
    conversion goes through :meth:`index` or :meth:`labels`.

    Parameters
    ----------
    labels : array-like
        Unique labels, in inner-index order. All ints or all strings.
    """

    def __init__(self, labels: npt.ArrayLike) -> None:
        arr = np.asarray(labels)
        if arr.ndim != 1:
            raise ValueError(f"labels must be one-dimensional; got shape {arr.shape}.")
        _check_label_kind(arr, "labels")
        index = pd.Index(arr)
        if not index.is_unique:
            dup = index[index.duplicated()][0]
            raise ValueError(f"labels must be unique; {dup!r} appears more than once.")
        self._index = index

    # -- size and membership
    def __len__(self):
        return len(self._index)

    def __contains__(self, label):
        try:
            return label in self._index
        except TypeError:
            return False

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self._index.equals(other._index)

    def __repr__(self):
        return f"Vocabulary(n={len(self)}, first={list(self._index[:3])!r})"

    @property
    def labels_(self) -> np.ndarray:
        """All labels in inner-index order (a copy)."""
        return self._index.to_numpy(copy=True)

    @property
    def is_integer(self) -> bool:
        return pd.api.types.is_integer_dtype(self._index.dtype)

    # -- conversions
    def index(self, labels: LabelOrLabels, missing: Literal["raise", "negative"] = "raise",
              kind: str = "label", warn: str | None = None) -> IntArray:
        """Inner indices of ``labels``.

        Parameters
        ----------
        labels : array-like
        missing : {"raise", "negative"}
            Unknown labels raise ``KeyError`` (default) or map to ``-1``.
        kind : str
            Word used in the error message ("user", "item", ...).
        warn : str, optional
            With ``missing="negative"``: unknown labels of the other kind than the
            vocabulary's (``"196"`` asked of integer ids) warn, with the ``KeyError``'s
            message followed by this text (what the caller does with them, e.g.
            ``"predict returns NaN for such ids"``), so that a kind mismatch never passes silently.
        """
        arr = np.asarray(labels)
        scalar = arr.ndim == 0
        arr = np.atleast_1d(arr)
        try:
            idx = self._index.get_indexer(arr)
        except (TypeError, ValueError):  # e.g. unorderable mixed types
            idx = np.array([self._index.get_loc(x) if x in self else -1 for x in arr])
        idx = np.asarray(idx, dtype=np.int64)
        if missing == "raise":
            bad = np.flatnonzero(idx < 0)
            if bad.size:
                raise KeyError(self.not_found(arr[bad[0]], kind, bad.size))
        elif missing != "negative":
            raise ValueError(f"missing must be 'raise' or 'negative'; got {missing!r}.")
        elif warn is not None and (idx < 0).any():
            unknown = np.flatnonzero(idx < 0)
            other = unknown[self.other_kind(arr[unknown])]
            if other.size:
                _warn(f"{self.not_found(arr[other[0]], kind, other.size)}; {warn}.")
        return idx[0] if scalar else idx

    def not_found(self, label: Any, kind: str = "label", count: int = 1) -> str:
        """The message for ``label`` (and ``count - 1`` other labels) not found: its
        ``kind`` ("user", "item"), and the kind of the vocabulary's ids when ``label``
        is of the other kind (see :meth:`other_kind`)."""
        more = f" (and {count - 1} more)" if count > 1 else ""
        return (f"{kind} {_show(label)} is not in the training data{more}"
                f"{self._kind_hint(label, kind)}")

    def other_kind(self, labels: LabelOrLabels) -> npt.NDArray[np.bool_]:
        """Which ``labels`` are of the other kind than the vocabulary's: strings asked of
        integer labels, or integers asked of string labels (a bool mask)."""
        arr = np.atleast_1d(np.asarray(labels))
        if not len(self) or not arr.size:
            return np.zeros(arr.size, dtype=bool)
        if arr.dtype.kind != "O":
            other = "US" if self.is_integer else "iu"
            return np.full(arr.size, arr.dtype.kind in other)
        return np.fromiter((bool(self._kind_hint(x, "label")) for x in arr), bool, arr.size)

    def _kind_hint(self, label, kind):
        """``", whose user ids are strings (e.g. '1', '2')"`` when ``label`` is of the
        other kind than the vocabulary's labels (an int asked of string ids, or the
        reverse), else ``""``."""
        if isinstance(label, (bool, np.bool_)) or not len(self):
            return ""
        if self.is_integer and isinstance(label, str):
            kinds = "integers"
        elif not self.is_integer and isinstance(label, numbers.Integral):
            kinds = "strings"
        else:
            return ""
        what = f"{kind} ids" if kind != "label" else "labels"
        examples = ", ".join(_show(x) for x in self._index[:2])
        return f", whose {what} are {kinds} (e.g. {examples})"

    def number(self, label: Any, kind: str = "label") -> int:
        """Inner index of one label; ``KeyError`` naming it if unknown."""
        # a hash lookup first (recommend's user); what it does not find takes the
        # general path, which raises naming the label and its kind
        try:
            loc = self._index.get_loc(label)
        except (KeyError, TypeError, ValueError, pd.errors.InvalidIndexError):
            loc = None
        if isinstance(loc, (int, np.integer)):
            return int(loc)
        return int(self.index(np.array([label], dtype=object if isinstance(label, str) else None),
                              kind=kind)[0])

    def labels(self, indices: npt.ArrayLike) -> np.ndarray:
        """Raw labels at inner ``indices``."""
        return self._index.to_numpy()[np.asarray(indices, dtype=np.int64)]

    def extend(self, labels: npt.ArrayLike) -> Vocabulary:
        """A new vocabulary with unseen ``labels`` appended (existing indices unchanged)."""
        arr = np.asarray(labels)
        _check_label_kind(arr, "labels")
        new = pd.Index(arr).unique()
        new = new[self._index.get_indexer(new) < 0]
        if len(new) == 0:
            return self
        if len(self) and (pd.api.types.is_integer_dtype(self._index.dtype)
                          != pd.api.types.is_integer_dtype(new.dtype)):
            raise TypeError(
                f"cannot mix label kinds: the vocabulary holds {self._index.dtype} labels, "
                f"the new ones are {new.dtype} (e.g. {new[0]!r})."
            )
        return Vocabulary(np.concatenate([self._index.to_numpy(), new.to_numpy()]))


def _show(label):
    return repr(label.item() if isinstance(label, np.generic) else label)


def _check_label_kind(arr: np.ndarray, name: str):
    """Labels are all integers or all strings; floats, bools and mixtures are refused."""
    if arr.size == 0:
        return
    kind = arr.dtype.kind
    if kind in "iu" or kind in "US":
        return
    if kind == "b":
        raise TypeError(f"{name} must be integers or strings; got booleans.")
    if kind == "f":
        if np.isnan(arr).any():
            raise ValueError(f"{name} contain {int(np.isnan(arr).sum())} missing (NaN) values.")
        if np.all(arr == np.round(arr)):
            return  # integral floats (e.g. from a CSV with missing rows) are accepted
        raise TypeError(f"{name} must be integers or strings; got non-integral floats "
                        f"(e.g. {arr[arr != np.round(arr)][0]!r}).")
    if kind == "O":
        types = {type(x) for x in arr}
        is_int = all(isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))
                     for x in arr)
        is_str = all(isinstance(x, str) for x in arr)
        if is_int or is_str:
            return
        if any(x is None or (isinstance(x, float) and np.isnan(x)) for x in arr):
            n = sum(x is None or (isinstance(x, float) and np.isnan(x)) for x in arr)
            raise ValueError(f"{name} contain {n} missing (None/NaN) values.")
        names = sorted(t.__name__ for t in types)
        raise TypeError(f"{name} must be all integers or all strings; got a mix of {names}.")
    raise TypeError(f"{name} must be integers or strings; got dtype {arr.dtype}.")


# ------------------------------------------------------------------------ ratings matrix
@dataclass(frozen=True, eq=False)
class RatingsMatrix:
    """A validated sparse ratings matrix with its observation mask.

    Attributes
    ----------
    csr : scipy.sparse.csr_matrix, shape (n_rows, n_cols)
        Rows are users. Sorted indices, no duplicates, explicit zeros kept.
    csc : scipy.sparse.csc_matrix
        The same matrix by columns (items), for item-side updates.
    users, items : Vocabulary or None
        Raw labels of rows and columns when built from a DataFrame.
    columns : tuple of str or None
        The frame's (user, item, rating) column names when built from a DataFrame.
    """

    csr: sp.csr_matrix
    csc: sp.csc_matrix
    users: Vocabulary | None = None
    items: Vocabulary | None = None
    columns: tuple | None = None

    distributed = False
    """Whether the entries live elsewhere (a Spark fit's ratings); here they are in memory."""

    def rows(self) -> LocalRows:
        """Where a fit's row kernels run on this matrix (see :mod:`nmfrec._rows`)."""
        return LocalRows(self.csr, self.csc)

    # -- shape and summary
    @property
    def shape(self) -> tuple[int, int]:
        return self.csr.shape

    @property
    def nnz(self) -> int:
        return int(self.csr.nnz)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.csr.dtype

    @property
    def density(self) -> float:
        m, n = self.shape
        return self.nnz / (m * n) if m and n else 0.0

    @property
    def is_fully_observed(self) -> bool:
        m, n = self.shape
        return self.nnz == m * n

    @property
    def rating_range(self) -> tuple[float, float]:
        d = self.csr.data
        return (float(d.min()), float(d.max())) if d.size else (0.0, 0.0)

    @property
    def mean(self) -> float:
        d = self.csr.data
        return float(d.mean()) if d.size else 0.0

    def row_counts(self) -> np.ndarray:
        """Number of observed entries in each row."""
        return np.diff(self.csr.indptr)

    def map_values(self, function: Callable[[np.ndarray], npt.ArrayLike]) -> RatingsMatrix:
        """The same matrix (pattern, labels, columns) with ``function`` applied to every
        stored value (an element-wise NumPy function), in the same dtype."""
        csr = self.csr.copy()
        csc = self.csc.copy()
        csr.data = np.asarray(function(csr.data), dtype=csr.dtype)
        csc.data = np.asarray(function(csc.data), dtype=csc.dtype)
        return RatingsMatrix(csr, csc, self.users, self.items, self.columns)

    def row_sums(self) -> np.ndarray:
        """Sum of the observed values of each row (float64)."""
        return _segment_sums(self.csr)

    def col_counts(self) -> np.ndarray:
        """Number of observed entries in each column."""
        return np.diff(self.csc.indptr)

    def col_sums(self) -> np.ndarray:
        """Sum of the observed values of each column (float64)."""
        return _segment_sums(self.csc)

    def row_means(self, default: float | None = None, damping: float = 0.0) -> FloatArray:
        """Mean observed value of each row (a user's mean rating), float64.

        Parameters
        ----------
        default : float, optional
            The value of rows without observations, and the value the damping pulls
            toward; by default the overall mean :attr:`mean`.
        damping : float, default=0.0
            Pseudo-count: the mean is ``(sum + damping * default) / (count + damping)``,
            so that a row with few observations stays near ``default``.
        """
        return _means(self.csr, self.mean if default is None else default, damping)

    def col_means(self, default: float | None = None, damping: float = 0.0) -> FloatArray:
        """Mean observed value of each column (an item's mean rating), float64.

        Parameters
        ----------
        default : float, optional
            As in :meth:`row_means`, by default :attr:`mean`.
        damping : float, default=0.0
            As in :meth:`row_means`.
        """
        return _means(self.csc, self.mean if default is None else default, damping)

    def astype(self, dtype: FloatDType) -> RatingsMatrix:
        dtype = _check_dtype(dtype)
        if dtype == self.dtype:
            return self
        return RatingsMatrix(self.csr.astype(dtype), self.csc.astype(dtype), self.users,
                             self.items, self.columns)

    def with_labels(self, users: Vocabulary | None = None,
                    items: Vocabulary | None = None) -> RatingsMatrix:
        """The same matrix with row and column vocabularies; each one not given (or None
        so far) becomes the indices ``0..n-1``, so that rows and columns have labels."""
        m, n = self.shape
        users = users if users is not None else self.users
        items = items if items is not None else self.items
        users = users if users is not None else Vocabulary(np.arange(m, dtype=np.int64))
        items = items if items is not None else Vocabulary(np.arange(n, dtype=np.int64))
        return RatingsMatrix(self.csr, self.csc, users, items, self.columns)

    def __repr__(self):
        m, n = self.shape
        return f"RatingsMatrix({m} x {n}, {self.nnz} observed, {self.dtype})"

    # -- constructors
    @classmethod
    def from_coo(cls, rows: npt.ArrayLike, cols: npt.ArrayLike, values: npt.ArrayLike,
                 shape: tuple[int, int], dtype: FloatDType = np.float64,
                 users: Vocabulary | None = None, items: Vocabulary | None = None,
                 name: str = "X", columns: tuple[str | None, ...] | None = None,
                 context: str | None = None) -> RatingsMatrix:
        """From coordinate arrays; duplicates and bad values are errors.

        ``name`` is what messages call the data; ``context`` the method it was passed
        to (see :func:`as_ratings_matrix`).
        """
        dtype = _check_dtype(dtype)
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        values = np.asarray(values)
        m, n = (int(shape[0]), int(shape[1]))
        if not (rows.shape == cols.shape == values.shape) or rows.ndim != 1:
            raise ValueError("rows, cols and values must be 1-D arrays of one length; got "
                             f"{rows.shape}, {cols.shape}, {values.shape}.")
        if rows.size and (rows.min() < 0 or rows.max() >= m or cols.min() < 0 or cols.max() >= n):
            raise ValueError(f"{name}: coordinates out of bounds for shape {(m, n)}.")
        _check_values(values, rows, cols, name, context=context)
        # duplicate coordinates would be summed silently by scipy: refuse them
        if rows.size:
            key = rows * n + cols
            order = np.argsort(key, kind="stable")
            dup = np.flatnonzero(np.diff(key[order]) == 0)
            if dup.size:
                j = order[dup[0]]
                raise ValueError(
                    f"{name} has {dup.size} duplicate coordinates (first at row {rows[j]}, "
                    f"column {cols[j]}); each observed entry must be stored once."
                )
        with np.errstate(over="ignore"):   # overflow to inf is reported just below
            data = values.astype(dtype, copy=False)
        _check_magnitude(values, data, name)
        coo = sp.coo_matrix((data, (rows, cols)), shape=(m, n))
        return cls._from_canonical_coo(coo, users, items, columns)

    @classmethod
    def _from_canonical_coo(cls, coo, users=None, items=None, columns=None):
        # coo -> csr/csc keeps explicit zeros (only duplicates are summed, and there are none)
        csr = coo.tocsr()
        csr.sort_indices()
        csc = coo.tocsc()
        csc.sort_indices()
        if csr.nnz != coo.nnz or csc.nnz != coo.nnz:  # pragma: no cover - scipy contract
            raise RuntimeError("internal error: observed entries were lost converting to CSR/CSC")
        return cls(csr, csc, users, items, columns)

    @classmethod
    def from_sparse(cls, X: Sparse, dtype: FloatDType = np.float64, name: str = "X",
                    context: str | None = None) -> RatingsMatrix:
        """From a scipy sparse matrix/array: stored entries (zeros too) are observed."""
        fast = cls._from_canonical_csr(X, dtype, name)
        if fast is not None:
            return fast
        coo = sp.coo_matrix(X)
        return cls.from_coo(coo.row, coo.col, coo.data, coo.shape, dtype=dtype, name=name,
                            context=context)

    @classmethod
    def _from_canonical_csr(cls, X, dtype, name):
        """A CSR input with sorted, unique indices and valid values, taken as it is.

        Skips the coordinate round trip (and its duplicate check, which such a matrix
        cannot fail), whose int64 temporaries dominated the peak memory of large fits.
        Returns None when the slow path must decide (and word any error).
        """
        if not (sp.issparse(X) and X.format == "csr"):
            return None
        data = np.asarray(X.data)
        if data.dtype.kind not in "iuf" or data.dtype.kind == "b":
            return None
        indptr, indices = X.indptr, X.indices
        if X.nnz:
            # strictly increasing column indices within every row: sorted and no duplicates
            step = np.diff(indices.astype(np.int64))
            starts = indptr[1:-1] - 1            # positions where a new row begins
            starts = starts[(starts >= 0) & (starts < step.size)]
            step[starts] = 1
            if np.any(step <= 0) or indices.min() < 0 or indices.max() >= X.shape[1]:
                return None
            if not np.all(np.isfinite(data)) or data.min() < 0:
                return None
        dtype = _check_dtype(dtype)
        with np.errstate(over="ignore"):   # overflow to inf is reported just below
            values = data.astype(dtype, copy=True)
        _check_magnitude(data, values, name)
        csr = sp.csr_matrix((values, indices.copy(), indptr.copy()), shape=X.shape)
        csc = csr.tocsc()   # keeps explicit zeros; scipy's csr -> csc yields sorted indices
        csc.sort_indices()
        return cls(csr, csc)

    @classmethod
    def from_dense(cls, X: npt.ArrayLike, dtype: FloatDType = np.float64, name: str = "X",
                   context: str | None = None) -> RatingsMatrix:
        """From a dense 2-D array: ``np.nan`` marks missing, every other value is observed."""
        X = np.asarray(X)
        if X.dtype.kind == "b" or X.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold numbers; got dtype {X.dtype}.")
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (rows x columns); got {X.ndim}-D, shape {X.shape}.")
        X = X.astype(np.float64, copy=False)
        rows, cols = np.nonzero(~np.isnan(X))
        return cls.from_coo(rows, cols, X[rows, cols], X.shape, dtype=dtype, name=name,
                            context=context)

    @classmethod
    def from_frame(cls, df: Frame, user_col: str | None = None, item_col: str | None = None,
                   rating_col: str | None = None, duplicates: Duplicates = "raise",
                   dtype: FloatDType = np.float64, users: Vocabulary | None = None,
                   items: Vocabulary | None = None) -> RatingsMatrix:
        """From a ratings table, one ``(user, item, rating)`` per row.

        Parameters
        ----------
        df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        user_col, item_col, rating_col : str, optional
            Column names. When omitted, the usual names are recognised (see
            :func:`resolve_columns`); a frame with two candidates for one role is
            ambiguous and refused. The names used are kept in ``columns``.
        duplicates : {"raise", "last", "first", "mean"}
            What to do with a (user, item) pair rated more than once.
        dtype : {numpy.float64, numpy.float32}, default=numpy.float64
            Storage type of the ratings.
        users, items : Vocabulary, optional
            Fixed vocabularies (e.g. the training ones); labels not in them are an error.
            By default each is built from the frame, labels sorted.

        Raises
        ------
        KeyError
            A named column is missing, or no column is recognised for a role; a label
            is not in a given vocabulary.
        ValueError
            Ambiguous or repeated columns, an empty frame, missing ids, NaN, infinite or
            negative ratings, duplicate pairs with ``duplicates="raise"``.
        TypeError
            Not a table (pandas, polars, pyarrow), non-numeric ratings, ids that are
            neither integers nor strings.
        """
        df = as_frame(df, "ratings")
        if duplicates not in DUPLICATE_POLICIES:
            raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}; got {duplicates!r}.")
        ucol, icol, rcol = resolve_columns(df, user_col, item_col, rating_col)
        if len(df) == 0:
            raise ValueError("the ratings frame is empty: there is nothing to fit.")
        ratings = check_rating_column(df, rcol)
        u_raw = _label_array(df[ucol], ucol)
        i_raw = _label_array(df[icol], icol)

        # duplicates: found on raw labels so the message can name them
        key = pd.MultiIndex.from_arrays([u_raw, i_raw]) if len(df) else None
        dup_mask = key.duplicated(keep=False)
        if dup_mask.any():
            n_dup = int(key.duplicated(keep="first").sum())
            if duplicates == "raise":
                pos = int(np.flatnonzero(dup_mask)[0])
                again = int(np.flatnonzero(dup_mask & (key == key[pos]))[1])
                raise ValueError(
                    f"{n_dup} duplicate ({ucol}, {icol}) pairs; e.g. {locate_row(df, pos)}: "
                    f"{ucol}={_show(u_raw[pos])}, {icol}={_show(i_raw[pos])}, again at "
                    f"{locate_row(df, again)}. Pass duplicates='last', 'first' or 'mean' to "
                    "combine them."
                )
            tmp = pd.DataFrame({"u": u_raw, "i": i_raw, "r": ratings})
            if duplicates == "mean":
                tmp = tmp.groupby(["u", "i"], sort=False, as_index=False)["r"].mean()
            else:
                tmp = tmp.drop_duplicates(["u", "i"], keep=duplicates)
            u_raw, i_raw, ratings = tmp["u"].to_numpy(), tmp["i"].to_numpy(), tmp["r"].to_numpy()

        users = users if users is not None else Vocabulary(_sorted_unique(u_raw))
        items = items if items is not None else Vocabulary(_sorted_unique(i_raw))
        rows = users.index(u_raw, kind="user")
        cols = items.index(i_raw, kind="item")
        return cls.from_coo(rows, cols, ratings, (len(users), len(items)), dtype=dtype,
                            users=users, items=items, name=f"column {rcol!r}",
                            columns=(ucol, icol, rcol))


def _segment_sums(M) -> np.ndarray:
    """Sums of the stored values of each row of a CSR (column of a CSC) matrix."""
    n = M.indptr.size - 1
    owner = np.repeat(np.arange(n), np.diff(M.indptr))
    return np.bincount(owner, weights=M.data.astype(np.float64), minlength=n)


def _sorted_unique(labels):
    uniq = pd.unique(labels)
    try:
        return np.sort(uniq)
    except TypeError:  # pragma: no cover - kinds were checked before
        return uniq


def as_labels(labels: LabelOrLabels) -> np.ndarray:
    """Raw labels as a 1-D NumPy array, whatever container they come in.

    Accepts a scalar, a sequence, a NumPy array, a pandas Series or Index. Categorical
    columns give their categories' values; pandas string columns and mixed sequences
    give an object array (so that ``[10, "zz"]`` keeps the integer 10). Nothing is
    validated here: unknown or missing labels are the caller's business.
    """
    if isinstance(labels, pd.Index):
        labels = labels.to_series()
    if isinstance(labels, pd.Series):
        col = labels
        if isinstance(col.dtype, pd.CategoricalDtype):
            # casting NaN to (int) categories fails obscurely: objects keep it
            col = col.astype(object if col.isna().any() else col.cat.categories.dtype)
        if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
            return col.to_numpy(dtype=object)
        return col.to_numpy()
    if isinstance(labels, (str, bytes)) or np.ndim(labels) == 0:
        return np.array([labels], dtype=object if isinstance(labels, str) else None)
    if isinstance(labels, np.ndarray):
        return labels.ravel()
    seq = list(labels)
    arr = np.asarray(seq)
    if arr.dtype.kind in "US" and not all(isinstance(x, str) for x in seq):
        # np.asarray([10, "zz"]) gives ["10", "zz"]: the known int id 10 would be lost
        arr = np.array(seq, dtype=object)
    return arr.ravel()


def _label_array(col: pd.Series, name: str) -> np.ndarray:
    """The ids of a frame column, validated: integers or strings, none missing."""
    arr = as_labels(col)
    if arr.dtype.kind == "b" or pd.api.types.is_bool_dtype(col.dtype):
        raise TypeError(f"column {name!r} must hold integer or string ids; got booleans.")
    if col.isna().any():
        pos = int(np.flatnonzero(col.isna().to_numpy())[0])
        raise ValueError(f"column {name!r} has {int(col.isna().sum())} missing ids; "
                         f"e.g. {locate_row(col, pos)}.")
    if arr.dtype.kind == "f":
        frac = np.flatnonzero(arr != np.round(arr))
        if frac.size:
            raise TypeError(f"column {name!r} holds non-integral numbers (e.g. "
                            f"{_show(arr[frac[0]])} at {locate_row(col, frac[0])}); ids must "
                            "be integers or strings.")
        # beyond 2**53 a float no longer holds one exact integer (and inf none at all):
        # converting would silently merge or mangle ids
        big = np.flatnonzero(~(np.abs(arr) <= 2.0 ** 53))
        if big.size:
            raise ValueError(f"column {name!r} holds {big.size} float ids that are not exact "
                             f"integers (e.g. {_show(arr[big[0]])} at "
                             f"{locate_row(col, big[0])}); store ids as integers or strings.")
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "O" and arr.size:
        # a mixture: name the first id whose kind differs from the first one's
        is_str = np.fromiter((isinstance(x, str) for x in arr), bool, arr.size)
        odd = np.flatnonzero(is_str != is_str[0])
        if odd.size:
            raise TypeError(f"column {name!r} must hold all integer or all string ids; got a mix: "
                            f"{_show(arr[0])} at {locate_row(col, 0)} and {_show(arr[odd[0]])} "
                            f"at {locate_row(col, odd[0])}.")
    try:
        _check_label_kind(arr, f"column {name!r}")
    except (TypeError, ValueError) as e:
        raise type(e)(str(e)) from None
    if arr.dtype.kind == "O" and len(arr) and isinstance(arr[0], numbers.Integral):
        arr = arr.astype(np.int64)
    return arr


def resolve_columns(df: pd.DataFrame, user_col: str | None = None, item_col: str | None = None,
                    rating_col: str | None = None, *,
                    roles: Sequence[Literal["user", "item", "rating"]] = ("user", "item",
                                                                          "rating"),
                    prefer: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Names of the columns of ``df`` that play the user, item and rating roles.

    The one resolver of column roles: ``Recommender.fit``, ``predict`` on a frame,
    fold-in and ``update`` all find their columns here.

    Parameters
    ----------
    df : pandas.DataFrame
        A ratings frame.
    user_col, item_col, rating_col : str, optional
        Names chosen by the caller; they must exist. A role without a name is
        recognised among its usual names, in order of preference: ``USER_COLUMNS``
        (``user``, ``userId``, ``user_id``, ...), ``ITEM_COLUMNS`` (``item``,
        ``movieId``, ``item_id``, ...) and ``RATING_COLUMNS`` (``rating``, ...).
    roles : sequence of {"user", "item", "rating"}, default all three
        The roles to resolve, in the order of the result.
    prefer : dict, optional
        Role -> column name used for that role when no name is given and ``df`` has
        that column (e.g. the columns a model was fitted with), before the usual names
        are tried.

    Returns
    -------
    tuple of str
        One column name per role of ``roles``.

    Raises
    ------
    KeyError
        A given column does not exist, or no column is recognised for a role.
    ValueError
        Two recognised columns for one role (ambiguous; pass its ``*_col``), one
        column for two roles, or a name that selects several columns.
    """
    given = {"user": user_col, "item": item_col, "rating": rating_col}
    prefer = prefer or {}
    names = []
    for role in roles:
        name = given[role]
        if name is None and prefer.get(role) is not None and prefer[role] in df.columns:
            name = prefer[role]
        names.append(resolve_column(df, name, ROLE_COLUMNS[role], role))
    if len(set(names)) < len(names):
        listed = ", ".join(roles[:-1]) + f" and {roles[-1]}"
        raise ValueError(f"{listed} columns must differ; got {', '.join(map(repr, names))}.")
    return tuple(names)


def feedback_columns(df: pd.DataFrame, user_col: str | None = None,
                     item_col: str | None = None, rating_col: str | None = None, *,
                     feedback: Feedback | None = None, prefer: Mapping[str, str] | None = None,
                     time_col: str | None = None
                     ) -> tuple[str, str, str | None, Literal["ratings", "counts", "clicks"]]:
    """What a table holds and in which columns: ratings, interaction counts or clicks.

    The one rule that decides when a table is click data. With ``feedback`` left None:

    * a rating column (``rating_col``, or one of ``RATING_COLUMNS``): **ratings**;
    * else a count column (one of ``COUNT_COLUMNS``: ``plays``, ``count``, ``clicks``,
      ...): **counts**, a confidence for each interaction rather than a target;
    * else a table of the user and item columns only (a time column such as
      ``timestamp`` may come along): **clicks**, every row one interaction;
    * else, other columns but none recognised, ``MissingColumnError``: a ``stars``
      column must not silently turn ratings into clicks.

    ``feedback="explicit"`` requires a rating column. ``feedback="implicit"`` takes
    ``rating_col``, else a count column, else a rating column as the values (counts),
    else none (clicks).

    Parameters
    ----------
    df : pandas.DataFrame
    user_col, item_col, rating_col : str, optional
        As in :func:`resolve_columns` (``rating_col`` names the value column, whatever
        its kind).
    feedback : {"explicit", "implicit"} or None, default=None
        What the caller says the values are; None decides from the columns.
    prefer : dict, optional
        As in :func:`resolve_columns`.
    time_col : str, optional
        A time column of the caller's naming (``timestamp_col="when"``), allowed in a
        click table like those of ``TIME_COLUMNS``.

    Returns
    -------
    (user column, item column, value column or None, kind)
        ``kind`` is one of ``FEEDBACK_KINDS``.

    Raises
    ------
    MissingColumnError
        No user or item column, or (ratings needed, or other columns present) no value
        column.
    ValueError
        Ambiguous columns (see :func:`resolve_columns`).
    """
    ucol, icol = resolve_columns(df, user_col, item_col, roles=("user", "item"),
                                 prefer=prefer)
    if rating_col is not None or feedback == "explicit":
        rcol = resolve_columns(df, rating_col=rating_col, roles=("rating",), prefer=prefer)[0]
        return ucol, icol, rcol, ("ratings" if feedback != "implicit" else "counts")
    rated = [c for c in RATING_COLUMNS if c in df.columns]
    if (prefer or {}).get("rating") in df.columns:
        rated = [prefer["rating"]]
    counted = [c for c in COUNT_COLUMNS if c in df.columns and c not in (ucol, icol)]
    if feedback is None and rated:
        rcol = resolve_columns(df, rating_col=rated[0] if len(rated) == 1 else None,
                               roles=("rating",))[0]
        return ucol, icol, rcol, "ratings"
    if counted or (feedback == "implicit" and rated):
        found = counted or rated
        if len(found) > 1:
            raise ValueError(f"ambiguous count column: the frame has {found}; pass "
                             "rating_col= to choose one.")
        return ucol, icol, _unique_column(df, found[0], "count"), "counts"
    others = [c for c in df.columns
              if c not in (ucol, icol) and c not in TIME_COLUMNS and c != time_col]
    if not others:
        return ucol, icol, None, "clicks"
    hint = column_hint(df, RATING_COLUMNS, "rating", exclude=(ucol, icol))
    raise MissingColumnError(
        f"no rating column found: expected one of {list(RATING_COLUMNS)} or rating_col=...; "
        f"the frame has columns {list(df.columns)}.{hint} A table of only the user and item "
        f"columns ({ucol!r} and {icol!r} here) is click data; a count column "
        f"({', '.join(COUNT_COLUMNS[:4])}, ...) gives each interaction a confidence.")


def resolve_column(df: pd.DataFrame, given: str | None, candidates: Sequence[str],
                   role: str) -> str:
    """Name of the column playing ``role`` ("user", "item", "rating").

    Parameters
    ----------
    df : pandas.DataFrame
    given : str or None
        The caller's name for the column (must exist), or None to recognise it.
    candidates : sequence of str
        Names recognised when ``given`` is None, in order of preference (e.g.
        ``USER_COLUMNS``); exactly one of them may be present.
    role : str
        The role, for messages and the ``{role}_col=`` hint.

    Returns
    -------
    str
    """
    if given is not None:
        if given not in df.columns:
            raise MissingColumnError(f"{role} column {given!r} not found; the frame has columns "
                           f"{list(df.columns)}.")
        return _unique_column(df, given, role)
    found = [c for c in candidates if c in df.columns]
    if len(found) > 1:
        raise ValueError(f"ambiguous {role} column: the frame has {found}; pass "
                         f"{role}_col= to choose one.")
    if not found:
        raise MissingColumnError(f"no {role} column found: expected one of {list(candidates)} or "
                       f"{role}_col=...; the frame has columns {list(df.columns)}."
                       f"{column_hint(df, candidates, role)}")
    return _unique_column(df, found[0], role)


def _plain_name(name) -> str:
    """A column name as compared for a hint: lower case, without separators or an
    ``id`` suffix (``Customer_ID`` -> ``customer``)."""
    plain = re.sub(r"[\s_\-.]+", "", str(name).lower())
    return plain[:-2] if plain.endswith("id") and len(plain) > 2 else plain


def column_hint(df: pd.DataFrame, candidates: Sequence[str], role: str,
                exclude: Sequence[str] = ()) -> str:
    """A sentence suggesting the column of ``df`` that may play ``role``, or ``""``.

    A column is suggested when its name, compared in lower case without separators or
    an ``id`` suffix, is one of the ``candidates``, another word for the role
    (``customer`` for a user, ``product`` or ``sku`` for an item, ``stars`` for a
    rating), or a near miss of a candidate (``usr``, ``ratng``); or, when the frame's
    index has a candidate's name, the ids are in the index. The suggestion is only ever
    a hint: the caller must name the column.

    Parameters
    ----------
    df : pandas.DataFrame
    candidates : sequence of str
        The names recognised for the role.
    role : str
        "user", "item" or "rating".
    exclude : sequence of str, default=()
        Columns already playing another role.

    Returns
    -------
    str
        ``" Is 'customer' the user column? Pass user_col='customer'."`` or ``""``.
    """
    import difflib

    plain = {_plain_name(c) for c in candidates} | {role}
    words = set(_ROLE_WORDS.get(role, ()))
    in_index = [n for n in df.index.names if n in candidates]
    if in_index:                # e.g. after a groupby: the ids are the index
        return (f" The {role} ids are the frame's index ({in_index[0]!r}), not a column: "
                "pass df.reset_index().")
    columns = [c for c in df.columns if isinstance(c, str) and c not in exclude]
    for test in (lambda n: n in plain, lambda n: n in words,
                 lambda n: bool(difflib.get_close_matches(n, plain, n=1, cutoff=0.75))):
        hits = [c for c in columns if test(_plain_name(c))]
        if len(hits) == 1:
            return f" Is {hits[0]!r} the {role} column? Pass {role}_col={hits[0]!r}."
        if hits:
            return (f" Is one of {hits} the {role} column? Pass {role}_col= with its "
                    "name.")
    return ""


def _unique_column(df: pd.DataFrame, name, role: str):
    # a label held by several columns (or a MultiIndex level) makes df[name] a DataFrame
    selected = df[name]
    if isinstance(selected, pd.DataFrame):
        raise ValueError(f"{role} column {name!r} selects {selected.shape[1]} column(s) "
                         "as a DataFrame, not one column; column names must be unique "
                         "(and single-level).")
    return name


def check_rating_column(df: pd.DataFrame, rcol: str, *, negative=False) -> np.ndarray:
    """The rating column of ``df`` as float64, after checking it holds numbers: finite
    and (unless ``negative``) non-negative.

    A column of Python numbers (dtype object) is taken as numbers. Every error names
    the first value at fault and where it is (:func:`~nmfrec._validation.locate_row`:
    the row, and the file's line for a frame read by :mod:`nmfrec.io`).

    Parameters
    ----------
    df : pandas.DataFrame
        The frame.
    rcol : str
        Its rating column.
    negative : bool, default=False
        Accept negative ratings (a model other than NMF may take them).

    Returns
    -------
    ndarray of float64

    Raises
    ------
    TypeError
        Values that are not numbers (text, booleans, dates, complex numbers).
    ValueError
        NaN, infinite or (unless ``negative``) negative ratings.
    """
    col = df[rcol]
    if pd.api.types.is_bool_dtype(col.dtype):
        raise TypeError(f"column {rcol!r} must hold numeric ratings; got booleans "
                        f"(e.g. {_show(col.iloc[0])} at {locate_row(df, 0)}).")
    if pd.api.types.is_object_dtype(col.dtype) or pd.api.types.is_string_dtype(col.dtype):
        col = _numbers_of(df, rcol)
    elif not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_complex_dtype(col.dtype):
        # complex is "numeric" to pandas, but the float conversion drops the imaginary part
        raise TypeError(f"column {rcol!r} must hold numeric ratings; got dtype {col.dtype} "
                        f"(e.g. {_show(col.iloc[0])} at {locate_row(df, 0)}).")
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    _check_values(values, None, None, f"column {rcol!r}", frame=df, negative=negative)
    return values


def _numbers_of(df, rcol) -> pd.Series:
    """An object (or string) rating column as float64, when every value is a real number
    or missing; else a TypeError naming the first value that is not, and where it is."""
    col = df[rcol]
    values = col.to_numpy(dtype=object)
    is_number = np.fromiter(
        (isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) for x in values),
        bool, values.size)
    bad = np.flatnonzero(~is_number & ~pd.isna(values))
    if not bad.size:
        return pd.Series(values.astype(np.float64), index=col.index)
    text = np.fromiter((isinstance(x, str) for x in values[bad]), bool, bad.size)
    numeric_text = np.zeros(bad.size, dtype=bool)
    numeric_text[text] = pd.to_numeric(pd.Series(values[bad][text], dtype=object),
                                       errors="coerce").notna().to_numpy()
    if numeric_text.all():
        # e.g. a frame built with str(rating): numbers, but as text
        raise TypeError(f"column {rcol!r} holds ratings as text ({_show(values[bad[0]])} at "
                        f"{locate_row(df, bad[0])}); ratings must be numbers: convert them, "
                        f"e.g. df[{rcol!r}] = pd.to_numeric(df[{rcol!r}]).")
    # the first value that is no number, not even as text: in a column read from a file
    # with one "five", every value is text, and the first one may be a valid "4"
    wrong = bad[~numeric_text]
    count = wrong.size
    raise TypeError(f"column {rcol!r} must hold numeric ratings; {_show(values[wrong[0]])} at "
                    f"{locate_row(df, wrong[0])} is not a number ({count} such "
                    f"row{'s' if count != 1 else ''} in all).")


def _check_values(values, rows, cols, name, frame=None, context=None, negative=False):
    """Finite and non-negative, else a message with the count and the first offender.

    The offender is at a row of ``frame`` (see :func:`~nmfrec._validation.locate_row`)
    when given, else at ``rows``/``cols``. ``context`` (e.g. ``"MaskedNMF.fit"``) starts
    the negative-values message with scikit-learn's words, ``"Negative values in data
    passed to {context}: "``; ``negative`` accepts negative values.
    """
    if values.dtype.kind == "b" or values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers; got dtype {values.dtype}.")
    values = values.astype(np.float64, copy=False)

    def where(pos):
        if frame is not None:
            return locate_row(frame, pos)
        return f"row {rows[pos]}, column {cols[pos]}"

    checks = [("NaN", np.isnan(values)), ("infinite", np.isinf(values))]
    if not negative:
        checks.append(("negative", values < 0))
    for kind, mask in checks:
        bad = np.flatnonzero(mask)
        if bad.size:
            raise bad_values_error(kind, name, bad.size, where(bad[0]), values[bad[0]],
                                   context)


def bad_values_error(kind, name, count, where, value=None, context=None) -> ValueError:
    """The error for ``count`` ratings of ``name`` that are ``kind`` ("NaN", "infinite"
    or "negative"), the first at ``where`` (with its ``value``, for negatives); the words
    of every entry point, in memory or on Spark."""
    if kind == "NaN":
        return ValueError(f"{name} contains {count} NaN values (first at {where}); ratings "
                          "must be finite. Leave missing entries out instead.")
    if kind == "infinite":
        return ValueError(f"{name} contains {count} infinite values (first at {where}); "
                          "ratings must be finite.")
    return ValueError(
        (f"Negative values in data passed to {context}: " if context else "")
        + f"{name} contains {count} negative values (first at {where}: {_show(value)}); NMF "
        "needs non-negative ratings. Shift them first, e.g. ratings - ratings.min().")


def _check_magnitude(values, data, name):
    """Ratings the solvers can square: finite in the storage dtype, and a finite objective.

    A float64 value above float32's range becomes inf when stored as float32, and above
    ~1e154 its square (the objective, the ALS Gram terms) overflows float64: both would
    end as inf/NaN factors, so they are refused here with the way out.
    """
    if not values.size:
        return
    vmax = float(np.max(values))
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name}: ratings up to {vmax:g} overflow {data.dtype} (largest "
                         f"{float(np.finfo(data.dtype).max):g}); rescale them or use "
                         "dtype='float64'.")
    with np.errstate(over="ignore"):
        total = 0.5 * float(np.sum(np.square(values.astype(np.float64))))
    if not np.isfinite(total):
        raise ValueError(f"{name}: ratings up to {vmax:g} overflow the squared-error "
                         f"objective in float64; rescale them first (e.g. divide by {vmax:g}).")


def _means(M, default, damping=0.0):
    """Mean stored value of each row of a CSR (or column of a CSC), damped toward
    ``default`` by ``damping`` pseudo-counts; ``default`` where a row is empty."""
    counts = np.diff(M.indptr)
    rows = np.repeat(np.arange(counts.size), counts)
    sums = np.bincount(rows, weights=M.data.astype(np.float64), minlength=counts.size)
    out = np.full(counts.size, float(default))
    has = counts > 0
    out[has] = (sums[has] + damping * float(default)) / (counts[has] + damping)
    return out


def alternate_split(csr: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split each row's observed entries in two, alternately: the 1st, 3rd, 5th, ... in
    column order go to ``first``, the 2nd, 4th, ... to ``second``.

    A deterministic hold-out of new rows: fold a row in on ``first`` and predict
    ``second``, the entries of the row the model did not see (a row with one entry has
    none to predict).

    Parameters
    ----------
    csr : scipy.sparse.csr_matrix
        With sorted column indices (a RatingsMatrix's ``csr`` has them).

    Returns
    -------
    first, second : scipy.sparse.csr_matrix
        Same shape as ``csr``; together they hold every stored entry once.
    """
    counts = np.diff(csr.indptr)
    position = np.arange(csr.nnz) - np.repeat(csr.indptr[:-1], counts)
    rows = np.repeat(np.arange(csr.shape[0]), counts)
    parts = []
    for keep in (position % 2 == 0, position % 2 == 1):
        parts.append(sp.csr_matrix((csr.data[keep], (rows[keep], csr.indices[keep])),
                                   shape=csr.shape))
    return tuple(parts)


def as_ratings_matrix(X: MatrixLike, dtype: FloatDType = np.float64, name: str = "X",
                      context: str | None = None) -> RatingsMatrix:

    """Validate ``X`` into a :class:`RatingsMatrix`.

    Parameters
    ----------
    X : RatingsMatrix, scipy sparse matrix/array or array-like
        A RatingsMatrix is taken as it is (converted to ``dtype`` if needed). Of a
        sparse matrix the stored entries are observed, explicit zeros included; of a
        dense array every entry but ``np.nan``.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Storage type.
    name : str, default="X"
        What messages call the data.
    context : str, optional
        The method the data was passed to (``"MaskedNMF.fit"``); a negative value is
        then reported as scikit-learn does, ``"Negative values in data passed to
        MaskedNMF.fit: ..."``, followed by the count and the first one.

    Raises
    ------
    ValueError
        NaN (in sparse input), infinite, negative or too large values, duplicate
        coordinates, or a dense array that is not 2-D.
    TypeError
        A DataFrame (use :meth:`RatingsMatrix.from_frame`), or values that are not numbers.
    """
    if isinstance(X, RatingsMatrix):
        return X.astype(dtype)
    if sp.issparse(X):
        return RatingsMatrix.from_sparse(X, dtype=dtype, name=name, context=context)
    if isinstance(X, pd.DataFrame):
        raise TypeError(f"{name} is a DataFrame; MaskedNMF takes matrices. Use "
                        "nmfrec.Recommender for ratings tables, or RatingsMatrix.from_frame.")
    return RatingsMatrix.from_dense(X, dtype=dtype, name=name, context=context)

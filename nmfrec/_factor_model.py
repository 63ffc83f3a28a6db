"""What every factorization estimator on matrices shares: the fitted factors and their use.

:class:`FactorModel` is the common base of :class:`~nmfrec.MaskedNMF` (one penalized
factorization) and :class:`~nmfrec.BayesianNMF` (the average of posterior draws). A
fitted model has row factors ``W_`` (n_rows, n_factors_) and column factors
``components_`` (n_factors_, n_cols), and its value at (u, i) is ``W_[u] . components_[:,
i]``. Given that, and a subclass's fold-in of new rows (``_solve_rows``), the rest is the
same for both and written here once: scikit-learn's transformer surface (``transform``,
``inverse_transform``, tags, feature names), the model's values at entries of the training
matrix (``predict_entries``) and for every entry of new rows (``complete``), re-solving
rows, the hold-out ``score``, and input checking.

Like scikit-learn's ``NMF``, these transformers have no ``predict``: scikit-learn takes a
``predict(X)`` to return one value per row of ``X``, and the model's values are a matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array

from . import _kernels as K
from ._base import ParamsBase, ThreadLimits
from .exceptions import NotFittedError
from .ratings import RatingsMatrix, alternate_split, as_ratings_matrix

if TYPE_CHECKING:
    from typing_extensions import Self

    import numpy.typing as npt

    from ._typing import FloatArray, MatrixLike, Sparse

__all__ = ["FactorModel"]


class _Removed:
    """A method that was removed: reading it raises an AttributeError saying what replaced
    it. ``hasattr`` is False on the class and on its instances, as for a name never
    defined, so scikit-learn's checks and wrappers see no such method."""

    def __init__(self, instead):
        self.instead = instead

    def __set_name__(self, owner, name):
        self.name = name
        self.__doc__ = f"Removed: {self.instead.format(cls='model')}"   # for help()

    def __get__(self, obj, owner=None):
        cls = (owner or type(obj)).__name__
        raise AttributeError(f"{cls} has no {self.name}: {self.instead.format(cls=cls)}",
                             name=self.name, obj=obj)

    def __repr__(self):
        return f"<{self.__doc__}>"


class FactorModel(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ParamsBase):
    """Base of the estimators on matrices: their fitted factors and everything made of them.

    Subclasses set ``W_``, ``components_``, ``n_factors_``, ``n_features_in_`` and
    ``factor_names_`` when fitted, store their parameters ``dtype`` and ``n_threads``, and
    implement ``_solve_rows(csr)``: the row factors of new rows (fold-in).
    """

    # W, H, rows and cols are arguments of the call, not per-sample metadata to route: no
    # set_fit_request / set_predict_request, as scikit-learn's NMF (see ParamsBase)
    _takes_no_metadata = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True        # NaN marks a missing entry
        tags.input_tags.positive_only = True
        try:
            # the factors' type is the dtype parameter, whatever the input's
            tags.transformer_tags.preserves_dtype = [np.dtype(self.dtype).name]
        except TypeError:
            pass
        return tags

    def transform(self, X: MatrixLike) -> FloatArray:
        """Row factors of new rows against the fitted column factors (fold-in).

        How each row is solved is the estimator's (see its class docstring); rows without
        observations get the factors of an empty row.

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (n_new_rows, n_features_in_)

        Returns
        -------
        W : ndarray of shape (n_new_rows, n_factors_)
        """
        self._check_fitted("transform")
        return self._solve_rows(self._as_matrix(X, "transform").csr)

    def inverse_transform(self, X: npt.ArrayLike | Sparse) -> FloatArray:
        """The matrix that row factors stand for: ``X @ components_``, dense.

        Parameters
        ----------
        X : array-like or sparse of shape (n_rows, n_factors_)
            Row factors, e.g. from :meth:`transform` or ``fit_transform``.

        Returns
        -------
        ndarray of shape (n_rows, n_features_in_)
            The model's value of every entry of those rows, offsets included.
        """
        self._check_fitted("inverse_transform")
        X = check_array(X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32))
        if X.shape[1] != self.n_factors_:
            raise ValueError(f"X has {X.shape[1]} columns, but {type(self).__name__} has "
                             f"{self.n_factors_} factors ({self.factor_names_[0]} .. "
                             f"{self.factor_names_[-1]}).")
        return np.asarray(X @ self.components_)

    def predict_entries(self, rows: npt.ArrayLike, cols: npt.ArrayLike) -> FloatArray:
        """The model's values at entries of the training matrix: fills in missing ratings.

        ``predict_entries(rows, cols)[j]`` is ``W_[rows[j]] . components_[:, cols[j]]``
        (offsets included), for row and column indices of the matrix the model was fitted
        on.

        Parameters
        ----------
        rows : array-like of int
            Row indices in the training matrix.
        cols : array-like of int, same shape as ``rows``
            Column indices in the training matrix.

        Returns
        -------
        ndarray of float64, the shape of ``rows``

        Raises
        ------
        ValueError
            ``rows`` and ``cols`` differ in shape.
        IndexError, TypeError
            An index out of range, or indices that are not integers.

        See Also
        --------
        complete : every entry of new rows.
        """
        self._check_fitted("predict_entries")
        r = np.asarray(rows)
        c = np.asarray(cols)
        if r.shape != c.shape:
            raise ValueError(f"rows and cols must have the same shape; got {r.shape} and {c.shape}.")
        Ht = self._item_factors()
        for name, arr, n in (("rows", r, self.W_.shape[0]), ("cols", c, Ht.shape[0])):
            if arr.size and arr.dtype.kind not in "iu":
                raise TypeError(f"{name} must be integer indices; got dtype {arr.dtype}.")
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                bad = arr[(arr < 0) | (arr >= n)].ravel()[0]
                raise IndexError(f"{name} index {bad} is out of range for {n} {name}.")
        out = np.empty(r.size, dtype=np.float64)
        with ThreadLimits(self.n_threads, cap_blas=False):
            K.for_size(K.dot_pairs, r.size)(r.ravel().astype(np.int64),
                                            c.ravel().astype(np.int64), self.W_, Ht, out)
        return out.reshape(r.shape)

    def complete(self, X: MatrixLike) -> FloatArray:
        """Every entry of new rows, observed or missing, as the model gives it.

        The rows are folded in (:meth:`transform`) and multiplied back:
        ``inverse_transform(transform(X))``.

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (n_new_rows, n_features_in_)
            The new rows' observed entries.

        Returns
        -------
        ndarray of shape (n_new_rows, n_features_in_)

        See Also
        --------
        predict_entries : entries of the training matrix.
        """
        self._check_fitted("complete")
        return self.transform(X) @ self.components_

    predict = _Removed("it is a transformer, as scikit-learn's NMF is. Use "
                       "{cls}.predict_entries(rows, cols) for entries of the training matrix, "
                       "or {cls}.complete(X) for every entry of new rows.")

    def score(self, X: MatrixLike, y: object = None) -> float:
        """How well the model completes new rows: minus the mean squared error on entries
        it did not see (greater is better, as scikit-learn's model selection expects).

        Each row of ``X`` is split alternately (:func:`~nmfrec.ratings.alternate_split`):
        it is folded in (:meth:`transform`) on its 1st, 3rd, 5th, ... observed entries and
        its 2nd, 4th, ... entries are predicted. The score is minus the mean of their
        squared errors, so that ``GridSearchCV`` and ``cross_val_score`` over the rows of a
        matrix choose the model that predicts missing entries best (a score on the entries
        the fold-in saw would always prefer the largest rank).

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (n_rows, n_features_in_)
            Rows to score, e.g. held-out rows of the training matrix; rows with one
            observed entry have nothing to predict and do not count.
        y : ignored
            Not used, present for scikit-learn's API.

        Returns
        -------
        float
            ``-mean((x - prediction)**2)`` over the predicted entries, <= 0.

        Raises
        ------
        ValueError
            No row of ``X`` has two observed entries.
        """
        self._check_fitted("score")
        first, second = alternate_split(self._as_matrix(X, "score").csr)
        if second.nnz == 0:
            raise ValueError("X has no row with two observed entries: there is nothing to "
                             "predict after folding a row in.")
        W = self._solve_rows(first)
        rows = np.repeat(np.arange(second.shape[0]), np.diff(second.indptr))
        pred = np.empty(second.nnz)
        K.for_size(K.dot_pairs, second.nnz)(rows.astype(np.int64),
                                            second.indices.astype(np.int64),
                                            np.ascontiguousarray(W), self._item_factors(), pred)
        return -float(np.mean((second.data - pred) ** 2))

    def refit_rows(self, X: MatrixLike, rows: npt.ArrayLike) -> Self:
        """Re-solve some rows of ``W_`` (existing or new) from their data, the column
        factors held fixed.

        Each row gets the factors :meth:`transform` gives it (a Bayesian model draws its
        noise weights with them); rows past the end of ``W_`` are appended (with the
        factors of an empty row where ``rows`` skips one). The
        column factors and the fit statistics stay as they are: only a refit moves them.

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (len(rows), n_features_in_)
            All the observed entries of each of those rows.
        rows : array-like of int
            Row indices in ``W_`` (>= 0, distinct), one per row of ``X``.

        Returns
        -------
        self
        """
        self._check_fitted("refit_rows")
        R = self._as_matrix(X, "refit_rows")
        rows = self._rows_to_refit(rows, R)
        n_old = self.W_.shape[0]
        n_rows = max(n_old, int(rows.max()) + 1 if rows.size else 0)
        empty = sp.csr_matrix((n_rows - n_old, R.shape[1]), dtype=R.csr.dtype)
        self._place_rows(empty, R.csr, rows)
        return self

    def _place_rows(self, empty, csr, rows):
        """Append the rows of ``empty`` (rows without data) to ``W_``, then set its
        ``rows`` to the solutions of ``csr``'s rows (see :meth:`refit_rows`)."""
        W = np.concatenate([self.W_, self._solve_rows(empty)])
        W[rows] = self._solve_rows(csr)
        self.W_ = W

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _rows_to_refit(rows, R):
        """``refit_rows``'s ``rows`` as int64, checked against the rows of ``R``."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if rows.size != R.shape[0]:
            raise ValueError(f"rows has {rows.size} indices but X has {R.shape[0]} rows.")
        if rows.size and (rows.min() < 0 or np.unique(rows).size != rows.size):
            raise ValueError("rows must be distinct indices >= 0.")
        return rows

    @property
    def _n_features_out(self):
        """Width of ``transform``'s output, for ``get_feature_names_out``."""
        return self.n_factors_

    def __sklearn_is_fitted__(self):
        return "components_" in self.__dict__ and "W_" in self.__dict__

    @property
    def _dtype(self):
        return np.dtype(self.dtype)

    def _item_factors(self):
        """The column factors row-major, (n_cols, n_factors_): ``components_.T``, which
        is C-contiguous unless ``components_`` was replaced by another array."""
        return np.ascontiguousarray(self.components_.T)

    def _check_fitted(self, what):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; "
                                 f"call fit before {what}.")

    def _as_matrix(self, X, method):
        """``X`` as a RatingsMatrix in the model's dtype, checked as scikit-learn checks.

        Array-likes go through scikit-learn's ``check_array`` first (2-D, not empty, not
        complex, object arrays made numeric) without its finiteness check: NaN marks a
        missing entry, and :func:`~nmfrec.ratings.as_ratings_matrix` words the other
        problems. After ``fit`` the number of columns must be ``n_features_in_``.
        """
        name = type(self).__name__
        if getattr(X, "distributed", False):
            # a Spark fit's ratings (nmfrec.spark.SparkRatings), checked when built
            if method != "fit":
                raise TypeError(f"{name}.{method} takes in-memory data; distributed ratings "
                                "are for fit.")
            return X
        if not isinstance(X, (RatingsMatrix, pd.DataFrame)):
            X = check_array(X, accept_sparse=True, dtype="numeric", ensure_all_finite=False,
                            input_name="X")
        R = as_ratings_matrix(X, dtype=self._dtype, context=f"{name}.{method}")
        if method != "fit" and R.shape[1] != self.n_features_in_:
            c, n = R.shape[1], self.n_features_in_
            raise ValueError(f"X has {c} columns, but {name} was fitted with {n} columns "
                             f"(X has {c} features, but {name} is expecting {n} features "
                             "as input).")
        return R

"""Recommender: the DataFrame-facing API on top of :class:`~nmfrec.MaskedNMF`.

This layer owns what the estimator deliberately does not know about: raw user and item
ids (a :class:`~nmfrec.Vocabulary` each way, never mixed with inner indices), the items
each user has already rated, the unknown-user policy, new users, explanations and the
on-disk format. All the math is :class:`~nmfrec.MaskedNMF`'s.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import tempfile

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._kernels._topk import topk_rows, topk_rows_serial
from ._validation import Options, check_params
from .exceptions import NotFittedError
from .nmf import MaskedNMF, _ParamsMixin, _Threads
from .ratings import (ITEM_COLUMNS, RATING_COLUMNS, USER_COLUMNS, RatingsMatrix, Vocabulary,
                      resolve_column)

__all__ = ["Recommender", "FORMAT_NAME", "FORMAT_VERSION"]

#: Name and version of the ``save`` format. Bump the version on any incompatible change;
#: ``load`` refuses files whose version is newer than the one it knows.
FORMAT_NAME = "nmfrec.Recommender"
FORMAT_VERSION = 1
_META_KEY = "__nmfrec_meta__"
_CHECKSUM_KEY = "__nmfrec_sha256__"

UNKNOWN_POLICIES = ("nan", "baseline")

#: Batches of fewer query rows than this run the serial top-k kernel (same results).
_SERIAL_TOPK_BELOW = 16

#: Values the None ("auto") parameters take, by feedback kind.
_AUTO = {
    "n_components": {"explicit": 30, "implicit": 80},
    "l2_W": {"explicit": 0.1, "implicit": 30.0},
    "l2_H": {"explicit": 0.15, "implicit": 30.0},
    "user_bias": {"explicit": True, "implicit": False},
    "item_bias": {"explicit": True, "implicit": False},
    "reg_scale": {"explicit": "count", "implicit": "none"},
    "preference": {"explicit": "binary", "implicit": "rating"},
    # alpha and missing_weight depend on the preference too: see resolved_params
    "alpha": {"explicit": 1.0, "implicit": 1.0},
    "missing_weight": {"explicit": 1.0, "implicit": 1.0},
}


class Recommender(_ParamsMixin):
    r"""Recommendations from a ratings table by non-negative matrix factorization.

    ``fit`` learns non-negative user factors ``W`` (n_users x k) and item factors
    ``H`` (k x n_items) from the observed ratings only (see :class:`~nmfrec.MaskedNMF`
    for the objective and solvers). The model's score of item ``i`` for user ``u`` is

    .. math::

        \hat x_{ui} = w_u \cdot h_i = \sum_{j=1}^{k} W_{uj} H_{ji} \;\ge 0,

    a sum of non-negative parts, one per component (biases, when the model gets them,
    will be further named parts of the same sum): :meth:`explain` returns them.

    Policies
    --------
    * **Ids.** Users and items are raw labels (ints or strings) as in the training frame;
      with a scipy sparse matrix they are its row and column indices. Inner indices are
      never exposed.
    * **Rating predictions** (:meth:`predict`) are clipped to the training rating range
      ``rating_range_`` by default (``clip=False`` gives the raw score).
    * **Missing titles** are None in ``item_titles_`` and NA in the ``title`` column.
    * **Unknown users or items** in :meth:`predict` give NaN by default. With
      ``unknown="baseline"`` they get a baseline instead: the item's mean training rating
      for an unknown user, the user's mean rating for an unknown item, the global mean
      when both are unknown (plain means, no damping). :meth:`recommend`,
      :meth:`explain` and :meth:`similar_items` raise ``KeyError`` naming the id.
    * **Rankings** (:meth:`recommend`, :meth:`recommend_many`, :meth:`similar_items`,
      :meth:`top_items`) are ordered by score, highest first, ties broken by the lower
      inner item index (the order of sorted item labels after a DataFrame fit), so
      they are deterministic. Scores are the unclipped model scores (clipping would
      only create ties). Already rated items are excluded by default; an explicitly
      observed rating of 0 counts as rated.
    * **New users** are folded in: their factors solve the same regularized NNLS row
      problem that ALS solves for a training user, against the fixed item factors
      (:meth:`fold_in`, :meth:`recommend_new`, :meth:`update`).

    Parameters
    ----------
    n_components : int or None, default=None
        Rank k. None: 30 for explicit feedback, 80 for implicit.
    solver : {"als", "mu", "pgd"}, default="als"
        See :class:`~nmfrec.MaskedNMF`. ALS converges in few iterations and is the
        solver whose row problem the fold-in of new users solves exactly.
    init : str or None, default=None
        See :class:`~nmfrec.MaskedNMF` (None: NNDSVDa when k < min(n_users, n_items)).
    max_iter : int, default=50
        ALS typically reaches ``tol`` well before 50 iterations on MovieLens.
    tol : float, default=1e-4
    l1_W, l1_H : float, default=0.0
    l2_W, l2_H : float or None, default=None
        L2 penalties. None, explicit feedback: ``0.1`` on users and ``0.15`` on items
        *per rating* (``reg_scale="count"``, ALS-WR), so the strength grows with each
        row's evidence and carries over between data sets of different sizes. None,
        implicit feedback: ``30`` on both, unscaled (the implicit objective spans every
        item of every row, so per-rating scaling fits it less well: with binary
        preferences, P@10 0.292 against 0.306 on MovieLens 100K at k=80).
    user_bias, item_bias : bool or None, default=None
        Non-negative user and item biases (see :class:`~nmfrec.MaskedNMF`). None: on for
        explicit feedback, off for implicit.
    reg_scale : {"none", "count"} or None, default=None
        None: ``"count"`` for explicit feedback (penalties times each row's number of
        ratings), ``"none"`` for implicit.
    feedback : {"explicit", "implicit"}, default="explicit"
        ``"explicit"`` fits the ratings (rating prediction, :meth:`predict` gives ratings
        clipped to the training range). ``"implicit"`` fits every entry: each rated item
        its preference (see ``preference``), each unrated item a zero of low confidence;
        this ranks far better (see the README's MovieLens table), and :meth:`predict`
        then gives preference scores, not ratings (never clipped).
    alpha : float or None, default=None
        Confidence slope of implicit feedback, ``c = 1 + alpha * rating``. None: 0 with
        ``preference="rating"``, 1 with ``"binary"``.
    missing_weight : float in (0, 1] or None, default=None
        Implicit feedback: the confidence of every unrated item's zero. None: 0.3 with
        ``preference="rating"``, 1 with ``"binary"``.
    preference : {"binary", "rating"} or None, default=None
        Implicit feedback: what a rated item is fitted to. ``"binary"``: 1 (Hu, Koren &
        Volinsky 2008). ``"rating"``: its rating, with the unrated items as zeros of
        weight ``missing_weight`` (Steck 2010), which ranks best on MovieLens 100K
        (P@10 0.317 against 0.306 for binary, same rank and penalty). None: ``"rating"``.
    The None defaults were chosen on MovieLens 100K (small grids over rank, penalties
    and alpha, scored on the official folds; ``benchmarks/movielens.py`` reproduces the
    scores). On other data, choose them with :mod:`nmfrec.model_selection`;
    ``resolved_params()`` shows the values a fit uses.
    n_init, random_state, n_threads, dtype, verbose
        Passed to :class:`~nmfrec.MaskedNMF` unchanged.

    Attributes
    ----------
    model_ : MaskedNMF
        The fitted factorization; ``model_.W_`` are user factors (rows follow
        ``users_``), ``model_.H_t_`` item factors (rows follow ``items_``).
    users_, items_ : Vocabulary
        Raw user and item labels, in inner-index order.
    ratings_ : scipy.sparse.csr_matrix, shape (n_users, n_items)
        The training ratings (plus those given to :meth:`update`); its sparsity pattern
        is what ``exclude_seen`` excludes.
    rating_range_ : tuple of float
        (min, max) training rating, the clipping range.
    global_mean_ : float
        Mean training rating.
    item_means_, user_means_ : ndarray
        Mean rating of each item and user (``global_mean_`` where there is none): the
        ``unknown="baseline"`` fallbacks.
    item_titles_ : ndarray of object or None
        Title of each item (None where unknown), set by ``fit(item_titles=...)`` or
        :meth:`set_item_titles`; shown as a ``title`` column in rankings.
    columns_ : tuple of str
        The (user, item, rating) column names used by ``fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> from nmfrec.recommender import Recommender
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "c", "b"],
    ...                    "rating": [5.0, 3.0, 4.0, 2.0, 1.0]})
    >>> rec = Recommender(n_components=2, l2_W=0.1, l2_H=0.1, random_state=0,
    ...                   max_iter=20, tol=1e-3).fit(df)
    >>> rec.recommend(1, k=1)["item"].tolist()
    ['c']
    """

    _parameter_constraints = {
        name: ([Options(None)] + constraints if name in _AUTO else constraints)
        for name, constraints in MaskedNMF._parameter_constraints.items()
    }

    def __init__(self, n_components=None, *, solver="als", init=None, max_iter=50, tol=1e-4,
                 l1_W=0.0, l2_W=None, l1_H=0.0, l2_H=None, user_bias=None, item_bias=None,
                 reg_scale=None, feedback="explicit", alpha=None, missing_weight=None,
                 preference=None, n_init=1,
                 random_state=None, n_threads=None, dtype="float64", verbose=0):
        self.n_components = n_components
        self.solver = solver
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.l1_W = l1_W
        self.l2_W = l2_W
        self.l1_H = l1_H
        self.l2_H = l2_H
        self.user_bias = user_bias
        self.item_bias = item_bias
        self.reg_scale = reg_scale
        self.feedback = feedback
        self.alpha = alpha
        self.missing_weight = missing_weight
        self.preference = preference
        self.n_init = n_init
        self.random_state = random_state
        self.n_threads = n_threads
        self.dtype = dtype
        self.verbose = verbose

    # ================================================================== fitting
    def fit(self, ratings, user_col=None, item_col=None, rating_col=None, *,
            duplicates="raise", item_titles=None):
        """Learn user and item factors from a ratings table.

        Parameters
        ----------
        ratings : pandas.DataFrame, scipy sparse matrix or RatingsMatrix
            A frame has one ``(user, item, rating)`` per row. A sparse matrix has users
            as rows and items as columns; its stored entries (explicit zeros too) are
            the ratings and the ids are the row and column indices.
        user_col, item_col, rating_col : str, optional
            Column names; by default the usual ones are recognised (``user``,
            ``userId``, ``user_id``; ``item``, ``movieId``, ``item_id``; ``rating``).
            A frame with two candidates for one role is refused as ambiguous.
        duplicates : {"raise", "last", "first", "mean"}, default="raise"
            What to do with a (user, item) pair rated more than once (frames only).
        item_titles : dict or pandas.Series, optional
            Item label -> title, see :meth:`set_item_titles`.

        Returns
        -------
        self

        Raises
        ------
        KeyError
            A named column is missing, or no column is recognised for a role.
        ValueError
            Ambiguous columns, an empty frame, NaN, infinite or negative ratings,
            duplicate pairs with ``duplicates="raise"``, or an invalid parameter.
        TypeError
            Non-numeric ratings, ids that are neither integers nor strings.
        """
        check_params(self.get_params(), self._parameter_constraints)
        R, columns = self._as_ratings(ratings, user_col, item_col, rating_col, duplicates)
        model = MaskedNMF(**self._model_params())
        model.fit(R)
        self.model_ = model
        self.users_ = R.users
        self.items_ = R.items
        self.columns_ = columns
        self.ratings_ = R.csr.copy()
        self.rating_range_ = R.rating_range
        self.global_mean_ = R.mean
        self.item_means_ = _means(R.csc, self.global_mean_)
        self.user_means_ = _means(R.csr, self.global_mean_)
        self.item_titles_ = None
        if item_titles is not None:
            self.set_item_titles(item_titles)
        return self

    def resolved_params(self):
        """The parameters a fit uses: ``get_params()`` with every None ("auto") value
        replaced by its default for the chosen ``feedback``."""
        params = self.get_params()
        kind = params["feedback"] if params["feedback"] in ("explicit", "implicit") else "explicit"
        for name, by_kind in _AUTO.items():
            if params.get(name) is None:
                params[name] = by_kind[kind]
        if kind == "implicit" and params["preference"] == "rating":
            # Steck's weighted zeros: ratings as targets, confidence 1, missing weight 0.3
            if self.alpha is None:
                params["alpha"] = 0.0
            if self.missing_weight is None:
                params["missing_weight"] = 0.3
        return params

    def _model_params(self):
        mine = self.resolved_params()
        return {p: mine[p] for p in MaskedNMF._param_names() if p in mine}

    def _as_ratings(self, ratings, user_col, item_col, rating_col, duplicates):
        dtype = np.dtype(self.dtype)
        if isinstance(ratings, pd.DataFrame):
            ucol = resolve_column(ratings, user_col, USER_COLUMNS, "user")
            icol = resolve_column(ratings, item_col, ITEM_COLUMNS, "item")
            rcol = resolve_column(ratings, rating_col, RATING_COLUMNS, "rating")
            R = RatingsMatrix.from_frame(ratings, ucol, icol, rcol, duplicates=duplicates,
                                         dtype=dtype)
            return R, (ucol, icol, rcol)
        if sp.issparse(ratings):
            R = RatingsMatrix.from_sparse(ratings, dtype=dtype, name="ratings")
        elif isinstance(ratings, RatingsMatrix):
            R = ratings.astype(dtype)
        else:
            raise TypeError("ratings must be a pandas DataFrame (user, item, rating), a scipy "
                            f"sparse matrix or a RatingsMatrix; got {type(ratings).__name__}. "
                            "For a dense array with NaN for missing, use "
                            "RatingsMatrix.from_dense(X).")
        m, n = R.shape
        users = R.users if R.users is not None else Vocabulary(np.arange(m, dtype=np.int64))
        items = R.items if R.items is not None else Vocabulary(np.arange(n, dtype=np.int64))
        R = RatingsMatrix(R.csr, R.csc, users, items)
        return R, ("user", "item", "rating")

    def set_item_titles(self, titles):
        """Attach item titles, shown as a ``title`` column in every ranking.

        Parameters
        ----------
        titles : dict or pandas.Series
            Item label -> title. Items without a title get None; titles of items that
            are not in the training data are ignored (they can never be returned).

        Returns
        -------
        self
        """
        self._check_fitted("set_item_titles")
        if isinstance(titles, dict):
            labels = np.asarray(list(titles.keys()))
            values = list(titles.values())
        elif isinstance(titles, pd.Series):
            labels = _labels_of(titles.index.to_series())
            values = titles.tolist()
        else:
            raise TypeError("titles must be a dict or a pandas Series mapping item labels to "
                            f"titles; got {type(titles).__name__}.")
        out = np.full(len(self.items_), None, dtype=object)
        idx = self.items_.index(labels, missing="negative") if len(labels) else np.zeros(0, int)
        for j, v in zip(idx, values):
            if j >= 0 and v is not None and not (isinstance(v, float) and np.isnan(v)):
                out[j] = str(v)
        self.item_titles_ = out
        return self

    # ================================================================== prediction
    def predict(self, user, item=None, *, clip=True, unknown="nan", user_col=None,
                item_col=None):
        """Predicted ratings.

        ``predict(user, item)`` returns a float; ``predict(frame)`` one value per row of
        a frame with user and item columns, in row order; ``predict(users, items)`` with
        two equal-length sequences returns an array.

        The prediction is ``w_u . h_i``, clipped to ``rating_range_`` when ``clip``.

        Parameters
        ----------
        user : label, sequence of labels or pandas.DataFrame
        item : label or sequence of labels, optional (not with a frame)
        clip : bool, default=True
            Clip to the training rating range (explicit feedback only; implicit
            preference scores are never clipped).
        unknown : {"nan", "baseline"}, default="nan"
            Value for pairs whose user or item was not in the training data (or whose
            id is missing): NaN, or the baseline described in the class docstring
            (item mean, user mean, global mean).
        user_col, item_col : str, optional
            Columns of a frame; default: the names used in ``fit``, else the usual ones.

        Returns
        -------
        float or ndarray of float64
        """
        self._check_fitted("predict")
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown must be one of {UNKNOWN_POLICIES}; got {unknown!r}.")
        implicit = self.model_.feedback == "implicit"
        if implicit and unknown == "baseline":
            raise ValueError("unknown='baseline' falls back to mean ratings, which only "
                             "exist for feedback='explicit'; this model fits implicit "
                             "preferences.")
        if isinstance(user, pd.DataFrame):
            if item is not None:
                raise TypeError("predict(frame) takes no item argument; the items are a "
                                "column of the frame.")
            ucol, icol = self._pair_columns(user, user_col, item_col)
            users, items = _labels_of(user[ucol]), _labels_of(user[icol])
            scalar = False
        else:
            if item is None:
                raise TypeError("predict needs an item: predict(user, item) or "
                                "predict(frame_with_user_and_item_columns).")
            scalar = np.ndim(user) == 0 and np.ndim(item) == 0
            users = _as_label_array(user)
            items = _as_label_array(item)
            if users.shape != items.shape:
                raise ValueError(f"user and item must have the same length; got {users.size} "
                                 f"users and {items.size} items.")
        u = self.users_.index(users, missing="negative") if users.size else np.zeros(0, np.int64)
        i = self.items_.index(items, missing="negative") if items.size else np.zeros(0, np.int64)
        pred = np.full(u.shape, np.nan)
        known = (u >= 0) & (i >= 0)
        if known.any():
            pred[known] = self.model_.predict(u[known], i[known])
        if unknown == "baseline":
            only_item = (u < 0) & (i >= 0)
            only_user = (u >= 0) & (i < 0)
            pred[only_item] = self.item_means_[i[only_item]]
            pred[only_user] = self.user_means_[u[only_user]]
            pred[(u < 0) & (i < 0)] = self.global_mean_
        if clip and not implicit:  # preference scores are not ratings: never clipped
            lo, hi = self.rating_range_
            pred = np.clip(pred, lo, hi)
        return float(pred[0]) if scalar else pred

    def _pair_columns(self, frame, user_col, item_col):
        fitted_u, fitted_i = self.columns_[0], self.columns_[1]
        if user_col is None and fitted_u in frame.columns:
            user_col = fitted_u
        if item_col is None and fitted_i in frame.columns:
            item_col = fitted_i
        return (resolve_column(frame, user_col, USER_COLUMNS, "user"),
                resolve_column(frame, item_col, ITEM_COLUMNS, "item"))

    # ================================================================== ranking
    def recommend(self, user, k=10, exclude_seen=True, items=None, exclude=None):
        """Top-``k`` items for one known user.

        Parameters
        ----------
        user : label
            A user of the training data (or added by :meth:`update`).
        k : int, default=10
            Number of items; exactly ``k`` rows when at least ``k`` candidates exist,
            all candidates otherwise.
        exclude_seen : bool, default=True
            Leave out the items the user has rated.
        items : sequence of labels, optional
            Whitelist: only these items are candidates. Unknown labels raise KeyError.
        exclude : sequence of labels, optional
            Blacklist: never return these items. Unknown labels are ignored (they could
            not be returned anyway).

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``score`` (the unclipped model score ``w_u . h_i``),
            best first, ties by lower inner item index; plus ``title`` when titles are set.

        Raises
        ------
        KeyError
            The user (or a whitelisted item) is not in the training data.
        ValueError
            ``k`` is not an integer >= 1.
        """
        self._check_fitted("recommend")
        k = _check_positive_int(k, "k")
        u = self.users_.number(user, kind="user")
        allowed = self._allowed(items, exclude)
        ex_indptr, ex_indices = self._seen_rows(np.array([u]), exclude_seen)
        idx, scores, counts = self._topk(self.model_.W_[[u]], self.model_.H_t_, allowed,
                                         ex_indptr, ex_indices, k)
        c = counts[0]
        return self._ranking_frame(idx[0, :c], {"score": scores[0, :c]})

    def recommend_many(self, users=None, k=10, exclude_seen=True, items=None, exclude=None,
                       batch_size=1024):
        """Top-``k`` items for many users, as one long frame.

        Equivalent to calling :meth:`recommend` for each user (same order, same scores),
        computed ``batch_size`` users at a time in a parallel jitted kernel that never
        holds more than ``batch_size x k`` results plus O(k) per thread: no
        users x items array is built.

        Parameters
        ----------
        users : sequence of labels, optional
            Default: every known user, in inner-index order. Unknown users raise KeyError.
        k, exclude_seen, items, exclude
            As in :meth:`recommend`.
        batch_size : int, default=1024
            Users per kernel call.

        Returns
        -------
        pandas.DataFrame
            Columns ``user``, ``item``, ``score``, ``rank`` (1 = best), grouped by user
            in the order given; plus ``title`` when titles are set.
        """
        self._check_fitted("recommend_many")
        k = _check_positive_int(k, "k")
        batch_size = _check_positive_int(batch_size, "batch_size")
        if users is None:
            uidx = np.arange(len(self.users_), dtype=np.int64)
        else:
            labels = _as_label_array(users)
            uidx = (self.users_.index(labels, kind="user") if labels.size
                    else np.zeros(0, dtype=np.int64))
        allowed = self._allowed(items, exclude)
        out_u, out_i, out_s, out_r = [], [], [], []
        for start in range(0, uidx.size, batch_size):
            ub = uidx[start:start + batch_size]
            ex_indptr, ex_indices = self._seen_rows(ub, exclude_seen)
            idx, scores, counts = self._topk(self.model_.W_[ub], self.model_.H_t_, allowed,
                                             ex_indptr, ex_indices, k)
            keep = np.arange(idx.shape[1])[None, :] < counts[:, None]
            out_u.append(np.repeat(ub, counts))
            out_i.append(idx[keep])
            out_s.append(scores[keep])
            out_r.append(np.nonzero(keep)[1] + 1)
        cat = (lambda parts, dt: np.concatenate(parts) if parts else np.zeros(0, dtype=dt))
        u_all = cat(out_u, np.int64)
        frame = self._ranking_frame(cat(out_i, np.int64), {"score": cat(out_s, np.float64),
                                                           "rank": cat(out_r, np.int64)})
        frame.insert(0, "user", self.users_.labels(u_all))
        return frame

    def similar_items(self, item, k=10, items=None, exclude=None):
        """Items whose factors point the same way: cosine similarity of item factors.

        ``sim(i, j) = h_i . h_j / (||h_i|| ||h_j||)``, and 0 when either item has
        all-zero factors (no NaN). The item itself is excluded.

        Parameters
        ----------
        item : label
        k : int, default=10
        items, exclude : sequence of labels, optional
            Whitelist and blacklist, as in :meth:`recommend`.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``similarity`` (in [0, 1], factors being >= 0), best
            first, ties by lower inner item index; plus ``title`` when titles are set.
        """
        self._check_fitted("similar_items")
        k = _check_positive_int(k, "k")
        i = self.items_.number(item, kind="item")
        H = self.model_.H_t_.astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", H, H))
        unit = np.divide(H, norms[:, None], out=np.zeros_like(H), where=norms[:, None] > 0)
        allowed = self._allowed(items, exclude)
        idx, scores, counts = self._topk(unit[[i]], unit, allowed, np.array([0, 1]),
                                         np.array([i]), k)
        c = counts[0]
        return self._ranking_frame(idx[0, :c], {"similarity": scores[0, :c]})

    def _allowed(self, items, exclude):
        allowed = np.ones(len(self.items_), dtype=np.uint8)
        if items is not None:
            labels = _as_label_array(items)
            allowed[:] = 0
            if labels.size:
                allowed[self.items_.index(labels, kind="item")] = 1
        if exclude is not None:
            labels = _as_label_array(exclude)
            if labels.size:
                idx = self.items_.index(labels, missing="negative")
                allowed[idx[idx >= 0]] = 0
        return allowed

    def _seen_rows(self, uidx, exclude_seen):
        if not exclude_seen:
            return np.zeros(uidx.size + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        sub = self.ratings_[uidx]
        sub.sort_indices()
        return sub.indptr.astype(np.int64), sub.indices.astype(np.int64)

    def _topk(self, Q, Y, allowed, ex_indptr, ex_indices, k):
        n = min(k, Y.shape[0])
        m = Q.shape[0]
        idx = np.empty((m, n), dtype=np.int64)
        scores = np.empty((m, n), dtype=np.float64)
        counts = np.empty(m, dtype=np.int64)
        args = (np.ascontiguousarray(Q), np.ascontiguousarray(Y), allowed,
                np.asarray(ex_indptr, dtype=np.int64), np.asarray(ex_indices, dtype=np.int64),
                idx, scores, counts)
        if 0 < m < _SERIAL_TOPK_BELOW:
            topk_rows_serial(*args)   # a few users: starting threads costs more than the work
        elif m:
            with _Threads(self.model_.n_threads, cap_blas=False):  # top-k makes no BLAS call
                topk_rows(*args)
        return idx, scores, counts

    def _ranking_frame(self, idx, columns):
        frame = pd.DataFrame({"item": self.items_.labels(idx), **columns})
        if self.item_titles_ is not None:
            frame["title"] = self.item_titles_[idx]
        return frame

    # ================================================================== new users
    def fold_in(self, ratings, duplicates="raise"):
        """Factors of a user who was not in the training data, from their ratings.

        Solves, against the fitted item factors ``H`` held fixed, exactly the row
        problem ALS solves for a training user,
        ``min_{w>=0} 1/2 sum_i (x_i - w.h_i)^2 + l1_W sum(w) + 1/2 l2_W ||w||^2``,
        by coordinate descent to convergence (``MaskedNMF.transform``).

        Parameters
        ----------
        ratings : dict, pandas.Series or pandas.DataFrame
            Item label -> rating (a frame needs item and rating columns). Items must be
            in the training data; ratings finite and >= 0.
        duplicates : {"raise", "last", "first", "mean"}, default="raise"
            For a frame or Series that rates an item more than once.

        Returns
        -------
        ndarray of shape (n_components,)
        """
        self._check_fitted("fold_in")
        csr = self._new_user_row(ratings, duplicates)
        return self.model_._solve_rows(csr.indptr, csr.indices, csr.data)[0]

    def recommend_new(self, ratings, k=10, exclude_seen=True, items=None, exclude=None,
                      duplicates="raise"):
        """Top-``k`` items for a new user described by their ratings, without refitting.

        The user's factors are :meth:`fold_in` ``(ratings)``; ``exclude_seen`` leaves
        out the rated items. Other parameters and the result are as in
        :meth:`recommend`.
        """
        self._check_fitted("recommend_new")
        k = _check_positive_int(k, "k")
        csr = self._new_user_row(ratings, duplicates)
        w = self.model_._solve_rows(csr.indptr, csr.indices, csr.data)
        allowed = self._allowed(items, exclude)
        if exclude_seen:
            ex_indptr, ex_indices = csr.indptr, csr.indices
        else:
            ex_indptr, ex_indices = np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
        idx, scores, counts = self._topk(w, self.model_.H_t_, allowed, ex_indptr, ex_indices, k)
        c = counts[0]
        return self._ranking_frame(idx[0, :c], {"score": scores[0, :c]})

    def user_factors(self, users=None):
        """Factors of known users (rows of ``model_.W_``), a copy.

        Parameters
        ----------
        users : label or sequence of labels, optional
            Default: all users in inner-index order.

        Returns
        -------
        ndarray of shape (n_components,) for one label, else (n_users, n_components)
        """
        self._check_fitted("user_factors")
        if users is None:
            return self.model_.W_.copy()
        if np.ndim(users) == 0:
            return self.model_.W_[self.users_.number(users, kind="user")].copy()
        return self.model_.W_[self.users_.index(_as_label_array(users), kind="user")].copy()

    def _new_user_row(self, ratings, duplicates):
        if isinstance(ratings, dict):
            frame = pd.DataFrame({"item": list(ratings.keys()), "rating": list(ratings.values())})
        elif isinstance(ratings, pd.Series):
            frame = pd.DataFrame({"item": _labels_of(ratings.index.to_series()),
                                  "rating": ratings.to_numpy()})
        elif isinstance(ratings, pd.DataFrame):
            icol = self.columns_[1] if self.columns_[1] in ratings.columns else None
            rcol = self.columns_[2] if self.columns_[2] in ratings.columns else None
            icol = resolve_column(ratings, icol, ITEM_COLUMNS, "item")
            rcol = resolve_column(ratings, rcol, RATING_COLUMNS, "rating")
            frame = pd.DataFrame({"item": ratings[icol].to_numpy(),
                                  "rating": ratings[rcol].to_numpy()})
        else:
            raise TypeError("ratings must be a dict or Series (item -> rating) or a DataFrame "
                            f"with item and rating columns; got {type(ratings).__name__}.")
        if len(frame) == 0:
            raise ValueError("ratings is empty: a new user needs at least one rating to be "
                             "folded in.")
        frame["user"] = 0
        try:
            R = RatingsMatrix.from_frame(frame, "user", "item", "rating", duplicates=duplicates,
                                         dtype=self.model_.H_t_.dtype,
                                         users=Vocabulary(np.array([0])), items=self.items_)
        except KeyError as e:
            raise KeyError(_no_new_items(e)) from None
        return R.csr

    def update(self, ratings, user_col=None, item_col=None, rating_col=None, *,
               duplicates="raise"):
        """Add ratings of existing or new users and re-solve those users' factors.

        The new ratings are merged into ``ratings_`` (a pair already rated takes the new
        value); every user in ``ratings`` then gets the factors :meth:`fold_in` would give
        for all of that user's ratings. New users are appended to ``users_``. Item
        factors, item means, ``rating_range_`` and ``global_mean_`` are left as fitted:
        only a refit moves them.

        Items that were not in the training data are rejected with a KeyError: their
        factors do not exist, and making them would need the item side of the fit.

        Parameters
        ----------
        ratings : pandas.DataFrame
            One (user, item, rating) per row, columns as in :meth:`fit`.
        user_col, item_col, rating_col, duplicates
            As in :meth:`fit` (``duplicates`` applies within ``ratings``).

        Returns
        -------
        self
        """
        self._check_fitted("update")
        if not isinstance(ratings, pd.DataFrame):
            raise TypeError(f"update takes a ratings DataFrame; got {type(ratings).__name__}.")
        fu, fi, fr = self.columns_
        user_col = user_col if user_col is not None or fu not in ratings.columns else fu
        item_col = item_col if item_col is not None or fi not in ratings.columns else fi
        rating_col = rating_col if rating_col is not None or fr not in ratings.columns else fr
        ucol = resolve_column(ratings, user_col, USER_COLUMNS, "user")
        icol = resolve_column(ratings, item_col, ITEM_COLUMNS, "item")
        rcol = resolve_column(ratings, rating_col, RATING_COLUMNS, "rating")
        try:
            R = RatingsMatrix.from_frame(ratings, ucol, icol, rcol, duplicates=duplicates,
                                         dtype=self.ratings_.dtype, items=self.items_)
        except KeyError as e:
            raise KeyError(_no_new_items(e)) from None
        users = self.users_.extend(R.users.labels_)
        g = users.index(R.users.labels_, kind="user")      # frame user -> global inner index
        n_users, n_items = len(users), len(self.items_)

        old = self.ratings_.tocoo()
        new = R.csr.tocoo()
        new_rows = g[new.row]
        old_key = old.row.astype(np.int64) * n_items + old.col
        new_key = new_rows.astype(np.int64) * n_items + new.col
        keep = ~np.isin(old_key, new_key)
        merged = RatingsMatrix.from_coo(
            np.concatenate([old.row[keep], new_rows]), np.concatenate([old.col[keep], new.col]),
            np.concatenate([old.data[keep], new.data]), (n_users, n_items),
            dtype=self.ratings_.dtype, name="ratings").csr

        touched = np.unique(g)
        sub = merged[touched]
        sub.sort_indices()
        W = np.zeros((n_users, self.model_.W_.shape[1]), dtype=self.model_.W_.dtype)
        W[: self.model_.W_.shape[0]] = self.model_.W_
        W[touched] = self.model_._solve_rows(sub.indptr, sub.indices, sub.data)

        self.model_.W_ = W
        self.users_ = users
        self.ratings_ = merged
        self.user_means_ = _means(merged, self.global_mean_)
        return self

    # ================================================================== explanations
    @property
    def component_names_(self):
        """Names of the additive parts of a score: ``c0 .. c{k-1}``, then the biases."""
        self._check_fitted("component_names_")
        return list(self.model_.factor_names_)

    def explain(self, user, item):
        """Split the score of (user, item) into additive non-negative parts.

        Part ``j`` is ``W[u, j] * H[j, i]``; the parts sum to the *unclipped* prediction
        ``predict(user, item, clip=False)`` (to rounding, ~1e-15 relative). When that
        value lies outside the training range, ``predict`` clips it and the parts sum to
        more (or less) than the clipped prediction; both values are in ``frame.attrs``.

        Parameters
        ----------
        user, item : labels of a known user and item

        Returns
        -------
        pandas.DataFrame
            Columns ``component`` (name), ``contribution`` (>= 0) and ``share``
            (contribution / unclipped prediction; 0 for all parts when it is 0), sorted
            by contribution, largest first (ties in component order).
            ``attrs["prediction"]`` is the unclipped and ``attrs["clipped"]`` the clipped
            prediction.
        """
        self._check_fitted("explain")
        u = self.users_.number(user, kind="user")
        i = self.items_.number(item, kind="item")
        # products in the model dtype, as dot_pairs forms them, summed in float64
        parts = (self.model_.W_[u] * self.model_.H_t_[i]).astype(np.float64)
        total = float(self.model_.predict(np.array([u]), np.array([i]))[0])
        share = parts / total if total > 0 else np.zeros_like(parts)
        frame = pd.DataFrame({"component": self.component_names_, "contribution": parts,
                              "share": share})
        frame = frame.sort_values("contribution", ascending=False, kind="stable",
                                  ignore_index=True)
        lo, hi = self.rating_range_
        frame.attrs["prediction"] = total
        frame.attrs["clipped"] = float(np.clip(total, lo, hi))
        return frame

    def top_items(self, component, n=10):
        """The items that weigh most in one component: what the component "means".

        Parameters
        ----------
        component : int or str
            Component index ``0..k-1`` or name (``"c3"``, see ``component_names_``).
        n : int, default=10

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``weight`` (``H[j, i]``), largest first, ties by lower
            inner item index; plus ``title`` when titles are set.
        """
        self._check_fitted("top_items")
        n = _check_positive_int(n, "n")
        names = self.component_names_
        if isinstance(component, str):
            if component not in names:
                raise KeyError(f"component {component!r} does not exist; the components are "
                               f"{names[0]!r} .. {names[-1]!r}.")
            j = names.index(component)
        elif isinstance(component, numbers.Integral) and not isinstance(component, bool):
            if not 0 <= component < len(names):
                raise IndexError(f"component must be in [0, {len(names) - 1}]; got {component}.")
            j = int(component)
        else:
            raise TypeError(f"component must be an int or a name; got {component!r}.")
        weights = self.model_.H_t_[:, j].astype(np.float64)
        order = np.lexsort((np.arange(weights.size), -weights))[:n]
        return self._ranking_frame(order, {"weight": weights[order]})

    # ================================================================== persistence
    def save(self, path):
        """Write the fitted recommender to one portable ``.npz`` file (no pickle).

        The file holds the factors, the training ratings (for ``exclude_seen``), the
        means, the vocabularies (int labels as an int array, strings as a unicode array),
        titles, and a JSON metadata entry (format name and version, nmfrec version,
        parameters, rating range, fit statistics) plus a SHA-256 of all of it. It is
        written to a temporary file in the same directory and moved into place
        atomically, so an interrupted save never leaves a half-written model.

        Parameters
        ----------
        path : str or os.PathLike
            Destination, used as given (no suffix is added; ``.npz`` is conventional).

        Returns
        -------
        str
            The path written.
        """
        self._check_fitted("save")
        from . import __version__

        path = os.fspath(path)
        model = self.model_
        arrays = {
            "W": model.W_,
            "H_t": model.H_t_,
            "ratings_indptr": self.ratings_.indptr.astype(np.int64),
            "ratings_indices": self.ratings_.indices.astype(np.int64),
            "ratings_data": self.ratings_.data,
            "item_means": self.item_means_,
            "user_means": self.user_means_,
            "loss_history": np.asarray(getattr(model, "loss_history_", np.zeros(0))),
        }
        labels_meta = {}
        for role, vocab in (("user", self.users_), ("item", self.items_)):
            arrays[f"{role}_labels"], labels_meta[role] = _encode_labels(vocab)
        if self.item_titles_ is not None:
            missing = np.array([t is None for t in self.item_titles_], dtype=bool)
            arrays["item_titles"] = np.array(["" if t is None else t for t in self.item_titles_],
                                             dtype=str)
            arrays["item_titles_missing"] = missing
        meta = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "nmfrec_version": __version__,
            "params": _json_params(self.get_params()),
            "labels": labels_meta,
            "columns": list(self.columns_),
            "rating_range": [float(x) for x in self.rating_range_],
            "global_mean": float(self.global_mean_),
            "n_users": len(self.users_),
            "n_items": len(self.items_),
            "n_components": int(model.W_.shape[1]),
            "has_titles": self.item_titles_ is not None,
            "model": {
                "n_iter": int(getattr(model, "n_iter_", 0)),
                "converged": bool(getattr(model, "converged_", False)),
                "reconstruction_err": float(getattr(model, "reconstruction_err_", np.nan)),
                "init": getattr(model, "init_", None),
                "fit_time": float(getattr(model, "fit_time_", np.nan)),
            },
        }
        meta_json = json.dumps(meta, sort_keys=True)
        digest = _digest(meta_json, arrays)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".nmfrec-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays, **{_META_KEY: np.array(meta_json),
                                         _CHECKSUM_KEY: np.array(digest)})
                f.flush()
                os.fsync(f.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)   # mkstemp creates 0600; give a normal file's mode
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return path

    @classmethod
    def load(cls, path):
        """Read a recommender written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Naming the file and the problem: not a zip/npz file, truncated or corrupted
            (unreadable, or its checksum does not match), an npz that is not an nmfrec
            model, or a format version newer than this nmfrec can read.
        """
        path = os.fspath(path)
        try:
            npz = np.load(path, allow_pickle=False)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except Exception as e:
            raise ValueError(f"{path}: cannot be read as an nmfrec model file; it is not an "
                             f"npz archive, or it is truncated or corrupted "
                             f"({type(e).__name__}: {e}).") from e
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: not an nmfrec model file (a single .npy array, not an "
                             ".npz archive written by Recommender.save).")
        try:
            with npz:
                names = list(npz.files)
                if _META_KEY not in names:
                    raise _FileProblem(
                        f"not an nmfrec model file: the npz has no {_META_KEY!r} entry (it "
                        f"holds {names[:6]}{' ...' if len(names) > 6 else ''}).")
                meta_json = str(npz[_META_KEY][()])
                meta = json.loads(meta_json)
                if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                    found = meta.get("format") if isinstance(meta, dict) else None
                    raise _FileProblem(f"not an nmfrec Recommender file (format {found!r}, "
                                       f"expected {FORMAT_NAME!r}).")
                version = meta.get("format_version")
                if not isinstance(version, int):
                    raise _FileProblem(f"corrupted: format_version is {version!r}.")
                if version > FORMAT_VERSION:
                    raise _FileProblem(
                        f"written in format version {version} (nmfrec "
                        f"{meta.get('nmfrec_version')}), newer than the version "
                        f"{FORMAT_VERSION} this nmfrec reads; upgrade nmfrec to load it.")
                arrays = {name: npz[name] for name in names
                          if name not in (_META_KEY, _CHECKSUM_KEY)}
                stored = str(npz[_CHECKSUM_KEY][()]) if _CHECKSUM_KEY in names else None
        except _FileProblem as e:
            raise ValueError(f"{path}: {e}") from None
        except Exception as e:
            raise ValueError(f"{path}: cannot be read as an nmfrec model file; it is "
                             f"truncated or corrupted ({type(e).__name__}: {e}).") from e
        if stored != _digest(meta_json, arrays):
            raise ValueError(f"{path}: corrupted: the SHA-256 checksum of its contents does "
                             "not match the one recorded at save time.")
        try:
            return cls._from_saved(meta, arrays)
        except Exception as e:  # a consistent checksum over inconsistent contents
            raise ValueError(f"{path}: corrupted or inconsistent model file "
                             f"({type(e).__name__}: {e}).") from e

    @classmethod
    def _from_saved(cls, meta, arrays):
        params = meta["params"]
        rec = cls(**params)
        model = MaskedNMF(**rec._model_params())
        n_users, n_items, k = meta["n_users"], meta["n_items"], meta["n_components"]
        W, Ht = arrays["W"], arrays["H_t"]
        if W.shape != (n_users, k) or Ht.shape != (n_items, k):
            raise ValueError(f"factor shapes {W.shape}, {Ht.shape} do not match "
                             f"{n_users} users, {n_items} items, {k} components")
        model.W_ = np.ascontiguousarray(W)
        model.H_t_ = np.ascontiguousarray(Ht)
        info = meta["model"]
        model.n_iter_ = info["n_iter"]
        model.converged_ = info["converged"]
        model.reconstruction_err_ = info["reconstruction_err"]
        model.init_ = info["init"]
        model.fit_time_ = info["fit_time"]
        model.loss_history_ = arrays["loss_history"]
        model.factor_names_ = model._layout()["names"]
        if len(model.factor_names_) != k:
            raise ValueError(f"{k} factor columns do not match the parameters' layout "
                             f"{model.factor_names_}")
        model.n_components_ = int(model.n_components)
        model.n_factors_ = k
        model.n_features_in_ = n_items
        rec.model_ = model
        rec.users_ = _decode_labels(arrays["user_labels"], meta["labels"]["user"])
        rec.items_ = _decode_labels(arrays["item_labels"], meta["labels"]["item"])
        rec.ratings_ = sp.csr_matrix((arrays["ratings_data"], arrays["ratings_indices"],
                                      arrays["ratings_indptr"]), shape=(n_users, n_items))
        rec.columns_ = tuple(meta["columns"])
        rec.rating_range_ = tuple(meta["rating_range"])
        rec.global_mean_ = meta["global_mean"]
        rec.item_means_ = arrays["item_means"]
        rec.user_means_ = arrays["user_means"]
        rec.item_titles_ = None
        if meta["has_titles"]:
            titles = arrays["item_titles"].astype(object)
            titles[arrays["item_titles_missing"]] = None
            rec.item_titles_ = titles
        return rec

    # ================================================================== helpers
    def _check_fitted(self, what):
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This Recommender instance is not fitted yet; call fit "
                                 f"before {what}.")


class _FileProblem(Exception):
    """A load failure whose message is already complete (wrapped into ValueError)."""


def _no_new_items(err):
    msg = err.args[0] if err.args else str(err)
    return (f"{msg}; item factors are fixed after fit, so ratings of items unseen at fit "
            "cannot be folded in. Refit to include new items.")


def _means(M, default):
    """Mean stored value of each row of a CSR (or column of a CSC); ``default`` if none."""
    counts = np.diff(M.indptr)
    rows = np.repeat(np.arange(counts.size), counts)
    sums = np.bincount(rows, weights=M.data.astype(np.float64), minlength=counts.size)
    out = np.full(counts.size, float(default))
    has = counts > 0
    out[has] = sums[has] / counts[has]
    return out


def _check_positive_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def _labels_of(col: pd.Series) -> np.ndarray:
    """Labels of a frame column as a NumPy array (strings as objects)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(col.cat.categories.dtype)
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        return col.to_numpy(dtype=object)
    return col.to_numpy()


def _as_label_array(labels) -> np.ndarray:
    if isinstance(labels, pd.Series):
        return _labels_of(labels)
    if isinstance(labels, pd.Index):
        return _labels_of(labels.to_series())
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


def _encode_labels(vocab: Vocabulary):
    labels = vocab.labels_
    if vocab.is_integer:
        return labels.astype(np.int64), {"kind": "int", "dtype": str(labels.dtype)}
    return np.array([str(x) for x in labels], dtype=str), {"kind": "str"}


def _decode_labels(arr, info):
    if info["kind"] == "int":
        return Vocabulary(arr.astype(np.dtype(info["dtype"])))
    return Vocabulary(arr.astype(object))


def _json_params(params):
    out = {}
    for key, value in params.items():
        if key == "random_state" and not (value is None or isinstance(value, numbers.Integral)):
            value = None   # a Generator has no portable form; the fit is already done
        elif key == "dtype":
            value = np.dtype(value).name
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def _digest(meta_json, arrays):
    """SHA-256 over the metadata and every array's name, dtype, shape and bytes."""
    h = hashlib.sha256(meta_json.encode("utf-8"))
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()

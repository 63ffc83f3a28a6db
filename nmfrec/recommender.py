"""Recommender: the DataFrame-facing API on top of :class:`~nmfrec.MaskedNMF`.

This layer owns what the estimator deliberately does not know about: raw user and item
ids (a :class:`~nmfrec.Vocabulary` each way, never mixed with inner indices), the items
each user has already rated, the unknown-user policy, new users and explanations. All
the math is :class:`~nmfrec.MaskedNMF`'s; the file format is :mod:`nmfrec._persist`'s.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._base import ParamsBase, ThreadLimits
from ._kernels import topk_rows, topk_rows_serial
from ._persist import (FORMAT_NAME, FORMAT_VERSION, decode_labels, encode_labels, json_params,
                       read_npz, write_npz)
from ._validation import Options, check_params, check_positive_int
from .exceptions import NotFittedError
from .nmf import MaskedNMF
from .ratings import RatingsMatrix, Vocabulary, as_labels, resolve_columns

__all__ = ["Recommender", "FORMAT_NAME", "FORMAT_VERSION"]

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

#: Parameters that only the implicit-feedback objective reads.
_IMPLICIT_ONLY = ("alpha", "missing_weight", "preference")

#: Number of recommendations per user that ``score`` counts for implicit feedback.
_SCORE_K = 10


class Recommender(ParamsBase):
    r"""Recommendations from a ratings table by non-negative matrix factorization.

    ``fit`` learns non-negative user factors ``W`` (n_users x k) and item factors
    ``H`` (k x n_items) from the observed ratings only (see :class:`~nmfrec.MaskedNMF`
    for the objective and solvers). The model's score of item ``i`` for user ``u`` is

    .. math::

        \hat x_{ui} = w_u \cdot h_i = \sum_{j} W_{uj} H_{ji} \;\ge 0,

    a sum of non-negative parts, one per component and one per bias (user and item
    biases are further columns of W and rows of H): :meth:`explain` returns them.

    Policies
    --------
    * **Ids.** Users and items are raw labels (ints or strings) as in the training frame;
      with a scipy sparse matrix they are its row and column indices. Inner indices are
      never exposed. Asking for an id of the other kind (``recommend(1)`` when the ids
      are strings) is a ``KeyError`` that says which kind the ids are, with examples.
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
    * **Model selection.** ``Recommender`` is a scikit-learn estimator: ``clone``,
      ``GridSearchCV``, ``cross_val_score`` and ``check_is_fitted`` work on it with a
      ratings frame as ``X``, scored by :meth:`score`.

    Parameters
    ----------
    n_components : int or None, default=None
        Rank k, the number of components (biases come on top). None: 30 for explicit
        feedback, 80 for implicit.
    solver : {"als", "mu", "pgd"}, default="als"
        How the factors are fitted: ``"als"``, alternating non-negative least squares
        (each user's, then each item's, factors exactly minimise their own regularized
        problem; converges in few iterations, and is the problem the fold-in of new
        users solves); ``"mu"``, multiplicative updates; ``"pgd"``, projected gradient
        (explicit feedback only). All three never increase the objective.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar"} or None, default=None
        Starting factors: scaled random values, or the non-negative SVD start (NNDSVD;
        ``"a"`` fills its zeros with the mean, ``"ar"`` with small random values).
        None: ``"nndsvda"`` when k < min(n_users, n_items), else ``"random"``.
    max_iter : int, default=50
        Maximum number of iterations (one update of the user factors and one of the item
        factors each). A fit that stops here before ``tol`` warns with a
        ``ConvergenceWarning``.
    tol : float, default=1e-4
        Stop when an iteration lowers the objective by less than this fraction of its
        value, ``(F_prev - F) / F_prev < tol``. 0 runs exactly ``max_iter`` iterations.
    l1_W : float, default=0.0
        L1 penalty on the user factors (times each user's number of ratings with
        ``reg_scale="count"``); larger values set more factors exactly to zero.
    l2_W : float or None, default=None
        L2 penalty on the user factors (times each user's number of ratings with
        ``reg_scale="count"``). None: 0.1 for explicit feedback, 30 for implicit.
    l1_H : float, default=0.0
        L1 penalty on the item factors (times each item's number of ratings with
        ``reg_scale="count"``).
    l2_H : float or None, default=None
        L2 penalty on the item factors (times each item's number of ratings with
        ``reg_scale="count"``). None: 0.15 for explicit feedback, 30 for implicit.
    user_bias : bool or None, default=None
        Give each user a non-negative bias, a named part of every score. None: on for
        explicit feedback, off for implicit.
    item_bias : bool or None, default=None
        Give each item a non-negative bias, a named part of every score. None: on for
        explicit feedback, off for implicit.
    reg_scale : {"none", "count"} or None, default=None
        ``"count"`` multiplies each user's (item's) penalties by its number of ratings
        (ALS-WR), so that the penalty grows with the evidence and carries over between
        data sets of different sizes; ``"none"`` applies them as they are. None:
        ``"count"`` for explicit feedback, ``"none"`` for implicit.
    feedback : {"explicit", "implicit"}, default="explicit"
        ``"explicit"`` fits the ratings (rating prediction, :meth:`predict` gives ratings
        clipped to the training range). ``"implicit"`` fits every entry: each rated item
        its preference (see ``preference``), each unrated item a zero of low confidence;
        this ranks far better, and :meth:`predict` then gives preference scores, not
        ratings (never clipped).
    alpha : float or None, default=None
        Implicit feedback: the confidence slope, a rated item weighs
        ``1 + alpha * rating``. None: 0 with ``preference="rating"``, 1 with
        ``"binary"``. Not used with explicit feedback.
    missing_weight : float in (0, 1] or None, default=None
        Implicit feedback: the confidence of every unrated item's zero. None: 0.3 with
        ``preference="rating"``, 1 with ``"binary"``. Not used with explicit feedback.
    preference : {"binary", "rating"} or None, default=None
        Implicit feedback: what a rated item is fitted to. ``"binary"``: 1 (Hu, Koren &
        Volinsky 2008). ``"rating"``: its rating, with the unrated items as zeros of
        weight ``missing_weight`` (Steck 2010). None: ``"rating"``. Not used with
        explicit feedback.
    n_init : int, default=1
        Number of fits from different random starts; the one with the lowest objective
        is kept. Only random starts differ (``init="random"`` or ``"nndsvdar"``).
    random_state : int, numpy Generator or None, default=None
        Seed of every random choice; the same seed and thread count give identical
        factors.
    n_threads : int or None, default=None
        Threads for the parallel kernels (fitting, fold-in, top-k); None uses numba's
        default. Results do not depend on it.
    dtype : {"float64", "float32"}, default="float64"
        Storage type of the ratings and factors (sums are accumulated in float64);
        float32 halves the memory.
    verbose : int, default=0
        ``>= 1`` shows a progress bar with the objective while fitting (on stderr, or
        in a notebook).

    Notes
    -----
    The None defaults were chosen on MovieLens 100K training data (small grids over
    rank, penalties and alpha). On other data, choose them with
    :mod:`nmfrec.model_selection` or scikit-learn's ``GridSearchCV``;
    :meth:`resolved_params` shows the values a fit uses.

    Attributes
    ----------
    model_ : MaskedNMF
        The fitted factorization; ``model_.W_`` are user factors (rows follow
        ``users_``), ``model_.components_`` item factors (columns follow ``items_``).
        :meth:`user_factors` and :meth:`item_factors` read them by label.
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
        check_params(self.get_params(deep=False), self._parameter_constraints)
        R = self._as_ratings(ratings, user_col, item_col, rating_col, duplicates)
        model = MaskedNMF(**self._model_params())
        model.fit(R)
        self.model_ = model
        self.users_ = R.users
        self.items_ = R.items
        self.columns_ = R.columns
        self.ratings_ = R.csr.copy()
        self.rating_range_ = R.rating_range
        self.global_mean_ = R.mean
        self.item_means_ = R.col_means()
        self.user_means_ = R.row_means()
        self.item_titles_ = None
        if item_titles is not None:
            self.set_item_titles(item_titles)
        return self

    def resolved_params(self):
        """The parameters a fit uses, with every None ("auto") value resolved.

        ``get_params()`` with each None replaced by its default for the chosen
        ``feedback``, without the parameters that this model does not read (``alpha``,
        ``missing_weight`` and ``preference`` only matter for implicit feedback).

        Returns
        -------
        dict
        """
        params = self.get_params(deep=False)
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
        if kind == "explicit":
            for name in _IMPLICIT_ONLY:
                del params[name]
        return params

    def _model_params(self):
        mine = self.resolved_params()
        return {p: mine[p] for p in MaskedNMF().get_params(deep=False) if p in mine}

    def _as_ratings(self, ratings, user_col, item_col, rating_col, duplicates):
        """The training data as a RatingsMatrix with labels and column names."""
        dtype = np.dtype(self.dtype)
        if isinstance(ratings, pd.DataFrame):
            return RatingsMatrix.from_frame(ratings, user_col, item_col, rating_col,
                                            duplicates=duplicates, dtype=dtype)
        if sp.issparse(ratings):
            R = RatingsMatrix.from_sparse(ratings, dtype=dtype, name="ratings")
        elif isinstance(ratings, RatingsMatrix):
            R = ratings.astype(dtype)
        else:
            raise TypeError("ratings must be a pandas DataFrame (user, item, rating), a scipy "
                            f"sparse matrix or a RatingsMatrix; got {type(ratings).__name__}. "
                            "For a dense array with NaN for missing, use "
                            "RatingsMatrix.from_dense(X).")
        R = R.with_labels()
        return R if R.columns is not None else RatingsMatrix(R.csr, R.csc, R.users, R.items,
                                                             ("user", "item", "rating"))

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
            labels = as_labels(list(titles.keys()))
            values = list(titles.values())
        elif isinstance(titles, pd.Series):
            labels = as_labels(titles.index)
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
            One user, the users of several pairs, or a frame of (user, item) pairs.
        item : label or sequence of labels, optional
            The item(s) paired with ``user``, one per user; not with a frame.
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
            ucol, icol = self._frame_columns(user, ("user", "item"), user_col, item_col)
            users, items = as_labels(user[ucol]), as_labels(user[icol])
            scalar = False
        else:
            if item is None:
                raise TypeError("predict needs an item: predict(user, item) or "
                                "predict(frame_with_user_and_item_columns).")
            scalar = np.ndim(user) == 0 and np.ndim(item) == 0
            users = as_labels(user)
            items = as_labels(item)
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

    @property
    def predicts_ratings(self):
        """Whether :meth:`predict` returns ratings (explicit feedback) rather than
        preference scores (implicit feedback): evaluation scores RMSE only for the former.
        """
        return self.feedback != "implicit"

    def _frame_columns(self, frame, roles, user_col=None, item_col=None, rating_col=None):
        """Columns of ``frame`` for ``roles``: the given names, else those of ``fit``
        when present, else the usual names."""
        fitted = dict(zip(("user", "item", "rating"), self.columns_))
        return resolve_columns(frame, user_col, item_col, rating_col, roles=roles,
                               prefer=fitted)

    def score(self, X, y=None):
        """How well the model does on held-out ratings ``X``: greater is better.

        The score scikit-learn's model selection uses (``GridSearchCV``,
        ``cross_val_score`` with ``X`` a ratings frame).

        * Explicit feedback: minus the RMSE of :meth:`predict` over the rows of ``X``,
          with its defaults for ratings (clipped to the training range) and
          ``unknown="baseline"``, so every rating of ``X`` is scored.
        * Implicit feedback: precision@10 of the rankings, the share of each user's ten
          :meth:`recommend` items (rated items excluded) that the user has in ``X``,
          averaged over the users of ``X`` that the model knows.

        Parameters
        ----------
        X : pandas.DataFrame
            Held-out ratings, one (user, item, rating) per row; columns as in
            :meth:`fit` (the implicit score needs no rating column).
        y : ignored
            Not used, present for scikit-learn's API.

        Returns
        -------
        float

        Raises
        ------
        TypeError
            ``X`` is not a DataFrame.
        ValueError
            ``X`` is empty, or (implicit feedback) has no user the model knows.
        """
        self._check_fitted("score")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"score takes a ratings DataFrame; got {type(X).__name__}.")
        if len(X) == 0:
            raise ValueError("X is empty: there are no ratings to score.")
        if self.model_.feedback != "implicit":
            ucol, icol, rcol = self._frame_columns(X, ("user", "item", "rating"))
            pred = self.predict(X, unknown="baseline", user_col=ucol, item_col=icol)
            truth = X[rcol].to_numpy(dtype=np.float64)
            return -float(np.sqrt(np.mean((pred - truth) ** 2)))
        ucol, icol = self._frame_columns(X, ("user", "item"))
        held = pd.DataFrame({"user": as_labels(X[ucol]), "item": as_labels(X[icol])})
        held = held[self.users_.index(held["user"].to_numpy(), missing="negative") >= 0]
        if len(held) == 0:
            raise ValueError("X has no user that the model knows: there is nothing to rank.")
        users = pd.unique(held["user"].to_numpy())
        recs = self.recommend_many(users, k=_SCORE_K)[["user", "item"]]
        hits = recs.merge(held.drop_duplicates(), on=["user", "item"]).groupby("user").size()
        return float(hits.reindex(users, fill_value=0).mean() / _SCORE_K)

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
        k = check_positive_int(k, "k")
        u = self.users_.number(user, kind="user")
        allowed = self._allowed(items, exclude)
        ex_indptr, ex_indices = self._seen_rows(np.array([u]), exclude_seen)
        idx, scores, counts = self._topk(self.model_.W_[[u]], self._item_factors(), allowed,
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
        k = check_positive_int(k, "k")
        batch_size = check_positive_int(batch_size, "batch_size")
        if users is None:
            uidx = np.arange(len(self.users_), dtype=np.int64)
        else:
            labels = as_labels(users)
            uidx = (self.users_.index(labels, kind="user") if labels.size
                    else np.zeros(0, dtype=np.int64))
        allowed = self._allowed(items, exclude)
        Ht = self._item_factors()
        out_u, out_i, out_s, out_r = [], [], [], []
        for start in range(0, uidx.size, batch_size):
            ub = uidx[start:start + batch_size]
            ex_indptr, ex_indices = self._seen_rows(ub, exclude_seen)
            idx, scores, counts = self._topk(self.model_.W_[ub], Ht, allowed,
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
        k = check_positive_int(k, "k")
        i = self.items_.number(item, kind="item")
        H = self._item_factors().astype(np.float64)
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
            labels = as_labels(items)
            allowed[:] = 0
            if labels.size:
                allowed[self.items_.index(labels, kind="item")] = 1
        if exclude is not None:
            labels = as_labels(exclude)
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
            with ThreadLimits(self.model_.n_threads, cap_blas=False):  # top-k makes no BLAS call
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
        # np.asarray: scikit-learn's set_config(transform_output="pandas") may be on
        return np.asarray(self.model_.transform(self._new_user_row(ratings, duplicates)))[0]

    def recommend_new(self, ratings, k=10, exclude_seen=True, items=None, exclude=None,
                      duplicates="raise"):
        """Top-``k`` items for a new user described by their ratings, without refitting.

        The user's factors are :meth:`fold_in` ``(ratings)``; the ranking is that of
        :meth:`recommend` for a user with those factors.

        Parameters
        ----------
        ratings : dict, pandas.Series or pandas.DataFrame
            The new user's ratings, item label -> rating, as :meth:`fold_in` takes them.
        k : int, default=10
            Number of items (fewer when fewer candidates exist).
        exclude_seen : bool, default=True
            Leave out the items in ``ratings``.
        items : sequence of labels, optional
            Whitelist: only these items are candidates. Unknown labels raise KeyError.
        exclude : sequence of labels, optional
            Blacklist: never return these items (unknown labels are ignored).
        duplicates : {"raise", "last", "first", "mean"}, default="raise"
            For ratings that rate an item more than once.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``score``, best first; plus ``title`` when titles are set.

        Raises
        ------
        KeyError
            An item of ``ratings`` (or of the whitelist) is not in the training data.
        ValueError
            ``ratings`` is empty or holds invalid ratings, or ``k`` is not an integer >= 1.
        """
        self._check_fitted("recommend_new")
        k = check_positive_int(k, "k")
        row = self._new_user_row(ratings, duplicates)
        w = np.asarray(self.model_.transform(row))
        allowed = self._allowed(items, exclude)
        if exclude_seen:
            ex_indptr, ex_indices = row.csr.indptr, row.csr.indices
        else:
            ex_indptr, ex_indices = np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
        idx, scores, counts = self._topk(w, self._item_factors(), allowed, ex_indptr,
                                         ex_indices, k)
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
        ndarray of shape (n_factors,) for one label, else (n_users, n_factors)
            One value per part of a score, in ``component_names_`` order (the
            components, then the bias columns).

        Raises
        ------
        KeyError
            A user is not in the training data.
        """
        self._check_fitted("user_factors")
        return _rows_of(self.model_.W_, self.users_, users, "user")

    def item_factors(self, items=None):
        """Factors of known items (columns of ``model_.components_``), a copy.

        Parameters
        ----------
        items : label or sequence of labels, optional
            Default: all items in inner-index order.

        Returns
        -------
        ndarray of shape (n_factors,) for one label, else (n_items, n_factors)
            One value per part of a score, in ``component_names_`` order; the score of
            an item for a user is the dot product of their factors.

        Raises
        ------
        KeyError
            An item is not in the training data.
        """
        self._check_fitted("item_factors")
        return _rows_of(self._item_factors(), self.items_, items, "item")

    def _item_factors(self):
        """Item factors row-major, (n_items, n_factors): what the kernels take."""
        return self.model_.components_.T

    def _new_user_row(self, ratings, duplicates):
        if isinstance(ratings, dict):
            frame = pd.DataFrame({"item": list(ratings.keys()), "rating": list(ratings.values())})
        elif isinstance(ratings, pd.Series):
            frame = pd.DataFrame({"item": as_labels(ratings.index),
                                  "rating": ratings.to_numpy()})
        elif isinstance(ratings, pd.DataFrame):
            icol, rcol = self._frame_columns(ratings, ("item", "rating"))
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
            return RatingsMatrix.from_frame(frame, "user", "item", "rating",
                                            duplicates=duplicates,
                                            dtype=self.model_.components_.dtype,
                                            users=Vocabulary(np.array([0])), items=self.items_)
        except KeyError as e:
            raise KeyError(_no_new_items(e)) from None

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
        ucol, icol, rcol = self._frame_columns(ratings, ("user", "item", "rating"), user_col,
                                               item_col, rating_col)
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
            dtype=self.ratings_.dtype, name="ratings")

        touched = np.unique(g)
        sub = merged.csr[touched]
        sub.sort_indices()
        self.model_.refit_rows(sub, touched)
        self.users_ = users
        self.ratings_ = merged.csr
        self.user_means_ = merged.row_means(self.global_mean_)
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
        parts = (self.model_.W_[u] * self._item_factors()[i]).astype(np.float64)
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
            Number of items.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``weight`` (``H[j, i]``), largest first, ties by lower
            inner item index; plus ``title`` when titles are set.
        """
        self._check_fitted("top_items")
        n = check_positive_int(n, "n")
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
        weights = self.model_.components_[j].astype(np.float64)
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
        state = self.model_.get_fitted_state()
        arrays = {
            "W": state["W"],
            "H_t": state["H_t"],
            "ratings_indptr": self.ratings_.indptr.astype(np.int64),
            "ratings_indices": self.ratings_.indices.astype(np.int64),
            "ratings_data": self.ratings_.data,
            "item_means": self.item_means_,
            "user_means": self.user_means_,
            "loss_history": state["loss_history"],
        }
        labels_meta = {}
        for role, vocab in (("user", self.users_), ("item", self.items_)):
            arrays[f"{role}_labels"], labels_meta[role] = encode_labels(vocab)
        if self.item_titles_ is not None:
            missing = np.array([t is None for t in self.item_titles_], dtype=bool)
            arrays["item_titles"] = np.array(["" if t is None else t for t in self.item_titles_],
                                             dtype=str)
            arrays["item_titles_missing"] = missing
        meta = {
            "params": json_params(self.get_params(deep=False)),
            "labels": labels_meta,
            "columns": list(self.columns_),
            "rating_range": [float(x) for x in self.rating_range_],
            "global_mean": float(self.global_mean_),
            "n_users": len(self.users_),
            "n_items": len(self.items_),
            "n_components": int(state["W"].shape[1]),
            "has_titles": self.item_titles_ is not None,
            "model": {key: state[key] for key in _MODEL_META},
        }
        return write_npz(path, meta, arrays)

    @classmethod
    def load(cls, path):
        """Read a recommender written by :meth:`save`.

        Files written by earlier nmfrec versions load as they were saved.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        Recommender
            Fitted, with the parameters, factors, ratings, vocabularies and titles that
            were saved: it predicts and ranks exactly as the saved model did.

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Naming the file and the problem: not a zip/npz file, truncated or corrupted
            (unreadable, or its checksum does not match), an npz that is not an nmfrec
            model, or a format version newer than this nmfrec can read.
        """
        meta, arrays = read_npz(path)
        try:
            return cls._from_file(meta, arrays)
        except Exception as e:  # a consistent checksum over inconsistent contents
            raise ValueError(f"{path}: corrupted or inconsistent model file "
                             f"({type(e).__name__}: {e}).") from e

    @classmethod
    def _from_file(cls, meta, arrays):
        rec = cls(**meta["params"])
        n_users, n_items, k = meta["n_users"], meta["n_items"], meta["n_components"]
        W, Ht = arrays["W"], arrays["H_t"]
        if W.shape != (n_users, k) or Ht.shape != (n_items, k):
            raise ValueError(f"factor shapes {W.shape}, {Ht.shape} do not match "
                             f"{n_users} users, {n_items} items, {k} components")
        model = MaskedNMF(**rec._model_params())
        model.set_fitted_state({"W": W, "H_t": Ht, "loss_history": arrays["loss_history"],
                                **{key: meta["model"][key] for key in _MODEL_META}})
        rec.model_ = model
        rec.users_ = decode_labels(arrays["user_labels"], meta["labels"]["user"])
        rec.items_ = decode_labels(arrays["item_labels"], meta["labels"]["item"])
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
    def __sklearn_is_fitted__(self):
        return "model_" in self.__dict__

    def _check_fitted(self, what):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"This Recommender instance is not fitted yet; call fit "
                                 f"before {what}.")


#: The fit statistics of MaskedNMF's fitted state that a model file keeps as metadata.
_MODEL_META = ("n_iter", "converged", "reconstruction_err", "init", "fit_time")


def _no_new_items(err):
    msg = err.args[0] if err.args else str(err)
    return (f"{msg}; item factors are fixed after fit, so ratings of items unseen at fit "
            "cannot be folded in. Refit to include new items.")


def _rows_of(factors, vocab, labels, kind):
    """Copy of the rows of ``factors`` for ``labels`` (all rows when None)."""
    if labels is None:
        return factors.copy()
    if np.ndim(labels) == 0:
        return factors[vocab.number(labels, kind=kind)].copy()
    return factors[vocab.index(as_labels(labels), kind=kind)].copy()

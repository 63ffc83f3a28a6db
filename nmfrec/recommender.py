"""Recommender: the DataFrame-facing API on top of the factorizations.

This layer owns what the estimators deliberately do not know about: raw user and item
ids (a :class:`~nmfrec.Vocabulary` each way, never mixed with inner indices), the items
each user has already rated, the unknown-user policy, new users, explanations, and which
fitted part answers which question (a rating part for :meth:`Recommender.predict`, a
preference part for :meth:`Recommender.recommend`). The math is
:class:`~nmfrec.BayesianNMF`'s and :class:`~nmfrec.MaskedNMF`'s; the file format is
:mod:`nmfrec._persist`'s.
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import _auto as auto
from . import _predictive
from ._auto import PopularityPart
from ._base import ParamsBase, ThreadLimits
from ._clicks import COUNT_ALPHA, confidence_values, fitted_as_clicks, interactions_frame
from ._explore import base_seed, explore_scale, explore_topk
from ._kernels import topk_rows, topk_rows_blocked, topk_rows_serial
from ._persist import (FORMAT_NAME, FORMAT_VERSION, decode_labels, encode_labels, json_params,
                       read_npz, upgrade, write_npz)
from ._titles import close_titles, item_indices, item_labels, item_number
from ._validation import (FRAME_TYPES, Interval, Options, as_frame, check_params,
                          check_positive_int, to_pandas, type_name)
from .bayes import PRIORS, BayesianNMF
from .exceptions import NotFittedError
from .nmf import MaskedNMF
from .ratings import RatingsMatrix, Vocabulary, as_labels, feedback_columns, resolve_columns
from .spark import SparkRatings, is_spark_frame

if TYPE_CHECKING:
    import os

    from typing_extensions import Self

    from ._typing import (Duplicates, Feedback, FloatArray, FloatDType, Frame, Init, Label,
                          LabelOrLabels, Labels, NewRatings, Prior, Ranking, Seed,
                          RatingsInput, RegScale, Preference, Titles, Unknown)

__all__ = ["Recommender", "FORMAT_NAME", "FORMAT_VERSION"]

UNKNOWN_POLICIES = ("nan", "baseline", "raise")
RANKINGS = ("preference", "rating", "popularity")
MAP_SOLVERS = ("als", "mu", "pgd")

#: Batches of fewer query rows than this run the serial top-k kernel (same results).
_SERIAL_TOPK_BELOW = 16

#: Pseudo-ratings at the global mean in the ``unknown="baseline"`` means: an item rated
#: once does not stand in for everyone at that one rating.
BASELINE_DAMPING = 5.0

#: Number of recommendations per user that ``score`` counts for implicit feedback.
_SCORE_K = 10

#: Values of the None ("auto") parameters: a value, or a rule of the data
#: (:mod:`nmfrec._auto`). The rating part's depend on the solver, the implicit
#: objective's on the preference; see ``Recommender.resolved_params``.
_AUTO_EXPLICIT_GIBBS = {"n_components": auto.RATING_RANK, "prior": "wishart",
                        "user_bias": True, "item_bias": True, "n_samples": auto.GIBBS_SWEEPS}
_AUTO_EXPLICIT_MAP = {"n_components": 30, "l2_W": 0.1, "l2_H": 0.15, "user_bias": True,
                      "item_bias": True, "reg_scale": "count", "max_iter": 50, "tol": 1e-4}
#: How the preference part (and the only part of implicit feedback) is fitted: from a
#: random start, for exactly 16 iterations, the schedule its rules were chosen with (more
#: iterations overfit the weighted zeros: on validation splits of MovieLens 1M, 30 gave a
#: lower precision than 16)
_PREFERENCE_FIT = {"init": "random", "max_iter": 16, "tol": 0.0}
_AUTO_IMPLICIT = {"n_components": auto.PREFERENCE_RANK, "l2_W": auto.PREFERENCE_L2,
                  "l2_H": auto.PREFERENCE_L2, "user_bias": False, "item_bias": False,
                  "reg_scale": "weight", "preference": "binary", **_PREFERENCE_FIT}
_AUTO_PREFERENCE_PART = {"preference_components": auto.PREFERENCE_RANK,
                         "preference_l2": auto.PREFERENCE_L2, "preference": "rating"}
_AUTO_IMPLICIT_OBJECTIVE = {"rating": {"alpha": 0.0, "missing_weight": auto.MISSING_WEIGHT},
                            "binary": {"alpha": 1.0, "missing_weight": auto.MISSING_WEIGHT}}
#: ``alpha`` of click and count data (see :mod:`nmfrec._clicks`): a bare click has
#: confidence 1, a count 1 + log(1 + count)
_AUTO_ALPHA = {"clicks": 0.0, "counts": COUNT_ALPHA}
#: What ``feedback=None`` becomes, by what the table holds
_FEEDBACK_OF = {"ratings": "explicit", "counts": "implicit", "clicks": "implicit"}
_FEEDBACK_RULE = auto.Rule("from the data: 'explicit' for a table of ratings, 'implicit' "
                           "for one of clicks or counts")

#: Which parameters each kind of model reads (``resolved_params`` shows only these).
_COMMON = ("feedback", "random_state", "n_threads", "dtype", "verbose")
_MAP_FIT = ("init", "max_iter", "tol", "n_init")
_MAP_OBJECTIVE = ("n_components", "solver", "l1_W", "l2_W", "l1_H", "l2_H", "user_bias",
                  "item_bias", "reg_scale")
_GIBBS = ("n_components", "solver", "prior", "user_bias", "item_bias", "n_samples")
_IMPLICIT_OBJECTIVE = ("alpha", "missing_weight", "preference")
_PREFERENCE_PART = ("preference_components", "preference_l2")
#: The penalized rating part's penalties: an error with the Bayesian one, which has none.
_PENALTIES = ("l1_W", "l2_W", "l1_H", "l2_H", "reg_scale")

class Recommender(ParamsBase):
    r"""Recommendations and rating predictions from a ratings table.

    One fitted object answers two questions, each from the part of the model that answers
    it best:

    * **What would this user rate this item?** (:meth:`predict`) The *rating part*: a
      Bayesian non-negative matrix factorization (:class:`~nmfrec.BayesianNMF`) of the
      observed ratings,

      .. math:: \hat r_{ui} = b_u + c_i + \sum_j w_{uj} h_{ij}, \quad w, h \ge 0,

      a user offset and an item offset (signed) plus non-negative taste components,
      averaged over draws from the posterior. How strongly each part is shrunk, and
      toward what, is drawn from the training data: nothing is tuned, and a user or item
      with few ratings is pulled toward the population rather than toward zero.
    * **What will this user pick, and like?** (:meth:`recommend`) The *preference part*:
      a non-negative factorization of every (user, item) cell,
      :math:`\hat p_{ui} = \sum_j p_{uj} q_{ij}`, fitted to the rating where one was
      given and to zero, with a lower weight, where none was (Steck's weighted zeros,
      :class:`~nmfrec.MaskedNMF` with ``feedback="implicit"``). Its score is high for
      items the user is likely to choose *and* rate highly, which is what a top-k list
      needs; ranking by predicted rating instead puts obscure items rated once on top.

    :meth:`explain` shows both parts of a score. With ``feedback="implicit"`` (data
    without ratings) only the preference part is fitted, and :meth:`predict` gives its
    scores, not ratings. ``solver="als"``, ``"mu"`` or ``"pgd"`` replace the Bayesian
    rating part by a single penalized fit (:class:`~nmfrec.MaskedNMF`), faster and with
    penalties you choose; ``ranking="rating"`` ranks by predicted rating instead.

    Policies
    --------
    * **Ids.** Users and items are raw labels (ints or strings) as in the training frame;
      with a scipy sparse matrix they are its row and column indices. Inner indices are
      never exposed. Asking for an id of the other kind (``recommend(1)`` when the ids
      are strings) is a ``KeyError`` that says which kind the ids are, with examples.
    * **Rating predictions** (:meth:`predict`) are clipped to the training rating range
      ``rating_range_`` by default (``clip=False`` gives the raw score).
    * **Missing titles** are None in ``item_titles_`` and NA in the ``title`` column.
    * **Items by title.** With titles set, :meth:`predict`, :meth:`explain`,
      :meth:`similar_items` and the keys of :meth:`recommend_new`'s ratings take an
      item's title for its id (``similar_items("Star Wars (1977)")``). An id always wins
      over a title spelled the same; a title several items share raises ``KeyError``
      listing their ids; an unknown string is unknown, with close titles suggested.
    * **Unknown users or items** in :meth:`predict` give NaN by default (a warning
      when the id is of the other kind, ``"196"`` for integer ids), or a ``KeyError``
      with ``unknown="raise"``. With
      ``unknown="baseline"`` they get a baseline instead: the item's mean training rating
      for an unknown user, the user's mean rating for an unknown item, the global mean
      when both are unknown; the means are damped by five pseudo-ratings at the global
      mean, so that an item rated once stays near it. :meth:`recommend`,
      :meth:`explain` and :meth:`similar_items` raise ``KeyError`` naming the id.
    * **Rankings** (:meth:`recommend`, :meth:`recommend_many`, :meth:`similar_items`,
      :meth:`top_items`) are ordered by score, highest first, ties broken by the lower
      inner item index (the order of sorted item labels after a DataFrame fit), so
      they are deterministic. Already rated items are excluded by default; an explicitly
      observed rating of 0 counts as rated.
    * **New users** are folded in without refitting: their factors in each part are the
      best ones for their ratings against the fitted item factors (:meth:`fold_in`,
      :meth:`recommend_new`, :meth:`update`).
    * **Model selection.** ``Recommender`` is a scikit-learn estimator: ``clone``,
      ``GridSearchCV``, ``cross_val_score`` and ``check_is_fitted`` work on it with a
      ratings frame as ``X``, scored by :meth:`score`.

    Parameters
    ----------
    n_components : int or None, default=None
        Rank of the rating part (of the only part with ``feedback="implicit"``): the
        number of taste components, offsets coming on top. None: from the data, for the
        Bayesian rating part ``0.17 * n_ratings^(1/3)`` (2 to 32; 8 on MovieLens 100K, 17
        on 1M; twice that, at least 8, with ``prior="ard"``), 30 with a penalized solver,
        and for implicit feedback the preference part's rank (``preference_components``).
    solver : {"gibbs", "als", "mu", "pgd"} or None, default=None
        How the rating part is fitted. ``"gibbs"``: Bayesian NMF by Gibbs sampling, the
        posterior average of many factorizations, with every prior scale drawn from the
        data (explicit feedback only). ``"als"`` (alternating non-negative least
        squares), ``"mu"`` (multiplicative updates), ``"pgd"`` (projected gradient,
        explicit feedback only): one factorization minimising the penalized objective of
        :class:`~nmfrec.MaskedNMF`, with the penalties below. None: ``"gibbs"`` for
        explicit feedback, ``"als"`` for implicit.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar"} or None, default=None
        Starting factors of the penalized fits: scaled random values, or the
        non-negative SVD start (NNDSVD; ``"a"`` fills its zeros with the mean, ``"ar"``
        with small random values). None: ``"random"`` for the preference part (and the
        only part of implicit feedback); for a penalized rating part ``"nndsvda"`` when
        the rank is below min(n_users, n_items), else ``"random"``.
    max_iter : int or None, default=None
        Maximum number of iterations of the penalized fits (one update of the user
        factors and one of the item factors each). A fit that stops here before ``tol``
        warns with a ``ConvergenceWarning``. None: 16 for the preference part, run in
        full (``tol=0``: the schedule its defaults were chosen with; more iterations
        overfit), 50 for a penalized rating part.
    tol : float or None, default=None
        The penalized fits stop when an iteration lowers the objective by less than this
        fraction of its value. 0 runs exactly ``max_iter`` iterations. None: 0 for the
        preference part, 1e-4 for a penalized rating part.
    l1_W : float, default=0.0
        Penalized rating part: L1 penalty on the user factors (times each user's number
        of ratings with ``reg_scale="count"``); larger values set more factors to zero.
    l2_W : float or None, default=None
        Penalized fits: L2 penalty on the user factors, scaled by ``reg_scale``. None:
        0.1 for explicit feedback (per rating); for implicit feedback the preference
        part's ``preference_l2``, per unit of a row's weight.
    l1_H : float, default=0.0
        Penalized rating part: L1 penalty on the item factors (times each item's number
        of ratings with ``reg_scale="count"``).
    l2_H : float or None, default=None
        Penalized fits: L2 penalty on the item factors, as ``l2_W``. None: 0.15 for
        explicit feedback, as ``l2_W`` for implicit.
    user_bias : bool or None, default=None
        Give each user an offset, a named part of every rating prediction: signed in the
        Bayesian rating part, non-negative in a penalized one. None: on for explicit
        feedback, off for implicit.
    item_bias : bool or None, default=None
        Give each item an offset, as ``user_bias`` does for users. None: on for explicit
        feedback, off for implicit.
    reg_scale : {"none", "count", "weight"} or None, default=None
        Penalized fits: ``"count"`` multiplies each user's (item's) penalties by its
        number of ratings (ALS-WR); ``"weight"`` by the total weight of its cells in the
        objective and by the targets' root mean square, so that the penalty is relative
        to the data (frequency-scaled regularization); ``"none"`` applies them as they
        are. None: ``"count"`` for explicit feedback, ``"weight"`` for implicit.
    feedback : {"explicit", "implicit"} or None, default=None
        ``"explicit"``: the values are ratings; a rating part predicts them and a
        preference part ranks. ``"implicit"``: the values are counts or confidences
        without a rating scale (clicks, plays); only the preference part is fitted and
        :meth:`predict` gives its scores, never clipped. None: from the table
        (:func:`~nmfrec.ratings.feedback_columns`): a rating column means
        ``"explicit"``; a table of only user and item columns (clicks) or with a count
        column (``plays``, ``count``, ...) means ``"implicit"``, and the fit says so once
        (:class:`~nmfrec.FeedbackWarning`). A count is a confidence, ``1 + log(1 +
        count)``; a click has confidence 1.
    n_samples : int or None, default=None
        Bayesian rating part: Gibbs sweeps after burn-in. None: the chain decides, from
        its own diagnostics: burn-in ends when the training error stops falling, and
        sampling when the average of the kept draws is within a few hundredths of a noise
        standard deviation of the posterior mean (Monte Carlo error from the draws'
        spread and autocorrelation); ``model_.n_samples_`` says how many it ran.
    prior : {"wishart", "ard"} or None, default=None
        Bayesian rating part: the prior of the taste components. ``"wishart"``: a
        Normal-Wishart with a learned mean and covariance (Salakhutdinov & Mnih), which
        shares strength between users of similar tastes. ``"ard"``: exponential priors
        with one learned rate per component, which switch off the components the data
        do not need and find sparse, genre-like tastes. None: ``"wishart"``; on small
        data (fewer than 50,000 ratings) the one with the lower RMSE on a held-out fifth
        of each user's ratings.
    ranking : {"preference", "rating", "popularity"} or None, default=None
        What :meth:`recommend` ranks by. ``"preference"``: the preference part's score.
        ``"rating"``: the predicted rating (explicit feedback; on real data this ranks
        poorly, favouring items with few, high ratings). ``"popularity"``: how often each
        item was chosen, the same for every user. None: ``"preference"``; on small data
        (fewer than 50,000 ratings) the one that ranks a held-out fifth of each user's
        ratings best, with the preference part kept unless another beats it clearly
        (then the fit says so, :class:`~nmfrec.FallbackWarning`): the model never ranks
        below popularity, nor at chance where the ratings carry what the choices do not.
    preference_components : int or None, default=None
        Rank of the preference part (explicit feedback with ``ranking="preference"``;
        the only part of implicit feedback, through ``n_components``). None:
        ``sqrt(n_ratings) / 3.5``, from 8 to 256 (at most min(n_users, n_items) - 1).
    preference_l2 : float or None, default=None
        L2 penalty of the preference part's factors, per unit of each row's weight (its
        cells' total weight in the objective) and of the targets' root mean square
        (``reg_scale="weight"``). None: ``0.09 / sqrt(ratings per item)``.
    alpha : float or None, default=None
        Preference part: an observed entry weighs ``1 + alpha * value``. None: 0 with
        ``preference="rating"``; with ``"binary"``, 0 for clicks (every click weighs 1),
        1 for counts (stored as ``log(1 + count)``) and for ratings.
    missing_weight : float in (0, 1] or None, default=None
        Preference part: the weight of every unrated item's zero. None: 8 times the
        density of the matrix (at most 1), so that a row's unrated cells together weigh
        about 8 times its rated ones.
    preference : {"binary", "rating"} or None, default=None
        Preference part: what a rated item is fitted to. ``"binary"``: 1 (Hu, Koren &
        Volinsky 2008). ``"rating"``: its rating, with the unrated items as zeros of
        weight ``missing_weight`` (Steck 2010). None: ``"rating"`` for explicit
        feedback, ``"binary"`` for implicit.
    n_init : int, default=1
        Penalized fits: number of fits from different random starts; the one with the
        lowest objective is kept. Only random starts differ (``init="random"`` or
        ``"nndsvdar"``).
    random_state : int, numpy Generator or None, default=None
        Seed of every random choice; the same seed gives identical models.
    n_threads : int or None, default=None
        Threads for the parallel kernels (fitting, fold-in, top-k); None uses numba's
        default. Results do not depend on it.
    dtype : {"float64", "float32"}, default="float64"
        Storage type of the ratings and factors (sums are accumulated in float64);
        float32 halves the memory.
    verbose : int, default=0
        ``>= 1`` shows progress bars while fitting (on stderr, or in a notebook).

    Notes
    -----
    The None defaults follow the data (:mod:`nmfrec._auto`): ranks grow with the number
    of ratings, the missing weight is relative to the density, the preference part's
    penalty to each row's weight, and the Bayesian part needs no penalty at all. Their
    constants were chosen on validation splits cut from the training data of MovieLens
    100K and 1M, ratings and clicks, and of small planted sets (never on test ratings).
    :meth:`resolved_params` shows the rules before a fit, and only the parameters a fit
    uses; ``fitted_params_`` the values the data chose.

    Attributes
    ----------
    model_ : BayesianNMF or MaskedNMF
        The rating part (the preference part with ``feedback="implicit"``): what
        :meth:`predict` uses. ``model_.W_`` are user factors (rows follow ``users_``),
        ``model_.components_`` item factors (columns follow ``items_``).
    ranking_model_ : MaskedNMF, BayesianNMF or PopularityPart
        The part :meth:`recommend`, :meth:`recommend_many`, :meth:`recommend_new` and
        :meth:`similar_items` rank with: the preference part, ``model_`` itself
        (``feedback="implicit"`` or ``ranking="rating"``), or item popularity.
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
        Mean rating of each item and user, damped toward ``global_mean_`` by five
        pseudo-ratings (``global_mean_`` where there is none): the
        ``unknown="baseline"`` fallbacks.
    item_titles_ : ndarray of object or None
        Title of each item (None where unknown), set by ``fit(item_titles=...)`` or
        :meth:`set_item_titles`; shown as a ``title`` column in rankings.
    columns_ : tuple of str
        The (user, item, rating) column names used by ``fit`` (None for the rating of a
        click table).
    feedback_ : {"explicit", "implicit"}
        What the fit took the values for (``feedback``, or what the table held).
    table_kind_ : {"ratings", "counts", "clicks"}
        What the training table held; counts are stored in ``ratings_`` as ``log(1 +
        count)``, and ratings given to :meth:`update` or :meth:`recommend_new` are
        taken the same way.
    ranking_ : {"preference", "rating", "popularity"}
        What :meth:`recommend` ranks by.
    fitted_params_ : dict
        The values the data chose for the automatic parameters (those shown as rules by
        :meth:`resolved_params`, the Gibbs sweeps the chain ran, and a held-out
        choice); :meth:`save` keeps them.
    held_out_ : dict or None
        On small data, the scores of the candidates checked on held-out ratings:
        ``"rmse"`` of each prior; 1 - the mean percentile rank of the relevant held-out
        items for each preference rank (``"rank"``, by rank) and each ranking
        (``"ranking"``); None when nothing was checked.

    Examples
    --------
    >>> import pandas as pd
    >>> from nmfrec import Recommender
    >>> df = pd.DataFrame({"user": [1, 1, 2, 2, 3], "item": ["a", "b", "a", "c", "b"],
    ...                    "rating": [5.0, 3.0, 4.0, 2.0, 1.0]})
    >>> rec = Recommender(n_components=2, preference_components=2, n_samples=20,
    ...                   random_state=0).fit(df)
    >>> rec.recommend(1, k=1)["item"].tolist()
    ['c']
    """

    # the arguments of fit and predict are options (columns, policies), not metadata for
    # scikit-learn's routing: no set_fit_request / set_predict_request (see ParamsBase)
    _takes_no_metadata = True

    _parameter_constraints = {
        **{name: ([Options(None)] + constraints
                  if name in ("n_components", "l2_W", "l2_H", "user_bias", "item_bias",
                              "reg_scale", "alpha", "missing_weight", "preference", "feedback",
                              "max_iter", "tol")
                  else constraints)
           for name, constraints in MaskedNMF._parameter_constraints.items()},
        "solver": [Options(None, "gibbs", *MAP_SOLVERS)],
        "n_samples": [Options(None), Interval("int", 1, None)],
        "ranking": [Options(None, *RANKINGS)],
        "prior": [Options(None, *PRIORS)],
        "preference_components": [Options(None), Interval("int", 1, None)],
        "preference_l2": [Options(None), Interval("real", 0, None)],
    }

    def __init__(self, n_components: int | None = None, *,
                 solver: Literal["gibbs", "als", "mu", "pgd"] | None = None,
                 init: Init | None = None, max_iter: int | None = None,
                 tol: float | None = None, l1_W: float = 0.0, l2_W: float | None = None,
                 l1_H: float = 0.0, l2_H: float | None = None, user_bias: bool | None = None,
                 item_bias: bool | None = None, reg_scale: RegScale | None = None,
                 feedback: Feedback | None = None, n_samples: int | None = None,
                 prior: Prior | None = None, ranking: Ranking | None = None,
                 preference_components: int | None = None,
                 preference_l2: float | None = None, alpha: float | None = None,
                 missing_weight: float | None = None, preference: Preference | None = None,
                 n_init: int = 1, random_state: Seed = None,
                 n_threads: int | None = None, dtype: FloatDType = "float64",
                 verbose: int | bool = 0) -> None:
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
        self.n_samples = n_samples
        self.prior = prior
        self.ranking = ranking
        self.preference_components = preference_components
        self.preference_l2 = preference_l2
        self.alpha = alpha
        self.missing_weight = missing_weight
        self.preference = preference
        self.n_init = n_init
        self.random_state = random_state
        self.n_threads = n_threads
        self.dtype = dtype
        self.verbose = verbose

    # ================================================================== fitting
    def fit(self, ratings: RatingsInput, user_col: str | None = None,
            item_col: str | None = None, rating_col: str | None = None, *,
            duplicates: Duplicates = "raise", item_titles: Titles | None = None) -> Self:
        """Fit the rating part and the preference part to a ratings table.

        Parameters
        ----------
        ratings : DataFrame (pandas, polars, Spark), pyarrow.Table, scipy sparse matrix or RatingsMatrix
            A frame has one ``(user, item, rating)`` per row (a polars or pyarrow table
            is converted by its library's ``to_pandas``). A Spark DataFrame is fitted
            on the Spark cluster, to the same model (see :mod:`nmfrec.spark`). A sparse
            matrix has users as rows and items as columns; its stored entries (explicit
            zeros too) are the ratings and the ids are the row and column indices.
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
        self.resolved_params()                # checks the parameters first
        R, kind = self._as_ratings(ratings, user_col, item_col, rating_col, duplicates)
        try:
            params, stats, rules = self._fit_params(kind, R)
            if self.feedback is None and kind != "ratings":
                fitted_as_clicks(kind, R.columns)
            held_out = None
            if R.nnz < auto.VALIDATE_BELOW and self._open_choices(params):
                if R.distributed:             # small: checked here, as a local fit is
                    small = R.collect()
                    R.unpersist()
                    R = small
                held_out = self._choose_on_held_out(R, params, stats)
            model, ranking_model = self._fit_parts(R, params, stats)
            if R.distributed:
                R = R.collect()               # serving excludes seen items: kept here
        finally:
            if R.distributed:
                R.unpersist()
        self.model_ = model
        self.ranking_model_ = ranking_model
        self.feedback_ = params["feedback"]
        self.table_kind_ = kind
        self.ranking_ = params.get("ranking") or "preference"
        self.held_out_ = held_out
        self.fitted_params_ = self._fitted_values(params, rules, held_out)
        self.users_ = R.users
        self.items_ = R.items
        self.columns_ = R.columns
        self.ratings_ = R.csr.copy()
        self.rating_range_ = R.rating_range
        self.global_mean_ = R.mean
        self.item_means_ = R.col_means(damping=BASELINE_DAMPING)
        self.user_means_ = R.row_means(damping=BASELINE_DAMPING)
        self.item_titles_ = None
        if item_titles is not None:
            self.set_item_titles(item_titles)
        return self

    def _fitted_values(self, params, rules, held_out):
        """The values the data chose: the parameters whose ``rules`` were evaluated, the
        number of Gibbs sweeps the chain ran, and what a held-out check chose."""
        names = list(rules)
        if held_out:
            names += [name for name, key in (("prior", "rmse"), ("ranking", "ranking"))
                      if key in held_out]
        out = {name: params[name] for name in names}
        if isinstance(out.get("n_samples"), auto.Rule):
            out["n_samples"] = int(self.model_.n_samples_)
        return out

    def _fit_parts(self, R, params, stats):
        """The rating part and the ranking part fitted to ``R`` (one and the same for
        implicit feedback or ``ranking="rating"``)."""
        model = self._new_model(params, stats.target_rms).fit(R)
        ranking = params.get("ranking") or "preference"
        if ranking == "popularity":
            return model, PopularityPart().fit(R)
        if self._has_preference_part(params):
            part = self._preference_part_params(params, stats.target_rms)
            return model, MaskedNMF(**part).fit(R)
        return model, model

    def _open_choices(self, params):
        """What a small fit may choose on held-out data (:class:`_auto.OpenChoices`): the
        parameters that say so are left to it (None)."""
        explicit = params["feedback"] == "explicit"
        gibbs = explicit and params["solver"] == "gibbs"
        ranks_by_preference = not explicit or self.ranking in (None, "preference")
        rank = "preference_components" if explicit else "n_components"
        return auto.OpenChoices(
            prior=gibbs and self.prior is None, rating_rank=self.n_components is None,
            ranking=self.ranking is None,
            rank=rank if ranks_by_preference and getattr(self, rank) is None else None)

    def _choose_on_held_out(self, R, params, stats):
        """On small data, choose what is left open among candidate parts on held-out
        ratings (:func:`_auto.choose_on_held_out`); ``params`` is updated in place with
        the choice. Returns the scores (``held_out_``)."""
        seed = self.random_state if isinstance(self.random_state, numbers.Integral) else 0
        return auto.choose_on_held_out(
            R, params, stats, self._open_choices(params),
            lambda p: self._new_model(p, stats.target_rms),
            lambda p: MaskedNMF(**self._preference_part_params(p, stats.target_rms)), seed)

    def resolved_params(self) -> dict[str, Any]:
        """The parameters a fit uses, with every None ("auto") value resolved to its rule.

        ``get_params()`` with each None replaced by its default for the chosen
        ``feedback``, ``solver`` and ``preference``, keeping only the parameters the
        model reads: e.g. the penalties are left out for the Bayesian rating part (it
        draws its own), and the preference part's parameters with ``ranking="rating"``.
        A default that follows the data (the ranks, the missing weight, the preference
        part's penalty, the number of Gibbs sweeps, and ``feedback`` itself) is shown as
        its rule, a string such as ``"8 * density, at most 1"``; after a fit,
        ``fitted_params_`` holds the values the data chose. With ``feedback=None`` the
        parameters are those of a ratings table (a click table fits implicit feedback).

        Returns
        -------
        dict

        Raises
        ------
        ValueError
            An invalid parameter, or a combination the model cannot fit
            (``solver="gibbs"`` or ``"pgd"`` with ``feedback="implicit"``).
        """
        params = self.get_params(deep=False)
        check_params(params, self._parameter_constraints)
        return self._resolve(params, params["feedback"])

    def _resolve(self, params, feedback):
        """``params`` (checked) resolved for ``feedback`` (None: from the data)."""
        params = dict(params)
        explicit = feedback != "implicit"
        solver = params["solver"] or ("gibbs" if explicit else "als")
        if not explicit and solver in ("gibbs", "pgd"):
            what = ("samples the rating model" if solver == "gibbs"
                    else "handles explicit feedback only")
            whose = ("with feedback='implicit'" if self.feedback == "implicit"
                     else "on a table without ratings (click data)")
            raise ValueError(f"solver={solver!r} {what}; {whose} use solver='als' or 'mu'.")
        params["solver"] = solver
        params["feedback"] = _FEEDBACK_RULE if feedback is None else feedback
        if solver == "gibbs":
            given = [name for name in _PENALTIES if params[name] != self._defaults()[name]]
            if given:
                values = ", ".join(f"{name}={params[name]!r}" for name in given)
                raise ValueError(
                    f"{' and '.join(given)} {'is a penalty' if len(given) == 1 else 'are penalties'}"
                    f" of a penalized rating part ({values}), which the Bayesian rating part "
                    "(solver='gibbs', the default) does not have: it draws how strongly to "
                    "shrink from the data. Pass solver='als' (or 'mu', 'pgd') to fit with "
                    "penalties; the preference part's penalty is preference_l2.")
        if explicit:
            auto_values = _AUTO_EXPLICIT_GIBBS if solver == "gibbs" else _AUTO_EXPLICIT_MAP
            params["ranking"] = params["ranking"] or "preference"
        else:
            auto_values = _AUTO_IMPLICIT
        used = list(_COMMON)
        used += _GIBBS if solver == "gibbs" else _MAP_OBJECTIVE + _MAP_FIT
        if explicit:
            used.append("ranking")
        preference_part = explicit and params["ranking"] == "preference"
        if preference_part:
            # the fit schedule is the preference part's unless a penalized rating part
            # reads it too (then each part has its own, see _preference_part_params)
            auto_values = {**_PREFERENCE_FIT, **auto_values, **_AUTO_PREFERENCE_PART}
            used += _PREFERENCE_PART + _MAP_FIT
        if preference_part or not explicit:
            params["preference"] = params["preference"] or auto_values["preference"]
            auto_values = {**auto_values, **_AUTO_IMPLICIT_OBJECTIVE[params["preference"]]}
            used += _IMPLICIT_OBJECTIVE
        for name, value in auto_values.items():
            if params.get(name) is None:
                params[name] = value
        return {name: value for name, value in params.items() if name in used}

    def _fit_params(self, kind, R):
        """The parameters of a fit to ``R``, a table of ``kind`` (see
        :data:`nmfrec.ratings.FEEDBACK_KINDS`), every rule evaluated on its statistics,
        and those statistics."""
        params = self.get_params(deep=False)
        feedback = self.feedback or _FEEDBACK_OF[kind]
        params = self._resolve(params, feedback)
        if feedback == "implicit" and self.alpha is None and kind in _AUTO_ALPHA:
            params["alpha"] = _AUTO_ALPHA[kind]
        rating_targets = params.get("preference") == "rating"
        stats = auto.DataStats(R.shape[0], R.shape[1], R.nnz,
                               math.sqrt(R.rows().mean_square()) if rating_targets else 1.0)
        rules = [name for name, value in params.items() if isinstance(value, auto.Rule)]
        if self.feedback is None:
            rules.append("feedback")
        for name, value in params.items():
            if isinstance(value, auto.Rule) and value.function is not None:
                params[name] = value(stats)
        return params, stats, rules

    @classmethod
    def _defaults(cls):
        return {name: p.default for name, p in
                inspect.signature(cls.__init__).parameters.items()}

    @staticmethod
    def _has_preference_part(params):
        """Whether a fit with ``params`` adds a preference part beside the rating part."""
        return params["feedback"] != "implicit" and params.get("ranking") in (None, "preference")

    @staticmethod
    def _new_model(params, target_rms=1.0):
        """The unfitted rating part (or, for implicit feedback, the only part), from
        parameters whose rules are evaluated (a penalty per unit of row weight is given
        in the targets' units, ``target_rms``)."""
        if params["solver"] == "gibbs":
            n_samples = params["n_samples"]
            return BayesianNMF(n_components=params["n_components"],
                               n_samples=None if isinstance(n_samples, auto.Rule) else n_samples,
                               prior=params["prior"],
                               user_bias=params["user_bias"], item_bias=params["item_bias"],
                               random_state=params["random_state"],
                               n_threads=params["n_threads"], dtype=params["dtype"],
                               verbose=params["verbose"])
        names = MaskedNMF().get_params(deep=False)
        part = {name: params[name] for name in names if name in params}
        if part.get("reg_scale") == "weight":
            part["l2_W"] = params["l2_W"] * target_rms
            part["l2_H"] = params["l2_H"] * target_rms
        return MaskedNMF(**part)

    def _preference_part_params(self, params, target_rms=1.0):
        """MaskedNMF parameters of the preference part (explicit feedback): its penalty is
        per unit of a row's weight and of the targets' scale ``target_rms``; its fit
        schedule ``_PREFERENCE_FIT`` unless ``init``, ``max_iter`` or ``tol`` are given."""
        l2 = params["preference_l2"] * target_rms
        fit = {name: value if getattr(self, name) is None else getattr(self, name)
               for name, value in _PREFERENCE_FIT.items()}
        return dict(n_components=params["preference_components"], solver="als", **fit,
                    l2_W=l2, l2_H=l2, reg_scale="weight", feedback="implicit",
                    alpha=params["alpha"], missing_weight=params["missing_weight"],
                    preference=params["preference"], n_init=params["n_init"],
                    random_state=params["random_state"], n_threads=params["n_threads"],
                    dtype=params["dtype"], verbose=params["verbose"])

    def _as_ratings(self, ratings, user_col, item_col, rating_col, duplicates):
        """The training data as a RatingsMatrix with labels and column names, and what it
        holds, one of :data:`nmfrec.ratings.FEEDBACK_KINDS` (count values are stored as
        their confidences, see :mod:`nmfrec._clicks`)."""
        dtype = np.dtype(self.dtype)
        if is_spark_frame(ratings):
            R = SparkRatings.from_frame(ratings, user_col, item_col, rating_col,
                                        duplicates=duplicates, dtype=dtype,
                                        feedback=self.feedback)
            return R, R.kind
        frame = to_pandas(ratings)
        if frame is not None:
            ucol, icol, vcol, kind = feedback_columns(frame, user_col, item_col, rating_col,
                                                      feedback=self.feedback)
            if kind == "clicks":
                frame, vcol = interactions_frame(frame, ucol, icol)
            R = RatingsMatrix.from_frame(frame, ucol, icol, vcol, duplicates=duplicates,
                                         dtype=dtype)
            if kind == "clicks":
                R = RatingsMatrix(R.csr, R.csc, R.users, R.items, (ucol, icol, None))
        elif sp.issparse(ratings) or isinstance(ratings, RatingsMatrix):
            R = (RatingsMatrix.from_sparse(ratings, dtype=dtype, name="ratings")
                 if sp.issparse(ratings) else ratings.astype(dtype)).with_labels()
            if R.columns is None:
                R = RatingsMatrix(R.csr, R.csc, R.users, R.items, ("user", "item", "rating"))
            kind = "ratings" if self.feedback != "implicit" else None
        else:
            raise TypeError(f"ratings must be {FRAME_TYPES} (user, item, rating), a Spark "
                            f"DataFrame, a scipy sparse matrix or a RatingsMatrix; got "
                            f"{type_name(ratings)}. For a dense array with NaN for missing, "
                            "use RatingsMatrix.from_dense(X).")
        if kind != "ratings":
            # implicit values: all ones are clicks, others counts (their confidences)
            kind = "clicks" if np.all(R.csr.data == 1) else "counts"
            if kind == "counts":
                R = R.map_values(confidence_values)
        return R, kind

    def set_item_titles(self, titles: Titles) -> Self:
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
    # a str is also a Sequence[str]: the scalar forms come first, so one id gives a float
    @overload
    def predict(self, user: Label, item: Label, *,  # type: ignore[overload-overlap]
                clip: bool = ..., unknown: Unknown = ..., user_col: str | None = ...,
                item_col: str | None = ..., return_std: Literal[False] = ...) -> float: ...
    @overload
    def predict(self, user: Label, item: Label, *,  # type: ignore[overload-overlap]
                clip: bool = ..., unknown: Unknown = ..., user_col: str | None = ...,
                item_col: str | None = ...,
                return_std: Literal[True]) -> tuple[float, float]: ...
    @overload
    def predict(self, user: Labels | Frame, item: Labels | None = ..., *, clip: bool = ...,
                unknown: Unknown = ..., user_col: str | None = ...,
                item_col: str | None = ..., return_std: Literal[False] = ...) -> FloatArray: ...
    @overload
    def predict(self, user: Labels | Frame, item: Labels | None = ..., *, clip: bool = ...,
                unknown: Unknown = ..., user_col: str | None = ...,
                item_col: str | None = ...,
                return_std: Literal[True]) -> tuple[FloatArray, FloatArray]: ...

    def predict(self, user: LabelOrLabels | Frame, item: LabelOrLabels | None = None, *,
                clip: bool = True, unknown: Unknown = "nan", user_col: str | None = None,
                item_col: str | None = None, return_std: bool = False
                ) -> float | FloatArray | tuple[float, float] | tuple[FloatArray, FloatArray]:
        """Predicted ratings (preference scores with ``feedback="implicit"``).

        ``predict(user, item)`` returns a float; ``predict(frame)`` one value per row of
        a frame with user and item columns, in row order; ``predict(users, items)`` with
        two equal-length sequences returns an array.

        The prediction is the rating part's value ``W_[u] . H[:, i]`` (offsets included;
        for the Bayesian rating part, the average over its posterior draws), clipped to
        ``rating_range_`` when ``clip``.

        Parameters
        ----------
        user : label, sequence of labels or DataFrame
            One user, the users of several pairs, or a frame of (user, item) pairs (a
            pandas or polars DataFrame, or a pyarrow Table).
        item : label or sequence of labels, optional
            The item(s) paired with ``user``, one per user; not with a frame. An item may
            be named by its title (see the class docstring).
        clip : bool, default=True
            Clip to the training rating range (ratings only; preference scores are never
            clipped).
        unknown : {"nan", "baseline", "raise"}, default="nan"
            Value for pairs whose user or item was not in the training data (or whose
            id is missing): NaN, or the baseline described in the class docstring
            (item mean, user mean, global mean); ``"raise"``: a ``KeyError``, the one
            :meth:`recommend` raises. An unknown id of the other kind than the
            training ids (``"196"`` when the user ids are integers) warns with that
            message under ``"nan"`` and ``"baseline"``: it is seldom meant.
        user_col, item_col : str, optional
            Columns of a frame; default: the names used in ``fit``, else the usual ones.
        return_std : bool, default=False
            Also return the standard deviation of each rating's predictive distribution
            (as scikit-learn's ``BayesianRidge``): the mixture, over the posterior draws,
            of each draw's normal distribution of the rating, whose spread is the
            draw's noise level for that user and item (see :meth:`predict_proba`). The
            standard deviation is that of the unclipped distribution; NaN for pairs of
            unknown ids. Only for the Bayesian rating part (the default model).

        Returns
        -------
        float or ndarray of float64
            With ``return_std``, a pair (mean, std) of such values.

        Raises
        ------
        KeyError
            ``unknown="raise"`` and a user or item is not in the training data.
        ValueError
            ``return_std`` with a model that has no posterior (implicit feedback or a
            penalized rating part).
        """
        self._check_fitted("predict")
        if return_std:
            _predictive.check_predictive(self, "predict(..., return_std=True)")
        u, i, scalar = self._pair_indices(user, item, unknown, user_col, item_col, "predict")
        ratings = self.predicts_ratings
        pred = np.full(u.shape, np.nan)
        std = np.full(u.shape, np.nan)
        known = (u >= 0) & (i >= 0)
        if known.any():
            pred[known] = self.model_.predict_entries(u[known], i[known])
            if return_std:
                std[known] = _predictive.mean_std(self.model_, u[known], i[known])[1]
        if unknown == "baseline":
            only_item = (u < 0) & (i >= 0)
            only_user = (u >= 0) & (i < 0)
            pred[only_item] = self.item_means_[i[only_item]]
            pred[only_user] = self.user_means_[u[only_user]]
            pred[(u < 0) & (i < 0)] = self.global_mean_
        if clip and ratings:  # preference scores are not ratings: never clipped
            lo, hi = self.rating_range_
            pred = np.clip(pred, lo, hi)
        if return_std:
            return (float(pred[0]), float(std[0])) if scalar else (pred, std)
        return float(pred[0]) if scalar else pred

    def _pair_indices(self, user, item, unknown, user_col, item_col, method):
        """Inner indices of the (user, item) pairs that ``predict`` and the predictive
        methods take (-1 for unknown ids, unless ``unknown="raise"``), and whether one
        pair was given as two scalars."""
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown must be one of {UNKNOWN_POLICIES}; got {unknown!r}.")
        if not self.predicts_ratings and unknown == "baseline":
            raise ValueError("unknown='baseline' falls back to mean ratings, which only "
                             "exist for feedback='explicit'; this model fits implicit "
                             "preferences.")
        frame = to_pandas(user)
        if frame is not None:
            if item is not None:
                raise TypeError(f"{method}(frame) takes no item argument; the items are a "
                                "column of the frame.")
            ucol, icol = self._frame_columns(frame, ("user", "item"), user_col, item_col)
            users, items = as_labels(frame[ucol]), as_labels(frame[icol])
            scalar = False
        else:
            if item is None:
                raise TypeError(f"{method} needs an item: {method}(user, item) or "
                                f"{method}(frame_with_user_and_item_columns).")
            scalar = np.ndim(user) == 0 and np.ndim(item) == 0
            users = as_labels(user)
            items = as_labels(item)
            if users.shape != items.shape:
                raise ValueError(f"user and item must have the same length; got {users.size} "
                                 f"users and {items.size} items.")
        missing = "raise" if unknown == "raise" else "negative"
        what = (f"{method} returns NaN for such ids (unknown='raise' raises instead)"
                if unknown == "nan" else f"{method} returns the baseline for such ids")
        u = (self.users_.index(users, missing, kind="user", warn=what) if users.size
             else np.zeros(0, np.int64))
        i = (item_indices(self, items, missing, warn=what) if items.size
             else np.zeros(0, np.int64))
        return u, i, scalar

    def predict_proba(self, user: LabelOrLabels | Frame, item: LabelOrLabels | None = None, *,
                      unknown: Unknown = "nan", user_col: str | None = None,
                      item_col: str | None = None) -> pd.DataFrame:
        """Probability of each rating value for (user, item) pairs.

        The predictive distribution of a rating is the mixture, over the Bayesian
        rating part's posterior draws, of each draw's normal distribution of the rating
        (its mean, and its noise level for that user and item); binned onto the rating
        values seen in the ratings (1..5, half stars, 1..10: the midpoints between
        adjacent values are the bin edges, and the tails beyond the lowest and highest
        midpoints go to the lowest and highest values).

        Parameters
        ----------
        user, item, user_col, item_col
            The pairs, as :meth:`predict` takes them.
        unknown : {"nan", "raise"}, default="nan"
            Pairs with an unknown user or item: a row of NaN, or a ``KeyError``.

        Returns
        -------
        pandas.DataFrame
            One row per pair, one column per rating value (ascending, named by the
            value); each row sums to one.

        Raises
        ------
        ValueError
            A model without a posterior (implicit feedback, or a penalized rating part:
            the default model has one), or ratings on a continuous scale.
        """
        self._check_fitted("predict_proba")
        _predictive.check_predictive(self, "predict_proba")
        if unknown not in ("nan", "raise"):
            raise ValueError(f"unknown must be 'nan' or 'raise'; got {unknown!r}.")
        values = _predictive.rating_values(self)
        u, i, _ = self._pair_indices(user, item, unknown, user_col, item_col, "predict_proba")
        P = np.full((u.size, values.size), np.nan)
        known = (u >= 0) & (i >= 0)
        if known.any():
            P[known] = _predictive.proba(self.model_, u[known], i[known], values)
        return pd.DataFrame(P, columns=pd.Index(values.tolist(), name="rating"))

    def predict_interval(self, user: LabelOrLabels | Frame,
                         item: LabelOrLabels | None = None, *, level: float = 0.9,
                         unknown: Unknown = "nan", user_col: str | None = None,
                         item_col: str | None = None) -> pd.DataFrame:
        """Shortest runs of adjacent rating values that hold a rating with probability
        at least ``level``.

        On a discrete rating scale, the interval of a pair is the shortest run of
        adjacent values whose probability under :meth:`predict_proba` is at least
        ``level``; among runs of that length that hold it, the one whose probability is
        nearest ``level`` (on a coarse scale, the interval that promises no more than it
        must). Its ``mass`` is that probability, ``level`` or more.

        Parameters
        ----------
        user, item, user_col, item_col
            The pairs, as :meth:`predict` takes them.
        level : float, default=0.9
            Probability the interval must hold, in (0, 1].
        unknown : {"nan", "raise"}, default="nan"
            Pairs with an unknown user or item: NaN, or a ``KeyError``.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower``, ``upper`` (rating values) and ``mass``, one row per pair.

        Raises
        ------
        ValueError
            ``level`` outside (0, 1], or a model :meth:`predict_proba` refuses.
        """
        if not (isinstance(level, numbers.Real) and 0.0 < level <= 1.0):
            raise ValueError(f"level must be a probability in (0, 1]; got {level!r}.")
        P = self.predict_proba(user, item, unknown=unknown, user_col=user_col,
                               item_col=item_col)
        return _predictive.shortest_intervals(P.to_numpy(), P.columns.to_numpy(dtype=float),
                                              float(level))

    @property
    def predicts_ratings(self) -> bool:
        """Whether :meth:`predict` returns ratings (explicit feedback) rather than
        preference scores (implicit feedback): evaluation scores RMSE only for the former.
        Fitted, what the fit chose (``feedback_``); before, what ``feedback`` says (with
        None, a table of ratings is assumed).
        """
        feedback = self.__dict__.get("feedback_", self.feedback)
        return feedback != "implicit"

    def _frame_columns(self, frame, roles, user_col=None, item_col=None, rating_col=None):
        """Columns of ``frame`` for ``roles``: the given names, else those of ``fit``
        when present, else the usual names."""
        fitted = dict(zip(("user", "item", "rating"), self.columns_))
        return resolve_columns(frame, user_col, item_col, rating_col, roles=roles,
                               prefer=fitted)

    def score(self, X: Frame, y: object = None) -> float:
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
        X : pandas.DataFrame, polars.DataFrame or pyarrow.Table
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
        frame = to_pandas(X)
        if frame is None:
            raise TypeError(f"score takes a ratings DataFrame; got {type_name(X)}. It takes "
                            f"{FRAME_TYPES}.")
        X = frame
        if len(X) == 0:
            raise ValueError("X is empty: there are no ratings to score.")
        if self.predicts_ratings:
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
    def recommend(self, user: Label, k: int = 10, exclude_seen: bool = True,
                  items: Labels | None = None, exclude: Labels | None = None, *,
                  explore: bool | float = False, random_state: Seed | None = None
                  ) -> pd.DataFrame:
        """Top-``k`` items for one known user.

        Items are ranked by the score of ``ranking_model_``: the preference part's
        (how likely the user is to pick the item and like it) unless the model ranks by
        predicted rating (``ranking="rating"``). With ``explore``, by one draw of the
        user's scores from that part's posterior instead (Thompson sampling, see
        :mod:`nmfrec._explore`): items the model is unsure of get their chance.

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
        explore : bool or float, default=False
            Rank by a draw from the posterior (Thompson sampling) instead of the fitted
            scores. True draws from the posterior approximation itself; a number is the
            factor on its covariance (0.5: half as bold, 0: the fitted ranking). The
            preference part's posterior is a Gaussian around each user's fitted row
            from the row's own normal equations, kept non-negative; the Bayesian rating
            part (``ranking="rating"``) ranks by one of its kept draws; popularity by
            a Gamma draw of each item's rate.
        random_state : int, numpy Generator or None, default=None
            Seed of the draw with ``explore``: the same seed gives the same list (each
            user has their own stream, so a user's list is the same here and in
            :meth:`recommend_many`). None: a fresh draw each call.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``score`` (the unclipped ranking score; with
            ``explore``, the drawn one), best first, ties by lower inner item index;
            plus ``title`` when titles are set.

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
        scale = explore_scale(explore)
        if scale:
            idx, scores, counts = explore_topk(self, np.array([u]), scale, random_state,
                                               allowed, ex_indptr, ex_indices, k)
        else:
            idx, scores, counts = self._topk(self.ranking_model_.W_[[u]],
                                             self._ranking_items(), allowed, ex_indptr,
                                             ex_indices, k)
        c = counts[0]
        return self._ranking_frame(idx[0, :c], {"score": scores[0, :c]})

    def recommend_many(self, users: Labels | None = None, k: int = 10,
                       exclude_seen: bool = True, items: Labels | None = None,
                       exclude: Labels | None = None, batch_size: int = 1024, *,
                       explore: bool | float = False, random_state: Seed | None = None
                       ) -> pd.DataFrame:
        """Top-``k`` items for many users, as one long frame.

        Equivalent to calling :meth:`recommend` for each user (same order, same scores,
        bitwise those of ``predict``: the same sums in the same order), computed
        ``batch_size`` users at a time in a parallel jitted kernel that scores 32 users
        against 512 items at a time and never holds more than ``batch_size x k`` results
        plus one such block per thread: no users x items array is built.

        Parameters
        ----------
        users : sequence of labels, optional
            Default: every known user, in inner-index order. Unknown users raise KeyError.
        k, exclude_seen, items, exclude
            As in :meth:`recommend`.
        batch_size : int, default=1024
            Users per kernel call.
        explore : bool or float, default=False
            As in :meth:`recommend`: each user's list ranked by their own draw (one
            Cholesky factorization per user with the preference part).
        random_state : int, numpy Generator or None, default=None
            As in :meth:`recommend`; each user's draw comes from their own stream of
            this seed, so a user's list does not depend on who else is in the batch.

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
        scale = explore_scale(explore)
        seed = base_seed(random_state) if scale else None
        # item factors coordinate-major (components_'s layout), for the blocked kernel
        Yt = np.ascontiguousarray(self.ranking_model_.components_)
        W = self.ranking_model_.W_
        out_u, out_i, out_s, out_r = [], [], [], []
        for start in range(0, uidx.size, batch_size):
            ub = uidx[start:start + batch_size]
            ex_indptr, ex_indices = self._seen_rows(ub, exclude_seen)
            if scale:
                idx, scores, counts = explore_topk(self, ub, scale, seed, allowed,
                                                   ex_indptr, ex_indices, k)
            else:
                idx, scores, counts = self._topk(W[ub], Yt, allowed, ex_indptr, ex_indices,
                                                 k, coordinate_major=True)
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

    def similar_items(self, item: Label, k: int = 10, items: Labels | None = None,
                      exclude: Labels | None = None) -> pd.DataFrame:
        """Items whose factors point the same way: cosine similarity of item factors.

        The factors are those of ``ranking_model_`` (the preference part by default,
        whose neighbours are items chosen by the same people: on MovieLens 100K they
        share more genres than the rating part's),
        ``sim(i, j) = q_i . q_j / (||q_i|| ||q_j||)``, and 0 when either item has
        all-zero factors (no NaN). The item itself is excluded.

        Parameters
        ----------
        item : label or title
            An item of the training data, or its title (see the class docstring).
        k : int, default=10
            Number of items.
        items, exclude : sequence of labels, optional
            Whitelist and blacklist, as in :meth:`recommend`.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``similarity`` (in [-1, 1]; in [0, 1] when the factors
            are non-negative), best first, ties by lower inner item index; plus ``title``
            when titles are set.
        """
        self._check_fitted("similar_items")
        k = check_positive_int(k, "k")
        i = item_number(self, item)
        # popularity is one number per item: neighbours come from the rating part then
        H = (self._ranking_items() if not isinstance(self.ranking_model_, PopularityPart)
             else np.ascontiguousarray(self.model_.components_.T)).astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", H, H))
        unit = np.divide(H, norms[:, None], out=np.zeros_like(H), where=norms[:, None] > 0)
        allowed = self._allowed(items, exclude)
        idx, scores, counts = self._topk(unit[[i]], unit, allowed, np.array([0, 1]),
                                         np.array([i]), k)
        c = counts[0]
        return self._ranking_frame(idx[0, :c], {"similarity": scores[0, :c]})

    def _ranking_items(self):
        """Item factors of the ranking part, row-major (n_items, n_factors)."""
        return np.ascontiguousarray(self.ranking_model_.components_.T)

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
        """The items rated by the users ``uidx``, as CSR arrays with sorted rows (read
        from ``ratings_``'s own arrays: no sparse fancy indexing, a few microseconds for
        one user)."""
        if not exclude_seen:
            return np.zeros(uidx.size + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        csr = self.ratings_
        if not csr.has_sorted_indices:
            csr.sort_indices()
        starts = csr.indptr[uidx].astype(np.int64)
        lens = csr.indptr[uidx + 1] - starts
        ex_indptr = np.zeros(uidx.size + 1, dtype=np.int64)
        np.cumsum(lens, out=ex_indptr[1:])
        if uidx.size == 1:
            return ex_indptr, csr.indices[starts[0]:starts[0] + lens[0]].astype(np.int64)
        pos = np.arange(ex_indptr[-1], dtype=np.int64) + np.repeat(starts - ex_indptr[:-1], lens)
        return ex_indptr, csr.indices[pos].astype(np.int64)

    def _topk(self, Q, Y, allowed, ex_indptr, ex_indices, k, coordinate_major=False):
        """Top-k of the rows of ``Q`` against the item factors ``Y``, (n_items, k), or
        (k, n_items) with ``coordinate_major`` (the blocked kernel, for many rows).
        Scores are bitwise ``predict``'s either way."""
        n_items = Y.shape[1] if coordinate_major else Y.shape[0]
        n = min(k, n_items)
        m = Q.shape[0]
        idx = np.empty((m, n), dtype=np.int64)
        scores = np.empty((m, n), dtype=np.float64)
        counts = np.empty(m, dtype=np.int64)
        args = (np.ascontiguousarray(Q), np.ascontiguousarray(Y), allowed,
                np.asarray(ex_indptr, dtype=np.int64), np.asarray(ex_indices, dtype=np.int64),
                idx, scores, counts)
        if coordinate_major:
            if m:
                with ThreadLimits(self.model_.n_threads, cap_blas=False):
                    topk_rows_blocked(*args)
        elif 0 < m < _SERIAL_TOPK_BELOW:
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
    def fold_in(self, ratings: NewRatings, duplicates: Duplicates = "raise") -> FloatArray:
        """Rating-part factors of a user who was not in the training data.

        Solved against the fitted item factors, held fixed (``model_.transform``): for a
        penalized rating part, exactly the row problem ALS solves for a training user;
        for the Bayesian one, each kept draw's posterior mode of the user's factors.

        Parameters
        ----------
        ratings : dict, pandas.Series, DataFrame or list
            Item label -> rating, or a frame with item and rating columns (pandas,
            polars or pyarrow). Items must be in the training data (named by id or, with
            titles set, by title); ratings finite and >= 0. For implicit feedback the
            values are counts (taken as the training table's were), and a list of items
            means one interaction with each.
        duplicates : {"raise", "last", "first", "mean"}, default="raise"
            For a frame or Series that rates an item more than once.

        Returns
        -------
        ndarray of shape (model_.n_factors_,)
        """
        self._check_fitted("fold_in")
        # np.asarray: scikit-learn's set_config(transform_output="pandas") may be on
        return np.asarray(self.model_.transform(self._new_user_row(ratings, duplicates)))[0]

    def recommend_new(self, ratings: NewRatings, k: int = 10, exclude_seen: bool = True,
                      items: Labels | None = None, exclude: Labels | None = None,
                      duplicates: Duplicates = "raise", *, explore: bool | float = False,
                      random_state: Seed | None = None) -> pd.DataFrame:
        """Top-``k`` items for a new user described by their ratings, without refitting.

        The user is folded into the ranking part (``ranking_model_.transform``) and
        ranked as :meth:`recommend` ranks a user with those factors.

        A visitor without ratings yet (``recommend_new({})``) gets the model's list for a
        newcomer: items ranked by the score a random known user gives them on average,
        the mean of the ranking part's user factors times each item's factors
        (``ranking_model_.W_.mean(axis=0) @ ranking_model_.components_``). It comes from
        the fitted model, as every other list does: with the default preference part,
        items that many users are likely to pick and to like come first, so it is
        popularity-aware without counting.

        Parameters
        ----------
        ratings : dict, pandas.Series, DataFrame or list
            The new user's ratings, item label (or title) -> rating, as :meth:`fold_in`
            takes them (for implicit feedback, a list of the items they chose); empty for
            a newcomer.
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
        explore : bool or float, default=False
            As in :meth:`recommend`: the new user's row is drawn around their folded-in
            row from the same posterior approximation (a newcomer's around the mean
            row, with the precision of a row without ratings).
        random_state : int, numpy Generator or None, default=None
            Seed of the draw with ``explore``, as in :meth:`recommend`.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``score``, best first; plus ``title`` when titles are set.

        Raises
        ------
        KeyError
            An item of ``ratings`` (or of the whitelist) is not in the training data.
        ValueError
            ``ratings`` holds invalid ratings, or ``k`` is not an integer >= 1.
        """
        self._check_fitted("recommend_new")
        k = check_positive_int(k, "k")
        allowed = self._allowed(items, exclude)
        ex_indptr, ex_indices = np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
        data = sp.csr_matrix((1, len(self.items_)))
        if hasattr(ratings, "__len__") and len(ratings) == 0:      # a newcomer
            W = self.ranking_model_.W_
            w = W.mean(axis=0, dtype=np.float64, keepdims=True).astype(W.dtype)
        else:
            row = self._new_user_row(ratings, duplicates)
            w = np.asarray(self.ranking_model_.transform(row))
            data = row.csr
            if exclude_seen:
                ex_indptr, ex_indices = row.csr.indptr, row.csr.indices
        scale = explore_scale(explore)
        if scale:
            idx, scores, counts = explore_topk(self, None, scale, random_state, allowed,
                                               ex_indptr, ex_indices, k, rows=(w, data))
        else:
            idx, scores, counts = self._topk(w, self._ranking_items(), allowed, ex_indptr,
                                             ex_indices, k)
        c = counts[0]
        return self._ranking_frame(idx[0, :c], {"score": scores[0, :c]})

    def user_factors(self, users: LabelOrLabels | None = None) -> FloatArray:
        """Rating-part factors of known users (rows of ``model_.W_``), a copy.

        Parameters
        ----------
        users : label or sequence of labels, optional
            Default: all users in inner-index order.

        Returns
        -------
        ndarray of shape (n_factors,) for one label, else (n_users, n_factors)
            One value per column of ``model_.W_``, named by ``model_.factor_names_``; the
            rating prediction is the dot product with :meth:`item_factors`.

        Raises
        ------
        KeyError
            A user is not in the training data.
        """
        self._check_fitted("user_factors")
        return _rows_of(self.model_.W_, self.users_, users, "user")

    def item_factors(self, items: LabelOrLabels | None = None) -> FloatArray:
        """Rating-part factors of known items (columns of ``model_.components_``), a copy.

        Parameters
        ----------
        items : label or sequence of labels, optional
            Default: all items in inner-index order.

        Returns
        -------
        ndarray of shape (n_factors,) for one label, else (n_items, n_factors)
            One value per column of ``model_.W_``; see :meth:`user_factors`.

        Raises
        ------
        KeyError
            An item is not in the training data.
        """
        self._check_fitted("item_factors")
        return _rows_of(np.ascontiguousarray(self.model_.components_.T), self.items_, items,
                        "item")

    def _as_stored(self, R):
        """New ratings in the form ``ratings_`` holds them: counts as their confidences
        (``table_kind_ == "counts"``, see :mod:`nmfrec._clicks`), others as given."""
        return R.map_values(confidence_values) if self.table_kind_ == "counts" else R

    def _new_user_row(self, ratings, duplicates):
        table = None if isinstance(ratings, (dict, pd.Series)) else to_pandas(ratings)
        if (table is None and self.feedback_ == "implicit"
                and isinstance(ratings, (list, tuple, set, np.ndarray))):
            ratings = dict.fromkeys(ratings, 1.0)      # the items a new user chose
        if isinstance(ratings, dict):
            frame = pd.DataFrame({"item": list(ratings.keys()), "rating": list(ratings.values())})
        elif isinstance(ratings, pd.Series):
            frame = pd.DataFrame({"item": as_labels(ratings.index),
                                  "rating": ratings.to_numpy()})
        elif table is not None:
            icol, rcol = self._frame_columns(table, ("item", "rating"))
            frame = pd.DataFrame({"item": table[icol].to_numpy(),
                                  "rating": table[rcol].to_numpy()})
        else:
            raise TypeError("ratings must be a dict or Series (item -> rating), or "
                            f"{FRAME_TYPES} with item and rating columns; got "
                            f"{type_name(ratings)}.")
        if len(frame) == 0:
            raise ValueError("ratings is empty: a new user needs at least one rating to be "
                             "folded in (recommend_new({}) ranks for a newcomer).")
        frame["user"] = 0
        frame["item"] = item_labels(self, frame["item"].to_numpy())   # titles -> ids
        try:
            return self._as_stored(RatingsMatrix.from_frame(
                frame, "user", "item", "rating", duplicates=duplicates,
                dtype=self.model_.components_.dtype, users=Vocabulary(np.array([0])),
                items=self.items_))
        except KeyError as e:
            raise KeyError(_no_new_items(e, close_titles(self, frame["item"].to_numpy()))) from None

    def update(self, ratings: Frame, user_col: str | None = None, item_col: str | None = None,
               rating_col: str | None = None, *, duplicates: Duplicates = "raise") -> Self:
        """Add ratings of existing or new users and re-solve those users' factors.

        The new ratings are merged into ``ratings_`` (a pair already rated takes the new
        value); every user in ``ratings`` then gets, in each part, the factors
        :meth:`fold_in` would give for all of that user's ratings. New users are appended
        to ``users_``. Item factors, item means, ``rating_range_`` and ``global_mean_``
        are left as fitted: only a refit moves them.

        Items that were not in the training data are rejected with a KeyError: their
        factors do not exist, and making them would need the item side of the fit.

        Parameters
        ----------
        ratings : pandas.DataFrame, polars.DataFrame or pyarrow.Table
            One (user, item, rating) per row, columns as in :meth:`fit`.
        user_col, item_col, rating_col, duplicates
            As in :meth:`fit` (``duplicates`` applies within ``ratings``).

        Returns
        -------
        self
        """
        self._check_fitted("update")
        ratings = as_frame(ratings, "ratings")
        if self.feedback_ == "implicit":
            # clicks (no value column) or counts, as the training table held them
            fitted = dict(zip(("user", "item", "rating"), self.columns_))
            ucol, icol, rcol, kind = feedback_columns(ratings, user_col, item_col, rating_col,
                                                      feedback="implicit", prefer=fitted)
            if kind == "clicks":
                ratings, rcol = interactions_frame(ratings, ucol, icol)
        else:
            ucol, icol, rcol = self._frame_columns(ratings, ("user", "item", "rating"),
                                                   user_col, item_col, rating_col)
        try:
            R = self._as_stored(RatingsMatrix.from_frame(
                ratings, ucol, icol, rcol, duplicates=duplicates, dtype=self.ratings_.dtype,
                items=self.items_))
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
        for part in self._parts():
            part.refit_rows(sub, touched)
        self.users_ = users
        self.ratings_ = merged.csr
        self.user_means_ = merged.row_means(self.global_mean_, damping=BASELINE_DAMPING)
        return self

    # ================================================================== explanations
    @property
    def component_names_(self) -> list[str]:
        """Names of the additive parts :meth:`explain` shows.

        The rating part's (``model_``): its components ``c0 .. c{k-1}``, then
        ``user_bias`` and ``item_bias`` (the offsets); then, when the model ranks with a
        separate preference part, that part's components ``p0 .. p{k-1}``.
        """
        self._check_fitted("component_names_")
        names = list(_distinct(self.model_.factor_names_))
        if self.ranking_model_ is not self.model_:
            names += [_preference_name(n) for n in _distinct(self.ranking_model_.factor_names_)]
        return names

    def explain(self, user: Label, item: Label, spread: bool = False) -> pd.DataFrame:
        """Split the scores of (user, item) into named additive parts.

        The rating prediction splits into the user's and the item's offsets (signed) and
        one non-negative part per taste component: part ``c_j`` is
        ``W[u, j] * H[j, i]``, averaged over the posterior draws for the Bayesian rating
        part. The parts sum to the *unclipped* prediction ``predict(user, item,
        clip=False)`` (to rounding). When the model ranks with a separate preference
        part, the rows with ``part == "preference"`` split the ranking score the same
        way, into non-negative parts ``p_j``: they say which tastes put the item in the
        user's recommendations (``attrs["ranked_by"]``).

        Parameters
        ----------
        user, item : labels of a known user and item
            The item may be named by its title (see the class docstring).
        spread : bool, default=False
            Add a column ``sd``: the standard deviation of each rating part's
            contribution over the posterior draws (how sure the model is of it), NaN on
            preference rows (one penalized fit, no posterior). Only for the Bayesian
            rating part (the default model).

        Returns
        -------
        pandas.DataFrame
            Columns ``part`` (``"rating"`` or ``"preference"``; only ``"preference"``
            with ``feedback="implicit"``), ``component`` (name), ``contribution`` and
            ``share`` (contribution / the part's total; 0 when the total is 0); with
            ``spread``, ``sd``. Rows
            are grouped by part, rating first, each sorted by contribution, largest first
            (ties in component order). ``attrs``: ``"prediction"`` (unclipped) and
            ``"clipped"``, ``"ranking_score"``, and ``"ranked_by"`` (the part that orders
            :meth:`recommend`).
        """
        self._check_fitted("explain")
        u = self.users_.number(user, kind="user")
        i = item_number(self, item)
        first = "rating" if self.predicts_ratings else "preference"
        frames = [_parts_frame(self.model_, u, i, first, lambda n: n)]
        total = float(self.model_.predict_entries(np.array([u]), np.array([i]))[0])
        ranking_score = total
        if self.ranking_model_ is not self.model_:
            frames.append(_parts_frame(self.ranking_model_, u, i, "preference",
                                       _preference_name))
            ranking_score = float(self.ranking_model_.predict_entries(np.array([u]),
                                                                      np.array([i]))[0])
        frame = pd.concat(frames, ignore_index=True)
        if spread:
            _predictive.check_predictive(self, "explain(..., spread=True)")
            sd = _predictive.part_spread(self.model_, u, i)
            frame["sd"] = [sd[c] if p == "rating" else np.nan
                           for p, c in zip(frame["part"], frame["component"])]
        lo, hi = self.rating_range_
        frame.attrs["prediction"] = total
        frame.attrs["clipped"] = float(np.clip(total, lo, hi)) if self.predicts_ratings else total
        frame.attrs["ranking_score"] = ranking_score
        frame.attrs["ranked_by"] = ("preference" if self.ranking_model_ is not self.model_
                                    else first)
        return frame

    def top_items(self, component: int | str, n: int = 10) -> pd.DataFrame:
        """The items that weigh most in one component: what the component "means".

        Parameters
        ----------
        component : int or str
            Index into ``component_names_`` or a name from it: a rating-part component
            (``"c3"``, the weights averaged over posterior draws for the Bayesian part),
            an offset (``"item_bias"``), or a preference-part component (``"p3"``).
        n : int, default=10
            Number of items.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``weight`` (the item's factor in that component),
            largest first, ties by lower inner item index; plus ``title`` when titles
            are set.
        """
        self._check_fitted("top_items")
        n = check_positive_int(n, "n")
        names = self.component_names_
        if isinstance(component, str):
            if component not in names:
                raise KeyError(f"component {component!r} does not exist; the components are "
                               f"{names[0]!r} .. {names[-1]!r}.")
            name = component
        elif isinstance(component, numbers.Integral) and not isinstance(component, bool):
            if not 0 <= component < len(names):
                raise IndexError(f"component must be in [0, {len(names) - 1}]; got {component}.")
            name = names[int(component)]
        else:
            raise TypeError(f"component must be an int or a name; got {component!r}.")
        model, own = self.model_, name
        if self.ranking_model_ is not self.model_ and name.startswith("p"):
            model, own = self.ranking_model_, "c" + name[1:]
        rows = np.asarray(model.factor_names_) == own
        weights = np.asarray(model.components_[rows], dtype=np.float64).mean(axis=0)
        order = np.lexsort((np.arange(weights.size), -weights))[:n]
        return self._ranking_frame(order, {"weight": weights[order]})

    def _parts(self):
        """The fitted parts, rating part first, each once."""
        return [self.model_] if self.ranking_model_ is self.model_ else [self.model_,
                                                                          self.ranking_model_]

    # ================================================================== persistence
    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the fitted recommender to one portable ``.npz`` file (no pickle).

        The file holds every fitted part's factors and state, the training ratings (for
        ``exclude_seen``), the means, the vocabularies (int labels as an int array,
        strings as a unicode array), titles, and a JSON metadata entry (format name and
        version, nmfrec version, parameters, rating range, fit statistics) plus a SHA-256
        of all of it. It is written to a temporary file in the same directory and moved
        into place atomically, so an interrupted save never leaves a half-written model;
        the temporary files that saves killed part-way left in that folder are removed
        (never those of a save still running).

        Parameters
        ----------
        path : str or os.PathLike
            Destination, used as given (no suffix is added; ``.npz`` is conventional).

        Returns
        -------
        str
            The path written.

        Raises
        ------
        FileNotFoundError
            The folder of ``path`` does not exist (the message names it).
        """
        self._check_fitted("save")
        arrays = {
            "ratings_indptr": self.ratings_.indptr.astype(np.int64),
            "ratings_indices": self.ratings_.indices.astype(np.int64),
            "ratings_data": self.ratings_.data,
            "item_means": self.item_means_,
            "user_means": self.user_means_,
        }
        meta = {}
        for key, part in zip(("model", "ranking_model"), self._parts()):
            state = part.get_fitted_state()
            prefix = "" if key == "model" else "ranking__"
            values = {}
            for name, value in state.items():
                if isinstance(value, np.ndarray):
                    arrays[prefix + name] = value
                else:
                    values[name] = value
            meta[key] = {"kind": _KIND_OF[type(part)], "params": _part_params(part),
                         **values}
        labels_meta = {}
        for role, vocab in (("user", self.users_), ("item", self.items_)):
            arrays[f"{role}_labels"], labels_meta[role] = encode_labels(vocab)
        if self.item_titles_ is not None:
            missing = np.array([t is None for t in self.item_titles_], dtype=bool)
            arrays["item_titles"] = np.array(["" if t is None else t for t in self.item_titles_],
                                             dtype=str)
            arrays["item_titles_missing"] = missing
        meta.update({
            "params": json_params(self.get_params(deep=False)),
            "labels": labels_meta,
            "columns": list(self.columns_),
            "rating_range": [float(x) for x in self.rating_range_],
            "global_mean": float(self.global_mean_),
            "n_users": len(self.users_),
            "n_items": len(self.items_),
            "has_titles": self.item_titles_ is not None,
            "feedback": self.feedback_,
            "table_kind": self.table_kind_,
            "ranking": self.ranking_,
            "fitted_params": json_params(self.fitted_params_),
            "held_out": self.held_out_,
        })
        meta.setdefault("ranking_model", None)
        return write_npz(path, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:

        """Read a recommender written by :meth:`save`.

        Files written by earlier nmfrec versions load as they were saved (a version-1
        file, from before the preference part existed, ranks by predicted rating, as it
        did then).

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
            model, or a format version newer than this nmfrec reads.
        """
        meta, arrays = read_npz(path)
        try:
            return cls._from_file(upgrade(meta, arrays), arrays)
        except Exception as e:  # a consistent checksum over inconsistent contents
            raise ValueError(f"{path}: corrupted or inconsistent model file "
                             f"({type(e).__name__}: {e}).") from e

    @classmethod
    def _from_file(cls, meta, arrays):
        rec = cls(**meta["params"])
        params = rec.resolved_params()
        n_users, n_items = meta["n_users"], meta["n_items"]
        parts = []
        for key, prefix in (("model", ""), ("ranking_model", "ranking__")):
            info = meta.get(key)
            if info is None:
                continue
            state = {name: value for name, value in info.items()
                     if name not in ("kind", "params")}
            state.update({name[len(prefix):]: value for name, value in arrays.items()
                          if name.startswith(prefix) and name[len(prefix):] in _STATE_ARRAYS})
            if "params" in info:           # format 2 (upgraded) and later: as fitted
                part = _PART_OF[info["kind"]](**info["params"])
            else:                          # format 1: one penalized model
                part = rec._new_model(params)
            if _KIND_OF[type(part)] != info["kind"]:
                raise ValueError(f"the {key} is a {info['kind']!r} model but the parameters "
                                 f"make a {_KIND_OF[type(part)]!r} one")
            part.set_fitted_state(state)
            if part.W_.shape[0] != n_users or part.components_.shape[1] != n_items:
                raise ValueError(f"factor shapes {part.W_.shape}, {part.components_.shape} "
                                 f"do not match {n_users} users and {n_items} items")
            parts.append(part)
        rec.model_ = parts[0]
        rec.ranking_model_ = parts[-1]
        rec.feedback_ = meta["feedback"]
        rec.table_kind_ = meta["table_kind"]
        rec.ranking_ = meta["ranking"]
        rec.fitted_params_ = meta["fitted_params"]
        rec.held_out_ = auto.held_out_from_json(meta.get("held_out"))
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
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True           # fit takes a users x items sparse matrix
        return tags

    def __sklearn_is_fitted__(self):
        return "model_" in self.__dict__

    def _check_fitted(self, what):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"This Recommender instance is not fitted yet; call fit "
                                 f"before {what}.")


#: How a model file names the kind of each fitted part, and back.
_KIND_OF = {MaskedNMF: "masked_nmf", BayesianNMF: "bayesian_nmf", PopularityPart: "popularity"}
_PART_OF = {kind: part for part, kind in _KIND_OF.items()}

#: Arrays of the parts' fitted states (``get_fitted_state``) that a model file holds.
_STATE_ARRAYS = ("W", "H_t", "loss_history", "noise_precision", "row_prior_precision",
                 "row_prior_linear", "train_rmse", "counts", "row_noise_weight",
                 "col_noise_weight", "noise_weight_shape")


def _part_params(part):
    """A fitted part's parameters as a model file stores them (plain JSON values)."""
    return json_params(part.get_params(deep=False)) if hasattr(part, "get_params") else {}


def _distinct(names):
    """``names`` without repeats, in first-seen order."""
    return dict.fromkeys(names)


def _preference_name(name):
    """How a preference-part factor is named beside the rating part's: ``c3 -> p3``."""
    return "p" + name[1:] if name.startswith("c") else "preference_" + name


def _parts_frame(model, u, i, part, rename):
    """One part's contributions to the score of (u, i), summed by factor name."""
    products = (model.W_[u] * model.components_[:, i]).astype(np.float64)
    names = np.asarray(model.factor_names_)
    distinct = list(_distinct(model.factor_names_))
    contribution = np.array([products[names == n].sum() for n in distinct])
    total = float(contribution.sum())
    share = contribution / total if total > 0 else np.zeros_like(contribution)
    frame = pd.DataFrame({"part": part, "component": [rename(n) for n in distinct],
                          "contribution": contribution, "share": share})
    return frame.sort_values("contribution", ascending=False, kind="stable",
                             ignore_index=True)


def _no_new_items(err, hint=""):
    msg = err.args[0] if err.args else str(err)
    return (f"{msg}{hint}; item factors are fixed after fit, so ratings of items unseen at "
            "fit cannot be folded in. Refit to include new items.")


def _rows_of(factors, vocab, labels, kind):
    """Copy of the rows of ``factors`` for ``labels`` (all rows when None)."""
    if labels is None:
        return factors.copy()
    if np.ndim(labels) == 0:
        return factors[vocab.number(labels, kind=kind)].copy()
    return factors[vocab.index(as_labels(labels), kind=kind)].copy()

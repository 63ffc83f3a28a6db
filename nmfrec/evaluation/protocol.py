"""The offline protocols, for any model with the public surface.

The protocols call only ``fit``, ``predict`` and ``recommend_many`` (or ``recommend``),
so nmfrec's Recommender, the baselines of :mod:`nmfrec.evaluation.baselines` and a peer
wrapped in a thin adapter are scored by the same code.

Protocol A (rating prediction): fit on train, predict every test rating, clip the
predictions to the train rating range, RMSE and MAE over the test ratings. It runs only
for models whose ``predict`` returns ratings (see :func:`predicts_ratings`); for any
other model it is skipped, with a warning and a ``skipped`` entry in the result that
says why.

Protocol B (top-k ranking): for each test user, candidates are the train items minus the
user's own train items; relevant items are the user's test items rated at least
``relevance_threshold``; users without a relevant test item are skipped; precision@k
(hits/k), recall@k, NDCG@k, MAP@k, hit rate@k, means over users; catalog coverage@k over
the train items. Several list lengths (``k=(10, 20)``) are scored from one list.

Protocol C (click data: frames of clicks or interaction counts, as
:func:`nmfrec.ratings.feedback_columns` tells them from ratings, or
``relevance_threshold=None``): candidates as in B, every held-out interaction relevant,
the metrics of B; the rating protocol is skipped, saying why.

Frames may name their columns as ``Recommender.fit`` accepts them (``user``/``userId``,
``item``/``movieId``, ``rating``, ...); the model is fitted and queried with those
columns renamed ``user``, ``item``, ``rating``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence

from dataclasses import dataclass
from numbers import Integral
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from .._validation import check_positive_int, show
from ..exceptions import ProtocolSkippedWarning
from . import metrics as _m
from ._frames import canonical, checked_frame, frame_columns
from .splits import cold_start_report

if TYPE_CHECKING:
    from .._typing import Frame, Labels

__all__ = [
    "SupportsPredict",
    "SupportsRecommend",
    "predicts_ratings",
    "evaluate",
    "cross_validate",
    "CVResult",
]

PROTOCOLS: tuple[Literal["rating", "ranking"], ...] = ("rating", "ranking")
MISSING = ("baseline", "global_mean", "ignore", "error")

#: Pseudo-count of the damped item means that stand in for missing predictions.
BASELINE_DAMPING = 5.0


class _SupportsFit(Protocol):
    """What both protocols need: ``fit(train)``."""

    def fit(self, train: pd.DataFrame) -> Any:
        """Learn from the training ratings.

        Parameters
        ----------
        train : pandas.DataFrame
            Columns ``user``, ``item``, ``rating`` (and the caller's other columns).

        Returns
        -------
        object
            The model itself, by convention.
        """


@runtime_checkable
class SupportsPredict(_SupportsFit, Protocol):
    """What protocol A (rating prediction) needs.

    ``fit(train)`` takes a ratings frame with columns ``user, item, rating`` (and any
    other columns of the caller's frame, such as ``timestamp``) and returns the model;
    ``predict(pairs)`` takes a frame with ``user`` and ``item`` columns and returns one
    float per row, NaN where the model cannot predict.

    A model whose ``predict`` returns something other than ratings (preference or
    relevance scores) says so with an attribute ``predicts_ratings = False`` (a class
    attribute, a property or an attribute set by ``fit``); protocol A then skips it.
    Without the attribute, a model with ``predict`` is taken to predict ratings.
    """

    def predict(self, pairs: pd.DataFrame) -> Any:
        """Predicted ratings of (user, item) pairs.

        Parameters
        ----------
        pairs : pandas.DataFrame
            Columns ``user`` and ``item``, one pair per row.

        Returns
        -------
        array-like of float, shape (len(pairs),)
            NaN where the model cannot predict (an unknown user or item).
        """


@runtime_checkable
class SupportsRecommend(_SupportsFit, Protocol):
    """What protocol B (top-k ranking) needs (besides ``fit``).

    ``recommend_many(users, k, exclude_seen=True)`` returns a frame with a user column,
    an item column (named as ``Recommender.fit`` accepts them, e.g. ``user`` and
    ``item``) and optionally ``score`` and ``rank`` (rank 1 is best; without it the rows
    of each user are taken in rank order), at most ``k`` rows per user, none of them an
    item the user rated in train. A model without ``recommend_many`` may instead offer
    ``recommend(user, k)`` returning a frame with an item column in rank order, which
    the protocol calls once per user.
    """

    def recommend_many(self, users: Labels, k: int, exclude_seen: bool = True) -> pd.DataFrame:
        """The top-``k`` items of each user, as one long frame.

        Parameters
        ----------
        users : sequence of labels
            Users of the training data.
        k : int
            Largest number of items per user.
        exclude_seen : bool, default True
            Leave out the items each user rated in training (the protocol asks for
            True).

        Returns
        -------
        pandas.DataFrame
            A user and an item column, optionally ``score`` and ``rank`` (1 = best).
        """


#: Old Protocol name -> (new name, why it changed).
_DEPRECATED = {
    "Recommender": ("SupportsRecommend", "so that it is not mistaken for nmfrec.Recommender"),
    "RatingPredictor": ("SupportsPredict", "like Recommender -> SupportsRecommend"),
}


def _deprecated_alias(module_name, name):
    """The renamed Protocol behind an old name, with a ``DeprecationWarning``.

    Parameters
    ----------
    module_name : str
        The module whose attribute was asked for (for the message).
    name : str
        The attribute asked for.

    Returns
    -------
    type
        The Protocol under its new name (``_DEPRECATED[name][0]``).

    Raises
    ------
    AttributeError
        ``name`` is not an old name.
    """
    if name not in _DEPRECATED:
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
    new, why = _DEPRECATED[name]
    warnings.warn(f"{module_name}.{name} is deprecated and will be removed; use "
                  f"{module_name}.{new} (renamed {why}).", DeprecationWarning, stacklevel=3)
    return globals()[new]


def __getattr__(name):
    return _deprecated_alias(__name__, name)


def predicts_ratings(model: object) -> bool:
    """Whether protocol A may score ``model``: does its ``predict`` return ratings?

    The convention, duck-typed like the rest of the protocol: a model without a callable
    ``predict`` does not predict ratings; a model with one does, unless it has an
    attribute ``predicts_ratings`` that is False. The attribute may be a class attribute,
    a property (e.g. ``return self.feedback != "implicit"`` for a model whose ``predict``
    returns preference scores in one of its modes) or an attribute set by ``fit``; it is
    read after ``fit``.

    Parameters
    ----------
    model : object
        A model, fitted or not.

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        ``model.predicts_ratings`` exists but is not a bool (e.g. a method, which would
        always look true).
    """
    if not callable(getattr(model, "predict", None)):
        return False
    flag = getattr(model, "predicts_ratings", True)
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(f"{type(model).__name__}.predicts_ratings must be True or False (a "
                        f"class attribute, a property or a fitted attribute); got {flag!r}.")
    return bool(flag)


def _why_no_ratings(model):
    name = type(model).__name__
    if not callable(getattr(model, "predict", None)):
        return f"{name} has no predict method"
    return (f"{name}.predict does not return ratings ({name}.predicts_ratings is False), "
            "so RMSE and MAE would compare scores with ratings")


def _recommend(model, users, k):
    """Call the model's batch or single-user recommend; return a frame user, item, rank."""
    if hasattr(model, "recommend_many"):
        recs = model.recommend_many(users, k=k, exclude_seen=True)
        where = f"{type(model).__name__}.recommend_many"
        cols = frame_columns(recs, f"the frame returned by {where}", ("user", "item"),
                             allow_empty=True)
        recs = canonical(recs, cols)
        if "rank" not in recs.columns:
            # rows are taken in the order given, per user
            recs = recs.assign(rank=recs.groupby("user", sort=False).cumcount() + 1)
        return recs[["user", "item", "rank"]]
    if hasattr(model, "recommend"):
        where = f"{type(model).__name__}.recommend"
        frames = []
        for u in users:
            r = model.recommend(u, k)
            col = frame_columns(r, f"the frame returned by {where}({show(u)}, {k})", ("item",),
                                allow_empty=True)["item"]
            frames.append(
                pd.DataFrame(
                    {"user": u, "item": r[col].to_numpy(), "rank": np.arange(1, len(r) + 1)}
                )
            )
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            {"user": [], "item": [], "rank": []}
        )
    raise TypeError(
        f"{type(model).__name__} has neither recommend_many nor recommend, so it cannot "
        "be scored by the ranking protocol; pass protocols=('rating',)."
    )


def _group_lists(frame, users, col, order=None):
    """Per-user arrays of ``frame[col]`` aligned with ``users`` (empty where absent)."""
    pos = pd.Index(users).get_indexer(frame["user"])
    if (pos < 0).any():
        bad = frame["user"].to_numpy()[pos < 0][0]
        raise ValueError(
            f"the model returned {int((pos < 0).sum())} recommendations for users it was "
            f"not asked about (e.g. user {show(bad)})."
        )
    keys = (pos,) if order is None else (order, pos)
    idx = np.lexsort(keys)
    values = frame[col].to_numpy()[idx]
    counts = np.bincount(pos, minlength=len(users))
    return np.split(values, np.cumsum(counts)[:-1])


def evaluate(
    model: SupportsPredict | SupportsRecommend,
    train: Frame,
    test: Frame,
    k: int | Sequence[int] = 10,
    relevance_threshold: float | None = 4.0,
    fit: bool = True,
    protocols: Sequence[Literal["rating", "ranking"]] = PROTOCOLS,
    missing: Literal["baseline", "global_mean", "ignore", "error"] = "baseline",
    *,
    user_col: str | None = None,
    item_col: str | None = None,
    rating_col: str | None = None,
) -> dict[str, Any]:
    """Score a model on one train/test split with the rating and the ranking protocol.

    Rating protocol (A): the model predicts every test pair; predictions are clipped to
    ``[min, max]`` of the train ratings; RMSE and MAE over the test ratings. Ranking
    protocol (B): for each test user with at least one relevant test item (rated
    ``>= relevance_threshold``) who is in train, the model's top ``k`` among the train
    items the user has not rated; precision@k (hits/k), recall@k (hits/relevant),
    NDCG@k (binary gains, ideal DCG over ``min(k, relevant)`` items), MAP@k and hit
    rate@k, means over users; catalog coverage@k (share of train items in at least one
    list).

    Click data (protocol C): frames without a rating column, by the rule of
    :func:`nmfrec.ratings.feedback_columns`: interaction counts (a count column such as
    ``plays``, given to the model as ``count``) or clicks (only user and item columns, a
    time column allowed); or ``relevance_threshold=None``. Every held-out interaction
    of a user is relevant; the candidates and metrics are those of protocol B (the
    published click-data tables report recall and NDCG at 20 and precision at 10:
    ``k=(10, 20)``). There are no ratings to predict, so the rating protocol is skipped,
    saying why. A frame with another column but no rating or count column (``stars``)
    is refused rather than scored as clicks.

    Parameters
    ----------
    model : SupportsPredict and/or SupportsRecommend
        Any object with ``fit``/``predict`` (rating protocol) and ``recommend_many`` or
        ``recommend`` (ranking protocol); see :class:`SupportsPredict` and
        :class:`SupportsRecommend`. It is fitted on ``train`` and queried with frames
        whose user, item and rating columns are named ``user``, ``item``, ``rating``
        (counts: ``user``, ``item``, ``count``; clicks: ``user`` and ``item``).
    train, test : DataFrame
        Ratings frames with a user, an item and a rating column, named as
        ``Recommender.fit`` recognises them (``user``, ``userId``, ...; ``item``,
        ``movieId``, ...; ``rating``, ...) or as given by ``user_col``, ``item_col``,
        ``rating_col``. Click data has no rating column: a count column (``plays``,
        ``count``, ``clicks``, ...) or none.
    k : int or sequence of int, default 10
        List length for the ranking metrics. Several lengths, e.g. ``(10, 20)``, score
        one list of the longest length at each of them; the ranking results are then
        keyed ``precision@10``, ``recall@20``, ... (with one int, ``precision``,
        ``recall``, ...).
    relevance_threshold : float or None, default 4.0
        A test item is relevant to its user when its rating is ``>=`` this. None: the
        data are clicks, and every test item is relevant (protocol C). Not read for
        click data (counts or clicks).
    fit : bool, default True
        Call ``model.fit(train)`` first; False scores an already fitted model.
    protocols : tuple of {"rating", "ranking"}, default both
        The protocols to run. The rating protocol is skipped, with a
        :class:`~nmfrec.exceptions.ProtocolSkippedWarning` (a ``UserWarning``) and an
        entry in ``skipped``, for a model whose ``predict`` does not return ratings
        (see :func:`predicts_ratings`) and for click data.
    missing : {"baseline", "global_mean", "ignore", "error"}, default "baseline"
        What to do with NaN predictions (a model that cannot predict a pair, e.g. for a
        user unknown to train): replace them by a baseline from the train ratings, the
        item's damped mean ``(sum + 5 mu) / (count + 5)`` (``mu``, the train mean, for an
        item unknown to train), the same for every model; or by ``mu``; leave them out of
        RMSE/MAE; or raise. Their number is reported as ``n_pred_missing`` in every case.
    user_col, item_col, rating_col : str, optional
        Column names in both frames; by default the usual names are recognised.

    Returns
    -------
    dict
        ``fit_time`` (s, NaN when ``fit=False``), ``n_train``, ``n_test``,
        ``n_test_unknown`` (test rows whose user or item is not in train; also
        ``n_test_unknown_user``, ``n_test_unknown_item``); with protocol A ``rmse``,
        ``mae``, ``n_pred_missing``, ``predict_time``; with protocol B (or C)
        ``precision``, ``recall``, ``ndcg``, ``map``, ``hit_rate``, ``coverage`` (each
        with ``@k`` appended for every k when ``k`` is a sequence), ``k`` (a tuple
        when ``k`` is a sequence), ``n_users_scored`` (users with a relevant test item
        who are in train), ``n_users_no_relevant`` (test users skipped for having no
        relevant item), ``n_users_unknown`` (users with a relevant test item but no
        train rating; the model cannot rank for them, so they are skipped and counted
        here), ``recommend_time``. When a requested protocol was skipped, ``skipped``:
        a dict protocol -> reason (and that protocol's metrics are absent).

    Raises
    ------
    TypeError
        A frame is not a DataFrame; the ranking protocol is requested for a model with
        neither ``recommend_many`` nor ``recommend``.
    MissingColumnError
        A frame lacks a column (a ``KeyError`` and a ``ValueError``), or has neither a
        rating nor a count column but another one (``stars``), which is not click data.
    ValueError
        A frame is empty; a bad ``k``, ``protocols`` or ``missing``;
        the model recommends an item the user rated in train, or returns a wrong number
        of predictions; ``missing="error"`` and a prediction is NaN.

    Notes
    -----
    Relevant test items absent from train stay relevant (no model can recommend them,
    which is part of the score).
    """
    cols = dict(user_col=user_col, item_col=item_col, rating_col=rating_col)
    held = {}  # frame name -> (what it holds, its columns)
    train, *held["train"] = checked_frame(train, "train", **cols, require_rating=False)
    test, *held["test"] = checked_frame(test, "test", **cols, require_rating=False)
    protocols = tuple([protocols] if isinstance(protocols, str) else protocols)
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad or not protocols:
        raise ValueError(f"protocols must be a non-empty subset of {PROTOCOLS}; got {protocols!r}.")
    if missing not in MISSING:
        raise ValueError(f"missing must be one of {MISSING}; got {missing!r}.")
    ks = _list_lengths(k)
    clicks = _why_clicks(held, relevance_threshold)

    out: dict[str, Any] = {}
    if fit:
        t0 = time.perf_counter()
        model.fit(train)
        out["fit_time"] = time.perf_counter() - t0
    else:
        out["fit_time"] = float("nan")
    cold = cold_start_report(train, test)
    out.update(
        n_train=len(train),
        n_test=len(test),
        n_test_unknown=cold.n_unknown,
        n_test_unknown_user=cold.n_unknown_user,
        n_test_unknown_item=cold.n_unknown_item,
    )
    skipped = {}
    if "rating" in protocols:
        if clicks is None and predicts_ratings(model):
            out.update(_rating_protocol(model, train, test, missing))
        else:
            skipped["rating"] = clicks or _why_no_ratings(model)
            warnings.warn(f"rating protocol skipped (no RMSE or MAE): {skipped['rating']}.",
                          ProtocolSkippedWarning, stacklevel=2)
    if "ranking" in protocols:
        threshold = None if clicks is not None else relevance_threshold
        out.update(_ranking_protocol(model, train, test, ks, threshold,
                                     keyed=not isinstance(k, (Integral, np.integer))))
    if skipped:
        out["skipped"] = skipped
    return out


def _list_lengths(k):
    """The list lengths asked for: ``k`` itself, or each of a sequence, checked."""
    if isinstance(k, (Integral, np.integer)) or not isinstance(k, Iterable) or isinstance(
            k, (str, bytes)):
        return (check_positive_int(k, "k"),)
    ks = tuple(check_positive_int(v, "k") for v in k)
    if not ks or len(set(ks)) < len(ks):
        raise ValueError(f"k must be a positive integer or a non-empty sequence of distinct "
                         f"positive integers; got {tuple(k)!r}.")
    return ks


def _why_clicks(held, threshold):
    """Why the data are scored as clicks (protocol C), or None when they are ratings.

    ``held``: frame name -> (what it holds, its columns), as :func:`checked_frame`
    tells; a frame of counts or of clicks has no ratings to predict or to threshold.
    """
    lacking = {}  # how a frame lacks ratings -> the frames
    for name, (kind, columns) in held.items():
        if kind == "clicks":
            lacking.setdefault("no rating column", []).append(name)
        elif kind == "counts":
            lacking.setdefault(f"interaction counts ({columns['count']!r}), not ratings",
                               []).append(name)
    if lacking:
        parts = []
        for how, names in lacking.items():
            many = len(names) > 1
            verb = ("have" if many else "has") if how == "no rating column" else (
                "hold" if many else "holds")
            parts.append(f"the {' and '.join(names)} frame{'s' if many else ''} {verb} {how}")
        return f"{' and '.join(parts)}: click data, without ratings to predict"
    if threshold is None:
        return ("relevance_threshold=None scores the data as clicks: every test item is "
                "relevant, and there are no ratings to predict")
    return None


def _rating_protocol(model, train, test, missing):
    t0 = time.perf_counter()
    pred = np.asarray(model.predict(test[["user", "item"]]), dtype=np.float64).ravel()
    elapsed = time.perf_counter() - t0
    if pred.size != len(test):
        raise ValueError(
            f"{type(model).__name__}.predict returned {pred.size} values for {len(test)} "
            "test rows."
        )
    r = train["rating"].to_numpy(dtype=np.float64)
    pred = np.clip(pred, r.min(), r.max())  # NaN stays NaN
    nan = np.isnan(pred)
    if missing == "global_mean":
        pred = np.where(nan, r.mean(), pred)
    elif missing == "baseline" and nan.any():
        mu = r.mean()
        stats = train.groupby("item")["rating"].agg(["sum", "count"])
        damped = (stats["sum"] + BASELINE_DAMPING * mu) / (stats["count"] + BASELINE_DAMPING)
        fill = damped.reindex(test["item"].to_numpy()[nan]).fillna(mu).to_numpy()
        pred[nan] = np.clip(fill, r.min(), r.max())
    metric_missing = "ignore" if missing == "ignore" else "error"
    y = test["rating"].to_numpy(dtype=np.float64)
    return {
        "rmse": _m.rmse(y, pred, missing=metric_missing),
        "mae": _m.mae(y, pred, missing=metric_missing),
        "n_pred_missing": int(nan.sum()),
        "predict_time": elapsed,
    }


def _ranking_protocol(model, train, test, ks, threshold, keyed=False):
    """Protocol B (relevant: test rating >= threshold) or C (threshold None: every test
    item), scored at each list length of ``ks``; keys ``metric@k`` when ``keyed``."""
    if threshold is None:
        rel = test[["user", "item"]]
    else:
        rel = test.loc[test["rating"].to_numpy(dtype=np.float64) >= threshold,
                       ["user", "item"]]
    test_users = pd.unique(test["user"])
    rel_users = pd.unique(rel["user"])
    known = pd.Index(pd.unique(train["user"]))
    users = np.asarray(rel_users[known.get_indexer(rel_users) >= 0])
    out = {
        "k": ks if keyed else ks[0],
        "n_users_scored": int(users.size),
        "n_users_no_relevant": int(len(test_users) - len(rel_users)),
        "n_users_unknown": int(len(rel_users) - users.size),
    }
    key = (lambda name, k: f"{name}@{k}") if keyed else (lambda name, k: name)
    if users.size == 0:
        nan = float("nan")
        for k in ks:
            out.update({key(name, k): nan for name in _RANKING_METRICS})
        out["recommend_time"] = 0.0
        return out

    t0 = time.perf_counter()
    recs = _recommend(model, users, max(ks))
    out["recommend_time"] = time.perf_counter() - t0

    seen = recs.merge(train[["user", "item"]], on=["user", "item"], how="inner")
    if len(seen):
        ex = seen.iloc[0]
        raise ValueError(
            f"{type(model).__name__} recommended {len(seen)} items that their users rated "
            f"in train (e.g. user={show(ex['user'])}, item={show(ex['item'])}); protocol B ranks "
            "only unseen items (exclude_seen=True)."
        )
    recommended = _group_lists(recs, users, "item", order=recs["rank"].to_numpy())
    relevant = _group_lists(rel[rel["user"].isin(users)], users, "item")
    catalog = np.asarray(pd.unique(train["item"]))
    for k in ks:
        for name, metric in _RANKING_METRICS.items():
            args = (recommended, catalog, k) if name == "coverage" else (
                recommended, relevant, k)
            out[key(name, k)] = metric(*args)
    return out


#: Result key -> metric of the ranking protocol, in the order of the results.
_RANKING_METRICS = {
    "precision": _m.precision_at_k,
    "recall": _m.recall_at_k,
    "ndcg": _m.ndcg_at_k,
    "map": _m.map_at_k,
    "hit_rate": _m.hit_rate_at_k,
    "coverage": _m.coverage_at_k,
}


@dataclass
class CVResult:
    """Cross-validation results.

    Attributes
    ----------
    folds : DataFrame
        One row per fold (index: fold name or number), one column per result of
        :func:`evaluate` (``skipped`` holds a dict protocol -> reason on folds where a
        requested protocol could not run).
    """

    folds: pd.DataFrame

    @property
    def mean(self) -> pd.Series:
        """Mean over folds of each numeric column."""
        return self.folds.select_dtypes("number").mean()

    @property
    def std(self) -> pd.Series:
        """Sample standard deviation (ddof=1) over folds; NaN with a single fold."""
        return self.folds.select_dtypes("number").std(ddof=1)

    @property
    def table(self) -> pd.DataFrame:
        """The per-fold rows followed by a ``mean`` and a ``std`` row."""
        num = self.folds.select_dtypes("number")
        extra = pd.DataFrame([self.mean, self.std], index=["mean", "std"])
        t = pd.concat([num, extra])
        t.index = t.index.astype(str)
        return t

    def __repr__(self) -> str:
        return f"CVResult(n_folds={len(self.folds)})\n{self.table!r}"


def cross_validate(
    make_model: Callable[[], Any],
    folds: Iterable[tuple[Frame, Frame]] | Mapping[str, tuple[Frame, Frame]],
    k: int | Sequence[int] = 10,
    **evaluate_kwargs: Any,
) -> CVResult:
    """Evaluate a fresh model on each fold.

    Parameters
    ----------
    make_model : callable
        Called with no argument once per fold, returning an unfitted model
        (e.g. ``lambda: Popularity()`` or the class itself).
    folds : iterable of (train, test), or mapping name -> (train, test)
        E.g. ``kfold(df)``, ``user_kfold(df)`` or ``nmfrec.datasets.ml100k_folds()``.
        The mapping's keys name the rows of the result.
    k : int or sequence of int, default 10
        List length(s) for the ranking metrics, as in :func:`evaluate`.
    **evaluate_kwargs
        Passed to :func:`evaluate`: ``relevance_threshold``, ``protocols``,
        ``missing``, ``user_col``, ``item_col``, ``rating_col``.

    Returns
    -------
    CVResult
        ``.folds`` per-fold table, ``.mean`` and ``.std`` over folds, ``.table`` both.

    Raises
    ------
    TypeError
        ``make_model`` is a model instance rather than a factory, or ``fit=`` is passed.
    ValueError
        ``folds`` is empty, or as raised by :func:`evaluate`.
    """
    if not callable(make_model) or (
        hasattr(make_model, "fit") and not isinstance(make_model, type)
    ):
        raise TypeError(
            "make_model must be a callable that returns a fresh model, e.g. "
            f"lambda: Popularity(); got {type(make_model).__name__} instance."
        )
    if "fit" in evaluate_kwargs:
        raise TypeError("cross_validate always fits; do not pass fit=.")
    items = folds.items() if isinstance(folds, Mapping) else enumerate(folds)
    rows, names = [], []
    for name, fold in items:
        train, test = fold
        rows.append(evaluate(make_model(), train, test, k=k, **evaluate_kwargs))
        names.append(name)
    if not rows:
        raise ValueError("folds is empty.")
    return CVResult(pd.DataFrame(rows, index=pd.Index(names, name="fold")))

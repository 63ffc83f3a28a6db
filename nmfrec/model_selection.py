"""Hyper-parameter search by cross-validation: rank, penalties, anything ``set_params`` takes.

Every NMF guide gives the same advice for the rank ``k``: try several, score each on
ratings held out from the fit, and take the best (or the elbow of the curve).
:class:`GridSearch` does that for any grid of parameters, and :func:`select_rank` is the
one-line version for the rank.

The search sees only the frame given to ``fit``: the default folds are drawn from it
(:func:`nmfrec.evaluation.user_kfold`), so when that frame is a training set, the chosen
parameters depend on training data alone and the test set stays untouched for the final
score. Frames may name their columns as ``Recommender.fit`` recognises them
(``user``/``userId``, ``item``/``movieId``, ``rating``, ...).

Like :mod:`nmfrec.evaluation`, on whose :func:`~nmfrec.evaluation.evaluate` it is built,
this module uses only an estimator's public surface (``get_params``, ``set_params``,
``fit``, ``predict``, ``recommend_many``/``recommend``, and the ``predicts_ratings``
convention of :func:`nmfrec.evaluation.predicts_ratings`), so it tunes nmfrec's
:class:`~nmfrec.Recommender` and any peer behind a thin adapter alike. It imports
neither the factorization engine nor its kernels.

Score directions: ``"rmse"`` and ``"mae"`` are errors (lower is better);
``"precision"``, ``"recall"``, ``"ndcg"``, ``"map"``, ``"hit_rate"`` and ``"coverage"``
(at ``k``) are ranking scores (higher is better); a callable scorer returns a value
where higher is better (negate an error), as in scikit-learn.
"""

from __future__ import annotations

import difflib
import itertools
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import pandas as pd

from ._validation import Interval, as_frame, check_fitted
from .evaluation import check_ratings_frame, evaluate, predicts_ratings
from .evaluation import user_kfold as _user_kfold

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from typing_extensions import Self, TypeAlias

    from ._typing import Frame, Seed

    #: Cross-validation folds: a number of per-user folds, (train, test) pairs, a
    #: mapping name -> pair, or a callable ratings -> pairs.
    CV: TypeAlias = (int | Iterable[tuple[Frame, Frame]] | Mapping[Any, tuple[Frame, Frame]]
                     | Callable[..., Any])
    Scoring: TypeAlias = str | Callable[..., float]
    Protocols: TypeAlias = Sequence[Literal["rating", "ranking"]]

__all__ = ["GridSearch", "select_rank", "SCORINGS"]


def __getattr__(name):
    if name == "user_kfold":
        warnings.warn("nmfrec.model_selection.user_kfold is deprecated and will be removed; "
                      "use nmfrec.evaluation.user_kfold (it moved beside the other "
                      "splitters).", DeprecationWarning, stacklevel=2)
        return _user_kfold
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Named scores and whether greater is better.
SCORINGS = {
    "rmse": False,
    "mae": False,
    "precision": True,
    "recall": True,
    "ndcg": True,
    "map": True,
    "hit_rate": True,
    "coverage": True,
}
_RATING_SCORES = ("rmse", "mae")
# Numbers from evaluate() that are results worth averaging over folds (the counts are
# properties of the split, not of the parameters, and are left out of the table).
_METRICS = ("rmse", "mae", "precision", "recall", "ndcg", "map", "hit_rate", "coverage",
            "fit_time", "predict_time", "recommend_time")
_RULES = ("best", "one_se")


# --------------------------------------------------------------------------------------
# folds
# --------------------------------------------------------------------------------------


def _resolve_cv(cv, ratings, random_state, columns):
    """The folds, as a list of (name, train, test)."""
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv as a number of folds must be >= 2; got {cv}.")
        folds = _user_kfold(ratings, int(cv), random_state=random_state, **columns)
        return [(f, tr, te) for f, (tr, te) in enumerate(folds)]
    if isinstance(cv, bool) or cv is None or isinstance(cv, (str, bytes, pd.DataFrame)):
        raise TypeError("cv must be a number of folds (int >= 2), a sequence of (train, test) "
                        "frames, a mapping name -> (train, test), or a callable splitter "
                        f"taking the ratings frame; got {cv!r}.")
    if callable(cv):
        cv = cv(ratings)
    if isinstance(cv, Mapping):
        items = list(cv.items())
    elif isinstance(cv, Iterable):
        items = list(enumerate(cv))
    else:
        raise TypeError("cv must be a number of folds (int >= 2), a sequence of (train, test) "
                        "frames, a mapping name -> (train, test), or a callable splitter "
                        f"taking the ratings frame; got {type(cv).__name__}.")
    if not items:
        raise ValueError("cv gave no folds.")
    out = []
    for name, pair in items:
        try:
            train, test = pair
        except (TypeError, ValueError):
            raise TypeError(f"fold {name!r} of cv is not a (train, test) pair; got "
                            f"{type(pair).__name__}.") from None
        train = as_frame(train, f"train of fold {name!r}")
        test = as_frame(test, f"test of fold {name!r}")
        check_ratings_frame(train, f"train of fold {name!r}", **columns)
        check_ratings_frame(test, f"test of fold {name!r}", **columns)
        out.append((name, train, test))
    return out


# --------------------------------------------------------------------------------------
# estimators and grids
# --------------------------------------------------------------------------------------


def _is_factory(estimator):
    return isinstance(estimator, type) or (callable(estimator) and not hasattr(estimator, "fit"))


def _new_model(estimator, params):
    """A fresh, unfitted model with ``params`` set, from an instance or a factory."""
    if _is_factory(estimator):
        model = estimator()
    else:
        # a clone: same class, same constructor parameters, no fitted state
        model = type(estimator)(**estimator.get_params())
    if params:
        model.set_params(**params)
    return model


def _prototype(estimator):
    """An instance to inspect: the estimator itself, or a fresh one from a factory."""
    return estimator() if _is_factory(estimator) else estimator


def _valid_params(estimator):
    proto = _prototype(estimator)
    if not (hasattr(proto, "get_params") and hasattr(proto, "set_params")):
        raise TypeError(f"{type(proto).__name__} has no get_params/set_params, so its "
                        "parameters cannot be searched.")
    if not hasattr(proto, "fit"):
        raise TypeError(f"{type(proto).__name__} has no fit method.")
    return type(proto).__name__, list(proto.get_params())


def _expand_grid(param_grid, valid, owner):
    """List of parameter dicts, in grid order (later names vary fastest)."""
    grids = [param_grid] if isinstance(param_grid, Mapping) else param_grid
    if isinstance(grids, (str, bytes)) or not isinstance(grids, Iterable):
        raise TypeError("param_grid must be a dict name -> list of values, or a list of such "
                        f"dicts; got {type(param_grid).__name__}.")
    grids = list(grids)
    if not grids:
        raise ValueError("param_grid is empty: give at least one parameter and its values, "
                         "e.g. {'n_components': [10, 20, 40]}.")
    combos = []
    for grid in grids:
        if not isinstance(grid, Mapping):
            raise TypeError(f"param_grid entries must be dicts; got {type(grid).__name__}.")
        if not grid:
            raise ValueError("param_grid is empty: give at least one parameter and its "
                             "values, e.g. {'n_components': [10, 20, 40]}.")
        names = list(grid)
        for name in names:
            if name not in valid:
                close = difflib.get_close_matches(str(name), valid, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown parameter {name!r} for {owner}.{hint} Valid "
                                 f"parameters are {valid}.")
            values = grid[name]
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise TypeError(f"param_grid[{name!r}] must be a list of values; got "
                                f"{values!r} (write [{values!r}] for a single value).")
            if len(list(values)) == 0:
                raise ValueError(f"param_grid[{name!r}] is an empty list; give at least one "
                                 "value.")
        for values in itertools.product(*(list(grid[n]) for n in names)):
            combos.append(dict(zip(names, values)))
    return combos


def _check_scoring(scoring):
    if callable(scoring):
        return getattr(scoring, "__name__", "score"), True
    if not isinstance(scoring, str) or scoring not in SCORINGS:
        raise ValueError(f"scoring must be one of {list(SCORINGS)} or a callable "
                         f"scorer(model, train, test) -> float; got {scoring!r}.")
    return scoring, SCORINGS[scoring]


def _fmt_params(params):
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


# --------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------


class GridSearch:
    """Exhaustive cross-validated search over a grid of estimator parameters.

    For every combination of the grid and every fold, a fresh estimator gets the
    combination through ``set_params``, is fitted on the fold's train ratings and scored
    on its test ratings by :func:`nmfrec.evaluation.evaluate` (protocol A: clipped
    predictions, RMSE and MAE; protocol B: top-``k`` among unseen train items, relevant
    = rating >= ``relevance_threshold``). The combination with the best mean score over
    the folds wins.

    Parameters
    ----------
    estimator : estimator instance, class or factory
        An instance (e.g. ``Recommender(random_state=0)``) is cloned for every fit as
        ``type(estimator)(**estimator.get_params())``, so its non-searched parameters
        are kept and it is never fitted itself; a class or a zero-argument callable is
        called for a fresh model. Either way the grid is applied with ``set_params``.
        Set the estimator's ``random_state`` for reproducible scores.
    param_grid : dict or list of dict
        ``{name: [values, ...]}``: every combination is tried (the last name varies
        fastest). A list of such dicts searches the union of their grids.
    cv : int, sequence of (train, test), mapping or callable, default 3
        An int is the number of folds of :func:`nmfrec.evaluation.user_kfold` on the
        frame given to :meth:`fit`, seeded by ``random_state`` (every user keeps a
        training rating in every fold). A sequence or a mapping ``name -> (train, test)`` gives the folds
        explicitly; a callable ``cv(ratings)`` returns them (e.g.
        ``lambda df: nmfrec.evaluation.kfold(df, 5, random_state=0)``).
    scoring : str or callable, default "rmse"
        ``"rmse"`` or ``"mae"`` (errors: lower is better), or ``"precision"``,
        ``"recall"``, ``"ndcg"``, ``"map"``, ``"hit_rate"``, ``"coverage"`` at ``k``
        (higher is better). A callable ``scoring(model, train, test) -> float`` receives
        the fitted model and the fold and must return a value where **higher is
        better** (return ``-error`` for an error).
    k : int, default 10
        List length of the ranking metrics.
    relevance_threshold : float, default 4.0
        A test rating at least this large is relevant (ranking metrics).
    random_state : None, int or numpy.random.Generator
        Seeds the default folds (``cv`` an int) only.
    verbose : int, default 0
        1 prints a line per combination, 2 also a line per fold.
    refit : bool, default True
        Fit a fresh estimator with the best parameters on all of the ratings given to
        :meth:`fit`, as ``best_estimator_``.
    protocols : tuple of {"rating", "ranking"} or None, default None
        What :func:`~nmfrec.evaluation.evaluate` computes on each fold. None: the rating
        protocol when the estimator predicts ratings (it has ``predict`` and no
        ``predicts_ratings`` attribute that is False; see
        :func:`nmfrec.evaluation.predicts_ratings`), plus the ranking protocol when it
        can rank (has ``recommend_many`` or ``recommend``), so the table shows both kinds
        of metric. ``("rating",)`` skips ranking and is faster for an RMSE search. A
        combination whose fitted model turns out not to predict ratings gets a NaN
        rating score (ranked last) and a warning from ``evaluate``.

    Attributes
    ----------
    results_ : DataFrame
        One row per combination, sorted by ``rank`` (1 = best; ties share the lower rank
        and keep grid order). Index: the combination's position in the grid. Columns:
        ``rank``, ``mean_score``, ``std_score`` (the score in its own units, e.g. RMSE,
        not negated), ``params`` (dict), ``param_<name>`` for each searched parameter,
        then ``mean_<metric>`` and ``std_<metric>`` for every metric computed
        (``rmse``, ``mae``, ``precision``, ..., ``fit_time``). Standard deviations are
        over folds with ``ddof=1`` (NaN with a single fold), as in
        :class:`nmfrec.evaluation.CVResult`.
    fold_results_ : DataFrame
        The long table behind ``results_``: one row per (combination, fold) with
        ``candidate`` (grid position), ``fold``, ``score`` and every number returned by
        :func:`~nmfrec.evaluation.evaluate`.
    best_index_ : int
        Grid position of the best combination (``results_.index[0]``).
    best_params_ : dict
        The best combination.
    best_score_ : float
        Its mean score over the folds.
    best_estimator_ : estimator
        A fresh estimator with ``best_params_`` fitted on all the ratings (only with
        ``refit=True``).
    refit_time_ : float
        Seconds to fit ``best_estimator_``.
    greater_is_better_ : bool
        Direction of the score: False for rmse/mae, True otherwise.
    scoring_ : str
        Name of the score.
    n_splits_ : int
        Number of folds.

    See Also
    --------
    select_rank : the rank search as one call, with an optional one-standard-error rule.
    nmfrec.evaluation.cross_validate : one model on given folds.

    Examples
    --------
    >>> from nmfrec import Recommender
    >>> from nmfrec.datasets import make_ratings
    >>> from nmfrec.model_selection import GridSearch
    >>> ratings = make_ratings(60, 40, 600, rank=3, seed=0)
    >>> search = GridSearch(Recommender(max_iter=20, tol=1e-3, random_state=0),
    ...                     {"n_components": [2, 4], "l2_W": [0.1, 1.0]},
    ...                     cv=3, scoring="rmse", random_state=0).fit(ratings)
    >>> sorted(search.best_params_)
    ['l2_W', 'n_components']
    >>> search.results_[["param_n_components", "param_l2_W", "mean_score"]].shape
    (4, 3)
    >>> search.best_estimator_.n_components == search.best_params_["n_components"]
    True
    """

    def __init__(self, estimator: Any,
                 param_grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]],
                 cv: CV = 3, scoring: Scoring = "rmse", k: int = 10,
                 relevance_threshold: float = 4.0, random_state: Seed = None,
                 verbose: int | bool = 0, refit: bool = True,
                 protocols: Protocols | None = None) -> None:
        self.estimator = estimator
        self.param_grid = param_grid
        self.cv = cv
        self.scoring = scoring
        self.k = k
        self.relevance_threshold = relevance_threshold
        self.random_state = random_state
        self.verbose = verbose
        self.refit = refit
        self.protocols = protocols

    # ------------------------------------------------------------------ fit
    def fit(self, ratings: Frame, user_col: str | None = None, item_col: str | None = None,
            rating_col: str | None = None) -> Self:
        """Score every combination on every fold; pick and (optionally) refit the best.

        Parameters
        ----------
        ratings : DataFrame
            One (user, item, rating) per row, columns named as ``Recommender.fit``
            recognises them (``user``/``userId``, ``item``/``movieId``, ``rating``, ...).
            The default folds are drawn from it and the refit uses all of it; pass
            training data only.
        user_col, item_col, rating_col : str, optional
            Column names in ``ratings`` and in the folds; by default the usual names are
            recognised. Every model, the refit one included, is fitted on frames with
            these columns renamed ``user``, ``item``, ``rating``.

        Returns
        -------
        self

        Raises
        ------
        MissingColumnError
            ``ratings`` or a fold lacks a column (a ``KeyError`` and a ``ValueError``).
        ValueError
            An empty grid or an empty list of values, an unknown parameter name (the
            message lists the valid ones), an unknown scoring, a bad ``cv`` or frame.
        TypeError
            A grid that is not a dict of lists, an estimator without
            ``get_params``/``set_params``.
        """
        owner, valid = _valid_params(self.estimator)
        candidates = _expand_grid(self.param_grid, valid, owner)
        name, greater = _check_scoring(self.scoring)
        protocols = self._protocols(name)
        columns = dict(user_col=user_col, item_col=item_col, rating_col=rating_col)
        ratings = as_frame(ratings, "ratings")
        canonical = check_ratings_frame(ratings, "ratings", **columns)
        folds = _resolve_cv(self.cv, ratings, self.random_state, columns)

        rows = []
        t_start = time.perf_counter()
        for c, params in enumerate(candidates):
            scores = []
            for fold, train, test in folds:
                model = _new_model(self.estimator, params)
                res = evaluate(model, train, test, k=self.k,
                               relevance_threshold=self.relevance_threshold,
                               protocols=protocols, **columns)
                # a model that skipped the rating protocol (see evaluate) scores NaN
                score = (float(self.scoring(model, train, test)) if callable(self.scoring)
                         else float(res.get(name, np.nan)))
                scores.append(score)
                rows.append({"candidate": c, "fold": fold, "score": score, **res})
                if self.verbose >= 2:
                    print(f"[GridSearch] {c + 1}/{len(candidates)} {_fmt_params(params)} "
                          f"fold {fold}: {name}={score:.4f} (fit {res['fit_time']:.1f} s)",
                          flush=True)
            if self.verbose >= 1:
                print(f"[GridSearch] {c + 1}/{len(candidates)} {_fmt_params(params)}: "
                      f"{name}={np.mean(scores):.4f} ± {_std(scores):.4f} over "
                      f"{len(folds)} folds ({time.perf_counter() - t_start:.0f} s elapsed)",
                      flush=True)

        self.fold_results_ = pd.DataFrame(rows)
        self.results_ = self._table(candidates, greater)
        self.best_index_ = int(self.results_.index[0])
        self.best_params_ = dict(candidates[self.best_index_])
        self.best_score_ = float(self.results_["mean_score"].iloc[0])
        self.greater_is_better_ = greater
        self.scoring_ = name
        self.n_splits_ = len(folds)
        if self.refit:
            t0 = time.perf_counter()
            self.best_estimator_ = _new_model(self.estimator, self.best_params_).fit(canonical)
            self.refit_time_ = time.perf_counter() - t0
        return self

    def _protocols(self, name):
        if self.protocols is not None:
            p = (self.protocols,) if isinstance(self.protocols, str) else tuple(self.protocols)
            need = ("rating" if name in _RATING_SCORES else
                    "ranking" if name in SCORINGS else None)
            if need is not None and need not in p:
                raise ValueError(f"scoring={name!r} needs the {need!r} protocol, but "
                                 f"protocols={p!r}.")
            return p
        proto = _prototype(self.estimator)
        ranking = hasattr(proto, "recommend_many") or hasattr(proto, "recommend")
        rating = predicts_ratings(proto)
        if name in SCORINGS and name not in _RATING_SCORES and not ranking:
            raise ValueError(f"scoring={name!r} is a ranking score, but the estimator has "
                             "neither recommend_many nor recommend.")
        if name in _RATING_SCORES and not rating:
            raise ValueError(f"scoring={name!r} needs rating predictions, but "
                             f"{type(proto).__name__}.predict does not return ratings (no "
                             "predict method, or predicts_ratings is False); choose a "
                             "ranking score such as 'precision'.")
        return ("rating",) * rating + ("ranking",) * ranking

    def _table(self, candidates, greater):
        per = self.fold_results_
        metrics = ["score"] + [m for m in _METRICS if m in per.columns]
        g = per.groupby("candidate", sort=True)[metrics]
        mean, std = g.mean(), g.std(ddof=1)
        table = pd.DataFrame(index=pd.RangeIndex(len(candidates), name="candidate"))
        table["mean_score"] = mean["score"]
        table["std_score"] = std["score"]
        table["params"] = [dict(p) for p in candidates]
        names = list(dict.fromkeys(n for p in candidates for n in p))
        for n in names:
            table[f"param_{n}"] = pd.Series([p.get(n, np.nan) for p in candidates],
                                            index=table.index, dtype=object)
        for m in metrics[1:]:
            table[f"mean_{m}"] = mean[m]
            table[f"std_{m}"] = std[m]
        key = table["mean_score"] if greater else -table["mean_score"]
        # NaN scores (e.g. no user with a relevant item) rank last
        table.insert(0, "rank", key.rank(ascending=False, method="min",
                                         na_option="bottom").astype(np.int64))
        order = np.lexsort((np.arange(len(table)), table["rank"].to_numpy()))
        return table.iloc[order]

    # ------------------------------------------------------------------ plot
    def plot(self, x: str = "n_components", ax: Axes | None = None, metric: str | None = None,
             logx: bool | None = None) -> Axes:
        """Validation score against one parameter, the others at their best values.

        Parameters
        ----------
        x : str, default "n_components"
            A searched parameter. The curve shows the combinations whose other searched
            parameters equal ``best_params_``; error bars are the standard deviation over
            folds, and the best combination is marked.
        ax : matplotlib Axes, optional
            Where to draw; default: a new figure.
        metric : str, optional
            Plot ``mean_<metric>`` of ``results_`` (e.g. ``"mae"``, ``"precision"``)
            instead of the search score.
        logx : bool, optional
            Logarithmic x axis; default when ``x`` is numeric, positive and spans a
            ratio of 8 or more (ranks such as 5, 10, 20, 40, 80).

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        NotFittedError
            :meth:`fit` was not called (an ``AttributeError`` and a ``ValueError``).
        ImportError
            matplotlib is not installed (it is an optional dependency of nmfrec).
        ValueError
            ``x`` is not a searched parameter, or ``metric`` was not computed.
        """
        check_fitted(self, "results_", "plot")
        col = f"param_{x}"
        if col not in self.results_.columns:
            searched = [c[len("param_"):] for c in self.results_.columns
                        if c.startswith("param_")]
            raise ValueError(f"x={x!r} is not a searched parameter; the grid has {searched}.")
        if metric is None:
            ycol, ecol, label = "mean_score", "std_score", f"CV {self.scoring_}"
        else:
            ycol, ecol, label = f"mean_{metric}", f"std_{metric}", f"CV {metric}"
            if ycol not in self.results_.columns:
                have = [c[5:] for c in self.results_.columns if c.startswith("mean_")]
                raise ValueError(f"metric={metric!r} was not computed; the table has {have}.")
        plt = _pyplot()

        t = self.results_
        keep = np.ones(len(t), dtype=bool)
        for name, value in self.best_params_.items():
            if name != x:
                keep &= np.array([_same(p.get(name, _MISSING), value) for p in t["params"]])
        t = t[keep]
        xs = list(t[col])
        numeric = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                      for v in xs)
        if numeric:
            order = np.argsort(np.asarray(xs, dtype=np.float64), kind="stable")
            xpos = np.asarray(xs, dtype=np.float64)[order]
        else:
            order = np.arange(len(xs))
            xpos = np.arange(len(xs), dtype=np.float64)
        y = t[ycol].to_numpy(dtype=np.float64)[order]
        e = t[ecol].to_numpy(dtype=np.float64)[order]
        best = np.asarray(t.index)[order] == self.best_index_

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ax.errorbar(xpos, y, yerr=np.where(np.isnan(e), 0.0, e), marker="o", capsize=3,
                    label=label)
        if best.any():
            ax.plot(xpos[best], y[best], marker="*", markersize=14, linestyle="none",
                    color="C3", label=f"best {x}={_fmt_value(np.asarray(xs, dtype=object)[order][best][0])}")
        if numeric:
            if logx is None:
                logx = xpos.min() > 0 and xpos.max() / xpos.min() >= 8
            if logx:
                ax.set_xscale("log")
            ax.set_xticks(xpos)
            ax.set_xticklabels([_fmt_value(v) for v in np.asarray(xs, dtype=object)[order]])
            ax.minorticks_off()
        else:
            ax.set_xticks(xpos)
            ax.set_xticklabels([_fmt_value(v) for v in xs])
        others = {k: v for k, v in self.best_params_.items() if k != x}
        ax.set_xlabel(x)
        ax.set_ylabel(label + (" (lower is better)" if metric is None and not
                               self.greater_is_better_ else
                               " (higher is better)" if metric is None else ""))
        if others:
            ax.set_title(_fmt_params(others), fontsize="small")
        ax.legend(fontsize="small")
        return ax

    def __repr__(self):
        return (f"GridSearch(estimator={self.estimator!r}, param_grid={self.param_grid!r}, "
                f"cv={self.cv!r}, scoring={self.scoring!r})")


_MISSING = object()


def _same(a, b):
    if a is _MISSING:
        return False
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:
        return a is b


def _fmt_value(v):
    if isinstance(v, float) and v.is_integer():
        return f"{v:g}"
    return str(v)


def _std(values):
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("GridSearch.plot needs matplotlib, an optional dependency of "
                          "nmfrec that is not installed; install it with "
                          "`pip install matplotlib`.") from e
    return plt


# --------------------------------------------------------------------------------------
# rank selection
# --------------------------------------------------------------------------------------


@overload
def select_rank(estimator: Any, ratings: Frame, ranks: Sequence[int] = ..., *, param: str = ...,
                rule: Literal["best", "one_se"] = ..., cv: CV = ..., scoring: Scoring = ...,
                k: int = ..., relevance_threshold: float = ..., random_state: Seed = ...,
                verbose: int | bool = ..., protocols: Protocols | None = ...,
                return_search: Literal[False] = ..., user_col: str | None = ...,
                item_col: str | None = ..., rating_col: str | None = ...
                ) -> tuple[int, pd.DataFrame]: ...
@overload
def select_rank(estimator: Any, ratings: Frame, ranks: Sequence[int] = ..., *, param: str = ...,
                rule: Literal["best", "one_se"] = ..., cv: CV = ..., scoring: Scoring = ...,
                k: int = ..., relevance_threshold: float = ..., random_state: Seed = ...,
                verbose: int | bool = ..., protocols: Protocols | None = ...,
                return_search: Literal[True], user_col: str | None = ...,
                item_col: str | None = ..., rating_col: str | None = ...
                ) -> tuple[int, pd.DataFrame, GridSearch]: ...


def select_rank(estimator: Any, ratings: Frame, ranks: Sequence[int] = (5, 10, 20, 40, 80), *,
                param: str = "n_components", rule: Literal["best", "one_se"] = "best",
                cv: CV = 3, scoring: Scoring = "rmse", k: int = 10,
                relevance_threshold: float = 4.0, random_state: Seed = None,
                verbose: int | bool = 0, protocols: Protocols | None = None,
                return_search: bool = False, user_col: str | None = None,
                item_col: str | None = None, rating_col: str | None = None
                ) -> tuple[int, pd.DataFrame] | tuple[int, pd.DataFrame, GridSearch]:

    """Choose the rank by cross-validation: the "try several k, keep the best" advice.

    Runs :class:`GridSearch` over ``{param: ranks}`` (no refit) and applies ``rule``:

    * ``"best"``: the rank with the best mean CV score.
    * ``"one_se"``: the smallest rank whose mean score is within one standard error
      (``std / sqrt(n_folds)``) of the best one, Breiman's one-standard-error rule:
      where the validation curve flattens into an elbow, the simpler model is taken.

    Parameters
    ----------
    estimator : estimator instance, class or factory
        An instance is cloned for every fit (its other parameters are kept); a class or
        a zero-argument callable is called for a fresh model.
    ratings : DataFrame
        One (user, item, rating) per row, columns named as ``Recommender.fit``
        recognises them (``user``/``userId``, ``item``/``movieId``, ``rating``, ...);
        training data only.
    ranks : sequence of int, default (5, 10, 20, 40, 80)
        The ranks to try (positive, distinct).
    param : str, default "n_components"
        The estimator's rank parameter.
    rule : {"best", "one_se"}, default "best"
        How the rank is chosen from the scores, see above.
    cv : int, sequence of (train, test), mapping or callable, default 3
        The folds: an int is the number of folds of
        :func:`nmfrec.evaluation.user_kfold` on ``ratings``, seeded by
        ``random_state``; otherwise the folds themselves, or ``cv(ratings)`` returning
        them.
    scoring : str or callable, default "rmse"
        ``"rmse"``, ``"mae"`` (lower is better), ``"precision"``, ``"recall"``,
        ``"ndcg"``, ``"map"``, ``"hit_rate"``, ``"coverage"`` (higher is better), or
        ``scoring(model, train, test) -> float`` (higher is better).
    k : int, default 10
        List length of the ranking metrics.
    relevance_threshold : float, default 4.0
        A test rating at least this large is relevant (ranking metrics).
    random_state : None, int or numpy.random.Generator
        Seeds the default folds (``cv`` an int) only.
    verbose : int, default 0
        1 prints a line per rank, 2 also a line per fold.
    protocols : tuple of {"rating", "ranking"} or None, default None
        What is computed on each fold; None: the rating protocol when the estimator
        predicts ratings, plus the ranking protocol when it can rank.
    return_search : bool, default False
        Also return the fitted :class:`GridSearch` (for its ``plot``).
    user_col, item_col, rating_col : str, optional
        Column names in ``ratings``; by default the usual names are recognised.

    Returns
    -------
    best_rank : int
        The chosen rank.
    table : DataFrame
        One row per rank, in increasing rank order: ``param_<param>``, ``mean_score``,
        ``std_score``, ``rank`` (of the score), the other metrics' means and standard
        deviations, and ``selected`` (True on the chosen row).
    search : GridSearch
        Only with ``return_search=True``.

    Examples
    --------
    >>> from nmfrec import Recommender
    >>> from nmfrec.datasets import make_ratings
    >>> from nmfrec.model_selection import select_rank
    >>> ratings = make_ratings(60, 40, 600, rank=3, seed=0)
    >>> best, table = select_rank(Recommender(max_iter=20, tol=1e-3, random_state=0), ratings,
    ...                           ranks=(1, 2, 4), random_state=0)
    >>> best in (1, 2, 4), list(table["param_n_components"])
    (True, [1, 2, 4])
    """
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}; got {rule!r}.")
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, Iterable):
        raise TypeError(f"ranks must be a sequence of positive integers; got {ranks!r}.")
    ranks = list(ranks)
    if not ranks:
        raise ValueError("ranks is empty; give at least one rank, e.g. (5, 10, 20).")
    positive = Interval("int", 1, None, closed="left")
    bad = [r for r in ranks if not positive.is_satisfied_by(r)]
    if bad:
        raise ValueError(f"ranks must be positive integers; got {bad[0]!r}.")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"ranks has repeated values: {ranks}.")
    search = GridSearch(estimator, {param: ranks}, cv=cv, scoring=scoring, k=k,
                        relevance_threshold=relevance_threshold, random_state=random_state,
                        verbose=verbose, refit=False, protocols=protocols).fit(
        ratings, user_col=user_col, item_col=item_col, rating_col=rating_col)
    col = f"param_{param}"
    table = search.results_.sort_values(col, kind="stable").drop(columns=["params"])
    table[col] = table[col].astype(np.int64)
    chosen = search.best_params_[param]
    if rule == "one_se":
        se = table["std_score"].to_numpy() / np.sqrt(search.n_splits_)
        best_se = float(se[table.index.get_loc(search.best_index_)])
        if np.isfinite(best_se):
            bound = (search.best_score_ - best_se if search.greater_is_better_
                     else search.best_score_ + best_se)
            mean = table["mean_score"].to_numpy()
            ok = mean >= bound if search.greater_is_better_ else mean <= bound
            chosen = int(table[col].to_numpy()[ok].min())
    table["selected"] = table[col].to_numpy() == chosen
    cols = [col, "mean_score", "std_score", "rank", "selected"]
    table = table[cols + [c for c in table.columns if c not in cols]]
    table = table.reset_index(drop=True)
    out = (int(chosen), table)
    return out + (search,) if return_search else out

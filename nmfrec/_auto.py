"""Defaults that follow the data: the rules that give a fit's automatic parameters values.

Every parameter of the default model that is not drawn by the model itself is stated here,
once, in units relative to the data, so that one default means the same on 120 users and
on 10^7 ratings, on ratings and on clicks:

* the rating part's rank grows with the number of ratings (:func:`rating_rank`);
* the preference part's rank too, within what the row solves afford
  (:func:`preference_rank`);
* the weight of an unrated cell is a multiple of the matrix's density: together, a row's
  unrated cells weigh a fixed multiple of its rated ones (:func:`missing_weight`);
* the preference part's L2 penalty is per unit of a row's weight (its cells' total weight
  in the objective, ``reg_scale="weight"``) and of the targets' scale, and shrinks as
  items get more ratings (:func:`preference_l2`).

The constants were chosen on validation splits cut from the training data of MovieLens
100K and 1M (ratings and clicks) and of small planted sets, never on their test splits;
``benchmarks/validation.py`` reruns that choice and ``benchmarks/shapes.py`` scores the
result on every shape. A local fit and a Spark fit read the same statistics
(:class:`DataStats`), so they choose the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["DataStats", "Rule", "rating_rank", "preference_rank", "missing_weight",
           "preference_l2", "RATING_RANK", "PREFERENCE_RANK", "MISSING_WEIGHT",
           "PREFERENCE_L2", "GIBBS_SWEEPS"]

# rating part: rank = _RATING_RANK_PER_CUBE_ROOT * ratings^(1/3), within [_MIN, _MAX]
_RATING_RANK_PER_CUBE_ROOT = 0.17
_RATING_RANK_MIN, _RATING_RANK_MAX = 2, 32
# preference part: rank = sqrt(ratings) / _PREF_RANK_ROOT_DIVISOR, within [_MIN, _MAX]
_PREF_RANK_ROOT_DIVISOR = 3.5
_PREF_RANK_MIN, _PREF_RANK_MAX = 8, 256
# the unrated cells of a row weigh _MISSING_PER_DENSITY times the density each
_MISSING_PER_DENSITY = 8.0
# L2 penalty per unit of row weight and target scale: _L2_PER_ROOT / sqrt(ratings per item)
_L2_PER_ROOT = 0.09


class Rule(str):
    """How an automatic parameter gets its value from the data.

    A string, the rule's description, which ``Recommender.resolved_params()`` shows
    before a fit; called with a :class:`DataStats`, it gives the value (the fitted
    ``fitted_params_`` holds the values chosen). ``function`` None: the value comes out
    of the fit itself (e.g. the number of Gibbs sweeps, from the chain's diagnostics).
    """

    def __new__(cls, description, function=None):
        self = super().__new__(cls, description)
        self.function = function
        return self

    def __call__(self, stats):
        return self.function(stats)

    def __repr__(self):
        return f"<auto: {str(self)}>"

    def __reduce__(self):                 # picklable (clone, joblib) like the str it is
        return (Rule, (str(self), self.function))


@dataclass(frozen=True)
class DataStats:
    """What the rules read of the training data.

    Attributes
    ----------
    n_users, n_items, n_ratings : int
        Shape and number of observed entries.
    target_rms : float
        Root mean square of the preference part's targets (1 for clicks).
    """

    n_users: int
    n_items: int
    n_ratings: int
    target_rms: float = 1.0

    @property
    def density(self) -> float:
        return self.n_ratings / (self.n_users * self.n_items)

    @property
    def max_rank(self) -> int:
        """The largest rank the SVD start takes: one less than the smaller side."""
        return max(1, min(self.n_users, self.n_items) - 1)


def _sig(x, digits=3):
    """``x`` rounded to ``digits`` significant digits: chosen values read cleanly and do
    not depend on the last bits of a sum taken in another order (on Spark)."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def rating_rank(stats: DataStats) -> int:
    """Rank of the Bayesian rating part: grows as the cube root of the number of ratings
    (7 on MovieLens 100K's folds, 16 on MovieLens 1M), from 2 to 32."""
    k = round(_RATING_RANK_PER_CUBE_ROOT * stats.n_ratings ** (1 / 3))
    return int(min(max(k, _RATING_RANK_MIN), _RATING_RANK_MAX, stats.max_rank))


def preference_rank(stats: DataStats) -> int:
    """Rank of the preference part: the square root of the number of ratings over 3.5,
    from 8 to 256 (81 on MovieLens 100K's folds, 256 on MovieLens 1M)."""
    k = round(math.sqrt(stats.n_ratings) / _PREF_RANK_ROOT_DIVISOR)
    return int(min(max(k, _PREF_RANK_MIN), _PREF_RANK_MAX, stats.max_rank))


def missing_weight(stats: DataStats) -> float:
    """Weight of each unrated cell: 8 times the density (at most 1), so that the unrated
    cells of an average row weigh together about 8 times its rated ones."""
    return float(min(1.0, _sig(_MISSING_PER_DENSITY * stats.density)))


def preference_l2(stats: DataStats) -> float:
    """L2 penalty of the preference part, per unit of a row's weight and of the targets'
    root mean square: 0.09 over the square root of the mean number of ratings per item
    (items with more ratings need less shrinking)."""
    return float(_sig(_L2_PER_ROOT / math.sqrt(max(stats.n_ratings / stats.n_items, 1.0))))


def _rule(function, description):
    return Rule(description, function)


#: The rules, by what they choose (``Recommender.resolved_params()`` shows them).
RATING_RANK = _rule(rating_rank, f"{_RATING_RANK_PER_CUBE_ROOT} * n_ratings^(1/3), "
                                 f"{_RATING_RANK_MIN} to {_RATING_RANK_MAX}")
PREFERENCE_RANK = _rule(preference_rank, f"sqrt(n_ratings) / {_PREF_RANK_ROOT_DIVISOR:g}, "
                                         f"{_PREF_RANK_MIN} to {_PREF_RANK_MAX}")
MISSING_WEIGHT = _rule(missing_weight, f"{_MISSING_PER_DENSITY:g} * density, at most 1")
PREFERENCE_L2 = _rule(preference_l2, f"{_L2_PER_ROOT} / sqrt(ratings per item), per unit "
                                     "of a row's weight and of the targets' scale")
GIBBS_SWEEPS = Rule("until the kept draws' average is close to the posterior mean "
                    "(the chain's own diagnostics)")


# ====================================================================== held-out check
# Below this many ratings, a fit first checks its candidate parts on held-out data.
VALIDATE_BELOW = 50_000
_HELD_OUT = 0.2          # share of each user's ratings held out ...
_MIN_USER_RATINGS = 5    # ... among users with at least this many
_MARGIN = 2.0            # standard errors another ranking must win by to replace the first


def ard_rank(stats: DataStats) -> int:
    """Rank of an ARD rating part, whose prior switches off the components the data do
    not need: twice the Wishart part's rank, at least 8."""
    return int(min(max(2 * rating_rank(stats), 8), stats.max_rank))


@dataclass
class HeldOut:
    """A split of a ratings matrix: ``train`` (same shape and labels) and the held-out
    entries ``rows``, ``cols``, ``values``."""

    train: object
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray


def held_out_split(R, rng) -> HeldOut | None:
    """Hold out ``_HELD_OUT`` of the ratings of each user with at least
    ``_MIN_USER_RATINGS`` (at random, by ``rng``); None when no user has that many."""
    from .ratings import RatingsMatrix

    csr = R.csr
    counts = np.diff(csr.indptr)
    n_out = np.where(counts >= _MIN_USER_RATINGS, np.round(_HELD_OUT * counts), 0).astype(int)
    if not n_out.any():
        return None
    out = np.zeros(csr.nnz, dtype=bool)
    for u in np.flatnonzero(n_out):
        start = csr.indptr[u]
        out[start + rng.choice(counts[u], n_out[u], replace=False)] = True
    rows = np.repeat(np.arange(csr.shape[0]), counts)
    keep = ~out
    train = RatingsMatrix.from_coo(rows[keep], csr.indices[keep], csr.data[keep], csr.shape,
                                   dtype=csr.dtype, users=R.users, items=R.items,
                                   columns=R.columns, name="ratings")
    return HeldOut(train, rows[out], csr.indices[out], np.asarray(csr.data[out], np.float64))


def rating_rmse(model, held: HeldOut, rating_range) -> float:
    """RMSE of a rating part on the held-out entries, predictions clipped to the range."""
    pred = np.clip(model.predict_entries(held.rows, held.cols), *rating_range)
    return float(np.sqrt(np.mean((pred - held.values) ** 2)))


def ranking_quality(model, held: HeldOut, relevant, batch=256) -> np.ndarray:
    """Per user with a relevant held-out entry: ``1 - `` the mean percentile rank of its
    relevant held-out items among all the items it has not rated in ``held.train``, by
    ``model``'s scores (1: they come first; 0.5: a random order). Unlike a precision at
    10, every relevant item counts wherever it lands, which separates candidates on a
    few ratings per user. Scores are computed ``batch`` users at a time."""
    users, first = np.unique(held.rows[relevant], return_index=True)
    rows, cols = held.rows[relevant], held.cols[relevant]
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    bounds = np.searchsorted(rows, users)
    bounds = np.append(bounds, rows.size)
    train = held.train.csr
    H = np.asarray(model.components_, dtype=np.float64)
    n_items = H.shape[1]
    out = np.empty(users.size)
    for b0 in range(0, users.size, batch):
        ub = users[b0:b0 + batch]
        S = np.asarray(model.W_[ub], dtype=np.float64) @ H
        for r, u in enumerate(ub):
            s = S[r]
            seen = train.indices[train.indptr[u]:train.indptr[u + 1]]
            s[seen] = np.nan
            mine = cols[bounds[b0 + r]:bounds[b0 + r + 1]]
            n_unseen = n_items - seen.size
            # items scored strictly higher, plus half of the ties (a fair random order)
            valid = s[~np.isnan(s)]
            above = np.array([np.sum(valid > s[i]) + 0.5 * (np.sum(valid == s[i]) - 1)
                              for i in mine])
            out[b0 + r] = 1.0 - float(np.mean(above)) / max(n_unseen - 1, 1)
    return out


def better(challenger, incumbent) -> bool:
    """Whether per-user scores ``challenger`` beat ``incumbent`` by more than ``_MARGIN``
    standard errors of their mean paired difference (not by noise)."""
    d = np.asarray(challenger) - np.asarray(incumbent)
    if d.size < 2:
        return False
    se = float(np.std(d, ddof=1)) / np.sqrt(d.size)
    return float(np.mean(d)) > _MARGIN * se and float(np.mean(d)) > 0.0


@dataclass(frozen=True)
class OpenChoices:
    """What a small fit may choose on held-out data: the rating part's ``prior`` (and,
    with ``rating_rank``, its rank: an ARD part gets :func:`ard_rank`), the ``ranking``
    part, and the preference part's rank (``rank``: the name of the parameter that holds
    it, None when it is given)."""

    prior: bool
    rating_rank: bool
    ranking: bool
    rank: str | None

    def __bool__(self):
        return self.prior or self.ranking or self.rank is not None


def rank_candidates(rank) -> list:
    """The preference ranks a small fit compares: the rule's, half and a quarter of it
    (at least 2); the rule's first, so that a smaller one must win by ``_MARGIN``."""
    smaller = [r for r in (max(2, rank // 2), max(2, rank // 4)) if r < rank]
    return [rank, *dict.fromkeys(smaller)]


def choose_on_held_out(R, params, stats, open_: OpenChoices, rating_part, preference_part,
                       seed=0):
    """On small data, choose what ``open_`` leaves open among candidate parts fitted to a
    held-out split of ``R`` (:func:`held_out_split`); ``params`` is updated in place with
    the choices. ``rating_part(params)`` and ``preference_part(params)`` build unfitted
    parts (for implicit feedback the rating part is the preference part).

    The prior: the lower held-out RMSE. The preference rank: the rule's, unless half or a
    quarter of it ranks the held-out items better by ``_MARGIN`` standard errors (small
    catalogues carry fewer tastes than their number of ratings suggests). The ranking:
    the preference part, unless the rating part or popularity ranks better by that
    margin. Returns the scores (``Recommender.held_out_``), None when no user has enough
    ratings to hold some out.
    """
    held = held_out_split(R, np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0]))
    if held is None:
        return None
    from .bayes import PRIORS

    scores = {}
    explicit = params["feedback"] == "explicit"
    fitted = {}
    if open_.prior:
        rmse = {}
        for prior in PRIORS:
            cand = {**params, "prior": prior, "ranking": "rating"}
            if prior == "ard" and open_.rating_rank:
                cand["n_components"] = ard_rank(stats)
            fitted[prior] = rating_part(cand).fit(held.train)
            rmse[prior] = rating_rmse(fitted[prior], held, R.rating_range)
        scores["rmse"] = rmse
        if rmse["ard"] < rmse["wishart"]:
            params["prior"] = "ard"
            if open_.rating_rank:
                params["n_components"] = ard_rank(stats)
    if not (open_.ranking or open_.rank):
        return scores
    rated = (held.values >= np.median(held.train.csr.data)) if explicit else \
        np.ones(held.values.size, dtype=bool)
    build = preference_part if explicit else rating_part
    pref = {**params, "ranking": "preference"}
    name = open_.rank or ("preference_components" if explicit else "n_components")
    ranks = rank_candidates(pref[name]) if open_.rank else [pref[name]]
    quality = {}
    for rank in ranks:
        quality[rank] = ranking_quality(build({**pref, name: rank}).fit(held.train), held,
                                        rated)
    chosen = ranks[0]
    for rank in ranks[1:]:
        if better(quality[rank], quality[chosen]):
            chosen = rank
    if open_.rank:
        params[name] = chosen
        scores["rank"] = {int(r): float(q.mean()) for r, q in quality.items()}
    if open_.ranking:
        quality = {"preference": quality[chosen]}
        if explicit:
            rating = fitted.get(params.get("prior")) or rating_part(params).fit(held.train)
            quality["rating"] = ranking_quality(rating, held, rated)
        quality["popularity"] = ranking_quality(PopularityPart().fit(held.train), held, rated)
        scores["ranking"] = {n: float(q.mean()) for n, q in quality.items()}
        ranking = "preference"
        for challenger in ("rating", "popularity"):
            if challenger in quality and better(quality[challenger], quality[ranking]):
                ranking = challenger
        params["ranking"] = ranking
        if ranking != "preference":
            fell_back(ranking, scores["ranking"])
    return scores


def held_out_from_json(scores):
    """``Recommender.held_out_`` as written to a model file's JSON (ranks as text keys)."""
    if scores and "rank" in scores:
        scores = {**scores, "rank": {int(r): q for r, q in scores["rank"].items()}}
    return scores


class PopularityPart:
    """Items scored by their number of training interactions, for every user alike: the
    ranking a fit falls back on when its factors rank no better (on held-out data).

    It has the surface of a fitted part that rankings read: ``W_`` is a column of ones
    (``transform`` gives new users the same), ``components_`` the counts, and
    ``factor_names_`` is ``["popularity"]``.
    """

    factor_names_ = ["popularity"]
    n_factors_ = 1

    def __init__(self, counts=None, dtype=np.float64):
        if counts is not None:
            self.set_fitted_state({"counts": np.asarray(counts, dtype=np.float64),
                                   "n_rows": 0})
        self.dtype = dtype

    def fit(self, R):
        return self.set_fitted_state({"counts": np.diff(R.csc.indptr).astype(np.float64),
                                      "n_rows": R.shape[0]})

    def transform(self, X):
        return np.ones((X.shape[0], 1))

    def refit_rows(self, X, rows):
        n = max(self.W_.shape[0], int(np.max(rows)) + 1 if len(rows) else 0)
        self.W_ = np.ones((n, 1))
        return self

    def predict_entries(self, rows, cols):
        return self.components_[0, np.asarray(cols)].astype(np.float64)

    def get_fitted_state(self) -> dict:
        return {"counts": self.components_[0].copy(), "n_rows": int(self.W_.shape[0])}

    def set_fitted_state(self, state):
        self.components_ = np.asarray(state["counts"], dtype=np.float64)[None, :]
        self.W_ = np.ones((int(state["n_rows"]), 1))
        return self


def fell_back(ranking, quality):
    """Say that a small fit ranks by ``ranking`` because its preference part ranked worse
    on held-out data (``quality``: each candidate's mean ranking quality, see
    :func:`ranking_quality`)."""
    from ._base import warn
    from .exceptions import FallbackWarning

    shown = ", ".join(f"{name} {value:.3f}" for name, value in quality.items())
    what = ("the predicted rating" if ranking == "rating"
            else "popularity (how often each item was chosen)")
    warn(f"on held-out ratings, the preference part ranked the relevant items lower than "
         f"{ranking} did (1 - mean percentile rank: {shown}): this model ranks by {what}. "
         "Pass ranking='preference' to keep the preference part.", FallbackWarning)

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

__all__ = ["DataStats", "Rule", "rating_rank", "preference_rank", "missing_weight",
           "preference_l2", "RATING_RANK", "PREFERENCE_RANK", "MISSING_WEIGHT",
           "PREFERENCE_L2", "GIBBS_SWEEPS"]

# rating part: rank = _RATING_RANK_PER_CUBE_ROOT * ratings^(1/3), within [_MIN, _MAX]
_RATING_RANK_PER_CUBE_ROOT = 0.17
_RATING_RANK_MIN, _RATING_RANK_MAX = 2, 32
# preference part: rank = sqrt(ratings) / _PREF_RANK_ROOT_DIVISOR, within [_MIN, _MAX]
_PREF_RANK_ROOT_DIVISOR = 4.0
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
    """Rank of the preference part: the square root of the number of ratings over 4,
    from 8 to 256 (71 on MovieLens 100K, 237 on MovieLens 1M)."""
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

"""Scores of predictive distributions on a discrete rating scale.

Each function takes what a model's ``predict_proba`` returns, a frame with one row per
(user, item) pair and one column per rating value (named by the value, rows summing to
one), or ``predict_interval``'s frame (``lower``, ``upper``, ``mass``), and the observed
ratings of those pairs, in the same order. Nothing here needs nmfrec's models: any model
with such a ``predict_proba`` is scored alike.

* :func:`log_score`: the mean log probability of the observed ratings (higher is
  better; a proper scoring rule).
* :func:`pit_histogram`: the probability integral transform histogram of a discrete
  forecast (Czado, Gneiting & Held 2009): flat (every bin ``1 / n_bins``) when the
  forecasts are calibrated, U-shaped when they are too narrow, hump-shaped when too wide.
* :func:`interval_coverage`: the share of observed ratings inside their intervals, to
  compare with the intervals' mean ``mass``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._validation import type_name

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import FloatArray, Seed

__all__ = ["log_score", "pit_histogram", "interval_coverage"]


def _probabilities(proba, observed, where):
    """``proba`` as (values, P) checked, and each observed rating's column index."""
    if not isinstance(proba, pd.DataFrame):
        raise TypeError(f"{where}: proba must be a pandas DataFrame with one column per rating "
                        f"value (what predict_proba returns); got {type_name(proba)}.")
    try:
        values = np.asarray(proba.columns, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: the columns of proba must be the rating values; got "
                         f"{list(proba.columns)[:5]}.") from None
    if values.size == 0 or np.any(np.diff(values) <= 0):
        raise ValueError(f"{where}: the columns of proba must be distinct rating values in "
                         f"ascending order; got {values.tolist()[:10]}.")
    P = proba.to_numpy(dtype=np.float64)
    y = np.asarray(observed, dtype=np.float64).ravel()
    if y.size != P.shape[0]:
        raise ValueError(f"{where}: {y.size} observed ratings for {P.shape[0]} rows of proba.")
    if np.isnan(P).any():
        rows = np.flatnonzero(np.isnan(P).any(axis=1))
        raise ValueError(f"{where}: proba has NaN in {rows.size} rows (first: row {rows[0]}; "
                         "pairs of unknown users or items); drop them first.")
    idx = np.searchsorted(values, y)
    bad = (idx >= values.size) | (values[np.minimum(idx, values.size - 1)] != y)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{where}: observed rating {float(y[j])!r} (row {j}) is not one of the "
                         f"rating values {values.tolist()}.")
    return values, P, idx


def log_score(proba: pd.DataFrame, observed: npt.ArrayLike) -> float:
    """Mean log probability that the forecasts gave the observed ratings.

    Parameters
    ----------
    proba : pandas.DataFrame
        One row per pair, one column per rating value (``predict_proba``'s frame).
    observed : array-like
        The observed rating of each row, one of the column values.

    Returns
    -------
    float
        ``mean_j log proba[j, observed[j]]``, in nats (``-inf`` if a rating had
        probability zero).

    Raises
    ------
    ValueError
        Lengths differ, a row holds NaN, or an observed rating is not a column.

    Examples
    --------
    >>> import pandas as pd
    >>> from nmfrec.evaluation import log_score
    >>> proba = pd.DataFrame([[0.2, 0.8], [0.5, 0.5]], columns=[1.0, 2.0])
    >>> round(log_score(proba, [2, 1]), 4)      # (log 0.8 + log 0.5) / 2
    -0.4581
    """
    _, P, idx = _probabilities(proba, observed, "log_score")
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log(P[np.arange(idx.size), idx])))


def pit_histogram(proba: pd.DataFrame, observed: npt.ArrayLike, n_bins: int = 10,
                  random_state: Seed = None) -> FloatArray:
    """Probability integral transform histogram of discrete forecasts.

    For a forecast with distribution function ``F`` and an observed value ``y``, the
    randomized PIT is ``F(y-) + V (F(y) - F(y-))`` with ``V`` uniform on (0, 1):
    uniform on (0, 1) exactly when the forecasts are calibrated. With ``random_state``
    None this returns its expected histogram, Czado, Gneiting & Held's non-randomized
    PIT histogram: each observation spreads its unit mass uniformly over ``(F(y-),
    F(y))``, so no draw adds noise. With a seed, each observation's PIT is drawn once.

    Parameters
    ----------
    proba : pandas.DataFrame
        One row per pair, one column per rating value (``predict_proba``'s frame).
    observed : array-like
        The observed rating of each row.
    n_bins : int, default=10
        Equal bins of (0, 1).
    random_state : int, numpy Generator or None, default=None
        None: the expected histogram; otherwise the seed of the uniform draws.

    Returns
    -------
    ndarray of shape (n_bins,)
        The share of observations in each bin (sums to one); ``1 / n_bins`` each when
        calibrated.

    References
    ----------
    Czado, Gneiting & Held (2009), Predictive model assessment for count data,
    Biometrics 65(4).

    Examples
    --------
    >>> import pandas as pd
    >>> from nmfrec.evaluation import pit_histogram
    >>> proba = pd.DataFrame([[0.5, 0.5]], columns=[1, 2])
    >>> pit_histogram(proba, [2], n_bins=4).tolist()   # PIT uniform on (0.5, 1)
    [0.0, 0.0, 0.5, 0.5]
    """
    if not (isinstance(n_bins, (int, np.integer)) and n_bins >= 1):
        raise ValueError(f"n_bins must be an integer >= 1; got {n_bins!r}.")
    _, P, idx = _probabilities(proba, observed, "pit_histogram")
    rows = np.arange(idx.size)
    C = np.concatenate([np.zeros((P.shape[0], 1)), np.cumsum(P, axis=1)], axis=1)
    lo = np.clip(C[rows, idx], 0.0, 1.0)
    hi = np.clip(C[rows, idx + 1], 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    if random_state is not None:
        v = np.random.default_rng(random_state).random(idx.size)
        pit = lo + v * (hi - lo)
        counts = np.histogram(pit, bins=edges)[0]
        return counts / idx.size
    width = hi - lo
    # the share of each observation's interval (lo, hi) in each bin
    overlap = (np.minimum(hi[:, None], edges[None, 1:])
               - np.maximum(lo[:, None], edges[None, :-1])).clip(min=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(width[:, None] > 0, overlap / width[:, None], 0.0)
    # an observation with zero width (probability 0) sits at one point: its bin
    point = width <= 0
    if point.any():
        b = np.minimum((lo[point] * n_bins).astype(int), n_bins - 1)
        share[np.flatnonzero(point), b] = 1.0
    return share.mean(axis=0)


def interval_coverage(intervals: pd.DataFrame, observed: npt.ArrayLike) -> float:
    """Share of observed ratings inside their predicted intervals (ends included).

    Parameters
    ----------
    intervals : pandas.DataFrame
        Columns ``lower`` and ``upper`` (``predict_interval``'s frame), one row per pair.
    observed : array-like
        The observed rating of each row.

    Returns
    -------
    float
        Compare with ``intervals["mass"].mean()``, the share the forecasts promised.

    Raises
    ------
    ValueError
        Lengths differ, or an interval is NaN.

    Examples
    --------
    >>> import pandas as pd
    >>> from nmfrec.evaluation import interval_coverage
    >>> iv = pd.DataFrame({"lower": [3, 4], "upper": [5, 4], "mass": [0.9, 0.8]})
    >>> interval_coverage(iv, [3, 5])
    0.5
    """
    if not isinstance(intervals, pd.DataFrame) or not {"lower", "upper"} <= set(intervals):
        raise TypeError("interval_coverage: intervals must be a DataFrame with columns lower "
                        f"and upper (what predict_interval returns); got {type_name(intervals)}"
                        + (f" with columns {list(intervals.columns)}"
                           if isinstance(intervals, pd.DataFrame) else "") + ".")
    lo = intervals["lower"].to_numpy(dtype=np.float64)
    hi = intervals["upper"].to_numpy(dtype=np.float64)
    y = np.asarray(observed, dtype=np.float64).ravel()
    if y.size != lo.size:
        raise ValueError(f"interval_coverage: {y.size} observed ratings for {lo.size} "
                         "intervals.")
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ValueError("interval_coverage: some intervals are NaN (pairs of unknown users "
                         "or items); drop them first.")
    return float(np.mean((y >= lo) & (y <= hi)))

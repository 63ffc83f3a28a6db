"""Predictive distributions of ratings: how sure each prediction is.

The Bayesian rating part (:class:`~nmfrec.BayesianNMF`) keeps ``S`` posterior draws; in
draw ``t`` the rating of (u, i) is normal,

    r_ui | draw t ~ N(mu_t, sigma_t^2),   mu_t = s (b_u + c_i + w_u . h_i)_t,
    sigma_t = s / sqrt(tau_t a_tu e_ti),

with the draw's noise precision and the noise weights of the user and of the item. The
predictive distribution is the mixture of these ``S`` normals with equal weights. From it:

* :func:`mean_std`: its mean (the prediction) and standard deviation,
  ``sqrt(mean_t(sigma_t^2 + mu_t^2) - mean^2)``;
* :func:`proba`: its probability of each rating value ``v_1 < ... < v_K`` seen in the
  ratings the model holds, the mass of the mixture between the midpoints of adjacent
  values, everything below ``(v_1 + v_2) / 2`` going to ``v_1`` and everything above
  ``(v_{K-1} + v_K) / 2`` to ``v_K``;
* :func:`shortest_intervals`: the shortest run of adjacent rating values whose
  probability is at least a level.

:class:`~nmfrec.Recommender` calls these through thin methods (``predict(...,
return_std=True)``, ``predict_proba``, ``predict_interval``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

__all__ = ["MAX_RATING_VALUES", "check_predictive", "draws_at", "mean_std", "proba",
           "rating_values", "shortest_intervals", "part_spread"]

#: A scale with more distinct rating values than this is taken as continuous: no
#: ``predict_proba`` (there would be a column per value).
MAX_RATING_VALUES = 100
_CHUNK = 4096        # pairs at a time (a chunk holds pairs x draws x values floats)


def check_predictive(rec, what):
    """Raise unless ``rec``'s rating part has a posterior to give distributions from."""
    from .bayes import BayesianNMF

    if not rec.predicts_ratings:
        raise ValueError(f"{what} needs ratings: this model was fitted to implicit feedback "
                         f"(feedback_={rec.feedback_!r}), whose scores are preferences, not "
                         "ratings with a distribution. The default model on a ratings "
                         "table (feedback='explicit', solver='gibbs') has one.")
    if not isinstance(rec.model_, BayesianNMF):
        raise ValueError(f"{what} needs the Bayesian rating part (the default model, "
                         f"solver='gibbs'); this model's rating part is a single penalized "
                         f"fit ({type(rec.model_).__name__}, solver={rec.solver!r}), which has "
                         "no posterior to spread its predictions.")


def draws_at(model, u, i):
    """Each kept draw's mean and noise standard deviation at the pairs (u, i), in the
    data's units: two arrays of shape (n_pairs, n_kept)."""
    kept = model.noise_precision_.size
    nf = model.n_factors_per_draw
    Wu = np.asarray(model.W_[u], dtype=np.float64).reshape(len(u), kept, nf)
    Hi = np.asarray(model.components_[:, i], dtype=np.float64).T.reshape(len(i), kept, nf)
    mu = kept * np.einsum("ptk,ptk->pt", Wu, Hi)
    precision = (model.noise_precision_[None, :] * model.row_noise_weight_[:, u].T
                 * model.col_noise_weight_[:, i].T)
    return mu, model.scale_ / np.sqrt(precision)


def mean_std(model, u, i):
    """The predictive mixture's mean and standard deviation at the pairs (u, i)."""
    mean = np.empty(len(u))
    std = np.empty(len(u))
    for s in range(0, len(u), _CHUNK):
        mu, sd = draws_at(model, u[s:s + _CHUNK], i[s:s + _CHUNK])
        m = mu.mean(axis=1)
        mean[s:s + _CHUNK] = m
        var = np.mean(sd * sd + (mu - m[:, None]) ** 2, axis=1)
        std[s:s + _CHUNK] = np.sqrt(var)
    return mean, std


def rating_values(rec):
    """The distinct rating values of the ratings ``rec`` holds, ascending (checked)."""
    values = np.unique(np.asarray(rec.ratings_.data, dtype=np.float64))
    if values.size > MAX_RATING_VALUES:
        raise ValueError(f"the ratings take {values.size} distinct values (more than "
                         f"{MAX_RATING_VALUES}): a continuous scale, with no probability per "
                         "value. Use predict(..., return_std=True) for the predictive mean "
                         "and standard deviation.")
    return values


def proba(model, u, i, values):
    """Probability of each of ``values`` (ascending) at the pairs (u, i): an array of
    shape (n_pairs, len(values)), rows summing to one (see the module docstring)."""
    edges = (values[1:] + values[:-1]) / 2.0
    out = np.empty((len(u), values.size))
    if values.size == 1:
        out[:] = 1.0
        return out
    for s in range(0, len(u), _CHUNK):
        mu, sd = draws_at(model, u[s:s + _CHUNK], i[s:s + _CHUNK])
        cdf = ndtr((edges[None, None, :] - mu[:, :, None]) / sd[:, :, None]).mean(axis=1)
        full = np.concatenate([np.zeros((cdf.shape[0], 1)), cdf,
                               np.ones((cdf.shape[0], 1))], axis=1)
        out[s:s + _CHUNK] = np.diff(full, axis=1)
    return out


def shortest_intervals(P, values, level):
    """For each row of probabilities ``P`` over ``values`` (ascending), the shortest run
    of adjacent values whose probability is at least ``level``; among runs of that
    length that do, the one whose probability is nearest ``level`` (then the lowest): on
    a coarse scale, the interval that promises no more than it must.

    Returns
    -------
    pandas.DataFrame
        Columns ``lower``, ``upper`` (rating values) and ``mass`` (the run's probability);
        rows of NaN probabilities give NaN.
    """
    n, K = P.shape
    C = np.concatenate([np.zeros((n, 1)), np.cumsum(P, axis=1)], axis=1)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    mass = np.full(n, np.nan)
    todo = ~np.isnan(P).any(axis=1)
    tol = 1e-12            # the whole scale always qualifies, whatever the rounding
    for width in range(1, K + 1):
        if not todo.any():
            break
        rows = np.flatnonzero(todo)
        m = C[rows, width:] - C[rows, :K - width + 1]       # runs starting at 0..K-width
        if width == K:                                       # the whole scale
            m = np.maximum(m, level)
        held = np.where(m >= level - tol, m, np.inf)
        best = np.argmin(held, axis=1)           # the first of the least probable that hold
        got = m[np.arange(rows.size), best]
        ok = np.isfinite(held[np.arange(rows.size), best])
        r = rows[ok]
        lower[r] = values[best[ok]]
        upper[r] = values[best[ok] + width - 1]
        mass[r] = np.minimum(got[ok], 1.0) if width < K else np.minimum(
            C[r, K] - C[r, 0], 1.0)
        todo[r] = False
    return pd.DataFrame({"lower": lower, "upper": upper, "mass": mass})


def part_spread(model, u, i):
    """Posterior standard deviation over the kept draws of each named part of the
    rating prediction at (u, i), in the order of the model's ``component_names_``."""
    kept = model.noise_precision_.size
    nf = model.n_factors_per_draw
    per_draw = kept * (np.asarray(model.W_[u], dtype=np.float64)
                       * np.asarray(model.components_[:, i], dtype=np.float64)).reshape(kept, nf)
    return dict(zip(model.component_names_, per_draw.std(axis=0)))

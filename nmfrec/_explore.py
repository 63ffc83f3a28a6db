"""Exploration: rankings drawn from the ranking part's posterior (Thompson sampling).

``Recommender.recommend(user, k, explore=True)`` ranks by one draw of the user's scores
from the posterior of the part that ranks (``ranking_model_``) instead of by the fitted
scores: an item the model is unsure about gets its chance in proportion to how likely it
is to be the best (Thompson 1933; Chapelle & Li 2011). How the draw is made depends on
the part:

* **A penalized factorization** (:class:`~nmfrec.MaskedNMF`, the default preference
  part) is one fit with no posterior of its own. Given the fitted item factors ``Y``,
  a user's row objective is a quadratic in the user's row ``w``,

      F_u(w) = 1/2 w^T A_u w - b_u^T w + const,  w >= 0,

  whose curvature ``A_u`` is the matrix of the row's normal equations, the system the
  ALS and coordinate-descent updates solve for that row:

      implicit:  A_u = m Y^T Y + sum_{i in Omega_u} (c_ui - m) y_i y_i^T + r_u l2 I
      explicit:  A_u = sum_{i in Omega_u} y_i y_i^T + r_u l2 I

  (``c_ui = 1 + alpha x_ui``, ``m`` the missing weight, ``r_u`` the row's penalty scale;
  only the free columns: fixed columns of ones keep their value). Read as a negative
  log-likelihood with noise variance ``sigma^2`` (the objective's weights as
  precisions), the user's posterior given ``Y`` is Gaussian with precision
  ``A_u / sigma^2``, restricted to ``w >= 0``. The approximation used here is centred on
  the fitted row ``w_u`` (a Laplace approximation around the fit, so that a vanishing
  ``explore`` gives back the fitted ranking exactly):

      z ~ N(w_u, explore * sigma^2 * A_u^{-1}),
      w = argmin_{v >= 0} (v - z)^T A_u (v - z)

  The restriction to ``w >= 0`` is a projection of the Gaussian draw onto the
  non-negative orthant in the posterior's own metric ``A_u`` (the row objective
  minimised with the drawn row as its unconstrained target; Papandreou & Yuille's
  perturb-and-MAP), not a truncated normal: it keeps the Gaussian's correlations, costs
  one Cholesky factorization, one triangular solve and a small coordinate descent, and
  a Gaussian draw that is non-negative already is kept as it is.
  Clipping each negative coordinate at 0 instead would shift every component the fit
  switched off upward, toward the components of popular items: on MovieLens 100K it
  ranked worse and made the lists of different users more alike. ``sigma^2`` is the fit's weighted
  mean squared residual, ``reconstruction_err_^2`` over the number of cells the data
  term sums over (every cell for implicit feedback, the observed ones for explicit):
  the maximum-likelihood noise variance of that Gaussian model. Everything it needs
  (factors, parameters, training ratings, ``reconstruction_err_``) is in a saved model,
  so a loaded or a Spark-fitted model explores as the one fitted here.
* **The Bayesian rating part** (:class:`~nmfrec.BayesianNMF`, ``ranking="rating"``)
  keeps draws from its posterior: each user's list is ranked by one kept draw, chosen
  uniformly. ``explore`` scales the draw's deviation from the posterior mean by
  ``sqrt(explore)`` (its variance by ``explore``): 1 is an exact posterior draw.
* **Popularity** (``ranking="popularity"``) ranks by each item's number of
  interactions ``n_i``. Thompson sampling draws each item's rate from its posterior
  under a Poisson model with Jeffreys' prior, ``Gamma(n_i + 1/2, 1)``; ``explore``
  scales its variance (shape ``(n_i + 1/2) / explore``, scale ``explore``), keeping its
  mean ``n_i + 1/2``.

Randomness: ``random_state`` (an int, a numpy Generator or None) gives one base seed; each
user's draws come from their own stream, ``SeedSequence(base, spawn_key=(user index,))``,
so a user's list is the same whether asked alone or in a batch, and the same seed gives
the same lists.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg

from . import _kernels as K
from ._auto import PopularityPart
from ._validation import RandomState, check_params
from .bayes import BayesianNMF
from .nmf import _REG_MODES, MaskedNMF

__all__ = ["explore_scale", "base_seed", "user_rng", "row_precision", "noise_variance",
           "RowPosterior", "sample_scores", "explore_topk", "NEW_USER_KEY"]

#: ``explore=True``: the posterior approximation itself, unscaled.
DEFAULT_SCALE = 1.0

#: Coordinate-descent sweeps (at most) and relative tolerance of the projection.
_PROJECT_SWEEPS = 500
_PROJECT_TOL = 1e-10

#: Spawn key of the stream of a user who is not in the training data
#: (``recommend_new``): apart from every known user's ``(index,)``.
NEW_USER_KEY = (2**63 - 1,)


def explore_scale(explore) -> float:
    """``explore`` as the factor on the posterior's covariance (0: greedy).

    Parameters
    ----------
    explore : bool or float
        False (greedy), True (:data:`DEFAULT_SCALE`) or a finite number >= 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Anything else, naming the value.
    """
    if isinstance(explore, (bool, np.bool_)):
        return DEFAULT_SCALE if explore else 0.0
    if isinstance(explore, numbers.Real) and np.isfinite(explore) and explore >= 0:
        return float(explore)
    raise ValueError("explore must be True, False or a finite number >= 0 (the factor on "
                     f"the posterior's covariance); got {explore!r}.")


def base_seed(random_state) -> int:
    """One integer seed from ``random_state``: an int as it is, a Generator's next
    draw, fresh entropy for None.

    Parameters
    ----------
    random_state : None, int >= 0 or numpy Generator/RandomState

    Returns
    -------
    int
    """
    check_params({"random_state": random_state}, {"random_state": [RandomState()]})
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(np.random.SeedSequence().entropy)


def user_rng(seed, key) -> np.random.Generator:
    """The stream of one user: ``key`` is ``(inner index,)`` or :data:`NEW_USER_KEY`."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


# ---------------------------------------------------------------------- penalized parts
def noise_variance(part: MaskedNMF, n_cells: int) -> float:
    """``sigma^2``: the fit's weighted mean squared residual over ``n_cells`` cells."""
    return float(part.reconstruction_err_) ** 2 / max(int(n_cells), 1)


def data_cells(part: MaskedNMF, csr) -> int:
    """How many cells the part's data term sums over: all of them (implicit feedback),
    or the observed ones (explicit)."""
    if part.feedback == "implicit":
        return int(csr.shape[0]) * int(csr.shape[1])
    return int(csr.nnz)


def row_precision(part: MaskedNMF, Y, gram, cols, values, n_cols):
    """``A_u`` of one row on the free columns (see the module docstring), float64.

    Parameters
    ----------
    part : MaskedNMF
        The fitted part (its parameters give the objective).
    Y : ndarray (n_cols, n_factors)
        Its column factors, row-major, float64.
    gram : ndarray (n_factors, n_factors) or None
        ``Y^T Y`` (implicit feedback), computed once for many rows.
    cols, values : ndarrays
        The row's observed columns and stored values.
    n_cols : int
        Columns of the whole matrix (for the row's weight).

    Returns
    -------
    ndarray of shape (n_free, n_free)
    """
    free = ~part._layout.fixed_W.astype(bool)
    implicit = part.feedback == "implicit"
    m = float(part.missing_weight)
    x = np.asarray(values, dtype=np.float64)
    Yo = Y[np.asarray(cols)]
    if implicit:
        c = 1.0 + float(part.alpha) * x
        e = c - m
        weight = float(c.sum()) + m * (n_cols - x.size)
        A = m * gram + (Yo * e[:, None]).T @ Yo
    else:
        weight = float(x.size)
        A = Yo.T @ Yo
    mode = _REG_MODES[part.reg_scale]
    r = {K.REG_NONE: 1.0, K.REG_COUNT: float(x.size), K.REG_WEIGHT: weight}[mode]
    A = A[np.ix_(free, free)]
    A[np.diag_indices_from(A)] += r * float(part.l2_W)
    return A


class RowPosterior:
    """The Gaussian approximation of a penalized part's rows (see the module docstring).

    Parameters
    ----------
    part : MaskedNMF
        The fitted part.
    csr : scipy.sparse.csr_matrix
        The data it was fitted on, rows in ``part.W_``'s order (``Recommender.ratings_``).
    """

    def __init__(self, part: MaskedNMF, csr):
        self.part = part
        self.csr = csr
        self.Y = np.ascontiguousarray(part.components_.T, dtype=np.float64)
        self.gram = self.Y.T @ self.Y if part.feedback == "implicit" else None
        self.sigma2 = noise_variance(part, data_cells(part, csr))
        self.free = ~part._layout.fixed_W.astype(bool)

    def precision(self, cols, values):
        """``A_u`` of a row with these observed columns and values."""
        return row_precision(self.part, self.Y, self.gram, cols, values, self.Y.shape[0])

    def covariance(self, cols, values):
        """``sigma^2 A_u^{-1}``, the Gaussian's covariance at ``explore=1``."""
        return self.sigma2 * np.linalg.inv(self.precision(cols, values))

    def draw(self, w, cols, values, scale, rng):
        """One draw of the row: ``z = w + sqrt(scale sigma^2) L^{-T} eps`` on the free
        columns (``A_u = L L^T``, ``eps`` standard normal) projected onto ``w >= 0`` in the
        metric ``A_u``; fixed columns as in ``w``."""
        out = np.array(w, dtype=np.float64)
        eps = rng.standard_normal(int(self.free.sum()))
        if scale == 0.0 or self.sigma2 == 0.0:
            return out
        A = self.precision(cols, values)
        step = _precision_solve(A, eps)
        z = out[self.free] + np.sqrt(scale * self.sigma2) * step
        out[self.free] = K.project_nonneg(A, z, _PROJECT_SWEEPS, _PROJECT_TOL * _norm(z))
        return out


def _norm(z):
    return float(np.max(np.abs(z))) if z.size else 0.0


def _precision_solve(A, eps):
    """``L^{-T} eps`` for ``A = L L^T``: a draw of ``N(0, A^{-1})``. Directions without
    curvature (a row with no data and no penalty) get no spread: they carry no evidence,
    and an improper posterior has no draw."""
    try:
        L = scipy.linalg.cholesky(A, lower=True, check_finite=False)
        return scipy.linalg.solve_triangular(L, eps, lower=True, trans="T", check_finite=False)
    except np.linalg.LinAlgError:
        lam, V = np.linalg.eigh(A)
        keep = lam > lam.max() * 1e-12 if lam.size and lam.max() > 0 else np.zeros_like(lam, bool)
        inv_sqrt = np.zeros_like(lam)
        inv_sqrt[keep] = 1.0 / np.sqrt(lam[keep])
        return V @ (inv_sqrt * (V.T @ eps))


# ---------------------------------------------------------------------- drawing scores
def _draw_rows(rec, W, csr, scale, rngs):
    """Query rows (one per user) whose product with the ranking part's item factors is a
    draw of the users' scores; ``W`` the users' fitted rows, ``csr`` their data."""
    part = rec.ranking_model_
    Q = np.array(W, dtype=np.float64)
    if isinstance(part, MaskedNMF):
        post = RowPosterior(part, rec.ratings_)
        for j in range(Q.shape[0]):
            lo, hi = csr.indptr[j], csr.indptr[j + 1]
            Q[j] = post.draw(Q[j], csr.indices[lo:hi], csr.data[lo:hi], scale, rngs[j])
        return Q
    if isinstance(part, BayesianNMF):
        nf = part.n_factors_per_draw
        kept = part.noise_precision_.size
        for j in range(Q.shape[0]):
            t = int(rngs[j].integers(kept))
            draw = np.zeros_like(Q[j])
            block = slice(t * nf, (t + 1) * nf)
            draw[block] = kept * Q[j, block]    # W_ @ components_ averages the blocks
            Q[j] = Q[j] + np.sqrt(scale) * (draw - Q[j])
        return Q
    raise TypeError(f"cannot draw rows of a {type(part).__name__}")   # pragma: no cover


def popularity_scores(part: PopularityPart, scale, rng):
    """One draw of every item's rate, ``Gamma((n + 1/2) / scale, scale)``."""
    shape = part.components_[0] + 0.5
    if scale == 0.0:
        return shape.copy()
    return rng.gamma(shape / scale, scale)


def explore_topk(rec, uidx, scale, random_state, allowed, ex_indptr, ex_indices, k,
                 rows=None):
    """Top-k of drawn scores for several users at once, as ``Recommender._topk`` returns
    them.

    Parameters
    ----------
    rec : Recommender
        The fitted recommender.
    uidx : ndarray of int or None
        Inner indices of known users; None for one new user given by ``rows``.
    scale : float
        The factor on the posterior's covariance (> 0).
    random_state : None, int or numpy Generator
        The base seed (see :func:`base_seed`).
    allowed, ex_indptr, ex_indices, k
        As ``Recommender._topk`` takes them.
    rows : (ndarray (1, n_factors), csr_matrix (1, n_items)), optional
        A new user's folded-in row of the ranking part and their data.

    Returns
    -------
    (idx, scores, counts)
    """
    seed = base_seed(random_state)
    part = rec.ranking_model_
    if uidx is None:
        (W, csr), keys = rows, [NEW_USER_KEY]
    else:
        W, csr, keys = part.W_[uidx], rec.ratings_[uidx], [(int(u),) for u in uidx]
    rngs = [user_rng(seed, key) for key in keys]
    if not isinstance(part, PopularityPart):
        Q = _draw_rows(rec, W, csr, scale, rngs)
        return rec._topk(Q.astype(part.W_.dtype), rec._ranking_items(), allowed, ex_indptr,
                         ex_indices, k)
    n = min(k, part.components_.shape[1])
    idx = np.empty((len(keys), n), dtype=np.int64)
    scores = np.empty((len(keys), n))
    counts = np.empty(len(keys), dtype=np.int64)
    one = np.ones((1, 1))
    for j, rng in enumerate(rngs):
        lam = popularity_scores(part, scale, rng)[:, None]
        i, s, c = rec._topk(one, lam, allowed, ex_indptr[j:j + 2] - ex_indptr[j],
                            ex_indices[ex_indptr[j]:ex_indptr[j + 1]], k)
        idx[j], scores[j], counts[j] = i[0], s[0], c[0]
    return idx, scores, counts


def sample_scores(rec, user, scale=1.0, random_state=None):
    """One draw of a known user's scores for every item (for tests and diagnostics).

    Parameters
    ----------
    rec : Recommender
    user : label
    scale : float, default=1.0
    random_state : None, int or Generator

    Returns
    -------
    ndarray of shape (n_items,)
    """
    u = rec.users_.number(user, kind="user")
    rng = user_rng(base_seed(random_state), (u,))
    part = rec.ranking_model_
    if isinstance(part, PopularityPart):
        return popularity_scores(part, scale, rng)
    Q = _draw_rows(rec, part.W_[[u]], rec.ratings_[[u]], scale, [rng])
    return Q[0] @ np.asarray(part.components_, dtype=np.float64)

"""BayesianNMF: non-negative matrix factorization averaged over its posterior.

Where :class:`~nmfrec.MaskedNMF` finds one set of factors for penalties the user chooses,
this estimator puts priors on the factors *and on their scales*, draws factors from the
posterior given the observed entries by Gibbs sampling, and predicts with the average of
the draws. Every hyper-parameter of the priors is itself drawn from the data, so there is
no penalty to tune. The numerical work is the row kernel in :mod:`nmfrec._kernels._gibbs`.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import gammaln

from . import _kernels as K
from ._auto import DataStats, rating_rank
from ._base import ThreadLimits, warn
from ._factor_model import FactorModel
from ._progress import Progress
from ._rows import OUT, ROW0
from ._validation import Dtype, Interval, Options, RandomState, check_params, check_random_state
from .exceptions import ConvergenceWarning
from .nmf import FactorLayout

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._typing import FloatArray, FloatDType, MatrixLike, Noise, Prior, Seed

__all__ = ["BayesianNMF", "PRIORS", "NOISE"]

#: Noise models: a precision per entry scaled by a learned weight of its row and of its
#: column (learned from the residuals, or also weighting the factors' draws), or one
#: precision for every entry.
NOISE = ("row_col", "row_col_weighted", "shared")

#: Priors of the components: a Normal-Wishart with a learned mean and precision
#: (Salakhutdinov & Mnih), or exponential priors with one learned rate per component
#: (automatic relevance determination).
PRIORS = ("wishart", "ard")

# Vague hyper-priors (Salakhutdinov & Mnih 2008): Gamma(1, 1) on the noise and bias
# precisions; Normal-Wishart(m0 = the data's level, beta0 = 2, W0 = I, nu0 = k) on the
# mean and precision of the components. The data are divided by their root mean square
# first, so these priors mean the same on every rating scale.
_GAMMA_SHAPE = 1.0
_GAMMA_RATE = 1.0
_BETA0 = 2.0
_FOLDIN_SWEEPS = 500     # transform(): coordinate descent to the row's posterior mode
_FOLDIN_TOL = 1e-10
_MEAN_TRIES = 100        # rejection draws of a non-negative prior mean before clipping
_FOLDIN_DRAWS = 10       # transform(): alternations of (row | weight) and (weight | row)
                         # from the row's posterior mode, per kept draw (noise weights
                         # that weight the factors; else one draw of each)
_FOLDIN_DRAW_SWEEPS = 50  # coordinate sweeps of one fold-in draw of a row's factors
# Noise weights (noise="row_col"): a_u ~ Gamma(alpha, alpha), mean 1, the shape alpha
# drawn from its conditional on this grid (a flat prior on log alpha): small alpha lets
# rows differ widely in noise, large alpha holds them near one common level.
_WEIGHT_SHAPES = np.geomspace(0.25, 1000.0, 97)

# The chain's own diagnostics (see _Chain)
_PROBES = 2048           # (user, item) pairs whose predictions the diagnostics follow
_BURNIN_MIN = 10         # sweeps before burn-in can end
_BURNIN_WINDOW = 5       # burn-in ends when the training RMSE of the last window of sweeps ...
_BURNIN_TOL = 1e-3       # ... is no more than this fraction below that of the window before
_BURNIN_MAX = 200        # at most this many burn-in sweeps (then a ConvergenceWarning)
_MAX_SAMPLES = 1000      # sweeps after burn-in, at most, when n_samples is None
_CHECK_EVERY = 10        # sweeps between two looks at the Monte Carlo error
_BATCHES = 10            # batch means of the autocorrelation time
_MCSE_TARGET = 0.035     # stop when the kept draws' average is this close to the posterior
                         # mean, in noise standard deviations (RMSE grows by ~0.06%)
_KEPT_BYTES = 128 * 2**20  # memory for the kept draws when n_kept is None ...
_KEPT_MIN, _KEPT_MAX = 20, 200   # ... within these numbers of draws

# column kinds of the row kernel
_NONNEG, _SIGNED, _FIXED = 0, 1, 2


class BayesianNMF(FactorModel):
    r"""Bayesian non-negative matrix factorization with missing entries (Gibbs sampling).

    The observed entries :math:`\Omega` of ``X`` (divided by their root mean square
    :math:`s`, so that the model is the same on every rating scale) are modelled as

    .. math::

        x_{ui} / s \sim \mathcal N(b_u + c_i + w_u \cdot h_i,\ (\tau\, a_u e_i)^{-1}),
        \quad w_u, h_i \ge 0,

    with non-negative components :math:`w_u, h_i \in \mathbb R_+^k` and signed row and
    column offsets :math:`b_u, c_i`. Priors: :math:`w_u` is a normal
    :math:`\mathcal N(\mu_W, \Lambda_W^{-1})` restricted to the non-negative orthant (the
    same for :math:`h_i`), offsets are :math:`\mathcal N(0, \lambda^{-1})`, and the
    hyper-parameters :math:`(\mu_W, \Lambda_W)`, :math:`(\mu_H, \Lambda_H)`,
    :math:`\lambda_b, \lambda_c` and :math:`\tau` get vague conjugate priors
    (Normal-Wishart and Gamma, as in Salakhutdinov & Mnih's Bayesian PMF). With
    ``noise="row_col"`` each row and each column has its own noise weight, :math:`a_u,
    e_i \sim \mathrm{Gamma}(\alpha, \alpha)` (mean one; the shapes :math:`\alpha` of
    the rows' and of the columns' weights are drawn too, on a grid): some users rate
    more consistently than others, some items divide opinion more, and the predictive
    distribution of an entry is as wide as its row and column make it. The weights are
    drawn each sweep given the residuals of that sweep's factors, which are themselves
    drawn with the one precision :math:`\tau` (the weights do not feed back: a "cut"
    of the joint model, which keeps the predictions, and so the RMSE, those of
    ``noise="shared"``; on MovieLens the joint model, ``noise="row_col_weighted"``,
    predicted slightly worse). Nothing is
    tuned: how strongly each part is shrunk, and towards what, is drawn from the data
    along with the factors.

    ``fit`` runs a Gibbs sampler: each row's factors are drawn given the columns'
    (coordinate by coordinate, from their truncated-normal conditionals; rows are
    independent and drawn in parallel), then each column's given the rows', then the
    hyper-parameters. After ``n_burnin`` sweeps, ``n_samples`` more are drawn and
    ``n_kept`` of them, evenly spaced, are kept. The prediction is their average,

    .. math:: \hat x_{ui} = \frac{s}{S} \sum_{t=1}^{S} (b_u^t + c_i^t + w_u^t \cdot h_i^t),

    which is again a product of non-negative-component factors: ``W_`` holds the kept
    draws side by side (``n_kept`` blocks of ``n_components`` components and the offset
    columns), scaled so that ``W_ @ components_`` is the prediction. Each block's columns
    carry the names of ``factor_names_``; summing the products of the columns that share
    a name splits a prediction into the posterior mean of each component and offset.

    Averaging over the posterior rather than picking its mode is what makes the
    predictions shrink where the data are thin: a column rated once has draws spread
    widely, and their average stays near the population.

    Parameters
    ----------
    n_components : int or None, default=None
        Rank k of the components (the offsets come on top). None: a rank that grows
        as the cube root of the number of ratings (:func:`nmfrec._auto.rating_rank`: 7
        on MovieLens 100K's folds, 16 on MovieLens 1M). The prior's precision is drawn
        from the data, so components the data do not support are shrunk together.
    n_samples : int or None, default=None
        Gibbs sweeps after burn-in, among which ``n_kept`` draws are kept. None: the
        chain decides when to stop from its own Monte Carlo error (see ``_Chain``);
        ``n_samples_`` says how many it ran.
    n_burnin : int or None, default=None
        Sweeps discarded at the start. None: burn-in ends when the training error stops
        descending.
    n_kept : int or None, default=None
        Draws kept; memory and prediction time grow with it. At most ``n_samples``.
        None: as many as 128 MB hold, from 20 to 200.
    n_sweeps : int, default=8
        Coordinate sweeps over each row's factors per Gibbs sweep; more sweeps bring each
        row's draw closer to an exact draw of the whole row. (On MovieLens 100K, 4
        sweeps needed a longer chain for the same error and saved no time; 1 or 2 made
        the chain 1.5 to 3 times longer.)
    prior : {"wishart", "ard"}, default="wishart"
        Prior of the components: Normal-Wishart with a learned mean and precision, or
        exponential priors with one learned rate per component (automatic relevance
        determination).
    noise : {"row_col", "row_col_weighted", "shared"}, default="row_col"
        Noise model: a precision per entry, :math:`\tau a_u e_i`, with weights of its
        row and column learned from the residuals (``"row_col"``; the factors are drawn
        as with one precision), the same weights also weighting the entries in the
        factors' draws (``"row_col_weighted"``), or one precision :math:`\tau` for
        every entry (``"shared"``). The weights give each prediction its own spread
        (``Recommender.predict_proba``).
    user_bias : bool, default=True
        A signed offset per row.
    item_bias : bool, default=True
        A signed offset per column.
    random_state : int, numpy Generator or None, default=None
        Seed of every random draw. The same seed gives identical factors, whatever the
        number of threads.
    n_threads : int or None, default=None
        Threads for the row updates (numba); None uses numba's default.
    dtype : {"float64", "float32"}, default="float64"
        Storage type of the data and factors (the kernel accumulates in float64).
    verbose : int, default=0
        ``>= 1`` shows a progress bar with the training RMSE.

    Attributes
    ----------
    W_ : ndarray of shape (n_rows, n_kept * n_factors_per_draw)
        Row factors of the kept draws, side by side, scaled: ``W_ @ components_`` is the
        prediction.
    components_ : ndarray of shape (n_kept * n_factors_per_draw, n_cols)
        Column factors of the kept draws, laid out as ``W_``.
    factor_names_ : list of str
        Name of each column of ``W_``: ``"c0" .. "c{k-1}"``, ``"user_bias"``,
        ``"item_bias"``, repeated for each kept draw.
    component_names_ : list of str
        The distinct parts of a prediction, one block's ``factor_names_``.
    n_factors_per_draw : int
        Columns of one draw: ``n_components`` plus the offset and constant columns.
    noise_precision_ : ndarray of shape (n_kept,)
        The drawn noise precision :math:`\tau` of each kept draw (scaled data units).
    row_noise_weight_ : ndarray of shape (n_kept, n_rows)
        Each kept draw's noise weights :math:`a_u` of the rows (all ones with
        ``noise="shared"``): entry (u, i) of draw t has noise standard deviation
        ``scale_ / sqrt(noise_precision_[t] * row_noise_weight_[t, u] *
        col_noise_weight_[t, i])`` in the data's units.
    col_noise_weight_ : ndarray of shape (n_kept, n_cols)
        The same for the columns, :math:`e_i`.
    noise_weight_shape_ : ndarray of shape (n_kept, 2)
        The drawn shapes :math:`\alpha` of the rows' and of the columns' weight priors
        (``inf`` with ``noise="shared"``); the fold-in of new rows draws their weights
        from it.
    row_prior_precision_, row_prior_linear_ : ndarrays of shape (n_kept, K, K), (n_kept, K)
        The rows' prior of each kept draw, :math:`\Lambda` and :math:`\Lambda\mu`
        (scaled units), which the fold-in of new rows uses.
    scale_ : float
        The root mean square :math:`s` of the training entries.
    noise_sd_ : float
        Posterior mean of the noise standard deviation, in the data's units.
    train_rmse_ : ndarray of shape (n_burnin + n_samples,)
        RMSE on the training entries after each sweep (a trace to check the chain).
    n_features_in_, n_components_, n_factors_ : int
        Columns of ``X``, rank, and columns of ``W_``.
    fit_time_ : float
        Seconds spent in ``fit``.

    References
    ----------
    Salakhutdinov & Mnih (2008), Bayesian probabilistic matrix factorization using
    Markov chain Monte Carlo. Schmidt, Winther & Hansen (2009), Bayesian non-negative
    matrix factorization. Robert (1995), Simulation of truncated normal variables.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfrec import BayesianNMF
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((30, 2)) @ rng.random((2, 20)) * 4 + 1
    >>> X[rng.random(X.shape) < 0.3] = np.nan          # 30% missing
    >>> model = BayesianNMF(n_components=2, n_samples=50, n_kept=10, random_state=0).fit(X)
    >>> model.predict_entries([0], [1]).shape
    (1,)
    """

    _parameter_constraints = {
        "n_components": [Options(None), Interval("int", 1, None)],
        "n_samples": [Options(None), Interval("int", 1, None)],
        "n_burnin": [Options(None), Interval("int", 0, None)],
        "n_kept": [Options(None), Interval("int", 1, None)],
        "n_sweeps": [Interval("int", 1, None)],
        "prior": [Options(*PRIORS)],
        "noise": [Options(*NOISE)],
        "user_bias": [Options(True, False)],
        "item_bias": [Options(True, False)],
        "random_state": [RandomState()],
        "n_threads": [Options(None), Interval("int", 1, None)],
        "dtype": [Dtype()],
        "verbose": [Interval("int", 0, None), Options(True, False)],
    }

    def __init__(self, n_components: int | None = None, *, n_samples: int | None = None,
                 n_burnin: int | None = None, n_kept: int | None = None, n_sweeps: int = 8,
                 prior: Prior = "wishart", noise: Noise = "row_col", user_bias: bool = True,
                 item_bias: bool = True, random_state: Seed = None,
                 n_threads: int | None = None, dtype: FloatDType = "float64",
                 verbose: int | bool = 0) -> None:
        self.n_components = n_components
        self.n_samples = n_samples
        self.n_burnin = n_burnin
        self.n_kept = n_kept
        self.n_sweeps = n_sweeps
        self.prior = prior
        self.noise = noise
        self.user_bias = user_bias
        self.item_bias = item_bias
        self.random_state = random_state
        self.n_threads = n_threads
        self.dtype = dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def fit(self, X: MatrixLike, y: object = None) -> Self:
        """Draw the factors from their posterior given the observed entries of ``X``.

        Parameters
        ----------
        X : scipy sparse matrix, array-like with NaN for missing, or RatingsMatrix
            Shape (n_rows, n_cols). Observed values must be finite and >= 0. A
            :class:`nmfrec.spark.SparkRatings` is fitted on its Spark blocks, to the same
            factors.
        y : ignored
            Not used, present for scikit-learn's API.

        Returns
        -------
        self
        """
        self._fit(X)
        return self

    def fit_transform(self, X: MatrixLike, y: object = None) -> FloatArray:
        """Fit and return ``W_``.

        Parameters
        ----------
        X, y
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_rows, n_factors_)
        """
        return self._fit(X).W_

    def transform(self, X: MatrixLike) -> FloatArray:
        """Row factors of new rows against the fitted column factors (fold-in).

        For each kept draw, a new row's factors are a draw from their posterior given
        the row's entries and that draw's column factors, noise precision and row prior
        (coordinate Gibbs sweeps started at the posterior mode; with
        ``noise="row_col_weighted"``, alternating with draws of the row's noise
        weight), and its noise weight is drawn given them. A new row thus has a
        posterior spread over the kept draws as a training row has; the blocks are
        scaled and placed side by side as in ``W_``. The same call gives the same draws
        (fixed random streams).

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (n_new_rows, n_cols)

        Returns
        -------
        ndarray of shape (n_new_rows, n_factors_)
        """
        return super().transform(X)

    def get_fitted_state(self) -> dict[str, Any]:
        """The fitted model as arrays and plain values (for saving).

        Returns
        -------
        dict
            Arrays ``"W"``, ``"H_t"`` (row-major column factors), ``"noise_precision"``,
            ``"row_noise_weight"``, ``"col_noise_weight"``, ``"noise_weight_shape"``,
            ``"row_prior_precision"``, ``"row_prior_linear"``, ``"train_rmse"``, and the
            values ``"scale"``, ``"fit_time"``. :meth:`set_fitted_state` takes it back.
        """
        self._check_fitted("get_fitted_state")
        state = {
            "W": self.W_,
            "H_t": self._item_factors(),
            "noise_precision": self.noise_precision_,
            "row_noise_weight": self.row_noise_weight_,
            "col_noise_weight": self.col_noise_weight_,
            "noise_weight_shape": self.noise_weight_shape_,
            "row_prior_precision": self.row_prior_precision_,
            "row_prior_linear": self.row_prior_linear_,
            "train_rmse": self.train_rmse_,
            "scale": float(self.scale_),
            "fit_time": float(self.fit_time_),
            "n_burnin": self.n_burnin_,
            "n_samples": self.n_samples_,
            "autocorr_time": self.autocorr_time_,
            "mcse": self.mcse_,
        }
        if self._fold_in_modes:     # loaded from an old state: saved as it was
            for name in ("row_noise_weight", "col_noise_weight", "noise_weight_shape"):
                del state[name]
        return state

    def set_fitted_state(self, state: dict[str, Any]) -> Self:
        """Make this estimator the fitted model that ``state`` describes.

        Parameters
        ----------
        state : dict
            As :meth:`get_fitted_state` returns it, from a model with the same
            ``n_components``, ``user_bias`` and ``item_bias``. Without the noise weights
            (a state saved by nmfrec 0.2 or earlier, whose model had one noise level),
            every weight is one, and :meth:`transform` gives new rows each draw's
            posterior mode, as that model did.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            The arrays' shapes do not fit each other or the parameters.
        """
        W = np.ascontiguousarray(state["W"])
        Ht = np.ascontiguousarray(state["H_t"])
        tau = np.asarray(state["noise_precision"], dtype=np.float64)
        prec = np.asarray(state["row_prior_precision"], dtype=np.float64)
        lin = np.asarray(state["row_prior_linear"], dtype=np.float64)
        # the rank as fitted (an automatic one was chosen from the data)
        layout = self._new_layout(
            prec.shape[-1] - int(bool(self.user_bias)) - int(bool(self.item_bias))
            if self.n_components is None and prec.ndim == 3 else None)
        nf, kept = layout.n_factors, tau.size
        if (W.ndim != 2 or Ht.ndim != 2 or W.shape[1] != Ht.shape[1]
                or W.shape[1] != kept * nf or prec.shape != (kept, nf, nf)
                or lin.shape != (kept, nf)):
            raise ValueError(f"factor shapes {W.shape}, {Ht.shape} and priors {prec.shape}, "
                             f"{lin.shape} do not fit {kept} draws of {nf} factors "
                             f"({layout.names}).")
        weights = _noise_weights(state, kept, W.shape, Ht.shape)
        self._set_fitted(layout, W, Ht, tau, prec, lin, float(state["scale"]),
                         np.asarray(state["train_rmse"], dtype=np.float64),
                         float(state["fit_time"]), *weights)
        # a state from before the noise weights: new rows get each draw's posterior mode,
        # as the model saved then gave them
        self._fold_in_modes = state.get("row_noise_weight") is None
        # the chain's diagnostics (absent from files of nmfrec 0.2 and earlier)
        self.n_burnin_ = state.get("n_burnin")
        self.n_samples_ = state.get("n_samples")
        self.autocorr_time_ = state.get("autocorr_time")
        self.mcse_ = state.get("mcse")
        return self

    @property
    def component_names_(self) -> list[str]:
        """The distinct parts of a prediction: the components, then the offsets."""
        self._check_fitted("component_names_")
        return list(self._layout.names)

    @property
    def n_factors_per_draw(self) -> int:

        """Columns of one kept draw."""
        self._check_fitted("n_factors_per_draw")
        return self._layout.n_factors

    def _new_layout(self, n_components=None):
        k = self.n_components if n_components is None else n_components
        return FactorLayout(int(k), bool(self.user_bias), bool(self.item_bias))

    @staticmethod
    def _kinds(layout):
        """Column kinds of W and of H^T for the row kernel."""
        kw = np.full(layout.n_factors, _NONNEG, dtype=np.int8)
        kh = kw.copy()
        if layout.user_bias:
            kw[layout.user_bias_col], kh[layout.user_bias_col] = _SIGNED, _FIXED
        if layout.item_bias:
            kw[layout.item_bias_col], kh[layout.item_bias_col] = _FIXED, _SIGNED
        return kw, kh

    def _fit(self, X):
        check_params(self.get_params(deep=False), self._parameter_constraints)
        if self.n_samples is not None and self.n_kept is not None and self.n_kept > self.n_samples:
            raise ValueError(f"n_kept must be <= n_samples={self.n_samples}; got "
                             f"{self.n_kept}.")
        t0 = time.perf_counter()
        R = self._as_matrix(X, "fit")
        m, n = R.shape
        if R.nnz == 0:
            raise ValueError(f"X has no observed entries (shape {R.shape}); there is nothing "
                             "to fit.")
        layout = self._new_layout(rating_rank(DataStats(m, n, R.nnz))
                                  if self.n_components is None else None)
        k, nf = layout.n_components, layout.n_factors
        kind_W, kind_H = self._kinds(layout)
        rng = check_random_state(self.random_state)
        dt = self._dtype

        raw = R.rows()
        scale = math.sqrt(raw.mean_square())
        if not scale > 0.0:
            scale = 1.0                   # every observed value is 0
        rows = raw.scaled(scale, dt)
        # the components carry the data's level: start them, and centre their prior, there
        level = math.sqrt(max(raw.mean() / scale, 1e-3) / k)
        # the factors, and in a last column each row's (column's) noise weight
        W = np.zeros((m, nf + 1), dtype=dt)
        Ht = np.zeros((n, nf + 1), dtype=dt)
        W[:, :k] = level * (0.5 + rng.random((m, k)))
        Ht[:, :k] = level * (0.5 + rng.random((n, k)))
        if layout.user_bias:
            Ht[:, layout.user_bias_col] = 1.0
        if layout.item_bias:
            W[:, layout.item_bias_col] = 1.0
        W[:, nf] = 1.0
        Ht[:, nf] = 1.0
        row_counts = R.row_counts().astype(np.float64)
        col_counts = R.col_counts().astype(np.float64)
        learn = self.noise != "shared"                  # noise weights drawn
        weighted = self.noise == "row_col_weighted"     # ... and weighting the factors
        # the weights' own random stream: the factors' draws are those of a model
        # without weights unless the weights feed back into them
        noise_rng = _spawn(rng) if learn else None
        shapes = np.array([np.inf, np.inf])
        wishart = self.prior == "wishart"
        prior_W = _Prior(layout, kind_W, level, wishart)
        prior_H = _Prior(layout, kind_H, level, wishart)
        tau = 1.0

        chain = _Chain(self.n_burnin, self.n_samples, self.n_kept, R, rng,
                       draw_bytes=(m + n) * (nf + 1) * np.dtype(dt).itemsize)
        sse_rows = np.empty((m, 2))
        sse_cols = np.empty((n, 2))
        bar = Progress(chain.max_sweeps, desc="BayesianNMF") if self.verbose else None
        try:
            with ThreadLimits(self.n_threads, cap_blas=False):   # the kernel calls no BLAS
                while not chain.done:
                    seed_W, seed_H = rng.integers(0, 2**63, size=2, dtype=np.uint64)
                    rows.run("W", K.gibbs_update_rows, W, Ht,
                             (tau, prior_W.precision, prior_W.linear, kind_W, self.n_sweeps,
                              True, seed_W, 0.0, OUT, ROW0, weighted), out=sse_rows)
                    if learn:        # a_u given the rows' factors and the columns' weights
                        shapes[0] = _draw_weights(W, nf, row_counts, tau * sse_rows[:, 1],
                                                  noise_rng)
                    rows.run("H", K.gibbs_update_rows, Ht, W,
                             (tau, prior_H.precision, prior_H.linear, kind_H, self.n_sweeps,
                              True, seed_H, 0.0, OUT, ROW0, weighted), out=sse_cols)
                    if learn:        # e_i given the columns' factors and the rows' weights
                        shapes[1] = _draw_weights(Ht, nf, col_counts, tau * sse_cols[:, 1],
                                                  noise_rng)
                    if weighted:     # the columns' weighted sums, with their new weights
                        wsse = float(np.dot(Ht[:, nf], sse_cols[:, 1]))
                    else:
                        wsse = float(sse_cols[:, 0].sum())
                    sse = float(sse_cols[:, 0].sum())
                    tau = rng.gamma(_GAMMA_SHAPE + R.nnz / 2, 1.0 / (_GAMMA_RATE + wsse / 2))
                    prior_W.draw(W[:, :nf], rng)
                    prior_H.draw(Ht[:, :nf], rng)
                    if not wishart:
                        rates = _draw_ard_rates(W, Ht, k, rng)
                        prior_W.set_rates(rates)
                        prior_H.set_rates(rates)
                    chain.record(scale * math.sqrt(sse / R.nnz), W, Ht, tau, prior_W, shapes)
                    if bar is not None:
                        bar.update(len(chain.trace), train_rmse=chain.trace[-1])
        finally:
            if bar is not None:
                bar.close()
        kept_W, kept_H, kept_tau, kept_prec, kept_lin, kept_shapes = chain.kept()
        trace = np.array(chain.trace)
        f = math.sqrt(scale / len(kept_W))
        W_ = np.ascontiguousarray(np.concatenate([w[:, :nf] for w in kept_W], axis=1) * f,
                                  dtype=dt)
        Ht_ = np.ascontiguousarray(np.concatenate([h[:, :nf] for h in kept_H], axis=1) * f,
                                   dtype=dt)
        row_w = np.array([w[:, nf] for w in kept_W], dtype=np.float64)
        col_w = np.array([h[:, nf] for h in kept_H], dtype=np.float64)
        self._set_fitted(layout, W_, Ht_, np.array(kept_tau), np.array(kept_prec),
                         np.array(kept_lin), scale, trace, time.perf_counter() - t0,
                         row_w, col_w, np.array(kept_shapes))
        self.n_burnin_ = chain.n_burnin
        self.n_samples_ = chain.n_samples
        self.autocorr_time_ = chain.autocorr_time()
        self.mcse_ = scale * chain.mcse()
        if chain.burnin_capped:
            warn(f"BayesianNMF: the training error still fell after {chain.n_burnin} burn-in "
                 "sweeps; the draws may come from a chain that has not settled. Pass a larger "
                 "n_burnin to run longer.", ConvergenceWarning)
        return self

    def _set_fitted(self, layout, W, Ht, tau, prec, lin, scale, trace, fit_time,
                    row_weight, col_weight, weight_shape):
        self._layout = layout
        self.W_ = W
        self.components_ = Ht.T
        self.noise_precision_ = tau
        self.row_noise_weight_ = row_weight
        self.col_noise_weight_ = col_weight
        self.noise_weight_shape_ = weight_shape
        self.row_prior_precision_ = prec
        self.row_prior_linear_ = lin
        self.scale_ = scale
        self.noise_sd_ = float(scale * np.mean(1.0 / np.sqrt(tau)))
        self.train_rmse_ = trace
        self.factor_names_ = list(layout.names) * tau.size
        self.n_components_ = layout.n_components
        self.n_factors_ = W.shape[1]
        self.n_features_in_ = Ht.shape[0]
        self.fit_time_ = fit_time
        self._fold_in_modes = False

    def _solve_rows(self, csr):
        return self._draw_rows(csr)[0]

    def _place_rows(self, empty, csr, rows):
        """As :meth:`refit_rows` places rows, each row with the factors :meth:`transform`
        gives it and its noise weights drawn with them."""
        W_new, a_new = self._draw_rows(empty)
        W = np.concatenate([self.W_, W_new])
        a = np.concatenate([self.row_noise_weight_, a_new], axis=1)
        W[rows], a[:, rows] = self._draw_rows(csr)
        self.W_, self.row_noise_weight_ = W, a

    def _draw_rows(self, csr):
        """Fold-in: for each kept draw, new rows' factors and noise weights drawn from
        their posterior given the draw (see :meth:`transform`); the factors scaled and side
        by side as in ``W_``, the weights (n_kept, n_new_rows)."""
        layout = self._layout
        nf = layout.n_factors
        kept = self.noise_precision_.size
        f = math.sqrt(self.scale_ / kept)
        kind_W, _ = self._kinds(layout)
        data = (np.asarray(csr.data, dtype=np.float64) / self.scale_).astype(self._dtype)
        counts = np.diff(csr.indptr).astype(np.float64)
        Ht = self._item_factors()
        out = np.zeros((csr.shape[0], kept * nf), dtype=self._dtype)
        weights = np.ones((kept, csr.shape[0]))
        sse = np.empty((csr.shape[0], 2))
        weighted = self.noise == "row_col_weighted"
        with ThreadLimits(self.n_threads, cap_blas=False):
            for t in range(kept):
                tau = float(self.noise_precision_[t])
                shape = float(self.noise_weight_shape_[t, 0])
                args = (tau, self.row_prior_precision_[t], self.row_prior_linear_[t], kind_W)
                Y = np.empty((Ht.shape[0], nf + 1), dtype=self._dtype)
                Y[:, :nf] = Ht[:, t * nf:(t + 1) * nf] / f
                Y[:, nf] = self.col_noise_weight_[t]
                X = np.zeros((csr.shape[0], nf + 1), dtype=self._dtype)
                X[:, nf] = 1.0
                if layout.item_bias:
                    X[:, layout.item_bias_col] = 1.0
                update = K.for_size(K.gibbs_update_rows, csr.nnz)
                update(csr.indptr, csr.indices, data, X, Y, *args, _FOLDIN_SWEEPS, False,
                       np.uint64(0), _FOLDIN_TOL, sse, 0, weighted)
                if self._fold_in_modes:
                    out[:, t * nf:(t + 1) * nf] = X[:, :nf] * f
                    continue
                rng = np.random.default_rng([t, csr.shape[0]])
                # the factors' draw (given the weight when weighted), then the weight's
                for s in range(_FOLDIN_DRAWS if weighted else 1):
                    if weighted and np.isfinite(shape):
                        X[:, nf] = rng.gamma(shape + counts / 2,
                                             1.0 / (shape + tau * sse[:, 1] / 2))
                    seed = np.uint64(rng.integers(0, 2**63))
                    update(csr.indptr, csr.indices, data, X, Y, *args, _FOLDIN_DRAW_SWEEPS,
                           True, seed, 0.0, sse, 0, weighted)
                if np.isfinite(shape):
                    X[:, nf] = rng.gamma(shape + counts / 2, 1.0 / (shape + tau * sse[:, 1] / 2))
                out[:, t * nf:(t + 1) * nf] = X[:, :nf] * f
                weights[t] = X[:, nf]
        return out, weights


class _Chain:
    """The Gibbs chain's bookkeeping: when burn-in ends, which draws are kept, when to stop.

    Everything is decided from the chain itself, by following the predictions at
    ``_PROBES`` (user, item) pairs drawn with the users' and the items' numbers of ratings
    as weights.

    * **Burn-in** (``n_burnin=None``) ends at the first sweep where the training RMSE
      averaged over the last ``_BURNIN_WINDOW`` sweeps is no more than ``_BURNIN_TOL``
      (relative) below the average of the window before: the chain has stopped
      descending and wanders around its level.
    * **Sampling** (``n_samples=None``): every sweep's draw is kept until ``n_kept``
      (``None``: as many as ``_KEPT_BYTES`` of memory hold, at most ``_KEPT_MAX``) are
      held; then every other one is dropped and the spacing between kept draws doubles.
      The chain stops once the average of the kept draws is within ``_MCSE_TARGET``
      noise standard deviations of the posterior mean (its Monte Carlo standard error,
      from the probes' posterior variance and their integrated autocorrelation time by
      batch means), or once the kept draws, spaced by at least the autocorrelation time,
      are all it may hold. A slowly mixing chain or a wide posterior (little data) runs
      longer; a fast chain on much data stops early.
    * With ``n_samples`` given, ``n_kept`` draws are kept evenly spaced over that many
      sweeps, and nothing is decided by the chain.
    """

    def __init__(self, n_burnin, n_samples, n_kept, R, rng, draw_bytes):
        m, n = R.shape
        w_u = R.row_counts().astype(np.float64)
        w_i = R.col_counts().astype(np.float64)
        self.pu = rng.choice(m, size=_PROBES, p=w_u / w_u.sum())
        self.pi = rng.choice(n, size=_PROBES, p=w_i / w_i.sum())
        self.fixed_samples = n_samples
        if n_kept is None:
            n_kept = int(min(_KEPT_MAX, max(_KEPT_MIN, _KEPT_BYTES // max(draw_bytes, 1))))
            if n_samples is not None:
                n_kept = min(n_kept, n_samples)
        self.n_kept = n_kept
        self.trace = []
        self.n_burnin = None if n_burnin is None else int(n_burnin)
        self.burnin_capped = False
        self.probes = []                  # predictions at the probes, one row per sweep
        self.buffer = []                  # kept draws
        self.spacing = 1
        self.done = False
        if n_samples is not None:
            self._keep_at = set(np.round(np.linspace(n_samples / n_kept, n_samples,
                                                     n_kept)).astype(int))
        self.max_sweeps = ((self.n_burnin if self.n_burnin is not None else _BURNIN_MAX)
                           + (n_samples if n_samples is not None else _MAX_SAMPLES))

    @property
    def n_samples(self):
        """Sweeps after burn-in so far."""
        return len(self.probes)

    def record(self, rmse, W, Ht, tau, prior_W, shapes):
        """Take in one sweep's state; sets ``done`` when the chain has run long enough."""
        self.trace.append(rmse)
        if self.n_burnin is None:
            self._burn_in()
            return
        if len(self.trace) <= self.n_burnin:
            return
        # the factors without their last column (the noise weights)
        p = np.einsum("pk,pk->p", np.asarray(W[self.pu, :-1], dtype=np.float64),
                      np.asarray(Ht[self.pi, :-1], dtype=np.float64))
        self.probes.append(p)
        t = len(self.probes)
        if self.fixed_samples is not None:
            if t in self._keep_at:
                self._keep(W, Ht, tau, prior_W, shapes)
            self.done = t >= self.fixed_samples
            return
        if t % self.spacing == 0:
            self._keep(W, Ht, tau, prior_W, shapes)
            if len(self.buffer) > self.n_kept:
                self.buffer = self.buffer[1::2]
                self.spacing *= 2
        if t >= _MAX_SAMPLES:
            self.done = True
        elif t % _CHECK_EVERY == 0 and t >= 2 * _BATCHES:
            noise_sd = 1.0 / math.sqrt(tau)
            full = len(self.buffer) >= self.n_kept and self.spacing >= self.autocorr_time()
            self.done = full or self.mcse() <= _MCSE_TARGET * noise_sd

    def _burn_in(self):
        t = len(self.trace)
        if t >= _BURNIN_MAX:
            self.n_burnin, self.burnin_capped = t, True
        elif t >= max(_BURNIN_MIN, 2 * _BURNIN_WINDOW):
            last = np.mean(self.trace[-_BURNIN_WINDOW:])
            before = np.mean(self.trace[-2 * _BURNIN_WINDOW:-_BURNIN_WINDOW])
            if last >= before * (1.0 - _BURNIN_TOL):
                self.n_burnin = t

    def _keep(self, W, Ht, tau, prior_W, shapes):
        self.buffer.append((W.copy(), Ht.copy(), tau, prior_W.precision.copy(),
                            prior_W.linear.copy(), shapes.copy()))

    def autocorr_time(self):
        """Integrated autocorrelation time of the probes' predictions, in sweeps (>= 1)."""
        Y = np.asarray(self.probes)
        T = Y.shape[0]
        if T < 2 * _BATCHES:
            return 1.0
        L = T // _BATCHES
        means = Y[T - L * _BATCHES:].reshape(_BATCHES, L, -1).mean(axis=1)
        var = float(np.sum(Y.var(axis=0, ddof=1)))
        if not var > 0.0:
            return 1.0
        return max(1.0, L * float(np.sum(means.var(axis=0, ddof=1))) / var)

    def mcse(self):
        """Monte Carlo standard error of the average of the kept draws at the probes (RMS
        over probes, scaled units): how far the prediction may be from the posterior mean
        for having averaged finitely many draws."""
        Y = np.asarray(self.probes)
        if Y.shape[0] < 2 or not self.buffer:
            return float("nan")
        spacing = (self.fixed_samples / len(self.buffer) if self.fixed_samples is not None
                   else self.spacing)
        n_eff = len(self.buffer) * min(1.0, spacing / self.autocorr_time())
        return math.sqrt(float(np.mean(Y.var(axis=0, ddof=1))) / n_eff)

    def kept(self):
        """The kept draws: lists of W, H^T (each with its noise weights as a last
        column), tau, prior precision and linear term, and the weights' prior shapes."""
        return tuple(list(x) for x in zip(*self.buffer))


class _Prior:
    """The prior of one side's rows and its hyper-parameters, redrawn from the rows.

    Components: ``N(mu, Lambda^-1)`` with (mu, Lambda) ~ Normal-Wishart; offsets:
    ``N(0, 1/lambda)`` with lambda ~ Gamma. ``precision`` (K x K) and ``linear``
    (``Lambda mu``, K) are what the row kernel takes; fixed columns stay zero.
    """

    def __init__(self, layout, kind, level, wishart=True):
        k, nf = layout.n_components, layout.n_factors
        self.k = k
        self.kind = kind
        self.wishart = wishart
        self.m0 = np.full(k, level)
        self.precision = np.zeros((nf, nf))
        self.linear = np.zeros(nf)
        if wishart:
            self.precision[:k, :k] = np.eye(k) / (level * level)
            self.linear[:k] = self.precision[:k, :k] @ self.m0
        else:
            self.set_rates(np.full(k, 1.0 / level))
        self.offsets = [j for j in range(k, nf) if kind[j] == _SIGNED]
        for j in self.offsets:
            self.precision[j, j] = 1.0

    def set_rates(self, rates):
        """Exponential priors of rates ``rates`` on the components (``prior="ard"``): no
        quadratic term, a linear term of ``-rate``."""
        self.linear[:self.k] = -rates

    def draw(self, X, rng):
        """Draw the hyper-parameters given the current rows ``X`` (in place)."""
        self._draw_offsets(X, rng)
        if self.wishart:
            self._draw_normal_wishart(X, rng)

    def _draw_normal_wishart(self, X, rng):
        k = self.k
        n = X.shape[0]
        T = np.asarray(X[:, :k], dtype=np.float64)
        mean = T.mean(axis=0)
        D = T - mean
        beta = _BETA0 + n
        mu_star = (_BETA0 * self.m0 + n * mean) / beta
        d0 = self.m0 - mean
        W_inv = np.eye(k) + D.T @ D + (_BETA0 * n / beta) * np.outer(d0, d0)
        Lam = _wishart(np.linalg.inv(W_inv), k + n, rng)
        C = np.linalg.cholesky(np.linalg.inv(beta * Lam))
        mu = None
        for _ in range(_MEAN_TRIES):      # the components' mean is non-negative
            cand = mu_star + C @ rng.standard_normal(k)
            if np.all(cand >= 0.0):
                mu = cand
                break
        if mu is None:
            mu = np.maximum(mu_star, 0.0)
        self.precision[:k, :k] = Lam
        self.linear[:k] = Lam @ mu

    def _draw_offsets(self, X, rng):
        n = X.shape[0]
        for j in self.offsets:
            b = np.asarray(X[:, j], dtype=np.float64)
            self.precision[j, j] = rng.gamma(_GAMMA_SHAPE + n / 2,
                                             1.0 / (_GAMMA_RATE + float(b @ b) / 2))


def _draw_ard_rates(W, Ht, k, rng):
    """Rates of the components' exponential priors (``prior="ard"``), one per component
    and shared by its column of W and of H: ``Gamma(1 + n_rows + n_cols, 1 + sum of the
    column's entries)``. A component the data do not use gets a large rate, which holds
    its entries near zero: unneeded components switch themselves off."""
    n = W.shape[0] + Ht.shape[0]
    total = (np.sum(W[:, :k], axis=0, dtype=np.float64)
             + np.sum(Ht[:, :k], axis=0, dtype=np.float64))
    return rng.gamma(_GAMMA_SHAPE + n, 1.0 / (_GAMMA_RATE + total))


def _draw_weights(X, col, counts, rate_terms, rng):
    """Draw the noise weights of one side (``noise="row_col"``), in place in column
    ``col`` of ``X``, and first the shape of their prior; return that shape.

    The weights have the prior ``Gamma(alpha, alpha)``; ``alpha`` is drawn given the
    current weights from its conditional on the grid ``_WEIGHT_SHAPES`` (flat in
    ``log alpha``), then each weight given its row's residuals,
    ``Gamma(alpha + n_u / 2, alpha + tau sum_i e_i r_ui^2 / 2)`` (``counts`` the
    ``n_u``, ``rate_terms`` the ``tau sum_i e_i r_ui^2``)."""
    a = np.asarray(X[:, col], dtype=np.float64)
    n = a.size
    al = _WEIGHT_SHAPES
    logp = n * (al * np.log(al) - gammaln(al)) + (al - 1.0) * np.sum(np.log(a)) - al * a.sum()
    p = np.exp(logp - logp.max())
    alpha = float(rng.choice(al, p=p / p.sum()))
    X[:, col] = rng.gamma(alpha + counts / 2, 1.0 / (alpha + rate_terms / 2))
    return alpha


def _spawn(rng):
    """An independent generator from ``rng`` that leaves ``rng``'s stream as it was."""
    try:
        return rng.spawn(1)[0]
    except TypeError:           # a bit generator without a seed sequence: one raw draw
        return np.random.default_rng(int(rng.bit_generator.random_raw()))


def _noise_weights(state, kept, W_shape, Ht_shape):
    """The noise weights of a fitted state, checked; all ones (and an infinite shape: no
    spread of weights) in states from before the weights existed."""
    n_rows, n_cols = W_shape[0], Ht_shape[0]
    if state.get("row_noise_weight") is None:
        return (np.ones((kept, n_rows)), np.ones((kept, n_cols)),
                np.full((kept, 2), np.inf))
    a = np.asarray(state["row_noise_weight"], dtype=np.float64)
    e = np.asarray(state["col_noise_weight"], dtype=np.float64)
    shape = np.asarray(state["noise_weight_shape"], dtype=np.float64)
    if a.shape != (kept, n_rows) or e.shape != (kept, n_cols) or shape.shape != (kept, 2):
        raise ValueError(f"factor shapes {W_shape}, {Ht_shape} and noise weights of shapes "
                         f"{a.shape}, {e.shape}, {shape.shape} do not fit each other "
                         f"({kept} draws of {n_rows} rows and {n_cols} columns).")
    return a, e, shape


def _wishart(scale, df, rng):
    """A Wishart(scale, df) draw by Bartlett's decomposition (``df`` > dim - 1)."""
    k = scale.shape[0]
    L = np.linalg.cholesky((scale + scale.T) / 2)
    A = np.zeros((k, k))
    for i in range(k):
        A[i, i] = math.sqrt(rng.chisquare(df - i))
        A[i, :i] = rng.standard_normal(i)
    LA = L @ A
    return LA @ LA.T

"""MaskedNMF: non-negative matrix factorization fitted to the observed entries only.

The estimator owns the math, the parameters and the convergence loop. It sees arrays and
sparse matrices (never DataFrames or ids); the Numba kernels in :mod:`nmfrec._kernels` do
the per-row work and :mod:`nmfrec._init` computes the starting factors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _kernels as K
from ._base import ThreadLimits, warn
from ._factor_model import FactorModel
from ._init import INITS, initialize_components, target_level
from ._progress import Progress
from ._rows import OUT
from ._validation import Dtype, Interval, Options, RandomState, check_params, check_random_state
from .exceptions import ConvergenceWarning

if TYPE_CHECKING:
    import numpy.typing as npt
    from typing_extensions import Self

    from ._typing import (Feedback, FloatArray, FloatDType, Init, MatrixLike, Preference,
                          RegScale, Seed, Solver)

__all__ = ["MaskedNMF", "FactorLayout", "SOLVERS", "INITS", "FEEDBACKS", "PREFERENCES",
           "REG_SCALES", "penalty_scales"]

SOLVERS = ("als", "mu", "pgd")
FEEDBACKS = ("explicit", "implicit")
PREFERENCES = ("binary", "rating")
REG_SCALES = ("none", "count", "weight")
_REG_MODES = {"none": K.REG_NONE, "count": K.REG_COUNT, "weight": K.REG_WEIGHT}

# Inner iterations of the row solvers, fixed so results do not depend on hidden knobs.
_ALS_SWEEPS = 3         # coordinate-descent sweeps per row and ALS iteration (warm start);
                        # exact row solutions early on buy nothing: 50 sweeps cost 3x the time
                        # for the same iterations and test RMSE on ml-100k
_ALS_SWEEP_TOL = 1e-6   # relative change that ends a row's sweeps early
_FOLDIN_SWEEPS = 2000   # transform(): solve each new row's NNLS to convergence
_FOLDIN_TOL = 1e-12
_CD_SWEEPS = 1          # implicit ALS: residual coordinate-descent sweeps per row (2 gave
                        # the same ranking on ml-100k, P@10 0.317, for more work per row)
_PGD_STEPS = 2          # projected-gradient steps per row and iteration
_MU_EPS = 1e-12         # keeps MU denominators positive (times the data's scale)
_MU_FLOOR = 1e-10       # MU cannot move an exact 0; the floor keeps coordinates alive
                        # (times the scale of a factor entry, sqrt(mean rating / k))


@dataclass(frozen=True)
class FactorLayout:
    """The columns of ``W`` and of ``H^T``: the k components, then the bias columns.

    A user bias is a column of ``W`` paired with a fixed column of ones in ``H^T``; an
    item bias is a column of ``H^T`` paired with a fixed column of ones in ``W``, so that
    ``(W H)[u, i] = w_u . h_i + b_u + b_i``.

    Parameters
    ----------
    n_components : int
        Rank k: columns ``0 .. k-1`` are the components ``c0 .. c{k-1}``.
    user_bias, item_bias : bool, default=False
        Whether the ``user_bias`` column (then the ``item_bias`` column) follows.
    """

    n_components: int
    user_bias: bool = False
    item_bias: bool = False

    @cached_property
    def names(self) -> list:
        """``"c0" .. "c{k-1}"``, then ``"user_bias"`` and/or ``"item_bias"``."""
        names = [f"c{j}" for j in range(self.n_components)]
        if self.user_bias:
            names.append("user_bias")
        if self.item_bias:
            names.append("item_bias")
        return names

    @property
    def n_factors(self) -> int:
        """Number of columns: rank plus bias columns."""
        return len(self.names)

    @property
    def user_bias_col(self):
        """Column of the user bias (in ``W``; ones in ``H^T``), or None."""
        return self.n_components if self.user_bias else None

    @property
    def item_bias_col(self):
        """Column of the item bias (in ``H^T``; ones in ``W``), or None."""
        return self.n_components + int(self.user_bias) if self.item_bias else None

    @cached_property
    def fixed_W(self) -> np.ndarray:
        """(n_factors,) uint8: the columns of ``W`` the solvers leave alone (its ones)."""
        fixed = np.zeros(self.n_factors, dtype=np.uint8)
        if self.item_bias:
            fixed[self.item_bias_col] = 1
        return fixed

    @cached_property
    def fixed_H(self) -> np.ndarray:
        """(n_factors,) uint8: the columns of ``H^T`` the solvers leave alone (its ones)."""
        fixed = np.zeros(self.n_factors, dtype=np.uint8)
        if self.user_bias:
            fixed[self.user_bias_col] = 1
        return fixed

    def assemble(self, W, Ht, level, shrink=True):
        """Full starting factors from the components (float64, new arrays).

        ``W`` (n_rows, k) and ``Ht`` (n_cols, k) are placed in the component columns,
        the biases start at a tenth of ``level`` each and, with ``shrink``, the
        components are scaled to carry the other 80% of it. Factors that already have
        every column (custom ones) are copied as they are. The fixed columns of ones
        are set either way.
        """
        k, nf = self.n_components, self.n_factors
        if W.shape[1] == nf:
            Wf, Htf = W.astype(np.float64, copy=True), Ht.astype(np.float64, copy=True)
        else:
            Wf = np.zeros((W.shape[0], nf))
            Htf = np.zeros((Ht.shape[0], nf))
            scale = np.sqrt(0.8) if shrink and nf > k else 1.0
            Wf[:, :k] = scale * W
            Htf[:, :k] = scale * Ht
            if self.user_bias:
                Wf[:, self.user_bias_col] = 0.1 * level
            if self.item_bias:
                Htf[:, self.item_bias_col] = 0.1 * level
        if self.user_bias:
            Htf[:, self.user_bias_col] = 1.0
        if self.item_bias:
            Wf[:, self.item_bias_col] = 1.0
        return Wf, Htf


@dataclass
class _Problem:
    """Everything a solver iteration needs, prepared once per fit."""

    rows: object                 # the observed matrix's rows and columns (nmfrec._rows)
    layout: FactorLayout
    implicit: bool
    alpha: float
    l1_W: float
    l2_W: float
    l1_H: float
    l2_H: float
    reg_scale: int                      # K.REG_NONE, REG_COUNT or REG_WEIGHT
    row_scales: np.ndarray | None       # each row's penalty factor r_u (None: 1)
    col_scales: np.ndarray | None
    missing_weight: float = 1.0
    preference_rating: bool = False

    def loss(self, W, Ht):
        """``(F, data term)`` of the factors (see :func:`nmfrec._kernels.objective`)."""
        per_row = np.empty(W.shape[0], dtype=np.float64)
        kernel, args, out = self.row_terms(per_row)
        self.rows.run("W", kernel, W, Ht, args, out=out)
        return self.loss_of_terms(per_row, W, Ht)

    def row_terms(self, out):
        """``(kernel, args, out)`` that fills ``out`` with the data term of each row of a
        side (rows and columns alike: the observed entries' terms, summed either way)."""
        return (K.row_sq_errors, (self.implicit, self.alpha, OUT, self.missing_weight,
                                  self.preference_rating), out)

    def loss_of_terms(self, terms, W, Ht):
        """``(F, data term)`` from the data terms of every row, or of every column."""
        return K.objective_of_rows(terms, W, Ht, self.l1_W, self.l2_W, self.l1_H, self.l2_H,
                                   self.implicit, self.layout.fixed_W, self.layout.fixed_H,
                                   self.row_scales, self.col_scales, self.missing_weight)

    def n_other(self, side):
        """Columns of the whole matrix seen from the rows of ``side``: the other side's
        size (a distributed block holds only the part it touches)."""
        return int(self.rows.shape[1] if side == "W" else self.rows.shape[0])

    def penalties(self, side):
        """``(l1, l2, fixed columns)`` of the rows of ``side`` ("W" or "H")."""
        if side == "W":
            return self.l1_W, self.l2_W, self.layout.fixed_W
        return self.l1_H, self.l2_H, self.layout.fixed_H

    def gram(self, Y):
        """``missing_weight * Y^T Y``, what every implicit row's problem carries."""
        return self.missing_weight * K.gram(Y) if self.implicit else np.zeros((1, 1))

    def implicit_loss(self, col_terms, gram_W, gram_H, W, Ht):
        """F from the columns' data terms (as ``cd_update_rows`` returns them) and the
        Gram matrices ``W^T W``, ``H H^T``: the objective without another pass over the
        observed entries (see :func:`nmfrec._kernels.objective` for the terms)."""
        sq = float(np.sum(col_terms)) + self.missing_weight * float(np.sum(gram_W * gram_H))
        return (0.5 * sq + K.penalty(W, self.l1_W, self.l2_W, self.layout.fixed_W, self.row_scales)
                + K.penalty(Ht, self.l1_H, self.l2_H, self.layout.fixed_H, self.col_scales))


def penalty_scales(R, reg_scale, implicit, alpha, missing_weight):
    """Each row's and each column's penalty factor under a ``reg_scale`` mode.

    ``K.REG_COUNT``: the number of observed entries. ``K.REG_WEIGHT``: the total weight
    of the row's cells in the objective, the number of observed entries for explicit
    feedback and, for implicit feedback, the observed entries' confidences
    ``sum (1 + alpha x)`` plus ``missing_weight`` for each unobserved cell (what the row
    kernels compute for themselves, see :func:`nmfrec._kernels._common.penalty_scale`).

    Parameters
    ----------
    R : RatingsMatrix or SparkRatings
    reg_scale : int
    implicit : bool
    alpha, missing_weight : float

    Returns
    -------
    (row_scales, col_scales) : two float64 arrays
    """
    counts = (R.row_counts().astype(np.float64), R.col_counts().astype(np.float64))
    if reg_scale == K.REG_COUNT or not implicit:
        return counts
    m, n = R.shape
    sums = (R.row_sums(), R.col_sums()) if alpha else (0.0, 0.0)
    return tuple(c + alpha * t + missing_weight * (others - c)
                 for c, t, others in zip(counts, sums, (n, m)))


class MaskedNMF(FactorModel):
    r"""Non-negative matrix factorization with missing entries.

    Finds non-negative ``W`` (n_rows x k) and ``H`` (k x n_cols) that minimise, over
    the observed entries :math:`\Omega` only,

    .. math::

        F(W, H) = \tfrac12 \sum_{(u,i)\in\Omega} (x_{ui} - w_u \cdot h_i)^2
                  + \lambda^W_1 \textstyle\sum W + \tfrac12 \lambda^W_2 \|W\|_F^2
                  + \lambda^H_1 \textstyle\sum H + \tfrac12 \lambda^H_2 \|H\|_F^2 .

    Missing entries are neither zeros nor imputed: they simply do not appear in the
    objective. Which entries are observed is decided by :class:`~nmfrec.RatingsMatrix`:
    the stored entries of a scipy sparse matrix (explicit zeros *are* observations),
    or the non-NaN entries of a dense array.

    Options change the objective in three documented ways:

    * ``user_bias`` / ``item_bias`` add non-negative biases without leaving NMF: a user
      bias is an extra column of W paired with a fixed row of ones in H, an item bias an
      extra row of H paired with a fixed column of ones in W, so that
      :math:`\hat x_{ui} = w_u \cdot h_i + b_u + b_i` is still ``(W H)[u, i]`` and every
      part stays additive and explainable. Biases are penalized like the other entries
      of their factor.
    * ``reg_scale="count"`` multiplies the penalties of each row of W by the number of
      entries observed in that row, and of each column of H by its count
      (the weighted-lambda regularization of ALS-WR, Zhou et al. 2008):
      :math:`\sum_u |\Omega_u| (\lambda^W_1 \sum w_u + \tfrac12\lambda^W_2 \|w_u\|^2)`.
      ``reg_scale="weight"`` multiplies them by the total weight of the row's cells in
      the objective instead: its count for explicit feedback; with implicit feedback the
      observed entries' confidences plus ``missing_weight`` for every unobserved cell
      (frequency-scaled regularization, Rendle, Krichene, Zhang & Koren 2022), so that one
      penalty means the same on small and large catalogues.
    * ``feedback="implicit"`` fits preferences instead of ratings (Hu, Koren & Volinsky
      2008): :math:`\tfrac12\sum_{u,i} c_{ui}(p_{ui} - w_u\cdot h_i)^2` over *all* entries,
      with :math:`p=1, c=1+\alpha x` on observed entries and :math:`p=0, c=m` elsewhere
      (``m = missing_weight``, 1 in Hu et al.), computed without the dense matrix by the
      Gram trick (:math:`\sum_{u,i}(w_u\cdot h_i)^2 = \mathrm{tr}(W^TW\,HH^T)`). With
      ``preference="rating"`` the observed entries keep their rating as target,
      :math:`p=x`, and the missing ones are zeros of small weight: Steck's (2010)
      weighted zeros, a model that ranks well and still speaks in ratings.

    Parameters
    ----------
    n_components : int, default=10
        Rank k of the factorization (bias columns come on top).
    solver : {"als", "mu", "pgd"}, default="als"
        ``"als"``: alternating non-negative least squares; each row of W (then H) is the
        exact minimiser of its regularized NNLS on its own Gram matrix, by warm-started
        coordinate descent, O(nnz k^2) per iteration. ``"mu"``: masked Lee-Seung
        multiplicative updates, O(nnz k). ``"pgd"``: row-wise projected gradient with an
        exact step, O(nnz k), explicit feedback only. ALS and MU never increase F; PGD
        neither (its step is accepted only if the row objective does not grow). With
        implicit feedback ALS sweeps coordinate descent on each row's residuals instead
        of forming its Gram matrix (eALS; O(nnz k + (n_rows + n_cols) k^2) per
        iteration), one sweep per row and iteration.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"} or None, default=None
        ``"random"``: ``|N(0,1)| * sqrt(mean(x_obs) / k)``, scikit-learn's scaling
        computed on the *observed* entries (implicit feedback: on the density).
        ``"nndsvd*"``: Boutsidis & Gallopoulos' NNDSVD of the zero-filled sparse matrix
        from ``scipy.sparse.linalg.svds`` (never dense), then rescaled by the
        least-squares factor that best fits the objective's targets (``a`` fills zeros
        with the mean, ``ar`` with small random values). ``"custom"``: start from the
        ``W`` and ``H`` given to ``fit``. None: ``"nndsvda"`` when
        ``n_components < min(n_rows, n_cols)``, else ``"random"``.
    max_iter : int, default=200
        Maximum number of outer iterations (one update of W and one of H each).
    tol : float, default=1e-4
        Stop when the relative decrease of F in one iteration,
        ``(F_prev - F) / F_prev``, falls below ``tol``. ``tol=0`` runs exactly
        ``max_iter`` iterations.
    l1_W, l2_W, l1_H, l2_H : float, default=0.0
        L1 and L2 strengths on W and on H, as in the objective above (times the row
        counts with ``reg_scale="count"``). scikit-learn's
        ``NMF(alpha_W, alpha_H, l1_ratio)`` on an m x n matrix is the same objective
        with ``l1_W = alpha_W * l1_ratio * n``, ``l2_W = alpha_W * (1 - l1_ratio) * n``,
        ``l1_H = alpha_H * l1_ratio * m`` and ``l2_H = alpha_H * (1 - l1_ratio) * m``
        (scikit-learn scales each penalty by the size of the *other* dimension; on a fully
        observed matrix that is ``reg_scale="count"`` with ``l1_W = alpha_W * l1_ratio``,
        ``l2_W = alpha_W * (1 - l1_ratio)``, and the same for H).
    user_bias, item_bias : bool, default=False
        Add a non-negative bias per row / per column (see above).
    reg_scale : {"none", "count", "weight"}, default="none"
        Scale each row's (column's) penalties by its number of observed entries
        (``"count"``), or by the total weight of its cells in the objective
        (``"weight"``; see above).
    feedback : {"explicit", "implicit"}, default="explicit"
        Fit the observed values (ratings), or preferences with confidences (ranking).
    alpha : float, default=1.0
        Confidence slope of implicit feedback, ``c = 1 + alpha * x``. Ignored for
        explicit feedback.
    missing_weight : float in (0, 1], default=1.0
        Implicit feedback: the confidence ``m`` of every unobserved entry's zero.
    preference : {"binary", "rating"}, default="binary"
        Implicit feedback: the target of an observed entry, 1 or its rating.
    n_init : int, default=1
        Number of restarts from different random initializations; the fit with the
        lowest objective is kept. Has no effect with deterministic inits.
    random_state : int, numpy Generator or None, default=None
        Seed of every random choice. Same seed and thread count: identical results.
    n_threads : int or None, default=None
        Threads for the parallel kernels (numba); None uses numba's default. ALS, MU and
        PGD give bitwise identical results for any thread count.
    dtype : {"float64", "float32"}, default="float64"
        Storage type of data and factors. The kernels compute per-entry values in this
        type and accumulate sums in float64; float32 halves the memory and, for implicit
        feedback at k = 64, made an iteration 1.1x (1M ratings) to 1.4x (20M) faster,
        for objectives within float32 rounding of float64's.
    verbose : int, default=0
        ``>= 1`` shows a progress bar with the current objective on stderr (in a
        notebook, a notebook widget).

    Notes
    -----
    ``MaskedNMF`` is a scikit-learn transformer: ``clone``, ``Pipeline``,
    ``GridSearchCV``, ``cross_val_score``, ``set_output`` and ``check_is_fitted`` work
    on it, and its tags say that it takes sparse input, non-negative values only, and NaN
    (as missing). In a search, :meth:`score` compares candidates by how well the fitted
    ``H`` reconstructs held-out rows.

    Attributes
    ----------
    W_ : ndarray of shape (n_rows, n_factors_)
        Row factors of the training matrix (the ``W`` that ``fit_transform`` returns),
        bias columns last when there are biases.
    components_ : ndarray of shape (n_factors_, n_cols)
        ``H``, the column factors (item factors of a ratings matrix), bias rows last.
        It is the transposed view of a row-major (n_cols, n_factors_) array, the layout
        the kernels work on: ``components_.T`` is C-contiguous. (``H_t_``, that array's
        former name, is deprecated.)
    factor_names_ : list of str
        ``"c0" .. "c{k-1}"``, then ``"user_bias"`` and/or ``"item_bias"``.
    user_bias_, item_bias_ : ndarray or None
        The fitted biases (views into ``W_`` and ``components_``), None when disabled.
    reconstruction_err_ : float
        Explicit feedback: Frobenius norm of the residual on the observed entries,
        ``sqrt(sum_{Omega} (x - WH)^2)``. Implicit: ``sqrt(sum_{u,i} c (p - WH)^2)``.
    loss_history_ : ndarray of shape (n_iter_ + 1,)
        F after each iteration; ``loss_history_[0]`` is F at the initialization.
    n_iter_ : int
        Iterations run in the kept fit.
    converged_ : bool
        Whether ``tol`` was reached before ``max_iter``.
    n_components_, n_factors_, n_features_in_ : int
        Rank, rank plus bias columns, and number of columns seen in ``fit``.
    init_ : str
        The initialization used (``init``, or the one None chose).
    fit_time_ : float
        Seconds spent in ``fit`` (all restarts).

    References
    ----------
    Lee & Seung (2001), Algorithms for non-negative matrix factorization.
    Zhang, Wang, Ding & Mitra (2006), Learning from incomplete ratings using
    non-negative matrix factorization. Lin (2007), Projected gradient methods for NMF.
    Boutsidis & Gallopoulos (2008), SVD based initialization for NMF.
    Hu, Koren & Volinsky (2008), Collaborative filtering for implicit feedback datasets.
    Zhou, Wilkinson, Schreiber & Pan (2008), Large-scale parallel collaborative
    filtering for the Netflix prize.
    Rendle, Krichene, Zhang & Koren (2022), Revisiting the performance of iALS on item
    recommendation benchmarks.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfrec import MaskedNMF
    >>> X = np.array([[1, 2, np.nan], [2, np.nan, 6], [np.nan, 4, 6.]])
    >>> model = MaskedNMF(n_components=1, random_state=0, max_iter=500, tol=1e-10)
    >>> W = model.fit_transform(X)
    >>> round(float(model.predict_entries([0], [2])[0]), 2)   # the missing x[0, 2]
    3.0
    """

    _parameter_constraints = {
        "n_components": [Interval("int", 1, None)],
        "solver": [Options(*SOLVERS)],
        "init": [Options(None, *INITS)],
        "max_iter": [Interval("int", 0, None)],
        "tol": [Interval("real", 0, None)],
        "l1_W": [Interval("real", 0, None)],
        "l2_W": [Interval("real", 0, None)],
        "l1_H": [Interval("real", 0, None)],
        "l2_H": [Interval("real", 0, None)],
        "user_bias": [Options(True, False)],
        "item_bias": [Options(True, False)],
        "reg_scale": [Options(*REG_SCALES)],
        "feedback": [Options(*FEEDBACKS)],
        "alpha": [Interval("real", 0, None)],
        "missing_weight": [Interval("real", 0, 1, closed="right")],
        "preference": [Options(*PREFERENCES)],
        "n_init": [Interval("int", 1, None)],
        "random_state": [RandomState()],
        "n_threads": [Options(None), Interval("int", 1, None)],
        "dtype": [Dtype()],
        "verbose": [Interval("int", 0, None), Options(True, False)],
    }

    def __init__(self, n_components: int = 10, *, solver: Solver = "als",
                 init: Init | None = None, max_iter: int = 200, tol: float = 1e-4,
                 l1_W: float = 0.0, l2_W: float = 0.0, l1_H: float = 0.0, l2_H: float = 0.0,
                 user_bias: bool = False, item_bias: bool = False,
                 reg_scale: RegScale = "none", feedback: Feedback = "explicit",
                 alpha: float = 1.0, missing_weight: float = 1.0,
                 preference: Preference = "binary", n_init: int = 1,
                 random_state: Seed = None, n_threads: int | None = None,
                 dtype: FloatDType = "float64", verbose: int | bool = 0) -> None:
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

    def fit(self, X: MatrixLike, y: object = None, W: npt.ArrayLike | None = None,
            H: npt.ArrayLike | None = None) -> Self:
        """Learn W and H from the observed entries of ``X``.

        Parameters
        ----------
        X : scipy sparse matrix, array-like with NaN for missing, or RatingsMatrix
            Shape (n_rows, n_cols). Observed values must be finite and >= 0. A
            :class:`nmfrec.spark.SparkRatings` is fitted on its Spark blocks, to the same
            factors.
        y : ignored
            Not used, present for scikit-learn's API.
        W, H : ndarray, optional
            Initial factors, shapes (n_rows, k) and (k, n_cols), or with the bias columns
            and rows included (their fixed ones are reset to 1); only with
            ``init="custom"``.

        Returns
        -------
        self
        """
        self._fit(X, W, H)
        return self

    def fit_transform(self, X: MatrixLike, y: object = None, W: npt.ArrayLike | None = None,
                      H: npt.ArrayLike | None = None) -> FloatArray:
        """Fit and return ``W`` (n_rows, n_factors_), as :meth:`fit` does.

        Parameters
        ----------
        X, y, W, H
            As in :meth:`fit`.

        Returns
        -------
        W : ndarray of shape (n_rows, n_factors_)
            ``W_``, the fitted row factors.
        """
        self._fit(X, W, H)
        return self.W_

    def transform(self, X: MatrixLike) -> FloatArray:
        """Row factors for new rows against the fitted ``H`` (fold-in).

        Each row's factors are the exact minimiser of its row problem, the same problem
        ALS solves for a training row (explicit feedback:
        ``min_{w>=0} 1/2 sum_{i in Omega_u} (x_ui - w.h_i)^2 + r_u (l1_W sum(w) + 1/2 l2_W ||w||^2)``),
        solved by coordinate descent from zero to convergence, whatever the solver used
        in ``fit``. Rows without observations get zeros (and their item-bias column 1).

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (n_new_rows, n_cols)

        Returns
        -------
        W : ndarray of shape (n_new_rows, n_factors_)
        """
        return super().transform(X)

    def score(self, X: MatrixLike, y: object = None) -> float:
        """How well the model completes new rows (greater is better).

        With explicit feedback, :meth:`FactorModel.score <nmfrec._factor_model.FactorModel.score>`:
        each row of ``X`` is folded in on half of its observed entries (alternately) and
        the score is minus the mean squared error on the other half. With
        ``feedback="implicit"``, minus the data term of the objective (every entry,
        weighted) of the folded-in rows, the penalties left out.

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (n_rows, n_features_in_)
            Rows to score, e.g. held-out rows of the training matrix.
        y : ignored
            Not used, present for scikit-learn's API.

        Returns
        -------
        float
        """
        if self.feedback != "implicit":
            return super().score(X, y)
        self._check_fitted("score")
        R = self._as_matrix(X, "score")
        W = self._solve_rows(R.csr)
        _, data_term = self._problem(R, self._layout).loss(W, self._item_factors())
        return -0.5 * data_term

    def objective(self, X: MatrixLike, W: npt.ArrayLike | None = None) -> float:
        """F(W, H) of the fitted factors on ``X`` (training shape), with ``W_`` by default.

        Parameters
        ----------
        X : sparse, dense with NaN, or RatingsMatrix, shape (n_rows, n_features_in_)
            The matrix whose entries the objective sums over.
        W : ndarray of shape (n_rows, n_factors_), optional
            Row factors, e.g. ``transform(X_new)`` to score new rows; default ``W_``.

        Returns
        -------
        float
            The penalized objective F, as reported in ``loss_history_``.
        """
        self._check_fitted("objective")
        R = self._as_matrix(X, "objective")
        W = self.W_ if W is None else np.ascontiguousarray(W, dtype=self._dtype)
        Ht = self._item_factors()
        if R.shape != (W.shape[0], Ht.shape[0]):
            raise ValueError(f"X has shape {R.shape}; expected {(W.shape[0], Ht.shape[0])}.")
        return self._problem(R, self._layout).loss(W, Ht)[0]

    def get_fitted_state(self) -> dict[str, Any]:
        """The fitted model as arrays and plain values, e.g. to write it to a file.

        Returns
        -------
        dict
            ``"W"`` (n_rows, n_factors_) and ``"H_t"`` (n_cols, n_factors_, row-major)
            arrays and the ``"loss_history"`` array; ``"n_iter"``, ``"converged"``,
            ``"reconstruction_err"``, ``"init"`` and ``"fit_time"``. The arrays are the
            model's own (not copies). :meth:`set_fitted_state` takes the dict back.
        """
        self._check_fitted("get_fitted_state")
        return {
            "W": self.W_,
            "H_t": self._item_factors(),
            "loss_history": np.asarray(self.loss_history_),
            "n_iter": int(self.n_iter_),
            "converged": bool(self.converged_),
            "reconstruction_err": float(self.reconstruction_err_),
            "init": self.init_,
            "fit_time": float(self.fit_time_),
        }

    def set_fitted_state(self, state: dict[str, Any]) -> Self:
        """Make this estimator the fitted model that ``state`` describes.

        Parameters
        ----------
        state : dict
            As :meth:`get_fitted_state` returns it, from a model with the same
            parameters (``n_components``, ``user_bias`` and ``item_bias`` decide the
            factor columns).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            The factors' widths differ from each other or from the parameters' layout.
        KeyError
            A key of the state is missing.
        """
        layout = self._new_layout()
        W = np.ascontiguousarray(state["W"])
        Ht = np.ascontiguousarray(state["H_t"])
        if W.ndim != 2 or Ht.ndim != 2 or W.shape[1] != Ht.shape[1]:
            raise ValueError(f"factor shapes {W.shape} and {Ht.shape} do not share one "
                             "number of columns.")
        if W.shape[1] != layout.n_factors:
            raise ValueError(f"{W.shape[1]} factor columns do not match the parameters' "
                             f"layout {layout.names}")
        self._set_fitted(layout, W, Ht, n_iter=state["n_iter"],
                         loss_history=state["loss_history"], converged=state["converged"],
                         reconstruction_err=state["reconstruction_err"], init=state["init"],
                         fit_time=state["fit_time"])
        return self

    # ------------------------------------------------------------------ fitted attributes
    @property
    def H_t_(self) -> FloatArray:
        """Deprecated: the row-major column factors, ``components_.T``."""
        self._check_fitted("H_t_")
        warn("MaskedNMF.H_t_ is deprecated and will be removed; use components_.T, the "
             "same row-major array.", DeprecationWarning)
        return self.components_.T

    @H_t_.setter
    def H_t_(self, value: npt.ArrayLike) -> None:
        warn("MaskedNMF.H_t_ is deprecated and will be removed; set components_ "
             "(n_factors_, n_cols) instead.", DeprecationWarning)
        self.components_ = np.asarray(value).T

    @property
    def user_bias_(self) -> FloatArray | None:
        self._check_fitted("user_bias_")
        j = self._layout.user_bias_col
        return None if j is None else self.W_[:, j]

    @property
    def item_bias_(self) -> FloatArray | None:

        self._check_fitted("item_bias_")
        j = self._layout.item_bias_col
        return None if j is None else self.components_[j]

    def _validate_params(self):
        check_params(self.get_params(deep=False), self._parameter_constraints)
        if self.solver == "pgd" and self.feedback == "implicit":
            raise ValueError("solver='pgd' does not handle feedback='implicit'; use solver='als' "
                             "or 'mu'.")

    def _new_layout(self):
        """The factor layout the current parameters ask for."""
        return FactorLayout(int(self.n_components), bool(self.user_bias), bool(self.item_bias))

    def _problem(self, R, layout):
        implicit = self.feedback == "implicit"
        mode = _REG_MODES[self.reg_scale]
        scales = (None, None)
        if mode != K.REG_NONE:
            scales = penalty_scales(R, mode, implicit, float(self.alpha),
                                    float(self.missing_weight))
        return _Problem(
            rows=R.rows(), layout=layout, implicit=implicit,
            alpha=float(self.alpha), l1_W=float(self.l1_W), l2_W=float(self.l2_W),
            l1_H=float(self.l1_H), l2_H=float(self.l2_H), reg_scale=mode,
            row_scales=scales[0], col_scales=scales[1],
            missing_weight=float(self.missing_weight),
            preference_rating=self.preference == "rating",
        )

    def _solve_rows(self, csr):
        """Exact row problems of new rows against the fitted H (see ``transform``)."""
        layout = self._layout
        Ht = self._item_factors()
        # solved from zero (the item-bias column of W is the constant 1)
        W = np.zeros((csr.shape[0], layout.n_factors), dtype=self._dtype)
        if layout.item_bias:
            W[:, layout.item_bias_col] = 1.0
        implicit = self.feedback == "implicit"
        missing_weight = float(self.missing_weight)
        YtY = missing_weight * K.gram(Ht) if implicit else np.zeros((1, 1))
        with ThreadLimits(self.n_threads):
            K.als_update_rows(csr.indptr, csr.indices, csr.data, W, Ht, YtY, implicit,
                              float(self.alpha), float(self.l1_W), float(self.l2_W),
                              _REG_MODES[self.reg_scale], layout.fixed_W, _FOLDIN_SWEEPS,
                              _FOLDIN_TOL, missing_weight, self.preference == "rating")
        return W

    def _fit(self, X, W=None, H=None):
        self._validate_params()
        t0 = time.perf_counter()
        R = self._as_matrix(X, "fit")
        m, n = R.shape
        if R.nnz == 0:
            raise ValueError(f"X has no observed entries (shape {R.shape}); there is nothing to fit.")
        k = self.n_components
        layout = self._new_layout()
        init = self.init
        if init is None:
            init = "nndsvda" if k < min(m, n) else "random"
        if (W is not None or H is not None) and init != "custom":
            raise ValueError(f"W and H were given but init={init!r}; pass init='custom' to "
                             "start from them.")
        rng = check_random_state(self.random_state)
        n_init = self.n_init
        if n_init > 1 and init in ("nndsvd", "nndsvda", "custom"):
            warn(f"n_init={n_init} has no effect with the deterministic init={init!r}; "
                 "running once.", UserWarning)
            n_init = 1

        implicit = self.feedback == "implicit"
        preference_rating = self.preference == "rating"
        level = target_level(R, implicit, preference_rating)
        problem = self._problem(R, layout)
        best = None
        with ThreadLimits(self.n_threads):
            for run in range(n_init):
                Wc, Htc = initialize_components(R, k, init, rng, implicit=implicit,
                                                preference_rating=preference_rating,
                                                W=W, H=H, n_factors=layout.n_factors)
                W0, Ht0 = layout.assemble(Wc, Htc, level, shrink=init != "custom")
                W0 = np.ascontiguousarray(W0, dtype=self._dtype)
                Ht0 = np.ascontiguousarray(Ht0, dtype=self._dtype)
                result = self._run_solver(problem, W0, Ht0, run, n_init)
                if best is None or result[3][-1] < best[3][-1]:
                    best = result
            W_, Ht_, n_iter, history, converged = best
            _, data_term = problem.loss(W_, Ht_)
        self._set_fitted(layout, W_, Ht_, n_iter=n_iter, loss_history=history,
                         converged=converged,
                         reconstruction_err=float(np.sqrt(max(data_term, 0.0))), init=init,
                         fit_time=time.perf_counter() - t0)
        if not converged and self.max_iter > 0 and self.tol > 0:
            warn(f"MaskedNMF (solver={self.solver!r}) reached max_iter={self.max_iter} "
                 f"before the relative decrease fell below tol={self.tol}; increase "
                 "max_iter or tol.", ConvergenceWarning)
        return self

    def _set_fitted(self, layout, W, Ht, *, n_iter, loss_history, converged,
                    reconstruction_err, init, fit_time):
        """Every fitted attribute at once (a failed fit leaves the previous ones)."""
        self._layout = layout
        self.W_ = W
        self.components_ = Ht.T            # a view: Ht stays the row-major store
        self.n_iter_ = int(n_iter)
        self.loss_history_ = np.asarray(loss_history, dtype=np.float64)
        self.converged_ = bool(converged)
        self.reconstruction_err_ = float(reconstruction_err)
        self.factor_names_ = list(layout.names)
        self.n_components_ = layout.n_components
        self.n_factors_ = layout.n_factors
        self.n_features_in_ = Ht.shape[0]
        self.init_ = init
        self.fit_time_ = float(fit_time)

    def _mu_constants(self, P: _Problem):
        """MU's eps and floor in the units of the data (absolute ones would swamp, or be
        swamped by, ratings far from 1): floor ~ a factor entry, eps ~ a denominator."""
        mean = P.rows.mean()
        (m, n), nnz = P.rows.shape, P.rows.nnz
        level = mean if not P.implicit else (
            nnz / (m * n) * (mean if P.preference_rating else 1.0))
        if level <= 0:
            return _MU_EPS, _MU_FLOOR
        fscale = np.sqrt(level / max(1, self.n_components))
        return _MU_EPS * level * fscale, _MU_FLOOR * fscale

    def _half_step(self, P: _Problem, side, X, Y, terms=None):
        """Update X (W when side == "W", else H^T) against Y, in place; with ``terms``,
        also fill it with the data term of each updated row (in the same pass)."""
        then = None if terms is None else P.row_terms(terms)
        l1, l2, fixed = P.penalties(side)
        if self.solver == "pgd":
            P.rows.run(side, K.pgd_update_rows, X, Y, (l1, l2, P.reg_scale, fixed,
                                                      _PGD_STEPS), then=then)
            return
        YtY = P.gram(Y)
        if self.solver == "als" and P.implicit:
            self._cd_half_step(P, side, X, Y, P.missing_weight * K.gram(Y))
        elif self.solver == "als":
            P.rows.run(side, K.als_update_rows, X, Y, (YtY, P.implicit, P.alpha, l1, l2,
                       P.reg_scale, fixed, _ALS_SWEEPS, _ALS_SWEEP_TOL, P.missing_weight,
                       P.preference_rating, P.n_other(side)), then=then)
        else:
            eps, floor = self._mu_constants(P)
            P.rows.run(side, K.mu_update_rows, X, Y, (YtY, P.implicit, P.alpha, l1, l2,
                       P.reg_scale, fixed, eps, floor, P.missing_weight,
                       P.preference_rating, P.n_other(side)), then=then)

    def _cd_half_step(self, P: _Problem, side, X, Y, YtY, out_loss=None):
        """Implicit ALS: every row's Gram matrix would carry Y^T Y, so sweep on the
        residuals instead (``YtY`` = ``missing_weight * Y^T Y``)."""
        l1, l2, fixed = P.penalties(side)
        P.rows.run(side, K.cd_update_rows, X, Y, (YtY, True, P.alpha, l1, l2,
                   P.reg_scale, fixed, _CD_SWEEPS, P.missing_weight,
                   P.preference_rating, None if out_loss is None else OUT,
                   P.n_other(side)), out=out_loss)

    def _implicit_iteration(self, P: _Problem, W, Ht, gram_H):
        """One implicit-ALS iteration; returns F and the new ``H H^T``.

        Each side's Gram matrix is computed once (float64 BLAS ``syrk``) and serves both
        the other side's half-step and the objective, whose data term comes from the
        column half-step's own predictions (exact up to rounding, not an estimate): the
        convergence test costs no pass over the data.
        """
        m = P.missing_weight
        self._cd_half_step(P, "W", W, Ht, m * gram_H)
        gram_W = K.gram(W)
        col_terms = np.empty(Ht.shape[0])
        self._cd_half_step(P, "H", Ht, W, m * gram_W, col_terms)
        gram_H = K.gram(Ht)
        return P.implicit_loss(col_terms, gram_W, gram_H, W, Ht), gram_H

    def _run_solver(self, P: _Problem, W, Ht, run=0, n_runs=1):
        if self.solver == "mu":
            # MU multiplies; a coordinate at exactly 0 could never move again
            free_W, free_H = ~P.layout.fixed_W.astype(bool), ~P.layout.fixed_H.astype(bool)
            floor = self._mu_constants(P)[1]
            W[:, free_W] = np.maximum(W[:, free_W], floor)
            Ht[:, free_H] = np.maximum(Ht[:, free_H], floor)

        f = P.loss(W, Ht)[0]
        history = [f]
        bar = None
        if self.verbose:
            desc = f"MaskedNMF[{self.solver}]" + (f" run {run + 1}/{n_runs}" if n_runs > 1 else "")
            bar = Progress(self.max_iter, desc=desc)
        converged = False
        it = 0
        implicit_als = self.solver == "als" and P.implicit
        gram_H = K.gram(Ht) if implicit_als else None
        try:
            for it in range(1, self.max_iter + 1):
                if implicit_als:
                    f_new, gram_H = self._implicit_iteration(P, W, Ht, gram_H)
                else:
                    self._half_step(P, "W", W, Ht)
                    # the objective's data term from the columns just updated: no
                    # third pass over the data (one job fewer per iteration on Spark)
                    col_terms = np.empty(Ht.shape[0])
                    self._half_step(P, "H", Ht, W, col_terms)
                    f_new = P.loss_of_terms(col_terms, W, Ht)[0]
                history.append(f_new)
                rel = (f - f_new) / f if f > 0 else 0.0
                f = f_new
                if bar is not None:
                    bar.update(it, objective=f_new, rel_decrease=rel)
                # tol = 0 asks for exactly max_iter iterations
                if self.tol > 0 and rel < self.tol:
                    converged = True
                    break
        finally:
            if bar is not None:
                bar.close("converged" if converged else "max_iter reached")
        return W, Ht, it, history, converged


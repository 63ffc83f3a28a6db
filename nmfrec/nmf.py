"""MaskedNMF: non-negative matrix factorization fitted to the observed entries only.

The estimator owns the math, the parameters and the convergence loop. It sees arrays and
sparse matrices (never DataFrames or ids); the Numba kernels in :mod:`nmfrec._kernels` do
the per-row work.
"""

from __future__ import annotations

import inspect
import time
import warnings
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, svds
from threadpoolctl import threadpool_limits

from . import _kernels as K
from ._progress import Progress
from ._validation import Dtype, Interval, Options, RandomState, check_params, check_random_state
from .exceptions import ConvergenceWarning, NotFittedError
from .ratings import RatingsMatrix, as_ratings_matrix

__all__ = ["MaskedNMF"]

SOLVERS = ("als", "mu", "pgd")
INITS = ("random", "nndsvd", "nndsvda", "nndsvdar", "custom")

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
_DENSE_SVD_LIMIT = 10_000_000  # NNDSVD's fallback when ARPACK fails: dense only if this small
_MU_EPS = 1e-12         # keeps MU denominators positive (times the data's scale)
_MU_FLOOR = 1e-10       # MU cannot move an exact 0; the floor keeps coordinates alive
                        # (times the scale of a factor entry, sqrt(mean rating / k))


class _ParamsMixin:
    """``get_params``/``set_params``/``repr`` in scikit-learn's manner (no dependency)."""

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid parameters are {valid}.")
            setattr(self, key, value)
        return self

    def __repr__(self):
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if not (defaults.get(k) is v or (type(defaults.get(k)) is type(v) and defaults.get(k) == v))]
        return f"{type(self).__name__}({', '.join(changed)})"


class _Threads:
    """Set numba's thread count for a block, cap BLAS at one thread, always restore both.

    The ALS kernel calls BLAS (``np.dot``) from inside numba's parallel loop; letting
    BLAS start its own threads there oversubscribes the cores (measured 8x slower at
    k=64 on 2 cores), so BLAS runs single-threaded within every fit.
    """

    def __init__(self, n, cap_blas=True):
        self.n = n
        self.cap_blas = cap_blas

    def __enter__(self):
        self.prev = numba.get_num_threads()
        self._blas = threadpool_limits(limits=1, user_api="blas") if self.cap_blas else None
        if self.n is not None:
            numba.set_num_threads(min(int(self.n), numba.config.NUMBA_NUM_THREADS))
        return self

    def __exit__(self, *exc):
        numba.set_num_threads(self.prev)
        if self._blas is not None:
            self._blas.restore_original_limits()
        return False


FEEDBACKS = ("explicit", "implicit")
PREFERENCES = ("binary", "rating")
REG_SCALES = ("none", "count")


@dataclass
class _Problem:
    """Everything a solver iteration needs, prepared once per fit."""

    csr: sp.csr_matrix
    csc: sp.csc_matrix
    implicit: bool
    alpha: float
    l1_W: float
    l2_W: float
    l1_H: float
    l2_H: float
    scale: bool
    fixed_W: np.ndarray
    fixed_H: np.ndarray
    row_counts: np.ndarray | None
    col_counts: np.ndarray | None
    miss_w: float = 1.0
    rating_target: bool = False

    def loss(self, W, Ht):
        return K.objective(self.csr.indptr, self.csr.indices, self.csr.data, W, Ht,
                           self.l1_W, self.l2_W, self.l1_H, self.l2_H, self.implicit, self.alpha,
                           self.fixed_W, self.fixed_H, self.row_counts, self.col_counts,
                           self.miss_w, self.rating_target)

    def gram(self, Y):
        """``miss_w * Y^T Y``, what every implicit row's problem carries."""
        return self.miss_w * K.gram(Y) if self.implicit else np.zeros((1, 1))


class MaskedNMF(_ParamsMixin):
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
    reg_scale : {"none", "count"}, default="none"
        Scale each row's (column's) penalties by its number of observed entries.
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
        Storage type of data and factors (kernels accumulate in float64).
    verbose : int, default=0
        ``>= 1`` shows a progress bar with the current objective on stderr.

    Attributes
    ----------
    W_ : ndarray of shape (n_rows, n_factors_)
        Row factors of the training matrix (the ``W`` that ``fit_transform`` returns),
        bias columns last when there are biases.
    components_ : ndarray of shape (n_factors_, n_cols)
        ``H``. A transposed view of the row-major item factors ``H_t_``.
    H_t_ : ndarray of shape (n_cols, n_factors_)
        Column factors stored row-major (what the kernels use).
    factor_names_ : list of str
        ``"c0" .. "c{k-1}"``, then ``"user_bias"`` and/or ``"item_bias"``.
    user_bias_, item_bias_ : ndarray or None
        The fitted biases (views into ``W_`` and ``H_t_``), None when disabled.
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

    Examples
    --------
    >>> import numpy as np
    >>> from nmfrec import MaskedNMF
    >>> X = np.array([[1, 2, np.nan], [2, np.nan, 6], [np.nan, 4, 6.]])
    >>> model = MaskedNMF(n_components=1, random_state=0, max_iter=500, tol=1e-10)
    >>> W = model.fit_transform(X)
    >>> round(float(model.predict([0], [2])[0]), 2)   # the missing x[0, 2]
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

    def __init__(self, n_components=10, *, solver="als", init=None, max_iter=200, tol=1e-4,
                 l1_W=0.0, l2_W=0.0, l1_H=0.0, l2_H=0.0, user_bias=False, item_bias=False,
                 reg_scale="none", feedback="explicit", alpha=1.0, missing_weight=1.0,
                 preference="binary", n_init=1, random_state=None, n_threads=None,
                 dtype="float64", verbose=0):
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

    # ------------------------------------------------------------------ public API
    def fit(self, X, y=None, W=None, H=None):
        """Learn W and H from the observed entries of ``X``.

        Parameters
        ----------
        X : scipy sparse matrix, array-like with NaN for missing, or RatingsMatrix
            Shape (n_rows, n_cols). Observed values must be finite and >= 0.
        y : ignored
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

    def fit_transform(self, X, y=None, W=None, H=None):
        """Fit and return ``W`` (n_rows, n_factors_)."""
        self._fit(X, W, H)
        return self.W_

    def transform(self, X):
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
        self._check_fitted("transform")
        R = as_ratings_matrix(X, dtype=self._dtype)
        if R.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {R.shape[1]} columns, but MaskedNMF was fitted with "
                             f"{self.n_features_in_} columns.")
        return self._solve_rows(R.csr.indptr, R.csr.indices, R.csr.data)

    def predict(self, rows, cols):
        """Model values ``W[rows] . H[:, cols]`` at the given positions (biases included).

        Parameters
        ----------
        rows, cols : array-like of int, same shape
            Row and column indices in the training matrix.

        Returns
        -------
        ndarray of float, shape of ``rows``.
        """
        self._check_fitted("predict")
        r = np.asarray(rows)
        c = np.asarray(cols)
        if r.shape != c.shape:
            raise ValueError(f"rows and cols must have the same shape; got {r.shape} and {c.shape}.")
        for name, arr, n in (("rows", r, self.W_.shape[0]), ("cols", c, self.H_t_.shape[0])):
            if arr.size and arr.dtype.kind not in "iu":
                raise TypeError(f"{name} must be integer indices; got dtype {arr.dtype}.")
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                bad = arr[(arr < 0) | (arr >= n)].ravel()[0]
                raise IndexError(f"{name} index {bad} is out of range for {n} {name}.")
        out = np.empty(r.size, dtype=np.float64)
        with _Threads(self.n_threads, cap_blas=False):
            K.dot_pairs(r.ravel().astype(np.int64), c.ravel().astype(np.int64), self.W_, self.H_t_, out)
        return out.reshape(r.shape)

    def objective(self, X, W=None):
        """F(W, H) of the fitted factors on ``X`` (training shape), with ``W_`` by default.

        Pass ``W=transform(X_new)`` to score new rows.
        """
        self._check_fitted("objective")
        R = as_ratings_matrix(X, dtype=self._dtype)
        W = self.W_ if W is None else np.ascontiguousarray(W, dtype=self._dtype)
        if R.shape != (W.shape[0], self.H_t_.shape[0]):
            raise ValueError(f"X has shape {R.shape}; expected {(W.shape[0], self.H_t_.shape[0])}.")
        return self._problem(R).loss(W, self.H_t_)[0]

    @property
    def components_(self):
        self._check_fitted("components_")
        return self.H_t_.T

    @property
    def user_bias_(self):
        self._check_fitted("user_bias_")
        j = self._layout()["user_bias"]
        return None if j is None else self.W_[:, j]

    @property
    def item_bias_(self):
        self._check_fitted("item_bias_")
        j = self._layout()["item_bias"]
        return None if j is None else self.H_t_[:, j]

    # ------------------------------------------------------------------ internals
    @property
    def _dtype(self):
        return np.dtype(self.dtype)

    def _check_fitted(self, what):
        if "H_t_" not in self.__dict__:
            raise NotFittedError(f"This MaskedNMF instance is not fitted yet; call fit before {what}.")

    def _validate_params(self):
        check_params(self.get_params(), self._parameter_constraints)
        if self.solver == "pgd" and self.feedback == "implicit":
            raise ValueError("solver='pgd' does not handle feedback='implicit'; use solver='als' "
                             "or 'mu'.")

    def _layout(self):
        """Column layout of W and H^T: components, then the bias columns."""
        k = self.n_components
        names = [f"c{j}" for j in range(k)]
        ub = ib = None
        if self.user_bias:
            ub = len(names)
            names.append("user_bias")
        if self.item_bias:
            ib = len(names)
            names.append("item_bias")
        fixed_W = np.zeros(len(names), dtype=np.uint8)
        fixed_H = np.zeros(len(names), dtype=np.uint8)
        if ib is not None:
            fixed_W[ib] = 1   # W's column of ones paired with the item bias
        if ub is not None:
            fixed_H[ub] = 1   # H's row of ones paired with the user bias
        return {"names": names, "user_bias": ub, "item_bias": ib,
                "fixed_W": fixed_W, "fixed_H": fixed_H}

    def _problem(self, R):
        lay = self._layout()
        scale = self.reg_scale == "count"
        return _Problem(
            csr=R.csr, csc=R.csc, implicit=self.feedback == "implicit", alpha=float(self.alpha),
            l1_W=float(self.l1_W), l2_W=float(self.l2_W), l1_H=float(self.l1_H), l2_H=float(self.l2_H),
            scale=scale, fixed_W=lay["fixed_W"], fixed_H=lay["fixed_H"],
            row_counts=R.row_counts().astype(np.float64) if scale else None,
            col_counts=R.col_counts().astype(np.float64) if scale else None,
            miss_w=float(self.missing_weight), rating_target=self.preference == "rating",
        )

    def _solve_rows(self, indptr, indices, data, W0=None):
        """Exact row problems of new rows against the fitted H (see ``transform``)."""
        lay = self._layout()
        n = len(indptr) - 1
        if W0 is None:
            W = np.zeros((n, self.H_t_.shape[1]), dtype=self._dtype)
            if lay["item_bias"] is not None:
                W[:, lay["item_bias"]] = 1.0
        else:
            W = np.array(W0, dtype=self._dtype)
        implicit = self.feedback == "implicit"
        miss_w = float(self.missing_weight)
        YtY = miss_w * K.gram(self.H_t_) if implicit else np.zeros((1, 1))
        with _Threads(self.n_threads):
            K.als_update_rows(indptr, indices, data, W, self.H_t_, YtY, implicit, float(self.alpha),
                              float(self.l1_W), float(self.l2_W), self.reg_scale == "count",
                              lay["fixed_W"], _FOLDIN_SWEEPS, _FOLDIN_TOL, miss_w,
                              self.preference == "rating")
        return W

    def _fit(self, X, W=None, H=None):
        self._validate_params()
        t0 = time.perf_counter()
        R = as_ratings_matrix(X, dtype=self._dtype)
        m, n = R.shape
        if R.nnz == 0:
            raise ValueError(f"X has no observed entries (shape {R.shape}); there is nothing to fit.")
        k = self.n_components
        init = self.init
        if init is None:
            init = "nndsvda" if k < min(m, n) else "random"
        if (W is not None or H is not None) and init != "custom":
            raise ValueError(f"W and H were given but init={init!r}; pass init='custom' to "
                             "start from them.")
        rng = check_random_state(self.random_state)
        n_init = self.n_init
        if n_init > 1 and init in ("nndsvd", "nndsvda", "custom"):
            warnings.warn(f"n_init={n_init} has no effect with the deterministic init={init!r}; "
                          "running once.", UserWarning, stacklevel=3)
            n_init = 1

        problem = self._problem(R)
        best = None
        with _Threads(self.n_threads):
            for run in range(n_init):
                W0, Ht0 = self._initialize(R, init, rng, W, H)
                result = self._run_solver(problem, W0, Ht0, run, n_init)
                if best is None or result[3][-1] < best[3][-1]:
                    best = result
            W_, Ht_, n_iter, history, converged = best
            _, data_term = problem.loss(W_, Ht_)
        self.W_ = W_
        self.H_t_ = Ht_
        self.n_iter_ = n_iter
        self.loss_history_ = np.asarray(history, dtype=np.float64)
        self.converged_ = converged
        self.reconstruction_err_ = float(np.sqrt(max(data_term, 0.0)))
        self.factor_names_ = self._layout()["names"]
        self.n_components_ = k
        self.n_factors_ = len(self.factor_names_)
        self.n_features_in_ = n
        self.init_ = init
        self.fit_time_ = time.perf_counter() - t0
        if not converged and self.max_iter > 0 and self.tol > 0:
            warnings.warn(f"MaskedNMF (solver={self.solver!r}) reached max_iter={self.max_iter} "
                          f"before the relative decrease fell below tol={self.tol}; increase "
                          "max_iter or tol.", ConvergenceWarning, stacklevel=3)
        return self

    def _mu_constants(self, P: _Problem):
        """MU's eps and floor in the units of the data (absolute ones would swamp, or be
        swamped by, ratings far from 1): floor ~ a factor entry, eps ~ a denominator."""
        mean = float(np.mean(P.csr.data)) if P.csr.nnz else 0.0
        level = mean if not P.implicit else (
            P.csr.nnz / (P.csr.shape[0] * P.csr.shape[1]) * (mean if P.rating_target else 1.0))
        if level <= 0:
            return _MU_EPS, _MU_FLOOR
        fscale = np.sqrt(level / max(1, self.n_components))
        return _MU_EPS * level * fscale, _MU_FLOOR * fscale

    def _half_step(self, P: _Problem, side, X, Y):
        """Update X (W when side == "W", else H^T) against Y, in place."""
        if side == "W":
            mat, l1, l2, fixed = P.csr, P.l1_W, P.l2_W, P.fixed_W
        else:
            mat, l1, l2, fixed = P.csc, P.l1_H, P.l2_H, P.fixed_H
        if self.solver == "pgd":
            K.pgd_update_rows(mat.indptr, mat.indices, mat.data, X, Y, l1, l2, P.scale, fixed, _PGD_STEPS)
            return
        YtY = P.gram(Y)
        if self.solver == "als" and P.implicit:
            # every row's Gram matrix would carry Y^T Y: sweep on the residuals instead
            K.cd_update_rows(mat.indptr, mat.indices, mat.data, X, Y, YtY, True, P.alpha,
                             l1, l2, P.scale, fixed, _CD_SWEEPS, P.miss_w, P.rating_target)
        elif self.solver == "als":
            K.als_update_rows(mat.indptr, mat.indices, mat.data, X, Y, YtY, P.implicit, P.alpha,
                              l1, l2, P.scale, fixed, _ALS_SWEEPS, _ALS_SWEEP_TOL)
        else:
            eps, floor = self._mu_constants(P)
            K.mu_update_rows(mat.indptr, mat.indices, mat.data, X, Y, YtY, P.implicit, P.alpha,
                             l1, l2, P.scale, fixed, eps, floor, P.miss_w, P.rating_target)

    def _run_solver(self, P: _Problem, W, Ht, run=0, n_runs=1):
        if self.solver == "mu":
            # MU multiplies; a coordinate at exactly 0 could never move again
            free_W, free_H = ~P.fixed_W.astype(bool), ~P.fixed_H.astype(bool)
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
        for it in range(1, self.max_iter + 1):
            self._half_step(P, "W", W, Ht)
            self._half_step(P, "H", Ht, W)
            f_new = P.loss(W, Ht)[0]
            history.append(f_new)
            rel = (f - f_new) / f if f > 0 else 0.0
            f = f_new
            if bar is not None:
                bar.update(it, objective=f_new, rel_decrease=rel)
            # tol = 0 asks for exactly max_iter iterations
            if self.tol > 0 and rel < self.tol:
                converged = True
                break
        if bar is not None:
            bar.close("converged" if converged else "max_iter reached")
        return W, Ht, it, history, converged

    # ------------------------------------------------------------------ initialization
    def _initialize(self, R: RatingsMatrix, init, rng, W=None, H=None):
        """Initial (W, H^T) with bias columns laid out as in ``_layout``."""
        m, n = R.shape
        k = self.n_components
        lay = self._layout()
        nf = len(lay["names"])
        dt = self._dtype
        implicit = self.feedback == "implicit"
        # the level predictions should start at: mean rating, or the mean target overall
        level = (R.density * (R.mean if self.preference == "rating" else 1.0)) if implicit else R.mean
        if init == "custom":
            Wc, Htc = self._check_custom(W, H, m, n, k, nf)
        elif init == "random":
            avg = np.sqrt(level / k) if level > 0 else 1.0 / np.sqrt(k)
            Htc = np.abs(avg * rng.standard_normal((n, k)))
            Wc = np.abs(avg * rng.standard_normal((m, k)))
        else:
            Wc, Htc = self._nndsvd(R, init, rng)
        if Wc.shape[1] == nf:  # custom factors that already hold the bias columns
            Wf, Htf = Wc.astype(np.float64, copy=True), Htc.astype(np.float64, copy=True)
        else:
            Wf = np.zeros((m, nf))
            Htf = np.zeros((n, nf))
            shrink = 1.0
            if nf > k and init != "custom":
                # components carry 80% of the level, the biases 10% each
                shrink = np.sqrt(0.8)
            Wf[:, :k] = shrink * Wc
            Htf[:, :k] = shrink * Htc
            b0 = 0.1 * level
            if lay["user_bias"] is not None:
                Wf[:, lay["user_bias"]] = b0
            if lay["item_bias"] is not None:
                Htf[:, lay["item_bias"]] = b0
        if lay["user_bias"] is not None:
            Htf[:, lay["user_bias"]] = 1.0
        if lay["item_bias"] is not None:
            Wf[:, lay["item_bias"]] = 1.0
        return np.ascontiguousarray(Wf, dtype=dt), np.ascontiguousarray(Htf, dtype=dt)

    @staticmethod
    def _check_custom(W, H, m, n, k, nf):
        if W is None or H is None:
            raise ValueError("init='custom' needs both W and H passed to fit.")
        W = np.asarray(W)
        H = np.asarray(H)
        ok_w = (m, k) if nf == k else f"{(m, k)} or {(m, nf)}"
        ok_h = (k, n) if nf == k else f"{(k, n)} or {(nf, n)}"
        if W.shape not in ((m, k), (m, nf)):
            raise ValueError(f"W must have shape {ok_w} (n_rows, n_components); got {W.shape}.")
        if H.shape not in ((k, n), (nf, n)):
            raise ValueError(f"H must have shape {ok_h} (n_components, n_cols); got {H.shape}.")
        if W.shape[1] != H.shape[0]:
            raise ValueError(f"W has {W.shape[1]} columns but H has {H.shape[0]} rows.")
        for name, A in (("W", W), ("H", H)):
            if not np.all(np.isfinite(A)):
                raise ValueError(f"initial {name} contains NaN or infinite values.")
            if np.any(A < 0):
                raise ValueError(f"initial {name} contains negative values; NMF factors must be >= 0.")
        return W.astype(np.float64), np.ascontiguousarray(H.T, dtype=np.float64)

    def _nndsvd(self, R, variant, rng):
        """NNDSVD of the zero-filled sparse matrix, then fitted to the objective's scale."""
        m, n = R.shape
        k = self.n_components
        if k >= min(m, n):
            raise ValueError(f"init={variant!r} computes a truncated SVD and needs "
                             f"n_components < min(n_rows, n_cols) = {min(m, n)}; got "
                             f"n_components={k}. Use init='random'.")
        implicit = self.feedback == "implicit"
        binary = implicit and self.preference == "binary"   # targets are ones where observed
        csr = R.csr
        # one new data array, sharing the index arrays (no copy of the whole matrix)
        A = sp.csr_matrix((np.ones(csr.nnz) if binary else csr.data.astype(np.float64),
                           csr.indices, csr.indptr), shape=csr.shape)
        scale = float(np.abs(A.data).max()) if A.nnz else 0.0   # abs(A) would copy A
        if scale == 0.0:
            # an all-zero matrix has no singular vectors to start from
            level = R.density if implicit else R.mean
            avg = np.sqrt(level / k) if level > 0 else 1.0 / np.sqrt(k)
            return (np.abs(avg * rng.standard_normal((m, k))),
                    np.abs(avg * rng.standard_normal((n, k))))
        v0 = rng.uniform(-1.0, 1.0, size=min(m, n))
        # ARPACK works on the matrix scaled to max 1 (subnormal values would stall it);
        # divide the data itself, since 1/scale may overflow
        A.data /= scale
        try:
            U, S, Vt = svds(A, k=k, v0=v0, solver="arpack")
        except ArpackError:
            # ARPACK cannot build its factorization when the matrix has rank < k
            if m * n > _DENSE_SVD_LIMIT:
                raise ValueError(f"init={variant!r}: the truncated SVD failed (the matrix "
                                 f"may have rank < n_components={k}); use init='random'.")
            U, S, Vt = np.linalg.svd(A.toarray(), full_matrices=False)  # small: dense is fine
            U, S, Vt = U[:, :k], S[:k], Vt[:k]
        S = S * scale
        A.data *= scale
        order = np.argsort(S)[::-1]
        U, S, Vt = U[:, order], S[order], Vt[order]
        W = np.zeros((m, k))
        H = np.zeros((k, n))
        W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
        H[0, :] = np.sqrt(S[0]) * np.abs(Vt[0, :])
        for j in range(1, k):
            x, y = U[:, j], Vt[j, :]
            xp, yp = np.maximum(x, 0), np.maximum(y, 0)
            xn, yn = np.abs(np.minimum(x, 0)), np.abs(np.minimum(y, 0))
            xpn, ypn = np.linalg.norm(xp), np.linalg.norm(yp)
            xnn, ynn = np.linalg.norm(xn), np.linalg.norm(yn)
            mp, mn = xpn * ypn, xnn * ynn
            if mp > mn:
                u, v, sigma = (xp / xpn if xpn else xp), (yp / ypn if ypn else yp), mp
            else:
                u, v, sigma = (xn / xnn if xnn else xn), (yn / ynn if ynn else yn), mn
            lbd = np.sqrt(S[j] * sigma)
            W[:, j] = lbd * u
            H[j, :] = lbd * v
        eps = 1e-6
        W[W < eps] = 0
        H[H < eps] = 0
        if variant == "nndsvda":
            avg = A.sum() / (m * n)
            W[W == 0] = avg
            H[H == 0] = avg
        elif variant == "nndsvdar":
            avg = A.sum() / (m * n)
            W[W == 0] = np.abs(avg * rng.standard_normal(int((W == 0).sum())) / 100)
            H[H == 0] = np.abs(avg * rng.standard_normal(int((H == 0).sum())) / 100)
        Ht = np.ascontiguousarray(H.T)
        W = np.ascontiguousarray(W)
        # The SVD saw missing entries as zeros, which shrinks the factors when few entries
        # are observed. Rescale by the least-squares factor c = <t, s> / <s, s>: over the
        # observed entries for ratings, over all entries (Gram trick) for implicit targets.
        stats = np.empty((m, 2))
        K.fit_stats(csr.indptr, csr.indices, csr.data, W, Ht, binary, stats)
        num = float(np.sum(stats[:, 0]))
        den = float(np.sum(K.gram(W) * K.gram(Ht))) if implicit else float(np.sum(stats[:, 1]))
        if den > 0 and num > 0:
            c = num / den
            W *= np.sqrt(c)
            Ht *= np.sqrt(c)
        return W, Ht

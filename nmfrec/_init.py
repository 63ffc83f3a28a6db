"""Initial factors for MaskedNMF: random, NNDSVD (and its a/ar variants), or the caller's.

Plain functions of a :class:`~nmfrec.RatingsMatrix`, in the manner of scikit-learn's
``_initialize_nmf``. They return the ``n_components`` components only, as ``W``
(n_rows, k) and ``H^T`` (n_cols, k), both row-major float64; the estimator adds its bias
columns (see ``FactorLayout`` in :mod:`nmfrec.nmf`).

The scale of every start is the level the objective's targets sit at (:func:`target_level`):
the mean rating for explicit feedback, the mean target over *all* entries for implicit
feedback, where most targets are the zeros of missing entries.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import ArpackError, LinearOperator, svds

from . import _kernels as K
from ._rows import OUT
from .ratings import RatingsMatrix

__all__ = ["INITS", "initialize_components", "target_level", "random_components",
           "nndsvd_components", "check_custom_factors"]

#: The values of MaskedNMF's ``init`` (None picks one of them).
INITS = ("random", "nndsvd", "nndsvda", "nndsvdar", "custom")

_DENSE_SVD_LIMIT = 10_000_000  # NNDSVD's fallback when ARPACK fails: dense only if this small


def target_level(R: RatingsMatrix, implicit: bool, preference_rating: bool) -> float:
    """The level predictions should start at.

    Explicit feedback: the mean rating. Implicit feedback: the mean target over every
    entry, the density (binary preferences) or the density times the mean rating
    (``preference="rating"``).
    """
    if not implicit:
        return R.mean
    return R.density * (R.mean if preference_rating else 1.0)


def initialize_components(R: RatingsMatrix, n_components, init, rng, *, implicit=False,
                          preference_rating=False, W=None, H=None, n_factors=None):
    """Initial components of a fit, by the method ``init``.

    Parameters
    ----------
    R : RatingsMatrix
        The training matrix, shape (n_rows, n_cols).
    n_components : int
        Rank k.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"}
        The method (see :class:`~nmfrec.MaskedNMF`).
    rng : numpy.random.Generator
        The fit's only source of randomness.
    implicit, preference_rating : bool
        The objective's targets (``feedback="implicit"``, ``preference="rating"``).
    W, H : array-like, optional
        The caller's factors, ``init="custom"`` only (see :func:`check_custom_factors`).
    n_factors : int, optional
        Rank plus bias columns, the other width custom factors may have (default: k).

    Returns
    -------
    W : ndarray of shape (n_rows, k) or (n_rows, n_factors)
    Ht : ndarray of shape (n_cols, k) or (n_cols, n_factors)
        Float64, C-contiguous; ``n_factors`` columns only when custom factors came with
        their bias columns.
    """
    m, n = R.shape
    if init == "custom":
        return check_custom_factors(W, H, m, n, n_components,
                                    n_components if n_factors is None else n_factors)
    if init == "random":
        return random_components(m, n, n_components, target_level(R, implicit, preference_rating),
                                 rng)
    return nndsvd_components(R, n_components, init, rng, implicit=implicit,
                             preference_rating=preference_rating)


def random_components(n_rows, n_cols, n_components, level, rng):
    """``|N(0, 1)| * sqrt(level / k)`` entries: products of the scale of ``level``.

    scikit-learn's scaling, with ``level`` the mean of the objective's targets (computed
    on the observed entries, not on a zero-filled matrix).
    """
    k = n_components
    avg = np.sqrt(level / k) if level > 0 else 1.0 / np.sqrt(k)
    Ht = np.abs(avg * rng.standard_normal((n_cols, k)))
    W = np.abs(avg * rng.standard_normal((n_rows, k)))
    return W, Ht


def nndsvd_components(R: RatingsMatrix, n_components, variant, rng, *, implicit=False,
                      preference_rating=False):
    """NNDSVD of the zero-filled sparse matrix, rescaled to the objective's targets.

    Boutsidis & Gallopoulos' NNDSVD from ``scipy.sparse.linalg.svds`` (never a dense
    matrix, except the dense SVD of a small matrix whose rank ARPACK cannot handle).
    ``"nndsvda"`` fills the zeros with the data's mean, ``"nndsvdar"`` with small random
    values. The SVD sees missing entries as zeros, which shrinks the factors when few
    entries are observed, so both are then multiplied by the least-squares factor that
    best fits the targets: over the observed entries for ratings, over all entries for
    implicit targets.

    Parameters
    ----------
    R : RatingsMatrix
    n_components : int
        Rank k, below ``min(n_rows, n_cols)``.
    variant : {"nndsvd", "nndsvda", "nndsvdar"}
    rng : numpy.random.Generator
        Draws ARPACK's start vector (and the ``"nndsvdar"`` fill).
    implicit, preference_rating : bool
        The objective's targets (ones where observed for binary implicit feedback).

    Returns
    -------
    W : ndarray of shape (n_rows, k)
    Ht : ndarray of shape (n_cols, k)

    Raises
    ------
    ValueError
        ``n_components >= min(n_rows, n_cols)``, or the truncated SVD of a large matrix
        failed.
    """
    m, n = R.shape
    k = n_components
    if k >= min(m, n):
        raise ValueError(f"init={variant!r} computes a truncated SVD and needs "
                         f"n_components < min(n_rows, n_cols) = {min(m, n)}; got "
                         f"n_components={k}. Use init='random'.")
    binary = implicit and not preference_rating   # targets are ones where observed
    # ratings: the matrix itself; binary targets: ones sharing the index arrays. Products
    # with A run wherever its rows are (nmfrec._rows): here, or on a cluster's blocks
    A = R.rows().binary() if binary else R.rows()
    # the largest |value| without a copy of the data (np.abs would make one)
    scale = A.max_abs()
    if scale == 0.0:
        # an all-zero matrix has no singular vectors to start from
        level = R.density if implicit else R.mean
        avg = np.sqrt(level / k) if level > 0 else 1.0 / np.sqrt(k)
        return (np.abs(avg * rng.standard_normal((m, k))),
                np.abs(avg * rng.standard_normal((n, k))))
    v0 = rng.uniform(-1.0, 1.0, size=min(m, n))
    # ARPACK works on the matrix scaled to max 1 (subnormal values would stall it): an
    # operator that divides each product (never a scaled copy of the data: on 20M ratings
    # a copy is 160 MB of the fit's peak), dividing by scale since 1/scale may overflow
    def along(side):
        return lambda X: A.product(side, X) / scale

    op = LinearOperator(A.shape, dtype=np.float64, matvec=along("W"), rmatvec=along("H"),
                        matmat=along("W"), rmatmat=along("H"))
    try:
        U, S, Vt = svds(op, k=k, v0=v0, solver="arpack")
    except ArpackError:
        # ARPACK cannot build its factorization when the matrix has rank < k
        if m * n > _DENSE_SVD_LIMIT:
            raise ValueError(f"init={variant!r}: the truncated SVD failed (the matrix "
                             f"may have rank < n_components={k}); use init='random'.")
        U, S, Vt = np.linalg.svd(op @ np.eye(n), full_matrices=False)  # small: dense
        U, S, Vt = U[:, :k], S[:k], Vt[:k]
    S = S * scale
    # largest first; svds returns them ascending: reversing views copies nothing
    order = np.argsort(S)[::-1]
    if np.array_equal(order, np.arange(k)[::-1]):
        U, S, Vt = U[:, ::-1], S[::-1], Vt[::-1]
    elif not np.array_equal(order, np.arange(k)):
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
        avg = A.data_sum() / (m * n)
        W[W == 0] = avg
        H[H == 0] = avg
    elif variant == "nndsvdar":
        avg = A.data_sum() / (m * n)
        W[W == 0] = np.abs(avg * rng.standard_normal(int((W == 0).sum())) / 100)
        H[H == 0] = np.abs(avg * rng.standard_normal(int((H == 0).sum())) / 100)
    Ht = np.ascontiguousarray(H.T)
    W = np.ascontiguousarray(W)
    # least-squares rescale c = <t, s> / <s, s>: over the observed entries for ratings,
    # over all entries (Gram trick) for implicit targets
    stats = np.empty((m, 2))
    R.rows().run("W", K.fit_stats, W, Ht, (binary, OUT), out=stats)
    num = float(np.sum(stats[:, 0]))
    den = float(np.sum(K.gram(W) * K.gram(Ht))) if implicit else float(np.sum(stats[:, 1]))
    if den > 0 and num > 0:
        c = num / den
        W *= np.sqrt(c)
        Ht *= np.sqrt(c)
    return W, Ht


def check_custom_factors(W, H, n_rows, n_cols, n_components, n_factors):
    """The caller's starting factors of ``init="custom"``, checked.

    Parameters
    ----------
    W, H : array-like or None
        Shapes (n_rows, k) and (k, n_cols), or with the bias columns and rows included
        ((n_rows, n_factors) and (n_factors, n_cols)). Finite and non-negative.
    n_rows, n_cols : int
        Shape of the training matrix.
    n_components, n_factors : int
        Rank k, and k plus the bias columns.

    Returns
    -------
    W : ndarray of shape (n_rows, W's columns), float64
    Ht : ndarray of shape (n_cols, H's rows), float64, C-contiguous

    Raises
    ------
    ValueError
        A factor is missing, has the wrong shape, NaN, infinite or negative values.
    """
    m, n, k, nf = n_rows, n_cols, n_components, n_factors
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

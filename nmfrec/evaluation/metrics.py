"""Accuracy and ranking metrics on plain NumPy arrays.

This module needs NumPy only (and nmfrec's argument checks), so the formulas can be read,
tested and reused without any model, DataFrame or compiled code.

Rating metrics take two aligned 1-D arrays. Ranking metrics take, for ``n`` users,

``recommended``
    the ranked recommendation lists: either a 2-D array of shape ``(n, L)`` whose
    integer entries equal to ``-1`` mark empty slots (padding), or a sequence of ``n``
    1-D arrays (lists may have different lengths; shorter than ``k`` is allowed and the
    missing positions count as misses). Only the first ``k`` entries of each list are
    scored. A list must not repeat an item.
``relevant``
    the relevant (held-out) items of each of the same ``n`` users: a sequence of sets,
    lists or arrays (or a 2-D ``-1``-padded array). Repeated items count once.

Item labels may be integers or strings; they are only compared for equality.

Users with no relevant item are skipped: a metric is undefined for them, so with
``average=False`` their entry is NaN and with ``average=True`` they do not enter the
mean. If no user has a relevant item the average is NaN and a ``RuntimeWarning`` says so.

Notation, for one user with ranked list ``r_1 … r_k`` and relevant set ``R``:
``hit_j = 1 if r_j ∈ R else 0`` and ``hits = Σ_{j≤k} hit_j``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from .._validation import check_positive_int

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import FloatArray, Missing, Recommended, Relevant

__all__ = [
    "rmse",
    "mae",
    "precision_at_k",
    "implicit_precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "map_at_k",
    "hit_rate_at_k",
    "coverage_at_k",
    "limited_auc_at_k",
    "PAD",
]

#: Value that marks an empty slot in a 2-D integer array of recommendations.
PAD = -1


# --------------------------------------------------------------------------------------
# rating prediction
# --------------------------------------------------------------------------------------


def _rating_pair(y_true, y_pred, missing):
    if missing not in ("error", "ignore"):
        raise ValueError(f"missing must be 'error' or 'ignore'; got {missing!r}.")
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length; got {y_true.size} and "
            f"{y_pred.size}."
        )
    bad_true = ~np.isfinite(y_true)
    if bad_true.any():
        first = int(np.flatnonzero(bad_true)[0])
        raise ValueError(
            f"y_true has {int(bad_true.sum())} NaN or infinite values "
            f"(first at position {first}: {y_true[first]})."
        )
    nan_pred = np.isnan(y_pred)
    if nan_pred.any():
        if missing == "error":
            first = int(np.flatnonzero(nan_pred)[0])
            raise ValueError(
                f"missing predictions for {int(nan_pred.sum())} of {y_pred.size} "
                f"ratings (first at position {first}); pass missing='ignore' to score "
                "only the predicted ones."
            )
        y_true, y_pred = y_true[~nan_pred], y_pred[~nan_pred]
    if np.isinf(y_pred).any():
        raise ValueError(f"y_pred has {int(np.isinf(y_pred).sum())} infinite values.")
    if y_true.size == 0:
        raise ValueError("no ratings to score (empty input, or every prediction NaN).")
    return y_true, y_pred


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, missing: Missing = "error") -> float:
    """Root mean squared error.

    ``RMSE = sqrt( (1/|T|) Σ_{(u,i)∈T} (x_ui − x̂_ui)² )`` over the scored ratings ``T``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        True ratings (must be finite) and predictions.
    missing : {"error", "ignore"}, default "error"
        What a NaN prediction means. ``"error"`` raises, naming how many are missing
        (as LensKit does); ``"ignore"`` leaves those ratings out of ``T``.

    Returns
    -------
    float
    """
    t, p = _rating_pair(y_true, y_pred, missing)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, missing: Missing = "error") -> float:
    """Mean absolute error, ``MAE = (1/|T|) Σ_{(u,i)∈T} |x_ui − x̂_ui|``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
        True ratings (must be finite) and predictions.
    missing : {"error", "ignore"}, default "error"
        What a NaN prediction means. ``"error"`` raises, naming how many are missing;
        ``"ignore"`` leaves those ratings out of ``T``.

    Returns
    -------
    float
    """
    t, p = _rating_pair(y_true, y_pred, missing)
    return float(np.mean(np.abs(t - p)))


# --------------------------------------------------------------------------------------
# ranking: shared preparation
# --------------------------------------------------------------------------------------


def _flatten(lists, name, k=None):
    """Flatten per-user lists into (rows, positions, items), dropping PAD slots.

    ``positions`` is the 0-based rank within each list; with ``k`` only ranks < k stay.
    """
    if isinstance(lists, np.ndarray) and lists.ndim == 2:
        n = lists.shape[0]
        width = lists.shape[1] if k is None else min(k, lists.shape[1])
        block = lists[:, :width]
        rows = np.repeat(np.arange(n), width)
        pos = np.tile(np.arange(width), n)
        items = block.ravel()
    else:
        if isinstance(lists, np.ndarray) and lists.ndim != 1:
            raise ValueError(f"{name} must be a 2-D array or a sequence of 1-D arrays.")
        arrays = []
        for j, entry in enumerate(lists):
            if isinstance(entry, (set, frozenset)):
                entry = list(entry)
            a = np.asarray(entry)
            if a.ndim == 0:
                raise ValueError(
                    f"{name}[{j}] must be a list/array of items; got the scalar {entry!r}."
                )
            if a.ndim != 1:
                raise ValueError(f"{name}[{j}] must be 1-D; got shape {a.shape}.")
            if k is not None:
                a = a[:k]
            arrays.append(a)
        n = len(arrays)
        lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=n)
        rows = np.repeat(np.arange(n), lengths)
        starts = np.cumsum(lengths) - lengths
        pos = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
        nonempty = [a for a in arrays if a.size]
        items = np.concatenate(nonempty) if nonempty else np.empty(0, dtype=np.int64)
    if items.dtype.kind in "iu":
        keep = items != PAD
        rows, pos, items = rows[keep], pos[keep], items[keep]
    elif items.dtype.kind == "f":
        raise TypeError(
            f"{name} holds floating-point values; item labels must be integers or "
            "strings (scores belong elsewhere)."
        )
    return n, rows, pos, items


def _hits(recommended, relevant, k):
    """Hit matrix and relevant counts.

    Returns
    -------
    hits : bool ndarray of shape (n_users, k)
        ``hits[u, j]`` is True when the item at rank ``j`` of user ``u`` is relevant.
    n_rel : int ndarray of shape (n_users,)
        Number of distinct relevant items per user.
    n_items_listed : int ndarray of shape (n_users,)
        Length of each list after truncation to ``k``.
    """
    k = check_positive_int(k, "k")
    n, rec_rows, rec_pos, rec_items = _flatten(recommended, "recommended", k)
    n_rel_users, rel_rows, _, rel_items = _flatten(relevant, "relevant")
    if n_rel_users != n:
        raise ValueError(
            f"recommended and relevant must describe the same users; got {n} "
            f"recommendation lists and {n_rel_users} relevant sets."
        )
    # Factorize the labels of both sides jointly, then compare (user, item) keys.
    if rec_items.dtype.kind in "iu" and rel_items.dtype.kind in "iu":
        both = np.concatenate([rec_items.astype(np.int64), rel_items.astype(np.int64)])
    elif rec_items.dtype == rel_items.dtype:
        both = np.concatenate([rec_items, rel_items])
    else:
        both = np.concatenate([rec_items.astype(object), rel_items.astype(object)])
    try:
        _, codes = np.unique(both, return_inverse=True)
    except TypeError as exc:  # mixed, unorderable labels
        raise TypeError(f"item labels must be mutually comparable: {exc}") from None
    codes = codes.ravel().astype(np.int64)
    n_codes = int(codes.max()) + 1 if codes.size else 1
    rec_keys = rec_rows.astype(np.int64) * n_codes + codes[: rec_items.size]
    rel_keys = np.unique(rel_rows.astype(np.int64) * n_codes + codes[rec_items.size :])

    uniq, counts = np.unique(rec_keys, return_counts=True)
    if uniq.size != rec_keys.size:
        dup = uniq[counts > 1][0]
        raise ValueError(
            f"recommended lists repeat items: {int((counts - 1).sum())} duplicates "
            f"within the top {k} (first: user position {int(dup // n_codes)}, item "
            f"{rec_items[np.flatnonzero(rec_keys == dup)[0]]!r})."
        )
    is_hit = np.isin(rec_keys, rel_keys, assume_unique=True)
    hits = np.zeros((n, k), dtype=bool)
    hits[rec_rows[is_hit], rec_pos[is_hit]] = True
    n_rel = np.bincount(rel_keys // n_codes, minlength=n).astype(np.int64)
    listed = np.bincount(rec_rows, minlength=n).astype(np.int64)
    return hits, n_rel, listed


def _finish(values, n_rel, average, name):
    """NaN for users without relevant items, then mean over the rest if asked."""
    values = np.where(n_rel > 0, values, np.nan)
    if not average:
        return values
    if not (n_rel > 0).any():
        warnings.warn(
            f"{name}: no user has a relevant item; the metric is undefined (NaN).",
            RuntimeWarning,
            stacklevel=3,
        )
        return float("nan")
    return float(np.mean(values[n_rel > 0]))


_RANKING_PARAMETERS = """
    Parameters
    ----------
    recommended : 2-D int array padded with -1, or sequence of 1-D arrays
        Ranked recommendation lists, one per user; only the first ``k`` entries count.
    relevant : sequence of sets, lists or 1-D arrays
        The relevant items of each user, aligned with ``recommended``.
{extra}    k : int, default 10
        List length: ranks beyond ``k`` are ignored.
    average : bool, default True
        If False, return the per-user values (NaN for users without relevant items).

    Returns
    -------
    float or ndarray of shape (n_users,)
"""


def _ranking_doc(func=None, *, extra=""):
    """Append the Parameters and Returns sections shared by the ranking metrics.

    Parameters
    ----------
    func : function, optional
        The metric; without it, a decorator is returned (``@_ranking_doc(extra=...)``).
    extra : str, default ""
        Entries of further parameters, placed between ``relevant`` and ``k`` (as in the
        metric's signature), indented as a numpydoc section of a function.

    Returns
    -------
    function
        ``func`` with its docstring completed, or the decorator.
    """
    if func is None:
        return lambda f: _ranking_doc(f, extra=extra)
    if func.__doc__:  # None under python -OO
        func.__doc__ = (func.__doc__.rstrip() + "\n"
                        + _RANKING_PARAMETERS.format(extra=extra))
    return func


def _discounts(k):
    """``1 / log2(j + 1)`` for ranks j = 1..k."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


# --------------------------------------------------------------------------------------
# ranking metrics
# --------------------------------------------------------------------------------------


@overload
def precision_at_k(recommended: Recommended, relevant: Relevant, k: int = ...,
                   average: Literal[True] = ...) -> float: ...
@overload
def precision_at_k(recommended: Recommended, relevant: Relevant, k: int = ..., *,
                   average: Literal[False]) -> FloatArray: ...
@overload
def precision_at_k(recommended: Recommended, relevant: Relevant, k: int,
                   average: Literal[False]) -> FloatArray: ...


@_ranking_doc
def precision_at_k(recommended: Recommended, relevant: Relevant, k: int = 10,
                   average: bool = True) -> float | FloatArray:
    """Precision at k: ``P@k(u) = hits(u) / k``.

    The denominator is always ``k``, even when the list is shorter or the user has
    fewer than ``k`` relevant items (the definition of LensKit and of most papers, and
    the one the ranking protocol of :func:`nmfrec.evaluation.evaluate` reports). The
    average is the mean over users with at least one relevant item. For implicit's
    variant see :func:`implicit_precision_at_k`.
    """
    hits, n_rel, _ = _hits(recommended, relevant, k)
    return _finish(hits.sum(axis=1) / hits.shape[1], n_rel, average, "precision_at_k")


@overload
def implicit_precision_at_k(recommended: Recommended, relevant: Relevant, k: int = ...,
                            average: Literal[True] = ...) -> float: ...
@overload
def implicit_precision_at_k(recommended: Recommended, relevant: Relevant, k: int = ..., *,
                            average: Literal[False]) -> FloatArray: ...
@overload
def implicit_precision_at_k(recommended: Recommended, relevant: Relevant, k: int,
                            average: Literal[False]) -> FloatArray: ...


@_ranking_doc
def implicit_precision_at_k(recommended: Recommended, relevant: Relevant, k: int = 10,
                            average: bool = True) -> float | FloatArray:
    """Precision at k as defined by ``implicit.evaluation.ranking_metrics_at_k``.

    ``P@k = Σ_u hits(u) / Σ_u min(k, |R_u|)``: hits are summed over users and divided
    by the summed best achievable hit counts (a micro average), so a user with two
    relevant items and both of them in the list scores 1 even when k = 10.

    With ``average=False`` the per-user ratios ``hits(u) / min(k, |R_u|)`` are returned;
    note that the averaged value is their *weighted* mean (weights ``min(k, |R_u|)``),
    not their plain mean.
    """
    hits, n_rel, _ = _hits(recommended, relevant, k)
    k = hits.shape[1]
    best = np.minimum(k, n_rel)
    scored = n_rel > 0
    h = hits.sum(axis=1)
    if not average:
        return np.where(scored, h / np.maximum(best, 1), np.nan)
    if not scored.any():
        return _finish(np.zeros(n_rel.size), n_rel, True, "implicit_precision_at_k")
    return float(h[scored].sum() / best[scored].sum())


@overload
def recall_at_k(recommended: Recommended, relevant: Relevant, k: int = ...,
                average: Literal[True] = ...) -> float: ...
@overload
def recall_at_k(recommended: Recommended, relevant: Relevant, k: int = ..., *,
                average: Literal[False]) -> FloatArray: ...
@overload
def recall_at_k(recommended: Recommended, relevant: Relevant, k: int,
                average: Literal[False]) -> FloatArray: ...


@_ranking_doc
def recall_at_k(recommended: Recommended, relevant: Relevant, k: int = 10,
                average: bool = True) -> float | FloatArray:
    """Recall at k: ``R@k(u) = hits(u) / |R_u|``, averaged over users with ``|R_u| > 0``.

    The denominator is the full number of relevant items, so a user with more than
    ``k`` relevant items cannot reach 1.
    """
    hits, n_rel, _ = _hits(recommended, relevant, k)
    return _finish(hits.sum(axis=1) / np.maximum(n_rel, 1), n_rel, average, "recall_at_k")


@overload
def ndcg_at_k(recommended: Recommended, relevant: Relevant, k: int = ...,
              average: Literal[True] = ...) -> float: ...
@overload
def ndcg_at_k(recommended: Recommended, relevant: Relevant, k: int = ..., *,
              average: Literal[False]) -> FloatArray: ...
@overload
def ndcg_at_k(recommended: Recommended, relevant: Relevant, k: int,
              average: Literal[False]) -> FloatArray: ...


@_ranking_doc
def ndcg_at_k(recommended: Recommended, relevant: Relevant, k: int = 10,
              average: bool = True) -> float | FloatArray:
    """Normalized discounted cumulative gain at k, binary gains.

    ``DCG@k(u) = Σ_{j≤k} hit_j / log2(j + 1)`` and
    ``IDCG@k(u) = Σ_{j ≤ min(k, |R_u|)} 1 / log2(j + 1)`` (all relevant items ranked
    first), ``NDCG@k(u) = DCG@k(u) / IDCG@k(u)``, averaged over users with
    ``|R_u| > 0``. This is the definition of implicit's ``ndcg``.
    """
    hits, n_rel, _ = _hits(recommended, relevant, k)
    k = hits.shape[1]
    disc = _discounts(k)
    dcg = hits @ disc
    idcg_table = np.concatenate([[1.0], np.cumsum(disc)])  # index 0 unused (no rel)
    idcg = idcg_table[np.minimum(k, n_rel)]
    return _finish(dcg / idcg, n_rel, average, "ndcg_at_k")


@overload
def map_at_k(recommended: Recommended, relevant: Relevant, k: int = ...,
             average: Literal[True] = ...) -> float: ...
@overload
def map_at_k(recommended: Recommended, relevant: Relevant, k: int = ..., *,
             average: Literal[False]) -> FloatArray: ...
@overload
def map_at_k(recommended: Recommended, relevant: Relevant, k: int,
             average: Literal[False]) -> FloatArray: ...


@_ranking_doc
def map_at_k(recommended: Recommended, relevant: Relevant, k: int = 10,
             average: bool = True) -> float | FloatArray:
    """Mean average precision at k.

    ``AP@k(u) = (1 / min(k, |R_u|)) Σ_{j≤k} hit_j · P@j(u)`` with
    ``P@j(u) = (Σ_{l≤j} hit_l) / j``; MAP@k is the mean of AP@k over users with
    ``|R_u| > 0``. The ``min(k, |R_u|)`` normalization (a perfect list scores 1) is the
    one implicit uses.
    """
    hits, n_rel, _ = _hits(recommended, relevant, k)
    k = hits.shape[1]
    prec_at_j = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    ap = (hits * prec_at_j).sum(axis=1) / np.maximum(np.minimum(k, n_rel), 1)
    return _finish(ap, n_rel, average, "map_at_k")


@overload
def hit_rate_at_k(recommended: Recommended, relevant: Relevant, k: int = ...,
                  average: Literal[True] = ...) -> float: ...
@overload
def hit_rate_at_k(recommended: Recommended, relevant: Relevant, k: int = ..., *,
                  average: Literal[False]) -> FloatArray: ...
@overload
def hit_rate_at_k(recommended: Recommended, relevant: Relevant, k: int,
                  average: Literal[False]) -> FloatArray: ...


@_ranking_doc
def hit_rate_at_k(recommended: Recommended, relevant: Relevant, k: int = 10,
                  average: bool = True) -> float | FloatArray:
    """Hit rate at k: ``HR@k(u) = 1 if hits(u) > 0 else 0``.

    Averaged over users with ``|R_u| > 0``.
    """
    hits, n_rel, _ = _hits(recommended, relevant, k)
    return _finish(hits.any(axis=1).astype(np.float64), n_rel, average, "hit_rate_at_k")


@overload
def limited_auc_at_k(recommended: Recommended, relevant: Relevant, n_items: int, k: int = ...,
                     average: Literal[True] = ...) -> float: ...
@overload
def limited_auc_at_k(recommended: Recommended, relevant: Relevant, n_items: int, k: int = ..., *,
                     average: Literal[False]) -> FloatArray: ...
@overload
def limited_auc_at_k(recommended: Recommended, relevant: Relevant, n_items: int, k: int,
                     average: Literal[False]) -> FloatArray: ...


@_ranking_doc(extra="""\
    n_items : int
        Size of the whole catalog, train items included, as in implicit; must exceed
        every user's number of relevant items.
""")
def limited_auc_at_k(recommended: Recommended, relevant: Relevant, n_items: int, k: int = 10,
                     average: bool = True) -> float | FloatArray:
    """implicit's "limited AUC" at k.

    For a user with ``P = |R_u|`` relevant items among ``n_items`` and ``N = n_items − P``
    negatives: each miss at a rank ``j ≤ k`` is outranked by the hits above it; every
    negative outside the list is assumed to lie below the ``hits(u)`` listed positives
    and tied with the ``P − hits(u)`` unlisted ones, so

    ``AUC@k(u) = (Σ_{j≤k, miss at j} hits_before_j + (hits(u) + P)/2 · (N − misses(u)))
    / (P · N)``,

    where a missing slot (list shorter than ``k``) counts as a miss, exactly as implicit
    counts its ``-1`` padding. Averaged over users with ``P > 0``.
    """
    hits, n_rel, _ = _hits(recommended, relevant, k)
    n_items = int(n_items)
    if (n_rel >= n_items).any():
        raise ValueError(
            f"n_items={n_items} must exceed every user's number of relevant items "
            f"(largest: {int(n_rel.max())})."
        )
    cum = np.cumsum(hits, axis=1)
    miss = ~hits
    auc = (cum * miss).sum(axis=1).astype(np.float64)
    h = cum[:, -1]
    pos = n_rel.astype(np.float64)
    neg = n_items - pos
    auc += (h + pos) / 2.0 * (neg - miss.sum(axis=1))
    return _finish(auc / np.maximum(pos * neg, 1.0), n_rel, average, "limited_auc_at_k")


def coverage_at_k(recommended: Recommended, catalog: int | npt.ArrayLike, k: int = 10) -> float:
    """Catalog coverage at k: share of catalog items in at least one top-k list.

    ``coverage@k = |C ∩ ∪_u top_k(u)| / |C|``. Every list counts, whatever its user's
    relevant items (the caller chooses which users' lists to pass; the protocol passes
    the scored users'). Items outside the catalog are ignored.

    Parameters
    ----------
    recommended : 2-D int array padded with -1, or sequence of 1-D arrays
        Ranked recommendation lists, one per user; only the first ``k`` entries count.
    catalog : int or array-like
        An int ``n`` means the items ``0 … n−1``; otherwise the catalog's item labels
        (the ranking protocol passes the items present in train).
    k : int, default 10
        List length: ranks beyond ``k`` are ignored.

    Returns
    -------
    float
    """
    k = check_positive_int(k, "k")
    _, _, _, items = _flatten(recommended, "recommended", k)
    if isinstance(catalog, (int, np.integer)) and not isinstance(catalog, bool):
        if catalog <= 0:
            raise ValueError(f"catalog size must be positive; got {catalog}.")
        catalog = np.arange(int(catalog))
    catalog = np.unique(np.asarray(list(catalog) if isinstance(catalog, (set, frozenset))
                                   else catalog))
    if catalog.size == 0:
        raise ValueError("catalog is empty.")
    shown = np.unique(items)
    return float(np.isin(catalog, shown).sum() / catalog.size)

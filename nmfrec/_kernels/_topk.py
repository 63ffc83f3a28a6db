"""The best items of each row of a block of scores.

The scores come from a matrix product (:mod:`nmfrec._serving`: a block of users by every
item); each row is scanned in item order and its best ``n`` allowed, not excluded items
kept in a bounded heap: O(n) memory per row, O(n_items + n log n) time, no sort of the
row. Order is total and deterministic: higher score first, then lower item index.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _worse(s_a, i_a, s_b, i_b):
    """True when (s_a, i_a) ranks strictly below (s_b, i_b)."""
    return s_a < s_b or (s_a == s_b and i_a > i_b)


@njit(cache=True)
def _sift_down(hs, hi, size, pos):
    # min-heap under the ranking order: the root is the worst entry kept so far
    while True:
        left = 2 * pos + 1
        if left >= size:
            return
        child = left
        right = left + 1
        if right < size and _worse(hs[right], hi[right], hs[left], hi[left]):
            child = right
        if _worse(hs[child], hi[child], hs[pos], hi[pos]):
            hs[pos], hs[child] = hs[child], hs[pos]
            hi[pos], hi[child] = hi[child], hi[pos]
            pos = child
        else:
            return


@njit(cache=True)
def _sift_up(hs, hi, pos):
    while pos > 0:
        parent = (pos - 1) // 2
        if _worse(hs[pos], hi[pos], hs[parent], hi[parent]):
            hs[pos], hs[parent] = hs[parent], hs[pos]
            hi[pos], hi[parent] = hi[parent], hi[pos]
            pos = parent
        else:
            return


@njit(inline="always")
def _push(hs, hi, size, n, s, i):
    """Offer (s, i) to the bounded heap of size ``size`` (capacity n); returns the new size.

    Items must come in increasing index order: an equal score never beats the root."""
    if size < n:
        hs[size] = s
        hi[size] = i
        _sift_up(hs, hi, size)
        return size + 1
    if s > hs[0]:
        hs[0] = s
        hi[0] = i
        _sift_down(hs, hi, size, 0)
    return size


@njit(inline="always")
def _pop_all(hs, hi, size, n, out_items, out_scores, row):
    """Write the heap best first into ``out_*[row]`` (slots past ``size``: -1 and NaN),
    popping the worst entry into the last free slot."""
    for t in range(size, n):
        out_items[row, t] = -1
        out_scores[row, t] = np.nan
    m = size
    while m > 0:
        out_items[row, m - 1] = hi[0]
        out_scores[row, m - 1] = hs[0]
        m -= 1
        hs[0] = hs[m]
        hi[0] = hi[m]
        _sift_down(hs, hi, m, 0)


@njit(inline="always")
def _best_of_row(S, q, allowed, ex_indptr, ex_indices, out_items, out_scores, out_counts):
    """Row ``q`` of :func:`topk_scored`."""
    n = out_items.shape[1]
    hs = np.empty(n, dtype=np.float64)
    hi = np.empty(n, dtype=np.int64)
    size = 0
    p = ex_indptr[q]
    p_end = ex_indptr[q + 1]
    for i in range(S.shape[1]):
        s = np.float64(S[q, i])
        if size == n and not s > hs[0]:
            continue                  # the common case: not better than the worst kept
        # exclusions are sorted: advance a pointer instead of building a mask
        while p < p_end and ex_indices[p] < i:
            p += 1
        if (p < p_end and ex_indices[p] == i) or allowed[i] == 0:
            continue
        size = _push(hs, hi, size, n, s, i)
    out_counts[q] = size
    _pop_all(hs, hi, size, n, out_items, out_scores, q)


@njit(parallel=True, cache=True)
def topk_scored(S, allowed, ex_indptr, ex_indices, out_items, out_scores, out_counts):
    """Best-scoring allowed items of every row of ``S`` (in place).

    Parameters
    ----------
    S : (n_queries, n_items) float32 or float64 array
        Scores, one row per query (a user, or an item for similar items). Not NaN.
    allowed : (n_items,) uint8 array
        Items with ``allowed[i] == 0`` are never returned (whitelist/blacklist).
    ex_indptr : (n_queries + 1,) int64 array; ex_indices : int64 array
        Per-query exclusions in CSR form (e.g. items already seen); each row's indices
        sorted ascending and within ``[0, n_items)``. ``ex_indptr`` may start past 0
        (a slice of a longer one).
    out_items : (n_queries, n) int64 array, overwritten
        Item indices, best first; slots past ``out_counts[q]`` are set to -1.
    out_scores : (n_queries, n) float64 array, overwritten
        Matching scores; NaN past ``out_counts[q]``.
    out_counts : (n_queries,) int64 array, overwritten
        ``min(n, number of candidates of row q)``.

    Each row is handled by one ``prange`` iteration and writes only its own output row,
    so results do not depend on the thread count.
    """
    for q in prange(S.shape[0]):
        _best_of_row(S, q, allowed, ex_indptr, ex_indices, out_items, out_scores, out_counts)

"""Batched top-k over model scores, without a users x items score matrix.

For each query row ``q`` (a user's factors, or a unit item vector for similarity) the
score of item ``i`` is ``Q[q] . Y[i]``, summed over the components in order ``0..k-1``
exactly like :func:`nmfrec._kernels.dot_pairs`, so a score reported here is bitwise the
value ``predict`` computes for the same pair. Items are scanned in index order and the
best ``n`` kept in a bounded heap: memory is O(n) per query row, time O(n_items * (k +
log n)).

Order is total and deterministic: higher score first, then lower item index.
"""

import numpy as np
from numba import njit, prange

from ._common import row_dot


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


_BLOCK = 8


@njit(cache=True)
def _score_block(Q, Y, q, i0, cnt, k, out):
    """Scores of items i0 .. i0+cnt-1 for query q, eight independent sums at a time.

    Each score is still summed over a = 0 .. k-1 in order (bitwise what ``dot_pairs``
    computes); interleaving eight items only lets the additions overlap in the CPU
    (eight rather than four: 0.80 -> 0.62 ms for one user and 26,744 items at k = 66;
    sixteen: 0.72 ms).
    """
    if cnt == 8:
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        s5 = 0.0
        s6 = 0.0
        s7 = 0.0
        for a in range(k):
            qa = Q[q, a]
            s0 += qa * Y[i0 + 0, a]
            s1 += qa * Y[i0 + 1, a]
            s2 += qa * Y[i0 + 2, a]
            s3 += qa * Y[i0 + 3, a]
            s4 += qa * Y[i0 + 4, a]
            s5 += qa * Y[i0 + 5, a]
            s6 += qa * Y[i0 + 6, a]
            s7 += qa * Y[i0 + 7, a]
        out[0] = s0
        out[1] = s1
        out[2] = s2
        out[3] = s3
        out[4] = s4
        out[5] = s5
        out[6] = s6
        out[7] = s7
    else:
        qrow = Q[q]
        for t in range(cnt):
            out[t] = row_dot(qrow, Y, i0 + t, k)


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


@njit(parallel=True, cache=True)
def topk_rows(Q, Y, allowed, ex_indptr, ex_indices, out_items, out_scores, out_counts):
    """Best-scoring allowed items for every row of ``Q`` (in place).

    Parameters
    ----------
    Q : (n_queries, k) C-contiguous float array
        Query factors (user rows of W, or unit item vectors).
    Y : (n_items, k) C-contiguous float array, same dtype as ``Q``
        Item factors, row-major. Scores must not be NaN.
    allowed : (n_items,) uint8 array
        Items with ``allowed[i] == 0`` are never returned (whitelist/blacklist).
    ex_indptr : (n_queries + 1,) int array; ex_indices : int array
        Per-query exclusions in CSR form (e.g. items already seen); each row's indices
        sorted ascending and within ``[0, n_items)``.
    out_items : (n_queries, n) int64 array, overwritten
        Item indices, best first; slots past ``out_counts[q]`` are set to -1.
    out_scores : (n_queries, n) float64 array, overwritten
        Matching scores; NaN past ``out_counts[q]``.
    out_counts : (n_queries,) int64 array, overwritten
        ``min(n, number of candidates of row q)``.

    Each query row is handled by one ``prange`` iteration and writes only its own output
    row, so results do not depend on the thread count.
    """
    n_q = Q.shape[0]
    n_items = Y.shape[0]
    k = Y.shape[1]
    n = out_items.shape[1]
    for q in prange(n_q):
        hs = np.empty(n, dtype=np.float64)
        hi = np.empty(n, dtype=np.int64)
        block = np.empty(_BLOCK, dtype=np.float64)
        size = 0
        p = ex_indptr[q]
        p_end = ex_indptr[q + 1]
        for i in range(n_items):
            r = i % _BLOCK
            if r == 0:
                _score_block(Q, Y, q, i, min(_BLOCK, n_items - i), k, block)
            # exclusions are sorted: advance a pointer instead of building a mask
            while p < p_end and ex_indices[p] < i:
                p += 1
            if p < p_end and ex_indices[p] == i:
                continue
            if allowed[i] == 0:
                continue
            s = block[r]
            if size == n and not s > hs[0]:
                continue                  # the common case: not better than the root
            size = _push(hs, hi, size, n, s, i)
        out_counts[q] = size
        _pop_all(hs, hi, size, n, out_items, out_scores, q)


@njit(inline="always")
def _score_items(Q, q, Yt, i0, cnt, sc):
    """``sc[t] = Q[q] . Yt[:, i0 + t]`` for t < cnt, summed over a = 0..k-1 in order.

    Eight items at a time in eight independent sums, one multiply and one add per
    component each, in the order of :func:`row_dot`: the scores are bitwise its, and
    the eight sums overlap in the CPU (1.45x the speed of the row-major four-item
    interleave of :func:`topk_rows` at k = 66).
    """
    k = Yt.shape[0]
    t = 0
    while t + 8 <= cnt:
        i = i0 + t
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        s5 = 0.0
        s6 = 0.0
        s7 = 0.0
        for a in range(k):
            qa = Q[q, a]
            s0 += qa * Yt[a, i + 0]
            s1 += qa * Yt[a, i + 1]
            s2 += qa * Yt[a, i + 2]
            s3 += qa * Yt[a, i + 3]
            s4 += qa * Yt[a, i + 4]
            s5 += qa * Yt[a, i + 5]
            s6 += qa * Yt[a, i + 6]
            s7 += qa * Yt[a, i + 7]
        sc[t + 0] = s0
        sc[t + 1] = s1
        sc[t + 2] = s2
        sc[t + 3] = s3
        sc[t + 4] = s4
        sc[t + 5] = s5
        sc[t + 6] = s6
        sc[t + 7] = s7
        t += 8
    while t < cnt:
        acc = 0.0
        for a in range(k):
            acc += Q[q, a] * Yt[a, i0 + t]
        sc[t] = acc
        t += 1

#: Users per task and items per block of :func:`topk_rows_blocked`: a block of item
#: factors (k x 512 float64 = 270 KB at k = 66) stays in the core's L2 cache while the
#: task's users are scored against it.
USERS_PER_TASK = 32
ITEMS_PER_BLOCK = 512


@njit(parallel=True, cache=True)
def topk_rows_blocked(Q, Yt, allowed, ex_indptr, ex_indices, out_items, out_scores,
                      out_counts):
    """:func:`topk_rows` for many query rows, with the item factors coordinate-major.

    Same parameters and results as :func:`topk_rows` (bitwise: every score is summed
    over the components in order 0..k-1, one multiply and one add per term, as
    :func:`nmfrec._kernels.dot_pairs` does), except ``Yt``: the item factors as a
    (k, n_items) C-contiguous array (``components_``'s layout). Scores are computed for
    ``USERS_PER_TASK`` query rows against ``ITEMS_PER_BLOCK`` items at a time, vectorized
    over the items, so each block of item factors is read from memory once per task;
    memory is O(n) per query row plus one block of scores per task.
    """
    n_q = Q.shape[0]
    k = Yt.shape[0]
    n_items = Yt.shape[1]
    n = out_items.shape[1]
    n_tasks = (n_q + USERS_PER_TASK - 1) // USERS_PER_TASK
    for task in prange(n_tasks):
        lo = task * USERS_PER_TASK
        hi_q = min(lo + USERS_PER_TASK, n_q)
        nb = hi_q - lo
        hs = np.empty((nb, n), dtype=np.float64)
        hi = np.empty((nb, n), dtype=np.int64)
        size = np.zeros(nb, dtype=np.int64)
        ptr = np.empty(nb, dtype=np.int64)       # next exclusion of each query row
        for b in range(nb):
            ptr[b] = ex_indptr[lo + b]
        sc = np.empty(ITEMS_PER_BLOCK, dtype=np.float64)
        for i0 in range(0, n_items, ITEMS_PER_BLOCK):
            cnt = min(ITEMS_PER_BLOCK, n_items - i0)
            for b in range(nb):
                q = lo + b
                _score_items(Q, q, Yt, i0, cnt, sc)
                p = ptr[b]
                p_end = ex_indptr[q + 1]
                m = size[b]
                hsb = hs[b]
                hib = hi[b]
                for t in range(cnt):
                    i = i0 + t
                    # exclusions are sorted: advance a pointer instead of building a mask
                    while p < p_end and ex_indices[p] < i:
                        p += 1
                    if (p < p_end and ex_indices[p] == i) or allowed[i] == 0:
                        continue
                    if m == n and not sc[t] > hsb[0]:
                        continue                  # the common case: not better than the root
                    m = _push(hsb, hib, m, n, sc[t], i)
                ptr[b] = p
                size[b] = m
        for b in range(nb):
            out_counts[lo + b] = size[b]
            _pop_all(hs[b], hi[b], size[b], n, out_items, out_scores, lo + b)


#: The same function compiled without threads: for a handful of query rows, waking the
#: thread pool costs more than the work (milliseconds on a busy machine, for a few
#: microseconds of scoring). Identical results: prange is range here.
topk_rows_serial = njit(cache=True)(topk_rows.py_func)

"""Top-k items by matrix products: what :meth:`Recommender.recommend` and its kin serve.

The scores of a block of query rows (users' factors, or unit item vectors for similar
items) against every item are one BLAS call: a matrix product (GEMM) for a block of
users, a matrix-vector product (GEMV) for one (on a 41k-item catalogue at rank 64,
BLAS's GEMV took a third of the time of a jitted loop over the components). A
jitted scan then keeps each row's best ``k`` allowed, not excluded items
(:func:`nmfrec._kernels.topk_scored`), so memory is one block of scores (:data:`BLOCK_CELLS` of them: larger blocks let BLAS reuse each
packed panel of item factors longer, 1.7x faster at 400 rows than at 100), never users
x items.

Precision: BLAS sums the components in its own order (blocked, vectorized), not the
order of :meth:`predict`'s in-order sum, so a served score equals ``predict``'s to
rounding: ``|served - predicted| <= TOLERANCE[dtype] * sum_a |q_a y_a|`` (for the
non-negative factors of the preference part, a relative error of at most
``TOLERANCE[dtype]``). Items whose scores lie within that tolerance of each other may
therefore rank in either order against a reference computed another way. For given
inputs, block size and thread count the results are identical from run to run.

The product runs in float32 when both factor arrays are float32 (a model fitted with
``dtype="float32"``), in float64 otherwise; reported scores are float64.
"""

from __future__ import annotations

import numpy as np

from ._base import ThreadLimits
from ._kernels import for_size, serial, topk_scored

#: Scores held at once, 128 MB in float64 (64 MB in float32): the rows of a block are
#: ``BLOCK_CELLS // n_items`` (at least one).
BLOCK_CELLS = 1 << 24

#: Scores scanned per unit of work of :func:`nmfrec._kernels.for_size`: a scan does
#: little per score, so a block runs its scan on threads from about 4 million scores.
SCORES_PER_UNIT = 16

#: Bound on ``|served - predicted| / sum_a |q_a y_a|`` by the dtype of the product
#: (about ``k * eps`` for k up to a few hundred components, with room).
TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def score_dtype(Q, Yt):
    """The dtype the scores are computed in: float32 when both factors are float32."""
    return np.dtype(np.float32 if Q.dtype == Yt.dtype == np.float32 else np.float64)


def top_items(Q, Yt, allowed, ex_indptr, ex_indices, k, n_threads=None,
              block_cells=BLOCK_CELLS):
    """Best ``k`` items of every row of ``Q`` by the score ``Q[q] @ Yt[:, i]``.

    Parameters
    ----------
    Q : (n_queries, n_factors) float array
        Query factors (users' rows of ``W_``, or unit item vectors).
    Yt : (n_factors, n_items) float array
        Item factors, coordinate-major (``components_``'s layout; a transposed view of a
        row-major array is taken without copying).
    allowed : (n_items,) uint8 array
        Items with ``allowed[i] == 0`` are never returned.
    ex_indptr, ex_indices : int arrays
        Per-query exclusions in CSR form, each row's indices sorted ascending.
    k : int
        List length (at most the number of items is returned).
    n_threads : int, optional
        Threads of the top-k scan (numba's); the product uses BLAS's own threads.
    block_cells : int, default=BLOCK_CELLS
        Scores computed at once.

    Returns
    -------
    idx : (n_queries, min(k, n_items)) int64 array
        Items, best first (higher score, then lower index); -1 past ``counts``.
    scores : same shape, float64
        Their scores; NaN past ``counts``.
    counts : (n_queries,) int64 array
        Number of items found per row.
    """
    m, n_items = Q.shape[0], Yt.shape[1]
    n = min(int(k), n_items)
    idx = np.empty((m, n), dtype=np.int64)
    scores = np.empty((m, n), dtype=np.float64)
    counts = np.empty(m, dtype=np.int64)
    if m == 0:
        return idx, scores, counts
    dtype = score_dtype(Q, Yt)
    Q = np.asarray(Q, dtype=dtype)
    Yt = np.asarray(Yt, dtype=dtype)
    ex_indptr = np.asarray(ex_indptr, dtype=np.int64)
    ex_indices = np.asarray(ex_indices, dtype=np.int64)
    allowed = np.asarray(allowed, dtype=np.uint8)
    if m == 1:                                     # one user: a matrix-vector product
        S = np.empty((1, n_items), dtype=dtype)
        np.dot(Q[0], Yt, out=S[0])
        serial(topk_scored)(S, allowed, ex_indptr, ex_indices, idx, scores, counts)
        return idx, scores, counts
    rows = int(max(1, min(m, block_cells // max(n_items, 1))))
    buf = np.empty((rows, n_items), dtype=dtype)
    with ThreadLimits(n_threads, cap_blas=False):
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            S = np.matmul(Q[start:stop], Yt, out=buf[:stop - start])
            # a scan is light work per score: threads only for large blocks
            kernel = for_size(topk_scored, (stop - start) * n_items // SCORES_PER_UNIT)
            kernel(S, allowed, ex_indptr[start:stop + 1], ex_indices, idx[start:stop],
                   scores[start:stop], counts[start:stop])
    return idx, scores, counts

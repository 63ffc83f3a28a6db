"""Serving's top-k (``nmfrec._serving.top_items`` and its kernels) against brute force.

Scores come from BLAS in its own summation order, so a reference computed another way
agrees to the documented tolerance, and items whose scores lie within it of the k-th
may swap: the comparison below accepts exactly that and nothing more. Small integer
factors give exact scores, hence massive exact ties, where the order (higher score, then
lower item index) must match the reference exactly.
"""

import numba
import numpy as np
import pytest

from nmfrec._kernels import serial, topk_scored
from nmfrec._serving import TOLERANCE, top_items


def _csr(exclude_rows):
    ex_indptr = np.zeros(len(exclude_rows) + 1, dtype=np.int64)
    ex_indptr[1:] = np.cumsum([len(e) for e in exclude_rows])
    ex_indices = (np.concatenate([np.sort(np.asarray(e, dtype=np.int64)) for e in exclude_rows])
                  if exclude_rows else np.zeros(0, dtype=np.int64))
    return ex_indptr, ex_indices


def _brute(Q, Y, allowed, exclude_rows, n):
    """Reference: every candidate's score summed in float64 in order, lexsort by
    (-score, index), the first n; and the scale sum_a |q_a y_a| of each score."""
    Q64, Y64 = Q.astype(np.float64), Y.astype(np.float64)
    S = np.einsum("qa,ia->qi", Q64, Y64)
    scale = np.abs(Q64) @ np.abs(Y64).T
    out = []
    for q in range(Q.shape[0]):
        cand = np.flatnonzero(allowed.astype(bool))
        cand = cand[~np.isin(cand, exclude_rows[q])]
        order = cand[np.lexsort((cand, -S[q, cand]))]
        out.append((order[:n], S[q, order[:n]], S[q], scale[q], set(cand.tolist())))
    return out


def assert_top(got_items, got_scores, count, ref, n, rtol):
    """``got`` is a valid top-n under scores known to ``rtol`` of their scale: the right
    count, scores as the reference's, and any item that differs from the reference's at
    the same rank scores within the tolerance of the reference's item there."""
    ref_items, ref_scores, S, scale, cand = ref
    assert count == len(ref_items)
    items = got_items[:count]
    assert len(set(items.tolist())) == count and set(items.tolist()) <= cand
    tol = rtol * scale
    np.testing.assert_array_less(np.abs(got_scores[:count] - S[items]), tol[items] + 1e-300)
    np.testing.assert_allclose(got_scores[:count], ref_scores,
                               rtol=0, atol=2 * float(tol.max()) + 1e-300)
    differ = items != ref_items
    assert np.all(np.abs(S[items[differ]] - S[ref_items[differ]])
                  <= 2 * (tol[items[differ]] + tol[ref_items[differ]])), "swap beyond tolerance"
    assert np.all(got_items[count:] == -1) and np.all(np.isnan(got_scores[count:]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("integer", [False, True], ids=["float", "ties"])
@pytest.mark.parametrize("n", [1, 3, 7, 40])
@pytest.mark.parametrize("block_cells", [25, 100, 1 << 24], ids=["row", "4rows", "one"])
def test_top_items_matches_brute_force(dtype, integer, n, block_cells):
    rng = np.random.default_rng(n + 10 * integer)
    n_q, n_items, k = 9, 25, 3
    if integer:  # small integers: exact scores, massive ties
        Q = rng.integers(0, 3, (n_q, k)).astype(dtype)
        Y = rng.integers(0, 2, (n_items, k)).astype(dtype)
    else:
        Q = rng.random((n_q, k)).astype(dtype)
        Y = rng.random((n_items, k)).astype(dtype)
    allowed = (rng.random(n_items) < 0.8).astype(np.uint8)
    exclude_rows = [rng.choice(n_items, rng.integers(0, 12), replace=False) for _ in range(n_q)]
    ex_indptr, ex_indices = _csr(exclude_rows)
    for rows in (slice(None), slice(2, 3)):          # a block of users, and one (GEMV)
        Qr = Q[rows]
        idx, sc, cnt = top_items(Qr, Y.T, allowed, ex_indptr[rows.start or 0:][:Qr.shape[0] + 1],
                                 ex_indices, n, block_cells=block_cells)
        refs = _brute(Qr, Y, allowed, exclude_rows[rows], n)
        for q, ref in enumerate(refs):
            if integer:                               # exact: the very same list
                np.testing.assert_array_equal(idx[q, :cnt[q]], ref[0])
            assert_top(idx[q], sc[q], cnt[q], ref, n, TOLERANCE[np.dtype(dtype)])


def test_scores_in_float32_for_a_float32_model_and_float64_otherwise():
    rng = np.random.default_rng(3)
    Q, Y = rng.random((40, 8)), rng.random((8, 300))
    a = top_items(Q.astype(np.float32), Y.astype(np.float32), np.ones(300, np.uint8),
                  np.zeros(41, np.int64), np.zeros(0, np.int64), 5)[1]
    b = top_items(Q, Y, np.ones(300, np.uint8), np.zeros(41, np.int64),
                  np.zeros(0, np.int64), 5)[1]
    assert a.dtype == b.dtype == np.float64
    # float32 products: equal to the float64 ones to float32 rounding, not beyond
    rel = np.abs(a - b) / b
    assert rel.max() < TOLERANCE[np.dtype(np.float32)] and rel.max() > 1e-10
    # one float64 operand: the product in float64, of the float32 values
    Q32 = Q.astype(np.float32)
    mixed = top_items(Q32, Y, np.ones(300, np.uint8), np.zeros(41, np.int64),
                      np.zeros(0, np.int64), 5)[1]
    exact = top_items(Q32.astype(np.float64), Y, np.ones(300, np.uint8), np.zeros(41, np.int64),
                      np.zeros(0, np.int64), 5)[1]
    np.testing.assert_allclose(mixed, exact, rtol=TOLERANCE[np.dtype(np.float64)])


def test_all_excluded_and_short_lists():
    Q = np.ones((2, 2))
    Yt = np.arange(8, dtype=np.float64).reshape(4, 2).T
    ex_indptr, ex_indices = _csr([[0, 1, 2, 3], [1]])
    items, scores, counts = top_items(Q, Yt, np.ones(4, np.uint8), ex_indptr, ex_indices, 2)
    assert counts.tolist() == [0, 2]
    assert items.tolist() == [[-1, -1], [3, 2]]
    assert np.isnan(scores[0]).all() and scores[1].tolist() == [13.0, 9.0]
    items, scores, counts = top_items(Q, Yt, np.ones(4, np.uint8), ex_indptr, ex_indices, 10)
    assert items.shape == (2, 4) and counts.tolist() == [0, 3]
    assert top_items(Q[:0], Yt, np.ones(4, np.uint8), ex_indptr[:1], ex_indices, 3)[0].shape \
        == (0, 3)


def test_same_results_for_any_thread_count_and_run():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 numba threads")
    rng = np.random.default_rng(0)
    Q, Yt = rng.random((500, 16)), rng.random((16, 3000))
    allowed = np.ones(3000, np.uint8)
    ex_indptr, ex_indices = _csr([rng.choice(3000, 20, replace=False) for _ in range(500)])
    runs = [top_items(Q, Yt, allowed, ex_indptr, ex_indices, 10, n_threads=t)
            for t in (1, 2, 2, 1)]
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)


def test_serial_and_parallel_kernels_agree():
    rng = np.random.default_rng(5)
    S = rng.integers(0, 4, (7, 30)).astype(float)          # many ties
    allowed = (rng.random(30) < 0.9).astype(np.uint8)
    ex_indptr = np.arange(0, 15, 2, dtype=np.int64)
    ex_indices = np.concatenate([np.sort(rng.choice(30, 2, replace=False))
                                 for _ in range(7)]).astype(np.int64)
    out = []
    for fn in (topk_scored, serial(topk_scored)):
        idx, sc, cnt = np.empty((7, 5), np.int64), np.empty((7, 5)), np.empty(7, np.int64)
        fn(S, allowed, ex_indptr, ex_indices, idx, sc, cnt)
        out.append((idx, sc, cnt))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
    for q in range(7):                                       # and the exact reference
        cand = np.flatnonzero(allowed.astype(bool))
        cand = cand[~np.isin(cand, ex_indices[ex_indptr[q]:ex_indptr[q + 1]])]
        ref = cand[np.lexsort((cand, -S[q, cand]))][:5]
        np.testing.assert_array_equal(out[0][0][q, :len(ref)], ref)

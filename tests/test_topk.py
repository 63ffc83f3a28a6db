"""The batched top-k kernel against a brute-force NumPy sort."""

import numba
import numpy as np
import pytest

from nmfrec._kernels._topk import topk_rows


def _brute(Q, Y, allowed, exclude_rows, n):
    """Reference: full score row, lexsort by (-score, index), drop excluded, take n."""
    S = Q.astype(np.float64) @ Y.astype(np.float64).T
    out = []
    for q in range(Q.shape[0]):
        cand = np.flatnonzero(allowed.astype(bool))
        cand = cand[~np.isin(cand, exclude_rows[q])]
        order = np.lexsort((cand, -S[q, cand]))
        out.append((cand[order][:n], S[q, cand[order][:n]]))
    return out


def _run(Q, Y, allowed, exclude_rows, n):
    ex_indptr = np.zeros(len(exclude_rows) + 1, dtype=np.int64)
    ex_indptr[1:] = np.cumsum([len(e) for e in exclude_rows])
    ex_indices = (np.concatenate([np.sort(np.asarray(e, dtype=np.int64)) for e in exclude_rows])
                  if exclude_rows else np.zeros(0, dtype=np.int64))
    items = np.empty((Q.shape[0], n), dtype=np.int64)
    scores = np.empty((Q.shape[0], n), dtype=np.float64)
    counts = np.empty(Q.shape[0], dtype=np.int64)
    topk_rows(Q, Y, allowed, ex_indptr, ex_indices, items, scores, counts)
    return items, scores, counts


@pytest.mark.parametrize("integer", [False, True], ids=["float", "ties"])
@pytest.mark.parametrize("n", [1, 3, 7, 40])
def test_topk_matches_lexsort(integer, n):
    rng = np.random.default_rng(n + 10 * integer)
    n_q, n_items, k = 9, 25, 3
    if integer:  # small integers: exact, massive ties
        Q = rng.integers(0, 3, (n_q, k)).astype(np.float64)
        Y = rng.integers(0, 2, (n_items, k)).astype(np.float64)
    else:
        Q = rng.random((n_q, k))
        Y = rng.random((n_items, k))
    allowed = (rng.random(n_items) < 0.8).astype(np.uint8)
    exclude_rows = [rng.choice(n_items, rng.integers(0, 12), replace=False) for _ in range(n_q)]
    items, scores, counts = _run(Q, Y, allowed, exclude_rows, n)
    for q, (ref_items, ref_scores) in enumerate(_brute(Q, Y, allowed, exclude_rows, n)):
        c = counts[q]
        assert c == len(ref_items)
        np.testing.assert_array_equal(items[q, :c], ref_items)
        np.testing.assert_allclose(scores[q, :c], ref_scores, rtol=1e-12)
        assert np.all(items[q, c:] == -1) and np.all(np.isnan(scores[q, c:]))


def test_topk_all_excluded_and_float32():
    Q = np.ones((2, 2), dtype=np.float32)
    Y = np.arange(8, dtype=np.float32).reshape(4, 2)
    items, scores, counts = _run(Q, Y, np.ones(4, np.uint8), [[0, 1, 2, 3], [1]], 2)
    assert counts.tolist() == [0, 2]
    assert items[1].tolist() == [3, 2]
    assert items[0].tolist() == [-1, -1]


def test_topk_same_for_any_thread_count():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs at least 2 numba threads")
    rng = np.random.default_rng(0)
    Q, Y = rng.random((50, 4)), rng.random((300, 4))
    allowed = np.ones(300, np.uint8)
    ex = [rng.choice(300, 20, replace=False) for _ in range(50)]
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _run(Q, Y, allowed, ex, 10)
        numba.set_num_threads(2)
        two = _run(Q, Y, allowed, ex, 10)
    finally:
        numba.set_num_threads(prev)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_serial_and_parallel_kernels_agree():
    from nmfrec._kernels._topk import topk_rows, topk_rows_serial
    rng = np.random.default_rng(5)
    Q, Y = rng.random((7, 4)), rng.integers(0, 3, (30, 4)).astype(float)  # many ties
    allowed = (rng.random(30) < 0.9).astype(np.uint8)
    ex_indptr = np.arange(0, 15, 2, dtype=np.int64)
    ex_indices = np.sort(rng.choice(30, 14, replace=False)).astype(np.int64)
    out = []
    for fn in (topk_rows, topk_rows_serial):
        idx, sc, cnt = np.empty((7, 5), np.int64), np.empty((7, 5)), np.empty(7, np.int64)
        fn(Q, Y, allowed, ex_indptr, ex_indices, idx, sc, cnt)
        out.append((idx, sc, cnt))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(9, 25, 3), (70, 1100, 13), (33, 8, 5)])
def test_blocked_kernel_is_bitwise_the_row_kernel(dtype, shape):
    """Several tasks of users and blocks of items, item counts not a multiple of 8,
    float32 factors and massive ties: the blocked kernel returns what topk_rows does."""
    from nmfrec._kernels._topk import topk_rows_blocked

    n_q, n_items, k = shape
    rng = np.random.default_rng(n_items)
    for Q, Y in ((rng.random((n_q, k)), rng.random((n_items, k))),
                 (rng.integers(0, 3, (n_q, k)).astype(float),
                  rng.integers(0, 2, (n_items, k)).astype(float))):
        Q, Y = Q.astype(dtype), Y.astype(dtype)
        allowed = (rng.random(n_items) < 0.9).astype(np.uint8)
        ex = [np.sort(rng.choice(n_items, rng.integers(0, n_items // 2 + 1), replace=False))
              for _ in range(n_q)]
        ex_indptr = np.concatenate([[0], np.cumsum([len(e) for e in ex])]).astype(np.int64)
        ex_indices = np.concatenate(ex).astype(np.int64)
        out = []
        for fn, Yarg in ((topk_rows, Y), (topk_rows_blocked, np.ascontiguousarray(Y.T))):
            idx, sc, cnt = np.empty((n_q, 6), np.int64), np.empty((n_q, 6)), np.empty(n_q, np.int64)
            fn(Q, Yarg, allowed, ex_indptr, ex_indices, idx, sc, cnt)
            out.append((idx, sc, cnt))
        for a, b in zip(*out):
            np.testing.assert_array_equal(a, b)
        # and against the brute-force reference
        for q, (ref_items, ref_scores) in enumerate(_brute(Q, Y, allowed, ex, 6)):
            c = out[1][2][q]
            np.testing.assert_array_equal(out[1][0][q, :c], ref_items)
            np.testing.assert_allclose(out[1][1][q, :c], ref_scores, rtol=1e-6)

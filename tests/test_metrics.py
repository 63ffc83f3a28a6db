"""Metrics against hand-computed values, a brute-force loop, and implicit's own."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmfrec.evaluation import metrics as M

# ---------------------------------------------------------------- rating metrics


def test_rmse_mae_hand_computed():
    y, p = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 4.0]
    assert M.rmse(y, p) == pytest.approx(math.sqrt((0.25 + 0 + 1 + 0) / 4))
    assert M.mae(y, p) == pytest.approx((0.5 + 0 + 1 + 0) / 4)


def test_missing_predictions_raise_with_count_or_are_ignored():
    y, p = [1.0, 2.0, 3.0], [1.0, np.nan, np.nan]
    with pytest.raises(ValueError, match="missing predictions for 2 of 3"):
        M.rmse(y, p)
    with pytest.raises(ValueError, match="missing predictions for 2 of 3"):
        M.mae(y, p)
    assert M.rmse(y, [1.0, np.nan, 5.0], missing="ignore") == pytest.approx(math.sqrt(2.0))
    assert M.mae(y, [1.0, np.nan, 5.0], missing="ignore") == pytest.approx(1.0)


@pytest.mark.parametrize(
    "y, p, match",
    [
        ([1.0, 2.0], [1.0], "same length"),
        ([1.0, np.nan], [1.0, 1.0], "y_true has 1 NaN"),
        ([1.0], [np.nan], "missing predictions"),
        ([1.0, 2.0], [1.0, np.inf], "y_pred has 1 infinite values"),
    ],
)
def test_rating_metric_errors(y, p, match):
    with pytest.raises(ValueError, match=match):
        M.rmse(y, p)
    with pytest.raises(ValueError, match="missing must be"):
        M.rmse([1.0], [1.0], missing="drop")


def test_all_ignored_is_an_error():
    with pytest.raises(ValueError, match="no ratings to score"):
        M.rmse([1.0], [np.nan], missing="ignore")


# ---------------------------------------------------------------- ranking, by hand


def test_lenskit_style_small_cases():
    # LensKit's _test_prec([1, 2, 3, 4], [1, 3]) == 0.5
    assert M.precision_at_k([[1, 2, 3, 4]], [{1, 3}], k=4) == pytest.approx(0.5)
    assert M.recall_at_k([[1, 2, 3, 4]], [{1, 3}], k=4) == pytest.approx(1.0)
    assert M.precision_at_k([[1, 2, 3, 4]], [{1, 3}], k=2) == pytest.approx(0.5)
    assert M.recall_at_k([[1, 2, 3, 4]], [{1, 3}], k=2) == pytest.approx(0.5)
    assert M.hit_rate_at_k([[2, 4]], [{1, 3}], k=2) == 0.0


def test_ndcg_and_map_hand_computed():
    rec, rel = [[1, 2, 3]], [{1, 3}]
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3)
    assert M.ndcg_at_k(rec, rel, k=3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # AP = (1/1 + 2/3) / min(3, 2)
    assert M.map_at_k(rec, rel, k=3) == pytest.approx((1 + 2 / 3) / 2)
    # IDCG uses min(k, |R|) = 1 here: a hit at rank 1 is perfect
    assert M.ndcg_at_k([[5, 6]], [{5, 7, 8}], k=1) == pytest.approx(1.0)
    assert M.map_at_k([[6, 5]], [{5, 7, 8}], k=2) == pytest.approx((1 / 2) / 2)


def test_precision_variants_differ_as_documented():
    rec = [[1, 2, 3], [4, 5, 6]]
    rel = [{1}, {4, 5, 7, 8}]
    # protocol B: mean of hits/k = (1/3 + 2/3) / 2
    assert M.precision_at_k(rec, rel, k=3) == pytest.approx(0.5)
    # implicit: sum hits / sum min(k, |R|) = (1 + 2) / (1 + 3)
    assert M.implicit_precision_at_k(rec, rel, k=3) == pytest.approx(0.75)
    np.testing.assert_allclose(
        M.implicit_precision_at_k(rec, rel, k=3, average=False), [1.0, 2 / 3]
    )


def test_padding_short_lists_strings_and_skipped_users():
    padded = np.array([[1, -1, -1], [2, 3, -1], [7, 8, 9]])
    rel = [[1], [9], []]
    per_user = M.precision_at_k(padded, rel, k=3, average=False)
    np.testing.assert_allclose(per_user, [1 / 3, 0.0, np.nan])
    # the user without relevant items is left out of the mean
    assert M.precision_at_k(padded, rel, k=3) == pytest.approx(1 / 6)
    ragged = [np.array([1]), np.array([2, 3]), np.array([7, 8, 9])]
    np.testing.assert_allclose(M.recall_at_k(ragged, rel, 3, average=False), [1, 0, np.nan])
    assert M.ndcg_at_k([["a", "b"], ["c"]], [{"b"}, {"x"}], k=2) == pytest.approx(
        (1 / math.log2(3)) / 2
    )


def test_longer_lists_are_truncated_to_k():
    assert M.hit_rate_at_k([[1, 2, 3, 4, 5]], [{5}], k=4) == 0.0
    assert M.hit_rate_at_k([[1, 2, 3, 4, 5]], [{5}], k=5) == 1.0


def test_no_relevant_anywhere_warns_and_is_nan():
    with pytest.warns(RuntimeWarning, match="no user has a relevant item"):
        assert math.isnan(M.precision_at_k([[1, 2]], [[]], k=2))


def test_coverage_hand_computed():
    assert M.coverage_at_k([[1, 2], [2, 3]], 10, k=2) == pytest.approx(0.3)
    assert M.coverage_at_k([[1, 2], [2, 3]], [1, 2, 3, 4], k=1) == pytest.approx(0.5)
    assert M.coverage_at_k(np.array([[0, -1]]), 4, k=2) == pytest.approx(0.25)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: M.precision_at_k([[1, 1, 2]], [{1}], k=3), ValueError, "repeat items"),
        (lambda: M.precision_at_k([[1]], [{1}, {2}], k=1), ValueError, "same users"),
        (lambda: M.precision_at_k([[1]], [{1}], k=0), ValueError, "k must be an integer >= 1"),
        (lambda: M.precision_at_k([[0.5, 1.5]], [{1}], k=2), TypeError, "floating-point"),
        (lambda: M.precision_at_k([1, 2], [{1}, {2}], k=2), ValueError, "scalar"),
        (lambda: M.coverage_at_k([[1]], 0, k=1), ValueError, "catalog size"),
        (lambda: M.limited_auc_at_k([[1]], [{1, 2}], n_items=2, k=1), ValueError, "n_items"),
        (lambda: M.precision_at_k(np.zeros((1, 2, 2), int), [{1}], k=2), ValueError,
         "recommended must be a 2-D array or a sequence of 1-D arrays"),
        (lambda: M.precision_at_k([[[1, 2]]], [{1}], k=2), ValueError,
         r"recommended\[0\] must be 1-D; got shape \(1, 2\)"),
        (lambda: M.precision_at_k([np.array([1, "a"], dtype=object)], [{1}], k=2), TypeError,
         "item labels must be mutually comparable"),
        (lambda: M.coverage_at_k([[1]], [], k=1), ValueError, "catalog is empty"),
    ],
)
def test_ranking_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- brute force


def _brute(rec, rel, k):
    """Textbook loops, one user at a time."""
    out = {"p": [], "r": [], "ndcg": [], "ap": [], "hr": []}
    for lst, r in zip(rec, rel):
        r = set(r)
        if not r:
            continue
        lst = [x for x in lst if x != -1][:k]
        hit = [1 if x in r else 0 for x in lst] + [0] * (k - len(lst))
        out["p"].append(sum(hit) / k)
        out["r"].append(sum(hit) / len(r))
        dcg = sum(h / math.log2(j + 2) for j, h in enumerate(hit))
        idcg = sum(1 / math.log2(j + 2) for j in range(min(k, len(r))))
        out["ndcg"].append(dcg / idcg)
        ap, h = 0.0, 0
        for j, x in enumerate(hit):
            if x:
                h += 1
                ap += h / (j + 1)
        out["ap"].append(ap / min(k, len(r)))
        out["hr"].append(float(sum(hit) > 0))
    return {key: np.mean(v) for key, v in out.items()}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_metrics_match_brute_force(data):
    n_users = data.draw(st.integers(1, 6))
    k = data.draw(st.integers(1, 6))
    rec, rel = [], []
    for _ in range(n_users):
        rec.append(data.draw(st.lists(st.integers(0, 12), max_size=8, unique=True)))
        rel.append(set(data.draw(st.lists(st.integers(0, 12), max_size=6))))
    if not any(rel):
        rel[0] = {0}
    ref = _brute(rec, rel, k)
    assert M.precision_at_k(rec, rel, k) == pytest.approx(ref["p"])
    assert M.recall_at_k(rec, rel, k) == pytest.approx(ref["r"])
    assert M.ndcg_at_k(rec, rel, k) == pytest.approx(ref["ndcg"])
    assert M.map_at_k(rec, rel, k) == pytest.approx(ref["ap"])
    assert M.hit_rate_at_k(rec, rel, k) == pytest.approx(ref["hr"])


# ---------------------------------------------------------------- implicit's own


@pytest.mark.filterwarnings("ignore:OpenBLAS is configured:RuntimeWarning")
def test_matches_implicit_ranking_metrics():
    pytest.importorskip("implicit")
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.evaluation import ranking_metrics_at_k

    rng = np.random.default_rng(7)
    n_users, n_items, k = 60, 80, 10
    # popularity-skewed interactions, no pair twice
    keys = np.unique(
        rng.integers(0, n_users, 2500) * n_items
        + np.minimum(rng.geometric(0.04, 2500) - 1, n_items - 1)
    )
    users, items = keys // n_items, keys % n_items
    is_test = rng.random(keys.size) < 0.25

    def csr(mask):
        return sp.csr_matrix(
            (np.ones(mask.sum(), dtype=np.float32), (users[mask], items[mask])),
            shape=(n_users, n_items),
        )
    train, test = csr(~is_test), csr(is_test)

    model = AlternatingLeastSquares(
        factors=8, iterations=5, regularization=0.05, random_state=3, num_threads=1
    )
    model.fit(train, show_progress=False)
    ref = ranking_metrics_at_k(model, train, test, K=k, show_progress=False)

    userids = np.flatnonzero(np.diff(test.indptr) > 0).astype(np.int32)
    ids, _ = model.recommend(userids, train[userids], N=k, filter_already_liked_items=True)
    relevant = [test.indices[test.indptr[u]: test.indptr[u + 1]] for u in userids]

    assert M.implicit_precision_at_k(ids, relevant, k) == pytest.approx(ref["precision"])
    assert M.map_at_k(ids, relevant, k) == pytest.approx(ref["map"])
    assert M.ndcg_at_k(ids, relevant, k) == pytest.approx(ref["ndcg"])
    assert M.limited_auc_at_k(ids, relevant, n_items=n_items, k=k) == pytest.approx(ref["auc"])
    # and protocol B's precision is a different number on the same lists
    assert M.precision_at_k(ids, relevant, k) != pytest.approx(ref["precision"])

"""Hardening: every public entry point answers bad input with a clear error, odd but valid
input fits, and the invariants (finite non-negative factors, monotone objective, clipped
predictions, clean rankings) hold on random problems for every solver and init."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nmfrec import MaskedNMF
from nmfrec.recommender import Recommender

SOLVERS = ["als", "mu", "pgd"]
INITS = ["random", "nndsvd", "nndsvda", "nndsvdar"]
FAST = dict(n_components=2, max_iter=8, random_state=0)


def components_nonneg(model):
    """Whether a fitted part's taste components (not its signed offsets) are all >= 0."""
    comp = np.char.startswith(np.asarray(model.factor_names_, dtype=str), "c")
    return bool(np.all(model.W_[:, comp] >= 0) and np.all(model.components_[comp] >= 0))

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")


def small_frame():
    return pd.DataFrame({"user": [1, 1, 2, 2, 3, 3, 4],
                         "item": [10, 11, 10, 12, 11, 12, 13],
                         "rating": [5.0, 3.0, 4.0, 2.0, 1.0, 4.0, 2.5]})


@pytest.fixture(scope="module")
def fitted():
    return Recommender(**FAST).fit(small_frame())


# ===================================================================== bad ratings
@pytest.mark.parametrize("values, exc, match", [
    ([np.nan, 3, 4, 2, 1, 4, 2], ValueError, r"column 'rating' contains 1 NaN values \(first at row 0\)"),
    ([5, 3, np.inf, 2, 1, 4, 2], ValueError, r"'rating' contains 1 infinite values \(first at row 2\)"),
    ([5, 3, 4, 2, -np.inf, 4, 2], ValueError, r"1 infinite values \(first at row 4\)"),
    ([5, 3, 4, -2, -1, 4, 2], ValueError, r"2 negative values \(first at row 3: -2\.0\).*Shift them"),
    (["5", "3", "4", "2", "1", "4", "2"], TypeError,
     r"column 'rating' holds ratings as text \('5' at row 0\); ratings must be numbers: convert"),
    # the first value that is not a number, not the first value of the column
    (pd.Series([5, "x", 4, 2, 1, 4, 2], dtype=object), TypeError,
     r"numeric ratings; 'x' at row 1 is not a number \(1 such row in all\)"),
    (["4", "5", "five", "2", "1", "x", "2"], TypeError,
     r"numeric ratings; 'five' at row 2 is not a number \(2 such rows in all\)"),
    (pd.Series([4, None, 2.5, 2, 1, 3, 2], dtype=object), ValueError, r"1 NaN values \(first at row 1\)"),
    ([True, False, True, True, False, True, True], TypeError, "numeric ratings; got booleans"),
    (pd.array([True, False, None, True, False, True, True], dtype="boolean"), TypeError, "got booleans"),
    (pd.array([5, None, 4, 2, 1, 4, 2], dtype="Int64"), ValueError, r"1 NaN values \(first at row 1\)"),
    (pd.array([5, 3, 4, 2, 1, None, 2], dtype="Float64"), ValueError, r"1 NaN values \(first at row 5\)"),
    (np.array([5, 3, 4, 2, 1, 4, 2]) + 1j, TypeError, "got dtype complex128"),
    (pd.Categorical([5, 3, 4, 2, 1, 4, 2]), TypeError, "got dtype category"),
    (pd.to_datetime([5, 3, 4, 2, 1, 4, 2]), TypeError, "got dtype datetime64"),
    ([1e300, 3, 4, 2, 1, 4, 2], ValueError, r"ratings up to 1e\+300 overflow the squared-error objective"),
])
def test_bad_ratings_are_named(values, exc, match):
    with pytest.raises(exc, match=match):
        Recommender(**FAST).fit(small_frame().assign(rating=values))


def test_float32_overflow_is_refused_not_stored_as_inf():
    df = small_frame().assign(rating=[1e39, 3, 4, 2, 1, 4, 2])
    with pytest.raises(ValueError, match=r"ratings up to 1e\+39 overflow float32.*dtype='float64'"):
        Recommender(**FAST, dtype="float32").fit(df)
    with pytest.raises(ValueError, match="overflow float32"):
        MaskedNMF(2, dtype="float32").fit(sp.csr_matrix([[1e39, 1.0], [0.0, 2.0]]))


# ===================================================================== bad ids
@pytest.mark.parametrize("users, exc, match", [
    (pd.Series([1, "1", 2, 2, 3, 3, 4], dtype=object), TypeError,
     r"column 'user' must hold all integer or all string ids; got a mix: 1 at row 0 and '1' at row 1\."),
    (pd.Series([1, None, 2, 2, 3, 3, 4], dtype=object), ValueError, r"'user' has 1 missing ids; e.g. row 1\."),
    (pd.array([1, 1, None, 2, 3, 3, 4], dtype="Int64"), ValueError, r"1 missing ids; e.g. row 2\."),
    (pd.Series(["a", "a", pd.NA, "b", "c", "c", "d"], dtype="str"), ValueError, "1 missing ids"),
    (pd.Categorical([1, None, 2, 2, 3, 3, 4]), ValueError, r"'user' has 1 missing ids; e.g. row 1\."),
    ([1.5, 1, 2, 2, 3, 3, 4], TypeError, "'user' holds non-integral numbers"),
    ([np.inf, 1, 2, 2, 3, 3, 4], ValueError, r"float ids that are not exact integers \(e.g. inf at row 0\)"),
    ([1e30, 1, 2, 2, 3, 3, 4], ValueError, r"not exact integers \(e.g. 1e\+30 at row 0\)"),
    ([True, True, False, False, True, True, False], TypeError, "'user' must hold integer or string ids; got booleans"),
    (pd.to_datetime([1, 1, 2, 2, 3, 3, 4]), TypeError, "must be integers or strings; got dtype datetime64"),
    (pd.Series([(1,), (1,), (2,), (2,), (3,), (3,), (4,)], dtype=object), TypeError, r"got a mix of \['tuple'\]"),
])
def test_bad_ids_are_named(users, exc, match):
    with pytest.raises(exc, match=match):
        Recommender(**FAST).fit(small_frame().assign(user=users))


@pytest.mark.parametrize("convert", [
    lambda s: s.astype("category"),
    lambda s: pd.Categorical(s, categories=sorted(set(s)) + [999]),   # unused category
    lambda s: s.astype(str).astype("category"),
    lambda s: s.astype("Int64"),
    lambda s: s.astype(float),
    lambda s: s.astype(str),
    lambda s: s.astype(str).astype(object),
    lambda s: s.astype(np.uint8),
])
def test_odd_but_valid_id_dtypes_fit_like_plain_ints(convert):
    df = small_frame()
    ref = Recommender(**FAST).fit(df)
    odd = df.assign(user=convert(df["user"]), item=convert(df["item"]))
    rec = Recommender(**FAST).fit(odd)
    assert len(rec.users_) == 4 and len(rec.items_) == 4     # unused categories add nobody
    np.testing.assert_allclose(rec.model_.W_, ref.model_.W_, rtol=1e-12)
    u, i = rec.users_.labels_[0], rec.items_.labels_[2]
    assert rec.predict(u, i) == pytest.approx(ref.predict(1, 12))


def test_frame_structure_errors():
    df = small_frame()
    with pytest.raises(ValueError, match="rating column 'rating' selects 2 column.*unique"):
        Recommender(**FAST).fit(pd.concat([df, df[["rating"]]], axis=1))
    multi = df.set_axis(pd.MultiIndex.from_tuples([("user", "a"), ("item", "b"), ("rating", "c")]), axis=1)
    with pytest.raises(ValueError, match="user column 'user' selects 1 column.*single-level"):
        Recommender(**FAST).fit(multi)
    with pytest.raises(ValueError, match="user, item and rating columns must differ"):
        Recommender(**FAST).fit(df, rating_col="user")
    with pytest.raises(ValueError, match="the ratings frame is empty"):
        Recommender(**FAST).fit(df.iloc[:0])
    with pytest.raises(ValueError, match=r"1 duplicate \(user, item\) pairs; e.g. row 0: user=1, item=10"):
        Recommender(**FAST).fit(pd.concat([df, df.iloc[[0]]], ignore_index=True))
    with pytest.raises(TypeError, match="got Series"):
        Recommender(**FAST).fit(df["rating"])
    with pytest.raises(TypeError, match="got ndarray.*RatingsMatrix.from_dense"):
        Recommender(**FAST).fit(df.to_numpy())
    with pytest.raises(ValueError, match="duplicates must be one of"):
        Recommender(**FAST).fit(df, duplicates="sum")
    # extra columns are ignored, renamed columns are found or named
    rec = Recommender(**FAST).fit(df.assign(ts=1, note="x").rename(columns={"user": "userId"}))
    assert rec.columns_ == ("userId", "item", "rating")
    with pytest.raises(KeyError, match=r"no item column found.*\['user', 'thing', 'rating'\]"):
        Recommender(**FAST).fit(df.rename(columns={"item": "thing"}))


# ===================================================================== odd but valid data
def test_single_user_single_item_and_one_rating_each():
    df = small_frame()
    one_user = Recommender(**FAST).fit(df[df.user == 1])
    assert one_user.recommend(1).empty                      # everything is seen
    assert len(one_user.recommend(1, exclude_seen=False)) == 2
    one_item = Recommender(**FAST).fit(df[df.item == 10])
    assert one_item.recommend(1).empty
    single = Recommender(**FAST).fit(df.iloc[:1])
    assert single.predict(1, 10) == pytest.approx(5.0)       # clipped to the range [5, 5]
    # every user rated once, every item rated once
    diag = pd.DataFrame({"user": [1, 2, 3, 4], "item": [1, 2, 3, 4], "rating": [1.0, 2.0, 3.0, 4.0]})
    rec = Recommender(**FAST).fit(diag)
    assert np.all(np.isfinite(rec.model_.W_)) and components_nonneg(rec.model_)
    top = rec.recommend(1, k=10)
    assert sorted(top["item"]) == [2, 3, 4]


@pytest.mark.parametrize("solver", SOLVERS)
def test_all_ratings_equal(solver):
    rec = Recommender(**FAST, solver=solver).fit(small_frame().assign(rating=3.0))
    assert rec.predict(1, 12) == 3.0                          # range [3, 3]
    assert np.all(np.isfinite(rec.model_.W_)) and np.all(rec.model_.components_.T >= 0)
    assert np.all(np.abs(rec.predict(small_frame(), clip=False) - 3.0) < 1.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_all_ratings_zero_with_random_init(solver):
    rec = Recommender(**FAST, solver=solver, init="random").fit(small_frame().assign(rating=0.0))
    scores = rec.predict(small_frame(), clip=False)
    assert np.all(np.isfinite(scores)) and np.all(scores < 1e-6)
    assert rec.predict(1, 12) == 0.0
    assert len(rec.recommend(1, k=5)) == 2


@pytest.mark.parametrize("init", [None, "nndsvda"])
def test_all_ratings_zero_with_default_or_svd_init(init):
    rec = Recommender(**FAST, init=init).fit(small_frame().assign(rating=0.0))
    assert components_nonneg(rec.model_) and rec.predict(1, 12) == 0.0


def test_subnormal_ratings_with_default_init():
    df = small_frame().assign(rating=small_frame()["rating"] * 1e-310)
    rec = Recommender(**FAST).fit(df)
    assert np.all(np.isfinite(rec.model_.W_))


@pytest.mark.parametrize("solver", ["als", "pgd"])
@pytest.mark.parametrize("scale", [1e-12, 1e12])
def test_rating_scale_does_not_matter(solver, scale):
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 5, (9, 7))
    X[rng.random(X.shape) < 0.3] = np.nan
    params = dict(n_components=2, solver=solver, init="random", max_iter=60, tol=0.0, random_state=0)
    ref = MaskedNMF(**params).fit(X)
    scaled = MaskedNMF(**params).fit(X * scale)
    assert np.all(np.isfinite(scaled.W_)) and np.all(np.isfinite(scaled.loss_history_))
    P_ref = ref.W_ @ ref.components_
    P = scaled.W_ @ scaled.components_ / scale
    np.testing.assert_allclose(P, P_ref, rtol=1e-6, atol=1e-6)   # without penalties, F scales by s^2


def test_mu_at_tiny_rating_scale():
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 5, (9, 7))
    X[rng.random(X.shape) < 0.3] = np.nan
    params = dict(n_components=2, solver="mu", init="random", max_iter=60, tol=0.0, random_state=0)
    ref = MaskedNMF(**params).fit(X)
    tiny = MaskedNMF(**params).fit(X * 1e-12)
    h = tiny.loss_history_
    assert np.all(np.diff(h) <= 1e-10 * h[:-1])
    np.testing.assert_allclose(tiny.W_ @ tiny.components_ / 1e-12, ref.W_ @ ref.components_, rtol=1e-3)


@pytest.mark.parametrize("scale", [1e-12, 1e12])
def test_recommender_at_extreme_scales_predicts_on_that_scale(scale):
    df = small_frame()
    # without penalties F(sX; sqrt(s)W, sqrt(s)H) = s^2 F(X; W, H): the same fit, rescaled
    # (the penalized part's per-rating L2 is not scale-free, so it is switched off here)
    params = dict(FAST, solver="als", ranking="rating", l2_W=0.0, l2_H=0.0, init="random")
    ref = Recommender(**params).fit(df)
    rec = Recommender(**params).fit(df.assign(rating=df["rating"] * scale))
    assert np.all(np.isfinite(rec.model_.W_)) and components_nonneg(rec.model_)
    pred = rec.predict(df)
    lo, hi = rec.rating_range_
    assert np.all((pred >= lo) & (pred <= hi))
    np.testing.assert_allclose(pred / scale, ref.predict(df), rtol=1e-6)
    top, top_ref = rec.recommend(1), ref.recommend(1)
    assert top["item"].tolist() == top_ref["item"].tolist()
    np.testing.assert_allclose(top["score"] / scale, top_ref["score"], rtol=1e-6)
    # the default model works on the data divided by their scale: the same model, rescaled
    dflt_ref = Recommender(**FAST).fit(df)
    dflt = Recommender(**FAST).fit(df.assign(rating=df["rating"] * scale))
    raw = dflt.predict(df, clip=False)
    assert np.all(np.isfinite(raw))
    np.testing.assert_allclose(raw / scale, dflt_ref.predict(df, clip=False), rtol=1e-6)


def test_k_at_least_the_number_of_items_returns_all_candidates(fitted):
    n_items = len(fitted.items_)
    for k in (n_items, n_items + 1, 10**6):
        top = fitted.recommend(1, k=k, exclude_seen=False)
        assert sorted(top["item"]) == sorted(fitted.items_.labels_)
        assert len(fitted.recommend(1, k=k)) == n_items - 2     # user 1 rated two
        assert len(fitted.similar_items(10, k=k)) == n_items - 1
        many = fitted.recommend_many(k=k)
        assert many.groupby("user").size().to_dict() == {1: 2, 2: 2, 3: 2, 4: 3}
        assert len(fitted.top_items(0, n=k)) == n_items


@pytest.mark.parametrize("solver", SOLVERS)
def test_more_components_than_users_or_items(solver):
    df = small_frame()
    rec = Recommender(n_components=10, solver=solver, init="random", max_iter=8,
                      random_state=0).fit(df)
    assert rec.model_.W_.shape == (4, 12) and np.all(np.isfinite(rec.model_.W_))
    auto = Recommender(n_components=10, solver=solver, max_iter=8, random_state=0).fit(df)
    assert auto.model_.init_ == "random"                        # None picks random here
    for init in ("nndsvd", "nndsvda", "nndsvdar"):
        with pytest.raises(ValueError, match=rf"init='{init}' .*needs n_components < min\(n_rows, "
                                             r"n_cols\) = 4; got n_components=10\. Use init='random'"):
            Recommender(n_components=10, solver=solver, init=init).fit(df)


# ===================================================================== unknown ids
def test_unknown_ids_everywhere(fitted):
    rec = fitted
    assert np.isnan(rec.predict(99, 10)) and np.isnan(rec.predict(1, 99))
    with pytest.warns(UserWarning, match="user 'x' is not in the training data, whose user ids"):
        assert np.isnan(rec.predict("x", 10))
    assert np.isnan(rec.predict(None, 10))
    assert np.isnan(rec.predict(pd.DataFrame({"user": [99], "item": [10]}))).all()
    with pytest.warns(UserWarning, match="item 'zz' is not in the training data, whose item ids"):
        np.testing.assert_array_equal(np.isnan(rec.predict([1, 99, 1], [10, 10, "zz"])),
                                      [False, True, True])
    assert rec.predict(99, 10, unknown="baseline") == pytest.approx(rec.item_means_[0])
    for call, what in [
        (lambda: rec.recommend(99), "user 99"),
        (lambda: rec.recommend("x"), "user 'x'"),
        (lambda: rec.recommend_many([1, 99]), "user 99"),
        (lambda: rec.recommend(1, items=[10, 99]), "item 99"),
        (lambda: rec.recommend_many(items=[99]), "item 99"),
        (lambda: rec.explain(99, 10), "user 99"),
        (lambda: rec.explain(1, 99), "item 99"),
        (lambda: rec.similar_items(99), "item 99"),
        (lambda: rec.similar_items("x"), "item 'x'"),
        (lambda: rec.user_factors(99), "user 99"),
        (lambda: rec.user_factors([1, 99]), "user 99"),
        (lambda: rec.fold_in({99: 3.0}), "item 99"),
        (lambda: rec.recommend_new({10: 4.0, 99: 3.0}), "item 99"),
        (lambda: rec.update(pd.DataFrame({"user": [7], "item": [99], "rating": [1.0]})), "item 99"),
    ]:
        with pytest.raises(KeyError, match=f"{what} is not in the training data"):
            call()
    # unknown ids in a blacklist can never be returned: ignored; known ones still apply
    assert len(rec.recommend(1, exclude=[99, "x"])) == 2
    assert rec.recommend(1, exclude=[12, "x"])["item"].tolist() == [13]
    assert len(rec.recommend_many([1, 2], exclude=[12, "x"])) == 3


def test_fold_in_and_update_validate_their_ratings(fitted):
    rec = fitted
    with pytest.raises(ValueError, match="1 NaN values"):
        rec.fold_in({10: np.nan})
    with pytest.raises(ValueError, match="1 negative values"):
        rec.fold_in({10: -1.0})
    with pytest.raises(TypeError, match="numeric ratings"):
        rec.fold_in({10: "a"})
    with pytest.raises(ValueError, match="a new user needs at least one rating"):
        rec.fold_in({})
    with pytest.raises(TypeError, match="ratings must be a dict or Series"):
        rec.fold_in([(10, 1.0)])
    with pytest.raises(ValueError, match=r"1 duplicate \(user, item\) pairs"):
        rec.fold_in(pd.DataFrame({"item": [10, 10], "rating": [1.0, 2.0]}))
    with pytest.raises(TypeError, match="cannot mix label kinds"):
        Recommender(**FAST).fit(small_frame()).update(
            pd.DataFrame({"user": ["z"], "item": [10], "rating": [1.0]}))


# ===================================================================== properties
def random_sparse(seed, m, n, density, scale=5.0):
    rng = np.random.default_rng(seed)
    mask = rng.random((m, n)) < density
    mask[rng.integers(m), rng.integers(n)] = True
    rows, cols = np.nonzero(mask)
    vals = np.round(rng.uniform(0, scale, rows.size), 1)      # zeros included: observed zeros
    return sp.csr_matrix((vals, (rows, cols)), shape=(m, n))


problems = dict(seed=st.integers(0, 2**31 - 1), m=st.integers(2, 9), n=st.integers(2, 9),
                density=st.floats(0.2, 1.0), k=st.integers(1, 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**problems, solver=st.sampled_from(SOLVERS), init=st.sampled_from(INITS),
       dtype=st.sampled_from(["float64", "float32"]), biases=st.booleans(),
       l1=st.sampled_from([0.0, 0.3]), l2=st.sampled_from([0.0, 0.5]))
def test_factors_finite_nonnegative_and_objective_monotone(seed, m, n, density, k, solver, init,
                                                          dtype, biases, l1, l2):
    X = random_sparse(seed, m, n, density)
    if not X.data.any():
        init = "random"          # all-zero ratings: see test_all_ratings_zero_with_default_or_svd_init
    if init != "random" and k >= min(m, n):
        k = min(m, n) - 1
    model = MaskedNMF(k, solver=solver, init=init, max_iter=10, tol=0.0, random_state=seed,
                      dtype=dtype, user_bias=biases, item_bias=biases, l1_W=l1, l2_W=l2,
                      l1_H=l1, l2_H=l2)
    model.fit(X)
    assert model.W_.dtype == np.dtype(dtype) and model.components_.T.dtype == np.dtype(dtype)
    for A in (model.W_, model.components_.T):
        assert np.all(np.isfinite(A)) and np.all(A >= 0)
    h = model.loss_history_
    assert len(h) == 11 and np.all(np.isfinite(h))
    if solver in ("als", "mu"):
        # float32 factors round each iterate: allow float32 relative rounding of F
        rtol = 1e-10 if dtype == "float64" else 2e-6
        assert np.all(np.diff(h) <= rtol * np.maximum(1.0, np.abs(h[:-1]))), h


def _frame_of(X):
    coo = X.tocoo()
    return pd.DataFrame({"user": coo.row.astype(np.int64), "item": coo.col.astype(np.int64),
                         "rating": coo.data})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**problems, solver=st.sampled_from(SOLVERS), feedback=st.sampled_from(["explicit", "implicit"]),
       kq=st.integers(1, 12), n_excl=st.integers(0, 3))
def test_predictions_clipped_and_rankings_clean(seed, m, n, density, k, solver, feedback, kq, n_excl):
    if feedback == "implicit" and solver == "pgd":
        solver = "als"
    X = random_sparse(seed, m, n, density)
    df = _frame_of(X)
    if not df["rating"].any():
        df.loc[0, "rating"] = 1.0
    rec = Recommender(n_components=k, solver=solver, feedback=feedback, init="random",
                      max_iter=6, random_state=seed).fit(df)
    lo, hi = rec.rating_range_
    users, items = np.meshgrid(rec.users_.labels_, rec.items_.labels_)
    pred = rec.predict(users.ravel(), items.ravel())
    assert np.all(np.isfinite(pred))
    if feedback == "explicit":
        assert np.all((pred >= lo) & (pred <= hi))
    else:
        assert np.all(pred >= 0)
    rng = np.random.default_rng(seed)
    excluded = set(rng.choice(rec.items_.labels_, size=min(n_excl, len(rec.items_)), replace=False).tolist())
    many = rec.recommend_many(k=kq, exclude=sorted(excluded))
    for u in rec.users_.labels_:
        seen = set(df.loc[df["user"] == u, "item"])
        top = rec.recommend(u, k=kq, exclude=sorted(excluded))
        got = top["item"].tolist()
        candidates = set(rec.items_.labels_) - seen - excluded
        assert len(got) == len(set(got)) == min(kq, len(candidates))
        assert not (set(got) & (seen | excluded))
        assert np.all(np.diff(top["score"].to_numpy()) <= 0)
        assert many.loc[many["user"] == u, "item"].tolist() == got


# ===================================================================== numerics
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("init", INITS)
def test_users_and_items_without_ratings(solver, init):
    X = random_sparse(0, 7, 6, 0.6).tolil()
    X[2, :] = 0
    X[:, 3] = 0
    X = sp.csr_matrix(X)
    X.eliminate_zeros()                       # row 2 and column 3 hold no observation at all
    for biases, scale in ((False, "none"), (True, "count")):
        model = MaskedNMF(2, solver=solver, init=init, max_iter=10, random_state=0,
                          user_bias=biases, item_bias=biases, reg_scale=scale, l2_W=0.1, l2_H=0.1)
        model.fit(X)
        assert np.all(np.isfinite(model.W_)) and np.all(model.W_ >= 0)
        assert np.all(np.isfinite(model.components_.T)) and np.all(model.components_.T >= 0)
        assert np.all(np.isfinite(model.loss_history_))
    rec = Recommender(n_components=2, solver=solver, init=init, max_iter=10, random_state=0).fit(X)
    assert np.isfinite(rec.predict(2, 3))
    assert len(rec.recommend(2, k=10)) == 6               # no ratings: everything is a candidate
    sim = rec.similar_items(3, k=10)
    assert np.all(np.isfinite(sim["similarity"])) and len(sim) == 5
    assert np.all(np.isfinite(rec.explain(2, 3)["share"]))


@pytest.mark.parametrize("solver", SOLVERS)
def test_components_that_die_out_leave_no_nan(solver):
    X = random_sparse(1, 8, 7, 0.7)
    model = MaskedNMF(4, solver=solver, init="random", max_iter=30, random_state=0,
                      l1_W=50.0, l1_H=50.0)
    model.fit(X)
    assert np.all(np.isfinite(model.W_)) and np.all(np.isfinite(model.components_.T))
    assert np.all(model.W_ >= 0) and np.all(model.components_.T >= 0)
    assert np.all(model.W_ < 1e-6) or np.any(np.all(model.W_ < 1e-6, axis=0))  # something died
    rec = Recommender(n_components=4, solver=solver, init="random", max_iter=30,
                      random_state=0, l1_W=50.0, l1_H=50.0, user_bias=False,
                      item_bias=False).fit(X)
    assert np.all(np.isfinite(rec.predict(_frame_of(X))))
    assert np.all(np.isfinite(rec.similar_items(0, k=10)["similarity"]))
    assert np.all(np.isfinite(rec.explain(0, 0)["share"]))
    assert len(rec.recommend_many(k=3)) > 0


def test_mu_with_zero_numerators_and_denominators():
    # an item rated 0 by everyone: MU numerators are exactly 0 for it; a user whose
    # ratings are all 0 likewise; a zero custom start makes the denominators 0 (+ eps)
    X = np.array([[0.0, 1.0, np.nan, 2.0], [0.0, np.nan, 3.0, 1.0], [0.0, 0.0, np.nan, 0.0],
                  [np.nan, 2.0, 1.0, np.nan]])
    model = MaskedNMF(2, solver="mu", init="custom", max_iter=20, tol=0.0)
    model.fit(X, W=np.zeros((4, 2)), H=np.zeros((2, 4)))
    for A in (model.W_, model.components_.T):
        assert np.all(np.isfinite(A)) and np.all(A >= 0)
    assert np.all(np.isfinite(model.loss_history_))
    assert np.all(np.diff(model.loss_history_) <= 1e-12)
    assert model.loss_history_[-1] < model.loss_history_[0]     # the floor let it move


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("feedback, biases", [("explicit", False), ("explicit", True), ("implicit", False)])
def test_float32_agrees_with_float64(solver, feedback, biases):
    if solver == "pgd" and feedback == "implicit":
        pytest.skip("pgd handles explicit feedback only")
    X = random_sparse(5, 12, 10, 0.5)
    params = dict(n_components=3, solver=solver, init="nndsvda", max_iter=15, tol=0.0,
                  feedback=feedback, user_bias=biases, item_bias=biases, l2_W=0.1, l2_H=0.1,
                  random_state=0)
    m64 = MaskedNMF(**params).fit(X)
    m32 = MaskedNMF(**params, dtype="float32").fit(X)
    assert m32.W_.dtype == np.float32
    P64 = m64.W_ @ m64.components_
    P32 = m32.W_.astype(np.float64) @ m32.components_.astype(np.float64)
    np.testing.assert_allclose(P32, P64, rtol=1e-3, atol=1e-3 * np.abs(P64).max())
    np.testing.assert_allclose(m32.loss_history_, m64.loss_history_, rtol=1e-4)

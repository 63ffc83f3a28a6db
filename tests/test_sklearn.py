"""MaskedNMF, BayesianNMF and Recommender as scikit-learn estimators.

scikit-learn's own ``check_estimator`` suite runs on its ``NMF`` and on nmfrec's three
estimators. ``MaskedNMF`` passes every check that ``NMF`` passes. A check that one of
nmfrec's estimators fails, skips or does not run is listed below with the reason, and the
tests fail when the list and the results part ways (a check that starts to pass must
leave the list; a new failure must be explained).

With scikit-learn 1.9, NMF passes 45 checks and skips one. MaskedNMF passes 44, skips the
same one, and does not run check_estimators_nan_inf (NOT_RUN); BayesianNMF passes 40 and
fails four (FAILED); Recommender, an estimator on ratings tables rather than on feature
matrices, passes 12 and fails the rest (FAILED).
"""

import pydoc
import re
import warnings
from functools import partial
from unittest import SkipTest

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import estimator_checks_generator
from sklearn.utils.validation import check_is_fitted

from nmfrec import BayesianNMF, ConvergenceWarning, MaskedNMF, NotFittedError, Recommender

from _reference import dense_objective, random_masked

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")

#: Checks that skip themselves, for scikit-learn's NMF as for nmfrec's estimators, and why.
SKIPPED = {
    "check_array_api_input": "runs only with SCIPY_ARRAY_API=1 set before scipy is imported "
                             "(array API support is experimental in scipy and scikit-learn)",
}

#: Checks NMF runs that the tags of MaskedNMF and BayesianNMF leave out, and why.
NOT_RUN = {
    "check_estimators_nan_inf": "the tags allow NaN: in a matrix estimator NaN marks a "
                                "missing entry, what the estimator is for (infinite values "
                                "are refused, see test_nmf.py::test_bad_data_is_named)",
}

_RATINGS_TABLE = ("Recommender.fit takes ratings (a DataFrame of user, item and rating, a "
                  "users x items sparse matrix, or a RatingsMatrix), not a dense array of "
                  "features, and refuses the check's array with a TypeError that says so",
                  r"TypeError: ratings must be a pandas DataFrame, a polars DataFrame or a "
                  r"pyarrow Table \(user, item, rating\), a Spark DataFrame, a scipy sparse "
                  r"matrix or a RatingsMatrix; got (ndarray|memmap)")
_PREDICT_PAIRS = ("the check fits a sparse users x items matrix, which Recommender takes as "
                  "ratings, then calls predict(X) with it: Recommender.predict takes (user, "
                  "item) pairs, and its TypeError names them, not sparse input",
                  r"TypeError: predict needs an item: predict\(user, item\)")
_SAMPLE_NOT_MODE = ("fit_transform returns the training rows' kept Gibbs draws, transform "
                    "draws each row anew from its posterior given each kept draw's column "
                    "factors (a fold-in with its own spread): two draws of the same "
                    "posterior differ by about the posterior's spread, far beyond the "
                    "check's tolerance of 0.01",
                    r"fit_transform and transform outcomes not consistent in BayesianNMF")
_DRAWS_BY_POSITION = ("transform draws each row from its posterior with a random stream "
                      "fixed by the row's position in the call, so the same call gives the "
                      "same draws, but a row given among other rows, or in another order, "
                      "gets other draws of the same posterior (equal in distribution, not "
                      "in value)", r"transform of BayesianNMF is not invariant")

#: Checks each of nmfrec's estimators fails: {check: (reason, the failure it gives)}.
FAILED = {
    "MaskedNMF": {},
    "BayesianNMF": {
        "check_transformer_general": _SAMPLE_NOT_MODE,
        "check_transformer_data_not_an_array": _SAMPLE_NOT_MODE,
        "check_methods_subset_invariance": _DRAWS_BY_POSITION,
        "check_methods_sample_order_invariance": _DRAWS_BY_POSITION,
    },
    "Recommender": {
        **{name: _RATINGS_TABLE for name in (
            "check_fit_score_takes_y", "check_estimators_overwrite_params",
            "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
            "check_readonly_memmap_input", "check_n_features_in_after_fitting",
            "check_positive_only_tag_during_fit", "check_estimators_dtypes",
            "check_complex_data", "check_dtype_object", "check_estimators_empty_data_messages",
            "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
            "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
            "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature",
            "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
            "check_n_features_in", "check_fit1d", "check_fit2d_predict1d")},
        "check_estimator_sparse_array": _PREDICT_PAIRS,
        "check_estimator_sparse_matrix": _PREDICT_PAIRS,
    },
}

ESTIMATORS = {
    "MaskedNMF": MaskedNMF(n_components=2),
    "BayesianNMF": BayesianNMF(n_components=2, n_samples=20, n_burnin=5, n_kept=5),
    "Recommender": Recommender(n_components=2, max_iter=5),
}


def _name(check):
    return (check.func if isinstance(check, partial) else check).__name__


def _run_checks(estimator):
    """{check name: "passed" | "skipped" | "failed: ..."} (a check may run twice).

    A failure reads ``failed: <type>: <message>``, followed by ``(from <type>:
    <message>)`` for the exception the check's assertion was raised from.
    """
    results = {}
    for est, check in estimator_checks_generator(estimator, legacy=True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(est)
            status = "passed"
        except SkipTest:
            status = "skipped"
        except Exception as e:  # noqa: BLE001 - reported per check
            status = f"failed: {type(e).__name__}: {e}"
            cause = e.__cause__ or e.__context__
            if cause is not None:
                status += f" (from {type(cause).__name__}: {cause})"
        previous = results.get(_name(check), "passed")
        results[_name(check)] = status if previous == "passed" else previous
    return results


@pytest.fixture(scope="module")
def check_results():
    results = {name: _run_checks(est) for name, est in ESTIMATORS.items()}
    results["NMF"] = _run_checks(NMF(n_components=2, max_iter=500))
    return results


def _with(results, status):
    return {name for name, got in results.items() if got.startswith(status)}


def test_maskednmf_passes_every_check_that_sklearn_nmf_passes(check_results):
    theirs, ours = check_results["NMF"], check_results["MaskedNMF"]
    passed_by_nmf = _with(theirs, "passed")
    assert len(passed_by_nmf) >= 40, theirs       # the suite ran
    assert _with(theirs, "skipped") == set(SKIPPED), theirs
    for name in sorted(passed_by_nmf):
        if name in NOT_RUN:
            assert name not in ours, name
        else:
            assert ours.get(name) == "passed", f"{name}: {ours.get(name)}"


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_every_check_not_passed_is_listed_with_its_reason(check_results, estimator):
    results = check_results[estimator]
    assert len(results) >= 40, results
    failed = FAILED[estimator]
    assert _with(results, "failed") == set(failed), {
        name: got for name, got in results.items() if got.startswith("failed")}
    for name, (reason, error) in failed.items():
        assert reason and re.search(error, results[name]), (name, results[name])
    assert _with(results, "skipped") == set(SKIPPED), results
    # the tags of the matrix estimators leave out exactly the listed checks of NMF's
    if estimator != "Recommender":
        assert set(check_results["NMF"]) - set(results) == set(NOT_RUN)


def test_the_matrix_estimators_have_no_predict_and_say_what_replaced_it():
    X = np.array([[1.0, np.nan, 2.0], [0.5, 2.0, np.nan], [3.0, 1.0, 1.0]])
    for model in (MaskedNMF(2, random_state=0), BayesianNMF(2, n_samples=5, n_kept=5,
                                                             random_state=0)):
        name = type(model).__name__
        for est in (model, clone(model).fit(X)):
            assert not hasattr(est, "predict") and not hasattr(type(est), "predict")
            with pytest.raises(AttributeError, match=rf"{name} has no predict: it is a "
                               r"transformer, as scikit-learn's NMF is\. Use "
                               rf"{name}\.predict_entries\(rows, cols\) for entries of the "
                               rf"training matrix, or {name}\.complete\(X\) for every "
                               "entry of new rows"):
                est.predict([0], [1])
        # help() says it too, where the method was
        assert ("predict\n |      Removed: it is a transformer, as scikit-learn's NMF is. Use "
                "model.predict_entries(rows, cols)") in pydoc.render_doc(
                    type(model), renderer=pydoc.plaintext)
        # any other missing attribute keeps Python's own message
        with pytest.raises(AttributeError, match=rf"^'{name}' object has no attribute 'W_'$"):
            model.W_
        # and scikit-learn's wrappers see a transformer
        assert not hasattr(make_pipeline(clone(model)).fit(X), "predict")
        assert hasattr(make_pipeline(clone(model)).fit(X), "transform")


def test_tags_say_sparse_nan_and_non_negative():
    tags = get_tags(MaskedNMF())
    assert tags.input_tags.sparse and tags.input_tags.allow_nan and tags.input_tags.positive_only
    assert tags.transformer_tags.preserves_dtype == ["float64"]
    assert get_tags(MaskedNMF(dtype="float32")).transformer_tags.preserves_dtype == ["float32"]
    assert not get_tags(MaskedNMF()).non_deterministic


# ------------------------------------------------------------------ model selection
@pytest.fixture(scope="module")
def masked():
    rng = np.random.default_rng(0)
    return random_masked(rng, 60, 25, 0.5, k=3, scale=4.0)


def test_score_is_minus_the_mse_on_the_entries_the_fold_in_did_not_see(masked):
    model = MaskedNMF(3, random_state=0, l2_W=0.5, l2_H=0.5).fit(masked[:40])
    held = masked[40:]
    # the reference: every other observed entry of a row (in column order) folds it in,
    # the others are predicted from the folded-in factors
    first, second = held.copy(), held.copy()
    for r in range(held.shape[0]):
        cols = np.flatnonzero(~np.isnan(held[r]))
        first[r, cols[1::2]] = np.nan
        second[r, cols[0::2]] = np.nan
    W = model.transform(first)
    pred = W @ model.components_
    mask = ~np.isnan(second)
    ref = -np.mean((second[mask] - pred[mask]) ** 2)
    assert model.score(held) == pytest.approx(ref, rel=1e-12)
    r, c = np.nonzero(~np.isnan(held))           # the same rows, sparse
    sparse = sp.coo_matrix((held[r, c], (r, c)), shape=held.shape)
    assert model.score(sparse) == pytest.approx(model.score(held), rel=1e-12)
    with pytest.raises(ValueError, match="X has no row with two observed entries"):
        model.score(np.where(np.arange(25) == 3, 1.0, np.nan)[None, :])


def test_grid_search_finds_the_planted_rank():
    # rank 3 plus noise: a larger rank fits the seen entries better but predicts worse
    rng = np.random.default_rng(4)
    X = 4 * rng.random((120, 3)) @ rng.random((3, 40)) + 0.3 * rng.standard_normal((120, 40))
    X = np.clip(X, 0, None)
    X[rng.random(X.shape) < 0.4] = np.nan
    search = GridSearchCV(MaskedNMF(max_iter=500, random_state=0),
                          {"n_components": [1, 2, 3, 6, 12]}, cv=4).fit(X)
    assert search.best_params_["n_components"] == 3, search.cv_results_["mean_test_score"]


def test_cross_val_score_is_the_mean_of_fold_scores(masked):
    cv = KFold(3, shuffle=True, random_state=0)
    est = MaskedNMF(2, random_state=0)
    got = cross_val_score(est, masked, cv=cv)
    ref = [clone(est).fit(masked[tr]).score(masked[te]) for tr, te in cv.split(masked)]
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_grid_search_chooses_by_score(masked, sparse):
    X = sp.csr_matrix(np.nan_to_num(masked)) if sparse else masked
    cv = KFold(3, shuffle=True, random_state=1)
    grid = {"n_components": [1, 3], "l2_H": [0.0, 5.0]}
    search = GridSearchCV(MaskedNMF(random_state=0, max_iter=100), grid, cv=cv).fit(X)
    manual = {}
    for k in grid["n_components"]:
        for l2 in grid["l2_H"]:
            est = MaskedNMF(k, random_state=0, max_iter=100, l2_H=l2)
            manual[(k, l2)] = np.mean([clone(est).fit(X[tr]).score(X[te])
                                       for tr, te in cv.split(X)])
    best = max(manual, key=manual.get)
    assert (search.best_params_["n_components"], search.best_params_["l2_H"]) == best
    assert search.best_score_ == pytest.approx(manual[best], rel=1e-12)
    check_is_fitted(search.best_estimator_)


def test_randomized_search_runs(masked):
    search = RandomizedSearchCV(MaskedNMF(random_state=0), {"n_components": [1, 2, 3],
                                                            "l2_W": [0.0, 0.1, 1.0]},
                                n_iter=3, cv=3, random_state=0).fit(masked)
    assert len(search.cv_results_["params"]) == 3
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("make", [lambda: MaskedNMF(2, random_state=0, max_iter=50),
                                  lambda: BayesianNMF(2, n_samples=30, n_burnin=10, n_kept=10,
                                                      random_state=0)])
def test_factor_models_route_no_metadata_as_sklearn_nmf(masked, make):
    """Like scikit-learn's NMF, the factor models make no set_*_request methods: W, H,
    rows and cols are arguments of the call, not per-sample metadata; a search with
    routing on fits and scores them."""
    from sklearn import config_context

    est = make()
    assert not [m for m in dir(est) if m.startswith("set_") and m.endswith("_request")]
    assert not [m for m in dir(NMF) if m.startswith("set_") and m.endswith("_request")]
    with config_context(enable_metadata_routing=True):
        assert str(est.get_metadata_routing()) == "{}"
        search = GridSearchCV(est, {"n_components": [1, 2]}, cv=2).fit(masked)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_custom_factors_still_start_a_fit_directly_and_in_a_pipeline(masked):
    rng = np.random.default_rng(3)
    W0, H0 = rng.random((masked.shape[0], 2)), rng.random((2, masked.shape[1]))
    est = MaskedNMF(2, init="custom", max_iter=3, tol=0.0)
    direct = clone(est).fit(masked, W=W0, H=H0)
    piped = make_pipeline(clone(est)).fit(masked, maskednmf__W=W0, maskednmf__H=H0)
    np.testing.assert_array_equal(piped[-1].components_, direct.components_)
    other = clone(est).fit(masked, W=W0 + 1.0, H=H0)
    assert not np.allclose(other.components_, direct.components_)   # W0 was used


def test_check_is_fitted_and_not_fitted_errors(masked):
    for est in (MaskedNMF(2), Recommender(n_components=2)):
        with pytest.raises(SklearnNotFittedError):
            check_is_fitted(est)
    model = MaskedNMF(2).fit(masked)
    check_is_fitted(model)
    with pytest.raises(SklearnNotFittedError, match="not fitted yet; call fit before transform"):
        MaskedNMF(2).transform(masked)       # nmfrec's NotFittedError is scikit-learn's
    assert issubclass(NotFittedError, SklearnNotFittedError)
    assert issubclass(ConvergenceWarning, SklearnConvergenceWarning)


# ------------------------------------------------------------------ transformer API
def test_inverse_transform_complete_predict_entries_and_feature_names(masked):
    model = MaskedNMF(2, user_bias=True, item_bias=True, random_state=0).fit(masked)
    W = model.transform(masked[:5])
    np.testing.assert_allclose(model.inverse_transform(W), W @ model.components_, rtol=1e-12)
    np.testing.assert_array_equal(model.complete(masked[:5]), model.inverse_transform(W))
    # predict_entries(rows, cols) is the same model at training positions
    r, c = np.nonzero(~np.isnan(masked))
    S = model.W_ @ model.components_
    np.testing.assert_allclose(model.predict_entries(r, c), S[r, c], rtol=1e-12)
    np.testing.assert_allclose(model.predict_entries(r[:10].reshape(5, 2), c[:10].reshape(5, 2)),
                               S[r[:10], c[:10]].reshape(5, 2), rtol=1e-12)
    with pytest.raises(NotFittedError, match="call fit before complete"):
        MaskedNMF(2).complete(masked[:5])
    assert model.get_feature_names_out().tolist() == [f"maskednmf{j}" for j in range(4)]
    with pytest.raises(ValueError, match=r"X has 3 columns, but MaskedNMF has 4 factors "
                                         r"\(c0 \.\. item_bias\)"):
        model.inverse_transform(np.ones((2, 3)))


def test_set_output_pandas_and_pipeline(masked):
    model = MaskedNMF(2, random_state=0).set_output(transform="pandas")
    out = model.fit_transform(masked)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == ["maskednmf0", "maskednmf1"]
    np.testing.assert_array_equal(out.to_numpy(), model.W_)
    pipe = make_pipeline(MaskedNMF(2, random_state=0), StandardScaler()).fit(masked)
    Z = pipe.transform(masked[:7])
    alone = MaskedNMF(2, random_state=0)
    scaler = StandardScaler().fit(alone.fit_transform(masked))     # fitted on W_
    np.testing.assert_allclose(Z, scaler.transform(alone.transform(masked[:7])), rtol=1e-12)


def test_recommender_works_under_a_global_pandas_output():
    from sklearn import config_context
    df = _frame()
    rec = Recommender(n_components=2, random_state=0, max_iter=5).fit(df)
    new = {101: 4.0, 102: 1.0}
    w, top = rec.fold_in(new), rec.recommend_new(new, k=3)
    with config_context(transform_output="pandas"):
        assert isinstance(rec.model_.transform(np.full((1, len(rec.items_)), np.nan)), pd.DataFrame)
        np.testing.assert_array_equal(rec.fold_in(new), w)
        pd.testing.assert_frame_equal(rec.recommend_new(new, k=3), top)


def test_negative_input_is_named_in_scikit_learns_words():
    with pytest.raises(ValueError, match=r"Negative values in data passed to MaskedNMF\.fit: "
                                         r"X contains 1 negative values \(first at row 0, "
                                         r"column 1: -2\.0\); NMF needs non-negative"):
        MaskedNMF(2).fit(np.array([[1.0, -2.0], [0.5, 2.0]]))


# ------------------------------------------------------------------ Recommender
def _frame(seed=0, n_users=30, n_items=25, density=0.4):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[:, 0] = mask[0, :] = True
    u, i = np.nonzero(mask)
    return pd.DataFrame({"userId": u + 1, "movieId": 100 + i,
                         "rating": rng.integers(1, 6, u.size).astype(float)})


def test_recommender_score_is_minus_rmse_for_ratings():
    df = _frame()
    rec = Recommender(n_components=2, random_state=0, max_iter=20).fit(df.iloc[:250])
    test = df.iloc[250:]
    pred = rec.predict(test, unknown="baseline")
    assert rec.score(test) == pytest.approx(-np.sqrt(np.mean((pred - test["rating"]) ** 2)),
                                            rel=1e-12)


def test_recommender_score_is_precision_at_10_for_implicit_feedback():
    df = _frame(density=0.5)
    train, test = df.iloc[::2], df.iloc[1::2]
    rec = Recommender(feedback="implicit", n_components=3, random_state=0, max_iter=10).fit(train)
    known = test[test["userId"].isin(train["userId"])]
    ref = []
    for user, rows in known.groupby("userId"):
        top = rec.recommend(user, k=10)["item"]
        ref.append(len(set(top) & set(rows["movieId"])) / 10)
    assert rec.score(test) == pytest.approx(np.mean(ref), rel=1e-12)


def test_recommender_score_errors():
    df = _frame()
    rec = Recommender(n_components=2, random_state=0, max_iter=5).fit(df)
    with pytest.raises(TypeError, match="score takes a ratings DataFrame; got ndarray"):
        rec.score(df.to_numpy())
    with pytest.raises(ValueError, match="X is empty"):
        rec.score(df.iloc[:0])
    imp = Recommender(feedback="implicit", n_components=2, random_state=0, max_iter=5).fit(df)
    with pytest.raises(ValueError, match="X has no user that the model knows"):
        imp.score(df.assign(userId=df["userId"] + 10_000))


@pytest.mark.slow
def test_grid_search_and_cross_val_score_on_a_ratings_frame():
    df = _frame(seed=1)
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(Recommender(random_state=0, max_iter=10), {"n_components": [1, 4]},
                          cv=cv).fit(df)
    manual = {k: np.mean([Recommender(n_components=k, random_state=0, max_iter=10)
                          .fit(df.iloc[tr]).score(df.iloc[te]) for tr, te in cv.split(df)])
              for k in (1, 4)}
    assert search.best_params_["n_components"] == max(manual, key=manual.get)
    assert search.best_score_ == pytest.approx(max(manual.values()), rel=1e-12)
    check_is_fitted(search.best_estimator_)
    scores = cross_val_score(Recommender(n_components=2, random_state=0, max_iter=10), df, cv=cv)
    assert scores.shape == (3,) and np.all(scores < 0)
    assert clone(Recommender(n_components=3)).get_params() == Recommender(n_components=3).get_params()

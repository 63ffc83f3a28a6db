"""The Spark fit is the local fit: same factors, same errors, retried tasks, flat cost.

The ``spark`` fixture (``conftest.py``) is one ``local[2]`` session for the whole run;
without pyspark or Java these tests skip with the reason, and fail instead under
``NMFREC_REQUIRE_SPARK=1``, which ``.ci/run`` sets.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from nmfrec import FallbackWarning, FeedbackWarning, MaskedNMF, Recommender
from nmfrec.datasets import make_planted, make_ratings

# a JVM and a Spark session: slow (make test-fast leaves it out, make test runs it)
pytestmark = [pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning"),
              pytest.mark.slow]

TOL = 1e-6


@pytest.fixture(scope="module")
def u1(movielens_home):
    return pd.read_csv(movielens_home / "ml-100k" / "u1.base", sep="\t",
                       names=["userId", "movieId", "rating", "timestamp"])


@pytest.fixture(scope="module")
def synthetic():
    return make_ratings(300, 200, 6000, rank=5, seed=3)


def _assert_same_model(local, distributed):
    parts = ["model_"] + (["ranking_model_"] if local.ranking_model_ is not local.model_ else [])
    for part in parts:
        a, b = getattr(local, part), getattr(distributed, part)
        np.testing.assert_allclose(b.W_, a.W_, rtol=0, atol=TOL, err_msg=part + ".W_")
        np.testing.assert_allclose(b.components_, a.components_, rtol=0, atol=TOL,
                                   err_msg=part + ".components_")
        assert b.W_.shape == a.W_.shape
        if hasattr(a, "row_noise_weight_"):       # the Bayesian part's noise weights
            for name in ("row_noise_weight_", "col_noise_weight_", "noise_weight_shape_",
                         "noise_precision_"):
                np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-9,
                                           err_msg=part + "." + name)
    assert distributed.users_ == local.users_ and distributed.items_ == local.items_
    assert (distributed.ratings_ != local.ratings_).nnz == 0
    assert distributed.columns_ == local.columns_


def test_default_model_on_movielens_u1_equals_local_fit(spark, u1):
    # the default model (Bayesian rating part + preference part), fewer draws and a
    # smaller preference part so that the test is quick
    params = dict(random_state=0, n_samples=12, preference_components=8, max_iter=6)
    local = Recommender(**params).fit(u1)
    remote = Recommender(**params).fit(spark.createDataFrame(u1))
    _assert_same_model(local, remote)
    pd.testing.assert_frame_equal(remote.recommend(1, 10), local.recommend(1, 10))
    np.testing.assert_allclose(remote.predict([1, 1, 1], [1, 2, 3]),
                               local.predict([1, 1, 1], [1, 2, 3]), atol=TOL)
    # the same predictive distributions
    pairs = u1.iloc[::997][["userId", "movieId"]]
    np.testing.assert_allclose(remote.predict_proba(pairs), local.predict_proba(pairs),
                               atol=TOL)
    pd.testing.assert_frame_equal(remote.predict_interval(pairs, level=0.8),
                                  local.predict_interval(pairs, level=0.8))


# ``ranking`` (and ``prior``) given: these small tables are fitted on the blocks, not
# checked on held-out data on the driver (see the last test)
PINNED = dict(ranking="preference", prior="wishart")


@pytest.mark.parametrize("params", [
    dict(feedback="implicit", n_components=6, max_iter=8, ranking="preference"),
    dict(solver="als", n_components=5, l1_W=0.05, l2_H=0.2, reg_scale="count",
         ranking="rating", max_iter=8),
    dict(n_samples=4, preference_components=4, max_iter=3, dtype="float32", **PINNED),
], ids=["implicit", "explicit-als-l1-l2-biases", "default-float32"])
def test_synthetic_equals_local_fit(spark, synthetic, params):
    local = Recommender(random_state=1, **params).fit(synthetic)
    remote = Recommender(random_state=1, **params).fit(spark.createDataFrame(synthetic))
    _assert_same_model(local, remote)
    if hasattr(local.model_, "n_iter_"):                  # the penalized and implicit fits
        assert remote.model_.n_iter_ == local.model_.n_iter_


def test_routed_factors_give_the_same_model(spark, synthetic, monkeypatch):
    """With a zero broadcast budget every half-step routes each block only the rows it
    needs: the same numbers reach the kernels, so the same model comes out."""
    import nmfrec.spark as S

    monkeypatch.setattr(S, "BROADCAST_BUDGET", 0)
    params = dict(random_state=4, n_samples=4, preference_components=5, max_iter=4, **PINNED)
    local = Recommender(**params).fit(synthetic)
    R = S.SparkRatings.from_frame(spark.createDataFrame(synthetic))
    assert R.rows().routed(np.zeros(1), np.zeros(1)) == (True, True)
    routes = R.block_columns("W")
    assert [r[0] for r in routes] == [0, routes[1][0]] and sum(r[1] for r in routes) == R.shape[0]
    # each user block is sent the items its ratings touch, no more
    items_rated = [np.unique(synthetic.loc[synthetic["user"].isin(
        R.users.labels_[r0:r0 + n]), "item"]) for r0, n, _ in routes]
    assert all(np.array_equal(R.items.labels_[used], want)
               for (_, _, used), want in zip(routes, items_rated))
    R.unpersist()
    remote = Recommender(**params).fit(spark.createDataFrame(synthetic))
    _assert_same_model(local, remote)
    pairs = synthetic.iloc[::301][["user", "item"]]
    np.testing.assert_allclose(remote.predict_proba(pairs), local.predict_proba(pairs),
                               atol=TOL)


def test_users_routed_items_broadcast_give_the_same_model(spark, synthetic, monkeypatch):
    """A budget between the two sides' sizes: the users' factors are routed and the
    items' broadcast, in both half-steps (as the updated side, then as the other)."""
    import nmfrec.spark as S

    params = dict(feedback="implicit", n_components=4, max_iter=4, random_state=5,
                  ranking="preference",
                  init="random")
    local = Recommender(**params).fit(synthetic)
    f = local.model_.W_.shape[1]
    m, n = len(local.users_), len(local.items_)
    assert m > n
    monkeypatch.setattr(S, "BROADCAST_BUDGET", 8 * f * (m + n) // 2)
    R = S.SparkRatings.from_frame(spark.createDataFrame(synthetic))
    W, Ht = np.zeros((m, f)), np.zeros((n, f))
    assert R.rows().routed(W, Ht) == (True, False)
    assert R.rows().routed(Ht, W) == (False, True)
    R.unpersist()
    remote = Recommender(**params).fit(spark.createDataFrame(synthetic))
    _assert_same_model(local, remote)


def test_string_ids_and_other_column_names(spark, synthetic):
    df = synthetic.rename(columns={"user": "user_id", "item": "item_id"})
    df["user_id"] = "u" + df["user_id"].astype(str)
    params = dict(feedback="implicit", n_components=4, max_iter=4, random_state=0,
                  ranking="preference",
                  init="random")
    local = Recommender(**params).fit(df)
    remote = Recommender(**params).fit(spark.createDataFrame(df))
    _assert_same_model(local, remote)
    assert remote.columns_ == ("user_id", "item_id", "rating")


def test_failed_task_is_retried_and_model_unchanged(spark, synthetic, tmp_path, monkeypatch):
    from nmfrec.spark import SparkRatings, SparkRows

    marker = tmp_path / "fail-once"
    marker.write_text("")
    made = []
    rows = SparkRatings.rows

    def rows_with_fault(self):
        r = rows(self)
        r._fault = (5, str(marker))      # the 5th kernel job: one task raises, once
        made.append(r)
        return r

    monkeypatch.setattr(SparkRatings, "rows", rows_with_fault)
    params = dict(feedback="implicit", n_components=5, max_iter=6, random_state=2,
                  ranking="preference",
                  init="random")
    remote = Recommender(**params).fit(spark.createDataFrame(synthetic))
    monkeypatch.undo()
    assert not marker.exists(), "the injected failure never ran"
    assert made and isinstance(made[0], SparkRows)
    local = Recommender(**params).fit(synthetic)
    _assert_same_model(local, remote)


def test_25_iterations_do_not_slow_down(spark):
    from nmfrec.spark import SparkRatings, SparkRows

    df = make_ratings(2000, 1000, 60000, rank=8, seed=5)
    R = SparkRatings.from_frame(spark.createDataFrame(df))
    # the cost model's memory: each rating twice, a 4-byte index and an 8-byte value
    # (Spark's storage may hold them compressed: at most that)
    m, n = R.shape
    expected = 2 * 12 * R.nnz + 4 * (m + n + 2)
    assert 0 < R.cached_bytes() <= 1.05 * expected, (R.cached_bytes(), expected)
    assert R.n_blocks == {"W": 2, "H": 2}          # the session's parallelism
    times = []
    job = SparkRows._job

    def timed(self, *args):
        t0 = time.perf_counter()
        out = job(self, *args)
        times.append(time.perf_counter() - t0)
        return out

    SparkRows._job = timed
    try:
        model = MaskedNMF(n_components=8, solver="als", feedback="implicit", max_iter=25,
                          tol=0, init="random", random_state=0).fit(R)
    finally:
        SparkRows._job = job
        R.unpersist()
    assert model.n_iter_ == 25
    per_iter = np.add.reduceat(np.array(times[-50:]), np.arange(0, 50, 2))   # 2 jobs each
    first, last = np.sum(per_iter[:5]), np.sum(per_iter[-5:])
    assert last <= 1.3 * first, f"last five iterations {last:.2f} s vs first five {first:.2f} s"


def _pandas_error(df, **kw):
    with pytest.raises(Exception) as info:
        Recommender().fit(df, **kw)
    return info.value


@pytest.mark.parametrize("case", ["nan", "negative", "inf", "duplicates", "null-user",
                                  "text-ratings", "missing-column", "bool-ids"])
def test_bad_rows_get_the_pandas_errors(spark, case):
    df = pd.DataFrame({"user": [1, 1, 2, 3], "item": [1, 2, 1, 3],
                       "rating": [4.0, 3.0, 5.0, 1.0]})
    phrase = {"nan": "1 NaN values", "negative": "1 negative values",
              "inf": "1 infinite values", "duplicates": "1 duplicate",
              "null-user": "missing ids", "text-ratings": "must hold numeric ratings",
              "missing-column": "no rating column found", "bool-ids":
              "integer or string ids"}[case]
    if case == "nan":
        df.loc[2, "rating"] = np.nan
    elif case == "negative":
        df.loc[1, "rating"] = -1.0
    elif case == "inf":
        df.loc[3, "rating"] = np.inf
    elif case == "duplicates":
        df.loc[1, "item"] = 1
    elif case == "null-user":
        df["user"] = pd.array([1, None, 2, 3], dtype="Int64")
    elif case == "text-ratings":
        df["rating"] = ["a", "b", "c", "d"]
    elif case == "missing-column":            # (only user and item would be click data)
        df = df.rename(columns={"rating": "stars"})
    elif case == "bool-ids":
        df["user"] = [True, False, True, False]
    expected = _pandas_error(df)
    sdf = spark.createDataFrame(df.astype({"user": object}) if case == "null-user" else df)
    with pytest.raises(type(expected)) as info:
        Recommender().fit(sdf)
    assert phrase in str(info.value) and phrase in str(expected), (str(info.value),
                                                                   str(expected))


def test_recommend_all_and_factor_frames(spark, synthetic):
    from nmfrec.spark import factors_frame, recommend_all

    rec = Recommender(feedback="implicit", n_components=4, max_iter=5, ranking="preference",
                      random_state=0).fit(synthetic)
    got = (recommend_all(rec, spark, k=5, n_tasks=3).toPandas()
           .sort_values(["user", "rank"]).reset_index(drop=True))
    want = rec.recommend_many(k=5)[["user", "item", "score", "rank"]]
    want = want.sort_values(["user", "rank"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    items = factors_frame(rec, spark, "items").toPandas()
    assert len(items) == len(rec.items_)
    assert list(items["id"]) == list(rec.items_.labels_)
    np.testing.assert_allclose(np.stack(items["features"].to_numpy()), rec.item_factors())
    with pytest.raises(ValueError, match="side"):
        factors_frame(rec, spark, "rows")


def test_first_and_last_duplicates_need_an_order(spark, synthetic):
    with pytest.raises(ValueError, match="row order"):
        Recommender().fit(spark.createDataFrame(synthetic), duplicates="last")


@pytest.mark.parametrize("values", ["clicks", "counts"])
def test_click_and_count_tables_fit_on_spark_as_locally(spark, u1, values):
    """A table without ratings is click data on Spark too: the blocks hold ones, or the
    counts' confidences log(1 + count), and the fit chooses what the local one chooses."""
    table = u1[["userId", "movieId"]] if values == "clicks" else \
        u1[["userId", "movieId"]].assign(plays=u1["rating"] ** 2)
    params = dict(random_state=0, n_components=8, max_iter=6)
    with pytest.warns(FeedbackWarning):
        local = Recommender(**params).fit(table)
    with pytest.warns(FeedbackWarning):
        remote = Recommender(**params).fit(spark.createDataFrame(table))
    assert (remote.feedback_, remote.table_kind_) == (local.feedback_, local.table_kind_) == \
        ("implicit", values)
    assert remote.fitted_params_ == local.fitted_params_
    _assert_same_model(local, remote)
    np.testing.assert_allclose(remote.ratings_.data, local.ratings_.data, rtol=1e-12)


def test_small_tables_are_checked_on_held_out_data_as_locally(spark):
    """Below the held-out check's size a Spark table is fitted on the driver, so that it
    makes the local fit's choices (here: ranking by rating on a planted set)."""
    df = make_planted(300, 200, n_genres=6, density=0.1, seed=0).data
    params = dict(random_state=0, n_samples=20)
    with pytest.warns(FallbackWarning):
        local = Recommender(**params).fit(df)
    with pytest.warns(FallbackWarning):
        remote = Recommender(**params).fit(spark.createDataFrame(df))
    assert remote.held_out_ == local.held_out_ and remote.ranking_ == local.ranking_ == "rating"
    _assert_same_model(local, remote)

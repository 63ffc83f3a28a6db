"""Defaults that follow the data: the rules in units relative to the data, the held-out
choice on small data (never below popularity, never at chance where the ratings carry the
tastes), the ARD prior and the Gibbs chain's own diagnostics. References: the rules'
formulas, brute-force rankings, planted tastes whose liked items are known, and longer
chains."""

import warnings

import numpy as np
import pandas as pd
import pytest

from nmfrec import BayesianNMF, FallbackWarning, Recommender
from nmfrec import _auto as auto
from nmfrec.datasets import make_planted
from nmfrec.ratings import RatingsMatrix


# ------------------------------------------------------------------ the rules
@pytest.mark.parametrize("shape", [(120, 60, 1_800), (943, 1_682, 80_000),
                                   (6_040, 3_706, 900_000), (69_878, 10_677, 10_000_054)])
def test_rules_are_relative_to_the_data(shape):
    stats = auto.DataStats(*shape, target_rms=3.7)
    m, n, nnz = shape
    assert auto.missing_weight(stats) == pytest.approx(min(1.0, 8 * nnz / (m * n)), rel=1e-2)
    assert auto.preference_l2(stats) == pytest.approx(0.09 / np.sqrt(nnz / n), rel=1e-2)
    assert auto.preference_rank(stats) == min(max(round(np.sqrt(nnz) / 3.5), 8), 256,
                                              min(m, n) - 1)
    assert auto.rating_rank(stats) == min(max(round(0.17 * nnz ** (1 / 3)), 2), 32)
    assert 8 <= auto.ard_rank(stats) <= min(m, n) - 1
    # the rule's description says what it does
    assert "density" in auto.MISSING_WEIGHT and repr(auto.RATING_RANK).startswith("<auto:")


def test_ranks_grow_with_the_data_and_penalties_shrink():
    small, large = auto.DataStats(943, 1682, 100_000), auto.DataStats(6040, 3706, 1_000_000)
    assert auto.rating_rank(small) < auto.rating_rank(large)
    assert auto.preference_rank(small) < auto.preference_rank(large)
    assert auto.preference_l2(small) > auto.preference_l2(large)
    tiny = auto.DataStats(5, 4, 12)
    assert auto.preference_rank(tiny) == 3 and auto.rating_rank(tiny) == 2  # <= min side - 1


def test_the_default_is_the_same_model_on_any_rating_scale():
    """Ratings times 10 give the same rankings: the preference part's penalty is relative
    to the targets' scale and its missing weight to the density."""
    df = make_planted(200, 90, n_genres=4, density=0.3, tilt=0.8, seed=2).data
    a = Recommender(random_state=0, n_samples=20, ranking="preference").fit(df)
    b = Recommender(random_state=0, n_samples=20, ranking="preference").fit(
        df.assign(rating=10 * df["rating"]))
    for user in df["user"].unique()[:20]:
        assert a.recommend(user, k=10)["item"].tolist() == b.recommend(user, k=10)["item"].tolist()
    assert a.fitted_params_["missing_weight"] == b.fitted_params_["missing_weight"]


# ------------------------------------------------------------------ the held-out check
def test_held_out_split_holds_out_a_fifth_of_each_users_ratings():
    df = make_planted(60, 40, density=0.3, seed=1).data
    R = RatingsMatrix.from_frame(df)
    held = auto.held_out_split(R, np.random.default_rng(0))
    counts = np.diff(R.csr.indptr)
    out = np.bincount(held.rows, minlength=R.shape[0])
    np.testing.assert_array_equal(out, np.where(counts >= 5, np.round(0.2 * counts), 0))
    # train and held out partition the ratings, values kept
    train = held.train.csr.tocoo()
    got = set(zip(train.row, train.col, train.data)) | set(zip(held.rows, held.cols, held.values))
    ref = R.csr.tocoo()
    assert got == set(zip(ref.row, ref.col, ref.data)) and held.train.nnz + held.rows.size == R.nnz
    again = auto.held_out_split(R, np.random.default_rng(0))
    np.testing.assert_array_equal(again.cols, held.cols)
    assert auto.held_out_split(RatingsMatrix.from_frame(df.groupby("user").head(3)),
                               np.random.default_rng(0)) is None


def test_ranking_quality_against_brute_force():
    df = make_planted(50, 30, density=0.4, seed=4).data
    R = RatingsMatrix.from_frame(df)
    held = auto.held_out_split(R, np.random.default_rng(1))
    pop = auto.PopularityPart().fit(held.train)
    relevant = held.values >= 4
    got = auto.ranking_quality(pop, held, relevant)
    S = np.ones((R.shape[0], 1)) @ pop.components_
    ref = []
    for u in np.unique(held.rows[relevant]):
        seen = set(held.train.csr[u].indices)
        cand = [j for j in range(R.shape[1]) if j not in seen]
        s = S[u, cand]
        pct = []
        for i in held.cols[relevant & (held.rows == u)]:
            v = S[u, i]
            pct.append((np.sum(s > v) + 0.5 * (np.sum(s == v) - 1)) / (len(cand) - 1))
        ref.append(1 - np.mean(pct))
    np.testing.assert_allclose(got, ref)


def test_better_needs_a_clear_paired_difference():
    rng = np.random.default_rng(0)
    base = rng.random(200)
    assert auto.better(base + 0.05, base)
    assert not auto.better(base, base + 0.05)
    assert not auto.better(base + 0.01 * rng.standard_normal(200), base)   # noise
    assert not auto.better([1.0], [0.0])


@pytest.mark.slow
@pytest.mark.parametrize("tilt", [0.0, 0.8])
def test_small_planted_ratings_rank_liked_items_first(tilt):
    """A newcomer's small CSV: which items a user rates at random (tilt 0), so only the
    ratings say what is liked, or tilted toward liked items."""
    planted = make_planted(300, 200, n_genres=6, density=0.1, tilt=tilt, seed=0)
    df = planted.data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = Recommender(random_state=0).fit(df)
    recs = rec.recommend_many(k=5)
    share = planted.likes(recs["user"].to_numpy(), recs["item"].to_numpy()).mean()
    assert share >= 0.9
    fell = [w for w in caught if issubclass(w.category, FallbackWarning)]
    assert set(rec.held_out_) == {"rmse", "rank", "ranking"}
    assert rec.fitted_params_["ranking"] == rec.ranking_
    if tilt == 0.0:
        # the choices carry nothing: the ratings rank, and the fit says so
        assert rec.ranking_ == "rating" and len(fell) == 1
        assert "ranks by the predicted rating" in str(fell[0].message)
        assert rec.ranking_model_ is rec.model_
    # the ARD prior finds the genres where the Normal-Wishart one shrinks them away
    assert rec.model_.prior == "ard" and rec.held_out_["rmse"]["ard"] < \
        rec.held_out_["rmse"]["wishart"]


def test_rank_candidates_start_with_the_rules_rank():
    assert auto.rank_candidates(15) == [15, 7, 3]
    assert auto.rank_candidates(8) == [8, 4, 2]
    assert auto.rank_candidates(3) == [3, 2]
    assert auto.rank_candidates(2) == [2]


def test_small_catalogues_get_a_smaller_preference_rank_when_held_out_data_say_so(tmp_path):
    """120 users x 60 items of clicks tilted toward 2 of 4 genres: the rank rule (15, from
    the number of clicks) spreads the few tastes over too many factors; held-out clicks
    choose a smaller rank, and the top 5 holds liked items."""
    planted = make_planted(120, 60, n_genres=4, density=0.5, tilt=0.8, feedback="clicks",
                           seed=0)
    df = planted.data[["user", "item"]]
    rule = auto.preference_rank(auto.DataStats(120, 60, len(df)))
    rec = Recommender(random_state=0, feedback="implicit").fit(df)
    assert list(rec.held_out_["rank"]) == auto.rank_candidates(rule)
    chosen = rec.fitted_params_["n_components"]
    assert chosen < rule and rec.model_.n_components == chosen
    assert rec.held_out_["rank"][chosen] == max(rec.held_out_["rank"].values())
    recs = rec.recommend_many(k=5)
    assert planted.likes(recs["user"].to_numpy(), recs["item"].to_numpy()).mean() >= 0.9
    back = Recommender.load(rec.save(tmp_path / "small.npz"))
    assert back.held_out_ == rec.held_out_ and back.fitted_params_ == rec.fitted_params_
    given = Recommender(random_state=0, feedback="implicit", n_components=rule).fit(df)
    assert "rank" not in given.held_out_ and given.model_.n_components == rule
    recs = given.recommend_many(k=5)
    assert planted.likes(recs["user"].to_numpy(), recs["item"].to_numpy()).mean() < 0.9


def test_parameters_given_are_not_second_guessed():
    df = make_planted(300, 200, n_genres=6, density=0.1, tilt=0.0, seed=0).data
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        rec = Recommender(random_state=0, ranking="preference", prior="wishart",
                          preference_components=20).fit(df)
        assert rec.held_out_ is None and rec.ranking_ == "preference"
        assert rec.model_.prior == "wishart"
        assert rec.ranking_model_.n_components == 20
        # with the rank left to it, the fit checks only the rank
        rec = Recommender(random_state=0, ranking="preference", prior="wishart").fit(df)
    assert set(rec.held_out_) == {"rank"} and rec.ranking_ == "preference"
    assert rec.ranking_model_.n_components == rec.fitted_params_["preference_components"]
    large = make_planted(1200, 500, density=0.1, seed=0).data      # 60,000 ratings
    assert len(large) >= auto.VALIDATE_BELOW
    assert Recommender(random_state=0, n_samples=10).fit(large).held_out_ is None


def test_popularity_ranking_is_a_part_like_the_others(tmp_path):
    df = make_planted(80, 50, density=0.3, seed=5).data
    rec = Recommender(random_state=0, ranking="popularity", n_samples=20).fit(df)
    counts = df.groupby("item").size()
    for user in df["user"].unique()[[0, 7]]:
        seen = set(df.loc[df.user == user, "item"])
        ref = (counts[[i for i in counts.index if i not in seen]]
               .sort_values(ascending=False, kind="stable").index[:5].tolist())
        got = rec.recommend(user, k=5)
        assert got["item"].tolist() == ref
        assert got["score"].tolist() == counts[ref].astype(float).tolist()
    # a newcomer and a new user get the most popular items; neighbours come from the
    # rating part, not from one number per item
    assert rec.recommend_new({}, k=3)["item"].tolist() == counts.sort_values(
        ascending=False, kind="stable").index[:3].tolist()
    sims = rec.similar_items(df["item"].iloc[0], k=5)["similarity"]
    assert sims.nunique() > 1
    back = Recommender.load(rec.save(tmp_path / "pop.npz"))
    user = df["user"].iloc[0]
    assert back.recommend(user, k=5).equals(rec.recommend(user, k=5))
    assert back.ranking_ == "popularity"


# ------------------------------------------------------------------ the rating part's prior
def test_ard_switches_off_the_components_the_data_do_not_need():
    """Planted rank 2, fitted rank 10: with ARD two components carry most of the
    predictions, where the Normal-Wishart prior spreads them over all ten."""
    rng = np.random.default_rng(0)
    W = rng.gamma(0.5, 1.0, (200, 2))
    H = rng.gamma(0.5, 1.0, (2, 120))
    X = np.clip(W @ H + 0.3 * rng.standard_normal((200, 120)), 0, None)
    X[rng.random(X.shape) < 0.6] = np.nan

    def top_two(prior):
        model = BayesianNMF(n_components=10, prior=prior, random_state=0).fit(X)
        k, nf = model.n_components_, model.n_factors_per_draw
        weight = np.zeros(k)
        for d in range(model.noise_precision_.size):
            block = slice(d * nf, d * nf + k)
            weight += model.W_[:, block].mean(0) * model.components_[block].mean(1)
        return np.sort(weight / weight.sum())[::-1][:2].sum(), model

    ard, model = top_two("ard")
    wishart, _ = top_two("wishart")
    assert ard > 0.6 and ard > 1.5 * wishart
    # the exponential priors have a linear term (-rate) and no quadratic one
    k = model.n_components_
    assert np.all(model.row_prior_linear_[:, :k] < 0)
    assert np.all(model.row_prior_precision_[:, :k, :k] == 0)


# ------------------------------------------------------------------ the chain's diagnostics
def test_the_chain_decides_burn_in_and_draws_from_its_own_diagnostics():
    planted = make_planted(300, 150, density=0.2, seed=6)
    R = RatingsMatrix.from_frame(planted.data)
    model = BayesianNMF(random_state=0).fit(R)
    assert 10 <= model.n_burnin_ < 200 and model.train_rmse_.size == model.n_burnin_ + \
        model.n_samples_
    assert model.autocorr_time_ >= 1.0
    # stopped because the Monte Carlo error is small, or because the kept draws, spaced
    # by at least the autocorrelation time, are all it may hold
    kept = model.noise_precision_.size
    assert model.mcse_ <= 0.035 * model.noise_sd_ * 1.05 or kept >= 100
    # a chain four times as long predicts within a few Monte Carlo errors of it
    long = BayesianNMF(random_state=1, n_burnin=model.n_burnin_,
                       n_samples=4 * model.n_samples_, n_kept=kept).fit(R)
    rows, cols = R.csr.nonzero()
    gap = long.predict_entries(rows, cols) - model.predict_entries(rows, cols)
    assert np.sqrt(np.mean(gap ** 2)) < 4 * (model.mcse_ + long.mcse_)


def test_a_fixed_number_of_sweeps_keeps_evenly_spaced_draws():
    df = make_planted(60, 40, density=0.4, seed=7).data
    model = BayesianNMF(n_components=2, n_samples=30, n_burnin=5, n_kept=10,
                        random_state=0).fit(RatingsMatrix.from_frame(df))
    assert (model.n_burnin_, model.n_samples_, model.noise_precision_.size) == (5, 30, 10)
    assert model.train_rmse_.size == 35

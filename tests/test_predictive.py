"""Predictive distributions of the default model against brute-force references: the
mixture of the stored draws' normals computed draw by draw with scipy, its standard
deviation by numerical integration, intervals by exhaustive search; and the scores of
nmfrec.evaluation against values computed by hand."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from nmfrec import Recommender
from nmfrec.evaluation import interval_coverage, log_score, pit_histogram

FAST = dict(n_components=2, n_samples=30, prior="wishart", ranking="preference",
            preference_components=2, random_state=0)


def _ratings(step=1.0, top=5.0, seed=0, m=40, n=30):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(m):
        for i in rng.choice(n, size=12, replace=False):
            value = np.clip(np.round((2.5 + 0.1 * (u % 7) + 0.08 * (i % 9)
                                      + rng.normal(0, 0.2 + 0.05 * (u % 5))) / step) * step,
                            step, top)
            rows.append((f"u{u}", int(i), float(value)))
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


@pytest.fixture(scope="module")
def fitted():
    df = _ratings()
    return Recommender(**FAST).fit(df), df


def _reference_draws(rec, user, item):
    """Each kept draw's mean and sd at one pair, block by block from the stored arrays."""
    model = rec.model_
    u, i = rec.users_.number(user), rec.items_.number(item)
    nf, kept = model.n_factors_per_draw, model.noise_precision_.size
    mu, sd = [], []
    for t in range(kept):
        block = slice(t * nf, (t + 1) * nf)
        mu.append(kept * float(model.W_[u, block] @ model.components_[block, i]))
        prec = (model.noise_precision_[t] * model.row_noise_weight_[t, u]
                * model.col_noise_weight_[t, i])
        sd.append(model.scale_ / np.sqrt(prec))
    return np.array(mu), np.array(sd)


def test_predict_proba_is_the_mixture_of_the_draws_binned_onto_the_rating_values(fitted):
    rec, df = fitted
    pairs = df.iloc[[0, 5, 17, 100]][["user", "item"]]
    P = rec.predict_proba(pairs)
    values = np.unique(df["rating"])
    assert list(P.columns) == values.tolist()
    edges = np.r_[-np.inf, (values[1:] + values[:-1]) / 2, np.inf]
    for row, (user, item) in enumerate(pairs.itertuples(index=False)):
        mu, sd = _reference_draws(rec, user, item)
        ref = np.mean([norm.cdf(edges[1:], m, s) - norm.cdf(edges[:-1], m, s)
                       for m, s in zip(mu, sd)], axis=0)
        np.testing.assert_allclose(P.iloc[row].to_numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    # two sequences as predict takes them, and one pair
    np.testing.assert_array_equal(rec.predict_proba(pairs["user"].tolist(),
                                                    pairs["item"].tolist()).to_numpy(),
                                  P.to_numpy())


def test_return_std_is_the_mixtures_standard_deviation(fitted):
    rec, df = fitted
    user, item = df["user"].iloc[3], df["item"].iloc[3]
    mean, std = rec.predict(user, item, clip=False, return_std=True)
    assert mean == rec.predict(user, item, clip=False)
    mu, sd = _reference_draws(rec, user, item)
    x = np.linspace(mu.min() - 10 * sd.max(), mu.max() + 10 * sd.max(), 200001)
    dens = np.mean([norm.pdf(x, m, s) for m, s in zip(mu, sd)], axis=0)
    dx = x[1] - x[0]
    ref_mean = np.sum(x * dens) * dx
    ref_std = np.sqrt(np.sum((x - ref_mean) ** 2 * dens) * dx)
    assert mean == pytest.approx(ref_mean, abs=1e-6)
    assert std == pytest.approx(ref_std, rel=1e-6)
    # arrays, clipped means, and unknown pairs NaN
    m2, s2 = rec.predict([user, "nobody"], [item, item], return_std=True)
    assert m2[0] == rec.predict(user, item) and s2[0] == pytest.approx(std)
    assert np.isnan(m2[1]) and np.isnan(s2[1])


def _exhaustive(p, values, level):
    best = None
    for lo, hi in itertools.combinations_with_replacement(range(len(p)), 2):
        mass = p[lo:hi + 1].sum()
        if mass >= level - 1e-12:
            key = (hi - lo, mass, lo)          # shortest, then nearest level, then lowest
            if best is None or key < best[0]:
                best = (key, values[lo], values[hi], mass)
    return best[1:]


def test_predict_interval_is_the_shortest_run_holding_the_level(fitted):
    rec, df = fitted
    pairs = df.iloc[::7][["user", "item"]]
    P = rec.predict_proba(pairs)
    values = P.columns.to_numpy(float)
    for level in (0.3, 0.5, 0.8, 0.9, 0.99, 1.0):
        iv = rec.predict_interval(pairs, level=level)
        assert list(iv.columns) == ["lower", "upper", "mass"]
        for row in range(len(pairs)):
            lo, hi, mass = _exhaustive(P.iloc[row].to_numpy(), values, level)
            assert (iv["lower"].iloc[row], iv["upper"].iloc[row]) == (lo, hi)
            assert iv["mass"].iloc[row] == pytest.approx(mass, abs=1e-12)
    with pytest.raises(ValueError, match="level must be a probability in \\(0, 1\\]"):
        rec.predict_interval(pairs, level=1.5)


def test_half_star_scales_get_a_column_per_value_and_continuous_scales_are_refused():
    df = _ratings(step=0.5)
    rec = Recommender(**FAST).fit(df)
    P = rec.predict_proba(df.iloc[:3])
    assert list(P.columns) == np.unique(df["rating"]).tolist()
    np.testing.assert_array_equal(np.diff(P.columns.to_numpy(float)), 0.5)
    cont = df.assign(rating=df["rating"] + np.random.default_rng(0).random(len(df)) * 0.01)
    rec = Recommender(**FAST).fit(cont)
    with pytest.raises(ValueError, match="continuous scale"):
        rec.predict_proba(cont.iloc[:3])
    assert np.all(rec.predict(cont.iloc[:3], return_std=True)[1] > 0)


def test_unknown_pairs_and_models_without_a_posterior_are_named(fitted):
    rec, df = fitted
    P = rec.predict_proba(["nobody", df["user"].iloc[0]], [df["item"].iloc[0]] * 2)
    assert P.iloc[0].isna().all() and P.iloc[1].sum() == pytest.approx(1.0)
    with pytest.raises(KeyError, match="nobody"):
        rec.predict_proba(["nobody"], [df["item"].iloc[0]], unknown="raise")
    with pytest.raises(ValueError, match="unknown must be 'nan' or 'raise'"):
        rec.predict_proba(df.iloc[:2], unknown="baseline")
    als = Recommender(solver="als", **{k: v for k, v in FAST.items()
                                       if k not in ("n_samples", "prior")}).fit(df)
    with pytest.raises(ValueError, match="the default model, solver='gibbs'"):
        als.predict_proba(df.iloc[:2])
    with pytest.raises(ValueError, match="no posterior"):
        als.predict(df.iloc[:2], return_std=True)
    clicks = Recommender(feedback="implicit", n_components=2, random_state=0).fit(df)
    with pytest.raises(ValueError, match="implicit feedback"):
        clicks.predict_interval(df.iloc[:2])


def test_explain_spread_is_each_parts_sd_over_the_draws(fitted):
    rec, df = fitted
    user, item = df["user"].iloc[2], df["item"].iloc[2]
    plain = rec.explain(user, item)
    assert "sd" not in plain.columns                        # default output unchanged
    frame = rec.explain(user, item, spread=True)
    pd.testing.assert_frame_equal(frame.drop(columns="sd"), plain)
    model = rec.model_
    u, i = rec.users_.number(user), rec.items_.number(item)
    nf, kept = model.n_factors_per_draw, model.noise_precision_.size
    per_draw = kept * (model.W_[u] * model.components_[:, i]).reshape(kept, nf)
    rating = frame[frame["part"] == "rating"].set_index("component")
    for j, name in enumerate(model.component_names_):
        assert rating.loc[name, "sd"] == pytest.approx(per_draw[:, j].std(), abs=1e-12)
    assert rating["contribution"].sum() == pytest.approx(rec.predict(user, item, clip=False))
    assert frame.loc[frame["part"] == "preference", "sd"].isna().all()


def test_users_added_by_update_get_their_own_posterior_spread(fitted, tmp_path):
    rec, df = fitted
    rec = Recommender.load(rec.save(tmp_path / "m.npz"))     # a copy: the fixture is shared
    new = pd.DataFrame({"user": ["newbie"] * 4, "item": [0, 1, 2, 3],
                        "rating": [5.0, 4.0, 5.0, 1.0]})
    rec.update(new)
    model = rec.model_
    assert model.row_noise_weight_.shape == (model.noise_precision_.size, len(rec.users_))
    u = rec.users_.number("newbie")
    nf = model.n_factors_per_draw
    blocks = model.W_[u].reshape(-1, nf)
    assert np.ptp(blocks[:, 0]) > 0                          # a draw per kept draw, not one fit
    assert len(np.unique(model.row_noise_weight_[:, u])) > 1
    _, std = rec.predict("newbie", 7, return_std=True)
    _, std_known = rec.predict(df["user"].iloc[0], 7, return_std=True)
    assert std > 0 and np.isfinite(std_known)
    # saved and loaded, the same distributions
    again = Recommender.load(rec.save(tmp_path / "m2.npz"))
    pd.testing.assert_frame_equal(again.predict_proba(["newbie", df["user"].iloc[0]], [7, 7]),
                                  rec.predict_proba(["newbie", df["user"].iloc[0]], [7, 7]))


# ----------------------------------------------------------------------------- evaluation
def test_log_score_by_hand():
    proba = pd.DataFrame([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], columns=[1.0, 2.0, 3.0])
    assert log_score(proba, [3, 2]) == pytest.approx((np.log(0.7) + np.log(0.25)) / 2)
    with pytest.raises(ValueError, match="observed rating 4.0 \\(row 1\\) is not one of"):
        log_score(proba, [3, 4])
    with pytest.raises(ValueError, match="2 observed ratings for 1 rows"):
        log_score(proba.iloc[:1], [3, 2])
    with pytest.raises(TypeError, match="pandas DataFrame"):
        log_score(proba.to_numpy(), [3, 2])


def test_pit_histogram_by_hand():
    proba = pd.DataFrame([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], columns=[1, 2, 3])
    # row 0, rating 2: PIT uniform on (0.1, 0.3); row 1, rating 1: uniform on (0, 0.5)
    h = pit_histogram(proba, [2, 1], n_bins=10)
    expected = np.zeros(10)
    expected[1:3] += 0.5 / 2                     # (0.1, 0.3): bins 1 and 2, half each
    expected[0:5] += 0.2 / 2                     # (0, 0.5): bins 0..4, a fifth each
    np.testing.assert_allclose(h, expected)
    # randomized: each PIT drawn once, inside its interval
    r = pit_histogram(proba, [2, 1], n_bins=10, random_state=0)
    assert r.sum() == pytest.approx(1.0) and r[5:].sum() == 0
    # calibrated forecasts give a flat histogram
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), 20000)
    y = np.array([rng.choice(5, p=row) for row in p]) + 1
    flat = pit_histogram(pd.DataFrame(p, columns=range(1, 6)), y)
    np.testing.assert_allclose(flat, 0.1, atol=0.01)


def test_interval_coverage_by_hand():
    iv = pd.DataFrame({"lower": [3.0, 1.0, 4.0], "upper": [5.0, 2.0, 4.0], "mass": 0.9})
    assert interval_coverage(iv, [5, 3, 4]) == pytest.approx(2 / 3)
    with pytest.raises(TypeError, match="columns lower and upper"):
        interval_coverage(iv.drop(columns="upper"), [5, 3, 4])

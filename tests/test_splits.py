"""Splits: leak-free, exhaustive, seeded; cold start is reported, not dropped."""

import numpy as np
import pandas as pd
import pytest

from nmfrec.evaluation import (
    Split,
    cold_start_report,
    kfold,
    last_n_split,
    random_split,
    temporal_split,
    user_kfold,
    user_split,
)
from nmfrec.exceptions import MissingColumnError


@pytest.fixture
def ratings():
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, 40, 1500) * 1000 + rng.integers(0, 60, 1500))
    df = pd.DataFrame(
        {
            "user": keys // 1000,
            "item": keys % 1000,
            "rating": rng.integers(1, 6, keys.size).astype(float),
            "timestamp": rng.integers(0, 500, keys.size),  # many ties on purpose
        }
    )
    # a user with a single rating, and string labels elsewhere are tested separately
    solo = pd.DataFrame({"user": [999], "item": [5], "rating": [3.0], "timestamp": [7]})
    return pd.concat([df, solo], ignore_index=True).sample(frac=1, random_state=1)


def _pairs(df):
    return set(zip(df["user"], df["item"]))


def _assert_partition(df, train, test):
    assert len(train) + len(test) == len(df)
    assert not set(train.index) & set(test.index)
    assert set(train.index) | set(test.index) == set(df.index)
    assert not _pairs(train) & _pairs(test)
    assert list(train.columns) == list(df.columns)


@pytest.mark.parametrize(
    "split",
    [
        lambda df, s: random_split(df, 0.25, random_state=s),
        lambda df, s: user_split(df, 0.3, random_state=s),
        lambda df, s: user_split(df, n_test=2, random_state=s),
    ],
)
def test_random_splits_partition_and_are_seeded(ratings, split):
    train, test = split(ratings, 5)
    _assert_partition(ratings, train, test)
    again = split(ratings, 5)
    assert again.test.index.equals(test.index)
    other = split(ratings, 6)
    assert not other.test.index.sort_values().equals(test.index.sort_values())


def test_random_split_sizes(ratings):
    n = len(ratings)
    assert len(random_split(ratings, 0.2, random_state=0).test) == round(0.2 * n)
    assert len(random_split(ratings, 17, random_state=0).test) == 17


def test_user_split_keeps_a_train_rating_per_user(ratings):
    counts = ratings.groupby("user").size()
    for split in (user_split(ratings, 0.5, random_state=0),
                  user_split(ratings, n_test=3, random_state=0)):
        tr = split.train.groupby("user").size().reindex(counts.index, fill_value=0)
        assert (tr >= 1).all()
        assert split.cold_start().n_unknown_user == 0
    te = user_split(ratings, n_test=3, random_state=0).test.groupby("user").size()
    expected = np.minimum(3, counts - 1)
    pd.testing.assert_series_equal(
        te.reindex(counts.index, fill_value=0), expected, check_names=False
    )
    te = user_split(ratings, 0.5, random_state=0).test.groupby("user").size()
    expected = np.minimum(np.round(0.5 * counts).astype(int), counts - 1)
    pd.testing.assert_series_equal(
        te.reindex(counts.index, fill_value=0), expected, check_names=False
    )


def test_temporal_split_is_a_global_cut(ratings):
    train, test = temporal_split(ratings, 0.2)
    _assert_partition(ratings, train, test)
    assert train["timestamp"].max() < test["timestamp"].min()
    assert len(test) >= round(0.2 * len(ratings))  # ties at the cut go to test
    train, test = temporal_split(ratings, before=250)
    assert (train["timestamp"] < 250).all() and (test["timestamp"] >= 250).all()
    with pytest.raises(ValueError, match="leaves test empty"):
        temporal_split(ratings, before=10_000)


def test_last_n_split_takes_latest_with_deterministic_ties():
    df = pd.DataFrame(
        {
            "user": [1, 1, 1, 1, 2, 2, 3],
            "item": [10, 11, 12, 13, 10, 11, 10],
            "rating": [5.0] * 7,
            "timestamp": [1, 5, 5, 2, 9, 3, 4],
        }
    )
    train, test = last_n_split(df, n=1)
    # user 1: items 11 and 12 tie at t=5, the larger item label counts as later
    assert sorted(zip(test["user"], test["item"])) == [(1, 12), (2, 10)]
    # user 3 has one rating and keeps it
    assert (3, 10) in _pairs(train)
    train2, test2 = last_n_split(df.iloc[::-1], n=2)
    assert sorted(zip(test2["user"], test2["item"])) == [(1, 11), (1, 12), (2, 10)]


def test_kfold_every_rating_in_exactly_one_test_fold(ratings):
    folds = list(kfold(ratings, n_splits=4, random_state=3))
    assert len(folds) == 4 and all(isinstance(f, Split) for f in folds)
    test_idx = np.concatenate([f.test.index.to_numpy() for f in folds])
    assert sorted(test_idx) == sorted(ratings.index)
    sizes = [len(f.test) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    for f in folds:
        _assert_partition(ratings, f.train, f.test)
    same = list(kfold(ratings, n_splits=4, random_state=3))
    assert all(a.test.index.equals(b.test.index) for a, b in zip(folds, same))
    other = list(kfold(ratings, n_splits=4, random_state=4))
    assert not folds[0].test.index.equals(other[0].test.index)


def test_cold_start_report_counts_unknowns():
    train = pd.DataFrame({"user": ["a", "b"], "item": ["x", "y"], "rating": [1.0, 2.0]})
    test = pd.DataFrame(
        {"user": ["a", "c", "c", "d"], "item": ["y", "x", "z", "z"], "rating": [1.0] * 4}
    )
    rep = cold_start_report(train, test)
    assert (rep.n_test, rep.n_unknown_user, rep.n_unknown_item, rep.n_unknown) == (4, 3, 2, 3)
    assert list(rep.unknown_users) == ["c", "d"] and list(rep.unknown_items) == ["z"]
    assert "3 of 4 test ratings are cold" in str(rep)


def test_random_split_reports_cold_rows_without_dropping(ratings):
    split = random_split(ratings, 0.5, random_state=0)
    rep = split.cold_start()
    # the single-rating user 999 is in exactly one side
    assert len(split.test) + len(split.train) == len(ratings)
    assert rep.n_unknown_user == int((~split.test["user"].isin(split.train["user"])).sum())


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda df: random_split(df, 1.5), ValueError, r"test_size must be in \(0, 1\)"),
        (lambda df: random_split(df, 10**6), ValueError, "as a count"),
        (lambda df: random_split(df.drop(columns="item")), ValueError, r"missing column\(s\) \['item'\]"),
        (lambda df: random_split(df, rating_col="stars"), ValueError,
         r"missing column\(s\) \['stars'\]"),
        (lambda df: random_split(df.to_numpy()), TypeError, "pandas DataFrame"),
        (lambda df: random_split(df.iloc[:0]), ValueError, "empty"),
        (lambda df: random_split(pd.concat([df, df.iloc[:3]])), ValueError, "3 duplicate"),
        (lambda df: user_split(df, n_test=0), ValueError, "n_test must be an integer >= 1"),
        (lambda df: temporal_split(df.drop(columns="timestamp")), ValueError, "timestamp"),
        (lambda df: last_n_split(df, n=0), ValueError, "n must be an integer >= 1"),
        (lambda df: kfold(df, n_splits=1), ValueError, "n_splits must be an integer >= 2"),
        (lambda df: kfold(df.iloc[:3], n_splits=4), ValueError,
         "n_splits=4 is more than the 3 ratings"),
        (lambda df: random_split(df, "0.2"), TypeError,
         r"test_size must be a float in \(0, 1\) or an int; got '0.2'"),
        (lambda df: random_split(df, True), TypeError,
         r"test_size must be a float in \(0, 1\) or an int; got True"),
        (lambda df: user_split(df, 1.0), ValueError, r"test_size must be in \(0, 1\); got 1.0"),
    ],
)
def test_split_errors(ratings, call, exc, match):
    with pytest.raises(exc, match=match):
        call(ratings)


# ------------------------------------------------------------------------------ column names
ML_NAMES = {"user": "userId", "item": "movieId"}
ALL_SPLITS = [
    ("random_split", lambda df, **kw: random_split(df, 0.25, random_state=2, **kw)),
    ("user_split", lambda df, **kw: user_split(df, 0.3, random_state=2, **kw)),
    ("temporal_split", lambda df, **kw: temporal_split(df, 0.2, **kw)),
    ("last_n_split", lambda df, **kw: last_n_split(df, 2, **kw)),
    ("kfold", lambda df, **kw: next(iter(kfold(df, 3, random_state=2, **kw)))),
    ("user_kfold", lambda df, **kw: user_kfold(df, 3, random_state=2, **kw)[1]),
]


@pytest.mark.parametrize("name, split", ALL_SPLITS)
def test_splits_read_movielens_names_and_keep_them(ratings, name, split):
    ref = split(ratings)
    ml = split(ratings.rename(columns=ML_NAMES))
    for a, b in zip(ref, ml):
        assert list(b.columns) == ["userId", "movieId", "rating", "timestamp"]
        assert a.index.equals(b.index)   # the same rows, whatever the names
        pd.testing.assert_frame_equal(a, b.rename(columns={v: k for k, v in ML_NAMES.items()}))


@pytest.mark.parametrize("name, split", ALL_SPLITS)
def test_splits_take_column_names(ratings, name, split):
    own = {"user": "customer", "item": "product", "rating": "stars", "timestamp": "when"}
    df = ratings.rename(columns=own)
    kw = dict(user_col="customer", item_col="product", rating_col="stars")
    if name in ("temporal_split", "last_n_split"):
        kw["timestamp_col"] = "when"
    ref, got = split(ratings), split(df, **kw)
    for a, b in zip(ref, got):
        assert a.index.equals(b.index) and list(b.columns) == list(df.columns)
    # without names: no user or item column (a frame without ratings is click data)
    with pytest.raises(ValueError, match=r"ratings is missing column\(s\) \['user', "
                                         r"'item'\].*a user column is one of \['user', "
                                         r"'userId'"):
        split(df, **{k: v for k, v in kw.items() if k == "timestamp_col"})


def test_split_column_errors(ratings):
    both = ratings.assign(userId=ratings["user"])
    with pytest.raises(ValueError, match=r"ambiguous user column: the frame has \['user', "
                                         r"'userId'\]; pass user_col="):
        random_split(both)
    assert len(random_split(both, user_col="userId", random_state=0).test) > 0
    with pytest.raises(ValueError, match=r"ratings is missing column\(s\) \['uid'\]"):
        random_split(ratings, user_col="uid")
    with pytest.raises(ValueError, match=r"ratings: the user, item columns must "
                                         r"differ; got \['user', 'user'\]"):
        random_split(ratings, item_col="user")
    with pytest.raises(ValueError, match=r"ratings: the user, item, rating columns must "
                                         r"differ; got \['user', 'user', 'rating'\]"):
        random_split(ratings, item_col="user", rating_col="rating")
    with pytest.raises(ValueError, match=r"ratings is missing column\(s\) \['when'\]"):
        temporal_split(ratings, timestamp_col="when")
    na = ratings.astype({"item": float})
    na.iloc[3, na.columns.get_loc("item")] = np.nan
    with pytest.raises(ValueError, match=r"ratings: column 'item' has 1 missing values "
                                         r"\(first at row \d+\)"):
        random_split(na)


def test_cold_start_report_reads_movielens_names():
    train = pd.DataFrame({"userId": ["a", "b"], "movieId": ["x", "y"]})
    test = pd.DataFrame({"user": ["a", "c"], "item": ["z", "x"]})
    rep = cold_start_report(train, test)
    assert (rep.n_unknown_user, rep.n_unknown_item, rep.n_unknown) == (1, 1, 2)
    named = cold_start_report(train.rename(columns={"userId": "u"}),
                              test.rename(columns={"user": "u"}), user_col="u")
    assert (named.n_unknown_user, named.n_unknown_item, named.n_unknown) == (1, 1, 2)
    assert list(named.unknown_users) == ["c"] and list(named.unknown_items) == ["z"]
    with pytest.raises(ValueError, match=r"test is missing column\(s\) \['item'\]"):
        cold_start_report(train, test.drop(columns="item"))


@pytest.mark.parametrize("name, split", ALL_SPLITS)
def test_splits_of_click_data_are_those_of_the_ratings(ratings, name, split):
    """A frame without a rating column (who chose what) splits into the same rows."""
    clicks = ratings.drop(columns="rating")
    for rated, clicked in zip(split(ratings), split(clicks)):
        assert clicked.index.equals(rated.index)
        pd.testing.assert_frame_equal(clicked, rated.drop(columns="rating"))
    # MovieLens names, and only the two columns (no timestamp) where no time is needed
    if name not in ("temporal_split", "last_n_split"):
        pairs = clicks[["user", "item"]].rename(columns=ML_NAMES)
        for rated, clicked in zip(split(ratings), split(pairs)):
            assert clicked.index.equals(rated.index)
            assert list(clicked.columns) == ["userId", "movieId"]


@pytest.mark.parametrize("name, split", ALL_SPLITS)
def test_splits_of_counts_and_of_a_frame_that_is_neither(ratings, name, split):
    """Counts (a plays column) split like the ratings; a column that is neither a rating,
    a count nor a time (stars) is refused, not split as clicks."""
    plays = ratings.rename(columns={"rating": "plays"})
    for rated, counted in zip(split(ratings), split(plays)):
        assert counted.index.equals(rated.index)
        assert list(counted.columns) == ["user", "item", "plays", "timestamp"]
    with pytest.raises(MissingColumnError, match=r"^ratings: no rating column found: .*the "
                                                 r"frame has columns \['user', 'item', "
                                                 r"'stars', 'timestamp'\]"):
        split(ratings.rename(columns={"rating": "stars"}))


def test_a_time_column_named_by_the_caller_is_no_unknown_column(ratings):
    clicks = ratings.drop(columns="rating").rename(columns={"timestamp": "when"})
    for split in (temporal_split(clicks, timestamp_col="when"),
                  last_n_split(clicks, timestamp_col="when")):
        assert list(split.test.columns) == ["user", "item", "when"]
    with pytest.raises(MissingColumnError, match="no rating column found"):
        random_split(clicks)          # without its name, "when" is an unknown column

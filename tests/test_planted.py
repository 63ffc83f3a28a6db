"""make_planted: small tables with planted tastes, checked against dense references."""

import numpy as np
import pandas as pd
import pytest

from nmfrec.datasets import PLANTED_MEANS, PlantedTastes, make_planted


def _dense_likes(p: PlantedTastes) -> np.ndarray:
    """users x items: does the user like the item (a dense reference on a small set)."""
    genres = p.item_genres.to_numpy()
    member = genres[None, :] == np.arange(p.user_genres.shape[1])[:, None]  # genres x items
    return p.user_genres.to_numpy().astype(int) @ member.astype(int) > 0


def test_deterministic_by_seed():
    a = make_planted(50, 30, tilt=0.5, seed=3)
    b = make_planted(50, 30, tilt=0.5, seed=3)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_series_equal(a.item_genres, b.item_genres)
    pd.testing.assert_frame_equal(a.user_genres, b.user_genres)
    assert not a.data.equals(make_planted(50, 30, tilt=0.5, seed=4).data)


def test_ratings_table_shape_and_ranges():
    p = make_planted(120, 60, seed=0)
    df = p.data
    assert list(df.columns) == ["user", "item", "rating"]
    assert [str(t) for t in df.dtypes] == ["int64", "int64", "float64"]
    assert not df.duplicated(["user", "item"]).any()
    assert df.equals(df.sort_values(["user", "item"]).reset_index(drop=True))
    assert set(df["user"]) == set(range(1, 121)) and set(df["item"]) == set(range(1, 61))
    assert set(df["rating"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert p.feedback == "ratings"
    # density 0.2 of 60 items: about 12 ratings per user
    assert abs(df.groupby("user").size().mean() - 12) < 1


def test_clicks_are_the_rated_pairs_without_ratings():
    ratings = make_planted(80, 40, tilt=0.6, seed=1)
    clicks = make_planted(80, 40, tilt=0.6, seed=1, feedback="clicks")
    assert list(clicks.data.columns) == ["user", "item"] and clicks.feedback == "clicks"
    pd.testing.assert_frame_equal(clicks.data, ratings.data[["user", "item"]])


def test_genres_and_tastes():
    p = make_planted(200, 62, n_genres=5, liked_genres=2, seed=2)
    sizes = p.item_genres.value_counts()
    assert sorted(sizes.index) == list(range(5)) and sizes.max() - sizes.min() <= 1
    assert (p.user_genres.sum(axis=1) == 2).all()
    # every pair of genres is somebody's taste: the draw is not stuck on a few
    pairs = {tuple(np.flatnonzero(row)) for row in p.user_genres.to_numpy()}
    assert len(pairs) == 10


def test_likes_and_liked_items_equal_a_dense_reference():
    p = make_planted(40, 30, n_genres=3, liked_genres=1, seed=5)
    dense = _dense_likes(p)
    rng = np.random.default_rng(0)
    u, i = rng.integers(1, 41, 500), rng.integers(1, 31, 500)
    np.testing.assert_array_equal(p.likes(u, i), dense[u - 1, i - 1])
    np.testing.assert_array_equal(p.likes(pd.Series(u), pd.Series(i)), dense[u - 1, i - 1])
    for user in (1, 17, 40):
        np.testing.assert_array_equal(p.liked_items(user), np.flatnonzero(dense[user - 1]) + 1)


def test_tilt_raises_the_liked_share_of_rated_items():
    def share(tilt):
        p = make_planted(600, 80, n_genres=4, liked_genres=2, density=0.1, tilt=tilt, seed=0)
        return p.likes(p.data["user"], p.data["item"]).mean()

    # at random the rated items are liked as often as the catalogue's (2 genres of 4);
    # with weights 1 : (1 - tilt) about 1 / (1 + (1 - tilt)) of them are liked
    assert share(0.0) == pytest.approx(0.5, abs=0.02)
    assert share(0.5) == pytest.approx(1 / 1.5, abs=0.02)
    assert share(0.8) == pytest.approx(1 / 1.2, abs=0.02)
    assert share(0.95) > share(0.8) > share(0.5) > share(0.0)


def test_ratings_follow_tastes():
    p = make_planted(300, 50, noise=0.75, seed=1)
    df = p.data
    liked = p.likes(df["user"], df["item"])
    assert df["rating"][liked].mean() == pytest.approx(4.4, abs=0.1)  # 4.5, clipped at 5
    assert df["rating"][~liked].mean() == pytest.approx(2.0, abs=0.1)
    exact = make_planted(300, 50, noise=0, seed=1).data
    liked0 = make_planted(300, 50, noise=0, seed=1).likes(exact["user"], exact["item"])
    np.testing.assert_array_equal(exact["rating"], np.where(liked0, 5.0, 2.0))
    assert PLANTED_MEANS == (4.5, 2.0)


def test_every_item_appears_however_sparse():
    # 100 users rating ~1 item each of 300: most items are given to a user afterwards
    p = make_planted(100, 300, density=0.003, tilt=0.9, seed=0)
    assert set(p.data["item"]) == set(range(1, 301))
    assert set(p.data["user"]) == set(range(1, 101))
    assert not p.data.duplicated(["user", "item"]).any()
    # the items handed out follow tastes too
    assert p.likes(p.data["user"], p.data["item"]).mean() > 0.75


def test_density_one_rates_everything():
    p = make_planted(10, 8, density=1.0, seed=0)
    assert len(p.data) == 80


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_users": 0}, "n_users must be a positive integer; got 0"),
        ({"n_items": 2.5}, "n_items must be a positive integer; got 2.5"),
        ({"n_genres": 0}, "n_genres must be a positive integer"),
        ({"liked_genres": 5}, "liked_genres=5 is more than n_genres=4"),
        ({"n_items": 3}, "n_items=3 is less than n_genres=4"),
        ({"density": 0}, r"density must be a number in \(0, 1\]; got 0"),
        ({"density": 1.2}, r"density must be a number in \(0, 1\]; got 1.2"),
        ({"tilt": 1}, r"tilt must be a number in \[0, 1\); got 1"),
        ({"tilt": -0.1}, r"tilt must be a number in \[0, 1\)"),
        ({"tilt": "high"}, r"tilt must be a number in \[0, 1\); got 'high'"),
        ({"feedback": "implicit"}, "feedback must be one of \\('ratings', 'clicks'\\); got "
                                   "'implicit'"),
        ({"noise": -1}, "noise must be a number >= 0; got -1"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_planted(**kwargs)


def test_likes_errors():
    p = make_planted(10, 8, seed=0)
    with pytest.raises(KeyError, match="user 11 is not in the planted data"):
        p.likes([1, 11], [1, 2])
    with pytest.raises(KeyError, match="item 9 is not in the planted data"):
        p.likes([1, 2], [9, 2])
    with pytest.raises(ValueError, match="users and items must have the same length; got 2 "
                                         "and 1"):
        p.likes([1, 2], [1])
    with pytest.raises(KeyError, match="user 0 is not in the planted data"):
        p.liked_items(0)

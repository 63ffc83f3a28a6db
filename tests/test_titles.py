"""Items named by title: the same answers as by id, ids winning over titles, ambiguous
titles listing their items, unknown ones with close titles."""

import warnings

import numpy as np
import pandas as pd
import pytest

from nmfrec import Recommender
from nmfrec.datasets import load_movielens

pytestmark = pytest.mark.filterwarnings("ignore::nmfrec.exceptions.ConvergenceWarning")

QUICK = dict(n_components=2, n_samples=10, preference_components=3, max_iter=5,
             random_state=0)


def ratings(string_items, n_users=25, n_items=12, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < 0.5
    mask[:, 0] = mask[0, :] = True
    u, i = np.nonzero(mask)
    items = (np.array([f"s{x}" for x in range(n_items)], dtype=object)[i] if string_items
             else 100 + i)
    return pd.DataFrame({"user": u, "item": items, "rating": rng.integers(1, 6, u.size) * 1.0})


@pytest.fixture(scope="module", params=[False, True], ids=["int_ids", "str_ids"])
def titled(request):
    df = ratings(request.param)
    rec = Recommender(**QUICK).fit(df)
    ids = rec.items_.labels_
    titles = {x: f"Film {j} ({1990 + j})" for j, x in enumerate(ids)}
    titles[ids[3]] = titles[ids[4]] = "Twice (1999)"     # two items, one title
    if request.param:
        titles[ids[5]] = str(ids[6])                     # a title that spells another id
    rec.set_item_titles(titles)
    return rec, ids, titles


def test_an_item_by_title_answers_as_by_id(titled):
    rec, ids, titles = titled
    user = rec.users_.labels_[0]
    for item in (ids[0], ids[7], ids[-1]):
        title = titles[item]
        pd.testing.assert_frame_equal(rec.similar_items(title, k=4), rec.similar_items(item, k=4))
        pd.testing.assert_frame_equal(rec.explain(user, title), rec.explain(user, item))
        assert rec.predict(user, title) == rec.predict(user, item)
    pairs = pd.DataFrame({"user": [user] * 3, "item": [titles[ids[0]], ids[1], titles[ids[2]]]},
                         dtype=object)
    np.testing.assert_array_equal(rec.predict(pairs), rec.predict([user] * 3, list(ids[:3])))
    by_title = {titles[ids[0]]: 5.0, ids[1]: 1.0, titles[ids[2]]: 4.0}
    by_id = {ids[0]: 5.0, ids[1]: 1.0, ids[2]: 4.0}
    pd.testing.assert_frame_equal(rec.recommend_new(by_title, k=4), rec.recommend_new(by_id, k=4))
    np.testing.assert_array_equal(rec.fold_in(pd.Series(by_title)), rec.fold_in(pd.Series(by_id)))


def test_an_id_wins_over_a_title_that_spells_it(titled):
    rec, ids, titles = titled
    if rec.items_.is_integer:
        pytest.skip("a string is never an integer id")
    spelled = str(ids[6])                   # the id of item 6 and the title of item 5
    assert titles[ids[5]] == spelled
    pd.testing.assert_frame_equal(rec.similar_items(spelled, k=3), rec.similar_items(ids[6], k=3))
    user = rec.users_.labels_[1]
    assert rec.predict(user, spelled) == rec.predict(user, ids[6])
    assert rec.predict(user, spelled) != rec.predict(user, ids[5])


def test_a_title_of_several_items_is_ambiguous(titled):
    rec, ids, _ = titled
    shown = ", ".join(repr(x.item() if hasattr(x, "item") else x) for x in ids[3:5])
    msg = rf"title 'Twice \(1999\)' names 2 items \(item ids {shown}\); ask for the one"
    user = rec.users_.labels_[0]
    for call in (lambda: rec.similar_items("Twice (1999)"),
                 lambda: rec.explain(user, "Twice (1999)"),
                 lambda: rec.predict(user, "Twice (1999)"),            # even where unknown is NaN
                 lambda: rec.recommend_new({"Twice (1999)": 4.0})):
        with pytest.raises(KeyError, match=msg):
            call()


def test_an_unknown_string_is_unknown_with_close_titles(titled):
    rec, ids, titles = titled
    close = titles[ids[7]]                                  # "Film 7 (1997)"
    wrong = close.replace("Film", "Flim")
    with pytest.raises(KeyError, match=rf"item '{wrong[:4]}.*is not in the training data.*; nor "
                                       rf"is it an item's title \(close ones: '{close[:6]}"):
        rec.similar_items(wrong)
    with pytest.raises(KeyError, match=r"nor is it an item's title.*item factors are fixed"):
        rec.recommend_new({wrong: 4.0})
    with pytest.raises(KeyError, match=r"'zzz' is not in the training data.*nor is it an "
                                       r"item's title\W*$"):
        rec.explain(rec.users_.labels_[0], "zzz")
    user = rec.users_.labels_[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # the kind warning, for integer ids
        assert np.isnan(rec.predict(user, wrong))
    with pytest.raises(KeyError, match="nor is it an item's title"):
        rec.predict(user, wrong, unknown="raise")


def test_new_titles_are_looked_up_anew(titled):
    rec, ids, titles = titled
    rec.similar_items(titles[ids[0]])
    renamed = Recommender(**QUICK).fit(ratings(rec.items_.is_integer is False))
    renamed.set_item_titles({ids[0]: "Old"})
    assert renamed.similar_items("Old", k=1)["item"].tolist() == \
        renamed.similar_items(ids[0], k=1)["item"].tolist()
    renamed.set_item_titles({ids[0]: "New"})
    with pytest.raises(KeyError, match="'Old' is not in the training data"):
        renamed.similar_items("Old")
    renamed.similar_items("New")


def test_without_titles_a_string_is_just_an_unknown_id():
    rec = Recommender(**QUICK).fit(ratings(False))
    with pytest.raises(KeyError, match=r"item 'Film 1' is not in the training data, whose item "
                                       r"ids are integers \(e\.g\. 100, 101\)\W*$"):
        rec.similar_items("Film 1")


def test_movielens_titles(movielens_home):
    ml = load_movielens("ml-100k", data_home=movielens_home)
    rec = Recommender(**QUICK).fit(ml.ratings, item_titles=ml.items["title"])
    star_wars = rec.similar_items("Star Wars (1977)", k=5)
    pd.testing.assert_frame_equal(star_wars, rec.similar_items(50, k=5))
    # ml-100k lists Chasing Amy twice, under ids 246 and 268
    with pytest.raises(KeyError, match=r"'Chasing Amy \(1997\)' names 2 items \(item ids 246, 268\)"):
        rec.similar_items("Chasing Amy (1997)")
    with pytest.raises(KeyError, match=r"close ones: 'Star Wars \(1977\)' \(item 50\)"):
        rec.similar_items("Star Wars")

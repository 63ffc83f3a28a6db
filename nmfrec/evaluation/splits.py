"""Seeded, leak-free train/test splits of a ratings DataFrame.

Every splitter takes a frame with one row per (user, item) pair and a user, an item and a
rating column (and a timestamp column for the temporal ones), or click data: the same
with a count column (``plays``, ...) or only the user and item columns instead (told
apart by :func:`nmfrec.ratings.feedback_columns`; a frame with another column, such as
``stars``, but no rating or count column is refused). The columns are recognised
by the names ``Recommender.fit`` recognises (``user``, ``userId``, ``user_id``, ...;
``item``, ``movieId``, ``item_id``, ...; ``rating``, ...) or named with ``user_col=``,
``item_col=``, ``rating_col=``. Each splitter returns a :class:`Split`, a ``(train, test)``
named tuple, so ``train, test = random_split(df)`` works. Both frames keep the input's
columns (with their names), index and row order; each input row lands in exactly one of
them, so no (user, item) pair is ever in both. A polars DataFrame or a pyarrow Table is
split as the pandas frame its library converts it to.

Randomness comes from one ``numpy.random.Generator`` made by
``np.random.default_rng(random_state)``: the same ``random_state`` gives the same split.

Test rows whose user or item never occurs in train (cold start) are kept, never
dropped; :func:`cold_start_report` (also ``split.cold_start()``) counts them so that the
caller decides what to do with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

import numpy as np
import pandas as pd

from .._validation import (as_frame, check_frame, check_int, check_no_missing,
                           check_positive_int, check_unique_pairs, show)
from ._frames import feedback_frame_columns, frame_columns

if TYPE_CHECKING:
    from .._typing import Frame, Seed

__all__ = [
    "Split",
    "ColdStartReport",
    "cold_start_report",
    "random_split",
    "user_split",
    "temporal_split",
    "last_n_split",
    "kfold",
    "user_kfold",
]


@dataclass(frozen=True)
class ColdStartReport:
    """How much of a test set a model trained on ``train`` cannot know.

    Attributes
    ----------
    n_test : int
        Test rows.
    n_unknown_user : int
        Test rows whose user has no train rating.
    n_unknown_item : int
        Test rows whose item has no train rating.
    n_unknown : int
        Test rows with an unknown user or an unknown item (or both).
    unknown_users, unknown_items : ndarray
        The distinct unknown labels, sorted.
    """

    n_test: int
    n_unknown_user: int
    n_unknown_item: int
    n_unknown: int
    unknown_users: np.ndarray
    unknown_items: np.ndarray

    def __str__(self) -> str:
        return (
            f"{self.n_unknown} of {self.n_test} test ratings are cold "
            f"({self.n_unknown_user} with an unknown user: {self.unknown_users.size} "
            f"users; {self.n_unknown_item} with an unknown item: "
            f"{self.unknown_items.size} items)"
        )


def cold_start_report(train: Frame, test: Frame, *, user_col: str | None = None,
                      item_col: str | None = None) -> ColdStartReport:
    """Count the test rows whose user or item does not occur in ``train``.

    Parameters
    ----------
    train, test : DataFrame
        Frames with a user and an item column (either may be empty).
    user_col, item_col : str, optional
        Column names in both frames; by default the usual names are recognised (``user``,
        ``userId``, ...; ``item``, ``movieId``, ...), each frame on its own.

    Returns
    -------
    ColdStartReport
    """
    kw = dict(roles=("user", "item"), user_col=user_col, item_col=item_col, allow_empty=True)
    train, test = as_frame(train, "train"), as_frame(test, "test")
    tr = frame_columns(train, "train", **kw)
    te = frame_columns(test, "test", **kw)
    u_test, i_test = test[te["user"]], test[te["item"]]
    u_bad = ~u_test.isin(pd.unique(train[tr["user"]])).to_numpy()
    i_bad = ~i_test.isin(pd.unique(train[tr["item"]])).to_numpy()
    return ColdStartReport(
        n_test=len(test),
        n_unknown_user=int(u_bad.sum()),
        n_unknown_item=int(i_bad.sum()),
        n_unknown=int((u_bad | i_bad).sum()),
        unknown_users=np.sort(pd.unique(u_test.to_numpy()[u_bad])),
        unknown_items=np.sort(pd.unique(i_test.to_numpy()[i_bad])),
    )


class Split(NamedTuple):
    """A train/test pair; unpacks as ``train, test``."""

    train: pd.DataFrame
    test: pd.DataFrame

    def cold_start(self) -> ColdStartReport:
        """:func:`cold_start_report` of this split, its columns found by their usual
        names (call :func:`cold_start_report` with ``user_col``/``item_col`` for
        others)."""
        return cold_start_report(self.train, self.test)


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _check_ratings(df, user_col=None, item_col=None, rating_col=None, timestamp_col=None,
                   why="which would leak between train and test"):
    """Resolve and check the columns of a frame to split; return the frame (a pandas
    one, see :func:`nmfrec._validation.as_frame`) and role -> column name.

    With ``timestamp_col`` the frame must also have that column (key ``"timestamp"``).
    """
    df = as_frame(df, "ratings")
    cols, _ = feedback_frame_columns(df, "ratings", user_col=user_col, item_col=item_col,
                                     rating_col=rating_col, time_col=timestamp_col)
    if timestamp_col is not None:
        check_frame(df, "ratings", (timestamp_col,))
        cols["timestamp"] = timestamp_col
    check_no_missing(df, [c for role, c in cols.items() if role not in ("rating", "count")])
    check_unique_pairs(df, cols["user"], cols["item"], why=why)
    return df, cols


def _rng(random_state):
    return np.random.default_rng(random_state)


def _n_from_size(test_size, n, name="test_size"):
    """Number of test rows from a fraction in (0, 1) or an absolute count."""
    if isinstance(test_size, bool):
        raise TypeError(f"{name} must be a float in (0, 1) or an int; got {test_size!r}.")
    if isinstance(test_size, Integral):
        if not 0 < test_size < n:
            raise ValueError(f"{name} as a count must be in [1, {n - 1}]; got {test_size}.")
        return int(test_size)
    if isinstance(test_size, Real):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"{name} must be in (0, 1); got {test_size}.")
        return int(round(test_size * n))
    raise TypeError(f"{name} must be a float in (0, 1) or an int; got {test_size!r}.")


def _from_mask(df, test_mask):
    return Split(df.loc[~test_mask], df.loc[test_mask])


def _user_codes(df, user_col):
    codes, _ = pd.factorize(df[user_col], sort=False)
    return codes.astype(np.int64)


# --------------------------------------------------------------------------------------
# splitters
# --------------------------------------------------------------------------------------


def random_split(df: Frame, test_size: float = 0.2, random_state: Seed = None, *,
                 user_col: str | None = None, item_col: str | None = None,
                 rating_col: str | None = None) -> Split:
    """Random holdout: a uniformly random ``test_size`` share of the rows is the test set.

    Parameters
    ----------
    df : DataFrame
        Ratings with a user, an item and a rating column (click data: no rating
        column) and unique (user, item) pairs.
    test_size : float in (0, 1) or int, default 0.2
        Fraction of rows (rounded to the nearest row) or number of rows to hold out.
    random_state : None, int or numpy.random.Generator
        Seed of the shuffle; the same value gives the same split.
    user_col, item_col, rating_col : str, optional
        Column names; by default the usual names are recognised (``user``, ``userId``,
        ``user_id``, ...; ``item``, ``movieId``, ``item_id``, ...; ``rating``, ...).

    Returns
    -------
    Split
        Users or items may end up only in test; see :func:`cold_start_report`.
    """
    df, _ = _check_ratings(df, user_col, item_col, rating_col)
    n = len(df)
    n_test = _n_from_size(test_size, n)
    mask = np.zeros(n, dtype=bool)
    mask[_rng(random_state).permutation(n)[:n_test]] = True
    return _from_mask(df, mask)


def user_split(df: Frame, test_size: float = 0.2, n_test: int | None = None,
               random_state: Seed = None, *, user_col: str | None = None,
               item_col: str | None = None, rating_col: str | None = None) -> Split:
    """Per-user holdout: each user holds out a random share (or number) of ratings.

    A user with ``c`` ratings holds out ``min(round(test_size·c), c − 1)`` ratings, or
    ``min(n_test, c − 1)`` with ``n_test`` given (leave-n-out), so every user keeps at
    least one training rating; a user with a single rating is all train.

    Parameters
    ----------
    df : DataFrame
        Ratings with a user, an item and a rating column (click data: no rating
        column) and unique (user, item) pairs.
    test_size : float in (0, 1), default 0.2
        Share of each user's ratings to hold out; ignored when ``n_test`` is given.
    n_test : int, optional
        Number of ratings to hold out per user.
    random_state : None, int or numpy.random.Generator
        Seed of the per-user shuffles; the same value gives the same split.
    user_col, item_col, rating_col : str, optional
        Column names; by default the usual names are recognised (``user``, ``userId``,
        ``user_id``, ...; ``item``, ``movieId``, ``item_id``, ...; ``rating``, ...).

    Returns
    -------
    Split
        Every test user occurs in train; items may not (see :func:`cold_start_report`).
    """
    df, cols = _check_ratings(df, user_col, item_col, rating_col)
    users = _user_codes(df, cols["user"])
    counts = np.bincount(users)
    if n_test is not None:
        hold = np.minimum(check_positive_int(n_test, "n_test"), counts - 1)
    else:
        if isinstance(test_size, bool) or not isinstance(test_size, Real) or not (
            0.0 < test_size < 1.0
        ):
            raise ValueError(f"test_size must be in (0, 1); got {test_size!r}.")
        hold = np.minimum(np.round(test_size * counts).astype(np.int64), counts - 1)
    rank = _rank_within(users, _rng(random_state).random(len(df)))
    return _from_mask(df, rank < hold[users])


def _rank_within(groups, keys=None, order=None):
    """0-based rank of each row inside its group.

    Rows are ordered by ``keys`` within each group (stable), or by ``order``, a
    permutation that sorts the rows by group first.
    """
    if order is None:
        order = np.lexsort((keys, groups))
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, g.size])
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = np.arange(groups.size) - np.repeat(starts, sizes)
    return rank


def temporal_split(df: Frame, test_size: float = 0.2, before: Any = None, *,
                   user_col: str | None = None, item_col: str | None = None,
                   rating_col: str | None = None, timestamp_col: str = "timestamp") -> Split:
    """Global temporal cut: train is everything before a time, test everything after.

    With ``before``, train holds the rows with ``timestamp < before`` and test the rest.
    Otherwise the cut is the timestamp ``t`` of the row at sorted position
    ``n − round(test_size·n)``, and test holds every row with ``timestamp ≥ t``: rows
    sharing the cut timestamp all go to test, so the test share can be slightly above
    ``test_size`` but no rating of the test period is ever trained on.

    Parameters
    ----------
    df : DataFrame
        Ratings with a user, an item, a rating (none for click data) and a timestamp
        column and unique (user, item) pairs.
    test_size : float in (0, 1) or int, default 0.2
        Fraction of rows (rounded to the nearest row) or number of rows after the cut.
    before : scalar comparable with the timestamps, optional
        The cut; overrides ``test_size``.
    user_col, item_col, rating_col : str, optional
        Column names; by default the usual names are recognised (``user``, ``userId``,
        ``user_id``, ...; ``item``, ``movieId``, ``item_id``, ...; ``rating``, ...).
    timestamp_col : str, default "timestamp"
        The timestamp column (any ordered type: numbers, datetimes).

    Returns
    -------
    Split
        Users and items may occur only in test; see :func:`cold_start_report`.
    """
    df, cols = _check_ratings(df, user_col, item_col, rating_col, timestamp_col)
    ts = df[cols["timestamp"]].to_numpy()
    if before is None:
        n_test = _n_from_size(test_size, len(df))
        cut = np.sort(ts, kind="stable")[len(df) - n_test]
    else:
        cut = before
    mask = ts >= cut
    if mask.all() or not mask.any():
        raise ValueError(
            f"temporal cut at {show(cut)} leaves {'train' if mask.all() else 'test'} empty "
            f"(timestamps range from {show(ts.min())} to {show(ts.max())})."
        )
    return _from_mask(df, mask)


def last_n_split(df: Frame, n: int = 1, *, user_col: str | None = None,
                 item_col: str | None = None, rating_col: str | None = None,
                 timestamp_col: str = "timestamp") -> Split:
    """Per-user temporal holdout: each user's ``n`` most recent ratings are the test set.

    Order is by timestamp; ties are broken deterministically by item label and then by
    row position (the later item label / later row counts as more recent). A user with
    ``c ≤ n`` ratings holds out only ``c − 1``, so every user keeps a training rating.

    Parameters
    ----------
    df : DataFrame
        Ratings with a user, an item, a rating (none for click data) and a timestamp
        column and unique (user, item) pairs.
    n : int, default 1
        Number of most recent ratings each user holds out.
    user_col, item_col, rating_col : str, optional
        Column names; by default the usual names are recognised (``user``, ``userId``,
        ``user_id``, ...; ``item``, ``movieId``, ``item_id``, ...; ``rating``, ...).
    timestamp_col : str, default "timestamp"
        The timestamp column (any ordered type: numbers, datetimes).

    Returns
    -------
    Split
    """
    n = check_positive_int(n, "n")
    df, cols = _check_ratings(df, user_col, item_col, rating_col, timestamp_col)
    users = _user_codes(df, cols["user"])
    counts = np.bincount(users)
    items, _ = pd.factorize(df[cols["item"]], sort=True)
    ts_rank, _ = pd.factorize(df[cols["timestamp"]], sort=True)
    # Sort key, most recent first: negate (timestamp, item, position).
    order = np.lexsort((-np.arange(len(df)), -items, -ts_rank, users))
    hold = np.minimum(n, counts - 1)
    return _from_mask(df, _rank_within(users, order=order) < hold[users])


def kfold(df: Frame, n_splits: int = 5, random_state: Seed = None, *,
          user_col: str | None = None, item_col: str | None = None,
          rating_col: str | None = None) -> Iterator[Split]:
    """K-fold cross-validation over ratings.

    Rows are shuffled once and cut into ``n_splits`` folds whose sizes differ by at most
    one; fold ``f`` is the test set of the ``f``-th split and the other folds its train
    set, so every rating is in exactly one test set.

    Parameters
    ----------
    df : DataFrame
        Ratings with a user, an item and a rating column (click data: no rating
        column) and unique (user, item) pairs.
    n_splits : int ≥ 2, default 5
        Number of folds.
    random_state : None, int or numpy.random.Generator
        Seed of the shuffle; the same value gives the same folds.
    user_col, item_col, rating_col : str, optional
        Column names; by default the usual names are recognised (``user``, ``userId``,
        ``user_id``, ...; ``item``, ``movieId``, ``item_id``, ...; ``rating``, ...).

    Yields
    ------
    Split
    """
    n_splits = check_int(n_splits, "n_splits", 2)
    df, _ = _check_ratings(df, user_col, item_col, rating_col)
    n = len(df)
    if n_splits > n:
        raise ValueError(f"n_splits={n_splits} is more than the {n} ratings.")
    fold = np.empty(n, dtype=np.int64)
    for f, chunk in enumerate(np.array_split(_rng(random_state).permutation(n), n_splits)):
        fold[chunk] = f
    # A generator would validate lazily; return an iterator over precomputed folds.
    return (_from_mask(df, fold == f) for f in range(n_splits))


def user_kfold(ratings: Frame, n_splits: int = 3, random_state: Seed = None, *,
               user_col: str | None = None, item_col: str | None = None,
               rating_col: str | None = None) -> list[Split]:

    """Per-user k-fold split: each user's ratings are dealt into ``n_splits`` folds.

    Each user's ratings are shuffled and dealt round-robin into the folds, starting at
    a random fold, so every fold holds about ``1/n_splits`` of every user's ratings and
    of all ratings. A user with a single rating is never held out. Hence every user of a
    test set keeps at least one training rating (the model can predict for every test
    user), and every rating of a user with two or more ratings is in exactly one test
    set. Items may occur in a test set only (they are cold for that fold; see
    :func:`cold_start_report`).

    Parameters
    ----------
    ratings : DataFrame
        Ratings with a user, an item and a rating column (click data: no rating
        column) and unique (user, item) pairs.
    n_splits : int >= 2, default 3
        Number of folds.
    random_state : None, int or numpy.random.Generator
        Seed of the shuffles and of each user's first fold; the same value gives the
        same folds.
    user_col, item_col, rating_col : str, optional
        Column names; by default the usual names are recognised (``user``, ``userId``,
        ``user_id``, ...; ``item``, ``movieId``, ``item_id``, ...; ``rating``, ...).

    Returns
    -------
    list of Split
        ``n_splits`` (train, test) pairs; both frames keep the input's columns, index and
        row order.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3], "item": [1, 2, 3, 1, 2, 3],
    ...                    "rating": [5.0, 3.0, 4.0, 2.0, 1.0, 4.0]})
    >>> folds = user_kfold(df, n_splits=2, random_state=0)
    >>> sorted(len(test) for train, test in folds)   # user 3 has one rating: never held out
    [2, 3]
    >>> all(set(test.user) <= set(train.user) for train, test in folds)
    True
    """
    n_splits = check_int(n_splits, "n_splits", 2)
    ratings, cols = _check_ratings(ratings, user_col, item_col, rating_col,
                                   why="which would leak between folds")
    rng = _rng(random_state)
    users = _user_codes(ratings, cols["user"])
    counts = np.bincount(users)
    # rank of each rating within its user, in a random order
    within = _rank_within(users, rng.random(len(ratings)))
    # a random first fold per user balances the folds when users have few ratings
    offset = rng.integers(0, n_splits, size=counts.size)
    fold = (within + offset[users]) % n_splits
    fold[counts[users] < 2] = -1        # never held out
    return [_from_mask(ratings, fold == f) for f in range(n_splits)]

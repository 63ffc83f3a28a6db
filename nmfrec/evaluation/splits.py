"""Seeded, leak-free train/test splits of a ratings DataFrame.

Every splitter takes a frame with columns ``user``, ``item``, ``rating`` (and
``timestamp`` for the temporal ones), one row per (user, item) pair, and returns a
:class:`Split` — a ``(train, test)`` named tuple, so ``train, test = random_split(df)``
works. Both frames keep the input's columns, index and row order; each input row lands in
exactly one of them, so no (user, item) pair is ever in both.

Randomness comes from one ``numpy.random.Generator`` made by
``np.random.default_rng(random_state)``: the same ``random_state`` gives the same split.

Test rows whose user or item never occurs in train (cold start) are kept, never
dropped; :func:`cold_start_report` (also ``split.cold_start()``) counts them so that the
caller decides what to do with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import Iterator, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "Split",
    "ColdStartReport",
    "cold_start_report",
    "random_split",
    "user_split",
    "temporal_split",
    "last_n_split",
    "kfold",
]

REQUIRED = ("user", "item", "rating")


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


def cold_start_report(train: pd.DataFrame, test: pd.DataFrame) -> ColdStartReport:
    """Count the test rows whose user or item does not occur in ``train``.

    Parameters
    ----------
    train, test : DataFrame
        Frames with ``user`` and ``item`` columns.

    Returns
    -------
    ColdStartReport
    """
    for name, frame in (("train", train), ("test", test)):
        _check_columns(frame, ("user", "item"), name)
    u_bad = ~test["user"].isin(pd.unique(train["user"])).to_numpy()
    i_bad = ~test["item"].isin(pd.unique(train["item"])).to_numpy()
    return ColdStartReport(
        n_test=len(test),
        n_unknown_user=int(u_bad.sum()),
        n_unknown_item=int(i_bad.sum()),
        n_unknown=int((u_bad | i_bad).sum()),
        unknown_users=np.sort(pd.unique(test["user"].to_numpy()[u_bad])),
        unknown_items=np.sort(pd.unique(test["item"].to_numpy()[i_bad])),
    )


class Split(NamedTuple):
    """A train/test pair; unpacks as ``train, test``."""

    train: pd.DataFrame
    test: pd.DataFrame

    def cold_start(self) -> ColdStartReport:
        """:func:`cold_start_report` of this split."""
        return cold_start_report(self.train, self.test)


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------


def _check_columns(df, columns, name="ratings"):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; it has {list(df.columns)}."
        )


def _check_ratings(df, need_timestamp=False):
    cols = REQUIRED + (("timestamp",) if need_timestamp else ())
    _check_columns(df, cols)
    if len(df) == 0:
        raise ValueError("ratings is empty; nothing to split.")
    for col in ("user", "item") + (("timestamp",) if need_timestamp else ()):
        n_na = int(df[col].isna().sum())
        if n_na:
            row = df.index[df[col].isna().to_numpy()][0]
            raise ValueError(f"column {col!r} has {n_na} missing values (first at row {row!r}).")
    dup = df.duplicated(["user", "item"], keep="first").to_numpy()
    if dup.any():
        row = df.loc[dup].iloc[0]
        raise ValueError(
            f"ratings has {int(dup.sum())} duplicate (user, item) pairs, which would "
            f"leak between train and test (e.g. user={row['user']!r}, "
            f"item={row['item']!r}); aggregate them first."
        )


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


def _user_codes(df):
    codes, _ = pd.factorize(df["user"], sort=False)
    return codes.astype(np.int64)


# --------------------------------------------------------------------------------------
# splitters
# --------------------------------------------------------------------------------------


def random_split(df, test_size=0.2, random_state=None) -> Split:
    """Random holdout: a uniformly random ``test_size`` share of the rows is the test set.

    Parameters
    ----------
    df : DataFrame
        Ratings with ``user``, ``item``, ``rating`` columns and unique (user, item) pairs.
    test_size : float in (0, 1) or int, default 0.2
        Fraction of rows (rounded to the nearest row) or number of rows to hold out.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Split
        Users or items may end up only in test; see :func:`cold_start_report`.
    """
    _check_ratings(df)
    n = len(df)
    n_test = _n_from_size(test_size, n)
    mask = np.zeros(n, dtype=bool)
    mask[_rng(random_state).permutation(n)[:n_test]] = True
    return _from_mask(df, mask)


def user_split(df, test_size=0.2, n_test=None, random_state=None) -> Split:
    """Per-user holdout: each user holds out a random share (or number) of ratings.

    A user with ``c`` ratings holds out ``min(round(test_size·c), c − 1)`` ratings, or
    ``min(n_test, c − 1)`` with ``n_test`` given (leave-n-out), so every user keeps at
    least one training rating; a user with a single rating is all train.

    Parameters
    ----------
    df : DataFrame
        Ratings with ``user``, ``item``, ``rating`` columns and unique (user, item) pairs.
    test_size : float in (0, 1), default 0.2
        Share of each user's ratings to hold out; ignored when ``n_test`` is given.
    n_test : int, optional
        Number of ratings to hold out per user.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    Split
        Every test user occurs in train; items may not (see :func:`cold_start_report`).
    """
    _check_ratings(df)
    users = _user_codes(df)
    counts = np.bincount(users)
    if n_test is not None:
        if isinstance(n_test, bool) or not isinstance(n_test, Integral) or n_test < 1:
            raise ValueError(f"n_test must be a positive integer; got {n_test!r}.")
        hold = np.minimum(int(n_test), counts - 1)
    else:
        if isinstance(test_size, bool) or not isinstance(test_size, Real) or not (
            0.0 < test_size < 1.0
        ):
            raise ValueError(f"test_size must be in (0, 1); got {test_size!r}.")
        hold = np.minimum(np.round(test_size * counts).astype(np.int64), counts - 1)
    rank = _rank_within(users, _rng(random_state).random(len(df)))
    return _from_mask(df, rank < hold[users])


def _rank_within(groups, keys):
    """0-based rank of each row inside its group, ordered by ``keys`` (stable)."""
    order = np.lexsort((keys, groups))
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, g.size])
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = np.arange(groups.size) - np.repeat(starts, sizes)
    return rank


def temporal_split(df, test_size=0.2, before=None) -> Split:
    """Global temporal cut: train is everything before a time, test everything after.

    With ``before``, train holds the rows with ``timestamp < before`` and test the rest.
    Otherwise the cut is the timestamp ``t`` of the row at sorted position
    ``n − round(test_size·n)``, and test holds every row with ``timestamp ≥ t``: rows
    sharing the cut timestamp all go to test, so the test share can be slightly above
    ``test_size`` but no rating of the test period is ever trained on.

    Parameters
    ----------
    df : DataFrame
        Ratings with ``user``, ``item``, ``rating``, ``timestamp`` columns.
    test_size : float in (0, 1) or int, default 0.2
    before : scalar comparable with ``timestamp``, optional
        The cut; overrides ``test_size``.

    Returns
    -------
    Split
        Users and items may occur only in test; see :func:`cold_start_report`.
    """
    _check_ratings(df, need_timestamp=True)
    ts = df["timestamp"].to_numpy()
    if before is None:
        n_test = _n_from_size(test_size, len(df))
        cut = np.sort(ts, kind="stable")[len(df) - n_test]
    else:
        cut = before
    mask = ts >= cut
    if mask.all() or not mask.any():
        raise ValueError(
            f"temporal cut at {cut!r} leaves {'train' if mask.all() else 'test'} empty "
            f"(timestamps range from {ts.min()!r} to {ts.max()!r})."
        )
    return _from_mask(df, mask)


def last_n_split(df, n=1) -> Split:
    """Per-user temporal holdout: each user's ``n`` most recent ratings are the test set.

    Order is by ``timestamp``; ties are broken deterministically by ``item`` and then by
    row position (the later item label / later row counts as more recent). A user with
    ``c ≤ n`` ratings holds out only ``c − 1``, so every user keeps a training rating.

    Parameters
    ----------
    df : DataFrame
        Ratings with ``user``, ``item``, ``rating``, ``timestamp`` columns.
    n : int, default 1

    Returns
    -------
    Split
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    _check_ratings(df, need_timestamp=True)
    users = _user_codes(df)
    counts = np.bincount(users)
    items, _ = pd.factorize(df["item"], sort=True)
    ts_rank, _ = pd.factorize(df["timestamp"], sort=True)
    # Sort key, most recent first: negate (timestamp, item, position).
    order = np.lexsort((-np.arange(len(df)), -items, -ts_rank, users))
    g = users[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    rank = np.empty(len(df), dtype=np.int64)
    rank[order] = np.arange(len(df)) - np.repeat(starts, np.diff(np.r_[starts, g.size]))
    hold = np.minimum(int(n), counts - 1)
    return _from_mask(df, rank < hold[users])


def kfold(df, n_splits=5, random_state=None) -> Iterator[Split]:
    """K-fold cross-validation over ratings.

    Rows are shuffled once and cut into ``n_splits`` folds whose sizes differ by at most
    one; fold ``f`` is the test set of the ``f``-th split and the other folds its train
    set, so every rating is in exactly one test set.

    Parameters
    ----------
    df : DataFrame
        Ratings with ``user``, ``item``, ``rating`` columns and unique (user, item) pairs.
    n_splits : int ≥ 2, default 5
    random_state : None, int or numpy.random.Generator

    Yields
    ------
    Split
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, Integral) or n_splits < 2:
        raise ValueError(f"n_splits must be an integer >= 2; got {n_splits!r}.")
    _check_ratings(df)
    n = len(df)
    if n_splits > n:
        raise ValueError(f"n_splits={n_splits} is more than the {n} ratings.")
    fold = np.empty(n, dtype=np.int64)
    for f, chunk in enumerate(np.array_split(_rng(random_state).permutation(n), n_splits)):
        fold[chunk] = f
    # A generator would validate lazily; return an iterator over precomputed folds.
    return (_from_mask(df, fold == f) for f in range(n_splits))

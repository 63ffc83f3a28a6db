"""Two reference models that satisfy the evaluation contract.

They give the floor every real model must beat (a global-mean predictor for ratings, a
popularity ranker for top-k lists) and let the protocols be tested without the engine.
Like ``Recommender.fit``, they recognise the usual column names (``user``/``userId``,
``item``/``movieId``, ``rating``, ...) or take them as ``user_col=``, ``item_col=``,
``rating_col=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._validation import as_frame, check_fitted, check_frame, check_positive_int, show
from ._frames import RATINGS_ROLES, feedback_frame_columns, frame_columns

if TYPE_CHECKING:
    from typing_extensions import Self

    from .._typing import FloatArray, Frame, Label, Labels

__all__ = ["GlobalMean", "Popularity"]


class GlobalMean:
    """Predicts the mean training rating for every (user, item) pair.

    A rating predictor only: it has no ``recommend``, so evaluate it with
    ``protocols=("rating",)``.

    Attributes
    ----------
    mean_ : float
        Mean of the training ratings.
    predicts_ratings : bool
        True: ``predict`` returns ratings (the convention read by
        :func:`nmfrec.evaluation.predicts_ratings`).
    """

    predicts_ratings = True

    def fit(self, ratings: Frame, rating_col: str | None = None) -> Self:
        """Learn the mean rating.

        Parameters
        ----------
        ratings : pandas.DataFrame, polars.DataFrame or pyarrow.Table
            One rating per row, in a column named as ``Recommender.fit`` recognises it
            (``rating``, ...) or given by ``rating_col``; the user and item columns are
            not read.
        rating_col : str, optional
            Name of the rating column.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            ``ratings`` is not a DataFrame.
        MissingColumnError
            No rating column (a ``KeyError`` and a ``ValueError``).
        ValueError
            No rows.
        """
        ratings = as_frame(ratings, "GlobalMean.fit: ratings")
        rcol = frame_columns(ratings, "GlobalMean.fit: ratings", ("rating",),
                             rating_col=rating_col)["rating"]
        self.mean_ = float(ratings[rcol].mean())
        return self

    def predict(self, pairs: Frame) -> FloatArray:
        """The training mean, once per row of ``pairs``.

        Parameters
        ----------
        pairs : pandas.DataFrame, polars.DataFrame or pyarrow.Table
            The (user, item) pairs to predict; only their number matters.

        Returns
        -------
        ndarray of float64, shape (len(pairs),)

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        TypeError
            ``pairs`` is not a DataFrame.
        """
        check_fitted(self, "mean_", "predict")
        pairs = check_frame(pairs, "GlobalMean.predict: pairs", allow_empty=True)
        return np.full(len(pairs), self.mean_)


class Popularity:
    """Recommends the most-rated training items a user has not rated yet.

    Ranking: items ordered by training count, most first, ties by item label. Rating
    prediction (so that both protocols run): the item's damped mean
    ``(Σ_u x_ui + damping·μ) / (n_i + damping)`` with ``μ`` the global mean, and ``μ``
    for items absent from training. Neither depends on the user, so a user absent from
    training still gets item means from :meth:`predict` (but :meth:`recommend` raises:
    it cannot know which items such a user has seen).

    Fitted on click data (a frame without a rating column: interaction counts or clicks,
    see :func:`nmfrec.ratings.feedback_columns`), it ranks the same way, by the number
    of users who chose each item, and :meth:`predict` gives that number, a score rather
    than a rating (``predicts_ratings`` is then False).

    Parameters
    ----------
    damping : float, default 5.0
        Pseudo-count pulling rarely rated items towards the global mean.

    Attributes
    ----------
    mean_ : float
        Mean of the training ratings (NaN for click data).
    item_mean_ : pandas.Series
        Damped mean rating of each training item (index: item label); for click data,
        its training count.
    ranked_items_, ranked_scores_ : ndarray
        Training items, most rated first, and their rating counts.
    columns_ : tuple of str
        The (user, item, rating) column names used by ``fit`` (user and item for click
        data).
    predicts_ratings : bool
        Whether ``predict`` returns ratings (the convention read by
        :func:`nmfrec.evaluation.predicts_ratings`): True, and False once fitted on
        click data.
    """

    def __init__(self, damping: float = 5.0) -> None:
        self.damping = damping

    @property
    def predicts_ratings(self) -> bool:
        """Whether ``predict`` returns ratings: False once fitted on click data."""
        return len(getattr(self, "columns_", ("user", "item", "rating"))) == 3

    def fit(self, ratings: Frame, user_col: str | None = None, item_col: str | None = None,
            rating_col: str | None = None) -> Self:
        """Count each item's ratings and compute its damped mean.

        Parameters
        ----------
        ratings : pandas.DataFrame, polars.DataFrame or pyarrow.Table
            One (user, item, rating) per row, columns named as ``Recommender.fit``
            recognises them (``user``/``userId``, ``item``/``movieId``, ``rating``, ...)
            or given below; click data has no rating column (a count column, such as
            ``plays``, or none).
        user_col, item_col, rating_col : str, optional
            Column names; by default the usual ones are recognised.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            ``ratings`` is not a DataFrame.
        MissingColumnError
            A missing column (a ``KeyError`` and a ``ValueError``), or another column
            (``stars``) where a rating or a count column is expected.
        ValueError
            No rows, or a negative ``damping``.
        """
        ratings = as_frame(ratings, "Popularity.fit: ratings")
        cols, _ = feedback_frame_columns(ratings, "Popularity.fit: ratings",
                                         user_col=user_col, item_col=item_col,
                                         rating_col=rating_col)
        if self.damping < 0:
            raise ValueError(f"damping must be >= 0; got {self.damping}.")
        ucol, icol, rcol = cols["user"], cols["item"], cols.get("rating")
        self.columns_ = (ucol, icol) if rcol is None else (ucol, icol, rcol)
        if rcol is None:  # click data (counts or clicks): popularity is all there is
            stats = ratings.groupby(icol, sort=True).size().to_frame("count")
            self.mean_ = float("nan")
            self.item_mean_ = stats["count"].astype(np.float64)
        else:
            self.mean_ = float(ratings[rcol].mean())
            stats = ratings.groupby(icol, sort=True)[rcol].agg(["count", "sum"])
            self.item_mean_ = (stats["sum"] + self.damping * self.mean_) / (
                stats["count"] + self.damping
            )
        # stable sort on count keeps the item-label order among ties
        ranked = stats["count"].sort_values(ascending=False, kind="stable")
        self.ranked_items_ = ranked.index.to_numpy()
        self.ranked_scores_ = ranked.to_numpy(dtype=np.float64)
        self.seen_ = ratings.groupby(ucol, sort=False)[icol].agg(set).to_dict()
        return self

    def predict(self, pairs: Frame, *, user_col: str | None = None,
                item_col: str | None = None) -> FloatArray:
        """Damped item means for (user, item) pairs.

        Parameters
        ----------
        pairs : pandas.DataFrame, polars.DataFrame or pyarrow.Table
            One (user, item) pair per row; only the item column is read.
        user_col, item_col : str, optional
            Column names; default: the names used by ``fit``, else the usual ones.

        Returns
        -------
        ndarray of float64, shape (len(pairs),)
            The item's damped mean, the global mean for an item absent from training;
            fitted on click data, the item's training count (0 when absent).

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        MissingColumnError
            No item column.
        """
        check_fitted(self, "mean_", "predict")
        fitted = dict(zip(RATINGS_ROLES, self.columns_))
        pairs = as_frame(pairs, "Popularity.predict: pairs")
        icol = frame_columns(pairs, "Popularity.predict: pairs", ("item",), user_col=user_col,
                             item_col=item_col, prefer=fitted, allow_empty=True)["item"]
        pred = self.item_mean_.reindex(pairs[icol].to_numpy()).to_numpy(dtype=np.float64)
        return np.where(np.isnan(pred), self.mean_ if self.predicts_ratings else 0.0, pred)

    def recommend(self, user: Label, k: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Top-``k`` items for one training user.

        Parameters
        ----------
        user : label
            A user of the training data.
        k : int, default 10
            Number of items (fewer when fewer are available).
        exclude_seen : bool, default True
            Leave out the items the user rated in training.

        Returns
        -------
        pandas.DataFrame
            Columns ``item`` and ``score`` (the item's training count), best first.

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        KeyError
            The user is not in the training data.
        ValueError
            ``k`` is not an integer >= 1.
        """
        check_fitted(self, "mean_", "recommend")
        k = check_positive_int(k, "k")
        top = self._top(user, k, exclude_seen)
        return pd.DataFrame({"item": self.ranked_items_[top], "score": self.ranked_scores_[top]})

    def _top(self, user, k, exclude_seen):
        """Positions in the ranking of the user's best ``k`` items."""
        if user not in self.seen_:
            raise KeyError(f"user {show(user)} is not in the training data")
        if not exclude_seen:
            return np.arange(min(k, self.ranked_items_.size))
        seen = self.seen_[user]
        # at most len(seen) of the first k + len(seen) items are seen: the best k unseen
        # items are among them
        head = self.ranked_items_[:k + len(seen)]
        return np.flatnonzero(~np.isin(head, list(seen)))[:k]

    def recommend_many(self, users: Labels, k: int = 10,
                       exclude_seen: bool = True) -> pd.DataFrame:

        """Top-``k`` items for several training users, as one long frame.

        Parameters
        ----------
        users : sequence of labels
            Users of the training data.
        k : int, default 10
            Number of items per user.
        exclude_seen : bool, default True
            Leave out the items each user rated in training.

        Returns
        -------
        pandas.DataFrame
            Columns ``user``, ``item``, ``score``, ``rank`` (1 = best), grouped by user
            in the order given; the same rows as :meth:`recommend` for each user.
        """
        check_fitted(self, "mean_", "recommend_many")
        k = check_positive_int(k, "k")
        users = list(users)
        if not users:
            return pd.DataFrame({"user": [], "item": [], "score": [], "rank": []})
        tops = [self._top(u, k, exclude_seen) for u in users]
        counts = np.array([t.size for t in tops])
        top = np.concatenate(tops)
        user_col = pd.Series(users).repeat(counts).reset_index(drop=True)
        return pd.DataFrame({"user": user_col, "item": self.ranked_items_[top],
                             "score": self.ranked_scores_[top],
                             "rank": np.concatenate([np.arange(1, c + 1) for c in counts])})

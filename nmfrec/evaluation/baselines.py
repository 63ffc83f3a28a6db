"""Two reference models that satisfy the evaluation contract.

They give the floor every real model must beat (EVALUATION.md: "a popularity ranker and a
global-mean predictor") and let the protocol be tested without the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["GlobalMean", "Popularity"]


def _check_frame(df, cols, where):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{where} expects a pandas DataFrame; got {type(df).__name__}.")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {missing}; got {list(df.columns)}.")


class GlobalMean:
    """Predicts the mean training rating for every (user, item) pair.

    A rating predictor only: it has no ``recommend``, so evaluate it with
    ``protocols=("rating",)``.

    Attributes
    ----------
    mean_ : float
        Mean of the training ratings.
    """

    def fit(self, ratings):
        _check_frame(ratings, ("rating",), "GlobalMean.fit")
        if len(ratings) == 0:
            raise ValueError("GlobalMean.fit: ratings is empty.")
        self.mean_ = float(ratings["rating"].mean())
        return self

    def predict(self, pairs):
        _check_frame(pairs, ("user", "item"), "GlobalMean.predict")
        return np.full(len(pairs), self.mean_)


class Popularity:
    """Recommends the most-rated training items a user has not rated yet.

    Ranking: items ordered by training count, most first, ties by item label. Rating
    prediction (so that both protocols run): the item's damped mean
    ``(Σ_u x_ui + damping·μ) / (n_i + damping)`` with ``μ`` the global mean, and ``μ``
    for items absent from training.

    Parameters
    ----------
    damping : float, default 5.0
        Pseudo-count pulling rarely rated items towards the global mean.
    """

    def __init__(self, damping=5.0):
        self.damping = damping

    def fit(self, ratings):
        _check_frame(ratings, ("user", "item", "rating"), "Popularity.fit")
        if len(ratings) == 0:
            raise ValueError("Popularity.fit: ratings is empty.")
        if self.damping < 0:
            raise ValueError(f"damping must be >= 0; got {self.damping}.")
        self.mean_ = float(ratings["rating"].mean())
        stats = ratings.groupby("item", sort=True)["rating"].agg(["count", "sum"])
        self.item_mean_ = (stats["sum"] + self.damping * self.mean_) / (
            stats["count"] + self.damping
        )
        # stable sort on count keeps the item-label order among ties
        ranked = stats["count"].sort_values(ascending=False, kind="stable")
        self.ranked_items_ = ranked.index.to_numpy()
        self.ranked_scores_ = ranked.to_numpy(dtype=np.float64)
        self.seen_ = ratings.groupby("user", sort=False)["item"].agg(set).to_dict()
        return self

    def predict(self, pairs):
        _check_frame(pairs, ("user", "item"), "Popularity.predict")
        pred = self.item_mean_.reindex(pairs["item"].to_numpy()).to_numpy(dtype=np.float64)
        return np.where(np.isnan(pred), self.mean_, pred)

    def recommend(self, user, k=10, exclude_seen=True):
        """Top-``k`` items for one user as a DataFrame with columns item, score."""
        if k <= 0:
            raise ValueError(f"k must be positive; got {k}.")
        if user not in self.seen_:
            raise KeyError(f"user {user!r} is not in the training data")
        items, scores = self.ranked_items_, self.ranked_scores_
        if exclude_seen:
            keep = ~np.isin(items, list(self.seen_[user]))
            items, scores = items[keep], scores[keep]
        return pd.DataFrame({"item": items[:k], "score": scores[:k]})

    def recommend_many(self, users, k=10, exclude_seen=True):
        """Top-``k`` for several users: DataFrame with columns user, item, score, rank."""
        frames = []
        for u in users:
            rec = self.recommend(u, k, exclude_seen=exclude_seen)
            rec.insert(0, "user", u)
            rec["rank"] = np.arange(1, len(rec) + 1)
            frames.append(rec)
        if not frames:
            return pd.DataFrame({"user": [], "item": [], "score": [], "rank": []})
        return pd.concat(frames, ignore_index=True)

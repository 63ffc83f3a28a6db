"""Synthetic data with tastes a ranking model can find.

:func:`make_ratings` plants what real rating data has and a recommender learns from:
items in clusters (genres), users who prefer a few clusters (tastes), a Zipf-like
popularity skew, log-normal user activity, and selection bias (a user rates the items
they like more often than those they do not). Ratings are 1-5 stars at ml-100k's
shares. Everything is deterministic by ``seed`` and no users x items array is ever built.

:func:`make_planted` makes the small table a newcomer brings (tens to hundreds of users
and items): items in genres, each user liking some of them, ratings or clicks, and the
truth to check recommendations against (:class:`PlantedTastes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import pandas as pd

from .._validation import show

if TYPE_CHECKING:
    import numpy.typing as npt

    from .._typing import FloatArray

__all__ = ["SYNTHETIC_SIZES", "SIZE_ALIASES", "synthetic_shape", "make_ratings",
           "make_ratings_like", "PLANTED_MEANS", "PlantedTastes", "make_planted"]

#: The synthetic sizes, each a MovieLens release's shape: (n_users, n_items, n_ratings).
SYNTHETIC_SIZES = {
    "ml-100k": (943, 1_682, 100_000),
    "ml-1m": (6_040, 3_706, 1_000_209),
    "ml-20m": (138_493, 26_744, 20_000_263),
}
#: Short names of the sizes: S(mall), M(edium), L(arge).
SIZE_ALIASES = {"S": "ml-100k", "M": "ml-1m", "L": "ml-20m"}

# Share of each star in ml-100k (1..5); the planted scores are cut at these quantiles.
_STAR_SHARES = np.array([0.0611, 0.1137, 0.2715, 0.3417, 0.2120])
_T0 = 874_724_710  # 1997-09-20, ml-100k's first timestamp
_SPAN = 7 * 30 * 86_400  # about seven months, like ml-100k
_CHUNK = 1 << 20
# Loading of an item on the clusters it does not belong to, relative to its own (~1).
_BACKGROUND = 0.05


def synthetic_shape(size: str | tuple[int, int, int]) -> tuple[int, int, int]:
    """``(n_users, n_items, n_ratings)`` of a synthetic size.

    Parameters
    ----------
    size : str or tuple of int
        A key of :data:`SYNTHETIC_SIZES` (``"ml-100k"``, ``"ml-1m"``, ``"ml-20m"``), an
        alias (``"S"``, ``"M"``, ``"L"``), a string ``"USERSxITEMSxRATINGS"`` (e.g.
        ``"500x800x20000"``; ``_`` and ``,`` allowed in numbers), or the tuple itself.

    Returns
    -------
    tuple of int
        ``(n_users, n_items, n_ratings)``, each positive.

    Raises
    ------
    ValueError
        Anything else, with the accepted forms in the message.
    """
    if isinstance(size, tuple):
        shape = size
    else:
        text = str(size)
        key = SIZE_ALIASES.get(text, text)
        if key in SYNTHETIC_SIZES:
            return SYNTHETIC_SIZES[key]
        try:
            shape = tuple(int(x.replace("_", "").replace(",", ""))
                          for x in text.lower().split("x"))
        except ValueError:
            shape = ()
    if (len(shape) != 3 or not all(isinstance(v, (int, np.integer)) for v in shape)
            or min(shape) <= 0):
        raise ValueError(
            f"size must be one of {', '.join([*SIZE_ALIASES, *SYNTHETIC_SIZES])} or "
            f"USERSxITEMSxRATINGS (e.g. 200x300x5000); got {size!r}.")
    return tuple(int(v) for v in shape)


def _sorted_unique(a):
    """Sorted distinct values; a plain sort (numpy's hash-based unique is slower here)."""
    a = np.sort(a)
    if a.size:
        keep = np.empty(a.size, dtype=bool)
        keep[0] = True
        np.not_equal(a[1:], a[:-1], out=keep[1:])
        a = a[keep]
    return a


def _in_sorted(values, sorted_ref):
    """Boolean mask: which ``values`` occur in the sorted array ``sorted_ref``."""
    if sorted_ref.size == 0:
        return np.zeros(values.size, dtype=bool)
    idx = np.searchsorted(sorted_ref, values)
    np.minimum(idx, sorted_ref.size - 1, out=idx)
    return sorted_ref[idx] == values


class _Alias:
    """Walker/Vose alias table: O(1) draws from a discrete distribution.

    ``Generator.choice(n, p=p)`` binary-searches the CDF per draw, which is cache-bound
    and about ten times slower for tens of millions of draws over 10^5 categories.
    """

    def __init__(self, p):
        n = p.size
        scaled = p * (n / p.sum())
        self.prob = np.ones(n)
        self.alias = np.arange(n)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            self.prob[s] = scaled[s]
            self.alias[s] = g
            scaled[g] -= 1.0 - scaled[s]
            (small if scaled[g] < 1.0 else large).append(g)
        # leftovers are 1 up to rounding
        self.n = n

    def draw(self, rng, size):
        idx = rng.integers(0, self.n, size=size)
        keep = rng.random(size) < self.prob[idx]
        return np.where(keep, idx, self.alias[idx])


class _ItemChooser:
    """Draws an item for each given user: ``P(i | u) ∝ p_i ((1 - b) + b s_ui / E_p[s_u])``.

    With ``s_ui = w_u · h_i`` this is a mixture: with probability ``1 - b`` an item by
    popularity alone, else a cluster ``c`` with probability ``∝ w_uc M_c`` (``M_c =
    Σ_i p_i h_ic``) and then an item with probability ``∝ p_i h_ic``: exact draws in
    O(rank) per draw, from one alias table per cluster.
    """

    def __init__(self, p_item, W, H, bias):
        self.bias = bias
        self.popular = _Alias(p_item)
        mass = p_item[:, None] * H  # (n_items, rank)
        M = mass.sum(axis=0)
        tables = [_Alias(mass[:, c]) for c in range(H.shape[1])]
        self.prob = np.stack([t.prob for t in tables])
        self.alias = np.stack([t.alias for t in tables])
        Q = W * M
        self.cum = np.cumsum(Q / Q.sum(axis=1, keepdims=True), axis=1)
        self.n_items = p_item.size

    def draw(self, rng, users):
        items = self.popular.draw(rng, users.size)
        by_taste = np.flatnonzero(rng.random(users.size) < self.bias)
        for s in range(0, by_taste.size, _CHUNK):
            sel = by_taste[s:s + _CHUNK]
            u = users[sel]
            r = rng.random(sel.size)
            c = (self.cum[u] < r[:, None]).sum(axis=1)
            np.minimum(c, self.cum.shape[1] - 1, out=c)  # rounding at the top
            idx = rng.integers(0, self.n_items, size=sel.size)
            keep = rng.random(sel.size) < self.prob[c, idx]
            items[sel] = np.where(keep, idx, self.alias[c, idx])
        return items


def _sample_pairs(rng, n_users, n_items, n_ratings, p_user, chooser):
    """``n_ratings`` distinct (user, item) keys ``u·n_items + i``, sorted.

    Every user and every item gets one pair first (each user an item by the chooser,
    then each uncovered item a user drawn by activity); the rest is drawn in batches,
    users by activity and items by the chooser, duplicates rejected. Memory stays
    O(n_ratings).
    """
    n_items64 = np.int64(n_items)
    user_dist = _Alias(p_user)
    seed_items = chooser.draw(rng, np.arange(n_users))
    keys = np.arange(n_users, dtype=np.int64) * n_items64 + seed_items
    uncovered = np.flatnonzero(np.bincount(seed_items, minlength=n_items) == 0)
    seed_users = user_dist.draw(rng, uncovered.size)
    keys = _sorted_unique(
        np.concatenate([keys, seed_users.astype(np.int64) * n_items64 + uncovered])
    )
    accept = 0.9  # running estimate of the share of fresh draws that are new pairs
    for _ in range(200):
        need = n_ratings - keys.size
        if need <= 0:
            break
        m = int(min(need / max(accept, 0.05) * 1.1 + 1000, 4 * n_ratings + 1000))
        users = user_dist.draw(rng, m)
        cand = users.astype(np.int64) * n_items64
        cand += chooser.draw(rng, users)
        del users
        cand = _sorted_unique(cand)
        fresh = cand[~_in_sorted(cand, keys)]
        del cand
        accept = 0.5 * accept + 0.5 * fresh.size / m
        if fresh.size > need:
            fresh = np.sort(fresh[rng.permutation(fresh.size)[:need]])
        keys = np.concatenate([keys, fresh])
        keys.sort()
    else:  # pragma: no cover - needs a pathologically dense request
        raise RuntimeError(
            f"could not draw {n_ratings} distinct pairs of {n_users}x{n_items} "
            f"(reached {keys.size}); ask for fewer ratings."
        )
    return keys


def _check_int(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    return int(v)


@overload
def make_ratings(n_users: int, n_items: int, n_ratings: int, rank: int = ...,
                 noise: float = ..., seed: int = ..., zipf_exponent: float = ...,
                 popularity_offset: float = ..., activity_sigma: float = ...,
                 return_factors: Literal[False] = ..., *, taste_concentration: float = ...,
                 selection_bias: float = ...) -> pd.DataFrame: ...
@overload
def make_ratings(n_users: int, n_items: int, n_ratings: int, rank: int = ...,
                 noise: float = ..., seed: int = ..., zipf_exponent: float = ...,
                 popularity_offset: float = ..., activity_sigma: float = ..., *,
                 return_factors: Literal[True], taste_concentration: float = ...,
                 selection_bias: float = ...) -> tuple[pd.DataFrame, FloatArray, FloatArray]: ...


def make_ratings(n_users: int, n_items: int, n_ratings: int, rank: int = 10,
                 noise: float = 0.5, seed: int = 0, zipf_exponent: float = 1.5,
                 popularity_offset: float = 0.05, activity_sigma: float = 1.0,
                 return_factors: bool = False, *, taste_concentration: float = 0.3,
                 selection_bias: float = 0.8
                 ) -> pd.DataFrame | tuple[pd.DataFrame, FloatArray, FloatArray]:
    """Synthetic MovieLens-shaped explicit ratings with planted tastes, deterministic by ``seed``.

    How it is made:

    * **clusters and tastes**: each item belongs to one of ``rank`` clusters (think
      genres); its planted factor ``h_i`` is about 1 on its cluster and small
      (``0.05``-ish) elsewhere. Each user's taste ``w_u`` has Gamma-distributed entries
      of shape ``taste_concentration``: below 1 most of a user's weight sits on a few
      clusters. The planted affinity is ``s_ui = w_u · h_i`` (non-negative, rank
      ``rank``);
    * **popularity**: Zipf-like (Zipf-Mandelbrot) item popularity,
      ``p_i ∝ (rank_i + q)^(−s)`` with ``s = zipf_exponent`` and
      ``q = popularity_offset·n_items``, over a random permutation of the items;
    * **activity**: log-normal, ``a_u ∝ exp(σ·z_u)`` (``σ = activity_sigma``), capped so
      that no user is expected to rate more than half of the items;
    * **selection bias**: the (user, item) pairs are drawn without replacement with
      users by activity and items by ``P(i | u) ∝ p_i ((1 − b) + b·s_ui / E_p[s_u])``,
      ``b = selection_bias``: users rate what they like more often (``b = 0``: which
      items are rated does not depend on taste). **Every user and every item** is
      rated at least once;
    * **stars**: the affinity plus Gaussian noise of standard deviation
      ``noise·std(s)``, cut into 1–5 stars at the quantiles that give ml-100k's star
      shares (6 %, 11 %, 27 %, 34 %, 21 %);
    * **timestamps**: each user starts at a random time in ml-100k's seven months and
      rates at exponentially spread times after that.

    No users×items array is ever built; work and memory are O(n_ratings · rank) in
    chunks, so the ml-20m shape (20M ratings) fits in a few GB and a minute or so.

    Parameters
    ----------
    n_users, n_items, n_ratings : int
        Shape and number of ratings. ``n_ratings`` must be at least
        ``n_users + n_items`` (every user and item is rated) and at most half of
        ``n_users·n_items``.
    rank : int, default=10
        Number of item clusters, the rank of the planted affinity.
    noise : float, default=0.5
        Standard deviation of the rating noise relative to that of the affinities
        (0: stars are a monotone function of the affinity).
    seed : int, default=0
        Seed of every random draw; the same arguments give the same frame.
    zipf_exponent : float, default=1.5
        Exponent ``s`` of the item popularity law.
    popularity_offset : float, default=0.05
        Offset ``q / n_items`` of the popularity law; larger values flatten the head
        (the defaults match ml-100k's and ml-1m's most rated and median item counts
        within about 30 %).
    activity_sigma : float, default=1.0
        Spread ``σ`` of the log-normal user activity.
    return_factors : bool, default=False
        Also return the planted factors.
    taste_concentration : float, default=0.3
        Gamma shape of the taste entries; smaller means narrower tastes (more
        structure for a model to find), large values make every user like every
        cluster alike.
    selection_bias : float in [0, 1], default=0.8
        Weight ``b`` of the affinity in which items a user rates.

    Returns
    -------
    ratings : DataFrame
        Columns ``user``, ``item`` (int64, 1-based like MovieLens), ``rating`` (float64
        in {1, …, 5}), ``timestamp`` (int64 Unix seconds), sorted by user then item,
        unique (user, item) pairs.
    W, H : ndarray of shape (n_users, rank) and (n_items, rank)
        Only with ``return_factors``: the planted factors (row ``id − 1``); the
        noiseless affinity of a rating is ``W[user − 1] · H[item − 1]``.

    Raises
    ------
    ValueError
        A size that is not a positive integer, ``n_ratings`` out of range, negative
        ``noise``, non-positive ``taste_concentration``, ``selection_bias`` outside
        [0, 1].
    """
    n_users = _check_int("n_users", n_users)
    n_items = _check_int("n_items", n_items)
    n_ratings = _check_int("n_ratings", n_ratings)
    rank = _check_int("rank", rank)
    if n_ratings < n_users + n_items:
        raise ValueError(
            f"n_ratings={n_ratings} is too small: every user and item gets a rating, so it "
            f"must be at least n_users + n_items = {n_users + n_items}."
        )
    if n_ratings > n_users * n_items // 2:
        raise ValueError(
            f"n_ratings={n_ratings} is more than half of the {n_users}x{n_items} matrix; "
            "MovieLens-shaped data is sparse (ml-100k fills 6.3%)."
        )
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0; got {noise}.")
    if not taste_concentration > 0:
        raise ValueError(f"taste_concentration must be > 0; got {taste_concentration}.")
    if not 0 <= selection_bias <= 1:
        raise ValueError(f"selection_bias must be in [0, 1]; got {selection_bias}.")
    rng = np.random.default_rng(seed)

    # Zipf-Mandelbrot: the offset flattens the head, as in MovieLens where the most
    # rated film has ~0.5 % of the ratings rather than the ~10 % of a pure Zipf law.
    offset = popularity_offset * n_items
    p_item = (np.arange(1, n_items + 1, dtype=np.float64) + offset) ** -zipf_exponent
    p_item = rng.permutation(p_item / p_item.sum())
    p_user = np.exp(activity_sigma * rng.standard_normal(n_users))
    # Cap activity so that no user is expected to rate more than half the catalog.
    p_user = p_user / p_user.sum()
    p_user = np.minimum(p_user, 0.5 * n_items / n_ratings)
    p_user /= p_user.sum()

    # Planted non-negative factors: items load ~1 on their own cluster (Gamma(4, 1/4))
    # and a little on the others; users' tastes are sparse-ish Gamma(concentration).
    cluster = rng.integers(0, rank, size=n_items)
    H = _BACKGROUND * rng.gamma(1.0, 1.0, size=(n_items, rank))
    H[np.arange(n_items), cluster] += rng.gamma(4.0, 0.25, size=n_items)
    W = rng.gamma(taste_concentration, 1.0, size=(n_users, rank))
    W += 1e-3 * W.sum(axis=1, keepdims=True) + 1e-12  # no user with an all-zero taste

    chooser = _ItemChooser(p_item, W, H, selection_bias)
    keys = _sample_pairs(rng, n_users, n_items, n_ratings, p_user, chooser)
    del chooser
    users = keys // n_items
    items = keys - users * n_items
    del keys

    scores = np.empty(users.size)
    for s in range(0, users.size, _CHUNK):
        e = min(s + _CHUNK, users.size)
        scores[s:e] = np.einsum("ij,ij->i", W[users[s:e]], H[items[s:e]])
    scores += noise * scores.std() * rng.standard_normal(users.size)
    cuts = np.quantile(scores, np.cumsum(_STAR_SHARES)[:-1])
    rating = (1 + np.searchsorted(cuts, scores, side="right")).astype(np.float64)
    del scores

    start = rng.integers(0, _SPAN, size=n_users)
    spread = rng.exponential(30 * 86_400, size=users.size).astype(np.int64)
    timestamp = _T0 + np.minimum(start[users] + spread, _SPAN)

    df = pd.DataFrame({
        "user": users + 1,
        "item": items + 1,
        "rating": rating,
        "timestamp": timestamp.astype(np.int64),
    })
    return (df, W, H) if return_factors else df


def make_ratings_like(name: str = "ml-100k", seed: int = 0, **kwargs: Any) -> pd.DataFrame:
    """:func:`make_ratings` at the size of a MovieLens release.

    Parameters
    ----------
    name : {"ml-100k", "ml-1m", "ml-20m", "S", "M", "L"}, default="ml-100k"
        ``S`` = ml-100k (943 × 1,682, 100,000 ratings), ``M`` = ml-1m (6,040 × 3,706,
        1,000,209), ``L`` = ml-20m (138,493 × 26,744, 20,000,263).
    seed : int, default=0
        Passed to :func:`make_ratings`.
    **kwargs
        Passed to :func:`make_ratings` (``rank``, ``noise``, ``selection_bias``, …).

    Returns
    -------
    DataFrame
        As :func:`make_ratings` returns it.

    Raises
    ------
    ValueError
        Unknown size name.
    """
    key = SIZE_ALIASES.get(name, name)
    if key not in SYNTHETIC_SIZES:
        raise ValueError(
            f"unknown size {name!r}; choose one of {sorted(SYNTHETIC_SIZES) + sorted(SIZE_ALIASES)}."
        )
    n_users, n_items, n_ratings = SYNTHETIC_SIZES[key]
    return make_ratings(n_users, n_items, n_ratings, seed=seed, **kwargs)


# ======================================================================================
# Planted tastes: a newcomer's own small table, with the truth to score against
# ======================================================================================

#: Mean rating of a liked item and of any other item in :func:`make_planted`.
PLANTED_MEANS = (4.5, 2.0)
_FEEDBACK = ("ratings", "clicks")


@dataclass(frozen=True)
class PlantedTastes:
    """A small data set with planted tastes, and who likes what.

    Made by :func:`make_planted`. User ``u`` likes item ``i`` when ``i``'s genre is one
    of ``u``'s liked genres; :meth:`likes` answers that for any (user, item) pairs
    without building a users x items array.

    Attributes
    ----------
    data : DataFrame
        The table: columns ``user``, ``item`` (int64, 1-based) and, for ratings,
        ``rating`` (float64 in {1, ..., 5}); sorted by user then item, unique pairs.
    item_genres : Series
        Genre (int, ``0 .. n_genres - 1``) of every item, indexed by item label.
    user_genres : DataFrame
        One bool column per genre, indexed by user label: True where the user likes
        the genre.
    feedback : {"ratings", "clicks"}
        What ``data`` holds.
    """

    data: pd.DataFrame
    item_genres: pd.Series
    user_genres: pd.DataFrame
    feedback: str

    def likes(self, users: npt.ArrayLike, items: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each user likes the item beside it.

        Parameters
        ----------
        users, items : array-like of int
            User and item labels, pairwise (equal lengths), e.g. the ``user`` and
            ``item`` columns of a frame of recommendations.

        Returns
        -------
        ndarray of bool
            ``likes[j]``: user ``users[j]`` likes item ``items[j]``.

        Raises
        ------
        ValueError
            ``users`` and ``items`` differ in length.
        KeyError
            A user or an item that is not in the data set (the message names one).
        """
        users, items = np.asarray(users).ravel(), np.asarray(items).ravel()
        if users.size != items.size:
            raise ValueError(f"users and items must have the same length; got {users.size} "
                             f"and {items.size}.")
        u = self.user_genres.index.get_indexer(users)
        i = self.item_genres.index.get_indexer(items)
        for what, idx, labels in (("user", u, users), ("item", i, items)):
            if (idx < 0).any():
                raise KeyError(f"{what} {show(labels[idx < 0][0])} is not in the planted data "
                               f"({(idx < 0).sum()} unknown {what} label(s) in all).")
        genre = self.item_genres.to_numpy()[i]
        return self.user_genres.to_numpy()[u, genre]

    def liked_items(self, user: int) -> npt.NDArray[np.int64]:
        """The items a user likes, sorted.

        Parameters
        ----------
        user : int
            A user label.

        Returns
        -------
        ndarray of int64
            Labels of the items whose genre the user likes.

        Raises
        ------
        KeyError
            An unknown user.
        """
        if user not in self.user_genres.index:
            raise KeyError(f"user {show(user)} is not in the planted data.")
        liked = self.user_genres.loc[user].to_numpy()
        return self.item_genres.index.to_numpy()[liked[self.item_genres.to_numpy()]]


def _check_share(name, v, low_open, high_open):
    """``v`` as a float in [0, 1], with either end excluded as asked."""
    number = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    low_ok = number and (v > 0 if low_open else v >= 0)
    high_ok = number and (v < 1 if high_open else v <= 1)
    if not (low_ok and high_ok):
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be a number in {lo}0, 1{hi}; got {v!r}.")
    return float(v)


def make_planted(n_users: int = 120, n_items: int = 60, *, n_genres: int = 4,
                 liked_genres: int = 2, density: float = 0.2, tilt: float = 0.0,
                 feedback: Literal["ratings", "clicks"] = "ratings", noise: float = 0.75,
                 seed: int = 0) -> PlantedTastes:

    """A small table with planted tastes, as a newcomer's own CSV; deterministic by ``seed``.

    How it is made:

    * **genres**: the items are dealt into ``n_genres`` genres of equal size (sizes
      differ by at most one), at random;
    * **tastes**: each user likes ``liked_genres`` genres drawn at random, and so every
      item of those genres;
    * **which items a user rates**: each user rates ``Binomial(n_items, density)``
      items (at least one), drawn without replacement with weight 1 for a liked item
      and ``1 - tilt`` for any other: ``tilt = 0`` picks items at random (the liked
      share of the rated items is then the liked share of the catalogue), larger values
      make users rate mostly what they like. An item nobody picked is given to one
      user, drawn with the same weights, so **every user and every item** appears;
    * **ratings**: 4.5 for a liked item and 2.0 for any other (:data:`PLANTED_MEANS`),
      plus Gaussian noise of standard deviation ``noise``, rounded (halves up) and
      clipped to 1-5;
    * **clicks** (``feedback="clicks"``): the same pairs without the rating column,
      that is who rated what (the pairs of the ratings table made with the same
      arguments). A click table carries tastes only through the tilt: with ``tilt=0``
      which items a user clicked says nothing about what they like.

    The work is O(n_users x n_items) in time and O(n_items + pairs) in memory: meant
    for tens to thousands of users and items (use :func:`make_ratings` for millions of
    ratings).

    Parameters
    ----------
    n_users : int, default=120
        Number of users.
    n_items : int, default=60
        Number of items, at least ``n_genres``.
    n_genres : int, default=4
        Number of genres.
    liked_genres : int, default=2
        Genres each user likes, at most ``n_genres``.
    density : float in (0, 1], default=0.2
        Mean share of the catalogue each user rates.
    tilt : float in [0, 1), default=0.0
        How much the choice of rated items leans toward liked ones (see above).
    feedback : {"ratings", "clicks"}, default="ratings"
        A ratings table (``user``, ``item``, ``rating``) or a click table (``user``,
        ``item``).
    noise : float, default=0.75
        Standard deviation of the rating noise (0: every liked item is rated 5, every
        other one 2).
    seed : int, default=0
        Seed of every random draw; the same arguments give the same data.

    Returns
    -------
    PlantedTastes
        The table (``.data``), the genres of the items, the liked genres of the users,
        and :meth:`PlantedTastes.likes` to check any (user, item) pair.

    Raises
    ------
    ValueError
        A size or genre count that is not a positive integer, more liked genres than
        genres, fewer items than genres, ``density`` outside (0, 1], ``tilt`` outside
        [0, 1), an unknown ``feedback`` or a negative ``noise``.

    Examples
    --------
    >>> from nmfrec.datasets import make_planted
    >>> planted = make_planted(120, 60, tilt=0.8, seed=0)
    >>> planted.data.shape[1], planted.data["user"].nunique(), planted.data["item"].nunique()
    (3, 120, 60)
    >>> bool(planted.likes(planted.data["user"], planted.data["item"]).mean() > 0.75)
    True
    """
    n_users = _check_int("n_users", n_users)
    n_items = _check_int("n_items", n_items)
    n_genres = _check_int("n_genres", n_genres)
    liked_genres = _check_int("liked_genres", liked_genres)
    if liked_genres > n_genres:
        raise ValueError(f"liked_genres={liked_genres} is more than n_genres={n_genres}.")
    if n_items < n_genres:
        raise ValueError(f"n_items={n_items} is less than n_genres={n_genres}: every genre "
                         "needs an item.")
    density = _check_share("density", density, low_open=True, high_open=False)
    tilt = _check_share("tilt", tilt, low_open=False, high_open=True)
    if feedback not in _FEEDBACK:
        raise ValueError(f"feedback must be one of {_FEEDBACK}; got {feedback!r}.")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) \
            or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0; got {noise!r}.")
    rng = np.random.default_rng(seed)

    genre = rng.permutation(np.arange(n_items) % n_genres)
    order = np.argsort(rng.random((n_users, n_genres)), axis=1)[:, :liked_genres]
    liked = np.zeros((n_users, n_genres), dtype=bool)
    np.put_along_axis(liked, order, True, axis=1)

    counts = np.clip(rng.binomial(n_items, density, size=n_users), 1, n_items)
    other = 1.0 - tilt
    users, items = [], []
    for u in range(n_users):
        w = np.where(liked[u, genre], 1.0, other)
        items.append(rng.choice(n_items, size=counts[u], replace=False, p=w / w.sum()))
        users.append(np.full(counts[u], u))
    users, items = np.concatenate(users), np.concatenate(items)
    for i in np.flatnonzero(np.bincount(items, minlength=n_items) == 0):
        w = np.where(liked[:, genre[i]], 1.0, other)
        users = np.append(users, rng.choice(n_users, p=w / w.sum()))
        items = np.append(items, i)
    order = np.lexsort((items, users))
    users, items = users[order], items[order]

    data = {"user": users.astype(np.int64) + 1, "item": items.astype(np.int64) + 1}
    good = liked[users, genre[items]]
    stars = np.where(good, *PLANTED_MEANS) + noise * rng.standard_normal(users.size)
    if feedback == "ratings":
        data["rating"] = np.clip(np.floor(stars + 0.5), 1, 5)
    return PlantedTastes(
        data=pd.DataFrame(data),
        item_genres=pd.Series(genre, index=pd.RangeIndex(1, n_items + 1, name="item"),
                              name="genre"),
        user_genres=pd.DataFrame(liked, index=pd.RangeIndex(1, n_users + 1, name="user"),
                                 columns=pd.RangeIndex(n_genres, name="genre")),
        feedback=feedback,
    )

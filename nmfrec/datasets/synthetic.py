"""Synthetic MovieLens-shaped ratings with tastes a ranking model can find.

:func:`make_ratings` plants what real rating data has and a recommender learns from:
items in clusters (genres), users who prefer a few clusters (tastes), a Zipf-like
popularity skew, log-normal user activity, and selection bias (a user rates the items
they like more often than those they do not). Ratings are 1-5 stars at ml-100k's
shares. Everything is deterministic by ``seed`` and no users x items array is ever built.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SYNTHETIC_SIZES", "SIZE_ALIASES", "synthetic_shape", "make_ratings",
           "make_ratings_like"]

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


def synthetic_shape(size):
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


def make_ratings(n_users, n_items, n_ratings, rank=10, noise=0.5, seed=0,
                 zipf_exponent=1.5, popularity_offset=0.05,
                 activity_sigma=1.0, return_factors=False, *, taste_concentration=0.3,
                 selection_bias=0.8):
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


def make_ratings_like(name="ml-100k", seed=0, **kwargs) -> pd.DataFrame:
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

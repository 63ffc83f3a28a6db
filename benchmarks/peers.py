"""Thin adapters that give peer libraries nmfrec's evaluation contract.

``nmfrec.evaluation.evaluate`` scores any object with ``fit(train_df) -> self``,
``predict(pairs_df) -> array`` (protocol A) and ``recommend_many(users, k,
exclude_seen=True) -> DataFrame[user, item, score, rank]`` (protocol B). Each adapter here
fits the peer exactly as its library does (the peer's own code and defaults), then reads
the learned parameters so that scoring is one vectorized step instead of a Python call per
(user, item) pair.

Every peer below is a *linear factor model*: its score of item ``i`` for user ``u`` is

    s(u, i) = mu + b_u + b_i + U[u] . V[i]

(any of the terms may be absent), so one base class does the id bookkeeping, the pair
predictions and the top-k lists for all of them:

* ids: users and items of the training frame, sorted by label; the peer's own inner
  indices are mapped onto these;
* ``predict``: ``s(u, i)`` unclipped for (user, item) pairs seen in training; for pairs with
  an unknown user or item, NaN (the protocol then uses the train global mean), except
  where the peer's own library defines something else (Surprise: see
  :class:`SurpriseAdapter`);
* ``recommend_many``: all train items scored per user, the user's train items removed,
  top-k by score, ties broken by the lower item label (a stable sort), so the lists are
  deterministic.

A rating-only peer would omit ``recommend_many`` and a ranking-only peer omits
``predict`` (the implicit adapters do): :func:`protocols_of` says which protocols a model
supports, and the benchmark passes that to ``evaluate(..., protocols=...)``.

Peers are imported lazily, inside ``fit``, so this module imports without them; a missing
peer raises ImportError there, which the benchmark reports and skips.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nmfrec.evaluation import predicts_ratings

__all__ = [
    "FactorAdapter",
    "SurpriseAdapter",
    "ImplicitALS",
    "ImplicitBPR",
    "SklearnZeroFilledNMF",
    "CornacNMF",
    "EASE",
    "protocols_of",
]


def protocols_of(model):
    """The evaluation protocols a model supports, from the methods it has."""
    out = []
    # a model whose predict gives preference scores, not ratings, gets no RMSE
    if predicts_ratings(model):
        out.append("rating")
    if callable(getattr(model, "recommend_many", None)) or callable(
        getattr(model, "recommend", None)
    ):
        out.append("ranking")
    return tuple(out)


class FactorAdapter:
    """Base: ids, seen items, ``s(u, i) = mu + b_u + b_i + U[u].V[i]``, top-k lists.

    Subclasses implement ``_fit_peer(train)`` which must set ``U_`` (n_users x f), ``V_``
    (n_items x f) in the row order of ``users_``/``items_`` and may set ``bu_``, ``bi_``
    (zeros by default) and ``mu_`` (0 by default).
    """

    batch_size = 512

    # ------------------------------------------------------------------ fit
    def fit(self, train):
        users = np.sort(pd.unique(train["user"]))
        items = np.sort(pd.unique(train["item"]))
        self.users_ = pd.Index(users)
        self.items_ = pd.Index(items)
        u = self.users_.get_indexer(train["user"])
        i = self.items_.get_indexer(train["item"])
        r = train["rating"].to_numpy(dtype=np.float64)
        shape = (len(users), len(items))
        self.ratings_ = sp.csr_matrix((r, (u, i)), shape=shape)
        self.ratings_.sort_indices()
        self.bu_ = np.zeros(len(users))
        self.bi_ = np.zeros(len(items))
        self.mu_ = 0.0
        self._fit_peer(train)
        self.U_ = np.asarray(self.U_, dtype=np.float64)
        self.V_ = np.asarray(self.V_, dtype=np.float64)
        assert self.U_.shape[0] == len(users) and self.V_.shape[0] == len(items)
        return self

    def _fit_peer(self, train):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ scoring
    def _pair_scores(self, u, i):
        """Scores of known pairs (inner indices), unclipped."""
        return (
            self.mu_
            + self.bu_[u]
            + self.bi_[i]
            + np.einsum("ij,ij->i", self.U_[u], self.V_[i])
        )

    def _row_scores(self, u):
        """Scores of every train item for the users ``u`` (inner indices)."""
        return self.mu_ + self.bu_[u][:, None] + self.bi_[None, :] + self.U_[u] @ self.V_.T

    def _unknown_scores(self, users, items):
        """Scores for pairs whose user or item is not in train: NaN by default."""
        return np.full(len(users), np.nan)

    def _predict(self, pairs):
        users = pairs["user"].to_numpy()
        items = pairs["item"].to_numpy()
        u = self.users_.get_indexer(users)
        i = self.items_.get_indexer(items)
        known = (u >= 0) & (i >= 0)
        out = np.empty(len(pairs))
        out[known] = self._pair_scores(u[known], i[known])
        if (~known).any():
            out[~known] = self._unknown_scores(users[~known], items[~known])
        return out

    def recommend_many(self, users, k=10, exclude_seen=True):
        """Top-``k`` train items per user: frame with columns user, item, score, rank."""
        labels = np.asarray(users)
        uidx = self.users_.get_indexer(labels)
        if (uidx < 0).any():
            raise KeyError(f"user {labels[uidx < 0][0]!r} is not in the training data")
        R = self.ratings_
        out_u, out_i, out_s, out_r = [], [], [], []
        for start in range(0, len(uidx), self.batch_size):
            ub = uidx[start:start + self.batch_size]
            S = self._row_scores(ub)
            if exclude_seen:
                sub = R[ub]
                rows = np.repeat(np.arange(len(ub)), np.diff(sub.indptr))
                S[rows, sub.indices] = -np.inf
            # stable sort of -S: ties keep the lower item index, i.e. the lower label
            order = np.argsort(-S, axis=1, kind="stable")[:, :k]
            top = np.take_along_axis(S, order, axis=1)
            keep = np.isfinite(top)
            counts = keep.sum(axis=1)
            out_u.append(np.repeat(labels[start:start + self.batch_size], counts))
            out_i.append(self.items_.to_numpy()[order[keep]])
            out_s.append(top[keep])
            out_r.append(np.nonzero(keep)[1] + 1)
        return pd.DataFrame(
            {
                "user": np.concatenate(out_u),
                "item": np.concatenate(out_i),
                "score": np.concatenate(out_s),
                "rank": np.concatenate(out_r),
            }
        )


    def similar_items(self, item, k=10):
        """The ``k`` items whose factors have the highest cosine with ``item``'s (itself
        left out), best first: implicit's ``similar_items`` on the factors of any peer."""
        i = self.items_.get_loc(item)
        V = self.V_
        norms = np.linalg.norm(V, axis=1)
        sims = (V @ V[i]) / np.maximum(norms * norms[i], 1e-300)
        sims[i] = -np.inf
        order = np.argsort(-sims, kind="stable")[:k]
        return self.items_.to_numpy()[order].tolist()


class _Predicts:
    """Mixin: protocol A (rating prediction) for a :class:`FactorAdapter`."""

    def predict(self, pairs):
        """Unclipped scores for a frame with user and item columns (evaluate clips)."""
        return self._predict(pairs)


# ====================================================================== Surprise
class SurpriseAdapter(_Predicts, FactorAdapter):
    """scikit-surprise's SVD, NMF (plain or biased) or BaselineOnly.

    The algorithm is fitted by Surprise itself on ``build_full_trainset()`` of the train
    frame, with the train rating range as the Reader's scale. Predictions for pairs
    whose user and item are both known are ``mu + b_u + b_i + q_i . p_u`` computed from
    the learned ``pu``, ``qi``, ``bu``, ``bi`` (just the biases for BaselineOnly; just
    ``q_i . p_u`` for unbiased NMF), which is what Surprise's ``estimate`` computes; after
    each fit this is checked on a sample of pairs against ``algo.predict(u, i,
    clip=False).est``. For pairs with an unknown user or item the adapter asks
    ``algo.predict`` itself (unclipped), so Surprise's own fallbacks apply: partial
    biases for SVD, biased NMF and BaselineOnly, the train global mean where Surprise
    finds the prediction impossible (plain NMF).

    Parameters
    ----------
    algo : {"SVD", "NMF", "BaselineOnly"}
    check_pairs : int, default 50
        Pairs on which the vectorized scores are compared with ``algo.predict``.
    **params
        Passed to the Surprise algorithm (e.g. ``biased=True``, ``random_state=0``).
    """

    def __init__(self, algo="SVD", check_pairs=50, **params):
        self.algo = algo
        self.check_pairs = check_pairs
        self.params = params

    def _fit_peer(self, train):
        import surprise

        cls = getattr(surprise, self.algo)
        lo, hi = float(train["rating"].min()), float(train["rating"].max())
        data = surprise.Dataset.load_from_df(
            train[["user", "item", "rating"]], surprise.Reader(rating_scale=(lo, hi))
        )
        ts = data.build_full_trainset()
        params = dict(self.params)
        if self.algo == "BaselineOnly":
            params.setdefault("verbose", False)  # it prints "Estimating biases..."
        algo = cls(**params)
        algo.fit(ts)
        self.algo_ = algo
        # Surprise's inner ids follow first appearance; map them onto sorted labels.
        inner_u = np.array([ts.to_inner_uid(x) for x in self.users_])
        inner_i = np.array([ts.to_inner_iid(x) for x in self.items_])
        biased = self.algo != "NMF" or self.params.get("biased", False)
        if self.algo == "BaselineOnly":
            self.U_ = np.zeros((len(inner_u), 0))
            self.V_ = np.zeros((len(inner_i), 0))
        else:
            self.U_ = algo.pu[inner_u]
            self.V_ = algo.qi[inner_i]
        if biased:
            self.mu_ = float(ts.global_mean)
            self.bu_ = np.asarray(algo.bu, dtype=np.float64)[inner_u]
            self.bi_ = np.asarray(algo.bi, dtype=np.float64)[inner_i]
        self._check(train)

    def _check(self, train):
        """Vectorized scores == ``algo.predict(...).est`` before clipping."""
        if not self.check_pairs:
            return
        rng = np.random.default_rng(0)
        u = rng.integers(0, len(self.users_), self.check_pairs)
        i = rng.integers(0, len(self.items_), self.check_pairs)
        ours = self._pair_scores(u, i)
        theirs = np.array(
            [
                self.algo_.predict(self.users_[a], self.items_[b], clip=False).est
                for a, b in zip(u, i)
            ]
        )
        if not np.allclose(ours, theirs, rtol=1e-10, atol=1e-10):
            worst = int(np.argmax(np.abs(ours - theirs)))
            raise AssertionError(
                f"Surprise {self.algo}: vectorized score {ours[worst]!r} != "
                f"algo.predict(...).est {theirs[worst]!r} for user "
                f"{self.users_[u[worst]]!r}, item {self.items_[i[worst]]!r}."
            )

    def _unknown_scores(self, users, items):
        return np.array(
            [self.algo_.predict(a, b, clip=False).est for a, b in zip(users, items)],
            dtype=np.float64,
        )


# ====================================================================== implicit
class _ImplicitBase(FactorAdapter):
    """Shared fit for implicit's models (ranking only: no ``predict``)."""

    #: "raw": the train ratings are the interaction values (implicit's ALS turns a value
    #: r into confidence 1 + alpha*r); "binary": every train rating becomes 1.
    values = "raw"

    def _user_items(self):
        X = self.ratings_.astype(np.float32)
        if self.values == "binary":
            X.data[:] = 1.0
        elif self.values != "raw":
            raise ValueError(f"values must be 'raw' or 'binary'; got {self.values!r}.")
        return X.tocsr()

    def _fit_with(self, make_model):
        from threadpoolctl import threadpool_limits

        # implicit asks for single-threaded BLAS (it parallelizes over rows itself, and
        # checks the BLAS setting when the model is made)
        with threadpool_limits(1, "blas"):
            model = make_model()
            model.fit(self._user_items(), show_progress=False)
        self.model_ = model
        self.U_ = _to_numpy(model.user_factors)
        self.V_ = _to_numpy(model.item_factors)


def _to_numpy(a):
    return a.to_numpy() if hasattr(a, "to_numpy") else np.asarray(a)


class ImplicitALS(_ImplicitBase):
    """implicit's AlternatingLeastSquares (Hu, Koren & Volinsky 2008), CPU.

    Parameters are implicit's defaults (regularization 0.01, alpha 1, 15 iterations,
    conjugate gradient, float32) except ``factors`` (64 here) and ``random_state``.
    ``values`` chooses what implicit sees: the raw train ratings (default) or ones.
    Rows are solved independently in parallel, so the result does not depend on the
    thread count.
    """

    def __init__(self, factors=64, values="raw", random_state=0, **params):
        self.factors = factors
        self.values = values
        self.random_state = random_state
        self.params = params

    def _fit_peer(self, train):
        from implicit.cpu.als import AlternatingLeastSquares

        self._fit_with(
            lambda: AlternatingLeastSquares(
                factors=self.factors, random_state=self.random_state, **self.params
            )
        )


class ImplicitBPR(_ImplicitBase):
    """implicit's BayesianPersonalizedRanking, CPU.

    implicit's defaults (learning rate 0.01, regularization 0.01, 100 iterations) except
    ``factors`` (64), ``random_state`` and ``num_threads=1``: BPR's parallel SGD is
    Hogwild (threads race on shared item factors), so only one thread is reproducible.
    BPR uses only which items a user rated, not the values. implicit adds a bias column
    to the factors; the scores include it, as implicit's own ``recommend`` does.
    """

    values = "binary"

    def __init__(self, factors=64, random_state=0, num_threads=1, **params):
        self.factors = factors
        self.random_state = random_state
        self.num_threads = num_threads
        self.params = params

    def _fit_peer(self, train):
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        self._fit_with(
            lambda: BayesianPersonalizedRanking(
                factors=self.factors,
                random_state=self.random_state,
                num_threads=self.num_threads,
                **self.params,
            )
        )


# ====================================================================== scikit-learn
class SklearnZeroFilledNMF(_Predicts, FactorAdapter):
    """scikit-learn's NMF on the user x item matrix with every missing rating read as 0.

    The naive approach nmfrec replaces: sklearn's ``NMF`` has no notion of a missing
    entry, so a sparse ratings matrix is factorized as if unrated meant "rated 0". The
    scores ``W[u] . H[:, i]`` are therefore near 0 for most pairs (useless as ratings,
    clipped up to the scale's minimum by the protocol) but high for items a user is
    likely to have *rated*, which makes it a good ranker. Defaults of
    ``sklearn.decomposition.NMF`` (coordinate descent, NNDSVDa init, 200 iterations)
    except ``n_components`` (15) and ``random_state``.
    """

    def __init__(self, n_components=15, random_state=0, **params):
        self.n_components = n_components
        self.random_state = random_state
        self.params = params

    def _fit_peer(self, train):
        from sklearn.decomposition import NMF

        model = NMF(n_components=self.n_components, random_state=self.random_state,
                    **self.params)
        self.U_ = model.fit_transform(self.ratings_)
        self.V_ = model.components_.T
        self.model_ = model


# ====================================================================== cornac
class CornacNMF(_Predicts, FactorAdapter):
    """cornac's NMF (masked multiplicative updates, Luo et al. 2014), defaults.

    Defaults: k=15, 50 iterations, ``lambda_u = lambda_v = 0.06``, no biases, like
    Surprise's NMF. With a seed cornac trains on one thread, which makes it
    deterministic. Pairs with an unknown user or item get NaN (the protocol fills in
    the train global mean); cornac's own ``score`` would give 0 for an unknown user.
    """

    def __init__(self, seed=0, **params):
        self.seed = seed
        self.params = params

    def _fit_peer(self, train):
        from cornac.data import Dataset
        from cornac.models import NMF

        triples = list(zip(train["user"].tolist(), train["item"].tolist(),
                           train["rating"].astype(float).tolist()))
        ds = Dataset.from_uir(triples, seed=self.seed)
        model = NMF(seed=self.seed, **self.params)
        model.fit(ds)
        self.model_ = model
        inner_u = np.array([ds.uid_map[x] for x in self.users_])
        inner_i = np.array([ds.iid_map[x] for x in self.items_])
        self.U_ = np.asarray(model.u_factors)[inner_u]
        self.V_ = np.asarray(model.i_factors)[inner_i]
        self.mu_ = float(model.global_mean)
        self.bu_ = np.asarray(model.u_biases, dtype=np.float64)[inner_u]
        self.bi_ = np.asarray(model.i_biases, dtype=np.float64)[inner_i]


# ====================================================================== EASE
class EASE:
    """EASE (Steck 2019): the closed-form item-item model ``B = I - P / diag(P)``,
    ``P = (X^T X + lam I)^-1`` on the binarized train matrix; scores ``X_u B``.

    A strong ranking baseline for this size of data (the dense n_items x n_items solve is
    fine for thousands of items). Ranking only. ``lam`` is EASE's one hyper-parameter.
    """

    def __init__(self, lam=300.0):
        self.lam = lam

    def fit(self, train):
        self.users_ = pd.Index(np.sort(pd.unique(train["user"])))
        self.items_ = pd.Index(np.sort(pd.unique(train["item"])))
        u = self.users_.get_indexer(train["user"])
        i = self.items_.get_indexer(train["item"])
        X = sp.csr_matrix((np.ones(len(u)), (u, i)), shape=(len(self.users_), len(self.items_)))
        G = (X.T @ X).toarray()
        G[np.diag_indices_from(G)] += self.lam
        P = np.linalg.inv(G)
        B = -P / np.diag(P)[None, :]
        B[np.diag_indices_from(B)] = 0.0
        self.X_, self.B_ = X, B
        return self

    def recommend_many(self, users, k=10, exclude_seen=True):
        """Top-``k`` train items per user: frame with columns user, item, score, rank."""
        labels = np.asarray(users)
        uidx = self.users_.get_indexer(labels)
        if (uidx < 0).any():
            raise KeyError(f"user {labels[uidx < 0][0]!r} is not in the training data")
        S = self.X_[uidx] @ self.B_
        if exclude_seen:
            sub = self.X_[uidx]
            S[np.repeat(np.arange(len(uidx)), np.diff(sub.indptr)), sub.indices] = -np.inf
        order = np.argsort(-S, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(S, order, axis=1)
        keep = np.isfinite(top)
        return pd.DataFrame({"user": np.repeat(labels, keep.sum(axis=1)),
                             "item": self.items_.to_numpy()[order[keep]],
                             "score": top[keep], "rank": np.nonzero(keep)[1] + 1})

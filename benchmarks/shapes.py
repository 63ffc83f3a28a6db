"""A panel of shapes: Recommender() and its peers from 120 users to 10 million ratings.

Usage (from the repository root)::

    python benchmarks/shapes.py                     # the whole panel (long: see README)
    python benchmarks/shapes.py --list              # set and model names
    python benchmarks/shapes.py --sets planted      # the small planted sets only
    python benchmarks/shapes.py --sets ml-100k,ml-100k-clicks --folds u1
    python benchmarks/shapes.py --sets scale --scale-shape 2000x500x40000   # a quick check

The default ``Recommender()`` must hold on every shape of data a user brings, not only on
the one its defaults were first checked on. This script fits it, a few named variants and
every peer that applies, in one run, on:

* ``ml-100k``: MovieLens 100K, official folds u1-u5 (ratings: RMSE, P@10 / R@10 /
  NDCG@10 with relevant = test rating >= 4: protocols A and B of the evaluation);
* ``ml-100k-clicks``: the same folds with the ratings dropped (who rated what: P@10,
  R@20, NDCG@20 with every held-out interaction relevant, protocol C);
* ``ml-1m``, ``ml-1m-clicks``: MovieLens 1M, one random 90/10 split (NumPy
  ``default_rng(0).permutation`` of the rows, the first 90% train), the protocol of the
  published ml-1m rating tables; ratings and clicks as above;
* ``planted-<users>x<items>-<variant>``: small sets made by
  :func:`nmfrec.datasets.make_planted` (items in genres, users who like some genres),
  ratings or clicks, rated items drawn at random or tilted toward liked ones, split
  80/20 the same way; measured by the share of liked items in each user's top 5 (among
  the train items the user has not rated; the planted truth decides what is liked) and
  by P@10 on the held-out split (ratings: relevant >= 4; clicks: every held-out one);
* ``scale``: a synthetic set of ml-10m's shape (69,878 x 10,677, 10,000,054 ratings,
  :func:`nmfrec.datasets.make_ratings`) for the default fit's time and peak memory, in a
  fresh process (a warm-up fit compiles the kernels first; the peak is reset after the
  data are built).

Every model is fitted once per split on the training frame and then scored: ratings
through :func:`nmfrec.evaluation.evaluate` (``fit=False``), clicks by
:func:`click_metrics`, the planted truth by :func:`liked_share`. Nothing is chosen on a
test split: EASE's lambda is picked on a validation split cut from the training frame
(:class:`ValidatedEASE`); the one test-chosen anchor (EASE lambda = 1000 on ml-1m) says so
in its label.

A full run (every set, every default model, every fold, the ml-10m shape) writes
``benchmarks/results/shapes.json`` (per-split numbers, machine, versions, commit, date,
load average) and ``shapes.md``. A partial run only prints, unless ``--out DIR``.
Public nmfrec API only; the nmfrec measured is this checkout's.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's nmfrec, not an installed one
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import nmfrec  # noqa: E402
from nmfrec import datasets  # noqa: E402
from nmfrec.evaluation import Popularity, evaluate  # noqa: E402

import peers  # noqa: E402
from _common import (RSS_SNIPPET, git_commit, loadavg, machine_info, ml100k_folds,  # noqa: E402
                     results_dir, run_python, write_results)

SEED = 0
K = 10               # ratings: P@10, R@10, NDCG@10; clicks: P@10
K_CLICKS = 20        # clicks: R@20, NDCG@20
LIKED_K = 5          # planted: liked share of each top 5
RELEVANCE = 4.0      # ratings: relevant = test rating >= 4
ML1M_TEST = 0.1
PLANTED_TEST = 0.2
EASE_LAMBDAS = tuple(float(x) for x in np.round(10 ** np.arange(0, 4.01, 0.5), 1))
EASE_VALIDATION = 0.1
ML100K_FOLDS = datasets.ML100K_DEFAULT_FOLDS
#: ml-10m's shape, the default of --scale-shape.
SCALE_SHAPE = "69878x10677x10000054"

#: Planted shapes: name -> (n_users, n_items, n_genres, liked_genres, density).
PLANTED_SHAPES = {
    "120x60": (120, 60, 4, 2, 0.5),
    "300x200": (300, 200, 6, 2, 0.1),
    "1000x400": (1000, 400, 8, 2, 0.05),
}
#: Planted variants: name -> (feedback, tilt). Clicks drawn at random carry no taste
#: (which items a user clicked says nothing of what they like), so clicks come tilted.
PLANTED_VARIANTS = {
    "ratings-random": ("ratings", 0.0),
    "ratings-tilted": ("ratings", 0.8),
    "clicks-tilted": ("clicks", 0.8),
    "clicks-mild": ("clicks", 0.5),
}
PLANTED_SETS = tuple(f"planted-{s}-{v}" for s in PLANTED_SHAPES for v in PLANTED_VARIANTS)
REAL_SETS = ("ml-100k", "ml-100k-clicks", "ml-1m", "ml-1m-clicks")
SETS = (*REAL_SETS, *PLANTED_SETS, "scale")
PACKAGES = ("nmfrec", "numpy", "scipy", "pandas", "numba", "scikit-surprise", "implicit",
            "threadpoolctl")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ============================================================================ metrics
def with_ones(frame):
    """A click frame (user, item) with a rating column of ones, for the code that needs
    one (the peers' adapters, the popularity baseline, ``evaluate``)."""
    return frame[["user", "item"]].assign(rating=1.0)


def ratings_metrics(model, train, test):
    """Protocols A and B on a fitted model: :func:`nmfrec.evaluation.evaluate` with
    ``fit=False``, k = 10, relevant = test rating >= 4, RMSE only where the model
    predicts ratings."""
    r = evaluate(model, train, test, k=K, relevance_threshold=RELEVANCE, fit=False,
                 protocols=peers.protocols_of(model))
    keep = ("rmse", "mae", "precision", "recall", "ndcg", "map", "coverage",
            "n_users_scored", "n_pred_missing")
    return {key: r[key] for key in keep if key in r}


def click_metrics(model, train, test):
    """Protocol C of the evaluation (click data) on a fitted model.

    For each test user who has a train interaction, the model's top 20 among the train
    items the user has not interacted with (``recommend_many(users, 20,
    exclude_seen=True)``; the protocol checks that no train item comes back). Relevant:
    every held-out interaction of the user, with no threshold; a relevant item absent
    from train stays relevant. P@10 = hits in the top 10 / 10; R@20 = hits in the top
    20 / number relevant; NDCG@20 with binary gains, the ideal DCG over min(20, number
    relevant) items; means over the users scored. Test users without a train
    interaction cannot be ranked for and are counted, not scored.

    It runs :func:`nmfrec.evaluation.evaluate` (``fit=False``, ranking only) on the
    frames with a rating column of ones and a relevance threshold of 1, at k = 10 and at
    k = 20, so candidates, skipped users and the metrics are those of protocol B.

    Parameters
    ----------
    model : fitted model with ``recommend_many``
    train, test : DataFrame
        Click frames, columns ``user`` and ``item``.

    Returns
    -------
    dict
        ``p@10``, ``r@20``, ``ndcg@20``, ``coverage@20`` and ``n_users_scored``.
    """
    train, test = with_ones(train), with_ones(test)
    at = {k: evaluate(model, train, test, k=k, relevance_threshold=1.0, fit=False,
                      protocols=("ranking",)) for k in (K, K_CLICKS)}
    return {"p@10": at[K]["precision"], "r@20": at[K_CLICKS]["recall"],
            "ndcg@20": at[K_CLICKS]["ndcg"], "coverage@20": at[K_CLICKS]["coverage"],
            "n_users_scored": at[K_CLICKS]["n_users_scored"]}


def liked_share(model, train, planted, k=LIKED_K):
    """Mean over the train users of the share of liked items in their top ``k``.

    The top ``k`` is the model's ``recommend_many(users, k, exclude_seen=True)``, among
    the train items each user has not rated; whether a user likes an item is the
    planted truth (:meth:`nmfrec.datasets.PlantedTastes.likes`). A user given no item
    is left out (none is, while the catalogue is larger than a user's list).
    """
    users = np.sort(train["user"].unique())
    recs = model.recommend_many(users, k=k, exclude_seen=True)
    liked = planted.likes(recs["user"].to_numpy(), recs["item"].to_numpy())
    return float(pd.Series(liked).groupby(recs["user"].to_numpy()).mean().mean())


def chance_share(train, planted):
    """The liked share of a list drawn at random among each user's candidates (the train
    items the user has not rated), averaged over the train users: the level a model
    that knows nothing of tastes reaches."""
    items = np.sort(train["item"].unique())
    genres = planted.item_genres.loc[items].to_numpy()
    per_genre = np.bincount(genres, minlength=planted.user_genres.shape[1])
    users = np.sort(train["user"].unique())
    liked_catalogue = planted.user_genres.loc[users].to_numpy() @ per_genre
    seen = train.assign(liked=planted.likes(train["user"].to_numpy(), train["item"].to_numpy()))
    per_user = seen.groupby("user")["liked"].agg(["sum", "size"]).loc[users]
    candidates = len(items) - per_user["size"].to_numpy()
    liked = liked_catalogue - per_user["sum"].to_numpy()
    ok = candidates > 0
    return float(np.mean(liked[ok] / candidates[ok]))


# ============================================================================ EASE
class ValidatedEASE:
    """EASE (``peers.EASE``) whose lambda is chosen on a validation split of the
    training frame, never on the test split.

    ``fit(train)`` holds out ``validation_share`` of the training rows (NumPy
    ``default_rng(seed).permutation``, the first rows train, as the ml-1m split), fits
    EASE for each lambda of the grid on the rest, scores P@10 on the held-out rows
    (relevant: rating >= ``relevance_threshold``; for click frames, given with a rating
    column of ones, threshold 1: every held-out interaction), keeps the best lambda
    (ties: the larger) and refits on the whole training frame. The selection is part
    of the fit time.

    Parameters
    ----------
    relevance_threshold : float
    lambdas : sequence of float, default EASE_LAMBDAS (1 to 10,000, half decades)
    validation_share : float, default 0.1
    seed : int, default 0

    Attributes
    ----------
    lam_ : float
        The lambda chosen.
    validation_ : dict
        Validation P@10 of every lambda.
    """

    def __init__(self, relevance_threshold, lambdas=EASE_LAMBDAS,
                 validation_share=EASE_VALIDATION, seed=SEED):
        self.relevance_threshold = relevance_threshold
        self.lambdas = lambdas
        self.validation_share = validation_share
        self.seed = seed

    def fit(self, train):
        fit_part, validation = permutation_split(train, self.validation_share, self.seed)
        scores = {}
        for lam in self.lambdas:
            model = peers.EASE(lam).fit(fit_part)
            r = evaluate(model, fit_part, validation, k=K, fit=False, protocols=("ranking",),
                         relevance_threshold=self.relevance_threshold)
            scores[lam] = float(r["precision"])
        best = max(scores.values())
        self.lam_ = max(lam for lam, s in scores.items() if s == best)
        self.validation_ = scores
        self.model_ = peers.EASE(self.lam_).fit(train)
        return self

    def recommend_many(self, users, k=10, exclude_seen=True):
        """The fitted EASE's top-``k`` lists (see ``peers.EASE.recommend_many``)."""
        return self.model_.recommend_many(users, k=k, exclude_seen=exclude_seen)


# ============================================================================ models
@dataclass
class Model:
    """One row of the panel.

    ``make(kind)`` returns a fresh unfitted model for a set of that kind ("ratings" or
    "clicks"); ``kinds`` are the kinds it runs on; ``clicks_input`` is how a click set
    is given to it: ``"pairs"`` (the table of exactly two columns, user and item, as a
    user holding clicks has it) or ``"ones"`` (a rating column of ones added, what a
    model that needs a rating column gets); ``only`` limits it to some sets.
    """

    name: str
    label: str
    make: Callable[[str], object]
    kinds: tuple
    requires: tuple = ()
    clicks_input: str = "ones"
    only: tuple | None = None
    default: bool = True


def _nmfrec(**params):
    def make(kind):
        from nmfrec import Recommender

        return Recommender(random_state=SEED, **params)

    return make


#: The defaults of Recommender() before they followed the data, written out, so that
#: the panel compares the new defaults with the fixed ones in one run.
FIXED_DEFAULTS = dict(n_components=6, n_samples=200, preference_components=80,
                      preference_l2=30.0, missing_weight=0.3)
FIXED_IMPLICIT = dict(feedback="implicit", n_components=80, l2_W=30.0, l2_H=30.0,
                      missing_weight=0.3)

MODELS = [
    Model("nmfrec", "nmfrec Recommender(), defaults", _nmfrec(), ("ratings", "clicks"),
          ("numba",), clicks_input="pairs"),
    Model("nmfrec-implicit", "nmfrec Recommender(feedback=\"implicit\")",
          _nmfrec(feedback="implicit"), ("clicks",), ("numba",), clicks_input="pairs"),
    Model("nmfrec-fixed", "nmfrec, fixed defaults (rank 6, 200 draws; preference rank 80, "
          "penalty 30, missing weight 0.3)", _nmfrec(**FIXED_DEFAULTS), ("ratings",),
          ("numba",)),
    Model("nmfrec-implicit-fixed", "nmfrec feedback=\"implicit\", fixed defaults (rank 80, "
          "penalty 30, missing weight 0.3; clicks as ratings of 1)",
          _nmfrec(**FIXED_IMPLICIT), ("clicks",), ("numba",)),
    Model("nmfrec-rating-ranked", "nmfrec Recommender(ranking=\"rating\")",
          _nmfrec(ranking="rating"), ("ratings",), ("numba",), only=PLANTED_SETS),
    Model("surprise-svd", "scikit-surprise SVD, defaults",
          lambda kind: peers.SurpriseAdapter("SVD", random_state=SEED), ("ratings",),
          ("surprise",)),
    Model("surprise-svd-tuned", "scikit-surprise SVD(n_factors=100, n_epochs=40, "
          "reg_all=0.05)",
          lambda kind: peers.SurpriseAdapter("SVD", n_factors=100, n_epochs=40, reg_all=0.05,
                                             random_state=SEED), ("ratings",), ("surprise",)),
    Model("surprise-baseline", "scikit-surprise BaselineOnly",
          lambda kind: peers.SurpriseAdapter("BaselineOnly"), ("ratings",), ("surprise",)),
    Model("implicit-als", "implicit ALS (64 factors, regularization 0.05, 15 iterations)",
          lambda kind: peers.ImplicitALS(factors=64, values="binary", regularization=0.05,
                                         iterations=15, random_state=SEED),
          ("clicks",), ("implicit", "threadpoolctl")),
    Model("ease", "EASE, lambda chosen on a validation split of train",
          lambda kind: ValidatedEASE(RELEVANCE if kind == "ratings" else 1.0),
          ("ratings", "clicks")),
    Model("ease-1000", "EASE, lambda = 1000 (chosen on the ml-1m test split: an optimistic "
          "anchor)", lambda kind: peers.EASE(1000.0), ("ratings", "clicks"),
          only=("ml-1m", "ml-1m-clicks")),
    Model("popularity", "popularity", lambda kind: Popularity(), ("ratings", "clicks")),
]


# ============================================================================ data
@dataclass
class DataSet:
    name: str
    kind: str  # "ratings" or "clicks"
    description: str
    splits: dict  # split name -> (train, test)
    planted: object = None  # PlantedTastes, for the planted sets
    extra: dict = field(default_factory=dict)


def permutation_split(df, test_share, seed=SEED):
    """NumPy ``default_rng(seed).permutation`` of the rows; the first ``1 - test_share``
    of them train, the rest test (the ml-1m protocol), in permuted order."""
    order = np.random.default_rng(seed).permutation(len(df))
    n_train = int(round((1 - test_share) * len(df)))
    take = lambda idx: df.iloc[idx].reset_index(drop=True)  # noqa: E731
    return take(order[:n_train]), take(order[n_train:])


def _columns(kind):
    return ["user", "item", "rating"] if kind == "ratings" else ["user", "item"]


def load_set(name, data_home=None, folds=ML100K_FOLDS, cache=None):
    """The data set ``name`` (see ``SETS``), its splits ready to fit."""
    cache = {} if cache is None else cache
    kind = "clicks" if "clicks" in name else "ratings"
    cols = _columns(kind)
    if name.startswith("ml-100k"):
        if "ml-100k" not in cache:
            cache["ml-100k"] = ml100k_folds(data_home, folds)
        splits = {f: (tr[cols].copy(), te[cols].copy()) for f, (tr, te) in
                  cache["ml-100k"].items()}
        what = "ratings" if kind == "ratings" else "who rated what (ratings dropped)"
        return DataSet(name, kind, f"MovieLens 100K, official folds {', '.join(splits)}; "
                       f"{what}", splits)
    if name.startswith("ml-1m"):
        if "ml-1m" not in cache:
            ds = datasets.load_movielens("ml-1m", data_home=data_home)
            log(f"data: {ds.path} ({ds.meta.get('ratings_file')})")
            cache["ml-1m"] = permutation_split(ds.ratings, ML1M_TEST)
        tr, te = cache["ml-1m"]
        what = "ratings" if kind == "ratings" else "who rated what (ratings dropped)"
        return DataSet(name, kind, "MovieLens 1M, random 90/10 split (default_rng(0)."
                       f"permutation, first 90% train); {what}",
                       {"90/10": (tr[cols].copy(), te[cols].copy())})
    if name in PLANTED_SETS:
        _, shape, *variant = name.split("-")
        variant = "-".join(variant)
        n_users, n_items, n_genres, liked, density = PLANTED_SHAPES[shape]
        feedback, tilt = PLANTED_VARIANTS[variant]
        planted = datasets.make_planted(n_users, n_items, n_genres=n_genres,
                                        liked_genres=liked, density=density, tilt=tilt,
                                        feedback=feedback, seed=SEED)
        tr, te = permutation_split(planted.data, PLANTED_TEST)
        how = "at random" if tilt == 0 else f"tilted toward liked items (tilt {tilt:g})"
        desc = (f"make_planted({n_users}, {n_items}, n_genres={n_genres}, "
                f"liked_genres={liked}, density={density:g}, tilt={tilt:g}, "
                f"feedback={feedback!r}, seed={SEED}): {len(planted.data):,} {feedback}, "
                f"rated items drawn {how}; random 80/20 split")
        return DataSet(name, kind, desc, {"80/20": (tr, te)}, planted=planted,
                       extra={"chance_liked": chance_share(tr, planted),
                              "liked_share_of_data": float(planted.likes(
                                  planted.data["user"], planted.data["item"]).mean())})
    raise ValueError(f"unknown set {name!r}")


# ============================================================================ running
def applies(model, dataset):
    return dataset.kind in model.kinds and (model.only is None or dataset.name in model.only)


def missing_requirement(model):
    for mod in model.requires:
        try:
            importlib.import_module(mod)
        except Exception as e:  # ImportError, or a broken build
            return f"cannot import {mod} ({type(e).__name__}: {e})"
    return None


def fit_input(model, dataset, train):
    if dataset.kind == "ratings" or model.clicks_input == "pairs":
        return train
    return with_ones(train)


def run_model(model, dataset):
    """Fit and score one model on every split of one set; a dict with status, per-split
    numbers and their mean (and std over several splits)."""
    rec = {"name": model.name, "label": model.label, "status": "ok"}
    reason = missing_requirement(model)
    if reason is None:
        try:
            model.make(dataset.kind)
        except (TypeError, ValueError) as e:
            reason = f"this nmfrec does not accept the configuration ({type(e).__name__}: {e})"
    if reason is not None:
        log(f"  [{model.name}] skipped: {reason}")
        rec.update(status="skipped", reason=reason)
        return rec
    per_split = {}
    for split, (train, test) in dataset.splits.items():
        try:
            fitted = model.make(dataset.kind)
            data = fit_input(model, dataset, train)
            t0 = time.perf_counter()
            fitted.fit(data)
            r = {"fit_time": time.perf_counter() - t0}
            if dataset.kind == "ratings":
                r.update(ratings_metrics(fitted, train, test))
            else:
                r.update(click_metrics(fitted, train, test))
            if dataset.planted is not None:
                r["liked@5"] = liked_share(fitted, train, dataset.planted)
            if hasattr(fitted, "lam_"):
                r["lambda"] = fitted.lam_
        except Exception as e:
            reason = f"{split}: {type(e).__name__}: {e}"
            log(f"  [{model.name}] failed on {reason}")
            log("".join(traceback.format_exception(e)[-3:]).rstrip())
            rec.update(status="failed", reason=reason)
            break
        per_split[split] = {k: (float(v) if isinstance(v, (float, np.floating)) else v)
                            for k, v in r.items()}
        shown = " ".join(f"{k} {v:.4f}" for k, v in r.items()
                         if k in MEASURES and isinstance(v, float))
        if "lambda" in r:
            shown += f" (lambda {r['lambda']:g})"
        log(f"  [{model.name}] {split}: fit {r['fit_time']:.2f}s  {shown}")
    rec["splits"] = per_split
    if rec["status"] == "ok":
        keys = [k for k in (*MEASURES, "fit_time") if k in next(iter(per_split.values()))]
        vals = {k: np.array([per_split[s][k] for s in per_split], dtype=float) for k in keys}
        rec["mean"] = {k: float(v.mean()) for k, v in vals.items()}
        rec["std"] = {k: (float(v.std(ddof=1)) if v.size > 1 else None) for k, v in vals.items()}
    return rec


MEASURES = ("liked@5", "rmse", "precision", "recall", "ndcg", "p@10", "r@20", "ndcg@20")


SCALE_CODE = RSS_SNIPPET + r'''
import gc, json, time
t0 = time.perf_counter()
import nmfrec
from nmfrec import Recommender
from nmfrec.datasets import make_ratings
import_s = time.perf_counter() - t0
rss_import = _status("VmRSS")
t = time.perf_counter()
Recommender(random_state=0).fit(make_ratings(300, 200, 6000, seed=1)[["user", "item", "rating"]])
warmup_s = time.perf_counter() - t
t = time.perf_counter()
df = make_ratings(N_USERS, N_ITEMS, N_RATINGS, seed=0)[["user", "item", "rating"]]
generate_s = time.perf_counter() - t
gc.collect()
rss_before = _status("VmRSS")
reset = reset_peak()
t = time.perf_counter()
model = Recommender(random_state=0).fit(df)
fit_s = time.perf_counter() - t
peak = _status("VmHWM")
print(json.dumps({"import_s": import_s, "warmup_fit_s": warmup_s, "generate_s": generate_s,
                  "fit_s": fit_s, "rss_after_import": rss_import, "rss_before_fit": rss_before,
                  "peak_rss": peak, "peak_reset": reset, "n_ratings": len(df),
                  "nmfrec_path": nmfrec.__file__}))
'''


def run_scale(shape):
    """The default fit on a synthetic set of ``shape`` in a fresh process: time and peak
    resident memory (``VmHWM``, reset once the data are built)."""
    n_users, n_items, n_ratings = datasets.synthetic_shape(shape)
    code = (SCALE_CODE.replace("N_USERS", str(n_users)).replace("N_ITEMS", str(n_items))
            .replace("N_RATINGS", str(n_ratings)))
    log(f"== scale: Recommender(random_state=0).fit on make_ratings({n_users}, {n_items}, "
        f"{n_ratings}) in a fresh process")
    rec = {"shape": [n_users, n_items, n_ratings], "status": "ok"}
    try:
        rec.update(run_python(code, timeout=4 * 3600))
    except Exception as e:
        rec.update(status="failed", reason=f"{type(e).__name__}: {e}")
        log(f"  failed: {rec['reason']}")
        return rec
    log(f"  fit {rec['fit_s']:.1f} s, peak RSS {rec['peak_rss'] / 2**30:.2f} GiB "
        f"(before the fit {rec['rss_before_fit'] / 2**30:.2f} GiB)")
    return rec


# ============================================================================ output
def _cell(rec, key, digits=3):
    if rec.get("status") != "ok" or key not in rec.get("mean", {}):
        return "–"
    m, s = rec["mean"][key], rec["std"][key]
    return f"{m:.{digits}f}" if s is None else f"{m:.{digits}f} ± {s:.{digits}f}"


RATING_COLUMNS = (("rmse", "RMSE"), ("precision", "P@10"), ("recall", "R@10"),
                  ("ndcg", "NDCG@10"))
CLICK_COLUMNS = (("p@10", "P@10"), ("r@20", "R@20"), ("ndcg@20", "NDCG@20"))


def _not_ok(block):
    bad = [r for r in block["models"] if r["status"] != "ok"]
    return ("Not in the table: " + "; ".join(f"{r['name']} ({r['status']}: {r['reason']})"
                                             for r in bad) + ".") if bad else ""


def _real_table(block):
    cols = RATING_COLUMNS if block["kind"] == "ratings" else CLICK_COLUMNS
    lines = [f"**{block['name']}**: {block['description']}.", "",
             "| model | " + " | ".join(h for _, h in cols) + " | fit s |",
             "|---|" + "---|" * (len(cols) + 1)]
    for rec in block["models"]:
        if rec["status"] != "ok":
            continue
        lines.append(f"| {rec['label']} | " + " | ".join(_cell(rec, k) for k, _ in cols)
                     + f" | {_cell(rec, 'fit_time', 2)} |")
    note = _not_ok(block)
    return lines + ([""] + [note] if note else []) + [""]


def _planted_tables(blocks):
    """One table per planted shape: a row per model, a column per variant, cells
    'liked share of the top 5 / P@10'."""
    lines = []
    for shape in PLANTED_SHAPES:
        names = [f"planted-{shape}-{v}" for v in PLANTED_VARIANTS]
        present = [n for n in names if n in blocks]
        if not present:
            continue
        variants = [n.split(f"{shape}-", 1)[1] for n in present]
        n_users, n_items, n_genres, liked, density = PLANTED_SHAPES[shape]
        lines += [f"**planted {shape}**: {n_users} users x {n_items} items, {n_genres} "
                  f"genres, each user liking {liked}; each user rates about "
                  f"{density:g} of the items. Cells: liked share of the top 5 / P@10.", "",
                  "| model | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
        labels = {}
        for n in present:
            for rec in blocks[n]["models"]:
                labels.setdefault(rec["name"], rec["label"])
        by_set = {n: {r["name"]: r for r in blocks[n]["models"]} for n in present}
        for model, label in labels.items():
            cells = []
            for n in present:
                rec = by_set[n].get(model)
                if rec is None or rec["status"] != "ok":
                    cells.append("–" if rec is None else rec["status"])
                    continue
                p = rec["mean"].get("precision", rec["mean"].get("p@10"))
                cells.append(f"{rec['mean']['liked@5']:.2f} / {p:.3f}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        extra = [blocks[n]["extra"] for n in present]
        lines.append("| chance: a random list (the liked share of the data) | " + " | ".join(
            f"{e['chance_liked']:.2f} ({e['liked_share_of_data']:.2f})" for e in extra) + " |")
        notes = {}  # (model, reason) -> variants: a reason is said once per shape
        for n, variant in zip(present, variants):
            for rec in blocks[n]["models"]:
                if rec["status"] != "ok":
                    why = rec["reason"].split(": ", 1)[-1]
                    notes.setdefault((rec["name"], rec["status"], why), []).append(variant)
        if notes:
            lines += ["", "Not measured: " + "; ".join(
                f"{name} on {', '.join(where)} ({status}: {why})"
                for (name, status, why), where in notes.items()) + "."]
        lines.append("")
    return lines


def markdown(result):
    lines = []
    blocks = result["sets"]
    for name in REAL_SETS:
        if name in blocks:
            lines += _real_table(blocks[name])
    lines += _planted_tables(blocks)
    scale = result.get("scale")
    if scale:
        u, i, n = scale["shape"]
        if scale["status"] == "ok":
            lines += [f"**scale**: `Recommender(random_state=0).fit` on `make_ratings({u}, {i}, "
                      f"{n})` in a fresh process (kernels compiled by a warm-up fit first): "
                      f"fit **{scale['fit_s']:.0f} s**, peak RSS "
                      f"**{scale['peak_rss'] / 2**30:.2f} GiB** (RSS before the fit, data "
                      f"built: {scale['rss_before_fit'] / 2**30:.2f} GiB; generating the "
                      f"data took {scale['generate_s']:.0f} s).", ""]
        else:
            lines += [f"**scale** ({u} x {i}, {n:,} ratings): {scale['status']}: "
                      f"{scale['reason']}", ""]
    m = result["machine"]
    v = m["versions"]
    a, b = result["loadavg_start"], result["loadavg_end"]
    load = f"1-min load average {a[0]:.1f} before, {b[0]:.1f} after" if a and b else ""
    lines.append(
        f"k = {K} for ratings (relevant = test rating ≥ {RELEVANCE:g}); clicks: every held-out "
        f"interaction relevant, P@{K}, R@{K_CLICKS}, NDCG@{K_CLICKS}; planted: liked share of "
        f"each user's top {LIKED_K} among unseen train items, P@{K} on the held-out 20%. "
        "Mean ± std over folds where there are several; fit s: seconds per fit. "
        f"{m['cpu']}, {m['cores']} cores, {m.get('ram_gb', '?')} GB RAM; Python {m['python']}, "
        f"numpy {v['numpy']}, numba {v['numba']}, scikit-surprise {v.get('scikit-surprise')}, "
        f"implicit {v.get('implicit')}; nmfrec {result['git_commit'] or v['nmfrec']}; "
        f"{result['date']}; whole run {result['wall_time_s'] / 60:.1f} min ({load}) "
        f"(`{result['command']}`).")
    return "\n".join(lines) + "\n"


# ============================================================================ main
def _expand_sets(text):
    names = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part in SETS:
            names.append(part)
        elif part == "planted":
            names += PLANTED_SETS
        elif part.startswith("planted-") and part[len("planted-"):] in PLANTED_SHAPES:
            names += [n for n in PLANTED_SETS if n.startswith(part + "-")]
        else:
            raise ValueError(f"unknown set {part!r}; sets: {', '.join(SETS)}, or 'planted', "
                             f"'planted-<shape>' ({', '.join(PLANTED_SHAPES)})")
    return list(dict.fromkeys(names))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Sets: " + ", ".join(SETS))
    p.add_argument("--sets", default=None, help="comma-separated sets (default: all); "
                   "'planted' and 'planted-<shape>' name groups; see --list")
    p.add_argument("--models", default=None, help="comma-separated model names (default: "
                   "every default model); see --list")
    p.add_argument("--folds", default=",".join(ML100K_FOLDS),
                   help="ml-100k folds (default: u1..u5)")
    p.add_argument("--scale-shape", default=SCALE_SHAPE,
                   help="USERSxITEMSxRATINGS of the scale set (default: ml-10m's, "
                        "%(default)s)")
    p.add_argument("--data-home", default=None, help="folder holding ml-100k/ and ml-1m/ "
                   "(default: $NMFREC_DATA, else the user cache)")
    p.add_argument("--out", default=None, help="folder for shapes.json and shapes.md "
                   "(default: benchmarks/results for a full run; a partial run writes only "
                   "when this is given)")
    p.add_argument("--list", action="store_true", help="list the sets and models and exit")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        print("sets:")
        for s in SETS:
            print(f"  {s}")
        print("models:")
        for m in MODELS:
            where = "/".join(m.kinds)
            if m.only:
                where += ": " + ("planted sets" if m.only == PLANTED_SETS else ", ".join(m.only))
            print(f"  {m.name:24s} {m.label} [{where}]"
                  f"{'' if m.default else '  (not in a full run)'}")
        return 0
    try:
        names = _expand_sets(args.sets) if args.sets else list(SETS)
    except ValueError as e:
        log(str(e))
        return 2
    by_name = {m.name: m for m in MODELS}
    if args.models:
        wanted = [n.strip() for n in args.models.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            log(f"unknown model(s) {unknown}; known: {', '.join(by_name)}")
            return 2
        chosen = [by_name[n] for n in wanted]
    else:
        chosen = [m for m in MODELS if m.default]
    folds = tuple(f.strip() for f in args.folds.split(",") if f.strip())
    if not folds or any(f not in ML100K_FOLDS for f in folds):
        log(f"--folds must be a subset of {','.join(ML100K_FOLDS)}; got {args.folds!r}")
        return 2
    try:
        datasets.synthetic_shape(args.scale_shape)
    except ValueError as e:
        log(f"--scale-shape: {e}")
        return 2
    full = (args.sets is None and args.models is None and folds == ML100K_FOLDS
            and args.scale_shape == SCALE_SHAPE)
    out_dir = results_dir(args.out, full)

    load_start = loadavg()
    t_start = time.perf_counter()
    given = sys.argv[1:] if argv is None else list(argv)
    result = {"benchmark": "benchmarks/shapes.py", "seed": SEED,
              "command": " ".join(["python", "benchmarks/shapes.py", *given]), "sets": {}}
    cache = {}
    for name in names:
        if name == "scale":
            continue
        t0 = time.perf_counter()
        dataset = load_set(name, args.data_home, folds, cache)
        log(f"== {name}: {dataset.description}")
        models = [m for m in chosen if applies(m, dataset)]
        block = {"name": name, "kind": dataset.kind, "description": dataset.description,
                 "splits": {s: {"n_train": len(tr), "n_test": len(te)}
                            for s, (tr, te) in dataset.splits.items()},
                 "extra": dataset.extra, "models": [run_model(m, dataset) for m in models]}
        block["wall_time_s"] = time.perf_counter() - t0
        result["sets"][name] = block
    if "scale" in names:
        t0 = time.perf_counter()
        result["scale"] = run_scale(args.scale_shape)
        result["scale"]["wall_time_s"] = time.perf_counter() - t0
    result.update(date=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                  git_commit=git_commit(), nmfrec_path=str(Path(nmfrec.__file__).parent),
                  wall_time_s=time.perf_counter() - t_start, loadavg_start=load_start,
                  loadavg_end=loadavg(), machine=machine_info(PACKAGES))
    md = markdown(result)
    print(md)
    log(f"whole run: {result['wall_time_s']:.0f} s")
    write_results("shapes", result, md, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

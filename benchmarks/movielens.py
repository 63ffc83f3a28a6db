"""nmfrec and its peers side by side on MovieLens 100K: protocols A and B, one run.

Usage (from the repository root)::

    python benchmarks/movielens.py                       # everything, folds u1-u5
    python benchmarks/movielens.py --models nmfrec,surprise-svd --folds u1
    python benchmarks/movielens.py --list                # model names, then exit

Every model is fitted on each official fold's ``uN.base`` and scored on ``uN.test`` only
through :func:`nmfrec.evaluation.evaluate`: protocol A (rating
prediction; predictions clipped to the train range; RMSE, MAE) where the model predicts
ratings, protocol B (top-10 among the train items the user has not rated; relevant =
test rating >= 4; P@10 = hits/10, R@10, NDCG@10, MAP@10, catalog coverage@10) where it
ranks. A model lacking one of the two gets "–" there. Reported: mean and sample std over
the folds, and the median fit time per fold.

A full run (all models, all five folds) writes ``benchmarks/results/movielens.json`` (per
fold numbers, machine, versions, date) and ``benchmarks/results/movielens.md`` (the table
README includes). A partial run (``--models`` or ``--folds``) only prints its table,
unless ``--out DIR`` says where to write.

Data: nmfrec's own search, ``--data-home``, else ``$NMFREC_DATA``, else the user cache
(downloaded there where a network exists); ``make bench`` points ``NMFREC_DATA`` at
``../shared/data`` when that folder holds ml-100k.

Peers that are not installed, or a configuration this nmfrec does not accept, are skipped
with the reason printed; a model that fails on a fold is reported as failed, and the run
goes on. Everything is seeded (``SEED``); implicit's BPR runs on one thread because its
parallel SGD is not reproducible. This script measures the nmfrec of the checkout it is
in (it puts the repository root first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's nmfrec, not an installed one
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402

import nmfrec  # noqa: E402
from nmfrec import datasets  # noqa: E402
from nmfrec.evaluation import GlobalMean, Popularity, evaluate, similar_items_overlap  # noqa: E402

import peers  # noqa: E402
from _common import (git_commit, loadavg, machine_info, ml100k_folds,  # noqa: E402
                     results_dir, write_results)

SEED = 0
K = 10
RELEVANCE = 4.0
ALL_FOLDS = datasets.ML100K_DEFAULT_FOLDS


def _recommender(**params):
    def make():
        from nmfrec import Recommender

        return Recommender(random_state=SEED, **params)

    return make


# nmfrec configurations, one row each: (name, description, parameters of Recommender).
# Add a line to benchmark another configuration (a tuned one, implicit feedback, ...);
# parameters this nmfrec does not know skip that row with a message.
NMFREC_CONFIGS = [
    ("nmfrec", "nmfrec Recommender(), defaults", {}),
    ("nmfrec-implicit", "nmfrec Recommender(feedback=\"implicit\")", {"feedback": "implicit"}),
    ("nmfrec-penalized", "nmfrec Recommender(solver=\"als\", ranking=\"rating\") "
     "(the defaults of nmfrec 0.1)", {"solver": "als", "ranking": "rating"}),
]


class _PopularSimilar(Popularity):
    """Popularity, whose 'similar items' are the most popular ones: the level an item
    similarity has to beat."""

    def similar_items(self, item, k=10):
        return [j for j in self.ranked_items_[:k + 1] if j != item][:k]


@dataclass
class Model:
    name: str
    label: str
    make: Callable[[], object]
    requires: tuple = ()  # importable modules the model needs
    default: bool = True  # part of a full run
    notes: str = ""


MODELS = [
    *(Model(n, label, _recommender(**p), ("numba",)) for n, label, p in NMFREC_CONFIGS),
    Model("surprise-svd", "scikit-surprise SVD",
          lambda: peers.SurpriseAdapter("SVD", random_state=SEED), ("surprise",)),
    Model("surprise-nmf", "scikit-surprise NMF",
          lambda: peers.SurpriseAdapter("NMF", random_state=SEED), ("surprise",)),
    Model("surprise-nmf-biased", "scikit-surprise NMF, biased",
          lambda: peers.SurpriseAdapter("NMF", biased=True, random_state=SEED), ("surprise",)),
    Model("surprise-baseline", "scikit-surprise BaselineOnly",
          lambda: peers.SurpriseAdapter("BaselineOnly"), ("surprise",)),
    Model("cornac-nmf", "cornac NMF",
          lambda: peers.CornacNMF(seed=SEED), ("cornac",)),
    Model("sklearn-nmf-zerofill", "scikit-learn NMF, zero-filled, 15 components",
          lambda: peers.SklearnZeroFilledNMF(n_components=15, random_state=SEED),
          ("sklearn",)),
    Model("implicit-als", "implicit ALS, 64 factors (raw ratings)",
          lambda: peers.ImplicitALS(factors=64, values="raw", random_state=SEED),
          ("implicit", "threadpoolctl")),
    Model("implicit-als-binary", "implicit ALS, 64 factors (binarized)",
          lambda: peers.ImplicitALS(factors=64, values="binary", random_state=SEED),
          ("implicit", "threadpoolctl"), default=False),
    Model("implicit-bpr", "implicit BPR, 64 factors",
          lambda: peers.ImplicitBPR(factors=64, random_state=SEED),
          ("implicit", "threadpoolctl")),
    Model("ease", "EASE, lambda = 300 (chosen on the test folds)", lambda: peers.EASE(300.0),
          ("numpy",)),
    Model("popularity", "popularity", lambda: _PopularSimilar()),
    Model("global-mean", "global mean", lambda: GlobalMean()),
]

RATING = ("rmse", "mae")
RANKING = ("precision", "recall", "ndcg", "map", "coverage")
SIMILAR = ("genre_overlap",)
SIMILAR_MIN_RATINGS = 20   # items with fewer training ratings are not evaluated
COLUMNS = [  # (result key, table header)
    ("rmse", "RMSE"), ("mae", "MAE"),
    ("precision", f"P@{K}"), ("recall", f"R@{K}"), ("ndcg", f"NDCG@{K}"),
    ("map", f"MAP@{K}"), ("coverage", f"Cov@{K}"), ("genre_overlap", f"genres@{K}"),
]
PACKAGES = ("nmfrec", "numpy", "scipy", "pandas", "numba", "scikit-learn", "scikit-surprise",
            "implicit", "cornac", "threadpoolctl")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- data
# ---------------------------------------------------------------------------- running
def missing_requirement(model):
    for mod in model.requires:
        try:
            importlib.import_module(mod)
        except Exception as e:  # ImportError, or a broken build
            return f"cannot import {mod} ({type(e).__name__}: {e})"
    return None


def run_model(model, folds, genres=None, threshold=RELEVANCE):
    """Evaluate one model on every fold; a dict with status, per-fold results, summary.

    With ``genres`` (item -> genres), a model that has ``similar_items`` is also scored
    by the genre overlap of each item's ten most similar items
    (:func:`nmfrec.evaluation.similar_items_overlap`, items with at least
    ``SIMILAR_MIN_RATINGS`` training ratings).
    """
    rec = {"name": model.name, "label": model.label, "status": "ok"}
    reason = missing_requirement(model)
    if reason is None:
        try:
            probe = model.make()
        except (TypeError, ValueError) as e:
            reason = f"this nmfrec does not accept the configuration ({type(e).__name__}: {e})"
    if reason is not None:
        log(f"[{model.name}] skipped: {reason}")
        rec.update(status="skipped", reason=reason)
        return rec
    protocols = peers.protocols_of(probe)
    rec["protocols"] = list(protocols)
    per_fold = {}
    for fold, (train, test) in folds.items():
        try:
            fitted = model.make()
            r = evaluate(fitted, train, test, k=K, relevance_threshold=threshold,
                         protocols=protocols)
            if genres is not None and callable(getattr(fitted, "similar_items", None)):
                counts = train.groupby("item").size()
                items = counts.index[counts >= SIMILAR_MIN_RATINGS]
                r["genre_overlap"] = similar_items_overlap(fitted, items, genres, k=K)
        except Exception as e:
            reason = f"{fold}: {type(e).__name__}: {e}"
            log(f"[{model.name}] failed on {reason}")
            log("".join(traceback.format_exception(e)[-3:]).rstrip())
            rec.update(status="failed", reason=reason)
            break
        per_fold[fold] = {k: (float(v) if isinstance(v, (float, np.floating)) else v)
                          for k, v in r.items()}
        shown = " ".join(f"{h} {r[key]:.4f}" for key, h in COLUMNS if key in r)
        log(f"[{model.name}] {fold}: fit {r['fit_time']:.2f}s  {shown}")
    rec["folds"] = per_fold
    if rec["status"] == "ok":
        keys = [k for k in (*RATING, *RANKING, *SIMILAR) if k in next(iter(per_fold.values()))]
        vals = {k: np.array([per_fold[f][k] for f in per_fold]) for k in keys}
        rec["mean"] = {k: float(v.mean()) for k, v in vals.items()}
        rec["std"] = {k: (float(v.std(ddof=1)) if v.size > 1 else None)
                      for k, v in vals.items()}
        fit = np.array([per_fold[f]["fit_time"] for f in per_fold])
        rec["fit_time_median"] = float(np.median(fit))
        rec["fit_time_first"] = float(fit[0])
    return rec


# ---------------------------------------------------------------------------- output
def _cell(rec, key):
    if rec.get("status") != "ok" or key not in rec.get("mean", {}):
        return "–"
    m, s = rec["mean"][key], rec["std"][key]
    return f"{m:.3f}" if s is None else f"{m:.3f} ± {s:.3f}"


def _load_note(result):
    """The 1-min load averages before and after the run: other work inflates fit times."""
    a, b = result.get("loadavg_start"), result.get("loadavg_end")
    if not (a and b):
        return ""
    return f" (1-min load average {a[0]:.1f} before, {b[0]:.1f} after)"


def markdown(result):
    head = ["model"] + [h for _, h in COLUMNS] + ["fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rec in result["models"]:
        if rec["status"] != "ok":
            continue
        fit = f"{rec['fit_time_median']:.2f}"
        lines.append("| " + " | ".join([rec["label"]] + [_cell(rec, k) for k, _ in COLUMNS]
                                       + [fit]) + " |")
    m = result["machine"]
    v = m["versions"]
    peers_v = ", ".join(f"{p} {v[p]}" for p in ("scikit-surprise", "implicit", "scikit-learn",
                                                "cornac") if v.get(p))
    lines += [
        "",
        f"Mean ± std over MovieLens 100K folds {', '.join(result['folds'])}; "
        f"k = {K}, relevant = test rating ≥ {RELEVANCE:g}; genres@{K}: mean Jaccard overlap "
        f"of an item's genres with those of its {K} most similar items (items with at least "
        f"{SIMILAR_MIN_RATINGS} training ratings); \"–\": the model does not do "
        "that protocol; fit s: median seconds per fold. "
        f"{m['cpu']}, {m['cores']} cores, {m.get('ram_gb', '?')} GB RAM; "
        f"Python {m['python']}, numpy {v['numpy']}, numba {v['numba']}; {peers_v}; "
        f"nmfrec {result['git_commit'] or v['nmfrec']}; {result['date']}; "
        f"whole run {result['wall_time_s'] / 60:.1f} min{_load_note(result)} "
        f"(`python benchmarks/movielens.py`).",
    ]
    skipped = [r for r in result["models"] if r["status"] != "ok"]
    if skipped:
        lines += ["", "Not in the table: " + "; ".join(
            f"{r['name']} ({r['status']}: {r['reason']})" for r in skipped) + "."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--folds", default=",".join(ALL_FOLDS),
                   help="comma-separated subset of u1..u5 (default: all five)")
    p.add_argument("--models", default=None,
                   help="comma-separated model names (default: every default model); "
                        "see --list")
    p.add_argument("--data-home", default=None, help="folder that holds ml-100k/ (default: "
                   "$NMFREC_DATA, else the user cache)")
    p.add_argument("--out", default=None,
                   help="folder for movielens.json and movielens.md (default: "
                        "benchmarks/results for a full run; a partial run writes only "
                        "when this is given)")
    p.add_argument("--list", action="store_true", help="list the model names and exit")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        for m in MODELS:
            print(f"{m.name:22s} {m.label}{'' if m.default else '  (not in a full run)'}")
        return 0
    by_name = {m.name: m for m in MODELS}
    if args.models:
        names = [n.strip() for n in args.models.split(",") if n.strip()]
        unknown = [n for n in names if n not in by_name]
        if unknown:
            log(f"unknown model(s) {unknown}; known: {', '.join(by_name)}")
            return 2
        chosen = [by_name[n] for n in names]
    else:
        chosen = [m for m in MODELS if m.default]
    fold_names = tuple(f.strip() for f in args.folds.split(",") if f.strip())
    bad = [f for f in fold_names if f not in ALL_FOLDS]
    if bad or not fold_names:
        log(f"--folds must be a subset of {','.join(ALL_FOLDS)}; got {args.folds!r}")
        return 2
    full = args.models is None and fold_names == ALL_FOLDS
    out_dir = results_dir(args.out, full)

    log(f"loading ml-100k folds {','.join(fold_names)}")
    folds = ml100k_folds(args.data_home, fold_names)
    genres = datasets.load_movielens("ml-100k", data_home=args.data_home).items["genres"]

    load_start = loadavg()
    t0 = time.perf_counter()
    results = []
    for model in chosen:
        log(f"[{model.name}] {model.label}")
        results.append(run_model(model, folds, genres))
    wall = time.perf_counter() - t0

    result = {
        "benchmark": "benchmarks/movielens.py",
        "dataset": "ml-100k",
        "folds": list(fold_names),
        "k": K,
        "relevance_threshold": RELEVANCE,
        "seed": SEED,
        "command": " ".join(["python", "benchmarks/movielens.py", *sys.argv[1:]]),
        "date": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "git_commit": git_commit(),
        "nmfrec_path": str(Path(nmfrec.__file__).parent),
        "wall_time_s": wall,
        # other processes share the cores: the 1/5/15-min load averages around the run
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
        "machine": machine_info(PACKAGES),
        "models": results,
    }
    md = markdown(result)
    print(md)
    log(f"whole run: {wall:.0f} s")
    write_results("movielens", result, md, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rank selection on MovieLens 100K: cross-validated on u1.base only, then checked on u1.test.

Usage (from the repository root)::

    python benchmarks/rank_selection.py                      # ~2-5 min on 2 cores
    python benchmarks/rank_selection.py --ranks 5,10,20 --out /tmp/res
    python benchmarks/rank_selection.py --data-home /path/with/ml-100k

What it does, for the default explicit-feedback ``Recommender()`` (only its rank varies,
``random_state`` fixed):

1. :func:`nmfrec.model_selection.select_rank` over the ranks with 3-fold per-user CV
   (:func:`nmfrec.evaluation.user_kfold`, seeded) on the training ratings of the
   official fold u1 (``u1.base``) only: the rank is chosen without looking at ``u1.test``.
   Both the best-CV-RMSE rank and the one-standard-error rank are reported.
2. Each rank is then fitted on all of ``u1.base`` and scored on ``u1.test`` by
   :func:`nmfrec.evaluation.evaluate` (protocol A: RMSE, MAE of clipped predictions;
   protocol B: P@10 etc.), to show how well the CV choice carries over to held-out data.

Writes ``benchmarks/results/rank_selection.json`` (everything, with the machine, date,
git commit and load average), ``rank_selection.md`` (the table) and
``rank_selection.png`` (CV RMSE ± std over folds and u1.test RMSE against rank). A run
with non-default ``--ranks``/``--seed``/``--n-splits`` writes only with ``--out``.

Data: nmfrec's own search, ``--data-home``, else ``$NMFREC_DATA``, else the user cache
(downloaded there where a network exists); ``make bench`` points ``NMFREC_DATA`` at
``../shared/data`` when that folder holds ml-100k. The data are never copied here.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's nmfrec, not an installed one
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402

from nmfrec import Recommender  # noqa: E402
from nmfrec.evaluation import evaluate  # noqa: E402
from nmfrec.model_selection import select_rank  # noqa: E402

from _common import (git_commit, loadavg, machine_info, ml100k_folds,  # noqa: E402
                     results_dir, write_results)

PACKAGES = ("nmfrec", "numpy", "scipy", "pandas", "numba", "matplotlib")

SEED = 0
RANKS = (2, 4, 6, 8, 12, 20)   # the default (Bayesian) rating part: 6
N_SPLITS = 3
COMPARE_SPLITS = 5   # a second CV, for comparison only: its models train on 80 % of u1.base
K = 10
RELEVANCE = 4.0
FOLD = "u1"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def one_se_rank(table, n_splits):
    """Smallest rank whose mean CV RMSE is within one standard error of the best one."""
    best = table.loc[table["mean_score"].idxmin()]
    bound = best["mean_score"] + best["std_score"] / np.sqrt(n_splits)
    return int(table.loc[table["mean_score"] <= bound, "param_n_components"].min())


def _f(x, nd=4):
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{nd}f}"


def markdown(result):
    rows = result["ranks"]
    n, c = result["n_splits"], result["compare_splits"]
    cmp_head = f" {c}-fold CV RMSE (comparison) |" if c else ""
    lines = [f"| rank | {n}-fold CV RMSE (u1.base) |{cmp_head} CV P@10 | u1.test RMSE "
             "| u1.test MAE | u1.test P@10 | fit s (u1.base) |",
             "|---:|---|" + ("---|" if c else "") + "---:|---:|---:|---:|---:|"]
    for r in rows:
        mark = []
        if r["rank"] == result["chosen_best"]:
            mark.append("CV best")
        if r["rank"] == result["chosen_one_se"]:
            mark.append("1-SE")
        if r["rank"] == result["test_best"]:
            mark.append("test best")
        label = f"{r['rank']}" + (f" ({', '.join(mark)})" if mark else "")
        cmp_cell = (f" {_f(r['cv_cmp_rmse'])} ± {_f(r['cv_cmp_rmse_std'])} |" if c else "")
        lines.append(f"| {label} | {_f(r['cv_rmse'])} ± {_f(r['cv_rmse_std'])} |{cmp_cell} "
                     f"{_f(r['cv_precision'], 3)} | {_f(r['test_rmse'])} | "
                     f"{_f(r['test_mae'])} | {_f(r['test_precision'], 3)} | "
                     f"{r['test_fit_time']:.2f} |")
    cv = [r["cv_rmse"] for r in rows]
    te = [r["test_rmse"] for r in rows]
    spread = (f"CV RMSE spans {min(cv):.4f}–{max(cv):.4f} over the ranks (range "
              f"{max(cv) - min(cv):.4f}, std over folds ≈ "
              f"{np.mean([r['cv_rmse_std'] for r in rows]):.4f}); u1.test RMSE spans "
              f"{min(te):.4f}–{max(te):.4f}. CV models train on "
              f"{(result['n_splits'] - 1) / result['n_splits']:.0%} of u1.base. ")
    m = result["machine"]
    la, lb = result.get("loadavg_start"), result.get("loadavg_end")
    load = (f" (1-min load average {la[0]:.1f} before, {lb[0]:.1f} after)"
            if la and lb else "")
    lines += [
        "",
        f"Default `Recommender()` (explicit feedback; only `n_components` varies, "
        f"random_state={SEED}). Rank chosen by `select_rank` with {result['n_splits']}-fold "
        f"per-user CV on u1.base only (mean ± std over folds): "
        f"**{result['chosen_best']}** (lowest CV RMSE), **{result['chosen_one_se']}** "
        f"(one-standard-error rule); lowest u1.test RMSE at {result['test_best']}. "
        + (f"The {c}-fold comparison picks {result['compare_chosen_best']} (lowest) and "
           f"{result['compare_chosen_one_se']} (one-SE). " if c else "") +
        f"{spread}P@10: top-{K} among unseen train items, relevant = rating ≥ {RELEVANCE:g}. "
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy "
        f"{m['versions']['numpy']}, numba {m['versions']['numba']}; nmfrec "
        f"{result['git_commit'] or m['versions']['nmfrec']}; {result['date']}; whole run "
        f"{result['wall_time_s'] / 60:.1f} min{load} (`python benchmarks/rank_selection.py`).",
    ]
    return "\n".join(lines) + "\n"


def plot(search, result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.6))
    search.plot("n_components", ax=ax)
    ranks = [r["rank"] for r in result["ranks"]]
    if result["compare_splits"]:
        ax.errorbar(ranks, [r["cv_cmp_rmse"] for r in result["ranks"]],
                    yerr=[r["cv_cmp_rmse_std"] for r in result["ranks"]], marker="^",
                    capsize=3, color="C1", alpha=0.8,
                    label=f"CV RMSE, {result['compare_splits']} folds (comparison)")
    ax.plot(ranks, [r["test_rmse"] for r in result["ranks"]], marker="s", color="C2",
            label="u1.test RMSE (fit on all of u1.base)")
    ax.set_ylabel("RMSE (lower is better)")
    ax.set_xlabel("rank (n_components)")
    ax.set_title("MovieLens 100K: rank chosen by CV on u1.base, checked on u1.test",
                 fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    m = result["machine"]
    fig.text(0.01, 0.01, f"Default Recommender(); rank chosen by {result['n_splits']}-fold "
             "per-user CV on u1.base; "
             f"error bars: std over folds. {m['cpu']}, {m['cores']} cores; "
             f"{result['date'][:10]}; nmfrec {result['git_commit']}",
             fontsize=6.5, color="0.35")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-home", help="folder holding ml-100k/ (default: $NMFREC_DATA, "
                   "else the user cache)")
    p.add_argument("--ranks", default=",".join(map(str, RANKS)),
                   help=f"comma-separated ranks (default {','.join(map(str, RANKS))})")
    p.add_argument("--n-splits", type=int, default=N_SPLITS, help="CV folds (default 3)")
    p.add_argument("--compare-splits", type=int, default=COMPARE_SPLITS,
                   help="also run CV with this many folds, for comparison only (default 5; "
                   "0 skips it)")
    p.add_argument("--seed", type=int, default=SEED, help="seed of the folds (default 0)")
    p.add_argument("--out", help="directory for the results (default benchmarks/results "
                   "for a default run; a non-default run only prints unless given)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    ranks = tuple(int(r) for r in args.ranks.split(","))
    default_run = (ranks == RANKS and args.n_splits == N_SPLITS and args.seed == SEED
                   and args.compare_splits == COMPARE_SPLITS)
    out = results_dir(args.out, default_run)
    warnings.filterwarnings("ignore", message=".*reached max_iter.*")

    train, test = ml100k_folds(args.data_home, (FOLD,))[FOLD]
    log(f"{FOLD}.base: {len(train)} ratings, {FOLD}.test: {len(test)} ratings")

    t_start = time.perf_counter()
    load_start = loadavg()
    estimator = Recommender(random_state=SEED)
    log(f"1/2: select_rank over {ranks}, {args.n_splits}-fold per-user CV on {FOLD}.base")
    best, table, search = select_rank(estimator, train, ranks=ranks, cv=args.n_splits,
                                      scoring="rmse", k=K, relevance_threshold=RELEVANCE,
                                      random_state=args.seed, verbose=1, return_search=True)
    one_se = one_se_rank(table, search.n_splits_)
    log(f"   CV best rank {best}, one-standard-error rank {one_se}")

    cmp_table = None
    if args.compare_splits:
        log(f"   comparison: {args.compare_splits}-fold per-user CV on {FOLD}.base")
        cmp_best, cmp_table = select_rank(estimator, train, ranks=ranks,
                                          cv=args.compare_splits, scoring="rmse", k=K,
                                          relevance_threshold=RELEVANCE,
                                          random_state=args.seed, verbose=1,
                                          protocols=("rating",))
        cmp_table = cmp_table.set_index("param_n_components")
        log(f"   {args.compare_splits}-fold CV best rank {cmp_best}, one-standard-error "
            f"rank {one_se_rank(cmp_table.reset_index(), args.compare_splits)}")

    log(f"2/2: each rank fitted on all of {FOLD}.base, scored on {FOLD}.test")
    rows = []
    for r, cv_row in zip(ranks, table.sort_values("param_n_components").itertuples()):
        assert cv_row.param_n_components == r
        res = evaluate(Recommender(n_components=r, random_state=SEED), train, test, k=K,
                       relevance_threshold=RELEVANCE)
        log(f"   rank {r:3d}: test RMSE {res['rmse']:.4f}  P@10 {res['precision']:.3f}  "
            f"(fit {res['fit_time']:.1f} s)")
        rows.append({
            "rank": r,
            "cv_rmse": float(cv_row.mean_score), "cv_rmse_std": float(cv_row.std_score),
            "cv_mae": float(cv_row.mean_mae), "cv_precision": float(cv_row.mean_precision),
            "cv_ndcg": float(cv_row.mean_ndcg), "cv_fit_time": float(cv_row.mean_fit_time),
            "cv_cmp_rmse": (float(cmp_table.loc[r, "mean_score"])
                            if cmp_table is not None else None),
            "cv_cmp_rmse_std": (float(cmp_table.loc[r, "std_score"])
                                if cmp_table is not None else None),
            "test_rmse": float(res["rmse"]), "test_mae": float(res["mae"]),
            "test_precision": float(res["precision"]), "test_recall": float(res["recall"]),
            "test_ndcg": float(res["ndcg"]), "test_fit_time": float(res["fit_time"]),
        })
    test_best = min(rows, key=lambda x: x["test_rmse"])["rank"]
    chosen = {x["rank"]: x for x in rows}
    result = {
        "description": "Rank chosen by 3-fold per-user CV (select_rank) on ml-100k u1.base "
                       "for the default explicit Recommender; every rank also scored on "
                       "u1.test.",
        "estimator": repr(estimator),
        "estimator_params": {k: (v if isinstance(v, (int, float, str, bool, type(None)))
                                 else repr(v)) for k, v in estimator.get_params().items()},
        "fold": FOLD, "n_train": len(train), "n_test": len(test),
        "n_splits": search.n_splits_, "seed": args.seed, "k": K,
        "relevance_threshold": RELEVANCE,
        "chosen_best": best, "chosen_one_se": one_se, "test_best": test_best,
        "compare_splits": args.compare_splits or None,
        "compare_chosen_best": (int(cmp_table["mean_score"].idxmin())
                                if cmp_table is not None else None),
        "compare_chosen_one_se": (one_se_rank(cmp_table.reset_index(), args.compare_splits)
                                  if cmp_table is not None else None),
        "test_rmse_at_chosen_best": chosen[best]["test_rmse"],
        "test_rmse_at_chosen_one_se": chosen[one_se]["test_rmse"],
        "test_rmse_best": chosen[test_best]["test_rmse"],
        "ranks": rows,
        "cv_folds": json.loads(search.fold_results_.to_json(orient="records")),
        "machine": machine_info(PACKAGES),
        "git_commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python", "benchmarks/rank_selection.py"] + sys.argv[1:]),
        "loadavg_start": load_start,
        "loadavg_end": loadavg(),
    }
    result["wall_time_s"] = time.perf_counter() - t_start
    md = markdown(result)
    print(md)
    if write_results("rank_selection", result, md, out) is None:
        return result
    if not args.no_plot:
        try:
            plot(search, result, out / "rank_selection.png")
            log(f"wrote {out / 'rank_selection.png'}")
        except ImportError as e:
            log(f"no plot: {e}")
    return result


if __name__ == "__main__":
    main()

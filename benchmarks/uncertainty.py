"""How good are the default model's predictive distributions? (ml-100k u1-u5, ml-1m 90/10)

    python benchmarks/uncertainty.py                    # ml-100k u1-u5
    python benchmarks/uncertainty.py --folds u1 --ml1m  # one fold, and ml-1m 90/10
    python benchmarks/uncertainty.py --folds none --ml1m --name uncertainty_ml1m

For each split the default ``Recommender(random_state=0)`` is fitted on the training
ratings and scored on the test pairs whose user and item it knows (a pair of an unknown
id has no distribution; how many are left out is reported). Measures:

* **log score**: mean log probability of the test rating under ``predict_proba``,
  against a baseline: a normal around ``predict`` with the standard deviation of the
  training residuals (``predict`` on the training pairs), binned onto the rating values
  the same way (midpoints as edges, tails to the end values). Must be >= baseline + 0.04.
* **PIT histogram**: the non-randomized PIT histogram of Czado, Gneiting & Held (2009),
  the expectation of the randomized one (``nmfrec.evaluation.pit_histogram``), 10 bins;
  each must be within 0.1 +- 0.02.
* **intervals** at 80% and 90% (``predict_interval``): coverage within +-0.02 of the
  mean mass, and mean mass <= level + 0.08.
* **uncertainty ranks errors**: mean absolute error of ``predict`` in the quarter of test
  pairs with the largest ``return_std`` over that in the quarter with the smallest: >= 1.5.
* a **reliability diagram**: for every rating value, the predicted probabilities of the
  test pairs in 10 bins against how often that value was observed
  (``benchmarks/results/uncertainty.png`` if matplotlib is importable, else a text table).

Nothing is tuned on the test splits: the model has no knob here, every prior is fixed a
priori or drawn from the training data. Writes ``benchmarks/results/NAME.{json,md,png}``
(``--name``, default ``uncertainty``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (RESULTS, git_commit, loadavg, log, machine_info,  # noqa: E402
                     machine_line, ml100k_folds, now)

import nmfrec  # noqa: E402
from nmfrec.evaluation import interval_coverage, log_score, pit_histogram  # noqa: E402

SEED = 0
LEVELS = (0.8, 0.9)
N_BINS = 10
ML1M_TEST = 0.1


def binned_normal(mean, sd, values):
    """A normal(mean, sd) per row, binned onto ``values`` as predict_proba bins."""
    edges = (values[1:] + values[:-1]) / 2
    cdf = ndtr((edges[None, :] - mean[:, None]) / sd)
    full = np.concatenate([np.zeros((mean.size, 1)), cdf, np.ones((mean.size, 1))], axis=1)
    return pd.DataFrame(np.diff(full, axis=1), columns=values)


def reliability(P, y, bins=N_BINS):
    """Pooled over rating values: per bin of predicted probability, the mean prediction,
    the observed frequency and the count."""
    values = P.columns.to_numpy(float)
    p = P.to_numpy().ravel()
    hit = (y[:, None] == values[None, :]).ravel().astype(float)
    b = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for j in range(bins):
        sel = b == j
        if sel.any():
            out.append({"bin": j, "predicted": float(p[sel].mean()),
                        "observed": float(hit[sel].mean()), "count": int(sel.sum())})
    return out


def score_split(name, train, test):
    rec = nmfrec.Recommender(random_state=SEED)
    t0 = time.perf_counter()
    rec.fit(train)
    fit_time = time.perf_counter() - t0
    y_all = test["rating"].to_numpy(float)
    rmse = float(np.sqrt(np.mean((rec.predict(test, unknown="baseline") - y_all) ** 2)))
    known = test["user"].isin(rec.users_.labels_) & test["item"].isin(rec.items_.labels_)
    test = test[known.to_numpy()]
    y = test["rating"].to_numpy(float)
    t0 = time.perf_counter()
    P = rec.predict_proba(test)
    proba_time = time.perf_counter() - t0
    values = P.columns.to_numpy(float)
    mean, std = rec.predict(test, return_std=True)
    resid_sd = float(np.sqrt(np.mean((rec.predict(train) - train["rating"].to_numpy(float)) ** 2)))
    base = binned_normal(rec.predict(test), resid_sd, values)
    pit = pit_histogram(P, y, N_BINS)
    row = {"split": name, "n_test": int(len(y_all)), "n_scored": int(len(y)),
           "fit_time_s": round(fit_time, 2), "proba_time_s": round(proba_time, 3),
           "rmse": rmse, "log_score": log_score(P, y), "baseline_log_score": log_score(base, y),
           "train_residual_sd": resid_sd, "pit": pit.tolist(),
           "pit_max_dev": float(np.max(np.abs(pit - 1 / N_BINS))),
           "n_kept": int(rec.model_.noise_precision_.size)}
    row["log_score_gain"] = row["log_score"] - row["baseline_log_score"]
    for level in LEVELS:
        iv = rec.predict_interval(test, level=level)
        row[f"coverage_{level}"] = interval_coverage(iv, y)
        row[f"mass_{level}"] = float(iv["mass"].mean())
    err = np.abs(mean - y)
    lo_q, hi_q = np.quantile(std, [0.25, 0.75])
    row["mae_least_uncertain"] = float(err[std <= lo_q].mean())
    row["mae_most_uncertain"] = float(err[std >= hi_q].mean())
    row["mae_ratio"] = row["mae_most_uncertain"] / row["mae_least_uncertain"]
    row["reliability"] = reliability(P, y)
    log(f"{name}: RMSE {rmse:.4f}, log score {row['log_score']:.4f} (baseline "
        f"{row['baseline_log_score']:.4f}, +{row['log_score_gain']:.4f}), PIT max dev "
        f"{row['pit_max_dev']:.4f}, 80%: cov {row['coverage_0.8']:.3f} mass "
        f"{row['mass_0.8']:.3f}, 90%: cov {row['coverage_0.9']:.3f} mass {row['mass_0.9']:.3f}, "
        f"MAE ratio {row['mae_ratio']:.2f}, fit {fit_time:.1f} s")
    return row


def checks(r):
    """The five criteria on one row (a split or the mean)."""
    out = {"log_score": r["log_score_gain"] >= 0.04,
           "pit": r["pit_max_dev"] <= 0.02,
           "mae_ratio": r["mae_ratio"] >= 1.5}
    for level in LEVELS:
        out[f"interval_{level}"] = (abs(r[f"coverage_{level}"] - r[f"mass_{level}"]) <= 0.02
                                    and r[f"mass_{level}"] <= level + 0.08)
    return out


def mean_row(rows):
    keys = ["rmse", "log_score", "baseline_log_score", "log_score_gain", "mae_ratio",
            "mae_least_uncertain", "mae_most_uncertain", "fit_time_s"]
    keys += [f"{w}_{level}" for level in LEVELS for w in ("coverage", "mass")]
    m = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    m["pit"] = np.mean([r["pit"] for r in rows], axis=0).tolist()
    # every fold's bins must hold, so the mean's deviation is the largest of the folds'
    m["pit_max_dev"] = float(max(r["pit_max_dev"] for r in rows))
    m["split"] = "mean"
    return m


def markdown(result):
    lines = ["# Predictive distributions of the default model", "",
             f"`{result['command']}` — {result['date']}, commit {result['commit']}", "",
             f"Machine: {machine_line(result['machine'])}", "",
             "Test pairs of known users and items; baseline: a normal around `predict` with "
             "the training residual sd, binned the same way. PIT: Czado et al.'s "
             "non-randomized histogram, 10 bins (largest deviation from 0.1).", "",
             "| split | RMSE | log score | baseline | gain (>= 0.04) | PIT max dev (<= 0.02) "
             "| 80%: coverage / mass | 90%: coverage / mass | MAE most/least uncertain (>= 1.5) "
             "| fit s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"] + ([result["mean"]] if result["mean"] else []) + result["other"]:
        lines.append(
            f"| {r['split']} | {r['rmse']:.4f} | {r['log_score']:.4f} | "
            f"{r['baseline_log_score']:.4f} | {r['log_score_gain']:+.4f} | "
            f"{r['pit_max_dev']:.4f} | {r['coverage_0.8']:.3f} / {r['mass_0.8']:.3f} | "
            f"{r['coverage_0.9']:.3f} / {r['mass_0.9']:.3f} | {r['mae_ratio']:.2f} | "
            f"{r['fit_time_s']:.1f} |")
    lines += ["", ("Criteria on the u1-u5 means (PIT: every fold): " if result["mean"]
                   else "Criteria: ")
              + ", ".join(f"{k} {'met' if v else 'MISSED'}"
                          for k, v in result["checks"].items()), ""]
    for r in ([result["mean"]] if result["mean"] else []) + result["other"]:
        lines += [f"PIT histogram ({'u1-u5 mean' if r['split'] == 'mean' else r['split']}): "
                  + " ".join(f"{x:.3f}" for x in r["pit"]), ""]
    if result.get("diagram"):
        lines += [f"Reliability diagram: `{result['diagram']}`", ""]
    else:
        first = (result["rows"] + result["other"])[0]
        lines += [f"Reliability ({first['split']}, all rating values pooled): predicted / "
                  "observed / count", ""]
        for b in first["reliability"]:
            lines.append(f"- {b['predicted']:.3f} / {b['observed']:.3f} / {b['count']}")
    return "\n".join(lines) + "\n"


def diagram(rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    for r in rows:
        rel = r["reliability"]
        ax.plot([b["predicted"] for b in rel], [b["observed"] for b in rel], marker="o",
                ms=3, lw=1, label=r["split"])
    ax.set_xlabel("predicted probability of a rating value")
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability of predict_proba")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(Path(path).relative_to(RESULTS.parent.parent))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folds", default="u1,u2,u3,u4,u5", help="ml-100k folds, or 'none'")
    ap.add_argument("--name", default="uncertainty", help="name of the result files")
    ap.add_argument("--ml1m", action="store_true", help="also ml-1m, one 90/10 split")
    ap.add_argument("--data-home", default=None)
    args = ap.parse_args(argv)
    command = "python benchmarks/uncertainty.py" + (f" {' '.join(argv or sys.argv[1:])}"
                                                     if (argv or sys.argv[1:]) else "")
    start, load_start = time.perf_counter(), loadavg()
    folds = ({} if args.folds == "none"
             else ml100k_folds(args.data_home, args.folds.split(",")))
    rows = [score_split(name, tr, te) for name, (tr, te) in folds.items()]
    other = []
    if args.ml1m:
        from nmfrec import datasets

        ratings = datasets.load_movielens("ml-1m", data_home=args.data_home).ratings
        order = np.random.default_rng(SEED).permutation(len(ratings))
        cut = int(round(len(ratings) * (1 - ML1M_TEST)))
        other.append(score_split("ml-1m 90/10", ratings.iloc[order[:cut]],
                                 ratings.iloc[order[cut:]]))
    mean = mean_row(rows) if rows else None
    result = {"command": command, "date": now(), "commit": git_commit(),
              "machine": machine_info(), "loadavg_start": load_start,
              "loadavg_end": loadavg(), "wall_time_s": time.perf_counter() - start,
              "rows": rows, "mean": mean, "other": other,
              "checks": checks(mean) if mean else {f"{r['split']}: {k}": v for r in other
                                                   for k, v in checks(r).items()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    result["diagram"] = diagram(rows + other, RESULTS / f"{args.name}.png")
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=1))
    (RESULTS / f"{args.name}.md").write_text(markdown(result))
    log(markdown(result))


if __name__ == "__main__":
    main()

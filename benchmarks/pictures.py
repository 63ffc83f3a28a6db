"""The default model at work on MovieLens 100K u1: how the fit converges, what the parts mean.

Usage (from the repository root)::

    python benchmarks/pictures.py          # writes benchmarks/results/default_model.png/.md

Fits ``Recommender(random_state=0)`` on ``u1.base`` and draws

* left: the Bayesian rating part's Gibbs chain, the training RMSE after every sweep
  (``model_.train_rmse_``), and the test RMSE on ``u1.test`` of the average of the first
  1, 2, ... kept draws (the model predicts with all of them);
* right: the preference part's objective after every iteration (``loss_history_``),

and writes the top titles of each component of both parts (``top_items``) to
``default_model.md``. Needs matplotlib (``pip install -e .[plot]``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402

from nmfrec import Recommender, datasets  # noqa: E402
from _common import git_commit, log, ml100k_folds  # noqa: E402

SEED = 0
N_TITLES = 4


def running_test_rmse(rec, test):
    """Test RMSE of the average of the first t kept draws, t = 1 .. n_kept."""
    model = rec.model_
    known = test["user"].isin(rec.users_.labels_) & test["item"].isin(rec.items_.labels_)
    t = test[known]
    u = rec.users_.index(t["user"].to_numpy())
    i = rec.items_.index(t["item"].to_numpy())
    nf, kept = model.n_factors_per_draw, model.noise_precision_.size
    per_draw = np.stack([np.einsum("ij,ij->i", model.W_[u, d * nf:(d + 1) * nf],
                                   model.components_[d * nf:(d + 1) * nf, i].T)
                         for d in range(kept)])          # each is 1/kept of the prediction
    running = np.cumsum(per_draw, axis=0) * kept / np.arange(1, kept + 1)[:, None]
    lo, hi = rec.rating_range_
    y = t["rating"].to_numpy()
    return np.sqrt(np.mean((np.clip(running, lo, hi) - y) ** 2, axis=1))


def main():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, test = ml100k_folds(None, ("u1",))["u1"]
    titles = datasets.load_movielens("ml-100k").items["title"]
    rec = Recommender(random_state=SEED).fit(train, item_titles=titles)
    model, pref = rec.model_, rec.ranking_model_
    trace = model.train_rmse_
    test_rmse = running_test_rmse(rec, test)
    burn, n_samples, kept = model.n_burnin, model.n_samples, model.noise_precision_.size
    at = burn + np.round(np.linspace(n_samples / kept, n_samples, kept)).astype(int)

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(np.arange(1, trace.size + 1), trace, lw=1, label="training RMSE of the current draw")
    a.plot(at, test_rmse, "o-", ms=3, label="test RMSE of the average of the draws so far")
    a.axvline(burn, color="gray", ls=":", lw=1)
    a.set(xlabel="Gibbs sweep", ylabel="RMSE", title="rating part (BayesianNMF)")
    a.legend(fontsize=8)
    b.plot(np.arange(pref.loss_history_.size), pref.loss_history_, ".-")
    b.set(xlabel="iteration", ylabel="objective", yscale="log",
          title="preference part (weighted zeros, eALS)")
    fig.suptitle(f"Recommender(random_state={SEED}) on MovieLens 100K u1.base", fontsize=10)
    fig.tight_layout()
    out = HERE / "results" / "default_model.png"
    fig.savefig(out, dpi=110)
    log(f"wrote {out}")

    lines = [f"Top {N_TITLES} titles of each component of `Recommender(random_state={SEED})` "
             "fitted on MovieLens 100K u1.base (`rec.top_items(name, n)`); "
             f"its RMSE on the u1.test pairs whose user and item it knows: "
             f"{test_rmse[-1]:.4f}. nmfrec {git_commit()} "
             "(`python benchmarks/pictures.py`).", "", "Rating part:", "```"]
    for name in rec.component_names_:
        if name.startswith("c"):
            lines.append(f"{name}: " + "; ".join(rec.top_items(name, N_TITLES)["title"]))
    lines += ["```", "", "Preference part (first 12 of its components):", "```"]
    for name in [n for n in rec.component_names_ if n.startswith("p")][:12]:
        lines.append(f"{name}: " + "; ".join(rec.top_items(name, N_TITLES)["title"]))
    lines.append("```")
    (HERE / "results" / "default_model.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

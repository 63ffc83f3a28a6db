"""The constants of the default's rules, each varied around its value on validation splits
cut from training data only.

Usage (from the repository root)::

    python benchmarks/validation.py                         # every set (long: see README)
    python benchmarks/validation.py --sets ml-100k,ml-100k-clicks --folds u1   # quick
    python benchmarks/validation.py --sets planted --out /tmp/v                  # small sets

The default ``Recommender()`` takes four of its parameters from rules of the training data
(``nmfrec._auto``): the rating part's rank ``0.17 * n^(1/3)``, the preference part's rank
``sqrt(n) / 3.5``, the weight of an unrated cell ``8 * density`` and the preference
part's L2 penalty ``0.09 / sqrt(ratings per item)`` (n: number of ratings). This script
checks each constant alone: on every validation split it computes the rule's value from
the split's training statistics (``nmfrec._auto.DataStats``: users, items, ratings),
multiplies it by a factor (0.5 to 2; ranks rounded), passes that value explicitly to
``Recommender`` and leaves everything else at its default. The library is not patched:
factor 1 is the default itself, and the script checks that the default fit chose the
same values (its ``fitted_params_``). This script reads the rules from the private
``nmfrec._auto`` because the rules themselves are what it checks; the other benchmark
scripts use the public API only.

Validation splits, cut from training data only (never a test split):

* ``ml-100k``: each official fold's ``uN.base``; 20% of every user's ratings held out
  (:func:`nmfrec.evaluation.user_split`, seed 0), fitted on the other 80%;
* ``ml-1m``: the training 90% of the ml-1m split of ``benchmarks/shapes.py`` (NumPy
  ``default_rng(0).permutation``, first 90%), then 80/20 of each user's ratings the same
  way;
* ``*-clicks``: the same splits with the ratings dropped (who rated what);
* ``planted-...``: two small sets of ``shapes.py``; 80/20 of each user's training part.

Measures: ratings (protocols A and B, :func:`shapes.ratings_metrics`): RMSE for the
rating rank, P@10 with relevant = held-out rating >= 4 for the preference part's
constants; clicks (protocol C, :func:`shapes.click_metrics`): P@10 (and R@20), every
held-out interaction relevant; planted sets: the liked share of each user's top 5
(:func:`shapes.liked_share`, the planted truth), RMSE for the rating rank of rating sets.
Noise: on MovieLens 100K the std over the five folds and the standard error of the
paired difference to factor 1 over the folds; on a set with one split, the users are
dealt at random into five groups and each group is scored on its own (same fits), which
gives the same two figures. A factor "clearly" beats factor 1 when its mean paired
difference exceeds two standard errors.

A full run (every set, every fold) writes ``benchmarks/results/validation.json`` (per-split
numbers, values, fit times, machine, commit, date, load average) and ``validation.md``;
a partial run only prints, unless ``--out DIR``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import warnings
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # this checkout's nmfrec, not an installed one
sys.path.insert(1, str(HERE))

import numpy as np  # noqa: E402

import nmfrec  # noqa: E402
from nmfrec import Recommender, _auto  # noqa: E402
from nmfrec.evaluation import user_split  # noqa: E402

import shapes  # noqa: E402
from _common import git_commit, loadavg, machine_info, results_dir, write_results  # noqa: E402

SEED = 0
VALIDATION_SHARE = 0.2
N_GROUPS = 5           # user groups of a set with a single split
CLEAR = 2.0            # standard errors a factor must win by to be "clearly" better
#: Factors of the rule's value, by set family (ml-1m fits take ~30 s each: a small grid).
GRIDS = {"ml-100k": (0.5, 1.0, 2.0), "ml-1m": (0.5, 1.0, 2.0), "planted": (0.5, 1.0, 2.0)}
#: Parameters a small fit's held-out check may choose (the preference rank, the rank of
#: an ARD rating part): given explicitly, they close that choice.
HELD_OUT_CHOSEN = ("n_components", "preference_components")
PLANTED_SETS = ("planted-300x200-ratings-tilted", "planted-1000x400-clicks-tilted")
SETS = ("ml-100k", "ml-100k-clicks", *PLANTED_SETS, "ml-1m", "ml-1m-clicks")
ML100K_FOLDS = shapes.ML100K_FOLDS
PACKAGES = ("nmfrec", "numpy", "scipy", "pandas", "numba")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ============================================================================ constants
@dataclass(frozen=True)
class Constant:
    """One rule of ``nmfrec._auto`` and how a fit is given its value.

    ``params[kind]``: the ``Recommender`` parameters that take the value on a set of that
    kind ("ratings" or "clicks"; absent: the rule does not apply); ``metric[kind]``: the
    measure that judges it; ``integer``: a rank (the value is rounded, within 1 and the
    smaller side less one); ``at_most``: an upper bound of the value (the rule's own).
    """

    name: str
    rule: Callable
    formula: str
    params: dict
    metric: dict
    integer: bool = False
    at_most: float | None = None

    def value(self, stats, factor):
        v = self.rule(stats) * factor
        if self.integer:
            return int(min(max(round(v), 1), stats.max_rank))
        v = float(_auto._sig(v))
        return v if self.at_most is None else min(v, self.at_most)


CONSTANTS = (
    Constant("rating rank", _auto.rating_rank,
             f"{_auto._RATING_RANK_PER_CUBE_ROOT:g} n^(1/3)",
             {"ratings": ("n_components",)}, {"ratings": "rmse"}, integer=True),
    Constant("preference rank", _auto.preference_rank,
             f"sqrt(n) / {_auto._PREF_RANK_ROOT_DIVISOR:g}",
             {"ratings": ("preference_components",), "clicks": ("n_components",)},
             {"ratings": "precision", "clicks": "p@10"}, integer=True),
    Constant("missing weight", _auto.missing_weight,
             f"{_auto._MISSING_PER_DENSITY:g} density",
             {"ratings": ("missing_weight",), "clicks": ("missing_weight",)},
             {"ratings": "precision", "clicks": "p@10"}, at_most=1.0),
    Constant("preference L2", _auto.preference_l2,
             f"{_auto._L2_PER_ROOT:g} / sqrt(n / items)",
             {"ratings": ("preference_l2",), "clicks": ("l2_W", "l2_H")},
             {"ratings": "precision", "clicks": "p@10"}),
)
#: How each measure reads, and whether lower is better.
MEASURES = {"rmse": ("RMSE", True), "precision": ("P@10", False), "p@10": ("P@10", False),
            "r@20": ("R@20", False), "liked@5": ("liked share of top 5", False)}


def metric_of(constant, kind, planted):
    """The measure that judges ``constant`` on a set of ``kind``: on a ``planted`` set the
    liked share of the top 5 for the ranking constants."""
    m = constant.metric[kind]
    return "liked@5" if planted and m != "rmse" else m


def stats_of(train):
    """What the rules read of a training frame (as ``Recommender.fit`` builds it)."""
    return _auto.DataStats(int(train["user"].nunique()), int(train["item"].nunique()),
                           len(train))


# ============================================================================ data
def validation_splits(name, data_home, folds, cache):
    """``shapes.load_set(name)`` with each training frame cut again, 80/20 of every
    user's rows (:func:`user_split`, seed 0): {split: (fit frame, validation frame)}.
    Test splits are dropped here, unread."""
    dataset = shapes.load_set(name, data_home, folds, cache)
    splits = {}
    for split, (train, _test) in dataset.splits.items():
        s = user_split(train, VALIDATION_SHARE, random_state=SEED)
        splits[split] = (s.train.reset_index(drop=True), s.test.reset_index(drop=True))
    dataset.splits = splits
    return dataset


def user_groups(train, n_groups=N_GROUPS, seed=SEED):
    """The training users dealt at random into ``n_groups`` groups of (nearly) equal
    size: a list of arrays of user labels."""
    users = np.sort(train["user"].unique())
    order = np.random.default_rng(seed).permutation(users.size)
    return [users[np.sort(g)] for g in np.array_split(order, n_groups)]


# ============================================================================ scoring
def score(model, dataset, train, valid, users=None):
    """Every measure of a fitted model on one validation split (the held-out rows of
    ``users`` only, when given: the candidates stay those of the whole training frame)."""
    if users is not None:
        valid = valid[valid["user"].isin(users)]
    if dataset.kind == "ratings":
        r = shapes.ratings_metrics(model, train, valid)
        out = {"rmse": r.get("rmse"), "precision": r.get("precision")}
    else:
        r = shapes.click_metrics(model, train, valid)
        out = {"p@10": r["p@10"], "r@20": r["r@20"]}
    if dataset.planted is not None:
        mine = train if users is None else train[train["user"].isin(users)]
        out["liked@5"] = shapes.liked_share(model, mine, dataset.planted)
    return {k: float(v) for k, v in out.items() if v is not None}


def scored(model, dataset, train, valid, groups):
    """:func:`score` on the whole split, and on each user group when ``groups``."""
    out = {"all": score(model, dataset, train, valid)}
    if groups:
        out["groups"] = [score(model, dataset, train, valid, g) for g in groups]
    return out


def fit_and_score(params, dataset, train, valid, groups):
    """``Recommender(random_state=0, **params)`` fitted to ``train`` (a click set: the
    table of user and item, as a user holding clicks has it) and scored."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # a click table is fitted as clicks, and a small fit may fall back to another
        # ranking, and say so: known here, and the ranking is recorded
        warnings.simplefilter("ignore", nmfrec.FeedbackWarning)
        warnings.simplefilter("ignore", nmfrec.FallbackWarning)
        model = Recommender(random_state=SEED, **params).fit(
            train if dataset.kind == "ratings" else train[["user", "item"]])
    fit_s = time.perf_counter() - t0
    rec = scored(model, dataset, train, valid, groups)
    rec.update(fit_s=fit_s, ranking=model.ranking_)
    return model, rec


def run_set(dataset, grid):
    """Every constant of ``grid`` (name -> factors) at its factors on every split of
    ``dataset``."""
    single = len(dataset.splits) == 1
    rows = {}   # (constant name, factor) -> {split: record}
    default = {}
    for split, (train, valid) in dataset.splits.items():
        stats = stats_of(train)
        groups = user_groups(train) if single else None
        model, rec = fit_and_score({}, dataset, train, valid, groups)
        chosen = dict(model.fitted_params_)
        rec.update(params={}, fitted_params=_jsonable_params(chosen),
                   held_out=model.held_out_ is not None)
        default[split] = rec
        log(f"  {split}: default fit {rec['fit_s']:.1f} s, chose {rec['fitted_params']}; "
            f"{_show(rec['all'])}")
        for c in CONSTANTS:
            names = c.params.get(dataset.kind)
            if names is None or c.name not in grid:
                continue
            for f in grid[c.name]:
                value = c.value(stats, f)
                params = {n: value for n in names}
                if dataset.kind == "clicks":
                    # what a click table fits anyway; penalties l2_W/l2_H need it said
                    params["feedback"] = "implicit"
                same = all(chosen.get(n) == value for n in names)
                closes = model.held_out_ is not None and set(names) & set(HELD_OUT_CHOSEN)
                if f == 1.0 and same and not closes:
                    # factor 1 is the default's own value: the default fit is that fit
                    r = {**rec, "params": params, "shared_with_default": True}
                else:
                    if f == 1.0:
                        why = ("given, it closes the held-out check's choice" if closes
                               else "the default chose otherwise")
                        log(f"    {c.name} x1 fitted apart: {why} "
                            f"({ {n: chosen.get(n) for n in names} } vs {value})")
                    if c.name == "rating rank":
                        # the preference part does not read this rank: leave it out
                        params = {**params, "ranking": "rating"}
                    _m, r = fit_and_score(params, dataset, train, valid, groups)
                    r["params"] = params
                rows.setdefault((c.name, f), {})[split] = r
                log(f"    {c.name} x{f:g} ({value}): fit {r['fit_s']:.1f} s; "
                    f"{_show(r['all'])}")
    return default, rows


def _show(m):
    return " ".join(f"{MEASURES[k][0]} {v:.4f}" for k, v in m.items())


def _jsonable_params(p):
    return {k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
            for k, v in p.items()}


# ============================================================================ summary
def units(per_split, metric):
    """Per unit of noise (a fold, or a user group of the one split): the metric."""
    if len(per_split) > 1:
        return np.array([r["all"][metric] for r in per_split.values()])
    (r,) = per_split.values()
    return np.array([g[metric] for g in r["groups"]])


def summarize(kind, planted, rows, grid):
    """Per constant: a row per factor (mean, std, paired difference to factor 1 and its
    standard error, oriented so that > 0 is better) and a verdict."""
    out = []
    for c in CONSTANTS:
        if c.params.get(kind) is None or c.name not in grid:
            continue
        metric = metric_of(c, kind, planted)
        lower_better = MEASURES[metric][1]
        base = units(rows[(c.name, 1.0)], metric)
        entries = []
        for f in grid[c.name]:
            per_split = rows[(c.name, f)]
            overall = np.array([r["all"][metric] for r in per_split.values()])
            u = units(per_split, metric)
            d = (base - u) if lower_better else (u - base)
            se = float(np.std(d, ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
            values = sorted({next(iter(r["params"].values())) for r in per_split.values()})
            # a small fit may rank by another part than the preference part
            rankings = sorted({r.get("ranking") or "preference" for r in per_split.values()})
            entries.append({
                "factor": f, "values": values, "metric": metric,
                "rankings": rankings, "mean": float(overall.mean()),
                "std": float(np.std(u, ddof=1)) if u.size > 1 else None,
                "better_than_1x": float(d.mean()), "se": se,
                "clearly_better": bool(f != 1.0 and d.mean() > CLEAR * se),
                "clearly_worse": bool(f != 1.0 and -d.mean() > CLEAR * se),
                "fit_s": float(np.mean([r["fit_s"] for r in per_split.values()])),
                "secondary": {k: float(np.mean([r["all"][k] for r in per_split.values()]))
                              for k in next(iter(per_split.values()))["all"] if k != metric},
            })
        out.append({"constant": c.name, "formula": c.formula, "metric": metric,
                    "rows": entries, "verdict": verdict(entries)})
    return out


def verdict(entries):
    """Whether factor 1 is best, within noise of the best, or clearly beaten."""
    others = [e for e in entries if e["factor"] != 1.0]
    clear = [e for e in others if e["clearly_better"]]
    if clear:
        best = max(clear, key=lambda e: e["better_than_1x"])
        return {"kind": "beaten", "factor": best["factor"],
                "text": f"**x{best['factor']:g} is clearly better than x1** (by "
                        f"{best['better_than_1x']:.4f}, {best['better_than_1x'] / best['se']:.1f}"
                        " SE)"}
    ahead = [e for e in others if e["better_than_1x"] > 0]
    if not ahead:
        return {"kind": "best", "factor": 1.0, "text": "x1 is best"}
    best = max(ahead, key=lambda e: e["better_than_1x"])
    return {"kind": "within noise", "factor": best["factor"],
            "text": f"x1 is within noise of the best (x{best['factor']:g} ahead by "
                    f"{best['better_than_1x']:.4f}, {best['better_than_1x'] / best['se']:.1f} SE)"}


# ============================================================================ output
def _values(vs):
    shown = [f"{v:g}" if isinstance(v, float) else str(v) for v in vs]
    return shown[0] if len(shown) == 1 else f"{shown[0]}–{shown[-1]}"


def not_measured(block):
    """The settings of the set's full grid (``grid_of``) that ``block`` lacks, e.g.
    ``["preference rank x2"]``."""
    done = block["factors"]
    if not isinstance(done, dict):      # one list of factors for every constant
        done = {c.name: done for c in CONSTANTS}
    return [f"{c.name} x{f:g}" for c in CONSTANTS if c.params.get(block["kind"])
            for f in grid_of(block["name"])[c.name] if f not in done.get(c.name, ())]


def set_table(block):
    noise = ("std over the folds; Δ: paired difference to x1 (> 0: better) ± its SE over the "
             "folds" if block["n_splits"] > 1 else
             f"std over {N_GROUPS} random user groups; Δ: paired difference to x1 (> 0: "
             "better) ± its SE over the groups")
    # x1 is the default fit itself unless a held-out check made the default choose
    # otherwise (small sets): then it is the rule's value, fitted apart
    shared = {(r["constant"], r["factor"]): all(s.get("shared_with_default")
                                                for s in r["splits"].values())
              for r in block["runs"]}
    lines = [f"**{block['name']}**: {block['description']}; {block['n_fit']:,} ratings "
             f"fitted per split, {block['n_valid']:,} validated ({noise}).", "",
             "| setting (rule) | factor | value | measure | mean ± std | Δ to x1 ± SE |",
             "|---|---|---|---|---|---|"]
    for s in block["summary"]:
        for e in s["rows"]:
            label = MEASURES[e["metric"]][0]
            std = "" if e["std"] is None else f" ± {e['std']:.4f}"
            if e["factor"] == 1.0:
                delta = "–"
                mark = (" (default)" if shared.get((s["constant"], 1.0)) else
                        " (the rule's value, fitted apart¹)")
            else:
                delta = f"{e['better_than_1x']:+.4f} ± {e['se']:.4f}"
                delta += " (clearly better)" if e["clearly_better"] else (
                    " (clearly worse)" if e["clearly_worse"] else "")
                mark = ""
            # (the rating rank's rows are scored by RMSE: their ranking is not read)
            ranked = ("" if e["metric"] == "rmse"
                      or e.get("rankings", ["preference"]) == ["preference"] else
                      f" (ranked by {' / '.join(e['rankings'])})")
            lines.append(f"| {s['constant']} (`{s['formula']}`) | x{e['factor']:g}{mark} | "
                         f"{_values(e['values'])}{ranked} | {label} | {e['mean']:.4f}{std} | "
                         f"{delta} |")
    if block.get("default_extra"):
        lines.append(block["default_extra"])
    if not all(shared.get((s["constant"], 1.0)) for s in block["summary"]):
        lines += ["", "¹ On small data the default's held-out check chooses among ranks "
                  "(the preference rank: the rule's, half or a quarter of it; the rank of an "
                  "ARD rating part): a rank given explicitly closes that choice, so its x1 "
                  "row is fitted apart, and the last row is the default as is."]
    skipped = not_measured(block)
    if skipped:
        lines += ["", "Not measured on this set (left out of the run by `--constants`): "
                  + ", ".join(skipped) + "."]
    lines += ["", "Verdicts: " + "; ".join(f"{s['constant']}: {s['verdict']['text']}"
                                          for s in block["summary"]) + ".", ""]
    return lines


def markdown(result):
    lines = []
    for block in result["sets"].values():
        lines += set_table(block)
    beaten = [(b["name"], s["constant"], s["verdict"]["factor"])
              for b in result["sets"].values() for s in b["summary"]
              if s["verdict"]["kind"] == "beaten"]
    lines.append("**Summary.** " + ("On every set and setting the rule's value (x1) is best "
                                     "or within noise of the best." if not beaten else
                                     "Factor 1 is clearly beaten on: " + "; ".join(
                                         f"{n}, {c} (x{f:g})" for n, c, f in beaten)
                                     + "; elsewhere x1 is best or within noise."))
    lines.append("")
    if not result.get("complete", True):
        lines += ["**Incomplete**: only the sets above were measured.", ""]
    m = result["machine"]
    runs = result.get("parts") or [result]
    when = "; ".join(
        f"`{r['command']}`: nmfrec {r['git_commit']}, {r['date']}, "
        f"{r['wall_time_s'] / 60:.1f} min" + (
            f" (1-min load average {r['loadavg_start'][0]:.1f} before, "
            f"{r['loadavg_end'][0]:.1f} after)" if r["loadavg_start"] and r["loadavg_end"]
            else "") for r in runs)
    if len(runs) > 1:
        when = f"{len(runs)} runs side by side, merged by `--combine`: " + when
    lines.append(
        "Each constant varied alone: the rule's value on each validation split's training "
        "statistics, times the factor (ranks rounded), passed to `Recommender` explicitly, "
        "everything else default; the default row is `Recommender()` itself. Validation "
        "splits cut from training data only (never a test split). Rating-rank rows other "
        "than x1 are fitted with `ranking=\"rating\"` (the rank does not reach the "
        "preference part). Ratings: RMSE, P@10 with relevant = rating ≥ 4; clicks: P@10, "
        "every held-out interaction relevant; planted: liked share of each user's top 5. "
        f"{m['cpu']}, {m['cores']} cores (shared: metrics do not depend on load, fit times "
        f"do). {when}.")
    return "\n".join(lines) + "\n"


# ============================================================================ main
def _expand_sets(text):
    names = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part in SETS:
            names.append(part)
        elif part == "planted":
            names += PLANTED_SETS
        else:
            raise ValueError(f"unknown set {part!r}; sets: {', '.join(SETS)}, or 'planted'")
    return list(dict.fromkeys(names))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Sets: " + ", ".join(SETS))
    p.add_argument("--sets", default=None, help="comma-separated sets (default: all); "
                   "'planted' names the planted ones")
    p.add_argument("--folds", default=",".join(ML100K_FOLDS),
                   help="ml-100k folds (default: u1..u5)")
    p.add_argument("--constants", default=None,
                   help="comma-separated constants to vary (default: all: "
                        + ", ".join(repr(c.name) for c in CONSTANTS) + "), each optionally "
                        "with its own factors, e.g. 'missing weight,preference rank:0.5/1' "
                        "(factor 1 is always added)")
    p.add_argument("--data-home", default=None, help="folder holding ml-100k/ and ml-1m/ "
                   "(default: $NMFREC_DATA, else the user cache)")
    p.add_argument("--out", default=None, help="folder for validation.json and "
                   "validation.md (default: benchmarks/results for a full run; a partial run "
                   "writes only when this is given)")
    p.add_argument("--combine", nargs="+", default=None, metavar="DIR",
                   help="fit nothing: merge the validation.json files that partial runs "
                        "wrote to these folders (e.g. two processes run side by side) into "
                        "one result; written to --out, or to benchmarks/results when together "
                        "they cover every set and fold")
    return p.parse_args(argv)


def combine(folders):
    """One result from the ``validation.json`` of partial runs (their sets, in the order
    of ``SETS``; a set in several runs is merged by :func:`merge_blocks`). ``parts``
    keeps each run's command,
    commit, date, time and load; ``complete``: every set, and ml-100k on every fold
    (a part cut short counts for the sets it wrote)."""
    import json

    runs = [json.loads((Path(f) / "validation.json").read_text()) for f in folders]
    sets = {}
    for run in runs:
        for name, block in run["sets"].items():
            sets[name] = merge_blocks(sets[name], block) if name in sets else block
    parts = [{k: run.get(k) for k in ("command", "git_commit", "date", "wall_time_s",
                                      "loadavg_start", "loadavg_end", "complete")}
             for run in runs]
    complete = set(sets) == set(SETS) and all(
        sets[n]["n_splits"] == len(ML100K_FOLDS) for n in sets if n.startswith("ml-100k"))
    first = runs[0]
    return {**{k: first[k] for k in ("benchmark", "seed", "validation_share",
                                     "clear_margin_se", "machine", "nmfrec_path")},
            "command": "python benchmarks/validation.py --combine " + " ".join(map(str, folders)),
            "sets": {n: sets[n] for n in SETS if n in sets}, "parts": parts,
            "complete": complete, "git_commit": first["git_commit"], "date": first["date"],
            "wall_time_s": max(p["wall_time_s"] for p in parts),
            "loadavg_start": first["loadavg_start"], "loadavg_end": first["loadavg_end"]}


def _grid(block):
    done = block["factors"]
    if isinstance(done, dict):
        return {c: tuple(fs) for c, fs in done.items()}
    return {c.name: tuple(done) for c in CONSTANTS if c.params.get(block["kind"])}


def merge_blocks(a, b):
    """One set's results from two runs that varied different constants (or factors) of
    it (``--constants``): their default fits must agree (the same fit, as the fits are
    seeded), and no setting but factor 1 may be in both."""
    name = a["name"]
    if a["default"].keys() != b["default"].keys() or any(
            a["default"][s]["all"] != b["default"][s]["all"] for s in a["default"]):
        raise ValueError(f"set {name!r}: the runs' default fits differ")
    rows = {(r["constant"], r["factor"]): r["splits"] for r in a["runs"]}
    for r in b["runs"]:
        key = (r["constant"], r["factor"])
        if key in rows and r["factor"] != 1.0:
            raise ValueError(f"set {name!r}: {key[0]} x{key[1]:g} is in more than one run")
        rows.setdefault(key, r["splits"])
    ga, gb = _grid(a), _grid(b)
    grid = {c.name: tuple(sorted({*ga.get(c.name, ()), *gb.get(c.name, ())}))
            for c in CONSTANTS if c.name in ga or c.name in gb}
    return {**a, "factors": grid,
            "runs": [{"constant": c, "factor": f, "splits": rows[(c, f)]}
                     for c, fs in grid.items() for f in fs],
            "summary": summarize(a["kind"], name.startswith("planted"), rows, grid),
            "wall_time_s": a["wall_time_s"] + b["wall_time_s"]}


def grid_of(name, constants=None):
    """{constant name: factors} of set ``name``: its family's factors (``GRIDS``) for every
    constant, or those of ``constants`` (see ``--constants``) only."""
    factors = GRIDS["planted" if name.startswith("planted") else name.split("-clicks")[0]]
    if constants is None:
        return {c.name: factors for c in CONSTANTS}
    known = [c.name for c in CONSTANTS]
    grid = {}
    for part in (p.strip() for p in constants.split(",") if p.strip()):
        cname, _, given = part.partition(":")
        cname = cname.strip()
        if cname not in known:
            raise ValueError(f"unknown constant {cname!r}; constants: {', '.join(known)}")
        fs = [float(f) for f in given.split("/")] if given.strip() else list(factors)
        if any(f <= 0 for f in fs):
            raise ValueError(f"factors must be positive; got {given!r}")
        grid[cname] = tuple(sorted({*fs, 1.0}))
    return grid


def main(argv=None):
    args = parse_args(argv)
    if args.combine:
        try:
            result = combine(args.combine)
        except (OSError, ValueError, KeyError) as e:
            log(f"--combine: {type(e).__name__}: {e}")
            return 2
        md = markdown(result)
        print(md)
        write_results("validation", result, md, results_dir(args.out, result["complete"]))
        return 0
    try:
        names = _expand_sets(args.sets) if args.sets else list(SETS)
    except ValueError as e:
        log(str(e))
        return 2
    try:
        grids = {name: grid_of(name, args.constants) for name in names}
    except ValueError as e:
        log(f"--constants: {e}")
        return 2
    folds = tuple(f.strip() for f in args.folds.split(",") if f.strip())
    if not folds or any(f not in ML100K_FOLDS for f in folds):
        log(f"--folds must be a subset of {','.join(ML100K_FOLDS)}; got {args.folds!r}")
        return 2
    full = args.sets is None and args.constants is None and folds == ML100K_FOLDS
    out_dir = results_dir(args.out, full)
    given = sys.argv[1:] if argv is None else list(argv)
    result = {"benchmark": "benchmarks/validation.py", "seed": SEED,
              "validation_share": VALIDATION_SHARE, "clear_margin_se": CLEAR,
              "command": " ".join(["python", "benchmarks/validation.py", *given]), "sets": {}}
    load_start, t_start = loadavg(), time.perf_counter()
    result["git_commit"] = git_commit()     # the code measured: stamped at the start
    cache = {}
    for name in names:
        t0 = time.perf_counter()
        dataset = validation_splits(name, args.data_home, folds, cache)
        factors = grids[name]
        log(f"== {name}: {dataset.description}; factors {factors}")
        default, rows = run_set(dataset, factors)
        fit_sizes = [len(tr) for tr, _ in dataset.splits.values()]
        block = {"name": name, "kind": dataset.kind, "factors": factors,
                 "description": dataset.description + ("; validation: 80/20 of each "
                                                       "user's training rows"),
                 "n_splits": len(dataset.splits), "n_fit": int(np.mean(fit_sizes)),
                 "n_valid": int(np.mean([len(v) for _, v in dataset.splits.values()])),
                 "default": default,
                 "runs": [{"constant": c, "factor": f, "splits": per}
                          for (c, f), per in rows.items()],
                 "summary": summarize(dataset.kind, dataset.planted is not None, rows,
                                      factors)}
        if dataset.planted is not None:
            d = np.mean([r["all"]["liked@5"] for r in default.values()])
            fp = next(iter(default.values()))["fitted_params"]
            shown = ", ".join(f"{k} {fp[k]}" for k in ("prior", "ranking", "n_components",
                                                        "preference_components") if k in fp)
            block["default_extra"] = (
                f"| `Recommender()` as is (its held-out check chose: {shown}) | – | – | "
                f"liked share of top 5 | {d:.4f} | – |")
        block["wall_time_s"] = time.perf_counter() - t0
        result["sets"][name] = block
        log(f"  {name}: {block['wall_time_s'] / 60:.1f} min; " + "; ".join(
            f"{s['constant']}: {s['verdict']['text']}" for s in block["summary"]))
        if out_dir is not None and name != names[-1]:
            # the sets done so far, marked incomplete, in case the run is cut short
            finish(result, t_start, load_start, names, out_dir, quiet=True)
    md = finish(result, t_start, load_start, names, out_dir)
    print(md)
    log(f"whole run: {result['wall_time_s']:.0f} s")
    return 0


def finish(result, t_start, load_start, names, out_dir, quiet=False):
    """Stamp ``result`` (date, commit, machine, time, load; ``complete``: every set of
    ``names`` done), write it to ``out_dir`` (None: nowhere) and return its markdown."""
    result.update(date=_dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                  nmfrec_path=str(Path(nmfrec.__file__).parent),
                  wall_time_s=time.perf_counter() - t_start, loadavg_start=load_start,
                  loadavg_end=loadavg(), machine=machine_info(PACKAGES),
                  complete=list(result["sets"]) == list(names))
    md = markdown(result)
    if out_dir is not None or not quiet:
        write_results("validation", result, md, out_dir)
    return md


if __name__ == "__main__":
    sys.exit(main())

"""The commands that learn: ``evaluate`` and ``fit`` (those that query a saved model are in
``_query``).

Each takes the parsed arguments and the output and error streams, and returns the exit
code; failures are raised as :class:`UsageError` or :class:`DataError`.
"""

from __future__ import annotations

import functools
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..evaluation import CVResult, GlobalMean, Popularity, evaluate
from ..exceptions import ProtocolSkippedWarning
from ..recommender import Recommender
from ._data import holds, prepare, read_ratings, read_titles
from ._errors import DataError, UsageError, check_int_flag, message
from ._output import fit_summary, fitted, format_table, jsonable, table_columns
from ._params import describe_params, model_params, usage_error_for


def attach_titles(rec, titles):
    """Give a fitted model the titles, keyed like its item vocabulary.

    Parameters
    ----------
    rec : Recommender
        Fitted; its item titles are set.
    titles : pandas.Series
        Item -> title, as read from a titles file (ids as read: ints or strings).

    Returns
    -------
    int
        How many of the model's items got a title.
    """
    if rec.items_.is_integer:
        keys = pd.to_numeric(pd.Series(titles.index), errors="coerce")
        keep = keys.notna().to_numpy()
        titles = pd.Series(titles.to_numpy()[keep], index=keys[keep].astype(np.int64).to_numpy())
    else:
        titles = pd.Series(titles.to_numpy(), index=[str(x) for x in titles.index])
    titles = titles[~titles.index.duplicated(keep="last")]
    rec.set_item_titles(titles)
    return int(pd.Series(rec.item_titles_).notna().sum())


# ------------------------------------------------------------------------- evaluate
def _fold_line(res, k):
    bits = []
    if "rmse" in res:
        bits.append(f"RMSE {res['rmse']:.4f}")
    first, key = (k[0], f"precision@{k[0]}") if isinstance(k, tuple) else (k, "precision")
    if key in res:
        bits.append(f"P@{first} {res[key]:.4f}")
    return ", ".join(bits)


def _protocol(args, splits):
    """What ``evaluate`` scores: (click data?, relevance threshold, protocol, k).

    Click data (a file of interaction counts or of clicks, see :func:`holds`) or
    ``--threshold none`` makes every held-out item relevant (protocol C) and defaults to
    ``--protocol ranking`` at ``--k 10,20``; ratings default to ``--protocol both``,
    ``--k 10`` and a threshold of 4.
    """
    train = next(iter(splits.values()))[0]
    kind, _ = holds(train)
    no_ratings = kind != "ratings"
    lacks = ("holds interaction counts, not ratings" if kind == "counts"
             else "has no rating column")
    if no_ratings and args.threshold not in (None, "none"):
        raise UsageError(f"--threshold {args.threshold:g} compares ratings, but "
                         f"{args.ratings} {lacks} (click data: every held-out item is "
                         "relevant); leave --threshold out, or name the rating column "
                         "with --rating-col.")
    clicks = no_ratings or args.threshold == "none"
    why = (f"{args.ratings} {lacks} (click data)" if no_ratings
           else "--threshold none scores the ratings as clicks")
    protocol = args.protocol or ("ranking" if clicks else "both")
    if clicks and protocol != "ranking":
        raise UsageError(f"--protocol {protocol} predicts ratings, but {why}; use "
                         "--protocol ranking (the default for click data).")
    k = args.k if args.k is not None else ((10, 20) if clicks else 10)
    for value in (k if isinstance(k, tuple) else (k,)):
        check_int_flag(value, "--k")
    if isinstance(k, tuple) and len(set(k)) < len(k):
        raise UsageError(f"--k repeats a list length: {','.join(map(str, k))}.")
    threshold = None if clicks else (4.0 if args.threshold is None else args.threshold)
    return clicks, threshold, protocol, k


def _no_relevant_note(results, splits, threshold):
    """A line for a run in which no test rating reached the threshold (P@k is NaN)."""
    if threshold is None or "nmfrec" not in results:
        return None
    folds = results["nmfrec"].folds
    if "n_users_scored" not in folds or folds["n_users_scored"].sum() > 0:
        return None
    ratings = pd.concat([test["rating"] for _, test in splits.values()])
    return (f"no test rating is >= {threshold:g} (test ratings range from "
            f"{ratings.min():g} to {ratings.max():g}), so no item was relevant and the "
            "ranking metrics are '-'; lower --threshold, or for clicks or counts pass "
            "--threshold none (every held-out item relevant).")


def _sample(rec, titles, test, out, n=5):
    """A few recommendations with titles, so a run shows what the model suggests."""
    attach_titles(rec, titles)
    trained = set(rec.users_.labels_)
    user = next((u for u in pd.unique(test["user"]) if u in trained), None)
    if user is None:
        return
    recs = rec.recommend(user, k=n)
    names = [f"{t if isinstance(t, str) else '(no title)'} [{i}]"
             for i, t in zip(recs["item"], recs.get("title", [None] * len(recs)))]
    print(f"example: top {len(recs)} for user {user!r} (model of the last fold): "
          + "; ".join(names), file=out)


_COMMAND_PARAMETERS = """
    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of the command.
    out, err : file-like
        Where results and messages go.
    progress : Progress
        The per-fold progress lines (on ``err``).

    Returns
    -------
    int
        The exit code, 0; failures are raised as ``UsageError`` or ``DataError``.
"""


def _command(func):
    """Append the Parameters and Returns sections that every command shares."""
    if func.__doc__:  # None under python -OO
        func.__doc__ = func.__doc__.rstrip() + "\n" + _COMMAND_PARAMETERS
    return func


def _skipped_lines(results):
    """One line per model and skipped protocol, saying why its metrics show "-".

    Parameters
    ----------
    results : dict
        Model label -> :class:`~nmfrec.evaluation.CVResult`, whose folds may have a
        ``skipped`` entry (protocol -> reason) from :func:`~nmfrec.evaluation.evaluate`.

    Returns
    -------
    list of str
        E.g. ``"RMSE and MAE of nmfrec not computed ('-' in the table): Recommender.predict
        does not return ratings (...); --protocol ranking leaves them out."``
    """
    lines = []
    for label, res in results.items():
        if "skipped" not in res.folds.columns:
            continue
        reasons = {}  # protocol -> its distinct reasons, in fold order
        for skipped in res.folds["skipped"].dropna():
            for protocol, why in skipped.items():
                reasons.setdefault(protocol, {})[why] = None
        for protocol, whys in reasons.items():
            what, instead = _SKIPPED.get(protocol, (f"the {protocol} metrics", None))
            lines.append(f"{what} of {label} not computed ('-' in the table): "
                         f"{'; '.join(whys)}" + (f"; {instead}." if instead else "."))
    return lines


#: Skipped protocol -> (the metrics the table lacks, the flag that stops asking for them).
_SKIPPED = {"rating": ("RMSE and MAE", "--protocol ranking leaves them out")}


class _Fold:
    """One fold's outcome: the fitted model and its metrics (or the ValueError it
    raised), its warnings (re-issued here, in the command's process, as they arrive)
    and its wall time."""

    def __init__(self, model, res, caught, seconds, parallel):
        self.model, self.res, self.caught = model, res, caught
        self.seconds, self.parallel = seconds, parallel

    def result(self, registry):
        """(model, metrics or ValueError), after re-issuing the fold's warnings
        (``registry``: shared by the folds of a run, so a repeated warning is said once,
        as in one process)."""
        for w in self.caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno,
                                   registry=registry)
        return self.model, self.res


def _fit_fold(make, train, test, k, threshold, protos, parallel=False):
    """Fit ``make()`` on one fold and score it (in this process or a worker's)."""
    t0 = time.perf_counter()
    model = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")     # the command's filters decide when re-issued
        # the reason is printed once under the table, not as a warning per fold
        warnings.simplefilter("ignore", ProtocolSkippedWarning)
        try:
            res = evaluate(model, train, test, k=k, relevance_threshold=threshold,
                           protocols=protos)
        except ValueError as e:     # said in the command's words by the caller
            res = e
    return _Fold(model, res, list(caught), time.perf_counter() - t0, parallel)


def _run_folds(jobs, k, threshold, n_jobs, begin):
    """Each job's :class:`_Fold`, in order: one after the other in this process
    (``n_jobs`` 1; ``begin(job)`` is called before each fit), else in ``n_jobs`` worker
    processes (joblib; -1: one per core), yielded as soon as it and those before it are
    done."""
    if n_jobs == 1:
        for job in jobs:
            _label, make, protos, _f, _fold, train, test = job
            begin(job)
            yield _fit_fold(make, train, test, k, threshold, protos)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_fit_fold)(make, train, test, k, threshold, protos, True)
        for _label, make, protos, _f, _fold, train, test in jobs)


@_command
def cmd_evaluate(args, out, err, progress):
    """``nmfrec evaluate``: cross-validate a Recommender (and the baselines) and print
    the table."""
    params = model_params(args)
    for value in (args.k if isinstance(args.k, tuple) else (args.k,)):
        if value is not None:
            check_int_flag(value, "--k")
    titles = read_titles(args.titles, args.item_col) if args.titles else None

    def say(msg):
        progress.interrupt()
        print(f"nmfrec evaluate: {msg}", file=out, flush=True)

    source, splits = prepare(args, say)
    clicks, threshold, protocol, k = _protocol(args, splits)
    protocols = ("rating", "ranking") if protocol == "both" else (protocol,)
    ks = ",".join(map(str, k)) if isinstance(k, tuple) else k
    relevant = ("every held-out interaction (click data)" if clicks
                else f"rating >= {threshold:g}")
    say(f"model: Recommender({describe_params(params)}); protocol {protocol}, "
        f"k={ks}, relevant = {relevant}.")
    models = [("nmfrec", functools.partial(Recommender, **params), protocols)]
    if args.baselines:
        models += [("popularity", Popularity, protocols),
                   ("global mean", GlobalMean, tuple(p for p in protocols if p == "rating"))]
    jobs = [(label, make, protos, f, fold, train, test)
            for label, make, protos in models if protos
            for f, (fold, (train, test)) in enumerate(splits.items(), start=1)]
    results, last, registry = {}, None, {}
    n = len(splits)
    what = "interactions" if clicks else "ratings"

    def begin(job):
        label, _make, _protos, f, fold, train, test = job
        progress.begin(f"[{label} {f}/{n}] {fold}: fitting on {len(train):,} {what}, "
                       f"testing on {len(test):,} ...")

    t_all = time.perf_counter()
    for job, done in zip(jobs, _run_folds(jobs, k, threshold, args.n_jobs, begin)):
        label, fold, test = job[0], job[4], job[6]
        if done.parallel:
            begin(job)
        model, res = done.result(registry)
        if isinstance(res, ValueError):
            err_ = usage_error_for(str(res), params)
            if label == "nmfrec" and err_ is not None:
                raise err_ from None
            raise res
        progress.end(f" {_fold_line(res, k)}, {done.seconds:.1f}s")
        rows, names = results.setdefault(label, ([], []))
        rows.append(res)
        names.append(fold)
        if label == "nmfrec":
            last = (model, test)
    results = {label: CVResult(pd.DataFrame(rows, index=pd.Index(names, name="fold")))
               for label, (rows, names) in results.items()}
    elapsed = time.perf_counter() - t_all

    main_res = results["nmfrec"]
    table_rows = [(str(name), row) for name, row in main_res.folds.iterrows()]
    table_rows += [("mean", main_res.mean), ("± std", main_res.std)]
    for label in results:
        if label != "nmfrec":
            table_rows += [(f"{label} mean", results[label].mean),
                           (f"{label} ± std", results[label].std)]
    print("", file=out)
    print(format_table(table_rows, table_columns(protocol, k)), file=out)
    notes = [args.flags.speak(line) for line in _skipped_lines(results)]
    notes += [note for note in [_no_relevant_note(results, splits, threshold)] if note]
    if notes:
        print("\n" + "\n".join(notes), file=out)
    print(f"\n{n} fold(s), {elapsed:.1f}s in all; '± std' is the sample standard deviation "
          "over folds. The first fit of a process includes loading (or, on a first run, "
          "compiling) the Numba kernels.", file=out, flush=True)
    if titles is not None and last is not None:
        _sample(last[0], titles, last[1], out)
    if args.json:
        doc = {"source": source, "params": params, "protocol": protocol,
               "k": list(k) if isinstance(k, tuple) else k, "threshold": threshold,
               "models": {label: {"folds": r.folds.reset_index().to_dict(orient="records"),
                                  "mean": r.mean.to_dict(), "std": r.std.to_dict()}
                          for label, r in results.items()}}
        try:
            Path(args.json).write_text(json.dumps(jsonable(doc), indent=2) + "\n")
        except OSError as e:
            raise DataError(f"cannot write --json {args.json}: {e.strerror or e}") from None
        print(f"results written to {args.json}", file=out)
    return 0


# ------------------------------------------------------------------------- fit
@_command
def cmd_fit(args, out, err, progress):
    """``nmfrec fit``: fit a Recommender on a ratings file and save it."""
    params = model_params(args)
    out_path = Path(args.output)
    if out_path.is_dir():          # found before the fit, not after it
        raise DataError(f"cannot write {args.output}: it is a folder; give the model file's "
                        f"name, e.g. {out_path / 'model.npz'}.")
    if out_path.parent and not out_path.parent.exists():
        raise DataError(f"cannot write {args.output}: folder {str(out_path.parent)!r} does "
                        "not exist.")
    df = read_ratings(args)
    titles = read_titles(args.titles, args.item_col) if args.titles else None
    print(f"nmfrec fit: {len(df):,} rows from {args.ratings} (columns {list(df.columns)}); "
          f"fitting Recommender({describe_params(params)}) ...", file=err, flush=True)
    rec = Recommender(**params)
    t0 = time.perf_counter()
    try:
        rec.fit(df, user_col=args.user_col, item_col=args.item_col,
                rating_col=args.rating_col, duplicates=args.duplicates)
    except (KeyError, ValueError, TypeError) as e:
        raise DataError(f"{args.ratings}: {message(e)}") from None
    took = time.perf_counter() - t0
    n_titled = attach_titles(rec, titles) if titles is not None else 0
    try:
        rec.save(out_path)
    except OSError as e:
        raise DataError(f"cannot write {args.output}: {e.strerror or e}") from None
    implicit = fitted(rec, "feedback_", rec.feedback) == "implicit"
    what = "interactions" if implicit else "ratings"
    print(f"fitted {len(rec.users_):,} users x {len(rec.items_):,} items "
          f"({rec.ratings_.nnz:,} {what}, columns {', '.join(map(str, rec.columns_))}) in "
          f"{took:.1f}s; "
          f"{fit_summary(rec)}"
          + (f"; titles for {n_titled:,} items" if titles is not None else "")
          + f"; saved to {out_path}", file=out)
    return 0

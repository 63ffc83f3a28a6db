"""The data a command runs on: the user's files, MovieLens, or the synthetic stand-in.

Where MovieLens is looked for is :func:`nmfrec.datasets.get_data_home`'s search order
(``--data-home``, else ``$NMFREC_DATA``, else the user cache); this module only words it
for the command line.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd

from .. import datasets
from ..evaluation import kfold, random_split, temporal_split, user_split
from .._validation import check_no_missing, locate_row, show
from ..io import check_file, id_from_text, read_ratings_file, read_titles_file
from ..ratings import (ITEM_COLUMNS, USER_COLUMNS, check_rating_column, feedback_columns,
                       resolve_columns)
from ._errors import DataError, UsageError, check_int_flag, message

#: How ``evaluate`` splits the ratings (``--split``).
SPLITS = ("official", "kfold", "random", "user", "temporal")
#: The data sets ``evaluate --dataset`` accepts.
DATASETS = ("auto", *datasets.MOVIELENS, "synthetic")

_SOURCE = {"data_home": "--data-home", datasets.ENV_VAR: f"${datasets.ENV_VAR}",
           "user cache": "the user cache"}


# ------------------------------------------------------------------------- user files
def read_ratings(args, path=None, columns=None):
    """The ratings file named by ``--ratings`` (or ``fit``'s RATINGS), as read.

    The user and item columns keep their ids' text unless every id is a plain integer
    (:func:`nmfrec.io.ids_from_text`): those named by ``--user-col``/``--item-col``,
    else those of ``columns``, else those recognised by their usual names.

    Parameters
    ----------
    args : argparse.Namespace
        With ``ratings`` (the path), ``sep``, ``names``, ``user_col`` and ``item_col``.
    path : str, optional
        Another file read the same way (``predict --pairs``) instead of ``args.ratings``.
    columns : sequence of str, optional
        A saved model's (user, item) columns, looked for before the usual names.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    UsageError
        ``--names`` is malformed.
    DataError
        The file is missing or does not parse.
    """
    try:
        return read_ratings_file(args.ratings if path is None else path, sep=args.sep,
                                 names=args.names, id_cols=id_columns(args, columns))
    except ValueError as e:
        if str(e).startswith("names "):
            raise UsageError(str(e)) from None
        raise DataError(str(e)) from None


def id_columns(args, columns=None):
    """The columns of a file that may hold user or item ids, for the file readers.

    Parameters
    ----------
    args : argparse.Namespace
        With ``user_col`` and ``item_col`` (None, or absent, when not given).
    columns : sequence of str, optional
        A saved model's (user, item) columns.

    Returns
    -------
    list of str
        ``--user-col`` (else the model's user column and the usual user column names),
        then the same for items.
    """
    model = list(columns)[:2] if columns is not None else [None, None]
    found = []
    for given, theirs, usual in ((getattr(args, "user_col", None), model[0], USER_COLUMNS),
                                 (getattr(args, "item_col", None), model[1], ITEM_COLUMNS)):
        found += [given] if given is not None else [c for c in (theirs, *usual) if c is not None]
    return list(dict.fromkeys(found))


def read_titles(path, item_col=None):
    """Titles from ``--titles``.

    Parameters
    ----------
    path : str
        The titles file (CSV with item and title columns, or a MovieLens items file).
    item_col : str, optional
        Its item column; by default recognised.

    Returns
    -------
    pandas.Series
        Item -> title.

    Raises
    ------
    DataError
        The file is missing or unreadable.
    """
    try:
        return read_titles_file(path, item_col)
    except ValueError as e:
        raise DataError(str(e)) from None


def _canonical(df, args):
    """The file's columns as ``user, item`` and ``rating`` (ratings) or ``count`` (counts)
    or neither (clicks), and ``timestamp`` where there is one.

    What the file holds is the library's rule, :func:`nmfrec.ratings.feedback_columns`:
    a rating column (recognised, or named by ``--rating-col``) makes it ratings; else a
    count column (``plays``, ``count``, ...) interaction counts; else a file of only the
    user and item columns (and a time) clicks; any other column is an error, not clicks.
    Every row is checked before duplicates are combined (a rating that is not a number,
    a missing id), and the frame keeps the file's row labels and its record of their
    lines (:func:`nmfrec._validation.locate_row`), so that any message about a row names
    its line; a pair combined by ``--duplicates mean`` is labelled as its first row.
    """
    ts = args.timestamp_col or ("timestamp" if "timestamp" in df.columns else None)
    if ts is not None and ts not in df.columns:
        raise DataError(f"{args.ratings}: timestamp column {ts!r} not found; the file has "
                        f"columns {list(df.columns)}.")
    try:
        ucol, icol, value, kind = feedback_columns(df, args.user_col, args.item_col,
                                                   args.rating_col, time_col=ts)
        # before any arithmetic on them (averaging duplicates)
        values = check_rating_column(df, value) if value is not None else None
    except (KeyError, ValueError, TypeError) as e:
        raise DataError(f"{args.ratings}: {message(e)}") from None
    cols = {"user": ucol, "item": icol}
    if ts is not None:
        cols["timestamp"] = ts
    try:
        check_no_missing(df, list(cols.values()), str(args.ratings))
    except ValueError as e:
        raise DataError(str(e)) from None
    out = pd.DataFrame({role: df[col] for role, col in cols.items()}, index=df.index)
    if values is not None:
        out.insert(2, "rating" if kind == "ratings" else "count", values)
    out.attrs.update(df.attrs)     # the file's lines, by row label
    pairs = out.duplicated(["user", "item"], keep=False).to_numpy()
    if not pairs.any():
        return out
    if args.duplicates == "raise":
        first = int(np.flatnonzero(pairs)[0])
        user, item = out["user"].iloc[first], out["item"].iloc[first]
        again = int(np.flatnonzero(pairs & (out["user"] == user).to_numpy()
                                   & (out["item"] == item).to_numpy())[1])
        raise DataError(f"{args.ratings}: {int(pairs.sum())} rows repeat a (user, item) pair "
                        f"(first: user {show(user)}, item {show(item)} at "
                        f"{locate_row(out, first)}, again at {locate_row(out, again)}); pass "
                        "--duplicates last, first or mean.")
    if args.duplicates in ("first", "last"):
        return out.drop_duplicates(["user", "item"], keep=args.duplicates)
    # mean: one row per pair, where its first row was, with the mean rating or count
    # (clicks: one row per pair) and the latest time
    keep = ~out.duplicated(["user", "item"], keep="first")
    combined = out[keep].copy()
    groups = out.groupby(["user", "item"], sort=False)
    for role, how in (("rating", "mean"), ("count", "mean"), ("timestamp", "max")):
        if role in out:
            combined[role] = groups[role].transform(how)[keep]
    return combined


def holds(frame):
    """What a frame made by :func:`_canonical` (or a split of it, or MovieLens) holds.

    Parameters
    ----------
    frame : pandas.DataFrame
        With columns ``user``, ``item`` and ``rating``, ``count`` or neither (and maybe
        ``timestamp``).

    Returns
    -------
    kind : {"ratings", "counts", "clicks"}
        By :func:`nmfrec.ratings.feedback_columns`.
    column : str or None
        Its value column.
    """
    *_, value, kind = feedback_columns(frame)
    return kind, value


# ------------------------------------------------------------------------- splits
def check_split_args(args):
    """Refuse contradictory split flags before any data is read.

    Parameters
    ----------
    args : argparse.Namespace
        With ``split``, ``kfold``, ``folds`` and ``test_size``.

    Returns
    -------
    str or None
        The split to use (``--kfold`` implies ``"kfold"``, ``--folds`` ``"official"``);
        None when nothing was asked.

    Raises
    ------
    UsageError
        A flag out of range, or two flags that contradict each other.
    """
    if args.kfold is not None:
        check_int_flag(args.kfold, "--kfold", 2)
    if args.folds is not None and args.kfold is not None:
        raise UsageError("give either --folds (official ml-100k folds) or --kfold N, not both.")
    if not 0 < args.test_size < 1:
        raise UsageError(f"--test-size must be a number in (0, 1); got {args.test_size}.")
    split = args.split
    if args.kfold is not None:
        if split not in (None, "kfold"):
            raise UsageError(f"--kfold N goes with --split kfold, not --split {split}.")
        split = "kfold"
    if args.folds is not None:
        if split not in (None, "official"):
            raise UsageError(f"--folds names official ml-100k folds; it goes with --split "
                             f"official, not --split {split}.")
        split = "official"
    return split


def parse_folds(text):
    """The official ml-100k folds named by ``--folds``.

    Parameters
    ----------
    text : str
        Comma-separated fold names, e.g. ``"u1,u2"``.

    Returns
    -------
    tuple of str
        E.g. ``("u1", "u2")``.

    Raises
    ------
    UsageError
        A name that is not an official fold, or none at all.
    """
    folds = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in folds if f not in datasets.ML100K_FOLDS]
    if bad or not folds:
        raise UsageError(f"--folds must be comma-separated official ml-100k folds from "
                         f"{', '.join(datasets.ML100K_FOLDS)}; got {text!r}.")
    return folds


def split(df, kind, args):
    """One of the generic splits of a ratings frame.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``user``, ``item``, ``rating`` (and ``timestamp`` for the temporal one).
    kind : {None, "kfold", "random", "user", "temporal"}
        The split; None is ``"kfold"``.
    args : argparse.Namespace
        With ``seed``, ``kfold`` (the number of folds, default 5) and ``test_size``.

    Returns
    -------
    description : str
        For the first line of the run.
    splits : dict
        Fold name -> (train, test).

    Raises
    ------
    UsageError
        A temporal split of a frame without timestamps.
    """
    seed = args.seed
    if kind in (None, "kfold"):
        n = args.kfold or 5
        return f"{n}-fold random split (seed {seed})", {
            f"fold{f + 1}": (s.train, s.test)
            for f, s in enumerate(kfold(df, n_splits=n, random_state=seed))}
    size = args.test_size
    if kind == "random":
        s = random_split(df, test_size=size, random_state=seed)
        return f"random split, {size:g} of the ratings held out (seed {seed})", {"random": s}
    if kind == "user":
        s = user_split(df, test_size=size, random_state=seed)
        return f"per-user split, {size:g} of each user's ratings held out (seed {seed})", \
            {"per-user": s}
    # "temporal" ("official" is refused by the callers before they read any data)
    if "timestamp" not in df.columns:
        raise UsageError("--split temporal needs a timestamp column; name it with "
                         "--timestamp-col.")
    s = temporal_split(df, test_size=size)
    return f"temporal split, the latest {size:g} of the ratings held out", {"temporal": s}


# ------------------------------------------------------------------------- MovieLens
def _not_found(e, args):
    """A DatasetNotFoundError in the command line's words."""
    reason = e.reason
    if not args.download:
        reason = f"{e.release.name} is not in {e.data_home} and --no-download was given."
    return f"{reason} {e.advice('--data-home')}"


def _fetch(name, args):
    """(folder, how it was found) of a release, downloading it unless --no-download."""
    found = datasets.find_movielens(name, args.data_home)
    if found is not None:
        return found, _SOURCE[datasets.data_home_source(args.data_home)]
    folder = datasets.fetch_movielens(name, args.data_home, download=args.download)
    return folder, "downloaded"


def _synthetic_shape(args):
    try:
        return datasets.synthetic_shape(args.synthetic_size or "S")
    except ValueError as e:  # "size must be ...", said as "--synthetic-size must be ..."
        raise UsageError(str(e)) from None


def _synthetic(args, kind, say):
    n_users, n_items, n_ratings = _synthetic_shape(args)
    t0 = time.perf_counter()
    try:
        df = datasets.make_ratings(n_users, n_items, n_ratings, seed=args.seed)
    except ValueError as e:
        raise UsageError(f"--synthetic-size {args.synthetic_size}: {e}") from None
    how, splits = split(df, kind, args)
    say(f"using the SYNTHETIC MovieLens-shaped ratings (not real data): {n_users:,} "
        f"users x {n_items:,} items, {len(df):,} ratings, seed {args.seed}; {how}; "
        f"generated in {time.perf_counter() - t0:.1f}s.")
    return {"dataset": "synthetic", "shape": [n_users, n_items, n_ratings],
            "seed": args.seed, "split": how}, splits


def prepare(args, say):
    """Resolve ``--ratings``/``--dataset`` and the split flags into the folds to score.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``evaluate`` arguments.
    say : callable
        Prints one line of the run's account (which data, from where, how split).

    Returns
    -------
    source : dict
        What the data is, for the JSON output.
    splits : dict
        Fold name -> (train, test).

    Raises
    ------
    UsageError
        Flags that contradict each other or do not fit the data.
    DataError
        A file or a MovieLens release that cannot be had.
    """
    kind = check_split_args(args)
    folds = parse_folds(args.folds) if args.folds is not None else None
    _synthetic_shape(args)  # checked even when unused
    if args.ratings is not None:
        if args.dataset != "auto":
            raise UsageError("give either --ratings FILE or --dataset NAME, not both.")
        if kind == "official":
            raise UsageError("--folds and --split official name MovieLens 100K's folds; a "
                             "ratings file is split by --split kfold, random, user or temporal.")
        df = _canonical(read_ratings(args), args)
        how, splits = split(df, kind, args)
        what = {"ratings": "ratings", "counts": "interactions (click data: counts, no rating "
                "column)", "clicks": "interactions (click data: no rating column)"}[
            holds(df)[0]]
        say(f"using {args.ratings}: {len(df):,} {what}, {df['user'].nunique():,} users, "
            f"{df['item'].nunique():,} items; {how}.")
        return {"dataset": str(args.ratings), "split": how}, splits
    name, fetched = args.dataset, None
    if name == "auto":
        try:
            fetched = _fetch("ml-100k", args)
            name = "ml-100k"
        except datasets.DatasetNotFoundError as e:
            say(f"MovieLens 100K not found: {_not_found(e, args)} Going on with synthetic "
                "data.")
            name = "synthetic"
    if name == "synthetic":
        if kind == "official":
            raise UsageError("--folds names official MovieLens 100K folds, which the "
                             "synthetic set does not have; use --kfold N or --split.")
        return _synthetic(args, kind, say)

    rel = datasets.MOVIELENS[name]
    try:
        folder, why = fetched or _fetch(name, args)
    except datasets.DatasetNotFoundError as e:
        raise DataError(f"{rel.title} ({name}) not found: {_not_found(e, args)}") from None
    if name == "ml-100k" and kind in (None, "official"):
        folds = folds or datasets.ML100K_DEFAULT_FOLDS
        splits = datasets.ml100k_folds(data_home=folder, folds=folds, download=False)
        say(f"using {rel.title} (real data), official folds {','.join(folds)}, from {folder} "
            f"(found via {why}).")
        return {"dataset": name, "path": str(folder), "split": ",".join(folds)}, splits
    if kind == "official":
        raise UsageError(f"--folds names official MovieLens 100K folds; {name} has none, "
                         "use --kfold N or --split.")
    ds = datasets.load_movielens(name, data_home=folder, download=False)
    how, splits = split(ds.ratings, kind, args)
    say(f"using {rel.title} (real data): {len(ds.ratings):,} ratings, {ds.n_users:,} users, "
        f"{ds.n_items:,} items, from {ds.path} (found via {why}); {how}.")
    return {"dataset": name, "path": str(ds.path), "split": how}, splits


# ------------------------------------------------------------------------- ids and id files
def label(vocab, text):
    """An id typed on the command line (or read as text) as a label of ``vocab``.

    Ids typed follow the rule of ids read from files (:func:`nmfrec.io.id_from_text`).

    Parameters
    ----------
    vocab : Vocabulary
        The model's users or items.
    text : str
        The id as typed.

    Returns
    -------
    int or str
        An int when the model's ids are integers and ``text`` is a plain integer
        (``"7"``, not ``"007"``: that is another id); the text itself otherwise, which
        the model then finds, or refuses naming the kind of its ids.
    """
    return id_from_text(text, integer=vocab.is_integer)


def read_user_list(args, rec):
    """The users of ``recommend --users FILE``, as labels of the model.

    The file is one id per line, or a table with a user column: a line with a separator
    (``,``, tab, ``;``), or a first line that names a user column (``user``,
    ``userId``, ..., the model's own user column, or ``--user-col``), makes it a table,
    read as ``nmfrec fit`` reads ratings files.

    Parameters
    ----------
    args : argparse.Namespace
        With ``users`` (the path), ``user_col``, ``sep`` and ``names``.
    rec : Recommender
        The model, for its user column's name and the kind of its ids.

    Returns
    -------
    list
        The users, in file order (repeats kept).

    Raises
    ------
    DataError
        The file is missing, empty or unreadable, or has no user column.
    """
    path = check_file(args.users, "users file")
    user_col = rec.columns_[0]
    if path.suffix.lower() in (".parquet", ".pq"):
        lines = None
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if not lines:
            raise DataError(f"users file {str(path)!r} is empty.")
        names = {*USER_COLUMNS, user_col, args.user_col}
        if (args.user_col is None and args.sep is None and args.names is None
                and lines[0] not in names and not re.search(r"[,\t;]|::", lines[0])):
            return [label(rec.users_, ln) for ln in lines]  # one id per line
    try:
        df = read_ratings_file(path, sep=args.sep, names=args.names,
                               id_cols=id_columns(args, rec.columns_))
        col = resolve_columns(df, args.user_col, roles=("user",), prefer={"user": user_col})[0]
    except (KeyError, ValueError) as e:
        raise DataError(f"{path}: {message(e)}") from None
    missing = df[col].isna().to_numpy()
    if missing.any():
        raise DataError(f"{path}: user column {col!r} has {int(missing.sum())} empty values "
                        f"(first at data row {int(missing.argmax()) + 1}).")
    return [label(rec.users_, v) for v in df[col]]

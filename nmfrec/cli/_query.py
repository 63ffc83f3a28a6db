"""The commands that query a saved model: ``recommend``, ``similar`` and ``predict``.

Each takes the parsed arguments and the output and error streams, and returns the exit
code; failures are raised as :class:`UsageError` or :class:`DataError`. Tables go to
stdout (a text table, CSV or JSON) or, with ``-o FILE``, to a file whose suffix says the
format (CSV, TSV, Parquet, JSON).
"""

from __future__ import annotations

import numpy as np

from .._predictive import check_predictive
from .._titles import item_number
from ..io import check_file
from ..recommender import Recommender
from ._commands import _command, attach_titles
from ._data import label, read_ratings, read_titles, read_user_list
from ._errors import DataError, UsageError, check_int_flag, message
from ._output import output_format, write_table
from ._params import usage_error_for


def load_model(args):
    """The model of ``args.model``, with the titles of ``--titles`` when given.

    Parameters
    ----------
    args : argparse.Namespace
        With ``model`` (the path) and ``titles``.

    Returns
    -------
    Recommender

    Raises
    ------
    DataError
        The file is missing or not a model, or the titles file is unreadable.
    """
    try:
        rec = Recommender.load(check_file(args.model, "model file"))
    except ValueError as e:
        raise DataError(message(e)) from None
    if getattr(args, "titles", None):
        attach_titles(rec, read_titles(args.titles, rec.columns_[1]))
    return rec


def _examples(vocab, n=3):
    return ", ".join(str(x) for x in vocab.labels_[:n])


def _unknown(e, vocab, kind):
    """A KeyError of the model, with how many ids of that kind it knows."""
    return DataError(f"{message(e)} (the model knows {len(vocab):,} {kind}s, e.g. "
                     f"{_examples(vocab)}).")


def _output_choice(args, one):
    """The format to print in, after checking ``--format`` and ``-o`` agree.

    ``one`` is True for a single list (a text table by default), False for many (CSV).
    """
    if args.output is not None:
        if args.format is not None:
            raise UsageError("give -o FILE (the format is its suffix) or --format, not both.")
        output_format(args.output)          # before any work
        return None
    if args.format == "table" and not one:
        raise UsageError("--format table shows one user's list; for --all or --users use "
                         "--format csv or json, or -o FILE.")
    return args.format or ("table" if one else "csv")


def _ranked_table(frame, value):
    """A ranking as printed: ``value`` with four decimals, missing titles blank."""
    shown = frame.copy()
    shown[value] = shown[value].map(lambda s: f"{s:.4f}")
    if "title" in shown.columns:
        shown["title"] = shown["title"].fillna("")
    return shown.to_string(index=False)


# ------------------------------------------------------------------------- recommend
@_command
def cmd_recommend(args, out, err, progress):
    """``nmfrec recommend``: the top-k items of one user (``--user``), of every user
    (``--all``) or of the users of a file (``--users``), from a saved model."""
    check_int_flag(args.k, "--k")
    draw = _explore_args(args)
    one = args.user is not None
    fmt = _output_choice(args, one)
    rec = load_model(args)
    if not one:
        return _recommend_many(rec, args, out, fmt)
    user = label(rec.users_, args.user)
    try:
        recs = rec.recommend(user, k=args.k, exclude_seen=args.exclude_seen, **draw)
    except KeyError as e:
        raise _unknown(e, rec.users_, "user") from None
    recs.insert(0, "rank", np.arange(1, len(recs) + 1))
    if fmt == "table":
        seen = "excluding" if args.exclude_seen else "including"
        print(f"top {len(recs)} for user {user!r} ({seen} the "
              f"{rec.ratings_[rec.users_.number(user)].nnz} items they rated):", file=out)
        print(_ranked_table(recs, "score"), file=out)
        return 0
    write_table(recs, out, args.output, fmt)
    if args.output is not None:
        print(f"wrote the top {len(recs)} for user {user!r} to {args.output}", file=out)
    return 0


def _explore_args(args):
    """``explore`` and ``random_state`` of ``--explore [SCALE]`` and ``--seed S``."""
    if args.seed is not None and args.explore is False:
        raise UsageError("--seed sets the draw of --explore; pass --explore too.")
    if args.seed is not None:
        check_int_flag(args.seed, "--seed", low=0)
    explore = args.explore
    if explore is not True and explore is not False and not (0 <= explore < float("inf")):
        raise UsageError(f"--explore must be a finite number >= 0; got {explore}.")
    return {"explore": explore, "random_state": args.seed}


def _recommend_many(rec, args, out, fmt):
    """``recommend --all`` / ``--users FILE``: one long table, user by user."""
    users = None if args.all else read_user_list(args, rec)
    try:
        recs = rec.recommend_many(users, k=args.k, exclude_seen=args.exclude_seen,
                                  **_explore_args(args))
    except KeyError as e:
        err = _unknown(e, rec.users_, "user")
        raise DataError(f"{args.users}: {err}") from None
    recs = recs[["user", "rank", "item", "score",
                 *(["title"] if "title" in recs.columns else [])]]
    write_table(recs, out, args.output, fmt)
    if args.output is not None:
        n = len(rec.users_) if users is None else len(users)
        print(f"wrote the top {args.k} for {n:,} users ({len(recs):,} rows) to "
              f"{args.output}", file=out)
    return 0


# ------------------------------------------------------------------------- similar
@_command
def cmd_similar(args, out, err, progress):
    """``nmfrec similar``: the items most similar to one item of a saved model."""
    check_int_flag(args.k, "--k")
    fmt = _output_choice(args, True)
    rec = load_model(args)
    asked = label(rec.items_, args.item)
    try:
        sims = rec.similar_items(asked, k=args.k)
    except KeyError as e:
        raise _unknown(e, rec.items_, "item") from None
    # the item as the model found it: by its id, or by its title (--item "Star Wars (1977)")
    number = item_number(rec, asked)
    item = rec.items_.labels([number]).tolist()[0]
    sims.insert(0, "rank", np.arange(1, len(sims) + 1))
    if fmt != "table":
        write_table(sims, out, args.output, fmt)
        if args.output is not None:
            print(f"wrote the {len(sims)} items most similar to item {item!r} to "
                  f"{args.output}", file=out)
        return 0
    titles = rec.item_titles_
    title = titles[number] if titles is not None else None
    named = f" ({title})" if isinstance(title, str) else ""
    print(f"the {len(sims)} items most similar to item {item!r}{named}:", file=out)
    print(_ranked_table(sims, "similarity"), file=out)
    return 0


# ------------------------------------------------------------------------- predict
def prediction_columns(rec, pairs, args):
    """The columns ``predict`` adds to the pairs, by name: one value per pair each.

    Every column the command writes beside the file's own comes from here.

    Parameters
    ----------
    rec : Recommender
        The model.
    pairs : pandas.DataFrame
        The pairs file as read.
    args : argparse.Namespace
        With ``clip``, ``unknown``, ``user_col``, ``item_col``, ``pairs`` (the path),
        ``std`` and ``interval`` (a level or None).

    Returns
    -------
    dict
        ``prediction``: :meth:`Recommender.predict` of each pair with ``--clip`` and
        ``--unknown``; with ``--std``, ``std`` (``return_std``); with ``--interval
        LEVEL``, ``lower``, ``upper`` and ``mass`` (:meth:`Recommender.predict_interval`;
        empty for pairs of unknown ids).

    Raises
    ------
    UsageError
        A flag value the model refuses (``--unknown baseline`` of an implicit model,
        ``--std`` or ``--interval`` of a model without a posterior, a level outside
        (0, 1]).
    DataError
        The pairs have no user or item column, or ids the model cannot take.
    """
    std = getattr(args, "std", False)
    level = getattr(args, "interval", None)
    for flag, wanted in (("--std", std), ("--interval", level is not None)):
        if wanted:
            try:
                check_predictive(rec, flag)
            except ValueError as e:
                raise UsageError(message(e)) from None
    if level is not None and not 0.0 < level <= 1.0:
        raise UsageError(f"--interval must be a probability in (0, 1], e.g. 0.9; got {level}.")
    columns = {}
    try:
        pred = rec.predict(pairs, clip=args.clip, unknown=args.unknown,
                           user_col=args.user_col, item_col=args.item_col, return_std=std)
        columns["prediction"], columns["std"] = pred if std else (pred, None)
        if level is not None:
            iv = rec.predict_interval(pairs, level=level,
                                      unknown="raise" if args.unknown == "raise" else "nan",
                                      user_col=args.user_col, item_col=args.item_col)
            columns.update({name: iv[name].to_numpy() for name in iv.columns})
    except (KeyError, ValueError, TypeError) as e:
        usage = usage_error_for(message(e), ("clip", "unknown"))
        if usage is not None:
            raise usage from None
        raise DataError(f"{args.pairs}: {message(e)}") from None
    return {name: value for name, value in columns.items() if value is not None}


@_command
def cmd_predict(args, out, err, progress):
    """``nmfrec predict``: a saved model's predictions for the (user, item) pairs of a
    file, written with the file's columns."""
    if args.output is not None:
        output_format(args.output)
    rec = load_model(args)
    pairs = read_ratings(args, args.pairs, rec.columns_)
    columns = prediction_columns(rec, pairs, args)
    clash = [name for name in columns if name in pairs.columns]
    if clash:
        raise DataError(f"{args.pairs} already has a column {clash[0]!r}, which predict "
                        "writes; rename that column.")
    result = pairs.assign(**columns)
    n_missing = int(np.isnan(columns["prediction"]).sum())
    if n_missing:
        print(f"nmfrec predict: {n_missing:,} of {len(pairs):,} pairs have a user or item "
              "the model does not know; their prediction is empty (NaN)"
              + ("; --unknown baseline fills them with mean ratings" if rec.predicts_ratings
                 else "") + ".", file=err)
    write_table(result, out, args.output, "csv")
    if args.output is not None:
        print(f"wrote {len(result):,} predictions to {args.output}", file=out)
    return 0

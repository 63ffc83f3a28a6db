"""The ``nmfrec`` command: evaluate on MovieLens (or a synthetic stand-in), fit, recommend.

Three subcommands, each with ``--help``::

    nmfrec evaluate [--dataset auto|ml-100k|...|synthetic] [--folds u1,u2|--kfold N] ...
    nmfrec fit RATINGS -o MODEL.npz [--user-col ...] [--titles FILE] [model params]
    nmfrec recommend MODEL.npz --user U [--k 10] [--include-seen]

The model parameters (``--n-components``, ``--solver``, ``--l2-W`` ...) are derived from
``Recommender().get_params()`` and validated by the Recommender's own constraint table,
so a new constructor parameter appears here without editing this file.

Errors print one line ``nmfrec: error: ...`` on stderr and exit with 2 (usage: a bad flag
or parameter value) or 1 (data: a missing or unreadable file, a bad column, an unknown
user). ``--debug`` shows the traceback instead.

:func:`main` takes ``argv`` and returns the exit code, so tests can call it in-process.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import check_params
from .datasets import (MOVIELENS, SYNTHETIC_SIZES, DatasetNotFoundError, get_data_home,
                       load_movielens, make_ratings, ml100k_folds)
from .evaluation import CVResult, GlobalMean, Popularity, evaluate, kfold
from .ratings import ITEM_COLUMNS
from .recommender import Recommender

__all__ = ["main", "build_parser"]

PROG = "nmfrec"
OFFICIAL_FOLDS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")
DEFAULT_FOLDS = ("u1", "u2", "u3", "u4", "u5")
DATASETS = ("auto", *MOVIELENS, "synthetic")
PRETTY = {"ml-100k": "MovieLens 100K", "ml-1m": "MovieLens 1M", "ml-10m": "MovieLens 10M",
          "ml-20m": "MovieLens 20M", "ml-25m": "MovieLens 25M", "ml-32m": "MovieLens 32M",
          "ml-latest-small": "MovieLens latest-small"}
RATING_NAMES = ("user", "item", "rating", "timestamp")

#: The CLI seeds the model by default so that two runs print the same table;
#: ``--random-state none`` restores the library default (unseeded).
CLI_DEFAULTS = {"random_state": 0}

#: One-line descriptions of the model parameters; a parameter missing here still gets a
#: flag, described by its constraint.
PARAM_HELP = {
    "n_components": "rank k of the factorization",
    "solver": "optimizer",
    "init": "initialization ('none': nndsvda when k < min(users, items), else random)",
    "max_iter": "maximum number of iterations",
    "tol": "stop when the objective's relative decrease is below this",
    "l1_W": "L1 penalty on user factors",
    "l2_W": "L2 penalty on user factors",
    "l1_H": "L1 penalty on item factors",
    "l2_H": "L2 penalty on item factors",
    "n_init": "restarts, keeping the best",
    "random_state": "seed ('none' for unseeded)",
    "n_threads": "Numba threads ('none' for all cores)",
    "dtype": "float precision of the factors",
    "verbose": "print the fit's progress (0 = quiet)",
}


class UsageError(Exception):
    """Bad command-line usage: exit code 2."""


class DataError(Exception):
    """A file or the data in it is missing or unusable: exit code 1."""


# ======================================================================================
# model parameters, derived from Recommender().get_params()
# ======================================================================================

def _flag(name):
    return "--" + name.replace("_", "-")


def _model_defaults():
    params = Recommender().get_params()
    params.update({k: v for k, v in CLI_DEFAULTS.items() if k in params})
    return params


def _parse_value(text, default, name=None):
    """A command-line string as a value of the parameter's kind (judged by its default)."""
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if isinstance(default, bool):
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false; got {text!r}")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected an integer; got {text!r}") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number; got {text!r}") from None
    if isinstance(default, str):
        return text
    # default None ("auto"): the constraint table says what the value is, else the
    # text decides (an int seed, a float, else a string)
    table = getattr(Recommender, "_parameter_constraints", {})
    allowed = [v for c in table.get(name, ()) for v in getattr(c, "values", ())]
    if True in allowed and False in allowed:
        return _parse_value(text, False)
    kinds = [getattr(c, "kind", None) for c in table.get(name, ())]
    if "int" in kinds:
        return _parse_value(text, 0)
    if "real" in kinds:
        return _parse_value(text, 0.0)
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _constraint_text(name):
    table = getattr(Recommender, "_parameter_constraints", {})
    if name not in table:
        return ""
    return " or ".join(str(c) for c in table[name])


def _metavar(name, default):
    table = getattr(Recommender, "_parameter_constraints", {})
    words = [v for c in table.get(name, ()) for v in getattr(c, "values", ())
             if isinstance(v, str)]
    if words:
        return "{" + ",".join(words) + "}"
    allowed = [v for c in table.get(name, ()) for v in getattr(c, "values", ())]
    if True in allowed and False in allowed:
        return "BOOL"
    kinds = [getattr(c, "kind", None) for c in table.get(name, ())]
    if "int" in kinds:
        return "N"
    if "real" in kinds:
        return "X"
    if isinstance(default, bool):
        return "BOOL"
    if isinstance(default, int):
        return "N"
    if isinstance(default, float):
        return "X"
    return "VALUE"


def _paired_params(names):
    """``l2`` for (``l2_W``, ``l2_H``): one flag that sets both sides."""
    out = {}
    for n in names:
        if n.endswith("_W") and n[:-2] + "_H" in names:
            out[n[:-2]] = (n, n[:-2] + "_H")
    return out


def _add_model_args(parser):
    defaults = _model_defaults()
    group = parser.add_argument_group(
        "model parameters (those of nmfrec.Recommender; value 'none' where allowed)")
    for short, (w, h) in _paired_params(defaults).items():
        group.add_argument(_flag(short), dest=f"_both_{short}", metavar="X", default=None,
                           help=f"set both {_flag(w)} and {_flag(h)}")
    for name, default in defaults.items():
        flags = [_flag(name)]
        if _flag(name).lower() != _flag(name):
            flags.append(_flag(name).lower())
        what = PARAM_HELP.get(name, name.replace("_", " "))
        rule = _constraint_text(name)
        help_text = f"{what}; {rule} (default: {default!r})" if rule else \
            f"{what} (default: {default!r})"
        group.add_argument(*flags, dest=f"_param_{name}", metavar=_metavar(name, default),
                           default=None,
                           help=help_text.replace("%", "%%"))


def _model_params(args):
    """The Recommender parameters from parsed args, validated; UsageError naming the flag."""
    params = _model_defaults()
    given = {}  # parameter -> the flag that set it, for error messages
    for short, (w, h) in _paired_params(params).items():
        raw = getattr(args, f"_both_{short}", None)
        if raw is not None:
            for name in (w, h):
                params[name] = _convert(name, raw, params[name], _flag(short))
                given[name] = _flag(short)
    for name, default in _model_defaults().items():
        raw = getattr(args, f"_param_{name}", None)
        if raw is not None:
            params[name] = _convert(name, raw, default, _flag(name))
            given[name] = _flag(name)
    try:
        table = getattr(Recommender, "_parameter_constraints", {})
        # only the Recommender's own parameters (its table may borrow MaskedNMF's)
        check_params(params, {k: v for k, v in table.items() if k in params})
    except ValueError as e:
        msg = str(e)
        for name in params:
            if msg.startswith(name + " "):
                msg = given.get(name, _flag(name)) + msg[len(name):]
                break
        raise UsageError(msg) from None
    return params


def _convert(name, raw, default, flag):
    try:
        return _parse_value(raw, default, name)
    except ValueError as e:
        rule = _constraint_text(name)
        raise UsageError(f"{flag}: {e}" + (f" ({rule})" if rule else "")) from None


def _describe_params(params):
    base = Recommender().get_params()
    changed = {k: v for k, v in params.items() if base.get(k) != v}
    try:  # the values a fit will use, with the None ("auto") ones resolved
        k = Recommender(**params).resolved_params()["n_components"]
    except Exception:  # unknown parameters are reported elsewhere
        k = params.get("n_components")
    core = f"k={k}, solver={params.get('solver')}"
    rest = ", ".join(f"{k}={v!r}" for k, v in changed.items()
                     if k not in ("n_components", "solver"))
    return core + (f", {rest}" if rest else "")


# ======================================================================================
# reading files
# ======================================================================================

def _check_file(path, what):
    p = Path(path)
    if not p.exists():
        raise DataError(f"{what} {str(path)!r} does not exist.")
    if p.is_dir():
        raise DataError(f"{what} {str(path)!r} is a directory, not a file.")
    return p


def _first_line(p):
    with open(p, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line.strip():
                return line
    return ""


def _decode_sep(sep):
    if sep is None:
        return None
    if sep.lower() in ("tab", "\\t"):
        return "\t"
    if sep.lower() in ("space", " "):
        return " "
    return sep.encode("utf-8").decode("unicode_escape")


def _guess_sep(p, first):
    name, suffix = p.name.lower(), p.suffix.lower()
    if suffix == ".tsv" or name == "u.data" or suffix in (".base", ".test", ".data"):
        return "\t"
    if "::" in first:
        return "::"
    if suffix == ".csv":
        return ","
    counts = {s: first.count(s) for s in ("\t", ",", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_ratings_file(path, sep=None, names=None):
    """Read a ratings table: CSV/TSV with or without a header, u.data, ``::`` files, Parquet.

    A file whose first line is all numbers is read as headerless with the columns
    ``user, item, rating[, timestamp]`` (unless ``names`` says otherwise).
    """
    p = _check_file(path, "ratings file")
    if names is not None:
        names = [n.strip() for n in names.split(",") if n.strip()]
        if len(set(names)) != len(names) or not names:
            raise UsageError(f"--names must be distinct comma-separated column names; got "
                             f"{','.join(names)!r}.")
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            df = pd.read_parquet(p)
        except ImportError as e:
            raise DataError(f"cannot read {p}: reading Parquet needs pyarrow or fastparquet, "
                            f"which is not installed ({str(e).splitlines()[0]}). Install "
                            "pyarrow, or convert the file to CSV.") from None
        except Exception as e:
            raise DataError(f"cannot read {p} as Parquet: {e}") from None
        if names is not None:
            if len(names) != df.shape[1]:
                raise UsageError(f"--names gives {len(names)} names but {p} has "
                                 f"{df.shape[1]} columns {list(df.columns)}.")
            df.columns = names
        return df
    first = _first_line(p)
    if not first:
        raise DataError(f"ratings file {str(p)!r} is empty.")
    sep = _decode_sep(sep) or _guess_sep(p, first)
    fields = first.split(sep)
    if names is None and all(_is_number(f.strip()) for f in fields):
        names = list(RATING_NAMES[:len(fields)]) + [f"col{j}" for j in
                                                   range(len(RATING_NAMES), len(fields))]
    kw = dict(sep=sep, engine="python" if len(sep) > 1 else "c")
    if names is not None:
        kw.update(header=None, names=names, index_col=False)
    try:
        try:
            df = pd.read_csv(p, **kw)
        except UnicodeDecodeError:
            df = pd.read_csv(p, encoding="latin-1", **kw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise DataError(f"cannot parse {p} (separator {sep!r}): {str(e).strip()}") from None
    if len(df) == 0:
        raise DataError(f"ratings file {str(p)!r} has no data rows.")
    return df


def read_titles_file(path, item_col=None):
    """Item titles: a CSV/TSV with item and title columns, MovieLens ``u.item`` or ``movies.dat``.

    ``item_col`` names the item column (default: a recognised name, or the non-title
    column of a two-column file). Returns a Series item -> title.
    """
    p = _check_file(path, "titles file")
    first = _first_line(p)
    if not first:
        raise DataError(f"titles file {str(p)!r} is empty.")
    try:
        if p.name.lower() == "u.item" or (first.count("|") >= 2 and "," not in first.split("|")[0]):
            df = pd.read_csv(p, sep="|", header=None, encoding="latin-1", usecols=[0, 1],
                             dtype={1: str}, keep_default_na=False, engine="c")
            return pd.Series(df[1].to_numpy(), index=df[0].to_numpy())
        if "::" in first:
            raw = p.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            rows = [line.split("::") for line in text.splitlines() if line.strip()]
            ids = [_int_or_str(r[0]) for r in rows]
            return pd.Series([r[1] if len(r) > 1 else None for r in rows], index=ids)
        sep = _guess_sep(p, first)
        try:
            df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
        except UnicodeDecodeError:
            df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, encoding="latin-1")
    except (pd.errors.ParserError, ValueError) as e:
        raise DataError(f"cannot parse titles file {p}: {str(e).strip()}") from None
    tcol = next((c for c in ("title", "name", "Title") if c in df.columns), None)
    icol = next((c for c in (item_col, *ITEM_COLUMNS, "id") if c in df.columns), None)
    if icol is None and tcol is not None and df.shape[1] == 2:
        icol = next(c for c in df.columns if c != tcol)  # "song,title": the other one
    if icol is None or tcol is None:
        raise DataError(f"titles file {p} needs an item column ({', '.join(ITEM_COLUMNS)}) and "
                        f"a title column (title or name); it has columns {list(df.columns)}.")
    return pd.Series(df[tcol].to_numpy(), index=[_int_or_str(x) for x in df[icol]])


def _int_or_str(x):
    try:
        return int(x)
    except (TypeError, ValueError):
        return str(x)


def _attach_titles(rec, titles):
    """Titles keyed like the model's item vocabulary (int labels stay int)."""
    if rec.items_.is_integer:
        keys = pd.to_numeric(pd.Series(titles.index), errors="coerce")
        keep = keys.notna().to_numpy()
        titles = pd.Series(titles.to_numpy()[keep], index=keys[keep].astype(np.int64).to_numpy())
    else:
        titles = pd.Series(titles.to_numpy(), index=[str(x) for x in titles.index])
    titles = titles[~titles.index.duplicated(keep="last")]
    rec.set_item_titles(titles)
    return int(pd.Series(rec.item_titles_).notna().sum())


# ======================================================================================
# nmfrec evaluate
# ======================================================================================

def _repo_data_dir():
    # nmfrec/cli.py -> checkout root -> its parent holds shared/data
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _release_folder(name, home):
    rel = MOVIELENS[name]
    for cand in (home / rel.folder, home / rel.name, home):
        if (cand / rel.ratings).is_file():
            return cand
    return None


def _candidate_homes(data_home):
    """Where to look for MovieLens, in order, each with a reason shown to the user."""
    if data_home is not None:
        return [(Path(data_home).expanduser(), "--data-home")]
    out = []
    env = os.environ.get("NMFREC_DATA")
    if env:
        out.append((Path(env).expanduser(), "NMFREC_DATA"))
    out.append((Path.cwd().parent / "shared" / "data", "../shared/data from the current directory"))
    out.append((_repo_data_dir(), "../shared/data next to the nmfrec checkout"))
    out.append((get_data_home(None) if not env else _user_cache(), "the user cache"))
    seen, unique = set(), []
    for home, why in out:
        key = str(home.resolve()) if home.exists() else str(home)
        if key not in seen:
            seen.add(key)
            unique.append((home, why))
    return unique


def _user_cache():
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "nmfrec"


def _find_movielens(name, data_home):
    """(folder, reason) of the first candidate holding the release, else (None, looked)."""
    homes = _candidate_homes(data_home)
    for home, why in homes:
        folder = _release_folder(name, home)
        if folder is not None:
            return folder, why, homes
    return None, None, homes


def _synthetic_shape(text):
    key = {"S": "ml-100k", "M": "ml-1m", "L": "ml-20m"}.get(text, text)
    if key in SYNTHETIC_SIZES:
        return SYNTHETIC_SIZES[key]
    parts = text.lower().replace(",", "x").split("x")
    try:
        shape = tuple(int(x.replace("_", "")) for x in parts)
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) <= 0:
        raise UsageError(f"--synthetic-size must be one of S, M, L, {', '.join(SYNTHETIC_SIZES)} "
                         f"or USERSxITEMSxRATINGS (e.g. 200x300x5000); got {text!r}.")
    return shape


def _parse_folds(text):
    folds = tuple(f.strip() for f in text.split(",") if f.strip())
    bad = [f for f in folds if f not in OFFICIAL_FOLDS]
    if bad or not folds:
        raise UsageError(f"--folds must be comma-separated official ml-100k folds from "
                         f"{', '.join(OFFICIAL_FOLDS)}; got {text!r}.")
    return folds


def _prepare_data(args, say):
    """Resolve --dataset into (description, {fold name: (train, test)})."""
    if args.kfold is not None and args.kfold < 2:
        raise UsageError(f"--kfold must be an integer >= 2; got {args.kfold}.")
    if args.folds is not None and args.kfold is not None:
        raise UsageError("give either --folds (official ml-100k folds) or --kfold N, not both.")
    folds = _parse_folds(args.folds) if args.folds is not None else None
    shape = _synthetic_shape(args.synthetic_size)  # checked even when unused
    name = args.dataset
    if name == "auto":
        folder, why, homes = _find_movielens("ml-100k", args.data_home)
        if folder is not None:
            name = "ml-100k"
        else:
            looked = "; ".join(str(h) for h, _ in homes)
            say(f"MovieLens 100K not found (looked in: {looked}).")
            name = "synthetic"
    if name == "synthetic":
        if folds is not None:
            raise UsageError("--folds names official MovieLens 100K folds, which the "
                             "synthetic set does not have; use --kfold N.")
        n_users, n_items, n_ratings = shape
        n_splits = args.kfold or 5
        t0 = time.perf_counter()
        try:
            df = make_ratings(n_users, n_items, n_ratings, seed=args.seed)
        except ValueError as e:
            raise UsageError(f"--synthetic-size {args.synthetic_size}: {e}") from None
        say(f"using the SYNTHETIC MovieLens-shaped ratings (not real data): {n_users:,} "
            f"users x {n_items:,} items, {len(df):,} ratings, seed {args.seed}; "
            f"{n_splits}-fold random split (seed {args.seed}); generated in "
            f"{time.perf_counter() - t0:.1f}s.")
        splits = {f"fold{f + 1}": (s.train, s.test)
                  for f, s in enumerate(kfold(df, n_splits=n_splits, random_state=args.seed))}
        return {"dataset": "synthetic", "shape": [n_users, n_items, n_ratings],
                "seed": args.seed, "split": f"kfold({n_splits})"}, splits

    pretty = PRETTY.get(name, name)
    folder, why, homes = _find_movielens(name, args.data_home)
    if folder is not None:
        home = folder if folder.name not in (MOVIELENS[name].folder, name) else folder.parent
    else:
        if not args.download:
            looked = "; ".join(str(h) for h, _ in homes)
            raise DataError(f"{pretty} ({name}) not found (looked in: {looked}) and "
                            "--no-download was given.")
        home = homes[0][0] if args.data_home is not None else get_data_home(None)
        why = "downloaded"
        say(f"{pretty} not found locally; downloading it into {home} ...")
    if name == "ml-100k" and args.kfold is None:
        folds = folds or DEFAULT_FOLDS
        splits = ml100k_folds(data_home=home, folds=folds, download=args.download)
        where = _release_folder(name, home)
        say(f"using {pretty} (real data), official folds {','.join(folds)}, from {where} "
            f"(found via {why}).")
        return {"dataset": name, "path": str(where), "split": ",".join(folds)}, splits
    if folds is not None:
        raise UsageError(f"--folds names official MovieLens 100K folds; {name} has none, "
                         "use --kfold N.")
    n_splits = args.kfold or 5
    ds = load_movielens(name, data_home=home, download=args.download)
    say(f"using {pretty} (real data): {len(ds.ratings):,} ratings, {ds.n_users:,} users, "
        f"{ds.n_items:,} items, from {ds.path} (found via {why}); {n_splits}-fold random "
        f"split (seed {args.seed}).")
    splits = {f"fold{f + 1}": (s.train, s.test) for f, s in
              enumerate(kfold(ds.ratings, n_splits=n_splits, random_state=args.seed))}
    return {"dataset": name, "path": str(ds.path), "split": f"kfold({n_splits})",
            "seed": args.seed}, splits


def _columns(protocol, k):
    cols = []
    if protocol in ("rating", "both"):
        cols += [("rmse", "RMSE"), ("mae", "MAE")]
    if protocol in ("ranking", "both"):
        cols += [("precision", f"P@{k}"), ("recall", f"R@{k}"), ("ndcg", f"NDCG@{k}"),
                 ("map", f"MAP@{k}"), ("coverage", "coverage")]
    cols.append(("fit_time", "fit(s)"))
    return cols


def _fmt(value, key):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.2f}" if key == "fit_time" else f"{value:.4f}"


def format_table(rows, columns):
    """Text table: rows are (label, {key: value}); right-aligned numbers."""
    header = ["", *[h for _, h in columns]]
    body = [[label, *[_fmt(vals.get(key), key) for key, _ in columns]] for label, vals in rows]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]
    def line(r):
        return "  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])])
    out = [line(header), "  ".join("-" * w for w in widths)]
    for label, r in zip([lb for lb, _ in rows], body):
        if label == "mean":
            out.append("  ".join("-" * w for w in widths))
        out.append(line(r))
    return "\n".join(out)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return None if math.isnan(x) else x
    return x


#: True while a progress line on stderr waits for its end (so a warning starts a new line).
_PENDING_LINE = [False]


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def cmd_evaluate(args, out, err):
    params = _model_params(args)
    if args.k < 1:
        raise UsageError(f"--k must be an integer >= 1; got {args.k}.")

    def say(msg):
        print(f"nmfrec evaluate: {msg}", file=out, flush=True)

    source, splits = _prepare_data(args, say)
    protocols = ("rating", "ranking") if args.protocol == "both" else (args.protocol,)
    say(f"model: Recommender({_describe_params(params)}); protocol {args.protocol}, "
        f"k={args.k}, relevant = rating >= {args.threshold:g}.")
    models = [("nmfrec", lambda: Recommender(**params), protocols)]
    if args.baselines:
        models += [("popularity", Popularity, protocols),
                   ("global mean", GlobalMean, tuple(p for p in protocols if p == "rating"))]
    results = {}
    n = len(splits)
    t_all = time.perf_counter()
    for label, make, protos in models:
        if not protos:
            continue
        rows, names = [], []
        for f, (fold, (train, test)) in enumerate(splits.items(), start=1):
            head = (f"[{label} {f}/{n}] {fold}: fitting on {len(train):,} ratings, testing "
                    f"on {len(test):,} ...")
            if _isatty(err):  # show the fold being worked on; completed on the same line
                print(head, file=err, end="", flush=True)
                _PENDING_LINE[0] = True
            t0 = time.perf_counter()
            res = evaluate(make(), train, test, k=args.k, relevance_threshold=args.threshold,
                           protocols=protos)
            bits = []
            if "rmse" in res:
                bits.append(f"RMSE {res['rmse']:.4f}")
            if "precision" in res:
                bits.append(f"P@{args.k} {res['precision']:.4f}")
            done = f" {', '.join(bits)}, {time.perf_counter() - t0:.1f}s"
            if _PENDING_LINE[0]:
                print(done, file=err, flush=True)
                _PENDING_LINE[0] = False
            else:
                print(head + done, file=err, flush=True)
            rows.append(res)
            names.append(fold)
        results[label] = CVResult(pd.DataFrame(rows, index=pd.Index(names, name="fold")))
    elapsed = time.perf_counter() - t_all

    columns = _columns(args.protocol, args.k)
    main_res = results["nmfrec"]
    table_rows = [(str(name), row) for name, row in main_res.folds.iterrows()]
    table_rows += [("mean", main_res.mean), ("± std", main_res.std)]
    for label in results:
        if label != "nmfrec":
            table_rows += [(f"{label} mean", results[label].mean),
                           (f"{label} ± std", results[label].std)]
    print("", file=out)
    print(format_table(table_rows, columns), file=out)
    print(f"\n{n} fold(s), {elapsed:.1f}s in all; '± std' is the sample standard deviation "
          "over folds. The first fit of a process includes loading (or, on a first run, "
          "compiling) the Numba kernels.", file=out, flush=True)
    if args.json:
        doc = {"source": source, "params": params, "protocol": args.protocol, "k": args.k,
               "threshold": args.threshold,
               "models": {label: {"folds": r.folds.reset_index().to_dict(orient="records"),
                                  "mean": r.mean.to_dict(), "std": r.std.to_dict()}
                          for label, r in results.items()}}
        try:
            Path(args.json).write_text(json.dumps(_jsonable(doc), indent=2) + "\n")
        except OSError as e:
            raise DataError(f"cannot write --json {args.json}: {e.strerror or e}") from None
        print(f"results written to {args.json}", file=out)
    return 0


# ======================================================================================
# nmfrec fit / recommend
# ======================================================================================

def cmd_fit(args, out, err):
    params = _model_params(args)
    df = read_ratings_file(args.ratings, sep=args.sep, names=args.names)
    titles = read_titles_file(args.titles, args.item_col) if args.titles else None
    print(f"nmfrec fit: {len(df):,} rows from {args.ratings} (columns {list(df.columns)}); "
          f"fitting Recommender({_describe_params(params)}) ...", file=err, flush=True)
    rec = Recommender(**params)
    t0 = time.perf_counter()
    try:
        rec.fit(df, user_col=args.user_col, item_col=args.item_col,
                rating_col=args.rating_col, duplicates=args.duplicates)
    except (KeyError, ValueError, TypeError) as e:
        raise DataError(f"{args.ratings}: {_message(e)}") from None
    took = time.perf_counter() - t0
    n_titled = _attach_titles(rec, titles) if titles is not None else 0
    out_path = Path(args.output)
    if out_path.parent and not out_path.parent.exists():
        raise DataError(f"cannot write {args.output}: folder {str(out_path.parent)!r} does "
                        "not exist.")
    try:
        rec.save(out_path)
    except OSError as e:
        raise DataError(f"cannot write {args.output}: {e.strerror or e}") from None
    m = rec.model_
    state = "converged" if getattr(m, "converged_", False) else "stopped at max_iter"
    print(f"fitted {len(rec.users_):,} users x {len(rec.items_):,} items "
          f"({rec.ratings_.nnz:,} ratings, columns {', '.join(rec.columns_)}) in {took:.1f}s: "
          f"{getattr(m, 'n_iter_', '?')} iterations, {state}"
          + (f"; titles for {n_titled:,} items" if titles is not None else "")
          + f"; saved to {out_path}", file=out)
    return 0


def _user_label(rec, text):
    if rec.users_.is_integer:
        try:
            return int(text)
        except ValueError:
            raise DataError(f"user {text!r} is not in the model: its user ids are integers "
                            f"(e.g. {_examples(rec.users_)}).") from None
    return text


def _examples(vocab, n=3):
    return ", ".join(str(x) for x in vocab.labels_[:n])


def cmd_recommend(args, out, err):
    if args.k < 1:
        raise UsageError(f"--k must be an integer >= 1; got {args.k}.")
    p = _check_file(args.model, "model file")
    try:
        rec = Recommender.load(p)
    except ValueError as e:
        raise DataError(_message(e)) from None
    if args.titles:
        _attach_titles(rec, read_titles_file(args.titles, rec.columns_[1]))
    user = _user_label(rec, args.user)
    try:
        recs = rec.recommend(user, k=args.k, exclude_seen=args.exclude_seen)
    except KeyError as e:
        raise DataError(f"{_message(e)} (the model knows {len(rec.users_):,} users, e.g. "
                        f"{_examples(rec.users_)}).") from None
    recs.insert(0, "rank", np.arange(1, len(recs) + 1))
    if args.format == "csv":
        recs.to_csv(out, index=False)
    elif args.format == "json":
        out.write(recs.to_json(orient="records", double_precision=15) + "\n")
    else:
        seen = "excluding" if args.exclude_seen else "including"
        print(f"top {len(recs)} for user {user!r} ({seen} the "
              f"{rec.ratings_[rec.users_.number(user)].nnz} items they rated):", file=out)
        shown = recs.copy()
        shown["score"] = shown["score"].map(lambda s: f"{s:.4f}")
        if "title" in shown.columns:
            shown["title"] = shown["title"].fillna("")
        print(shown.to_string(index=False), file=out)
    return 0


def _message(e):
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    return str(e)


# ======================================================================================
# parser and entry point
# ======================================================================================

class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``nmfrec: error: ...`` and exit code 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _FORMATTER(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)

MAIN_EPILOG = """\
examples:
  nmfrec evaluate                      # MovieLens 100K folds u1-u5 if found, else synthetic
  nmfrec evaluate --dataset ml-100k --folds u1 --baselines
  nmfrec fit ratings.csv -o model.npz --n-components 30
  nmfrec recommend model.npz --user 42 --k 10

Where MovieLens is looked for: --data-home, else $NMFREC_DATA, else ../shared/data
(relative to the current directory, then to the nmfrec checkout), else ~/.cache/nmfrec.
Run 'nmfrec COMMAND --help' for each command's options.
"""

EVALUATE_EPILOG = """\
what it does:
  Fits a fresh Recommender on each fold's train ratings and scores it on the test
  ratings: RMSE/MAE of the predictions clipped to the train range (protocol A), and
  precision/recall/NDCG/MAP@k plus catalog coverage over the unseen train items, with
  relevant = test rating >= --threshold (protocol B). Progress goes to stderr, the
  table to stdout. The first line says which data is used and where it was found.

examples:
  nmfrec evaluate                                   # auto: ml-100k u1-u5, else synthetic
  nmfrec evaluate --dataset ml-100k --data-home ~/data --folds u1,u2
  nmfrec evaluate --dataset synthetic --synthetic-size 500x800x20000 --kfold 3
  nmfrec evaluate --n-components 40 --l2 7 --baselines --json results.json
  nmfrec evaluate --protocol rating --solver mu --max-iter 200
"""

FIT_EPILOG = """\
input formats:
  .csv / .tsv with a header naming the user, item and rating columns (recognised:
  user/userId/user_id, item/movieId/item_id, rating); headerless files whose first line
  is all numbers are read as user,item,rating[,timestamp] (MovieLens u.data, ratings.dat
  with '::'); .parquet when pyarrow is installed. Other layouts: --sep and --names.

examples:
  nmfrec fit ratings.csv -o model.npz
  nmfrec fit ml-100k/u.data -o model.npz --titles ml-100k/u.item
  nmfrec fit data.txt --sep '\\t' --names user,item,rating,timestamp -o model.npz
  nmfrec fit plays.csv --user-col listener --item-col song --rating-col count \\
             --duplicates mean --n-components 32 -o model.npz
"""

RECOMMEND_EPILOG = """\
examples:
  nmfrec recommend model.npz --user 42
  nmfrec recommend model.npz --user alice --k 20 --include-seen
  nmfrec recommend model.npz --user 42 --titles ml-100k/u.item --format csv > top.csv
"""


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback on errors")
    parser = _Parser(
        prog=PROG, formatter_class=_FORMATTER, epilog=MAIN_EPILOG, parents=[common],
        description="nmfrec: recommendations by non-negative matrix factorization of "
                    "ratings with missing entries.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"nmfrec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                title="commands")

    ev = sub.add_parser("evaluate", parents=[common], formatter_class=_FORMATTER,
                        epilog=EVALUATE_EPILOG, help="score a model offline on MovieLens (or a synthetic set)",
                        description="Cross-validate a Recommender on MovieLens or synthetic "
                                    "MovieLens-shaped ratings and print a table of metrics.")
    g = ev.add_argument_group("data")
    g.add_argument("--dataset", default="auto", choices=DATASETS, metavar="NAME",
                   help="auto (default: ml-100k if found, else synthetic), synthetic, or a "
                        f"MovieLens release: {', '.join(MOVIELENS)}")
    g.add_argument("--data-home", metavar="DIR",
                   help="folder holding ml-100k/ etc. (default: $NMFREC_DATA, ../shared/data, "
                        "~/.cache/nmfrec)")
    g.add_argument("--folds", metavar="u1,u2,...",
                   help="official ml-100k folds to use (default: u1,u2,u3,u4,u5)")
    g.add_argument("--kfold", type=int, metavar="N",
                   help="random N-fold split instead (default for non-ml-100k data: 5)")
    g.add_argument("--synthetic-size", default="ml-100k", metavar="SIZE",
                   help="synthetic set size: S/ml-100k (default), M/ml-1m, L/ml-20m or "
                        "USERSxITEMSxRATINGS")
    g.add_argument("--seed", type=int, default=0,
                   help="seed of the synthetic data and random splits (default: 0)")
    g.add_argument("--no-download", dest="download", action="store_false",
                   help="never download a named MovieLens release (auto never downloads)")
    g = ev.add_argument_group("protocol")
    g.add_argument("--protocol", choices=("rating", "ranking", "both"), default="both",
                   help="rating prediction (RMSE, MAE), top-k ranking, or both (default)")
    g.add_argument("--k", type=int, default=10, help="list length for ranking (default: 10)")
    g.add_argument("--threshold", type=float, default=4.0,
                   help="a test rating >= this is relevant (default: 4)")
    g.add_argument("--baselines", action="store_true",
                   help="also score a popularity ranker and a global-mean predictor")
    g.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    _add_model_args(ev)
    ev.set_defaults(func=cmd_evaluate)

    fit = sub.add_parser("fit", parents=[common], formatter_class=_FORMATTER,
                         epilog=FIT_EPILOG, help="learn a model from a ratings file and save it",
                         description="Fit a Recommender on a ratings file and save it "
                                     "(a portable .npz, no pickle).")
    fit.add_argument("ratings", metavar="RATINGS",
                     help="ratings file (.csv, .tsv, u.data-style, .parquet)")
    fit.add_argument("-o", "--output", required=True, metavar="MODEL.npz",
                     help="where to save the model")
    g = fit.add_argument_group("input")
    g.add_argument("--user-col", metavar="COL", help="user column (default: recognised name)")
    g.add_argument("--item-col", metavar="COL", help="item column (default: recognised name)")
    g.add_argument("--rating-col", metavar="COL", help="rating column (default: recognised "
                                                       "name)")
    g.add_argument("--sep", metavar="SEP", help="field separator (default: guessed; 'tab' or "
                                                "'\\t' for tabs)")
    g.add_argument("--names", metavar="A,B,...", help="column names of a headerless file")
    g.add_argument("--duplicates", choices=("raise", "last", "first", "mean"),
                   default="raise", help="a (user, item) pair rated twice: error (default), "
                                         "keep last/first, or average")
    g.add_argument("--titles", metavar="FILE",
                   help="item titles: CSV with item,title columns, or MovieLens u.item / "
                        "movies.dat / movies.csv")
    _add_model_args(fit)
    fit.set_defaults(func=cmd_fit)

    rc = sub.add_parser("recommend", parents=[common], formatter_class=_FORMATTER,
                        epilog=RECOMMEND_EPILOG, help="top-k items for a user from a saved model",
                        description="Print the top-k items for one user of a saved model, "
                                    "best first, with titles where known.")
    rc.add_argument("model", metavar="MODEL.npz", help="a model saved by 'nmfrec fit'")
    rc.add_argument("--user", required=True, metavar="U",
                    help="user id (an integer when the model's ids are integers)")
    rc.add_argument("--k", type=int, default=10, help="number of items (default: 10)")
    seen = rc.add_mutually_exclusive_group()
    seen.add_argument("--exclude-seen", dest="exclude_seen", action="store_true",
                      default=True, help="leave out items the user rated (default)")
    seen.add_argument("--include-seen", dest="exclude_seen", action="store_false",
                      help="rank the user's rated items too")
    rc.add_argument("--titles", metavar="FILE", help="titles to show (as in 'nmfrec fit')")
    rc.add_argument("--format", choices=("table", "csv", "json"), default="table",
                    help="output format (default: table)")
    rc.set_defaults(func=cmd_recommend)
    return parser


def main(argv=None) -> int:
    """Run the command; return the exit code (0 ok, 1 data error, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    out, err = sys.stdout, sys.stderr

    def one_line_warning(message, category, filename, lineno, file=None, line=None):
        if _PENDING_LINE[0]:
            print("", file=err)
            _PENDING_LINE[0] = False
        print(f"{PROG}: warning: {message}", file=err)

    with warnings.catch_warnings():
        warnings.showwarning = one_line_warning
        return _run(argv, debug, out, err)


def _run(argv, debug, out, err):
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help / --version
            return int(e.code or 0)
        if args.command is None:
            parser.print_help(out)
            return 2
        return int(args.func(args, out, err) or 0)
    except UsageError as e:
        if debug:
            raise
        print(f"{PROG}: error: {e}", file=err)
        return 2
    except (DataError, DatasetNotFoundError, FileNotFoundError, PermissionError) as e:
        if debug:
            raise
        print(f"{PROG}: error: {_message(e)}", file=err)
        return 1
    except (KeyError, ValueError, TypeError) as e:
        if debug:
            raise
        print(f"{PROG}: error: {_message(e)}", file=err)
        return 1
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=err)
        return 130
    except Exception as e:  # noqa: BLE001 - last resort: one line, not a traceback
        if debug:
            raise
        print(f"{PROG}: error: unexpected {type(e).__name__}: {e} (rerun with --debug for "
              "the traceback)", file=err)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""What the commands print and write: the metrics table, result files, JSON, progress lines,
the account of a fit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._auto import PopularityPart
from ..bayes import BayesianNMF
from ..nmf import MaskedNMF
from ._errors import DataError, UsageError
from ._params import flag


#: Result key -> header of the ranking metrics in the ``evaluate`` table.
RANKING_HEADERS = {"precision": "P", "recall": "R", "ndcg": "NDCG", "map": "MAP",
                   "coverage": "coverage"}


def table_columns(protocol, k):
    """The columns of the ``evaluate`` table for a protocol.

    Parameters
    ----------
    protocol : {"rating", "ranking", "both"}
        The protocol run.
    k : int or tuple of int
        The list length, shown in the ranking headers (``P@10``). With several,
        precision, recall and NDCG at each length (result keys ``precision@10``,
        headers ``P@10``) and MAP and coverage at the first, to keep the table narrow
        (the JSON output has every metric at every length).

    Returns
    -------
    list of (str, str)
        (result key, header) pairs, fit time last.
    """
    cols = []
    if protocol in ("rating", "both"):
        cols += [("rmse", "RMSE"), ("mae", "MAE")]
    if protocol in ("ranking", "both"):
        if isinstance(k, tuple):
            cols += [(f"{key}@{n}", f"{head}@{n}") for key, head in RANKING_HEADERS.items()
                     for n in (k if key in ("precision", "recall", "ndcg") else k[:1])]
        else:
            cols += [(key, head if key == "coverage" else f"{head}@{k}")
                     for key, head in RANKING_HEADERS.items()]
    cols.append(("fit_time", "fit(s)"))
    return cols


def fitted(model, name, default=None):
    """A fitted attribute of a Recommender or one of its parts, or ``default``.

    The one place where the account of a fit (:func:`fit_summary`, :func:`part_summary`)
    reads a model: an attribute that a version of the model does not have (yet), or that
    is None, leaves its words out instead of failing the command after the fit. Add what
    a model comes to report by reading it here.

    Parameters
    ----------
    model : object
        A fitted Recommender, ``MaskedNMF`` or ``BayesianNMF``.
    name : str
        The attribute, e.g. ``"n_iter_"``.
    default : object, optional
        What to use without it.

    Returns
    -------
    object
    """
    value = getattr(model, name, None)
    return default if value is None else value


def part_summary(model):
    """What fitting one part of a Recommender did, from its fitted attributes.

    Parameters
    ----------
    model : BayesianNMF, MaskedNMF or PopularityPart
        A fitted part (``Recommender.model_`` or ``ranking_model_``).

    Returns
    -------
    str
        The rank fitted (``n_components_``), then ``"200 Gibbs draws after 20 burn-in,
        40 kept"`` for a Bayesian part (its ``train_rmse_`` has one entry per sweep, its
        ``noise_precision_`` one per kept draw), or ``"23 iterations, converged"`` /
        ``"50 iterations, stopped at --max-iter 50 before converging"`` for a penalized
        one (``n_iter_``, ``converged_``); what a part does not report is left out.
    """
    bits = []
    rank = fitted(model, "n_components_")
    if rank is not None:
        bits.append(f"rank {rank}")
    sweeps, n_iter = fitted(model, "train_rmse_"), fitted(model, "n_iter_")
    if isinstance(model, BayesianNMF) and sweeps is not None:
        burnin = fitted(model, "n_burnin_") or fitted(model, "n_burnin") or 0
        draws = f"{len(sweeps) - burnin:,} Gibbs draws after {burnin:,} burn-in"
        kept = fitted(model, "noise_precision_")
        bits.append(draws + (f", {len(kept):,} kept" if kept is not None else ""))
    elif isinstance(model, MaskedNMF) and n_iter is not None:
        converged = fitted(model, "converged_")
        if converged:
            state = ", converged"
        elif fitted(model, "tol") == 0:
            state = " (--tol 0: all of --max-iter)"
        elif converged is None:
            state = ""
        else:
            state = f", stopped at --max-iter {fitted(model, 'max_iter')} before converging"
        bits.append(f"{n_iter:,} iteration{'s' if n_iter != 1 else ''}{state}")
    elif isinstance(model, PopularityPart):
        bits = ["item popularity"]
    else:
        bits.append(f"{type(model).__name__} fitted")
    return ", ".join(bits)


def fit_summary(rec):
    """What each part of a fitted Recommender did, for the line ``nmfrec fit`` ends with.

    Parameters
    ----------
    rec : Recommender
        Fitted.

    Returns
    -------
    str
        E.g. ``"rating part: rank 6, 200 Gibbs draws after 20 burn-in, 40 kept;
        preference part: rank 80, 23 iterations, converged"``. A model with one part (implicit feedback, or
        ranking by predicted rating) names what that part does. Values the data chose
        (a ``fitted_params_`` dict of the model, parameter -> value) follow as the flags
        that would fix them: ``"; chosen from the data: --n-components 6"``.
    """
    feedback = fitted(rec, "feedback_", rec.feedback)
    rating, ranking = fitted(rec, "model_"), fitted(rec, "ranking_model_")
    first = ("preference part (the only part)" if feedback == "implicit"
             else "rating part")
    if isinstance(ranking, PopularityPart):
        text = f"{first}: {part_summary(rating)}; ranks by item popularity"
    elif ranking is not None and ranking is not rating:
        text = (f"rating part: {part_summary(rating)}; preference part: "
                f"{part_summary(ranking)}")
    elif feedback == "implicit":
        text = f"{first}: {part_summary(rating)}"
    else:
        text = f"rating part (which also ranks): {part_summary(rating)}"
    chosen = fitted(rec, "fitted_params_", {})
    if chosen:
        params = rec.get_params()
        text += "; chosen from the data: " + ", ".join(
            f"{flag(name) if name in params else name} "
            + (f"{value:g}" if isinstance(value, float) else str(value))
            for name, value in chosen.items())
    return text


#: File suffix -> format of ``-o FILE`` (the commands that write tables).
OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet",
                  ".pq": "parquet", ".json": "json"}


def output_format(path):
    """The format of ``-o FILE``, by its suffix; checked before any work is done.

    Parameters
    ----------
    path : str
        The file to write.

    Returns
    -------
    str
        ``"csv"``, ``"tsv"``, ``"parquet"`` or ``"json"``.

    Raises
    ------
    UsageError
        An unknown suffix.
    DataError
        The file's folder does not exist.
    """
    p = Path(path)
    fmt = OUTPUT_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise UsageError(f"-o {path}: the format is read from the suffix, one of "
                         f"{', '.join(OUTPUT_FORMATS)}; got {p.suffix or 'none'!r}.")
    if not p.parent.is_dir():
        raise DataError(f"cannot write {path}: folder {str(p.parent)!r} does not exist.")
    return fmt


def write_table(frame, out, path=None, fmt="csv"):
    """Write a result table to a file (format by suffix) or to ``out``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its index is not written.
    out : file-like
        Where CSV or JSON goes without ``path`` (the command's stdout).
    path : str, optional
        The file to write; its suffix says the format (:func:`output_format`).
    fmt : {"csv", "json"}, default "csv"
        The format on ``out``.

    Raises
    ------
    DataError
        Parquet without pyarrow (or fastparquet), or the file cannot be written.
    """
    if path is None:
        if fmt == "json":
            out.write(frame.to_json(orient="records", double_precision=15) + "\n")
        else:
            frame.to_csv(out, index=False)
        return
    fmt = output_format(path)
    try:
        if fmt == "parquet":
            try:
                frame.to_parquet(path, index=False)
            except ImportError as e:
                raise DataError(f"cannot write {path}: writing Parquet needs pyarrow (pip "
                                f"install pyarrow) or fastparquet ({str(e).splitlines()[0]}); "
                                "or write .csv.") from None
        elif fmt == "json":
            Path(path).write_text(frame.to_json(orient="records", double_precision=15) + "\n")
        else:
            frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    except OSError as e:
        raise DataError(f"cannot write {path}: {e.strerror or e}") from None


def _fmt(value, key):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.2f}" if key == "fit_time" else f"{value:.4f}"


def format_table(rows, columns):
    """A text table, numbers right-aligned and "-" for a missing or NaN value.

    A rule is drawn under the header and above the row labelled ``mean``.

    Parameters
    ----------
    rows : list of (str, mapping)
        Row label and its values by result key.
    columns : list of (str, str)
        (result key, header) pairs, as from :func:`table_columns`.

    Returns
    -------
    str
    """
    header = ["", *[h for _, h in columns]]
    body = [[label, *[_fmt(vals.get(key), key) for key, _ in columns]] for label, vals in rows]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]

    def line(r):
        return "  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])])

    rule = "  ".join("-" * w for w in widths)
    out = [line(header), rule]
    for (label, _), r in zip(rows, body):
        if label == "mean":
            out.append(rule)
        out.append(line(r))
    return "\n".join(out)


def jsonable(x):
    """``x`` with numpy scalars as Python numbers and NaN as None (for ``json.dumps``).

    Parameters
    ----------
    x : object
        A value, or dicts and lists of values (converted recursively, keys as str).

    Returns
    -------
    object
    """
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return None if math.isnan(x) else x
    return x


def isatty(stream):
    """Whether ``stream`` is a terminal.

    Parameters
    ----------
    stream : file-like
        E.g. ``sys.stderr``.

    Returns
    -------
    bool
        False for anything that cannot say (no ``isatty``, or a closed stream).
    """
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """One line per fold on stderr; on a terminal, begun before the fit and ended after.

    ``pending`` is True while a begun line waits for its end, so that a warning printed
    in between starts on a new line (see :meth:`interrupt`).

    Parameters
    ----------
    stream : file-like
        Where the lines go (the command's stderr).
    """

    def __init__(self, stream):
        self.stream = stream
        self.pending = False
        self._head = ""

    def begin(self, head):
        """Start a fold's line; on a terminal it is printed now, else with its end.

        Parameters
        ----------
        head : str
            What the fold is about to do.
        """
        self._head = head
        if isatty(self.stream):
            print(head, file=self.stream, end="", flush=True)
            self.pending = True

    def end(self, tail):
        """Finish the fold's line.

        Parameters
        ----------
        tail : str
            Its result, printed after the head.
        """
        if self.pending:
            print(tail, file=self.stream, flush=True)
            self.pending = False
        else:
            print(self._head + tail, file=self.stream, flush=True)

    def interrupt(self):
        """End a begun line before something else is printed."""
        if self.pending:
            print("", file=self.stream)
            self.pending = False

"""The argument parser: five subcommands, each with examples in its ``--help``."""

from __future__ import annotations

import argparse
import textwrap

from ..ratings import DUPLICATE_POLICIES
from ..recommender import Recommender
from ._commands import cmd_evaluate, cmd_fit
from ._query import cmd_predict, cmd_recommend, cmd_similar
from ._data import DATASETS, SPLITS
from ._errors import Flags
from ._params import add_model_args, method_default, method_doc, method_help, summary
from ._top import COMMANDS, _formatter, top_parser

#: Library names that a command's flags spell differently: the parameter of
#: ``evaluate()``, ``kfold()`` and ``synthetic_shape()`` a flag sets.
EVALUATE_ALIASES = {"relevance_threshold": "--threshold", "n_splits": "--kfold",
                    "protocols": "--protocol", "size": "--synthetic-size"}

EVALUATE_EPILOG = """\
what it does:
  Fits a fresh Recommender on each fold's train ratings and scores it on the test
  ratings: RMSE/MAE of the predictions clipped to the train range (protocol A), and
  precision/recall/NDCG/MAP@k plus catalog coverage over the unseen train items, with
  relevant = test rating >= --threshold (protocol B). A file without a rating column
  is click data (who chose what), with a count column (plays, count, clicks, ...) or
  only user and item columns (and a time): every held-out item is relevant, ranking at
  k=10,20 (protocol C); another column instead (stars) needs --rating-col. Progress
  goes to stderr, the table to stdout. The first line says which data is used and
  where it was found.
  With --dataset auto, MovieLens 100K is downloaded when it is missing (unless
  --no-download); without a network the run goes on with synthetic data and says how
  to get the real set.

examples:
  nmfrec evaluate                                   # auto: ml-100k u1-u5, else synthetic
  nmfrec evaluate --dataset ml-100k --data-home ~/data --folds u1,u2
  nmfrec evaluate --ratings ratings.csv --titles titles.csv --split user
  nmfrec evaluate --ratings plays.csv --user-col listener --item-col song \\
                  --rating-col count --split temporal --timestamp-col played_at
  nmfrec evaluate --dataset synthetic --synthetic-size 500x800x20000 --kfold 3
  nmfrec evaluate --n-components 40 --l2 7 --baselines --json results.json
  nmfrec evaluate --protocol ranking --feedback implicit --baselines
  nmfrec evaluate --ratings clicks.csv --feedback implicit --baselines   # user,item only
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
  nmfrec recommend model.npz --all -o recs.parquet      # every user; Parquet needs pyarrow
  nmfrec recommend model.npz --users today.txt --k 5 -o recs.csv  # one id per line
  nmfrec recommend model.npz --user 42 --explore --seed 7   # Thompson sampling

--users FILE: one id per line, or a table (CSV/TSV/Parquet) with a user column named as
in the training file (or --user-col). -o FILE writes CSV, TSV, Parquet or JSON by suffix.
"""

SIMILAR_EPILOG = """\
examples:
  nmfrec similar model.npz --item 50
  nmfrec similar model.npz --item 50 --k 20 --titles ml-100k/u.item --format csv
"""

PREDICT_EPILOG = """\
examples:
  nmfrec predict model.npz --pairs test.csv                 # CSV on stdout
  nmfrec predict model.npz --pairs test.csv -o predictions.parquet --no-clip
  nmfrec predict model.npz --pairs pairs.tsv --unknown baseline
  nmfrec predict model.npz --pairs test.csv --interval 0.9 --std

The pairs file is read as 'nmfrec fit' reads ratings (a header naming the user and item
columns as in the training file, or a headerless user,item[,...] file); every column of
it is written back, with a 'prediction' column added. Pairs whose user or item the model
does not know get an empty prediction (NaN), counted on stderr, unless --unknown says
otherwise. --std adds each prediction's standard deviation, --interval LEVEL the
shortest run of rating values (lower, upper) holding the rating with probability at
least LEVEL, and that probability (mass); both need the default (Bayesian) model.
"""

def command_flags(parser, aliases=None):
    """The :class:`Flags` of one command: every long option by the name it sets.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser, all its arguments added.
    aliases : dict, optional
        Further library name -> flag, for parameters a flag sets under another name
        (``relevance_threshold`` -> ``--threshold``).

    Returns
    -------
    Flags
        Model parameters under their own names (``n_components`` -> ``--n-components``);
        on/off flags also by the value they set (``("download", False)`` ->
        ``--no-download``).
    """
    names, switches, params = {}, {}, set()
    for action in parser._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        if not longs or action.dest in ("help", "version") or action.dest.startswith("_both_"):
            continue
        name = action.dest
        if name.startswith("_param_"):
            name = name[len("_param_"):]
            params.add(name)
        if isinstance(action, argparse.BooleanOptionalAction):
            switches[(name, True)], switches[(name, False)] = longs[0], longs[1]
        elif isinstance(action, argparse._StoreConstAction):  # store_true / store_false
            switches[(name, action.const)] = longs[0]
        names.setdefault(name, longs[0])
    return Flags({**names, **(aliases or {})}, switches, params)


def _list_lengths(text):
    """``--k``: one list length or several, comma-separated (``10,20``)."""
    try:
        ks = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or integers separated by "
                                         f"commas (10,20); got {text!r}") from None
    return ks[0] if len(ks) == 1 else ks


def _threshold(text):
    """``--threshold``: a number, or ``none`` (click data: every held-out item relevant)."""
    if text.strip().lower() in ("none", "null"):
        return "none"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or none; got {text!r}") from None


def _n_jobs(text):
    """``--n-jobs``: a number of processes, or -1 for one per core (joblib's reading)."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n == 0:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1, 2, ...) or "
                                         f"-1 for one per core; got {text!r}")
    return n


def _add_input_args(group, *, timestamp=False):
    """Flags that say how to read a ratings file (``fit`` and ``evaluate --ratings``)."""
    group.add_argument("--user-col", metavar="COL", help="user column (default: recognised "
                                                         "name)")
    group.add_argument("--item-col", metavar="COL", help="item column (default: recognised "
                                                         "name)")
    group.add_argument("--rating-col", metavar="COL", help="rating column (default: "
                                                           "recognised name)")
    if timestamp:
        group.add_argument("--timestamp-col", metavar="COL",
                           help="time column, for --split temporal (default: timestamp)")
    group.add_argument("--sep", metavar="SEP", help="field separator (default: guessed; "
                                                    "'tab' or '\\t' for tabs)")
    group.add_argument("--names", metavar="A,B,...", help="column names of a headerless file")
    group.add_argument("--duplicates", choices=DUPLICATE_POLICIES,
                       default="raise", help="a (user, item) pair rated twice: error "
                                             "(default), keep last/first, or average")
    group.add_argument("--titles", metavar="FILE",
                       help="item titles: CSV with item,title columns, or MovieLens u.item / "
                            "movies.dat / movies.csv")


def _add_evaluate(sub, common):
    ev = sub.add_parser("evaluate", parents=[common], formatter_class=_formatter,
                        epilog=EVALUATE_EPILOG,
                        help=COMMANDS["evaluate"],
                        description="Cross-validate a Recommender on a ratings file, on "
                                    "MovieLens or on synthetic MovieLens-shaped ratings and "
                                    "print a table of metrics.")
    g = ev.add_argument_group("data")
    g.add_argument("--ratings", metavar="FILE",
                   help="your ratings file (formats as in 'nmfrec fit'); instead of --dataset")
    g.add_argument("--dataset", default="auto", choices=DATASETS, metavar="NAME",
                   help="auto (default: ml-100k, downloaded if missing, else synthetic), "
                        f"synthetic, or a MovieLens release: {', '.join(DATASETS[1:-1])}")
    g.add_argument("--data-home", metavar="DIR",
                   help="folder holding ml-100k/ etc., where a download goes (default: "
                        "$NMFREC_DATA, else the user cache)")
    g.add_argument("--no-download", dest="download", action="store_false",
                   help="never download MovieLens; use what the data home holds")
    g.add_argument("--synthetic-size", default=None, metavar="SIZE",
                   help="synthetic set size: S/ml-100k (default), M/ml-1m, L/ml-20m or "
                        "USERSxITEMSxRATINGS")
    g = ev.add_argument_group("split")
    g.add_argument("--split", choices=SPLITS, default=None,
                   help="official: MovieLens 100K's folds (its default); kfold: random N-fold "
                        "(the default elsewhere); random: one random hold-out; user: the "
                        "same share held out of each user's ratings; temporal: the latest "
                        "ratings held out")
    g.add_argument("--folds", metavar="u1,u2,...",
                   help="official ml-100k folds to use (default: u1,u2,u3,u4,u5)")
    g.add_argument("--kfold", type=int, metavar="N",
                   help="random N-fold split (default: 5 folds)")
    g.add_argument("--test-size", type=float, default=0.2, metavar="F",
                   help="share held out by --split random, user and temporal (default: 0.2)")
    g.add_argument("--seed", type=int, default=0,
                   help="seed of the synthetic data and random splits (default: 0)")
    g = ev.add_argument_group("input (with --ratings)")
    _add_input_args(g, timestamp=True)
    g = ev.add_argument_group("protocol")
    g.add_argument("--protocol", choices=("rating", "ranking", "both"), default=None,
                   help="rating prediction (RMSE, MAE), top-k ranking, or both (default; "
                        "ranking for click data)")
    g.add_argument("--k", type=_list_lengths, default=None, metavar="K[,K...]",
                   help="list length(s) for ranking (default: 10; 10,20 for click data)")
    g.add_argument("--threshold", type=_threshold, default=None, metavar="X",
                   help="a test rating >= this is relevant (default: 4); 'none' scores "
                        "rated data as clicks (every held-out item relevant)")
    g.add_argument("--baselines", action="store_true",
                   help="also score a popularity ranker and a global-mean predictor")
    g.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    g.add_argument("--n-jobs", type=_n_jobs, default=1, metavar="N",
                   help="folds evaluated at once, each in its own process (default: 1; "
                        "-1: one per core)")
    add_model_args(ev)
    ev.set_defaults(func=cmd_evaluate, flags=command_flags(ev, EVALUATE_ALIASES))


def _add_fit(sub, common):
    fit = sub.add_parser("fit", parents=[common], formatter_class=_formatter,
                         epilog=FIT_EPILOG, help=COMMANDS["fit"],
                         description="Fit a Recommender on a ratings file and save it "
                                     "(a portable .npz, no pickle).")
    fit.add_argument("ratings", metavar="RATINGS",
                     help="ratings file (.csv, .tsv, u.data-style, .parquet)")
    fit.add_argument("-o", "--output", required=True, metavar="MODEL.npz",
                     help="where to save the model")
    _add_input_args(fit.add_argument_group("input"))
    add_model_args(fit)
    fit.set_defaults(func=cmd_fit, flags=command_flags(fit))


def _description(text, method):
    """A command's description: what it does, then the Python method it runs, in the
    words of the method's docstring."""
    width = 88
    python = f"In Python: {method.__qualname__}. {summary(method)}"
    return textwrap.fill(text, width) + "\n\n" + textwrap.fill(python, width)


def _add_output_args(parser, formats=("table", "csv", "json")):
    """``-o FILE`` and ``--format`` of the commands that print a table."""
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the table to FILE, in the format of its suffix: "
                             ".csv, .tsv, .parquet (needs pyarrow) or .json")
    if formats:
        parser.add_argument("--format", choices=formats, default=None,
                            help=f"format on stdout (default: {formats[0]})")


def _add_recommend(sub, common):
    rc = sub.add_parser("recommend", parents=[common], formatter_class=_formatter,
                        epilog=RECOMMEND_EPILOG,
                        help=COMMANDS["recommend"],
                        description=_description(
                            "The top-k items of one user of a saved model, best first, with "
                            "titles where known; or of every user, or of the users in a "
                            "file, as one table.", Recommender.recommend_many))
    rc.add_argument("model", metavar="MODEL.npz", help="a model saved by 'nmfrec fit'")
    who = rc.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", metavar="U",
                     help="one user id (an integer when the model's ids are integers)")
    who.add_argument("--all", action="store_true", help="every user of the model")
    who.add_argument("--users", metavar="FILE",
                     help="the users in FILE: one id per line, or a table with a user column")
    rc.add_argument("--k", type=int, default=method_default(Recommender.recommend, "k"),
                    help=method_help(Recommender.recommend, "k"))
    seen = rc.add_mutually_exclusive_group()
    seen.add_argument("--exclude-seen", dest="exclude_seen", action="store_true",
                      default=method_default(Recommender.recommend, "exclude_seen"),
                      help=method_help(Recommender.recommend, "exclude_seen"))
    seen.add_argument("--include-seen", dest="exclude_seen", action="store_false",
                      help="rank the user's rated items too")
    rc.add_argument("--explore", nargs="?", const=True, default=False, type=float,
                    metavar="SCALE",
                    help=method_help(Recommender.recommend, "explore") + " --explore alone "
                    "draws from the posterior itself; --explore SCALE scales its covariance.")
    rc.add_argument("--seed", type=int, default=None, metavar="S",
                    help="seed of the --explore draw: the same seed gives the same lists "
                         "(default: a fresh draw each run)")
    rc.add_argument("--titles", metavar="FILE", help="titles to show (as in 'nmfrec fit')")
    _add_output_args(rc)
    g = rc.add_argument_group("the --users file")
    g.add_argument("--user-col", metavar="COL", help="its user column (default: the "
                                                     "model's, or a recognised name)")
    g.add_argument("--sep", metavar="SEP", help="its field separator (default: guessed)")
    g.add_argument("--names", metavar="A,B,...", help="column names of a headerless table")
    rc.set_defaults(func=cmd_recommend, flags=command_flags(rc))


def _add_similar(sub, common):
    si = sub.add_parser("similar", parents=[common], formatter_class=_formatter,
                        epilog=SIMILAR_EPILOG, help=COMMANDS["similar"],
                        description=_description(
                            "The items of a saved model most similar to one item, with "
                            "titles where known.", Recommender.similar_items))
    si.add_argument("model", metavar="MODEL.npz", help="a model saved by 'nmfrec fit'")
    si.add_argument("--item", required=True, metavar="I",
                    help="the item id (an integer when the model's ids are integers)")
    si.add_argument("--k", type=int, default=method_default(Recommender.similar_items, "k"),
                    help=method_help(Recommender.similar_items, "k"))
    si.add_argument("--titles", metavar="FILE", help="titles to show (as in 'nmfrec fit')")
    _add_output_args(si)
    si.set_defaults(func=cmd_similar, flags=command_flags(si))


def _add_predict(sub, common):
    unknown = method_doc(Recommender.predict, "unknown")
    pr = sub.add_parser("predict", parents=[common], formatter_class=_formatter,
                        epilog=PREDICT_EPILOG,
                        help=COMMANDS["predict"],
                        description=_description(
                            "A saved model's prediction for each (user, item) pair of a file, "
                            "written as CSV (stdout or -o FILE).", Recommender.predict))
    pr.add_argument("model", metavar="MODEL.npz", help="a model saved by 'nmfrec fit'")
    pr.add_argument("--pairs", required=True, metavar="FILE",
                    help="(user, item) pairs: .csv, .tsv, headerless user,item lines, "
                         ".parquet; its other columns are kept")
    pr.add_argument("--clip", action=argparse.BooleanOptionalAction,
                    default=method_default(Recommender.predict, "clip"),
                    help=method_help(Recommender.predict, "clip"))
    pr.add_argument("--unknown", choices=unknown.choices,
                    default=method_default(Recommender.predict, "unknown"),
                    help=method_help(Recommender.predict, "unknown"))
    pr.add_argument("--std", action="store_true",
                    help="add a 'std' column: the standard deviation of each prediction")
    pr.add_argument("--interval", type=float, metavar="LEVEL",
                    help="add 'lower', 'upper' and 'mass' columns: the shortest run of "
                         "rating values holding the rating with probability >= LEVEL "
                         "(e.g. 0.9)")
    _add_output_args(pr, formats=())
    g = pr.add_argument_group("the --pairs file")
    g.add_argument("--user-col", metavar="COL", help="user column (default: the model's, "
                                                     "or a recognised name)")
    g.add_argument("--item-col", metavar="COL", help="item column (default: the model's, "
                                                     "or a recognised name)")
    g.add_argument("--sep", metavar="SEP", help="field separator (default: guessed; "
                                                "'tab' or '\\t' for tabs)")
    g.add_argument("--names", metavar="A,B,...", help="column names of a headerless file")
    pr.set_defaults(func=cmd_predict, flags=command_flags(pr))


def build_parser():
    """The ``nmfrec`` argument parser (subcommands ``evaluate``, ``fit``, ``recommend``,
    ``similar``, ``predict``).

    Returns
    -------
    argparse.ArgumentParser
        Its ``error`` raises a usage error instead of exiting, so that :func:`main`
        prints one line and returns exit code 2.
    """
    parser, sub, common = top_parser()
    _add_evaluate(sub, common)
    _add_fit(sub, common)
    _add_recommend(sub, common)
    _add_similar(sub, common)
    _add_predict(sub, common)
    return parser

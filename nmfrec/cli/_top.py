"""The command's top level: its name, the list of subcommands, ``--help`` and
``--version``, built from the standard library alone, so that they answer before the
library (scikit-learn, numba, the kernels) is imported. :func:`~nmfrec.cli.build_parser`
adds each subcommand's own flags to the same parser."""

from __future__ import annotations

import argparse

from .._version import __version__
from ._errors import UsageError

PROG = "nmfrec"

#: The subcommands and their one-line help, in the order ``--help`` lists them.
COMMANDS = {
    "evaluate": "score a model offline on your ratings, MovieLens or a synthetic set",
    "fit": "learn a model from a ratings file and save it",
    "recommend": "top-k items for a user, for every user or for a list of users",
    "similar": "the items most similar to an item",
    "predict": "predictions for the (user, item) pairs of a file",
}

MAIN_EPILOG = """\
examples:
  nmfrec evaluate                      # MovieLens 100K folds u1-u5 (downloaded if missing)
  nmfrec evaluate --dataset ml-100k --folds u1 --baselines
  nmfrec evaluate --ratings my_ratings.csv --split temporal --feedback implicit
  nmfrec fit ratings.csv -o model.npz --n-components 30
  nmfrec recommend model.npz --user 42 --k 10
  nmfrec recommend model.npz --all -o recs.parquet
  nmfrec similar model.npz --item 50
  nmfrec predict model.npz --pairs test.csv -o predictions.csv

Where MovieLens is looked for (and downloaded to): --data-home, else $NMFREC_DATA, else
the user cache (~/.cache/nmfrec on Linux). Run 'nmfrec COMMAND --help' for each
command's options.
"""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``nmfrec: error: ...`` and exit code 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


def top_parser():
    """The parser without its subcommands' flags.

    Returns
    -------
    parser : argparse.ArgumentParser
        ``nmfrec`` with ``--debug``, ``--version`` and ``--help``.
    sub : argparse subparsers action
        Where the subcommands are added (named as in :data:`COMMANDS`).
    common : argparse.ArgumentParser
        The flags every subcommand takes too (``--debug``), as a parent parser.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback on errors")
    parser = _Parser(
        prog=PROG, formatter_class=_formatter, epilog=MAIN_EPILOG, parents=[common],
        description="nmfrec: recommendations by non-negative matrix factorization of "
                    "ratings with missing entries.")
    parser.add_argument("--version", action="version", version=f"nmfrec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                title="commands")
    return parser, sub, common


def names_command(argv):
    """Whether ``argv`` names a subcommand (then its flags need the full parser)."""
    return any(a in COMMANDS for a in argv)


def answer_top_level(argv, out, err):
    """Run a command line that names no subcommand: ``--help``, ``--version``, nothing
    (the help, exit code 2) or a usage error, with the standard library alone.

    Parameters
    ----------
    argv : list of str
        The arguments, none of them a subcommand's name.
    out, err : file-like
        Where the help and the error go.

    Returns
    -------
    int
        The exit code: 0 after ``--help``/``--version``, 2 otherwise.
    """
    parser, sub, common = top_parser()
    for name, text in COMMANDS.items():
        sub.add_parser(name, parents=[common], help=text)
    try:
        parser.parse_args(argv)
    except SystemExit as e:  # --help / --version
        return int(e.code or 0)
    except UsageError as e:
        if "--debug" in argv:
            raise
        print(f"{PROG}: error: {e}", file=err)
        return 2
    parser.print_help(out)
    return 2

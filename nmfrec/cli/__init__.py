"""The ``nmfrec`` command: evaluate on your ratings, MovieLens or a synthetic set; fit;
query a saved model.

Five subcommands, each with ``--help``::

    nmfrec evaluate [--ratings FILE | --dataset auto|ml-100k|...|synthetic] [--split ...]
    nmfrec fit RATINGS -o MODEL.npz [--user-col ...] [--titles FILE] [model params]
    nmfrec recommend MODEL.npz (--user U | --all | --users FILE) [--k 10] [-o FILE]
    nmfrec similar MODEL.npz --item I [--k 10]
    nmfrec predict MODEL.npz --pairs FILE [--no-clip] [--unknown ...] [-o FILE]

The model parameters (``--n-components``, ``--solver``, ``--l2-W`` ...) are derived from
``Recommender().get_params()``, described and typed by the Recommender's docstring and
validated by the Recommender itself, so a new constructor parameter appears here without
editing this package.

Errors print one line ``nmfrec: error: ...`` on stderr and exit with 2 (usage: a bad flag
or parameter value) or 1 (data: a missing or unreadable file, a bad column, an unknown
user). ``--debug`` shows the traceback instead. Errors and warnings name flags where the
library names its parameters (:class:`~nmfrec.cli._errors.Flags`).

:func:`main` takes ``argv`` and returns the exit code, so tests can call it in-process.

The package is laid out by job: ``_main`` (main and exit codes), ``_parser`` (the
parser), ``_params`` (model flags from the parameters and docstring), ``_data`` (which
data a command runs on), ``_commands`` (evaluate and fit), ``_query`` (recommend,
similar and predict on a saved model), ``_output`` (tables, result files, JSON, progress
lines), ``_errors`` (exit codes, and the flags messages are worded in).
"""

import warnings

from ._main import main

__all__ = ["main", "build_parser"]

_MOVED = {"read_ratings_file": "nmfrec.io", "read_titles_file": "nmfrec.io"}


def __getattr__(name):
    if name == "build_parser":  # imports the library: not needed by --help
        from ._parser import build_parser

        return build_parser
    # nmfrec.cli.read_ratings_file / read_titles_file moved to nmfrec.io
    if name in _MOVED:
        warnings.warn(f"nmfrec.cli.{name} is deprecated; use {_MOVED[name]}.{name}.",
                      DeprecationWarning, stacklevel=2)
        from .. import io

        return getattr(io, name)
    raise AttributeError(f"module 'nmfrec.cli' has no attribute {name!r}")

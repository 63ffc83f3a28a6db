"""The ``nmfrec`` command: evaluate on your ratings, MovieLens or a synthetic set; fit; recommend.

Three subcommands, each with ``--help``::

    nmfrec evaluate [--ratings FILE | --dataset auto|ml-100k|...|synthetic] [--split ...]
    nmfrec fit RATINGS -o MODEL.npz [--user-col ...] [--titles FILE] [model params]
    nmfrec recommend MODEL.npz --user U [--k 10] [--include-seen]

The model parameters (``--n-components``, ``--solver``, ``--l2-W`` ...) are derived from
``Recommender().get_params()``, described and typed by the Recommender's docstring and
validated by the Recommender itself, so a new constructor parameter appears here without
editing this package.

Errors print one line ``nmfrec: error: ...`` on stderr and exit with 2 (usage: a bad flag
or parameter value) or 1 (data: a missing or unreadable file, a bad column, an unknown
user). ``--debug`` shows the traceback instead.

:func:`main` takes ``argv`` and returns the exit code, so tests can call it in-process.

The package is laid out by job: ``_main`` (main and exit codes), ``_parser`` (the
parser), ``_params`` (model flags from the parameters and docstring), ``_data`` (which
data a command runs on), ``_commands`` (the three commands), ``_output`` (table, JSON,
progress lines).
"""

import warnings

from ._main import main
from ._parser import build_parser

__all__ = ["main", "build_parser"]

_MOVED = {"read_ratings_file": "nmfrec.io", "read_titles_file": "nmfrec.io"}


def __getattr__(name):
    # nmfrec.cli.read_ratings_file / read_titles_file moved to nmfrec.io
    if name in _MOVED:
        warnings.warn(f"nmfrec.cli.{name} is deprecated; use {_MOVED[name]}.{name}.",
                      DeprecationWarning, stacklevel=2)
        from .. import io

        return getattr(io, name)
    raise AttributeError(f"module 'nmfrec.cli' has no attribute {name!r}")

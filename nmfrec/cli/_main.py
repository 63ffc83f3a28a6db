"""``main``: run one command, turn every failure into one line and an exit code."""

from __future__ import annotations

import sys
import warnings

from ._errors import (EXIT_DATA, EXIT_INTERRUPTED, EXIT_USAGE, DataError, Flags, UsageError,
                      message)
from ._top import PROG, answer_top_level, names_command


def main(argv=None) -> int:
    """Run the ``nmfrec`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 success, 1 a data error (a missing or unreadable file, a bad
        column, an unknown user), 2 a usage error (a bad flag or parameter value), 130
        interrupted. Errors print one line ``nmfrec: error: ...`` on stderr; with
        ``--debug`` the traceback is raised instead. Errors and warnings name the
        command's flags where the library's messages name its parameters
        (``--duplicates last`` for ``duplicates='last'``; see :class:`Flags`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    out, err = sys.stdout, sys.stderr
    if not names_command(argv):  # --help, --version, a usage error: no library needed
        return answer_top_level(argv, out, err)
    # the library (scikit-learn, numba) from here on
    from ._output import Progress

    progress = Progress(err)
    command = _Command()

    def one_line_warning(msg, category, filename, lineno, file=None, line=None):
        progress.interrupt()
        print(f"{PROG}: warning: {command.speak(str(msg))}", file=err)

    with warnings.catch_warnings():
        warnings.showwarning = one_line_warning
        return _run(argv, debug, out, err, progress, command)


class _Command:
    """The command being run, once parsed: its flags word every message."""

    args = None

    def speak(self, text):
        """``text`` in the flags of the command (unchanged before it is parsed)."""
        flags = getattr(self.args, "flags", None)
        return flags.speak(text) if isinstance(flags, Flags) else text


def _run(argv, debug, out, err, progress, command):
    from ..datasets import DatasetNotFoundError
    from ._parser import build_parser

    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help / --version
            return int(e.code or 0)
        if args.command is None:
            parser.print_help(out)
            return EXIT_USAGE
        command.args = args
        return int(args.func(args, out, err, progress) or 0)
    except UsageError as e:
        if debug:
            raise
        progress.interrupt()
        print(f"{PROG}: error: {command.speak(str(e))}", file=err)
        return EXIT_USAGE
    except (DataError, DatasetNotFoundError, FileNotFoundError, PermissionError,
            KeyError, ValueError, TypeError) as e:
        if debug:
            raise
        progress.interrupt()
        print(f"{PROG}: error: {command.speak(message(e))}", file=err)
        return EXIT_DATA
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=err)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - last resort: one line, not a traceback
        if debug:
            raise
        progress.interrupt()
        print(f"{PROG}: error: unexpected {type(e).__name__}: {e} (rerun with --debug for "
              "the traceback)", file=err)
        return EXIT_DATA

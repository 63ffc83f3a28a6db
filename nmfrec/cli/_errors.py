"""The command's two kinds of failure and its exit codes."""

#: Exit codes of :func:`nmfrec.cli.main`.
EXIT_OK = 0
EXIT_DATA = 1  # a missing or unreadable file, a bad column, an unknown user
EXIT_USAGE = 2  # a bad flag or parameter value
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line usage (a flag or its value): exit code 2."""


class DataError(Exception):
    """A file or the data in it is missing or unusable: exit code 1."""

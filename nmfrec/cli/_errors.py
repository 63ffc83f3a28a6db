"""The command's two kinds of failure, its exit codes, and an exception's one-line text."""

from .._validation import check_int

#: Exit codes of :func:`nmfrec.cli.main`.
EXIT_OK = 0
EXIT_DATA = 1  # a missing or unreadable file, a bad column, an unknown user
EXIT_USAGE = 2  # a bad flag or parameter value
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line usage (a flag or its value): exit code 2."""


class DataError(Exception):
    """A file or the data in it is missing or unusable: exit code 1."""


def message(e):
    """An exception's text for the one-line error, a ``KeyError``'s without quotes.

    Parameters
    ----------
    e : BaseException
        The exception.

    Returns
    -------
    str
        ``str(e)``, except for a ``KeyError``, whose ``str`` is the ``repr`` of its
        message (``"'user 7 is not in the training data'"``): its message itself.
    """
    if isinstance(e, KeyError) and e.args:
        return str(e.args[0])
    return str(e)


def check_int_flag(value, name, low=1):
    """The value of an integer flag, at least ``low``, in the library's wording.

    Parameters
    ----------
    value : int
        The parsed value.
    name : str
        The flag, e.g. ``"--k"``.
    low : int, default 1
        Smallest valid value.

    Returns
    -------
    int

    Raises
    ------
    UsageError
        ``"{name} must be an integer >= {low}; got {value}."``
    """
    try:
        return check_int(value, name, low)
    except ValueError as e:
        raise UsageError(str(e)) from None

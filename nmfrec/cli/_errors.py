"""The command's two kinds of failure, its exit codes, an exception's one-line text, and
the flags the library's messages are rewritten into."""

import re

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
    from .._validation import check_int  # pandas: not needed by --help

    try:
        return check_int(value, name, low)
    except ValueError as e:
        raise UsageError(str(e)) from None


# ------------------------------------------------------------------------- flags
_FLAG_VALUE = (r"(?P<value>\.\.\.|'[^']*'(?:(?:,\s*or\s+|,\s*|\s+or\s+)'[^']*')*|\"[^\"]*\""
               r"|[^\s,;:()\[\]'\"]*[^\s,;:()\[\]'\".])?")
_LITERALS = {"True": True, "False": False, "None": None}


class Flags:
    """The flags of one command, and the library's words for them.

    The library's messages name its parameters as Python does (``duplicates='last'``,
    ``user_col=...``, ``max_iter``); a command line user knows flags
    (``--duplicates last``, ``--user-col``, ``--max-iter``). :meth:`speak` rewrites a
    message into the flags of the command at hand; :func:`nmfrec.cli.main` passes every
    error and warning through it, so each command speaks flags without a translator of
    its own.

    Parameters
    ----------
    names : dict, optional
        Library name -> flag, e.g. ``{"user_col": "--user-col", "relevance_threshold":
        "--threshold"}``.
    switches : dict, optional
        (library name, value) -> flag for flags that set a value without taking one,
        e.g. ``{("download", False): "--no-download"}``.
    params : collection of str, optional
        Names that are parameters and nothing else (the model's), whose ``name=3`` is
        rewritten too; other names without an underscore (``k``, ``names``) could be
        ordinary words or column names, and are rewritten only in unmistakable forms
        (``name='value'``, ``name=...``, ``name must ...`` opening a message).
    own : dict, optional
        Library name -> its own flag, for names that another flag set (``l2_W`` ->
        ``--l2-W`` when ``--l2`` set it); :meth:`with_names` fills it.
    """

    def __init__(self, names=None, switches=None, params=(), own=None):
        self.names = dict(names or {})
        self.switches = dict(switches or {})
        self.params = frozenset(params)
        self.own = dict(own or {})

    def __repr__(self):
        return f"Flags({len(self.names)} names)"

    def with_names(self, names):
        """A copy in which ``names`` (library name -> flag) take precedence.

        Parameters
        ----------
        names : dict
            E.g. ``{"l2_W": "--l2"}`` when ``--l2`` set ``l2_W``.

        Returns
        -------
        Flags
        """
        own = {name: self.names[name] for name in names
               if name in self.names and self.names[name] != names[name]}
        return Flags({**self.names, **names}, self.switches, self.params,
                     {**self.own, **own})

    def _pairs(self, text, edge):
        """``l2_W and l2_H``, both set by ``--l2``, as ``--l2-W and --l2-H (both set by
        --l2)``: the subject stays plural, and the user sees the flag typed."""
        shared = {}
        for name, flag in self.names.items():
            shared.setdefault(flag, []).append(name)
        names = [n for group in shared.values() if len(group) > 1 for n in group]
        if not names:
            return text
        alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))

        def pair(m):
            a, b, flag = m["a"], m["b"], self.names[m["a"]]
            if a == b or self.names[b] != flag:
                return m[0]
            if a in self.own and b in self.own:
                return f"{self.own[a]}{m['sep']}{self.own[b]} (both set by {flag})"
            if m["sep"] == " or ":
                return f"either parameter that {flag} sets"
            return f"the two parameters that {flag} sets"

        return re.sub(edge + rf"(?P<a>{alt})(?P<sep>, | and | or )(?P<b>{alt})(?![\w'\"=-])",
                      pair, text)

    def _code_like(self, name):
        return "_" in name or name in self.params

    def speak(self, text):
        """``text`` with the parameters it names as the flags that set them.

        * ``name='a'``, ``name='a', 'b' or 'c'``, ``name=3``, ``name=...``, ``name=``
          become ``--flag a``, ``--flag a, b or c``, ``--flag 3``, ``--flag``;
          ``name=True`` of an on/off flag becomes that flag (``--no-download``);
        * a name with an underscore (``max_iter``, ``user_col``) becomes its flag
          wherever it stands as a word;
        * ``name must ...`` opening the message (or following ``file: ``) starts
          ``--flag must ...``;
        * ``--flag or name`` / ``--flag and name`` ends ``or --other``;
        * two parameters that one flag set (``l2_W and l2_H``, by ``--l2``) become
          ``--l2-W and --l2-H (both set by --l2)``, so that a plural verb still agrees;
          their values, ``--l2 3.0``, are given once.

        Parameters
        ----------
        text : str
            A message of the library.

        Returns
        -------
        str
        """
        if not self.names or not text:
            return text
        alt = "|".join(re.escape(n) for n in sorted(self.names, key=len, reverse=True))
        edge = r"(?<![\w.'\"/-])"

        def assignment(m):
            name, value = m["name"], m["value"]
            flag = self.names[name]
            if value in (None, "", "..."):
                return flag
            if any(key[0] == name for key in self.switches) and value in _LITERALS:
                return self.switches.get((name, _LITERALS[value]), m[0])
            quoted = value[0] in "'\""
            if not quoted and value not in _LITERALS and not self._code_like(name):
                return m[0]            # "k=3" in prose: maybe a column, keep it
            if quoted:
                value = re.sub(r"'([^']*)'|\"([^\"]*)\"", lambda q: q[1] or q[2] or "", value)
            elif value in _LITERALS:
                value = value.lower()
            return f"{flag} {value}"

        text = self._pairs(text, edge)
        text = re.sub(edge + rf"(?P<name>{alt})={_FLAG_VALUE}", assignment, text)
        code = [n for n in self.names if "_" in n]
        if code:
            words = "|".join(re.escape(n) for n in sorted(code, key=len, reverse=True))
            text = re.sub(edge + rf"({words})(?![\w'\"=-])(?!\.\w)",
                          lambda m: self.names[m[1]], text)
        text = re.sub(rf"(^|: )({alt})(?= must\b| as an? \w)",
                      lambda m: m[1] + self.names[m[2]], text)
        text = re.sub(rf"(--[\w-]+) (or|and) ({alt})(?![\w'\"=-])",
                      lambda m: f"{m[1]} {m[2]} {self.names[m[3]]}", text)
        # "--solver als (or 'mu', 'pgd')": the alternatives as typed too
        text = re.sub(r"(--[\w-]+ [^\s(]+ \(or )((?:'[^']*'(?:,\s*|\s+or\s+)?)+)\)",
                      lambda m: m[1] + m[2].replace("'", "") + ")", text)
        # the values of two parameters set by one flag ("--l2 3.0, --l2 3.0") are given once
        return re.sub(r"(--[\w-]+(?: [^\s,;)]+)?)(?:, | and | or )\1(?![\w-])", r"\1", text)

"""Model flags, derived from the Recommender's parameters and its numpydoc docstring.

Every parameter of ``Recommender().get_params()`` becomes a flag (``n_components`` ->
``--n-components``), and a pair ``x_W``/``x_H`` also gets ``--x`` setting both. What a
flag accepts and its ``--help`` text come from the *Parameters* section of the
Recommender's docstring: the type line gives the kind (``int``, ``float``, ``bool``,
``None`` allowed) and the choices (``{"als", "mu", "pgd"}``), the description gives the
help. A parameter the Recommender documents only by reference ("See MaskedNMF",
"Passed to MaskedNMF unchanged") takes MaskedNMF's entry. A new constructor parameter
therefore appears here, documented, without editing this module.

Values are checked by the Recommender itself: ``fit`` validates its parameters before it
reads any data, so a fit on no data reports a bad value as an error that starts with the
parameter's name, which is turned into a usage error naming the flag. Should a value get
through, the same rewording applies to the error of the real fit.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from functools import lru_cache

import docstring_parser

from ..nmf import MaskedNMF
from ..recommender import Recommender
from ._errors import Flags, UsageError

#: The CLI seeds the model by default so that two runs print the same table;
#: ``--random-state none`` restores the library default (unseeded).
CLI_DEFAULTS = {"random_state": 0}


@dataclass(frozen=True)
class ParamDoc:
    """What the docstrings say about one parameter.

    Parameters
    ----------
    name : str
        The parameter.
    kinds : frozenset of {"int", "float", "bool", "str", "none"}
        The kinds of value its type line allows.
    choices : tuple of str
        The allowed strings, from a ``{"a", "b"}`` type; empty when any string goes.
    help : str
        The cleaned first paragraph of its description ("" when there is none).
    """

    name: str
    kinds: frozenset
    choices: tuple
    help: str


def flag(name):
    """The flag of a parameter.

    Parameters
    ----------
    name : str
        A parameter name, e.g. ``"n_components"``.

    Returns
    -------
    str
        E.g. ``"--n-components"``.
    """
    return "--" + name.replace("_", "-")


# ------------------------------------------------------------------------- docstrings
_ROLE = re.compile(r":[a-z]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``([^`]*)``")
_EMPHASIS = re.compile(r"(?<![\w*])\*([^\s*][^*]*?)\*(?![\w*])")
_REFERENCE = re.compile(r"(see|passed to)\s+\S+(\s+unchanged)?\.?", re.IGNORECASE)


_HELP_CHARS = 450


def _plain(text):
    """The first paragraph of a numpydoc description as plain text.

    A paragraph longer than ``_HELP_CHARS`` is cut after its last sentence that ends
    before that length (a ``--help`` line is not the place for the whole story).
    """
    para = (text or "").strip().split("\n\n")[0]
    para = _ROLE.sub(lambda m: m.group(1).split(".")[-1], para)
    para = _LITERAL.sub(r"\1", para)
    para = _EMPHASIS.sub(r"\1", para)
    para = " ".join(para.split())
    if len(para) > _HELP_CHARS:
        ends = [m.end() for m in re.finditer(r"(?<!e\.g)(?<!i\.e)\.(?=\s)", para[:_HELP_CHARS])]
        if ends:
            para = para[:ends[-1]]
    return para


def _kinds(type_name):
    """(kinds, choices) from a numpydoc type such as ``{"a", "b"} or None``."""
    text = type_name or ""
    choices = ()
    m = re.search(r"\{([^}]*)\}", text)
    if m:
        try:
            values = ast.literal_eval("[" + m.group(1) + "]")
            choices = tuple(v for v in values if isinstance(v, str))
        except (ValueError, SyntaxError):
            pass
        text = text.replace(m.group(0), "str")
    kinds = set()
    words = {"int": "int", "integer": "int", "float": "float", "real": "float",
             "number": "float", "bool": "bool", "str": "str", "string": "str",
             "None": "none"}
    for part in re.split(r",|\bor\b", text):
        head = part.split()[:1]
        if head and head[0] in words:
            kinds.add(words[head[0]])
    return frozenset(kinds), choices


def _entries(obj):
    """{name: (type_name, description)} from the Parameters section of a class or function."""
    parsed = docstring_parser.parse(obj.__doc__ or "", style=docstring_parser.DocstringStyle.NUMPYDOC)
    out = {}
    for p in parsed.params:
        if not p.args or p.args[0] != "param":
            continue
        names = [n.strip() for n in p.arg_name.split(",")]
        if not all(n.isidentifier() for n in names):
            continue  # prose inside the section, read as a parameter line
        for n in names:
            out.setdefault(n, (p.type_name, p.description))
    return out


@lru_cache(maxsize=None)
def param_docs():
    """{parameter: ParamDoc} for every parameter of ``Recommender().get_params()``."""
    own, base = _entries(Recommender), _entries(MaskedNMF)
    out = {}
    for name in Recommender().get_params():
        type_name, desc = own.get(name, (None, None))
        text = _plain(desc)
        b_type, b_desc = base.get(name, (None, None))
        if not text or _REFERENCE.fullmatch(text):
            text = _plain(b_desc) or text
        kinds, choices = _kinds(type_name or b_type)
        if not choices:  # e.g. "str or None" here, the options spelled out in MaskedNMF
            choices = _kinds(b_type)[1]
        out[name] = ParamDoc(name, kinds, choices, text)
    return out


def method_doc(func, name):
    """What a method's docstring says about one of its parameters.

    The flags of the commands that query a saved model (``--clip``, ``--unknown``,
    ``--k`` ...) take their ``--help`` text and choices from here, so that they say
    what the Python method says.

    Parameters
    ----------
    func : callable
        A function or method with a numpydoc docstring, e.g. ``Recommender.predict``.
    name : str
        One of its parameters.

    Returns
    -------
    ParamDoc
        Its kinds, choices and help (the cleaned first paragraph of its description).
    """
    type_name, desc = _entries(func).get(name, (None, None))
    kinds, choices = _kinds(type_name)
    return ParamDoc(name, kinds, choices, _plain(desc))


def method_default(func, name):
    """The default of a parameter of ``func``, from its signature.

    Parameters
    ----------
    func : callable
        E.g. ``Recommender.predict``.
    name : str
        One of its parameters.

    Returns
    -------
    object
    """
    return inspect.signature(func).parameters[name].default


def method_help(func, name, default=None):
    """The ``--help`` text of a flag that sets a method's parameter.

    Parameters
    ----------
    func : callable
        The method, e.g. ``Recommender.predict``.
    name : str
        Its parameter.
    default : object, optional
        The flag's default as typed on the command line; by default the signature's.

    Returns
    -------
    str
        The docstring's description, then ``(default: ...)``.
    """
    shown = method_default(func, name) if default is None else default
    if isinstance(shown, bool):
        shown = str(shown).lower()
    text = method_doc(func, name).help or name.replace("_", " ")
    return f"{text} (default: {shown})".replace("%", "%%")


def summary(func):
    """The first paragraph of a docstring, as plain text (a command's description).

    Parameters
    ----------
    func : callable
        E.g. ``Recommender.similar_items``.

    Returns
    -------
    str
    """
    return _plain(inspect.cleandoc(func.__doc__ or ""))


# ------------------------------------------------------------------------- values
def model_defaults():
    """``Recommender().get_params()`` with the CLI's own defaults (a fixed seed)."""
    params = Recommender().get_params()
    params.update({k: v for k, v in CLI_DEFAULTS.items() if k in params})
    return params


def _as_bool(text):
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false; got {text!r}")


def _as_int(text):
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected an integer; got {text!r}") from None


def _as_float(text):
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number; got {text!r}") from None


def parse_value(text, doc, default):
    """A command-line string as a value of the parameter's kind.

    The kind is the docstring's; without one, the default's type; without that (a None
    default, undocumented), an int, else a float, else the string.

    Parameters
    ----------
    text : str
        The flag's value as typed; ``none`` or ``null`` is None.
    doc : ParamDoc or None
        What the docstrings say about the parameter.
    default : object
        The parameter's default.

    Returns
    -------
    object

    Raises
    ------
    ValueError
        ``text`` is not of the kind (``"expected an integer; got 'x'"``).
    """
    if text.strip().lower() in ("none", "null"):
        return None
    kinds = doc.kinds if doc is not None else frozenset()
    if "bool" in kinds or (not kinds and isinstance(default, bool)):
        return _as_bool(text)
    if "int" in kinds and "float" not in kinds or (not kinds and isinstance(default, int)):
        return _as_int(text)
    if "float" in kinds or (not kinds and isinstance(default, float)):
        return _as_float(text)
    if kinds & {"str"} or (doc is not None and doc.choices) or isinstance(default, str):
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _metavar(doc, default):
    if doc.choices:
        return "{" + ",".join(doc.choices) + "}"
    if "bool" in doc.kinds or isinstance(default, bool):
        return "BOOL"
    if "int" in doc.kinds or isinstance(default, int):
        return "N"
    if "float" in doc.kinds or isinstance(default, float):
        return "X"
    return "VALUE"


def paired_params(names):
    """The parameter pairs ``x_W``/``x_H`` that one flag ``--x`` sets together.

    Parameters
    ----------
    names : collection of str
        Parameter names.

    Returns
    -------
    dict
        E.g. ``{"l2": ("l2_W", "l2_H")}``.
    """
    return {n[:-2]: (n, n[:-2] + "_H") for n in names
            if n.endswith("_W") and n[:-2] + "_H" in names}


def param_help(name, default):
    """The ``--help`` text of a parameter's flag: its docstring description and default.

    Parameters
    ----------
    name : str
        A parameter of the Recommender.
    default : object
        The default the flag shows.

    Returns
    -------
    str
    """
    doc = param_docs()[name]
    text = doc.help or name.replace("_", " ")
    if default is None:
        shown = "none"
    else:
        shown = repr(default) + ("; 'none' allowed" if "none" in doc.kinds else "")
    return f"{text} (default: {shown})".replace("%", "%%")


def add_model_args(parser):
    """Add one flag per Recommender parameter (and per W/H pair) to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A subcommand's parser; the flags go into a group of their own.
    """
    defaults = model_defaults()
    docs = param_docs()
    group = parser.add_argument_group(
        "model parameters (those of nmfrec.Recommender, described as in its docstring)")
    for short, (w, h) in paired_params(defaults).items():
        group.add_argument(flag(short), dest=f"_both_{short}", metavar="X", default=None,
                           help=f"set both {flag(w)} and {flag(h)}: "
                                + param_help(w, defaults[w]))
    for name, default in defaults.items():
        flags = [flag(name)]
        if flag(name).lower() != flag(name):
            flags.append(flag(name).lower())
        group.add_argument(*flags, dest=f"_param_{name}", metavar=_metavar(docs[name], default),
                           default=None, help=param_help(name, default))


def _convert(name, raw, default, given_flag):
    try:
        return parse_value(raw, param_docs().get(name), default)
    except ValueError as e:
        raise UsageError(f"{given_flag}: {e}") from None


def model_params(args):
    """The Recommender parameters from the parsed arguments, validated.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser that :func:`add_model_args` equipped.

    Returns
    -------
    dict
        Every parameter of the Recommender: the defaults (the CLI's fixed seed
        included) updated by the flags given.

    Raises
    ------
    UsageError
        A value of the wrong kind, or one the Recommender refuses; the message names
        the flag.
    """
    defaults = model_defaults()
    params = dict(defaults)
    given = {}  # parameter -> the flag that set it, for error messages
    for short, (w, h) in paired_params(params).items():
        raw = getattr(args, f"_both_{short}", None)
        if raw is not None:
            for name in (w, h):
                params[name] = _convert(name, raw, defaults[name], flag(short))
                given[name] = flag(short)
    for name, default in defaults.items():
        raw = getattr(args, f"_param_{name}", None)
        if raw is not None:
            params[name] = _convert(name, raw, default, flag(name))
            given[name] = flag(name)
    if isinstance(getattr(args, "flags", None), Flags):
        # a message about l2_W names --l2 when that is the flag the user typed
        args.flags = args.flags.with_names(given)
    check_params(params)
    return params


def usage_error_for(message, params):
    """A usage error when the library's error is about a parameter's value.

    Parameters
    ----------
    message : str
        The library's error message, e.g. ``"l2_W must be ...; got -1."``.
    params : collection of str
        The parameter names.

    Returns
    -------
    UsageError or None
        The message as a usage error (exit code 2; :func:`nmfrec.cli.main` words it in
        flags, ``--l2-W must be ...``); None when the message does not start with a
        parameter's name (``l2_W must ...``, ``solver='gibbs' samples ...``).
    """
    for name in sorted(params, key=len, reverse=True):
        if message.startswith((name + " ", name + "=")):
            return UsageError(message)
    return None


def check_params(params):
    """Validate the parameters with the Recommender's own check.

    Parameters
    ----------
    params : dict
        Recommender parameters.

    Raises
    ------
    UsageError
        A parameter the Recommender refuses, in the library's words (which
        :func:`nmfrec.cli.main` rewrites into the flags).
    """
    try:
        Recommender(**params).fit(None)  # validates the parameters, then refuses None
    except (TypeError, ValueError) as e:
        # an error naming a parameter is about its value; anything else is the fit
        # refusing None for data, once the parameters have passed
        err = usage_error_for(str(e), params)
        if err is not None:
            raise err from None


def describe_params(params):
    """The model in one line: ``n_components=6, solver='gibbs', <changed parameters>``.

    Parameters
    ----------
    params : dict
        Recommender parameters.

    Returns
    -------
    str
        The rank and solver of the rating part and the rank of the preference part as a
        fit will use them (None, "auto", resolved), then every other parameter that
        differs from the library's default; ``name=value`` as in the constructor.
    """
    base = Recommender().get_params()
    try:  # the values a fit will use, with the None ("auto") ones resolved
        resolved = Recommender(**params).resolved_params()
    except Exception:  # noqa: BLE001 - an invalid parameter is reported elsewhere
        resolved = {}
    core = {name: resolved.get(name, params.get(name))
            for name in ("n_components", "solver", "preference_components")
            if name in resolved or name in params}
    if "preference_components" not in resolved:
        core.pop("preference_components", None)  # no preference part, or not resolved
    rest = {n: v for n, v in params.items() if base.get(n) != v and n not in core}
    return ", ".join(f"{n}={v!r}" for n, v in {**core, **rest}.items())

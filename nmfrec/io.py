"""Reading ratings and item-title files.

Two kinds of readers:

* :func:`read_ratings_file` and :func:`read_titles_file` take the files people have:
  CSV/TSV with or without a header, ``::``-separated files, Parquet, MovieLens files.
  They return the columns as found (ratings) or a Series item -> title (titles).
* :func:`read_movielens_ratings` and :func:`read_movielens_items` parse the exact formats
  of the MovieLens releases into typed frames; :mod:`nmfrec.datasets` loads every release
  with them, and :func:`read_titles_file` reads ``u.item``, ``movies.dat`` and
  ``movies.csv`` with them too.

Ids keep their text unless every id of a column is a plain integer
(:func:`ids_from_text`; one id, as typed on a command line, :func:`id_from_text`):
``007`` and ``7`` are two users.

Every error is a :class:`FileNotFoundError` (no such file) or a :class:`ValueError`
whose message names the file and, where one line is at fault, the line; a titles file
without an item or a title column raises :class:`~nmfrec.exceptions.MissingColumnError`,
a ``ValueError`` too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ._validation import locate_row, record_source, source_line
from .exceptions import MissingColumnError
from .ratings import ITEM_COLUMNS, USER_COLUMNS

if TYPE_CHECKING:
    from ._typing import StrPath

__all__ = [
    "RATING_NAMES",
    "check_file",
    "id_from_text",
    "ids_from_text",
    "ML100K_GENRES",
    "read_ratings_file",
    "read_titles_file",
    "read_movielens_ratings",
    "read_movielens_items",
]

#: Column names given to a headerless ratings file, in order.
RATING_NAMES = ("user", "item", "rating", "timestamp")

#: The 19 genre flags of ml-100k's ``u.item``, in column order (as listed in ``u.genre``).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)

_RATING_DTYPES = dict.fromkeys(RATING_NAMES[:2], "int64") | {"rating": "float64",
                                                              "timestamp": "int64"}
_TITLE_COLUMNS = ("title", "name", "Title")
_ITEM_ID_COLUMNS = (*ITEM_COLUMNS, "id")  # the names fit recognises, and a titles file's id


# ======================================================================================
# generic files
# ======================================================================================

def check_file(path: StrPath, what: str = "file") -> Path:
    """``path`` as a Path, after checking that it is an existing file.

    Parameters
    ----------
    path : str or path-like
        The file.
    what : str, default="file"
        How the messages name it, e.g. ``"ratings file"``.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is a directory.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist.")
    if p.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a directory, not a file.")
    return p


def _first_line(p: Path) -> str:
    with open(p, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line.strip():
                return line
    return ""


def _decode_sep(sep):
    if sep is None:
        return None
    if sep.lower() in ("tab", "\\t"):
        return "\t"
    if sep.lower() in ("space", " "):
        return " "
    return sep.encode("utf-8").decode("unicode_escape")


def _guess_sep(p: Path, first: str) -> str:
    name, suffix = p.name.lower(), p.suffix.lower()
    if suffix == ".tsv" or name == "u.data" or suffix in (".base", ".test", ".data"):
        return "\t"
    if "::" in first:
        return "::"
    if suffix == ".csv" and "," in first:
        return ","
    # a .csv without a comma on its first line is often a spreadsheet's export with
    # semicolons (where the comma is the decimal mark), or tab-separated
    counts = {s: first.count(s) for s in ("\t", ",", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- ids as text
#: An integer as written plainly: digits without leading zeros, an optional minus.
_PLAIN_INTEGER = r"0|-?[1-9][0-9]*"
_PLAIN_INTEGER_RE = re.compile(_PLAIN_INTEGER)
_INT64 = np.iinfo(np.int64)


def id_from_text(text: str, integer: bool = True) -> int | str:
    """One id typed or read as text, by the rule of :func:`ids_from_text`.

    Parameters
    ----------
    text : str
        The id as typed (on a command line) or read.
    integer : bool, default=True
        Whether integer ids are wanted (the ids it is looked up among are integers):
        then a plain integer (``7``, ``-12``; not ``007``, ``+7``, ``-0`` or ``7.0``)
        is returned as an int. False keeps every id's text.

    Returns
    -------
    int or str
        The int, or the text without surrounding white space (an integer beyond int64
        keeps its text, as in a file).

    Examples
    --------
    >>> from nmfrec.io import id_from_text
    >>> id_from_text("7"), id_from_text("007"), id_from_text("7", integer=False)
    (7, '007', '7')
    """
    text = str(text).strip()
    if integer and _PLAIN_INTEGER_RE.fullmatch(text):
        value = int(text)
        if _INT64.min <= value <= _INT64.max:
            return value
    return text


def ids_from_text(text: pd.Series) -> pd.Series:
    """Ids read from a file, as a user means them: integers only when every one is
    written as a plain integer, else the text itself.

    A plain integer is digits with an optional leading minus, without leading zeros
    (``0``, ``7``, ``-12``). When every id is one (and fits int64), the ids are int64;
    otherwise every id keeps its text, so that ``007`` and ``7`` are two ids, and so are
    ``+7`` and ``7``, or ``7.0`` and ``7``. White space around a field is not part of
    the id. Missing ids stay missing (NaN), for the caller to refuse by line.

    Parameters
    ----------
    text : pandas.Series
        The fields as read (strings, NaN where empty).

    Returns
    -------
    pandas.Series
        int64, or object holding strings (and NaN).
    """
    text = text.astype(object)
    present = text.notna().to_numpy()
    stripped = text.where(~present, text.astype(str).str.strip()) if present.any() else text
    if present.all() and len(stripped):
        plain = stripped.str.fullmatch(_PLAIN_INTEGER)
        if bool(plain.all()):
            try:
                return stripped.astype(np.int64)
            except OverflowError:       # more digits than int64 holds: text
                pass
    return stripped.astype(object)      # pandas 3's str.strip gives its own string type


def _may_hide_text(p: Path, sep: str) -> bool:
    """Whether an integer column of the file could have been written otherwise than
    plainly: a field starting with ``+``, ``-0`` or a zero before a digit.

    A fast scan of the bytes (about a quarter of the time pandas takes to parse them)
    that looks at every field of every column: it may answer True for a file whose id
    columns are plain (a text column with `` 0``), never False for one whose are not.
    """
    after = {sep.encode()[-1], ord("\n"), ord('"'), ord(" "), ord("\t")}
    prev = b"\n"
    with open(p, "rb") as f:
        while block := f.read(_CHUNK >> 2):
            a = np.frombuffer(prev + block, np.uint8)
            cur, nxt = a[:-1], a[1:]
            start = np.zeros(cur.shape, dtype=bool)
            for c in after:
                start |= cur == c
            hits = np.flatnonzero(start & ((nxt == ord("+")) | (nxt == ord("0"))
                                           | (nxt == ord("-"))))
            if hits.size:
                first = a[hits + 1]
                second = a[np.minimum(hits + 2, a.size - 1)]
                digit = (second >= ord("0")) & (second <= ord("9"))
                if np.any((first == ord("+")) | ((first == ord("0")) & digit)
                          | ((first == ord("-")) & (second == ord("0")))):
                    return True
            prev = block[-2:]
    return False


def _id_columns(df: pd.DataFrame, id_cols) -> list:
    """The columns of ``df`` that hold ids: ``id_cols`` (those present), or every
    column named as fit recognises a user or an item column."""
    if id_cols is None:
        id_cols = (*USER_COLUMNS, *ITEM_COLUMNS)
    elif isinstance(id_cols, str):
        id_cols = [id_cols]
    return [c for c in dict.fromkeys(id_cols) if c in df.columns]


def _keep_id_text(df: pd.DataFrame, p: Path, kw: dict, ids: list) -> pd.DataFrame:
    """``df`` with its id columns as :func:`ids_from_text` makes them.

    pandas reads ``007`` as the integer 7: an id column it parsed as integers is read
    again as text when the file may hold such fields (:func:`_may_hide_text`), one it
    parsed as floats (``7.0``, or an empty field) always; a text column is stripped.
    """
    again = []
    for c in ids:
        col = df[c]
        if pd.api.types.is_bool_dtype(col.dtype):
            continue                     # booleans are refused by fit, by line
        if pd.api.types.is_integer_dtype(col.dtype):
            continue
        if pd.api.types.is_float_dtype(col.dtype):
            again.append(c)
        else:
            df[c] = ids_from_text(col)
    integers = [c for c in ids if pd.api.types.is_integer_dtype(df[c].dtype)
                and not pd.api.types.is_bool_dtype(df[c].dtype)]
    if integers and _may_hide_text(p, kw["sep"]):
        again += integers
    if again:
        text = _read_csv(p, {**kw, "usecols": again, "dtype": str})
        for c in again:    # a Series keeps its dtype (pandas 3 makes an object array str)
            df[c] = ids_from_text(text[c]).set_axis(df.index)
    return df


#: A line holding nothing but white space, which the parsers skip.
_BLANK_LINE = re.compile(rb"^[ \t\r\f\v]*$", re.MULTILINE)
_CHUNK = 1 << 24


def _record_lines(df: pd.DataFrame, p: Path, header_lines: int) -> pd.DataFrame:
    """Record on ``df`` (see :func:`nmfrec._validation.record_source`) the line of the
    file each data row came from, so that messages about a row name its line.

    The parsers skip blank lines (anywhere, before the header too): when the file has
    more lines than the header and the rows read, their numbers are found and kept.
    When the count still disagrees (a quoted field spanning lines), only the file is
    recorded, not lines that could mislead.
    """
    n_lines, last = 0, b"\n"
    with open(p, "rb") as f:           # counting newlines: ~0.3 s for 1 GB
        while chunk := f.read(_CHUNK):
            n_lines += chunk.count(b"\n")
            last = chunk[-1:]
    n_lines += last != b"\n"
    if n_lines == header_lines + len(df):
        return record_source(df, p, header_lines + 1)
    n_lines, tail, blank = 0, b"", []
    with open(p, "rb") as f:
        while chunk := f.read(_CHUNK):
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            whole, tail = data[:cut], data[cut:]
            pos = 0
            for m in _BLANK_LINE.finditer(whole):
                if m.start() == len(whole):      # past the last newline: not a line
                    break
                n_lines += whole.count(b"\n", pos, m.start())
                pos = m.start()
                blank.append(n_lines + 1)
            n_lines += whole.count(b"\n", pos)
    if tail:
        n_lines += 1
        if not tail.strip():
            blank.append(n_lines)
    if n_lines - len(blank) != header_lines + len(df):
        return record_source(df, p)
    nonblank_before = 0
    first = None
    blank_set = set(blank)
    for line in range(1, n_lines + 1):     # the header is the first non-blank line(s)
        if line in blank_set:
            continue
        if nonblank_before == header_lines:
            first = line
            break
        nonblank_before += 1
    return record_source(df, p, first, [b for b in blank if b > first])


def _check_names(names):
    if isinstance(names, str):
        names = names.split(",")
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"names must be distinct column names; got {','.join(names)!r}.")
    return names


def read_ratings_file(path: StrPath, sep: str | None = None,
                      names: str | Sequence[str] | None = None,
                      id_cols: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Read a ratings table as it is in the file.

    Parameters
    ----------
    path : str or path-like
        A CSV/TSV file with or without a header, a ``::``-separated file (MovieLens
        ``ratings.dat``), MovieLens ``u.data`` (tab-separated), or a Parquet file
        (``.parquet``/``.pq``, needs pyarrow or fastparquet).
    sep : str, optional
        Field separator; ``"tab"`` or ``"\\t"`` for tabs, ``"space"`` for spaces.
        None: guessed from the file name and its first line.
    names : str or sequence of str, optional
        Column names of a headerless file (a comma-separated string or a list). None:
        a file whose first line is all numbers is read as headerless with the columns
        ``user, item, rating[, timestamp]``; any other file has a header.
    id_cols : str or sequence of str, optional
        The columns that hold ids (see below). None: those named as
        :meth:`nmfrec.Recommender.fit` recognises a user or an item column (``user``,
        ``userId``, ``item``, ``movieId``, ...).

    Returns
    -------
    DataFrame
        The columns of the file, unchanged; picking the user, item and rating columns
        is up to the caller (:meth:`nmfrec.Recommender.fit` recognises the usual names).
        Id columns are int64 when every id in them is written as a plain integer
        (``7``, ``-12``: digits, an optional minus, no leading zeros), and otherwise keep
        every id's text: ``007`` and ``7`` are two users, as are ``+7`` and ``7``, and
        ``7.0`` is the id ``'7.0'``. White space around a field is not part of an id.
        The other columns are typed by pandas. (Parquet files keep their own types.)
        Its ``attrs`` record the file and the line of each row, so that an error about
        a row (a rating that is not a number, a duplicate pair, ...) names its line:
        ``row 2041 (line 2043 of ratings.csv)``. They follow the row labels, through
        selections and sorting, but not through ``reset_index``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is a directory, empty, has no data rows or does not parse (the message
        names the file and, from the parser, the line); ``names`` repeats a name or
        does not match a Parquet file's columns; Parquet without an engine installed.
    """
    p = check_file(path, "ratings file")
    if names is not None:
        names = _check_names(names)
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            df = pd.read_parquet(p)
        except ImportError as e:
            raise ValueError(f"cannot read {p}: reading Parquet needs pyarrow or fastparquet, "
                             f"which is not installed ({str(e).splitlines()[0]}). Install "
                             "pyarrow, or convert the file to CSV.") from None
        except Exception as e:
            raise ValueError(f"cannot read {p} as Parquet: {e}") from None
        if names is not None:
            if len(names) != df.shape[1]:
                raise ValueError(f"names gives {len(names)} names but {p} has "
                                 f"{df.shape[1]} columns {list(df.columns)}.")
            df.columns = names
        return record_source(df.reset_index(drop=True), p)
    first = _first_line(p)
    if not first:
        raise ValueError(f"ratings file {str(p)!r} is empty.")
    sep = _decode_sep(sep) or _guess_sep(p, first)
    fields = first.split(sep)
    if names is None and all(_is_number(f.strip()) for f in fields):
        names = list(RATING_NAMES[:len(fields)]) + [f"col{j}" for j in
                                                   range(len(RATING_NAMES), len(fields))]
    kw = dict(sep=sep, engine="python" if len(sep) > 1 else "c")
    if names is not None:
        kw.update(header=None, names=names, index_col=False)
    df = _read_csv(p, kw)
    if len(df) == 0:
        raise ValueError(f"ratings file {str(p)!r} has no data rows.")
    stripped = [c.strip() if isinstance(c, str) else c for c in df.columns]
    if names is None and stripped != list(df.columns) and len(set(stripped)) == len(stripped):
        # "user, item, rating": the spaces after the separators are not part of the names
        kw.update(header=0, names=stripped, index_col=False)
        df.columns = stripped
    df = _keep_id_text(df, p, kw, _id_columns(df, id_cols))
    return _record_lines(df, p, 0 if names is not None else 1)


def _read_csv(p: Path, kw: dict) -> pd.DataFrame:
    """``pd.read_csv`` in UTF-8, else Latin-1; a parse error names the file."""
    try:
        try:
            return pd.read_csv(p, **kw)
        except UnicodeDecodeError:
            return pd.read_csv(p, encoding="latin-1", **kw)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as e:
        raise ValueError(f"cannot parse {p} (separator {kw['sep']!r}): "
                         f"{_parser_message(e)}") from None


def _parser_message(error) -> str:
    """The parser's complaint in a user's words: a line with too many fields says so,
    without the tokenizer's jargon."""
    text = str(error).strip()
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        return (f"line {m[2]} has {m[3]} fields, but the lines before it have {m[1]}; "
                "is a separator missing, doubled or inside an unquoted field?")
    return text


def read_titles_file(path: StrPath, item_col: str | None = None) -> pd.Series:
    """Read item titles.

    Parameters
    ----------
    path : str or path-like
        MovieLens ``u.item``, ``movies.dat`` or ``movies.csv`` (read by
        :func:`read_movielens_items`), or a CSV/TSV with a header holding an item
        column and a title column (``title`` or ``name``).
    item_col : str, optional
        The item column of a CSV/TSV. None: a recognised name (``item``, ``movieId``,
        ``item_id``, ``id``, ...), or the other column of a two-column file.

    Returns
    -------
    Series
        Titles indexed by item id (ints where the ids are integers, else strings).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    MissingColumnError
        No item or no title column (a ``ValueError`` and a ``KeyError``); the message
        names the file and lists its columns.
    ValueError
        ``path`` is a directory, empty or does not parse; the message names the file
        (and the line, where one is at fault).
    """
    p = check_file(path, "titles file")
    first = _first_line(p)
    if not first:
        raise ValueError(f"titles file {str(p)!r} is empty.")
    fmt = _movielens_items_format(p, first)
    if fmt is not None:
        items = read_movielens_items(p, fmt)
        return pd.Series(items["title"].to_numpy(dtype=object), index=items.index.to_numpy())
    sep = _guess_sep(p, first)
    try:
        try:
            df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
        except UnicodeDecodeError:
            df = pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False, encoding="latin-1")
    except (pd.errors.ParserError, ValueError) as e:
        raise ValueError(f"cannot parse titles file {p}: {str(e).strip()}") from None
    tcol = next((c for c in _TITLE_COLUMNS if c in df.columns), None)
    icol = next((c for c in (item_col, *_ITEM_ID_COLUMNS) if c in df.columns), None)
    if icol is None and tcol is not None and df.shape[1] == 2:
        icol = next(c for c in df.columns if c != tcol)  # "song,title": the other one
    if icol is None or tcol is None:
        raise MissingColumnError(f"titles file {p} needs an item column ({', '.join(_ITEM_ID_COLUMNS)}) "
                         f"and a title column (title or name); it has columns "
                         f"{list(df.columns)}.")
    return pd.Series(df[tcol].to_numpy(), index=pd.Index(ids_from_text(df[icol])))


def _movielens_items_format(p: Path, first: str):
    """"100k", "dat" or "csv" when the file is a MovieLens items file, else None."""
    name = p.name.lower()
    if name == "u.item" or first.count("|") == 4 + len(ML100K_GENRES):
        return "100k"
    if name == "movies.dat" or "::" in first:
        return "dat"
    if name == "movies.csv" or first.strip() == "movieId,title,genres":
        return "csv"
    return None


# ======================================================================================
# MovieLens formats
# ======================================================================================

def _read_table(path: Path, **kw) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kw)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"could not parse {path}: {exc}") from None


def _finish_ratings(df: pd.DataFrame, path: Path, header_lines: int) -> pd.DataFrame:
    """Typed ratings, their lines recorded; a missing or non-numeric field is reported
    with its line."""
    _record_lines(df, path, header_lines)
    numeric = df.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna().any(axis=1).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "missing" if df.iloc[row].isna().any() else "non-numeric"
        line = source_line(df, row)
        where = f"line {line}" if line is not None else locate_row(df, row)
        raise ValueError(f"{path}, {where}: {what} field(s) in {df.iloc[row].tolist()}; "
                         f"{int(bad.sum())} such row(s) in all.")
    return numeric.astype({c: _RATING_DTYPES[c] for c in numeric.columns}).reset_index(drop=True)


def _ratings_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".dat"):
        return "dat"
    if name.endswith(".csv"):
        return "csv"
    return "100k"


def read_movielens_ratings(path: StrPath, fmt: Literal["100k", "dat", "csv"] | None = None, *,
                           timestamps: bool = True) -> pd.DataFrame:
    """Read a MovieLens ratings file into a typed frame.

    Parameters
    ----------
    path : str or path-like
        The file.
    fmt : {"100k", "dat", "csv"}, optional
        ``"100k"``: ml-100k's tab-separated ``user item rating timestamp`` without a
        header (``u.data``, ``u1.base``, ``ua.test``, ...). ``"dat"``: ml-1m's and
        ml-10m's ``UserID::MovieID::Rating::Timestamp``. ``"csv"``: ml-20m and later,
        header ``userId,movieId,rating,timestamp``. None: from the file name
        (``*.dat``, ``*.csv``, anything else ``"100k"``).
    timestamps : bool, default=True
        False reads a ``"dat"`` file whose lines are ``UserID::MovieID::Rating``, as in
        copies of ml-1m that kept only those three fields (``ratings_no_timestamps.dat``);
        a line with a fourth field is then an error, as a line without one is when True.

    Returns
    -------
    DataFrame
        Columns ``user`` int64, ``item`` int64, ``rating`` float64 and, unless
        ``timestamps`` is False, ``timestamp`` int64 (Unix seconds); in file order.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        Unknown ``fmt``, a file that does not parse, a wrong header, a missing or
        non-numeric field, ``timestamps=False`` with another format than ``"dat"`` or
        a line with a timestamp (the message names the file and the line).
    """
    p = check_file(path, "ratings file")
    fmt = _ratings_format(p) if fmt is None else fmt
    if not timestamps:
        if fmt != "dat":
            raise ValueError(f"timestamps=False reads 'dat' files (UserID::MovieID::Rating); "
                             f"got fmt={fmt!r}.")
        # Without usecols a line with more fields than the first is a parse error, not
        # a silently dropped field; the "::" separators leave empty columns 1 and 3.
        df = _read_table(p, sep=":", header=None, engine="c")
        if df.shape[1] != 5:
            raise ValueError(f"{p}, line 1: expected UserID::MovieID::Rating without a "
                             f"timestamp; got {_first_line(p)!r}.")
        if df[[1, 3]].notna().any(axis=None):
            row = int(np.flatnonzero(df[[1, 3]].notna().any(axis=1).to_numpy())[0])
            raise ValueError(f"{p}, line {row + 1}: fields must be separated by '::'.")
        df = df[[0, 2, 4]]
        df.columns = list(_RATING_DTYPES)[:3]
        return _finish_ratings(df, p, 0)
    if fmt == "100k":
        df = _read_table(p, sep="\t", header=None, names=list(_RATING_DTYPES), engine="c")
        return _finish_ratings(df, p, 0)
    if fmt == "dat":
        # The fields are numbers, so the fast C parser reads "::" as ":" with empty
        # fields in between (columns 0, 2, 4, 6).
        df = _read_table(p, sep=":", header=None, usecols=[0, 2, 4, 6], engine="c")
        df.columns = list(_RATING_DTYPES)
        return _finish_ratings(df, p, 0)
    if fmt == "csv":
        df = _read_table(p, engine="c")
        cols = ["userId", "movieId", "rating", "timestamp"]
        if list(df.columns[:4]) != cols:
            raise ValueError(f"{p}: expected header {','.join(cols)} on line 1; got "
                             f"{list(df.columns)}.")
        df = df[cols]
        df.columns = list(_RATING_DTYPES)
        return _finish_ratings(df, p, 1)
    raise ValueError(f"fmt must be one of '100k', 'dat', 'csv'; got {fmt!r}.")


def _items_frame(ids, titles, genres) -> pd.DataFrame:
    return pd.DataFrame(
        {"title": pd.array(titles, dtype="string"), "genres": pd.array(genres, dtype="string")},
        index=pd.Index(np.asarray(ids, dtype=np.int64), name="item"),
    )


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # ml-1m's movies.dat is Latin-1
        return raw.decode("latin-1")


def read_movielens_items(path: StrPath,
                         fmt: Literal["100k", "dat", "csv"] | None = None) -> pd.DataFrame:

    """Read a MovieLens items file (titles and genres).

    Parameters
    ----------
    path : str or path-like
        The file.
    fmt : {"100k", "dat", "csv"}, optional
        ``"100k"``: ``u.item``, Latin-1, ``|``-separated
        ``id|title|release|video release|url|`` then 19 genre flags. ``"dat"``:
        ``movies.dat``, ``MovieID::Title::Genres``, UTF-8 if it decodes, else Latin-1
        (ml-1m). ``"csv"``: ``movies.csv``, header ``movieId,title,genres``, UTF-8,
        titles quoted where needed. None: from the file name and first line.

    Returns
    -------
    DataFrame
        Indexed by ``item`` (int64), columns ``title`` and ``genres`` (genre names
        joined by ``|``; empty for none and for "(no genres listed)").

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        A file that does not parse, a line with the wrong number of fields or a wrong
        header (the message names the file and the line).
    """
    p = check_file(path, "items file")
    if fmt is None:
        fmt = _movielens_items_format(p, _first_line(p))
    if fmt == "100k":
        df = _read_table(p, sep="|", header=None, encoding="latin-1", engine="c",
                         dtype={1: str}, keep_default_na=False)
        want = 5 + len(ML100K_GENRES)
        if df.shape[1] != want:
            raise ValueError(f"{p}: expected {want} '|'-separated fields per line; got "
                             f"{df.shape[1]}.")
        bad = pd.to_numeric(df[0], errors="coerce").isna().to_numpy()
        if bad.any():
            n = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{p}, line {n + 1}: the item id {df.iloc[n, 0]!r} is not an "
                             "integer.")
        flags = df.iloc[:, 5:].to_numpy(dtype=np.int64) == 1
        names = np.array(ML100K_GENRES, dtype=object)
        genres = ["|".join(names[row]) for row in flags]
        return _items_frame(df[0], df[1], genres)
    if fmt == "dat":
        ids, titles, genres = [], [], []
        for n, line in enumerate(_decode(p).splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split("::")
            if len(parts) != 3 or not parts[0].strip().isdigit():
                raise ValueError(f"{p}, line {n}: expected MovieID::Title::Genres; got "
                                 f"{line!r}.")
            ids.append(int(parts[0]))
            titles.append(parts[1])
            genres.append("" if parts[2] == "(no genres listed)" else parts[2])
        return _items_frame(ids, titles, genres)
    if fmt == "csv":
        df = _read_table(p, engine="c", dtype={"title": str, "genres": str},
                         keep_default_na=False)
        if list(df.columns[:3]) != ["movieId", "title", "genres"]:
            raise ValueError(f"{p}: expected header movieId,title,genres on line 1; got "
                             f"{list(df.columns)}.")
        genres = df["genres"].where(df["genres"] != "(no genres listed)", "")
        return _items_frame(df["movieId"], df["title"], genres)
    raise ValueError(f"{p}: not a MovieLens items file (u.item, movies.dat or movies.csv); "
                     f"fmt must be one of '100k', 'dat', 'csv'; got {fmt!r}.")

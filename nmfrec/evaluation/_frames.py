"""Which columns of a ratings frame the evaluation layer reads, and the frame it passes on.

The evaluation layer finds the user, item and rating columns with the resolver of
``Recommender.fit``, :func:`nmfrec.ratings.resolve_columns`: among the usual names of
each role (``user``/``userId``/..., ``item``/``movieId``/..., ``rating``/...), or as named
with ``user_col=``, ``item_col=``, ``rating_col=``. Splits keep the caller's column names;
a model that the evaluation layer fits or queries gets the frame with those columns
renamed ``user``, ``item``, ``rating`` (:func:`check_ratings_frame`), so the same model
code scores MovieLens-named frames and ``user, item, rating`` frames alike.

What a frame holds is decided by the library's one rule,
:func:`nmfrec.ratings.feedback_columns`: ratings (a rating column), interaction counts
(a count column such as ``plays``: click data with a confidence) or clicks (only user and
item columns, a time column allowed); a frame with other columns but none of these is
refused (:class:`~nmfrec.exceptions.MissingColumnError`), so that a ``stars`` column is
never scored as clicks. Splits and :func:`~nmfrec.evaluation.evaluate` take all three,
and give models ``user, item, rating``, ``user, item, count`` or ``user, item`` frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._validation import as_frame, check_frame, missing_columns
from ..exceptions import MissingColumnError
from ..ratings import (COUNT_COLUMNS, RATING_COLUMNS, ROLE_COLUMNS, check_rating_column,
                       column_hint, feedback_columns, resolve_columns)

if TYPE_CHECKING:
    import pandas as pd

    from .._typing import Frame

__all__ = ["check_ratings_frame"]

RATINGS_ROLES = ("user", "item", "rating")


def frame_columns(df, name="ratings", roles=RATINGS_ROLES, *, user_col=None, item_col=None,
                  rating_col=None, prefer=None, allow_empty=False):
    """The column of ``df`` that plays each role, after checking the frame.

    Parameters
    ----------
    df : object
        Should be a pandas DataFrame.
    name : str, default "ratings"
        What the caller calls the frame (``"train"``, ``"test"``), for messages.
    roles : sequence of {"user", "item", "rating"}, default all three
        The roles to find.
    user_col, item_col, rating_col : str, optional
        Column names chosen by the caller; by default each is recognised among the usual
        names of its role.
    prefer : dict, optional
        Role -> column name to use when no name is given and ``df`` has that column
        (e.g. the columns a model was fitted on), before the usual names are tried.
    allow_empty : bool, default False
        Accept a frame without rows.

    Returns
    -------
    dict
        Role -> column name, in the order of ``roles``.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame, or a rating is not a number (the message names the
        first one and its row, as ``Recommender.fit`` does).
    MissingColumnError
        A role has no column, or a named column is absent; the message lists every
        missing one (``"{name} is missing column(s) ['rating'] ..."``). A ``KeyError``
        and a ``ValueError``.
    ValueError
        Two columns could play one role (ambiguous), one column would play two roles,
        the frame is empty, or a rating is NaN or infinite.
    """
    check_frame(df, name, allow_empty=True)
    given = {"user_col": user_col, "item_col": item_col, "rating_col": rating_col}
    try:
        found = resolve_columns(df, **given, roles=roles, prefer=prefer)
    except (KeyError, ValueError):
        raise _resolve_error(df, name, roles, given, prefer) from None
    check_frame(df, name, allow_empty=allow_empty)
    columns = dict(zip(roles, found))
    if "rating" in columns:
        # before any model or split computes with them (a groupby mean of text fails
        # in pandas' words); negative ratings are a model's business, not evaluation's
        try:
            check_rating_column(df, columns["rating"], negative=True)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{name}: {e}") from None
    return columns


def feedback_frame_columns(df, name="ratings", *, user_col=None, item_col=None,
                           rating_col=None, prefer=None, allow_empty=False, time_col=None):
    """The columns of ``df`` and what it holds, by :func:`nmfrec.ratings.feedback_columns`.

    Parameters
    ----------
    df : object
        Should be a pandas DataFrame.
    name : str, default "ratings"
        What the caller calls the frame, for messages.
    user_col, item_col, rating_col : str, optional
        Column names chosen by the caller; ``rating_col`` makes the frame ratings.
    prefer : dict, optional
        As in :func:`frame_columns`.
    allow_empty : bool, default False
        Accept a frame without rows.
    time_col : str, optional
        A time column the caller names (``timestamp_col="when"``), allowed in click data.

    Returns
    -------
    columns : dict
        ``user`` and ``item`` -> column name, and ``rating`` (ratings) or ``count``
        (counts) -> the value column; clicks have none.
    kind : {"ratings", "counts", "clicks"}

    Raises
    ------
    MissingColumnError
        No user or item column; or, without a rating column, a column that is neither
        a count nor a time (``"{name}: no rating column found ..."``).
    ValueError
        As :func:`frame_columns`; two count columns; a value that is not a finite
        number.
    TypeError
        ``df`` is not a DataFrame, or a value is not a number.
    """
    if rating_col is not None:
        return frame_columns(df, name, user_col=user_col, item_col=item_col,
                             rating_col=rating_col, prefer=prefer,
                             allow_empty=allow_empty), "ratings"
    ids = frame_columns(df, name, ("user", "item"), user_col=user_col, item_col=item_col,
                        prefer=prefer, allow_empty=allow_empty)
    try:
        *_, value, kind = feedback_columns(df, ids["user"], ids["item"], prefer=prefer,
                                           time_col=time_col)
    except MissingColumnError as e:
        raise MissingColumnError(f"{name}: {e}") from None
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    columns = dict(ids)
    if kind != "clicks":
        role = "rating" if kind == "ratings" else "count"
        columns[role] = value
        try:
            # negative ratings and counts are a model's business, not evaluation's
            check_rating_column(df, value, negative=True)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{name}: {e}") from None
    return columns, kind


def _resolve_error(df, name, roles, given, prefer):
    """The error to raise when the resolver refuses the columns of ``df``, naming the frame.

    The resolver stops at the first problem; here each role is resolved alone, so that
    the message lists every missing column at once.
    """
    found, missing, refused = {}, [], None
    for role in roles:
        try:
            found[role] = resolve_columns(df, **given, roles=(role,), prefer=prefer)[0]
        except KeyError:
            missing.append(given[f"{role}_col"] or role)
        except ValueError as e:  # ambiguous, or a name selecting several columns
            refused = refused or e
    if missing:
        hint = "; ".join(f"{'an' if r == 'item' else 'a'} {r} column is one of "
                         f"{list(ROLE_COLUMNS[r])} or {r}_col="
                         for r in missing if r in ROLE_COLUMNS)
        error = missing_columns(df, name, missing, hint)
        suggested = "".join(column_hint(df, ROLE_COLUMNS[r], r, exclude=found.values())
                            for r in missing if r in ROLE_COLUMNS)
        return type(error)(str(error.args[0]) + suggested) if suggested else error
    if refused is not None:
        return ValueError(f"{name}: {refused}")
    # every role has a column of its own, so two roles share one
    return ValueError(f"{name}: the {', '.join(found)} columns must differ; got "
                      f"{list(found.values())}.")


def _candidates(role):
    """The columns that could play ``role``; a rating and a count are one role, the
    value of each interaction."""
    if role in ("rating", "count"):
        return (*RATING_COLUMNS, *COUNT_COLUMNS, "rating", "count")
    return (*ROLE_COLUMNS[role], role)


def canonical(df, columns):
    """``df`` with its role columns renamed to the role names (``user``, ``item``, ...).

    Other columns that could play a resolved role (``user_id`` beside a chosen
    ``userId``; a ``plays`` column beside the chosen ``rating``) are dropped, so that a
    model resolving the columns again finds exactly one per role; every other column is
    kept. ``df`` itself is returned when nothing changes.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame.
    columns : dict
        Role -> column name, as returned by :func:`frame_columns` or
        :func:`feedback_frame_columns` (roles ``user``, ``item``, ``rating``, ``count``).

    Returns
    -------
    pandas.DataFrame
    """
    chosen = set(columns.values())
    drop = [c for role in columns for c in _candidates(role)
            if c in df.columns and c not in chosen]
    rename = {col: role for role, col in columns.items() if col != role}
    if not drop and not rename:
        return df
    return df.drop(columns=list(dict.fromkeys(drop))).rename(columns=rename)


def check_ratings_frame(df: Frame, name: str = "ratings", *, user_col: str | None = None,
                        item_col: str | None = None, rating_col: str | None = None,
                        require_rating: bool = True) -> pd.DataFrame:

    """Check a ratings frame and return it as the evaluation layer gives it to a model.

    The user, item and rating columns are found as ``Recommender.fit`` finds them and
    renamed ``user``, ``item`` and ``rating``; other columns (a timestamp, ...) are
    kept, except those that could also play a resolved role (a ``user_id`` beside the
    chosen ``userId``). :func:`evaluate` fits and queries models with frames made this
    way; a search or a loop that fits models itself can do the same.

    Parameters
    ----------
    df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        One (user, item, rating) per row, with at least one row.
    name : str, default "ratings"
        What the caller calls the frame (``"train"``, ``"test of fold 2"``), for
        messages.
    user_col, item_col, rating_col : str, optional
        Column names in ``df``; by default each is recognised among the usual names of
        its role (``user``, ``userId``, ...; ``item``, ``movieId``, ...; ``rating``, ...).
    require_rating : bool, default True
        False accepts click data, by the rule of :func:`nmfrec.ratings.feedback_columns`:
        without a rating column (and without ``rating_col``), a frame with a count
        column (``plays``, ``count``, ``clicks``, ...) holds interaction counts,
        returned with that column renamed ``count``; a frame of only the user and item
        columns (a time column allowed) holds clicks, returned with ``user`` and
        ``item`` renamed.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself when it is a pandas frame whose columns are already named
        ``user``, ``item``, ``rating`` and nothing else could play those roles;
        otherwise a converted or renamed copy.

    Raises
    ------
    MissingColumnError
        A role has no column, or a named column is absent (a ``KeyError`` and a
        ``ValueError``); with ``require_rating=False``, a frame without a rating or a
        count column but with another one (``stars``): it is not taken for clicks.
    ValueError
        An ambiguous role (two candidate columns), one column for two roles, an
        empty frame, or NaN or infinite ratings.
    TypeError
        ``df`` is not a DataFrame, or a rating is not a number (the message names the
        first one and its row, as ``Recommender.fit`` does).

    Examples
    --------
    >>> import pandas as pd
    >>> from nmfrec.evaluation import check_ratings_frame
    >>> df = pd.DataFrame({"userId": [1, 2], "movieId": [10, 20], "rating": [4.0, 3.5]})
    >>> list(check_ratings_frame(df).columns)
    ['user', 'item', 'rating']
    """
    return checked_frame(df, name, user_col=user_col, item_col=item_col,
                         rating_col=rating_col, require_rating=require_rating)[0]


def checked_frame(df, name="ratings", *, user_col=None, item_col=None, rating_col=None,
                  require_rating=True):
    """:func:`check_ratings_frame`, with what the frame holds.

    Parameters
    ----------
    df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        The frame.
    name : str, default "ratings"
        What the caller calls it.
    user_col, item_col, rating_col : str, optional
        Column names in ``df``.
    require_rating : bool, default True
        As in :func:`check_ratings_frame`.

    Returns
    -------
    frame : pandas.DataFrame
        As :func:`check_ratings_frame` returns it.
    kind : {"ratings", "counts", "clicks"}
        What it holds.
    columns : dict
        Role -> the column's name in ``df``.
    """
    df = as_frame(df, name)
    given = dict(user_col=user_col, item_col=item_col, rating_col=rating_col)
    if require_rating:
        columns, kind = frame_columns(df, name, **given), "ratings"
    else:
        columns, kind = feedback_frame_columns(df, name, **given)
    return canonical(df, columns), kind, columns

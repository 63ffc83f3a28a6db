"""Which columns of a ratings frame the evaluation layer reads, and the frame it passes on.

The evaluation layer finds the user, item and rating columns with the resolver of
``Recommender.fit``, :func:`nmfrec.ratings.resolve_columns`: among the usual names of
each role (``user``/``userId``/..., ``item``/``movieId``/..., ``rating``/...), or as named
with ``user_col=``, ``item_col=``, ``rating_col=``. Splits keep the caller's column names;
a model that the evaluation layer fits or queries gets the frame with those columns
renamed ``user``, ``item``, ``rating`` (:func:`check_ratings_frame`), so the same model
code scores MovieLens-named frames and ``user, item, rating`` frames alike. Click data
(who chose what, without ratings) is a frame without a rating column: splits and
:func:`~nmfrec.evaluation.evaluate` take it, and give models ``user, item`` frames.
"""

from __future__ import annotations

from .._validation import as_frame, check_frame, missing_columns
from ..ratings import ROLE_COLUMNS, check_rating_column, resolve_columns

__all__ = ["check_ratings_frame"]

RATINGS_ROLES = ("user", "item", "rating")


def frame_columns(df, name="ratings", roles=RATINGS_ROLES, *, user_col=None, item_col=None,
                  rating_col=None, prefer=None, allow_empty=False, optional=()):
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
    optional : sequence of {"user", "item", "rating"}, default ()
        Roles the frame may lack: such a role, when no name is given for it and no
        column is recognised, is left out of the result (a click frame has no rating).

    Returns
    -------
    dict
        Role -> column name, in the order of ``roles`` (without the optional roles the
        frame lacks).

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
    absent = [role for role in roles if role in optional and given[f"{role}_col"] is None
              and _lacks(df, role, prefer)]
    roles = tuple(role for role in roles if role not in absent)
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


def _lacks(df, role, prefer):
    """Whether ``df`` has no column that could play ``role`` (given no name for it)."""
    candidates = (*ROLE_COLUMNS[role], role, (prefer or {}).get(role))
    return not any(c is not None and c in df.columns for c in candidates)


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
        hint = "; ".join(f"a {r} column is one of {list(ROLE_COLUMNS[r])} or {r}_col="
                         for r in missing if r in ROLE_COLUMNS)
        return missing_columns(df, name, missing, hint)
    if refused is not None:
        return ValueError(f"{name}: {refused}")
    # every role has a column of its own, so two roles share one
    return ValueError(f"{name}: the {', '.join(found)} columns must differ; got "
                      f"{list(found.values())}.")


def canonical(df, columns):
    """``df`` with its role columns renamed to the role names (``user``, ``item``, ...).

    Other columns that could play a resolved role (``user_id`` beside a chosen ``userId``)
    are dropped, so that a model resolving the columns again finds exactly one per role;
    every other column is kept. ``df`` itself is returned when nothing changes.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame.
    columns : dict
        Role -> column name, as returned by :func:`frame_columns`.

    Returns
    -------
    pandas.DataFrame
    """
    chosen = set(columns.values())
    drop = [c for role in columns for c in (*ROLE_COLUMNS[role], role)
            if c in df.columns and c not in chosen]
    rename = {col: role for role, col in columns.items() if col != role}
    if not drop and not rename:
        return df
    return df.drop(columns=list(dict.fromkeys(drop))).rename(columns=rename)


def check_ratings_frame(df, name="ratings", *, user_col=None, item_col=None,
                        rating_col=None, require_rating=True):
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
        False accepts click data: a frame without a rating column (and without
        ``rating_col``), returned with ``user`` and ``item`` columns only renamed.

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
        ``ValueError``).
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
    df = as_frame(df, name)
    columns = frame_columns(df, name, user_col=user_col, item_col=item_col,
                            rating_col=rating_col,
                            optional=() if require_rating else ("rating",))
    return canonical(df, columns)

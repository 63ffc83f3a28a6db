"""Which columns of a ratings frame the evaluation layer reads, found by one resolver.

The evaluation layer recognises the same column names as ``Recommender.fit``: the user,
item and rating columns are found by :func:`nmfrec.ratings.resolve_column` among
``USER_COLUMNS``, ``ITEM_COLUMNS`` and ``RATING_COLUMNS`` (``user``/``userId``/...,
``item``/``movieId``/..., ``rating``/...), or named with ``user_col=``, ``item_col=``,
``rating_col=``. Splits keep the caller's column names; a model that the evaluation
layer fits or queries gets the frame with those columns renamed ``user``, ``item``,
``rating`` (:func:`canonical`), so the same model code scores MovieLens-named frames and
``user, item, rating`` frames alike.
"""

from __future__ import annotations

from .._validation import check_frame
from ..ratings import ITEM_COLUMNS, RATING_COLUMNS, USER_COLUMNS, resolve_column

#: Candidate column names of each role, in order of preference.
ROLE_COLUMNS = {"user": USER_COLUMNS, "item": ITEM_COLUMNS, "rating": RATING_COLUMNS}

RATINGS_ROLES = ("user", "item", "rating")


def frame_columns(df, name="ratings", roles=RATINGS_ROLES, *, user_col=None, item_col=None,
                  rating_col=None, allow_empty=False):
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
    allow_empty : bool, default False
        Accept a frame without rows.

    Returns
    -------
    dict
        Role -> column name, in the order of ``roles``.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame.
    ValueError
        A role has no column (``"{name} is missing column(s) ['rating'] ..."``), a named
        column is absent, two columns could play one role (ambiguous), one column would
        play two roles, or the frame is empty.
    """
    check_frame(df, name, allow_empty=True)
    given = {"user": user_col, "item": item_col, "rating": rating_col}
    found, missing = {}, []
    for role in roles:
        if given[role] is not None and given[role] not in df.columns:
            missing.append(given[role])
            continue
        try:
            found[role] = resolve_column(df, given[role], ROLE_COLUMNS[role], role)
        except KeyError:
            missing.append(role)
    if missing:
        hints = "; ".join(f"a {r} column is one of {list(ROLE_COLUMNS[r])} or {r}_col="
                          for r in missing if r in ROLE_COLUMNS)
        raise ValueError(f"{name} is missing column(s) {missing}; it has {list(df.columns)}"
                         + (f" ({hints})." if hints else "."))
    if len(set(found.values())) < len(found):
        raise ValueError(f"{name}: the {', '.join(found)} columns must differ; got "
                         f"{list(found.values())}.")
    check_frame(df, name, allow_empty=allow_empty)
    return found


def canonical(df, columns):
    """``df`` with its role columns renamed to the role names (``user``, ``item``, ...).

    Other columns that could play a resolved role (``user_id`` beside a chosen ``userId``)
    are dropped, so that a model resolving the columns again finds exactly one per role;
    every other column is kept. ``df`` itself is returned when nothing changes.

    Parameters
    ----------
    df : pandas.DataFrame
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

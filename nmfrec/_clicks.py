"""Click data: tables of interactions without ratings, and counts of interactions.

A table of exactly a user and an item column (a time column may come along) is *click
data*: every row says that a user interacted with an item, and nothing about how much
they liked it. A table with a count column (``plays``, ``count``, ``clicks``, ...) says
how often. Which table is which is decided by :func:`nmfrec.ratings.feedback_columns`
(one rule for fitting, evaluation and the command line); this module turns such a table
into the values the implicit-feedback model fits.

**Confidence.** A count is how sure we are of an interaction, not a target (implicit's
convention, Hu, Koren & Volinsky 2008): every interaction is fitted to 1, with the
confidence ``c = 1 + log(1 + count)``. The log scale (Hu et al.'s second form) keeps a
user who played one song 5,000 times from weighing as much as 5,000 users who played it
once; a bare click (no count column) has confidence 1. So the values stored for a
count table are ``log(1 + count)``, and the preference part reads them with
``alpha = 1``; a table whose values are all 1 is clicks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .exceptions import FeedbackWarning

__all__ = ["INTERACTION", "interactions_frame", "confidence_values", "COUNT_ALPHA",
           "fitted_as_clicks"]

#: Name of the value column of a click table (every value 1).
INTERACTION = "interaction"

#: ``alpha`` of the confidence ``1 + alpha * log(1 + count)`` of count data.
COUNT_ALPHA = 1.0


def confidence_values(counts):
    """The stored values of interaction counts: ``log(1 + count)`` (float64)."""
    return np.log1p(np.asarray(counts, dtype=np.float64))


def interactions_frame(df: pd.DataFrame, ucol, icol):
    """A click table as a frame the ratings matrix takes, and its value column: the user
    and item columns and an ``INTERACTION`` column of ones (the file lines of its rows
    kept for messages)."""
    frame = df[[ucol, icol]].assign(**{INTERACTION: 1.0})
    frame.attrs = dict(df.attrs)
    return frame, INTERACTION


def fitted_as_clicks(kind, columns):
    """Say once that a table without ratings was fitted as click data."""
    from ._base import warn

    what = ("has no rating column" if kind == "clicks"
            else f"has a count column ({columns[2]!r}) and no rating column")
    warn(f"the table {what}: fitted as click data (feedback='implicit'), each interaction "
         f"with confidence {'1' if kind == 'clicks' else '1 + log(1 + count)'}. Pass "
         "feedback='implicit' to say so, or rating_col= if a column holds ratings.",
         FeedbackWarning)

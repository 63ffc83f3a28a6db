"""How sensible a model's similar items are: attribute overlap of each item's neighbours.

There is no ground truth for "similar items", but items usually carry attributes (genres,
categories, tags) that people would expect neighbours to share. The measure here is the
mean Jaccard similarity between an item's attribute set and the attribute set of each
of its ``k`` most similar items,

.. math::

    \\text{overlap@k} = \\frac{1}{|I|} \\sum_{i \\in I} \\frac{1}{k} \\sum_{j \\in N_k(i)}
    \\frac{|A_i \\cap A_j|}{|A_i \\cup A_j|},

over the evaluated items :math:`I` (a neighbour list shorter than ``k`` is averaged over
its length; two items without attributes have overlap 0). A model that returns the most
popular items for every item scores the overlap of the catalogue's hits with everything,
which is the level to beat. Like the rest of :mod:`nmfrec.evaluation`, it calls only the
model's public ``similar_items(item, k)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .._typing import Labels

__all__ = ["attribute_overlap", "similar_items_overlap"]


def attribute_overlap(neighbours: Mapping[Any, Sequence[Any]],
                      attributes: Mapping[Any, Iterable[str] | str] | pd.Series) -> float:
    """Mean Jaccard overlap between items and their neighbours' attribute sets.

    Parameters
    ----------
    neighbours : dict
        Item label -> sequence of neighbour labels (best first).
    attributes : dict or pandas.Series
        Item label -> set (or any iterable, or a ``|``-joined string) of attributes.
        Items missing here have no attributes.

    Returns
    -------
    float
        The overlap averaged over the items of ``neighbours`` that have at least one
        neighbour; NaN when there is none.
    """
    sets = {key: _as_set(value) for key, value in dict(attributes).items()}
    per_item = []
    for item, near in neighbours.items():
        near = list(near)
        if not near:
            continue
        a = sets.get(item, frozenset())
        scores = []
        for j in near:
            b = sets.get(j, frozenset())
            union = len(a | b)
            scores.append(len(a & b) / union if union else 0.0)
        per_item.append(float(np.mean(scores)))
    return float(np.mean(per_item)) if per_item else float("nan")


def similar_items_overlap(model: Any, items: Labels,
                          attributes: Mapping[Any, Iterable[str] | str] | pd.Series,
                          k: int = 10) -> float:

    """:func:`attribute_overlap` of ``model.similar_items(item, k)`` for each of ``items``.

    Parameters
    ----------
    model : object
        Fitted, with ``similar_items(item, k)`` returning a frame with an ``item`` column
        (as :meth:`nmfrec.Recommender.similar_items` does) or a sequence of labels.
    items : sequence of labels
        The items to evaluate (e.g. those with at least 20 training ratings).
    attributes : dict or pandas.Series
        Item label -> attributes, as in :func:`attribute_overlap`.
    k : int, default=10
        Neighbours per item.

    Returns
    -------
    float
    """
    neighbours = {}
    for item in items:
        near = model.similar_items(item, k=k)
        if isinstance(near, pd.DataFrame):
            near = near["item"].tolist()
        neighbours[item] = list(near)[:k]
    return attribute_overlap(neighbours, attributes)


def _as_set(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return frozenset()
    if isinstance(value, str):
        return frozenset(v for v in value.split("|") if v)
    return frozenset(value)

"""Items named by their titles: ``similar_items("Star Wars (1977)")``.

Where a model has item titles (``Recommender.item_titles_``), the methods that take an
item (``predict``, ``explain``, ``similar_items``, the keys of ``recommend_new``'s
ratings) take its title too. The rules, in this order:

1. An id always wins: a label that is an item id is that item, even when it also spells
   another item's title.
2. Otherwise a string that is exactly one item's title is that item.
3. A title shared by several items is ambiguous: a ``KeyError`` lists their ids, so that
   the caller asks by id.
4. Anything else is unknown, as without titles (a ``KeyError`` or NaN, as the method
   says); the ``KeyError`` says a string is no title either, and suggests close ones
   (:func:`difflib.get_close_matches`), if any.

The lookup table is built once per titles array and kept beside it.
"""

from __future__ import annotations

import difflib

import numpy as np

from .ratings import Vocabulary, _show

__all__ = ["TitleIndex", "item_number", "item_indices", "item_labels", "close_titles"]

#: Close titles suggested for an unknown string.
_SUGGESTIONS = 3


class TitleIndex:
    """Title -> inner indices of the items with that title.

    Parameters
    ----------
    titles : ndarray of object
        One title per item (None where unknown), in inner-index order.
    """

    def __init__(self, titles):
        self.titles = titles
        index: dict[str, list[int]] = {}
        for j, title in enumerate(titles):
            if title is not None:
                index.setdefault(title, []).append(j)
        self._index = index

    def find(self, title, vocab: Vocabulary):
        """The inner index of the one item titled ``title``; -1 for none; ``KeyError``
        listing the ids when several items have that title."""
        found = self._index.get(title, ())
        if len(found) > 1:
            ids = ", ".join(_show(x) for x in vocab.labels(found))
            raise KeyError(f"title {title!r} names {len(found)} items (item ids {ids}); ask "
                           "for the one you mean by its id.")
        return found[0] if found else -1

    def close(self, text, vocab: Vocabulary) -> str:
        """What to add to the message for ``text``, found neither as an id nor as a
        title: ``"; nor is it an item's title (close ones: 'A' (item 1), ...)"``."""
        near = difflib.get_close_matches(text, list(self._index), n=_SUGGESTIONS, cutoff=0.6)
        shown = ", ".join(
            f"{t!r} (item {', '.join(_show(x) for x in vocab.labels(self._index[t]))})"
            for t in near)
        return "; nor is it an item's title" + (f" (close ones: {shown})" if near else "")


def _lookup(owner):
    """The :class:`TitleIndex` of ``owner.item_titles_`` (None without titles), built
    once per titles array."""
    titles = getattr(owner, "item_titles_", None)
    if titles is None:
        return None
    cached = owner.__dict__.get("_title_index")
    if cached is None or cached.titles is not titles:
        cached = TitleIndex(titles)
        owner.__dict__["_title_index"] = cached
    return cached


def item_number(owner, label) -> int:
    """The inner index of one item named by id or title (see the module docstring), as
    :meth:`nmfrec.Vocabulary.number` takes one label; ``KeyError`` when unknown."""
    vocab = owner.items_
    titles = _lookup(owner)
    if titles is not None and isinstance(label, str) and label not in vocab:
        j = titles.find(label, vocab)
        if j < 0:
            raise KeyError(vocab.not_found(label, "item") + titles.close(label, vocab))
        return j
    return vocab.number(label, kind="item")


def item_indices(owner, labels, missing="raise", warn=None) -> np.ndarray:
    """Inner indices of items named by id or title (see the module docstring).

    Parameters
    ----------
    owner : Recommender
        Fitted: its ``items_`` and ``item_titles_`` are read.
    labels : array-like
        Item ids or titles.
    missing : {"raise", "negative"}, default="raise"
        Unknown items raise ``KeyError`` (with close titles) or map to -1.
    warn : str, optional
        As in :meth:`nmfrec.Vocabulary.index`: the unknown ids of the other kind warn.

    Returns
    -------
    ndarray of int64
    """
    vocab = owner.items_
    arr = np.atleast_1d(np.asarray(labels, dtype=object if isinstance(labels, str) else None))
    idx = vocab.index(arr, missing="negative")
    titles = _lookup(owner)
    if titles is not None:
        for pos in np.flatnonzero(idx < 0):
            if isinstance(arr[pos], str):
                idx[pos] = titles.find(str(arr[pos]), vocab)
    bad = np.flatnonzero(idx < 0)
    if bad.size:
        first = arr[bad[0]]
        if missing == "raise":
            hint = (titles.close(str(first), vocab) if titles is not None
                    and isinstance(first, str) else "")
            raise KeyError(vocab.not_found(first, "item", bad.size) + hint)
        if warn is not None:
            vocab.index(arr[bad], missing="negative", kind="item", warn=warn)
    return idx


def close_titles(owner, labels) -> str:
    """For a ``KeyError`` raised elsewhere: :meth:`TitleIndex.close` of the first of
    ``labels`` that is a string but neither an id nor a title, else ``""``."""
    titles = _lookup(owner)
    if titles is None:
        return ""
    arr = np.atleast_1d(np.asarray(labels, dtype=object if isinstance(labels, str) else None))
    for pos in np.flatnonzero(owner.items_.index(arr, missing="negative") < 0):
        if isinstance(arr[pos], str) and titles.find(str(arr[pos]), owner.items_) < 0:
            return titles.close(str(arr[pos]), owner.items_)
    return ""


def item_labels(owner, labels) -> np.ndarray:
    """``labels`` with each title replaced by its item's id (ids and unknown labels as
    they are): for code that then looks the ids up itself."""
    arr = np.atleast_1d(np.asarray(labels, dtype=object if isinstance(labels, str) else None))
    titles = _lookup(owner)
    if titles is None or not arr.size:
        return arr
    idx = owner.items_.index(arr, missing="negative")
    out = arr.astype(object)
    for pos in np.flatnonzero(idx < 0):
        if isinstance(arr[pos], str):
            j = titles.find(str(arr[pos]), owner.items_)
            if j >= 0:
                out[pos] = owner.items_.labels([j])[0]
    return out

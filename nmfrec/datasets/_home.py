"""Where nmfrec looks for data: the one search order, used by every loader and the CLI.

The **data home** is the first of:

1. the ``data_home`` argument of a loader (``--data-home`` on the command line);
2. the ``NMFREC_DATA`` environment variable;
3. the user cache, ``platformdirs.user_cache_path("nmfrec")``: ``$XDG_CACHE_HOME/nmfrec``
   or ``~/.cache/nmfrec`` on Linux, ``~/Library/Caches/nmfrec`` on macOS,
   ``%LOCALAPPDATA%\\nmfrec\\Cache`` on Windows.

Only the first one that is given counts: an explicit ``data_home`` hides
``NMFREC_DATA``, and ``NMFREC_DATA`` hides the user cache. A downloaded release goes into
the data home, so the next call finds it there.

Inside the data home, a release is found in its own folder as the official archive
unpacks (``<data home>/ml-100k/u.data``, ``<data home>/ml-10M100K/ratings.dat``), or under
its short name (``<data home>/ml-10m/``), or in the data home itself when that is the
release folder (``data_home="~/data/ml-100k"``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import platformdirs

if TYPE_CHECKING:
    from .._typing import StrPath

__all__ = ["ENV_VAR", "get_data_home", "data_home_source"]

#: The environment variable naming the data home.
ENV_VAR = "NMFREC_DATA"


def get_data_home(data_home: StrPath | None = None) -> Path:
    """The data home: ``data_home``, else ``$NMFREC_DATA``, else the user cache.

    Parameters
    ----------
    data_home : str or path-like, optional
        An explicit folder; ``~`` is expanded. None: the environment variable
        ``NMFREC_DATA`` if it is set and not empty, else the user cache
        (``$XDG_CACHE_HOME/nmfrec`` or ``~/.cache/nmfrec`` on Linux; platformdirs'
        user cache folder elsewhere).

    Returns
    -------
    Path
        The folder. It is not created here (a download creates it).
    """
    return _resolve(data_home)[0]


def data_home_source(data_home: StrPath | None = None
                     ) -> Literal["data_home", "NMFREC_DATA", "user cache"]:

    """Which rule of the search order chose the data home.

    Parameters
    ----------
    data_home : str or path-like, optional
        As in :func:`get_data_home`.

    Returns
    -------
    {"data_home", "NMFREC_DATA", "user cache"}
        ``"data_home"`` when the folder was given explicitly.
    """
    return _resolve(data_home)[1]


def _resolve(data_home):
    if data_home is not None:
        return Path(data_home).expanduser(), "data_home"
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser(), ENV_VAR
    return platformdirs.user_cache_path("nmfrec", appauthor=False), "user cache"


def find_folder(home, names, marker) -> Path | None:
    """The folder of a data set inside the data home, if it is there.

    Parameters
    ----------
    home : path-like
        The data home.
    names : sequence of str
        Folder names the data set may have inside ``home``, in order of preference.
    marker : str
        A file that the data set's folder must hold (e.g. ``"u.data"``).

    Returns
    -------
    Path or None
        ``home / name`` for the first name holding ``marker``, else ``home`` itself if
        it holds ``marker``, else None.
    """
    home = Path(home)
    for cand in (*(home / n for n in names), home):
        if (cand / marker).is_file():
            return cand
    return None

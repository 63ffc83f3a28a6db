"""Data sets: MovieLens (found locally or downloaded) and synthetic MovieLens-shaped ratings.

* :func:`load_movielens`, :func:`ml100k_folds`: the MovieLens releases and the official
  ml-100k folds, as typed frames (``user``, ``item``, ``rating``, ``timestamp``).
* :func:`fetch_movielens`, :func:`find_movielens`: the folder of a release, downloaded
  (pooch, checksum-verified) when it is missing, or None when it is not there.
* :func:`get_data_home`: where data is looked for, in this order: the ``data_home``
  argument, the ``NMFREC_DATA`` environment variable, the user cache
  (``~/.cache/nmfrec`` on Linux).
* :func:`make_ratings`, :func:`make_ratings_like`: synthetic ratings with planted tastes,
  popularity skew and selection bias, at any size (``"S"``, ``"M"``, ``"L"``: the shapes
  of ml-100k, ml-1m, ml-20m).
"""

from ._home import ENV_VAR, data_home_source, get_data_home
from .movielens import (
    DOWNLOAD_TIMEOUT,
    ML100K_DEFAULT_FOLDS,
    ML100K_FOLDS,
    ML100K_GENRES,
    MOVIELENS,
    Dataset,
    DatasetNotFoundError,
    Release,
    fetch_movielens,
    find_movielens,
    load_movielens,
    ml100k_folds,
)
from .synthetic import (
    SIZE_ALIASES,
    SYNTHETIC_SIZES,
    make_ratings,
    make_ratings_like,
    synthetic_shape,
)

__all__ = [
    "Dataset",
    "DatasetNotFoundError",
    "Release",
    "MOVIELENS",
    "ML100K_FOLDS",
    "ML100K_DEFAULT_FOLDS",
    "ML100K_GENRES",
    "DOWNLOAD_TIMEOUT",
    "ENV_VAR",
    "get_data_home",
    "data_home_source",
    "find_movielens",
    "fetch_movielens",
    "load_movielens",
    "ml100k_folds",
    "make_ratings",
    "make_ratings_like",
    "synthetic_shape",
    "SYNTHETIC_SIZES",
    "SIZE_ALIASES",
]

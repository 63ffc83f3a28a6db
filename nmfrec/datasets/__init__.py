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
* :func:`make_planted`: a small table as a newcomer brings (tens to hundreds of users
  and items), ratings or clicks, with planted genres and tastes and the truth to check
  recommendations against (:class:`PlantedTastes`).
"""

# Each module lists its public names once, in its own __all__; the package re-exports them.
from . import _home, movielens, synthetic
from ._home import *  # noqa: F401,F403
from .movielens import *  # noqa: F401,F403
from .synthetic import *  # noqa: F401,F403

__all__ = [*_home.__all__, *movielens.__all__, *synthetic.__all__]

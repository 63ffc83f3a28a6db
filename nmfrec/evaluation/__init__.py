"""Offline evaluation: leak-free splits, NumPy metrics, the rating and ranking protocols.

``nmfrec.evaluation`` uses only the public surface of a model (``fit``, ``predict``,
``recommend_many`` or ``recommend``) and imports neither the factorization engine nor
its kernels, so it scores nmfrec's Recommender and any peer (through a thin adapter)
with the same code. It reads ratings frames whose columns are named as
``Recommender.fit`` recognises them (``user``/``userId``, ``item``/``movieId``,
``rating``, ...), and gives models those frames with the columns renamed ``user``,
``item``, ``rating`` (:func:`check_ratings_frame`). A missing column raises
:class:`nmfrec.exceptions.MissingColumnError`, both a ``KeyError`` and a ``ValueError``.
Wherever a frame is taken, a polars DataFrame or a pyarrow Table is taken too,
converted to pandas by its library's ``to_pandas`` (splits and models get pandas frames).

The protocols (see :func:`evaluate`):

* **rating** (protocol A): fit on train, predict every test rating, clip to the train
  rating range, RMSE and MAE. Only for models whose ``predict`` returns ratings
  (:func:`predicts_ratings`); others are skipped, with a
  :class:`~nmfrec.exceptions.ProtocolSkippedWarning` and a ``skipped`` entry in the
  result saying why.
* **ranking** (protocol B): for each test user with a relevant test item (rating at
  least a threshold), the top-k among the train items the user has not rated;
  precision, recall, NDCG, MAP, hit rate at k (or at several k), and catalog coverage.
  On click data (frames without a rating column, protocol C) every held-out item is
  relevant.
* **predictive distributions**: :func:`log_score`, :func:`pit_histogram` and
  :func:`interval_coverage` score a model's ``predict_proba`` and ``predict_interval``.
* **similar items**: :func:`similar_items_overlap`, how many attributes (genres) an item
  shares with its neighbours.

``SupportsPredict`` and ``SupportsRecommend`` were called ``RatingPredictor`` and
``Recommender``; the old names still work, with a ``DeprecationWarning``.
"""

# Each module lists its public names once, in its own __all__; the package re-exports them.
from . import _frames, baselines, metrics, probabilistic, protocol, similar, splits
from ._frames import *  # noqa: F401,F403
from .baselines import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .probabilistic import *  # noqa: F401,F403
from .protocol import *  # noqa: F401,F403
from .protocol import _deprecated_alias
from .similar import *  # noqa: F401,F403
from .splits import *  # noqa: F401,F403

__all__ = [*splits.__all__, *metrics.__all__, *protocol.__all__, *_frames.__all__,
           *baselines.__all__, *similar.__all__, *probabilistic.__all__]


def __getattr__(name):
    # the Protocols' old names, deprecated
    return _deprecated_alias(__name__, name)

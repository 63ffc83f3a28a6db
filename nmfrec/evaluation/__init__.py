"""Offline evaluation: leak-free splits, NumPy metrics, the rating and ranking protocols.

``nmfrec.evaluation`` uses only the public surface of a model (``fit``, ``predict``,
``recommend_many`` or ``recommend``) and imports neither the factorization engine nor
its kernels, so it scores nmfrec's Recommender and any peer (through a thin adapter)
with the same code. It reads ratings frames whose columns are named as
``Recommender.fit`` recognises them (``user``/``userId``, ``item``/``movieId``,
``rating``, ...).

The protocols (see :func:`evaluate`):

* **rating** (protocol A): fit on train, predict every test rating, clip to the train
  rating range, RMSE and MAE. Only for models whose ``predict`` returns ratings
  (:func:`predicts_ratings`); others are skipped with a warning saying why.
* **ranking** (protocol B): for each test user with a relevant test item (rating at
  least a threshold), the top-k among the train items the user has not rated;
  precision, recall, NDCG, MAP, hit rate at k, and catalog coverage.

``SupportsPredict`` and ``SupportsRecommend`` were called ``RatingPredictor`` and
``Recommender``; the old names still work, with a ``DeprecationWarning``.
"""

from .baselines import GlobalMean, Popularity
from .metrics import (
    coverage_at_k,
    hit_rate_at_k,
    implicit_precision_at_k,
    limited_auc_at_k,
    mae,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    rmse,
)
from .protocol import (
    CVResult,
    SupportsPredict,
    SupportsRecommend,
    _deprecated_alias,
    cross_validate,
    evaluate,
    predicts_ratings,
)
from .splits import (
    ColdStartReport,
    Split,
    cold_start_report,
    kfold,
    last_n_split,
    random_split,
    temporal_split,
    user_kfold,
    user_split,
)

__all__ = [
    # splits
    "Split",
    "ColdStartReport",
    "cold_start_report",
    "random_split",
    "user_split",
    "temporal_split",
    "last_n_split",
    "kfold",
    "user_kfold",
    # metrics
    "rmse",
    "mae",
    "precision_at_k",
    "implicit_precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "map_at_k",
    "hit_rate_at_k",
    "coverage_at_k",
    "limited_auc_at_k",
    # protocol
    "evaluate",
    "cross_validate",
    "CVResult",
    "SupportsPredict",
    "SupportsRecommend",
    "predicts_ratings",
    # baselines
    "GlobalMean",
    "Popularity",
]


def __getattr__(name):
    # the Protocols' old names, deprecated
    return _deprecated_alias(__name__, name)

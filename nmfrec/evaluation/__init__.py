"""Offline evaluation: leak-free splits, NumPy metrics and the EVALUATION.md protocols.

``nmfrec.evaluation`` imports nothing from the rest of nmfrec, so it scores nmfrec's
Recommender and any peer (through a thin adapter) with the same code.
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
from .protocol import CVResult, RatingPredictor, Recommender, cross_validate, evaluate
from .splits import (
    ColdStartReport,
    Split,
    cold_start_report,
    kfold,
    last_n_split,
    random_split,
    temporal_split,
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
    "RatingPredictor",
    "Recommender",
    # baselines
    "GlobalMean",
    "Popularity",
]

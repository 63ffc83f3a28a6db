"""nmfrec: recommender systems from non-negative matrix factorization with missing entries.

Public surface:

* :class:`Recommender`: fit a ratings DataFrame, predict, recommend, explain, save.
* :class:`MaskedNMF`: a scikit-learn transformer for matrices with missing entries.
* :class:`BayesianNMF`: the same factorization averaged over its posterior (Gibbs sampling).
* :class:`RatingsMatrix`, :class:`Vocabulary`: the validated sparse data model.
* :mod:`nmfrec.evaluation`, :mod:`nmfrec.datasets`: offline evaluation and MovieLens.
* :mod:`nmfrec.model_selection`: cross-validated choice of rank and penalties.
"""

from ._version import __version__
from .exceptions import (ConvergenceWarning, FallbackWarning, FeedbackWarning,
                         MissingColumnError, NotFittedError, ProtocolSkippedWarning)
from . import datasets, evaluation, model_selection
from .bayes import BayesianNMF
from .nmf import MaskedNMF
from .ratings import RatingsMatrix, Vocabulary, as_ratings_matrix
from .recommender import Recommender

__all__ = [
    "Recommender",
    "MaskedNMF",
    "BayesianNMF",
    "RatingsMatrix",
    "Vocabulary",
    "as_ratings_matrix",
    "NotFittedError",
    "ConvergenceWarning",
    "MissingColumnError",
    "FeedbackWarning",
    "FallbackWarning",
    "ProtocolSkippedWarning",
    "datasets",
    "evaluation",
    "model_selection",
    "__version__",
]

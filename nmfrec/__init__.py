"""nmfrec: recommender systems from non-negative matrix factorization with missing entries.

Public surface:

* :class:`Recommender`: fit a ratings DataFrame, predict, recommend, explain, save.
* :class:`MaskedNMF`: a scikit-learn transformer for matrices with missing entries.
* :class:`BayesianNMF`: the same factorization averaged over its posterior (Gibbs sampling).
* :class:`RatingsMatrix`, :class:`Vocabulary`: the validated sparse data model.
* :mod:`nmfrec.evaluation`, :mod:`nmfrec.datasets`: offline evaluation and MovieLens.
* :mod:`nmfrec.model_selection`: cross-validated choice of rank and penalties.

Names are imported on first use (PEP 562), so that ``import nmfrec`` and the ``nmfrec``
command's ``--help`` do not load scikit-learn, numba or the kernels before a model is
needed; ``from nmfrec import Recommender`` and ``nmfrec.evaluation`` work as usual.
"""

import importlib
import os
from typing import TYPE_CHECKING

from ._version import __version__

# Idle OpenMP threads sleep instead of spinning, unless the user chose otherwise: read
# once, when the OpenMP runtime starts, so set at import, before any library loads it
# (the reasons and figures are in nmfrec._base, which sets it too for direct imports).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# public name -> the module that defines it (a subpackage maps to itself)
_LAZY = {
    "Recommender": ".recommender",
    "MaskedNMF": ".nmf",
    "BayesianNMF": ".bayes",
    "RatingsMatrix": ".ratings",
    "Vocabulary": ".ratings",
    "as_ratings_matrix": ".ratings",
    "NotFittedError": ".exceptions",
    "ConvergenceWarning": ".exceptions",
    "MissingColumnError": ".exceptions",
    "FeedbackWarning": ".exceptions",
    "FallbackWarning": ".exceptions",
    "ProtocolSkippedWarning": ".exceptions",
    "datasets": None,
    "evaluation": None,
    "model_selection": None,
}

__all__ = [*_LAZY, "__version__"]

if TYPE_CHECKING:  # what static tools and IDEs see ("X as X": an explicit re-export)
    from . import datasets as datasets
    from . import evaluation as evaluation
    from . import model_selection as model_selection
    from .bayes import BayesianNMF as BayesianNMF
    from .exceptions import ConvergenceWarning as ConvergenceWarning
    from .exceptions import FallbackWarning as FallbackWarning
    from .exceptions import FeedbackWarning as FeedbackWarning
    from .exceptions import MissingColumnError as MissingColumnError
    from .exceptions import NotFittedError as NotFittedError
    from .exceptions import ProtocolSkippedWarning as ProtocolSkippedWarning
    from .nmf import MaskedNMF as MaskedNMF
    from .ratings import RatingsMatrix as RatingsMatrix
    from .ratings import Vocabulary as Vocabulary
    from .ratings import as_ratings_matrix as as_ratings_matrix
    from .recommender import Recommender as Recommender


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'nmfrec' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name] or f".{name}", __name__)
    value = module if _LAZY[name] is None else getattr(module, name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *__all__})

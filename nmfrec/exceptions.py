"""Exceptions and warnings raised by nmfrec.

Both subclass scikit-learn's classes of the same name, so code that catches or filters
scikit-learn's (``except sklearn.exceptions.NotFittedError``, ``warnings.filterwarnings(
"ignore", category=sklearn.exceptions.ConvergenceWarning)``) handles nmfrec's too.
"""

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = ["NotFittedError", "ConvergenceWarning"]


class NotFittedError(_SklearnNotFittedError):
    """A method that needs a fitted model was called before ``fit``.

    Subclasses ``ValueError`` and ``AttributeError`` (through scikit-learn's
    ``NotFittedError``), so code that catches either keeps working.
    """


class ConvergenceWarning(_SklearnConvergenceWarning):
    """The solver stopped at ``max_iter`` before reaching ``tol``.

    A ``UserWarning``, as scikit-learn's ``ConvergenceWarning`` that it subclasses.
    """

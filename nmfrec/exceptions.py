"""Exceptions and warnings raised by nmfrec."""

__all__ = ["NotFittedError", "ConvergenceWarning"]


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``.

    Subclasses ``ValueError`` and ``AttributeError`` like scikit-learn's, so code that
    catches either keeps working.
    """


class ConvergenceWarning(UserWarning):
    """The solver stopped at ``max_iter`` before reaching ``tol``."""

"""Exceptions and warnings raised by nmfrec.

``NotFittedError`` and ``ConvergenceWarning`` subclass scikit-learn's classes of the same
name, so code that catches or filters scikit-learn's (``except
sklearn.exceptions.NotFittedError``, ``warnings.filterwarnings("ignore",
category=sklearn.exceptions.ConvergenceWarning)``) handles nmfrec's too.
"""

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = ["NotFittedError", "ConvergenceWarning", "MissingColumnError", "FeedbackWarning",
           "FallbackWarning", "ProtocolSkippedWarning"]


class NotFittedError(_SklearnNotFittedError):
    """A method that needs a fitted model was called before ``fit``.

    Subclasses ``ValueError`` and ``AttributeError`` (through scikit-learn's
    ``NotFittedError``), so code that catches either keeps working.
    """


class ConvergenceWarning(_SklearnConvergenceWarning):
    """The solver stopped at ``max_iter`` before reaching ``tol``.

    A ``UserWarning``, as scikit-learn's ``ConvergenceWarning`` that it subclasses.
    """


class MissingColumnError(KeyError, ValueError):
    """A DataFrame lacks a column that the call needs.

    Raised when a column named by the caller (``user_col="uid"``) does not exist, or
    when no column is recognised for a role (user, item, rating) among its usual names.
    The message names the frame where the caller gave it a name, the missing column or
    role, and the columns the frame has.

    It subclasses both ``KeyError`` (a column looked up by name is absent, as pandas
    reports it) and ``ValueError`` (the argument has the wrong content), so
    ``except KeyError`` and ``except ValueError`` both catch it, wherever it is raised.
    Unlike a plain ``KeyError``, its ``str`` is the message itself, without quotes.
    """

    def __str__(self):
        return BaseException.__str__(self)


class FeedbackWarning(UserWarning):
    """A table was read as click data because it holds no ratings.

    ``Recommender().fit`` on a table of only user and item columns (or with a count
    column such as ``plays``) fits implicit feedback and says so once with this warning;
    passing ``feedback="implicit"`` says it is meant and silences it. A ``UserWarning``.
    """


class FallbackWarning(UserWarning):
    """A small fit ranks by something other than its preference part.

    On small data (see :data:`nmfrec._auto.VALIDATE_BELOW`) ``Recommender().fit`` checks
    its candidate rankings on a held-out fifth of each user's ratings; when the
    preference part ranks worse than the predicted rating or than popularity there, the
    model ranks by the better one and says so with this warning. A ``UserWarning``.
    """


class ProtocolSkippedWarning(UserWarning):
    """An evaluation protocol that was asked for could not run on a model.

    :func:`nmfrec.evaluation.evaluate` skips the rating protocol (RMSE, MAE) for a model
    whose ``predict`` does not return ratings; it records the reason under ``skipped``
    in its result and warns with this category, which can be filtered on its own
    (``warnings.simplefilter("ignore", ProtocolSkippedWarning)``). A ``UserWarning``.
    """

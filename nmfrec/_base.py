"""What every nmfrec estimator shares: parameters, thread caps and user-facing warnings.

* :class:`ParamsBase`: scikit-learn's ``BaseEstimator`` (``get_params``/``set_params``,
  ``clone``, tags, HTML repr), with parameters listed in signature order and a repr that
  shows the changed ones in that order; a class may declare that its methods take no
  metadata for scikit-learn's routing (``_takes_no_metadata``).
* :class:`ThreadLimits`: numba's thread count for a block, BLAS capped at one thread,
  both always restored.
* :func:`warn`: a warning attributed to the first line outside nmfrec, so that it points
  at the caller's code.
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from typing import Any

# Idle OpenMP threads sleep instead of spinning, unless the user chose otherwise. numba's
# parallel loops run on GNU OpenMP here (threading layer "omp"), whose idle threads spin by
# default; on a machine whose cores are busy with other processes the spinning steals the
# time slices of the threads doing the work. Measured on a shared 2-core machine, default
# Recommender fit on MovieLens 100K, two threads: 6.6 s spinning vs 1.0-1.3 s sleeping
# (1.3 s on one thread). Read once, when the OpenMP runtime starts: set before any
# parallel kernel runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.utils.metadata_routing import UNUSED  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

__all__ = ["ParamsBase", "ThreadLimits", "warn"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


#: The methods whose arguments scikit-learn's metadata routing inspects (its
#: ``SIMPLE_METHODS``), and the arguments it never routes.
_ROUTED_METHODS = ("fit", "partial_fit", "predict", "predict_proba", "predict_log_proba",
                   "decision_function", "score", "split", "transform", "inverse_transform")
_NEVER_ROUTED = ("X", "y", "Y", "Xt", "yt")


class ParamsBase(BaseEstimator):
    """scikit-learn's estimator base with parameters in the order of ``__init__``.

    ``get_params`` lists the parameters as the signature does (scikit-learn sorts them
    by name), so that ``repr``, the CLI flags derived from them and saved files keep a
    readable order; ``repr`` shows the parameters that differ from their defaults.

    scikit-learn takes every argument of ``fit``, ``predict``, ``score``, ... other
    than ``X`` and ``y`` for per-sample metadata a meta-estimator may route (like
    ``sample_weight``), and gives the class a ``set_{method}_request`` method for each.
    A subclass whose arguments are options of the call instead (column names, a
    policy) sets ``_takes_no_metadata = True``: its arguments are then marked
    ``UNUSED`` in ``__metadata_request__{method}`` class attributes, scikit-learn's way
    to say so, and no such method is made (``get_metadata_routing`` reports nothing to
    route).
    """

    #: True: the arguments of the class's methods are not metadata to route.
    _takes_no_metadata = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Mark the arguments of a ``_takes_no_metadata`` class unused for routing."""
        if cls._takes_no_metadata:
            for method in _ROUTED_METHODS:
                func = getattr(cls, method, None)
                if not inspect.isfunction(func):
                    continue
                params = list(inspect.signature(func).parameters.values())[1:]
                names = [p.name for p in params if p.name not in _NEVER_ROUTED
                         and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
                if names:
                    setattr(cls, f"__metadata_request__{method}", dict.fromkeys(names, UNUSED))
        super().__init_subclass__(**kwargs)

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def __repr__(self, N_CHAR_MAX=700):
        defaults = {p.name: p.default
                    for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                   if not _same(defaults.get(k, inspect.Parameter.empty), v)]
        text = f"{type(self).__name__}({', '.join(changed)})"
        if len(text) > N_CHAR_MAX:
            half = N_CHAR_MAX // 2
            text = text[:half] + "..." + text[-half:]
        return text


def _same(default, value):
    return default is value or (type(default) is type(value) and default == value)


class ThreadLimits:
    """Set numba's thread count for a block, cap BLAS at one thread, always restore both.

    The ALS kernel calls BLAS (``np.dot``) from inside numba's parallel loop; letting
    BLAS start its own threads there would oversubscribe the cores, so BLAS runs
    single-threaded within every fit.

    Parameters
    ----------
    n_threads : int or None
        Threads for numba's parallel loops (at most ``numba.config.NUMBA_NUM_THREADS``);
        None leaves numba's current setting.
    cap_blas : bool, default=True
        Also limit BLAS to one thread (not needed by kernels that make no BLAS call).
    """

    def __init__(self, n_threads, cap_blas=True):
        self.n_threads = n_threads
        self.cap_blas = cap_blas

    def __enter__(self):
        self._prev = numba.get_num_threads()
        self._blas = threadpool_limits(limits=1, user_api="blas") if self.cap_blas else None
        if self.n_threads is not None:
            numba.set_num_threads(min(int(self.n_threads), numba.config.NUMBA_NUM_THREADS))
        return self

    def __exit__(self, *exc):
        numba.set_num_threads(self._prev)
        if self._blas is not None:
            self._blas.restore_original_limits()
        return False


def warn(message, category=UserWarning):
    """``warnings.warn`` attributed to the first stack frame outside the nmfrec package.

    A warning about the user's call (a fit that did not converge, a parameter without
    effect) then names the user's file and line, however deep inside nmfrec it was
    raised and whichever public method was called.
    """
    level = 2                      # stacklevel 2 is the caller of this function
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)

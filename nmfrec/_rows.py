"""Where the row kernels of a fit run.

Every fit in nmfrec alternates half-steps, and each half-step is one kernel of
:mod:`nmfrec._kernels` run over the rows of the observed matrix (side ``"W"``: users, the
CSR arrays) or over its columns (side ``"H"``: items, the CSC arrays), reading the other
side's factors. The fits (:class:`~nmfrec.MaskedNMF`, :class:`~nmfrec.BayesianNMF` and
the SVD start) reach the data only through the small interface of this module:

- ``run(side, kernel, X, Y, args, out=None, then=None)`` calls
  ``kernel(indptr, indices, data, X, Y, *args)`` on that side's rows, where the
  placeholders :data:`OUT` and :data:`ROW0` in ``args`` stand for the per-row output
  array ``out`` and for the global index of the first row handled; ``then``, a
  ``(kernel, args, out)`` triple, runs a second kernel on the same rows right after (one
  pass over the data, e.g. an update and then the objective's row terms);
- ``product(side, X)``: ``A @ X`` (side ``"W"``) or ``A.T @ X`` (side ``"H"``);
- ``scaled(divisor, dtype)`` and ``binary()``: the same rows with the data divided, or
  replaced by ones;
- ``mean()``, ``mean_square()``, ``max_abs()``, ``data_sum()``: statistics of the data.

:class:`LocalRows` runs them here on the whole matrix. :class:`nmfrec.spark.SparkRows`
runs the same kernels on blocks of rows held by Spark executors, each block with the
global index of its first row (the Gibbs kernel's random streams are per global row), so
that a distributed fit computes what the local fit computes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._kernels import for_size

__all__ = ["OUT", "ROW0", "LocalRows", "SIDES"]

SIDES = ("W", "H")


class _Placeholder:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name

    def __reduce__(self):        # one object per process, also after pickling
        return self.name


OUT = _Placeholder("OUT")
"""In ``run``'s ``args``: the rows' slice of the output array ``out``."""
ROW0 = _Placeholder("ROW0")
"""In ``run``'s ``args``: the global index of the first row the call handles."""


def fill_args(args, out, row0):
    """``args`` with :data:`OUT` and :data:`ROW0` replaced."""
    return tuple(out if a is OUT else row0 if a is ROW0 else a for a in args)


def check_side(side):
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}; got {side!r}.")


class LocalRows:
    """The rows and columns of one in-memory matrix (see the module docstring).

    Parameters
    ----------
    csr : scipy.sparse.csr_matrix
    csc : scipy.sparse.csc_matrix
        The same matrix by columns.
    data_csr, data_csc : ndarray, optional
        Values used in place of ``csr.data`` and ``csc.data`` (same order).
    """

    def __init__(self, csr, csc, data_csr=None, data_csc=None):
        self.csr = csr
        self.csc = csc
        self.data_csr = csr.data if data_csr is None else data_csr
        self.data_csc = csc.data if data_csc is None else data_csc
        self._A = None

    @property
    def shape(self):
        return self.csr.shape

    @property
    def nnz(self) -> int:
        return int(self.csr.nnz)

    def scaled(self, divisor, dtype) -> "LocalRows":
        """The same rows with the data divided by ``divisor``, stored as ``dtype``."""
        return LocalRows(self.csr, self.csc, (self.data_csr / divisor).astype(dtype),
                         (self.data_csc / divisor).astype(dtype))

    def binary(self) -> "LocalRows":
        """The same rows with every observed value replaced by one."""
        return LocalRows(self.csr, self.csc, np.ones(self.nnz), np.ones(self.nnz))

    def run(self, side, kernel, X, Y, args, out=None, then=None):
        """``kernel(indptr, indices, data, X, Y, *args)`` over the rows of ``side``, then
        the kernel of ``then = (kernel, args, out)`` on the same rows."""
        check_side(side)
        mat, data = (self.csr, self.data_csr) if side == "W" else (self.csc, self.data_csc)
        for kern, a, o in [(kernel, args, out)] + ([then] if then is not None else []):
            # small matrices run the kernel's serial twin (see nmfrec._kernels._twins)
            for_size(kern, self.nnz)(mat.indptr, mat.indices, data, X, Y, *fill_args(a, o, 0))

    def product(self, side, X):
        """``A @ X`` (side ``"W"``) or ``A.T @ X`` (side ``"H"``), ``A`` the matrix."""
        check_side(side)
        A = self._matrix()
        return A @ X if side == "W" else A.T @ X

    def _matrix(self):
        """The matrix with this view's data (built once: ARPACK asks for many products)."""
        if self.data_csr is self.csr.data:
            return self.csr
        if self._A is None:
            self._A = sp.csr_matrix((self.data_csr, self.csr.indices, self.csr.indptr),
                                    shape=self.csr.shape)
        return self._A

    def mean(self) -> float:
        return float(np.mean(self.data_csr, dtype=np.float64)) if self.nnz else 0.0

    def mean_square(self) -> float:
        d = self.data_csr.astype(np.float64)
        return float(np.mean(d * d)) if self.nnz else 0.0

    def max_abs(self) -> float:
        d = self.data_csr
        return float(max(d.max(), -d.min())) if self.nnz else 0.0

    def data_sum(self) -> float:
        return float(self._matrix().sum())

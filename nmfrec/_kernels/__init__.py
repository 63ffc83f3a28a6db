"""Numba kernels: pure functions of arrays and scalars.

Every kernel here sees only NumPy arrays and scalars (no ``self``, no callables, no
dicts) and imports only numpy, numba and math. Factors are stored row-major on both
sides, user factors ``W`` (n_users, k) and item factors ``Ht`` (n_items, k), so a single
row kernel serves both: called with the CSR arrays it updates ``W`` against ``Ht``;
called with the CSC arrays of the same matrix it updates ``Ht`` against ``W``.

Parallelism is over independent rows (``prange`` over tasks, task t taking rows t,
t + n_tasks, ...: see ``ROWS_PER_TASK`` in ``_common.py``), each output row written by
exactly one iteration, and every reduction is written per row and summed afterwards in
NumPy, so results are bitwise identical whatever the thread count. Kernels that keep
work buffers allocate them once per task, never per row. Kernels compiled with
``FASTMATH`` may re-associate their sums (so that they vectorize): their results are
fixed for a given machine and build, not bitwise equal to a sum taken in order.

Solvers: :func:`als_update_rows` (per-row Gram matrix and coordinate descent),
:func:`cd_update_rows` (coordinate descent on residuals), :func:`mu_update_rows`,
:func:`pgd_update_rows`; Bayesian NMF's Gibbs draws :func:`gibbs_update_rows`.
Objective and scores: :func:`objective` (:func:`objective_of_rows` from row terms),
:func:`row_sq_errors`, :func:`dot_pairs`, :func:`fit_stats`, :func:`gram`, :func:`penalty`.
Exploration: :func:`project_nonneg`. Rankings: :func:`topk_scored` (the best items of each
row of a block of scores that BLAS computed, see :mod:`nmfrec._serving`). Small problems
run a kernel's serial twin (:func:`for_size`, :func:`serial`), which compiles in half the
time. Loops that several kernels share are inline helpers in ``_common.py``.
"""

from ._als import als_update_rows
from ._cd import cd_update_rows
from ._common import REG_COUNT, REG_NONE, REG_WEIGHT
from ._gibbs import gibbs_update_rows, standard_normals
from ._loss import (dot_pairs, fit_stats, gram, objective, objective_of_rows, penalty,
                    row_sq_errors)
from ._mu import mu_update_rows
from ._pgd import pgd_update_rows
from ._project import project_nonneg
from ._topk import topk_scored
from ._twins import SERIAL_BELOW, for_size, serial

__all__ = [
    "REG_NONE",
    "REG_COUNT",
    "REG_WEIGHT",
    "als_update_rows",
    "cd_update_rows",
    "gibbs_update_rows",
    "standard_normals",
    "mu_update_rows",
    "pgd_update_rows",
    "project_nonneg",
    "row_sq_errors",
    "dot_pairs",
    "fit_stats",
    "objective",
    "objective_of_rows",
    "gram",
    "penalty",
    "topk_scored",
    "serial",
    "for_size",
    "SERIAL_BELOW",
]

"""Tiny helpers that several kernels share, inlined into each caller.

``inline="always"`` inlines them at Numba's IR level, so the compiled loops are those
one would write by hand: the helpers cost no call and no speed.

Numba's on-disk cache (``cache=True``) is keyed on the file of the *calling* kernel: after
editing this file, delete the ``__pycache__`` folders of ``nmfrec/_kernels`` (or touch the
callers) so that cached kernels are recompiled with the new helpers.
"""

from numba import njit


@njit(inline="always")
def row_dot(x, Y, i, k):
    """``x[0:k] . Y[i, 0:k]``, summed over the components in order ``0..k-1``.

    Every score the package reports (``predict``, top-k) is this sum, in this order, so
    the same pair gets bitwise the same value everywhere. (Kernels compiled with
    ``FASTMATH``, the objective's among them, may re-associate it.)
    """
    s = 0.0
    for a in range(k):
        s += x[a] * Y[i, a]
    return s


@njit(inline="always")
def implicit_weights(x, alpha, preference_rating):
    """Confidence and weighted target of an observed entry with value ``x``.

    ``c = 1 + alpha * x`` and ``c * p``, the preference ``p`` being 1 (binary) or ``x``
    (``preference_rating``, Steck's weighted zeros).
    """
    c = 1.0 + alpha * x
    return c, (c * x if preference_rating else c)


#: How a row's penalties are scaled (the ``reg_scale`` argument of the row kernels):
#: not at all, by the row's number of observed entries, or by the total weight of the
#: row's cells in the objective (see :func:`penalty_scale`).
REG_NONE, REG_COUNT, REG_WEIGHT = 0, 1, 2


@njit(inline="always")
def penalty_scale(count, reg_scale, weight):
    """The factor r_u of a row's penalties.

    ``reg_scale`` is ``REG_NONE`` (1), ``REG_COUNT`` (``count``, the row's number of
    observed entries: ALS-WR) or ``REG_WEIGHT`` (``weight``, the total weight of the row's
    cells in the objective, which the caller computes from the row: its number of
    observed entries for explicit feedback; for implicit feedback the sum of the observed
    entries' confidences plus ``missing_weight`` for each unobserved cell, i.e.
    frequency-scaled regularization).
    """
    if reg_scale == REG_COUNT:
        return float(count)
    if reg_scale == REG_WEIGHT:
        return weight
    return 1.0


@njit(inline="always")
def row_weight(csum, count, n_cols, implicit, missing_weight):
    """The total weight of a row's cells: ``csum`` (the observed entries' confidences)
    plus ``missing_weight`` per unobserved cell (implicit), or ``count`` (explicit)."""
    if implicit:
        return csum + missing_weight * (n_cols - count)
    return float(count)


#: LLVM fast-math flags of the kernels whose long sums should vectorize: re-association
#: (a sum may be split into SIMD lanes) and fused multiply-add. No assumption about NaN or
#: infinity, so checks such as ``x <= 0.0`` keep their meaning. The order of operations
#: is fixed at compile time: results stay identical run to run and for any thread count.
FASTMATH = {"reassoc", "contract"}

#: Rows per parallel task in kernels that keep per-task work buffers: enough to amortise
#: the buffers. Task t takes rows t, t + n_tasks, t + 2 n_tasks, ... rather than a run of
#: consecutive rows: numba hands each thread one contiguous range of tasks, and rows
#: are often sorted by popularity (the first half of MovieLens 100K's items holds 87% of
#: its ratings), so consecutive runs would leave one thread most of the work.
ROWS_PER_TASK = 32

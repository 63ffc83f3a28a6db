"""Row updates of Bayesian NMF: one Gibbs draw, or the conditional mode, per row.

Row u's factors ``x`` (K values) given the other side's factors ``Y`` (rows ``y_i``) have,
under the model

    t_ui ~ N(x . y_i, 1/(tau a_u c_i)) on the observed entries,   x ~ N(m, Lambda^-1) (prior),

with a noise precision ``tau`` scaled by a weight ``a_u`` of the row and ``c_i`` of the
column (all ones: one noise level for every entry), the Gaussian conditional density with
precision and linear term

    P = tau a_u G + Lambda,   h = tau a_u b + Lambda m,
    G = sum_i c_i y_i y_i^T,  b = sum_i c_i t_ui y_i,

restricted to ``x_j >= 0`` for the non-negative coordinates (``kind[j] == 0``). Signed
coordinates (``kind[j] == 1``, the user and item offsets) are unrestricted; fixed ones
(``kind[j] == 2``, the constant columns paired with the other side's offsets) never move.
The caller passes ``Lambda`` (``prior_prec``) and ``Lambda m`` (``prior_lin``), with zero
rows and columns for fixed coordinates.

Coordinate j's conditional given the others is N((h_j - sum_{l != j} P_jl x_l) / P_jj,
1 / P_jj), truncated to [0, inf) for non-negative coordinates. ``sample=True`` draws each
coordinate from it in turn (``n_sweeps`` Gibbs sweeps over the row); ``sample=False`` sets
each coordinate to its conditional mode instead (coordinate descent, which converges to the
row's posterior mode: the MAP fold-in of new rows). The Gram matrix is formed once per row
(O(|Omega_u| K^2)), after which a sweep costs O(K^2) whatever the row's length.

Random numbers come from a counter-based generator (SplitMix64) whose stream for row u is
fixed by ``seed`` and u alone, so the draws do not depend on the number of threads.
Normal draws use both outputs of each Box-Muller pair; a normal truncated to ``[a, inf)``
is drawn by rejection from the normal when ``a < 0`` (acceptance above 1/2) and from
Robert's shifted exponential otherwise (acceptance above 0.76).

Speed: rows are handled in tasks of about ``ROWS_PER_TASK`` rows, task t taking rows t,
t + n_tasks, ... (see ``ROWS_PER_TASK``), that allocate their buffers once. A row's Gram matrix is the sum, over its entries, of the outer products
``y_i y_i^T`` of the other side's rows, computed once per call (their lower triangles, a (n_cols, K(K+1)/2) float64 array): one contiguous
vector add per entry. K is small, so this beats a BLAS product per row, whose call
costs more than its arithmetic.
"""

import math

import numpy as np
from numba import njit, prange

from ._common import FASTMATH, ROWS_PER_TASK

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_PI = 2.0 * math.pi
_U53 = 1.0 / 9007199254740992.0     # 2**-53


@njit(inline="always")
def _mix(z):
    """SplitMix64's finaliser: a bijective scramble of a 64-bit word."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def _uniform(state):
    """Next value of the stream ``state[0]``, uniform on (0, 1) (never 0 or 1)."""
    state[0] += _GOLDEN
    return (float(_mix(state[0]) >> np.uint64(11)) + 0.5) * _U53


@njit(inline="always")
def _normal(state, spare):
    """A standard normal draw (Box-Muller, both outputs used).

    ``spare`` is a 2-element float64 buffer: ``spare[0] != 0`` means ``spare[1]`` holds
    the second output of the last pair. Reset ``spare[0] = 0`` with a new stream.
    """
    if spare[0] != 0.0:
        spare[0] = 0.0
        return spare[1]
    rad = math.sqrt(-2.0 * math.log(_uniform(state)))
    ang = _TWO_PI * _uniform(state)
    spare[0] = 1.0
    spare[1] = rad * math.sin(ang)
    return rad * math.cos(ang)


@njit(inline="always")
def _normal_above(a, state, spare):
    """A standard normal draw conditioned on being >= ``a``.

    Rejection from the normal itself when ``a < 0`` (acceptance > 1/2), else from a
    shifted exponential with the optimal rate (Robert 1995, acceptance >= 0.76).
    """
    if a != a:
        return a        # NaN in, NaN out (the loops below would never end)
    if a < 0.0:
        while True:
            z = _normal(state, spare)
            if z >= a:
                return z
    rate = 0.5 * (a + math.sqrt(a * a + 4.0))
    while True:
        z = a - math.log(_uniform(state)) / rate
        d = z - rate
        if _uniform(state) <= math.exp(-0.5 * d * d):
            return z


@njit(inline="always")
def _start_stream(state, spare, seed, row):
    """Set ``state`` to the random stream of one row (and forget any spare normal)."""
    state[0] = _mix(np.uint64(seed) ^ (np.uint64(row) * _GOLDEN))
    spare[0] = 0.0


@njit(parallel=True, cache=True, fastmath=FASTMATH)
def gibbs_update_rows(indptr, indices, data, X, Y, tau, prior_prec, prior_lin, kind,
                      n_sweeps, sample, seed, tol, out_sse, row0=0, weighted=True):
    """Update every row of ``X`` given ``Y``: Gibbs draws or conditional modes (in place).

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the rows of ``X`` (or the CSC arrays, for the
        rows of ``Y^T``); ``data`` are the targets t.
    X : (n_rows, K + 1) C-contiguous float array; columns 0..K-1 the factors, mutated;
        column K the rows' noise weights a_u (read only).
    Y : (n_cols, K + 1) C-contiguous float array, read only; column K the columns' noise
        weights c_i. (The weights travel with the factors, so that a block of rows that
        sees only some columns, as on Spark, has their weights too.)
    tau : float > 0, noise precision.
    prior_prec : (K, K) float64, the prior precision Lambda (symmetric, zero on fixed
        coordinates, positive diagonal on the others).
    prior_lin : (K,) float64, Lambda m.
    kind : (K,) int8, 0 non-negative, 1 signed, 2 fixed.
    n_sweeps : int, coordinate sweeps per row (at most, when not sampling).
    sample : bool, draw (True) or take the conditional mode (False).
    tol : float, without sampling: a row's sweeps end once no coordinate moved by more
        than ``tol`` times the row's largest value.
    seed : uint64, the random stream of this call (each row has its own stream, fixed by
        ``seed`` and the row's index).
    out_sse : (n_rows, 2) float64, receives each row's sums of squared residuals after the
        update: ``sum_i (t_ui - x_u . y_i)^2`` and ``sum_i c_i (t_ui - x_u . y_i)^2``.
    row0 : int, the global index of the first row: row u's stream is that of row
        ``row0 + u``, so a block of rows [row0, row0 + n_rows) draws exactly what the
        whole matrix's call draws for them (how a distributed fit reproduces a local one).
    weighted : bool, whether the noise weights scale the precisions of the update (else
        every entry has precision ``tau``); ``out_sse``'s weighted sums use the column
        weights either way.
    """
    n_rows = X.shape[0]
    k = prior_prec.shape[0]
    if X.shape[1] != k + 1 or Y.shape[1] != k + 1:
        raise ValueError("X and Y need K + 1 columns: the factors and a noise weight")
    n_cols = Y.shape[0]
    # Z[i] = the lower triangle of y_i y_i^T, row by row: a row's Gram matrix is then the
    # sum of its entries' Z rows, one contiguous vector add per entry
    nz = k * (k + 1) // 2
    Z = np.empty((n_cols, nz))
    for i in range(n_cols):      # n_cols * K(K+1)/2 products: not worth a parallel region
        z = 0
        for a in range(k):
            ya = np.float64(Y[i, a])
            for c in range(a + 1):
                Z[i, z] = ya * Y[i, c]
                z += 1
    n_tasks = (n_rows + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for task in prange(n_tasks):
        g = np.empty(nz)
        G = np.empty((k, k))
        P = np.empty((k, k))
        b = np.empty(k)
        x = np.empty(k)
        r = np.empty(k)
        state = np.empty(1, dtype=np.uint64)
        spare = np.empty(2)
        for u in range(task, n_rows, n_tasks):       # rows task, task + n_tasks, ...
            _start_stream(state, spare, seed, row0 + u)
            # the row's Gram matrix G = sum y y^T and linear term b = sum t y
            g[:] = 0.0
            b[:] = 0.0
            for p in range(indptr[u], indptr[u + 1]):
                i = indices[p]
                ci = np.float64(Y[i, k]) if weighted else 1.0
                tp = np.float64(data[p])
                ct = ci * tp
                for a in range(k):
                    b[a] += ct * Y[i, a]
                if weighted:
                    for z in range(nz):
                        g[z] += ci * Z[i, z]
                else:
                    for z in range(nz):
                        g[z] += Z[i, z]
            z = 0
            for a in range(k):
                for c in range(a + 1):
                    G[a, c] = g[z]
                    G[c, a] = g[z]
                    z += 1
            for a in range(k):
                x[a] = X[u, a]
            # the conditional's precision P and r = h - P x, kept up to date after every move
            tu = tau * np.float64(X[u, k]) if weighted else tau
            for a in range(k):
                acc = tu * b[a] + prior_lin[a]
                for c in range(k):
                    P[a, c] = tu * G[a, c] + prior_prec[a, c]
                    acc -= P[a, c] * x[c]
                r[a] = acc
            for sweep in range(n_sweeps):
                max_d = 0.0
                max_x = 0.0
                for j in range(k):
                    if kind[j] == 2:
                        continue
                    pjj = P[j, j]
                    if pjj <= 0.0:
                        continue
                    mean = x[j] + r[j] / pjj
                    if sample:
                        sd = 1.0 / math.sqrt(pjj)
                        if kind[j] == 0:
                            new = mean + sd * _normal_above(-mean / sd, state, spare)
                        else:
                            new = mean + sd * _normal(state, spare)
                    else:
                        new = mean
                    if kind[j] == 0 and new < 0.0:
                        new = 0.0
                    d = new - x[j]
                    if d != 0.0:
                        x[j] = new
                        for a in range(k):
                            r[a] -= d * P[j, a]       # P is symmetric: row j
                    max_d = max(max_d, abs(d))
                    max_x = max(max_x, abs(new))
                if not sample and max_d <= tol * max_x:
                    break
            for a in range(k):
                X[u, a] = x[a]
            # the residuals, plain and weighted (directly: no cancellation)
            sse = 0.0
            wsse = 0.0
            for p in range(indptr[u], indptr[u + 1]):
                i = indices[p]
                e = np.float64(data[p])
                for a in range(k):
                    e -= x[a] * Y[i, a]
                sse += e * e
                wsse += np.float64(Y[i, k]) * e * e
            out_sse[u, 0] = sse
            out_sse[u, 1] = wsse


@njit(cache=True)
def standard_normals(seed, out):
    """Fill ``out`` (1-D float64) with standard normal draws from the stream ``seed``."""
    state = np.empty(1, dtype=np.uint64)
    spare = np.empty(2)
    _start_stream(state, spare, seed, 0)
    for t in range(out.shape[0]):
        out[t] = _normal(state, spare)


@njit(cache=True)
def normals_above(a, seed, out):
    """Fill ``out`` with standard normal draws conditioned on being >= ``a`` (a test aid)."""
    state = np.empty(1, dtype=np.uint64)
    spare = np.empty(2)
    _start_stream(state, spare, seed, 0)
    for t in range(out.shape[0]):
        out[t] = _normal_above(a, state, spare)

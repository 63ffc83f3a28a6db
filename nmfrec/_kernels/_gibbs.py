"""Row updates of Bayesian NMF: one Gibbs draw, or the conditional mode, per row.

Row u's factors ``x`` (K values) given the other side's factors ``Y`` (rows ``y_i``) have,
under the model

    t_ui ~ N(x . y_i, 1/tau) on the observed entries,   x ~ N(m, Lambda^-1) (prior),

the Gaussian conditional density with precision and linear term

    P = tau * G + Lambda,   h = tau * b + Lambda m,   G = sum_i y_i y_i^T,  b = sum_i t_ui y_i,

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
(O(|Omega_u| K^2), one BLAS product), after which a sweep costs O(K^2) whatever the row's
length.

Random numbers come from a counter-based generator (SplitMix64) whose stream for row u is
fixed by ``seed`` and u alone, so the draws do not depend on the number of threads.
"""

import math

import numpy as np
from numba import njit, prange

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
def _normal(state):
    """A standard normal draw (Box-Muller)."""
    return math.sqrt(-2.0 * math.log(_uniform(state))) * math.cos(_TWO_PI * _uniform(state))


@njit(inline="always")
def _normal_above(a, state):
    """A standard normal draw conditioned on being >= ``a``.

    Rejection from the normal itself when ``a < 0.5`` (acceptance >= 0.31), else from a
    shifted exponential with the optimal rate (Robert 1995, acceptance >= 0.76).
    """
    if a < 0.5:
        while True:
            z = _normal(state)
            if z >= a:
                return z
    rate = 0.5 * (a + math.sqrt(a * a + 4.0))
    while True:
        z = a - math.log(_uniform(state)) / rate
        d = z - rate
        if _uniform(state) <= math.exp(-0.5 * d * d):
            return z


@njit(cache=True)
def row_stream(seed, row):
    """The random stream of one row: a one-element uint64 state."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = _mix(np.uint64(seed) ^ (np.uint64(row) * _GOLDEN))
    return state


@njit(parallel=True, cache=True)
def gibbs_update_rows(indptr, indices, data, X, Y, tau, prior_prec, prior_lin, kind,
                      n_sweeps, sample, seed, tol, out_sse):
    """Update every row of ``X`` given ``Y``: Gibbs draws or conditional modes (in place).

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the rows of ``X`` (or the CSC arrays, for the
        rows of ``Y^T``); ``data`` are the targets t.
    X : (n_rows, K) C-contiguous float array, mutated.
    Y : (n_cols, K) C-contiguous float array, read only.
    tau : float > 0, noise precision.
    prior_prec : (K, K) float64, the prior precision Lambda (symmetric, zero on fixed
        coordinates, positive diagonal on the others).
    prior_lin : (K,) float64, Lambda m.
    kind : (K,) int8, 0 non-negative, 1 signed, 2 fixed.
    n_sweeps : int, coordinate sweeps per row (at most, when not sampling).
    sample : bool, draw (True) or take the conditional mode (False).
    tol : float, without sampling: a row's sweeps end once no coordinate moved by more
        than ``tol`` times the row's largest value.
    seed : uint64, the random stream of this call (row u uses ``row_stream(seed, u)``).
    out_sse : (n_rows,) float64, receives each row's sum of squared residuals after the
        update, ``sum_i (t_ui - x_u . y_i)^2``.
    """
    n_rows, k = X.shape
    for u in prange(n_rows):
        start = indptr[u]
        cnt = indptr[u + 1] - start
        state = row_stream(seed, u)
        # the row's Gram matrix and linear term: one BLAS product on the gathered rows
        # (the caller caps BLAS at one thread inside this parallel loop)
        Ys = np.empty((cnt, k))
        t = np.empty(cnt)
        for p in range(cnt):
            i = indices[start + p]
            t[p] = data[start + p]
            for a in range(k):
                Ys[p, a] = Y[i, a]
        G = Ys.T @ Ys
        b = Ys.T @ t
        tt = 0.0
        for p in range(cnt):
            tt += t[p] * t[p]
        x = np.empty(k)
        for a in range(k):
            x[a] = X[u, a]
        # the conditional's precision P and r = h - P x, kept up to date after every move
        P = np.empty((k, k))
        r = np.empty(k)
        for a in range(k):
            acc = tau * b[a] + prior_lin[a]
            for c in range(k):
                P[a, c] = tau * G[a, c] + prior_prec[a, c]
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
                        new = mean + sd * _normal_above(-mean / sd, state)
                    else:
                        new = mean + sd * _normal(state)
                else:
                    new = mean
                if kind[j] == 0 and new < 0.0:
                    new = 0.0
                d = new - x[j]
                if d != 0.0:
                    x[j] = new
                    for a in range(k):
                        r[a] -= d * P[a, j]
                max_d = max(max_d, abs(d))
                max_x = max(max_x, abs(new))
            if not sample and max_d <= tol * max_x:
                break
        # sum_i (t - x.y)^2 = tt - 2 b.x + x'Gx
        bx = 0.0
        xgx = 0.0
        for a in range(k):
            bx += b[a] * x[a]
            acc = 0.0
            for c in range(k):
                acc += G[a, c] * x[c]
            xgx += x[a] * acc
            X[u, a] = x[a]
        sse = tt - 2.0 * bx + xgx
        out_sse[u] = sse if sse > 0.0 else 0.0


@njit(cache=True)
def standard_normals(seed, out):
    """Fill ``out`` (1-D float64) with standard normal draws from the stream ``seed``."""
    state = row_stream(seed, 0)
    for t in range(out.shape[0]):
        out[t] = _normal(state)

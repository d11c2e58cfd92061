"""Batched kernels for small symmetric (positive definite) matrices.

The symmetric eigendecomposition is the classic two-stage algorithm that Hersche
et al. 2020 (Section V-D) count for the matrix logarithm: Householder
tridiagonalization followed by the implicit QL/QR iteration with a Wilkinson
shift (the EISPACK ``tred2``/``tql2`` pair). For the 10-40 channel matrices of
EEG it is about 1.5-2x faster than numpy's per-matrix LAPACK call (measured on
22 x 22; LAPACK's blocked drivers are tuned for large matrices), has no per-call
overhead inside the fused kernels, and runs in parallel over the batch with
``prange``. The results agree with :func:`numpy.linalg.eigh` to
rounding (the test suite checks reconstruction and matrix functions). The small
matrix products around it (whitening ``P C P`` and ``V f(L) V^T``) are BLAS
``dgemm`` calls, 4-6x faster than loops at this size; the Python callers run the
kernels with BLAS limited to one thread (:func:`eegbin.kernels.threads.threads`).

Public internal API (used by :mod:`eegbin.features`): the codes ``FN_*`` of the
function applied to the eigenvalues, :func:`batch_funm`, :func:`batch_tangent_riemann`,
:func:`mean_logm_chunks`, :func:`inv_logdet_chunks` and :func:`first_asymmetric`.
They assume valid input (finite, square, C-contiguous float64); the Python
callers in :mod:`eegbin.features` validate it.

References
----------
Hersche et al. 2020, Section III-A (eq. 3) and Section V-D (EVD = Householder
transformation + QR decomposition with implicit Wilkinson shift).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "FN_EXP", "FN_INVSQRT", "FN_LOG", "FN_SQRT", "batch_funm", "batch_tangent_riemann", "first_asymmetric",
    "inv_logdet_chunks", "mean_logm_chunks",
]

# codes of the scalar function applied to the eigenvalues
FN_LOG, FN_SQRT, FN_INVSQRT, FN_EXP = 0, 1, 2, 3

_EPS = 2.0**-52


@njit(cache=True)
def first_asymmetric(A, rtol):
    """Index of the first matrix of ``A`` (N, n, n) with ``max |A - A^T| > rtol * max |A|``,
    or -1 if every matrix is symmetric to that tolerance (one pass, no temporary)."""
    N, n, _ = A.shape
    for b in range(N):
        amax = 0.0
        gap = 0.0
        for i in range(n):
            for j in range(n):
                amax = max(amax, abs(A[b, i, j]))
            for j in range(i + 1, n):
                gap = max(gap, abs(A[b, i, j] - A[b, j, i]))
        if gap > rtol * amax:
            return b
    return -1


@njit(cache=True, fastmath={"reassoc", "contract", "nsz"})
def _tred2(U, d, e):
    """Householder reduction of symmetric ``U`` to tridiagonal form (diagonal ``d``,
    sub-diagonal ``e``); ``U`` is overwritten by the TRANSPOSED orthogonal
    transformation (rows = basis vectors), so all inner loops run along rows."""
    n = U.shape[0]
    for j in range(n):
        d[j] = U[j, n - 1]
    for i in range(n - 1, 0, -1):
        scale = 0.0
        h = 0.0
        for k in range(i):
            scale += abs(d[k])
        if scale == 0.0:
            e[i] = d[i - 1]
            for j in range(i):
                d[j] = U[j, i - 1]
                U[j, i] = 0.0
                U[i, j] = 0.0
        else:
            for k in range(i):
                d[k] /= scale
                h += d[k] * d[k]
            f = d[i - 1]
            g = math.sqrt(h)
            if f > 0:
                g = -g
            e[i] = scale * g
            h = h - f * g
            d[i - 1] = f - g
            for j in range(i):
                e[j] = 0.0
            for j in range(i):
                f = d[j]
                U[i, j] = f
                g = e[j] + U[j, j] * f
                for k in range(j + 1, i):
                    g += U[j, k] * d[k]
                    e[k] += U[j, k] * f
                e[j] = g
            f = 0.0
            for j in range(i):
                e[j] /= h
                f += e[j] * d[j]
            hh = f / (h + h)
            for j in range(i):
                e[j] -= hh * d[j]
            for j in range(i):
                f = d[j]
                g = e[j]
                for k in range(j, i):
                    U[j, k] -= f * e[k] + g * d[k]
                d[j] = U[j, i - 1]
                U[j, i] = 0.0
        d[i] = h
    # accumulate the transformations
    for i in range(n - 1):
        U[i, n - 1] = U[i, i]
        U[i, i] = 1.0
        h = d[i + 1]
        if h != 0.0:
            for k in range(i + 1):
                d[k] = U[i + 1, k] / h
            for j in range(i + 1):
                g = 0.0
                for k in range(i + 1):
                    g += U[i + 1, k] * U[j, k]
                for k in range(i + 1):
                    U[j, k] -= g * d[k]
        for k in range(i + 1):
            U[i + 1, k] = 0.0
    for j in range(n):
        d[j] = U[j, n - 1]
        U[j, n - 1] = 0.0
    U[n - 1, n - 1] = 1.0
    e[0] = 0.0


@njit(cache=True)
def _tql2(Z, d, e):
    """Implicit QL with Wilkinson shift on the tridiagonal (``d``, ``e``);
    rotations are accumulated into the ROWS of ``Z`` (row k = eigenvector k)."""
    n = Z.shape[0]
    for i in range(1, n):
        e[i - 1] = e[i]
    e[n - 1] = 0.0
    f = 0.0
    tst1 = 0.0
    for l in range(n):  # noqa: E741
        tst1 = max(tst1, abs(d[l]) + abs(e[l]))
        m = l
        while m < n - 1:
            if abs(e[m]) <= _EPS * tst1:
                break
            m += 1
        if m > l:
            for _ in range(100):
                g = d[l]
                p = (d[l + 1] - g) / (2.0 * e[l])
                r = math.sqrt(p * p + 1.0)
                if p < 0:
                    r = -r
                d[l] = e[l] / (p + r)
                d[l + 1] = e[l] * (p + r)
                dl1 = d[l + 1]
                h = g - d[l]
                for i in range(l + 2, n):
                    d[i] -= h
                f += h
                p = d[m]
                c = 1.0
                c2 = c
                c3 = c
                el1 = e[l + 1]
                s = 0.0
                s2 = 0.0
                for i in range(m - 1, l - 1, -1):
                    c3 = c2
                    c2 = c
                    s2 = s
                    g = c * e[i]
                    h = c * p
                    r = math.sqrt(p * p + e[i] * e[i])
                    e[i + 1] = s * r
                    inv_r = 1.0 / r  # one division on the latency chain instead of two
                    s = e[i] * inv_r
                    c = p * inv_r
                    p = c * d[i] - s * g
                    d[i + 1] = h + s * (c * g + s * d[i])
                    zi = Z[i]
                    zi1 = Z[i + 1]
                    for k in range(n):  # contiguous rows: vectorized
                        h = zi1[k]
                        zi1[k] = s * zi[k] + c * h
                        zi[k] = c * zi[k] - s * h
                p = -s * s2 * c3 * el1 * e[l] / dl1
                e[l] = s * p
                d[l] = c * p
                if not abs(e[l]) > _EPS * tst1:
                    break
        d[l] = d[l] + f
        e[l] = 0.0


@njit(cache=True)
def _eigh_rows(A, Z, d, e):
    """Eigen-decomposition of symmetric ``A``: ``A = Z.T @ diag(d) @ Z``.

    ``Z`` (n, n) receives the eigenvectors as rows, ``d`` the eigenvalues (unsorted),
    ``e`` is workspace. ``A`` is not modified. The matrix is scaled by its largest
    absolute entry first, so the plane rotations never over- or underflow.
    """
    n = A.shape[0]
    amax = 0.0
    for i in range(n):
        for j in range(n):
            amax = max(amax, abs(A[i, j]))
    if amax == 0.0:
        amax = 1.0
    inv = 1.0 / amax
    for i in range(n):
        for j in range(n):
            Z[i, j] = A[i, j] * inv
    _tred2(Z, d, e)
    _tql2(Z, d, e)
    for i in range(n):
        d[i] *= amax


@njit(cache=True)
def _mirror_upper(A):
    """Copy the upper triangle of ``A`` to the lower one (exact symmetry)."""
    n = A.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            A[j, i] = A[i, j]


@njit(cache=True)
def _recompose(Z, fd, tmp, out):
    """out = Z.T @ diag(fd) @ Z (one BLAS product, symmetrized); tmp is scratch."""
    n = Z.shape[0]
    for k in range(n):
        for j in range(n):
            tmp[k, j] = fd[k] * Z[k, j]
    np.dot(Z.T, tmp, out)
    _mirror_upper(out)


@njit(cache=True)
def _apply_fn(d, fn, fd):
    """fd = f(d); log, sqrt and inverse sqrt of an eigenvalue <= 0 give NaN (no
    exception inside a parallel region: the caller checks the smallest eigenvalue)."""
    n = d.shape[0]
    for k in range(n):
        v = d[k]
        if fn != FN_EXP and not v > 0.0:
            fd[k] = np.nan
        elif fn == FN_LOG:
            fd[k] = math.log(v)
        elif fn == FN_SQRT:
            fd[k] = math.sqrt(v)
        elif fn == FN_INVSQRT:
            fd[k] = 1.0 / math.sqrt(v)
        else:
            fd[k] = math.exp(v)


@njit(cache=True)
def _sandwich(P, C, tmp, out):
    """out = P @ C @ P for symmetric P, C (n, n): two BLAS products, symmetrized."""
    np.dot(P, C, tmp)
    np.dot(tmp, P, out)
    _mirror_upper(out)


@njit(cache=True)
def _workspace(n):
    """Scratch arrays of one whitened-logarithm computation: tmp, W, Z, L, d, e, fd."""
    return (np.empty((n, n)), np.empty((n, n)), np.empty((n, n)), np.empty((n, n)),
            np.empty(n), np.empty(n), np.empty(n))


@njit(cache=True, parallel=True)
def _nb_eigh(A, W, Z):
    """Batched eigh: A (N, n, n) -> eigenvalues W (N, n) (unsorted), eigenvector
    rows Z (N, n, n), so that ``A[b] = Z[b].T @ diag(W[b]) @ Z[b]``."""
    N, n, _ = A.shape
    for b in prange(N):
        e = np.empty(n)
        _eigh_rows(A[b], Z[b], W[b], e)


@njit(cache=True, parallel=True)
def batch_funm(A, fn, out, minval):
    """Batched symmetric matrix function ``out[b] = V f(L) V^T`` of ``A[b]``.

    ``minval[b]`` receives the smallest eigenvalue (for positivity checks by the
    caller: the log/sqrt of a non-positive eigenvalue gives NaN)."""
    N, n, _ = A.shape
    for b in prange(N):
        tmp, _, Z, _, d, e, fd = _workspace(n)
        _eigh_rows(A[b], Z, d, e)
        minval[b] = d.min()
        _apply_fn(d, fn, fd)
        _recompose(Z, fd, tmp, out[b])


@njit(cache=True)
def _whiten_logm_one(P, C, ws):
    """ws[3] (L) = logm(P C P); returns the smallest eigenvalue of P C P."""
    tmp, W, Z, L, d, e, fd = ws
    _sandwich(P, C, tmp, W)
    _eigh_rows(W, Z, d, e)
    dmin = d.min()
    _apply_fn(d, FN_LOG, fd)
    _recompose(Z, fd, tmp, L)
    return dmin


@njit(cache=True)
def _upper_into(L, v):
    """v = upper(L): upper triangle row by row, off-diagonal times sqrt(2)."""
    n = L.shape[0]
    sqrt2 = math.sqrt(2.0)
    q = 0
    for r in range(n):
        v[q] = L[r, r]
        q += 1
        for s in range(r + 1, n):
            v[q] = sqrt2 * L[r, s]
            q += 1


@njit(cache=True, parallel=True)
def mean_logm_chunks(C, P, bands, chunk, partial, minval, vec):
    """Partial sums of whitened logarithms for the Riemannian mean iteration.

    C (N, K, n, n) covariances of K (band, window) slots; P (K, n, n) whitening
    of each slot; ``bands`` (A,) the active slots. For active slot a and chunk c of
    ``chunk`` consecutive trials: partial[a, c] = sum_i logm(P C[i] P) (summed in
    trial order). minval[a] receives the smallest whitened eigenvalue.
    If ``vec`` has shape (N, K, n (n + 1) / 2) (not (0, 0, 0)), vec[i, k] also
    receives upper(logm(P[k] C[i, k] P[k])) of every active slot: the tangent
    vectors at the current point, for free.
    """
    N, K, n, _ = C.shape
    A = bands.shape[0]
    write_vec = vec.shape[0] == N
    n_chunks = (N + chunk - 1) // chunk
    mins = np.empty(A * n_chunks)
    for item in prange(A * n_chunks):
        a = item // n_chunks
        c = item - a * n_chunks
        k = bands[a]
        ws = _workspace(n)
        L = ws[3]
        acc = partial[a, c]
        for i in range(n):
            for j in range(n):
                acc[i, j] = 0.0
        lo = np.inf
        for t in range(c * chunk, min(N, (c + 1) * chunk)):
            m = _whiten_logm_one(P[k], C[t, k], ws)
            lo = min(lo, m)
            for i in range(n):
                for j in range(n):
                    acc[i, j] += L[i, j]
            if write_vec:
                _upper_into(L, vec[t, k])
        mins[item] = lo
    for a in range(A):
        lo = np.inf
        for c in range(n_chunks):
            lo = min(lo, mins[a * n_chunks + c])
        minval[a] = lo


@njit(cache=True, parallel=True)
def batch_tangent_riemann(C, P, out, minval):
    """out[i, k] = upper(logm(P[k] C[i, k] P[k])) with sqrt(2) off-diagonal.

    C (N, K, n, n), P (K, n, n), out (N, K, n (n + 1) / 2), minval (N, K)."""
    N, K, n, _ = C.shape
    for item in prange(N * K):
        i = item // K
        k = item - i * K
        ws = _workspace(n)
        minval[i, k] = _whiten_logm_one(P[k], C[i, k], ws)
        _upper_into(ws[3], out[i, k])


@njit(cache=True, fastmath={"reassoc", "contract", "nsz"})
def _chol_inv_acc(A, L, X, acc):
    """acc += A^{-1} for SPD ``A`` (n, n) by Cholesky ``A = L L^T``, ``X = L^{-1}``
    and ``A^{-1} = X^T X`` (all loops along rows); returns log det A, or NaN when a
    pivot is not positive (``A`` not positive definite)."""
    n = A.shape[0]
    logdet = 0.0
    for i in range(n):
        for j in range(i + 1):
            v = A[i, j]
            for k in range(j):
                v -= L[i, k] * L[j, k]
            if i == j:
                if not v > 0.0:
                    return np.nan
                L[i, i] = math.sqrt(v)
                logdet += math.log(v)
            else:
                L[i, j] = v / L[j, j]
    for i in range(n):
        for c in range(n):
            X[i, c] = 0.0
        X[i, i] = 1.0
        for k in range(i):
            lik = L[i, k]
            for c in range(k + 1):
                X[i, c] -= lik * X[k, c]
        inv = 1.0 / L[i, i]
        for c in range(i + 1):
            X[i, c] *= inv
    for r in range(n):
        for a in range(r + 1):
            xa = X[r, a]
            for b in range(r + 1):
                acc[a, b] += xa * X[r, b]
    return logdet


@njit(cache=True, parallel=True)
def inv_logdet_chunks(C, chunk, partial, logdets):
    """Partial sums of inverses and log-determinants per slot and chunk of trials.

    C (N, K, n, n) SPD matrices; for slot k and chunk c of ``chunk`` consecutive
    trials: partial[k, c] = sum_i C[i, k]^{-1} and logdets[k, c] = sum_i log det
    C[i, k] (NaN if one of them is not positive definite).
    """
    N, K, n, _ = C.shape
    n_chunks = (N + chunk - 1) // chunk
    for item in prange(K * n_chunks):
        k = item // n_chunks
        c = item - k * n_chunks
        L = np.empty((n, n))
        X = np.empty((n, n))
        acc = partial[k, c]
        for i in range(n):
            for j in range(n):
                acc[i, j] = 0.0
        s = 0.0
        for t in range(c * chunk, min(N, (c + 1) * chunk)):
            s += _chol_inv_acc(C[t, k], L, X, acc)
        logdets[k, c] = s

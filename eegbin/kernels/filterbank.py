"""Fused filter-bank kernel: causal second-order-section filtering + covariance.

One ``prange`` iteration handles one trial: it transposes the trial once to a
time-major buffer and, for every band and temporal window, runs the cascaded
biquads of the band over the window (vectorized across channels, in the exact
arithmetic order of :func:`scipy.signal.sosfilt`, direct form II transposed, zero
initial state), and computes the regularized covariance ``(Y Y^T + reg I) /
(n_s - 1)`` of the filtered window with one single-threaded BLAS product. Only the
(n_channels, n_channels) result leaves the iteration: no filtered copy of the
input is ever materialized.

Public internal API (used by :mod:`eegbin.features`): :func:`filterbank_cov`,
which assumes valid input (C-contiguous float64 with canonical strides, see
:func:`c_contiguous`; windows inside the signal) that
:func:`eegbin.features.filterbank_covariances` validates, and :func:`c_contiguous`.

References
----------
Hersche et al. 2020, Section III-A, eq. (1) and Fig. 3 (band-pass filter bank,
regularized covariance per band).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["c_contiguous", "filterbank_cov"]


def c_contiguous(a, dtype=np.float64):
    """C-contiguous copy-if-needed with canonical strides.

    numpy calls an array with a size-1 axis C-contiguous whatever that axis's
    stride is, while numba's 'C' layout assumes canonical strides; normalize.
    """
    a = np.ascontiguousarray(a, dtype=dtype)
    canonical = tuple(int(np.prod(a.shape[k + 1 :], dtype=np.int64)) * a.itemsize for k in range(a.ndim))
    if a.strides != canonical:
        a = a.copy(order="C")  # fresh arrays have canonical strides
    return a


@njit(cache=True, inline="always")
def _sos_section(src, start, T, sos, s, z0, z1, dst):
    """Section ``s`` of ``sos`` over the time-major rows ``src[start:start+T]`` into
    ``dst[:T]`` (``dst`` may be ``src`` with ``start=0``: each value is read before
    it is written), all channels at once, zero initial state (workspace ``z0``, ``z1``).

    Same operations, in the same order, as scipy's ``_sosfilt`` (DF-II transposed),
    so each channel is filtered bit-for-bit like :func:`scipy.signal.sosfilt`.
    """
    b0 = sos[s, 0]
    b1 = sos[s, 1]
    b2 = sos[s, 2]
    a1 = sos[s, 4]
    a2 = sos[s, 5]
    for c in range(dst.shape[1]):
        z0[c] = 0.0
        z1[c] = 0.0
    for t in range(T):
        row_in = src[start + t]
        row_out = dst[t]
        for c in range(dst.shape[1]):
            x = row_in[c]
            y = b0 * x + z0[c]
            z0[c] = b1 * x - a1 * y + z1[c]
            z1[c] = b2 * x - a2 * y
            row_out[c] = y


@njit(cache=True)
def _sos_inplace(Y, T, sos):
    """Filter the first ``T`` rows of time-major ``Y`` (T, C) in place, all channels
    at once, with the cascaded sections ``sos`` (n_sections, 6); zero initial state
    (bit-for-bit :func:`scipy.signal.sosfilt`, see :func:`_sos_section`).
    """
    C = Y.shape[1]
    z0 = np.empty(C)
    z1 = np.empty(C)
    for s in range(sos.shape[0]):
        _sos_section(Y, 0, T, sos, s, z0, z1, Y)


@njit(cache=True)
def _cov_from_time_major(Y, T, reg, G, out):
    """out = (Y[:T]^T Y[:T] + reg I) / (T - 1) for time-major Y (>=T, C), with one
    BLAS ``dgemm`` into the workspace G (C, C) (the caller limits BLAS to one
    thread: this runs inside the parallel loop)."""
    C = Y.shape[1]
    np.dot(Y[:T].T, Y[:T], G)
    scale = 1.0 / (T - 1)
    for i in range(C):  # upper triangle mirrored: exactly symmetric
        out[i, i] = (G[i, i] + reg) * scale
        for j in range(i + 1, C):
            v = G[i, j] * scale
            out[i, j] = v
            out[j, i] = v


@njit(cache=True)
def _sos_first_section(Xt, start, T, sos, z0, z1, Y):
    """First section of ``_sos_inplace`` reading time-major ``Xt[start:start+T]``
    and writing ``Y[:T]`` (same arithmetic, so the cascade stays bit-exact)."""
    _sos_section(Xt, start, T, sos, 0, z0, z1, Y)


@njit(cache=True, parallel=True)
def filterbank_cov(X, sos, windows, reg, out):
    """Covariances of band-passed windows.

    X (n_trials, C, n_times) float64; sos (n_bands, n_sections, 6);
    windows (n_windows, 2) int64 [start, stop); out (n_trials, n_bands, n_windows, C, C).
    One parallel iteration per trial: the trial is transposed once to time-major;
    then for every band and window the first section filters it into a buffer,
    the other sections run in place (vectorized over channels), and the covariance
    is one BLAS product of the filtered window with itself.
    """
    n_trials, C, n_times = X.shape
    n_bands = sos.shape[0]
    n_sec = sos.shape[1]
    n_windows = windows.shape[0]
    t_max = 0
    for w in range(n_windows):
        t_max = max(t_max, windows[w, 1] - windows[w, 0])
    for i in prange(n_trials):
        Xt = np.empty((n_times, C))
        for t in range(n_times):
            for c in range(C):
                Xt[t, c] = X[i, c, t]
        Y = np.empty((t_max, C))
        G = np.empty((C, C))
        z0 = np.empty(C)
        z1 = np.empty(C)
        for b in range(n_bands):
            for w in range(n_windows):
                start = windows[w, 0]
                T = windows[w, 1] - start
                _sos_first_section(Xt, start, T, sos[b], z0, z1, Y)
                if n_sec > 1:
                    _sos_inplace(Y, T, sos[b, 1:])
                _cov_from_time_major(Y, T, reg, G, out[i, b, w])

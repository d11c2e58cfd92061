"""Fused filter-bank kernel: causal second-order-section filtering + covariance.

One ``prange`` iteration handles one (trial, band) pair: it copies each temporal
window of the trial into a small time-major buffer, runs the cascaded biquads of
the band over it (vectorized across channels, in the exact arithmetic order of
:func:`scipy.signal.sosfilt`, direct form II transposed, zero initial state), and
accumulates the regularized covariance ``(Y Y^T + reg I) / (n_s - 1)`` of the
filtered window. Only the (n_channels, n_channels) result leaves the iteration:
no filtered copy of the input is ever materialized.

The ``_nb_*`` function assumes valid input (C-contiguous float64, windows inside
the signal); :mod:`eegbin.features._filterbank` validates it.

References
----------
Hersche et al. 2020, Section III-A, eq. (1) and Fig. 3 (band-pass filter bank,
regularized covariance per band).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = []


@njit(cache=True)
def _sos_inplace(Y, T, sos):
    """Filter the first ``T`` rows of time-major ``Y`` (T, C) in place, all channels
    at once, with the cascaded sections ``sos`` (n_sections, 6); zero initial state.

    Same operations, in the same order, as scipy's ``_sosfilt`` (DF-II transposed),
    so each channel is filtered bit-for-bit like :func:`scipy.signal.sosfilt`.
    """
    C = Y.shape[1]
    z0 = np.empty(C)
    z1 = np.empty(C)
    for s in range(sos.shape[0]):
        b0 = sos[s, 0]
        b1 = sos[s, 1]
        b2 = sos[s, 2]
        a1 = sos[s, 4]
        a2 = sos[s, 5]
        for c in range(C):
            z0[c] = 0.0
            z1[c] = 0.0
        for t in range(T):
            row = Y[t]
            for c in range(C):
                x = row[c]
                y = b0 * x + z0[c]
                z0[c] = b1 * x - a1 * y + z1[c]
                z1[c] = b2 * x - a2 * y
                row[c] = y


@njit(cache=True, fastmath={"reassoc", "contract", "nsz", "arcp"})
def _cov_from_channel_major(Yc, T, reg, out):
    """out = (Yc[:, :T] Yc[:, :T]^T + reg I) / (T - 1) for channel-major Yc (C, >=T)."""
    C = Yc.shape[0]
    scale = 1.0 / (T - 1)
    for i in range(C):
        xi = Yc[i]
        for j in range(i, C):
            xj = Yc[j]
            acc = 0.0
            for t in range(T):
                acc += xi[t] * xj[t]
            if i == j:
                acc += reg
            v = acc * scale
            out[i, j] = v
            out[j, i] = v


@njit(cache=True, parallel=True)
def _nb_filterbank_cov(X, sos, windows, reg, out):
    """Covariances of band-passed windows.

    X (n_trials, C, n_times) float64; sos (n_bands, n_sections, 6);
    windows (n_windows, 2) int64 [start, stop); out (n_trials, n_bands, n_windows, C, C).
    """
    n_trials, C, _ = X.shape
    n_bands = sos.shape[0]
    n_windows = windows.shape[0]
    t_max = 0
    for w in range(n_windows):
        t_max = max(t_max, windows[w, 1] - windows[w, 0])
    for k in prange(n_trials * n_bands):
        i = k // n_bands
        b = k - i * n_bands
        Y = np.empty((t_max, C))
        Yc = np.empty((C, t_max))
        for w in range(n_windows):
            start = windows[w, 0]
            T = windows[w, 1] - start
            for t in range(T):
                for c in range(C):
                    Y[t, c] = X[i, c, start + t]
            _sos_inplace(Y, T, sos[b])
            for c in range(C):
                for t in range(T):
                    Yc[c, t] = Y[t, c]
            _cov_from_channel_major(Yc, T, reg, out[i, b, w])

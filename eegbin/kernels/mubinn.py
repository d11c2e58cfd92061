"""Fused MuBiNN LSTM recurrence: one numba call per layer (a fast path).

The reference is the numpy recurrence :func:`eegbin.nn.lstm_cell.lstm_recurrence`;
:func:`mubinn_recurrence` computes the same cell for the quantizations it supports
(tested equal to it, exact ties included): the hidden state ``h_{t-1}`` multi-level
binarized into packed sign planes, the recurrent gate products by XNOR-popcount
against packed weight planes (MuBiNN eq. 9), sigmoid and tanh by piecewise-linear
tables, and any of the gate outputs ``i, f, g, o``, the cell state ``c_{t-1}`` and
``tanh(c_t)`` multi-level binarized before the element-wise products (eq. 5-6).
Parallel over the batch.

Algorithm 1 here (:func:`_mlb`) follows the rule of
:func:`eegbin.quantize.multilevel_binarize` step for step: ``Sign(0) = +1``, every
residual one subtraction of ``+-alpha`` (no product, so no fused multiply-add can
change it), run-time scales ``mean |r|`` summed left to right (then rounded to the
nearest power of two if asked), and the result ``sum_i alpha_i b_i`` accumulated in
level order. Given the same inputs and scales it returns the same bits as numpy.

Public internal API (for :mod:`eegbin.nn`): :data:`SIGNALS`, :func:`mubinn_recurrence`,
:func:`mlb_approximation_rows`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .bits import _ctpop

__all__ = ["SIGNALS", "mubinn_recurrence", "mlb_approximation_rows"]

#: The signals of the cell the kernel can binarize, in the order of its per-signal arrays.
SIGNALS = ("h", "i", "f", "g", "o", "c", "tanh_c")
_WORD = 64


@njit(cache=True, inline="always")
def _pow2_nearest(m):
    if m <= 0.0:
        return 0.0
    mant, exp = math.frexp(m)
    lo = math.ldexp(1.0, exp - 1)
    return 2.0 * lo if m >= 1.5 * lo else lo


@njit(cache=True, inline="always")
def _mlb(v, out, offset, n_levels, pow2, given, use_given, alphas, r, planes, pack):
    """Algorithm 1 on one vector: ``out <- offset + sum_i alpha_i b_i`` of ``v - offset``.

    ``out`` may be ``v``. The scales used are written to ``alphas``; with ``pack`` the
    signs are also written as packed words to ``planes`` (n_levels, n_words).
    """
    n = v.shape[0]
    for k in range(n):
        r[k] = v[k] - offset
        out[k] = 0.0
    for i in range(n_levels):
        if use_given:
            a = given[i]
        else:
            s = 0.0
            for k in range(n):  # left to right, as the numpy reference
                s += abs(r[k])
            a = s / n
            if pow2:
                a = _pow2_nearest(a)
        alphas[i] = a
        if pack:
            for w in range(planes.shape[1]):
                planes[i, w] = np.uint64(0)
        for k in range(n):
            if r[k] >= 0:
                if pack:
                    planes[i, k // _WORD] |= np.uint64(1) << np.uint64(k % _WORD)
                r[k] -= a
                out[k] += a
            else:
                r[k] += a
                out[k] -= a
    for k in range(n):
        out[k] = offset + out[k]


@njit(cache=True, inline="always")
def _pwl(z, lo, step, xp, fp):
    """np.interp(z, xp, fp) on a uniform grid, with numpy's exact arithmetic."""
    n = fp.shape[0] - 1
    if z < xp[0]:
        return fp[0]
    if z >= xp[n]:
        return fp[n]
    j = int((z - lo) / step)  # guess, then the index numpy's search finds
    if j > n - 1:
        j = n - 1
    while j > 0 and xp[j] > z:
        j -= 1
    while j < n - 1 and xp[j + 1] <= z:
        j += 1
    if xp[j] == z:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    return slope * (z - xp[j]) + fp[j]


@njit(cache=True)
def mlb_approximation_rows(x, offset, n_levels, pow2, given, use_given):
    """The kernel's Algorithm 1 on each row of ``x`` (2-D): ``offset + sum_i alpha_i b_i``.

    Exposed to test the fast path against :func:`eegbin.quantize.mlb.mlb_approximation`.
    """
    out = np.empty_like(x)
    r = np.empty(x.shape[1])
    alphas = np.empty(n_levels)
    planes = np.zeros((n_levels, 1), dtype=np.uint64)
    for b in range(x.shape[0]):
        _mlb(x[b], out[b], offset, n_levels, pow2, given, use_given, alphas, r, planes, False)
    return out


@njit(cache=True, parallel=True)
def mubinn_recurrence(gx, h0, c0, w_planes, w_scales, levels, given, use_given, pow2, offsets,
                      xp_s, fp_s, xp_t, fp_t):
    """Recurrence of one binarized LSTM layer.

    Parameters
    ----------
    gx : (B, T, 4H) float64
        Input products plus bias of every step.
    h0, c0 : (B, H) float64
        Initial states.
    w_planes : (L_w, 4H, n_words) uint64, w_scales : (L_w, 4H) float64
        Packed recurrent weight planes (rows of ``W_h``) and their per-row scales.
    levels : (7,) int64
        Levels of the signals :data:`SIGNALS`; 0 leaves a signal in float (``h``: >= 1).
    given : (7, max levels) float64, use_given : (7,) bool
        Static scales of each signal, used where ``use_given``.
    pow2 : (7,) bool
        Run-time scales rounded to powers of two.
    offsets : (7,) float64
        Each signal is binarized around its offset (0.5 for sigmoid outputs).
    xp_s, fp_s, xp_t, fp_t : float64
        Uniform piecewise-linear tables of the sigmoid and tanh.

    Returns
    -------
    out : (B, T, H) hidden states; c : (B, H) final cell states.
    """
    B, T, H4 = gx.shape
    lo_s, step_s = xp_s[0], (xp_s[-1] - xp_s[0]) / (xp_s.shape[0] - 1)
    lo_t, step_t = xp_t[0], (xp_t[-1] - xp_t[0]) / (xp_t.shape[0] - 1)
    H = H4 // 4
    Lh = levels[0]
    Lw = w_planes.shape[0]
    nw = w_planes.shape[2]
    wt = np.ascontiguousarray(w_planes.transpose(0, 2, 1))  # (W, n_words, 4H)
    out = np.empty((B, T, H))
    c_out = np.empty((B, H))
    for b in prange(B):
        h = h0[b].copy()
        c = c0[b].copy()
        hq = np.empty(H)
        r = np.empty(H)
        hp = np.zeros((Lh, nw), dtype=np.uint64)
        hs = np.empty(Lh)
        alphas = np.empty(given.shape[1])
        z = np.empty(H4)
        cnt = np.empty(H4, dtype=np.uint64)
        gates = np.empty((4, H))
        for t in range(T):
            # h_{t-1}: packed sign planes and per-level scales (Algorithm 1)
            _mlb(h, hq, offsets[0], Lh, pow2[0], given[0], use_given[0], hs, r, hp, True)
            # gate pre-activations: XNOR-popcount products (eq. 9); the loop over
            # the 4H gate rows is innermost and contiguous so LLVM vectorizes it
            for j in range(H4):
                z[j] = 0.0
            for i in range(Lh):
                for lw in range(Lw):
                    for j in range(H4):
                        cnt[j] = 0
                    for w in range(nw):
                        hv = hp[i, w]
                        row = wt[lw, w]
                        for j in range(H4):
                            cnt[j] += _ctpop(hv ^ row[j])
                    for j in range(H4):
                        z[j] += hs[i] * w_scales[lw, j] * (H - 2 * np.int64(cnt[j]))
            for j in range(H4):
                z[j] = gx[b, t, j] + z[j]
            for k in range(H):
                gates[0, k] = _pwl(z[k], lo_s, step_s, xp_s, fp_s)
                gates[1, k] = _pwl(z[H + k], lo_s, step_s, xp_s, fp_s)
                gates[2, k] = _pwl(z[2 * H + k], lo_t, step_t, xp_t, fp_t)
                gates[3, k] = _pwl(z[3 * H + k], lo_s, step_s, xp_s, fp_s)
            for s in range(4):  # i, f, g, o
                if levels[1 + s] > 0:
                    _mlb(gates[s], gates[s], offsets[1 + s], levels[1 + s], pow2[1 + s], given[1 + s],
                         use_given[1 + s], alphas, r, hp, False)
            if levels[5] > 0:
                _mlb(c, c, offsets[5], levels[5], pow2[5], given[5], use_given[5], alphas, r, hp, False)
            for k in range(H):
                c[k] = gates[1, k] * c[k] + gates[0, k] * gates[2, k]
                h[k] = _pwl(c[k], lo_t, step_t, xp_t, fp_t)
            if levels[6] > 0:
                _mlb(h, h, offsets[6], levels[6], pow2[6], given[6], use_given[6], alphas, r, hp, False)
            for k in range(H):
                h[k] = gates[3, k] * h[k]
                out[b, t, k] = h[k]
        for k in range(H):
            c_out[b, k] = c[k]
    return out, c_out

"""Fused numba kernel of a MuBiNN2 LSTM layer (private; reference: the numpy path).

One call runs the recurrence of a whole layer for a batch: per sample (parallel
over the batch) and time step, ``h_{t-1}`` is multi-level binarized into packed
sign planes, the recurrent gate products are XNOR-popcounts against the packed
weight planes (MuBiNN eq. 9), the activations are uniform piecewise-linear
tables, and the activation outputs and the cell state are multi-level
binarized before the element-wise products (eq. 5-6). Results equal
``MultiLevelBinarizedLSTM(engine="numpy")`` to float rounding (tested).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ..kernels.bits import _ctpop

_WORD = 64


@njit(cache=True, inline="always")
def _pow2_nearest(m):
    if m <= 0.0:
        return 0.0
    mant, exp = math.frexp(m)
    lo = math.ldexp(1.0, exp - 1)
    return 2.0 * lo if m >= 1.5 * lo else lo


@njit(cache=True, inline="always")
def _level_scale(r, pow2):
    """alpha = mean |r| (left-to-right sum), rounded to a power of two if ``pow2``."""
    s = 0.0
    for k in range(r.shape[0]):
        s += abs(r[k])
    a = s / r.shape[0]
    return _pow2_nearest(a) if pow2 else a


@njit(cache=True)
def _mlb_inplace(v, offset, n_levels, pow2, r, fixed, use_fixed):
    """v <- offset + MLB(v - offset), per-vector scales or the given ``fixed`` ones; r is scratch."""
    n = v.shape[0]
    for k in range(n):
        r[k] = v[k] - offset
        v[k] = 0.0
    for i in range(n_levels):
        a = fixed[i] if use_fixed else _level_scale(r, pow2)
        for k in range(n):
            if r[k] >= 0:
                r[k] -= a
                v[k] += a
            else:
                r[k] += a
                v[k] -= a
    for k in range(n):
        v[k] = offset + v[k]


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


@njit(cache=True, parallel=True)
def mubinn2_layer(gx, h0, c0, w_planes, w_scales, n_levels, pow2, xp_s, fp_s, xp_t, fp_t, fixed, use_fixed):
    """Recurrence of one MuBiNN2 layer.

    gx : (B, T, 4H) input products plus (binarized) bias; h0, c0 : (B, H) initial states;
    w_planes : (W, 4H, n_words) packed recurrent weight planes; w_scales : (W, 4H).
    fixed : (7, A) static scales of h, i, f, g, o, c, tanh(c), used if ``use_fixed``.
    Returns the hidden states (B, T, H) and the final cell states (B, H).
    """
    B, T, H4 = gx.shape
    lo_s, step_s = xp_s[0], (xp_s[-1] - xp_s[0]) / (xp_s.shape[0] - 1)
    lo_t, step_t = xp_t[0], (xp_t[-1] - xp_t[0]) / (xp_t.shape[0] - 1)
    H = H4 // 4
    Lw = w_planes.shape[0]
    nw = w_planes.shape[2]
    wt = np.ascontiguousarray(w_planes.transpose(0, 2, 1))  # (W, n_words, 4H)
    out = np.empty((B, T, H))
    c_out = np.empty((B, H))
    for b in prange(B):
        h = h0[b].copy()
        c = c0[b].copy()
        r = np.empty(H)
        hp = np.zeros((n_levels, nw), dtype=np.uint64)
        hs = np.empty(n_levels)
        z = np.empty(H4)
        cnt = np.empty(H4, dtype=np.uint64)
        gi = np.empty(H)
        gf = np.empty(H)
        gg = np.empty(H)
        go = np.empty(H)
        for t in range(T):
            # encode h_{t-1}: packed sign planes + per-level scales (Algorithm 1)
            for k in range(H):
                r[k] = h[k]
            for i in range(n_levels):
                a = fixed[0, i] if use_fixed else _level_scale(r, pow2)
                hs[i] = a
                for w in range(nw):
                    hp[i, w] = np.uint64(0)
                for k in range(H):
                    if r[k] >= 0:
                        hp[i, k // _WORD] |= np.uint64(1) << np.uint64(k % _WORD)
                        r[k] -= a
                    else:
                        r[k] += a
            # gate pre-activations: XNOR-popcount products (eq. 9); the loop over
            # the 4H gate rows is innermost and contiguous so LLVM vectorizes it
            for j in range(H4):
                z[j] = 0.0
            for i in range(n_levels):
                for l in range(Lw):
                    for j in range(H4):
                        cnt[j] = 0
                    for w in range(nw):
                        hv = hp[i, w]
                        row = wt[l, w]
                        for j in range(H4):
                            cnt[j] += _ctpop(hv ^ row[j])
                    for j in range(H4):
                        z[j] += hs[i] * w_scales[l, j] * (H - 2 * np.int64(cnt[j]))
            for j in range(H4):
                z[j] = gx[b, t, j] + z[j]
            for k in range(H):
                gi[k] = _pwl(z[k], lo_s, step_s, xp_s, fp_s)
                gf[k] = _pwl(z[H + k], lo_s, step_s, xp_s, fp_s)
                gg[k] = _pwl(z[2 * H + k], lo_t, step_t, xp_t, fp_t)
                go[k] = _pwl(z[3 * H + k], lo_s, step_s, xp_s, fp_s)
            _mlb_inplace(gi, 0.5, n_levels, pow2, r, fixed[1], use_fixed)
            _mlb_inplace(gf, 0.5, n_levels, pow2, r, fixed[2], use_fixed)
            _mlb_inplace(gg, 0.0, n_levels, pow2, r, fixed[3], use_fixed)
            _mlb_inplace(go, 0.5, n_levels, pow2, r, fixed[4], use_fixed)
            _mlb_inplace(c, 0.0, n_levels, pow2, r, fixed[5], use_fixed)
            for k in range(H):
                c[k] = gf[k] * c[k] + gi[k] * gg[k]
                h[k] = _pwl(c[k], lo_t, step_t, xp_t, fp_t)
            _mlb_inplace(h, 0.0, n_levels, pow2, r, fixed[6], use_fixed)
            for k in range(H):
                h[k] = go[k] * h[k]
                out[b, t, k] = h[k]
        for k in range(H):
            c_out[b, k] = c[k]
    return out, c_out

"""Fused MuBiNN2 LSTM layer through XNOR-popcount (MuBiNN Section IV-C, Fig. 3).

One call runs the recurrence of one layer for a whole batch, with every product
an XNOR-popcount of packed bit planes (:mod:`eegbin.kernels.xnor`, MuBiNN
eq. 9). Per sample and time step, with ``A`` activation levels:

1. ``x_t`` and ``h_{t-1}`` are multi-level binarized (Algorithm 1): residual
   ``r = v``; per level ``l`` the scale ``a_l`` is the given static scale or
   ``mean |r|`` (summed in unit order; optionally rounded to the nearest power
   of two), the plane is the sign of ``r`` (bit 1 where ``r >= 0``), and
   ``r <- r - a_l sign(r)``. The planes are packed once per step and serve all
   four gates.
2. ``z = (P_x + bias) + P_h``, with ``P_x``, ``P_h`` the scaled XNOR-popcount
   products of the input and hidden planes with the gate weights' planes (all
   ``4H`` gate rows in one pass).
3. ``i, f, o = PWL_sigmoid(z)``, ``g = PWL_tanh(z)`` (piecewise-linear tables
   on a uniform grid, evaluated as ``np.interp``); each is multi-level
   binarized, the sigmoid outputs around 0.5: ``v_hat = off + ((v - off) - r_A)``
   with ``r_A`` the final residual.
4. ``c_t = f_hat * c_hat + i_hat * g_hat`` with ``c_hat`` the binarized
   ``c_{t-1}``, and ``h_t = o_hat * MLB(PWL_tanh(c_t))`` (eq. 5-6).

Two layouts give bit-identical results: at batch < 8 the vector lanes are gate
rows and units of one sample (``_layer_rows``); at batch >= 8 they are 8
samples (``_layer_batch``), so every element-wise step, including the run-time
scale sums (each lane sums its own sample's units in order), is one vector
operation for 8 samples.

References
----------
MuBiNN, Section IV-C, Algorithm 1, eq. (5)-(6) and (9), Fig. 3.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numba import njit, prange

from ._simd import (
    absf,
    add,
    floor,
    fma,
    gather,
    ge,
    lane,
    load,
    lookup32,
    lt,
    mask_bits,
    mul,
    or_,
    popcount,
    select,
    splat_f64,
    splat_u64,
    store,
    sub,
    to_f64,
    to_i64,
    xor,
)
from .bits import _check_n_bits, _check_padding, _check_planes, _n_threads, _threads, n_words_for
from .xnor import _rows_into, left_operand, pad8, rows_operand

__all__ = ["SIGNALS", "lstm_gate_preactivations", "lstm_layer_operands", "mubinn2_lstm_layer"]

_WORD = 64
# rows of the ``static`` array: the binarized signals, in this order
SIGNALS = ("x", "h", "i", "f", "g", "o", "c", "tanh_c")


# ---------------------------------------------------------------------------
# scalar and vector building blocks
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _pow2_nearest(m):
    """Power of two nearest in value to m > 0 (0 for m <= 0)."""
    if m <= 0.0:
        return 0.0
    mant, exp = math.frexp(m)
    lo = math.ldexp(1.0, exp - 1)
    return 2.0 * lo if m >= 1.5 * lo else lo


@njit(cache=True, inline="always")
def _pwl_params(tab, fp, sl):
    """The table of ``_pwl`` as scalars and vectors, built once outside the loops."""
    return (tab[0], tab[1], tab[2], tab[3] - 1.0, tab[4], tab[5], tab[6], tab[3] <= 32.0,
            fp.ctypes.data, sl.ctypes.data,
            load(fp, 0), load(fp, 8), load(fp, 16), load(fp, 24),
            load(sl, 0), load(sl, 8), load(sl, 16), load(sl, 24),
            tab[7] != 0.0, -tab[0] * tab[2])


@njit(cache=True, inline="always")
def _pwl(z, P):
    """np.interp(z, xp, fp) on the uniform grid xp[j] = j * step + lo (8 lanes).

    ``P`` from ``_pwl_params``: the grid, the end values, and the values fp[j]
    and slopes sl[j] of the segments (computed as numpy does), in registers
    for tables of at most 32 segments. The segment is ``floor(z / step) - lo / step``
    exactly when the step is a power of two <= 1 and lo a multiple of it (the
    grids of ``pwl_table``); otherwise that guess is corrected against xp.
    """
    lo = splat_f64(P[0])
    step = splat_f64(P[1])
    top = splat_f64(P[3])
    zero = splat_f64(0.0)
    one = splat_f64(1.0)
    if P[18]:
        j = add(floor(mul(z, splat_f64(P[2]))), splat_f64(P[19]))
        j = select(lt(j, zero), zero, select(lt(top, j), top, j))
    else:
        j = floor(mul(sub(z, lo), splat_f64(P[2])))  # a guess, off by at most one
        j = select(lt(j, zero), zero, select(lt(top, j), top, j))
        jd = sub(j, one)
        j = select(lt(z, add(mul(j, step), lo)), select(lt(jd, zero), zero, jd), j)
        ju = add(j, one)
        ju = select(lt(top, ju), top, ju)
        j = select(ge(z, add(mul(ju, step), lo)), ju, j)
    xj = add(mul(j, step), lo)
    idx = to_i64(j)
    if P[7]:
        v = add(mul(lookup32(P[14], P[15], P[16], P[17], idx), sub(z, xj)), lookup32(P[10], P[11], P[12], P[13], idx))
    else:
        v = add(mul(gather(P[9], idx), sub(z, xj)), gather(P[8], idx))
    v = select(lt(z, lo), splat_f64(P[5]), v)
    return select(ge(z, splat_f64(P[4])), splat_f64(P[6]), v)


@njit(cache=True, inline="always")
def _step(r, a):
    """One level of Algorithm 1 on 8 lanes: r - a * sign(r) (sign(0) = +1)."""
    return sub(r, select(ge(r, splat_f64(0.0)), a, sub(splat_f64(0.0), a)))


@njit(cache=True, inline="always")
def _scale(s, n, pow2):
    a = s / n
    return _pow2_nearest(a) if pow2 else a


# ---------------------------------------------------------------------------
# rows layout: one sample at a time, lanes = units / gate rows
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _encode_rows(v, n, A, pow2, fixed, use_fixed, r, words, m2, nw):
    """Algorithm 1 on v[:n]: packed planes -> words (A * nw), -2 * scales -> m2; returns n * sum(scales).

    ``r`` is scratch of at least pad8(n) values.
    """
    for k in range(n):
        r[k] = v[k]
    for k in range(n, pad8(n)):
        r[k] = 0.0
    S = 0.0
    for level in range(A):
        if use_fixed:
            a = fixed[level]
        else:
            s = 0.0
            for k in range(n):
                s += abs(r[k])
            a = _scale(s, n, pow2)
        S += a
        m2[level] = -2.0 * a
        av = splat_f64(a)
        for w in range(nw):
            words[level * nw + w] = 0
        for k in range(0, n, 8):
            rv = load(r, k)
            bits = mask_bits(ge(rv, splat_f64(0.0)))
            if k + 8 > n:
                bits &= (np.uint64(1) << np.uint64(n - k)) - np.uint64(1)
            words[level * nw + k // _WORD] |= bits << np.uint64(k % _WORD)
            store(r, k, _step(rv, av))
    return float(n) * S


@njit(cache=True, parallel=True)
def _layer_rows(x, h0, c0, Wx, wsx, nwx, Wh, wsh, nwh, bias, A, pow2, static, use_static,
                tab_s, fp_s, sl_s, tab_t, fp_t, sl_t):
    B, T, D = x.shape
    H = h0.shape[1]
    H4 = 4 * H
    H8 = pad8(H)
    out = np.empty((B, T, H))
    c_out = np.empty((B, H))
    Ps = _pwl_params(tab_s, fp_s, sl_s)
    Pt = _pwl_params(tab_t, fp_t, sl_t)
    for b in prange(B):
        rx = np.zeros(pad8(D))
        xw = np.zeros(A * nwx, dtype=np.uint64)
        xm2 = np.zeros(A)
        hw = np.zeros(A * nwh, dtype=np.uint64)
        hm2 = np.zeros(A)
        z = np.zeros(pad8(H4) + 8)
        d = np.zeros((5, H8 + 8))  # v - offset of i, f, g, o, c
        r = np.zeros((5, H8 + 8))  # their residuals
        c = np.zeros(H8)
        h = np.zeros(H8)
        rt = np.zeros(H8)
        for k in range(H):
            c[k] = c0[b, k]
            h[k] = h0[b, k]
        hC = _encode_rows(h, H, A, pow2, static[1], use_static, rt, hw, hm2, nwh)
        for t in range(T):
            xC = _encode_rows(x[b, t], D, A, pow2, static[0], use_static, rx, xw, xm2, nwx)
            _rows_into(xw, xm2, xC, Wx, wsx, nwx, z, H4, bias, True)
            _rows_into(hw, hm2, hC, Wh, wsh, nwh, z, H4, z, True)
            half = splat_f64(0.5)
            for k in range(0, H, 8):
                di = sub(_pwl(load(z, k), Ps), half)
                df = sub(_pwl(load(z, H + k), Ps), half)
                dg = _pwl(load(z, 2 * H + k), Pt)
                do = sub(_pwl(load(z, 3 * H + k), Ps), half)
                dc = load(c, k)
                store(d, (0, k), di)
                store(d, (1, k), df)
                store(d, (2, k), dg)
                store(d, (3, k), do)
                store(d, (4, k), dc)
                store(r, (0, k), di)
                store(r, (1, k), df)
                store(r, (2, k), dg)
                store(r, (3, k), do)
                store(r, (4, k), dc)
            # five independent chains of Algorithm 1 (i, f, g, o, c), level by level
            for level in range(A):
                if use_static:
                    a0 = static[2, level]
                    a1 = static[3, level]
                    a2 = static[4, level]
                    a3 = static[5, level]
                    a4 = static[6, level]
                else:
                    s0 = 0.0
                    s1 = 0.0
                    s2 = 0.0
                    s3 = 0.0
                    s4 = 0.0
                    for k in range(H):
                        s0 += abs(r[0, k])
                        s1 += abs(r[1, k])
                        s2 += abs(r[2, k])
                        s3 += abs(r[3, k])
                        s4 += abs(r[4, k])
                    a0 = _scale(s0, H, pow2)
                    a1 = _scale(s1, H, pow2)
                    a2 = _scale(s2, H, pow2)
                    a3 = _scale(s3, H, pow2)
                    a4 = _scale(s4, H, pow2)
                for k in range(0, H, 8):
                    store(r, (0, k), _step(load(r, (0, k)), splat_f64(a0)))
                    store(r, (1, k), _step(load(r, (1, k)), splat_f64(a1)))
                    store(r, (2, k), _step(load(r, (2, k)), splat_f64(a2)))
                    store(r, (3, k), _step(load(r, (3, k)), splat_f64(a3)))
                    store(r, (4, k), _step(load(r, (4, k)), splat_f64(a4)))
            zero = splat_f64(0.0)
            for k in range(0, H, 8):
                ih = add(half, sub(load(d, (0, k)), load(r, (0, k))))
                fh = add(half, sub(load(d, (1, k)), load(r, (1, k))))
                gh = add(zero, sub(load(d, (2, k)), load(r, (2, k))))
                ch = add(zero, sub(load(d, (4, k)), load(r, (4, k))))
                cn = add(mul(fh, ch), mul(ih, gh))
                store(c, k, cn)
                tv = _pwl(cn, Pt)
                store(rt, k, tv)
                store(d, (2, k), tv)  # keep tanh(c) for the reconstruction
            for level in range(A):
                if use_static:
                    a = static[7, level]
                else:
                    s = 0.0
                    for k in range(H):
                        s += abs(rt[k])
                    a = _scale(s, H, pow2)
                for k in range(0, H, 8):
                    store(rt, k, _step(load(rt, k), splat_f64(a)))
            for k in range(0, H, 8):
                oh = add(half, sub(load(d, (3, k)), load(r, (3, k))))
                th = add(zero, sub(load(d, (2, k)), load(rt, k)))
                store(h, k, mul(oh, th))
            for k in range(H):
                out[b, t, k] = h[k]
            hC = _encode_rows(h, H, A, pow2, static[1], use_static, rt, hw, hm2, nwh)
        for k in range(H):
            c_out[b, k] = c[k]
    return out, c_out


# ---------------------------------------------------------------------------
# batch layout: lanes = 8 samples
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _lane_scales(R, n, pow2, scratch):
    """Per lane: mean |R[:n]| (units summed in order), optionally rounded to a power of two."""
    s = splat_f64(0.0)
    for k in range(n):
        s = add(s, absf(load(R, (k, 0))))
    for q in range(8):
        scratch[q] = _scale(lane(s, q), n, pow2)
    return load(scratch, 0)


@njit(cache=True, inline="always")
def _encode_batch(R, n, A, pow2, fixed, use_fixed, words, m2):
    """Algorithm 1 on the residual rows R[:n] (n, 8) in place; planes -> words (A * nw, 8).

    Per lane: -2 * scales -> m2 (A, 8); returns n * sum(scales) as 8 lanes.
    """
    nw = words.shape[0] // A
    S = splat_f64(0.0)
    for level in range(A):
        if use_fixed:
            av = splat_f64(fixed[level])
        else:
            av = _lane_scales(R, n, pow2, m2[level])
        S = add(S, av)
        store(m2, (level, 0), mul(splat_f64(-2.0), av))
        for w in range(nw):
            acc = splat_u64(0)
            for k in range(w * _WORD, min(n, (w + 1) * _WORD)):
                rv = load(R, (k, 0))
                m = ge(rv, splat_f64(0.0))
                acc = or_(acc, select(m, splat_u64(np.uint64(1) << np.uint64(k % _WORD)), splat_u64(0)))
                store(R, (k, 0), _step(rv, av))
            store(words, (level * nw + w, 0), acc)
    return mul(splat_f64(float(n)), S)


@njit(cache=True, inline="always")
def _count_batch(xw, xo, W, c, wo, nw):
    """popcount(words xo..xo+nw of 8 samples XOR words wo..wo+nw of weight row c)."""
    h = popcount(xor(load(xw, (xo, 0)), splat_u64(W[c, wo])))
    if nw > 1:
        h = add(h, popcount(xor(load(xw, (xo + 1, 0)), splat_u64(W[c, wo + 1]))))
        if nw > 2:
            h = add(h, popcount(xor(load(xw, (xo + 2, 0)), splat_u64(W[c, wo + 2]))))
            if nw > 3:
                h = add(h, popcount(xor(load(xw, (xo + 3, 0)), splat_u64(W[c, wo + 3]))))
                for k in range(4, nw):
                    h = add(h, popcount(xor(load(xw, (xo + k, 0)), splat_u64(W[c, wo + k]))))
    return h


@njit(cache=True, inline="always")
def _products4_batch(xw, m2, C, nw, W, ws, c, A, Lw):
    """Products of 8 samples' planes with weight rows c..c+3 (the rows layout's arithmetic per lane)."""
    a0 = splat_f64(0.0)
    a1 = a0
    a2 = a0
    a3 = a0
    for j in range(Lw):
        T0 = C
        T1 = C
        T2 = C
        T3 = C
        wo = j * nw
        for i in range(A):
            s = load(m2, (i, 0))
            xo = i * nw
            T0 = fma(s, to_f64(_count_batch(xw, xo, W, c, wo, nw)), T0)
            T1 = fma(s, to_f64(_count_batch(xw, xo, W, c + 1, wo, nw)), T1)
            T2 = fma(s, to_f64(_count_batch(xw, xo, W, c + 2, wo, nw)), T2)
            T3 = fma(s, to_f64(_count_batch(xw, xo, W, c + 3, wo, nw)), T3)
        a0 = fma(splat_f64(ws[j, c]), T0, a0)
        a1 = fma(splat_f64(ws[j, c + 1]), T1, a1)
        a2 = fma(splat_f64(ws[j, c + 2]), T2, a2)
        a3 = fma(splat_f64(ws[j, c + 3]), T3, a3)
    return a0, a1, a2, a3


@njit(cache=True, inline="always")
def _products_batch(xw, xm2, xC, nwx, Wx, wsx, hw, hm2, hC, nwh, Wh, wsh, bias, z, H4, A, Lw):
    """z[c] = (bias[c] + P_x[c]) + P_h[c] for every gate row c (H4 a multiple of 4), 8 samples per vector."""
    for c in range(0, H4, 4):
        x0, x1, x2, x3 = _products4_batch(xw, xm2, xC, nwx, Wx, wsx, c, A, Lw)
        h0, h1, h2, h3 = _products4_batch(hw, hm2, hC, nwh, Wh, wsh, c, A, Lw)
        store(z, (c, 0), add(add(splat_f64(bias[c]), x0), h0))
        store(z, (c + 1, 0), add(add(splat_f64(bias[c + 1]), x1), h1))
        store(z, (c + 2, 0), add(add(splat_f64(bias[c + 2]), x2), h2))
        store(z, (c + 3, 0), add(add(splat_f64(bias[c + 3]), x3), h3))


@njit(cache=True, inline="always")
def _resid(dv, a, q, levels):
    """Residual after ``levels`` steps of Algorithm 1 from d, with the scales a[m, q] (8 lanes)."""
    r = dv
    for m in range(levels):
        r = _step(r, load(a, (m, q, 0)))
    return r


@njit(cache=True, inline="always")
def _set_scales(a, level, q, s, n, pow2):
    """a[level, q] = per-lane mean of the |residual| sums s (optionally rounded to a power of two)."""
    for lane_ in range(8):
        a[level, q, lane_] = _scale(lane(s, lane_), n, pow2)


@njit(cache=True, parallel=True)
def _layer_batch(x, h0, c0, Wx, wsx, nwx, Wh, wsh, nwh, bias, A, pow2, static, use_static,
                 tab_s, fp_s, sl_s, tab_t, fp_t, sl_t):
    B, T, D = x.shape
    H = h0.shape[1]
    H4 = 4 * H
    Lw = wsx.shape[0]
    n_groups = (B + 7) // 8
    out = np.empty((B, T, H))
    c_out = np.empty((B, H))
    Ps = _pwl_params(tab_s, fp_s, sl_s)
    Pt = _pwl_params(tab_t, fp_t, sl_t)
    for g in prange(n_groups):
        b0 = g * 8
        nb = min(8, B - b0)
        R = np.zeros((max(D, H), 8))
        xw = np.zeros((A * nwx, 8), dtype=np.uint64)
        xm2 = np.zeros((A, 8))
        hw = np.zeros((A * nwh, 8), dtype=np.uint64)
        hm2 = np.zeros((A, 8))
        z = np.zeros((H4, 8))
        d = np.zeros((5, H, 8))  # i, f, g, o minus their offsets, and c
        dt = np.zeros((H, 8))  # tanh(c_t)
        oh = np.zeros((H, 8))  # o_hat
        c = np.zeros((H, 8))
        a = np.zeros((A, 6, 8))  # scales of i, f, g, o, c, tanh(c) per level and lane
        for level in range(A):
            for q in range(6):
                for lane_ in range(8):
                    a[level, q, lane_] = static[2 + q, level]
        for k in range(H):
            for q in range(nb):
                c[k, q] = c0[b0 + q, k]
                R[k, q] = h0[b0 + q, k]
        hC = _encode_batch(R, H, A, pow2, static[1], use_static, hw, hm2)
        half = splat_f64(0.5)
        zero = splat_f64(0.0)
        for t in range(T):
            for k in range(D):
                for q in range(nb):
                    R[k, q] = x[b0 + q, t, k]
            xC = _encode_batch(R, D, A, pow2, static[0], use_static, xw, xm2)
            _products_batch(xw, xm2, xC, nwx, Wx, wsx, hw, hm2, hC, nwh, Wh, wsh, bias, z, H4, A, Lw)
            # activations; the level-0 |residual| sums of i, f, g, o, c on the way
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            s4 = zero
            for k in range(H):
                di = sub(_pwl(load(z, (k, 0)), Ps), half)
                df = sub(_pwl(load(z, (H + k, 0)), Ps), half)
                dg = _pwl(load(z, (2 * H + k, 0)), Pt)
                do = sub(_pwl(load(z, (3 * H + k, 0)), Ps), half)
                dc = load(c, (k, 0))
                store(d, (0, k, 0), di)
                store(d, (1, k, 0), df)
                store(d, (2, k, 0), dg)
                store(d, (3, k, 0), do)
                store(d, (4, k, 0), dc)
                s0 = add(s0, absf(di))
                s1 = add(s1, absf(df))
                s2 = add(s2, absf(dg))
                s3 = add(s3, absf(do))
                s4 = add(s4, absf(dc))
            # Algorithm 1's run-time scales, level by level (each level's sums need the previous scales)
            if not use_static:
                for level in range(A):
                    if level > 0:
                        s0 = zero
                        s1 = zero
                        s2 = zero
                        s3 = zero
                        s4 = zero
                        for k in range(H):
                            s0 = add(s0, absf(_resid(load(d, (0, k, 0)), a, 0, level)))
                            s1 = add(s1, absf(_resid(load(d, (1, k, 0)), a, 1, level)))
                            s2 = add(s2, absf(_resid(load(d, (2, k, 0)), a, 2, level)))
                            s3 = add(s3, absf(_resid(load(d, (3, k, 0)), a, 3, level)))
                            s4 = add(s4, absf(_resid(load(d, (4, k, 0)), a, 4, level)))
                    _set_scales(a, level, 0, s0, H, pow2)
                    _set_scales(a, level, 1, s1, H, pow2)
                    _set_scales(a, level, 2, s2, H, pow2)
                    _set_scales(a, level, 3, s3, H, pow2)
                    _set_scales(a, level, 4, s4, H, pow2)
            # binarized gates and c_{t-1}; c_t; tanh(c_t) and the level-0 sum of its |residual|
            st = zero
            for k in range(H):
                di = load(d, (0, k, 0))
                df = load(d, (1, k, 0))
                dg = load(d, (2, k, 0))
                do = load(d, (3, k, 0))
                dc = load(d, (4, k, 0))
                ih = add(half, sub(di, _resid(di, a, 0, A)))
                fh = add(half, sub(df, _resid(df, a, 1, A)))
                gh = add(zero, sub(dg, _resid(dg, a, 2, A)))
                store(oh, (k, 0), add(half, sub(do, _resid(do, a, 3, A))))
                ch = add(zero, sub(dc, _resid(dc, a, 4, A)))
                cn = add(mul(fh, ch), mul(ih, gh))
                store(c, (k, 0), cn)
                tv = _pwl(cn, Pt)
                store(dt, (k, 0), tv)
                st = add(st, absf(tv))
            if not use_static:
                for level in range(A):
                    if level > 0:
                        st = zero
                        for k in range(H):
                            st = add(st, absf(_resid(load(dt, (k, 0)), a, 5, level)))
                    _set_scales(a, level, 5, st, H, pow2)
            # h_t = o_hat * MLB(tanh(c_t))
            for k in range(H):
                tv = load(dt, (k, 0))
                hv = mul(load(oh, (k, 0)), add(zero, sub(tv, _resid(tv, a, 5, A))))
                store(R, (k, 0), hv)
                for q in range(nb):
                    out[b0 + q, t, k] = lane(hv, q)
            hC = _encode_batch(R, H, A, pow2, static[1], use_static, hw, hm2)
        for k in range(H):
            for q in range(nb):
                c_out[b0 + q, k] = c[k, q]
    return out, c_out


# ---------------------------------------------------------------------------
# Python entry points
# ---------------------------------------------------------------------------


def _pwl_operands(table, name):
    xp, fp = (np.ascontiguousarray(a, dtype=np.float64) for a in table)
    n = xp.shape[0] - 1
    if xp.ndim != 1 or fp.shape != xp.shape or n < 1:
        raise ValueError(f"{name} must be (xp, fp), two 1-D arrays of the same length >= 2")
    lo, hi = xp[0], xp[-1]
    step = (hi - lo) / n
    if not (hi > lo) or not np.array_equal(xp[:-1], np.arange(n) * step + lo):
        raise ValueError(f"{name}: the breakpoints xp must be a uniform grid as np.linspace(lo, hi, n + 1) makes")
    slopes = np.zeros(max(32, n))  # padded for the 32-entry register look-up
    slopes[:n] = (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1])  # np.interp's slopes
    values = np.zeros(max(32, n + 1))
    values[: n + 1] = fp
    mant, _ = np.frexp(step)
    k0 = lo / step
    exact = mant == 0.5 and step <= 1.0 and k0 == np.floor(k0)  # see _pwl
    tab = np.array([lo, step, 1.0 / step, float(n), hi, fp[0], fp[-1], float(exact)])
    return tab, values, slopes


def _check_array(a, name, ndim, dtype=None):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if dtype is not None and a.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {a.dtype}")
    if dtype is None:
        if a.dtype == np.bool_ or a.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or Inf")
        a = a.astype(np.float64, copy=False)
    return np.ascontiguousarray(a)


def _check_weights(planes, scales, name, H4=None):
    planes = _check_array(planes, f"{name}_planes", 3, np.uint64)
    scales = _check_array(scales, f"{name}_scales", 2)
    W, rows, _ = planes.shape
    if scales.shape != (W, rows):
        raise ValueError(f"{name}_scales must have shape ({W}, {rows}) for {name}_planes of shape "
                         f"{planes.shape}, got {scales.shape}")
    if W < 1 or rows % 4 or (H4 is not None and rows != H4):
        expected = "4H gate rows (i, f, g, o)" if H4 is None else f"{H4} gate rows"
        raise ValueError(f"{name}_planes must hold at least one level of {expected}, got shape {planes.shape}")
    return planes, scales


def lstm_layer_operands(wx_planes, wx_scales, wh_planes, wh_scales, bias, n_inputs):
    """Lay out one layer's binarized weights for the XNOR LSTM kernels (once per model).

    Parameters
    ----------
    wx_planes : ndarray of uint64, shape (W, 4H, n_words(D))
        Packed bipolar planes of the input weights, gate rows in the order i, f, g, o.
    wx_scales : ndarray, shape (W, 4H)
        Their per-row scales.
    wh_planes : ndarray of uint64, shape (W, 4H, n_words(H))
        Packed planes of the recurrent weights.
    wh_scales : ndarray, shape (W, 4H)
    bias : ndarray, shape (4H,)
        Added to the input products (e.g. the binarized bias' reconstruction).
    n_inputs : int
        ``D``, the input features (bits per row of ``wx_planes``).

    Returns
    -------
    operands : tuple
        Opaque; pass it to :func:`mubinn2_lstm_layer` or :func:`lstm_gate_preactivations`.
    """
    wx_planes, wx_scales = _check_weights(wx_planes, wx_scales, "wx")
    H4 = wx_planes.shape[1]
    wh_planes, wh_scales = _check_weights(wh_planes, wh_scales, "wh", H4)
    if wh_planes.shape[0] != wx_planes.shape[0]:
        raise ValueError(f"wx_planes and wh_planes must have the same number of levels, got "
                         f"{wx_planes.shape[0]} and {wh_planes.shape[0]}")
    if wh_planes.shape[2] != n_words_for(H4 // 4):
        raise ValueError(f"wh_planes must pack H = {H4 // 4} bits per row in {n_words_for(H4 // 4)} words, "
                         f"got shape {wh_planes.shape}")
    bias = _check_array(bias, "bias", 1)
    if bias.shape != (H4,):
        raise ValueError(f"bias must have shape ({H4},), got {bias.shape}")
    D = _check_n_bits(n_inputs, wx_planes.shape[2], "n_inputs")
    _check_padding(wx_planes, D, "wx_planes")
    _check_padding(wh_planes, H4 // 4, "wh_planes")
    W, _, nwx = wx_planes.shape
    nwh = wh_planes.shape[2]
    Wx_r, wsx_r = rows_operand(wx_planes, wx_scales)
    Wh_r, wsh_r = rows_operand(wh_planes, wh_scales)
    Wx_b = np.ascontiguousarray(wx_planes.transpose(1, 0, 2).reshape(H4, W * nwx))
    Wh_b = np.ascontiguousarray(wh_planes.transpose(1, 0, 2).reshape(H4, W * nwh))
    bias_r = np.zeros(Wx_r.shape[1] + 8)
    bias_r[:H4] = bias
    return (Wx_r, wsx_r, Wh_r, wsh_r, Wx_b, Wh_b, wx_scales, wh_scales, bias_r, nwx, nwh, H4, D)


def _check_operands(operands):
    if not (isinstance(operands, tuple) and len(operands) == 13):
        raise TypeError("operands must be the tuple lstm_layer_operands returns")
    return operands


def _check_levels(n_levels):
    if isinstance(n_levels, (bool, np.bool_)) or not isinstance(n_levels, numbers.Integral) or n_levels < 1:
        raise ValueError(f"n_levels must be an integer >= 1, got {n_levels!r}")
    return int(n_levels)


@njit(cache=True, parallel=True)
def _gates_rows(X, xM2, xC, Hh, hM2, hC, Wx, wsx, nwx, Wh, wsh, nwh, bias, H4):
    B = X.shape[0]
    out = np.empty((B, pad8(H4) + 8))
    for b in prange(B):
        z = out[b]
        _rows_into(X[b], xM2[b], xC[b], Wx, wsx, nwx, z, H4, bias, True)
        _rows_into(Hh[b], hM2[b], hC[b], Wh, wsh, nwh, z, H4, z, True)
    return out


def lstm_gate_preactivations(x_planes, x_scales, h_planes, h_scales, operands, *, n_jobs=None):
    """Gate pre-activations ``z = (P_x + bias) + P_h`` of one LSTM step through XNOR-popcount.

    ``P_x`` and ``P_h`` are the multi-level products of the binarized ``x_t`` and
    ``h_{t-1}`` with the binarized gate weights (MuBiNN eq. 9), evaluated in the
    order of :func:`eegbin.kernels.multilevel_matmul` (bit-identical to it and to
    :func:`mubinn2_lstm_layer`). All four gates in one pass over the planes.

    Parameters
    ----------
    x_planes : ndarray of uint64, shape (A_x, B, n_words(D))
        Packed planes of the inputs (rows are samples).
    x_scales : ndarray, shape (A_x, B)
    h_planes : ndarray of uint64, shape (A_h, B, n_words(H))
    h_scales : ndarray, shape (A_h, B)
    operands : tuple
        From :func:`lstm_layer_operands`.
    n_jobs : int or None, default=None
        Threads over samples (None: 1, -1: all).

    Returns
    -------
    z : ndarray of float64, shape (B, 4H)
        Pre-activations of the gates i, f, g, o.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import lstm_layer_operands, lstm_gate_preactivations, pack_bits
    >>> w = pack_bits(np.ones((8, 3)))[None]                  # W = 1 level, 4H = 8 rows, D = 3
    >>> ops = lstm_layer_operands(w, np.ones((1, 8)), pack_bits(np.ones((8, 2)))[None],
    ...                           np.ones((1, 8)), np.zeros(8), n_inputs=3)
    >>> x = pack_bits(np.array([[1, -1, 1]]))[None]          # x_t = (1, -1, 1), scale 2
    >>> h = pack_bits(np.array([[1, 1]]))[None]              # h_{t-1} = (1, 1), scale 0.5
    >>> lstm_gate_preactivations(x, [[2.0]], h, [[0.5]], ops)[0, :2]
    array([3., 3.])

    References
    ----------
    MuBiNN, eq. (1)-(4) and (9).
    """
    Wx_r, wsx_r, Wh_r, wsh_r, _, _, _, _, bias_r, nwx, nwh, H4, D = _check_operands(operands)
    xp, xs = _check_planes(x_planes, x_scales, "x_planes", "x_scales")
    hp, hs = _check_planes(h_planes, h_scales, "h_planes", "h_scales")
    if xp.shape[2] != nwx or hp.shape[2] != nwh:
        raise ValueError(f"x_planes and h_planes must have {nwx} and {nwh} words per row (the weights'), "
                         f"got {xp.shape[2]} and {hp.shape[2]}")
    if xp.shape[1] != hp.shape[1]:
        raise ValueError(f"x_planes and h_planes must hold the same number of samples, got "
                         f"{xp.shape[1]} and {hp.shape[1]}")
    H = H4 // 4
    X, xM2, xC = left_operand(xp, xs, D)
    Hh, hM2, hC = left_operand(hp, hs, H)
    with _threads(_n_threads(n_jobs)):
        z = _gates_rows(X, xM2, xC, Hh, hM2, hC, Wx_r, wsx_r, nwx, Wh_r, wsh_r, nwh, bias_r, H4)
    return z[:, :H4]


def mubinn2_lstm_layer(x, h0, c0, operands, n_levels, power_of_two, sigmoid_table, tanh_table,
                       static_scales=None, *, n_jobs=None):
    """Run one MuBiNN2 LSTM layer over a batch of sequences (fused, XNOR-popcount).

    Every step as described in :mod:`eegbin.kernels.xnor_lstm`; the results equal
    a plain-numpy evaluation of the same equations (tests: bit for bit where the
    products are evaluated in the same order).

    Parameters
    ----------
    x : ndarray, shape (B, T, D)
        Input sequences (batch first).
    h0, c0 : ndarray, shape (B, H)
        Initial hidden and cell states.
    operands : tuple
        From :func:`lstm_layer_operands` (the weights' planes, scales and bias).
    n_levels : int
        ``A``: levels of every binarized activation (x, h, i, f, g, o, c, tanh(c)).
    power_of_two : bool
        Round run-time scales to the nearest power of two (ignored with static scales).
    sigmoid_table, tanh_table : tuple (xp, fp)
        Piecewise-linear tables on a uniform grid, as ``eegbin.nn.mubinn.pwl_table``
        makes (``np.linspace`` breakpoints); evaluated as ``np.interp``.
    static_scales : ndarray, shape (8, n_levels), optional
        Given scales of x, h, i, f, g, o, c and tanh(c) (in that order,
        :data:`SIGNALS`); default: computed per vector at run time.
    n_jobs : int or None, default=None
        Threads over samples (batch < 8) or groups of 8 samples (None: 1, -1: all).
        Results do not depend on it.

    Returns
    -------
    out : ndarray of float64, shape (B, T, H)
        Hidden states ``h_1 .. h_T``.
    c : ndarray of float64, shape (B, H)
        The last cell state.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import lstm_layer_operands, mubinn2_lstm_layer, pack_bits
    >>> rng = np.random.default_rng(0)
    >>> H, D = 4, 3
    >>> planes = lambda rows, n: pack_bits(np.where(rng.random((rows, n)) < 0.5, -1, 1))[None]
    >>> ops = lstm_layer_operands(planes(4 * H, D), np.full((1, 4 * H), 0.5),
    ...                           planes(4 * H, H), np.full((1, 4 * H), 0.5), np.zeros(4 * H), D)
    >>> xp = np.linspace(-8, 8, 33)
    >>> sig, tanh = (xp, 1 / (1 + np.exp(-xp))), (xp / 2, np.tanh(xp / 2))
    >>> out, c = mubinn2_lstm_layer(rng.normal(size=(2, 5, D)), np.zeros((2, H)), np.zeros((2, H)),
    ...                             ops, 2, False, sig, tanh)
    >>> out.shape, c.shape
    ((2, 5, 4), (2, 4))

    References
    ----------
    MuBiNN, Section IV-C, Algorithm 1, eq. (1)-(6) and (9), Fig. 3.
    """
    Wx_r, wsx_r, Wh_r, wsh_r, Wx_b, Wh_b, wsx, wsh, bias_r, nwx, nwh, H4, D = _check_operands(operands)
    H = H4 // 4
    x = _check_array(x, "x", 3)
    B, T = x.shape[:2]
    if x.shape[2] != D:
        raise ValueError(f"x must have {D} features per step (the input weights'), got shape {x.shape}")
    h0 = _check_array(h0, "h0", 2)
    c0 = _check_array(c0, "c0", 2)
    for name, s in (("h0", h0), ("c0", c0)):
        if s.shape != (B, H):
            raise ValueError(f"{name} must have shape ({B}, {H}), got {s.shape}")
    A = _check_levels(n_levels)
    ts, fs, ss = _pwl_operands(sigmoid_table, "sigmoid_table")
    tt, ft, st = _pwl_operands(tanh_table, "tanh_table")
    use_static = static_scales is not None
    if use_static:
        static = _check_array(static_scales, "static_scales", 2)
        if static.shape != (len(SIGNALS), A):
            raise ValueError(f"static_scales must have shape ({len(SIGNALS)}, {A}) (signals {SIGNALS}), "
                             f"got {static.shape}")
    else:
        static = np.zeros((len(SIGNALS), A))
    with _threads(_n_threads(n_jobs)):
        if B >= 8:
            return _layer_batch(x, h0, c0, Wx_b, wsx, nwx, Wh_b, wsh, nwh, bias_r, A, bool(power_of_two),
                                static, use_static, ts, fs, ss, tt, ft, st)
        return _layer_rows(x, h0, c0, Wx_r, wsx_r, nwx, Wh_r, wsh_r, nwh, bias_r, A, bool(power_of_two),
                           static, use_static, ts, fs, ss, tt, ft, st)

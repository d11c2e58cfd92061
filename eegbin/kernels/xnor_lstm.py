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
operation for 8 samples; ``x_t`` comes in and ``h_t`` goes out through 8 x 8
transposes in registers (``transpose8``), not one lane at a time.

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
    div,
    floor,
    fma,
    gather,
    ge,
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
    transpose8,
    xor,
)
from .bits import _check_planes, n_words_for
from .checks import check_int, check_packed, check_padding, check_real_array
from .threads import threads
from .xnor import _rows_into, left_operand, pad8, rows_operand

__all__ = ["SIGNALS", "is_uniform_grid", "lstm_gate_preactivations", "lstm_layer_operands", "mlb_approximation_rows",
           "mubinn2_lstm_layer"]

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
            tab[7] != 0.0, -tab[0] * tab[2], tab[7] != 0.0 and tab[3] <= 32.0 and tab[5] != 0.0)


@njit(cache=True, inline="always")
def _pwl(z, P):
    """np.interp(z, xp, fp) on the uniform grid xp[j] = j * step + lo (8 lanes).

    ``P`` from ``_pwl_params``: the grid, the end values, and the values fp[j]
    and slopes sl[j] of the segments (computed as numpy does), in registers
    for tables of at most 32 segments. The segment is ``floor(z / step) - lo / step``
    exactly when the step is a power of two <= 1 and lo a multiple of it (the
    grids of ``pwl_table``); otherwise that guess is corrected against xp.

    On such a grid, with the table in registers and ``fp[0] != 0``, below the
    grid ``z`` is raised to ``lo``: the first segment at its start gives
    ``fp[0] + slope * 0 = fp[0]``, np.interp's value, without a second select
    (with ``fp[0] = -0.0`` the sum would be +0.0, hence the condition); and
    ``xp[j] = j * step + lo`` is one fused multiply-add, ``j * step`` being exact.
    """
    lo = splat_f64(P[0])
    step = splat_f64(P[1])
    top = splat_f64(P[3])
    zero = splat_f64(0.0)
    one = splat_f64(1.0)
    if P[20]:
        zc = select(lt(z, lo), lo, z)
        j = add(floor(mul(zc, splat_f64(P[2]))), splat_f64(P[19]))
        j = select(lt(top, j), top, j)
        xj = fma(j, step, lo)
        idx = to_i64(j)
        v = add(mul(lookup32(P[14], P[15], P[16], P[17], idx), sub(zc, xj)), lookup32(P[10], P[11], P[12], P[13], idx))
        return select(ge(z, splat_f64(P[4])), splat_f64(P[6]), v)
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
def _level_scale(r, n, level, pow2, fixed, use_fixed):
    """Scale of one level of Algorithm 1 for the residual r[:n]: given, or mean |r| summed in order."""
    if use_fixed:
        return fixed[level]
    s = 0.0
    for k in range(n):
        s += abs(r[k])
    return _scale(s, n, pow2)


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
        a = _level_scale(r, n, level, pow2, fixed, use_fixed)
        S += a
        m2[level] = -2.0 * a
        av = splat_f64(a)
        for w in range(nw):
            word = np.uint64(0)  # in a register: or-ing into words[] chained the chunks through memory
            for k in range(w * _WORD, min(n, (w + 1) * _WORD), 8):
                rv = load(r, k)
                bits = mask_bits(ge(rv, splat_f64(0.0)))
                if k + 8 > n:
                    bits &= (np.uint64(1) << np.uint64(n - k)) - np.uint64(1)
                word |= bits << np.uint64(k % _WORD)
                store(r, k, _step(rv, av))
            words[level * nw + w] = word
    return float(n) * S


@njit(cache=True, inline="always")
def _signed(r, a):
    """+a where r >= 0, -a elsewhere (alpha_i b_i of Algorithm 1, 8 lanes)."""
    return select(ge(r, splat_f64(0.0)), a, sub(splat_f64(0.0), a))


@njit(cache=True, parallel=True)
def _layer_rows(x, gx, use_gx, h0, c0, Wx, wsx, nwx, Wh, wsh, nwh, bias, levels, offsets, pow2, given, use_given,
                tab_s, fp_s, sl_s, tab_t, fp_t, sl_t):
    """One sample at a time; lanes are gate rows (products) and units (element-wise)."""
    B, T, H4 = gx.shape[0], gx.shape[1], 4 * h0.shape[1]
    if not use_gx:
        B, T = x.shape[0], x.shape[1]
    D = x.shape[2]
    H = h0.shape[1]
    H8 = pad8(H)
    Ax = levels[0]
    Ah = levels[1]
    out = np.empty((B, T, H))
    c_out = np.empty((B, H))
    Ps = _pwl_params(tab_s, fp_s, sl_s)
    Pt = _pwl_params(tab_t, fp_t, sl_t)
    for b in prange(B):
        rx = np.zeros(pad8(D) + 8)
        xw = np.zeros(max(Ax, 1) * nwx, dtype=np.uint64)
        xm2 = np.zeros(max(Ax, 1))
        hw = np.zeros(Ah * nwh, dtype=np.uint64)
        hm2 = np.zeros(Ah)
        z = np.zeros(pad8(H4) + 8)
        r = np.zeros((6, H8 + 8))  # residuals of i, f, g, o, c, tanh(c) (their values - offsets)
        acc = np.zeros((6, H8 + 8))  # sum_i alpha_i b_i of each
        v = np.zeros((6, H8 + 8))  # the values themselves (signals left in float)
        c = np.zeros(H8)
        h = np.zeros(H8)
        rt = np.zeros(H8)
        a = _given_lanes(given)
        for k in range(H):
            c[k] = c0[b, k]
            h[k] = h0[b, k]
        hC = _encode_rows(h, H, Ah, pow2[1], given[1], use_given[1], rt, hw, hm2, nwh)
        for t in range(T):
            if use_gx:
                for k in range(H4):
                    z[k] = gx[b, t, k]
            else:
                xC = _encode_rows(x[b, t], D, Ax, pow2[0], given[0], use_given[0], rx, xw, xm2, nwx)
                _rows_into(xw, xm2, xC, Wx, wsx, nwx, z, H4, bias, True)
            _rows_into(hw, hm2, hC, Wh, wsh, nwh, z, H4, z, True)
            for k in range(0, H, 8):
                store(v, (0, k), _pwl(load(z, k), Ps))
                store(v, (1, k), _pwl(load(z, H + k), Ps))
                store(v, (2, k), _pwl(load(z, 2 * H + k), Pt))
                store(v, (3, k), _pwl(load(z, 3 * H + k), Ps))
                store(v, (4, k), load(c, k))
            _mlb_rows5(v, r, acc, a, H, levels, offsets, pow2, use_given)
            for k in range(0, H, 8):
                ih = _hat_rows(v, r, acc, a, 0, k, levels[2], offsets[2], use_given[2])
                fh = _hat_rows(v, r, acc, a, 1, k, levels[3], offsets[3], use_given[3])
                gh = _hat_rows(v, r, acc, a, 2, k, levels[4], offsets[4], use_given[4])
                ch = _hat_rows(v, r, acc, a, 4, k, levels[6], offsets[6], use_given[6])
                cn = add(mul(fh, ch), mul(ih, gh))
                store(c, k, cn)
                store(v, (5, k), _pwl(cn, Pt))
            if not use_given[7]:
                _mlb_rows1(v, r, acc, 5, H, levels[7], offsets[7], pow2[7], given[7], use_given[7])
            for k in range(0, H, 8):
                oh = _hat_rows(v, r, acc, a, 3, k, levels[5], offsets[5], use_given[5])
                store(h, k, mul(oh, _hat_rows(v, r, acc, a, 5, k, levels[7], offsets[7], use_given[7])))
            k = 0
            while k + 8 <= H:
                store(out, (b, t, k), load(h, k))
                k += 8
            for kk in range(k, H):
                out[b, t, kk] = h[kk]
            hC = _encode_rows(h, H, Ah, pow2[1], given[1], use_given[1], rt, hw, hm2, nwh)
        for k in range(H):
            c_out[b, k] = c[k]
    return out, c_out


@njit(cache=True, inline="always")
def _hat_rows(v, r, acc, a, q, k, L, off, fixed):
    """The value signal q passes on: off + sum_i alpha_i b_i, or itself if not binarized.

    With given scales (``fixed``) Algorithm 1 runs here, in registers, on the scales
    ``a[:L, q]`` (``_given_lanes``): no scale depends on the other units, so the
    residual and the sum need not go through memory (``_mlb_rows5`` skips the signal).
    The same operations in the same order as the stored passes, hence the same bits.
    """
    if L == 0:
        return load(v, (q, k))
    if fixed:
        return _approx(load(v, (q, k)), a, q, L, off)
    if q < 5:  # _mlb_rows5 left the last level to here: acc + alpha_L b_L, as _level_rows would sum it
        return add(splat_f64(off), add(load(acc, (q, k)), _signed(load(r, (q, k)), load(a, (L - 1, q, 0)))))
    return add(splat_f64(off), load(acc, (q, k)))


@njit(cache=True, inline="always")
def _given_lanes(given):
    """a[l, q] = the given scale of level l of signal 2 + q (i, f, g, o, c, tanh(c)) in 8 lanes."""
    a = np.zeros((given.shape[1], 6, 8))
    for q in range(6):
        for level in range(given.shape[1]):
            for lane_ in range(8):
                a[level, q, lane_] = given[2 + q, level]
    return a


@njit(cache=True, inline="always")
def _level_rows(r, acc, q, n, a):
    """One level of Algorithm 1 on the residual row q: acc += alpha b, r -= alpha b."""
    av = splat_f64(a)
    for k in range(0, n, 8):
        rv = load(r, (q, k))
        sv = _signed(rv, av)
        store(acc, (q, k), add(load(acc, (q, k)), sv))
        store(r, (q, k), sub(rv, sv))


@njit(cache=True, inline="always")
def _start_rows(v, r, acc, q, n, off):
    o = splat_f64(off)
    for k in range(0, n, 8):
        store(r, (q, k), sub(load(v, (q, k)), o))
        store(acc, (q, k), splat_f64(0.0))


@njit(cache=True, inline="always")
def _mlb_rows1(v, r, acc, q, n, L, off, pow2, fixed, use_fixed):
    """Algorithm 1 on the value row q (one chain of run-time sums)."""
    if L == 0:
        return
    _start_rows(v, r, acc, q, n, off)
    for level in range(L):
        _level_rows(r, acc, q, n, _level_scale(r[q], n, level, pow2, fixed, use_fixed))


@njit(cache=True, inline="always")
def _mlb_rows5(v, r, acc, a, n, levels, offsets, pow2, use_given):
    """Algorithm 1 on those of i, f, g, o and c (rows 0..4; signals 2..6) with run-time scales, the sums in one loop.

    The five sequential sums are independent: summing them in the same loop
    overlaps their latency chains (the bound at batch 1). The last level's scale
    goes to ``a[L - 1, q]`` and its step is left to ``_hat_rows`` (no pass
    storing residuals and sums that nothing reads again).
    """
    Lmax = 0
    for q in range(5):
        if levels[2 + q] > 0 and not use_given[2 + q]:  # given scales: in registers, see _hat_rows
            _start_rows(v, r, acc, q, n, offsets[2 + q])
            Lmax = max(Lmax, levels[2 + q])
    for level in range(Lmax):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        s4 = 0.0
        for k in range(n):
            s0 += abs(r[0, k])
            s1 += abs(r[1, k])
            s2 += abs(r[2, k])
            s3 += abs(r[3, k])
            s4 += abs(r[4, k])
        for q in range(5):
            sig = 2 + q
            if level < levels[sig] and not use_given[sig]:
                alpha = _scale((s0, s1, s2, s3, s4)[q], n, pow2[sig])
                if level < levels[sig] - 1:
                    _level_rows(r, acc, q, n, alpha)
                else:
                    for lane_ in range(8):
                        a[level, q, lane_] = alpha


# ---------------------------------------------------------------------------
# batch layout: lanes = 8 samples
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _lane_scales(R, n, pow2, scratch):
    """Per lane: mean |R[:n]| (units summed in order), optionally rounded to a power of two."""
    s = splat_f64(0.0)
    for k in range(n):
        s = add(s, absf(load(R, (k, 0))))
    return _lane_means(s, n, pow2, scratch)


@njit(cache=True, inline="always")
def _lane_means(s, n, pow2, scratch):
    """_scale per lane: s / n (one vector division, the same IEEE quotient), rounded to a power of two."""
    a = div(s, splat_f64(float(n)))
    if not pow2:
        return a
    store(scratch, 0, a)
    for q in range(8):
        scratch[q] = _pow2_nearest(scratch[q])
    return load(scratch, 0)


@njit(cache=True, inline="always")
def _encode_batch(R, n, A, pow2, fixed, use_fixed, words, m2):
    """Algorithm 1 on the residual rows R[:n] (n, 8) in place; planes -> words (A * nw, 8).

    Per lane: -2 * scales -> m2 (A, 8); returns n * sum(scales) as 8 lanes.
    """
    nw = words.shape[0] // max(A, 1)
    S = splat_f64(0.0)
    for level in range(A):
        if use_fixed:
            av = splat_f64(fixed[level])
        else:
            av = _lane_scales(R, n, pow2, m2[level])
        S = add(S, av)
        store(m2, (level, 0), mul(splat_f64(-2.0), av))
        for w in range(nw):
            bits = splat_u64(0)
            for k in range(w * _WORD, min(n, (w + 1) * _WORD)):
                rv = load(R, (k, 0))
                m = ge(rv, splat_f64(0.0))
                bits = or_(bits, select(m, splat_u64(np.uint64(1) << np.uint64(k % _WORD)), splat_u64(0)))
                store(R, (k, 0), _step(rv, av))
            store(words, (level * nw + w, 0), bits)
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
def _products_batch(xw, xm2, xC, nwx, Wx, wsx, hw, hm2, hC, nwh, Wh, wsh, bias, z, H4, Ax, Ah, Lw, use_gx):
    """z[c] = (bias[c] + P_x[c]) + P_h[c] (or z[c] + P_h[c] with given input products), 8 samples per vector."""
    for c in range(0, H4, 4):
        h0, h1, h2, h3 = _products4_batch(hw, hm2, hC, nwh, Wh, wsh, c, Ah, Lw)
        if use_gx:
            store(z, (c, 0), add(load(z, (c, 0)), h0))
            store(z, (c + 1, 0), add(load(z, (c + 1, 0)), h1))
            store(z, (c + 2, 0), add(load(z, (c + 2, 0)), h2))
            store(z, (c + 3, 0), add(load(z, (c + 3, 0)), h3))
        else:
            x0, x1, x2, x3 = _products4_batch(xw, xm2, xC, nwx, Wx, wsx, c, Ax, Lw)
            store(z, (c, 0), add(add(splat_f64(bias[c]), x0), h0))
            store(z, (c + 1, 0), add(add(splat_f64(bias[c + 1]), x1), h1))
            store(z, (c + 2, 0), add(add(splat_f64(bias[c + 2]), x2), h2))
            store(z, (c + 3, 0), add(add(splat_f64(bias[c + 3]), x3), h3))


@njit(cache=True, inline="always")
def _approx(v, a, q, L, off):
    """off + sum_i alpha_i b_i of v - off with the scales a[:L, q] (8 lanes); v itself if L == 0."""
    if L == 0:
        return v
    r = sub(v, splat_f64(off))
    acc = splat_f64(0.0)
    for m in range(L):
        sv = _signed(r, load(a, (m, q, 0)))
        acc = add(acc, sv)
        r = sub(r, sv)
    return add(splat_f64(off), acc)


@njit(cache=True, inline="always")
def _abs_resid(v, a, q, levels, off):
    """|residual| of v - off after ``levels`` steps of Algorithm 1 (8 lanes)."""
    r = sub(v, splat_f64(off))
    for m in range(levels):
        r = _step(r, load(a, (m, q, 0)))
    return absf(r)


@njit(cache=True, inline="always")
def _batch_scales(V, a, q, n, L, off, pow2, fixed, use_fixed, scratch):
    """The scales a[:L, q] of Algorithm 1 for the value rows V[q, :n] (each lane its own sample)."""
    for level in range(L):
        if use_fixed:
            for lane_ in range(8):
                a[level, q, lane_] = fixed[level]
        else:
            s = splat_f64(0.0)
            for k in range(n):
                s = add(s, _abs_resid(load(V, (q, k, 0)), a, q, level, off))
            store(a, (level, q, 0), _lane_means(s, n, pow2, scratch))


@njit(cache=True, inline="always")
def _from_samples(x, b0, nb, t, n, R):
    """R[:n, q] = x[b0 + q, t, :n] for the nb samples q of the group (8 x 8 blocks transposed in registers)."""
    k = 0
    if nb == 8:
        while k + 8 <= n:
            cols = transpose8(load(x, (b0, t, k)), load(x, (b0 + 1, t, k)), load(x, (b0 + 2, t, k)),
                              load(x, (b0 + 3, t, k)), load(x, (b0 + 4, t, k)), load(x, (b0 + 5, t, k)),
                              load(x, (b0 + 6, t, k)), load(x, (b0 + 7, t, k)))
            for j in range(8):
                store(R, (k + j, 0), cols[j])
            k += 8
    for kk in range(k, n):
        for q in range(nb):
            R[kk, q] = x[b0 + q, t, kk]


@njit(cache=True, inline="always")
def _to_samples(R, out, b0, nb, t, n):
    """out[b0 + q, t, :n] = R[:n, q] for the nb samples q of the group (8 x 8 blocks transposed in registers)."""
    k = 0
    if nb == 8:
        while k + 8 <= n:
            cols = transpose8(load(R, (k, 0)), load(R, (k + 1, 0)), load(R, (k + 2, 0)), load(R, (k + 3, 0)),
                              load(R, (k + 4, 0)), load(R, (k + 5, 0)), load(R, (k + 6, 0)), load(R, (k + 7, 0)))
            for q in range(8):
                store(out, (b0 + q, t, k), cols[q])
            k += 8
    for kk in range(k, n):
        for q in range(nb):
            out[b0 + q, t, kk] = R[kk, q]


@njit(cache=True, parallel=True)
def _layer_batch(x, gx, use_gx, h0, c0, Wx, wsx, nwx, Wh, wsh, nwh, bias, levels, offsets, pow2, given, use_given,
                 tab_s, fp_s, sl_s, tab_t, fp_t, sl_t):
    """Groups of 8 samples; the lanes are the samples."""
    B, T = gx.shape[0], gx.shape[1]
    if not use_gx:
        B, T = x.shape[0], x.shape[1]
    D = x.shape[2]
    H = h0.shape[1]
    H4 = 4 * H
    Lw = wsh.shape[0]
    Ax = levels[0]
    Ah = levels[1]
    Lmax = 1
    for q in range(8):
        Lmax = max(Lmax, levels[q])
    n_groups = (B + 7) // 8
    out = np.empty((B, T, H))
    c_out = np.empty((B, H))
    Ps = _pwl_params(tab_s, fp_s, sl_s)
    Pt = _pwl_params(tab_t, fp_t, sl_t)
    for g in prange(n_groups):
        b0 = g * 8
        nb = min(8, B - b0)
        R = np.zeros((max(D, H), 8))
        xw = np.zeros((max(Ax, 1) * nwx, 8), dtype=np.uint64)
        xm2 = np.zeros((max(Ax, 1), 8))
        hw = np.zeros((Ah * nwh, 8), dtype=np.uint64)
        hm2 = np.zeros((Ah, 8))
        z = np.zeros((H4, 8))
        V = np.zeros((6, H, 8))  # i, f, g, o, c_{t-1}, tanh(c_t)
        c = np.zeros((H, 8))
        a = np.zeros((Lmax, 6, 8))  # scales per level, signal and lane
        sc = np.zeros(8)
        xC = splat_f64(0.0)
        for k in range(H):
            for q in range(nb):
                c[k, q] = c0[b0 + q, k]
                R[k, q] = h0[b0 + q, k]
        hC = _encode_batch(R, H, Ah, pow2[1], given[1], use_given[1], hw, hm2)
        for t in range(T):
            if use_gx:
                for k in range(H4):
                    for q in range(nb):
                        z[k, q] = gx[b0 + q, t, k]
            else:
                _from_samples(x, b0, nb, t, D, R)
                xC = _encode_batch(R, D, Ax, pow2[0], given[0], use_given[0], xw, xm2)
            _products_batch(xw, xm2, xC, nwx, Wx, wsx, hw, hm2, hC, nwh, Wh, wsh, bias, z, H4, Ax, Ah, Lw, use_gx)
            for k in range(H):
                store(V, (0, k, 0), _pwl(load(z, (k, 0)), Ps))
                store(V, (1, k, 0), _pwl(load(z, (H + k, 0)), Ps))
                store(V, (2, k, 0), _pwl(load(z, (2 * H + k, 0)), Pt))
                store(V, (3, k, 0), _pwl(load(z, (3 * H + k, 0)), Ps))
                store(V, (4, k, 0), load(c, (k, 0)))
            for q in range(5):
                _batch_scales(V, a, q, H, levels[2 + q], offsets[2 + q], pow2[2 + q], given[2 + q],
                              use_given[2 + q], sc)
            for k in range(H):
                ih = _approx(load(V, (0, k, 0)), a, 0, levels[2], offsets[2])
                fh = _approx(load(V, (1, k, 0)), a, 1, levels[3], offsets[3])
                gh = _approx(load(V, (2, k, 0)), a, 2, levels[4], offsets[4])
                ch = _approx(load(V, (4, k, 0)), a, 4, levels[6], offsets[6])
                cn = add(mul(fh, ch), mul(ih, gh))
                store(c, (k, 0), cn)
                store(V, (5, k, 0), _pwl(cn, Pt))
            _batch_scales(V, a, 5, H, levels[7], offsets[7], pow2[7], given[7], use_given[7], sc)
            for k in range(H):
                oh = _approx(load(V, (3, k, 0)), a, 3, levels[5], offsets[5])
                hv = mul(oh, _approx(load(V, (5, k, 0)), a, 5, levels[7], offsets[7]))
                store(R, (k, 0), hv)
            _to_samples(R, out, b0, nb, t, H)
            hC = _encode_batch(R, H, Ah, pow2[1], given[1], use_given[1], hw, hm2)
        for k in range(H):
            for q in range(nb):
                c_out[b0 + q, k] = c[k, q]
    return out, c_out


@njit(cache=True)
def mlb_approximation_rows(x, offset, n_levels, pow2, given, use_given):
    """The kernels' Algorithm 1 on each row of ``x`` (2-D): ``offset + sum_i alpha_i b_i``.

    Exposed to test the fused layer's binarization against
    :func:`eegbin.quantize.mlb.mlb_approximation` (ties included).
    """
    n_rows, n = x.shape
    out = np.empty_like(x)
    v = np.zeros((1, pad8(n) + 8))
    r = np.zeros((1, pad8(n) + 8))
    acc = np.zeros((1, pad8(n) + 8))
    for row in range(n_rows):
        for k in range(n):
            v[0, k] = x[row, k]
        _mlb_rows1(v, r, acc, 0, n, n_levels, offset, pow2, given, use_given)
        for k in range(n):
            out[row, k] = offset + acc[0, k]
    return out


# ---------------------------------------------------------------------------
# Python entry points
# ---------------------------------------------------------------------------


def is_uniform_grid(xp):
    """True if the breakpoints are ``np.linspace(xp[0], xp[-1], len(xp))`` (what the kernels evaluate)."""
    xp = np.asarray(xp, dtype=np.float64)
    if xp.ndim != 1 or xp.shape[0] < 2 or not xp[-1] > xp[0]:
        return False
    n = xp.shape[0] - 1
    return bool(np.array_equal(xp[:-1], np.arange(n) * ((xp[-1] - xp[0]) / n) + xp[0]))


_PWL_OPERANDS = {}  # (xp bytes, fp bytes) -> _pwl_operands' result: laid out once per table, not per call


def _pwl_operands(table, name):
    xp, fp = (np.ascontiguousarray(a, dtype=np.float64) for a in table)
    n = xp.shape[0] - 1
    if xp.ndim != 1 or fp.shape != xp.shape or n < 1:
        raise ValueError(f"{name} must be (xp, fp), two 1-D arrays of the same length >= 2")
    key = (xp.tobytes(), fp.tobytes())
    operands = _PWL_OPERANDS.get(key)  # one lookup: another thread may clear the cache meanwhile
    if operands is None:
        operands = _pwl_layout(xp, fp, n, name)
        for a in operands:
            a.flags.writeable = False  # shared by every later call
        if len(_PWL_OPERANDS) >= 16:
            _PWL_OPERANDS.clear()
        _PWL_OPERANDS[key] = operands
    return operands


def _pwl_layout(xp, fp, n, name):
    """The kernels' operands of one table: grid scalars, values and slopes (see ``_pwl_params``)."""
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


def _check_array(a, name, ndim, packed=False):
    """Packed uint64 words, or finite reals as C-contiguous float64, of ``ndim`` dimensions."""
    if packed:
        return check_packed(a, name, ndim)
    if isinstance(a, np.ndarray) and a.dtype == np.bool_:
        raise TypeError(f"{name} must hold real numbers (integer or float), got dtype bool")
    return np.ascontiguousarray(check_real_array(a, name, ndim=ndim), dtype=np.float64)


def _check_weights(planes, scales, name, H4=None):
    planes = _check_array(planes, f"{name}_planes", 3, packed=True)
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
    D = check_int(n_inputs, "n_inputs", 0)
    if wx_planes.shape[2] != n_words_for(D):
        raise ValueError(f"wx_planes must pack n_inputs = {D} bits per row in {n_words_for(D)} words, "
                         f"got shape {wx_planes.shape}")
    check_padding(wx_planes, D, "wx_planes")
    check_padding(wh_planes, H4 // 4, "wh_planes")
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
    check_padding(xp, D, "x_planes")
    check_padding(hp, H, "h_planes")
    X, xM2, xC = left_operand(xp, xs, D)
    Hh, hM2, hC = left_operand(hp, hs, H)
    with threads(n_jobs):
        z = _gates_rows(X, xM2, xC, Hh, hM2, hC, Wx_r, wsx_r, nwx, Wh_r, wsh_r, nwh, bias_r, H4)
    return z[:, :H4]


def _signal_arrays(levels, offsets, power_of_two, static_scales):
    """Per-signal arrays of the kernels (order :data:`SIGNALS`), checked."""
    n = len(SIGNALS)
    if isinstance(levels, (str, bytes, numbers.Number, np.bool_)):  # one count for every signal
        levels = [check_int(levels, "levels", 0)] * n
    if len(levels) != n:
        raise ValueError(f"levels must be an integer or {n} integers (signals {SIGNALS}), got {levels!r}")
    lv = np.array([0 if v is None else v for v in levels])
    if lv.dtype.kind not in "iu" or (lv < 0).any():
        raise ValueError(f"levels must be integers >= 0 (0: the signal stays in float), got {levels!r}")
    if lv[1] < 1:
        raise ValueError("h must be binarized (levels[1] >= 1): its products with the gate weights are XNOR-popcounts")
    off = np.array([0.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.0, 0.0]) if offsets is None else np.asarray(offsets, float)
    if off.shape != (n,) or not np.isfinite(off).all() or off[0] != 0.0 or off[1] != 0.0:
        raise ValueError(f"offsets must be {n} finite numbers, 0 for x and h (their products have no offset)")
    p2 = np.zeros(n, dtype=bool)
    p2[:] = np.asarray(power_of_two, dtype=bool)
    given = np.zeros((n, max(1, int(lv.max()))))
    use_given = np.zeros(n, dtype=bool)
    if static_scales is not None:
        if len(static_scales) != n:
            raise ValueError(f"static_scales must hold {n} entries (None or the scales of a signal), got "
                             f"{len(static_scales)}")
        counts = lv.tolist()

        def bad_scales(k, got):
            return ValueError(f"static_scales[{k}] ({SIGNALS[k]}) must hold {counts[k]} finite scales, got {got!r}")

        for k, sc in enumerate(static_scales):
            if sc is None:
                continue
            sc = np.asarray(sc, dtype=np.float64)
            if sc.shape != (counts[k],):
                raise bad_scales(k, sc)
            given[k, : counts[k]] = sc
            use_given[k] = counts[k] > 0
        bad = np.flatnonzero(~np.isfinite(given).all(axis=1))  # one test for all signals (a call's fixed cost)
        if bad.size:
            raise bad_scales(int(bad[0]), static_scales[int(bad[0])])
    return lv.astype(np.int64), off, p2, given, use_given


def mubinn2_lstm_layer(x, h0, c0, operands, levels, sigmoid_table, tanh_table, *, offsets=None,
                       power_of_two=False, static_scales=None, gx=None, n_jobs=None):
    """Run one binarized (MuBiNN2) LSTM layer over a batch of sequences, fused, through XNOR-popcount.

    Every step as described in :mod:`eegbin.kernels.xnor_lstm`; each signal of
    :data:`SIGNALS` (x, h, i, f, g, o, c, tanh(c)) is binarized by Algorithm 1 with
    its own levels (0: left in float), offset, run-time or static scales, and passes
    on ``offset + sum_i alpha_i b_i`` (accumulated in level order). The results are
    those of a plain-numpy evaluation of the same equations with the products of
    :func:`eegbin.kernels.multilevel_matmul`, bit for bit (tested).

    Parameters
    ----------
    x : ndarray, shape (B, T, D)
        Input sequences (batch first); not read when ``gx`` is given.
    h0, c0 : ndarray, shape (B, H)
        Initial hidden and cell states.
    operands : tuple
        From :func:`lstm_layer_operands` (the weights' planes, scales and bias).
    levels : int or sequence of 8 int
        Levels of x, h, i, f, g, o, c, tanh(c); 0 leaves that signal in float
        (not x unless ``gx`` is given; never h).
    sigmoid_table, tanh_table : tuple (xp, fp)
        Piecewise-linear tables on a uniform grid (``np.linspace`` breakpoints,
        :func:`eegbin.nn.pwl_table`); evaluated as ``np.interp``.
    offsets : sequence of 8 float, optional
        Each signal is binarized around its offset; default 0.5 for the sigmoid
        outputs i, f, o and 0 otherwise (x and h must be 0).
    power_of_two : bool or sequence of 8 bool, default=False
        Round a signal's run-time scales to the nearest power of two.
    static_scales : sequence of 8 (None or ndarray), optional
        Given scales of a signal (its levels of them); None: computed at run time
        per vector (``mean |r|`` summed in unit order).
    gx : ndarray, shape (B, T, 4H), optional
        Input products plus bias of every step, computed elsewhere (e.g. float
        input weights); then ``x`` and the input weights are not used.
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
    ...                             ops, 2, sig, tanh)
    >>> out.shape, c.shape
    ((2, 5, 4), (2, 4))

    References
    ----------
    MuBiNN, Section IV-C, Algorithm 1, eq. (1)-(6) and (9), Fig. 3.
    """
    Wx_r, wsx_r, Wh_r, wsh_r, Wx_b, Wh_b, wsx, wsh, bias_r, nwx, nwh, H4, D = _check_operands(operands)
    H = H4 // 4
    lv, off, p2, given, use_given = _signal_arrays(levels, offsets, power_of_two, static_scales)
    use_gx = gx is not None
    if use_gx:
        gx = _check_array(gx, "gx", 3)
        if gx.shape[2] != H4:
            raise ValueError(f"gx must have {H4} gate inputs per step, got shape {gx.shape}")
        x = np.zeros((1, 1, D))
        B, T = gx.shape[:2]
    else:
        if lv[0] < 1:
            raise ValueError("x must be binarized (levels[0] >= 1) unless its products gx are given")
        x = _check_array(x, "x", 3)
        B, T = x.shape[:2]
        if x.shape[2] != D:
            raise ValueError(f"x must have {D} features per step (the input weights'), got shape {x.shape}")
        gx = np.zeros((1, 1, H4))
    h0 = _check_array(h0, "h0", 2)
    c0 = _check_array(c0, "c0", 2)
    for name, st in (("h0", h0), ("c0", c0)):
        if st.shape != (B, H):
            raise ValueError(f"{name} must have shape ({B}, {H}) (the batch of {'gx' if use_gx else 'x'}, the "
                             f"hidden size), got {st.shape}")
    ts, fs, ss = _pwl_operands(sigmoid_table, "sigmoid_table")
    tt, ft, st_ = _pwl_operands(tanh_table, "tanh_table")
    with threads(n_jobs):
        if B >= 8:
            return _layer_batch(x, gx, use_gx, h0, c0, Wx_b, wsx, nwx, Wh_b, wsh, nwh, bias_r, lv, off, p2, given,
                                use_given, ts, fs, ss, tt, ft, st_)
        return _layer_rows(x, gx, use_gx, h0, c0, Wx_r, wsx_r, nwx, Wh_r, wsh_r, nwh, bias_r, lv, off, p2, given,
                           use_given, ts, fs, ss, tt, ft, st_)

"""Scaled XNOR-popcount products of multi-level binarized operands (MuBiNN eq. 9).

One arithmetic, two data layouts. For a row ``x`` encoded with ``L_x`` packed
bipolar planes ``x_i`` and scales ``xs_i``, and a row ``w`` with ``L_w`` planes
``w_j`` and scales ``ws_j``, over ``n`` bits,

    x_hat . w_hat = sum_j ws_j * T_j,   T_j = n * S - 2 * sum_i xs_i * popcount(x_i XOR w_j),

with ``S = xs_0 + xs_1 + ...`` (summed in level order). Every product in
eegbin is evaluated in exactly this order, with one rounding per fused
multiply-add:

    T_j = fma(-2 xs_{L_x-1}, h_{L_x-1,j}, ... fma(-2 xs_0, h_0j, n * S))
    out = fma(ws_{L_w-1}, T_{L_w-1}, ... fma(ws_0, T_0, 0))

so :func:`eegbin.kernels.multilevel_matmul` and the fused LSTM kernel
(:mod:`eegbin.kernels.xnor_lstm`) give bit-identical numbers whichever layout
runs:

* **rows** (``_mm_rows``): the 8 lanes of a 512-bit vector are 8 rows of the
  right operand; the left row's words and scales are broadcast. Used by
  :func:`multilevel_matmul` and by the LSTM at small batch (the lanes are gate
  rows).
* **batch** (``_acc_batch``): the lanes are 8 rows of the left operand (8
  samples of a batch); the right row's words and scales are broadcast. Used by
  the LSTM at batch >= 8, whose element-wise work then runs on the same lanes.

Cost per 8 outputs and level pair, ``nw`` words per row: ``nw`` XOR, ``nw``
VPOPCNTQ (one port on Intel cores), ``nw - 1`` integer adds, one conversion and
one FMA. See ``docs/user_guide/binarized_speed.rst`` for what this means next to
float32 BLAS.

References
----------
MuBiNN, Algorithm 1 and eq. (9); Hersche et al. 2020, eq. (7)-(10).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._simd import add, fma, lane, load, popcount, splat_f64, splat_u64, store, to_f64, xor

__all__ = []


# ---------------------------------------------------------------------------
# operand preparation (plain numpy, once per call)
# ---------------------------------------------------------------------------


@njit(cache=True)
def pad8(n):
    """``n`` rounded up to a multiple of the 8 vector lanes."""
    return (n + 7) // 8 * 8


def level_sums(scales, n_bits):
    """``n_bits * (s_0 + s_1 + ...)`` per row, summed in level order; shape (rows,)."""
    S = np.zeros(scales.shape[1])
    for s in scales:
        S = S + s
    return float(n_bits) * S


def rows_operand(planes, scales):
    """Right operand of the rows layout: words (L * nw, m8) and scales (L, m8), zero padded.

    Row ``j * nw + k`` of the words holds word ``k`` of plane ``j`` of every row,
    so 8 consecutive rows are one vector load.
    """
    L, m, nw = planes.shape
    m8 = pad8(m)
    words = np.zeros((L * nw, m8), dtype=np.uint64)
    words[:, :m] = planes.transpose(0, 2, 1).reshape(L * nw, m)
    s = np.zeros((L, m8))
    s[:, :m] = scales
    return words, s


def left_operand(planes, scales, n_bits):
    """Left operand of the rows layout: words (n, L * nw), -2 * scales (n, L), n_bits * S (n,)."""
    L, n, nw = planes.shape
    words = np.ascontiguousarray(planes.transpose(1, 0, 2).reshape(n, L * nw))
    return words, np.ascontiguousarray(-2.0 * scales.T), level_sums(scales, n_bits)


# ---------------------------------------------------------------------------
# micro-kernels
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _count_rows(xr, xo, W, wo, c, nw):
    """popcount(x words xr[xo:xo+nw] XOR the 8 rows c..c+7 of W planes rows wo..wo+nw)."""
    h = popcount(xor(splat_u64(xr[xo]), load(W, (wo, c))))
    if nw > 1:
        h = add(h, popcount(xor(splat_u64(xr[xo + 1]), load(W, (wo + 1, c)))))
        if nw > 2:
            h = add(h, popcount(xor(splat_u64(xr[xo + 2]), load(W, (wo + 2, c)))))
            if nw > 3:
                h = add(h, popcount(xor(splat_u64(xr[xo + 3]), load(W, (wo + 3, c)))))
                for k in range(4, nw):
                    h = add(h, popcount(xor(splat_u64(xr[xo + k]), load(W, (wo + k, c)))))
    return h


@njit(cache=True, inline="always")
def _rows8(xr, m2, C, W, ws, c, nw, Lx, Lw):
    """Products of one left row with the 8 right rows c..c+7 (f64x8)."""
    acc = splat_f64(0.0)
    for j in range(Lw):
        T = splat_f64(C)
        for i in range(Lx):
            T = fma(splat_f64(m2[i]), to_f64(_count_rows(xr, i * nw, W, j * nw, c, nw)), T)
        acc = fma(load(ws, (j, c)), T, acc)
    return acc


@njit(cache=True, inline="always")
def _rows_into(xr, m2, C, W, ws, nw, out, m, bias, use_bias):
    """out[:m] (+)= products of one left row with every right row (rows layout).

    Four vectors (32 right rows) per pass share the broadcast words and scales.
    With ``use_bias``, ``out = bias + product`` (the bias added after the product).
    """
    Lx = m2.shape[0]
    Lw = ws.shape[0]
    c = 0
    while c + 32 <= m:
        a0 = splat_f64(0.0)
        a1 = a0
        a2 = a0
        a3 = a0
        for j in range(Lw):
            T0 = splat_f64(C)
            T1 = T0
            T2 = T0
            T3 = T0
            wo = j * nw
            for i in range(Lx):
                s = splat_f64(m2[i])
                xo = i * nw
                T0 = fma(s, to_f64(_count_rows(xr, xo, W, wo, c, nw)), T0)
                T1 = fma(s, to_f64(_count_rows(xr, xo, W, wo, c + 8, nw)), T1)
                T2 = fma(s, to_f64(_count_rows(xr, xo, W, wo, c + 16, nw)), T2)
                T3 = fma(s, to_f64(_count_rows(xr, xo, W, wo, c + 24, nw)), T3)
            a0 = fma(load(ws, (j, c)), T0, a0)
            a1 = fma(load(ws, (j, c + 8)), T1, a1)
            a2 = fma(load(ws, (j, c + 16)), T2, a2)
            a3 = fma(load(ws, (j, c + 24)), T3, a3)
        if use_bias:
            a0 = add(load(bias, c), a0)
            a1 = add(load(bias, c + 8), a1)
            a2 = add(load(bias, c + 16), a2)
            a3 = add(load(bias, c + 24), a3)
        store(out, c, a0)
        store(out, c + 8, a1)
        store(out, c + 16, a2)
        store(out, c + 24, a3)
        c += 32
    while c < m:
        a = _rows8(xr, m2, C, W, ws, c, nw, Lx, Lw)
        if use_bias:
            a = add(load(bias, c), a)
        if c + 8 <= m:
            store(out, c, a)
        else:
            for k in range(m - c):
                out[c + k] = lane(a, k)
        c += 8


@njit(cache=True, parallel=True)
def mm_rows(X, M2, C, W, ws, nw, m):
    """(n, m) products: left rows X (n, Lx*nw), right operand (W, ws) from ``rows_operand``."""
    n = X.shape[0]
    out = np.empty((n, m))
    dummy = np.zeros(8)
    for r in prange(n):
        _rows_into(X[r], M2[r], C[r], W, ws, nw, out[r], m, dummy, False)
    return out

"""C building blocks of the network exporters (merged into :mod:`eegbin.export._blocks`).

Same rules as the other blocks: ``static`` functions with the ``eb_`` prefix, on
``eb_real`` where the arithmetic is the model's real type.

Blocks
------
``elu``
    ELU (alpha = 1) with ``eb_expm1``, or numpy.interp's value on a table.
``eegnet_block1``, ``eegnet_block2``
    EEGNet's float forward pass as :mod:`eegbin.nn.eegnet_forward` computes it
    ("reordered": per map, spatial mixing then one temporal filter, bias, ELU,
    average pooling; then the separable block, ELU and pooling into the features).
``fixed16``
    The fixed-point rounding of :func:`eegbin.quantize.to_fixed_point` (round half
    to even, saturated to int16) on an exact integer, a float and a double, and the
    pooled ELU between stages, which eegbin's simulation computes in double: a float
    fast path (``expm1f``) kept where its error bound decides the rounding, beside
    the double reference that decides the rest (about 3 % of the windows).
``eegnet_block1_q``, ``eegnet_block2_q``
    The same two blocks on the fixed-point datapath: int16 feature maps, int8
    weights, exact integer accumulation (int32, int64 where the sums need it).
``unpack_bits``
    An unsigned field of a little-endian bit stream (indices stored at their width).
"""

from __future__ import annotations

__all__ = []

ELU = r"""
/* ELU (alpha = 1): v for v > 0, else expm1(v) (tx == 0), or else numpy.interp(v, tx, ty) on the
 * table of n points (tx increasing): ty[0] below tx[0], ty[n - 1] from tx[n - 1] on, ty[j] at
 * v == tx[j], else (ty[j + 1] - ty[j]) / (tx[j + 1] - tx[j]) (v - tx[j]) + ty[j] for
 * tx[j] < v < tx[j + 1] (numpy's arithmetic, in eb_real). */
static eb_real eb_elu(eb_real v, const eb_real *tx, const eb_real *ty, int32_t n)
{
    int32_t lo = 0, hi = n - 1;
    if (v > EB_R(0.0)) {
        return v;
    }
    if (!tx) {
        return eb_expm1(v);
    }
    if (v < tx[0]) {
        return ty[0];
    }
    if (v >= tx[n - 1]) {
        return ty[n - 1];
    }
    while (hi - lo > 1) { /* tx[lo] <= v < tx[hi] */
        int32_t mid = lo + (hi - lo) / 2;
        if (tx[mid] <= v) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if (tx[lo] == v) {
        return ty[lo];
    }
    return (ty[lo + 1] - ty[lo]) / (tx[lo + 1] - tx[lo]) * (v - tx[lo]) + ty[lo];
}
"""

EEGNET_BLOCK1 = r"""
/* One map of EEGNet's first block in the reordered order of eegbin's float forward pass:
 * z = sum_c w[c] x_c over the channels read (chan[c], or c if chan == 0), summed in increasing c
 * into zpad[pad_l + t] with pad_l / pad_r zeros around; then for p < n_out,
 * out[p] = (sum_{j < pool} elu(sum_k kern[k] zpad[p pool + j + k] + bias)) / pool. */
static void eb_eegnet_block1(const float *trial, int32_t n_times, const int32_t *chan, int32_t n_chans,
                             const eb_real *w, const eb_real *kern, int32_t k1, eb_real bias,
                             int32_t pad_l, int32_t pad_r, int32_t pool, int32_t n_out,
                             const eb_real *tx, const eb_real *ty, int32_t n_tab, eb_real *zpad,
                             eb_real *out)
{
    int32_t c, t, p, j, k;
    for (t = 0; t < pad_l + n_times + pad_r; t++) {
        zpad[t] = EB_R(0.0);
    }
    for (c = 0; c < n_chans; c++) {
        const float *x = trial + (int32_t)((chan ? chan[c] : c) * n_times);
        eb_real wc = w[c];
        for (t = 0; t < n_times; t++) {
            zpad[pad_l + t] += wc * (eb_real)x[t];
        }
    }
    for (p = 0; p < n_out; p++) {
        eb_real sum = EB_R(0.0);
        for (j = 0; j < pool; j++) {
            const eb_real *zt = zpad + (int32_t)(p * pool + j);
            eb_real acc = EB_R(0.0);
            for (k = 0; k < k1; k++) {
                acc += kern[k] * zt[k];
            }
            sum += eb_elu(acc + bias, tx, ty, n_tab);
        }
        out[p] = sum / (eb_real)pool;
    }
}
"""

EEGNET_BLOCK2 = r"""
/* EEGNet's separable block on the n_maps pooled maps p1 (n_maps x n_in, row-major): for each
 * sample t < pool n_out, d[o] = sum_k depth[o k3 + k] p1[o][t + k - pad_l] (zero outside),
 * y[f] = sum_o point[f n_maps + o] d[o] (+ pb[f]) (then y bn_s[f] + bn_b[f]) and
 * out[f n_out + p] = (sum_{j < pool} elu(y[f] at t = p pool + j)) / pool: the features in
 * eegbin's order (map-major). pb, bn_s (and bn_b) may be 0. d (n_maps) is work space. */
static void eb_eegnet_block2(const eb_real *p1, int32_t n_maps, int32_t n_in, const eb_real *depth,
                             int32_t k3, int32_t pad_l, const eb_real *point, const eb_real *pb,
                             const eb_real *bn_s, const eb_real *bn_b, int32_t n_f, int32_t pool,
                             int32_t n_out, const eb_real *tx, const eb_real *ty, int32_t n_tab,
                             eb_real *d, eb_real *out)
{
    int32_t t, o, f, k;
    for (f = 0; f < n_f * n_out; f++) {
        out[f] = EB_R(0.0);
    }
    for (t = 0; t < pool * n_out; t++) {
        int32_t p = t / pool;
        for (o = 0; o < n_maps; o++) {
            const eb_real *row = p1 + (int32_t)(o * n_in);
            const eb_real *ker = depth + (int32_t)(o * k3);
            eb_real acc = EB_R(0.0);
            for (k = 0; k < k3; k++) {
                int32_t i = t + k - pad_l;
                if (i >= 0 && i < n_in) {
                    acc += ker[k] * row[i];
                }
            }
            d[o] = acc;
        }
        for (f = 0; f < n_f; f++) {
            const eb_real *row = point + (int32_t)(f * n_maps);
            eb_real y = EB_R(0.0);
            for (o = 0; o < n_maps; o++) {
                y += row[o] * d[o];
            }
            if (pb) {
                y += pb[f];
            }
            if (bn_s) {
                y = y * bn_s[f] + bn_b[f];
            }
            out[f * n_out + p] += eb_elu(y, tx, ty, n_tab);
        }
        if (t % pool == pool - 1) {
            for (f = 0; f < n_f; f++) {
                out[f * n_out + p] /= (eb_real)pool;
            }
        }
    }
}
"""

FIXED16 = r"""
/* eegbin.quantize.to_fixed_point(x, 16, f) = clip(rint(x 2^f), -32768, 32767), round half to even:
 * eb_requant16 on an exact integer v = x 2^(f + s) (s > 0: v / 2^s rounded; s <= 0: v 2^-s),
 * eb_rint16f / eb_rint16 on x 2^f already scaled (exact: a power-of-two factor) in float / double.
 * Two rounding helpers because the input is float (the FPU rounds it) and the pooled
 * activations are double (eegbin's fixed-point simulation pools them in float64). */
static int16_t eb_saturate16(int64_t v)
{
    return v > 32767 ? (int16_t)32767 : v < -32768 ? (int16_t)-32768 : (int16_t)v;
}

static int16_t eb_requant16(int64_t v, int32_t s)
{
    if (s > 0) {
        uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        uint64_t q = m >> s, r = m & ((UINT64_C(1) << s) - 1u), half = UINT64_C(1) << (s - 1);
        if (r > half || (r == half && (q & 1u))) {
            q++;
        }
        return eb_saturate16(v < 0 ? -(int64_t)q : (int64_t)q);
    }
    if (v > (INT64_C(32767) >> -s)) {
        return 32767;
    }
    if (v < -(INT64_C(32768) >> -s)) {
        return -32768;
    }
    return (int16_t)(v * (INT64_C(1) << -s));
}

static int16_t eb_rint16f(float v)
{
    return v >= 32767.0f ? (int16_t)32767 : v <= -32768.0f ? (int16_t)-32768 : (int16_t)rintf(v);
}

static int16_t eb_rint16(double v)
{
    return v >= 32767.0 ? (int16_t)32767 : v <= -32768.0 ? (int16_t)-32768 : (int16_t)rint(v);
}

/* ELU in double, as numpy computes it in float64: v for v > 0, else expm1(v). */
static double eb_elu_d(double v)
{
    return v > 0.0 ? v : expm1(v);
}

/* The pooled ELU of eegbin's fixed-point simulation: the code of
 * y = (sum_{j < pool} elu(c[j] 2^-f_in)) / pool 2^f_out, which eegbin sums and divides in double
 * (to_real = 2^-f_in, to_code = 2^f_out). Fast path in float (a hardware FPU's type), for a pool
 * that is a power of two (scale_f = 2^f_out / pool and to_real_f = 2^-f_in exact): the positive
 * terms sum exactly (fewer than 2^23 steps), a = their sum times scale_f; the expm1f terms sum to
 * n, b = n scale_f with |b - b_exact| <= 2^-24 (2 EB_EXPM1F_ULPS + pool - 1) |b| (expm1f's error,
 * the float sum); the code is floor(a) + rint(t), t = (a - floor(a)) + b, unless a rounding
 * boundary (a half-integer) lies within t's error bound (taken 9/8 times, with t's own rounding):
 * then the double path, whose operations are eegbin's. */
#define EB_EXPM1F_ULPS 4

static float eb_fabsf(float v)
{
    return v < 0.0f ? -v : v;
}

static int16_t eb_pool_elu16(const int16_t *c, int32_t pool, float to_real_f, float scale_f,
                             double to_real, double to_code)
{
    double sum;
    int32_t j;
    if ((pool & (pool - 1)) == 0) {
        float pos = 0.0f, neg = 0.0f, a, b, t;
        int32_t ai, r;
        for (j = 0; j < pool; j++) {
            float v = (float)c[j] * to_real_f;
            if (v > 0.0f) {
                pos += v;
            } else {
                neg += expm1f(v);
            }
        }
        a = pos * scale_f;
        if (neg == 0.0f) {
            return eb_rint16f(a); /* exact */
        }
        if (a < 4194304.0f && neg > -4194304.0f) { /* floors by conversion to int32 */
            ai = (int32_t)a; /* a >= 0 */
            b = neg * scale_f;
            t = (a - (float)ai) + b;
            r = (int32_t)t;
            r -= (float)r > t ? 1 : 0;
            if (eb_fabsf(t - (float)r - 0.5f) > 1.125f * 5.9604644775390625e-08f *
                    ((float)(2 * EB_EXPM1F_ULPS + pool) * eb_fabsf(b) + eb_fabsf(t))) {
                return eb_saturate16((int64_t)ai + r + (t - (float)r > 0.5f ? 1 : 0));
            }
        }
    }
    sum = eb_elu_d((double)c[0] * to_real);
    for (j = 1; j < pool; j++) {
        sum += eb_elu_d((double)c[j] * to_real);
    }
    return eb_rint16(sum / (double)pool * to_code);
}
"""

EEGNET_BLOCK1_Q = r"""
/* One map of EEGNet's first block on the fixed-point datapath (eegbin.nn.with_fixed_point):
 * q: the int16 input codes of the channels read (n_chans x n_times); z = sum_c w[c] q_c (int32,
 * exact) into zpad[pad_l + t] with zeros around; the block1 code of sample t is
 * requant16(sum_k kern[k] zpad[t + k] 2^acc_shift + bias, shift) (int64, exact, on eegbin's
 * grid); out[p] is the pooled ELU of the codes of samples p pool .. p pool + pool - 1 on the
 * pool1 grid (eb_pool_elu16). win (pool) is work space. */
static void eb_eegnet_block1_q(const int16_t *q, int32_t n_times, const int8_t *w, int32_t n_chans,
                               const int8_t *kern, int32_t k1, int32_t acc_shift, int64_t bias,
                               int32_t shift, int32_t pad_l, int32_t pad_r, int32_t pool,
                               int32_t n_out, float to_real_f, float scale_f, double to_real,
                               double to_code, int32_t *zpad, int16_t *win, int16_t *out)
{
    int32_t c, t, p, j, k;
    for (t = 0; t < pad_l + n_times + pad_r; t++) {
        zpad[t] = 0;
    }
    for (c = 0; c < n_chans; c++) {
        const int16_t *x = q + (int32_t)(c * n_times);
        int32_t wc = w[c];
        for (t = 0; t < n_times; t++) {
            zpad[pad_l + t] += wc * (int32_t)x[t];
        }
    }
    for (p = 0; p < n_out; p++) {
        for (j = 0; j < pool; j++) {
            const int32_t *zt = zpad + (int32_t)(p * pool + j);
            int64_t acc = 0;
            for (k = 0; k < k1; k++) {
                acc += (int64_t)kern[k] * zt[k];
            }
            win[j] = eb_requant16(acc * (INT64_C(1) << acc_shift) + bias, shift);
        }
        out[p] = eb_pool_elu16(win, pool, to_real_f, scale_f, to_real, to_code);
    }
}
"""

EEGNET_BLOCK2_Q = r"""
/* EEGNet's separable block on the fixed-point datapath: p1 the n_maps x n_in pool1 codes; for each
 * sample t < pool n_out, d[o] = sum_k depth[o k3 + k] p1[o][t + k - pad_l] (int32, exact), the
 * block2 code of map f is requant16((sum_o point[f n_maps + o] d[o]) 2^acc_shift + pb[f] 2^bias_shift,
 * shift) (int64, exact; pb may be 0), kept in win[f pool + t % pool]; at the end of each pooling
 * window the pooled ELU (eb_pool_elu16) on the features' grid, handed on as its real value
 * code feature_step (exact in float), in eegbin's order. d (n_maps), win (n_f pool): work space. */
static void eb_eegnet_block2_q(const int16_t *p1, int32_t n_maps, int32_t n_in, const int8_t *depth,
                               int32_t k3, int32_t pad_l, const int8_t *point, const int16_t *pb,
                               int32_t acc_shift, int32_t bias_shift, int32_t shift, int32_t n_f,
                               int32_t pool, int32_t n_out, float to_real_f, float scale_f,
                               double to_real, double to_code, float feature_step, int32_t *d,
                               int16_t *win, float *out)
{
    int32_t t, o, f, k;
    for (t = 0; t < pool * n_out; t++) {
        int32_t p = t / pool;
        for (o = 0; o < n_maps; o++) {
            const int16_t *row = p1 + (int32_t)(o * n_in);
            const int8_t *ker = depth + (int32_t)(o * k3);
            int32_t acc = 0;
            for (k = 0; k < k3; k++) {
                int32_t i = t + k - pad_l;
                if (i >= 0 && i < n_in) {
                    acc += (int32_t)ker[k] * row[i];
                }
            }
            d[o] = acc;
        }
        for (f = 0; f < n_f; f++) {
            const int8_t *row = point + (int32_t)(f * n_maps);
            int64_t y = 0;
            for (o = 0; o < n_maps; o++) {
                y += (int64_t)row[o] * d[o];
            }
            y *= INT64_C(1) << acc_shift;
            if (pb) {
                y += (int64_t)pb[f] * (INT64_C(1) << bias_shift);
            }
            win[f * pool + t % pool] = eb_requant16(y, shift);
        }
        if (t % pool == pool - 1) {
            for (f = 0; f < n_f; f++) {
                int16_t code = eb_pool_elu16(win + (int32_t)(f * pool), pool, to_real_f, scale_f,
                                             to_real, to_code);
                out[f * n_out + p] = (float)code * feature_step;
            }
        }
    }
}
"""

UNPACK_BITS = r"""
/* The unsigned field of `width` bits at bit `pos` of a little-endian bit stream (bit b of the
 * stream is bit b % 8 of byte b / 8): indices stored at the width footprint() counts. */
static uint32_t eb_unpack_bits(const uint8_t *stream, int32_t pos, int32_t width)
{
    uint32_t v = 0;
    int32_t b;
    for (b = 0; b < width; b++) {
        v |= (uint32_t)((stream[(pos + b) / 8] >> ((pos + b) % 8)) & 1u) << b;
    }
    return v;
}
"""

#: name -> (C text, names of the blocks it needs, needs libm)
NN_BLOCKS = {
    "elu": (ELU, (), True),
    "eegnet_block1": (EEGNET_BLOCK1, ("elu",), True),
    "eegnet_block2": (EEGNET_BLOCK2, ("elu",), True),
    "fixed16": (FIXED16, (), True),
    "eegnet_block1_q": (EEGNET_BLOCK1_Q, ("fixed16",), True),
    "eegnet_block2_q": (EEGNET_BLOCK2_Q, ("fixed16",), True),
    "unpack_bits": (UNPACK_BITS, (), False),
}

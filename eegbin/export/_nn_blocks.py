"""C building blocks of the network exporters (merged into :mod:`eegbin.export._blocks`).

Same rules as the other blocks: ``static`` functions with the ``eb_`` prefix, on
``eb_real`` where the arithmetic is the model's real type.

Blocks
------
``elu``
    ELU (alpha = 1) with ``eb_expm1``, or numpy.interp's value on a table (``interp``).
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
``fma``
    ``fma(a, b, c)`` with one rounding in portable C (Dekker's exact product, Knuth's
    exact sum, rounding to odd): C99's ``fma()`` is not fused everywhere (newlib's is
    ``a * b + c``), and eq. (9) must be summed with the fused multiply-adds of eegbin's engines.
``mlb_code``, ``mlb_values``, ``mlb_product``
    MuBiNN Algorithm 1 on a vector (static scales, or run-time greedy / power-of-two
    scales), the values of a stored code, and eq. (9) on packed words in the order of
    fused multiply-adds :mod:`eegbin.kernels.xnor` documents: bit for bit eegbin's.
``interp``, ``interp_d``
    ``numpy.interp`` on a piecewise-linear table, in ``eb_real`` and in double (one C text).
``matvec_d``
    A float matrix-vector product in double.
"""

from __future__ import annotations

__all__ = []

_INTERP = r"""
/* numpy.interp(v, xp, fp) in @REAL@ on a table of n points (xp increasing): fp[0] below xp[0],
 * fp[n - 1] from xp[n - 1] on, fp[j] at v == xp[j], else
 * (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]) (v - xp[j]) + fp[j] (numpy's operations). */
static @REAL@ @NAME@(@REAL@ v, const @REAL@ *xp, const @REAL@ *fp, int32_t n)
{
    int32_t lo = 0, hi = n - 1;
    if (v < xp[0]) {
        return fp[0];
    }
    if (v >= xp[n - 1]) {
        return fp[n - 1];
    }
    while (hi - lo > 1) { /* xp[lo] <= v < xp[hi] */
        int32_t mid = lo + (hi - lo) / 2;
        if (xp[mid] <= v) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if (xp[lo] == v) {
        return fp[lo];
    }
    return (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]) * (v - xp[lo]) + fp[lo];
}
"""

#: numpy.interp in the model's real type (ELU tables) and in double (the LSTM cell's tables)
INTERP = _INTERP.replace("@NAME@", "eb_interp").replace("@REAL@", "eb_real")
INTERP_D = _INTERP.replace("@NAME@", "eb_interp_d").replace("@REAL@", "double")

ELU = r"""
/* ELU (alpha = 1): v for v > 0, else expm1(v) (tx == 0), or else eb_interp(v, tx, ty, n) on the
 * table of n points (numpy.interp's arithmetic, in eb_real). */
static eb_real eb_elu(eb_real v, const eb_real *tx, const eb_real *ty, int32_t n)
{
    if (v > EB_R(0.0)) {
        return v;
    }
    if (!tx) {
        return eb_expm1(v);
    }
    return eb_interp(v, tx, ty, n);
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

FMA = r"""
/* fma(a, b, c) = a b + c rounded once (to nearest, ties to even), in portable C: C99's fma() is
 * not fused on every target (newlib, e.g. on the Cortex-M4, computes a * b + c with two
 * roundings). a b = uh + ul exactly (Dekker's product on Veltkamp's split), c + uh = th + tl
 * exactly (Knuth's two-sum), v = tl + ul rounded to odd, then th + v rounded to nearest is the
 * correctly rounded a b + c (Boldo and Melquiond 2008, "Emulation of FMA and correctly rounded
 * sums: proved algorithms using rounding to odd", IEEE Trans. Comput. 57(4)). Valid for finite
 * operands with no overflow and products above 2^-969 in magnitude (or zero), which eq. (9)'s
 * scales and popcounts satisfy; needs IEEE double without contraction (-ffp-contract=off). */
static void eb_two_sum(double a, double b, double *s, double *e)
{
    double t = a + b, bb = t - a;
    *s = t;
    *e = (a - (t - bb)) + (b - bb);
}

static double eb_add_odd(double a, double b)
{
    union {
        double d;
        uint64_t u;
    } s;
    double e;
    eb_two_sum(a, b, &s.d, &e);
    if (e != 0.0 && (s.u & 1u) == 0u) { /* inexact, even: the odd neighbour on the error's side */
        if ((e > 0.0) == (s.d > 0.0)) {
            s.u += 1u;
        } else {
            s.u -= 1u;
        }
    }
    return s.d;
}

static double eb_fma(double a, double b, double c)
{
    const double split = 134217729.0; /* 2^27 + 1 */
    double ta = split * a, ah = ta - (ta - a), al = a - ah;
    double tb = split * b, bh = tb - (tb - b), bl = b - bh;
    double uh = a * b, ul = ((ah * bh - uh) + ah * bl + al * bh) + al * bl;
    double th, tl;
    eb_two_sum(c, uh, &th, &tl);
    return th + eb_add_odd(tl, ul);
}
"""

MLB_CODE = r"""
/* The power of two nearest in value to m > 0 (2^(k+1) when m >= 1.5 2^k), 0 for m == 0
 * (eegbin.quantize.mlb, scaling="power_of_two"). */
static double eb_pow2_nearest(double m)
{
    int e;
    double lo;
    if (!(m > 0.0)) {
        return 0.0;
    }
    (void)frexp(m, &e);
    lo = ldexp(1.0, e - 1);
    return m >= 1.5 * lo ? 2.0 * lo : lo;
}

/* MuBiNN Algorithm 1 on v[0..n), residuals in double (eegbin.quantize.multilevel_binarize):
 * r = v - offset; per level i, b_i = +1 where r >= 0 (Sign(0) = +1), else -1; alpha_i =
 * scales[i] (rule 0, static), mean |r| summed left to right (rule 1, greedy) or that rounded
 * to the nearest power of two (rule 2); r -= alpha_i b_i. Writes the scales used (used[L]),
 * the packed planes if planes != 0 (L x nw uint64 words, bit j of a plane is bit j % 64 of
 * word j / 64, padding zero), and if approx != 0 approx[j] = offset + sum_i alpha_i b_i
 * (summed in level order; approx may be v). r: n doubles of work space. */
static void eb_mlb_code(const double *v, int32_t n, int32_t L, const double *scales, int32_t rule,
                        double offset, double *r, double *used, uint64_t *planes, int32_t nw,
                        double *approx)
{
    int32_t i, j;
    for (j = 0; j < n; j++) {
        r[j] = offset != 0.0 ? v[j] - offset : v[j];
        if (approx) {
            approx[j] = 0.0;
        }
    }
    if (planes) {
        for (j = 0; j < L * nw; j++) {
            planes[j] = 0u;
        }
    }
    for (i = 0; i < L; i++) {
        double a;
        if (rule == 0) {
            a = scales[i];
        } else {
            double s = 0.0;
            for (j = 0; j < n; j++) {
                s += fabs(r[j]);
            }
            a = s / (double)n;
            if (rule == 2) {
                a = eb_pow2_nearest(a);
            }
        }
        used[i] = a;
        for (j = 0; j < n; j++) {
            if (r[j] >= 0.0) {
                if (planes) {
                    planes[i * nw + j / 64] |= (uint64_t)1u << (j % 64);
                }
                if (approx) {
                    approx[j] += a;
                }
                r[j] -= a;
            } else {
                if (approx) {
                    approx[j] += -a;
                }
                r[j] -= -a;
            }
        }
    }
    if (approx && offset != 0.0) {
        for (j = 0; j < n; j++) {
            approx[j] = offset + approx[j];
        }
    }
}
"""

MLB_VALUES = r"""
/* The values of a stored multi-level code of n values (eegbin.quantize.reconstruct): out[j] =
 * sum_i (+-scales[i]) over the L planes (nw words each), summed in level order. */
static void eb_mlb_values(const uint64_t *planes, const double *scales, int32_t L, int32_t n,
                          int32_t nw, double *out)
{
    int32_t i, j;
    for (j = 0; j < n; j++) {
        double acc = 0.0;
        for (i = 0; i < L; i++) {
            if ((planes[i * nw + j / 64] >> (j % 64)) & 1u) {
                acc += scales[i];
            } else {
                acc += -scales[i];
            }
        }
        out[j] = acc;
    }
}
"""

MLB_PRODUCT = r"""
/* MuBiNN eq. (9): the code of one vector (Lx planes xp of nw words, scales xs) times each of
 * the `rows` rows of a weight code (planes wp[(j rows + r) nw + k] of level j; scales ws[j]
 * per tensor, or ws[j rows + r] per row when per_row): out[r] = sum_j ws_j T_j with
 * T_j = n S - 2 sum_i xs_i popcount(x_i XOR w_jr) and S = xs_0 + xs_1 + ..., evaluated as
 * eegbin.kernels.xnor documents, one rounding per fused multiply-add:
 * T_j = fma(-2 xs_{Lx-1}, h, ... fma(-2 xs_0, h, n S)), out = fma(ws_{Lw-1}, T, ... fma(ws_0, T_0, 0)). */
static void eb_mlb_product(const uint64_t *xp, const double *xs, int32_t Lx, const uint64_t *wp,
                           const double *ws, int32_t per_row, int32_t Lw, int32_t rows, int32_t nw,
                           int32_t n_bits, double *out)
{
    double S = 0.0, C;
    int32_t i, j, r, k;
    for (i = 0; i < Lx; i++) {
        S = S + xs[i];
    }
    C = (double)n_bits * S;
    for (r = 0; r < rows; r++) {
        double acc = 0.0;
        for (j = 0; j < Lw; j++) {
            const uint64_t *w = wp + (int32_t)((j * rows + r) * nw);
            double T = C;
            for (i = 0; i < Lx; i++) {
                const uint64_t *x = xp + (int32_t)(i * nw);
                uint32_t h = 0;
                for (k = 0; k < nw; k++) {
                    h += eb_popcount64(x[k] ^ w[k]);
                }
                T = eb_fma(-2.0 * xs[i], (double)h, T);
            }
            acc = eb_fma(per_row ? ws[j * rows + r] : ws[j], T, acc);
        }
        out[r] = acc;
    }
}
"""

MATVEC_D = r"""
/* out[r] = sum_c W[r cols + c] x[c] in double, summed in increasing c. */
static void eb_matvec_d(const double *W, const double *x, int32_t rows, int32_t cols, double *out)
{
    int32_t r, c;
    for (r = 0; r < rows; r++) {
        const double *w = W + (int32_t)(r * cols);
        double acc = 0.0;
        for (c = 0; c < cols; c++) {
            acc += w[c] * x[c];
        }
        out[r] = acc;
    }
}
"""

#: name -> (C text, names of the blocks it needs, needs libm)
NN_BLOCKS = {
    "interp": (INTERP, (), False),
    "elu": (ELU, ("interp",), True),
    "eegnet_block1": (EEGNET_BLOCK1, ("elu",), True),
    "eegnet_block2": (EEGNET_BLOCK2, ("elu",), True),
    "fixed16": (FIXED16, (), True),
    "eegnet_block1_q": (EEGNET_BLOCK1_Q, ("fixed16",), True),
    "eegnet_block2_q": (EEGNET_BLOCK2_Q, ("fixed16",), True),
    "unpack_bits": (UNPACK_BITS, (), False),
    "fma": (FMA, (), False),
    "mlb_code": (MLB_CODE, (), True),
    "mlb_values": (MLB_VALUES, (), False),
    "mlb_product": (MLB_PRODUCT, ("popcount", "fma"), False),
    "interp_d": (INTERP_D, (), False),
    "matvec_d": (MATVEC_D, (), False),
}

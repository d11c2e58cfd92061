"""C building blocks shared by the exporters (C99 source text).

Each block is a piece of C that defines ``static`` functions with the fixed
internal prefix ``eb_``; every generated ``.c`` file holds the blocks it uses
(and only those: an unused static function would trip ``-Wunused-function``),
so two exported models linked into one program never clash. A block may use
``eb_real`` (``float`` or ``double``, typedef'd by the generated file), the
literal macro ``EB_R(x)`` and the math wrappers ``eb_sqrt``, ``eb_log``,
``eb_fabs``, ``eb_expm1``, ``eb_exp``, ``eb_tanh`` and ``EB_EPS`` (the machine epsilon of ``eb_real``).
The blocks of the network exporters live in ``_nn_blocks.py`` and are merged
into :data:`BLOCKS`.

Blocks
------
``popcount``, ``hamming``, ``hamming_scores``
    SWAR population count on two 32-bit halves (fast on 32-bit MCUs without a
    popcount instruction, no libgcc call), the Hamming argmin over packed rows and
    the cosine scores ``1 - 2 d_h / d`` of the distances.
``rng``, ``rng_word``
    The counter-based generator of :mod:`eegbin.kernels.rng`, bit for bit.
``project_row``, ``projection``
    ``H(R x)`` with the sparse bipolar ``R`` regenerated row by row from the seed,
    summed in float32 in increasing feature order exactly as
    :func:`eegbin.kernels.sparse_bipolar_project`.
``majority``
    Band binding and bundling of :func:`eegbin.binary.hd_band_encode`.
``heaviside``, ``linear``, ``linear_packed``, ``argmax``
    Thresholding into packed words, float linear scores on real or packed inputs,
    the first argmax (or the two-class sign rule).
``memory_readout``
    The attention and value readout of :class:`eegbin.BinaryKeyValueMemory` from
    Hamming distances (softabs, softmax or none).
``lstm_step``
    One time step of one float LSTM layer (gates i, f, g, o).
``sqrt_cov``, ``times_sym``, ``jacobi_one_sided``, ``logm_upper``
    The Riemannian features in square-root form: cascaded biquads in the
    arithmetic order of :func:`scipy.signal.sosfilt` feeding a streaming QR
    factorization ``R^T R = Y Y^T + reg I`` (eq. 1), ``G = R P`` with the
    whitening ``P``, a one-sided Jacobi eigensolver of ``G^T G = (n_s - 1) P C P``
    and ``upper(logm(.))`` (eq. 3).
"""

from __future__ import annotations

__all__ = []

POPCOUNT = r"""
/* Number of set bits of x (SWAR on two 32-bit halves: no popcount instruction needed). */
static uint32_t eb_popcount32(uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0Fu;
    return (x * 0x01010101u) >> 24;
}

static uint32_t eb_popcount64(uint64_t x)
{
    return eb_popcount32((uint32_t)x) + eb_popcount32((uint32_t)(x >> 32));
}
"""

HAMMING = r"""
/* Hamming distance of `code` to each of the n_rows packed rows (dist[r]); returns the
 * index of the nearest row, the first one on ties. Padding bits are zero on both sides. */
static int32_t eb_hamming_argmin(const uint64_t *code, const uint64_t *rows, int32_t n_rows,
                                 int32_t n_words, uint32_t *dist)
{
    int32_t r, w, best = 0;
    for (r = 0; r < n_rows; r++) {
        const uint64_t *row = rows + (int32_t)(r * n_words);
        uint32_t d = 0;
        for (w = 0; w < n_words; w++) {
            d += eb_popcount64(code[w] ^ row[w]);
        }
        dist[r] = d;
        if (d < dist[best]) {
            best = r;
        }
    }
    return best;
}
"""

HAMMING_SCORES = r"""
/* Cosine similarity of bipolar vectors from Hamming distances, 1 - 2 d / n_bits (eq. 10),
 * as (n_bits - 2 d) / n_bits in float: numerator and denominator are exact (n_bits < 2^24)
 * and one division rounds correctly, so this is the float rounding of the exact value, which
 * is also the float rounding of eegbin's float64 result (no software double on an MCU). */
static void eb_hamming_scores(const uint32_t *dist, int32_t n_rows, int32_t n_bits, float *scores)
{
    int32_t r;
    for (r = 0; r < n_rows; r++) {
        scores[r] = (float)(n_bits - 2 * (int32_t)dist[r]) / (float)n_bits;
    }
}
"""

RNG = r"""
/* Counter-based random words of eegbin.kernels.rng (splitmix64 finalizer as a keyed hash):
 * word(seed, row, ctr) = mix64(row_key(row) + (ctr + 1) G),
 * row_key(row) = mix64(seed_key ^ mix64((row + 1) G)), seed_key = mix64(seed + G). */
#define EB_GOLDEN UINT64_C(0x9E3779B97F4A7C15)

static uint64_t eb_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t eb_seed_key(uint32_t seed)
{
    return eb_mix64((uint64_t)seed + EB_GOLDEN);
}

static uint64_t eb_row_key(uint64_t seed_key, uint64_t row)
{
    return eb_mix64(seed_key ^ eb_mix64((row + 1u) * EB_GOLDEN));
}

"""

RNG_WORD = r"""
static uint64_t eb_word(uint64_t row_key, uint64_t ctr)
{
    return eb_mix64(row_key + (ctr + 1u) * EB_GOLDEN);
}
"""

PROJECT_ROW = r"""
/* Sign bit H(sum_j r_j x_j) of one row of the sparse bipolar matrix R (eq. 4-6): entry j is
 * the 16-bit lane j % 4 of word(row_key, j / 4), u < t -> +1, t <= u < 2t -> -1, else 0.
 * The sum runs in float32 in increasing j, as eegbin.kernels.sparse_bipolar_project.
 * The counter term (ctr + 1) G of eb_word is carried by addition (same wrapping value) and
 * the lanes are read from 32-bit halves (cheap on 32-bit cores). */
#define EB_LANE(u, j)                                   \
    if ((u) < t2) {                                     \
        acc = (u) < t ? acc + x[(j)] : acc - x[(j)];    \
    }

static uint32_t eb_project_row(const float *x, int32_t n, uint64_t row_key, uint32_t t)
{
    float acc = 0.0f;
    uint32_t t2 = 2u * t;
    uint64_t z = row_key;
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        uint64_t w;
        uint32_t lo, hi;
        z += EB_GOLDEN;
        w = eb_mix64(z);
        lo = (uint32_t)w;
        hi = (uint32_t)(w >> 32);
        EB_LANE(lo & 0xFFFFu, j)
        EB_LANE(lo >> 16, j + 1)
        EB_LANE(hi & 0xFFFFu, j + 2)
        EB_LANE(hi >> 16, j + 3)
    }
    if (j < n) {
        uint64_t w = eb_mix64(z + EB_GOLDEN);
        int32_t lane;
        for (lane = 0; j + lane < n; lane++) {
            uint32_t u = (uint32_t)(w >> (16 * lane)) & 0xFFFFu;
            EB_LANE(u, j + lane)
        }
    }
    return acc >= 0.0f ? 1u : 0u;
}
"""

PROJECTION = r"""
/* Packed E = H(R x), d bits (padding bits zero), R regenerated from the 32-bit seed. */
static void eb_project(const float *x, int32_t n, uint32_t seed, uint32_t t, int32_t d,
                       uint64_t *out)
{
    uint64_t key = eb_seed_key(seed);
    int32_t i;
    for (i = 0; i < (d + 63) / 64; i++) {
        out[i] = 0;
    }
    for (i = 0; i < d; i++) {
        if (eb_project_row(x, n, eb_row_key(key, (uint64_t)i), t)) {
            out[i / 64] |= (uint64_t)1 << (i % 64);
        }
    }
}
"""

MAJORITY = r"""
/* Hypervector majority_b( H(R_b x_b) XOR K_b ) of n_bands band-major blocks of m features
 * (eegbin.binary.hd_band_encode): band keys K_b are rows 0..n_bands-1 of the generator
 * for `seed`, the tie-break vector is row n_bands, the band seeds are the low 32 bits of
 * row n_bands + 2, counters 0..n_bands-1. Work: seed_keys (n_bands), ones (64). */
static void eb_band_encode(const float *x, int32_t n_bands, int32_t m, uint32_t seed, uint32_t t,
                           int32_t d, uint64_t *seed_keys, int32_t *ones, uint64_t *out)
{
    uint64_t key = eb_seed_key(seed);
    uint64_t seeds_row = eb_row_key(key, (uint64_t)n_bands + 2u);
    uint64_t tie_row = eb_row_key(key, (uint64_t)n_bands);
    int32_t b, w, r;
    for (b = 0; b < n_bands; b++) {
        seed_keys[b] = eb_seed_key((uint32_t)(eb_word(seeds_row, (uint64_t)b) & 0xFFFFFFFFu));
    }
    for (w = 0; w < (d + 63) / 64; w++) {
        int32_t rows = d - 64 * w < 64 ? d - 64 * w : 64;
        uint64_t tie = eb_word(tie_row, (uint64_t)w);
        uint64_t word = 0;
        for (r = 0; r < rows; r++) {
            ones[r] = 0;
        }
        for (b = 0; b < n_bands; b++) {
            uint64_t band_key = eb_word(eb_row_key(key, (uint64_t)b), (uint64_t)w);
            for (r = 0; r < rows; r++) {
                uint32_t bit = eb_project_row(x + (int32_t)(b * m), m,
                                              eb_row_key(seed_keys[b], (uint64_t)(64 * w + r)), t);
                ones[r] += (int32_t)(bit ^ (uint32_t)((band_key >> r) & 1u));
            }
        }
        for (r = 0; r < rows; r++) {
            if (2 * ones[r] > n_bands || (2 * ones[r] == n_bands && ((tie >> r) & 1u))) {
                word |= (uint64_t)1 << r;
            }
        }
        out[w] = word;
    }
}
"""

HEAVISIDE = r"""
/* Packed H(x - thr): bit j set where x_j >= thr_j (H(0) = 1), n bits; thr == 0 (a null
 * pointer) thresholds at zero. */
static void eb_heaviside(const eb_real *x, const eb_real *thr, int32_t n, uint64_t *out)
{
    int32_t j;
    for (j = 0; j < (n + 63) / 64; j++) {
        out[j] = 0;
    }
    for (j = 0; j < n; j++) {
        if (x[j] >= (thr ? thr[j] : EB_R(0.0))) {
            out[j / 64] |= (uint64_t)1 << (j % 64);
        }
    }
}
"""

LINEAR = r"""
/* out[c] = b[c] + sum_j w[c n + j] x[j] for c < n_out (summed in increasing j). */
static void eb_linear(const eb_real *x, const eb_real *w, const eb_real *b, int32_t n_out,
                      int32_t n, eb_real *out)
{
    int32_t c, j;
    for (c = 0; c < n_out; c++) {
        const eb_real *row = w + (int32_t)(c * n);
        eb_real acc = EB_R(0.0);
        for (j = 0; j < n; j++) {
            acc += row[j] * x[j];
        }
        out[c] = acc + b[c];
    }
}
"""

LINEAR_PACKED = r"""
/* eb_linear on packed codes: bit j is x_j = +1 (set) or -1 (bipolar != 0) / 0 (binary). */
static void eb_linear_packed(const uint64_t *x, int32_t bipolar, const eb_real *w, const eb_real *b,
                             int32_t n_out, int32_t n, eb_real *out)
{
    int32_t c, j;
    for (c = 0; c < n_out; c++) {
        const eb_real *row = w + (int32_t)(c * n);
        eb_real acc = EB_R(0.0);
        for (j = 0; j < n; j++) {
            if ((x[j / 64] >> (j % 64)) & 1u) {
                acc += row[j];
            } else if (bipolar) {
                acc -= row[j];
            }
        }
        out[c] = acc + b[c];
    }
}
"""

ARGMAX = r"""
/* Index of the largest of n scores (the first one on ties); n == 1 is the two-class rule
 * of a single decision value s: class 1 when s > 0. */
static int32_t eb_argmax(const eb_real *s, int32_t n)
{
    int32_t c, best = 0;
    if (n == 1) {
        return s[0] > EB_R(0.0) ? 1 : 0;
    }
    for (c = 1; c < n; c++) {
        if (s[c] > s[best]) {
            best = c;
        }
    }
    return best;
}
"""

SQRT_COV = r"""
/* Square-root form of the regularized covariance of eq. (1): r (n x n, upper triangular) with
 * r^T r = Y Y^T + reg I, for the window [start, start + len) of `trial` (n channels x n_times,
 * row-major) filtered causally from a zero state by n_sec cascaded biquads
 * sos[s] = (b0, b1, b2, a1, a2) (direct form II transposed, the arithmetic order of
 * scipy.signal.sosfilt). Each filtered sample is added to r by Givens rotations (a streaming
 * QR factorization of Y^T), then the rows sqrt(reg) e_k.
 *
 * Why a factor and not Y Y^T: band covariances of EEG reach condition numbers of 1e5-1e6;
 * float32 sums of y y^T lose up to 3 of float32's 7 digits in the small eigenvalues (whose
 * logarithms are the features), while r has the square root of that condition number.
 * Work: state (2 n_sec n), y (n). */
static void eb_qr_add_row(eb_real *r, int32_t n, eb_real *row)
{
    int32_t k, j;
    for (k = 0; k < n; k++) {
        eb_real a = r[k * n + k], b = row[k], h, c, s;
        if (b == EB_R(0.0)) {
            continue;
        }
        h = eb_sqrt(a * a + b * b);
        c = a / h;
        s = b / h;
        r[k * n + k] = h;
        for (j = k + 1; j < n; j++) {
            eb_real rkj = r[k * n + j], bj = row[j];
            r[k * n + j] = c * rkj + s * bj;
            row[j] = c * bj - s * rkj;
        }
    }
}

static void eb_filtered_sqrt_cov(const float *trial, int32_t n, int32_t n_times, int32_t start,
                                 int32_t len, const eb_real *sos, int32_t n_sec, eb_real reg,
                                 eb_real *state, eb_real *y, eb_real *r)
{
    int32_t t, s, c, i;
    for (i = 0; i < 2 * n_sec * n; i++) {
        state[i] = EB_R(0.0);
    }
    for (i = 0; i < n * n; i++) {
        r[i] = EB_R(0.0);
    }
    for (t = start; t < start + len; t++) {
        for (c = 0; c < n; c++) {
            y[c] = (eb_real)trial[(int32_t)(c * n_times) + t];
        }
        for (s = 0; s < n_sec; s++) {
            const eb_real *b = sos + 5 * s;
            eb_real *z0 = state + (int32_t)(2 * s * n);
            eb_real *z1 = z0 + n;
            for (c = 0; c < n; c++) {
                eb_real x = y[c];
                eb_real v = b[0] * x + z0[c];
                z0[c] = b[1] * x - b[3] * v + z1[c];
                z1[c] = b[2] * x - b[4] * v;
                y[c] = v;
            }
        }
        eb_qr_add_row(r, n, y);
    }
    if (reg > EB_R(0.0)) {
        for (i = 0; i < n; i++) {
            for (c = 0; c < n; c++) {
                y[c] = EB_R(0.0);
            }
            y[i] = eb_sqrt(reg);
            eb_qr_add_row(r, n, y);
        }
    }
}
"""

TIMES_SYM = r"""
/* g (n x n) = r p with r upper triangular and p symmetric, stored as its upper triangle row by
 * row (the whitening P); pf (n x n) is work space. */
static void eb_times_sym(const eb_real *r, const eb_real *p, int32_t n, eb_real *pf, eb_real *g)
{
    int32_t i, j, k, q = 0;
    for (i = 0; i < n; i++) {
        for (j = i; j < n; j++) {
            pf[i * n + j] = p[q];
            pf[j * n + i] = p[q];
            q++;
        }
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            eb_real acc = EB_R(0.0);
            for (k = i; k < n; k++) {
                acc += r[i * n + k] * pf[k * n + j];
            }
            g[i * n + j] = acc;
        }
    }
}
"""

JACOBI_ONE_SIDED = r"""
/* One-sided (Hestenes) Jacobi: the columns of g (n x n) are rotated pairwise until orthogonal;
 * v accumulates the rotations. Then g_in^T g_in = v diag(|g_i|^2) v^T: the eigendecomposition
 * of W = g^T g without forming W, so the small eigenvalues keep the relative accuracy of g
 * (whose condition number is the square root of W's). A pair (p, q) is rotated unless
 * |g_p . g_q| <= EB_EPS |g_p| |g_q|; stops after a sweep without rotation, at most
 * EB_JACOBI_SWEEPS sweeps. */
#define EB_JACOBI_SWEEPS 30

static void eb_jacobi_one_sided(eb_real *g, int32_t n, eb_real *v)
{
    int32_t i, p, q, sweep;
    for (i = 0; i < n * n; i++) {
        v[i] = EB_R(0.0);
    }
    for (i = 0; i < n; i++) {
        v[i * n + i] = EB_R(1.0);
    }
    for (sweep = 0; sweep < EB_JACOBI_SWEEPS; sweep++) {
        int32_t rotated = 0;
        for (p = 0; p < n - 1; p++) {
            for (q = p + 1; q < n; q++) {
                eb_real a = EB_R(0.0), b = EB_R(0.0), c = EB_R(0.0), theta, t, cs, sn;
                for (i = 0; i < n; i++) {
                    eb_real gp = g[i * n + p], gq = g[i * n + q];
                    a += gp * gp;
                    b += gq * gq;
                    c += gp * gq;
                }
                if (eb_fabs(c) <= EB_EPS * eb_sqrt(a) * eb_sqrt(b)) {
                    continue;
                }
                rotated = 1;
                theta = (b - a) / (EB_R(2.0) * c);
                if (eb_fabs(theta) > EB_R(1e15)) {
                    t = EB_R(0.5) / theta;
                } else {
                    t = EB_R(1.0) / (eb_fabs(theta) + eb_sqrt(theta * theta + EB_R(1.0)));
                    if (theta < EB_R(0.0)) {
                        t = -t;
                    }
                }
                cs = EB_R(1.0) / eb_sqrt(t * t + EB_R(1.0));
                sn = t * cs;
                for (i = 0; i < n; i++) {
                    eb_real gp = g[i * n + p], gq = g[i * n + q];
                    eb_real vp = v[i * n + p], vq = v[i * n + q];
                    g[i * n + p] = cs * gp - sn * gq;
                    g[i * n + q] = sn * gp + cs * gq;
                    v[i * n + p] = cs * vp - sn * vq;
                    v[i * n + q] = sn * vp + cs * vq;
                }
            }
        }
        if (!rotated) {
            break;
        }
    }
}
"""

LOGM_UPPER = r"""
/* out = upper(v diag(log(scale |g_k|^2)) v^T): the upper triangle row by row, off-diagonal
 * entries times sqrt(2) (eq. 3); |g_k| is the norm of column k of g (eb_jacobi_one_sided's
 * output: scale |g_k|^2 are the eigenvalues). loglam (n) is work space. */
static void eb_logm_upper(const eb_real *g, const eb_real *v, int32_t n, eb_real scale,
                          eb_real *loglam, eb_real *out)
{
    int32_t i, j, k, q = 0;
    for (k = 0; k < n; k++) {
        eb_real nrm = EB_R(0.0);
        for (i = 0; i < n; i++) {
            nrm += g[i * n + k] * g[i * n + k];
        }
        loglam[k] = eb_log(scale * nrm);
    }
    for (i = 0; i < n; i++) {
        for (j = i; j < n; j++) {
            eb_real acc = EB_R(0.0);
            for (k = 0; k < n; k++) {
                acc += v[i * n + k] * loglam[k] * v[j * n + k];
            }
            out[q++] = i == j ? acc : EB_R(1.4142135623730951) * acc;
        }
    }
}
"""

#: name -> (C text, names of the blocks it needs, needs libm)
MEMORY_READOUT = r"""
/* Readout of a binary key-value memory (eegbin.binary: cosine_from_hamming, sharpen_attention,
 * memory_readout): alpha_i = (d - 2 dist_i) / d (eq. 10, 14; exact numerator and denominator,
 * one rounding), sharpened by `mode` (0 softabs: s(b (a - 1/2)) + s(b (-a - 1/2)) with
 * s(z) = (1 + tanh(z / 2)) / 2; 1 softmax of b alpha over the keys; 2 none: alpha), then
 * y[c] = sum of att_i over the keys i of class labels[i] (eq. 15), in increasing i. */
static void eb_memory_readout(const uint32_t *dist, const uint8_t *labels, int32_t n_keys, int32_t d,
                              int32_t mode, eb_real beta, int32_t n_classes, eb_real *att, eb_real *y)
{
    int32_t i, c;
    eb_real top = EB_R(0.0), total = EB_R(0.0);
    for (i = 0; i < n_keys; i++) {
        eb_real alpha = (eb_real)(d - 2 * (int32_t)dist[i]) / (eb_real)d;
        if (mode == 0) {
            att[i] = EB_R(0.5) * (eb_tanh(EB_R(0.5) * beta * (alpha - EB_R(0.5)))
                                  + eb_tanh(EB_R(0.5) * beta * (-alpha - EB_R(0.5)))) + EB_R(1.0);
        } else if (mode == 1) {
            att[i] = beta * alpha;
            if (i == 0 || att[i] > top) {
                top = att[i];
            }
        } else {
            att[i] = alpha;
        }
    }
    if (mode == 1) {
        for (i = 0; i < n_keys; i++) {
            att[i] = eb_exp(att[i] - top);
            total += att[i];
        }
        for (i = 0; i < n_keys; i++) {
            att[i] = att[i] / total;
        }
    }
    for (c = 0; c < n_classes; c++) {
        y[c] = EB_R(0.0);
    }
    for (i = 0; i < n_keys; i++) {
        y[labels[i]] += att[i];
    }
}
"""

LSTM_STEP = r"""
/* One time step of one LSTM layer (MuBiNN eq. 1-6, eegbin.nn.lstm_recurrence):
 * z = W_ih x + W_hh h + b (4H values, gates i, f, g, o; each sum in increasing index),
 * i, f, o = sigmoid, g = tanh, c = f c + i g, h = o tanh(c); h and c updated in place
 * (the new h is written after every gate has read the old one). Work: z (4H). */
static void eb_lstm_step(const eb_real *x, int32_t d, const eb_real *w_ih, const eb_real *w_hh,
                         const eb_real *b, int32_t n_h, eb_real *z, eb_real *h, eb_real *c)
{
    int32_t r, j;
    for (r = 0; r < 4 * n_h; r++) {
        eb_real acc = EB_R(0.0), rec = EB_R(0.0);
        for (j = 0; j < d; j++) {
            acc += w_ih[r * d + j] * x[j];
        }
        for (j = 0; j < n_h; j++) {
            rec += w_hh[r * n_h + j] * h[j];
        }
        z[r] = acc + b[r] + rec;
    }
    for (j = 0; j < n_h; j++) {
        eb_real i = EB_R(1.0) / (EB_R(1.0) + eb_exp(-z[j]));
        eb_real f = EB_R(1.0) / (EB_R(1.0) + eb_exp(-z[n_h + j]));
        eb_real g = eb_tanh(z[2 * n_h + j]);
        eb_real o = EB_R(1.0) / (EB_R(1.0) + eb_exp(-z[3 * n_h + j]));
        c[j] = f * c[j] + i * g;
        h[j] = o * eb_tanh(c[j]);
    }
}
"""

BLOCKS = {
    "popcount": (POPCOUNT, (), False),
    "hamming": (HAMMING, ("popcount",), False),
    "hamming_scores": (HAMMING_SCORES, (), False),
    "rng": (RNG, (), False),
    "project_row": (PROJECT_ROW, ("rng",), False),
    "projection": (PROJECTION, ("project_row",), False),
    "rng_word": (RNG_WORD, ("rng",), False),
    "majority": (MAJORITY, ("project_row", "rng_word"), False),
    "heaviside": (HEAVISIDE, (), False),
    "linear": (LINEAR, (), False),
    "linear_packed": (LINEAR_PACKED, (), False),
    "argmax": (ARGMAX, (), False),
    "memory_readout": (MEMORY_READOUT, (), True),
    "lstm_step": (LSTM_STEP, (), True),
    "sqrt_cov": (SQRT_COV, (), True),
    "times_sym": (TIMES_SYM, (), False),
    "jacobi_one_sided": (JACOBI_ONE_SIDED, (), True),
    "logm_upper": (LOGM_UPPER, (), True),
}


def resolve(names):
    """The blocks ``names`` need, dependencies first, each once."""
    out = []

    def visit(name):
        if name in out:
            return
        for dep in BLOCKS[name][1]:
            visit(dep)
        out.append(name)

    for name in names:
        visit(name)
    return out

# the network exporters' blocks (EEGNet float and fixed point, bit fields), kept in their own file
from ._nn_blocks import NN_BLOCKS  # noqa: E402

BLOCKS.update(NN_BLOCKS)

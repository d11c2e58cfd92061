"""Fused MuBiNN2 LSTM layer (kernels.xnor_lstm) against a plain-numpy MuBiNN2 cell.

The oracle is written from the paper: Algorithm 1 (multi-level binarization,
greedy, power-of-two or given scales), eq. (9) products, sigmoid/tanh by
``np.interp`` tables, eq. (5)-(6) with the binarized activations. With its
products by :func:`eegbin.kernels.multilevel_matmul` (whose evaluation order is
tested bit for bit in test_xnor.py) the layer agrees bit for bit; with numpy's
float matmul of the reconstructions, to 1e-12 (power-of-two scales make exact
ties in Algorithm 1 common, so a last-bit difference in a product can flip a
sign there: those cases need the same product order). The two data layouts of
the kernel (batch < 8 and >= 8) agree with each other bit for bit.
"""

import numpy as np
import pytest
from scipy.special import expit

from eegbin.kernels import (
    lstm_gate_preactivations,
    lstm_layer_operands,
    mubinn2_lstm_layer,
    multilevel_matmul,
    pack_bits,
)
from eegbin.kernels.xnor_lstm import SIGNALS

# ---------------------------------------------------------------------------
# plain-numpy MuBiNN2 (the oracle)
# ---------------------------------------------------------------------------


def pow2_nearest(m):
    m = np.asarray(m, dtype=float)
    lo = np.ldexp(1.0, np.frexp(m)[1] - 1)
    return np.where(m > 0, np.where(m >= 1.5 * lo, 2 * lo, lo), 0.0)


def algorithm1(v, A, pow2=False, fixed=None):
    """Rows of v -> bipolar planes (A, B, n), scales (A, B), sum_i alpha_i b_i (level order)."""
    r = v.copy()
    planes, scales = [], []
    approx = np.zeros_like(v)
    for level in range(A):
        b = np.where(r >= 0, 1.0, -1.0)
        if fixed is not None:
            a = np.full(len(v), fixed[level])
        else:
            a = np.cumsum(np.abs(r), axis=1)[:, -1] / v.shape[1]  # mean |r|, summed in unit order
            if pow2:
                a = pow2_nearest(a)
        planes.append(b)
        scales.append(a)
        step = np.where(b > 0, a[:, None], -a[:, None])  # alpha_i b_i
        approx = approx + step
        r = r - step
    return np.array(planes), np.array(scales), approx


def mlb(v, A, pow2, fixed, offset=0.0):
    """offset + MLB(v - offset): the signal passes on offset + sum_i alpha_i b_i."""
    return offset + algorithm1(v - offset, A, pow2, fixed)[2]


def product_float(planes, scales, Wb, ws):
    """Eq. (9) through the reconstructions: x_hat @ w_hat.T (float rounding of numpy's matmul)."""
    x_hat = np.einsum("ib,ibn->bn", scales, planes)
    w_hat = np.einsum("jc,jcn->cn", ws, Wb)
    return x_hat @ w_hat.T


def product_xnor(planes, scales, Wb, ws):
    """Eq. (9) by multilevel_matmul (tested bit-exact against its documented fma order)."""
    pack = lambda P: np.stack([pack_bits(p, "bipolar") for p in P])  # noqa: E731
    return multilevel_matmul(pack(planes), scales, pack(Wb), ws, planes.shape[2])


def mubinn2_numpy(x, h0, c0, Wx, wsx, Wh, wsh, bias, A, pow2, sig, tanh, static=None, product=product_xnor,
                  gx=None):
    """The cell of eq. (1)-(6): A, pow2 and static per signal (order SIGNALS) or one for all; 0 levels: float."""
    A = [A] * 8 if np.isscalar(A) else A
    pow2 = [pow2] * 8 if np.isscalar(pow2) else pow2
    static = [None] * 8 if static is None else static
    offsets = dict(i=0.5, f=0.5, o=0.5)

    def q(name, v):
        k = SIGNALS.index(name)
        if A[k] == 0:
            return v
        return mlb(v, A[k], pow2[k], static[k], offsets.get(name, 0.0))

    B, T = (x.shape if gx is None else gx.shape)[:2]
    H = h0.shape[1]
    h, c = h0.copy(), c0.copy()
    out = np.empty((B, T, H))
    for t in range(T):
        hb, hs, _ = algorithm1(h, A[1], pow2[1], static[1])
        if gx is None:
            xb, xs, _ = algorithm1(x[:, t], A[0], pow2[0], static[0])
            z = (product(xb, xs, Wx, wsx) + bias) + product(hb, hs, Wh, wsh)
        else:
            z = gx[:, t] + product(hb, hs, Wh, wsh)
        i = q("i", np.interp(z[:, :H], *sig))
        f = q("f", np.interp(z[:, H:2 * H], *sig))
        g = q("g", np.interp(z[:, 2 * H:3 * H], *tanh))
        o = q("o", np.interp(z[:, 3 * H:], *sig))
        c = f * q("c", c) + i * g
        h = o * q("tanh_c", np.interp(c, *tanh))
        out[:, t] = h
    return out, c


# ---------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------


def table(function, n_segments=32, bound=None):
    bound = (8.0 if function == "sigmoid" else 4.0) if bound is None else bound
    xp = np.linspace(-bound, bound, n_segments + 1)
    return xp, (expit(xp) if function == "sigmoid" else np.tanh(xp))


def make_layer(seed, D, H, W, scale=0.5):
    rng = np.random.default_rng(seed)
    Wx = np.where(rng.random((W, 4 * H, D)) < 0.5, -1.0, 1.0)
    Wh = np.where(rng.random((W, 4 * H, H)) < 0.5, -1.0, 1.0)
    wsx = scale * rng.random((W, 4 * H)) / np.sqrt(D)
    wsh = scale * rng.random((W, 4 * H)) / np.sqrt(H)
    bias = 0.1 * rng.normal(size=4 * H)
    packed = [np.stack([pack_bits(p, "bipolar") for p in w]) for w in (Wx, Wh)]
    ops = lstm_layer_operands(packed[0], wsx, packed[1], wsh, bias, D)
    return (Wx, wsx, Wh, wsh, bias), packed, ops


CASES = [  # B, T, D, H, A, W, pow2
    (1, 6, 5, 8, 1, 1, False),
    (3, 5, 32, 20, 2, 2, False),
    (2, 4, 70, 9, 3, 3, True),
    (8, 5, 32, 20, 3, 2, False),
    (11, 4, 7, 65, 2, 3, True),
    (16, 3, 130, 4, 1, 2, False),
]


@pytest.mark.parametrize("B, T, D, H, A, W, pow2", CASES)
@pytest.mark.parametrize("scales", ["run-time", "static"])
def test_layer_equals_numpy_mubinn2_bit_for_bit(B, T, D, H, A, W, pow2, scales):
    rng = np.random.default_rng(B * 100 + H)
    (Wx, wsx, Wh, wsh, bias), _, ops = make_layer(B + D, D, H, W)
    x = rng.normal(size=(B, T, D))
    h0, c0 = 0.3 * rng.normal(size=(2, B, H))
    static = None if scales == "run-time" else 0.5 * rng.random((len(SIGNALS), A)) / (1 + np.arange(A))
    sig, tanh = table("sigmoid"), table("tanh")
    out, c = mubinn2_lstm_layer(x, h0, c0, ops, A, sig, tanh, power_of_two=pow2,
                                static_scales=None if static is None else list(static))
    ref_out, ref_c = mubinn2_numpy(x, h0, c0, Wx, wsx, Wh, wsh, bias, A, pow2, sig, tanh, static)
    assert out.shape == (B, T, H) and c.shape == (B, H)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(c, ref_c)


@pytest.mark.parametrize("B, A, W", [(1, 1, 1), (3, 2, 2), (9, 3, 3), (2, 5, 4)])
def test_layer_equals_the_paper_with_float_products(B, A, W):
    # products of the reconstructions by numpy's matmul: equal to 1e-12 (greedy scales
    # of random data have no exact ties for a rounding difference to flip)
    rng = np.random.default_rng(B + 10 * A)
    (Wx, wsx, Wh, wsh, bias), _, ops = make_layer(A, 32, 100, W)
    x = rng.normal(size=(B, 8, 32))
    h0 = c0 = np.zeros((B, 100))
    sig, tanh = table("sigmoid"), table("tanh")
    out, c = mubinn2_lstm_layer(x, h0, c0, ops, A, sig, tanh)
    ref_out, ref_c = mubinn2_numpy(x, h0, c0, Wx, wsx, Wh, wsh, bias, A, False, sig, tanh, product=product_float)
    np.testing.assert_allclose(out, ref_out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, ref_c, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_segments, bound", [(256, 8.0), (20, 5.0), (12, 3.0), (7, 6.5)])
def test_tables_of_any_uniform_grid(n_segments, bound):
    # > 32 segments (gathered), and grids whose step is not a power of two (corrected index)
    rng = np.random.default_rng(n_segments)
    (Wx, wsx, Wh, wsh, bias), _, ops = make_layer(1, 6, 10, 2, scale=3.0)
    x = 2 * rng.normal(size=(9, 5, 6))
    h0 = c0 = np.zeros((9, 10))
    sig, tanh = table("sigmoid", n_segments, bound), table("tanh", n_segments, bound / 2)
    for B in (9, 2):
        out, c = mubinn2_lstm_layer(x[:B], h0[:B], c0[:B], ops, 2, sig, tanh)
        ref_out, ref_c = mubinn2_numpy(x[:B], h0[:B], c0[:B], Wx, wsx, Wh, wsh, bias, 2, False, sig, tanh)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(c, ref_c)


def test_piecewise_linear_tables_equal_np_interp_at_breakpoints_and_beyond():
    # one unit, one level, identity-like weights: z sweeps every breakpoint, each side of it
    sig = table("sigmoid")
    xp = sig[0]
    z = np.concatenate([xp, np.nextafter(xp, -np.inf), np.nextafter(xp, np.inf), [-1e300, 1e300, 0.0, -0.0]])
    from numba import njit

    from eegbin.kernels import _simd as V
    from eegbin.kernels.xnor_lstm import _pwl, _pwl_operands, _pwl_params

    @njit
    def run(z, tab, fp, sl, out):
        P = _pwl_params(tab, fp, sl)
        for k in range(0, z.shape[0], 8):
            V.store(out, k, _pwl(V.load(z, k), P))

    for tab_ in (sig, table("tanh", 12, 3.0)):
        zz = np.zeros(-(-len(z) // 8) * 8)
        zz[: len(z)] = z * (tab_[0][-1] / 8)
        out = np.zeros_like(zz)
        run(zz, *_pwl_operands(tab_, "t"), out)
        np.testing.assert_array_equal(out, np.interp(zz, *tab_))


@pytest.mark.parametrize("B", [2, 10])
def test_per_signal_levels_and_given_input_products(B):
    # the hooks of the LSTM core: any signal left in float, its own scales and rules;
    # float input weights (their products gx computed outside)
    rng = np.random.default_rng(B)
    D, H, T = 5, 12, 6
    (Wx, wsx, Wh, wsh, bias), _, ops = make_layer(7, D, H, 2)
    x = rng.normal(size=(B, T, D))
    h0, c0 = 0.3 * rng.normal(size=(2, B, H))
    gx = rng.normal(size=(B, T, 4 * H))
    sig, tanh = table("sigmoid", 16), table("tanh", 16)
    levels = [2, 3, 0, 2, 1, 0, 4, 2]
    pow2 = [True, False, False, True, False, False, True, False]
    static = [None, None, None, np.array([0.3, 0.1]), None, None, None, np.array([0.5, 0.25])]
    for given in (None, gx):
        out, c = mubinn2_lstm_layer(x, h0, c0, ops, levels, sig, tanh, power_of_two=pow2, static_scales=static,
                                    gx=given)
        ref_out, ref_c = mubinn2_numpy(x, h0, c0, Wx, wsx, Wh, wsh, bias, levels, pow2, sig, tanh, static, gx=given)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(c, ref_c)


def test_both_layouts_and_any_thread_count_give_identical_bits():
    rng = np.random.default_rng(5)
    _, _, ops = make_layer(3, 32, 100, 3)
    x = rng.normal(size=(9, 7, 32))
    h0, c0 = 0.2 * rng.normal(size=(2, 9, 100))
    sig, tanh = table("sigmoid"), table("tanh")
    levels = [3, 2, 1, 0, 3, 2, 0, 2]  # per signal, some left in float
    kw = dict(power_of_two=[False, True, False, False, True, False, False, True],
              static_scales=[None, None, None, None, None, np.array([0.2, 0.1]), None, None])
    full, c_full = mubinn2_lstm_layer(x, h0, c0, ops, levels, sig, tanh, **kw)  # groups of 8 samples
    for b in range(9):  # one sample at a time: lanes are gate rows and units
        out, c = mubinn2_lstm_layer(x[b:b + 1], h0[b:b + 1], c0[b:b + 1], ops, levels, sig, tanh, **kw)
        np.testing.assert_array_equal(out[0], full[b])
        np.testing.assert_array_equal(c[0], c_full[b])
    for n_jobs in (1, 2, -1):
        np.testing.assert_array_equal(mubinn2_lstm_layer(x, h0, c0, ops, levels, sig, tanh, n_jobs=n_jobs, **kw)[0],
                                      full)


def test_gate_preactivations_equal_multilevel_matmul_bit_for_bit():
    rng = np.random.default_rng(6)
    (_, wsx, _, wsh, bias), (Wxp, Whp), ops = make_layer(4, 32, 100, 2)
    B = 5
    xb, xs, _ = algorithm1(rng.normal(size=(B, 32)), 3)
    hb, hs, _ = algorithm1(rng.normal(size=(B, 100)), 2)
    xp = np.stack([pack_bits(p, "bipolar") for p in xb])
    hp = np.stack([pack_bits(p, "bipolar") for p in hb])
    z = lstm_gate_preactivations(xp, xs, hp, hs, ops)
    ref = (multilevel_matmul(xp, xs, Wxp, wsx, 32) + bias) + multilevel_matmul(hp, hs, Whp, wsh, 100)
    np.testing.assert_array_equal(z, ref)


def test_bad_input_names_the_argument():
    (_, wsx, _, wsh, bias), (Wxp, Whp), ops = make_layer(0, 6, 4, 1)
    x, s = np.zeros((1, 2, 6)), np.zeros((1, 4))
    sig, tanh = table("sigmoid"), table("tanh")
    with pytest.raises(ValueError, match="x must have 6 features"):
        mubinn2_lstm_layer(np.zeros((1, 2, 5)), s, s, ops, 1, sig, tanh)
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 4\)"):
        mubinn2_lstm_layer(x, np.zeros((2, 4)), s, ops, 1, sig, tanh)
    with pytest.raises(ValueError, match="x must be finite, got NaN"):
        mubinn2_lstm_layer(np.full((1, 2, 6), np.nan), s, s, ops, 1, sig, tanh)
    with pytest.raises(ValueError, match="h must be binarized"):
        mubinn2_lstm_layer(x, s, s, ops, 0, sig, tanh)
    with pytest.raises(ValueError, match="x must be binarized"):
        mubinn2_lstm_layer(x, s, s, ops, [0, 1, 1, 1, 1, 1, 1, 1], sig, tanh)
    with pytest.raises(ValueError, match="levels must be an integer or 8 integers"):
        mubinn2_lstm_layer(x, s, s, ops, [1, 1], sig, tanh)
    with pytest.raises(TypeError, match="levels must be an integer, got float"):
        mubinn2_lstm_layer(x, s, s, ops, 1.5, sig, tanh)
    with pytest.raises(ValueError, match=r"static_scales\[2\] \(i\) must hold 2 finite scales"):
        mubinn2_lstm_layer(x, s, s, ops, 2, sig, tanh, static_scales=[None, None, [1.0], None, None, None, None, None])
    with pytest.raises(ValueError, match="offsets must be 8 finite numbers, 0 for x and h"):
        mubinn2_lstm_layer(x, s, s, ops, 1, sig, tanh, offsets=[0.5] * 8)
    with pytest.raises(ValueError, match="gx must have 16 gate inputs"):
        mubinn2_lstm_layer(None, s, s, ops, 1, sig, tanh, gx=np.zeros((1, 2, 15)))
    with pytest.raises(ValueError, match="uniform grid"):
        mubinn2_lstm_layer(x, s, s, ops, 1, (np.array([0.0, 1.0, 3.0]), np.zeros(3)), tanh)
    with pytest.raises(TypeError, match="operands must be the tuple"):
        mubinn2_lstm_layer(x, s, s, ops[:5], 1, sig, tanh)
    with pytest.raises(ValueError, match=r"wh_planes must hold at least one level of 16 gate rows"):
        lstm_layer_operands(Wxp, wsx, Whp[:, :8], wsh[:, :8], bias, 6)
    with pytest.raises(ValueError, match=r"bias must have shape \(16,\)"):
        lstm_layer_operands(Wxp, wsx, Whp, wsh, bias[:3], 6)
    with pytest.raises(ValueError, match="wx_planes has nonzero padding"):
        lstm_layer_operands(Wxp | np.uint64(1 << 40), wsx, Whp, wsh, bias, 6)
    with pytest.raises(TypeError, match="wx_planes must be packed uint64 words"):
        lstm_layer_operands(Wxp.astype(np.int64), wsx, Whp, wsh, bias, 6)
    xp, hp = np.zeros((1, 1, 1), np.uint64), np.zeros((1, 1, 1), np.uint64)
    with pytest.raises(ValueError, match="x_planes has nonzero padding bits beyond n_bits=6"):
        lstm_gate_preactivations(xp | np.uint64(1 << 40), [[1.0]], hp, [[1.0]], ops)
    with pytest.raises(ValueError, match="h_planes has nonzero padding bits beyond n_bits=4"):
        lstm_gate_preactivations(xp, [[1.0]], hp | np.uint64(1 << 40), [[1.0]], ops)

"""Explicit 512-bit vectors (kernels._simd) and the scaled XNOR-popcount core (kernels.xnor).

Oracles: numpy element-wise arithmetic, ``np.bitwise_count``, ``np.interp``-free
table look-ups, and a float64 fused multiply-add evaluated exactly with
``fractions.Fraction`` (one rounding, as IEEE fma).
"""

import platform
import re
from fractions import Fraction

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from eegbin.kernels import _simd as V
from eegbin.kernels import multilevel_matmul, pack_bits, xnor

from .test_bits import _cpu_flags


def fma_exact(a, b, c):
    """a * b + c rounded once to float64 (Fraction -> float rounds to nearest even)."""
    return float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))


# ---------------------------------------------------------------------------
# the vector operations, lane by lane against numpy
# ---------------------------------------------------------------------------


@njit
def _int_ops(a, b, out):
    x = V.load(a, 0)
    y = V.load(b, 0)
    V.store(out, (0, 0), V.xor(x, y))
    V.store(out, (1, 0), V.add(x, y))
    V.store(out, (2, 0), V.popcount(x))
    V.store(out, (3, 0), V.or_(x, V.splat_u64(np.uint64(6))))
    V.store(out, (4, 0), V.sub(x, y))


@njit
def _float_ops(a, b, c, out, bits):
    x = V.load(a, 0)
    y = V.load(b, 0)
    z = V.load(c, 0)
    V.store(out, (0, 0), V.add(x, y))
    V.store(out, (1, 0), V.sub(x, y))
    V.store(out, (2, 0), V.mul(x, y))
    V.store(out, (3, 0), V.div(x, y))
    V.store(out, (4, 0), V.fma(x, y, z))
    V.store(out, (5, 0), V.absf(x))
    V.store(out, (6, 0), V.floor(x))
    V.store(out, (7, 0), V.select(V.ge(x, y), x, y))
    V.store(out, (8, 0), V.select(V.lt(x, y), x, y))
    V.store(out, (9, 0), V.select(V.gt(x, y), V.splat_f64(1.0), V.splat_f64(0.0)))
    V.store(out, (10, 0), V.select(V.eq(x, y), V.splat_f64(1.0), V.splat_f64(0.0)))
    V.store(out, (11, 0), V.to_f64(V.to_i64(V.floor(x))))
    bits[0] = V.mask_bits(V.ge(x, V.splat_f64(0.0)))
    bits[1] = np.uint64(V.lane(V.popcount(V.splat_u64(np.uint64(0xFF))), 3))


def test_vector_integer_ops_equal_numpy():
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 2**63, size=8, dtype=np.uint64) * np.uint64(2) + np.uint64(1) for _ in range(2))
    out = np.zeros((5, 8), dtype=np.uint64)
    _int_ops(a, b, out)
    np.testing.assert_array_equal(out[0], a ^ b)
    np.testing.assert_array_equal(out[1], a + b)  # wraps modulo 2**64, as numpy
    np.testing.assert_array_equal(out[2], np.bitwise_count(a).astype(np.uint64))
    np.testing.assert_array_equal(out[3], a | np.uint64(6))
    np.testing.assert_array_equal(out[4], a - b)


def test_vector_float_ops_equal_numpy_and_exact_fma():
    rng = np.random.default_rng(1)
    a = rng.normal(size=8) * 3
    b = rng.normal(size=8)
    b[2] = a[2]  # a tie for the comparisons
    c = rng.normal(size=8)
    out = np.zeros((12, 8))
    bits = np.zeros(2, dtype=np.uint64)
    _float_ops(a, b, c, out, bits)
    np.testing.assert_array_equal(out[0], a + b)
    np.testing.assert_array_equal(out[1], a - b)
    np.testing.assert_array_equal(out[2], a * b)
    np.testing.assert_array_equal(out[3], a / b)
    np.testing.assert_array_equal(out[4], [fma_exact(*t) for t in zip(a, b, c)])  # one rounding
    np.testing.assert_array_equal(out[5], np.abs(a))
    np.testing.assert_array_equal(out[6], np.floor(a))
    np.testing.assert_array_equal(out[7], np.where(a >= b, a, b))
    np.testing.assert_array_equal(out[8], np.where(a < b, a, b))
    np.testing.assert_array_equal(out[9], (a > b).astype(float))
    np.testing.assert_array_equal(out[10], (a == b).astype(float))
    np.testing.assert_array_equal(out[11], np.floor(a))
    assert int(bits[0]) == sum(1 << k for k in range(8) if a[k] >= 0)  # lane k -> bit k
    assert int(bits[1]) == 8


@njit
def _lookups(t, idx, out):
    i = V.load(idx, 0)
    V.store(out, (0, 0), V.lookup32(V.load(t, 0), V.load(t, 8), V.load(t, 16), V.load(t, 24), i))
    V.store(out, (1, 0), V.gather(t.ctypes.data, i))


def test_table_lookups_equal_indexing():
    t = np.random.default_rng(2).normal(size=40)
    for idx in (np.arange(8), np.arange(24, 32), np.array([31, 0, 16, 15, 7, 8, 23, 24])):
        idx = idx.astype(np.uint64)
        out = np.zeros((2, 8))
        _lookups(t, idx, out)
        np.testing.assert_array_equal(out[0], t[idx.astype(np.int64)])
        np.testing.assert_array_equal(out[1], t[idx.astype(np.int64)])


@njit
def _transposed(a, out):
    cols = V.transpose8(V.load(a, (0, 0)), V.load(a, (1, 0)), V.load(a, (2, 0)), V.load(a, (3, 0)),
                        V.load(a, (4, 0)), V.load(a, (5, 0)), V.load(a, (6, 0)), V.load(a, (7, 0)))
    for j in range(8):
        V.store(out, (j, 0), cols[j])


@pytest.mark.parametrize("dtype", [np.float64, np.uint64])
def test_transpose8_equals_numpy_transpose(dtype):
    a = np.random.default_rng(3).permutation(64).astype(dtype).reshape(8, 8)
    out = np.zeros((8, 8), dtype=dtype)
    _transposed(a, out)
    np.testing.assert_array_equal(out, a.T)


def test_vectors_load_at_index_tuples_of_c_contiguous_arrays():
    a = np.arange(3 * 4 * 16, dtype=np.float64).reshape(3, 4, 16)

    @njit
    def f(a):
        return V.lane(V.load(a, (2, 1, 5)), 7)

    assert f(a) == a[2, 1, 12]
    with pytest.raises(TypingError):  # non-contiguous arrays are rejected at typing
        f(a[:, :, ::2])


# ---------------------------------------------------------------------------
# the product core
# ---------------------------------------------------------------------------


def _case(seed, Lx, Lw, n, m, d):
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((Lx, n, d)) < 0.5, 1.0, -1.0)
    W = np.where(rng.random((Lw, m, d)) < 0.5, 1.0, -1.0)
    xs, ws = rng.normal(size=(Lx, n)), rng.normal(size=(Lw, m))
    Xp = np.stack([pack_bits(p, "bipolar") for p in X])
    Wp = np.stack([pack_bits(p, "bipolar") for p in W])
    return X, W, xs, ws, Xp, Wp


def _product_in_documented_order(X, W, xs, ws, d):
    """The evaluation order of kernels.xnor, with exact fma: the bit-exact oracle."""
    Lx, n, _ = X.shape
    Lw, m, _ = W.shape
    out = np.empty((n, m))
    for r in range(n):
        S = 0.0
        for i in range(Lx):
            S = S + xs[i, r]
        for c in range(m):
            acc = 0.0
            for j in range(Lw):
                T = float(d) * S
                for i in range(Lx):
                    h = int(np.sum(X[i, r] != W[j, c]))  # popcount of the XOR
                    T = fma_exact(-2.0 * xs[i, r], h, T)
                acc = fma_exact(ws[j, c], T, acc)
            out[r, c] = acc
    return out


@pytest.mark.parametrize("Lx, Lw, n, m, d", [(3, 3, 5, 37, 132), (1, 2, 3, 8, 64), (2, 1, 2, 40, 300), (4, 3, 1, 3, 7)])
def test_multilevel_matmul_follows_the_documented_order_bit_for_bit(Lx, Lw, n, m, d):
    X, W, xs, ws, Xp, Wp = _case(Lx * 100 + d, Lx, Lw, n, m, d)
    out = multilevel_matmul(Xp, xs, Wp, ws, d)
    np.testing.assert_array_equal(out, _product_in_documented_order(X, W, xs, ws, d))
    ref = np.einsum("ir,ird->rd", xs, X) @ np.einsum("jc,jcd->cd", ws, W).T
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12 * d)


def test_product_tiles_cover_every_column_count():
    # 4-vector passes (32 columns), single vectors, and a partial last vector
    for m in (1, 7, 8, 9, 31, 32, 33, 64, 71):
        X, W, xs, ws, Xp, Wp = _case(m, 2, 2, 3, m, 100)
        out = multilevel_matmul(Xp, xs, Wp, ws, 100)
        np.testing.assert_array_equal(out, _product_in_documented_order(X, W, xs, ws, 100))


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or "avx512_vpopcntdq" not in _cpu_flags(),
    reason="checks the 512-bit popcount instruction of CPUs with AVX-512 VPOPCNTDQ",
)
def test_products_compile_to_512_bit_vector_popcounts():
    # fresh compilation (inspect_asm is unavailable for code loaded from the cache)
    mm = njit(parallel=False)(xnor.mm_rows.py_func)
    X, W, xs, ws, Xp, Wp = _case(0, 3, 3, 2, 40, 132)
    Xl, M2, C = xnor.left_operand(Xp, xs, 132)
    Wr, wsr = xnor.rows_operand(Wp, ws)
    np.testing.assert_array_equal(mm(Xl, M2, C, Wr, wsr, 3, 40), multilevel_matmul(Xp, xs, Wp, ws, 132))
    asm = "".join(mm.inspect_asm().values())
    widths = set(re.findall(r"vpopcntq\s+\S+\s*%([xyz])mm", asm))
    assert widths == {"z"}, f"expected only zmm popcounts, got {widths}"

"""Packed-bit kernels against plain-numpy oracles (hypothesis over shapes)."""

import os
import platform

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit

from eegbin.kernels import (
    bipolar_dot,
    hamming_argmin,
    hamming_cdist,
    hamming_topk,
    multilevel_matmul,
    n_words_for,
    pack_bits,
    popcount,
    unpack_bits,
)
from eegbin.kernels import bits as bits_mod

# modest by default so the suite stays fast; EEGBIN_HYPOTHESIS_EXAMPLES=2000 for a deep run
HYP = settings(
    max_examples=int(os.environ.get("EEGBIN_HYPOTHESIS_EXAMPLES", 50)),
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
N_JOBS = (None, 1, 2, -1)


# ---------------------------------------------------------------------------
# plain-numpy oracles
# ---------------------------------------------------------------------------


def np_pack(bits):
    """bool (n, d) -> uint64 (n, ceil(d / 64)), LSB first, via np.packbits."""
    n, d = bits.shape
    nw = -(-d // 64)
    padded = np.zeros((n, nw * 64), dtype=np.uint8)
    padded[:, :d] = bits
    return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def np_hamming(a_bits, b_bits):
    return (a_bits[:, None, :] != b_bits[None, :, :]).sum(-1)


def np_topk(D, k):
    """k nearest by distance, ties by lower index (stable sort)."""
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(D, idx, axis=1)


def rand_bits(seed, n, d, p=0.5):
    return np.random.default_rng(seed).random((n, d)) < p


shapes = st.tuples(
    st.integers(0, 2**31 - 1),  # seed
    st.integers(0, 9),  # n_a
    st.integers(0, 9),  # n_b
    st.integers(0, 300),  # n_bits, mostly not multiples of 64
)


# ---------------------------------------------------------------------------
# pack / unpack / popcount
# ---------------------------------------------------------------------------


@HYP
@given(shapes)
def test_pack_unpack_match_oracle(case):
    seed, n, _, d = case
    bits = rand_bits(seed, n, d)
    words = pack_bits(bits)
    assert words.dtype == np.uint64 and words.shape == (n, n_words_for(d))
    np.testing.assert_array_equal(words, np_pack(bits))
    np.testing.assert_array_equal(pack_bits(bits.astype(np.int64), kind="binary"), words)
    np.testing.assert_array_equal(pack_bits(bits.astype(np.float32), kind="binary"), words)
    bipolar = np.where(bits, 1, -1).astype(np.int8)
    np.testing.assert_array_equal(pack_bits(bipolar, kind="bipolar"), words)
    np.testing.assert_array_equal(unpack_bits(words, d), bits)
    np.testing.assert_array_equal(unpack_bits(words, d, kind="bipolar"), bipolar)
    np.testing.assert_array_equal(popcount(words), bits.sum(1))
    np.testing.assert_array_equal(
        popcount(words), np.bitwise_count(words).sum(1, dtype=np.uint32)
    )


def test_pack_conventions():
    # bipolar: +1 -> 1, -1 -> 0, and H(0) = 1
    np.testing.assert_array_equal(unpack_bits(pack_bits(np.array([[1, -1, 0]])), 3), [[1, 0, 1]])
    np.testing.assert_array_equal(
        unpack_bits(pack_bits(np.array([[-1, 0, 1]]), kind="bipolar"), 3), [[0, 1, 1]]
    )
    # heaviside on reals: bit = (x >= 0), -0.0 included
    x = np.array([[-2.5, -0.0, 0.0, 1e-300, -1e-300, 3.0]])
    np.testing.assert_array_equal(unpack_bits(pack_bits(x, kind="heaviside"), 6), [[0, 1, 1, 1, 0, 1]])
    # auto: no negative value -> binary
    assert pack_bits(np.array([[0, 1, 1]]))[0, 0] == 0b110
    # LSB first, bit 64 in word 1, padding zero
    bits = np.zeros((1, 70), dtype=bool)
    bits[0, [0, 63, 64, 69]] = True
    np.testing.assert_array_equal(pack_bits(bits), [[1 | (1 << 63), 1 | (1 << 5)]])


def test_empty_and_zero_bits():
    # 0 rows: shapes preserved
    assert pack_bits(np.zeros((0, 70), dtype=bool)).shape == (0, 2)
    assert unpack_bits(np.zeros((0, 2), dtype=np.uint64), 70).shape == (0, 70)
    assert popcount(np.zeros((0, 2), dtype=np.uint64)).shape == (0,)
    # 0 bits: zero words per row, every distance is 0, nearest = lowest index
    z = pack_bits(np.zeros((3, 0), dtype=bool))
    assert z.shape == (3, 0)
    assert unpack_bits(z, 0).shape == (3, 0)
    np.testing.assert_array_equal(popcount(z), [0, 0, 0])
    np.testing.assert_array_equal(hamming_cdist(z, z[:2]), np.zeros((3, 2)))
    np.testing.assert_array_equal(hamming_argmin(z, z[:2])[0], [0, 0, 0])
    np.testing.assert_array_equal(hamming_topk(z, z, 2)[0], [[0, 1]] * 3)
    np.testing.assert_array_equal(bipolar_dot(z, z, 0), np.zeros((3, 3)))
    empty = np.zeros((0, 4), dtype=np.uint64)
    full = pack_bits(rand_bits(0, 5, 256))
    assert hamming_cdist(empty, full).shape == (0, 5)
    assert hamming_cdist(full, empty).shape == (5, 0)
    idx, dist = hamming_argmin(empty, full)
    assert idx.shape == dist.shape == (0,) and dist.dtype == np.uint32
    assert hamming_topk(empty, full, 3)[0].shape == (0, 3)
    assert bipolar_dot(full, empty, 256).shape == (5, 0)


# ---------------------------------------------------------------------------
# Hamming searches (both layouts: transposed short codes and row-major long codes)
# ---------------------------------------------------------------------------


@pytest.fixture(params=["short", "long"])
def layout(request, monkeypatch):
    if request.param == "long":
        monkeypatch.setattr(bits_mod, "_SHORT_WORDS", -1)
    return request.param


def _check_searches(a_bits, b_bits, k, n_jobs_list=(None,)):
    A, B = pack_bits(a_bits), pack_bits(b_bits)
    D = np_hamming(a_bits, b_bits)
    for n_jobs in n_jobs_list:
        dist = hamming_cdist(A, B, n_jobs=n_jobs)
        assert dist.dtype == np.uint32 and dist.shape == D.shape
        np.testing.assert_array_equal(dist, D)
        if B.shape[0] == 0:
            continue
        idx, dmin = hamming_argmin(A, B, n_jobs=n_jobs)
        np.testing.assert_array_equal(idx, D.argmin(1))  # ties -> lowest index
        np.testing.assert_array_equal(dmin, D.min(1))
        kk = min(k, B.shape[0])
        idx, dk = hamming_topk(A, B, kk, n_jobs=n_jobs)
        ref_idx, ref_d = np_topk(D, kk)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(dk, ref_d)
        assert dk.dtype == np.uint32 and idx.dtype == np.int64


@HYP
@given(shapes, st.integers(1, 6))
def test_searches_match_oracle(layout, case, k):
    seed, na, nb, d = case
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95)
    _check_searches(rand_bits(seed, na, d, p), rand_bits(seed + 1, nb, d, p), k)


@HYP
@given(st.integers(0, 2**31 - 1), st.integers(1, 5))
def test_searches_with_many_ties(layout, seed, d):
    # few bits and many codes: most distances tie; blocks of 512 codes are crossed
    a, b = rand_bits(seed, 7, d), rand_bits(seed + 1, 1300, d)
    _check_searches(a, b, 9)


def test_searches_long_codes_and_blocks():
    # > 64 words (row-major tiles), row counts not multiples of the 2 x 2 / 64 tiles
    a, b = rand_bits(1, 67, 4200), rand_bits(2, 131, 4200)
    b[100] = a[3]  # an exact match
    _check_searches(a, b, 5, N_JOBS)
    assert hamming_argmin(pack_bits(a), pack_bits(b))[1][3] == 0
    # short codes: more database codes than one transposed block, one query
    a, b = rand_bits(3, 1, 200), rand_bits(4, 2000, 200)
    _check_searches(a, b, 4, N_JOBS)


@pytest.mark.parametrize("d", [1, 64, 130, 300])
def test_results_identical_for_every_n_jobs(layout, d):
    # many ties (p small), several queries per thread chunk, several blocks
    a, b = rand_bits(d, 13, d, 0.1), rand_bits(d + 1, 1100, d, 0.1)
    _check_searches(a, b, 7, N_JOBS)
    for f in (pack_bits, popcount):
        arg = a if f is pack_bits else pack_bits(a)
        outs = [f(arg, n_jobs=j) for j in N_JOBS]
        for out in outs[1:]:
            np.testing.assert_array_equal(out, outs[0])
    W = pack_bits(a)
    for j in N_JOBS:
        np.testing.assert_array_equal(unpack_bits(W, d, n_jobs=j), a)
        np.testing.assert_array_equal(
            bipolar_dot(W, W, d, n_jobs=j), bipolar_dot(W, W, d)
        )


@HYP
@given(shapes)
def test_bipolar_dot_matches_integer_product(case):
    seed, na, nb, d = case
    a = np.where(rand_bits(seed, na, d), 1, -1)
    b = np.where(rand_bits(seed + 1, nb, d), 1, -1)
    out = bipolar_dot(pack_bits(a, "bipolar"), pack_bits(b, "bipolar"), d)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, a @ b.T)


# ---------------------------------------------------------------------------
# multi-level matmul (MuBiNN eq. 9)
# ---------------------------------------------------------------------------


def _planes(seed, L, n, d):
    v = np.where(np.random.default_rng(seed).random((L, n, d)) < 0.5, 1, -1)
    packed = np.stack([pack_bits(p, "bipolar") for p in v]) if L else np.zeros((0, n, n_words_for(d)), np.uint64)
    return v, packed


@HYP
@given(
    st.integers(0, 2**31 - 1),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 8),
    st.integers(0, 8),
    st.integers(0, 300),
    st.booleans(),
)
def test_multilevel_matmul_equals_reconstructed_product(seed, Lx, Lw, n, m, d, per_row):
    rng = np.random.default_rng(seed)
    X, Xp = _planes(seed, Lx, n, d)
    W, Wp = _planes(seed + 1, Lw, m, d)
    xs = rng.normal(size=(Lx, n) if per_row else Lx)
    ws = rng.normal(size=(Lw, m) if per_row else Lw)
    xs2 = xs if per_row else np.repeat(xs[:, None], n, 1)
    ws2 = ws if per_row else np.repeat(ws[:, None], m, 1)
    X_hat = np.einsum("ir,ird->rd", xs2, X) if Lx else np.zeros((n, d))
    W_hat = np.einsum("jc,jcd->cd", ws2, W) if Lw else np.zeros((m, d))
    ref = X_hat @ W_hat.T
    out = multilevel_matmul(Xp, xs, Wp, ws, d)
    assert out.shape == (n, m) and out.dtype == np.float64
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-9 * max(1, d))


def test_multilevel_matmul_lstm_shape():
    # 3 x 3 levels, 400 x 132 weights (the benchmark regime; 4-word fused path)
    X, Xp = _planes(5, 3, 11, 132)
    W, Wp = _planes(6, 3, 400, 132)
    xs, ws = np.array([1.0, 0.5, 0.25]), np.random.default_rng(0).random((3, 400))
    ref = np.einsum("i,ird->rd", xs, X) @ np.einsum("jc,jcd->cd", ws, W).T
    outs = [multilevel_matmul(Xp, xs, Wp, ws, 132, n_jobs=j) for j in N_JOBS]
    for out in outs:
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(out, outs[0])  # identical for every thread count


# ---------------------------------------------------------------------------
# popcount lowers to the hardware instruction
# ---------------------------------------------------------------------------


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or "popcnt" not in _cpu_flags(),
    reason="popcount instruction check is for x86-64 CPUs with POPCNT",
)
def test_ctpop_compiles_to_popcount_instruction():
    from eegbin.kernels.bits import _ctpop

    @njit  # not cached: inspect_asm is unavailable for cached code
    def row_hamming(a, b):
        acc = np.uint64(0)
        for k in range(a.shape[0]):
            acc += _ctpop(a[k] ^ b[k])
        return acc

    a = np.arange(16, dtype=np.uint64)
    assert row_hamming(a, a[::-1].copy()) == np.bitwise_count(a ^ a[::-1]).sum()
    asm = "".join(row_hamming.inspect_asm().values())
    assert "popcnt" in asm  # popcntq, or vpopcntq in the vectorized loop
    if "avx512_vpopcntdq" in _cpu_flags():
        assert "vpopcntq" in asm


# ---------------------------------------------------------------------------
# bad input: raised in Python, naming the argument
# ---------------------------------------------------------------------------


W4 = pack_bits(rand_bits(0, 3, 256))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: pack_bits([[1, 0]]), TypeError, "x must be a numpy.ndarray"),
        (lambda: pack_bits(np.ones(3)), ValueError, r"x must be 2-D, got shape \(3,\)"),
        (lambda: pack_bits(np.array([[1, 2]])), ValueError, "x must hold binary values"),
        (lambda: pack_bits(np.array([[1, -2]])), ValueError, "x must hold bipolar values"),
        (lambda: pack_bits(np.array([[0.5, 1.0]]), kind="binary"), ValueError, "binary"),
        (lambda: pack_bits(np.array([[np.nan, 1.0]]), kind="heaviside"), ValueError, "x contains NaN"),
        (lambda: pack_bits(np.array([[np.inf]])), ValueError, "x contains NaN or Inf"),
        (lambda: pack_bits(np.array([["a"]])), TypeError, "x must be bool, integer or float"),
        (lambda: pack_bits(np.array([[1j]])), ValueError, "Complex data not supported.*dtype complex"),
        (lambda: pack_bits(np.ones((1, 2), bool), kind="bipolar"), TypeError, "boolean"),
        (lambda: pack_bits(np.ones((1, 2)), kind="ternary"), ValueError, "kind must be one of"),
        (lambda: unpack_bits(W4.astype(np.int64), 256), TypeError, "words must be packed uint64"),
        (lambda: unpack_bits(W4, 257), ValueError, r"n_bits=257 does not fit 4 words"),
        (lambda: unpack_bits(W4, 100), ValueError, r"n_bits=100 needs 2 words"),
        (lambda: unpack_bits(W4, 256.0), TypeError, "n_bits must be an integer"),
        (lambda: unpack_bits(W4, 256, kind="ternary"), ValueError, "kind must be"),
        (lambda: popcount(W4[0]), ValueError, "words must be 2-D"),
        (lambda: hamming_cdist(W4, W4[:, :3]), ValueError, r"A \(3, 4\) and B \(3, 3\)"),
        (lambda: hamming_cdist(W4[None], W4), ValueError, "A must be 2-D"),
        (lambda: hamming_cdist(W4, W4.view(np.int64)), TypeError, "B must be packed uint64"),
        (lambda: hamming_cdist(W4, W4, n_jobs=0), ValueError, "n_jobs must be"),
        (lambda: hamming_cdist(W4, W4, n_jobs=1.5), TypeError, "n_jobs must be"),
        (lambda: n_words_for(-1), ValueError, "n_bits must be >= 0, got -1"),
        (lambda: n_words_for(1.5), TypeError, "n_bits must be an integer"),
        (lambda: n_words_for(True), TypeError, "n_bits must be an integer"),
        (lambda: hamming_argmin(W4, W4[:0]), ValueError, "B must hold at least one code"),
        (lambda: hamming_topk(W4, W4, 0), ValueError, r"k must be in \[1, 3\], got 0"),
        (lambda: hamming_topk(W4, W4, 4), ValueError, "k must be in"),
        (lambda: hamming_topk(W4, W4, 1.0), TypeError, "k must be an integer"),
        (lambda: bipolar_dot(W4, W4, 300), ValueError, "n_bits=300 does not fit"),
        (lambda: bipolar_dot(W4, W4, 200), ValueError, "A has nonzero padding bits"),
        (lambda: multilevel_matmul(W4, [1.0], W4[None], [1.0], 256), ValueError, "X_planes must be 3-D"),
        (lambda: multilevel_matmul(list(W4), [1.0], W4[None], [1.0], 256), TypeError, "X_planes must be a numpy"),
        (lambda: multilevel_matmul(W4[None], [1.0], W4[None].astype(float), [1.0], 256), TypeError,
         "W_planes must be packed"),
        (lambda: multilevel_matmul(W4[None], [1.0, 2.0], W4[None], [1.0], 256), ValueError,
         r"x_scales must have shape \(1,\) or \(1, 3\)"),
        (lambda: multilevel_matmul(W4[None], [np.nan], W4[None], [1.0], 256), ValueError,
         "x_scales must be finite, got NaN"),
        (lambda: multilevel_matmul(W4[None], ["1"], W4[None], [1.0], 256), TypeError,
         "x_scales must hold numbers, got strings"),
        (lambda: multilevel_matmul(W4[None], [1.0], W4[None, :, :2], [1.0], 256), ValueError, "same words per row"),
        (lambda: multilevel_matmul(W4[None], [1.0], W4[None], [1.0], 250), ValueError,
         "W_planes has nonzero padding|X_planes has nonzero padding"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()

"""Counter-based generator, sparse ternary matrix and rematerialized projection."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eegbin.kernels import (
    bitwise_majority,
    dense_bipolar_project,
    pack_bits,
    random_bits,
    random_words,
    sparse_bipolar_project,
    sparse_ternary_block,
    ternary_threshold,
    unpack_bits,
)

MASK = (1 << 64) - 1
G = 0x9E3779B97F4A7C15


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _word_oracle(seed, row, ctr):
    """Pure-Python definition of the generator (module docstring of eegbin.kernels.rng)."""
    seed_key = _mix64((seed + G) & MASK)
    row_key = _mix64(seed_key ^ _mix64(((row + 1) * G) & MASK))
    return _mix64((row_key + (ctr + 1) * G) & MASK)


def _ternary_oracle(seed, rows, n_cols, sparsity):
    t = ternary_threshold(sparsity)
    R = np.zeros((len(rows), n_cols), dtype=np.int8)
    for a, i in enumerate(rows):
        for j in range(n_cols):
            u = (_word_oracle(seed, i, j // 4) >> (16 * (j % 4))) & 0xFFFF
            R[a, j] = 1 if u < t else (-1 if u < 2 * t else 0)
    return R


def test_words_match_pure_python_definition():
    # pins the bit stream: the same seed gives the same R on every machine
    words = random_words(123, 5, 8, 4)
    expected = [[_word_oracle(123, r, c) for c in range(4)] for r in range(5, 8)]
    assert words.tolist() == expected
    assert random_words(2**32 - 1, 0, 1, 1)[0, 0] == _word_oracle(2**32 - 1, 0, 0)


def test_ternary_block_matches_pure_python_definition():
    R = sparse_ternary_block(7, 3, 6, 21, 0.6)
    np.testing.assert_array_equal(R, _ternary_oracle(7, range(3, 6), 21, 0.6))


@pytest.mark.parametrize("s, t", [(0.9, 3277), (0.0, 32768), (1.0, 0), (1 / 3, 21845), (0.5, 16384)])
def test_ternary_threshold(s, t):
    assert ternary_threshold(s) == t


@pytest.mark.parametrize("sparsity", [0.9, 0.5, 1 / 3])
def test_entry_distribution_within_binomial_tolerance(sparsity):
    R = sparse_ternary_block(11, 0, 400, 1000, sparsity)
    n = R.size
    p_nz = 2 * ternary_threshold(sparsity) / 65536
    assert abs(p_nz - (1 - sparsity)) <= 2**-16
    n_pos, n_neg = int((R == 1).sum()), int((R == -1).sum())
    n_nz = n_pos + n_neg
    # 5 sigma binomial bounds on the number of nonzeros and on the +1 / -1 balance
    assert abs(n_nz - n * p_nz) < 5 * np.sqrt(n * p_nz * (1 - p_nz))
    assert abs(n_pos - n_nz / 2) < 5 * np.sqrt(n_nz / 4)
    # every row and column gets its share (no stuck streams)
    assert (R != 0).sum(axis=1).min() > 0 and (R != 0).sum(axis=0).min() > 0


def test_extreme_sparsities():
    assert not sparse_ternary_block(0, 0, 3, 50, 1.0).any()
    assert (sparse_ternary_block(0, 0, 3, 50, 0.0) != 0).all()


def test_row_blocks_are_regenerated_identically():
    full = sparse_ternary_block(5, 0, 300, 77, 0.9)
    for start, stop in [(0, 1), (17, 64), (64, 300), (299, 300)]:
        np.testing.assert_array_equal(sparse_ternary_block(5, start, stop, 77, 0.9), full[start:stop])
    # a narrower matrix is the prefix of the wider one (entries depend on (row, column) only)
    np.testing.assert_array_equal(sparse_ternary_block(5, 0, 300, 30, 0.9), full[:, :30])
    assert not np.array_equal(sparse_ternary_block(6, 0, 300, 77, 0.9), full)


def test_random_bits_padding_and_balance():
    bits = random_bits(3, 0, 50, 1000)
    assert bits.shape == (50, 16)
    assert not (bits[:, -1] >> np.uint64(1000 % 64)).any()
    frac = unpack_bits(bits, 1000).mean()
    assert abs(frac - 0.5) < 5 * np.sqrt(0.25 / 50000)


def _int_data(rng, n, m, dtype=np.float32):
    # small integers: every sum is exact in float32, so any summation order agrees
    return rng.randint(-8, 9, size=(n, m)).astype(dtype)


def _oracle_project(X, seed, d, s):
    R = sparse_ternary_block(seed, 0, d, X.shape[1], s).astype(np.float64)
    return pack_bits(X.astype(np.float64) @ R.T, kind="heaviside")


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 9), m=st.integers(1, 70), d=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1), s=st.sampled_from([0.0, 0.5, 0.9, 0.999]),
    data_seed=st.integers(0, 1000),
)
def test_projection_matches_dense_oracle(n, m, d, seed, s, data_seed):
    X = _int_data(np.random.RandomState(data_seed), n, m)
    np.testing.assert_array_equal(sparse_bipolar_project(X, seed, d, s), _oracle_project(X, seed, d, s))


def test_projection_float64_and_real_data_agree_with_oracle_away_from_zero():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 300)
    d = 500
    R = sparse_ternary_block(9, 0, d, 300, 0.9).astype(np.float64)
    Z = X @ R.T
    for Xd in (X, X.astype(np.float32)):
        E = unpack_bits(sparse_bipolar_project(Xd, 9, d, 0.9), d)
        clear = np.abs(Z) > 1e-4
        np.testing.assert_array_equal(E[clear], (Z >= 0)[clear])


def test_projection_independent_of_block_chunk_and_threads():
    X = np.random.RandomState(1).randn(70, 150).astype(np.float32)
    ref = sparse_bipolar_project(X, 4, 1000, 0.9)
    for bs, sc, nj in [(64, 1, None), (128, 7, 2), (1024, 64, -1), (192, 1000, 2)]:
        np.testing.assert_array_equal(
            sparse_bipolar_project(X, 4, 1000, 0.9, block_size=bs, sample_chunk=sc, n_jobs=nj), ref
        )
    # a sample's code does not depend on the other samples
    np.testing.assert_array_equal(sparse_bipolar_project(X[5:6], 4, 1000, 0.9), ref[5:6])


def test_dense_blas_variant_agrees():
    X = _int_data(np.random.RandomState(2), 30, 90)
    np.testing.assert_array_equal(
        dense_bipolar_project(X, 1, 333, 0.8, block_size=128), sparse_bipolar_project(X, 1, 333, 0.8)
    )


_SUBPROCESS = """
import hashlib, numpy as np
from eegbin.kernels import sparse_bipolar_project
X = np.random.RandomState(5).randn(40, 200).astype(np.float32)
print(hashlib.sha256(sparse_bipolar_project(X, 77, 700, 0.9, block_size={bs}).tobytes()).hexdigest())
"""


def test_projection_identical_across_processes():
    X = np.random.RandomState(5).randn(40, 200).astype(np.float32)
    here = hashlib.sha256(sparse_bipolar_project(X, 77, 700, 0.9).tobytes()).hexdigest()
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", _SUBPROCESS.format(bs=128)], capture_output=True, text=True,
        cwd=root, env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin", "NUMBA_NUM_THREADS": "1"},
        check=True,
    )
    assert out.stdout.strip() == here


def test_normalized_hamming_tracks_angle():
    # Johnson-Lindenstrauss-style embedding: P(bits differ) = angle / pi (sign random projection)
    rng = np.random.RandomState(0)
    m, d = 400, 20000
    x = rng.randn(m)
    angles, dists = [], []
    for target in np.linspace(0.1, 3.0, 6):
        u = rng.randn(m)
        u -= u @ x / (x @ x) * x
        y = np.cos(target) * x / np.linalg.norm(x) + np.sin(target) * u / np.linalg.norm(u)
        E = unpack_bits(sparse_bipolar_project(np.vstack([x, y]), 3, d, 0.9), d)
        angles.append(target / np.pi)
        dists.append((E[0] != E[1]).mean())
    np.testing.assert_allclose(dists, angles, atol=0.025)
    assert np.all(np.diff(dists) > 0)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"X": np.zeros((2, 3, 4))}, ValueError, "2-D"),
        ({"X": np.zeros((2, 3), dtype=np.int64)}, TypeError, "float32 or float64"),
        ({"X": np.array([[0.0, np.nan]])}, ValueError, "NaN"),
        ({"X": [[0.0]]}, TypeError, "numpy.ndarray"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 2**32}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"n_components": 0}, ValueError, "n_components"),
        ({"sparsity": 1.5}, ValueError, "sparsity"),
        ({"sparsity": 1.0}, ValueError, "every output bit would be H"),
        ({"n_components": 10**13}, ValueError, "n_components.*GiB"),
        ({"sparsity": "0.9"}, TypeError, "sparsity"),
        ({"block_size": 100}, ValueError, "block_size"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
    ],
)
def test_projection_bad_input(kwargs, exc, match):
    args = {"X": np.zeros((2, 3)), "seed": 0, "n_components": 10, "sparsity": 0.9}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        sparse_bipolar_project(**args)


def test_generator_bad_input():
    with pytest.raises(ValueError, match="row_stop"):
        random_words(0, 5, 4, 1)
    with pytest.raises(TypeError, match="n_cols"):
        sparse_ternary_block(0, 0, 1, 2.0, 0.5)


@settings(max_examples=20, deadline=None)
@given(k=st.integers(1, 6), n=st.integers(1, 4), n_bits=st.integers(1, 150), seed=st.integers(0, 99))
def test_bitwise_majority_matches_numpy(k, n, n_bits, seed):
    rng = np.random.RandomState(seed)
    bits = rng.rand(k, n, n_bits) < 0.5
    tie = rng.rand(1, n_bits) < 0.5
    words = np.stack([pack_bits(b) for b in bits])
    tie_w = pack_bits(tie)[0]
    count = bits.sum(axis=0)
    expected = (2 * count > k) | ((2 * count == k) & tie)
    np.testing.assert_array_equal(unpack_bits(bitwise_majority(words, tie_w), n_bits), expected)
    expected0 = 2 * count > k
    np.testing.assert_array_equal(unpack_bits(bitwise_majority(words), n_bits), expected0)


def test_bitwise_majority_bad_input():
    with pytest.raises(ValueError, match="3-D"):
        bitwise_majority(np.zeros((2, 3), dtype=np.uint64))
    with pytest.raises(TypeError, match="uint64"):
        bitwise_majority(np.zeros((2, 3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="k >= 1"):
        bitwise_majority(np.zeros((0, 3, 1), dtype=np.uint64))
    with pytest.raises(ValueError, match="tie_break"):
        bitwise_majority(np.zeros((2, 3, 1), dtype=np.uint64), np.zeros(2, dtype=np.uint64))

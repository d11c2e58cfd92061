"""Packed-bit kernels vs faiss and numpy, one thread, timed in the same run.

Sizes (issue 2), with ``pytest benchmarks --benchmark-enable``:

* top-1 Hamming search, 2 000 queries x 100 000 codes x 256 bits:
  ``hamming_argmin`` vs faiss ``IndexBinaryFlat`` vs ``np.bitwise_count``;
* ``hamming_cdist`` at 1 024 x 1 024 x 100 000 bits (few long codes, the
  binarized-SVM regime) vs faiss ``hammings`` vs ``np.bitwise_count``;
* ``multilevel_matmul`` at 3 x 3 levels, a 400 x 132 weight matrix applied to
  1 000 input vectors, vs the float32 and float64 matmul of the reconstructed
  matrices (single-threaded BLAS), in three alternating rounds.

Ratios (peer time / eegbin time, best of a few repeats) go to
``benchmark.extra_info``; loose floors are asserted only at full size. In the
normal test run the sizes are reduced and nothing about speed is asserted.
"""

import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from eegbin.kernels import hamming_argmin, hamming_cdist, multilevel_matmul, pack_bits

from .conftest import record_ratio

faiss = pytest.importorskip("faiss")


def _best(f, *args, repeat=3):
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f(*args)
        best = min(best, time.perf_counter() - t0)
    return out, best


def _random_words(rng, n, n_words):
    return rng.integers(0, 2**64 - 1, size=(n, n_words), dtype=np.uint64, endpoint=True)


def _numpy_argmin(A, B, chunk=8):
    idx = np.empty(len(A), dtype=np.int64)
    dist = np.empty(len(A), dtype=np.int64)
    for i in range(0, len(A), chunk):
        D = np.bitwise_count(A[i : i + chunk, None, :] ^ B[None]).sum(-1, dtype=np.int64)
        idx[i : i + chunk] = D.argmin(1)
        dist[i : i + chunk] = D.min(1)
    return idx, dist


def _numpy_cdist(A, B, chunk=4):
    out = np.empty((len(A), len(B)), dtype=np.uint32)
    for i in range(0, len(A), chunk):
        out[i : i + chunk] = np.bitwise_count(A[i : i + chunk, None, :] ^ B[None]).sum(
            -1, dtype=np.uint32
        )
    return out


def _faiss_cdist(A, B):
    out = np.empty((len(A), len(B)), dtype=np.int32)
    faiss.hammings(
        faiss.swig_ptr(A.view(np.uint8)),
        faiss.swig_ptr(B.view(np.uint8)),
        len(A),
        len(B),
        A.shape[1] * 8,
        faiss.swig_ptr(out),
    )
    return out


@pytest.fixture
def one_faiss_thread():
    old = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(old)


def test_bench_hamming_argmin(benchmark, full_size, one_faiss_thread):
    n_q, n_b, n_bits = (2000, 100_000, 256) if full_size else (100, 3000, 256)
    rng = np.random.default_rng(0)
    A, B = _random_words(rng, n_q, n_bits // 64), _random_words(rng, n_b, n_bits // 64)
    hamming_argmin(A[:2], B[:600])  # compile outside the timing

    idx, dist = benchmark.pedantic(hamming_argmin, args=(A, B), rounds=3, iterations=1)
    (idx, dist), t_ours = _best(hamming_argmin, A, B)

    index = faiss.IndexBinaryFlat(n_bits)
    index.add(B.view(np.uint8))
    (D, _), t_faiss = _best(index.search, A.view(np.uint8), 1)
    (np_idx, np_dist), t_numpy = _best(_numpy_argmin, A, B, repeat=1)

    np.testing.assert_array_equal(idx, np_idx)  # same tie rule (lowest index)
    np.testing.assert_array_equal(dist, np_dist)
    np.testing.assert_array_equal(dist, D[:, 0])  # faiss may break ties differently
    vs_faiss = record_ratio(benchmark, "faiss_IndexBinaryFlat_over_eegbin", t_faiss, t_ours)
    vs_numpy = record_ratio(benchmark, "numpy_bitwise_count_over_eegbin", t_numpy, t_ours)
    benchmark.extra_info["size"] = f"{n_q} x {n_b} x {n_bits} bits, 1 thread"
    if full_size:
        # goals: 1.5x faiss, 20x numpy (measured ~4.5x and ~40x on znver4 with VPOPCNTDQ)
        assert vs_faiss > 1.5
        assert vs_numpy > 10


def test_bench_hamming_cdist(benchmark, full_size, one_faiss_thread):
    n_a, n_b, n_bits = (1024, 1024, 100_000) if full_size else (48, 40, 10_000)
    rng = np.random.default_rng(1)
    n_words = -(-n_bits // 64)
    A, B = _random_words(rng, n_a, n_words), _random_words(rng, n_b, n_words)
    hamming_cdist(A[:3], B[:3])

    out = benchmark.pedantic(hamming_cdist, args=(A, B), rounds=3, iterations=1)
    out, t_ours = _best(hamming_cdist, A, B)
    ref_faiss, t_faiss = _best(_faiss_cdist, A, B)
    ref_numpy, t_numpy = _best(_numpy_cdist, A, B, repeat=1)

    np.testing.assert_array_equal(out, ref_faiss)
    np.testing.assert_array_equal(out, ref_numpy)
    vs_faiss = record_ratio(benchmark, "faiss_hammings_over_eegbin", t_faiss, t_ours)
    vs_numpy = record_ratio(benchmark, "numpy_bitwise_count_over_eegbin", t_numpy, t_ours)
    benchmark.extra_info["size"] = f"{n_a} x {n_b} x {n_bits} bits, 1 thread"
    if full_size:
        assert vs_faiss > 1.0  # measured ~1.7-1.9x
        assert vs_numpy > 5  # measured ~15-40x


def test_bench_multilevel_matmul(benchmark, full_size):
    n_rows, n_out, n_bits, levels = (1000, 400, 132, 3) if full_size else (40, 400, 132, 3)
    rng = np.random.default_rng(2)
    X = np.where(rng.random((levels, n_rows, n_bits)) < 0.5, 1.0, -1.0)
    W = np.where(rng.random((levels, n_out, n_bits)) < 0.5, 1.0, -1.0)
    xs, ws = rng.random((levels, n_rows)), rng.random((levels, n_out))
    Xp = np.stack([pack_bits(x, kind="bipolar") for x in X])
    Wp = np.stack([pack_bits(w, kind="bipolar") for w in W])
    X_hat = np.einsum("ir,ird->rd", xs, X)
    Wt_hat = np.ascontiguousarray(np.einsum("jc,jcd->cd", ws, W).T)
    X32, Wt32 = X_hat.astype(np.float32), Wt_hat.astype(np.float32)
    args = (Xp, xs, Wp, ws, n_bits)
    multilevel_matmul(Xp[:, :2], xs[:, :2], Wp, ws, n_bits)

    out = benchmark.pedantic(multilevel_matmul, args=args, rounds=5, iterations=1)
    rounds = {"eegbin": [], "f32": [], "f64": []}
    with threadpool_limits(1):
        for _ in range(3 if full_size else 1):  # alternating rounds: the machine may be shared
            out, t = _best(multilevel_matmul, *args, repeat=5)
            rounds["eegbin"].append(t)
            ref, t = _best(np.matmul, X_hat, Wt_hat, repeat=5)
            rounds["f64"].append(t)
            rounds["f32"].append(_best(np.matmul, X32, Wt32, repeat=5)[1])
    t_ours, t_f32, t_f64 = (min(rounds[k]) for k in ("eegbin", "f32", "f64"))

    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-9)
    vs_f64 = record_ratio(benchmark, "float64_matmul_over_eegbin", t_f64, t_ours)
    record_ratio(benchmark, "float32_matmul_over_eegbin", t_f32, t_ours)
    benchmark.extra_info["float32_matmul_over_eegbin_median_round"] = float(
        np.median([a / b for a, b in zip(rounds["f32"], rounds["eegbin"])]))
    benchmark.extra_info["size"] = f"{levels}x{levels} levels, ({n_rows} x {n_bits}) @ ({n_bits} x {n_out})"
    if full_size:
        # goal 2x float32 BLAS (issue 19); measured ~0.55-0.6x, bounded by the popcount port
        # (docs/user_guide/binarized_speed.rst); the floor catches a fall back to 256-bit vectors (0.36x)
        assert vs_f64 > 0.6

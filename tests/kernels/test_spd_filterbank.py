"""numba kernels of the Riemannian features: eigensolver and fused filter-bank."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import butter, sosfilt

from eegbin.kernels import filterbank as fbk
from eegbin.kernels import spd


def _spd(rng, n_matrices, n):
    A = rng.standard_normal((n_matrices, n, n + 2))
    return A @ A.transpose(0, 2, 1) + 1e-3 * np.eye(n)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 22, 33])
def test_eigh_rows_reconstructs_and_matches_numpy(n):
    rng = np.random.default_rng(n)
    S = _spd(rng, 20, n)
    W = np.empty((20, n))
    Z = np.empty((20, n, n))
    spd._nb_eigh(S, W, Z)
    np.testing.assert_allclose(np.einsum("bki,bk,bkj->bij", Z, W, Z), S, atol=1e-13 * np.abs(S).max())
    np.testing.assert_allclose(Z @ Z.transpose(0, 2, 1), np.broadcast_to(np.eye(n), Z.shape), atol=1e-13)
    np.testing.assert_allclose(np.sort(W, axis=1), np.linalg.eigvalsh(S), atol=1e-12 * np.abs(S).max())


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2, 3]))
def test_funm_matches_numpy_eigh(n, seed, fn):
    rng = np.random.default_rng(seed)
    S = _spd(rng, 3, n)
    if fn == spd.FN_EXP:
        S = S / np.abs(S).max()
    out = np.empty_like(S)
    minval = np.empty(3)
    spd.batch_funm(S, fn, out, minval)
    w, v = np.linalg.eigh(S)
    f = {spd.FN_LOG: np.log, spd.FN_SQRT: np.sqrt, spd.FN_INVSQRT: lambda x: 1 / np.sqrt(x), spd.FN_EXP: np.exp}[fn]
    ref = (v * f(w)[:, None, :]) @ v.transpose(0, 2, 1)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-9 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(minval, w.min(axis=1), rtol=1e-10)


def test_tangent_and_mean_kernels_agree_with_numpy():
    rng = np.random.default_rng(0)
    N, K, n = 9, 3, 5
    C = _spd(rng, N * K, n).reshape(N, K, n, n)
    P = np.stack([np.linalg.inv(np.linalg.cholesky(C[:, k].mean(0))).T @ np.eye(n) for k in range(K)])
    P = (P + P.transpose(0, 2, 1)) / 2 + n * np.eye(n)  # any symmetric positive whitening
    out = np.empty((N, K, n * (n + 1) // 2))
    minval = np.empty((N, K))
    spd.batch_tangent_riemann(C, P, out, minval)
    W = P[None] @ C @ P[None]
    w, v = np.linalg.eigh(W)
    L = (v * np.log(w)[..., None, :]) @ np.swapaxes(v, -1, -2)
    iu = np.triu_indices(n)
    coef = np.where(iu[0] == iu[1], 1.0, np.sqrt(2))
    np.testing.assert_allclose(out, coef * L[..., iu[0], iu[1]], atol=1e-12)
    partial = np.empty((2, 3, n, n))
    mins = np.empty(2)
    spd.mean_logm_chunks(C, P, np.array([2, 0]), 4, partial, mins, np.empty((0, 0, 0)))  # chunks 4, 4, 1
    np.testing.assert_allclose(partial.sum(1), L[:, [2, 0]].sum(0), atol=1e-12)
    np.testing.assert_allclose(mins, w[:, [2, 0]].min(axis=(0, 2)))
    vec = np.full_like(out, np.nan)  # fused tangent vectors of the active slots only
    spd.mean_logm_chunks(C, P, np.array([2, 0]), 4, partial, mins, vec)
    np.testing.assert_allclose(vec[:, [2, 0]], out[:, [2, 0]], rtol=0, atol=1e-13)
    assert np.isnan(vec[:, 1]).all()


@pytest.mark.parametrize("n", [1, 3, 22])
def test_inverse_logdet_kernel_matches_numpy(n):
    rng = np.random.default_rng(n)
    N, K = 11, 3
    C = _spd(rng, N * K, n).reshape(N, K, n, n)
    partial = np.full((K, 3, n, n), np.nan)  # chunks of 4, 4, 3 trials
    logdets = np.full((K, 3), np.nan)
    spd.inv_logdet_chunks(C, 4, partial, logdets)
    inv = np.linalg.inv(C)
    ref = np.stack([inv[:4].sum(0), inv[4:8].sum(0), inv[8:].sum(0)], axis=1)
    np.testing.assert_allclose(partial, ref, rtol=1e-11, atol=1e-11 * np.abs(ref).max())
    ld = np.linalg.slogdet(C)[1]
    np.testing.assert_allclose(logdets, np.stack([ld[:4].sum(0), ld[4:8].sum(0), ld[8:].sum(0)], axis=1), rtol=1e-12)
    C[5, 1] = -np.eye(n)  # not positive definite: its chunk's log-determinant is NaN
    spd.inv_logdet_chunks(C, 4, partial, logdets)
    assert np.isnan(logdets[1, 1]) and np.isfinite(np.delete(logdets.ravel(), 4)).all()


@settings(max_examples=20, deadline=None)
@given(
    st.integers(1, 6), st.integers(5, 120), st.integers(1, 4), st.integers(0, 2**32 - 1),
)
def test_sos_filter_is_bitwise_scipy(n_ch, n_times, order, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_ch, n_times)) * 10.0 ** rng.integers(-6, 6)
    sos = butter(order, [0.1, 0.3], btype="bandpass", output="sos")
    Y = x.T.copy()  # canonical strides (see c_contiguous)
    fbk._sos_inplace(Y, n_times, sos)
    np.testing.assert_array_equal(Y.T, sosfilt(sos, x, axis=-1))


def test_fused_kernel_equals_scipy_then_covariance():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 4, 60))
    sos = np.stack([butter(2, b, btype="bandpass", output="sos") for b in ([0.1, 0.2], [0.3, 0.6])])
    windows = np.array([[0, 60], [10, 35]], dtype=np.int64)
    out = np.empty((3, 2, 2, 4, 4))
    fbk.filterbank_cov(X, sos, windows, 0.5, out)
    for b in range(2):
        for w, (s0, s1) in enumerate(windows):
            Y = sosfilt(sos[b], X[:, :, s0:s1], axis=-1)
            ref = (Y @ Y.transpose(0, 2, 1) + 0.5 * np.eye(4)) / (s1 - s0 - 1)
            np.testing.assert_allclose(out[:, b, w], ref, rtol=1e-13, atol=1e-15)


def test_c_contiguous_normalizes_size1_strides():
    x = np.random.default_rng(0).standard_normal((1, 50))
    odd = np.ascontiguousarray(x.T)  # numpy: C-contiguous with stride 400 on the size-1 axis
    fixed = fbk.c_contiguous(odd)
    assert fixed.strides == (8, 8) and np.array_equal(fixed, odd)
    from eegbin.features import design_filterbank, filterbank_covariances

    sos = design_filterbank([(5.0, 9.0)], 100.0)
    X = np.random.default_rng(1).standard_normal((3, 1, 60))
    weird = np.lib.stride_tricks.as_strided(X, X.shape, (X.strides[0], 12345 * 8, 8))
    np.testing.assert_array_equal(filterbank_covariances(weird, sos), filterbank_covariances(X.copy(), sos))

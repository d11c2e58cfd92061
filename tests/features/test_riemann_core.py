"""Functional core of the Riemannian features against pyRiemann and numpy oracles."""

import warnings

import numpy as np
import pytest
from pyriemann.estimation import Covariances
from pyriemann.geometry import base as pbase
from pyriemann.geometry import mean as pmean
from pyriemann.geometry.tangentspace import tangent_space as p_tangent_space
from pyriemann.geometry.tangentspace import upper as p_upper
from scipy.signal import butter, sosfilt

from eegbin.features import (
    covariances,
    design_filterbank,
    expm,
    filterbank_covariances,
    hersche_bands,
    invsqrtm,
    logm,
    mean_covariance,
    mean_euclid,
    mean_logeuclid,
    mean_riemann,
    sqrtm,
    tangent_space,
    upper,
)


def _spd(n_matrices, n, seed=0, cond=1e-2):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n_matrices, n, 2 * n))
    return A @ A.transpose(0, 2, 1) / (2 * n) + cond * np.eye(n)


def test_hersche_bands_rule():
    bands = hersche_bands()
    assert len(bands) == 43
    widths = [hi - lo for lo, hi in bands]
    assert [widths.count(w) for w in (2, 4, 8, 16, 32)] == [18, 9, 8, 6, 2]
    assert all(lo >= 4 and hi <= 40 for lo, hi in bands)
    assert bands[18:20] == [(4.0, 8.0), (8.0, 12.0)]
    assert hersche_bands(bandwidths=(32,)) == [(4.0, 36.0), (8.0, 40.0)]
    with pytest.raises(ValueError, match="max_freq"):
        hersche_bands(min_freq=40, max_freq=4)
    with pytest.raises(ValueError, match="bandwidths"):
        hersche_bands(bandwidths=(-2,))


def test_design_filterbank_matches_scipy():
    sos = design_filterbank([(8, 12), (4, 40)], sfreq=250.0, order=3)
    assert sos.shape == (2, 3, 6)
    np.testing.assert_array_equal(sos[1], butter(3, [4, 40], btype="bandpass", fs=250.0, output="sos"))
    with pytest.raises(ValueError, match="sfreq"):
        design_filterbank([(8, 12)], sfreq=0)
    with pytest.raises(TypeError, match="order must be an integer"):
        design_filterbank([(8, 12)], sfreq=100, order=1.5)


@pytest.mark.parametrize("n_channels, n_times", [(1, 10), (5, 64), (22, 200)])
def test_filterbank_covariances_equal_scipy_plus_eq1(n_channels, n_times):
    rng = np.random.default_rng(n_channels)
    X = rng.standard_normal((4, n_channels, n_times))
    bands = [(5.0, 9.0), (20.0, 40.0)]
    sos = design_filterbank(bands, sfreq=100.0)
    windows = [(0, n_times), (3, n_times // 2 + 3)]
    covs = filterbank_covariances(X, sos, windows=windows, reg=0.3, n_jobs=1)
    assert covs.shape == (4, 2, 2, n_channels, n_channels)
    for b in range(2):
        for w, (s0, s1) in enumerate(windows):
            Y = sosfilt(sos[b], X[:, :, s0:s1], axis=-1)
            ref = covariances(Y, reg=0.3)
            np.testing.assert_allclose(covs[:, b, w], ref, rtol=1e-12, atol=1e-14)
            ref2 = Covariances(estimator=lambda x: (x @ x.T + 0.3 * np.eye(len(x))) / (x.shape[1] - 1)).transform(Y)
            np.testing.assert_allclose(covs[:, b, w], ref2, rtol=1e-12, atol=1e-14)


def test_filterbank_covariances_bad_input():
    sos = design_filterbank([(5.0, 9.0)], sfreq=100.0)
    X = np.zeros((2, 3, 50))
    with pytest.raises(ValueError, match="3-D"):
        filterbank_covariances(X[0], sos)
    with pytest.raises(ValueError, match="sos"):
        filterbank_covariances(X, sos[0])
    with pytest.raises(ValueError, match=r"windows\[0\]"):
        filterbank_covariances(X, sos, windows=[(0, 60)])
    with pytest.raises(ValueError, match="integer"):
        filterbank_covariances(X, sos, windows=[(0.0, 1.0)])
    with pytest.raises(ValueError, match="reg"):
        filterbank_covariances(X, sos, reg=np.nan)


@pytest.mark.parametrize("n", [1, 2, 5, 22, 40])
def test_matrix_functions_equal_pyriemann(n):
    C = _spd(30, n, seed=n)
    for ours, theirs in ((sqrtm, pbase.sqrtm), (invsqrtm, pbase.invsqrtm), (logm, pbase.logm)):
        ref = theirs(C)
        assert np.abs(ours(C) - ref).max() <= 1e-12 * np.abs(ref).max()
    S = logm(C)
    np.testing.assert_allclose(expm(S), C, rtol=0, atol=1e-12 * np.abs(C).max())
    np.testing.assert_allclose(expm(S), pbase.expm(S), rtol=0, atol=1e-12 * np.abs(C).max())
    # batch shapes (..., n, n) are kept
    assert logm(C.reshape(5, 6, n, n)).shape == (5, 6, n, n)


def test_matrix_functions_degenerate_and_scaled():
    eye = np.eye(6)
    np.testing.assert_array_equal(logm(eye), np.zeros((6, 6)))
    blocks = np.kron(np.eye(3), np.ones((2, 2))) + np.eye(6)  # repeated eigenvalues
    np.testing.assert_allclose(logm(blocks), pbase.logm(blocks), atol=1e-13)
    for scale in (1e-150, 1e-12, 1e12, 1e150):  # no over/underflow in the rotations
        C = _spd(3, 8, seed=1) * scale
        np.testing.assert_allclose(logm(C), pbase.logm(C), rtol=0, atol=1e-10 * abs(np.log(scale)))


def test_matrix_functions_bad_input():
    with pytest.raises(ValueError, match="square"):
        logm(np.ones((2, 3)))
    with pytest.raises(ValueError, match="matrix 1 holds NaN"):
        logm(np.stack([np.eye(2), np.full((2, 2), np.nan)]))
    with pytest.raises(ValueError, match="matrix 0 has eigenvalue"):
        logm(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="Complex data not supported: C must hold real"):
        sqrtm(np.eye(2, dtype=complex))


def _riemann_gradient_norm(C, M):
    """|mean_i logm(M^{-1/2} C_i M^{-1/2})|_F with pyRiemann's matrix functions."""
    P = pbase.invsqrtm(M)
    return np.linalg.norm(pbase.logm(P @ C @ P).mean(0))


@pytest.mark.parametrize("n, n_matrices", [(2, 3), (6, 40), (22, 100)])
def test_means_equal_pyriemann(n, n_matrices):
    C = _spd(n_matrices, n, seed=n)
    ours = mean_riemann(C)
    # the fixed point itself: pyRiemann iterated far below its default tol, and
    # a vanishing gradient at our mean
    tight = pmean.mean_riemann(C, tol=1e-13, maxiter=500)
    assert np.abs(ours - tight).max() <= 2e-9 * np.abs(tight).max()
    assert _riemann_gradient_norm(C, ours) <= 1.1e-9
    # pyRiemann's default stops at |gradient| <= 1e-8: equal to its stopping error
    ref = pmean.mean_riemann(C)
    assert np.abs(ours - ref).max() <= 1e-8 * np.abs(ref).max()
    ref_le = pmean.mean_logeuclid(C)
    assert np.abs(mean_logeuclid(C) - ref_le).max() <= 1e-12 * np.abs(ref_le).max()
    np.testing.assert_allclose(mean_euclid(C), pmean.mean_euclid(C), rtol=1e-14)
    np.testing.assert_array_equal(mean_covariance(C, "riemann"), ours)
    init = np.eye(n)  # another start, same fixed point
    assert np.abs(mean_riemann(C, init=init) - tight).max() <= 2e-9 * np.abs(tight).max()
    with pytest.raises(ValueError, match="metric"):
        mean_covariance(C, "wasserstein")


def test_geometric_start_of_the_mean_iteration():
    from eegbin.features._riemann import _geometric_start

    # exact for two matrices (A # H is then their geometric mean)
    C = _spd(2, 5, seed=4)
    start = _geometric_start(C[:, None], 8, None)[0]
    tight = pmean.mean_riemann(C, tol=1e-13, maxiter=500)
    assert np.abs(start - tight).max() <= 1e-10 * np.abs(tight).max()
    # in general: the determinant of the Riemannian mean, and much closer than the
    # Euclidean mean pyRiemann starts from
    C = _spd(60, 8, seed=5, cond=1e-3)
    start = _geometric_start(C[:, None], 16, None)[0]
    tight = pmean.mean_riemann(C, tol=1e-13, maxiter=500)
    assert np.isclose(np.linalg.slogdet(start)[1], np.linalg.slogdet(tight)[1], rtol=0, atol=1e-10)
    assert _riemann_gradient_norm(C, start) < 0.2 * _riemann_gradient_norm(C, C.mean(0))
    # a matrix that is not positive definite: Euclidean start, then the iteration names it
    bad = C.copy()
    bad[3] = -np.eye(8)
    np.testing.assert_array_equal(_geometric_start(bad[:, None], 16, None)[0], bad.mean(0))
    with pytest.raises(ValueError, match="not positive definite"):
        mean_riemann(bad)


def test_mean_riemann_warns_without_convergence():
    C = _spd(20, 4, seed=3, cond=1e-4)
    with pytest.warns(Warning, match="convergence"):
        mean_riemann(C, maxiter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean_riemann(C)


@pytest.mark.parametrize("metric", ["riemann", "logeuclid", "euclid"])
def test_tangent_space_equal_pyriemann(metric):
    C = _spd(25, 7, seed=11)
    Cref = pmean.mean_riemann(C)
    ref = p_tangent_space(C, Cref, metric=metric)
    assert np.abs(tangent_space(C, Cref, metric) - ref).max() <= 1e-11 * np.abs(ref).max()
    with pytest.raises(ValueError, match="Cref"):
        tangent_space(C, np.eye(3))
    with pytest.raises(ValueError, match="metric"):
        tangent_space(C, Cref, "bogus")


def test_upper_is_pyriemann_order_and_norm_preserving():
    S = logm(_spd(4, 6, seed=2))
    np.testing.assert_array_equal(upper(S), p_upper(S))
    np.testing.assert_allclose(np.linalg.norm(upper(S), axis=1), np.linalg.norm(S, axis=(1, 2)))
    with pytest.raises(ValueError, match="n, n"):
        upper(np.ones((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        upper(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="Complex data not supported: S must hold real numbers"):
        upper(np.eye(2, dtype=complex))


def test_mean_riemann_returns_the_tangent_map_at_the_mean():
    """return_tangent gives tangent_space(C, M) at the returned M, from the last iteration."""
    C = _spd(40, 6, seed=7)
    M, T = mean_riemann(C, return_tangent=True)
    np.testing.assert_array_equal(M, mean_riemann(C))
    ref = p_tangent_space(C, M, metric="riemann")
    assert T.shape == (40, 21)
    assert np.abs(T - ref).max() <= 1e-12 * np.abs(ref).max()
    np.testing.assert_allclose(T, tangent_space(C, M), rtol=0, atol=1e-12 * np.abs(ref).max())
    assert np.abs(T.mean(axis=0)).max() <= 1e-9  # the gradient vanishes at the mean


def test_tangent_space_keeps_leading_dimensions():
    C = _spd(12, 4, seed=8).reshape(3, 4, 4, 4)
    Cref = mean_riemann(C.reshape(12, 4, 4))
    for metric in ("riemann", "logeuclid", "euclid"):
        T = tangent_space(C, Cref, metric)
        assert T.shape == (3, 4, 10)
        ref = p_tangent_space(C.reshape(12, 4, 4), Cref, metric=metric)
        np.testing.assert_allclose(T.reshape(12, 10), ref, rtol=0, atol=1e-11 * np.abs(ref).max())


def test_riemann_core_bad_input():
    """The bad inputs found in features/ (issue 17): clear errors naming the argument."""
    C = _spd(5, 3, seed=1)
    singular = np.diag([1.0, 0.0, 2.0])
    for f in (sqrtm, invsqrtm, logm):  # invsqrtm raised SystemError from inside numba
        with pytest.raises(ValueError, match="matrix 0 has eigenvalue 0"):
            f(singular)
    nonsym = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    for f in (sqrtm, invsqrtm, logm, expm, mean_riemann, mean_euclid, mean_logeuclid):
        with pytest.raises(ValueError, match="symmetric matrices; matrix 1 differs from its transpose by up to 0.5"):
            f(np.stack([np.eye(3), nonsym]))
    sqrtm(C + 1e-9 * np.abs(C).max() * np.triu(np.ones(3), 1))  # rounding-level asymmetry is accepted
    for f in (mean_riemann, mean_euclid, mean_logeuclid, mean_covariance):
        with pytest.raises(ValueError, match="at least one matrix"):
            f(np.empty((0, 3, 3)))
        with pytest.raises(ValueError, match=r"shape \(n_matrices, n, n\)"):
            f(np.eye(3))
    with pytest.raises(ValueError, match=r"n >= 1"):
        logm(np.empty((2, 0, 0)))
    with pytest.raises(ValueError, match="tol"):
        mean_riemann(C, tol=np.nan)
    with pytest.raises(ValueError, match="maxiter"):
        mean_riemann(C, maxiter=0)
    with pytest.raises(ValueError, match="init must be positive definite"):
        mean_riemann(C, init=-np.eye(3))
    with pytest.raises(ValueError, match=r"init must have shape \(n, n\)"):
        mean_riemann(C, init=C)
    with pytest.raises(ValueError, match=r"Cref must have shape \(n, n\)"):
        tangent_space(C, C)  # a stack of references was silently cut to its first
    with pytest.raises(ValueError, match="Cref must be positive definite"):
        tangent_space(C, -np.eye(3))
    with pytest.raises(ValueError, match="metric"):
        tangent_space(C, np.eye(3), "bogus")


def test_covariances_bad_input():
    X = np.random.default_rng(0).standard_normal((3, 4, 50))
    bad = X.copy()
    bad[2, 1, 7] = np.nan
    with pytest.raises(ValueError, match="signal 2 holds NaN"):
        covariances(bad)
    with pytest.raises(TypeError, match="real numbers"):
        covariances(X.astype(str))
    for reg in (-0.1, np.nan, np.inf):
        with pytest.raises(ValueError, match="reg must be"):
            covariances(X, reg=reg)
    for reg in ("0.1", True):  # not a real number: the type is wrong (kernels.checks rule)
        with pytest.raises(TypeError, match="reg must be a real number"):
            covariances(X, reg=reg)
    np.testing.assert_array_equal(covariances(X.astype(np.float32)), covariances(X.astype(np.float32).astype(float)))


def test_covariances_eq1():
    X = np.random.default_rng(0).standard_normal((3, 4, 50))
    ref = np.stack([(x @ x.T + 0.1 * np.eye(4)) / 49 for x in X])
    np.testing.assert_allclose(covariances(X), ref, rtol=1e-13)
    with pytest.raises(ValueError, match="n_s >= 2"):
        covariances(np.ones((2, 1)))


def test_filterbank_riemann_minimum_window():
    """A 22-channel covariance of 5 samples is refused (n_channels + 1 samples per window)."""
    from eegbin import FilterBankRiemann

    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"at least 23 samples .* n_channels \+ 1 = 23 .* window 0 has 5 samples"):
        FilterBankRiemann(250.0, bands=[(8, 12)]).fit(rng.standard_normal((4, 22, 5)))
    with pytest.raises(ValueError, match="window 1 has 20 samples"):
        FilterBankRiemann(250.0, bands=[(8, 12)], windows=[(0, 40), (0, 20)]).fit(rng.standard_normal((4, 22, 40)))
    est = FilterBankRiemann(250.0, bands=[(8, 12)]).fit(rng.standard_normal((30, 22, 23)))
    assert est.transform(rng.standard_normal((2, 22, 23))).shape == (2, 253)
    with pytest.raises(ValueError, match="expecting 23 samples per trial"):  # as in fit, so long enough
        est.transform(rng.standard_normal((2, 22, 22)))


def test_filterbank_functions_bad_input():
    """Found while looking (issue 17): a SystemError from numba, NaN and strings let through, a
    band list without bound."""
    sos = design_filterbank([(8, 12)], sfreq=100.0)
    with pytest.raises(ValueError, match="at least 2 samples"):  # was SystemError (division by n_s - 1 = 0)
        filterbank_covariances(np.zeros((2, 3, 1)), sos)
    X = np.random.default_rng(0).standard_normal((3, 2, 40))
    X[1, 0, 5] = np.inf
    with pytest.raises(ValueError, match="trial 1 contains NaN or Inf"):
        filterbank_covariances(X, sos)
    with pytest.raises(TypeError, match="sos must hold real numbers"):
        filterbank_covariances(np.zeros((2, 3, 40)), sos.astype(str))
    with pytest.raises(ValueError, match="sos must be finite"):
        filterbank_covariances(np.zeros((2, 3, 40)), np.full_like(sos, np.nan))
    with pytest.raises(ValueError, match="at least one channel"):
        filterbank_covariances(np.zeros((2, 0, 40)), sos)
    with pytest.raises(ValueError, match="more than 10000 bands"):  # was minutes and gigabytes
        hersche_bands(0.001, 1e9, bandwidths=(0.001,))
    with pytest.raises(ValueError, match="non-empty"):
        hersche_bands(bandwidths=())
    with pytest.raises(ValueError, match="no band"):
        hersche_bands(4, 40, bandwidths=(64,))
    assert hersche_bands(8, 30) == [b for b in hersche_bands(8, 30, bandwidths=(2, 4, 8, 16))]
    with pytest.raises(TypeError, match=r"bands\[0\] must be a \(low, high\) pair of numbers"):
        design_filterbank([("8", "12")], 100.0)  # numeric strings were parsed
    np.testing.assert_array_equal(design_filterbank(np.array([[8, 12]]), 100.0),
                                  design_filterbank([(8.0, 12.0)], 100.0))
    with pytest.raises(ValueError, match=r"order must be in \[1, 20\], got 1000000"):
        design_filterbank([(8, 12)], 100.0, order=10**6)  # was an overflow warning

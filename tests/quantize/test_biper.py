import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize
from sklearn.base import clone

from eegbin import PeriodicBinarizer, footprint
from eegbin.quantize.biper import biper_pdf, biper_quantization_error, biper_scale, square_wave


def test_square_wave_matches_sign_of_sine_and_sign0():
    w = np.linspace(-10, 10, 1001)
    out = square_wave(w, 2.5)
    nz = np.sin(2.5 * w) != 0
    np.testing.assert_array_equal(out[nz], np.sign(np.sin(2.5 * w[nz])))
    assert square_wave(0.0, 3.0) == 1.0  # Sign(0) = +1
    # periodic with period 2 pi / omega
    away = np.abs(np.sin(2.5 * w)) > 1e-6  # away from the zero crossings
    shifted = square_wave(w + 2 * np.pi / 2.5 * 4, 2.5)
    np.testing.assert_array_equal(shifted[away], out[away])


def test_max_qe_constant():
    """BiPer Section 4.1: max QE = 0.102835 at b * omega0 ~ 0.954882."""
    res = optimize.minimize_scalar(lambda a: -biper_quantization_error(a, 1.0),
                                   bounds=(0.1, 5.0), method="bounded",
                                   options={"xatol": 1e-10})
    assert abs(res.x - 0.954882) < 5e-6
    assert abs(-res.fun - 0.102835) < 5e-7
    # it only depends on a = b * omega0
    assert biper_quantization_error(0.954882 / 7, 7.0) == pytest.approx(0.102835, abs=5e-7)


def test_qe_limit_infinite_frequency():
    limit = 0.5 - 4 / np.pi**2
    qe = biper_quantization_error(1.0, np.array([1e2, 1e4, 1e6]))
    assert np.all(np.diff(np.abs(qe - limit)) < 0)
    assert abs(qe[-1] - limit) < 1e-9
    assert biper_scale(1.0, 1e8) == pytest.approx(2 / np.pi, rel=1e-9)


def test_scale_minimizes_qe():
    for a in (0.2, 0.954882, 3.0):
        g = biper_scale(a, 1.0)
        assert biper_quantization_error(a, 1.0, g) < biper_quantization_error(a, 1.0, g * 1.01)
        assert biper_quantization_error(a, 1.0, g) < biper_quantization_error(a, 1.0, g * 0.99)


@settings(max_examples=15, deadline=None)
@given(st.floats(0.05, 5.0), st.floats(0.1, 40.0), st.integers(0, 2**31 - 1))
def test_monte_carlo_laplace(b, omega, seed):
    """gamma (eq. 18) and QE (eq. 17) agree with Monte-Carlo within 5 standard errors."""
    w = np.random.RandomState(seed).laplace(0.0, b, size=200_000)
    s = np.sin(omega * w)
    abs_s = np.abs(s)
    g = biper_scale(b, omega)
    assert abs(abs_s.mean() - g) <= 5 * abs_s.std() / np.sqrt(w.size) + 1e-12
    err = (s - g * square_wave(w, omega)) ** 2
    qe = biper_quantization_error(b, omega)
    assert abs(err.mean() - qe) <= 5 * err.std() / np.sqrt(w.size) + 1e-12
    # any other gamma: eq. (17) is exact in gamma
    err2 = (s - 0.3 * square_wave(w, omega)) ** 2
    assert abs(err2.mean() - biper_quantization_error(b, omega, 0.3)) <= 5 * err2.std() / np.sqrt(w.size)


@pytest.mark.parametrize("b,omega", [(0.1, 1.0), (1.0, 1.0), (0.5, 20.0), (3.0, 0.2)])
def test_pdf_integrates_to_one(b, omega):
    # substitute w_hat = sin(theta) to remove the 1/sqrt(1 - w_hat^2) end singularities
    total, _ = integrate.quad(lambda t: biper_pdf(np.sin(t), b, omega) * np.cos(t),
                              -np.pi / 2, np.pi / 2, points=[0.0], limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)
    a = b * omega  # the printed eq. (14) (without the factor 2) integrates to 1 - e^{-pi/2a}/2
    printed, _ = integrate.quad(
        lambda t: (np.exp(-abs(t) / a) + np.cosh(t / a) / np.expm1(np.pi / a)) / (2 * a),
        -np.pi / 2, np.pi / 2, points=[0.0])
    assert printed == pytest.approx(1 - np.exp(-np.pi / (2 * a)) / 2, abs=1e-8)


def test_pdf_matches_histogram():
    b, omega = 0.7, 1.3
    s = np.sin(omega * np.random.RandomState(0).laplace(0, b, size=400_000))
    edges = np.linspace(-0.95, 0.95, 20)
    counts, _ = np.histogram(s, edges)
    expected = [integrate.quad(lambda x: biper_pdf(x, b, omega), lo, hi)[0] * s.size
                for lo, hi in zip(edges[:-1], edges[1:])]
    np.testing.assert_allclose(counts, expected, rtol=0.05)
    assert biper_pdf(1.5, b, omega) == 0.0


def test_periodic_binarizer():
    W = np.random.RandomState(0).laplace(0, 0.5, size=(3000, 8))
    pb = PeriodicBinarizer(omega=2.0).fit(W)
    assert pb.b_ == pytest.approx(0.5, rel=0.02)
    assert pb.scale_ == pytest.approx(biper_scale(pb.b_, 2.0))
    Wb = pb.transform(W)
    np.testing.assert_array_equal(Wb, pb.scale_ * square_wave(W, 2.0))
    assert pb.quantization_error_ == pytest.approx(biper_quantization_error(0.5, 2.0), abs=3e-3)
    emp = PeriodicBinarizer(omega=2.0, scale="empirical").fit(W)
    assert emp.quantization_error_ <= pb.quantization_error_ + 1e-12  # empirical optimum
    assert PeriodicBinarizer(omega=2.0, scale=0.25).fit(W).scale_ == 0.25
    assert footprint(pb).total_params == 1
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pb)).transform(W), Wb)
    assert clone(pb).get_params() == pb.get_params()


def test_bad_input():
    with pytest.raises(ValueError, match="omega"):
        square_wave([1.0], 0.0)
    with pytest.raises(ValueError, match="finite"):
        square_wave([np.nan], 1.0)
    with pytest.raises(ValueError, match="b must be"):
        biper_scale(-1.0, 1.0)
    with pytest.raises(TypeError, match="omega"):
        biper_quantization_error(1.0, "fast")
    with pytest.raises(ValueError, match="omega"):
        PeriodicBinarizer(omega=-1.0).fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="scale"):
        PeriodicBinarizer(scale=-0.5).fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="all-zero"):
        PeriodicBinarizer().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN|infinity"):
        PeriodicBinarizer().fit([[np.inf, 1.0]])

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.signal import correlate
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

from eegbin import DitheredBinarizer, design_threshold_kernel, dithered_sign, footprint
from eegbin.quantize.design import (
    half_wave_gaussian_thresholds,
    scale_threshold_kernel,
    threshold_kernel_3d,
    threshold_levels,
    total_variation,
)


def test_omega_and_candidate_count():
    assert threshold_levels(3).tolist() == [0, 1, 3, 5, 7, 9]
    assert threshold_levels(2).tolist() == [0, 2, 4]
    assert threshold_levels(3, ndim=1).tolist() == [0, 1, 3]
    X = np.random.RandomState(0).randn(3, 10, 10)
    T, s = design_threshold_kernel(X, k=3, d=2, n_random_kernels=2, random_state=0)
    assert T.shape == (1296, 2, 2)
    assert len({t.tobytes() for t in T}) == 1296
    assert set(np.unique(T)) <= {0, 1, 3, 5, 7, 9}
    assert np.all(np.diff(s) <= 0)


def _oracle_score(X, kernels, T):
    """Plain evaluation of eq. (9): conv, DeSign, ReLU, TV, averaged."""
    B = np.where(X >= 0, 1.0, -1.0)
    total = 0.0
    for img in B:
        for K in kernels:
            conv = correlate(img, K, mode="valid")
            ax = tuple(range(-conv.ndim, 0))
            total += total_variation(np.maximum(0, dithered_sign(conv, T, ax)), ax)
    return total / (len(B) * len(kernels))


@pytest.mark.parametrize("shape,k,d", [((5, 11, 9), 3, 2), ((4, 13, 12), 2, 3), ((6, 30), 3, 2)])
def test_scores_match_direct_evaluation(shape, k, d):
    rng = np.random.RandomState(1)
    X = rng.randn(*shape).cumsum(axis=-1)  # some spatial correlation
    T, s = design_threshold_kernel(X, k=k, d=d, n_random_kernels=3, random_state=7)
    ndim = len(shape) - 1
    K = np.where(np.random.RandomState(7).rand(3, *([k] * ndim)) < 0.5, -1.0, 1.0)
    for i in (0, 1, len(T) // 2, len(T) - 1):
        assert s[i] == pytest.approx(_oracle_score(X, K, T[i]), rel=1e-12)


def test_constant_kernel_is_shifted_sign():
    x = np.random.RandomState(0).randn(3, 7, 9)
    for c in (-0.3, 0.0, 1.2):
        np.testing.assert_array_equal(dithered_sign(x, np.full((2, 2), c)),
                                      np.where(x - c >= 0, 1.0, -1.0))
        np.testing.assert_array_equal(dithered_sign(x, np.full(3, c), axes=1),
                                      np.where(x >= c, 1.0, -1.0))
    assert dithered_sign(np.zeros((2, 2)), np.zeros((2, 2))).tolist() == [[1, 1], [1, 1]]


def test_dithering_preserves_more_tv_on_ramp():
    """A smooth ramp: Sign leaves one edge; a 2x2 dither keeps the gray levels."""
    ramp = np.tile(np.linspace(0, 1, 64), (64, 1))
    plain = np.maximum(0, dithered_sign(ramp, np.full((2, 2), 0.5)))
    T = np.array([[0.125, 0.625], [0.875, 0.375]])  # Bayer 2x2 levels
    dith = np.maximum(0, dithered_sign(ramp, T))
    assert total_variation(plain) == 64
    assert total_variation(dith) > 4 * total_variation(plain)
    # and the local density of ones follows the ramp (4 gray levels instead of 2)
    dens = dith.reshape(32, 2, 32, 2).mean(axis=(1, 3))[0]
    assert len(np.unique(dens)) == 5 and np.all(np.diff(dens) >= 0)
    assert np.corrcoef(dens, ramp[0, ::2])[0, 1] > 0.95


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 7), st.integers(1, 7)),
              elements=st.floats(-3, 3)),
       arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3)), elements=st.floats(-2, 2)))
def test_dithered_sign_elementwise_oracle(x, T):
    out = dithered_sign(x, T, axes=(1, 2))
    for idx in np.ndindex(x.shape):
        t = T[idx[1] % T.shape[0], idx[2] % T.shape[1]]
        assert out[idx] == (1.0 if x[idx] - t >= 0 else -1.0)
    # axes given in the other order: kernel axis 0 tiles x axis 2
    out2 = dithered_sign(x, T.T, axes=(2, 1))
    np.testing.assert_array_equal(out, out2)


def test_torch_oracle():
    torch = pytest.importorskip("torch")
    x = np.random.RandomState(0).randn(2, 3, 6, 5).astype(np.float32)
    T = np.array([[0.34, 0.694], [0.694, 0.34]], dtype=np.float32)
    xt = torch.from_numpy(x)
    Tt = torch.from_numpy(T).repeat(3, 3)[:6, :5]
    ref = torch.where(xt - Tt >= 0, 1.0, -1.0).numpy()
    np.testing.assert_array_equal(dithered_sign(x, T), ref)
    assert dithered_sign(x, T).dtype == np.float32


def test_half_wave_gaussian_kmeans():
    c, t = half_wave_gaussian_thresholds(6)
    assert t[0] == 0 and np.all(np.diff(t) > 0) and np.all(np.diff(c) > 0)
    z = np.abs(np.random.RandomState(0).randn(1_000_000))
    lab = np.searchsorted(t, z, side="right") - 1
    # Lloyd fixed point: each centre is the mean of its cell (k-means optimum)
    for i in range(6):
        assert z[lab == i].mean() == pytest.approx(c[i], abs=0.01)
    np.testing.assert_allclose(scale_threshold_kernel([[0, 9]], k=3), [[0.0, t[5]]])


def test_3d_variants():
    T = np.array([[1, 1], [3, 3]])
    S = threshold_kernel_3d(T, 6, "shift")
    om = threshold_levels(3).tolist()
    for c in range(6):
        for v, w in zip(T.ravel(), S[c].ravel()):
            assert w == om[(om.index(v) + c) % 6]
    np.testing.assert_array_equal(S[0], T)
    C = threshold_kernel_3d(T, 3, "complement")
    np.testing.assert_array_equal(C[1], [[7, 7], [5, 5]])
    np.testing.assert_array_equal(C[2], T)
    # 3-D kernel tiled over (channel, h, w) = per-channel 2-D DeSign
    x = np.random.RandomState(0).randn(4, 6, 5, 7)
    Ts = scale_threshold_kernel(S, k=3)
    out = dithered_sign(x, Ts, axes=(1, 2, 3))
    for c in range(6):
        np.testing.assert_array_equal(out[:, c], dithered_sign(x[:, c], Ts[c]))


def test_binarizer_eeg_maps_and_variants():
    rng = np.random.RandomState(0)
    X = rng.randn(10, 8, 40).cumsum(axis=2) / 5  # trials x channels x times
    db = DitheredBinarizer(k=3, d=2, n_random_kernels=4, random_state=0).fit(X)
    assert db.levels_.shape == (2, 2) and db.design_scores_.shape == (1296,)
    assert db.axes_ == (1, 2)
    np.testing.assert_array_equal(db.transform(X), dithered_sign(X, db.thresholds_, (1, 2)))
    raw = DitheredBinarizer(kernel=[[1, 3], [5, 7]], scaling="none").fit(X)
    np.testing.assert_array_equal(raw.thresholds_, [[1, 3], [5, 7]])
    # 3-D variants on (trials, filters, channels, times)
    X4 = rng.randn(5, 4, 6, 10)
    for variant, kind in (("3d-shift", "shift"), ("3d-complement", "complement")):
        db3 = DitheredBinarizer(kernel=[[1, 1], [3, 3]], variant=variant).fit(X4)
        np.testing.assert_array_equal(db3.levels_, threshold_kernel_3d([[1, 1], [3, 3]], 4, kind))
        assert db3.axes_ == (1, 2, 3)
        np.testing.assert_array_equal(db3.transform(X4)[:, 1],
                                      dithered_sign(X4[:, 1], db3.thresholds_[1]))
    fp = footprint(db)
    assert fp.total_params == 4 and fp.total_macs == 8 * 40
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(db)).transform(X), db.transform(X))
    assert clone(db).get_params() == db.get_params()


def test_binarizer_2d_features_design():
    X = np.random.RandomState(0).randn(30, 16).cumsum(axis=1)
    db = DitheredBinarizer(d=2, n_random_kernels=4, random_state=0).fit(X)
    assert db.levels_.shape == (2,) and set(db.levels_) <= {0, 1, 3}
    assert db.transform(X).shape == (30, 16)


def test_check_estimator_given_kernel():
    # the default (a designed kernel) runs in tests/test_common.py
    check_estimator(DitheredBinarizer(kernel=[1, 3]))


def test_maps_too_small_for_the_convolution_score_zero_and_give_sign():
    # no pair of neighbouring k x k convolution outputs: eq. (9) is 0 for every kernel,
    # the tie order puts the all-zero kernel first, and DeSign is plain Sign
    X = np.random.RandomState(0).randn(20, 3)
    kernels, scores = design_threshold_kernel(X, k=3, d=2, n_random_kernels=4, random_state=0)
    assert np.all(scores == 0) and np.all(kernels[0] == 0)
    db = DitheredBinarizer().fit(X)
    np.testing.assert_array_equal(db.thresholds_, [0.0, 0.0])
    np.testing.assert_array_equal(db.transform(X), np.where(X >= 0, 1, -1))


def test_outputs():
    X = np.random.RandomState(1).randn(12, 70).cumsum(axis=1)
    db = DitheredBinarizer(kernel=[1, 3]).fit(X)
    ref = dithered_sign(X, db.thresholds_, db.axes_)
    bip = db.transform(X)
    assert bip.dtype == np.int8
    np.testing.assert_array_equal(bip, ref)
    np.testing.assert_array_equal(db.set_params(output="binary").transform(X), ref > 0)
    from eegbin.kernels import pack_bits

    np.testing.assert_array_equal(db.set_params(output="packed").transform(X), pack_bits(ref))
    X3 = np.random.RandomState(2).randn(4, 3, 30)
    db3 = DitheredBinarizer(kernel=[[1, 3]], output="packed").fit(X3)
    np.testing.assert_array_equal(db3.transform(X3),
                                  pack_bits(dithered_sign(X3, db3.thresholds_, db3.axes_).reshape(4, -1)))
    with pytest.raises(ValueError, match="2-D X"):
        db3.get_feature_names_out()


def test_bad_input():
    X = np.random.RandomState(0).randn(4, 6, 8)
    with pytest.raises(ValueError, match=r"Omega = \[0, 1, 3, 5, 7, 9\].*\[2\]"):
        DitheredBinarizer(kernel=[[1, 2], [3, 5]]).fit(X)
    with pytest.raises(ValueError, match="Omega"):
        scale_threshold_kernel([[4]], k=3)
    with pytest.raises(ValueError, match="dimension"):
        DitheredBinarizer(kernel=[1, 3]).fit(X)
    with pytest.raises(ValueError, match="channel axis"):
        DitheredBinarizer(kernel=[[1, 3]], variant="3d-shift").fit(X)
    with pytest.raises(ValueError, match="finite"):
        dithered_sign([np.nan, 1.0], [0.0], axes=0)
    with pytest.raises(ValueError, match="one dimension per tiled axis"):
        dithered_sign(X, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="out of range"):
        dithered_sign(X, np.zeros(2), axes=5)
    with pytest.raises(ValueError, match="brute-force limit"):
        design_threshold_kernel(X, k=3, d=3)
    with pytest.raises(ValueError, match="finite"):
        DitheredBinarizer().fit(np.full((3, 4, 4), np.inf))
    with pytest.raises(ValueError, match="variant"):
        threshold_kernel_3d([[1]], 2, "mirror")
    db = DitheredBinarizer(kernel=[[1, 3]]).fit(X)
    with pytest.raises(ValueError, match="shape"):
        db.transform(X[:, :5])

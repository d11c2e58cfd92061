"""FilterBankRiemann in C: the tangent vectors of eegbin (float64: to 1e-10; float32: to 1e-4)."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from eegbin import BinarizedLinearSVC, FilterBankRiemann, SparseBipolarRandomProjection
from eegbin.export import to_c


def _epochs(n=30, n_ch=5, n_t=260, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    t = np.arange(n_t) / 100.0
    X = rng.randn(n, n_ch, n_t)
    X[:, 0] += (y[:, None] + 1) * np.sin(2 * np.pi * 10 * t)  # class-dependent 10 Hz power
    X = np.einsum("ij,njt->nit", rng.randn(n_ch, n_ch), X) * 20.0  # mixed, EEG-like amplitudes
    return X.astype(np.float32), y


def _rel(c, p):
    """Deviation of each trial's feature vector relative to its largest entry."""
    return (np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)).max()


@pytest.mark.parametrize("windows", [None, [(0, 130), (100, 260)], [(0.3, 2.1)]])
def test_features_match_eegbin(compiled, windows):
    X, y = _epochs()
    fbr = FilterBankRiemann(100.0, bands=[(8, 12), (12, 30), (4, 40)], windows=windows)
    pipe = make_pipeline(fbr, LinearSVC()).fit(X, y)
    F = fbr.transform(X)
    m64 = compiled(pipe, "f", dtype="float64")
    assert _rel(m64.step(0, X), F) < 1e-10
    m32 = compiled(pipe, "f", dtype="float32")
    F32 = m32.step(0, X)
    assert F32.dtype == np.float32
    assert _rel(F32, F) < 1e-4
    for m in (m64, m32):
        np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))
        s = pipe.decision_function(X)
        assert _rel(m.scores(X), s) < 1e-4


def test_filter_order_and_regularization(compiled):
    X, y = _epochs(n_ch=3, n_t=120)
    fbr = FilterBankRiemann(100.0, bands=[(6, 14)], order=4, reg=2.5)
    pipe = make_pipeline(fbr, LinearSVC()).fit(X, y)
    m = compiled(pipe, dtype="float64")
    assert _rel(m.step(0, X), fbr.transform(X)) < 1e-10
    # 4 biquads x 5, one 3 x 3 triangle; the SVM: 3 classes x 6 features + 3 biases
    assert m.size()["weights"] == 8 * (4 * 5 + 6 + 3 * 6 + 3)


def test_rank_deficient_trial_is_kept_positive_by_reg(compiled):
    # a flat channel: the covariance is only positive definite through reg
    X, y = _epochs(n_ch=3)
    X[:, 2] = 0.0
    fbr = FilterBankRiemann(100.0, bands=[(8, 30)])
    pipe = make_pipeline(fbr, LinearSVC()).fit(X, y)
    m = compiled(pipe, dtype="float64")
    assert _rel(m.step(0, X), fbr.transform(X)) < 1e-10


def test_hersche_chain_end_to_end(compiled):
    X, y = _epochs(n_ch=4)
    pipe = make_pipeline(FilterBankRiemann(100.0, bands=[(8, 12), (12, 30)]),
                         SparseBipolarRandomProjection(n_components=256, random_state=5, output="packed"),
                         BinarizedLinearSVC(n_bits=256)).fit(X, y)
    F = pipe[0].transform(X)
    codes = pipe[1].transform(F)
    for dtype in ("float64", "float32"):
        m = compiled(pipe, "chain", dtype=dtype)
        # on eegbin's features the C projection is bit-exact
        np.testing.assert_array_equal(m.step(1, F.astype(np.float32 if dtype == "float32" else np.float64)),
                                      codes)
        np.testing.assert_array_equal(m.step(2, codes)[1], pipe.decision_function(X).astype(np.float32))
        np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))


def test_other_metrics_are_refused_by_name(tmp_path):
    X, y = _epochs(n_ch=3)
    pipe = make_pipeline(FilterBankRiemann(100.0, bands=[(8, 30)], metric="logeuclid"), LinearSVC()).fit(X, y)
    with pytest.raises(ValueError, match=r"FilterBankRiemann\(metric='logeuclid'\) cannot be exported"):
        to_c(pipe, tmp_path, "m")

"""FilterBankRiemann: parity with scipy + pyRiemann, sklearn contract, bad input, footprint."""

import pickle

import numpy as np
import pytest
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from scipy.signal import butter, sosfilt
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import check_estimator

import eegbin
from eegbin import FilterBankRiemann
from eegbin.features import hersche_bands


def _eq1(x, reg=0.1):
    """Eq. (1) as a pyRiemann covariance estimator: (X X^T + reg I) / (n_s - 1)."""
    return (x @ x.T + reg * np.eye(x.shape[0])) / (x.shape[1] - 1)


def reference_features(X_train, X_test, sfreq, bands, windows, reg=0.1, metric="riemann", order=2):
    """What a user writes today: scipy sosfilt per band + pyRiemann Covariances + TangentSpace."""
    train, test = [], []
    for lo, hi in bands:
        sos = butter(order, [lo, hi], btype="bandpass", fs=sfreq, output="sos")
        for start, stop in windows:
            cov = Covariances(estimator=_eq1, reg=reg)
            c_train = cov.fit_transform(sosfilt(sos, X_train[:, :, start:stop], axis=-1))
            c_test = cov.transform(sosfilt(sos, X_test[:, :, start:stop], axis=-1))
            ts = TangentSpace(metric=metric).fit(c_train)
            train.append(ts.transform(c_train))
            test.append(ts.transform(c_test))
    return np.concatenate(train, axis=1), np.concatenate(test, axis=1)


def _rel_err(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def _data(n_trials, n_channels, n_times, seed=0):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((n_channels, n_channels))  # correlated channels
    return np.einsum("ij,njt->nit", mixing, rng.standard_normal((n_trials, n_channels, n_times)))


CASES = [
    # (sfreq, bands, n_channels, n_times, windows (estimator form), windows in samples)
    (250.0, [(8.0, 12.0), (4.0, 40.0), (30.0, 34.0)], 22, 300, None, [(0, 300)]),
    (250.0, hersche_bands()[::7], 8, 250, [(0, 125), (50, 250)], [(0, 125), (50, 250)]),
    (128.0, [(4.0, 8.0), (13.0, 30.0)], 5, 256, [(0.5, 1.5), (0.0, 2.0)], [(64, 192), (0, 256)]),
    (100.0, [(1.0, 3.0), (20.0, 45.0)], 3, 90, None, [(0, 90)]),
]


@pytest.mark.parametrize("sfreq, bands, n_ch, n_times, windows, wins_samples", CASES)
def test_parity_with_scipy_pyriemann(sfreq, bands, n_ch, n_times, windows, wins_samples):
    X = _data(30, n_ch, n_times, seed=n_ch)
    X_test = _data(7, n_ch, n_times, seed=n_ch + 100)
    ref_train, ref_test = reference_features(X[:23], X_test, sfreq, bands, wins_samples)
    est = FilterBankRiemann(sfreq, bands=bands, windows=windows)
    ours_train = est.fit_transform(X[:23])
    ours_test = est.transform(X_test)
    assert ours_train.shape == ref_train.shape
    assert _rel_err(ours_train, ref_train) < 1e-8
    assert _rel_err(ours_test, ref_test) < 1e-8
    np.testing.assert_allclose(est.fit(X[:23]).transform(X[:23]), ours_train, rtol=0, atol=1e-12)


@pytest.mark.parametrize("metric", ["logeuclid", "euclid"])
def test_parity_other_metrics(metric):
    bands = [(8.0, 12.0), (12.0, 30.0)]
    X = _data(25, 6, 200, seed=3)
    ref_train, ref_test = reference_features(X[:20], X[20:], 200.0, bands, [(0, 200)], metric=metric)
    est = FilterBankRiemann(200.0, bands=bands, metric=metric).fit(X[:20])
    assert _rel_err(est.transform(X[:20]), ref_train) < 1e-8
    assert _rel_err(est.transform(X[20:]), ref_test) < 1e-8


def test_default_hersche_bank_shape_and_names():
    X = _data(6, 22, 100, seed=1)
    est = FilterBankRiemann(250.0, n_jobs=1).fit(X)
    assert len(est.bands_) == 43 and est.sos_.shape == (43, 2, 6)
    assert est.transform(X).shape == (6, 10879) == (6, est.n_features_out_)
    names = est.get_feature_names_out()
    assert len(names) == 10879 and len(set(names)) == 10879
    assert names[0] == "4-6Hz_s0-100_ch0-ch0" and names[-1] == "8-40Hz_s0-100_ch21-ch21"
    assert est.get_feature_names_out([f"E{i}" for i in range(22)])[1] == "4-6Hz_s0-100_E0-E1"


def test_n_jobs_and_single_trial_consistency():
    X = _data(12, 4, 120, seed=2)
    a = FilterBankRiemann(100.0, bands=[(8, 12), (20, 30)], n_jobs=1).fit(X)
    b = FilterBankRiemann(100.0, bands=[(8, 12), (20, 30)], n_jobs=-1).fit(X)
    np.testing.assert_array_equal(a.reference_, b.reference_)
    batch = a.transform(X)
    one = np.concatenate([a.transform(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(one, batch, rtol=0, atol=1e-13)
    # sample order invariance, at transform and at fit (the mean of the training covariances)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(a.transform(X[perm]), batch[perm], rtol=0, atol=1e-13)
    c = FilterBankRiemann(100.0, bands=[(8, 12), (20, 30)]).fit(X[perm])
    np.testing.assert_allclose(c.reference_, a.reference_, rtol=1e-12)
    np.testing.assert_allclose(c.transform(X), batch, rtol=0, atol=1e-10)


def test_rank_deficient_trials_handled_by_reg():
    X = _data(10, 6, 100, seed=4)
    X[:, 3] = X[:, 2]  # duplicated channel: X X^T is singular
    X[0] = 0.0  # an all-zero trial: covariance reg I / (n - 1)
    feats = FilterBankRiemann(100.0, bands=[(8, 12)], reg=0.1).fit_transform(X)
    assert np.isfinite(feats).all()
    with pytest.raises(ValueError, match="positive definite|regularization"):
        FilterBankRiemann(100.0, bands=[(8, 12)], reg=0.0).fit(X)


def test_dtypes_memmap_and_no_input_change(tmp_path):
    X = _data(8, 3, 100, seed=5)
    ref = FilterBankRiemann(100.0, bands=[(8, 12)]).fit_transform(X)
    X32 = X.astype(np.float32)
    out32 = FilterBankRiemann(100.0, bands=[(8, 12)]).fit_transform(X32)
    assert out32.dtype == np.float64 and _rel_err(out32, ref) < 1e-4
    path = tmp_path / "x.npy"
    np.save(path, np.asfortranarray(X))
    mm = np.load(path, mmap_mode="r")
    np.testing.assert_allclose(FilterBankRiemann(100.0, bands=[(8, 12)]).fit_transform(mm), ref, atol=1e-12)
    Xc = X.copy()
    FilterBankRiemann(100.0, bands=[(8, 12)]).fit(X).transform(X)
    np.testing.assert_array_equal(X, Xc)


def test_clone_pickle_pipeline_gridsearch():
    rng = np.random.default_rng(6)
    n = 40
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 4, 150))
    X[y == 1, 0] *= 3.0  # class 1: more power on channel 0
    est = FilterBankRiemann(100.0, bands=[(8, 12), (12, 30)])
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "reference_")
    est.fit(X)
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est2.transform(X), est.transform(X))
    pipe = make_pipeline(FilterBankRiemann(100.0, bands=[(8, 12), (12, 30)]), LinearSVC(C=0.1))
    assert pipe.fit(X, y).score(X, y) > 0.9
    grid = {"filterbankriemann__reg": [0.1, 1.0], "filterbankriemann__metric": ["riemann", "euclid"]}
    gs = GridSearchCV(pipe, grid, cv=2)
    gs.fit(X, y)
    assert gs.best_score_ > 0.8 and set(gs.best_params_) == {"filterbankriemann__reg", "filterbankriemann__metric"}


def test_check_estimator_skips_for_3d_and_named_failures_with_2d():
    # Declared 3-D only: scikit-learn's generic checks (2-D data) are all skipped.
    with pytest.warns(Warning, match="requires input"):
        check_estimator(FilterBankRiemann(100.0, bands=[(8, 12)]))

    # Forcing the generic checks shows which pass and that each failure is the 3-D
    # input rule (they feed 2-D arrays) or an explicit refusal (no silent coercion).
    class Forced2D(FilterBankRiemann):
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.two_d_array = True
            return tags

    results = check_estimator(Forced2D(100.0, bands=[(8, 12)]), on_fail=None)
    failed = {r["check_name"]: str(r["exception"]) for r in results if r["status"] == "failed"}
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {
        "check_estimator_cloneable", "check_no_attributes_set_in_init", "check_estimators_unfitted",
        "check_do_not_raise_errors_in_init_or_set_params", "check_mixin_order",
        "check_transformers_unfitted", "check_parameters_default_constructible",
        "check_get_params_invariance", "check_set_params", "check_estimator_repr",
    } <= passed
    explicit_refusals = {
        "check_complex_data": "Complex data not supported",
    }
    for name, msg in failed.items():
        expected = explicit_refusals.get(name, "3-D|sparse")
        assert any(m in msg for m in expected.split("|")) or "should contain" in msg or \
            "doesn't check for NaN" in msg or "unexpectedly" in msg or "sparse" in msg, (name, msg)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((5, 100)), "3-D"),
        (np.zeros((2, 3, 4, 100)), "3-D"),
        (np.ones((3, 2, 100), dtype=complex), "Complex"),
    ],
)
def test_bad_input_shape(X, match):
    with pytest.raises(ValueError, match=match):
        FilterBankRiemann(100.0, bands=[(8, 12)]).fit(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_inf_names_the_trial(bad):
    X = _data(5, 3, 100)
    X[3, 1, 7] = bad
    with pytest.raises(ValueError, match="trial 3"):
        FilterBankRiemann(100.0, bands=[(8, 12)]).fit(X)
    est = FilterBankRiemann(100.0, bands=[(8, 12)]).fit(_data(5, 3, 100))
    with pytest.raises(ValueError, match="trial 3"):
        est.transform(X)


def test_overflowing_covariance_is_reported():
    X = _data(4, 3, 100)
    X[2] *= 1e160
    with pytest.raises(ValueError, match="non-finite covariance.*trial 2"):
        FilterBankRiemann(100.0, bands=[(8, 12)]).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bands": [(8, 12), (30, 50)]}, r"bands\[1\].*Nyquist"),
        ({"bands": [(12, 8)]}, r"bands\[0\].*low < high"),
        ({"bands": [(10, 10)]}, r"low < high"),
        ({"bands": [(0, 10)]}, r"0 < low"),
        ({"bands": [(8,)]}, r"bands.*\(low, high\) pair"),
        ({"bands": []}, "non-empty"),
        ({"bands": "bogus"}, "bands"),
        ({"windows": [(0, 500)]}, r"windows\[0\].*n_times = 100"),
        ({"windows": [(50, 40)]}, r"windows\[0\]"),
        ({"windows": [(0.0, 5.0)]}, r"windows\[0\]"),
        ({"windows": [(0, 3)]}, "at least 5 samples"),
        ({"reg": -1.0}, "reg"),
        ({"metric": "wasserstein"}, "metric"),
        ({"order": 0}, "order"),
        ({"sfreq": -1.0}, "sfreq"),
    ],
)
def test_bad_parameters(params, match):
    kwargs = {"sfreq": 100.0, "bands": [(8, 12)]}
    kwargs.update(params)
    with pytest.raises(ValueError, match=match):
        FilterBankRiemann(**kwargs).fit(_data(4, 3, 100))


def test_too_few_samples_and_channel_mismatch():
    with pytest.raises(ValueError, match="at least 5 samples"):
        FilterBankRiemann(100.0, bands=[(8, 12)]).fit(_data(4, 3, 4))
    est = FilterBankRiemann(100.0, bands=[(8, 12)]).fit(_data(4, 3, 100))
    with pytest.raises(ValueError, match="4 channels.*expecting 3"):
        est.transform(_data(2, 4, 100))
    with pytest.raises(ValueError, match="3 samples per trial, but FilterBankRiemann is expecting 100"):
        est.transform(_data(2, 3, 3))
    windowed = FilterBankRiemann(100.0, bands=[(8, 12)], windows=[(0, 80)]).fit(_data(4, 3, 100))
    with pytest.raises(ValueError, match="50 samples per trial.*expecting 100"):
        windowed.transform(_data(2, 3, 50))
    with pytest.raises(TypeError, match="sparse"):
        import scipy.sparse as sp

        FilterBankRiemann(100.0, bands=[(8, 12)]).fit(sp.csr_matrix(np.eye(3)))


def test_footprint_reproduces_table2_and_documents_eegbin_counts():
    X = _data(3, 22, 875, seed=9)
    est = FilterBankRiemann(250.0, n_jobs=1).fit(X)
    paper = est.footprint(float_bits=16, convention="hersche2020")
    parts = {p.name: p for p in paper.parts}
    # Hersche et al. 2020, Table II (22 channels, 875 samples, 43 bands, float16)
    assert parts["Bandpass filter"].total_macs == 4_138_750
    assert round(parts["Bandpass filter"].kB, 2) == 0.43
    assert parts["Covariance"].total_macs == 9_519_125
    assert parts["Whitening"].total_macs == 41_624
    assert round(parts["Whitening"].kB, 2) == 20.81
    assert parts["Matrix logarithm"].total_macs == 3_968_155
    ours = {p.name: p for p in est.footprint(float_bits=16).parts}
    assert ours["Bandpass filter"].total_macs == 2 * 4_138_750  # order 2 -> 2 biquads
    assert ours["Bandpass filter"].total_params == 43 * 2 * 5
    assert ours["Covariance"].total_macs == 9_519_125
    assert ours["Whitening"].total_params == 43 * 253 and ours["Whitening"].total_macs == 43 * 2 * 22**3
    assert ours["Matrix logarithm"].total_macs == round(43 * (26 * 22**3 / 3 + 22 * 253 + 231))
    fp = eegbin.footprint(make_pipeline(est), float_bits=16)
    assert fp.total_macs == sum(p.total_macs for p in ours.values())
    with pytest.raises(ValueError, match="convention"):
        est.footprint(convention="nope")

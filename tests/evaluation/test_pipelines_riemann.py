"""The registered Riemannian baselines build, fit and report Table II footprints."""

import warnings

import numpy as np
import pytest

import eegbin
from eegbin.evaluation.pipelines import get_pipeline, get_spec, list_pipelines


def _two_class(n=40, n_ch=4, n_times=250, seed=0):
    rng = np.random.default_rng(seed)
    y = (np.arange(n) // 2) % 2  # both classes in the even and the odd half
    X = rng.standard_normal((n, n_ch, n_times))
    X[y == 1, 0] *= 2.0
    return X, y


@pytest.mark.parametrize("name", ["Riemann+SVM", "Riemann+LDA"])
def test_riemann_pipelines_registered_fit_and_footprint(name):
    assert name in list_pipelines(default_only=True)
    spec = get_spec(name)
    assert spec.float_bits == 16 and "Hersche" in spec.reference
    pipe = get_pipeline(name, sfreq=250.0)
    X, y = _two_class()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence warnings
        pipe.fit(X[::2], y[::2])
    assert pipe.score(X[1::2], y[1::2]) >= 0.8
    fp = eegbin.footprint(pipe, float_bits=spec.float_bits)
    fbr, clf = fp.parts
    n_feat = 43 * 4 * 5 // 2
    assert [p.name for p in fbr.parts] == ["Bandpass filter", "Covariance", "Whitening", "Matrix logarithm"]
    assert clf.total_params == n_feat + 1 and clf.bits_per_param == 16  # binary: one weight row
    assert fp.total_macs == fbr.total_macs + n_feat


def test_riemann_svm_matches_original_hyperparameters():
    svm = get_pipeline("Riemann+SVM")[-1]
    assert (svm.C, svm.loss, svm.penalty) == (0.1, "hinge", "l2")
    # shrinkage LDA (lsqr, Ledoit-Wolf "auto"), computed without the d x d covariance
    from eegbin.binary import ShrinkageLDA

    assert isinstance(get_pipeline("Riemann+LDA")[-1], ShrinkageLDA)


def test_riemann_lda_equals_sklearn_shrinkage_lda():
    import numpy as np
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.RandomState(0)
    X, y = rng.randn(60, 40), np.arange(60) % 4
    X[y == 1, :3] += 1.0
    ours = get_pipeline("Riemann+LDA")[-1].fit(X, y)
    ref = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-8, atol=1e-8)

"""Float linear heads in C: decision values to float rounding, predictions identical."""

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.svm import LinearSVC

from eegbin import ShrinkageLDA


def _data(k, n=90, f=30):
    rng = np.random.RandomState(k)
    y = np.arange(n) % k
    X = np.eye(k)[y] @ rng.randn(k, f) + rng.randn(n, f)
    return X.astype(np.float32), y


MODELS = [
    lambda: LinearSVC(C=0.1),
    lambda: LogisticRegression(max_iter=500),
    lambda: LinearDiscriminantAnalysis(),
    lambda: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
    lambda: ShrinkageLDA(),
    lambda: RidgeClassifier(),
]


@pytest.mark.parametrize("make", MODELS)
@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_head(compiled, make, k, dtype):
    X, y = _data(k)
    clf = make().fit(X, y)
    m = compiled(clf, dtype=dtype)
    s = clf.decision_function(X)
    c = m.scores(X)
    if k == 2:  # one decision value s: scores = {0, s}
        np.testing.assert_array_equal(c[:, 0], 0.0)
        c = c[:, 1]
    tol = 1e-5 if dtype == "float32" else 1e-6  # float64 arithmetic, float32 scores
    np.testing.assert_allclose(c, s, rtol=tol, atol=tol * np.abs(s).max())
    np.testing.assert_array_equal(clf.classes_[m.predict(X)], clf.predict(X))


def test_weight_bytes_are_the_footprint(compiled):
    from eegbin import footprint

    X, y = _data(4)
    clf = ShrinkageLDA().fit(X, y)
    for dtype, bits in (("float32", 32), ("float64", 64)):
        m = compiled(clf, dtype=dtype)
        assert m.size()["weights"] == footprint(clf, float_bits=bits).n_bytes == 4 * 31 * bits / 8

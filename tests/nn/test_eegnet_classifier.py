"""EEGNetClassifier: sklearn contract, head re-fit, transform size, bad input."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_set_params,
)

from eegbin import EEGNetClassifier
from eegbin.nn import EEGNet


@pytest.fixture(scope="module")
def task():
    """Small 3-class task whose labels are a linear function of the network's features."""
    rng = np.random.default_rng(0)
    C, T = 6, 200
    w = EEGNet.random_weights(C, T, n_classes=3, rng=rng)
    X = rng.standard_normal((90, C, T)).astype(np.float32)
    F = EEGNet(w, n_times=T, dtype="float64").features(X.astype(np.float64))
    y = np.argmax((F - F.mean(0)) @ rng.standard_normal((F.shape[1], 3)), axis=1)
    return w, X, np.array(["left", "right", "feet"])[y], C, T


def test_refit_head_keeps_convolutions(task):
    w, X, y, C, T = task
    clf = EEGNetClassifier(w, n_chans=C, n_times=T, sfreq=250.0, refit_head=True, C=100.0).fit(X, y)
    net0 = EEGNet(w, n_times=T)
    np.testing.assert_array_equal(clf.net_.temporal, net0.temporal)
    np.testing.assert_array_equal(clf.net_.spatial, net0.spatial)
    np.testing.assert_array_equal(clf.net_.point, net0.point)
    assert not np.allclose(clf.net_.head_w, net0.head_w)
    assert clf.score(X, y) > 0.9  # the new head learns the feature-linear labels
    assert set(clf.classes_) == {"feet", "left", "right"}
    np.testing.assert_allclose(clf.predict_proba(X[:5]).sum(1), 1.0)
    assert clf.transform(X).shape == (90, net0.n_features)
    assert clf.n_features_in_ == C


def test_pretrained_head_matches_network(task):
    w, X, _, C, T = task
    y = np.arange(len(X)) % 3
    clf = EEGNetClassifier(w, n_chans=C, n_times=T, sfreq=250.0, refit_head=False).fit(X, y)
    logits = EEGNet(w, n_times=T).forward(X)
    np.testing.assert_array_equal(clf.decision_function(X), logits)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(logits, 1))
    # the default keeps the trained head too (issue 15: re-fitting is the option)
    default = EEGNetClassifier(w, n_chans=C, n_times=T, sfreq=250.0).fit(X, y)
    assert default.refit_head is False
    np.testing.assert_array_equal(default.decision_function(X), logits)
    np.testing.assert_array_equal(default.net_.head_w, EEGNet(w, n_times=T).head_w)
    with pytest.raises(ValueError, match="2 classes but the network has 3 outputs.*refit_head=True"):
        EEGNetClassifier(w, n_chans=C, n_times=T, sfreq=250.0, refit_head=False).fit(X, y % 2)


def test_transform_272_features_hersche_config():
    rng = np.random.default_rng(1)
    w = EEGNet.random_weights(22, 1125, 4, pool1_kernel_size=8, pool2_kernel_size=8, rng=rng)
    X = rng.standard_normal((8, 22, 1125))
    clf = EEGNetClassifier(w, 22, 1125, 250.0, pool1_kernel_size=8, pool2_kernel_size=8,
                           refit_head=False).fit(X, np.arange(8) % 4)
    assert clf.transform(X).shape == (8, 272)


def test_sklearn_contract(task):
    w, X, y, C, T = task
    clf = EEGNetClassifier(w, n_chans=C, n_times=T, sfreq=250.0, refit_head=True)
    check_no_attributes_set_in_init("EEGNetClassifier", clf)
    check_get_params_invariance("EEGNetClassifier", clf)
    check_set_params("EEGNetClassifier", clf)
    # check_estimator's other checks feed 2-D X: 3-D EEG input is declared in the tags
    assert clf.__sklearn_tags__().input_tags.three_d_array
    fitted = clone(clf).fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    gs = GridSearchCV(clf, {"C": [0.01, 100.0]}, cv=3).fit(X, y)
    assert gs.best_params_["C"] == 100.0


def test_bad_input(task, tmp_path):
    w, X, y, C, T = task
    clf = EEGNetClassifier(w, n_chans=C, n_times=T, sfreq=250.0)
    with pytest.raises(ValueError, match=r"n_chans=6, n_times=200\), got \(90, 5, 200\)"):
        clf.fit(X[:, :5], y)
    Xn = X.copy()
    Xn[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(Xn, y)
    with pytest.raises(ValueError, match="sfreq"):
        EEGNetClassifier(w, C, T, sfreq=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="does not exist"):
        EEGNetClassifier(str(tmp_path / "nope.pt"), C, T, 250.0).fit(X, y)
    with pytest.raises(ValueError, match="n_times=300 gives"):
        EEGNetClassifier(w, C, 300, 250.0).fit(np.zeros((3, C, 300)), [0, 1, 2])
    fitted = clf.fit(X, y)
    with pytest.raises(ValueError, match="got \\(2, 6, 100\\)"):
        fitted.predict(X[:2, :, :100])
    with pytest.raises(ValueError, match="n_selected_channels=7 exceeds n_chans=6"):
        EEGNetClassifier(w, C, T, 250.0, n_selected_channels=7).fit(X, y)

"""LSTMClassifier (float LSTM) in C: features and logits to float rounding of eegbin's float64,
the same predictions; the binarized networks are refused by name."""

import numpy as np
import pytest

from eegbin import LSTMClassifier
from eegbin.export import to_c
from eegbin.nn import LSTM, MultiLevelBinarizedLSTM

C, T = 3, 60


def _weights(rng, H=5, layers=2, n_out=3):
    w = {}
    for k in range(layers):
        d = C if k == 0 else H
        w[f"lstm.weight_ih_l{k}"] = rng.normal(scale=0.6, size=(4 * H, d))
        w[f"lstm.weight_hh_l{k}"] = rng.normal(scale=0.4, size=(4 * H, H))
        w[f"lstm.bias_ih_l{k}"] = rng.normal(scale=0.1, size=4 * H)
        w[f"lstm.bias_hh_l{k}"] = rng.normal(scale=0.1, size=4 * H)
    w["fc.weight"], w["fc.bias"] = rng.normal(size=(n_out, H)), np.zeros(n_out)
    return w


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    n = 60
    y = np.arange(n) % 3
    t = np.arange(T)
    X = rng.standard_normal((n, C, T))
    X[np.arange(n), y] += 2.0 * np.sin(2 * np.pi * t / 12)  # the class sets a rhythm on one channel
    return _weights(rng), X.astype(np.float32), y


def _rel(c, p):
    return (np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)).max()


@pytest.mark.parametrize("options", [dict(decimate=1), dict(decimate=4, pooling="mean", scale=0.5),
                                     dict(decimate=3, pooling="pick"), dict(refit_head=False)],
                         ids=["every sample", "mean of 4, scaled", "every 3rd", "the file's head"])
def test_float_lstm_agrees_with_eegbin(task, compiled, options):
    w, X, y = task
    clf = LSTMClassifier(LSTM(w), **options).fit(X[:40], y[:40])
    F_py, s_py = clf.transform(X), clf.decision_function(X)
    for dtype, tol in (("float32", 1e-4), ("float64", 1e-6)):  # float64: up to the float scores
        m = compiled(clf, dtype=dtype)
        assert m.n_steps == 2
        F_c = m.step(0, X)
        assert _rel(F_c, F_py) < (1e-5 if dtype == "float32" else 1e-12)
        pred, s_c = m.step(1, F_c)
        assert _rel(s_c, s_py) < tol
        np.testing.assert_array_equal(clf.classes_[m.predict(X)], clf.predict(X))
    assert len(np.unique(pred)) > 1  # not degenerate


def test_weight_bytes_next_to_footprint(task, compiled):
    w, X, y = task
    clf = LSTMClassifier(LSTM(w)).fit(X[:40], y[:40])
    m = compiled(clf)
    assert m.size()["weights"] == clf.footprint(32).n_bytes


def test_binarized_networks_are_refused_by_name(task, tmp_path):
    w, X, y = task
    net = MultiLevelBinarizedLSTM(w, activation_levels=1, weight_levels=1, mode="b_lstm", engine="numpy")
    clf = LSTMClassifier(net).fit(X[:40], y[:40])
    with pytest.raises(ValueError, match="LSTMClassifier with a MultiLevelBinarizedLSTM network cannot be "
                                         "exported to C"):
        to_c(clf, tmp_path, "mubinn")


def test_unknown_trial_length_is_named(task, tmp_path):
    w, X, y = task
    clf = LSTMClassifier(LSTM(w), refit_head=False).fit(X[:40], y[:40])
    clf.n_times_in_ = None  # as a classifier read from an export that does not record n_times
    with pytest.raises(ValueError, match=r"LSTMClassifier: the trial length is unknown \(n_times_in_ is None\)"):
        to_c(clf, tmp_path, "m")

"""Registered Hamming-space pipelines (issue 5): build, fit, clone, pickle, grid-search."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import eegbin
from eegbin.evaluation.pipelines import get_pipeline, get_spec, list_pipelines

NAMES = [
    "Riemann+SVM-bin",
    "Riemann+LDA-bin",
    "Riemann+RP+SVM-bin(d=10879)",
    "Riemann+RP+SVM-bin(d=50000)",
    "Riemann+RP+SVM-bin(d=100000)",
    "Riemann+RP+AM",
]


@pytest.fixture(scope="module")
def epochs():
    rng = np.random.RandomState(0)
    y = np.arange(24) % 4
    X = rng.randn(24, 4, 400)
    X[:, 0] *= 1 + y[:, None]       # class-dependent power on one channel
    return X, y


def test_registered():
    assert set(NAMES) <= set(list_pipelines())
    assert all(get_spec(n).float_bits == 16 for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_fit_pickle_footprint(name, epochs):
    X, y = epochs
    pipe = get_pipeline(name, sfreq=250.0).fit(X, y)
    pred = pipe.predict(X)
    assert pipe.score(X, y) > 0.5
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pipe)).predict(X), pred)
    fp = eegbin.footprint(pipe, float_bits=16)
    classifier = fp.parts[-1]
    if "RP+SVM" in name:
        d = int(name.split("d=")[1].rstrip(")"))
        assert classifier.memory_bits == 4 * d
        assert fp.parts[1].n_bytes == 4.0           # the projection is a seed
    if name == "Riemann+RP+AM":
        assert classifier.memory_bits == 4 * 10_000 + 32


def test_clone_and_gridsearch(epochs):
    X, y = epochs
    pipe = get_pipeline("Riemann+RP+SVM-bin(d=10879)", sfreq=250.0)
    gs = GridSearchCV(pipe, {"binarizedlinearsvc__C": [0.1, 1.0]}, cv=2).fit(X, y)
    assert gs.best_params_["binarizedlinearsvc__C"] in (0.1, 1.0)
    best = clone(pipe).set_params(**gs.best_params_).fit(X, y)
    np.testing.assert_array_equal(best.predict(X), gs.best_estimator_.predict(X))

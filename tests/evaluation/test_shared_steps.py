"""fit_and_score: equal to fitting every scikit-learn Pipeline on its own, with shared steps fitted once."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.random_projection import GaussianRandomProjection
from sklearn.svm import LinearSVC

from eegbin.evaluation import get_pipeline, list_pipelines
from eegbin.evaluation._shared_steps import fit_and_score


def _epochs(n=48, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 4
    X = rng.standard_normal((n, 22, 875))
    X[:, y % 22, :] *= 1.5  # something to learn
    return X, y


def test_default_pipelines_equal_their_own_fits():
    """The oracle: each registered pipeline cloned, fitted and scored alone by scikit-learn."""
    X, y = _epochs()
    train, test = slice(0, 32), slice(32, None)
    pipes = {n: get_pipeline(n, 250.0) for n in list_pipelines(default_only=True)}
    done = []
    fitted = fit_and_score(pipes, X[train], y[train], {"test": (X[test], y[test])}, on_done=done.append)
    assert list(fitted) == list(pipes) and sorted(done) == sorted(pipes)
    for name, pipe in pipes.items():
        alone = clone(pipe).fit(X[train], y[train])
        np.testing.assert_array_equal(fitted[name].estimator.predict(X[test]), alone.predict(X[test]))
        assert fitted[name].scores["test"] == accuracy_score(y[test], alone.predict(X[test]))
        assert fitted[name].fit_time > 0
    # the 43-band front end of the six Riemannian pipelines was fitted once
    fronts = {id(fitted[n].estimator[0]) for n in pipes if n.startswith("Riemann")}
    assert len(fronts) == 1
    assert fitted["Riemann+SVM-bin"].estimator[1] is fitted["Riemann+LDA-bin"].estimator[1]


class _CountingScaler(StandardScaler):
    fits = 0

    def fit(self, X, y=None, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def test_steps_are_shared_only_when_equal_and_deterministic():
    rng = np.random.RandomState(0)
    X, y = rng.randn(60, 8), np.arange(60) % 3
    _CountingScaler.fits = 0
    pipes = {
        "a": make_pipeline(_CountingScaler(), LogisticRegression()),
        "b": make_pipeline(_CountingScaler(), LinearSVC()),
        "c": make_pipeline(_CountingScaler(with_mean=False), LinearSVC()),  # other parameters
        "d": make_pipeline(GaussianRandomProjection(4, random_state=None), LinearSVC()),
        "e": make_pipeline(GaussianRandomProjection(4, random_state=None), LogisticRegression()),
        "f": make_pipeline(GaussianRandomProjection(4, random_state=0), LogisticRegression()),
        "g": make_pipeline(GaussianRandomProjection(4, random_state=0), LinearSVC()),
        "h": LogisticRegression(),  # not a Pipeline
    }
    fitted = fit_and_score(pipes, X, y, {"train": (X, y)})
    assert _CountingScaler.fits == 2  # a and b share one, c has its own
    assert fitted["a"].estimator[0] is fitted["b"].estimator[0]
    assert fitted["a"].estimator[0] is not fitted["c"].estimator[0]
    assert fitted["d"].estimator[0] is not fitted["e"].estimator[0]  # fresh randomness: not shared
    assert fitted["f"].estimator[0] is fitted["g"].estimator[0]  # seeded: shared
    assert isinstance(fitted["h"].estimator, LogisticRegression)
    for name, pipe in pipes.items():
        if name in ("d", "e"):
            continue
        assert fitted[name].scores["train"] == pytest.approx(clone(pipe).fit(X, y).score(X, y))


class _Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return 2 * X


def test_passthrough_steps_and_several_test_sets():
    rng = np.random.RandomState(1)
    X, y = rng.randn(50, 5), np.arange(50) % 2
    pipe = make_pipeline(_Doubler(), "passthrough", LogisticRegression())
    tests = {"first": (X[:20], y[:20]), "second": (X[20:], y[20:])}
    fitted = fit_and_score({"p": pipe}, X, y, tests)
    alone = clone(pipe).fit(X, y)
    assert fitted["p"].scores == {k: alone.score(Xk, yk) for k, (Xk, yk) in tests.items()}

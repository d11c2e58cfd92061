"""Fit several pipelines on the same data, each distinct leading step only once.

Six of the default pipelines start with the same ``FilterBankRiemann(sfreq)`` (43 bands,
seconds per subject), the three baselines with the same band-pass and covariances.
:func:`fit_and_score` arranges the pipelines as a tree of their steps: steps with equal
parameters at the same position after an equal prefix are one node, fitted once
(``fit_transform`` on the training data, ``transform`` on each test set); each pipeline's
last step is fitted on its node's output and scored. This is exactly what each
``Pipeline.fit`` followed by ``scorer(pipeline, X_test, y_test)`` computes, once per node
instead of once per pipeline.

A step is shared only when it is deterministic given its parameters: a step whose
``random_state`` (or ``seed``) is ``None`` or a ``RandomState`` draws new randomness at
every fit, so each pipeline fits its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.metrics import get_scorer
from sklearn.pipeline import Pipeline

__all__ = ["FittedPipeline", "fit_and_score"]


@dataclass
class FittedPipeline:
    """One pipeline fitted by :func:`fit_and_score`.

    Attributes
    ----------
    estimator : Pipeline or estimator
        The fitted pipeline. Its leading steps may be the very objects of other
        pipelines that share them: read it, do not refit it.
    fit_time : float
        Seconds spent fitting its steps, shared steps counted in full (what fitting it
        alone would take).
    scores : dict of str to float
        Score on each test set, by the test set's name.
    """

    estimator: object
    fit_time: float
    scores: dict = field(default_factory=dict)


def _steps(estimator):
    if isinstance(estimator, Pipeline):
        return [(n, s) for n, s in estimator.steps if s is not None and not (isinstance(s, str) and s == "passthrough")]
    return [(None, estimator)]


def _draws_fresh_randomness(step):
    params = step.get_params(deep=True) if hasattr(step, "get_params") else {}
    return any(
        key.rsplit("__", 1)[-1] in ("random_state", "seed")
        and (value is None or isinstance(value, np.random.RandomState))
        for key, value in params.items()
    )


def _node_key(step, name):
    """Steps with equal keys are fitted once; unshareable steps are keyed by pipeline."""
    if _draws_fresh_randomness(step):
        return ("own", name)
    return ("shared", type(step).__module__, type(step).__qualname__, joblib.hash(step))


def fit_and_score(pipelines, X, y, tests=None, scoring="accuracy", on_done=None):
    """Fit every pipeline on ``(X, y)`` and score it on each test set, sharing equal leading steps.

    Parameters
    ----------
    pipelines : dict of str to estimator
        Unfitted estimators (usually :class:`~sklearn.pipeline.Pipeline`); they are
        cloned, never modified.
    X : array-like of shape (n_samples, ...)
        Training data.
    y : array-like of shape (n_samples,)
        Training labels.
    tests : dict of str to (X_test, y_test), optional
        Test sets, by name (e.g. the session).
    scoring : str or callable, default="accuracy"
        A scikit-learn scorer name or ``scorer(estimator, X, y)``.
    on_done : callable, optional
        Called as ``on_done(name)`` when a pipeline is fitted and scored.

    Returns
    -------
    dict of str to FittedPipeline
        In the order of ``pipelines``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import LinearSVC
    >>> from eegbin.evaluation._shared_steps import fit_and_score
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(40, 5), np.arange(40) % 2
    >>> pipes = {"lr": make_pipeline(StandardScaler(), LogisticRegression()),
    ...          "svm": make_pipeline(StandardScaler(), LinearSVC())}
    >>> fitted = fit_and_score(pipes, X[:30], y[:30], {"test": (X[30:], y[30:])})
    >>> fitted["lr"].estimator[0] is fitted["svm"].estimator[0]  # one scaler, fitted once
    True
    >>> 0.0 <= fitted["svm"].scores["test"] <= 1.0
    True
    """
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    tests = dict(tests or {})
    members = [(name, _steps(est), []) for name, est in pipelines.items()]
    out = {}
    _fit_node(members, 0, X, y, tests, 0.0, scorer, on_done, out)
    return {name: out[name] for name in pipelines}


def _fit_node(members, depth, X, y, tests, elapsed, scorer, on_done, out):
    """Fit the members' step ``depth`` on ``X``: last steps each, shared leading steps once."""
    groups = {}
    for name, steps, fitted in members:
        if depth < len(steps) - 1:
            groups.setdefault(_node_key(steps[depth][1], name), []).append((name, steps, fitted))
            continue
        step_name, step = steps[depth]
        final = clone(step)
        start = time.perf_counter()
        final.fit(X, y)
        fit_time = elapsed + time.perf_counter() - start
        estimator = final if step_name is None else Pipeline([*fitted, (step_name, final)])
        scores = {key: float(scorer(final, X_test, y_test)) for key, (X_test, y_test) in tests.items()}
        out[name] = FittedPipeline(estimator, fit_time, scores)
        if on_done is not None:
            on_done(name)
    for group in groups.values():
        step = clone(group[0][1][depth][1])
        start = time.perf_counter()
        Xt = step.fit_transform(X, y)
        fit_time = elapsed + time.perf_counter() - start
        tests_t = {key: (step.transform(X_test), y_test) for key, (X_test, y_test) in tests.items()}
        children = [(name, steps, [*fitted, (steps[depth][0], step)]) for name, steps, fitted in group]
        _fit_node(children, depth + 1, Xt, y, tests_t, fit_time, scorer, on_done, out)

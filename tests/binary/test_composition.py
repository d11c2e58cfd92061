"""Defaults compose: eegbin chains fit as a scikit-learn user writes them (issue 15 §1-§3)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from eegbin import (
    AssociativeMemoryClassifier,
    BinarizedLDA,
    BinarizedLinearClassifier,
    BinarizedLinearSVC,
    DitheredBinarizer,
    FilterBankRiemann,
    HeavisideBinarizer,
    MultiLevelBinarizer,
    PeriodicBinarizer,
    SparseBipolarRandomProjection,
)
from eegbin.evaluation.pipelines import get_pipeline, list_pipelines

BINARIZERS = [HeavisideBinarizer, DitheredBinarizer, PeriodicBinarizer, MultiLevelBinarizer,
              SparseBipolarRandomProjection]
HAMMING = [BinarizedLinearSVC, BinarizedLDA, BinarizedLinearClassifier]


def _seeded(est):
    return est.set_params(random_state=0) if "random_state" in est.get_params() else est


def _epochs(n=40, n_chans=4, n_times=300, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, n_chans, n_times))
    X[y == 1, 0] *= 2.5
    return X, y


def _features(n=80, d=30, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    return np.eye(3)[y] @ rng.randn(3, d) + 0.5 * rng.randn(n, d), y


def test_the_natural_pipeline_fits_with_defaults():
    X, y = _epochs()
    pipe = make_pipeline(FilterBankRiemann(sfreq=250.0), SparseBipolarRandomProjection(n_components=2000),
                         BinarizedLinearSVC())
    assert pipe.fit(X, y).score(X, y) > 0.9
    assert pipe[-1].n_bits_ == 2000


@pytest.mark.parametrize("output", ["bipolar", "packed"])
def test_a_grid_search_over_the_projection_width_alone(output):
    X, y = _epochs()
    pipe = make_pipeline(FilterBankRiemann(sfreq=250.0, bands=[(8, 12), (12, 30)]),
                         SparseBipolarRandomProjection(output=output, random_state=0), BinarizedLinearSVC())
    grid = {"sparsebipolarrandomprojection__n_components": [100, 1000, 1500]}
    gs = GridSearchCV(pipe, grid, cv=StratifiedKFold(3), error_score="raise").fit(X, y)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
    assert gs.best_estimator_[-1].n_bits_ == gs.best_params_["sparsebipolarrandomprojection__n_components"]


def test_packed_codes_between_eegbin_steps_give_the_model_of_the_unpacked_ones():
    X, y = _features()
    for d in (64, 1000, 1001):  # whole words, and a partial last word
        models = [make_pipeline(SparseBipolarRandomProjection(d, output=o, random_state=3),
                                BinarizedLinearSVC(random_state=0)).fit(X, y) for o in ("bipolar", "packed")]
        np.testing.assert_array_equal(models[0][-1].binary_weights_, models[1][-1].binary_weights_)
        np.testing.assert_array_equal(models[0].predict(X), models[1].predict(X))
        np.testing.assert_allclose(models[0].decision_function(X), models[1].decision_function(X))


@pytest.mark.parametrize("binarizer", BINARIZERS, ids=lambda c: c.__name__)
def test_a_binarizer_gives_other_estimators_one_value_per_feature(binarizer):
    X, y = _features()
    pipe = make_pipeline(binarizer(), LogisticRegression()).fit(X, y)
    Z = pipe[0].transform(X)
    assert Z.dtype != np.uint64
    n_out = pipe[0].n_components if binarizer is SparseBipolarRandomProjection else X.shape[1]
    assert Z.shape == (len(X), n_out) and pipe[-1].n_features_in_ == n_out
    assert pipe.score(X, y) > 0.9


@pytest.mark.parametrize("binarizer", BINARIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("output", ["bipolar", "binary", "packed"])
def test_hamming_classifiers_read_every_output(binarizer, output):
    X, y = _features()
    ref = make_pipeline(_seeded(binarizer(output="bipolar")), BinarizedLinearSVC(random_state=0)).fit(X, y)
    pipe = clone(ref).set_params(**{f"{ref.steps[0][0]}__output": output}).fit(X, y)
    np.testing.assert_array_equal(pipe[-1].binary_weights_, ref[-1].binary_weights_)
    np.testing.assert_array_equal(pipe.predict(X), ref.predict(X))


@pytest.mark.parametrize("classifier", HAMMING + [AssociativeMemoryClassifier], ids=lambda c: c.__name__)
def test_hamming_classifiers_take_real_features_with_defaults(classifier):
    X, y = _features()
    X = X - X.mean(axis=0)
    clf = classifier().fit(X, y)
    assert clf.score(X, y) > 0.8
    if hasattr(clf, "binary_weights_"):    # reals are read as H(x): the model of the bipolar codes
        bip = classifier().fit(np.where(X >= 0, 1, -1), y)
        np.testing.assert_array_equal(clf.binary_weights_, bip.binary_weights_)


def test_multilevel_binarizer_sits_mid_pipeline():
    X, y = _features()
    for steps in ([MultiLevelBinarizer(), LogisticRegression()],
                  [MultiLevelBinarizer(output="bipolar"), BinarizedLinearSVC()],
                  [MultiLevelBinarizer(output="packed"), BinarizedLinearSVC()]):
        assert make_pipeline(*steps).fit(X, y).score(X, y) > 0.9


@pytest.mark.parametrize("binarizer", BINARIZERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("output", ["bipolar", "binary", "packed", "scaled"])
def test_set_output_pandas_names_every_column(binarizer, output):
    est = _seeded(binarizer())
    if output not in est._parameter_constraints["output"][0].options:
        pytest.skip(f"{binarizer.__name__} has no scale")
    X, _ = _features()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    Z = est.set_params(output=output).set_output(transform="pandas").fit(df).transform(df)
    assert isinstance(Z, pd.DataFrame) and list(Z.columns) == list(est.get_feature_names_out())
    np.testing.assert_array_equal(Z.to_numpy(), clone(est).set_output(transform="default").fit(X).transform(X))
    if output == "packed":
        assert Z.columns[0].endswith("_word0")
    elif binarizer is not SparseBipolarRandomProjection:
        assert Z.columns[0].startswith("f0")


def test_multilevel_code_output_says_why_it_has_no_columns():
    X, _ = _features()
    mlb = MultiLevelBinarizer(output="code").set_output(transform="pandas").fit(X)
    with pytest.raises(ValueError, match="MultiLevelCode, not an array"):
        mlb.transform(X)


def _eegbin_only(pipe):
    return all(type(step).__module__.split(".")[0] in ("eegbin", "sklearn") and
               not type(step).__name__.startswith("_") for _, step in pipe.steps)


@pytest.mark.parametrize("name", [n for n in list_pipelines() if _eegbin_only(get_pipeline(n))])
def test_every_registered_eegbin_pipeline_accepts_set_output(name):
    pipe = get_pipeline(name).set_output(transform="pandas")
    if "100000" in name or "50000" in name:
        return
    X, y = _epochs(n=24, n_chans=3, n_times=250)
    pipe.fit(X, y)
    Z = pipe[:-1].transform(X)
    assert isinstance(Z, pd.DataFrame) and len(Z) == len(X)
    assert pipe.score(X, y) >= 0.5

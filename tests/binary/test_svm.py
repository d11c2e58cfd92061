"""BinarizedLinearSVC / BinarizedLinearClassifier: eq. (7)-(13) of Hersche et al. 2020."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import check_estimator

from eegbin import (
    BinarizedLinearClassifier,
    BinarizedLinearSVC,
    HeavisideBinarizer,
    SparseBipolarRandomProjection,
)
from eegbin.kernels import pack_bits, unpack_bits


def _bipolar_problem(n=120, d=300, n_classes=4, seed=0, flip=0.3):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % n_classes
    protos = np.where(rng.rand(n_classes, d) < 0.5, -1, 1)
    X = protos[y] * np.where(rng.rand(n, d) < flip, -1, 1)
    return X.astype(np.int8), y


@pytest.mark.parametrize(
    "est",
    [
        BinarizedLinearSVC(binarize_weights=False, fit_intercept=True),
        BinarizedLinearSVC(fit_intercept=True, class_weight="balanced"),
        BinarizedLinearClassifier(LDA(solver="lsqr", shrinkage="auto")),
    ],
    ids=["float-weights", "intercept-balanced", "lda"],
)
def test_check_estimator_other_configurations(est):
    # the defaults run in tests/test_common.py; binarized weights declare poor_score (2 features = 2 bits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(est)


@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_hamming_argmin_equals_argmax_of_bipolar_dot(n_classes):
    X, y = _bipolar_problem(n_classes=n_classes, flip=0.45)
    clf = BinarizedLinearSVC(random_state=0).fit(X, y)
    coef = clf.estimator_.coef_
    if n_classes == 2:
        coef = np.vstack([-coef, coef])
    W = np.where(coef >= 0, 1, -1)                     # H(w) in bipolar form (eq. 12)
    np.testing.assert_array_equal(unpack_bits(clf.binary_weights_, 300, kind="bipolar"), W)
    rng = np.random.RandomState(1)
    Q = np.where(rng.rand(500, 300) < 0.5, -1, 1).astype(np.int8)
    dots = Q.astype(np.int64) @ W.T
    np.testing.assert_array_equal(clf.predict(Q), clf.classes_[np.argmax(dots, axis=1)])
    scores = dots / 300.0                              # cosine similarity (eq. 7-10)
    dec = clf.decision_function(Q)
    if n_classes == 2:
        np.testing.assert_allclose(dec, scores[:, 1] - scores[:, 0])
        np.testing.assert_array_equal(clf.predict(Q), clf.classes_[(dec > 0).astype(int)])
    else:
        np.testing.assert_allclose(dec, scores)


def test_ties_go_to_first_class():
    X = np.array([[1, 1], [-1, -1], [1, 1], [-1, -1]], dtype=np.int8)
    clf = BinarizedLinearSVC().fit(X, [0, 1, 0, 1])
    # a query at equal Hamming distance from both class vectors
    W = unpack_bits(clf.binary_weights_, 2, kind="bipolar")
    q = np.array([[W[0, 0], W[1, 1]]], dtype=np.int8)
    if (q @ W.T)[0, 0] == (q @ W.T)[0, 1]:
        assert clf.predict(q)[0] == 0


def test_packed_bipolar_binary_inputs_agree():
    X, y = _bipolar_problem(d=200)
    ref = BinarizedLinearSVC(random_state=0).fit(X, y)
    packed = pack_bits(X)
    for Xin, kw in [(packed, {"n_bits": 200}), (packed, {}), (X > 0, {}), ((X > 0).astype(np.uint8), {}),
                    (X.astype(float), {}), (X.astype(float) * 0.5, {})]:
        clf = BinarizedLinearSVC(random_state=0, **kw).fit(Xin, y)
        assert clf.n_bits_ == 200
        np.testing.assert_array_equal(clf.binary_weights_, ref.binary_weights_)
        np.testing.assert_array_equal(clf.predict(Xin), ref.predict(X))
        np.testing.assert_allclose(clf.decision_function(Xin), ref.decision_function(X))


def test_inferred_width_ignores_bits_never_set_in_training():
    # the last valid bit of the training codes is 0 everywhere: the inferred width stops
    # before it, the class vectors are zero there and later inputs are masked, so setting
    # it adds nothing to any distance (zero padding on both sides)
    X, y = _bipolar_problem(d=200)
    X[:, -3:] = -1                                  # bits 197-199 never set
    clf = BinarizedLinearSVC(random_state=0).fit(pack_bits(X), y)
    assert clf.n_bits_ == 197
    ref = BinarizedLinearSVC(random_state=0).fit(X[:, :197], y)
    np.testing.assert_array_equal(clf.binary_weights_, ref.binary_weights_)
    Q = np.where(np.random.RandomState(1).rand(50, 200) < 0.5, -1, 1).astype(np.int8)
    np.testing.assert_array_equal(clf.predict(pack_bits(Q)), ref.predict(Q[:, :197]))
    np.testing.assert_allclose(clf.decision_function(pack_bits(Q)), ref.decision_function(Q[:, :197]))
    with pytest.raises(ValueError, match="padding"):  # an explicit width is checked instead
        BinarizedLinearSVC(n_bits=197).fit(pack_bits(X), y).predict(pack_bits(Q))


def test_trained_without_bias_by_default_eq_11():
    X, y = _bipolar_problem()
    clf = BinarizedLinearSVC(random_state=0).fit(X, y)
    assert np.all(clf.estimator_.intercept_ == 0)
    ref = LinearSVC(fit_intercept=False, random_state=0).fit(X.astype(float), y)
    np.testing.assert_allclose(clf.estimator_.coef_, ref.coef_)
    with_bias = BinarizedLinearSVC(fit_intercept=True, random_state=0).fit(X, y)
    assert np.any(with_bias.estimator_.intercept_ != 0)
    assert clf.footprint().n_params == with_bias.footprint().n_params == 4 * 300   # 1 bit each


def test_float_weights_ablation_is_linearsvc_on_bipolar_codes():
    X, y = _bipolar_problem()
    clf = BinarizedLinearSVC(binarize_weights=False, random_state=0, n_bits=300).fit(pack_bits(X), y)
    svc = LinearSVC(fit_intercept=False, random_state=0).fit(X.astype(float), y)
    np.testing.assert_allclose(clf.estimator_.coef_, svc.coef_)
    np.testing.assert_array_equal(clf.predict(pack_bits(X)), svc.predict(X))
    np.testing.assert_allclose(clf.decision_function(pack_bits(X)), svc.decision_function(X))
    fp = clf.footprint(float_bits=16)
    assert fp.n_params == 4 * 300 and fp.bits_per_param == 16     # no bias stored
    biased = BinarizedLinearSVC(binarize_weights=False, fit_intercept=True).fit(X, y)
    assert biased.footprint().n_params == 4 * 300 + 4


def test_binarized_weights_keep_accuracy_on_separable_codes():
    X, y = _bipolar_problem(n=200, d=1000, flip=0.35)
    Xt, yt = _bipolar_problem(n=200, d=1000, flip=0.35, seed=0)
    clf = BinarizedLinearSVC().fit(X, y)
    assert clf.score(Xt, yt) > 0.95


def test_footprint_table_ii():
    rng = np.random.RandomState(0)
    y = np.arange(8) % 4
    E = pack_bits(np.where(rng.rand(8, 100_000) < 0.5, -1, 1))
    fp = BinarizedLinearSVC(n_bits=100_000).fit(E, y).footprint()
    assert round(fp.kB, 2) == 50.00
    assert fp.bit_ops == 400_000 and fp.word_ops == 6250


def test_lda_binarized_wrapper():
    X, y = _bipolar_problem(n=90, d=64, n_classes=3)
    clf = BinarizedLinearClassifier(LDA(solver="lsqr", shrinkage="auto")).fit(X, y)
    lda = LDA(solver="lsqr", shrinkage="auto").fit(X.astype(float), y)
    np.testing.assert_array_equal(clf.binary_weights_, pack_bits(lda.coef_, kind="heaviside"))
    assert clf.score(X, y) > 0.9
    assert isinstance(BinarizedLinearClassifier().fit(X, y).estimator_, LinearSVC)


def test_pipeline_clone_pickle_gridsearch():
    rng = np.random.RandomState(0)
    y = np.arange(60) % 3
    X = np.eye(3)[y] @ rng.randn(3, 30) + 0.5 * rng.randn(60, 30)
    pipe = make_pipeline(SparseBipolarRandomProjection(n_components=512, random_state=1),
                         BinarizedLinearSVC(random_state=0))
    gs = GridSearchCV(pipe, {"binarizedlinearsvc__C": [0.1, 1.0]}, cv=3).fit(X, y)
    assert gs.best_score_ > 0.8
    fitted = gs.best_estimator_
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X), fitted.predict(X))
    np.testing.assert_array_equal(clone(pipe).fit(X, y).predict(X), pipe.fit(X, y).predict(X))
    base = make_pipeline(HeavisideBinarizer(), BinarizedLinearSVC())
    assert clone(base).fit(X, y).score(X, y) > 0.8


def test_bad_input():
    X, y = _bipolar_problem(n=8, d=100)
    with pytest.raises(ValueError, match="words per row"):
        BinarizedLinearSVC(n_bits=200).fit(pack_bits(X), y)
    with pytest.raises(ValueError, match="binary values"):   # fitted on 0/1 codes, read as such
        BinarizedLinearSVC().fit(X > 0, y).predict(X * 0.5)
    with pytest.raises(TypeError, match="strings"):
        BinarizedLinearSVC().fit(X.astype(str), y)
    with pytest.raises(ValueError, match="n_bits=99 does not match"):
        BinarizedLinearSVC(n_bits=99).fit(X, y)
    bad = pack_bits(X)
    bad[0, -1] |= np.uint64(1) << np.uint64(63)
    with pytest.raises(ValueError, match="padding"):
        BinarizedLinearSVC(n_bits=100).fit(bad, y)
    with pytest.raises(ValueError, match="2 classes"):
        BinarizedLinearSVC().fit(X, np.zeros(8))
    with pytest.raises(TypeError, match="input='packed'"):
        BinarizedLinearSVC(input="bipolar").fit(pack_bits(X), y)
    with pytest.raises(ValueError, match="input"):
        BinarizedLinearSVC(input="signs").fit(X, y)
    clf = BinarizedLinearSVC().fit(X, y)
    with pytest.raises(ValueError, match="100 features"):
        clf.predict(X[:, :50])
    with pytest.raises(ValueError, match="NaN"):
        BinarizedLinearSVC(input="heaviside").fit(np.full((8, 3), np.nan), y)
    for params, name in (({"C": True}, "C"), ({"tol": True}, "tol"), ({"max_iter": True}, "max_iter")):
        with pytest.raises(TypeError, match=f"{name} must be a"):  # scikit-learn's Interval takes True
            BinarizedLinearSVC(**params).fit(X, y)


@pytest.mark.parametrize("n, d, n_classes", [(40, 60, 3), (30, 10, 2), (100, 300, 4)])
def test_woodbury_lda_equals_sklearn_shrinkage_lda(n, d, n_classes):
    from eegbin.binary.lda import shrinkage_lda_coef

    rng = np.random.RandomState(n)
    y = np.arange(n) % n_classes
    X = rng.randn(n, d) * rng.rand(d) * 3 + np.eye(n_classes)[y] @ rng.randn(n_classes, d)
    X[:, 0] = 1.0  # a constant feature (zero variance)
    ref = LDA(solver="lsqr", shrinkage="auto").fit(X, y)
    classes, coef, intercept = shrinkage_lda_coef(X, y)
    np.testing.assert_array_equal(classes, ref.classes_)
    np.testing.assert_allclose(coef, ref.coef_, rtol=1e-7, atol=1e-9 * np.abs(ref.coef_).max())
    np.testing.assert_allclose(intercept, ref.intercept_, rtol=1e-6)


def test_binarized_lda():
    from eegbin import BinarizedLDA

    X, y = _bipolar_problem(n=90, d=64, n_classes=3)
    clf = BinarizedLDA().fit(X, y)
    lda = LDA(solver="lsqr", shrinkage="auto").fit(X.astype(float), y)
    np.testing.assert_array_equal(clf.binary_weights_, pack_bits(lda.coef_, kind="heaviside"))
    ablation = BinarizedLDA(binarize_weights=False).fit(X, y)
    np.testing.assert_array_equal(ablation.predict(X), lda.predict(X.astype(float)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(BinarizedLDA(binarize_weights=False))


def test_shrinkage_lda_estimator():
    from eegbin import ShrinkageLDA

    rng = np.random.RandomState(0)
    y = np.arange(60) % 3
    X = rng.randn(60, 80) + np.eye(3)[y] @ rng.randn(3, 80)
    ours, ref = ShrinkageLDA().fit(X, y), LDA(solver="lsqr", shrinkage="auto").fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-6, atol=1e-8)
    assert ours.footprint(float_bits=16).n_params == 3 * 80 + 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(ShrinkageLDA())


@pytest.mark.parametrize("n, d", [(5, 3), (20, 1500), (30, 1), (1, 4)])
def test_ledoit_wolf_shrinkage_from_gram_equals_sklearn(n, d):
    from sklearn.covariance import ledoit_wolf_shrinkage

    from eegbin.binary.lda import _ledoit_wolf_shrinkage

    Z = np.random.RandomState(d).randn(n, d) * np.linspace(0.5, 2, d)
    Z -= Z.mean(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ledoit_wolf_shrinkage(Z)
    assert _ledoit_wolf_shrinkage(Z) == pytest.approx(ref, rel=1e-9, abs=1e-12)

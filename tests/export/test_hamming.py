"""Hamming-space steps in C: codes, distances, scores and predictions equal eegbin's, bit for bit."""

import re

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from eegbin import (
    AssociativeMemoryClassifier,
    BinarizedLDA,
    BinarizedLinearClassifier,
    BinarizedLinearSVC,
    HeavisideBinarizer,
    SparseBipolarRandomProjection,
)
from eegbin.export import to_c


def _data(n=96, f=70, k=4, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % k
    X = np.eye(k)[y] @ rng.randn(k, f) + 0.9 * rng.randn(n, f)
    return X.astype(np.float32).astype(np.float64), y  # float32-exact: what the C code reads


def _hamming_scores(est, X):
    """Python's per-class cosine similarities, as the C code returns them (float32)."""
    s = est.decision_function(X)
    return s.astype(np.float32)


@pytest.mark.parametrize("d, seed, output", [(1000, 7, "packed"), (300, 2**32 - 1, "bipolar"), (64, 0, "binary")])
def test_projection_and_binarized_svm(compiled, d, seed, output):
    X, y = _data()
    pipe = make_pipeline(SparseBipolarRandomProjection(n_components=d, random_state=seed, output=output),
                         BinarizedLinearSVC(n_bits=d if output == "packed" else None)).fit(X, y)
    m = compiled(pipe)
    # projected codes: bit-identical on the same float32 features
    codes = m.step(0, X.astype(np.float32))
    np.testing.assert_array_equal(codes, SparseBipolarRandomProjection(
        n_components=d, random_state=seed, output="packed").fit(X).transform(X))
    # Hamming distances -> scores 1 - 2 d_h / d, exactly the float32 rounding of Python's
    pred, scores = m.step(1, codes)
    np.testing.assert_array_equal(scores, _hamming_scores(pipe, X))
    np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))
    np.testing.assert_array_equal(m.scores(X), scores)


def test_packed_weights_are_written_bit_for_bit(tmp_path):
    X, y = _data()
    pipe = make_pipeline(SparseBipolarRandomProjection(n_components=200, random_state=3, output="packed"),
                         BinarizedLinearSVC(n_bits=200)).fit(X, y)
    _, src = to_c(pipe, tmp_path, "w")
    text = open(src).read()
    body = re.search(r"w_s1_w_rows\[\d+\] = \{(.*?)\};", text, re.S).group(1)
    words = [int(h, 16) for h in re.findall(r"UINT64_C\(0x([0-9A-F]+)\)", body)]
    np.testing.assert_array_equal(np.array(words, dtype=np.uint64), pipe[-1].binary_weights_.ravel())
    # the projection is its seed (3) and threshold (3277 for s = 0.9), not a matrix
    assert re.search(r"eb_project\(in, 70, 3u, 3277u, 200, out\);", text)
    assert len(re.findall(r"static const \w+ w_s0_w_", text)) == 0


@pytest.mark.parametrize("binarized", [BinarizedLinearSVC, BinarizedLDA,
                                        lambda: BinarizedLinearClassifier()])
@pytest.mark.parametrize("output", ["packed", "bipolar", "binary"])
def test_heaviside_baselines(compiled, binarized, output):
    X, y = _data(f=90)
    clf = binarized()
    if output == "packed":
        clf.set_params(n_bits=90)
    pipe = make_pipeline(HeavisideBinarizer(output=output), clf).fit(X, y)
    m = compiled(pipe)
    hv = pipe[0]
    np.testing.assert_array_equal(m.step(0, X.astype(np.float32)),
                                  HeavisideBinarizer(output="packed").fit(X).transform(X))
    assert hv.output == output
    np.testing.assert_array_equal(m.scores(X), _hamming_scores(pipe, X))
    np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))


def test_heaviside_bits_at_the_threshold_are_set(compiled):
    X, y = _data(f=10)
    pipe = make_pipeline(HeavisideBinarizer(center="zero"), BinarizedLinearSVC(n_bits=10)).fit(X, y)
    m = compiled(pipe)
    Z = np.zeros((1, 10))
    np.testing.assert_array_equal(m.step(0, Z), [[2**10 - 1]])  # H(0) = 1
    assert "w_thresholds" not in open(m._sources[0]).read()  # center="zero" stores nothing


def test_two_classes_and_string_labels(compiled):
    X, y = _data(k=2)
    labels = np.array(["left_hand", "right_hand"])[y]
    pipe = make_pipeline(SparseBipolarRandomProjection(n_components=500, random_state=1, output="packed"),
                         BinarizedLinearSVC(n_bits=500)).fit(X, labels)
    m = compiled(pipe)
    s = m.scores(X)
    assert s.shape == (len(X), 2)
    np.testing.assert_allclose(s[:, 1] - s[:, 0], pipe.decision_function(X), atol=1e-6)
    np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))


def test_binarized_svm_on_real_input_with_input_heaviside(compiled):
    X, y = _data(f=40)
    clf = BinarizedLinearSVC(input="heaviside").fit(X, y)
    m = compiled(clf)
    np.testing.assert_array_equal(m.scores(X), clf.decision_function(X).astype(np.float32))
    np.testing.assert_array_equal(clf.classes_[m.predict(X)], clf.predict(X))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_model_on_bipolar_codes(compiled, dtype):
    X, y = _data(f=90)
    pipe = make_pipeline(HeavisideBinarizer(output="bipolar"),
                         BinarizedLinearSVC(binarize_weights=False)).fit(X, y)
    m = compiled(pipe, dtype=dtype)
    np.testing.assert_allclose(m.scores(X), pipe.decision_function(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))


@pytest.mark.parametrize("n_bands, d, seed", [(3, 500, 11), (6, 130, 5), (1, 64, 2**32 - 1)])
def test_associative_memory(compiled, n_bands, d, seed):
    X, y = _data(f=20 * n_bands)
    am = AssociativeMemoryClassifier(n_components=d, n_bands=n_bands, random_state=seed).fit(X, y)
    m = compiled(am)
    np.testing.assert_array_equal(m.scores(X), _hamming_scores(am, X))
    np.testing.assert_array_equal(am.classes_[m.predict(X)], am.predict(X))


@pytest.mark.parametrize("random_state", [None, np.random.RandomState(3)])
def test_the_seed_drawn_at_fit_is_the_one_regenerated_in_c(compiled, random_state):
    X, y = _data(f=40)
    am = AssociativeMemoryClassifier(n_components=128, n_bands=2, random_state=random_state).fit(X, y)
    proj = make_pipeline(SparseBipolarRandomProjection(n_components=300, random_state=random_state),
                         BinarizedLinearSVC()).fit(X, y)
    for est in (am, proj):
        m = compiled(est)
        np.testing.assert_array_equal(m.scores(X), _hamming_scores(est, X))
    assert f"eb_project(in, 40, {proj[0].seed_}u" in open(m._sources[0]).read()


def test_inferred_code_width_masks_the_bits_beyond_it(compiled):
    # packed codes whose last bits are zero in every training row: BinarizedLinearSVC infers a
    # narrower width and eegbin clears those bits at predict; the C code must too
    X, y = _data(f=40)
    proj = SparseBipolarRandomProjection(n_components=100, random_state=0, output="packed").fit(X)
    codes = proj.transform(X)
    codes[:, -1] &= np.uint64((1 << 30) - 1)  # bits 94..99 never set in training
    clf = BinarizedLinearSVC().fit(codes, y)
    assert clf.n_bits_ < 100
    pipe = make_pipeline(proj, clf)
    m = compiled(pipe)
    full = proj.transform(X)
    assert (full[:, -1] >> np.uint64(30)).any()  # at test time those bits are set
    np.testing.assert_array_equal(m.step(1, full)[1], clf.decision_function(full).astype(np.float32))
    np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))

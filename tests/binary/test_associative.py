"""AssociativeMemoryClassifier (RP+AM) and HeavisideBinarizer."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from eegbin import AssociativeMemoryClassifier, HeavisideBinarizer
from eegbin.binary.associative import _hd_randomness, hd_band_encode
from eegbin.kernels import pack_bits, sparse_ternary_block, unpack_bits


def _oracle_encode(X, n_bands, d, s, seed):
    keys, tie, _, band_seeds = _hd_randomness(seed, n_bands, d)
    m = X.shape[1] // n_bands
    votes = []
    for b in range(n_bands):
        R = sparse_ternary_block(band_seeds[b], 0, d, m, s).astype(np.float64)
        bits = X[:, b * m:(b + 1) * m] @ R.T >= 0
        votes.append(bits ^ unpack_bits(keys[b:b + 1], d))
    count = np.sum(votes, axis=0)
    return (2 * count > n_bands) | ((2 * count == n_bands) & unpack_bits(tie[None], d))


@pytest.mark.parametrize("n_bands", [1, 3, 4])
def test_encoding_matches_numpy_oracle(n_bands):
    rng = np.random.RandomState(n_bands)
    X = rng.randint(-4, 5, size=(150, 6 * n_bands)).astype(float)   # exact sums
    got = unpack_bits(hd_band_encode(X, n_bands, 300, 0.5, 9), 300)
    np.testing.assert_array_equal(got, _oracle_encode(X, n_bands, 300, 0.5, 9))


def test_prototypes_are_class_majorities_and_predict_is_nearest():
    rng = np.random.RandomState(0)
    y = np.arange(90) % 3
    X = np.eye(3)[y] @ rng.randn(3, 60) + 0.8 * rng.randn(90, 60)
    am = AssociativeMemoryClassifier(n_components=1000, n_bands=3, random_state=2).fit(X, y)
    codes = unpack_bits(hd_band_encode(X, 3, 1000, 0.9, 2), 1000)
    _, _, tie, _ = _hd_randomness(2, 3, 1000)
    tie = unpack_bits(tie[None], 1000)[0]
    for k in range(3):
        c = codes[y == k].sum(axis=0)
        n_k = (y == k).sum()
        np.testing.assert_array_equal(unpack_bits(am.prototypes_[k:k + 1], 1000)[0],
                                      (2 * c > n_k) | ((2 * c == n_k) & tie))
    dist = (codes[:, None, :] != unpack_bits(am.prototypes_, 1000)[None]).sum(-1)
    np.testing.assert_array_equal(am.predict(X), am.classes_[np.argmin(dist, axis=1)])
    np.testing.assert_allclose(am.decision_function(X), 1 - 2 * dist / 1000)
    assert am.score(X, y) > 0.9


def test_footprint_is_prototypes_plus_seed():
    X = np.random.RandomState(0).randn(8, 43 * 3)
    am = AssociativeMemoryClassifier(n_components=10_000, n_bands=43).fit(X, np.arange(8) % 4)
    fp = am.footprint()
    assert fp.memory_bits == 4 * 10_000 + 32
    assert fp.total_macs == round(10_000 * 129 * 0.1)


def test_clone_pickle_gridsearch_and_two_classes():
    rng = np.random.RandomState(0)
    y = np.arange(40) % 2
    X = np.eye(2)[y] @ rng.randn(2, 20) + 0.3 * rng.randn(40, 20)
    am = AssociativeMemoryClassifier(n_components=512, n_bands=2, random_state=0)
    gs = GridSearchCV(am, {"sparsity": [0.5, 0.9]}, cv=2).fit(X, y)
    fitted = gs.best_estimator_
    assert fitted.decision_function(X).shape == (40,)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict(X), fitted.predict(X))
    np.testing.assert_array_equal(clone(am).fit(X, y).prototypes_, am.fit(X, y).prototypes_)


def test_am_bad_input():
    X = np.random.RandomState(0).randn(6, 10)
    with pytest.raises(ValueError, match="n_bands=4"):
        AssociativeMemoryClassifier(n_bands=4).fit(X, np.arange(6) % 2)
    with pytest.raises(ValueError, match="2 classes"):
        AssociativeMemoryClassifier(n_bands=2).fit(X, np.zeros(6))
    am = AssociativeMemoryClassifier(n_components=64, n_bands=2).fit(X, np.arange(6) % 2)
    with pytest.raises(ValueError, match="10 features"):
        am.predict(X[:, :8])


def test_heaviside_binarizer():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 70) + 3.0
    hb = HeavisideBinarizer(output="binary").fit(X)
    np.testing.assert_array_equal(hb.transform(X), X >= X.mean(axis=0))
    # standardizing first does not change the bits
    Z = (X - X.mean(0)) / X.std(0)
    np.testing.assert_array_equal(hb.transform(X), Z >= 0)
    med = HeavisideBinarizer(center="median", output="bipolar").fit(X).transform(X)
    np.testing.assert_array_equal(med, np.where(X >= np.median(X, 0), 1, -1))
    bip = HeavisideBinarizer().fit(X).transform(X)          # default: one -1/+1 column per feature
    assert bip.dtype == np.int8 and bip.shape == (20, 70)
    packed = HeavisideBinarizer(output="packed").fit(X).transform(X)
    assert packed.dtype == np.uint64 and packed.shape == (20, 2)
    np.testing.assert_array_equal(packed, pack_bits(bip))
    assert HeavisideBinarizer().fit(X).footprint(float_bits=16).n_bytes == 140
    assert HeavisideBinarizer(center="zero").fit(X).footprint().n_params == 0
    with pytest.raises(ValueError, match="center"):
        HeavisideBinarizer(center="mode").fit(X)
    with pytest.raises(ValueError, match="70 features"):
        hb.transform(X[:, :3])

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import check_estimator

from eegbin import PQClassifier, ProductQuantizedLinear, footprint
from eegbin.quantize.pq import (
    build_luts,
    hash_tree_encode,
    kmeans_encode,
    learn_hash_trees,
    lut_sum,
    quantize_luts,
    subspace_bounds,
)


@pytest.fixture(scope="module")
def data():
    """Correlated activations (low-rank + noise, like flattened conv features)."""
    rng = np.random.RandomState(0)
    X = rng.randn(1200, 8) @ rng.randn(8, 64) + 0.3 * rng.randn(1200, 64)
    W = rng.randn(64, 4)
    return X[:800], X[800:], W, rng.randn(4)


def _rel_err(pq, X, W, b):
    ref = X @ W + b
    return np.linalg.norm(pq.transform(X) - ref) / np.linalg.norm(ref - ref.mean(0))


@pytest.mark.parametrize("encoder", ["hash_tree", "kmeans"])
def test_error_decreases_with_m(data, encoder):
    """Feng et al. Fig. 3 trend: more sub-vectors, better approximation.

    The held-out input reconstruction error decreases strictly with m; the
    output error (which also depends on how the residual aligns with W) follows
    the trend overall."""
    Xtr, Xte, W, b = data
    rec, out = [], []
    for m in (1, 2, 4, 8, 16, 32):
        pq = ProductQuantizedLinear(n_subspaces=m, encoder=encoder, random_state=0).fit(
            Xtr, weights=W, bias=b)
        rec.append(np.sum((pq.reconstruct(Xte) - Xte) ** 2))
        out.append(_rel_err(pq, Xte, W, b))
    assert all(e1 > e2 for e1, e2 in zip(rec, rec[1:])), rec
    assert out[3] < out[0] and out[5] < out[3] and out[5] < 0.6 * out[0], out


def test_kmeans_vs_tree_same_order(data):
    """Trees are greedy axis-aligned partitions; k-means is the optimal-ish quantizer.
    Both land in the same error range on held-out data."""
    Xtr, Xte, W, b = data
    e_tree = _rel_err(ProductQuantizedLinear(8).fit(Xtr, weights=W, bias=b), Xte, W, b)
    e_km = _rel_err(ProductQuantizedLinear(8, encoder="kmeans", random_state=0)
                    .fit(Xtr, weights=W, bias=b), Xte, W, b)
    assert e_km < 1.0 and e_tree < 1.0
    assert 0.5 < e_tree / e_km < 2.0


@pytest.mark.parametrize("encoder", ["hash_tree", "kmeans"])
def test_lut_arithmetic_exact_vs_oracle(data, encoder):
    Xtr, Xte, W, b = data
    pq = ProductQuantizedLinear(8, encoder=encoder, random_state=0).fit(Xtr, weights=W, bias=b)
    codes = pq.encode(Xte)
    m = codes.shape[1]
    # integer table sums: plain numpy gather oracle, exact
    oracle = pq.lut_codes_[np.arange(m)[None, :], codes].astype(np.int64).sum(axis=1)
    np.testing.assert_array_equal(pq.table_sums(Xte), oracle)
    # dequantized output = scale * sums + (b + offsets) to float rounding
    _, _, offsets = quantize_luts(pq.luts_, 8)
    np.testing.assert_allclose(pq.transform(Xte), pq.lut_scale_ * oracle + offsets.sum() + b,
                               rtol=1e-12, atol=1e-12)
    # float tables = reconstruction @ W + b
    pqf = ProductQuantizedLinear(8, encoder=encoder, lut_bits=None, random_state=0).fit(
        Xtr, weights=W, bias=b)
    np.testing.assert_allclose(pqf.transform(Xte), pqf.reconstruct(Xte) @ W + b, atol=1e-9)
    # 8-bit quantization error bounded by m * scale / 2 per output
    assert np.max(np.abs(pq.transform(Xte) - pqf.transform(Xte))) <= m * pq.lut_scale_ / 2 + 1e-9


def test_tree_encoding_oracle_and_comparisons(data):
    Xtr, Xte, _, _ = data
    bounds = subspace_bounds(64, 8)
    dims, thr, P = learn_hash_trees(Xtr, bounds)
    assert dims.shape == (8, 4) and thr.shape == (8, 15) and P.shape == (8, 16, 8)
    for j in range(8):  # each tree only reads its own sub-vector
        assert np.all((dims[j] >= bounds[j]) & (dims[j] < bounds[j + 1]))
    codes = hash_tree_encode(Xte, dims, thr)
    oracle = np.zeros_like(codes)
    for r in range(Xte.shape[0]):
        for j in range(8):
            i = 0
            for t in range(4):
                i = 2 * i + int(Xte[r, dims[j, t]] >= thr[j, 2**t - 1 + i])
            oracle[r, j] = i
    np.testing.assert_array_equal(codes, oracle)
    # serial and parallel kernels agree
    np.testing.assert_array_equal(hash_tree_encode(Xte[:10], dims, thr), codes[:10])
    # trees reduce reconstruction SSE a lot versus the subspace mean
    train_codes = hash_tree_encode(Xtr, dims, thr)
    rec = np.concatenate([P[j, train_codes[:, j], : bounds[j + 1] - bounds[j]]
                          for j in range(8)], axis=1)
    assert np.sum((Xtr - rec) ** 2) < 0.5 * np.sum((Xtr - Xtr.mean(0)) ** 2)


def test_kmeans_encode_is_nearest():
    rng = np.random.RandomState(1)
    P = rng.randn(2, 5, 3)
    X = rng.randn(40, 6)
    codes = kmeans_encode(X, P, np.array([0, 3, 6]))
    for j in range(2):
        d = ((X[:, None, 3 * j: 3 * j + 3] - P[j][None]) ** 2).sum(-1)
        np.testing.assert_array_equal(codes[:, j], d.argmin(1))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 8), st.integers(1, 5), st.integers(2, 16),
       st.integers(0, 2**31 - 1))
def test_lut_sum_and_quantize_property(m, K, n_out, bits, seed):
    rng = np.random.RandomState(seed)
    luts = rng.randn(m, K, n_out) * rng.rand() * 10
    Q, scale, off = quantize_luts(luts, bits)
    assert Q.max() <= 2**bits - 1
    assert np.all(np.abs(scale * Q + off[:, None, None] - luts) <= scale / 2 * (1 + 1e-9))
    codes = rng.randint(0, K, size=(7, m))
    oracle = sum(Q[j, codes[:, j]].astype(np.int64) for j in range(m))
    np.testing.assert_array_equal(lut_sum(codes, Q), oracle)


def test_build_luts_blocks():
    rng = np.random.RandomState(0)
    bounds = subspace_bounds(7, 3)  # blocks 3, 2, 2
    P = rng.randn(3, 4, 3)
    W = rng.randn(7, 2)
    L = build_luts(P, bounds, W)
    np.testing.assert_allclose(L[1, 2], P[1, 2, :2] @ W[3:5])


def test_identity_default_reconstructs(data):
    Xtr, _, _, _ = data
    pq = ProductQuantizedLinear(16, lut_bits=None).fit(Xtr)
    np.testing.assert_allclose(pq.transform(Xtr), pq.reconstruct(Xtr), atol=1e-12)
    assert pq.get_feature_names_out().shape == (64,)


@pytest.mark.parametrize("est", [LogisticRegression(max_iter=500), LinearSVC(),
                                 LinearDiscriminantAnalysis()])
def test_pq_classifier_close_to_float(est):
    rng = np.random.RandomState(0)
    centers = rng.randn(4, 64) * 0.6
    y = np.arange(800) % 4
    X = centers[y] + rng.randn(800, 64)
    clf = PQClassifier(est, n_subspaces=16, n_prototypes=16).fit(X[:600], y[:600])
    ref = clone(est).fit(X[:600], y[:600])
    agree = np.mean(clf.predict(X[600:]) == ref.predict(X[600:]))
    assert agree > 0.8
    assert clf.score(X[600:], y[600:]) > 0.6
    assert clf.decision_function(X[:3]).shape == (3, 4)


def test_pq_classifier_binary_and_prefit():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 12)
    y = np.where(X[:, :3].sum(1) > 0, "a", "b")
    lr = LogisticRegression().fit(X, y)
    clf = PQClassifier(lr, n_subspaces=4, prefit=True).fit(X, y)
    assert clf.estimator_ is lr
    assert set(clf.predict(X)) <= {"a", "b"}
    assert clf.decision_function(X).shape == (300,)
    assert clf.score(X, y) > 0.8
    with pytest.raises(Exception, match="not fitted"):
        PQClassifier(LogisticRegression(), n_subspaces=4, prefit=True).fit(X, y)


def test_footprint(data):
    Xtr, _, W, b = data
    pq = ProductQuantizedLinear(8).fit(Xtr, weights=W, bias=b)
    fp = footprint(pq, float_bits=16)
    # 8 trees x 15 thresholds (16 bit) + 32 split dims (6 bit) + 8*16*4 LUT bytes + 5 floats
    assert fp.memory_bits == 8 * 15 * 16 + 32 * 6 + 8 * 16 * 4 * 8 + 5 * 16
    assert fp.total_macs == 8 * 4 + 8 * 4 + 4
    pipe = make_pipeline(PQClassifier(LogisticRegression(), n_subspaces=4))
    y = (Xtr[:, 0] > 0).astype(int)
    assert footprint(pipe.fit(Xtr, y)).total_params > 0


def test_clone_pickle_gridsearch(data):
    Xtr, Xte, W, b = data
    pq = ProductQuantizedLinear(4).fit(Xtr, weights=W, bias=b)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pq)).transform(Xte), pq.transform(Xte))
    y = (Xtr[:, 0] > 0).astype(int)
    gs = GridSearchCV(PQClassifier(LogisticRegression()), {"n_subspaces": [2, 4]}, cv=2).fit(Xtr, y)
    assert gs.best_params_["n_subspaces"] in (2, 4)


def test_check_estimator_pq_linear():
    # n_subspaces=1: the common checks use 1-5 features and n_subspaces > n_features
    # is rejected by design (tested below).
    check_estimator(ProductQuantizedLinear(n_subspaces=1, n_prototypes=4))
    check_estimator(ProductQuantizedLinear(n_subspaces=1, n_prototypes=4, encoder="kmeans",
                                           random_state=0))


def test_check_estimator_pq_classifier():
    check_estimator(PQClassifier(LogisticRegression(), n_subspaces=1, n_prototypes=4))


def test_bad_input(data):
    Xtr, _, W, _ = data
    with pytest.raises(ValueError, match="n_subspaces=65 exceeds"):
        ProductQuantizedLinear(65).fit(Xtr)
    with pytest.raises(ValueError, match="power of two"):
        ProductQuantizedLinear(4, n_prototypes=12).fit(Xtr)
    ProductQuantizedLinear(4, n_prototypes=12, encoder="kmeans", random_state=0).fit(Xtr[:100])
    with pytest.raises(ValueError, match="lut_bits"):
        ProductQuantizedLinear(4, lut_bits=1).fit(Xtr)
    with pytest.raises(ValueError, match="weights must have shape"):
        ProductQuantizedLinear(4).fit(Xtr, weights=W[:10])
    with pytest.raises(ValueError, match="weights must be finite"):
        ProductQuantizedLinear(4).fit(Xtr, weights=np.full_like(W, np.nan))
    with pytest.raises(ValueError, match="bias must have shape"):
        ProductQuantizedLinear(4).fit(Xtr, weights=W, bias=np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        ProductQuantizedLinear(4).fit(np.where(Xtr > 2, np.nan, Xtr))
    pq = ProductQuantizedLinear(4).fit(Xtr, weights=W)
    with pytest.raises(ValueError, match="features"):
        pq.transform(Xtr[:, :10])
    with pytest.raises(ValueError, match="split_dims must index"):
        hash_tree_encode(Xtr[:, :3], pq.split_dims_, pq.thresholds_)
    with pytest.raises(TypeError, match="linear classifier"):
        from sklearn.neighbors import KNeighborsClassifier
        PQClassifier(KNeighborsClassifier(), n_subspaces=2).fit(Xtr, (Xtr[:, 0] > 0).astype(int))

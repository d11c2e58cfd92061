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
from eegbin.kernels import hash_tree_encode, hash_tree_lut_sum, lut_sum
from eegbin.quantize.pq_learning import learn_hash_trees, learn_product_quantizer
from eegbin.quantize.pq_tables import (
    build_luts,
    kmeans_encode,
    pq_transform,
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
    idx = pq.encode(Xte)
    m = idx.shape[1]
    # integer table sums: plain numpy gather oracle, exact
    oracle = pq.quantized_luts_[np.arange(m)[None, :], idx].astype(np.int64).sum(axis=1)
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
    idx = hash_tree_encode(Xte, dims, thr)
    oracle = np.zeros_like(idx)
    for r in range(Xte.shape[0]):
        for j in range(8):
            i = 0
            for t in range(4):
                i = 2 * i + int(Xte[r, dims[j, t]] >= thr[j, 2**t - 1 + i])
            oracle[r, j] = i
    np.testing.assert_array_equal(idx, oracle)
    # one thread and two threads agree; the fused table sum equals encode + lut_sum
    np.testing.assert_array_equal(hash_tree_encode(Xte, dims, thr, n_threads=2), idx)
    luts = np.random.RandomState(1).randint(0, 256, (8, 16, 3)).astype(np.uint8)
    for n_threads in (1, 2):
        np.testing.assert_array_equal(hash_tree_lut_sum(Xte, dims, thr, luts, n_threads=n_threads),
                                      lut_sum(idx, luts))
    # trees reduce reconstruction SSE a lot versus the subspace mean
    train_codes = hash_tree_encode(Xtr, dims, thr)
    rec = np.concatenate([P[j, train_codes[:, j], : bounds[j + 1] - bounds[j]]
                          for j in range(8)], axis=1)
    assert np.sum((Xtr - rec) ** 2) < 0.5 * np.sum((Xtr - Xtr.mean(0)) ** 2)


def test_kmeans_encode_is_nearest():
    rng = np.random.RandomState(1)
    P = rng.randn(2, 5, 3)
    X = rng.randn(40, 6)
    idx = kmeans_encode(X, P, np.array([0, 3, 6]))
    for j in range(2):
        d = ((X[:, None, 3 * j: 3 * j + 3] - P[j][None]) ** 2).sum(-1)
        np.testing.assert_array_equal(idx[:, j], d.argmin(1))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(2, 8), st.integers(1, 5), st.integers(2, 16),
       st.integers(0, 2**31 - 1))
def test_lut_sum_and_quantize_property(m, K, n_out, bits, seed):
    rng = np.random.RandomState(seed)
    luts = rng.randn(m, K, n_out) * rng.rand() * 10
    Q, scale, off = quantize_luts(luts, bits)
    assert Q.max() <= 2**bits - 1
    assert np.all(np.abs(scale * Q + off[:, None, None] - luts) <= scale / 2 * (1 + 1e-9))
    idx = rng.randint(0, K, size=(7, m))
    oracle = sum(Q[j, idx[:, j]].astype(np.int64) for j in range(m))
    np.testing.assert_array_equal(lut_sum(idx, Q), oracle)


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


def test_fast_validation_path_is_equivalent(data):
    Xtr, Xte, W, b = data
    pq = ProductQuantizedLinear(8).fit(Xtr, weights=W, bias=b)
    fast = pq.transform(Xte)  # C-contiguous float64: fast path
    np.testing.assert_array_equal(pq.transform(np.asfortranarray(Xte)), fast)
    np.testing.assert_array_equal(pq.transform(Xte.astype(np.float32)), pq.transform(
        Xte.astype(np.float32).astype(np.float64)))
    np.testing.assert_array_equal(pq.transform(Xte.tolist()), fast)
    bad = Xte.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pq.transform(bad)
    with pytest.raises(ValueError, match="features"):
        pq.transform(np.ascontiguousarray(Xte[:, :-1]))


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
    check_estimator(ProductQuantizedLinear())  # defaults: n_subspaces="auto" fits any width
    check_estimator(ProductQuantizedLinear(n_subspaces=1, n_prototypes=4))
    check_estimator(ProductQuantizedLinear(n_subspaces=1, n_prototypes=4, encoder="kmeans",
                                           random_state=0))


def test_check_estimator_pq_classifier():
    check_estimator(PQClassifier())  # defaults: LogisticRegression, n_subspaces="auto"
    check_estimator(PQClassifier(LogisticRegression(), n_subspaces=1, n_prototypes=4))


def test_auto_subspaces_and_default_estimator(data):
    Xtr, _, W, b = data
    assert ProductQuantizedLinear().fit(Xtr, weights=W).n_subspaces_ == 8  # Feng's m = 8
    assert ProductQuantizedLinear().fit(Xtr[:, :3]).n_subspaces_ == 3  # at most one per feature
    y = (Xtr[:, 0] > 0).astype(int)
    clf = PQClassifier().fit(Xtr, y)
    assert isinstance(clf.estimator_, LogisticRegression) and clf.pq_.n_subspaces_ == 8
    assert PQClassifier().get_params()["estimator"] is None  # the default is not fitted in place


def test_estimator_is_a_shell_over_the_functions(data):
    """The estimator stores what learn_product_quantizer returns; transform is pq_transform."""
    Xtr, Xte, W, b = data
    for encoder in ("hash_tree", "kmeans"):
        est = ProductQuantizedLinear(8, encoder=encoder, random_state=0).fit(Xtr, weights=W, bias=b)
        q = learn_product_quantizer(Xtr, W, b, n_subspaces=8, encoder=encoder, random_state=0)
        for name in ("bounds", "prototypes", "luts", "quantized_luts", "bias"):
            np.testing.assert_array_equal(getattr(est.quantizer_, name), getattr(q, name))
        np.testing.assert_array_equal(est.transform(Xte), pq_transform(q, Xte))
        assert est.luts_ is est.quantizer_.luts and est.lut_scale_ == q.lut_scale


def test_quantizer_is_immutable_and_pickles(data):
    Xtr, Xte, W, b = data
    q = learn_product_quantizer(Xtr, W, b, n_subspaces=4)
    with pytest.raises(ValueError, match="read-only"):
        q.luts[0, 0, 0] = 1.0
    with pytest.raises(AttributeError):
        q.bias = np.zeros(4)
    again = pickle.loads(pickle.dumps(q))
    assert not again.thresholds.flags.writeable
    np.testing.assert_array_equal(pq_transform(again, Xte), pq_transform(q, Xte))


def test_kmeans_prototypes_are_sklearn_kmeans(data):
    """k-means prototypes are scikit-learn's KMeans centroids (one generator for all blocks)."""
    from sklearn.cluster import KMeans

    Xtr, _, _, _ = data
    q = learn_product_quantizer(Xtr, n_subspaces=2, n_prototypes=8, encoder="kmeans",
                                lut_bits=None, random_state=3)
    rng = np.random.RandomState(3)
    for j, (lo, hi) in enumerate([(0, 32), (32, 64)]):
        km = KMeans(n_clusters=8, n_init=3, random_state=rng).fit(Xtr[:, lo:hi])
        np.testing.assert_allclose(q.prototypes[j], km.cluster_centers_, rtol=1e-12, atol=1e-12)


def test_kernel_arguments_checked():
    X = np.zeros((3, 4))
    dims, thr = np.zeros((2, 2), dtype=np.int64), np.zeros((2, 3))
    with pytest.raises(TypeError, match="n_threads must be an int"):
        hash_tree_encode(X, dims, thr, n_threads=1.5)
    with pytest.raises(ValueError, match="n_threads must be an int >= 1, got 0"):
        lut_sum(np.zeros((3, 2), dtype=np.uint8), np.zeros((2, 4, 1)), n_threads=0)
    with pytest.raises(ValueError, match=r"thresholds must be a real array of shape \(2, 3\)"):
        hash_tree_encode(X, dims, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"prototype_indices must lie in \[0, 4\)"):
        lut_sum(np.full((3, 2), 4), np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="2\\*\\*depth = 4 rows"):
        hash_tree_lut_sum(X, dims, thr, np.zeros((2, 8, 1)))
    with pytest.raises(ValueError, match=r"X must be 2-D, got shape \(4,\)"):
        hash_tree_encode(np.zeros(4), dims, thr)


def test_bad_input(data):
    Xtr, _, W, _ = data
    with pytest.raises(ValueError, match=r"n_subspaces=65 exceeds.*n_features = 64"):
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

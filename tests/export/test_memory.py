"""The MI-MANN memory head in C: keys bit for bit, readout and predictions as eegbin's."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from eegbin import BinaryKeyValueMemory, FilterBankRiemann, HeavisideBinarizer
from eegbin.export import to_c
from eegbin.export.memory import _regenerable
from eegbin.kernels import bipolar_dot, pack_bits


def _data(n=90, f=40, k=3, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % k
    X = np.eye(k)[y] @ rng.randn(k, f) + 0.8 * rng.randn(n, f)
    return X.astype(np.float32).astype(np.float64), y  # float32-exact: what the C code reads


def _readout(mem, X):
    """eegbin's readout ``a Y`` (what the C scores are) through the public functions."""
    from eegbin.binary import cosine_from_hamming, memory_readout, sharpen_attention

    Z = X @ mem.projection_.T.astype(np.float64)
    alpha = cosine_from_hamming(pack_bits(Z, kind="heaviside"), mem.keys_, mem.n_components)
    return memory_readout(sharpen_attention(alpha, mem.sharpen, mem.beta), mem.labels_, len(mem.classes_))


@pytest.mark.parametrize("sharpen", ["softabs", "softmax", "none"])
@pytest.mark.parametrize("n_components", [256, 100])
def test_random_projection_memory(compiled, sharpen, n_components):
    X, y = _data()
    mem = BinaryKeyValueMemory(n_components=n_components, sharpen=sharpen, random_state=5).fit(X[:60], y[:60])
    for dtype, rtol in (("float32", 1e-5), ("float64", 1.2e-7)):  # scores are float: 1 ulp
        m = compiled(mem, dtype=dtype)
        pred, scores = m.step(0, X.astype(np.float32))
        np.testing.assert_allclose(scores, _readout(mem, X), rtol=rtol, atol=1e-30)
        np.testing.assert_array_equal(mem.classes_[pred], mem.predict(X))
        np.testing.assert_array_equal(mem.classes_[m.predict(X)], mem.predict(X))


def test_keys_are_the_python_keys_bit_for_bit(compiled):
    """The C distances to one stored key are eegbin's: query a memory with its own support set."""
    X, y = _data()
    mem = BinaryKeyValueMemory(n_components=130, sharpen="none", random_state=9).fit(X, y)
    m = compiled(mem, dtype="float64")
    _, scores = m.step(0, X.astype(np.float32))
    alpha = bipolar_dot(mem._encode(X), mem.keys_, 130) / 130.0  # cosine of each support key
    np.testing.assert_array_equal(scores, (alpha @ np.eye(3)[mem.labels_]).astype(np.float32))


def test_learned_projection_and_after_riemann(compiled):
    rng = np.random.RandomState(1)
    X, y = _data(f=24)
    W = rng.randn(64, 24)
    mem = BinaryKeyValueMemory(projection=W, n_components=64).fit(X[:60], y[:60])
    m = compiled(mem, dtype="float64")
    np.testing.assert_array_equal(mem.classes_[m.predict(X)], mem.predict(X))
    np.testing.assert_allclose(m.scores(X), _readout(mem, X), rtol=1.2e-7)


def test_memory_head_on_riemannian_features(compiled):
    from tests.export.test_riemann import _epochs

    X, y = _epochs(n_ch=4)
    pipe = make_pipeline(FilterBankRiemann(100.0, bands=[(8, 12), (12, 30)]),
                         BinaryKeyValueMemory(n_components=128, random_state=2)).fit(X, y)
    m = compiled(pipe, "rmann", dtype="float64")
    F = pipe[0].transform(X)
    _, scores = m.step(1, F)  # on eegbin's features: the readout of eegbin
    np.testing.assert_allclose(scores, _readout(pipe[-1], F), rtol=1.2e-7)
    np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))


def test_weights_next_to_footprint(tmp_path):
    X, y = _data()
    mem = BinaryKeyValueMemory(n_components=256, random_state=3).fit(X, y)
    to_c(mem, tmp_path, "mann")
    text = (tmp_path / "mann.c").read_text()
    if _regenerable(mem):  # the projection is the seed, as footprint() counts it
        assert "eb_project(in, 40, 3u, 32768u, 256, " in text
        assert "w_projection" not in text
    else:  # a projection drawn by another generator is stored as packed bits
        assert "w_projection" in text


def test_errors(tmp_path):
    X, y = _data()
    mem = BinaryKeyValueMemory(n_components=64, random_state=0).fit(X, y)
    codes = HeavisideBinarizer(output="packed").fit(X)
    with pytest.raises(ValueError, match="BinaryKeyValueMemory reads real features, but the previous step gives"):
        to_c(make_pipeline(codes, mem), tmp_path, "bad")


def test_projection_regenerated_from_the_seed(compiled, tmp_path):
    """A memory whose projection is the counter-based generator's (MI-MANN's seed-only
    projection): the C code regenerates it from the seed, and the keys are eegbin's."""
    from eegbin.kernels import sparse_ternary_block

    X, y = _data()
    mem = BinaryKeyValueMemory(n_components=200, random_state=11).fit(X[:60], y[:60])
    if not _regenerable(mem):  # the generator MI-MANN trains with, whatever fit drew
        mem.projection_ = sparse_ternary_block(11, 0, 200, X.shape[1], sparsity=0.0)
        mem.keys_ = pack_bits(X[:60] @ mem.projection_.T.astype(np.float64), kind="heaviside")
    assert _regenerable(mem)
    m = compiled(mem)
    to_c(mem, tmp_path, "regen")
    text = (tmp_path / "regen.c").read_text()
    assert "eb_project(in, 40, 11u, 32768u, 200, " in text and "w_projection" not in text
    pred, scores = m.step(0, X.astype(np.float32))
    np.testing.assert_allclose(scores, _readout(mem, X), rtol=1e-5, atol=1e-30)
    np.testing.assert_array_equal(mem.classes_[pred], mem.predict(X))

"""CortexM4: the exported C built for a Cortex-M4F and run under QEMU predicts what Python predicts."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from eegbin import (
    AssociativeMemoryClassifier,
    BinarizedLinearSVC,
    BinaryKeyValueMemory,
    FilterBankRiemann,
    LSTMClassifier,
    SparseBipolarRandomProjection,
)
from eegbin.export import CModel, CortexM4, to_c
from eegbin.nn import LSTM

MISSING = CortexM4.missing_tools()
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"{', '.join(MISSING)} not installed (Debian: gcc-arm-none-eabi, "
                          f"libnewlib-arm-none-eabi, qemu-system-arm; .ci/run installs them)")


def _features(n=30, f=40, k=3):
    rng = np.random.RandomState(0)
    y = np.arange(n) % k
    return (np.eye(k)[y] @ rng.randn(k, f) + rng.randn(n, f)).astype(np.float32), y


def _m4(est, tmp_path, name="m"):
    to_c(est, tmp_path, name)
    return CortexM4(tmp_path, name)


def test_hamming_chain_runs_and_counts_instructions(tmp_path):
    X, y = _features()
    small = make_pipeline(SparseBipolarRandomProjection(n_components=256, random_state=3, output="packed"),
                          BinarizedLinearSVC(n_bits=256)).fit(X, y)
    big = make_pipeline(SparseBipolarRandomProjection(n_components=512, random_state=3, output="packed"),
                        BinarizedLinearSVC(n_bits=512)).fit(X, y)
    m_small, m_big = _m4(small, tmp_path / "s"), _m4(big, tmp_path / "b")
    assert m_small.build().endswith(".elf")
    p, ins = m_small.run(X[:4])
    np.testing.assert_array_equal(small.classes_[p], small.predict(X[:4]))
    np.testing.assert_array_equal(m_small.scores_, small.decision_function(X[:4]).astype(np.float32))
    assert m_small.instructions_per_tick == 40.0
    # the work is the same for every trial (data-independent loops) and doubles with d
    assert ins.max() - ins.min() <= 0.01 * ins.max()
    p2, ins2 = m_big.run(X[:2])
    np.testing.assert_array_equal(big.classes_[p2], big.predict(X[:2]))
    assert 1.8 < ins2.mean() / ins.mean() < 2.2
    size = m_small.size()
    assert size["flash"] == size["text"] + size["rodata"] + size["data"]
    assert size["ram"] == size["data"] + size["bss"] + size["stack"]
    assert size["rodata"] >= 3 * 4 * 8  # the 3 packed class vectors (4 words each)
    assert 0 < size["stack"] < 1024


def test_riemann_features_on_the_m4(tmp_path):
    rng = np.random.RandomState(1)
    X = (rng.randn(12, 3, 120) * 10).astype(np.float32)
    y = np.arange(12) % 2
    pipe = make_pipeline(FilterBankRiemann(100.0, bands=[(8, 12), (12, 30)]), LinearSVC()).fit(X, y)
    m = _m4(pipe, tmp_path)
    p, ins = m.run(X[:3], steps=True)
    np.testing.assert_array_equal(pipe.classes_[p], pipe.predict(X[:3]))
    # the features dominate; the steps timed alone add up to predict (+ call overhead)
    per_step = m.step_instructions_
    assert per_step.shape == (3, 2) and (per_step[:, 0] > 10 * per_step[:, 1]).all()
    np.testing.assert_allclose(per_step.sum(axis=1), ins, rtol=0.01)
    d = pipe.decision_function(X[:3])
    np.testing.assert_allclose(m.scores_[:, 1], d, rtol=1e-4, atol=1e-4 * np.abs(d).max())
    assert (ins > 10_000).all()
    size = m.size()
    assert size["text"] > 1000  # the model's code with logf/sqrtf from newlib


def test_associative_memory_on_the_m4(tmp_path):
    X, y = _features(f=60)
    am = AssociativeMemoryClassifier(n_components=128, n_bands=3, random_state=4).fit(X, y)
    m = _m4(am, tmp_path)
    p, _ = m.run(X[:3])
    np.testing.assert_array_equal(am.classes_[p], am.predict(X[:3]))
    np.testing.assert_array_equal(m.scores_, am.decision_function(X[:3]).astype(np.float32))


def test_bad_input_is_named(tmp_path):
    X, y = _features()
    clf = LinearSVC().fit(X, y)
    m = _m4(clf, tmp_path)
    with pytest.raises(ValueError, match=r"X must have shape \(n_trials, 1, 40\)"):
        m.run(X[:, :10])


def test_memory_head_on_the_m4(tmp_path):
    """The MI-MANN memory head (libm's tanhf on the target): the host's classes and readout."""
    X, y = _features()
    mem = BinaryKeyValueMemory(n_components=256, random_state=4).fit(X, y)
    m4 = _m4(mem, tmp_path)
    p, ins = m4.run(X[:3])
    np.testing.assert_array_equal(mem.classes_[p], mem.predict(X[:3]))
    host = CModel(tmp_path, "m").scores(X[:3])
    np.testing.assert_allclose(m4.scores_, host, rtol=1e-5)
    assert (ins > 256 * 40).all()  # at least one operation per projection entry


def test_float_lstm_on_the_m4(tmp_path):
    """A float LSTM (expf, tanhf on the target): the host's classes and logits."""
    rng = np.random.default_rng(0)
    H = 4
    w = {"lstm.weight_ih_l0": rng.normal(size=(4 * H, 3)), "lstm.weight_hh_l0": rng.normal(size=(4 * H, H)),
         "lstm.bias_ih_l0": np.zeros(4 * H), "lstm.bias_hh_l0": np.zeros(4 * H),
         "fc.weight": rng.normal(size=(3, H)), "fc.bias": np.zeros(3)}
    X = rng.standard_normal((12, 3, 40)).astype(np.float32)
    clf = LSTMClassifier(LSTM(w), decimate=2, pooling="mean", refit_head=False).fit(X, np.arange(12) % 3)
    m4 = _m4(clf, tmp_path)
    p, ins = m4.run(X[:3], steps=True)
    host = CModel(tmp_path, "m")
    np.testing.assert_array_equal(p, host.predict(X[:3]))
    np.testing.assert_array_equal(clf.classes_[p], clf.predict(X[:3]))
    np.testing.assert_allclose(m4.scores_, host.scores(X[:3]), rtol=1e-5, atol=1e-6)
    assert (m4.step_instructions_[:, 0] > 20 * 16 * 7).all()  # 20 steps x 16 gates x (3 + 4) MACs at least


def test_mubinn2_on_the_m4(tmp_path):
    """MuBiNN2 (2, 2) on the target, where double is libgcc's software arithmetic and eq. (9) runs
    through the portable eb_fma: the host's scores bit for bit (float64 export, the same operations)."""
    from eegbin.nn import MultiLevelBinarizedLSTM

    rng = np.random.default_rng(1)
    H = 4
    w = {"lstm.weight_ih_l0": rng.normal(size=(4 * H, 3)), "lstm.weight_hh_l0": rng.normal(size=(4 * H, H)),
         "lstm.bias_ih_l0": rng.normal(size=4 * H), "lstm.bias_hh_l0": np.zeros(4 * H),
         "fc.weight": rng.normal(size=(3, H)), "fc.bias": np.zeros(3)}
    X = rng.standard_normal((12, 3, 40)).astype(np.float32)
    net = MultiLevelBinarizedLSTM(w, activation_levels=2, weight_levels=2)
    clf = LSTMClassifier(net, decimate=2, pooling="mean").fit(X, np.arange(12) % 3)
    to_c(clf, tmp_path, "m", dtype="float64")
    m4 = CortexM4(tmp_path, "m")
    p, ins = m4.run(X[:2], steps=True)
    host = CModel(tmp_path, "m")
    np.testing.assert_array_equal(clf.classes_[p], clf.predict(X[:2]))
    np.testing.assert_array_equal(m4.scores_, host.scores(X[:2]))
    assert (m4.step_instructions_[:, 0] > 20 * 16 * 2 * 2).all()  # 20 steps x 16 rows x 2 x 2 level pairs

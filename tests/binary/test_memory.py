"""BinaryKeyValueMemory (MI-MANN memory head) against a float cosine-similarity oracle."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import eegbin
from eegbin import BinaryKeyValueMemory
from eegbin.binary import (
    cosine_from_hamming,
    memory_readout,
    random_bipolar_projection,
    sharpen_attention,
)
from eegbin.kernels import pack_bits

from ..kernels.test_rng import _word_oracle

N_FEATURES = 272  # EEGNet's flattened features for 22 x 1125 inputs


# ---------------------------------------------------------------------------
# plain-numpy oracle: bipolar vectors, float cosine similarity (eq. 14)
# ---------------------------------------------------------------------------


def oracle_readout(X_support, y_idx, X_query, R, scale, n_classes, sharpen, beta):
    Pk = np.where(scale * (X_support @ R.T) >= 0, 1.0, -1.0)
    Pq = np.where(scale * (X_query @ R.T) >= 0, 1.0, -1.0)
    alpha = (Pq @ Pk.T) / np.outer(np.linalg.norm(Pq, axis=1), np.linalg.norm(Pk, axis=1))
    if sharpen == "softabs":
        sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
        a = sig(beta * (alpha - 0.5)) + sig(beta * (-alpha - 0.5))
    elif sharpen == "softmax":
        e = np.exp(beta * alpha - (beta * alpha).max(1, keepdims=True))
        a = e / e.sum(1, keepdims=True)
    else:
        a = alpha
    Y = np.eye(n_classes)[y_idx]  # one-hot value memory
    return alpha, a @ Y


def make_session(rng, means, n_per_class, noise=1.0, rotation=None):
    y = np.repeat(np.arange(len(means)), n_per_class)
    X = means[y] + noise * rng.normal(size=(len(y), means.shape[1]))
    if rotation is not None:
        X = X @ rotation
    return X, y


@pytest.mark.parametrize("sharpen", ["softabs", "softmax", "none"])
@pytest.mark.parametrize("n_components", [256, 100, 1])
def test_hamming_path_equals_float_cosine_oracle(sharpen, n_components):
    rng = np.random.default_rng(n_components)
    X, y = rng.normal(size=(30, 40)), rng.integers(0, 3, 30)
    Xq = rng.normal(size=(25, 40))
    mem = BinaryKeyValueMemory(n_components=n_components, sharpen=sharpen, beta=7.0, random_state=3).fit(X, y)
    R = mem.projection_.astype(float)
    assert set(np.unique(R)) <= {-1.0, 1.0} and R.shape == (n_components, 40)
    assert mem.projection_scale_ == pytest.approx(np.sqrt(6 / (40 + n_components)))
    alpha, y_hat = oracle_readout(X, y, Xq, R, mem.projection_scale_, 3, sharpen, 7.0)
    got_alpha = cosine_from_hamming(mem._encode(Xq), mem.keys_, n_components)
    if n_components in (256, 1):  # norms are exact: the two paths agree bit for bit
        np.testing.assert_array_equal(got_alpha, alpha)
    np.testing.assert_allclose(got_alpha, alpha, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(mem.predict(Xq), np.argmax(y_hat, axis=1))
    proba = mem.predict_proba(Xq)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(np.argmax(proba, 1), mem.predict(Xq))
    if sharpen != "none":  # positive attention: proba is the normalized readout
        np.testing.assert_allclose(proba, y_hat / y_hat.sum(1, keepdims=True), rtol=1e-12)


def test_keys_are_heaviside_of_projection():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 12))
    X[0] = 0.0  # projection exactly 0 -> H(0) = 1: all bits set
    mem = BinaryKeyValueMemory(n_components=70, random_state=1).fit(X, [0, 1, 0, 1, 1])
    np.testing.assert_array_equal(mem.keys_, pack_bits((X @ mem.projection_.T) >= 0))
    assert mem.keys_.shape == (5, 2) and mem.keys_[0, 0] == np.uint64(2**64 - 1)
    # the Xavier scale does not change a sign
    unscaled = pack_bits(X @ mem.projection_.T.astype(float), kind="heaviside")
    np.testing.assert_array_equal(mem.keys_, unscaled)


def test_random_projection_reproducible_from_seed():
    X, y = np.random.default_rng(0).normal(size=(6, 9)), [0, 1, 2, 0, 1, 2]
    a = BinaryKeyValueMemory(n_components=64, random_state=42).fit(X, y)
    b = BinaryKeyValueMemory(n_components=64, random_state=42).fit(X, y)
    c = BinaryKeyValueMemory(n_components=64, random_state=43).fit(X, y)
    np.testing.assert_array_equal(a.projection_, b.projection_)
    assert not np.array_equal(a.projection_, c.projection_)
    assert 0 <= a.seed_ < 2**32
    # the counter-based generator's definition: lane j % 4 of word(seed, i, j // 4) < 2**15
    regen = np.array([[1 if (_word_oracle(a.seed_, i, j // 4) >> (16 * (j % 4))) & 0xFFFF < 2**15
                       else -1 for j in range(9)] for i in range(64)])
    np.testing.assert_array_equal(a.projection_, regen)
    # a stored seed regenerates the matrix, the keys and the predictions
    d = BinaryKeyValueMemory(n_components=64, random_state=a.seed_).fit(X, y)
    assert d.seed_ == a.seed_
    np.testing.assert_array_equal(d.projection_, a.projection_)
    np.testing.assert_array_equal(d.keys_, a.keys_)
    R, scale = random_bipolar_projection(a.seed_, 64, 9)
    np.testing.assert_array_equal(R, a.projection_)
    assert scale == a.projection_scale_ == pytest.approx(np.sqrt(6 / (64 + 9)))


def test_random_projection_is_balanced_and_seed_specific():
    R, _ = random_bipolar_projection(0, 256, 272)
    assert R.dtype == np.int8 and set(np.unique(R)) == {-1, 1}
    assert abs(R.mean()) < 0.01  # 69 632 fair signs: std of the mean 0.0038
    assert abs(np.corrcoef(R[:-1].ravel(), R[1:].ravel())[0, 1]) < 0.02  # rows independent
    assert (R != random_bipolar_projection(1, 256, 272)[0]).mean() == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError, match="n_components must be >= 1, got 0"):
        random_bipolar_projection(0, 0, 272)
    with pytest.raises(ValueError, match="n_components x n_features: a 16 x 1000000000000000 int8 matrix would take"):
        random_bipolar_projection(0, 16, 10**15)
    with pytest.raises(ValueError, match="seed must be in"):
        random_bipolar_projection(2**32, 4, 4)


# ---------------------------------------------------------------------------
# few-shot properties (Hersche 2020, Sec. IV: update the memory, not the model)
# ---------------------------------------------------------------------------


def test_new_class_at_run_time_keeps_old_classes():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(4, N_FEATURES))
    X_sup, y_sup = make_session(rng, means, 8)  # 4-way / 8-shot support
    X_test, y_test = make_session(rng, means, 50)
    old = y_sup < 3
    mem = BinaryKeyValueMemory(random_state=0).fit(X_sup[old], y_sup[old])
    keys_before = mem.keys_.copy()
    acc_old_before = (mem.predict(X_test[y_test < 3]) == y_test[y_test < 3]).mean()
    assert acc_old_before >= 0.95
    assert not np.any(mem.predict(X_test[y_test == 3]) == 3)  # unknown so far

    mem.add_examples(X_sup[~old], y_sup[~old])
    np.testing.assert_array_equal(mem.classes_, [0, 1, 2, 3])
    np.testing.assert_array_equal(mem.keys_[: len(keys_before)], keys_before)  # nothing rewritten
    acc_new = (mem.predict(X_test[y_test == 3]) == 3).mean()
    acc_old_after = (mem.predict(X_test[y_test < 3]) == y_test[y_test < 3]).mean()
    assert acc_new >= 0.95
    assert acc_old_after >= acc_old_before - 0.02


def test_recalibration_on_shifted_session_restores_accuracy():
    rng = np.random.default_rng(1)
    means = rng.normal(size=(4, N_FEATURES))
    rotation, _ = np.linalg.qr(rng.normal(size=(N_FEATURES, N_FEATURES)))
    X1, y1 = make_session(rng, means, 8)
    X1_test, y1_test = make_session(rng, means, 40)
    X2_cal, y2_cal = make_session(rng, means, 8, rotation=rotation)  # new session
    X2_test, y2_test = make_session(rng, means, 40, rotation=rotation)

    mem = BinaryKeyValueMemory(random_state=0).fit(X1, y1)
    assert (mem.predict(X1_test) == y1_test).mean() >= 0.95
    acc_shifted = (mem.predict(X2_test) == y2_test).mean()
    assert acc_shifted <= 0.5  # the session shift breaks the old memory

    mem.add_examples(X2_cal, y2_cal)  # calibration trials of the new session only
    assert (mem.predict(X2_test) == y2_test).mean() >= 0.95
    assert (mem.predict(X1_test) == y1_test).mean() >= 0.95


def test_add_examples_inserts_new_labels_in_sorted_classes():
    rng = np.random.default_rng(2)
    means = rng.normal(size=(3, 50))
    X, y = make_session(rng, means, 6)
    names = np.array(["feet", "left", "tongue"])[y]
    mem = BinaryKeyValueMemory(n_components=128, random_state=0)
    mem.fit(X[names != "left"], names[names != "left"])
    mem.add_examples(X[names == "left"], names[names == "left"])
    np.testing.assert_array_equal(mem.classes_, ["feet", "left", "tongue"])
    np.testing.assert_array_equal(mem.predict(means), ["feet", "left", "tongue"])
    assert mem.keys_.shape[0] == mem.labels_.shape[0] == 18


def test_learned_projection_from_array_dict_and_npz(tmp_path):
    rng = np.random.default_rng(3)
    W = rng.normal(size=(64, 20)).astype(np.float32)
    X, y, Xq = rng.normal(size=(12, 20)), rng.integers(0, 2, 12), rng.normal(size=(7, 20))
    path = tmp_path / "controller.npz"
    np.savez(path, **{"projection.weight": W, "other": np.zeros(3)})
    ests = [
        BinaryKeyValueMemory(projection=W, n_components=64),
        BinaryKeyValueMemory(projection="learned", projection_weights=W, n_components=64),
        BinaryKeyValueMemory(
            projection="learned", projection_weights={"w": W}, n_components=64
        ),
        BinaryKeyValueMemory(
            projection="learned", projection_weights=str(path),
            projection_key="projection.weight", n_components=64,
        ),
    ]
    _, y_hat = oracle_readout(X, y, Xq, W.astype(float), 1.0, 2, "softabs", 10.0)
    for est in ests:
        est.fit(X, y)
        assert est.seed_ is None and est.projection_scale_ == 1.0
        np.testing.assert_array_equal(est.keys_, ests[0].keys_)
        np.testing.assert_array_equal(est.predict(Xq), np.argmax(y_hat, 1))


# ---------------------------------------------------------------------------
# footprint (Table II protocol)
# ---------------------------------------------------------------------------


def test_footprint_random_and_learned():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(32, N_FEATURES)), np.repeat(np.arange(4), 8)  # 4-way / 8-shot
    fp = BinaryKeyValueMemory(random_state=0).fit(X, y).footprint()
    # seed (32 bits) + keys 32 x 256 bits + values 32 x log2(4) bits
    assert fp.memory_bits == 32 + 32 * 256 + 32 * 2
    assert fp.total_bit_ops == 32 * 256
    assert fp.total_macs == 256 * N_FEATURES + 32
    W = rng.normal(size=(128, N_FEATURES))
    fp16 = BinaryKeyValueMemory(projection=W, n_components=128).fit(X, y).footprint(float_bits=16)
    assert fp16.memory_bits == 128 * N_FEATURES * 16 + 32 * 128 + 32 * 2
    pipe = make_pipeline(StandardScaler(), BinaryKeyValueMemory(random_state=0)).fit(X, y)
    assert eegbin.footprint(pipe).total_bit_ops == 32 * 256


def test_footprint_hersche2020_convention_is_table_ii_classification_row():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(32, N_FEATURES)), np.repeat(np.arange(4), 8)  # 4-way / 8-shot
    for d, kB, macs in ((256, 1.02, 288), (128, 0.51, 160)):  # Table II, MI-MANN rows
        mem = BinaryKeyValueMemory(n_components=d, random_state=3).fit(X, y)
        paper = mem.footprint(float_bits=16, convention="hersche2020")
        parts = {p.name: p for p in paper.parts}
        assert round(parts["random projection"].kB, 3) == 0.004
        assert parts["random projection"].total_macs == d * N_FEATURES  # 69 632 / 34 816
        classification = parts["key memory"].kB + parts["value memory"].kB
        assert round(classification, 2) == kB
        assert parts["key memory"].total_macs + parts["value memory"].total_macs == macs
        assert paper.total_bit_ops == 0
        ours = mem.footprint(float_bits=16)
        assert ours.total_bit_ops == 32 * d and ours.memory_bits == paper.memory_bits + 32 * 2
        assert eegbin.footprint(mem, float_bits=16, convention="hersche2020") == paper
    learned = BinaryKeyValueMemory(projection=rng.normal(size=(256, N_FEATURES))).fit(X, y)
    lp = learned.footprint(float_bits=16, convention="hersche2020").parts[0]
    assert round(lp.kB, 2) == 139.26  # Table II prints 129.3 (a typo: its total 143.36 needs 139.3)
    with pytest.raises(ValueError, match="convention must be one of"):
        learned.footprint(convention="paper")


# ---------------------------------------------------------------------------
# math functions
# ---------------------------------------------------------------------------


def test_sharpen_and_readout_functions():
    alpha = np.linspace(-1, 1, 9)[None]
    sa = sharpen_attention(alpha)
    np.testing.assert_allclose(sa, sa[:, ::-1])  # symmetric: a smooth |alpha|
    assert sa[0, 4] < 0.02 and sa[0, 0] > 0.99 and np.all(np.diff(sa[0, 4:]) > 0)
    sm = sharpen_attention(alpha, "softmax", beta=3.0)
    np.testing.assert_allclose(sm.sum(1), 1.0)
    np.testing.assert_array_equal(sharpen_attention(alpha, "none"), alpha)
    # the 2-way / 2-shot example after eq. (15) of Hersche 2020
    np.testing.assert_allclose(
        memory_readout(np.array([[0.2, 0.3, 0.4, 0.1]]), np.array([0, 1, 1, 0]), 2), [[0.3, 0.7]]
    )
    with pytest.raises(ValueError, match="sharpen must be one of"):
        sharpen_attention(alpha, "relu")
    with pytest.raises(ValueError, match=r"beta must be a finite number in \(0, inf\)"):
        sharpen_attention(alpha, beta=0.0)
    with pytest.raises(ValueError, match="n_bits must be >= 1, got 0"):
        cosine_from_hamming(pack_bits(np.ones((1, 3))), pack_bits(np.ones((1, 3))), 0)
    with pytest.raises(TypeError, match="n_bits must be an integer"):
        cosine_from_hamming(pack_bits(np.ones((1, 3))), pack_bits(np.ones((1, 3))), 3.0)


# ---------------------------------------------------------------------------
# scikit-learn contract
# ---------------------------------------------------------------------------


@parametrize_with_checks(
    [
        BinaryKeyValueMemory(random_state=0),  # softabs: poor_score tag (see __sklearn_tags__)
        BinaryKeyValueMemory(sharpen="softmax", random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_clone_pickle_gridsearch():
    rng = np.random.default_rng(5)
    means = rng.normal(size=(3, 30))
    X, y = make_session(rng, means, 10)
    mem = BinaryKeyValueMemory(n_components=64, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(mem))
    np.testing.assert_array_equal(again.predict(X), mem.predict(X))
    assert clone(mem).get_params() == mem.get_params()
    W = rng.normal(size=(64, 30))
    assert clone(BinaryKeyValueMemory(projection=W, n_components=64)).projection is not W
    gs = GridSearchCV(
        BinaryKeyValueMemory(n_components=64, random_state=0),
        {"sharpen": ["softabs", "softmax"], "beta": [5.0, 10.0]},
        cv=3,
    ).fit(X, y)
    assert gs.best_score_ >= 0.9


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_bad_input(tmp_path):
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(10, 8)), np.repeat([0, 1], 5)
    mem = BinaryKeyValueMemory(n_components=32, random_state=0)
    with pytest.raises(NotFittedError):
        mem.predict(X)
    with pytest.raises(NotFittedError):
        mem.add_examples(X, y)
    bad = X.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(mem).fit(bad, y)
    mem.fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        mem.predict(bad)
    with pytest.raises(ValueError, match="NaN"):
        mem.add_examples(bad, y)
    with pytest.raises(ValueError, match="X has 7 features, but BinaryKeyValueMemory is expecting 8"):
        mem.add_examples(X[:, :7], y)
    with pytest.raises(ValueError, match="X has 9 features"):
        mem.predict(np.hstack([X, X[:, :1]]))
    with pytest.raises(ValueError, match=r"same number of examples, got X \(10, 8\) and y \(9,\)"):
        mem.add_examples(X, y[:9])
    with pytest.raises(ValueError, match="Unknown label type"):
        mem.add_examples(X, rng.normal(size=10))
    with pytest.raises(TypeError, match="cannot be compared with classes_"):
        mem.add_examples(X, np.array(["a"] * 10, dtype=object))
    with pytest.raises(ValueError, match="sharpen"):
        BinaryKeyValueMemory(sharpen="max").fit(X, y)
    with pytest.raises(ValueError, match="n_components"):
        BinaryKeyValueMemory(n_components=0).fit(X, y)
    with pytest.raises(ValueError, match="beta"):
        BinaryKeyValueMemory(beta=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="projection='learned' needs projection_weights"):
        BinaryKeyValueMemory(projection="learned").fit(X, y)
    with pytest.raises(ValueError, match="only used with projection='learned'"):
        BinaryKeyValueMemory(projection_weights=np.ones((256, 8))).fit(X, y)
    with pytest.raises(ValueError, match=r"has shape \(32, 7\), expected \(n_components=32, n_features=8\)"):
        BinaryKeyValueMemory(projection=np.ones((32, 7)), n_components=32).fit(X, y)
    with pytest.raises(ValueError, match="set n_components=16"):
        BinaryKeyValueMemory(projection=np.ones((16, 8)), n_components=32).fit(X, y)
    with pytest.raises(ValueError, match="NaN or Inf"):
        BinaryKeyValueMemory(projection=np.full((32, 8), np.inf), n_components=32).fit(X, y)
    with pytest.raises(ValueError, match="2-D real matrix"):
        BinaryKeyValueMemory(projection=np.ones((32, 8), dtype=bool), n_components=32).fit(X, y)
    two = {"a": np.ones((32, 8)), "b": np.ones(3)}
    with pytest.raises(ValueError, match="projection_key must name"):
        BinaryKeyValueMemory(projection="learned", projection_weights=two, n_components=32).fit(X, y)
    with pytest.raises(ValueError, match="projection_key='c' is not among"):
        BinaryKeyValueMemory(
            projection="learned", projection_weights=two, projection_key="c", n_components=32
        ).fit(X, y)
    text = tmp_path / "weights.npz"
    text.write_text("not a weight file")
    with pytest.raises(ValueError, match="cannot read .* as an .npz weight file"):
        BinaryKeyValueMemory(projection="learned", projection_weights=str(text), n_components=32).fit(X, y)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, w=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="cannot read"):  # allow_pickle=False refuses it
        BinaryKeyValueMemory(projection="learned", projection_weights=pickled, n_components=32).fit(X, y)

"""The LSTM core's fast path (the fused XNOR-popcount kernel) against its numpy engine, bit for bit.

MuBiNN2 (``MultiLevelBinarizedLSTM``, mode "mubinn2") binarizes every signal of eq. (1)-(5)
with static scales, so it runs calibrated; the kernel's run-time scales are tested
against the reference cell in tests/nn/test_lstm.py (``lstm_layer`` with any
``CellQuantization``).
"""

import numpy as np
import pytest

from eegbin.nn import MultiLevelBinarizedLSTM


def _weights(seed, D=7, H=12):
    rng = np.random.default_rng(seed)
    return {"weight_ih_l0": 0.4 * rng.normal(size=(4 * H, D)), "weight_hh_l0": 0.3 * rng.normal(size=(4 * H, H)),
            "bias_ih_l0": 0.1 * rng.normal(size=4 * H), "bias_hh_l0": 0.1 * rng.normal(size=4 * H)}


@pytest.mark.parametrize("A, W", [(1, 1), (2, 2), (3, 3), (1, 3), (3, 2)])
@pytest.mark.parametrize("batch", [1, 3, 9])  # both data layouts of the kernel (lanes: units / samples)
@pytest.mark.parametrize("scaling", ["greedy", "power_of_two"])  # the rule calibrate fixes the static scales by
def test_numba_engine_equals_numpy_engine_bit_for_bit(A, W, batch, scaling):
    sd = _weights(A + batch)
    x = np.random.default_rng(batch).normal(size=(batch, 11, 7))
    fast = MultiLevelBinarizedLSTM(sd, A, W, activation_scaling=scaling).calibrate(x)
    ref = MultiLevelBinarizedLSTM(sd, A, W, activation_scaling=scaling, engine="numpy").calibrate(x)
    for name, scales in fast.activation_scales_[0].items():  # calibration runs the numpy cell on both
        np.testing.assert_array_equal(ref.activation_scales_[0][name], scales)
    (o1, (h1, c1)), (o2, (h2, c2)) = ref.forward(x), fast.forward(x)
    np.testing.assert_array_equal(o2, o1)
    np.testing.assert_array_equal(c2, c1)
    np.testing.assert_array_equal(h2, h1)


def _count_fused_calls(monkeypatch):
    """Wrap the kernel the LSTM core calls; the list grows by one per fused layer run."""
    import eegbin.nn.lstm_cell as core

    calls, kernel = [], core.mubinn2_lstm_layer

    def counted(*args, **kwargs):
        calls.append(kwargs.get("gx") is None)  # True: input products inside the kernel too
        return kernel(*args, **kwargs)

    monkeypatch.setattr(core, "mubinn2_lstm_layer", counted)
    return calls


@pytest.mark.parametrize("A, W", [(1, 1), (2, 2), (3, 3)])
def test_default_mubinn2_runs_the_fused_kernel(monkeypatch, A, W):
    """The default MuBiNN2 network takes the fast path for the whole layer (x and h products inside)."""
    calls = _count_fused_calls(monkeypatch)
    x = np.random.default_rng(0).normal(size=(2, 6, 7))
    net = MultiLevelBinarizedLSTM(_weights(A), A, W).calibrate(x)
    calls.clear()  # calibration runs the layer once binarized (fused) to feed the next layer
    net.features(x)
    assert calls == [True]


def test_numpy_engine_does_not_run_the_fused_kernel(monkeypatch):
    calls = _count_fused_calls(monkeypatch)
    x = np.random.default_rng(1).normal(size=(2, 6, 7))
    MultiLevelBinarizedLSTM(_weights(0), 2, 2, engine="numpy").calibrate(x).features(x)
    assert calls == []


@pytest.mark.parametrize("calibrate", ["auto", True])  # mubinn2 always calibrates (static scales)
def test_lstm_classifier_on_the_fast_path_equals_the_numpy_engine(monkeypatch, calibrate):
    """LSTMClassifier's default MuBiNN2 network runs the fused kernel and predicts as the numpy reference."""
    from eegbin import LSTMClassifier

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(24, 7, 20)), np.arange(24) % 3
    calls = _count_fused_calls(monkeypatch)
    fast = LSTMClassifier(MultiLevelBinarizedLSTM(_weights(5), 2, 2), calibrate=calibrate).fit(X, y)
    assert calls  # fit ran the network through the kernel
    ref = LSTMClassifier(MultiLevelBinarizedLSTM(_weights(5), 2, 2, engine="numpy"), calibrate=calibrate).fit(X, y)
    np.testing.assert_array_equal(fast.transform(X), ref.transform(X))
    np.testing.assert_array_equal(fast.predict_proba(X), ref.predict_proba(X))
    np.testing.assert_array_equal(fast.predict(X), ref.predict(X))


def test_operands_laid_out_once_and_renewed_with_the_weights(monkeypatch):
    """The network lays its weights out for the kernel once; replaced weights are laid out anew."""
    import pickle

    import eegbin.nn.lstm_cell as core

    layouts, layout = [], core.lstm_layer_operands
    monkeypatch.setattr(core, "lstm_layer_operands", lambda *a: layouts.append(1) or layout(*a))
    x = np.random.default_rng(4).normal(size=(2, 6, 7))
    net = MultiLevelBinarizedLSTM(_weights(6), 2, 2).calibrate(x)
    first = net.features(x)
    n = len(layouts)
    np.testing.assert_array_equal(net.features(x), first)
    assert len(layouts) == n  # the second call reused the layout
    code = net.binarized_weights.layers[0].w_hh
    with pytest.raises(ValueError, match="read-only"):  # the cached layout cannot go stale in place
        code.planes[0, 0, 0] ^= np.uint64(1)
    other = MultiLevelBinarizedLSTM(_weights(7), 2, 2)
    net.binarized_weights = other.binarized_weights  # same scales, other weights
    ref = MultiLevelBinarizedLSTM(_weights(7), 2, 2, engine="numpy")
    ref.activation_scales_ = net.activation_scales_
    np.testing.assert_array_equal(net.features(x), ref.features(x))
    assert len(layouts) > n
    again = pickle.loads(pickle.dumps(net))
    assert not again.binarized_weights.layers[0].w_hh.planes.flags.writeable
    np.testing.assert_array_equal(again.features(x), ref.features(x))

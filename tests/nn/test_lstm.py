"""LSTM inference (torch/Keras layouts), MuBiNN binarized LSTM and LSTMClassifier.

Oracle: torch.nn.LSTM + nn.Linear built in the tests.
"""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import eegbin
from eegbin.nn import LSTM, LSTMClassifier, MultiLevelBinarizedLSTM, pwl_apply, pwl_table

torch = pytest.importorskip("torch")


class _Net(torch.nn.Module):
    def __init__(self, D, H, C, n_layers=1, batch_first=True):
        super().__init__()
        self.lstm = torch.nn.LSTM(D, H, num_layers=n_layers, batch_first=batch_first)
        self.fc = torch.nn.Linear(H, C)
        self.batch_first = batch_first

    def forward(self, x):
        out, state = self.lstm(x)
        last = out[:, -1] if self.batch_first else out[-1]
        return self.fc(last), out, state


def _state_dict(net):
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


SHAPES = [  # D, H, C, layers, batch_first, batch, time
    (3, 5, 4, 1, True, 4, 11),
    (7, 16, 3, 2, False, 3, 9),
    (22, 32, 2, 3, True, 2, 20),
    (1, 1, 2, 1, False, 1, 1),
]


@pytest.mark.parametrize("D, H, C, L, bf, B, T", SHAPES)
def test_torch_parity(D, H, C, L, bf, B, T):
    torch.manual_seed(D * 100 + H)
    net = _Net(D, H, C, L, bf)
    for p in net.parameters():  # random weights, not only the default init
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn((B, T, D) if bf else (T, B, D))
    with torch.no_grad():
        logits, out, (h, c) = net(x)
    ours = LSTM(_state_dict(net), batch_first=bf)
    assert (ours.input_size, ours.hidden_size, ours.n_layers, ours.n_outputs) == (D, H, L, C)
    o2, (h2, c2) = ours.forward(x.numpy())
    for a, b in ((o2, out), (h2, h), (c2, c), (ours(x.numpy()), logits)):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5, rtol=0)
    # initial states, as torch's forward(x, (h0, c0))
    h0, c0 = torch.randn(L, B, H), torch.randn(L, B, H)
    with torch.no_grad():
        out, (h, c) = net.lstm(x, (h0, c0))
    o2, (h2, c2) = ours.forward(x.numpy(), h0.numpy(), c0.numpy())
    np.testing.assert_allclose(o2, out.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(c2, c.numpy(), atol=1e-5, rtol=0)


def _keras_from_torch(sd, n_layers, perm="ifco"):
    """Keras names/layout (kernel = W.T, gates i, f, c, o, one bias) from a torch state dict."""
    order = {"i": 0, "f": 1, "c": 2, "o": 3}
    out = {}
    for k in range(n_layers):
        name = "lstm" if k == 0 else f"lstm_{k}"

        def blocks(m, axis):
            parts = np.split(m, 4, axis=axis)
            return np.concatenate([parts[order[g]] for g in perm], axis=axis)

        out[f"{name}/lstm_cell/kernel:0"] = blocks(sd[f"lstm.weight_ih_l{k}"].T, 1)
        out[f"{name}/lstm_cell/recurrent_kernel:0"] = blocks(sd[f"lstm.weight_hh_l{k}"].T, 1)
        out[f"{name}/lstm_cell/bias:0"] = blocks(sd[f"lstm.bias_ih_l{k}"] + sd[f"lstm.bias_hh_l{k}"], 0)
    out["dense/kernel:0"] = sd["fc.weight"].T.copy()
    out["dense/bias:0"] = sd["fc.bias"]
    return out


@pytest.fixture(scope="module")
def small_net():
    torch.manual_seed(0)
    net = _Net(5, 8, 3, n_layers=2)
    x = torch.randn(4, 13, 5)
    with torch.no_grad():
        logits = net(x)[0].numpy()
    return net, _state_dict(net), x.numpy(), logits


def test_keras_layout_and_gate_order(small_net):
    _, sd, x, logits = small_net
    keras = _keras_from_torch(sd, 2)
    np.testing.assert_allclose(LSTM(keras)(x), logits, atol=1e-5)
    np.testing.assert_allclose(LSTM(keras, layout="keras")(x), logits, atol=1e-5)
    # another stacking of the gate blocks, declared explicitly
    onnx_like = _keras_from_torch(sd, 2, perm="iofc")
    np.testing.assert_allclose(LSTM(onnx_like, gate_order="iofc")(x), logits, atol=1e-5)
    assert np.abs(LSTM(onnx_like)(x) - logits).max() > 1e-3  # the order matters


def test_keras_many_layers_natural_order():
    """lstm, lstm_1, ..., lstm_10 are stacked in that order, not alphabetically."""
    torch.manual_seed(1)
    net = _Net(2, 3, 2, n_layers=11)
    x = torch.randn(2, 4, 2)
    with torch.no_grad():
        logits = net(x)[0].numpy()
    keras = _keras_from_torch(_state_dict(net), 11)
    shuffled = dict(sorted(keras.items()))  # alphabetical, as an HDF5 file lists them
    np.testing.assert_allclose(LSTM(shuffled)(x.numpy()), logits, atol=1e-5)


def test_explicit_key_map(small_net):
    _, sd, x, logits = small_net
    renamed = {"rnn/" + k.replace("lstm.", ""): v for k, v in sd.items() if k.startswith("lstm.")}
    renamed["classifier/W"], renamed["classifier/b"] = sd["fc.weight"], sd["fc.bias"]
    renamed["optimizer_step"] = np.zeros(1)  # ignored: not named in the key map
    key_map = {f"{b}_l{k}": f"rnn/{b}_l{k}" for b in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") for k in (0, 1)}
    key_map.update({"head.weight": "classifier/W", "head.bias": "classifier/b"})
    np.testing.assert_allclose(LSTM(renamed, key_map=key_map)(x), logits, atol=1e-5)


def test_weight_file_roundtrips(small_net, tmp_path):
    net, sd, x, logits = small_net
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.testing.assert_allclose(LSTM(tmp_path / "net.pt")(x), logits, atol=1e-5)
    np.testing.assert_allclose(LSTM(str(tmp_path / "net.pt"))(x), logits, atol=1e-5)
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    safetensors_numpy.save_file(sd, str(tmp_path / "net.safetensors"))
    np.testing.assert_allclose(LSTM(tmp_path / "net.safetensors")(x), logits, atol=1e-5)
    np.savez(tmp_path / "keras.npz", **_keras_from_torch(sd, 2))
    np.testing.assert_allclose(LSTM(tmp_path / "keras.npz")(x), logits, atol=1e-5)
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "keras.h5", "w") as f:  # Keras 2 layout: model_weights/<layer>/<layer>/...
        for k, v in _keras_from_torch(sd, 2).items():
            layer = k.split("/")[0]
            f.create_dataset(f"model_weights/{layer}/{k}", data=v)
    np.testing.assert_allclose(LSTM(tmp_path / "keras.h5")(x), logits, atol=1e-5)


def test_bad_weights(small_net):
    _, sd, x, _ = small_net
    bad = dict(sd)
    bad["lstm.weight_hh_l1"] = np.zeros((32, 7), dtype=np.float32)
    with pytest.raises(ValueError, match=r"'lstm.weight_hh_l1' has shape \(32, 7\), expected \(32, 8\)"):
        LSTM(bad)
    bad = dict(sd)
    del bad["lstm.weight_hh_l0"]
    with pytest.raises(ValueError, match="missing tensor 'lstm.weight_hh_l0'"):
        LSTM(bad)
    bad = dict(sd)
    del bad["lstm.bias_hh_l1"]
    with pytest.raises(ValueError, match="missing tensor 'lstm.bias_hh_l1'"):
        LSTM(bad)
    no_bias = {k: v for k, v in sd.items() if "bias_" not in k}  # nn.LSTM(bias=False)
    ref = LSTM(dict(sd, **{k: np.zeros_like(v) for k, v in sd.items() if "bias_" in k}))
    np.testing.assert_allclose(LSTM(no_bias)(x), ref(x), atol=1e-12)
    bad = dict(sd, **{"lstm.bias_ih_l0": sd["lstm.bias_ih_l0"].astype(np.int64)})
    with pytest.raises(ValueError, match="'lstm.bias_ih_l0' has dtype int64"):
        LSTM(bad)
    bad = {k: v.copy() for k, v in sd.items()}
    bad["fc.bias"][0] = np.nan
    with pytest.raises(ValueError, match="'fc.bias' contains NaN"):
        LSTM(bad)
    with pytest.raises(ValueError, match="unexpected tensors"):
        LSTM(dict(sd, **{"extra.running_mean": np.zeros(3)}))
    with pytest.raises(ValueError, match="bidirectional or projected"):
        LSTM(dict(sd, **{"lstm.weight_ih_l0_reverse": sd["lstm.weight_ih_l0"]}))
    with pytest.raises(TypeError, match=r"weights\['lstm.weight_ih_l0'\] must be a numpy.ndarray"):
        LSTM({k: torch.from_numpy(v) for k, v in sd.items()})
    with pytest.raises(TypeError, match="weights must be a dict"):
        LSTM([1, 2])
    with pytest.raises(ValueError, match="gate_order must be a permutation"):
        LSTM(sd, gate_order="ifgg")
    with pytest.raises(ValueError, match="neither torch"):
        LSTM({"w": np.zeros(3)})
    with pytest.raises(ValueError, match="layout must be"):
        LSTM(sd, layout="onnx")
    net = LSTM(sd)
    with pytest.raises(ValueError, match="4 features per time step, the LSTM expects 5"):
        net.features(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="3-D"):
        net.features(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        net.features(np.full((1, 2, 5), np.nan))
    with pytest.raises(ValueError, match="h0 must have shape"):
        net.forward(x, h0=np.zeros((1, 4, 8)))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        net.features(x.tolist())


def test_float_footprint(small_net):
    _, sd, _, _ = small_net
    fp = LSTM(sd).footprint(n_times=10)
    n_params = sum(v.size for k, v in sd.items()) - 2 * 4 * 8  # two biases summed per layer
    assert fp.total_params == n_params
    assert fp.total_macs >= 10 * (32 * (5 + 8) + 32 * (8 + 8))


def test_lstm_layer_forward_refuses_bad_input():
    from eegbin.nn import lstm_layer_forward

    rng = np.random.default_rng(0)
    x, w_ih, w_hh, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(8, 4)), rng.normal(size=(8, 2)), np.zeros(8)
    out, h, c = lstm_layer_forward(x, w_ih, w_hh, b)
    np.testing.assert_array_equal(out[:, -1], h)
    bad = x.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match="x contains NaN or Inf"):
        lstm_layer_forward(bad, w_ih, w_hh, b)
    with pytest.raises(ValueError, match="w_hh contains NaN or Inf"):
        lstm_layer_forward(x, w_ih, np.full((8, 2), np.inf), b)
    with pytest.raises(ValueError, match="h0 contains NaN or Inf"):
        lstm_layer_forward(x, w_ih, w_hh, b, h0=np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match=r"w_ih must have shape \(8, \*\), got \(6, 4\)"):
        lstm_layer_forward(x, w_ih[:6], w_hh, b)
    with pytest.raises(ValueError, match="x has 4 features per time step, the LSTM expects 3"):
        lstm_layer_forward(x, w_ih[:, :3], w_hh, b)
    with pytest.raises(ValueError, match=r"bias must have shape \(8,\)"):
        lstm_layer_forward(x, w_ih, w_hh, np.zeros(4))
    with pytest.raises(ValueError, match=r"w_hh must have shape \(4H, H\)"):
        lstm_layer_forward(x, w_ih, rng.normal(size=(8, 3)), b)
    with pytest.raises(ValueError, match=r"c0 must have shape \(2, 2\)"):
        lstm_layer_forward(x, w_ih, w_hh, b, c0=np.zeros((3, 2)))
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        lstm_layer_forward(x.tolist(), w_ih, w_hh, b)
    with pytest.raises(ValueError, match="Complex data not supported: w_ih must hold real numbers"):
        lstm_layer_forward(x, w_ih.astype(complex), w_hh, b)
    with pytest.raises(TypeError, match="w_ih must hold real numbers"):
        lstm_layer_forward(x, w_ih > 0, w_hh, b)


# ---------------------------------------------------------------------------
# MuBiNN
# ---------------------------------------------------------------------------


def test_pwl_tables_accuracy():
    z = np.linspace(-10, 10, 2001)
    from scipy.special import expit

    assert np.abs(pwl_apply(z, pwl_table("sigmoid", 32)) - expit(z)).max() < 5e-3
    assert np.abs(pwl_apply(z, pwl_table("tanh", 32)) - np.tanh(z)).max() < 1e-2  # h^2/8 max|tanh''|
    assert np.abs(pwl_apply(z, pwl_table("tanh", 64)) - np.tanh(z)).max() < 2e-3
    e8 = np.abs(pwl_apply(z, pwl_table("tanh", 8)) - np.tanh(z)).max()
    assert e8 > np.abs(pwl_apply(z, pwl_table("tanh", 64)) - np.tanh(z)).max()
    with pytest.raises(ValueError, match="function"):
        pwl_table("relu")
    with pytest.raises(ValueError, match="n_segments"):
        pwl_table("tanh", 0)
    with pytest.raises(TypeError, match="n_segments must be an integer"):
        pwl_table("tanh", 8.5)
    with pytest.raises(ValueError, match="z must be finite"):
        pwl_apply(np.array([0.0, np.nan]), pwl_table("tanh", 8))
    with pytest.raises(TypeError, match="z must hold real numbers"):
        pwl_apply(np.array([True]), pwl_table("tanh", 8))


def test_binarized_lstm_converges_to_float(small_net):
    _, sd, x, _ = small_net
    ref = LSTM(sd).features(x)
    errs = {}
    for A, W in [(1, 1), (2, 2), (4, 4), (8, 8)]:
        net = MultiLevelBinarizedLSTM(sd, A, W, n_pwl_segments=256).calibrate(x)
        errs[A, W] = np.abs(net.features(x) - ref).max()
    assert errs[8, 8] < errs[4, 4] < errs[2, 2] < errs[1, 1]
    assert errs[8, 8] < 0.05
    e1 = np.abs(MultiLevelBinarizedLSTM(sd, 8, 8, mode="mubinn1").features(x) - ref).max()
    assert e1 < 0.05


def test_mubinn2_binarizes_the_signals_of_the_paper(small_net):
    """Section IV-C / Fig. 3: W_x, W_h, b with W levels; x, h_{t-1}, i, f, g, o, c_{t-1} with A
    levels and static scales; tanh(c_t) and eq. (6) in float (a MAC unit)."""
    from eegbin.nn.mubinn import MUBINN2_SIGNALS
    from eegbin.quantize import MultiLevelCode

    _, sd, x, _ = small_net
    net = MultiLevelBinarizedLSTM(sd, 3, 2).calibrate(x)
    for w_ih, w_hh, b in net.binarized_weights.layers:
        assert all(isinstance(m, MultiLevelCode) and m.n_levels == 2 and m.axis is None for m in (w_ih, w_hh, b))
    cell = net.cell_quantization(1)
    assert set(MUBINN2_SIGNALS) == {"x", "h", "i", "f", "g", "o", "c"} and cell.tanh_c is None
    for name, offset in MUBINN2_SIGNALS.items():
        q = getattr(cell, name)
        assert (q.n_levels, q.offset, q.dtype) == (3, offset, np.float64)
        np.testing.assert_array_equal(q.scales, net.activation_scales_[1][name])  # static, not per vector
    assert cell.sigmoid is not None and cell.tanh is not None


def test_cell_quantization_names_the_bad_layer(small_net):
    from eegbin.nn.lstm_cell import FLOAT_CELL

    _, sd, x, _ = small_net
    net = LSTM(sd)
    assert net.cell_quantization() is FLOAT_CELL
    with pytest.raises(ValueError, match=rf"layer must be in \[0, {net.n_layers - 1}\], got {net.n_layers}"):
        net.cell_quantization(net.n_layers)
    with pytest.raises(TypeError, match="layer must be an integer, got float"):
        net.cell_quantization(0.0)
    with pytest.raises(ValueError, match="call calibrate"):  # mubinn2 has no cell before its scales
        MultiLevelBinarizedLSTM(sd, 2, 2).cell_quantization(0)


def _plain_greedy_scales(v, L):
    """Algorithm 1's greedy scales over all values of v (plain numpy oracle)."""
    r, out = np.ravel(v).astype(np.float64), []
    for _ in range(L):
        a = np.abs(r).mean()
        out.append(a)
        r = r - a * np.where(r >= 0, 1.0, -1.0)
    return np.array(out)


def _plain_pwl_layer(x, w_ih, w_hh, b, sigmoid, tanh):
    """Float LSTM layer with table activations (plain numpy): every signal per step."""
    B, T, _ = x.shape
    H = w_hh.shape[1]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    seen = {k: [] for k in "hifgoc"}
    for t in range(T):
        z = x[:, t] @ w_ih.T + h @ w_hh.T + b
        i, f = np.interp(z[:, :H], *sigmoid), np.interp(z[:, H:2 * H], *sigmoid)
        g, o = np.interp(z[:, 2 * H:3 * H], *tanh), np.interp(z[:, 3 * H:], *sigmoid)
        for k, v in zip("hifgoc", (h, i, f, g, o, c)):
            seen[k].append(v)
        c = f * c + i * g
        h = o * np.interp(c, *tanh)
    return seen


def test_calibrated_static_scales(small_net):
    from eegbin.nn.mubinn import MUBINN2_SIGNALS

    _, sd, x, _ = small_net
    A = 3
    net = MultiLevelBinarizedLSTM(sd, A, 2, n_pwl_segments=16).calibrate(x)
    assert [sorted(d) for d in net.activation_scales_] == [sorted(MUBINN2_SIGNALS)] * 2
    # layer 0: Algorithm 1's greedy rule over every value of each signal of the float cell (tables)
    seen = _plain_pwl_layer(x.astype(np.float64), *net.params.layers[0], *net._tables)
    seen["x"] = [x]
    for name, offset in MUBINN2_SIGNALS.items():
        expected = _plain_greedy_scales(np.concatenate([np.ravel(v) for v in seen[name]]) - offset, A)
        np.testing.assert_allclose(net.activation_scales_[0][name], expected, rtol=1e-10)
    # layer 1 is calibrated on the output of the binarized layer 0
    out0, _, _ = net._layer(0, x.astype(np.float64), None, None)
    np.testing.assert_allclose(net.activation_scales_[1]["x"], _plain_greedy_scales(out0, A), rtol=1e-10)
    # the fused kernel and the reference run the calibrated network identically
    ref = MultiLevelBinarizedLSTM(sd, A, 2, n_pwl_segments=16, engine="numpy")
    ref.activation_scales_ = net.activation_scales_
    np.testing.assert_array_equal(net.features(x), ref.features(x))
    m1 = MultiLevelBinarizedLSTM(sd, 2, 2, mode="mubinn1").calibrate(x)
    assert [sorted(d) for d in m1.activation_scales_] == [["x"], ["x"]]
    s = np.concatenate([d["x"] for d in m1.activation_scales_])
    assert np.all(np.frexp(s[s > 0])[0] == 0.5)  # power-of-two static scales (shifts)
    with pytest.raises(ValueError, match="b_lstm"):
        MultiLevelBinarizedLSTM(sd, 1, 1, mode="b_lstm").calibrate(x)


def test_mubinn2_needs_calibration(small_net):
    _, sd, x, _ = small_net
    net = MultiLevelBinarizedLSTM(sd, 2, 2)
    assert net.needs_calibration and not MultiLevelBinarizedLSTM(sd, 2, 2, mode="mubinn1").needs_calibration
    with pytest.raises(ValueError, match=r"static activation scales: call calibrate\(x\)"):
        net.features(x)
    assert not net.calibrate(x).needs_calibration


@pytest.mark.parametrize("A, W", [(1, 1), (3, 2), (5, 4)])
def test_fused_kernel_equals_numpy_reference(small_net, A, W):
    _, sd, x, _ = small_net
    fast = MultiLevelBinarizedLSTM(sd, A, W).calibrate(x)
    ref = MultiLevelBinarizedLSTM(sd, A, W, engine="numpy")
    ref.activation_scales_ = fast.activation_scales_
    rng = np.random.default_rng(A)
    h0, c0 = rng.normal(size=(2, 2, 4, 8))
    for args in ((x,), (x, h0, c0)):
        (o1, (h1, c1)), (o2, (h2, c2)) = ref.forward(*args), fast.forward(*args)
        np.testing.assert_array_equal(o2, o1)
        np.testing.assert_array_equal(c2, c1)
        np.testing.assert_array_equal(h2, h1)


@pytest.mark.parametrize("seed, A, W", [(26, 5, 4), (27, 3, 3), (65, 3, 3), (87, 5, 4)])
def test_fused_kernel_matches_numpy_reference_at_exact_ties(seed, A, W):
    """Power-of-two scales computed per vector at run time make the cell and hidden states exact
    dyadic numbers, so their residuals in Algorithm 1 reach exact zeros (ties, H(0) = 1) at every
    level. Both engines pass on sum_i alpha_i b_i, which depends only on the signs and scales, so
    they decide these ties alike (the reference used to pass on x - r, which carries the rounding
    of the gate products; these networks then differed by up to 0.06)."""
    from eegbin.nn import resolve_lstm_weights
    from eegbin.nn.lstm_cell import CellQuantization, SignalQuantizer, lstm_layer
    from eegbin.nn.mubinn import binarize_lstm_weights

    from ..quantize.test_mlb import _exact_algorithm_1

    torch.manual_seed(seed)
    params = binarize_lstm_weights(resolve_lstm_weights(_state_dict(_Net(5, 8, 3))), "mubinn2", W, "least_squares")
    x = torch.randn(4, 13, 5).numpy().astype(np.float64)
    offsets = {"i": 0.5, "f": 0.5, "o": 0.5}
    cell = CellQuantization(sigmoid=pwl_table("sigmoid"), tanh=pwl_table("tanh"),
                            **{n: SignalQuantizer(A, "power_of_two", offset=offsets.get(n, 0.0))
                               for n in ("x", "h", "i", "f", "g", "o", "c", "tanh_c")})
    ref = lstm_layer(x, params.layers[0], cell=cell, engine="numpy")
    fast = lstm_layer(x, params.layers[0], cell=cell, engine="numba")
    for a, b in zip(fast, ref):
        np.testing.assert_array_equal(a, b)
    # the ties are there: per level, some state row has an exactly zero residual
    seen = {}
    lstm_layer(x, params.layers[0], cell=cell, observe=lambda name, v: seen.setdefault(name, []).extend(v))
    tie_levels = {i for name in ("c", "h") for row in seen[name]
                  for i, tie in enumerate(_exact_algorithm_1(row, A, power_of_two=True)[3]) if tie}
    assert tie_levels == set(range(A))


@pytest.mark.parametrize("signals", [
    {"h": (2, "greedy")},
    {"h": (3, "power_of_two"), "f": (2, "greedy"), "c": (4, "power_of_two")},
    {"h": (2, [0.6, 0.2]), "i": (1, [0.25]), "g": (3, "greedy"), "o": (2, [0.25, 0.125]), "tanh_c": (2, "greedy")},
    {s: (3, [0.4, 0.2, 0.1]) for s in ("h", "i", "f", "g", "o", "c")},
])
def test_fused_recurrence_equals_reference_for_any_quantized_signals(signals):
    """The kernel takes per-signal levels, run-time or static scales and offsets: whatever
    the cell quantizes (the hooks of MuBiNN2 variants), it is the reference recurrence, bit for bit."""
    from eegbin.nn.lstm_cell import CellQuantization, SignalQuantizer, lstm_layer
    from eegbin.quantize import multilevel_binarize

    rng = np.random.default_rng(len(signals))
    D, H, B, T = 3, 70, 5, 9
    offsets = {"i": 0.5, "f": 0.5, "o": 0.5}
    quantizers = {
        name: SignalQuantizer(L, rule, None, offsets.get(name, 0.0)) if isinstance(rule, str)
        else SignalQuantizer(L, scales=np.array(rule), offset=offsets.get(name, 0.0))
        for name, (L, rule) in signals.items()
    }
    cell = CellQuantization(**quantizers, sigmoid=pwl_table("sigmoid", 16), tanh=pwl_table("tanh", 16))
    layer = (rng.normal(size=(4 * H, D)), multilevel_binarize(0.3 * rng.normal(size=(4 * H, H)), 2, "least_squares",
                                                              axis=1), rng.normal(size=4 * H))
    x, h0, c0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    ref = lstm_layer(x, layer, h0, c0, cell, engine="numpy")
    fast = lstm_layer(x, layer, h0, c0, cell, engine="numba")
    for a, b in zip(fast, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scaling", ["greedy", "power_of_two"])
def test_kernel_algorithm_1_equals_the_reference(scaling):
    """The fused kernel's Algorithm 1 gives the reference's sum_i alpha_i b_i bit for bit."""
    from eegbin.kernels.xnor_lstm import mlb_approximation_rows
    from eegbin.quantize import multilevel_binarize, reconstruct
    from eegbin.quantize.mlb import mlb_approximation

    x = np.random.default_rng(3).normal(size=(7, 50))
    for L in (1, 3, 5):
        ref = reconstruct(multilevel_binarize(x, L, scaling, axis=1))
        np.testing.assert_array_equal(mlb_approximation(x, L, scaling, axis=1), ref)
        pow2 = scaling == "power_of_two"
        np.testing.assert_array_equal(mlb_approximation_rows(x, 0.0, L, pow2, np.zeros(L), False), ref)
        given = np.array([0.9, 0.4, 0.2, 0.1, 0.05])[:L]
        np.testing.assert_array_equal(
            mlb_approximation_rows(x, 0.5, L, False, given, True), 0.5 + mlb_approximation(x - 0.5, L, scales=given))


def test_observe_sees_every_signal_quantized_or_not(small_net):
    from eegbin.nn.lstm_cell import CellQuantization, SignalQuantizer, lstm_layer

    _, sd, x, _ = small_net
    layer = LSTM(sd).params.layers[0]
    T = x.shape[1]
    for cell in (CellQuantization(), CellQuantization(f=SignalQuantizer(2, scales=np.array([0.2, 0.1]), offset=0.5))):
        seen = {}
        out, _, c = lstm_layer(x.astype(np.float64), layer, cell=cell,
                               observe=lambda name, v, seen=seen: seen.setdefault(name, []).append(v.copy()))
        assert {k: len(v) for k, v in seen.items()} == {"x": 1,
                                                         **{k: T for k in ("h", "i", "f", "g", "o", "c", "tanh_c")}}
        np.testing.assert_array_equal(seen["h"][-1], out[:, -2])  # h_{t-1}, before quantization
        assert np.all((seen["f"][0] > 0) & (seen["f"][0] < 1))  # raw sigmoid values: no offset subtracted
        np.testing.assert_array_equal(seen["tanh_c"][-1], np.tanh(c))


def test_sign_planes_are_algorithm_1():
    from eegbin.nn.lstm_cell import SignalQuantizer

    v = np.random.default_rng(0).uniform(size=(4, 70))
    q = SignalQuantizer(3, scales=np.array([0.25, 0.125, 0.0625]), offset=0.5)
    planes = q.sign_planes(v)
    r, expected = v - 0.5, []
    for a in q.scales:
        b = np.where(r >= 0, 1, -1)
        expected.append(b)
        r = r - a * b
    np.testing.assert_array_equal(planes, expected)
    np.testing.assert_array_equal(0.5 + np.einsum("l,lij->ij", q.scales, planes.astype(float)), q.approximate(v))


def test_binarized_products_use_the_codes(small_net):
    """The gate input products equal the float product of the reconstructed encodings."""
    from eegbin.quantize import multilevel_binarize, reconstruct

    _, sd, x, _ = small_net
    m = MultiLevelBinarizedLSTM(sd, 2, 3, mode="mubinn1")
    w_ih = reconstruct(m.binarized_weights.layers[0].w_ih)
    np.testing.assert_allclose(w_ih, reconstruct(multilevel_binarize(m.params.layers[0][0], 3, "power_of_two", 1)))
    scales = m.binarized_weights.layers[0].w_ih.scales
    assert np.all(np.frexp(scales[scales > 0])[0] == 0.5)
    # b_lstm: plain signs, no scale
    b = MultiLevelBinarizedLSTM(sd, 1, 1, mode="b_lstm")
    np.testing.assert_array_equal(reconstruct(b.binarized_weights.layers[0].w_ih),
                                  np.where(m.params.layers[0][0] >= 0, 1.0, -1.0))


def test_binarized_footprint(small_net):
    _, sd, x, _ = small_net
    D, H, A, W = 5, 8, 3, 2
    m = MultiLevelBinarizedLSTM(sd, A, W, mode="mubinn2").calibrate(x)
    fp = m.footprint(float_bits=32, n_times=1)
    layer0 = fp.parts[0]
    assert layer0.bit_ops == A * W * 4 * H * (D + H) + 2 * A * A * H  # eq. 1-4 and the two products of eq. 5
    planes = {p.name: p for p in layer0.parts}
    assert planes["W_x planes"].memory_bits == W * 4 * H * D
    assert planes["bias planes"].memory_bits == W * 4 * H
    assert planes["weight scales"].n_params == 3 * W  # one set per tensor: W_x, W_h, b
    assert planes["activation scales"].n_params == 7 * A
    assert fp.memory_bits < LSTM(sd).footprint().memory_bits
    fp1 = MultiLevelBinarizedLSTM(sd, A, W, mode="mubinn1").footprint()
    assert fp1.parts[0].bit_ops == A * W * 4 * H * D


def test_binarized_bad_arguments(small_net):
    _, sd, _, _ = small_net
    with pytest.raises(ValueError, match="activation_levels must be >= 1, got 0"):
        MultiLevelBinarizedLSTM(sd, 0, 2)
    with pytest.raises(TypeError, match="weight_levels must be an integer"):
        MultiLevelBinarizedLSTM(sd, 2, 2.5)
    with pytest.raises(ValueError, match="mode must be one of"):
        MultiLevelBinarizedLSTM(sd, mode="ternary")
    with pytest.raises(ValueError, match="b_lstm.*must be 1"):
        MultiLevelBinarizedLSTM(sd, 2, 1, mode="b_lstm")
    with pytest.raises(ValueError, match="activation_scaling"):
        MultiLevelBinarizedLSTM(sd, activation_scaling="least_squares")
    with pytest.raises(ValueError, match="engine must be"):
        MultiLevelBinarizedLSTM(sd, engine="cuda")


# ---------------------------------------------------------------------------
# trained network: the (A, W) grid (Fig. 5 / Table I trend)
# ---------------------------------------------------------------------------


def _oscillations(n, n_channels=6, n_times=40, seed=0):
    """Epochs (n, channels, times): class k adds a sinusoid of its own frequency on its own channels."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    t = np.arange(n_times)
    X = rng.normal(size=(n, n_channels, n_times))
    for k, freq in enumerate((0.05, 0.12, 0.2)):
        idx = np.flatnonzero(y == k)
        phase = rng.uniform(0, 2 * np.pi, (len(idx), 1, 1))
        X[idx, 2 * k : 2 * k + 2] += np.sin(2 * np.pi * freq * t + phase)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    Xtr, ytr = _oscillations(360, seed=0)
    Xte, yte = _oscillations(150, seed=1)
    net = _Net(6, 16, 3)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(Xtr.transpose(0, 2, 1).copy()), torch.from_numpy(ytr)
    for _ in range(25):
        for idx in torch.randperm(len(xt)).split(60):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[idx])[0], yt[idx]).backward()
            opt.step()
    return _state_dict(net), (Xtr, ytr), (Xte, yte)


def test_trained_grid_trends(trained):
    sd, (Xtr, _), (Xte, yte) = trained
    seq = Xte.transpose(0, 2, 1)
    p_float = LSTM(sd)(seq).argmax(1)
    acc_float = np.mean(p_float == yte)
    assert acc_float > 0.85

    cal = Xtr[:60].transpose(0, 2, 1)

    def agree(mode, A, W):
        net = MultiLevelBinarizedLSTM(sd, A, W, mode=mode)
        net = net.calibrate(cal) if mode == "mubinn2" else net  # static scales
        return np.mean(net(seq).argmax(1) == p_float)

    g2 = {(A, W): agree("mubinn2", A, W) for A, W in [(1, 1), (3, 3), (5, 5)]}
    assert g2[5, 5] > g2[1, 1]
    assert g2[5, 5] >= g2[3, 3] - 0.03
    assert g2[5, 5] >= 0.85
    g1 = {(A, W): agree("mubinn1", A, W) for A, W in [(1, 1), (3, 3)]}
    assert g1[3, 3] > g1[1, 1]
    assert g1[3, 3] >= 0.9
    assert agree("b_lstm", 1, 1) < g1[3, 3]  # scales matter (Fig. 4)


def test_classifier_refits_head(trained):
    sd, (Xtr, ytr), (Xte, yte) = trained
    clf = LSTMClassifier(sd).fit(Xtr, ytr)
    assert clf.score(Xte, yte) > 0.85
    assert clf.n_features_in_ == 6 and clf.transform(Xte).shape == (150, 16)
    np.testing.assert_allclose(clf.predict_proba(Xte).sum(1), 1.0)
    # the weight file's own head reproduces torch's predictions
    keep = LSTMClassifier(sd, refit_head=False).fit(Xtr, ytr)
    np.testing.assert_array_equal(keep.predict(Xte), LSTM(sd)(Xte.transpose(0, 2, 1)).argmax(1))
    # binary labels: softmax head equals the logistic regression
    mask = ytr < 2
    b = LSTMClassifier(MultiLevelBinarizedLSTM(sd, mode="mubinn1")).fit(Xtr[mask], ytr[mask] + 5)
    assert set(b.predict(Xte)) <= {5, 6}
    assert b.head_coef_.shape == (2, 16)
    net = MultiLevelBinarizedLSTM(sd, 4, 4)
    cal = LSTMClassifier(net).fit(Xtr, ytr)  # calibrate="auto": mubinn2 needs static scales
    assert cal.net_.activation_scales_ is not None and cal.score(Xte, yte) > 0.8
    assert net.needs_calibration and cal.net_ is not net  # a copy was calibrated, not the parameter
    np.testing.assert_array_equal(  # on the training epochs, as calibrate() on their sequences
        cal.transform(Xte), copy.deepcopy(net).calibrate(Xtr.transpose(0, 2, 1)).features(Xte.transpose(0, 2, 1)))
    with pytest.raises(ValueError, match=r"call calibrate\(x\)"):
        LSTMClassifier(net, calibrate=False).fit(Xtr, ytr)
    m1 = LSTMClassifier(MultiLevelBinarizedLSTM(sd, 2, 2, mode="mubinn1")).fit(Xtr, ytr)
    assert getattr(m1.net_, "activation_scales_", None) is None  # mubinn1: per-vector scales unless asked
    assert LSTMClassifier(MultiLevelBinarizedLSTM(sd, 2, 2, mode="mubinn1"), calibrate=True).fit(
        Xtr, ytr).net_.activation_scales_ is not None
    with pytest.raises(ValueError, match="calibrate=True needs a network with activation scales"):
        LSTMClassifier(sd, calibrate=True).fit(Xtr, ytr)
    fp = eegbin.footprint(LSTMClassifier(MultiLevelBinarizedLSTM(sd), decimate=2).fit(Xtr, ytr))
    assert fp.total_bit_ops == 20 * (3 * 3 * 64 * (6 + 16) + 2 * 9 * 16)


def test_classifier_sklearn_contract(trained):
    sd, (Xtr, ytr), _ = trained
    clf = LSTMClassifier(MultiLevelBinarizedLSTM(sd, 2, 2), decimate=2)
    cloned = clone(clf).get_params()["network"]
    assert cloned is not clf.network and cloned.activation_levels == 2
    np.testing.assert_array_equal(cloned.binarized_weights.layers[0].w_hh.planes,
                                  clf.network.binarized_weights.layers[0].w_hh.planes)
    fitted = clf.fit(Xtr[:90], ytr[:90])
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(Xtr[:20]), fitted.predict(Xtr[:20]))
    networks = [LSTM(sd), MultiLevelBinarizedLSTM(sd, mode="mubinn1")]
    gs = GridSearchCV(LSTMClassifier(sd, decimate=2), {"network": networks}, cv=StratifiedKFold(2)).fit(
        Xtr[:90], ytr[:90])
    assert type(gs.best_params_["network"]) in (LSTM, MultiLevelBinarizedLSTM)
    # 3-D input declared in the tags: sklearn's check_estimator skips the array checks
    assert clf.__sklearn_tags__().input_tags.three_d_array
    assert not clf.__sklearn_tags__().input_tags.two_d_array


def test_classifier_bad_input(trained):
    sd, (Xtr, ytr), _ = trained
    with pytest.raises(ValueError, match="3-D"):
        LSTMClassifier(sd).fit(Xtr[:, :, 0], ytr)
    with pytest.raises(ValueError, match="the LSTM weights expect 6"):
        LSTMClassifier(sd).fit(Xtr[:, :4], ytr)
    clf = LSTMClassifier(sd, decimate=4).fit(Xtr[:60], ytr[:60])
    with pytest.raises(ValueError, match="expecting 6 channels"):
        clf.predict(Xtr[:5, :5])
    bad = Xtr[:5].copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="network"):
        LSTMClassifier(["int8"]).fit(Xtr[:60], ytr[:60])
    with pytest.raises(ValueError, match="head has 3 outputs"):
        LSTMClassifier(sd, refit_head=False).fit(Xtr[:60], ytr[:60] % 2)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LSTMClassifier(sd).predict(Xtr[:2])


def test_classifier_mean_pooling(small_net):
    """pooling='mean' averages windows of ``decimate`` samples (avg_pool1d, remainder dropped)."""
    _, sd, _, _ = small_net
    rng = np.random.default_rng(5)
    D = 5
    X, y = rng.normal(size=(6, D, 23)), np.arange(6) % 2
    clf = LSTMClassifier(sd, decimate=4, pooling="mean", refit_head=True).fit(X, y)
    seq = X[:, :, :20].reshape(6, D, 5, 4).mean(3).transpose(0, 2, 1)
    np.testing.assert_allclose(clf.transform(X), LSTM(sd).features(seq), rtol=1e-12)
    assert clf.footprint().total_macs == LSTMClassifier(sd, decimate=4).fit(
        X[:, :, :20], y).footprint().total_macs  # 5 steps either way
    with pytest.raises(ValueError, match="pooling"):
        LSTMClassifier(sd, pooling="max").fit(X, y)

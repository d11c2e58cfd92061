"""LearnedMultiLevelLSTM: the exported MuBiNN2 network, torch-free.

Oracle: a plain-numpy dense forward of the same network (Algorithm 1 with the given
scales, reconstructed weights, float64 matmuls): format 3 (everything MuBiNN2
binarizes, float64 residuals, table activations) and formats 1-2 (x, h, W_x, W_h
only, float32 residuals). The torch round trip (train -> export -> load) is in
tests/train/test_export_roundtrip.py.
"""

import base64
import copy

import numpy as np
import pytest
from scipy.special import expit

from eegbin.kernels import pack_bits, unpack_bits
from eegbin.nn import LearnedMultiLevelLSTM

KEYS = ("lstm.weight_ih_l0", "lstm.weight_hh_l0")


def _planes32(x, scales):
    """Algorithm 1 with given scales, residual in float32: planes (L,) + x.shape of +-1."""
    r = np.asarray(x, dtype=np.float32)
    out = []
    for a in np.asarray(scales, dtype=np.float32):
        b = np.where(r >= 0, np.float32(1), np.float32(-1))
        out.append(b)
        r = r - a * b
    return np.array(out)


def _reconstruct(planes, scales):
    return np.einsum("l,l...->...", np.asarray(scales, np.float64), planes.astype(np.float64))


def _entry(m, scales):
    planes = _planes32(m, scales)
    L, rows, cols = planes.shape
    packed = pack_bits(planes.reshape(L * rows, cols), kind="bipolar").astype("<u8")
    return {"levels": L, "granularity": "tensor", "scales": [float(np.float32(s)) for s in scales],
            "shape": [rows, cols], "packed": base64.b64encode(packed.tobytes()).decode("ascii")}


def _model(D=3, H=5, C=2, A=2, W=2, seed=0):
    rng = np.random.default_rng(seed)
    w = {"lstm.weight_ih_l0": rng.normal(size=(4 * H, D)).astype(np.float32),
         "lstm.weight_hh_l0": rng.normal(size=(4 * H, H)).astype(np.float32),
         "lstm.bias_ih_l0": rng.normal(size=4 * H).astype(np.float32),
         "lstm.bias_hh_l0": rng.normal(size=4 * H).astype(np.float32),
         "head.weight": rng.normal(size=(C, H)).astype(np.float32),
         "head.bias": rng.normal(size=C).astype(np.float32)}
    ws = {k: np.float32(np.abs(w[k]).mean()) * 0.5 ** np.arange(W) for k in KEYS}
    acts = {"input": 0.8 * 0.6 ** np.arange(A), "hidden": 0.3 * 0.5 ** np.arange(A)}
    q = {"format": 2, "method": "mubinn2", "input_scale": 1.0,
         "weights": {k: _entry(w[k], ws[k]) for k in KEYS},
         "activations": {s: {"levels": A, "granularity": "tensor",
                             "scales": [float(np.float32(v)) for v in acts[s]]} for s in acts}}
    return w, q


def _dense_forward(w, q, x):
    """Numpy oracle of LSTMNet(quantize='mubinn2') in eval mode, float64 products."""
    Wq = {k: _reconstruct(_planes32(w[k], q["weights"][k]["scales"]), q["weights"][k]["scales"])
          for k in KEYS}
    sx, sh = (q["activations"][s]["scales"] for s in ("input", "hidden"))
    b = w["lstm.bias_ih_l0"].astype(np.float64) + w["lstm.bias_hh_l0"]
    B, T, _ = x.shape
    H = Wq["lstm.weight_hh_l0"].shape[1]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    xq = _reconstruct(_planes32(x, sx), sx)
    for t in range(T):
        hq = _reconstruct(_planes32(h, sh), sh)
        z = xq[:, t] @ Wq["lstm.weight_ih_l0"].T + hq @ Wq["lstm.weight_hh_l0"].T + b
        i, f, g, o = expit(z[:, :H]), expit(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), expit(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return h @ w["head.weight"].T.astype(np.float64) + w["head.bias"]


@pytest.mark.parametrize("D, H, A, W", [(3, 5, 1, 1), (4, 8, 2, 2), (3, 70, 3, 3), (65, 6, 2, 3)])
def test_forward_equals_dense_oracle(D, H, A, W):
    w, q = _model(D=D, H=H, A=A, W=W)
    net = LearnedMultiLevelLSTM(w, q)
    x = np.random.default_rng(1).normal(size=(6, 9, D)).astype(np.float32)
    ref = _dense_forward(w, q, x)
    np.testing.assert_allclose(net.logits(x), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert (net.activation_levels, net.weight_levels) == (A, W)
    # the weight codes are the exported planes, untouched
    for key, name in zip(KEYS, ("w_ih", "w_hh")):
        code = getattr(net.binarized_weights.layers[0], name)
        bits = unpack_bits(code.planes.reshape(W * code.n_rows, -1), code.n_bits, kind="bipolar")
        np.testing.assert_array_equal(bits.reshape(W, *w[key].shape), _planes32(w[key], q["weights"][key]["scales"]))


def test_codes_come_from_the_file_not_from_the_latent_weights():
    w, q = _model(A=1, W=1)
    x = np.random.default_rng(2).normal(size=(3, 4, 3)).astype(np.float32)
    before = LearnedMultiLevelLSTM(w, q).logits(x)
    w2 = dict(w, **{"lstm.weight_hh_l0": -w["lstm.weight_hh_l0"]})  # latent weights are not used
    np.testing.assert_array_equal(LearnedMultiLevelLSTM(w2, q).logits(x), before)


def test_footprint_counts_planes_and_scales():
    w, q = _model(D=3, H=5, A=2, W=3)
    fp = LearnedMultiLevelLSTM(w, q).footprint(n_times=10)
    assert fp.total_bit_ops == 10 * 2 * 3 * 20 * (3 + 5)
    # planes at 1 bit, scales (2 W + 2 A), bias and head at 32 bits
    assert fp.total_params == 3 * 20 * 8 + 2 * 3 + 2 * 2 + 20 + 2 * 5 + 2


def _set(q, path, value):
    q = copy.deepcopy(q)
    node = q
    for k in path[:-1]:
        node = node[k]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return q


@pytest.mark.parametrize("path, value, match", [
    (("weights", "lstm.weight_hh_l0", "scales"), KeyError, r"\['weights'\]\['lstm.weight_hh_l0'\] has no 'scales'"),
    (("weights", "lstm.weight_ih_l0", "scales"), [0.5], r"has 1 scales, expected one per level \(2\)"),
    (("weights", "lstm.weight_ih_l0", "scales"), [0.5, float("nan")], "finite"),
    (("weights", "lstm.weight_ih_l0", "scales"), "0.5", "list of numbers"),
    (("weights", "lstm.weight_ih_l0", "granularity"), "row", "granularity"),
    (("weights", "lstm.weight_ih_l0", "shape"), [20, 4], r"shape.*\[20, 3\]"),
    (("weights", "lstm.weight_ih_l0", "packed"), "AAAA", "bytes, expected"),
    (("weights", "lstm.weight_ih_l0", "packed"), "not base64!", "base64"),
    (("weights", "lstm.weight_hh_l0"), KeyError, r"\['weights'\] has no 'lstm.weight_hh_l0'"),
    (("activations", "hidden"), KeyError, r"\['activations'\] has no 'hidden'"),
    (("activations", "input", "scales"), [1.0], r"\['activations'\]\['input'\]\['scales'\] has 1 scales"),
    (("activations", "input", "levels"), 0, "levels"),
    (("input_scale",), -1.0, "input_scale"),
    (("format",), 4, "format"),
    (("method",), "mubinn1", "method"),
])
def test_bad_quantization_metadata_names_the_entry(path, value, match):
    w, q = _model()
    with pytest.raises(ValueError, match=match):
        LearnedMultiLevelLSTM(w, _set(q, path, value))


def test_nonzero_padding_bits_are_rejected():
    w, q = _model()
    e = q["weights"]["lstm.weight_ih_l0"]
    raw = np.frombuffer(base64.b64decode(e["packed"]), dtype="<u8").copy()
    raw[0] |= np.uint64(1) << np.uint64(40)  # bit 40 of a 3-column row
    q = _set(q, ("weights", "lstm.weight_ih_l0", "packed"), base64.b64encode(raw.tobytes()).decode())
    with pytest.raises(ValueError, match="padding bits"):
        LearnedMultiLevelLSTM(w, q)


def test_format_1_scale_lists_disagreeing_with_format_2_are_rejected():
    w, q = _model()
    q["q_w_hh"] = list(q["weights"]["lstm.weight_hh_l0"]["scales"])
    LearnedMultiLevelLSTM(w, q)  # agreeing copies are fine
    q["q_w_hh"][1] *= 2
    with pytest.raises(ValueError, match=r"quantization\['q_w_hh'\].*disagrees.*altered"):
        LearnedMultiLevelLSTM(w, q)


def test_bad_weights_and_arguments():
    w, q = _model()
    with pytest.raises(TypeError, match="quantization must be a dict"):
        LearnedMultiLevelLSTM(w, None)
    renamed = {k.replace("lstm.", "rnn."): v for k, v in w.items()}
    with pytest.raises(ValueError, match="named"):
        LearnedMultiLevelLSTM(renamed, q)


def test_writer_and_reader_are_one_format():
    """lstm_quantization_metadata (what eegbin.train.export writes, format 3) reads back as
    written, and its weight entries are the format-2 entries (plus the bias) described in
    eegbin.nn.export_format."""
    from eegbin.nn.export_format import MUBINN2_ACTIVATIONS, lstm_quantization_metadata, read_lstm_quantization

    w, q2 = _model(D=4, H=70, A=3, W=2)  # 70 columns: two words per row, padding bits
    planes = {k: _planes32(w[k], q2["weights"][k]["scales"]) for k in KEYS}
    planes["lstm.bias_l0"] = np.where(w["lstm.bias_ih_l0"] >= 0, 1.0, -1.0)[None].repeat(2, 0)
    scales = {k: q2["weights"][k]["scales"] for k in KEYS} | {"lstm.bias_l0": [0.5, 0.25]}
    acts = {s: [0.3, 0.2, 0.1] for s in MUBINN2_ACTIVATIONS}
    written = lstm_quantization_metadata(planes, scales, acts, {s: GATES.get(s, 0.0) for s in acts}, 1.0, 8)
    for k in KEYS:
        assert {f: written["weights"][k][f] for f in q2["weights"][k]} == q2["weights"][k]
    assert not any(k.startswith("q_") for k in written)  # no format-1 keys: they would misdescribe it
    r = read_lstm_quantization(written, {k: w[k].shape for k in KEYS})
    assert (r.input_scale, r.format, r.dtype) == (1.0, 3, np.float64)
    for k in planes:
        code = r.weights[k]
        bits = unpack_bits(code.planes.reshape(-1, code.planes.shape[2]), code.n_bits, kind="bipolar")
        np.testing.assert_array_equal(bits.reshape(planes[k].shape), planes[k])
        np.testing.assert_array_equal(code.scales, scales[k])
    assert r.offsets == {"x": 0.0, "h": 0.0, "i": 0.5, "f": 0.5, "g": 0.0, "o": 0.5, "c": 0.0}
    np.testing.assert_array_equal(r.tables[1][0], np.linspace(-4, 4, 9))
    with pytest.raises(ValueError, match="sign planes"):
        lstm_quantization_metadata(dict(planes, **{KEYS[0]: 0.5 * planes[KEYS[0]]}), scales, acts,
                                   {s: 0.0 for s in acts}, 1.0)
    with pytest.raises(ValueError, match="3 scales for 2 planes"):
        lstm_quantization_metadata(planes, dict(scales, **{KEYS[1]: [1.0, 0.5, 0.2]}), acts,
                                   {s: 0.0 for s in acts}, 1.0)
# ---------------------------------------------------------------------------
# format 3: MuBiNN2 as Section IV-C defines it
# ---------------------------------------------------------------------------

GATES = {"input_gate": 0.5, "forget_gate": 0.5, "output_gate": 0.5}


def _planes64(x, scales, offset=0.0):
    """Algorithm 1 with given scales, float64 residuals: planes (L,) + x.shape of +-1."""
    r = np.asarray(x, dtype=np.float64) - offset
    out = []
    for a in scales:
        b = np.where(r >= 0, 1.0, -1.0)
        out.append(b)
        r = r - a * b
    return np.array(out)


def _model3(D=3, H=5, C=2, A=2, W=2, segments=16, seed=0):
    from eegbin.nn.export_format import MUBINN2_ACTIVATIONS, lstm_quantization_metadata

    rng = np.random.default_rng(seed)
    w, _ = _model(D=D, H=H, C=C, A=A, W=W, seed=seed)
    latent = {"lstm.weight_ih_l0": w["lstm.weight_ih_l0"].astype(np.float64),
              "lstm.weight_hh_l0": w["lstm.weight_hh_l0"].astype(np.float64),
              "lstm.bias_l0": w["lstm.bias_ih_l0"] + w["lstm.bias_hh_l0"].astype(np.float64)}
    ws = {k: [float(np.float32(v)) for v in np.abs(m).mean() * 0.5 ** np.arange(W)] for k, m in latent.items()}
    planes = {k: _planes64(m, ws[k]) for k, m in latent.items()}
    acts = {s: [float(np.float32(v)) for v in rng.uniform(0.1, 0.5) * 0.5 ** np.arange(A)] for s in MUBINN2_ACTIVATIONS}
    offsets = {s: GATES.get(s, 0.0) for s in MUBINN2_ACTIVATIONS}
    q = lstm_quantization_metadata(planes, ws, acts, offsets, input_scale=1.0, pwl_segments=segments)
    return w, q, latent


def _dense_forward3(w, q, latent, x):
    """Numpy oracle of LSTMNet(quantize='mubinn2') in eval mode (format 3)."""
    from eegbin.nn import pwl_table

    def mlb(v, entry):
        return entry["offset"] + np.einsum("l,l...->...", entry["scales"], _planes64(v, entry["scales"],
                                                                                    entry["offset"]))

    Wq = {k: np.einsum("l,l...->...", q["weights"][k]["scales"], _planes64(m, q["weights"][k]["scales"]))
          for k, m in latent.items()}
    a = q["activations"]
    n = q["activation_functions"]["segments"]
    sig, tanh = pwl_table("sigmoid", n), pwl_table("tanh", n)
    B, T, _ = x.shape
    H = Wq["lstm.weight_hh_l0"].shape[1]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    xq = mlb(x, a["input"])
    for t in range(T):
        z = xq[:, t] @ Wq["lstm.weight_ih_l0"].T + mlb(h, a["hidden"]) @ Wq["lstm.weight_hh_l0"].T + Wq["lstm.bias_l0"]
        i = mlb(np.interp(z[:, :H], *sig), a["input_gate"])
        f = mlb(np.interp(z[:, H:2 * H], *sig), a["forget_gate"])
        g = mlb(np.interp(z[:, 2 * H:3 * H], *tanh), a["cell_gate"])
        o = mlb(np.interp(z[:, 3 * H:], *sig), a["output_gate"])
        c = f * mlb(c, a["cell_state"]) + i * g
        h = o * np.interp(c, *tanh)
    return h @ w["head.weight"].T.astype(np.float64) + w["head.bias"]


@pytest.mark.parametrize("D, H, A, W", [(3, 5, 1, 1), (4, 8, 2, 3), (3, 70, 3, 2), (65, 6, 2, 2)])
def test_format_3_forward_equals_dense_oracle(D, H, A, W):
    w, q, latent = _model3(D=D, H=H, A=A, W=W)
    x = np.random.default_rng(1).normal(size=(6, 9, D)).astype(np.float32)
    ref = _dense_forward3(w, q, latent, x)
    for engine in ("numba", "numpy"):
        net = LearnedMultiLevelLSTM(w, q, engine=engine)
        np.testing.assert_allclose(net.logits(x), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert (net.format, net.activation_levels, net.weight_levels) == (3, A, W)
    assert sorted(net.activation_scales) == ["c", "f", "g", "h", "i", "o", "x"]
    # the weight codes, the bias's included, are the exported planes
    layer = net.binarized_weights.layers[0]
    for key, code in zip(latent, layer):
        bits = unpack_bits(code.planes.reshape(W * code.n_rows, -1), code.n_bits, kind="bipolar")
        np.testing.assert_array_equal(bits.reshape((W,) + latent[key].shape), _planes64(latent[key], code.scales))
    # the engines compute the same numbers
    np.testing.assert_array_equal(LearnedMultiLevelLSTM(w, q).logits(x),
                                  LearnedMultiLevelLSTM(w, q, engine="numpy").logits(x))


def test_format_3_codes_come_from_the_file():
    w, q, latent = _model3(A=1, W=1)
    x = np.random.default_rng(2).normal(size=(3, 4, 3)).astype(np.float32)
    before = LearnedMultiLevelLSTM(w, q).logits(x)
    w2 = dict(w, **{k: -w[k] for k in ("lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0")})
    np.testing.assert_array_equal(LearnedMultiLevelLSTM(w2, q).logits(x), before)


def test_format_3_footprint():
    from eegbin.nn.mubinn import mubinn2_layer_footprint

    w, q, _ = _model3(D=3, H=5, A=2, W=3, segments=16)
    fp = LearnedMultiLevelLSTM(w, q).footprint(n_times=10)
    layer = mubinn2_layer_footprint("l", 2, 3, 3, 5, 16, n_times=10)
    assert fp.total_bit_ops == layer.bit_ops == 10 * (2 * 3 * 20 * (3 + 5) + 2 * 2 * 2 * 5)
    # planes of W_x, W_h and b at 1 bit; 3 W weight scales, 7 A activation scales, 2 tables; head
    assert fp.total_params == 3 * 20 * (3 + 5 + 1) + 3 * 3 + 7 * 2 + 4 * 17 + 2 * 5 + 2


@pytest.mark.parametrize("path, value, match", [
    (("weights", "lstm.bias_l0"), KeyError, r"\['weights'\] has no 'lstm.bias_l0'"),
    (("weights", "lstm.bias_l0", "shape"), [21], r"\['lstm.bias_l0'\]\['shape'\] is \[21\].*\[20\]"),
    (("activations", "forget_gate"), KeyError, r"\['activations'\] has no 'forget_gate'"),
    (("activations", "cell_state", "offset"), "0.5", r"\['cell_state'\]\['offset'\] must be a finite number"),
    (("activations", "output_gate", "scales"), [0.1], r"\['output_gate'\]\['scales'\] has 1 scales"),
    (("activation_functions",), KeyError, "has no 'activation_functions'"),
    (("activation_functions", "kind"), "exact", "piecewise_linear"),
    (("activation_functions", "segments"), 0, "segments"),
    (("activation_functions", "tanh_bound"), -4.0, "bounds must be positive"),
    (("precision",), "float32", "precision"),
])
def test_format_3_bad_metadata_names_the_entry(path, value, match):
    w, q, _ = _model3()
    with pytest.raises(ValueError, match=match):
        LearnedMultiLevelLSTM(w, _set(q, path, value))


def test_format_3_levels_must_agree():
    w, q, _ = _model3(A=2, W=2)
    e = q["activations"]["cell_gate"]
    with pytest.raises(ValueError, match="same number of levels"):
        LearnedMultiLevelLSTM(w, _set(q, ("activations", "cell_gate"), dict(e, levels=1, scales=e["scales"][:1])))


def test_format_1_recomputes_the_planes_from_the_latent_weights():
    """Format 1 has only the scale lists and the input scale folded into W_x."""
    w, q = _model(A=2, W=2)
    fold = 4.0
    legacy = {"q_input": q["activations"]["input"]["scales"], "q_hidden": q["activations"]["hidden"]["scales"],
              "q_w_ih": q["weights"]["lstm.weight_ih_l0"]["scales"],
              "q_w_hh": q["weights"]["lstm.weight_hh_l0"]["scales"],
              "input_scale_folded": fold}
    w1 = dict(w, **{"lstm.weight_ih_l0": w["lstm.weight_ih_l0"] / np.float32(fold)})
    with pytest.warns(UserWarning, match="format 1"):
        net = LearnedMultiLevelLSTM(w1, legacy)
    assert (net.format, net.input_scale) == (1, fold)
    x = np.random.default_rng(4).normal(size=(3, 6, 3)).astype(np.float32)
    # W_h codes recomputed exactly; W_x after unfolding (float32), here without a flipped sign
    np.testing.assert_array_equal(net.binarized_weights.layers[0].w_hh.planes,
                                  LearnedMultiLevelLSTM(w, q).binarized_weights.layers[0].w_hh.planes)
    np.testing.assert_allclose(net.logits(x), _dense_forward(w, q, x), rtol=1e-12)


def test_read_export_metadata_rejects_unknown_formats(tmp_path):
    import json

    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from eegbin.nn import read_export_metadata

    w, q = _model()
    path = tmp_path / "m.safetensors"
    for fmt, ok in ((2, True), (4, False), ("2", False)):
        meta = {"model": "LSTMNet", "hparams": {"quantize": "mubinn2"}, "quantization": dict(q, format=fmt)}
        safetensors_numpy.save_file(w, str(path), metadata={"eegbin": json.dumps(meta)})
        if ok:
            assert read_export_metadata(path)["quantization"]["format"] == 2
            assert LearnedMultiLevelLSTM.from_export(path).format == 2
        else:
            for reader in (read_export_metadata, LearnedMultiLevelLSTM.from_export):
                with pytest.raises(ValueError, match=r"\['format'\] is .*this eegbin reads formats 1, 2 and 3"):
                    reader(path)
    meta = {"model": "LSTMNet", "quantization": [1, 2]}
    safetensors_numpy.save_file(w, str(path), metadata={"eegbin": json.dumps(meta)})
    with pytest.raises(ValueError, match="quantization must be a JSON object"):
        read_export_metadata(path)

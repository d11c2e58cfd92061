"""Train -> export -> torch-free eegbin.nn inference gives identical predictions."""

import json

import numpy as np
import pytest
from sklearn.base import clone

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from eegbin import footprint  # noqa: E402
from eegbin.nn import EEGNet as NumpyEEGNet  # noqa: E402
from eegbin.nn import load_weights  # noqa: E402
from eegbin.quantize import multilevel_binarize, reconstruct  # noqa: E402
from eegbin.train import MultiLevelBinarize, TorchEEGClassifier, export, read_export_metadata  # noqa: E402

from .test_models import _two_class_epochs  # noqa: E402


@pytest.fixture(scope="module")
def epochs():
    return _two_class_epochs(n=24, n_chans=4, n_times=128)


@pytest.mark.parametrize("params", [
    {},
    {"binarize": "ste"},
    {"binarize": "biper", "omega": 2.0},
    {"pool1": 8, "pool2": 8},
])
def test_eegnet_roundtrip_identical_predictions(tmp_path, epochs, params):
    X, y = epochs
    clf = TorchEEGClassifier("eegnet", model_params=params, max_epochs=3, batch_size=12,
                             lr=1e-2, random_state=0).fit(X, y)
    st, pt = export(clf, tmp_path / "eegnet.safetensors")
    meta = read_export_metadata(st)
    assert meta["model"] == "EEGNet" and meta["classes"] == [0, 1]
    if params.get("binarize"):
        assert set(meta["quantization"]) == {
            "conv_separable_depth", "conv_separable_point", "final_layer.conv_classifier"}
    ref = clf.decision_function(X)
    for path in (st, pt):
        w = load_weights(path)
        net = NumpyEEGNet(w, n_chans=4, n_times=128, pool1_kernel_size=params.get("pool1", 4),
                          pool2_kernel_size=params.get("pool2", 8))
        logits = net.forward(X)  # raw epochs in volts: the input scale is folded in
        np.testing.assert_allclose(logits, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
        np.testing.assert_array_equal(clf.classes_[logits.argmax(1)], clf.predict(X))


def test_multilevel_binarize_codes_are_what_forward_scales():
    x = torch.randn(300, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
    for L in (1, 2, 3):
        q = MultiLevelBinarize(L, init_scales=[0.8, 0.3, 0.1][:L])
        b = q.codes(x)
        assert b.shape == (L, 300) and set(b.unique().tolist()) <= {-1.0, 1.0}
        out = torch.zeros_like(x)
        for i in range(L):  # accumulated in level order, as forward does
            out = out + q.scales[i].detach() * b[i]
        assert torch.equal(q(x).detach(), out)
    with pytest.raises(ValueError, match="not initialized"):
        MultiLevelBinarize(2).codes(x)


def test_multilevel_binarize_forward_equals_numpy_greedy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(257)
    for L in (1, 2, 3, 5):
        q = MultiLevelBinarize(L).double()
        out = q(torch.tensor(x)).detach().numpy()
        code = multilevel_binarize(x, n_levels=L, scaling="greedy")
        np.testing.assert_allclose(out, reconstruct(code), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(q.scales.detach().numpy(), np.ravel(code.scales), rtol=1e-12)


def test_export_rejects_unknown_models_and_paths(tmp_path):
    from eegbin.train import EEGNet

    with pytest.raises(TypeError, match="export"):
        export(torch.nn.Linear(2, 2), tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="safetensors"):
        export(EEGNet(4, 2, 128), tmp_path / "x.pt")


@pytest.mark.parametrize("omega", [0.5, 2.0, 20.0])
def test_biper_forward_equals_periodic_binarizer(omega):
    from eegbin.quantize import PeriodicBinarizer, square_wave
    from eegbin.train import biper_sign, biper_weight

    W = np.random.default_rng(1).laplace(0, 0.3, size=(64, 16))
    wt = torch.tensor(W)
    np.testing.assert_array_equal(biper_sign(wt, omega).numpy(), square_wave(W, omega))
    deployed = PeriodicBinarizer(omega=omega).fit(W).transform(W)
    np.testing.assert_allclose(biper_weight(wt, omega, stage=2).numpy(), deployed, rtol=1e-12)


@pytest.mark.parametrize("downsample", [1, 3])
def test_lstm_roundtrip_identical_predictions(tmp_path, epochs, downsample):
    from eegbin import LSTMClassifier
    from eegbin.nn import LSTM

    X, y = epochs
    X = X[:, :, :61]  # 61 samples: downsample=3 drops the trailing sample, as avg_pool1d
    clf = TorchEEGClassifier("lstm", model_params={"hidden_size": 8, "downsample": downsample},
                             max_epochs=3, batch_size=12, lr=1e-2, random_state=0).fit(X, y)
    st, pt = export(clf, tmp_path / "lstm.safetensors")
    meta = read_export_metadata(st)
    assert meta["model"] == "LSTMNet" and meta["hparams"]["downsample"] == downsample
    ref = clf.decision_function(X)
    for path in (st, pt):
        w = load_weights(path)
        assert sorted(w) == ["head.bias", "head.weight", "lstm.bias_hh_l0", "lstm.bias_ih_l0",
                             "lstm.weight_hh_l0", "lstm.weight_ih_l0"]
        free = LSTMClassifier(w, decimate=downsample, pooling="mean", refit_head=False).fit(X, y)
        np.testing.assert_allclose(free.decision_function(X), ref, rtol=1e-4,
                                   atol=1e-4 * np.abs(ref).max())
        np.testing.assert_array_equal(free.predict(X), clf.predict(X))
        # the bare network on the pooled sequences gives the same logits
        n = X.shape[2] // downsample * downsample
        seq = X[:, :, :n].reshape(len(X), X.shape[1], -1, downsample).mean(3).transpose(0, 2, 1)
        np.testing.assert_allclose(LSTM(w).logits(seq), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_quantized_lstm_export_keeps_scales_in_metadata(tmp_path, epochs):
    from eegbin import LSTMClassifier
    from eegbin.nn import MultiLevelBinarizedLSTM

    X, y = epochs
    params = {"hidden_size": 8, "downsample": 4, "quantize": "mubinn2",
              "activation_levels": 2, "weight_levels": 3}
    clf = TorchEEGClassifier("lstm", model_params=params, max_epochs=1, batch_size=12,
                             random_state=0).fit(X, y)
    st, _ = export(clf, tmp_path / "mubinn.safetensors")
    q = read_export_metadata(st)["quantization"]
    assert q["format"] == 3 and q["method"] == "mubinn2" and q["input_scale"] == clf.scale_
    assert not any(k.startswith("q_") for k in q)  # no format-1 keys
    assert set(q["weights"]) == {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_l0"}
    assert {k: e["levels"] for k, e in q["weights"].items()} == dict.fromkeys(q["weights"], 3)
    assert set(q["activations"]) == {"input", "hidden", "input_gate", "forget_gate", "cell_gate",
                                     "output_gate", "cell_state"}
    m = clf.module_
    for e in q["activations"].values():
        quantizer = getattr(m, e["quantizer"])
        assert e["levels"] == 2 and e["scales"] == quantizer.scales.tolist() and e["offset"] == quantizer.offset
    assert q["activation_functions"] == {"kind": "piecewise_linear", "segments": 32, "sigmoid_bound": 8.0,
                                         "tanh_bound": 4.0}
    # the tensors are still those of a float LSTM: post-training binarization loads them
    w = load_weights(st)
    assert not any(k.startswith("q_") for k in w)
    free = LSTMClassifier(MultiLevelBinarizedLSTM(w, 2, 2), decimate=4, pooling="mean",
                          refit_head=False).fit(X, y)
    assert free.decision_function(X).shape == (len(X), 2)


def _train_mubinn2(X, y, A, W=None, downsample=4, epochs=2, **extra):
    params = {"hidden_size": 8, "downsample": downsample, "quantize": "mubinn2",
              "activation_levels": A, "weight_levels": A if W is None else W, **extra}
    return TorchEEGClassifier("lstm", model_params=params, max_epochs=epochs, batch_size=12,
                              lr=1e-2, random_state=0).fit(X, y)


def _torch_planes(quantizer, x):
    return quantizer.codes(torch.as_tensor(x)).numpy()


def _signals_torch(clf, X):
    seen = {}
    with torch.no_grad():
        clf.module_.eval().features(clf._tensor(X),
                                    observe=lambda n, v: seen.setdefault(n, []).append(v.numpy().copy()))
    return seen


def _signals_free(free, X):
    seen = {}
    free.net_._layer(0, free._sequences(X).astype(np.float64), None, None,
                     observe=lambda n, v: seen.setdefault(n, []).append(np.array(v)))
    return seen


@pytest.mark.parametrize("A, W", [(1, 1), (2, 3), (3, 2)])
def test_mubinn2_roundtrip_identical_codes(tmp_path, epochs, A, W, monkeypatch):
    """Torch-free = torch: every binarized signal has the same values, hence the same sign
    planes, at every step; the weight codes are torch's; logits agree to float64 rounding."""
    from eegbin import LSTMClassifier
    from eegbin.kernels import unpack_bits
    from eegbin.nn import LearnedMultiLevelLSTM
    from eegbin.nn.export_format import MUBINN2_ACTIVATIONS

    X, y = epochs
    X = X[:, :, :126]  # 126 = 31 windows of 4 + 2 dropped samples, as avg_pool1d
    clf = _train_mubinn2(X, y, A, W)
    st, _ = export(clf, tmp_path / "mubinn2.safetensors")
    free = LSTMClassifier.from_export(st)
    assert isinstance(free.net_, LearnedMultiLevelLSTM) and free.net_.format == 3
    assert free.network is free.net_ and (free.decimate, free.pooling) == (4, "mean")
    assert (free.net_.activation_levels, free.net_.weight_levels) == (A, W)
    import eegbin.nn.lstm_cell as core

    ref, features, fused, kernel = clf.decision_function(X), {}, [], core.mubinn2_lstm_layer
    monkeypatch.setattr(core, "mubinn2_lstm_layer",
                        lambda *a, **k: fused.append(k.get("gx") is None) or kernel(*a, **k))
    for engine in ("numba", "numpy"):  # the fused XNOR-popcount kernel and the numpy reference
        free.net_.engine = engine
        features[engine] = free.transform(X)
        assert fused == [True] * (engine == "numba")  # x and h products in the kernel
        np.testing.assert_allclose(free.decision_function(X), ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())
        np.testing.assert_array_equal(free.predict(X), clf.predict(X))
        fused.clear()
    np.testing.assert_array_equal(features["numba"], features["numpy"])
    np.testing.assert_array_equal(free.classes_, clf.classes_)

    m, net = clf.module_, free.net_
    # the deployed weight codes, the bias's included, are torch's bit for bit, with the learned scales
    latent = m.latent_tensors()
    for code, key in zip(net.binarized_weights.layers[0], latent):
        quantizer = getattr(m, m.weight_quantizers[key])
        bits = unpack_bits(code.planes.reshape(W * code.n_rows, -1), code.n_bits, kind="bipolar")
        planes = _torch_planes(quantizer, latent[key].detach())
        np.testing.assert_array_equal(bits.reshape(planes.shape), planes)
        np.testing.assert_array_equal(code.scales, quantizer.scales.detach().numpy())
    # every signal of the cell: identical values at every step, and identical sign planes
    seen_t, seen_f = _signals_torch(clf, X), _signals_free(free, X)
    assert sorted(seen_t) == sorted(seen_f) == ["c", "f", "g", "h", "i", "o", "tanh_c", "x"]
    cell = net.cell_quantization(0)
    for signal, name in ((s, n) for s, n in MUBINN2_ACTIVATIONS.values()):
        quantizer = getattr(m, name)
        np.testing.assert_array_equal(net.activation_scales[signal], quantizer.scales.detach().numpy())
        assert len(seen_t[signal]) == len(seen_f[signal]) == (1 if signal == "x" else 31)
        for vt, vf in zip(seen_t[signal], seen_f[signal]):
            np.testing.assert_array_equal(vf, vt)
            v2 = vf.reshape(-1, vf.shape[-1])
            np.testing.assert_array_equal(getattr(cell, signal).sign_planes(v2),
                                          _torch_planes(quantizer, v2).astype(np.int8))
    for vt, vf in zip(seen_t["tanh_c"], seen_f["tanh_c"]):
        np.testing.assert_array_equal(vf, vt)
    # the same through the public accessors
    codes_t, codes_f = m.cell_codes(clf._tensor(X)), net.cell_codes(free._sequences(X))
    assert sorted(codes_t) == sorted(codes_f) == ["c", "f", "g", "h", "i", "o", "x"]
    for signal in codes_t:
        assert codes_t[signal].shape == codes_f[signal].shape
        assert codes_t[signal].shape[:2] == ((1, A) if signal == "x" else (31, A))
        np.testing.assert_array_equal(codes_f[signal], codes_t[signal])

    # batch-invariant (every trial is computed on its own)
    logits = free.decision_function(X)
    np.testing.assert_array_equal(free.decision_function(X[3:5]), logits[3:5])
    # a fitted, clonable scikit-learn classifier: refitting from the file changes nothing
    again = clone(free).fit(X, y)
    np.testing.assert_array_equal(again.decision_function(X), logits)
    assert footprint(free).total_bit_ops == 31 * (A * W * 32 * (4 + 8) + 2 * A * A * 8)


def test_mubinn2_train_and_eval_forward_compute_the_same_network(epochs):
    """Training mode multiplies the reconstructions (one product), eval mode sums eq. (9) as
    eegbin.nn does: the same numbers up to float64 rounding."""
    X, y = epochs
    clf = _train_mubinn2(X, y, 3, 2, epochs=1)
    xt = clf._tensor(X)
    with torch.no_grad():
        train_mode = clf.module_.train()(xt).numpy()
        eval_mode = clf.module_.eval()(xt).numpy()
    np.testing.assert_allclose(train_mode, eval_mode, rtol=1e-9, atol=1e-12)


def test_mubinn2_tolerance_would_catch_one_flipped_code(tmp_path, epochs):
    from eegbin import LSTMClassifier

    X, y = epochs
    clf = _train_mubinn2(X, y, 2)
    st, _ = export(clf, tmp_path / "m.safetensors")
    free = LSTMClassifier.from_export(st)
    ref = clf.decision_function(X)
    planes = free.net_.binarized_weights.layers[0].w_hh.planes
    planes[1, 0, 0] ^= np.uint64(1)  # one sign of the second (smallest) level
    assert np.abs(free.decision_function(X) - ref).max() > 1e6 * 1e-13 * np.abs(ref).max()


def test_mubinn2_warm_start_from_a_float_export(tmp_path, epochs):
    from eegbin.train import LSTMNet

    X, y = epochs
    fl = TorchEEGClassifier("lstm", model_params={"hidden_size": 8, "downsample": 4}, max_epochs=2,
                            batch_size=12, lr=1e-2, random_state=0).fit(X, y)
    st, _ = export(fl, tmp_path / "float.safetensors")
    net = LSTMNet(4, 2, hidden_size=8, downsample=4, quantize="mubinn2", init_from=st)
    for k, v in fl.module_.state_dict().items():  # the input scale is unfolded again (float32 rounding)
        np.testing.assert_allclose(net.state_dict()[k].numpy(), v.numpy(), rtol=1e-6)
    assert net.hparams["init_from"] == str(st)
    q = _train_mubinn2(X, y, 2, epochs=1, init_from=str(st))
    assert q.module_.hparams["init_from"] == str(st)
    with pytest.raises(ValueError, match=r"do not fit this LSTMNet.*lstm.weight_hh_l0"):
        LSTMNet(4, 2, hidden_size=6, quantize="mubinn2", init_from=st)
    eeg = TorchEEGClassifier("eegnet", max_epochs=1, batch_size=12).fit(X, y)
    est, _ = export(eeg, tmp_path / "eegnet.safetensors")
    with pytest.raises(ValueError, match="holds a 'EEGNet' export, not an LSTMNet"):
        LSTMNet(4, 2, hidden_size=8, init_from=est)


def _rewrite(src, dst, meta):
    from safetensors.numpy import load_file, save_file

    save_file(load_file(str(src)), str(dst), metadata={"eegbin": json.dumps(meta)})
    return dst


@pytest.fixture(scope="module")
def mubinn2_export(tmp_path_factory, epochs):
    X, y = epochs
    clf = _train_mubinn2(X, y, 2)
    st, _ = export(clf, tmp_path_factory.mktemp("mubinn2") / "m.safetensors")
    return clf, st


@pytest.mark.parametrize("edit, match", [
    (lambda q: q["weights"]["lstm.weight_hh_l0"].pop("scales"),
     r"quantization\['weights'\]\['lstm.weight_hh_l0'\] has no 'scales' entry"),
    (lambda q: q["activations"]["hidden"]["scales"].pop(),
     r"quantization\['activations'\]\['hidden'\]\['scales'\] has 1 scales, expected one per level \(2\)"),
    (lambda q: q["activations"]["forget_gate"].pop("offset"),
     r"quantization\['activations'\]\['forget_gate'\] has no 'offset' entry"),
    (lambda q: q["activations"]["input"]["scales"].__setitem__(1, float("inf")), "finite"),
    (lambda q: q["weights"]["lstm.bias_l0"].__setitem__("packed", "AAAA"), r"\['lstm.bias_l0'\]\['packed'\] holds"),
    (lambda q: q.pop("weights"), r"quantization has no 'weights' entry"),
])
def test_mubinn2_tampered_or_missing_scale_is_a_clear_error(tmp_path, mubinn2_export, edit, match):
    from eegbin import LSTMClassifier

    _, st = mubinn2_export
    meta = read_export_metadata(st)
    edit(meta["quantization"])
    bad = _rewrite(st, tmp_path / "bad.safetensors", meta)
    with pytest.raises(ValueError, match=match):
        LSTMClassifier.from_export(bad)


def test_learned_scales_bad_arguments(tmp_path, epochs, mubinn2_export):
    from eegbin import LSTMClassifier
    from eegbin.nn import LearnedMultiLevelLSTM

    X, y = epochs
    _, st = mubinn2_export
    with pytest.raises(ValueError, match="calibrate=True needs a network with activation scales"):
        LSTMClassifier(LearnedMultiLevelLSTM.from_export(st), calibrate=True).fit(X, y)
    eeg = TorchEEGClassifier("eegnet", max_epochs=1, batch_size=12).fit(X, y)
    est, _ = export(eeg, tmp_path / "eegnet.safetensors")
    with pytest.raises(ValueError, match="holds a 'EEGNet' export"):
        LSTMClassifier.from_export(est)
    with pytest.raises(ValueError, match="holds a 'EEGNet' export"):
        LearnedMultiLevelLSTM.from_export(est)


def test_float_lstm_from_export(tmp_path, epochs):
    from eegbin import LSTMClassifier
    from eegbin.nn import LSTM

    X, y = epochs
    clf = TorchEEGClassifier("lstm", model_params={"hidden_size": 8, "downsample": 4},
                             max_epochs=2, batch_size=12, lr=1e-2, random_state=0).fit(X, y)
    st, _ = export(clf, tmp_path / "lstm.safetensors")
    free = LSTMClassifier.from_export(st)
    assert type(free.network) is LSTM and (free.decimate, free.pooling, free.refit_head) == (4, "mean", False)
    ref = clf.decision_function(X)
    np.testing.assert_allclose(free.decision_function(X), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    np.testing.assert_array_equal(free.predict(X), clf.predict(X))


@pytest.mark.parametrize("projection", ["random", "learned"])
def test_mimann_roundtrip_identical_predictions(tmp_path, epochs, projection):
    from eegbin import BinaryKeyValueMemory

    X, y = epochs
    clf = TorchEEGClassifier("mimann", model_params={"projection": projection, "n_components": 64},
                             max_epochs=3, batch_size=8, n_shots=4, lr=1e-2,
                             random_state=0).fit(X, y)
    st, _ = export(clf, tmp_path / "mimann.safetensors")
    meta = read_export_metadata(st)
    assert meta["model"] == "MIMANN" and meta["n_components"] == 64 and meta["projection"] == projection
    w = load_weights(st)
    net = NumpyEEGNet({k: v for k, v in w.items() if not k.startswith(("projection", "memory"))},
                      n_chans=4, n_times=128)
    idx = clf.support_index_
    if projection == "random":  # stored as its seed and scale only, regenerated here
        assert "projection.weight" not in w and set(w) == set(clf.module_.controller.state_dict()) | {
            "memory.keys", "memory.values"}
        n_feat = clf.module_.n_feat
        assert meta["projection_scale"] == pytest.approx(np.sqrt(6 / (n_feat + 64)), rel=1e-15)
        mem = BinaryKeyValueMemory(projection="random", random_state=meta["seed"], n_components=64)
        trained = clf.module_.random_projection.numpy()
    else:
        mem = BinaryKeyValueMemory(projection=np.asarray(w["projection.weight"], dtype=np.float64),
                                   n_components=64)
        trained = clf.module_.projection.weight.detach().numpy()
    mem.fit(net.features(X[idx]), y[idx])
    # the matrix inference regenerates is the one torch trained with (x its scale)
    np.testing.assert_array_equal(
        (mem.projection_scale_ * mem.projection_).astype(np.float32), trained)
    # the exported keys are the bipolar codes of the support set
    from eegbin.kernels import pack_bits
    np.testing.assert_array_equal(mem.keys_, pack_bits(w["memory.keys"], kind="bipolar"))
    F = net.features(X)
    np.testing.assert_array_equal(mem.predict(F), clf.predict(X))
    np.testing.assert_allclose(mem.predict_proba(F), clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_softabs_matches_sharpen_attention():
    from eegbin.binary.memory import sharpen_attention
    from eegbin.train.models import softabs

    a = np.linspace(-1, 1, 101)
    for beta in (1.0, 10.0, 30.0):
        np.testing.assert_allclose(softabs(torch.tensor(a), beta).numpy(),
                                   sharpen_attention(a[None], "softabs", beta)[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activations, design", [
    ("binary", None),
    ("design", None),  # DeSign3D-S, the paper's T* along time
    ("design", {"variant": "complement"}),
])
def test_binary_feature_eegnet_runs_torch_free(tmp_path, epochs, activations, design):
    X, y = epochs
    params = {"binarize": "biper", "omega": 2.0, "activations": activations, "design": design}
    clf = TorchEEGClassifier("eegnet", model_params=params, max_epochs=4, batch_size=12,
                             lr=(1e-2, 1e-3), weight_decay=(5e-4, 5e-5), random_state=0).fit(X, y)
    st, _ = export(clf, tmp_path / "eegnet.safetensors")
    meta = read_export_metadata(st)
    bf = meta["binary_features"]
    assert bf["activations"] == activations
    separable, head = np.asarray(bf["separable"]), np.asarray(bf["head"])
    assert separable.shape[0] == head.shape[0] == 16
    if activations == "binary":
        assert not separable.any() and not head.any()
    else:
        np.testing.assert_array_equal(separable, clf.module_.act_1.kernel.numpy())
        assert len(np.unique(separable[:, 0])) > 1  # one kernel per feature map
    w = load_weights(st)
    assert not any(k.startswith("act_") for k in w)
    net = NumpyEEGNet(w, n_chans=4, n_times=128).with_binary_features(separable, head)
    assert set(np.unique(net.features(X)).tolist()) == {-1.0, 1.0}
    ref = clf.decision_function(X)
    np.testing.assert_allclose(net.forward(X), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    np.testing.assert_array_equal(clf.classes_[net.forward(X).argmax(1)], clf.predict(X))

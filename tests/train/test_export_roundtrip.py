"""Train -> export -> torch-free eegbin.nn inference gives identical predictions."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from eegbin.nn import EEGNet as NumpyEEGNet  # noqa: E402
from eegbin.nn import load_weights  # noqa: E402
from eegbin.quantize import multilevel_binarize, reconstruct  # noqa: E402
from eegbin.train import MultiLevelBinarize, TorchEEGClassifier, export, read_metadata  # noqa: E402

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
    meta = read_metadata(st)
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
    meta = read_metadata(st)
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

    X, y = epochs
    params = {"hidden_size": 8, "downsample": 4, "quantize": "mubinn2",
              "activation_levels": 2, "weight_levels": 2}
    clf = TorchEEGClassifier("lstm", model_params=params, max_epochs=1, batch_size=12,
                             random_state=0).fit(X, y)
    st, _ = export(clf, tmp_path / "mubinn.safetensors")
    q = read_metadata(st)["quantization"]
    assert all(len(q[n]) == 2 for n in ("q_input", "q_hidden", "q_w_ih", "q_w_hh"))
    w = load_weights(st)
    assert not any(k.startswith("q_") for k in w)
    free = LSTMClassifier(w, mode="mubinn2", activation_levels=2, weight_levels=2, decimate=4,
                          pooling="mean", refit_head=False).fit(X, y)
    assert free.decision_function(X).shape == (len(X), 2)


@pytest.mark.parametrize("projection", ["random", "learned"])
def test_mimann_roundtrip_identical_predictions(tmp_path, epochs, projection):
    from eegbin import BinaryKeyValueMemory

    X, y = epochs
    clf = TorchEEGClassifier("mimann", model_params={"projection": projection, "n_dims": 64},
                             max_epochs=3, batch_size=8, n_shots=4, lr=1e-2,
                             random_state=0).fit(X, y)
    st, _ = export(clf, tmp_path / "mimann.safetensors")
    meta = read_metadata(st)
    assert meta["model"] == "MIMANN" and meta["n_dims"] == 64 and meta["projection"] == projection
    w = load_weights(st)
    net = NumpyEEGNet({k: v for k, v in w.items() if not k.startswith(("projection", "memory"))},
                      n_chans=4, n_times=128)
    idx = clf.support_index_
    mem = BinaryKeyValueMemory(projection=np.asarray(w["projection.weight"], dtype=np.float64),
                               n_dims=64, sharpen="softabs").fit(net.features(X[idx]), y[idx])
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

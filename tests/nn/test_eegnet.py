"""EEGNet numpy forward vs plain-torch references of braindecode's and Keras' EEGNet."""

import numpy as np
import pytest

from eegbin.nn import EEGNet, load_weights

torch = pytest.importorskip("torch")
from ._torch_eegnet import BraindecodeEEGNet, KerasEEGNet  # noqa: E402
from ._weights import keras_weights  # noqa: E402

SHAPES = [
    # n_chans, n_times, n_classes, kwargs
    (22, 1125, 4, {}),
    (3, 250, 2, {}),
    (8, 301, 3, dict(F1=4, D=3, F2=10, kernel_length=33, depthwise_kernel_length=15)),
    (22, 1125, 4, dict(pool1_kernel_size=8, pool2_kernel_size=8)),
]


def _net_kwargs(kw):
    return {k: kw[k] for k in ("pool1_kernel_size", "pool2_kernel_size") if k in kw}


@pytest.mark.parametrize("n_chans,n_times,n_classes,kw", SHAPES)
def test_braindecode_parity(tmp_path, n_chans, n_times, n_classes, kw):
    ref = BraindecodeEEGNet(n_chans, n_classes, n_times, **kw).randomize(seed=n_times)
    sd = ref.state_dict()
    assert "conv_spatial.parametrizations.weight.original" in sd
    torch.save(sd, tmp_path / "eegnet.pt")
    weights = load_weights(tmp_path / "eegnet.pt")
    X = np.random.default_rng(0).standard_normal((5, n_chans, n_times)).astype(np.float32)
    with torch.no_grad():
        expected = ref(torch.from_numpy(X)).numpy()
        expected64 = ref.double()(torch.from_numpy(X).double()).numpy()
    for algorithm in ("reordered", "reference"):
        net = EEGNet(weights, n_chans=n_chans, n_times=n_times, algorithm=algorithm, **_net_kwargs(kw))
        got = net.forward(X)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
        net64 = EEGNet(weights, n_times=n_times, dtype="float64", algorithm=algorithm, **_net_kwargs(kw))
        np.testing.assert_allclose(net64.forward(X.astype(np.float64)), expected64, atol=1e-10, rtol=0)
    # the max-norm parametrization really was active (some rows renormed)
    orig = sd["conv_spatial.parametrizations.weight.original"].numpy()
    assert (np.linalg.norm(orig.reshape(orig.shape[0], -1), axis=1) > 1).any()


def test_features_layout_and_size():
    ref = BraindecodeEEGNet(22, 4, 1125, pool1_kernel_size=8, pool2_kernel_size=8).randomize(1)
    w = {k: v.numpy() for k, v in ref.state_dict().items()}
    net = EEGNet(w, n_chans=22, n_times=1125, pool1_kernel_size=8, pool2_kernel_size=8)
    X = np.random.default_rng(1).standard_normal((2, 22, 1125)).astype(np.float32)
    feats = net.features(X)
    assert feats.shape == (2, 272)  # 16 x 17: Hersche 2020 Table II, FC = 4 x 272
    with torch.no_grad():
        body = ref._body(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(feats, body.reshape(2, -1), atol=1e-5)
    assert EEGNet(EEGNet.random_weights(22, 1125), n_times=1125).n_features == 560  # braindecode defaults


def test_keras_layout_parity(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(3)
    C, T, F1, D, F2, K1, K3, ncls = 6, 260, 4, 2, 8, 64, 16, 3
    kw = keras_weights(rng, C, T, F1, D, F2, K1, K3, ncls)
    with h5py.File(tmp_path / "eegnet.h5", "w") as f:
        for k, v in kw.items():
            f[f"model_weights/{k}"] = v
    weights = load_weights(tmp_path / "eegnet.h5")
    net = EEGNet(weights, n_chans=C, n_times=T, dtype="float64")
    assert net.layout == "keras"
    X = rng.standard_normal((4, C, T))
    with torch.no_grad():
        expected = KerasEEGNet({k: torch.from_numpy(v.astype(np.float32)).double() for k, v in kw.items()})(
            torch.from_numpy(X))
    np.testing.assert_allclose(net.forward(X), expected.numpy(), atol=1e-10)


def test_bad_weights_named():
    w = EEGNet.random_weights(4, 128, 2, rng=0)
    bad = dict(w)
    bad["conv_separable_point.weight"] = bad["conv_separable_point.weight"][:, :5]
    with pytest.raises(ValueError,
                       match=r"'conv_separable_point.weight' has shape \(16, 5, 1, 1\), expected \(16, 16, 1, 1\)"):
        EEGNet(bad)
    bad = dict(w)
    bad["bnorm_1.running_var"] = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"'bnorm_1.running_var' has shape \(3,\), expected \(16,\)"):
        EEGNet(bad)
    bad = dict(w)
    del bad["bnorm_2.bias"]
    with pytest.raises(ValueError, match="missing tensor 'bnorm_2.bias'"):
        EEGNet(bad)
    with pytest.raises(ValueError, match="n_times=500 gives"):
        EEGNet(w, n_times=500)
    with pytest.raises(ValueError, match="n_chans=5"):
        EEGNet(w, n_chans=5)
    net = EEGNet(w, n_times=128)
    with pytest.raises(ValueError, match="3 channels"):
        net.forward(np.zeros((1, 3, 128)))
    with pytest.raises(ValueError, match="NaN"):
        net.forward(np.full((1, 4, 128), np.nan))
    with pytest.raises(ValueError, match="3-D"):
        net.forward(np.zeros((4, 128)))
    with pytest.raises(ValueError, match="samples per trial"):
        net.forward(np.zeros((1, 4, 300)))


def test_braindecode_linear_constraint_head():
    """``final_layer_with_constraint=True``: flattened features, max-norm 0.25 on each row."""
    from eegbin.nn.layers import renorm_rows

    w = EEGNet.random_weights(4, 128, 3, rng=5)
    conv_head = w.pop("final_layer.conv_classifier.weight")
    bias = w.pop("final_layer.conv_classifier.bias")
    W = conv_head.reshape(3, -1) * 3.0  # rows above the 0.25 max-norm
    w["final_layer.linearconstraint.parametrizations.weight.original"] = W
    w["final_layer.linearconstraint.bias"] = bias
    net = EEGNet(w, n_times=128, dtype="float64")
    X = np.random.default_rng(0).standard_normal((4, 4, 128))
    expected = net.features(X) @ renorm_rows(W.astype(np.float64), 0.25).T + bias
    np.testing.assert_allclose(net.forward(X), expected, atol=1e-12)
    assert np.allclose(np.linalg.norm(net.head_w.reshape(3, -1), axis=1), 0.25, atol=1e-6)

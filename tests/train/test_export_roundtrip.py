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

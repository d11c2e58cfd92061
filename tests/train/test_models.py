import numpy as np
import pytest

torch = pytest.importorskip("torch")

from eegbin.train import MIMANN, EEGNet, LSTMNet, TorchEEGClassifier  # noqa: E402

BRAINDECODE_KEYS = {
    "conv_temporal.weight",
    "bnorm_temporal.weight", "bnorm_temporal.bias", "bnorm_temporal.running_mean",
    "bnorm_temporal.running_var", "bnorm_temporal.num_batches_tracked",
    "conv_spatial.parametrizations.weight.original",
    "bnorm_1.weight", "bnorm_1.bias", "bnorm_1.running_mean", "bnorm_1.running_var",
    "bnorm_1.num_batches_tracked",
    "conv_separable_depth.weight", "conv_separable_point.weight",
    "bnorm_2.weight", "bnorm_2.bias", "bnorm_2.running_mean", "bnorm_2.running_var",
    "bnorm_2.num_batches_tracked",
    "final_layer.conv_classifier.weight", "final_layer.conv_classifier.bias",
}


@pytest.mark.parametrize("binarize", [None, "ste", "biper"])
def test_eegnet_state_dict_has_braindecode_layout(binarize):
    net = EEGNet(n_chans=22, n_outputs=4, n_times=1125, binarize=binarize)
    sd = net.state_dict()
    assert set(sd) == BRAINDECODE_KEYS
    assert sd["conv_temporal.weight"].shape == (8, 1, 1, 64)
    assert sd["conv_spatial.parametrizations.weight.original"].shape == (16, 1, 22, 1)
    assert sd["conv_separable_depth.weight"].shape == (16, 1, 1, 16)
    assert sd["conv_separable_point.weight"].shape == (16, 16, 1, 1)
    # braindecode's 'same' padding and pools 4 and 8: 1126 -> 281 -> 282 -> 35
    assert sd["final_layer.conv_classifier.weight"].shape == (4, 16, 1, 35)
    # Hersche 2020's EEGNet (pools 8 and 8) has 16 x 17 = 272 features
    assert EEGNet(22, 4, 1125, pool1=8).n_features_time * 16 == 272


def test_binarized_eegnet_deploys_two_valued_layers():
    net = EEGNet(n_chans=3, n_outputs=2, n_times=64, binarize="biper", omega=2.0).eval()
    sd = net.deployed_state_dict()
    for key in ("conv_separable_depth.weight", "conv_separable_point.weight",
                "final_layer.conv_classifier.weight"):
        assert len(np.unique(np.abs(sd[key]))) == 1, key
    assert len(np.unique(np.abs(sd["conv_temporal.weight"]))) > 2
    x = torch.randn(5, 3, 64)
    assert torch.allclose(net(x), net(x))


def test_mimann_encodes_bipolar_in_eval_and_reads_memory():
    torch.manual_seed(0)
    m = MIMANN(n_chans=3, n_outputs=2, n_times=64, n_components=32, projection="random").eval()
    x = torch.randn(6, 3, 64)
    codes = m.encode(x)
    assert set(torch.unique(codes).tolist()) <= {-1.0, 1.0}
    m.write_memory(x, torch.tensor([0, 1, 0, 1, 0, 1]))
    out = m(x)
    assert out.shape == (6, 2)
    np.testing.assert_allclose(out.sum(1).numpy(), 1.0, rtol=1e-5)
    # a support example retrieves its own label
    assert (out.argmax(1).numpy() == [0, 1, 0, 1, 0, 1]).mean() > 0.5
    with pytest.raises(ValueError, match="projection"):
        MIMANN(3, 2, 64, projection="gaussian")


def test_mimann_random_projection_is_the_memory_s_counter_based_matrix():
    from eegbin import BinaryKeyValueMemory
    from eegbin.binary import random_bipolar_projection

    m = MIMANN(n_chans=3, n_outputs=2, n_times=64, n_components=32, projection="random", random_state=5)
    R, scale = random_bipolar_projection(m.seed, 32, m.n_feat)
    assert m.projection_scale == scale == pytest.approx(np.sqrt(6 / (m.n_feat + 32)))
    np.testing.assert_array_equal(m.random_projection.numpy(), (scale * R).astype(np.float32))
    # the same random_state is the same seed as BinaryKeyValueMemory's
    X = np.random.default_rng(0).normal(size=(4, m.n_feat))
    mem = BinaryKeyValueMemory(n_components=32, random_state=5).fit(X, [0, 1, 0, 1])
    assert mem.seed_ == m.seed == 5
    np.testing.assert_array_equal(mem.projection_, R)
    drawn = MIMANN(3, 2, 64, n_components=32, projection="random", random_state=np.random.RandomState(0))
    assert 0 <= drawn.seed < 2**32
    assert MIMANN(3, 2, 64, n_components=32).seed is None
    with pytest.raises(ValueError, match="random_state must be in"):
        MIMANN(3, 2, 64, projection="random", random_state=2**32)


def test_mimann_random_projection_keeps_torch_s_thread_count():
    # numba's OpenMP threading layer shares torch's OpenMP runtime; drawing the
    # projection (a numba kernel) must not leave torch training on numba's thread count
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        MIMANN(n_chans=3, n_outputs=2, n_times=64, n_components=32, projection="random")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_mimann_trains_in_episodes_with_the_final_learning_rate():
    X, y = _two_class_epochs(n=24)
    kw = dict(model="mimann", model_params={"projection": "random", "n_components": 32},
              batch_size=8, n_shots=4, lr=1e-2, random_state=0)
    clf = TorchEEGClassifier(max_epochs=6, lr_final=(3, 1e-30), **kw).fit(X, y)
    assert len(clf.history_) == 6  # one loss per episode (one batch each)
    # the last 3 episodes at a vanishing rate leave the weights of episode 3
    ref = TorchEEGClassifier(max_epochs=3, lr_final=(0, 1.0), **kw).fit(X, y)
    for (name, a), (_, b) in zip(clf.module_.named_parameters(), ref.module_.named_parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=0, atol=1e-20,
                                   err_msg=name)
    moved = TorchEEGClassifier(max_epochs=6, lr_final=(3, 1e-2), **kw).fit(X, y)
    assert not np.allclose(moved.module_.controller.conv_temporal.weight.detach().numpy(),
                           ref.module_.controller.conv_temporal.weight.detach().numpy())
    for bad in [(3,), (-1, 1e-4), (10, 0.0), (1.5, 1e-4), ("a", 1e-4)]:
        with pytest.raises(ValueError, match="lr_final must be None or a pair"):
            TorchEEGClassifier(max_epochs=1, lr_final=bad, **kw).fit(X, y)


def test_lstm_quantized_forward_matches_float_at_many_levels():
    torch.manual_seed(0)
    f = LSTMNet(3, 2, hidden_size=8).eval()
    q = LSTMNet(3, 2, hidden_size=8, quantize="mubinn2", activation_levels=6, weight_levels=6,
                pwl_segments=256).eval()
    q.load_state_dict(f.state_dict(), strict=False)
    x = torch.randn(4, 3, 20)
    with torch.no_grad():
        assert torch.allclose(f(x).double(), q(x), atol=0.05)
        assert q(x).dtype == torch.float64  # the quantized cell runs in float64
    with pytest.raises(ValueError, match="quantize"):
        LSTMNet(3, 2, quantize="mubinn3")


def _two_class_epochs(n=40, n_chans=4, n_times=128, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    t = np.arange(n_times) / 128.0
    X = rng.normal(0, 1, (n, n_chans, n_times))
    X[y == 1, 0] += 2 * np.sin(2 * np.pi * 10 * t)   # class 1: 10 Hz on channel 0
    X[y == 0, 1] += 2 * np.sin(2 * np.pi * 10 * t)   # class 0: 10 Hz on channel 1
    return X * 1e-5, y  # volts, as MOABB returns


@pytest.mark.parametrize("model, params", [
    ("eegnet", {}),
    ("eegnet", {"binarize": "biper", "omega": 2.0}),
    ("lstm", {"hidden_size": 16, "downsample": 4}),
])
def test_estimator_learns_and_is_deterministic(model, params):
    X, y = _two_class_epochs()
    kw = dict(model=model, model_params=params, max_epochs=30, batch_size=20, lr=1e-2, random_state=3)
    a = TorchEEGClassifier(**kw).fit(X, y)
    b = TorchEEGClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    assert (a.predict(X) == y).mean() >= 0.8
    assert a.history_[-1] < a.history_[0]
    proba = a.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)


def test_estimator_bad_input():
    X, y = _two_class_epochs(n=8)
    clf = TorchEEGClassifier(max_epochs=1)
    with pytest.raises(ValueError, match="3-D"):
        clf.fit(X[:, 0], y)
    Xn = X.copy()
    Xn[3, 0, 0] = np.nan
    with pytest.raises(ValueError, match="trial 3"):
        clf.fit(Xn, y)
    with pytest.raises(ValueError, match="2 classes"):
        clf.fit(X, np.zeros(8))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        clf.fit(X, np.where(np.arange(8) == 2, np.nan, y))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        clf.fit(X, y + 0.5 * np.arange(8))
    with pytest.raises(ValueError, match="model"):
        TorchEEGClassifier(model="resnet").fit(X, y)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="channels"):
        clf.predict(X[:, :2])


def _record(net, x, names):
    """Inputs (and outputs) of the named submodules during ``net(x)``."""
    seen = {}
    hooks = [getattr(net, name).register_forward_hook(
        lambda mod, args, out, name=name: seen.__setitem__(
            name, (args[0].detach().clone(), out.detach().clone())))
        for name in names]
    try:
        net(x)
    finally:
        for h in hooks:
            h.remove()
    return seen


@pytest.mark.parametrize("activations", ["binary", "design"])
def test_binarized_layers_receive_binary_features(activations):
    from eegbin.quantize import dithered_sign
    from eegbin.train.models import design_thresholds

    torch.manual_seed(0)
    net = EEGNet(4, 3, 128, binarize="biper", omega=2.0, activations=activations).double().eval()
    x = torch.randn(6, 4, 128, dtype=torch.float64)
    seen = _record(net, x, ["act_1", "act_2", "conv_separable_depth", "final_layer"])
    # what the binarized layers receive is the activations' output, +-1 only
    for act, layer in (("act_1", "conv_separable_depth"), ("act_2", "final_layer")):
        z, out = seen[act]
        assert torch.equal(seen[layer][0], out)
        assert set(torch.unique(out).tolist()) == {-1.0, 1.0}
        # Sign(z) / DeSign's Sign(z - T (x) 1), per-channel thresholds (numpy oracles)
        if activations == "binary":
            expected = np.where(z.numpy() >= 0, 1.0, -1.0)
        else:
            T = design_thresholds(z.shape[1]).astype(np.float64)
            expected = dithered_sign(z.numpy(), T, axes=(1, 3))
            assert not np.array_equal(expected, np.where(z.numpy() >= 0, 1.0, -1.0))
        np.testing.assert_array_equal(out.numpy(), expected)
    # and gradients reach the first layers through the surrogate
    net.train()
    net(x).sum().backward()
    assert net.conv_temporal.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="activations must be one of"):
        EEGNet(4, 3, 128, activations="ternary")
    with pytest.raises(ValueError, match="design takes the keys kernel, k and variant"):
        EEGNet(4, 3, 128, activations="design", design={"levels": (1, 3)})


def test_biper_stages_take_their_own_learning_rates():
    X, y = _two_class_epochs(n=24)
    kw = dict(model="eegnet", batch_size=12, random_state=0)
    params = {"binarize": "biper", "omega": 2.0, "activations": "binary"}
    # stage 2 at a vanishing rate leaves the latent weights where stage 1 left them
    two = TorchEEGClassifier(model_params=params, max_epochs=4, lr=(1e-2, 1e-30),
                             weight_decay=(5e-4, 0.0), **kw).fit(X, y)
    one = TorchEEGClassifier(model_params=params, max_epochs=2, stage1_fraction=1.0, lr=1e-2,
                             weight_decay=5e-4, **kw).fit(X, y)
    assert two.module_.conv_separable_point.stage == 2
    for (name, a), (_, b) in zip(two.module_.named_parameters(), one.module_.named_parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=0, atol=1e-20,
                                   err_msg=name)
    with pytest.raises(ValueError, match="a pair is for the two stages of binarize='biper'"):
        TorchEEGClassifier(max_epochs=1, lr=(1e-3, 1e-4), **kw).fit(X, y)
    with pytest.raises(ValueError, match="weight_decay must be a number or a pair"):
        TorchEEGClassifier(model_params=params, max_epochs=2, weight_decay=(1e-4, -1.0),
                           **kw).fit(X, y)


def test_feng_channel_selection_retrains_on_the_selected_channels(tmp_path):
    from eegbin.nn import EEGNet as NumpyEEGNet
    from eegbin.nn import load_weights
    from eegbin.train import export

    X, y = _two_class_epochs(n=24, n_chans=6)
    kw = dict(model="eegnet", max_epochs=3, batch_size=12, lr=1e-2, random_state=1)
    full = TorchEEGClassifier(**kw).fit(X, y)
    sel = TorchEEGClassifier(n_selected_channels=3, **kw).fit(X, y)
    # Feng eq. (1) on the network trained first (the same run as `full`), by eegbin.nn
    st, _ = export(full, tmp_path / "full.safetensors")
    oracle = NumpyEEGNet(load_weights(st), n_chans=6, n_times=128).select_channels(3)
    np.testing.assert_array_equal(sel.channels_, oracle.channels)
    assert len(sel.history_) == 2 * 3  # trained, then retrained
    # the retrained network reads the selected channels only
    other = np.setdiff1d(np.arange(6), sel.channels_)
    X2 = X.copy()
    X2[:, other] = 123.0
    np.testing.assert_array_equal(sel.decision_function(X2), sel.decision_function(X))
    # exported: the 3-channel network, run without torch on the selected channels
    st, _ = export(sel, tmp_path / "sel.safetensors")
    from eegbin.train import read_export_metadata

    assert read_export_metadata(st)["hparams"]["channels"] == sel.channels_.tolist()
    net = NumpyEEGNet(load_weights(st), n_chans=3, n_times=128)
    ref = sel.decision_function(X)
    np.testing.assert_allclose(net.forward(X[:, sel.channels_]), ref, rtol=1e-4,
                               atol=1e-4 * np.abs(ref).max())
    with pytest.raises(ValueError, match="n_selected_channels=7 exceeds the 6 channels"):
        TorchEEGClassifier(n_selected_channels=7, **kw).fit(X, y)
    with pytest.raises(ValueError, match="for model='eegnet', got model='lstm'"):
        TorchEEGClassifier(model="lstm", n_selected_channels=2, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="channels must be distinct indices in 0..5"):
        EEGNet(6, 2, 128, channels=[0, 0])

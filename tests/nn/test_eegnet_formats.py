"""EEGNet from ONNX (vs onnxruntime) and from Keras 3 / Keras 2 files (vs Keras itself)."""

import json
import warnings
import zipfile

import numpy as np
import pytest

from eegbin.nn import EEGNet, WeightDict, load_weights, read_eegnet

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras on torch

torch = pytest.importorskip("torch")
from ._torch_eegnet import BraindecodeEEGNet  # noqa: E402

SHAPES = [
    # n_chans, n_times, n_classes, kwargs
    (6, 200, 3, {}),
    (22, 1125, 4, dict(pool1_kernel_size=8, pool2_kernel_size=8)),
    (8, 301, 2, dict(F1=4, D=3, F2=10, kernel_length=33, depthwise_kernel_length=15)),
]


def _export(model, n_chans, n_times, path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, n_chans, n_times),), str(path), input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}}, dynamo=False, **kw)
    return path


def _onnxruntime(path, X):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": X})[0]


@pytest.mark.parametrize("n_chans,n_times,n_classes,kw", SHAPES)
@pytest.mark.parametrize("folding", [True, False])
def test_onnx_logits_equal_onnxruntime(tmp_path, n_chans, n_times, n_classes, kw, folding):
    """torch.onnx.export folds the batch norms (names lost) or keeps them: same logits."""
    model = BraindecodeEEGNet(n_chans, n_classes, n_times, **kw).randomize(seed=n_times).frozen()
    path = _export(model, n_chans, n_times, tmp_path / "eegnet.onnx", do_constant_folding=folding)
    weights = load_weights(path)
    assert isinstance(weights, WeightDict) and weights.graph is not None
    if folding:  # the folded tensors carry no module name
        assert any(k.startswith("onnx::") for k in weights)
        assert not any(n.op_type == "BatchNormalization" for n in weights.graph.nodes)
    X = np.random.default_rng(0).standard_normal((5, n_chans, n_times)).astype(np.float32)
    expected = _onnxruntime(path, X)
    net = EEGNet(path, n_chans=n_chans, n_times=n_times)
    assert net.layout == "onnx" and (net.pool1, net.pool2) == (kw.get("pool1_kernel_size", 4),
                                                               kw.get("pool2_kernel_size", 8))
    got = net.forward(X)
    assert np.max(np.abs(got - expected)) <= 1e-5
    for algorithm in ("reference", "reordered"):  # float64 agrees as well as float32 can
        net64 = EEGNet(weights, n_times=n_times, dtype="float64", algorithm=algorithm)
        assert np.max(np.abs(net64.forward(X.astype(np.float64)) - expected)) <= 1e-5
    with torch.no_grad():  # and the ONNX graph is the torch model
        np.testing.assert_allclose(model(torch.from_numpy(X)).numpy(), expected, atol=1e-5)


def test_onnx_convolution_biases_with_batch_norms(tmp_path):
    """Biases on every convolution, batch norms kept (no constant folding): folded exactly."""
    model = BraindecodeEEGNet(6, 3, 200).randomize(4)
    for name in ("conv_temporal", "conv_separable_depth", "conv_separable_point"):
        old = getattr(model, name)
        new = torch.nn.Conv2d(old.in_channels, old.out_channels, old.kernel_size,
                              padding=old.padding, groups=old.groups, bias=True)
        with torch.no_grad():
            new.weight.copy_(old.weight)
            new.bias.copy_(torch.randn(old.out_channels, generator=torch.Generator().manual_seed(7)))
        setattr(model, name, new)
    path = _export(_frozen_with_biases(model), 6, 200, tmp_path / "bias.onnx",
                   do_constant_folding=False)
    ops = [n.op_type for n in load_weights(path).graph.nodes]
    assert ops.count("BatchNormalization") == 3
    X = np.random.default_rng(2).standard_normal((4, 6, 200)).astype(np.float32)
    net = EEGNet(path, n_times=200)
    assert net.params.separable_bn is not None and np.any(net.params.point_bias)
    assert np.max(np.abs(net.forward(X) - _onnxruntime(path, X))) <= 1e-5


def _frozen_with_biases(model):
    """The model with its max-norm parametrization applied once (ONNX has no renorm)."""
    from torch.nn.utils import parametrize

    with torch.no_grad():
        weight = model.conv_spatial.weight.detach().clone()
    parametrize.remove_parametrizations(model.conv_spatial, "weight", leave_parametrized=False)
    with torch.no_grad():
        model.conv_spatial.weight.copy_(weight)
    return model.eval()


def test_onnx_linear_head_and_folded_compressions(tmp_path):
    """A flatten + Linear head exports as Flatten/Gemm; compressions work on ONNX parameters."""
    model = BraindecodeEEGNet(6, 3, 200).randomize(1).frozen()
    flat = torch.nn.Sequential()
    flat.add_module("flatten", torch.nn.Flatten())
    flat.add_module("linear", torch.nn.Linear(16 * 6, 3))
    model.final_layer = flat
    path = _export(model.eval(), 6, 200, tmp_path / "linear.onnx")
    ops = [n.op_type for n in load_weights(path).graph.nodes]
    assert "Gemm" in ops
    X = np.random.default_rng(1).standard_normal((4, 6, 200)).astype(np.float32)
    net = EEGNet(path, n_times=200)
    assert np.max(np.abs(net.forward(X) - _onnxruntime(path, X))) <= 1e-5
    assert net.params.folded  # the exporter folded every batch norm
    sel = net.select_channels(4)
    assert sel.channels.size == 4 and sel.forward(X).shape == (4, 3)


def test_onnx_settings_checked_and_no_runtime(tmp_path):
    model = BraindecodeEEGNet(6, 3, 200).randomize(2).frozen()
    path = _export(model, 6, 200, tmp_path / "eegnet.onnx")
    with pytest.raises(ValueError, match="pool1_kernel_size=8, but the ONNX graph records 4"):
        EEGNet(path, pool1_kernel_size=8)
    EEGNet(path, pool1_kernel_size=4)  # agreeing with the file is fine
    with pytest.raises(ValueError, match="layout='onnx' needs an ONNX file"):
        EEGNet(dict(load_weights(path)), layout="onnx")


def test_onnx_hostile_files(tmp_path):
    onnx = pytest.importorskip("onnx")
    model = BraindecodeEEGNet(6, 3, 200).randomize(3).frozen()
    path = _export(model, 6, 200, tmp_path / "eegnet.onnx")
    raw = path.read_bytes()
    (tmp_path / "cut.onnx").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="cut.onnx"):
        EEGNet(tmp_path / "cut.onnx")
    m = onnx.load(str(path))  # a tensor that points at another file is refused, never read
    init = m.graph.initializer[0]
    init.ClearField("raw_data")
    init.data_location = onnx.TensorProto.EXTERNAL
    entry = init.external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    onnx.save(m, str(tmp_path / "external.onnx"))
    with pytest.raises(ValueError, match="external data"):
        load_weights(tmp_path / "external.onnx")
    # a graph that is not an EEGNet: the error says what was expected and found
    lin = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6 * 200, 3))
    other = _export(lin, 6, 200, tmp_path / "linear.onnx")
    with pytest.raises(ValueError, match=r"expected Conv \(temporal convolution\).*found Gemm"):
        EEGNet(other)


def test_onnx_lstm_graph_for_the_lstm_reader(tmp_path):
    """load_weights gives an LSTM export's W, R, B (gate order i, o, f, c) and its node."""
    lstm = torch.nn.LSTM(5, 7, batch_first=True)
    path = tmp_path / "lstm.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(lstm, (torch.zeros(1, 11, 5),), str(path), input_names=["x"],
                          dynamo=False)
    w = load_weights(path)
    (node,) = [n for n in w.graph.nodes if n.op_type == "LSTM"]
    assert node.attributes["hidden_size"] == 7
    W, R, B = (w[name] for name in node.inputs[1:4])
    assert W.shape == (1, 28, 5) and R.shape == (1, 28, 7) and B.shape == (1, 56)
    sd = {k: v.numpy() for k, v in lstm.state_dict().items()}
    i, f, g, o = np.split(sd["weight_ih_l0"], 4)  # torch: i, f, g, o
    np.testing.assert_array_equal(W[0], np.concatenate([i, o, f, g]))  # ONNX: i, o, f, c


# ---------------------------------------------------------------------------
# Keras
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _arl_eegnet(keras, n_classes, chans, samples, kern_length=64, F1=8, D=2, F2=16,
                pool1=4, pool2=8, use_bias=False):
    """arl-eegmodels' EEGNet (Lawhern et al. 2018), as its repository writes it."""
    L = keras.layers
    inp = keras.Input(shape=(chans, samples, 1))
    x = L.Conv2D(F1, (1, kern_length), padding="same", use_bias=use_bias)(inp)
    x = L.BatchNormalization()(x)
    x = L.DepthwiseConv2D((chans, 1), use_bias=use_bias, depth_multiplier=D,
                          depthwise_constraint=keras.constraints.max_norm(1.0))(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("elu")(x)
    x = L.AveragePooling2D((1, pool1))(x)
    x = L.Dropout(0.5)(x)
    x = L.SeparableConv2D(F2, (1, 16), use_bias=use_bias, padding="same")(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("elu")(x)
    x = L.AveragePooling2D((1, pool2))(x)
    x = L.Dropout(0.5)(x)
    x = L.Flatten(name="flatten")(x)
    dense = L.Dense(n_classes, name="dense",
                    kernel_constraint=keras.constraints.max_norm(0.25))(x)
    out = L.Activation("softmax", name="softmax")(dense)
    model = keras.Model(inputs=inp, outputs=out)
    rng = np.random.default_rng(chans * samples)
    new = []
    for v in model.weights:  # random kernels and batch-norm statistics
        shape = tuple(v.shape)
        if "variance" in v.path:
            new.append(rng.uniform(0.5, 2.0, shape))
        elif "gamma" in v.path:
            new.append(rng.uniform(0.5, 1.5, shape))
        else:
            new.append(rng.standard_normal(shape) * 0.3)
    model.set_weights([a.astype(np.float32) for a in new])
    return model, keras.Model(inputs=inp, outputs=dense)


def _keras_logits(logits_model, X):
    return np.asarray(logits_model.predict(X[..., None], verbose=0))


@pytest.mark.parametrize("pools", [(4, 8), (8, 8)])
def test_keras3_weights_h5_and_keras_archive(keras, tmp_path, pools):
    C, T = 6, 256
    model, logits = _arl_eegnet(keras, 3, C, T, pool1=pools[0], pool2=pools[1])
    X = np.random.default_rng(0).standard_normal((5, C, T)).astype(np.float32)
    expected = _keras_logits(logits, X)
    model.save_weights(tmp_path / "eegnet.weights.h5")
    model.save(tmp_path / "eegnet.keras")
    w = load_weights(tmp_path / "eegnet.weights.h5")
    assert "layers/conv2d/vars/0" in w
    net = EEGNet(tmp_path / "eegnet.weights.h5", n_times=T, pool1_kernel_size=pools[0],
                 pool2_kernel_size=pools[1])
    assert net.layout == "keras3"
    assert np.max(np.abs(net.forward(X) - expected)) <= 1e-5
    archive = load_weights(tmp_path / "eegnet.keras")
    assert isinstance(archive, WeightDict) and archive.config["class_name"] == "Functional"
    net = EEGNet(tmp_path / "eegnet.keras", n_times=T)  # pooling read from the config
    assert (net.pool1, net.pool2) == pools
    assert np.max(np.abs(net.forward(X) - expected)) <= 1e-5


def test_keras_convolution_biases_fold_exactly(keras, tmp_path):
    """Convolutions with biases before their batch norms (use_bias=True): folded, same logits."""
    model, logits = _arl_eegnet(keras, 3, 5, 160, use_bias=True)
    model.save(tmp_path / "bias.keras")
    X = np.random.default_rng(5).standard_normal((4, 5, 160)).astype(np.float32)
    net = EEGNet(tmp_path / "bias.keras", n_times=160)
    assert np.any(net.params.point_bias) and net.params.separable_bn is not None
    assert np.max(np.abs(net.forward(X) - _keras_logits(logits, X))) <= 1e-5


def test_keras_suffixed_layer_names(keras, tmp_path):
    """A model built second in a session has conv2d_1, batch_normalization_3, ...: mapped
    without keras_layers, in Keras 3 .weights.h5 and in the Keras 2 (legacy HDF5) layout."""
    _arl_eegnet(keras, 2, 4, 128)  # takes the unsuffixed names
    model, logits = _arl_eegnet(keras, 2, 4, 128)
    names = [layer.name for layer in model.layers]
    assert "conv2d" not in names and any(n.startswith("batch_normalization_") for n in names)
    X = np.random.default_rng(1).standard_normal((3, 4, 128)).astype(np.float32)
    expected = _keras_logits(logits, X)
    model.save_weights(tmp_path / "m.weights.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "m.h5")  # legacy Keras 2 layout: model_weights/conv2d_1/conv2d_1/kernel
    assert any(k.startswith("conv2d_") and k.endswith("/kernel") for k in load_weights(tmp_path / "m.h5"))
    for name, layout in (("m.weights.h5", "keras3"), ("m.h5", "keras")):
        net = EEGNet(tmp_path / name, n_times=128)
        assert net.layout == layout
        assert np.max(np.abs(net.forward(X) - expected)) <= 1e-5, name


def test_keras_config_is_data_never_code(keras, tmp_path):
    """A .keras config naming a Lambda with code is read as JSON: nothing runs."""
    model, logits = _arl_eegnet(keras, 2, 4, 128)
    model.save(tmp_path / "ok.keras")
    marker = tmp_path / "ran"
    with zipfile.ZipFile(tmp_path / "ok.keras") as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"].append({
        "module": "keras.layers", "class_name": "Lambda", "name": "evil", "inbound_nodes": [],
        "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {
            "code": f"__import__('pathlib').Path({str(marker)!r}).touch()"}}},
    })
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "evil.keras", "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    X = np.random.default_rng(2).standard_normal((3, 4, 128)).astype(np.float32)
    net = EEGNet(tmp_path / "evil.keras", n_times=128)
    assert not marker.exists()
    assert np.max(np.abs(net.forward(X) - _keras_logits(logits, X))) <= 1e-5


def test_unknown_layout_lists_expected_and_found():
    with pytest.raises(ValueError, match=r"not an EEGNet in a layout eegbin knows\. Expected a "
                                         r"braindecode.*Keras 3.*ONNX.*found 2 tensors: \['a', 'b'\]"):
        EEGNet({"a": np.zeros(3), "b": np.zeros(2)})
    keras2 = {"foo/foo/kernel:0": np.zeros((1, 64, 1, 8)), "bar/bar/bias:0": np.zeros(3)}
    with pytest.raises(ValueError, match=r"cannot tell which Keras layer is EEGNet's conv_temporal: "
                                         r"expected 1 Conv2D.*3 BatchNormalization.*found"):
        EEGNet(keras2)  # HDF5 paths, but no Keras EEGNet


def test_read_eegnet_matches_keras2_helper_file(tmp_path):
    """The hand-written Keras 2 file of the parity tests is still found by its names."""
    h5py = pytest.importorskip("h5py")
    from ._weights import keras_weights

    kw = keras_weights(np.random.default_rng(4), 4, 128, 4, 2, 8, 32, 16, 2)
    with h5py.File(tmp_path / "k.h5", "w") as f:
        for k, v in kw.items():
            f[f"model_weights/{k}"] = v
    p = read_eegnet(tmp_path / "k.h5", n_times=128)
    assert p.layout == "keras" and p.F1 == 4 and p.n_classes == 2
    assert isinstance(load_weights(tmp_path / "k.h5"), dict)

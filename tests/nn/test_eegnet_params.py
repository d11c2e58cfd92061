"""EEGNetParams: immutable, built by the readers, mapped by pure compressions."""

import pickle

import numpy as np
import pytest

from eegbin.nn import (
    DenseHead,
    EEGNet,
    EEGNetParams,
    eegnet_features,
    eegnet_footprint,
    eegnet_logits,
    fold_batchnorm,
    read_eegnet,
    select_channels,
    with_elu_table,
    with_fixed_point,
    with_head,
    with_pq_head,
)
from eegbin.quantize import ProductQuantizer, from_fixed_point, pq_transform, to_fixed_point


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    w = EEGNet.random_weights(6, 200, 3, rng=rng)
    X = rng.standard_normal((30, 6, 200))
    return w, X, read_eegnet(w, n_times=200)


def _arrays(p):
    return {k: np.array(getattr(p, k)) for k in ("temporal", "spatial", "depth", "point",
                                                 "spatial_bias", "point_bias", "channels")}


def test_params_are_immutable_and_pickle(setup):
    _, X, p = setup
    assert isinstance(p, EEGNetParams) and isinstance(p.head, DenseHead)
    for name in ("temporal", "spatial", "depth", "point", "spatial_bias", "channels"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(p, name)[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        p.head.weight[0, 0] = 1.0
    with pytest.raises(AttributeError):
        p.temporal = np.zeros((8, 64))
    again = pickle.loads(pickle.dumps(p))
    assert not again.spatial.flags.writeable
    np.testing.assert_array_equal(eegnet_logits(again, X), eegnet_logits(p, X))


def test_params_check_their_shapes(setup):
    _, _, p = setup
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"parameter point has shape \(16, 5\), expected \(F2, 16\)"):
        replace(p, point=np.zeros((16, 5)))
    with pytest.raises(ValueError, match="spatial_bn must hold 16 scales"):
        replace(p, spatial_bn=type(p.spatial_bn)(np.ones(3), np.zeros(3)))


def test_net_is_a_handle_on_params(setup):
    w, X, p = setup
    net = EEGNet(w, n_times=200)
    np.testing.assert_array_equal(net.params.temporal, p.temporal)
    np.testing.assert_array_equal(net.forward(X), eegnet_logits(p, X))
    np.testing.assert_array_equal(net.features(X), eegnet_features(p, X))
    assert net.footprint().total_macs == eegnet_footprint(p).total_macs
    again = EEGNet.from_params(net.params, dtype="float64", algorithm="reference")
    np.testing.assert_allclose(again.forward(X), net.forward(X), atol=1e-4)
    with pytest.raises(TypeError, match="EEGNetParams"):
        EEGNet.from_params(w)
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got 'int8'"):
        eegnet_logits(p, X, dtype="int8")


def test_compressions_are_pure(setup):
    """Each compression returns new parameters and leaves its input as it was."""
    _, X, p = setup
    before = _arrays(p)
    F = eegnet_features(p, X)
    outs = [fold_batchnorm(p), select_channels(p, 3), with_elu_table(p),
            with_pq_head(p, F), with_fixed_point(p, X), with_head(p, np.zeros((2, p.n_features)),
                                                                   np.zeros(2))]
    for q in outs:
        assert q is not p
    for k, v in _arrays(p).items():
        np.testing.assert_array_equal(v, before[k])
    assert p.temporal_bn is not None and p.elu_table is None and p.fixed_point is None
    assert isinstance(p.head, DenseHead) and p.channels.size == 6


def test_pq_head_is_plain_data_and_must_come_last(setup):
    _, X, p = setup
    F = eegnet_features(p, X, dtype="float64")
    q = with_pq_head(p, F)
    assert isinstance(q.head, ProductQuantizer) and q.n_classes == 3 and q.head.n_subspaces == 8
    np.testing.assert_allclose(eegnet_logits(q, X, dtype="float64"), pq_transform(q.head, F))
    for compression in (lambda r: select_channels(r, 3), with_elu_table, lambda r: with_fixed_point(r, X)):
        with pytest.raises(ValueError, match="product-quantized head was learned on"):
            compression(q)
    with pytest.raises(ValueError, match="already product-quantized"):
        with_pq_head(q, F)
    dense = with_head(q, p.head.weight, p.head.bias)  # a dense head replaces it
    np.testing.assert_array_equal(eegnet_logits(dense, X), eegnet_logits(p, X))
    assert [f.name for f in eegnet_footprint(q).parts][3] == "FC (product quantized)"
    with pytest.raises(AttributeError, match="product-quantized"):
        _ = EEGNet.from_params(q).head_w


def test_fixed_point_params_record_their_grid(setup):
    """Weights lie on their recorded grids; the forward rounds each stage to its grid."""
    _, X, p = setup
    q = with_fixed_point(p, X, weight_bits=8, act_bits=16)
    fp = q.fixed_point
    assert q.folded and fp.weight_bits == 8 and fp.act_bits == 16
    tensors = {"temporal": q.temporal, "spatial": q.spatial, "depth": q.depth, "point": q.point,
               "head_weight": q.head.weight, "spatial_bias": q.spatial_bias,
               "point_bias": q.point_bias, "head_bias": q.head.bias}
    assert set(fp.frac_bits) == set(tensors)
    for name, a in tensors.items():
        bits = 8 if name in ("temporal", "spatial", "depth", "point", "head_weight") else 16
        ints = a * 2.0 ** fp.frac_bits[name]
        np.testing.assert_array_equal(ints, np.round(ints))  # on the grid
        assert np.abs(ints).max() <= 2 ** (bits - 1)
    assert set(fp.act_frac_bits) == {"input", "block1", "pool1", "block2", "features"}
    # the features are the rounded last stage: on the 16-bit grid of "features"
    feats = eegnet_features(q, X, dtype="float64")
    f = fp.act_frac_bits["features"]
    np.testing.assert_array_equal(feats, from_fixed_point(to_fixed_point(feats, 16, f), f))
    with pytest.raises(TypeError):
        fp.frac_bits["temporal"] = 0  # read-only mapping
    again = pickle.loads(pickle.dumps(q))
    assert dict(again.fixed_point.act_frac_bits) == dict(fp.act_frac_bits)


def test_to_fixed_point_does_not_touch_the_network(setup):
    """Calibration runs a pure function: the source network keeps its behaviour and attributes."""
    w, X, _ = setup
    net = EEGNet(w, n_times=200)
    before = net.forward(X)
    attrs = set(vars(net))
    fxp = net.to_fixed_point(X)
    assert set(vars(net)) == attrs == {"params", "dtype", "algorithm"}
    np.testing.assert_array_equal(net.forward(X), before)
    assert fxp.dtype == np.float64 and net.params.fixed_point is None


def test_fixed_point_sums_are_exact():
    """Both algorithms give a fixed-point model the same features, bit for bit.

    Integer trials put many first-block sums exactly half-way between two steps of the
    block1 grid: only exact sums round them as an integer datapath does (half to even);
    an FFT's rounding error would push each one up or down.
    """
    p = read_eegnet(EEGNet.random_weights(6, 200, 2, rng=0), n_times=200)
    X = np.random.default_rng(1).integers(-3, 4, (20, 6, 200)).astype(float)
    q = with_fixed_point(p, X)
    np.testing.assert_array_equal(eegnet_features(q, X, dtype="float64", algorithm="reordered"),
                                  eegnet_features(q, X, dtype="float64", algorithm="reference"))


def test_fixed_point_footprint_counts_each_tensor_at_its_width(setup):
    """8-bit weights, biases on their 16-bit grids, the (real-valued) PQ head at float_bits."""
    _, X, p = setup
    q = with_fixed_point(p, X)
    fp = eegnet_footprint(q, 32)
    F1D, F2 = q.F1 * q.D, q.F2
    n_weights = q.temporal.size + q.spatial.size + q.depth.size + q.point.size + q.head.weight.size
    n_biases = F1D + F2 + q.n_classes  # all nonzero once the batch norms are folded in
    assert fp.total_params == n_weights + n_biases
    assert fp.n_bytes == n_weights + 2 * n_biases
    pq = with_pq_head(q, eegnet_features(q, X, dtype="float64"))
    head = [part for part in eegnet_footprint(pq, 32).parts if part.name.startswith("FC")][0]
    m, K, n_out = pq.head.luts.shape
    idx_bits = int(np.ceil(np.log2(pq.n_features)))
    assert head.n_bytes == (32 * m * (K - 1) + idx_bits * m * 4 + 8 * m * K * n_out + 32 * (1 + n_out)) / 8


def test_params_from_layers_checks_its_layers_by_name():
    """Kernels go through check_real_array, pooling sizes through check_int, each naming the layer."""
    from eegbin.nn import EEGNet, params_from_layers

    p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128).params
    kw = {k: getattr(p, k) for k in ("temporal", "spatial", "depth", "point", "head", "pad_temporal", "pad_depth",
                                      "pool1", "pool2", "layout")}
    with pytest.raises(ValueError, match="spatial must be finite"):
        params_from_layers(**dict(kw, spatial=np.full_like(p.spatial, np.nan)))
    with pytest.raises(TypeError, match="point must hold numbers, got strings"):
        params_from_layers(**dict(kw, point=p.point.astype(str)))
    with pytest.raises(ValueError, match="temporal must not be empty"):
        params_from_layers(**dict(kw, temporal=p.temporal[:0]))
    with pytest.raises(TypeError, match="pool1 must be an integer, got float"):
        params_from_layers(**dict(kw, pool1=4.5))
    with pytest.raises(ValueError, match="pool2 must be >= 1, got 0"):
        params_from_layers(**dict(kw, pool2=0))

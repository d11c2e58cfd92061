"""EEGNet with binary features (BiPer's Sign, DeSign's per-map thresholds), without torch."""

import numpy as np
import pytest

from eegbin.nn import BinaryFeatures, EEGNet


@pytest.fixture(scope="module")
def net():
    return EEGNet(EEGNet.random_weights(4, 128, 3, rng=1), n_times=128)


def _tiled(T, n):
    """Row c of T repeated along time to n samples."""
    return np.tile(T, (1, -(-n // T.shape[1])))[:, :n]


def _oracle_logits(net, X, T_sep, T_head):
    """Layer by layer with numpy: pool1 maps -> Sign(z - T), separable, pool2 -> Sign, head."""
    p = net.params
    captured = {}
    from eegbin.nn import eegnet_forward as fwd

    def record(z, stage):
        captured[stage] = z
        return z

    fwd._features(p, X.astype(np.float64), np.dtype(np.float64), "reference", record)
    z1 = captured["pool1"]  # the real maps entering the separable block
    b1 = np.where(z1 - _tiled(T_sep, z1.shape[2]) >= 0, 1.0, -1.0)
    from eegbin.nn.layers import avg_pool_time, elu, temporal_filter

    z = temporal_filter(b1, p.depth, *p.pad_depth)
    z = np.matmul(p.point, z) + p.point_bias[:, None]
    z = z * p.separable_bn.scale[:, None] + p.separable_bn.shift[:, None]
    z = avg_pool_time(elu(z), p.pool2)
    b2 = np.where(z - _tiled(T_head, z.shape[2]) >= 0, 1.0, -1.0)
    return b2.reshape(len(X), -1) @ p.head.weight.T + p.head.bias


def test_binary_features_match_a_layer_by_layer_oracle(net):
    X = np.random.default_rng(0).normal(size=(5, 4, 128))
    rng = np.random.default_rng(1)
    cases = ((np.zeros((16, 1)), np.zeros((16, 1))),  # Sign
             (rng.uniform(0, 1, (16, 1)), rng.uniform(0, 1, (16, 1))),  # a threshold per map
             (rng.uniform(0, 1, (16, 2)), rng.uniform(0, 1, (16, 3))))  # kernels tiled in time
    for T_sep, T_head in cases:
        b = EEGNet.from_params(net.with_binary_features(T_sep, T_head).params, dtype="float64",
                               algorithm="reference")
        np.testing.assert_allclose(b.forward(X), _oracle_logits(net, X, T_sep, T_head),
                                   rtol=1e-10, atol=1e-10)
        assert set(np.unique(b.features(X)).tolist()) == {-1.0, 1.0}
    assert net.params.binary_features is None  # the original is unchanged


def test_binary_features_footprint_and_bad_thresholds(net):
    b = net.with_binary_features(np.full((16, 2), 0.3), np.full((16, 1), 0.7))
    assert b.footprint().total_params == net.footprint().total_params + 32 + 16
    sign = net.with_binary_features(np.zeros((16, 2)), np.zeros((16, 1)))  # Sign stores nothing
    assert sign.footprint().total_params == net.footprint().total_params
    with pytest.raises(ValueError, match="must hold 16 separable and 16 head kernels, got 8 and 16"):
        net.with_binary_features(np.zeros((8, 1)), np.zeros((16, 1)))
    with pytest.raises(ValueError, match="BinaryFeatures.head must be a finite 2-D array"):
        BinaryFeatures(np.zeros((16, 1)), np.array([np.nan]))
    pq = net.with_pq_head(np.random.default_rng(0).normal(size=(40, 4, 128)), n_subspaces=4)
    with pytest.raises(ValueError, match="with_binary_features changes the features"):
        pq.with_binary_features(np.zeros((16, 1)), np.zeros((16, 1)))

"""Feng et al.'s compressions of EEGNet, each tested against its claim, and footprints."""

import numpy as np
import pytest

from eegbin import EEGNetClassifier
from eegbin.nn import EEGNet
from eegbin.nn.layers import elu

from ._weights import keras_weights


@pytest.fixture(scope="module")
def net_and_X():
    rng = np.random.default_rng(0)
    w = EEGNet.random_weights(22, 500, 4, rng=rng)
    return w, rng.standard_normal((16, 22, 500))


def test_table2_footprint_hersche_config():
    """22 x 1125, pooling 8/8, Keras "same" padding: the conv/FC MACs of Hersche Table II."""
    net = EEGNet(keras_weights(np.random.default_rng(0), pool1=8, pool2=8), n_times=1125,
                 pool1_kernel_size=8, pool2_kernel_size=8)
    fp = net.footprint(float_bits=16)
    rows = {p.name: p for p in fp.parts}
    conv = {name: rows[name].parts[0] for name in ("Temp. convolution", "Depw. convolution", "Sep. convolution")}
    assert conv["Temp. convolution"].macs == 12_672_000
    assert conv["Depw. convolution"].macs == 396_000
    assert conv["Sep. convolution"].macs == 71_680
    assert rows["FC"].macs == 1088
    # memory per block in float16 incl. batch norm (4 values per map): 1.09, 0.83, 1.15, 2.18 kB
    assert [round(rows[n].kB, 2) for n in ("Temp. convolution", "Depw. convolution", "Sep. convolution", "FC")] == [
        1.09, 0.83, 1.15, 2.18]
    assert round(sum(c.macs for c in conv.values()) + rows["FC"].macs, -4) == 13_140_000


def test_batchnorm_folding_exact_and_cheaper(net_and_X):
    w, X = net_and_X
    net = EEGNet(w, n_times=500, dtype="float64")
    folded = net.fold_batchnorm()
    for alg in ("reordered", "reference"):
        a = EEGNet(w, n_times=500, dtype="float64", algorithm=alg)
        b = a.fold_batchnorm()
        np.testing.assert_allclose(b.forward(X), a.forward(X), atol=1e-6, rtol=0)
        assert np.max(np.abs(b.forward(X) - a.forward(X))) < 1e-10
    f0, f1 = net.footprint(), folded.footprint()
    assert f1.total_macs < f0.total_macs
    assert f1.total_params < f0.total_params
    assert not any(p.name == "batch norm" for _, p in f1.rows())
    assert folded.bn == [None, None, None]


def test_channel_selection_eq1(net_and_X):
    w, X = net_and_X
    w = dict(w)
    spatial = w["conv_spatial.parametrizations.weight.original"].copy()
    dead = [0, 3, 7, 11, 15, 21]
    spatial[:, :, dead] = 0.0  # channels the network ignores
    w["conv_spatial.parametrizations.weight.original"] = spatial
    net = EEGNet(w, n_times=500, dtype="float64")
    # eq. (1): l1 norm over the F1*D spatial kernels of each channel (after max-norm)
    np.testing.assert_allclose(net.spatial_channel_scores(), np.abs(net.spatial).sum(0))
    sel = net.select_channels(16)
    assert set(sel.channels) == set(range(22)) - set(dead)
    np.testing.assert_allclose(sel.forward(X), net.forward(X), atol=1e-10)  # nothing lost
    t_full = net.footprint().parts[0].parts[0].macs
    t_sel = sel.footprint().parts[0].parts[0].macs
    assert t_sel * 22 == t_full * 16  # temporal conv cost scales with C_s / C (Feng: 1.375x)
    # the top channel by eq. 1 survives any budget
    assert np.argmax(net.spatial_channel_scores()) in net.select_channels(1).channels
    with pytest.raises(ValueError, match="n_selected"):
        net.select_channels(0)


def test_channel_selection_refits_head():
    rng = np.random.default_rng(2)
    C, T = 8, 200
    w = EEGNet.random_weights(C, T, 2, rng=rng)
    X = rng.standard_normal((80, C, T))
    F = EEGNet(w, n_times=T, dtype="float64").select_channels(5).features(X)
    score = F @ rng.standard_normal(F.shape[1])
    y = (score > np.median(score)).astype(int)
    clf = EEGNetClassifier(w, C, T, 250.0, n_selected_channels=5, refit_head=True, C=100.0).fit(X, y)
    assert len(clf.channels_) == 5
    assert clf.score(X, y) > 0.85  # the re-fitted head recovers what the 5 channels carry
    assert clf.footprint().parts[0].parts[0].macs == 8 * 5 * (T + 1) * 64


def test_elu_table(net_and_X):
    w, X = net_and_X
    net = EEGNet(w, n_times=500, dtype="float64")
    tab = net.with_elu_table(256)
    table = tab.params.elu_table  # (x, y): the grid and expm1 on it
    grid = table.x
    x = np.linspace(-12, 3, 100001)
    from eegbin.nn.layers import elu_table

    err = np.abs(elu_table(x, table.x, table.y) - elu(x))
    h = grid[1] - grid[0]
    # linear interpolation of exp on [-8, 0] errs by at most h^2/8; below -8 the clamp errs < e^-8
    assert err[x >= -8].max() <= h**2 / 8 + 1e-15
    assert err.max() <= np.exp(-8)
    z0, z1 = net.forward(X), tab.forward(X)
    assert np.max(np.abs(z1 - z0)) < 1e-2
    assert np.mean(np.argmax(z1, 1) == np.argmax(z0, 1)) >= 0.9
    assert tab.footprint().parts[1].parts[-2].name == "ELU (table)"


def test_softmax_to_max(net_and_X):
    w, X = net_and_X
    y = np.arange(len(X)) % 4
    a = EEGNetClassifier(w, 22, 500, 250.0, refit_head=False).fit(X, y)
    b = EEGNetClassifier(w, 22, 500, 250.0, refit_head=False, output="max").fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(np.argmax(a.predict_proba(X), 1), np.argmax(a.decision_function(X), 1))
    assert a.footprint().parts[-1].macs == 4 and b.footprint().parts[-1].macs == 0


def _mi_like(rng, n, C=8, T=256, n_classes=3, sfreq=128.0):
    """Trials whose class sets the amplitude of a 10 Hz rhythm on a class-specific channel group."""
    t = np.arange(T) / sfreq
    y = np.arange(n) % n_classes
    X = rng.standard_normal((n, C, T)) * 0.5
    phase = rng.uniform(0, 2 * np.pi, n)
    for i in range(n):
        chans = np.arange(C)[y[i] :: n_classes]
        X[i, chans] += 2.0 * np.sin(2 * np.pi * 10 * t + phase[i])
    return X, y


@pytest.fixture(scope="module")
def mi_task():
    rng = np.random.default_rng(5)
    C, T = 8, 256
    w = EEGNet.random_weights(C, T, 3, rng=rng)
    X, y = _mi_like(rng, 240, C, T)
    return w, X[:160], y[:160], X[160:], y[160:], C, T


def test_product_quantized_head(mi_task):
    """Feng Fig. 3: with m = 8 sub-vectors the PQ head is close to the dense head."""
    w, X, y, Xt, yt, C, T = mi_task
    dense = EEGNetClassifier(w, C, T, 128.0, dtype="float64", refit_head=True).fit(X, y)
    pq = EEGNetClassifier(w, C, T, 128.0, dtype="float64", refit_head=True, head="pq").fit(X, y)
    acc_dense, acc_pq = dense.score(Xt, yt), pq.score(Xt, yt)
    assert acc_dense > 0.8
    assert acc_pq >= acc_dense - 0.1
    fd, fp = dense.footprint(), pq.footprint()
    fc_d = [p for p in fd.parts if p.name == "FC"][0]
    fc_p = [p for p in fp.parts if p.name.startswith("FC")][0]
    assert fc_p.total_macs < fc_d.total_macs  # 8 x 4 comparisons + 8 x 3 table additions
    assert fc_p.total_macs == 8 * 4 + 8 * 3 + 3


def test_fixed_point_8bit_weights_16bit_activations(mi_task):
    """Feng V-A: 8-bit kernels and 16-bit feature maps cost (almost) no accuracy."""
    w, X, y, Xt, yt, C, T = mi_task
    flt = EEGNetClassifier(w, C, T, 128.0, dtype="float64", refit_head=True).fit(X, y)
    fxp = EEGNetClassifier(w, C, T, 128.0, refit_head=True, fixed_point=True).fit(X, y)
    agree = np.mean(fxp.predict(Xt) == flt.predict(Xt))
    assert agree >= 0.95
    assert fxp.score(Xt, yt) >= flt.score(Xt, yt) - 0.05
    net = fxp.net_
    for name in ("temporal", "spatial", "depth", "point"):
        wq = getattr(net, name)
        step = np.min(np.abs(wq[wq != 0]))
        levels = np.unique(np.round(wq / step))
        assert len(levels) <= 256, name  # on an 8-bit grid
        np.testing.assert_allclose(wq / step, np.round(wq / step), atol=1e-9)
    assert fxp.footprint().kB < flt.footprint().kB / 3  # 8-bit vs 32-bit weights, no BN


def test_reordered_linear_block_cost():
    """Issue hint: spatial mixing first, then F1*D single-channel filters (~8x fewer MACs)."""
    net = EEGNet(EEGNet.random_weights(22, 1125, 4, rng=0), n_times=1125)
    layered = net.footprint().parts[0].total_macs
    reordered = net.footprint(reordered=True).parts[0].total_macs
    assert reordered == 16 * 22 * 1125 + 16 * 65 * 1126
    assert layered / reordered > 8


def test_compression_arguments_are_checked_by_name():
    """A wrong type is a TypeError, a wrong value a ValueError, each naming its argument."""
    from eegbin.nn import select_channels, with_elu_table, with_fixed_point, with_head

    net = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128)
    p, X = net.params, np.random.default_rng(0).standard_normal((3, 4, 128))
    with pytest.raises(TypeError, match="n_selected must be an integer, got bool"):
        select_channels(p, True)
    with pytest.raises(ValueError, match=r"n_selected must be in \[1, 4\], got 5"):
        select_channels(p, 5)
    with pytest.raises(TypeError, match="n_entries must be an integer, got float"):
        with_elu_table(p, 16.5)
    with pytest.raises(ValueError, match="n_entries: an ELU table of 1000000000000000 points would take"):
        with_elu_table(p, 10**15)
    with pytest.raises(ValueError, match="x_min must be a finite number in"):
        with_elu_table(p, 16, 0.0)
    with pytest.raises(TypeError, match="weight_bits must be an integer"):
        with_fixed_point(p, X, weight_bits="8")
    with pytest.raises(ValueError, match=r"act_bits must be in \[2, 64\], got 65"):
        with_fixed_point(p, X, act_bits=65)
    with pytest.raises(ValueError, match="X_calib must be finite: trial 1"):
        with_fixed_point(p, np.where(np.arange(3)[:, None, None] == 1, np.nan, X))
    with pytest.raises(ValueError, match="weight must be finite"):
        with_head(p, np.full((3, p.n_features), np.inf), np.zeros(3))
    with pytest.raises(TypeError, match="bias must hold numbers, got strings"):
        with_head(p, np.zeros((3, p.n_features)), np.zeros(3).astype(str))
    with pytest.raises(TypeError, match="n_times must be an integer, got str"):
        EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times="128")
    with pytest.raises(TypeError, match="pool1_kernel_size must be an integer, got bool"):
        EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), pool1_kernel_size=True)
    with pytest.raises(ValueError, match="norm_rate must be a finite number in"):
        EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), norm_rate=0.0)

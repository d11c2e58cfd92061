import numpy as np
import pytest

torch = pytest.importorskip("torch")

from eegbin.train.quantizers import (  # noqa: E402
    DeSignActivation,
    MultiLevelBinarize,
    approx_sign,
    biper_gamma,
    biper_sign,
    biper_weight,
    sign_ste,
    tile_kernel,
)


def test_sign_ste_forward_and_clipped_gradient():
    x = torch.linspace(-2, 2, 41, dtype=torch.float64, requires_grad=True)
    y = sign_ste(x, clip=1.0)
    assert torch.equal(y, torch.where(x >= 0, 1.0, -1.0).double())
    y.backward(torch.ones_like(x))
    assert torch.equal(x.grad, (x.abs() <= 1).double())


def test_approx_sign_gradient_is_eq7():
    x = torch.tensor([-1.5, -1.0, -0.25, 0.0, 0.5, 0.999, 1.0], dtype=torch.float64, requires_grad=True)
    approx_sign(x).sum().backward()
    expected = [0.0, 0.0, 1.5, 2.0, 1.0, 2 - 2 * 0.999, 0.0]
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_biper_sign_gradient_is_omega_cos():
    w = torch.linspace(-3, 3, 31, dtype=torch.float64, requires_grad=True)
    omega = 2.5
    y = biper_sign(w, omega)
    assert torch.equal(y, torch.where(torch.sin(omega * w) >= 0, 1.0, -1.0).double())
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), omega * np.cos(omega * w.detach().numpy()))


def test_biper_gamma_matches_monte_carlo_on_laplace():
    rng = np.random.default_rng(0)
    b, omega = 0.7, 1.3
    w = torch.tensor(rng.laplace(0, b, 400_000))
    gamma = biper_gamma(w, omega)
    mc = np.abs(np.sin(omega * w.numpy())).mean()
    assert abs(gamma - mc) < 4 * np.abs(np.sin(omega * w.numpy())).std() / np.sqrt(len(w))


def test_biper_two_stages():
    w = torch.randn(100, dtype=torch.float64)
    np.testing.assert_allclose(biper_weight(w, 3.0, stage=1).numpy(), np.sin(3.0 * w.numpy()))
    q = biper_weight(w, 3.0, stage=2).numpy()
    assert len(np.unique(np.abs(q))) == 1
    with pytest.raises(ValueError, match="stage"):
        biper_weight(w, 3.0, stage=3)


def test_tile_kernel_periodic_over_chosen_axes():
    k = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    t = tile_kernel(k, (2, 5, 7), axes=(1, 2))
    assert t.shape == (1, 5, 7)
    for i in range(5):
        for j in range(7):
            assert t[0, i, j] == k[i % 2, j % 3]
    # axes given in reverse order: kernel axis 0 runs along input axis 2
    t2 = tile_kernel(k, (5, 7), axes=(1, 0))
    for i in range(5):
        for j in range(7):
            assert t2[i, j] == k[j % 2, i % 3]


def test_design_activation_constant_kernel_is_shifted_sign():
    x = torch.randn(3, 6, 8)
    act = DeSignActivation(np.full((2, 2), 0.3), axes=(1, 2))
    assert torch.equal(act(x), torch.where(x - 0.3 >= 0, 1.0, -1.0))
    with pytest.raises(ValueError, match="kernel"):
        DeSignActivation(np.zeros((2, 2, 2)), axes=(0, 1, 2))


def test_multilevel_binarize_greedy_init_and_learnable_scales():
    torch.manual_seed(0)
    x = torch.randn(1000, dtype=torch.float64)
    errs = []
    for L in (1, 2, 3, 4):
        q = MultiLevelBinarize(L).double()
        errs.append(float(((q(x) - x) ** 2).mean().detach()))
    assert all(a > b for a, b in zip(errs, errs[1:]))
    q = MultiLevelBinarize(2).double()
    out = q(x)
    ((out - x) ** 2).mean().backward()
    assert q.scales.grad is not None and torch.all(q.scales.grad != 0)
    with pytest.raises(ValueError, match="n_levels"):
        MultiLevelBinarize(0)


def test_multilevel_binarize_ste_is_numpy_algorithm_1_with_given_scales():
    """Forward: numpy's Algorithm 1 bit for bit (float64, offsets, per-column scales); backward:
    straight-through for x, the planes for the scales."""
    from eegbin.nn.lstm_cell import SignalQuantizer
    from eegbin.train.quantizers import multilevel_binarize_ste

    rng = np.random.default_rng(0)
    v = rng.uniform(size=(6, 12))
    scales = np.array([[0.3] * 6 + [0.2] * 6, [0.1] * 6 + [0.05] * 6], dtype=np.float32)
    offsets = np.array([0.5] * 6 + [0.0] * 6)
    x = torch.tensor(v, requires_grad=True)
    a = torch.tensor(scales, requires_grad=True)
    out = multilevel_binarize_ste(x, a, torch.tensor(offsets))
    for cols, off in ((slice(0, 6), 0.5), (slice(6, 12), 0.0)):
        q = SignalQuantizer(2, scales=scales[:, cols.start].astype(np.float64), offset=off)
        np.testing.assert_array_equal(out.detach().numpy()[:, cols], q.approximate(v[:, cols]))
    w = torch.tensor(rng.normal(size=v.shape))
    (out * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy())
    planes = np.stack([np.where(v - offsets >= 0, 1.0, -1.0)])
    np.testing.assert_allclose(a.grad.numpy()[0], (w.numpy() * planes[0]).sum(0), rtol=1e-6)


def test_piecewise_linear_gradient_is_the_slope():
    from eegbin.train.quantizers import PiecewiseLinear

    table = PiecewiseLinear("sigmoid", 16)
    z = torch.tensor([-9.0, -1.3, 0.2, 8.5], dtype=torch.float64, requires_grad=True)
    table(z).sum().backward()
    xp, fp = table.xp.numpy(), table.fp.numpy()
    j = np.searchsorted(xp, z.detach().numpy()[1:3], side="right") - 1
    np.testing.assert_allclose(z.grad.numpy(), [0.0, *((fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])), 0.0])

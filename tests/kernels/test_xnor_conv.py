"""Binary convolutions through XNOR-popcount (kernels.xnor_conv) against numpy float convolutions."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from eegbin.kernels import binary_conv1d, multilevel_matmul, pack_bits, pack_windows, separable_to_full


def bipolar(b):
    return np.where(b, 1.0, -1.0)


def conv_numpy(signs, scales, wsigns, wscales):
    """Valid cross-correlation of the reconstructed inputs and filters (float)."""
    x = np.einsum("ls,lsct->sct", scales, bipolar(signs))
    w = np.einsum("jf,jfck->fck", wscales, bipolar(wsigns))
    win = sliding_window_view(x, w.shape[2], axis=2)  # (n, C, T_out, K)
    return np.einsum("sctk,fck->sft", win, w)


@pytest.mark.parametrize("L, Lw, n, C, T, F, K", [(1, 1, 2, 3, 10, 4, 3), (2, 1, 3, 16, 40, 16, 16),
                                                   (3, 2, 1, 5, 70, 3, 13), (1, 1, 1, 1, 5, 1, 5)])
def test_binary_conv1d_equals_float_convolution(L, Lw, n, C, T, F, K):
    rng = np.random.default_rng(L + C + K)
    signs = rng.random((L, n, C, T)) < 0.5
    wsigns = rng.random((Lw, F, C, K)) < 0.5
    scales, wscales = rng.random((L, n)), rng.random((Lw, F))
    out = binary_conv1d(signs, scales, wsigns, wscales)
    assert out.shape == (n, F, T - K + 1)
    np.testing.assert_allclose(out, conv_numpy(signs, scales, wsigns, wscales), rtol=1e-12, atol=1e-12 * C * K)


def test_windows_are_the_receptive_fields_bit_for_bit():
    rng = np.random.default_rng(1)
    signs = rng.random((2, 3, 7, 30)) < 0.5
    K = 11
    win = pack_windows(signs, K)
    T_out = 30 - K + 1
    for level in range(2):
        for s in range(3):
            for t in (0, 5, T_out - 1):
                field = signs[level, s, :, t:t + K].T.reshape(-1)  # bit k * C + c
                np.testing.assert_array_equal(win[level, s * T_out + t], pack_bits(field[None])[0])


def test_binary_conv1d_is_multilevel_matmul_of_the_windows():
    rng = np.random.default_rng(2)
    signs = rng.random((2, 2, 16, 30)) < 0.5
    wsigns = rng.random((1, 16, 16, 16)) < 0.5
    scales, wscales = rng.random((2, 2)), rng.random((1, 16))
    out = binary_conv1d(signs, scales, wsigns, wscales)
    T_out = 15
    filters = pack_bits(np.ascontiguousarray(wsigns[0].transpose(0, 2, 1).reshape(16, 256)))[None]
    ref = multilevel_matmul(pack_windows(signs, 16), np.repeat(scales, T_out, axis=1), filters, wscales, 256)
    np.testing.assert_array_equal(out, ref.reshape(2, T_out, 16).transpose(0, 2, 1))


def test_separable_binary_convolution_equals_the_full_binary_one():
    # depthwise (one K-tap filter per map, scale g_d) then pointwise (F x M, scale g_p)
    rng = np.random.default_rng(3)
    M, K, F, T = 16, 16, 16, 60
    x = bipolar(rng.random((2, M, T)) < 0.5) * 0.7
    d, p = rng.random((M, K)) < 0.5, rng.random((F, M)) < 0.5
    g_d, g_p = 0.3, 1.7
    depth = np.einsum("smtk,mk->smt", sliding_window_view(x, K, axis=2), g_d * bipolar(d))
    separable = np.einsum("fm,smt->sft", g_p * bipolar(p), depth)
    full = binary_conv1d((x > 0)[None], [0.7], separable_to_full(d, p)[None], [g_p * g_d])
    np.testing.assert_allclose(full, separable, rtol=1e-12, atol=1e-12)


def test_bad_input_names_the_argument():
    s = np.zeros((1, 1, 2, 8), bool)
    w = np.zeros((1, 3, 2, 4), bool)
    with pytest.raises(TypeError, match="signs must be boolean"):
        binary_conv1d(s.astype(int), [1.0], w, [1.0])
    with pytest.raises(ValueError, match="signs must be 4-D"):
        pack_windows(s[0], 2)
    with pytest.raises(ValueError, match="kernel_size must be in"):
        pack_windows(s, 9)
    with pytest.raises(ValueError, match="weight_planes has 3 channels"):
        binary_conv1d(s, [1.0], np.zeros((1, 3, 3, 4), bool), [1.0])
    with pytest.raises(ValueError, match=r"scales must have shape \(1,\) or \(1, 1\) for signs"):
        binary_conv1d(s, [1.0, 2.0], w, [1.0])
    with pytest.raises(ValueError, match="must share M"):
        separable_to_full(np.zeros((3, 4), bool), np.zeros((2, 5), bool))
    with pytest.raises(ValueError, match=r"weight_scales must have shape \(1,\) or \(1, 3\) for weight_planes"):
        binary_conv1d(s, [1.0], w, [1.0, 2.0])
    with pytest.raises(TypeError, match="weight_scales must hold real numbers"):
        binary_conv1d(s, [1.0], w, [True])
    with pytest.raises(TypeError, match="scales must hold numbers, got strings"):
        binary_conv1d(s, ["1.0"], w, [1.0])
    with pytest.raises(ValueError, match="weight_planes must be 4-D"):
        binary_conv1d(s, [1.0], w[0], [1.0])
    with pytest.raises(TypeError, match="pointwise_signs must be boolean"):
        separable_to_full(np.zeros((3, 4), bool), np.zeros((2, 3), int))

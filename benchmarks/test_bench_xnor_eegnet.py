"""Binarized EEGNet layers through XNOR-popcount vs the float layers (torch, float32), one thread.

The layers that BiPer/STE training binarizes (binary weights ``gamma * sign(w)``):
the separable block (depthwise 16 taps on F1*D = 16 maps, then pointwise 16 -> F2 = 16)
and the dense classifier (F2 * T/32 features -> 4 classes), at EEGNet's sizes for
22 x 1125 trials, batch 1 and 288 (``--benchmark-enable``; reduced in the test run).

Binary path: Algorithm 1 on each trial's activations (``A`` levels, numpy), the
separable block as ONE binary convolution over 16 maps x 16 taps
(:func:`eegbin.kernels.separable_to_full`, :func:`eegbin.kernels.binary_conv1d`), the
classifier by :func:`eegbin.kernels.multilevel_matmul` with one weight level. Peer: the
float layers in torch (grouped conv1d, 1x1 conv1d, linear). ``extra_info`` holds
``torch / eegbin`` for the kernel alone (sign planes given) and with the binarization
of the activations; floors are loose.
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from eegbin.kernels import binary_conv1d, multilevel_matmul, separable_to_full, unpack_bits
from eegbin.quantize import multilevel_binarize

from .conftest import best_time, record_ratio


def _signs(acts, A):
    """Algorithm 1 on each trial's (maps, times) activations: sign planes (A, n, M, T) and scales (A, n)."""
    n, M, T = acts.shape
    code = multilevel_binarize(acts.reshape(n, M * T), A, axis=1)
    signs = np.stack([unpack_bits(p, M * T) for p in code.planes]).reshape(A, n, M, T)
    return signs, code.scales


@pytest.mark.parametrize("batch", [1, 288])
@pytest.mark.parametrize("A", [1, 2])
def test_bench_binary_separable_and_dense(benchmark, full_size, batch, A):
    torch = pytest.importorskip("torch")
    M, K, F2, n_classes = 16, 16, 16, 4
    T = 281 if full_size else 40  # samples after the first pooling of a 1125-sample trial
    T3 = T // 8
    rng = np.random.default_rng(batch)
    acts = rng.normal(size=(batch, M, T + K - 1))  # zero-padded input of the 'same' convolution
    d_signs, p_signs = rng.random((M, K)) < 0.5, rng.random((F2, M)) < 0.5
    g_d, g_p = 0.05, 0.2
    full = separable_to_full(d_signs, p_signs)[None]
    head_signs = rng.random((1, n_classes, F2 * T3)) < 0.5
    feats = rng.normal(size=(batch, F2 * T3))

    signs, scales = _signs(acts, A)
    head_code = multilevel_binarize(np.where(head_signs[0], 0.1, -0.1), 1)
    feat_code = multilevel_binarize(feats, A, axis=1)

    def kernel_only():
        binary_conv1d(signs, scales, full, [g_p * g_d])
        multilevel_matmul(feat_code.planes, feat_code.scales, head_code.planes, head_code.row_scales(),
                          F2 * T3)

    def with_binarization():
        s, sc = _signs(acts, A)
        binary_conv1d(s, sc, full, [g_p * g_d])
        fc = multilevel_binarize(feats, A, axis=1)
        multilevel_matmul(fc.planes, fc.scales, head_code.planes, head_code.row_scales(), F2 * T3)

    depth = torch.nn.Conv1d(M, M, K, groups=M, bias=False)
    point = torch.nn.Conv1d(M, F2, 1, bias=False)
    head = torch.nn.Linear(F2 * T3, n_classes)
    xt = torch.from_numpy(acts.astype(np.float32))
    ft = torch.from_numpy(feats.astype(np.float32))

    def float_torch():
        point(depth(xt))
        head(ft)

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1), torch.no_grad():
            kernel_only()
            with_binarization()
            times = {"torch": [], "kernel": [], "binarized": []}
            for _ in range(3 if full_size else 1):
                times["torch"].append(best_time(float_torch, 5))
                times["kernel"].append(best_time(kernel_only, 5))
                times["binarized"].append(best_time(with_binarization, 3))
            benchmark.pedantic(kernel_only, rounds=3, iterations=1)
    finally:
        torch.set_num_threads(old)
    best = {k: min(v) for k, v in times.items()}
    benchmark.extra_info["size"] = (f"batch {batch}, A = {A}, separable {M}x{K} -> {F2} over {T} samples, "
                                    f"dense {F2 * T3} -> 4")
    benchmark.extra_info["us"] = {k: 1e6 * v for k, v in best.items()}
    r_kernel = record_ratio(benchmark, "torch_over_xnor_kernel", best["torch"], best["kernel"])
    record_ratio(benchmark, "torch_over_xnor_with_binarization", best["torch"], best["binarized"])
    if full_size:  # loose floor: measured 0.04-2.2x at batch 288 on the shared machine (load spikes)
        assert r_kernel > 0.01

"""numpy EEGNet (eegbin.nn.EEGNet) vs the same model in torch CPU and ONNX Runtime.

Full size (``--benchmark-enable``): 22 channels x 1125 samples, batch 1 and 288,
all three with the same thread count (1, and all cores). ``extra_info`` holds ``torch/eegbin`` and
``onnxruntime/eegbin`` time ratios (> 1: eegbin faster). Goal (issue 7): no slower
than torch at batch 288, faster at batch 1.
"""

import io
import os
import time

import numpy as np
import pytest

from eegbin.nn import EEGNet

from .conftest import record_ratio


def _best(f, repeats):
    f()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def _onnx_session(model, n_chans, n_times, n_threads):
    """Export the (frozen) torch model to ONNX in memory; None + reason if unavailable."""
    try:
        import onnx  # noqa: F401
        import onnxruntime as ort
    except ImportError as exc:
        return None, f"onnxruntime/onnx not installed ({exc})"
    import torch

    buf = io.BytesIO()
    torch.onnx.export(model, (torch.zeros(1, n_chans, n_times),), buf, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = n_threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"]), ""


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore:Converting a tensor to a Python boolean")
@pytest.mark.parametrize("threads", ["one", "all"])
@pytest.mark.parametrize("batch", [1, 288])
def test_bench_eegnet_vs_torch_onnx(benchmark, full_size, batch, threads):
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_limits

    from tests.nn._torch_eegnet import BraindecodeEEGNet

    n_chans, n_times = (22, 1125) if full_size else (8, 256)
    batch = batch if full_size else min(batch, 8)
    repeats = 5 if full_size else 1
    n_threads = 1 if threads == "one" else (os.cpu_count() or 1)
    torch.set_num_threads(n_threads)

    ref = BraindecodeEEGNet(n_chans, 4, n_times).randomize(0)
    frozen = ref.frozen()  # max-norm applied once: what ONNX (and a deployed torch model) runs
    weights = {k: v.numpy() for k, v in ref.state_dict().items()}
    net = EEGNet(weights, n_chans=n_chans, n_times=n_times)
    X = np.random.default_rng(0).standard_normal((batch, n_chans, n_times)).astype(np.float32)
    Xt = torch.from_numpy(X)

    with threadpool_limits(limits=n_threads):
        ours = benchmark(net.forward, X)
        t_ours = _best(lambda: net.forward(X), repeats)
    with torch.inference_mode():
        expected = ref(Xt).numpy()
        t_torch = _best(lambda: frozen(Xt), repeats)
        t_torch_param = _best(lambda: ref(Xt), repeats)
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    benchmark.extra_info.update(batch=batch, n_chans=n_chans, n_times=n_times, threads=n_threads)
    r_torch = record_ratio(benchmark, "torch/eegbin", t_torch, t_ours)
    record_ratio(benchmark, "torch_parametrized/eegbin", t_torch_param, t_ours)

    session, reason = _onnx_session(frozen, n_chans, n_times, n_threads)
    if session is None:
        benchmark.extra_info["onnxruntime/eegbin"] = f"skipped: {reason}"
    else:
        np.testing.assert_allclose(session.run(None, {"x": X})[0], expected, atol=1e-4)
        t_onnx = _best(lambda: session.run(None, {"x": X}), repeats)
        record_ratio(benchmark, "onnxruntime/eegbin", t_onnx, t_ours)
    if full_size:  # loose floor against regressions; the goal is >= 1
        assert r_torch > 0.5, benchmark.extra_info

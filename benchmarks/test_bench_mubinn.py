"""MuBiNN2 binarized LSTM cell vs the float numpy cell and torch.nn.LSTM (CPU, 1 thread).

Full size (``--benchmark-enable``): MuBiNN Section V network, 32 features, 100 units,
200 time steps, batch 1 and 64, (A, W) = (3, 3). Reduced size in the test run.
The ratios (peer time / MuBiNN2 time; > 1 means the binarized cell is faster) are
stored in ``benchmark.extra_info``.
"""

import time

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from eegbin.nn import LSTM, MultiLevelBinarizedLSTM

from .conftest import record_ratio


def _best(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("batch", [1, 64])
def test_bench_mubinn2_cell(benchmark, full_size, batch):
    torch = pytest.importorskip("torch")
    D, H, T = (32, 100, 200) if full_size else (8, 16, 12)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    sd = {k: v.detach().numpy() for k, v in lstm.state_dict().items()}
    x = np.random.default_rng(0).normal(size=(batch, T, D))
    xt = torch.from_numpy(x.astype(np.float32))
    float_net, mub = LSTM(sd), MultiLevelBinarizedLSTM(sd, 3, 3)
    old_torch, old_numba = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    try:
        with threadpool_limits(1), torch.no_grad():
            mub.features(x)  # compile
            t_float = _best(lambda: float_net.features(x))
            t_torch = _best(lambda: lstm(xt))
            t_ours = _best(lambda: mub.features(x))
            benchmark(mub.features, x)
    finally:
        torch.set_num_threads(old_torch)
        numba.set_num_threads(old_numba)
    benchmark.extra_info["size"] = f"batch {batch}, {T} steps, {D} -> {H}"
    benchmark.extra_info["ms_per_step"] = {
        "float numpy": 1e3 * t_float / T, "torch": 1e3 * t_torch / T, "mubinn2 (3,3)": 1e3 * t_ours / T
    }
    r_float = record_ratio(benchmark, "float_numpy_over_mubinn2", t_float, t_ours)
    record_ratio(benchmark, "torch_over_mubinn2", t_torch, t_ours)
    if full_size:  # loose floor: the fused kernel must not regress to the numpy reference speed
        assert r_float > 0.05

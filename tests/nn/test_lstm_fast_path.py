"""The LSTM core's fast path (the fused XNOR-popcount kernel) against its numpy engine, bit for bit."""

import numpy as np
import pytest

from eegbin.nn import MultiLevelBinarizedLSTM


def _weights(seed, D=7, H=12):
    rng = np.random.default_rng(seed)
    return {"weight_ih_l0": 0.4 * rng.normal(size=(4 * H, D)), "weight_hh_l0": 0.3 * rng.normal(size=(4 * H, H)),
            "bias_ih_l0": 0.1 * rng.normal(size=4 * H), "bias_hh_l0": 0.1 * rng.normal(size=4 * H)}


@pytest.mark.parametrize("A, W", [(1, 1), (2, 2), (3, 3)])
@pytest.mark.parametrize("batch", [1, 3, 9])  # both data layouts of the kernel (lanes: units / samples)
@pytest.mark.parametrize("scales", ["run-time", "static", "power_of_two"])
def test_numba_engine_equals_numpy_engine_bit_for_bit(A, W, batch, scales):
    sd = _weights(A + batch)
    x = np.random.default_rng(batch).normal(size=(batch, 11, 7))
    kw = dict(activation_scaling="power_of_two") if scales == "power_of_two" else {}
    fast = MultiLevelBinarizedLSTM(sd, A, W, **kw)
    ref = MultiLevelBinarizedLSTM(sd, A, W, engine="numpy", **kw)
    if scales == "static":
        fast.calibrate(x)
        ref.activation_scales_ = fast.activation_scales_
    (o1, (h1, c1)), (o2, (h2, c2)) = ref.forward(x), fast.forward(x)
    np.testing.assert_array_equal(o2, o1)
    np.testing.assert_array_equal(c2, c1)
    np.testing.assert_array_equal(h2, h1)

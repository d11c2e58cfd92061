"""Bad tensors inside weight dicts: the battery spoils arrays, not dict values, so each taker is walked here.

Every case spoils one tensor of a valid dict and expects the error type of the bad-input rule
(tests/bad_input/battery.py: NaN, Inf, wrong ndim, complex, ragged -> ValueError; bool, objects,
strings -> TypeError), with a message naming the spoiled key.
"""

import numpy as np
import pytest

from eegbin.nn import LearnedMultiLevelLSTM, WeightDict, check_weights, resolve_lstm_weights
from eegbin.nn.export_format import MUBINN2_ACTIVATIONS, lstm_quantization_metadata


def _nan(a):
    a = np.array(a, dtype=np.float64)
    a.flat[0] = np.nan
    return a


def _inf(a):
    a = np.array(a, dtype=np.float64)
    a.flat[-1] = -np.inf
    return a


CASES = {
    "nan": (_nan, ValueError), "inf": (_inf, ValueError),
    "ndim_low": (lambda a: np.array(a.ravel()[0]) if a.ndim == 1 else a[0], ValueError),
    "ndim_high": (lambda a: a[None], ValueError),
    "complex": (lambda a: a.astype(np.complex128), ValueError),
    "object": (lambda a: np.full(a.shape, None, dtype=object), TypeError),
    "string": (lambda a: a.astype(str), TypeError),
    "bool": (lambda a: a > 0, TypeError),
}


def _lstm_dict():
    rng = np.random.default_rng(0)
    return {"weight_ih_l0": rng.normal(size=(8, 3)), "weight_hh_l0": rng.normal(size=(8, 2)),
            "bias_ih_l0": rng.normal(size=8), "bias_hh_l0": rng.normal(size=8)}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("key", ["fc.weight", "fc.bias"])
def test_check_weights_names_the_bad_tensor(key, case):
    spoil, exc = CASES[case]
    w = {"fc.weight": np.ones((4, 3)), "fc.bias": np.ones(4)}
    w[key] = spoil(w[key])
    with pytest.raises(exc, match=f"weights: tensor '{key}'"):
        check_weights(w, {"fc.weight": (4, 3), "fc.bias": (4,)})


def test_check_weights_names_a_ragged_tensor():
    with pytest.raises(ValueError, match="weights: tensor 'fc.bias' is not a rectangular array"):
        check_weights({"fc.bias": [[1.0], [1.0, 2.0]]}, {"fc.bias": (None, None)})


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("key", sorted(_lstm_dict()))
def test_resolve_lstm_weights_names_the_bad_tensor(key, case):
    spoil, exc = CASES[case]
    w = _lstm_dict()
    w[key] = spoil(w[key])
    with pytest.raises(exc, match=f"weights: tensor '{key}'"):
        resolve_lstm_weights(w)
    with pytest.raises(exc, match=f"weights: tensor '{key}'"):
        resolve_lstm_weights(WeightDict(w))  # what load_weights returns


def _learned():
    rng = np.random.default_rng(0)
    w = {"lstm.weight_ih_l0": rng.normal(size=(8, 3)), "lstm.weight_hh_l0": rng.normal(size=(8, 2)),
         "lstm.bias_ih_l0": np.zeros(8), "lstm.bias_hh_l0": np.zeros(8),
         "head.weight": rng.normal(size=(2, 2)), "head.bias": np.zeros(2)}
    planes = {k: np.where(w[k] >= 0, 1, -1)[None] for k in ("lstm.weight_ih_l0", "lstm.weight_hh_l0")}
    planes["lstm.bias_l0"] = np.ones((1, 8))
    gates = {"input_gate", "forget_gate", "output_gate"}
    q = lstm_quantization_metadata(planes, {k: [0.5] for k in planes}, {s: [0.25] for s in MUBINN2_ACTIVATIONS},
                                   {s: 0.5 if s in gates else 0.0 for s in MUBINN2_ACTIVATIONS}, 1.0)
    return w, q


def test_the_learned_lstm_fixture_is_valid():
    w, q = _learned()
    assert LearnedMultiLevelLSTM(w, q).logits(np.zeros((1, 4, 3))).shape == (1, 2)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("key", sorted(_learned()[0]))
def test_learned_lstm_names_the_bad_tensor(key, case):
    spoil, exc = CASES[case]
    w, q = _learned()
    w[key] = spoil(w[key])
    with pytest.raises(exc, match=f"'{key}'"):
        LearnedMultiLevelLSTM(w, q)


# the quantization dict is the export's JSON metadata: any malformed entry is a ValueError of the file's
# format (as the weight-file readers report it), naming its path in the metadata
@pytest.mark.parametrize("scale", [float("nan"), float("inf"), "0.5", None])
@pytest.mark.parametrize("where", ["weights", "activations"])
def test_learned_lstm_names_a_bad_scale(where, scale):
    w, q = _learned()
    key = "lstm.weight_hh_l0" if where == "weights" else "hidden"
    q[where][key]["scales"] = [scale]
    with pytest.raises(ValueError, match=key):
        LearnedMultiLevelLSTM(w, q)

"""LSTMClassifier in C: the float LSTM to float rounding of eegbin's float64; the binarized
LSTMs (B_LSTM, MuBiNN1, MuBiNN2 after training, MuBiNN2 as trained) with the codes, the packed
words and (MuBiNN2) the hidden state bit for bit eegbin's; the same predictions."""

import ctypes
import re
import subprocess

import numpy as np
import pytest

from eegbin import LSTMClassifier
from eegbin.export import to_c
from eegbin.export._blocks import BLOCKS, resolve
from eegbin.nn import LSTM, LearnedMultiLevelLSTM, MultiLevelBinarizedLSTM
from eegbin.nn.export_format import MUBINN2_ACTIVATIONS, lstm_quantization_metadata
from eegbin.quantize import mlb_matmul, multilevel_binarize

C, T = 3, 60


def _weights(rng, H=5, layers=2, n_out=3):
    w = {}
    for k in range(layers):
        d = C if k == 0 else H
        w[f"lstm.weight_ih_l{k}"] = rng.normal(scale=0.6, size=(4 * H, d))
        w[f"lstm.weight_hh_l{k}"] = rng.normal(scale=0.4, size=(4 * H, H))
        w[f"lstm.bias_ih_l{k}"] = rng.normal(scale=0.1, size=4 * H)
        w[f"lstm.bias_hh_l{k}"] = rng.normal(scale=0.1, size=4 * H)
    w["fc.weight"], w["fc.bias"] = rng.normal(size=(n_out, H)), np.zeros(n_out)
    return w


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    n = 60
    y = np.arange(n) % 3
    t = np.arange(T)
    X = rng.standard_normal((n, C, T))
    X[np.arange(n), y] += 2.0 * np.sin(2 * np.pi * t / 12)  # the class sets a rhythm on one channel
    return _weights(rng), X.astype(np.float32), y


def _rel(c, p):
    return (np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)).max()


@pytest.mark.parametrize("options", [dict(decimate=1), dict(decimate=4, pooling="mean", scale=0.5),
                                     dict(decimate=3, pooling="pick"), dict(refit_head=False)],
                         ids=["every sample", "mean of 4, scaled", "every 3rd", "the file's head"])
def test_float_lstm_agrees_with_eegbin(task, compiled, options):
    w, X, y = task
    clf = LSTMClassifier(LSTM(w), **options).fit(X[:40], y[:40])
    F_py, s_py = clf.transform(X), clf.decision_function(X)
    for dtype, tol in (("float32", 1e-4), ("float64", 1e-6)):  # float64: up to the float scores
        m = compiled(clf, dtype=dtype)
        assert m.n_steps == 2
        F_c = m.step(0, X)
        assert _rel(F_c, F_py) < (1e-5 if dtype == "float32" else 1e-12)
        pred, s_c = m.step(1, F_c)
        assert _rel(s_c, s_py) < tol
        np.testing.assert_array_equal(clf.classes_[m.predict(X)], clf.predict(X))
    assert len(np.unique(pred)) > 1  # not degenerate


def test_weight_bytes_next_to_footprint(task, compiled):
    w, X, y = task
    clf = LSTMClassifier(LSTM(w)).fit(X[:40], y[:40])
    m = compiled(clf)
    assert m.size()["weights"] == clf.footprint(32).n_bytes


def test_other_networks_are_refused_by_name(task, tmp_path):
    w, X, y = task

    class MyLSTM(LSTM):
        pass

    clf = LSTMClassifier(MyLSTM(w)).fit(X[:40], y[:40])
    with pytest.raises(ValueError, match="LSTMClassifier with a MyLSTM network cannot be exported to C; exported "
                                         "networks: eegbin.nn.LSTM"):
        to_c(clf, tmp_path, "other")


# ---------------------------------------------------------------------------
# the C blocks of the binarized cell against their oracles
# ---------------------------------------------------------------------------

_HARNESS = r"""
void t_fma(const double *a, const double *b, const double *c, int32_t n, double *mine, double *libm);
void t_code(const double *v, int32_t n, int32_t L, const double *scales, int32_t rule, double offset,
            double *r, double *used, uint64_t *planes, int32_t nw, double *approx);
void t_product(const uint64_t *xp, const double *xs, int32_t Lx, const uint64_t *wp, const double *ws,
               int32_t per_row, int32_t Lw, int32_t rows, int32_t nw, int32_t n_bits, double *out);
void t_fma(const double *a, const double *b, const double *c, int32_t n, double *mine, double *libm)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        mine[i] = eb_fma(a[i], b[i], c[i]);
        libm[i] = fma(a[i], b[i], c[i]);
    }
}
void t_code(const double *v, int32_t n, int32_t L, const double *scales, int32_t rule, double offset,
            double *r, double *used, uint64_t *planes, int32_t nw, double *approx)
{
    eb_mlb_code(v, n, L, scales, rule, offset, r, used, planes, nw, approx);
}
void t_product(const uint64_t *xp, const double *xs, int32_t Lx, const uint64_t *wp, const double *ws,
               int32_t per_row, int32_t Lw, int32_t rows, int32_t nw, int32_t n_bits, double *out)
{
    eb_mlb_product(xp, xs, Lx, wp, ws, per_row, Lw, rows, nw, n_bits, out);
}
"""


@pytest.fixture(scope="module")
def blocks_lib(cc, tmp_path_factory):
    d = tmp_path_factory.mktemp("mlb")
    text = "\n".join(BLOCKS[b][0] for b in resolve(["mlb_code", "mlb_product"]))
    src = d / "t.c"
    src.write_text("#include <stdint.h>\n#include <math.h>\n" + text + _HARNESS)
    so = d / "t.so"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-O2", "-fPIC",
                    "-shared", "-o", str(so), str(src), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(so))
    p, i32, f64 = np.ctypeslib.ndpointer, ctypes.c_int32, ctypes.c_double
    d64, u64 = p(np.float64, flags="C"), p(np.uint64, flags="C")
    lib.t_fma.argtypes = [d64, d64, d64, i32, d64, d64]
    lib.t_code.argtypes = [d64, i32, i32, d64, i32, f64, d64, d64, u64, i32, d64]
    lib.t_product.argtypes = [u64, d64, i32, u64, d64, i32, i32, i32, i32, i32, d64]
    return lib


def test_portable_fma_is_rounded_once(blocks_lib):
    """eb_fma against the host's fused fma() (glibc: correctly rounded), hard cases included."""
    rng = np.random.default_rng(1)
    n = 200_000
    a = rng.standard_normal(n) * 2.0 ** rng.integers(-30, 30, n)
    b = rng.standard_normal(n) * 2.0 ** rng.integers(-30, 30, n)
    c = rng.standard_normal(n) * 2.0 ** rng.integers(-60, 60, n)
    # a b + c near a rounding tie or cancelling: c = -(a b) rounded, nudged by a few ulps
    k = n // 2
    c[:k] = -(a[:k] * b[:k]) * (1 + rng.integers(-4, 5, k) * 2.0 ** -53)
    # eq. (9)'s shapes: -2 scale times a popcount plus n S, a scale times a partial sum
    m = n // 4
    a[-m:] = -2 * rng.uniform(0.001, 2, m)
    b[-m:] = rng.integers(0, 400, m)
    c[-m:] = rng.integers(1, 400, m) * rng.uniform(0.001, 2, m)
    a = np.concatenate([a, [0.0, -0.0, 1.0, 3.0, 1 + 2.0 ** -52]])
    b = np.concatenate([b, [5.0, 2.0, 0.0, 1 / 3, 1 - 2.0 ** -53]])
    c = np.concatenate([c, [-0.0, 0.0, -1.0, -1.0, -1.0]])
    mine, libm = np.empty_like(a), np.empty_like(a)
    blocks_lib.t_fma(a, b, c, len(a), mine, libm)
    assert (a * b + c != libm).sum() > 1000  # the test holds cases a non-fused evaluation gets wrong
    np.testing.assert_array_equal(mine, libm)


@pytest.mark.parametrize("levels", [1, 2, 3])
@pytest.mark.parametrize("rule", ["static", "greedy", "power_of_two"])
def test_algorithm_1_in_c_gives_eegbin_codes(blocks_lib, levels, rule):
    rng = np.random.default_rng(levels)
    v = rng.standard_normal(150)
    v[::7] = 0.0  # Sign(0) = +1
    given = np.array([0.8, 0.4, 0.2])[:levels] if rule == "static" else None
    code = multilevel_binarize(v[None], levels, "greedy" if rule == "static" else rule,
                               axis=None if rule == "static" else 1, scales=given)
    nw = -(-150 // 64)
    r, used = np.empty(150), np.empty(levels)
    planes, approx = np.empty(levels * nw, dtype=np.uint64), np.empty(150)
    blocks_lib.t_code(v, 150, levels, given if given is not None else np.zeros(1),
                      {"static": 0, "greedy": 1, "power_of_two": 2}[rule], 0.0, r, used, planes, nw, approx)
    np.testing.assert_array_equal(planes, code.planes.reshape(-1))  # packed words, padding zero
    np.testing.assert_array_equal(used, code.scales.reshape(-1))
    # around an offset, as the sigmoid gates: offset + sum_i alpha_i b_i, eegbin's bits
    from eegbin.nn.lstm_cell import SignalQuantizer

    q = SignalQuantizer(levels, "greedy" if rule == "static" else rule, given, offset=0.5)
    blocks_lib.t_code(v, 150, levels, given if given is not None else np.zeros(1),
                      {"static": 0, "greedy": 1, "power_of_two": 2}[rule], 0.5, r, used, planes, nw, approx)
    np.testing.assert_array_equal(approx, q.approximate(v[None])[0])


@pytest.mark.parametrize("Lx, Lw", [(1, 1), (2, 2), (3, 3), (3, 1)])
@pytest.mark.parametrize("per_row", [False, True])
def test_xnor_popcount_product_in_c_gives_eegbin_bits(blocks_lib, Lx, Lw, per_row):
    rng = np.random.default_rng(Lx * 10 + Lw)
    x, W = rng.standard_normal((1, 130)), rng.standard_normal((40, 130))
    a = multilevel_binarize(x, Lx, axis=1)
    b = multilevel_binarize(W, Lw, axis=1 if per_row else None)
    out = np.empty(40)
    ws = np.ascontiguousarray(b.scales.reshape(-1))
    blocks_lib.t_product(np.ascontiguousarray(a.planes.reshape(-1)), np.ascontiguousarray(a.scales[:, 0]), Lx,
                         np.ascontiguousarray(b.planes.reshape(-1)), ws, int(per_row), Lw, 40, 3, 130, out)
    np.testing.assert_array_equal(out, mlb_matmul(a, b)[0])  # the fused multiply-adds in eegbin's order


# ---------------------------------------------------------------------------
# the binarized LSTM classifiers
# ---------------------------------------------------------------------------


def _c_array(source, symbol, dtype):
    """The values of ``static const <type> symbol[n] = {...};`` in the generated source."""
    body = re.search(rf"{re.escape(symbol)}\[\d+\] = \{{(.*?)\}};", source, re.S).group(1)
    items = [t.strip() for t in body.replace("\n", " ").split(",") if t.strip()]
    if dtype == np.uint64:
        return np.array([int(re.sub(r"UINT64_C\((0x[0-9A-F]+)\)", r"\1", t), 16) for t in items], dtype=np.uint64)
    return np.array([float(t) for t in items])


def _padding_bytes(codes):
    """Bytes the packed rows add to footprint()'s one bit per value (rows padded to 64-bit words)."""
    return sum(c.n_levels * c.n_rows * (64 * -(-c.n_bits // 64) - c.n_bits) for c in codes) / 8


def _check_against_eegbin(clf, X, compiled, exact):
    """C against Python on X: predictions, features (bit for bit if ``exact``), scores, packed words."""
    F_py, s_py = clf.transform(X), clf.decision_function(X)
    for dtype in ("float64", "float32"):
        m = compiled(clf, name="mubinn", dtype=dtype)
        F_c = m.step(0, X)
        if exact:  # every operation is eegbin's: the hidden state bit for bit (rounded once to float32)
            np.testing.assert_array_equal(F_c, F_py.astype(F_c.dtype))
        else:
            assert _rel(F_c, F_py) < (1e-6 if dtype == "float32" else 1e-12)
        pred, s_c = m.step(1, F_c)
        assert _rel(s_c, s_py) < (1e-4 if dtype == "float32" else 1e-6)  # scores are float32 in the API
        np.testing.assert_array_equal(clf.classes_[m.predict(X)], clf.predict(X))
    return m, pred


def _source(tmp_path, clf):
    to_c(clf, tmp_path / "src", "mubinn", dtype="float64")
    return (tmp_path / "src" / "mubinn.c").read_text()


@pytest.mark.parametrize("levels", [(1, 1), (2, 2), (3, 3)], ids=["(1,1)", "(2,2)", "(3,3)"])
def test_mubinn2_after_training_bit_for_bit(task, compiled, tmp_path, levels):
    w, X, y = task
    A, W = levels
    net = MultiLevelBinarizedLSTM(w, activation_levels=A, weight_levels=W)  # two layers, mubinn2
    clf = LSTMClassifier(net, decimate=2, pooling="mean", scale=0.7).fit(X[:40], y[:40])
    _, pred = _check_against_eegbin(clf, X, compiled, exact=True)
    assert len(np.unique(pred)) > 1
    source = _source(tmp_path, clf)
    codes = []
    for k, layer in enumerate(clf.net_.binarized_weights.layers):
        for what, code in zip(("w_w_x", "w_w_h", "w_bias"), layer):
            np.testing.assert_array_equal(_c_array(source, f"mubinn_s0_{what}{k}_planes", np.uint64),
                                          code.planes.reshape(-1))  # the packed words as eegbin holds them
            np.testing.assert_array_equal(_c_array(source, f"mubinn_s0_{what}{k}_scales", float),
                                          code.scales.reshape(-1))
            codes.append(code)
    _check_weight_bytes(clf, codes, compiled)


def _check_weight_bytes(clf, codes, compiled):
    """The declared weights are footprint() (scales and tables at 64 bits, as stored) plus the padding
    of the packed rows; the object keeps at most those (the compiler may fold a one-element array)."""
    size = compiled(clf, name="mubinn", dtype="float64").size()
    assert size["header_weights"] == clf.footprint(64).n_bytes + _padding_bytes(codes)
    assert size["weights"] <= size["header_weights"]


def _learned(w, A, W, rng):
    """A format-3 MuBiNN2 as eegbin.train exports it (one layer), with random planes and scales."""
    planes = {k: np.where(rng.standard_normal((W,) + w[k].shape) >= 0, 1, -1)
              for k in ("lstm.weight_ih_l0", "lstm.weight_hh_l0")}
    planes["lstm.bias_l0"] = np.where(rng.standard_normal((W, w["lstm.bias_ih_l0"].size)) >= 0, 1, -1)
    wscale = {k: list(0.5 ** np.arange(1, W + 1) * 0.6) for k in planes}
    gates = {"input_gate", "forget_gate", "output_gate"}
    ascale = {s: list((0.25 if s in gates else 0.6) * 0.5 ** np.arange(A)) for s in MUBINN2_ACTIVATIONS}
    offsets = {s: 0.5 if s in gates else 0.0 for s in MUBINN2_ACTIVATIONS}
    q = lstm_quantization_metadata(planes, wscale, ascale, offsets, input_scale=1.5, pwl_segments=16)
    tensors = {k: v for k, v in w.items() if k.endswith("_l0")}
    tensors["head.weight"], tensors["head.bias"] = w["fc.weight"], w["fc.bias"]
    return LearnedMultiLevelLSTM(tensors, q)


@pytest.mark.parametrize("levels", [(1, 1), (2, 2), (3, 3)], ids=["(1,1)", "(2,2)", "(3,3)"])
def test_trained_mubinn2_learned_scales_bit_for_bit(task, compiled, tmp_path, levels):
    w, X, y = task
    net = _learned(w, *levels, np.random.default_rng(sum(levels)))
    assert net.format == 3
    clf = LSTMClassifier(net, decimate=3, pooling="mean").fit(X[:40], y[:40])  # float32 inputs / input_scale
    _, pred = _check_against_eegbin(clf, X, compiled, exact=True)
    assert len(np.unique(pred)) > 1
    layer = clf.net_.binarized_weights.layers[0]
    source = _source(tmp_path, clf)
    for what, code in zip(("w_w_x", "w_w_h", "w_bias"), layer):
        np.testing.assert_array_equal(_c_array(source, f"mubinn_s0_{what}0_planes", np.uint64),
                                      code.planes.reshape(-1))
    _check_weight_bytes(clf, layer, compiled)


@pytest.mark.parametrize("network, options", [
    (dict(mode="b_lstm", activation_levels=1, weight_levels=1), {}),
    (dict(mode="mubinn1", activation_levels=2, weight_levels=2), dict(calibrate=False)),  # run-time scales
    (dict(mode="mubinn1", activation_levels=3, weight_levels=2, activation_scaling="greedy"),
     dict(calibrate=False, scale=0.5)),
    (dict(mode="mubinn1", activation_levels=2, weight_levels=3), dict(calibrate=True, decimate=3)),
], ids=["b_lstm", "mubinn1 run-time power-of-two", "mubinn1 run-time greedy", "mubinn1 calibrated"])
def test_post_training_binarizations(task, compiled, network, options):
    """Exact sigmoid/tanh and float W_h (BLAS in eegbin): float parts to double rounding."""
    w, X, y = task
    clf = LSTMClassifier(MultiLevelBinarizedLSTM(w, **network), **options).fit(X[:40], y[:40])
    _check_against_eegbin(clf, X, compiled, exact=False)


def test_unknown_trial_length_is_named(task, tmp_path):
    w, X, y = task
    clf = LSTMClassifier(LSTM(w), refit_head=False).fit(X[:40], y[:40])
    clf.n_times_in_ = None  # as a classifier read from an export that does not record n_times
    with pytest.raises(ValueError, match=r"LSTMClassifier: the trial length is unknown \(n_times_in_ is None\)"):
        to_c(clf, tmp_path, "m")


def test_float32_residual_exports_are_refused(task, tmp_path):
    """Formats 1-2 binarize x and h with float32 residuals, which the C cell (double) cannot give."""
    from tests.nn.test_learned import _model

    _, X, y = task
    w, q = _model(D=C, H=5, C=3)
    net = LearnedMultiLevelLSTM(w, q)
    assert net.format == 2
    clf = LSTMClassifier(net, decimate=3, pooling="mean").fit(X[:40], y[:40])
    with pytest.raises(ValueError, match=r"layer 0: the signal 'x' is binarized with float32 residuals "
                                         r"\(a MuBiNN2 export of format 1 or 2\).*\(format 3\)"):
        to_c(clf, tmp_path, "m")
    assert list(tmp_path.iterdir()) == []  # refused before anything is written

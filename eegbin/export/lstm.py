"""C export of :class:`~eegbin.LSTMClassifier`: float LSTM, and the binarized LSTMs (MuBiNN).

Two steps, as :meth:`LSTMClassifier.transform` and its head compute them:

- the features: the trial (``N_CHANS x N_TIMES``) multiplied by ``scale``, divided by the
  network's ``input_scale``, pooled in time by ``decimate`` (every ``decimate``-th sample,
  or the mean of windows summed left to right) and read as a sequence over time with the
  channels as the features of a step; every layer of the stacked LSTM runs its step
  (MuBiNN eq. 1-6: gates i, f, g, o; ``sigmoid(z) = 1 / (1 + exp(-z))``, ``tanh``), the
  layers one after the other inside the time loop; the output is the last hidden state of
  the last layer;
- the head: ``head_coef_ h + head_intercept_``, argmax (the logits are the scores).

Float LSTM (:class:`eegbin.nn.LSTM`): eegbin runs the network in float64, the C code in
``eb_real`` (float32 by default).

Binarized LSTMs: :class:`eegbin.nn.MultiLevelBinarizedLSTM` (B_LSTM, MuBiNN1 with run-time
or calibrated scales, MuBiNN2 after training) and :class:`eegbin.nn.LearnedMultiLevelLSTM`
(MuBiNN2 as trained, export format 3). The cell is the one recurrence of
:mod:`eegbin.nn.lstm_cell`, written as the network's ``CellQuantization`` says: binarized
weights stored as their packed uint64 sign planes with their scales, the binarized signals
encoded by Algorithm 1 in C (static scales, or run-time greedy / power-of-two scales per
vector), the products of two codes by XNOR-popcount on the packed words summed in eegbin's
order of fused multiply-adds (eq. 9, :mod:`eegbin.kernels.xnor`; a portable correctly
rounded ``eb_fma``, since C99's ``fma()`` is not fused on every target), sigmoid and tanh as
``numpy.interp`` on the piecewise-linear tables or exactly. The network runs in double
whatever ``dtype`` is, because eegbin's engines fix float64 and the codes must be
bit-identical (only the features handed to the head and the head are in ``eb_real``):
with tables (MuBiNN2) every operation is eegbin's, so the codes and the hidden state are
bit for bit eegbin's; with exact sigmoid/tanh (B_LSTM, MuBiNN1) and float recurrent
weights (BLAS in eegbin) the float parts agree to double rounding, and the codes of the
first layer's input are bit-identical. Not exported (a clear error): a signal binarized with
float32 residuals (exports of formats 1-2), per-column weight scales.
"""

from __future__ import annotations

import numpy as np

from ..kernels import n_words_for
from ..nn import LSTM, LearnedMultiLevelLSTM, LSTMClassifier, MultiLevelBinarizedLSTM
from ..quantize import MultiLevelCode
from ._cgen import literals
from ._core import Port, register_exporter

__all__ = []


_BINARIZED = (MultiLevelBinarizedLSTM, LearnedMultiLevelLSTM)


def _lstm_state(clf):
    net = clf.net_
    if type(net) is not LSTM and not isinstance(net, _BINARIZED):
        raise ValueError(f"LSTMClassifier with a {type(net).__name__} network cannot be exported to C; "
                         f"exported networks: eegbin.nn.LSTM (float), MultiLevelBinarizedLSTM, "
                         f"LearnedMultiLevelLSTM")
    if net.input_scale <= 0:
        raise ValueError(f"LSTMClassifier: the network's input_scale must be positive, got {net.input_scale}")
    state = dict(H=int(net.hidden_size), scale=float(clf.scale), input_scale=float(net.input_scale),
                 decimate=int(clf.decimate), pooling=clf.pooling, n_chans=int(clf.n_features_in_),
                 n_times=int(clf.n_times_in_), coef=np.asarray(clf.head_coef_, dtype=np.float64),
                 intercept=np.asarray(clf.head_intercept_, dtype=np.float64), classes=np.asarray(clf.classes_))
    if isinstance(net, _BINARIZED):
        if getattr(net, "needs_calibration", False):
            raise ValueError(f"the {type(net).__name__} (mode={net.mode!r}) is not calibrated: fit the "
                             f"LSTMClassifier (it calibrates) before export")
        state["binarized"] = True
        state["input_float32"] = net.input_dtype == np.float32
        state["layers"] = [(layer, net.cell_quantization(k)) for k, layer in enumerate(net.binarized_weights.layers)]
        return state
    state["layers"] = [tuple(np.asarray(a, dtype=np.float64) for a in layer) for layer in net.params.layers]
    return state


def _features(s, ctx):
    C, T, H, dec = s["n_chans"], s["n_times"], s["H"], s["decimate"]
    n_steps = T // dec if s["pooling"] == "mean" and dec > 1 else len(range(0, T, dec))
    ctx.use("lstm_step")
    xt = ctx.buffer("x_t", "real", C)
    z = ctx.buffer("gates", "real", 4 * H)
    hs = ctx.buffer("h", "real", len(s["layers"]) * H)
    cs = ctx.buffer("c", "real", len(s["layers"]) * H)
    if s["pooling"] == "mean" and dec > 1:  # window sums left to right, then / decimate
        read = (f"            eb_real acc = (eb_real)in[ch * {T} + t * {dec}]{_times(s)};\n"
                f"            int32_t w;\n"
                f"            for (w = 1; w < {dec}; w++) {{\n"
                f"                acc += (eb_real)in[ch * {T} + t * {dec} + w]{_times(s)};\n"
                f"            }}\n"
                f"            {xt}[ch] = acc / EB_R({float(dec)!r});\n")
    else:
        read = f"            {xt}[ch] = (eb_real)in[ch * {T} + t * {dec}]{_times(s)};\n"
    body = (f"    int32_t t, ch, j;\n"
            f"    for (j = 0; j < {len(s['layers']) * H}; j++) {{\n"
            f"        {hs}[j] = EB_R(0.0);\n        {cs}[j] = EB_R(0.0);\n    }}\n"
            f"    for (t = 0; t < {n_steps}; t++) {{\n"
            f"        for (ch = 0; ch < {C}; ch++) {{\n{read}        }}\n")
    for k, (w_ih, w_hh, bias) in enumerate(s["layers"]):
        wi = ctx.weights(f"w_ih{k}", w_ih, note=f"layer {k}: input weights (4H x D), gates i, f, g, o")
        wh = ctx.weights(f"w_hh{k}", w_hh, note=f"layer {k}: recurrent weights (4H x H)")
        b = ctx.weights(f"bias{k}", bias, note=f"layer {k}: b_ih + b_hh")
        x = xt if k == 0 else f"{hs} + {(k - 1) * H}"
        body += (f"        eb_lstm_step({x}, {w_ih.shape[1]}, {wi}, {wh}, {b}, {H}, {z}, "
                 f"{hs} + {k * H}, {cs} + {k * H});\n")
    body += "    }\n"
    last = (len(s["layers"]) - 1) * H
    body += f"    for (j = 0; j < {H}; j++) {{\n        out[j] = {hs}[{last} + j];\n    }}\n"
    return Port("real", H, ctx.real), body, n_steps


def _times(s):
    """The C factor ``* scale / input_scale`` of an input sample (nothing when it is 1)."""
    out = ""
    if s["scale"] != 1.0:
        out += f" * EB_R({s['scale']!r})"
    if s["input_scale"] != 1.0:
        out += f" / EB_R({s['input_scale']!r})"
    return out


@register_exporter(LSTMClassifier, reads="epochs")
def _export_lstm(clf, port, ctx):
    s = _lstm_state(clf)
    if (port.n_chans, port.n_times) != (s["n_chans"], s["n_times"]):
        raise ValueError(f"LSTMClassifier reads {s['n_chans']} x {s['n_times']} trials, the port gives "
                         f"{port.n_chans} x {port.n_times}")
    port_out, body = _binarized_features(s, ctx) if s.get("binarized") else _features(s, ctx)[:2]
    features = ctx.transform(port_out, body, part="features")
    if not ctx.final:  # before the last step: what clf.transform returns
        return features
    hctx = ctx.next_step()
    n_classes = len(s["classes"])
    coef, intercept = s["coef"], s["intercept"]
    if coef.shape != (n_classes, s["H"]):
        raise ValueError(f"the head has shape {coef.shape}, expected ({n_classes}, {s['H']})")
    hctx.use("linear", "argmax")
    w = hctx.weights("coef", coef, note="head weights (classes x H)")
    b = hctx.weights("intercept", intercept, note="head biases")
    dec = hctx.buffer("logits", "real", n_classes)
    head = (f"    eb_linear(in, {w}, {b}, {n_classes}, {s['H']}, {dec});\n"
            f"    {{\n        int32_t c;\n        for (c = 0; c < {n_classes}; c++) {{\n"
            f"            scores[c] = (float){dec}[c];\n        }}\n    }}\n"
            f"    return eb_argmax({dec}, {n_classes});\n")
    return [features, hctx.classify(n_classes, head, part="head")]


# ---------------------------------------------------------------------------
# the binarized LSTMs (B_LSTM, MuBiNN1, MuBiNN2, MuBiNN2 as trained)
# ---------------------------------------------------------------------------

_RULES = {"greedy": 1, "power_of_two": 2}
_SIGNALS = ("x", "h", "i", "f", "g", "o", "c", "tanh_c")


def _quantizer(q, name, k, ctx):
    """(C arguments ``L, scales, rule, offset``) of the SignalQuantizer ``q`` of signal ``name``."""
    if np.dtype(q.dtype) != np.float64:
        raise ValueError(f"layer {k}: the signal {name!r} is binarized with {np.dtype(q.dtype).name} residuals "
                         f"(a MuBiNN2 export of format 1 or 2): only float64 residuals are exported; "
                         f"re-export the model with eegbin.train (format 3)")
    if q.scales is not None:
        sym = ctx.weights(f"q{k}_{name}", np.asarray(q.scales, dtype=np.float64), "double",
                          note=f"layer {k}: static scales of {name} (Algorithm 1)")
        return f"{q.n_levels}, {sym}, 0, {float(q.offset)!r}"
    return f"{q.n_levels}, 0, {_RULES[q.scaling]}, {float(q.offset)!r}"


def _weight_code(code, what, k, ctx):
    """The C arrays of a binarized weight: (planes, scales, per_row, levels)."""
    if code.axis == 0:
        raise ValueError(f"layer {k}: {what} has per-column scales (axis=0); XNOR-popcount products "
                         f"need per-tensor or per-row scales")
    planes = ctx.weights(f"{what}{k}_planes", code.planes.reshape(-1), "uint64_t",
                         note=f"layer {k}: {what}, {code.n_levels} packed sign planes of {code.n_rows} rows x "
                              f"{code.n_bits} bits")
    scales = np.asarray(code.scales, dtype=np.float64)
    per_row = scales.ndim == 2
    if per_row and (scales == scales[:, :1]).all():  # one scale per level (B_LSTM's ones)
        scales, per_row = scales[:, 0], False
    sym = ctx.weights(f"{what}{k}_scales", scales.reshape(-1), "double",
                      note=f"layer {k}: {what}, scales " + ("per row" if per_row else "per tensor"))
    return planes, sym, int(per_row), code.n_levels


def _product(v, D, weight, q, name, k, ctx, out, bufs):
    """C statements: out = q(v) W^T (4H rows) for a float or binarized W."""
    rows = weight.shape[0]
    if isinstance(weight, MultiLevelCode):
        if q is None:
            raise ValueError(f"layer {k}: a binarized weight multiplies a binarized {name}, which has no quantizer")
        if q.offset != 0.0:
            raise ValueError(f"layer {k}: {name} is binarized around {q.offset}, eq. (9) multiplies codes "
                             f"around 0")
        args = _quantizer(q, name, k, ctx)
        nw = n_words_for(D)
        code = ctx.buffer(f"{name}{k}_code", "uint64_t", q.n_levels * nw)
        used = ctx.buffer(f"{name}{k}_scales", "double", q.n_levels)
        planes, scales, per_row, Lw = _weight_code(weight, f"w_{name}", k, ctx)
        return (f"        eb_mlb_code({v}, {D}, {args}, {bufs['r']}, {used}, {code}, {nw}, 0);\n"
                f"        eb_mlb_product({code}, {used}, {q.n_levels}, {planes}, {scales}, {per_row}, {Lw}, "
                f"{rows}, {nw}, {D}, {out});\n")
    ctx.use("matvec_d")
    w = ctx.weights(f"w_{name}{k}", np.asarray(weight, dtype=np.float64), "double",
                    note=f"layer {k}: W_{name} (float, {rows} x {D})")
    code = ""
    if q is not None:
        args = _quantizer(q, name, k, ctx)
        used = ctx.buffer(f"{name}{k}_scales", "double", q.n_levels)
        qv = ctx.buffer(f"{name}{k}_q", "double", D)
        code = f"        eb_mlb_code({v}, {D}, {args}, {bufs['r']}, {used}, 0, 0, {qv});\n"
        v = qv
    return code + f"        eb_matvec_d({w}, {v}, {rows}, {D}, {out});\n"


def _activation(kind, z, cell, ctx, k, written):
    table = getattr(cell, kind)
    if table is None:  # exact, as scipy.special.expit / numpy.tanh in float64
        return f"1.0 / (1.0 + exp(-{z}))" if kind == "sigmoid" else f"tanh({z})"
    xp, fp = (np.asarray(a, dtype=np.float64) for a in table)
    name = f"{kind}{k}"
    if name not in written:
        written.add(name)
        ctx.weights(f"{name}_xp", xp, "double", note=f"layer {k}: {kind} table, knots")
        ctx.weights(f"{name}_fp", fp, "double", note=f"layer {k}: {kind} table, values")
    ctx.use("interp_d")
    return f"eb_interp_d({z}, {ctx.prefix}_w_{name}_xp, {ctx.prefix}_w_{name}_fp, {len(xp)})"


def _quantize_inplace(q, name, v, n, k, ctx, bufs):
    if q is None:
        return ""
    args = _quantizer(q, name, k, ctx)
    used = ctx.buffer(f"{name}{k}_scales", "double", q.n_levels)
    return f"        eb_mlb_code({v}, {n}, {args}, {bufs['r']}, {used}, 0, 0, {v});\n"


def _binarized_features(s, ctx):
    """The features step of a binarized LSTM: the cell of every layer in double."""
    C, T, H, dec = s["n_chans"], s["n_times"], s["H"], s["decimate"]
    mean = s["pooling"] == "mean" and dec > 1
    n_steps = T // dec if mean else len(range(0, T, dec))
    n_layers = len(s["layers"])
    written = set()  # the tables already declared
    ctx.use("mlb_code")
    widths = [C] + [H] * n_layers
    bufs = dict(r=ctx.buffer("r", "double", max(widths + [4 * H])))
    xt = ctx.buffer("x_t", "double", C)
    hs = ctx.buffer("h", "double", n_layers * H)
    cs = ctx.buffer("c", "double", n_layers * H)
    # the gate pre-activations, then (in place) the gate outputs; the recurrent product goes into
    # the residual buffer of Algorithm 1, free once h_{t-1} is encoded
    gx = act = ctx.buffer("gates", "double", 4 * H)
    ph = bufs["r"]
    tc = ctx.buffer("tc", "double", H)
    # the sequences, in the network's input_dtype: dtype(X * scale) / input_scale, then pooling
    f32 = s["input_float32"]
    ty = "float" if f32 else "double"

    def sample(idx):
        e = f"in[{idx}]"
        if s["scale"] != 1.0:  # float32 epochs times a Python float: float32 arithmetic (numpy)
            e = f"({e} * {literals([s['scale']], 'float')[0]})"
        if not f32:
            e = f"(double){e}"
        if s["input_scale"] != 1.0:
            lit = literals([s["input_scale"]], "float" if f32 else "double")[0]
            e = f"({e} / {lit})"
        return e

    if mean:
        lit = literals([float(dec)], "float" if f32 else "double")[0]
        read = (f"            {ty} acc = {sample(f'ch * {T} + t * {dec}')};\n"
                f"            int32_t w;\n"
                f"            for (w = 1; w < {dec}; w++) {{\n"
                f"                acc += {sample(f'ch * {T} + t * {dec} + w')};\n"
                f"            }}\n"
                f"            {xt}[ch] = (double)(acc / {lit});\n")
    else:
        read = f"            {xt}[ch] = (double){sample(f'ch * {T} + t * {dec}')};\n"
    body = (f"    int32_t t, ch, j;\n"
            f"    for (j = 0; j < {n_layers * H}; j++) {{\n"
            f"        {hs}[j] = 0.0;\n        {cs}[j] = 0.0;\n    }}\n")
    bias_setup = ""
    step = ""
    for k, ((w_ih, w_hh, bias), cell) in enumerate(s["layers"]):
        D = widths[k]
        x = xt if k == 0 else f"{hs} + {(k - 1) * H}"
        h, c = f"{hs} + {k * H}", f"{cs} + {k * H}"
        if isinstance(bias, MultiLevelCode):
            ctx.use("mlb_values")
            b = ctx.buffer(f"bias{k}", "double", 4 * H)
            planes = ctx.weights(f"bias{k}_planes", bias.planes.reshape(-1), "uint64_t",
                                 note=f"layer {k}: bias, {bias.n_levels} packed sign planes of {4 * H} bits")
            scales = ctx.weights(f"bias{k}_scales", np.asarray(bias.scales, dtype=np.float64).reshape(-1), "double",
                                 note=f"layer {k}: bias scales (per tensor)")
            bias_setup += (f"    eb_mlb_values({planes}, {scales}, {bias.n_levels}, {4 * H}, "
                           f"{n_words_for(4 * H)}, {b});\n")
        else:
            b = ctx.weights(f"bias{k}", np.asarray(bias, dtype=np.float64), "double", note=f"layer {k}: bias")
        if any(isinstance(w, MultiLevelCode) for w in (w_ih, w_hh)):
            ctx.use("mlb_product")
        def sig(z, cell=cell, k=k):
            return _activation("sigmoid", z, cell, ctx, k, written)

        def tanh(z, cell=cell, k=k):
            return _activation("tanh", z, cell, ctx, k, written)

        step += f"        /* layer {k} */\n"
        step += _product(x, D, w_ih, cell.x, "x", k, ctx, gx, bufs)
        step += f"        for (j = 0; j < {4 * H}; j++) {{\n            {gx}[j] = {gx}[j] + {b}[j];\n        }}\n"
        step += _product(h, H, w_hh, cell.h, "h", k, ctx, ph, bufs)
        step += (f"        for (j = 0; j < {4 * H}; j++) {{\n            {gx}[j] = {gx}[j] + {ph}[j];\n        }}\n"
                 f"        for (j = 0; j < {H}; j++) {{\n"
                 f"            {act}[j] = {sig(f'{gx}[j]')};\n"
                 f"            {act}[{H} + j] = {sig(f'{gx}[{H} + j]')};\n"
                 f"            {act}[{2 * H} + j] = {tanh(f'{gx}[{2 * H} + j]')};\n"
                 f"            {act}[{3 * H} + j] = {sig(f'{gx}[{3 * H} + j]')};\n"
                 f"        }}\n")
        for g, name in enumerate("ifgo"):
            step += _quantize_inplace(getattr(cell, name), name, f"{act} + {g * H}", H, k, ctx, bufs)
        if cell.c is not None:
            args = _quantizer(cell.c, "c", k, ctx)
            used = ctx.buffer(f"c{k}_scales", "double", cell.c.n_levels)
            qc = ctx.buffer(f"c{k}_q", "double", H)
            step += f"        eb_mlb_code({c}, {H}, {args}, {bufs['r']}, {used}, 0, 0, {qc});\n"
            old_c = f"{qc}[j]"
        else:
            old_c = f"({c})[j]"
        step += (f"        for (j = 0; j < {H}; j++) {{\n"
                 f"            ({c})[j] = {act}[{H} + j] * {old_c} + {act}[j] * {act}[{2 * H} + j];\n"
                 f"            {tc}[j] = {tanh(f'({c})[j]')};\n"
                 f"        }}\n")
        step += _quantize_inplace(cell.tanh_c, "tanh_c", tc, H, k, ctx, bufs)
        step += (f"        for (j = 0; j < {H}; j++) {{\n"
                 f"            ({h})[j] = {act}[{3 * H} + j] * {tc}[j];\n"
                 f"        }}\n")
    body += bias_setup
    body += (f"    for (t = 0; t < {n_steps}; t++) {{\n"
             f"        for (ch = 0; ch < {C}; ch++) {{\n{read}        }}\n")
    body += step + "    }\n"
    last = (n_layers - 1) * H
    body += f"    for (j = 0; j < {H}; j++) {{\n        out[j] = (eb_real){hs}[{last} + j];\n    }}\n"
    return Port("real", H, ctx.real), body

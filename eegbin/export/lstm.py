"""C export of :class:`~eegbin.LSTMClassifier` with a float :class:`eegbin.nn.LSTM`.

Two steps, as :meth:`LSTMClassifier.transform` and its head compute them:

- the features: the trial (``N_CHANS x N_TIMES``) multiplied by ``scale``, divided by the
  network's ``input_scale``, pooled in time by ``decimate`` (every ``decimate``-th sample,
  or the mean of windows summed left to right) and read as a sequence over time with the
  channels as the features of a step; every layer of the stacked LSTM runs its step
  (MuBiNN eq. 1-6: gates i, f, g, o; ``sigmoid(z) = 1 / (1 + exp(-z))``, ``tanh``), the
  layers one after the other inside the time loop; the output is the last hidden state of
  the last layer;
- the head: ``head_coef_ h + head_intercept_``, argmax (the logits are the scores).

eegbin runs the network in float64; the C code in ``eb_real`` (float32 by default). The
binarized networks (B_LSTM, MuBiNN1/2, a trained MuBiNN2) are refused by name.
"""

from __future__ import annotations

import numpy as np

from ..nn import LSTM, LSTMClassifier
from ._core import Port, register_exporter

__all__ = []


def _lstm_state(clf):
    net = clf.net_
    if type(net) is not LSTM:
        raise ValueError(f"LSTMClassifier with a {type(net).__name__} network cannot be exported to C: "
                         f"only the float LSTM (eegbin.nn.LSTM) is exported (the binarized and MuBiNN "
                         f"networks are not yet)")
    if net.input_scale <= 0:
        raise ValueError(f"LSTMClassifier: the network's input_scale must be positive, got {net.input_scale}")
    layers = [tuple(np.asarray(a, dtype=np.float64) for a in layer) for layer in net.params.layers]
    return dict(layers=layers, H=int(net.hidden_size), scale=float(clf.scale), input_scale=float(net.input_scale),
                decimate=int(clf.decimate), pooling=clf.pooling, n_chans=int(clf.n_features_in_),
                n_times=int(clf.n_times_in_), coef=np.asarray(clf.head_coef_, dtype=np.float64),
                intercept=np.asarray(clf.head_intercept_, dtype=np.float64), classes=np.asarray(clf.classes_))


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
    port_out, body, _ = _features(s, ctx)
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

"""C export of :class:`~eegbin.EEGNetClassifier`: float and Feng et al.'s compressions.

The network becomes two steps, its features (:meth:`EEGNetClassifier.transform`,
``F2 * T'`` values in eegbin's map-major order) and its head (the logits, which
``predict`` takes the first argmax of: softmax or Feng's max, the same class). All of
it is read from the network's :class:`~eegbin.nn.EEGNetParams` (``clf.net_.params``).

Features, float (``params.fixed_point`` None)
    The reordered forward pass of :mod:`eegbin.nn.eegnet_forward`: per spatial map
    ``o``, the selected channels mixed by its spatial filter, filtered by the temporal
    kernel of its group ``o // D`` (zero padding), plus the bias, ELU (``expm1`` or the
    interpolated table), average pooling; then the separable block (depthwise kernels,
    pointwise mixing, bias, batch norm), ELU and pooling. Unfolded batch norms are
    stored as their eval-mode ``(scale, shift)`` and applied as eegbin applies them
    (the first two folded into the map's filter and bias on the fly). eegbin filters
    with an FFT, the C code directly: equal to float rounding.
Features, fixed point (``fixed_point=True``: 8-bit weights, 16-bit feature maps)
    The integer datapath that eegbin's simulation describes, bit for bit: the input
    rounded to its int16 grid, int8 weights, exact sums (int32; int64 where they
    outgrow it), each stage requantized with round half to even and saturation at the
    grid eegbin calibrated (:func:`eegbin.quantize.to_fixed_point`). Between the
    stages eegbin's float64 simulation runs the ELU and the average pooling in double;
    the C code rounds the same value: in float (``expm1f``) where an error bound shows
    that float decides the rounding as double does, else with eegbin's double
    operations on the same exact inputs. The features handed to the head are the
    int16 codes' real values (exact in float).
Head
    Dense: ``W f + b`` in ``eb_real`` (float), or on the fixed-point datapath
    ``sum_j W_q[c, j] q_j`` in int64 plus the aligned int16 bias: the exact logit,
    whose float rounding is the score and whose first argmax is the class.
    Product quantized (Feng III-D): per sub-vector a hash tree of ``depth``
    comparisons (split dimensions packed at the width ``footprint()`` counts), the
    uint8 table row of its leaf summed in int32 (bit-identical to
    :func:`eegbin.quantize.pq_table_sums`), ``lut_scale * sums + bias`` in float.
    A tree goes right where eegbin's ``x >= threshold`` holds, tested as ``x > t'``
    with ``t'`` the largest ``eb_real`` below the threshold: exact for every feature
    value (a fixed-point model's features are grid values, exact in float), and a
    threshold of +inf (a node no training row split) is the largest finite value.

Stored weights (``static const``, at the width the model uses): the kernels, biases
(when not all zero, as ``footprint()`` counts them), batch norms (eval-mode scale and
shift), the ELU table, the head. Float: ``eb_real``. Fixed point: int8 weights and
int16 biases (their grids); a product-quantized head keeps its real-valued thresholds,
scale and bias in ``eb_real``, as eegbin keeps them real. The weight bytes equal
``footprint()`` at the same width, except that ``footprint()`` counts a batch norm as
its 4 trained values per map (Hersche et al. 2020, Table II) and the C code stores 2.
"""

from __future__ import annotations

import numpy as np

from ..nn import DenseHead, EEGNetClassifier
from ..quantize import ProductQuantizer, from_fixed_point, to_fixed_point
from ._core import Port, register_exporter

__all__ = []

_INT64_SAFE = 2**62  # bound on every int64 sum the fixed-point code forms


def _eegnet_state(clf):
    """Everything the C code needs from a fitted EEGNetClassifier (one place to adapt)."""
    p = clf.net_.params
    n_times = int(clf.n_times)
    t1, p1, t2, p2 = p.lengths(n_times)
    if p2 != p.n_out_times:
        raise ValueError(f"the network pools {n_times} samples to {p2}, its head reads {p.n_out_times}")
    head = p.head
    if isinstance(head, ProductQuantizer) and head.encoder != "hash_tree":
        raise ValueError("EEGNetClassifier's product-quantized head must use hash trees "
                         f"(encoder='hash_tree'), got encoder={head.encoder!r}")
    channels = np.asarray(p.channels, dtype=np.int64)
    return dict(params=p, n_chans=int(p.n_chans), n_times=n_times, t1=t1, p1=p1, t2=t2, p2=p2,
                channels=None if np.array_equal(channels, np.arange(p.n_chans)) else channels,
                head=head, fixed=p.fixed_point)


def _nonzero(a):
    return a is not None and bool(np.any(a))


# ---------------------------------------------------------------------------
# features
# ---------------------------------------------------------------------------


def _float_features(s, ctx):
    p = s["params"]
    F1, D, F1D, F2, K1, K3 = p.F1, p.D, p.F1 * p.D, p.F2, p.K1, p.K3
    C, T = len(p.channels), s["n_times"]
    (pl, pr), (ql, _) = p.pad_temporal, p.pad_depth
    ctx.use("eegnet_block1", "eegnet_block2")
    temporal = ctx.weights("temporal", p.temporal, note=f"{F1} x {K1} temporal kernels")
    spatial = ctx.weights("spatial", p.spatial, note=f"{F1D} x {C} spatial filters")
    sb = ctx.weights("spatial_bias", p.spatial_bias) if _nonzero(p.spatial_bias) else None
    bn = {}
    for key, aff in (("temporal_bn", p.temporal_bn), ("spatial_bn", p.spatial_bn),
                     ("separable_bn", p.separable_bn)):
        if aff is not None:
            bn[key] = (ctx.weights(f"{key}_scale", aff.scale, note="eval-mode batch norm scale"),
                       ctx.weights(f"{key}_shift", aff.shift, note="eval-mode batch norm shift"))
    depth = ctx.weights("depth", p.depth, note=f"{F1D} x {K3} depthwise kernels")
    point = ctx.weights("point", p.point, note=f"{F2} x {F1D} pointwise kernels")
    pb = ctx.weights("point_bias", p.point_bias) if _nonzero(p.point_bias) else "0"
    if p.elu_table is not None:
        tx = ctx.weights("elu_x", p.elu_table.x, note="ELU table grid")
        ty = ctx.weights("elu_y", p.elu_table.y, note="ELU table expm1")
        tab = f"{tx}, {ty}, {len(p.elu_table.x)}"
    else:
        tab = "0, 0, 0"
    chans = "0" if s["channels"] is None else ctx.table("chans", s["channels"], "int32_t")
    zpad = ctx.buffer("zpad", "real", pl + T + pr)
    p1 = ctx.buffer("p1", "real", F1D * s["p1"])
    d = ctx.buffer("d", "real", F1D)
    per_map = [f"        const eb_real *w = {spatial} + {C} * o;",
               f"        const eb_real *kern = {temporal} + {K1} * (o / {D});",
               f"        eb_real bias = {f'{sb}[o]' if sb else 'EB_R(0.0)'};"]
    if "temporal_bn" in bn:  # s0 into the kernel, b0 through the spatial filter into the bias
        kb = ctx.buffer("kern", "real", K1)
        s0, b0 = bn["temporal_bn"]
        per_map += ["        eb_real wsum = EB_R(0.0);",
                    f"        for (k = 0; k < {K1}; k++) {{",
                    f"            {kb}[k] = {s0}[o / {D}] * kern[k];",
                    "        }",
                    f"        for (c = 0; c < {C}; c++) {{",
                    "            wsum += w[c];",
                    "        }",
                    f"        kern = {kb};",
                    f"        bias += {b0}[o / {D}] * wsum;"]
    if "spatial_bn" in bn:  # s1 into the spatial filter and the bias, then b1
        wb = ctx.buffer("w", "real", C)
        s1, b1 = bn["spatial_bn"]
        per_map += [f"        for (c = 0; c < {C}; c++) {{",
                    f"            {wb}[c] = {s1}[o] * w[c];",
                    "        }",
                    f"        w = {wb};",
                    f"        bias = {s1}[o] * bias + {b1}[o];"]
    per_map.append(f"        eb_eegnet_block1(in, {T}, {chans}, {C}, w, kern, {K1}, bias, {pl}, {pr}, "
                   f"{p.pool1}, {s['p1']}, {tab}, {zpad}, {p1} + {s['p1']} * o);")
    s2, b2 = bn.get("separable_bn", ("0", "0"))
    used = [v for v in ("c", "k") if any(f"({v} = 0" in line for line in per_map)]
    body = ""
    if used:
        body += f"    int32_t {', '.join(used)};\n"
    body += (f"    int32_t o;\n    for (o = 0; o < {F1D}; o++) {{\n" + "\n".join(per_map) + "\n    }\n"
             f"    eb_eegnet_block2({p1}, {F1D}, {s['p1']}, {depth}, {K3}, {ql}, {point}, {pb}, {s2}, {b2}, "
             f"{F2}, {p.pool2}, {s['p2']}, {tab}, {d}, out);\n")
    return Port("real", p.n_features, ctx.real), body


def _grid(a, bits, frac, what):
    """Integer codes of ``a`` on its fixed-point grid (``a`` must lie on it)."""
    q = to_fixed_point(a, bits, frac)
    if not np.array_equal(from_fixed_point(q, frac), np.asarray(a, dtype=np.float64)):
        raise ValueError(f"the fixed-point parameter {what} is not on its {bits}-bit grid "
                         f"({frac} fractional bits)")
    return q


def _align(acc_frac, bias_frac):
    """Shifts that bring a sum with ``acc_frac`` fractional bits and a bias with ``bias_frac``
    to a common grid: (common fractional bits, shift of the sum, shift of the bias)."""
    common = max(acc_frac, bias_frac)
    return common, common - acc_frac, common - bias_frac


def _check_sum(bound, what):
    if bound >= _INT64_SAFE:
        raise ValueError(f"the fixed-point {what} may reach {bound:.3g}, beyond the int64 sums the C "
                         f"code forms (2**62)")


def _check_shift(shift, what):
    if not -47 <= shift <= 62:
        raise ValueError(f"the fixed-point requantization of {what} shifts by {shift} bits, outside "
                         f"[-47, 62]")
    return shift


def _fixed_features(s, ctx):
    p, fp = s["params"], s["fixed"]
    if fp.weight_bits != 8 or fp.act_bits != 16:
        raise ValueError(f"the fixed-point datapath is exported for 8-bit weights and 16-bit feature "
                         f"maps (Feng et al.), got weight_bits={fp.weight_bits}, act_bits={fp.act_bits}")
    if p.elu_table is not None:
        raise ValueError("a fixed-point EEGNet with the ELU table (elu='table') is not exported: eegbin "
                         "interpolates its table in float64; use elu='exact'")
    if not p.folded:  # with_fixed_point folds them; a hand-made params object might not
        raise ValueError("a fixed-point EEGNet must have its batch norms folded")
    F1, D, F1D, F2, K1, K3 = p.F1, p.D, p.F1 * p.D, p.F2, p.K1, p.K3
    C, T = len(p.channels), s["n_times"]
    (pl, pr), (ql, _) = p.pad_temporal, p.pad_depth
    f, a = fp.frac_bits, fp.act_frac_bits
    wq = {k: _grid(getattr(p, k), 8, f[k], k) for k in ("temporal", "spatial", "depth", "point")}
    ctx.use("eegnet_block1_q", "eegnet_block2_q")
    temporal = ctx.weights("temporal", wq["temporal"], "int8_t", note=f"{F1} x {K1}, {f['temporal']} frac. bits")
    spatial = ctx.weights("spatial", wq["spatial"], "int8_t", note=f"{F1D} x {C}, {f['spatial']} frac. bits")
    depth = ctx.weights("depth", wq["depth"], "int8_t", note=f"{F1D} x {K3}, {f['depth']} frac. bits")
    point = ctx.weights("point", wq["point"], "int8_t", note=f"{F2} x {F1D}, {f['point']} frac. bits")
    # first block: sums with f_in + f_spatial + f_temporal fractional bits, the bias on its grid
    frac1, acc1, bsh1 = _align(a["input"] + f["spatial"] + f["temporal"], f["spatial_bias"])
    shift1 = _check_shift(frac1 - a["block1"], "the first block")
    mix = np.abs(wq["spatial"].astype(np.int64)).sum(axis=1) * 2**15
    _check_sum(float(mix.max()), "spatial mixing")  # int32: below 2**31 as well
    if mix.max() >= 2**31:
        raise ValueError("the fixed-point spatial mixing may overflow its int32 sums")
    kern = np.abs(wq["temporal"].astype(np.int64)).sum(axis=1)[np.arange(F1D) // D]
    if _nonzero(p.spatial_bias):
        sbq = _grid(p.spatial_bias, 16, f["spatial_bias"], "spatial_bias")
        sb = ctx.weights("spatial_bias", sbq, "int16_t", note=f"{f['spatial_bias']} frac. bits")
        bias = f"(int64_t){sb}[o] * (INT64_C(1) << {bsh1})"
    else:
        sbq, bias = np.zeros(1), "0"
    _check_sum(float((mix * kern).max()) * 2.0**acc1 + 2.0**15 * 2.0**bsh1, "first block")
    # separable block
    frac2, acc2, bsh2 = _align(a["pool1"] + f["depth"] + f["point"], f["point_bias"])
    shift2 = _check_shift(frac2 - a["block2"], "the separable block")
    dep = np.abs(wq["depth"].astype(np.int64)).sum(axis=1) * 2**15
    if dep.max() >= 2**31:
        raise ValueError("the fixed-point depthwise convolution may overflow its int32 sums")
    _check_sum(float((np.abs(wq["point"].astype(np.int64)) @ dep).max()) * 2.0**acc2
               + 2.0**15 * 2.0**bsh2, "separable block")
    if _nonzero(p.point_bias):
        pbq = _grid(p.point_bias, 16, f["point_bias"], "point_bias")
        pb = ctx.weights("point_bias", pbq, "int16_t", note=f"{f['point_bias']} frac. bits")
    else:
        pb = "0"
    chans = "0" if s["channels"] is None else ctx.table("chans", s["channels"], "int32_t")
    q = ctx.buffer("q", "int16_t", C * T)
    zpad = ctx.buffer("zpad", "int32_t", pl + T + pr)
    p1 = ctx.buffer("p1", "int16_t", F1D * s["p1"])
    d = ctx.buffer("d", "int32_t", F1D)
    win1 = ctx.buffer("win1", "int16_t", p.pool1)
    win2 = ctx.buffer("win2", "int16_t", F2 * p.pool2)
    ch = "c" if s["channels"] is None else f"{chans}[c]"
    body = f"""\
    int32_t c, t, o;
    for (c = 0; c < {C}; c++) {{  /* the input on its grid: {a['input']} fractional bits */
        const float *x = in + (int32_t)({ch} * {T});
        for (t = 0; t < {T}; t++) {{
            {q}[c * {T} + t] = eb_rint16f(x[t] * {_f32(2.0 ** a['input'])});
        }}
    }}
    for (o = 0; o < {F1D}; o++) {{
        eb_eegnet_block1_q({q}, {T}, {spatial} + {C} * o, {C}, {temporal} + {K1} * (o / {D}), {K1},
                           {acc1}, {bias}, {shift1}, {pl}, {pr}, {p.pool1}, {s['p1']},
                           {_pool_scales(a['block1'], a['pool1'], p.pool1)}, {zpad}, {win1}, {p1} + {s['p1']} * o);
    }}
    eb_eegnet_block2_q({p1}, {F1D}, {s['p1']}, {depth}, {K3}, {ql}, {point}, {pb}, {acc2}, {bsh2}, {shift2},
                       {F2}, {p.pool2}, {s['p2']}, {_pool_scales(a['block2'], a['features'], p.pool2)},
                       {_f32(2.0 ** -a['features'])}, {d}, {win2}, out);
"""
    return Port("real", p.n_features, "float"), body


def _pool_scales(f_in, f_out, pool):
    """Arguments to_real_f, scale_f, to_real, to_code of eb_pool_elu16."""
    return (f"{_f32(2.0 ** -f_in)}, {_f32(2.0 ** f_out / pool)}, {_f64(2.0 ** -f_in)}, "
            f"{_f64(2.0 ** f_out)}")


def _f32(v):
    return f"{float(np.float32(v))!r}f"


def _f64(v):
    return repr(float(v))


# ---------------------------------------------------------------------------
# heads
# ---------------------------------------------------------------------------


def _dense_float(head, port, ctx):
    ctx.use("linear", "argmax")
    n_out, n = head.weight.shape
    w = ctx.weights("head_weight", head.weight, note=f"{n_out} x {n} dense head")
    b = ctx.weights("head_bias", head.bias, note="dense head bias")
    dec = ctx.buffer("logits", "real", n_out)
    x, conv = ctx.input_as("real")
    return conv + f"    eb_linear({x}, {w}, {b}, {n_out}, {n}, {dec});\n" + _scores_from(dec, n_out)


def _scores_from(dec, n_out):
    return (f"    {{\n        int32_t c;\n        for (c = 0; c < {n_out}; c++) {{\n"
            f"            scores[c] = (float){dec}[c];\n        }}\n    }}\n"
            f"    return eb_argmax({dec}, {n_out});\n")


def _dense_fixed(head, fp, port, ctx):
    f, a = fp.frac_bits, fp.act_frac_bits
    n_out, n = head.weight.shape
    W = _grid(head.weight, 8, f["head_weight"], "head weight")
    B = _grid(head.bias, 16, f["head_bias"], "head bias")
    frac, acc, bsh = _align(a["features"] + f["head_weight"], f["head_bias"])
    _check_sum(float(np.abs(W.astype(np.int64)).sum(axis=1).max()) * 2.0**15 * 2.0**acc
               + 2.0**15 * 2.0**bsh, "dense head")
    if frac > 100:
        raise ValueError(f"the fixed-point logits have {frac} fractional bits, more than float can scale")
    w = ctx.weights("head_weight", W, "int8_t", note=f"{n_out} x {n}, {f['head_weight']} frac. bits")
    b = ctx.weights("head_bias", B, "int16_t", note=f"{f['head_bias']} frac. bits")
    codes = ctx.buffer("codes", "int32_t", n)
    return f"""\
    int32_t c, j, best = 0;
    int64_t logit[{n_out}];
    for (j = 0; j < {n}; j++) {{  /* the int16 feature codes ({a['features']} fractional bits), exact */
        {codes}[j] = (int32_t)(in[j] * {_f32(2.0 ** a['features'])});
    }}
    for (c = 0; c < {n_out}; c++) {{
        const int8_t *row = {w} + {n} * c;
        int64_t acc = 0;
        for (j = 0; j < {n}; j++) {{
            acc += (int64_t)row[j] * {codes}[j];
        }}
        logit[c] = acc * (INT64_C(1) << {acc}) + (int64_t){b}[c] * (INT64_C(1) << {bsh});
        scores[c] = (float)logit[c] * {_f32(2.0 ** -frac)};  /* the float rounding of the exact logit */
        if (logit[c] > logit[best]) {{
            best = c;
        }}
    }}
    return best;
"""


def _threshold_below(thr, ctype):
    """The largest value of ``ctype`` below each threshold: ``x > t'`` iff ``x >= thr``."""
    thr = np.asarray(thr, dtype=np.float64)
    if ctype == "double":
        return np.where(np.isposinf(thr), np.finfo(np.float64).max,
                        np.nextafter(thr, -np.inf))
    up = thr.astype(np.float32)  # nearest; the smallest float32 >= thr is up or the next one
    up = np.where(up.astype(np.float64) < thr, np.nextafter(up, np.float32(np.inf)), up)
    below = np.nextafter(up, np.float32(-np.inf))
    return np.where(np.isposinf(thr), np.finfo(np.float32).max, below).astype(np.float32)


def _pq(head, port, ctx):
    m, K, n_out = head.luts.shape
    depth = head.split_dims.shape[1]
    n = head.n_features
    if head.lut_bits is None:  # float tables, summed in eb_real
        lut_ct, acc_ct, zero, lut = "real", "eb_real", "EB_R(0.0)", head.luts
    else:  # integer tables, summed exactly
        lut_ct = "uint8_t" if head.lut_bits <= 8 else "uint16_t"
        acc_ct, zero, lut = "int32_t", "0", head.quantized_luts
    idx_bits = max(1, int(np.ceil(np.log2(max(n, 2)))))  # as pq_footprint counts them
    ctx.use("unpack_bits", "argmax")
    # x >= threshold, for every value x of eb_real, is x > (the largest eb_real below it); the
    # features of a fixed-point model are their grid values, exact in float
    thr = _threshold_below(head.thresholds, ctx.real)
    xin, conv = ctx.input_as("real")
    thr_sym = ctx.weights("thresholds", thr, note=f"{m} trees x {K - 1} nodes, heap order")
    dims = np.asarray(head.split_dims, dtype=np.int64).ravel()
    bits = ((dims[:, None] >> np.arange(idx_bits)) & 1).astype(np.uint8).ravel()
    packed = np.packbits(bits, bitorder="little")
    dim_sym = ctx.weights("split_dims", packed, "uint8_t", note=f"{m} x {depth} indices of {idx_bits} bits")
    lut_sym = ctx.weights("luts", lut, lut_ct, note=f"{m} x {K} x {n_out} table entries")
    affine = ctx.weights("affine", np.concatenate([[head.lut_scale], head.bias]),
                         note="table scale, then bias + table offsets")
    leaf = ctx.buffer("leaf", "int32_t", m)
    dec = ctx.buffer("logits", "real", n_out)
    body = f"""\
{conv}    int32_t j, t, o;
    for (j = 0; j < {m}; j++) {{  /* hash tree j: {depth} comparisons to a leaf */
        int32_t i = 0;
        for (t = 0; t < {depth}; t++) {{
            int32_t dim = (int32_t)eb_unpack_bits({dim_sym}, (j * {depth} + t) * {idx_bits}, {idx_bits});
            i = 2 * i + ({xin}[dim] > {thr_sym}[j * {K - 1} + (1 << t) - 1 + i] ? 1 : 0);
        }}
        {leaf}[j] = i;
    }}
    for (o = 0; o < {n_out}; o++) {{  /* the table rows of the leaves, summed in increasing j */
        {acc_ct} acc = {zero};
        for (j = 0; j < {m}; j++) {{
            acc += {lut_sym}[(j * {K} + {leaf}[j]) * {n_out} + o];
        }}
        {dec}[o] = {affine}[0] * (eb_real)acc + {affine}[1 + o];
    }}
"""
    return body + _scores_from(dec, n_out)


@register_exporter(EEGNetClassifier, reads="epochs")
def _export_eegnet(clf, port, ctx):
    s = _eegnet_state(clf)
    if port.kind != "epochs":  # pragma: no cover - the core only calls it on trials
        raise ValueError("EEGNetClassifier must be the first step (it reads EEG trials)")
    if (port.n_chans, port.n_times) != (s["n_chans"], s["n_times"]):
        raise ValueError(f"EEGNetClassifier reads {s['n_chans']} x {s['n_times']} trials, the port gives "
                         f"{port.n_chans} x {port.n_times}")
    fp = s["fixed"]
    port_out, body = (_fixed_features if fp is not None else _float_features)(s, ctx)
    features = ctx.transform(port_out, body, part="features")
    if not ctx.final:  # a step before the last one: what clf.transform returns
        return features
    hctx = ctx.next_step()
    head = s["head"]
    n_classes = len(clf.classes_)
    if head.n_outputs != n_classes:
        raise ValueError(f"the head has {head.n_outputs} outputs for {n_classes} classes")
    if isinstance(head, DenseHead):
        body = _dense_float(head, port_out, hctx) if fp is None else _dense_fixed(head, fp, port_out, hctx)
    else:
        body = _pq(head, port_out, hctx)
    return [features, hctx.classify(n_classes, body, part="head")]

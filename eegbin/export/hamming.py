"""C export of the Hamming-space steps: projection, Heaviside, binarized classifiers, RP+AM.

- :class:`~eegbin.SparseBipolarRandomProjection`: ``H(R x)`` with ``R``
  regenerated row by row on the device from the 32-bit seed by the
  counter-based generator of :mod:`eegbin.kernels.rng` (bit for bit), summed in
  float32 in increasing feature order like :func:`eegbin.kernels.sparse_bipolar_project`.
  Nothing of ``R`` is stored.
- :class:`~eegbin.HeavisideBinarizer`: packed ``H(x - t)`` with the stored
  thresholds.
- :class:`~eegbin.BinarizedLinearSVC`, :class:`~eegbin.BinarizedLDA`,
  :class:`~eegbin.BinarizedLinearClassifier`: Hamming argmin over the packed class
  vectors (eq. 13); scores ``1 - 2 d_h / d`` (eq. 10). With
  ``binarize_weights=False`` the real-valued model on the +-1 codes.
- :class:`~eegbin.AssociativeMemoryClassifier`: per-band projections, XOR band
  keys, majority bundling (keys, tie-breaks and band seeds regenerated from the
  seed), Hamming argmin over the stored prototypes.
"""

from __future__ import annotations

import numpy as np

from ..binary import (
    AssociativeMemoryClassifier,
    BinarizedLDA,
    BinarizedLinearClassifier,
    BinarizedLinearSVC,
    HeavisideBinarizer,
    SparseBipolarRandomProjection,
)
from ..kernels import n_words_for, ternary_threshold
from ._core import Port, register_exporter
from .linear import _linear_state, linear_classifier_body

__all__ = []


def _seed(est):
    """The 32-bit seed a fitted projection or memory drew (``seed_``)."""
    seed = int(est.seed_)
    if not 0 <= seed < 2**32:
        raise ValueError(f"{type(est).__name__}: the seed {seed} is not a 32-bit unsigned integer")
    return seed


def _projection_state(proj):
    return dict(seed=_seed(proj), d=int(proj.n_components), t=ternary_threshold(proj.sparsity),
                n_features=int(proj.n_features_in_), output=proj.output)


def _heaviside_state(hb):
    thr = None if hb.center == "zero" else np.asarray(hb.thresholds_, dtype=np.float64)
    return dict(thresholds=thr, n_features=int(hb.n_features_in_), output=hb.output)


def _binarized_state(clf):
    state = dict(classes=np.asarray(clf.classes_), n_bits=int(clf.n_bits_),
                 binarize_weights=bool(clf.binarize_weights), input=clf.input_)
    if state["binarize_weights"]:
        state["rows"] = np.asarray(clf.binary_weights_, dtype=np.uint64)
    else:
        lin = _linear_state(clf.estimator_)
        state["coef"], state["intercept"] = lin["coef"], lin["intercept"]
    return state


def _memory_state(am):
    return dict(seed=_seed(am), d=int(am.n_components), n_bands=int(am.n_bands),
                t=ternary_threshold(am.sparsity), n_features=int(am.n_features_in_),
                classes=np.asarray(am.classes_), prototypes=np.asarray(am.prototypes_, dtype=np.uint64))


def _check_real(port, what, n_features):
    """The previous step must give ``n_features`` real features to the exported ``what``."""
    if port.kind != "real":
        raise ValueError(f"{what} reads real features, but the previous step gives {port.describe()}")
    if port.size != n_features:
        raise ValueError(f"{what} expects {n_features} features, gets {port.size}")


@register_exporter(SparseBipolarRandomProjection)
def _export_projection(proj, port, ctx):
    s = _projection_state(proj)
    _check_real(port, "SparseBipolarRandomProjection", s["n_features"])
    ctx.use("projection")
    ctx.seed()
    x, conv = ctx.input_as("float")  # eegbin projects float32 features
    body = f"{conv}    eb_project({x}, {port.size}, {s['seed']}u, {s['t']}u, {s['d']}, out);\n"
    return ctx.transform(Port("packed", s["d"], "uint64_t", values=s["output"]), body)


@register_exporter(HeavisideBinarizer)
def _export_heaviside(hb, port, ctx):
    s = _heaviside_state(hb)
    _check_real(port, "HeavisideBinarizer", s["n_features"])
    ctx.use("heaviside")
    x, conv = ctx.input_as("real")
    thr = "0" if s["thresholds"] is None else ctx.weights("thresholds", s["thresholds"], note="H(x - t)")
    body = f"{conv}    eb_heaviside({x}, {thr}, {port.size}, out);\n"
    return ctx.transform(Port("packed", port.size, "uint64_t", values=s["output"]), body)


def _hamming_head(ctx, code, rows, n_bits, n_classes, conv="", last_mask=None):
    """Body of a Hamming argmin classifier over the packed ``rows`` (class vectors)."""
    ctx.use("hamming", "hamming_scores")
    w = ctx.weights("rows", rows, "uint64_t", note=f"{rows.shape[0]} packed vectors of {n_bits} bits")
    dist = ctx.buffer("dist", "uint32_t", rows.shape[0])
    if last_mask is not None:  # bits beyond n_bits do not count (eegbin masks them)
        masked = ctx.buffer("code_masked", "uint64_t", rows.shape[1])
        conv += (f"    {{\n        int32_t w;\n        for (w = 0; w < {rows.shape[1]}; w++) {{\n"
                 f"            {masked}[w] = {code}[w];\n        }}\n"
                 f"        {masked}[{rows.shape[1] - 1}] &= UINT64_C(0x{last_mask:016X});\n    }}\n")
        code = masked
    return (f"{conv}    int32_t best = eb_hamming_argmin({code}, {w}, {rows.shape[0]}, {rows.shape[1]}, {dist});\n"
            f"    eb_hamming_scores({dist}, {n_classes}, {n_bits}, scores);\n"
            f"    return best;\n")


@register_exporter(BinarizedLinearSVC, BinarizedLDA, BinarizedLinearClassifier)
def _export_binarized_linear(clf, port, ctx):
    s = _binarized_state(clf)
    name = type(clf).__name__
    n_classes = len(s["classes"])
    if port.kind == "real":
        if s["input"] != "heaviside":
            raise ValueError(f"{name} (input_={s['input']!r}) reads binary codes, but the previous "
                             f"step gives {port.describe()}")
        ctx.use("heaviside")
        x, conv = ctx.input_as("real")
        code = ctx.buffer("code", "uint64_t", n_words_for(port.size))
        conv += f"    eb_heaviside({x}, 0, {port.size}, {code});\n"  # H(x), eq. 5
        port = Port("packed", port.size, "uint64_t", values="binary")
    elif port.kind == "packed":
        code, conv = "in", ""
    else:
        raise ValueError(f"{name} reads binary codes, but gets {port.describe()}")
    n_bits = s["n_bits"]
    if n_bits > port.size or n_words_for(n_bits) != port.length:
        raise ValueError(f"{name} was fitted on {n_bits}-bit codes, but the previous step gives "
                         f"{port.size} bits")
    if s["binarize_weights"]:
        body = _hamming_head(ctx, code, s["rows"], n_bits, n_classes, conv, last_mask=_mask(n_bits, port.size))
        return ctx.classify(n_classes, body)
    if n_bits != port.size:
        raise ValueError(f"{name}(binarize_weights=False) was fitted on {n_bits}-bit codes, but the "
                         f"previous step gives {port.size} bits")
    # the float model on the +-1 codes (bits of a binarizer are +-1 to it)
    body = linear_classifier_body(ctx, s["coef"], s["intercept"], n_classes, packed=code, bipolar=True)
    return ctx.classify(n_classes, conv + body)


def _mask(n_bits, size):
    """Mask of the last word when a classifier reads fewer bits than it gets (an inferred
    width: eegbin clears the bits beyond it), else None."""
    if n_bits == size or n_bits % 64 == 0:
        return None
    return (1 << (n_bits % 64)) - 1


@register_exporter(AssociativeMemoryClassifier)
def _export_associative_memory(am, port, ctx):
    s = _memory_state(am)
    _check_real(port, "AssociativeMemoryClassifier", s["n_features"])
    m = port.size // s["n_bands"]
    ctx.use("majority", "hamming")
    ctx.seed()
    x, conv = ctx.input_as("float")
    keys = ctx.buffer("seed_keys", "uint64_t", s["n_bands"])
    ones = ctx.buffer("ones", "int32_t", 64)
    code = ctx.buffer("code", "uint64_t", n_words_for(s["d"]))
    conv += (f"    eb_band_encode({x}, {s['n_bands']}, {m}, {s['seed']}u, {s['t']}u, {s['d']}, "
             f"{keys}, {ones}, {code});\n")
    n_classes = len(s["classes"])
    return ctx.classify(n_classes, _hamming_head(ctx, code, s["prototypes"], s["d"], n_classes, conv))

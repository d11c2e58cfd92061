"""C export of the MI-MANN memory head, :class:`~eegbin.BinaryKeyValueMemory`.

A query ``f`` becomes the packed key ``E = H(R f)`` (eq. 4-6), is compared with every key of
the memory by Hamming distance, ``alpha_i = (d - 2 d_i) / d`` (eq. 10, 14), sharpened into
attention weights (softabs, softmax or none, as :func:`eegbin.binary.sharpen_attention`) and
read out of the one-hot value memory, ``y_hat[c] = sum of a_i over the keys of class c``
(eq. 15); the class is the first argmax of ``y_hat``, the scores are ``y_hat``.

The projection ``R``:

- regenerated row by row on the device from the 32-bit seed ``seed_`` when it is the matrix
  of eegbin's counter-based generator (``sparse_ternary_block(seed_, 0, d, n, sparsity=0)``),
  with the projection block of :mod:`eegbin.export.hamming` (float32 sums in increasing
  feature order); nothing of ``R`` is stored;
- otherwise stored: a bipolar matrix drawn by another generator as packed bits
  (``d x n`` bits), a learned matrix as ``eb_real`` values, summed in ``eb_real``.

The positive scale ``projection_scale_`` changes no sign and is not applied. Python sums the
projection in float64 (BLAS order), so a key bit can differ where a sum is within rounding of
zero; the Hamming part and the readout are then exact functions of the key bits.
"""

from __future__ import annotations

import numpy as np

from ..binary import BinaryKeyValueMemory
from ..kernels import n_words_for, pack_bits, sparse_ternary_block, ternary_threshold
from ._core import register_exporter
from .hamming import _check_real

__all__ = []


def _regenerable(mem):
    """True when ``projection_`` is the counter-based generator's matrix for ``seed_``."""
    seed = getattr(mem, "seed_", None)
    R = mem.projection_
    if seed is None or R.dtype != np.int8:
        return False
    return bool(np.array_equal(R, sparse_ternary_block(int(seed), 0, R.shape[0], R.shape[1], sparsity=0.0)))


def _memory_state(mem):
    return dict(d=int(mem.n_components), n_features=int(mem.n_features_in_), projection=np.asarray(mem.projection_),
                seed=None if mem.seed_ is None else int(mem.seed_), regenerate=_regenerable(mem),
                keys=np.asarray(mem.keys_, dtype=np.uint64), labels=np.asarray(mem.labels_, dtype=np.int64),
                classes=np.asarray(mem.classes_), sharpen=mem.sharpen, beta=float(mem.beta))


def _projection(s, ctx):
    """Statements filling the packed key of the step input; the key's buffer."""
    d, n = s["d"], s["n_features"]
    words = n_words_for(d)
    code = ctx.buffer("code", "uint64_t", words)
    if s["regenerate"]:
        ctx.use("projection")
        ctx.seed()
        x, conv = ctx.input_as("float")  # the generator's rows sum float32 features
        return conv + f"    eb_project({x}, {n}, {s['seed']}u, {ternary_threshold(0.0)}u, {d}, {code});\n", code
    x, conv = ctx.input_as("real")
    R = s["projection"]
    if R.dtype == np.int8 and np.isin(R, (-1, 1)).all():  # bipolar: d x n bits, row-major
        rows = ctx.weights("projection", pack_bits(R.astype(np.int64)), "uint64_t",
                           note=f"bipolar R, {d} packed rows of {n} bits (bit set: +1)")
        wn = n_words_for(n)
        term = f"(({rows}[i * {wn} + j / 64] >> (j % 64)) & 1u) ? {x}[j] : -{x}[j]"
    else:
        rows = ctx.weights("projection", R.astype(np.float64), "real", note=f"learned R, {d} x {n}")
        term = f"{rows}[i * {n} + j] * {x}[j]"
    return conv + f"""    {{
        int32_t i, j;
        for (i = 0; i < {words}; i++) {{
            {code}[i] = 0;
        }}
        for (i = 0; i < {d}; i++) {{
            eb_real acc = EB_R(0.0);
            for (j = 0; j < {n}; j++) {{
                acc += {term};
            }}
            if (acc >= EB_R(0.0)) {{
                {code}[i / 64] |= (uint64_t)1 << (i % 64);
            }}
        }}
    }}
""", code


_MODES = {"softabs": 0, "softmax": 1, "none": 2}


@register_exporter(BinaryKeyValueMemory)
def _export_memory(mem, port, ctx):
    s = _memory_state(mem)
    _check_real(port, "BinaryKeyValueMemory", s["n_features"])
    keys, d = s["keys"], s["d"]
    n_keys, n_classes = keys.shape[0], len(s["classes"])
    if n_classes > 256:
        raise ValueError(f"BinaryKeyValueMemory: the C export stores class indices as uint8, "
                         f"got {n_classes} classes (at most 256)")
    body, code = _projection(s, ctx)
    ctx.use("hamming", "memory_readout", "argmax")
    w = ctx.weights("keys", keys, "uint64_t", note=f"key memory: {n_keys} packed keys of {d} bits")
    lab = ctx.weights("labels", s["labels"].astype(np.uint8), "uint8_t",
                      note="value memory: the class index of each key (its one-hot row)")
    dist = ctx.buffer("dist", "uint32_t", n_keys)
    att = ctx.buffer("attention", "real", n_keys)
    yhat = ctx.buffer("readout", "real", n_classes)
    body += (f"    (void)eb_hamming_argmin({code}, {w}, {n_keys}, {keys.shape[1]}, {dist});\n"
             f"    eb_memory_readout({dist}, {lab}, {n_keys}, {d}, {_MODES[s['sharpen']]}, "
             f"EB_R({s['beta']!r}), {n_classes}, {att}, {yhat});\n"
             f"    {{\n        int32_t c;\n        for (c = 0; c < {n_classes}; c++) {{\n"
             f"            scores[c] = (float){yhat}[c];\n        }}\n    }}\n"
             f"    return {f'eb_argmax({yhat}, {n_classes})' if n_classes > 1 else '0'};\n")
    return ctx.classify(n_classes, body)

"""The file format of :func:`eegbin.train.export`: read and written here, torch-free.

An export is a safetensors file whose header holds, under the key ``"eegbin"``, a
JSON object: ``"model"`` (``"EEGNet"``, ``"MIMANN"``, ``"LSTMNet"``), ``"hparams"``,
and for a fitted classifier ``"classes"``, ``"input_scale"``, ``"n_chans"``,
``"n_times"``. :func:`read_export_metadata` reads it.

A MuBiNN2 LSTM (``LSTMNet(quantize="mubinn2")``) keeps its latent float weights in
the tensors (``lstm.*`` with the input scale folded into ``weight_ih_l0``, and the
float head), so the file still loads in :class:`eegbin.nn.LSTM`; what its trained
forward quantizes is in ``metadata["quantization"]``, exactly as trained.
:func:`read_lstm_quantization` reads every version below into one
:class:`LSTMQuantization`.

Format 3 (written today, :func:`lstm_quantization_metadata`): MuBiNN2 as the paper defines it
    ``"format"``: 3, ``"method"``: ``"mubinn2"``, ``"sign"``: ``"Sign(0) = +1"``,
    ``"precision"``: ``"float64"`` (Algorithm 1's residuals and the cell arithmetic).

    ``"weights"``
        per binarized tensor: ``"lstm.weight_ih_l0"`` (4H, D), ``"lstm.weight_hh_l0"``
        (4H, H) and ``"lstm.bias_l0"`` (4H,), the bias the cell adds (the sum of
        the tensors ``lstm.bias_ih_l0`` and ``lstm.bias_hh_l0``, listed under ``"of"``):
        ``quantizer`` (its name in the trained model), ``levels`` L,
        ``granularity`` ``"tensor"`` (one scale per level), the learned
        ``scales`` (L numbers), ``shape`` and ``packed``: the ±1 sign planes of
        Algorithm 1 as bits (+1 <-> 1), packed per row into uint64 words LSB first
        (DESIGN.md), array (L, rows, ceil(cols / 64)) in little-endian bytes,
        base64 (the bias is one row). Padding bits are zero.
    ``"activations"``
        per binarized signal of the cell (:data:`MUBINN2_ACTIVATIONS`): ``"input"``
        (x_t: the pooled sequences divided by ``input_scale``), ``"hidden"``
        (h_{t-1}), ``"input_gate"``, ``"forget_gate"``, ``"cell_gate"``,
        ``"output_gate"`` (i, f, g, o after their activation functions) and
        ``"cell_state"`` (c_{t-1}): ``quantizer``, ``signal``, ``levels``,
        ``granularity``, learned ``scales`` and ``offset`` (the signal is
        binarized around it: 0.5 for the sigmoid gates); binarized at run time by
        Algorithm 1 with these scales, residuals in float64.
    ``"activation_functions"``
        ``{"kind": "piecewise_linear", "segments": n, "sigmoid_bound": 8.0,
        "tanh_bound": 4.0}``: sigmoid and tanh are the tables of
        :func:`eegbin.nn.pwl_table` (uniform knots on ``[-bound, bound]``,
        constant outside), in training and inference.
    ``"input_scale"``
        Raw epochs are divided by it (float32) before pooling.
    ``"unquantized"``
        What stays float: ``tanh(c_t)`` and eq. (6) (a MAC unit in the paper),
        the last hidden state the head reads, and the dense head.

    Format 3 writes no format-1 keys: a reader of format 1 only would take the
    file for a network that binarizes x_t and h_{t-1} only.

Format 2 (still read): the earlier MuBiNN2, which binarizes x_t, h_{t-1}, W_x, W_h only
    ``"weights"`` for ``"lstm.weight_ih_l0"`` and ``"lstm.weight_hh_l0"`` as above,
    with float32 ``scales``; ``"activations"`` ``"input"`` and ``"hidden"``
    (``quantizer``, ``levels``, ``granularity``, ``scales``), binarized with
    residuals in float32; ``"input_scale"``; the biases, exact sigmoid and tanh,
    the gates and the cell state in float.

Format 1 (legacy keys, written beside format 2 and still read)
    ``"q_input"``, ``"q_hidden"``, ``"q_w_ih"``, ``"q_w_hh"``: the four lists of
    learned scales; ``"input_scale_folded"``: the input scale, which format 1 also
    folded into the input weights. There are no sign planes: the reader
    recomputes them from the latent weights (exact for ``W_h``; ``W_x`` is first
    unfolded, which can move a weight across a level threshold by one float32
    rounding), with a warning. When both are present, the legacy scale lists
    must equal format 2's.

References
----------
.. [1] MuBiNN, Algorithm 1, eq. (9), Section IV-C (MuBiNN2, learned scales), Fig. 3.
"""

from __future__ import annotations

import base64
import binascii
import json
import numbers
import os
import warnings
from typing import NamedTuple

import numpy as np

from ..kernels import n_words_for, pack_bits
from ..quantize import MultiLevelCode, multilevel_binarize
from ..quantize.mlb import check_n_levels
from .io import _safetensors_metadata
from .lstm_cell import pwl_table

__all__ = ["read_export_metadata", "lstm_quantization_metadata", "read_lstm_quantization", "LSTMQuantization",
           "FORMAT", "READABLE_FORMATS", "LSTM_WEIGHTS", "LSTM_BIAS", "LSTM_SIGNALS", "MUBINN2_ACTIVATIONS"]

#: Version of the ``"quantization"`` metadata written by :func:`lstm_quantization_metadata`.
FORMAT = 3
#: Versions :func:`read_lstm_quantization` reads.
READABLE_FORMATS = (1, 2, 3)
#: Binarized weight tensors of a MuBiNN2 LSTMNet and the legacy (format 1) key of their scales.
LSTM_WEIGHTS = {"lstm.weight_ih_l0": "q_w_ih", "lstm.weight_hh_l0": "q_w_hh"}
#: Format 3: the binarized bias (the sum of the two bias tensors), its quantizer and tensors.
LSTM_BIAS = ("lstm.bias_l0", "q_bias", ("lstm.bias_ih_l0", "lstm.bias_hh_l0"))
#: Formats 1-2: binarized activations and the legacy (format 1) key of their scales.
LSTM_SIGNALS = {"input": "q_input", "hidden": "q_hidden"}
#: Format 3: binarized activations -> (signal of the cell, quantizer of LSTMNet).
MUBINN2_ACTIVATIONS = {
    "input": ("x", "q_input"),
    "hidden": ("h", "q_hidden"),
    "input_gate": ("i", "q_input_gate"),
    "forget_gate": ("f", "q_forget_gate"),
    "cell_gate": ("g", "q_cell_gate"),
    "output_gate": ("o", "q_output_gate"),
    "cell_state": ("c", "q_cell_state"),
}


class LSTMQuantization(NamedTuple):
    """What the trained forward of an exported MuBiNN2 quantizes (:func:`read_lstm_quantization`)."""

    format: int
    """Version of the metadata (1, 2 or 3)."""
    weights: dict
    """Binarized tensor (``"lstm.weight_ih_l0"``, ``"lstm.weight_hh_l0"``, format 3 also
    ``"lstm.bias_l0"``) -> MultiLevelCode (the exported planes, learned scales per tensor)."""
    scales: dict
    """Binarized cell signal (``"x"``, ``"h"``; format 3 also ``"i"``, ``"f"``, ``"g"``,
    ``"o"``, ``"c"``) -> learned scales (L,)."""
    offsets: dict
    """Cell signal -> the offset it is binarized around."""
    input_scale: float
    """Raw epochs are divided by it before pooling."""
    tables: tuple | None
    """(sigmoid, tanh) piecewise-linear tables, or None: exact functions (formats 1-2)."""
    dtype: type
    """Precision of Algorithm 1's residuals: numpy.float32 (formats 1-2) or numpy.float64."""


def read_export_metadata(path):
    """The metadata dict of a model written by :func:`eegbin.train.export` (no torch needed).

    Parameters
    ----------
    path : str or PathLike
        The exported ``.safetensors`` file.

    Returns
    -------
    dict
        Model class, hyper-parameters, classes, input scale, quantization.

    Raises
    ------
    ValueError
        Not a safetensors file, no (valid) eegbin metadata in its header, or a
        quantization format this eegbin does not read.
    """
    meta = _safetensors_metadata(path)
    if "eegbin" not in meta:
        raise ValueError(
            f"{os.fspath(path)!r} has no eegbin metadata in its safetensors header "
            "(was it written by eegbin.train.export?)"
        )
    try:
        out = json.loads(meta["eegbin"])
    except json.JSONDecodeError as exc:
        raise ValueError(f"{os.fspath(path)!r}: the eegbin metadata is not valid JSON ({exc})") from None
    if not isinstance(out, dict):
        raise ValueError(f"{os.fspath(path)!r}: the eegbin metadata must be a JSON object")
    if out.get("model") == "LSTMNet" and "quantization" in out:
        q = out["quantization"]
        try:
            if not isinstance(q, dict):
                raise ValueError(f"quantization must be a JSON object, got {type(q).__name__}")
            _format(q)
        except ValueError as exc:
            raise ValueError(f"{os.fspath(path)!r}: {exc}") from None
    return out


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def _plane_entry(planes, scales, quantizer, shape, where):
    """A format-3 weight entry: ±1 planes (L, rows, cols) packed per row, and their scales."""
    b = np.asarray(planes)
    if b.ndim != 3 or not np.all(np.abs(b) == 1):
        raise ValueError(f"{where} must be ±1 sign planes (L, rows, cols), got shape {b.shape}")
    L, rows, cols = b.shape
    scales = [float(v) for v in scales]
    if len(scales) != L:
        raise ValueError(f"{where}: {len(scales)} scales for {L} planes")
    packed = pack_bits(b.reshape(L * rows, cols), kind="bipolar").astype("<u8")
    return {"quantizer": quantizer, "levels": L, "granularity": "tensor", "scales": scales,
            "shape": list(shape), "packed": base64.b64encode(packed.tobytes()).decode("ascii")}


def lstm_quantization_metadata(weight_planes, weight_scales, activation_scales, activation_offsets,
                               input_scale, pwl_segments=32, pwl_bounds=(8.0, 4.0)):
    """The ``"quantization"`` metadata (format 3) of a MuBiNN2 LSTM.

    Parameters
    ----------
    weight_planes : dict
        For ``"lstm.weight_ih_l0"``, ``"lstm.weight_hh_l0"`` (:data:`LSTM_WEIGHTS`) the ±1
        sign planes (L, rows, cols) Algorithm 1 gives them in training, and for
        ``"lstm.bias_l0"`` (:data:`LSTM_BIAS`) those of the bias, (L, 4H).
    weight_scales : dict
        The learned scales (L values; float32 values as Python floats, which JSON
        keeps exactly) of each of these tensors.
    activation_scales, activation_offsets : dict
        The learned scales and the offset of each signal of :data:`MUBINN2_ACTIVATIONS`.
    input_scale : float
    pwl_segments : int, default=32
    pwl_bounds : (float, float), default=(8.0, 4.0)
        Segments and bounds of the sigmoid and tanh tables (:func:`eegbin.nn.pwl_table`).

    Returns
    -------
    dict
        JSON-serializable.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.export_format import (MUBINN2_ACTIVATIONS, lstm_quantization_metadata,
    ...                                      read_lstm_quantization)
    >>> planes = {"lstm.weight_ih_l0": np.ones((1, 8, 3)), "lstm.weight_hh_l0": -np.ones((1, 8, 2)),
    ...           "lstm.bias_l0": np.ones((1, 8))}
    >>> q = lstm_quantization_metadata(planes, {k: [0.5] for k in planes},
    ...                                {s: [0.25] for s in MUBINN2_ACTIVATIONS},
    ...                                {s: 0.0 for s in MUBINN2_ACTIVATIONS}, input_scale=2.0)
    >>> q["format"], q["weights"]["lstm.bias_l0"]["shape"], "q_w_hh" in q
    (3, [8], False)
    >>> r = read_lstm_quantization(q, {"lstm.weight_ih_l0": (8, 3), "lstm.weight_hh_l0": (8, 2)})
    >>> int(r.weights["lstm.weight_ih_l0"].planes[0, 0, 0]), sorted(r.scales), r.input_scale, r.format
    (7, ['c', 'f', 'g', 'h', 'i', 'o', 'x'], 2.0, 3)
    """
    bias_key, bias_quantizer, bias_of = LSTM_BIAS
    weights = {}
    for key, quantizer in LSTM_WEIGHTS.items():
        b = np.asarray(weight_planes[key])
        weights[key] = _plane_entry(b, weight_scales[key], quantizer, b.shape[1:], f"weight_planes[{key!r}]")
    b = np.asarray(weight_planes[bias_key])
    if b.ndim != 2:
        raise ValueError(f"weight_planes[{bias_key!r}] must be ±1 sign planes (L, 4H), got shape {b.shape}")
    weights[bias_key] = dict(_plane_entry(b[:, None, :], weight_scales[bias_key], bias_quantizer, b.shape[1:],
                                          f"weight_planes[{bias_key!r}]"), of=list(bias_of))
    activations = {}
    for name, (signal, quantizer) in MUBINN2_ACTIVATIONS.items():
        scales = [float(v) for v in activation_scales[name]]
        activations[name] = {"quantizer": quantizer, "signal": signal, "levels": len(scales),
                             "granularity": "tensor", "scales": scales, "offset": float(activation_offsets[name])}
    return {
        "format": FORMAT, "method": "mubinn2", "sign": "Sign(0) = +1", "precision": "float64",
        "input_scale": float(input_scale), "weights": weights, "activations": activations,
        "activation_functions": {"kind": "piecewise_linear", "segments": int(pwl_segments),
                                 "sigmoid_bound": float(pwl_bounds[0]), "tanh_bound": float(pwl_bounds[1])},
        "unquantized": ["tanh(c_t)", "h_t = o_t tanh(c_t) (eq. 6)", "head.weight", "head.bias"],
    }


# ---------------------------------------------------------------------------
# reading and checking
# ---------------------------------------------------------------------------


def _format(q):
    if not isinstance(q, dict):
        raise TypeError(f"quantization must be a dict (the export's metadata['quantization']), got {type(q).__name__}")
    fmt = q.get("format", 1)
    if fmt not in READABLE_FORMATS or isinstance(fmt, bool):
        raise ValueError(f"quantization['format'] is {fmt!r}; this eegbin reads formats "
                         f"{', '.join(map(str, READABLE_FORMATS[:-1]))} and {READABLE_FORMATS[-1]}")
    return fmt


def _get(mapping, key, where):
    if not isinstance(mapping, dict):
        raise ValueError(f"quantization{where} must be a JSON object, got {type(mapping).__name__}")
    if key not in mapping:
        raise ValueError(f"quantization{where} has no {key!r} entry (found {sorted(mapping)})")
    return mapping[key]


def _entry_levels(group, key, where):
    """``group[key]`` (a per-tensor quantization entry) and its checked level count."""
    entry = _get(group, key, where)
    where = f"{where}[{key!r}]"
    levels = check_n_levels(_get(entry, "levels", where), f"quantization{where}['levels']", in_file=True)
    gran = _get(entry, "granularity", where)
    if gran != "tensor":
        raise ValueError(f"quantization{where}['granularity'] must be 'tensor', got {gran!r}")
    return entry, levels


def _check_number(value, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"quantization{where} must be a finite number, got {value!r}")
    return float(value)


def _check_scales(value, levels, where, dtype=np.float32):
    """Learned scales as ``dtype`` (float32: the values a float32 training used)."""
    if not isinstance(value, list) or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"quantization{where} must be a list of numbers, got {value!r}")
    if levels is not None and len(value) != levels:
        raise ValueError(f"quantization{where} has {len(value)} scales, expected one per level ({levels})")
    s = np.asarray(value, dtype=np.float64)
    if s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError(f"quantization{where} must hold finite numbers, got {value!r}")
    return s.astype(dtype)


def _check_input_scale(value, key):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"quantization[{key!r}] must be a positive number, got {value!r}")
    return float(value)


def _decode_planes(entry, levels, shape, where):
    """Packed uint64 planes (L, rows, n_words) from base64 little-endian bytes."""
    text = _get(entry, "packed", where)
    if not isinstance(text, str):
        raise ValueError(f"quantization{where}['packed'] must be a base64 string, got {type(text).__name__}")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"quantization{where}['packed'] is not valid base64 ({exc})") from None
    rows, cols = shape
    n_words = n_words_for(cols)
    expected = levels * rows * n_words * 8
    if len(raw) != expected:
        raise ValueError(
            f"quantization{where}['packed'] holds {len(raw)} bytes, expected {expected} "
            f"({levels} levels x {rows} rows x {n_words} uint64 words)"
        )
    planes = np.frombuffer(raw, dtype="<u8").astype(np.uint64).reshape(levels, rows, n_words)
    rem = cols % 64
    if rem and np.any(planes[..., -1] >> np.uint64(rem)):
        raise ValueError(f"quantization{where}['packed'] has nonzero padding bits beyond {cols} columns")
    return planes


def _read_code(weights, key, shape, dtype):
    """The MultiLevelCode of ``weights[key]`` (exported planes, per-tensor scales), checked against ``shape``."""
    where = f"['weights'][{key!r}]"
    entry, levels = _entry_levels(weights, key, "['weights']")
    stored = _get(entry, "shape", where)
    if not isinstance(stored, list) or stored != list(shape):
        raise ValueError(f"quantization{where}['shape'] is {stored!r}, but tensor {key!r} has shape {list(shape)}")
    scales = _check_scales(_get(entry, "scales", where), levels, where + "['scales']", dtype)
    rows_cols = (1, shape[0]) if len(shape) == 1 else tuple(shape)
    return MultiLevelCode(planes=_decode_planes(entry, levels, rows_cols, where), scales=scales.astype(np.float64),
                          n_bits=int(rows_cols[1]), shape=tuple(int(v) for v in shape), axis=None)


def _read_format_1(q, latent):
    for key in (*LSTM_WEIGHTS.values(), *LSTM_SIGNALS.values(), "input_scale_folded"):
        _get(q, key, "")
    fold = _check_input_scale(q["input_scale_folded"], "input_scale_folded")
    if latent is None:
        raise ValueError("quantization format 1 has no sign planes: the latent weights are needed to recompute them")
    warnings.warn(
        "this export (quantization format 1) has no weight sign planes: they are recomputed "
        "from the latent weights with the learned scales; the input weights were stored "
        "divided by the input scale, so a few of their signs may differ from training. "
        "Re-export the model with the current eegbin.train.export for exact planes.",
        UserWarning, stacklevel=4,
    )
    codes = {}
    for key, legacy in LSTM_WEIGHTS.items():
        scales = _check_scales(q[legacy], None, f"[{legacy!r}]")
        w = np.asarray(latent[key], dtype=np.float32)
        if key == "lstm.weight_ih_l0":
            w = w * np.float32(fold)
        codes[key] = multilevel_binarize(w, len(scales), scales=scales, dtype=np.float32)
    act = {sig: _check_scales(q[legacy], None, f"[{legacy!r}]") for sig, legacy in LSTM_SIGNALS.items()}
    return codes, act, fold


def _read_format_2(q, shapes):
    codes = {key: _read_code(_get(q, "weights", ""), key, shapes[key], np.float32) for key in LSTM_WEIGHTS}
    activations, act = _get(q, "activations", ""), {}
    for sig in LSTM_SIGNALS:
        where = f"['activations'][{sig!r}]"
        entry, levels = _entry_levels(activations, sig, "['activations']")
        act[sig] = _check_scales(_get(entry, "scales", where), levels, where + "['scales']")
    # the format-1 scale lists are kept in the file: both copies must agree
    legacy = {**LSTM_WEIGHTS, **LSTM_SIGNALS}
    for name, scales in [(k, codes[k].scales) for k in LSTM_WEIGHTS] + list(act.items()):
        old = q.get(legacy[name])
        if old is None:
            continue
        try:
            same = np.array_equal(np.asarray(old, dtype=np.float64), np.asarray(scales, dtype=np.float64))
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ValueError(
                f"quantization[{legacy[name]!r}] = {old!r} disagrees with the scales of {name!r} "
                f"({[float(v) for v in scales]}): the metadata was altered"
            )
    return codes, act, _check_input_scale(_get(q, "input_scale", ""), "input_scale")


def _read_format_3(q, shapes):
    precision = _get(q, "precision", "")
    if precision != "float64":
        raise ValueError(f"quantization['precision'] must be 'float64', got {precision!r}")
    weights = _get(q, "weights", "")
    codes = {key: _read_code(weights, key, shapes[key], np.float64) for key in LSTM_WEIGHTS}
    bias_key = LSTM_BIAS[0]
    codes[bias_key] = _read_code(weights, bias_key, (shapes["lstm.weight_hh_l0"][0],), np.float64)
    activations, scales, offsets = _get(q, "activations", ""), {}, {}
    for name, (signal, _) in MUBINN2_ACTIVATIONS.items():
        where = f"['activations'][{name!r}]"
        entry, levels = _entry_levels(activations, name, "['activations']")
        scales[signal] = _check_scales(_get(entry, "scales", where), levels, where + "['scales']", np.float64)
        offsets[signal] = _check_number(_get(entry, "offset", where), where + "['offset']")
    functions = _get(q, "activation_functions", "")
    where = "['activation_functions']"
    kind = _get(functions, "kind", where)
    if kind != "piecewise_linear":
        raise ValueError(f"quantization{where}['kind'] must be 'piecewise_linear', got {kind!r}")
    segments = check_n_levels(_get(functions, "segments", where), f"quantization{where}['segments']", in_file=True)
    bounds = [_check_number(_get(functions, f"{fn}_bound", where), f"{where}[{fn + '_bound'!r}]")
              for fn in ("sigmoid", "tanh")]
    if min(bounds) <= 0:
        raise ValueError(f"quantization{where}: the table bounds must be positive, got {bounds}")
    tables = tuple(pwl_table(fn, segments, bound) for fn, bound in zip(("sigmoid", "tanh"), bounds))
    input_scale = _check_input_scale(_get(q, "input_scale", ""), "input_scale")
    return LSTMQuantization(3, codes, scales, offsets, input_scale, tables, np.float64)


def read_lstm_quantization(q, shapes, latent=None):
    """What the trained forward of a MuBiNN2 export quantizes, from its metadata (formats 1-3).

    Parameters
    ----------
    q : dict
        ``metadata["quantization"]``.
    shapes : dict
        The shape (rows, cols) of each tensor of :data:`LSTM_WEIGHTS`.
    latent : dict, optional
        The latent float tensors (format 1 only: its sign planes are recomputed).

    Returns
    -------
    LSTMQuantization

    Raises
    ------
    TypeError, ValueError
        Not a dict; a missing, malformed or inconsistent entry (the message names it).
    """
    fmt = _format(q)
    method = q.get("method", "mubinn2") if fmt == 1 else _get(q, "method", "")
    if method != "mubinn2":
        raise ValueError(f"quantization['method'] must be 'mubinn2', got {method!r}")
    if fmt == 3:
        return _read_format_3(q, shapes)
    codes, act, input_scale = _read_format_1(q, latent) if fmt == 1 else _read_format_2(q, shapes)
    return LSTMQuantization(fmt, codes, {"x": act["input"], "h": act["hidden"]}, {"x": 0.0, "h": 0.0},
                            input_scale, None, np.float32)

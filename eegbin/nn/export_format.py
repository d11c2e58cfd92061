"""The file format of :func:`eegbin.train.export`: read and written here, torch-free.

An export is a safetensors file whose header holds, under the key ``"eegbin"``, a
JSON object: ``"model"`` (``"EEGNet"``, ``"MIMANN"``, ``"LSTMNet"``), ``"hparams"``,
and for a fitted classifier ``"classes"``, ``"input_scale"``, ``"n_chans"``,
``"n_times"``. :func:`read_export_metadata` reads it.

A MuBiNN2 LSTM (``LSTMNet(quantize="mubinn2")``) keeps its latent float weights in
the tensors (``lstm.*`` with the input scale folded into ``weight_ih_l0``, and the
float head), so the file still loads in :class:`eegbin.nn.LSTM`; what its trained
forward quantizes is in ``metadata["quantization"]``, exactly as trained.

Format 2 (written today, :func:`lstm_quantization_metadata`)
    ``"format"``: 2, ``"method"``: ``"mubinn2"``, ``"sign"``: ``"Sign(0) = +1"``.

    ``"weights"``
        per quantized tensor (``"lstm.weight_ih_l0"``, ``"lstm.weight_hh_l0"``):
        ``quantizer`` (its name in the trained model), ``levels`` L,
        ``granularity`` ``"tensor"`` (one scale per level), the learned
        ``scales`` (L float32 values), ``shape`` (rows, cols) and ``packed``: the
        ±1 sign planes of Algorithm 1 as bits (+1 <-> 1), packed per row into
        uint64 words LSB first (DESIGN.md), array (L, rows, ceil(cols / 64)) in
        little-endian bytes, base64. Padding bits are zero.
    ``"activations"``
        ``"input"`` (the pooled sequences divided by ``input_scale``) and
        ``"hidden"`` (h_{t-1}): ``quantizer``, ``levels``, ``granularity``,
        learned ``scales``; binarized at run time by Algorithm 1 with these
        scales, residuals in float32 as in training.
    ``"input_scale"``
        Raw epochs are divided by it (float32) before pooling and the input
        quantizer; it is *not* folded into the sign planes.
    ``"unquantized"``
        What stays float: the biases, the head, the gate nonlinearities and the
        cell state.

Format 1 (legacy keys, still written beside format 2 and still read)
    ``"q_input"``, ``"q_hidden"``, ``"q_w_ih"``, ``"q_w_hh"``: the four lists of
    learned scales; ``"input_scale_folded"``: the input scale, which format 1 also
    folded into the input weights. There are no sign planes: the reader
    recomputes them from the latent weights (exact for ``W_h``; ``W_x`` is first
    unfolded, which can move a weight across a level threshold by one float32
    rounding), with a warning. When both are present, the legacy scale lists
    must equal format 2's.

References
----------
.. [1] MuBiNN, Algorithm 1, eq. (9), Section IV-C (MuBiNN2, learned scales).
"""

from __future__ import annotations

import base64
import binascii
import json
import numbers
import os
import warnings

import numpy as np

from ..kernels import n_words_for, pack_bits
from ..quantize import MultiLevelCode, multilevel_binarize
from ..quantize.mlb import check_n_levels
from .io import _safetensors_metadata

__all__ = ["read_export_metadata", "lstm_quantization_metadata", "read_lstm_quantization",
           "FORMAT", "READABLE_FORMATS", "LSTM_WEIGHTS", "LSTM_SIGNALS"]

#: Version of the ``"quantization"`` metadata written by :func:`lstm_quantization_metadata`.
FORMAT = 2
#: Versions :func:`read_lstm_quantization` reads.
READABLE_FORMATS = (1, 2)
#: Quantized weight tensors of a MuBiNN2 LSTMNet and the legacy (format 1) key of their scales.
LSTM_WEIGHTS = {"lstm.weight_ih_l0": "q_w_ih", "lstm.weight_hh_l0": "q_w_hh"}
#: Binarized activations and the legacy (format 1) key of their scales.
LSTM_SIGNALS = {"input": "q_input", "hidden": "q_hidden"}


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


def lstm_quantization_metadata(weight_planes, weight_scales, activation_scales, input_scale):
    """The ``"quantization"`` metadata (format 2, with the format 1 keys) of a MuBiNN2 LSTM.

    Parameters
    ----------
    weight_planes : dict
        For each name of :data:`LSTM_WEIGHTS`, the ±1 sign planes (L, rows, cols)
        Algorithm 1 gives the weights in training.
    weight_scales, activation_scales : dict
        The learned scales (L float32 values as Python floats, which JSON keeps
        exactly) of each weight and of each signal of :data:`LSTM_SIGNALS`.
    input_scale : float

    Returns
    -------
    dict
        JSON-serializable.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.export_format import lstm_quantization_metadata, read_lstm_quantization
    >>> planes = {"lstm.weight_ih_l0": np.ones((1, 8, 3)), "lstm.weight_hh_l0": -np.ones((1, 8, 2))}
    >>> q = lstm_quantization_metadata(planes, {k: [0.5] for k in planes},
    ...                                {"input": [1.0], "hidden": [0.25]}, input_scale=2.0)
    >>> q["format"], q["weights"]["lstm.weight_hh_l0"]["levels"], q["q_w_hh"]
    (2, 1, [0.5])
    >>> codes, _, scale, fmt = read_lstm_quantization(q, {k: v.shape[1:] for k, v in planes.items()})
    >>> int(codes["lstm.weight_ih_l0"].planes[0, 0, 0]), scale, fmt
    (7, 2.0, 2)
    """
    q = {legacy: [float(s) for s in weight_scales[key]] for key, legacy in LSTM_WEIGHTS.items()}
    q.update({legacy: [float(s) for s in activation_scales[sig]] for sig, legacy in LSTM_SIGNALS.items()})
    q["input_scale_folded"] = float(input_scale)  # format 1 keys, kept for older readers
    weights = {}
    for key, legacy in LSTM_WEIGHTS.items():
        b = np.asarray(weight_planes[key])
        if b.ndim != 3 or not np.all(np.abs(b) == 1):
            raise ValueError(f"weight_planes[{key!r}] must be ±1 sign planes (L, rows, cols), got shape {b.shape}")
        L, rows, cols = b.shape
        if len(q[legacy]) != L:
            raise ValueError(f"weight_scales[{key!r}] has {len(q[legacy])} scales for {L} planes")
        packed = pack_bits(b.reshape(L * rows, cols), kind="bipolar").astype("<u8")
        weights[key] = {
            "quantizer": legacy, "levels": L, "granularity": "tensor", "scales": q[legacy],
            "shape": [rows, cols], "packed": base64.b64encode(packed.tobytes()).decode("ascii"),
        }
    activations = {sig: {"quantizer": legacy, "levels": len(q[legacy]), "granularity": "tensor",
                         "scales": q[legacy]}
                   for sig, legacy in LSTM_SIGNALS.items()}
    q.update(format=FORMAT, method="mubinn2", sign="Sign(0) = +1", input_scale=float(input_scale),
             activations=activations, weights=weights,
             unquantized=["lstm.bias_ih_l0", "lstm.bias_hh_l0", "head.weight", "head.bias",
                          "gates", "cell state"])
    return q


# ---------------------------------------------------------------------------
# reading and checking
# ---------------------------------------------------------------------------


def _format(q):
    if not isinstance(q, dict):
        raise TypeError(f"quantization must be a dict (the export's metadata['quantization']), got {type(q).__name__}")
    fmt = q.get("format", 1)
    if fmt not in READABLE_FORMATS or isinstance(fmt, bool):
        raise ValueError(f"quantization['format'] is {fmt!r}; this eegbin reads formats "
                         f"{' and '.join(map(str, READABLE_FORMATS))}")
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


def _check_scales(value, levels, where):
    """Learned scales as float32 (the values training used)."""
    if not isinstance(value, list) or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"quantization{where} must be a list of numbers, got {value!r}")
    if levels is not None and len(value) != levels:
        raise ValueError(f"quantization{where} has {len(value)} scales, expected one per level ({levels})")
    s = np.asarray(value, dtype=np.float64)
    if s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError(f"quantization{where} must hold finite numbers, got {value!r}")
    return s.astype(np.float32)


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


def read_lstm_quantization(q, shapes, latent=None):
    """The weight codes, activation scales and input scale of a MuBiNN2 export.

    Parameters
    ----------
    q : dict
        ``metadata["quantization"]``, format 1 or 2.
    shapes : dict
        The shape (rows, cols) of each tensor of :data:`LSTM_WEIGHTS`.
    latent : dict, optional
        The latent float tensors (format 1 only: its sign planes are recomputed).

    Returns
    -------
    codes : dict of str to MultiLevelCode
        Per weight tensor: the packed sign planes and learned scales.
    activation_scales : dict of str to ndarray of float32
        ``"input"`` and ``"hidden"``.
    input_scale : float
    format : int

    Raises
    ------
    TypeError, ValueError
        Not a dict; a missing, malformed or inconsistent entry (the message names it).
    """
    fmt = _format(q)
    if fmt == 1:
        return (*_read_format_1(q, latent), fmt)
    method = _get(q, "method", "")
    if method != "mubinn2":
        raise ValueError(f"quantization['method'] must be 'mubinn2', got {method!r}")
    weights, codes = _get(q, "weights", ""), {}
    for key in LSTM_WEIGHTS:
        where = f"['weights'][{key!r}]"
        entry, levels = _entry_levels(weights, key, "['weights']")
        shape = _get(entry, "shape", where)
        if not isinstance(shape, list) or shape != list(shapes[key]):
            raise ValueError(
                f"quantization{where}['shape'] is {shape!r}, but tensor {key!r} has shape {list(shapes[key])}"
            )
        scales = _check_scales(_get(entry, "scales", where), levels, where + "['scales']")
        codes[key] = MultiLevelCode(planes=_decode_planes(entry, levels, shapes[key], where),
                                    scales=scales.astype(np.float64), n_bits=int(shapes[key][1]),
                                    shape=tuple(int(v) for v in shapes[key]), axis=None)
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
    return codes, act, _check_input_scale(_get(q, "input_scale", ""), "input_scale"), fmt

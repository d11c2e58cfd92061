"""Torch-free MuBiNN2 LSTM with the codes and scales learned in training.

:class:`eegbin.train.LSTMNet` with ``quantize="mubinn2"`` trains the scales of
Algorithm 1 (MuBiNN Section IV-C: "the scaling factors are learned during the
training phase"), one set per tensor, for four signals: the input sequence
``x_t`` and the hidden state ``h_{t-1}`` (``A`` levels, binarized at run time
with the learned scales), and the weights ``W_x``, ``W_h`` (``W`` levels,
binarized once). The biases, gate nonlinearities, cell state and dense head stay
in float. :func:`eegbin.train.export` writes the weights' ±1 codes and all the
learned scales into the safetensors header (``"quantization"``, format 2);
:class:`LearnedMultiLevelLSTM` runs that network without torch:

- weight codes: the exported packed planes as they are (no re-binarization);
- activation codes: Algorithm 1 with the learned scales, the residual
  ``r <- r - alpha_i Sign(r)`` computed in float32 as in training, so the ±1
  codes of an input are bit-identical to the torch model's;
- products: eq. (9), ``sum_ij alpha_i beta_j (n - 2 popcount(a_i XOR w_j))``,
  by :func:`eegbin.quantize.mlb_matmul` (XNOR-popcount on packed words), then
  bias, exact sigmoid/tanh and the element-wise products in float64.

Exports of format 1 (scales only) are still loaded: the weight codes are then
recomputed from the latent weights in the file (exact for ``W_h``; ``W_x`` was
stored with the input scale folded in, so it is unfolded first, which can move a
weight across a level threshold by one float32 rounding), with a warning.

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
from scipy.special import expit

from ..footprint import Footprint
from ..kernels.bits import n_words_for
from ..quantize.mlb import MultiLevelCode, _pack_rows, _signs_given_scales, mlb_matmul
from .io import _safetensors_metadata, load_weights
from .lstm import LSTM

__all__ = ["LearnedMultiLevelLSTM", "read_export_metadata"]

_WEIGHTS = ("lstm.weight_ih_l0", "lstm.weight_hh_l0")
_LEGACY = {"lstm.weight_ih_l0": "q_w_ih", "lstm.weight_hh_l0": "q_w_hh", "input": "q_input", "hidden": "q_hidden"}


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
        Not a safetensors file, or no (valid) eegbin metadata in its header.
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
    return out


# ---------------------------------------------------------------------------
# reading and checking the "quantization" metadata
# ---------------------------------------------------------------------------


def _get(mapping, key, where):
    if not isinstance(mapping, dict):
        raise ValueError(f"quantization{where} must be a JSON object, got {type(mapping).__name__}")
    if key not in mapping:
        raise ValueError(f"quantization{where} has no {key!r} entry (found {sorted(mapping)})")
    return mapping[key]


def _check_levels(value, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"quantization{where} must be an integer >= 1, got {value!r}")
    return int(value)


def _entry_levels(group, key, where):
    """``group[key]`` (a per-tensor quantization entry) and its checked level count."""
    entry = _get(group, key, where)
    where = f"{where}[{key!r}]"
    levels = _check_levels(_get(entry, "levels", where), where + "['levels']")
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
    if len(value) != levels:
        raise ValueError(f"quantization{where} has {len(value)} scales, expected one per level ({levels})")
    s = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(s)):
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


def _encode(x32, scales32):
    """Algorithm 1 on float32 rows with given scales: the packed code (as training computes it)."""
    planes = _signs_given_scales(x32, scales32, None)  # float32 residuals: r - alpha * Sign(r)
    L, n, d = planes.shape
    packed = _pack_rows((planes > 0).reshape(L * n, d)).reshape(L, n, n_words_for(d))
    return MultiLevelCode(planes=packed, scales=scales32.astype(np.float64), n_bits=int(d),
                          shape=(int(n), int(d)), axis=None)


def _parse_quantization(q, params, latent):
    """(codes per weight tensor, activation scales, input scale, format) from the metadata."""
    if not isinstance(q, dict):
        raise TypeError(f"quantization must be a dict (the export's metadata['quantization']), got {type(q).__name__}")
    w_ih, w_hh, _ = params.layers[0]
    shapes = {"lstm.weight_ih_l0": w_ih.shape, "lstm.weight_hh_l0": w_hh.shape}
    fmt = q.get("format", 1)
    codes, act = {}, {}
    if fmt == 1:  # scale lists only: recompute the weight codes from the latent weights
        for key in ("q_input", "q_hidden", "q_w_ih", "q_w_hh", "input_scale_folded"):
            _get(q, key, "")
        fold = _check_input_scale(q["input_scale_folded"], "input_scale_folded")
        warnings.warn(
            "this export (quantization format 1) has no weight codes: they are recomputed "
            "from the latent weights with the learned scales; the input weights were stored "
            "divided by the input scale, so a few of their codes may differ from training. "
            "Re-export the model with the current eegbin.train.export for exact codes.",
            UserWarning, stacklevel=3,
        )
        for key in _WEIGHTS:
            s = q[_LEGACY[key]]
            scales = _check_scales(s, len(s) if isinstance(s, list) else 0, f"[{_LEGACY[key]!r}]")
            w = np.asarray(latent[key], dtype=np.float32)
            if key == "lstm.weight_ih_l0":
                w = w * np.float32(fold)
            codes[key] = _encode(w, scales)
        for sig in ("input", "hidden"):
            s = q[_LEGACY[sig]]
            act[sig] = _check_scales(s, len(s) if isinstance(s, list) else 0, f"[{_LEGACY[sig]!r}]")
        return codes, act, fold, fmt
    if fmt != 2:
        raise ValueError(f"quantization['format'] is {fmt!r}; this eegbin reads formats 1 and 2")
    method = _get(q, "method", "")
    if method != "mubinn2":
        raise ValueError(f"quantization['method'] must be 'mubinn2', got {method!r}")
    weights = _get(q, "weights", "")
    for key in _WEIGHTS:
        where = f"['weights'][{key!r}]"
        entry, levels = _entry_levels(weights, key, "['weights']")
        shape = _get(entry, "shape", where)
        if not isinstance(shape, list) or shape != list(shapes[key]):
            raise ValueError(
                f"quantization{where}['shape'] is {shape!r}, but tensor {key!r} has shape {list(shapes[key])}"
            )
        scales = _check_scales(_get(entry, "scales", where), levels, where + "['scales']")
        planes = _decode_planes(entry, levels, shapes[key], where)
        codes[key] = MultiLevelCode(planes=planes, scales=scales.astype(np.float64), n_bits=int(shapes[key][1]),
                                    shape=tuple(int(v) for v in shapes[key]), axis=None)
    activations = _get(q, "activations", "")
    for sig in ("input", "hidden"):
        where = f"['activations'][{sig!r}]"
        entry, levels = _entry_levels(activations, sig, "['activations']")
        act[sig] = _check_scales(_get(entry, "scales", where), levels, where + "['scales']")
    # the format-1 scale lists are kept in the file: both copies must agree
    for name, scales in [(k, codes[k].scales) for k in _WEIGHTS] + list(act.items()):
        old = q.get(_LEGACY[name])
        if old is None:
            continue
        try:
            same = np.array_equal(np.asarray(old, dtype=np.float64), np.asarray(scales, dtype=np.float64))
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ValueError(
                f"quantization[{_LEGACY[name]!r}] = {old!r} disagrees with the scales of {name!r} "
                f"({[float(v) for v in scales]}): the metadata was altered"
            )
    return codes, act, _check_input_scale(_get(q, "input_scale", ""), "input_scale"), fmt


# ---------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------


class LearnedMultiLevelLSTM(LSTM):
    """MuBiNN2 LSTM exactly as trained by :mod:`eegbin.train`: learned codes and scales.

    Runs the forward of :class:`eegbin.train.LSTMNet` (``quantize="mubinn2"``) in
    eval mode without torch: the exported ±1 codes of ``W_x`` and ``W_h`` with
    their learned per-tensor scales, the input and hidden state binarized by
    Algorithm 1 with their learned scales (float32 residuals, as in training),
    products by XNOR-popcount (eq. 9), float bias, sigmoid, tanh and head.
    Nothing is re-binarized or calibrated (compare
    :class:`MultiLevelBinarizedLSTM`, which binarizes a float LSTM after
    training). Use :meth:`from_export`, or
    :meth:`eegbin.nn.LSTMClassifier.from_export` to classify epochs.

    Parameters
    ----------
    weights : dict of str to ndarray, or str / PathLike
        The exported tensors (``lstm.*``, ``head.*``): the biases and head are
        used; the latent weights only for exports of format 1.
    quantization : dict
        ``metadata["quantization"]`` of the export (see
        :func:`eegbin.train.deployed_weights`).
    batch_first : bool, default=True

    Attributes
    ----------
    codes : dict of str to MultiLevelCode
        ``"w_ih"`` (4H, D) and ``"w_hh"`` (4H, H): packed planes and learned scales.
    activation_scales : dict of str to ndarray of float32
        ``"x"`` and ``"h"``: the learned scales (A,).
    input_scale : float
        Raw epochs are divided by it (in float32) before pooling, as in training.
    activation_levels, weight_levels : int

    Notes
    -----
    Inputs are the sequences the torch model quantizes (pooled epochs divided
    by ``input_scale``), cast to float32 as in training. The input codes then
    equal torch's bit for bit; the products are exact sums of scaled popcounts
    in float64, whereas torch sums float32 products in an order that depends on
    the batch, so hidden states agree to float32 rounding. A hidden value
    within that rounding of a level threshold can, rarely, get the other sign
    in torch (then torch's own logits for that trial change with the batch it
    is in); the result here does not depend on the batch.

    Examples
    --------
    >>> import base64
    >>> import numpy as np
    >>> from eegbin.nn import LearnedMultiLevelLSTM
    >>> from eegbin.kernels import pack_bits
    >>> rng = np.random.default_rng(0)
    >>> w = {"lstm.weight_ih_l0": rng.normal(size=(8, 3)), "lstm.weight_hh_l0": rng.normal(size=(8, 2)),
    ...      "lstm.bias_ih_l0": np.zeros(8), "lstm.bias_hh_l0": np.zeros(8),
    ...      "head.weight": rng.normal(size=(2, 2)), "head.bias": np.zeros(2)}
    >>> def entry(m):  # one level: the codes are the signs, what eegbin.train.export writes
    ...     packed = pack_bits(np.where(m >= 0, 1, -1)).astype("<u8").tobytes()
    ...     return {"levels": 1, "granularity": "tensor", "scales": [0.5], "shape": list(m.shape),
    ...             "packed": base64.b64encode(packed).decode()}
    >>> q = {"format": 2, "method": "mubinn2", "input_scale": 1.0,
    ...      "weights": {k: entry(w[k]) for k in ("lstm.weight_ih_l0", "lstm.weight_hh_l0")},
    ...      "activations": {s: {"levels": 1, "granularity": "tensor", "scales": [1.0]}
    ...                      for s in ("input", "hidden")}}
    >>> net = LearnedMultiLevelLSTM(w, q)
    >>> net.logits(rng.normal(size=(4, 6, 3))).shape
    (4, 2)

    References
    ----------
    MuBiNN, Algorithm 1, eq. (9), Section IV-C.
    """

    def __init__(self, weights, quantization, batch_first=True):
        if isinstance(weights, (str, os.PathLike)):
            weights = load_weights(weights)
        super().__init__(weights, layout="torch", batch_first=batch_first)
        if self.n_layers != 1:
            raise ValueError(f"weights: the trained MuBiNN2 LSTM has one layer, got {self.n_layers}")
        latent = {k: weights[k] for k in _WEIGHTS if k in weights}
        if set(latent) != set(_WEIGHTS):
            raise ValueError(
                f"weights must be the tensors of an eegbin.train export, named {list(_WEIGHTS)}; "
                f"got {sorted(weights)}"
            )
        codes, act, self.input_scale, self.format = _parse_quantization(quantization, self.params, latent)
        self.codes = {"w_ih": codes["lstm.weight_ih_l0"], "w_hh": codes["lstm.weight_hh_l0"]}
        self.activation_scales = {"x": act["input"], "h": act["hidden"]}
        if len(act["input"]) != len(act["hidden"]):
            raise ValueError(
                f"quantization: the input and hidden state must have the same number of levels, "
                f"got {len(act['input'])} and {len(act['hidden'])}"
            )
        if self.codes["w_ih"].n_levels != self.codes["w_hh"].n_levels:
            raise ValueError(
                f"quantization: both weight tensors must have the same number of levels, got "
                f"{self.codes['w_ih'].n_levels} and {self.codes['w_hh'].n_levels}"
            )
        self.activation_levels = len(act["input"])
        self.weight_levels = self.codes["w_ih"].n_levels

    @classmethod
    def from_export(cls, path, batch_first=True):
        """Load the network from a ``.safetensors`` file written by :func:`eegbin.train.export`.

        Parameters
        ----------
        path : str or PathLike
        batch_first : bool, default=True

        Returns
        -------
        LearnedMultiLevelLSTM

        Raises
        ------
        ValueError
            The file holds no MuBiNN2 LSTM, or its quantization metadata is
            missing, incomplete or inconsistent (the message names the entry).
        """
        meta = read_export_metadata(path)
        if meta.get("model") != "LSTMNet" or "quantization" not in meta:
            raise ValueError(
                f"{os.fspath(path)!r} holds a {meta.get('model')!r} export without MuBiNN2 "
                "quantization; load float LSTMs with eegbin.nn.LSTM or LSTMClassifier.from_export"
            )
        return cls(path, meta["quantization"], batch_first=batch_first)

    def _layer(self, k, x, h0, c0):
        _, _, b = self.params.layers[k]
        B, T, D = x.shape
        H = self.hidden_size
        sx, sh = self.activation_scales["x"], self.activation_scales["h"]
        x32 = np.ascontiguousarray(x, dtype=np.float32).reshape(B * T, D)
        gx = mlb_matmul(_encode(x32, sx), self.codes["w_ih"]).reshape(B, T, 4 * H) + b
        h = np.zeros((B, H)) if h0 is None else np.array(h0, dtype=np.float64)
        c = np.zeros((B, H)) if c0 is None else np.array(c0, dtype=np.float64)
        out = np.empty((B, T, H))
        for t in range(T):
            # h_{t-1} binarized as training does (float32); h_0 = 0 is binarized too
            z = gx[:, t] + mlb_matmul(_encode(h.astype(np.float32), sh), self.codes["w_hh"])
            i, f = expit(z[:, :H]), expit(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), expit(z[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            out[:, t] = h
        return out, h, c

    def footprint(self, float_bits=32, n_times=1):
        """Stored bits (planes at 1 bit, scales and biases at ``float_bits``) and ops for ``n_times`` steps.

        Per step (A activation, W weight levels, D inputs, H units): the two
        binarized products cost ``A W 4H (D + H)`` XNOR+POPCOUNT bit operations
        and ``2 A W 4H`` scaled accumulations; encoding x and h costs ``2 A (D + H)``;
        then 4H bias additions, 3H element-wise products and 5H activations.
        """
        A, W = self.activation_levels, self.weight_levels
        w_ih, w_hh, b = self.params.layers[0]
        H4, D = w_ih.shape
        H = H4 // 4
        sub = (
            Footprint("W_x planes", n_params=W * H4 * D, bits_per_param=1),
            Footprint("W_h planes", n_params=W * H4 * H, bits_per_param=1),
            Footprint("weight scales", n_params=2 * W, bits_per_param=float_bits),
            Footprint("activation scales", n_params=2 * A, bits_per_param=float_bits),
            Footprint("bias (float)", n_params=b.size, bits_per_param=float_bits),
        )
        bit_ops = A * W * H4 * (D + H)
        macs = 2 * A * W * H4 + 2 * A * (D + H) + H4 + 3 * H + 5 * H
        parts = [Footprint(f"mubinn2 layer 0, learned scales (A={A}, W={W})", macs=n_times * macs,
                           bit_ops=n_times * bit_ops, parts=sub)]
        if self.params.head is not None:
            hW, hb = self.params.head
            parts.append(Footprint("dense head", n_params=hW.size + hb.size, bits_per_param=float_bits, macs=hW.size))
        return Footprint("LearnedMultiLevelLSTM (mubinn2)", parts=tuple(parts), note=f"{n_times} time steps")

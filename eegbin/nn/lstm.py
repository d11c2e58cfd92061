"""Torch-free LSTM inference for PyTorch ``nn.LSTM`` and Keras ``LSTM`` weights.

The cell (MuBiNN eq. 1-6, the torch/Keras definition)::

    i = sigmoid(W_ii x + W_hi h + b_i)      f = sigmoid(W_if x + W_hf h + b_f)
    g = tanh(W_ig x + W_hg h + b_g)         o = sigmoid(W_io x + W_ho h + b_o)
    c' = f * c + i * g                      h' = o * tanh(c')

Internally every layer is stored in PyTorch's layout: ``w_ih`` (4H, D),
``w_hh`` (4H, H), one summed bias (4H,), gates stacked in the order i, f, g, o.

Weight layouts (``layout=``):

``"torch"``
    ``{prefix}weight_ih_l{k}`` (4H, D_k), ``{prefix}weight_hh_l{k}`` (4H, H),
    ``{prefix}bias_ih_l{k}`` and ``{prefix}bias_hh_l{k}`` (4H,), gate order
    i, f, g, o; an optional dense head ``{head}weight`` (C, H), ``{head}bias`` (C,)
    (an ``nn.Linear`` on the last hidden state). Bidirectional and projected
    LSTMs (``*_reverse``, ``weight_hr_l*``) are rejected.
``"keras"``
    per layer ``{layer}kernel`` (D_k, 4H), ``{layer}recurrent_kernel`` (H, 4H),
    ``{layer}bias`` (4H,), gate order i, f, c, o (``c`` is torch's ``g``), layers
    stacked in the natural order of their names (``lstm``, ``lstm_1``, ``lstm_2``,
    ..., Keras' default names; pass ``key_map`` for other names);
    optional head ``{dense}kernel`` (H, C), ``{dense}bias`` (C,). A ``:0`` suffix
    (Keras 2 HDF5 names) is accepted. The layers must use Keras' default
    activations (``tanh``, ``recurrent_activation="sigmoid"``).
``"auto"``
    ``"torch"`` if a key ends with ``weight_ih_l0``, else ``"keras"``.

``key_map`` gives the names explicitly: a dict from canonical names to the
names in ``weights``. Canonical names are ``weight_ih_l{k}``, ``weight_hh_l{k}``,
``bias_ih_l{k}``, ``bias_hh_l{k}``, ``head.weight``, ``head.bias`` (torch) and
``kernel_l{k}``, ``recurrent_kernel_l{k}``, ``bias_l{k}``, ``head.kernel``,
``head.bias`` (Keras). ``gate_order`` (a permutation of ``"ifgo"``, ``c`` accepted
for ``g``) gives the order of the four gate blocks in the stored matrices, for
frameworks that stack them differently (e.g. ONNX uses ``"iofc"``).

References
----------
.. [1] MuBiNN, Section III, eq. (1)-(6).
.. [2] PyTorch ``torch.nn.LSTM`` documentation (weight layout, gate order).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..footprint import Footprint
from ..kernels.checks import all_finite, check_int, check_real_dtype
from ..quantize import MultiLevelCode
from .lstm_cell import FLOAT_CELL, lstm_layer

__all__ = ["LSTM", "lstm_layer_forward", "resolve_lstm_weights", "LSTMWeights", "LSTMLayerWeights"]

_TORCH = re.compile(r"^(.*)weight_ih_l(\d+)$")


class LSTMLayerWeights(NamedTuple):
    """The tensors of one LSTM layer, gates stacked i, f, g, o (torch layout).

    Each is a float64 array or, in a binarized network, a
    :class:`~eegbin.quantize.MultiLevelCode` (packed sign planes and scales).
    """

    w_ih: np.ndarray | MultiLevelCode
    """(4H, D) input weights ``W_x``."""
    w_hh: np.ndarray | MultiLevelCode
    """(4H, H) recurrent weights ``W_h``."""
    bias: np.ndarray | MultiLevelCode
    """(4H,) bias (the sum of torch's two biases)."""


@dataclass(frozen=True)
class LSTMWeights:
    """The weights of a stacked LSTM with an optional dense head.

    One representation for every network of the family: :attr:`LSTM.params` holds
    the float64 weights read from a file; the binarized networks' ``binarized_weights``
    hold the same structure with :class:`~eegbin.quantize.MultiLevelCode` where a
    tensor is binarized.

    Attributes
    ----------
    layers : tuple of LSTMLayerWeights
        Per layer ``(w_ih, w_hh, bias)``: (4H, D_k), (4H, H), (4H,), gates i, f, g, o.
    head : tuple (weight, bias) or None
        Dense head, weight (C, H) and bias (C,), float64.
    """

    layers: tuple
    head: tuple | None

    @property
    def hidden_size(self) -> int:
        return int(self.layers[0][1].shape[1])

    @property
    def input_size(self) -> int:
        return int(self.layers[0][0].shape[1])

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_outputs(self):
        return None if self.head is None else int(self.head[0].shape[0])


def _load(weights):
    if isinstance(weights, (str, os.PathLike)):
        from .io import load_weights

        return load_weights(weights)
    if not isinstance(weights, dict):
        raise TypeError(
            f"weights must be a dict of numpy arrays or a path to a weight file, got {type(weights).__name__}"
        )
    for k, v in weights.items():
        if not isinstance(v, np.ndarray):
            raise TypeError(
                f"weights[{k!r}] must be a numpy.ndarray, got {type(v).__name__} "
                "(convert torch tensors with .detach().numpy())"
            )
    return weights


def _gate_perm(gate_order):
    if not isinstance(gate_order, str):
        raise TypeError(f"gate_order must be a string such as 'ifgo', got {type(gate_order).__name__}")
    order = gate_order.lower().replace("c", "g")
    if sorted(order) != sorted("ifgo"):
        raise ValueError(f"gate_order must be a permutation of 'ifgo' ('c' for 'g'), got {gate_order!r}")
    return [order.index(g) for g in "ifgo"]  # stored block index of each canonical gate


def _reorder(m, perm, H, axis=0):
    blocks = np.split(m, 4, axis=axis)
    return np.concatenate([blocks[p] for p in perm], axis=axis)


def _strip0(k):
    return k[:-2] if k.endswith(":0") else k


def _natural_key(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _auto_key_map(weights, layout):
    keys = list(weights)
    if layout == "torch":
        prefixes = {m.group(1) for k in keys if (m := _TORCH.match(k))}
        if len(prefixes) != 1:
            raise ValueError(
                f"weights: expected the tensors of one torch nn.LSTM (keys ending in 'weight_ih_l0'), "
                f"found prefixes {sorted(prefixes)}; pass key_map"
            )
        prefix = prefixes.pop()
        bad = [k for k in keys if k.startswith(prefix) and ("_reverse" in k or "weight_hr_l" in k)]
        if bad:
            raise ValueError(f"weights: bidirectional or projected LSTMs are not supported, found {bad}")
        kmap, k = {}, 0
        while f"{prefix}weight_ih_l{k}" in weights:
            has_bias = any(f"{prefix}{b}_l{k}" in weights for b in ("bias_ih", "bias_hh"))
            for base in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                if base.startswith("weight") or has_bias:  # torch stores both biases or none
                    kmap[f"{base}_l{k}"] = f"{prefix}{base}_l{k}"
            k += 1
        rest = [k for k in keys if k not in kmap.values()]
        heads = {k[: -len("weight")] for k in rest if k.endswith("weight")}
        if len(heads) == 1:
            h = heads.pop()
            kmap["head.weight"] = h + "weight"
            if h + "bias" in weights:
                kmap["head.bias"] = h + "bias"
        elif len(heads) > 1:
            raise ValueError(f"weights: several candidate dense heads {sorted(heads)}; pass key_map")
    else:
        bases = [k[: -len("recurrent_kernel")] for k in map(_strip0, keys) if k.endswith("recurrent_kernel")]
        bases.sort(key=_natural_key)  # lstm, lstm_1, lstm_2, ... (HDF5 lists names alphabetically)
        if not bases:
            raise ValueError(
                f"weights: found neither torch ('weight_ih_l0') nor Keras ('recurrent_kernel') LSTM "
                f"tensors among {keys[:8]}{'...' if len(keys) > 8 else ''}"
            )
        stripped = {_strip0(k): k for k in keys}
        kmap = {}
        for k, base in enumerate(bases):
            for part in ("kernel", "recurrent_kernel", "bias"):
                if base + part in stripped:
                    kmap[f"{part}_l{k}"] = stripped[base + part]
                elif part != "bias":
                    raise ValueError(f"weights: missing tensor {base + part!r} of Keras LSTM layer {k}")
        rest = [k for k in keys if k not in kmap.values()]
        heads = {_strip0(k)[: -len("kernel")] for k in rest if _strip0(k).endswith("kernel")}
        if len(heads) == 1:
            h = heads.pop()
            kmap["head.kernel"] = stripped[h + "kernel"]
            if h + "bias" in stripped:
                kmap["head.bias"] = stripped[h + "bias"]
        elif len(heads) > 1:
            raise ValueError(f"weights: several candidate dense heads {sorted(heads)}; pass key_map")
    extra = [k for k in keys if k not in kmap.values()]
    if extra:
        raise ValueError(f"weights: unexpected tensors {extra} for a {layout} LSTM with a dense head; pass key_map")
    return kmap


def resolve_lstm_weights(weights, layout="auto", key_map=None, gate_order=None):
    """Validate LSTM (+ dense head) weights and convert them to the canonical layout.

    Parameters
    ----------
    weights : dict of str to ndarray, or str / PathLike
        Tensors, or a weight file read by :func:`eegbin.nn.load_weights`.
    layout : {"auto", "torch", "keras"}, default="auto"
    key_map : dict or None
        Canonical name -> name in ``weights`` (see the module docstring). Tensors
        not named in the map are ignored.
    gate_order : str or None
        Stored order of the gate blocks; default ``"ifgo"`` (torch) / ``"ifco"`` (Keras).

    Returns
    -------
    LSTMWeights

    Raises
    ------
    ValueError
        Missing/unexpected tensors, wrong shapes (naming the tensor and the
        expected vs. found shape), non-float dtypes, NaN/Inf.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import resolve_lstm_weights
    >>> w = {"weight_ih_l0": np.zeros((8, 3)), "weight_hh_l0": np.zeros((8, 2)),
    ...      "bias_ih_l0": np.zeros(8), "bias_hh_l0": np.ones(8)}
    >>> p = resolve_lstm_weights(w)
    >>> p.hidden_size, p.input_size, p.n_layers, p.layers[0][2][:2]
    (2, 3, 1, array([1., 1.]))
    """
    from .io import check_weights

    weights = _load(weights)
    if layout not in ("auto", "torch", "keras"):
        raise ValueError(f"layout must be 'auto', 'torch' or 'keras', got {layout!r}")
    if layout == "auto":
        if key_map is not None:
            layout = "torch" if any(k.startswith("weight_ih") for k in key_map) else "keras"
        else:
            layout = "torch" if any(_TORCH.match(k) for k in weights) else "keras"
    if key_map is None:
        key_map = _auto_key_map(weights, layout)
    elif not isinstance(key_map, dict):
        raise TypeError(f"key_map must be a dict or None, got {type(key_map).__name__}")
    perm = _gate_perm(gate_order if gate_order is not None else ("ifgo" if layout == "torch" else "ifco"))
    first = "weight_hh_l0" if layout == "torch" else "recurrent_kernel_l0"
    if first not in key_map:
        raise ValueError(f"key_map must name the canonical tensor {first!r}, got keys {sorted(key_map)}")
    if key_map[first] not in weights:
        raise ValueError(f"weights: missing tensor {key_map[first]!r}")
    rec = np.asarray(weights[key_map[first]])
    if rec.ndim != 2:
        raise ValueError(f"weights: tensor {key_map[first]!r} has shape {rec.shape}, expected 2-D")
    H = rec.shape[1] if layout == "torch" else rec.shape[0]
    n_layers = 0
    while (f"weight_ih_l{n_layers}" if layout == "torch" else f"kernel_l{n_layers}") in key_map:
        n_layers += 1
    if n_layers == 0:
        raise ValueError("key_map names no input weights ('weight_ih_l0' / 'kernel_l0')")
    ih0_key = key_map["weight_ih_l0" if layout == "torch" else "kernel_l0"]
    ih0 = np.asarray(weights.get(ih0_key, np.zeros((0, 0))))
    if ih0.ndim != 2:
        raise ValueError(f"weights: tensor {ih0_key!r} has shape {ih0.shape}, expected 2-D")
    D = ih0.shape[1] if layout == "torch" else ih0.shape[0]
    spec = {}
    for k in range(n_layers):
        Dk = D if k == 0 else H
        if layout == "torch":
            spec[key_map[f"weight_ih_l{k}"]] = (4 * H, Dk)
            spec[key_map[f"weight_hh_l{k}"]] = (4 * H, H)
            for b in ("bias_ih", "bias_hh"):
                if f"{b}_l{k}" in key_map:
                    spec[key_map[f"{b}_l{k}"]] = (4 * H,)
        else:
            spec[key_map[f"kernel_l{k}"]] = (Dk, 4 * H)
            spec[key_map[f"recurrent_kernel_l{k}"]] = (H, 4 * H)
            if f"bias_l{k}" in key_map:
                spec[key_map[f"bias_l{k}"]] = (4 * H,)
    hw = "head.weight" if layout == "torch" else "head.kernel"
    if hw in key_map:
        spec[key_map[hw]] = (None, H) if layout == "torch" else (H, None)
        if "head.bias" in key_map:
            spec[key_map["head.bias"]] = (None,)
    sub = {k: weights[k] for k in spec if k in weights}
    w = check_weights(sub, spec)
    layers = []
    for k in range(n_layers):
        if layout == "torch":
            w_ih, w_hh = w[key_map[f"weight_ih_l{k}"]], w[key_map[f"weight_hh_l{k}"]]
            b = sum(
                (w[key_map[f"{b}_l{k}"]] for b in ("bias_ih", "bias_hh") if f"{b}_l{k}" in key_map),
                np.zeros(4 * H),
            )
        else:
            w_ih, w_hh = w[key_map[f"kernel_l{k}"]].T, w[key_map[f"recurrent_kernel_l{k}"]].T
            b = w[key_map[f"bias_l{k}"]] if f"bias_l{k}" in key_map else np.zeros(4 * H)
        layers.append(LSTMLayerWeights(*(np.ascontiguousarray(_reorder(m, perm, H)) for m in (w_ih, w_hh, b))))
    head = None
    if hw in key_map:
        hW = w[key_map[hw]] if layout == "torch" else w[key_map[hw]].T
        C = hW.shape[0]
        hb = w[key_map["head.bias"]] if "head.bias" in key_map else np.zeros(C)
        if hb.shape != (C,):
            raise ValueError(
                f"weights: tensor {key_map['head.bias']!r} has shape {hb.shape}, expected ({C},)"
            )
        head = (np.ascontiguousarray(hW), hb)
    return LSTMWeights(layers=tuple(layers), head=head)


def _check_sequences(x, input_size, batch_first, name="x"):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    check_real_dtype(x, name)
    if x.ndim != 3:
        order = "(batch, time, features)" if batch_first else "(time, batch, features)"
        raise ValueError(f"{name} must be 3-D {order}, got shape {x.shape}")
    if x.shape[2] != input_size:
        raise ValueError(f"{name} has {x.shape[2]} features per time step, the LSTM expects {input_size}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {x.shape}")
    if not all_finite(x):
        raise ValueError(f"{name} contains NaN or Inf")
    x = x.astype(np.float64)
    return x if batch_first else x.transpose(1, 0, 2)


def _check_array(value, name, shape):
    """A finite real array of the given shape (None: any size on that axis), as float64."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(value).__name__}")
    check_real_dtype(value, name)
    if value.ndim != len(shape) or any(e is not None and e != n for e, n in zip(shape, value.shape)):
        dims = ["*" if e is None else str(e) for e in shape]
        expected = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
        raise ValueError(f"{name} must have shape {expected}, got {value.shape}")
    if not all_finite(value):
        raise ValueError(f"{name} contains NaN or Inf")
    return value.astype(np.float64, copy=False)


def lstm_layer_forward(x, w_ih, w_hh, bias, h0=None, c0=None):
    """One LSTM layer over a batch of sequences (MuBiNN eq. 1-6), float64.

    Parameters
    ----------
    x : ndarray of shape (batch, time, D)
    w_ih : ndarray of shape (4H, D)
        Input weights, gate blocks i, f, g, o.
    w_hh : ndarray of shape (4H, H)
    bias : ndarray of shape (4H,)
    h0, c0 : ndarray of shape (batch, H), optional
        Initial states (zeros by default).

    Returns
    -------
    out : ndarray of shape (batch, time, H)
        Hidden state at every step.
    h_n, c_n : ndarray of shape (batch, H)

    Raises
    ------
    TypeError, ValueError
        An argument that is not a real array, has the wrong shape, or holds NaN or Inf.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import lstm_layer_forward
    >>> out, h, c = lstm_layer_forward(np.ones((1, 2, 1)), np.ones((4, 1)), np.zeros((4, 1)), np.zeros(4))
    >>> out.shape, round(float(h[0, 0]), 4)
    ((1, 2, 1), 0.5453)

    References
    ----------
    MuBiNN, eq. (1)-(6).
    """
    w_hh = _check_array(w_hh, "w_hh", (None, None))
    H4, H = w_hh.shape
    if H4 != 4 * H or H == 0:
        raise ValueError(f"w_hh must have shape (4H, H) with H >= 1, got {w_hh.shape}")
    w_ih = _check_array(w_ih, "w_ih", (4 * H, None))
    x = _check_sequences(x, w_ih.shape[1], batch_first=True)
    B = x.shape[0]
    bias = _check_array(bias, "bias", (4 * H,))
    h0 = None if h0 is None else _check_array(h0, "h0", (B, H))
    c0 = None if c0 is None else _check_array(c0, "c0", (B, H))
    return lstm_layer(x, (w_ih, w_hh, bias), h0, c0)


class LSTM:
    """Stacked LSTM with an optional dense head, numpy forward pass.

    Parameters
    ----------
    weights : dict of str to ndarray, or str / PathLike
        ``torch.nn.LSTM`` (+ ``nn.Linear``) state dict or Keras LSTM (+ Dense)
        weights, or a weight file (``.pt``, ``.safetensors``, ``.npz``, Keras
        ``.h5``) read safely by :func:`eegbin.nn.load_weights`.
    layout : {"auto", "torch", "keras"}, default="auto"
    key_map : dict, optional
        Explicit canonical -> stored tensor names (see :mod:`eegbin.nn.lstm`).
    gate_order : str, optional
        Stored gate order, default "ifgo" (torch) / "ifco" (Keras).
    batch_first : bool, default=True
        Input layout (batch, time, features) if True, else (time, batch, features),
        as ``torch.nn.LSTM(batch_first=...)``.

    Attributes
    ----------
    params : LSTMWeights
        Canonical float64 weights.
    hidden_size, input_size, n_layers, n_outputs : int

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import LSTM
    >>> rng = np.random.default_rng(0)
    >>> w = {"lstm.weight_ih_l0": rng.normal(size=(8, 3)), "lstm.weight_hh_l0": rng.normal(size=(8, 2)),
    ...      "lstm.bias_ih_l0": np.zeros(8), "lstm.bias_hh_l0": np.zeros(8),
    ...      "fc.weight": rng.normal(size=(4, 2)), "fc.bias": np.zeros(4)}
    >>> net = LSTM(w)
    >>> net(rng.normal(size=(5, 10, 3))).shape       # logits of the dense head
    (5, 4)
    >>> out, (h_n, c_n) = net.forward(rng.normal(size=(5, 10, 3)))
    >>> out.shape, h_n.shape
    ((5, 10, 2), (1, 5, 2))

    References
    ----------
    MuBiNN, eq. (1)-(6); ``torch.nn.LSTM``; Keras ``LSTM``.
    """

    def __init__(self, weights, layout="auto", key_map=None, gate_order=None, batch_first=True):
        self.params = resolve_lstm_weights(weights, layout, key_map, gate_order)
        if not isinstance(batch_first, (bool, np.bool_)):
            raise TypeError(f"batch_first must be a bool, got {type(batch_first).__name__}")
        self.batch_first = bool(batch_first)

    hidden_size = property(lambda self: self.params.hidden_size)
    input_size = property(lambda self: self.params.input_size)
    n_layers = property(lambda self: self.params.n_layers)
    n_outputs = property(lambda self: self.params.n_outputs)

    #: Precision in which :class:`eegbin.nn.LSTMClassifier` prepares the inputs: that of
    #: training (float32 for :class:`eegbin.nn.LearnedMultiLevelLSTM`).
    input_dtype = np.float64
    #: Inputs are divided by it before the network (a MuBiNN2 export's input scale).
    input_scale = 1.0
    #: "numba": run the recurrence by the fused kernel where it supports the cell.
    engine = "numpy"

    # -- the two hooks of a network of the family --------------------------------
    def _weights(self):
        """The weights the forward pass runs (:class:`LSTMWeights`)."""
        return self.params

    def _cell(self, k):
        """How layer ``k`` quantizes (:class:`~eegbin.nn.lstm_cell.CellQuantization`)."""
        return FLOAT_CELL

    def _layer(self, k, x, h0, c0, observe=None):
        return lstm_layer(x, self._weights().layers[k], h0, c0, self._cell(k), observe, self.engine)

    def cell_quantization(self, layer=0):
        """How layer ``layer`` quantizes its signals (what the C exporter writes).

        Parameters
        ----------
        layer : int, default=0
            Index of the layer, ``0 <= layer < n_layers``.

        Returns
        -------
        CellQuantization
            :data:`~eegbin.nn.lstm_cell.FLOAT_CELL` for the float LSTM; the
            quantizers of every binarized signal and the activation tables for
            the binarized networks.

        Examples
        --------
        >>> import numpy as np
        >>> from eegbin.nn import LSTM
        >>> rng = np.random.default_rng(0)
        >>> w = {"weight_ih_l0": rng.normal(size=(8, 3)), "weight_hh_l0": rng.normal(size=(8, 2))}
        >>> LSTM(w).cell_quantization(0).x is None   # the float cell quantizes nothing
        True

        References
        ----------
        MuBiNN, Section IV (which signals each variant binarizes).
        """
        return self._cell(check_int(layer, "layer", 0, self.n_layers - 1))

    def forward(self, x, h0=None, c0=None):
        """Run all layers, as ``torch.nn.LSTM.forward``.

        Parameters
        ----------
        x : ndarray, (batch, time, features) or (time, batch, features)
        h0, c0 : ndarray of shape (n_layers, batch, H), optional

        Returns
        -------
        output : ndarray, (batch, time, H) or (time, batch, H)
            Hidden states of the last layer.
        (h_n, c_n) : ndarrays of shape (n_layers, batch, H)
        """
        x = _check_sequences(x, self.input_size, self.batch_first)
        shape = (self.n_layers, x.shape[0], self.hidden_size)
        h0 = None if h0 is None else _check_array(h0, "h0", shape)
        c0 = None if c0 is None else _check_array(c0, "c0", shape)
        hs, cs = [], []
        for k in range(self.n_layers):
            x, h, c = self._layer(k, x, None if h0 is None else h0[k], None if c0 is None else c0[k])
            hs.append(h)
            cs.append(c)
        out = x if self.batch_first else x.transpose(1, 0, 2)
        return out, (np.stack(hs), np.stack(cs))

    def features(self, x):
        """Last hidden state of the last layer, shape (batch, H)."""
        x = _check_sequences(x, self.input_size, self.batch_first)
        for k in range(self.n_layers):
            x, h, _ = self._layer(k, x, None, None)
        return h

    def logits(self, x):
        """Dense head applied to :meth:`features`, shape (batch, n_outputs)."""
        if self.params.head is None:
            raise ValueError("these weights have no dense head; use features()")
        W, b = self.params.head
        return self.features(x) @ W.T + b

    __call__ = logits

    def footprint(self, float_bits=32, n_times=1):
        """Stored parameters and operations for a sequence of ``n_times`` steps.

        Per step and layer: 4H(D+H) MACs of the gate products, 4H bias additions,
        3H element-wise products (+ 5H activations counted as one op each).
        """
        parts = []
        for k, (w_ih, w_hh, b) in enumerate(self.params.layers):
            H4, D = w_ih.shape
            H = H4 // 4
            parts.append(
                Footprint(
                    f"LSTM layer {k}",
                    n_params=w_ih.size + w_hh.size + b.size,
                    bits_per_param=float_bits,
                    macs=n_times * (H4 * (D + H) + H4 + 3 * H + 5 * H),
                )
            )
        return self._network_footprint("LSTM", parts, float_bits, n_times)

    def _network_footprint(self, name, layer_parts, float_bits, n_times):
        """The footprint of the layers ``layer_parts`` and of the dense head (float)."""
        parts = list(layer_parts)
        if self.params.head is not None:
            W, b = self.params.head
            parts.append(Footprint("dense head", n_params=W.size + b.size, bits_per_param=float_bits, macs=W.size))
        return Footprint(name, parts=tuple(parts), note=f"{n_times} time steps")

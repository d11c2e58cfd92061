"""Torch-free MuBiNN2 LSTM with the sign planes and scales learned in training.

:class:`eegbin.train.LSTMNet` with ``quantize="mubinn2"`` trains the scales of
Algorithm 1 (MuBiNN Section IV-C: "the scaling factors are learned during the
training phase"), one set per tensor or signal, for everything MuBiNN2 binarizes
(:data:`eegbin.nn.mubinn.MUBINN2_SIGNALS`): the weights ``W_x``, ``W_h`` and the
bias (``W`` levels, binarized once), the input ``x_t``, ``h_{t-1}``, the gate
outputs ``i, f, g, o`` and the cell state ``c_{t-1}`` (``A`` levels, binarized at
run time with the learned static scales); sigmoid and tanh are piecewise-linear
tables. :func:`eegbin.train.export` writes the weights' ±1 sign planes and all the
learned scales into the safetensors header (format 3 of
:mod:`eegbin.nn.export_format`); :class:`LearnedMultiLevelLSTM` runs that network
without torch, through the one recurrence of :mod:`eegbin.nn.lstm_cell` (the
cell of :func:`eegbin.nn.mubinn.mubinn2_cell`, as the post-training MuBiNN2):

- weights: the exported packed planes as they are (no re-binarization);
- activations: Algorithm 1 with the learned scales, residuals in float64 as in
  training (whose quantized cell runs in float64);
- products: eq. (9), ``sum_ij alpha_i beta_j (n - 2 popcount(a_i XOR w_j))``, by
  :func:`eegbin.quantize.mlb_matmul` (XNOR-popcount on packed words), then the
  binarized bias, the tables and the element-wise products.

The trained model evaluates the same operations in the same order (the products
by :func:`eegbin.kernels.multilevel_matmul` on its packed codes), so every binarized signal gets the same sign
planes as in torch, bit for bit, and the logits agree to float64 rounding (the head's summation order).

Exports of formats 1 and 2 (the earlier trained MuBiNN2, which binarizes ``x_t``,
``h_{t-1}``, ``W_x`` and ``W_h`` only, residuals in float32, exact sigmoid and tanh,
float bias, gates and cell state) still load and run as they were trained.

References
----------
.. [1] MuBiNN, Algorithm 1, eq. (9), Section IV-C (MuBiNN2, learned scales), Fig. 3.
"""

from __future__ import annotations

import os

import numpy as np

from ..footprint import Footprint
from .export_format import LSTM_BIAS, LSTM_WEIGHTS, read_export_metadata, read_lstm_quantization
from .io import load_weights
from .lstm import LSTM, LSTMLayerWeights, LSTMWeights, _check_sequences
from .lstm_cell import CellQuantization, SignalQuantizer
from .mubinn import mubinn2_cell, mubinn2_layer_footprint

__all__ = ["LearnedMultiLevelLSTM", "read_lstm_export"]


def read_lstm_export(path, batch_first=True):
    """The network of an LSTM written by :func:`eegbin.train.export`, and the file's metadata.

    Parameters
    ----------
    path : str or PathLike
        The ``.safetensors`` file.
    batch_first : bool, default=True

    Returns
    -------
    network : LearnedMultiLevelLSTM or LSTM
        A MuBiNN2 LSTM with its learned sign planes and scales, or a float LSTM.
    metadata : dict

    Raises
    ------
    ValueError
        Not an LSTMNet export, or a MuBiNN2 export whose quantization metadata is
        missing, incomplete or inconsistent (the message names the entry).
    """
    meta = read_export_metadata(path)
    if meta.get("model") != "LSTMNet":
        raise ValueError(
            f"{os.fspath(path)!r} holds a {meta.get('model')!r} export; the LSTMs load "
            "LSTMNet exports (EEGNet: eegbin.nn.EEGNet / EEGNetClassifier)"
        )
    hp = meta.get("hparams")
    if not isinstance(hp, dict):
        raise ValueError(f"{os.fspath(path)!r}: the export metadata has no 'hparams' object")
    if hp.get("quantize") is None:
        return LSTM(path, batch_first=batch_first), meta
    if hp.get("quantize") != "mubinn2":
        raise ValueError(f"{os.fspath(path)!r}: unknown quantization {hp.get('quantize')!r}")
    if "quantization" not in meta:
        raise ValueError(f"{os.fspath(path)!r}: a MuBiNN2 export without 'quantization' metadata")
    return LearnedMultiLevelLSTM(path, meta["quantization"], batch_first=batch_first), meta


class LearnedMultiLevelLSTM(LSTM):
    """MuBiNN2 LSTM exactly as trained by :mod:`eegbin.train`: learned sign planes and scales.

    Runs the forward of :class:`eegbin.train.LSTMNet` (``quantize="mubinn2"``) in
    eval mode without torch: the exported ±1 sign planes of ``W_x``, ``W_h`` and
    the bias with their learned per-tensor scales; ``x_t``, ``h_{t-1}``, the gate
    outputs ``i, f, g, o`` and ``c_{t-1}`` binarized by Algorithm 1 with their
    learned static scales; products by XNOR-popcount (eq. 9); sigmoid and tanh by
    the trained piecewise-linear tables; float head. Nothing is re-binarized or
    calibrated (compare :class:`MultiLevelBinarizedLSTM`, which binarizes a
    float LSTM after training). Use :meth:`from_export`, or
    :meth:`eegbin.nn.LSTMClassifier.from_export` to classify epochs. Exports of
    formats 1 and 2 run the earlier MuBiNN2 they hold (see
    :mod:`eegbin.nn.learned`).

    Parameters
    ----------
    weights : dict of str to ndarray, or str / PathLike
        The exported tensors (``lstm.*``, ``head.*``): the head (and for formats
        1-2 the biases) are used; the latent weights only for exports of format 1.
    quantization : dict
        ``metadata["quantization"]`` of the export (:mod:`eegbin.nn.export_format`).
    batch_first : bool, default=True
    engine : {"numba", "numpy"}, default="numba"
        Format 3: the recurrence by the fused numba kernel or the numpy reference,
        which compute the same numbers bit for bit (formats 1-2 run the reference).

    Attributes
    ----------
    binarized_weights : LSTMWeights
        The weights the network runs: ``w_ih`` (4H, D), ``w_hh`` (4H, H) and (format
        3) ``bias`` (4H,) as :class:`~eegbin.quantize.MultiLevelCode` (the exported
        packed sign planes and learned scales), and the head.
    activation_scales : dict of str to ndarray
        Learned scales (A,) of each binarized signal of the cell: ``"x"``, ``"h"``
        and (format 3) ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"``.
    input_scale : float
        Raw epochs are divided by it (in float32) before pooling, as in training.
    activation_levels, weight_levels : int
    format : int
        Version of the export's quantization metadata.

    Notes
    -----
    Inputs are the sequences the torch model quantizes (pooled epochs divided
    by ``input_scale``), cast to float32 as in training, so their sign planes
    equal torch's bit for bit. In format 3 so does every other binarized
    signal: the trained model evaluates the cell in float64 with this module's
    operations, in the same order, and the products by multilevel_matmul;
    only the dense head sums in another order (logits agree to float64
    rounding). In formats 1-2 the products are exact sums of scaled popcounts
    in float64, whereas torch summed float32 products in an order that depends
    on the batch, so hidden states agree to float32 rounding and a hidden value
    within that rounding of a level threshold can, rarely, get the other sign
    in torch; the result here does not depend on the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import LearnedMultiLevelLSTM
    >>> from eegbin.nn.export_format import MUBINN2_ACTIVATIONS, lstm_quantization_metadata
    >>> rng = np.random.default_rng(0)
    >>> w = {"lstm.weight_ih_l0": rng.normal(size=(8, 3)), "lstm.weight_hh_l0": rng.normal(size=(8, 2)),
    ...      "lstm.bias_ih_l0": np.zeros(8), "lstm.bias_hh_l0": np.zeros(8),
    ...      "head.weight": rng.normal(size=(2, 2)), "head.bias": np.zeros(2)}
    >>> planes = {k: np.where(w[k] >= 0, 1, -1)[None] for k in ("lstm.weight_ih_l0", "lstm.weight_hh_l0")}
    >>> planes["lstm.bias_l0"] = np.ones((1, 8))  # one level: the planes are the signs
    >>> gates = {"input_gate", "forget_gate", "output_gate"}  # sigmoid outputs, around 0.5
    >>> q = lstm_quantization_metadata(planes, {k: [0.5] for k in planes},
    ...                                {s: [0.25] for s in MUBINN2_ACTIVATIONS},
    ...                                {s: 0.5 if s in gates else 0.0 for s in MUBINN2_ACTIVATIONS}, 1.0)
    >>> net = LearnedMultiLevelLSTM(w, q)
    >>> net.logits(rng.normal(size=(4, 6, 3))).shape
    (4, 2)
    >>> sorted(net.activation_scales), net.format
    (['c', 'f', 'g', 'h', 'i', 'o', 'x'], 3)

    References
    ----------
    MuBiNN, Algorithm 1, eq. (9), Section IV-C, Fig. 3.
    """

    input_dtype = np.float32

    def __init__(self, weights, quantization, batch_first=True, engine="numba"):
        if isinstance(weights, (str, os.PathLike)):
            weights = load_weights(weights)
        super().__init__(weights, layout="torch", batch_first=batch_first)
        if self.n_layers != 1:
            raise ValueError(f"weights: the trained MuBiNN2 LSTM has one layer, got {self.n_layers}")
        if not set(LSTM_WEIGHTS) <= set(weights):
            raise ValueError(
                f"weights must be the tensors of an eegbin.train export, named {list(LSTM_WEIGHTS)}; "
                f"got {sorted(weights)}"
            )
        if engine not in ("numba", "numpy"):
            raise ValueError(f"engine must be 'numba' or 'numpy', got {engine!r}")
        self.engine = engine
        w_ih, w_hh, bias = self.params.layers[0]
        q = read_lstm_quantization(
            quantization, {"lstm.weight_ih_l0": w_ih.shape, "lstm.weight_hh_l0": w_hh.shape},
            {k: weights[k] for k in LSTM_WEIGHTS})
        self.format, self.input_scale = q.format, q.input_scale
        codes = q.weights
        w_ih, w_hh = codes["lstm.weight_ih_l0"], codes["lstm.weight_hh_l0"]
        bias = codes.get(LSTM_BIAS[0], bias)
        self.binarized_weights = LSTMWeights(layers=(LSTMLayerWeights(w_ih, w_hh, bias),), head=self.params.head)
        self.activation_scales = q.scales
        self._quantization = q
        levels = {name: len(v) for name, v in q.scales.items()}
        if len(set(levels.values())) != 1:
            raise ValueError(f"quantization: every binarized activation must have the same number of levels, "
                             f"got {levels}")
        w_levels = {key: code.n_levels for key, code in codes.items()}
        if len(set(w_levels.values())) != 1:
            raise ValueError(f"quantization: every binarized weight tensor must have the same number of levels, "
                             f"got {w_levels}")
        self.activation_levels = levels["x"]
        self.weight_levels = w_ih.n_levels

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
        net, _ = read_lstm_export(path, batch_first)
        if not isinstance(net, cls):
            raise ValueError(f"{os.fspath(path)!r} holds a float LSTM: load it with eegbin.nn.LSTM "
                             "or LSTMClassifier.from_export")
        return net

    def cell_codes(self, x):
        """The sign planes of every binarized signal of the cell on sequences ``x``, step by step.

        What the network binarizes, as it binarizes it (Algorithm 1 with the learned
        scales, around the signal's offset): to compare with the trained model's
        (:meth:`eegbin.train.LSTMNet.cell_codes`).

        Parameters
        ----------
        x : ndarray, (batch, time, features) or (time, batch, features)
            The network's input sequences (e.g. ``LSTMClassifier._sequences`` of epochs).

        Returns
        -------
        dict of str to ndarray of int8
            Per binarized signal (``"x"``, ``"h"``; format 3 also ``"i"``, ``"f"``,
            ``"g"``, ``"o"``, ``"c"``): ±1 planes of shape (n_steps, L, batch, width);
            ``"x"`` is binarized once for all steps: (1, L, batch * time, D).
        """
        x = _check_sequences(x, self.input_size, self.batch_first)
        cell, seen = self._cell(0), {}
        self._layer(0, x, None, None, observe=lambda name, v: seen.setdefault(name, []).append(np.array(v)))
        out = {}
        for name, values in seen.items():
            q = getattr(cell, name, None) if name in self.activation_scales else None
            if q is not None:
                out[name] = np.stack([q.sign_planes(v.reshape(-1, v.shape[-1])) for v in values])
        return out

    # -- the hooks of the recurrence ------------------------------------------
    def _weights(self):
        return self.binarized_weights

    def _cell(self, k):
        q = self._quantization
        if q.format == 3:
            return mubinn2_cell(q.scales, q.tables, q.offsets, q.dtype)
        # formats 1-2: x and h_{t-1} binarized as training did (float32 residuals); h_0 = 0 is binarized too
        x, h = (SignalQuantizer(self.activation_levels, scales=q.scales[s], dtype=q.dtype) for s in ("x", "h"))
        return CellQuantization(x=x, h=h)

    def footprint(self, float_bits=32, n_times=1):
        """Stored bits (planes at 1 bit, scales and float parts at ``float_bits``) and ops for ``n_times`` steps.

        Format 3: :func:`eegbin.nn.mubinn.mubinn2_layer_footprint`. Formats 1-2, per
        step (A activation, W weight levels, D inputs, H units): the two binarized
        products cost ``A W 4H (D + H)`` XNOR+POPCOUNT bit operations and
        ``2 A W 4H`` scaled accumulations; encoding x and h costs ``2 A (D + H)``;
        then 4H bias additions, 3H element-wise products and 5H activations.
        """
        A, W = self.activation_levels, self.weight_levels
        w_ih, w_hh, b = self.params.layers[0]
        H4, D = w_ih.shape
        H = H4 // 4
        name = f"mubinn2 layer 0, learned scales (A={A}, W={W})"
        if self.format == 3:
            n_segments = len(self._quantization.tables[0][0]) - 1
            layer = mubinn2_layer_footprint(name, A, W, D, H, n_segments, float_bits, n_times)
            return self._network_footprint("LearnedMultiLevelLSTM (mubinn2)", [layer], float_bits, n_times)
        sub = (
            Footprint("W_x planes", n_params=W * H4 * D, bits_per_param=1),
            Footprint("W_h planes", n_params=W * H4 * H, bits_per_param=1),
            Footprint("weight scales", n_params=2 * W, bits_per_param=float_bits),
            Footprint("activation scales", n_params=2 * A, bits_per_param=float_bits),
            Footprint("bias (float)", n_params=b.size, bits_per_param=float_bits),
        )
        bit_ops = A * W * H4 * (D + H)
        macs = 2 * A * W * H4 + 2 * A * (D + H) + H4 + 3 * H + 5 * H
        layer = Footprint(name, macs=n_times * macs, bit_ops=n_times * bit_ops, parts=sub)
        return self._network_footprint("LearnedMultiLevelLSTM (mubinn2, format 1-2)", [layer], float_bits, n_times)

"""Torch-free MuBiNN2 LSTM with the sign planes and scales learned in training.

:class:`eegbin.train.LSTMNet` with ``quantize="mubinn2"`` trains the scales of
Algorithm 1 (MuBiNN Section IV-C: "the scaling factors are learned during the
training phase"), one set per tensor, for four signals: the input sequence
``x_t`` and the hidden state ``h_{t-1}`` (``A`` levels, binarized at run time
with the learned scales), and the weights ``W_x``, ``W_h`` (``W`` levels,
binarized once). The biases, gate nonlinearities, cell state and dense head stay
in float. :func:`eegbin.train.export` writes the weights' ±1 sign planes and all
the learned scales into the safetensors header (:mod:`eegbin.nn.export_format`);
:class:`LearnedMultiLevelLSTM` runs that network without torch, through the one
recurrence of :mod:`eegbin.nn.lstm_cell`:

- weights: the exported packed planes as they are (no re-binarization);
- activations: Algorithm 1 with the learned scales, the residual
  ``r <- r - alpha_i Sign(r)`` computed in float32 as in training, so the ±1
  planes of an input are bit-identical to the torch model's;
- products: eq. (9), ``sum_ij alpha_i beta_j (n - 2 popcount(a_i XOR w_j))``,
  by :func:`eegbin.quantize.mlb_matmul` (XNOR-popcount on packed words), then
  bias, exact sigmoid/tanh and the element-wise products in float64.

References
----------
.. [1] MuBiNN, Algorithm 1, eq. (9), Section IV-C (MuBiNN2, learned scales).
"""

from __future__ import annotations

import os

import numpy as np

from ..footprint import Footprint
from .export_format import LSTM_WEIGHTS, read_export_metadata, read_lstm_quantization
from .io import load_weights
from .lstm import LSTM, LSTMLayerWeights, LSTMWeights
from .lstm_cell import CellQuantization, SignalQuantizer

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
    eval mode without torch: the exported ±1 sign planes of ``W_x`` and ``W_h`` with
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
    binarized_weights : LSTMWeights
        The weights the network runs: ``w_ih`` (4H, D) and ``w_hh`` (4H, H) as
        :class:`~eegbin.quantize.MultiLevelCode` (the exported packed sign planes
        and learned scales), the float bias and head.
    activation_scales : dict of str to ndarray of float32
        ``"x"`` and ``"h"``: the learned scales (A,).
    input_scale : float
        Raw epochs are divided by it (in float32) before pooling, as in training.
    activation_levels, weight_levels : int

    Notes
    -----
    Inputs are the sequences the torch model quantizes (pooled epochs divided
    by ``input_scale``), cast to float32 as in training. Their sign planes then
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
    >>> def entry(m):  # one level: the planes are the signs, what eegbin.train.export writes
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

    input_dtype = np.float32

    def __init__(self, weights, quantization, batch_first=True):
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
        w_ih, w_hh, bias = self.params.layers[0]
        codes, act, self.input_scale, self.format = read_lstm_quantization(
            quantization, {"lstm.weight_ih_l0": w_ih.shape, "lstm.weight_hh_l0": w_hh.shape},
            {k: weights[k] for k in LSTM_WEIGHTS})
        w_ih, w_hh = codes["lstm.weight_ih_l0"], codes["lstm.weight_hh_l0"]
        self.binarized_weights = LSTMWeights(layers=(LSTMLayerWeights(w_ih, w_hh, bias),), head=self.params.head)
        self.activation_scales = {"x": act["input"], "h": act["hidden"]}
        if len(act["input"]) != len(act["hidden"]):
            raise ValueError(
                f"quantization: the input and hidden state must have the same number of levels, "
                f"got {len(act['input'])} and {len(act['hidden'])}"
            )
        if w_ih.n_levels != w_hh.n_levels:
            raise ValueError(
                f"quantization: both weight tensors must have the same number of levels, got "
                f"{w_ih.n_levels} and {w_hh.n_levels}"
            )
        self.activation_levels = len(act["input"])
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

    # -- the hooks of the recurrence ------------------------------------------
    def _weights(self):
        return self.binarized_weights

    def _cell(self, k):
        # x and h_{t-1} binarized as training does (float32 residuals); h_0 = 0 is binarized too
        x, h = (SignalQuantizer(self.activation_levels, scales=self.activation_scales[s], dtype=np.float32)
                for s in ("x", "h"))
        return CellQuantization(x=x, h=h)

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
        layer = Footprint(f"mubinn2 layer 0, learned scales (A={A}, W={W})", macs=n_times * macs,
                          bit_ops=n_times * bit_ops, parts=sub)
        return self._network_footprint("LearnedMultiLevelLSTM (mubinn2)", [layer], float_bits, n_times)

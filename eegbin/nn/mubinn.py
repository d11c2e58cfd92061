"""Multi-level binarized LSTM inference (MuBiNN: B_LSTM, MuBiNN1, MuBiNN2).

Post-training binarization of a float LSTM (weights from :class:`eegbin.nn.LSTM`'s
loaders), with ``A`` activation levels and ``W`` weight levels:

``"b_lstm"`` (Section IV-A)
    Naive binarization, eq. (7)-(8): the input products ``W_x x_t`` of every
    layer use ``sign(W_x)`` and ``sign(x_t)`` with **no scaling factor**
    (one level, ``A = W = 1``), computed by XNOR-popcount; the recurrent
    product, states and activations stay in float.
``"mubinn1"`` (Section IV-B, [12])
    The input products ``W_x x_t`` multi-level binarized (Algorithm 1) with
    power-of-two scales (multiplications become shifts): ``W_x`` with ``W``
    levels and one scale set per gate unit (row), ``x_t`` with ``A`` levels and
    one scale set per vector (or static, after :meth:`~MultiLevelBinarizedLSTM.calibrate`);
    the rest in float.
``"mubinn2"`` (Section IV-C, Fig. 3)
    What MuBiNN2 binarizes (:data:`MUBINN2_SIGNALS`, :func:`mubinn2_cell`), with
    **static** scales, one set per tensor or signal (Algorithm 1 takes them as
    inputs):

    - with ``W`` levels, the three kinds of weights of Section IV-C: ``W_x``,
      ``W_h`` and the bias ``b`` (Fig. 3's ``M_w`` and ``M_B``);
    - with ``A`` levels, the input ``x_t`` and ``h_{t-1}`` (the operands of the
      XNOR products of eq. 1-4), the activation outputs ``i, f, g, o`` ("the
      outputs of the activation function units are binarized", the operands of
      eq. 5) and the cell state ``c_{t-1}`` (Fig. 3's ``M_g``, the other operand
      of eq. 5).

    Both gate products of eq. (1)-(4) run by XNOR-popcount
    (:func:`eegbin.kernels.multilevel_matmul`), the binarized bias is added,
    sigmoid and tanh are piecewise-linear tables (Section IV-C: "piecewise
    linear approximation ... exploiting look-up tables"), and eq. (5) multiplies
    binarized operands (computed here on their reconstructions, the same
    number). Not binarized, as in the paper: ``tanh(c_t)`` and eq. (6),
    ``h_t = o_t tanh(c_t)``, which Fig. 3 computes with a MAC unit (only eq.
    1-5 are binarized); ``h_t`` is binarized where it is used, as ``h_{t-1}``
    at the next step. The dense head stays in float. Sigmoid outputs lie in
    (0, 1): they are binarized around their midpoint, ``0.5 + MLB(sigma - 0.5)``,
    so one level still carries the sign of the gate's deviation.

    Weight scales are computed from the weights (``weight_scaling``, per
    tensor); activation scales are fixed by :meth:`~MultiLevelBinarizedLSTM.calibrate`
    on calibration sequences (Algorithm 1's greedy rule over all the values a
    signal takes), the post-training stand-in for the scales the paper learns.
    A mubinn2 network runs only once calibrated.

All three run the one recurrence of :mod:`eegbin.nn.lstm_cell`; this module only
says what each mode quantizes (:meth:`MultiLevelBinarizedLSTM._cell`) and
binarizes the weights once (:func:`binarize_lstm_weights`). A MuBiNN2 trained with
learned scales by :mod:`eegbin.train` binarizes the same signals
(:func:`mubinn2_cell`) and is not re-binarized here:
:class:`eegbin.nn.LearnedMultiLevelLSTM` (:meth:`eegbin.nn.LSTMClassifier.from_export`)
runs it with its exported sign planes and learned scales.

References
----------
.. [1] MuBiNN, Section IV (B_LSTM eq. 7-8, MuBiNN1, MuBiNN2, Fig. 3), Algorithm 1,
   eq. (9); Section V (Fig. 4-5, Table I).
"""

from __future__ import annotations

import numpy as np

from ..footprint import Footprint
from ..kernels.checks import check_int
from ..quantize import MultiLevelCode, multilevel_binarize
from ..quantize.mlb import check_n_levels
from .lstm import LSTM, LSTMLayerWeights, LSTMWeights, _check_sequences
from .lstm_cell import CellQuantization, SignalQuantizer, _fused_operands, lstm_layer, pwl_apply, pwl_table

__all__ = ["MultiLevelBinarizedLSTM", "binarize_lstm_weights", "mubinn2_cell", "mubinn2_layer_footprint",
           "MUBINN2_SIGNALS", "pwl_table", "pwl_apply"]

_MODES = ("b_lstm", "mubinn1", "mubinn2")

#: The cell signals MuBiNN2 binarizes with ``A`` levels (Section IV-C, Fig. 3) and the
#: offset each is binarized around (sigmoid outputs around 0.5). ``tanh(c_t)`` is not
#: among them: eq. (6) runs on a MAC unit.
MUBINN2_SIGNALS = {"x": 0.0, "h": 0.0, "i": 0.5, "f": 0.5, "g": 0.0, "o": 0.5, "c": 0.0}


def mubinn2_cell(scales, tables, offsets=None, dtype=np.float64):
    """The :class:`~eegbin.nn.lstm_cell.CellQuantization` of a MuBiNN2 layer.

    Every signal of :data:`MUBINN2_SIGNALS` binarized by Algorithm 1 with its
    static scales (as many levels as scales), sigmoid and tanh by tables.

    Parameters
    ----------
    scales : dict of str to array-like
        The scales (L,) of each signal of :data:`MUBINN2_SIGNALS`.
    tables : (sigmoid, tanh)
        Piecewise-linear tables (:func:`~eegbin.nn.pwl_table`).
    offsets : dict, optional
        Offset of each signal (default :data:`MUBINN2_SIGNALS`).
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Precision of Algorithm 1's residuals.

    Returns
    -------
    CellQuantization
        Static scales per signal, sigmoid and tanh by ``tables``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import pwl_table
    >>> from eegbin.nn.mubinn import MUBINN2_SIGNALS, mubinn2_cell
    >>> cell = mubinn2_cell({s: [0.5, 0.25] for s in MUBINN2_SIGNALS},
    ...                     (pwl_table("sigmoid"), pwl_table("tanh")))
    >>> cell.f.n_levels, cell.f.offset, cell.tanh_c is None
    (2, 0.5, True)
    """
    offsets = MUBINN2_SIGNALS if offsets is None else offsets
    quantizers = {name: SignalQuantizer(len(scales[name]), scales=np.asarray(scales[name], dtype=np.float64),
                                        offset=float(offsets[name]), dtype=dtype)
                  for name in MUBINN2_SIGNALS}
    return CellQuantization(sigmoid=tables[0], tanh=tables[1], **quantizers)


def mubinn2_layer_footprint(name, A, W, D, H, n_pwl_segments, float_bits=32, n_times=1, n_weight_scales=None):
    """Footprint of one MuBiNN2 layer (:data:`MUBINN2_SIGNALS` binarized) for ``n_times`` steps.

    Stored: the ``W`` sign planes of ``W_x`` (4H x D), ``W_h`` (4H x H) and the
    bias (4H) at one bit, their scales (``n_weight_scales``, default one set per
    tensor: ``3 W``), the ``7 A`` static activation scales and the two
    piecewise-linear tables, at ``float_bits``. Per step: the two gate products
    cost ``A W 4H (D + H)`` XNOR+POPCOUNT bit operations and ``2 A W 4H`` scaled
    accumulations (eq. 9); eq. (5)'s two products of binarized operands ``2 A^2 H``
    bit operations and ``2 A^2 H`` accumulations; encoding the ``D + 6H`` binarized
    values costs ``2 A`` each (subtraction and sign per level); then the bias
    (4H), the cell sum (H), eq. (6) (H MACs) and the 5H table look-ups.
    """
    H4 = 4 * H
    n_weight_scales = 3 * W if n_weight_scales is None else n_weight_scales
    parts = (
        Footprint("W_x planes", n_params=W * H4 * D, bits_per_param=1),
        Footprint("W_h planes", n_params=W * H4 * H, bits_per_param=1),
        Footprint("bias planes", n_params=W * H4, bits_per_param=1),
        Footprint("weight scales", n_params=n_weight_scales, bits_per_param=float_bits),
        Footprint("activation scales", n_params=len(MUBINN2_SIGNALS) * A, bits_per_param=float_bits),
        Footprint("PWL tables", n_params=4 * (n_pwl_segments + 1), bits_per_param=float_bits),
    )
    bit_ops = A * W * H4 * (D + H) + 2 * A * A * H
    macs = 2 * A * W * H4 + 2 * A * A * H + 2 * A * (D + 6 * H) + H4 + H + H + 5 * H
    return Footprint(name, macs=n_times * macs, bit_ops=n_times * bit_ops, parts=parts)


def binarize_lstm_weights(params, mode, weight_levels, scaling):
    """The weights a binarized LSTM runs: ``params`` with MultiLevelCode where ``mode`` binarizes.

    Parameters
    ----------
    params : LSTMWeights
        Float weights.
    mode : {"b_lstm", "mubinn1", "mubinn2"}
        ``W_x`` in every mode (per-row scales; b_lstm: one level, scale 1;
        mubinn2: per tensor); ``W_h`` and the bias in mubinn2 (per tensor).
    weight_levels : int
    scaling : {"greedy", "power_of_two", "least_squares"}

    Returns
    -------
    LSTMWeights
    """
    layers = []
    for w_ih, w_hh, b in params.layers:
        if mode == "b_lstm":  # sign(W_x), no scale (eq. 7)
            w_ih = multilevel_binarize(w_ih, 1, axis=1, scales=np.ones((1, w_ih.shape[0])))
        elif mode == "mubinn1":
            w_ih = multilevel_binarize(w_ih, weight_levels, scaling, axis=1)
        else:  # one scale set per tensor: "a distinguished scaling factor for each of the weights, biases"
            w_ih, w_hh, b = (multilevel_binarize(m, weight_levels, scaling) for m in (w_ih, w_hh, b))
        layers.append(LSTMLayerWeights(w_ih, w_hh, b))
    weights = LSTMWeights(layers=tuple(layers), head=params.head)
    _freeze(weights)
    return weights


def _freeze(weights):
    """Make the binarized tensors' arrays read-only: the network's laid-out operands stay valid."""
    for layer in weights.layers:
        for m in layer:
            for a in (m.planes, m.scales) if isinstance(m, MultiLevelCode) else ():
                a.flags.writeable = False


class MultiLevelBinarizedLSTM(LSTM):
    """LSTM with multi-level binarized weights and activations (B_LSTM, MuBiNN1/2).

    Parameters
    ----------
    weights : dict of str to ndarray, or str / PathLike
        Float LSTM (+ dense head) weights, as for :class:`eegbin.nn.LSTM`.
    activation_levels : int, default=3
        ``A``: levels of the binarized inputs, hidden/cell states and
        activation outputs (1 for ``"b_lstm"``).
    weight_levels : int, default=3
        ``W``: levels of the binarized weights and biases (1 for ``"b_lstm"``).
    mode : {"b_lstm", "mubinn1", "mubinn2"}, default="mubinn2"
        What is binarized (see :mod:`eegbin.nn.mubinn`).
    weight_scaling : {"greedy", "power_of_two", "least_squares"}, optional
        Rule of the weight scales: default "power_of_two" (per row) for mubinn1,
        "least_squares" (per tensor) for mubinn2.
    activation_scaling : {"greedy", "power_of_two"}, optional
        Rule of the activation scales: default "power_of_two" for mubinn1,
        "greedy" for mubinn2. mubinn1 applies it per vector at run time until
        :meth:`calibrate`; mubinn2 applies it only in :meth:`calibrate`, to all the
        values a signal takes on the calibration data (static scales).
    n_pwl_segments : int, default=32
        Segments of the sigmoid/tanh tables (mubinn2).
    engine : {"numba", "numpy"}, default="numba"
        mubinn2 layers by the fused XNOR-popcount kernel
        :func:`eegbin.kernels.mubinn2_lstm_layer` (input and recurrent products,
        tables and binarizations in one call) or by the numpy reference
        ``eegbin.nn.lstm_cell.lstm_layer``; both give the same bits.
    layout, key_map, gate_order, batch_first
        As for :class:`eegbin.nn.LSTM`.

    Attributes
    ----------
    params : LSTMWeights
        The float weights read from ``weights``.
    binarized_weights : LSTMWeights
        The weights the network runs: per layer ``w_ih`` (and for mubinn2 ``w_hh``
        and ``bias``) as :class:`~eegbin.quantize.MultiLevelCode` (packed sign
        planes and scales), the others float. The codes' arrays are read-only (the
        fused kernel's layout of them is kept); assign new weights to change them.
    activation_scales_ : list of dict
        After :meth:`calibrate`: per layer, the static scales (A,) of each
        binarized signal ("x"; for mubinn2 every signal of
        :data:`~eegbin.nn.mubinn.MUBINN2_SIGNALS`).
    needs_calibration : bool
        True for a mubinn2 network not calibrated yet (it cannot run).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import LSTM, MultiLevelBinarizedLSTM
    >>> rng = np.random.default_rng(0)
    >>> w = {"weight_ih_l0": rng.normal(size=(16, 3)), "weight_hh_l0": rng.normal(size=(16, 4)),
    ...      "bias_ih_l0": np.zeros(16), "bias_hh_l0": np.zeros(16)}
    >>> x = rng.normal(size=(2, 5, 3))
    >>> net = MultiLevelBinarizedLSTM(w, activation_levels=5, weight_levels=5).calibrate(x)
    >>> bool(np.abs(net.features(x) - LSTM(w).features(x)).max() < 0.15)
    True
    >>> sorted(net.activation_scales_[0])
    ['c', 'f', 'g', 'h', 'i', 'o', 'x']
    >>> net.footprint().total_bit_ops          # 5 * 5 * 16 * (3 + 4) + 2 * 5 * 5 * 4
    3000

    References
    ----------
    MuBiNN, Section IV, Algorithm 1, eq. (7)-(9), Fig. 3.
    """

    def __init__(
        self,
        weights,
        activation_levels=3,
        weight_levels=3,
        mode="mubinn2",
        weight_scaling=None,
        activation_scaling=None,
        n_pwl_segments=32,
        engine="numba",
        layout="auto",
        key_map=None,
        gate_order=None,
        batch_first=True,
    ):
        super().__init__(weights, layout, key_map, gate_order, batch_first)
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.mode = mode
        self.activation_levels = check_n_levels(activation_levels, "activation_levels")
        self.weight_levels = check_n_levels(weight_levels, "weight_levels")
        if mode == "b_lstm" and (self.activation_levels, self.weight_levels) != (1, 1):
            raise ValueError(
                f"mode='b_lstm' is the one-level sign binarization: activation_levels and "
                f"weight_levels must be 1, got ({activation_levels}, {weight_levels})"
            )
        defaults = {"b_lstm": ("greedy", "greedy"), "mubinn1": ("power_of_two", "power_of_two"),
                    "mubinn2": ("least_squares", "greedy")}[mode]
        self.weight_scaling = defaults[0] if weight_scaling is None else weight_scaling
        self.activation_scaling = defaults[1] if activation_scaling is None else activation_scaling
        if self.weight_scaling not in ("greedy", "power_of_two", "least_squares"):
            raise ValueError(
                f"weight_scaling must be 'greedy', 'power_of_two' or 'least_squares', got {weight_scaling!r}"
            )
        if self.activation_scaling not in ("greedy", "power_of_two"):
            raise ValueError(
                f"activation_scaling must be 'greedy' or 'power_of_two', got {activation_scaling!r}"
            )
        if engine not in ("numba", "numpy"):
            raise ValueError(f"engine must be 'numba' or 'numpy', got {engine!r}")
        self.engine = engine
        self.n_pwl_segments = check_int(n_pwl_segments, "n_pwl_segments", 1)
        self._tables = (pwl_table("sigmoid", self.n_pwl_segments), pwl_table("tanh", self.n_pwl_segments))
        self.binarized_weights = binarize_lstm_weights(self.params, mode, self.weight_levels, self.weight_scaling)

    @property
    def needs_calibration(self):
        return self.mode == "mubinn2" and getattr(self, "activation_scales_", None) is None

    # -- the hooks of the recurrence ------------------------------------------
    def _weights(self):
        return self.binarized_weights

    def _layer(self, k, x, h0, c0, observe=None):
        """As :class:`~eegbin.nn.LSTM`'s, with the fused kernel's operands laid out once per layer.

        The cache holds the layer's weight objects and is used only while
        ``binarized_weights`` still holds them (their arrays are read-only).
        """
        layer = self._weights().layers[k]
        cell = self._cell(k)
        operands = None
        if self.engine == "numba" and observe is None:
            cache = self.__dict__.setdefault("_operands_cache", {})
            hit = cache.get(k)
            if hit is None or hit[0] is not layer:
                hit = cache[k] = (layer, _fused_operands(layer, cell))
            operands = hit[1]
        return lstm_layer(x, layer, h0, c0, cell, observe, self.engine, operands)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_operands_cache", None)  # rebuilt on first use
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        _freeze(self.binarized_weights)  # unpickled arrays come back writeable

    def _cell(self, k):
        if self.mode == "b_lstm":  # sign(x), no scale (eq. 7)
            return CellQuantization(x=SignalQuantizer(1, scales=np.ones(1)))
        static = getattr(self, "activation_scales_", None)
        if self.mode == "mubinn1":
            scales = None if static is None else static[k]["x"]
            return CellQuantization(x=SignalQuantizer(self.activation_levels, self.activation_scaling, scales))
        if static is None:
            raise ValueError(
                "mode='mubinn2' binarizes with static activation scales: call calibrate(x) with "
                "calibration sequences first (LSTMClassifier calibrates in fit)"
            )
        return mubinn2_cell(static[k], self._tables)

    # -- static activation scales ---------------------------------------------
    def calibrate(self, x):
        """Fix the activation scales from calibration sequences (static scales).

        Layer by layer, runs the float layer (mubinn2: with the sigmoid/tanh
        tables) on the output of the binarized layers below it, collects every
        signal the mode binarizes (mubinn1: the layer input ``x``; mubinn2: the
        signals of :data:`MUBINN2_SIGNALS`, minus their offsets) over all samples
        and steps, and gives each one set of ``A`` scales by the
        ``activation_scaling`` rule of Algorithm 1 over all its values (greedy:
        ``alpha_i = mean |r|``). Afterwards Algorithm 1 runs with these given
        scales, as the paper's scales obtained offline; nothing is computed per
        vector at inference time.

        Parameters
        ----------
        x : ndarray, (batch, time, features) or (time, batch, features)

        Returns
        -------
        self
        """
        if self.mode == "b_lstm":
            raise ValueError("mode='b_lstm' has no activation scales to calibrate")
        x = _check_sequences(x, self.input_size, self.batch_first)
        names = {"x": 0.0} if self.mode == "mubinn1" else MUBINN2_SIGNALS
        float_cell = CellQuantization() if self.mode == "mubinn1" else CellQuantization(
            sigmoid=self._tables[0], tanh=self._tables[1])
        self.activation_scales_ = None
        static = []
        for k in range(self.n_layers):
            seen = {}
            lstm_layer(x, self.params.layers[k], cell=float_cell,
                       observe=lambda name, v, seen=seen: seen.setdefault(name, []).append(v.ravel()))
            static.append({
                name: multilevel_binarize(np.concatenate(seen[name]).reshape(1, -1) - offset,
                                          self.activation_levels, self.activation_scaling).scales
                for name, offset in names.items()
            })
            self.activation_scales_ = static  # layers <= k are calibrated: run layer k binarized
            x, _, _ = self._layer(k, x, None, None)
        return self

    def footprint(self, float_bits=32, n_times=1):
        """Stored bits (planes at 1 bit, scales at ``float_bits``) and ops for ``n_times`` steps.

        Per step and layer (A activation, W weight levels, D inputs, H units):
        mubinn2 as :func:`mubinn2_layer_footprint`; mubinn1 and b_lstm: the
        binarized input product costs ``A W 4H D`` XNOR+POPCOUNT bit operations and
        ``A W 4H`` scaled accumulations, encoding x ``2 A D``, the rest of the
        cell is float.
        """
        A, W = self.activation_levels, self.weight_levels
        parts = []
        for k, (w_ih, w_hh, b) in enumerate(self.binarized_weights.layers):
            (H4, D), H = w_ih.shape, w_ih.shape[0] // 4
            name = f"{self.mode} layer {k} (A={A}, W={W})"
            if self.mode == "mubinn2":
                n_scales = w_ih.scales.size + w_hh.scales.size + b.scales.size
                parts.append(mubinn2_layer_footprint(name, A, W, D, H, self.n_pwl_segments, float_bits, n_times,
                                                     n_weight_scales=n_scales))
                continue
            scales_ih = 0 if self.mode == "b_lstm" else w_ih.scales.size
            sub = (
                Footprint("W_x planes", n_params=W * H4 * D, bits_per_param=1),
                Footprint("W_x scales", n_params=scales_ih, bits_per_param=float_bits),
                Footprint("W_h, bias (float)", n_params=w_hh.size + b.size, bits_per_param=float_bits),
            )
            bit_ops = A * W * H4 * D
            macs = (0 if self.mode == "b_lstm" else A * W * H4 + 2 * A * D) + H4 * H + H4 + 3 * H + 5 * H
            parts.append(Footprint(name, macs=n_times * macs, bit_ops=n_times * bit_ops, parts=sub))
        return self._network_footprint(f"MultiLevelBinarizedLSTM ({self.mode})", parts, float_bits, n_times)

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
    one scale set per vector; the rest in float.
``"mubinn2"`` (Section IV-C, Fig. 3)
    Everything binarized: ``W_x``, ``W_h`` (``W`` levels, least-squares scales
    per row: the post-training stand-in for the scales the paper learns),
    the bias (``W`` levels), ``x_t`` and ``h_{t-1}`` (``A`` levels, greedy scales
    per vector); both gate products by XNOR-popcount
    (:func:`eegbin.kernels.multilevel_matmul`); sigmoid and tanh by
    piecewise-linear look-up tables; the activation outputs ``i, f, g, o``, the
    cell state ``c_{t-1}`` and ``tanh(c_t)`` multi-level binarized (``A``
    levels) before the element-wise products of eq. (5)-(6), which are then
    XNOR products of bit planes (simulated here by multiplying the
    reconstructions, which is the same number). Sigmoid outputs lie in (0, 1):
    they are binarized around their midpoint, ``0.5 + MLB(sigma - 0.5)``, so one
    level still carries the sign of the gate's deviation.

All three run the one recurrence of :mod:`eegbin.nn.lstm_cell`; this module only
says what each mode quantizes (:meth:`MultiLevelBinarizedLSTM._cell`) and
binarizes the weights once (:func:`binarize_lstm_weights`).

Weight scales are computed offline from the float weights. Activation scales
are by default computed per vector at run time (mean |residual|);
:meth:`MultiLevelBinarizedLSTM.calibrate` instead fixes them from calibration
data, one set per binarized signal, as the paper's static scales (Algorithm 1
takes them as inputs). A network trained with learned scales by
:mod:`eegbin.train` is not re-binarized here: :class:`eegbin.nn.LearnedMultiLevelLSTM`
(:meth:`eegbin.nn.LSTMClassifier.from_export`) runs it with its exported sign
planes and learned scales.

References
----------
.. [1] MuBiNN, Section IV (B_LSTM eq. 7-8, MuBiNN1, MuBiNN2, Fig. 3), Algorithm 1,
   eq. (9); Section V (Fig. 4-5, Table I).
"""

from __future__ import annotations

import numpy as np

from ..footprint import Footprint
from ..quantize import multilevel_binarize
from ..quantize.mlb import check_n_levels
from .lstm import LSTM, LSTMLayerWeights, LSTMWeights, _check_sequences
from .lstm_cell import CellQuantization, SignalQuantizer, pwl_apply, pwl_table

__all__ = ["MultiLevelBinarizedLSTM", "binarize_lstm_weights", "pwl_table", "pwl_apply"]

_MODES = ("b_lstm", "mubinn1", "mubinn2")
_GATE_OFFSETS = {"i": 0.5, "f": 0.5, "g": 0.0, "o": 0.5, "c": 0.0, "tanh_c": 0.0}  # sigmoid outputs around 0.5


def binarize_lstm_weights(params, mode, weight_levels, scaling):
    """The weights a binarized LSTM runs: ``params`` with MultiLevelCode where ``mode`` binarizes.

    Parameters
    ----------
    params : LSTMWeights
        Float weights.
    mode : {"b_lstm", "mubinn1", "mubinn2"}
        ``W_x`` (per-row scales; b_lstm: one level, scale 1) in every mode; ``W_h``
        (per row) and the bias (per tensor) in mubinn2.
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
        else:
            w_ih = multilevel_binarize(w_ih, weight_levels, scaling, axis=1)
        if mode == "mubinn2":
            w_hh = multilevel_binarize(w_hh, weight_levels, scaling, axis=1)
            b = multilevel_binarize(b, weight_levels, scaling)
        layers.append(LSTMLayerWeights(w_ih, w_hh, b))
    return LSTMWeights(layers=tuple(layers), head=params.head)


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
        ``W``: levels of the binarized weights (1 for ``"b_lstm"``).
    mode : {"b_lstm", "mubinn1", "mubinn2"}, default="mubinn2"
        What is binarized (see :mod:`eegbin.nn.mubinn`).
    weight_scaling : {"greedy", "power_of_two", "least_squares"}, optional
        Default "power_of_two" for mubinn1, "least_squares" for mubinn2.
    activation_scaling : {"greedy", "power_of_two"}, optional
        Default "power_of_two" for mubinn1, "greedy" for mubinn2.
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
        planes and scales), the others float.
    activation_scales_ : list of dict
        After :meth:`calibrate`: per layer, the static scales (A,) of each
        binarized signal ("x"; for mubinn2 also "h", "i", "f", "g", "o", "c",
        "tanh_c").

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import LSTM, MultiLevelBinarizedLSTM
    >>> rng = np.random.default_rng(0)
    >>> w = {"weight_ih_l0": rng.normal(size=(16, 3)), "weight_hh_l0": rng.normal(size=(16, 4)),
    ...      "bias_ih_l0": np.zeros(16), "bias_hh_l0": np.zeros(16)}
    >>> x = rng.normal(size=(2, 5, 3))
    >>> net = MultiLevelBinarizedLSTM(w, activation_levels=5, weight_levels=5)
    >>> bool(np.abs(net.features(x) - LSTM(w).features(x)).max() < 0.1)
    True
    >>> fp = net.footprint()
    >>> fp.total_bit_ops                       # 5 * 5 * 16 * (3 + 4) + 3 * 5 * 5 * 4
    3100

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
                f"activation_scaling must be 'greedy' or 'power_of_two' (computed at run time), "
                f"got {activation_scaling!r}"
            )
        if engine not in ("numba", "numpy"):
            raise ValueError(f"engine must be 'numba' or 'numpy', got {engine!r}")
        self.engine = engine
        self.n_pwl_segments = n_pwl_segments
        self._tables = (pwl_table("sigmoid", n_pwl_segments), pwl_table("tanh", n_pwl_segments))
        self.binarized_weights = binarize_lstm_weights(self.params, mode, self.weight_levels, self.weight_scaling)

    # -- the hooks of the recurrence ------------------------------------------
    def _weights(self):
        return self.binarized_weights

    def _cell(self, k):
        static = getattr(self, "activation_scales_", None)

        def q(name, offset=0.0):
            scales = None if static is None else static[k][name]
            return SignalQuantizer(self.activation_levels, self.activation_scaling, scales, offset)

        if self.mode == "b_lstm":  # sign(x), no scale (eq. 7)
            return CellQuantization(x=SignalQuantizer(1, scales=np.ones(1)))
        if self.mode == "mubinn1":
            return CellQuantization(x=q("x"))
        sigmoid, tanh = self._tables
        return CellQuantization(x=q("x"), h=q("h"), sigmoid=sigmoid, tanh=tanh,
                                **{name: q(name, offset) for name, offset in _GATE_OFFSETS.items()})

    # -- static activation scales ---------------------------------------------
    def calibrate(self, x):
        """Fix the activation scales from calibration sequences (static scales).

        Runs the network with per-vector scales on ``x``, collects every signal
        that is binarized (per layer: the layer input ``x``, and for mubinn2
        ``h``, ``i``, ``f``, ``g``, ``o``, ``c``, ``tanh(c)``) and computes one
        set of ``A`` scales per signal over all samples and steps
        (``activation_scaling`` rule). Afterwards Algorithm 1 runs with these
        given scales, as the paper's scales obtained offline; no mean is
        computed at inference time.

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
        self.activation_scales_ = None
        static = []
        for k in range(self.n_layers):
            seen = {}
            x, _, _ = self._layer(k, x, None, None, observe=lambda name, v: seen.setdefault(name, []).append(v.ravel()))
            static.append({
                name: multilevel_binarize(np.concatenate(rows).reshape(1, -1), self.activation_levels,
                                          self.activation_scaling).scales
                for name, rows in seen.items()
            })
        self.activation_scales_ = static
        return self

    def footprint(self, float_bits=32, n_times=1):
        """Stored bits (planes at 1 bit, scales at ``float_bits``) and ops for ``n_times`` steps.

        Per step and layer (A activation, W weight levels, D inputs, H units):
        the binarized products cost ``A W 4H D`` (input) and ``A W 4H H``
        (recurrent, mubinn2) XNOR+POPCOUNT bit operations and ``A W 4H`` scaled
        accumulations each; mubinn2's three element-wise products cost
        ``A^2 H`` bit ops and ``A^2 H`` accumulations each; encoding a vector of
        n values costs ``2 A n`` (|r| sum and subtraction per level).
        """
        A, W = self.activation_levels, self.weight_levels
        parts = []
        for k, (w_ih, w_hh, b) in enumerate(self.binarized_weights.layers):
            (H4, D), H = w_ih.shape, w_ih.shape[0] // 4
            scales_ih = 0 if self.mode == "b_lstm" else w_ih.scales.size
            sub = [
                Footprint("W_x planes", n_params=W * H4 * D, bits_per_param=1),
                Footprint("W_x scales", n_params=scales_ih, bits_per_param=float_bits),
            ]
            if self.mode == "mubinn2":
                sub += [
                    Footprint("W_h planes", n_params=W * H4 * H, bits_per_param=1),
                    Footprint("W_h scales", n_params=w_hh.scales.size, bits_per_param=float_bits),
                    Footprint("bias planes", n_params=W * H4, bits_per_param=1),
                    Footprint("bias scales", n_params=W, bits_per_param=float_bits),
                    Footprint("PWL tables", n_params=4 * (self.n_pwl_segments + 1), bits_per_param=float_bits),
                ]
                bit_ops = A * W * H4 * (D + H) + 3 * A * A * H
                macs = 2 * A * W * H4 + H4 + 5 * H + 3 * A * A * H + 2 * A * (D + H + 6 * H)
            else:
                sub += [Footprint("W_h, bias (float)", n_params=w_hh.size + b.size, bits_per_param=float_bits)]
                bit_ops = A * W * H4 * D
                macs = (0 if self.mode == "b_lstm" else A * W * H4 + 2 * A * D) + H4 * H + H4 + 3 * H + 5 * H
            parts.append(
                Footprint(f"{self.mode} layer {k} (A={A}, W={W})", macs=n_times * macs,
                          bit_ops=n_times * bit_ops, parts=tuple(sub))
            )
        return self._network_footprint(f"MultiLevelBinarizedLSTM ({self.mode})", parts, float_bits, n_times)

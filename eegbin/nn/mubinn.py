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

Weight scales are computed offline from the float weights. Activation scales
are by default computed per vector at run time (mean |residual|);
:meth:`MultiLevelBinarizedLSTM.calibrate` instead fixes them from calibration
data, one set per binarized signal, as the paper's static scales (Algorithm 1
takes them as inputs). A network trained with learned scales by
:mod:`eegbin.train` is not re-binarized here: :class:`eegbin.nn.LearnedMultiLevelLSTM`
(:meth:`eegbin.nn.LSTMClassifier.from_export`) runs it with its exported codes
and learned scales.

References
----------
.. [1] MuBiNN, Section IV (B_LSTM eq. 7-8, MuBiNN1, MuBiNN2, Fig. 3), Algorithm 1,
   eq. (9); Section V (Fig. 4-5, Table I).
"""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np
from scipy.special import expit

from ..footprint import Footprint
from ..quantize.mlb import _power_of_two_nearest, _seq_mean_abs, mlb_matmul, multilevel_binarize, reconstruct
from .lstm import LSTM

__all__ = ["MultiLevelBinarizedLSTM", "pwl_table", "pwl_apply"]

_MODES = ("b_lstm", "mubinn1", "mubinn2")
_SIGNALS = ("h", "i", "f", "g", "o", "c", "tanh_c")  # binarized in the recurrence (kernel order)


def pwl_table(function, n_segments=32, bound=None):
    """Breakpoints and values of a piecewise-linear sigmoid or tanh table.

    Parameters
    ----------
    function : {"sigmoid", "tanh"}
    n_segments : int, default=32
        Uniform segments over ``[-bound, bound]``; outside, the end values hold.
    bound : float, optional
        Default 8 for the sigmoid, 4 for tanh.

    Returns
    -------
    xp, fp : ndarrays of shape (n_segments + 1,)

    Examples
    --------
    >>> from eegbin.nn.mubinn import pwl_table, pwl_apply
    >>> xp, fp = pwl_table("tanh", 8)
    >>> xp[:3]
    array([-4., -3., -2.])
    >>> round(float(pwl_apply(0.5, (xp, fp))), 4)  # chord of tanh between 0 and 1
    0.3808

    References
    ----------
    MuBiNN, Section IV-C (activation functions by piecewise-linear tables).
    """
    if function not in ("sigmoid", "tanh"):
        raise ValueError(f"function must be 'sigmoid' or 'tanh', got {function!r}")
    if isinstance(n_segments, (bool, np.bool_)) or not isinstance(n_segments, numbers.Integral) or n_segments < 1:
        raise ValueError(f"n_segments must be an integer >= 1, got {n_segments!r}")
    if bound is None:
        bound = 8.0 if function == "sigmoid" else 4.0
    xp = np.linspace(-bound, bound, int(n_segments) + 1)
    fp = expit(xp) if function == "sigmoid" else np.tanh(xp)
    return xp, fp


def pwl_apply(z, table):
    """Evaluate a piecewise-linear table (``np.interp``, constant outside)."""
    xp, fp = table
    return np.interp(z, xp, fp)


def _mlb_rows(x, n_levels, power_of_two):
    """Reconstruction sum_i alpha_i b_i (level order) of a per-row greedy MLB of a 2-D array."""
    r = x.copy()
    out = np.zeros_like(x)
    for _ in range(n_levels):
        b = np.where(r >= 0, 1.0, -1.0)
        a = _seq_mean_abs(r, 1)  # sequential sum, as the fused kernel
        if power_of_two:
            a = _power_of_two_nearest(a)
        r = r - a * b
        out = out + a * b
    return out


def _check_levels(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


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
        mubinn2 recurrence by a fused numba kernel (parallel over the batch) or
        by the numpy reference; both give the same numbers to float rounding.
    layout, key_map, gate_order, batch_first
        As for :class:`eegbin.nn.LSTM`.

    Attributes
    ----------
    codes : list of dict
        Per layer, the :class:`~eegbin.quantize.MultiLevelCode` of each binarized
        weight tensor.
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
        self.activation_levels = _check_levels(activation_levels, "activation_levels")
        self.weight_levels = _check_levels(weight_levels, "weight_levels")
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
        self._sig = pwl_table("sigmoid", n_pwl_segments)
        self._tanh = pwl_table("tanh", n_pwl_segments)
        W = self.weight_levels
        self.codes = []
        for w_ih, w_hh, b in self.params.layers:
            code = {"w_ih": multilevel_binarize(w_ih, W, self.weight_scaling, axis=1)}
            if mode == "b_lstm":
                code["w_ih"] = replace(code["w_ih"], scales=np.ones_like(code["w_ih"].scales))
            if mode == "mubinn2":
                code["w_hh"] = multilevel_binarize(w_hh, W, self.weight_scaling, axis=1)
                code["bias"] = multilevel_binarize(b, W, self.weight_scaling)
                code["bias_hat"] = reconstruct(code["bias"])
            self.codes.append(code)

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
        self.activation_scales_ = None
        self._record = [dict() for _ in self.params.layers]
        try:
            self.features(x)
            static = []
            for rec in self._record:
                static.append({
                    name: multilevel_binarize(np.concatenate(rows).reshape(1, -1), self.activation_levels,
                                              self.activation_scaling).scales
                    for name, rows in rec.items()
                })
        finally:
            self._record = None
        self.activation_scales_ = static
        return self

    def _static(self, layer, name):
        scales = getattr(self, "activation_scales_", None)
        return None if scales is None else scales[layer][name]

    def _collect(self, layer, name, rows):
        if getattr(self, "_record", None) is not None:
            self._record[layer].setdefault(name, []).append(np.asarray(rows).ravel())

    def _encode_act(self, x, layer, name):
        """Packed MLB of activation rows (A levels, per-row or static scales)."""
        if self.mode == "b_lstm":
            code = multilevel_binarize(x, 1, "greedy", axis=1)
            return replace(code, scales=np.ones_like(code.scales))
        self._collect(layer, name, x)
        fixed = self._static(layer, name)
        if fixed is not None:
            return multilevel_binarize(x, self.activation_levels, scales=fixed)
        return multilevel_binarize(x, self.activation_levels, self.activation_scaling, axis=1)

    def _mlb(self, x, layer, name, offset=0.0):
        self._collect(layer, name, x - offset)
        fixed = self._static(layer, name)
        if fixed is None:
            return offset + _mlb_rows(x - offset, self.activation_levels, self.activation_scaling == "power_of_two")
        r, out = x - offset, np.zeros_like(x)
        for alpha in fixed:  # Algorithm 1 with given scales
            step = alpha * np.where(r >= 0, 1.0, -1.0)
            r, out = r - step, out + step
        return offset + out

    def _layer(self, k, x, h0, c0):
        w_ih, w_hh, b = self.params.layers[k]
        code = self.codes[k]
        B, T, D = x.shape
        H = w_hh.shape[1]
        gx = mlb_matmul(self._encode_act(x.reshape(B * T, D), k, "x"), code["w_ih"]).reshape(B, T, 4 * H)
        h = np.zeros((B, H)) if h0 is None else np.array(h0, dtype=np.float64)
        c = np.zeros((B, H)) if c0 is None else np.array(c0, dtype=np.float64)
        out = np.empty((B, T, H))
        if self.mode != "mubinn2":
            gx += b
            w_hh_t = np.ascontiguousarray(w_hh.T)
            for t in range(T):
                z = gx[:, t] + h @ w_hh_t
                i, f, o = expit(z[:, :H]), expit(z[:, H : 2 * H]), expit(z[:, 3 * H :])
                c = f * c + i * np.tanh(z[:, 2 * H : 3 * H])
                h = o * np.tanh(c)
                out[:, t] = h
            return out, h, c
        gx += code["bias_hat"]
        if self.engine == "numba" and getattr(self, "_record", None) is None:
            from ._mubinn_kernels import mubinn2_layer

            (xs, fs), (xt, ft) = self._sig, self._tanh
            static = self._static(k, "h") is not None
            fixed = (np.stack([self._static(k, n) for n in _SIGNALS]) if static
                     else np.zeros((len(_SIGNALS), self.activation_levels)))
            out, c = mubinn2_layer(
                np.ascontiguousarray(gx), h, c, code["w_hh"].planes, code["w_hh"].row_scales(),
                self.activation_levels, self.activation_scaling == "power_of_two",
                xs, fs, xt, ft, fixed, static,
            )
            return out, out[:, -1].copy(), c
        for t in range(T):
            z = gx[:, t] + mlb_matmul(self._encode_act(h, k, "h"), code["w_hh"])
            i = self._mlb(pwl_apply(z[:, :H], self._sig), k, "i", 0.5)
            f = self._mlb(pwl_apply(z[:, H : 2 * H], self._sig), k, "f", 0.5)
            g = self._mlb(pwl_apply(z[:, 2 * H : 3 * H], self._tanh), k, "g")
            o = self._mlb(pwl_apply(z[:, 3 * H :], self._sig), k, "o", 0.5)
            c = f * self._mlb(c, k, "c") + i * g  # XNOR products of bit planes, eq. (5)
            h = o * self._mlb(pwl_apply(c, self._tanh), k, "tanh_c")  # eq. (6)
            out[:, t] = h
        return out, h, c

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
        for k, ((w_ih, w_hh, b), code) in enumerate(zip(self.params.layers, self.codes)):
            H4, D = w_ih.shape
            H = H4 // 4
            scales_ih = 0 if self.mode == "b_lstm" else code["w_ih"].scales.size
            sub = [
                Footprint("W_x planes", n_params=W * H4 * D, bits_per_param=1),
                Footprint("W_x scales", n_params=scales_ih, bits_per_param=float_bits),
            ]
            if self.mode == "mubinn2":
                sub += [
                    Footprint("W_h planes", n_params=W * H4 * H, bits_per_param=1),
                    Footprint("W_h scales", n_params=code["w_hh"].scales.size, bits_per_param=float_bits),
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
        if self.params.head is not None:
            hW, hb = self.params.head
            parts.append(Footprint("dense head", n_params=hW.size + hb.size, bits_per_param=float_bits, macs=hW.size))
        return Footprint(f"MultiLevelBinarizedLSTM ({self.mode})", parts=tuple(parts), note=f"{n_times} time steps")

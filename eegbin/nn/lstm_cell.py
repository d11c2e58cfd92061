"""The LSTM cell recurrence, written once, parameterized by how it quantizes.

Every LSTM of :mod:`eegbin.nn` (float, B_LSTM, MuBiNN1, MuBiNN2 binarized after
training, MuBiNN2 as trained) runs :func:`lstm_layer`. One layer over a sequence,
with ``q_s`` the quantizer of signal ``s`` (the identity when it is None)::

    z_t = W_x q_x(x_t) + W_h q_h(h_{t-1}) + b                    (eq. 1-4)
    i = q_i(sigma(z_i))   f = q_f(sigma(z_f))   g = q_g(tanh(z_g))   o = q_o(sigma(z_o))
    c_t = f * q_c(c_{t-1}) + i * g                               (eq. 5)
    h_t = o * q_tanh_c(tanh(c_t))                                (eq. 6)

- A weight is a float array or a :class:`~eegbin.quantize.MultiLevelCode` (packed
  sign planes and scales); a product with a binarized weight binarizes its
  activation too and runs by XNOR-popcount (eq. 9, :func:`eegbin.quantize.mlb_matmul`).
  A binarized bias is added as its reconstruction.
- A quantizer (:class:`SignalQuantizer`) is Algorithm 1
  (:func:`eegbin.quantize.multilevel_binarize`): its levels, run-time scales per
  vector (``"greedy"`` or ``"power_of_two"``) or given static scales, an offset
  (sigmoid outputs are binarized around 0.5, so one level still carries the sign
  of the gate's deviation) and the precision of its residuals (float32 for a
  network trained in float32).
- ``sigma`` and ``tanh`` are exact or piecewise-linear tables (:func:`pwl_table`).

:class:`CellQuantization` gathers these choices for one layer. A quantized signal
passes on ``sum_i alpha_i b_i`` (accumulated in level order), never ``x - r``: the
states then depend only on the signs and scales, and with power-of-two scales they
are exact dyadic numbers whose exact ties (``H(0) = 1``) every engine decides alike.

The arithmetic is fixed, so another engine can reproduce it bit for bit (the
trained MuBiNN2 of :mod:`eegbin.train` does, in float64): ``gx = P_x + b`` for all
steps, then per step ``z = gx_t + P_h``; a binarized product ``P`` is eq. (9) by
:func:`eegbin.kernels.multilevel_matmul`, in the order of fused multiply-adds it
documents (an engine without them calls it on the packed codes);
``c = (f * q_c(c)) + (i * g)`` and ``h = o * q_tanh_c(tanh(c))``; a table is
``np.interp``.

Interface for fast paths
------------------------
:class:`CellQuantization` and :class:`SignalQuantizer` are the stable description a
fast path receives (the fields below; their meaning does not change): a kernel
that supports a configuration computes :func:`lstm_recurrence` for it, and is
tested equal to it. :func:`lstm_layer` picks such a kernel with ``engine="numba"``;
today the fused numba kernel :func:`eegbin.kernels.mubinn2_lstm_layer` runs the
configurations with a binarized ``W_h`` and ``h`` (no offset), uniform
piecewise-linear tables and float64 residuals through XNOR-popcount, including the
input products when ``W_x`` and ``x`` are binarized, with the same arithmetic as
this reference (tested bit for bit).

References
----------
.. [1] MuBiNN, eq. (1)-(9), Algorithm 1, Section IV (B_LSTM, MuBiNN1, MuBiNN2, Fig. 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from ..kernels import lstm_layer_operands, mubinn2_lstm_layer, unpack_bits
from ..kernels.checks import check_int, check_real, check_real_array
from ..kernels.xnor_lstm import SIGNALS as _FUSED_SIGNALS
from ..kernels.xnor_lstm import is_uniform_grid
from ..quantize import MultiLevelCode, mlb_matmul, multilevel_binarize, reconstruct
from ..quantize.mlb import check_n_levels, mlb_approximation

__all__ = ["SignalQuantizer", "CellQuantization", "FLOAT_CELL", "lstm_layer", "lstm_recurrence",
           "gate_products", "pwl_table", "pwl_apply"]

_RULES = ("greedy", "power_of_two")


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
    >>> from eegbin.nn import pwl_table, pwl_apply
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
    n_segments = check_int(n_segments, "n_segments", 1)
    if bound is None:
        bound = 8.0 if function == "sigmoid" else 4.0
    bound = check_real(bound, "bound", 0, low_open=True)
    xp = np.linspace(-bound, bound, int(n_segments) + 1)
    fp = expit(xp) if function == "sigmoid" else np.tanh(xp)
    return xp, fp


def pwl_apply(z, table):
    """Evaluate a piecewise-linear table (``np.interp``, constant outside).

    Parameters
    ----------
    z : float or array_like of real numbers
        Finite values (NaN and Inf are refused), any shape.
    table : tuple (xp, fp)
        As :func:`pwl_table` returns it.

    Returns
    -------
    float64 or ndarray of float64, the shape of ``z``
    """
    z = check_real_array(z, "z")
    if not (isinstance(table, tuple) and len(table) == 2):
        raise TypeError(f"table must be the tuple (xp, fp) pwl_table returns, got {type(table).__name__}")
    return _pwl(z, table)


def _pwl(z, table):
    """pwl_apply without the checks, for the cell's own pre-activations."""
    xp, fp = table
    return np.interp(z, xp, fp)


@dataclass(frozen=True, eq=False)
class SignalQuantizer:
    """Algorithm 1 applied to one signal of the cell, one vector (row) at a time.

    Parameters
    ----------
    n_levels : int
    scaling : {"greedy", "power_of_two"}, default="greedy"
        Run-time scales per vector: ``mean |r|``, or that rounded to the nearest
        power of two (shifts). Not used when ``scales`` is given.
    scales : ndarray of shape (n_levels,), optional
        Static scales (Algorithm 1's inputs, calibrated or learned), for every vector.
    offset : float, default=0.0
        The signal is binarized around it: ``offset + MLB(v - offset)``.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Precision of the residuals (float32: a network trained in float32).
    """

    n_levels: int
    scaling: str = "greedy"
    scales: np.ndarray | None = None
    offset: float = 0.0
    dtype: type = np.float64

    def __post_init__(self):
        check_n_levels(self.n_levels, "n_levels")
        if self.scales is None and self.scaling not in _RULES:
            raise ValueError(f"scaling must be one of {_RULES} (computed at run time), got {self.scaling!r}")

    def _args(self):
        if self.scales is not None:
            return dict(scales=np.asarray(self.scales), dtype=self.dtype)
        return dict(scaling=self.scaling, axis=1, dtype=self.dtype)

    def encode(self, v):
        """Packed code of the rows of ``v``, for XNOR-popcount products (eq. 9 has no offset)."""
        if self.offset != 0.0:
            raise ValueError(f"a signal multiplied by XNOR-popcount is binarized around 0, got offset {self.offset}")
        return multilevel_binarize(v, self.n_levels, **self._args())

    def approximate(self, v):
        """``offset + sum_i alpha_i b_i`` of the rows of ``v - offset``."""
        if self.offset == 0.0:
            return mlb_approximation(v, self.n_levels, **self._args())
        return self.offset + mlb_approximation(v - self.offset, self.n_levels, **self._args())

    def sign_planes(self, v):
        """The signs ``b_1..b_L`` Algorithm 1 gives the rows of ``v - offset``.

        Parameters
        ----------
        v : ndarray of shape (n, d)

        Returns
        -------
        ndarray of int8, shape (n_levels, n, d)
            ±1 (``Sign(0) = +1``): the code :meth:`approximate` sums with the scales.

        Examples
        --------
        >>> import numpy as np
        >>> from eegbin.nn.lstm_cell import SignalQuantizer
        >>> q = SignalQuantizer(2, scales=np.array([0.25, 0.125]), offset=0.5)
        >>> q.sign_planes(np.array([[0.9, 0.5, 0.2]])).tolist()
        [[[1, 1, -1]], [[1, -1, -1]]]
        """
        v = np.atleast_2d(v)
        code = multilevel_binarize(v - self.offset if self.offset else v, self.n_levels, **self._args())
        bits = unpack_bits(code.planes.reshape(-1, code.planes.shape[2]), code.n_bits, kind="bipolar")
        return bits.reshape((self.n_levels,) + v.shape).astype(np.int8)


@dataclass(frozen=True, eq=False)
class CellQuantization:
    """How one LSTM layer quantizes: a :class:`SignalQuantizer` (or None: float) per signal.

    Attributes
    ----------
    x, h : SignalQuantizer or None
        The layer input and ``h_{t-1}``, before their gate products.
    i, f, g, o : SignalQuantizer or None
        The activation outputs, before the element-wise products of eq. (5)-(6).
    c, tanh_c : SignalQuantizer or None
        ``c_{t-1}`` before eq. (5) and ``tanh(c_t)`` before eq. (6).
    sigmoid, tanh : tuple (xp, fp) or None
        Piecewise-linear tables (:func:`pwl_table`), or None for the exact functions.
    """

    x: SignalQuantizer | None = None
    h: SignalQuantizer | None = None
    i: SignalQuantizer | None = None
    f: SignalQuantizer | None = None
    g: SignalQuantizer | None = None
    o: SignalQuantizer | None = None
    c: SignalQuantizer | None = None
    tanh_c: SignalQuantizer | None = None
    sigmoid: tuple | None = None
    tanh: tuple | None = None


#: The float LSTM cell: nothing quantized, exact activations.
FLOAT_CELL = CellQuantization()


def gate_products(v, weight, quantizer=None):
    """``q(v) @ W.T`` for rows ``v`` (..., D): float, or by XNOR-popcount for a binarized ``W``.

    Parameters
    ----------
    v : ndarray of shape (..., D)
    weight : ndarray of shape (4H, D) or MultiLevelCode of such an array
    quantizer : SignalQuantizer or None
        Binarizes ``v`` (required for a binarized weight: eq. 9 multiplies two codes).

    Returns
    -------
    ndarray of shape (..., 4H)
    """
    if isinstance(weight, MultiLevelCode):
        if quantizer is None:
            raise ValueError("a binarized weight multiplies a binarized activation: quantizer must be given")
        lead = v.shape[:-1]
        out = mlb_matmul(quantizer.encode(v.reshape(-1, v.shape[-1])), weight)
        return out.reshape(lead + (out.shape[1],))
    if quantizer is not None:
        v = quantizer.approximate(v.reshape(-1, v.shape[-1])).reshape(v.shape)
    return v @ weight.T


def _values(bias):
    return reconstruct(bias) if isinstance(bias, MultiLevelCode) else bias


def lstm_layer(x, layer, h0=None, c0=None, cell=FLOAT_CELL, observe=None, engine="numpy", operands=None):
    """One LSTM layer over a batch of sequences, quantized as ``cell`` says.

    Parameters
    ----------
    x : ndarray of shape (batch, time, D), float64
    layer : (w_ih, w_hh, bias)
        (4H, D), (4H, H), (4H,): float arrays or MultiLevelCode (binarized).
    h0, c0 : ndarray of shape (batch, H), optional
        Initial states (zeros by default).
    cell : CellQuantization, default=FLOAT_CELL
    observe : callable, optional
        ``observe(name, values)`` receives every signal of the cell (``"x"``,
        ``"h"``, ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"``, ``"tanh_c"``) where its
        quantizer acts, before it acts and whether or not the cell quantizes it
        (offsets not subtracted), e.g. to calibrate static scales.
    engine : {"numpy", "numba"}, default="numpy"
        "numba" runs the recurrence by the fused kernel when it supports ``cell``
        (and nothing is observed).
    operands : tuple, optional
        This ``layer``'s weights as laid out for the fused kernel, kept by the caller
        (:class:`~eegbin.nn.MultiLevelBinarizedLSTM` keeps them per layer) so that the
        layout runs once per network, not once per call; laid out here if None.

    Returns
    -------
    out : ndarray of shape (batch, time, H)
    h_n, c_n : ndarray of shape (batch, H)
    """
    w_ih, w_hh, bias = layer
    B, H = x.shape[0], w_hh.shape[1]
    h = np.zeros((B, H)) if h0 is None else np.array(h0, dtype=np.float64)
    c = np.zeros((B, H)) if c0 is None else np.array(c0, dtype=np.float64)
    if engine == "numba" and observe is None and _fusable(w_hh, cell):
        out, c = _fused_layer(x, w_ih, w_hh, bias, h, c, cell, operands)
        return out, out[:, -1].copy(), c
    if observe is not None:
        observe("x", x)
    gx = gate_products(x, w_ih, cell.x) + _values(bias)
    return lstm_recurrence(gx, w_hh, h, c, cell, observe)


def lstm_recurrence(gx, w_hh, h, c, cell=FLOAT_CELL, observe=None):
    """The recurrence of eq. (1)-(6) given the input products plus bias ``gx`` (B, T, 4H) of every step.

    ``h``, ``c`` (B, H) are the initial states; returns ``out`` (B, T, H), ``h_n``, ``c_n``.
    ``observe`` as for :func:`lstm_layer`.
    """
    B, T, H4 = gx.shape
    H = H4 // 4
    out = np.empty((B, T, H))

    def q(name, v):
        if observe is not None:
            observe(name, v)
        quantizer = getattr(cell, name)
        return v if quantizer is None else quantizer.approximate(v)

    if not isinstance(w_hh, MultiLevelCode):  # h @ W.T with W.T C-contiguous: BLAS's fast gemv/gemm path
        w_hh = np.ascontiguousarray(w_hh.T).T
    sigmoid = expit if cell.sigmoid is None else (lambda z: _pwl(z, cell.sigmoid))
    tanh = np.tanh if cell.tanh is None else (lambda z: _pwl(z, cell.tanh))
    for t in range(T):
        if observe is not None:
            observe("h", h)
        z = gx[:, t] + gate_products(h, w_hh, cell.h)
        i = q("i", sigmoid(z[:, :H]))
        f = q("f", sigmoid(z[:, H : 2 * H]))
        g = q("g", tanh(z[:, 2 * H : 3 * H]))
        o = q("o", sigmoid(z[:, 3 * H :]))
        c = f * q("c", c) + i * g
        h = o * q("tanh_c", tanh(c))
        out[:, t] = h
    return out, h, c


# ---------------------------------------------------------------------------
# the fused kernel
# ---------------------------------------------------------------------------


def _fusable(w_hh, cell):
    """True if the fused kernel computes this recurrence."""
    if not isinstance(w_hh, MultiLevelCode) or w_hh.axis == 0 or cell.sigmoid is None or cell.tanh is None:
        return False
    if not (is_uniform_grid(cell.sigmoid[0]) and is_uniform_grid(cell.tanh[0])):
        return False
    signals = [getattr(cell, s) for s in _FUSED_SIGNALS[1:]]
    return signals[0] is not None and signals[0].offset == 0.0 and all(
        s is None or s.dtype == np.float64 for s in signals)


def _input_in_kernel(w_ih, w_hh, cell):
    """True if the fused kernel computes the input products too (W_x and x binarized alike)."""
    qx = cell.x
    return (isinstance(w_ih, MultiLevelCode) and w_ih.axis != 0 and w_ih.n_levels == w_hh.n_levels
            and qx is not None and qx.offset == 0.0 and qx.dtype == np.float64)


def _fused_operands(layer, cell):
    """The weights of ``layer`` laid out for the fused kernel (:func:`eegbin.kernels.lstm_layer_operands`).

    Returns ``(in_kernel, operands)``: whether the kernel computes the input products
    (else they come computed, as ``gx``) and the operands; None if the kernel does not
    run this cell. Pass it to :func:`lstm_layer` as ``operands`` to skip the layout on
    every call; it stays valid as long as the weight objects of ``layer`` are the
    same, unchanged (a network freezes its arrays).
    """
    w_ih, w_hh, bias = layer
    if not _fusable(w_hh, cell):
        return None
    in_kernel = _input_in_kernel(w_ih, w_hh, cell)
    if in_kernel:
        ops = lstm_layer_operands(w_ih.planes, w_ih.row_scales(), w_hh.planes, w_hh.row_scales(), _values(bias),
                                  w_ih.n_bits)
    else:  # the input products come computed (float or differently binarized input weights)
        H4 = w_hh.planes.shape[1]
        no_input = np.zeros((w_hh.n_levels, H4, 1), dtype=np.uint64)
        ops = lstm_layer_operands(no_input, np.zeros((w_hh.n_levels, H4)), w_hh.planes, w_hh.row_scales(),
                                  np.zeros(H4), 1)
    return in_kernel, ops


def _fused_layer(x, w_ih, w_hh, bias, h, c, cell, operands=None):
    """The layer by :func:`eegbin.kernels.mubinn2_lstm_layer`; its input products too when W_x is binarized."""
    in_kernel = _input_in_kernel(w_ih, w_hh, cell)
    if operands is None or operands[0] != in_kernel:
        operands = _fused_operands((w_ih, w_hh, bias), cell)
    ops = operands[1]
    signals = [getattr(cell, s) for s in _FUSED_SIGNALS]
    if not in_kernel:
        signals[0] = None
    levels = [0 if s is None else s.n_levels for s in signals]
    static = [None if s is None or s.scales is None else np.asarray(s.scales) for s in signals]
    pow2 = [s is not None and s.scales is None and s.scaling == "power_of_two" for s in signals]
    offsets = [0.0 if s is None else float(s.offset) for s in signals]
    gx = None if in_kernel else gate_products(x, w_ih, cell.x) + _values(bias)
    return mubinn2_lstm_layer(x, h, c, ops, levels, cell.sigmoid, cell.tanh, offsets=offsets, power_of_two=pow2,
                              static_scales=static, gx=gx)

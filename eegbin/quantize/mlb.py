"""Multi-level binarization (MLB) of weights and activations (MuBiNN, Algorithm 1).

A real tensor ``x`` is approximated by a sum of ``L`` scaled bipolar planes,
``x ~ sum_i alpha_i * b_i`` with ``b_i in {-1, +1}``: the residual ``r`` starts at
``x``; at each level ``b_i = sign(r)`` (``sign(0) = +1``, the Heaviside rule of
DESIGN.md) and ``r <- r - alpha_i * b_i``. The planes are stored packed (uint64
words, one bit per value), so the product of two encodings is a sum of
XNOR-popcount dot products (eq. 9), computed by
:func:`eegbin.kernels.multilevel_matmul`.

Scales (one per level, per tensor or per row/column):

``"greedy"``
    ``alpha_i = mean |r|`` over the group: the optimal scale for the sign plane
    of the current residual; every level lowers the squared error by
    ``n * alpha_i**2``.
``"power_of_two"``
    MuBiNN1 / [12]: the greedy scale rounded to a power of two so that the
    multiplication becomes a shift. Rounding: of the two powers of two around
    ``m = mean |r|`` we keep the one **nearest in value** (``2**(k+1)`` when
    ``m >= 1.5 * 2**k``), which is the one with the smaller squared error
    (the error ``n*alpha**2 - 2*alpha*sum|r|`` is a parabola centred at ``m``).
    Both candidates are within a factor 2 of ``m``, so every level still lowers
    the error. A group whose residual is exactly zero gets ``alpha = 0``.
``"least_squares"``
    The greedy sign planes, then all scales of a group refitted jointly by
    least squares, ``alpha = argmin ||x - B alpha||``. Adding a level adds a
    column to ``B`` (the planes do not depend on ``n_levels``), so the error
    never increases with ``n_levels`` and never exceeds the greedy error.

References
----------
.. [1] "MuBiNN: Multi-Level Binarized Recurrent Neural Network for EEG Signal
   Classification", Algorithm 1 (MLB), eq. (9) (product of two encodings),
   Section IV-B (power-of-two scales).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import BinarizerOutputMixin, signs_as
from ..docstrings import fill_doc
from ..kernels import unpack_bits
from ..kernels.bits import multilevel_matmul, n_words_for
from ..kernels.checks import check_n_levels, check_packed, check_real_array, refuse_strings

__all__ = [
    "MultiLevelCode",
    "multilevel_binarize",
    "reconstruct",
    "mlb_dot",
    "mlb_matmul",
    "MultiLevelBinarizer",
]

_SCALINGS = ("greedy", "power_of_two", "least_squares")


@dataclass(frozen=True)
class MultiLevelCode:
    """Packed multi-level binary encoding of a 1-D or 2-D real array.

    Attributes
    ----------
    planes : ndarray of uint64, shape (n_levels, n_rows, n_words)
        Packed bipolar sign planes, one per level; row ``r`` of level ``i`` holds
        ``b_i[r, :]`` (bit 1 <-> +1), ``n_words = ceil(n_bits / 64)``.
    scales : ndarray of float64, shape (n_levels,), (n_levels, n_rows) or (n_levels, n_cols)
        ``alpha_i`` per tensor (``axis=None``), per row (``axis=1``) or per
        column (``axis=0``).
    n_bits : int
        Values per row (the number of columns).
    shape : tuple of int
        Shape of the encoded array (1-D arrays are encoded as one row).
    axis : None, 0 or 1
        Axis the scales were computed over (None: per tensor; 1: per row;
        0: per column).
    """

    planes: np.ndarray
    scales: np.ndarray
    n_bits: int
    shape: tuple
    axis: int | None = None

    @property
    def n_levels(self) -> int:
        """Number of binarization levels."""
        return int(self.planes.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of encoded rows."""
        return int(self.planes.shape[1])

    def memory_bits(self, float_bits: int = 32) -> int:
        """Stored bits: one bit per value and level plus ``float_bits`` per scale."""
        return int(self.n_levels * self.n_rows * self.n_bits + self.scales.size * float_bits)

    def row_scales(self) -> np.ndarray:
        """Scales broadcast to shape (n_levels, n_rows) (per-tensor or per-row codes only)."""
        if self.axis == 0:
            raise ValueError(
                "this code has per-column scales (axis=0); XNOR-popcount products along "
                "rows need per-tensor (axis=None) or per-row (axis=1) scales"
            )
        if self.scales.ndim == 1:
            return np.repeat(self.scales[:, None], self.n_rows, axis=1)
        return self.scales


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _check_axis(axis, ndim):
    if axis is not None and (not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_))):
        raise TypeError(f"axis must be None, 0 or 1, got {type(axis).__name__} {axis!r}")
    if axis is not None and axis not in (0, 1):
        raise ValueError(f"axis must be None, 0 or 1, got {axis!r}")
    if axis is not None and ndim == 1:
        raise ValueError(f"axis={axis} needs a 2-D array; a 1-D array is scaled per tensor (axis=None)")
    return None if axis is None else int(axis)


def _check_scaling(scaling):
    if scaling not in _SCALINGS:
        raise ValueError(f"scaling must be one of {_SCALINGS}, got {scaling!r}")
    return scaling


def _check_dtype(dtype):
    if dtype is np.float64 or dtype is np.float32:
        return dtype
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")
    return dt.type


def _check_given_scales(scales, n_levels, axis, shape, dtype):
    if not isinstance(scales, np.ndarray):
        raise TypeError(f"scales must be a numpy.ndarray or None, got {type(scales).__name__}")
    expected = (n_levels,) if axis is None else (n_levels, shape[0] if axis == 1 else shape[1])
    if scales.shape != expected:
        raise ValueError(f"scales must have shape {expected} for n_levels={n_levels}, axis={axis} and x of "
                         f"shape {shape}, got {scales.shape}")
    if scales.dtype.kind not in "fiu" or not np.all(np.isfinite(scales)):
        raise ValueError("scales must hold finite real numbers")
    return scales.astype(dtype)  # the values Algorithm 1 subtracts


# ---------------------------------------------------------------------------
# functional core: Algorithm 1, once
# ---------------------------------------------------------------------------


def _power_of_two_nearest(m):
    """Power of two nearest in value to each ``m > 0`` (0 where ``m == 0``)."""
    m = np.asarray(m, dtype=np.float64)
    mant, exp = np.frexp(m)  # m = mant * 2**exp, mant in [0.5, 1)
    lo = np.ldexp(1.0, exp - 1)  # 2**floor(log2 m)
    out = np.where(m >= 1.5 * lo, 2.0 * lo, lo)
    return np.where(m > 0, out, 0.0)


def _seq_mean_abs(r, axis):
    """mean |r| over the group, summed left to right (keepdims).

    A sequential sum (not numpy's pairwise one) makes the scales identical to
    those of a straightforward loop (the fused LSTM kernel, embedded C), which
    matters for power-of-two rounding at a boundary.
    """
    a = np.abs(r)
    if axis is None:
        return (np.cumsum(a.ravel())[-1] / a.size).reshape(1, 1)
    total = np.cumsum(a, axis=axis)
    return (total[:, -1:] if axis == 1 else total[-1:, :]) / a.shape[axis]


def _per_group(alpha, axis):
    """Scales of one level, shaped to broadcast over the (rows, cols) array."""
    return alpha if axis is None else (alpha[:, None] if axis == 1 else alpha[None, :])


def _algorithm_1(x2, n_levels, axis, power_of_two, given, dtype):
    """MuBiNN Algorithm 1 on a 2-D array: sign planes (L, rows, cols) as bool (+1 <-> True), scales (L, groups).

    ``r = x``; per level ``b_i = Sign(r)`` with Sign(0) = +1 (H(0) = 1, DESIGN.md),
    ``alpha_i`` the given scale or ``mean |r|`` of its group (summed left to right;
    rounded to the nearest power of two if asked), ``r <- r - alpha_i b_i``.

    Ties are decided exactly by construction: every residual is a single
    correctly rounded subtraction of ``+-alpha_i`` in ``dtype`` (the product by
    ``b_i = +-1`` is exact, so a fused multiply-add computes the same bits), and
    ``r >= 0`` is an exact comparison. Any IEEE-754 engine that follows these steps
    (the fused LSTM kernel of :mod:`eegbin.kernels.xnor_lstm`, C, torch for float32)
    gets the same planes from the same input and scales, zeros included.
    """
    r = np.array(x2, dtype=dtype)
    planes = np.empty((n_levels,) + x2.shape, dtype=bool)
    scales = given
    if given is None:
        scales = np.empty((n_levels, 1 if axis is None else x2.shape[1 - axis]), dtype=dtype)
    for i in range(n_levels):
        np.greater_equal(r, 0, out=planes[i])
        if given is not None:
            alpha = _per_group(given[i], axis)
        else:
            alpha = _seq_mean_abs(r, axis)
            if power_of_two:
                alpha = _power_of_two_nearest(alpha)
            alpha = alpha.astype(dtype)
            scales[i] = alpha.reshape(-1)
        r -= np.where(planes[i], alpha, -alpha)  # r - alpha * b, b = +-1
    return planes, scales


def _least_squares_scales(x2, planes, axis):
    """Jointly refit the scales of each group: argmin ||x - sum_i alpha_i b_i||."""
    B = np.where(planes, 1.0, -1.0)
    if axis is None:
        G = np.einsum("irc,jrc->ij", B, B)[None]
        rhs = np.einsum("irc,rc->i", B, x2)[None]
    elif axis == 1:
        G = np.einsum("irc,jrc->rij", B, B)
        rhs = np.einsum("irc,rc->ri", B, x2)
    else:
        G = np.einsum("irc,jrc->cij", B, B)
        rhs = np.einsum("irc,rc->ci", B, x2)
    # G holds exact integers; a rank-deficient G (repeated planes, zero residual)
    # gets the minimum-norm solution, which reconstructs identically.
    alpha = np.einsum("gij,gj->gi", np.linalg.pinv(G, rcond=1e-10, hermitian=True), rhs)
    return alpha.T  # (L, groups)


def _sum_levels(planes, scales, axis):
    """``sum_i alpha_i b_i``, accumulated in level order in float64.

    With power-of-two scales every partial sum is exact; in any case the order is
    fixed, so :func:`reconstruct`, :func:`mlb_approximation` and the fused LSTM
    kernel give the same bits.
    """
    out = np.zeros(planes.shape[1:], dtype=np.float64)
    for i in range(planes.shape[0]):
        alpha = _per_group(np.asarray(scales[i], dtype=np.float64), axis)
        out += np.where(planes[i], alpha, -alpha)
    return out


def _binarize(x, n_levels, scaling, axis, scales, dtype):
    """Checked arguments, then Algorithm 1: (x as 2-D, bool sign planes, float64 scales (L,) or (L, groups))."""
    x = check_real_array(x, "x", ndim=(1, 2), allow_empty=False, ndarray=True)
    n_levels = check_n_levels(n_levels)
    scaling = _check_scaling(scaling)
    axis = _check_axis(axis, x.ndim)
    dtype = _check_dtype(dtype)
    x2 = np.atleast_2d(x)
    if scales is not None:
        scales = _check_given_scales(scales, n_levels, axis, x2.shape, dtype)
        planes, scales = _algorithm_1(x2, n_levels, axis, False, scales, dtype)
    else:
        planes, scales = _algorithm_1(x2, n_levels, axis, scaling == "power_of_two", None, dtype)
        if scaling == "least_squares":
            scales = _least_squares_scales(x2.astype(np.float64), planes, axis)
    scales = np.ascontiguousarray(scales, dtype=np.float64).reshape(n_levels, -1)  # (L, groups)
    return x2, planes, (scales[:, 0] if axis is None else scales), axis


def multilevel_binarize(x, n_levels=3, scaling="greedy", axis=None, scales=None, *, dtype=np.float64):
    """Multi-level binarization of a 1-D or 2-D array (MuBiNN Algorithm 1).

    Parameters
    ----------
    x : ndarray of shape (n,) or (n_rows, n_cols)
        Finite real values (weights or activations). A 1-D array is one row.
    n_levels : int, default=3
        Number of binary levels ``L >= 1``.
    scaling : {"greedy", "power_of_two", "least_squares"}, default="greedy"
        How the per-level scales are chosen (see the module docstring):
        ``mean |residual|``, the same rounded to the nearest power of two
        (MuBiNN1), or refitted jointly by least squares.
    axis : {None, 0, 1}, default=None
        Scale groups: None one set of scales for the whole tensor; 1 one set
        per row; 0 one set per column (the mean is taken over ``axis``, as in
        numpy reductions). Rows are always the packed vectors.
    scales : ndarray of shape (n_levels,), (n_levels, n_rows) or (n_levels, n_cols), optional
        Given scaling factors (Algorithm 1's inputs ``alpha_1..alpha_L``, e.g.
        obtained offline on training data), one set per tensor / row / column as
        ``axis`` says; then only the sign planes are computed and ``scaling`` is
        not used.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Precision of the residuals ``r`` (and of given scales, rounded to it).
        ``numpy.float32`` reproduces the sign planes of a network trained in
        float32 (torch) bit for bit.

    Returns
    -------
    MultiLevelCode
        Packed planes (L, n_rows, n_words) and scales.

    Raises
    ------
    TypeError, ValueError
        Non-array, non-real or non-finite ``x``, ``n_levels < 1``, unknown
        ``scaling``, ``axis`` not in {None, 0, 1}.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize import multilevel_binarize, reconstruct
    >>> x = np.array([1.5, -0.5, 0.25, -1.25])
    >>> code = multilevel_binarize(x, n_levels=2)
    >>> code.planes.shape, code.scales
    ((2, 1, 1), array([0.875, 0.5  ]))
    >>> reconstruct(code)
    array([ 1.375, -0.375,  0.375, -1.375])
    >>> multilevel_binarize(x, n_levels=2, scaling="power_of_two").scales
    array([1. , 0.5])

    References
    ----------
    MuBiNN, Algorithm 1; Section IV-B (power-of-two scales).
    """
    x2, planes, scales, axis = _binarize(x, n_levels, scaling, axis, scales, dtype)
    n_rows, n_cols = x2.shape
    packed = _pack_rows(planes.reshape(-1, n_cols)).reshape(len(planes), n_rows, n_words_for(n_cols))
    return MultiLevelCode(planes=packed, scales=scales, n_bits=int(n_cols),
                          shape=tuple(int(s) for s in x.shape), axis=axis)


def mlb_approximation(x, n_levels=3, scaling="greedy", axis=None, scales=None, *, dtype=np.float64):
    """``sum_i alpha_i b_i`` of Algorithm 1 applied to ``x``, without packing.

    The same planes and scales as :func:`multilevel_binarize` (same parameters),
    summed as :func:`reconstruct` sums them: equal to
    ``reconstruct(multilevel_binarize(x, ...))`` bit for bit, for the element-wise
    uses of Algorithm 1 (the gates and states of a MuBiNN2 LSTM cell).

    Returns
    -------
    ndarray of float64, shape ``x.shape``
        What :func:`reconstruct` returns for the code of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize.mlb import mlb_approximation
    >>> mlb_approximation(np.array([1.5, -0.5, 0.25, -1.25]), n_levels=2)
    array([ 1.375, -0.375,  0.375, -1.375])

    References
    ----------
    MuBiNN, Algorithm 1.
    """
    _, planes, scales, axis = _binarize(x, n_levels, scaling, axis, scales, dtype)
    return _sum_levels(planes, scales, axis).reshape(x.shape)


def _pack_rows(bits):
    """Pack a 2-D bool array into uint64 words, LSB first, zero padding.

    Same result as :func:`eegbin.kernels.pack_bits` (tested), through
    ``np.packbits`` (little bit order) and a little-endian uint64 view: no
    thread start-up, which dominates for the small per-time-step vectors of an
    LSTM.
    """
    n, m = bits.shape
    n_words = n_words_for(m)
    packed = np.zeros((n, n_words * 8), dtype=np.uint8)
    packed[:, : (m + 7) // 8] = np.packbits(bits, axis=1, bitorder="little")
    return packed.view("<u8").astype(np.uint64, copy=False)


def _unpack_rows(words, n_bits):
    """Inverse of :func:`_pack_rows`: bool array (n_rows, n_bits)."""
    u8 = np.ascontiguousarray(words).astype("<u8", copy=False).view(np.uint8)
    return np.unpackbits(u8, axis=1, count=n_bits, bitorder="little").astype(bool)


def _check_code(code, name="code"):
    if not isinstance(code, MultiLevelCode):
        raise TypeError(f"{name} must be a MultiLevelCode (from multilevel_binarize), got {type(code).__name__}")
    return code


def reconstruct(code):
    """Real values ``sum_i alpha_i * b_i`` of a multi-level code.

    Parameters
    ----------
    code : MultiLevelCode

    Returns
    -------
    ndarray of float64, shape ``code.shape``
        ``sum_i alpha_i * b_i`` for every value, ``b_i`` in {-1, +1}.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize import multilevel_binarize, reconstruct
    >>> reconstruct(multilevel_binarize(np.array([[2.0, -2.0]]), n_levels=1))
    array([[ 2., -2.]])

    References
    ----------
    MuBiNN, Algorithm 1.
    """
    _check_code(code)
    planes = np.stack([_unpack_rows(p, code.n_bits) for p in code.planes])
    return _sum_levels(planes, code.scales, code.axis).reshape(code.shape)


def mlb_matmul(a, b, *, n_jobs=None):
    """``reconstruct(a) @ reconstruct(b).T`` through XNOR-popcount (eq. 9).

    Both operands are sets of row vectors of the same length, encoded with
    per-tensor (``axis=None``) or per-row (``axis=1``) scales; the product is
    ``sum_ij alpha_i beta_j (n - 2 popcount(a_i XOR b_j))``, computed by
    :func:`eegbin.kernels.multilevel_matmul` without unpacking.

    Parameters
    ----------
    a : MultiLevelCode of an (n, d) array (or a 1-D array of length d)
    b : MultiLevelCode of an (m, d) array (or a 1-D array of length d)
    n_jobs : int or None, default=None
        Threads of the kernel (None: 1, -1: all).

    Returns
    -------
    ndarray of float64, shape (n, m)
        Equal, to float rounding, to the product of the reconstructions.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize import multilevel_binarize, mlb_matmul
    >>> X = np.array([[1.0, -0.5], [0.25, 2.0]]); W = np.array([[0.5, 0.5]])
    >>> mlb_matmul(multilevel_binarize(X, 3, axis=1), multilevel_binarize(W, 1))
    array([[0.25 ],
           [1.125]])

    References
    ----------
    MuBiNN, eq. (9).
    """
    _check_code(a, "a")
    _check_code(b, "b")
    if a.n_bits != b.n_bits:
        raise ValueError(
            f"a and b must encode vectors of the same length, got a with {a.n_bits} and b with "
            f"{b.n_bits} values per row"
        )
    return multilevel_matmul(a.planes, a.row_scales(), b.planes, b.row_scales(), a.n_bits, n_jobs=n_jobs)


def mlb_dot(a, b):
    """Dot product of two multi-level encoded vectors through XNOR-popcount (eq. 9).

    Parameters
    ----------
    a, b : MultiLevelCode
        Encodings of 1-D arrays (or single rows) of the same length.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize import multilevel_binarize, mlb_dot
    >>> mlb_dot(multilevel_binarize(np.array([1.5, -0.5, 0.25, -1.25]), 2),
    ...         multilevel_binarize(np.array([2.0, 2.0, 2.0, 2.0]), 1))
    0.0

    References
    ----------
    MuBiNN, eq. (9).
    """
    for name, c in (("a", a), ("b", b)):
        _check_code(c, name)
        if c.n_rows != 1:
            raise ValueError(f"{name} must encode a single vector, got shape {c.shape}; use mlb_matmul")
    return float(mlb_matmul(a, b)[0, 0])


# ---------------------------------------------------------------------------
# estimator shell
# ---------------------------------------------------------------------------


@fill_doc
class MultiLevelBinarizer(BinarizerOutputMixin, TransformerMixin, BaseEstimator):
    """Multi-level binarization of feature matrices (MuBiNN Algorithm 1).

    ``transform`` encodes ``X`` into ``n_levels`` sign planes ``b_i`` and scales
    ``alpha_i`` (Algorithm 1) and returns, as ``output`` asks, the reconstruction
    ``sum_i alpha_i b_i`` (one value per feature, the default, so that the
    binarizer sits anywhere in a Pipeline), the planes (level-major columns,
    bipolar, binary or packed), or the typed :class:`MultiLevelCode` of the
    XNOR-popcount products (:func:`mlb_matmul`). By default the scales are
    fitted on the training data and given to Algorithm 1 for every later
    ``transform`` (the paper's static scales), so each sample is encoded on its
    own; with ``fit_scales=False`` they are computed from the data being encoded
    (per tensor, per sample with ``axis=1``, or per feature with ``axis=0``).

    Parameters
    ----------
    n_levels : int, default=3
        Number of binary levels.
    scaling : {"greedy", "power_of_two", "least_squares"}, default="greedy"
        Scale rule (see :func:`multilevel_binarize`).
    axis : {None, 0, 1}, default=None
        None: per tensor; 1: per sample (row, needs ``fit_scales=False``); 0:
        per feature (column).
    fit_scales : bool, default=True
        If True, ``fit`` computes the scales on the training data (per tensor
        or per feature) and ``transform`` uses them as Algorithm 1's given
        scaling factors. If False, every call computes the scales of the data it
        encodes (with ``axis=None`` or ``0`` a sample's code then depends on
        the batch it comes with).
    output : {"scaled", "bipolar", "binary", "packed", "code"}, default="scaled"
        ``"scaled"``: float64 ``sum_i alpha_i b_i``, shape (n_samples,
        n_features). ``"bipolar"`` (int8 -1/+1) or ``"binary"`` (bool): the
        planes, shape (n_samples, n_levels * n_features), level major.
        ``"packed"``: those planes packed, (n_samples, ceil(n_levels *
        n_features / 64)) uint64. ``"code"``: a :class:`MultiLevelCode`
        (not an array: last step of a Pipeline, or the XNOR-popcount path).

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    scales_ : ndarray of shape (n_levels,) or (n_levels, n_features)
        Fitted scales (only with ``fit_scales=True``).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import MultiLevelBinarizer
    >>> X = np.array([[1.5, -0.5, 0.25, -1.25]])
    >>> mlb = MultiLevelBinarizer(n_levels=2, scaling="power_of_two").fit(X)
    >>> mlb.scales_
    array([1. , 0.5])
    >>> mlb.transform(X)
    array([[ 1.5, -0.5,  0.5, -1.5]])
    >>> mlb.set_params(output="bipolar").transform(X)
    array([[ 1, -1,  1, -1,  1,  1, -1, -1]], dtype=int8)
    >>> code = mlb.set_params(output="code").transform(X)
    >>> code.planes.shape, code.scales
    ((2, 1, 1), array([1. , 0.5]))

    References
    ----------
    MuBiNN, Algorithm 1, eq. (9), Section IV-B.
    """

    _parameter_constraints = {
        "n_levels": [Interval(numbers.Integral, 1, None, closed="left")],
        "scaling": [StrOptions(set(_SCALINGS))],
        "axis": [None, Interval(numbers.Integral, 0, 1, closed="both")],
        "fit_scales": ["boolean"],
        "output": [StrOptions({"scaled", "bipolar", "binary", "packed", "code"})],
    }

    def __init__(self, n_levels=3, scaling="greedy", axis=None, fit_scales=True, output="scaled"):
        self.n_levels = n_levels
        self.scaling = scaling
        self.axis = axis
        self.fit_scales = fit_scales
        self.output = output

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the number of features and, with ``fit_scales=True``, the scales.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real training values (finite); they fix the scales with ``fit_scales=True``.
        %(y_ignored)s

        %(returns_self)s
        """
        X = validate_data(self, refuse_strings(X), dtype=np.float64)
        if self.fit_scales:
            if self.axis == 1:
                raise ValueError(
                    "fit_scales=True needs axis=None (per tensor) or axis=0 (per feature); per-sample "
                    "scales (axis=1) cannot be fitted: set fit_scales=False"
                )
            self.scales_ = multilevel_binarize(X, self.n_levels, self.scaling, self.axis).scales
        return self

    def transform(self, X):
        """Encode ``X`` (Algorithm 1) and return it as ``output`` asks.

        %(params_X)s

        Returns
        -------
        codes : ndarray or MultiLevelCode
            See ``output``.
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=np.float64, reset=False)
        scales = self.scales_ if self.fit_scales else None
        code = multilevel_binarize(X, self.n_levels, self.scaling, self.axis, scales=scales)
        if self.output == "code":
            # scikit-learn 1.6 and 1.7 swallow get_feature_names_out's error and hand the
            # code to pandas, whose message says nothing of why: say it here
            if getattr(self, "_sklearn_output_config", {}).get("transform", "default") != "default":
                self.get_feature_names_out()  # raises: a code has no columns
            return code
        if self.output == "scaled":
            return reconstruct(code)
        bits = np.concatenate([_unpack_rows(p, code.n_bits) for p in code.planes], axis=1)
        return signs_as(bits, self.output)

    def inverse_transform(self, X):
        """Real values ``sum_i alpha_i b_i`` of what ``transform`` returned.

        Parameters
        ----------
        X : MultiLevelCode or ndarray
            A code, the reconstruction (``"scaled"``, returned as is), or the
            planes (``"bipolar"``, ``"binary"``, ``"packed"``; the scales come
            from ``scales_``, so ``fit_scales=True`` is needed).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        n = self.n_features_in_
        if isinstance(X, MultiLevelCode):
            if X.n_bits != n:
                raise ValueError(
                    f"X encodes {X.n_bits} features, but MultiLevelBinarizer is expecting {n} features as input"
                )
            return reconstruct(X)
        if self.output == "code":
            _check_code(X, "X")
        if self.output == "scaled":
            return check_real_array(X, "X", ndim=2).astype(np.float64)
        if not self.fit_scales:
            raise ValueError(
                f"inverse_transform of output={self.output!r} planes needs the scales: fit with "
                "fit_scales=True, or use output='code' (which carries them)"
            )
        n_bits = self.n_levels * n
        width = n_words_for(n_bits) if self.output == "packed" else n_bits
        X = np.asarray(refuse_strings(X))
        if self.output == "packed":
            X = check_packed(X, "X")
        elif X.dtype.kind not in "biuf":
            raise TypeError(f"X must hold {self.output} planes (bool or numbers), got dtype {X.dtype}")
        if X.ndim != 2 or X.shape[1] != width:
            raise ValueError(
                f"X must have {width} columns (n_levels={self.n_levels} planes of output={self.output!r}), "
                f"got shape {X.shape}"
            )
        if self.output == "packed":
            sign = unpack_bits(X, n_bits)
        else:
            sign = X > 0 if self.output == "binary" else X >= 0
        planes = np.where(sign, 1.0, -1.0).reshape(X.shape[0], self.n_levels, n).transpose(1, 0, 2)
        return sum(np.asarray(s, dtype=np.float64) * p for s, p in zip(self.scales_, planes))

    def _n_levels_out(self):
        return 1 if self.output == "scaled" else self.n_levels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = ["float64"] if self.output == "scaled" else []
        return tags

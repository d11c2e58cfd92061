"""Signed fixed-point quantization with saturation (Feng et al., Section V-A).

A signed ``bits``-bit fixed-point number with ``frac_bits`` fractional bits is
an integer ``q`` in ``[-2**(bits-1), 2**(bits-1) - 1]`` standing for the real
``q * 2**-frac_bits``. Quantization rounds to the nearest step (ties to even,
:func:`numpy.rint`) and saturates (clips) values outside the representable
range; so inside the range ``|x - q(x)| <= 2**-(frac_bits + 1)``.

Feng et al. store kernels in 8 bits and intermediate feature maps in 16 bits;
:class:`FixedPointQuantizer` picks ``frac_bits`` from the training data so the
largest magnitude fits ("auto"), or uses a given value.

References
----------
.. [1] W. Feng et al., "An Efficient EEGNet Processor Design for Portable EEG-Based
   BCIs", Section V-A (fixed-point bit-widths: 8-bit kernels, 16-bit intermediates).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import Float64OutputMixin
from ..docstrings import fill_doc
from ..footprint import Footprint
from ..kernels.checks import check_int, check_real, check_real_array, check_real_dtype, refuse_strings

__all__ = [
    "FixedPointQuantizer",
    "to_fixed_point",
    "from_fixed_point",
    "fixed_point_range",
    "auto_frac_bits",
]

_MAX_BITS = 64


def _check_bits(bits, name="bits"):
    return check_int(bits, name, 2, _MAX_BITS)


def _check_frac_bits(frac_bits, name="frac_bits"):
    return check_int(frac_bits, name, -1023, 1023)


def _int_dtype(bits):
    for dt in (np.int8, np.int16, np.int32, np.int64):
        if bits <= np.iinfo(dt).bits:
            return dt
    raise AssertionError("unreachable")  # pragma: no cover


def fixed_point_range(bits, frac_bits):
    """Smallest and largest representable real value.

    Parameters
    ----------
    bits : int
        Total word length, sign bit included (two's complement), 2 to 64.
    frac_bits : int
        Number of fractional bits (may exceed ``bits`` or be negative).

    Returns
    -------
    lo, hi : float
        ``-2**(bits-1) * 2**-frac_bits`` and ``(2**(bits-1) - 1) * 2**-frac_bits``.

    Examples
    --------
    >>> fixed_point_range(8, 4)
    (-8.0, 7.9375)

    References
    ----------
    Feng et al., Section V-A (signed fixed-point arithmetic).
    """
    bits = _check_bits(bits)
    frac_bits = _check_frac_bits(frac_bits)
    step = 2.0 ** -frac_bits
    return -(2.0 ** (bits - 1)) * step, (2.0 ** (bits - 1) - 1) * step


def to_fixed_point(x, bits=8, frac_bits=4):
    """Quantize reals to signed fixed-point integers with saturation.

    ``q = clip(rint(x * 2**frac_bits), -2**(bits-1), 2**(bits-1) - 1)``.

    Parameters
    ----------
    x : array_like of float
        Finite real values, any shape.
    bits : int, default=8
        Word length including the sign bit, 2 to 64.
    frac_bits : int, default=4
        Fractional bits: the step is ``2**-frac_bits``.

    Returns
    -------
    q : ndarray of int8, int16, int32 or int64
        The smallest signed integer dtype holding ``bits`` bits, same shape as ``x``.

    Raises
    ------
    ValueError
        If ``x`` holds NaN/Inf, or ``bits``/``frac_bits`` are out of range.

    Examples
    --------
    >>> to_fixed_point([0.3, -1.0, 100.0, -100.0], bits=8, frac_bits=4)
    array([   5,  -16,  127, -128], dtype=int8)

    References
    ----------
    Feng et al., Section V-A.
    """
    bits = _check_bits(bits)
    frac_bits = _check_frac_bits(frac_bits)
    x = check_real_array(x, "x").astype(np.float64, copy=False)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    scaled = np.rint(np.ldexp(x, frac_bits))
    # clip in float first (exact for |v| <= 2**53), then the int64 corner cases
    q = np.clip(scaled, float(lo), float(hi))
    if bits == 64:
        out = np.empty(q.shape, dtype=np.int64)
        big = q >= 2.0 ** 63
        out[~big] = q[~big].astype(np.int64)
        out[big] = hi
        return out
    return q.astype(_int_dtype(bits))


def from_fixed_point(q, frac_bits=4):
    """Real values of fixed-point integers: ``q * 2**-frac_bits``.

    Parameters
    ----------
    q : array_like of int
        Fixed-point integers (any integer dtype).
    frac_bits : int, default=4
        Fractional bits of the integers.

    Returns
    -------
    x : ndarray of float64

    Examples
    --------
    >>> from_fixed_point([5, -16, 127], frac_bits=4)
    array([ 0.3125, -1.    ,  7.9375])

    References
    ----------
    Feng et al., Section V-A.
    """
    frac_bits = _check_frac_bits(frac_bits)
    q = np.asarray(q)
    if q.dtype.kind not in "iub":
        check_real_dtype(q, "q")  # complex values: the ValueError of the rule
        raise TypeError(f"q must be an integer array, got dtype {q.dtype}")
    return np.ldexp(q.astype(np.float64), -frac_bits)


def auto_frac_bits(max_abs, bits):
    """Largest ``frac_bits`` whose range holds ``[-max_abs, max_abs]`` without saturation.

    Parameters
    ----------
    max_abs : float
        Largest magnitude to represent (finite, >= 0).
    bits : int
        Word length including the sign bit.

    Returns
    -------
    frac_bits : int
        ``floor(log2((2**(bits-1) - 1) / max_abs))``; ``bits - 1`` if ``max_abs == 0``.

    Examples
    --------
    >>> auto_frac_bits(1.0, 8)     # 127 / 2**6 = 1.98 >= 1 > 127 / 2**7
    6
    >>> auto_frac_bits(200.0, 8)   # step 2: 254 >= 200
    -1

    References
    ----------
    Feng et al., Section V-A (integer bits extended by accumulation).
    """
    bits = _check_bits(bits)
    max_abs = check_real(max_abs, "max_abs", 0)
    if max_abs == 0:
        return bits - 1
    top = 2.0 ** (bits - 1) - 1
    f = int(np.floor(np.log2(top / max_abs)))
    # guard float rounding of log2 at exact powers of two
    while top * 2.0 ** -f < max_abs:
        f -= 1
    while top * 2.0 ** -(f + 1) >= max_abs:
        f += 1
    return f


@fill_doc
class FixedPointQuantizer(Float64OutputMixin, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Signed fixed-point quantization with saturation, for weights or activations.

    ``transform`` returns the dequantized values ``q(x) * 2**-frac_bits`` (a
    "fake-quantized" float array usable downstream in any estimator);
    :meth:`quantize` returns the fixed-point integers.

    Parameters
    ----------
    bits : int, default=8
        Word length including the sign bit (8 for Feng's kernels, 16 for their
        intermediate feature maps). At least 2.
    frac_bits : int or "auto", default="auto"
        Fractional bits. "auto" picks, at fit time, the largest value for which the
        largest absolute training value is representable (:func:`auto_frac_bits`).

    Attributes
    ----------
    frac_bits_ : int
        Fractional bits used.
    range_ : tuple of float
        ``(lo, hi)`` representable range; values outside saturate.
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import FixedPointQuantizer
    >>> X = np.array([[0.5, -1.2], [0.25, 0.9]])
    >>> fq = FixedPointQuantizer(bits=8).fit(X)
    >>> fq.frac_bits_
    6
    >>> fq.transform([[0.51, 3.0]])     # step 1/64; 3.0 saturates at 127/64
    array([[0.515625, 1.984375]])

    References
    ----------
    W. Feng et al., "An Efficient EEGNet Processor Design for Portable EEG-Based
    BCIs", Section V-A: 8-bit kernels, 16-bit intermediate feature maps.
    """

    _parameter_constraints = {
        "bits": [Interval(numbers.Integral, 2, _MAX_BITS, closed="both")],
        "frac_bits": [StrOptions({"auto"}), Interval(numbers.Integral, -1023, 1023, closed="both")],
    }

    def __init__(self, bits=8, frac_bits="auto"):
        self.bits = bits
        self.frac_bits = frac_bits

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Choose ``frac_bits_`` (if "auto") from the training values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training values (weights or activations); must be finite.
        %(y_ignored)s

        %(returns_self)s
        """
        X = validate_data(self, refuse_strings(X), dtype=np.float64)
        if self.frac_bits == "auto":
            self.frac_bits_ = auto_frac_bits(np.max(np.abs(X)) if X.size else 0.0, self.bits)
        else:
            self.frac_bits_ = int(self.frac_bits)
        self.range_ = fixed_point_range(self.bits, self.frac_bits_)
        return self

    def quantize(self, X):
        """Fixed-point integers of ``X`` (saturated).

        %(params_X)s

        Returns
        -------
        Q : ndarray of signed int, shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=np.float64, reset=False)
        return to_fixed_point(X, self.bits, self.frac_bits_)

    def transform(self, X):
        """Dequantized values ``q(X) * 2**-frac_bits_``.

        %(params_X)s

        Returns
        -------
        Xq : ndarray of float64, shape (n_samples, n_features)
        """
        return from_fixed_point(self.quantize(X), self.frac_bits_)

    def footprint(self, float_bits=32):
        """Stored state: the fractional-bit count (one small integer).

        The quantizer holds no model; each value it emits is stored in
        ``bits`` bits (see ``note``).

        Parameters
        ----------
        float_bits : int, default=32
            Unused (no real-valued parameters).

        Returns
        -------
        Footprint
        """
        check_is_fitted(self)
        return Footprint(
            "FixedPointQuantizer",
            n_params=1,
            bits_per_param=8,
            note=f"{self.bits}-bit values, {self.frac_bits_} fractional bits",
        )

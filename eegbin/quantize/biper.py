"""BiPer: binarization with a binary periodic (square-wave) function.

Weights are binarized as ``w_q = Sign(sin(omega0 w))`` (eq. 8) instead of
``Sign(w)``; the sine ``w_hat = sin(omega0 w)`` (eq. 10) is the differentiable
surrogate of training stage 1. For latent weights ``W ~ Laplace(0, b)`` the
optimal scale ``gamma = E|sin(omega0 W)|`` (eq. 18) and the quantization error
``QE = E(sin(omega0 W) - gamma Sign(sin(omega0 W)))**2`` (eqs. 15-17) depend on
``b`` and ``omega0`` only through ``a = b * omega0``:

    gamma(a) = a coth(pi / (2a)) / (a**2 + 1)
    QE(a)    = 2 a**2 / (4 a**2 + 1) - 2 gamma gamma(a) + gamma**2

(``coth(pi/2a) = (e^{pi/a} + 1) / (e^{pi/a} - 1)``, the form printed in the
paper). With the optimal gamma, QE peaks at 0.102835 for ``a ~ 0.954882`` and
tends to ``0.5 - 4 / pi**2`` as ``omega0 -> inf``.

Convention: ``Sign(0) = +1`` (the Heaviside rule of DESIGN.md, bipolar +1 <->
bit 1), so ``square_wave(0, omega) == 1``.

References
----------
.. [1] E. Vargas, C. Correa, C. Hinojosa, H. Arguello, "BiPer: Binary Neural
   Networks using a Periodic Function", CVPR 2024, eqs. (8), (10), (13)-(18), Fig. 3.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import BinarizerOutputMixin, signs_as
from ..docstrings import fill_doc
from ..footprint import Footprint
from ..kernels.checks import check_real_array, refuse_strings

__all__ = [
    "square_wave",
    "biper_scale",
    "biper_quantization_error",
    "biper_pdf",
    "PeriodicBinarizer",
]

#: argmax and max of the QE with optimal gamma (BiPer, Section 4.1)
QE_ARGMAX_A = 0.954882
QE_MAX = 0.102835


def _check_positive(value, name):
    arr = check_real_array(value, name).astype(np.float64)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return arr


def _check_finite(w, name):
    return check_real_array(w, name).astype(np.float64, copy=False)


def square_wave(w, omega):
    """Binary periodic function ``Sign(sin(omega * w))`` with ``Sign(0) = +1`` (eq. 8).

    Parameters
    ----------
    w : array_like of float
        Latent (real) weights, any shape; finite.
    omega : float
        Angular frequency ``omega0 = 2 pi / T`` (> 0).

    Returns
    -------
    w_q : ndarray of float64 in {-1, +1}, same shape as ``w``.

    Examples
    --------
    >>> import numpy as np
    >>> square_wave([0.0, 0.5, 2.0, -0.5, 4.0], omega=1.0)
    array([ 1.,  1.,  1., -1., -1.])

    References
    ----------
    BiPer, eq. (8).
    """
    w = _check_finite(w, "w")
    omega = float(_check_positive(omega, "omega"))
    return np.where(np.sin(omega * w) >= 0, 1.0, -1.0)


def biper_scale(b, omega):
    """Optimal scale ``gamma = E|sin(omega W)|`` for ``W ~ Laplace(0, b)`` (eq. 18).

    ``gamma = a (e^{pi/a} + 1) / ((a**2 + 1)(e^{pi/a} - 1)) = a coth(pi/(2a)) / (a**2 + 1)``
    with ``a = b * omega``.

    Parameters
    ----------
    b : float or array_like
        Laplace scale (> 0).
    omega : float or array_like
        Angular frequency (> 0); broadcast with ``b``.

    Returns
    -------
    gamma : float or ndarray
        Tends to ``2/pi`` as ``a -> inf`` and to 0 as ``a -> 0``.

    Examples
    --------
    >>> round(float(biper_scale(1.0, 1.0)), 6)
    0.545166

    References
    ----------
    BiPer, eq. (18).
    """
    a = _check_positive(b, "b") * _check_positive(omega, "omega")
    gamma = a / np.tanh(np.pi / (2 * a)) / (a * a + 1)
    return gamma if gamma.ndim else float(gamma)


def biper_quantization_error(b, omega, gamma=None):
    """Quantization error of eq. (17): ``E(sin(omega W) - gamma Sign(sin(omega W)))**2``.

    Parameters
    ----------
    b : float or array_like
        Laplace scale of the latent weights (> 0).
    omega : float or array_like
        Angular frequency (> 0).
    gamma : float or array_like, optional
        Scale of the binary weights; default the optimal one of eq. (18), giving
        ``QE = 2 a**2 / (4 a**2 + 1) - gamma(a)**2``.

    Returns
    -------
    qe : float or ndarray

    Examples
    --------
    >>> round(biper_quantization_error(0.954882, 1.0), 6)   # the maximum, Section 4.1
    0.102835
    >>> round(biper_quantization_error(1.0, 1e6), 6)        # 0.5 - 4 / pi**2
    0.094715

    References
    ----------
    BiPer, eqs. (15)-(18) and Fig. 3.
    """
    a = _check_positive(b, "b") * _check_positive(omega, "omega")
    g_opt = np.asarray(biper_scale(b, omega))
    if gamma is None:
        g = g_opt
    else:
        g = _check_finite(gamma, "gamma")
    qe = 2 * a * a / (4 * a * a + 1) - 2 * g * g_opt + g * g
    return qe if qe.ndim else float(qe)


def biper_pdf(w_hat, b, omega):
    """Density of ``w_hat = sin(omega W)`` for ``W ~ Laplace(0, b)`` (eq. 14, corrected).

    With ``a = b * omega`` and ``theta = arcsin(w_hat)``::

        f(w_hat) = 1 / (2 a sqrt(1 - w_hat**2))
                   * (exp(-|theta| / a) + 2 cosh(theta / a) / (e^{pi/a} - 1))

    Summing eq. (13) over ``k != 0`` gives ``2 cosh(theta/a) / (e^{pi/a} - 1)``: the
    printed eq. (14) lacks the factor 2 and integrates to ``1 - e^{-pi/(2a)} / 2``;
    this version integrates to 1 (tested, and checked against Monte-Carlo).

    Parameters
    ----------
    w_hat : array_like of float
        Points in the open interval (-1, 1); the density is 0 outside [-1, 1] and
        infinite (integrably) at +-1.
    b, omega : float
        Laplace scale and angular frequency (> 0).

    Returns
    -------
    density : ndarray of float64, same shape as ``w_hat``.

    Examples
    --------
    >>> round(float(biper_pdf(0.0, 1.0, 1.0)), 6)
    0.545166

    References
    ----------
    BiPer, eqs. (11)-(14), Fig. 2.
    """
    w_hat = _check_finite(w_hat, "w_hat")
    a = float(_check_positive(b, "b") * _check_positive(omega, "omega"))
    inside = np.abs(w_hat) < 1
    x = np.where(inside, w_hat, 0.0)
    theta = np.arcsin(x)
    # cosh(theta/a)/(e^{pi/a}-1) written with exponentials that cannot overflow
    # (|theta| <= pi/2 < pi): e^{(|theta|-pi)/a} + e^{(-|theta|-pi)/a}, / (1 - e^{-pi/a})
    t = np.abs(theta)
    periodic = (np.exp((t - np.pi) / a) + np.exp((-t - np.pi) / a)) / (-np.expm1(-np.pi / a))
    dens = (np.exp(-t / a) + periodic) / (2 * a * np.sqrt(1 - x * x))
    dens = np.where(inside, dens, np.where(np.abs(w_hat) == 1, np.inf, 0.0))
    return dens if dens.ndim else float(dens)


@fill_doc
class PeriodicBinarizer(BinarizerOutputMixin, TransformerMixin, BaseEstimator):
    """Binarize weight arrays with a square wave and a scale: ``gamma * Sign(sin(omega W))``.

    ``fit`` estimates the Laplace scale of the (latent) weights by maximum
    likelihood, ``b = mean |W|``, and sets the scale; ``transform`` returns
    ``scale_ * square_wave(W, omega)``, the binary weights approximating the
    stage-1 weights ``sin(omega W)`` of BiPer (or, with ``output``, their signs
    alone).

    Parameters
    ----------
    omega : float, default=1.0
        Angular frequency ``omega0`` (> 0). BiPer uses ``omega0 = 20`` on CIFAR-10.
    scale : {"optimal", "empirical"} or float, default="optimal"
        "optimal": gamma of eq. (18) at the fitted ``b`` (Laplace assumption);
        "empirical": ``mean |sin(omega W)|`` over the fitted weights (the
        minimizer of eq. (15) for their actual distribution); a float > 0: that value.
    output : {"scaled", "bipolar", "binary", "packed"}, default="scaled"
        ``"scaled"``: float64 ``+-scale_``, one value per input value;
        ``"bipolar"``: the signs as int8 -1/+1; ``"binary"``: bool;
        ``"packed"``: uint64 words (for eegbin's Hamming-space steps).

    Attributes
    ----------
    b_ : float
        Laplace scale estimate ``mean |W|``.
    scale_ : float
        Scale gamma of the binary weights.
    quantization_error_ : float
        ``mean (sin(omega W) - scale_ Sign(sin(omega W)))**2`` on the fitted weights.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import PeriodicBinarizer
    >>> W = np.random.RandomState(0).laplace(0, 1.0, size=(2000, 4))
    >>> pb = PeriodicBinarizer(omega=1.0).fit(W)
    >>> round(pb.scale_, 2)      # eq. (18) at b ~ 1
    0.55
    >>> np.unique(pb.transform(W[:3])).size
    2
    >>> pb.set_params(output="bipolar").transform(W[1:3])
    array([[-1,  1, -1,  1],
           [ 1, -1,  1,  1]], dtype=int8)

    References
    ----------
    Vargas et al., "BiPer: Binary Neural Networks using a Periodic Function",
    CVPR 2024, eqs. (8), (15) and (18).
    """

    _parameter_constraints = {
        "omega": [Interval(numbers.Real, 0, None, closed="neither")],
        "scale": [StrOptions({"optimal", "empirical"}), Interval(numbers.Real, 0, None, closed="neither")],
        "output": [StrOptions({"scaled", "bipolar", "binary", "packed"})],
    }

    def __init__(self, omega=1.0, scale="optimal", output="scaled"):
        self.omega = omega
        self.scale = scale
        self.output = output

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Estimate ``b_`` and the scale from a weight array.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_cols)
            Latent real-valued weights (finite).
        %(y_ignored)s

        %(returns_self)s
        """
        X = validate_data(self, refuse_strings(X), dtype=np.float64)
        if not np.isfinite(self.omega):
            raise ValueError(f"omega must be finite, got {self.omega!r}")
        self.b_ = float(np.mean(np.abs(X)))
        s = np.sin(self.omega * X)
        if self.scale == "optimal":
            if self.b_ == 0:
                raise ValueError(
                    "scale='optimal' needs a Laplace scale b = mean|X| > 0, got an all-zero X"
                )
            self.scale_ = biper_scale(self.b_, self.omega)
        elif self.scale == "empirical":
            self.scale_ = float(np.mean(np.abs(s)))
        else:
            if not np.isfinite(self.scale):
                raise ValueError(f"scale must be finite, got {self.scale!r}")
            self.scale_ = float(self.scale)
        self.quantization_error_ = float(np.mean((s - self.scale_ * np.where(s >= 0, 1.0, -1.0)) ** 2))
        return self

    def transform(self, X):
        """Binary weights ``scale_ * Sign(sin(omega X))`` (or their signs, see ``output``).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_cols)

        Returns
        -------
        Xb : ndarray
            float64 in ``{-scale_, +scale_}`` (``"scaled"``), int8 -1/+1, bool,
            or uint64 words of shape (n_rows, ceil(n_cols / 64)) (``"packed"``).
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=np.float64, reset=False)
        signs = square_wave(X, self.omega)
        if self.output == "scaled":
            return self.scale_ * signs
        return signs_as(signs > 0, self.output)

    def footprint(self, float_bits=32):
        """A :class:`~eegbin.Footprint`: the scale gamma (one real of ``float_bits``); a binarized weight is 1 bit."""
        check_is_fitted(self)
        return Footprint("PeriodicBinarizer", n_params=1, bits_per_param=float_bits,
                         note="scale gamma; binarized weights are 1 bit each")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"] if self.output == "scaled" else []
        return tags

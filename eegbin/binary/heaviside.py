"""Heaviside binarization of real features around their training mean."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import BinarizerOutputMixin, signs_as
from ..docstrings import fill_doc
from ..footprint import Footprint
from ..kernels.checks import refuse_strings
from .projection import OUTPUTS

__all__ = ["HeavisideBinarizer"]


def heaviside_bits(X, thresholds):
    """Bits H(x - thresholds) (eq. 5, H(0) = 1): True where ``x >= thresholds``."""
    return X >= thresholds


@fill_doc
class HeavisideBinarizer(BinarizerOutputMixin, TransformerMixin, BaseEstimator):
    """Binarize real features: bit = H(x - t) with t the training mean (or median).

    Standardizing on training statistics and then applying the Heaviside step
    (eq. 5) equals thresholding each feature at its training mean: the scale
    does not change the sign. This is the feature binarization of the "SVM
    binarized" / "LDA binarized" baselines of Table I (no projection).

    Parameters
    ----------
    center : {"mean", "median", "zero"}, default="mean"
        Per-feature threshold fitted on the training data (``"zero"``: H(x)).
    output : {"bipolar", "binary", "packed"}, default="bipolar"
        int8 -1/+1 or bool, one column per feature; ``"packed"``: uint64 words
        (for eegbin's Hamming-space classifiers only).

    Attributes
    ----------
    thresholds_ : ndarray of shape (n_features,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import HeavisideBinarizer
    >>> X = np.array([[0.0, 5.0], [2.0, 1.0], [4.0, 3.0]])
    >>> HeavisideBinarizer().fit_transform(X)
    array([[-1,  1],
           [ 1, -1],
           [ 1,  1]], dtype=int8)

    References
    ----------
    M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for Motor-Imagery
    Brain-Computer Interface Classification", IEEE JETCAS 2020, eq. (5), Sec. V-A.
    """

    _parameter_constraints: dict = {
        "center": [StrOptions({"mean", "median", "zero"})],
        "output": [StrOptions(set(OUTPUTS))],
    }

    def __init__(self, center="mean", output="bipolar"):
        self.center = center
        self.output = output

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the per-feature thresholds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; their mean or median per feature is the threshold.
        %(y_ignored)s

        %(returns_self)s
        """
        X = validate_data(self, refuse_strings(X), dtype=[np.float64, np.float32])
        if self.center == "mean":
            self.thresholds_ = X.mean(axis=0)
        elif self.center == "median":
            self.thresholds_ = np.median(X, axis=0)
        else:
            self.thresholds_ = np.zeros(X.shape[1], dtype=X.dtype)
        return self

    def transform(self, X):
        """Binary codes `H(X - thresholds_)`.

        %(params_X)s

        Returns
        -------
        codes : ndarray
            (n_samples, n_features) int8 -1/+1 or bool, or uint64
            (n_samples, ceil(n_features / 64)) for ``"packed"``.
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=[np.float64, np.float32], reset=False)
        return signs_as(heaviside_bits(X, self.thresholds_), self.output)

    def footprint(self, float_bits=32):
        """Thresholds at ``float_bits`` (none for ``center="zero"``); one comparison per feature."""
        check_is_fitted(self)
        n = 0 if self.center == "zero" else self.n_features_in_
        return Footprint("HeavisideBinarizer", n_params=n, bits_per_param=float_bits,
                         note=f"{self.n_features_in_} comparisons per inference")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

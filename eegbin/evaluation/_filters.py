"""A causal Butterworth band-pass as a scikit-learn transformer (used by the baselines)."""

from __future__ import annotations

import numpy as np
from scipy.signal import sosfilt
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..features import design_filterbank
from ..footprint import Footprint
from ..kernels.checks import check_epochs


class _BandPass(TransformerMixin, BaseEstimator):
    """Causal Butterworth band-pass of epochs (n_trials, n_channels, n_times).

    The sections of :func:`eegbin.features.design_filterbank` (one band) applied
    with :func:`scipy.signal.sosfilt` (causal, as an embedded device would),
    ``order`` per edge.
    """

    def __init__(self, l_freq=8.0, h_freq=30.0, sfreq=250.0, order=4):
        self.l_freq = l_freq
        self.h_freq = h_freq
        self.sfreq = sfreq
        self.order = order

    def fit(self, X, y=None):
        X = check_epochs(X).astype(np.float64, copy=False)
        if not 0 < self.l_freq < self.h_freq < self.sfreq / 2:
            raise ValueError(
                f"need 0 < l_freq < h_freq < sfreq/2, got l_freq={self.l_freq}, "
                f"h_freq={self.h_freq}, sfreq={self.sfreq}"
            )
        self.sos_ = design_filterbank([(self.l_freq, self.h_freq)], self.sfreq, self.order)[0]
        self.n_channels_in_, self.n_times_in_ = X.shape[1:]
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = check_epochs(X, n_channels=self.n_channels_in_, estimator=type(self).__name__)
        X = X.astype(np.float64, copy=False)
        return sosfilt(self.sos_, X, axis=-1)

    def footprint(self, float_bits=32):
        check_is_fitted(self)
        n_coef = 5 * len(self.sos_)  # b0 b1 b2 a1 a2 per section (a0 = 1)
        return Footprint(
            "band-pass",
            n_params=n_coef,
            bits_per_param=float_bits,
            macs=n_coef * int(self.n_channels_in_) * int(self.n_times_in_),
            note=f"Butterworth {self.l_freq:g}-{self.h_freq:g} Hz, {len(self.sos_)} sections",
        )

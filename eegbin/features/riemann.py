"""FilterBankRiemann: multi-spectral Riemannian features (Hersche et al. 2020, III-A).

A thin scikit-learn shell over :mod:`eegbin.features._filterbank` (band-pass +
covariance, eq. 1) and :mod:`eegbin.features._riemann` (reference mean and
tangent-space map, eq. 3).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import EpochsInputMixin
from ..docstrings import fill_doc
from ..footprint import Footprint, check_convention
from ..kernels.checks import check_epochs, check_real
from ._filterbank import _check_bands, design_filterbank, filterbank_covariances, hersche_bands
from ._riemann import METRICS, _tangent_riemann_slots, invsqrtm, mean_covariance, mean_riemann, tangent_space

__all__ = ["FilterBankRiemann"]


def _resolve_windows(windows, sfreq, n_times):
    """Temporal windows as int64 ``(start, stop)`` sample pairs inside ``[0, n_times]``.

    ``windows`` is None (the whole epoch), or pairs of int samples or float
    seconds (rounded to samples at ``sfreq``).
    """
    if windows is None:
        return np.array([[0, n_times]], dtype=np.int64)
    wins = np.asarray(windows)
    if wins.ndim != 2 or wins.shape[1] != 2 or wins.dtype.kind not in "iuf" or len(wins) == 0:
        raise ValueError(
            f"windows must be a non-empty list of (start, stop) pairs (int samples or "
            f"float seconds), got {windows!r}"
        )
    if wins.dtype.kind == "f":
        if not np.isfinite(wins).all():
            raise ValueError(f"windows must be finite, got {windows!r}")
        wins = np.rint(wins * float(sfreq))
    wins = wins.astype(np.int64)
    for k, (start, stop) in enumerate(wins):
        if start < 0 or stop > n_times or stop <= start:
            raise ValueError(
                f"windows[{k}] = {tuple(np.asarray(windows)[k])} gives samples "
                f"[{start}, {stop}), expected 0 <= start < stop <= n_times = {n_times}"
            )
    return wins


def _check_window_lengths(windows, order, n_channels):
    """Each window needs 2 * order + 1 samples for the filter and n_channels + 1 for a
    covariance of full rank (eq. 1 divides by n_s - 1; fewer samples give a matrix of
    rank < n_channels that only the regularization keeps positive definite)."""
    need = max(2 * int(order) + 1, n_channels + 1)
    lengths = windows[:, 1] - windows[:, 0]
    if lengths.min() < need:
        k = int(np.argmin(lengths))
        raise ValueError(
            f"windows of at least {need} samples are needed (2 * order + 1 = {2 * int(order) + 1} "
            f"for the filter of order {order}, n_channels + 1 = {n_channels + 1} for the "
            f"{n_channels}-channel covariance); window {k} has {lengths[k]} samples"
        )


def _filterbank_riemann_footprint(n, n_bands, windows, n_sections, float_bits=32, convention="eegbin"):
    """Footprint of the filter-bank Riemannian features of ``n`` channels (see
    :meth:`FilterBankRiemann.footprint` for the two counting conventions).

    ``windows`` are the (start, stop) sample pairs, ``n_sections`` the biquads per band.
    """
    n_windows = len(windows)
    n_bw = n_bands * n_windows
    samples = int((windows[:, 1] - windows[:, 0]).sum())
    n_r = n * (n + 1) // 2
    evd = 26 * n**3 / 3  # Householder 8n^3/3 + QR 6n^3
    if convention == "hersche2020":
        sections, whiten_params, whiten_macs = 1, n_bw * n * n // 2, n_bw * 2 * n * n
        logm_macs = round(n_bw * evd)
        note = "counting conventions of Hersche et al. 2020, Table II"
    else:
        sections, whiten_params, whiten_macs = n_sections, n_bw * n_r, n_bw * 2 * n**3
        logm_macs = round(n_bw * (evd + n * n_r + n * (n - 1) // 2))
        note = "eegbin counting (see footprint docstring)"
    parts = (
        Footprint("Bandpass filter", n_params=n_bands * sections * 5, bits_per_param=float_bits,
                  macs=n_bands * sections * 5 * n * samples,
                  note=f"{sections} biquad(s) per band, 5 coefficients each"),
        Footprint("Covariance", macs=n_bands * n_r * samples, note="n(n+1)/2 MACs per sample"),
        Footprint("Whitening", n_params=whiten_params, bits_per_param=float_bits, macs=whiten_macs,
                  note="C_ref^{-1/2} per band and window"),
        Footprint("Matrix logarithm", macs=logm_macs,
                  note="EVD: Householder 8n^3/3 + QR 6n^3"),
    )
    return Footprint("FilterBankRiemann", parts=parts, note=note)


@fill_doc
class FilterBankRiemann(EpochsInputMixin, TransformerMixin, BaseEstimator):
    """Multi-spectral Riemannian tangent-space features of EEG epochs.

    Each epoch is band-pass filtered by a bank of causal Butterworth filters
    (second-order sections); per band and temporal window the regularized
    covariance ``C = (X X^T + reg I) / (n_s - 1)`` (eq. 1) is mapped to the tangent
    space at the reference ``C_ref`` learned in ``fit`` (the geometric mean of the
    training covariances of that band and window):
    ``vect(logm(C_ref^{-1/2} C C_ref^{-1/2}))`` with the l2-norm preserving
    half-vectorization (off-diagonal times sqrt(2)), eq. (3). For float64 input the
    features equal pyRiemann's ``Covariances`` + ``TangentSpace`` per band on the
    same ``scipy.signal.sosfilt``-filtered signals up to pyRiemann's own stopping
    error of the mean iteration (about 1e-9 relative; eegbin converges the mean
    10x tighter and reuses its last gradient evaluation as the tangent map).

    Trials are processed in parallel and only the covariance matrices are kept:
    no filtered copy of the input is ever materialized (peak extra memory is the
    covariances, about 1.1x a 22-channel 875-sample input, plus the output).

    Parameters
    ----------
    sfreq : float
        Sampling frequency of the epochs, in Hz.
    bands : "hersche2018" or list of (float, float), default="hersche2018"
        Frequency bands ``(low, high)`` in Hz. ``"hersche2018"`` is the 43-band
        bank of :func:`~eegbin.features.hersche_bands` (bandwidths 2-32 Hz within
        4-40 Hz).
    order : int, default=2
        Butterworth order passed to :func:`scipy.signal.butter` (a band-pass of
        order N has N second-order sections), as in the original Hersche code.
    windows : list of (start, stop) pairs, default=None
        Temporal windows for multiscale features (Hersche et al. 2018). Integer
        pairs are sample indices ``[start, stop)``; float pairs are seconds from
        the epoch start (rounded to the nearest sample). Each window is cut from
        the epoch and then filtered, as in the original code. None: one window,
        the whole epoch. Every window (the epoch when None) needs at least
        ``max(2 * order + 1, n_channels + 1)`` samples: the filter's length, and
        enough samples for a covariance of full rank (shorter windows are refused
        in ``fit``; ``transform`` takes trials of the fitted length).
    reg : float, default=0.1
        Regularization ``alpha`` of eq. (1); it keeps rank-deficient epochs
        positive definite.
    metric : {"riemann", "logeuclid", "euclid"}, default="riemann"
        Metric of the reference mean and of the tangent map ("riemann" is eq. 3;
        the others match pyRiemann's ``TangentSpace(metric=...)``).
    n_jobs : int, default=None
        Threads for the numba kernels (None: 1, -1: all cores), as in
        scikit-learn. Does not change the result.

    Attributes
    ----------
    bands_ : list of (float, float)
        Frequency bands used.
    windows_ : ndarray of shape (n_windows, 2)
        Sample windows ``[start, stop)`` used.
    sos_ : ndarray of shape (n_bands, order, 6)
        Second-order sections of each band.
    reference_ : ndarray of shape (n_bands, n_windows, n_channels, n_channels)
        Reference (mean) covariance ``C_ref`` of each band and window.
    whitening_ : ndarray of shape (n_bands, n_windows, n_channels, n_channels) or None
        ``C_ref^{-1/2}`` of each band and window (the stored "whitening" of
        Table II), None unless ``metric="riemann"``.
    n_features_in_ : int
        Number of channels seen in ``fit``.
    n_times_in_ : int
        Number of samples per epoch seen in ``fit`` (``transform`` needs the same).
    n_features_out_ : int
        ``n_bands * n_windows * n_channels (n_channels + 1) / 2``.

    See Also
    --------
    eegbin.features.tangent_space, eegbin.features.filterbank_covariances

    References
    ----------
    M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for Motor-Imagery
    Brain-Computer Interface Classification", IEEE JETCAS 2020, Section III-A,
    eq. (1)-(3), Table II. M. Hersche et al., "Fast and accurate multiclass
    inference for MI-BCIs using large multiscale temporal and spectral features",
    EUSIPCO 2018 (filter bank and temporal windows).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import FilterBankRiemann
    >>> X = np.random.default_rng(0).standard_normal((10, 4, 200))
    >>> fbr = FilterBankRiemann(sfreq=100.0, bands=[(8, 12), (12, 30)])
    >>> fbr.fit_transform(X).shape
    (10, 20)
    >>> fbr.get_feature_names_out()[:2].tolist()
    ['8-12Hz_s0-200_ch0-ch0', '8-12Hz_s0-200_ch0-ch1']
    """

    _parameter_constraints = {
        "sfreq": [Interval(numbers.Real, 0, None, closed="neither")],
        "bands": [StrOptions({"hersche2018"}), list, tuple, np.ndarray],
        "order": [Interval(numbers.Integral, 1, 20, closed="both")],
        "windows": [None, list, tuple, np.ndarray],
        "reg": [Interval(numbers.Real, 0, None, closed="left")],
        "metric": [StrOptions(set(METRICS))],
        "n_jobs": [None, numbers.Integral],
    }

    def __init__(self, sfreq, bands="hersche2018", order=2, windows=None, reg=0.1,
                 metric="riemann", n_jobs=None):
        self.sfreq = sfreq
        self.bands = bands
        self.order = order
        self.windows = windows
        self.reg = reg
        self.metric = metric
        self.n_jobs = n_jobs

    # -- validation ------------------------------------------------------------
    def _check_X(self, X, reset):
        X = check_epochs(X, n_channels=None if reset else self.n_features_in_,
                         n_times=None if reset else self.n_times_in_, estimator="FilterBankRiemann")
        if reset:
            self.n_features_in_ = X.shape[1]
            self.n_times_in_ = X.shape[2]
        return X

    def _setup(self, X):
        """Derive bands_, windows_, sos_ from the (validated) parameters (fit only)."""
        sfreq = check_real(self.sfreq, "sfreq", 0, low_open=True)  # scikit-learn's Interval takes True
        bands = hersche_bands() if isinstance(self.bands, str) else self.bands
        self.bands_ = _check_bands(bands, sfreq)
        self.sos_ = design_filterbank(self.bands_, sfreq, order=self.order)
        self.windows_ = _resolve_windows(self.windows, sfreq, X.shape[2])
        _check_window_lengths(self.windows_, self.order, X.shape[1])

    def _covariances(self, X):
        covs = filterbank_covariances(X, self.sos_, self.windows_, self.reg, self.n_jobs)
        finite = np.isfinite(covs).all(axis=(1, 2, 3, 4))
        if not finite.all():
            trial = int(np.flatnonzero(~finite)[0])
            raise ValueError(
                f"non-finite covariance after filtering for trial {trial} (overflow: the "
                f"signal amplitude is too large for float64 products)"
            )
        return covs

    # -- estimator API -----------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the reference covariance of every band and window.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_channels, n_times)
            Training epochs.
        %(y_ignored)s

        %(returns_self)s
        """
        self._fit(X)
        return self

    def _fit(self, X, tangent=False):
        """Fit; with ``tangent=True`` also return the training features."""
        X = self._check_X(X, reset=True)
        self._setup(X)
        covs = self._covariances(X)
        n_trials, n_bands, n_windows, n, _ = covs.shape
        slots = covs.reshape(n_trials, n_bands * n_windows, n, n)  # a view
        self.n_features_out_ = n_bands * n_windows * n * (n + 1) // 2
        if self.metric == "riemann":
            # the public mean_riemann, band by band (as TangentSpace.fit per band); its
            # last gradient evaluation is the tangent map at the mean
            ref = np.empty((n_bands * n_windows, n, n))
            feats = np.empty((n_trials, n_bands * n_windows, n * (n + 1) // 2)) if tangent else None
            for k in range(n_bands * n_windows):
                out = mean_riemann(slots[:, k], n_jobs=self.n_jobs, return_tangent=tangent)
                if tangent:
                    ref[k], feats[:, k] = out
                else:
                    ref[k] = out
            self.reference_ = ref.reshape(n_bands, n_windows, n, n)
            self.whitening_ = invsqrtm(ref).reshape(n_bands, n_windows, n, n)
            return feats.reshape(n_trials, -1) if tangent else None
        ref = np.stack([mean_covariance(slots[:, k], self.metric) for k in range(slots.shape[1])])
        self.reference_ = ref.reshape(n_bands, n_windows, n, n)
        self.whitening_ = None
        return self._tangent(covs) if tangent else None

    def _tangent(self, covs):
        n_trials, n_bands, n_windows, n, _ = covs.shape
        slots = covs.reshape(n_trials, n_bands * n_windows, n, n)
        refs = self.reference_.reshape(n_bands * n_windows, n, n)
        if self.metric == "riemann":
            white = self.whitening_.reshape(n_bands * n_windows, n, n)
            return _tangent_riemann_slots(slots, whitening=white, n_jobs=self.n_jobs).reshape(n_trials, -1)
        out = np.stack(
            [tangent_space(slots[:, k], refs[k], self.metric) for k in range(slots.shape[1])], axis=1
        )
        return out.reshape(n_trials, -1)

    def transform(self, X):
        """Tangent-space features of the epochs.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_channels, n_times)
            Epochs with the channels and the samples per epoch seen by ``fit``.

        Returns
        -------
        features : ndarray of shape `(n_trials, n_features_out_)`
            Ordered band by band, then window, then channel pair (upper triangle,
            row-major); see :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return self._tangent(self._covariances(X))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit and transform, filtering the training epochs only once.

        Parameters
        ----------
        X : array-like of shape (n_trials, n_channels, n_times)
            Training epochs.
        %(y_ignored)s

        Returns
        -------
        features : ndarray of shape `(n_trials, n_features_out_)`
        """
        return self._fit(X, tangent=True)

    def get_feature_names_out(self, input_features=None):
        """Names ``"{low}-{high}Hz_s{start}-{stop}_ch{i}-ch{j}"`` of the output columns.

        Parameters
        ----------
        input_features : None or array-like of str, default=None
            Channel names (length ``n_features_in_``); None uses ``ch0, ch1, ...``.

        Returns
        -------
        names : ndarray of str of shape `(n_features_out_,)`
        """
        check_is_fitted(self)
        n = self.n_features_in_
        if input_features is None:
            channels = [f"ch{i}" for i in range(n)]
        else:
            channels = [str(c) for c in input_features]
            if len(channels) != n:
                raise ValueError(f"input_features must name {n} channels, got {len(channels)}")
        iu, ju = np.triu_indices(n)
        names = [
            f"{lo:g}-{hi:g}Hz_s{start}-{stop}_{channels[i]}-{channels[j]}"
            for lo, hi in self.bands_
            for start, stop in self.windows_
            for i, j in zip(iu, ju)
        ]
        return np.asarray(names, dtype=object)

    # -- footprint -------------------------------------------------------------------
    def footprint(self, float_bits=32, convention="eegbin"):
        """Stored parameters and operations per inference (one epoch), Table II style.

        Parts: band-pass filter, covariance, whitening, matrix logarithm.

        Parameters
        ----------
        float_bits : int, default=32
            Bit width of the stored real parameters (16 for Table II).
        convention : {"eegbin", "hersche2020"}, default="eegbin"
            ``"eegbin"`` counts what this implementation stores and computes:
            ``order`` biquads of 5 coefficients per band (5 MACs per section and
            sample), ``n(n+1)/2`` MACs per sample for the covariance, the
            symmetric ``C_ref^{-1/2}`` (``n(n+1)/2`` values) and two ``n x n``
            products (``2 n^3``) for the whitening, and for the matrix logarithm
            the EVD estimate of the paper (Householder ``8n^3/3`` + QR ``6n^3``)
            plus the back transformation ``n^2 (n+1)/2`` and the sqrt(2) scaling
            ``n(n-1)/2``. ``"hersche2020"`` reproduces the paper's Table II
            counts: one biquad (5 coefficients, 5 MACs per sample) per band,
            ``2 n^2`` MACs and ``n^2 / 2`` stored values per band for the
            whitening, and the EVD alone for the matrix logarithm.

        Returns
        -------
        Footprint

        References
        ----------
        Hersche et al. 2020, Table II and Section V-D.
        """
        check_is_fitted(self)
        check_convention(convention)
        return _filterbank_riemann_footprint(self.n_features_in_, len(self.bands_), self.windows_,
                                            self.sos_.shape[1], float_bits, convention)

"""Filter bank of the multi-spectral Riemannian features (functional core).

``hersche_bands`` lists the 43 bands of Hersche et al. 2018/2020,
``design_filterbank`` designs their Butterworth band-pass second-order sections,
``filterbank_covariances`` filters each band causally and returns only the
regularized covariance matrices of eq. (1), never a filtered copy of the input.

References
----------
Hersche et al. 2020, Section III-A, eq. (1) and Fig. 3; the filter-bank rule of
Hersche et al. 2018 (bandwidths 2, 4, 8, 16, 32 Hz within 4-40 Hz).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.signal import butter

from ..kernels.checks import all_finite, check_int, check_real, check_real_dtype
from ..kernels.filterbank import c_contiguous, filterbank_cov
from ..kernels.threads import threads

__all__ = ["hersche_bands", "design_filterbank", "filterbank_covariances"]


_MAX_BANDS = 10_000  # a filter bank of more bands is a mistake (the Hersche bank has 43)


def hersche_bands(min_freq=4.0, max_freq=40.0, bandwidths=(2, 4, 8, 16, 32)):
    """The frequency bands of the Hersche filter bank.

    For each bandwidth the lower edge starts at ``min_freq`` and steps by 2 Hz for
    a 2 Hz bandwidth and by 4 Hz otherwise, while the upper edge stays at or below
    ``max_freq``. The defaults give 18 + 9 + 8 + 6 + 2 = 43 bands.

    Parameters
    ----------
    min_freq : float, default=4.0
        Lower edge of the first band of every bandwidth, in Hz.
    max_freq : float, default=40.0
        Largest allowed upper edge, in Hz.
    bandwidths : sequence of float, default=(2, 4, 8, 16, 32)
        Bandwidths in Hz; one wider than ``max_freq - min_freq`` gives no band (at
        least one band must result, and at most 10 000).

    Returns
    -------
    bands : list of tuple of float
        ``(low, high)`` pairs in Hz, grouped by bandwidth in the given order.

    Examples
    --------
    >>> from eegbin.features import hersche_bands
    >>> bands = hersche_bands()
    >>> len(bands), bands[0], bands[17], bands[-1]
    (43, (4.0, 6.0), (38.0, 40.0), (8.0, 40.0))

    References
    ----------
    Hersche et al. 2020, Section III-A (43 bands within 4-40 Hz, bandwidths 2-32 Hz).
    """
    min_freq = check_real(min_freq, "min_freq", 0, low_open=True)
    max_freq = check_real(max_freq, "max_freq", 0, low_open=True)
    if max_freq <= min_freq:
        raise ValueError(f"max_freq must be > min_freq, got max_freq={max_freq!r}, min_freq={min_freq!r}")
    if isinstance(bandwidths, str) or not hasattr(bandwidths, "__len__") or len(bandwidths) == 0:
        raise ValueError(f"bandwidths must be a non-empty sequence of positive numbers, got {bandwidths!r}")
    bands = []
    for bw in bandwidths:
        if not isinstance(bw, numbers.Real) or not np.isfinite(bw) or bw <= 0:
            raise ValueError(f"bandwidths must hold positive numbers, got {bw!r}")
        step = 2.0 if bw == 2 else 4.0
        count = int((max_freq - min_freq - bw) // step) + 1 if bw <= max_freq - min_freq else 0
        if len(bands) + count > _MAX_BANDS:
            raise ValueError(
                f"min_freq={min_freq!r}, max_freq={max_freq!r} and bandwidths={bandwidths!r} give more than "
                f"{_MAX_BANDS} bands"
            )
        low = float(min_freq)
        while low + bw <= max_freq:
            bands.append((low, low + float(bw)))
            low += step
    if not bands:
        raise ValueError(
            f"no band of bandwidths={bandwidths!r} fits between min_freq={min_freq!r} and max_freq={max_freq!r}"
        )
    return bands


def _check_bands(bands, sfreq):
    """Validate a list of (low, high) pairs against the Nyquist frequency."""
    if isinstance(bands, str) or not hasattr(bands, "__len__") or len(bands) == 0:
        raise ValueError(
            f"bands must be 'hersche2018' or a non-empty list of (low, high) pairs in Hz, got {bands!r}"
        )
    try:
        arr = np.asarray(bands)
    except (TypeError, ValueError):  # ragged: each pair is checked below
        arr = np.empty(0, dtype=object)
    if arr.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: bands must hold real frequencies, got dtype {arr.dtype}")
    if arr.dtype.kind in "biuf" and (arr.ndim != 2 or arr.shape[1] != 2):
        raise ValueError(f"bands must be a list of (low, high) pairs in Hz, shape (n_bands, 2), got shape {arr.shape}")
    nyq = sfreq / 2.0
    out = []
    for k, band in enumerate(bands):
        try:
            low, high = band
        except (TypeError, ValueError):
            raise ValueError(f"bands[{k}] must be a (low, high) pair of numbers in Hz, got {band!r}") from None
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in (low, high)):
            # the wrong type (kernels.checks rule): numeric strings are not parsed, as in X
            raise TypeError(f"bands[{k}] must be a (low, high) pair of numbers in Hz, got {band!r}")
        low, high = float(low), float(high)
        if not (np.isfinite(low) and np.isfinite(high)) or low <= 0:
            raise ValueError(f"bands[{k}] must have 0 < low < high, got {band!r}")
        if low >= high:
            raise ValueError(f"bands[{k}] must have low < high, got low={low:g} >= high={high:g} Hz")
        if high >= nyq:
            raise ValueError(
                f"bands[{k}] = ({low:g}, {high:g}) Hz reaches the Nyquist frequency "
                f"{nyq:g} Hz (sfreq={sfreq:g}); the upper edge must be below it"
            )
        out.append((low, high))
    return out


def design_filterbank(bands, sfreq, order=2):
    """Butterworth band-pass second-order sections for each band.

    Parameters
    ----------
    bands : list of (float, float)
        ``(low, high)`` edges in Hz with ``0 < low < high < sfreq / 2``.
    sfreq : float
        Sampling frequency in Hz.
    order : int, default=2
        Order passed to :func:`scipy.signal.butter`; a band-pass of order N has
        2N poles, i.e. N second-order sections (as in the original Hersche code,
        ``butter(2, band, btype="band", output="sos")``).

    Returns
    -------
    sos : ndarray of shape (n_bands, order, 6)
        Second-order sections per band (``sos[b, s, 3] == 1``).

    Examples
    --------
    >>> from eegbin.features import design_filterbank
    >>> design_filterbank([(8, 12), (12, 16)], sfreq=250.0).shape
    (2, 2, 6)

    References
    ----------
    Hersche et al. 2020, Fig. 3 (second-order Butterworth band-pass filters).
    """
    sfreq = check_real(sfreq, "sfreq", 0, low_open=True)
    order = check_int(order, "order", 1, 20)
    bands = _check_bands(bands, float(sfreq))
    return np.stack(
        [butter(int(order), [lo, hi], btype="bandpass", fs=float(sfreq), output="sos") for lo, hi in bands]
    ).astype(np.float64)


def filterbank_covariances(X, sos, windows=None, reg=0.1, n_jobs=None):
    """Regularized covariance of every band-passed temporal window, eq. (1).

    For each trial, band and window ``[start, stop)``, the window is cut from the
    trial, filtered causally by the band's second-order sections (zero initial
    state, as :func:`scipy.signal.sosfilt` on the cut window) and reduced to
    ``C = (Y Y^T + reg I) / (n_s - 1)`` with ``n_s = stop - start`` (no centering).
    Trials run in parallel; per thread only one filtered window is held, never a
    filtered copy of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_trials, n_channels, n_times)
        Finite signals.
    sos : ndarray of shape (n_bands, n_sections, 6)
        Second-order sections per band (see :func:`design_filterbank`).
    windows : array-like of shape (n_windows, 2) of int, default=None
        Sample windows ``[start, stop)``; None means the whole signal.
    reg : float, default=0.1
        Regularization ``alpha`` of eq. (1).
    n_jobs : int, default=None
        Threads (None: 1; -1: all; -2: all but one), as in scikit-learn.

    Returns
    -------
    covs : ndarray of shape (n_trials, n_bands, n_windows, n_channels, n_channels)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.features import design_filterbank, filterbank_covariances
    >>> X = np.random.default_rng(0).standard_normal((3, 4, 100))
    >>> sos = design_filterbank([(8, 12), (12, 30)], sfreq=100.0)
    >>> filterbank_covariances(X, sos).shape
    (3, 2, 1, 4, 4)

    References
    ----------
    Hersche et al. 2020, Section III-A, eq. (1).
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must be 3-D (n_trials, n_channels, n_times), got shape {X.shape}")
    check_real_dtype(X, "X")
    if X.shape[1] < 1:
        raise ValueError(f"X must have at least one channel, got shape {X.shape}")
    if not all_finite(X):
        trial = int(np.flatnonzero(~np.isfinite(X).all(axis=(1, 2)))[0])
        raise ValueError(f"X must be finite: trial {trial} contains NaN or Inf")
    sos = np.asarray(sos)
    check_real_dtype(sos, "sos")
    sos = c_contiguous(sos)
    if sos.ndim != 3 or sos.shape[2] != 6:
        raise ValueError(f"sos must have shape (n_bands, n_sections, 6), got {sos.shape}")
    if not np.isfinite(sos).all():
        raise ValueError("sos must be finite")
    n_times = X.shape[2]
    if windows is None:
        if n_times < 2:
            raise ValueError(f"X must have at least 2 samples per trial (eq. 1 divides by n_s - 1), "
                             f"got shape {X.shape}")
        windows = np.array([[0, n_times]], dtype=np.int64)
    else:
        windows = np.asarray(windows)
        if windows.ndim != 2 or windows.shape[1] != 2 or windows.dtype.kind not in "iu":
            raise ValueError(f"windows must be integer (start, stop) sample pairs, got {windows!r}")
        windows = c_contiguous(windows, np.int64)
        bad = (windows[:, 0] < 0) | (windows[:, 1] > n_times) | (windows[:, 1] - windows[:, 0] < 2)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"windows[{k}] = {tuple(windows[k])} must satisfy 0 <= start, start + 2 <= stop "
                f"<= n_times = {n_times}"
            )
    reg = check_real(reg, "reg", 0)
    X = c_contiguous(X)
    out = np.empty((X.shape[0], sos.shape[0], windows.shape[0], X.shape[1], X.shape[1]))
    n_ch = X.shape[1]
    flops = X.shape[0] * sos.shape[0] * int((windows[:, 1] - windows[:, 0]).sum()) * n_ch * (
        10 * sos.shape[1] + n_ch
    )
    with threads(n_jobs, flops=flops, chunk=32, blas_one_thread=True):
        filterbank_cov(X, sos, windows, float(reg), out)
    return out

"""Loading motor-imagery epochs through MOABB: the simulated dataset or BNCI2014_001."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

__all__ = ["load_motor_imagery", "get_dataset", "make_paradigm", "check_bnci2014_001", "no_download", "DATASETS"]

#: names accepted wherever a dataset is given by name
DATASETS = ("simulated", "BNCI2014_001")
_BNCI_URL = "https://lampx.tugraz.at/~bci/database/001-2014/A{subject:02d}{session}.mat"
_BNCI_SUBJECTS = range(1, 10)


def get_dataset(dataset="simulated", subjects=None):
    """A MOABB dataset from a name (``"simulated"``, ``"BNCI2014_001"``) or instance.

    Parameters
    ----------
    dataset : str or moabb.datasets.base.BaseDataset
        ``"simulated"`` gives :class:`~eegbin.datasets.SimulatedMotorImagery`
        with its defaults; a :class:`~moabb.datasets.base.BaseDataset` is returned as is.
    subjects : list of int, optional
        Checked against the dataset's subjects.

    Returns
    -------
    moabb.datasets.base.BaseDataset
    """
    from moabb.datasets.base import BaseDataset

    if isinstance(dataset, BaseDataset):
        ds = dataset
    elif isinstance(dataset, str) and dataset.lower() == "simulated":
        from .simulated import SimulatedMotorImagery

        ds = SimulatedMotorImagery()
    elif isinstance(dataset, str) and dataset.upper().replace("-", "_") == "BNCI2014_001":
        from moabb.datasets import BNCI2014_001

        ds = BNCI2014_001()
    else:
        raise ValueError(
            f"dataset must be one of {', '.join(DATASETS)} or a moabb BaseDataset, got {dataset!r}"
        )
    _check_subjects(ds, subjects)
    return ds


def _check_subjects(ds, subjects):
    if subjects is None:
        return
    if isinstance(subjects, (str, bytes)) or not hasattr(subjects, "__iter__"):
        raise TypeError(f"subjects must be a list of integers, got {subjects!r}")
    subjects = list(subjects)
    if not subjects:
        raise ValueError("subjects must not be empty")
    bad = [s for s in subjects if isinstance(s, bool) or not isinstance(s, (int, np.integer))]
    if bad:
        raise TypeError(f"subjects must be integers, got {bad!r}")
    missing = [int(s) for s in subjects if s not in ds.subject_list]
    if missing:
        lo, hi = min(ds.subject_list), max(ds.subject_list)
        raise ValueError(f"subjects {missing} out of range for {ds.code}: expected {lo}..{hi}")


def _bnci_root():
    """Where MOABB looks for the BNCI files, without creating it or writing config."""
    import mne

    root = mne.get_config("MNE_DATASETS_BNCI_PATH") or mne.get_config("MNE_DATA")
    return Path(root).expanduser() if root else Path.home() / "mne_data"


def _bnci_files(subject, root=None):
    """Training and evaluation files of ``subject`` under ``root`` (default: MOABB's)."""
    from mne.utils import _url_to_local_path

    root = Path(root if root is not None else _bnci_root()) / "MNE-bnci-data"
    return [
        Path(_url_to_local_path(_BNCI_URL.format(subject=subject, session=s), str(root)))
        for s in ("T", "E")
    ]


def check_bnci2014_001(subjects):
    """Raise if BNCI2014_001 files of ``subjects`` are not on disk (no network access).

    Parameters
    ----------
    subjects : list of int
        Subjects of BCI Competition IV-2a, each in 1..9.

    Raises
    ------
    TypeError, ValueError
        If ``subjects`` is not a list of integers in 1..9.
    FileNotFoundError
        Naming the directory the files must be in and how to get them.

    Examples
    --------
    >>> from eegbin.datasets import check_bnci2014_001
    >>> check_bnci2014_001([10])
    Traceback (most recent call last):
    ...
    ValueError: subjects: subject 10 is not in 1..9 (BNCI2014_001 has 9 subjects)
    """
    if isinstance(subjects, (str, bytes)) or not hasattr(subjects, "__iter__"):
        raise TypeError(f"subjects must be a list of integers, got {subjects!r}")
    subjects = list(subjects)
    bad = [s for s in subjects if isinstance(s, bool) or not isinstance(s, (int, np.integer))]
    if bad:
        raise TypeError(f"subjects must be integers, got {bad!r}")
    for s in subjects:
        if s not in _BNCI_SUBJECTS:
            raise ValueError(f"subjects: subject {s} is not in 1..9 (BNCI2014_001 has 9 subjects)")
    missing = [f for s in subjects for f in _bnci_files(s) if not f.is_file()]
    if missing:
        raise FileNotFoundError(
            f"BNCI2014_001 (BCI Competition IV-2a) data not found: {len(missing)} file(s) "
            f"missing, e.g. {missing[0]}. eegbin never downloads during evaluation. Put the "
            f"A0xT.mat/A0xE.mat files under {missing[0].parent} (or point MNE_DATASETS_BNCI_PATH / "
            "MNE_DATA to where they are), or fetch them once with a network connection: "
            "MOABB_DOWNLOAD_PROVIDER=upstream python -c \"from moabb.datasets import BNCI2014_001; "
            "BNCI2014_001().download()\". Offline, use --dataset simulated."
        )


@contextlib.contextmanager
def no_download(dataset, subjects=None):
    """Context in which MOABB reads ``dataset`` from disk only, and fails fast when it cannot.

    For ``BNCI2014_001``, missing files of ``subjects`` raise at once
    (:func:`check_bnci2014_001`) and MOABB is pointed at the files on disk (no
    prefetch from NEMAR) inside the block; other datasets are left as they are.

    Parameters
    ----------
    dataset : moabb.datasets.base.BaseDataset
    subjects : list of int, optional
        Default: all subjects of the dataset.

    Examples
    --------
    >>> from eegbin.datasets import get_dataset, no_download
    >>> with no_download(get_dataset("simulated"), [1]):  # nothing to check offline
    ...     pass
    """
    if type(dataset).__name__ != "BNCI2014_001":
        yield
        return
    check_bnci2014_001(subjects if subjects is not None else dataset.subject_list)
    old = os.environ.get("MOABB_DOWNLOAD_PROVIDER")
    os.environ["MOABB_DOWNLOAD_PROVIDER"] = "upstream"  # local files: no NEMAR prefetch
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MOABB_DOWNLOAD_PROVIDER", None)
        else:
            os.environ["MOABB_DOWNLOAD_PROVIDER"] = old


def _window_end(ds, tmin, tmax, resample):
    """MOABB keeps the sample at ``tmax``; end half a sample early for (tmax-tmin)*sfreq samples."""
    sfreq = resample or getattr(ds, "sfreq", None)
    if sfreq is None and type(ds).__name__ == "BNCI2014_001":
        sfreq = 250.0
    return tmax if sfreq is None else tmax - 0.6 / float(sfreq)


def make_paradigm(dataset, tmin=0.5, tmax=4.0, fmin=None, fmax=None, resample=None):
    """MOABB :class:`~moabb.paradigms.MotorImagery` for the four BCI IV-2a classes.

    The window ``[tmin, tmax)`` is relative to the cue; for 250 Hz data the
    default gives the 875 samples of Hersche et al. 2020. ``fmin=fmax=None``
    leaves the signal unfiltered (pipelines bring their own filters).
    """
    from moabb.paradigms import MotorImagery

    for name, v in (("tmin", tmin), ("tmax", tmax)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not np.isfinite(v):
            raise ValueError(f"{name} must be a finite number of seconds, got {v!r}")
    if tmax <= tmin:
        raise ValueError(f"tmax must be > tmin, got tmin={tmin!r}, tmax={tmax!r}")
    if (fmin is None) != (fmax is None):
        raise ValueError(f"fmin and fmax must both be given or both be None, got {fmin!r}, {fmax!r}")
    if fmin is not None and fmax is not None and not 0 < fmin < fmax:
        raise ValueError(f"need 0 < fmin < fmax, got fmin={fmin!r}, fmax={fmax!r}")
    if resample is not None and (not isinstance(resample, (int, float, np.number)) or resample <= 0):
        raise ValueError(f"resample must be a positive sampling rate or None, got {resample!r}")
    events = [e for e in ("left_hand", "right_hand", "feet", "tongue") if e in dataset.event_id]
    if not events:
        events = list(dataset.event_id)
    return MotorImagery(
        events=events,
        n_classes=len(events),
        tmin=float(tmin),
        tmax=float(_window_end(dataset, tmin, tmax, resample)),
        fmin=fmin,
        fmax=fmax,
        resample=resample,
    )


def load_motor_imagery(
    dataset="simulated", subjects=None, tmin=0.5, tmax=4.0, fmin=None, fmax=None, resample=None
):
    """Motor-imagery epochs ``X, y, metadata`` through MOABB's ``MotorImagery`` paradigm.

    Parameters
    ----------
    dataset : {"simulated", "BNCI2014_001"} or moabb.datasets.base.BaseDataset, default="simulated"
        ``"simulated"`` is :class:`~eegbin.datasets.SimulatedMotorImagery` (offline).
        ``"BNCI2014_001"`` needs its files on disk: without them a
        :class:`FileNotFoundError` says where they must be and how to get them
        (nothing is downloaded).
    subjects : list of int, optional
        Subjects to load (default: all).
    tmin, tmax : float, default=0.5, 4.0
        Window in seconds after the cue, ``[tmin, tmax)``: 875 samples at
        250 Hz, the window of Hersche et al. 2020.
    fmin, fmax : float, optional
        Band-pass of the paradigm; ``None`` (default) keeps the raw signal.
    resample : float, optional
        Resample the epochs to this rate.

    Returns
    -------
    X : ndarray of shape (n_trials, n_channels, n_times)
        EEG in microvolts (MOABB scales volts by the dataset unit factor 1e6).
    y : ndarray of shape (n_trials,)
        Class names.
    metadata : pandas.DataFrame
        ``subject``, ``session``, ``run`` per trial.

    Examples
    --------
    >>> from eegbin.datasets import load_motor_imagery
    >>> X, y, meta = load_motor_imagery("simulated", subjects=[1])  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (576, 22, 875)

    References
    ----------
    Hersche et al. 2020, Sec. IV-A (0.5-4.0 s after the cue).
    """
    ds = get_dataset(dataset, subjects)
    paradigm = make_paradigm(ds, tmin, tmax, fmin, fmax, resample)
    subjects = list(ds.subject_list) if subjects is None else [int(s) for s in subjects]
    with no_download(ds, subjects):
        return paradigm.get_data(ds, subjects=subjects)

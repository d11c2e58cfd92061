"""Write a MOABB motor-imagery dataset as BCI Competition IV-2a files (BNCI Horizon layout).

:func:`export_bnci2014_001` writes ``A0sT.mat`` / ``A0sE.mat`` files with the struct
MOABB's :class:`moabb.datasets.BNCI2014_001` loader reads, where that loader looks
for them. Loading them back through MOABB is the path a user with the real
BCI IV-2a files takes; with the simulated dataset it runs without a network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .loading import _bnci_files, get_dataset

__all__ = ["export_bnci2014_001"]

#: class names of the files, in label order (label i + 1); MOABB maps them to its events
_CLASSES = ("left hand", "right hand", "feet", "tongue")
_EVENT_OF_CLASS = {"left hand": "left_hand", "right hand": "right_hand", "feet": "feet",
                   "tongue": "tongue"}
_SESSION_LETTERS = ("T", "E")  # training and evaluation session


def _channels():
    """The 22 EEG and 3 EOG channels of BCI IV-2a in the order of its files' columns."""
    from .simulated import EEG_CHANNELS, EOG_CHANNELS

    return EEG_CHANNELS + EOG_CHANNELS


def _run_struct(raw, event_label):
    """One run as the BNCI struct: X (samples x 25, uV), trial (1-based), y, fs, classes."""
    import mne

    picks = [raw.ch_names.index(ch) for ch in _channels()]
    data = raw.get_data(picks=picks)
    # MOABB multiplies X by 1e-6 (uV -> V); for data that are float32 volts (the
    # simulated dataset) that gives the volts back exactly
    X = np.ascontiguousarray(data.T * 1e6)
    events = mne.find_events(raw, shortest_event=1, initial_event=True, verbose=False)
    unknown = sorted(set(events[:, 2].tolist()) - set(event_label))
    if unknown:
        raise ValueError(
            f"the stim channel holds event codes {unknown} that are not in the dataset's "
            f"event_id {dict(sorted((v, k) for k, v in event_label.items()))}"
        )
    y = np.array([event_label[c] for c in events[:, 2]], dtype=np.uint8)
    trial = (events[:, 0] - raw.first_samp + 1).astype(np.int32)  # MATLAB indices
    return {
        "X": X,
        "trial": trial,
        "y": y,
        "fs": float(raw.info["sfreq"]),
        "classes": np.array(_CLASSES, dtype=object),
        "artifacts": np.zeros(len(trial), dtype=np.uint8),
        "gender": "",  # unknown: MOABB records sex 0
        "age": 0,
    }


def _check_run(raw, where):
    missing = [ch for ch in _channels() if ch not in raw.ch_names]
    if missing:
        raise ValueError(
            f"{where}: the run lacks the BCI IV-2a channels {missing}; BNCI2014_001 files "
            f"hold the 22 EEG and 3 EOG channels {list(_channels())}"
        )
    if not any(t == "stim" for t in raw.get_channel_types()):
        raise ValueError(f"{where}: the run has no stim channel to read the trials from")


def export_bnci2014_001(dataset, path, subjects=None):
    """Write a motor-imagery dataset as the BCI IV-2a files MOABB's BNCI2014_001 reads.

    For each subject ``s``, the first session becomes ``A0sT.mat`` and the second
    ``A0sE.mat`` under ``path/MNE-bnci-data/~bci/database/001-2014/`` (where MOABB
    stores the files it downloads), each holding the variable ``data``: one struct
    per run with the fields of the BNCI Horizon files that MOABB's loader reads,
    ``X`` (samples x 25, microvolts: the 22 EEG channels Fz ... POz, then EOG1-3),
    ``trial`` (1-based sample of each trial start), ``y`` (labels 1-4), ``fs``,
    ``classes`` ("left hand", "right hand", "feet", "tongue"), ``artifacts`` (zeros),
    ``gender`` and ``age`` (unknown: ``""`` and 0). With ``MNE_DATASETS_BNCI_PATH``
    set to ``path`` and ``MOABB_DOWNLOAD_PROVIDER=upstream`` (no NEMAR look-up),
    :class:`moabb.datasets.BNCI2014_001` loads them without a network, as it loads
    the real files: same sessions (``0train``, ``1test``), runs, channels, events
    and samples. Float32 data in volts (the simulated dataset) come back bit for bit.

    Parameters
    ----------
    dataset : "simulated" or moabb.datasets.base.BaseDataset
        A motor-imagery dataset shaped like BCI IV-2a: two sessions per subject,
        runs with the 22 EEG and 3 EOG channels of BCI IV-2a (named as MOABB names
        them) and a stim channel whose codes map through ``dataset.event_id`` to
        ``left_hand``, ``right_hand``, ``feet`` and ``tongue``.
    path : str or Path
        Root directory; it becomes what MOABB reads with ``MNE_DATASETS_BNCI_PATH``.
    subjects : list of int, optional
        Subjects to write (default: all of the dataset), numbered 1-9 as in BCI IV-2a.

    Returns
    -------
    list of Path
        The files written, ``A0sT.mat`` and ``A0sE.mat`` per subject.

    Examples
    --------
    >>> from eegbin.datasets import export_bnci2014_001
    >>> files = export_bnci2014_001("simulated", "/tmp/bnci", subjects=[1])  # doctest: +SKIP
    >>> [f.name for f in files]  # doctest: +SKIP
    ['A01T.mat', 'A01E.mat']

    Then the real-data path runs on them, offline::

        MNE_DATASETS_BNCI_PATH=/tmp/bnci MOABB_DOWNLOAD_PROVIDER=upstream \
            python -m eegbin evaluate --dataset BNCI2014_001 --subjects 1

    References
    ----------
    C. Brunner, R. Leeb, G. Müller-Putz, A. Schlögl, G. Pfurtscheller, "BCI
    Competition 2008 - Graz data set A" (BCI Competition IV-2a); MOABB's
    ``moabb.datasets.bnci.bnci_2014._load_data_001_2014`` (the struct it reads).
    """
    from scipy.io import savemat

    ds = get_dataset(dataset, subjects)
    subjects = list(ds.subject_list) if subjects is None else [int(s) for s in subjects]
    bad = [s for s in subjects if not 1 <= s <= 9]
    if bad:
        raise ValueError(f"subjects must be in 1..9 (BNCI2014_001 has 9), got {bad}")
    names = [n for n in ds.event_id if n not in _EVENT_OF_CLASS.values()]
    if names or not ds.event_id:
        raise ValueError(
            f"dataset.event_id must map left_hand, right_hand, feet and tongue to codes, got "
            f"{ds.event_id!r}"
        )
    label = {ev: i + 1 for i, ev in enumerate(_EVENT_OF_CLASS.values())}
    event_label = {code: label[name] for name, code in ds.event_id.items()}
    root = Path(path)
    written = []
    for subject in subjects:
        sessions = ds.get_data([subject])[subject]
        if len(sessions) != 2:
            raise ValueError(
                f"subject {subject}: BNCI2014_001 has a training and an evaluation session, "
                f"the dataset gives {len(sessions)}: {list(sessions)}"
            )
        for letter, (session, runs) in zip(_SESSION_LETTERS, sessions.items()):
            structs = []
            for run, raw in runs.items():
                _check_run(raw, f"subject {subject}, session {session!r}, run {run!r}")
                structs.append(_run_struct(raw, event_label))
            cell = np.empty((1, len(structs)), dtype=object)
            for i, s in enumerate(structs):
                cell[0, i] = s
            target = _bnci_files(subject, root)[_SESSION_LETTERS.index(letter)]
            target.parent.mkdir(parents=True, exist_ok=True)
            savemat(target, {"data": cell}, do_compression=False)
            written.append(target)
    return written

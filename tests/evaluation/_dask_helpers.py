"""Helpers the Dask tests ship to worker processes (importable there by reference)."""

import os
import signal

from sklearn.base import BaseEstimator, TransformerMixin


class KillWorkerOnce(TransformerMixin, BaseEstimator):
    """Identity transformer whose first ``fit`` anywhere kills its own process.

    ``marker`` is a file path: the first fit creates it and sends SIGKILL to the
    current process (a Dask worker); later fits see the file and do nothing.
    """

    def __init__(self, marker=None):
        self.marker = marker

    def fit(self, X, y=None):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return self
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
        return self  # pragma: no cover - the process is gone

    def transform(self, X):
        return X


def record_pid(log_dir, subject):
    """Append ``subject pid`` to a per-process file in ``log_dir``."""
    with open(os.path.join(log_dir, f"{os.getpid()}.log"), "a") as f:
        f.write(f"{subject} {os.getpid()}\n")


def evaluate_fake_subject(spec):
    """One MOABB within-session evaluation of one FakeDataset subject (a map_tasks task).

    ``spec = (subject, pipelines, marker_or_None)``; with a marker, the pipelines
    start with :class:`KillWorkerOnce`.
    """
    import tempfile

    from moabb.datasets.fake import FakeDataset
    from moabb.evaluations import WithinSessionEvaluation
    from moabb.paradigms import LeftRightImagery
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    subject, pipelines, marker = spec
    ds = FakeDataset(
        event_list=["left_hand", "right_hand"], n_subjects=2, n_sessions=1, n_runs=1,
        duration=60, seed=3,
    )
    ds.subject_list = [subject]
    if marker is not None:
        pipelines = {n: make_pipeline(KillWorkerOnce(marker), clone(p)) for n, p in pipelines.items()}
    with tempfile.TemporaryDirectory() as tmp:
        ev = WithinSessionEvaluation(
            paradigm=LeftRightImagery(), datasets=[ds], overwrite=True, hdf5_path=tmp,
            random_state=0,
        )
        res = ev.process(pipelines)
    res["pid"] = os.getpid()
    return res

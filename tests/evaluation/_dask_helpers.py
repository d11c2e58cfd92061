"""Helpers the Dask tests ship to worker processes (importable there by reference)."""

import os
import signal

from sklearn.base import BaseEstimator, TransformerMixin

from eegbin.datasets import SimulatedMotorImagery


class KillWorkerOnce(TransformerMixin, BaseEstimator):
    """Identity transformer whose first ``fit`` anywhere kills its own process.

    ``marker`` is a file path: the first fit creates it (with the pid) and sends
    SIGKILL to the current process (a Dask worker); later fits see the file and
    behave as the identity.
    """

    def __init__(self, marker=None):
        self.marker = marker

    def fit(self, X, y=None):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            self.n_features_in_ = X.shape[1]
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


class RecordingSimulatedMotorImagery(SimulatedMotorImagery):
    """The simulated dataset, logging ``subject pid`` to ``self.log_dir`` per generation."""

    def _get_single_subject_data(self, subject):
        record_pid(self.log_dir, subject)
        return super()._get_single_subject_data(subject)


def recording_simulated_dataset(log_dir, subjects=2):
    ds = RecordingSimulatedMotorImagery(subjects=subjects)
    ds.log_dir = str(log_dir)
    return ds


def read_pid_logs(log_dir):
    """``[(subject, pid), ...]`` recorded by :func:`record_pid` in ``log_dir``."""
    rows = []
    for name in os.listdir(log_dir):
        if name.endswith(".log"):
            with open(os.path.join(log_dir, name)) as f:
                rows += [tuple(int(v) for v in line.split()) for line in f if line.strip()]
    return rows

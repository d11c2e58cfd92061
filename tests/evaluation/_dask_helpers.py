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

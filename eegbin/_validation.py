"""Input checks shared across subpackages (private)."""

import numpy as np

from .kernels._arrays import all_finite  # noqa: F401  (one check for every layer)


def check_epochs(X, name="X", n_channels=None, estimator=None, min_times=1):
    """``X`` as an array of epochs (n_trials, n_channels, n_times), or a clear error.

    One place for the checks every epoch consumer needs (FilterBankRiemann,
    EEGNet, LSTMClassifier, the trainer, the evaluation filters): dense real
    numbers, three dimensions as MOABB returns epochs, at least one trial and
    channel and ``min_times`` samples, no NaN/Inf (naming the first bad trial)
    and, when ``n_channels`` is given, the channel count seen at fit time.
    ``estimator`` names the model in the channel-mismatch message. Returns the
    array (never a copy, never a changed dtype).
    """
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(
            f"{name} must be a dense array of shape (n_trials, n_channels, n_times); sparse input "
            f"({type(X).__name__}) is not supported"
        )
    if isinstance(X, (str, bytes)) or not (isinstance(X, (np.ndarray, list, tuple)) or hasattr(X, "__array__")):
        raise TypeError(f"{name} must be an array of shape (n_trials, n_channels, n_times), got {type(X).__name__}")
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} must hold real numbers, got dtype {X.dtype}")
    if X.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    if X.ndim != 3:
        raise ValueError(
            f"{name} must be 3-D (n_trials, n_channels, n_times) as MOABB returns epochs, "
            f"got a {X.ndim}-D array of shape {X.shape}"
        )
    if X.shape[0] < 1 or X.shape[1] < 1 or X.shape[2] < min_times:
        raise ValueError(
            f"{name} must have at least one trial, one channel and {min_times} sample(s) per trial, "
            f"got shape {X.shape}"
        )
    if not all_finite(X):
        bad = ~np.isfinite(X).all(axis=(1, 2))
        raise ValueError(f"{name} must be finite: trial {int(np.flatnonzero(bad)[0])} contains NaN or Inf")
    if n_channels is not None and X.shape[1] != n_channels:
        raise ValueError(
            f"{name} has {X.shape[1]} channels, but {estimator or 'the model'} is expecting "
            f"{n_channels} channels as input (as in fit)"
        )
    return X

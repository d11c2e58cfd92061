"""Input checks shared across subpackages (private)."""

import numpy as np


def check_epochs(X, name="X", n_channels=None):
    """``X`` as an array of epochs (n_trials, n_channels, n_times), or a clear error.

    Rejects non-numeric input, another dimensionality, NaN/Inf (naming the first
    bad trial) and, when ``n_channels`` is given, a different channel count.
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"{name} must be 3-D (n_trials, n_channels, n_times), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name} must be numeric, got dtype {X.dtype}")
    bad = ~np.isfinite(X).all(axis=(1, 2))
    if bad.any():
        raise ValueError(f"{name} must be finite: trial {int(np.flatnonzero(bad)[0])} contains NaN or Inf")
    if n_channels is not None and X.shape[1] != n_channels:
        raise ValueError(f"{name} has {X.shape[1]} channels, but the model was fitted with {n_channels}")
    return X

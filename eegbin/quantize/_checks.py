"""Shared argument checks of the quantizers (private)."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import all_finite


def check_int(value, name, low, high=None):
    """``value`` as an int in ``[low, high]``; TypeError/ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        expected = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {expected}, got {value}")
    return int(value)


def check_real_array(x, name):
    """``x`` as an ndarray of a real numeric dtype, rejecting NaN/Inf."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {x.dtype}")
    if x.dtype.kind == "f" and not all_finite(x):
        raise ValueError(f"{name} must be finite, got NaN or Inf values")
    return x


class Float64OutputMixin:
    """Transformer tag: output is float64 whatever the input float dtype."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

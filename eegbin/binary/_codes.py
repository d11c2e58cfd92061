"""Input handling shared by the Hamming-space classifiers: any code -> packed."""

from __future__ import annotations

import numbers

import numpy as np

from ..kernels import n_words_for, pack_bits, unpack_bits
from ..kernels.bits import WORD
from .._validation import all_finite

INPUTS = ("auto", "packed", "bipolar", "binary", "heaviside")


def check_n_bits_param(n_bits):
    if n_bits is None:
        return None
    if isinstance(n_bits, (bool, np.bool_)) or not isinstance(n_bits, numbers.Integral):
        raise TypeError(f"n_bits must be None or an integer, got {type(n_bits).__name__}")
    if n_bits < 1:
        raise ValueError(f"n_bits must be >= 1, got {n_bits}")
    return int(n_bits)


def to_packed(X, input, n_bits):
    """Validate 2-D codes and return ``(packed uint64 words, n_bits)``.

    ``input="auto"``: uint64 -> packed (``n_bits`` required), bool -> binary,
    values in {-1, +1} (any -1 present) -> bipolar, values in {0, 1} -> binary;
    anything else is rejected (use ``input="heaviside"`` for real values).
    """
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a numpy.ndarray, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    n_bits = check_n_bits_param(n_bits)
    kind = input
    if kind == "auto":
        kind = "packed" if X.dtype == np.uint64 else "codes"
    if kind == "packed":
        if X.dtype != np.uint64:
            raise TypeError(f"X must be packed uint64 words for input='packed', got dtype {X.dtype}")
        if n_bits is None:
            raise ValueError(
                "packed (uint64) X needs n_bits, the number of valid bits per row, "
                f"e.g. the projection's n_components; got n_bits=None for X of shape {X.shape}"
            )
        if n_words_for(n_bits) != X.shape[1]:
            raise ValueError(
                f"n_bits={n_bits} needs {n_words_for(n_bits)} words per row, X has {X.shape[1]}"
            )
        rem = n_bits % WORD
        if rem and X.shape[0] and np.any(X[:, -1] >> np.uint64(rem)):
            raise ValueError(f"X has bits set beyond n_bits={n_bits} (padding bits must be zero)")
        return np.ascontiguousarray(X), n_bits
    if X.dtype == np.uint64:
        raise TypeError(f"X is packed uint64 words but input={input!r}; use input='packed'")
    if n_bits is not None and n_bits != X.shape[1]:
        raise ValueError(f"n_bits={n_bits} does not match X with {X.shape[1]} features")
    pack_kind = {"codes": "auto", "bipolar": "bipolar", "binary": "binary",
                 "heaviside": "heaviside"}[kind]
    if kind == "codes" and X.dtype != np.bool_ and np.issubdtype(X.dtype, np.floating):
        if not all_finite(X):
            raise ValueError("X contains NaN or Inf")
        if not np.all((X == 0) | (X == 1) | (X == -1)):
            raise ValueError(
                "X must hold binary codes (packed uint64, bool, 0/1 or -1/+1); got real "
                "values. Binarize them first (SparseBipolarRandomProjection, "
                "HeavisideBinarizer) or pass input='heaviside'"
            )
    try:
        return pack_bits(X, kind=pack_kind), X.shape[1]
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"X (input={input!r}): {exc}") from None


def packed_to_bipolar(packed, n_bits, dtype=np.float64):
    """Packed codes -> dense +-1 matrix (for training real-valued linear models)."""
    return unpack_bits(packed, n_bits, kind="bipolar").astype(dtype)

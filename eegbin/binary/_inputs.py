"""What the Hamming-space classifiers read (their ``input``): any binarizer output (or real values) -> packed words.

The classifiers accept every form a binarizer outputs (``base.OUTPUTS``): packed
uint64 words, bool or 0/1 (binary), -1/+1 (bipolar), and real values, whose bits
are H(x) (eq. 5 of Hersche et al. 2020: x >= 0 -> 1). ``input="auto"`` decides at
``fit`` (uint64 -> packed; bool or only 0/1 -> binary; anything else -> Heaviside,
which reads -1/+1 codes as bipolar) and the fitted model reads later data the
same way (``input_``).

The width of packed codes
-------------------------
Packed rows of ``n_words`` words hold between ``64 (n_words - 1) + 1`` and
``64 n_words`` valid bits; the rest of the last word is zero padding. With
``n_bits=None`` the width is inferred at fit as the smallest one consistent with
the training codes: the position of the highest bit set, in the last word, by
any training row. Bits beyond it are zero in every training row; the class
vectors keep them zero and later inputs are masked there, so those bits add
nothing to any distance (zero padding on both sides), and the model equals the
one trained on the unpacked codes. Explicit ``n_bits`` is checked instead
(nonzero padding is an error).
"""

from __future__ import annotations

import numpy as np

from ..kernels import pack_bits, unpack_bits
from ..kernels.checks import WORD, all_finite, check_n_bits, check_padding

INPUTS = ("auto", "packed", "bipolar", "binary", "heaviside")


def resolve_input(X, input):
    """The kind of ``X`` for ``input="auto"``: packed, binary or heaviside."""
    if input != "auto":
        return input
    if X.dtype == np.uint64:
        return "packed"
    if X.dtype == np.bool_:
        return "binary"
    if X.dtype.kind in "iuf" and all_finite(X) and X.size and np.all((X == 0) | (X == 1)):
        return "binary"
    return "heaviside"


def infer_n_bits(packed):
    """Smallest width consistent with packed training codes (see the module docstring)."""
    n_words = packed.shape[1]
    last = np.bitwise_or.reduce(packed[:, -1]) if packed.shape[0] else np.uint64(0)
    high = int(last).bit_length()  # 1 + position of the highest bit set, 0 if none
    return WORD * (n_words - 1) + max(high, 1)


def to_packed(X, kind, n_bits, *, mask_padding=False):
    """Packed uint64 words of the 2-D numeric array ``X`` read as ``kind``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_columns)
    kind : {"packed", "bipolar", "binary", "heaviside"}
    n_bits : int or None
        Valid bits per row; None: the number of columns (codes), or inferred
        from packed ``X`` (:func:`infer_n_bits`).
    mask_padding : bool, default=False
        Packed input: clear the bits beyond ``n_bits`` (an inferred width)
        instead of refusing them.

    Returns
    -------
    packed : ndarray of uint64, shape (n_samples, ceil(n_bits / 64))
    n_bits : int
    """
    if kind == "packed":
        if X.dtype != np.uint64:
            raise TypeError(f"X must be packed uint64 words for input='packed', got dtype {X.dtype}")
        X = np.ascontiguousarray(X)
        if n_bits is None:
            n_bits = infer_n_bits(X)
        n_bits = check_n_bits(n_bits, X.shape[1])
        if mask_padding:
            rem = n_bits % WORD
            if rem and X.shape[0] and np.any(X[:, -1] >> np.uint64(rem)):
                X = X.copy()
                X[:, -1] &= np.uint64((1 << rem) - 1)
        else:
            check_padding(X, n_bits, "X")
        return X, n_bits
    if X.dtype == np.uint64:
        raise TypeError(f"X is packed uint64 words but input={kind!r}; use input='packed' (or 'auto')")
    if n_bits is not None and n_bits != X.shape[1]:
        raise ValueError(f"n_bits={n_bits} does not match X with {X.shape[1]} features")
    try:
        return pack_bits(X, kind=kind), X.shape[1]
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"X (input={kind!r}): {exc}") from None


def packed_to_bipolar(packed, n_bits, dtype=np.float64):
    """Packed codes -> dense +-1 matrix (for training real-valued linear models)."""
    return unpack_bits(packed, n_bits, kind="bipolar").astype(dtype)


__all__ = ["INPUTS", "infer_n_bits", "packed_to_bipolar", "resolve_input", "to_packed"]

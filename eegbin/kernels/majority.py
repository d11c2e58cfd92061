"""Bitwise majority (bundling) of packed binary hypervectors.

The bundling operator of binary hyperdimensional computing: bit j of the result
is 1 when more than half of the input vectors have bit j set; exact ties (an
even number of vectors) take bit j of a tie-break vector. Used by
:class:`eegbin.AssociativeMemoryClassifier` to superpose band encodings and to
form class prototypes.

References
----------
M. Hersche, J. del R. Millán, L. Benini, A. Rahimi, "Exploring embedding methods in binary
hyperdimensional computing: a case study for motor-imagery based brain-computer
interfaces", arXiv:1812.05705, 2018 (bundling by componentwise majority).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .checks import WORD, check_packed

__all__ = ["bitwise_majority"]


@njit(cache=True, parallel=True)
def _nb_majority(words, tie):
    k, n, nw = words.shape
    out = np.zeros((n, nw), dtype=np.uint64)
    counts = np.zeros((n, WORD), dtype=np.int64)
    for i in prange(n):
        for w in range(nw):
            c = counts[i]
            c[:] = 0
            for v in range(k):
                x = words[v, i, w]
                for b in range(WORD):
                    c[b] += (x >> np.uint64(b)) & np.uint64(1)
            word = np.uint64(0)
            t = tie[w]
            for b in range(WORD):
                twice = 2 * c[b]
                if twice > k or (twice == k and (t >> np.uint64(b)) & np.uint64(1)):
                    word |= np.uint64(1) << np.uint64(b)
            out[i, w] = word
    return out


def bitwise_majority(words, tie_break=None):
    """Componentwise majority of ``k`` packed vectors, for each of ``n`` rows.

    Parameters
    ----------
    words : ndarray of uint64, shape (k, n, n_words)
        ``k`` packed vectors to bundle for each of ``n`` rows (k >= 1).
    tie_break : ndarray of uint64, shape (n_words,), optional
        Bits used where exactly half of the ``k`` vectors are set (only
        possible for even ``k``). Default: ties give 0. Padding bits of the
        result are zero when those of the inputs and of ``tie_break`` are.

    Returns
    -------
    ndarray of uint64, shape (n, n_words)
        Bit ``b`` of row ``r`` set where more than half of the ``k`` vectors of row
        ``r`` set it (half: the bit of ``tie_break``).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import bitwise_majority, pack_bits, unpack_bits
    >>> v = pack_bits(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1]]))
    >>> unpack_bits(bitwise_majority(v[:, None, :]), 4).astype(int)
    array([[1, 0, 0, 0]])
    """
    words = check_packed(words, "words", ndim=3)
    if words.shape[0] == 0:
        raise ValueError("words must hold at least one vector (k >= 1), got k = 0")
    nw = words.shape[2]
    if tie_break is None:
        tie = np.zeros(nw, dtype=np.uint64)
    else:
        tie = check_packed(tie_break, "tie_break", ndim=1)
        if tie.shape != (nw,):
            raise ValueError(f"tie_break must have shape ({nw},), got {tie.shape}")
    return _nb_majority(words, tie)

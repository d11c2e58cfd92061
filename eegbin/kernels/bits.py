"""Packed-bit kernels: pack/unpack, popcount, Hamming search, XNOR-popcount products.

Bit conventions (DESIGN.md): a *packed* row is a vector of ``uint64`` words; bit
``j`` of a row is bit ``j % 64`` of word ``j // 64``, least significant bit first;
padding bits are zero and never counted. A *bipolar* value +1 maps to bit 1 and
-1 to bit 0; the Heaviside rule H(z) = 1 if z >= 0 else 0 maps reals (and a
bipolar 0) to bits.

The Python wrappers validate every argument and raise ``TypeError``/``ValueError``
naming it before any numba code runs; the ``_nb_*`` functions assume valid input.

Popcount compiles to LLVM's ``ctpop`` intrinsic (see :func:`_ctpop`), which the
x86 backend lowers to ``popcnt`` and, in vectorized loops on CPUs with
AVX-512 VPOPCNTDQ, to ``vpopcntq``. Checked with
``_nb_hamming_block.inspect_asm(...)``: the inner loop over database codes
contains ``vpopcntq zmm`` on such CPUs (``popcnt`` elsewhere).

References
----------
Hersche et al. 2020, eq. (7)-(10) (bipolar dot product = d - 2 Hamming distance);
MuBiNN, eq. (9) (multi-level XNOR-popcount products).
"""

from __future__ import annotations

import numbers

import numba
import numpy as np
from numba import njit, prange
from numba.core import types
from numba.extending import intrinsic

__all__ = [
    "pack_bits",
    "unpack_bits",
    "popcount",
    "hamming_cdist",
    "hamming_argmin",
    "hamming_topk",
    "bipolar_dot",
    "multilevel_matmul",
    "n_words_for",
]

WORD = 64


@intrinsic
def _ctpop(typingctx, x):
    """LLVM ``ctpop`` on a uint64 (hardware POPCNT / VPOPCNTQ)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


def n_words_for(n_bits: int) -> int:
    """Number of uint64 words that hold ``n_bits`` bits."""
    return (int(n_bits) + WORD - 1) // WORD


# ---------------------------------------------------------------------------
# validation helpers (pure Python, run before numba)
# ---------------------------------------------------------------------------


def _check_2d(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {x.shape} ({x.ndim}-D)")
    return x


def _check_packed(words, name):
    _check_2d(words, name)
    if words.dtype != np.uint64:
        raise TypeError(f"{name} must be packed uint64 words, got dtype {words.dtype}")
    return np.ascontiguousarray(words)


def _check_pair(A, B):
    A = _check_packed(A, "A")
    B = _check_packed(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"A and B must have the same number of words per row, got A {A.shape} and B {B.shape}"
        )
    return A, B


def _check_n_bits(n_bits, n_words, name="n_bits"):
    if isinstance(n_bits, (bool, np.bool_)) or not isinstance(n_bits, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(n_bits).__name__}")
    n_bits = int(n_bits)
    if n_bits < 0 or n_bits > n_words * WORD:
        raise ValueError(
            f"{name}={n_bits} does not fit {n_words} words per row (at most {n_words * WORD} bits)"
        )
    if n_words_for(n_bits) != n_words:
        raise ValueError(
            f"{name}={n_bits} needs {n_words_for(n_bits)} words per row, but the rows have {n_words}"
        )
    return n_bits


def _n_threads(n_jobs):
    """Translate a joblib-style ``n_jobs`` into a numba thread count (None -> 1)."""
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a non-zero integer, got {n_jobs!r}")
    max_threads = numba.config.NUMBA_NUM_THREADS
    if n_jobs < 0:
        return max(1, max_threads + 1 + n_jobs)
    return min(int(n_jobs), max_threads)


class _threads:
    """Context manager running numba ``prange`` loops on ``n`` threads."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.old = numba.get_num_threads()
        numba.set_num_threads(self.n)

    def __exit__(self, *exc):
        numba.set_num_threads(self.old)


# ---------------------------------------------------------------------------
# pack / unpack
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def _nb_pack(bits, n_words):
    n, m = bits.shape
    out = np.zeros((n, n_words), dtype=np.uint64)
    for i in prange(n):
        for w in range(n_words):
            start = w * WORD
            stop = min(start + WORD, m)
            word = np.uint64(0)
            for j in range(start, stop):
                if bits[i, j]:
                    word |= np.uint64(1) << np.uint64(j - start)
            out[i, w] = word
    return out


@njit(cache=True, parallel=True)
def _nb_unpack(words, n_bits):
    n = words.shape[0]
    out = np.zeros((n, n_bits), dtype=np.bool_)
    for i in prange(n):
        for j in range(n_bits):
            out[i, j] = (words[i, j // WORD] >> np.uint64(j % WORD)) & np.uint64(1)
    return out


_PACK_KINDS = ("auto", "binary", "bipolar", "heaviside")


def pack_bits(x, kind="auto"):
    """Pack a 2-D array of bits into uint64 words, LSB first, zero padding.

    Parameters
    ----------
    x : ndarray of shape (n_rows, n_bits)
        bool, 0/1 (binary), ±1 (bipolar; a 0 entry maps to bit 1 as H(0) = 1),
        or any finite real values with ``kind="heaviside"``.
    kind : {"auto", "binary", "bipolar", "heaviside"}, default="auto"
        How values map to bits. ``"auto"``: bool -> as is; any negative value ->
        bipolar; otherwise values must be 0/1. ``"binary"``: values in {0, 1}.
        ``"bipolar"``: values in {-1, 0, +1}, bit = H(x). ``"heaviside"``: bit =
        H(x) = (x >= 0) for any finite real x.

    Returns
    -------
    packed : ndarray of uint64, shape (n_rows, ceil(n_bits / 64))

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import pack_bits
    >>> pack_bits(np.array([[1, -1, 1]]))          # bits 1, 0, 1 -> 0b101
    array([[5]], dtype=uint64)

    References
    ----------
    Hersche et al. 2020, eq. (5) (Heaviside step function).
    """
    _check_2d(x, "x")
    if kind not in _PACK_KINDS:
        raise ValueError(f"kind must be one of {_PACK_KINDS}, got {kind!r}")
    if x.dtype == np.bool_:
        if kind in ("bipolar", "heaviside"):
            raise TypeError(f"x is boolean; kind={kind!r} expects numeric values")
        bits = x
    else:
        if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
            raise TypeError(f"x must be bool, integer or float, got dtype {x.dtype}")
        if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
            bad = np.argwhere(~np.isfinite(x))[0]
            raise ValueError(f"x contains NaN or Inf (first at row {bad[0]}, column {bad[1]})")
        if kind == "auto":
            kind = "bipolar" if x.size and x.min() < 0 else "binary"
        if kind == "binary":
            ok = (x == 0) | (x == 1)
            if not ok.all():
                bad = np.argwhere(~ok)[0]
                raise ValueError(
                    f"x must hold binary values 0/1 for kind='binary', got {x[tuple(bad)]!r} "
                    f"at row {bad[0]}, column {bad[1]}"
                )
            bits = x != 0
        elif kind == "bipolar":
            ok = (x == -1) | (x == 0) | (x == 1)
            if not ok.all():
                bad = np.argwhere(~ok)[0]
                raise ValueError(
                    f"x must hold bipolar values -1/+1 (0 maps to +1) for kind='bipolar', got "
                    f"{x[tuple(bad)]!r} at row {bad[0]}, column {bad[1]}; use kind='heaviside' "
                    "to binarize real values"
                )
            bits = x >= 0
        else:
            bits = x >= 0
    return _nb_pack(np.ascontiguousarray(bits), n_words_for(x.shape[1]))


def unpack_bits(words, n_bits, kind="binary"):
    """Unpack uint64 words into a 2-D bool (binary) or int8 (bipolar) array.

    Parameters
    ----------
    words : ndarray of uint64, shape (n_rows, n_words)
    n_bits : int
        Number of valid bits per row (``ceil(n_bits / 64) == n_words``).
    kind : {"binary", "bipolar"}, default="binary"
        ``"binary"`` returns bool; ``"bipolar"`` returns int8 ±1 (bit 1 -> +1).

    Returns
    -------
    ndarray of shape (n_rows, n_bits)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import unpack_bits
    >>> unpack_bits(np.array([[5]], dtype=np.uint64), 3, kind="bipolar")
    array([[ 1, -1,  1]], dtype=int8)
    """
    words = _check_packed(words, "words")
    n_bits = _check_n_bits(n_bits, words.shape[1])
    if kind not in ("binary", "bipolar"):
        raise ValueError(f"kind must be 'binary' or 'bipolar', got {kind!r}")
    bits = _nb_unpack(words, n_bits)
    if kind == "binary":
        return bits
    return (bits.astype(np.int8) << 1) - np.int8(1)


# ---------------------------------------------------------------------------
# popcount and Hamming distances
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def _nb_popcount(words):
    n, nw = words.shape
    out = np.zeros(n, dtype=np.uint32)
    for i in prange(n):
        acc = np.uint64(0)
        for k in range(nw):
            acc += _ctpop(words[i, k])
        out[i] = np.uint32(acc)
    return out


def popcount(words):
    """Number of set bits per row of packed words.

    Parameters
    ----------
    words : ndarray of uint64, shape (n_rows, n_words)

    Returns
    -------
    ndarray of uint32, shape (n_rows,)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import popcount
    >>> popcount(np.array([[0b1011, 1]], dtype=np.uint64))
    array([4], dtype=uint32)
    """
    words = _check_packed(words, "words")
    return _nb_popcount(words)


# Database codes are processed in blocks transposed to (n_words, block) so the
# innermost loop runs over contiguous codes: LLVM vectorizes it (vpopcntq on
# AVX-512 VPOPCNTDQ) and the block stays in L1/L2 while all queries visit it.
_BLOCK = 512


@njit(cache=True, inline="always")
def _transpose_block(B, start, stop, Bt):
    nw = B.shape[1]
    for j in range(start, stop):
        for k in range(nw):
            Bt[k, j - start] = B[j, k]


@njit(cache=True, inline="always")
def _hamming_row_block(a, Bt, m, dist):
    """dist[:m] = Hamming(a, each of the m transposed codes in Bt)."""
    nw = Bt.shape[0]
    for j in range(m):
        dist[j] = 0
    for k in range(nw):
        ak = a[k]
        row = Bt[k]
        for j in range(m):
            dist[j] += _ctpop(ak ^ row[j])


@njit(cache=True, parallel=True)
def _nb_cdist(A, B, n_chunks):
    na, nw = A.shape
    nb = B.shape[0]
    out = np.empty((na, nb), dtype=np.uint32)
    chunk = (na + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, na)
        Bt = np.empty((nw, _BLOCK), dtype=np.uint64)
        dist = np.empty(_BLOCK, dtype=np.uint64)
        for start in range(0, nb, _BLOCK):
            stop = min(start + _BLOCK, nb)
            m = stop - start
            _transpose_block(B, start, stop, Bt)
            for i in range(lo, hi):
                _hamming_row_block(A[i], Bt, m, dist)
                for j in range(m):
                    out[i, start + j] = np.uint32(dist[j])
    return out


@njit(cache=True, parallel=True)
def _nb_topk(A, B, k, n_chunks):
    """k smallest distances per query, ties broken by the lower database index."""
    na, nw = A.shape
    nb = B.shape[0]
    best_d = np.empty((na, k), dtype=np.int64)
    best_i = np.empty((na, k), dtype=np.int64)
    big = np.iinfo(np.int64).max
    chunk = (na + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, na)
        for i in range(lo, hi):
            for t in range(k):
                best_d[i, t] = big
                best_i[i, t] = -1
        Bt = np.empty((nw, _BLOCK), dtype=np.uint64)
        dist = np.empty(_BLOCK, dtype=np.uint64)
        for start in range(0, nb, _BLOCK):
            stop = min(start + _BLOCK, nb)
            m = stop - start
            _transpose_block(B, start, stop, Bt)
            for i in range(lo, hi):
                _hamming_row_block(A[i], Bt, m, dist)
                worst = best_d[i, k - 1]
                for j in range(m):
                    d = np.int64(dist[j])
                    if d < worst:
                        # insertion into the sorted list (strict < keeps lower index first)
                        t = k - 1
                        while t > 0 and best_d[i, t - 1] > d:
                            best_d[i, t] = best_d[i, t - 1]
                            best_i[i, t] = best_i[i, t - 1]
                            t -= 1
                        best_d[i, t] = d
                        best_i[i, t] = start + j
                        worst = best_d[i, k - 1]
    return best_i, best_d


def _chunks(n_rows, n_threads):
    return max(1, min(n_threads, n_rows)) if n_rows else 1


def hamming_cdist(A, B, *, n_jobs=None):
    """Pairwise Hamming distances between packed rows of ``A`` and ``B``.

    Parameters
    ----------
    A : ndarray of uint64, shape (n_a, n_words)
    B : ndarray of uint64, shape (n_b, n_words)
    n_jobs : int or None, default=None
        Threads for the parallel loop over rows of ``A`` (None: 1, -1: all).
        Results are identical for every thread count.

    Returns
    -------
    ndarray of uint32, shape (n_a, n_b)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import hamming_cdist, pack_bits
    >>> A = pack_bits(np.array([[1, 1, 0, 0]]))
    >>> B = pack_bits(np.array([[1, 0, 0, 0], [0, 0, 1, 1]]))
    >>> hamming_cdist(A, B)
    array([[1, 4]], dtype=uint32)
    """
    A, B = _check_pair(A, B)
    n = _n_threads(n_jobs)
    with _threads(n):
        return _nb_cdist(A, B, _chunks(A.shape[0], n))


def hamming_topk(A, B, k, *, n_jobs=None):
    """Indices and distances of the ``k`` nearest rows of ``B`` for each row of ``A``.

    Never materializes the full distance matrix: ``B`` is visited in blocks.
    Neighbours are sorted by distance; ties go to the lower index of ``B``.

    Parameters
    ----------
    A : ndarray of uint64, shape (n_a, n_words)
        Queries.
    B : ndarray of uint64, shape (n_b, n_words)
        Database codes.
    k : int
        Number of neighbours, ``1 <= k <= n_b``.
    n_jobs : int or None, default=None
        Threads (None: 1, -1: all); results do not depend on it.

    Returns
    -------
    indices : ndarray of int64, shape (n_a, k)
    distances : ndarray of uint32, shape (n_a, k)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import hamming_topk, pack_bits
    >>> B = pack_bits(np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0]]))
    >>> idx, dist = hamming_topk(pack_bits(np.array([[1, 1, 0]])), B, 2)
    >>> idx, dist
    (array([[1, 2]]), array([[1, 1]], dtype=uint32))
    """
    A, B = _check_pair(A, B)
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    if not 1 <= k <= B.shape[0]:
        raise ValueError(f"k must be in [1, n_b={B.shape[0]}], got k={k}")
    n = _n_threads(n_jobs)
    with _threads(n):
        idx, dist = _nb_topk(A, B, int(k), _chunks(A.shape[0], n))
    return idx, dist.astype(np.uint32)


def hamming_argmin(A, B, *, n_jobs=None):
    """Index of the nearest row of ``B`` (Hamming) for each row of ``A``.

    Ties go to the lower index (as ``np.argmin`` on the distance matrix).
    Never materializes the full distance matrix.

    Parameters
    ----------
    A : ndarray of uint64, shape (n_a, n_words)
    B : ndarray of uint64, shape (n_b, n_words), n_b >= 1
    n_jobs : int or None, default=None

    Returns
    -------
    indices : ndarray of int64, shape (n_a,)
    distances : ndarray of uint32, shape (n_a,)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import hamming_argmin, pack_bits
    >>> B = pack_bits(np.array([[0, 0, 0], [1, 1, 1]]))
    >>> hamming_argmin(pack_bits(np.array([[1, 1, 0], [0, 0, 1]])), B)
    (array([1, 0]), array([1, 1], dtype=uint32))

    References
    ----------
    Hersche et al. 2020, eq. (13).
    """
    A, B = _check_pair(A, B)
    if B.shape[0] == 0:
        raise ValueError("B must hold at least one code, got shape " f"{B.shape}")
    idx, dist = hamming_topk(A, B, 1, n_jobs=n_jobs)
    return idx[:, 0], dist[:, 0]


def bipolar_dot(A, B, n_bits, *, n_jobs=None):
    """Exact ±1 dot products of packed rows: ``n_bits - 2 * hamming``.

    Parameters
    ----------
    A : ndarray of uint64, shape (n_a, n_words)
    B : ndarray of uint64, shape (n_b, n_words)
    n_bits : int
        Valid bits per row.
    n_jobs : int or None, default=None

    Returns
    -------
    ndarray of int64, shape (n_a, n_b)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import bipolar_dot, pack_bits
    >>> a, b = np.array([[1, -1, 1]]), np.array([[1, 1, 1]])
    >>> bipolar_dot(pack_bits(a), pack_bits(b), 3)
    array([[1]])

    References
    ----------
    Hersche et al. 2020, eq. (7)-(10).
    """
    A, B = _check_pair(A, B)
    n_bits = _check_n_bits(n_bits, A.shape[1])
    return np.int64(n_bits) - 2 * hamming_cdist(A, B, n_jobs=n_jobs).astype(np.int64)


# ---------------------------------------------------------------------------
# multi-level XNOR-popcount matmul (MuBiNN eq. 9)
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def _nb_mlb_matmul(Xp, xs, Wp, ws, n_bits):
    Lx, n, nw = Xp.shape
    Lw, m, _ = Wp.shape
    out = np.zeros((n, m), dtype=np.float64)
    for r in prange(n):
        for c in range(m):
            acc = 0.0
            for i in range(Lx):
                for j in range(Lw):
                    h = np.uint64(0)
                    for k in range(nw):
                        h += _ctpop(Xp[i, r, k] ^ Wp[j, c, k])
                    dot = n_bits - 2 * np.int64(h)
                    acc += xs[i, r] * ws[j, c] * dot
            out[r, c] = acc
    return out


def _check_planes(planes, scales, name):
    if not isinstance(planes, np.ndarray) or planes.ndim != 3:
        shape = getattr(planes, "shape", None)
        raise ValueError(f"{name}_planes must be a 3-D array (levels, rows, words), got shape {shape}")
    if planes.dtype != np.uint64:
        raise TypeError(f"{name}_planes must be packed uint64 words, got dtype {planes.dtype}")
    scales = np.asarray(scales, dtype=np.float64)
    L, n, _ = planes.shape
    if scales.shape == (L,):
        scales = np.repeat(scales[:, None], n, axis=1)
    elif scales.shape != (L, n):
        raise ValueError(
            f"{name}_scales must have shape ({L},) or ({L}, {n}) for {name}_planes of shape "
            f"{planes.shape}, got {scales.shape}"
        )
    if not np.all(np.isfinite(scales)):
        raise ValueError(f"{name}_scales contains NaN or Inf")
    return np.ascontiguousarray(planes), np.ascontiguousarray(scales)


def multilevel_matmul(X_planes, x_scales, W_planes, w_scales, n_bits, *, n_jobs=None):
    """Product of two multi-level binarized matrices through XNOR-popcount.

    ``out[r, c] = sum_i sum_j x_scales[i, r] * w_scales[j, c] * bipolar_dot(X_i[r], W_j[c])``,
    equal to ``X_hat @ W_hat.T`` with ``X_hat = sum_i x_scales[i] * X_i`` the
    reconstructed values (bipolar planes), up to float rounding.

    Parameters
    ----------
    X_planes : ndarray of uint64, shape (L_x, n, n_words)
        Packed bipolar bit planes of the left operand (rows are vectors).
    x_scales : ndarray, shape (L_x,) or (L_x, n)
        Per-level scales, per tensor or per row.
    W_planes : ndarray of uint64, shape (L_w, m, n_words)
        Packed bipolar bit planes of the right operand (rows are vectors).
    w_scales : ndarray, shape (L_w,) or (L_w, m)
    n_bits : int
        Valid bits per row (vector length).
    n_jobs : int or None, default=None

    Returns
    -------
    ndarray of float64, shape (n, m)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import multilevel_matmul, pack_bits
    >>> X = np.array([[1, -1, 1, 1]]); W = np.array([[1, 1, -1, 1]])
    >>> out = multilevel_matmul(pack_bits(X)[None], [0.5], pack_bits(W)[None], [2.0], 4)
    >>> float(out[0, 0]), float(((0.5 * X) @ (2.0 * W).T)[0, 0])
    (0.0, 0.0)

    References
    ----------
    MuBiNN, Algorithm 1 and eq. (9).
    """
    Xp, xs = _check_planes(X_planes, x_scales, "X")
    Wp, ws = _check_planes(W_planes, w_scales, "W")
    if Xp.shape[2] != Wp.shape[2]:
        raise ValueError(
            f"X_planes and W_planes must have the same words per row, got {Xp.shape} and {Wp.shape}"
        )
    n_bits = _check_n_bits(n_bits, Xp.shape[2])
    n = _n_threads(n_jobs)
    with _threads(n):
        return _nb_mlb_matmul(Xp, xs, Wp, ws, n_bits)

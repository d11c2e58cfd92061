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
AVX-512 VPOPCNTDQ, to ``vpopcntq``. The data layouts that make the inner loops
vectorize, and how the assembly was checked, are described in the comment
above ``_SHORT_WORDS`` and in :mod:`eegbin.kernels.xnor`.

References
----------
Hersche et al. 2020, eq. (7)-(10) (bipolar dot product = d - 2 Hamming distance);
MuBiNN, eq. (9) (multi-level XNOR-popcount products).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.core import types
from numba.extending import intrinsic

from . import xnor
from .checks import WORD, all_finite, check_int, check_n_bits, check_packed, check_padding, check_real_array
from .threads import threads

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

@intrinsic
def _ctpop(typingctx, x):
    """LLVM ``ctpop`` on a uint64 (hardware POPCNT / VPOPCNTQ)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


def n_words_for(n_bits: int) -> int:
    """Number of uint64 words that hold ``n_bits`` bits (an integer >= 0).

    Examples
    --------
    >>> from eegbin.kernels import n_words_for
    >>> n_words_for(64), n_words_for(65), n_words_for(0)
    (1, 2, 0)
    """
    return (check_int(n_bits, "n_bits", 0) + WORD - 1) // WORD


# ---------------------------------------------------------------------------
# validation helpers (pure Python, run before numba)
# ---------------------------------------------------------------------------


def _check_2d(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {x.shape} ({x.ndim}-D)")
    return x


def _check_pair(A, B):
    A = check_packed(A, "A")
    B = check_packed(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"A and B must have the same number of words per row, got A {A.shape} and B {B.shape}"
        )
    return A, B


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


def pack_bits(x, kind="auto", *, n_jobs=None):
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
    n_jobs : int or None, default=None
        Threads for the parallel loop over rows (None: 1, -1: all).

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
        if x.dtype.kind == "c":
            raise ValueError(f"Complex data not supported: x must be bool, integer or float, got dtype {x.dtype}")
        if x.dtype.kind not in "iuf":
            raise TypeError(f"x must be bool, integer or float, got dtype {x.dtype}")
        if np.issubdtype(x.dtype, np.floating) and not all_finite(x):
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
    with threads(n_jobs):
        return _nb_pack(np.ascontiguousarray(bits), n_words_for(x.shape[1]))


def unpack_bits(words, n_bits, kind="binary", *, n_jobs=None):
    """Unpack uint64 words into a 2-D bool (binary) or int8 (bipolar) array.

    Parameters
    ----------
    words : ndarray of uint64, shape (n_rows, n_words)
    n_bits : int
        Number of valid bits per row (``ceil(n_bits / 64) == n_words``).
    kind : {"binary", "bipolar"}, default="binary"
        ``"binary"`` returns bool; ``"bipolar"`` returns int8 ±1 (bit 1 -> +1).
    n_jobs : int or None, default=None
        Threads for the parallel loop over rows (None: 1, -1: all).

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
    words = check_packed(words, "words")
    n_bits = check_n_bits(n_bits, words.shape[1])
    check_padding(words, n_bits, "words")
    if kind not in ("binary", "bipolar"):
        raise ValueError(f"kind must be 'binary' or 'bipolar', got {kind!r}")
    with threads(n_jobs):
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


def popcount(words, *, n_jobs=None):
    """Number of set bits per row of packed words.

    Parameters
    ----------
    words : ndarray of uint64, shape (n_rows, n_words)
    n_jobs : int or None, default=None
        Threads for the parallel loop over rows (None: 1, -1: all).

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
    words = check_packed(words, "words")
    with threads(n_jobs):
        return _nb_popcount(words)


# Two distance-tile layouts, chosen by code length (``_SHORT_WORDS``):
#
# * short codes (the search regime, e.g. 256 bits = 4 words): the database is
#   transposed once into blocks of shape (n_words, block) (``_nb_transpose_blocks``)
#   so the innermost loop runs over *contiguous codes*; ``_row_block`` handles 4
#   words per pass, LLVM vectorizes the loop over codes (``vpopcntq zmm`` on
#   AVX-512 VPOPCNTDQ) and the 16 kB block stays in L1 while every query of the
#   thread visits it. Each query's distances to a block go to a small buffer that
#   is consumed at once (copied, min-reduced, or top-k inserted).
# * long codes (the binarized-SVM regime, e.g. 100 000 bits = 1 563 words):
#   row-major 2 x 2 register tiles (2 queries x 2 codes, 4 accumulators) whose
#   innermost loop is a vectorized popcount reduction over words, with the words
#   split in chunks of ``_KC`` so the database tile stays in L2 (``_tile_long``).
#
# How the assembly was checked (numba 0.68 / LLVM, AMD EPYC znver4 whose
# /proc/cpuinfo lists avx512_vpopcntdq), with a fresh NUMBA_CACHE_DIR because
# numba cannot inspect code loaded from its cache:
#   import re, numpy as np; from eegbin.kernels import bits
#   A = np.zeros((3, 4), np.uint64); bits.hamming_argmin(A, A)   # compile
#   asm = "".join(bits._nb_search.inspect_asm().values())
#   set(re.findall(r"vpopcntq\s+\S+\s*%([xyz])mm", asm))         # -> {'y', 'z'}
# (one compiled function holds both layouts; 53 scalar ``popcntq`` remain in
# loop remainders). On Intel cores LLVM's tuning prefers 256-bit vectors, so the
# same loops give ``vpopcntq ymm``; the multi-level products
# (:mod:`eegbin.kernels.xnor`) use explicit 512-bit vectors (:mod:`._simd`)
# instead. On CPUs without VPOPCNTDQ LLVM emits scalar ``popcnt``.
# tests/kernels/test_bits.py re-checks on the test machine that ``_ctpop`` in
# a word loop lowers to a popcount instruction (vpopcntq when available).
_SHORT_WORDS = 64  # codes of at most this many words use the transposed layout (measured crossover 64..128)
_KC = 512  # word chunk of the long-code tiles
_QB = 64  # queries per long-code tile
_JB = 64  # database codes per long-code tile


def _block_for(n_words):
    """Codes per transposed block: about 16 kB of database words (L1), 64..512."""
    return max(64, min(512, 2048 // max(n_words, 1)))


def _pad_words(n_words):
    """Words rounded up to a multiple of 4 (zero words add 0 to every distance)."""
    return (n_words + 3) // 4 * 4


@njit(cache=True, parallel=True)
def _nb_transpose_blocks(B, block, nw_pad):
    """B (n_b, n_words) -> (n_blocks, nw_pad, block), zero padded (words and codes)."""
    nb, nw = B.shape
    n_blocks = (nb + block - 1) // block
    Bt = np.zeros((n_blocks, nw_pad, block), dtype=np.uint64)
    for b in prange(n_blocks):
        for j in range(b * block, min(nb, (b + 1) * block)):
            for k in range(nw):
                Bt[b, k, j - b * block] = B[j, k]
    return Bt


@njit(cache=True, inline="always")
def _row_block(a, Bt, m, dist):
    """dist[:m] = Hamming(a, each of the first m transposed codes of Bt (n_words, block)).

    One pass over the block per 4 words; callers zero-pad to a multiple of 4
    words (``_pad_words``) so short codes take a single pass.
    """
    nw = Bt.shape[0]
    n4 = nw // 4
    for p in range(n4):
        k = 4 * p
        a0 = a[k]
        a1 = a[k + 1]
        a2 = a[k + 2]
        a3 = a[k + 3]
        r0 = Bt[k]
        r1 = Bt[k + 1]
        r2 = Bt[k + 2]
        r3 = Bt[k + 3]
        if p == 0:
            for j in range(m):
                dist[j] = (_ctpop(a0 ^ r0[j]) + _ctpop(a1 ^ r1[j])) + (
                    _ctpop(a2 ^ r2[j]) + _ctpop(a3 ^ r3[j])
                )
        else:
            for j in range(m):
                dist[j] += (_ctpop(a0 ^ r0[j]) + _ctpop(a1 ^ r1[j])) + (
                    _ctpop(a2 ^ r2[j]) + _ctpop(a3 ^ r3[j])
                )
    if n4 == 0:
        for j in range(m):
            dist[j] = 0
    for k in range(4 * n4, nw):
        ak = a[k]
        r = Bt[k]
        for j in range(m):
            dist[j] += _ctpop(ak ^ r[j])


@njit(cache=True, inline="always")
def _tile_long(A, i0, i1, B, j0, j1, tile):
    """tile[i - i0, j - j0] = Hamming(A[i], B[j]) with 2 x 2 register tiles."""
    nw = A.shape[1]
    for i in range(i1 - i0):
        for j in range(j1 - j0):
            tile[i, j] = 0
    for k0 in range(0, nw, _KC):
        k1 = min(nw, k0 + _KC)
        for i in range(i0, i1, 2):
            i2 = min(i + 1, i1 - 1)
            a = A[i, k0:k1]
            a2 = A[i2, k0:k1]
            for j in range(j0, j1, 2):
                j2 = min(j + 1, j1 - 1)
                b = B[j, k0:k1]
                b2 = B[j2, k0:k1]
                c00 = np.uint64(0)
                c01 = np.uint64(0)
                c10 = np.uint64(0)
                c11 = np.uint64(0)
                for k in range(k1 - k0):
                    x = a[k]
                    y = a2[k]
                    u = b[k]
                    v = b2[k]
                    c00 += _ctpop(x ^ u)
                    c01 += _ctpop(x ^ v)
                    c10 += _ctpop(y ^ u)
                    c11 += _ctpop(y ^ v)
                tile[i - i0, j - j0] += c00
                if j2 != j:
                    tile[i - i0, j2 - j0] += c01
                if i2 != i:
                    tile[i2 - i0, j - j0] += c10
                    if j2 != j:
                        tile[i2 - i0, j2 - j0] += c11


@njit(cache=True, inline="always")
def _consume_min(dist, m, offset, best_d, best_i, i):
    """Running argmin: keep the first index of the smallest distance."""
    mn = dist[0]
    for j in range(m):
        mn = min(mn, dist[j])
    if np.int64(mn) < best_d[i]:
        for j in range(m):
            if dist[j] == mn:
                best_d[i] = np.int64(mn)
                best_i[i] = offset + j
                break


@njit(cache=True, inline="always")
def _consume_topk(dist, m, offset, best_d, best_i, i, k):
    """Insert a block's distances into row i's sorted top-k (ties: lower index first)."""
    worst = best_d[i, k - 1]
    for j in range(m):
        d = np.int64(dist[j])
        if d < worst:
            t = k - 1
            while t > 0 and best_d[i, t - 1] > d:
                best_d[i, t] = best_d[i, t - 1]
                best_i[i, t] = best_i[i, t - 1]
                t -= 1
            best_d[i, t] = d
            best_i[i, t] = offset + j
            worst = best_d[i, k - 1]


# The three searches share one driver shape: threads take contiguous chunks of
# queries; each walks the database block by block and consumes every block's
# distances at once. ``mode``: 0 = cdist, 1 = argmin, 2 = top-k. The work of a
# query never depends on the chunking, so results are identical for any n_jobs.
@njit(cache=True, parallel=True)
def _nb_search(A, B, Bt, short, mode, k, n_chunks):
    na, nw = A.shape
    nb = B.shape[0]
    out = np.empty((na if mode == 0 else 0, nb), dtype=np.uint32)
    kk = 1 if mode == 0 else k
    best_d = np.full((na if mode != 0 else 0, kk), np.iinfo(np.int64).max, dtype=np.int64)
    best_i = np.full((na if mode != 0 else 0, kk), -1, dtype=np.int64)
    chunk = (na + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, na)
        if short:
            block = Bt.shape[2]
            dist = np.empty(block, dtype=np.uint64)
            for b in range(Bt.shape[0]):
                off = b * block
                m = min(block, nb - off)
                Btb = Bt[b]
                for i in range(lo, hi):
                    _row_block(A[i], Btb, m, dist)
                    if mode == 0:
                        for j in range(m):
                            out[i, off + j] = np.uint32(dist[j])
                    elif mode == 1:
                        _consume_min(dist, m, off, best_d[:, 0], best_i[:, 0], i)
                    else:
                        _consume_topk(dist, m, off, best_d, best_i, i, k)
        else:
            tile = np.empty((_QB, _JB), dtype=np.uint64)
            for i0 in range(lo, hi, _QB):
                i1 = min(hi, i0 + _QB)
                for off in range(0, nb, _JB):
                    j1 = min(nb, off + _JB)
                    m = j1 - off
                    _tile_long(A, i0, i1, B, off, j1, tile)
                    for i in range(i0, i1):
                        if mode == 0:
                            for j in range(m):
                                out[i, off + j] = np.uint32(tile[i - i0, j])
                        elif mode == 1:
                            _consume_min(tile[i - i0], m, off, best_d[:, 0], best_i[:, 0], i)
                        else:
                            _consume_topk(tile[i - i0], m, off, best_d, best_i, i, k)
    return out, best_i, best_d


def _search(A, B, mode, k, n_jobs):
    nw = A.shape[1]
    with threads(n_jobs) as n:
        short = nw <= _SHORT_WORDS
        if short:
            nw_pad = _pad_words(nw)
            Bt = _nb_transpose_blocks(B, _block_for(nw_pad), nw_pad)
            if nw_pad != nw:
                A_pad = np.zeros((A.shape[0], nw_pad), dtype=np.uint64)
                A_pad[:, :nw] = A
                A = A_pad
        else:
            Bt = np.zeros((0, nw, 1), dtype=np.uint64)
        return _nb_search(A, B, Bt, short, mode, k, _chunks(A.shape[0], n))


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
        ``out[i, j]``: the bits where row ``i`` of ``A`` and row ``j`` of ``B`` differ.

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
    return _search(A, B, 0, 1, n_jobs)[0]


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
    if B.shape[0] == 0:
        raise ValueError(f"B must have at least one row to search, got shape {B.shape}")
    k = check_int(k, "k", 1, B.shape[0])  # at most the rows of B
    _, idx, dist = _search(A, B, 2, k, n_jobs)
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
    _, idx, dist = _search(A, B, 1, 1, n_jobs)
    return idx[:, 0], dist[:, 0].astype(np.uint32)


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
        ``out[i, j]``: the dot product of the ±1 vectors of row ``i`` of ``A`` and row ``j`` of ``B``.

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
    n_bits = check_n_bits(n_bits, A.shape[1])
    check_padding(A, n_bits, "A")
    check_padding(B, n_bits, "B")
    return np.int64(n_bits) - 2 * hamming_cdist(A, B, n_jobs=n_jobs).astype(np.int64)


# ---------------------------------------------------------------------------
# multi-level XNOR-popcount matmul (MuBiNN eq. 9)
# ---------------------------------------------------------------------------


def _check_planes(planes, scales, name, sname):
    if not isinstance(planes, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(planes).__name__}")
    if planes.ndim != 3:
        raise ValueError(
            f"{name} must be 3-D (levels, rows, words), got shape {planes.shape}"
        )
    if planes.dtype != np.uint64:
        raise TypeError(f"{name} must be packed uint64 words, got dtype {planes.dtype}")
    L, n, _ = planes.shape
    return np.ascontiguousarray(planes), _check_scales(scales, sname, L, n, f"{name} of shape {planes.shape}")


def _check_scales(scales, sname, L, n, of):
    """Scales of ``L`` planes of ``n`` rows, shape (L,) or (L, n), as a C-order float64 (L, n) array.

    ``of`` says what the planes are, for the shape message. Strings, objects and
    bool are a ``TypeError``, complex, NaN, Inf and a wrong shape a ``ValueError``
    (:mod:`eegbin.kernels.checks`), each naming ``sname``.
    """
    scales = check_real_array(scales, sname).astype(np.float64)
    if scales.shape == (L,):
        scales = np.repeat(scales[:, None], n, axis=1)
    elif scales.shape != (L, n):
        raise ValueError(f"{sname} must have shape ({L},) or ({L}, {n}) for {of}, got {scales.shape}")
    return np.ascontiguousarray(scales)


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

    Notes
    -----
    Evaluated as ``sum_j w_scales[j, c] * (n_bits * S_r - 2 * sum_i x_scales[i, r] * h_ij)``
    with ``h_ij = popcount(X_i[r] XOR W_j[c])`` and ``S_r`` the sum of the row's
    x scales, one rounding per fused multiply-add, in a fixed order
    (:mod:`eegbin.kernels.xnor`): the fused LSTM kernel gives bit-identical
    products. Eight output columns per 512-bit vector (``vpopcntq zmm`` on CPUs
    with AVX-512 VPOPCNTDQ).

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
    Xp, xs = _check_planes(X_planes, x_scales, "X_planes", "x_scales")
    Wp, ws = _check_planes(W_planes, w_scales, "W_planes", "w_scales")
    if Xp.shape[2] != Wp.shape[2]:
        raise ValueError(
            f"X_planes and W_planes must have the same words per row, got {Xp.shape} and {Wp.shape}"
        )
    n_bits = check_n_bits(n_bits, Xp.shape[2])
    check_padding(Xp, n_bits, "X_planes")
    check_padding(Wp, n_bits, "W_planes")
    if Xp.shape[2] == 0:  # zero-length vectors: every product is 0
        return np.zeros((Xp.shape[1], Wp.shape[1]))
    X, M2, C = xnor.left_operand(Xp, xs, n_bits)
    W, ws_pad = xnor.rows_operand(Wp, ws)
    with threads(n_jobs):
        return xnor.mm_rows(X, M2, C, W, ws_pad, Xp.shape[2], Wp.shape[1])

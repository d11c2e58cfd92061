"""Counter-based random bits for rematerialized random projections.

Every random word is a pure function of ``(seed, row, counter)``: nothing is
carried from one word to the next, so any block of rows of a random matrix is
regenerated bit for bit whatever the block size, the thread count, the process
or the machine. This is what lets a fitted projection store only its 32-bit
seed (Hersche et al. 2020, Sec. III-B, "rematerialization").

Generator (splitmix64 finalizer used as a keyed hash, in the spirit of Philox /
"counter-based" generators):

- ``mix64(z)`` is the splitmix64 output function (Steele et al. 2014);
- ``seed_key = mix64(seed + G)`` with ``G = 0x9E3779B97F4A7C15`` (golden ratio);
- ``row_key(row) = mix64(seed_key ^ mix64((row + 1) * G))``;
- ``word(seed, row, ctr) = mix64(row_key(row) + (ctr + 1) * G)``,

all in wrapping uint64 arithmetic. Rows and counters are independent streams.

Sparse bipolar ternary entries (eq. 6 of Hersche et al. 2020)
-------------------------------------------------------------
Entry ``r[i, j]`` uses the 16-bit lane ``j % 4`` of ``word(seed, i, j // 4)``
(lane 0 = bits 0-15, ..., lane 3 = bits 48-63) as a uniform integer
``u`` in ``[0, 65536)``. With the threshold ``t = round((1 - s) / 2 * 65536)``
(:func:`ternary_threshold`)::

    r = +1 if u < t,   r = -1 if t <= u < 2 t,   r = 0 otherwise,

so ``P(+1) = P(-1) = t / 65536`` exactly and ``P(0) = 1 - 2 t / 65536``. The
probabilities are those of eq. (6) quantized to multiples of 2**-16: the
effective sparsity differs from ``s`` by at most 2**-16 (for s = 0.9, t = 3277 and
P(+1) = P(-1) = 0.0500031).

References
----------
M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for Motor-Imagery
Brain-Computer Interface Classification", IEEE JETCAS 2020, eq. (4)-(6).
G. L. Steele, D. Lea, C. H. Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014 (splitmix64).
J. K. Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011
(counter-based generators).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .bits import n_words_for
from .checks import WORD, all_finite, check_allocation, check_int, check_real, check_real_dtype, check_seed
from .threads import threads

__all__ = [
    "random_words",
    "random_bits",
    "ternary_threshold",
    "sparse_ternary_block",
    "sparse_bipolar_project",
    "dense_bipolar_project",
    "check_projection_sparsity",
]

_G = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LANE_BITS = 16
_LANES = 4  # 16-bit uniforms per 64-bit word
_U16 = 1 << _LANE_BITS
MAX_BLOCK = 32704  # local row ids are int16


@njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _seed_key(seed):
    return _mix64(np.uint64(seed) + _G)


@njit(cache=True, inline="always")
def _row_key(seed_key, row):
    return _mix64(seed_key ^ _mix64((np.uint64(row) + np.uint64(1)) * _G))


@njit(cache=True, inline="always")
def _word(row_key, ctr):
    return _mix64(row_key + (np.uint64(ctr) + np.uint64(1)) * _G)


# ---------------------------------------------------------------------------
# validation (pure Python, before numba)
# ---------------------------------------------------------------------------


def _check_rows(row_start, row_stop):
    row_start = check_int(row_start, "row_start", 0, 2**63 - 1)
    row_stop = check_int(row_stop, "row_stop", 0, 2**63 - 1)
    if row_stop < row_start:
        raise ValueError(f"row_stop must be >= row_start={row_start}, got {row_stop}")
    return row_start, row_stop


def ternary_threshold(sparsity):
    """16-bit threshold ``t`` so that P(+1) = P(-1) = t / 65536 (eq. 6).

    Parameters
    ----------
    sparsity : float in [0, 1]
        Probability ``s`` of a zero entry.

    Returns
    -------
    int
        ``round((1 - s) / 2 * 65536)``, in ``[0, 32768]``.

    Examples
    --------
    >>> from eegbin.kernels import ternary_threshold
    >>> ternary_threshold(0.9), ternary_threshold(0.0), ternary_threshold(1.0)
    (3277, 32768, 0)
    """
    sparsity = check_real(sparsity, "sparsity", 0, 1)
    return int(round((1.0 - sparsity) / 2.0 * _U16))


# ---------------------------------------------------------------------------
# raw words and bits
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def _nb_random_words(seed, row_start, n_rows, n_words):
    key = _seed_key(seed)
    out = np.empty((n_rows, n_words), dtype=np.uint64)
    for r in prange(n_rows):
        rk = _row_key(key, row_start + r)
        for c in range(n_words):
            out[r, c] = _word(rk, c)
    return out


def random_words(seed, row_start, row_stop, n_words):
    """Random uint64 words ``word(seed, row, ctr)`` for rows ``row_start..row_stop-1``.

    Parameters
    ----------
    seed : int in [0, 2**32 - 1]
    row_start, row_stop : int
        Half-open range of row indices (stream ids).
    n_words : int
        Counters ``0..n_words-1`` per row.

    Returns
    -------
    ndarray of uint64, shape (row_stop - row_start, n_words)
        Word ``c`` of row ``r`` is ``word(seed, row_start + r, c)``: the same for
        any range that holds the row.

    Examples
    --------
    >>> from eegbin.kernels import random_words
    >>> a = random_words(0, 0, 4, 3)
    >>> bool((random_words(0, 2, 3, 3) == a[2:3]).all())   # any row range, same words
    True
    """
    seed = check_seed(seed)
    row_start, row_stop = _check_rows(row_start, row_stop)
    n_words = check_int(n_words, "n_words", 0)
    check_allocation(8 * (row_stop - row_start) * n_words, f"{row_stop - row_start} rows of words", "n_words")
    return _nb_random_words(seed, row_start, row_stop - row_start, n_words)


def random_bits(seed, row_start, row_stop, n_bits):
    """Packed i.i.d. fair random bits, ``n_bits`` per row (padding bits zero).

    Parameters
    ----------
    seed : int in [0, 2**32 - 1]
    row_start, row_stop : int
        Half-open range of row indices.
    n_bits : int
        Valid bits per row.

    Returns
    -------
    ndarray of uint64, shape (row_stop - row_start, ceil(n_bits / 64))

    Examples
    --------
    >>> from eegbin.kernels import random_bits, popcount
    >>> bits = random_bits(7, 0, 2, 100)
    >>> bits.shape, bool(popcount(bits >> 36 << 36)[0] == popcount(bits)[0] - popcount(bits << 28 >> 28)[0])
    ((2, 2), True)
    """
    n_bits = check_int(n_bits, "n_bits", 0)
    row_start, row_stop = _check_rows(row_start, row_stop)
    check_allocation(8 * (row_stop - row_start) * n_words_for(n_bits), "the random bits", "n_bits")
    words = random_words(seed, row_start, row_stop, n_words_for(n_bits))
    rem = n_bits % WORD
    if rem and words.shape[0]:
        words[:, -1] &= np.uint64((1 << rem) - 1)
    return words


# ---------------------------------------------------------------------------
# sparse bipolar ternary matrix
# ---------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def _nb_ternary_block(seed, row_start, n_rows, n_cols, t):
    key = _seed_key(seed)
    out = np.zeros((n_rows, n_cols), dtype=np.int8)
    t = np.uint64(t)
    t2 = np.uint64(2) * t
    mask = np.uint64(_U16 - 1)
    for r in prange(n_rows):
        rk = _row_key(key, row_start + r)
        for c in range((n_cols + _LANES - 1) // _LANES):
            w = _word(rk, c)
            for lane in range(_LANES):
                j = c * _LANES + lane
                if j >= n_cols:
                    break
                u = (w >> np.uint64(_LANE_BITS * lane)) & mask
                if u < t:
                    out[r, j] = 1
                elif u < t2:
                    out[r, j] = -1
    return out


def sparse_ternary_block(seed, row_start, row_stop, n_cols, sparsity):
    """Rows ``row_start..row_stop-1`` of the sparse bipolar matrix R as dense int8.

    Entries are +1, 0, -1 with probabilities (1-s)/2, s, (1-s)/2 (eq. 6),
    quantized to 16 bits as described in the module docstring.

    Parameters
    ----------
    seed : int in [0, 2**32 - 1]
    row_start, row_stop : int
        Half-open range of rows of R.
    n_cols : int
        Number of columns of R (input features).
    sparsity : float in [0, 1]

    Returns
    -------
    ndarray of int8, shape (row_stop - row_start, n_cols)
        Entries -1, 0, +1; a row is the same in any range that holds it.

    Examples
    --------
    >>> from eegbin.kernels import sparse_ternary_block
    >>> R = sparse_ternary_block(0, 0, 3, 8, sparsity=0.5)
    >>> R.dtype, R.shape, sorted(set(R.ravel().tolist())) <= [-1, 0, 1]
    (dtype('int8'), (3, 8), True)

    References
    ----------
    Hersche et al. 2020, eq. (6).
    """
    seed = check_seed(seed)
    row_start, row_stop = _check_rows(row_start, row_stop)
    n_cols = check_int(n_cols, "n_cols", 0)
    check_allocation((row_stop - row_start) * n_cols, f"{row_stop - row_start} rows of int8", "n_cols")
    t = ternary_threshold(sparsity)
    return _nb_ternary_block(seed, row_start, row_stop - row_start, n_cols, t)


# ---------------------------------------------------------------------------
# projection E = H(R x), R regenerated block by block
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _pack_block_signs(acc, n_rows, s0, s1, r0, out):
    """Set bit (r0 + i) of out[s] for acc[i, s - s0] >= 0 (H, eq. 5)."""
    for i in range(n_rows):
        row = r0 + i
        w = row // WORD
        bit = np.uint64(1) << np.uint64(row % WORD)
        for s in range(s0, s1):
            if acc[i, s - s0] >= 0:
                out[s, w] |= bit


@njit(cache=True)
def _nb_block_columns(key, r0, nb, n_f, t, keys, words, col_ptr, rows):
    """Nonzeros of rows r0..r0+nb-1 of R, column by column (CSC, local row ids).

    Column j's +1 rows are ``rows[col_ptr[2j]:col_ptr[2j+1]]`` and its -1 rows
    ``rows[col_ptr[2j+1]:col_ptr[2j+2]]``, each in increasing row order.
    Branch-free compaction: every candidate is written, the cursor advances
    only for the selected ones.
    """
    tt = np.uint64(t)
    t2 = np.uint64(2) * tt
    mask = np.uint64(_U16 - 1)
    for i in range(nb):
        keys[i] = _row_key(key, r0 + i)
    p = 0
    col_ptr[0] = 0
    for k in range((n_f + _LANES - 1) // _LANES):
        for i in range(nb):
            words[i] = _word(keys[i], k)
        for lane in range(_LANES):
            j = k * _LANES + lane
            if j >= n_f:
                break
            shift = np.uint64(_LANE_BITS * lane)
            for i in range(nb):
                rows[p] = i
                p += ((words[i] >> shift) & mask) < tt
            col_ptr[2 * j + 1] = p
            for i in range(nb):
                u = (words[i] >> shift) & mask
                rows[p] = i
                p += (u >= tt) & (u < t2)
            col_ptr[2 * j + 2] = p
    return p


@njit(cache=True, parallel=True)
def _nb_sparse_project(Xc, n_samples, seed, t, n_components, block, n_chunks):
    """Packed H(R x) for the samples of Xc (n_sample_chunks, n_features, chunk).

    Sparse add/subtract: for each block of ``block`` rows of R (a multiple of
    64, so blocks own whole output words) the block's nonzeros are regenerated
    once, column by column, then for each sample chunk and each feature j the
    feature row Xc[c, j] is added to (r = +1) or subtracted from (r = -1) the
    accumulators of the rows concerned (``block x chunk`` accumulators, sized
    to stay in L1/L2). Every accumulator sums its terms in increasing j: the
    result does not depend on block, chunk or thread count.
    """
    n_sc, n_f, sc = Xc.shape
    out = np.zeros((n_samples, (n_components + WORD - 1) // WORD), dtype=np.uint64)
    n_blocks = (n_components + block - 1) // block
    key = _seed_key(seed)
    per_chunk = (n_blocks + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        keys = np.empty(block, dtype=np.uint64)
        words = np.empty(block, dtype=np.uint64)
        col_ptr = np.empty(2 * n_f + 1, dtype=np.int64)
        rows = np.empty(block * n_f + 1, dtype=np.int16)
        acc = np.empty((block, sc), dtype=Xc.dtype)
        for b in range(c * per_chunk, min((c + 1) * per_chunk, n_blocks)):
            r0 = b * block
            nb = min(block, n_components - r0)
            _nb_block_columns(key, r0, nb, n_f, t, keys, words, col_ptr, rows)
            for q in range(n_sc):
                acc[:nb] = 0
                Xq = Xc[q]
                for j in range(n_f):
                    xj = Xq[j]
                    for p in range(col_ptr[2 * j], col_ptr[2 * j + 1]):
                        a = acc[rows[p]]
                        for s in range(sc):
                            a[s] += xj[s]
                    for p in range(col_ptr[2 * j + 1], col_ptr[2 * j + 2]):
                        a = acc[rows[p]]
                        for s in range(sc):
                            a[s] -= xj[s]
                _pack_block_signs(acc, nb, q * sc, min((q + 1) * sc, n_samples), r0, out)
    return out


@njit(cache=True, parallel=True)
def _nb_pack_signs(Z, r0, out):
    """Set bit (r0 + i) of out[s] for Z[s, i] >= 0 (r0 a multiple of 64)."""
    n, m = Z.shape
    n_w = (m + WORD - 1) // WORD
    for s in prange(n):
        for wi in range(n_w):
            word = np.uint64(0)
            for b in range(min(WORD, m - wi * WORD)):
                if Z[s, wi * WORD + b] >= 0:
                    word |= np.uint64(1) << np.uint64(b)
            out[s, r0 // WORD + wi] |= word


def _check_project_args(X, seed, n_components, sparsity, block_size):
    if not isinstance(X, np.ndarray):
        raise TypeError(f"X must be a numpy.ndarray, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    check_real_dtype(X, "X")
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"X must be float32 or float64, got dtype {X.dtype}")
    if not all_finite(X):
        raise ValueError("X contains NaN or Inf")
    seed = check_seed(seed)
    n_components = check_int(n_components, "n_components", 1)
    t = check_projection_sparsity(sparsity)
    block_size = check_int(block_size, "block_size", WORD)
    if block_size % WORD or block_size > MAX_BLOCK:
        raise ValueError(
            f"block_size must be a multiple of {WORD} in [64, {MAX_BLOCK}], got {block_size}"
        )
    check_allocation(X.shape[0] * n_words_for(n_components) * 8,
                     f"the packed output of {X.shape[0]} samples", "n_components")
    return seed, n_components, t, block_size


def check_projection_sparsity(sparsity):
    """:func:`ternary_threshold` of a projection's sparsity, refusing a matrix with no nonzero entry.

    With ``t = 0`` (``s = 1``, or ``1 - s <= 2**-16``) R is all zeros, so
    every output bit would be H(0) = 1 for every sample: refused with a
    ``ValueError``.
    """
    t = ternary_threshold(sparsity)
    if t == 0:
        raise ValueError(
            f"sparsity must be < 1 - 2**-16 so that R has nonzero entries (eq. 6 quantized to 16 "
            f"bits), got {sparsity!r}: every output bit would be H(0) = 1 for every sample"
        )
    return t


def sparse_bipolar_project(X, seed, n_components, sparsity, *, block_size=512,
                           sample_chunk=64, n_jobs=None):
    """Packed binary embedding ``E = H(R x)`` with R regenerated on the fly (eq. 4-6).

    R (``n_components`` x ``n_features``, sparse bipolar, eq. 6) is never
    stored: each block of ``block_size`` rows is regenerated from ``(seed, row)``
    (once, column by column) and applied to chunks of ``sample_chunk`` samples
    by sparse additions and subtractions of feature rows. Measured against
    materializing dense blocks of R for BLAS (:func:`dense_bipolar_project`),
    the sparse kernel wins at s = 0.9: 1.7 s versus 4.3 s (float32 sgemm) for
    576 x 10 879 features at d = 20 000 in one run of
    ``benchmarks/test_bench_projection.py`` (10x fewer operations, and no dense
    block of R to write).
    The sums run in ``X``'s dtype (float32 or float64), each in increasing
    feature order, so the result does not depend on ``block_size``,
    ``sample_chunk`` or ``n_jobs``.

    Parameters
    ----------
    X : ndarray of float32 or float64, shape (n_samples, n_features)
    seed : int in [0, 2**32 - 1]
    n_components : int
        Output bits d (rows of R).
    sparsity : float in [0, 1)
        Probability s of a zero entry of R (``s = 1`` is refused: R would be zero).
    block_size : int, default=512
        Rows of R per block (a multiple of 64, at most 32 704); memory per
        thread is ``block_size * sample_chunk`` accumulators plus the block's
        nonzeros (2 bytes each).
    sample_chunk : int, default=64
        Samples processed together per block.
    n_jobs : int or None, default=None
        Threads (None: 1, -1: all).

    Returns
    -------
    ndarray of uint64, shape (n_samples, ceil(n_components / 64))
        Packed ``H(R x)`` of each row (bit ``j`` from row ``j`` of R), padding bits zero.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import sparse_bipolar_project, sparse_ternary_block, pack_bits
    >>> X = np.random.RandomState(0).randn(3, 50)
    >>> E = sparse_bipolar_project(X, seed=1, n_components=70, sparsity=0.5)
    >>> R = sparse_ternary_block(1, 0, 70, 50, sparsity=0.5)
    >>> bool((E == pack_bits(X @ R.T, kind="heaviside")).all())
    True

    References
    ----------
    Hersche et al. 2020, eq. (4)-(6).
    """
    seed, n_components, t, block_size = _check_project_args(X, seed, n_components, sparsity, block_size)
    sample_chunk = check_int(sample_chunk, "sample_chunk", 1)
    n, n_f = X.shape
    sc = min(sample_chunk, max(1, n))
    n_sc = -(-n // sc)
    # samples in chunks of sc, each chunk transposed to (n_features, sc), zero padded
    Xc = np.zeros((n_sc * sc, n_f), dtype=X.dtype)
    Xc[:n] = X
    Xc = np.ascontiguousarray(Xc.reshape(n_sc, sc, n_f).transpose(0, 2, 1))
    n_blocks = -(-n_components // block_size)
    with threads(n_jobs) as n_threads:
        return _nb_sparse_project(
            Xc, n, seed, t, n_components, block_size, max(1, min(n_threads, n_blocks))
        )


def dense_bipolar_project(X, seed, n_components, sparsity, *, block_size=2048, n_jobs=None):
    """Same result as :func:`sparse_bipolar_project` through dense BLAS blocks.

    Each block of rows of R is materialized (dense, in ``X``'s dtype) and
    multiplied with ``X`` by BLAS (``sgemm``/``dgemm``). Kept to measure the
    dense alternative (see ``benchmarks/test_bench_projection.py``): it does
    10x the arithmetic of the sparse kernel at s = 0.9 and is slower there.
    BLAS sums in its own order, so signs of sums within rounding of 0 may
    differ from :func:`sparse_bipolar_project`.

    Parameters
    ----------
    X : ndarray of float32 or float64, shape (n_samples, n_features)
    seed, n_components, sparsity
        As in :func:`sparse_bipolar_project`.
    block_size : int, default=2048
        Rows of R materialized at a time (a multiple of 64).
    n_jobs : int or None, default=None
        Threads for generating R (BLAS uses its own thread pool).

    Returns
    -------
    ndarray of uint64, shape (n_samples, ceil(n_components / 64))
        The same packed bits as :func:`sparse_bipolar_project`, but for sums within
        rounding of 0.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import dense_bipolar_project
    >>> dense_bipolar_project(np.ones((1, 4)), 0, 3, 0.0).shape
    (1, 1)
    """
    seed, n_components, t, block_size = _check_project_args(X, seed, n_components, sparsity, block_size)
    n, n_f = X.shape
    out = np.zeros((n, n_words_for(n_components)), dtype=np.uint64)
    with threads(n_jobs):
        for r0 in range(0, n_components, block_size):
            r1 = min(r0 + block_size, n_components)
            R = _nb_ternary_block(seed, r0, r1 - r0, n_f, t).astype(X.dtype)
            _nb_pack_signs(X @ R.T, r0, out)
    return out

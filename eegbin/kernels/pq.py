"""Product-quantization kernels: hash-tree descent and lookup-table sums.

A product quantizer splits a row into ``m`` sub-vectors, replaces sub-vector
``j`` by the index ``k`` of one of ``K`` prototypes and approximates a linear
layer by summing table rows ``luts[j, k, :]``. A balanced binary regression tree
finds ``k`` with ``depth`` comparisons: at level ``t`` the node index ``i``
becomes ``2 i + [x[split_dims[j, t]] >= thresholds[j, 2**t - 1 + i]]``.

One kernel per operation, each with a thread count ``n_threads``: one thread runs
the kernel on the calling thread, more split the rows into as many contiguous
blocks, each run by the same one-thread kernel:

- :func:`hash_tree_encode`: prototype indices by tree descent;
- :func:`lut_sum`: table sums of given prototype indices;
- :func:`hash_tree_lut_sum`: both fused (no index array), tested equal to
  ``lut_sum(hash_tree_encode(X))``.

The Python wrappers validate every argument and raise ``TypeError``/``ValueError``
naming it before any numba code runs; the ``_nb_*`` functions assume valid input.

References
----------
D. Blalock, J. Guttag, "Multiplying Matrices Without Multiplying", ICML 2021
(MADDNESS), Algorithm 1; W. Feng et al., "An Efficient EEGNet Processor Design for
Portable EEG-Based BCIs", Section IV-C, Fig. 6.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .checks import check_real_array, check_real_dtype
from .threads import check_n_threads, threads

__all__ = ["hash_tree_encode", "hash_tree_lut_sum", "lut_sum"]


# ---------------------------------------------------------------------------
# numba kernels (valid input assumed)
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _leaf(X, r, split_dims, thresholds, j):
    """Leaf reached by row ``r`` in tree ``j`` (``depth`` comparisons)."""
    i = 0
    for t in range(split_dims.shape[1]):
        node = (1 << t) - 1 + i
        i = 2 * i + (1 if X[r, split_dims[j, t]] >= thresholds[j, node] else 0)
    return i


@njit(cache=True)
def _nb_hash_tree_encode(X, split_dims, thresholds, out):
    for r in range(X.shape[0]):
        for j in range(split_dims.shape[0]):
            out[r, j] = _leaf(X, r, split_dims, thresholds, j)


@njit(cache=True)
def _nb_lut_sum(indices, luts, out):
    n_out = luts.shape[2]
    for r in range(indices.shape[0]):
        for j in range(indices.shape[1]):
            k = indices[r, j]
            for o in range(n_out):
                out[r, o] += luts[j, k, o]


@njit(cache=True)
def _nb_hash_tree_lut_sum(X, split_dims, thresholds, luts, out):
    n_out = luts.shape[2]
    for r in range(X.shape[0]):
        for j in range(split_dims.shape[0]):
            k = _leaf(X, r, split_dims, thresholds, j)
            for o in range(n_out):
                out[r, o] += luts[j, k, o]


# Threads: each parallel kernel only splits the rows into n_blocks contiguous blocks
# and runs the one-thread kernel above on each, so the arithmetic is written once.


@njit(cache=True, inline="always")
def _block(b, n_rows, n_blocks):
    return b * n_rows // n_blocks, (b + 1) * n_rows // n_blocks


@njit(cache=True, parallel=True)
def _nb_hash_tree_encode_blocks(X, split_dims, thresholds, out, n_blocks):
    for b in prange(n_blocks):
        lo, hi = _block(b, X.shape[0], n_blocks)
        _nb_hash_tree_encode(X[lo:hi], split_dims, thresholds, out[lo:hi])


@njit(cache=True, parallel=True)
def _nb_lut_sum_blocks(indices, luts, out, n_blocks):
    for b in prange(n_blocks):
        lo, hi = _block(b, indices.shape[0], n_blocks)
        _nb_lut_sum(indices[lo:hi], luts, out[lo:hi])


@njit(cache=True, parallel=True)
def _nb_hash_tree_lut_sum_blocks(X, split_dims, thresholds, luts, out, n_blocks):
    for b in prange(n_blocks):
        lo, hi = _block(b, X.shape[0], n_blocks)
        _nb_hash_tree_lut_sum(X[lo:hi], split_dims, thresholds, luts, out[lo:hi])


def _run(kernel, blocks_kernel, n_threads, *args):
    """``kernel(*args)`` on the calling thread, or on ``n_threads`` blocks of rows."""
    n_rows = args[0].shape[0]
    n_blocks = min(n_threads, n_rows)
    if n_blocks <= 1:  # one thread: no thread pool to wake
        kernel(*args)
        return
    with threads(n_blocks):
        blocks_kernel(*args, n_blocks)


# ---------------------------------------------------------------------------
# validating wrappers
# ---------------------------------------------------------------------------


@njit(cache=True)
def _nb_tree_defect(split_dims, thresholds, n_features):
    """0 for valid trees, 1 if a split dimension is out of range, 2 if a threshold is NaN."""
    for v in split_dims.ravel():
        if v < 0 or v >= n_features:
            return 1
    for v in thresholds.ravel():
        if np.isnan(v):
            return 2
    return 0


def _check_rows(X, name="X"):
    # finiteness is the caller's: a tree reads depth of the n_features values of a
    # sub-vector, so scanning all of X would cost more than the encoding itself
    X = check_real_array(X, name, ndim=2, finite=False)
    return np.ascontiguousarray(X, dtype=np.float64)


def _check_trees(split_dims, thresholds, n_features):
    split_dims = check_real_dtype(np.asarray(split_dims), "split_dims")
    thresholds = check_real_array(thresholds, "thresholds", ndim=2, finite=False)  # +-inf: unsplit nodes
    if split_dims.dtype.kind not in "iu":
        raise TypeError(f"split_dims must hold integers, got dtype {split_dims.dtype}")
    if split_dims.ndim != 2:
        raise ValueError(
            f"split_dims must be a 2-D integer array (m, depth), got shape "
            f"{split_dims.shape} dtype {split_dims.dtype}"
        )
    m, depth = split_dims.shape
    if depth > 16:
        raise ValueError(f"split_dims: trees deeper than 16 levels are not supported, got {depth}")
    if thresholds.shape != (m, 2**depth - 1) or thresholds.dtype.kind not in "iuf":
        raise ValueError(
            f"thresholds must be a real array of shape {(m, 2**depth - 1)} for split_dims of "
            f"shape {split_dims.shape}, got shape {thresholds.shape} dtype {thresholds.dtype}"
        )
    split_dims = np.ascontiguousarray(split_dims, dtype=np.int64)
    thresholds = np.ascontiguousarray(thresholds, dtype=np.float64)
    bad = _nb_tree_defect(split_dims, thresholds, n_features)  # one pass, no numpy reductions
    if bad == 1:
        raise ValueError(
            f"split_dims must index columns in [0, {n_features}), got values in "
            f"[{split_dims.min()}, {split_dims.max()}]"
        )
    if bad == 2:
        raise ValueError("thresholds must not contain NaN")
    return split_dims, thresholds


def _check_luts(luts, m, name="luts"):
    luts = check_real_array(luts, name, ndim=3)
    if luts.shape[0] != m:
        raise ValueError(
            f"{name} must be a real or integer array of shape (m={m}, K, n_outputs), "
            f"got shape {luts.shape} dtype {luts.dtype}"
        )
    return np.ascontiguousarray(luts)


def _sum_dtype(luts):
    return np.int64 if luts.dtype.kind in "iu" else np.float64


def hash_tree_encode(X, split_dims, thresholds, *, n_threads=1):
    """Prototype index of every sub-vector by tree descent (``depth`` comparisons).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Real rows. Finiteness is not checked (only the compared values are read):
        a NaN compares false and goes left.
    split_dims : ndarray of int, shape (m, depth)
        Column compared at each level of each tree.
    thresholds : ndarray of float, shape (m, 2**depth - 1)
        Node thresholds in heap order (level ``t``, node ``i`` at ``2**t - 1 + i``).
    n_threads : int, default=1
        Threads over rows (capped at numba's thread count).

    Returns
    -------
    prototype_indices : ndarray of uint8 (uint16 if depth > 8), shape (n_samples, m)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import hash_tree_encode
    >>> dims = np.array([[0, 0]]); thr = np.array([[0.0, -1.0, 1.0]])
    >>> hash_tree_encode(np.array([[-2.0], [-0.5], [0.5], [2.0]]), dims, thr).ravel()
    array([0, 1, 2, 3], dtype=uint8)

    References
    ----------
    Feng et al., Section IV-C, Fig. 6 (4 comparisons merged into the index);
    Blalock & Guttag 2021, Algorithm 1.
    """
    n_threads = check_n_threads(n_threads)
    X = _check_rows(X)
    split_dims, thresholds = _check_trees(split_dims, thresholds, X.shape[1])
    dtype = np.uint8 if split_dims.shape[1] <= 8 else np.uint16
    out = np.zeros((X.shape[0], split_dims.shape[0]), dtype=dtype)
    _run(_nb_hash_tree_encode, _nb_hash_tree_encode_blocks, n_threads, X, split_dims,
         thresholds, out)
    return out


def lut_sum(prototype_indices, luts, *, n_threads=1):
    """``out[r, o] = sum_j luts[j, prototype_indices[r, j], o]``.

    Integer tables sum exactly in int64, float tables in float64.

    Parameters
    ----------
    prototype_indices : ndarray of int, shape (n_samples, m)
    luts : ndarray of shape (m, K, n_outputs), integer or float
    n_threads : int, default=1
        Threads over blocks of rows (1: serial).

    Returns
    -------
    sums : ndarray of int64 (integer tables) or float64, shape (n_samples, n_outputs)
        Exact for integer tables.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import lut_sum
    >>> luts = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    >>> lut_sum(np.array([[0, 1]]), luts)
    array([[6, 8]])

    References
    ----------
    Feng et al., Section IV-C (ACC2 sums the 8 read products).
    """
    n_threads = check_n_threads(n_threads)
    idx = check_real_dtype(np.asarray(prototype_indices), "prototype_indices")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"prototype_indices must hold integers, got dtype {idx.dtype}")
    if idx.ndim != 2:
        raise ValueError(
            f"prototype_indices must be a 2-D integer array, got shape {idx.shape} dtype {idx.dtype}"
        )
    luts = _check_luts(luts, idx.shape[1])
    if idx.size and (idx.min() < 0 or idx.max() >= luts.shape[1]):
        raise ValueError(
            f"prototype_indices must lie in [0, {luts.shape[1]}), got values in "
            f"[{idx.min()}, {idx.max()}]"
        )
    out = np.zeros((idx.shape[0], luts.shape[2]), dtype=_sum_dtype(luts))
    _run(_nb_lut_sum, _nb_lut_sum_blocks, n_threads, np.ascontiguousarray(idx), luts, out)
    return out


def hash_tree_lut_sum(X, split_dims, thresholds, luts, *, n_threads=1):
    """Table sums of tree-encoded rows, fused: ``lut_sum(hash_tree_encode(X), luts)``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    split_dims : ndarray of int, shape (m, depth)
    thresholds : ndarray of float, shape (m, 2**depth - 1)
    luts : ndarray of shape (m, 2**depth, n_outputs), integer or float
    n_threads : int, default=1
        Threads over blocks of rows (1: serial).

    Returns
    -------
    sums : ndarray of int64 (integer tables) or float64, shape (n_samples, n_outputs)
        Equal to ``lut_sum(hash_tree_encode(X, split_dims, thresholds), luts)``, without
        the index array.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import hash_tree_lut_sum
    >>> dims = np.array([[0]]); thr = np.array([[0.0]])
    >>> luts = np.array([[[1, 0], [0, 1]]], dtype=np.uint8)
    >>> hash_tree_lut_sum(np.array([[-1.0], [1.0]]), dims, thr, luts)
    array([[1, 0],
           [0, 1]])

    References
    ----------
    Feng et al., Section IV-C (tree index, then table read and accumulation).
    """
    n_threads = check_n_threads(n_threads)
    X = _check_rows(X)
    split_dims, thresholds = _check_trees(split_dims, thresholds, X.shape[1])
    luts = _check_luts(luts, split_dims.shape[0])
    if luts.shape[1] != 2 ** split_dims.shape[1]:
        raise ValueError(
            f"luts must have 2**depth = {2 ** split_dims.shape[1]} rows per table for trees of "
            f"depth {split_dims.shape[1]}, got {luts.shape[1]}"
        )
    out = np.zeros((X.shape[0], luts.shape[2]), dtype=_sum_dtype(luts))
    _run(_nb_hash_tree_lut_sum, _nb_hash_tree_lut_sum_blocks, n_threads, X, split_dims,
         thresholds, luts, out)
    return out

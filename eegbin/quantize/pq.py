"""Product quantization of a linear layer with hash-tree or k-means encoders.

``y = x W + b`` is approximated by splitting the ``n_features`` inputs into ``m``
contiguous sub-vectors, replacing each sub-vector by one of ``K`` prototypes, and
summing precomputed tables ``LUT[j, k, :] = P[j, k] . W[j-th block, :]``
(Feng et al., Section III-D; Jegou et al. 2011). The prototype index is found
either by the nearest k-means centroid or, without any multiplication, by a
balanced binary regression tree of depth 4 (one split dimension per level, one
threshold per node: 4 comparisons per sub-vector, 16 leaves), learned greedily
to minimize the sub-vector reconstruction error as in MADDNESS (Blalock & Guttag
2021, Algorithm 2). The tables are quantized to ``lut_bits``-bit unsigned
integers with one scale shared by all tables and one offset per sub-space; the
offsets sum into the bias, so ``y = scale * sum_j Q[j, code_j, :] + offset + b``.

References
----------
.. [1] W. Feng et al., "An Efficient EEGNet Processor Design for Portable EEG-Based
   BCIs", Section III-D (product quantization of the FC layer with balanced
   binary regression trees, m = 8 sub-vectors, 16 leaves) and Fig. 3.
.. [2] D. Blalock, J. Guttag, "Multiplying Matrices Without Multiplying", ICML
   2021 (MADDNESS): hash-tree learning (Alg. 2) and 8-bit LUT quantization.
.. [3] H. Jegou, M. Douze, C. Schmid, "Product Quantization for Nearest Neighbor
   Search", IEEE TPAMI 33(1), 2011.
"""

from __future__ import annotations

import numbers

import numpy as np
from numba import njit, prange
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..footprint import Footprint
from ._checks import Float64OutputMixin, check_int, check_real_array
from .._validation import all_finite

__all__ = [
    "ProductQuantizedLinear",
    "PQClassifier",
    "subspace_bounds",
    "learn_hash_trees",
    "hash_tree_encode",
    "learn_kmeans_prototypes",
    "kmeans_encode",
    "build_luts",
    "quantize_luts",
    "lut_sum",
]

#: below this many rows the serial kernels are used (thread start-up dominates:
#: a row costs ~m * (depth + n_outputs) operations, tens of nanoseconds)
_PARALLEL_MIN_ROWS = 8192


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _check_2d_finite(X, name):
    X = check_real_array(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {X.shape}")
    return np.ascontiguousarray(X, dtype=np.float64)


def _tree_depth(n_prototypes):
    depth = int(n_prototypes).bit_length() - 1
    if n_prototypes < 2 or 2**depth != n_prototypes:
        raise ValueError(
            f"n_prototypes must be a power of two >= 2 for the hash_tree encoder, "
            f"got {n_prototypes}"
        )
    return depth


def subspace_bounds(n_features, n_subspaces):
    """Boundaries of ``n_subspaces`` contiguous, near-equal feature blocks.

    Parameters
    ----------
    n_features : int
        Input dimension N.
    n_subspaces : int
        Number m of sub-vectors, ``1 <= m <= n_features``.

    Returns
    -------
    bounds : ndarray of int64, shape (n_subspaces + 1,)
        Block ``j`` is ``X[:, bounds[j]:bounds[j + 1]]``; the first
        ``n_features % m`` blocks hold one feature more.

    Examples
    --------
    >>> subspace_bounds(10, 4)
    array([ 0,  3,  6,  8, 10])

    References
    ----------
    Feng et al., Section III-D (m distinct sub-vectors of dimension N/m).
    """
    n_features = check_int(n_features, "n_features", 1)
    n_subspaces = check_int(n_subspaces, "n_subspaces", 1)
    if n_subspaces > n_features:
        raise ValueError(
            f"n_subspaces={n_subspaces} exceeds the number of features {n_features}; "
            f"expected 1 <= n_subspaces <= n_features"
        )
    base, extra = divmod(n_features, n_subspaces)
    sizes = np.full(n_subspaces, base, dtype=np.int64)
    sizes[:extra] += 1
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


# ---------------------------------------------------------------------------
# hash trees (MADDNESS Alg. 2, balanced binary regression trees of Feng)
# ---------------------------------------------------------------------------


def _best_split(rows, j):
    """Threshold on column ``j`` minimizing the two children's summed SSE."""
    n = rows.shape[0]
    if n == 0:
        return 0.0, np.inf
    centered = rows - rows.mean(axis=0)
    whole = float(np.sum(centered**2))
    if n == 1:
        return whole, np.inf
    order = np.argsort(rows[:, j], kind="stable")
    R = centered[order]
    v = rows[order, j]
    cs = np.cumsum(R, axis=0)[:-1]
    cs2 = np.cumsum(R**2, axis=0)[:-1]
    tot, tot2 = R.sum(axis=0), (R**2).sum(axis=0)
    nl = np.arange(1, n, dtype=np.float64)[:, None]
    nr = n - nl
    loss = (cs2 - cs**2 / nl).sum(axis=1) + ((tot2 - cs2) - (tot - cs) ** 2 / nr).sum(axis=1)
    valid = v[:-1] < v[1:]
    if not np.any(valid):
        return whole, np.inf
    loss = np.where(valid, loss, np.inf)
    i = int(np.argmin(loss))
    lo, hi = v[i], v[i + 1]
    thr = lo + (hi - lo) / 2
    if not lo < thr <= hi:
        thr = hi
    return max(float(loss[i]), 0.0), float(thr)


def _learn_one_tree(Xs, depth, n_candidates):
    n, d = Xs.shape
    node = np.zeros(n, dtype=np.int64)
    split_dims = np.zeros(depth, dtype=np.int64)
    thresholds = np.zeros(2**depth - 1, dtype=np.float64)
    for t in range(depth):
        n_nodes = 2**t
        members = [np.flatnonzero(node == b) for b in range(n_nodes)]
        sse_dim = np.zeros(d)
        for idx in members:
            if idx.size:
                rows = Xs[idx]
                sse_dim += ((rows - rows.mean(axis=0)) ** 2).sum(axis=0)
        candidates = np.argsort(-sse_dim, kind="stable")[: min(n_candidates, d)]
        best_loss, best_j, best_thr = np.inf, int(candidates[0]), None
        for j in candidates:
            total, thr = 0.0, []
            for idx in members:
                loss, v = _best_split(Xs[idx], int(j))
                total += loss
                thr.append(v)
            if total < best_loss:
                best_loss, best_j, best_thr = total, int(j), thr
        if best_thr is None:  # all losses inf cannot happen; defensive
            best_thr = [np.inf] * n_nodes
        split_dims[t] = best_j
        thresholds[n_nodes - 1 : 2 * n_nodes - 1] = best_thr
        node = 2 * node + (Xs[:, best_j] >= np.asarray(best_thr)[node])
    K = 2**depth
    protos = np.zeros((K, d))
    for leaf in range(K):
        for up in range(depth + 1):  # empty leaf: mean of the closest non-empty ancestor
            sel = (node >> up) == (leaf >> up)
            if np.any(sel):
                protos[leaf] = Xs[sel].mean(axis=0)
                break
    return split_dims, thresholds, protos


def learn_hash_trees(X, bounds, depth=4, n_candidates=16):
    """Learn one balanced binary regression tree per sub-space (MADDNESS Alg. 2).

    Level ``t`` of tree ``j`` compares one input dimension ``split_dims[j, t]``
    against a per-node threshold; the dimension and the thresholds are chosen
    greedily, level by level, to minimize the summed squared error of the
    sub-vectors around their bucket means. Only the ``n_candidates`` dimensions
    with the largest within-bucket variance are tried at each level (as MADDNESS).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs (finite).
    bounds : ndarray of int, shape (m + 1,)
        Sub-space boundaries from :func:`subspace_bounds`.
    depth : int, default=4
        Tree depth; ``2**depth`` leaves (prototypes).
    n_candidates : int, default=16
        Split dimensions evaluated per level.

    Returns
    -------
    split_dims : ndarray of int64, shape (m, depth)
        Global column index compared at each level.
    thresholds : ndarray of float64, shape (m, 2**depth - 1)
        Node thresholds in heap order (level ``t``, node ``i`` at ``2**t - 1 + i``);
        ``inf`` marks a node with nothing to split (all inputs go left).
    prototypes : ndarray of float64, shape (m, 2**depth, max_block)
        Leaf means, zero-padded beyond each block's width.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).randn(200, 6)
    >>> dims, thr, P = learn_hash_trees(X, subspace_bounds(6, 2))
    >>> dims.shape, thr.shape, P.shape
    ((2, 4), (2, 15), (2, 16, 3))

    References
    ----------
    Blalock & Guttag 2021, Algorithm 2; Feng et al., Section III-D (BBRT, 4 levels,
    16 leaves).
    """
    X = _check_2d_finite(X, "X")
    bounds = np.asarray(bounds, dtype=np.int64)
    depth = check_int(depth, "depth", 1)
    n_candidates = check_int(n_candidates, "n_candidates", 1)
    m = bounds.size - 1
    width = int(np.max(np.diff(bounds)))
    split_dims = np.zeros((m, depth), dtype=np.int64)
    thresholds = np.zeros((m, 2**depth - 1))
    protos = np.zeros((m, 2**depth, width))
    for j in range(m):
        lo, hi = bounds[j], bounds[j + 1]
        dims, thr, P = _learn_one_tree(X[:, lo:hi], depth, n_candidates)
        split_dims[j] = dims + lo
        thresholds[j] = thr
        protos[j, :, : hi - lo] = P
    return split_dims, thresholds, protos


@njit(cache=True, inline="always")
def _tree_code(x, dims, thr, j, depth):
    i = 0
    for t in range(depth):
        node = (1 << t) - 1 + i
        i = 2 * i + (1 if x[dims[j, t]] >= thr[j, node] else 0)
    return i


@njit(cache=True)
def _nb_tree_encode_serial(X, dims, thr, codes):
    depth = dims.shape[1]
    for r in range(X.shape[0]):
        for j in range(dims.shape[0]):
            codes[r, j] = _tree_code(X[r], dims, thr, j, depth)


@njit(cache=True, parallel=True)
def _nb_tree_encode_parallel(X, dims, thr, codes):
    depth = dims.shape[1]
    for r in prange(X.shape[0]):
        for j in range(dims.shape[0]):
            codes[r, j] = _tree_code(X[r], dims, thr, j, depth)


@njit(cache=True)
def _nb_tree_lut_serial(X, dims, thr, lut, out):
    depth = dims.shape[1]
    n_out = lut.shape[2]
    for r in range(X.shape[0]):
        for j in range(dims.shape[0]):
            k = _tree_code(X[r], dims, thr, j, depth)
            for o in range(n_out):
                out[r, o] += lut[j, k, o]


@njit(cache=True, parallel=True)
def _nb_tree_lut_parallel(X, dims, thr, lut, out):
    depth = dims.shape[1]
    n_out = lut.shape[2]
    for r in prange(X.shape[0]):
        for j in range(dims.shape[0]):
            k = _tree_code(X[r], dims, thr, j, depth)
            for o in range(n_out):
                out[r, o] += lut[j, k, o]


@njit(cache=True)
def _nb_lut_sum_serial(codes, lut, out):
    n_out = lut.shape[2]
    for r in range(codes.shape[0]):
        for j in range(codes.shape[1]):
            k = codes[r, j]
            for o in range(n_out):
                out[r, o] += lut[j, k, o]


@njit(cache=True, parallel=True)
def _nb_lut_sum_parallel(codes, lut, out):
    n_out = lut.shape[2]
    for r in prange(codes.shape[0]):
        for j in range(codes.shape[1]):
            k = codes[r, j]
            for o in range(n_out):
                out[r, o] += lut[j, k, o]


def _check_trees(split_dims, thresholds, n_features):
    split_dims = np.ascontiguousarray(split_dims)
    thresholds = np.ascontiguousarray(thresholds, dtype=np.float64)
    if split_dims.ndim != 2 or split_dims.dtype.kind not in "iu":
        raise ValueError(
            f"split_dims must be a 2-D integer array (m, depth), got shape "
            f"{split_dims.shape} dtype {split_dims.dtype}"
        )
    m, depth = split_dims.shape
    if thresholds.shape != (m, 2**depth - 1):
        raise ValueError(
            f"thresholds must have shape {(m, 2**depth - 1)} for split_dims of shape "
            f"{split_dims.shape}, got {thresholds.shape}"
        )
    if split_dims.size and (split_dims.min() < 0 or split_dims.max() >= n_features):
        raise ValueError(
            f"split_dims must index columns in [0, {n_features}), got values in "
            f"[{split_dims.min()}, {split_dims.max()}]"
        )
    if np.any(np.isnan(thresholds)):
        raise ValueError("thresholds must not contain NaN")
    return split_dims.astype(np.int64, copy=False), thresholds


def hash_tree_encode(X, split_dims, thresholds):
    """Prototype index of every sub-vector by tree descent (``depth`` comparisons).

    At level ``t`` the node index ``i`` becomes ``2 i + [x[split_dims[j, t]] >=
    thresholds[j, 2**t - 1 + i]]``; the leaf reached is the code.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    split_dims : ndarray of int, shape (m, depth)
    thresholds : ndarray of float, shape (m, 2**depth - 1)

    Returns
    -------
    codes : ndarray of uint8 (uint16 if depth > 8), shape (n_samples, m)

    Examples
    --------
    >>> import numpy as np
    >>> dims = np.array([[0, 0]]); thr = np.array([[0.0, -1.0, 1.0]])
    >>> hash_tree_encode(np.array([[-2.0], [-0.5], [0.5], [2.0]]), dims, thr).ravel()
    array([0, 1, 2, 3], dtype=uint8)

    References
    ----------
    Feng et al., Section IV-C, Fig. 6 (4 comparisons merged into the index);
    Blalock & Guttag 2021, Algorithm 1.
    """
    X = _check_2d_finite(X, "X")
    split_dims, thresholds = _check_trees(split_dims, thresholds, X.shape[1])
    dtype = np.uint8 if split_dims.shape[1] <= 8 else np.uint16
    codes = np.zeros((X.shape[0], split_dims.shape[0]), dtype=dtype)
    kernel = _nb_tree_encode_parallel if X.shape[0] >= _PARALLEL_MIN_ROWS else _nb_tree_encode_serial
    kernel(X, split_dims, thresholds, codes)
    return codes


# ---------------------------------------------------------------------------
# k-means encoder (Jegou et al. 2011)
# ---------------------------------------------------------------------------


def _lloyd(Xs, k, rng, n_init, max_iter=50):
    """k-means++ seeding + Lloyd iterations; best inertia of ``n_init`` runs."""
    from sklearn.cluster import kmeans_plusplus

    best, best_inertia = None, np.inf
    sq = (Xs**2).sum(axis=1)
    for _ in range(n_init):
        C, _ = kmeans_plusplus(Xs, k, random_state=rng.randint(2**31 - 1))
        for _ in range(max_iter):
            d2 = sq[:, None] - 2.0 * Xs @ C.T + (C**2).sum(axis=1)[None, :]
            lab = np.argmin(d2, axis=1)
            counts = np.bincount(lab, minlength=k)
            sums = np.zeros_like(C)
            np.add.at(sums, lab, Xs)
            newC = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], C)
            if np.allclose(newC, C, rtol=0, atol=1e-12):
                C = newC
                break
            C = newC
        d2 = sq[:, None] - 2.0 * Xs @ C.T + (C**2).sum(axis=1)[None, :]
        inertia = float(np.maximum(d2.min(axis=1), 0).sum())
        if inertia < best_inertia:
            best, best_inertia = C, inertia
    return best


def learn_kmeans_prototypes(X, bounds, n_prototypes=16, random_state=None, n_init=3):
    """k-means centroids per sub-space (classic product quantization).

    k-means++ seeding and Lloyd iterations (best of ``n_init``). With fewer
    distinct sub-vectors than ``n_prototypes`` the surplus prototypes repeat the
    last centroid (ties go to the lowest index, so they are never selected).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    bounds : ndarray of int, shape (m + 1,)
    n_prototypes : int, default=16
    random_state : int, RandomState or None
    n_init : int, default=3

    Returns
    -------
    prototypes : ndarray of float64, shape (m, n_prototypes, max_block)
        Zero-padded beyond each block's width.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).randn(100, 4)
    >>> learn_kmeans_prototypes(X, subspace_bounds(4, 2), 8, random_state=0).shape
    (2, 8, 2)

    References
    ----------
    Jegou et al. 2011; Feng et al., Section III-D (centroids by k-means).
    """
    X = _check_2d_finite(X, "X")
    bounds = np.asarray(bounds, dtype=np.int64)
    n_prototypes = check_int(n_prototypes, "n_prototypes", 1)
    n_init = check_int(n_init, "n_init", 1)
    rng = check_random_state(random_state)
    m = bounds.size - 1
    width = int(np.max(np.diff(bounds)))
    protos = np.zeros((m, n_prototypes, width))
    for j in range(m):
        lo, hi = bounds[j], bounds[j + 1]
        Xs = X[:, lo:hi]
        distinct = np.unique(Xs, axis=0)
        k = min(n_prototypes, distinct.shape[0])
        C = distinct if k == distinct.shape[0] and k < n_prototypes else _lloyd(Xs, k, rng, n_init)
        protos[j, :k, : hi - lo] = C
        protos[j, k:, : hi - lo] = C[-1]
    return protos


def kmeans_encode(X, prototypes, bounds):
    """Index of the nearest prototype (Euclidean) of every sub-vector.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    prototypes : ndarray of shape (m, K, max_block)
    bounds : ndarray of int, shape (m + 1,)

    Returns
    -------
    codes : ndarray of uint8 (uint16 if K > 256), shape (n_samples, m)
        Ties go to the lowest index.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[[0.0], [1.0]]])
    >>> kmeans_encode(np.array([[0.2], [0.9]]), P, np.array([0, 1])).ravel()
    array([0, 1], dtype=uint8)

    References
    ----------
    Jegou et al. 2011, Section III.
    """
    X = _check_2d_finite(X, "X")
    bounds = np.asarray(bounds, dtype=np.int64)
    m, K, _ = prototypes.shape
    codes = np.zeros((X.shape[0], m), dtype=np.uint8 if K <= 256 else np.uint16)
    for j in range(m):
        lo, hi = bounds[j], bounds[j + 1]
        P = prototypes[j, :, : hi - lo]
        d2 = (P**2).sum(axis=1)[None, :] - 2.0 * X[:, lo:hi] @ P.T
        codes[:, j] = np.argmin(d2, axis=1)
    return codes


# ---------------------------------------------------------------------------
# lookup tables
# ---------------------------------------------------------------------------


def build_luts(prototypes, bounds, weights):
    """Tables ``LUT[j, k, o] = prototypes[j, k] . weights[block j, o]``.

    Parameters
    ----------
    prototypes : ndarray of shape (m, K, max_block)
    bounds : ndarray of int, shape (m + 1,)
    weights : ndarray of shape (n_features, n_outputs)

    Returns
    -------
    luts : ndarray of float64, shape (m, K, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> P = np.ones((2, 3, 1)); W = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> build_luts(P, np.array([0, 1, 2]), W)[:, 0]
    array([[1., 2.],
           [3., 4.]])

    References
    ----------
    Feng et al., Section III-D (codebook CB of precomputed products).
    """
    m, K, _ = prototypes.shape
    luts = np.zeros((m, K, weights.shape[1]))
    for j in range(m):
        lo, hi = bounds[j], bounds[j + 1]
        luts[j] = prototypes[j, :, : hi - lo] @ weights[lo:hi]
    return luts


def quantize_luts(luts, lut_bits=8):
    """Quantize tables to unsigned ``lut_bits``-bit integers, one shared scale.

    ``luts[j] ~= scale * Q[j] + offsets[j]`` with ``offsets[j] = min(luts[j])``
    and ``scale = max_j (max(luts[j]) - offsets[j]) / (2**lut_bits - 1)``; a
    shared scale keeps the integer sums over sub-spaces exact and comparable
    across outputs. Each entry errs by at most ``scale / 2``.

    Parameters
    ----------
    luts : ndarray of shape (m, K, n_outputs)
    lut_bits : int, default=8
        2 to 16.

    Returns
    -------
    Q : ndarray of uint8 (lut_bits <= 8) or uint16, shape (m, K, n_outputs)
    scale : float
        Positive (1.0 if all tables are constant).
    offsets : ndarray of float64, shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> Q, s, off = quantize_luts(np.array([[[0.0], [1.0]], [[2.0], [2.5]]]), lut_bits=2)
    >>> Q.ravel(), s, off
    (array([0, 3, 0, 2], dtype=uint8), 0.3333333333333333, array([0., 2.]))

    References
    ----------
    Blalock & Guttag 2021, Section 4.4 (8-bit LUTs); Feng et al., Section V-A
    (8-bit Temp FM_B3).
    """
    lut_bits = check_int(lut_bits, "lut_bits", 2)
    if lut_bits > 16:
        raise ValueError(f"lut_bits must be in [2, 16], got {lut_bits}")
    luts = np.asarray(luts, dtype=np.float64)
    m = luts.shape[0]
    flat = luts.reshape(m, -1)
    offsets = flat.min(axis=1)
    span = float(np.max(flat.max(axis=1) - offsets)) if flat.size else 0.0
    top = 2**lut_bits - 1
    scale = span / top if span > 0 else 1.0
    Q = np.clip(np.rint((luts - offsets[:, None, None]) / scale), 0, top)
    return Q.astype(np.uint8 if lut_bits <= 8 else np.uint16), scale, offsets


def lut_sum(codes, lut):
    """``out[r, o] = sum_j lut[j, codes[r, j], o]`` (integer tables sum exactly in int64).

    Parameters
    ----------
    codes : ndarray of int, shape (n_samples, m)
    lut : ndarray of shape (m, K, n_outputs), unsigned int or float

    Returns
    -------
    out : ndarray of int64 (integer tables) or float64, shape (n_samples, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> lut = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    >>> lut_sum(np.array([[0, 1]]), lut)
    array([[6, 8]])

    References
    ----------
    Feng et al., Section IV-C (ACC2 sums the 8 read products).
    """
    codes = np.ascontiguousarray(codes)
    lut = np.ascontiguousarray(lut)
    if codes.ndim != 2 or codes.dtype.kind not in "iu":
        raise ValueError(f"codes must be a 2-D integer array, got shape {codes.shape} dtype {codes.dtype}")
    if lut.ndim != 3 or lut.shape[0] != codes.shape[1]:
        raise ValueError(
            f"lut must have shape (m={codes.shape[1]}, K, n_outputs), got {lut.shape}"
        )
    if codes.size and (codes.min() < 0 or codes.max() >= lut.shape[1]):
        raise ValueError(f"codes must lie in [0, {lut.shape[1]}), got max {codes.max()}")
    out = np.zeros(
        (codes.shape[0], lut.shape[2]), dtype=np.int64 if lut.dtype.kind in "iu" else np.float64
    )
    kernel = _nb_lut_sum_parallel if codes.shape[0] >= _PARALLEL_MIN_ROWS else _nb_lut_sum_serial
    kernel(codes, lut, out)
    return out


# ---------------------------------------------------------------------------
# estimators
# ---------------------------------------------------------------------------


def _validate_fitted_X(est, X):
    """``validate_data(est, X, reset=False)`` with a fast path for clean float64 arrays.

    scikit-learn's validation costs ~60 us per call, 30x a 272 -> 4 matvec; a
    C-contiguous, finite float64 2-D ndarray with the fitted feature count (and
    an estimator fitted without feature names) needs none of its conversions,
    so it is returned as is. Anything else goes through ``validate_data``, which
    raises the usual errors.
    """
    if not hasattr(est, "n_features_in_"):  # set by fit; check_is_fitted costs ~7 us
        check_is_fitted(est)
    if (
        isinstance(X, np.ndarray)
        and X.dtype == np.float64
        and X.ndim == 2
        and X.shape[0] > 0
        and X.shape[1] == est.n_features_in_
        and X.flags.c_contiguous
        and not hasattr(est, "feature_names_in_")
        and all_finite(X)
    ):
        return X
    return np.ascontiguousarray(validate_data(est, X, dtype=np.float64, reset=False))


class ProductQuantizedLinear(Float64OutputMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Product-quantized linear layer ``X W + b`` (encode, then sum lookup tables).

    Fitted on training inputs ``X`` and a weight matrix ``weights`` (n_features x
    n_outputs) plus ``bias`` (``fit(X, weights=W, bias=b)``); without ``weights``
    the identity is used and ``transform`` returns the product-quantized
    reconstruction of ``X``. :class:`PQClassifier` wraps a fitted linear classifier.

    Parameters
    ----------
    n_subspaces : int, default=8
        Number m of contiguous sub-vectors (Feng et al. choose m = 8, Fig. 3);
        at most ``n_features``.
    n_prototypes : int, default=16
        Prototypes (leaves) per sub-space; a power of two for ``"hash_tree"``
        (16 = 4 comparisons).
    encoder : {"hash_tree", "kmeans"}, default="hash_tree"
        Balanced binary regression trees (no multiplications at inference) or
        nearest k-means centroid.
    lut_bits : int or None, default=8
        Bits of the quantized lookup tables (2 to 16); None keeps float tables.
    random_state : int, RandomState or None, default=None
        Seeds k-means (the tree learner is deterministic).

    Attributes
    ----------
    n_features_in_ : int
    n_outputs_ : int
    bounds_ : ndarray of int64, shape (m + 1,)
        Sub-space boundaries.
    split_dims_, thresholds_ : ndarray
        Trees (``encoder="hash_tree"`` only, else None); see :func:`learn_hash_trees`.
    prototypes_ : ndarray of shape (m, n_prototypes, max_block)
    luts_ : ndarray of float64, shape (m, n_prototypes, n_outputs)
        Exact tables.
    lut_codes_ : ndarray of uint8/uint16 or None
        Quantized tables (None if ``lut_bits`` is None).
    lut_scale_ : float
        Scale of the quantized tables (1.0 when float).
    bias_ : ndarray of float64, shape (n_outputs,)
        ``b`` plus the summed table offsets: ``transform = scale * sums + bias_``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import ProductQuantizedLinear
    >>> rng = np.random.RandomState(0)
    >>> X, W = rng.randn(500, 16), rng.randn(16, 4)
    >>> pq = ProductQuantizedLinear(n_subspaces=4).fit(X, weights=W, bias=np.zeros(4))
    >>> Y = pq.transform(X)
    >>> Y.shape
    (500, 4)
    >>> bool(np.linalg.norm(Y - X @ W) < 0.8 * np.linalg.norm(X @ W))
    True

    References
    ----------
    Feng et al., Section III-D and Fig. 3; Blalock & Guttag 2021 (MADDNESS),
    Algorithms 1-2; Jegou et al. 2011.
    """

    _parameter_constraints = {
        "n_subspaces": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_prototypes": [Interval(numbers.Integral, 2, 65536, closed="both")],
        "encoder": [StrOptions({"hash_tree", "kmeans"})],
        "lut_bits": [Interval(numbers.Integral, 2, 16, closed="both"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, n_subspaces=8, n_prototypes=16, encoder="hash_tree", lut_bits=8,
                 random_state=None):
        self.n_subspaces = n_subspaces
        self.n_prototypes = n_prototypes
        self.encoder = encoder
        self.lut_bits = lut_bits
        self.random_state = random_state

    def fit(self, X, y=None, weights=None, bias=None):
        """Learn the encoders on ``X`` and build the tables of ``weights``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs of the layer (activations).
        y : None
            Ignored.
        weights : array-like of shape (n_features, n_outputs), optional
            Layer weights; identity if None.
        bias : array-like of shape (n_outputs,), optional
            Layer bias; zeros if None.

        Returns
        -------
        self : ProductQuantizedLinear
        """
        self._validate_params()
        X = validate_data(self, X, dtype=np.float64)
        n_features = X.shape[1]
        if self.n_subspaces > n_features:
            raise ValueError(
                f"n_subspaces={self.n_subspaces} exceeds the number of features of X "
                f"(n_features = {n_features}); expected n_subspaces <= n_features"
            )
        if self.encoder == "hash_tree":
            depth = _tree_depth(self.n_prototypes)
        if weights is None:
            W = np.eye(n_features)
        else:
            W = _check_2d_finite(weights, "weights")
            if W.shape[0] != n_features:
                raise ValueError(
                    f"weights must have shape (n_features={n_features}, n_outputs), got {W.shape}"
                )
        if bias is None:
            b = np.zeros(W.shape[1])
        else:
            b = np.asarray(bias, dtype=np.float64)
            if b.shape != (W.shape[1],):
                raise ValueError(f"bias must have shape ({W.shape[1]},), got {b.shape}")
            if not np.all(np.isfinite(b)):
                raise ValueError("bias must be finite, got NaN or Inf values")
        self.n_outputs_ = W.shape[1]
        self.bounds_ = subspace_bounds(n_features, self.n_subspaces)
        if self.encoder == "hash_tree":
            self.split_dims_, self.thresholds_, self.prototypes_ = learn_hash_trees(
                X, self.bounds_, depth=depth
            )
        else:
            self.split_dims_ = self.thresholds_ = None
            self.prototypes_ = learn_kmeans_prototypes(
                X, self.bounds_, self.n_prototypes, random_state=self.random_state
            )
        self.luts_ = build_luts(self.prototypes_, self.bounds_, W)
        if self.lut_bits is None:
            self.lut_codes_, self.lut_scale_ = None, 1.0
            self.bias_ = b.copy()
        else:
            self.lut_codes_, self.lut_scale_, offsets = quantize_luts(self.luts_, self.lut_bits)
            self.bias_ = b + offsets.sum()
        self._n_features_out = self.n_outputs_
        return self

    def encode(self, X):
        """Prototype index per sub-vector.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of uint8, shape (n_samples, n_subspaces)
        """
        return self._encode(_validate_fitted_X(self, X))

    def _encode(self, X):
        if self.encoder == "hash_tree":
            return hash_tree_encode(X, self.split_dims_, self.thresholds_)
        return kmeans_encode(X, self.prototypes_, self.bounds_)

    def _table(self):
        return self.luts_ if self.lut_codes_ is None else self.lut_codes_

    def table_sums(self, X):
        """Raw table sums ``sum_j LUT[j, code_j, :]`` (int64 for quantized tables).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        sums : ndarray of shape (n_samples, n_outputs)
        """
        X = _validate_fitted_X(self, X)
        table = self._table()
        out = np.zeros(
            (X.shape[0], self.n_outputs_), dtype=np.int64 if table.dtype.kind == "u" else np.float64
        )
        if self.encoder == "hash_tree":
            kernel = _nb_tree_lut_parallel if X.shape[0] >= _PARALLEL_MIN_ROWS else _nb_tree_lut_serial
            kernel(X, self.split_dims_, self.thresholds_, table, out)
        else:
            out = lut_sum(self._encode(X), table)
        return out

    def transform(self, X):
        """Approximate ``X W + b`` as ``lut_scale_ * table_sums(X) + bias_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y : ndarray of float64, shape (n_samples, n_outputs)
        """
        sums = self.table_sums(X)
        return self.lut_scale_ * sums + self.bias_

    def reconstruct(self, X):
        """Prototype reconstruction of ``X`` (the quantized input).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_hat : ndarray of float64, shape (n_samples, n_features)
        """
        codes = self.encode(X)
        X_hat = np.zeros((codes.shape[0], self.n_features_in_))
        for j in range(self.bounds_.size - 1):
            lo, hi = self.bounds_[j], self.bounds_[j + 1]
            X_hat[:, lo:hi] = self.prototypes_[j, codes[:, j], : hi - lo]
        return X_hat

    def footprint(self, float_bits=32):
        """Stored parameters and operations of one inference.

        Trees store ``m * (K - 1)`` thresholds (``float_bits``) and ``m * depth``
        split indices (``ceil(log2 n_features)`` bits); k-means stores the
        prototypes. Tables store ``m * K * n_outputs`` entries of ``lut_bits``
        (``float_bits`` if float). Operations: comparisons (trees) or distance
        MACs (k-means), plus ``m * n_outputs`` table additions, counted as MACs.

        Parameters
        ----------
        float_bits : int, default=32

        Returns
        -------
        Footprint
        """
        check_is_fitted(self)
        m, K = self.luts_.shape[:2]
        n_out = self.n_outputs_
        idx_bits = max(1, int(np.ceil(np.log2(max(self.n_features_in_, 2)))))
        if self.encoder == "hash_tree":
            depth = self.split_dims_.shape[1]
            enc = Footprint(
                "hash trees", n_params=m * (K - 1), bits_per_param=float_bits, macs=m * depth,
                parts=(Footprint("split dims", n_params=m * depth, bits_per_param=idx_bits),),
                note=f"{m} trees x {depth} comparisons",
            )
        else:
            enc = Footprint(
                "k-means prototypes", n_params=int(self.n_features_in_) * K,
                bits_per_param=float_bits, macs=int(self.n_features_in_) * K,
                note="nearest-centroid search",
            )
        lut_width = float_bits if self.lut_bits is None else self.lut_bits
        lut = Footprint("lookup tables", n_params=m * K * n_out, bits_per_param=lut_width,
                        macs=m * n_out, note="table additions")
        affine = Footprint("scale + bias", n_params=1 + n_out, bits_per_param=float_bits,
                           macs=n_out)
        return Footprint("ProductQuantizedLinear", parts=(enc, lut, affine))


class PQClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier whose decision function runs through a product-quantized layer.

    The wrapped linear model (anything with ``coef_``, ``intercept_`` and
    ``classes_``) is fitted on ``X, y`` (or used as is with ``prefit=True``);
    its weights are then product-quantized with :class:`ProductQuantizedLinear`
    trained on the same ``X``. ``predict`` takes the class with the largest
    approximate score: softmax is monotone, so softmax -> max equals argmax
    (Feng et al., Section IV-D); with one score (binary), the sign decides.

    Parameters
    ----------
    estimator : linear classifier
        E.g. :class:`~sklearn.linear_model.LogisticRegression`, ``LinearSVC``,
        ``LinearDiscriminantAnalysis``.
    n_subspaces, n_prototypes, encoder, lut_bits, random_state
        As in :class:`ProductQuantizedLinear`.
    prefit : bool, default=False
        If True, ``estimator`` must already be fitted and is not refitted.

    Attributes
    ----------
    estimator_ : fitted linear classifier
    pq_ : ProductQuantizedLinear
    classes_ : ndarray
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from eegbin import PQClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.arange(300) % 2
    >>> X = rng.randn(300, 16) + 2 * y[:, None]
    >>> clf = PQClassifier(LogisticRegression(), n_subspaces=4).fit(X, y)
    >>> float(clf.score(X, y))
    1.0

    References
    ----------
    Feng et al., Section III-D (PQ of the FC layer) and Section IV-D (softmax -> max).
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "prefit": ["boolean"],
        **{k: v for k, v in ProductQuantizedLinear._parameter_constraints.items()},
    }

    def __init__(self, estimator, n_subspaces=8, n_prototypes=16, encoder="hash_tree",
                 lut_bits=8, random_state=None, prefit=False):
        self.estimator = estimator
        self.n_subspaces = n_subspaces
        self.n_prototypes = n_prototypes
        self.encoder = encoder
        self.lut_bits = lut_bits
        self.random_state = random_state
        self.prefit = prefit

    def fit(self, X, y):
        """Fit (or take) the linear model, then product-quantize it on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : PQClassifier
        """
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        if self.prefit:
            check_is_fitted(self.estimator)
            est = self.estimator
        else:
            est = clone(self.estimator).fit(X, y)
        for attr in ("coef_", "intercept_", "classes_"):
            if not hasattr(est, attr):
                raise TypeError(
                    f"estimator must be a linear classifier with coef_, intercept_ and classes_; "
                    f"{type(est).__name__} has no {attr}"
                )
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
        if coef.shape[1] != X.shape[1]:
            raise ValueError(
                f"estimator.coef_ has {coef.shape[1]} features, X has {X.shape[1]}"
            )
        intercept = np.broadcast_to(
            np.asarray(est.intercept_, dtype=np.float64), (coef.shape[0],)
        ).copy()
        self.estimator_ = est
        self.classes_ = est.classes_
        self.pq_ = ProductQuantizedLinear(
            n_subspaces=self.n_subspaces, n_prototypes=self.n_prototypes, encoder=self.encoder,
            lut_bits=self.lut_bits, random_state=self.random_state,
        ).fit(X, weights=coef.T, bias=intercept)
        return self

    def decision_function(self, X):
        """Approximate scores ``X coef_.T + intercept_`` through the PQ layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        X = _validate_fitted_X(self, X)
        scores = self.pq_.transform(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class with the largest approximate score (softmax -> max).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    def footprint(self, float_bits=32):
        """Footprint of the product-quantized layer (the wrapped float model is not stored).

        Parameters
        ----------
        float_bits : int, default=32

        Returns
        -------
        Footprint
        """
        check_is_fitted(self)
        from dataclasses import replace

        return replace(self.pq_.footprint(float_bits=float_bits), name="PQClassifier",
                       note="argmax of table sums (softmax -> max)")

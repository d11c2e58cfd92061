"""Learning a product quantizer: hash trees, k-means prototypes, tables.

Hash trees are balanced binary regression trees of depth 4 (one split dimension
per level, one threshold per node: 4 comparisons per sub-vector, 16 leaves),
learned greedily to minimize the sub-vector reconstruction error as in MADDNESS
(Blalock & Guttag 2021, Algorithm 2); k-means prototypes are scikit-learn's
:class:`~sklearn.cluster.KMeans` centroids (Jegou et al. 2011).
:func:`learn_product_quantizer` builds the whole
:class:`~eegbin.quantize.pq_tables.ProductQuantizer` of a linear layer.

References
----------
.. [1] W. Feng et al., "An Efficient EEGNet Processor Design for Portable EEG-Based
   BCIs", Section III-D and Fig. 3.
.. [2] D. Blalock, J. Guttag, "Multiplying Matrices Without Multiplying", ICML
   2021 (MADDNESS), Algorithm 2.
.. [3] H. Jegou, M. Douze, C. Schmid, "Product Quantization for Nearest Neighbor
   Search", IEEE TPAMI 33(1), 2011.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from ..kernels.checks import check_allocation, check_int, check_real_array
from .pq_tables import ProductQuantizer, _check_bounds, build_luts, quantize_luts, subspace_bounds

__all__ = ["learn_hash_trees", "learn_kmeans_prototypes", "learn_product_quantizer"]

#: sub-vectors of ``n_subspaces="auto"`` (Feng et al., Fig. 3), at most one per feature
_AUTO_SUBSPACES = 8


def _check_2d_finite(X, name):
    X = check_real_array(X, name, allow_empty=False)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {X.shape}")
    return np.ascontiguousarray(X, dtype=np.float64)


def _tree_depth(n_prototypes):
    n_prototypes = check_int(n_prototypes, "n_prototypes")
    depth = n_prototypes.bit_length() - 1
    if n_prototypes < 2 or 2**depth != n_prototypes:
        raise ValueError(
            f"n_prototypes must be a power of two >= 2 for the hash_tree encoder, "
            f"got {n_prototypes}"
        )
    return depth


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
    bounds = _check_bounds(bounds, X.shape[1])
    depth = check_int(depth, "depth", 1, 16)  # the deepest tree hash_tree_encode descends
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



def learn_kmeans_prototypes(X, bounds, n_prototypes=16, random_state=None, n_init=3, n_threads=1):
    """k-means centroids per sub-space (classic product quantization).

    scikit-learn's :class:`~sklearn.cluster.KMeans` (k-means++ seeding, Lloyd
    iterations, best of ``n_init``) on each sub-space, one generator drawn from
    ``random_state`` for all of them. With fewer distinct sub-vectors than
    ``n_prototypes`` the distinct sub-vectors are the prototypes and the surplus
    repeats the last one (ties go to the lowest index, so it is never selected).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    bounds : ndarray of int, shape (m + 1,)
    n_prototypes : int, default=16
    random_state : int, RandomState or None
    n_init : int, default=3
    n_threads : int, default=1
        OpenMP threads of scikit-learn's k-means.

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
    bounds = _check_bounds(bounds, X.shape[1])
    n_prototypes = check_int(n_prototypes, "n_prototypes", 1)
    n_init = check_int(n_init, "n_init", 1)
    rng = check_random_state(random_state)
    m = bounds.size - 1
    width = int(np.max(np.diff(bounds)))
    check_allocation(8 * m * n_prototypes * width, "the prototypes", "n_prototypes")
    protos = np.zeros((m, n_prototypes, width))
    for j in range(m):
        lo, hi = bounds[j], bounds[j + 1]
        Xs = X[:, lo:hi]
        distinct = np.unique(Xs, axis=0)
        if distinct.shape[0] <= n_prototypes:
            C = distinct
        else:
            with threadpool_limits(limits=n_threads, user_api="openmp"):
                C = KMeans(n_clusters=n_prototypes, n_init=n_init, random_state=rng).fit(Xs)
            C = C.cluster_centers_
        protos[j, : len(C), : hi - lo] = C
        protos[j, len(C):, : hi - lo] = C[-1]
    return protos


def learn_product_quantizer(X, weights=None, bias=None, *, n_subspaces="auto", n_prototypes=16,
                            encoder="hash_tree", lut_bits=8, random_state=None, n_threads=1):
    """Product quantizer of the linear layer ``X @ weights + bias``, learned on ``X``.

    Splits the features into ``n_subspaces`` contiguous blocks
    (:func:`~eegbin.quantize.pq_tables.subspace_bounds`), learns the encoder of
    each block (:func:`learn_hash_trees` or :func:`learn_kmeans_prototypes`),
    builds the tables ``prototype . weights`` and, if ``lut_bits`` is set,
    quantizes them with one shared scale; the table offsets are summed into the bias.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs of the layer (activations), finite.
    weights : ndarray of shape (n_features, n_outputs), optional
        Layer weights; identity if None (the quantizer then reconstructs ``X``).
    bias : ndarray of shape (n_outputs,), optional
        Layer bias; zeros if None.
    n_subspaces : int or "auto", default="auto"
        Number m of sub-vectors, at most ``n_features``; "auto" is
        ``min(8, n_features)`` (Feng et al. choose m = 8, Fig. 3).
    n_prototypes : int, default=16
        Prototypes per sub-space; a power of two >= 2 for ``"hash_tree"``.
    encoder : {"hash_tree", "kmeans"}, default="hash_tree"
    lut_bits : int or None, default=8
        Bits of the quantized tables (2 to 16); None keeps float tables.
    random_state : int, RandomState or None
        Seeds k-means (the tree learner is deterministic).
    n_threads : int, default=1
        Threads of k-means.

    Returns
    -------
    ProductQuantizer

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X, W = rng.randn(500, 16), rng.randn(16, 4)
    >>> pq = learn_product_quantizer(X, W, n_subspaces=4)
    >>> pq.luts.shape, pq.quantized_luts.dtype
    ((4, 16, 4), dtype('uint8'))

    References
    ----------
    Feng et al., Section III-D and Fig. 3; Blalock & Guttag 2021, Algorithms 1-2;
    Jegou et al. 2011.
    """
    X = _check_2d_finite(X, "X")
    n_features = X.shape[1]
    if isinstance(n_subspaces, str) and n_subspaces == "auto":
        n_subspaces = min(_AUTO_SUBSPACES, n_features)
    n_subspaces = check_int(n_subspaces, "n_subspaces", 1)
    if n_subspaces > n_features:
        raise ValueError(
            f"n_subspaces={n_subspaces} exceeds the number of features of X "
            f"(n_features = {n_features}); expected n_subspaces <= n_features or 'auto'"
        )
    if encoder not in ("hash_tree", "kmeans"):
        raise ValueError(f"encoder must be 'hash_tree' or 'kmeans', got {encoder!r}")
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
        b = check_real_array(bias, "bias").astype(np.float64)
        if b.shape != (W.shape[1],):
            raise ValueError(f"bias must have shape ({W.shape[1]},), got {b.shape}")
    bounds = subspace_bounds(n_features, n_subspaces)
    split_dims = thresholds = None
    if encoder == "hash_tree":
        split_dims, thresholds, prototypes = learn_hash_trees(
            X, bounds, depth=_tree_depth(n_prototypes))
    else:
        prototypes = learn_kmeans_prototypes(X, bounds, n_prototypes, random_state=random_state,
                                             n_threads=n_threads)
    luts = build_luts(prototypes, bounds, W)
    quantized = None
    if lut_bits is not None:
        quantized, scale, offsets = quantize_luts(luts, lut_bits)
        b = b + offsets.sum()
    return ProductQuantizer(
        bounds=bounds, prototypes=prototypes, luts=luts, quantized_luts=quantized,
        lut_bits=None if lut_bits is None else int(lut_bits),
        lut_scale=1.0 if lut_bits is None else scale, bias=b,
        split_dims=split_dims, thresholds=thresholds,
    )

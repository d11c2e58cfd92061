"""A fitted product quantizer as data, and the functions that run it.

``y = x W + b`` is approximated by splitting the ``n_features`` inputs into ``m``
contiguous sub-vectors, replacing each sub-vector by one of ``K`` prototypes, and
summing precomputed tables ``LUT[j, k, :] = P[j, k] . W[j-th block, :]``
(Feng et al., Section III-D; Jegou et al. 2011). The prototype index of a
sub-vector is found by a balanced binary regression tree (``depth`` comparisons,
no multiplication) or by the nearest k-means centroid. The tables may be
quantized to ``lut_bits``-bit unsigned integers with one scale shared by all
tables and one offset per sub-space; the offsets sum into the bias, so
``y = lut_scale * sum_j Q[j, index_j, :] + bias``.

:class:`ProductQuantizer` holds every array a deployment needs (and nothing
else); :func:`pq_transform` and its parts are pure functions of it. It is built by
:func:`eegbin.quantize.pq_learning.learn_product_quantizer`.

References
----------
.. [1] W. Feng et al., "An Efficient EEGNet Processor Design for Portable EEG-Based
   BCIs", Section III-D (product quantization of the FC layer with balanced
   binary regression trees, m = 8 sub-vectors, 16 leaves) and Fig. 3.
.. [2] D. Blalock, J. Guttag, "Multiplying Matrices Without Multiplying", ICML
   2021 (MADDNESS): Algorithm 1 (tree encoding) and 8-bit LUT quantization.
.. [3] H. Jegou, M. Douze, C. Schmid, "Product Quantization for Nearest Neighbor
   Search", IEEE TPAMI 33(1), 2011.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..docstrings import fill_doc
from ..footprint import Footprint
from ..kernels import hash_tree_encode, hash_tree_lut_sum, lut_sum
from ..kernels.checks import check_int, check_real_array, check_real_dtype

__all__ = [
    "ProductQuantizer",
    "subspace_bounds",
    "build_luts",
    "quantize_luts",
    "kmeans_encode",
    "pq_encode",
    "pq_table_sums",
    "pq_transform",
    "pq_reconstruct",
    "pq_footprint",
]


def _readonly(a):
    if a is None:
        return None
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class ProductQuantizer:
    """A fitted product quantizer of a linear layer (immutable arrays).

    Parameters
    ----------
    bounds : ndarray of int64, shape (m + 1,)
        Sub-space ``j`` is ``x[bounds[j]:bounds[j + 1]]`` (:func:`subspace_bounds`).
    prototypes : ndarray of float64, shape (m, K, max_block)
        Prototypes, zero-padded beyond each block's width.
    luts : ndarray of float64, shape (m, K, n_outputs)
        Exact tables ``prototypes[j, k] . W[block j]``.
    quantized_luts : ndarray of uint8/uint16, shape (m, K, n_outputs), or None
        ``lut_bits``-bit tables (None: the float tables are used).
    lut_bits : int or None
        Bits of ``quantized_luts`` (None for float tables).
    lut_scale : float
        Scale of the quantized tables (1.0 for float tables).
    bias : ndarray of float64, shape (n_outputs,)
        Layer bias plus the summed table offsets: ``y = lut_scale * sums + bias``.
    split_dims : ndarray of int64, shape (m, depth), or None
        Hash trees: column compared at each level (None for the k-means encoder).
    thresholds : ndarray of float64, shape (m, 2**depth - 1), or None
        Hash trees: node thresholds in heap order (None for the k-means encoder).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize.pq_learning import learn_product_quantizer
    >>> X = np.random.RandomState(0).randn(200, 8)
    >>> pq = learn_product_quantizer(X, np.ones((8, 2)), n_subspaces=2)
    >>> pq.encoder, pq.n_subspaces, pq.n_prototypes, pq.lut_bits, pq_transform(pq, X).shape
    ('hash_tree', 2, 16, 8, (200, 2))
    """

    bounds: np.ndarray
    prototypes: np.ndarray
    luts: np.ndarray
    quantized_luts: np.ndarray | None
    lut_bits: int | None
    lut_scale: float
    bias: np.ndarray
    split_dims: np.ndarray | None = None
    thresholds: np.ndarray | None = None

    def __post_init__(self):
        for name in _ARRAYS:
            object.__setattr__(self, name, _readonly(getattr(self, name)))
        object.__setattr__(self, "lut_scale", float(self.lut_scale))
        if (self.lut_bits is None) != (self.quantized_luts is None):
            raise ValueError("lut_bits and quantized_luts must both be given or both be None")
        if (self.split_dims is None) != (self.thresholds is None):
            raise ValueError("split_dims and thresholds must both be given or both be None")

    def __reduce__(self):  # rebuilt through __init__, so arrays stay read-only after pickling
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))

    @property
    def encoder(self):
        """``"hash_tree"`` or ``"kmeans"``."""
        return "kmeans" if self.split_dims is None else "hash_tree"

    @property
    def n_subspaces(self):
        """Number m of sub-vectors."""
        return self.luts.shape[0]

    @property
    def n_prototypes(self):
        """Prototypes K per sub-space."""
        return self.luts.shape[1]

    @property
    def n_features(self):
        """Input dimension."""
        return int(self.bounds[-1])

    @property
    def n_outputs(self):
        """Output dimension."""
        return self.luts.shape[2]

    @property
    def tables(self):
        """The tables the sums read: ``quantized_luts`` if quantized, else ``luts``."""
        return self.luts if self.quantized_luts is None else self.quantized_luts


_ARRAYS = ("bounds", "prototypes", "luts", "quantized_luts", "bias", "split_dims", "thresholds")


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


def _check_bounds(bounds, n_features, name="bounds"):
    """``bounds`` as int64 sub-space boundaries ``0 = b_0 < b_1 < ... < b_m = n_features`` (None: any)."""
    bounds = check_real_dtype(np.asarray(bounds), name)
    if bounds.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {bounds.dtype}")
    bounds = bounds.astype(np.int64)
    if (bounds.ndim != 1 or bounds.size < 2 or bounds[0] != 0 or np.any(np.diff(bounds) < 1)
            or n_features is not None and bounds[-1] != n_features):
        to = "n_features" if n_features is None else f"n_features = {n_features}"
        raise ValueError(
            f"{name} must increase from 0 to {to} (as subspace_bounds gives), "
            f"got {bounds.tolist() if bounds.size < 20 else bounds.shape}"
        )
    return bounds


def _check_prototypes(prototypes, bounds, n_features, name="prototypes"):
    """``prototypes`` (m, K, max_block) for the sub-spaces of ``bounds``, and the checked bounds."""
    prototypes = check_real_array(prototypes, name, ndim=3, allow_empty=False)
    bounds = _check_bounds(bounds, n_features)
    width = int(np.max(np.diff(bounds)))
    if prototypes.shape[0] != bounds.size - 1 or prototypes.shape[2] < width:
        raise ValueError(
            f"{name} must have shape (m={bounds.size - 1}, K, >= {width}) for bounds {bounds.tolist()}, "
            f"got {prototypes.shape}"
        )
    return prototypes, bounds


def build_luts(prototypes, bounds, weights):
    """Tables ``LUT[j, k, o] = prototypes[j, k] @ weights[block j, o]``.

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
    prototypes, bounds = _check_prototypes(prototypes, bounds, None)
    weights = check_real_array(weights, "weights", ndim=2)
    if weights.shape[0] != bounds[-1]:
        raise ValueError(f"weights must have n_features = {bounds[-1]} rows (as bounds), got shape {weights.shape}")
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
    lut_bits = check_int(lut_bits, "lut_bits", 2, 16)
    luts = check_real_array(luts, "luts", ndim=3, allow_empty=False).astype(np.float64, copy=False)
    m = luts.shape[0]
    flat = luts.reshape(m, -1)
    offsets = flat.min(axis=1)
    span = float(np.max(flat.max(axis=1) - offsets)) if flat.size else 0.0
    top = 2**lut_bits - 1
    scale = span / top if span > 0 else 1.0
    Q = np.clip(np.rint((luts - offsets[:, None, None]) / scale), 0, top)
    return Q.astype(np.uint8 if lut_bits <= 8 else np.uint16), scale, offsets


def kmeans_encode(X, prototypes, bounds):
    """Index of the nearest prototype (Euclidean) of every sub-vector.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    prototypes : ndarray of shape (m, K, max_block)
    bounds : ndarray of int, shape (m + 1,)

    Returns
    -------
    prototype_indices : ndarray of uint8 (uint16 if K > 256), shape (n_samples, m)
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
    X = check_real_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    prototypes, bounds = _check_prototypes(prototypes, bounds, X.shape[1])
    m, K, _ = prototypes.shape
    out = np.zeros((X.shape[0], m), dtype=np.uint8 if K <= 256 else np.uint16)
    for j in range(m):
        lo, hi = bounds[j], bounds[j + 1]
        P = prototypes[j, :, : hi - lo]
        d2 = (P**2).sum(axis=1)[None, :] - 2.0 * X[:, lo:hi] @ P.T
        out[:, j] = np.argmin(d2, axis=1)
    return out


def _check_input(pq, X, check_input=True):
    if not check_input:
        return X
    X = check_real_array(X, "X")
    if X.ndim != 2 or X.shape[1] != pq.n_features:
        raise ValueError(
            f"X must have shape (n_samples, {pq.n_features}) for this product quantizer, "
            f"got {X.shape}"
        )
    return np.ascontiguousarray(X, dtype=np.float64)


@fill_doc
def pq_encode(pq, X, *, n_threads=1, check_input=True):
    """Prototype index of every sub-vector of ``X`` (trees or nearest centroid).

    %(pq_call)s

    Returns
    -------
    prototype_indices : ndarray of uint8/uint16, shape (n_samples, m)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize.pq_learning import learn_product_quantizer
    >>> X = np.random.RandomState(0).randn(100, 4)
    >>> pq_encode(learn_product_quantizer(X, n_subspaces=2), X).shape
    (100, 2)
    """
    X = _check_input(pq, X, check_input)
    if pq.encoder == "hash_tree":
        return hash_tree_encode(X, pq.split_dims, pq.thresholds, n_threads=n_threads)
    return kmeans_encode(X, pq.prototypes, pq.bounds)


@fill_doc
def pq_table_sums(pq, X, *, n_threads=1, check_input=True):
    """Raw table sums ``sum_j tables[j, index_j, :]`` (int64 for quantized tables).

    %(pq_call)s

    Returns
    -------
    sums : ndarray of int64 (quantized tables) or float64, shape (n_samples, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize.pq_learning import learn_product_quantizer
    >>> X = np.random.RandomState(0).randn(100, 4)
    >>> pq_table_sums(learn_product_quantizer(X, n_subspaces=2), X).dtype
    dtype('int64')

    References
    ----------
    Feng et al., Section IV-C (tree index, table read, accumulation).
    """
    X = _check_input(pq, X, check_input)
    if pq.encoder == "hash_tree":  # fused descent and sum, no index array
        return hash_tree_lut_sum(X, pq.split_dims, pq.thresholds, pq.tables, n_threads=n_threads)
    return lut_sum(kmeans_encode(X, pq.prototypes, pq.bounds), pq.tables, n_threads=n_threads)


@fill_doc
def pq_transform(pq, X, *, n_threads=1, check_input=True):
    """Approximate ``X W + b`` as ``lut_scale * table sums + bias``.

    %(pq_call)s

    Returns
    -------
    Y : ndarray of float64, shape (n_samples, n_outputs)
        ``pq.lut_scale * pq_table_sums(pq, X) + pq.bias``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize.pq_learning import learn_product_quantizer
    >>> rng = np.random.RandomState(0)
    >>> X, W = rng.randn(300, 8), rng.randn(8, 2)
    >>> pq = learn_product_quantizer(X, W, n_subspaces=4)
    >>> bool(np.linalg.norm(pq_transform(pq, X) - X @ W) < np.linalg.norm(X @ W))
    True

    References
    ----------
    Feng et al., Section III-D.
    """
    sums = pq_table_sums(pq, X, n_threads=n_threads, check_input=check_input)
    return pq.lut_scale * sums + pq.bias


@fill_doc
def pq_reconstruct(pq, X, *, n_threads=1, check_input=True):
    """Prototype reconstruction of ``X`` (the quantized input).

    %(pq_call)s

    Returns
    -------
    X_hat : ndarray of float64, shape (n_samples, n_features)
        Every sub-vector of ``X`` replaced by its prototype.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize.pq_learning import learn_product_quantizer
    >>> X = np.random.RandomState(0).randn(100, 4)
    >>> pq_reconstruct(learn_product_quantizer(X, n_subspaces=2), X).shape
    (100, 4)
    """
    idx = pq_encode(pq, X, n_threads=n_threads, check_input=check_input)
    X_hat = np.zeros((idx.shape[0], pq.n_features))
    for j in range(pq.n_subspaces):
        lo, hi = pq.bounds[j], pq.bounds[j + 1]
        X_hat[:, lo:hi] = pq.prototypes[j, idx[:, j], : hi - lo]
    return X_hat


def pq_footprint(pq, float_bits=32, name="ProductQuantizedLinear"):
    """Stored parameters and operations of one inference.

    Trees store ``m * (K - 1)`` thresholds (``float_bits``) and ``m * depth``
    split indices (``ceil(log2 n_features)`` bits); k-means stores the
    prototypes. Tables store ``m * K * n_outputs`` entries of ``lut_bits``
    (``float_bits`` if float). Operations: comparisons (trees) or distance
    MACs (k-means), plus ``m * n_outputs`` table additions, counted as MACs.

    Parameters
    ----------
    pq : ProductQuantizer
    float_bits : int, default=32
    name : str, default="ProductQuantizedLinear"

    Returns
    -------
    Footprint
        Parts: encoder, lookup tables, scale + bias.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.quantize.pq_learning import learn_product_quantizer
    >>> X = np.random.RandomState(0).randn(100, 8)
    >>> pq_footprint(learn_product_quantizer(X, np.ones((8, 2)), n_subspaces=2)).total_macs
    14
    """
    float_bits = check_int(float_bits, "float_bits", 1, 64)
    m, K, n_out = pq.luts.shape
    n_features = pq.n_features
    idx_bits = max(1, int(np.ceil(np.log2(max(n_features, 2)))))
    if pq.encoder == "hash_tree":
        depth = pq.split_dims.shape[1]
        enc = Footprint(
            "hash trees", n_params=m * (K - 1), bits_per_param=float_bits, macs=m * depth,
            parts=(Footprint("split dims", n_params=m * depth, bits_per_param=idx_bits),),
            note=f"{m} trees x {depth} comparisons",
        )
    else:
        enc = Footprint(
            "k-means prototypes", n_params=n_features * K, bits_per_param=float_bits,
            macs=n_features * K, note="nearest-centroid search",
        )
    lut_width = float_bits if pq.lut_bits is None else pq.lut_bits
    lut = Footprint("lookup tables", n_params=m * K * n_out, bits_per_param=lut_width,
                    macs=m * n_out, note="table additions")
    affine = Footprint("scale + bias", n_params=1 + n_out, bits_per_param=float_bits, macs=n_out)
    return Footprint(name, parts=(enc, lut, affine))

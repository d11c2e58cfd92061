"""Binary key-value memory classifier (the MI-MANN memory head of Hersche et al. 2020).

Real feature vectors (e.g. the 272 flattened EEGNet features) are projected to
``n_components`` dimensions and binarized with the Heaviside rule; the packed codes of
the support examples form the *key memory*, their one-hot labels the *value
memory*. A query is compared with every key through the Hamming distance, which
is an exact cosine similarity of bipolar vectors (eq. 10, 14); the similarities
are sharpened (softabs), and the attention vector reads out the value memory
(eq. 15). New support examples, also of new classes, are written without
retraining anything.

Functions ``random_bipolar_projection``, ``cosine_from_hamming``,
``sharpen_attention`` and ``memory_readout`` hold the math;
:class:`BinaryKeyValueMemory` is the scikit-learn shell. The random projection is
regenerated from its 32-bit seed by eegbin's counter-based generator
(:mod:`eegbin.kernels.rng`), the generator :mod:`eegbin.train` trains MI-MANN
with, so a trained controller's projection is rematerialized, never stored.

References
----------
M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for Motor-Imagery
Brain-Computer Interface Classification", IEEE JETCAS, 2020, Section IV-A,
eq. (10), (14), (15), Fig. 4.
G. Karunaratne et al., "Robust high-dimensional memory-augmented neural
networks", Nature Communications 12, 2468, 2021 (softabs sharpening).
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from scipy.special import softmax as scipy_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..base import draw_seed
from ..docstrings import fill_doc
from ..footprint import Footprint, apply_convention, check_convention
from ..kernels import bipolar_dot, pack_bits, sparse_ternary_block
from ..kernels.checks import (
    check_allocation,
    check_int,
    check_n_bits,
    check_packed,
    check_padding,
    check_real,
    check_real_array,
    check_real_dtype,
    refuse_strings,
)

__all__ = [
    "BinaryKeyValueMemory",
    "random_bipolar_projection",
    "cosine_from_hamming",
    "sharpen_attention",
    "memory_readout",
]

_SHARPEN = ("softabs", "softmax", "none")


# ---------------------------------------------------------------------------
# math (arrays in, arrays out)
# ---------------------------------------------------------------------------


def random_bipolar_projection(seed, n_components, n_features):
    """MI-MANN's dense bipolar random projection, regenerated from a 32-bit seed.

    ``R[i, j] = +1`` or ``-1`` with probability 1/2 each, drawn by eegbin's
    counter-based generator: ``R`` equals
    ``sparse_ternary_block(seed, 0, n_components, n_features, sparsity=0)`` (entry
    ``(i, j)`` depends only on ``(seed, i, j)``), so a device regenerates it from
    the seed alone. The scale is the maximum of Xavier's uniform initialization,
    ``sqrt(6 / (n_features + n_components))``, with which the paper scales the entries
    (Sec. IV-B); training multiplies ``R`` by it, inference may drop it (a positive
    scale never changes a sign, and the paper folds it into the batch norm).

    Parameters
    ----------
    seed : int in [0, 2**32 - 1]
    n_components : int
        Rows (the binary dimension d).
    n_features : int
        Columns (the controller's features, 272 for EEGNet on 22 x 1125 trials).

    Returns
    -------
    R : ndarray of int8, shape (n_components, n_features)
        Entries +1 and -1.
    scale : float
        ``sqrt(6 / (n_features + n_components))``.

    Examples
    --------
    >>> from eegbin.binary import random_bipolar_projection
    >>> R, scale = random_bipolar_projection(7, n_components=256, n_features=272)
    >>> R.shape, sorted(set(R.ravel().tolist())), round(scale, 5)
    ((256, 272), [-1, 1], 0.1066)
    >>> bool((random_bipolar_projection(7, 2, 272)[0] == R[:2]).all())  # rows are streams
    True

    References
    ----------
    Hersche et al. 2020, Sec. IV-B (dense bipolar random projection scaled by
    Xavier's bound, regenerated on the fly); X. Glorot, Y. Bengio, AISTATS 2010.
    """
    n_components, n_features = check_int(n_components, "n_components", 1), check_int(n_features, "n_features", 1)
    check_allocation(n_components * n_features, f"a {n_components} x {n_features} int8 matrix",
                     "n_components x n_features")
    R = sparse_ternary_block(seed, 0, n_components, n_features, sparsity=0.0)
    return R, _xavier_bound(n_features, n_components)


def cosine_from_hamming(queries, keys, n_bits):
    """Cosine similarities of bipolar vectors from their packed codes.

    ``alpha = <q, e> / (||q|| ||e||) = 1 - 2 d_h(q, e)`` with ``d_h`` the
    normalized Hamming distance (Hersche 2020, eq. 7-10 and 14), computed
    exactly as ``bipolar_dot(q, e) / n_bits`` with XOR + POPCOUNT.

    Parameters
    ----------
    queries : ndarray of uint64, shape (n_queries, n_words)
        Packed query codes.
    keys : ndarray of uint64, shape (n_keys, n_words)
        Packed key memory.
    n_bits : int
        Bits per code.

    Returns
    -------
    alpha : ndarray of float64, shape (n_queries, n_keys)
        Values in [-1, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import pack_bits
    >>> from eegbin.binary.memory import cosine_from_hamming
    >>> q = pack_bits(np.array([[1, 1, -1, -1]]))
    >>> e = pack_bits(np.array([[1, 1, -1, -1], [1, -1, -1, -1], [-1, -1, 1, 1]]))
    >>> cosine_from_hamming(q, e, 4)
    array([[ 1. ,  0.5, -1. ]])

    References
    ----------
    Hersche et al. 2020, eq. (10) and (14).
    """
    n_bits = check_int(n_bits, "n_bits", 1)
    queries, keys = check_packed(queries, "queries"), check_packed(keys, "keys")
    if keys.shape[1] != queries.shape[1]:  # named here, not as bipolar_dot's A and B
        raise ValueError(f"keys must have as many words per row as queries ({queries.shape[1]}), "
                         f"got {keys.shape[1]}")
    check_n_bits(n_bits, queries.shape[1], "n_bits")
    check_padding(queries, n_bits, "queries")
    check_padding(keys, n_bits, "keys")
    return bipolar_dot(queries, keys, n_bits) / np.float64(n_bits)


def sharpen_attention(alpha, sharpen="softabs", beta=10.0):
    """Attention weights from cosine similarities.

    ``"softabs"`` (Karunaratne et al. 2021): ``a_i = s(beta (alpha_i - 1/2)) +
    s(beta (-alpha_i - 1/2))`` with the logistic ``s(z) = 1 / (1 + exp(-z))``,
    a smooth, sharpened ``|alpha_i|``: close to 1 for ``|alpha| -> 1``, close
    to 0 for orthogonal codes (``alpha = 0``), and *also* large for
    anticorrelated codes, which is why a controller trained with it makes
    different classes orthogonal rather than opposite (Hersche 2020, Sec. IV-A).
    Hersche 2020 names softabs and its properties but gives no formula; this
    is the formula of the cited Karunaratne et al. paper, stiffness ``beta = 10``.
    ``"softmax"``: ``a = softmax(beta * alpha)`` over the memory entries.
    ``"none"``: ``a = alpha`` (plain cosine similarities).

    Parameters
    ----------
    alpha : ndarray of shape (n_queries, n_keys)
        Cosine similarities in [-1, 1].
    sharpen : {"softabs", "softmax", "none"}, default="softabs"
    beta : float, default=10.0
        Stiffness (softabs) or inverse temperature (softmax); > 0.

    Returns
    -------
    attention : ndarray of float64, shape (n_queries, n_keys)
        One weight per key for each query, by the rule ``sharpen``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.binary.memory import sharpen_attention
    >>> sharpen_attention(np.array([[1.0, 0.0, -1.0]])).round(3)
    array([[0.993, 0.013, 0.993]])
    """
    alpha = check_real_array(alpha, "alpha", ndim=2).astype(np.float64, copy=False)
    if sharpen not in _SHARPEN:
        raise ValueError(f"sharpen must be one of {_SHARPEN}, got {sharpen!r}")
    beta = check_real(beta, "beta", 0, low_open=True)
    if sharpen == "softabs":
        # logistic via tanh: s(z) = (1 + tanh(z / 2)) / 2, no overflow
        return 0.5 * (
            np.tanh(0.5 * beta * (alpha - 0.5)) + np.tanh(0.5 * beta * (-alpha - 0.5))
        ) + 1.0
    if sharpen == "softmax":
        z = beta * alpha
        return z if z.shape[-1] == 0 else scipy_softmax(z, axis=-1)
    return alpha.copy()


def memory_readout(attention, labels, n_classes):
    """Value-memory readout ``y_hat = a Y`` with ``Y`` the one-hot labels (eq. 15).

    Parameters
    ----------
    attention : ndarray of shape (n_queries, n_keys)
    labels : ndarray of int, shape (n_keys,)
        Class index (0 .. n_classes - 1) of each memory entry; ``Y[i, labels[i]] = 1``.
    n_classes : int

    Returns
    -------
    y_hat : ndarray of float64, shape (n_queries, n_classes)
        The attention of each query summed over the keys of each class.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.binary.memory import memory_readout
    >>> memory_readout(np.array([[0.2, 0.3, 0.4, 0.1]]), np.array([0, 1, 1, 0]), 2)
    array([[0.3, 0.7]])

    References
    ----------
    Hersche et al. 2020, eq. (15) and the 2-way/2-shot example after it.
    """
    attention = check_real_array(attention, "attention", ndim=2).astype(np.float64, copy=False)
    n_classes = check_int(n_classes, "n_classes", 1)
    labels = check_real_dtype(np.asarray(labels), "labels")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if labels.shape != (attention.shape[1],):
        raise ValueError(f"labels must have shape (n_keys,) = ({attention.shape[1]},) for attention of "
                         f"shape {attention.shape}, got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, n_classes={n_classes}), got values in "
                         f"[{labels.min()}, {labels.max()}]")
    Y = np.zeros((labels.shape[0], n_classes), dtype=np.float64)
    Y[np.arange(labels.shape[0]), labels] = 1.0
    return attention @ Y


def _normalize_readout(y_hat):
    """Probabilities: the positive part of the readout, normalized per row.

    softabs and softmax attentions are positive, so this is ``y_hat / sum``.
    With ``sharpen="none"`` a row without positive entries becomes one-hot at
    its argmax, so ``argmax(proba) == predict`` always.
    """
    pos = np.maximum(y_hat, 0.0)
    total = pos.sum(axis=1, keepdims=True)
    proba = np.divide(pos, total, out=np.zeros_like(pos), where=total > 0)
    empty = total[:, 0] <= 0
    if empty.any():
        proba[empty] = 0.0
        proba[np.flatnonzero(empty), np.argmax(y_hat[empty], axis=1)] = 1.0
    return proba


def _xavier_bound(fan_in, fan_out):
    """Maximum of Xavier (Glorot) uniform initialization, sqrt(6 / (fan_in + fan_out))."""
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


def _load_projection_weights(weights, key):
    """An ndarray from an ndarray, a dict of arrays, or a weight file path.

    A path is read by :func:`eegbin.nn.load_weights` (no pickle, memory bounded by
    its ``max_bytes`` default), the one reader of weight files.
    """
    if isinstance(weights, np.ndarray):
        return weights
    if isinstance(weights, (str, os.PathLike)):
        from ..nn.io import load_weights  # the weight-file reader lives with the networks

        try:
            weights = load_weights(weights)
        except ValueError as exc:
            name = os.fspath(weights)
            reason = str(exc).removeprefix(f"weight file {name!r}: ")
            raise ValueError(
                f"projection_weights: cannot read {name!r} as an .npz weight file (or another "
                f"format eegbin.nn.load_weights reads): {reason}"
            ) from None
    if isinstance(weights, dict):
        if key is None:
            if len(weights) != 1:
                raise ValueError(
                    "projection_key must name the projection matrix among the "
                    f"{len(weights)} tensors {sorted(weights)}"
                )
            key = next(iter(weights))
        if key not in weights:
            raise ValueError(
                f"projection_key={key!r} is not among the tensors {sorted(weights)}"
            )
        return np.asarray(weights[key])
    raise TypeError(
        "projection_weights must be an ndarray, a dict of arrays or the path of a weight "
        f"file (.npz, .npy, safetensors, .pt, Keras .h5), got {type(weights).__name__}"
    )


# ---------------------------------------------------------------------------
# estimator
# ---------------------------------------------------------------------------


def _check_learned_projection(W, n_components, n_features):
    """A learned projection as a finite float64 (n_components, n_features) matrix, or a clear error."""
    if W.ndim != 2 or W.dtype.kind not in "iuf" or W.dtype == np.bool_:
        raise ValueError(
            "the learned projection must be a 2-D real matrix (n_components, n_features), "
            f"got shape {W.shape} and dtype {W.dtype}"
        )
    if W.shape != (n_components, n_features):
        raise ValueError(
            f"the learned projection has shape {W.shape}, expected (n_components={n_components}, "
            f"n_features={n_features}); set n_components={W.shape[0]} if the rows are right"
        )
    W = W.astype(np.float64)
    if not np.all(np.isfinite(W)):
        raise ValueError("the learned projection contains NaN or Inf")
    return W


def _memory_footprint(n_support, n_features, n_classes, n_components, seeded, float_bits, convention):
    """Footprint of a key-value memory (see :meth:`BinaryKeyValueMemory.footprint`)."""
    label_bits = max(1, int(np.ceil(np.log2(n_classes)))) if n_classes > 1 else 1
    if seeded:
        proj = Footprint(
            "random projection",
            n_params=1,
            bits_per_param=32,
            macs=n_components * n_features,
            note="bipolar, regenerated from a 32-bit seed",
        )
    else:
        proj = Footprint(
            "learned projection",
            n_params=n_components * n_features,
            bits_per_param=float_bits,
            macs=n_components * n_features,
        )
    keys = Footprint(
        "key memory",
        n_params=n_support * n_components,
        bits_per_param=1,
        bit_ops=n_support * n_components,
        note="Hamming search (XOR+POPCOUNT)",
    )
    if convention == "hersche2020":
        values = Footprint("value memory", macs=n_support,
                           note="not counted in Table II; readout a Y")
    else:
        values = Footprint(
            "value memory",
            n_params=n_support,
            bits_per_param=label_bits,
            macs=n_support,
            note="class indices (one-hot rebuilt), readout a Y",
        )
    return apply_convention(Footprint("BinaryKeyValueMemory", parts=(proj, keys, values)),
                            convention)


@fill_doc
class BinaryKeyValueMemory(ClassifierMixin, BaseEstimator):
    """Few-shot classifier with a binary key memory and a one-hot value memory.

    The MI-MANN memory head of Hersche et al. 2020 (Sec. IV, Fig. 4) on real
    feature vectors: ``E = H(R f)`` (Heaviside of a projection) is written into
    the key memory, the one-hot label into the value memory. A query code is
    compared with all keys through the Hamming distance, ``alpha = 1 - 2 d_h``
    (eq. 10, 14), sharpened into an attention vector ``a`` and read out as
    ``y_hat = a Y`` (eq. 15); the class is ``argmax y_hat``. ``add_examples``
    writes more support examples (a new class, or a new session's calibration
    trials) without retraining anything.

    Features should be centred (e.g. a ``StandardScaler`` before this step):
    only the *direction* of a feature vector survives the sign of a projection.

    Parameters
    ----------
    projection : {"random", "learned"} or ndarray of shape (n_components, n_features), default="random"
        ``"random"``: the dense bipolar (±1) matrix of
        :func:`random_bipolar_projection`, regenerated from the 32-bit seed
        ``seed_`` and scaled by the maximum of Xavier's uniform initialization
        ``sqrt(6 / (n_features + n_components))`` as in the paper (Sec. IV-B). A
        positive scale never changes a sign, so the keys equal those of the
        unscaled matrix; the scale is kept (``projection_scale_``) because a
        controller trained with this projection folds it into its batch norm.
        It is the matrix :class:`eegbin.train.MIMANN` trains with for the same seed.
        ``"learned"``: the matrix in ``projection_weights`` (a trained
        fully connected layer without bias, torch layout ``(out, in)``).
        An ndarray is used as the learned matrix directly.
    n_components : int, default=256
        Dimension ``d`` of the binary codes (bits per key). A given matrix must
        have ``n_components`` rows.
    sharpen : {"softabs", "softmax", "none"}, default="softabs"
        Attention function, see :func:`sharpen_attention`.
    beta : float, default=10.0
        Softabs stiffness or softmax inverse temperature.
    projection_weights : ndarray, dict of ndarrays, str or path, default=None
        Source of the learned matrix for ``projection="learned"``: an array, a
        dict of arrays (e.g. a loaded state dict), or a weight file (``.npz``,
        ``.npy``, safetensors, PyTorch ``.pt``, Keras ``.h5``) read by
        :func:`eegbin.nn.load_weights` (no pickle, bounded memory).
    projection_key : str, default=None
        Name of the matrix in a dict / weight file; None if it holds exactly one.
    random_state : int, RandomState instance or None, default=None
        The seed of the random projection: an int in [0, 2**32 - 1] is the
        seed itself (e.g. the ``"seed"`` a trained MI-MANN's export stores); None
        or a RandomState draws one at fit (``seed_``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels; grows when ``add_examples`` sees a new class.
    n_features_in_ : int
    projection_ : ndarray of shape (n_components, n_features)
        The projection matrix used (±1 int8 for random, float64 for learned).
    projection_scale_ : float
        Xavier bound for the random projection, 1.0 for a learned one.
    seed_ : int or None
        32-bit seed the random projection is generated from (None if learned).
    keys_ : ndarray of uint64, shape (n_support, ceil(n_components / 64))
        Packed key memory.
    labels_ : ndarray of int64, shape (n_support,)
        Class index (into ``classes_``) of each key; the value memory is its
        one-hot encoding.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import BinaryKeyValueMemory
    >>> rng = np.random.default_rng(0)
    >>> means = rng.normal(size=(3, 20))
    >>> X = np.repeat(means, 4, axis=0) + 0.3 * rng.normal(size=(12, 20))
    >>> y = np.repeat([0, 1, 2], 4)
    >>> mem = BinaryKeyValueMemory(n_components=128, random_state=0).fit(X[y < 2], y[y < 2])
    >>> mem.classes_
    array([0, 1])
    >>> mem = mem.add_examples(X[y == 2], y[y == 2])   # a new class, nothing retrained
    >>> mem.classes_, mem.predict(means).tolist()
    (array([0, 1, 2]), [0, 1, 2])

    References
    ----------
    Hersche, Benini, Rahimi, "Binarization Methods for Motor-Imagery
    Brain-Computer Interface Classification", IEEE JETCAS 2020, Sec. IV-A/B,
    eq. (10), (14), (15). Karunaratne et al., "Robust high-dimensional
    memory-augmented neural networks", Nat. Commun. 2021 (softabs).
    """

    _parameter_constraints = {
        "projection": [StrOptions({"random", "learned"}), np.ndarray],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sharpen": [StrOptions(set(_SHARPEN))],
        "beta": [Interval(Real, 0, None, closed="neither")],
        "projection_weights": [None, np.ndarray, dict, str, os.PathLike],
        "projection_key": [None, str],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        projection="random",
        n_components=256,
        sharpen="softabs",
        beta=10.0,
        projection_weights=None,
        projection_key=None,
        random_state=None,
    ):
        self.projection = projection
        self.n_components = n_components
        self.sharpen = sharpen
        self.beta = beta
        self.projection_weights = projection_weights
        self.projection_key = projection_key
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # softabs rewards anticorrelated codes as much as correlated ones (by
        # design, for a controller trained to make classes orthogonal); on
        # generic data such as scikit-learn's centred 2-D blobs, classes lie at
        # ~120 degrees (alpha ~ -1/3) and the many-shot sums swamp the readout.
        # softmax / none reach the accuracy check (tested).
        tags.classifier_tags.poor_score = self.sharpen == "softabs"
        return tags

    # -- fitting --------------------------------------------------------------
    def _make_projection(self, n_features):
        if isinstance(self.projection, str) and self.projection == "random":
            if self.projection_weights is not None:
                raise ValueError(
                    "projection_weights is only used with projection='learned', "
                    "got projection='random'"
                )
            n_components = check_int(self.n_components, "n_components", 1)  # scikit-learn's Interval takes True for 1
            check_allocation(8 * n_components * n_features, f"the random projection of {n_features} features",
                             "n_components")
            seed = draw_seed(self.random_state)
            R, scale = random_bipolar_projection(seed, n_components, n_features)
            return R, scale, seed
        if isinstance(self.projection, np.ndarray):
            if self.projection_weights is not None:
                raise ValueError(
                    "give the learned matrix either as projection or as "
                    "projection_weights, not both"
                )
            W = self.projection
        else:  # "learned"
            if self.projection_weights is None:
                raise ValueError(
                    "projection='learned' needs projection_weights (an array, a dict of "
                    "arrays or a weight file path)"
                )
            W = _load_projection_weights(self.projection_weights, self.projection_key)
        return _check_learned_projection(W, self.n_components, n_features), 1.0, None

    def _encode(self, X):
        """Packed keys/queries E = H(scale * R x) (Hersche 2020, eq. 4-5)."""
        Z = X @ self.projection_.T.astype(np.float64)
        return pack_bits(self.projection_scale_ * Z, kind="heaviside")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Write the support set ``(X, y)`` into an empty memory.

        Parameters
        ----------
        X : array-like of shape (n_support, n_features)
            Real feature vectors.
        y : array-like of shape (n_support,)
            Class labels.

        %(returns_self)s
        """
        X, y = validate_data(self, refuse_strings(X), y, dtype=np.float64)
        check_classification_targets(y)
        self.projection_, self.projection_scale_, self.seed_ = self._make_projection(X.shape[1])
        self.classes_, self.labels_ = np.unique(y, return_inverse=True)
        self.labels_ = self.labels_.astype(np.int64)
        self.keys_ = self._encode(X)
        return self

    def add_examples(self, X, y):
        """Append support examples to the memory without retraining anything.

        Keys and labels already stored are kept bit for bit; labels not seen
        before become new classes (``classes_`` stays sorted).

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
        y : array-like of shape (n_new,)

        Returns
        -------
        self : BinaryKeyValueMemory
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=np.float64, reset=False)
        y = column_or_1d(np.asarray(y), warn=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y must have the same number of examples, got X {X.shape} and y {y.shape}"
            )
        check_classification_targets(y)
        try:
            classes = np.union1d(self.classes_, y)
        except TypeError as exc:
            raise TypeError(
                f"y labels of dtype {y.dtype} cannot be compared with classes_ of dtype "
                f"{self.classes_.dtype}"
            ) from exc
        old = self.classes_[self.labels_]
        self.classes_ = classes
        self.labels_ = np.concatenate(
            [np.searchsorted(classes, old), np.searchsorted(classes, y)]
        ).astype(np.int64)
        self.keys_ = np.concatenate([self.keys_, self._encode(X)], axis=0)
        return self

    # -- inference --------------------------------------------------------------
    def _readout(self, X):
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=np.float64, reset=False)
        alpha = cosine_from_hamming(self._encode(X), self.keys_, self.n_components)
        attention = sharpen_attention(alpha, self.sharpen, self.beta)
        return memory_readout(attention, self.labels_, len(self.classes_))

    def predict(self, X):
        """Class of the largest readout ``a Y`` per query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
        """
        y_hat = self._readout(X)
        return self.classes_[np.argmax(y_hat, axis=1)]

    def predict_proba(self, X):
        """Normalized readout ``y_hat / sum(y_hat)`` per query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
        """
        return _normalize_readout(self._readout(X))

    # -- accounting -------------------------------------------------------------
    def footprint(self, float_bits=32, convention="eegbin"):
        """Stored bits and operations per inference (Hersche 2020, Table II).

        Keys: ``n_support x n_components`` bits. Values: the one-hot value memory is
        stored as class indices, ``n_support x ceil(log2 n_classes)`` bits (at
        least 1). Projection: a 32-bit seed if random (the Xavier scale changes
        no sign and is not stored), ``n_components x n_features`` parameters of
        ``float_bits`` if learned. Operations: ``n_components x n_features`` projection
        MACs (additions/subtractions for the bipolar matrix), ``n_support x
        n_components`` XOR+POPCOUNT bit operations, and ``n_support`` readout
        accumulations (the sharpening non-linearity is not counted).

        Parameters
        ----------
        float_bits : int, default=32
            Width of the learned projection's stored values.
        convention : {"eegbin", "hersche2020"}, default="eegbin"
            ``"hersche2020"`` counts as Table II: the Hamming search as MACs of 32
            elements and the value memory not stored (its "Classification" row is
            the key memory alone: 1.02 kB and 288 MACs for 32 keys of 256 bits).

        Returns
        -------
        Footprint

        Examples
        --------
        >>> import numpy as np
        >>> from eegbin import BinaryKeyValueMemory
        >>> X, y = np.random.default_rng(0).normal(size=(32, 272)), np.arange(32) % 4
        >>> mem = BinaryKeyValueMemory(n_components=256, random_state=1).fit(X, y)  # 4-way / 8-shot
        >>> [(p.name, round(p.kB, 3), p.total_macs)
        ...  for p in mem.footprint(16, convention="hersche2020").parts]
        [('random projection', 0.004, 69632), ('key memory', 1.024, 256), ('value memory', 0.0, 32)]
        """
        check_is_fitted(self)
        check_convention(convention)
        return _memory_footprint(self.keys_.shape[0], self.n_features_in_, len(self.classes_), self.n_components,
                                 self.seed_ is not None, float_bits, convention)

"""Product-quantized linear layer and classifier (scikit-learn estimators).

Thin shells over :func:`~eegbin.quantize.pq_learning.learn_product_quantizer`
(fit) and the functions of :mod:`eegbin.quantize.pq_tables` (inference): ``fit``
stores the learned :class:`~eegbin.quantize.pq_tables.ProductQuantizer` as
``quantizer_``, every other method calls a pure function of it.

References
----------
.. [1] W. Feng et al., "An Efficient EEGNet Processor Design for Portable EEG-Based
   BCIs", Section III-D (product quantization of the FC layer with balanced
   binary regression trees, m = 8 sub-vectors, 16 leaves), Section IV-D
   (softmax -> max) and Fig. 3.
.. [2] D. Blalock, J. Guttag, "Multiplying Matrices Without Multiplying", ICML
   2021 (MADDNESS).
.. [3] H. Jegou, M. Douze, C. Schmid, "Product Quantization for Nearest Neighbor
   Search", IEEE TPAMI 33(1), 2011.
"""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import Float64OutputMixin
from ..docstrings import fill_doc
from ..kernels.checks import all_finite, refuse_strings
from ..kernels.threads import n_threads
from .pq_learning import learn_product_quantizer
from .pq_tables import pq_encode, pq_footprint, pq_reconstruct, pq_table_sums

__all__ = ["ProductQuantizedLinear", "PQClassifier"]

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
    return np.ascontiguousarray(validate_data(est, refuse_strings(X), dtype=np.float64, reset=False))


_PQ_CONSTRAINTS = {
    "n_subspaces": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "n_prototypes": [Interval(numbers.Integral, 2, 65536, closed="both")],
    "encoder": [StrOptions({"hash_tree", "kmeans"})],
    "lut_bits": [Interval(numbers.Integral, 2, 16, closed="both"), None],
    "random_state": ["random_state"],
    "n_jobs": [Interval(numbers.Integral, None, -1, closed="right"),
               Interval(numbers.Integral, 1, None, closed="left"), None],
}


@fill_doc
class ProductQuantizedLinear(Float64OutputMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                             BaseEstimator):
    """Product-quantized linear layer ``X W + b`` (encode, then sum lookup tables).

    Fitted on training inputs ``X`` and a weight matrix ``weights`` (n_features x
    n_outputs) plus ``bias`` (``fit(X, weights=W, bias=b)``); without ``weights``
    the identity is used and ``transform`` returns the product-quantized
    reconstruction of ``X``. :class:`PQClassifier` wraps a linear classifier.

    Parameters
    ----------
    n_subspaces : int or "auto", default="auto"
        Number m of contiguous sub-vectors, at most ``n_features``; "auto" is
        ``min(8, n_features)`` (Feng et al. choose m = 8, Fig. 3).
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
    n_jobs : int or None, default=None
        Threads of k-means and of the table sums; None means 1, -1 all cores.

    Attributes
    ----------
    quantizer_ : ProductQuantizer
        Every learned array (:class:`eegbin.quantize.pq_tables.ProductQuantizer`);
        the attributes below are views of it.
    n_features_in_ : int
    n_outputs_ : int
    n_subspaces_ : int
        The number of sub-vectors used.
    bounds_ : ndarray of int64, shape (m + 1,)
        Sub-space boundaries.
    split_dims_, thresholds_ : ndarray or None
        Trees (``encoder="hash_tree"``); see
        :func:`~eegbin.quantize.pq_learning.learn_hash_trees`.
    prototypes_ : ndarray of shape (m, n_prototypes, max_block)
    luts_ : ndarray of float64, shape (m, n_prototypes, n_outputs)
        Exact tables.
    quantized_luts_ : ndarray of uint8/uint16 or None
        Quantized tables (None if ``lut_bits`` is None).
    lut_scale_ : float
        Scale of the quantized tables (1.0 when float).
    bias_ : ndarray of float64, shape (n_outputs,)
        ``b`` plus the summed table offsets: ``transform = lut_scale_ * sums + bias_``.

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

    _parameter_constraints = dict(_PQ_CONSTRAINTS)

    def __init__(self, n_subspaces="auto", n_prototypes=16, encoder="hash_tree", lut_bits=8,
                 random_state=None, n_jobs=None):
        self.n_subspaces = n_subspaces
        self.n_prototypes = n_prototypes
        self.encoder = encoder
        self.lut_bits = lut_bits
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, weights=None, bias=None):
        """Learn the encoders on ``X`` and build the tables of ``weights``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs of the layer (activations).
        %(y_ignored)s
        weights : array-like of shape (n_features, n_outputs), optional
            Layer weights; identity if None.
        bias : array-like of shape (n_outputs,), optional
            Layer bias; zeros if None.

        %(returns_self)s
        """
        X = validate_data(self, refuse_strings(X), dtype=np.float64)
        self.quantizer_ = learn_product_quantizer(
            X, weights, bias, n_subspaces=self.n_subspaces, n_prototypes=self.n_prototypes,
            encoder=self.encoder, lut_bits=self.lut_bits, random_state=self.random_state,
            n_threads=n_threads(self.n_jobs),
        )
        self.n_subspaces_ = self.quantizer_.n_subspaces
        self.n_outputs_ = self._n_features_out = self.quantizer_.n_outputs
        return self

    # fitted arrays: views of quantizer_
    bounds_ = property(lambda self: self.quantizer_.bounds)
    split_dims_ = property(lambda self: self.quantizer_.split_dims)
    thresholds_ = property(lambda self: self.quantizer_.thresholds)
    prototypes_ = property(lambda self: self.quantizer_.prototypes)
    luts_ = property(lambda self: self.quantizer_.luts)
    quantized_luts_ = property(lambda self: self.quantizer_.quantized_luts)
    lut_scale_ = property(lambda self: self.quantizer_.lut_scale)
    bias_ = property(lambda self: self.quantizer_.bias)

    def _run(self, operation, X):
        """``operation`` (a function of :mod:`.pq_tables`) on the validated ``X``, ``n_jobs`` threads."""
        return operation(self.quantizer_, _validate_fitted_X(self, X), n_threads=n_threads(self.n_jobs),
                         check_input=False)

    def encode(self, X):
        """Prototype index of every sub-vector.

        %(params_X)s

        Returns
        -------
        prototype_indices : ndarray of uint8, shape `(n_samples, n_subspaces_)`
        """
        return self._run(pq_encode, X)

    def table_sums(self, X):
        """Raw table sums ``sum_j LUT[j, index_j, :]`` (int64 for quantized tables).

        %(params_X)s

        Returns
        -------
        sums : ndarray of shape (n_samples, n_outputs)
        """
        return self._run(pq_table_sums, X)

    def transform(self, X):
        """Approximate ``X W + b`` as ``lut_scale_ * table_sums(X) + bias_``.

        %(params_X)s

        Returns
        -------
        Y : ndarray of float64, shape (n_samples, n_outputs)
        """
        return self.lut_scale_ * self.table_sums(X) + self.bias_

    def reconstruct(self, X):
        """Prototype reconstruction of ``X`` (the quantized input).

        %(params_X)s

        Returns
        -------
        X_hat : ndarray of float64, shape (n_samples, n_features)
        """
        return self._run(pq_reconstruct, X)

    def footprint(self, float_bits=32):
        """A :class:`~eegbin.Footprint`: stored parameters (reals at ``float_bits``) and operations of one inference.

        See :func:`~eegbin.quantize.pq_tables.pq_footprint`.
        """
        check_is_fitted(self)
        return pq_footprint(self.quantizer_, float_bits)


@fill_doc
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
    estimator : linear classifier or None, default=None
        E.g. :class:`~sklearn.linear_model.LogisticRegression` (used if None),
        ``LinearSVC``, ``LinearDiscriminantAnalysis``.
    n_subspaces, n_prototypes, encoder, lut_bits, random_state, n_jobs
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
    >>> from eegbin import PQClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.arange(300) % 2
    >>> X = rng.randn(300, 16) + 2 * y[:, None]
    >>> clf = PQClassifier(n_subspaces=4).fit(X, y)
    >>> float(clf.score(X, y))
    1.0

    References
    ----------
    Feng et al., Section III-D (PQ of the FC layer) and Section IV-D (softmax -> max).
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
        "prefit": ["boolean"],
        **_PQ_CONSTRAINTS,
    }

    def __init__(self, estimator=None, n_subspaces="auto", n_prototypes=16, encoder="hash_tree",
                 lut_bits=8, random_state=None, n_jobs=None, prefit=False):
        self.estimator = estimator
        self.n_subspaces = n_subspaces
        self.n_prototypes = n_prototypes
        self.encoder = encoder
        self.lut_bits = lut_bits
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.prefit = prefit

    @_fit_context(prefer_skip_nested_validation=False)  # the wrapped estimator validates itself
    def fit(self, X, y):
        """Fit (or take) the linear model, then product-quantize it on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features: the linear model is fitted on them (unless ``prefit``),
            then the quantizer is learned on them.
        %(y_labels)s

        %(returns_self)s
        """
        X, y = validate_data(self, refuse_strings(X), y, dtype=np.float64)
        check_classification_targets(y)
        estimator = LogisticRegression() if self.estimator is None else self.estimator
        if self.prefit:
            check_is_fitted(estimator)
            est = estimator
        else:
            est = clone(estimator).fit(X, y)
        for attr in ("coef_", "intercept_", "classes_"):
            if not hasattr(est, attr):
                raise TypeError(
                    f"estimator must be a linear classifier with coef_, intercept_ and classes_; "
                    f"{type(est).__name__} has no {attr}"
                )
        coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
        if coef.shape[1] != X.shape[1]:
            raise ValueError(f"estimator.coef_ has {coef.shape[1]} features, X has {X.shape[1]}")
        intercept = np.broadcast_to(
            np.asarray(est.intercept_, dtype=np.float64), (coef.shape[0],)
        ).copy()
        self.estimator_ = est
        self.classes_ = est.classes_
        self.pq_ = ProductQuantizedLinear(
            n_subspaces=self.n_subspaces, n_prototypes=self.n_prototypes, encoder=self.encoder,
            lut_bits=self.lut_bits, random_state=self.random_state, n_jobs=self.n_jobs,
        ).fit(X, weights=coef.T, bias=intercept)
        return self

    def decision_function(self, X):
        """Approximate scores ``X coef_.T + intercept_`` through the PQ layer.

        %(params_X)s

        %(returns_scores)s
        """
        X = _validate_fitted_X(self, X)
        scores = self.pq_.transform(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class with the largest approximate score (softmax -> max).

        %(params_X)s

        %(returns_y_pred)s
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    def footprint(self, float_bits=32):
        """A :class:`~eegbin.Footprint` of the product-quantized layer; the wrapped float model is not stored.

        See :meth:`ProductQuantizedLinear.footprint`.
        """
        check_is_fitted(self)
        return replace(pq_footprint(self.pq_.quantizer_, float_bits), name="PQClassifier",
                       note="argmax of table sums (softmax -> max)")

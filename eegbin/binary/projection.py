"""Sparse bipolar random projection to Hamming space, rematerialized from a seed."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..footprint import Footprint
from ..kernels import sparse_bipolar_project, unpack_bits
from ..kernels.checks import WORD
from ..kernels.threads import n_threads
from ..kernels.rng import MAX_BLOCK

__all__ = ["SparseBipolarRandomProjection"]

_OUTPUTS = ("packed", "bipolar", "binary")


def _projection_macs(n_components, n_features, sparsity):
    """Additions/subtractions per inference: d * n_features * (1 - s) (Table II)."""
    return int(round(n_components * n_features * (1.0 - sparsity)))


def _format_codes(packed, n_bits, output):
    """Packed uint64 codes -> the requested representation."""
    if output == "packed":
        return packed
    return unpack_bits(packed, n_bits, kind="bipolar" if output == "bipolar" else "binary")


class SparseBipolarRandomProjection(TransformerMixin, BaseEstimator):
    """Binary embedding E = H(R f) with a sparse bipolar R regenerated from a seed.

    R is a ``n_components x n_features`` matrix with entries +1, 0, -1 drawn
    with probabilities (1-s)/2, s, (1-s)/2 (eq. 6, quantized to multiples of
    2**-16, see :mod:`eegbin.kernels.rng`). It is never stored: blocks of rows
    are regenerated from ``(seed, row index)`` by a counter-based generator while
    they are applied, so the fitted state is the 32-bit seed and
    ``n_features_in_``, and the same seed gives the same codes on every machine,
    process, block size and thread count. The sums ``R f`` are computed in
    float32 in a fixed order (sparse additions/subtractions, which measured
    faster than dense BLAS on generated blocks at s = 0.9); H is the Heaviside
    step with H(0) = 1 (eq. 5).

    Parameters
    ----------
    n_components : int, default=10000
        Dimension d of the Hamming space (output bits).
    sparsity : float in [0, 1], default=0.9
        Probability s of a zero entry of R.
    seed : int in [0, 2**32 - 1], default=0
        Seed of the projection (its whole stored state).
    output : {"packed", "bipolar", "binary"}, default="packed"
        ``"packed"``: uint64 words, ceil(d / 64) per row (bit j of a row is bit
        j % 64 of word j // 64); ``"bipolar"``: int8 +-1; ``"binary"``: bool.
    block_size : "auto" or int, default="auto"
        Rows of R regenerated at a time (multiple of 64, at most 32 704;
        "auto" = 512). Does not change the result.
    n_jobs : int or None, default=None
        Threads (None: 1, -1: all cores). Does not change the result.

    Attributes
    ----------
    n_features_in_ : int
        Number of input features (columns of R).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import SparseBipolarRandomProjection
    >>> X = np.random.RandomState(0).randn(4, 30)
    >>> proj = SparseBipolarRandomProjection(n_components=100, seed=1).fit(X)
    >>> proj.transform(X).shape, proj.transform(X).dtype
    ((4, 2), dtype('uint64'))
    >>> proj.set_params(output="bipolar").transform(X)[0, :6]
    array([-1,  1, -1, -1,  1,  1], dtype=int8)
    >>> proj.footprint().n_bytes, proj.footprint().macs
    (4.0, 300)

    References
    ----------
    M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for Motor-Imagery
    Brain-Computer Interface Classification", IEEE JETCAS 2020, Sec. III-B,
    eq. (4)-(6) and Table II.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sparsity": [Interval(Real, 0, 1, closed="both")],
        "seed": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "output": [StrOptions(set(_OUTPUTS))],
        "block_size": [StrOptions({"auto"}), Interval(Integral, WORD, MAX_BLOCK, closed="both")],
        "n_jobs": [None, Integral],
    }

    def __init__(self, n_components=10000, sparsity=0.9, seed=0, output="packed",
                 block_size="auto", n_jobs=None):
        self.n_components = n_components
        self.sparsity = sparsity
        self.seed = seed
        self.output = output
        self.block_size = block_size
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the number of features (R needs no fitting: it comes from ``seed``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued features (finite).
        y : ignored

        Returns
        -------
        self
        """
        validate_data(self, X, dtype=[np.float64, np.float32])
        self._check_block_size()
        n_threads(self.n_jobs)
        return self

    def _check_block_size(self):
        if self.block_size != "auto" and self.block_size % WORD:
            raise ValueError(
                f"block_size must be 'auto' or a multiple of {WORD}, got {self.block_size}"
            )
        return 512 if self.block_size == "auto" else int(self.block_size)

    def transform(self, X):
        """Project and binarize: E = H(R X^T)^T.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        E : ndarray
            uint64 of shape (n_samples, ceil(n_components / 64)) for
            ``output="packed"``; int8 +-1 (``"bipolar"``) or bool (``"binary"``)
            of shape (n_samples, n_components).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        packed = sparse_bipolar_project(
            X.astype(np.float32, copy=False), self.seed, self.n_components, self.sparsity,
            block_size=self._check_block_size(), n_jobs=self.n_jobs,
        )
        return _format_codes(packed, self.n_components, self.output)

    def footprint(self, float_bits=32):
        """Stored state (the 32-bit seed) and additions per inference.

        Parameters
        ----------
        float_bits : int, default=32
            Unused (the projection stores no real-valued parameters).

        Returns
        -------
        Footprint
            1 parameter of 32 bits; ``macs = d * n_features * (1 - s)``
            (108 790 000 for d = 100 000, 10 879 features, s = 0.9).
        """
        check_is_fitted(self)
        return Footprint(
            "SparseBipolarRandomProjection", n_params=1, bits_per_param=32,
            macs=_projection_macs(self.n_components, self.n_features_in_, self.sparsity),
            note="R regenerated from a 32-bit seed",
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

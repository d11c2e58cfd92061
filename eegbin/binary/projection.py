"""Sparse bipolar random projection to Hamming space, rematerialized from a seed."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import BinarizerOutputMixin, draw_seed, packed_as
from ..docstrings import fill_doc
from ..footprint import Footprint, check_convention
from ..kernels import check_projection_sparsity, n_words_for, sparse_bipolar_project
from ..kernels.checks import WORD, check_allocation, refuse_strings
from ..kernels.rng import MAX_BLOCK

__all__ = ["SparseBipolarRandomProjection"]

OUTPUTS = ("bipolar", "binary", "packed")


def projection_macs(n_components, n_features, sparsity):
    """Additions/subtractions per inference: d * n_features * (1 - s) (Table II)."""
    return int(round(n_components * n_features * (1.0 - sparsity)))


def _bytes_per_row(n_components, output):
    return 8 * n_words_for(n_components) if output == "packed" else n_components


@fill_doc
class SparseBipolarRandomProjection(BinarizerOutputMixin, TransformerMixin, BaseEstimator):
    """Binary embedding E = H(R f) with a sparse bipolar R regenerated from a seed.

    R is a ``n_components x n_features`` matrix with entries +1, 0, -1 drawn
    with probabilities (1-s)/2, s, (1-s)/2 (eq. 6, quantized to multiples of
    2**-16, see :mod:`eegbin.kernels.rng`). It is never stored: blocks of rows
    are regenerated from ``(seed_, row index)`` by a counter-based generator while
    they are applied, so the fitted state is the 32-bit seed ``seed_`` and
    ``n_features_in_``, and the same seed gives the same codes on every machine,
    process, block size and thread count. The sums ``R f`` are computed in
    float32 in a fixed order (sparse additions/subtractions, which measured
    faster than dense BLAS on generated blocks at s = 0.9); H is the Heaviside
    step with H(0) = 1 (eq. 5).

    Parameters
    ----------
    n_components : int, default=10000
        Dimension d of the Hamming space (output bits). Refused at fit when one
        output row cannot fit in this machine's memory.
    sparsity : float in [0, 1), default=0.9
        Probability s of a zero entry of R (s = 1 would make every bit 1).
    random_state : int, RandomState instance or None, default=None
        The seed of the projection: an int in [0, 2**32 - 1] is the seed itself;
        None or a RandomState draws one at fit. Either way it is kept as
        ``seed_`` (4 bytes regenerate R).
    output : {"bipolar", "binary", "packed"}, default="bipolar"
        ``"bipolar"``: int8 -1/+1, one column per bit; ``"binary"``: bool;
        ``"packed"``: uint64 words, ceil(d / 64) per row (bit j of a row is bit
        j % 64 of word j // 64), for the Hamming-space classifiers of eegbin,
        which infer d from the words (see :class:`BinarizedLinearSVC`).
    block_size : "auto" or int, default="auto"
        Rows of R regenerated at a time (multiple of 64, at most 32 704;
        "auto" = 512). Does not change the result.
    n_jobs : int or None, default=None
        Threads (None: 1, -1: all cores). Does not change the result.

    Attributes
    ----------
    seed_ : int
        The 32-bit seed R is regenerated from (the whole stored state).
    n_features_in_ : int
        Number of input features (columns of R).
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` has them.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import SparseBipolarRandomProjection
    >>> X = np.random.RandomState(0).randn(4, 30)
    >>> proj = SparseBipolarRandomProjection(n_components=100, random_state=1).fit(X)
    >>> proj.transform(X)[0, :6]
    array([-1,  1, -1, -1,  1,  1], dtype=int8)
    >>> proj.set_params(output="packed").transform(X).shape
    (4, 2)
    >>> proj.seed_, proj.footprint().n_bytes, proj.footprint().macs
    (1, 4.0, 300)

    References
    ----------
    M. Hersche, L. Benini, A. Rahimi, "Binarization Methods for Motor-Imagery
    Brain-Computer Interface Classification", IEEE JETCAS 2020, Sec. III-B,
    eq. (4)-(6) and Table II.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "output": [StrOptions(set(OUTPUTS))],
        "block_size": [StrOptions({"auto"}), Interval(Integral, WORD, MAX_BLOCK, closed="both")],
        "n_jobs": [None, Integral],
    }

    def __init__(self, n_components=10000, sparsity=0.9, random_state=None, output="bipolar",
                 block_size="auto", n_jobs=None):
        self.n_components = n_components
        self.sparsity = sparsity
        self.random_state = random_state
        self.output = output
        self.block_size = block_size
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the seed and record the number of features (R needs no fitting).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued features (finite).
        %(y_ignored)s

        %(returns_self)s
        """
        validate_data(self, refuse_strings(X), dtype=[np.float64, np.float32])
        check_projection_sparsity(self.sparsity)
        check_allocation(_bytes_per_row(self.n_components, self.output),
                         f"one output row of {self.n_components} bits", "n_components")
        self._block_size()
        self.seed_ = draw_seed(self.random_state)
        return self

    def _block_size(self):
        if self.block_size != "auto" and self.block_size % WORD:
            raise ValueError(
                f"block_size must be 'auto' or a multiple of {WORD}, got {self.block_size}"
            )
        return 512 if self.block_size == "auto" else int(self.block_size)

    def transform(self, X):
        """Project and binarize: E = H(R X^T)^T.

        %(params_X)s

        Returns
        -------
        E : ndarray
            int8 -1/+1 (``"bipolar"``) or bool (``"binary"``) of shape
            (n_samples, n_components); uint64 of shape
            (n_samples, ceil(n_components / 64)) for ``output="packed"``.
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=[np.float32, np.float64], reset=False)
        check_allocation(X.shape[0] * _bytes_per_row(self.n_components, self.output),
                         f"the output of {X.shape[0]} samples", "n_components")
        packed = sparse_bipolar_project(
            X.astype(np.float32, copy=False), self.seed_, self.n_components, self.sparsity,
            block_size=self._block_size(), n_jobs=self.n_jobs,
        )
        return packed_as(packed, self.n_components, self.output)

    def _bit_names(self, input_features):
        prefix = type(self).__name__.lower()
        return [f"{prefix}{j}" for j in range(self.n_components)]

    def footprint(self, float_bits=32, convention="eegbin"):
        """Stored state (the 32-bit seed) and additions per inference.

        Parameters
        ----------
        float_bits : int, default=32
            Unused (the projection stores no real-valued parameters).
        convention : {"eegbin", "hersche2020"}, default="eegbin"
            Both conventions count the projection alike (Table II: 0.004 kB).

        Returns
        -------
        Footprint
            1 parameter of 32 bits; ``macs = d * n_features * (1 - s)``
            (108 790 000 for d = 100 000, 10 879 features, s = 0.9).
        """
        check_is_fitted(self)
        check_convention(convention)
        return Footprint(
            "SparseBipolarRandomProjection", n_params=1, bits_per_param=32,
            macs=projection_macs(self.n_components, self.n_features_in_, self.sparsity),
            note="R regenerated from a 32-bit seed",
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

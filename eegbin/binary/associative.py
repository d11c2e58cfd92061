"""RP+AM: per-band random projection, binding, bundling and an associative memory."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import draw_seed
from ..docstrings import fill_doc
from ..footprint import Footprint
from ..kernels import (
    bitwise_majority,
    check_projection_sparsity,
    hamming_argmin,
    n_words_for,
    random_bits,
    random_words,
    sparse_bipolar_project,
)
from ..kernels.checks import check_allocation, check_int, refuse_strings
from .projection import projection_macs
from .svm import hamming_scores

__all__ = ["AssociativeMemoryClassifier", "hd_band_encode"]

_CHUNK = 128  # samples encoded at a time (bounds memory: n_bands x chunk x d bits)


def _hd_randomness(seed, n_bands, n_components):
    """Band keys, two tie-break vectors and per-band projection seeds, all from ``seed``."""
    keys = random_bits(seed, 0, n_bands, n_components)
    ties = random_bits(seed, n_bands, n_bands + 2, n_components)
    band_seeds = random_words(seed, n_bands + 2, n_bands + 3, n_bands)[0] & np.uint64(0xFFFFFFFF)
    return keys, ties[0], ties[1], [int(s) for s in band_seeds]


def hd_band_encode(X, n_bands, n_components, sparsity, seed, *, n_jobs=None):
    """Hypervector of each sample: majority_b( H(R_b f_b) XOR K_b ).

    The features are ``n_bands`` band-major blocks f_b; each block is projected
    to ``n_components`` bits with its own sparse bipolar random projection
    R_b (eq. 4-6 of Hersche et al. 2020), bound to a random key K_b by XOR and
    the bands are bundled by bitwise majority (ties, for an even number of
    bands, take the bits of a random tie-break vector).

    Parameters
    ----------
    X : ndarray of float, shape (n_samples, n_bands * n_per_band)
    n_bands : int
    n_components : int
    sparsity : float in [0, 1]
    seed : int in [0, 2**32 - 1]
        Derives the keys, the tie-break vectors and the per-band projection seeds.
    n_jobs : int or None, default=None

    Returns
    -------
    ndarray of uint64, shape (n_samples, ceil(n_components / 64))
    """
    n, n_f = X.shape
    m = n_f // n_bands
    keys, tie, _, band_seeds = _hd_randomness(seed, n_bands, n_components)
    X = np.asarray(X, dtype=np.float32)
    out = np.empty((n, keys.shape[1]), dtype=np.uint64)
    for s0 in range(0, n, _CHUNK):
        s1 = min(s0 + _CHUNK, n)
        stack = np.empty((n_bands, s1 - s0, keys.shape[1]), dtype=np.uint64)
        for b in range(n_bands):
            stack[b] = sparse_bipolar_project(
                np.ascontiguousarray(X[s0:s1, b * m:(b + 1) * m]), band_seeds[b], n_components,
                sparsity, n_jobs=n_jobs,
            ) ^ keys[b]
        out[s0:s1] = bitwise_majority(stack, tie)
    return out


@fill_doc
class AssociativeMemoryClassifier(ClassifierMixin, BaseEstimator):
    """RP+AM binarized classifier on multi-band features (Hersche et al. 2018).

    Each frequency band's features are projected to ``n_components`` bits by a
    sparse bipolar random projection, bound to a random band key (XOR) and the
    bands are bundled by bitwise majority into one hypervector per trial
    (:func:`hd_band_encode`). Class prototypes are the bitwise majority of the
    training hypervectors of each class (ties broken by a random vector);
    ``predict`` returns the prototype nearest in Hamming distance. Everything
    random is regenerated from one 32-bit seed, ``seed_``: the model stores the
    prototypes and the seed.

    Parameters
    ----------
    n_components : int, default=10000
        Hypervector dimension d.
    n_bands : int, default=1
        Number of band-major feature blocks, each with its own projection and
        key. Set it to the number of bands of the features, e.g. 43 after
        :class:`~eegbin.FilterBankRiemann`'s default bank (n_bands * n_channels
        (n_channels + 1) / 2 features); 1 projects all features at once.
    sparsity : float in [0, 1), default=0.9
        Sparsity of the projection matrices (eq. 6).
    random_state : int, RandomState instance or None, default=None
        The seed of keys, tie-breaks and projections: an int in [0, 2**32 - 1]
        is the seed itself; None or a RandomState draws one at fit (``seed_``).
    n_jobs : int or None, default=None
        Threads of the kernels (None: 1, -1: all).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    prototypes_ : ndarray of uint64, shape (n_classes, ceil(d / 64))
        Packed class prototypes (the associative memory).
    seed_ : int
        The 32-bit seed everything random is regenerated from.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import AssociativeMemoryClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.arange(60) % 3
    >>> X = np.eye(3)[y] @ rng.randn(3, 40) + 0.5 * rng.randn(60, 40)
    >>> am = AssociativeMemoryClassifier(n_components=2000, n_bands=4, random_state=0).fit(X, y)
    >>> float(am.score(X, y)) > 0.9, am.footprint().n_bytes     # 3 x 2000 bits + seed
    (True, 754.0)

    References
    ----------
    M. Hersche, J. del R. Millán, L. Benini, A. Rahimi, "Exploring embedding
    methods in binary hyperdimensional computing: a case study for motor-imagery
    based brain-computer interfaces", arXiv:1812.05705, 2018; "RP+AM binarized"
    in Fig. 7 of Hersche et al., IEEE JETCAS 2020.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_bands": [Interval(Integral, 1, None, closed="left")],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, n_components=10000, n_bands=1, sparsity=0.9, random_state=None, n_jobs=None):
        self.n_components = n_components
        self.n_bands = n_bands
        self.sparsity = sparsity
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _encode(self, X):
        return hd_band_encode(X, self.n_bands, self.n_components, self.sparsity, self.seed_,
                              n_jobs=self.n_jobs)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Encode the training trials and bundle them into class prototypes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bands * n_per_band)
            Real-valued band-major features.
        %(y_labels)s

        %(returns_self)s
        """
        X, y = validate_data(self, refuse_strings(X), y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        check_projection_sparsity(self.sparsity)
        check_int(self.n_components, "n_components", 1)  # scikit-learn's Interval takes True for 1
        check_allocation(self.n_bands * _CHUNK * 8 * n_words_for(self.n_components),
                         f"the band codes of {_CHUNK} samples", "n_components")
        if X.shape[1] % self.n_bands:
            raise ValueError(
                f"X has {X.shape[1]} features, not a multiple of n_bands={self.n_bands} "
                "(expected band-major blocks of equal size)"
            )
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y must hold at least 2 classes, got {len(self.classes_)} class(es)")
        self.seed_ = draw_seed(self.random_state)
        codes = self._encode(X)
        _, _, tie, _ = _hd_randomness(self.seed_, self.n_bands, self.n_components)
        self.prototypes_ = np.vstack(
            [bitwise_majority(codes[y_idx == k][:, None, :], tie) for k in range(len(self.classes_))]
        )
        return self

    def decision_function(self, X):
        """Cosine similarity 1 - 2 d_h to each prototype (difference for two classes).

        %(params_X)s

        %(returns_scores)s
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=[np.float64, np.float32], reset=False)
        s = hamming_scores(self._encode(X), self.prototypes_, self.n_components, n_jobs=self.n_jobs)
        return s[:, 1] - s[:, 0] if len(self.classes_) == 2 else s

    def predict(self, X):
        """Class of the nearest prototype in Hamming distance (ties: first class).

        %(params_X)s

        %(returns_y_pred)s
        """
        check_is_fitted(self)
        X = validate_data(self, refuse_strings(X), dtype=[np.float64, np.float32], reset=False)
        idx, _ = hamming_argmin(self._encode(X), self.prototypes_, n_jobs=self.n_jobs)
        return self.classes_[idx]

    def footprint(self, float_bits=32):
        """Prototypes (1 bit each) and the 32-bit seed; operations per inference.

        ``macs``: the per-band projections, d * n_features * (1 - s) additions;
        ``bit_ops``: binding (n_bands * d XOR), bundling (n_bands * d counter
        increments) and the Hamming search (n_classes * d XOR+POPCOUNT).
        """
        check_is_fitted(self)
        d = self.n_components
        return Footprint(
            "AssociativeMemoryClassifier",
            parts=(
                Footprint("projection + keys (seed)", n_params=1, bits_per_param=32,
                          macs=projection_macs(d, self.n_features_in_, self.sparsity),
                          bit_ops=2 * self.n_bands * d,
                          note="R_b, keys and tie-breaks regenerated from the seed"),
                Footprint("associative memory", n_params=len(self.classes_) * d, bits_per_param=1,
                          bit_ops=len(self.classes_) * d),
            ),
        )

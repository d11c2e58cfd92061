"""Building blocks shared by eegbin's estimators: the output vocabulary and the seed rule.

Public within the package (``binary`` and ``quantize`` import it; it imports
scikit-learn and :mod:`eegbin.kernels`), not part of the user API.

Output vocabulary
-----------------
Every binarizer (:class:`~eegbin.HeavisideBinarizer`,
:class:`~eegbin.SparseBipolarRandomProjection`, :class:`~eegbin.DitheredBinarizer`,
:class:`~eegbin.PeriodicBinarizer`, :class:`~eegbin.MultiLevelBinarizer`) takes an
``output`` parameter with the values of :data:`OUTPUTS`:

``"bipolar"``
    int8 -1/+1, one column per bit.
``"binary"``
    bool 0/1, one column per bit.
``"packed"``
    uint64 words, ``ceil(n_bits / 64)`` per row, bit ``j`` in bit ``j % 64`` of
    word ``j // 64``, padding bits zero (DESIGN.md). An explicit choice between
    eegbin steps: the Hamming-space classifiers read it, nothing else should.
``"scaled"``
    float64, one value per input feature: the binary values times their learned
    scale(s) (BiPer's ``gamma Sign(sin(omega x))``, MLB's ``sum_i alpha_i b_i``).
``"code"``
    a :class:`~eegbin.MultiLevelCode` (multi-level binarization only), the typed
    packed planes and scales of the XNOR-popcount products.

The defaults give one value per feature, never packed words: ``"bipolar"`` for
the binarizers without a scale, ``"scaled"`` for those with one.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from .kernels import n_words_for, pack_bits, unpack_bits
from .kernels.checks import MAX_SEED, check_seed

__all__ = [
    "OUTPUTS", "BinarizerOutputMixin", "EpochsInputMixin", "Float64OutputMixin", "draw_seed", "output_feature_names",
    "packed_as", "signs_as",
]

OUTPUTS = ("bipolar", "binary", "packed", "scaled", "code")


def signs_as(bits, output):
    """Sign bits (bool, True for +1, shape (n, m)) in the ``output`` representation.

    ``"bipolar"`` int8 -1/+1, ``"binary"`` bool, ``"packed"`` uint64 words.
    """
    if output == "binary":
        return np.asarray(bits, dtype=bool)
    if output == "bipolar":
        return (np.asarray(bits, dtype=np.int8) << 1) - np.int8(1)
    if output == "packed":
        return pack_bits(np.asarray(bits, dtype=bool))
    raise ValueError(f"output must be 'bipolar', 'binary' or 'packed' here, got {output!r}")


def packed_as(words, n_bits, output):
    """Packed words (``n_bits`` valid bits per row) in the ``output`` representation."""
    if output == "packed":
        return words
    if output in ("binary", "bipolar"):
        return unpack_bits(words, n_bits, kind=output)
    raise ValueError(f"output must be 'bipolar', 'binary' or 'packed' here, got {output!r}")


def output_feature_names(estimator, bit_names, output, n_levels=1):
    """Names of the output columns of a binarizer (for ``set_output`` and pipelines).

    Parameters
    ----------
    estimator : estimator
        Its lowercase class name prefixes the names of packed words.
    bit_names : sequence of str
        One name per bit of a level (per input feature, or per projected bit).
    output : str
        One of :data:`OUTPUTS`.
    n_levels : int, default=1
        Bit planes per feature (multi-level binarization): the columns are level
        major, ``{name}_level{l}``.

    Returns
    -------
    ndarray of object
        ``bit_names`` (``"scaled"``, and one-level ``"bipolar"``/``"binary"``),
        ``{name}_level{l}`` for several levels, or ``{class}_word{k}`` for
        packed words.
    """
    bit_names = [str(n) for n in bit_names]
    if output == "code":
        raise ValueError(
            f"{type(estimator).__name__}(output='code') returns a MultiLevelCode, not an array: it has "
            "no feature names and cannot become a DataFrame; use output='scaled', 'bipolar', "
            "'binary' or 'packed'"
        )
    if output == "scaled":
        return np.asarray(bit_names, dtype=object)
    levels = [""] if n_levels == 1 else [f"_level{lvl}" for lvl in range(n_levels)]
    names = [f"{name}{lvl}" for lvl in levels for name in bit_names]
    if output == "packed":
        prefix = type(estimator).__name__.lower()
        names = [f"{prefix}_word{k}" for k in range(n_words_for(len(names)))]
    return np.asarray(names, dtype=object)


def draw_seed(random_state):
    """The 32-bit seed of a rematerialized random projection, from ``random_state``.

    An int in ``[0, 2**32 - 1]`` is the seed itself, so ``random_state=7`` gives
    the projection of seed 7 on every machine and on the device; None or a
    ``numpy.random.RandomState`` draws one (``randint(0, 2**32)``). The estimator
    keeps the result as ``seed_``: 4 bytes that regenerate the whole projection.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.base import draw_seed
    >>> draw_seed(7), draw_seed(np.random.RandomState(0)) == draw_seed(np.random.RandomState(0))
    (7, True)
    """
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, (bool, np.bool_)):
        return check_seed(random_state, "random_state")
    rng = check_random_state(random_state)
    return int(rng.randint(0, MAX_SEED + 1, dtype=np.uint64))


class Float64OutputMixin:
    """Transformer tag: the output is float64 whatever the input float dtype."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


class EpochsInputMixin:
    """Estimator tag: the input is 3-D epochs (n_trials, n_channels, n_times), as MOABB returns them."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class BinarizerOutputMixin:
    """``get_feature_names_out`` of a binarizer with an ``output`` parameter (so ``set_output`` works).

    The names come from :func:`output_feature_names`; a binarizer whose bits are not
    one per input feature overrides ``_bit_names``, one with several planes per
    feature ``_n_levels_out``.
    """

    def _bit_names(self, input_features):
        return _check_feature_names_in(self, input_features)

    def _n_levels_out(self):
        return 1

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        The input feature names (one bit or value each), ``{name}_level{l}`` for
        the planes of several levels, or ``{class}_word{k}`` for packed words.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        return output_feature_names(self, self._bit_names(input_features), self.output,
                                    n_levels=self._n_levels_out())

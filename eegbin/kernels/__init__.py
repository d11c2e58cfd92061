"""Numba-jitted pure functions on arrays (no scikit-learn, no classes).

``bits``: packing, popcount, Hamming search, XNOR-popcount products.
``xnor`` / ``xnor_lstm``: the multi-level XNOR-popcount product core and the
fused MuBiNN2 LSTM layer (explicit 512-bit vectors, ``_simd``).
``xnor_conv``: binary 1-D convolutions (binarized EEGNet layers) through XNOR-popcount.
``rng``: counter-based random bits for rematerialized projections.
``pq``: product-quantization tree descent and lookup-table sums.
``checks``: the input checks of every layer (one error type per kind of mistake).
``threads``: ``n_jobs`` -> numba threads, the one thread control of the kernels.
"""

from . import _cache  # noqa: F401  first: numba caches eegbin's kernels per user, not in the package
from .bits import (
    bipolar_dot,
    hamming_argmin,
    hamming_cdist,
    hamming_topk,
    multilevel_matmul,
    n_words_for,
    pack_bits,
    popcount,
    unpack_bits,
)

__all__ = [
    "bipolar_dot",
    "hamming_argmin",
    "hamming_cdist",
    "hamming_topk",
    "multilevel_matmul",
    "n_words_for",
    "pack_bits",
    "popcount",
    "unpack_bits",
]

from .rng import (  # noqa: E402
    check_projection_sparsity,
    dense_bipolar_project,
    random_bits,
    random_words,
    sparse_bipolar_project,
    sparse_ternary_block,
    ternary_threshold,
)

__all__ += [
    "check_projection_sparsity",
    "dense_bipolar_project",
    "random_bits",
    "random_words",
    "sparse_bipolar_project",
    "sparse_ternary_block",
    "ternary_threshold",
]

from .majority import bitwise_majority  # noqa: E402

__all__ += ["bitwise_majority"]

from .pq import hash_tree_encode, hash_tree_lut_sum, lut_sum  # noqa: E402

__all__ += ["hash_tree_encode", "hash_tree_lut_sum", "lut_sum"]

from .xnor_lstm import lstm_gate_preactivations, lstm_layer_operands, mubinn2_lstm_layer  # noqa: E402

__all__ += ["lstm_gate_preactivations", "lstm_layer_operands", "mubinn2_lstm_layer"]

from .xnor_conv import binary_conv1d, pack_windows, separable_to_full  # noqa: E402

__all__ += ["binary_conv1d", "pack_windows", "separable_to_full"]

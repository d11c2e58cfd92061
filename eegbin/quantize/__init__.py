"""eegbin.quantize: weight/activation quantizers.

BiPer square-wave binarization, DeSign dithered sign, product quantization of
linear layers (hash trees / k-means: ``pq_learning`` learns a
:class:`ProductQuantizer`, ``pq_tables`` runs it, ``pq`` holds the estimators),
signed fixed point, and multi-level binarization (MuBiNN).
"""

from .biper import (
    PeriodicBinarizer,
    biper_pdf,
    biper_quantization_error,
    biper_scale,
    square_wave,
)
from .design import (
    DitheredBinarizer,
    design_threshold_kernel,
    dithered_sign,
    half_wave_gaussian_thresholds,
    scale_threshold_kernel,
    threshold_kernel_3d,
    threshold_levels,
    total_variation,
)
from .fixed_point import (
    FixedPointQuantizer,
    auto_frac_bits,
    fixed_point_range,
    from_fixed_point,
    to_fixed_point,
)
from .mlb import (
    MultiLevelBinarizer,
    MultiLevelCode,
    mlb_dot,
    mlb_matmul,
    multilevel_binarize,
    reconstruct,
)
from .pq import PQClassifier, ProductQuantizedLinear
from .pq_learning import learn_hash_trees, learn_kmeans_prototypes, learn_product_quantizer
from .pq_tables import (
    ProductQuantizer,
    build_luts,
    kmeans_encode,
    pq_encode,
    pq_footprint,
    pq_reconstruct,
    pq_table_sums,
    pq_transform,
    quantize_luts,
    subspace_bounds,
)

__all__ = [
    "DitheredBinarizer",
    "design_threshold_kernel",
    "dithered_sign",
    "half_wave_gaussian_thresholds",
    "scale_threshold_kernel",
    "threshold_kernel_3d",
    "threshold_levels",
    "total_variation",
    "PeriodicBinarizer",
    "biper_pdf",
    "biper_quantization_error",
    "biper_scale",
    "square_wave",
    "FixedPointQuantizer",
    "auto_frac_bits",
    "fixed_point_range",
    "from_fixed_point",
    "to_fixed_point",
    "PQClassifier",
    "ProductQuantizedLinear",
    "ProductQuantizer",
    "build_luts",
    "kmeans_encode",
    "learn_hash_trees",
    "learn_kmeans_prototypes",
    "learn_product_quantizer",
    "pq_encode",
    "pq_footprint",
    "pq_reconstruct",
    "pq_table_sums",
    "pq_transform",
    "quantize_luts",
    "subspace_bounds",
    "MultiLevelBinarizer",
    "MultiLevelCode",
    "mlb_dot",
    "mlb_matmul",
    "multilevel_binarize",
    "reconstruct",
]

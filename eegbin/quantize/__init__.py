"""eegbin.quantize"""

# quantize branch: BiPer, DeSign, product quantization, fixed point
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
from .pq import PQClassifier, ProductQuantizedLinear

__all__ = [  # quantize branch
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
]

"""eegbin.quantize: weight/activation quantizers.

BiPer square-wave binarization, DeSign dithered sign, product quantization of
linear layers (hash trees / k-means) and signed fixed point.
"""

from .fixed_point import (
    FixedPointQuantizer,
    auto_frac_bits,
    fixed_point_range,
    from_fixed_point,
    to_fixed_point,
)
from .pq import PQClassifier, ProductQuantizedLinear

__all__ = [
    "FixedPointQuantizer",
    "auto_frac_bits",
    "fixed_point_range",
    "from_fixed_point",
    "to_fixed_point",
    "PQClassifier",
    "ProductQuantizedLinear",
]

"""eegbin.quantize: weight/activation quantizers.

BiPer square-wave binarization, DeSign dithered sign, product quantization of
linear layers (hash trees / k-means), signed fixed point and multi-level
binarization (MuBiNN).
"""

from .biper import (
    PeriodicBinarizer,
    biper_pdf,
    biper_quantization_error,
    biper_scale,
    square_wave,
)
from .fixed_point import (
    FixedPointQuantizer,
    auto_frac_bits,
    fixed_point_range,
    from_fixed_point,
    to_fixed_point,
)
from .pq import PQClassifier, ProductQuantizedLinear

__all__ = [
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
from .mlb import (
    MultiLevelBinarizer,
    MultiLevelCode,
    mlb_dot,
    mlb_matmul,
    multilevel_binarize,
    reconstruct,
)

__all__ += [
    "MultiLevelBinarizer",
    "MultiLevelCode",
    "mlb_dot",
    "mlb_matmul",
    "multilevel_binarize",
    "reconstruct",
]

"""eegbin: compact binary and quantized models for EEG motor-imagery decoding.

Signal -> real features -> binary/quantized code -> classifier, each arrow a
scikit-learn estimator, with footprint (memory, operations) accounting for every
model. See ``DESIGN.md`` in the documentation for the conventions.
"""

__version__ = "0.1.0.dev0"

from .footprint import Footprint, footprint

__all__ = ["Footprint", "footprint", "__version__"]

from .nn import EEGNetClassifier  # noqa: E402

__all__ += ["EEGNetClassifier"]

from .quantize import (  # noqa: E402  (quantize branch)
    FixedPointQuantizer,
    PeriodicBinarizer,
    PQClassifier,
    ProductQuantizedLinear,
    biper_quantization_error,
    biper_scale,
    from_fixed_point,
    square_wave,
    to_fixed_point,
)

__all__ += [
    "FixedPointQuantizer",
    "PeriodicBinarizer",
    "PQClassifier",
    "ProductQuantizedLinear",
    "biper_quantization_error",
    "biper_scale",
    "from_fixed_point",
    "square_wave",
    "to_fixed_point",
]
# multi-level binarization and LSTM / MuBiNN (branch mubinn)
from .quantize.mlb import MultiLevelBinarizer, MultiLevelCode  # noqa: E402

__all__ += ["MultiLevelBinarizer", "MultiLevelCode"]

"""eegbin: compact binary and quantized models for EEG motor-imagery decoding.

Signal -> real features -> binary/quantized code -> classifier, each arrow a
scikit-learn estimator, with footprint (memory, operations) accounting for every
model. See ``DESIGN.md`` in the documentation for the conventions.
"""

__version__ = "0.1.0.dev0"

from . import kernels  # noqa: F401  first: installs the per-user numba cache (kernels/_cache.py)
from .binary import (
    AssociativeMemoryClassifier,
    BinarizedLDA,
    BinarizedLinearClassifier,
    BinarizedLinearSVC,
    BinaryKeyValueMemory,
    HeavisideBinarizer,
    ShrinkageLDA,
    SparseBipolarRandomProjection,
)
from .features import FilterBankRiemann
from .footprint import Footprint, footprint
from .nn import EEGNetClassifier, LSTMClassifier
from .quantize import (
    DitheredBinarizer,
    FixedPointQuantizer,
    MultiLevelBinarizer,
    MultiLevelCode,
    PeriodicBinarizer,
    PQClassifier,
    ProductQuantizedLinear,
    biper_quantization_error,
    biper_scale,
    design_threshold_kernel,
    dithered_sign,
    from_fixed_point,
    square_wave,
    to_fixed_point,
)

__all__ = [
    "__version__",
    # footprint protocol
    "Footprint",
    "footprint",
    # features
    "FilterBankRiemann",
    # Hamming space
    "AssociativeMemoryClassifier",
    "BinarizedLDA",
    "BinarizedLinearClassifier",
    "BinarizedLinearSVC",
    "BinaryKeyValueMemory",
    "HeavisideBinarizer",
    "ShrinkageLDA",
    "SparseBipolarRandomProjection",
    # quantizers
    "DitheredBinarizer",
    "FixedPointQuantizer",
    "MultiLevelBinarizer",
    "MultiLevelCode",
    "PeriodicBinarizer",
    "PQClassifier",
    "ProductQuantizedLinear",
    "biper_quantization_error",
    "biper_scale",
    "design_threshold_kernel",
    "dithered_sign",
    "from_fixed_point",
    "square_wave",
    "to_fixed_point",
    # torch-free networks
    "EEGNetClassifier",
    "LSTMClassifier",
    # datasets (loaded lazily: MOABB takes seconds to import)
    "SimulatedMotorImagery",
    "load_motor_imagery",
]


def __getattr__(name):  # datasets import MOABB (seconds): load them on first use
    if name in ("SimulatedMotorImagery", "load_motor_imagery"):
        from . import datasets

        return getattr(datasets, name)
    if name == "export":  # the C export sits above every subpackage: load it on first use
        import importlib

        return importlib.import_module(".export", __name__)
    raise AttributeError(f"module 'eegbin' has no attribute {name!r}")

"""eegbin: compact binary and quantized models for EEG motor-imagery decoding.

Signal -> real features -> binary/quantized code -> classifier, each arrow a
scikit-learn estimator, with footprint (memory, operations) accounting for every
model. See ``DESIGN.md`` in the documentation for the conventions.
"""

__version__ = "0.1.0.dev0"

from .footprint import Footprint, footprint

__all__ = ["Footprint", "footprint", "__version__"]
__all__ += ["SimulatedMotorImagery", "load_motor_imagery"]


def __getattr__(name):  # datasets import MOABB (seconds): load them on first use
    if name in ("SimulatedMotorImagery", "load_motor_imagery"):
        from . import datasets

        return getattr(datasets, name)
    raise AttributeError(f"module 'eegbin' has no attribute {name!r}")

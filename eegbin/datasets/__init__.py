"""MOABB datasets: the offline simulated motor-imagery dataset and loading helpers."""

from .bnci import export_bnci2014_001
from .loading import (
    DATASETS,
    check_bnci2014_001,
    get_dataset,
    load_motor_imagery,
    make_paradigm,
    no_download,
)

__all__ = [
    "SimulatedMotorImagery",
    "load_motor_imagery",
    "get_dataset",
    "make_paradigm",
    "check_bnci2014_001",
    "no_download",
    "export_bnci2014_001",
    "DATASETS",
]


def __getattr__(name):  # the dataset class imports MOABB (seconds): load it on first use
    if name == "SimulatedMotorImagery":
        from .simulated import SimulatedMotorImagery

        return SimulatedMotorImagery
    raise AttributeError(f"module 'eegbin.datasets' has no attribute {name!r}")

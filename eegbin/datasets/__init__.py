"""MOABB datasets: the offline simulated motor-imagery dataset and loading helpers."""

from .loading import DATASETS, check_bnci2014_001, get_dataset, load_motor_imagery, make_paradigm
from .simulated import SimulatedMotorImagery

__all__ = [
    "SimulatedMotorImagery",
    "load_motor_imagery",
    "get_dataset",
    "make_paradigm",
    "check_bnci2014_001",
    "DATASETS",
]

"""eegbin.binary: real features -> Hamming space, and classifiers that live there."""

from .associative import AssociativeMemoryClassifier
from .heaviside import HeavisideBinarizer
from .lda import BinarizedLDA, ShrinkageLDA
from .projection import SparseBipolarRandomProjection
from .svm import BinarizedLinearClassifier, BinarizedLinearSVC

__all__ = [
    "AssociativeMemoryClassifier",
    "BinarizedLDA",
    "BinarizedLinearClassifier",
    "BinarizedLinearSVC",
    "HeavisideBinarizer",
    "ShrinkageLDA",
    "SparseBipolarRandomProjection",
]

"""eegbin.binary: real features -> Hamming space, and classifiers that live there."""

from .associative import AssociativeMemoryClassifier
from .heaviside import HeavisideBinarizer
from .lda import BinarizedLDA, ShrinkageLDA
from .memory import (
    BinaryKeyValueMemory,
    cosine_from_hamming,
    memory_readout,
    random_bipolar_projection,
    sharpen_attention,
)
from .projection import SparseBipolarRandomProjection
from .svm import BinarizedLinearClassifier, BinarizedLinearSVC

__all__ = [
    "AssociativeMemoryClassifier",
    "BinarizedLDA",
    "BinarizedLinearClassifier",
    "BinarizedLinearSVC",
    "BinaryKeyValueMemory",
    "HeavisideBinarizer",
    "ShrinkageLDA",
    "SparseBipolarRandomProjection",
    "cosine_from_hamming",
    "memory_readout",
    "random_bipolar_projection",
    "sharpen_attention",
]

"""eegbin.nn: torch-free inference (safe weight loading, layers, EEGNet, LSTM)."""

from .io import check_weights, load_weights

__all__ = ["check_weights", "load_weights"]
from .eegnet import KERAS_EEGNET_LAYERS, EEGNet

__all__ += ["EEGNet", "KERAS_EEGNET_LAYERS"]
from .classifier import EEGNetClassifier

__all__ += ["EEGNetClassifier"]

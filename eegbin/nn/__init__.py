"""eegbin.nn: torch-free inference (safe weight loading, layers, EEGNet, LSTM, MuBiNN)."""

from .io import check_weights, load_weights
from .eegnet import KERAS_EEGNET_LAYERS, EEGNet
from .classifier import EEGNetClassifier
from .lstm import LSTM, LSTMLayerWeights, LSTMWeights, lstm_layer_forward, resolve_lstm_weights
from .lstm_cell import pwl_apply, pwl_table
from .lstm_classifier import LSTMClassifier
from .mubinn import MultiLevelBinarizedLSTM
from .learned import LearnedMultiLevelLSTM
from .export_format import read_export_metadata

__all__ = [
    "check_weights",
    "load_weights",
    "EEGNet",
    "KERAS_EEGNET_LAYERS",
    "EEGNetClassifier",
    "LSTM",
    "LSTMClassifier",
    "LSTMLayerWeights",
    "LSTMWeights",
    "LearnedMultiLevelLSTM",
    "MultiLevelBinarizedLSTM",
    "lstm_layer_forward",
    "pwl_apply",
    "pwl_table",
    "read_export_metadata",
    "resolve_lstm_weights",
]

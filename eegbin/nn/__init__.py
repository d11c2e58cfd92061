"""eegbin.nn: torch-free inference (safe weight loading, layers, EEGNet, LSTM)."""

from .io import check_weights, load_weights

__all__ = ["check_weights", "load_weights"]

# LSTM and MuBiNN (branch mubinn)
from .lstm import LSTM, LSTMWeights, lstm_layer_forward, resolve_lstm_weights  # noqa: E402
from .lstm_classifier import LSTMClassifier  # noqa: E402
from .mubinn import MultiLevelBinarizedLSTM, pwl_apply, pwl_table  # noqa: E402

__all__ += [
    "LSTM",
    "LSTMClassifier",
    "LSTMWeights",
    "MultiLevelBinarizedLSTM",
    "lstm_layer_forward",
    "pwl_apply",
    "pwl_table",
    "resolve_lstm_weights",
]

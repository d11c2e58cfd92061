"""eegbin.nn: torch-free inference (safe weight loading, layers, EEGNet, LSTM, MuBiNN)."""

from .classifier import EEGNetClassifier
from .eegnet import KERAS_EEGNET_LAYERS, EEGNet
from .eegnet_compress import (
    fold_batchnorm,
    select_channels,
    spatial_channel_scores,
    with_binary_features,
    with_elu_table,
    with_fixed_point,
    with_head,
    with_pq_head,
)
from .eegnet_forward import activation_ranges, eegnet_features, eegnet_footprint, eegnet_logits
from .eegnet_layouts import read_eegnet
from .eegnet_params import (
    ACTIVATION_STAGES,
    Affine,
    BinaryFeatures,
    DenseHead,
    EEGNetParams,
    EluTable,
    FixedPoint,
    params_from_layers,
)
from .export_format import read_export_metadata
from .graph_io import OnnxGraph, OnnxNode, WeightDict
from .io import check_weights, load_weights
from .learned import LearnedMultiLevelLSTM
from .lstm import LSTM, LSTMLayerWeights, LSTMWeights, lstm_layer_forward, resolve_lstm_weights
from .lstm_cell import pwl_apply, pwl_table
from .lstm_classifier import LSTMClassifier
from .mubinn import MultiLevelBinarizedLSTM

__all__ = [
    "check_weights",
    "load_weights",
    "WeightDict",
    "OnnxGraph",
    "OnnxNode",
    "EEGNet",
    "EEGNetParams",
    "Affine",
    "BinaryFeatures",
    "DenseHead",
    "EluTable",
    "FixedPoint",
    "ACTIVATION_STAGES",
    "params_from_layers",
    "KERAS_EEGNET_LAYERS",
    "read_eegnet",
    "eegnet_features",
    "eegnet_logits",
    "eegnet_footprint",
    "activation_ranges",
    "fold_batchnorm",
    "select_channels",
    "spatial_channel_scores",
    "with_elu_table",
    "with_fixed_point",
    "with_head",
    "with_binary_features",
    "with_pq_head",
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

"""Fitted eegbin models -> portable C99, verified against Python.

:func:`to_c` writes a fitted estimator or pipeline as ``<name>.h`` + ``<name>.c``
(C99, no dynamic allocation, weights in ``static const`` arrays at the width the
model uses, rematerialized projections regenerated on the device from their
seed); :class:`CModel` compiles the files with the host C compiler and calls them
through ctypes, so the C and Python predictions can be compared directly.

Each model family is one module mapping a fitted estimator to C, registered by
estimator type (:func:`register_exporter`): :mod:`~eegbin.export.riemann`
(FilterBankRiemann), :mod:`~eegbin.export.hamming` (random projection,
Heaviside, binarized classifiers, RP+AM), :mod:`~eegbin.export.linear`
(float linear heads), :mod:`~eegbin.export.eegnet` (EEGNetClassifier,
float and with Feng et al.'s compressions), :mod:`~eegbin.export.memory`
(BinaryKeyValueMemory, the MI-MANN memory head) and :mod:`~eegbin.export.lstm`
(LSTMClassifier with a float LSTM or a binarized one: B_LSTM, MuBiNN1, MuBiNN2 after
training or as trained). They share the C building blocks of
``eegbin/export/_blocks.py`` and ``_nn_blocks.py`` (packed Hamming distance, the counter-based
generator, the float linear head, the Jacobi eigensolver and matrix logarithm, Algorithm 1
and eq. (9) of MuBiNN with a portable fused multiply-add).
"""

from . import eegnet, hamming, linear, lstm, memory, riemann  # noqa: F401  (registers the exporters)
from ._core import Port, StepContext, exporter_for, register_exporter, to_c
from .cmodel import STRICT_CFLAGS, CModel, find_c_compiler
from .cortexm4 import CortexM4

__all__ = [
    "to_c",
    "CModel",
    "CortexM4",
    "find_c_compiler",
    "STRICT_CFLAGS",
    "register_exporter",
    "exporter_for",
    "Port",
    "StepContext",
]

"""Optional quantization-aware training (extra ``torch``), exported for torch-free inference.

Nothing in the inference path imports this package, and this package imports
``torch`` only when one of its names is first used, so ``import eegbin`` never
needs PyTorch: ``pip install torch`` (from a clone of eegbin: ``pip install -e ".[torch]"``).

Public names
------------
Quantizers (``eegbin.train.quantizers``): :func:`sign_ste`, :func:`approx_sign`,
:func:`biper_sign`, :func:`biper_weight`, :class:`DeSignActivation`,
:class:`MultiLevelBinarize`.
Models (``eegbin.train.models``): :class:`EEGNet`, :class:`MIMANN`, :class:`LSTMNet`.
Training (``eegbin.train.estimator``): :class:`TorchEEGClassifier`.
Export (``eegbin.train.exporter``): :func:`export`, and
:func:`eegbin.nn.read_export_metadata` (re-exported) to read what it wrote.
"""

from importlib import import_module

_LAZY = {
    "sign_ste": "quantizers",
    "approx_sign": "quantizers",
    "biper_sign": "quantizers",
    "biper_weight": "quantizers",
    "biper_gamma": "quantizers",
    "DeSignActivation": "quantizers",
    "MultiLevelBinarize": "quantizers",
    "EEGNet": "models",
    "MIMANN": "models",
    "LSTMNet": "models",
    "TorchEEGClassifier": "estimator",
    "export": "exporter",
    "deployed_weights": "exporter",
    "read_export_metadata": "exporter",  # eegbin.nn.read_export_metadata, next to export
}

__all__ = sorted(_LAZY)


def require_torch():
    """Import and return ``torch``, or raise an ImportError saying how to install it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "eegbin.train needs PyTorch: pip install torch "
            "(from a clone of eegbin: pip install -e \".[torch]\")"
        ) from exc
    return torch


def __getattr__(name):
    if name in _LAZY:
        require_torch()
        module = import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'eegbin.train' has no attribute {name!r}")

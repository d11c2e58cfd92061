"""Export trained models for torch-free inference in :mod:`eegbin.nn`.

MuBiNN2 LSTMs (``LSTMNet(quantize="mubinn2")``) are exported with everything the
trained forward quantizes, as trained: the ``"quantization"`` metadata of
:mod:`eegbin.nn.export_format` (its one format description, reader and writer), so
:meth:`eegbin.nn.LSTMClassifier.from_export` reproduces the torch model's predictions.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

from ..nn.export_format import MUBINN2_ACTIVATIONS, lstm_quantization_metadata, read_export_metadata
from .models import MIMANN, EEGNet, LSTMNet

__all__ = ["export", "deployed_weights", "read_export_metadata"]


def _scales(quantizer):
    # float32 values as Python floats: JSON round-trips them exactly
    return [float(s) for s in quantizer.scales.detach().cpu()]


def _mubinn2_quantization(model, input_scale):
    """The ``"quantization"`` metadata of a MuBiNN2 :class:`LSTMNet` (what its trained forward uses)."""
    quantizers = {**model.weight_quantizers, **{name: name for name in model.signal_quantizers.values()}}
    for name in quantizers.values():
        if not bool(getattr(model, name).initialized):
            raise ValueError(
                f"the quantizer {name!r} has no scales yet (they are initialized on the first "
                "batch): train or run the model before exporting it"
            )
    latent = model.latent_tensors()
    planes, weight_scales = {}, {}
    for key, name in model.weight_quantizers.items():  # the +-1 planes of the trained forward
        planes[key] = getattr(model, name).codes(latent[key].detach()).cpu().numpy()
        weight_scales[key] = _scales(getattr(model, name))
    activations = {sig: getattr(model, name) for sig, (_, name) in MUBINN2_ACTIVATIONS.items()}
    return lstm_quantization_metadata(
        planes, weight_scales, {sig: _scales(q) for sig, q in activations.items()},
        {sig: q.offset for sig, q in activations.items()}, input_scale,
        pwl_segments=model.hparams["pwl_segments"])


def _binary_features(model):
    """Per-map thresholds of an EEGNet's binary features (zeros: Sign), as JSON lists."""
    out = {"activations": model.hparams["activations"]}
    for key, act, n_maps in (("separable", model.act_1, model.conv_separable_depth.in_channels),
                             ("head", model.act_2, model.conv_separable_point.out_channels)):
        kernel = getattr(act, "kernel", None)
        T = kernel.detach().cpu().numpy() if kernel is not None else np.zeros((n_maps, 1))
        out[key] = T.astype(np.float32).tolist()  # float32 values: exact through JSON
    return out


def deployed_weights(model):
    """Weights and quantization metadata exactly as inference uses them.

    Parameters
    ----------
    model : :class:`~eegbin.train.TorchEEGClassifier` or a model of :mod:`eegbin.train.models`

    Returns
    -------
    weights : OrderedDict of str -> ndarray
        Binarized layers hold their deployed values (scale x ±1); for a fitted
        :class:`~eegbin.train.TorchEEGClassifier` the input scaling ``1 / scale_`` is
        folded into the first (linear, bias-free) layer, so the weights take raw epochs.
    metadata : dict
        Model class, hyper-parameters, classes, input shape (``n_chans``,
        ``n_times``) and quantization settings (levels, scales, omega_0, BiPer
        gamma per layer).

    Notes
    -----
    A :class:`~eegbin.train.MIMANN` exports its controller (the EEGNet tensors), the
    key and value memories (``memory.keys`` as ±1, ``memory.values`` one-hot) and,
    with a learned projection, ``projection.weight``. A random projection is not
    written: the metadata holds its ``seed`` and ``projection_scale``, from which
    ``BinaryKeyValueMemory(projection="random", random_state=seed)`` regenerates it.

    A MuBiNN2 :class:`~eegbin.train.LSTMNet` keeps its latent float weights in the
    tensors (``lstm.*`` with the input scale folded into ``weight_ih_l0``, and the
    float head), so the file still loads in :class:`eegbin.nn.LSTM`. What the trained
    forward quantizes (the ±1 sign planes and learned scales of ``W_x``, ``W_h`` and
    the bias, the learned scales and offsets of the seven binarized signals of the
    cell, the piecewise-linear tables, the input scale) is in
    ``metadata["quantization"]``, format 3 of :mod:`eegbin.nn.export_format`.

    An EEGNet trained with binary features (``activations="binary"`` or ``"design"``)
    has ``metadata["binary_features"]``: ``activations`` and the per-map thresholds
    ``separable`` (F1*D rows) and ``head`` (F2 rows), zeros for plain Sign, which
    :meth:`eegbin.nn.EEGNet.with_binary_features` takes.
    """
    scale = 1.0
    meta = {}
    if hasattr(model, "module_"):
        scale = float(model.scale_)
        meta["classes"] = [c.item() if hasattr(c, "item") else c for c in model.classes_]
        meta["input_scale"] = scale
        meta["n_chans"], meta["n_times"] = int(model.n_channels_), int(model.n_times_)
        model = model.module_
    if isinstance(model, EEGNet):
        sd = model.deployed_state_dict()
        sd["conv_temporal.weight"] = sd["conv_temporal.weight"] / np.float32(scale)
        meta.update(model="EEGNet", hparams=model.hparams)
        if model.hparams["activations"] != "real":  # thresholds in the metadata, not tensors
            meta["binary_features"] = _binary_features(model)
            sd = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("act_"))
        q = {}
        for name, mod in model.named_modules():
            if getattr(mod, "binarize", None):
                w = mod.weight.detach()
                entry = {"method": mod.binarize}
                if mod.binarize == "biper":
                    from .quantizers import biper_gamma
                    entry.update(omega=mod.omega, stage=mod.stage, gamma=biper_gamma(w, mod.omega))
                else:
                    entry.update(scale=float(w.abs().mean()))
                q[name] = entry
        meta["quantization"] = q
    elif isinstance(model, MIMANN):
        sd = OrderedDict(model.controller.deployed_state_dict())
        sd["conv_temporal.weight"] = sd["conv_temporal.weight"] / np.float32(scale)
        if model.projection_kind == "learned":
            sd["projection.weight"] = model.projection_matrix().detach().cpu().numpy()
        else:  # rematerialized: the seed and the scale, never the matrix
            meta.update(seed=model.seed, projection_scale=model.projection_scale)
        sd["memory.keys"] = model.keys.cpu().numpy()
        sd["memory.values"] = model.values.cpu().numpy()
        meta.update(model="MIMANN", hparams=model.controller.hparams, n_components=model.n_components,
                    projection=model.projection_kind)
    elif isinstance(model, LSTMNet):
        # only the LSTM and head tensors (the quantizer scales go in the metadata), so the
        # file loads in eegbin.nn.LSTM / LSTMClassifier without a key_map
        sd = OrderedDict((k, v.detach().cpu().numpy()) for k, v in model.state_dict().items()
                         if k.startswith(("lstm.", "head.")))
        sd["lstm.weight_ih_l0"] = sd["lstm.weight_ih_l0"] / np.float32(scale)
        meta.update(model="LSTMNet", hparams=model.hparams)
        if model.quantize:
            meta["quantization"] = _mubinn2_quantization(model, scale)
    else:
        raise TypeError(
            f"export() expects a TorchEEGClassifier, EEGNet, MIMANN or LSTMNet, got {type(model).__name__}"
        )
    sd = OrderedDict((k, np.ascontiguousarray(v, dtype=np.float32) if v.dtype.kind == "f" else v)
                     for k, v in sd.items())
    return sd, meta


def export(model, path):
    """Write ``model`` to ``path`` (safetensors, metadata in the header) and ``path.pt``.

    Parameters
    ----------
    model : :class:`~eegbin.train.TorchEEGClassifier` or a model of :mod:`eegbin.train.models`
    path : str or Path
        Target ``.safetensors`` file; the same tensors are also saved as a PyTorch
        state dict next to it with the suffix ``.pt``.

    Returns
    -------
    (Path, Path)
        The safetensors and the ``.pt`` files. Both load with
        :func:`eegbin.nn.load_weights`; the metadata (model, hyper-parameters,
        classes, quantization levels/scales/omega) is in the safetensors header
        under the key ``"eegbin"`` as JSON.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from eegbin.train import EEGNet, export
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> st, pt = export(EEGNet(4, 2, 128).eval(), d / "eegnet.safetensors")
    >>> st.exists() and pt.exists()
    True
    """
    from safetensors.numpy import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"path must end in .safetensors, got {path.name!r}")
    sd, meta = deployed_weights(model)
    save_file(dict(sd), str(path), metadata={"eegbin": json.dumps(meta)})
    pt = path.with_suffix(".pt")
    torch.save(OrderedDict((k, torch.from_numpy(np.array(v))) for k, v in sd.items()), pt)
    return path, pt

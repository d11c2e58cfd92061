"""Weight layouts of EEGNet: named tensors in, :class:`EEGNetParams` out.

:func:`read_eegnet` turns the tensors of a trained EEGNet (a dict from
:func:`eegbin.nn.load_weights`, or a path) into :class:`~eegbin.nn.EEGNetParams`.
Each layout is one reader:

- ``"braindecode"``: a ``braindecode.models.EEGNet`` (v1.x, also ``EEGNetv4``) state
  dict; padding ``K // 2`` on both sides, max-norm of the spatial filters (and of a
  ``linearconstraint`` head) applied as braindecode does in every forward pass;
- ``"keras"``: the original arl-eegmodels ``EEGNet`` in Keras 2 HDF5 naming
  (``<layer>/<layer>/<var>:0``, layer names of :data:`KERAS_EEGNET_LAYERS`);
  "same" padding, channels-last flatten.

References
----------
.. [1] V. J. Lawhern et al., "EEGNet: a compact convolutional neural network
   for EEG-based brain-computer interfaces", J. Neural Eng. 15, 2018.
"""

from __future__ import annotations

import re

import numpy as np

from .eegnet_params import Affine, DenseHead, EEGNetParams
from .io import check_weights, load_weights
from .layers import batchnorm_affine, renorm_rows

__all__ = ["read_eegnet", "KERAS_EEGNET_LAYERS"]

#: Keras layer names of the original EEGNet (arl-eegmodels ``EEGNet``), in order:
#: temporal Conv2D, its BatchNormalization, DepthwiseConv2D, BatchNormalization,
#: SeparableConv2D, BatchNormalization, Dense.
KERAS_EEGNET_LAYERS = {
    "conv_temporal": "conv2d",
    "bnorm_temporal": "batch_normalization",
    "conv_spatial": "depthwise_conv2d",
    "bnorm_1": "batch_normalization_1",
    "conv_separable": "separable_conv2d",
    "bnorm_2": "batch_normalization_2",
    "dense": "dense",
}

LAYOUTS = ("auto", "braindecode", "keras")

_BN = ("weight", "bias", "running_mean", "running_var")
_KERAS_BN = ("gamma", "beta", "moving_mean", "moving_variance")
_BN_NAMES = ("bnorm_temporal", "bnorm_1", "bnorm_2")


def _positive_int(value, name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def read_eegnet(weights, *, layout="auto", n_chans=None, n_times=None, pool1_kernel_size=4,
                pool2_kernel_size=8, batch_norm_eps=1e-3, conv_spatial_max_norm=1.0,
                norm_rate=0.25, keras_layers=None):
    """The :class:`~eegbin.nn.EEGNetParams` of a trained EEGNet's weights.

    Parameters
    ----------
    weights : dict of str to ndarray, or path
        Named tensors (see the module docstring), or a file :func:`load_weights` reads.
    layout : {"auto", "braindecode", "keras"}, default="auto"
        "auto" picks "braindecode" if a key contains "conv_temporal", else "keras".
    n_chans : int, optional
        Number of EEG channels C (checked against the spatial weights).
    n_times : int, optional
        Samples per trial (checked against the classifier's T').
    pool1_kernel_size, pool2_kernel_size : int, default=4, 8
        Average-pooling sizes (braindecode defaults; Hersche 2020 / Q-EEGNet use 8, 8).
    batch_norm_eps : float, default=1e-3
    conv_spatial_max_norm : float, default=1.0
        Max-norm of braindecode's spatial-convolution parametrization.
    norm_rate : float, default=0.25
        Max-norm of braindecode's ``final_layer.linearconstraint`` head.
    keras_layers : dict, optional
        Keras layer names, keys as in :data:`KERAS_EEGNET_LAYERS`.

    Returns
    -------
    EEGNetParams

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> p = read_eegnet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128)
    >>> p.layout, p.spatial.shape, p.head.weight.shape
    ('braindecode', (16, 4), (2, 64))
    """
    if not isinstance(weights, dict):
        weights = load_weights(weights)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}")
    pools = (_positive_int(pool1_kernel_size, "pool1_kernel_size"),
             _positive_int(pool2_kernel_size, "pool2_kernel_size"))
    if layout == "auto":
        layout = "braindecode" if any("conv_temporal" in k for k in weights) else "keras"
    if layout == "braindecode":
        params = _read_braindecode(weights, pools, float(batch_norm_eps),
                                   float(conv_spatial_max_norm), float(norm_rate))
    else:
        params = _read_keras(weights, pools, float(batch_norm_eps),
                             {**KERAS_EEGNET_LAYERS, **(keras_layers or {})})
    return _checked_sizes(params, n_chans, n_times)


def _checked_sizes(params, n_chans, n_times):
    """``params`` with ``n_times`` recorded, after checking both sizes against the weights."""
    if n_chans is not None and n_chans != params.n_chans:
        raise ValueError(f"n_chans={n_chans} but the spatial weights expect {params.n_chans} channels")
    if n_times is None:
        return params
    t_out = params.lengths(n_times)[-1]
    if t_out != params.n_out_times:
        raise ValueError(
            f"n_times={n_times} gives {t_out} samples after pooling "
            f"({params.pool1}, {params.pool2}), but the classifier weights expect "
            f"{params.n_out_times}: check n_times and pool1/pool2_kernel_size"
        )
    from dataclasses import replace

    return replace(params, n_times=int(n_times))


# ---------------------------------------------------------------------------
# braindecode
# ---------------------------------------------------------------------------


def _braindecode_key_aliases(weights):
    """Older braindecode names -> v1.x names (the mapping braindecode applies itself)."""
    out = dict(weights)
    if "conv_spatial.weight" in out and "conv_spatial.parametrizations.weight.original" not in out:
        out["conv_spatial.parametrizations.weight.original"] = out.pop("conv_spatial.weight")
    for p in ("weight", "bias"):
        if f"conv_classifier.{p}" in out and f"final_layer.conv_classifier.{p}" not in out:
            out[f"final_layer.conv_classifier.{p}"] = out.pop(f"conv_classifier.{p}")
    return out


def _read_braindecode(weights, pools, eps, max_norm, norm_rate):
    w = _braindecode_key_aliases(weights)
    shapes = {k: np.shape(v) for k, v in w.items()}
    linear = "final_layer.linearconstraint.parametrizations.weight.original"
    try:
        F1, _, _, K1 = shapes["conv_temporal.weight"]
        F1D, _, C, _ = shapes["conv_spatial.parametrizations.weight.original"]
        F2, _, _, _ = shapes["conv_separable_point.weight"]
        K3 = shapes["conv_separable_depth.weight"][-1]
    except (KeyError, ValueError) as exc:
        raise ValueError(
            f"weights: not a braindecode EEGNet state dict (missing or malformed {exc})"
        ) from None
    if linear in w:
        n_cls, n_feat = shapes[linear]
        if n_feat % F2:
            raise ValueError(f"weights: linear head has {n_feat} inputs, not a multiple of F2={F2}")
        t_out = n_feat // F2
    else:
        n_cls, _, _, t_out = shapes.get("final_layer.conv_classifier.weight", (None,) * 4)
    spec = {
        "conv_temporal.weight": (F1, 1, 1, K1),
        "conv_spatial.parametrizations.weight.original": (F1D, 1, C, 1),
        "conv_separable_depth.weight": (F1D, 1, 1, K3),
        "conv_separable_point.weight": (F2, F1D, 1, 1),
    }
    for bn, n in zip(_BN_NAMES, (F1, F1D, F2)):
        spec.update({f"{bn}.{p}": (n,) for p in _BN})
    if linear in w:
        spec[linear] = (n_cls, F2 * t_out)
        spec["final_layer.linearconstraint.bias"] = (n_cls,)
    else:
        spec["final_layer.conv_classifier.weight"] = (n_cls, F2, 1, t_out)
        spec["final_layer.conv_classifier.bias"] = (n_cls,)
    w = check_weights(w, spec, optional=[f"{bn}.num_batches_tracked" for bn in _BN_NAMES])
    if F1D % F1:
        raise ValueError(f"weights: spatial filters F1*D={F1D} not a multiple of F1={F1}")
    if linear in w:
        head = DenseHead(renorm_rows(w[linear], norm_rate), w["final_layer.linearconstraint.bias"])
    else:
        head = DenseHead(w["final_layer.conv_classifier.weight"].reshape(n_cls, -1),
                         w["final_layer.conv_classifier.bias"])
    bns = [Affine(*batchnorm_affine(*(w[f"{bn}.{p}"] for p in _BN), eps=eps)) for bn in _BN_NAMES]
    return EEGNetParams(
        temporal=w["conv_temporal.weight"][:, 0, 0, :],
        spatial=renorm_rows(w["conv_spatial.parametrizations.weight.original"], max_norm)[:, 0, :, 0],
        depth=w["conv_separable_depth.weight"][:, 0, 0, :],
        point=w["conv_separable_point.weight"][:, :, 0, 0],
        head=head, n_chans=C, channels=np.arange(C),
        pad_temporal=(K1 // 2, K1 // 2), pad_depth=(K3 // 2, K3 // 2),
        pool1=pools[0], pool2=pools[1],
        temporal_bn=bns[0], spatial_bn=bns[1], separable_bn=bns[2], layout="braindecode",
    )


# ---------------------------------------------------------------------------
# Keras (arl-eegmodels EEGNet)
# ---------------------------------------------------------------------------


def _keras_key(weights, layer, var):
    """Find ``layer/.../var[:0]`` among HDF5 dataset paths (Keras 2 layout)."""
    pat = re.compile(rf"(^|/){re.escape(layer)}/({re.escape(layer)}/)?{re.escape(var)}(:0)?$")
    hits = [k for k in weights if pat.search(k)]
    if len(hits) != 1:
        raise ValueError(
            f"weights: expected one Keras tensor '{layer}/{var}', found {len(hits)}"
            + (f": {hits}" if hits else f" among {sorted(weights)[:12]}")
        )
    return hits[0]


def _same_padding(k):
    return (k - 1) // 2, k - 1 - (k - 1) // 2


def _read_keras(weights, pools, eps, layers):
    key = {
        "temporal": _keras_key(weights, layers["conv_temporal"], "kernel"),
        "spatial": _keras_key(weights, layers["conv_spatial"], "depthwise_kernel"),
        "depth": _keras_key(weights, layers["conv_separable"], "depthwise_kernel"),
        "point": _keras_key(weights, layers["conv_separable"], "pointwise_kernel"),
        "dense": _keras_key(weights, layers["dense"], "kernel"),
        "dense_bias": _keras_key(weights, layers["dense"], "bias"),
    }
    bn_keys = {bn: [_keras_key(weights, layers[bn], p) for p in _KERAS_BN] for bn in _BN_NAMES}
    try:
        _, K1, _, F1 = np.shape(weights[key["temporal"]])
        C, _, _, D = np.shape(weights[key["spatial"]])
        _, K3, F1D, _ = np.shape(weights[key["depth"]])
        F2 = np.shape(weights[key["point"]])[-1]
        n_feat, n_cls = np.shape(weights[key["dense"]])
    except ValueError as exc:
        raise ValueError(f"weights: malformed Keras EEGNet tensors ({exc})") from None
    if n_feat % F2:
        raise ValueError(f"weights: dense kernel has {n_feat} inputs, not a multiple of F2={F2}")
    t_out = n_feat // F2
    spec = {
        key["temporal"]: (1, K1, 1, F1),
        key["spatial"]: (C, 1, F1, D),
        key["depth"]: (1, K3, F1 * D, 1),
        key["point"]: (1, 1, F1 * D, F2),
        key["dense"]: (t_out * F2, n_cls),
        key["dense_bias"]: (n_cls,),
    }
    for bn, n in zip(_BN_NAMES, (F1, F1 * D, F2)):
        spec.update({k: (n,) for k in bn_keys[bn]})
    w = check_weights({k: weights[k] for k in spec}, spec)
    bns = [Affine(*batchnorm_affine(*(w[k] for k in bn_keys[bn]), eps=eps)) for bn in _BN_NAMES]
    # channels-last flatten: dense input t * F2 + f -> feature f * T' + t
    head_w = w[key["dense"]].reshape(t_out, F2, n_cls).transpose(2, 1, 0).reshape(n_cls, -1)
    return EEGNetParams(
        temporal=w[key["temporal"]][0, :, 0, :].T,
        # depthwise output channel c*D + d reads input channel c (torch groups order)
        spatial=w[key["spatial"]][:, 0, :, :].transpose(1, 2, 0).reshape(F1 * D, C),
        depth=w[key["depth"]][0, :, :, 0].T,
        point=w[key["point"]][0, 0].T,
        head=DenseHead(head_w, w[key["dense_bias"]]), n_chans=C, channels=np.arange(C),
        pad_temporal=_same_padding(K1), pad_depth=_same_padding(K3),
        pool1=pools[0], pool2=pools[1],
        temporal_bn=bns[0], spatial_bn=bns[1], separable_bn=bns[2], layout="keras",
    )


# ---------------------------------------------------------------------------
# random weights (tests, examples)
# ---------------------------------------------------------------------------


def random_braindecode_weights(n_chans=22, n_times=1125, n_classes=4, *, F1=8, D=2, F2=None,
                               kernel_length=64, depthwise_kernel_length=16, pool1_kernel_size=4,
                               pool2_kernel_size=8, rng=None):
    """A random braindecode-layout EEGNet state dict (:meth:`EEGNet.random_weights`)."""
    rng = np.random.default_rng(rng)
    F2 = F2 or F1 * D
    t1 = n_times + 2 * (kernel_length // 2) - kernel_length + 1
    t2 = t1 // pool1_kernel_size + 2 * (depthwise_kernel_length // 2) - depthwise_kernel_length + 1
    t_out = t2 // pool2_kernel_size
    f = np.float32
    w = {  # draws and arithmetic fixed: a seed always gives the same weights
        "conv_temporal.weight": rng.standard_normal((F1, 1, 1, kernel_length)).astype(f) / np.sqrt(kernel_length),
        "conv_spatial.parametrizations.weight.original": rng.standard_normal((F1 * D, 1, n_chans, 1)).astype(f) * 0.4,
        "conv_separable_depth.weight": rng.standard_normal((F1 * D, 1, 1, depthwise_kernel_length)).astype(f) / 4,
        "conv_separable_point.weight": rng.standard_normal((F2, F1 * D, 1, 1)).astype(f) / np.sqrt(F1 * D),
        "final_layer.conv_classifier.weight": rng.standard_normal((n_classes, F2, 1, t_out)).astype(f) / np.sqrt(F2 * t_out),
        "final_layer.conv_classifier.bias": rng.standard_normal(n_classes).astype(f) * 0.1,
    }
    for bn, n in zip(_BN_NAMES, (F1, F1 * D, F2)):
        w[f"{bn}.weight"] = rng.uniform(0.5, 1.5, n).astype(f)
        w[f"{bn}.bias"] = rng.standard_normal(n).astype(f) * 0.1
        w[f"{bn}.running_mean"] = rng.standard_normal(n).astype(f) * 0.1
        w[f"{bn}.running_var"] = rng.uniform(0.5, 2.0, n).astype(f)
        w[f"{bn}.num_batches_tracked"] = np.array(10, dtype=np.int64)
    return w

"""The Keras layout of EEGNet (arl-eegmodels ``EEGNet``): Keras 2 and Keras 3 files.

The network is the original Keras one: ``Conv2D`` (temporal, "same" padding),
``BatchNormalization``, ``DepthwiseConv2D`` (spatial), ``BatchNormalization``, ELU,
``AveragePooling2D``, ``SeparableConv2D`` ("same"), ``BatchNormalization``, ELU,
``AveragePooling2D``, ``Flatten`` (channels last) and ``Dense``; no max-norm at
inference (Keras applies its constraints during training only).

Tensors are found by layer and variable, whatever the file:

- Keras 2 HDF5: ``<layer>/<layer>/<var>:0`` (e.g. ``conv2d/conv2d/kernel:0``);
- Keras 3 ``.weights.h5`` and ``.keras``: ``layers/<layer>/vars/<i>``, the ``i``-th
  variable the layer declares (``Conv2D``: kernel, bias; ``SeparableConv2D``:
  depthwise, pointwise kernel, bias; ``BatchNormalization``: gamma, beta, moving mean,
  moving variance).

Which layer plays which role is read, in this order of preference, from
``keras_layers`` (names given by the user), from the ``config.json`` of a ``.keras``
archive (each layer's class, in network order, and its padding, pooling and
epsilon), or from the layer names Keras generates (``conv2d``, ``batch_normalization``,
... with a numeric suffix such as ``conv2d_1`` when several models were built in one
session: within a class, layers are taken in suffix order).
"""

from __future__ import annotations

import re

import numpy as np

from .eegnet_params import Affine, DenseHead, params_from_layers
from .io import check_weights
from .layers import batchnorm_affine

__all__ = ["KERAS_EEGNET_LAYERS"]

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

#: role -> Keras class, in network order
_ROLE_CLASS = {
    "conv_temporal": "Conv2D",
    "bnorm_temporal": "BatchNormalization",
    "conv_spatial": "DepthwiseConv2D",
    "bnorm_1": "BatchNormalization",
    "conv_separable": "SeparableConv2D",
    "bnorm_2": "BatchNormalization",
    "dense": "Dense",
}

#: variables each class declares, in order (Keras 3 stores them as vars/0, vars/1, ...)
_CLASS_VARS = {
    "Conv2D": ("kernel", "bias"),
    "DepthwiseConv2D": ("depthwise_kernel", "bias"),
    "SeparableConv2D": ("depthwise_kernel", "pointwise_kernel", "bias"),
    "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance"),
    "Dense": ("kernel", "bias"),
}

#: the names Keras generates for each class
_CLASS_PREFIX = {
    "conv2d": "Conv2D",
    "depthwise_conv2d": "DepthwiseConv2D",
    "separable_conv2d": "SeparableConv2D",
    "batch_normalization": "BatchNormalization",
    "dense": "Dense",
}
_GENERATED_NAME = re.compile(r"(?P<prefix>[a-z0-9_]+?)(?:_(?P<n>\d+))?")
_KERAS3_KEY = re.compile(r"(?:.*/)?layers/(?P<layer>[^/]+)/vars/(?P<index>\d+)")

#: other names of a variable (Keras 3 names DepthwiseConv2D's kernel "kernel")
_ALIASES = {"depthwise_kernel": ("kernel",)}

_BN = ("gamma", "beta", "moving_mean", "moving_variance")
_BN_ROLES = ("bnorm_temporal", "bnorm_1", "bnorm_2")


def _is_keras_key(key):
    """True for an HDF5 dataset path of a Keras 2 or Keras 3 weight file."""
    return "/" in key


def _config_layers(config):
    """``[(name, class_name, layer_config), ...]`` of a ``.keras`` config, in order."""
    if config is None:
        return None
    layers = (config.get("config") or {}).get("layers")
    if not isinstance(layers, list):
        raise ValueError("weights: the .keras config lists no layers (expected a Functional or "
                         "Sequential model)")
    out = []
    for layer in layers:
        cfg = layer.get("config") if isinstance(layer, dict) else None
        if not isinstance(cfg, dict):
            raise ValueError(f"weights: malformed layer entry in the .keras config: {layer!r:.80}")
        out.append((str(cfg.get("name", layer.get("name"))), str(layer.get("class_name")), cfg))
    return out


def _tensor_table(weights, classes):
    """``{layer: {var: key}}``: Keras 3 variable indices named after the layer's class."""
    table = {}
    for key in weights:
        m = _KERAS3_KEY.fullmatch(key)
        if m:
            layer, index = m["layer"], int(m["index"])
            var_names = _CLASS_VARS.get(classes.get(layer), ())
            var = var_names[index] if index < len(var_names) else f"vars/{index}"
        elif _is_keras_key(key):
            parts = key.split("/")
            layer, var = parts[-2], parts[-1].removesuffix(":0")
        else:
            continue
        table.setdefault(layer, {})[var] = key
    return table


def _layer_of(key):
    m = _KERAS3_KEY.fullmatch(key)
    return m["layer"] if m else key.split("/")[-2]


def _stored_names(config_layers):
    """Config layer name -> the name Keras 3 stores its variables under."""
    prefix = {cls: p for p, cls in _CLASS_PREFIX.items()}
    seen, out = {}, {}
    for name, cls, _ in config_layers:
        p = prefix.get(cls)
        if p is None:
            out[name] = name
            continue
        out[name] = p if p not in seen else f"{p}_{seen[p]}"
        seen[p] = seen.get(p, 0) + 1
    return out


def _class_by_name(name):
    m = _GENERATED_NAME.fullmatch(name)
    return _CLASS_PREFIX.get(m["prefix"]) if m else None


def _generated_order(name):
    m = _GENERATED_NAME.fullmatch(name)
    return int(m["n"] or 0)


def _roles(layer_names, classes, keras_layers, config_order):
    """``{role: layer name}`` for the seven EEGNet layers, or an error naming what was found."""
    if keras_layers:  # the user's names, the original names for the roles not given
        return {**KERAS_EEGNET_LAYERS, **keras_layers}
    if config_order is not None:
        ordered = [name for name in config_order if name in classes]
    else:
        ordered = sorted((n for n in layer_names if classes.get(n)), key=_generated_order)
    by_class = {}
    for name in ordered:
        by_class.setdefault(classes[name], []).append(name)
    expected = {"Conv2D": 1, "DepthwiseConv2D": 1, "SeparableConv2D": 1, "BatchNormalization": 3,
                "Dense": 1}
    roles, bn = {}, iter(by_class.get("BatchNormalization", []))
    for role, cls in _ROLE_CLASS.items():
        if len(by_class.get(cls, [])) == expected[cls]:
            roles[role] = next(bn) if cls == "BatchNormalization" else by_class[cls][0]
        else:
            found = {c: by_class.get(c, []) for c in expected}
            raise ValueError(
                f"weights: cannot tell which Keras layer is EEGNet's {role}: expected "
                + ", ".join(f"{n} {c}" for c, n in expected.items())
                + f" layer(s), found {found} (among the layers {sorted(layer_names)[:16]}); "
                "pass keras_layers={role: layer name}"
            )
    return roles


def _tensor(table, layer, var):
    """Key of variable ``var`` of ``layer`` (or of one of its other names)."""
    found = table.get(layer, {})
    for name in (var, *_ALIASES.get(var, ())):
        if name in found:
            return found[name]
    raise ValueError(
        f"weights: expected a Keras tensor '{layer}/{var}', found "
        + (f"the variables {sorted(found)} of layer {layer!r}" if layer in table
           else f"no layer {layer!r} among {sorted(table)[:16]}")
    )


def _padding(cfg, k, setting_name):
    pad = (cfg or {}).get("padding", "same")
    if pad == "same":
        return (k - 1) // 2, k - 1 - (k - 1) // 2
    if pad == "valid":
        return 0, 0
    raise ValueError(f"weights: {setting_name} has padding {pad!r}, expected 'same' or 'valid'")


def _config_settings(config_layers, roles):
    """Per-role layer configs and the pooling sizes recorded in a ``.keras`` config."""
    if config_layers is None:
        return {}, (None, None)
    cfg = {name: c for name, _, c in config_layers}
    for name, cls, c in config_layers:
        fmt = c.get("data_format")
        if fmt not in (None, "channels_last"):
            raise ValueError(f"weights: layer {name!r} uses data_format={fmt!r}; the Keras EEGNet "
                             "reader expects channels_last (arl-eegmodels' input (C, T, 1))")
        if cls == "Dense" and c.get("activation", "linear") not in ("linear", "softmax"):
            raise ValueError(f"weights: the dense layer {name!r} applies {c['activation']!r}")
        if cls == "Activation" and c.get("activation") not in ("elu", "softmax", "linear"):
            raise ValueError(f"weights: layer {name!r} applies {c.get('activation')!r}; EEGNet's "
                             "activations are ELUs (and a final softmax)")
    pools = []
    for name, cls, c in config_layers:
        if cls == "AveragePooling2D":
            size, strides = list(c.get("pool_size") or []), list(c.get("strides") or c.get("pool_size") or [])
            if len(size) != 2 or size[0] != 1 or strides != size or c.get("padding", "valid") != "valid":
                raise ValueError(f"weights: pooling layer {name!r} has pool_size {size}, strides "
                                 f"{strides}: expected (1, p) with stride p and no padding")
            pools.append(int(size[1]))
    if len(pools) != 2:
        raise ValueError(f"weights: the .keras config has {len(pools)} AveragePooling2D layers, "
                         "EEGNet has 2")
    return {role: cfg.get(layer) for role, layer in roles.items()}, tuple(pools)


def _read_keras(weights, setting, keras_layers=None):
    """:class:`EEGNetParams` of arl-eegmodels' Keras EEGNet (Keras 2 or 3 weights).

    Parameters
    ----------
    weights : dict of str to ndarray
        From :func:`eegbin.nn.load_weights` (a ``.keras`` archive carries its
        ``config``).
    setting : callable
        ``setting(name, recorded, source)``: the value of a setting (pooling sizes,
        batch-norm epsilon) given what the file records (None: nothing).
    keras_layers : dict, optional
        Layer names by role (keys of :data:`KERAS_EEGNET_LAYERS`).

    Returns
    -------
    EEGNetParams
    """
    config_layers = _config_layers(getattr(weights, "config", None))
    names = {_layer_of(key) for key in weights if _is_keras_key(key)}
    if config_layers is not None:
        # Keras 3 stores a layer's variables under a name made from its class, numbered
        # in model order (conv2d, batch_normalization_1, ...), not under its own name
        stored = _stored_names(config_layers)
        classes = {stored[name]: cls for name, cls, _ in config_layers if cls in _CLASS_VARS}
    else:
        classes = {n: _class_by_name(n) for n in names}
    if keras_layers:
        classes.update({layer: _ROLE_CLASS[role]
                        for role, layer in {**KERAS_EEGNET_LAYERS, **keras_layers}.items()})
    table = _tensor_table(weights, classes)
    roles = _roles(set(table), {n: c for n, c in classes.items() if c}, keras_layers,
                   None if config_layers is None else [stored[n] for n, _, _ in config_layers])
    if config_layers is not None:
        config_layers = [(stored[n], cls, c) for n, cls, c in config_layers]
    role_cfg, pools = _config_settings(config_layers, roles)
    source = "the .keras config"
    pools = (setting("pool1_kernel_size", pools[0], source),
             setting("pool2_kernel_size", pools[1], source))
    key = {
        "temporal": _tensor(table, roles["conv_temporal"], "kernel"),
        "spatial": _tensor(table, roles["conv_spatial"], "depthwise_kernel"),
        "depth": _tensor(table, roles["conv_separable"], "depthwise_kernel"),
        "point": _tensor(table, roles["conv_separable"], "pointwise_kernel"),
        "dense": _tensor(table, roles["dense"], "kernel"),
        "dense_bias": _tensor(table, roles["dense"], "bias"),
    }
    bn_keys = {bn: [_tensor(table, roles[bn], p) for p in _BN] for bn in _BN_ROLES}
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
    for bn, n in zip(_BN_ROLES, (F1, F1 * D, F2)):
        spec.update({k: (n,) for k in bn_keys[bn]})
    w = check_weights({k: weights[k] for k in spec}, spec)
    bns = [Affine(*batchnorm_affine(
        *(w[k] for k in bn_keys[bn]),
        eps=setting("batch_norm_eps", (role_cfg.get(bn) or {}).get("epsilon"), source)))
        for bn in _BN_ROLES]
    # channels-last flatten: dense input t * F2 + f -> feature f * T' + t
    head_w = w[key["dense"]].reshape(t_out, F2, n_cls).transpose(2, 1, 0).reshape(n_cls, -1)
    biases = {role: _bias(table, roles[role], n, weights)
              for role, n in (("conv_temporal", F1), ("conv_spatial", F1 * D), ("conv_separable", F2))}
    return params_from_layers(
        temporal=w[key["temporal"]][0, :, 0, :].T,
        # depthwise output channel c*D + d reads input channel c (torch groups order)
        spatial=w[key["spatial"]][:, 0, :, :].transpose(1, 2, 0).reshape(F1 * D, C),
        depth=w[key["depth"]][0, :, :, 0].T,
        point=w[key["point"]][0, 0].T,
        head=DenseHead(head_w, w[key["dense_bias"]]),
        pad_temporal=_padding(role_cfg.get("conv_temporal"), K1, "the temporal Conv2D"),
        pad_depth=_padding(role_cfg.get("conv_separable"), K3, "the SeparableConv2D"),
        pool1=pools[0], pool2=pools[1],
        temporal_bias=biases["conv_temporal"], spatial_bias=biases["conv_spatial"],
        point_bias=biases["conv_separable"],  # SeparableConv2D adds its bias after the pointwise
        temporal_bn=bns[0], spatial_bn=bns[1], separable_bn=bns[2],
        layout="keras3" if any(_KERAS3_KEY.fullmatch(k) for k in spec) else "keras",
    )


def _bias(table, layer, n, weights):
    """The bias of a convolution layer with ``use_bias=True`` (None without one)."""
    key = table.get(layer, {}).get("bias")
    if key is None:
        return None
    return check_weights({key: weights[key]}, {key: (n,)})[key]

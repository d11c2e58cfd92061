"""Weight layouts of EEGNet: named tensors in, :class:`EEGNetParams` out.

:func:`read_eegnet` turns the tensors of a trained EEGNet (a dict from
:func:`eegbin.nn.load_weights`, or a path) into :class:`~eegbin.nn.EEGNetParams`.
Each layout is one reader:

- ``"braindecode"``: a ``braindecode.models.EEGNet`` (v1.x, also ``EEGNetv4``) state
  dict; padding ``K // 2`` on both sides, max-norm of the spatial filters (and of a
  ``linearconstraint`` head) applied as braindecode does in every forward pass;
- ``"keras"``: the original arl-eegmodels ``EEGNet``, Keras 2 HDF5 weights
  (``<layer>/<layer>/<var>:0``) or Keras 3 ``.weights.h5``/``.keras``
  (``layers/<layer>/vars/<i>``), see :mod:`eegbin.nn.eegnet_keras`;
- ``"onnx"``: an ONNX export of a braindecode-layout EEGNet, read from its graph
  (batch norms may be folded into the convolutions), see :mod:`eegbin.nn.eegnet_onnx`.

Settings a file may record (pooling sizes, batch-norm epsilon: ONNX graphs and
``.keras`` configs do) are taken from it; an argument that contradicts them is an
error. Files that do not record them use the argument, or braindecode's and Keras'
defaults (pooling 4 and 8, epsilon 1e-3).

References
----------
.. [1] V. J. Lawhern et al., "EEGNet: a compact convolutional neural network
   for EEG-based brain-computer interfaces", J. Neural Eng. 15, 2018.
"""

from __future__ import annotations

import numpy as np

from ..kernels.checks import check_int, check_real
from .eegnet_keras import KERAS_EEGNET_LAYERS, _is_keras_key, _read_keras
from .eegnet_onnx import _read_onnx
from .eegnet_params import Affine, DenseHead, EEGNetParams
from .io import check_weights, load_weights
from .layers import batchnorm_affine, renorm_rows

__all__ = ["read_eegnet", "KERAS_EEGNET_LAYERS"]

_LAYOUTS = ("auto", "braindecode", "keras", "onnx")

#: what a file that records nothing gets (braindecode's and Keras' defaults)
_DEFAULTS = {"pool1_kernel_size": 4, "pool2_kernel_size": 8, "batch_norm_eps": 1e-3}

_BN = ("weight", "bias", "running_mean", "running_var")
_BN_NAMES = ("bnorm_temporal", "bnorm_1", "bnorm_2")

_EXPECTED_LAYOUTS = (
    "a braindecode EEGNet state dict (keys 'conv_temporal.weight', "
    "'conv_spatial.parametrizations.weight.original', 'bnorm_1.running_var', "
    "'final_layer.conv_classifier.weight', ...), Keras 2 HDF5 weights of arl-eegmodels' "
    "EEGNet ('conv2d/conv2d/kernel:0', 'depthwise_conv2d/depthwise_conv2d/depthwise_kernel:0', "
    "...), Keras 3 weights ('layers/conv2d/vars/0', ...; a .weights.h5 or .keras file) or an "
    "ONNX file read by load_weights (its graph)"
)


def _user_settings(pool1_kernel_size, pool2_kernel_size, batch_norm_eps):
    given = {"pool1_kernel_size": pool1_kernel_size, "pool2_kernel_size": pool2_kernel_size,
             "batch_norm_eps": batch_norm_eps}
    for name in ("pool1_kernel_size", "pool2_kernel_size"):
        if given[name] is not None:
            check_int(given[name], name, 1)
    if batch_norm_eps is not None:
        check_real(batch_norm_eps, "batch_norm_eps", 0, low_open=True)

    def setting(name, recorded, source):
        """The argument, what the file records, or the default; an error if they disagree."""
        user = given[name]
        if recorded is None:
            return _DEFAULTS[name] if user is None else user
        if user is not None and not np.isclose(user, recorded, rtol=1e-6, atol=0):
            raise ValueError(f"{name}={user!r}, but {source} records {recorded!r}: pass "
                             f"{name}=None (or the recorded value)")
        return recorded

    return setting


def _detect_layout(weights):
    if getattr(weights, "graph", None) is not None:
        return "onnx"
    if any("conv_temporal" in k for k in weights):
        return "braindecode"
    if any(_is_keras_key(k) for k in weights):
        return "keras"
    raise ValueError(
        f"weights: not an EEGNet in a layout eegbin knows. Expected {_EXPECTED_LAYOUTS}; "
        f"found {len(weights)} tensors: {sorted(weights)[:12]}"
        + (" ..." if len(weights) > 12 else "")
    )


def read_eegnet(weights, *, layout="auto", n_chans=None, n_times=None, pool1_kernel_size=None,
                pool2_kernel_size=None, batch_norm_eps=None, conv_spatial_max_norm=1.0,
                norm_rate=0.25, keras_layers=None):
    """The :class:`~eegbin.nn.EEGNetParams` of a trained EEGNet's weights.

    Parameters
    ----------
    weights : dict of str to ndarray, or path
        Tensors (see the module docstring), or a file :func:`load_weights` reads (torch,
        safetensors, .npz, Keras 2 HDF5, Keras 3 .weights.h5 / .keras, ONNX).
    layout : {"auto", "braindecode", "keras", "onnx"}, default="auto"
        "auto": "onnx" for an ONNX file, "braindecode" if a key contains
        "conv_temporal", "keras" for HDF5 dataset paths; anything else is an error
        that lists what was expected and what was found.
    n_chans : int, optional
        Number of EEG channels C (checked against the spatial weights).
    n_times : int, optional
        Samples per trial (checked against the classifier's T').
    pool1_kernel_size, pool2_kernel_size : int, optional
        Average-pooling sizes. Default: what the file records (ONNX, .keras), else
        4 and 8 (braindecode's and arl-eegmodels' defaults; Hersche 2020 / Q-EEGNet use
        8, 8).
    batch_norm_eps : float, optional
        Default: what the file records (ONNX, .keras), else 1e-3.
    conv_spatial_max_norm : float, default=1.0
        Max-norm of braindecode's spatial-convolution parametrization.
    norm_rate : float, default=0.25
        Max-norm of braindecode's ``final_layer.linearconstraint`` head.
    keras_layers : dict, optional
        Keras layer names, keys as in :data:`KERAS_EEGNET_LAYERS` (default: found
        from the file's config or from the names Keras generates).

    Returns
    -------
    EEGNetParams
        In eegbin's layout; ``layout`` names the one the file was read from.

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> p = read_eegnet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128)
    >>> p.layout, p.spatial.shape, p.head.weight.shape
    ('braindecode', (16, 4), (2, 64))
    """
    if not isinstance(weights, dict):
        weights = load_weights(weights)
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(map(repr, _LAYOUTS))}, got {layout!r}")
    setting = _user_settings(pool1_kernel_size, pool2_kernel_size, batch_norm_eps)
    conv_spatial_max_norm = check_real(conv_spatial_max_norm, "conv_spatial_max_norm", 0, low_open=True)
    norm_rate = check_real(norm_rate, "norm_rate", 0, low_open=True)
    if layout == "auto":
        layout = _detect_layout(weights)
    if layout == "onnx":
        if getattr(weights, "graph", None) is None:
            raise ValueError("layout='onnx' needs an ONNX file (or what load_weights returns for "
                             "one: its graph), got tensors without a graph")
        params = _read_onnx(weights, setting)
    elif layout == "braindecode":
        params = _read_braindecode(weights, setting, conv_spatial_max_norm, norm_rate)
    else:
        params = _read_keras(weights, setting, keras_layers)
    return _checked_sizes(params, n_chans, n_times)


def _checked_sizes(params, n_chans, n_times):
    """``params`` with ``n_times`` recorded, after checking both sizes against the weights."""
    n_chans = None if n_chans is None else check_int(n_chans, "n_chans", 1)
    n_times = None if n_times is None else check_int(n_times, "n_times", 1)
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


def _read_braindecode(weights, setting, max_norm, norm_rate):
    pools = (setting("pool1_kernel_size", None, ""), setting("pool2_kernel_size", None, ""))
    eps = setting("batch_norm_eps", None, "")
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
# random weights (tests, examples)
# ---------------------------------------------------------------------------


def _random_braindecode_weights(n_chans=22, n_times=1125, n_classes=4, *, F1=8, D=2, F2=None,
                               kernel_length=64, depthwise_kernel_length=16, pool1_kernel_size=4,
                               pool2_kernel_size=8, rng=None):
    """A random braindecode-layout EEGNet state dict (for tests and examples).

    :meth:`EEGNet.random_weights <eegbin.nn.EEGNet.random_weights>` is this function.

    Parameters
    ----------
    n_chans, n_times, n_classes : int
    F1, D, F2, kernel_length, depthwise_kernel_length : int
        Architecture (braindecode defaults; F2 defaults to F1 * D).
    pool1_kernel_size, pool2_kernel_size : int
    rng : int, Generator or None

    Returns
    -------
    dict of str to ndarray
        Tensors with braindecode v1.x keys.

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> w = EEGNet.random_weights(n_chans=4, n_times=128, n_classes=2, rng=0)
    >>> w["conv_spatial.parametrizations.weight.original"].shape
    (16, 1, 4, 1)
    """
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
        "final_layer.conv_classifier.weight":
            rng.standard_normal((n_classes, F2, 1, t_out)).astype(f) / np.sqrt(F2 * t_out),
        "final_layer.conv_classifier.bias": rng.standard_normal(n_classes).astype(f) * 0.1,
    }
    for bn, n in zip(_BN_NAMES, (F1, F1 * D, F2)):
        w[f"{bn}.weight"] = rng.uniform(0.5, 1.5, n).astype(f)
        w[f"{bn}.bias"] = rng.standard_normal(n).astype(f) * 0.1
        w[f"{bn}.running_mean"] = rng.standard_normal(n).astype(f) * 0.1
        w[f"{bn}.running_var"] = rng.uniform(0.5, 2.0, n).astype(f)
        w[f"{bn}.num_batches_tracked"] = np.array(10, dtype=np.int64)
    return w

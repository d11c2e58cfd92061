"""EEGNet inference in numpy, from braindecode (PyTorch) or Keras weights.

:class:`EEGNet` holds the layers of a trained EEGNet (Lawhern et al. 2018) in a
framework-neutral form and runs the eval-mode forward pass in numpy. Feng et
al.'s compressions are methods returning a new model: :meth:`EEGNet.fold_batchnorm`,
:meth:`EEGNet.select_channels` (eq. 1), :meth:`EEGNet.with_elu_table`,
:meth:`EEGNet.with_head`.

Everything before the first ELU (temporal convolution, batch norm, depthwise
spatial convolution, batch norm) is linear, so the default forward pass mixes
the EEG channels first (``F1*D`` spatial filters) and then runs ``F1*D``
single-channel temporal filters with the batch-norm scales folded in: the same
function up to float rounding at about a tenth of the dominant cost.
"""

from __future__ import annotations

import copy
import re

import numpy as np

from .._validation import check_epochs
from ..footprint import Footprint
from .io import check_weights, load_weights
from .layers import (
    avg_pool_time,
    batchnorm_affine,
    elu,
    elu_table,
    renorm_rows,
    temporal_filter,
)

__all__ = ["EEGNet", "KERAS_EEGNET_LAYERS"]

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

_BN = ("weight", "bias", "running_mean", "running_var")
_KERAS_BN = ("gamma", "beta", "moving_mean", "moving_variance")


def _braindecode_key_aliases(weights):
    """Older braindecode names -> v1.x names (the mapping braindecode applies itself)."""
    out = dict(weights)
    if "conv_spatial.weight" in out and "conv_spatial.parametrizations.weight.original" not in out:
        out["conv_spatial.parametrizations.weight.original"] = out.pop("conv_spatial.weight")
    for p in ("weight", "bias"):
        if f"conv_classifier.{p}" in out and f"final_layer.conv_classifier.{p}" not in out:
            out[f"final_layer.conv_classifier.{p}"] = out.pop(f"conv_classifier.{p}")
    return out


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


class EEGNet:
    """EEGNet forward pass in numpy (eval mode), faithful to braindecode or Keras.

    Parameters
    ----------
    weights : dict of str to ndarray, or path
        A braindecode ``EEGNet`` (v1.x, also ``EEGNetv4``) state dict, or Keras
        HDF5 weights of the original EEGNet, or a path :func:`load_weights` reads.
        braindecode keys: ``conv_temporal.weight`` (F1, 1, 1, K1),
        ``bnorm_temporal.*``, ``conv_spatial.parametrizations.weight.original``
        (F1*D, 1, C, 1), ``bnorm_1.*``, ``conv_separable_depth.weight``
        (F1*D, 1, 1, K3), ``conv_separable_point.weight`` (F2, F1*D, 1, 1),
        ``bnorm_2.*``, ``final_layer.conv_classifier.weight``/``.bias``
        (n_classes, F2, 1, T'), or the ``final_layer.linearconstraint`` head.
    n_chans : int, optional
        Number of EEG channels C (checked against the spatial weights).
    n_times : int, optional
        Samples per trial (checked against the classifier's T').
    layout : {"auto", "braindecode", "keras"}, default="auto"
        Key layout; "auto" picks "keras" if no key contains "conv_temporal".
        The Keras layout uses the layer names of :data:`KERAS_EEGNET_LAYERS`
        (override with ``keras_layers``), "same" padding (``(K-1)//2`` left), no
        max-norm at inference and the channels-last flatten order.
    pool1_kernel_size, pool2_kernel_size : int, default=4, 8
        Average-pooling sizes (braindecode defaults; Hersche 2020 / Q-EEGNet use 8, 8).
    batch_norm_eps : float, default=1e-3
    conv_spatial_max_norm : float, default=1.0
        Max-norm of braindecode's spatial-convolution parametrization, applied to
        the stored ``original`` weight as braindecode does in every forward pass.
    norm_rate : float, default=0.25
        Max-norm of the ``final_layer.linearconstraint`` head, if that head is used.
    keras_layers : dict, optional
        Keras layer names, keys as in :data:`KERAS_EEGNET_LAYERS`.
    dtype : {"float32", "float64"}, default="float32"
        Arithmetic precision of the forward pass (torch runs float32).
    algorithm : {"reordered", "reference"}, default="reordered"
        "reordered": spatial mixing first, then ``F1*D`` single-channel FFT
        filters; "reference": the layer order of the network.

    Attributes
    ----------
    F1, D, F2, K1, K3, n_classes, n_chans, n_out_times : int
        Architecture read from the weights.
    channels : ndarray of int
        Input channels the model reads (all, or those kept by :meth:`select_channels`).

    Notes
    -----
    braindecode pads the temporal convolutions by ``K // 2`` on both sides, so an
    even kernel (64) yields ``T + 1`` samples (1126 for 1125); Keras "same"
    padding keeps ``T``. Both are reproduced; the footprint counts the samples
    actually computed. The torch parity tests compare logits to <= 1e-5 (float32)
    and <= 1e-10 (float64).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> rng = np.random.default_rng(0)
    >>> w = EEGNet.random_weights(n_chans=4, n_times=128, n_classes=2, rng=rng)
    >>> net = EEGNet(w, n_chans=4, n_times=128)
    >>> net.forward(rng.standard_normal((3, 4, 128))).shape
    (3, 2)

    References
    ----------
    .. [1] V. J. Lawhern et al., "EEGNet: a compact convolutional neural network
       for EEG-based brain-computer interfaces", J. Neural Eng. 15, 2018.
    .. [2] L. Feng et al., "An Efficient Model-Compressed EEGNet Accelerator for
       Generalized Brain-Computer Interfaces with Near Sensor Intelligence",
       Section III (eq. 1 channel selection, eq. 2-5 normalization merging).
    """

    def __init__(self, weights, *, n_chans=None, n_times=None, layout="auto",
                 pool1_kernel_size=4, pool2_kernel_size=8, batch_norm_eps=1e-3,
                 conv_spatial_max_norm=1.0, norm_rate=0.25, keras_layers=None,
                 dtype="float32", algorithm="reordered"):
        if not isinstance(weights, dict):
            weights = load_weights(weights)
        if layout not in ("auto", "braindecode", "keras"):
            raise ValueError(f"layout must be 'auto', 'braindecode' or 'keras', got {layout!r}")
        for name, v in (("pool1_kernel_size", pool1_kernel_size), ("pool2_kernel_size", pool2_kernel_size)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        if algorithm not in ("reordered", "reference"):
            raise ValueError(f"algorithm must be 'reordered' or 'reference', got {algorithm!r}")
        self.pool1 = int(pool1_kernel_size)
        self.pool2 = int(pool2_kernel_size)
        self.eps = float(batch_norm_eps)
        self.dtype = np.dtype(dtype)
        self.algorithm = algorithm
        if layout == "auto":
            layout = "braindecode" if any("conv_temporal" in k for k in weights) else "keras"
        self.layout = layout
        if layout == "braindecode":
            self._from_braindecode(weights, float(conv_spatial_max_norm), float(norm_rate))
        else:
            self._from_keras(weights, {**KERAS_EEGNET_LAYERS, **(keras_layers or {})})
        self.channels = np.arange(self.n_chans)
        if n_chans is not None and n_chans != self.n_chans:
            raise ValueError(
                f"n_chans={n_chans} but the spatial weights expect {self.n_chans} channels"
            )
        self.n_times = None
        if n_times is not None:
            t_out = self._n_out_times(n_times)
            if t_out != self.n_out_times:
                raise ValueError(
                    f"n_times={n_times} gives {t_out} samples after pooling "
                    f"({self.pool1}, {self.pool2}), but the classifier weights expect "
                    f"{self.n_out_times}: check n_times and pool1/pool2_kernel_size"
                )
            self.n_times = int(n_times)
        self.elu_table_ = None
        self.folded = False
        self.pq_head_ = None
        self.act_frac_bits_ = None
        self.weight_bits_ = None

    # ------------------------------------------------------------------ loading
    def _from_braindecode(self, weights, max_norm, norm_rate):
        w = _braindecode_key_aliases(weights)
        shapes = {k: np.shape(v) for k, v in w.items()}
        try:
            F1, _, _, K1 = shapes["conv_temporal.weight"]
            F1D, _, C, _ = shapes["conv_spatial.parametrizations.weight.original"]
            F2, _, _, _ = shapes["conv_separable_point.weight"]
            K3 = shapes["conv_separable_depth.weight"][-1]
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"weights: not a braindecode EEGNet state dict (missing or malformed {exc})"
            ) from None
        linear_head = "final_layer.linearconstraint.parametrizations.weight.original" in w
        if linear_head:
            n_cls, n_feat = shapes["final_layer.linearconstraint.parametrizations.weight.original"]
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
        for bn, n in (("bnorm_temporal", F1), ("bnorm_1", F1D), ("bnorm_2", F2)):
            spec.update({f"{bn}.{p}": (n,) for p in _BN})
        if linear_head:
            spec["final_layer.linearconstraint.parametrizations.weight.original"] = (n_cls, F2 * t_out)
            spec["final_layer.linearconstraint.bias"] = (n_cls,)
        else:
            spec["final_layer.conv_classifier.weight"] = (n_cls, F2, 1, t_out)
            spec["final_layer.conv_classifier.bias"] = (n_cls,)
        optional = [f"{bn}.num_batches_tracked" for bn in ("bnorm_temporal", "bnorm_1", "bnorm_2")]
        w = check_weights(w, spec, optional=optional)
        if F1D % F1:
            raise ValueError(f"weights: spatial filters F1*D={F1D} not a multiple of F1={F1}")
        self.F1, self.D, self.F2, self.K1, self.K3 = F1, F1D // F1, F2, K1, K3
        self.n_chans, self.n_classes, self.n_out_times = C, n_cls, t_out
        self.temporal = w["conv_temporal.weight"][:, 0, 0, :]
        self.pad_temporal = (K1 // 2, K1 // 2)
        self.spatial = renorm_rows(w["conv_spatial.parametrizations.weight.original"], max_norm)[:, 0, :, 0]
        self.depth = w["conv_separable_depth.weight"][:, 0, 0, :]
        self.pad_depth = (K3 // 2, K3 // 2)
        self.point = w["conv_separable_point.weight"][:, :, 0, 0]
        self.bn = [
            batchnorm_affine(*(w[f"{bn}.{p}"] for p in _BN), eps=self.eps)
            for bn in ("bnorm_temporal", "bnorm_1", "bnorm_2")
        ]
        if linear_head:
            W = renorm_rows(w["final_layer.linearconstraint.parametrizations.weight.original"], norm_rate)
            self.head_w = W.reshape(n_cls, F2, t_out)
            self.head_b = w["final_layer.linearconstraint.bias"]
        else:
            self.head_w = w["final_layer.conv_classifier.weight"][:, :, 0, :]
            self.head_b = w["final_layer.conv_classifier.bias"]
        self.spatial_bias = np.zeros(F1D)
        self.point_bias = np.zeros(F2)

    def _from_keras(self, weights, layers):
        k = {name: {} for name in layers}
        k["conv_temporal"]["kernel"] = _keras_key(weights, layers["conv_temporal"], "kernel")
        k["conv_spatial"]["kernel"] = _keras_key(weights, layers["conv_spatial"], "depthwise_kernel")
        k["conv_separable"]["depth"] = _keras_key(weights, layers["conv_separable"], "depthwise_kernel")
        k["conv_separable"]["point"] = _keras_key(weights, layers["conv_separable"], "pointwise_kernel")
        k["dense"]["kernel"] = _keras_key(weights, layers["dense"], "kernel")
        k["dense"]["bias"] = _keras_key(weights, layers["dense"], "bias")
        for bn in ("bnorm_temporal", "bnorm_1", "bnorm_2"):
            for p in _KERAS_BN:
                k[bn][p] = _keras_key(weights, layers[bn], p)
        shapes = {key: np.shape(weights[key]) for d in k.values() for key in d.values()}
        try:
            _, K1, _, F1 = shapes[k["conv_temporal"]["kernel"]]
            C, _, _, D = shapes[k["conv_spatial"]["kernel"]]
            _, K3, F1D, _ = shapes[k["conv_separable"]["depth"]]
            F2 = shapes[k["conv_separable"]["point"]][-1]
            n_feat, n_cls = shapes[k["dense"]["kernel"]]
        except ValueError as exc:
            raise ValueError(f"weights: malformed Keras EEGNet tensors ({exc})") from None
        if n_feat % F2:
            raise ValueError(f"weights: dense kernel has {n_feat} inputs, not a multiple of F2={F2}")
        t_out = n_feat // F2
        spec = {
            k["conv_temporal"]["kernel"]: (1, K1, 1, F1),
            k["conv_spatial"]["kernel"]: (C, 1, F1, D),
            k["conv_separable"]["depth"]: (1, K3, F1 * D, 1),
            k["conv_separable"]["point"]: (1, 1, F1 * D, F2),
            k["dense"]["kernel"]: (t_out * F2, n_cls),
            k["dense"]["bias"]: (n_cls,),
        }
        for bn, n in (("bnorm_temporal", F1), ("bnorm_1", F1 * D), ("bnorm_2", F2)):
            spec.update({k[bn][p]: (n,) for p in _KERAS_BN})
        w = check_weights({key: weights[key] for key in spec}, spec)
        self.F1, self.D, self.F2, self.K1, self.K3 = F1, D, F2, K1, K3
        self.n_chans, self.n_classes, self.n_out_times = C, n_cls, t_out
        self.temporal = w[k["conv_temporal"]["kernel"]][0, :, 0, :].T
        self.pad_temporal = ((K1 - 1) // 2, K1 - 1 - (K1 - 1) // 2)
        # depthwise output channel c*D + d reads input channel c (torch groups order)
        self.spatial = w[k["conv_spatial"]["kernel"]][:, 0, :, :].transpose(1, 2, 0).reshape(F1 * D, C)
        self.depth = w[k["conv_separable"]["depth"]][0, :, :, 0].T
        self.pad_depth = ((K3 - 1) // 2, K3 - 1 - (K3 - 1) // 2)
        self.point = w[k["conv_separable"]["point"]][0, 0].T
        self.bn = [
            batchnorm_affine(*(w[k[bn][p]] for p in _KERAS_BN), eps=self.eps)
            for bn in ("bnorm_temporal", "bnorm_1", "bnorm_2")
        ]
        # channels-last flatten: feature index t * F2 + f
        self.head_w = w[k["dense"]["kernel"]].reshape(t_out, F2, n_cls).transpose(2, 1, 0)
        self.head_b = w[k["dense"]["bias"]]
        self.spatial_bias = np.zeros(F1 * D)
        self.point_bias = np.zeros(F2)

    # ------------------------------------------------------------------ shapes
    def _lengths(self, n_times):
        t1 = n_times + sum(self.pad_temporal) - self.K1 + 1
        p1 = t1 // self.pool1
        t2 = p1 + sum(self.pad_depth) - self.K3 + 1
        return t1, p1, t2, t2 // self.pool2

    def _n_out_times(self, n_times):
        return self._lengths(n_times)[-1]

    @property
    def n_features(self):
        """Length of the flattened feature vector before the classifier (F2 * T')."""
        return self.F2 * self.n_out_times

    # ------------------------------------------------------------------ forward
    def _check_X(self, X):
        if not isinstance(X, np.ndarray):
            raise TypeError(f"X must be a numpy array of shape (n_trials, n_chans, n_times), got {type(X).__name__}")
        X = check_epochs(X, n_channels=self.n_chans, estimator="EEGNet")
        if self._n_out_times(X.shape[2]) != self.n_out_times:
            raise ValueError(
                f"X has {X.shape[2]} samples per trial, the classifier expects "
                f"{self.n_out_times} pooled samples (n_times={self.n_times})"
            )
        return X.astype(self.dtype, copy=False)

    def _pre_elu(self, X):
        """Output of the spatial block before the first ELU, shape (n, F1*D, T1)."""
        dt = self.dtype
        X = X[:, self.channels] if len(self.channels) != X.shape[1] else X
        s0, b0 = self.bn[0] if self.bn[0] is not None else (np.ones(self.F1), np.zeros(self.F1))
        s1, b1 = self.bn[1] if self.bn[1] is not None else (np.ones(self.F1 * self.D), np.zeros(self.F1 * self.D))
        grp = np.repeat(np.arange(self.F1), self.D)  # input group of each spatial filter
        if self.algorithm == "reference":
            y = np.stack([temporal_filter(X, np.tile(self.temporal[f], (X.shape[1], 1)).astype(dt),
                                          *self.pad_temporal) for f in range(self.F1)], axis=1)
            y = y * s0[:, None, None].astype(dt) + b0[:, None, None].astype(dt)
            z = np.einsum("oc,noct->not", self.spatial.astype(dt), y[:, grp])
            z = z + self.spatial_bias[:, None].astype(dt)
            return z * s1[:, None].astype(dt) + b1[:, None].astype(dt)
        # linear block folded and reordered: spatial mixing, then one filter per map
        ws = (s1[:, None] * self.spatial).astype(dt)
        kern = s0[grp, None] * self.temporal[grp]
        bias = s1 * (b0[grp] * self.spatial.sum(axis=1) + self.spatial_bias) + b1
        S = np.matmul(ws, X)
        z = temporal_filter(S, kern, *self.pad_temporal, method="fft")
        z += bias[:, None].astype(dt)
        return z

    def _act(self, x):
        if self.elu_table_ is not None:
            return elu_table(x, *self.elu_table_)
        return elu(x)

    def features(self, X):
        """Flattened features before the classifier, shape (n_trials, F2 * T').

        Order: feature ``f * T' + t`` (braindecode's channels-first order).

        Parameters
        ----------
        X : ndarray of shape (n_trials, n_chans, n_times)

        Returns
        -------
        features : ndarray of shape (n_trials, F2 * T'), dtype ``self.dtype``
        """
        X = self._check_X(X)
        dt = self.dtype
        q = self._quantize_act
        z = q(self._pre_elu(q(X, "input")), "block1")
        z = q(avg_pool_time(self._act(z), self.pool1), "pool1")
        z = temporal_filter(z, self.depth, *self.pad_depth)
        z = np.matmul(self.point.astype(dt), z)
        if self.bn[2] is not None:
            s2, b2 = self.bn[2]
            z = z * s2[:, None].astype(dt) + b2[:, None].astype(dt)
        else:
            z = z + self.point_bias[:, None].astype(dt)
        z = q(avg_pool_time(self._act(q(z, "block2")), self.pool2), "features")
        return z.reshape(z.shape[0], -1)

    def _quantize_act(self, z, stage):
        if self.act_frac_bits_ is None:
            return z
        from ..quantize import from_fixed_point, to_fixed_point

        f = self.act_frac_bits_[stage]
        return from_fixed_point(to_fixed_point(z, self.act_bits_, f), f).astype(self.dtype)

    def forward(self, X):
        """Logits (no softmax, as braindecode's EEGNet).

        Parameters
        ----------
        X : ndarray of shape (n_trials, n_chans, n_times)

        Returns
        -------
        logits : ndarray of shape (n_trials, n_classes)
        """
        F = self.features(X)
        if self.pq_head_ is not None:
            return self.pq_head_.transform(F.astype(np.float64)).astype(self.dtype)
        W = self.head_w.reshape(self.n_classes, -1).astype(self.dtype)
        return F @ W.T + self.head_b.astype(self.dtype)

    __call__ = forward

    # ------------------------------------------------------------------ compressions
    def fold_batchnorm(self):
        """Merge the three batch norms into the convolutions (Feng Section III-C).

        Returns a new model computing the same function (to float rounding): the
        temporal batch norm's scale goes into the temporal kernels and its shift,
        carried through the spatial filters, into a spatial bias (Feng eq. 5 keeps a
        subtraction before the spatial convolution; folding it too removes it);
        ``bnorm_1`` goes into the spatial filters and their bias, ``bnorm_2`` into
        the pointwise convolution and a bias: no batch-norm operations are left.

        Returns
        -------
        EEGNet
        """
        new = copy.copy(self)
        if self.folded:
            return new
        s0, b0 = self.bn[0]
        s1, b1 = self.bn[1]
        s2, b2 = self.bn[2]
        grp = np.repeat(np.arange(self.F1), self.D)
        new.temporal = self.temporal * s0[:, None]
        new.spatial_bias = s1 * (b0[grp] * self.spatial.sum(axis=1) + self.spatial_bias) + b1
        new.spatial = self.spatial * s1[:, None]
        new.point = self.point * s2[:, None]
        new.point_bias = s2 * self.point_bias + b2
        new.bn = [None, None, None]
        new.folded = True
        return new

    def spatial_channel_scores(self):
        """ℓ1 norm of each input channel's spatial weights, Feng eq. (1).

        Returns
        -------
        scores : ndarray of shape (n_channels_used,)
            ``l1_ic = sum_j |w_ic^j|`` over the F1*D spatial kernels (after max-norm).
        """
        return np.abs(self.spatial).sum(axis=0)

    def select_channels(self, n_selected):
        """Keep the ``n_selected`` channels with the largest ℓ1 spatial norm (Feng eq. 1).

        The returned model still takes all ``n_chans`` input channels and reads
        only the selected ones (``channels``); its temporal-convolution cost drops
        by ``n_selected / n_chans``. Feng retrains after selection; here re-fit the
        head (:class:`eegbin.EEGNetClassifier` does it in ``fit``).

        Parameters
        ----------
        n_selected : int
            Number C_s of channels kept.

        Returns
        -------
        EEGNet
        """
        C = len(self.channels)
        if not isinstance(n_selected, (int, np.integer)) or isinstance(n_selected, bool) or not 1 <= n_selected <= C:
            raise ValueError(f"n_selected must be an int in [1, {C}], got {n_selected!r}")
        scores = self.spatial_channel_scores()
        keep = np.sort(np.argsort(-scores, kind="stable")[:n_selected])
        new = copy.copy(self)
        new.spatial = self.spatial[:, keep]
        new.channels = self.channels[keep]
        new.pq_head_ = None  # features or head changed: a product-quantized head is stale
        return new

    def with_elu_table(self, n_entries=256, x_min=-8.0):
        """ELU whose negative branch is a ``n_entries``-point interpolated table (Feng V-B).

        Parameters
        ----------
        n_entries : int, default=256
            Table points on ``[x_min, 0]``; interpolation error <= h**2 / 8.
        x_min : float, default=-8.0
            Below it the table saturates at ``expm1(x_min)`` (error < exp(x_min)).

        Returns
        -------
        EEGNet
        """
        if not isinstance(n_entries, (int, np.integer)) or n_entries < 2:
            raise ValueError(f"n_entries must be an int >= 2, got {n_entries!r}")
        if not x_min < 0:
            raise ValueError(f"x_min must be negative, got {x_min!r}")
        new = copy.copy(self)
        grid = np.linspace(x_min, 0.0, n_entries)
        new.elu_table_ = (grid, np.expm1(grid))
        new.pq_head_ = None  # features or head changed: a product-quantized head is stale
        return new

    def with_pq_head(self, X_train, n_subspaces=8, n_prototypes=16, lut_bits=8):
        """Product-quantized dense layer fitted on the features of ``X_train`` (Feng III-D).

        The flattened features are split into ``n_subspaces`` sub-vectors, each
        hashed by a balanced binary regression tree (4 comparisons, 16 leaves) to
        a row of a precomputed table ``prototype . weights``; the logits are sums of
        ``n_subspaces`` table entries (:class:`eegbin.ProductQuantizedLinear`).

        Parameters
        ----------
        X_train : ndarray of shape (n_trials, n_chans, n_times)
            Trials whose features train the hash trees.
        n_subspaces : int, default=8
        n_prototypes : int, default=16
        lut_bits : int or None, default=8

        Returns
        -------
        EEGNet
        """
        from ..quantize import ProductQuantizedLinear

        F = self.features(X_train).astype(np.float64)
        pq = ProductQuantizedLinear(n_subspaces=n_subspaces, n_prototypes=n_prototypes,
                                    lut_bits=lut_bits)
        pq.fit(F, weights=self.head_w.reshape(self.n_classes, -1).T, bias=self.head_b)
        new = copy.copy(self)
        new.pq_head_ = pq
        return new

    def to_fixed_point(self, X_calib, weight_bits=8, act_bits=16):
        """Simulated fixed point: ``weight_bits`` weights, ``act_bits`` feature maps (Feng V-A).

        Batch norms are folded first; every weight tensor is rounded to a signed
        ``weight_bits`` grid (biases to ``act_bits``) with its own power-of-two step
        (the largest that holds its largest magnitude,
        :class:`eegbin.FixedPointQuantizer`); the input, the spatial block output,
        both pooled maps and the separable block output are rounded to
        ``act_bits`` with steps calibrated on ``X_calib`` (saturating beyond).
        Arithmetic stays float64, so the result is what an integer datapath with
        wide accumulators computes.

        Parameters
        ----------
        X_calib : ndarray of shape (n_trials, n_chans, n_times)
            Calibration trials for the activation ranges.
        weight_bits : int, default=8
        act_bits : int, default=16

        Returns
        -------
        EEGNet
        """
        from ..quantize import FixedPointQuantizer

        def fq(a, bits):
            q = FixedPointQuantizer(bits=bits).fit(a.reshape(-1, 1))
            return q.transform(a.reshape(-1, 1)).reshape(a.shape)

        new = copy.copy(self.fold_batchnorm())
        new.dtype = np.dtype(np.float64)
        new.act_frac_bits_ = None
        new.pq_head_ = None
        new.temporal = fq(new.temporal, weight_bits)
        new.spatial = fq(new.spatial, weight_bits)
        new.depth = fq(new.depth, weight_bits)
        new.point = fq(new.point, weight_bits)
        new.head_w = fq(new.head_w, weight_bits)
        new.spatial_bias = fq(new.spatial_bias, act_bits)
        new.point_bias = fq(new.point_bias, act_bits)
        new.head_b = fq(new.head_b, act_bits)
        # calibrate activation steps on the float stages of the quantized-weight model
        stages = {}

        def record(z, stage):
            stages[stage] = max(stages.get(stage, 0.0), float(np.max(np.abs(z))))
            return z

        new._quantize_act = record
        new.features(np.asarray(X_calib, dtype=np.float64))
        del new._quantize_act
        from ..quantize import auto_frac_bits

        new.act_bits_ = int(act_bits)
        new.act_frac_bits_ = {k: auto_frac_bits(v, act_bits) for k, v in stages.items()}
        new.weight_bits_ = int(weight_bits)
        return new

    def with_head(self, weight, bias):
        """Replace the classifier.

        Parameters
        ----------
        weight : ndarray of shape (n_classes, F2 * T')
        bias : ndarray of shape (n_classes,)

        Returns
        -------
        EEGNet
        """
        weight = np.asarray(weight, dtype=np.float64)
        bias = np.asarray(bias, dtype=np.float64)
        if weight.ndim != 2 or weight.shape[1] != self.n_features:
            raise ValueError(f"weight must have shape (n_classes, {self.n_features}), got {weight.shape}")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},), got {bias.shape}")
        new = copy.copy(self)
        new.head_w = weight.reshape(weight.shape[0], self.F2, self.n_out_times)
        new.head_b = bias
        new.n_classes = weight.shape[0]
        new.pq_head_ = None  # features or head changed: a product-quantized head is stale
        return new

    # ------------------------------------------------------------------ footprint
    def footprint(self, float_bits=32, n_times=None, *, act_bits=None, output="softmax",
                  reordered=False):
        """Parameters and operations per inference, per layer like Hersche Table II.

        MACs of the convolutions and the dense layer are counted as in Table II
        (temporal: F1*C*T1*K1; depthwise: F1*D*C*T1; separable: F1*D*T2*(K3+F2);
        FC: n_classes*F2*T'); batch norm (one multiply-add per value), ELU (one
        operation per value), pooling (one addition per input value) and the
        output (softmax: one exponential per class; "max": none) are separate rows.

        Parameters
        ----------
        float_bits : int, default=32
            Bits per stored real parameter (16 for Table II; the fixed-point model
            uses its weight bits).
        n_times : int, optional
            Samples per trial (default: the model's ``n_times``).
        act_bits : int, optional
            Activation width, recorded in the note.
        output : {"softmax", "max"}, default="softmax"
        reordered : bool, default=False
            Count what the default forward pass computes: the linear block as
            F1*D spatial filters on the input (F1*D*C*T MACs) followed by F1*D
            single-channel temporal filters with the batch norms folded in
            (F1*D*K1*T1 MACs plus a bias), instead of the network's layer order.

        Returns
        -------
        Footprint
            Parts: temporal block, depthwise block, separable block, FC, output.
        """
        n_times = n_times or self.n_times
        if n_times is None:
            raise ValueError("n_times is unknown: pass n_times")
        if self.weight_bits_ is not None:  # fixed point: weights (and biases) at weight_bits
            float_bits = self.weight_bits_
            act_bits = act_bits or self.act_bits_
        t1, p1, t2, p2 = self._lengths(n_times)
        C, F1, F1D, F2 = len(self.channels), self.F1, self.F1 * self.D, self.F2
        fb = float_bits
        bn = (lambda n, v: Footprint("batch norm", 4 * n, fb, macs=v)) if not self.folded else None
        act = "ELU (table)" if self.elu_table_ is not None else "ELU"
        tbl = len(self.elu_table_[0]) * 2 if self.elu_table_ is not None else 0

        def block(name, conv, parts):
            return Footprint(name, parts=tuple(p for p in (conv, *parts) if p is not None))

        temporal = block("Temp. convolution", Footprint("conv", F1 * self.K1, fb, macs=F1 * C * t1 * self.K1),
                         [bn(F1, F1 * C * t1) if bn else None])
        if reordered:
            temporal = Footprint("Spatial mixing + temporal filters", parts=(
                Footprint("spatial mixing", F1D * C, fb, macs=F1D * C * n_times),
                Footprint("temporal filters (batch norm folded)", F1D * (self.K1 + 1), fb,
                          macs=F1D * (self.K1 + 1) * t1),
            ))
        depthwise = block(
            "Depw. convolution",
            None if reordered else  # the spatial filters run in the first block
            Footprint("conv", F1D * C + (F1D if self.folded else 0), fb,
                      macs=F1D * C * t1 + (F1D * t1 if self.folded else 0)),
            [bn(F1D, F1D * t1) if bn and not reordered else None,
             Footprint(act, tbl, fb, macs=F1D * t1),
             Footprint("avg pool", 0, fb, macs=F1D * p1 * self.pool1)],
        )
        separable = block(
            "Sep. convolution",
            Footprint("conv", F1D * self.K3 + F2 * F1D + (F2 if self.folded else 0), fb,
                      macs=F1D * t2 * self.K3 + F2 * F1D * t2 + (F2 * t2 if self.folded else 0)),
            [bn(F2, F2 * t2) if bn else None,
             Footprint(act, 0, fb, macs=F2 * t2),
             Footprint("avg pool", 0, fb, macs=F2 * p2 * self.pool2)],
        )
        n_feat = F2 * p2
        if self.pq_head_ is not None:
            fc = Footprint("FC (product quantized)", parts=self.pq_head_.footprint(fb).parts,
                           note=f"m={self.pq_head_.n_subspaces}, {self.pq_head_.n_prototypes} leaves")
        else:
            fc = Footprint("FC", self.n_classes * (n_feat + 1), fb, macs=self.n_classes * n_feat)
        out = Footprint("softmax" if output == "softmax" else "max", 0, fb,
                        macs=self.n_classes if output == "softmax" else 0)
        note = f"C={C}, T={n_times}" + (f", activations {act_bits}-bit" if act_bits else "")
        return Footprint("EEGNet", parts=(temporal, depthwise, separable, fc, out), note=note)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def random_weights(n_chans=22, n_times=1125, n_classes=4, *, F1=8, D=2, F2=None,
                       kernel_length=64, depthwise_kernel_length=16, pool1_kernel_size=4,
                       pool2_kernel_size=8, rng=None):
        """A random braindecode-layout EEGNet state dict (for tests and examples).

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
            float32 tensors with braindecode v1.x keys.
        """
        rng = np.random.default_rng(rng)
        F2 = F2 or F1 * D
        t1 = n_times + 2 * (kernel_length // 2) - kernel_length + 1
        t2 = t1 // pool1_kernel_size + 2 * (depthwise_kernel_length // 2) - depthwise_kernel_length + 1
        t_out = t2 // pool2_kernel_size
        f = np.float32
        w = {
            "conv_temporal.weight": rng.standard_normal((F1, 1, 1, kernel_length)).astype(f) / np.sqrt(kernel_length),
            "conv_spatial.parametrizations.weight.original": rng.standard_normal((F1 * D, 1, n_chans, 1)).astype(f) * 0.4,
            "conv_separable_depth.weight": rng.standard_normal((F1 * D, 1, 1, depthwise_kernel_length)).astype(f) / 4,
            "conv_separable_point.weight": rng.standard_normal((F2, F1 * D, 1, 1)).astype(f) / np.sqrt(F1 * D),
            "final_layer.conv_classifier.weight": rng.standard_normal((n_classes, F2, 1, t_out)).astype(f) / np.sqrt(F2 * t_out),
            "final_layer.conv_classifier.bias": rng.standard_normal(n_classes).astype(f) * 0.1,
        }
        for bn, n in (("bnorm_temporal", F1), ("bnorm_1", F1 * D), ("bnorm_2", F2)):
            w[f"{bn}.weight"] = rng.uniform(0.5, 1.5, n).astype(f)
            w[f"{bn}.bias"] = rng.standard_normal(n).astype(f) * 0.1
            w[f"{bn}.running_mean"] = rng.standard_normal(n).astype(f) * 0.1
            w[f"{bn}.running_var"] = rng.uniform(0.5, 2.0, n).astype(f)
            w[f"{bn}.num_batches_tracked"] = np.array(10, dtype=np.int64)
        return w

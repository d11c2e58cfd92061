"""EEGNet inference in numpy, from braindecode (PyTorch) or Keras weights.

:class:`EEGNet` is a thin handle on an immutable :class:`~eegbin.nn.EEGNetParams`
(``net.params``) and two execution options (``dtype``, ``algorithm``): its methods
call the pure functions of :mod:`eegbin.nn.eegnet_forward` (forward pass, footprint)
and :mod:`eegbin.nn.eegnet_compress` (Feng et al.'s compressions, each returning a
new network): :meth:`EEGNet.fold_batchnorm`, :meth:`EEGNet.select_channels` (eq. 1),
:meth:`EEGNet.with_elu_table`, :meth:`EEGNet.with_pq_head`,
:meth:`EEGNet.to_fixed_point`, :meth:`EEGNet.with_head`.
"""

from __future__ import annotations

import numpy as np

from . import eegnet_compress as compress
from .eegnet_forward import _check_options, eegnet_features, eegnet_footprint, eegnet_logits
from .eegnet_layouts import KERAS_EEGNET_LAYERS, _random_braindecode_weights, read_eegnet
from .eegnet_params import DenseHead, EEGNetParams

__all__ = ["EEGNet", "KERAS_EEGNET_LAYERS"]


# The read-only views of ``EEGNet.params`` an EEGNet shows as attributes.
_PARAM_VIEWS = {
    "F1": "Temporal filters.",
    "D": "Spatial filters per temporal filter.",
    "F2": "Pointwise filters.",
    "K1": "Temporal kernel length.",
    "K3": "Separable depthwise kernel length.",
    "n_classes": "Outputs of the head.",
    "n_chans": "Channels of the input trials.",
    "n_out_times": "Pooled samples T' per feature map.",
    "n_features": "Length of the flattened feature vector (F2 * T').",
    "n_times": "Samples per trial the network was checked against (or None).",
    "channels": "Input channels the network reads.",
    "layout": "Layout the weights were read from.",
    "pool1": "First average-pooling size.",
    "pool2": "Second average-pooling size.",
    "temporal": "Temporal kernels, shape (F1, K1).",
    "spatial": "Spatial filters, shape (F1*D, n_chans_used).",
    "depth": "Separable depthwise kernels, shape (F1*D, K3).",
    "point": "Pointwise kernels, shape (F2, F1*D).",
}


def _with_param_views(cls):
    """Give ``cls`` a read-only property per entry of ``_PARAM_VIEWS`` (reading ``self.params``)."""
    for name, doc in _PARAM_VIEWS.items():
        setattr(cls, name, property(lambda self, name=name: getattr(self.params, name), doc=doc))
    return cls


@_with_param_views
class EEGNet:
    """EEGNet forward pass in numpy (eval mode), faithful to braindecode or Keras.

    Parameters
    ----------
    weights : dict of str to ndarray, or path
        A braindecode ``EEGNet`` (v1.x, also ``EEGNetv4``) state dict, Keras 2 or
        Keras 3 weights of the original EEGNet, an ONNX export of a braindecode EEGNet,
        or a path :func:`load_weights` reads (see :func:`eegbin.nn.read_eegnet`).
        braindecode keys: ``conv_temporal.weight`` (F1, 1, 1, K1),
        ``bnorm_temporal.*``, ``conv_spatial.parametrizations.weight.original``
        (F1*D, 1, C, 1), ``bnorm_1.*``, ``conv_separable_depth.weight``
        (F1*D, 1, 1, K3), ``conv_separable_point.weight`` (F2, F1*D, 1, 1),
        ``bnorm_2.*``, ``final_layer.conv_classifier.weight``/``.bias``
        (n_classes, F2, 1, T'), or the ``final_layer.linearconstraint`` head.
    n_chans, n_times, layout, pool1_kernel_size, pool2_kernel_size, batch_norm_eps, \
conv_spatial_max_norm, norm_rate, keras_layers
        How the weights are read and checked: as in :func:`eegbin.nn.read_eegnet`
        (``layout="auto"`` tells the layouts apart; the Keras layout uses "same"
        padding, no max-norm at inference and the channels-last flatten order; the
        ONNX layout reads the graph, whose batch norms may be folded).
    dtype : {"float32", "float64"}, default="float32"
        Arithmetic precision of the forward pass (torch runs float32).
    algorithm : {"reordered", "reference"}, default="reordered"
        "reordered": spatial mixing first, then ``F1*D`` single-channel FFT
        filters; "reference": the layer order of the network.

    Attributes
    ----------
    params : EEGNetParams
        Every parameter (immutable): what the forward pass, the footprint and an
        exporter read. The attributes below are views of it.
    F1, D, F2, K1, K3, n_classes, n_chans, n_out_times, n_features : int
        Architecture read from the weights.
    channels : ndarray of int
        Input channels the model reads (all, or those kept by :meth:`select_channels`).
    temporal, spatial, depth, point : ndarray
        Convolution kernels (see :class:`~eegbin.nn.EEGNetParams`).
    head_w : ndarray of shape (n_classes, F2, T')
    head_b : ndarray of shape (n_classes,)
        The dense head.

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
                 pool1_kernel_size=None, pool2_kernel_size=None, batch_norm_eps=None,
                 conv_spatial_max_norm=1.0, norm_rate=0.25, keras_layers=None,
                 dtype="float32", algorithm="reordered"):
        _check_options(dtype, algorithm)
        params = read_eegnet(
            weights, layout=layout, n_chans=n_chans, n_times=n_times,
            pool1_kernel_size=pool1_kernel_size, pool2_kernel_size=pool2_kernel_size,
            batch_norm_eps=batch_norm_eps, conv_spatial_max_norm=conv_spatial_max_norm,
            norm_rate=norm_rate, keras_layers=keras_layers,
        )
        self._set(params, dtype, algorithm)

    @classmethod
    def from_params(cls, params, *, dtype="float32", algorithm="reordered"):
        """An EEGNet running ``params``.

        Parameters
        ----------
        params : EEGNetParams
        dtype : {"float32", "float64"}, default="float32"
        algorithm : {"reordered", "reference"}, default="reordered"

        Returns
        -------
        EEGNet
            A network sharing ``params`` (immutable) that runs in ``dtype`` by ``algorithm``.

        Examples
        --------
        >>> from eegbin.nn import EEGNet
        >>> net = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0))
        >>> EEGNet.from_params(net.params, dtype="float64").dtype
        dtype('float64')
        """
        if not isinstance(params, EEGNetParams):
            raise TypeError(f"params must be an EEGNetParams, got {type(params).__name__}")
        _check_options(dtype, algorithm)
        net = cls.__new__(cls)
        net._set(params, dtype, algorithm)
        return net

    def _set(self, params, dtype, algorithm):
        self.params = params
        self.dtype = np.dtype(dtype)
        self.algorithm = algorithm

    def _new(self, params, dtype=None):
        return type(self).from_params(params, dtype=dtype or self.dtype, algorithm=self.algorithm)

    @property
    def bn(self):
        """The three batch norms as ``(scale, shift)`` pairs, None once folded."""
        p = self.params
        return [None if b is None else (b.scale, b.shift)
                for b in (p.temporal_bn, p.spatial_bn, p.separable_bn)]

    @property
    def head_w(self):
        """Dense head weights, shape (n_classes, F2, T') (AttributeError for a PQ head)."""
        return self._dense_head().weight.reshape(self.n_classes, self.F2, self.n_out_times)

    @property
    def head_b(self):
        """Dense head bias, shape (n_classes,) (AttributeError for a PQ head)."""
        return self._dense_head().bias

    def _dense_head(self):
        if not isinstance(self.params.head, DenseHead):
            raise AttributeError("the head is product-quantized: read params.head")
        return self.params.head

    # ------------------------------------------------------------------ forward
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
        return eegnet_features(self.params, X, dtype=self.dtype, algorithm=self.algorithm)

    def forward(self, X):
        """Logits (no softmax, as braindecode's EEGNet).

        Parameters
        ----------
        X : ndarray of shape (n_trials, n_chans, n_times)

        Returns
        -------
        logits : ndarray of shape (n_trials, n_classes)
        """
        return eegnet_logits(self.params, X, dtype=self.dtype, algorithm=self.algorithm)

    __call__ = forward

    # ------------------------------------------------------------------ compressions
    def fold_batchnorm(self):
        """A new network with the batch norms merged into the convolutions (Feng III-C).

        See :func:`eegbin.nn.fold_batchnorm`.
        """
        return self._new(compress.fold_batchnorm(self.params))

    def spatial_channel_scores(self):
        """ℓ1 norm of each input channel's spatial weights, Feng eq. (1).

        See :func:`eegbin.nn.spatial_channel_scores`.
        """
        return compress.spatial_channel_scores(self.params)

    def select_channels(self, n_selected):
        """A new network reading the ``n_selected`` channels of largest ℓ1 spatial norm (eq. 1).

        See :func:`eegbin.nn.select_channels`.
        """
        return self._new(compress.select_channels(self.params, n_selected))

    def with_elu_table(self, n_entries=256, x_min=-8.0):
        """A new network whose ELU reads a ``n_entries``-point table on ``[x_min, 0]`` (Feng V-B).

        See :func:`eegbin.nn.with_elu_table`.
        """
        return self._new(compress.with_elu_table(self.params, n_entries, x_min))

    def with_pq_head(self, X_train, n_subspaces="auto", n_prototypes=16, lut_bits=8):
        """Product-quantized dense layer fitted on the features of ``X_train`` (Feng III-D).

        Parameters
        ----------
        X_train : ndarray of shape (n_trials, n_chans, n_times)
            Trials whose features train the hash trees.
        n_subspaces, n_prototypes, lut_bits
            As in :func:`eegbin.nn.with_pq_head`, which this runs on ``self.features(X_train)``.

        Returns
        -------
        EEGNet
        """
        return self._new(compress.with_pq_head(self.params, self.features(X_train), n_subspaces,
                                               n_prototypes, lut_bits))

    def to_fixed_point(self, X_calib, weight_bits=8, act_bits=16):
        """Simulated fixed point: ``weight_bits`` weights, ``act_bits`` feature maps (Feng V-A).

        Arithmetic is float64, so the result is what an integer datapath with wide
        accumulators computes.

        Parameters
        ----------
        X_calib, weight_bits, act_bits
            As in :func:`eegbin.nn.with_fixed_point` (its ``algorithm`` is the network's).

        Returns
        -------
        EEGNet
            float64.
        """
        params = compress.with_fixed_point(self.params, X_calib, weight_bits, act_bits,
                                           algorithm=self.algorithm)
        return self._new(params, dtype="float64")

    def with_head(self, weight, bias):
        """A new network with the dense head ``weight`` (n_classes, F2 * T') and ``bias``.

        See :func:`eegbin.nn.with_head`.
        """
        return self._new(compress.with_head(self.params, weight, bias))

    def with_binary_features(self, separable, head):
        """A new network reading ``Sign(z - T (x) 1)`` in the separable block and the head.

        See :func:`eegbin.nn.with_binary_features`.
        """
        return self._new(compress.with_binary_features(self.params, separable, head))

    # ------------------------------------------------------------------ footprint
    def footprint(self, float_bits=32, n_times=None, *, act_bits=None, output="softmax",
                  reordered=False, convention="eegbin"):
        """Parameters and operations per inference, per layer like Hersche Table II.

        See :func:`eegbin.nn.eegnet_footprint` for the arguments.
        """
        return eegnet_footprint(self.params, float_bits, n_times, act_bits=act_bits,
                                output=output, reordered=reordered, convention=convention)

    random_weights = staticmethod(_random_braindecode_weights)

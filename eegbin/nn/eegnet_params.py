"""The parameters of a trained EEGNet: one immutable object, read by everything else.

:class:`EEGNetParams` holds every tensor and every size the eval-mode forward pass
needs, in one framework-neutral layout, whatever file they came from (braindecode,
Keras, ONNX): the layout readers (:mod:`eegbin.nn.eegnet_layouts`) build it, the
forward pass (:mod:`eegbin.nn.eegnet_forward`) is a pure function of it and the
input, each compression (:mod:`eegbin.nn.eegnet_compress`) maps it to a new one,
and the footprint is computed from it. Its arrays are read-only float64 copies.

The network (Lawhern et al. 2018), per trial ``x`` of shape (C, T):

1. temporal convolution: ``F1`` kernels ``temporal`` of ``K1`` samples, zero padding
   ``pad_temporal``, then ``temporal_bn``;
2. depthwise spatial convolution: ``F1*D`` filters ``spatial`` over the input
   channels ``channels`` (filter ``o`` reads temporal map ``o // D``), plus
   ``spatial_bias``, then ``spatial_bn``, ELU, average pooling by ``pool1``;
3. separable convolution: ``F1*D`` depthwise kernels ``depth`` of ``K3`` samples
   (padding ``pad_depth``), pointwise mixing ``point`` to ``F2`` maps plus
   ``point_bias``, then ``separable_bn``, ELU, average pooling by ``pool2``;
4. head on the flattened ``F2 * T'`` features (feature ``f * T' + t``): a dense layer
   (:class:`DenseHead`) or a product-quantized one
   (:class:`~eegbin.quantize.ProductQuantizer`).

A batch norm is an :class:`Affine` per map (``scale * z + shift``), or None once
folded into the convolutions. ``elu_table`` replaces the exponential of the ELU by an
interpolated table; ``fixed_point`` records the fixed-point grid of a quantized model
(its weights are stored on that grid).

References
----------
Lawhern et al. 2018 (the architecture) and Feng et al., Sections III (channel
selection, normalization merging, PQ head) and V: the papers cited by :class:`~eegbin.nn.EEGNet`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from ..kernels.checks import check_int, check_real_array
from ..quantize import ProductQuantizer

__all__ = ["EEGNetParams", "Affine", "DenseHead", "EluTable", "FixedPoint", "BinaryFeatures",
           "ACTIVATION_STAGES", "params_from_layers"]


def _frozen(a, dtype=np.float64):
    a = np.array(a, dtype=dtype, copy=True)
    a.flags.writeable = False
    return a


class _Record:
    """Frozen-dataclass mixin: arrays become read-only copies; pickling goes through __init__."""

    _arrays = ()

    def __post_init__(self):
        for name in self._arrays:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen(value))

    def __reduce__(self):
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))


@dataclass(frozen=True, eq=False)
class Affine(_Record):
    """Per-map affine map ``scale * z + shift`` (an eval-mode batch norm, Feng eq. 2-3).

    Parameters
    ----------
    scale, shift : ndarray of shape (n_maps,)
    """

    scale: np.ndarray
    shift: np.ndarray
    _arrays = ("scale", "shift")


def _scale_shift(bn, n):
    """``(scale, shift)`` of the affine map ``bn``, or of the identity on ``n`` maps if None."""
    return (bn.scale, bn.shift) if bn is not None else (np.ones(n), np.zeros(n))


@dataclass(frozen=True, eq=False)
class DenseHead(_Record):
    """Dense classifier on the flattened features: ``logits = weight @ f + bias``.

    Parameters
    ----------
    weight : ndarray of shape (n_classes, F2 * T')
        Feature ``f * T' + t`` is map ``f`` at pooled time ``t``.
    bias : ndarray of shape (n_classes,)
    """

    weight: np.ndarray
    bias: np.ndarray
    _arrays = ("weight", "bias")

    def __post_init__(self):
        super().__post_init__()
        if self.weight.ndim != 2 or self.bias.shape != (self.weight.shape[0],):
            raise ValueError(
                f"head weight must be (n_classes, n_features) and bias (n_classes,), got "
                f"{self.weight.shape} and {self.bias.shape}"
            )

    @property
    def n_outputs(self):
        return self.weight.shape[0]

    @property
    def n_features(self):
        return self.weight.shape[1]


@dataclass(frozen=True, eq=False)
class EluTable(_Record):
    """Negative branch of the ELU from a table: ``expm1`` at the increasing grid ``x``.

    Parameters
    ----------
    x : ndarray of shape (n_entries,)
        Increasing grid on ``[x_min, 0]``.
    y : ndarray of shape (n_entries,)
        ``expm1(x)``.
    """

    x: np.ndarray
    y: np.ndarray
    _arrays = ("x", "y")


@dataclass(frozen=True, eq=False)
class BinaryFeatures(_Record):
    """Thresholds binarizing the inputs of the separable block and of the head.

    The pooled maps entering the separable convolution and the features entering
    the head become ``Sign(z - T (x) 1)`` (``Sign(0) = +1``): row ``c`` of a
    threshold array is the kernel of feature map ``c``, tiled along time (DeSign
    eq. 8, the 3-D variants: one kernel per map). All-zero thresholds give plain
    Sign, BiPer's binary features.

    Parameters
    ----------
    separable : ndarray of shape (F1 * D, d1)
        Thresholds of the maps entering the separable block.
    head : ndarray of shape (F2, d2)
        Thresholds of the maps whose flattened values enter the head.
    """

    separable: np.ndarray
    head: np.ndarray
    _arrays = ("separable", "head")

    def __post_init__(self):
        super().__post_init__()
        for name in ("separable", "head"):
            a = getattr(self, name)
            if a.ndim != 2 or 0 in a.shape or not np.all(np.isfinite(a)):
                raise ValueError(f"BinaryFeatures.{name} must be a finite 2-D array "
                                 f"(n_maps, kernel length), got shape {a.shape}")


class _ReadOnlyMap(Mapping):
    """A small read-only mapping (picklable, unlike ``types.MappingProxyType``)."""

    def __init__(self, items):
        self._d = dict(items)

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def __repr__(self):
        return repr(self._d)


@dataclass(frozen=True, eq=False)
class FixedPoint(_Record):
    """The fixed-point grid of a quantized EEGNet (Feng Section V-A).

    A value ``v`` with ``f`` fractional bits is the integer ``v * 2**f`` of
    ``weight_bits`` (weights) or ``act_bits`` (biases, activations) bits.

    Parameters
    ----------
    weight_bits : int
        Bits of the weights ``temporal``, ``spatial``, ``depth``, ``point`` and the
        head weight.
    act_bits : int
        Bits of the biases and of the activations at the stages below.
    frac_bits : mapping of str to int
        Fractional bits of each stored tensor: ``temporal``, ``spatial``, ``depth``,
        ``point``, ``head_weight`` (``weight_bits``) and ``spatial_bias``,
        ``point_bias``, ``head_bias`` (``act_bits``).
    act_frac_bits : mapping of str to int
        Fractional bits of the activations rounded at each stage: ``input``,
        ``block1`` (before the first ELU), ``pool1``, ``block2`` (before the second
        ELU) and ``features``.
    """

    weight_bits: int
    act_bits: int
    frac_bits: Mapping
    act_frac_bits: Mapping

    def __post_init__(self):
        object.__setattr__(self, "frac_bits", _ReadOnlyMap(self.frac_bits))
        object.__setattr__(self, "act_frac_bits", _ReadOnlyMap(self.act_frac_bits))
        if set(self.act_frac_bits) != set(ACTIVATION_STAGES):
            raise ValueError(f"act_frac_bits must give the stages {ACTIVATION_STAGES}, got "
                             f"{tuple(self.act_frac_bits)}")


#: forward-pass stages whose activations a fixed-point model rounds
ACTIVATION_STAGES = ("input", "block1", "pool1", "block2", "features")


@dataclass(frozen=True, eq=False)
class EEGNetParams(_Record):
    """Every parameter of a trained EEGNet, immutable (see the module docstring).

    Parameters
    ----------
    temporal : ndarray of shape (F1, K1)
        Temporal convolution kernels (cross-correlation, as torch and Keras).
    spatial : ndarray of shape (F1 * D, n_chans_used)
        Depthwise spatial filters over ``channels``; filter ``o`` reads temporal map ``o // D``.
    depth : ndarray of shape (F1 * D, K3)
        Depthwise kernels of the separable convolution.
    point : ndarray of shape (F2, F1 * D)
        Pointwise kernels of the separable convolution.
    head : DenseHead or ProductQuantizer
        The classifier on the ``F2 * T'`` flattened features.
    n_chans : int
        Channels of the input trials.
    channels : ndarray of int64, shape (n_chans_used,)
        Input channels the network reads (all, or those kept by channel selection).
    pad_temporal, pad_depth : tuple of int
        Zero padding (left, right) of the two temporal convolutions.
    pool1, pool2 : int
        Average-pooling sizes (kernel = stride).
    temporal_bn, spatial_bn, separable_bn : Affine or None
        Batch norms after the temporal, spatial and separable convolutions
        (None: folded into the convolutions, or absent).
    spatial_bias : ndarray of shape (F1 * D,)
    point_bias : ndarray of shape (F2,)
        Biases of the spatial and pointwise convolutions (zero until batch norms
        are folded in).
    elu_table : EluTable or None
        None: exact ELU.
    fixed_point : FixedPoint or None
        The grid of a fixed-point model (None: real arithmetic).
    binary_features : BinaryFeatures or None
        Binarize the inputs of the separable block and the head (None: real).
    n_times : int or None
        Samples per trial the network was checked against.
    layout : str
        Where the weights came from ("braindecode", "keras", ...).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128).params
    >>> p.F1, p.D, p.F2, p.K1, p.K3, p.n_classes, p.n_out_times, p.folded
    (8, 2, 16, 64, 16, 2, 4, False)
    """

    temporal: np.ndarray
    spatial: np.ndarray
    depth: np.ndarray
    point: np.ndarray
    head: DenseHead | ProductQuantizer
    n_chans: int
    channels: np.ndarray
    pad_temporal: tuple
    pad_depth: tuple
    pool1: int
    pool2: int
    temporal_bn: Affine | None = None
    spatial_bn: Affine | None = None
    separable_bn: Affine | None = None
    spatial_bias: np.ndarray | None = None
    point_bias: np.ndarray | None = None
    elu_table: EluTable | None = None
    fixed_point: FixedPoint | None = None
    binary_features: BinaryFeatures | None = None
    n_times: int | None = None
    layout: str = "braindecode"
    _arrays = ("temporal", "spatial", "depth", "point", "spatial_bias", "point_bias")

    def __post_init__(self):
        if self.spatial_bias is None:
            object.__setattr__(self, "spatial_bias", np.zeros(np.shape(self.spatial)[0]))
        if self.point_bias is None:
            object.__setattr__(self, "point_bias", np.zeros(np.shape(self.point)[0]))
        super().__post_init__()
        object.__setattr__(self, "channels", _frozen(self.channels, np.int64))
        for name in ("n_chans", "pool1", "pool2"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "pad_temporal", tuple(int(p) for p in self.pad_temporal))
        object.__setattr__(self, "pad_depth", tuple(int(p) for p in self.pad_depth))
        self._check_shapes()

    def _check_shapes(self):
        F1, F1D, F2 = self.temporal.shape[0], self.spatial.shape[0], self.point.shape[0]
        expected = {
            "temporal": (self.temporal.ndim == 2, "(F1, K1)"),
            "spatial": (self.spatial.shape == (F1D, len(self.channels)) and F1D % F1 == 0,
                        f"(F1*D, {len(self.channels)} channels used), F1*D a multiple of F1={F1}"),
            "depth": (self.depth.ndim == 2 and self.depth.shape[0] == F1D, f"({F1D}, K3)"),
            "point": (self.point.shape == (F2, F1D), f"(F2, {F1D})"),
            "spatial_bias": (self.spatial_bias.shape == (F1D,), f"({F1D},)"),
            "point_bias": (self.point_bias.shape == (F2,), f"({F2},)"),
        }
        for name, (ok, shape) in expected.items():
            if not ok:
                raise ValueError(f"EEGNet parameter {name} has shape {getattr(self, name).shape}, "
                                 f"expected {shape}")
        for name, bn, n in (("temporal_bn", self.temporal_bn, F1), ("spatial_bn", self.spatial_bn, F1D),
                            ("separable_bn", self.separable_bn, F2)):
            if bn is not None and (bn.scale.shape != (n,) or bn.shift.shape != (n,)):
                raise ValueError(f"EEGNet parameter {name} must hold {n} scales and shifts, "
                                 f"got {bn.scale.shape} and {bn.shift.shape}")
        bf = self.binary_features
        if bf is not None and (bf.separable.shape[0] != F1D or bf.head.shape[0] != F2):
            raise ValueError(f"binary_features must hold {F1D} separable and {F2} head kernels, "
                             f"got {bf.separable.shape[0]} and {bf.head.shape[0]}")
        if self.head.n_features % F2:
            raise ValueError(f"the head reads {self.head.n_features} features, not a multiple of "
                             f"F2={F2}")
        if len(self.channels) and (self.channels.min() < 0 or self.channels.max() >= self.n_chans):
            raise ValueError(f"channels must index the {self.n_chans} input channels, got "
                             f"{self.channels.tolist()}")

    # architecture, read from the tensors
    @property
    def F1(self):
        return self.temporal.shape[0]

    @property
    def D(self):
        return self.spatial.shape[0] // self.F1

    @property
    def F2(self):
        return self.point.shape[0]

    @property
    def K1(self):
        return self.temporal.shape[1]

    @property
    def K3(self):
        return self.depth.shape[1]

    @property
    def n_classes(self):
        return self.head.n_outputs

    @property
    def n_features(self):
        """Length ``F2 * T'`` of the flattened features before the head."""
        return self.head.n_features

    @property
    def n_out_times(self):
        """Pooled samples ``T'`` per feature map."""
        return self.n_features // self.F2

    @property
    def folded(self):
        """True when no batch norm is left (all folded into the convolutions)."""
        return self.temporal_bn is None and self.spatial_bn is None and self.separable_bn is None

    def lengths(self, n_times):
        """Samples after each stage for trials of ``n_times`` samples.

        Returns
        -------
        t1, p1, t2, p2 : int
            After the temporal convolution, the first pooling, the separable
            convolution and the second pooling (``p2`` must equal ``n_out_times``).
        """
        t1 = n_times + sum(self.pad_temporal) - self.K1 + 1
        p1 = t1 // self.pool1
        t2 = p1 + sum(self.pad_depth) - self.K3 + 1
        return t1, p1, t2, t2 // self.pool2


def params_from_layers(*, temporal, spatial, depth, point, head, pad_temporal, pad_depth, pool1,
                       pool2, temporal_bias=None, temporal_bn=None, spatial_bias=None,
                       spatial_bn=None, depth_bias=None, point_bias=None, separable_bn=None,
                       layout):
    """:class:`EEGNetParams` from the layers of a file, convolution biases folded in.

    Files may give the convolutions biases (an exporter that folded batch norms into
    them, a Keras layer with ``use_bias=True``). The parameters keep only two, exactly:
    a temporal bias ``b`` becomes part of the temporal batch norm's shift
    (``s * (z + b) + t``) or, without one, of the spatial bias (the spatial filters
    sum it over channels: ``b[o // D] * sum_c spatial[o, c]``, padding included since
    a convolution adds its bias to every output); a depthwise bias ``d`` of the
    separable block becomes ``point @ d`` in the pointwise bias.

    Parameters
    ----------
    temporal, spatial, depth, point : ndarray
        Kernels as in :class:`EEGNetParams`.
    head : DenseHead
    pad_temporal, pad_depth : tuple of int
    pool1, pool2 : int
    temporal_bias, spatial_bias, depth_bias, point_bias : ndarray or None
        Convolution biases of shape (F1,), (F1*D,), (F1*D,), (F2,).
    temporal_bn, spatial_bn, separable_bn : Affine or None
    layout : str

    Returns
    -------
    EEGNetParams
    """
    temporal, depth = (check_real_array(a, name, ndim=2, allow_empty=False)
                       for a, name in ((temporal, "temporal"), (depth, "depth")))
    spatial, point = (check_real_array(a, name, ndim=2, allow_empty=False).astype(np.float64)
                      for a, name in ((spatial, "spatial"), (point, "point")))
    temporal_bias, spatial_bias, depth_bias, point_bias = (
        None if b is None else check_real_array(b, name, ndim=1).astype(np.float64)
        for b, name in ((temporal_bias, "temporal_bias"), (spatial_bias, "spatial_bias"),
                        (depth_bias, "depth_bias"), (point_bias, "point_bias")))
    pool1, pool2 = check_int(pool1, "pool1", 1), check_int(pool2, "pool2", 1)
    F1, F1D = temporal.shape[0], spatial.shape[0]
    s_bias = np.zeros(F1D) if spatial_bias is None else spatial_bias
    p_bias = np.zeros(point.shape[0]) if point_bias is None else point_bias
    if temporal_bias is not None:
        b = temporal_bias
        if temporal_bn is not None:
            temporal_bn = Affine(temporal_bn.scale, temporal_bn.shift + temporal_bn.scale * b)
        else:
            s_bias = s_bias + b[np.arange(F1D) // (F1D // F1)] * spatial.sum(axis=1)
    if depth_bias is not None:
        p_bias = p_bias + point @ depth_bias
    return EEGNetParams(
        temporal=temporal, spatial=spatial, depth=depth, point=point, head=head,
        n_chans=spatial.shape[1], channels=np.arange(spatial.shape[1]),
        pad_temporal=pad_temporal, pad_depth=pad_depth, pool1=pool1, pool2=pool2,
        temporal_bn=temporal_bn, spatial_bn=spatial_bn, separable_bn=separable_bn,
        spatial_bias=s_bias, point_bias=p_bias, layout=layout,
    )

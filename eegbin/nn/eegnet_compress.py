"""Feng et al.'s compressions of EEGNet: pure functions from parameters to parameters.

Each function takes an :class:`~eegbin.nn.EEGNetParams` and returns a new one;
nothing is modified and no state is left behind. A product-quantized head is
learned on the network's features, so the compressions that change the features
or the head (:func:`select_channels`, :func:`with_elu_table`, :func:`to_fixed_point`)
refuse a network that already has one: quantize the head last (:func:`with_head`
replaces any head by a dense one).

References
----------
.. [1] L. Feng et al., "An Efficient Model-Compressed EEGNet Accelerator for
   Generalized Brain-Computer Interfaces with Near Sensor Intelligence",
   Section III (eq. 1 channel selection, eq. 2-5 normalization merging,
   product quantization of the dense layer) and Section V (fixed point, ELU table).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..kernels.checks import check_allocation, check_epochs, check_int, check_real, check_real_array
from ..quantize import auto_frac_bits, from_fixed_point, learn_product_quantizer, to_fixed_point
from .eegnet_forward import activation_ranges
from .eegnet_params import BinaryFeatures, DenseHead, EluTable, FixedPoint, _scale_shift

__all__ = [
    "fold_batchnorm",
    "spatial_channel_scores",
    "select_channels",
    "with_elu_table",
    "with_pq_head",
    "with_fixed_point",
    "with_head",
    "with_binary_features",
]


def _require_dense_head(params, what):
    if not isinstance(params.head, DenseHead):
        raise ValueError(
            f"{what} changes the features the product-quantized head was learned on: "
            "apply it before with_pq_head (or replace the head with with_head first)"
        )


def fold_batchnorm(params):
    """Merge the batch norms into the convolutions (Feng Section III-C).

    The same function (to float rounding): the temporal batch norm's scale goes into
    the temporal kernels and its shift, carried through the spatial filters, into the
    spatial bias (Feng eq. 5 keeps a subtraction before the spatial convolution;
    folding it too removes it); the spatial batch norm goes into the spatial filters
    and their bias, the separable one into the pointwise convolution and its bias.

    Parameters
    ----------
    params : EEGNetParams

    Returns
    -------
    EEGNetParams
        With ``folded`` True (no batch norm left).

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0)).params
    >>> p.folded, fold_batchnorm(p).folded
    (False, True)
    """
    if params.folded:
        return params
    F1, F1D = params.F1, params.F1 * params.D
    s0, b0 = _scale_shift(params.temporal_bn, F1)
    s1, b1 = _scale_shift(params.spatial_bn, F1D)
    s2, b2 = _scale_shift(params.separable_bn, params.F2)
    grp = np.repeat(np.arange(F1), params.D)
    return replace(
        params,
        temporal=params.temporal * s0[:, None],
        spatial=params.spatial * s1[:, None],
        spatial_bias=s1 * (b0[grp] * params.spatial.sum(axis=1) + params.spatial_bias) + b1,
        point=params.point * s2[:, None],
        point_bias=s2 * params.point_bias + b2,
        temporal_bn=None, spatial_bn=None, separable_bn=None,
    )


def spatial_channel_scores(params):
    """ℓ1 norm of each input channel's spatial weights, Feng eq. (1).

    Parameters
    ----------
    params : EEGNetParams

    Returns
    -------
    scores : ndarray of shape (n_chans_used,)
        ``l1_ic = sum_j |w_ic^j|`` over the F1*D spatial kernels (after max-norm).

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> spatial_channel_scores(EEGNet(EEGNet.random_weights(4, 128, 2, rng=0)).params).shape
    (4,)
    """
    return np.abs(params.spatial).sum(axis=0)


def select_channels(params, n_selected):
    """Keep the ``n_selected`` channels with the largest ℓ1 spatial norm (Feng eq. 1).

    The network still takes all ``n_chans`` input channels and reads only the
    selected ones (``channels``); its temporal-convolution cost drops by
    ``n_selected / n_chans``. Feng retrains after selection; here re-fit the head
    (:class:`eegbin.EEGNetClassifier` does it with ``refit_head=True``).

    Parameters
    ----------
    params : EEGNetParams
    n_selected : int
        Number C_s of channels kept.

    Returns
    -------
    EEGNetParams
        With ``spatial`` and ``channels`` cut to the selected channels.

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> select_channels(EEGNet(EEGNet.random_weights(4, 128, 2, rng=0)).params, 2).channels.size
    2
    """
    n_selected = check_int(n_selected, "n_selected", 1, len(params.channels))
    _require_dense_head(params, "select_channels")
    keep = np.sort(np.argsort(-spatial_channel_scores(params), kind="stable")[:n_selected])
    return replace(params, spatial=params.spatial[:, keep], channels=params.channels[keep])


def with_elu_table(params, n_entries=256, x_min=-8.0):
    """ELU whose negative branch is a ``n_entries``-point interpolated table (Feng V-B).

    Parameters
    ----------
    params : EEGNetParams
    n_entries : int, default=256
        Table points on ``[x_min, 0]``; interpolation error <= h**2 / 8.
    x_min : float, default=-8.0
        Below it the table saturates at ``expm1(x_min)`` (error < exp(x_min)).

    Returns
    -------
    EEGNetParams
        With ``elu_table`` set: the ELUs read the interpolated table.

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> with_elu_table(EEGNet(EEGNet.random_weights(4, 128, 2, rng=0)).params).elu_table.x.size
    256
    """
    n_entries = check_int(n_entries, "n_entries", 2)
    check_allocation(16 * n_entries, f"an ELU table of {n_entries} points", "n_entries")
    x_min = check_real(x_min, "x_min", high=0, high_open=True)
    _require_dense_head(params, "with_elu_table")
    grid = np.linspace(x_min, 0.0, n_entries)
    return replace(params, elu_table=EluTable(grid, np.expm1(grid)))


def with_pq_head(params, features, n_subspaces="auto", n_prototypes=16, lut_bits=8):
    """Product-quantized dense layer learned on ``features`` (Feng III-D).

    The flattened features are split into ``n_subspaces`` sub-vectors, each
    hashed by a balanced binary regression tree (4 comparisons, 16 leaves) to
    a row of a precomputed table ``prototype . weights``; the logits are sums of
    ``n_subspaces`` table entries (:func:`eegbin.quantize.learn_product_quantizer`).

    Parameters
    ----------
    params : EEGNetParams
        With a dense head (the layer to quantize).
    features : ndarray of shape (n_trials, F2 * T')
        Features of training trials (:func:`~eegbin.nn.eegnet_forward.eegnet_features`).
    n_subspaces : int or "auto", default="auto"
        Sub-vectors m; "auto" is ``min(8, F2 * T')`` (Feng: m = 8).
    n_prototypes : int, default=16
    lut_bits : int or None, default=8

    Returns
    -------
    EEGNetParams
        Whose ``head`` is a :class:`~eegbin.quantize.ProductQuantizer`.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> net = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128)
    >>> F = net.features(np.random.default_rng(0).standard_normal((40, 4, 128)))
    >>> with_pq_head(net.params, F).head.n_subspaces
    8
    """
    if not isinstance(params.head, DenseHead):
        raise ValueError("with_pq_head needs a dense head, the head is already product-quantized")
    features = check_real_array(features, "features", ndim=2, allow_empty=False).astype(np.float64)
    if features.shape[1] != params.n_features:
        raise ValueError(
            f"features must have shape (n_trials, {params.n_features}), got {features.shape}"
        )
    pq = learn_product_quantizer(features, params.head.weight.T, params.head.bias,
                                 n_subspaces=n_subspaces, n_prototypes=n_prototypes,
                                 lut_bits=lut_bits)
    return replace(params, head=pq)


def _on_grid(a, bits):
    """``a`` rounded to the signed ``bits``-bit grid whose step is the largest holding max|a|."""
    f = auto_frac_bits(float(np.max(np.abs(a))) if np.size(a) else 0.0, bits)
    return from_fixed_point(to_fixed_point(a, bits, f), f), f


def with_fixed_point(params, X_calib, weight_bits=8, act_bits=16, *, algorithm="reordered"):
    """Fixed point: ``weight_bits`` weights, ``act_bits`` feature maps (Feng V-A).

    Batch norms are folded first; every weight tensor is rounded to a signed
    ``weight_bits`` grid (biases to ``act_bits``) with its own power-of-two step
    (the largest that holds its largest magnitude, :func:`eegbin.quantize.auto_frac_bits`);
    the activations of each stage are given ``act_bits``-bit steps calibrated on
    ``X_calib`` (:func:`~eegbin.nn.eegnet_forward.activation_ranges` of the model with
    rounded weights). The forward pass then rounds them, saturating beyond: what an
    integer datapath with wide accumulators computes.

    Parameters
    ----------
    params : EEGNetParams
        With a dense head.
    X_calib : ndarray of shape (n_trials, n_chans, n_times)
        Calibration trials for the activation ranges.
    weight_bits : int, default=8
    act_bits : int, default=16
    algorithm : {"reordered", "reference"}, default="reordered"
        Forward algorithm of the calibration.

    Returns
    -------
    EEGNetParams
        Folded, weights on their grids, ``fixed_point`` set.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> net = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128)
    >>> q = with_fixed_point(net.params, np.random.default_rng(0).standard_normal((8, 4, 128)))
    >>> q.fixed_point.weight_bits, q.fixed_point.act_bits, q.folded
    (8, 16, True)
    """
    _require_dense_head(params, "to_fixed_point")
    weight_bits = check_int(weight_bits, "weight_bits", 2, 64)
    act_bits = check_int(act_bits, "act_bits", 2, 64)
    X_calib = check_epochs(X_calib, "X_calib", n_channels=params.n_chans, estimator="EEGNet")
    folded = fold_batchnorm(replace(params, fixed_point=None))
    tensors = {
        "temporal": (folded.temporal, weight_bits), "spatial": (folded.spatial, weight_bits),
        "depth": (folded.depth, weight_bits), "point": (folded.point, weight_bits),
        "head_weight": (folded.head.weight, weight_bits),
        "spatial_bias": (folded.spatial_bias, act_bits), "point_bias": (folded.point_bias, act_bits),
        "head_bias": (folded.head.bias, act_bits),
    }
    rounded = {name: _on_grid(a, bits) for name, (a, bits) in tensors.items()}
    grid = {name: a for name, (a, _) in rounded.items()}
    quantized = replace(
        folded, temporal=grid["temporal"], spatial=grid["spatial"], depth=grid["depth"],
        point=grid["point"], spatial_bias=grid["spatial_bias"], point_bias=grid["point_bias"],
        head=DenseHead(grid["head_weight"], grid["head_bias"]),
    )
    ranges = activation_ranges(quantized, X_calib, algorithm=algorithm)
    return replace(quantized, fixed_point=FixedPoint(
        weight_bits=int(weight_bits), act_bits=int(act_bits),
        frac_bits={name: f for name, (_, f) in rounded.items()},
        act_frac_bits={k: auto_frac_bits(v, act_bits) for k, v in ranges.items()},
    ))


def with_head(params, weight, bias):
    """Replace the head by a dense one.

    Parameters
    ----------
    params : EEGNetParams
    weight : ndarray of shape (n_classes, F2 * T')
    bias : ndarray of shape (n_classes,)

    Returns
    -------
    EEGNetParams
        With a dense head of ``weight`` and ``bias``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0)).params
    >>> with_head(p, np.zeros((3, p.n_features)), np.zeros(3)).n_classes
    3
    """
    weight = check_real_array(weight, "weight", ndim=2, allow_empty=False).astype(np.float64)
    bias = check_real_array(bias, "bias", ndim=1).astype(np.float64)
    if weight.shape[1] != params.n_features:
        raise ValueError(f"weight must have shape (n_classes, {params.n_features}), got {weight.shape}")
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return replace(params, head=DenseHead(weight, bias))


def with_binary_features(params, separable, head):
    """Binarize the inputs of the separable block and of the head (binary features).

    A network trained with binary features (:class:`eegbin.train.EEGNet`
    ``activations="binary"``, BiPer's, or ``"design"``, DeSign's) reads ``Sign(z - T
    (x) 1)`` there; the thresholds of its export are what this takes.

    Parameters
    ----------
    params : EEGNetParams
    separable : array_like of shape (F1 * D, d1)
        Per-map threshold kernels of the separable block's inputs (zeros: Sign).
    head : array_like of shape (F2, d2)
        Per-map threshold kernels of the head's inputs.

    Returns
    -------
    EEGNetParams
        With ``binary_features`` set to the two threshold kernels.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0)).params
    >>> b = with_binary_features(p, np.zeros((16, 1)), np.zeros((16, 1)))
    >>> b.binary_features.head.shape
    (16, 1)

    References
    ----------
    BiPer, Section 5.1.3 (binary features); DeSign, eq. (8) and Section IV-C.
    """
    _require_dense_head(params, "with_binary_features")
    separable = check_real_array(separable, "separable", ndim=2)
    head = check_real_array(head, "head", ndim=2)
    return replace(params, binary_features=BinaryFeatures(separable, head))

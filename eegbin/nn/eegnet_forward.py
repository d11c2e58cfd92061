"""EEGNet's eval-mode forward pass and its cost, pure functions of :class:`EEGNetParams`.

Two algorithms compute the same function up to float rounding:

- ``"reference"``: the layer order of the network (``F1`` temporal convolutions of
  every channel, batch norm, spatial filters, batch norm);
- ``"reordered"`` (default): everything before the first ELU is linear, so the EEG
  channels are mixed first (``F1*D`` spatial filters with the batch-norm scales folded
  in) and ``F1*D`` single-channel FFT filters follow, at about a tenth of the
  dominant cost.

A fixed-point model (``params.fixed_point``) rounds the activations of each stage of
:data:`~eegbin.nn.eegnet_params.ACTIVATION_STAGES` to its grid.

References
----------
.. [1] V. J. Lawhern et al., "EEGNet: a compact convolutional neural network
   for EEG-based brain-computer interfaces", J. Neural Eng. 15, 2018.
.. [2] M. Hersche et al., "Binarization Methods for Motor-Imagery Brain-Computer
   Interface Classification", IEEE JETCAS 2020, Table II (per-layer cost).
"""

from __future__ import annotations

import numpy as np

from ..footprint import Footprint, check_convention
from ..kernels.checks import check_epochs, check_int
from ..quantize import dithered_sign, from_fixed_point, pq_footprint, pq_transform, to_fixed_point
from .eegnet_params import DenseHead, _scale_shift
from .layers import avg_pool_time, elu, elu_table, temporal_filter

__all__ = ["eegnet_features", "eegnet_logits", "activation_ranges", "eegnet_footprint"]

_ALGORITHMS = ("reordered", "reference")


def _check_trials(params, X):
    """``X`` as epochs the network accepts (n_trials, n_chans, T with the right T'), or an error."""
    if not isinstance(X, np.ndarray):
        raise TypeError(
            f"X must be a numpy array of shape (n_trials, n_chans, n_times), got {type(X).__name__}"
        )
    # one memory layout, so a Fortran-order or strided X gives the bits of C order
    # (numpy 2.0's reductions sum in the order of the layout)
    X = np.ascontiguousarray(check_epochs(X, n_channels=params.n_chans, estimator="EEGNet"))
    if params.lengths(X.shape[2])[-1] != params.n_out_times:
        raise ValueError(
            f"X has {X.shape[2]} samples per trial, the classifier expects "
            f"{params.n_out_times} pooled samples (n_times={params.n_times})"
        )
    return X


def _no_rounding(z, stage):
    return z


def _stage_rounding(params, dtype):
    """The activation rounding of a fixed-point model (identity for a real one)."""
    fp = params.fixed_point
    if fp is None:
        return _no_rounding

    def rounded(z, stage):
        f = fp.act_frac_bits[stage]
        return from_fixed_point(to_fixed_point(z, fp.act_bits, f), f).astype(dtype)

    return rounded


def _linear_block(params, X, dt, algorithm):
    """Output of the spatial block before the first ELU, shape (n, F1*D, T1)."""
    X = X[:, params.channels] if len(params.channels) != X.shape[1] else X
    F1, F1D = params.F1, params.F1 * params.D
    s0, b0 = _scale_shift(params.temporal_bn, F1)
    s1, b1 = _scale_shift(params.spatial_bn, F1D)
    grp = np.repeat(np.arange(F1), params.D)  # temporal map read by each spatial filter
    if algorithm == "reference":
        y = np.stack([temporal_filter(X, np.tile(params.temporal[f], (X.shape[1], 1)).astype(dt),
                                      *params.pad_temporal) for f in range(F1)], axis=1)
        y = y * s0[:, None, None].astype(dt) + b0[:, None, None].astype(dt)
        z = np.einsum("oc,noct->not", params.spatial.astype(dt), y[:, grp])
        z = z + params.spatial_bias[:, None].astype(dt)
        return z * s1[:, None].astype(dt) + b1[:, None].astype(dt)
    # linear block folded and reordered: spatial mixing, then one filter per map
    ws = (s1[:, None] * params.spatial).astype(dt)
    kern = s0[grp, None] * params.temporal[grp]
    bias = s1 * (b0[grp] * params.spatial.sum(axis=1) + params.spatial_bias) + b1
    # a fixed-point model sums exactly (grid values, float64): the FFT's rounding would decide
    # the activations that fall half-way between two steps of the block1 grid
    method = "fft" if params.fixed_point is None else "direct"
    z = temporal_filter(np.matmul(ws, X), kern, *params.pad_temporal, method=method)
    z += bias[:, None].astype(dt)
    return z


def _activation(params, z):
    return elu(z) if params.elu_table is None else elu_table(z, params.elu_table.x, params.elu_table.y)


def _binarized(params, z, which):
    """``Sign(z - T (x) 1)`` with the per-map thresholds of ``params.binary_features``."""
    bf = params.binary_features
    if bf is None:
        return z
    return dithered_sign(z, getattr(bf, which), axes=(1, 2))


def _features(params, X, dt, algorithm, at_stage):
    """Flattened features; ``at_stage(z, name)`` sees (and may round) every stage."""
    z = at_stage(_linear_block(params, at_stage(X, "input"), dt, algorithm), "block1")
    z = at_stage(avg_pool_time(_activation(params, z), params.pool1), "pool1")
    z = _binarized(params, z, "separable")
    z = temporal_filter(z, params.depth, *params.pad_depth)
    z = np.matmul(params.point.astype(dt), z) + params.point_bias[:, None].astype(dt)
    if params.separable_bn is not None:
        s2, b2 = params.separable_bn.scale, params.separable_bn.shift
        z = z * s2[:, None].astype(dt) + b2[:, None].astype(dt)
    z = at_stage(avg_pool_time(_activation(params, at_stage(z, "block2")), params.pool2), "features")
    return _binarized(params, z, "head").reshape(z.shape[0], -1)


def _check_options(dtype, algorithm):
    """The numpy dtype of ``dtype``, after checking both execution options."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algorithm must be 'reordered' or 'reference', got {algorithm!r}")
    return dt


def eegnet_features(params, X, *, dtype="float32", algorithm="reordered"):
    """Flattened features before the head, shape (n_trials, F2 * T').

    Order: feature ``f * T' + t`` (braindecode's channels-first order). With
    ``params.binary_features`` they are the +-1 values the head reads.

    Parameters
    ----------
    params : EEGNetParams
    X : ndarray of shape (n_trials, n_chans, n_times)
    dtype : {"float32", "float64"}, default="float32"
        Arithmetic precision (torch runs float32).
    algorithm : {"reordered", "reference"}, default="reordered"

    Returns
    -------
    features : ndarray of shape (n_trials, F2 * T'), dtype ``dtype``
        The input of the head: the pooled maps of the separable block, flattened.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128).params
    >>> eegnet_features(p, np.zeros((3, 4, 128))).shape
    (3, 64)
    """
    dt = _check_options(dtype, algorithm)
    X = _check_trials(params, X).astype(dt, copy=False)
    return _features(params, X, dt, algorithm, _stage_rounding(params, dt))


def eegnet_logits(params, X, *, dtype="float32", algorithm="reordered"):
    """Logits of the network (no softmax, as braindecode's EEGNet).

    Parameters
    ----------
    params : EEGNetParams
    X : ndarray of shape (n_trials, n_chans, n_times)
    dtype : {"float32", "float64"}, default="float32"
    algorithm : {"reordered", "reference"}, default="reordered"

    Returns
    -------
    logits : ndarray of shape (n_trials, n_classes), dtype ``dtype``
        The head's output; their softmax is the class probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128).params
    >>> eegnet_logits(p, np.zeros((3, 4, 128))).shape
    (3, 2)
    """
    F = eegnet_features(params, X, dtype=dtype, algorithm=algorithm)
    dt = F.dtype
    if isinstance(params.head, DenseHead):
        return F @ params.head.weight.astype(dt).T + params.head.bias.astype(dt)
    return pq_transform(params.head, F.astype(np.float64)).astype(dt)


def activation_ranges(params, X, *, algorithm="reordered"):
    """Largest magnitude of the activations at each stage (float64, no rounding).

    The calibration of a fixed-point model: the ranges of the float stages of
    ``params`` (with its weights as they are) over the trials ``X``.

    Parameters
    ----------
    params : EEGNetParams
    X : ndarray of shape (n_trials, n_chans, n_times)
    algorithm : {"reordered", "reference"}, default="reordered"

    Returns
    -------
    ranges : dict of str to float
        One entry per stage of :data:`~eegbin.nn.eegnet_params.ACTIVATION_STAGES`.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128).params
    >>> sorted(activation_ranges(p, np.ones((2, 4, 128))))
    ['block1', 'block2', 'features', 'input', 'pool1']
    """
    _check_options("float64", algorithm)
    X = _check_trials(params, X).astype(np.float64)
    ranges = {}

    def record(z, stage):
        ranges[stage] = max(ranges.get(stage, 0.0), float(np.max(np.abs(z))))
        return z

    _features(params, X, np.dtype(np.float64), algorithm, record)
    return ranges


def _hersche2020_footprint(params, fb, n_times, note):
    """Table II's count: the four weight layers, their MACs at the input length.

    The paper counts the convolutions' multiply-accumulates on ``T`` samples (the
    temporal and depthwise convolutions), ``T // pool1`` (the separable one) and the
    dense layer on the features; batch norm, ELU, pooling and softmax cost nothing,
    and the batch norms' four values per map are stored with the convolutions.
    """
    C, F1, F1D, F2 = len(params.channels), params.F1, params.F1 * params.D, params.F2
    t2 = n_times // params.pool1
    bn = lambda present, n: 4 * n if present is not None else 0  # noqa: E731
    parts = (
        Footprint("Temp. convolution", F1 * params.K1 + bn(params.temporal_bn, F1), fb,
                  macs=F1 * C * n_times * params.K1),
        Footprint("Depw. convolution", F1D * C + bn(params.spatial_bn, F1D), fb,
                  macs=F1D * C * n_times),
        Footprint("Sep. convolution", F1D * params.K3 + F2 * F1D + bn(params.separable_bn, F2), fb,
                  macs=F1D * t2 * (params.K3 + F2)),
    )
    head = params.head
    if isinstance(head, DenseHead):
        fc = Footprint("FC", head.n_outputs * (head.n_features + 1), fb,
                       macs=head.n_outputs * head.n_features)
    else:
        fc = Footprint("FC (product quantized)", parts=pq_footprint(head, fb).parts)
    return Footprint("EEGNet", parts=parts + (fc,),
                     note=note + "; counting conventions of Hersche et al. 2020, Table II")


def eegnet_footprint(params, float_bits=32, n_times=None, *, act_bits=None, output="softmax",
                     reordered=False, convention="eegbin"):
    """Parameters and operations per inference, per layer like Hersche Table II.

    MACs of the convolutions and the dense layer are counted as in Table II
    (temporal: F1*C*T1*K1; depthwise: F1*D*C*T1; separable: F1*D*T2*(K3+F2);
    FC: n_classes*F2*T'); batch norm (one multiply-add per value), ELU (one
    operation per value), pooling (one addition per input value) and the
    output (softmax: one exponential per class; "max": none) are separate rows.

    Parameters
    ----------
    params : EEGNetParams
    float_bits : int, default=32
        Bits per stored real parameter (16 for Table II). A fixed-point model
        counts its weights at ``weight_bits`` and its biases at ``act_bits`` (the
        grids they are stored on); its product-quantized head, which is real-valued,
        at ``float_bits``.
    n_times : int, optional
        Samples per trial (default: ``params.n_times``).
    act_bits : int, optional
        Activation width, recorded in the note (a fixed-point model: its own).
    output : {"softmax", "max"}, default="softmax"
    reordered : bool, default=False
        Count what the reordered forward pass computes: the linear block as
        F1*D spatial filters on the input (F1*D*C*T MACs) followed by F1*D
        single-channel temporal filters with the batch norms folded in
        (F1*D*K1*T1 MACs plus a bias), instead of the network's layer order.
    convention : {"eegbin", "hersche2020"}, default="eegbin"
        ``"hersche2020"`` counts as Table II: the convolutions' and the dense
        layer's MACs on ``T``, ``T // pool1`` samples (not the padded lengths
        eegbin computes, ``T + 1`` for an even kernel), nothing for batch norm,
        ELU, pooling and softmax (EEGNet on 22 x 1125 trials, pools 8 and 8:
        5.26 kB and 13 140 768 MACs in float16, Table II's rows 1.09 / 0.83 /
        1.15 / 2.18 kB and 12 672 000 / 396 000 / 71 680 / 1 088 MACs).
        Parts: the four layers.

    Returns
    -------
    Footprint
        Parts: temporal block, depthwise block, separable block, FC, output.

    Examples
    --------
    >>> from eegbin.nn import EEGNet
    >>> p = EEGNet(EEGNet.random_weights(4, 128, 2, rng=0), n_times=128).params
    >>> [part.name for part in eegnet_footprint(p).parts]
    ['Temp. convolution', 'Depw. convolution', 'Sep. convolution', 'FC', 'softmax']
    """
    float_bits = check_int(float_bits, "float_bits", 1)
    act_bits = None if act_bits is None else check_int(act_bits, "act_bits", 1)
    n_times = params.n_times if n_times is None else check_int(n_times, "n_times", 1)
    if n_times is None:
        raise ValueError("n_times is unknown: pass n_times")
    if check_convention(convention) == "hersche2020" and reordered:
        raise ValueError("reordered=True counts eegbin's reordered forward pass; the "
                         "hersche2020 convention counts the network's layers")
    real_bits = bias_bits = float_bits
    if params.fixed_point is not None:  # weights at weight_bits, biases on their act_bits grids
        float_bits = params.fixed_point.weight_bits
        bias_bits = params.fixed_point.act_bits
        act_bits = act_bits or params.fixed_point.act_bits
    if convention == "hersche2020":
        return _hersche2020_footprint(params, float_bits, n_times,
                                      f"C={len(params.channels)}, T={n_times}")
    t1, p1, t2, p2 = params.lengths(n_times)
    C, F1, F1D, F2 = len(params.channels), params.F1, params.F1 * params.D, params.F2
    K1, K3, fb = params.K1, params.K3, float_bits

    def weights(name, n_w, n_b, macs):  # n_w weights and n_b biases (a part of their own if narrower)
        if bias_bits == fb:
            return Footprint(name, n_w + n_b, fb, macs=macs)
        return Footprint(name, n_w, fb, macs=macs, parts=(Footprint("bias", n_b, bias_bits),) if n_b else ())

    def bn(present, n, values):
        return Footprint("batch norm", 4 * n, fb, macs=values) if present is not None else None

    def block(name, *parts):
        return Footprint(name, parts=tuple(p for p in parts if p is not None))

    act = "ELU (table)" if params.elu_table is not None else "ELU"
    tbl = 2 * len(params.elu_table.x) if params.elu_table is not None else 0
    s_bias, p_bias = int(np.any(params.spatial_bias)), int(np.any(params.point_bias))
    if reordered:
        temporal = Footprint("Spatial mixing + temporal filters", parts=(
            Footprint("spatial mixing", F1D * C, fb, macs=F1D * C * n_times),
            weights("temporal filters (batch norm folded)", F1D * K1, F1D, macs=F1D * (K1 + 1) * t1),
        ))
        spatial_conv = spatial_bn = None  # the spatial filters run in the first block
    else:
        temporal = block("Temp. convolution", Footprint("conv", F1 * K1, fb, macs=F1 * C * t1 * K1),
                         bn(params.temporal_bn, F1, F1 * C * t1))
        spatial_conv = weights("conv", F1D * C, F1D * s_bias, macs=F1D * C * t1 + F1D * t1 * s_bias)
        spatial_bn = bn(params.spatial_bn, F1D, F1D * t1)
    depthwise = block("Depw. convolution", spatial_conv, spatial_bn,
                      Footprint(act, tbl, fb, macs=F1D * t1),
                      Footprint("avg pool", 0, fb, macs=F1D * p1 * params.pool1))
    separable = block(
        "Sep. convolution",
        weights("conv", F1D * K3 + F2 * F1D, F2 * p_bias,
                macs=F1D * t2 * K3 + F2 * F1D * t2 + F2 * t2 * p_bias),
        bn(params.separable_bn, F2, F2 * t2),
        Footprint(act, 0, fb, macs=F2 * t2),
        Footprint("avg pool", 0, fb, macs=F2 * p2 * params.pool2),
    )
    head = params.head
    if isinstance(head, DenseHead):
        fc = weights("FC", head.n_outputs * head.n_features, head.n_outputs,
                     macs=head.n_outputs * head.n_features)
    else:
        fc = Footprint("FC (product quantized)", parts=pq_footprint(head, real_bits).parts,
                       note=f"m={head.n_subspaces}, {head.n_prototypes} leaves")
    bf = params.binary_features
    if bf is not None:  # the thresholds (none stored for plain Sign), one comparison per value
        def stored(T):
            return T.size if np.any(T) else 0

        separable = Footprint(separable.name, parts=(
            Footprint("binarize inputs", stored(bf.separable), fb, note=f"{F1D * p1} comparisons"),
            *separable.parts))
        fc = Footprint(fc.name, parts=(
            Footprint("binarize inputs", stored(bf.head), fb, note=f"{F2 * p2} comparisons"), fc))
    out = Footprint("softmax" if output == "softmax" else "max", 0, fb,
                    macs=params.n_classes if output == "softmax" else 0)
    note = f"C={C}, T={n_times}" + (f", activations {act_bits}-bit" if act_bits else "")
    return Footprint("EEGNet", parts=(temporal, depthwise, separable, fc, out), note=note)

"""Binary 1-D convolutions through XNOR-popcount (binarized EEGNet layers).

A convolution whose weights and inputs are bipolar is a product of packed
windows: the receptive field of output ``t`` (``C`` channels x ``K`` taps, bit
``k * C + c`` = sign of ``x[c, t + k]``) is packed into words once
(:func:`pack_windows`), and every filter is one XNOR-popcount with it. With
multi-level binarized inputs (``L`` sign planes, per-sample scales) and
binarized weights (scales per filter) the convolution is
:func:`eegbin.kernels.multilevel_matmul` of the windows with the filters, in
its documented evaluation order (:func:`binary_conv1d`).

A separable convolution with binary depthwise taps ``sign(w_d[m, k])`` and binary
pointwise weights ``sign(w_p[f, m])`` and no non-linearity in between (EEGNet's
separable block) equals the full convolution with the binary kernel
``sign(w_p[f, m]) * sign(w_d[m, k])`` and the product of the two scales
(:func:`separable_to_full`): one XNOR-popcount over ``M * K`` bits per output
instead of two float passes. A binary dense layer is ``multilevel_matmul``
with one weight level.

References
----------
BiPer, eq. (8)-(10) (binary weights gamma * sign); MuBiNN, Algorithm 1 and eq. (9)
(multi-level binarized inputs, XNOR-popcount products); EEGNet (Lawhern et al.
2018), separable convolution.
"""

from __future__ import annotations

import numbers

import numpy as np
from numba import njit, prange

from .bits import _check_scales, multilevel_matmul, pack_bits
from .threads import threads

__all__ = ["pack_windows", "binary_conv1d", "separable_to_full"]

_WORD = 64


@njit(cache=True, parallel=True)
def _nb_pack_windows(bits, K):
    """bits (L, n, C, T) bool -> windows (L, n * (T - K + 1), n_words(C * K)), bit k * C + c.

    Each sample's plane is first laid out as one bit stream, time step after
    time step (bit t * C + c; every input bit written once, without branches);
    the window of output t is then the C * K bits starting at bit t * C, read
    word by word with a funnel shift.
    """
    L, n, C, T = bits.shape
    T_out = T - K + 1
    nbits = C * K
    nw = (nbits + _WORD - 1) // _WORD
    ns = (C * T + _WORD - 1) // _WORD + 1  # one spare zero word for the funnel shifts
    out = np.zeros((L, n * T_out, nw), dtype=np.uint64)
    last = np.uint64(0xFFFFFFFFFFFFFFFF) >> np.uint64((_WORD - nbits % _WORD) % _WORD)
    for job in prange(L * n):
        level = job // n
        s = job % n
        stream = np.zeros(ns, dtype=np.uint64)
        for t in range(T):
            for c in range(C):
                j = t * C + c
                stream[j // _WORD] |= np.uint64(bits[level, s, c, t]) << np.uint64(j % _WORD)
        for t in range(T_out):
            q = (t * C) // _WORD
            r = np.uint64((t * C) % _WORD)
            row = out[level, s * T_out + t]
            for w in range(nw):
                lo = stream[q + w] >> r
                hi = (stream[q + w + 1] << (np.uint64(_WORD) - r)) if r != 0 else np.uint64(0)
                row[w] = lo | hi
            row[nw - 1] &= last
    return out


def _check_kernel_size(kernel_size, T):
    if isinstance(kernel_size, (bool, np.bool_)) or not isinstance(kernel_size, numbers.Integral):
        raise TypeError(f"kernel_size must be an integer, got {type(kernel_size).__name__}")
    if not 1 <= kernel_size <= T:
        raise ValueError(f"kernel_size must be in [1, n_times={T}], got {kernel_size}")
    return int(kernel_size)


def _check_signs(signs, name="signs", axes=("levels", "samples", "channels", "times"), allow_empty=True):
    """Sign planes: an ndarray of bool (True for +1) with one dimension per name in ``axes``."""
    if not isinstance(signs, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of bool, got {type(signs).__name__}")
    if signs.ndim != len(axes):
        raise ValueError(f"{name} must be {len(axes)}-D ({', '.join(axes)}), got shape {signs.shape}")
    if signs.dtype != np.bool_:
        raise TypeError(f"{name} must be boolean (True for +1), got dtype {signs.dtype}")
    if not allow_empty and signs.size == 0:
        raise ValueError(f"{name} must not be empty (at least one of each: {', '.join(axes)}), "
                         f"got shape {signs.shape}")
    return np.ascontiguousarray(signs)


def pack_windows(signs, kernel_size, *, n_jobs=None):
    """Pack the receptive fields of a valid 1-D convolution into words.

    Parameters
    ----------
    signs : ndarray of bool, shape (L, n, C, T)
        Sign planes of the input (True for +1), e.g. the levels of a multi-level
        binarization of each sample's (C, T) map.
    kernel_size : int
        ``K``, taps per filter.
    n_jobs : int or None, default=None
        Threads (None: 1, -1: all).

    Returns
    -------
    windows : ndarray of uint64, shape (L, n * (T - K + 1), n_words(C * K))
        Row ``s * (T - K + 1) + t`` of level ``l`` holds ``signs[l, s, c, t + k]``
        at bit ``k * C + c``; padding bits are zero.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import pack_windows
    >>> s = np.array([[[[True, False, True]]]])            # L = n = C = 1, T = 3
    >>> pack_windows(s, 2)[0, :, 0]                        # windows (1, 0) and (0, 1)
    array([1, 2], dtype=uint64)
    """
    signs = _check_signs(signs)
    K = _check_kernel_size(kernel_size, signs.shape[3])
    with threads(n_jobs):
        return _nb_pack_windows(signs, K)


def binary_conv1d(signs, scales, weight_planes, weight_scales, *, n_jobs=None):
    """Valid 1-D convolution (cross-correlation) of binarized inputs and weights through XNOR-popcount.

    ``out[s, f, t] = sum_l scales[l, s] * sum_j weight_scales[j, f] *
    sum_{c, k} x_l[s, c, t + k] * w_j[f, c, k]`` with bipolar ``x_l`` and ``w_j``,
    evaluated as :func:`eegbin.kernels.multilevel_matmul` of the packed windows
    with the filters (same order, same rounding).

    Parameters
    ----------
    signs : ndarray of bool, shape (L, n, C, T)
        Sign planes of the inputs (True for +1).
    scales : ndarray, shape (L,) or (L, n)
        Scale of each plane, per tensor or per sample.
    weight_planes : ndarray of bool, shape (L_w, F, C, K)
        Sign planes of the filters (True for +1).
    weight_scales : ndarray, shape (L_w,) or (L_w, F)
    n_jobs : int or None, default=None

    Returns
    -------
    ndarray of float64, shape (n, F, T - K + 1)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import binary_conv1d
    >>> x = np.array([[[[True, False, True, True]]]])      # +1 -1 +1 +1
    >>> w = np.array([[[[True, True]]]])                    # filter (+1, +1)
    >>> binary_conv1d(x, [0.5], w, [2.0])
    array([[[0., 0., 2.]]])

    References
    ----------
    MuBiNN, eq. (9); BiPer, eq. (8)-(10).
    """
    signs = _check_signs(signs)
    if signs.shape[0] == 0:
        raise ValueError(f"signs must have at least one level, got shape {signs.shape}")
    weight_planes = _check_signs(weight_planes, "weight_planes", ("levels", "filters", "channels", "taps"),
                                 allow_empty=False)
    L, n, C, T = signs.shape
    Lw, F, Cw, K = weight_planes.shape
    if Cw != C:
        raise ValueError(f"weight_planes has {Cw} channels, signs has {C}")
    K = _check_kernel_size(K, T)
    T_out = T - K + 1
    scales = _check_scales(scales, "scales", L, n, f"signs of shape {signs.shape}")
    weight_scales = _check_scales(weight_scales, "weight_scales", Lw, F,
                                  f"weight_planes of shape {weight_planes.shape}")
    with threads(n_jobs):
        windows = _nb_pack_windows(signs, K)
    # filter bits in the windows' order, k * C + c
    filters = np.stack([pack_bits(np.ascontiguousarray(weight_planes[j].transpose(0, 2, 1).reshape(F, K * C)))
                        for j in range(Lw)])
    out = multilevel_matmul(windows, np.repeat(scales, T_out, axis=1), filters, weight_scales, C * K,
                            n_jobs=n_jobs)
    return out.reshape(n, T_out, F).transpose(0, 2, 1)


def separable_to_full(depthwise_signs, pointwise_signs):
    """Binary kernel of a separable convolution: ``sign(w_p[f, m]) * sign(w_d[m, k])``.

    Parameters
    ----------
    depthwise_signs : ndarray of bool, shape (M, K)
        Signs of the depthwise taps (one filter per input map).
    pointwise_signs : ndarray of bool, shape (F, M)
        Signs of the pointwise (1 x 1) weights.

    Returns
    -------
    ndarray of bool, shape (F, M, K)
        True where the product is +1 (XNOR of the two signs). With depthwise
        scale ``g_d`` and pointwise scale ``g_p`` the separable convolution equals
        the full convolution with this kernel and scale ``g_p * g_d``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.kernels import separable_to_full
    >>> separable_to_full(np.array([[True, False]]), np.array([[True], [False]])).astype(int)
    array([[[1, 0]],
    <BLANKLINE>
           [[0, 1]]])
    """
    d = _check_signs(depthwise_signs, "depthwise_signs", ("maps", "taps"), allow_empty=False)
    p = _check_signs(pointwise_signs, "pointwise_signs", ("filters", "maps"), allow_empty=False)
    if p.shape[1] != d.shape[0]:
        raise ValueError(f"depthwise_signs (M, K) and pointwise_signs (F, M) must share M, got {d.shape} and {p.shape}")
    return ~(p[:, :, None] ^ d[None, :, :])

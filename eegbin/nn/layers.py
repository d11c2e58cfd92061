"""Numpy layers for torch-free inference: arrays in, arrays out.

Every function here works on the last axis as time and reproduces the eval-mode
arithmetic of the corresponding PyTorch module (``nn.Conv2d`` with a (1, K)
kernel, ``nn.BatchNorm2d``, ``nn.ELU``, ``nn.AvgPool2d`` with a (1, k) kernel,
``torch.renorm``). They are the building blocks of :class:`eegbin.nn.EEGNet`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax as scipy_softmax
from sklearn.linear_model import LogisticRegression

__all__ = [
    "batchnorm_affine",
    "renorm_rows",
    "temporal_filter",
    "elu",
    "elu_table",
    "avg_pool_time",
    "softmax",
]


def batchnorm_affine(gamma, beta, running_mean, running_var, eps=1e-3):
    """Eval-mode batch norm as ``y = scale * x + shift`` (Feng eq. 2-3).

    Parameters
    ----------
    gamma, beta, running_mean, running_var : ndarray of shape (n_features,)
        Learned affine parameters and running statistics.
    eps : float, default=1e-3
        The epsilon added to the variance (braindecode and Keras use 1e-3).

    Returns
    -------
    scale, shift : ndarray of shape (n_features,)
        ``scale = gamma / sqrt(var + eps)``, ``shift = beta - mean * scale``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.layers import batchnorm_affine
    >>> batchnorm_affine(np.ones(1), np.zeros(1), np.ones(1), np.full(1, 4.0), eps=0.0)
    (array([0.5]), array([-0.5]))

    References
    ----------
    Feng et al., eq. (2)-(3): ``x_nm = a (x_in - b)``.
    """
    scale = np.asarray(gamma, dtype=np.float64) / np.sqrt(np.asarray(running_var, dtype=np.float64) + eps)
    shift = np.asarray(beta, dtype=np.float64) - np.asarray(running_mean, dtype=np.float64) * scale
    return scale, shift


def renorm_rows(w, max_norm):
    """``torch.renorm(w, p=2, dim=0, maxnorm=max_norm)`` in numpy.

    Each slice ``w[i]`` whose L2 norm exceeds ``max_norm`` is scaled by
    ``max_norm / (norm + 1e-7)``; the others are unchanged (the max-norm
    parametrization braindecode applies to EEGNet's spatial convolution).

    Parameters
    ----------
    w : ndarray of shape (n_rows, ...)
    max_norm : float

    Returns
    -------
    ndarray, same shape as ``w``.
        Rows of ``w`` whose ℓ2 norm exceeds ``max_norm`` scaled down to it (as torch).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.layers import renorm_rows
    >>> renorm_rows(np.array([[3.0, 4.0], [0.3, 0.4]]), 1.0).round(6)
    array([[0.6, 0.8],
           [0.3, 0.4]])
    """
    w = np.asarray(w)
    rows = w.reshape(w.shape[0], -1)
    norm = np.sqrt(np.sum(rows.astype(np.float64) ** 2, axis=1, keepdims=True))
    scale = np.where(norm > max_norm, max_norm / (norm + 1e-7), 1.0)
    return (rows * scale.astype(w.dtype)).reshape(w.shape)


def temporal_filter(x, kernels, pad_left, pad_right, *, method="direct"):
    """Per-channel cross-correlation along time with zero padding.

    ``out[..., c, t] = sum_k kernels[c, k] * xpad[..., c, t + k]`` where ``xpad`` is
    ``x`` zero-padded by ``pad_left``/``pad_right`` samples: a depthwise
    ``nn.Conv2d`` with a (1, K) kernel and ``padding=(0, pad)``.

    Parameters
    ----------
    x : ndarray of shape (..., n_chans, n_times)
    kernels : ndarray of shape (n_chans, K)
    pad_left, pad_right : int
    method : {"direct", "fft"}, default="direct"
        "direct" sums K shifted products (exact order of a naive convolution);
        "fft" uses an FFT convolution (faster for long kernels, float rounding).

    Returns
    -------
    ndarray of shape (..., n_chans, n_times + pad_left + pad_right - K + 1)

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.layers import temporal_filter
    >>> temporal_filter(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 1.0]]), 1, 0)
    array([[1., 3., 5.]])
    """
    x = np.asarray(x)
    kernels = np.asarray(kernels, dtype=x.dtype)
    n_ch, k = kernels.shape
    if x.shape[-2] != n_ch:
        raise ValueError(f"x has {x.shape[-2]} channels, kernels expect {n_ch}")
    pad = [(0, 0)] * (x.ndim - 1) + [(pad_left, pad_right)]
    xp = np.pad(x, pad)
    n_out = xp.shape[-1] - k + 1
    if n_out < 1:
        raise ValueError(
            f"signal of {x.shape[-1]} samples is shorter than the {k}-sample kernel needs"
        )
    if method == "fft":
        from scipy import fft as sfft

        n_fft = sfft.next_fast_len(xp.shape[-1], real=True)
        spec = sfft.rfft(xp, n_fft, axis=-1)
        spec *= sfft.rfft(kernels[:, ::-1], n_fft, axis=-1)
        # valid part of the linear convolution: circular wrap only hits the first K-1
        return sfft.irfft(spec, n_fft, axis=-1)[..., k - 1 : k - 1 + n_out]
    out = np.zeros(x.shape[:-1] + (n_out,), dtype=x.dtype)
    for j in range(k):
        out += kernels[:, j : j + 1] * xp[..., j : j + n_out]
    return out


def elu(x, alpha=1.0):
    """Exponential linear unit ``x if x > 0 else alpha * (exp(x) - 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.layers import elu
    >>> elu(np.array([-1.0, 2.0])).round(4)
    array([-0.6321,  2.    ])
    """
    x = np.asarray(x)
    neg = np.minimum(x, 0)
    np.expm1(neg, out=neg)
    if alpha != 1.0:
        neg *= alpha
    neg += np.maximum(x, 0)
    return neg


def elu_table(x, table_x, table_y):
    """ELU with its negative branch read from a table (Feng's table-driven ELU).

    Negative inputs are linearly interpolated between the table's points and
    clamped to ``table_y[0]`` below ``table_x[0]``; positive inputs pass through.

    Parameters
    ----------
    x : ndarray
    table_x : ndarray of shape (n_entries,)
        Increasing grid on ``[x_min, 0]``.
    table_y : ndarray of shape (n_entries,)
        ``expm1(table_x)``.

    Returns
    -------
    ndarray, same shape as ``x``.
        ``elu(x)`` with the negative branch interpolated in the table.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.layers import elu_table
    >>> grid = np.linspace(-8, 0, 257)
    >>> float(abs(elu_table(np.array([-1.0]), grid, np.expm1(grid))[0] - np.expm1(-1.0))) < 1e-3
    True

    References
    ----------
    Feng et al., Section V-B (two tables in the ELU module).
    """
    x = np.asarray(x)
    neg = np.interp(np.minimum(x, 0), table_x, table_y).astype(x.dtype, copy=False)
    return np.where(x > 0, x, neg)


def avg_pool_time(x, k):
    """Average pooling with kernel and stride ``k`` along the last axis (floor mode).

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.layers import avg_pool_time
    >>> avg_pool_time(np.arange(9.0), 4)
    array([1.5, 5.5])
    """
    x = np.asarray(x)
    n = x.shape[-1] // k
    if n < 1:
        raise ValueError(f"signal of {x.shape[-1]} samples is shorter than the pooling size {k}")
    # k strided additions then one division, as torch's AvgPool2d sums a window and divides
    out = x[..., 0 : n * k : k].astype(np.result_type(x.dtype, np.float32), copy=True)
    for j in range(1, k):
        out += x[..., j : n * k : k]
    out /= k
    return out


def softmax(z):
    """Row-wise softmax of logits (last axis), as :func:`scipy.special.softmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin.nn.layers import softmax
    >>> softmax(np.zeros((1, 4)))
    array([[0.25, 0.25, 0.25, 0.25]])
    """
    return scipy_softmax(np.asarray(z), axis=-1)


def _fit_softmax_head(F, y, C):
    """A dense softmax head ``(W, b)`` fitted on features ``F``: multinomial logistic regression.

    ``W`` has one row per class of ``np.unique(y)``; with two classes scikit-learn
    fits one row ``z``, written as the rows ``(-z/2, z/2)`` whose softmax is ``sigmoid(z)``.
    The re-fitted head of :class:`~eegbin.nn.EEGNetClassifier` and
    :class:`~eegbin.LSTMClassifier`.
    """
    lr = LogisticRegression(C=C, max_iter=1000).fit(F, y)
    W, b = lr.coef_, lr.intercept_
    if W.shape[0] == 1:  # binary: softmax of (-z/2, z/2) equals sigmoid(z)
        W, b = np.vstack([-W / 2, W / 2]), np.array([-b[0] / 2, b[0] / 2])
    return W, b

"""Quantizers as autograd functions: what is trained is what :mod:`eegbin.quantize` deploys.

Every forward here equals its numpy counterpart in :mod:`eegbin.quantize` (tested):
the sign convention is DESIGN.md's Heaviside rule, Sign(0) = +1.

References
----------
.. [BiPer] E. Vargas et al., "BiPer: Binary Neural Networks using a Periodic
   Function", CVPR 2024, eq. (4)-(10), (18), Section 5.1.3.
.. [DeSign] "Designed dithering Sign activation for binary neural networks",
   eq. (8).
.. [MuBiNN] "MuBiNN: multi-level binarized recurrent neural network for EEG",
   Algorithm 1 (multi-level binarization with learned scales, MuBiNN2).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..quantize import biper_scale

__all__ = [
    "sign_ste",
    "approx_sign",
    "biper_sign",
    "biper_gamma",
    "biper_weight",
    "DeSignActivation",
    "MultiLevelBinarize",
    "multilevel_binarize_ste",
    "PiecewiseLinear",
    "tile_kernel",
]


def _sign(x):
    # Sign with the Heaviside convention of DESIGN.md: Sign(0) = +1.
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, clip):
        ctx.save_for_backward(x)
        ctx.clip = clip
        return _sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # eq. (5): straight-through, cancelled outside |x| <= clip
        return grad * (x.abs() <= ctx.clip).to(grad.dtype), None


class _ApproxSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # eq. (7): 2 + 2x on [-1, 0), 2 - 2x on [0, 1), 0 elsewhere
        d = torch.where(
            (x >= -1) & (x < 0), 2 + 2 * x, torch.where((x >= 0) & (x < 1), 2 - 2 * x, 0 * x)
        )
        return grad * d


class _BiPerSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, omega):
        ctx.save_for_backward(w)
        ctx.omega = omega
        return _sign(torch.sin(omega * w))

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        # eq. (9)-(10): gradient of the first harmonic sin(omega w)
        return grad * ctx.omega * torch.cos(ctx.omega * w), None


def sign_ste(x, clip=1.0):
    """Sign(x) (Sign(0) = +1) with the clipped straight-through gradient (BiPer eq. 4-5).

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import sign_ste
    >>> x = torch.tensor([-2.0, -0.5, 0.0, 3.0], requires_grad=True)
    >>> y = sign_ste(x); y.sum().backward()
    >>> y.tolist(), x.grad.tolist()
    ([-1.0, -1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0])
    """
    return _SignSTE.apply(x, float(clip))


def approx_sign(x):
    """Sign(x) for activations with the piecewise-polynomial gradient (BiPer eq. 6-7).

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import approx_sign
    >>> x = torch.tensor([-0.5, 0.25, 2.0], requires_grad=True)
    >>> approx_sign(x).sum().backward(); x.grad.tolist()
    [1.0, 1.5, 0.0]
    """
    return _ApproxSign.apply(x)


def biper_sign(w, omega):
    """Square wave Sign(sin(omega w)) with the gradient omega cos(omega w) (BiPer eq. 8-10).

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import biper_sign
    >>> biper_sign(torch.tensor([0.5, 2.0, 4.0]), omega=1.0).tolist()
    [1.0, 1.0, -1.0]
    """
    return _BiPerSign.apply(w, float(omega))


def biper_gamma(w, omega):
    """Optimal BiPer scale gamma = E|sin(omega w)| for Laplace(0, b) weights (eq. 18).

    ``b`` is the maximum-likelihood Laplace scale ``mean(|w|)``; the value is
    detached (a statistic of the weights, not a trained parameter) and equals
    :func:`eegbin.quantize.biper_scale` ``(mean|w|, omega)``.
    """
    b = float(w.detach().abs().mean())
    return float(biper_scale(b, float(omega))) if b > 0 else 0.0


def biper_weight(w, omega, stage=2):
    """BiPer weights for training: stage 1 sin(omega w) (real), stage 2 gamma Sign(sin(omega w)).

    Two-stage schedule of BiPer Section 5.1.3: stage 1 trains real-valued weights
    ``sin(omega w)`` (with binary activations), stage 2 binarizes them with the
    square wave and the optimal scale of eq. (18).

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import biper_weight
    >>> w = torch.tensor([0.1, -0.2, 0.3])
    >>> torch.allclose(biper_weight(w, 2.0, stage=1), torch.sin(2.0 * w))
    True
    >>> biper_weight(w, 2.0, stage=2).sign().tolist()
    [1.0, -1.0, 1.0]
    """
    if stage == 1:
        return torch.sin(omega * w)
    if stage != 2:
        raise ValueError(f"stage must be 1 or 2, got {stage!r}")
    return biper_gamma(w, omega) * biper_sign(w, omega)


def tile_kernel(kernel, shape, axes):
    """Threshold map T (x) 1: ``kernel`` tiled periodically over ``axes`` of ``shape``.

    Returns a tensor broadcastable to ``shape`` whose value at index ``i`` along
    ``axes[0]`` and ``j`` along ``axes[1]`` is ``kernel[i % d0, j % d1]`` (DeSign eq. 8).
    A 1-D kernel tiles over the single axis ``axes[0]``.
    """
    kernel = torch.as_tensor(kernel)
    axes = [a % len(shape) for a in axes]
    reps = []
    view = [1] * len(shape)
    for k, ax in enumerate(axes):
        d = kernel.shape[k]
        reps.append(-(-shape[ax] // d))
    tiled = kernel.repeat(*reps)
    slices = tuple(slice(0, shape[ax]) for ax in axes)
    tiled = tiled[slices]
    for ax in axes:
        view[ax] = shape[ax]
    # place kernel axes in their positions (kernel axes are in the order of `axes`)
    order = sorted(range(len(axes)), key=lambda k: axes[k])
    tiled = tiled.permute(*order) if len(axes) > 1 else tiled
    return tiled.reshape(view)


class DeSignActivation(nn.Module):
    """Dithered sign activation Sign(x - T (x) 1) with the clipped STE gradient (DeSign eq. 8).

    Parameters
    ----------
    kernel : array-like of shape (d,) or (d, d)
        Threshold kernel (e.g. from :func:`eegbin.quantize.design_threshold_kernel`).
    axes : tuple of int
        Axes of the input over which the kernel is tiled (one per kernel axis).
    clip : float, default=1.0
        STE clipping threshold.

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import DeSignActivation
    >>> act = DeSignActivation([[0.0, 0.5], [0.5, 0.0]], axes=(-2, -1))
    >>> act(torch.full((1, 2, 2), 0.25)).tolist()
    [[[1.0, -1.0], [-1.0, 1.0]]]
    """

    def __init__(self, kernel, axes=(-2, -1), clip=1.0):
        super().__init__()
        kernel = torch.as_tensor(np.asarray(kernel), dtype=torch.float32)
        if kernel.ndim not in (1, 2) or kernel.ndim != len(axes):
            raise ValueError(
                f"kernel must be 1-D or 2-D with one axis per entry of axes, got kernel "
                f"shape {tuple(kernel.shape)} and axes {axes}"
            )
        self.register_buffer("kernel", kernel)
        self.axes = tuple(axes)
        self.clip = clip

    def forward(self, x):
        t = tile_kernel(self.kernel.to(x.dtype), x.shape, self.axes)
        return sign_ste(x - t, self.clip)


class _MultiLevelBinarize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scales, offset):
        # Algorithm 1 with the float operations of eegbin.quantize.multilevel_binarize:
        # alpha_i b_i is +-alpha_i (exact), one subtraction per level
        r = x if offset is None else x - offset
        a = scales.to(x.dtype)
        out = torch.zeros_like(x)
        planes = []
        for i in range(a.shape[0]):
            positive = r >= 0  # Sign(0) = +1
            step = torch.where(positive, a[i], -a[i])
            out = out + step
            r = r - step
            planes.append(positive)
        ctx.save_for_backward(*planes)
        ctx.scale_shape, ctx.scale_dtype = scales.shape, scales.dtype
        return out if offset is None else offset + out

    @staticmethod
    def backward(ctx, grad):
        # straight-through for x; d out / d alpha_i = b_i (the planes held constant)
        lead = grad.dim() - (len(ctx.scale_shape) - 1)
        dims = tuple(range(lead))
        g = [torch.where(p, grad, -grad) for p in ctx.saved_tensors]
        g = torch.stack([v.sum(dim=dims) if dims else v for v in g])
        return grad, g.to(ctx.scale_dtype).reshape(ctx.scale_shape), None


def multilevel_binarize_ste(x, scales, offset=None):
    """Algorithm 1 with given scales, ``offset + sum_i alpha_i Sign(r_i)``, differentiable (MuBiNN2).

    Forward: the float operations of :func:`eegbin.quantize.multilevel_binarize` with
    given scales (``r <- x - offset``; per level ``b_i = Sign(r)``, ``Sign(0) = +1``,
    ``out <- out + alpha_i b_i``, ``r <- r - alpha_i b_i``), so the values are numpy's bit
    for bit in the dtype of ``x``. Backward: straight-through for ``x``
    (``d out / d x = 1``) and ``d out / d alpha_i = b_i``.

    Parameters
    ----------
    x : Tensor
    scales : Tensor of shape (L,) or (L, x.shape[-1])
        One set per tensor, or per column (last axis) of ``x``.
    offset : float or Tensor broadcastable to ``x``, optional

    Examples
    --------
    >>> import torch
    >>> from eegbin.train.quantizers import multilevel_binarize_ste
    >>> x = torch.tensor([0.9, -0.2], requires_grad=True)
    >>> a = torch.tensor([1.0, 0.5], requires_grad=True)
    >>> y = multilevel_binarize_ste(x, a); y.sum().backward()
    >>> y.tolist(), x.grad.tolist(), a.grad.tolist()
    ([0.5, -0.5], [1.0, 1.0], [0.0, 0.0])
    """
    return _MultiLevelBinarize.apply(x, scales, offset)


class MultiLevelBinarize(nn.Module):
    """Multi-level binarization with learnable scales (MuBiNN2, Algorithm 1).

    ``r <- x - offset; for i in levels: b_i = Sign(r); out += alpha_i b_i; r <- r - alpha_i b_i``,
    returns ``offset + out`` (:func:`multilevel_binarize_ste`: ``alpha`` trainable, the
    sign's gradient passed straight through). The same float operations as
    :func:`eegbin.quantize.multilevel_binarize` with given scales (numpy and torch agree
    bit for bit in the dtype of ``x``; the float32 scales are promoted exactly to a
    float64 ``x``). Scales are initialized greedily (``alpha_i = mean|r|``) on the first
    tensor seen unless given or set by :meth:`init_scales`.

    Parameters
    ----------
    n_levels : int, default=2
    init_scales : sequence of float, optional
    offset : float, default=0.0
        The signal is binarized around it (0.5 for sigmoid outputs in MuBiNN2).

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import MultiLevelBinarize
    >>> q = MultiLevelBinarize(2, init_scales=[1.0, 0.5])
    >>> q(torch.tensor([0.9, -0.2])).tolist()
    [0.5, -0.5]
    >>> MultiLevelBinarize(1, init_scales=[0.25], offset=0.5)(torch.tensor([0.9, 0.2])).tolist()
    [0.75, 0.25]
    """

    def __init__(self, n_levels=2, init_scales=None, offset=0.0):
        super().__init__()
        if int(n_levels) < 1:
            raise ValueError(f"n_levels must be >= 1, got {n_levels}")
        self.n_levels = int(n_levels)
        self.offset = float(offset)
        if init_scales is None:
            self.scales = nn.Parameter(torch.zeros(self.n_levels))
            self.register_buffer("initialized", torch.tensor(False))
        else:
            s = torch.as_tensor(np.asarray(init_scales, dtype=np.float32))
            if s.shape != (self.n_levels,):
                raise ValueError(f"init_scales must have {self.n_levels} entries, got {tuple(s.shape)}")
            self.scales = nn.Parameter(s.clone())
            self.register_buffer("initialized", torch.tensor(True))

    def extra_repr(self):
        return f"n_levels={self.n_levels}, offset={self.offset}"

    def _centered(self, x):
        return x if self.offset == 0.0 else x - self.offset

    @torch.no_grad()
    def init_scales(self, x):
        """Greedy scales of Algorithm 1 over all values of ``x``: ``alpha_i = mean |r|``."""
        r = self._centered(x.detach())
        for i in range(self.n_levels):
            a = r.abs().mean()
            self.scales[i] = a
            r = r - a * _sign(r)
        self.initialized.fill_(True)

    @torch.no_grad()
    def codes(self, x):
        """The ±1 sign planes ``b_1..b_L`` of ``x - offset``, shape ``(L,) + x.shape``.

        The planes :meth:`forward` multiplies by the scales, computed by the same
        float operations (so ``forward(x) == offset + sum_i scales[i] * codes(x)[i]``,
        accumulated in level order): these are the codes
        :func:`eegbin.train.export` writes for deployment.

        Examples
        --------
        >>> import torch
        >>> from eegbin.train import MultiLevelBinarize
        >>> MultiLevelBinarize(2, init_scales=[1.0, 0.5]).codes(torch.tensor([0.9, -0.2])).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
        """
        if not bool(self.initialized):
            raise ValueError("the scales are not initialized yet: run the quantizer on data first")
        r = self._centered(x.detach())
        planes = []
        for i in range(self.n_levels):
            b = _sign(r)
            planes.append(b)
            r = r - self.scales[i] * b
        return torch.stack(planes)

    def forward(self, x):
        if not bool(self.initialized):
            self.init_scales(x)
        return multilevel_binarize_ste(x, self.scales, None if self.offset == 0.0 else self.offset)


class _PiecewiseLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, xp, rows):
        # rows[k] = (slope, x0, f0) of bucket k: 0 below xp[0], k the segment xp[k-1] <= z < xp[k],
        # n + 1 at or above xp[n]; the end rows have slope 0, so they give fp[0] and fp[n] exactly
        slope, x0, f0 = rows[torch.bucketize(z.detach().contiguous(), xp, right=True)].unbind(-1)
        ctx.save_for_backward(slope)
        return slope * (z - x0) + f0

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope, None, None


class PiecewiseLinear(nn.Module):
    """A sigmoid or tanh look-up table (MuBiNN Section IV-C), as :func:`eegbin.nn.pwl_apply` computes it.

    ``slope_j (z - xp_j) + fp_j`` on the segment ``xp_j <= z < xp_{j+1}``, the end
    values outside: the operations of ``numpy.interp`` in float64, so the values are
    the torch-free tables' bit for bit; the gradient is the segment's slope (zero
    outside the table).

    Parameters
    ----------
    function : {"sigmoid", "tanh"}
    n_segments : int, default=32
    bound : float, optional
        As :func:`eegbin.nn.pwl_table` (default 8 for the sigmoid, 4 for tanh).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from eegbin.nn import pwl_apply, pwl_table
    >>> from eegbin.train.quantizers import PiecewiseLinear
    >>> z = np.array([-9.0, -0.3, 0.0, 0.5, 3.99, 4.0, 7.0])
    >>> out = PiecewiseLinear("tanh", 8)(torch.tensor(z)).numpy()
    >>> bool(np.array_equal(out, pwl_apply(z, pwl_table("tanh", 8))))
    True
    """

    def __init__(self, function, n_segments=32, bound=None):
        super().__init__()
        from ..nn import pwl_table

        xp, fp = pwl_table(function, n_segments, bound)
        slopes = (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1])  # np.interp's slopes
        rows = np.zeros((len(xp) + 1, 3))
        rows[0, 2], rows[-1, 2] = fp[0], fp[-1]
        rows[1:-1] = np.column_stack([slopes, xp[:-1], fp[:-1]])
        self.function = function
        self.register_buffer("xp", torch.tensor(xp, dtype=torch.float64))
        self.register_buffer("fp", torch.tensor(fp, dtype=torch.float64))
        self.register_buffer("rows", torch.tensor(rows, dtype=torch.float64))

    def forward(self, z):
        return _PiecewiseLinear.apply(z, self.xp, self.rows)

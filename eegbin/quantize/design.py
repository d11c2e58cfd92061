"""DeSign: designed dithering Sign activation with a periodic threshold kernel.

``DeSign(X; T) = Sign(X - T (x) 1)`` (eq. 8): a small threshold kernel ``T``
(``d x d``, or ``d`` along one axis) is tiled periodically over two (or one)
chosen axes of ``X`` and subtracted before the sign, so adjacent positions use
different thresholds, as in ordered dithering. The kernel entries come from
``Omega``, the ReLU of the range of a ``k x k`` binary convolution (eqs. 2, 5);
the kernel is chosen by brute force to maximize the expected total variation
of ``ReLU(DeSign(X (*) K; T))`` over random binary kernels ``K`` (eq. 9), then
its entries are mapped to real thresholds by half-wave Gaussian k-means
(Section IV-B). Channel-wise 3-D kernels are built by circular shift of the
levels or by complement (Section IV-C).

Conventions (shared with the torch training code, which must match exactly):
``Sign(0) = +1`` (DESIGN.md's Heaviside rule), so ``ReLU(Sign(z)) = H(z) =
[z >= 0]``; the tiling phase starts at index 0 of every tiled axis; total
variation is anisotropic (sum of absolute differences of neighbours along each
axis).

References
----------
.. [1] B. Monroy, J. Estupinan, T. Gelvez-Barrera, J. Bacca, H. Arguello,
   "Designed Dithering Sign Activation for Binary Neural Networks", eqs. (2),
   (5), (8), (9); Sections IV-A (kernel selection), IV-B (entry scaling),
   IV-C (3-D variants).
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np
from scipy.sparse import issparse
from scipy.special import ndtr
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..base import BinarizerOutputMixin, signs_as
from ..docstrings import fill_doc
from ..footprint import Footprint
from ..kernels.checks import check_int, check_real_array, refuse_strings

__all__ = [
    "threshold_levels",
    "dithered_sign",
    "total_variation",
    "design_threshold_kernel",
    "half_wave_gaussian_thresholds",
    "scale_threshold_kernel",
    "threshold_kernel_3d",
    "DitheredBinarizer",
]

#: largest number of candidate kernels the brute force will enumerate
MAX_CANDIDATES = 2_000_000


def threshold_levels(k=3, ndim=2):
    """The level set Omega: ReLU of the range of a binary convolution (eqs. 2, 5).

    A ``k x k`` (``ndim=2``) or length-``k`` (``ndim=1``) convolution of bipolar
    values with ``n = k**ndim`` taps takes the values ``-n + 2 l``, ``l = 0..n``
    (eq. 2); after ReLU the values ``max(0, -n + 2 l)`` remain.

    Parameters
    ----------
    k : int, default=3
        Convolution kernel size.
    ndim : {1, 2}, default=2
        1-D or 2-D convolution.

    Returns
    -------
    omega : ndarray of int64
        Sorted levels; ``{0, 1, 3, 5, 7, 9}`` for ``k=3``, ``{0, 2, 4}`` for ``k=2``.

    Notes
    -----
    The paper prints ``|Omega| = ceil(k**2 / 2)`` (Section IV-A) and
    ``floor(k**2 / 2) + 1`` (Section IV-B), but lists ``Omega = {0, 1, 3, 5, 7, 9}``
    (6 levels) and ``|T| = 1296 = 6**4`` for ``k = 3``: the listed set is the one
    implemented (0 is included as the ReLU of the negative values).

    Examples
    --------
    >>> threshold_levels(3)
    array([0, 1, 3, 5, 7, 9])

    References
    ----------
    DeSign, eqs. (2) and (5); Section IV-A.
    """
    k = check_int(k, "k", 1)
    ndim = check_int(ndim, "ndim", 1)
    if ndim > 2:
        raise ValueError(f"ndim must be 1 or 2, got {ndim}")
    n = k**ndim
    return np.unique(np.maximum(0, -n + 2 * np.arange(n + 1))).astype(np.int64)


def _normalize_axes(axes, ndim, name="axes"):
    if isinstance(axes, (numbers.Integral, np.integer)) and not isinstance(axes, bool):
        axes = (int(axes),)
    try:
        axes = tuple(int(a) for a in axes)
    except TypeError:
        raise TypeError(f"{name} must be an int or a tuple of ints, got {axes!r}") from None
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{name} entry {a} is out of range for an array with {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat an axis, got {axes!r}")
    return tuple(out)


def _tile(kernel, shape, axes):
    """``kernel`` tiled periodically over ``axes`` of an array of ``shape`` (broadcastable)."""
    idx = np.ix_(*[np.arange(shape[a]) % kernel.shape[i] for i, a in enumerate(axes)])
    tiled = kernel[idx]
    # move the kernel axes to their positions, singleton elsewhere
    order = np.argsort(axes)
    tiled = np.transpose(tiled, order)
    bshape = [1] * len(shape)
    for a in axes:
        bshape[a] = shape[a]
    return tiled.reshape(bshape)


def dithered_sign(x, kernel, axes=(-2, -1)):
    """DeSign activation ``Sign(x - T (x) 1)`` with ``Sign(0) = +1`` (eq. 8).

    The threshold kernel is tiled periodically along ``axes`` (phase 0 at index 0):
    position ``(..., i, ..., j, ...)`` is compared with ``kernel[i % d1, j % d2]``.
    A kernel with a leading channel dimension and ``axes`` including the channel
    axis gives the 3-D variants (one threshold pattern per channel).

    Parameters
    ----------
    x : array_like of float
        Pre-activations (e.g. batch-normalized binary-convolution outputs), finite.
    kernel : array_like of float, ndim == len(axes)
        Threshold kernel ``T`` (``d``, ``d x d``, or ``C x d x d``).
    axes : int or tuple of int, default=(-2, -1)
        Axes of ``x`` the kernel is tiled over, in kernel-axis order.

    Returns
    -------
    x_b : ndarray in {-1, +1}
        Float dtype of ``x`` (float64 for integer input), same shape.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.full((2, 4), 0.5)
    >>> dithered_sign(x, np.array([[0.0, 1.0], [1.0, 0.0]]))
    array([[ 1., -1.,  1., -1.],
           [-1.,  1., -1.,  1.]])

    References
    ----------
    DeSign, eq. (8) and Fig. 2(c).
    """
    x = check_real_array(x, "x")
    kernel = check_real_array(kernel, "kernel").astype(np.float64, copy=False)
    axes = _normalize_axes(axes, x.ndim)
    if kernel.ndim != len(axes):
        raise ValueError(
            f"kernel must have one dimension per tiled axis ({len(axes)}), got shape {kernel.shape}"
        )
    if kernel.size == 0:
        raise ValueError(f"kernel must not be empty, got shape {kernel.shape}")
    out_dtype = x.dtype if x.dtype.kind == "f" else np.float64
    T = _tile(kernel, x.shape, axes)
    return np.where(x - T >= 0, 1.0, -1.0).astype(out_dtype, copy=False)


def total_variation(x, axes=(-2, -1)):
    """Anisotropic total variation: sum of ``|x[i+1] - x[i]|`` along each of ``axes``.

    Parameters
    ----------
    x : array_like
    axes : int or tuple of int, default=(-2, -1)

    Returns
    -------
    tv : ndarray
        Summed over ``axes`` (the other axes are kept).

    Examples
    --------
    >>> total_variation(np.array([[0, 1, 1], [1, 1, 0]]))   # 2 along rows + 2 along columns
    4.0

    References
    ----------
    DeSign, eq. (9) (TV operator).
    """
    x = check_real_array(x, "x").astype(np.float64, copy=False)
    axes = _normalize_axes(axes, x.ndim)
    tv = sum(np.abs(np.diff(x, axis=a)).sum(axis=axes) for a in axes)
    return tv if np.ndim(tv) else float(tv)


def _binary_conv(maps, kernels):
    """Valid correlation of bipolar maps (n, *S) with bipolar kernels (m, *K) -> (n, m, *S')."""
    ndim = maps.ndim - 1
    win = np.lib.stride_tricks.sliding_window_view(maps, kernels.shape[1:], axis=tuple(range(1, ndim + 1)))
    # win: (n, *S', *K); contract the K axes with kernels (m, *K)
    out = np.tensordot(win, kernels, axes=(tuple(range(ndim + 1, 2 * ndim + 1)), tuple(range(1, ndim + 1))))
    # out: (n, *S', m) -> (n, m, *S')
    return np.moveaxis(out, -1, 1).astype(np.int64)


def _pair_histograms(conv, d, n_taps, hist):
    """Accumulate, per (axis, phase), the joint histogram of neighbouring conv values."""
    ndim = conv.ndim - 2
    L = 2 * n_taps + 1
    for a in range(ndim):
        for p_i, phase in enumerate(itertools.product(range(d), repeat=ndim)):
            n_a = conv.shape[2 + a]
            if phase[a] + 1 >= n_a:
                continue
            sl1, sl2 = [slice(None), slice(None)], [slice(None), slice(None)]
            for b in range(ndim):
                if b == a:
                    m = (n_a - 1 - phase[a] + d - 1) // d  # positions with a neighbour
                    sl1.append(slice(phase[a], phase[a] + d * m, d))
                    sl2.append(slice(phase[a] + 1, phase[a] + 1 + d * m, d))
                else:
                    sl1.append(slice(phase[b], None, d))
                    sl2.append(slice(phase[b], None, d))
            v1 = conv[tuple(sl1)].ravel() + n_taps
            v2 = conv[tuple(sl2)].ravel() + n_taps
            hist[a, p_i] += np.bincount(v1 * L + v2, minlength=L * L).reshape(L, L)


def design_threshold_kernel(X, k=3, d=2, n_random_kernels=32, random_state=None,
                            batch_size=256):
    """Brute-force threshold kernels ranked by expected total variation (eq. 9).

    Every kernel ``T`` in ``Omega^(d x d)`` (``Omega^d`` for 1-D maps) is scored by
    ``E[ ||ReLU(Sign(B(X) (*) K - T (x) 1))||_TV ]`` where ``B(X)`` are the maps
    binarized with Sign, ``(*)`` a valid binary convolution with random bipolar
    ``k x k`` kernels ``K``, and the expectation the mean over maps and kernels.
    The score of all candidates is computed exactly from the joint histograms of
    neighbouring convolution values per tiling phase (one pass over the data).

    Parameters
    ----------
    X : array_like of shape (n_maps, h, w) or (n_maps, length)
        Input maps (e.g. EEG channel x time maps or images); real maps are
        binarized with ``Sign`` (``Sign(0) = +1``), bipolar maps are kept.
    k : int, default=3
        Size of the simulated binary convolution kernels (sets Omega, eq. 5).
    d : int, default=2
        Size of the threshold kernel.
    n_random_kernels : int, default=32
        Random bipolar kernels ``K`` drawn per design.
    random_state : int, RandomState or None
    batch_size : int, default=256
        Maps convolved at a time (bounds memory).

    Returns
    -------
    kernels : ndarray of int64, shape ``(|Omega|**(d**ndim), d, d)`` or ``(..., d)``
        All candidates, best first (ties keep lexicographic order).
    scores : ndarray of float64
        Expected total variation of each, descending.

    Notes
    -----
    Taken literally, eq. (9) rewards checkerboards of extreme levels (e.g.
    ``[[9, 0], [0, 9]]``: one phase nearly always fires and the other nearly
    never, so almost every neighbour pair differs); on smooth maps these rank
    first, while the paper reports ``[1, 1, 3, 3]`` on CIFAR-100 (see
    ``examples/plot_design_kernels.py``). All candidates are returned ranked.

    Maps with fewer than ``k + 1`` values along an axis have no pair of
    neighbouring convolution outputs: the total variation of eq. (9) is 0 for
    every candidate, and the tie order puts the all-zero kernel (plain
    ``Sign``) first.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).randn(4, 12, 12)
    >>> T, s = design_threshold_kernel(X, k=3, d=2, n_random_kernels=4, random_state=0)
    >>> T.shape, bool(s[0] >= s[-1])
    ((1296, 2, 2), True)

    References
    ----------
    DeSign, eq. (9), Section IV-A and Fig. 3.
    """
    X = check_real_array(X, "X")
    if X.ndim not in (2, 3):
        raise ValueError(f"X must be (n_maps, h, w) or (n_maps, length), got shape {X.shape}")
    ndim = X.ndim - 1
    k = check_int(k, "k", 1)
    d = check_int(d, "d", 1)
    n_random_kernels = check_int(n_random_kernels, "n_random_kernels", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    if X.shape[0] == 0:
        raise ValueError("X must hold at least one map, got 0")
    omega = threshold_levels(k, ndim)
    n_cand = omega.size ** (d**ndim)
    if n_cand > MAX_CANDIDATES:
        raise ValueError(
            f"|Omega|^(d^{ndim}) = {omega.size}^{d**ndim} = {n_cand} candidate kernels exceed "
            f"the brute-force limit {MAX_CANDIDATES}; use a smaller k or d"
        )
    rng = check_random_state(random_state)
    K = np.where(rng.rand(n_random_kernels, *([k] * ndim)) < 0.5, -1.0, 1.0)
    B = np.where(X >= 0, 1.0, -1.0)
    n_taps = k**ndim
    L = 2 * n_taps + 1
    n_phase = d**ndim
    hist = np.zeros((ndim, n_phase, L, L), dtype=np.int64)
    if min(X.shape[1:]) >= k + 1:  # else no valid convolution output has a neighbour
        for start in range(0, B.shape[0], batch_size):
            conv = _binary_conv(B[start:start + batch_size], K)
            _pair_histograms(conv, d, n_taps, hist)
    # D[a, p, ta, tb]: neighbour pairs whose binarized outputs differ for thresholds (ta, tb)
    values = np.arange(-n_taps, n_taps + 1)
    ind = (values[:, None] >= omega[None, :]).astype(np.float64)  # (L, N)
    h = hist.astype(np.float64)
    D = np.einsum("vt,apvw,wu->aptu", ind, h, 1 - ind) + np.einsum(
        "vt,apvw,wu->aptu", 1 - ind, h, ind)
    # enumerate candidates as level indices (lexicographic) and sum the table entries
    phases = list(itertools.product(range(d), repeat=ndim))
    grid = np.indices([omega.size] * n_phase).reshape(n_phase, -1)  # (n_phase, n_cand)
    score = np.zeros(n_cand)
    for a in range(ndim):
        for p_i, phase in enumerate(phases):
            nb = list(phase)
            nb[a] = (nb[a] + 1) % d
            q_i = phases.index(tuple(nb))
            score += D[a, p_i][grid[p_i], grid[q_i]]
    score /= B.shape[0] * n_random_kernels
    order = np.argsort(-score, kind="stable")
    kernels = omega[grid[:, order].T].reshape((n_cand,) + (d,) * ndim)
    return kernels, score[order]


def half_wave_gaussian_thresholds(n_levels, n_iter=200):
    """k-means (Lloyd-Max) levels of the half-wave Gaussian and their left thresholds.

    The right half of ``N(0, 1)`` is quantized into ``n_levels`` clusters by 1-D
    k-means on the exact density (conditional means of the half-normal, iterated
    to convergence). The threshold of level ``i`` is the left boundary of its
    cluster: 0 for the first, the midpoint between centres ``i - 1`` and ``i``
    after that.

    Parameters
    ----------
    n_levels : int
        Number N of levels (``|Omega|``).
    n_iter : int, default=200

    Returns
    -------
    centers : ndarray of shape (n_levels,)
    thresholds : ndarray of shape (n_levels,)
        ``thresholds[0] = 0``; increasing.

    Examples
    --------
    >>> c, t = half_wave_gaussian_thresholds(2)
    >>> np.round(t, 3)
    array([0.   , 0.982])

    References
    ----------
    DeSign, Section IV-B and Fig. 4(b); Cai et al. 2017 (half-wave Gaussian quantization).
    """
    n_levels = check_int(n_levels, "n_levels", 1)
    n_iter = check_int(n_iter, "n_iter", 1)
    phi = lambda z: np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)  # noqa: E731
    centers = np.sqrt(2 / np.pi) * np.linspace(0.2, 2.5, n_levels) if n_levels > 1 else np.array([np.sqrt(2 / np.pi)])
    for _ in range(n_iter):
        edges = np.concatenate([[0.0], (centers[:-1] + centers[1:]) / 2, [np.inf]])
        lo, hi = edges[:-1], edges[1:]
        mass = ndtr(hi) - ndtr(lo)
        new = (phi(lo) - phi(hi)) / np.maximum(mass, 1e-300)
        if np.allclose(new, centers, rtol=0, atol=1e-13):
            centers = new
            break
        centers = new
    thresholds = np.concatenate([[0.0], (centers[:-1] + centers[1:]) / 2])
    return centers, thresholds


def _level_index(kernel, omega, name="kernel"):
    kernel = check_real_array(kernel, name)
    idx = np.searchsorted(omega, kernel)
    ok = (idx < omega.size) & (omega[np.minimum(idx, omega.size - 1)] == kernel)
    if not np.all(ok):
        bad = np.unique(kernel[~ok])
        raise ValueError(
            f"{name} entries must lie in Omega = {omega.tolist()} (eq. 5), got {bad.tolist()}"
        )
    return idx


def scale_threshold_kernel(kernel, k=3, ndim=2):
    """Map a kernel with entries in Omega to real thresholds for normalized inputs.

    Level ``Omega[i]`` becomes the left threshold of the ``i``-th half-wave
    Gaussian k-means cluster (:func:`half_wave_gaussian_thresholds`).

    Parameters
    ----------
    kernel : array_like of int
        Entries in ``threshold_levels(k, ndim)``.
    k : int, default=3
    ndim : {1, 2}, default=2
        Dimension of the convolution defining Omega.

    Returns
    -------
    thresholds : ndarray of float64, same shape as ``kernel``

    Examples
    --------
    >>> np.round(scale_threshold_kernel([[1, 1], [3, 3]], k=3), 3)
    array([[0.34 , 0.34 ],
           [0.694, 0.694]])

    References
    ----------
    DeSign, Section IV-B.
    """
    omega = threshold_levels(k, ndim)
    idx = _level_index(kernel, omega)
    return half_wave_gaussian_thresholds(omega.size)[1][idx]


def threshold_kernel_3d(kernel, n_channels, variant="shift", k=3, ndim=2):
    """Per-channel threshold kernels from a 2-D design (Section IV-C).

    ``"shift"``: channel ``c`` replaces level ``Omega[i]`` by
    ``Omega[(i + c) mod N]`` (each channel a circular shift of the previous one).
    ``"complement"``: even channels keep ``T``, odd channels use the complement
    ``Omega[N - 1 - i]``.

    Parameters
    ----------
    kernel : array_like of int
        Entries in ``threshold_levels(k, ndim)``.
    n_channels : int
    variant : {"shift", "complement"}, default="shift"
    k, ndim : int
        Define Omega.

    Returns
    -------
    kernels : ndarray of int64, shape ``(n_channels, *kernel.shape)``

    Examples
    --------
    >>> threshold_kernel_3d([[1, 3]], 3, "shift")[:, 0]
    array([[1, 3],
           [3, 5],
           [5, 7]])
    >>> threshold_kernel_3d([[1, 3]], 2, "complement")[:, 0]
    array([[1, 3],
           [7, 5]])

    References
    ----------
    DeSign, Section IV-C (DeSign3D-S and DeSign3D-C) and Table I.
    """
    omega = threshold_levels(k, ndim)
    idx = _level_index(kernel, omega)
    n_channels = check_int(n_channels, "n_channels", 1)
    N = omega.size
    if variant == "shift":
        levels = [(idx + c) % N for c in range(n_channels)]
    elif variant == "complement":
        levels = [idx if c % 2 == 0 else N - 1 - idx for c in range(n_channels)]
    else:
        raise ValueError(f"variant must be 'shift' or 'complement', got {variant!r}")
    return omega[np.stack(levels)]


@fill_doc
class DitheredBinarizer(BinarizerOutputMixin, TransformerMixin, BaseEstimator):
    """DeSign activation as a transformer: ``Sign(X - T (x) 1)`` per sample.

    Each sample (a row of a 2-D ``X``, or a map of an N-D ``X`` such as
    ``(n_trials, n_channels, n_times)``) is binarized with the threshold kernel
    tiled over ``axes``. ``fit`` designs the kernel (eq. 9) on the training maps or
    validates a given one, maps its Omega levels to real thresholds for
    batch-normalized inputs (Section IV-B), and, for the 3-D variants, builds one
    kernel per channel along the sample axis preceding ``axes`` (Section IV-C).

    Parameters
    ----------
    kernel : "design" or array-like of int, default="design"
        "design" picks the best kernel of :func:`design_threshold_kernel`; an array
        must hold levels of Omega (eq. 5) and have one dimension per tiled axis.
    axes : int, tuple of int or None, default=None
        Axes of one sample (sample axis excluded, 0 = first sample axis) the
        kernel is tiled over; None = the last two sample axes (the last one for
        2-D ``X``).
    variant : {"2d", "3d-shift", "3d-complement"}, default="2d"
        3-D variants need a channel axis before the tiled axes.
    k : int, default=3
        Binary-convolution size defining Omega.
    d : int, default=2
        Threshold-kernel size when designing.
    n_random_kernels : int, default=32
    scaling : {"half_wave_gaussian", "none"}, default="half_wave_gaussian"
        "none" keeps the integer Omega levels (inputs are raw binary-convolution
        outputs); otherwise levels become half-wave Gaussian thresholds.
    random_state : int, RandomState or None, default=None
    output : {"bipolar", "binary", "packed"}, default="bipolar"
        ``"bipolar"``: int8 -1/+1 (``Sign``), ``"binary"``: bool (``ReLU(Sign)``),
        both of the shape of ``X``; ``"packed"``: uint64 words of each sample's
        flattened values (for eegbin's Hamming-space steps).

    Attributes
    ----------
    levels_ : ndarray of int64
        Kernel in Omega levels (with a leading channel axis for 3-D variants).
    thresholds_ : ndarray of float64
        Real thresholds applied (same shape as ``levels_``).
    axes_ : tuple of int
        Axes of ``X`` (sample axis included) the thresholds are tiled over.
    design_scores_ : ndarray or None
        Expected TV of all candidates when designed, best first (all zero when
        the maps are too small for a k x k convolution with neighbours: the
        kernel is then 0, plain ``Sign``).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from eegbin import DitheredBinarizer
    >>> X = np.random.RandomState(0).randn(8, 6, 20)        # trials x channels x times
    >>> db = DitheredBinarizer(kernel=[[1, 3], [3, 1]]).fit(X)
    >>> db.thresholds_.round(3)
    array([[0.34 , 0.694],
           [0.694, 0.34 ]])
    >>> db.transform(X)[0, 0, :6]
    array([ 1, -1,  1,  1,  1, -1], dtype=int8)

    References
    ----------
    Monroy et al., "Designed Dithering Sign Activation for Binary Neural Networks",
    eqs. (5), (8), (9); Sections IV-A to IV-C.
    """

    _parameter_constraints = {
        "kernel": [StrOptions({"design"}), "array-like"],
        "axes": [None, Interval(numbers.Integral, 0, None, closed="left"), tuple, list],
        "variant": [StrOptions({"2d", "3d-shift", "3d-complement"})],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "d": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_random_kernels": [Interval(numbers.Integral, 1, None, closed="left")],
        "scaling": [StrOptions({"half_wave_gaussian", "none"})],
        "random_state": ["random_state"],
        "output": [StrOptions({"bipolar", "binary", "packed"})],
    }

    def __init__(self, kernel="design", axes=None, variant="2d", k=3, d=2, n_random_kernels=32,
                 scaling="half_wave_gaussian", random_state=None, output="bipolar"):
        self.kernel = kernel
        self.axes = axes
        self.variant = variant
        self.k = k
        self.d = d
        self.n_random_kernels = n_random_kernels
        self.scaling = scaling
        self.random_state = random_state
        self.output = output

    def _sample_axes(self, ndim_sample):
        if self.axes is None:
            return tuple(range(max(0, ndim_sample - 2), ndim_sample))
        axes = _normalize_axes(self.axes, ndim_sample, name="axes")
        if len(axes) > 2:
            raise ValueError(f"axes must name 1 or 2 sample axes, got {self.axes!r}")
        return axes

    def _validate_X(self, X, reset):
        X = refuse_strings(X)
        if not (issparse(X) or hasattr(X, "iloc")):
            X = np.asarray(X)
        if getattr(X, "ndim", 2) > 2:
            X = check_real_array(X, "X", allow_empty=False).astype(np.float64)
            if reset:
                validate_data(self, X.reshape(X.shape[0], -1), dtype=np.float64)
                self._sample_shape = X.shape[1:]
            else:
                if X.shape[1:] != self._sample_shape:
                    raise ValueError(
                        f"X has samples of shape {X.shape[1:]}, but DitheredBinarizer was "
                        f"fitted on samples of shape {self._sample_shape}"
                    )
            return X
        X = validate_data(self, X, dtype=np.float64, reset=reset)
        if reset:
            self._sample_shape = X.shape[1:]
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Design or validate the threshold kernel.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or `(n_samples, *sample_shape)`
            Training pre-activations (finite).
        %(y_ignored)s

        %(returns_self)s
        """
        X = self._validate_X(X, reset=True)
        ndim_s = X.ndim - 1
        s_axes = self._sample_axes(ndim_s)
        kdim = len(s_axes)
        self.design_scores_ = None
        if isinstance(self.kernel, str):
            maps = np.moveaxis(X, [1 + a for a in s_axes], list(range(X.ndim - kdim, X.ndim)))
            maps = maps.reshape((-1,) + maps.shape[X.ndim - kdim:])
            kernels, scores = design_threshold_kernel(
                maps, k=self.k, d=self.d, n_random_kernels=self.n_random_kernels,
                random_state=self.random_state,
            )
            levels, self.design_scores_ = kernels[0], scores
        else:
            levels = np.asarray(self.kernel)
            if levels.ndim != kdim or levels.size == 0:
                raise ValueError(
                    f"kernel must have {kdim} dimension(s) (one per tiled axis), got shape "
                    f"{levels.shape}"
                )
            levels = threshold_levels(self.k, kdim)[_level_index(levels, threshold_levels(self.k, kdim))]
        if self.variant != "2d":
            if min(s_axes) == 0:
                raise ValueError(
                    f"variant={self.variant!r} needs a channel axis before the tiled axes "
                    f"{s_axes} of samples of shape {X.shape[1:]}"
                )
            ch = min(s_axes) - 1
            levels = threshold_kernel_3d(levels, X.shape[1 + ch], self.variant[3:], k=self.k,
                                         ndim=kdim)
            s_axes = (ch,) + s_axes
        self.levels_ = levels
        if self.scaling == "none":
            self.thresholds_ = levels.astype(np.float64)
        else:
            self.thresholds_ = scale_threshold_kernel(levels, k=self.k, ndim=kdim)
        self.axes_ = tuple(1 + a for a in s_axes)
        return self

    def transform(self, X):
        """Binarize with the tiled thresholds.

        Parameters
        ----------
        X : array-like, same sample shape as in fit

        Returns
        -------
        X_b : ndarray
            int8 -1/+1 (``"bipolar"``) or bool (``"binary"``) of the shape of
            ``X``, or uint64 words (``"packed"``), ceil(n_values / 64) per sample.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        bits = dithered_sign(X, self.thresholds_, self.axes_) > 0
        if self.output == "packed":
            return signs_as(bits.reshape(bits.shape[0], -1), "packed")
        return signs_as(bits, self.output)

    def _bit_names(self, input_features):
        if len(self._sample_shape) != 1:
            raise ValueError(
                f"DitheredBinarizer was fitted on samples of shape {self._sample_shape}; feature "
                "names (and set_output) need 2-D X (n_samples, n_features)"
            )
        return super()._bit_names(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

    def footprint(self, float_bits=32):
        """A :class:`~eegbin.Footprint`: stored thresholds (``float_bits`` each), one comparison per output value."""
        check_is_fitted(self)
        n_values = int(np.prod(self._sample_shape))
        return Footprint("DitheredBinarizer", n_params=int(self.thresholds_.size),
                         bits_per_param=float_bits, macs=n_values,
                         note="one threshold comparison per value; outputs are 1 bit")

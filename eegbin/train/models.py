"""PyTorch models whose exported weights load in :mod:`eegbin.nn` (and braindecode).

:class:`EEGNet` uses exactly the module names of ``braindecode.models.EEGNet`` (v1.x),
so its ``state_dict`` is a braindecode state dict; :class:`MIMANN` is the EEGNet
controller with a projection layer and a key-value memory (Hersche et al. 2020,
Section IV); :class:`LSTMNet` is MuBiNN's one-layer LSTM with a dense head.

References
----------
.. [EEGNet] V. J. Lawhern et al., "EEGNet: a compact convolutional neural network
   for EEG-based brain-computer interfaces", J. Neural Eng. 15, 2018.
.. [Hersche2020] M. Hersche, L. Benini, A. Rahimi, "Binarization methods for
   motor-imagery brain-computer interface classification", IEEE JETCAS 2020, Sec. IV.
.. [Feng] Feng et al., model-compressed EEGNet accelerator (channel selection, eq. 1).
.. [MuBiNN] MuBiNN: multi-level binarized LSTM for EEG classification.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

from ..base import draw_seed
from ..binary import random_bipolar_projection
from ..kernels import multilevel_matmul, pack_bits
from .quantizers import (
    DeSignActivation,
    MultiLevelBinarize,
    PiecewiseLinear,
    approx_sign,
    biper_weight,
    multilevel_binarize_ste,
    sign_ste,
)

__all__ = ["EEGNet", "MIMANN", "LSTMNet", "softabs"]


class _MaxNorm(nn.Module):
    """Row max-norm constraint as a parametrization (braindecode's ``MaxNormParametrize``)."""

    def __init__(self, max_norm=1.0):
        super().__init__()
        self.max_norm = max_norm

    def forward(self, w):
        return w.renorm(p=2, dim=0, maxnorm=self.max_norm)


class _QuantConv2d(nn.Conv2d):
    """Conv2d whose forward uses binarized weights (STE or BiPer); ``weight`` stays latent."""

    def __init__(self, *args, binarize=None, omega=1.0, stage=2, **kwargs):
        super().__init__(*args, **kwargs)
        self.binarize = binarize
        self.omega = omega
        self.stage = stage

    def deployed_weight(self):
        """The weights inference uses (what :func:`eegbin.train.export` writes)."""
        w = self.weight
        if self.binarize is None:
            return w
        if self.binarize == "ste":
            return w.detach().abs().mean() * sign_ste(w)
        if self.binarize == "biper":
            return biper_weight(w, self.omega, self.stage)
        raise ValueError(f"binarize must be None, 'ste' or 'biper', got {self.binarize!r}")

    def forward(self, x):
        return self._conv_forward(x, self.deployed_weight(), self.bias)


class _ApproxSign(nn.Module):
    """Sign of the activations with BiPer's ApproxSign gradient (eq. 6-7)."""

    def forward(self, x):
        return approx_sign(x)


_ACTIVATIONS = ("real", "binary", "design")


def design_thresholds(n_channels, kernel=(1, 3), k=9, variant="shift"):
    """Per-channel DeSign thresholds for EEGNet's (channel, time) activation maps.

    The 1-D threshold kernel ``kernel`` (levels of Omega for a ``k``-tap binary
    convolution, DeSign eq. 5) is made one kernel per channel by the 3-D variant
    ``variant`` (:func:`eegbin.quantize.threshold_kernel_3d`: ``"shift"`` or
    ``"complement"``; ``"same"`` repeats it) and mapped to real thresholds for
    standardized inputs (:func:`eegbin.quantize.scale_threshold_kernel`, half-wave
    Gaussian k-means, Section IV-B). The defaults are the paper's design along
    time: a 9-tap convolution has the levels of its 3 x 3 one, Omega = {0, 1, 3,
    5, 7, 9}, and ``(1, 3)`` is its kernel ``T* = [1, 1, 3, 3]`` (Section IV-A),
    thresholds 0.340 and 0.694 for the first feature map.

    Returns
    -------
    ndarray of float32, shape (n_channels, len(kernel))

    Examples
    --------
    >>> from eegbin.train.models import design_thresholds
    >>> design_thresholds(3).astype(float).round(3).tolist()   # DeSign3D-S: shifted levels
    [[0.34, 0.694], [0.694, 1.081], [1.081, 1.534]]
    """
    from ..quantize import scale_threshold_kernel, threshold_kernel_3d

    kernel = np.asarray(kernel)
    if kernel.ndim != 1:
        raise ValueError(f"design kernel must be 1-D (one level per time phase), got shape {kernel.shape}")
    if variant == "same":
        levels = np.broadcast_to(kernel, (int(n_channels), kernel.size))
    else:
        levels = threshold_kernel_3d(kernel, n_channels, variant=variant, k=k, ndim=1)
    return scale_threshold_kernel(levels, k=k, ndim=1).astype(np.float32)


def _activation(kind, n_channels, design):
    """The binarizer of the inputs of a binarized layer (identity for real features)."""
    if kind == "real":
        return nn.Identity()
    if kind == "binary":
        return _ApproxSign()
    params = dict(design or {})
    unknown = set(params) - {"kernel", "k", "variant"}
    if unknown:
        raise ValueError(f"design takes the keys kernel, k and variant, got {sorted(unknown)}")
    return DeSignActivation(design_thresholds(n_channels, **params), axes=(1, 3))


class EEGNet(nn.Module):
    """EEGNet with braindecode v1.x module names and optional binarized separable block.

    Parameters
    ----------
    n_chans, n_outputs, n_times : int
        Input channels, classes and samples.
    F1, D, F2, kernel_length : int
        EEGNet sizes (defaults 8, 2, 16, 64).
    pool1, pool2 : int, default=4, 8
        Average pooling widths (braindecode's defaults; Hersche 2020 uses 8 and 8,
        giving 272 features for 22 x 1125 inputs).
    drop_prob : float, default=0.25
    binarize : {None, "ste", "biper"}, default=None
        Binarize the weights of the separable block and the classifier: ``"ste"``
        uses mean|w| Sign(w) with the clipped STE (BiPer eq. 4-5); ``"biper"`` the
        square wave gamma Sign(sin(omega w)) (BiPer eq. 8-10, 18).
    omega : float, default=1.0
        BiPer frequency omega_0.
    biper_stage : {1, 2}, default=2
        BiPer two-stage schedule (Section 5.1.3): 1 trains sin(omega w), 2 binarizes.
    activations : {"real", "binary", "design"}, default="real"
        Features entering the binarized layers (the separable block and the
        classifier): ``"real"``; ``"binary"``: Sign with BiPer's ApproxSign gradient
        (eq. 6-7), BiPer's binary features; ``"design"``: DeSign's dithered sign
        ``Sign(x - T (x) 1)`` (eq. 8, clipped STE gradient) with one threshold kernel
        per feature map, tiled along time (:func:`design_thresholds`).
    design : dict, optional
        DeSign thresholds: ``kernel`` (levels, default ``(1, 3)``), ``k`` (default 9)
        and ``variant`` (``"shift"``, default, or ``"complement"``: DeSign3D-S/-C;
        ``"same"``: one kernel for all feature maps).
    channels : array-like of int, optional
        Input channels the network reads (Feng's embedded channel selection): it is
        built for ``len(channels)`` channels and takes the ``n_chans``-channel epochs,
        keeping ``x[:, channels]``.

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import EEGNet
    >>> net = EEGNet(n_chans=4, n_outputs=3, n_times=128).eval()
    >>> net(torch.zeros(2, 4, 128)).shape
    torch.Size([2, 3])
    >>> sorted(k for k in net.state_dict() if "conv" in k)[:2]
    ['conv_separable_depth.weight', 'conv_separable_point.weight']
    """

    def __init__(self, n_chans, n_outputs, n_times, F1=8, D=2, F2=16, kernel_length=64,
                 pool1=4, pool2=8, drop_prob=0.25, binarize=None, omega=1.0, biper_stage=2,
                 activations="real", design=None, channels=None):
        super().__init__()
        self.n_chans, self.n_outputs, self.n_times = int(n_chans), int(n_outputs), int(n_times)
        if activations not in _ACTIVATIONS:
            raise ValueError(f"activations must be one of {_ACTIVATIONS}, got {activations!r}")
        if channels is not None:
            channels = [int(c) for c in np.asarray(channels).ravel()]
            if not channels or len(set(channels)) != len(channels) or not all(
                    0 <= c < self.n_chans for c in channels):
                raise ValueError(
                    f"channels must be distinct indices in 0..{self.n_chans - 1}, got {channels}")
        self.channels = channels
        n_used = len(channels) if channels is not None else self.n_chans
        self.hparams = dict(n_chans=n_chans, n_outputs=n_outputs, n_times=n_times, F1=F1, D=D,
                            F2=F2, kernel_length=kernel_length, pool1=pool1, pool2=pool2,
                            drop_prob=drop_prob, binarize=binarize, omega=omega,
                            biper_stage=biper_stage, activations=activations,
                            design=dict(design) if design else None, channels=channels)
        q = dict(binarize=binarize, omega=omega, stage=biper_stage)
        self.conv_temporal = nn.Conv2d(1, F1, (1, kernel_length), bias=False,
                                       padding=(0, kernel_length // 2))
        self.bnorm_temporal = nn.BatchNorm2d(F1, momentum=0.01, eps=1e-3)
        self.conv_spatial = nn.Conv2d(F1, F1 * D, (n_used, 1), groups=F1, bias=False)
        parametrize.register_parametrization(self.conv_spatial, "weight", _MaxNorm(1.0))
        self.bnorm_1 = nn.BatchNorm2d(F1 * D, momentum=0.01, eps=1e-3)
        self.elu_1 = nn.ELU()
        self.pool_1 = nn.AvgPool2d((1, pool1), stride=(1, pool1))
        self.drop_1 = nn.Dropout(drop_prob)
        self.act_1 = _activation(activations, F1 * D, design)
        self.conv_separable_depth = _QuantConv2d(F1 * D, F1 * D, (1, 16), groups=F1 * D,
                                                 bias=False, padding=(0, 8), **q)
        self.conv_separable_point = _QuantConv2d(F1 * D, F2, (1, 1), bias=False, **q)
        self.bnorm_2 = nn.BatchNorm2d(F2, momentum=0.01, eps=1e-3)
        self.elu_2 = nn.ELU()
        self.pool_2 = nn.AvgPool2d((1, pool2), stride=(1, pool2))
        self.drop_2 = nn.Dropout(drop_prob)
        self.act_2 = _activation(activations, F2, design)
        with torch.no_grad():
            n_out = self.features(torch.zeros(1, n_chans, n_times)).shape[-1]
        self.n_features_time = n_out
        self.final_layer = nn.Sequential(OrderedDict(
            conv_classifier=_QuantConv2d(F2, n_outputs, (1, n_out), bias=True, **q)))
        for m in self.modules():  # braindecode's glorot init, zero bias, unit BN
            if isinstance(m, nn.Conv2d):
                if parametrize.is_parametrized(m):
                    nn.init.xavier_uniform_(m.parametrizations.weight.original)
                else:
                    nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def features(self, x):
        """(n, C, T) -> (n, F2, 1, T'): everything before the classifier (real features)."""
        if self.channels is not None:
            x = x[:, self.channels]
        x = x.unsqueeze(1)
        x = self.bnorm_temporal(self.conv_temporal(x))
        x = self.bnorm_1(self.conv_spatial(x))
        x = self.drop_1(self.pool_1(self.elu_1(x)))
        x = self.conv_separable_point(self.conv_separable_depth(self.act_1(x)))
        x = self.drop_2(self.pool_2(self.elu_2(self.bnorm_2(x))))
        return x

    def forward(self, x):
        out = self.final_layer(self.act_2(self.features(x)))
        return out[:, :, 0, 0]

    def deployed_state_dict(self):
        """State dict with the binarized weights inference uses, as numpy arrays."""
        sd = OrderedDict((k, v.detach().cpu().numpy()) for k, v in self.state_dict().items())
        for name, mod in self.named_modules():
            if isinstance(mod, _QuantConv2d) and mod.binarize is not None:
                sd[f"{name}.weight"] = mod.deployed_weight().detach().cpu().numpy()
        return sd


def softabs(a, beta=10.0):
    """Soft absolute sharpening of attention (Karunaratne et al. 2021).

    ``s(a) = sigmoid(beta (a - 1/2)) + sigmoid(beta (-a - 1/2))``, computed as
    ``(tanh(beta (a - 1/2) / 2) + tanh(beta (-a - 1/2) / 2)) / 2 + 1`` exactly like
    :func:`eegbin.binary.memory.sharpen_attention` (``sharpen="softabs"``), so the
    trained attention is the deployed one; near 0 for orthogonal keys, near 1 for
    ``|a| ~ 1``. :class:`MIMANN` normalizes it over the memory entries, which does
    not change the argmax of the readout.

    Examples
    --------
    >>> import torch
    >>> from eegbin.train.models import softabs
    >>> softabs(torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)).round(decimals=3).tolist()
    [0.993, 0.013, 0.993]
    """
    return 0.5 * (torch.tanh(0.5 * beta * (a - 0.5)) + torch.tanh(0.5 * beta * (-a - 0.5))) + 1.0


class MIMANN(nn.Module):
    """MI-MANN: EEGNet controller + projection to d bipolar dims + key-value memory.

    Training uses tanh(10 x) after the projection and cosine attention with softabs
    sharpening (Hersche et al. 2020, eq. 14-15); inference uses Sign, i.e. Hamming
    distances on binary keys (:class:`eegbin.BinaryKeyValueMemory`).

    Parameters
    ----------
    n_chans, n_outputs, n_times : int
    n_components : int, default=256
        Dimension d of the binary keys.
    projection : {"random", "learned"}, default="learned"
        ``"random"``: a fixed dense bipolar matrix scaled by Xavier's uniform bound,
        :func:`eegbin.binary.random_bipolar_projection` of the 32-bit ``seed`` (the
        counter-based generator a device and :class:`eegbin.BinaryKeyValueMemory`
        regenerate it with: only the seed is stored). ``"learned"``: a trainable
        bias-free linear layer.
    random_state : int, RandomState instance or None, default=0
        The seed of the random projection, as :class:`eegbin.BinaryKeyValueMemory`
        reads it: an int in [0, 2**32 - 1] is the seed itself; None or a RandomState
        draws one.
    **eegnet_params
        Passed to :class:`EEGNet`.

    Attributes
    ----------
    seed : int or None
        Seed of the random projection (None for a learned one).
    projection_scale : float
        Xavier's bound ``sqrt(6 / (n_features + n_components))`` of the random projection
        (1.0 for a learned one).

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import MIMANN
    >>> m = MIMANN(n_chans=4, n_outputs=2, n_times=128, n_components=32).eval()
    >>> m.encode(torch.zeros(3, 4, 128)).shape
    torch.Size([3, 32])
    """

    def __init__(self, n_chans, n_outputs, n_times, n_components=256, projection="learned",
                 random_state=0, **eegnet_params):
        super().__init__()
        if eegnet_params.get("activations", "real") != "real":
            raise ValueError(
                "MI-MANN's controller features are real (its projection binarizes them); "
                f"activations={eegnet_params['activations']!r} is for EEGNet's binarized layers")
        self.controller = EEGNet(n_chans, n_outputs, n_times, **eegnet_params)
        n_feat = self.controller.conv_separable_point.out_channels * self.controller.n_features_time
        self.n_feat, self.n_components, self.projection_kind = n_feat, int(n_components), projection
        self.n_outputs = int(n_outputs)
        self.seed, self.projection_scale = None, 1.0
        if projection == "learned":
            self.projection = nn.Linear(n_feat, n_components, bias=False)
        elif projection == "random":
            self.seed = draw_seed(random_state)
            # numba's OpenMP layer shares torch's OpenMP runtime: its thread setting on
            # return would override torch.set_num_threads (x13 per episode when 2 threads
            # spin on 2 busy cores), so torch's count is put back
            n_threads = torch.get_num_threads()
            R, self.projection_scale = random_bipolar_projection(self.seed, self.n_components, n_feat)
            torch.set_num_threads(n_threads)
            self.register_buffer(
                "random_projection",
                torch.tensor(self.projection_scale * R.astype(np.float64), dtype=torch.float32))
        else:
            raise ValueError(f"projection must be 'random' or 'learned', got {projection!r}")
        self.register_buffer("keys", torch.zeros(0, n_components))
        self.register_buffer("values", torch.zeros(0, n_outputs))

    def projection_matrix(self):
        """(n_components, n_features) projection applied to the flattened controller features."""
        if self.projection_kind == "learned":
            return self.projection.weight
        return self.random_projection

    def encode(self, x):
        """Controller features -> projection -> tanh(10 x) (training) or Sign (eval)."""
        f = self.controller.features(x).flatten(1)
        z = f @ self.projection_matrix().T
        return torch.tanh(10 * z) if self.training else torch.where(z >= 0, 1.0, -1.0)

    @torch.no_grad()
    def write_memory(self, x, y):
        """Rewrite the key-value memory with support examples ``(x, y)``."""
        was = self.training
        self.train(was)
        self.keys = self.encode(x).detach()
        self.values = F.one_hot(torch.as_tensor(y).long(), self.n_outputs).float()

    def forward(self, x):
        q = self.encode(x)
        qn = q / q.norm(dim=1, keepdim=True).clamp_min(1e-12)
        kn = self.keys / self.keys.norm(dim=1, keepdim=True).clamp_min(1e-12)
        att = softabs(qn @ kn.T)
        att = att / att.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        return att @ self.values


class LSTMNet(nn.Module):
    """MuBiNN's classifier: one LSTM layer (100 cells by default) and a dense head.

    Input (n, C, T) EEG epochs are average-pooled in time by ``downsample`` and read
    as sequences of C-dimensional vectors; the head reads the last hidden state.

    ``quantize="mubinn2"`` is MuBiNN2 as Section IV-C defines it, trained with
    learned static scales (one set per tensor or signal, :class:`MultiLevelBinarize`,
    initialized greedily on the first batch): the weights ``W_x``, ``W_h`` and the
    bias with ``weight_levels``; ``x_t``, ``h_{t-1}``, the gate outputs ``i, f, g, o``
    and ``c_{t-1}`` with ``activation_levels`` (:data:`eegbin.nn.mubinn.MUBINN2_SIGNALS`);
    sigmoid and tanh by piecewise-linear tables of ``pwl_segments`` segments;
    ``tanh(c_t)``, eq. (6) and the head in float. The quantized cell runs in float64.
    In eval mode it evaluates exactly the operations of
    :func:`eegbin.nn.lstm_cell.lstm_recurrence` with the cell of
    :func:`eegbin.nn.mubinn.mubinn2_cell`: the gate products as eq. (9) by
    :func:`eegbin.kernels.multilevel_matmul` on the packed sign planes (its fused
    multiply-adds fix the rounding; torch has none on float64), so the exported network run
    without torch (:class:`eegbin.nn.LearnedMultiLevelLSTM`) gets every sign plane
    of this one, bit for bit. In training mode the products are those of the
    reconstructed operands (the same numbers to float64 rounding, one matrix
    product instead of ``A W``).

    Parameters
    ----------
    n_chans, n_outputs : int
    hidden_size : int, default=100
    downsample : int, default=1
    quantize : {None, "mubinn2"}, default=None
    activation_levels, weight_levels : int, default=2
        ``A`` and ``W`` of MuBiNN2.
    pwl_segments : int, default=32
        Segments of the sigmoid and tanh tables (MuBiNN2).
    init_from : str or PathLike, optional
        An export (:func:`eegbin.train.export`) of a trained LSTMNet with the same
        sizes whose LSTM and head weights start this one (e.g. a float LSTM fine-tuned
        into MuBiNN2); its input scale is unfolded from ``weight_ih_l0``, so train on
        data scaled as that model's was.

    Examples
    --------
    >>> import torch
    >>> from eegbin.train import LSTMNet
    >>> LSTMNet(n_chans=3, n_outputs=2, hidden_size=8).eval()(torch.zeros(4, 3, 40)).shape
    torch.Size([4, 2])
    >>> net = LSTMNet(3, 2, hidden_size=8, quantize="mubinn2", activation_levels=2, weight_levels=3)
    >>> net(torch.randn(4, 3, 40)).shape, net.q_forget_gate.offset, net.q_bias.n_levels
    (torch.Size([4, 2]), 0.5, 3)
    """

    def __init__(self, n_chans, n_outputs, hidden_size=100, downsample=1, quantize=None,
                 activation_levels=2, weight_levels=2, pwl_segments=32, init_from=None):
        super().__init__()
        self.lstm = nn.LSTM(n_chans, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_outputs)
        if init_from is not None:
            self._load_export(init_from)
        self.downsample = int(downsample)
        self.hidden_size = hidden_size
        self.quantize = quantize
        self.hparams = dict(n_chans=n_chans, n_outputs=n_outputs, hidden_size=hidden_size,
                            downsample=downsample, quantize=quantize,
                            activation_levels=activation_levels, weight_levels=weight_levels,
                            pwl_segments=pwl_segments,
                            init_from=None if init_from is None else str(init_from))
        if quantize not in (None, "mubinn2"):
            raise ValueError(f"quantize must be None or 'mubinn2', got {quantize!r}")
        if quantize:
            from ..nn.export_format import LSTM_BIAS, LSTM_WEIGHTS, MUBINN2_ACTIVATIONS
            from ..nn.mubinn import MUBINN2_SIGNALS

            #: cell signal -> name of its quantizer; binarized tensor -> name of its quantizer
            self.signal_quantizers = {signal: name for signal, name in MUBINN2_ACTIVATIONS.values()}
            self.weight_quantizers = {**LSTM_WEIGHTS, LSTM_BIAS[0]: LSTM_BIAS[1]}
            for signal, name in self.signal_quantizers.items():
                setattr(self, name, MultiLevelBinarize(activation_levels, offset=MUBINN2_SIGNALS[signal]))
            for name in self.weight_quantizers.values():
                setattr(self, name, MultiLevelBinarize(weight_levels))
            self.sigmoid_table = PiecewiseLinear("sigmoid", pwl_segments)
            self.tanh_table = PiecewiseLinear("tanh", pwl_segments)

    @torch.no_grad()
    def _load_export(self, path):
        from ..nn import load_weights, read_export_metadata

        meta = read_export_metadata(path)
        if meta.get("model") != "LSTMNet":
            raise ValueError(f"init_from: {str(path)!r} holds a {meta.get('model')!r} export, not an LSTMNet")
        w = load_weights(path)
        state = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in w.items()
                 if k.startswith(("lstm.", "head."))}
        state["lstm.weight_ih_l0"] = state["lstm.weight_ih_l0"] * float(meta.get("input_scale", 1.0))
        own = {k: v for k, v in self.state_dict().items() if k.startswith(("lstm.", "head."))}
        bad = {k: (tuple(state[k].shape) if k in state else None, tuple(v.shape))
               for k, v in own.items() if k not in state or state[k].shape != v.shape}
        if bad:
            raise ValueError(f"init_from: the tensors of {str(path)!r} do not fit this LSTMNet "
                             f"(name: (found, expected) shape): {bad}")
        for k, v in own.items():
            v.copy_(state[k])

    def sequences(self, x):
        """(n, C, T) epochs -> (n, T', C) sequences (time average-pooled by ``downsample``)."""
        if self.downsample > 1:
            x = F.avg_pool1d(x, self.downsample, self.downsample)
        return x.transpose(1, 2)

    def latent_tensors(self):
        """The tensors MuBiNN2 binarizes, float64: ``W_x``, ``W_h`` and the bias the cell adds.

        Keys as in :mod:`eegbin.nn.export_format`; the bias is the sum of ``nn.LSTM``'s two.
        """
        return {"lstm.weight_ih_l0": self.lstm.weight_ih_l0.double(),
                "lstm.weight_hh_l0": self.lstm.weight_hh_l0.double(),
                "lstm.bias_l0": (self.lstm.bias_ih_l0 + self.lstm.bias_hh_l0).double()}

    def features(self, x, observe=None):
        """The last hidden state (n, H) of the LSTM on epochs ``x`` (n, C, T).

        ``observe(name, values)`` (MuBiNN2 only) receives every signal of the cell where
        its quantizer acts, before it acts, as :func:`eegbin.nn.lstm_cell.lstm_layer`
        reports them (``"x"``, ``"h"``, ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"``,
        ``"tanh_c"``).
        """
        s = self.sequences(x)
        if not self.quantize:
            out, _ = self.lstm(s)
            return out[:, -1]
        s = s.double()
        if not all(bool(getattr(self, name).initialized) for name in self.signal_quantizers.values()):
            self._init_activation_scales(s)
        return self._recurrence(s, quantized=True, exact=not self.training, observe=observe)

    @torch.no_grad()
    def cell_codes(self, x):
        """The sign planes of every binarized signal of the cell (MuBiNN2, eval mode), step by step.

        Parameters
        ----------
        x : Tensor of shape (n, C, T)
            Epochs (divided by the input scale, as the model sees them in training).

        Returns
        -------
        dict of str to ndarray of int8
            As :meth:`eegbin.nn.LearnedMultiLevelLSTM.cell_codes`: per signal (``"x"``,
            ``"h"``, ``"i"``, ``"f"``, ``"g"``, ``"o"``, ``"c"``) ±1 planes of shape
            (n_steps, L, n, width); ``"x"``: (1, L, n * T', C).
        """
        if not self.quantize:
            raise ValueError("cell_codes needs a quantized LSTMNet (quantize='mubinn2')")
        was = self.training
        self.eval()
        seen = {}
        self.features(x, observe=lambda name, v: seen.setdefault(name, []).append(v))
        self.train(was)
        return {signal: np.stack([self._quantizer(signal).codes(v.reshape(-1, v.shape[-1])).numpy().astype(np.int8)
                                  for v in seen[signal]])
                for signal in self.signal_quantizers}

    def forward(self, x):
        h = self.features(x)
        if not self.quantize:
            return self.head(h)
        return F.linear(h, self.head.weight.double(), self.head.bias.double())

    # -- MuBiNN2 ----------------------------------------------------------------
    def _quantizer(self, signal):
        return getattr(self, self.signal_quantizers[signal])

    @torch.no_grad()
    def _init_activation_scales(self, s):
        """Greedy static scales of each binarized signal over all its values in the float cell."""
        seen = {}
        self._recurrence(s, quantized=False, exact=False,
                         observe=lambda name, v: seen.setdefault(name, []).append(v.reshape(-1)))
        for signal, name in self.signal_quantizers.items():
            q = getattr(self, name)
            if not bool(q.initialized):
                q.init_scales(torch.cat(seen[signal]))

    def _product(self, v, signal, key, weights, codes):
        """``q(v) @ q(W).T``: eq. (9) by multilevel_matmul (``codes``: the weights' packed planes and
        scales), or the product of the reconstructions (``weights``: the binarized weights)."""
        qa = self._quantizer(signal)
        if codes is None:
            return qa(v) @ weights[key].T
        w_planes, w_scales = codes[key]
        D = v.shape[-1]
        x_planes = _packed(qa.codes(v).reshape(qa.n_levels, -1, D))
        out = multilevel_matmul(x_planes, qa.scales.detach().double().numpy(), w_planes, w_scales, D)
        return torch.from_numpy(out).reshape(v.shape[:-1] + (out.shape[1],))

    def _recurrence(self, s, quantized, exact, observe=None):
        """The cell of eq. (1)-(6) over (n, T, C) float64 sequences, as eegbin.nn.lstm_cell computes it.

        The four gate outputs are binarized in one call with per-column scales and
        offsets: the same element-wise operations as four calls.
        """
        latent = self.latent_tensors()
        weights, codes = latent, None
        if quantized:  # binarized once per sequence: W_x, W_h and the bias
            weights = {key: getattr(self, q)(latent[key]) for key, q in self.weight_quantizers.items()}
        if exact:
            codes = {key: (_packed(getattr(self, q).codes(latent[key])), getattr(self, q).scales.detach().double()
                           .numpy()) for key, q in self.weight_quantizers.items() if key != "lstm.bias_l0"}
        if observe is None:
            observe = _ignore
        n, H = s.shape[0], self.hidden_size
        gate_q = [self._quantizer(g) for g in "ifgo"]
        gate_scales = torch.cat([q.scales[:, None].expand(-1, H) for q in gate_q], dim=1)  # (A, 4H)
        gate_offsets = torch.cat([s.new_full((H,), q.offset) for q in gate_q])
        observe("x", s)
        if quantized:
            gx = self._product(s, "x", "lstm.weight_ih_l0", weights, codes) + weights["lstm.bias_l0"]
        else:
            gx = s @ latent["lstm.weight_ih_l0"].T + latent["lstm.bias_l0"]
        h, c = s.new_zeros(n, H), s.new_zeros(n, H)
        for t in range(s.shape[1]):
            observe("h", h)
            if quantized:
                z = gx[:, t] + self._product(h, "h", "lstm.weight_hh_l0", weights, codes)
            else:
                z = gx[:, t] + h @ latent["lstm.weight_hh_l0"].T
            z_if, z_g, z_o = z.split([2 * H, H, H], dim=1)
            act = torch.cat([self.sigmoid_table(z_if), self.tanh_table(z_g), self.sigmoid_table(z_o)], dim=1)
            for signal, v in zip("ifgo", act.chunk(4, dim=1)):
                observe(signal, v)
            observe("c", c)
            if quantized:
                act = multilevel_binarize_ste(act, gate_scales, gate_offsets)
                c = self._quantizer("c")(c)
            i, f, g, o = act.chunk(4, dim=1)
            c = f * c + i * g
            tanh_c = self.tanh_table(c)
            observe("tanh_c", tanh_c)
            h = o * tanh_c
        return h


def _packed(planes):
    """±1 planes (L, n, D) as the packed uint64 planes (L, n, words) of eegbin.kernels."""
    return np.stack([pack_bits(p, "bipolar") for p in planes.detach().numpy().astype(np.int8)])


def _ignore(name, values):
    pass

"""Plain-torch reference models for the parity tests (torch is the oracle).

``BraindecodeEEGNet`` reproduces the module layout of ``braindecode.models.EEGNet``
(v1.x) with the same module names, so its ``state_dict`` has braindecode's keys:
``ensuredims`` and ``dimshuffle`` (the input becomes (batch, 1, C, T)), max-norm
parametrization on ``conv_spatial`` (``torch.nn.utils.parametrize``), padding
``K // 2``, AvgPool2d (1, pool1) and (1, pool2), ELU, dropout, and the ``final_layer``
(conv_classifier, permute back, squeeze). ``KerasEEGNet`` computes
what the original Keras EEGNet computes ("same" padding, channels-last flatten,
dense head) from Keras-shaped weights.
"""

import copy

import torch
from torch import nn
from torch.nn.utils import parametrize


class MaxNorm(nn.Module):
    def __init__(self, max_norm):
        super().__init__()
        self.max_norm = max_norm

    def forward(self, w):
        return w.renorm(p=2, dim=0, maxnorm=self.max_norm)


class Squeeze(nn.Module):
    def forward(self, x):
        x = x[:, :, :, 0]
        return x[:, :, 0] if x.shape[2] == 1 else x


class Permute(nn.Module):
    def forward(self, x):
        return x.permute(0, 1, 3, 2)


class Ensure4d(nn.Module):
    """braindecode's Ensure4d: trailing singleton dimensions up to 4-D."""

    def forward(self, x):
        while x.ndim < 4:
            x = x.unsqueeze(-1)
        return x


class Dimshuffle(nn.Module):
    """braindecode's ``Rearrange("batch ch t 1 -> batch 1 ch t")``."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)


class BraindecodeEEGNet(nn.Sequential):
    def __init__(self, n_chans, n_outputs, n_times, F1=8, D=2, F2=None, kernel_length=64,
                 depthwise_kernel_length=16, pool1_kernel_size=4, pool2_kernel_size=8,
                 drop_prob=0.25, max_norm=1.0):
        super().__init__()
        self._init_args = dict(n_chans=n_chans, n_outputs=n_outputs, n_times=n_times, F1=F1, D=D,
                               F2=F2, kernel_length=kernel_length,
                               depthwise_kernel_length=depthwise_kernel_length,
                               pool1_kernel_size=pool1_kernel_size,
                               pool2_kernel_size=pool2_kernel_size, drop_prob=drop_prob,
                               max_norm=max_norm)
        F2 = F2 or F1 * D
        self.add_module("ensuredims", Ensure4d())
        self.add_module("dimshuffle", Dimshuffle())
        self.add_module("conv_temporal", nn.Conv2d(1, F1, (1, kernel_length), bias=False,
                                                   padding=(0, kernel_length // 2)))
        self.add_module("bnorm_temporal", nn.BatchNorm2d(F1, momentum=0.01, eps=1e-3))
        conv_spatial = nn.Conv2d(F1, F1 * D, (n_chans, 1), bias=False, groups=F1)
        parametrize.register_parametrization(conv_spatial, "weight", MaxNorm(max_norm))
        self.add_module("conv_spatial", conv_spatial)
        self.add_module("bnorm_1", nn.BatchNorm2d(F1 * D, momentum=0.01, eps=1e-3))
        self.add_module("elu_1", nn.ELU())
        self.add_module("pool_1", nn.AvgPool2d(kernel_size=(1, pool1_kernel_size)))
        self.add_module("drop_1", nn.Dropout(drop_prob))
        self.add_module("conv_separable_depth", nn.Conv2d(
            F1 * D, F1 * D, (1, depthwise_kernel_length), bias=False, groups=F1 * D,
            padding=(0, depthwise_kernel_length // 2)))
        self.add_module("conv_separable_point", nn.Conv2d(F1 * D, F2, (1, 1), bias=False))
        self.add_module("bnorm_2", nn.BatchNorm2d(F2, momentum=0.01, eps=1e-3))
        self.add_module("elu_2", nn.ELU())
        self.add_module("pool_2", nn.AvgPool2d(kernel_size=(1, pool2_kernel_size)))
        self.add_module("drop_2", nn.Dropout(drop_prob))
        with torch.no_grad():
            t_out = self._body(torch.zeros(1, n_chans, n_times)).shape[3]
        final = nn.Sequential()
        final.add_module("conv_classifier", nn.Conv2d(F2, n_outputs, (1, t_out), bias=True))
        final.add_module("permute_back", Permute())
        final.add_module("squeeze", Squeeze())
        self.add_module("final_layer", final)

    def frozen(self):
        """The same function with the max-norm parametrization applied once and removed
        (what ONNX export needs: ``aten::renorm`` has no ONNX operator)."""
        new = copy.deepcopy(self._init_args)
        model = BraindecodeEEGNet(**new)
        parametrize.remove_parametrizations(model.conv_spatial, "weight", leave_parametrized=False)
        sd = {k: v for k, v in self.state_dict().items() if "parametrizations" not in k}
        with torch.no_grad():
            sd["conv_spatial.weight"] = self.conv_spatial.weight.detach().clone()
        model.load_state_dict(sd)
        return model.eval()

    def _body(self, x):
        for name, module in self.named_children():
            if name == "final_layer":
                break
            x = module(x)
        return x

    def forward(self, x):
        return self.final_layer(self._body(x))

    def randomize(self, seed=0):
        """Random weights and batch-norm statistics (some spatial rows above max-norm)."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                scale = 0.6 if "spatial" in name else 0.05 if "classifier" in name else 0.3
                p.copy_(torch.randn(p.shape, generator=g) * scale)  # logits of order 1
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.2)
                    m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                    m.weight.add_(1.0)
        return self.eval()


class KerasEEGNet(nn.Module):
    """The Keras EEGNet function, from Keras-shaped weights (a dict of tensors)."""

    def __init__(self, w, pool1=4, pool2=8, eps=1e-3):
        super().__init__()
        self.w, self.pool1, self.pool2, self.eps = w, pool1, pool2, eps

    @staticmethod
    def _same(x, k):
        left = (k - 1) // 2
        return nn.functional.pad(x, (left, k - 1 - left))

    def _bn(self, x, name):
        g, b, m, v = (self.w[f"{name}/{name}/{p}:0"] for p in ("gamma", "beta", "moving_mean", "moving_variance"))
        return nn.functional.batch_norm(x, m, v, g, b, training=False, eps=self.eps)

    def forward(self, x):  # x: (n, C, T)
        w = self.w
        k1 = w["conv2d/conv2d/kernel:0"]            # (1, K1, 1, F1)
        F1, K1 = k1.shape[3], k1.shape[1]
        x = self._same(x.unsqueeze(1), K1)         # NCHW with channel 1
        x = nn.functional.conv2d(x, k1.permute(3, 2, 0, 1))
        x = self._bn(x, "batch_normalization")
        dk = w["depthwise_conv2d/depthwise_conv2d/depthwise_kernel:0"]  # (C, 1, F1, D)
        C, D = dk.shape[0], dk.shape[3]
        x = nn.functional.conv2d(x, dk.permute(2, 3, 0, 1).reshape(F1 * D, 1, C, 1), groups=F1)
        x = nn.functional.avg_pool2d(nn.functional.elu(self._bn(x, "batch_normalization_1")), (1, self.pool1))
        sd = w["separable_conv2d/separable_conv2d/depthwise_kernel:0"]  # (1, K3, F1D, 1)
        sp = w["separable_conv2d/separable_conv2d/pointwise_kernel:0"]  # (1, 1, F1D, F2)
        x = nn.functional.conv2d(self._same(x, sd.shape[1]), sd.permute(2, 3, 0, 1), groups=F1 * D)
        x = nn.functional.conv2d(x, sp.permute(3, 2, 0, 1))
        x = nn.functional.avg_pool2d(nn.functional.elu(self._bn(x, "batch_normalization_2")), (1, self.pool2))
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # channels-last Flatten
        return x @ w["dense/dense/kernel:0"] + w["dense/dense/bias:0"]

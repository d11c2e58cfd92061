"""Random weight dicts in the Keras EEGNet layout (arl-eegmodels layer names)."""

import numpy as np


def keras_weights(rng, C=22, T=1125, F1=8, D=2, F2=16, K1=64, K3=16, n_classes=4, pool1=4, pool2=8):
    t_out = (T // pool1) // pool2  # "same" padding keeps the length
    w = {
        "conv2d/conv2d/kernel:0": rng.standard_normal((1, K1, 1, F1)) * 0.2,
        "depthwise_conv2d/depthwise_conv2d/depthwise_kernel:0": rng.standard_normal((C, 1, F1, D)) * 0.4,
        "separable_conv2d/separable_conv2d/depthwise_kernel:0": rng.standard_normal((1, K3, F1 * D, 1)) * 0.3,
        "separable_conv2d/separable_conv2d/pointwise_kernel:0": rng.standard_normal((1, 1, F1 * D, F2)) * 0.3,
        "dense/dense/kernel:0": rng.standard_normal((t_out * F2, n_classes)) * 0.3,
        "dense/dense/bias:0": rng.standard_normal(n_classes) * 0.1,
    }
    for bn, n in (("batch_normalization", F1), ("batch_normalization_1", F1 * D),
                  ("batch_normalization_2", F2)):
        w[f"{bn}/{bn}/gamma:0"] = rng.uniform(0.5, 1.5, n)
        w[f"{bn}/{bn}/beta:0"] = rng.standard_normal(n) * 0.1
        w[f"{bn}/{bn}/moving_mean:0"] = rng.standard_normal(n) * 0.1
        w[f"{bn}/{bn}/moving_variance:0"] = rng.uniform(0.5, 2, n)
    return {k: v.astype(np.float32) for k, v in w.items()}

"""
Product quantization of a dense layer: error and accuracy versus sub-spaces
===========================================================================

Feng et al. replace the fully-connected layer of EEGNet by product quantization:
the input is split into ``m`` sub-vectors, each encoded by a balanced binary
regression tree (4 comparisons, 16 leaves) and the layer output is a sum of
``m`` precomputed 8-bit table entries. This example reproduces the trend of
their Fig. 3 on synthetic 4-class features of the EEGNet dense-layer size
(272): the approximation error falls and the accuracy approaches the float
model as ``m`` grows; hash trees are compared with k-means encoders.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from eegbin import PQClassifier, footprint  # noqa: E402

rng = np.random.RandomState(0)
# EEGNet-like flattened feature maps: 16 filters x 17 pooled time points = 272.
# Each filter's output is a smooth waveform whose amplitude depends on the class.
n, n_filters, n_times, n_classes = 1200, 16, 17, 4
y = rng.randint(n_classes, size=n)
waveforms = np.cumsum(rng.randn(n_filters, n_times), axis=1) / 3
class_gain = rng.randn(n_classes, n_filters)
amp = class_gain[y] + 2.0 * rng.randn(n, n_filters)
X = (amp[:, :, None] * waveforms[None] + 0.3 * rng.randn(n, n_filters, n_times)).reshape(n, -1)
Xtr, Xte, ytr, yte = X[:800], X[800:], y[:800], y[800:]

lr = LogisticRegression(C=0.01, max_iter=2000).fit(Xtr, ytr)
ref_scores = lr.decision_function(Xte)
print(f"float logistic regression: accuracy {lr.score(Xte, yte):.3f}")

ms = [1, 2, 4, 8, 16, 34]
results = {}
for encoder in ("hash_tree", "kmeans"):
    acc, err = [], []
    for m in ms:
        clf = PQClassifier(lr, n_subspaces=m, encoder=encoder, prefit=True,
                           random_state=0).fit(Xtr, ytr)
        s = clf.decision_function(Xte)
        acc.append(clf.score(Xte, yte))
        err.append(np.linalg.norm(s - ref_scores) / np.linalg.norm(ref_scores - ref_scores.mean(0)))
        if encoder == "hash_tree" and m == 8:
            print(footprint(clf, float_bits=16).table())
    results[encoder] = (acc, err)
    print(encoder, "accuracy:", np.round(acc, 3), "relative score error:", np.round(err, 3))

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for encoder, (acc, err) in results.items():
    axes[0].plot(ms, err, "o-", label=encoder)
    axes[1].plot(ms, acc, "o-", label=encoder)
axes[1].axhline(lr.score(Xte, yte), ls="--", c="gray", label="float")
axes[0].set_ylabel("relative error of the scores")
axes[1].set_ylabel("test accuracy")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("sub-spaces m")
    ax.legend()
fig.suptitle("Product-quantized dense layer (272 -> 4), 16 prototypes, 8-bit tables")
fig.tight_layout()
fig.savefig("plot_pq_subspaces.png", dpi=100)

"""
Compressing a trained EEGNet without PyTorch
============================================

Load EEGNet weights (here: a random braindecode-layout state dict saved as
``.npz``; a ``torch.save`` file or Keras HDF5 weights load the same way), put a
new classification head on the network with :class:`eegbin.EEGNetClassifier`
(``refit_head=True``: random weights carry no trained head worth keeping),
and apply Feng et al.'s compressions one at a time: batch-norm folding,
embedded channel selection (eq. 1), 8-bit weights with 16-bit feature maps, a
product-quantized dense layer and softmax -> max. For each variant we print the
held-out accuracy, the stored memory and the operations per inference.
"""

import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from eegbin import EEGNetClassifier  # noqa: E402
from eegbin.nn import EEGNet  # noqa: E402

rng = np.random.default_rng(0)
n_chans, n_times, sfreq = 12, 256, 128.0


def mi_like(n):
    """Trials whose class sets a 10 Hz rhythm on a class-specific channel group."""
    t = np.arange(n_times) / sfreq
    y = np.arange(n) % 3
    X = rng.standard_normal((n, n_chans, n_times)) * 0.5
    for i in range(n):
        X[i, y[i]::3] += 2.0 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi))
    return X, y


X_train, y_train = mi_like(240)
X_test, y_test = mi_like(120)

path = os.path.join(tempfile.mkdtemp(), "eegnet.npz")
np.savez(path, **EEGNet.random_weights(n_chans, n_times, n_classes=3, rng=rng))

variants = {
    "float32": {},
    "BN folded": dict(fold_batchnorm=True),
    "+ 8 of 12 channels": dict(fold_batchnorm=True, n_selected_channels=8),
    "+ 8-bit / 16-bit": dict(n_selected_channels=8, fixed_point=True),
    "+ PQ head, max": dict(n_selected_channels=8, fixed_point=True, head="pq", output="max"),
}
names, kB, macs = [], [], []
for name, options in variants.items():
    clf = EEGNetClassifier(path, n_chans, n_times, sfreq, refit_head=True, **options)
    clf.fit(X_train, y_train)
    fp = clf.footprint()
    names.append(name)
    kB.append(fp.kB)
    macs.append(fp.total_macs)
    print(f"{name:20s} accuracy {clf.score(X_test, y_test):.2f}  "
          f"{fp.kB:5.2f} kB  {fp.total_macs:>9,d} MAC/inference")
print(clf.footprint().table())

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
axes[0].barh(names, kB)
axes[0].set_xlabel("memory [kB]")
axes[1].barh(names, np.array(macs) / 1e6)
axes[1].set_xlabel("MMAC / inference")
axes[1].set_yticks([])
fig.tight_layout()
fig.savefig(os.path.join(tempfile.gettempdir(), "eegnet_compression.png"))

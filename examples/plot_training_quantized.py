"""
Quantization-aware training, export, and torch-free inference
=============================================================

Train EEGNet (float and BiPer-binarized), MI-MANN (EEGNet controller, random
projection to 256 bipolar dimensions stored as its seed, and a binary key-value
memory) and an LSTM
(float and MuBiNN2 at (A, W) = (2, 2)) with :class:`eegbin.train.TorchEEGClassifier`
on one subject of the simulated dataset, cross-session (train on session ``0train``,
test on ``1test``). Each model is exported with :func:`eegbin.train.export` and run
again **without PyTorch** (:class:`eegbin.nn.EEGNet`,
:class:`eegbin.BinaryKeyValueMemory`, :class:`eegbin.LSTMClassifier`), whose
``footprint()`` gives the memory and operations per inference.

To stay under a minute this trains for a handful of epochs on 64 Hz epochs (and a
32-cell LSTM instead of MuBiNN's 100), so the accuracies are far below the papers' (Hersche 2020 Table I:
EEGNet 72.32 %, MI-MANN RP d=256 72.31 % on BCI IV-2a; MuBiNN: 83.67 % float LSTM, 81.63 % MuBiNN2
(2, 2) on its own EEG data set). The full run over all nine subjects is
``docs/reproductions/train_quantized.py``; the second part of this example plots its
committed results (``docs/reproductions/results/training/``) with the papers' published
numbers beside them.
"""

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from eegbin import BinaryKeyValueMemory, Footprint, LSTMClassifier, footprint  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.nn import EEGNet, load_weights  # noqa: E402
from eegbin.train import TorchEEGClassifier, export, read_export_metadata  # noqa: E402

X, y, meta = load_motor_imagery("simulated", subjects=[1], fmin=4.0, fmax=30.0, resample=64.0)
train = (meta.session == "0train").to_numpy()
X_tr, y_tr, X_te, y_te = X[train], y[train], X[~train], y[~train]
n_chans, n_times = X.shape[1:]
eegnet = dict(kernel_length=32, pool1=4, pool2=8)
models = {
    "EEGNet float": ("eegnet", dict(eegnet)),
    "EEGNet BiPer": ("eegnet", dict(eegnet, binarize="biper", omega=2.0)),
    "MI-MANN RP 256": ("mimann", dict(eegnet, projection="random", n_components=256)),
    "LSTM float": ("lstm", dict(downsample=4, hidden_size=32)),
    "MuBiNN2 (2,2)": ("lstm", dict(downsample=4, hidden_size=32, quantize="mubinn2",
                                   activation_levels=2, weight_levels=2)),
}
epochs = {"eegnet": 4, "mimann": 40, "lstm": 2}  # MI-MANN: episodes of one batch each
tmp = Path(tempfile.mkdtemp())
rows = []
for name, (kind, params) in models.items():
    clf = TorchEEGClassifier(kind, model_params=params, max_epochs=epochs[kind], batch_size=32,
                             lr=1e-2, random_state=0).fit(X_tr, y_tr)
    path, _ = export(clf, tmp / "model.safetensors")
    w = load_weights(path)  # safetensors: no code execution, no torch
    if kind == "eegnet":
        net = EEGNet(w, n_chans=n_chans, n_times=n_times, pool1_kernel_size=4, pool2_kernel_size=8)
        pred, fp = clf.classes_[net.forward(X_te).argmax(1)], net.footprint()
    elif kind == "mimann":  # controller + memory; the projection comes back from its seed
        net = EEGNet({k: v for k, v in w.items() if not k.startswith("memory")},
                     n_chans=n_chans, n_times=n_times, pool1_kernel_size=4, pool2_kernel_size=8)
        mem = BinaryKeyValueMemory(projection="random", random_state=read_export_metadata(path)["seed"],
                                   n_components=256).fit(net.features(X_tr[clf.support_index_]),
                                                   y_tr[clf.support_index_])
        pred = mem.predict(net.features(X_te))
        controller = [p for p in net.footprint().parts if p.name not in ("FC", "softmax")]
        fp = Footprint("MI-MANN", parts=(*controller, footprint(mem)))
    else:  # network, pooling, input scale, head and classes (MuBiNN2: codes, learned scales)
        free = LSTMClassifier.from_export(path)
        pred, fp = free.predict(X_te), free.footprint()
    rows.append((name, np.mean(clf.predict(X_te) == y_te), np.mean(pred == y_te), fp.kB))

print(f"{'model':16s} {'acc torch':>9s} {'acc numpy':>9s} {'kB':>8s}")
for name, a_t, a_n, kb in rows:
    print(f"{name:16s} {100 * a_t:9.1f} {100 * a_n:9.1f} {kb:8.2f}")

# %%
# Float EEGNet and MI-MANN run identically without torch (same predictions). The
# binarized EEGNets do too: the exported weights are the deployed ``gamma * (+-1)``;
# the eegbin.nn footprint counts them at 32 bits (see the reproduction script for
# the 1-bit accounting). The LSTMs load with ``LSTMClassifier.from_export``: the
# MuBiNN2 one runs with the exported ±1 weight codes and the learned weight and
# activation scales (XNOR-popcount products), so it predicts what the
# quantization-aware trained torch model predicts.
fig, ax = plt.subplots(figsize=(7, 3.5))
names = [r[0] for r in rows]
ax.barh(names, [100 * r[2] for r in rows], color="tab:blue")
for i, r in enumerate(rows):
    ax.text(100 * r[2] + 1, i, f"{r[3]:.1f} kB", va="center", fontsize=8)
ax.axvline(25, color="gray", ls=":", label="chance (4 classes)")
ax.set_xlabel("cross-session accuracy, torch-free inference [%]")
ax.set_xlim(0, 100)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# The full run: all subjects, all methods, published numbers beside
# ------------------------------------------------------------------
# ``docs/reproductions/train_quantized.py`` trains every method of the issue (float,
# STE- and BiPer-binarized EEGNet, MI-MANN with a random and a learned projection,
# float LSTM, MuBiNN2 at (1,1), (2,2), (3,3)) on every subject, cross-session, and
# scores the exported models without torch. Its summary is committed; here it is read
# back and drawn as accuracy against memory.
import pandas as pd  # noqa: E402

try:
    root = Path(__file__).resolve().parents[1]
except NameError:  # run by sphinx-gallery from the examples directory
    root = Path.cwd().resolve().parent
summary = pd.read_csv(root / "docs" / "reproductions" / "results" / "training" /
                      "training_quantized_summary.csv", index_col="method")
cols = ["acc_torch", "acc_torch_free", "agreement", "kB", "n_subjects", "published", "published_on"]
table = summary[cols].copy()
table[["acc_torch", "acc_torch_free", "agreement"]] *= 100
print(table.round(2).to_string())

fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(summary.kB, 100 * summary.acc_torch_free, color="tab:blue")
below = {"EEGNet BiPer-binarized", "EEGNet BiPer + DeSign3D-S features", "LSTM float",
         "MuBiNN2 (2,2)"}  # crowded labels
for m, r in summary.iterrows():
    ax.annotate(f"{m} ({int(r.n_subjects)})", (r.kB, 100 * r.acc_torch_free), fontsize=7,
                xytext=(4, -10 if m in below else 3), textcoords="offset points")
ax.axhline(25, color="gray", ls=":", label="chance (4 classes)")
ax.set_xscale("log")
ax.set_xlim(summary.kB.min() / 1.5, summary.kB.max() * 3)  # room for the labels
ax.set_xlabel("memory of the torch-free model [kB]")
ax.set_ylabel("cross-session accuracy [%]")
n_subjects = sorted(set(summary.n_subjects.astype(int)))
ax.set_title(f"simulated data, mean over {n_subjects[0]} subjects" if len(n_subjects) == 1
             else "simulated data, mean over the subjects each method ran on (in brackets)")
ax.legend(loc="upper center")
fig.tight_layout()
plt.show()

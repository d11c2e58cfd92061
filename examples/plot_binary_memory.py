"""
Few-shot binary key-value memory: add a class and recalibrate without retraining
================================================================================

:class:`eegbin.BinaryKeyValueMemory` is the memory head of MI-MANN (Hersche et
al. 2020, Sec. IV): feature vectors are projected to 256 bits (a bipolar random
projection regenerated from a 32-bit seed), stored as keys next to their labels,
and a query is classified by Hamming similarity to every key, softabs sharpening
and a readout of the labels.

Because the "model" is just the memory, new examples can be written at run time:
here a fourth class is added from 8 examples, then a new session whose feature
space has drifted is recalibrated with 8 trials per class. Nothing is retrained.

The features are synthetic stand-ins for EEGNet's 272 flattened features (one
random direction per class plus noise), so the script runs offline in seconds.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from eegbin import BinaryKeyValueMemory  # noqa: E402

rng = np.random.default_rng(0)
n_features, n_classes = 272, 4
means = rng.normal(size=(n_classes, n_features))
drift, _ = np.linalg.qr(rng.normal(size=(n_features, n_features)))


def session(n_per_class, rotation=None, noise=1.5):
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = means[y] + noise * rng.normal(size=(len(y), n_features))
    return (X if rotation is None else X @ rotation), y


def accuracy(mem, X, y):
    return float((mem.predict(X) == y).mean())


X_sup, y_sup = session(8)  # 4-way / 8-shot support set of session 1
X_test, y_test = session(60)
X_cal2, y_cal2 = session(8, drift)  # calibration trials of session 2
X_test2, y_test2 = session(60, drift)

# %%
# Session 1 with three classes, then a fourth class written at run time
mem = BinaryKeyValueMemory(n_components=256, random_state=0).fit(X_sup[y_sup < 3], y_sup[y_sup < 3])
steps = {"3 classes": accuracy(mem, X_test[y_test < 3], y_test[y_test < 3])}
mem.add_examples(X_sup[y_sup == 3], y_sup[y_sup == 3])
steps["+ class 3 (old classes)"] = accuracy(mem, X_test[y_test < 3], y_test[y_test < 3])
steps["+ class 3 (new class)"] = accuracy(mem, X_test[y_test == 3], y_test[y_test == 3])

# %%
# Session 2 drifted: the session-1 memory fails, 8 calibration trials per class fix it
steps["session 2, before"] = accuracy(mem, X_test2, y_test2)
mem.add_examples(X_cal2, y_cal2)
steps["session 2, recalibrated"] = accuracy(mem, X_test2, y_test2)
for name, acc in steps.items():
    print(f"{name:<26s} {acc:.2f}")
print(mem.footprint().table())

fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(steps), list(steps.values()), color="tab:blue")
ax.axvline(1 / n_classes, color="k", ls=":", label="chance")
ax.set_xlabel("accuracy")
ax.set_xlim(0, 1)
ax.legend(loc="lower right")
fig.tight_layout()
fig.savefig("binary_memory_few_shot.png", dpi=100)

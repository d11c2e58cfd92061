"""
A first pipeline: accuracy and footprint
========================================

Load one subject of the offline simulated motor-imagery dataset through MOABB,
cross-validate three scikit-learn pipelines on it, and read off what each model costs
with :func:`eegbin.footprint`. This is the notebook workflow eegbin is built for:
every step is a scikit-learn estimator, so any of them can be swapped for a binarized
or quantized one from :mod:`eegbin.binary` or :mod:`eegbin.quantize`.
"""

# %%
# Data: one simulated subject, 4 classes
# --------------------------------------
# :class:`~eegbin.datasets.SimulatedMotorImagery` has the channels and trial timing of
# BCI Competition IV-2a and needs no download. :func:`~eegbin.datasets.load_motor_imagery`
# epochs it with MOABB's ``MotorImagery`` paradigm (0.5-4 s after the cue), here
# band-passed to 8-32 Hz; both sessions of subject 1, 576 trials.
import matplotlib.pyplot as plt
import numpy as np

from eegbin.datasets import load_motor_imagery

X, y, metadata = load_motor_imagery("simulated", subjects=[1], fmin=8, fmax=32)
print(X.shape, np.unique(y))

# %%
# Three pipelines
# ---------------
# Minimum distance to the Riemannian mean (MDM), the tangent space followed by a
# linear SVM (the float baseline of Hersche et al. 2020), and its binarized form:
# multi-band Riemannian features projected to 2 000 bits and classified by Hamming
# distance to binarized class vectors. The eegbin steps need no more than their
# defaults to chain (the projection's width travels to the classifier as its columns).
from pyriemann.classification import MDM
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from eegbin import BinarizedLinearSVC, FilterBankRiemann, SparseBipolarRandomProjection

bands = [(8, 12), (12, 16), (16, 24), (24, 32)]
pipelines = {
    "MDM": make_pipeline(Covariances("oas"), MDM()),
    "TS + SVM": make_pipeline(Covariances("oas"), TangentSpace(), LinearSVC(C=0.1)),
    "RP + binarized SVM": make_pipeline(FilterBankRiemann(sfreq=250.0, bands=bands),
                                        SparseBipolarRandomProjection(n_components=2000, random_state=0),
                                        BinarizedLinearSVC(C=0.1)),
}
cv = StratifiedKFold(5, shuffle=True, random_state=0)
scores = {name: cross_val_score(p, X, y, cv=cv) for name, p in pipelines.items()}
for name, s in scores.items():
    print(f"{name:18s} accuracy {s.mean():.3f} +- {s.std():.3f}")

# %%
# What does each model cost?
# --------------------------
# :func:`eegbin.footprint` walks the fitted pipeline and reports stored parameters,
# memory (float16 here, the convention of the papers' tables) and multiply-accumulates
# per inference, step by step.
import eegbin

footprints = {}
for name, pipe in pipelines.items():
    pipe.fit(X, y)
    footprints[name] = eegbin.footprint(pipe, float_bits=16)
    print(name)
    print(footprints[name].table(), end="\n\n")

# %%
# Accuracy versus footprint
# -------------------------
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, s in scores.items():
    ax.errorbar(footprints[name].kB, s.mean(), yerr=s.std(), fmt="o", capsize=3, label=name)
ax.set_xlabel("model memory [kB, float16]")
ax.set_ylabel("5-fold accuracy")
ax.set_title("Simulated subject 1, 4 classes")
ax.legend()
fig.tight_layout()
plt.show()

"""
MuBiNN: a multi-level binarized LSTM over (A, W) levels, trained and run without torch
======================================================================================

MuBiNN2 (MuBiNN Section IV-C) binarizes every weight (``W_x``, ``W_h``, the bias: ``W``
levels) and every operand of the cell's products (``x_t``, ``h_{t-1}``, the gate outputs
``i, f, g, o`` and ``c_{t-1}``: ``A`` levels) with static scales that Algorithm 1 takes
as inputs and training learns. This example

1. trains a small float LSTM on one subject of the simulated dataset and fine-tunes a
   MuBiNN2 at (A, W) = (2, 2) from it with :class:`eegbin.train.TorchEEGClassifier`,
   exports it and runs it **without torch**: the sign planes of every binarized signal
   at every step are the same as in torch, so are the predictions;
2. binarizes the float LSTM after training at a few (A, W) (MuBiNN2 with calibrated
   static scales, MuBiNN1);
3. plots the full (A, W) = 1..5 grid (like the paper's Figs. 4-5) from the committed
   results of ``docs/reproductions/mubinn_grid.py`` (three subjects, 25 trained cells;
   too long for a gallery example).

Requires the ``torch`` extra.
"""

import importlib.util
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from eegbin import LSTMClassifier  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.nn import MultiLevelBinarizedLSTM  # noqa: E402
from eegbin.train import TorchEEGClassifier, export  # noqa: E402

torch.set_num_threads(1)
numba.set_num_threads(1)  # numba's idle OpenMP workers would compete with torch's training

# %%
# Data: one subject, cross-session, mu band at 32 Hz, 0.5-2.5 s after the cue (63 steps of
# 22 channels, the LSTM's sequence).
X, y, meta = load_motor_imagery("simulated", subjects=[1], tmin=0.5, tmax=2.5, fmin=4.0, fmax=14.0,
                                resample=32.0)
X = X.astype(np.float32)
train = (meta.session == "0train").to_numpy()
X_tr, y_tr, X_te, y_te = X[train], y[train], X[~train], y[~train]
tmp = Path(tempfile.mkdtemp())
common = dict(batch_size=64, lr=3e-3, random_state=0)

# %%
# A float LSTM (16 cells, dense head), exported; then MuBiNN2 (2, 2) fine-tuned from it.
float_clf = TorchEEGClassifier("lstm", model_params=dict(hidden_size=16), max_epochs=20, **common).fit(X_tr, y_tr)
float_path, _ = export(float_clf, tmp / "float.safetensors")
params = dict(hidden_size=16, quantize="mubinn2", activation_levels=2, weight_levels=2, init_from=str(float_path))
clf = TorchEEGClassifier("lstm", model_params=params, max_epochs=2, **common).fit(X_tr, y_tr)
path, _ = export(clf, tmp / "mubinn2.safetensors")
free = LSTMClassifier.from_export(path)  # no torch from here on

print(f"float LSTM        accuracy {np.mean(float_clf.predict(X_te) == y_te):.3f}")
print(f"MuBiNN2 (2, 2)    accuracy torch {np.mean(clf.predict(X_te) == y_te):.3f}, "
      f"torch-free {np.mean(free.predict(X_te) == y_te):.3f}, "
      f"same predictions {np.mean(clf.predict(X_te) == free.predict(X_te)):.3f}")

# %%
# The sign planes of every binarized signal, step by step, on 16 test trials: torch's
# (the trained model in eval mode) and the torch-free network's (fed the sequences the
# export reads: the epochs divided by the input scale, here without pooling).
codes_torch = clf.module_.cell_codes(torch.as_tensor(X_te[:16] / np.float32(clf.scale_)))
seq = np.ascontiguousarray((X_te[:16] / np.float32(free.net_.input_scale)).transpose(0, 2, 1))
codes_free = free.net_.cell_codes(seq)
for signal in sorted(codes_free):
    print(f"  {signal}: planes {codes_free[signal].shape} identical: "
          f"{np.array_equal(codes_free[signal], codes_torch[signal])}")
print(free.footprint().table())

# %%
# The float LSTM binarized after training (its static activation scales calibrated on the
# training epochs in ``fit``), at a few (A, W).
for mode in ("mubinn2", "mubinn1"):
    for A, W in [(1, 1), (3, 3), (5, 5)]:
        post = LSTMClassifier(MultiLevelBinarizedLSTM(str(float_path), A, W, mode=mode), pooling="mean",
                              refit_head=False).fit(X_tr, y_tr)
        print(f"{mode} ({A}, {W}) after training: accuracy {np.mean(post.predict(X_te) == y_te):.3f}")

# %%
# The full grid, from the reproduction script's committed results (mean over its subjects):
# MuBiNN2 trained with learned static scales (the torch-free accuracy, equal to torch's in
# every cell), and the float LSTM binarized after training. The heat maps are drawn by the
# script's own ``plot_grids`` (the one that writes ``grid.png``). On the simulated data
# (generator version 2) an LSTM of this size on this input stays near chance, here and in the
# grid, so the example shows torch = torch-free, not the accuracy trend of the paper's figures.
try:
    root = Path(__file__).resolve().parents[1]
except NameError:  # run by sphinx-gallery from the examples directory
    root = Path.cwd().resolve().parent
spec = importlib.util.spec_from_file_location("mubinn_grid", root / "docs" / "reproductions" / "mubinn_grid.py")
mubinn_grid = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mubinn_grid)
summary = pd.read_csv(root / "docs" / "reproductions" / "results" / "mubinn_grid" / "grid_summary.csv")
float_acc = float(summary.loc[summary.method == "LSTM float", "acc_torch_free"].iloc[0])
mubinn_grid.plot_grids(summary, None, float_acc)
plt.show()

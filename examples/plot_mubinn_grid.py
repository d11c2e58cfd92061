"""
MuBiNN: accuracy of a multi-level binarized LSTM over (A, W) levels
====================================================================

Trains a small LSTM (one layer, 32 units, dense head, as in MuBiNN Section V but
smaller) in PyTorch on simulated EEG-like epochs whose classes differ by the
frequency and channels of an oscillation, then runs it without PyTorch:

- in float (:class:`eegbin.nn.LSTM`, identical to torch),
- as B_LSTM (sign of inputs and input weights, no scales),
- as MuBiNN1 (input products multi-level binarized, power-of-two scales),
- as MuBiNN2 (everything multi-level binarized, products by XNOR-popcount,
  sigmoid/tanh by piecewise-linear tables),

for activation levels A and weight levels W in 1..5 (post-training, no
retraining), and reports the agreement with the float predictions and the
accuracy (like Fig. 5), the footprint, and the measured CPU time of the
binarized cell against the float cell (the paper's Table I reports logic delay
in 65 nm hardware, which a CPU simulation does not reproduce).
Requires the ``torch`` extra.
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import numba  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from eegbin.nn import LSTM, MultiLevelBinarizedLSTM  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(1)


def simulated_epochs(n, n_channels=8, n_times=64, seed=0):
    """(n, channels, times) epochs: class k adds a sinusoid of frequency f_k on channels 2k..2k+2."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    t = np.arange(n_times)
    X = rng.normal(size=(n, n_channels, n_times))
    for k, freq in enumerate((0.05, 0.12, 0.2)):
        idx = np.flatnonzero(y == k)
        phase = rng.uniform(0, 2 * np.pi, (len(idx), 1, 1))
        X[idx, 2 * k : 2 * k + 3] += np.sin(2 * np.pi * freq * t + phase)
    return X.astype(np.float32), y


X_train, y_train = simulated_epochs(600, seed=0)
X_test, y_test = simulated_epochs(200, seed=1)


class Net(torch.nn.Module):
    def __init__(self, n_features, hidden, n_classes):
        super().__init__()
        self.lstm = torch.nn.LSTM(n_features, hidden, batch_first=True)
        self.fc = torch.nn.Linear(hidden, n_classes)

    def forward(self, x):
        return self.fc(self.lstm(x)[0][:, -1])


# %%
# Train in torch: sequences over time, channels as features.
net = Net(8, 32, 3)
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
xt, yt = torch.from_numpy(X_train.transpose(0, 2, 1).copy()), torch.from_numpy(y_train)
for epoch in range(25):
    for idx in torch.randperm(len(xt)).split(64):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
        opt.step()
weights = {k: v.detach().numpy() for k, v in net.state_dict().items()}

seq_test = X_test.transpose(0, 2, 1)
float_net = LSTM(weights)
p_float = float_net(seq_test).argmax(1)
with torch.no_grad():
    assert np.array_equal(p_float, net(torch.from_numpy(seq_test.copy())).argmax(1).numpy())
print(f"float LSTM accuracy: {np.mean(p_float == y_test):.3f}")

# %%
# The (A, W) grid.
levels = range(1, 6)
results = {}
for mode in ("mubinn1", "mubinn2"):
    agree, acc = np.zeros((5, 5)), np.zeros((5, 5))
    for A in levels:
        for W in levels:
            pred = MultiLevelBinarizedLSTM(weights, A, W, mode=mode)(seq_test).argmax(1)
            agree[A - 1, W - 1], acc[A - 1, W - 1] = np.mean(pred == p_float), np.mean(pred == y_test)
    results[mode] = agree, acc
    print(f"\n{mode}: agreement with float / accuracy (rows A = 1..5, columns W = 1..5)")
    for A in levels:
        print(f"  A={A}  " + "  ".join(f"{agree[A-1, W-1]:.2f}/{acc[A-1, W-1]:.2f}" for W in levels))
p_b = MultiLevelBinarizedLSTM(weights, 1, 1, mode="b_lstm")(seq_test).argmax(1)
print(f"\nb_lstm (1, 1): agreement {np.mean(p_b == p_float):.2f}, accuracy {np.mean(p_b == y_test):.2f}")

# %%
# Static scales: Algorithm 1 takes its scaling factors as inputs, obtained
# offline. ``calibrate`` fixes one set per binarized signal from 100 training
# epochs, so no mean is computed at inference time.
X_cal = X_train[:100].transpose(0, 2, 1)
for mode in ("mubinn1", "mubinn2"):
    for A, W in [(2, 2), (3, 3), (5, 5)]:
        pred = MultiLevelBinarizedLSTM(weights, A, W, mode=mode).calibrate(X_cal)(seq_test).argmax(1)
        print(f"{mode} ({A},{W}) static scales: agreement {np.mean(pred == p_float):.2f}, "
              f"accuracy {np.mean(pred == y_test):.2f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, mode in zip(axes, results):
    im = ax.imshow(results[mode][1], vmin=1 / 3, vmax=1, origin="lower", cmap="viridis")
    for A in levels:
        for W in levels:
            ax.text(W - 1, A - 1, f"{results[mode][1][A-1, W-1]:.2f}", ha="center", va="center", color="w")
    ax.set(xticks=range(5), xticklabels=levels, yticks=range(5), yticklabels=levels,
           xlabel="weight levels W", ylabel="activation levels A", title=f"{mode} accuracy")
fig.colorbar(im, ax=axes, label="accuracy")
fig.savefig("mubinn_grid.png", dpi=100)

# %%
# Footprint (one sequence of 64 steps) and measured CPU time of the cell.
print("\n" + float_net.footprint(n_times=64).table())
print("\n" + MultiLevelBinarizedLSTM(weights, 3, 3).footprint(n_times=64).table())



def best_time(fn, repeat=3):
    """Best wall time of ``fn()`` over ``repeat`` runs."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


models = {"float": float_net, "mubinn1 (3,3)": MultiLevelBinarizedLSTM(weights, 3, 3, mode="mubinn1")}
for A, W in [(1, 1), (3, 3), (5, 5)]:
    models[f"mubinn2 ({A},{W})"] = MultiLevelBinarizedLSTM(weights, A, W)
numba.set_num_threads(1)
with threadpool_limits(1):  # one thread everywhere: BLAS (float) and numba (binarized)
    for n in (1, 64):
        batch = seq_test[:n].astype(np.float64)
        per_step = {}
        for name, model in models.items():
            model.features(batch)  # warm-up (numba compilation)
            per_step[name] = best_time(lambda: model.features(batch)) / batch.shape[1]
        print(f"\nbatch {n}: CPU time per cell step (and ratio to the float cell)")
        for name, t in per_step.items():
            print(f"  {name:14} {1e6 * t:8.1f} us   {t / per_step['float']:5.2f}x")

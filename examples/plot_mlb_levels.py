"""
Multi-level binarization: error versus levels and scale rules
=============================================================

MuBiNN's Algorithm 1 approximates a real tensor by a sum of scaled sign planes,
``x ~ sum_i alpha_i sign(r_i)``, where each level binarizes the residual of the
previous ones. This example encodes a Laplace-distributed weight matrix (like
trained network weights) with 1 to 8 levels and compares the three scale rules:
greedy (``mean |residual|``), power of two (MuBiNN1: shifts instead of
multiplications) and a joint least-squares refit, per tensor and per row. It
also checks eq. (9): the XNOR-popcount product of two encodings equals the float
product of their reconstructions.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from eegbin import MultiLevelBinarizer  # noqa: E402
from eegbin.quantize import mlb_matmul, multilevel_binarize, reconstruct  # noqa: E402

rng = np.random.default_rng(0)
W = rng.laplace(scale=0.1, size=(128, 40)) * rng.uniform(0.3, 2.0, size=(128, 1))
levels = np.arange(1, 9)

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, axis, title in [(axes[0], None, "one scale set per tensor"), (axes[1], 1, "one scale set per row")]:
    for scaling, marker in [("greedy", "o"), ("power_of_two", "s"), ("least_squares", "^")]:
        err = [
            np.linalg.norm(W - reconstruct(multilevel_binarize(W, L, scaling, axis))) / np.linalg.norm(W)
            for L in levels
        ]
        ax.semilogy(levels, err, marker=marker, label=scaling)
        print(f"axis={axis!s:4} {scaling:13}: relative error " + " ".join(f"{e:.3f}" for e in err))
    ax.set(xlabel="levels", ylabel="relative reconstruction error", title=title)
    ax.legend()
fig.tight_layout()
fig.savefig("mlb_levels.png", dpi=100)

# %%
# The power-of-two scales are exact powers of two, so ``alpha * b`` is a shift.
code = MultiLevelBinarizer(n_levels=3, scaling="power_of_two", output="code").fit(W).transform(W)
print("power-of-two scales:", code.scales, "= 2 **", np.log2(code.scales))
print(f"storage: {code.memory_bits() / 8:.0f} bytes vs {W.size * 4} bytes in float32")

# %%
# Eq. (9): products of two encodings through XNOR-popcount.
X = rng.normal(size=(16, 40))
a, b = multilevel_binarize(X, 3, axis=1), multilevel_binarize(W, 2, "least_squares", axis=1)
prod = mlb_matmul(a, b)
print("max |XNOR-popcount product - float product of reconstructions| =",
      np.abs(prod - reconstruct(a) @ reconstruct(b).T).max())
print("relative error against the exact float product X @ W.T =",
      np.linalg.norm(prod - X @ W.T) / np.linalg.norm(X @ W.T))

"""
BiPer quantization error versus frequency (Fig. 3 of BiPer)
===========================================================

BiPer binarizes weights with a square wave ``Sign(sin(omega0 w))`` instead of
``Sign(w)``. For Laplace-distributed latent weights with scale ``b``, the
optimal scale gamma (eq. 18) and the quantization error (eq. 17) depend only on
``a = b * omega0``. The error peaks at 0.102835 for ``a ~ 0.954882`` and tends
to ``0.5 - 4/pi^2`` as the frequency grows; it is checked here against a
Monte-Carlo estimate, and the binarizer is applied to a weight matrix.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from eegbin import PeriodicBinarizer, biper_quantization_error, square_wave  # noqa: E402

omegas = np.logspace(-1, 2, 300)
fig, ax = plt.subplots(figsize=(6, 4))
rng = np.random.RandomState(0)
for b in (0.05, 0.1, 0.5, 1.0):
    ax.semilogx(omegas, biper_quantization_error(b, omegas), label=f"b = {b}")
    # Monte-Carlo check at a few frequencies
    w = rng.laplace(0, b, size=50_000)
    om = np.logspace(-1, 2, 8)
    mc = []
    for o in om:
        pb = PeriodicBinarizer(omega=o, scale="optimal").fit(w.reshape(-1, 1))
        s = np.sin(o * w)
        mc.append(np.mean((s - pb.scale_ * square_wave(w, o)) ** 2))
    ax.semilogx(om, mc, "k.", ms=4)
ax.axhline(0.102835, ls=":", c="gray", label="max QE = 0.102835")
ax.axhline(0.5 - 4 / np.pi**2, ls="--", c="gray", label=r"$0.5 - 4/\pi^2$")
ax.set_xlabel(r"frequency $\omega_0$")
ax.set_ylabel("quantization error (eq. 17)")
ax.set_title("BiPer QE vs frequency (dots: Monte-Carlo)")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("plot_biper_qe.png", dpi=100)
print("max QE over a:", max(biper_quantization_error(a, 1.0) for a in np.linspace(0.5, 1.5, 2001)))

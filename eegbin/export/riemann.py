"""C export of :class:`~eegbin.FilterBankRiemann` (multi-spectral Riemannian features).

Per band and temporal window, one pass over the trial runs the band's cascaded
biquads on all channels (direct form II transposed, zero initial state, the
arithmetic order of :func:`scipy.signal.sosfilt`) and adds each filtered sample
to an upper-triangular factor ``R`` by Givens rotations, so that ``R^T R = Y Y^T
+ reg I`` (a streaming QR factorization of the regularized covariance of eq. 1;
no filtered copy of the trial is kept). Then ``G = R P`` with the stored
whitening ``P = C_ref^{-1/2}`` (upper triangle, ``n(n+1)/2`` values per band
and window, as ``footprint()`` counts it), so ``G^T G = (n_s - 1) P C P``; a
one-sided Jacobi eigensolver orthogonalizes the columns of ``G`` (the eigenvalues
of ``P C P`` are their squared norms over ``n_s - 1``) and the tangent vector
``upper(logm(P C P))`` with sqrt(2) off the diagonal (eq. 3) comes out in
eegbin's feature order (band, window, upper triangle row by row).

Why a square-root form: EEG band covariances have condition numbers of 1e5-1e6,
and the whitened trial covariances of outlying trials still 1e5. Summing ``y
y^T`` in float32 then loses up to 3 of float32's 7 digits in the small
eigenvalues, whose logarithms are features (measured on the simulated data: up
to 7e-3 relative error in the tangent vector, and a flipped prediction); the
factors ``R`` and ``G`` have the square root of that condition number (measured:
a few 1e-5, the error of the float32 filter itself). It costs about ``3 n^2``
flops and ``n`` square roots per sample instead of ``n^2`` for a sum of outer
products.

Stored weights: ``order`` biquads of 5 coefficients (``b0 b1 b2 a1 a2``; ``a0 =
1``) per band and the whitening triangles, at the export's float width.
"""

from __future__ import annotations

import numpy as np

from ..features import FilterBankRiemann
from ._core import Port, register_exporter

__all__ = []


def _fbr_state(fbr):
    """Everything the C code needs from a fitted FilterBankRiemann (one place to adapt)."""
    if fbr.metric != "riemann":
        raise ValueError(
            f"FilterBankRiemann(metric={fbr.metric!r}) cannot be exported to C: only "
            f"metric='riemann' (the tangent space of Hersche et al. 2020, eq. 3) is supported"
        )
    sos = np.asarray(fbr.sos_, dtype=np.float64)  # (n_bands, n_sections, 6)
    if not np.all(sos[:, :, 3] == 1.0):
        raise ValueError("FilterBankRiemann.sos_ must have a0 == 1 in every section")
    n_times = int(fbr.n_times_in_)
    windows = np.array([[0, n_times]]) if fbr.windows is None else np.asarray(fbr.windows_)
    return dict(
        n_chans=int(fbr.n_features_in_), n_times=n_times,
        sos=sos[:, :, [0, 1, 2, 4, 5]],  # b0 b1 b2 a1 a2 per section
        windows=windows.astype(np.int64), reg=float(fbr.reg),
        whitening=np.asarray(fbr.whitening_, dtype=np.float64),  # (n_bands, n_windows, n, n)
    )


@register_exporter(FilterBankRiemann, reads="epochs")
def _export_filterbank_riemann(fbr, port, ctx):
    s = _fbr_state(fbr)
    n, n_times = s["n_chans"], s["n_times"]
    n_bands, n_sec = s["sos"].shape[:2]
    n_windows = len(s["windows"])
    n_r = n * (n + 1) // 2
    iu = np.triu_indices(n)
    ctx.use("sqrt_cov", "times_sym", "jacobi_one_sided", "logm_upper")
    sos = ctx.weights("sos", s["sos"], note=f"{n_sec} biquads x 5 coefficients per band")
    white = ctx.weights("whitening", s["whitening"][:, :, iu[0], iu[1]],
                        note="C_ref^{-1/2}, upper triangle, per band and window")
    starts = ctx.table("starts", s["windows"][:, 0], "int32_t")
    lens = ctx.table("lens", s["windows"][:, 1] - s["windows"][:, 0], "int32_t")
    state = ctx.buffer("state", "real", 2 * n_sec * n)
    y = ctx.buffer("y", "real", n)
    r = ctx.buffer("r", "real", n * n)
    pf = ctx.buffer("pf", "real", n * n)
    g = ctx.buffer("g", "real", n * n)
    v = ctx.buffer("v", "real", n * n)
    reg = f"EB_R({float(s['reg'])!r})"
    body = f"""\
    int32_t b, k;
    for (b = 0; b < {n_bands}; b++) {{
        for (k = 0; k < {n_windows}; k++) {{
            int32_t slot = b * {n_windows} + k;
            eb_filtered_sqrt_cov(in, {n}, {n_times}, {starts}[k], {lens}[k], {sos} + {n_sec * 5} * b,
                                 {n_sec}, {reg}, {state}, {y}, {r});
            eb_times_sym({r}, {white} + {n_r} * slot, {n}, {pf}, {g});
            eb_jacobi_one_sided({g}, {n}, {v});
            eb_logm_upper({g}, {v}, {n}, EB_R(1.0) / (eb_real)({lens}[k] - 1), {y},
                          out + {n_r} * slot);
        }}
    }}
"""
    if port.kind != "epochs":  # pragma: no cover - the core only calls it on trials
        raise ValueError("FilterBankRiemann must be the first step (it reads EEG trials)")
    return ctx.transform(Port("real", n_bands * n_windows * n_r, ctx.real), body)

"""MuBiNN Figs. 4-5 on the simulated dataset: accuracy over (A, W) = 1..5 activation and weight levels.

For each subject, cross-session (train on session ``0train``, test on ``1test``):

1. A float LSTM (one layer, dense head; MuBiNN Section V) is trained with
   :class:`eegbin.train.TorchEEGClassifier`, exported with :func:`eegbin.train.export`
   and run without torch (:meth:`eegbin.LSTMClassifier.from_export`).
2. For every (A, W), MuBiNN2 as Section IV-C defines it (``W_x``, ``W_h`` and the bias
   with W levels; ``x_t``, ``h_{t-1}``, the gates ``i, f, g, o`` and ``c_{t-1}`` with A
   levels; learned static scales; sigmoid/tanh tables) is fine-tuned from the float LSTM
   (``LSTMNet(init_from=...)``), exported (format 3) and run torch-free. Recorded:
   accuracy in torch and torch-free, the share of identical predictions, the largest
   logit difference, and whether the sign planes of every binarized signal at every
   step are identical in both (on the first ``--check-trials`` test trials).
3. The float LSTM binarized after training (:class:`eegbin.nn.MultiLevelBinarizedLSTM`):
   MuBiNN2 with static scales calibrated on the training trials and MuBiNN1 (Fig. 4-5's
   other method) for every (A, W), B_LSTM at (1, 1).

Run::

    python docs/reproductions/mubinn_grid.py > docs/reproductions/results/mubinn_grid/run_log.txt

Writes ``grid.csv`` (one row per subject, method and (A, W)), ``grid_summary.csv``
(means over subjects, read by ``examples/plot_mubinn_grid.py``), ``grid.rst`` (the
tables of ``docs/reproductions/mubinn.rst``) and ``grid.png`` (heat maps) into
``results/mubinn_grid/``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from eegbin import LSTMClassifier  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.nn import MultiLevelBinarizedLSTM  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "mubinn_grid"
METHODS = ("MuBiNN2 trained", "MuBiNN2 post-training", "MuBiNN1 post-training")


def _row(subject, method, A, W, **values):
    return dict(subject=subject, method=method, A=A, W=W, **values)


def _sequences(X, input_scale):
    """What the exported network reads (downsample 1): float32 epochs / input scale, (n, T, C)."""
    X = np.asarray(X, dtype=np.float32)
    return np.ascontiguousarray((X / np.float32(input_scale)).transpose(0, 2, 1))


def trained_cell(A, W, args, float_path, data, tmp):
    """Fine-tune MuBiNN2 (A, W) from the float LSTM, export, compare torch and torch-free."""
    import torch

    from eegbin.train import TorchEEGClassifier, export

    Xtr, ytr, Xte, yte = data
    params = dict(hidden_size=args.hidden, downsample=1, quantize="mubinn2", activation_levels=A,
                  weight_levels=W, init_from=str(float_path))
    t0, c0 = time.time(), time.process_time()
    clf = TorchEEGClassifier("lstm", model_params=params, max_epochs=args.epochs, batch_size=args.batch_size,
                             lr=args.lr, random_state=0).fit(Xtr, ytr)
    train_s, train_cpu = time.time() - t0, time.process_time() - c0
    path, _ = export(clf, tmp / f"mubinn2_{A}_{W}.safetensors")
    free = LSTMClassifier.from_export(path)
    ref, logits = clf.decision_function(Xte), free.decision_function(Xte)
    p_torch, p_free = clf.classes_[ref.argmax(1)], free.predict(Xte)
    k = args.check_trials
    codes_t = clf.module_.cell_codes(torch.as_tensor(np.asarray(Xte[:k], np.float32) / clf.scale_))
    codes_f = free.net_.cell_codes(_sequences(Xte[:k], free.net_.input_scale))
    identical = sorted(codes_t) == sorted(codes_f) and all(np.array_equal(codes_t[s], codes_f[s]) for s in codes_t)
    fp = free.footprint()
    return dict(acc_torch=np.mean(p_torch == yte), acc_torch_free=np.mean(p_free == yte),
                same_predictions=np.mean(p_torch == p_free), max_logit_diff=float(np.abs(logits - ref).max()),
                codes_identical=bool(identical), signals_checked=" ".join(sorted(codes_f)),
                kB=fp.kB, bit_ops=fp.total_bit_ops, macs=fp.total_macs, train_s=train_s, train_cpu_s=train_cpu)


def post_training_cell(mode, A, W, float_path, data):
    """The float LSTM binarized after training (mubinn2: static scales calibrated on the training trials)."""
    Xtr, ytr, Xte, yte = data
    clf = LSTMClassifier(MultiLevelBinarizedLSTM(str(float_path), A, W, mode=mode), pooling="mean",
                         refit_head=False).fit(Xtr, ytr)
    fp = clf.footprint()
    return dict(acc_torch_free=np.mean(clf.predict(Xte) == yte), kB=fp.kB, bit_ops=fp.total_bit_ops,
                macs=fp.total_macs)


def run_subject(subject, args, tmp):
    from eegbin.train import TorchEEGClassifier, export

    X, y, meta = load_motor_imagery("simulated", subjects=[subject], tmin=args.tmin, tmax=args.tmax,
                                    fmin=args.fmin, fmax=args.fmax, resample=args.sfreq)
    X = X.astype(np.float32)
    tr = (meta.session == "0train").to_numpy()
    data = (X[tr], y[tr], X[~tr], y[~tr])
    args.shape = f"{X.shape[1]} x {X.shape[2]}"
    t0 = time.time()
    fl = TorchEEGClassifier("lstm", model_params=dict(hidden_size=args.hidden, downsample=1),
                            max_epochs=args.float_epochs, batch_size=args.batch_size, lr=args.lr,
                            random_state=0).fit(data[0], data[1])
    float_path, _ = export(fl, tmp / f"float_{subject}.safetensors")
    free = LSTMClassifier.from_export(float_path)
    rows = [_row(subject, "LSTM float", None, None, acc_torch=np.mean(fl.predict(data[2]) == data[3]),
                 acc_torch_free=np.mean(free.predict(data[2]) == data[3]),
                 same_predictions=np.mean(fl.predict(data[2]) == free.predict(data[2])),
                 kB=free.footprint().kB, macs=free.footprint().total_macs, bit_ops=0, train_s=time.time() - t0)]
    print(rows[-1], flush=True)
    rows.append(_row(subject, "B_LSTM post-training", 1, 1, **post_training_cell("b_lstm", 1, 1, float_path, data)))
    for A in args.levels:
        for W in args.levels:
            rows.append(_row(subject, "MuBiNN2 trained", A, W, **trained_cell(A, W, args, float_path, data, tmp)))
            print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[-1].items()}, flush=True)
            for mode, name in (("mubinn2", METHODS[1]), ("mubinn1", METHODS[2])):
                rows.append(_row(subject, name, A, W, **post_training_cell(mode, A, W, float_path, data)))
    return rows


def _grid(summary, method, column="acc_torch_free"):
    sub = summary[summary.method == method]
    A = sorted(int(a) for a in sub.A.unique())
    W = sorted(int(w) for w in sub.W.unique())
    table = np.full((len(A), len(W)), np.nan)
    for _, r in sub.iterrows():
        table[A.index(int(r.A)), W.index(int(r.W))] = r[column]
    return A, W, table


def _rst_grid(title, summary, method, column="acc_torch_free", scale=100.0):
    A, W, table = _grid(summary, method, column)
    lines = [f"**{title}**", "", ".. list-table::", "   :header-rows: 1", "   :stub-columns: 1", "",
             "   * - A \\\\ W\n" + "\n".join(f"     - {w}" for w in W)]
    for a, row in zip(A, table):
        lines.append(f"   * - {a}\n" + "\n".join(f"     - {scale * v:.1f}" for v in row))
    return lines + [""]


def write_outputs(rows, args, out, wall_s, cpu_s):
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    df.to_csv(out / "grid.csv", index=False)
    agg = {c: "mean" for c in ("acc_torch", "acc_torch_free", "same_predictions", "kB", "bit_ops", "macs")}
    agg.update(max_logit_diff="max", codes_identical="all")
    cols = {c: f for c, f in agg.items() if c in df}
    summary = df.assign(A=df.A.fillna(0).astype(int), W=df.W.fillna(0).astype(int)).groupby(
        ["method", "A", "W"], sort=False).agg(cols).reset_index()
    summary.to_csv(out / "grid_summary.csv", index=False)
    trained = df[df.method == "MuBiNN2 trained"]
    subjects = sorted(df.subject.unique().tolist())
    flt = summary[summary.method == "LSTM float"].iloc[0]
    blstm = summary[summary.method == "B_LSTM post-training"].iloc[0]
    per_cell = trained.groupby(["A", "W"])
    n_cells = per_cell.ngroups
    same_acc = int((per_cell.apply(lambda g: bool((g.acc_torch == g.acc_torch_free).all()))).sum())
    lines = [
        f"Simulated dataset, cross-session (0train → 1test), subjects {subjects}, 4 classes, input "
        f"{args.shape} ({args.fmin:g}-{args.fmax:g} Hz, {args.sfreq:g} Hz, {args.tmin:g}-{args.tmax:g} s), "
        f"LSTM of {args.hidden} cells + dense head. Float LSTM: {args.float_epochs} epochs; each MuBiNN2 "
        f"cell fine-tuned from it for {args.epochs} epochs (Adam, lr {args.lr:g}, batch {args.batch_size}, "
        f"seed 0). Accuracy in %, mean over subjects; rows A (activation levels), columns W (weight levels). "
        f"Whole run: {wall_s / 60:.1f} min wall, {cpu_s / 60:.1f} min CPU (2 shared cores).",
        "",
        f"Float LSTM: {100 * flt.acc_torch:.1f} % (torch) / {100 * flt.acc_torch_free:.1f} % (torch-free); "
        f"B_LSTM (1, 1) binarized after training: {100 * blstm.acc_torch_free:.1f} %; chance 25 %.",
        "",
        f"Torch vs torch-free, MuBiNN2 trained: the same accuracy in {same_acc} of {n_cells} cells, "
        f"identical predictions on {100 * trained.same_predictions.mean():.2f} % of the test trials, "
        f"largest logit difference {trained.max_logit_diff.max():.1e}, sign planes of every binarized "
        f"signal ({trained.signals_checked.iloc[0]}) at every step identical in "
        f"{int(trained.codes_identical.sum())} of {len(trained)} subject-cells (first {args.check_trials} test "
        f"trials).",
        "",
    ]
    lines += _rst_grid("MuBiNN2 trained with learned static scales (torch-free = torch)", summary, METHODS[0])
    lines += _rst_grid("MuBiNN2 binarized after training (static scales calibrated on the training trials)",
                       summary, METHODS[1])
    lines += _rst_grid("MuBiNN1 binarized after training (input products only, power-of-two scales)", summary,
                       METHODS[2])
    lines += _rst_grid("Memory of the trained MuBiNN2 [kB] (planes at 1 bit, scales, tables and head at 32 bits; "
                       f"float LSTM {flt.kB:.1f} kB)", summary, METHODS[0], "kB", scale=1.0)
    (out / "grid.rst").write_text("\n".join(lines) + "\n")
    plot_grids(summary, out / "grid.png", flt.acc_torch_free)
    return df


def plot_grids(summary, path, float_acc):
    """Heat maps of the accuracy over (A, W), one per method of ``METHODS``, from ``grid_summary.csv``.

    Saved to ``path`` and closed; with ``path=None`` the figure is returned open (the
    gallery example ``examples/plot_mubinn_grid.py`` shows it).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METHODS), figsize=(4.2 * len(METHODS), 4.0), constrained_layout=True)
    grids = [_grid(summary, m) for m in METHODS]
    vmax = max(np.nanmax(t) for _, _, t in grids + [(0, 0, np.array([float_acc]))])
    for ax, method, (A, W, table) in zip(axes, METHODS, grids):
        im = ax.imshow(100 * table, origin="lower", cmap="viridis", vmin=25, vmax=100 * vmax)
        for i in range(len(A)):
            for j in range(len(W)):
                ax.text(j, i, f"{100 * table[i, j]:.1f}", ha="center", va="center",
                        color="w" if table[i, j] < 0.5 * (0.25 + vmax) else "k", fontsize=9)
        ax.set(xticks=range(len(W)), xticklabels=W, yticks=range(len(A)), yticklabels=A,
               xlabel="weight levels W", ylabel="activation levels A", title=method)
    fig.colorbar(im, ax=axes, label="test accuracy [%] (chance 25)", shrink=0.85)
    fig.suptitle(f"MuBiNN (A, W) grid, simulated data; float LSTM {100 * float_acc:.1f} %")
    if path is None:
        return fig
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--sfreq", type=float, default=32.0)
    ap.add_argument("--fmin", type=float, default=4.0)
    ap.add_argument("--fmax", type=float, default=14.0)
    ap.add_argument("--tmin", type=float, default=0.5)
    ap.add_argument("--tmax", type=float, default=2.5)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--float-epochs", type=int, default=60)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--check-trials", type=int, default=48)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    import matplotlib
    import numba
    import torch

    matplotlib.use("Agg")

    # one thread each: numba's OpenMP workers, left spinning after the torch-free runs, slowed
    # the torch training in the same process about 20-fold on 2 shared cores
    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    t0, c0 = time.time(), time.process_time()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for subject in args.subjects:
            rows += run_subject(subject, args, Path(tmp))
            write_outputs(rows, args, args.out, time.time() - t0, time.process_time() - c0)
    print(f"total {time.time() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU", flush=True)
    return rows


if __name__ == "__main__":
    main()

"""Evidence for issue 8: quantization-aware training on the simulated dataset.

Cross-session (train on session ``0train``, test on ``1test``), per subject:
float / STE / BiPer EEGNet, MI-MANN (random and learned projection, d = 256),
float LSTM and MuBiNN2 LSTM at (A, W) = (1,1), (2,2), (3,3). Every model is
trained with :class:`eegbin.train.TorchEEGClassifier`, exported with
:func:`eegbin.train.export`, reloaded torch-free (``eegbin.nn`` /
``eegbin.BinaryKeyValueMemory`` / ``eegbin.LSTMClassifier.from_export``, which runs
MuBiNN2 with its exported codes and learned scales) and scored there;
the footprint comes from the torch-free model (``eegbin.footprint``).

Run::

    python docs/reproductions/train_quantized.py [--subjects 1 2 ...] [--budget-min 60] \
        > docs/reproductions/results/training/run_log.txt

Writes ``results/training/training_quantized.csv`` (per subject),
``training_quantized_summary.csv`` (means, with the published numbers; read by
``examples/plot_training_quantized.py``), ``.md`` and ``.rst`` (the table of
``docs/reproductions/training.rst``) next to this file.
Subjects are run in order; a new subject is started only while the elapsed time is
below the budget (the CPU is shared), so the table says how many finished.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from eegbin import BinaryKeyValueMemory, LSTMClassifier, footprint  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.footprint import Footprint  # noqa: E402
from eegbin.kernels import pack_bits  # noqa: E402
from eegbin.nn import EEGNet as NumpyEEGNet  # noqa: E402
from eegbin.nn import load_weights  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "training"

# Published numbers beside ours (different data: see the notes column).
PAPER = {
    "EEGNet float": ("72.32", "Hersche 2020 Table I, BCI IV-2a 4-class"),
    "EEGNet STE-binarized": ("-", "STE/clip baseline of BiPer (images only)"),
    "EEGNet BiPer-binarized": ("93.75 (CIFAR-10, ResNet-18)", "BiPer Table 3, images; no EEG result"),
    "EEGNet BiPer binary features": ("93.75 (CIFAR-10, ResNet-18)",
                                     "BiPer Table 3, images; no EEG result"),
    "EEGNet BiPer + DeSign3D-S features": ("91.09 (CIFAR-10, BNN, 3D-S, k = 2)",
                                           "DeSign Table I, images; no EEG result"),
    "MI-MANN RP d=256": ("72.31", "Hersche 2020 Table I"),
    "MI-MANN LP d=256": ("76.21", "Hersche 2020 Table I"),
    "LSTM float": ("83.67", "MuBiNN, own EEG set (32 feat x 1300 steps)"),
    "MuBiNN2 (1,1)": ("80.27", "MuBiNN"),
    "MuBiNN2 (2,2)": ("81.63", "MuBiNN"),
    "MuBiNN2 (3,3)": ("82.94", "MuBiNN"),
}


def configs(eeg_epochs, lstm_epochs, mubinn_epochs, sfreq, mimann_episodes=200):
    k = int(round(sfreq / 2))  # EEGNet temporal kernel: 0.5 s (64 at 128 Hz)
    e = dict(kernel_length=k, pool1=4, pool2=8)
    common = dict(batch_size=32, lr=3e-3, random_state=0)  # lr, batch: not tuned
    # MI-MANN as Hersche 2020 Sec. IV-C: episodes of one 64-sample batch and a memory
    # rewrite (4-way / 8-shot), Adam at 1e-3 and the last twentieth of the episodes at
    # 1e-4. The paper trains 20 000 episodes, the last 1 000 at 1e-4; --mimann-episodes
    # sets how many here (the CPU is shared), the 1e-4 phase keeps the paper's share.
    mimann = dict(batch_size=64, lr=1e-3, lr_final=(max(1, mimann_episodes // 20), 1e-4),
                  n_shots=8, random_state=0)
    out = [
        ("EEGNet float", "eegnet", dict(e), eeg_epochs, common),
        ("EEGNet STE-binarized", "eegnet", dict(e, binarize="ste"), eeg_epochs, common),
        ("EEGNet BiPer-binarized", "eegnet", dict(e, binarize="biper", omega=2.0), eeg_epochs,
         common),
        # BiPer as its paper trains (Section 5.1.3): binary features in both stages, each
        # stage its rate and weight decay (SGD 0.1 / 0.01 there; Adam here, same 10x drop)
        ("EEGNet BiPer binary features", "eegnet",
         dict(e, binarize="biper", omega=2.0, activations="binary"), eeg_epochs,
         dict(common, lr=(3e-3, 3e-4), weight_decay=(5e-4, 5e-5))),
        ("EEGNet BiPer + DeSign3D-S features", "eegnet",
         dict(e, binarize="biper", omega=2.0, activations="design"), eeg_epochs,
         dict(common, lr=(3e-3, 3e-4), weight_decay=(5e-4, 5e-5))),
        ("MI-MANN RP d=256", "mimann", dict(e, projection="random", n_components=256), mimann_episodes,
         mimann),
        ("MI-MANN LP d=256", "mimann", dict(e, projection="learned", n_components=256), mimann_episodes,
         mimann),
        ("LSTM float", "lstm", dict(downsample=2), lstm_epochs, common),
    ]
    for L in (1, 2, 3):
        out.append((f"MuBiNN2 ({L},{L})", "lstm",
                    dict(downsample=2, quantize="mubinn2", activation_levels=L, weight_levels=L),
                    mubinn_epochs, common))
    return out


def _binarized_eegnet_footprint(fp, n_scales=3, binary_inputs=False):
    """EEGNet footprint with separable-block and FC weights at 1 bit (+ one scale per layer).

    The deployed weights are ``gamma * (+-1)`` per layer (BiPer eq. 18 / mean|w| for STE).
    With real activations the products of those layers are sign-flipped additions
    (counted as MACs, like additions in Hersche 2020 Table II); with binary features
    (``binary_inputs``) they are XNOR+POPCOUNT bit operations.
    """
    def binary(q, name):
        if binary_inputs:
            return Footprint(name, q.n_params, 1, bit_ops=q.macs)
        return Footprint(name, q.n_params, 1, macs=q.macs)

    parts = []
    for p in fp.parts:
        if p.name == "Sep. convolution":
            sub = tuple(binary(q, "conv (binary weights)") if q.name == "conv" else q
                        for q in p.parts)
            parts.append(Footprint(p.name, parts=sub))
        elif p.name == "FC":
            dense = p.parts[-1] if p.parts else p  # after its "binarize inputs" row, if any
            n_classes = dense.n_params - dense.macs
            parts.append(Footprint("FC", parts=(*p.parts[:-1], binary(
                Footprint("w", dense.macs, macs=dense.macs), "weights (binary)"),
                Footprint("bias", n_classes, dense.bits_per_param))))
        else:
            parts.append(p)
    parts.append(Footprint("binarization scales", n_scales, 32))
    return Footprint("EEGNet (binarized separable + FC)", parts=tuple(parts),
                     note="binary layers: XNOR+POPCOUNT" if binary_inputs
                     else "binary layers' MACs are sign-flipped additions")


def evaluate_one(name, model, params, n_epochs, common, Xtr, ytr, Xte, yte, sfreq, tmp,
                 threads=1):
    import torch

    from eegbin.train import TorchEEGClassifier, export, read_export_metadata

    # eegbin's numba kernels (torch-free scoring of the previous model) run on the OpenMP
    # runtime torch uses and leave its thread count at theirs: set it again before training
    torch.set_num_threads(threads)
    t0 = time.time()
    clf = TorchEEGClassifier(model, model_params=params, max_epochs=n_epochs, **common).fit(Xtr, ytr)
    train_s = time.time() - t0
    acc_torch = float(np.mean(clf.predict(Xte) == yte))
    st, _ = export(clf, Path(tmp) / "model.safetensors")
    w = load_weights(st)
    meta = read_export_metadata(st)
    n_chans, n_times = Xtr.shape[1:]
    note = ""
    if model == "eegnet":
        net = NumpyEEGNet(w, n_chans=n_chans, n_times=n_times,
                          pool1_kernel_size=params["pool1"], pool2_kernel_size=params["pool2"])
        bf = meta.get("binary_features")
        if bf:  # BiPer's / DeSign's binary features: the exported per-map thresholds
            net = net.with_binary_features(np.asarray(bf["separable"]), np.asarray(bf["head"]))
        pred = clf.classes_[net.forward(Xte).argmax(1)]
        fp = net.footprint()
        if params.get("binarize"):
            fp = _binarized_eegnet_footprint(fp, binary_inputs=bool(bf))
    elif model == "mimann":
        ctrl = {k: v for k, v in w.items() if not k.startswith(("projection", "memory"))}
        net = NumpyEEGNet(ctrl, n_chans=n_chans, n_times=n_times,
                          pool1_kernel_size=params["pool1"], pool2_kernel_size=params["pool2"])
        if meta["projection"] == "random":  # regenerated from the exported seed
            mem = BinaryKeyValueMemory(projection="random", random_state=meta["seed"],
                                       n_components=meta["n_components"])
        else:
            mem = BinaryKeyValueMemory(projection=np.asarray(w["projection.weight"], np.float64),
                                       n_components=meta["n_components"])
        idx = clf.support_index_
        mem.fit(net.features(Xtr[idx]), ytr[idx])
        if not np.array_equal(mem.keys_, pack_bits(w["memory.keys"], kind="bipolar")):
            raise AssertionError("the torch-free keys differ from the exported ones")
        pred = mem.predict(net.features(Xte))
        cfp = net.footprint()
        fp = Footprint("MI-MANN", parts=tuple(p for p in cfp.parts if p.name not in ("FC", "softmax"))
                       + (footprint(mem),))
        note = f"{len(idx)} support examples"
    else:
        # pooling (downsample), input scale, head and classes from the export; MuBiNN2 runs
        # with the exported +-1 weight codes and the learned weight/activation scales
        ref = LSTMClassifier.from_export(st)
        if params.get("quantize"):
            note = "torch-free: exported codes + learned scales"
        pred = clf.classes_[ref.decision_function(Xte).argmax(1)]
        fp = ref.footprint()
    acc_free = float(np.mean(pred == yte))
    agree = float(np.mean(pred == clf.predict(Xte)))
    return dict(method=name, acc_torch=acc_torch, acc_torch_free=acc_free, agreement=agree,
                kB=fp.kB, n_params=fp.total_params, macs=fp.total_macs, word_ops=fp.word_ops,
                train_s=train_s, n_epochs=n_epochs, note=note, meta_model=meta["model"])


def write_tables(rows, args, path=OUT):
    import pandas as pd

    path.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    df.to_csv(path / "training_quantized.csv", index=False)
    if df.empty:
        return df
    agg = df.groupby("method", sort=False).agg(
        acc_torch=("acc_torch", "mean"), acc_torch_std=("acc_torch", "std"),
        acc_torch_free=("acc_torch_free", "mean"), agreement=("agreement", "mean"),
        kB=("kB", "mean"), macs=("macs", "mean"), word_ops=("word_ops", "mean"),
        train_s=("train_s", "mean"), n_subjects=("subject", "nunique"),
        n_epochs=("n_epochs", "first"))
    caption = (
        f"Simulated dataset ({_dataset_code()}), cross-session (0train -> 1test), "
        f"subjects {sorted(df.subject.unique().tolist())} (column n: how many per method), "
        f"4 classes, input {args.shape} at {args.sfreq:g} Hz, CPU. Accuracy in %, mean (std) "
        "over subjects; epochs (episodes for MI-MANN) in column ep.")
    published = [PAPER.get(m, ("-", "")) for m in agg.index]
    table = [_cells(m, r, pub, where) for (m, r), (pub, where) in zip(agg.iterrows(), published)]
    md = [caption, "", "| " + " | ".join(_MD_HEAD) + " |", "|" + "---|" * len(_MD_HEAD)]
    md += ["| " + " | ".join(cells) + " |" for cells in table]
    (path / "training_quantized.md").write_text("\n".join(md) + "\n")
    # the same table as an reST fragment, included by docs/reproductions/training.rst
    rst = [caption.replace("->", "→"), "", ".. list-table::", "   :header-rows: 1", ""]
    rst += ["   * - " + "\n     - ".join(cells) for cells in [_RST_HEAD] + table]
    (path / "training_quantized.rst").write_text("\n".join(rst) + "\n")
    summary = agg.assign(
        published=[pub for pub, _ in published], published_on=[where for _, where in published])
    summary.to_csv(path / "training_quantized_summary.csv")
    return df


_MD_HEAD = ["method", "n", "ep", "acc torch", "acc torch-free", "same pred.", "memory [kB]", "MACs",
            "word ops", "published", "published on"]
_RST_HEAD = ["method", "n", "ep", "acc torch [%] mean (std)", "acc torch-free [%]",
             "same predictions", "memory [kB]", "MACs", "word ops", "published [%]", "published on"]


def _cells(method, r, pub, where):
    """One table row (both formats): accuracies in %, mean (std) over subjects."""
    std = 0.0 if np.isnan(r.acc_torch_std) else r.acc_torch_std
    return [method, f"{int(r.n_subjects)}", f"{int(r.n_epochs)}", f"{100 * r.acc_torch:.2f} ({100 * std:.2f})",
            f"{100 * r.acc_torch_free:.2f}",
            f"{100 * r.agreement:.2f}%", f"{r.kB:.2f}", f"{r.macs:,.0f}", f"{r.word_ops:,.0f}",
            pub, where or "-"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, nargs="+", default=list(range(1, 10)))
    ap.add_argument("--budget-min", type=float, default=60.0)
    ap.add_argument("--sfreq", type=float, default=64.0)
    ap.add_argument("--eegnet-epochs", type=int, default=40)
    ap.add_argument("--lstm-epochs", type=int, default=40)
    ap.add_argument("--mubinn-epochs", type=int, default=30)
    ap.add_argument("--mimann-episodes", type=int, default=200)
    ap.add_argument("--methods", nargs="+", default=None,
                    help="run only these methods; the other rows of an existing "
                         "training_quantized.csv in --out are kept")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a shared CPU, 2 threads spin-wait for each other)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    start = time.time()
    rows, done = [], 0
    kept = _kept_rows(args.out, args.methods)
    order = [c[0] for c in configs(1, 1, 1, args.sfreq)]
    for subject in args.subjects:
        elapsed = time.time() - start
        if done and elapsed + elapsed / done > args.budget_min * 60:
            print(f"budget: another subject would exceed {args.budget_min} min after {done} "
                  "subject(s); stopping", flush=True)
            break
        X, y, meta = load_motor_imagery("simulated", subjects=[subject], fmin=4.0, fmax=30.0,
                                        resample=args.sfreq)
        X = X.astype(np.float32)
        args.shape = f"{X.shape[1]} x {X.shape[2]}"
        tr = (meta.session == "0train").to_numpy()
        for name, model, params, n_ep, common in configs(
                args.eegnet_epochs, args.lstm_epochs, args.mubinn_epochs, args.sfreq,
                args.mimann_episodes):
            if args.methods and name not in args.methods:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                r = evaluate_one(name, model, params, n_ep, common, X[tr], y[tr], X[~tr], y[~tr],
                                 args.sfreq, tmp, args.threads)
            r["subject"] = subject
            rows.append(r)
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}),
                  flush=True)
        done += 1
        write_tables(_merge(kept, rows, order), args, args.out)
    print(f"total {time.time() - start:.0f} s", flush=True)
    return write_tables(_merge(kept, rows, order), args, args.out)


def _dataset_code():
    """The simulated dataset's MOABB code: seed, subjects and generator version."""
    from eegbin.datasets import SimulatedMotorImagery

    return SimulatedMotorImagery().code


def _kept_rows(path, methods):
    """Rows of the methods not re-run (``--methods``), from the existing per-subject CSV."""
    csv = Path(path) / "training_quantized.csv"
    if not methods or not csv.exists():
        return []
    import pandas as pd

    old = pd.read_csv(csv, keep_default_na=False)
    return old[~old.method.isin(methods)].to_dict("records")


def _merge(kept, rows, order):
    """Kept and new rows, methods in the configs' ``order``, then by subject."""
    import pandas as pd

    if not kept:
        return rows
    df = pd.DataFrame(kept + rows)
    df["_o"] = df.method.map(lambda m: order.index(m) if m in order else len(order))
    return df.sort_values(["_o", "subject"], kind="stable").drop(columns="_o").to_dict("records")


if __name__ == "__main__":
    main()

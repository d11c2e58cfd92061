"""Evidence for issue 21: the Hersche et al. 2020 models measured on a Cortex-M4F (QEMU mps2-an386).

Subject 1 of the simulated dataset: each registered pipeline is fitted on session
``0train``, exported with :func:`eegbin.export.to_c` (float32), built with
:class:`eegbin.export.CortexM4` (``-Os``) and run under ``qemu-system-arm -M mps2-an386``
on the first ``--trials`` trials of session ``1test``, each step timed on its own.
Flash and RAM come from the linked ELF (the model's share, with what it pulls from
newlib/libgcc) and the painted stack; instructions from QEMU's ``-icount`` clock (see
:mod:`eegbin.export.cortexm4`). Beside them: ``footprint()`` memory (float32 weights,
the width the C code stores) and operations, and the paper's Table II where it has one.

Then the LSTMs on the data ``export_mimann_lstm.py`` reads (4-30 Hz, 64 Hz: 112 steps of 22
features after average pooling by 2): the float LSTM of 100 cells of that script and the same
weights binarized after training as MuBiNN2 with (A, W) = (1, 1), (2, 2), (3, 3) levels
(:class:`eegbin.nn.MultiLevelBinarizedLSTM`, static activation scales calibrated on session
``0train``), heads re-fitted. The MuBiNN2 cell runs in double on the target (eegbin's engines fix
float64, and the codes are bit-identical only so), which the M4F's single-precision FPU does
not have: libgcc computes it in software.

Run::

    python docs/reproductions/cortexm4_table.py [--trials 2] [--large]

Writes ``results/export/cortexm4.csv`` and ``cortexm4.rst`` next to this file.
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

from eegbin import footprint  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.export import CModel, CortexM4, to_c  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_agreement import FAMILIES, LARGE, OUT, fitted_pipelines  # noqa: E402  (the same models)
from export_mimann_lstm import SFREQ, lstm_weights  # noqa: E402  (the same float LSTM)

#: Hersche et al. 2020, Table II (float16 weights): memory kB, MACs per inference
PAPER = {
    "Riemann+SVM": "108.28 kB, 17.71 M MAC",
    "Riemann+RP+SVM-bin(d=100000)": "71.24 kB, 126.47 M MAC",
}


def main(argv=None):
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subject", type=int, default=1)
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--large", action="store_true", help="also d = 50 000 and 100 000")
    parser.add_argument("--models", nargs="+", default=["hersche", "lstm"], choices=["hersche", "lstm"])
    parser.add_argument("--out", type=Path, default=OUT, help="directory of the table (default: results/export)")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="DIR",
                        help="run nothing: the table of --out from the cortexm4.csv of runs in these "
                             "directories (e.g. --models hersche and --models lstm run in parallel), in order")
    args = parser.parse_args(argv)
    OUT = args.out
    if args.merge:
        import pandas as pd

        rows = pd.concat([pd.read_csv(d / "cortexm4.csv", keep_default_na=False) for d in args.merge])
        write_tables(rows.to_dict("records"), args)
        return 0
    missing = CortexM4.missing_tools()
    if missing:
        parser.error(f"{', '.join(missing)} not installed (gcc-arm-none-eabi, libnewlib-arm-none-eabi, "
                     f"qemu-system-arm)")
    families = FAMILIES + (LARGE if args.large else []) if "hersche" in args.models else []
    rows = []
    with tempfile.TemporaryDirectory() as work:
        if families:
            X, y, meta = load_motor_imagery("simulated", subjects=[args.subject])
            X = X.astype(np.float32)
            tr = (meta.session == "0train").to_numpy()
            Xte = X[(meta.session == "1test").to_numpy()][: args.trials]
            for index, fam, pipe, _ in fitted_pipelines(X[tr], y[tr], families):
                rows.append(_measure(pipe, fam, f"m{index}", work, Xte))
        if "lstm" in args.models:
            for fam, pipe, name, Xte in _lstms(args):
                rows.append(_measure(pipe, fam, name, work, Xte))
    write_tables(rows, args)
    return 0


def _lstms(args):
    """(family, fitted LSTMClassifier, C name, test trials): float LSTM, then MuBiNN2 (1,1) to (3,3)."""
    from eegbin import LSTMClassifier
    from eegbin.nn import LSTM, MultiLevelBinarizedLSTM

    X, y, meta = load_motor_imagery("simulated", subjects=[args.subject], fmin=4.0, fmax=30.0, resample=SFREQ)
    X = X.astype(np.float32)
    tr = (meta.session == "0train").to_numpy()
    Xte = X[(meta.session == "1test").to_numpy()][: args.trials]
    w = lstm_weights(X.shape[1])
    yield "LSTM float (1 x 100 cells)", LSTMClassifier(LSTM(w), decimate=2, pooling="mean").fit(X[tr], y[tr]), \
        "lstm", Xte
    for A, W in ((1, 1), (2, 2), (3, 3)):
        net = MultiLevelBinarizedLSTM(w, activation_levels=A, weight_levels=W)  # mode="mubinn2"
        yield f"MuBiNN2 ({A},{W}), 1 x 100 cells", \
            LSTMClassifier(net, decimate=2, pooling="mean").fit(X[tr], y[tr]), f"mubinn2_{A}{W}", Xte


def _measure(pipe, fam, name, work, Xte):
    """One row: the model exported (float32), built for the M4F and run under QEMU."""
    to_c(pipe, work, name)
    host = CModel(work, name)
    py = np.searchsorted(pipe.classes_, pipe.predict(Xte))
    m4 = CortexM4(work, name)
    m4.build(opt="-Os")
    t0 = time.time()
    pred, instructions = m4.run(Xte, steps=True)
    seconds = time.time() - t0
    size = m4.size()
    fp = footprint(pipe, float_bits=32)
    steps = m4.step_instructions_.mean(axis=0)
    row = dict(
        family=fam, flash_kB=size["flash"] / 1000, ram_kB=size["ram"] / 1000,
        stack_B=size["stack"], instructions_M=instructions.mean() / 1e6,
        features_M=steps[0] / 1e6, rest_M=steps[1:].sum() / 1e6,
        equal_python=f"{int((pred == py).sum())}/{len(py)}",
        equal_host_c=f"{int((pred == host.predict(Xte)).sum())}/{len(py)}",
        footprint_kB=fp.kB, footprint_MMAC=fp.total_macs / 1e6, footprint_Mwordops=fp.word_ops / 1e6,
        paper=PAPER.get(fam, ""), qemu_s=seconds,
    )
    print(f"{fam:38s} flash {row['flash_kB']:8.1f} kB  RAM {row['ram_kB']:7.1f} kB  "
          f"{row['instructions_M']:9.1f} M instr ({row['features_M']:.1f} features)  "
          f"= Python {row['equal_python']}  footprint {row['footprint_kB']:.1f} kB "
          f"{row['footprint_MMAC']:.1f} M MAC  [{seconds:.0f} s in QEMU]", flush=True)
    return row


def write_tables(rows, args):
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    df.to_csv(OUT / "cortexm4.csv", index=False)
    head = ["model", "flash [kB]", "RAM [kB] (stack [B])", "instructions / inference [M]",
            "of which features [M]", "predictions = Python", "footprint() [kB] (float32)",
            "footprint() MAC [M] / word ops [M]", "Hersche 2020 Table II (float16)"]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    lines.append("   * - " + "\n     - ".join(head))
    for r in rows:
        cells = [r["family"], f"{r['flash_kB']:.1f}", f"{r['ram_kB']:.1f} ({r['stack_B']})",
                 f"{r['instructions_M']:.1f}", f"{r['features_M']:.1f}", r["equal_python"],
                 f"{r['footprint_kB']:.1f}", f"{r['footprint_MMAC']:.1f} / {r['footprint_Mwordops']:.3f}",
                 r["paper"] or "-"]
        lines.append("   * - " + "\n     - ".join(cells))
    lines.append("")
    lines.append(f"Subject {args.subject}, {args.trials} test trial(s) per model, ``-Os``, float32.")
    (OUT / "cortexm4.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

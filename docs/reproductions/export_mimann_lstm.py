"""Evidence for issues 20/21, MI-MANN (EEGNet controller + binary key-value memory) and the float LSTM in C.

The 9 simulated subjects at the EEGNet configuration of ``export_agreement.py --models eegnet``
(22 x 224 trials, 64 Hz, 4-30 Hz). The controller is an EEGNet with random weights
(``EEGNet.random_weights``, seed 0; no training, so this takes seconds): the sizes and
instruction counts do not depend on the weight values, and C = Python is checked on
whatever the weights are. The memory (``n_components`` 256 bits, softabs) holds the session
``0train`` trials as its support set (288 keys). Float32 and the 8-bit / 16-bit
fixed-point controller.

For every test trial of session ``1test``: predictions of the C model (host compiler)
against eegbin's, key bits that differ (eegbin's keys of the C features vs of its own
features) and the readout deviation (per trial ``max |y_C - y_py| / max |y_py|``); on the
Cortex-M4F under QEMU (``-Os``, subject 1, the first ``--trials`` test trials): flash, RAM (with the
painted stack), instructions per inference and per step (features, memory), next to the
host object's weight bytes and ``footprint()``.

The float LSTM: MuBiNN's classifier as ``train_quantized.py`` configures it (one layer of
100 cells, time average-pooled by 2, so 112 steps of 22 features), with random weights
drawn as ``torch.nn.LSTM`` initializes them (uniform in +-1/sqrt(100), seed 0) and the
head re-fitted on session ``0train``; the same checks (features and logits against
eegbin's float64) and the same Cortex-M4F figures. Then the same weights binarized after
training as MuBiNN2 at (A, W) = (1, 1), (2, 2), (3, 3) (static scales calibrated on
``0train``): predictions, and the hidden state against eegbin's (bit for bit up to its
rounding to the float32 features); their Cortex-M4F figures are in ``cortexm4_table.py``.

Run::

    python docs/reproductions/export_mimann_lstm.py [--subjects 1 2 ...] [--trials 2] \\
        [--models mimann lstm mubinn2]

Writes ``results/export/mimann_lstm.csv`` and ``mimann_lstm.rst`` next to this file.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.pipeline import make_pipeline  # noqa: E402

from eegbin import BinaryKeyValueMemory, EEGNetClassifier, LSTMClassifier  # noqa: E402
from eegbin.binary import cosine_from_hamming, memory_readout, sharpen_attention  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.export import CModel, CortexM4, to_c  # noqa: E402
from eegbin.kernels import pack_bits  # noqa: E402
from eegbin.nn import LSTM, EEGNet, MultiLevelBinarizedLSTM  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "export"
SFREQ, N_DIMS = 64.0, 256


def lstm_weights(n_chans, H=100):
    """MuBiNN's classifier as train_quantized.py configures it (one layer of H = 100 cells), with
    weights drawn as torch.nn.LSTM initializes them (uniform in +-1/sqrt(H), seed 0)."""
    rng = np.random.default_rng(0)
    bound = 1.0 / np.sqrt(H)
    return {"lstm.weight_ih_l0": rng.uniform(-bound, bound, (4 * H, n_chans)),
            "lstm.weight_hh_l0": rng.uniform(-bound, bound, (4 * H, H)),
            "lstm.bias_ih_l0": rng.uniform(-bound, bound, 4 * H),
            "lstm.bias_hh_l0": rng.uniform(-bound, bound, 4 * H)}


def _keys(mem, F):
    """eegbin's packed keys H(R f) of the features F."""
    return pack_bits(F @ mem.projection_.T.astype(np.float64), kind="heaviside")


def _readout(mem, F):
    """eegbin's readout a Y of the features F (eq. 10, 14, 15)."""
    alpha = cosine_from_hamming(_keys(mem, F), mem.keys_, mem.n_components)
    return memory_readout(sharpen_attention(alpha, mem.sharpen, mem.beta), mem.labels_, len(mem.classes_))


def _rel(c, p):
    return float((np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)).max())


_BYTES = {"float": 4, "double": 8, "uint64_t": 8, "uint8_t": 1, "int8_t": 1, "int16_t": 2, "int32_t": 4}


def _step_weight_bytes(source, name, step):
    """Bytes of the weight arrays of one step, from the generated source."""
    decl = re.findall(rf"static const (\w+) {name}_s{step}_w_\w+\[(\d+)\]", source.read_text())
    return sum(_BYTES[ctype] * int(n) for ctype, n in decl)


def _m4(work, name, X, pred, trials):
    """Cortex-M4F figures of an exported model on the first ``trials`` trials."""
    m4 = CortexM4(work, name)
    m4.build(opt="-Os")
    p4, ins = m4.run(X[:trials], steps=True)
    size = m4.size()
    return dict(m4_equal=f"{int((p4 == pred[:trials]).sum())}/{trials}", flash=size["flash"], ram=size["ram"],
                stack=size["stack"], instructions=int(np.median(ins)),
                step0=int(np.median(m4.step_instructions_[:, 0])), step1=int(np.median(m4.step_instructions_[:, 1])))


def run_subject(subject, work, trials, models=("mimann", "lstm", "mubinn2")):
    """MI-MANN (float and fixed-point controller), float LSTM and MuBiNN2 rows of one subject."""
    X, y, meta = load_motor_imagery("simulated", subjects=[subject], fmin=4.0, fmax=30.0, resample=SFREQ)
    X = X.astype(np.float32)
    tr = (meta.session == "0train").to_numpy()
    te = ~tr
    n_chans, n_times = X.shape[1:]
    w = EEGNet.random_weights(n_chans, n_times, len(np.unique(y)), kernel_length=32, rng=0)
    rows = []
    for variant, options in (("MI-MANN, float32 controller", {}),
                             ("MI-MANN, 8-bit / 16-bit controller", {"fixed_point": True})):
        if "mimann" not in models:
            break
        pipe = make_pipeline(EEGNetClassifier(w, n_chans, n_times, SFREQ, pool1_kernel_size=4,
                                              pool2_kernel_size=8, **options),
                             BinaryKeyValueMemory(n_components=N_DIMS, random_state=7)).fit(X[tr], y[tr])
        name = f"s{subject}_mimann_{'fixed' if options else 'float'}"
        to_c(pipe, work, name)
        host = CModel(work, name)
        mem = pipe[-1]
        F_c = host.step(0, X[te])
        F_py = pipe[0].transform(X[te]).astype(np.float64)
        keys_c, keys_py = _keys(mem, F_c.astype(np.float64)), _keys(mem, F_py)
        pred, y_c = host.step(1, F_c)
        row = dict(subject=subject, model=variant, trials=int(te.sum()),
                   equal=int((pipe.classes_[host.predict(X[te])] == pipe.predict(X[te])).sum()),
                   bits_differing=int(np.unpackbits(np.ascontiguousarray(keys_c ^ keys_py).view(np.uint8)).sum()),
                   feature_dev=_rel(F_c, F_py), score_dev=_rel(y_c, _readout(mem, F_py)),
                   projection=("stored (packed bits)" if "w_projection" in (Path(work) / f"{name}.c").read_text()
                               else "regenerated from the seed"),
                   weights=_step_weight_bytes(Path(work) / f"{name}.c", name, 1),
                   footprint=mem.footprint(32).n_bytes,
                   macs=mem.footprint(32).total_macs)
        if subject == 1:
            row.update(_m4(work, name, X[te], pred, trials))
        rows.append(row)
        print(row, flush=True)
    if "lstm" in models:
        clf = LSTMClassifier(LSTM(lstm_weights(n_chans)), decimate=2, pooling="mean").fit(X[tr], y[tr])
        name = f"s{subject}_lstm"
        to_c(clf, work, name)
        host = CModel(work, name)
        F_c = host.step(0, X[te])
        pred, s_c = host.step(1, F_c)
        fp = clf.footprint(32)
        row = dict(subject=subject, model="LSTM float (1 x 100 cells)", trials=int(te.sum()),
                   equal=int((clf.classes_[host.predict(X[te])] == clf.predict(X[te])).sum()), bits_differing="",
                   feature_dev=_rel(F_c, clf.transform(X[te])), score_dev=_rel(s_c, clf.decision_function(X[te])),
                   projection="", weights=host.size()["weights"], footprint=fp.n_bytes, macs=fp.total_macs)
        if subject == 1:
            row.update(_m4(work, name, X[te], pred, trials))
        rows.append(row)
        print(row, flush=True)
    # the same weights binarized after training (their Cortex-M4F figures: cortexm4_table.py)
    for A, W in ((1, 1), (2, 2), (3, 3)) if "mubinn2" in models else ():
        clf = LSTMClassifier(MultiLevelBinarizedLSTM(lstm_weights(n_chans), activation_levels=A, weight_levels=W),
                             decimate=2, pooling="mean").fit(X[tr], y[tr])
        name = f"s{subject}_mubinn2_{A}{W}"
        to_c(clf, work, name)
        host = CModel(work, name)
        F_c = host.step(0, X[te])
        pred, s_c = host.step(1, F_c)  # predict = step 1 of step 0 (each network run once, C and Python)
        F_py = clf.transform(X[te])
        s_py = F_py @ clf.head_coef_.T + clf.head_intercept_  # decision_function, whose argmax predict takes
        fp = clf.footprint(64)  # the cell's scales and tables are stored as double
        row = dict(subject=subject, model=f"MuBiNN2 ({A},{W}), 1 x 100 cells", trials=int(te.sum()),
                   equal=int((pred == np.argmax(s_py, axis=1)).sum()),
                   bits_differing=int((F_c != F_py.astype(np.float32)).sum()),
                   feature_dev=_rel(F_c, F_py), score_dev=_rel(s_c, s_py),
                   projection="", weights=host.size()["header_weights"], footprint=fp.n_bytes, macs=fp.total_macs)
        rows.append(row)
        print(row, flush=True)
    return rows


def write_table(rows):
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    df.to_csv(OUT / "mimann_lstm.csv", index=False)
    head = ["model", "subjects", "predictions = Python",
            "differing from eegbin: key bits (MI-MANN), hidden-state values (MuBiNN2, eegbin's rounded to float32)",
            "max deviation vs float64: features / scores", "Cortex-M4F flash / RAM [B] (stack)",
            "instructions (features + memory or head)", "weights [B] / footprint() [B] (memory head or LSTM)",
            "footprint() MACs"]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + "\n     - ".join(head)]
    for model, sub in df.groupby("model", sort=False):
        first = sub[sub.subject == sub.subject.min()].iloc[0]
        bits = "-" if (sub.bits_differing == "").all() else str(int(sub.bits_differing.astype(int).sum()))
        m4 = "flash" in sub and not pd.isna(first.get("flash"))
        cells = [model, str(sub.subject.nunique()), f"{int(sub.equal.sum())} / {int(sub.trials.sum())}"
                 + (f" (QEMU: {first.m4_equal})" if m4 else ""), bits,
                 f"{sub.feature_dev.max():.1e} / {sub.score_dev.max():.1e}",
                 f"{int(first.flash):,} / {int(first.ram):,} ({int(first.stack)})" if m4 else "-",
                 f"{int(first.instructions):,} ({int(first.step0):,} + {int(first.step1):,})" if m4 else "-",
                 f"{int(first.weights):,} / {first.footprint:,.1f}", f"{int(first.macs):,}"]
        lines.append("   * - " + "\n     - ".join(cells))
    (OUT / "mimann_lstm.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None):
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", nargs="+", type=int, default=list(range(1, 10)))
    parser.add_argument("--trials", type=int, default=2, help="test trials of subject 1 run under QEMU")
    parser.add_argument("--models", nargs="+", default=["mimann", "lstm", "mubinn2"],
                        choices=["mimann", "lstm", "mubinn2"])
    parser.add_argument("--out", type=Path, default=OUT, help="directory of the table (default: results/export)")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="DIR",
                        help="run nothing: the table of --out from the mimann_lstm.csv of runs in these directories")
    args = parser.parse_args(argv)
    OUT = args.out
    if args.merge:
        import pandas as pd

        frames = [pd.read_csv(d / "mimann_lstm.csv", keep_default_na=False) for d in args.merge]
        df = pd.concat(frames, ignore_index=True)
        for col in ("flash", "ram", "stack", "instructions", "step0", "step1"):
            if col in df:
                df[col] = pd.to_numeric(df[col], errors="coerce")
        write_table(df.to_dict("records"))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for subject in args.subjects:
            rows += run_subject(subject, work, args.trials, args.models)
            write_table(rows)  # after every subject: a partial table survives an interrupt
    return 0


if __name__ == "__main__":
    sys.exit(main())

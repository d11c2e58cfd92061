"""Evidence for issues 20/21, MI-MANN (EEGNet controller + binary key-value memory) and the float LSTM in C.

Simulated subject 1 at the EEGNet configuration of ``export_agreement.py --models eegnet``
(22 x 224 trials, 64 Hz, 4-30 Hz). The controller is an EEGNet with random weights
(``EEGNet.random_weights``, seed 0; no training, so this takes seconds): the sizes and
instruction counts do not depend on the weight values, and C = Python is checked on
whatever the weights are. The memory (``n_dims`` 256 bits, softabs) holds the session
``0train`` trials as its support set (288 keys). Float32 and the 8-bit / 16-bit
fixed-point controller.

For every test trial of session ``1test``: predictions of the C model (host compiler)
against eegbin's, key bits that differ (eegbin's keys of the C features vs of its own
features) and the readout deviation (per trial ``max |y_C - y_py| / max |y_py|``); on the
Cortex-M4F under QEMU (``-Os``, the first ``--trials`` test trials): flash, RAM (with the
painted stack), instructions per inference and per step (features, memory), next to the
host object's weight bytes and ``footprint()``.

The float LSTM: MuBiNN's classifier as ``train_quantized.py`` configures it (one layer of
100 cells, time average-pooled by 2, so 112 steps of 22 features), with random weights
drawn as ``torch.nn.LSTM`` initializes them (uniform in +-1/sqrt(100), seed 0) and the
head re-fitted on session ``0train``; the same checks (features and logits against
eegbin's float64) and the same Cortex-M4F figures.

Run::

    python docs/reproductions/export_mimann_lstm.py [--trials 2]

Writes ``results/export/mimann.csv``, ``mimann.rst``, ``lstm.csv`` and ``lstm.rst`` next to
this file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.pipeline import make_pipeline  # noqa: E402

from eegbin import BinaryKeyValueMemory, EEGNetClassifier, LSTMClassifier  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.export import CModel, CortexM4, to_c  # noqa: E402
from eegbin.binary import cosine_from_hamming, memory_readout, sharpen_attention  # noqa: E402
from eegbin.kernels import pack_bits  # noqa: E402
from eegbin.nn import LSTM, EEGNet  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "export"
SFREQ, N_DIMS = 64.0, 256


def _keys(mem, F):
    """eegbin's packed keys H(R f) of the features F."""
    return pack_bits(F @ mem.projection_.T.astype(np.float64), kind="heaviside")


def _readout(mem, F):
    """eegbin's readout a Y of the features F (eq. 10, 14, 15)."""
    alpha = cosine_from_hamming(_keys(mem, F), mem.keys_, mem.n_dims)
    return memory_readout(sharpen_attention(alpha, mem.sharpen, mem.beta), mem.labels_, len(mem.classes_))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2, help="test trials run under QEMU")
    args = parser.parse_args(argv)
    X, y, meta = load_motor_imagery("simulated", subjects=[1], fmin=4.0, fmax=30.0, resample=SFREQ)
    X = X.astype(np.float32)
    tr = (meta.session == "0train").to_numpy()
    te = ~tr
    n_chans, n_times = X.shape[1:]
    w = EEGNet.random_weights(n_chans, n_times, len(np.unique(y)), kernel_length=32, rng=0)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for variant, options in (("float32", {}), ("8-bit / 16-bit", dict(fixed_point=True))):
            pipe = make_pipeline(EEGNetClassifier(w, n_chans, n_times, SFREQ, pool1_kernel_size=4,
                                                  pool2_kernel_size=8, **options),
                                 BinaryKeyValueMemory(n_dims=N_DIMS, random_state=7)).fit(X[tr], y[tr])
            name = "mimann_fixed" if options else "mimann_float"
            to_c(pipe, work, name)
            host = CModel(work, name)
            mem = pipe[-1]
            F_c = host.step(0, X[te])
            F_py = pipe[0].transform(X[te]).astype(np.float64)
            keys_c, keys_py = _keys(mem, F_c.astype(np.float64)), _keys(mem, F_py)
            pred, y_c = host.step(1, F_c)
            y_py = _readout(mem, F_py)
            m4 = CortexM4(work, name)
            m4.build(opt="-Os")
            p4, ins = m4.run(X[te][: args.trials], steps=True)
            size = m4.size()
            fp = mem.footprint(32)
            row = dict(controller=variant, trials=int(te.sum()),
                       equal=int((pipe.classes_[host.predict(X[te])] == pipe.predict(X[te])).sum()),
                       key_bits_differing=int(np.unpackbits(np.ascontiguousarray(keys_c ^ keys_py)
                                                            .view(np.uint8)).sum()),
                       readout_dev=float((np.abs(y_c - y_py).max(axis=1) / np.abs(y_py).max(axis=1)).max()),
                       projection=("stored (packed bits)" if "w_projection" in (Path(work) / f"{name}.c").read_text()
                                   else "regenerated from the seed"),
                       m4_equal=f"{int((p4 == pred[: args.trials]).sum())}/{args.trials}",
                       flash=size["flash"], ram=size["ram"], stack=size["stack"],
                       instructions=int(np.median(ins)),
                       features=int(np.median(m4.step_instructions_[:, 0])),
                       memory=int(np.median(m4.step_instructions_[:, 1])),
                       weights=host.size()["weights"], memory_footprint=fp.n_bytes,
                       n_keys=int(mem.keys_.shape[0]))
            rows.append(row)
            print(row, flush=True)
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(OUT / "mimann.csv", index=False)
    head = ["controller", "predictions = Python", "key bits differing", "max readout deviation",
            "projection R", "Cortex-M4F flash / RAM [B] (stack)", "instructions (features + memory)",
            "weights [B] (host object)", "memory head footprint() [B]"]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + "\n     - ".join(head)]
    for r in rows:
        cells = [r["controller"], f"{r['equal']} / {r['trials']} (QEMU: {r['m4_equal']})",
                 str(r["key_bits_differing"]), f"{r['readout_dev']:.1e}", r["projection"],
                 f"{r['flash']:,} / {r['ram']:,} ({r['stack']})",
                 f"{r['instructions']:,} ({r['features']:,} + {r['memory']:,})", f"{r['weights']:,}",
                 f"{r['memory_footprint']:,.1f}"]
        lines.append("   * - " + "\n     - ".join(cells))
    (OUT / "mimann.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    lstm(X, y, tr, te, args.trials)
    return 0


def _rel(c, p):
    return float((np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)).max())


def lstm(X, y, tr, te, trials, H=100):
    import pandas as pd

    rng = np.random.default_rng(0)
    bound = 1.0 / np.sqrt(H)
    n_chans, n_classes = X.shape[1], len(np.unique(y))
    w = {"lstm.weight_ih_l0": rng.uniform(-bound, bound, (4 * H, n_chans)),
         "lstm.weight_hh_l0": rng.uniform(-bound, bound, (4 * H, H)),
         "lstm.bias_ih_l0": rng.uniform(-bound, bound, 4 * H), "lstm.bias_hh_l0": rng.uniform(-bound, bound, 4 * H)}
    clf = LSTMClassifier(LSTM(w), decimate=2, pooling="mean").fit(X[tr], y[tr])
    with tempfile.TemporaryDirectory() as work:
        to_c(clf, work, "lstm")
        host = CModel(work, "lstm")
        F_c = host.step(0, X[te])
        pred, s_c = host.step(1, F_c)
        m4 = CortexM4(work, "lstm")
        m4.build(opt="-Os")
        p4, ins = m4.run(X[te][:trials], steps=True)
        size = m4.size()
        fp = clf.footprint(32)
        row = dict(model="LSTM float (1 x 100 cells)", trials=int(te.sum()),
                   equal=int((clf.classes_[host.predict(X[te])] == clf.predict(X[te])).sum()),
                   feature_dev=_rel(F_c, clf.transform(X[te])), score_dev=_rel(s_c, clf.decision_function(X[te])),
                   m4_equal=f"{int((p4 == pred[:trials]).sum())}/{trials}", flash=size["flash"], ram=size["ram"],
                   stack=size["stack"], instructions=int(np.median(ins)),
                   features=int(np.median(m4.step_instructions_[:, 0])),
                   head=int(np.median(m4.step_instructions_[:, 1])), weights=host.size()["weights"],
                   footprint=fp.n_bytes, macs=fp.total_macs)
    print(row, flush=True)
    pd.DataFrame([row]).to_csv(OUT / "lstm.csv", index=False)
    head = ["model", "predictions = Python", "max deviation vs float64: features / logits",
            "Cortex-M4F flash / RAM [B] (stack)", "instructions (features + head)",
            "weights [B] / footprint() [B]", "footprint() MACs"]
    cells = [row["model"], f"{row['equal']} / {row['trials']} (QEMU: {row['m4_equal']})",
             f"{row['feature_dev']:.1e} / {row['score_dev']:.1e}",
             f"{row['flash']:,} / {row['ram']:,} ({row['stack']})",
             f"{row['instructions']:,} ({row['features']:,} + {row['head']:,})",
             f"{row['weights']:,} / {row['footprint']:,.0f}", f"{row['macs']:,}"]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + "\n     - ".join(head),
             "   * - " + "\n     - ".join(cells)]
    (OUT / "lstm.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())

"""Evidence for the C export (issue 20): C = Python on every test trial of the 9 simulated subjects.

For each subject, the registered Hersche et al. 2020 pipelines (``eegbin evaluate --list``)
are fitted on session ``0train`` (FilterBankRiemann fitted once and shared), exported
with :func:`eegbin.export.to_c`, compiled with :class:`eegbin.export.CModel` and run on
every trial of session ``1test``. Both sides read the same float32 trials (what a device
gets); eegbin computes in float64, the C code in ``--dtype`` (float32 by default).

Per family and subject it records: predictions equal (count; ``predict`` end to end), the
largest score deviation (per trial ``max_c |s_C - s_py| / max_c |s_py|``; the C scores
through the same C steps from the C features), the feature deviation of
the Riemannian step (per trial ``max |f_C - f_py| / max |f_py|``; median, 99th
percentile, max), for the binarized families how many C code bits differ from
eegbin's on eegbin's features (the binary step alone; 0 = bit-identical) and how many code bits differ end
to end (C features vs float64 features), and the object sizes next to ``footprint()``.

Run::

    python docs/reproductions/export_agreement.py [--subjects 1 2 ...] [--dtype float32 float64] \\
        [--large]   # also d = 50 000 and 100 000

Writes ``results/export/agreement.csv`` (per subject and family), ``agreement.rst``
(the table of ``docs/user_guide/deploy.rst``) and ``sizes.csv`` next to this file.
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

from sklearn.base import clone  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from eegbin import footprint  # noqa: E402
from eegbin.datasets import load_motor_imagery  # noqa: E402
from eegbin.evaluation.pipelines import get_pipeline  # noqa: E402
from eegbin.export import CModel, to_c  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "export"

FAMILIES = [
    "Riemann+SVM",
    "Riemann+LDA",
    "Riemann+SVM binarized",
    "Riemann+LDA binarized",
    "Riemann+RP+SVM binarized (d=10879)",
    "Riemann+RP+AM",
]
LARGE = ["Riemann+RP+SVM binarized (d=50000)", "Riemann+RP+SVM binarized (d=100000)"]


def _rel(c, p):
    """Per-row deviation relative to the row's largest magnitude."""
    return np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)


def _codes_step(pipe):
    """Index of the step whose output is the binary code, or None (float heads)."""
    names = [type(s).__name__ for _, s in pipe.steps]
    for k, n in enumerate(names):
        if n in ("SparseBipolarRandomProjection", "HeavisideBinarizer"):
            return k
    return None


def fitted_pipelines(X_train, y_train, families):
    """Yield ``(index, family, fitted pipeline, head, train features)`` for the registered
    pipelines ``families``, their FilterBankRiemann fitted once and shared (the same model
    each pipeline would fit: it is unsupervised and deterministic)."""
    fbr = F_tr = None
    for index, fam in enumerate(families):
        template = get_pipeline(fam, sfreq=250.0)
        if fbr is None:
            fbr = clone(template.steps[0][1])
            F_tr = fbr.fit_transform(X_train)
        head = Pipeline([(n, clone(s)) for n, s in template.steps[1:]]).fit(F_tr, y_train)
        yield index, fam, Pipeline([(template.steps[0][0], fbr)] + head.steps), head


def _bits(words):
    return np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=1).sum(axis=1)


def run_subject(subject, families, dtypes, workdir):
    X, y, meta = load_motor_imagery("simulated", subjects=[subject])
    X = X.astype(np.float32)  # the device's input; eegbin upcasts it to float64
    tr = (meta.session == "0train").to_numpy()
    te = (meta.session == "1test").to_numpy()
    rows, sizes = [], []
    F_te = None
    F_c = {}  # the C features of the test trials, per dtype (FilterBankRiemann is shared)
    for index, fam, pipe, head in fitted_pipelines(X[tr], y[tr], families):
        if F_te is None:
            F_te = pipe.steps[0][1].transform(X[te])
        s_py = head.decision_function(F_te)
        p_py = np.searchsorted(pipe.classes_, head.predict(F_te))
        for dtype in dtypes:
            name = f"s{subject}_f{index}_{dtype}"
            to_c(pipe, workdir, name, dtype=dtype)
            m = CModel(workdir, name)
            t0 = time.perf_counter()
            p_c = m.predict(X[te])  # end to end, trial -> class
            seconds = (time.perf_counter() - t0) / te.sum()
            if dtype not in F_c:
                F_c[dtype] = m.step(0, X[te])
            # the scores through the same C steps, from the C features computed once
            s_c = F_c[dtype]
            for k in range(1, m.n_steps):
                s_c = m.step(k, s_c)
            pred_steps, s_c = s_c
            assert (pred_steps == p_c).all()
            dev = _rel(F_c[dtype], F_te)
            row = dict(subject=subject, family=fam, dtype=dtype, trials=int(te.sum()),
                       equal=int((p_c == p_py).sum()),
                       accuracy_py=float((pipe.classes_[p_py] == y[te]).mean()),
                       score_dev=float(_rel(s_c, s_py).max()),
                       feat_dev_median=float(np.median(dev)), feat_dev_p99=float(np.percentile(dev, 99)),
                       feat_dev_max=float(dev.max()), ms_per_trial=1000 * seconds, codes_identical="",
                       bits_differing="", trials_with_flips="", distance_dev_bits="")
            k = _codes_step(pipe)
            if k is not None:
                step = pipe.steps[k][1]
                out = step.get_params()["output"]
                step.set_params(output="packed")
                ref = step.transform(F_te)
                step.set_params(output=out)
                dt = np.float32 if dtype == "float32" else np.float64
                codes_on_py = m.step(k, F_te.astype(dt))  # the binary step alone
                flips = _bits(np.bitwise_xor(m.step(k, F_c[dtype]), ref))  # end to end
                # scores 1 - 2 d_h / n: the Hamming distances differ by |delta s| n / 2 bits
                n_bits = int(getattr(pipe.steps[-1][1], "n_bits_", getattr(pipe.steps[-1][1], "n_components", 0)))
                row.update(codes_identical=int(_bits(np.bitwise_xor(codes_on_py, ref)).sum()),
                           bits_differing=int(flips.sum()), trials_with_flips=int((flips > 0).sum()),
                           distance_dev_bits=int(np.rint(np.abs(s_c - s_py).max() * n_bits / 2)))
            rows.append(row)
            if subject == min(SUBJECTS):
                size = m.size()
                fp = footprint(pipe, float_bits=32 if dtype == "float32" else 64)
                sizes.append(dict(family=fam, dtype=dtype, footprint_bytes=fp.n_bytes,
                                  weights=size["weights"], text=size["text"], rodata=size["rodata"],
                                  data=size["data"], bss=size["bss"], work=size["header_work"]))
            print(f"subject {subject} {fam:38s} {dtype}: {row['equal']}/{row['trials']} equal, "
                  f"score dev {row['score_dev']:.1e}, features {row['feat_dev_median']:.1e} / "
                  f"{row['feat_dev_max']:.1e}, code bits differing {row['codes_identical']} "
                  f"(end to end {row['bits_differing']}), {row['ms_per_trial']:.0f} ms/trial", flush=True)
    return rows, sizes


def write_tables(rows, sizes):
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    df.to_csv(OUT / "agreement.csv", index=False)
    pd.DataFrame(sizes).to_csv(OUT / "sizes.csv", index=False)
    lines = []
    g = df.groupby(["family", "dtype"], sort=False)
    summary = g.agg(subjects=("subject", "nunique"), trials=("trials", "sum"), equal=("equal", "sum"),
                    score_dev=("score_dev", "max"), feat_med=("feat_dev_median", "median"),
                    feat_p99=("feat_dev_p99", "max"), feat_max=("feat_dev_max", "max"),
                    ms=("ms_per_trial", "median")).reset_index()
    sz = pd.DataFrame(sizes).set_index(["family", "dtype"]) if sizes else None
    head = ["family", "C arithmetic", "subjects", "predictions = Python", "max score deviation (Hamming: distance)",
            "feature deviation (median / p99 / max)", "codes on eegbin's features",
            "code bits differing end to end", "weights [B] / footprint() [B]", "text / rodata / bss [B]"]
    lines += [".. list-table::", "   :header-rows: 1", ""]
    lines.append("   * - " + "\n     - ".join(head))
    for _, r in summary.iterrows():
        sub = df[(df.family == r.family) & (df.dtype == r.dtype)]
        if (sub.codes_identical == "").all():
            codes, flips = "(float head)", "(float head)"
            dev = f"{r.score_dev:.1e}"
        else:
            dev = f"distances: max {int(sub.distance_dev_bits.astype(int).max())} bit(s)"
            n_diff = int(sub.codes_identical.astype(int).sum())
            codes = "bit-identical" if n_diff == 0 else f"{n_diff} bits differ"
            flips = (f"{int(sub.bits_differing.astype(int).sum())} bits in "
                     f"{int(sub.trials_with_flips.astype(int).sum())} trials")
        if sz is not None and (r.family, r.dtype) in sz.index:
            s = sz.loc[(r.family, r.dtype)]
            weights = f"{int(s.weights):,} / {s.footprint_bytes:,.0f}"
            obj = f"{int(s.text):,} / {int(s.rodata):,} / {int(s.bss):,}"
        else:
            weights = obj = "-"
        cells = [r.family, r.dtype, str(r.subjects), f"{int(r.equal)} / {int(r.trials)}",
                 dev, f"{r.feat_med:.1e} / {r.feat_p99:.1e} / {r.feat_max:.1e}",
                 codes, flips, weights, obj]
        lines.append("   * - " + "\n     - ".join(cells))
    (OUT / "agreement.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


SUBJECTS = list(range(1, 10))


def main(argv=None):
    global SUBJECTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", nargs="+", type=int, default=SUBJECTS)
    parser.add_argument("--dtype", nargs="+", default=["float32"], choices=["float32", "float64"])
    parser.add_argument("--large", action="store_true", help="also d = 50 000 and 100 000")
    args = parser.parse_args(argv)
    SUBJECTS = args.subjects
    families = FAMILIES + (LARGE if args.large else [])
    rows, sizes = [], []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as work:
        for subject in args.subjects:
            r, s = run_subject(subject, families, args.dtype, work)
            rows += r
            sizes += s
            write_tables(rows, sizes)  # after every subject: a partial table survives an interrupt
    print(f"done in {(time.time() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())

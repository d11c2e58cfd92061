"""Evidence for the C export (issue 20): C = Python on every test trial of the 9 simulated subjects.

For each subject, the registered Hersche et al. 2020 pipelines (``eegbin evaluate --list``)
are fitted on session ``0train`` (FilterBankRiemann fitted once and shared), exported
with :func:`eegbin.export.to_c`, compiled with :class:`eegbin.export.CModel` and run on
every trial of session ``1test``. Both sides read the same float32 trials (what a device
gets); eegbin computes in float64, the C code in ``--dtype`` (float32 by default).

Per family and subject it records:

- predictions equal: ``predict`` of the C code, trial in, class out, on every test trial;
- the binary part alone: the C steps after the features fed eegbin's own features,
  codes and Hamming scores compared bit for bit with eegbin's (differences: 0 =
  bit-identical); for the families that regenerate a projection per trial (seconds per
  trial on a PC) on the first ``--check-trials`` trials of each subject, else on all;
- end to end: the feature deviation of the Riemannian step (per trial ``max |f_C -
  f_py| / max |f_py|``; median, 99th percentile, max), the score deviation (per trial
  ``max_c |s_C - s_py| / max_c |s_py|``; for Hamming classifiers the largest change of
  a Hamming distance, in bits) and the code bits that differ because the features do.
  For the projection families, beyond the checked trials, these come from eegbin's
  binary steps applied to the C features, which the check shows equal to the C steps;
- the object sizes next to ``footprint()`` (first subject).

EEGNet (``--models eegnet``): per subject an EEGNet is trained on session ``0train`` with
:class:`eegbin.train.TorchEEGClassifier` (the configuration of ``train_quantized.py``:
22 x 224 trials at 64 Hz, 4-30 Hz, 40 epochs), exported with :func:`eegbin.train.export`
and loaded by :class:`eegbin.EEGNetClassifier` in each variant of :data:`EEGNET_VARIANTS`
(float32, Feng et al.'s compressions one at a time and together), which is exported and
compared on every test trial: predictions, scores (against eegbin's float32 path, the
estimator's, and its float64 path), features (relative deviation; for the fixed-point
variants the int16 feature codes that differ: 0 = bit-identical), and for the product-
quantized heads the table sums of the C head on eegbin's features (trials whose sums
differ: 0 = bit-identical) and the tree leaves that differ end to end. For subject 1 the
object sizes next to ``footprint()`` and, with ``--m4``, the Cortex-M4F build under QEMU
(flash, RAM, instructions per trial and per step).

Run::

    python docs/reproductions/export_agreement.py [--subjects 1 2 ...] [--dtype float32 float64] \\
        [--large] [--check-trials 24] [--append]   # --large: also d = 50 000 and 100 000
        [--models hersche eegnet] [--m4 N]

Writes ``results/export/agreement.csv`` (per subject and family), ``agreement.rst``
(the table of ``docs/user_guide/deploy.rst``) and ``sizes.csv`` next to this file; for
EEGNet ``agreement_eegnet.csv``, ``agreement_eegnet.rst``, ``sizes_eegnet.csv`` and
``sizes_eegnet.rst``.
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
from eegbin.export import CModel, CortexM4, to_c  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "export"

FAMILIES = [
    "Riemann+SVM",
    "Riemann+LDA",
    "Riemann+SVM-bin",
    "Riemann+LDA-bin",
    "Riemann+RP+SVM-bin(d=10879)",
    "Riemann+RP+AM",
]
LARGE = ["Riemann+RP+SVM-bin(d=50000)", "Riemann+RP+SVM-bin(d=100000)"]


def _rel(c, p):
    """Per-row deviation relative to the row's largest magnitude."""
    return np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)


def _codes_step(pipe):
    """Index of the step whose output is the binary code, or None."""
    for k, (_, step) in enumerate(pipe.steps):
        if type(step).__name__ in ("SparseBipolarRandomProjection", "HeavisideBinarizer"):
            return k
    return None


#: steps that regenerate a random matrix for every trial (seconds per trial in C on a PC)
EXPENSIVE = ("SparseBipolarRandomProjection", "AssociativeMemoryClassifier")


def _python_codes(pipe, k, F):
    step = pipe.steps[k][1]
    out = step.get_params()["output"]
    try:
        return step.set_params(output="packed").transform(F)
    finally:
        step.set_params(output=out)


def _c_head(m, F):
    """The C steps after the features on F: (codes of the step after the features, predictions,
    scores)."""
    outs = [F]
    for k in range(1, m.n_steps):
        outs.append(m.step(k, outs[-1]))
    pred, scores = outs[-1]
    return (outs[1] if m.n_steps > 2 else None), pred, scores


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
    rows, sizes, disagreements = [], [], []
    F_te = None
    F_c = {}  # the C features of the test trials, per dtype (FilterBankRiemann is shared)
    n_te = int(te.sum())
    for index, fam, pipe, head in fitted_pipelines(X[tr], y[tr], families):
        if F_te is None:
            F_te = pipe.steps[0][1].transform(X[te])
        s_py = head.decision_function(F_te)
        p_py = np.searchsorted(pipe.classes_, head.predict(F_te))
        k = _codes_step(pipe)
        hamming = hasattr(pipe.steps[-1][1], "binary_weights_") or hasattr(pipe.steps[-1][1], "prototypes_")
        expensive = any(type(st).__name__ in EXPENSIVE for _, st in pipe.steps)
        n_chk = min(CHECK_TRIALS, n_te) if expensive else n_te
        for dtype in dtypes:
            name = f"s{subject}_f{index}_{dtype}"
            to_c(pipe, workdir, name, dtype=dtype)
            m = CModel(workdir, name)
            dt = np.float32 if dtype == "float32" else np.float64
            t0 = time.perf_counter()
            p_c = m.predict(X[te])  # end to end, trial -> class, every test trial
            seconds = (time.perf_counter() - t0) / n_te
            if dtype not in F_c:
                F_c[dtype] = m.step(0, X[te])
            Fc = F_c[dtype]
            # the C steps after the features, on eegbin's features and on the C features
            codes_cp, pred_cp, s_cp = _c_head(m, F_te[:n_chk].astype(dt))
            codes_cc, pred_cc, s_cc = _c_head(m, Fc[:n_chk])
            assert (pred_cc == p_c[:n_chk]).all()  # predict = the steps chained
            if n_chk == n_te:
                s_c = s_cc
            else:  # the rest through eegbin on the C features: equal to the C steps (checked)
                if hamming:
                    np.testing.assert_array_equal(s_cc, head.decision_function(Fc[:n_chk]).astype(np.float32))
                s_c = head.decision_function(Fc).astype(np.float32)
            dev = _rel(Fc, F_te)
            row = dict(subject=subject, family=fam, dtype=dtype, trials=n_te,
                       equal=int((p_c == p_py).sum()),
                       accuracy_py=float((pipe.classes_[p_py] == y[te]).mean()),
                       score_dev=float(_rel(s_c, s_py).max()),
                       feat_dev_median=float(np.median(dev)), feat_dev_p99=float(np.percentile(dev, 99)),
                       feat_dev_max=float(dev.max()), ms_per_trial=1000 * seconds, checked_trials=n_chk,
                       codes_identical="", bits_differing="", trials_with_flips="", distance_dev_bits="")
            if hamming:
                # the binary part alone, on eegbin's features: codes and Hamming scores exact
                bad = int((s_cp != s_py[:n_chk].astype(np.float32)).sum())
                if k is not None:
                    ref = _python_codes(pipe, k, F_te)
                    bad += int(_bits(np.bitwise_xor(codes_cp, ref[:n_chk])).sum())
                    codes_e2e = _python_codes(pipe, k, Fc) if n_chk < n_te else codes_cc
                    if n_chk < n_te:
                        np.testing.assert_array_equal(codes_cc, codes_e2e[:n_chk])
                    flips = _bits(np.bitwise_xor(codes_e2e, ref))
                    row.update(bits_differing=int(flips.sum()), trials_with_flips=int((flips > 0).sum()))
                # scores 1 - 2 d_h / n: the Hamming distances differ by |delta s| n / 2 bits
                last = pipe.steps[-1][1]
                n_bits = int(getattr(last, "n_bits_", getattr(last, "n_components", 0)))
                row.update(codes_identical=bad,
                           distance_dev_bits=int(np.rint(np.abs(s_c - s_py).max() * n_bits / 2)))
            rows.append(row)
            for i in np.flatnonzero(p_c != p_py):
                top = np.sort(s_py[i])[::-1]
                if hamming:  # in bits: Hamming distances d = (1 - s) n / 2
                    margin = f"{int(np.rint((top[0] - top[1]) * n_bits / 2))} bit(s)"
                    code_bits = int(flips[i]) if k is not None else ""
                else:
                    margin = f"{(top[0] - top[1]) / np.abs(s_py[i]).max():.1e} (relative)"
                    code_bits = ""
                disagreements.append(dict(subject=subject, family=fam, dtype=dtype, trial=int(i),
                                          python=str(pipe.classes_[p_py[i]]), c=str(pipe.classes_[p_c[i]]),
                                          margin=margin, code_bits=code_bits))
            if subject == min(SUBJECTS):
                size = m.size()
                fp = footprint(pipe, float_bits=32 if dtype == "float32" else 64)
                sizes.append(dict(family=fam, dtype=dtype, footprint_bytes=fp.n_bytes,
                                  weights=size["weights"], text=size["text"], rodata=size["rodata"],
                                  data=size["data"], bss=size["bss"], work=size["header_work"]))
            print(f"subject {subject} {fam:38s} {dtype}: {row['equal']}/{row['trials']} equal, "
                  f"score dev {row['score_dev']:.1e} ({row['distance_dev_bits']} bits), features "
                  f"{row['feat_dev_median']:.1e} / {row['feat_dev_max']:.1e}, binary part on eegbin's "
                  f"features: {row['codes_identical']} differences in {n_chk} trials, code bits differing "
                  f"end to end {row['bits_differing']}, {row['ms_per_trial']:.0f} ms/trial", flush=True)
    return rows, sizes, disagreements


def write_tables(rows, sizes, disagreements):
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
        sub = df[(df["family"] == r["family"]) & (df["dtype"] == r["dtype"])]
        hamming = not (sub.codes_identical == "").all()
        if not hamming:
            dev, codes, flips = f"{r.score_dev:.1e}", "(float head)", "(float head)"
        else:
            dev = f"distances: max {int(sub.distance_dev_bits.astype(int).max())} bit(s)"
            n_diff = int(sub.codes_identical.astype(int).sum())
            n_chk = int(sub.checked_trials.sum())
            codes = (f"bit-identical ({n_chk} trials)" if n_diff == 0
                     else f"{n_diff} differences ({n_chk} trials)")
            if (sub.bits_differing == "").all():
                flips = "(inside the classifier)"
            else:
                flips = (f"{int(sub.bits_differing.astype(int).sum())} bits in "
                         f"{int(sub.trials_with_flips.astype(int).sum())} trials")
        if sz is not None and (r["family"], r["dtype"]) in sz.index:
            s = sz.loc[(r["family"], r["dtype"])]
            weights = f"{int(s.weights):,} / {s.footprint_bytes:,.0f}"
            obj = f"{int(s.text):,} / {int(s.rodata):,} / {int(s.bss):,}"
        else:
            weights = obj = "-"
        cells = [r["family"], r["dtype"], str(r.subjects), f"{int(r.equal)} / {int(r.trials)}",
                 dev, f"{r.feat_med:.1e} / {r.feat_p99:.1e} / {r.feat_max:.1e}",
                 codes, flips, weights, obj]
        lines.append("   * - " + "\n     - ".join(cells))
    lines.append("")
    if disagreements:
        dis = pd.DataFrame(disagreements)
        dis.to_csv(OUT / "disagreements.csv", index=False)
        lines += ["Trials where C and Python disagree:", "", ".. list-table::", "   :header-rows: 1", ""]
        lines.append("   * - " + "\n     - ".join(
            ["subject", "family", "test trial", "Python / C class", "Python margin", "code bits differing"]))
        for _, d in dis.iterrows():
            lines.append("   * - " + "\n     - ".join(
                [str(d.subject), d.family, str(d.trial), f"{d.python} / {d.c}", d.margin, str(d.code_bits)]))
    else:
        lines.append("No trial where C and Python disagree.")
    (OUT / "agreement.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


SUBJECTS = list(range(1, 10))
CHECK_TRIALS = 24


def _earlier(args):
    """Rows of the saved tables that this run does not redo."""
    import pandas as pd

    def load(name, redo):
        path = OUT / name
        if not path.exists():
            return []
        df = pd.read_csv(path, keep_default_na=False)
        return [r for r in df.to_dict("records") if not redo(r)]

    again = set(args.dtype)
    return (load("agreement.csv", lambda r: r["dtype"] in again and r["subject"] in args.subjects),
            load("sizes.csv", lambda r: r["dtype"] in again),
            load("disagreements.csv", lambda r: r["dtype"] in again and r["subject"] in args.subjects))

# ---------------------------------------------------------------------------
# EEGNet (model family 2 of issue 20)
# ---------------------------------------------------------------------------

#: EEGNetClassifier options of each exported variant (Feng et al. one at a time, then together;
#: after channel selection the head is re-fitted, Feng's retraining)
EEGNET_VARIANTS = {
    "EEGNet float32": {},
    "EEGNet batch norms folded": dict(fold_batchnorm=True),
    "EEGNet 16 of 22 channels": dict(fold_batchnorm=True, n_selected_channels=16, refit_head=True),
    "EEGNet 8-bit / 16-bit": dict(fixed_point=True),
    "EEGNet PQ head": dict(fold_batchnorm=True, head="pq"),
    "EEGNet Feng: 16 ch., 8/16-bit, PQ, max": dict(n_selected_channels=16, refit_head=True,
                                                   fixed_point=True, head="pq", output="max"),
}
EEGNET_SFREQ = 64.0


def _train_eegnet(X, y, path):
    """A float EEGNet trained as train_quantized.py trains it, exported for eegbin.nn."""
    from eegbin.train import TorchEEGClassifier, export

    clf = TorchEEGClassifier("eegnet", model_params=dict(kernel_length=32, pool1=4, pool2=8),
                             max_epochs=40, batch_size=32, lr=3e-3, random_state=0).fit(X, y)
    return export(clf, path)[0]


def run_subject_eegnet(subject, dtypes, workdir, m4_trials=0):
    from eegbin import EEGNetClassifier
    from eegbin.nn import EEGNet
    from eegbin.quantize import pq_encode, pq_table_sums

    X, y, meta = load_motor_imagery("simulated", subjects=[subject], fmin=4.0, fmax=30.0,
                                    resample=EEGNET_SFREQ)
    X = X.astype(np.float32)
    tr = (meta.session == "0train").to_numpy()
    te = ~tr
    t0 = time.perf_counter()
    weights = _train_eegnet(X[tr], y[tr], Path(workdir) / f"eegnet_s{subject}.safetensors")
    print(f"subject {subject}: EEGNet trained in {time.perf_counter() - t0:.0f} s", flush=True)
    rows, sizes = [], []
    for index, (variant, options) in enumerate(EEGNET_VARIANTS.items()):
        fixed = options.get("fixed_point", False)
        for dtype in (["float32"] if fixed else dtypes):  # the fixed-point datapath has no float type
            clf = EEGNetClassifier(str(weights), n_chans=X.shape[1], n_times=X.shape[2],
                                   sfreq=EEGNET_SFREQ, pool1_kernel_size=4, pool2_kernel_size=8,
                                   dtype=dtype, **options).fit(X[tr], y[tr])
            name = f"s{subject}_e{index}_{dtype}"
            to_c(clf, workdir, name, dtype=dtype)
            m = CModel(workdir, name)
            t0 = time.perf_counter()
            p_c = m.predict(X[te])
            seconds = (time.perf_counter() - t0) / te.sum()
            p_py = np.searchsorted(clf.classes_, clf.predict(X[te]))
            F_py, s_py = clf.transform(X[te]), clf.decision_function(X[te])
            net64 = EEGNet.from_params(clf.net_.params, dtype="float64")
            s_64 = net64.forward(X[te])
            F_c = m.step(0, X[te])
            pred_steps, s_c = m.step(1, F_c)
            assert (pred_steps == p_c).all()
            dev = _rel(F_c, F_py)
            flips = np.flatnonzero(p_c != p_py)
            row = dict(subject=subject, family=variant, dtype=dtype, trials=int(te.sum()),
                       equal=int((p_c == p_py).sum()),
                       accuracy_py=float((clf.predict(X[te]) == y[te]).mean()),
                       score_dev=float(_rel(s_c, s_py).max()), score_dev_f64=float(_rel(s_c, s_64).max()),
                       feat_dev_median=float(np.median(dev)), feat_dev_max=float(dev.max()),
                       feature_codes_differing="", sums_differing="", leaves_differing="",
                       flip_margins=" ".join(f"{_margin(s_py[i]):.1e}" for i in flips),
                       ms_per_trial=1000 * seconds)
            if fixed:  # the int16 codes of the features: C and eegbin's simulation
                f = clf.net_.params.fixed_point.act_frac_bits["features"]
                row["feature_codes_differing"] = int((np.rint(np.ldexp(F_c.astype(np.float64), f))
                                                      != np.rint(np.ldexp(F_py, f))).sum())
            head = clf.net_.params.head
            if options.get("head") == "pq":
                F_ref = F_py.astype(np.float64)
                _, s_on_py = m.step(1, F_py.astype(np.float32))  # the C head on eegbin's features
                S = pq_table_sums(head, F_ref)
                mirror = np.float32(head.lut_scale) * S.astype(np.float32) + head.bias.astype(np.float32)
                row["sums_differing"] = int((s_on_py != mirror).any(axis=1).sum())
                row["leaves_differing"] = int((pq_encode(head, F_c.astype(np.float64))
                                               != pq_encode(head, F_ref)).sum())
            rows.append(row)
            if subject == min(SUBJECTS):
                size = m.size()
                fp = clf.footprint(32 if dtype == "float32" else 64)
                entry = dict(family=variant, dtype=dtype, footprint_bytes=fp.n_bytes, weights=size["weights"],
                             text=size["text"], rodata=size["rodata"], data=size["data"], bss=size["bss"],
                             work=size["header_work"], footprint_macs=fp.total_macs,
                             libm=_libm_calls(Path(workdir) / f"{name}.c"))
                if m4_trials and dtype == "float32":
                    m4 = CortexM4(workdir, name)
                    m4.build(opt="-Os")
                    pred_m4, instr = m4.run(X[te][:m4_trials], steps=True)
                    assert (pred_m4 == p_c[:m4_trials]).all()
                    sz = m4.size()
                    entry.update(m4_flash=sz["flash"], m4_ram=sz["ram"], m4_stack=sz["stack"],
                                 m4_instructions=int(np.median(instr)),
                                 m4_features=int(np.median(m4.step_instructions_[:, 0])),
                                 m4_head=int(np.median(m4.step_instructions_[:, 1])))
                sizes.append(entry)
            print(f"subject {subject} {variant:40s} {dtype}: {row['equal']}/{row['trials']} equal "
                  f"(acc. {row['accuracy_py']:.3f}), score dev {row['score_dev']:.1e} "
                  f"(f64 {row['score_dev_f64']:.1e}), features {row['feat_dev_median']:.1e} / "
                  f"{row['feat_dev_max']:.1e}, codes differing {row['feature_codes_differing']}, "
                  f"sums differing {row['sums_differing']}, leaves differing {row['leaves_differing']}, "
                  f"{row['ms_per_trial']:.1f} ms/trial", flush=True)
    return rows, sizes


def _margin(s):
    """Gap between the two largest scores, relative to the largest magnitude (ties: 0)."""
    top = np.sort(s)[::-1]
    return (top[0] - top[1]) / np.abs(s).max()


def _libm_calls(source):
    """The libm functions a generated source calls on the Cortex-M4F (undefined symbols of its
    object, libgcc's __aeabi helpers left out), or on the host without the cross compiler."""
    import shutil
    import subprocess

    from eegbin.export import find_c_compiler
    from eegbin.export.cortexm4 import CPU_FLAGS

    obj = source.with_suffix(".o")
    if shutil.which("arm-none-eabi-gcc"):
        cc, nm, flags = "arm-none-eabi-gcc", "arm-none-eabi-nm", [*CPU_FLAGS, "-Os"]
    else:
        cc, nm, flags = find_c_compiler(), "nm", ["-O2"]
    subprocess.run([cc, "-std=c99", "-ffp-contract=off", *flags, "-c", "-o", str(obj), str(source)],
                   check=True, capture_output=True)
    out = subprocess.run([nm, "-u", str(obj)], check=True, capture_output=True, text=True).stdout
    return " ".join(sorted(name for name in (line.split()[-1] for line in out.splitlines() if line.strip())
                           if not name.startswith("__")))


def write_tables_eegnet(rows, sizes):
    import pandas as pd

    OUT.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    df.to_csv(OUT / "agreement_eegnet.csv", index=False)
    pd.DataFrame(sizes).to_csv(OUT / "sizes_eegnet.csv", index=False)
    head = ["variant", "C arithmetic", "subjects", "predictions = Python", "accuracy (Python)",
            "max score deviation vs float32 / float64", "feature deviation (median / max)",
            "fixed-point feature codes differing", "PQ: trials whose table sums differ on eegbin's features",
            "PQ: tree leaves differing end to end"]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + "\n     - ".join(head)]
    def total(sub, col):
        vals = sub[col]
        return "-" if (vals == "").all() else str(int(vals.astype(int).sum()))

    for (fam, dtype), sub in df.groupby(["family", "dtype"], sort=False):
        cells = [fam, "fixed point" if "8/16" in fam or "8-bit" in fam else dtype, str(sub.subject.nunique()),
                 f"{int(sub.equal.sum())} / {int(sub.trials.sum())}", f"{sub.accuracy_py.mean():.3f}",
                 f"{sub.score_dev.max():.1e} / {sub.score_dev_f64.max():.1e}",
                 f"{sub.feat_dev_median.median():.1e} / {sub.feat_dev_max.max():.1e}",
                 total(sub, "feature_codes_differing"), total(sub, "sums_differing"),
                 total(sub, "leaves_differing")]
        lines.append("   * - " + "\n     - ".join(cells))
    (OUT / "agreement_eegnet.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if not sizes:
        return
    sz = pd.DataFrame(sizes)
    m4 = "m4_flash" in sz
    head = ["variant", "C arithmetic", "weights [B] / footprint() [B]", "text / rodata / bss [B]",
            "libm / libc calls"]
    if m4:
        head += ["Cortex-M4F flash / RAM [B]", "instructions per trial (features + head)", "footprint() MACs"]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * - " + "\n     - ".join(head)]
    for _, r in sz.iterrows():
        cells = [r.family, "fixed point" if "8/16" in r.family or "8-bit" in r.family else r["dtype"],
                 f"{int(r.weights):,} / {r.footprint_bytes:,.0f}",
                 f"{int(r.text):,} / {int(r.rodata):,} / {int(r.bss):,}",
                 r.libm or "-"]
        if m4:
            if pd.isna(r.get("m4_flash")):
                cells += ["-", "-", f"{int(r.footprint_macs):,}"]
            else:
                cells += [f"{int(r.m4_flash):,} / {int(r.m4_ram):,}",
                          f"{int(r.m4_instructions):,} ({int(r.m4_features):,} + {int(r.m4_head):,})",
                          f"{int(r.footprint_macs):,}"]
        lines.append("   * - " + "\n     - ".join(cells))
    (OUT / "sizes_eegnet.rst").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _merge(dirs, models):
    """Tables of --out from the csv files of runs on disjoint subject sets (e.g. run in parallel)."""
    import pandas as pd

    def rows(name, key, numeric=False):
        frames = [pd.read_csv(d / name, keep_default_na=numeric) for d in dirs
                  if (d / name).exists() and (d / name).stat().st_size > 1]  # a run writes no sizes for most subjects
        if not frames:
            return []
        df = pd.concat(frames, ignore_index=True)
        return df.drop_duplicates(subset=key, keep="first").to_dict("records")

    if "hersche" in models:
        agreement = sorted(rows("agreement.csv", ["subject", "family", "dtype"]), key=lambda r: r["subject"])
        done = {(r["subject"], r["dtype"]) for r in agreement}  # a file another run left has no say
        write_tables(agreement, rows("sizes.csv", ["family", "dtype"]),
                     [r for r in rows("disagreements.csv", ["subject", "family", "dtype", "trial"])
                      if (r["subject"], r["dtype"]) in done])
    if "eegnet" in models:
        agreement = sorted(rows("agreement_eegnet.csv", ["subject", "family", "dtype"]),
                           key=lambda r: r["subject"])
        write_tables_eegnet(agreement, rows("sizes_eegnet.csv", ["family", "dtype"], numeric=True))
    return 0


def main(argv=None):
    global SUBJECTS, CHECK_TRIALS, OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", nargs="+", type=int, default=SUBJECTS)
    parser.add_argument("--dtype", nargs="+", default=["float32"], choices=["float32", "float64"])
    parser.add_argument("--large", action="store_true", help="also d = 50 000 and 100 000")
    parser.add_argument("--check-trials", type=int, default=CHECK_TRIALS,
                        help="trials per subject on which the C steps of the projection families run "
                             "alone (seconds per trial on a PC); predict runs on every test trial")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows of earlier runs for other subjects/dtypes (e.g. float64 on a few "
                             "subjects next to float32 on all)")
    parser.add_argument("--models", nargs="+", default=["hersche", "eegnet"], choices=["hersche", "eegnet"])
    parser.add_argument("--m4", type=int, default=0, metavar="N",
                        help="EEGNet: also build for the Cortex-M4F and run N test trials under QEMU")
    parser.add_argument("--out", type=Path, default=OUT, help="directory of the tables (default: results/export)")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="DIR",
                        help="run nothing: write the tables of --out from the csv files of runs on other "
                             "subjects in these directories (the first one's sizes are kept)")
    args = parser.parse_args(argv)
    OUT = args.out
    if args.merge:
        return _merge(args.merge, args.models)
    SUBJECTS, CHECK_TRIALS = args.subjects, args.check_trials
    families = FAMILIES + (LARGE if args.large else [])
    rows, sizes, disagreements = ([], [], []) if not args.append else _earlier(args)
    e_rows, e_sizes = [], []
    t0 = time.time()
    if "eegnet" in args.models:
        import torch

        torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as work:
        for subject in args.subjects:
            if "hersche" in args.models:
                r, s, d = run_subject(subject, families, args.dtype, work)
                rows += r
                sizes += s
                disagreements += d
                write_tables(rows, sizes, disagreements)  # after every subject: a partial table survives an interrupt
            if "eegnet" in args.models:
                r, s = run_subject_eegnet(subject, args.dtype, work, args.m4)
                e_rows += r
                e_sizes += s
                write_tables_eegnet(e_rows, e_sizes)
    print(f"done in {(time.time() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())

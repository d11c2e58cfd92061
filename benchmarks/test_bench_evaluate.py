"""``eegbin evaluate`` (cross-session) against the way it ran at commit 9b2a48e, in one run.

The old path, kept here as the reference: per subject, each pipeline fitted once more on
the first session for its footprint, then MOABB's ``CrossSessionEvaluation`` (both
directions, every pipeline fitting its own ``FilterBankRiemann``; fitted transformers
cached by ``joblib.Memory`` across pipelines), subjects one after the other in this
process. The new path is :func:`eegbin.evaluation.run` with its defaults (one direction,
shared front ends fitted once, the first subject's models accounted, subjects in one
worker process per core).

Full size (``--benchmark-enable``): the default pipelines on 4 simulated subjects (two
rounds of two workers on a 2-core machine); the ratio goes to ``extra_info``. In the
normal test run: one subject and three pipelines, untimed. Both sizes check that the
accuracy on ``1test`` of every (subject, pipeline) and the footprints are the same.
"""

import copy
import os
import tempfile
import time
import warnings

import numpy as np

from benchmarks.conftest import record_ratio
from eegbin import footprint
from eegbin.datasets import get_dataset, make_paradigm
from eegbin.evaluation import get_pipeline, get_spec, list_pipelines, run


def old_style_evaluate(names, subjects, dataset="simulated"):
    """The cross-session evaluation of commit 9b2a48e: ``(scores, footprints)``."""
    import joblib
    from moabb.evaluations import CrossSessionEvaluation
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    ds = get_dataset(dataset)
    paradigm = make_paradigm(ds)
    frames, fps = [], {}
    for i, subject in enumerate(subjects):
        sub = copy.copy(ds)
        sub.subject_list = [subject]
        pipes = {n: get_pipeline(n, 250.0) for n in names}
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            memory = joblib.Memory(location=os.path.join(tmp, "transformers"), verbose=0)
            pipes = {n: clone(p).set_params(memory=memory) if isinstance(p, Pipeline) else p
                     for n, p in pipes.items()}
            if i == 0:
                X, y, meta = paradigm.get_data(sub, subjects=[subject])
                first = meta["session"].to_numpy() == sorted(meta["session"].unique())[0]
                for n, p in pipes.items():
                    fitted = clone(p).fit(X[first], y[first])
                    fps[n] = footprint(fitted, float_bits=get_spec(n).float_bits, name=n)
            ev = CrossSessionEvaluation(paradigm=paradigm, datasets=[sub], n_jobs=1, overwrite=True,
                                        hdf5_path=tmp, random_state=42, verbose="ERROR")
            frames.append(ev.process(pipes))
    import pandas as pd

    return pd.concat(frames, ignore_index=True), fps


def _sizes(full_size):
    if full_size:
        return list_pipelines(default_only=True), [1, 2, 3, 4]
    return ["CSP+LDA", "TS+LR", "Riemann+SVM-bin"], [1]


def test_bench_evaluate(benchmark, full_size):
    import moabb

    moabb.set_log_level("ERROR")
    names, subjects = _sizes(full_size)
    t0 = time.perf_counter()
    new = benchmark.pedantic(lambda: run(names, subjects=subjects), rounds=1, iterations=1)
    new_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    old_scores, old_fps = old_style_evaluate(names, subjects)
    old_s = time.perf_counter() - t0
    ratio = record_ratio(benchmark, "speedup_vs_9b2a48e", old_s, new_s)
    benchmark.extra_info.update(old_s=old_s, new_s=new_s, pipelines=names, subjects=subjects,
                                cpu_count=os.cpu_count())

    # the same models: equal numbers of correct 1test trials, equal footprints
    old_1test = old_scores[old_scores["session"] == "1test"].astype({"subject": int})
    old_1test = old_1test.set_index(["subject", "pipeline"])
    new_1test = new.scores.set_index(["subject", "pipeline"])
    assert sorted(old_1test.index) == sorted(new_1test.index)
    n_test = new_1test["samples_test"]
    correct_new = np.rint(new_1test["score"] * n_test).astype(int)
    correct_old = np.rint(old_1test.loc[new_1test.index, "score"] * n_test).astype(int)
    assert (correct_new == correct_old).all()
    assert {n: fp.kB for n, fp in new.footprints.items()} == {n: fp.kB for n, fp in old_fps.items()}
    assert new.footprints == old_fps
    if full_size:
        assert ratio > 1.5  # loose floor: catches a regression, not the goal (3x on 2 cores)

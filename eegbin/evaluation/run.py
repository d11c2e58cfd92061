"""The MOABB evaluation runner behind ``eegbin evaluate``: scores, footprints, table, plot."""

from __future__ import annotations

import copy
import functools
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..footprint import footprint
from ._dask import check_scheduler, map_tasks
from .pipelines import get_pipeline, get_spec, list_pipelines

__all__ = ["run", "EvaluationResult", "pareto_front", "EVALUATIONS"]

EVALUATIONS = ("cross-session", "within-session")


@dataclass
class EvaluationResult:
    """What :func:`run` returns.

    Attributes
    ----------
    scores : pandas.DataFrame
        MOABB's results, one row per (pipeline, subject, evaluated session):
        ``score``, ``time``, ``samples``, ``subject``, ``session``, ``pipeline``, ...
    footprints : dict of str to Footprint
        Footprint of each pipeline fitted once on the first subject's first session.
    summary : pandas.DataFrame
        One row per pipeline: per-subject accuracy columns (``S1``, ...), ``mean``,
        ``std`` (over subjects), ``memory_kB``, ``macs``, ``word_ops``.
    evaluation, dataset : str
    files : dict of str to Path
        Written files (``scores``, ``summary``, ``plot``) when ``out`` was given.
    """

    scores: pd.DataFrame
    footprints: dict
    summary: pd.DataFrame
    evaluation: str
    dataset: str
    files: dict = field(default_factory=dict)

    def table(self) -> str:
        """Plain-text table: per-subject accuracy (%), mean ± std, memory, operations."""
        s = self.summary
        subj_cols = [c for c in s.columns if c.startswith("S") and c[1:].isdigit()]
        name_w = max(len("pipeline"), *(len(n) for n in s.index))
        head = f"{'pipeline':<{name_w}}  " + "".join(f"{c:>6}" for c in subj_cols)
        head += f"  {'mean ± std':>13}  {'memory kB':>10}  {'MACs/inf.':>12}  {'word ops':>9}"
        lines = [head, "-" * len(head)]
        for name, row in s.iterrows():
            line = f"{name:<{name_w}}  " + "".join(f"{100 * row[c]:6.1f}" for c in subj_cols)
            line += f"  {100 * row['mean']:6.1f} ± {100 * row['std']:4.1f}"
            line += f"  {row['memory_kB']:10.2f}  {int(row['macs']):12,d}  {int(row['word_ops']):9,d}"
            lines.append(line)
        return "\n".join(lines)


def pareto_front(memory, accuracy):
    """Indices of Pareto-optimal points (no other point is smaller and more accurate).

    Parameters
    ----------
    memory, accuracy : array-like of shape (n,)

    Returns
    -------
    ndarray of int
        Indices sorted by increasing memory.

    Examples
    --------
    >>> from eegbin.evaluation import pareto_front
    >>> pareto_front([1.0, 2.0, 3.0, 0.5], [0.6, 0.5, 0.8, 0.4]).tolist()
    [3, 0, 2]
    """
    memory, accuracy = np.asarray(memory, float), np.asarray(accuracy, float)
    order = np.lexsort((-accuracy, memory))
    front, best = [], -np.inf
    for i in order:
        if accuracy[i] > best:
            front.append(int(i))
            best = accuracy[i]
    return np.array(front, dtype=int)


def _check_args(pipelines, evaluation, n_jobs, scheduler):
    if evaluation not in EVALUATIONS:
        raise ValueError(f"evaluation must be one of {', '.join(EVALUATIONS)}, got {evaluation!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    check_scheduler(scheduler)
    if pipelines is None:
        return list_pipelines(default_only=True)
    if isinstance(pipelines, str):
        pipelines = [pipelines]
    pipelines = list(pipelines)
    if not pipelines:
        raise ValueError("pipelines must name at least one registered pipeline")
    for name in pipelines:
        get_spec(name)  # ValueError naming the registered pipelines
    return pipelines


def _subject_dataset(ds, subject):
    sub = copy.copy(ds)
    sub.subject_list = [subject]
    return sub


def _fit_footprints(pipes, float_bits, ds, paradigm, subject):
    """Fit each pipeline once on the first session of ``subject`` and account it."""
    X, y, meta = paradigm.get_data(ds, subjects=[subject])
    first = meta["session"].to_numpy() == sorted(meta["session"].unique())[0]
    fps = {}
    for name, pipe in pipes.items():
        fitted = clone(pipe).fit(X[first], y[first])
        fps[name] = footprint(fitted, float_bits=float_bits[name], name=name)
    return fps


def _with_cache(pipes, location):
    """Clones of ``pipes`` whose Pipelines cache fitted transformers under ``location``.

    Pipelines that start with the same transformer (every Riemannian pipeline starts
    with ``FilterBankRiemann(sfreq)``) then compute it once per training fold instead
    of once per pipeline; transforms are deterministic, so scores do not change.
    """
    import joblib
    from sklearn.pipeline import Pipeline

    memory = joblib.Memory(location=location, verbose=0)
    cached = {}
    for name, pipe in pipes.items():
        if isinstance(pipe, Pipeline) and pipe.memory is None:
            pipe = clone(pipe).set_params(memory=memory)
        cached[name] = pipe
    return cached


def _evaluate_subject(task):
    """MOABB evaluation of one subject (and the footprints, for the first one).

    Runs where the subject's data are loaded and simulated: in this process, or
    on a Dask worker (one task per subject, see :mod:`eegbin.evaluation._dask`).
    Returns ``(MOABB results, footprints or None)``.
    """
    from ..datasets.loading import _offline_guard

    cls, paradigm, ds, subject, pipes, float_bits, n_jobs, random_state, with_footprints = task
    sub_ds = _subject_dataset(ds, subject)
    fps = None
    with _offline_guard(sub_ds, [subject]), tempfile.TemporaryDirectory() as tmp, \
            warnings.catch_warnings():
        # MOABB's result store and MNE emit deprecation chatter unrelated to the user's call
        for category in (RuntimeWarning, FutureWarning, DeprecationWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", message="Creating a dataset without passing data")
        pipes = _with_cache(pipes, os.path.join(tmp, "transformers"))
        if with_footprints:
            fps = _fit_footprints(pipes, float_bits, sub_ds, paradigm, subject)
        ev = cls(
            paradigm=paradigm,
            datasets=[sub_ds],
            n_jobs=n_jobs,
            overwrite=True,
            hdf5_path=tmp,
            random_state=random_state,
            verbose="ERROR",
        )
        return ev.process(pipes), fps


def _summarize(scores, fps, evaluation):
    df = scores.copy()
    if evaluation == "cross-session" and "1test" in set(df["session"]):
        # as the papers: trained on 0train, tested on 1test
        df = df[df["session"] == "1test"]
    per_subject = df.groupby(["pipeline", "subject"])["score"].mean().unstack("subject")
    per_subject.columns = [f"S{int(c)}" for c in per_subject.columns]
    summary = per_subject.copy()
    summary["mean"] = per_subject.mean(axis=1)
    summary["std"] = per_subject.std(axis=1, ddof=0)
    summary["memory_kB"] = [fps[n].kB for n in summary.index]
    summary["macs"] = [fps[n].total_macs for n in summary.index]
    summary["word_ops"] = [fps[n].word_ops for n in summary.index]
    order = [n for n in fps if n in summary.index]
    return summary.loc[order]


def _plot(summary, path, title):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    mem = np.maximum(summary["memory_kB"].to_numpy(), 1e-3)
    acc = 100 * summary["mean"].to_numpy()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.errorbar(mem, acc, yerr=100 * summary["std"].to_numpy(), fmt="o", color="tab:blue",
                ecolor="0.7", capsize=3, label="mean ± std over subjects")
    seen = {}
    for m, a, name in zip(mem, acc, summary.index):
        k = seen.setdefault(round(float(np.log10(m)), 1), [])  # stagger labels at equal memory
        ax.annotate(name, (m, a), textcoords="offset points", xytext=(6, 4 - 11 * len(k)), fontsize=8)
        k.append(name)
    front = pareto_front(mem, acc)
    ax.plot(mem[front], acc[front], "-s", color="tab:green", lw=2, ms=9, mfc="none", mew=2,
            label="Pareto front")
    ax.axhline(25.0, color="0.5", ls=":", lw=1, label="chance (4 classes)")
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(
        FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else "")
    )
    ax.set_xlabel("memory footprint [kB] (log scale)")
    ax.set_ylabel("accuracy [%]")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(
    pipelines=None,
    dataset="simulated",
    evaluation="cross-session",
    subjects=None,
    n_jobs=1,
    out=None,
    *,
    tmin=0.5,
    tmax=4.0,
    fmin=None,
    fmax=None,
    resample=None,
    random_state=42,
    progress=False,
    scheduler=None,
    dask_workers=None,
):
    """Evaluate registered pipelines with MOABB and account their footprint.

    Parameters
    ----------
    pipelines : list of str, optional
        Registered pipeline names (:func:`~eegbin.evaluation.pipelines.list_pipelines`);
        default: all registered with ``default=True``.
    dataset : {"simulated", "BNCI2014_001"} or moabb BaseDataset, default="simulated"
    evaluation : {"cross-session", "within-session"}, default="cross-session"
        MOABB ``CrossSessionEvaluation`` (the summary reports the models trained
        on ``0train`` and tested on ``1test``, as the papers) or
        ``WithinSessionEvaluation`` (5-fold CV in each session, averaged).
    subjects : list of int, optional
        Default: all subjects of the dataset.
    n_jobs : int, default=1
        Parallel folds inside MOABB (joblib), in the serial run.
    out : str or Path, optional
        Directory for ``scores.csv`` (MOABB's results), ``summary.csv`` and
        ``accuracy_vs_memory.png``; nothing is written when ``None``.
    tmin, tmax, fmin, fmax, resample
        Epoching, see :func:`eegbin.datasets.load_motor_imagery`.
    random_state : int, default=42
        Seed of MOABB's cross-validation splits.
    progress : bool, default=False
        Show a tqdm progress bar over subjects.
    scheduler : None, "local" or str, default=None
        ``None``: evaluate the subjects one after the other in this process.
        ``"local"`` (a :class:`distributed.LocalCluster` of processes started for
        the run) or the address of a running Dask scheduler
        (``"tcp://HOST:PORT"``): one task per subject through joblib's Dask
        backend, so each subject's data are loaded (simulated) on the worker
        that evaluates it; results equal the serial run's (but ``time``).
    dask_workers : int, optional
        Worker processes of ``scheduler="local"`` (default: one per core).

    Returns
    -------
    EvaluationResult

    Examples
    --------
    >>> from eegbin.evaluation import run
    >>> res = run(["CSP+LDA"], subjects=[1], evaluation="within-session")  # doctest: +SKIP
    >>> print(res.table())  # doctest: +SKIP

    References
    ----------
    Hersche et al. 2020, Table I (accuracy per subject) and Fig. 7 (accuracy vs
    memory, Pareto front).
    """
    from moabb.evaluations import CrossSessionEvaluation, WithinSessionEvaluation
    from tqdm.auto import tqdm

    from ..datasets.loading import _offline_guard, get_dataset, make_paradigm

    names = _check_args(pipelines, evaluation, n_jobs, scheduler)
    specs = {n: get_spec(n) for n in names}
    ds = get_dataset(dataset, subjects)
    subjects = list(ds.subject_list) if subjects is None else [int(s) for s in subjects]
    paradigm = make_paradigm(ds, tmin, tmax, fmin, fmax, resample)
    sfreq = float(resample or getattr(ds, "sfreq", 250.0))
    cls = CrossSessionEvaluation if evaluation == "cross-session" else WithinSessionEvaluation

    if scheduler is None:  # fail fast on missing BNCI files (workers check their own)
        with _offline_guard(ds, subjects):
            pass
    float_bits = {n: specs[n].float_bits for n in names}
    tasks = [
        (cls, paradigm, ds, subject, {n: get_pipeline(n, sfreq) for n in names}, float_bits,
         n_jobs, random_state, i == 0)
        for i, subject in enumerate(subjects)
    ]
    bar = functools.partial(
        tqdm, total=len(tasks), desc=f"{evaluation} on {ds.code}", unit="subject", disable=not progress
    )
    outs = map_tasks(_evaluate_subject, tasks, scheduler=scheduler, n_workers=dask_workers, progress=bar)
    frames, fps = [frame for frame, _ in outs], outs[0][1]
    scores = pd.concat(frames, ignore_index=True)
    scores["dataset"] = [getattr(d, "code", str(d)) for d in scores["dataset"]]
    summary = _summarize(scores, fps, evaluation)
    result = EvaluationResult(scores, fps, summary, evaluation, ds.code)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        result.files["scores"] = out / "scores.csv"
        result.files["summary"] = out / "summary.csv"
        result.files["plot"] = out / "accuracy_vs_memory.png"
        scores.to_csv(result.files["scores"], index=False)
        summary.to_csv(result.files["summary"], index_label="pipeline")
        _plot(summary, result.files["plot"], f"{ds.code}, {evaluation}")
    return result

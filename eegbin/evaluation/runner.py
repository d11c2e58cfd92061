"""The evaluation runner behind ``eegbin evaluate``: MOABB-shaped scores, footprints, summary, plot.

One task per subject (:class:`_SubjectTask`) loads the subject's epochs through MOABB and
evaluates every pipeline on them:

- ``cross-session``: each pipeline is trained on the subject's first session
  (``0train``) and tested on each later one (``1test``), as the papers report; the
  pipelines' shared leading steps (the 43-band ``FilterBankRiemann`` of six default
  pipelines) are fitted once (:mod:`eegbin.evaluation._shared_steps`). The models of
  the first subject are also the ones whose footprint is reported.
- ``within-session``: MOABB's ``WithinSessionEvaluation`` (5-fold cross-validation in
  each session); the footprint comes from a fit on the first subject's first session.

The tasks run in this process, in worker processes (``n_jobs``; one numba/BLAS thread
each, so the cores are not oversubscribed) or on a Dask cluster (``scheduler``).
"""

from __future__ import annotations

import copy
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..footprint import footprint
from ..kernels.checks import check_int
from ._dask import check_scheduler, map_tasks
from ._logging import quiet
from ._shared_steps import fit_and_score
from .pipelines import get_pipeline, get_spec, list_pipelines
from .plotting import plot_accuracy_vs_memory
from .summary import describe_protocol, format_table, summarize_results

__all__ = ["run", "EvaluationResult", "EVALUATIONS", "check_output_directory"]

EVALUATIONS = ("cross-session", "within-session")
#: MOABB's result columns, in the order of its ``Results.to_dataframe``, then eegbin's two
RESULT_COLUMNS = ("score", "time", "samples", "samples_test", "n_classes", "subject", "session",
                  "channels", "n_sessions", "dataset", "pipeline", "evaluation", "train_session")
SCORES_FILE, SUMMARY_FILE, PLOT_FILE = "scores.csv", "summary.csv", "accuracy_vs_memory.png"


@dataclass
class EvaluationResult:
    """What :func:`run` returns.

    Attributes
    ----------
    scores : pandas.DataFrame
        MOABB-shaped results, one row per (pipeline, subject, tested session):
        MOABB's columns ``score``, ``time`` (fit seconds), ``samples``,
        ``samples_test``, ``n_classes``, ``subject``, ``session`` (the tested
        session), ``channels``, ``n_sessions``, ``dataset``, ``pipeline``, and
        ``evaluation`` and ``train_session`` (the session the model was trained on;
        for within-session, the same session).
    footprints : dict of str to Footprint
        Footprint of each pipeline as fitted on the first subject's first session.
    summary : pandas.DataFrame
        :func:`~eegbin.evaluation.summarize_results` of ``scores`` with the
        footprints: per-subject accuracy columns (``S1``, ...), ``mean`` and
        ``std`` over subjects, ``memory_kB``, ``float_bits``, ``macs``, ``word_ops``.
    evaluation, dataset : str
    files : dict of str to Path
        Written files (``scores``, ``summary``, ``plot``) when ``out`` was given.
    write_error : str
        Empty, or why ``out`` could not be written (the files then went to a new
        temporary directory, named in ``files``).
    """

    scores: pd.DataFrame
    footprints: dict
    summary: pd.DataFrame
    evaluation: str
    dataset: str
    files: dict = field(default_factory=dict)
    write_error: str = ""

    @property
    def protocol(self) -> str:
        """Which sessions trained and tested the models, in words (see :func:`describe_protocol`)."""
        return describe_protocol(self.scores)

    def table(self) -> str:
        """Plain-text table: per-subject accuracy and mean ± std in %, memory, operations."""
        return format_table(self.summary)


@dataclass(frozen=True)
class _SubjectTask:
    """Everything one subject's evaluation needs; small, so it can travel to a Dask worker."""

    subject: int
    dataset: object
    epochs: dict
    pipelines: dict
    evaluation: str
    random_state: object
    float_bits: dict = None  # footprints of the fitted pipelines at these widths, or None
    verbose: bool = False


def _check_args(pipelines, evaluation, n_jobs, scheduler):
    if evaluation not in EVALUATIONS:
        raise ValueError(f"evaluation must be one of {', '.join(EVALUATIONS)}, got {evaluation!r}")
    if check_int(n_jobs, "n_jobs") == 0 or n_jobs < -1:  # worker processes, or -1: all cores
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


def check_output_directory(out):
    """Create ``out`` if needed and check that files can be written there, before any work.

    Parameters
    ----------
    out : str or os.PathLike

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        Naming the path and why it cannot hold the results.
    """
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a directory path, got {type(out).__name__} {out!r}")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"out: {str(path)!r} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ValueError(f"out: cannot write results to {str(path)!r} ({exc.strerror or exc})") from None
    return path


# -- one subject --------------------------------------------------------------------


def _evaluate_subject(task, progress=None):
    """Evaluate ``task``'s pipelines on its subject (here, in a worker process or on Dask).

    Returns ``(rows, footprints)``: the subject's result rows (a DataFrame with
    :data:`RESULT_COLUMNS`) and, when ``task.float_bits`` is given, the footprint of
    each pipeline fitted on the first session.
    """
    progress = progress or (lambda subject, what: None)
    with warnings.catch_warnings(), quiet("moabb", "mne", verbose=task.verbose):
        # MOABB's result store and MNE emit deprecation chatter unrelated to the user's call
        for category in (RuntimeWarning, FutureWarning, DeprecationWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", message="Creating a dataset without passing data")
        if task.evaluation == "cross-session":
            return _cross_session(task, progress)
        return _within_session(task, progress)


def _load(task):
    from ..datasets import load_motor_imagery

    return load_motor_imagery(task.dataset, [task.subject], **task.epochs)


def _scoring(task):
    from ..datasets import make_paradigm

    return make_paradigm(task.dataset, **task.epochs).scoring


def _rows(task, evaluation, records, n_channels):
    rows = pd.DataFrame.from_records(records)
    rows["subject"] = task.subject
    rows["channels"] = n_channels
    rows["n_sessions"] = task.dataset.n_sessions
    rows["dataset"] = task.dataset.code
    rows["evaluation"] = evaluation
    return rows[list(RESULT_COLUMNS)]


def _footprints(task, fitted):
    return {name: footprint(fitted[name], float_bits=task.float_bits[name], name=name) for name in fitted}


def _cross_session(task, progress):
    """Train on the first session, test on each later one; shared leading steps fitted once."""
    from sklearn.preprocessing import LabelEncoder

    X, y, meta = _load(task)
    sessions = sorted(meta["session"].unique())
    if len(sessions) < 2:
        raise ValueError(
            f"cross-session evaluation needs at least 2 sessions; subject {task.subject} of "
            f"{task.dataset.code} has {sessions}"
        )
    progress(task.subject, "data loaded")
    train = (meta["session"] == sessions[0]).to_numpy()
    encoder = LabelEncoder().fit(y[train])  # as MOABB: labels encoded on the training data
    tests = {}
    for session in sessions[1:]:
        mask = (meta["session"] == session).to_numpy()
        tests[session] = (X[mask], encoder.transform(y[mask]))
    fitted = fit_and_score(
        task.pipelines, X[train], encoder.transform(y[train]), tests, scoring=_scoring(task),
        on_done=lambda name: progress(task.subject, name),
    )
    records = [
        {"score": result.scores[session], "time": result.fit_time, "samples": int(train.sum()),
         "samples_test": len(y_test), "n_classes": len(np.unique(y_test)), "session": session,
         "pipeline": name, "train_session": sessions[0]}
        for name, result in fitted.items()
        for session, (_, y_test) in tests.items()
    ]
    fps = _footprints(task, {n: r.estimator for n, r in fitted.items()}) if task.float_bits else None
    return _rows(task, "cross-session", records, X.shape[1]), fps


def _within_session(task, progress):
    """MOABB's WithinSessionEvaluation of the subject, pipeline by pipeline (for progress)."""
    from moabb.evaluations import WithinSessionEvaluation

    from ..datasets import make_paradigm, no_download

    fps = None
    if task.float_bits:
        X, y, meta = _load(task)
        first = (meta["session"] == sorted(meta["session"].unique())[0]).to_numpy()
        fitted = fit_and_score(task.pipelines, X[first], y[first])
        fps = _footprints(task, {n: r.estimator for n, r in fitted.items()})
    progress(task.subject, "data loaded")
    dataset = copy.copy(task.dataset)
    dataset.subject_list = [task.subject]
    paradigm = make_paradigm(dataset, **task.epochs)
    frames = []
    with no_download(dataset, [task.subject]), tempfile.TemporaryDirectory() as tmp:
        evaluation = WithinSessionEvaluation(
            paradigm=paradigm, datasets=[dataset], n_jobs=1, overwrite=True, hdf5_path=tmp,
            random_state=task.random_state, verbose="ERROR",
        )
        for name, pipe in task.pipelines.items():
            frames.append(evaluation.process({name: pipe}))
            progress(task.subject, name)
    rows = pd.concat(frames, ignore_index=True)
    rows["dataset"] = [getattr(d, "code", str(d)) for d in rows["dataset"]]
    rows["evaluation"] = "within-session"
    rows["train_session"] = rows["session"]
    for column in RESULT_COLUMNS:
        if column not in rows:
            rows[column] = np.nan
    return rows[list(RESULT_COLUMNS)], fps


# -- all subjects -------------------------------------------------------------------


class _QueueProgress:
    """``progress(subject, what)`` for worker processes: forwards to a Manager queue."""

    def __init__(self, queue):
        self.queue = queue

    def __call__(self, subject, what):
        self.queue.put((subject, what))


def _forward(queue, on_event):
    for event in iter(queue.get, None):
        on_event(*event)


def _map_subjects(tasks, n_jobs, on_event):
    """``[_evaluate_subject(t) for t in tasks]`` in ``n_jobs`` worker processes, with progress."""
    import multiprocessing

    from joblib import Parallel, delayed, effective_n_jobs

    n_workers = min(effective_n_jobs(n_jobs), len(tasks))
    if n_workers <= 1:
        return [_evaluate_subject(task, on_event) for task in tasks]
    # loky starts the workers with one numba/BLAS thread each (cores // workers)
    with multiprocessing.Manager() as manager:
        queue = manager.Queue()
        listener = threading.Thread(target=_forward, args=(queue, on_event), daemon=True)
        listener.start()
        try:
            return Parallel(n_jobs=n_workers)(
                delayed(_evaluate_subject)(task, _QueueProgress(queue)) for task in tasks
            )
        finally:
            queue.put(None)
            listener.join()


def _footprint_frame(footprints, float_bits):
    return pd.DataFrame(
        {
            "memory_kB": [fp.kB for fp in footprints.values()],
            "float_bits": [float_bits[name] for name in footprints],
            "macs": [fp.total_macs for fp in footprints.values()],
            "word_ops": [fp.word_ops for fp in footprints.values()],
        },
        index=pd.Index(list(footprints), name="pipeline"),
    )


def _write(result, out, title, chance):
    """Write scores, summary and plot into ``out``; on failure into a new temporary directory."""
    def write(folder):
        files = {"scores": folder / SCORES_FILE, "summary": folder / SUMMARY_FILE, "plot": folder / PLOT_FILE}
        result.scores.to_csv(files["scores"], index=False)
        result.summary.to_csv(files["summary"], index_label="pipeline")
        plot_accuracy_vs_memory(result.summary, title=title, chance=chance).savefig(files["plot"], dpi=120)
        return files

    try:
        result.files = write(out)
    except OSError as exc:
        fallback = Path(tempfile.mkdtemp(prefix="eegbin-results-"))
        result.files = write(fallback)
        result.write_error = f"could not write to {str(out)!r} ({exc.strerror or exc}); results saved in {fallback}"
        warnings.warn(result.write_error, RuntimeWarning, stacklevel=3)


def run(
    pipelines=None,
    dataset="simulated",
    evaluation="cross-session",
    subjects=None,
    n_jobs=-1,
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
    verbose=False,
):
    """Evaluate registered pipelines on MOABB data and account their footprint.

    Parameters
    ----------
    pipelines : list of str, optional
        Registered pipeline names (:func:`~eegbin.evaluation.pipelines.list_pipelines`);
        default: all registered with ``default=True``.
    dataset : {"simulated", "BNCI2014_001"} or moabb BaseDataset, default="simulated"
    evaluation : {"cross-session", "within-session"}, default="cross-session"
        ``"cross-session"``: per subject, every pipeline is trained on the first
        session (``0train``) and tested on each later session (``1test``), as the
        papers report; only that direction is computed. ``"within-session"``:
        MOABB's ``WithinSessionEvaluation`` (5-fold cross-validation in each
        session).
    subjects : list of int, optional
        Default: all subjects of the dataset.
    n_jobs : int, default=-1
        Worker processes over subjects (-1: one per core, at most one per subject),
        each with one numba/BLAS thread. 1 evaluates in this process, whose numba
        kernels then use every core. Ignored with ``scheduler``.
    out : str or Path, optional
        Directory for ``scores.csv`` (the results), ``summary.csv`` and
        ``accuracy_vs_memory.png``; nothing is written when ``None``. It is created
        and checked before any work; if writing still fails at the end, the files go
        to a new temporary directory (``EvaluationResult.write_error`` says where).
    tmin, tmax, fmin, fmax, resample
        Epoching, see :func:`eegbin.datasets.load_motor_imagery`.
    random_state : int, default=42
        Seed of MOABB's cross-validation splits (within-session).
    progress : bool, default=False
        Show a progress bar: one step per subject's data and per fitted pipeline,
        with the time left.
    scheduler : None, "local" or str, default=None
        ``None``: evaluate here (see ``n_jobs``). ``"local"`` (a
        :class:`distributed.LocalCluster` started for the run) or the address of a
        running Dask scheduler (``"tcp://HOST:PORT"``, ``"HOST:PORT"``, any form
        :class:`distributed.Client` accepts): one task per subject, so each
        subject's data are loaded (simulated) on the worker that evaluates it;
        results equal the run without Dask (but ``time``).
    dask_workers : int, optional
        Worker processes of ``scheduler="local"`` (default: one per core).
    verbose : bool, default=False
        Let MOABB, MNE and Dask log (by default they are quiet).

    Returns
    -------
    EvaluationResult
        The per-subject scores, their summary, the footprints and the protocol.

    Examples
    --------
    >>> from eegbin.evaluation import run
    >>> res = run(["CSP+LDA"], subjects=[1])  # doctest: +SKIP
    >>> print(res.protocol)  # doctest: +SKIP
    cross-session: trained on 0train, tested on 1test
    >>> print(res.table())  # doctest: +SKIP

    References
    ----------
    Hersche et al. 2020, Table I (accuracy per subject) and Fig. 7 (accuracy vs
    memory, Pareto front).
    """
    from tqdm.auto import tqdm

    from ..datasets import get_dataset, make_paradigm, no_download

    names = _check_args(pipelines, evaluation, n_jobs, scheduler)
    specs = {n: get_spec(n) for n in names}
    ds = get_dataset(dataset, subjects)
    subjects = list(ds.subject_list) if subjects is None else [int(s) for s in subjects]
    epochs = dict(tmin=tmin, tmax=tmax, fmin=fmin, fmax=fmax, resample=resample)
    paradigm = make_paradigm(ds, **epochs)  # checks the epoching before any work
    out = None if out is None else check_output_directory(out)
    if scheduler is None:  # fail fast on missing BNCI files (workers check their own)
        with no_download(ds, subjects):
            pass
    sfreq = float(resample or getattr(ds, "sfreq", 250.0))
    float_bits = {n: specs[n].float_bits for n in names}
    tasks = [
        _SubjectTask(subject, ds, epochs, {n: get_pipeline(n, sfreq) for n in names}, evaluation,
                     random_state, float_bits if i == 0 else None, verbose)
        for i, subject in enumerate(subjects)
    ]
    desc = f"{evaluation} on {ds.code}"
    if scheduler is None:
        bar = tqdm(total=len(tasks) * (len(names) + 1), desc=desc, unit="step", disable=not progress)
        lock = threading.Lock()

        def on_event(subject, what):
            with lock:
                bar.set_postfix_str(f"S{subject}: {what}", refresh=False)
                bar.update(1)

        try:
            outs = _map_subjects(tasks, n_jobs, on_event)
        finally:
            bar.close()
    else:  # the bar appears once the scheduler answers
        bars = []
        try:
            outs = map_tasks(
                _evaluate_subject, tasks, scheduler=scheduler, n_workers=dask_workers, verbose=verbose,
                on_connected=lambda: bars.append(
                    tqdm(total=len(tasks), desc=desc, unit="subject", disable=not progress)),
                on_result=lambda _: bars[0].update(1),
            )
        finally:
            for bar in bars:
                bar.close()
    scores = pd.concat([rows for rows, _ in outs], ignore_index=True)
    fps = outs[0][1]
    summary = summarize_results(scores, _footprint_frame(fps, float_bits))
    result = EvaluationResult(scores, fps, summary, evaluation, ds.code)
    if out is not None:
        n_classes = len(paradigm.events) if getattr(paradigm, "events", None) else None
        _write(result, out, f"{ds.code}, {result.protocol}", 1 / n_classes if n_classes else None)
    return result

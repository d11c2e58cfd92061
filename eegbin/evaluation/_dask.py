"""Run MOABB evaluations on a Dask cluster through joblib's Dask backend.

Two pieces, used by :func:`eegbin.evaluation.run`:

- :func:`dask_backend` is a context manager that connects a
  :class:`distributed.Client` (to ``tcp://HOST:PORT``, or to a
  :class:`distributed.LocalCluster` it starts for ``"local"``) and makes
  ``joblib.parallel_config(backend="dask")`` the active joblib backend, so every
  ``n_jobs`` of MOABB and scikit-learn inside the block fans out over the workers.
- :func:`process_per_subject` runs one MOABB evaluation per (dataset, subject) as
  one joblib task. MOABB's own ``process`` loads the data of *all* subjects on the
  calling process before fanning folds out; dispatching whole per-subject
  evaluations instead means ``paradigm.get_data`` (so the simulated dataset's
  generation, or a download) runs on the worker that evaluates the subject, and
  only a small results table travels back to the client.

A worker that dies while it runs a task is replaced by its nanny and the task is
re-run by the Dask scheduler (``distributed.scheduler.allowed-failures``, 3 by
default); the subject's evaluation is recomputed from scratch, so the results are
the same as the serial run's.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import tempfile

import pandas as pd
from joblib import Parallel, delayed, parallel_config

__all__ = ["dask_backend", "process_per_subject", "check_scheduler"]

_LOCAL = "local"


def check_scheduler(scheduler):
    """Validate ``scheduler``: ``None``, ``"local"`` or a ``"tcp://HOST:PORT"``-like address.

    Returns the scheduler unchanged; raises :class:`TypeError`/:class:`ValueError`.
    """
    if scheduler is None:
        return None
    if not isinstance(scheduler, str):
        raise TypeError(
            "scheduler must be None, 'local' or a scheduler address like "
            f"'tcp://HOST:PORT'; got {type(scheduler).__name__} {scheduler!r}"
        )
    if scheduler == _LOCAL or "://" in scheduler:
        return scheduler
    raise ValueError(
        "scheduler must be None, 'local' or a scheduler address like "
        f"'tcp://HOST:PORT'; got {scheduler!r}"
    )


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - dask is a test/extra dependency
        raise ImportError(
            "running an evaluation on Dask needs dask.distributed: "
            "pip install 'dask[distributed]'"
        ) from exc
    return distributed


@contextlib.contextmanager
def dask_backend(scheduler, n_workers=None, threads_per_worker=1):
    """Connect to a Dask scheduler and make it joblib's backend inside the block.

    Parameters
    ----------
    scheduler : None, "local" or str
        ``None``: do nothing (serial run, joblib's default backend).
        ``"local"``: start a :class:`distributed.LocalCluster` of worker processes
        on this machine for the duration of the block.
        ``"tcp://HOST:PORT"`` (or any address :class:`distributed.Client`
        accepts): connect to a running scheduler.
    n_workers : int or None, default=None
        Number of worker processes for ``"local"`` (Dask's default: one per core).
    threads_per_worker : int, default=1
        Threads per worker for ``"local"``.

    Yields
    ------
    client : distributed.Client or None
        The connected client, ``None`` when ``scheduler`` is ``None``.
    """
    scheduler = check_scheduler(scheduler)
    if scheduler is None:
        yield None
        return
    distributed = _import_distributed()
    with contextlib.ExitStack() as stack:
        if scheduler == _LOCAL:
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=threads_per_worker,
                    processes=True,
                    dashboard_address=None,
                )
            )
            address = cluster.scheduler_address
        else:
            address = scheduler
        client = stack.enter_context(distributed.Client(address, set_as_default=False))
        stack.enter_context(parallel_config(backend="dask", client=client))
        yield client


def _subject_dataset(dataset, subject):
    """A shallow copy of ``dataset`` that holds only ``subject``."""
    one = copy.copy(dataset)
    one.subject_list = [subject]
    return one


def _evaluate_subject(spec):
    """One MOABB evaluation of one subject; runs on a worker under Dask.

    ``spec`` is one tuple ``(evaluation_class, paradigm, dataset, subject,
    pipelines, kwargs)``. It is a tuple on purpose: joblib's Dask backend scatters
    large weak-referenceable arguments to a single worker, and scattered data dies
    with that worker, so a retried task could not find it; a tuple travels inside
    the task, which the scheduler keeps and can resubmit.

    Inside the task joblib runs sequentially: the unit of parallel work is one
    subject, and nested Dask tasks would again hold data on a single worker.
    Results are kept in a private temporary HDF5 store (MOABB's results cache is
    a single file, which concurrent workers must not share) and returned as a
    DataFrame.
    """
    evaluation_class, paradigm, dataset, subject, pipelines, kwargs = spec
    store = tempfile.mkdtemp(prefix="eegbin-moabb-")
    try:
        evaluation = evaluation_class(
            paradigm=paradigm,
            datasets=[_subject_dataset(dataset, subject)],
            overwrite=True,
            hdf5_path=store,
            **kwargs,
        )
        with parallel_config(backend="sequential"):
            return evaluation.process(pipelines)
    finally:
        shutil.rmtree(store, ignore_errors=True)


def process_per_subject(evaluation_class, paradigm, datasets, pipelines, n_jobs=-1, **kwargs):
    """Run ``evaluation_class(...).process(pipelines)`` as one task per subject.

    Parameters
    ----------
    evaluation_class : type
        A MOABB evaluation whose results per subject do not depend on the other
        subjects (``WithinSessionEvaluation``, ``CrossSessionEvaluation``).
    paradigm : moabb.paradigms.base.BaseParadigm
        The paradigm passed to the evaluation.
    datasets : list of moabb.datasets.base.BaseDataset
        Datasets; each subject of each becomes one task.
    pipelines : dict of str to estimator
        Pipelines passed to ``process``.
    n_jobs : int, default=-1
        joblib ``n_jobs`` of the per-subject fan-out (all workers under Dask).
    **kwargs
        Further keyword arguments of ``evaluation_class`` (``random_state``,
        ``n_jobs`` for the folds of one subject, ...). ``overwrite`` and
        ``hdf5_path`` are managed here.

    Returns
    -------
    results : pandas.DataFrame
        MOABB's results, concatenated in (dataset, subject) order.
    """
    for managed in ("overwrite", "hdf5_path", "datasets", "paradigm"):
        if managed in kwargs:
            raise TypeError(f"process_per_subject manages {managed!r}; do not pass it")
    tasks = [
        delayed(_evaluate_subject)(
            (evaluation_class, paradigm, dataset, subject, pipelines, kwargs)
        )
        for dataset in datasets
        for subject in dataset.subject_list
    ]
    frames = Parallel(n_jobs=n_jobs)(tasks)
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)

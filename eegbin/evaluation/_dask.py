"""Run MOABB evaluations on a Dask cluster through joblib's Dask backend.

Two pieces, used by :func:`eegbin.evaluation.run`:

- :func:`dask_backend` is a context manager that connects a
  :class:`distributed.Client` (to ``tcp://HOST:PORT``, or to a
  :class:`distributed.LocalCluster` it starts for ``"local"``) and makes
  joblib's Dask backend (``joblib.parallel_config(backend="dask")``, adjusted to
  never run tasks in the calling process) the active joblib backend, so the
  ``joblib.Parallel`` calls made inside the block (MOABB's and scikit-learn's
  ``n_jobs``) fan out over the workers.
- :func:`map_tasks` runs one function call per item (one subject's evaluation in
  :func:`eegbin.evaluation.run`) as one joblib task. MOABB's own ``process``
  loads the data of *all* subjects on the calling process before fanning folds
  out; dispatching whole per-subject evaluations instead means
  ``paradigm.get_data`` (so the simulated dataset's generation, or a download)
  runs on the worker that evaluates the subject, and only a small results table
  travels back to the client.

A worker that dies while it runs a task is replaced by its nanny and the task is
re-run by the Dask scheduler (``distributed.scheduler.allowed-failures``, 3 by
default); the subject's evaluation is recomputed from scratch, so the results are
the same as the serial run's.
"""

from __future__ import annotations

import contextlib

from joblib import Parallel, delayed, parallel_config, register_parallel_backend

__all__ = ["dask_backend", "map_tasks", "check_scheduler"]

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


_BACKEND = "eegbin-dask"


def _register_backend():
    """Register joblib's Dask backend, adjusted, as ``"eegbin-dask"``.

    joblib runs a ``Parallel`` call in the calling process when the effective
    number of jobs is 1, which for the Dask backend means a cluster with a single
    worker thread: the subjects would then be evaluated (and simulated) on the
    client. This subclass reports at least 2 jobs so the tasks always go to the
    scheduler, which queues them on the workers.
    """
    from joblib._dask import DaskDistributedBackend

    class _WorkersOnlyDaskBackend(DaskDistributedBackend):
        def effective_n_jobs(self, n_jobs):
            return max(2, super().effective_n_jobs(n_jobs))

    register_parallel_backend(_BACKEND, _WorkersOnlyDaskBackend)


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
        _register_backend()
        stack.enter_context(parallel_config(backend=_BACKEND, client=client))
        yield client


def _call_sequentially(task):
    """Run ``func(spec)`` for ``task = (func, spec)`` with joblib sequential inside.

    ``task`` is one tuple on purpose: joblib's Dask backend scatters large
    weak-referenceable arguments to a single worker, and scattered data dies with
    that worker, so a task retried after the worker's death could not find it; a
    tuple travels inside the task, which the scheduler keeps and can resubmit.

    Inside the task joblib runs sequentially: the unit of parallel work is the
    task (one subject), and nested Dask tasks would again hold their data on a
    single worker.
    """
    func, spec = task
    with parallel_config(backend="sequential"):
        return func(spec)


def map_tasks(func, specs, scheduler=None, n_workers=None, progress=None):
    """``[func(spec) for spec in specs]``, as one Dask task per spec if asked.

    Parameters
    ----------
    func : callable
        A module-level function (workers import it by name) of one argument.
    specs : list
        One picklable argument per task, e.g. one subject's evaluation.
    scheduler : None, "local" or str, default=None
        ``None``: run in this process, in order. Otherwise see :func:`dask_backend`.
    n_workers : int, optional
        Worker processes of ``scheduler="local"``.
    progress : callable, optional
        Wraps the iterator of results as they arrive, e.g.
        ``functools.partial(tqdm, total=len(specs))``.

    Returns
    -------
    list
        The results, in the order of ``specs``.
    """
    specs = list(specs)
    wrap = progress if progress is not None else (lambda it: it)
    if check_scheduler(scheduler) is None:
        return list(wrap(func(spec) for spec in specs))
    with dask_backend(scheduler, n_workers=n_workers):
        # return_as="generator" keeps the order of specs and yields as results arrive
        parallel = Parallel(n_jobs=-1, return_as="generator")
        return list(wrap(parallel(delayed(_call_sequentially)((func, spec)) for spec in specs)))

"""Run one task per subject on a Dask cluster, through ``distributed``'s public API.

:func:`map_tasks` submits ``func(spec)`` for every spec with :meth:`distributed.Client.map`
and collects the results as they complete (:func:`distributed.as_completed`). Each
task carries its spec inside the task graph (not as data scattered to one worker), so
when a worker dies during a task its nanny replaces it and the scheduler reruns the task
elsewhere (``distributed.scheduler.allowed-failures``, 3 by default): the results are the
same as the run without Dask. The subject's data are loaded (simulated) by the task, on
the worker; only its small results table travels back.

``scheduler="local"`` starts a :class:`distributed.LocalCluster` of single-threaded worker
processes (numba kernels and BLAS limited to one thread each) for the duration of the
call; any other string is an address :class:`distributed.Client` accepts
(``tcp://HOST:PORT``, ``HOST:PORT``, ``tls://...``). An unreachable scheduler is reported
in one line within distributed's connect timeout
(``distributed.comm.timeouts.connect``).
"""

from __future__ import annotations

import contextlib
import logging

from ._logging import quiet

__all__ = ["map_tasks", "check_scheduler", "SchedulerUnreachable"]

_LOCAL = "local"
#: thread limits for the workers of a LocalCluster: one task per single-threaded process
_ONE_THREAD = {name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "MKL_NUM_THREADS")}


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler at the given address could not be reached."""


def check_scheduler(scheduler):
    """Validate ``scheduler``: ``None``, ``"local"`` or a scheduler address.

    An address is what :class:`distributed.Client` accepts: ``"tcp://HOST:PORT"``,
    ``"HOST:PORT"`` (TCP), or another protocol's ``"PROTOCOL://..."``.
    Returns the scheduler unchanged; raises :class:`TypeError`/:class:`ValueError`.

    Examples
    --------
    >>> from eegbin.evaluation._dask import check_scheduler
    >>> check_scheduler("127.0.0.1:8786")
    '127.0.0.1:8786'
    """
    if scheduler is None:
        return None
    expected = "None, 'local' or a scheduler address like 'tcp://HOST:PORT' or 'HOST:PORT'"
    if not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be {expected}; got {type(scheduler).__name__} {scheduler!r}")
    if scheduler == _LOCAL:
        return scheduler
    _, sep, location = scheduler.rpartition("://")
    host, colon, port = location.rpartition(":")
    if location and not any(c.isspace() for c in scheduler) and (sep or (colon and host and port.isdigit())):
        return scheduler
    raise ValueError(f"scheduler must be {expected}; got {scheduler!r}")


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - dask is a test/extra dependency
        raise ImportError(
            "running an evaluation on Dask needs dask.distributed: "
            'pip install "dask[distributed]" (from a clone: pip install -e ".[dask]")'
        ) from exc
    return distributed


def _connect(distributed, address, stack):
    """A connected Client; one clear error naming the address if the scheduler is not there."""
    import dask

    timeout = dask.config.get("distributed.comm.timeouts.connect")
    try:
        return stack.enter_context(distributed.Client(address, timeout=timeout, set_as_default=False))
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchedulerUnreachable(
            f"cannot reach the Dask scheduler at {address!r} within {timeout}: {reason}"
        ) from None


def map_tasks(func, specs, scheduler, n_workers=None, on_connected=None, on_result=None, verbose=False):
    """``[func(spec) for spec in specs]``, one Dask task per spec.

    Parameters
    ----------
    func : callable
        A module-level function (workers import it by name) of one argument.
    specs : list
        One picklable argument per task, e.g. one subject's evaluation.
    scheduler : "local" or str
        See :func:`check_scheduler`.
    n_workers : int, optional
        Worker processes of ``scheduler="local"`` (default: one per core).
    on_connected : callable, optional
        Called without arguments once the client is connected (e.g. to show a
        progress bar only when work can start).
    on_result : callable, optional
        Called with the index of each task as its result arrives.
    verbose : bool, default=False
        Let distributed log (scheduler and worker INFO lines).

    Returns
    -------
    list
        The results, in the order of ``specs``.

    Raises
    ------
    SchedulerUnreachable
        If no scheduler answers at the address within the connect timeout.
    """
    scheduler = check_scheduler(scheduler)
    if scheduler is None:
        raise ValueError("map_tasks runs on Dask: scheduler must be 'local' or an address")
    specs = list(specs)
    distributed = _import_distributed()
    with quiet("distributed", verbose=verbose), contextlib.ExitStack() as stack:
        if scheduler == _LOCAL:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=False if verbose else logging.ERROR, env=_ONE_THREAD,
            ))
            address = cluster.scheduler_address
        else:
            address = scheduler
        client = _connect(distributed, address, stack)
        if on_connected is not None:
            on_connected()
        futures = client.map(func, specs, pure=False)
        position = {future.key: i for i, future in enumerate(futures)}
        results = [None] * len(specs)
        for future in distributed.as_completed(futures, loop=client.loop):
            i = position[future.key]
            results[i] = future.result()
            if on_result is not None:
                on_result(i)
        return results

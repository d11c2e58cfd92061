"""Thread control of the numba kernels: one reading of ``n_jobs``, one context manager.

scikit-learn's glossary: ``n_jobs=None`` means one thread (unless a joblib
context says otherwise), ``-1`` all cores, ``-2`` all but one. Every parallel
kernel of eegbin runs inside :func:`threads`, which sets numba's thread count for
the call and restores it afterwards, so an estimator inside
``GridSearchCV(n_jobs=...)`` never oversubscribes the machine unless asked to.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import numba

from .checks import _is_int, check_n_jobs

__all__ = ["PARALLEL_MIN_FLOPS", "check_n_threads", "n_threads", "threads"]

#: below this many floating-point operations a kernel runs on one thread: waking
#: the thread team costs more than it saves (milliseconds on a loaded machine)
PARALLEL_MIN_FLOPS = 100e6

_BLAS = []  # the ThreadpoolController, created on first use (it scans the loaded libraries)


def n_threads(n_jobs):
    """Number of numba threads for ``n_jobs``: None -> 1, -1 -> all, -2 -> all but one.

    Capped at ``numba.config.NUMBA_NUM_THREADS`` (the size of numba's pool).

    Examples
    --------
    >>> from eegbin.kernels.threads import n_threads
    >>> n_threads(None), n_threads(1)
    (1, 1)
    """
    n_jobs = check_n_jobs(n_jobs)
    if n_jobs is None:
        return 1
    total = numba.config.NUMBA_NUM_THREADS
    if n_jobs < 0:
        return max(1, total + 1 + n_jobs)
    return min(n_jobs, total)


def check_n_threads(n_threads, name="n_threads"):
    """A kernel's thread count: an int >= 1, capped at ``numba.config.NUMBA_NUM_THREADS``.

    Kernels take ``n_threads`` (already a count); estimators turn their
    ``n_jobs`` into one with :func:`n_threads`.

    Examples
    --------
    >>> from eegbin.kernels.threads import check_n_threads
    >>> check_n_threads(1)
    1
    """
    if not _is_int(n_threads):
        raise TypeError(f"{name} must be an int >= 1, got {type(n_threads).__name__} {n_threads!r}")
    if n_threads < 1:
        raise ValueError(f"{name} must be an int >= 1, got {n_threads}")
    return min(int(n_threads), numba.config.NUMBA_NUM_THREADS)


@contextmanager
def _single_threaded_blas():
    from threadpoolctl import ThreadpoolController

    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1, user_api="blas"):
        yield


@contextmanager
def threads(n_jobs, *, flops=None, chunk=None, blas_one_thread=False):
    """Run the numba parallel regions of the block with the threads ``n_jobs`` asks for.

    Parameters
    ----------
    n_jobs : int or None
        As scikit-learn reads it (see :func:`n_threads`).
    flops : float, optional
        Size of the call; below :data:`PARALLEL_MIN_FLOPS` it runs on one thread.
    chunk : int, optional
        Hand iterations out dynamically in chunks of ``chunk`` (numba's default
        is one static block per thread), so that a thread slowed down by other
        processes on a shared machine does not hold the others back.
    blas_one_thread : bool, default=False
        Limit BLAS to one thread meanwhile (for kernels that call BLAS from
        inside their parallel loops).

    Yields
    ------
    int
        The number of threads in use.
    """
    n = n_threads(n_jobs)
    if flops is not None and flops < PARALLEL_MIN_FLOPS:
        n = 1
    old = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        with ExitStack() as stack:
            if chunk is not None:
                stack.enter_context(numba.parallel_chunksize(int(chunk)))
            if blas_one_thread:
                stack.enter_context(_single_threaded_blas())
            yield n
    finally:
        numba.set_num_threads(old)

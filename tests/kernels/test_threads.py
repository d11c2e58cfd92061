"""The one thread control of the kernels: scikit-learn's reading of n_jobs."""

import numba
import numpy as np
import pytest

from eegbin.kernels.threads import PARALLEL_MIN_FLOPS, n_threads, threads


def test_n_jobs_follows_the_scikit_learn_glossary():
    total = numba.config.NUMBA_NUM_THREADS
    assert n_threads(None) == 1
    assert n_threads(1) == 1
    assert n_threads(-1) == total
    assert n_threads(-2) == max(1, total - 1)
    assert n_threads(10**6) == total
    with pytest.raises(ValueError, match="n_jobs"):
        n_threads(0)
    with pytest.raises(TypeError, match="n_jobs"):
        n_threads("2")


def test_threads_sets_numba_and_restores_it():
    before = numba.get_num_threads()
    with threads(None) as n:
        assert n == 1 and numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with threads(-1, flops=PARALLEL_MIN_FLOPS / 2) as n:   # too small to wake the team
        assert n == 1 and numba.get_num_threads() == 1
    with threads(-1, flops=PARALLEL_MIN_FLOPS, chunk=4, blas_one_thread=True) as n:
        assert n == numba.config.NUMBA_NUM_THREADS == numba.get_num_threads()
    with pytest.raises(RuntimeError), threads(-1):
        raise RuntimeError
    assert numba.get_num_threads() == before


def test_filterbankriemann_n_jobs_none_runs_on_one_thread(monkeypatch):
    # GridSearchCV(n_jobs=...) around it must not be oversubscribed
    from eegbin import FilterBankRiemann

    seen = []
    real = numba.set_num_threads
    monkeypatch.setattr(numba, "set_num_threads", lambda n: (seen.append(n), real(n)))
    X = np.random.default_rng(0).standard_normal((40, 8, 400))
    est = FilterBankRiemann(100.0, bands=[(8, 12), (12, 16), (16, 24), (24, 30)]).fit(X)
    est.transform(X)
    assert seen and set(seen[0::2]) == {1}            # every region entered with one thread

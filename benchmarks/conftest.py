"""Shared benchmark fixtures.

Benchmarks run with the test suite untimed (``--benchmark-disable`` is in the
default options) so they never rot; there they use reduced problem sizes.
``pytest benchmarks --benchmark-enable`` runs them at the sizes the issues name.
"""

import time

import numpy as np
import pytest


@pytest.fixture(scope="session")
def full_size(request):
    """True when benchmarks are timed (full problem size), False in the test run."""
    # same rule as pytest-benchmark's session: --benchmark-enable overrides the
    # --benchmark-disable of addopts
    config = request.config
    return bool(config.getoption("benchmark_enable")) or not config.getoption("benchmark_disable")


def record_ratio(benchmark, name, peer_seconds, ours_seconds):
    """Store ``peer / ours`` in ``benchmark.extra_info`` and return it."""
    ratio = peer_seconds / ours_seconds if ours_seconds > 0 else float("inf")
    benchmark.extra_info[name] = ratio
    return ratio


def best_time(fn, repeat):
    """Best wall time of ``repeat`` calls of ``fn()`` (seconds)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best

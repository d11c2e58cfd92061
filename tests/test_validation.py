"""Shared input checks: all_finite (one pass, no temporary) and check_epochs."""

import numpy as np
import pytest

from eegbin._validation import all_finite, check_epochs


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_all_finite_matches_numpy_oracle(dtype):
    rng = np.random.default_rng(0)
    for trial in range(200):
        shape = rng.integers(0, 50, size=rng.integers(1, 4)) if trial < 190 else (70_000,)
        x = rng.standard_normal(shape).astype(dtype)
        if x.size and trial % 2:
            x.flat[rng.integers(x.size)] = rng.choice([np.nan, np.inf, -np.inf])
        assert all_finite(x) == bool(np.isfinite(x).all())


@pytest.mark.parametrize("n", [10, 100_000])  # the plain check, and the one-pass sum
def test_all_finite_overflowing_sum_of_finite_values_is_finite(n):
    big = np.full(n, np.finfo(np.float64).max)  # the sum overflows to inf; every value is finite
    assert all_finite(big)
    assert all_finite(np.concatenate([big, -big]))
    big[3] = np.inf
    assert not all_finite(big)
    both = np.zeros(n)
    both[[1, -1]] = np.inf, -np.inf  # sums to NaN
    assert not all_finite(both)
    nan = np.zeros(n)
    nan[-1] = np.nan
    assert not all_finite(nan)


def test_all_finite_integers_and_empty():
    assert all_finite(np.arange(10))
    assert all_finite(np.empty((0, 3)))


def test_check_epochs_names_the_first_bad_trial_and_keeps_the_array():
    X = np.zeros((5, 2, 10))
    assert check_epochs(X) is X
    X[3, 1, 4] = np.nan
    X[4, 0, 0] = np.inf
    with pytest.raises(ValueError, match="trial 3 contains NaN or Inf"):
        check_epochs(X)
    with pytest.raises(ValueError, match="X has 2 channels, but Est is expecting 3 channels"):
        check_epochs(np.zeros((1, 2, 3)), n_channels=3, estimator="Est")
    with pytest.raises(ValueError, match="3-D"):
        check_epochs(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="sparse"):
        import scipy.sparse

        check_epochs(scipy.sparse.eye(3))
    with pytest.raises(ValueError, match="Complex"):
        check_epochs(np.zeros((1, 1, 2), dtype=complex))
    with pytest.raises(ValueError, match="at least one trial, one channel and 4 sample"):
        check_epochs(np.zeros((1, 1, 3)), min_times=4)

"""The one checks module: all_finite (one pass, no temporary), check_epochs, and the error rule."""

import numpy as np
import pandas as pd
import pytest

from eegbin.kernels.checks import (
    all_finite,
    check_allocation,
    check_epochs,
    check_int,
    check_n_jobs,
    check_real_array,
    check_seed,
    physical_memory,
    refuse_strings,
)


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
    with pytest.raises(ValueError, match="X has 9 samples per trial, but Est is expecting 10 samples"):
        check_epochs(np.zeros((1, 2, 9)), n_times=10, estimator="Est")


@pytest.mark.parametrize(
    "X",
    [np.array([[["1.5", "2"]]]), np.array([[[1.5, "2"]]], dtype=object), [[["1", "2"]]]],
)
def test_numeric_strings_are_refused_in_epochs_as_in_features(X):
    with pytest.raises(TypeError, match="X must hold numbers, got strings"):
        check_epochs(X)
    with pytest.raises(TypeError, match="X must hold numbers, got strings"):
        refuse_strings(X[0] if not isinstance(X, list) else X[0])


def test_object_arrays_of_numbers_are_numbers_everywhere():
    X = np.arange(6.0).reshape(1, 2, 3)
    out = check_epochs(X.astype(object))
    assert out.dtype == np.float64 and np.array_equal(out, X)
    assert refuse_strings(X[0].astype(object)) is not None
    with pytest.raises(TypeError, match="not numbers"):
        check_epochs(np.array([[[{"a": 1}, 2.0]]], dtype=object))


def test_refuse_strings_keeps_dataframes_and_finds_string_columns():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    assert refuse_strings(df) is df
    with pytest.raises(TypeError, match="strings"):
        refuse_strings(df.assign(c=["1", "2"]))
    with pytest.raises(TypeError, match="X must be an array of numbers, got a str"):
        refuse_strings("1.5")


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: check_int(2.0, "k", 1), TypeError, "k must be an integer, got float 2.0"),
        (lambda: check_int(True, "k", 1), TypeError, "k must be an integer, got bool"),
        (lambda: check_int(np.int64(0), "k", 1), ValueError, "k must be >= 1, got 0"),
        (lambda: check_int(5, "k", 1, 4), ValueError, r"k must be in \[1, 4\], got 5"),
        (lambda: check_int(5, "k", high=4), ValueError, "k must be <= 4, got 5"),
        (lambda: check_seed(-1), ValueError, r"seed must be in \[0, 4294967295\]"),
        (lambda: check_seed(2**32), ValueError, "seed must be in"),
        (lambda: check_n_jobs(0), ValueError, "n_jobs must be None or a non-zero integer"),
        (lambda: check_n_jobs(1.5), TypeError, "n_jobs must be None or a non-zero integer"),
        (lambda: check_real_array(np.array([1j]), "w"), ValueError, "Complex data not supported: w"),
        (lambda: check_real_array(np.array([True]), "w"), TypeError, "w must hold real numbers"),
        (lambda: check_real_array(np.array(["1"]), "w"), TypeError, "w must hold numbers, got strings"),
        (lambda: check_real_array(np.ones(3), "w", ndim=2), ValueError, r"w must be 2-D, got shape \(3,\)"),
        (lambda: check_real_array(np.ones((0, 2)), "w", allow_empty=False), ValueError, "w must not be empty"),
        (lambda: check_real_array(np.array([1.0, np.nan]), "w"), ValueError, r"w must be finite.*\(1,\)"),
    ],
)
def test_one_error_type_per_kind_of_mistake(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_check_int_and_friends_return_python_ints():
    assert type(check_int(np.int32(3), "k", 1)) is int
    assert check_n_jobs(None) is None and check_n_jobs(-1) == -1
    assert check_real_array([1, 2], "w").dtype.kind == "i"


def test_allocation_beyond_physical_memory_is_refused():
    total = physical_memory()
    assert total is None or total > 2**20
    assert check_allocation(1024, "a small array", "n") == 1024
    if total is not None:
        with pytest.raises(ValueError, match="n_components: the output would take .* GiB, more than"):
            check_allocation(2 * total, "the output", "n_components")

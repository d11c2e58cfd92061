import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone

from eegbin import FixedPointQuantizer, footprint, from_fixed_point, to_fixed_point
from eegbin.quantize import auto_frac_bits, fixed_point_range

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=finite),
       st.integers(2, 32), st.integers(-8, 24))
def test_error_bound_inside_and_saturation_outside(x, bits, frac):
    q = to_fixed_point(x, bits, frac)
    assert q.dtype.itemsize * 8 >= bits and q.dtype.kind == "i"
    xr = from_fixed_point(q, frac)
    lo, hi = fixed_point_range(bits, frac)
    inside = (x >= lo) & (x <= hi)
    assert np.all(np.abs(x[inside] - xr[inside]) <= 2.0 ** -(frac + 1))
    assert np.all(xr[x > hi] == hi)
    assert np.all(xr[x < lo] == lo)
    assert np.all((q >= -(2 ** (bits - 1))) & (q <= 2 ** (bits - 1) - 1))


def test_oracle_int8():
    x = np.array([0.3, -1.0, 100.0, -100.0, 0.03125, -0.03125, 7.96875])
    # plain numpy oracle: round half to even, then clip
    oracle = np.clip(np.rint(x * 16), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(to_fixed_point(x, 8, 4), oracle)
    assert to_fixed_point(x, 16, 4).dtype == np.int16
    assert to_fixed_point(x, 64, 4).dtype == np.int64


def test_int64_saturation():
    q = to_fixed_point([1e300, -1e300], 64, 0)
    assert q[0] == np.iinfo(np.int64).max and q[1] == np.iinfo(np.int64).min


@settings(max_examples=40, deadline=None)
@given(st.floats(1e-6, 1e6), st.integers(2, 24))
def test_auto_frac_bits_is_tightest(max_abs, bits):
    f = auto_frac_bits(max_abs, bits)
    assert fixed_point_range(bits, f)[1] >= max_abs
    assert fixed_point_range(bits, f + 1)[1] < max_abs


def test_quantizer_estimator():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3)
    fq = FixedPointQuantizer(bits=8).fit(X)
    assert fq.range_[1] >= np.abs(X).max()
    Xq = fq.transform(X)
    assert np.all(np.abs(Xq - X) <= 2.0 ** -(fq.frac_bits_ + 1))
    np.testing.assert_array_equal(fq.quantize(X), to_fixed_point(X, 8, fq.frac_bits_))
    fixed = FixedPointQuantizer(bits=16, frac_bits=12).fit(X)
    assert fixed.frac_bits_ == 12
    assert pickle.loads(pickle.dumps(fq)).transform(X).tolist() == Xq.tolist()
    assert clone(fq).get_params() == fq.get_params()
    fp = footprint(fq)
    assert fp.total_params == 1 and "8-bit" in fp.note


@pytest.mark.parametrize("bits", [1, 0, 65])
def test_bad_bits(bits):
    with pytest.raises(ValueError, match="bits"):
        to_fixed_point([1.0], bits, 2)
    with pytest.raises(ValueError, match="bits"):
        FixedPointQuantizer(bits=bits).fit(np.ones((3, 2)))


def test_bad_input():
    with pytest.raises(ValueError, match="finite"):
        to_fixed_point([np.nan], 8, 2)
    with pytest.raises(TypeError, match="frac_bits"):
        to_fixed_point([1.0], 8, 2.5)
    with pytest.raises(TypeError, match="bits"):
        to_fixed_point([1.0], 8.0, 2)
    with pytest.raises(TypeError, match="integer"):
        from_fixed_point([1.5], 2)
    with pytest.raises(ValueError, match="max_abs"):
        auto_frac_bits(np.inf, 8)
    with pytest.raises(ValueError, match="NaN|infinity"):
        FixedPointQuantizer().fit([[np.inf, 1.0]])
    fq = FixedPointQuantizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="features"):
        fq.transform(np.ones((3, 3)))

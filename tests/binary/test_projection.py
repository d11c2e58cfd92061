"""SparseBipolarRandomProjection: the estimator shell around the rematerialized projection."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

from eegbin import SparseBipolarRandomProjection, footprint
from eegbin.kernels import pack_bits, sparse_bipolar_project, sparse_ternary_block


def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(SparseBipolarRandomProjection(n_components=200))


def test_transform_is_heaviside_of_R_f_in_every_output():
    rng = np.random.RandomState(0)
    X = rng.randint(-5, 6, size=(12, 40)).astype(float)
    proj = SparseBipolarRandomProjection(n_components=150, sparsity=0.7, seed=3).fit(X)
    R = sparse_ternary_block(3, 0, 150, 40, 0.7)
    bits = X @ R.T >= 0
    packed = proj.transform(X)
    assert packed.dtype == np.uint64 and packed.shape == (12, 3)
    np.testing.assert_array_equal(packed, pack_bits(bits))
    np.testing.assert_array_equal(proj.set_params(output="binary").transform(X), bits)
    bip = proj.set_params(output="bipolar").transform(X)
    assert bip.dtype == np.int8
    np.testing.assert_array_equal(bip, np.where(bits, 1, -1))


def test_state_is_seed_and_n_features_only():
    X = np.random.RandomState(1).randn(5, 20)
    proj = SparseBipolarRandomProjection(n_components=64).fit(X)
    assert [k for k in vars(proj) if k.endswith("_")] == ["n_features_in_"]
    # an unfitted clone fitted on other data of the same width gives the same codes
    other = clone(proj).fit(np.zeros((1, 20)))
    np.testing.assert_array_equal(other.transform(X), proj.transform(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(proj)).transform(X), proj.transform(X))


def test_block_size_and_threads_do_not_change_codes():
    X = np.random.RandomState(2).randn(30, 60)
    ref = SparseBipolarRandomProjection(n_components=700).fit_transform(X)
    for bs, nj in [(64, None), (128, 2), (4096, -1)]:
        est = SparseBipolarRandomProjection(n_components=700, block_size=bs, n_jobs=nj)
        np.testing.assert_array_equal(est.fit_transform(X), ref)
    np.testing.assert_array_equal(ref, sparse_bipolar_project(X.astype(np.float32), 0, 700, 0.9))


def test_footprint_matches_table_ii():
    proj = SparseBipolarRandomProjection(n_components=100_000, sparsity=0.9).fit(np.zeros((1, 10_879)))
    fp = proj.footprint()
    assert fp.macs == 108_790_000
    assert fp.n_bytes == 4.0
    assert footprint(proj, float_bits=16).total_macs == 108_790_000


def test_bad_input():
    X = np.random.RandomState(0).randn(4, 10)
    proj = SparseBipolarRandomProjection(n_components=64).fit(X)
    with pytest.raises(ValueError, match="10 features"):
        proj.transform(X[:, :9])
    with pytest.raises(ValueError, match="NaN"):
        proj.transform(np.full((2, 10), np.nan))
    with pytest.raises(ValueError, match="2D"):
        proj.transform(X[0])
    for bad in [{"n_components": 0}, {"sparsity": -0.1}, {"seed": 2**32}, {"output": "dense"},
                {"block_size": 32}]:
        with pytest.raises(ValueError, match=next(iter(bad))):
            SparseBipolarRandomProjection(**bad).fit(X)
    with pytest.raises(ValueError, match="multiple of 64"):
        SparseBipolarRandomProjection(block_size=100).fit(X)


def test_bipolar_codes_preserve_angles_between_classes():
    # codes of nearby inputs are closer in Hamming distance than codes of distant ones
    rng = np.random.RandomState(0)
    a = rng.randn(300)
    X = np.vstack([a, a + 0.1 * rng.randn(300), -a + 0.1 * rng.randn(300)])
    E = SparseBipolarRandomProjection(n_components=4000, output="binary").fit_transform(X)
    assert (E[0] != E[1]).mean() < 0.1 < 0.9 < (E[0] != E[2]).mean()

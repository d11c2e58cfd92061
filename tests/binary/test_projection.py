"""SparseBipolarRandomProjection: the estimator shell around the rematerialized projection."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from eegbin import SparseBipolarRandomProjection, footprint
from eegbin.kernels import pack_bits, sparse_bipolar_project, sparse_ternary_block


def test_transform_is_heaviside_of_R_f_in_every_output():
    rng = np.random.RandomState(0)
    X = rng.randint(-5, 6, size=(12, 40)).astype(float)
    proj = SparseBipolarRandomProjection(n_components=150, sparsity=0.7, random_state=3).fit(X)
    R = sparse_ternary_block(3, 0, 150, 40, 0.7)
    bits = X @ R.T >= 0
    bip = proj.transform(X)                       # default: one int8 -1/+1 column per bit
    assert bip.dtype == np.int8 and bip.shape == (12, 150)
    np.testing.assert_array_equal(bip, np.where(bits, 1, -1))
    np.testing.assert_array_equal(proj.set_params(output="binary").transform(X), bits)
    packed = proj.set_params(output="packed").transform(X)
    assert packed.dtype == np.uint64 and packed.shape == (12, 3)
    np.testing.assert_array_equal(packed, pack_bits(bits))


def test_state_is_the_32_bit_seed_drawn_from_random_state():
    X = np.random.RandomState(1).randn(5, 20)
    proj = SparseBipolarRandomProjection(n_components=64, random_state=7).fit(X)
    assert sorted(k for k in vars(proj) if k.endswith("_")) == ["n_features_in_", "seed_"]
    assert proj.seed_ == 7                        # an int is the seed itself
    # an unfitted clone fitted on other data of the same width gives the same codes
    other = clone(proj).fit(np.zeros((1, 20)))
    np.testing.assert_array_equal(other.transform(X), proj.transform(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(proj)).transform(X), proj.transform(X))
    # None or a RandomState draw a 32-bit seed, kept as seed_ (4 bytes regenerate R)
    drawn = SparseBipolarRandomProjection(n_components=64, random_state=np.random.RandomState(0)).fit(X)
    assert isinstance(drawn.seed_, int) and 0 <= drawn.seed_ <= 2**32 - 1
    assert drawn.seed_ == np.random.RandomState(0).randint(0, 2**32, dtype=np.uint64)
    again = SparseBipolarRandomProjection(n_components=64, random_state=drawn.seed_).fit(X)
    np.testing.assert_array_equal(again.transform(X), drawn.transform(X))
    fresh = {SparseBipolarRandomProjection(n_components=64).fit(X).seed_ for _ in range(3)}
    assert len(fresh) > 1                         # random_state=None: a new seed per fit


def test_block_size_and_threads_do_not_change_codes():
    X = np.random.RandomState(2).randn(30, 60)
    ref = SparseBipolarRandomProjection(n_components=700, output="packed", random_state=0).fit_transform(X)
    for bs, nj in [(64, None), (128, 2), (4096, -1)]:
        est = SparseBipolarRandomProjection(n_components=700, output="packed", random_state=0,
                                            block_size=bs, n_jobs=nj)
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
    for bad in [{"n_components": 0}, {"sparsity": -0.1}, {"sparsity": 1.0}, {"random_state": 2**32},
                {"output": "dense"}, {"block_size": 32}]:
        with pytest.raises(ValueError, match=next(iter(bad))):
            SparseBipolarRandomProjection(**bad).fit(X)
    with pytest.raises(ValueError, match="multiple of 64"):
        SparseBipolarRandomProjection(block_size=100).fit(X)


def test_sparsity_that_zeroes_R_is_refused():
    # s = 1 (or within 2**-16 of it) leaves R without a nonzero entry: every bit would be H(0) = 1
    X = np.random.RandomState(0).randn(4, 10)
    with pytest.raises(ValueError, match="sparsity"):
        SparseBipolarRandomProjection(sparsity=1.0).fit(X)
    with pytest.raises(ValueError, match=r"sparsity must be < 1 - 2\*\*-16"):
        SparseBipolarRandomProjection(sparsity=1 - 2**-17).fit(X)
    with pytest.raises(ValueError, match="sparsity"):
        sparse_bipolar_project(X, 0, 64, 1.0)
    E = SparseBipolarRandomProjection(sparsity=0.999, n_components=4000, random_state=0).fit_transform(X)
    assert (E == -1).any()                        # the sparsest accepted R still has nonzeros


def test_sizes_that_cannot_fit_in_memory_are_refused_before_work():
    X = np.random.RandomState(0).randn(4, 10)
    with pytest.raises(ValueError, match="n_components.*GiB"):
        SparseBipolarRandomProjection(n_components=10**12).fit(X)
    with pytest.raises(ValueError, match="n_components.*GiB"):
        SparseBipolarRandomProjection(n_components=10**13, output="packed").fit(X)
    with pytest.raises(ValueError, match="n_components.*GiB"):
        sparse_bipolar_project(X, 0, 10**13, 0.9)


@pytest.mark.parametrize("bad", [np.array([["1.5", "2"]] * 3), np.array([[1.5, "2"]] * 3, dtype=object)])
def test_numeric_strings_are_refused_as_everywhere(bad):
    proj = SparseBipolarRandomProjection(n_components=64, random_state=0)
    with pytest.raises(TypeError, match="strings"):
        proj.fit(bad)
    proj.fit(np.ones((3, 2)))
    with pytest.raises(TypeError, match="strings"):
        proj.transform(bad)


def test_bipolar_codes_preserve_angles_between_classes():
    # codes of nearby inputs are closer in Hamming distance than codes of distant ones
    rng = np.random.RandomState(0)
    a = rng.randn(300)
    X = np.vstack([a, a + 0.1 * rng.randn(300), -a + 0.1 * rng.randn(300)])
    E = SparseBipolarRandomProjection(n_components=4000, output="binary", random_state=0).fit_transform(X)
    assert (E[0] != E[1]).mean() < 0.1 < 0.9 < (E[0] != E[2]).mean()

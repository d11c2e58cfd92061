import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import eegbin
from eegbin import Footprint


class _ToyBinary(ClassifierMixin, BaseEstimator):
    """Toy estimator implementing the protocol: n_classes x n_bits binary prototypes."""

    def __init__(self, n_bits=100):
        self.n_bits = n_bits

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def footprint(self, float_bits=32):
        n = len(self.classes_) * self.n_bits
        return Footprint("toy", n_params=n, bits_per_param=1, bit_ops=n)


def test_table_ii_numbers():
    svm = Footprint("Linear SVM", n_params=4 * 10879 + 4, bits_per_param=16, macs=4 * 10879)
    assert svm.kB == pytest.approx(87.04, abs=0.005)
    assert svm.total_macs == 43516
    classif = Footprint("Classification", n_params=4 * 100_000, bits_per_param=1, bit_ops=4 * 100_000)
    assert classif.kB == pytest.approx(50.0)
    assert classif.word_ops == 6250
    seed = Footprint("Projection", n_params=1, bits_per_param=32, macs=108_790_000)
    assert seed.n_bytes == 4
    total = Footprint("RP+SVM", parts=(seed, classif))
    assert total.total_macs == 108_790_000
    assert total.kB == pytest.approx(50.004)
    assert "Projection" in total.table() and "108,790,000" in total.table()


def test_pipeline_sums_steps_and_uses_protocol():
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 10), np.arange(40) % 4
    pipe = make_pipeline(StandardScaler(), LinearSVC(), ).fit(X, y)
    fp = eegbin.footprint(pipe, float_bits=16)
    assert [p.name for p in fp.parts] == ["standardscaler", "linearsvc"]
    assert fp.total_params == 20 + 44
    assert fp.n_bytes == 64 * 2
    toy = eegbin.footprint(_ToyBinary(100).fit(X, y))
    assert toy.memory_bits == 400 and toy.word_ops == 7
    recs = fp.to_records()
    assert recs[0]["params"] == 64 and recs[1]["depth"] == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_params=-1), "n_params"),
        (dict(macs=1.5), "macs"),
        (dict(bits_per_param=0), "bits_per_param"),
        (dict(parts=(1,)), "parts"),
    ],
)
def test_bad_footprint_values(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Footprint("x", **kwargs)


def test_footprint_rejects_non_estimators_and_unfitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(TypeError, match="fitted estimator"):
        eegbin.footprint(object())
    with pytest.raises(NotFittedError):
        eegbin.footprint(LinearSVC())
    with pytest.raises(ValueError, match="float_bits"):
        eegbin.footprint(LinearSVC(), float_bits=0)


class _Fitted(ClassifierMixin, BaseEstimator):
    """A fitted third-party estimator eegbin knows nothing about."""

    def fit(self, X, y):
        self.classes_, self.table_ = np.unique(y), np.ones(7)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_unknown_is_none_and_reads_unknown_never_zero():
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances

    rng = np.random.RandomState(0)
    X, y = rng.randn(20, 3, 50), np.arange(20) % 2
    fp = eegbin.footprint(make_pipeline(Covariances("oas"), MDM()).fit(X, y), float_bits=32)
    cov, mdm = fp.parts
    assert (cov.n_params, cov.macs, cov.bit_ops) == (0, None, 0)
    assert mdm.n_params == 2 * 6 and mdm.macs is None  # two class means of 3x3 SPD matrices
    assert fp.kB == pytest.approx(2 * 6 * 4 / 1000)  # memory is known
    assert fp.total_macs is None and fp.word_ops == 0  # operations are not: never 0
    table = fp.table()
    assert "unknown" in table and "MACs not counted" in table and "class means" in table
    assert fp.to_records()[0]["macs"] is None

    alien = eegbin.footprint(_Fitted().fit(X[:, 0], y))
    assert (alien.n_params, alien.macs, alien.bit_ops) == (None, None, None)
    assert alien.kB is None and alien.total_params is None and alien.word_ops is None
    assert "footprint unknown" in alien.table()


def test_unknown_part_makes_the_total_unknown_and_known_parts_still_add():
    known = Footprint("a", n_params=10, bits_per_param=8, macs=5, bit_ops=64)
    assert Footprint("p", parts=(known, known)).kB == pytest.approx(0.02)
    total = Footprint("p", parts=(known, Footprint("b", macs=None)))
    assert total.total_macs is None
    assert total.total_params == 10 and total.word_ops == 1  # what is known stays known
    assert [line.split()[-1] for line in total.table().splitlines()[2:]] == ["1", "1", "0"]
    with pytest.raises(TypeError, match="integer or None"):
        Footprint("x", macs="12")

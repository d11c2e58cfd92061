"""The estimator contract, for every public estimator of eegbin, with default parameters.

Estimators are discovered from the ``__all__`` of ``eegbin`` and of each public
subpackage, so a new public estimator is checked without anyone adding it here.
Those that take 2-D features run scikit-learn's ``parametrize_with_checks`` with
their default parameters (only required arguments are given, in ``REQUIRED``).
Those that take 3-D EEG epochs (n_trials, n_channels, n_times) declare it in
their tags (``input_tags.two_d_array = False``): scikit-learn's checks feed 2-D
arrays and do not apply, so they run the 3-D contract of this file instead:
clone, get/set_params, pickle round trip, fit idempotence, a clear error on a
channel- or sample-count mismatch, on predict before fit and on the wrong number
of dimensions, invariance to the order (and grouping) of trials, float32 and
float64 input. The only accepted reason to leave a check out is 3-D input; what an
estimator does not meet yet is listed in ``NOT_YET`` with why, as a strict xfail.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_set_params,
    parametrize_with_checks,
)

import eegbin


def _lstm_weights():
    rng = np.random.default_rng(0)
    return {"weight_ih_l0": rng.normal(size=(16, 4)), "weight_hh_l0": rng.normal(size=(16, 4)),
            "bias_ih_l0": np.zeros(16), "bias_hh_l0": np.zeros(16)}


def _eegnet_weights():
    from eegbin.nn import EEGNet

    return EEGNet.random_weights(4, 128, n_classes=2, rng=np.random.default_rng(0))


#: the required arguments of the estimators that have some (everything else is default)
REQUIRED = {
    "FilterBankRiemann": lambda: {"sfreq": 250.0},
    "EEGNetClassifier": lambda: {"weights": _eegnet_weights(), "n_chans": 4, "n_times": 128, "sfreq": 128.0},
    "LSTMClassifier": lambda: {"network": _lstm_weights()},
    "PQClassifier": lambda: {"estimator": LinearSVC()},
}


def _public_modules():
    yield eegbin
    for info in pkgutil.walk_packages(eegbin.__path__, prefix="eegbin."):
        if info.ispkg and not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def _public_estimator_classes():
    found = {}
    for mod in _public_modules():
        for name in getattr(mod, "__all__", []):
            try:
                obj = getattr(mod, name)
            except ImportError:  # an optional dependency (torch) is missing
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found[obj.__name__] = obj
    return [found[n] for n in sorted(found)]


#: not a default, to keep the contract fast: a network trained for 2 epochs instead of 100
FAST = {"TorchEEGClassifier": {"max_epochs": 2, "batch_size": 8}}


def _construct(cls):
    kwargs = REQUIRED[cls.__name__]() if cls.__name__ in REQUIRED else {}
    return cls(**kwargs, **FAST.get(cls.__name__, {}))


def _is_3d(est):
    return not est.__sklearn_tags__().input_tags.two_d_array


ESTIMATORS = [_construct(cls) for cls in _public_estimator_classes()]
ESTIMATORS_2D = [est for est in ESTIMATORS if not _is_3d(est)]
ESTIMATORS_3D = [est for est in ESTIMATORS if _is_3d(est)]


def test_discovery_finds_every_public_estimator():
    names = {type(e).__name__ for e in ESTIMATORS}
    assert {"FilterBankRiemann", "SparseBipolarRandomProjection", "BinarizedLinearSVC",
            "MultiLevelBinarizer", "EEGNetClassifier", "LSTMClassifier", "PQClassifier"} <= names
    assert {type(e).__name__ for e in ESTIMATORS_3D} >= {"FilterBankRiemann", "EEGNetClassifier",
                                                         "LSTMClassifier"}
    for cls in _public_estimator_classes():
        required = [p.name for p in inspect.signature(cls).parameters.values()
                    if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD]
        assert not required or cls.__name__ in REQUIRED, f"{cls.__name__}: add its required {required}"


# ---------------------------------------------------------------------------
# 2-D estimators: all of scikit-learn's checks, defaults, no expected failure
# ---------------------------------------------------------------------------


@parametrize_with_checks(ESTIMATORS_2D)
def test_sklearn_checks_with_default_parameters(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_3d_estimators_say_so_to_scikit_learn():
    # check_estimator on them skips every check with a warning naming the 3-D input
    from sklearn.utils.estimator_checks import check_estimator

    for est in ESTIMATORS_3D:
        tags = est.__sklearn_tags__()
        assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array
        with pytest.warns(Warning, match="requires input"):
            check_estimator(clone(est))


# ---------------------------------------------------------------------------
# 3-D estimators: the contract of this file
# ---------------------------------------------------------------------------


def _epochs(est, n_trials=24, seed=0, dtype=np.float64):
    """Epochs the estimator accepts, with a class signal: (X, y)."""
    params = est.get_params()
    network = "weights" in params or "network" in params  # the small networks of REQUIRED: 4 channels
    n_chans = params.get("n_chans") or (4 if network else 6)
    n_times = params.get("n_times") or (64 if network else 300)
    rng = np.random.default_rng(seed)
    y = np.arange(n_trials) % 2
    X = rng.standard_normal((n_trials, n_chans, n_times))
    X[y == 1, 0] *= 2.5  # class 1: more power on channel 0
    return X.astype(dtype), y


def _outputs(est, X):
    """Every prediction method's output on X."""
    out = {}
    for method in ("transform", "predict", "decision_function", "predict_proba"):
        if hasattr(est, method):
            out[method] = np.asarray(getattr(est, method)(X))
    assert out, f"{type(est).__name__} has no prediction method"
    return out


def _fit(est, X, y):
    return est.fit(X, y) if is_classifier(est) else est.fit(X)


def _assert_outputs_equal(a, b):
    """Equal outputs: exactly for labels, to rounding for floats (float32 networks: 1e-5)."""
    assert a.keys() == b.keys()
    single = any(v.dtype == np.float32 for v in a.values())  # a network computing in float32
    eps = {"rtol": 1e-5, "atol": 1e-6} if single else {"rtol": 1e-9, "atol": 1e-12}
    for k in a:
        if np.issubdtype(a[k].dtype, np.floating):
            np.testing.assert_allclose(a[k], b[k], **eps, err_msg=k)
        else:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)


#: contract items an estimator does not meet yet, and why. Not reasons to keep: the
#: strict xfail fails as soon as the estimator meets them, so the entry goes with the fix.
NOT_YET: dict = {}


def _cases(item):
    return [pytest.param(est, id=type(est).__name__,
                         marks=[pytest.mark.xfail(strict=True, reason=NOT_YET[type(est).__name__, item])]
                         if (type(est).__name__, item) in NOT_YET else [])
            for est in ESTIMATORS_3D]


@pytest.mark.parametrize("est", _cases("params"))
def test_3d_clone_and_params(est):
    check_no_attributes_set_in_init(type(est).__name__, clone(est))
    check_get_params_invariance(type(est).__name__, clone(est))
    check_set_params(type(est).__name__, clone(est))
    X, y = _epochs(est)
    fitted = _fit(clone(est), X, y)
    cloned = clone(fitted)
    assert not [k for k in vars(cloned) if k.endswith("_") and not k.startswith("_")]
    assert cloned.get_params().keys() == est.get_params().keys()


@pytest.mark.parametrize("est", _cases("pickle"))
def test_3d_pickle_round_trip_and_fit_idempotence(est):
    X, y = _epochs(est)
    X2, y2 = _epochs(est, seed=1)
    fitted = _fit(clone(est), X, y)
    ref = _outputs(fitted, X)
    _assert_outputs_equal(_outputs(pickle.loads(pickle.dumps(fitted)), X), ref)
    _fit(fitted, X2, y2)
    _assert_outputs_equal(_outputs(_fit(fitted, X, y), X), ref)


@pytest.mark.parametrize("est", _cases("errors"))
def test_3d_clear_errors(est):
    X, y = _epochs(est)
    unfitted = clone(est)
    for method in ("transform", "predict", "decision_function", "predict_proba"):
        if hasattr(unfitted, method):
            with pytest.raises(NotFittedError):
                getattr(unfitted, method)(X)
    ndim, channels, samples = r"3-D|\(n_trials, n_ch", "channels|n_chans", "samples|n_times"
    with pytest.raises(ValueError, match=ndim):
        _fit(clone(est), X[:, 0], y)
    fitted = _fit(clone(est), X, y)
    for method in _outputs(fitted, X[:2]):
        call = getattr(fitted, method)
        with pytest.raises(ValueError, match=ndim):
            call(X[:, 0])
        with pytest.raises(ValueError, match=ndim):
            call(X[..., None])
        with pytest.raises(ValueError, match=channels):
            call(X[:, :-1])
        with pytest.raises(ValueError, match=samples):
            call(X[:, :, :-8])


@pytest.mark.parametrize("est", _cases("order"))
def test_3d_invariance_to_the_order_and_grouping_of_trials(est):
    X, y = _epochs(est)
    fitted = _fit(clone(est), X, y)
    ref = _outputs(fitted, X)
    perm = np.random.default_rng(0).permutation(len(X))
    _assert_outputs_equal(_outputs(fitted, X[perm]), {k: v[perm] for k, v in ref.items()})
    one_by_one = [_outputs(fitted, X[i:i + 1]) for i in range(4)]
    _assert_outputs_equal({k: np.concatenate([o[k] for o in one_by_one]) for k in ref},
                          {k: v[:4] for k, v in ref.items()})


@pytest.mark.parametrize("est", _cases("dtypes"))
def test_3d_float32_and_float64_input(est):
    X, y = _epochs(est)
    out64 = _outputs(_fit(clone(est), X, y), X)
    X32 = X.astype(np.float32)
    fitted32 = _fit(clone(est), X32, y)
    out32 = _outputs(fitted32, X32)
    for k in out64:
        assert out32[k].shape == out64[k].shape
        if np.issubdtype(out64[k].dtype, np.floating):
            scale = np.abs(out64[k]).max() + 1e-12
            assert np.abs(out32[k] - out64[k]).max() <= 1e-3 * scale, k
    # a float64-fitted model reads float32 epochs (and the other way round)
    _outputs(_fit(clone(est), X, y), X32)
    _outputs(fitted32, X)
    method = getattr(fitted32, "transform", None) or fitted32.predict
    with pytest.raises(TypeError, match="strings"):   # numeric strings: refused as everywhere
        method(X.astype(str))

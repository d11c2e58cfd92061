"""The valid-call registry of the bad-input suite: one entry per public callable of eegbin.

Each entry says how to build a small valid call (``valid`` returns fresh keyword
arguments) and what its array arguments are (:class:`~.battery.Arg`); the
battery of ``battery.py`` spoils one argument at a time. Public functions are
registered by hand (a public callable missing here fails
``test_every_public_callable_is_registered``); public scikit-learn estimators
are discovered and need no registration (:data:`ESTIMATOR_SETUP` only gives
required or size-limiting parameters).

Every exception to the battery is in ONE table at the end of this file, with its
reason: :data:`EXEMPT` (callables left out as a whole) and :data:`EXCEPTIONS`
(cases that do not apply to a callable). Failures found and not fixed yet are
``known.py`` (strict xfails naming the owner).
"""

from __future__ import annotations

import numpy as np

from .battery import Arg, Entry, Exempt

# ---------------------------------------------------------------------------
# tiny valid data
# ---------------------------------------------------------------------------


def _rng(seed=0):
    return np.random.default_rng(seed)


def _bipolar(n, m, seed=0):
    return np.where(_rng(seed).random((n, m)) < 0.5, -1, 1).astype(np.int8)


def _packed(n, m, seed=0):
    from eegbin.kernels import pack_bits

    return pack_bits(_bipolar(n, m, seed))


def _features(n=24, m=6, n_classes=2, seed=0):
    """2-D features with a class signal, and integer labels."""
    rng = _rng(seed)
    y = np.arange(n) % n_classes
    X = rng.standard_normal((n, m)) + 1.5 * np.eye(n_classes, m)[y]
    return X, y


def _epochs(n=12, n_chans=4, n_times=160, seed=0):
    rng = _rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, n_chans, n_times))
    X[y == 1, 0] *= 2.0
    return X, y


def _spd(n=3, k=4, seed=0):
    """``n`` well-conditioned SPD matrices of size k (integer-valued, so int32 is exact)."""
    rng = _rng(seed)
    A = rng.integers(-3, 4, size=(n, k, k)).astype(np.float64)
    return A @ A.transpose(0, 2, 1) + 2 * k * np.eye(k)


# ---------------------------------------------------------------------------
# how to call an estimator: fit on X (and y), then every prediction method on X_pred
# ---------------------------------------------------------------------------

METHODS = ("transform", "predict", "decision_function", "predict_proba")


def _scenario(cls, fit_params=None):
    def scenario(X, y=None, X_pred=None, **params):
        est = cls(**params)
        if y is None:
            est.fit(X, **(fit_params or {}))
        else:
            est.fit(X, y, **(fit_params or {}))
        out = {}
        for m in METHODS:
            if hasattr(est, m):
                res = getattr(est, m)(X_pred)
                out[m] = res if not isinstance(res, np.ndarray) else np.asarray(res)
        return out

    scenario.__name__ = f"{cls.__name__}.fit/predict"
    return scenario


def estimator(cls, data, params=None, *, scalars=None, epochs=False, rtol32=None, extra=None, ndim=None,
              fit_params=None):
    """The registry entry of an estimator: ``data()`` returns (X, y or None)."""
    params = params or {}

    def valid():
        X, y = data()
        kw = {"X": X, "X_pred": X[: max(2, len(X) // 3)].copy(), **(params() if callable(params) else params)}
        if y is not None:
            kw["y"] = y
        return kw

    nd = ndim or (3 if epochs else 2)
    x = Arg("real", ndim=nd, names=("X",), estimator_x=True, rtol32=rtol32, bool_ok=True)
    arrays = {"X": x, "X_pred": x}
    X0, y0 = data()
    if y0 is not None:
        arrays["y"] = Arg("y", names=("y", "class", "classes", "label", "labels"), estimator_x=True)

    def more_columns(kw):
        Xp = kw["X_pred"]
        return dict(kw, X_pred=np.concatenate([Xp, Xp[:, :1]], axis=1))

    def fewer_samples(kw):
        return dict(kw, X_pred=kw["X_pred"][..., :-8])

    mismatch = {"X_pred:more_features": ("shape_mismatch", more_columns,
                                         ("X", "channels", "features", "n_features", "n_chans"))}
    if epochs:
        mismatch["X_pred:fewer_samples"] = ("shape_mismatch", fewer_samples, ("X", "samples", "n_times"))
    for k, v in (extra or {}).items():
        mismatch[k] = v
    return Entry(call=_scenario(cls, fit_params), valid=valid, arrays=arrays, scalars=scalars or {},
                 extra=mismatch)


# ---------------------------------------------------------------------------
# exceptions that hold for every entry
# ---------------------------------------------------------------------------

SKIP_ALL = {}


# ---------------------------------------------------------------------------
# eegbin.kernels
# ---------------------------------------------------------------------------


def _kernels():
    from eegbin import kernels as k

    P = Arg("packed", ndim=2, empty="rowwise")
    PB = Arg("packed", ndim=2, empty="rowwise", n_bits=True, words_fixed=True)
    return {
        "eegbin.kernels.pack_bits": Entry(
            k.pack_bits, lambda: {"x": _bipolar(3, 70)},
            arrays={"x": Arg("bits", ndim=2, empty="rowwise")},
        ),
        "eegbin.kernels.unpack_bits": Entry(
            k.unpack_bits, lambda: {"words": _packed(3, 70), "n_bits": 70},
            arrays={"words": PB}, scalars={"n_bits": [-1, 64, 129, 10**12]},
        ),
        "eegbin.kernels.popcount": Entry(
            k.popcount, lambda: {"words": _packed(3, 70)}, arrays={"words": P},
        ),
        "eegbin.kernels.hamming_cdist": Entry(
            k.hamming_cdist, lambda: {"A": _packed(3, 70), "B": _packed(4, 70, 1)},
            arrays={"A": Arg("packed", ndim=2, empty="rowwise", words_fixed=True),
                    "B": Arg("packed", ndim=2, empty="rowwise", words_fixed=True)},
        ),
        "eegbin.kernels.hamming_topk": Entry(
            k.hamming_topk, lambda: {"A": _packed(3, 70), "B": _packed(4, 70, 1), "k": 2},
            arrays={"A": Arg("packed", ndim=2, empty="rowwise", words_fixed=True),
                    "B": Arg("packed", ndim=2, words_fixed=True)},
            scalars={"k": [0, -1, 5]},
        ),
        "eegbin.kernels.hamming_argmin": Entry(
            k.hamming_argmin, lambda: {"A": _packed(3, 70), "B": _packed(4, 70, 1)},
            arrays={"A": Arg("packed", ndim=2, empty="rowwise", words_fixed=True),
                    "B": Arg("packed", ndim=2, words_fixed=True)},
        ),
        "eegbin.kernels.bipolar_dot": Entry(
            k.bipolar_dot, lambda: {"A": _packed(3, 70), "B": _packed(4, 70, 1), "n_bits": 70},
            arrays={"A": PB, "B": PB}, scalars={"n_bits": [-1, 0, 64, 129]},
        ),
        "eegbin.kernels.n_words_for": Entry(
            k.n_words_for, lambda: {"n_bits": 70}, scalars={"n_bits": [-1]},
        ),
        "eegbin.kernels.multilevel_matmul": Entry(
            k.multilevel_matmul,
            lambda: {"X_planes": np.stack([_packed(3, 70), _packed(3, 70, 2)]), "x_scales": np.array([1.0, 0.5]),
                     "W_planes": np.stack([_packed(2, 70, 1)]), "w_scales": np.array([0.7]), "n_bits": 70},
            arrays={"X_planes": Arg("packed", ndim=3, n_bits=True, words_fixed=True),
                    "W_planes": Arg("packed", ndim=3, n_bits=True, words_fixed=True),
                    "x_scales": Arg("real", ndim=1), "w_scales": Arg("real", ndim=1)},
            scalars={"n_bits": [-1, 64, 129]},
        ),
        "eegbin.kernels.check_projection_sparsity": Entry(
            k.check_projection_sparsity, lambda: {"sparsity": 0.9}, scalars={"sparsity": [-0.1, 1.0, 1.5]},
        ),
        "eegbin.kernels.ternary_threshold": Entry(
            k.ternary_threshold, lambda: {"sparsity": 0.9}, scalars={"sparsity": [-0.1, 1.5]},
        ),
        "eegbin.kernels.random_words": Entry(
            k.random_words, lambda: {"seed": 7, "row_start": 2, "row_stop": 5, "n_words": 3},
            scalars={"seed": [-1, 2**32], "row_start": [-1, 6], "row_stop": [-1, 1], "n_words": [-1, 10**15]},
        ),
        "eegbin.kernels.random_bits": Entry(
            k.random_bits, lambda: {"seed": 7, "row_start": 2, "row_stop": 5, "n_bits": 70},
            scalars={"seed": [-1, 2**32], "row_start": [-1], "row_stop": [1], "n_bits": [-1, 10**15]},
        ),
        "eegbin.kernels.sparse_ternary_block": Entry(
            k.sparse_ternary_block, lambda: {"seed": 7, "row_start": 0, "row_stop": 5, "n_cols": 9, "sparsity": 0.5},
            scalars={"seed": [-1], "row_stop": [-1], "n_cols": [-1, 10**15], "sparsity": [-0.5, 1.5]},
        ),
        "eegbin.kernels.sparse_bipolar_project": Entry(
            k.sparse_bipolar_project,
            lambda: {"X": _features(5, 9)[0], "seed": 3, "n_components": 70, "sparsity": 0.5, "block_size": 128,
                     "sample_chunk": 4},
            arrays={"X": Arg("real", ndim=2, empty="rowwise", rtol32=1e-5)},
            scalars={"seed": [-1, 2**32], "n_components": [0, -3, 10**15], "sparsity": [-0.1, 1.0, 2.0],
                     "block_size": [0, 63], "sample_chunk": [0]},
        ),
        "eegbin.kernels.dense_bipolar_project": Entry(
            k.dense_bipolar_project,
            lambda: {"X": _features(5, 9)[0], "seed": 3, "n_components": 70, "sparsity": 0.5, "block_size": 128},
            arrays={"X": Arg("real", ndim=2, empty="rowwise", rtol32=1e-5)},
            scalars={"seed": [-1, 2**32], "n_components": [0, 10**15], "sparsity": [-0.1, 1.0],
                     "block_size": [0, 63]},
        ),
        "eegbin.kernels.bitwise_majority": Entry(
            k.bitwise_majority, lambda: {"words": np.stack([_packed(3, 70, s) for s in range(4)], axis=1)},
            arrays={"words": Arg("packed", ndim=3, empty="rowwise")},
            extra={"tie_break:word_count": (
                "word_count", lambda kw: dict(kw, tie_break=np.zeros(3, np.uint64)), ("tie_break",))},
        ),
        "eegbin.kernels.hash_tree_encode": Entry(
            k.hash_tree_encode,
            lambda: {"X": _features(6, 4)[0], "split_dims": np.array([[0, 1], [2, 3]]),
                     "thresholds": np.array([[0.0, -0.5, 0.5], [0.1, -0.2, 0.3]]), "n_threads": 1},
            arrays={"X": Arg("real", ndim=2, empty="rowwise", rtol32=1e-6),
                    "thresholds": Arg("real", ndim=2)},
            extra={"split_dims:out_of_range": (
                "bad_value", lambda kw: dict(kw, split_dims=np.array([[0, 9], [2, 3]])), ("split_dims",)),
                "split_dims:negative": (
                "bad_value", lambda kw: dict(kw, split_dims=np.array([[0, -1], [2, 3]])), ("split_dims",)),
                "split_dims:float": (
                "wrong_dtype", lambda kw: dict(kw, split_dims=np.array([[0.5, 1], [2, 3]])), ("split_dims",))},
            scalars={"n_threads": [0, -2]},
        ),
        "eegbin.kernels.hash_tree_lut_sum": Entry(
            k.hash_tree_lut_sum,
            lambda: {"X": _features(6, 4)[0], "split_dims": np.array([[0, 1], [2, 3]]),
                     "thresholds": np.array([[0.0, -0.5, 0.5], [0.1, -0.2, 0.3]]),
                     "luts": _rng(1).integers(0, 255, size=(2, 4, 3)).astype(np.uint8), "n_threads": 1},
            arrays={"X": Arg("real", ndim=2, empty="rowwise", rtol32=1e-6),
                    "thresholds": Arg("real", ndim=2), "luts": Arg("real", ndim=3)},
            extra={"split_dims:out_of_range": (
                "bad_value", lambda kw: dict(kw, split_dims=np.array([[0, 9], [2, 3]])), ("split_dims",)),
                "luts:too_few": (
                "shape_mismatch", lambda kw: dict(kw, luts=kw["luts"][:, :2]), ("luts",))},
            scalars={"n_threads": [0]},
        ),
        "eegbin.kernels.lut_sum": Entry(
            k.lut_sum,
            lambda: {"prototype_indices": np.array([[0, 1], [3, 2], [1, 1]]),
                     "luts": _rng(1).integers(0, 255, size=(2, 4, 3)).astype(np.uint8), "n_threads": 1},
            arrays={"prototype_indices": Arg("labels", ndim=2, empty="rowwise"),
                    "luts": Arg("real", ndim=3)},
            scalars={"n_threads": [0]},
        ),
    }


REGISTRY = {}
REGISTRY.update(_kernels())


# ---------------------------------------------------------------------------
# estimators: every public scikit-learn estimator, discovered, no registration needed
# ---------------------------------------------------------------------------


def _lstm_weights():
    rng = _rng(0)
    return {"weight_ih_l0": rng.normal(size=(16, 4)), "weight_hh_l0": rng.normal(size=(16, 4)),
            "bias_ih_l0": np.zeros(16), "bias_hh_l0": np.zeros(16)}


def _eegnet_weights():
    from eegbin.nn import EEGNet

    return EEGNet.random_weights(4, 128, n_classes=2, rng=np.random.default_rng(0))


#: the parameters an estimator needs (required ones) or that keep it small and fast;
#: an estimator not listed here runs with default parameters on 2-D features (or on
#: 3-D epochs if its tags say so), so a new public estimator is covered unregistered
ESTIMATOR_SETUP = {
    "AssociativeMemoryClassifier": {"params": {"n_components": 128, "random_state": 0},
                                    "scalars": {"n_components": [0, -5, 10**15], "sparsity": [-0.1, 1.0, 1.5]}},
    "SparseBipolarRandomProjection": {"params": {"n_components": 70, "random_state": 0},
                                      "scalars": {"n_components": [0, -5, 10**15], "sparsity": [-0.1, 1.0, 1.5]}},
    "BinaryKeyValueMemory": {"params": {"n_components": 64, "random_state": 0},
                             "scalars": {"n_components": [0, -1, 10**15], "beta": [-1.0, 0.0]}},
    "BinarizedLinearSVC": {"params": {"random_state": 0}, "scalars": {"C": [0.0, -1.0]}},
    "FilterBankRiemann": {"params": {"sfreq": 128.0, "bands": [(8, 12), (12, 30)]}, "epochs": True,
                          "scalars": {"sfreq": [0.0, -128.0], "order": [0, -1], "reg": [-0.5]},
                          "rtol32": 1e-4},
    "EEGNetClassifier": {"params": lambda: {"weights": _eegnet_weights(), "n_chans": 4, "n_times": 128,
                                            "sfreq": 128.0},
                         "epochs": True, "data": lambda: _epochs(8, 4, 128), "rtol32": 1e-3},
    "LSTMClassifier": {"params": lambda: {"network": _lstm_weights()}, "epochs": True,
                       "data": lambda: _epochs(12, 4, 24), "rtol32": 1e-3},
    "PQClassifier": {"params": lambda: {"estimator": __import__("sklearn.svm").svm.LinearSVC(),
                                        "n_prototypes": 4, "random_state": 0},
                     "data": lambda: _features(32, 8),
                     "scalars": {"n_prototypes": [0, -1, 10**9], "lut_bits": [0, 65]}},
    "ProductQuantizedLinear": {"params": {"n_prototypes": 4, "random_state": 0},
                               "data": lambda: (_features(32, 8)[0], None),
                               "scalars": {"n_prototypes": [0, -1, 10**9], "lut_bits": [0, 65]}},
    "MultiLevelBinarizer": {"scalars": {"n_levels": [0, -1]}},
    "FixedPointQuantizer": {"scalars": {"bits": [0, 1, 65]}},
    "DitheredBinarizer": {"params": {"random_state": 0}, "data": lambda: (_rng(0).standard_normal((6, 8, 8)), None),
                          "ndim": 3, "scalars": {"k": [0, -1], "d": [0, -1], "n_random_kernels": [0, -1]}},
    "TorchEEGClassifier": {"params": {"max_epochs": 1, "batch_size": 8}, "epochs": True,
                           "data": lambda: _epochs(8, 4, 128), "rtol32": 1e-3},
}


def _without_y(data):
    """The data of a transformer: X of ``data()``, no y."""
    def without_y():
        return data()[0], None
    return without_y


def _estimator_entries():
    import inspect

    from sklearn.base import BaseEstimator, is_classifier

    from .battery import public_callables

    found = {obj: key for key, obj in public_callables().items()
             if inspect.isclass(obj) and issubclass(obj, BaseEstimator)}
    out = {}
    for cls, key in found.items():
        setup = ESTIMATOR_SETUP.get(cls.__name__, {})
        params = setup.get("params", {})
        try:
            probe = cls(**(params() if callable(params) else params))
            tags = probe.__sklearn_tags__()
            epochs = setup.get("epochs", not tags.input_tags.two_d_array)
            classifier = is_classifier(probe)
        except Exception:  # noqa: BLE001 - a required argument is missing: the test says so
            epochs, classifier = False, True
        data = setup.get("data")
        if data is None:
            data = (lambda: _epochs()) if epochs else (lambda: _features())
        if not classifier and "data" not in setup:
            data = _without_y(data)
        scalars = setup.get("scalars", {})

        def make_params(params=params, scalars=scalars, cls=cls):
            kw = params() if callable(params) else dict(params)
            sig = inspect.signature(cls)
            for s in scalars:  # the hyperparameters under test are given explicitly
                if s not in kw:
                    kw[s] = sig.parameters[s].default
            return kw

        out[key] = estimator(cls, data, make_params, scalars=scalars, epochs=epochs,
                             rtol32=setup.get("rtol32"), ndim=setup.get("ndim"))
    return out


REGISTRY.update(_estimator_entries())


# ---------------------------------------------------------------------------
# functions of the subpackages
# ---------------------------------------------------------------------------


def _features_fns():
    from eegbin import features as f

    spd = Arg("real", ndim=(2, 3), rtol32=1e-4, int_scale=1.0, empty="rowwise")
    spd3 = Arg("real", ndim=3, rtol32=1e-4, int_scale=1.0, empty="rowwise")
    ep = Arg("real", ndim=3, rtol32=1e-4, empty="rowwise")
    sos = f.design_filterbank([(8, 12), (12, 30)], 128.0)
    return {
        "eegbin.features.covariances": Entry(
            f.covariances, lambda: {"X": _epochs(3, 4, 64)[0], "reg": 0.1},
            arrays={"X": Arg("real", ndim=None, rtol32=1e-4, empty="rowwise")}, scalars={"reg": [-1.0]}),
        "eegbin.features.filterbank_covariances": Entry(
            f.filterbank_covariances, lambda: {"X": _epochs(3, 4, 128)[0], "sos": sos.copy(), "reg": 0.1},
            arrays={"X": ep}, scalars={"reg": [-1.0]}),
        "eegbin.features.design_filterbank": Entry(
            f.design_filterbank, lambda: {"bands": np.array([[8.0, 12.0], [12.0, 30.0]]), "sfreq": 128.0, "order": 2},
            arrays={"bands": Arg("real", ndim=2)},
            extra={"bands:above_nyquist": ("bad_value", lambda kw: dict(kw, bands=np.array([[8.0, 70.0]])),
                                           ("bands", "Nyquist")),
                   "bands:reversed": ("bad_value", lambda kw: dict(kw, bands=np.array([[12.0, 8.0]])),
                                      ("bands", "band"))},
            scalars={"sfreq": [0.0, -1.0], "order": [0, -1]}),
        "eegbin.features.hersche_bands": Entry(
            f.hersche_bands, lambda: {"min_freq": 4.0, "max_freq": 40.0},
            scalars={"min_freq": [-1.0, 50.0], "max_freq": [0.0, 2.0]}),
        "eegbin.features.expm": Entry(f.expm, lambda: {"C": _spd() / 10}, arrays={"C": spd}),
        "eegbin.features.invsqrtm": Entry(
            f.invsqrtm, lambda: {"C": _spd()}, arrays={"C": spd},
            extra={"C:singular": ("bad_value", lambda kw: dict(kw, C=np.zeros((3, 4, 4))), ("C",))}),
        "eegbin.features.logm": Entry(
            f.logm, lambda: {"C": _spd()}, arrays={"C": spd},
            extra={"C:not_positive": ("bad_value", lambda kw: dict(kw, C=-_spd()), ("C",))}),
        "eegbin.features.sqrtm": Entry(
            f.sqrtm, lambda: {"C": _spd()}, arrays={"C": spd},
            extra={"C:not_symmetric": ("bad_value", lambda kw: dict(kw, C=_spd() + np.triu(np.ones(4), 1)), ("C",))}),
        "eegbin.features.mean_covariance": Entry(
            f.mean_covariance, lambda: {"C": _spd(), "metric": "riemann"}, arrays={"C": spd3},
            extra={"metric:unknown": ("bad_value", lambda kw: dict(kw, metric="nope"), ("metric",))}),
        "eegbin.features.mean_euclid": Entry(f.mean_euclid, lambda: {"C": _spd()}, arrays={"C": spd3}),
        "eegbin.features.mean_logeuclid": Entry(f.mean_logeuclid, lambda: {"C": _spd()}, arrays={"C": spd3}),
        "eegbin.features.mean_riemann": Entry(
            f.mean_riemann, lambda: {"C": _spd(), "tol": 1e-9, "maxiter": 50}, arrays={"C": spd3},
            scalars={"tol": [-1.0], "maxiter": [0, -1]}),
        "eegbin.features.tangent_space": Entry(
            f.tangent_space, lambda: {"C": _spd(), "Cref": _spd(1)[0]},
            arrays={"C": spd, "Cref": Arg("real", ndim=2, rtol32=1e-4, int_scale=1.0)},
            extra={"Cref:size": ("shape_mismatch", lambda kw: dict(kw, Cref=np.eye(3)), ("Cref",))}),
        "eegbin.features.upper": Entry(
            f.upper, lambda: {"S": _spd()}, arrays={"S": Arg("real", ndim=(2, 3), empty="rowwise")},
            extra={"S:not_square": ("shape_mismatch", lambda kw: dict(kw, S=np.ones((3, 4, 5))), ("S",))}),
    }


def _binary_fns():
    from eegbin import binary as b

    P = Arg("packed", ndim=2, empty="rowwise", n_bits=True, words_fixed=True)
    return {
        "eegbin.binary.cosine_from_hamming": Entry(
            b.cosine_from_hamming, lambda: {"queries": _packed(3, 70), "keys": _packed(4, 70, 1), "n_bits": 70},
            arrays={"queries": P, "keys": Arg("packed", ndim=2, n_bits=True, words_fixed=True)},
            scalars={"n_bits": [0, -1, 129]}),
        "eegbin.binary.random_bipolar_projection": Entry(
            b.random_bipolar_projection, lambda: {"seed": 7, "n_components": 16, "n_features": 5},
            scalars={"seed": [-1, 2**32], "n_components": [0, -1, 10**15], "n_features": [0, -1, 10**15]}),
        "eegbin.binary.memory_readout": Entry(
            b.memory_readout, lambda: {"attention": _rng(0).random((3, 4)), "labels": np.array([0, 1, 1, 0]),
                                       "n_classes": 2},
            arrays={"attention": Arg("real", ndim=2, empty="rowwise"), "labels": Arg("labels", ndim=1)},
            extra={"labels:length": ("shape_mismatch", lambda kw: dict(kw, labels=np.array([0, 1, 1])),
                                     ("labels", "keys"))},
            scalars={"n_classes": [0, -1]}),
        "eegbin.binary.sharpen_attention": Entry(
            b.sharpen_attention, lambda: {"alpha": _rng(0).uniform(-1, 1, (3, 4)), "beta": 10.0},
            arrays={"alpha": Arg("real", ndim=2, empty="rowwise")},
            extra={"sharpen:unknown": ("bad_value", lambda kw: dict(kw, sharpen="nope"), ("sharpen",))},
            scalars={"beta": [0.0, -1.0]}),
    }


def _quantize_fns():
    from eegbin import quantize as q

    X, y = _features(24, 8)
    bounds = q.subspace_bounds(8, 2)

    def pq():
        return q.learn_product_quantizer(X, n_subspaces=2, n_prototypes=4, random_state=0)

    protos = q.learn_kmeans_prototypes(X, bounds, n_prototypes=4, random_state=0)
    W = _rng(2).standard_normal((8, 3))
    real = Arg("real", ndim=None, rtol32=1e-5, empty="rowwise")
    pqX = Arg("real", ndim=2, empty="rowwise", rtol32=1e-5)
    # the pq_* functions take X with the quantizer's number of features (8)
    pq_more_features = {"X:more_features": ("shape_mismatch", lambda kw: dict(kw, X=np.ones((3, 9))), ("X",))}
    return {
        "eegbin.quantize.biper_pdf": Entry(
            q.biper_pdf, lambda: {"w_hat": np.linspace(-0.9, 0.9, 7), "b": 1.0, "omega": 2.0},
            arrays={"w_hat": real}, scalars={"b": [0.0, -1.0], "omega": [0.0, -1.0]}),
        "eegbin.quantize.biper_scale": Entry(
            q.biper_scale, lambda: {"b": 1.0, "omega": 2.0}, scalars={"b": [0.0, -1.0], "omega": [0.0, -1.0]}),
        "eegbin.quantize.biper_quantization_error": Entry(
            q.biper_quantization_error, lambda: {"b": 1.0, "omega": 2.0},
            scalars={"b": [0.0, -1.0], "omega": [0.0, -1.0]}),
        "eegbin.quantize.square_wave": Entry(
            q.square_wave, lambda: {"w": _rng(0).standard_normal((3, 5)), "omega": 2.0},
            arrays={"w": real}, scalars={"omega": [0.0, -1.0]}),
        "eegbin.quantize.total_variation": Entry(
            q.total_variation, lambda: {"x": _rng(0).standard_normal((2, 5, 6))},
            arrays={"x": Arg("real", ndim=None, empty="rowwise")},
            extra={"axes:out_of_range": ("bad_value", lambda kw: dict(kw, axes=(5, 6)), ("axes",))}),
        "eegbin.quantize.dithered_sign": Entry(
            q.dithered_sign,
            lambda: {"x": _rng(0).standard_normal((2, 6, 6)), "kernel": np.array([[0.5, -0.5], [0.0, 0.25]])},
            arrays={"x": Arg("real", ndim=None, int_scale=1.0, empty="rowwise"), "kernel": Arg("real", ndim=2)}),
        "eegbin.quantize.to_fixed_point": Entry(
            q.to_fixed_point, lambda: {"x": _rng(0).standard_normal((3, 4)), "bits": 8, "frac_bits": 4},
            arrays={"x": real}, scalars={"bits": [0, 1, 65], "frac_bits": [-2000, 10**6]}),
        "eegbin.quantize.from_fixed_point": Entry(
            q.from_fixed_point, lambda: {"q": np.array([[1, -3], [7, 0]], dtype=np.int8), "frac_bits": 4},
            arrays={"q": Arg("labels", ndim=None, empty="rowwise")}, scalars={"frac_bits": [-2000, 10**6]}),
        "eegbin.quantize.fixed_point_range": Entry(
            q.fixed_point_range, lambda: {"bits": 8, "frac_bits": 4}, scalars={"bits": [0, 1, 65]}),
        "eegbin.quantize.auto_frac_bits": Entry(
            q.auto_frac_bits, lambda: {"max_abs": 3.0, "bits": 8},
            scalars={"max_abs": [-1.0], "bits": [0, 1, 65]}),
        "eegbin.quantize.subspace_bounds": Entry(
            q.subspace_bounds, lambda: {"n_features": 8, "n_subspaces": 2},
            scalars={"n_features": [0, -1], "n_subspaces": [0, 9]}),
        "eegbin.quantize.threshold_levels": Entry(
            q.threshold_levels, lambda: {"k": 3, "ndim": 2}, scalars={"k": [0, -1], "ndim": [0, 3]}),
        "eegbin.quantize.half_wave_gaussian_thresholds": Entry(
            q.half_wave_gaussian_thresholds, lambda: {"n_levels": 4, "n_iter": 20},
            scalars={"n_levels": [0, -1], "n_iter": [0, -1]}),
        "eegbin.quantize.scale_threshold_kernel": Entry(
            q.scale_threshold_kernel, lambda: {"kernel": np.array([[1, 0], [3, 1]]), "k": 3, "ndim": 2},
            arrays={"kernel": Arg("labels", ndim=None, empty="rowwise")},
            scalars={"k": [0, -1], "ndim": [0, 3]}),
        "eegbin.quantize.threshold_kernel_3d": Entry(
            q.threshold_kernel_3d, lambda: {"kernel": np.array([[1, 0], [3, 1]]), "n_channels": 3},
            arrays={"kernel": Arg("labels", ndim=None, empty="rowwise")}, scalars={"n_channels": [0, -1]}),
        "eegbin.quantize.design_threshold_kernel": Entry(
            q.design_threshold_kernel, lambda: {"X": _rng(0).standard_normal((4, 6, 6)), "k": 3, "d": 2,
                                                "n_random_kernels": 4, "random_state": 0},
            arrays={"X": Arg("real", ndim=(2, 3))},
            scalars={"k": [0, -1], "d": [0, -1], "n_random_kernels": [0, -1]}),
        "eegbin.quantize.learn_hash_trees": Entry(
            q.learn_hash_trees, lambda: {"X": X.copy(), "bounds": bounds.copy(), "depth": 2, "n_candidates": 4},
            arrays={"X": Arg("real", ndim=2, rtol32=1e-5)},
            extra={"bounds:out_of_range": ("bad_value", lambda kw: dict(kw, bounds=np.array([0, 4, 20])), ("bounds",))},
            scalars={"depth": [0, -1, 17], "n_candidates": [0, -1]}),
        "eegbin.quantize.learn_kmeans_prototypes": Entry(
            q.learn_kmeans_prototypes, lambda: {"X": X.copy(), "bounds": bounds.copy(), "n_prototypes": 4,
                                                "random_state": 0, "n_init": 1},
            arrays={"X": Arg("real", ndim=2, rtol32=1e-3)},
            extra={"bounds:out_of_range": ("bad_value", lambda kw: dict(kw, bounds=np.array([0, 4, 20])), ("bounds",))},
            scalars={"n_prototypes": [0, -1, 10**9], "n_init": [0, -1]}),
        "eegbin.quantize.kmeans_encode": Entry(
            q.kmeans_encode, lambda: {"X": X.copy(), "prototypes": protos.copy(), "bounds": bounds.copy()},
            arrays={"X": pqX, "prototypes": Arg("real", ndim=3, rtol32=1e-5)}),
        "eegbin.quantize.build_luts": Entry(
            q.build_luts, lambda: {"prototypes": protos.copy(), "bounds": bounds.copy(), "weights": W.copy()},
            arrays={"prototypes": Arg("real", ndim=3, rtol32=1e-5), "weights": Arg("real", ndim=2, rtol32=1e-5)},
            extra={"weights:rows": ("shape_mismatch", lambda kw: dict(kw, weights=W[:5]), ("weights",))}),
        "eegbin.quantize.quantize_luts": Entry(
            q.quantize_luts, lambda: {"luts": _rng(0).standard_normal((2, 4, 3)), "lut_bits": 8},
            arrays={"luts": Arg("real", ndim=3, rtol32=1e-5)}, scalars={"lut_bits": [0, 1, 17]}),
        "eegbin.quantize.learn_product_quantizer": Entry(
            q.learn_product_quantizer, lambda: {"X": X.copy(), "weights": W.copy(), "n_subspaces": 2,
                                                "n_prototypes": 4, "random_state": 0},
            arrays={"X": Arg("real", ndim=2, rtol32=1e-3), "weights": Arg("real", ndim=2, rtol32=1e-5)},
            extra={"weights:rows": ("shape_mismatch", lambda kw: dict(kw, weights=W[:5]), ("weights",))},
            scalars={"n_subspaces": [0, -1, 9], "n_prototypes": [0, -1, 10**9]}),
        "eegbin.quantize.pq_encode": Entry(
            q.pq_encode, lambda: {"pq": pq(), "X": X[:5].copy()}, arrays={"X": pqX},
            extra=pq_more_features),
        "eegbin.quantize.pq_reconstruct": Entry(
            q.pq_reconstruct, lambda: {"pq": pq(), "X": X[:5].copy()}, arrays={"X": pqX},
            extra=pq_more_features),
        "eegbin.quantize.pq_table_sums": Entry(
            q.pq_table_sums, lambda: {"pq": pq(), "X": X[:5].copy()}, arrays={"X": pqX},
            extra=pq_more_features),
        "eegbin.quantize.pq_transform": Entry(
            q.pq_transform, lambda: {"pq": pq(), "X": X[:5].copy()}, arrays={"X": pqX},
            extra=pq_more_features),
        "eegbin.quantize.pq_footprint": Entry(
            q.pq_footprint, lambda: {"pq": pq(), "float_bits": 32}, scalars={"float_bits": [0, -1]}),
        "eegbin.quantize.multilevel_binarize": Entry(
            q.multilevel_binarize, lambda: {"x": _rng(0).standard_normal((3, 70)), "n_levels": 2},
            arrays={"x": Arg("real", ndim=None, rtol32=1e-5, empty="rowwise")}, scalars={"n_levels": [0, -1]}),
        "eegbin.quantize.reconstruct": Entry(
            q.reconstruct, lambda: {"code": _mlb_code(0)}),
        "eegbin.quantize.mlb_dot": Entry(
            q.mlb_dot, lambda: {"a": _mlb_code(0, (70,)), "b": _mlb_code(1, (70,))},
            extra={"b:length": ("shape_mismatch", lambda kw: dict(kw, b=_mlb_code(1, (71,))), ("a", "b", "length"))}),
        "eegbin.quantize.mlb_matmul": Entry(
            q.mlb_matmul, lambda: {"a": _mlb_code(0, (3, 70)), "b": _mlb_code(1, (4, 70))},
            extra={"b:length": ("shape_mismatch", lambda kw: dict(kw, b=_mlb_code(1, (4, 71))), ("a", "b", "length"))}),
    }


def _mlb_code(seed, shape=(3, 70)):
    """A MultiLevelCode of 2 levels (rows of ``shape``; a 1-D shape gives one row)."""
    from eegbin.quantize import MultiLevelBinarizer

    x = _rng(seed).standard_normal(shape)
    est = MultiLevelBinarizer(n_levels=2, output="code").fit(x.reshape(-1, shape[-1]))
    return est.transform(x.reshape(-1, shape[-1]))


def _register_probe(**kw):
    """register_pipeline then unregister: the spec it stored."""
    from eegbin import evaluation as e

    name = "bad_input_probe"
    try:
        e.register_pipeline(name, **kw)(lambda sfreq=250.0: None)
        return e.get_spec(name).float_bits
    finally:
        if name in e.list_pipelines():
            e.unregister_pipeline(name)


def _evaluation_fns():
    from eegbin import evaluation as e

    return {
        "eegbin.evaluation.pareto_front": Entry(
            e.pareto_front,
            lambda: {"memory": np.array([1.0, 2.0, 3.0, 0.5]), "accuracy": np.array([0.6, 0.5, 0.8, 0.4])},
            arrays={"memory": Arg("real", ndim=1, int_scale=1.0), "accuracy": Arg("real", ndim=1, int_scale=1.0)},
            extra={"accuracy:length": ("shape_mismatch", lambda kw: dict(kw, accuracy=kw["accuracy"][:3]),
                                       ("memory", "accuracy"))}),
        "eegbin.evaluation.register_pipeline": Entry(
            _register_probe, lambda: {"float_bits": 32}, scalars={"float_bits": [0, -1, 65]}),
    }


def _nn_fns():
    from eegbin import nn

    def lstm():
        rng = _rng(0)
        return {"x": rng.standard_normal((2, 5, 3)), "w_ih": rng.standard_normal((8, 3)),
                "w_hh": rng.standard_normal((8, 2)), "bias": rng.standard_normal(8)}

    return {
        "eegbin.nn.lstm_layer_forward": Entry(
            nn.lstm_layer_forward, lstm,
            arrays={"x": Arg("real", ndim=3, rtol32=1e-5), "w_ih": Arg("real", ndim=2, rtol32=1e-5),
                    "w_hh": Arg("real", ndim=2, rtol32=1e-5), "bias": Arg("real", ndim=1, rtol32=1e-5)},
            extra={"w_hh:shape": ("shape_mismatch", lambda kw: dict(kw, w_hh=kw["w_hh"][:, :1]), ("w_hh",)),
                   "x:features": ("shape_mismatch", lambda kw: dict(kw, x=kw["x"][..., :2]), ("x", "w_ih"))}),
        "eegbin.nn.pwl_table": Entry(
            nn.pwl_table, lambda: {"function": "tanh", "n_segments": 8},
            extra={"function:unknown": ("bad_value", lambda kw: dict(kw, function="relu"), ("function",))},
            scalars={"n_segments": [0, -1]}),
        "eegbin.nn.pwl_apply": Entry(
            nn.pwl_apply, lambda: {"z": _rng(0).standard_normal((3, 4)), "table": nn.pwl_table("tanh", 8)},
            arrays={"z": Arg("real", ndim=None, rtol32=1e-5, empty="rowwise")}),
    }


REGISTRY.update(_features_fns())
REGISTRY.update(_binary_fns())
REGISTRY.update(_quantize_fns())
REGISTRY.update(_evaluation_fns())
REGISTRY.update(_nn_fns())


# ---------------------------------------------------------------------------
# kernels merged with the binarized-speed work (issue 19)
# ---------------------------------------------------------------------------


def _xnor_kernels():
    from eegbin import kernels as k

    def signs(shape, seed=0):
        return _rng(seed).random(shape) < 0.5

    def operands():
        planes = lambda rows, n, s: k.pack_bits(np.where(_rng(s).random((rows, n)) < 0.5, -1, 1))[None]  # noqa: E731
        return {"wx_planes": planes(8, 3, 0), "wx_scales": np.full((1, 8), 0.5), "wh_planes": planes(8, 2, 1),
                "wh_scales": np.full((1, 8), 0.5), "bias": np.zeros(8), "n_inputs": 3}

    def step():
        planes = lambda rows, n, s: k.pack_bits(np.where(_rng(s).random((rows, n)) < 0.5, -1, 1))[None]  # noqa: E731
        return {"x_planes": planes(3, 3, 2), "x_scales": np.full((1, 3), 0.7), "h_planes": planes(3, 2, 3),
                "h_scales": np.full((1, 3), 0.3), "operands": k.lstm_layer_operands(**operands())}

    def layer():
        from eegbin.nn import pwl_table

        rng = _rng(4)
        return {"x": rng.standard_normal((3, 5, 3)), "h0": np.zeros((3, 2)), "c0": rng.standard_normal((3, 2)),
                "operands": k.lstm_layer_operands(**operands()), "levels": 2,
                "sigmoid_table": pwl_table("sigmoid", 16), "tanh_table": pwl_table("tanh", 16)}

    planes_arg = Arg("packed", ndim=3, n_bits=True, words_fixed=True)
    sign_arg = Arg("signs", ndim=4, empty="rowwise")
    return {
        "eegbin.kernels.lstm_gate_preactivations": Entry(
            k.lstm_gate_preactivations, step,
            arrays={"x_planes": planes_arg, "h_planes": planes_arg, "x_scales": Arg("real", ndim=2),
                    "h_scales": Arg("real", ndim=2)},
            extra={"h_scales:batch": ("shape_mismatch", lambda kw: dict(kw, h_scales=kw["h_scales"][:, :2]),
                                      ("h_scales",))}),
        "eegbin.kernels.mubinn2_lstm_layer": Entry(
            k.mubinn2_lstm_layer, layer,
            arrays={"x": Arg("real", ndim=3, rtol32=1e-5), "h0": Arg("real", ndim=2, rtol32=1e-5),
                    "c0": Arg("real", ndim=2, rtol32=1e-5)},
            scalars={"levels": [-1]},
            extra={"h0:batch": ("shape_mismatch", lambda kw: dict(kw, h0=kw["h0"][:2]), ("h0",)),
                   "x:features": ("shape_mismatch", lambda kw: dict(kw, x=kw["x"][..., :2]), ("x", "n_inputs"))}),
        "eegbin.kernels.binary_conv1d": Entry(
            k.binary_conv1d, lambda: {"signs": signs((1, 3, 2, 9)), "scales": np.array([0.5]),
                                      "weight_planes": signs((1, 4, 2, 3), 1), "weight_scales": np.array([2.0])},
            arrays={"signs": sign_arg, "weight_planes": sign_arg, "scales": Arg("real", ndim=(1, 2)),
                    "weight_scales": Arg("real", ndim=(1, 2))},
            extra={"weight_planes:channels": ("shape_mismatch", lambda kw: dict(kw, weight_planes=signs((1, 4, 3, 3))),
                                              ("weight_planes", "signs", "channels", "C"))}),
        "eegbin.kernels.pack_windows": Entry(
            k.pack_windows, lambda: {"signs": signs((1, 3, 2, 9)), "kernel_size": 3},
            arrays={"signs": sign_arg}, scalars={"kernel_size": [0, -1, 10]}),
        "eegbin.kernels.separable_to_full": Entry(
            k.separable_to_full, lambda: {"depthwise_signs": signs((3, 4)), "pointwise_signs": signs((5, 3), 1)},
            arrays={"depthwise_signs": Arg("signs", ndim=2), "pointwise_signs": Arg("signs", ndim=2)},
            extra={"pointwise_signs:maps": ("shape_mismatch", lambda kw: dict(kw, pointwise_signs=signs((5, 2))),
                                            ("pointwise_signs", "depthwise_signs"))}),
        "eegbin.kernels.lstm_layer_operands": Entry(
            k.lstm_layer_operands, operands,
            arrays={"wx_planes": Arg("packed", ndim=3, n_bits=True, words_fixed=True),
                    "wh_planes": Arg("packed", ndim=3, n_bits=True, words_fixed=True),
                    "wx_scales": Arg("real", ndim=2), "wh_scales": Arg("real", ndim=2), "bias": Arg("real", ndim=1)},
            scalars={"n_inputs": [0, -1, 65]}),
    }


REGISTRY.update(_xnor_kernels())


# ---------------------------------------------------------------------------
# the torch-free networks of eegbin.nn (an EEGNet and an LSTM of 4 channels), and footprint
# ---------------------------------------------------------------------------


def _eegnet_params(n_classes=2):
    from eegbin.nn import EEGNet

    return EEGNet(EEGNet.random_weights(4, 128, n_classes, rng=0), n_times=128).params


def _eegnet_x(n=3):
    return _rng(0).standard_normal((n, 4, 128))


def _fitted_svc():
    from eegbin.binary import BinarizedLinearSVC

    X, y = _features(16, 6)
    return BinarizedLinearSVC(random_state=0).fit(X, y)


def _nn_models():
    from eegbin import footprint, nn

    def eegnet_forward(weights, X, n_chans, n_times):
        return nn.EEGNet(weights, n_chans=n_chans, n_times=n_times).forward(X)

    def lstm_forward(weights, x):
        return nn.LSTM(weights).forward(x)

    def binarized_lstm_forward(weights, x, activation_levels, weight_levels, n_pwl_segments):
        net = nn.MultiLevelBinarizedLSTM(weights, activation_levels=activation_levels, weight_levels=weight_levels,
                                         n_pwl_segments=n_pwl_segments)
        return net.calibrate(x).forward(x)

    x_epochs = Arg("real", ndim=3, names=("X",), rtol32=1e-4)
    x_seq = Arg("real", ndim=3, names=("x",), rtol32=1e-5)
    n_features = _eegnet_params().n_features
    return {
        "eegbin.nn.EEGNet": Entry(
            eegnet_forward, lambda: {"weights": _eegnet_weights(), "X": _eegnet_x(), "n_chans": 4, "n_times": 128},
            arrays={"X": x_epochs}, scalars={"n_chans": [0, -1, 5], "n_times": [0, -1, 64]},
            extra={"X:channels": ("shape_mismatch", lambda kw: dict(kw, X=kw["X"][:, :3]), ("X", "channels")),
                   "X:samples": ("shape_mismatch", lambda kw: dict(kw, X=kw["X"][..., :100]),
                                 ("X", "samples", "n_times"))}),
        "eegbin.nn.eegnet_logits": Entry(
            nn.eegnet_logits, lambda: {"params": _eegnet_params(), "X": _eegnet_x()}, arrays={"X": x_epochs}),
        "eegbin.nn.eegnet_features": Entry(
            nn.eegnet_features, lambda: {"params": _eegnet_params(), "X": _eegnet_x()}, arrays={"X": x_epochs}),
        "eegbin.nn.activation_ranges": Entry(
            nn.activation_ranges, lambda: {"params": _eegnet_params(), "X": _eegnet_x()}, arrays={"X": x_epochs}),
        "eegbin.nn.with_fixed_point": Entry(
            lambda **kw: nn.eegnet_logits(nn.with_fixed_point(**kw), _eegnet_x(2), dtype="float64"),
            lambda: {"params": _eegnet_params(), "X_calib": _eegnet_x(), "weight_bits": 8, "act_bits": 16},
            arrays={"X_calib": Arg("real", ndim=3, rtol32=1e-4)},
            scalars={"weight_bits": [0, 1, 65], "act_bits": [0, 1, 65]}),
        "eegbin.nn.with_head": Entry(
            lambda **kw: nn.eegnet_logits(nn.with_head(**kw), _eegnet_x(2), dtype="float64"),
            lambda: {"params": _eegnet_params(), "weight": _rng(1).standard_normal((3, n_features)),
                     "bias": _rng(2).standard_normal(3)},
            arrays={"weight": Arg("real", ndim=2), "bias": Arg("real", ndim=1)},
            extra={"bias:classes": ("shape_mismatch", lambda kw: dict(kw, bias=kw["bias"][:2]), ("bias", "weight")),
                   "weight:features": ("shape_mismatch", lambda kw: dict(kw, weight=kw["weight"][:, :-1]),
                                       ("weight",))}),
        "eegbin.nn.with_pq_head": Entry(
            lambda **kw: nn.eegnet_logits(nn.with_pq_head(**kw), _eegnet_x(2), dtype="float64"),
            lambda: {"params": _eegnet_params(), "features": _rng(3).standard_normal((40, n_features)),
                     "n_prototypes": 4, "lut_bits": 8},
            arrays={"features": Arg("real", ndim=2, rtol32=1e-5)},
            scalars={"n_prototypes": [0, -1, 10**9], "lut_bits": [0, 65]},
            extra={"features:columns": ("shape_mismatch", lambda kw: dict(kw, features=kw["features"][:, :-1]),
                                        ("features",))}),
        "eegbin.nn.with_binary_features": Entry(
            lambda **kw: nn.eegnet_logits(nn.with_binary_features(**kw), _eegnet_x(2), dtype="float64"),
            lambda: {"params": _eegnet_params(), "separable": _rng(4).standard_normal((16, 1)) * 0.1,
                     "head": _rng(5).standard_normal((16, 1)) * 0.1},
            arrays={"separable": Arg("real", ndim=2), "head": Arg("real", ndim=2)},
            extra={"head:maps": ("shape_mismatch", lambda kw: dict(kw, head=kw["head"][:8]), ("head",))}),
        "eegbin.nn.read_eegnet": Entry(
            lambda **kw: nn.read_eegnet(**kw).n_out_times,
            lambda: {"weights": _eegnet_weights(), "n_chans": 4, "n_times": 128, "pool1_kernel_size": 4,
                     "pool2_kernel_size": 8, "batch_norm_eps": 1e-3, "conv_spatial_max_norm": 1.0, "norm_rate": 0.25},
            scalars={"n_chans": [0, -1, 5], "n_times": [0, -1, 64], "pool1_kernel_size": [0, -1],
                     "pool2_kernel_size": [0, -1], "batch_norm_eps": [0.0, -1e-3], "conv_spatial_max_norm": [0.0, -1.0],
                     "norm_rate": [0.0, -0.25]}),
        "eegbin.nn.params_from_layers": Entry(
            lambda **kw: nn.eegnet_logits(nn.params_from_layers(**kw), _eegnet_x(2), dtype="float64"),
            lambda: {k: getattr(_eegnet_params(), k) for k in (
                "temporal", "spatial", "depth", "point", "head", "pad_temporal", "pad_depth", "pool1", "pool2",
                "layout")},
            arrays={"temporal": Arg("real", ndim=2, rtol32=1e-4), "spatial": Arg("real", ndim=2, rtol32=1e-4),
                    "depth": Arg("real", ndim=2, rtol32=1e-4), "point": Arg("real", ndim=2, rtol32=1e-4)},
            scalars={"pool1": [0, -1], "pool2": [0, -1]}),
        "eegbin.nn.eegnet_footprint": Entry(
            lambda **kw: nn.eegnet_footprint(**kw).n_params,
            lambda: {"params": _eegnet_params(), "float_bits": 16, "n_times": 64, "act_bits": 8},
            scalars={"float_bits": [0, -1], "n_times": [0, -1], "act_bits": [0, -1]}),
        "eegbin.nn.select_channels": Entry(
            lambda **kw: nn.select_channels(**kw).channels, lambda: {"params": _eegnet_params(), "n_selected": 2},
            scalars={"n_selected": [0, -1, 5]}),
        "eegbin.nn.with_elu_table": Entry(
            lambda **kw: nn.with_elu_table(**kw).elu_table,
            lambda: {"params": _eegnet_params(), "n_entries": 16, "x_min": -8.0},
            scalars={"n_entries": [0, 1, -1, 10**15], "x_min": [0.0, 1.0]}),
        "eegbin.footprint": Entry(
            lambda **kw: footprint(**kw).n_params, lambda: {"obj": _fitted_svc(), "float_bits": 16},
            scalars={"float_bits": [0, -1]},
            extra={"convention:unknown": ("bad_value", lambda kw: dict(kw, convention="paper"), ("convention",))}),
        "eegbin.nn.LSTM": Entry(
            lstm_forward, lambda: {"weights": _lstm_weights(), "x": _rng(0).standard_normal((2, 5, 4))},
            arrays={"x": x_seq},
            extra={"x:features": ("shape_mismatch", lambda kw: dict(kw, x=kw["x"][..., :3]), ("x",))}),
        "eegbin.nn.MultiLevelBinarizedLSTM": Entry(
            binarized_lstm_forward,
            lambda: {"weights": _lstm_weights(), "x": _rng(0).standard_normal((2, 5, 4)), "activation_levels": 2,
                     "weight_levels": 2, "n_pwl_segments": 16},
            arrays={"x": Arg("real", ndim=3, names=("x",), rtol32=1e-3)},
            scalars={"activation_levels": [0, -1], "weight_levels": [0, -1], "n_pwl_segments": [0, -1]},
            extra={"x:features": ("shape_mismatch", lambda kw: dict(kw, x=kw["x"][..., :3]), ("x",))}),
    }


REGISTRY.update(_nn_models())

# ---------------------------------------------------------------------------
# THE TABLE OF EXCEPTIONS: every callable or case left out of the battery, with its reason
# ---------------------------------------------------------------------------

_FILES = ("takes a path or file: bad files are the weight-file suite's (tests/nn/test_weight_files.py, "
          "every loader under a memory cap and a time limit)")
_DATA = "downloads or builds MOABB datasets (network, minutes): tests/datasets covers its argument checks"
_REPORT = "takes result tables (DataFrames) or file paths, not arrays: tests/evaluation covers its checks"
_NAMES = "takes a pipeline name (a string looked up in the registry), no array or numeric argument"
_TORCH = ("a torch module or autograd function of the optional trainer (eegbin.train): its input checks are "
          "TorchEEGClassifier's, which the battery walks as an estimator")
_RECORD = ("a frozen record (dataclass) of arrays that eegbin's own functions build and validate when they "
           "read it; the functions that take it are walked")
_PARAMS_ONLY = ("takes only an EEGNetParams (the record read_eegnet and params_from_layers build and check): no "
                "array or numeric argument to spoil; select_channels and with_fixed_point, which call it, are walked")

_WEIGHT_DICTS = ("takes its arrays inside a dict of tensors, which the battery does not spoil: covered by "
                 "tests/nn/test_weight_dict_bad_input.py (test_check_weights_names_the_bad_tensor, "
                 "test_resolve_lstm_weights_names_the_bad_tensor (also through a WeightDict, a dict subclass with "
                 "no checks of its own), test_learned_lstm_names_the_bad_tensor, test_learned_lstm_names_a_bad_scale)")

_EXPORT = ("writes and compiles C for a fitted model (seconds per call, QEMU for the Cortex-M4): too slow for "
           "this battery; its arguments are a directory, a name and tool names, not arrays. Covered by "
           "tests/export/test_api.py: test_bad_names, test_bad_dtype, "
           "test_a_dtype_that_is_not_a_string_is_a_type_error, test_a_directory_that_is_not_a_path_is_named, "
           "test_a_file_given_as_the_directory_is_refused, test_an_unfitted_estimator_is_refused_before_writing, "
           "test_a_missing_model_directory_or_bad_name_is_named, test_a_tool_or_flag_that_is_not_a_string_is_named")

#: callables the battery does not run on at all, with the reason
EXEMPT = {
    "eegbin.datasets.check_bnci2014_001": _DATA, "eegbin.datasets.get_dataset": _DATA,
    "eegbin.datasets.load_motor_imagery": _DATA, "eegbin.datasets.make_paradigm": _DATA,
    "eegbin.datasets.SimulatedMotorImagery": _DATA, "eegbin.datasets.export_bnci2014_001": _DATA,
    "eegbin.nn.BinaryFeatures": _RECORD,
    **{f"eegbin.export.{n}": _EXPORT for n in ("CModel", "CortexM4", "to_c")},
    "eegbin.export.Port": _RECORD, "eegbin.export.StepContext": _RECORD,
    "eegbin.export.exporter_for": "takes an estimator class and returns its exporter: no array argument",
    "eegbin.export.register_exporter": "a decorator registering an exporter for a class: no array argument",
    "eegbin.export.find_c_compiler": "takes no argument (finds the host's C compiler)",
    "eegbin.evaluation.run": _DATA, "eegbin.evaluation.read_results": _REPORT,
    "eegbin.evaluation.write_report": _REPORT, "eegbin.evaluation.render_report": _REPORT,
    "eegbin.evaluation.summarize_results": _REPORT, "eegbin.evaluation.EvaluationResult": _RECORD,
    "eegbin.evaluation.get_pipeline": _NAMES, "eegbin.evaluation.get_spec": _NAMES,
    "eegbin.evaluation.list_pipelines": _NAMES,
    "eegbin.evaluation.check_scheduler":
        "takes a dask scheduler address (a string) or None: no array or numeric argument",
    "eegbin.evaluation.SchedulerUnreachable": "an exception class raised by eegbin, not an entry point",
    "eegbin.evaluation.check_output_directory": _FILES.split(":")[0] + ": a directory, checked by tests/evaluation",
    "eegbin.evaluation.describe_protocol": _REPORT, "eegbin.evaluation.format_table": _REPORT,
    "eegbin.evaluation.plot_accuracy_vs_memory": _REPORT, "eegbin.evaluation.plot_per_subject": _REPORT,
    "eegbin.datasets.no_download": "a context manager that forbids MOABB downloads: it takes no argument",
    # eegbin.train.read_export_metadata is eegbin.nn.read_export_metadata, re-exported
    "eegbin.nn.load_weights": _FILES, "eegbin.train.read_export_metadata": _FILES,
    "eegbin.Footprint": _RECORD, "eegbin.nn.EEGNetParams": _RECORD, "eegbin.nn.LSTMLayerWeights": _RECORD,
    "eegbin.nn.LSTMWeights": _RECORD, "eegbin.nn.OnnxGraph": _RECORD, "eegbin.nn.OnnxNode": _RECORD,
    "eegbin.nn.Affine": _RECORD, "eegbin.nn.DenseHead": _RECORD, "eegbin.nn.EluTable": _RECORD,
    "eegbin.nn.FixedPoint": _RECORD, "eegbin.quantize.MultiLevelCode": _RECORD,
    "eegbin.quantize.ProductQuantizer": _RECORD,
    **{f"eegbin.train.{n}": _TORCH for n in ("DeSignActivation", "EEGNet", "LSTMNet", "MIMANN", "MultiLevelBinarize",
                                             "approx_sign", "biper_gamma", "biper_sign", "biper_weight",
                                             "deployed_weights", "export", "sign_ste")},
    "eegbin.nn.fold_batchnorm": _PARAMS_ONLY, "eegbin.nn.spatial_channel_scores": _PARAMS_ONLY,
    **{f"eegbin.nn.{n}": _WEIGHT_DICTS for n in (
        "LearnedMultiLevelLSTM", "WeightDict", "check_weights", "resolve_lstm_weights")},
}

_FLOAT_KERNEL = ("documented kernel contract: the sums run in X's float dtype (float32 or float64), an integer "
                 "X is refused with a TypeError naming X; SparseBipolarRandomProjection converts it")
_TORCH_SLOW = ("kept out for time (each case trains a torch network twice, seconds each): the layouts and "
               "dtypes of X go through check_epochs, walked with EEGNetClassifier and LSTMClassifier; the "
               "refusal cases of the battery do run on it")
_OMEGA = ("kernel entries are checked by value against the level set Omega (eq. 5; a float 3.0 is level 3): "
          "0.5 is a value outside the set, so the ValueError naming kernel is the right type")
_EMPTY_KEYS = "0 rows of B (no keys) give a (n_A, 0) result: a valid empty answer, as scipy's cdist gives"

_INF_THRESHOLD = ("a valid value: learn_hash_trees gives a node without a split an infinite threshold "
                  "(every row goes one way); NaN thresholds are refused")

#: cases of a registered callable that do not apply: key -> {(argument, case) | argument | case: reason}
EXCEPTIONS = {
    "eegbin.kernels.hamming_cdist": {("B", "empty"): _EMPTY_KEYS},
    "eegbin.kernels.bipolar_dot": {("B", "empty"): _EMPTY_KEYS},
    "eegbin.binary.cosine_from_hamming": {("keys", "empty"): _EMPTY_KEYS},
    "eegbin.quantize.threshold_kernel_3d": {
        ("kernel", "empty"): "the result is (n_channels, *kernel.shape): an empty kernel gives n_channels empty "
                             "kernels, a valid empty answer (rows are channels, not kernel rows)",
        ("kernel", "wrong_dtype"): _OMEGA},
    "eegbin.quantize.scale_threshold_kernel": {("kernel", "wrong_dtype"): _OMEGA},
    "eegbin.quantize.from_fixed_point": {
        ("q", "bad_value"):
            "any integer is a fixed-point code (negative and large ones too): no value is out of range"},
    "eegbin.kernels.sparse_bipolar_project": {("X", "int32"): _FLOAT_KERNEL},
    "eegbin.kernels.dense_bipolar_project": {("X", "int32"): _FLOAT_KERNEL},
    "eegbin.train.TorchEEGClassifier": {c: _TORCH_SLOW for c in (
        "noncontig", "fortran", "readonly", "float32", "int32", "object_numbers", "bool")},
    "eegbin.binary.BinaryKeyValueMemory": {
        ("y", "single_class"): "a few-shot memory: add_examples adds classes after fit, so one class is a valid start"},
    "eegbin.kernels.hash_tree_encode": {
        ("X", "nan"): "documented: X's finiteness is the caller's (a tree reads depth values of a row; "
                      "scanning X costs more than the encoding); ProductQuantizedLinear checks it",
        ("X", "posinf"): "documented: as NaN, +Inf is a comparable value that goes right",
        ("X", "neginf"): "documented: as NaN, -Inf is a comparable value that goes left",
        ("thresholds", "posinf"): _INF_THRESHOLD, ("thresholds", "neginf"): _INF_THRESHOLD},
    "eegbin.kernels.hash_tree_lut_sum": {
        ("X", "nan"): "documented: X's finiteness is the caller's, as in hash_tree_encode",
        ("X", "posinf"): "documented: X's finiteness is the caller's, as in hash_tree_encode",
        ("X", "neginf"): "documented: X's finiteness is the caller's, as in hash_tree_encode",
        ("thresholds", "posinf"): _INF_THRESHOLD, ("thresholds", "neginf"): _INF_THRESHOLD},
}

for _key, _reason in EXEMPT.items():
    REGISTRY[_key] = Exempt(_reason)
for _key, _table in EXCEPTIONS.items():
    REGISTRY[_key].skip.update(_table)


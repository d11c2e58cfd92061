"""EEGNetClassifier in C: float to float rounding, fixed point and hash-tree codes bit for bit.

Small random-weight networks (4 channels, 128 samples, 3 classes) with a head re-fitted
on a task whose class sets a 10 Hz rhythm on one channel, so that the predictions are
not degenerate (checked). Oracles: eegbin's float32 and float64 forward passes, its
fixed-point simulation and :func:`eegbin.quantize.pq_table_sums`.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from eegbin import BinaryKeyValueMemory, EEGNetClassifier
from eegbin.export import CortexM4, to_c
from eegbin.nn import EEGNet
from eegbin.quantize import pq_table_sums

C, T, SFREQ = 4, 128, 128.0


def _rel(c, p):
    """Per trial: largest deviation relative to the trial's largest magnitude."""
    return np.abs(c - p).max(axis=1) / np.abs(p).max(axis=1)


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    w = EEGNet.random_weights(C, T, 3, kernel_length=16, depthwise_kernel_length=8, rng=rng)
    n = 90
    y = np.arange(n) % 3
    t = np.arange(T) / SFREQ
    X = rng.standard_normal((n, C, T)) * 2.0
    X[np.arange(n), y] += 4.0 * np.sin(2 * np.pi * 10 * t + rng.uniform(0, 2 * np.pi, (n, 1)))
    return w, X.astype(np.float32), y


def _fit(task, **options):
    w, X, y = task
    return EEGNetClassifier(w, C, T, SFREQ, refit_head=True, **options).fit(X[:60], y[:60])


FLOAT = {
    "float32": {},
    "batch norms folded": dict(fold_batchnorm=True),
    "3 of 4 channels": dict(n_selected_channels=3),
    "ELU table": dict(elu="table"),
    "PQ head": dict(head="pq", fold_batchnorm=True),
}
FIXED = {
    "8-bit / 16-bit": dict(fixed_point=True),
    "8-bit / 16-bit, 3 channels, PQ head, max": dict(fixed_point=True, n_selected_channels=3, head="pq",
                                                     output="max"),
}


def _check_predictions(clf, m, X):
    c_pred = m.predict(X)
    np.testing.assert_array_equal(clf.classes_[c_pred], clf.predict(X))
    assert len(np.unique(c_pred)) == 3  # not degenerate
    return c_pred


@pytest.mark.parametrize("variant", FLOAT)
def test_float_variants_agree_to_float_rounding(task, compiled, variant):
    clf = _fit(task, **FLOAT[variant])
    X = task[1]
    m = compiled(clf)
    assert m.n_steps == 2
    net64 = EEGNet.from_params(clf.net_.params, dtype="float64")
    F64, S64 = net64.features(X), net64.forward(X)
    F32, S32 = clf.transform(X), clf.decision_function(X)
    Fc, Sc = m.step(0, X), m.scores(X)
    assert _rel(Fc, F64).max() < 1e-5 and _rel(Fc, F32).max() < 1e-5  # features: float rounding
    assert _rel(Sc, S32).max() < 1e-4 and _rel(Sc, S64).max() < 1e-4
    _check_predictions(clf, m, X)


def test_float64_export_matches_eegbin_float64(task, compiled):
    clf = _fit(task, dtype="float64")
    X = task[1]
    m = compiled(clf, dtype="float64")
    assert _rel(m.step(0, X), clf.transform(X)).max() < 1e-12
    assert _rel(m.scores(X), clf.decision_function(X)).max() < 1e-6  # float32 scores
    _check_predictions(clf, m, X)


@pytest.mark.parametrize("variant", FIXED)
def test_fixed_point_datapath_is_bit_identical(task, compiled, variant):
    clf = _fit(task, **FIXED[variant])
    X = task[1]
    m = compiled(clf)
    F = clf.transform(X)  # float64 values on the 16-bit grid of the features
    Fc = m.step(0, X)
    np.testing.assert_array_equal(Fc, F)  # every feature map code
    head = clf.net_.params.head
    if variant == "8-bit / 16-bit":  # the exact logit in int64, its float rounding the score
        np.testing.assert_array_equal(m.scores(X), clf.decision_function(X).astype(np.float32))
    else:  # tree leaves and table sums exact: the float32 affine map of eegbin's sums
        S = pq_table_sums(head, F)
        expected = np.float32(head.lut_scale) * S.astype(np.float32) + head.bias.astype(np.float32)
        np.testing.assert_array_equal(m.scores(X), expected)
        assert _rel(m.scores(X), clf.decision_function(X)).max() < 1e-4  # float32 affine map
    _check_predictions(clf, m, X)


def test_hash_trees_on_eegbin_features_are_bit_identical(task, compiled):
    clf = _fit(task, **FLOAT["PQ head"])
    X = task[1]
    m = compiled(clf)
    head = clf.net_.params.head
    F = clf.transform(X)  # float32
    pred, scores = m.step(1, F)
    S = pq_table_sums(head, F.astype(np.float64))
    expected = np.float32(head.lut_scale) * S.astype(np.float32) + head.bias.astype(np.float32)
    np.testing.assert_array_equal(scores, expected)
    np.testing.assert_array_equal(pred, expected.argmax(axis=1))


def test_tree_thresholds_on_a_feature_value_and_at_infinity(task, compiled):
    """x >= threshold when x equals it (float32 value or not), never for +inf."""
    clf = _fit(task, **FLOAT["PQ head"])
    X = task[1]
    F = clf.transform(X).astype(np.float64)
    p = clf.net_.params
    pq = p.head
    thr = np.array(pq.thresholds)
    dims = np.array(pq.split_dims)
    rng = np.random.default_rng(1)
    for j in range(thr.shape[0]):  # the root on a feature of some trial, the next level between floats
        thr[j, 0] = F[rng.integers(len(F)), dims[j, 0]]
        thr[j, 1] = np.nextafter(np.float32(F[rng.integers(len(F)), dims[j, 1]]), np.float32(np.inf)) - 1e-12
        thr[j, 2] = np.inf
    clf.net_ = EEGNet.from_params(replace(p, head=replace(pq, thresholds=thr)), dtype="float32")
    m = compiled(clf)
    S = pq_table_sums(clf.net_.params.head, F)
    assert np.any(F[:, dims[:, 0]] == thr[:, 0])  # features equal to a threshold go right
    pred, scores = m.step(1, F.astype(np.float32))
    expected = np.float32(pq.lut_scale) * S.astype(np.float32) + pq.bias.astype(np.float32)
    np.testing.assert_array_equal(scores, expected)
    np.testing.assert_array_equal(pred, expected.argmax(axis=1))


def test_two_classes(task, compiled):
    _, X, y = task
    keep = y < 2
    w2 = EEGNet.random_weights(C, T, 2, kernel_length=16, depthwise_kernel_length=8, rng=3)
    clf = EEGNetClassifier(w2, C, T, SFREQ, refit_head=True).fit(X[keep], y[keep])
    m = compiled(clf)
    assert m.n_classes == 2
    assert _rel(m.scores(X[keep]), clf.decision_function(X[keep])).max() < 1e-4
    np.testing.assert_array_equal(clf.classes_[m.predict(X[keep])], clf.predict(X[keep]))


@pytest.mark.parametrize("variant", ["batch norms folded", "3 of 4 channels", "PQ head", "8-bit / 16-bit",
                                     "8-bit / 16-bit, 3 channels, PQ head, max", "float32"])
def test_weight_bytes_are_the_footprint(task, compiled, variant):
    clf = _fit(task, **{**FLOAT, **FIXED}[variant])
    size = compiled(clf).size()
    p = clf.net_.params
    n_bn = sum(bn.scale.size for bn in (p.temporal_bn, p.spatial_bn, p.separable_bn) if bn is not None)
    # footprint() counts a batch norm's 4 trained values per map (Hersche 2020 Table II), the C code
    # stores its eval-mode scale and shift
    assert size["weights"] == size["header_weights"] == clf.footprint(32).n_bytes - 2 * 4 * n_bn
    assert (n_bn > 0) == (variant == "3 of 4 channels" or variant == "float32")


def test_generated_files(task, tmp_path):
    clf = _fit(task, **FIXED["8-bit / 16-bit, 3 channels, PQ head, max"])
    h, c = to_c(clf, tmp_path, "feng")
    header, source = Path(h).read_text(), Path(c).read_text()
    for line in ("#define FENG_N_CHANS 4", "#define FENG_N_TIMES 128", "#define FENG_N_CLASSES 3",
                 f"#define FENG_STEP0_OUT_LEN {clf.net_.n_features}",
                 "void feng_step0(const float *in, float *out);  /* EEGNetClassifier (features) */",
                 "int feng_step1(const float *in, float *scores);  /* EEGNetClassifier (head) */"):
        assert line in header
    assert "static const int8_t feng_s0_w_temporal[" in source
    assert "static const int16_t feng_s0_w_spatial_bias[" in source
    assert "static const uint8_t feng_s1_w_luts[" in source
    assert "malloc" not in source


def test_what_is_not_exported_is_named(task, tmp_path):
    clf = _fit(task, fixed_point=True, elu="table")
    with pytest.raises(ValueError, match=r"step 0 \(EEGNetClassifier\): a fixed-point EEGNet with the ELU "
                                         r"table \(elu='table'\) is not exported"):
        to_c(clf, tmp_path, "m")
    with pytest.raises(ValueError, match=r"step 0 \(EEGNetClassifier\) is not fitted"):
        to_c(EEGNetClassifier(task[0], C, T, SFREQ), tmp_path, "m")


@pytest.mark.skipif(bool(CortexM4.missing_tools()),
                    reason="arm-none-eabi toolchain or qemu-system-arm not installed (Debian: "
                           "gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm)")
@pytest.mark.parametrize("variant", ["batch norms folded", "8-bit / 16-bit, 3 channels, PQ head, max"])
def test_on_the_cortex_m4(task, tmp_path, variant):
    """On the Cortex-M4F (newlib's expm1f, soft double): the host's predictions, scores and codes."""
    clf = _fit(task, **{**FLOAT, **FIXED}[variant])
    X = task[1][:3]
    to_c(clf, tmp_path, "m")
    m4 = CortexM4(tmp_path, "m")
    pred, instructions = m4.run(X, steps=True)
    np.testing.assert_array_equal(clf.classes_[pred], clf.predict(X))
    if variant in FIXED:  # the PQ head's float affine map on exact table sums: the same floats
        head = clf.net_.params.head
        S = pq_table_sums(head, clf.transform(X))
        expected = np.float32(head.lut_scale) * S.astype(np.float32) + head.bias.astype(np.float32)
        np.testing.assert_array_equal(m4.scores_, expected)
    else:
        assert _rel(m4.scores_, clf.decision_function(X)).max() < 1e-4
    assert (m4.step_instructions_ > 0).all() and (instructions > 0).all()


@pytest.mark.parametrize("options", [{}, dict(fixed_point=True)], ids=["float", "8-bit / 16-bit"])
def test_mimann_eegnet_features_then_memory(task, compiled, options):
    """MI-MANN: the EEGNet controller's features (its transform) read by a binary key-value
    memory, one exported model; the C features are eegbin's, so are the keys and classes."""
    w, X, y = task
    pipe = make_pipeline(EEGNetClassifier(w, C, T, SFREQ, **options),
                         BinaryKeyValueMemory(n_components=256, random_state=0)).fit(X[:60], y[:60])
    m = compiled(pipe, "mimann")
    assert m.n_steps == 2  # the features, then the memory: no EEGNet head
    F_c = m.step(0, X)
    F_py = pipe[0].transform(X)
    assert _rel(F_c, F_py).max() < (1e-12 if options else 1e-5)
    keys_py = pipe[-1]._encode(F_py.astype(np.float64))  # eegbin's keys of its own features
    keys_c = pipe[-1]._encode(F_c.astype(np.float64))
    differing = int(np.unpackbits(np.ascontiguousarray(keys_c ^ keys_py).view(np.uint8)).sum())
    assert differing == 0  # float rounding of the features could flip a bit of a sum near 0; none here
    pred, scores = m.step(1, F_c)
    np.testing.assert_array_equal(pred, m.predict(X))
    np.testing.assert_array_equal(pipe.classes_[m.predict(X)], pipe.predict(X))
    assert len(np.unique(pred)) == 3  # not degenerate

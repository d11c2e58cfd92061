"""to_c / CModel: the fixed interface, the sizes next to footprint(), and clear errors."""

import re

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from eegbin import (
    AssociativeMemoryClassifier,
    BinarizedLinearSVC,
    FilterBankRiemann,
    HeavisideBinarizer,
    SparseBipolarRandomProjection,
    footprint,
)
from eegbin.export import CModel, CortexM4, exporter_for, to_c


def _epochs(n=24, n_ch=4, n_t=200):
    rng = np.random.RandomState(0)
    return (rng.randn(n, n_ch, n_t) * 10).astype(np.float32), np.arange(n) % 4


@pytest.fixture(scope="module")
def chain():
    X, y = _epochs()
    pipe = make_pipeline(FilterBankRiemann(100.0, bands=[(8, 12), (12, 30), (20, 40)]),
                         SparseBipolarRandomProjection(n_components=1000, random_state=3, output="packed"),
                         BinarizedLinearSVC(n_bits=1000)).fit(X, y)
    return pipe, X


def test_header_defines_and_declares_the_fixed_interface(chain, tmp_path):
    pipe, X = chain
    h, c = to_c(pipe, tmp_path, "hersche")
    assert (h, c) == (str(tmp_path / "hersche.h"), str(tmp_path / "hersche.c"))
    header = open(h).read()
    for line in ("#define HERSCHE_N_CHANS 4", "#define HERSCHE_N_TIMES 200", "#define HERSCHE_N_CLASSES 4",
                 "int hersche_predict(const float *trial);",
                 "void hersche_scores(const float *trial, float *scores);",
                 "#include <stdint.h>"):
        assert line in header
    assert "NOT reentrant" in header and "_LEN" in header and "HERSCHE_WORK_BYTES" in header
    source = open(c).read()
    includes = set(re.findall(r"#include (\S+)", source))
    assert includes == {"<stdint.h>", "<math.h>", '"hersche.h"'}
    assert not re.search(r"\b(malloc|calloc|realloc|free|alloca)\b", source)
    assert len(re.findall(r"^static const \w+ hersche_s\d+_w_", source, re.M)) == 3  # sos, P, rows


def test_a_binary_only_model_needs_no_libm(tmp_path):
    X, y = _epochs()
    F = X.reshape(len(X), -1)[:, :50].astype(np.float64)
    pipe = make_pipeline(HeavisideBinarizer(), BinarizedLinearSVC(n_bits=50)).fit(F, y)
    _, c = to_c(pipe, tmp_path, "hv")
    assert "<math.h>" not in open(c).read()


def test_feature_models_take_the_feature_vector_as_trial(compiled):
    rng = np.random.RandomState(1)
    X, y = rng.randn(30, 12), np.arange(30) % 3
    clf = LinearSVC().fit(X, y)
    m = compiled(clf)
    assert (m.n_chans, m.n_times) == (1, 12)
    header = open(m._sources[0][:-2] + ".h").read()
    assert "#define M_N_FEATURES 12" in header
    np.testing.assert_array_equal(m.predict(X), m.predict(X[:, None, :]))


def test_sizes_next_to_footprint(chain, compiled):
    pipe, X = chain
    for dtype, bits in (("float32", 32), ("float64", 64)):
        m = compiled(pipe, "chain", dtype=dtype)
        size = m.size()
        assert set(size) >= {"text", "rodata", "data", "bss", "weights"}
        fp = footprint(pipe, float_bits=bits)
        # footprint counts 1000-bit vectors and the 4-byte seed; the object stores whole 64-bit
        # words (16 per vector) and the seed is an immediate operand of the code
        padding = 4 * (16 * 64 - 1000) / 8
        assert size["weights"] == fp.n_bytes - 4 + padding == size["header_weights"]
        assert size["rodata"] >= size["weights"] and size["bss"] >= size["header_work"]


def test_sizes_of_heaviside_and_associative_memory(compiled):
    rng = np.random.RandomState(2)
    X, y = rng.randn(40, 60), np.arange(40) % 3
    hv = make_pipeline(HeavisideBinarizer(), BinarizedLinearSVC(n_bits=60)).fit(X, y)
    assert compiled(hv, "hv").size()["weights"] == footprint(hv).n_bytes + 3 * 4 / 8  # 60 -> 64 bits
    am = AssociativeMemoryClassifier(n_components=100, n_bands=3).fit(X, y)
    assert compiled(am, "am").size()["weights"] == footprint(am).n_bytes - 4 + 3 * 28 / 8


def test_predict_is_the_first_argmax_of_scores(chain, compiled):
    pipe, X = chain
    m = compiled(pipe)
    s = m.scores(X)
    np.testing.assert_array_equal(m.predict(X), s.argmax(axis=1))


@pytest.mark.parametrize("name, exc", [("1abc", ValueError), ("my-model", ValueError), ("int", ValueError),
                                       ("eb_model", ValueError), (3, TypeError)])
def test_bad_names(chain, tmp_path, name, exc):
    with pytest.raises(exc, match="name"):
        to_c(chain[0], tmp_path, name)


def test_bad_dtype(chain, tmp_path):
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got 'float16'"):
        to_c(chain[0], tmp_path, "m", dtype="float16")


@pytest.mark.parametrize("dtype", [5, ["float32"], np.float32])
def test_a_dtype_that_is_not_a_string_is_a_type_error(tmp_path, dtype):
    clf = LinearSVC().fit(np.random.RandomState(0).randn(20, 5), np.arange(20) % 2)
    with pytest.raises(TypeError, match="dtype must be a str, 'float32' or 'float64', got"):
        to_c(clf, tmp_path, "m", dtype=dtype)


@pytest.mark.parametrize("directory", [5, None, b"/tmp", 2.5])
def test_a_directory_that_is_not_a_path_is_named(directory):
    clf = LinearSVC().fit(np.random.RandomState(0).randn(20, 5), np.arange(20) % 2)
    with pytest.raises(TypeError, match=r"directory must be a str or path-like, got "):
        to_c(clf, directory, "m")
    for cls in (CModel, CortexM4):
        with pytest.raises(TypeError, match=r"directory must be a str or path-like, got "):
            cls(directory, "m")


def test_a_file_given_as_the_directory_is_refused(tmp_path):
    clf = LinearSVC().fit(np.random.RandomState(0).randn(20, 5), np.arange(20) % 2)
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match=r"directory '.*f' exists and is not a directory"):
        to_c(clf, tmp_path / "f", "m")
    assert (tmp_path / "f").read_text() == ""


def test_an_unfitted_estimator_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"step 0 \(LinearSVC\) is not fitted"):
        to_c(LinearSVC(), tmp_path / "out", "m")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cls", [CModel, CortexM4])
def test_a_missing_model_directory_or_bad_name_is_named(tmp_path, cls):
    with pytest.raises(FileNotFoundError, match=r"no m\.h in '.*nowhere': write the model with eegbin\.export\.to_c"):
        cls(tmp_path / "nowhere", "m")
    with pytest.raises(ValueError, match="name must be a C identifier"):
        cls(tmp_path, "1m")
    with pytest.raises(TypeError, match="name must be a str"):
        cls(tmp_path, 3)


@pytest.mark.parametrize("cls, kwarg", [(CModel, "cc"), (CModel, "opt"), (CortexM4, "prefix"), (CortexM4, "qemu")])
def test_a_tool_or_flag_that_is_not_a_string_is_named(tmp_path, cls, kwarg):
    with pytest.raises(TypeError, match=f"{kwarg} must be a str, got int 5"):
        cls(tmp_path, "m", **{kwarg: 5})


def test_a_step_without_exporter_is_named(tmp_path):
    rng = np.random.RandomState(0)
    X, y = rng.randn(20, 5), np.arange(20) % 2
    pipe = make_pipeline(StandardScaler(), LinearSVC()).fit(X, y)
    with pytest.raises(TypeError, match=r"step 0 \(standardscaler: StandardScaler\): StandardScaler "
                                        r"cannot be exported to C.*Exportable: .*FilterBankRiemann"):
        to_c(pipe, tmp_path, "m")
    with pytest.raises(TypeError, match="StandardScaler cannot be exported"):
        exporter_for(StandardScaler())


def test_unfitted_and_misplaced_steps(chain, tmp_path):
    pipe, X = chain
    with pytest.raises(ValueError, match=r"step 0 \(filterbankriemann: FilterBankRiemann\) is not fitted"):
        to_c(make_pipeline(FilterBankRiemann(100.0), LinearSVC()), tmp_path, "m")
    with pytest.raises(ValueError, match="the last step .* is a transformer"):
        to_c(Pipeline(pipe.steps[:2]), tmp_path, "m")
    svm = pipe[-1]
    with pytest.raises(ValueError, match="is a classifier but step 1 .* follows it"):
        to_c(Pipeline([("a", svm), ("b", svm)]), tmp_path, "m")
    # a classifier with a transform is allowed before the last step only if its exporter
    # exports that transform (EEGNetClassifier's features); a linear model's does not
    rng = np.random.RandomState(0)
    F, yF = rng.randn(30, 4), np.arange(30) % 3
    lda = LinearDiscriminantAnalysis().fit(F, yF)
    with pytest.raises(ValueError, match=r"step 0 \(a: LinearDiscriminantAnalysis\) is a classifier; "
                                         "the classifier must be the last step"):
        to_c(Pipeline([("a", lda), ("b", LinearSVC().fit(lda.transform(F), yF))]), tmp_path, "m")
    with pytest.raises(ValueError, match=r"step 1 \(fbr: FilterBankRiemann\) reads EEG trials but comes "
                                         r"after another step"):
        to_c(Pipeline([("rp", pipe[1]), ("fbr", pipe[0]), ("svm", svm)]), tmp_path, "m")


def test_mismatched_code_width_is_named(chain, tmp_path):
    pipe, _ = chain
    other = make_pipeline(SparseBipolarRandomProjection(n_components=500, random_state=1, output="packed")).fit(
        np.zeros((2, pipe[0].n_features_out_)))
    bad = Pipeline([("fbr", pipe[0]), ("rp", other[0]), ("svm", pipe[-1])])
    with pytest.raises(ValueError, match=r"step 2 \(svm: BinarizedLinearSVC\).*1000-bit codes.*500 bits"):
        to_c(bad, tmp_path, "m")


def test_cmodel_checks_its_input(chain, compiled, tmp_path):
    pipe, X = chain
    m = compiled(pipe)
    with pytest.raises(ValueError, match=r"X must have shape \(n_trials, 4, 200\), got \(3, 4, 100\)"):
        m.predict(X[:3, :, :100])
    bad = X[:2].copy()
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        m.scores(bad)
    with pytest.raises(ValueError, match=r"step index in \[0, 2\]"):
        m.step(3, X)
    # DESIGN.md's bad-input rule: complex values are a ValueError, other non-real kinds a TypeError
    with pytest.raises(ValueError, match=r"Complex data not supported: X must hold real numbers, got dtype complex128"):
        m.predict(X[:2].astype(complex))
    with pytest.raises(ValueError, match=r"Complex data not supported: inputs must hold real numbers"):
        m.step(0, X[:2].astype(complex))
    with pytest.raises(TypeError, match=r"X must hold real numbers \(integer or float\), got dtype bool"):
        m.scores(X[:2] > 0)
    with pytest.raises(TypeError, match="packed uint64 words"):
        m.step(2, np.zeros((1, 16)))
    with pytest.raises(FileNotFoundError, match="no nothing.h"):
        CModel(tmp_path, "nothing")

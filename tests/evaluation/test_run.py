"""The evaluation runner: MOABB's FakeDataset and the simulated dataset, cross- and within-session."""

import os

import numpy as np
import pandas as pd
import pytest
from moabb.datasets import FakeDataset
from scipy.signal import butter, sosfilt
from sklearn.base import clone
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelEncoder

import eegbin
from eegbin import Footprint
from eegbin.evaluation import (
    check_output_directory,
    get_pipeline,
    list_pipelines,
    pareto_front,
    register_pipeline,
    run,
)
from eegbin.evaluation._filters import _BandPass
from eegbin.evaluation.runner import RESULT_COLUMNS

EVENTS = ("left_hand", "right_hand", "feet", "tongue")


def _fake():
    return FakeDataset(event_list=EVENTS, n_sessions=2, n_runs=1, n_subjects=2, n_events=48,
                       duration=240, sfreq=128, channels=("C3", "Cz", "C4", "FCz"), seed=3)


def test_baselines_registered_on_import():
    assert {"CSP+LDA", "TS+SVM", "TS+LR"} <= set(list_pipelines(default_only=True))


def test_cross_session_trains_on_the_first_session_only_and_equals_sklearn(tmp_path):
    """The oracle: each pipeline cloned, fitted on session 0 and scored on session 1 by scikit-learn."""
    from eegbin.datasets import load_motor_imagery

    names = ["CSP+LDA", "TS+LR", "TS+SVM"]
    res = run(names, dataset=_fake(), subjects=[1, 2], out=tmp_path, n_jobs=1)
    scores = res.scores
    assert list(scores.columns) == list(RESULT_COLUMNS)
    assert len(scores) == 2 * len(names)  # one direction: no reverse fold
    assert set(scores["train_session"]) == {"0"} and set(scores["session"]) == {"1"}
    for subject in (1, 2):
        X, y, meta = load_motor_imagery(_fake(), [subject], tmin=0.5, tmax=4.0)
        train = (meta.session == "0").to_numpy()
        y = LabelEncoder().fit(y[train]).transform(y)
        for name in names:
            pipe = clone(get_pipeline(name, 128.0)).fit(X[train], y[train])
            expected = accuracy_score(y[~train], pipe.predict(X[~train]))
            row = scores[(scores.subject == subject) & (scores.pipeline == name)]
            assert row["score"].item() == expected
            assert row["samples"].item() == train.sum() and row["samples_test"].item() == (~train).sum()
    assert list(res.summary.index) == names
    assert {"S1", "S2", "mean", "std", "memory_kB", "float_bits", "macs", "word_ops"} <= set(res.summary)
    assert all(isinstance(f, Footprint) for f in res.footprints.values())
    assert res.summary.loc["CSP+LDA", "memory_kB"] == res.footprints["CSP+LDA"].kB > 0
    assert pd.isna(res.summary.loc["CSP+LDA", "macs"])  # pyRiemann Covariances: unknown, not 0
    assert pd.read_csv(res.files["scores"]).shape[0] == len(scores)
    assert res.files["plot"].stat().st_size > 1000
    assert res.protocol == "cross-session: trained on 0, tested on 1"
    assert "mean ± std" in res.table() and "unknown" in res.table()


def test_footprints_are_those_of_the_evaluated_models():
    """The first subject's cross-session models are the ones accounted (no extra fit)."""
    res = run(["TS+LR"], dataset=_fake(), subjects=[2, 1], n_jobs=1)
    from eegbin.datasets import load_motor_imagery

    X, y, meta = load_motor_imagery(_fake(), [2])
    train = (meta.session == "0").to_numpy()
    fitted = get_pipeline("TS+LR", 128.0).fit(X[train], LabelEncoder().fit_transform(y[train]))
    assert res.footprints["TS+LR"] == eegbin.footprint(fitted, float_bits=32, name="TS+LR")


def test_worker_processes_give_the_serial_results():
    serial = run(["CSP+LDA", "TS+LR"], dataset=_fake(), subjects=[1, 2], n_jobs=1)
    parallel = run(["CSP+LDA", "TS+LR"], dataset=_fake(), subjects=[1, 2], n_jobs=2)
    cols = [c for c in RESULT_COLUMNS if c != "time"]
    pd.testing.assert_frame_equal(serial.scores[cols], parallel.scores[cols])
    pd.testing.assert_frame_equal(serial.summary, parallel.summary)
    assert serial.footprints == parallel.footprints


def test_progress_reports_each_pipeline_of_each_subject(capsys, monkeypatch):
    # the terminal shows at most one postfix per refresh interval (tqdm's
    # mininterval), so what is reported is recorded where the bar receives it
    from tqdm.auto import tqdm

    told, original = [], tqdm.set_postfix_str

    def record(self, s="", refresh=True):
        told.append(s)
        return original(self, s, refresh=refresh)

    monkeypatch.setattr(tqdm, "set_postfix_str", record)
    run(["CSP+LDA", "TS+LR"], dataset=_fake(), subjects=[1, 2], n_jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "6/6" in err  # per subject: its data, then each pipeline
    assert told == [f"S{s}: {what}" for s in (1, 2) for what in ("data loaded", "CSP+LDA", "TS+LR")]


def test_fake_dataset_within_session(tmp_path):
    res = run(["CSP+LDA", "TS+LR"], dataset=_fake(), evaluation="within-session", subjects=[1, 2],
              out=tmp_path, n_jobs=1)
    assert set(res.scores["session"]) == {"0", "1"}
    assert (res.scores["session"] == res.scores["train_session"]).all()
    assert res.protocol.startswith("within-session: 5-fold")
    assert list(res.summary.index) == ["CSP+LDA", "TS+LR"]
    assert res.summary.loc["TS+LR", "memory_kB"] > 0


def test_simulated_within_session_one_subject():
    res = run(["CSP+LDA"], dataset="simulated", evaluation="within-session", subjects=[6])
    assert sorted(res.scores["session"]) == ["0train", "1test"]
    assert (res.scores["score"] > 0.4).all()  # subject 6 is the best of seed 42


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pipelines": ["nope"]}, "unknown pipeline 'nope'"),
        ({"pipelines": []}, "at least one"),
        ({"evaluation": "cross-subject"}, "evaluation must be one of"),
        ({"n_jobs": 0}, "n_jobs must be"),
        ({"scheduler": "dask"}, "scheduler must be None, .local. or"),
        ({"dataset": "nope"}, "dataset must be one of"),
        ({"subjects": [12]}, "out of range"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


def test_out_is_checked_before_any_work(tmp_path, monkeypatch):
    import eegbin.evaluation.runner as runner

    monkeypatch.setattr(runner, "_map_subjects", lambda *a, **k: pytest.fail("work started"))
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        run(["CSP+LDA"], subjects=[1], out=a_file)
    with pytest.raises(ValueError, match="out: cannot write results to"):
        run(["CSP+LDA"], subjects=[1], out=a_file / "below")
    assert check_output_directory(tmp_path / "new" / "dir").is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_unwritable_out_is_refused_before_any_work(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ValueError, match="cannot write results"):
        check_output_directory(locked)


def test_a_write_failing_at_the_end_saves_the_results_elsewhere(tmp_path, monkeypatch):
    import eegbin.evaluation.runner as runner

    real = pd.DataFrame.to_csv

    def fail_in_out(self, path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(13, "Permission denied")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail_in_out)
    with pytest.warns(RuntimeWarning, match="could not write to .*results saved in"):
        res = runner.run(["CSP+LDA"], dataset=_fake(), subjects=[1], out=tmp_path, n_jobs=1)
    assert "Permission denied" in res.write_error
    assert res.files["scores"].is_file() and not str(res.files["scores"]).startswith(str(tmp_path))


def test_pareto_front():
    mem = [10.0, 1.0, 5.0, 100.0, 5.0]
    acc = [0.7, 0.5, 0.6, 0.65, 0.55]
    assert pareto_front(mem, acc).tolist() == [1, 2, 0]
    rng = np.random.default_rng(0)
    m, a = rng.uniform(size=30), rng.uniform(size=30)
    front = pareto_front(m, a)
    for i in range(30):  # every point is dominated by (or is) a front point
        assert any(m[j] <= m[i] and a[j] >= a[i] for j in front)
    for i in front:  # no front point is strictly dominated
        assert not any((m[j] <= m[i]) and (a[j] > a[i]) for j in range(30))


@pytest.mark.parametrize(
    "memory, accuracy, error, match",
    [
        ([1.0, np.nan], [0.5, 0.6], ValueError, r"memory must be finite, got nan at index 1"),
        ([1.0, 2.0], [0.5, np.inf], ValueError, r"accuracy must be finite, got inf at index 1"),
        ([1.0, 2.0], [0.5], ValueError, "same length"),
        ([[1.0]], [0.5], ValueError, "memory must be 1-D"),
        (["a"], [0.5], TypeError, "memory must hold numbers, got strings"),
        ([1.0, 2.0], [True, False], TypeError, "accuracy must hold real numbers"),
        ([1.0, 2.0], [0.5, 0.6j], ValueError, "Complex data not supported: accuracy"),
    ],
)
def test_pareto_front_refuses_unknown_points(memory, accuracy, error, match):
    with pytest.raises(error, match=match):
        pareto_front(memory, accuracy)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"float_bits": 0}, ValueError, "float_bits must be an integer bit width in 1..64"),
        ({"float_bits": 16.0}, TypeError, "float_bits must be an integer, got float"),
        ({"float_bits": True}, TypeError, "float_bits must be an integer, got bool"),
        ({"float_bits": "32"}, TypeError, "float_bits must be an integer, got str"),
        ({"default": "yes"}, TypeError, "default must be True or False"),
    ],
)
def test_register_pipeline_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        register_pipeline("never registered", **kwargs)
    assert "never registered" not in list_pipelines()
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        register_pipeline("  ")


def test_bandpass_matches_scipy_and_accounts_footprint():
    X = np.random.default_rng(0).standard_normal((3, 4, 200))
    bp = _BandPass(8.0, 30.0, 250.0).fit(X)
    sos = butter(4, [8.0, 30.0], btype="band", fs=250.0, output="sos")
    np.testing.assert_allclose(bp.transform(X), sosfilt(sos, X, axis=-1))
    fp = bp.footprint(float_bits=16)
    assert fp.n_params == 5 * len(sos) and fp.bits_per_param == 16
    assert fp.macs == 5 * len(sos) * 4 * 200
    assert clone(bp).get_params() == bp.get_params()


@pytest.mark.parametrize(
    "X, params, match",
    [
        (np.zeros((3, 200)), {}, "shape"),
        (np.full((2, 3, 50), np.nan), {}, "finite"),
        (np.zeros((2, 3, 50)), {"h_freq": 200.0}, "sfreq/2"),
    ],
)
def test_bandpass_bad_input(X, params, match):
    with pytest.raises(ValueError, match=match):
        _BandPass(**params).fit(X)


def test_bandpass_channel_mismatch():
    bp = _BandPass().fit(np.zeros((2, 3, 50)))
    with pytest.raises(ValueError, match="channels"):
        bp.transform(np.zeros((2, 4, 50)))


def test_pipelines_fit_on_small_epochs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6, 250))
    y = np.repeat(list(EVENTS), 10)
    for name in ("CSP+LDA", "TS+SVM", "TS+LR"):
        pipe = get_pipeline(name, 250.0).fit(X, y)
        assert pipe.predict(X).shape == (40,)


def test_pipeline_names_survive_moabb_name_shortening():
    """MOABB's plots shorten names longer than 10 characters to their first word."""
    from moabb.analysis.plotting import _simplify_names

    names = list_pipelines()
    assert len({_simplify_names(n) for n in names}) == len(names)
